//! Issue #20, items 7 and 8 for `bareflow-load`, in the shipped build (no std, `min-size`,
//! `--features alloc,unix`): traps name the function and wasm code offset as `bareflow run`
//! does; `bareflow-load [OPTIONS] SNAP [ARGS...]`, the same grammar as `bareflow run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Builds the shipped loader once per test binary.
fn loader() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-load");
        let out = Command::new(&cargo)
            .args(["build", "-p", "runtime-loader", "--bin", "bareflow-load"])
            .args([
                "--offline",
                "--profile",
                "min-size",
                "--no-default-features",
            ])
            .args(["--features", "alloc,unix"])
            .arg("--target-dir")
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("min-size/bareflow-load")
    })
}

/// Compiles `wat` (named `name`) to a snapshot with `bareflow compile`.
fn compile(name: &str, wat: &str) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-load-snaps");
    std::fs::create_dir_all(&dir).unwrap();
    let w = dir.join(format!("{name}.wat"));
    std::fs::write(&w, wat).unwrap();
    let snap = dir.join(format!("{name}.snap"));
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .arg("compile")
        .arg(&w)
        .arg("-o")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    snap.to_str().unwrap().to_string()
}

fn load(args: &[&str]) -> Output {
    Command::new(loader()).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const TRAPS: &str = r#"(module
  (memory 1)
  (func $inner (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
  (func (export "outer") (param i32) (result i32) local.get 0 call $inner)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "oob") (result i32) i32.const 100000 i32.load))"#;

