//! Issue #16 item 2: tail calls (`return_call`, `return_call_indirect`) run in constant
//! stack. A million-deep mutual tail recursion completes with the interpreter's frame
//! stack limited to one frame and its value stack to a few dozen slots; the same recursion
//! through plain `call` overflows those limits (so the limits are real).

use bareflow::{CallError, Config, Extern, MemoryMode, Mode, Module, Store, TrapCode, Val};

/// `even`/`odd` by mutual tail recursion (direct and through a table), plus the same with
/// plain calls, and a tail call to a host import.
const WAT: &str = r#"
(module
  (import "host" "add1" (func $add1 (param i32) (result i32)))
  (type $t (func (param i32 i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) $even_i $odd_i)
  ;; Counts how many steps were taken in the i64, so the result depends on every frame.
  (func $even (export "even") (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))
                              (i64.add (local.get 1) (i64.const 1))))))
  (func $odd (param i32 i64) (result i64)
    (local $pad f64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.sub (i64.const 0) (local.get 1)))
      (else (return_call $even (i32.sub (local.get 0) (i32.const 1))
                               (i64.add (local.get 1) (i64.const 2))))))
  (func $even_i (export "even_i") (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_indirect (type $t)
              (i32.sub (local.get 0) (i32.const 1))
              (i64.add (local.get 1) (i64.const 1))
              (i32.const 1)))))
  (func $odd_i (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.sub (i64.const 0) (local.get 1)))
      (else (return_call_indirect (type $t)
              (i32.sub (local.get 0) (i32.const 1))
              (i64.add (local.get 1) (i64.const 2))
              (i32.const 0)))))
  (func $even_c (export "even_c") (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (call $odd_c (i32.sub (local.get 0) (i32.const 1))
                         (i64.add (local.get 1) (i64.const 1))))))
  (func $odd_c (param i32 i64) (result i64)
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.sub (i64.const 0) (local.get 1)))
      (else (call $even_c (i32.sub (local.get 0) (i32.const 1))
                          (i64.add (local.get 1) (i64.const 2))))))
  ;; A tail call out of wasm: the host's result is the caller's.
  (func (export "to_host") (param i32) (result i32)
    (return_call $add1 (i32.mul (local.get 0) (i32.const 2))))
  ;; A tail call through a table entry of the wrong type traps.
  (func (export "bad_type") (result i32)
    (return_call_indirect (result i32) (i32.const 0)))
  (func (export "bad_index") (result i64)
    (return_call_indirect (type $t) (i32.const 0) (i64.const 0) (i32.const 7))))
"#;

/// What `even(n, 0)` returns: `n` steps alternating +1 (from even) and +2 (from odd);
/// the base case negates in `odd`.
fn expected(n: u32) -> i64 {
    let mut acc: i64 = 0;
    let mut even = true;
    for _ in 0..n {
        acc += if even { 1 } else { 2 };
        even = !even;
    }
    if even { acc } else { -acc }
}

fn store(
    mode: Mode,
    memory: MemoryMode,
    depth: usize,
    slots: usize,
) -> (Store, bareflow::InstanceId) {
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    let mut config = Config::new(mode);
    config.memory = memory;
    config.max_call_depth = depth;
    config.max_stack_slots = slots;
    config.tier_up.calls = 2;
    config.tier_up.back_edges = 2;
    let mut store = Store::new(config);
    let add1 = store.host_func(
        bareflow::FuncType {
            params: vec![bareflow::ValType::I32],
            results: vec![bareflow::ValType::I32],
        },
        Box::new(|args, results| {
            let Val::I32(x) = args[0] else {
                return Err(bareflow::Trap::new(TrapCode::HostError));
            };
            results[0] = Val::I32(x + 1);
            Ok(())
        }),
    );
    let inst = store
        .instantiate(&module, &|m, n| {
            (m == "host" && n == "add1").then_some(Extern::Func(add1))
        })
        .expect("instantiate");
    (store, inst)
}

