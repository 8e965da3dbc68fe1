//! `cargo bench -p bench`: runs every workload of `bench::WORKLOADS` natively (clang -O2),
//! in wasmi and in every BareFlow execution mode, checks every checksum against the native
//! one, and writes `bench/RESULTS.md`.
//!
//! Environment:
//! * `BENCH_QUICK=1`: smoke run: the small test arguments, one repetition, no warm-up; the
//!   report goes to `target/bench/RESULTS-quick.md` instead of `bench/RESULTS.md`.
//! * `BENCH_REPS=N`: timed repetitions per measurement (default 5; the median is reported).
//! * `BENCH_FILTER=a,b`: only workloads whose name contains one of the substrings.
//! * `BENCH_ENGINES=a,b`: only these engine columns (`native` always runs: it is the
//!   reference checksum).
//! * `BENCH_OUT=path`: where to write the report.
//! * `BENCH_NOTE=text`: a note copied into the report (e.g. "machine shared with builds").
//!
//! Each measurement instantiates the module once, makes one untimed warm-up call (its time
//! is reported as "first call": it includes lazy compilation and tier-up), then times
//! `BENCH_REPS` calls. A mode the library does not support yet is reported as unavailable,
//! never measured with a substitute. Any checksum mismatch, trap or error makes the run
//! exit with status 1 after writing the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bareflow::{Config, Mode};
use bench::{BareflowRunner, NativeDriver, ResultType, WORKLOADS, Workload, median};

/// Calls one prepared export with fixed arguments and returns its checksum.
trait Runner {
    fn call(&mut self) -> Result<i64>;
}

/// Outcome of preparing an engine for a workload.
enum Prepared {
    Ready(Box<dyn Runner>),
    /// The engine does not support this (e.g. a BareFlow mode not implemented yet).
    Unavailable(String),
}

/// Prepares a runner for (workload, module bytes, arguments).
type PrepareFn = Box<dyn Fn(&Workload, &[u8], &[i32]) -> Result<Prepared>>;

/// An engine column of the report.
struct Engine {
    name: &'static str,
    prepare: PrepareFn,
}

// ---------------------------------------------------------------- BareFlow

impl Runner for BareflowRunner {
    fn call(&mut self) -> Result<i64> {
        BareflowRunner::call(self)
    }
}

/// One engine per BareFlow mode the library knows (`Mode::ALL`), plus the interpreter with
/// profiling counters on. Profiling is off except where the mode needs it (tiered, whose
/// tier-up policy reads the counters) and in `interp+prof`.
fn bareflow_engines() -> Vec<Engine> {
    let mut engines = Vec::new();
    for mode in Mode::ALL {
        let mut configs = vec![(mode.name(), mode == Mode::Tiered)];
        if mode == Mode::Interp {
            configs.push(("interp+prof", true));
        }
        for (name, profiling) in configs {
            let config = Config {
                profiling,
                ..Config::new(mode)
            };
            engines.push(Engine {
                name,
                prepare: Box::new(move |w, wasm, args| {
                    Ok(match BareflowRunner::new(w, wasm, args, config.clone())? {
                        Ok(r) => Prepared::Ready(Box::new(r)),
                        Err(why) => Prepared::Unavailable(why),
                    })
                }),
            });
        }
    }
    engines
}

// ---------------------------------------------------------------- wasmi

struct WasmiRunner {
    store: wasmi::Store<()>,
    func: wasmi::Func,
    args: Vec<wasmi::Val>,
    results: [wasmi::Val; 1],
}

impl Runner for WasmiRunner {
    fn call(&mut self) -> Result<i64> {
        self.func
            .call(&mut self.store, &self.args, &mut self.results)
            .map_err(|e| anyhow!("wasmi: {e}"))?;
        match self.results[0] {
            wasmi::Val::I32(v) => Ok(i64::from(v)),
            wasmi::Val::I64(v) => Ok(v),
            ref other => bail!("wasmi: unexpected result {other:?}"),
        }
    }
}

fn prepare_wasmi(w: &Workload, wasm: &[u8], args: &[i32]) -> Result<Prepared> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).map_err(|e| anyhow!("wasmi: {e}"))?;
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| anyhow!("wasmi: {e}"))?;
    let func = instance
        .get_func(&store, w.export)
        .with_context(|| format!("wasmi: no export `{}`", w.export))?;
    let result = match w.result {
        ResultType::I32 => wasmi::Val::I32(0),
        ResultType::I64 => wasmi::Val::I64(0),
    };
    Ok(Prepared::Ready(Box::new(WasmiRunner {
        store,
        func,
        args: args.iter().map(|&a| wasmi::Val::I32(a)).collect(),
        results: [result],
    })))
}

