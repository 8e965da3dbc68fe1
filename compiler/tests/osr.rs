//! On-stack replacement (tiered mode): a hot loop in an interpreted frame moves into
//! compiled code and finishes the call there. Traps, host calls and `memory.grow` inside an
//! OSR'd loop behave as in the interpreter; loops whose operand stack holds more than their
//! parameters stay interpreted; and a differential test compares interp with tiered mode at
//! thresholds that make every loop OSR at its first back-edges.
//!
//! `BAREFLOW_OSR_CASES=N` runs N differential cases instead of the CI default (300), from
//! seed `BAREFLOW_OSR_START` (default 0); progress is printed every 1000 seeds.

use std::cell::RefCell;
use std::rc::Rc;

use bareflow::{
    CallError, Config, Extern, Func, FuncType, InstantiateError, Mode, Module, Store, TierUp, Trap,
    TrapCode, Val, ValType,
};

fn func(store: &Store, inst: bareflow::InstanceId, name: &str) -> Func {
    match store.export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

/// Tiered with OSR at the first batch of back-edges: a function is compiled (and its frame
/// replaced) once `edges` back-edges were taken; calls never promote first.
fn osr_config(edges: u64) -> Config {
    let mut c = Config::new(Mode::Tiered);
    c.tier_up = TierUp {
        calls: 1,
        back_edges: edges,
    };
    c
}

const SUM: &str = r#"
(module
  (func $sum_to_n (export "sum_to_n") (param $n i64) (result i64)
    (local $i i64) (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $l)))
    (local.get $acc)))
"#;

#[test]
fn first_call_of_a_hot_loop_finishes_in_compiled_code() {
    let module = Module::from_bytes(SUM.as_bytes()).expect("module");
    // Default thresholds, no profile asked for: the top tier does not count, so the
    // back-edge counter shows how much of the loop ran interpreted.
    let mut store = Store::new(Config {
        profiling: false,
        ..Config::new(Mode::Tiered)
    });
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    let f = func(&store, inst, "sum_to_n");
    let n: i64 = 2_000_000;
    let r = store.call(f, &[Val::I64(n)]).expect("call");
    assert_eq!(r, vec![Val::I64(n * (n - 1) / 2)]);
    let events = store.osr_events();
    assert_eq!(events.len(), 1, "one OSR of the loop: {events:?}");
    assert_eq!(events[0].func, 0);
    assert_eq!(events[0].tier, bareflow::internals::tier::Tier::JitSpeed);
    let edges = store.func_counters(inst)[0].back_edges;
    assert!(
        edges < 100_000,
        "the frame left the interpreter early: {edges} of {n} back-edges interpreted"
    );
}

#[test]
fn osr_entry_is_reused_and_results_match_for_every_batch_size() {
    let module = Module::from_bytes(SUM.as_bytes()).expect("module");
    for edges in [1, 2, 3, 7, 128, 1000] {
        let mut store = Store::new(osr_config(edges));
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let f = func(&store, inst, "sum_to_n");
        for n in [0i64, 1, 2, 3, 5, 100, 5000] {
            let r = store.call(f, &[Val::I64(n)]).expect("call");
            assert_eq!(
                r,
                vec![Val::I64(n * (n - 1).max(0) / 2)],
                "n {n} edges {edges}"
            );
        }
        assert!(
            store.osr_events().len() <= 1,
            "an OSR entry is compiled once per loop"
        );
    }
}

/// Interp and tiered-with-OSR outcomes of `name(args)` on fresh stores.
fn both(wat: &str, name: &str, args: &[Val]) -> [(Result<Vec<Val>, CallError>, usize); 2] {
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    [Config::new(Mode::Interp), osr_config(1)].map(|config| {
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let f = func(&store, inst, name);
        let r = store.call(f, args);
        (r, store.osr_events().len())
    })
}

