//! JIT modes through the public embedding API: every trap kind in every JIT mode (the same
//! store answers the next call), interpreter ↔ compiled calls in tiered mode, and a
//! differential test interp vs jit-speed and tiered over wasm-smith modules.
//!
//! `BAREFLOW_DIFF_CASES=N` runs N differential cases instead of the CI default (200), from seed
//! `BAREFLOW_DIFF_START` (default 0); progress is printed every 1000 seeds.

use bareflow::{
    CallError, Config, Extern, Func, InstantiateError, Mode, Module, Store, TierUp, TrapCode, Val,
};

const JIT_MODES: [Mode; 3] = [Mode::JitNone, Mode::JitSpeed, Mode::Tiered];

const TRAPS: &str = r#"
(module
  (type $ii (func (param i32) (result i32)))
  (import "host" "fail" (func $fail (param i32) (result i32)))
  (memory 1)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $id $fac)
  (func $id (param i32) (result i32) (local.get 0))
  (func $fac (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "ok") (param i32) (result i32) (i32.add (call $id (local.get 0)) (i32.const 1)))
  (func (export "unreachable") (unreachable))
  (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "div0") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "nan") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "range") (result i64) (i64.trunc_f64_u (f64.const -1)))
  (func $rec (export "rec") (param i32) (result i32) (i32.add (call $rec (local.get 0)) (i32.const 1)))
  (func (export "undefined") (result i32) (call_indirect (type $ii) (i32.const 1) (i32.const 7)))
  (func (export "null") (result i32) (call_indirect (type $ii) (i32.const 1) (i32.const 3)))
  (func (export "mismatch") (result i32) (call_indirect (type $ii) (i32.const 1) (i32.const 1)))
  (func (export "table") (result funcref) (table.get $t (i32.const 4)))
  (func (export "fill") (memory.fill (i32.const 65530) (i32.const 0) (i32.const 7)))
  (func (export "host") (param i32) (result i32) (call $fail (local.get 0)))
)
"#;

fn host_fail(store: &mut Store) -> Func {
    store.host_func(
        bareflow::FuncType {
            params: vec![bareflow::ValType::I32],
            results: vec![bareflow::ValType::I32],
        },
        Box::new(|args, results| {
            if args[0] == Val::I32(13) {
                return Err(bareflow::Trap::new(TrapCode::HostError));
            }
            results[0] = args[0];
            Ok(())
        }),
    )
}

