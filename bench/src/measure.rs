//! Measurements beyond time per call: compile time per tier, snapshot size and the loader's
//! load-to-first-call path, the tiering picture (fib(n) from a fresh store), and the sizes
//! of the `bareflow` and `bareflow-load` binaries.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use bareflow::internals::aot::{self, AotOptions};
use bareflow::{Config, Extern, Mode, Module, Store, Val};
use runtime_loader::code::MmapCodeMemory;
use runtime_loader::instance::Imports;
use runtime_loader::loader::{LoadedModule, call};
use runtime_loader::meta::{ExportKind, FuncType, ValType};
use runtime_loader::trap::TrapContext;

use crate::{Workload, median, workspace_root};

/// Median of `reps` runs of `f` (each returning its own measured duration).
fn median_of(reps: usize, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        t.push(f()?);
    }
    Ok(median(&t))
}

/// Time of `Store::new` + `Store::instantiate` of an already parsed module in `mode`
/// (jit-none / jit-speed compile the whole module there; snapshot compiles to snapshot
/// bytes and loads them with the real loader; interp lowers to pre-decoded ops).
///
/// # Errors
/// Instantiation fails.
pub fn instantiate_time(wasm: &[u8], mode: Mode, reps: usize) -> Result<Duration> {
    let module = Module::from_bytes(wasm)?;
    median_of(reps, || {
        let t = Instant::now();
        let mut store = Store::new(Config::new(mode));
        store
            .instantiate(&module, &|_, _| None)
            .map_err(|e| anyhow!("instantiating in {mode}: {e}"))?;
        let took = t.elapsed();
        drop(store);
        Ok(took)
    })
}

/// Time of `Module::from_bytes` (parse + validate).
///
/// # Errors
/// The module does not parse.
pub fn parse_time(wasm: &[u8], reps: usize) -> Result<Duration> {
    median_of(reps, || {
        let t = Instant::now();
        let m = Module::from_bytes(wasm)?;
        let took = t.elapsed();
        drop(m);
        Ok(took)
    })
}

/// `aot::compile` of the whole module at `speed` (what `bareflow compile` and the snapshot
/// mode do): its median time and the snapshot bytes.
///
/// # Errors
/// Parse or compile errors.
pub fn snapshot_compile(wasm: &[u8], reps: usize) -> Result<(Duration, Vec<u8>)> {
    let parsed = bareflow::internals::parse::parse(wasm)?;
    let mut snap = Vec::new();
    let t = median_of(reps, || {
        let t = Instant::now();
        let (bytes, _) = aot::compile(&parsed, &AotOptions::default())?;
        let took = t.elapsed();
        snap = bytes;
        Ok(took)
    })?;
    Ok((t, snap))
}

/// The loader's path from snapshot bytes in memory to the first result, as `bareflow-load`
/// runs it (through `runtime_loader` directly, no compiler involved).
#[derive(Clone, Copy, Debug)]
pub struct LoaderTimes {
    /// `LoadedModule::load`: verify the container, decode metadata, map, relocate, protect.
    pub load: Duration,
    /// `instantiate` + `initialize` (segments) + start function.
    pub instantiate: Duration,
    /// The first call of the export with the given arguments.
    pub first_call: Duration,
    /// Its checksum (sign-extended `i32`).
    pub checksum: i64,
}

/// Loads `snapshot`, instantiates it and calls `w.export(args)` once, timing each step.
///
/// # Errors
/// Load, instantiation or a trap.
pub fn loader_first_call(snapshot: &[u8], w: &Workload, args: &[i32]) -> Result<LoaderTimes> {
    Ok(loader_calls(snapshot, w, args, 0)?.0)
}

/// `aot::compile` of `wasm` with `opts` (e.g. `target_cpu: Some("native")`): the snapshot.
///
/// # Errors
/// Parse or compile errors.
pub fn snapshot_with(wasm: &[u8], opts: &AotOptions) -> Result<Vec<u8>> {
    let parsed = bareflow::internals::parse::parse(wasm)?;
    Ok(aot::compile(&parsed, opts)?.0)
}

