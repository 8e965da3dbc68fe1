//! The embedding surface end to end: a host error's message on `bareflow run`'s error
//! line (through the real binary), and the runnable examples of `compiler/examples/`, built
//! and executed here (each example's `main` body is a `run()` function this test calls).

use std::process::Command;

/// A WASI function called by a module without a `memory` export is a host error whose
/// message names the function and reaches the CLI's error line, in every mode.
#[test]
fn host_error_message_reaches_the_cli() {
    let dir = std::env::temp_dir().join(format!("bareflow-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("nomem.wat");
    std::fs::write(
        &wat,
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (func (export "_start") (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    for mode in [
        "interp",
        "jit-none",
        "jit-speed",
        "tiered",
        "snapshot",
        "snapshot-xip",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["run", "--mode", mode])
            .arg(&wat)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{mode}");
        assert!(
            err.contains(
                "host function error: wasi_snapshot_preview1::fd_write: the calling module exports no memory named `memory`"
            ),
            "{mode}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{mode}: one error line: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