fn func(store: &Store, inst: bareflow::InstanceId, name: &str) -> Func {
    match store.export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

fn trap_of(r: Result<Vec<Val>, CallError>) -> Option<TrapCode> {
    match r {
        Err(CallError::Trap(t)) => Some(t.code),
        _ => None,
    }
}

#[test]
fn every_trap_kind_in_every_jit_mode() {
    let module = Module::from_bytes(TRAPS.as_bytes()).expect("module");
    let cases: &[(&str, &[Val], TrapCode)] = &[
        ("unreachable", &[], TrapCode::Unreachable),
        ("oob", &[Val::I32(65533)], TrapCode::MemoryOutOfBounds),
        ("div0", &[Val::I32(0)], TrapCode::IntegerDivideByZero),
        ("overflow", &[], TrapCode::IntegerOverflow),
        ("nan", &[], TrapCode::InvalidConversionToInteger),
        ("range", &[], TrapCode::IntegerOverflow),
        ("rec", &[Val::I32(0)], TrapCode::StackOverflow),
        ("undefined", &[], TrapCode::UndefinedElement),
        ("null", &[], TrapCode::UninitializedElement),
        ("mismatch", &[], TrapCode::IndirectCallTypeMismatch),
        ("table", &[], TrapCode::TableOutOfBounds),
        ("fill", &[], TrapCode::MemoryOutOfBounds),
        ("host", &[Val::I32(13)], TrapCode::HostError),
    ];
    for mode in JIT_MODES {
        // Tiered with thresholds of one call: traps are hit both interpreted and compiled.
        let mut config = Config::new(mode);
        config.tier_up = TierUp {
            calls: 1,
            back_edges: 1,
        };
        let mut store = Store::new(config);
        let fail = host_fail(&mut store);
        let inst = store
            .instantiate(&module, &|m, n| {
                (m == "host" && n == "fail").then_some(Extern::Func(fail))
            })
            .expect("instantiate");
        let ok = func(&store, inst, "ok");
        for round in 0..3 {
            for (name, args, code) in cases {
                let f = func(&store, inst, name);
                assert_eq!(
                    trap_of(store.call(f, args)),
                    Some(*code),
                    "{mode} {name} round {round}"
                );
                assert_eq!(
                    store.call(ok, &[Val::I32(41)]).expect("ok"),
                    [Val::I32(42)],
                    "{mode} after {name}"
                );
            }
            // Traps raised by compiled code name the trapping function.
            let unreachable = func(&store, inst, "unreachable");
            match store.call(unreachable, &[]) {
                Err(CallError::Trap(t)) => assert_eq!(t.func, Some(4), "{mode}: {t}"),
                other => panic!("{mode}: {other:?}"),
            }
            let host = func(&store, inst, "host");
            assert_eq!(
                store.call(host, &[Val::I32(5)]).expect("host"),
                [Val::I32(5)]
            );
        }
    }
}

/// Traps raised by compiled code carry the trapping function and wasm code offset, the
/// same as the interpreter reports, in checked and guard memory mode.
#[test]
fn compiled_traps_report_function_and_offset() {
    let module = Module::from_bytes(TRAPS.as_bytes()).expect("module");
    let cases: &[(&str, &[Val])] = &[
        ("unreachable", &[]),
        ("oob", &[Val::I32(65533)]),
        ("div0", &[Val::I32(0)]),
        ("overflow", &[]),
        ("nan", &[]),
        ("range", &[]),
        ("undefined", &[]),
        ("null", &[]),
        ("mismatch", &[]),
        ("table", &[]),
        ("fill", &[]),
    ];
    let run = |config: Config| -> Vec<(Option<u32>, Option<u32>)> {
        let mut store = Store::new(config);
        let fail = host_fail(&mut store);
        let inst = store
            .instantiate(&module, &|m, n| {
                (m == "host" && n == "fail").then_some(Extern::Func(fail))
            })
            .expect("instantiate");
        let mut out = Vec::new();
        for (name, args) in cases {
            let f = func(&store, inst, name);
            // Twice: in tiered mode (one-call thresholds) the second call runs compiled code.
            let mut last = None;
            for _ in 0..2 {
                match store.call(f, args) {
                    Err(CallError::Trap(t)) => last = Some((t.func, t.offset)),
                    other => panic!("{name}: {other:?}"),
                }
            }
            out.push(last.expect("trapped"));
        }
        out
    };
    let reference = run(Config::new(Mode::Interp));
    assert!(
        reference.iter().all(|(f, o)| f.is_some() && o.is_some()),
        "{reference:?}"
    );
    let mut configs = Vec::new();
    for mode in JIT_MODES {
        configs.push(Config::new(mode));
        if runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
            configs.push(Config {
                memory: bareflow::MemoryMode::Guard,
                ..Config::new(mode)
            });
        }
    }
    for mut config in configs {
        config.tier_up = TierUp {
            calls: 1,
            back_edges: 1,
        };
        let what = format!("{} {:?}", config.mode, config.memory);
        let got = run(config);
        for (((name, _), want), got) in cases.iter().zip(&reference).zip(&got) {
            assert_eq!(got, want, "{what}: {name}");
        }
    }
}

const MIXED: &str = r#"
(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (global $g (mut i64) (i64.const 0))
  (func $leaf (param i32) (result i32) (call $twice (i32.add (local.get 0) (i32.const 1))))
  (func $mid (export "mid") (param i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $leaf (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get $acc))))
    (local.get $acc))
  (func (export "top") (param i32) (result i32 i64)
    (call $mid (local.get 0)) (global.get $g))
  (func (export "trap_deep") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (call $mid (local.get 0)))
)
"#;

