//! The C API end to end: builds `libbareflow.a` (`runtime-loader/capi`, min-size profile,
//! no_std), compiles snapshots with this crate's `bareflow` binary, builds the freestanding C
//! program (`runtime-loader/examples/freestanding`: `-ffreestanding -nostdlib -static`, its
//! own `_start`, raw syscalls) and runs it. Every `call` line it prints is checked against
//! the interpreter running the same module; host-function lines and the error paths are
//! checked too.
//!
//! Skipped only when no C compiler is found and `CI` is unset; under `CI` a missing tool fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use bareflow::{Config, Extern, Mode, Module, Store, Trap, TrapCode, Val, ValType};

mod common;
use common::{c_compiler, in_ci, replay_call_lines, root};

/// Builds the staticlib (own target dir: the outer cargo may still hold the workspace's)
/// and the program with `build.sh`; returns the program and build.sh's stdout.
pub fn build_program(out: &Path, compile_flags: &str) -> Option<(PathBuf, String)> {
    build_program_with(out, compile_flags, false)
}

/// [`build_program`]; with `xip_only` the library is built without its default `relocate`
/// feature (execute-in-place snapshots only), in a target dir of its own.
pub fn build_program_with(
    out: &Path,
    compile_flags: &str,
    xip_only: bool,
) -> Option<(PathBuf, String)> {
    let Some(cc) = c_compiler() else {
        assert!(!in_ci(), "no C compiler found (CI is set)");
        eprintln!("skipping: no C compiler found");
        return None;
    };
    let root = root();
    let target = root.join("target").join(if xip_only {
        "firmware-xip-only"
    } else {
        "firmware"
    });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec![
        "build",
        "-q",
        "-p",
        "bareflow-capi",
        "--profile",
        "min-size",
    ];
    if xip_only {
        args.push("--no-default-features");
    }
    let st = Command::new(cargo)
        .current_dir(&root)
        .args(args)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("running cargo");
    assert!(st.success(), "building libbareflow.a failed");
    let lib = target.join("min-size").join("libbareflow.a");
    std::fs::create_dir_all(out).unwrap();
    let o = Command::new("sh")
        .arg(root.join("runtime-loader/examples/freestanding/build.sh"))
        .env("BAREFLOW", env!("CARGO_BIN_EXE_bareflow"))
        .env("LIB", &lib)
        .env("OUT", out)
        .env("CC", &cc)
        .env("COMPILE_FLAGS", compile_flags)
        .output()
        .expect("running build.sh");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "build.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some((out.join("freestanding"), stdout))
}

fn module_path(snap: &str) -> PathBuf {
    let root = root();
    if snap == "host" || snap == "bulk" || snap == "mem64" {
        root.join(format!("runtime-loader/examples/freestanding/{snap}.wat"))
    } else {
        root.join("wasm-samples").join(format!("{snap}.wasm"))
    }
}

fn slot(v: &Val) -> u64 {
    match v {
        Val::I32(x) => *x as u32 as u64,
        Val::I64(x) => *x as u64,
        Val::F32(b) => u64::from(*b),
        Val::F64(b) => *b,
        _ => panic!("reference result"),
    }
}

