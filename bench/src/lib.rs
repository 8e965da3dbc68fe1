//! Shared plumbing of the BareFlow benchmark (`benches/report.rs`) and the sample tests
//! (`tests/samples.rs`): the workload list, the expected checksums recorded in
//! `wasm-samples/README.md`, the native C driver, statistics and machine facts.
//!
//! Every workload is one exported function of a module in `wasm-samples/` that returns a
//! checksum (`i32` or `i64`; `i32` checksums are sign-extended to `i64` everywhere here).
//! The same code built natively by `bench/native/build.sh` gives the reference checksum and
//! the reference time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use bareflow::{CallError, Config, Extern, Func, InstantiateError, Module, Store, Val};

pub mod measure;
pub mod peers;
pub mod svg;

/// Result type of a workload's exported function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultType {
    /// `i32` (sign-extended into the checksum).
    I32,
    /// `i64`.
    I64,
}

/// One benchmark workload: an exported function of a sample module and its arguments.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Sample name: the module is `wasm-samples/<name>.wasm`, the native driver knows it
    /// under the same name, and it names the row of the README table.
    pub name: &'static str,
    /// Exported function to call.
    pub export: &'static str,
    /// Result type of `export` (every parameter is `i32`).
    pub result: ResultType,
    /// Arguments for the benchmark (native time roughly 10-50 ms).
    pub bench_args: &'static [i32],
    /// Small arguments for tests and `BENCH_QUICK=1` smoke runs.
    pub test_args: &'static [i32],
    /// What the workload stresses (for the report).
    pub stresses: &'static str,
}

/// Every workload, in report order.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "fibonacci",
        export: "fib",
        result: ResultType::I32,
        bench_args: &[32],
        test_args: &[20],
        stresses: "calls (naive recursion)",
    },
    Workload {
        name: "sum_to_n",
        export: "sum_to_n",
        result: ResultType::I64,
        bench_args: &[30_000_000],
        test_args: &[100_000],
        stresses: "tight loop, i64 add",
    },
    Workload {
        name: "multiply",
        export: "multiply",
        result: ResultType::I32,
        bench_args: &[7, 40_000_000],
        test_args: &[7, 100_000],
        stresses: "tight loop, i32 add",
    },
    Workload {
        name: "sha256",
        export: "run",
        result: ResultType::I64,
        bench_args: &[600],
        test_args: &[3],
        stresses: "i32 rotates/shifts/xor, byte loads",
    },
    Workload {
        name: "crc32",
        export: "run",
        result: ResultType::I32,
        bench_args: &[300],
        test_args: &[2],
        stresses: "table lookups, byte loads",
    },
    Workload {
        name: "matmul",
        export: "run",
        result: ResultType::I64,
        bench_args: &[300],
        test_args: &[24],
        stresses: "f64 mul/add, sequential f64 memory",
    },
    Workload {
        name: "nbody",
        export: "run",
        result: ResultType::I64,
        bench_args: &[100_000],
        test_args: &[500],
        stresses: "f64 arithmetic, div, sqrt",
    },
    Workload {
        name: "sieve",
        export: "run",
        result: ResultType::I64,
        bench_args: &[8_000_000],
        test_args: &[100_000],
        stresses: "memory-bound strided byte stores",
    },
    Workload {
        name: "quicksort",
        export: "run",
        result: ResultType::I64,
        bench_args: &[300_000],
        test_args: &[5_000],
        stresses: "unpredictable branches, i32 memory, recursion",
    },
    Workload {
        name: "minivm",
        export: "run",
        result: ResultType::I64,
        bench_args: &[2_000],
        test_args: &[40],
        stresses: "parser + bytecode VM: br_table dispatch, calls",
    },
    Workload {
        name: "dotf32",
        export: "run",
        result: ResultType::I64,
        bench_args: &[10_000],
        test_args: &[3],
        stresses: "f32 dot products, four scalar lane sums (the SIMD kernel's twin)",
    },
    Workload {
        name: "dotf32_simd",
        export: "run",
        result: ResultType::I64,
        bench_args: &[10_000],
        test_args: &[3],
        stresses: "f32x4 dot products (wasm_simd128.h): v128 load, f32x4.mul/add",
    },
];