// ---------------------------------------------------------------- report

/// Result of one (workload, engine) measurement.
enum Cell {
    Timed {
        median: Duration,
        first: Option<Duration>,
    },
    Unavailable(String),
    Failed(String),
}

struct Settings {
    quick: bool,
    reps: usize,
    filter: Option<Vec<String>>,
    engines: Option<Vec<String>>,
    out: PathBuf,
    note: Option<String>,
    load_before: String,
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let reps = match std::env::var("BENCH_REPS") {
            Ok(v) => v
                .parse::<usize>()
                .ok()
                .filter(|&r| r > 0)
                .with_context(|| format!("BENCH_REPS={v}: expected a positive integer"))?,
            Err(_) if quick => 1,
            Err(_) => 5,
        };
        let list = |var: &str| {
            std::env::var(var).ok().map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
        };
        let out = match std::env::var_os("BENCH_OUT") {
            Some(p) => PathBuf::from(p),
            None if quick => bench::target_dir().join("bench/RESULTS-quick.md"),
            None => bench::workspace_root().join("bench/RESULTS.md"),
        };
        Ok(Settings {
            quick,
            reps,
            filter: list("BENCH_FILTER"),
            engines: list("BENCH_ENGINES"),
            out,
            note: std::env::var("BENCH_NOTE")
                .ok()
                .filter(|n| !n.trim().is_empty()),
            load_before: bench::load_average(),
        })
    }

    fn args<'w>(&self, w: &'w Workload) -> &'w [i32] {
        if self.quick {
            w.test_args
        } else {
            w.bench_args
        }
    }
}

fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine {
        name: "wasmi",
        prepare: Box::new(prepare_wasmi),
    }];
    engines.extend(bareflow_engines());
    engines
}

/// One checked call: its time, or the cell that ends the measurement (trap, error,
/// unsupported, checksum mismatch).
fn timed_call(runner: &mut dyn Runner, expected: i64) -> Result<Duration, Cell> {
    let t = Instant::now();
    let got = runner.call().map_err(failure)?;
    let took = t.elapsed();
    if got != expected {
        return Err(Cell::Failed(format!(
            "CHECKSUM MISMATCH: got {got}, native {expected}"
        )));
    }
    Ok(took)
}

/// An engine being measured: calls of all engines of a workload are interleaved round by
/// round, so that a burst of load from other processes hits every column alike.
struct Measuring {
    engine: &'static str,
    runner: Option<Box<dyn Runner>>,
    first: Option<Duration>,
    times: Vec<Duration>,
    /// Set when the measurement ended early (or never started).
    outcome: Option<Cell>,
}

impl Measuring {
    fn call(&mut self, expected: i64) -> Option<Duration> {
        let runner = self.runner.as_mut()?;
        match timed_call(runner.as_mut(), expected) {
            Ok(t) => Some(t),
            Err(cell) => {
                self.outcome = Some(cell);
                self.runner = None;
                None
            }
        }
    }

    fn finish(self) -> Cell {
        match self.outcome {
            Some(cell) => cell,
            None if self.times.is_empty() => Cell::Failed("no measurement".into()),
            None => Cell::Timed {
                median: median(&self.times),
                first: self.first,
            },
        }
    }
}