/// [`loader_first_call`], then `reps` more timed calls through the same instance (each
/// checked to return the first call's checksum): the loader's steady-state call time.
///
/// # Errors
/// Load, instantiation, a trap or a checksum that changes between calls.
pub fn loader_calls(
    snapshot: &[u8],
    w: &Workload,
    args: &[i32],
    reps: usize,
) -> Result<(LoaderTimes, Vec<Duration>)> {
    let t0 = Instant::now();
    let module = LoadedModule::load(snapshot, MmapCodeMemory::new())
        .map_err(|e| anyhow!("loading the snapshot: {e}"))?;
    let load = t0.elapsed();
    let t1 = Instant::now();
    let meta = module.meta();
    ensure!(meta.num_imports() == 0, "{}: module has imports", w.name);
    let type_ids = meta.canonical_type_ids();
    let mut trap_ctx = Box::new(TrapContext::default());
    // SAFETY: no imports; `trap_ctx` and `module` outlive `inst` (dropped at the end of this
    // function in reverse declaration order: `inst` first).
    let inst = unsafe {
        module.instantiate(
            type_ids,
            Imports::default(),
            core::ptr::null_mut(),
            &mut *trap_ctx,
        )
    }
    .map_err(|e| anyhow!("instantiating the snapshot: {e}"))?;
    inst.initialize(&meta)
        .map_err(|t| anyhow!("initializing: {t}"))?;
    if let Some(start) = meta.start() {
        // SAFETY: the start function takes and returns nothing; one slot is enough.
        unsafe { call(&inst, start, &mut [0u64]) }.map_err(|t| anyhow!("start: {t}"))?;
    }
    let export = meta
        .export_named(w.export.as_bytes())
        .filter(|e| e.kind == ExportKind::Func)
        .with_context(|| format!("no exported function `{}`", w.export))?;
    let ty = meta.func_type(export.index).context("bad export")?;
    let ty = FuncType {
        params: ty.param_types().collect(),
        results: ty.result_types().collect(),
    };
    ensure!(
        ty.params.len() == args.len() && ty.params.iter().all(|p| *p == ValType::I32),
        "unexpected signature of `{}`",
        w.export
    );
    let mut values = vec![0u64; ty.params.len().max(ty.results.len()).max(1)];
    for (v, a) in values.iter_mut().zip(args) {
        *v = u64::from(*a as u32);
    }
    let instantiate = t1.elapsed();
    let t2 = Instant::now();
    // SAFETY: `values` holds max(params, results) slots, parameters are i32 as checked.
    unsafe { call(&inst, export.index, &mut values) }.map_err(|t| anyhow!("trap: {t}"))?;
    let first_call = t2.elapsed();
    let checksum = match ty.results.as_slice() {
        [ValType::I32] => i64::from(values[0] as u32 as i32),
        [ValType::I64] => values[0] as i64,
        other => bail!("unexpected results {other:?}"),
    };
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        for (v, a) in values.iter_mut().zip(args) {
            *v = u64::from(*a as u32);
        }
        let t = Instant::now();
        // SAFETY: as for the first call.
        unsafe { call(&inst, export.index, &mut values) }.map_err(|t| anyhow!("trap: {t}"))?;
        times.push(t.elapsed());
        let again = match ty.results.as_slice() {
            [ValType::I32] => i64::from(values[0] as u32 as i32),
            _ => values[0] as i64,
        };
        ensure!(
            again == checksum,
            "checksum changed between calls: {checksum} then {again}"
        );
    }
    drop(inst);
    Ok((
        LoaderTimes {
            load,
            instantiate,
            first_call,
            checksum,
        },
        times,
    ))
}

/// fib(n) with wrapping i32 arithmetic, computed iteratively (the reference checksum).
pub fn fib_reference(n: i32) -> i64 {
    let (mut a, mut b) = (0i32, 1i32);
    for _ in 0..n.max(0) {
        (a, b) = (b, a.wrapping_add(b));
    }
    i64::from(a)
}