/// Whether `w` uses fixed-width SIMD: the SIMD kernels are named `*_simd` (they are the
/// `SIMD_KERNELS` of `wasm-samples/build.sh`, built with `-msimd128`).
pub fn uses_simd(w: &Workload) -> bool {
    w.name.ends_with("_simd")
}

/// Whether `w` is one of the seven scalar C kernels whose geometric mean the README has
/// quoted since before SIMD (the dot-product pair is reported on its own).
pub fn is_classic_kernel(w: &Workload) -> bool {
    w.export == "run" && !w.name.starts_with("dotf32")
}

/// Looks a workload up by name.
pub fn workload(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// The workspace root (parent of `bench/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent directory")
        .to_path_buf()
}

/// `wasm-samples/` in the workspace.
pub fn samples_dir() -> PathBuf {
    workspace_root().join("wasm-samples")
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    // A relative CARGO_TARGET_DIR is relative to where cargo ran (the workspace root for
    // every build this crate starts), not to the bench's own working directory.
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

impl Workload {
    /// Path of the committed module.
    pub fn wasm_path(&self) -> PathBuf {
        samples_dir().join(format!("{}.wasm", self.name))
    }

    /// The committed module's bytes.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn wasm_bytes(&self) -> Result<Vec<u8>> {
        let path = self.wasm_path();
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Formats arguments the way the README table writes them (`7, 1000`).
pub fn format_args(args: &[i32]) -> String {
    args.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row of the checksum table in `wasm-samples/README.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedRow {
    /// Sample name (first column).
    pub name: String,
    /// Export (second column, without backticks).
    pub export: String,
    /// Test arguments.
    pub test_args: Vec<i32>,
    /// Checksum for the test arguments (computed by the native build).
    pub test_checksum: i64,
    /// Benchmark arguments.
    pub bench_args: Vec<i32>,
    /// Checksum for the benchmark arguments.
    pub bench_checksum: i64,
}

/// Parses the checksum table of `wasm-samples/README.md`: the rows of the markdown table
/// whose header starts with `| sample | export | signature | stresses | test args |`.
///
/// # Errors
/// The file is missing or a row is malformed.
pub fn expected_checksums() -> Result<Vec<ExpectedRow>> {
    let path = samples_dir().join("README.md");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse_checksum_table(&text).with_context(|| format!("parsing {}", path.display()))
}

fn parse_checksum_table(text: &str) -> Result<Vec<ExpectedRow>> {
    const HEADER: [&str; 8] = [
        "sample",
        "export",
        "signature",
        "stresses",
        "test args",
        "test checksum",
        "bench args",
        "bench checksum",
    ];
    let mut lines = text.lines().map(str::trim);
    lines
        .by_ref()
        .find(|l| cells(l).as_slice() == HEADER)
        .context("checksum table header not found")?;
    let mut rows = Vec::new();
    for line in lines {
        if !line.starts_with('|') {
            break;
        }
        let c = cells(line);
        if c.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
            continue; // the |---|---| separator
        }
        ensure!(
            c.len() == HEADER.len(),
            "row `{line}`: expected {} cells",
            HEADER.len()
        );
        let args = |s: &str| -> Result<Vec<i32>> {
            s.split(',')
                .map(|a| a.trim().replace('_', "").parse::<i32>().map_err(Into::into))
                .collect::<Result<_>>()
                .with_context(|| format!("row `{line}`: bad arguments `{s}`"))
        };
        let checksum = |s: &str| -> Result<i64> {
            s.parse::<i64>()
                .with_context(|| format!("row `{line}`: bad checksum `{s}`"))
        };
        rows.push(ExpectedRow {
            name: c[0].trim_matches('`').to_string(),
            export: c[1].trim_matches('`').to_string(),
            test_args: args(c[4])?,
            test_checksum: checksum(c[5].trim_matches('`'))?,
            bench_args: args(c[6])?,
            bench_checksum: checksum(c[7].trim_matches('`'))?,
        });
    }
    ensure!(!rows.is_empty(), "checksum table has no rows");
    Ok(rows)
}