/// What the interpreter says about `export(args)` of `snap`: result slots or a trap code.
fn interpret(snap: &str, export: &str, args: &[u64]) -> Result<Vec<u64>, u32> {
    let module = Module::from_file(module_path(snap)).unwrap();
    let mut store = Store::new(Config::new(Mode::Interp));
    let log_ty = bareflow::FuncType {
        params: vec![ValType::I32, ValType::I64],
        results: vec![],
    };
    let fail_ty = bareflow::FuncType {
        params: vec![],
        results: vec![ValType::I32],
    };
    let log = store.host_func(log_ty, Box::new(|_, _| Ok(())));
    let fail = store.host_func(
        fail_ty,
        Box::new(|_, _| Err(Trap::new(TrapCode::HostError))),
    );
    let inst = store
        .instantiate(&module, &|m, n| match (m, n) {
            ("env", "log") => Some(Extern::Func(log)),
            ("env", "fail") => Some(Extern::Func(fail)),
            _ => None,
        })
        .unwrap();
    let Some(Extern::Func(f)) = store.export(inst, export) else {
        panic!("{snap} has no export {export}");
    };
    let ty = store.func_type(f);
    let vals: Vec<Val> = ty
        .params
        .iter()
        .zip(args)
        .map(|(t, a)| match t {
            ValType::I32 => Val::I32(*a as i32),
            ValType::I64 => Val::I64(*a as i64),
            ValType::F32 => Val::F32(*a as u32),
            ValType::F64 => Val::F64(*a),
            _ => panic!("reference parameter"),
        })
        .collect();
    match store.call(f, &vals) {
        Ok(r) => Ok(r.iter().map(slot).collect()),
        Err(bareflow::CallError::Trap(t)) => Err(t.code as u32),
        Err(e) => panic!("{snap}.{export}: {e}"),
    }
}

/// Checks the program's output; returns the number of `call` lines checked.
pub fn check_output(stdout: &str) -> usize {
    for line in stdout.lines() {
        assert!(!line.starts_with("FAIL"), "the program reported: {line}");
    }
    let calls = replay_call_lines(stdout.lines(), interpret);
    for want in [
        "host log 5 5000",
        "host log 16 15 \"hello from wasm\"",
        // The host wrote bytes 1, 2, 3 at offset 100 after the traps: the instance survived.
        "stateful host sum_bytes 100 3 -> 6",
        // Memory 1 page, max 4: grows to 3, then 5 fails; table 4 elements, max 16.
        "stateful bulk grow 2 -> 1",
        "stateful bulk grow 2 -> 4294967295",
        "stateful bulk tgrow 2 -> 4",
        "stateful bulk tgrow 101 -> 4294967295",
        "stateful bulk table_null 5 41 -> 42",
        // memory64 (issue #16 item 4): i64 memory.grow; past the maximum -1; the 2^32-aliasing
        // address and table index trap (`call` lines, replayed in the interpreter); a 4 GiB
        // memory64 memory cannot come from the arena.
        "stateful mem64 grow 1 -> 1",
        "stateful mem64 grow 1 -> 18446744073709551615",
        "call mem64 load 4294967312 trap 2",
        "call mem64 call 4294967297 trap 4",
        "instantiate mem64-huge -> status 3 arena exhausted",
        "instantiate host-unbound -> status 5 unknown import: env.log",
        "load corrupted -> status 4 snapshot rejected",
        "load guard-mode -> status 4 snapshot rejected: snapshot memory mode (checked / guard) \
         differs from the requested one",
        "-byte arena -> status 3 arena exhausted",
        "require signature -> status 10, load -> status 10 snapshot rejected: signatures \
         required, no public key set",
        "resealed bit flips in what host.snap's loader reads: ",
        "resealed bit flips in what bulk.snap's loader reads: ",
        // Bounded execution (issue #18): fuel stops the endless loop (trap 13), the same
        // instance runs the next call (1 unit: its entry), bf_interrupt from a host function
        // stops it again (trap 14), and a snapshot without the checks refuses both.
        "bounds spin -> status 8 trap 13 fuel 0",
        "bounds seven -> status 0 trap 0 fuel 9 result 7",
        "bounds stop_then_spin -> status 8 trap 14 fuel 7",
        "bounds seven -> status 0 trap 0 fuel 6 result 7",
        "bounds unchecked -> set_fuel 2 interrupt 2",
        "done 0",
    ] {
        assert!(stdout.contains(want), "missing `{want}` in:\n{stdout}");
    }
    calls
}