/// Total time to result from nothing: `Module::from_bytes` + `Store::new` + instantiate +
/// one call of `fib(n)`, checked against [`fib_reference`].
///
/// # Errors
/// Any failure or a wrong result.
pub fn fib_fresh(wasm: &[u8], config: &Config, n: i32) -> Result<Duration> {
    let t = Instant::now();
    let module = Module::from_bytes(wasm)?;
    let mut store = Store::new(config.clone());
    let inst = store
        .instantiate(&module, &|_, _| None)
        .map_err(|e| anyhow!("instantiating: {e}"))?;
    let Some(Extern::Func(f)) = store.export(inst, "fib") else {
        bail!("no export `fib`");
    };
    let got = store.call(f, &[Val::I32(n)])?;
    let took = t.elapsed();
    let expected = fib_reference(n);
    match got.as_slice() {
        [Val::I32(v)] if i64::from(*v) == expected => Ok(took),
        other => bail!(
            "CHECKSUM MISMATCH: fib({n}) in {}: got {other:?}, expected {expected}",
            config.mode
        ),
    }
}

/// Size of one built binary, or why it was not built.
pub type BuiltSize = std::result::Result<u64, String>;

/// Builds the `bareflow` CLI in the release profile and returns its size.
pub fn build_bareflow() -> BuiltSize {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(&cargo)
        .current_dir(&root)
        .args([
            "build",
            "-q",
            "--release",
            "-p",
            "bareflow",
            "--bin",
            "bareflow",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build --release --bin bareflow failed: {}",
            last_line(&out.stderr)
        ));
    }
    file_size(&crate::target_dir().join("release/bareflow"))
}

/// Builds `bareflow-load` with `scripts/loader-size.sh` (no_std, min-size profile) and
/// returns its size; a loader over the script's budget is still measured.
pub fn build_loader() -> BuiltSize {
    let root = workspace_root();
    let out = Command::new("sh")
        .current_dir(&root)
        .arg("scripts/loader-size.sh")
        .output()
        .map_err(|e| format!("cannot run scripts/loader-size.sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // "bareflow-load (no_std, min-size, stripped): N bytes (budget B)"
    let size = stdout.lines().find_map(|l| {
        l.split_once("): ")?
            .1
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    match size {
        Some(s) => Ok(s),
        None => Err(format!(
            "scripts/loader-size.sh failed: {}",
            last_line(&out.stderr)
        )),
    }
}

fn last_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_string()
}

fn file_size(p: &Path) -> BuiltSize {
    std::fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload;

    #[test]
    fn fib_reference_values() {
        assert_eq!(fib_reference(0), 0);
        assert_eq!(fib_reference(1), 1);
        assert_eq!(fib_reference(20), 6765);
        assert_eq!(fib_reference(32), 2_178_309);
        // wraps like the i32 wasm
        assert_eq!(
            fib_reference(50),
            i64::from(12_586_269_025u64 as u32 as i32)
        );
    }

    #[test]
    fn loader_path_matches_native_checksum() {
        let w = workload("sha256").unwrap();
        let wasm = w.wasm_bytes().unwrap();
        let (_, snap) = snapshot_compile(&wasm, 1).unwrap();
        assert!(!snap.is_empty());
        let t = loader_first_call(&snap, w, w.test_args).unwrap();
        assert_eq!(t.checksum, 1_881_288_049_129_779_168);
    }

    #[test]
    fn fresh_fib_checks_result() {
        let w = workload("fibonacci").unwrap();
        let wasm = w.wasm_bytes().unwrap();
        fib_fresh(&wasm, &Config::new(Mode::Interp), 15).unwrap();
        // a module computing something else is caught
        let wrong = wat::parse_str(
            r#"(module (func (export "fib") (param i32) (result i32) local.get 0))"#,
        )
        .unwrap();
        assert!(fib_fresh(&wrong, &Config::new(Mode::Interp), 15).is_err());
    }
}