fn cells(line: &str) -> Vec<&str> {
    let inner = line
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .unwrap_or("");
    if inner.is_empty() {
        return Vec::new();
    }
    inner.split('|').map(str::trim).collect()
}

/// The native driver (`bench/native/driver.c` plus the C kernels, built with clang -O2).
#[derive(Clone, Debug)]
pub struct NativeDriver {
    path: PathBuf,
}

/// Checksum and per-repetition times of one native measurement.
#[derive(Clone, Debug)]
pub struct NativeRun {
    /// Checksum (sign-extended for `i32` results).
    pub checksum: i64,
    /// Wall-clock time of each repetition.
    pub times: Vec<Duration>,
}

impl NativeDriver {
    /// Builds the driver into `<target>/bench/native-driver` with `bench/native/build.sh`.
    ///
    /// # Errors
    /// clang is missing or the build fails (the script's stderr is in the message).
    pub fn build() -> Result<NativeDriver> {
        NativeDriver::build_with("", "native-driver")
    }

    /// Builds the driver into `<target>/bench/<name>` with the kernels compiled with
    /// `extra_cflags` too (e.g. `-march=native`; `NATIVE_EXTRA_CFLAGS` of the script).
    ///
    /// # Errors
    /// clang is missing or the build fails.
    pub fn build_with(extra_cflags: &str, name: &str) -> Result<NativeDriver> {
        let script = workspace_root().join("bench/native/build.sh");
        let path = target_dir().join("bench").join(name);
        let out = Command::new("sh")
            .arg(&script)
            .arg(&path)
            .env("NATIVE_EXTRA_CFLAGS", extra_cflags)
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(NativeDriver { path })
    }

    /// Runs `w` natively `reps` times with `args`.
    ///
    /// # Errors
    /// The driver fails or prints something unexpected.
    pub fn run(&self, w: &Workload, args: &[i32], reps: usize) -> Result<NativeRun> {
        let out = Command::new(&self.path)
            .arg(w.name)
            .arg(reps.to_string())
            .args(args.iter().map(i32::to_string))
            .output()
            .with_context(|| format!("running {}", self.path.display()))?;
        if !out.status.success() {
            bail!(
                "native {} failed: {}",
                w.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        parse_driver_output(&String::from_utf8_lossy(&out.stdout), reps)
            .with_context(|| format!("native {}", w.name))
    }
}

/// Parses a driver's output (`checksum <n>` then `ns <t1> <t2> ...`): the format of
/// `bench/native/driver.c`, which the peer drivers share.
///
/// # Errors
/// No checksum line, a malformed number, or not exactly `reps` times.
pub fn parse_driver_output(stdout: &str, reps: usize) -> Result<NativeRun> {
    let mut checksum = None;
    let mut times = Vec::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("checksum") => {
                checksum = Some(words.next().context("checksum value")?.parse::<i64>()?)
            }
            Some("ns") => {
                for t in words {
                    times.push(Duration::from_nanos(t.parse::<u64>()?));
                }
            }
            _ => {}
        }
    }
    let checksum = checksum.context("no checksum in the output")?;
    ensure!(
        times.len() == reps,
        "expected {reps} times, got {}",
        times.len()
    );
    Ok(NativeRun { checksum, times })
}

/// A workload's export instantiated in a BareFlow [`Store`], ready to be called repeatedly
/// with fixed arguments.
pub struct BareflowRunner {
    store: Store,
    func: Func,
    args: Vec<Val>,
}