#[test]
fn trap_inside_an_osr_loop_matches_the_interpreter() {
    // Divides by (n - i): traps with a division by zero when i reaches n, deep in the loop.
    let wat = r#"
      (module
        (func $inner (param i32) (result i32) (i32.div_u (i32.const 100) (local.get 0)))
        (func (export "div") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.add (local.get $acc)
              (i32.div_u (i32.const 1000) (i32.sub (local.get $n) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.le_u (local.get $i) (local.get $n))))
          (local.get $acc))
        (func (export "callee_traps") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.add (local.get $acc)
              (call $inner (i32.sub (local.get $n) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.le_u (local.get $i) (local.get $n))))
          (local.get $acc)))"#;
    for name in ["div", "callee_traps"] {
        let [(interp, n0), (tiered, n1)] = both(wat, name, &[Val::I32(500)]);
        assert_eq!(n0, 0);
        assert_eq!(n1, 1, "{name}: the loop was replaced");
        let (Err(CallError::Trap(a)), Err(CallError::Trap(b))) = (&interp, &tiered) else {
            panic!("{name}: expected traps, got {interp:?} / {tiered:?}");
        };
        assert_eq!(a.code, TrapCode::IntegerDivideByZero);
        assert_eq!(
            (a.code, a.func, a.offset, &a.func_name),
            (b.code, b.func, b.offset, &b.func_name),
            "{name}: trap location"
        );
        assert_eq!(a.to_string(), b.to_string());
    }
}