#[test]
fn tiered_mixes_interpreted_and_compiled_calls() {
    let module = Module::from_bytes(MIXED.as_bytes()).expect("module");
    let mut reference = None;
    for mode in [Mode::Interp, Mode::JitNone, Mode::JitSpeed, Mode::Tiered] {
        let mut config = Config::new(mode);
        config.tier_up = TierUp {
            calls: 3,
            back_edges: 50,
        };
        // No profile requested: the top tier stops counting, which shows the promotion.
        config.profiling = false;
        let mut store = Store::new(config);
        let twice = store.host_func(
            bareflow::FuncType {
                params: vec![bareflow::ValType::I32],
                results: vec![bareflow::ValType::I32],
            },
            Box::new(|a, r| {
                let Val::I32(x) = a[0] else {
                    unreachable!("typed by the signature")
                };
                r[0] = Val::I32(x.wrapping_mul(2));
                Ok(())
            }),
        );
        let inst = store
            .instantiate(&module, &|_, _| Some(Extern::Func(twice)))
            .expect("instantiate");
        let top = func(&store, inst, "top");
        let deep = func(&store, inst, "trap_deep");
        let mut out = Vec::new();
        for n in 0..40 {
            out.push(store.call(top, &[Val::I32(n)]).expect("top"));
            assert_eq!(
                trap_of(store.call(deep, &[Val::I32(0)])),
                Some(TrapCode::Unreachable)
            );
        }
        if mode == Mode::Tiered {
            // `mid` (function 2) is counted while interpreted and while compiled at `none`
            // (the baseline tier keeps counting), then promoted to `speed` once its hotness
            // (calls + back-edges / 16 with these thresholds) reaches 30, after which it
            // stops counting: fewer than the 40 calls are seen, more than the 3 of tier 0.
            let mid = store
                .func_counters(inst)
                .into_iter()
                .find(|c| c.func == 2)
                .expect("counters of mid");
            assert!(mid.calls > 4 && mid.calls < 40, "{mid:?}");
            assert!(mid.calls + mid.back_edges / 16 >= 30, "{mid:?}");
        }
        match &reference {
            None => reference = Some(out),
            Some(r) => assert_eq!(&out, r, "{mode} differs from the interpreter"),
        }
    }
}

// ---- differential: interp vs jit-speed / tiered ------------------------------------------------------

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
        // Every memory declares a maximum (at most 4 pages), so a generated loop of
        // `memory.grow` cannot spend the run copying gigabytes.
        memory_max_size_required: true,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    }
}