fn call(
    store: &mut Store,
    inst: bareflow::InstanceId,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, CallError> {
    let Some(Extern::Func(f)) = store.export(inst, name) else {
        panic!("export {name}")
    };
    store.call(f, args)
}

/// The interpreter with one frame and 64 value slots: tail calls never need more.
#[test]
fn interp_million_deep_tail_recursion_in_one_frame() {
    let (mut s, inst) = store(Mode::Interp, MemoryMode::Checked, 1, 64);
    for name in ["even", "even_i"] {
        for n in [0u32, 1, 7, 1_000_000, 1_000_001] {
            let r = call(&mut s, inst, name, &[Val::I32(n as i32), Val::I64(0)]);
            assert_eq!(r.expect(name), [Val::I64(expected(n))], "{name}({n})");
        }
    }
    assert_eq!(
        call(&mut s, inst, "to_host", &[Val::I32(20)]).expect("to_host"),
        [Val::I32(41)]
    );
    for (name, code) in [
        ("bad_type", TrapCode::IndirectCallTypeMismatch),
        ("bad_index", TrapCode::UndefinedElement),
    ] {
        match call(&mut s, inst, name, &[]) {
            Err(CallError::Trap(t)) => assert_eq!(t.code, code, "{name}: {t}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    // The same recursion with plain calls needs a frame per step: two frames are too few.
    match call(&mut s, inst, "even_c", &[Val::I32(2), Val::I64(0)]) {
        Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::StackOverflow, "{t}"),
        other => panic!("even_c: {other:?}"),
    }
}

/// Every compiled mode (and guard memory) on a 256 KiB thread: the plain-call recursion
/// exhausts the host stack (a trap, not a crash), the tail-call one completes a million
/// deep, so the compiled tail calls do not grow the host stack.
#[test]
fn compiled_million_deep_tail_recursion_on_a_256k_thread() {
    let mut modes = Vec::new();
    for mode in [
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ] {
        modes.push((mode, MemoryMode::Checked));
        if runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
            modes.push((mode, MemoryMode::Guard));
        }
    }
    for (mode, memory) in modes {
        let what = format!("{mode:?} {memory:?}");
        let label = what.clone();
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                // The interpreter (tiered mode's first tier) gets two frames: enough for
                // the entry frame and a call, never for a recursion.
                let (mut s, inst) = store(mode, memory, 2, 1 << 10);
                for round in 0..2 {
                    for name in ["even", "even_i"] {
                        for n in [0u32, 1, 7, 1_000_000, 1_000_001] {
                            let r = call(&mut s, inst, name, &[Val::I32(n as i32), Val::I64(0)]);
                            assert_eq!(
                                r.unwrap_or_else(|e| panic!(
                                    "{what} {name}({n}) round {round}: {e}"
                                )),
                                [Val::I64(expected(n))],
                                "{what} {name}({n})"
                            );
                        }
                    }
                    assert_eq!(
                        call(&mut s, inst, "to_host", &[Val::I32(20)]).expect("to_host"),
                        [Val::I32(41)],
                        "{what}"
                    );
                    for (name, code) in [
                        ("bad_type", TrapCode::IndirectCallTypeMismatch),
                        ("bad_index", TrapCode::UndefinedElement),
                    ] {
                        match call(&mut s, inst, name, &[]) {
                            Err(CallError::Trap(t)) => {
                                assert_eq!(t.code, code, "{what} {name}: {t}")
                            }
                            other => panic!("{what} {name}: {other:?}"),
                        }
                    }
                    match call(&mut s, inst, "even_c", &[Val::I32(1_000_000), Val::I64(0)]) {
                        Err(CallError::Trap(t)) => {
                            assert_eq!(t.code, TrapCode::StackOverflow, "{what}: {t}")
                        }
                        other => panic!("{what} even_c: {other:?}"),
                    }
                }
            })
            .expect("spawn")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        eprintln!("{label}: ok");
    }
}
