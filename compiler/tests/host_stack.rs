//! Issue #14 item 3: deep recursion on a small host thread stack traps "call stack
//! exhausted" in every compiled mode (and guard-page memory) instead of overflowing the
//! thread's real stack (SIGSEGV). The stack limit is derived from the calling thread's stack
//! (`pthread_getattr_np`) minus `trap::HOST_STACK_MARGIN`; the instance stays usable.

use bareflow::{CallError, Config, Extern, MemoryMode, Mode, Module, Store, TrapCode, Val};

const REC: &str = r#"
(module
  (memory 1)
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    call $rec)
  (func $down (export "down") (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get 0
      i32.const 1
      i32.sub
      call $down
      i32.const 1
      i32.add
    end)
  (func (export "ok") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add))
"#;

fn call(
    store: &mut Store,
    inst: bareflow::InstanceId,
    name: &str,
    arg: i32,
) -> Result<Vec<Val>, CallError> {
    let Some(Extern::Func(f)) = store.export(inst, name) else {
        panic!("export {name}")
    };
    store.call(f, &[Val::I32(arg)])
}

/// Runs the recursion checks for `mode`/`memory` on a fresh thread with `stack` bytes.
fn on_small_stack(mode: Mode, memory: MemoryMode, stack: usize) {
    let what = format!("{mode:?} {memory:?} stack {} KiB", stack >> 10);
    let t = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let module = Module::from_bytes(REC.as_bytes()).expect("module");
            let mut config = Config::new(mode);
            config.memory = memory;
            // Tier up quickly, so the recursion runs compiled.
            config.tier_up.calls = 2;
            config.tier_up.back_edges = 2;
            let mut store = Store::new(config);
            let inst = store
                .instantiate(&module, &|_, _| None)
                .expect("instantiate");
            for round in 0..3 {
                match call(&mut store, inst, "rec", 0) {
                    Err(CallError::Trap(t)) => {
                        assert_eq!(t.code, TrapCode::StackOverflow, "round {round}: {t}");
                        assert!(t.to_string().contains("call stack exhausted"), "{t}");
                    }
                    other => panic!("round {round}: {other:?}"),
                }
                assert_eq!(
                    call(&mut store, inst, "ok", 41).expect("ok"),
                    [Val::I32(42)]
                );
                assert_eq!(
                    call(&mut store, inst, "down", 100).expect("down"),
                    [Val::I32(100)]
                );
            }
        })
        .expect("spawn");
    if let Err(e) = t.join() {
        std::panic::resume_unwind(e);
    }
    eprintln!("{what}: ok");
}

fn modes() -> Vec<(Mode, MemoryMode)> {
    let mut v = Vec::new();
    for mode in [
        Mode::Interp,
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ] {
        v.push((mode, MemoryMode::Checked));
        if mode != Mode::Interp && runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
            v.push((mode, MemoryMode::Guard));
        }
    }
    v
}

#[test]
fn deep_recursion_traps_on_a_256k_thread() {
    for (mode, mem) in modes() {
        on_small_stack(mode, mem, 256 << 10);
    }
}

#[test]
fn deep_recursion_traps_on_a_512k_thread() {
    for (mode, mem) in modes() {
        on_small_stack(mode, mem, 512 << 10);
    }
}

#[test]
fn deep_recursion_traps_on_a_1m_thread() {
    for (mode, mem) in modes() {
        on_small_stack(mode, mem, 1 << 20);
    }
}

/// `Config::max_wasm_stack` bounds how deep wasm may go: a small budget traps at a smaller
/// depth than the default one.
#[test]
fn max_wasm_stack_bounds_the_depth() {
    let module = Module::from_bytes(REC.as_bytes()).expect("module");
    let mut config = Config::new(Mode::JitSpeed);
    config.max_wasm_stack = 64 << 10;
    let mut store = Store::new(config);
    let inst = store
        .instantiate(&module, &|_, _| None)
        .expect("instantiate");
    assert_eq!(
        call(&mut store, inst, "down", 100).expect("down"),
        [Val::I32(100)]
    );
    match call(&mut store, inst, "down", 100_000) {
        Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::StackOverflow),
        other => panic!("{other:?}"),
    }
    let mut store = Store::new(Config::new(Mode::JitSpeed));
    let inst = store
        .instantiate(&module, &|_, _| None)
        .expect("instantiate");
    assert_eq!(
        call(&mut store, inst, "down", 10_000).expect("down"),
        [Val::I32(10_000)]
    );
}

/// `max_wasm_stack = 0` keeps the stack check (the default budget), it does not switch it off.
#[test]
fn zero_max_wasm_stack_means_the_default() {
    let t = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            let module = Module::from_bytes(REC.as_bytes()).expect("module");
            let mut config = Config::new(Mode::JitSpeed);
            config.max_wasm_stack = 0;
            let mut store = Store::new(config);
            let inst = store
                .instantiate(&module, &|_, _| None)
                .expect("instantiate");
            match call(&mut store, inst, "rec", 0) {
                Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::StackOverflow),
                other => panic!("{other:?}"),
            }
        })
        .unwrap();
    t.join().unwrap();
}
