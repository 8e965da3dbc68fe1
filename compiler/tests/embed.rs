//! The embedding surface end to end: a host error's message on `bareflow run`'s error
//! line (through the real binary), and the runnable examples of `compiler/examples/`, built
//! and executed here (each example's `main` body is a `run()` function this test calls).

use std::path::Path;
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

#[allow(dead_code)]
#[path = "../examples/embed.rs"]
mod embed_example;
#[allow(dead_code)]
#[path = "../examples/host_log.rs"]
mod host_log_example;
#[allow(dead_code)]
#[path = "../examples/traps.rs"]
mod traps_example;

#[test]
fn example_embed() {
    let out = embed_example::run().expect("example runs");
    assert_eq!(out.len(), bareflow::Mode::ALL.len());
    for (mode, r) in out {
        assert_eq!(r, vec![bareflow::Val::I32(6765)], "{mode}");
    }
}

#[test]
fn example_host_log() {
    let got = host_log_example::run().expect("example runs");
    assert_eq!(got, ["hello from the guest", "and again"]);
}

#[test]
fn example_traps() {
    let (wasm, host, after) = traps_example::run().expect("example runs");
    assert!(
        wasm.starts_with("integer divide by zero (in function div"),
        "{wasm}"
    );
    assert!(
        host.starts_with("host function error: negative input -3"),
        "{host}"
    );
    assert_eq!(after, vec![bareflow::Val::I32(3)]);
}

#[allow(dead_code)]
#[path = "../../runtime-loader/examples/run_snapshot.rs"]
mod run_snapshot_example;