/// Splits a 64-bit seed into bytes for `Unstructured` (a simple xorshift stream).
fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A comparable view of a call outcome: NaNs compare equal to NaNs (any payload, since
/// wasm-smith canonicalizes only stored / reinterpreted NaNs), stack exhaustion is `None`
/// (the interpreter's depth limit and the JIT's stack budget differ by design).
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

struct Run {
    store: Store,
    inst: Result<bareflow::InstanceId, Option<TrapCode>>,
}

fn instantiate(module: &Module, mode: Mode) -> Run {
    let mut config = Config::new(mode);
    // Tiered: compile everything after its first call, so swaps happen between calls.
    config.tier_up = TierUp {
        calls: 1,
        back_edges: 1,
    };
    let mut store = Store::new(config);
    let inst = store
        .instantiate(module, &|_, _| None)
        .map_err(|e| match e {
            InstantiateError::Trap(t) => Some(t.code),
            _ => None,
        });
    Run { store, inst }
}

/// Runs every exported function of `module` twice in the interpreter and in `other` and
/// compares results, traps and the final memory. Returns the number of calls compared, or
/// `None` if the module did not instantiate (identically) in both.
fn compare(module: &Module, seed: u64, other: Mode) -> Option<u64> {
    let mut a = instantiate(module, Mode::Interp);
    let mut b = instantiate(module, other);
    let (ia, ib) = match (&a.inst, &b.inst) {
        (Ok(ia), Ok(ib)) => (*ia, *ib),
        (ea, eb) => {
            assert_eq!(
                ea.is_ok(),
                eb.is_ok(),
                "seed {seed}: instantiation differs ({other})"
            );
            assert_eq!(
                ea.err(),
                eb.err(),
                "seed {seed}: instantiation trap differs ({other})"
            );
            return None;
        }
    };
    let mut compared = 0;
    let mut skipped_stack = false;
    for round in 0..2 {
        for export in module.exports() {
            let bareflow::ExternType::Func(ty) = &export.ty else {
                continue;
            };
            let (Some(Extern::Func(fa)), Some(Extern::Func(fb))) = (
                a.store.export(ia, export.name),
                b.store.export(ib, export.name),
            ) else {
                continue;
            };
            let args: Vec<Val> = ty
                .params
                .iter()
                .enumerate()
                .map(|(i, t)| match t {
                    bareflow::ValType::I32 => Val::I32(seed as i32 ^ i as i32),
                    bareflow::ValType::I64 => Val::I64((seed as i64) << i),
                    bareflow::ValType::F32 => Val::F32((1.5f32 + i as f32).to_bits()),
                    bareflow::ValType::F64 => Val::F64((-2.25f64 * i as f64).to_bits()),
                    other => Val::default_for(*other),
                })
                .collect();
            let ra = outcome(a.store.call(fa, &args));
            let rb = outcome(b.store.call(fb, &args));
            if let (Some(ra), Some(rb)) = (&ra, &rb) {
                assert_eq!(
                    ra, rb,
                    "seed {seed}: export {} differs (interp vs {other}, round {round})",
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
            (a.store.export(ia, &name), b.store.export(ib, &name))
    {
        assert!(
            a.store.memory_data(ma) == b.store.memory_data(mb),
            "seed {seed}: memory contents differ (interp vs {other})"
        );
    }
    Some(compared)
}

#[test]
fn differential_interp_vs_jit() {
    let cases: u64 = std::env::var("BAREFLOW_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let start: u64 = std::env::var("BAREFLOW_DIFF_START")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut compared = 0u64;
    let mut modules = 0u64;
    for seed in start..start + cases {
        if seed > start && (seed - start).is_multiple_of(1000) {
            eprintln!(
                "differential: {} seeds done, {modules} module runs",
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
        for other in [Mode::JitSpeed, Mode::Tiered] {
            if let Some(n) = compare(&module, seed, other) {
                modules += 1;
                compared += n;
            }
        }
    }
    eprintln!("differential: {modules} module runs, {compared} calls compared");
    assert!(
        compared > cases / 2,
        "only {compared} calls compared over {cases} modules"
    );
}

#[test]
fn tiered_compiles_hot_functions_during_one_long_call() {
    let wat = r#"
      (module
        (func $f (param i32) (result i32) (i32.xor (i32.mul (local.get 0) (i32.const 31)) (i32.const 7)))
        (func (export "run") (param i32) (result i32) (local $i i32) (local $acc i32)
          (loop $l
            (local.set $acc (i32.add (local.get $acc) (call $f (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
          (local.get $acc)))"#;
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    let mut results = Vec::new();
    for mode in [Mode::Interp, Mode::Tiered] {
        // Tiered without a profile requested: the top tier stops counting, which shows the
        // promotion (the interpreter reference counts everything).
        let mut store = Store::new(Config {
            profiling: mode == Mode::Interp,
            ..Config::new(mode)
        });
        let inst = store
            .instantiate(&module, &|_, _| None)
            .expect("instantiate");
        let run = func(&store, inst, "run");
        results.push(store.call(run, &[Val::I32(200_000)]).expect("run"));
        let f = store
            .func_counters(inst)
            .into_iter()
            .find(|c| c.func == 0)
            .expect("counters of f");
        if mode == Mode::Tiered {
            // Promoted to `speed` (which stops counting) long before the loop ends, inside
            // the single host call.
            assert!(f.calls < 100_000, "{f:?}");
        } else {
            assert_eq!(f.calls, 200_000);
        }
    }
    assert_eq!(results[0], results[1]);
}
