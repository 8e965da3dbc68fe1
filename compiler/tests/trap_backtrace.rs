//! Wasm backtraces on traps (issue #20 item 8): `Trap::backtrace` and `bareflow run`'s error
//! line, with a three-deep call chain `a -> b -> c` whose innermost function traps.

use std::process::Command;

use bareflow::{CallError, Config, Extern, Mode, Module, Store, Trap, TrapCode};

const CHAIN: &str = r#"(module
  (func $c (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $b (param i32) (result i32) (i32.add (call $c (local.get 0)) (i32.const 1)))
  (func $a (export "a") (param i32) (result i32) (i32.add (call $b (local.get 0)) (i32.const 2))))"#;

fn trap_in(mode: Mode) -> Trap {
    let module = Module::from_bytes(CHAIN.as_bytes()).unwrap();
    let mut store = Store::new(Config::new(mode));
    let inst = store.instantiate(&module, &|_, _| None).unwrap();
    let Some(Extern::Func(a)) = store.export(inst, "a") else {
        panic!("no export a")
    };
    assert_eq!(store.call(a, &[bareflow::Val::I32(1)]).unwrap().len(), 1);
    match store.call(a, &[bareflow::Val::I32(0)]) {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::IntegerDivideByZero);
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

#[test]
fn compiled_modes_name_the_trapping_function_first() {
    // Compiled code has no frame-pointer walk yet: the backtrace is the trapping function.
    for mode in [Mode::JitSpeed, Mode::Snapshot] {
        let t = trap_in(mode);
        assert_eq!(
            names(&t).first().map(String::as_str),
            Some("c"),
            "{mode:?}: {t:?}"
        );
    }
}

#[test]
fn cli_error_line_prints_the_backtrace() {
    let dir = tempfile_dir();
    let wat = dir.join("chain.wat");
    std::fs::write(&wat, CHAIN).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(["run", "--mode", "interp", "--invoke", "a"])
        .arg(&wat)
        .arg("0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: calling `a`: integer divide by zero (in function c"),
        "{err}"
    );
    assert!(
        lines[0].ends_with("; wasm backtrace (innermost first): c <- b <- a"),
        "{err}"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bareflow-bt-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