/// `runtime-loader/examples/run_snapshot.rs` on `guest.wat` compiled by the real binary,
/// in both memory modes; and the safe API's typed errors on bad input.
#[test]
fn example_run_snapshot() {
    use runtime_loader::embed::{
        CallError, Imports, Instance, InstantiateError, Snapshot, Trap, Val, ValType,
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("bareflow-embed-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for memory in ["checked", "guard"] {
        let snap = dir.join(format!("guest-{memory}.snap"));
        let st = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["compile", "--memory", memory, "-o"])
            .arg(&snap)
            .arg(root.join("runtime-loader/examples/guest.wat"))
            .status()
            .unwrap();
        assert!(st.success(), "{memory}");
        let bytes = std::fs::read(&snap).unwrap();
        let out = run_snapshot_example::run(&bytes).expect("example runs");
        assert_eq!(out.main, vec![Val::I32(42)], "{memory}");
        assert_eq!(out.logged, ["hello from the snapshot"], "{memory}");
        assert!(
            out.trap.starts_with("integer divide by zero"),
            "{memory}: {}",
            out.trap
        );
        assert_eq!(out.after, vec![Val::I32(3)], "{memory}");

        // Typed errors: bad bytes, a missing import, a wrong signature, bad arguments, a
        // host error's message, an out-of-bounds host read.
        assert!(Snapshot::load(&bytes[..bytes.len() / 2]).is_err());
        let s = Snapshot::load(&bytes).unwrap();
        assert!(matches!(
            Instance::new(&s, Imports::new()),
            Err(InstantiateError::Unlinkable(m)) if m == "unknown import env::log"
        ));
        let mut imports = Imports::new();
        imports.func("env", "log", &[ValType::I32], &[], |_, _, _| Ok(()));
        assert!(matches!(
            Instance::new(&s, imports),
            Err(InstantiateError::Unlinkable(m)) if m.starts_with("incompatible import type")
        ));
        let mut imports = Imports::new();
        imports.func(
            "env",
            "log",
            &[ValType::I32, ValType::I32],
            &[],
            |c, a, _| {
                let Val::I32(len) = a[1] else { unreachable!() };
                let mut buf = vec![0; len as usize];
                c.read(65_530, &mut buf)
                    .map_err(|e| Trap::host(e.to_string()))
            },
        );
        let mut inst = Instance::new(&s, imports).unwrap();
        assert!(matches!(
            inst.call("nope", &[]),
            Err(CallError::NoSuchFunction(_))
        ));
        assert!(matches!(
            inst.call("main", &[Val::I64(1)]),
            Err(CallError::BadArguments(_))
        ));
        match inst.call("main", &[Val::I32(1)]) {
            Err(CallError::Trap(t)) => assert_eq!(
                t.message.as_deref(),
                Some("out of bounds memory access: 23 bytes at 0xfffa (memory size 0x10000)"),
                "{memory}"
            ),
            other => panic!("{memory}: {other:?}"),
        }
        // Two live instances of one snapshot, faulting in turn (guard mode: the fault
        // handler raises into the snapshot's one trap context, nested or not).
        let mut other = Instance::new(&s, {
            let mut i = Imports::new();
            i.func(
                "env",
                "log",
                &[ValType::I32, ValType::I32],
                &[],
                |_, _, _| Ok(()),
            );
            i
        })
        .unwrap();
        for _ in 0..2 {
            for i in [&mut inst, &mut other] {
                match i.call("load", &[Val::I32(70_000)]) {
                    Err(CallError::Trap(t)) => {
                        assert_eq!(
                            t.code,
                            runtime_loader::TrapCode::MemoryOutOfBounds,
                            "{memory}"
                        )
                    }
                    r => panic!("{memory}: {r:?}"),
                }
                assert_eq!(
                    i.call("load", &[Val::I32(8)]).unwrap(),
                    vec![Val::I32(0x6c6c6568)]
                );
            }
        }
        inst.write(0, b"ab").unwrap();
        let mut two = [0; 2];
        inst.read(0, &mut two).unwrap();
        assert_eq!(&two, b"ab");
        assert!(inst.read(65_535, &mut two).is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Multi-memory through the Rust loader's safe API (issue #16 item 3): a snapshot with three
/// memories (the third memory64), compiled by the real binary in both memory modes; the
/// host reads memory 1 (its data segment, a wasm store, a copy from memory 2) and writes
/// it, an address in bounds on memory 0 but not on memory 1 traps there until memory 1
/// grows.
#[test]
fn rust_loader_reads_memory_1() {
    use runtime_loader::embed::{CallError, Imports, Instance, Snapshot, Val};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("bareflow-embed-mm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for memory in ["checked", "guard"] {
        let snap = dir.join(format!("multimem-{memory}.snap"));
        let st = Command::new(env!("CARGO_BIN_EXE_bareflow"))
            .args(["compile", "--memory", memory, "-o"])
            .arg(&snap)
            .arg(root.join("runtime-loader/examples/freestanding/multimem.wat"))
            .status()
            .unwrap();
        assert!(st.success(), "{memory}");
        let bytes = std::fs::read(&snap).unwrap();
        let s = Snapshot::load(&bytes).unwrap();
        let mut inst = Instance::new(&s, Imports::new()).unwrap();
        let mut b = [0u8; 4];
        inst.read_at(1, 16, &mut b).unwrap();
        assert_eq!(
            u32::from_le_bytes(b),
            42,
            "{memory}: data segment in memory 1"
        );
        inst.read(16, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 0, "{memory}: memory 0 untouched");
        assert_eq!(
            inst.call("store1", &[Val::I32(32), Val::I32(77)]).unwrap(),
            [Val::I32(77)]
        );
        inst.read_at(1, 32, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 77, "{memory}");
        let args = [Val::I64(8), Val::I32(0x5566_7788), Val::I32(40)];
        inst.call("store2_copy", &args).unwrap();
        inst.read_at(1, 40, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 0x5566_7788, "{memory}");
        inst.write_at(1, 100, &9u32.to_le_bytes()).unwrap();
        assert_eq!(inst.call("load1", &[Val::I32(100)]).unwrap(), [Val::I32(9)]);
        assert_eq!(inst.memory_data_at(0).map(<[u8]>::len), Some(2 * 65536));
        assert_eq!(inst.memory_data_at(1).map(<[u8]>::len), Some(65536));
        assert!(inst.memory_data_at(3).is_none());
        assert!(inst.read_at(1, 65536, &mut b[..1]).is_err());
        assert!(inst.read_at(3, 0, &mut b[..1]).is_err());
        assert!(matches!(
            inst.call("load1", &[Val::I32(70000)]),
            Err(CallError::Trap(_))
        ));
        assert_eq!(
            inst.call("load0", &[Val::I32(70000)]).unwrap(),
            [Val::I32(0)]
        );
        assert_eq!(inst.call("grow1", &[Val::I32(1)]).unwrap(), [Val::I32(1)]);
        assert_eq!(
            inst.call("load1", &[Val::I32(70000)]).unwrap(),
            [Val::I32(0)]
        );
        assert_eq!(inst.memory_data_at(1).map(<[u8]>::len), Some(2 * 65536));
    }
}