#[test]
fn host_calls_inside_an_osr_loop_match_the_interpreter() {
    // The loop calls the host every iteration; the host records its arguments and traps on
    // argument 777 (when asked to).
    let wat = r#"
      (module
        (import "host" "f" (func $f (param i32) (result i32)))
        (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.xor (local.get $acc) (call $f (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut outcomes = Vec::new();
    for config in [Config::new(Mode::Interp), osr_config(1)] {
        let mut store = Store::new(config);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s2 = seen.clone();
        let host = store.host_func(
            FuncType {
                params: vec![ValType::I32],
                results: vec![ValType::I32],
            },
            Box::new(move |args, results| {
                let Val::I32(x) = args[0] else { unreachable!() };
                s2.borrow_mut().push(x);
                if x == 777 {
                    return Err(Trap::new(TrapCode::HostError));
                }
                results[0] = Val::I32(x.wrapping_mul(2_654_435_761u32 as i32));
                Ok(())
            }),
        );
        let inst = store
            .instantiate(&module, &|m, n| {
                (m == "host" && n == "f").then_some(Extern::Func(host))
            })
            .expect("inst");
        let run = func(&store, inst, "run");
        let ok = store.call(run, &[Val::I32(700)]);
        let trapped = store.call(run, &[Val::I32(2000)]);
        // The store stays usable after the host trap.
        let again = store.call(run, &[Val::I32(10)]);
        let trap = match &trapped {
            Err(CallError::Trap(t)) => t.code,
            other => panic!("expected a host trap, got {other:?}"),
        };
        outcomes.push((
            ok.expect("run"),
            trap,
            again.expect("again"),
            seen.borrow().clone(),
            store.osr_events().len(),
        ));
    }
    let (a, b) = (&outcomes[0], &outcomes[1]);
    assert_eq!(b.4, 1, "the loop was replaced");
    assert_eq!((&a.0, a.1, &a.2, &a.3), (&b.0, b.1, &b.2, &b.3));
    assert_eq!(a.1, TrapCode::HostError);
}

#[test]
fn memory_grow_inside_an_osr_loop_matches_the_interpreter() {
    // Grows memory a page per iteration (until the maximum refuses) and writes into each
    // new page: compiled code must see the grown (possibly moved) memory.
    let wat = r#"
      (module
        (memory (export "mem") 1 40)
        (func (export "grow") (param $n i32) (result i32) (local $i i32) (local $old i32) (local $acc i32)
          (loop $l
            (local.set $old (memory.grow (i32.const 1)))
            (if (i32.ne (local.get $old) (i32.const -1))
              (then (i32.store (i32.add (i32.mul (local.get $old) (i32.const 65536)) (i32.const 8))
                               (i32.add (local.get $i) (i32.const 1000)))))
            (local.set $acc (i32.add (local.get $acc) (memory.size)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          ;; past the end now: traps with an out-of-bounds load in both modes when n > 39
          (i32.add (local.get $acc) (i32.load (i32.mul (memory.size) (i32.const 65536))))))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut outcomes = Vec::new();
    for config in [Config::new(Mode::Interp), osr_config(1)] {
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let grow = func(&store, inst, "grow");
        let r = store.call(grow, &[Val::I32(60)]);
        let Some(Extern::Memory(mem)) = store.export(inst, "mem") else {
            panic!("memory export")
        };
        let code = match &r {
            Err(CallError::Trap(t)) => t.code,
            other => panic!("expected a trap, got {other:?}"),
        };
        outcomes.push((
            code,
            store.memory_data(mem).to_vec(),
            store.osr_events().len(),
        ));
    }
    assert_eq!(outcomes[0].0, TrapCode::MemoryOutOfBounds);
    assert_eq!(outcomes[1].2, 1, "the loop was replaced");
    assert_eq!(outcomes[0].0, outcomes[1].0);
    assert_eq!(outcomes[0].1.len(), 40 * 65536);
    assert!(outcomes[0].1 == outcomes[1].1, "memory contents differ");
}

#[test]
fn loop_parameters_and_values_under_the_loop_are_handed_over() {
    let wat = r#"
      (module
        ;; a loop with two parameters (the counter and the sum travel on the stack)
        (func (export "params") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (i32.const 0) (i32.const 0)
          (loop $l (param i32 i32) (result i32 i32)
            (local.set $acc) (local.set $i)
            (i32.add (local.get $i) (i32.const 1))
            (i32.add (local.get $acc) (local.get $i))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.set $acc) (drop) (local.get $acc))
        ;; a value of an enclosing block sits below the loop
        (func (export "below") (param $n i32) (result i32) (local $i i32)
          (i32.const 7)
          (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (i32.add (local.get $i)))
        ;; values of every type under a loop inside nested blocks, plus loop parameters;
        ;; the loop also branches out to the enclosing block with a result
        (func (export "mixed") (param $n i32) (result f64) (local $i i32) (local $x i32)
          (f64.const 1.5) (i64.const -9)
          (block $out (result i32)
            (f32.const 2.25) (i32.const 40)
            (i64.const 3)
            (loop $l (param i64) (result i64)
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (drop (br_if $out (i32.const 40) (i32.eq (local.get $i) (i32.const 100000))))
              (i64.add (i64.const 2))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (i32.wrap_i64)
            (i32.add)
            (local.set $x)
            (i32.trunc_f32_s (f32.mul (f32.const 4.0)))
            (i32.add (local.get $x)))
          (local.set $x)
          (f64.convert_i64_s)
          (f64.add)
          (f64.add (f64.convert_i32_s (local.get $x))))
        ;; a value under an outer loop whose inner loop is hot (the inner one is refused:
        ;; the outer body uses the value; found by the differential test in release)
        (func (export "nested") (param $n i32) (result i32) (local $i i32) (local $j i32)
          (i32.const 5)
          (loop $outer (param i32) (result i32)
            (local.set $j (i32.const 0))
            (loop $inner
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $inner (i32.lt_u (local.get $j) (i32.const 1000))))
            (i32.add (local.get $j))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))))"#;
    let [(a, n0), (b, n1)] = both(wat, "params", &[Val::I32(3000)]);
    assert_eq!(n0, 0);
    assert_eq!(n1, 1, "the loop with parameters was replaced");
    assert_eq!(a.expect("interp"), vec![Val::I32(3000 * 3001 / 2)]);
    assert_eq!(b.expect("tiered"), vec![Val::I32(3000 * 3001 / 2)]);
    let [(a, _), (b, n1)] = both(wat, "below", &[Val::I32(3000)]);
    assert_eq!(n1, 1, "a loop with a value below it was replaced");
    assert_eq!(a.expect("interp"), vec![Val::I32(3007)]);
    assert_eq!(b.expect("tiered"), vec![Val::I32(3007)]);
    for n in [3000, 200_000] {
        let [(a, _), (b, n1)] = both(wat, "mixed", &[Val::I32(n)]);
        assert_eq!(n1, 1, "the mixed loop was replaced (n = {n})");
        let a = a.expect("interp");
        assert_eq!(a, b.expect("tiered"), "n = {n}");
        // n = 3000: 9 + 40 + (3 + 2 * 3000), - 9 + 1.5; n = 200000: leaves with 40 at
        // iteration 100000 (the f32 and the loop value are dropped): 40 - 9 + 1.5.
        let want = if n == 3000 { 6044.5 } else { 32.5 };
        assert_eq!(a, vec![Val::F64(f64::to_bits(want))], "n = {n}");
    }
    let [(a, _), (b, _)] = both(wat, "nested", &[Val::I32(50)]);
    assert_eq!(a.expect("interp"), vec![Val::I32(5 + 50 * 1000)]);
    assert_eq!(b.expect("tiered"), vec![Val::I32(5 + 50 * 1000)]);
}

#[test]
fn functions_reached_from_compiled_code_are_replaced_too() {
    // `outer` is compiled by calls first (with m = 0 it never calls `inner`); then its
    // loop calls `inner`, interpreted through the interpreter's array entry on its first
    // call, whose own hot loop must be replaced as well.
    let wat = r#"
      (module
        (func $inner (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.get $acc))
        (func (export "outer") (param $n i32) (param $m i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (if (local.get $m)
              (then (local.set $acc (i32.add (local.get $acc) (call $inner (local.get $m))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut c = Config::new(Mode::Tiered);
    c.tier_up = TierUp {
        calls: 100,
        back_edges: 10_000,
    };
    let mut store = Store::new(c);
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    let outer = func(&store, inst, "outer");
    for _ in 0..150 {
        store
            .call(outer, &[Val::I32(1), Val::I32(0)])
            .expect("warm");
    }
    assert!(store.osr_events().is_empty());
    let r = store
        .call(outer, &[Val::I32(3), Val::I32(100_000)])
        .expect("outer");
    let per: i32 = (0..100_000i32).fold(0, |a, i| a.wrapping_add(i.wrapping_mul(i)));
    assert_eq!(r, vec![Val::I32(per.wrapping_mul(3))]);
    let funcs: Vec<u32> = store.osr_events().iter().map(|e| e.func).collect();
    assert_eq!(funcs, [0], "inner was replaced inside compiled outer");
}

// ---- differential: interp vs tiered with OSR forced -------------------------------------------

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        max_memories: 1,
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        min_funcs: 2,
        max_funcs: 12,
        max_instructions: 200,
        max_memory32_bytes: 4 << 16,
        // Bounded memories: see compiler/tests/jit.rs.
        memory_max_size_required: true,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    }
}

/// Bytes for `Unstructured` from a seed (xorshift; a different stream from jit.rs's).
fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = (seed ^ 0x05E_05E).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A comparable call outcome: NaNs equal any NaN, stack exhaustion is `None` (the
/// interpreter's depth limit and compiled code's stack budget differ by design).
fn outcome(r: Result<Vec<Val>, CallError>) -> Option<Result<Vec<String>, TrapCode>> {
    match r {
        Ok(vals) => Some(Ok(vals
            .iter()
            .map(|v| match *v {
                Val::F32(b) if f32::from_bits(b).is_nan() => "f32:nan".to_string(),
                Val::F64(b) if f64::from_bits(b).is_nan() => "f64:nan".to_string(),
                Val::FuncRef(f) => format!("funcref:{}", f.is_some()),
                other => format!("{other:?}"),
            })
            .collect())),
        Err(CallError::Trap(t)) if t.code == TrapCode::StackOverflow => None,
        Err(CallError::Trap(t)) => Some(Err(t.code)),
        Err(e) => panic!("unexpected call error {e}"),
    }
}

/// Runs every export twice in interp and in tiered mode with OSR after `edges` back-edges;
/// compares results, traps and the final memory. Returns `(calls compared, OSR entries)`.
fn compare(module: &Module, seed: u64, edges: u64) -> Option<(u64, usize)> {
    let mut stores = [Config::new(Mode::Interp), osr_config(edges)].map(Store::new);
    let insts: Vec<Result<bareflow::InstanceId, Option<TrapCode>>> = stores
        .iter_mut()
        .map(|s| {
            s.instantiate(module, &|_, _| None).map_err(|e| match e {
                InstantiateError::Trap(t) => Some(t.code),
                _ => None,
            })
        })
        .collect();
    let (ia, ib) = match (&insts[0], &insts[1]) {
        (Ok(a), Ok(b)) => (*a, *b),
        (a, b) => {
            assert_eq!(a, b, "seed {seed}: instantiation differs");
            return None;
        }
    };
    let [sa, sb] = &mut stores;
    let mut compared = 0;
    let mut skipped_stack = false;
    for round in 0..2 {
        for export in module.exports() {
            let bareflow::ExternType::Func(ty) = &export.ty else {
                continue;
            };
            let (Some(Extern::Func(fa)), Some(Extern::Func(fb))) =
                (sa.export(ia, export.name), sb.export(ib, export.name))
            else {
                continue;
            };
            let args: Vec<Val> = ty
                .params
                .iter()
                .enumerate()
                .map(|(i, t)| match t {
                    ValType::I32 => Val::I32(seed as i32 ^ i as i32),
                    ValType::I64 => Val::I64((seed as i64) << i),
                    ValType::F32 => Val::F32((1.5f32 + i as f32).to_bits()),
                    ValType::F64 => Val::F64((-2.25f64 * i as f64).to_bits()),
                    other => Val::default_for(*other),
                })
                .collect();
            let ra = outcome(sa.call(fa, &args));
            let rb = outcome(sb.call(fb, &args));
            if let (Some(ra), Some(rb)) = (&ra, &rb) {
                assert_eq!(
                    ra, rb,
                    "seed {seed}: export {} differs (interp vs tiered-osr, edges {edges}, round {round})",
                    export.name
                );
                compared += 1;
            } else {
                skipped_stack = true;
            }
        }
    }
    let memory = module
        .exports()
        .iter()
        .find(|e| matches!(e.ty, bareflow::ExternType::Memory(_)))
        .map(|e| e.name.to_string());
    if let (Some(name), false) = (memory, skipped_stack)
        && let (Some(Extern::Memory(ma)), Some(Extern::Memory(mb))) =
            (sa.export(ia, &name), sb.export(ib, &name))
    {
        assert!(
            sa.memory_data(ma) == sb.memory_data(mb),
            "seed {seed}: memory contents differ (interp vs tiered-osr, edges {edges})"
        );
    }
    Some((compared, sb.osr_events().len()))
}

#[test]
fn differential_interp_vs_tiered_osr() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let cases = env("BAREFLOW_OSR_CASES", 300);
    let start = env("BAREFLOW_OSR_START", 0);
    let (mut modules, mut compared, mut osrs) = (0u64, 0u64, 0usize);
    for seed in start..start + cases {
        if seed > start && (seed - start).is_multiple_of(1000) {
            eprintln!(
                "osr differential: {} seeds, {modules} modules, {compared} calls, {osrs} OSR entries",
                seed - start
            );
        }
        let bytes = seed_bytes(seed, 4096);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let Ok(mut m) = wasm_smith::Module::new(smith_config(), &mut u) else {
            continue;
        };
        if m.ensure_termination(2_000).is_err() {
            continue;
        }
        let wasm = m.to_bytes();
        let module = match Module::from_bytes(&wasm) {
            Ok(m) => m,
            Err(e) => panic!("seed {seed}: wasm-smith module rejected: {e}"),
        };
        // OSR at the first back-edge mostly; sometimes after a few, so other iterations
        // (and other loops of the same frame) are the replaced ones.
        let edges = [1, 1, 1, 2, 3, 5][(seed % 6) as usize];
        if let Some((n, o)) = compare(&module, seed, edges) {
            modules += 1;
            compared += n;
            osrs += o;
        }
    }
    eprintln!(
        "osr differential: {cases} seeds, {modules} modules, {compared} calls compared, {osrs} OSR entries"
    );
    assert!(
        compared > cases / 2,
        "only {compared} calls compared over {cases} seeds"
    );
    assert!(
        osrs > 0,
        "no loop was replaced: the test did not exercise OSR"
    );
}

// ---- spec suite with OSR thresholds of 1 -------------------------------------------------------

/// The suite directory: `$WASM_TESTSUITE`, else `../shared/wasm-testsuite` next to the
/// workspace root (as the spec-tests crate finds it).
fn suite_dir() -> std::path::PathBuf {
    match std::env::var_os("WASM_TESTSUITE") {
        Some(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasm-testsuite"),
    }
}

/// Every `core.txt` file in tiered mode with thresholds of 1: every function compiles at
/// its first sample and every loop reached in an interpreted frame is replaced at its
/// first back-edge (the runner's stores are not observable here; the other tests show that
/// these thresholds replace loops). 0 failed, 0 skipped.
#[test]
fn spec_core_in_tiered_mode_with_osr_thresholds_of_one() {
    let suite = suite_dir();
    let list = suite.join("../spec-scope/core.txt");
    let files = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", list.display()));
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let cfg = bareflow::internals::wast::RunConfig {
                mode: Mode::Tiered,
                scope: bareflow::internals::wast::Scope::Core,
                memory: bareflow::MemoryMode::Checked,
                lenient_messages: false,
            };
            let tier_up = TierUp {
                calls: 1,
                back_edges: 1,
            };
            let mut total = bareflow::internals::wast::FileReport::default();
            let mut bad = Vec::new();
            for f in files.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let r = bareflow::internals::wast::run_file_with(&suite.join(f), &cfg, tier_up)
                    .unwrap_or_else(|e| panic!("{f}: {e}"));
                if r.failed != 0 || r.skipped != 0 {
                    bad.push(format!("{f}: {} {:?}", r.counts(), r.failures.first()));
                }
                total.absorb(&r);
            }
            (total, bad)
        })
        .expect("spawn");
    let (total, bad) = handle.join().expect("runner thread");
    eprintln!(
        "spec core, tiered with OSR thresholds 1: {}",
        total.counts()
    );
    assert!(bad.is_empty(), "failures:\n{}", bad.join("\n"));
    assert!(total.passed >= 24_000, "{}", total.counts());
}

#[test]
fn lowering_records_loops_and_maps_rotated_back_edges() {
    let module = Module::from_bytes(SUM.as_bytes()).expect("module");
    let code = &module.interp_code().funcs[0];
    assert_eq!(code.loops.len(), 1);
    let l = code.loops[0];
    assert_eq!((l.height, l.nparams), (code.num_locals, 0));
    assert_eq!(code.loop_at(l.header), Some(&l));
    // `loop { br_if exit (i >= n); ...; br loop }` is rotated: its back-edge skips the test.
    assert!(l.rotated);
    assert_eq!(code.loop_at(l.header + 1), Some(&l));
    assert_eq!(code.loop_at(l.header + 2), None);
}

#[test]
fn a_loop_that_calls_every_iteration_is_replaced_promptly() {
    // Every iteration calls a (loop-free) function, which flushes the back-edge batch: the
    // OSR check must still come right after the function is compiled.
    let wat = r#"
      (module
        (func $step (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 1)))
        (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.xor (local.get $acc) (call $step (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut store = Store::new(Config {
        profiling: false,
        ..Config::new(Mode::Tiered)
    });
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    let run = func(&store, inst, "run");
    let n = 1_000_000;
    let r = store.call(run, &[Val::I32(n)]).expect("run");
    let want = (0..n).fold(0i32, |a, i| a ^ i.wrapping_mul(3).wrapping_add(1));
    assert_eq!(r, vec![Val::I32(want)]);
    let funcs: Vec<u32> = store.osr_events().iter().map(|e| e.func).collect();
    assert_eq!(funcs, [1], "run's loop was replaced");
    let edges = store.func_counters(inst)[1].back_edges;
    // OSR weighs a running frame's back-edges 8x (`policy::wants_osr`): about 1,250 at the
    // default thresholds, where the call-driven compile alone would wait for 10,000, and
    // the OSR check is armed before `run` is compiled (its body calls every iteration).
    assert!(edges < 2_000, "{edges} of {n} back-edges interpreted");
}

// ---- profiles under tiering ---------------------------------------------------------------------

#[test]
fn profile_counts_back_edges_per_loop() {
    // Two loops in one function: the first calls every iteration (its edges are flushed at
    // the calls), the second takes full batches. Interp mode counts every edge.
    let wat = r#"
      (module
        (func $step (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
        (func (export "run") (param $n i32) (param $m i32) (result i32) (local $i i32) (local $acc i32)
          (loop $a
            (local.set $acc (call $step (local.get $acc)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $a (i32.lt_u (local.get $i) (local.get $n))))
          (local.set $i (i32.const 0))
          (loop $b
            (local.set $acc (i32.xor (local.get $acc) (local.get $i)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $b (i32.lt_u (local.get $i) (local.get $m))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut store = Store::new(Config {
        profiling: true,
        ..Config::new(Mode::Interp)
    });
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    let run = func(&store, inst, "run");
    store
        .call(run, &[Val::I32(1_000), Val::I32(50_000)])
        .expect("run");
    let loops = store.loop_counters(inst);
    assert_eq!(loops.len(), 2, "{loops:?}");
    assert!(loops.iter().all(|l| l.func == 1));
    // Hottest first: $b, which also gets the edges pending at the return after it.
    let (b, a) = (loops[0], loops[1]);
    assert!(b.offset > a.offset, "{loops:?}");
    assert_eq!(b.back_edges, 49_999, "{loops:?}");
    assert_eq!(a.back_edges, 999, "{loops:?}");
    let total = store.func_counters(inst)[1].back_edges;
    assert_eq!(total, 999 + 49_999);
    // Without a profile request nothing is recorded per loop.
    let mut plain = Store::new(Config {
        profiling: false,
        ..Config::new(Mode::Tiered)
    });
    let inst = plain.instantiate(&module, &|_, _| None).expect("inst");
    let run = func(&plain, inst, "run");
    plain
        .call(run, &[Val::I32(1_000), Val::I32(50_000)])
        .expect("run");
    assert!(plain.loop_counters(inst).is_empty());
}

#[test]
fn tiered_profile_charges_compiled_callee_time_to_the_callee() {
    // `work` is compiled (by calls) before `main` calls it once with a long loop; `main`
    // then calls the interpreted `other` a few times. The time of `work`'s compiled code
    // must be charged to `work`, not to `other` or `main` (before: to whichever function
    // the interpreter read the clock for next).
    let wat = r#"
      (module
        (func $work (export "work") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (block $done
            (loop $l
              (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l)))
          (local.get $acc))
        (func $other (param i32) (result i32) (i32.add (local.get 0) (i32.const 7)))
        (func (export "main") (param $n i32) (result i32) (local $i i32) (local $acc i32)
          (local.set $acc (call $work (local.get $n)))
          (loop $l
            (local.set $acc (call $other (local.get $acc)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut config = Config {
        profiling: true,
        ..Config::new(Mode::Tiered)
    };
    config.tier_up = TierUp {
        calls: 100,
        back_edges: 1 << 40,
    };
    let mut store = Store::new(config);
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    let (work, main) = (func(&store, inst, "work"), func(&store, inst, "main"));
    for _ in 0..3_000 {
        store.call(work, &[Val::I32(1)]).expect("work");
    }
    let before = store.func_counters(inst);
    let r = store.call(main, &[Val::I32(40_000_000)]).expect("main");
    let mut acc = (0..40_000_000i32).fold(0i32, |a, i| a.wrapping_mul(31).wrapping_add(i));
    for _ in 0..60 {
        acc = acc.wrapping_add(7);
    }
    assert_eq!(r, vec![Val::I32(acc)]);
    assert!(store.osr_events().is_empty(), "no loop was replaced");
    let after = store.func_counters(inst);
    let d: Vec<u64> = (0..3).map(|i| after[i].nanos - before[i].nanos).collect();
    let (w, o, m) = (d[0], d[1], d[2]);
    assert_eq!(after[1].calls, 60, "other stayed interpreted");
    assert!(
        w > 10 * (o + m) && w > 1_000_000,
        "work {w} ns, other {o} ns, main {m} ns"
    );
}
