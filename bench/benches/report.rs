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
//! * `BENCH_SKIP=a,b`: skip parts of the report: `peers`, `sizes`, `compile`, `tiering`,
//!   `simd` (the SIMD kernel section: dotf32_simd vs native -O2 / -march=native).
//!
//! Besides time per call the report has: peers (wasmtime, wasm3, wasm2c, node's V8, run as
//! subprocesses by `bench/peers/*`; a missing peer is listed with the reason), compile time
//! per tier and snapshot sizes, the loader's load-to-first-call path, the tiering picture
//! (fib(n) from nothing, also drawn in `bench/tiering.svg`), binary sizes (`bareflow`,
//! `bareflow-load`, built by the report) and the grow-to-shrink table of the classic trio.
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

use anyhow::{Context, Result};
use bareflow::{Config, MemoryMode, Mode};
use bench::measure::{self, BuiltSize, LoaderTimes};
use bench::peers::{PEERS, Peer};
use bench::{BareflowRunner, NativeDriver, WORKLOADS, Workload, median};

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
/// Selects workloads (for a geometric mean over a subset).
type WorkloadFilter = fn(&Workload) -> bool;

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
/// profiling counters on, plus `jit-speed` and `snapshot` in guard-page memory mode.
/// Profiling is off except in `interp+prof` (tiered mode always counts in the interpreter,
/// which its tier-up policy reads; `Config.profiling` would also keep the top tier
/// counting).
fn bareflow_engines() -> Vec<Engine> {
    let mut engines = Vec::new();
    for mode in Mode::ALL {
        let mut configs = vec![(mode.name(), false, MemoryMode::Checked)];
        if mode == Mode::Interp {
            configs.push(("interp+prof", true, MemoryMode::Checked));
        }
        if mode == Mode::JitSpeed {
            configs.push(("jit-speed-guard", false, MemoryMode::Guard));
        }
        if mode == Mode::Snapshot {
            configs.push(("snapshot-guard", false, MemoryMode::Guard));
        }
        // Bounded execution (docs/ABI.md): the cost of the checks in compiled code.
        let bounded = match mode {
            Mode::JitSpeed => &["jit-speed+int", "jit-speed+fuel"][..],
            Mode::Snapshot => &["snapshot+int", "snapshot+fuel"][..],
            _ => &[][..],
        };
        for &name in bounded {
            configs.push((name, false, MemoryMode::Checked));
        }
        for (name, profiling, memory) in configs {
            let config = Config {
                profiling,
                memory,
                interruptible: name.ends_with("+int"),
                consume_fuel: name.ends_with("+fuel"),
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

#[path = "../shared/wasmi_runner.rs"]
mod wasmi_runner;
use wasmi_runner::WasmiRunner;

impl Runner for WasmiRunner {
    fn call(&mut self) -> Result<i64> {
        WasmiRunner::call(self)
    }
}

fn prepare_wasmi(w: &Workload, wasm: &[u8], args: &[i32]) -> Result<Prepared> {
    Ok(Prepared::Ready(Box::new(WasmiRunner::new(w, wasm, args)?)))
}

// ---------------------------------------------------------------- report

/// Result of one (workload, engine) measurement.
enum Cell {
    Timed {
        median: Duration,
        first: Option<Duration>,
        /// Slowest timed call over the fastest: how noisy the cell was.
        spread: f64,
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
    skip: Vec<String>,
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
            skip: list("BENCH_SKIP").unwrap_or_default(),
        })
    }

    fn skips(&self, part: &str) -> bool {
        self.skip.iter().any(|s| s == part)
    }

    /// Where a side file (e.g. `tiering.svg`) goes: next to the report.
    fn side_file(&self, name: &str) -> PathBuf {
        let stem = if self.quick {
            name.replace('.', "-quick.")
        } else {
            name.to_string()
        };
        self.out
            .parent()
            .map_or_else(|| PathBuf::from(&stem), |d| d.join(&stem))
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
                spread: spread(&self.times),
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

/// Slowest over fastest of a cell's timed calls (1.0 for a single call).
fn spread(times: &[Duration]) -> f64 {
    let fastest = times.iter().min().copied().unwrap_or_default();
    let slowest = times.iter().max().copied().unwrap_or_default();
    if fastest.is_zero() {
        1.0
    } else {
        slowest.as_secs_f64() / fastest.as_secs_f64()
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
    compile: Option<Result<CompileRow, String>>,
}

/// Compile, size and load figures of one workload.
struct CompileRow {
    wasm_bytes: usize,
    parse: Duration,
    /// `Store::instantiate` per mode: interp, jit-none, jit-speed, snapshot.
    instantiate: [Duration; 4],
    aot: Duration,
    snapshot_bytes: usize,
    loader: LoaderTimes,
}

const INSTANTIATE_MODES: [Mode; 4] = [Mode::Interp, Mode::JitNone, Mode::JitSpeed, Mode::Snapshot];

/// One point of the tiering picture: fib(n) from nothing in each mode (None = failed).
struct TierPoint {
    n: i32,
    times: Vec<Option<Duration>>,
}

const TIER_MODES: [(&str, Mode, bool, &str); 3] = [
    ("interp", Mode::Interp, false, "#d62728"),
    ("jit-speed", Mode::JitSpeed, false, "#1f77b4"),
    ("tiered", Mode::Tiered, false, "#2ca02c"),
];

/// Everything the report renders besides the rows.
struct Extras {
    columns: Vec<&'static str>,
    peers: Vec<Peer>,
    missing_peers: Vec<(&'static str, String)>,
    bareflow_size: Option<BuiltSize>,
    loader_size: Option<BuiltSize>,
    tiering: Vec<TierPoint>,
    tiering_reps: usize,
    svg: Option<PathBuf>,
    simd: Option<SimdSection>,
}

/// The SIMD kernel (`dotf32_simd`) and its scalar twin (`dotf32`) against native builds
/// and in snapshot variants the main table does not have.
struct SimdSection {
    /// `dotf32.c` with `clang -O2 -march=native` (the main table's native is `-O2`, SSE2).
    native_march: Result<Duration, String>,
    /// Per kernel (dotf32, dotf32_simd): the loader path (runtime_loader directly, as
    /// `bareflow-load` runs it) on the baseline snapshot and on `--target-cpu native`.
    loader: [[Result<Duration, String>; 2]; 2],
}

const SIMD_PAIR: [&str; 2] = ["dotf32", "dotf32_simd"];

/// Measures [`SimdSection`]: `reps` timed calls each after the first (untimed) one.
fn simd_section(rows: &[Row<'_>], reps: usize, ok: &mut bool) -> Option<SimdSection> {
    let row = |name: &str| rows.iter().find(|r| r.workload.name == name);
    let (scalar, simd) = (row(SIMD_PAIR[0])?, row(SIMD_PAIR[1])?);
    let expected = scalar.native.map(|(c, _)| c);
    let mut fail = |what: String| {
        *ok = false;
        eprintln!("bench: simd: {what}: FAILED");
        what
    };
    let native_march = NativeDriver::build_with("-march=native", "native-driver-march")
        .and_then(|d| d.run(scalar.workload, &scalar.args, reps))
        .map_err(|e| format!("{e:#}"))
        .and_then(|run| match expected {
            Some(c) if c != run.checksum => Err(format!(
                "CHECKSUM MISMATCH: got {}, native {c}",
                run.checksum
            )),
            _ => Ok(median(&run.times)),
        })
        .map_err(|e| fail(format!("native -march=native: {e}")));
    let mut loader: [[Result<Duration, String>; 2]; 2] =
        std::array::from_fn(|_| std::array::from_fn(|_| Err("not run".to_string())));
    for (k, r) in [scalar, simd].into_iter().enumerate() {
        for (c, cpu) in [None, Some("native")].into_iter().enumerate() {
            let opts = bareflow::internals::aot::AotOptions {
                target_cpu: cpu.map(str::to_string),
                ..Default::default()
            };
            let got = r
                .workload
                .wasm_bytes()
                .and_then(|wasm| measure::snapshot_with(&wasm, &opts))
                .and_then(|snap| measure::loader_calls(&snap, r.workload, &r.args, reps))
                .map_err(|e| format!("{e:#}"))
                .and_then(|(first, times)| match expected {
                    Some(c) if c != first.checksum => Err(format!(
                        "CHECKSUM MISMATCH: got {}, native {c}",
                        first.checksum
                    )),
                    _ => Ok(median(&times)),
                })
                .map_err(|e| fail(format!("{} loader {cpu:?}: {e}", r.workload.name)));
            if let Ok(t) = &got {
                eprintln!(
                    "bench: simd: {} snapshot{} via the loader: {} ms",
                    r.workload.name,
                    cpu.map_or(String::new(), |c| format!(" --target-cpu {c}")),
                    fmt_ms(*t)
                );
            }
            loader[k][c] = got;
        }
    }
    Some(SimdSection {
        native_march,
        loader,
    })
}

fn simd_render(s: &mut String, sec: &SimdSection, rows: &[Row<'_>]) {
    let row = |name: &str| rows.iter().find(|r| r.workload.name == name);
    let (Some(scalar), Some(simd)) = (row(SIMD_PAIR[0]), row(SIMD_PAIR[1])) else {
        return;
    };
    let (Some((_, native)), Some((_, native_simd_row))) = (scalar.native, simd.native) else {
        return;
    };
    let _ = writeln!(
        s,
        "## SIMD kernel
"
    );
    let _ = writeln!(
        s,
        "`dotf32_simd` (wasm_simd128.h f32x4) and its scalar twin `dotf32` (four scalar lane \
         sums, the same order, the same checksum), run({}). Native is `dotf32.c` (the \
         intrinsics do not exist natively) with `clang -O2` (baseline x86-64: SSE2) and with \
         `-O2 -march=native`. \"loader\" columns run the snapshot through `runtime_loader` \
         directly (as `bareflow-load` does; median of the timed calls after the first), \
         compiled for the baseline (SSE2) or with `--target-cpu native`; the Store columns \
         are the main table's. Milliseconds per call, ratio to the row's native `-O2` in parentheses \
         (both rows run the same native function, each in its own rounds).\n",
        bench::format_args(&scalar.args)
    );
    // Both rows' native is the same function (`dotf32_run`), measured in its own row's
    // rounds: each row's ratios are to its own native time, as in the main table.
    let cell = |t: Option<Duration>, native: Duration| match t {
        Some(t) => format!("{} ({:.2}x)", fmt_ms(t), ms(t) / ms(native)),
        None => "n/a".to_string(),
    };
    let res = |r: &Result<Duration, String>, native: Duration| match r {
        Ok(t) => cell(Some(*t), native),
        Err(_) => "**FAILED**".to_string(),
    };
    let _ = writeln!(
        s,
        "| kernel | native -O2 | native -O2 -march=native | snapshot | snapshot-guard | jit-speed | loader: snapshot | loader: snapshot --target-cpu native |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (k, (r, n)) in [(scalar, native), (simd, native_simd_row)]
        .into_iter()
        .enumerate()
    {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.workload.name,
            fmt_ms(n),
            res(&sec.native_march, n),
            cell(timed(r.cells.get("snapshot")), n),
            cell(timed(r.cells.get("snapshot-guard")), n),
            cell(timed(r.cells.get("jit-speed")), n),
            res(&sec.loader[k][0], n),
            res(&sec.loader[k][1], n),
        );
    }
    let _ = writeln!(s);
    let snap = |r: &Row<'_>| timed(r.cells.get("snapshot"));
    if let (Some(v), Some(sc)) = (snap(simd), snap(scalar)) {
        let _ = writeln!(
            s,
            "* `dotf32_simd` snapshot vs native `clang -O2`: {:.2}x (target at most 1.3x); vs \
             the scalar twin's snapshot: {:.2}x faster (target at least 2x)",
            ms(v) / ms(native_simd_row),
            ms(sc) / ms(v)
        );
    }
    if let (Ok(v), Ok(m)) = (&sec.loader[1][1], &sec.native_march) {
        let _ = writeln!(
            s,
            "* `dotf32_simd` snapshot `--target-cpu native` (loader) vs native `-O2 -march=native`: {:.2}x",
            ms(*v) / ms(*m)
        );
    }
    let _ = writeln!(s);
}

/// Fresh runs per cell of the tiering table: 1 in quick mode, else 5, or 51 for fib(n <= 20)
/// (well under a millisecond each, so the median needs many).
fn tiering_reps_for(quick: bool, n: i32) -> usize {
    match (quick, n) {
        (true, _) => 1,
        (false, ..=20) => 51,
        (false, _) => 5,
    }
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
    let started = Instant::now();

    // Binary sizes first: the builds must not overlap the timed calls.
    let (bareflow_size, loader_size) = if settings.skips("sizes") {
        (None, None)
    } else {
        eprintln!("bench: building the bareflow CLI (release) to measure its size");
        let b = measure::build_bareflow();
        eprintln!("bench: bareflow: {}", size_text(&b));
        eprintln!("bench: building bareflow-load with scripts/loader-size.sh");
        let l = measure::build_loader();
        eprintln!("bench: bareflow-load: {}", size_text(&l));
        (Some(b), Some(l))
    };

    let mut peers = Vec::new();
    let mut missing_peers = Vec::new();
    if !settings.skips("peers") {
        for (kind, name) in PEERS {
            if settings
                .engines
                .as_ref()
                .is_some_and(|list| !list.iter().any(|n| n == name))
            {
                continue;
            }
            match Peer::probe(kind, name) {
                Ok(p) => {
                    eprintln!("bench: peer {name}: {}", p.description);
                    peers.push(p);
                }
                Err(why) => {
                    eprintln!("bench: peer {name}: missing: {why}");
                    missing_peers.push((name, why));
                }
            }
        }
    }
    let mut columns: Vec<&'static str> = engines.iter().map(|e| e.name).collect();
    columns.extend(peers.iter().map(|p| p.name));

    let total = workloads.len() * (columns.len() + 1);
    let mut step = 0;
    let mut ok = true;
    let mut rows = Vec::new();

    for w in &workloads {
        let args = settings.args(w).to_vec();
        let mut row = Row {
            workload: w,
            args: args.clone(),
            native: None,
            native_error: None,
            cells: BTreeMap::new(),
            compile: None,
        };
        // The native driver runs `per_round` calls in one process and we keep the last: the
        // earlier one warms the static buffers' pages, as the wasm warm-up call does.
        let per_round = 1 + usize::from(warmup);
        let expected = match driver.run(w, &args, per_round) {
            Ok(run) => run.checksum,
            Err(e) => {
                step += columns.len() + 1;
                eprintln!("[{step}/{total}] {} native: FAILED: {e:#}", w.name);
                row.native_error = Some(format!("{e:#}"));
                for c in &columns {
                    row.cells
                        .insert(c, Cell::Failed("no native reference checksum".into()));
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
        // Peers: one subprocess each, instantiating once, warm-up call then the timed calls.
        let mut peer_cells = Vec::new();
        for p in &peers {
            eprintln!("  {} {}: running", w.name, p.name);
            let run = match p.unsupported(w) {
                Some(why) => Err(why),
                None => Ok(p.run(w, &args, settings.reps + usize::from(warmup))),
            };
            let cell = match run {
                Err(why) => Cell::Unavailable(why),
                Ok(run) => match run {
                    Ok(run) if run.checksum != expected => Cell::Failed(format!(
                        "CHECKSUM MISMATCH: got {}, native {expected}",
                        run.checksum
                    )),
                    Ok(run) => {
                        let skip = usize::from(warmup);
                        Cell::Timed {
                            median: median(&run.times[skip..]),
                            first: warmup.then(|| run.times[0]),
                            spread: spread(&run.times[skip..]),
                        }
                    }
                    Err(e) => Cell::Failed(format!("{e:#}")),
                },
            };
            peer_cells.push((p.name, cell));
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
        let cells = measuring
            .into_iter()
            .map(|m| (m.engine, m.finish()))
            .chain(peer_cells);
        for (name, cell) in cells {
            step += 1;
            match &cell {
                Cell::Timed { median, first, .. } => eprintln!(
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

    if !settings.skips("compile") {
        let reps = if settings.quick { 1 } else { 3 };
        for row in &mut rows {
            let w = row.workload;
            let native = row.native.map(|(n, _)| n);
            let c = compile_row(w, &settings, reps).and_then(|c| match native {
                Some(n) if n != c.loader.checksum => Err(format!(
                    "CHECKSUM MISMATCH in the loader path: got {}, native {n}",
                    c.loader.checksum
                )),
                _ => Ok(c),
            });
            match &c {
                Ok(c) => eprintln!(
                    "bench: compile {}: jit-none {} ms, jit-speed {} ms, aot {} ms, snapshot {} bytes, loader load {} ms, checksum ok",
                    w.name,
                    fmt_ms(c.instantiate[1]),
                    fmt_ms(c.instantiate[2]),
                    fmt_ms(c.aot),
                    c.snapshot_bytes,
                    fmt_ms(c.loader.load),
                ),
                Err(e) => {
                    ok = false;
                    eprintln!("bench: compile {}: FAILED: {e}", w.name);
                }
            }
            row.compile = Some(c);
        }
    }

    let tiering_reps = tiering_reps_for(settings.quick, 35);
    let mut tiering = Vec::new();
    let mut svg = None;
    let fib = bench::workload("fibonacci").filter(|w| workloads.iter().any(|x| x.name == w.name));
    if let (false, Some(w)) = (settings.skips("tiering"), fib) {
        let wasm = w.wasm_bytes()?;
        let ns: Vec<i32> = if settings.quick {
            vec![5, 10, 15, 20]
        } else {
            let mut ns: Vec<i32> = (5..=35).step_by(3).collect();
            ns.push(10);
            ns.sort_unstable();
            ns
        };
        for n in ns {
            // Short runs are cheap and noisy: many more fresh runs for them. Each mode's runs
            // are consecutive, after one untimed run: a fresh run right after another mode's
            // (e.g. jit-speed freeing its compiler memory) pays for that mode's aftermath.
            let reps = tiering_reps_for(settings.quick, n);
            let mut t: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); TIER_MODES.len()];
            let mut failed = [false; TIER_MODES.len()];
            for (i, (name, mode, profiling, _)) in TIER_MODES.iter().enumerate() {
                let config = Config {
                    profiling: *profiling,
                    ..Config::new(*mode)
                };
                for rep in 0..=reps {
                    match measure::fib_fresh(&wasm, &config, n) {
                        Ok(d) if rep > 0 => t[i].push(d),
                        Ok(_) => {}
                        Err(e) => {
                            ok = false;
                            failed[i] = true;
                            eprintln!("bench: tiering fib({n}) {name}: FAILED: {e:#}");
                            break;
                        }
                    }
                }
            }
            let mut times = Vec::new();
            let mut line = format!("bench: tiering fib({n}), {reps} runs:");
            for (i, (name, ..)) in TIER_MODES.iter().enumerate() {
                let m = (!failed[i]).then(|| median(&t[i]));
                if let Some(m) = m {
                    let _ = write!(line, " {name} {} ms", fmt_ms(m));
                }
                times.push(m);
            }
            eprintln!("{line}");
            tiering.push(TierPoint { n, times });
        }
        let path = settings.side_file("tiering.svg");
        let series: Vec<bench::svg::Series<'_>> = TIER_MODES
            .iter()
            .enumerate()
            .map(|(i, (name, _, _, color))| bench::svg::Series {
                label: name,
                color,
                points: tiering
                    .iter()
                    .filter_map(|p| Some((f64::from(p.n), ms(p.times[i]?))))
                    .collect(),
            })
            .collect();
        let chart = bench::svg::log_line_chart(
            "fib(n) from a fresh store and module: time to result",
            "n",
            "milliseconds (log scale)",
            &series,
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, chart).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
        svg = Some(path);
    }

    let simd = if settings.skips("simd") {
        None
    } else {
        simd_section(&rows, settings.reps, &mut ok)
    };

    let extras = Extras {
        columns,
        peers,
        missing_peers,
        bareflow_size,
        loader_size,
        tiering,
        tiering_reps,
        svg,
        simd,
    };
    let report = render(&settings, &extras, &rows, started.elapsed());
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

fn render(settings: &Settings, extras: &Extras, rows: &[Row<'_>], took: Duration) -> String {
    let engines = &extras.columns;
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
    for p in &extras.peers {
        let _ = writeln!(s, "* peer `{}`: {}", p.name, p.description);
    }
    for (name, why) in &extras.missing_peers {
        let _ = writeln!(s, "* peer `{name}`: missing ({why})");
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
        let _ = write!(header, " {} |", *e);
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
            let text = match r.cells.get(*e) {
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
    // Geometric means of the ratio to native: over the ten workloads the report had before
    // SIMD, and over their seven C kernels alone (the `.wat` trio is hand-written); the
    // dot-product pair has its own section.
    let subsets: [(&str, WorkloadFilter); 2] = [
        ("geometric mean vs native, ten classic workloads", |w| {
            !w.name.starts_with("dotf32")
        }),
        (
            "geometric mean vs native, seven C kernels",
            bench::is_classic_kernel,
        ),
    ];
    for (label, keep) in subsets {
        let subset: Vec<&Row<'_>> = rows.iter().filter(|r| keep(r.workload)).collect();
        if subset.is_empty() {
            continue;
        }
        let _ = write!(s, "| {label} | | 1.0x |");
        for e in engines {
            let ratios: Vec<f64> = subset
                .iter()
                .filter_map(|r| {
                    let n = r.native?.1;
                    Some(ms(timed(r.cells.get(*e))?) / ms(n))
                })
                .collect();
            let _ = match geomean(&ratios) {
                Some(g) if ratios.len() == subset.len() => write!(s, " {g:.2}x |"),
                Some(g) => write!(s, " {g:.2}x ({} of {}) |", ratios.len(), subset.len()),
                None => write!(s, " n/a |"),
            };
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s);

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
            let _ = write!(header, " {} |", *e);
            sep.push_str("---:|");
        }
        let _ = writeln!(s, "{header}\n{sep}");
        for r in rows {
            let _ = write!(s, "| {} |", r.workload.name);
            for e in engines {
                let text = match r.cells.get(*e) {
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
    bounds_section(&mut s, rows);
    spread_section(&mut s, engines, rows);
    if let Some(sec) = &extras.simd {
        simd_render(&mut s, sec, rows);
    }
    compile_section(&mut s, rows);
    tiering_section(&mut s, settings, extras);
    sizes_section(&mut s, extras, rows);
    trio_section(&mut s, extras, rows);

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
            .filter(|e| matches!(r.cells.get(*e), Some(Cell::Timed { .. })))
            .copied()
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

    // Unavailable and failed cells, with reasons; one line per (engine, reason).
    let mut notes = Vec::new();
    for r in rows {
        if let Some(e) = &r.native_error {
            notes.push(format!("* native, {}: FAILED: {e}", r.workload.name));
        }
    }
    for e in engines {
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for r in rows {
            let why = match r.cells.get(*e) {
                Some(Cell::Unavailable(why)) => format!("unavailable: {why}"),
                Some(Cell::Failed(why)) => format!("FAILED: {why}"),
                _ => continue,
            };
            match groups.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) => names.push(r.workload.name),
                None => groups.push((why, vec![r.workload.name])),
            }
        }
        for (why, names) in groups {
            let which = if names.len() == rows.len() {
                "every workload".to_string()
            } else {
                names.join(", ")
            };
            notes.push(format!("* {} ({which}): {why}", *e));
        }
    }
    for (name, why) in &extras.missing_peers {
        notes.push(format!("* {name} (every workload): missing: {why}"));
    }
    for r in rows {
        if let Some(Err(e)) = &r.compile {
            notes.push(format!(
                "* compile/load figures, {}: FAILED: {e}",
                r.workload.name
            ));
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
/// Per cell, the slowest timed call over the fastest: a median is only as good as the spread
/// around it, and this machine's noise moves between runs.
fn spread_section(s: &mut String, engines: &[&'static str], rows: &[Row<'_>]) {
    let _ = writeln!(s, "## Spread\n");
    let _ = writeln!(
        s,
        "Slowest timed call over the fastest, per cell (1.00x = no noise; the medians above \
         sit inside this range).\n"
    );
    let _ = writeln!(s, "| workload | {} |", engines.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(engines.len()));
    for r in rows {
        let cells: Vec<String> = engines
            .iter()
            .map(|e| match r.cells.get(e) {
                Some(Cell::Timed { spread, .. }) => format!("{spread:.2}x"),
                _ => "-".to_string(),
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", r.workload.name, cells.join(" | "));
    }
    let _ = writeln!(s);
}

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

/// The cost of bounded-execution checks in compiled code (docs/ABI.md, "Bounded
/// execution"): interrupt checks (`+int`) and fuel (`+fuel`) against the same mode without.
fn bounds_section(s: &mut String, rows: &[Row<'_>]) {
    let _ = writeln!(
        s,
        "## Bounded execution checks
"
    );
    let _ = writeln!(
        s,
        "Compiled code with interrupt checks (`+int`: one atomic load and branch per function \
         entry and loop back-edge) and with fuel (`+fuel`: subtract and branch on a register \
         in functions with loops; load, subtract, store, branch in others) against the same \
         mode without checks (which compiles exactly as before).\n"
    );
    let _ = writeln!(
        s,
        "| workload | base | checks | base (ms) | with checks (ms) | overhead |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|");
    let mut any = false;
    for (base, suffix) in [
        ("jit-speed", "+int"),
        ("jit-speed", "+fuel"),
        ("snapshot", "+int"),
        ("snapshot", "+fuel"),
    ] {
        let name = format!("{base}{suffix}");
        let mut ratios = Vec::new();
        for r in rows {
            let (Some(off), Some(on)) =
                (timed(r.cells.get(base)), timed(r.cells.get(name.as_str())))
            else {
                continue;
            };
            let ratio = ms(on) / ms(off);
            ratios.push(ratio);
            let _ = writeln!(
                s,
                "| {} | {base} | {suffix} | {} | {} | {:+.1}% |",
                r.workload.name,
                fmt_ms(off),
                fmt_ms(on),
                (ratio - 1.0) * 100.0
            );
        }
        if let Some(g) = geomean(&ratios) {
            any = true;
            let _ = writeln!(
                s,
                "| geometric mean | {base} | {suffix} | | | {:+.1}% |",
                (g - 1.0) * 100.0
            );
        }
    }
    if !any {
        let _ = writeln!(s, "| not measured (needs the columns) | | | | | |");
    }
    let _ = writeln!(s);
}

fn size_text(b: &BuiltSize) -> String {
    match b {
        Ok(n) => format!("{n} bytes ({})", kb(*n as usize)),
        Err(why) => format!("not built: {why}"),
    }
}

fn kb(bytes: usize) -> String {
    let k = bytes as f64 / 1000.0;
    if k >= 100.0 {
        format!("{k:.0} KB")
    } else {
        format!("{k:.1} KB")
    }
}

fn compile_row(w: &Workload, settings: &Settings, reps: usize) -> Result<CompileRow, String> {
    let measure = || -> Result<CompileRow> {
        let wasm = w.wasm_bytes()?;
        let parse = measure::parse_time(&wasm, reps)?;
        let mut instantiate = [Duration::ZERO; 4];
        for (slot, mode) in instantiate.iter_mut().zip(INSTANTIATE_MODES) {
            *slot = measure::instantiate_time(&wasm, mode, reps)?;
        }
        let (aot, snap) = measure::snapshot_compile(&wasm, reps)?;
        let loader = measure::loader_first_call(&snap, w, settings.args(w))?;
        Ok(CompileRow {
            wasm_bytes: wasm.len(),
            parse,
            instantiate,
            aot,
            snapshot_bytes: snap.len(),
            loader,
        })
    };
    measure().map_err(|e| format!("{e:#}"))
}

/// wasm kilobytes per second compiled in `d`.
fn kb_per_s(bytes: usize, d: Duration) -> String {
    let v = bytes as f64 / 1000.0 / d.as_secs_f64();
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn compile_section(s: &mut String, rows: &[Row<'_>]) {
    let done: Vec<(&Row<'_>, &CompileRow)> = rows
        .iter()
        .filter_map(|r| match &r.compile {
            Some(Ok(c)) => Some((r, c)),
            _ => None,
        })
        .collect();
    if done.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Compile time per tier\n");
    let _ = writeln!(
        s,
        "Median of fresh runs, milliseconds; in parentheses wasm KB compiled per second. \
         `parse` = `Module::from_bytes` (decode + validate). `interp`, `jit-none`, `jit-speed`, \
         `snapshot` = `Store::new` + `Store::instantiate` of the parsed module in that mode \
         (interp: lowering to pre-decoded ops; jit-*: the whole module compiled by Cranelift; \
         snapshot: AOT compile + load by the real loader). `aot compile` = \
         `bareflow::internals::aot::compile` at `speed` alone (what `bareflow compile` does).\n"
    );
    let _ = writeln!(
        s,
        "| workload | wasm | parse | interp | jit-none | jit-speed | snapshot | aot compile |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (r, c) in &done {
        let _ = write!(
            s,
            "| {} | {} | {} |",
            r.workload.name,
            kb(c.wasm_bytes),
            fmt_ms(c.parse)
        );
        for d in c.instantiate.iter().chain([&c.aot]) {
            let _ = write!(s, " {} ({}) |", fmt_ms(*d), kb_per_s(c.wasm_bytes, *d));
        }
        let _ = writeln!(s);
    }
    let total: usize = done.iter().map(|(_, c)| c.wasm_bytes).sum();
    let sum =
        |f: &dyn Fn(&CompileRow) -> Duration| -> Duration { done.iter().map(|(_, c)| f(c)).sum() };
    let _ = write!(s, "| all | {} | {} |", kb(total), fmt_ms(sum(&|c| c.parse)));
    for i in 0..4 {
        let d = sum(&|c| c.instantiate[i]);
        let _ = write!(s, " {} ({}) |", fmt_ms(d), kb_per_s(total, d));
    }
    let d = sum(&|c| c.aot);
    let _ = writeln!(s, " {} ({}) |\n", fmt_ms(d), kb_per_s(total, d));

    let _ = writeln!(s, "## Snapshot size and loader\n");
    let _ = writeln!(
        s,
        "Snapshot bytes (`aot::compile` at `speed`: code, relocations, metadata) against the \
         `.wasm`. Loader times run `runtime_loader` directly, as `bareflow-load` does: `load` = \
         `LoadedModule::load` (verify, decode, map, relocate, protect), `instantiate` = \
         instance + segments + start, `load to first call` = their sum (snapshot bytes in \
         memory until the export can be entered); `first call` = the export with the report's \
         arguments, its checksum checked against native.\n"
    );
    let _ = writeln!(
        s,
        "| workload | wasm | snapshot | snapshot / wasm | load (ms) | instantiate (ms) | load to first call (ms) | first call (ms) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (r, c) in &done {
        let l = &c.loader;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1}x | {:.3} | {:.3} | {:.3} | {} |",
            r.workload.name,
            c.wasm_bytes,
            c.snapshot_bytes,
            c.snapshot_bytes as f64 / c.wasm_bytes as f64,
            ms(l.load),
            ms(l.instantiate),
            ms(l.load + l.instantiate),
            fmt_ms(l.first_call)
        );
    }
    let _ = writeln!(s);
}

fn tiering_section(s: &mut String, settings: &Settings, extras: &Extras) {
    if extras.tiering.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Tiering: time to result from nothing\n");
    let _ = writeln!(
        s,
        "fib(n) (`wasm-samples/fibonacci.wasm`): `Module::from_bytes` + `Store::new` + \
         instantiate + one call, median of {} fresh runs per cell ({} for n <= 20), after one \
         untimed fresh run, milliseconds; every result checked against an iterative fib. `jit-speed` pays the Cranelift compile up \
         front, `tiered` starts in the interpreter (counting calls and back-edges) and compiles `fib` once its \
         counters pass the thresholds.\n",
        extras.tiering_reps,
        tiering_reps_for(settings.quick, 0)
    );
    if let Some(p) = &extras.svg {
        let name = p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        if settings.quick {
            let _ = writeln!(s, "Chart: `{}`.\n", p.display());
        } else {
            let _ = writeln!(s, "![fib(n) time to result per mode]({name})\n");
        }
    }
    let mut header = String::from("| n |");
    let mut sep = String::from("|---:|");
    for (name, ..) in TIER_MODES {
        let _ = write!(header, " {name} |");
        sep.push_str("---:|");
    }
    header.push_str(" fastest |");
    sep.push_str("---|");
    let _ = writeln!(s, "{header}\n{sep}");
    for p in &extras.tiering {
        let _ = write!(s, "| {} |", p.n);
        for t in &p.times {
            let _ = write!(
                s,
                " {} |",
                t.map_or("**FAILED**".to_string(), |d| format!("{:.3}", ms(d)))
            );
        }
        let best = p
            .times
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, (*t)?)))
            .min_by_key(|&(_, t)| t)
            .map_or("-", |(i, _)| TIER_MODES[i].0);
        let _ = writeln!(s, " {best} |");
    }
    let _ = writeln!(s);
}

fn sizes_section(s: &mut String, extras: &Extras, rows: &[Row<'_>]) {
    if extras.bareflow_size.is_none() && rows.iter().all(|r| r.compile.is_none()) {
        return;
    }
    if extras.bareflow_size.is_some() || extras.loader_size.is_some() {
        binary_table(s, extras);
    }
}

fn binary_table(s: &mut String, extras: &Extras) {
    let _ = writeln!(s, "## Binary sizes\n");
    let _ = writeln!(s, "| binary | how it is built | bytes |\n|---|---|---:|");
    if let Some(b) = &extras.bareflow_size {
        let _ = writeln!(
            s,
            "| `bareflow` (development system: parser, interpreter, Cranelift JIT and AOT) | `cargo build --release -p bareflow --bin bareflow` (not stripped) | {} |",
            size_text(b)
        );
    }
    if let Some(l) = &extras.loader_size {
        let _ = writeln!(
            s,
            "| `bareflow-load` (the tiny loader: no compiler, no_std) | `scripts/loader-size.sh` (min-size profile, LTO, stripped) | {} |",
            size_text(l)
        );
    }
    let _ = writeln!(s);
}

/// Grow to shrink: the classic trio.
fn trio_section(s: &mut String, extras: &Extras, rows: &[Row<'_>]) {
    let trio: Vec<&Row<'_>> = rows
        .iter()
        .filter(|r| ["fibonacci", "sum_to_n", "multiply"].contains(&r.workload.name))
        .collect();
    if trio.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Grow to shrink: the classic trio\n");
    let _ = writeln!(
        s,
        "The development system that profiles, tiers and compiles, against what ships: the \
         no_std loader plus one snapshot per program. Run times are the medians of the table \
         above (same run); ratios are to native clang -O2.\n"
    );
    let cell = |r: &Row<'_>, name: &str| -> String {
        match (r.cells.get(name), r.native) {
            (Some(Cell::Timed { median, .. }), Some((_, n))) => {
                format!("{} ({:.1}x)", fmt_ms(*median), ms(*median) / ms(n))
            }
            (Some(Cell::Timed { median, .. }), None) => fmt_ms(*median),
            (Some(Cell::Failed(_)), _) => "**FAILED**".into(),
            _ => "n/a".into(),
        }
    };
    let _ = writeln!(
        s,
        "| program | args | `bareflow` | `bareflow-load` | .wasm | snapshot | loader + snapshot | snapshot (ms) | jit-speed (ms) | native (ms) |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let size = |b: &Option<BuiltSize>| match b {
        Some(Ok(n)) => (kb(*n as usize), Some(*n as usize)),
        Some(Err(_)) => ("not built".to_string(), None),
        None => ("skipped".to_string(), None),
    };
    let (bf, _) = size(&extras.bareflow_size);
    let (ld, ld_n) = size(&extras.loader_size);
    for r in trio {
        let (wasm, snap) = match &r.compile {
            Some(Ok(c)) => (format!("{} B", c.wasm_bytes), Some(c.snapshot_bytes)),
            _ => ("-".to_string(), None),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {bf} | {ld} | {wasm} | {} | {} | {} | {} | {} |",
            r.workload.name,
            bench::format_args(&r.args),
            snap.map_or("-".to_string(), |n| format!("{n} B")),
            match (ld_n, snap) {
                (Some(l), Some(n)) => kb(l + n),
                _ => "-".to_string(),
            },
            cell(r, "snapshot"),
            cell(r, "jit-speed"),
            r.native.map_or("failed".to_string(), |(_, t)| fmt_ms(t)),
        );
    }
    let _ = writeln!(s);
}
