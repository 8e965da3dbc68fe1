//! Wasm backtraces on traps (issue #20 item 8): `Trap::backtrace` and `bareflow run`'s error
//! line, with a three-deep call chain `a -> b -> c` whose innermost function traps.

use std::process::Command;

use bareflow::{CallError, Config, Extern, MemoryMode, Mode, Module, Store, Trap, TrapCode};

const CHAIN: &str = r#"(module
  (func $c (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $b (param i32) (result i32) (i32.add (call $c (local.get 0)) (i32.const 1)))
  (func $a (export "a") (param i32) (result i32) (i32.add (call $b (local.get 0)) (i32.const 2))))"#;

/// The same chain with `b` and `c` too large for snapshot code's inliner (`aot/inline.rs`:
/// callees of at most 40 CLIF instructions), so every call stays a machine frame; `c` traps
/// on a memory access out of bounds (a guard-page fault in guard mode) when its argument is 0.
fn big_chain() -> String {
    let work =
        "(local.set 1 (i32.add (i32.mul (local.get 1) (i32.const 3)) (local.get 0)))\n".repeat(12);
    format!(
        r#"(module
  (memory 1)
  (func $c (param i32) (result i32) (local i32)
    {work}
    (i32.load (i32.add (i32.and (local.get 1) (i32.const 0xfc))
                       (i32.mul (i32.eqz (local.get 0)) (i32.const 0x7fff0000)))))
  (func $b (param i32) (result i32) (local i32)
    {work}
    (i32.add (call $c (local.get 0)) (i32.and (local.get 1) (i32.const 0))))
  (func $a (export "a") (param i32) (result i32) (i32.add (call $b (local.get 0)) (i32.const 2))))"#
    )
}

fn trap_in(mode: Mode) -> Trap {
    trap_in_with(CHAIN, Config::new(mode), TrapCode::IntegerDivideByZero)
}

fn trap_in_with(wat: &str, config: Config, code: TrapCode) -> Trap {
    let mode = config.mode;
    let module = Module::from_bytes(wat.as_bytes()).unwrap();
    let mut store = Store::new(config);
    let inst = store.instantiate(&module, &|_, _| None).unwrap();
    let Some(Extern::Func(a)) = store.export(inst, "a") else {
        panic!("no export a")
    };
    assert_eq!(store.call(a, &[bareflow::Val::I32(1)]).unwrap().len(), 1);
    match store.call(a, &[bareflow::Val::I32(0)]) {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, code, "{mode:?}");
            t
        }
        other => panic!("{mode:?}: expected a trap, got {other:?}"),
    }
}

fn names(t: &Trap) -> Vec<String> {
    t.backtrace().iter().map(|f| f.to_string()).collect()
}

#[test]
fn interp_backtrace_is_the_whole_chain() {
    let t = trap_in(Mode::Interp);
    assert_eq!(names(&t), ["c", "b", "a"], "{t:?}");
    assert_eq!(t.backtrace()[0].func, 0);
    assert_eq!(t.backtrace()[2].func, 2);
}

/// Compiled code keeps frame pointers; the raise path walks them (`trap::record_frames`) and
/// the store maps the return addresses to functions: the whole chain in every compiled mode,
/// guard-page faults (raised from the signal handler) included.
#[test]
fn compiled_modes_give_the_whole_chain() {
    let mut configs = Vec::new();
    for mode in [
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ] {
        configs.push((format!("{mode:?}"), Config::new(mode)));
    }
    for mode in [Mode::JitSpeed, Mode::Snapshot] {
        let mut c = Config::new(mode);
        c.memory = MemoryMode::Guard;
        configs.push((format!("{mode:?} guard"), c));
    }
    let wat = big_chain();
    for (name, config) in configs {
        let t = trap_in_with(&wat, config, TrapCode::MemoryOutOfBounds);
        assert_eq!(names(&t), ["c", "b", "a"], "{name}: {t:?}");
        assert_eq!(
            t.backtrace().iter().map(|f| f.func).collect::<Vec<_>>(),
            [0, 1, 2],
            "{name}"
        );
    }
    // The JIT does not inline: the small chain is whole there too.
    for mode in [Mode::JitNone, Mode::JitSpeed] {
        assert_eq!(names(&trap_in(mode)), ["c", "b", "a"], "{mode:?}");
    }
}

/// Snapshot code inlines small callees (`b` into `a` here): an inlined call has no frame of
/// its own, so the chain skips it; the trapping function still comes first (its traps record
/// its own location even when inlined) and the outermost frame last.
#[test]
fn snapshot_chain_skips_inlined_frames() {
    for mode in [Mode::Snapshot, Mode::SnapshotXip] {
        assert_eq!(names(&trap_in(mode)), ["c", "a"], "{mode:?}");
    }
}

#[test]
fn cli_error_line_prints_the_backtrace() {
    let dir = tempfile_dir();
    let wat = dir.join("chain.wat");
    std::fs::write(&wat, CHAIN).unwrap();
    for mode in ["interp", "jit-none", "jit-speed"] {
        let out = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["run", "--mode", mode, "--invoke", "a"])
            .arg(&wat)
            .arg("0")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{mode}: {err}");
        assert!(
            lines[0].starts_with("error: calling `a`: integer divide by zero (in function c"),
            "{mode}: {err}"
        );
        assert!(
            lines[0].ends_with("; wasm backtrace (innermost first): c <- b <- a"),
            "{mode}: {err}"
        );
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bareflow-bt-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
