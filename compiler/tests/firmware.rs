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
    if ["host", "bulk", "mem64", "api", "multimem"].contains(&snap) {
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
    interpret_trap(snap, export, args).map_err(|t| t.code as u32)
}

/// [`interpret`], with the whole trap (its function and code offset).
fn interpret_trap(snap: &str, export: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
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
        Err(bareflow::CallError::Trap(t)) => Err(t),
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
        // Multi-memory (issue #16 item 3): the host's write into memory 1 is read by wasm,
        // memory 1 grows once to its maximum (2 pages), then the address 70000 that
        // trapped on memory 1 (`call` lines, replayed in the interpreter) is in bounds.
        "stateful multimem load1 100 -> 9",
        "stateful multimem grow1 1 -> 1",
        "stateful multimem grow1 1 -> 4294967295",
        "stateful multimem load1 70000 -> 0",
        "call multimem load1 70000 trap 2",
        "call multimem store2_copy 8 1432778632 40 -> 1432778632",
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
    check_api_lines(stdout);
    calls
}

/// The module and instance view of the C API (issue #20 item 5; main.c's `api_checks` over
/// api.wat): listing with signatures, checked bindings, globals, tables, memory in place and
/// trap locations, each with its failing cases; trap locations agree with the interpreter.
fn check_api_lines(stdout: &str) {
    for want in [
        "api import env.log kind 0 index 0 (iI)",
        "api exports 16",
        "api export mem kind 3 index 0",
        "api export tab kind 2 index 0",
        "api export refs kind 2 index 1",
        "api export counter kind 1 index 0",
        "api export fref kind 1 index 3",
        "api export read_scale kind 0 index 3 ()F",
        "api export call_slot kind 0 index 4 (ii)i",
        "api export log kind 0 index 9 (i)",
        "api signature small buffer -> 9, no such function -> 7",
        "api bind_typed env.log (ii) -> status 11 signature mismatch: env.log is (iI), not (ii)",
        "api bind_typed env.log (iI)i -> status 11 signature mismatch: env.log is (iI), not (iI)i",
        "api bind_typed env.log (I) -> status 11",
        "api bind_typed env.nope (iI) -> status 7 no import env.nope",
        "api bind_typed env.log (iI -> status 1 malformed signature: (iI",
        "api bind_typed env.log (iX) -> status 1 malformed signature: (iX)",
        "api bind_typed env.log (iI) -> status 0",
        "api global counter -> status 0 type 0 mutable 1 bits 7",
        "api global limit -> status 0 type 1 mutable 0 bits 1000",
        // 1.5 as f64 bits; fref holds $double, function 1.
        "api global scale -> status 0 type 3 mutable 1 bits 4609434218613702656",
        "api global fref -> status 0 type 129 mutable 1 bits 1",
        "api global_set counter i32 41 -> status 0",
        "api global_set counter i64 41 -> status 11 value of another type than global counter",
        "api global_set limit i64 5 -> status 11 global is immutable: limit",
        "api global_set scale f64 2.25 -> status 0",
        "api global_set fref null -> status 0",
        "api global_set fref func 999 -> status 7",
        "api global_set nope i32 41 -> status 7 no export named nope",
        "api global_set mem i32 41 -> status 11 export is of another kind: mem",
        // What the host set, read by wasm (2.25 as f64 bits).
        "api call read_counter -> 41 location 7",
        "api call read_scale -> 4612248968380809216 location 7",
        "api table tab size -> status 0 3",
        "api table tab 0 -> status 0 func 1 call(21) -> status 0 42",
        "api table tab 1 -> status 0 func 5 call(21) -> status 0 4",
        "api table tab 2 -> status 0 func 4294967295",
        "api table tab 3 -> status 9 func 7777",
        "api table refs get -> status 11, table nope -> status 7, table counter -> status 11",
        "api memory 0 -> status 0 length 65536",
        // Bytes 4, 3, 2, 1 written through the pointer at 200, read by wasm's i32.load.
        "api call load 200 -> 16909060 location 7",
        "api memory 1 -> status 7",
        "api call grow 1 -> 1 location 7",
        "api memory 0 after grow -> status 0 length 131072 byte 200 4",
        "api call div 7 0 trap 7 trap: integer divide by zero (in function div, at code offset 0x",
        "api call outer 0 trap 7 trap: integer divide by zero (in function #5, at code offset 0x",
        "api call call_slot 2 5 trap 5 trap: uninitialized element (in function call_slot, at",
        // A host function's error has no location in compiled code.
        "api call log 99 trap 11 trap: host function error location 7",
        "api call div 7 2 -> 3 location 7",
    ] {
        assert!(stdout.contains(want), "missing `{want}` in:\n{stdout}");
    }
    // Every trap location is the interpreter's (function index and wasm code offset).
    let mut traps = 0;
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("api call ") else {
            continue;
        };
        let Some((_, loc)) = rest.split_once(" location 0 func ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let end = words.iter().position(|w| *w == "trap").unwrap();
        let args: Vec<u64> = words[1..end].iter().map(|w| w.parse().unwrap()).collect();
        let (func, offset) = loc.split_once(" offset ").unwrap();
        let t = interpret_trap("api", words[0], &args).expect_err(line);
        assert_eq!(
            (t.func, t.offset),
            (Some(func.parse().unwrap()), Some(offset.parse().unwrap())),
            "{line}"
        );
        traps += 1;
    }
    assert_eq!(traps, 3, "{stdout}");
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