/// A failed call: unavailable if the mode cannot run it, a failure otherwise.
fn failure(e: anyhow::Error) -> Cell {
    match bench::is_unsupported(&e) {
        Some(why) => Cell::Unavailable(why.to_string()),
        None => Cell::Failed(format!("{e:#}")),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn fmt_ms(d: Duration) -> String {
    let v = ms(d);
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

struct Row<'w> {
    workload: &'w Workload,
    args: Vec<i32>,
    native: Option<(i64, Duration)>,
    native_error: Option<String>,
    cells: BTreeMap<&'static str, Cell>,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the whole report; `Ok(false)` when some measurement failed.
fn run() -> Result<bool> {
    // `cargo bench` passes `--bench`; libtest-style filters are not supported here.
    let settings = Settings::from_env()?;
    let workloads: Vec<&Workload> = WORKLOADS
        .iter()
        .filter(|w| {
            settings
                .filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|s| w.name.contains(s.as_str())))
        })
        .collect();
    let engines: Vec<Engine> = engines()
        .into_iter()
        .filter(|e| {
            settings
                .engines
                .as_ref()
                .is_none_or(|list| list.iter().any(|n| n == e.name))
        })
        .collect();
    let warmup = !settings.quick;
    eprintln!(
        "bench: {} workloads x {} engines + native, {} timed reps{}{}",
        workloads.len(),
        engines.len(),
        settings.reps,
        if warmup { " after 1 warm-up" } else { "" },
        if settings.quick { " (BENCH_QUICK)" } else { "" },
    );

    let driver = NativeDriver::build().context("building the native driver")?;
    let total = workloads.len() * (engines.len() + 1);
    let mut step = 0;
    let mut ok = true;
    let mut rows = Vec::new();
    let started = Instant::now();

    for w in &workloads {
        let args = settings.args(w).to_vec();
        let mut row = Row {
            workload: w,
            args: args.clone(),
            native: None,
            native_error: None,
            cells: BTreeMap::new(),
        };
        // The native driver runs `per_round` calls in one process and we keep the last: the
        // earlier one warms the static buffers' pages, as the wasm warm-up call does.
        let per_round = 1 + usize::from(warmup);
        let expected = match driver.run(w, &args, per_round) {
            Ok(run) => run.checksum,
            Err(e) => {
                step += engines.len() + 1;
                eprintln!("[{step}/{total}] {} native: FAILED: {e:#}", w.name);
                row.native_error = Some(format!("{e:#}"));
                for e in &engines {
                    row.cells
                        .insert(e.name, Cell::Failed("no native reference checksum".into()));
                }
                ok = false;
                rows.push(row);
                continue;
            }
        };
        let wasm = w.wasm_bytes()?;
        let mut measuring: Vec<Measuring> = engines
            .iter()
            .map(|e| {
                let (runner, outcome) = match (e.prepare)(w, &wasm, &args) {
                    Ok(Prepared::Ready(r)) => (Some(r), None),
                    Ok(Prepared::Unavailable(why)) => (None, Some(Cell::Unavailable(why))),
                    Err(err) => (None, Some(Cell::Failed(format!("{err:#}")))),
                };
                Measuring {
                    engine: e.name,
                    runner,
                    first: None,
                    times: Vec::new(),
                    outcome,
                }
            })
            .collect();
        if warmup {
            for m in &mut measuring {
                m.first = m.call(expected);
            }
        }
        let mut native_times = Vec::new();
        for round in 1..=settings.reps {
            let mut line = format!("  {} round {round}/{}:", w.name, settings.reps);
            match driver.run(w, &args, per_round) {
                Ok(run) if run.checksum == expected => {
                    let t = *run.times.last().expect("driver returned per_round times");
                    native_times.push(t);
                    let _ = write!(line, " native {} ms", fmt_ms(t));
                }
                Ok(run) => {
                    row.native_error = Some(format!(
                        "native checksum changed between runs: {} then {}",
                        expected, run.checksum
                    ));
                }
                Err(e) => row.native_error = Some(format!("{e:#}")),
            }
            for m in &mut measuring {
                if let Some(t) = m.call(expected) {
                    m.times.push(t);
                    let _ = write!(line, ", {} {} ms", m.engine, fmt_ms(t));
                }
            }
            eprintln!("{line}");
        }
        step += 1;
        if let Some(e) = &row.native_error {
            ok = false;
            eprintln!("[{step}/{total}] {} native: FAILED: {e}", w.name);
        } else {
            let m = median(&native_times);
            row.native = Some((expected, m));
            eprintln!(
                "[{step}/{total}] {} native: median {} ms, checksum {expected}",
                w.name,
                fmt_ms(m)
            );
        }
        let native_ms = row.native.map(|(_, t)| t);
        for m in measuring {
            step += 1;
            let name = m.engine;
            let cell = m.finish();
            match &cell {
                Cell::Timed { median, first } => eprintln!(
                    "[{step}/{total}] {} {name}: median {} ms{}{}, checksum ok",
                    w.name,
                    fmt_ms(*median),
                    native_ms.map_or(String::new(), |n| format!(
                        " (x{:.2} native)",
                        ms(*median) / ms(n)
                    )),
                    first.map_or(String::new(), |f| format!(", first call {} ms", fmt_ms(f))),
                ),
                Cell::Unavailable(why) => {
                    eprintln!("[{step}/{total}] {} {name}: unavailable: {why}", w.name)
                }
                Cell::Failed(why) => {
                    ok = false;
                    eprintln!("[{step}/{total}] {} {name}: FAILED: {why}", w.name)
                }
            }
            row.cells.insert(name, cell);
        }
        rows.push(row);
    }

    let report = render(&settings, &engines, &rows, started.elapsed());
    if let Some(dir) = settings.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&settings.out, report)
        .with_context(|| format!("writing {}", settings.out.display()))?;
    eprintln!(
        "bench: wrote {} in {:.0} s",
        settings.out.display(),
        started.elapsed().as_secs_f64()
    );
    if !ok {
        eprintln!("bench: FAILURES above (checksum mismatch, trap or error)");
    }
    Ok(ok)
}