#[test]
fn freestanding_c_program_runs_snapshots() {
    let out = root().join("target").join("firmware").join("freestanding");
    let Some((prog, build)) = build_program(&out, "") else {
        return;
    };
    eprintln!("{build}");
    let o = Command::new(&prog).output().expect("running the program");
    let stdout = String::from_utf8_lossy(&o.stdout);
    eprintln!("{stdout}");
    assert!(o.status.success(), "exit status {:?}:\n{stdout}", o.status);
    let calls = check_output(&stdout);
    assert!(calls >= 11, "only {calls} calls checked:\n{stdout}");
}

#[test]
fn freestanding_c_program_runs_xip_snapshots_in_place() {
    let out = root()
        .join("target")
        .join("firmware")
        .join("freestanding-xip");
    let Some((prog, build)) = build_program(&out, "--xip") else {
        return;
    };
    eprintln!("{build}");
    let o = Command::new(&prog).output().expect("running the program");
    let stdout = String::from_utf8_lossy(&o.stdout);
    eprintln!("{stdout}");
    assert!(o.status.success(), "exit status {:?}:\n{stdout}", o.status);
    let calls = check_output(&stdout);
    assert!(calls >= 11, "only {calls} calls checked:\n{stdout}");
    assert!(
        stdout.contains("load xip snapshot into a code region -> status 0"),
        "{stdout}"
    );
}

/// The library without the relocating path (`--no-default-features`): XIP snapshots still
/// run, and a code region is refused with `BF_ERR_ARG` rather than silently ignored.
#[test]
fn freestanding_c_program_runs_xip_snapshots_with_the_xip_only_library() {
    let out = root()
        .join("target")
        .join("firmware-xip-only")
        .join("freestanding-xip");
    let Some((prog, build)) = build_program_with(&out, "--xip", true) else {
        return;
    };
    eprintln!("{build}");
    let o = Command::new(&prog).output().expect("running the program");
    let stdout = String::from_utf8_lossy(&o.stdout);
    eprintln!("{stdout}");
    assert!(o.status.success(), "exit status {:?}:\n{stdout}", o.status);
    let calls = check_output(&stdout);
    assert!(calls >= 11, "only {calls} calls checked:\n{stdout}");
    assert!(
        stdout.contains(
            "load xip snapshot into a code region -> status 1 this build runs \
             execute-in-place snapshots only"
        ),
        "{stdout}"
    );
}

#[path = "crafted/mod.rs"]
mod crafted;

/// Issue #14 item 4, the C API (`bf_load` over the meta view, copying path): every crafted
/// snapshot with a re-sealed checksum comes back as `BF_ERR_LOAD` (4), nothing instantiated
/// or run; the program runs each in a child process, so a crash is a failed assertion.
#[test]
fn crafted_snapshots_are_refused_by_the_c_api() {
    let out = root()
        .join("target")
        .join("firmware")
        .join("freestanding-crafted");
    let Some((prog, _)) = build_program(&out, "") else {
        return;
    };
    let base = std::fs::read(out.join("fibonacci.snap")).unwrap();
    let run = |name: &str, b: &[u8]| {
        let p = out.join(format!(
            "crafted-{}.snap",
            name.replace([' ', '[', ']', '>'], "_")
        ));
        std::fs::write(&p, b).unwrap();
        let o = Command::new(&prog).arg(&p).arg("fib").output().unwrap();
        (
            o.status,
            String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        )
    };
    let (st, line) = run("intact", &base);
    assert!(st.success(), "{st}");
    assert_eq!(line, "file -> loaded, call 0 6765");
    let mut wrong = Vec::new();
    for (name, b) in crafted::cases(&base, 0) {
        let (st, line) = run(name, &b);
        eprintln!("{name}: {st} {line}");
        if !st.success() || !line.starts_with("file -> status 4 snapshot rejected") {
            wrong.push(format!("{name}: {st} {line}"));
        }
    }
    assert!(wrong.is_empty(), "not refused: {wrong:#?}");
}
