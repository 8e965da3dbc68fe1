//! Runs every sample of `wasm-samples/` with its small test arguments and checks the
//! checksum against the value recorded in `wasm-samples/README.md` (computed by the native
//! build): in wasmi (which checks the committed `.wasm` files and the table), natively (when
//! clang is installed: checks the table against the C sources) and in BareFlow's interpreter
//! (which is what catches interpreter bugs).

use anyhow::{Context, Result, anyhow, bail, ensure};
use bareflow::Mode;
use bench::{BareflowRunner, ExpectedRow, NativeDriver, ResultType, WORKLOADS, Workload};

fn expected(w: &Workload) -> ExpectedRow {
    let rows = bench::expected_checksums().expect("wasm-samples/README.md checksum table");
    rows.into_iter()
        .find(|r| r.name == w.name)
        .unwrap_or_else(|| panic!("no README row for {}", w.name))
}

#[test]
fn readme_table_matches_workload_list() {
    let rows = bench::expected_checksums().unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        WORKLOADS.iter().map(|w| w.name).collect::<Vec<_>>(),
        "README rows and bench::WORKLOADS must list the same samples in the same order"
    );
    for (r, w) in rows.iter().zip(WORKLOADS) {
        assert_eq!(r.export, w.export, "{}: export", w.name);
        assert_eq!(r.test_args, w.test_args, "{}: test args", w.name);
        assert_eq!(r.bench_args, w.bench_args, "{}: bench args", w.name);
    }
}

fn wasmi_call(w: &Workload, args: &[i32]) -> Result<i64> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, w.wasm_bytes()?).map_err(|e| anyhow!("{e}"))?;
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| anyhow!("{e}"))?;
    let func = instance
        .get_func(&store, w.export)
        .context("missing export")?;
    let params: Vec<wasmi::Val> = args.iter().map(|&a| wasmi::Val::I32(a)).collect();
    let mut results = [match w.result {
        ResultType::I32 => wasmi::Val::I32(0),
        ResultType::I64 => wasmi::Val::I64(0),
    }];
    func.call(&mut store, &params, &mut results)
        .map_err(|e| anyhow!("{e}"))?;
    match results[0] {
        wasmi::Val::I32(v) => Ok(i64::from(v)),
        wasmi::Val::I64(v) => Ok(v),
        ref other => bail!("unexpected result {other:?}"),
    }
}

// wasmi 2's default dispatch relies on sibling-call optimisation, which LLVM does not
// perform when wasmi is built with debug assertions: the workspace's dev profile builds the
// wasmi package without them (`[profile.dev.package.wasmi]`), so this runs in every
// `cargo test`.
#[test]
fn wasmi_matches_readme() {
    for w in WORKLOADS {
        let row = expected(w);
        let got = wasmi_call(w, w.test_args).unwrap_or_else(|e| panic!("{}: {e:#}", w.name));
        assert_eq!(got, row.test_checksum, "{} in wasmi", w.name);
    }
}

fn clang_available() -> bool {
    std::process::Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Without clang the native oracle cannot run: a failure under CI (`bareflow::internals::ci::in_ci`),
/// a note otherwise.
#[test]
fn native_matches_readme() -> Result<()> {
    if !clang_available() {
        ensure!(
            !bareflow::internals::ci::in_ci(),
            "clang not installed (CI is set): the native oracle cannot run"
        );
        eprintln!("native_matches_readme: clang not installed, native build not checked");
        return Ok(());
    }
    let driver = NativeDriver::build()?;
    for w in WORKLOADS {
        let row = expected(w);
        let run = driver.run(w, w.test_args, 2)?;
        ensure!(
            run.checksum == row.test_checksum,
            "{} native test checksum {} != README {}",
            w.name,
            run.checksum,
            row.test_checksum
        );
        let run = driver.run(w, w.bench_args, 1)?;
        ensure!(
            run.checksum == row.bench_checksum,
            "{} native bench checksum {} != README {}",
            w.name,
            run.checksum,
            row.bench_checksum
        );
    }
    Ok(())
}

/// Runs every sample with its test arguments in `mode` (twice, to catch state that leaks
/// between calls); `Ok(false)` if the mode is not supported yet.
fn check_mode(config: bareflow::Config) -> Result<bool> {
    let mode = config.mode;
    for w in WORKLOADS {
        let row = expected(w);
        let wasm = w.wasm_bytes()?;
        let mut runner = match BareflowRunner::new(w, &wasm, w.test_args, config.clone())? {
            Ok(r) => r,
            Err(why) => {
                eprintln!("{mode}: unsupported ({why})");
                return Ok(false);
            }
        };
        for call in 1..=2 {
            let got = match runner.call() {
                Ok(got) => got,
                Err(e) if bench::is_unsupported(&e).is_some() => {
                    eprintln!("{mode}: unsupported ({e:#})");
                    return Ok(false);
                }
                Err(e) => return Err(e.context(format!("{} in {mode}, call {call}", w.name))),
            };
            ensure!(
                got == row.test_checksum,
                "{} in {mode} (call {call}, args {:?}): checksum {got}, native {}",
                w.name,
                w.test_args,
                row.test_checksum
            );
        }
    }
    Ok(true)
}

#[test]
fn interp_matches_readme() -> Result<()> {
    for profiling in [false, true] {
        let config = bareflow::Config {
            profiling,
            ..bareflow::Config::new(Mode::Interp)
        };
        ensure!(
            check_mode(config)?,
            "the interpreter must support every sample"
        );
    }
    Ok(())
}

/// Every other mode the library accepts. A mode that reports itself unsupported fails under
/// CI (`bareflow::internals::ci::in_ci`) and is reported on stderr otherwise.
#[test]
fn other_modes_match_readme() -> Result<()> {
    let mut unsupported = Vec::new();
    for mode in Mode::ALL.into_iter().filter(|&m| m != Mode::Interp) {
        if !check_mode(bareflow::Config::new(mode))? {
            eprintln!("other_modes_match_readme: {mode} not checked (unsupported)");
            unsupported.push(mode.to_string());
        }
    }
    ensure!(
        unsupported.is_empty() || !bareflow::internals::ci::in_ci(),
        "modes not checked because they report unsupported (CI is set): {}",
        unsupported.join(", ")
    );
    Ok(())
}