/// Before: `bareflow-load: trap: integer divide by zero`, nothing more.
#[test]
fn item8_load_traps_name_the_function_and_offset() {
    let s = compile("traps", TRAPS);
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(["run", "--mode", "jit-none", "--invoke", "outer"])
        .arg(s.replace(".snap", ".wat"))
        .arg("0")
        .output()
        .unwrap();
    // `error: calling `outer`: MESSAGE (in function inner, at code offset 0x..)`
    let run_err = stderr(&o);
    let loc = &run_err[run_err.find(" (in function").expect("located")..];
    let o = load(&[&s, "--invoke", "outer", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("bareflow-load: trap: integer divide by zero{loc}")
    );
    assert!(
        loc.contains("in function inner, at code offset 0x"),
        "{loc}"
    );
    let o = load(&[&s, "--invoke", "oob"]);
    assert!(
        stderr(&o).contains("out of bounds memory access (in function oob, at code offset 0x"),
        "{}",
        stderr(&o)
    );
    // A trap in the start function is located too.
    let s = compile("start", "(module (func $boot unreachable) (start $boot))");
    let o = load(&[&s]);
    assert!(
        stderr(&o)
            .starts_with("bareflow-load: trap: unreachable (in function boot, at code offset 0x"),
        "{}",
        stderr(&o)
    );
}

/// The wasm backtrace of the frame-pointer chain, as `bareflow run` prints it (before: the
/// trapping function only). `b` and `c` are too large for the snapshot inliner, so all three
/// calls are machine frames.
#[test]
fn item8_load_prints_the_wasm_backtrace() {
    let work =
        "(local.set 1 (i32.add (i32.mul (local.get 1) (i32.const 3)) (local.get 0)))\n".repeat(12);
    let wat = format!(
        r#"(module
  (func $c (param i32) (result i32) (local i32) {work} (i32.div_u (local.get 1) (local.get 0)))
  (func $b (param i32) (result i32) (local i32) {work}
    (i32.add (call $c (local.get 0)) (i32.and (local.get 1) (i32.const 0))))
  (func $a (export "a") (param i32) (result i32) (i32.add (call $b (local.get 0)) (i32.const 2))))"#
    );
    let s = compile("chain", &wat);
    let o = load(&[&s, "--invoke", "a", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "bareflow-load: trap: integer divide by zero (in function c, at code offset 0x"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("; wasm backtrace (innermost first): c <- b <- a\n"),
        "{err}"
    );
}

/// Before: options had to follow SNAP, `--` was refused and `--version` said "cannot read
/// snapshot file".
#[test]
fn item7_options_before_snap_everything_after_to_the_guest() {
    let s = compile("grammar", TRAPS);
    let ok = |o: &Output, want: &str| {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        assert_eq!(stdout(o), want);
    };
    ok(&load(&["--invoke", "add", &s, "2", "3"]), "5\n");
    ok(&load(&["--invoke", "add", "--", &s, "2", "-3"]), "-1\n");
    // Words after SNAP belong to the guest, even when they look like options.
    let o = load(&["--invoke", "add", &s, "1", "--fuel"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("argument 2: `--fuel` is not a valid i32"),
        "{}",
        stderr(&o)
    );
    // The old spelling still runs (scripts), but not after an explicit `--`.
    ok(&load(&[&s, "--invoke", "add", "4", "5"]), "9\n");
    let o = load(&["--", &s, "--invoke", "add", "4", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("need --invoke NAME"), "{}", stderr(&o));
    // --version and --help answer without a snapshot.
    let o = load(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("bareflow-load "), "{}", stdout(&o));
    let o = load(&["-h"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("usage: bareflow-load [OPTIONS] [--] SNAPSHOT [ARGS...]"));
    // Usage errors exit 2.
    for bad in [&["--bogus", &s][..], &["--invoke"], &[]] {
        assert_eq!(load(bad).status.code(), Some(2), "{bad:?}");
    }
    // This build has no WASI: its options say which build has.
    let o = load(&["--dir", ".", &s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--dir needs WASI: build with --features tiny-wasi"),
        "{}",
        stderr(&o)
    );
}

/// Before: "modules with imports cannot run in bareflow-load", whatever the import.
#[test]
fn item7_missing_imports_are_named_with_the_build_that_provides_them() {
    let s = compile(
        "wasi-import",
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#,
    );
    let o = load(&[&s]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "bareflow-load: error: the snapshot imports `wasi_snapshot_preview1`.`fd_write`: \
         needs WASI: build with --features tiny-wasi\n"
    );
    let s = compile(
        "env-import",
        r#"(module (import "env" "log" (func (param i32))))"#,
    );
    let o = load(&[&s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("imports `env`.`log`: bareflow-load provides only WASI preview1"),
        "{}",
        stderr(&o)
    );
}

const V128: &str = r#"(module
  (func (export "k") (result v128) v128.const i32x4 1 2 3 0xdeadbeef)
  (func (export "add") (param v128 v128) (result v128) local.get 0 local.get 1 i32x4.add)
  (func (export "mix") (param i32 v128 i64) (result i64 v128 i32)
    local.get 2 local.get 1 local.get 0 i32x4.splat i32x4.add local.get 0))"#;

/// `bareflow run --invoke` with the same WAT and arguments (its stdout).
fn run_invoke(wat: &str, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(["run", "--mode", "jit-none", "--invoke"])
        .arg(args[0])
        .arg(wat)
        .args(&args[1..])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// Issue #22 for `bareflow-load --invoke`: v128 arguments in `bareflow run`'s syntax (`0x` and
/// hex digits, lane 0 lowest) and v128 results printed as it prints them (`0x` + 32 digits),
/// each taking two slots. Before: "argument 1: `0x..` is not a valid v128" and results
/// printed as the word `v128` (and a v128 result of a function without parameters was
/// written past a one-slot buffer).
#[test]
fn v128_invoke_arguments_and_results_agree_with_bareflow_run() {
    let s = compile("v128", V128);
    let wat = s.replace(".snap", ".wat");
    for args in [
        &["k"][..],
        &["add", "0x1", "0xffffffff000000020000000300000004"],
        &["add", "0x0000000000000000000000000000000000ff", "0xff"],
        &["mix", "7", "0x0000000a00000014000000280000ffff", "-9"],
    ] {
        let want = run_invoke(&wat, args);
        let mut a = vec![s.as_str(), "--invoke"];
        a.extend_from_slice(args);
        let o = load(&a);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{args:?}");
    }
    assert_eq!(
        stdout(&load(&[&s, "--invoke", "k"])),
        "0xdeadbeef000000030000000200000001\n"
    );
    assert_eq!(
        stdout(&load(&[&s, "--invoke", "mix", "1", "0x5", "2"])),
        "2\n0x00000001000000010000000100000006\n1\n"
    );
    // Refused like `bareflow run` refuses them: no `0x`, a non-hex digit, more than 128 bits.
    for bad in [
        "5",
        "0x",
        "0xg",
        "0x1_0",
        "0x100000000000000000000000000000000",
    ] {
        let o = load(&[&s, "--invoke", "add", bad, "0x0"]);
        assert_eq!(o.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&o).contains("is not a valid v128"),
            "{bad}: {}",
            stderr(&o)
        );
        let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["run", "--mode", "jit-none", "--invoke", "add"])
            .args([&wat, bad, "0x0"])
            .output()
            .unwrap();
        assert!(!o.status.success(), "bareflow run accepted {bad}");
    }
}