/// Geometric mean of `ratios` (empty -> None).
fn geomean(ratios: &[f64]) -> Option<f64> {
    if ratios.is_empty() {
        return None;
    }
    Some((ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp())
}

fn timed(cell: Option<&Cell>) -> Option<Duration> {
    match cell {
        Some(Cell::Timed { median, .. }) => Some(*median),
        _ => None,
    }
}

fn render(settings: &Settings, engines: &[Engine], rows: &[Row<'_>], took: Duration) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# BareFlow benchmark results\n");
    let _ = writeln!(
        s,
        "Generated by `cargo bench -p bench` (`bench/benches/report.rs`){}.\n",
        if settings.quick {
            " with BENCH_QUICK=1 (smoke run: tiny inputs, numbers are not meaningful)"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "* date: {}", bench::utc_now());
    let _ = writeln!(s, "* CPU: {}", bench::cpu_model());
    let _ = writeln!(s, "* cores available: {}", bench::core_count());
    let _ = writeln!(
        s,
        "* method: per cell, one instantiation, {} call(s), median of {} timed call(s){}; \
         the calls of all columns of a workload are interleaved round by round; \
         native = the same C (or `bench/native/trio.c` for the .wat samples) built with \
         `clang -O2`, timed in-process by `bench/native/driver.c`",
        settings.reps + usize::from(!settings.quick),
        settings.reps,
        if settings.quick {
            ""
        } else {
            " after 1 warm-up call"
        },
    );
    let _ = writeln!(s, "* total run time: {:.0} s", took.as_secs_f64());
    let _ = writeln!(
        s,
        "* load average (1/5/15 min) at start: {}, at end: {}",
        settings.load_before,
        bench::load_average()
    );
    if let Some(note) = &settings.note {
        let _ = writeln!(s, "* note: {note}");
    }
    let _ = writeln!(
        s,
        "* every checksum of every engine was compared with the native one; a mismatch fails the run\n"
    );

    // Main table.
    let _ = writeln!(s, "## Time per call\n");
    let _ = writeln!(
        s,
        "Median milliseconds per call; in parentheses the ratio to native (lower is better).\n"
    );
    let mut header = String::from("| workload | args | native |");
    let mut sep = String::from("|---|---|---:|");
    for e in engines {
        let _ = write!(header, " {} |", e.name);
        sep.push_str("---:|");
    }
    let _ = writeln!(s, "{header}\n{sep}");
    for r in rows {
        let native = r.native.map(|(_, t)| t);
        let _ = write!(
            s,
            "| {} | {} | {} |",
            r.workload.name,
            bench::format_args(&r.args),
            native.map_or("failed".to_string(), fmt_ms)
        );
        for e in engines {
            let text = match r.cells.get(e.name) {
                Some(Cell::Timed { median, .. }) => match native {
                    Some(n) => format!("{} ({:.1}x)", fmt_ms(*median), ms(*median) / ms(n)),
                    None => fmt_ms(*median),
                },
                Some(Cell::Unavailable(_)) => "n/a".to_string(),
                Some(Cell::Failed(_)) => "**FAILED**".to_string(),
                None => String::new(),
            };
            let _ = write!(s, " {text} |");
        }
        let _ = writeln!(s);
    }
    // Geometric means of the ratio to native.
    let _ = write!(s, "| geometric mean vs native | | 1.0x |");
    for e in engines {
        let ratios: Vec<f64> = rows
            .iter()
            .filter_map(|r| {
                let n = r.native?.1;
                Some(ms(timed(r.cells.get(e.name))?) / ms(n))
            })
            .collect();
        let _ = match geomean(&ratios) {
            Some(g) if ratios.len() == rows.len() => write!(s, " {g:.1}x |"),
            Some(g) => write!(s, " {g:.1}x ({} of {}) |", ratios.len(), rows.len()),
            None => write!(s, " n/a |"),
        };
    }
    let _ = writeln!(s, "\n");

    // First calls (warm-up): lazy compilation / tier-up cost.
    if !settings.quick {
        let _ = writeln!(s, "## First call\n");
        let _ = writeln!(
            s,
            "Milliseconds of the untimed warm-up call (includes lazy compilation and tier-up).\n"
        );
        let mut header = String::from("| workload |");
        let mut sep = String::from("|---|");
        for e in engines {
            let _ = write!(header, " {} |", e.name);
            sep.push_str("---:|");
        }
        let _ = writeln!(s, "{header}\n{sep}");
        for r in rows {
            let _ = write!(s, "| {} |", r.workload.name);
            for e in engines {
                let text = match r.cells.get(e.name) {
                    Some(Cell::Timed { first: Some(f), .. }) => fmt_ms(*f),
                    Some(Cell::Failed(_)) => "**FAILED**".into(),
                    _ => "n/a".into(),
                };
                let _ = write!(s, " {text} |");
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s);
    }

    // Profiling overhead.
    profiling_section(&mut s, rows);

    // Checksums.
    let _ = writeln!(s, "## Checksums\n");
    let _ = writeln!(
        s,
        "| workload | args | native checksum | engines that matched |"
    );
    let _ = writeln!(s, "|---|---|---:|---|");
    for r in rows {
        let matched: Vec<&str> = engines
            .iter()
            .filter(|e| matches!(r.cells.get(e.name), Some(Cell::Timed { .. })))
            .map(|e| e.name)
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.workload.name,
            bench::format_args(&r.args),
            r.native
                .map_or("failed".to_string(), |(c, _)| c.to_string()),
            if matched.is_empty() {
                "none".to_string()
            } else {
                matched.join(", ")
            }
        );
    }
    let _ = writeln!(s);

    // Unavailable and failed cells, with reasons.
    let mut notes = Vec::new();
    for r in rows {
        if let Some(e) = &r.native_error {
            notes.push(format!("* {} native: FAILED: {e}", r.workload.name));
        }
        for e in engines {
            match r.cells.get(e.name) {
                Some(Cell::Unavailable(why)) => notes.push(format!(
                    "* {} {}: unavailable: {why}",
                    r.workload.name, e.name
                )),
                Some(Cell::Failed(why)) => {
                    notes.push(format!("* {} {}: FAILED: {why}", r.workload.name, e.name))
                }
                _ => {}
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(s, "## Unavailable or failed\n");
        for n in notes {
            let _ = writeln!(s, "{}", n.replace('\n', " "));
        }
        let _ = writeln!(s);
    }
    s
}

/// The profiling-counters overhead: interp with `Config.profiling` on vs off.
fn profiling_section(s: &mut String, rows: &[Row<'_>]) {
    let pairs: Vec<(&str, Duration, Duration)> = rows
        .iter()
        .filter_map(|r| {
            Some((
                r.workload.name,
                timed(r.cells.get("interp"))?,
                timed(r.cells.get("interp+prof"))?,
            ))
        })
        .collect();
    let _ = writeln!(s, "## Profiling counters overhead\n");
    if pairs.is_empty() {
        let _ = writeln!(
            s,
            "Not measured: needs both the `interp` and `interp+prof` columns.\n"
        );
        return;
    }
    let _ = writeln!(
        s,
        "BareFlow interpreter with `Config.profiling` off (`interp`) and on (`interp+prof`).\n"
    );
    let _ = writeln!(
        s,
        "| workload | profiling off (ms) | profiling on (ms) | overhead |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|");
    let mut ratios = Vec::new();
    for (name, off, on) in &pairs {
        let ratio = ms(*on) / ms(*off);
        ratios.push(ratio);
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {:+.1}% |",
            fmt_ms(*off),
            fmt_ms(*on),
            (ratio - 1.0) * 100.0
        );
    }
    if let Some(g) = geomean(&ratios) {
        let _ = writeln!(s, "| geometric mean | | | {:+.1}% |", (g - 1.0) * 100.0);
    }
    let _ = writeln!(s);
}