impl BareflowRunner {
    /// Parses `wasm`, instantiates it in a new store with `config` and looks up `w.export`.
    /// `Ok(Err(reason))` when the store's mode does not support the module (a mode that is
    /// not implemented yet): the caller reports it as unavailable.
    ///
    /// # Errors
    /// Parse errors, link errors, traps during instantiation, a missing export.
    pub fn new(
        w: &Workload,
        wasm: &[u8],
        args: &[i32],
        config: Config,
    ) -> Result<std::result::Result<BareflowRunner, String>> {
        let module = Module::from_bytes(wasm).with_context(|| format!("parsing {}", w.name))?;
        let fuel = config.consume_fuel;
        let mut store = Store::new(config);
        if fuel {
            // Bounded-execution rows measure the checks, not a budget: never run out.
            store.set_fuel(u64::MAX).map_err(|e| anyhow!("{e}"))?;
        }
        let instance = match store.instantiate(&module, &|_, _| None) {
            Ok(i) => i,
            Err(InstantiateError::Unsupported(why)) => return Ok(Err(why)),
            Err(e) => return Err(anyhow!(e).context(format!("instantiating {}", w.name))),
        };
        let func = match store.export(instance, w.export) {
            Some(Extern::Func(f)) => f,
            _ => bail!("{}: no exported function `{}`", w.name, w.export),
        };
        Ok(Ok(BareflowRunner {
            store,
            func,
            args: args.iter().map(|&a| Val::I32(a)).collect(),
        }))
    }

    /// Calls the export and returns its checksum (sign-extended for `i32`).
    ///
    /// # Errors
    /// The call fails; the error's source chain contains the [`CallError`] (use
    /// [`is_unsupported`] to recognise a mode that cannot run the call).
    pub fn call(&mut self) -> Result<i64> {
        let results = self.store.call(self.func, &self.args)?;
        match results.as_slice() {
            [Val::I32(v)] => Ok(i64::from(*v)),
            [Val::I64(v)] => Ok(*v),
            other => bail!("unexpected results {other:?}"),
        }
    }
}

/// Whether `e` is BareFlow's "this mode cannot run this call" ([`CallError::Unsupported`]).
pub fn is_unsupported(e: &anyhow::Error) -> Option<&str> {
    match e.downcast_ref::<CallError>() {
        Some(CallError::Unsupported(why)) => Some(why),
        _ => None,
    }
}

/// Median of a non-empty sample (mean of the two middle values for even sizes).
///
/// # Panics
/// If `times` is empty.
pub fn median(times: &[Duration]) -> Duration {
    assert!(!times.is_empty(), "median of no measurements");
    let mut t = times.to_vec();
    t.sort();
    let mid = t.len() / 2;
    if t.len() % 2 == 1 {
        t[mid]
    } else {
        (t[mid - 1] + t[mid]) / 2
    }
}

/// The CPU model name from `/proc/cpuinfo` (or `unknown`).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg` (or `unknown`): a busy
/// machine makes every number noisier.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Logical cores available to this process.
pub fn core_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The current UTC date and time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, with eras of 400 years).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(
            median(&[ms(4), ms(1), ms(3), ms(2)]),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn checksum_table_parses() {
        let text = "intro\n\n\
            | sample | export | signature | stresses | test args | test checksum | bench args | bench checksum |\n\
            |---|---|---|---|---|---|---|---|\n\
            | `fibonacci` | `fib` | (i32) -> i32 | calls | 20 | `6765` | 32 | `2178309` |\n\
            | multiply | multiply | (i32, i32) -> i32 | loop | 7, 1_000 | -5 | 7, 2 | 14 |\n\
            \nafter\n| other | table |\n";
        let rows = parse_checksum_table(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "fibonacci");
        assert_eq!(rows[0].export, "fib");
        assert_eq!(rows[0].test_checksum, 6765);
        assert_eq!(rows[1].test_args, vec![7, 1000]);
        assert_eq!(rows[1].test_checksum, -5);
        assert_eq!(rows[1].bench_checksum, 14);
        assert!(parse_checksum_table("no table").is_err());
        let bad = text.replace("`6765`", "six");
        assert!(parse_checksum_table(&bad).is_err());
    }

    #[test]
    fn workloads_have_committed_modules() {
        for w in WORKLOADS {
            assert!(
                w.wasm_path().is_file(),
                "{} missing",
                w.wasm_path().display()
            );
            assert!(!w.test_args.is_empty() && w.test_args.len() == w.bench_args.len());
        }
    }
}
