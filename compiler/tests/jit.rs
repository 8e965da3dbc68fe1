//! JIT modes through the public embedding API: every trap kind in every JIT mode (the same
//! store answers the next call), interpreter ↔ compiled calls in tiered mode, and a
//! differential test of the interpreter against every other mode over wasm-smith modules
//! (engine in `diff/mod.rs`, shared with the `differential` fuzz target), with tests of the
//! harness itself (deliberately broken engines must be caught).
//!
//! `BAREFLOW_DIFF_CASES=N` runs N differential cases instead of the CI default (200), from seed
//! `BAREFLOW_DIFF_START` (default 0); progress is printed every 1000 seeds.

mod diff;

use bareflow::{CallError, Config, Extern, Func, Mode, Module, Store, TierUp, TrapCode, Val};

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

// ---- differential: interp vs every other mode --------------------------------------------------

/// The wasm-smith module of `seed` (`None` if the generator made none: not compared, counted).
fn seed_module(seed: u64) -> Option<(Vec<u8>, Module)> {
    diff::seed_module_with(&diff::smith_config(), seed, "")
}

/// Every wasm-smith module of the seed range runs in the interpreter and in every compiled
/// mode (jit-none, jit-speed, tiered, snapshot, snapshot-xip; checked and, where supported,
/// guard memory); results, traps, exported memories, globals and tables must agree. Nothing
/// is dropped silently: a one-sided instantiation failure is a disagreement, and a stack
/// exhaustion (which the harness budget should make impossible for generated modules) makes
/// that run inconclusive, counted and bounded by `diff::check_inconclusive`. The floors below
/// fail the test if the generator stops producing runnable modules.
#[test]
fn differential_every_mode() {
    diff::on_big_stack(differential_every_mode_body);
}

fn differential_every_mode_body() {
    let cases = diff::env_u64("BAREFLOW_DIFF_CASES", 200);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let (reference, others) = diff::all_engines();
    let others: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
    let mut counts = diff::Counts::default();
    let mut modules = 0u64;
    // Modules with an extended constant expression (WebAssembly 3.0).
    let mut extended = 0u64;
    let mut failures = Vec::new();
    let mut inconclusive_seeds = Vec::new();
    let t0 = std::time::Instant::now();
    for seed in start..start + cases {
        if seed > start && (seed - start).is_multiple_of(1000) {
            eprintln!(
                "differential: {} seeds, {modules} modules, {counts:?}",
                seed - start
            );
        }
        let Some((wasm, module)) = seed_module(seed) else {
            continue;
        };
        modules += 1;
        if !module.parsed().meta.const_code.is_empty() {
            extended += 1;
        }
        match diff::compare(&module, &wasm, seed, &reference, &others) {
            Ok(c) => {
                if c.inconclusive > 0 {
                    inconclusive_seeds.push(seed);
                }
                counts += c;
            }
            Err(d) => failures.push(d),
        }
    }
    eprintln!(
        "differential: {cases} seeds, {modules} modules ({extended} with extended constant expressions), {} engines each, {counts:?}, {} disagreements, {} inconclusive runs (seeds {inconclusive_seeds:?}), {:.1?}",
        others.len(),
        failures.len(),
        counts.inconclusive,
        t0.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if let Err(e) = diff::check_inconclusive(&counts) {
        panic!("{e}: seeds {inconclusive_seeds:?}");
    }
    // Floors (measured on seeds 0..200: every seed makes a module, 97% of runs instantiate,
    // 2.6 calls per instantiated run, 32% of calls return; see README "Differential
    // testing"). No call can be dropped any more (that is a disagreement), so these catch a
    // generator or harness change that quietly stops comparing: most seeds must give a
    // module, most runs must instantiate, make calls, and not all of them trap.
    assert!(
        modules * 10 >= cases * 8,
        "only {modules} modules from {cases} seeds"
    );
    // The generator's extended constant expressions reach every tier (measured: see README
    // "Differential testing").
    assert!(
        cases < 100 || extended * 20 >= modules,
        "only {extended} of {modules} modules have an extended constant expression"
    );
    assert_eq!(counts.runs, modules * others.len() as u64);
    assert!(
        counts.instantiated * 4 >= counts.runs * 3,
        "only {} of {} runs instantiated",
        counts.instantiated,
        counts.runs
    );
    assert!(
        counts.calls >= counts.instantiated * 2,
        "only {} calls in {} instantiated runs",
        counts.calls,
        counts.instantiated
    );
    assert!(
        (counts.calls - counts.traps) * 5 >= counts.calls,
        "fewer than 20% of calls returned: {counts:?}"
    );
}

/// SIMD differential: `BAREFLOW_DIFF_SIMD_CASES=N` (300 by default, what CI runs) generates N
/// wasm-smith modules with SIMD and relaxed SIMD and runs each in the interpreter and in
/// every compiled mode, results, traps and memory compared (`BAREFLOW_DIFF_START` moves the
/// seeds, `BAREFLOW_DIFF_DUMP=DIR` writes each module to `DIR/simd-SEED.wasm`).
#[test]
fn differential_simd() {
    let cases = diff::env_u64("BAREFLOW_DIFF_SIMD_CASES", 300);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let (reference, others) = diff::all_engines();
    let others: Vec<&dyn diff::Engine> = others
        .iter()
        .filter(|e| bareflow::internals::wast::simd_in_mode(e.mode))
        .map(|e| e as &dyn diff::Engine)
        .collect();
    let mut counts = diff::Counts::default();
    let (mut modules, mut with_v128, mut calls) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let t0 = std::time::Instant::now();
    for seed in start..start + cases {
        let Some((wasm, module)) =
            diff::seed_module_with(&diff::smith_config_simd(), seed, "SIMD ")
        else {
            continue;
        };
        modules += 1;
        if let Ok(dir) = std::env::var("BAREFLOW_DIFF_DUMP") {
            let _ = std::fs::write(format!("{dir}/simd-{seed}.wasm"), &wasm);
        }
        if uses_v128(&wasm) {
            with_v128 += 1;
        }
        // The reference run itself (what `compare` does first), counted.
        let mut store = bareflow::Store::new(reference.config());
        if let Ok(inst) = store.instantiate(&module, &|_, _| None) {
            for e in module.exports() {
                if let (bareflow::ExternType::Func(ty), Some(bareflow::Extern::Func(f))) =
                    (&e.ty, store.export(inst, e.name))
                {
                    let args: Vec<Val> = ty.params.iter().map(|t| Val::default_for(*t)).collect();
                    let _ = store.call(f, &args);
                    calls += 1;
                }
            }
        }
        match diff::compare(&module, &wasm, seed, &reference, &others) {
            Ok(c) => counts += c,
            Err(d) => failures.push(d),
        }
    }
    eprintln!(
        "differential-simd: {cases} seeds, {modules} modules ({with_v128} using v128), \
         {calls} interpreter calls, {} compiled engines, {counts:?}, {} disagreements, {:.1?}",
        others.len(),
        failures.len(),
        t0.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if cases >= 100 {
        assert!(
            with_v128 * 3 >= cases,
            "only {with_v128} of {cases} seeds used v128"
        );
    }
}

/// Whether a module has any SIMD instruction or `v128` type.
fn uses_v128(wasm: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::CodeSectionEntry(body)) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    continue;
                };
                while !ops.eof() {
                    let Ok(op) = ops.read() else { break };
                    let name = format!("{op:?}");
                    if ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
                        .iter()
                        .any(|k| name.starts_with(k))
                    {
                        return true;
                    }
                }
            }
            Ok(wasmparser::Payload::TypeSection(r)) => {
                for g in r.into_iter().flatten() {
                    if format!("{g:?}").contains("V128") {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

// ---- the differential harness tested with deliberately broken engines --------------------------

/// `inner` run on the module with every `i32.add` turned into `i32.sub`: a compiler with one
/// wrong operator in one mode.
struct WrongAdd(diff::StoreEngine);

/// `wasm` with every `i32.add` (0x6a) in function bodies replaced by `i32.sub` (0x6b), and
/// how many were replaced.
fn add_to_sub(wasm: &[u8]) -> (Vec<u8>, usize) {
    let mut out = wasm.to_vec();
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let mut ops = body.get_operators_reader().expect("body");
            while !ops.eof() {
                let (op, at) = ops.read_with_offset().expect("operator");
                if matches!(op, wasmparser::Operator::I32Add) {
                    assert_eq!(out[at as usize], 0x6a);
                    out[at as usize] = 0x6b;
                    n += 1;
                }
            }
        }
    }
    (out, n)
}

impl diff::Engine for WrongAdd {
    fn name(&self) -> String {
        format!("{} (i32.add broken)", self.0.name())
    }
    fn instantiate(&self, _: &Module, wasm: &[u8]) -> Result<Box<dyn diff::Instance>, String> {
        let (broken, _) = add_to_sub(wasm);
        let module = Module::from_bytes(&broken).expect("still valid: same types");
        self.0.instantiate(&module, &broken)
    }
}

/// What [`Faulty`] gets wrong.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Instantiation fails (the module instantiates in the reference).
    Instantiation,
    /// The first call overflows the stack.
    StackOverflow,
    /// The first call's export is missing.
    MissingCall,
    /// Every exported global reads as `i32 7`.
    Global,
    /// The first byte of every exported memory reads flipped.
    Memory,
    /// Every exported table reads one element short.
    Table,
}

struct Faulty(diff::StoreEngine, Fault);

struct FaultyInstance {
    inner: Box<dyn diff::Instance>,
    fault: Fault,
    calls: usize,
}

impl diff::Engine for Faulty {
    fn name(&self) -> String {
        format!("{} ({:?} broken)", self.0.name(), self.1)
    }
    fn instantiate(&self, m: &Module, wasm: &[u8]) -> Result<Box<dyn diff::Instance>, String> {
        if let Fault::Instantiation = self.1 {
            return Err("unsupported (injected)".to_string());
        }
        Ok(Box::new(FaultyInstance {
            inner: self.0.instantiate(m, wasm)?,
            fault: self.1,
            calls: 0,
        }))
    }
}

impl diff::Instance for FaultyInstance {
    fn call(&mut self, name: &str, args: &[Val]) -> Option<Result<Vec<Val>, CallError>> {
        self.calls += 1;
        match self.fault {
            Fault::StackOverflow if self.calls == 1 => Some(Err(CallError::Trap(
                bareflow::Trap::new(TrapCode::StackOverflow),
            ))),
            Fault::MissingCall if self.calls == 1 => None,
            _ => self.inner.call(name, args),
        }
    }
    fn memory(&self, name: &str) -> Option<Vec<u8>> {
        let mut m = self.inner.memory(name)?;
        if let (Fault::Memory, Some(b)) = (self.fault, m.first_mut()) {
            *b ^= 1;
        }
        Some(m)
    }
    fn global(&self, name: &str) -> Option<String> {
        match self.fault {
            Fault::Global => Some(format!("{:?}", Val::I32(7))),
            _ => self.inner.global(name),
        }
    }
    fn table(&self, name: &str) -> Option<Vec<String>> {
        let mut t = self.inner.table(name)?;
        if let Fault::Table = self.fault {
            t.pop();
        }
        Some(t)
    }
    fn show(&self, v: &Val) -> String {
        self.inner.show(v)
    }
}

const HARNESS: &str = r#"
(module
  (memory (export "mem") 1 1)
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) func $add)
  (global (export "g") (mut i32) (i32.const 1))
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "store") (param i32)
    (i32.store8 (i32.const 0) (i32.const 0x5a))
    (global.set 0 (i32.mul (local.get 0) (i32.const 3))))
)
"#;

/// The harness passes identical engines and catches each broken one: a wrong `i32.add` in
/// one mode, a one-sided instantiation failure, a one-sided stack overflow, a missing call,
/// a wrong exported global, memory byte or table.
#[test]
fn differential_harness_catches_broken_engines() {
    let wasm = wat::parse_str(HARNESS).expect("wat");
    let module = Module::from_bytes(&wasm).expect("module");
    let (reference, others) = diff::all_engines();
    let all: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
    let c = diff::compare(&module, &wasm, 5, &reference, &all).expect("honest engines agree");
    assert_eq!(c.calls, 4 * all.len() as u64);

    let speed = diff::StoreEngine::new(Mode::JitSpeed, bareflow::MemoryMode::Checked);
    let snapshot = diff::StoreEngine::new(Mode::SnapshotXip, bareflow::MemoryMode::Checked);
    let wrong_add = WrongAdd(speed);
    let err = diff::compare(&module, &wasm, 5, &reference, &[&speed, &wrong_add])
        .expect_err("a wrong i32.add in jit-speed is caught");
    assert!(
        err.contains("i32.add broken") && err.contains("\"add\""),
        "{err}"
    );

    // A one-sided stack exhaustion is not a disagreement and not agreement either: the run
    // is inconclusive from that call on (counted, and more than the allowed fraction of
    // inconclusive runs fails `check_inconclusive`).
    let overflows = Faulty(snapshot, Fault::StackOverflow);
    let c = diff::compare(&module, &wasm, 5, &reference, &[&snapshot, &overflows])
        .expect("a one-sided stack exhaustion is inconclusive, not a disagreement");
    assert_eq!((c.runs, c.inconclusive, c.one_sided), (2, 1, 1), "{c:?}");
    // The honest run compares its 4 calls, the broken one only the call that overflowed.
    assert_eq!(c.calls, 4 + 1, "{c:?}");
    diff::check_inconclusive(&c).expect("1 inconclusive run is within the allowance");
    let c = diff::compare(
        &module,
        &wasm,
        5,
        &reference,
        &[&overflows, &overflows, &overflows],
    )
    .expect("inconclusive");
    assert_eq!(c.inconclusive, 3);
    let err = diff::check_inconclusive(&c).expect_err("3 of 3 runs inconclusive");
    assert!(err.contains("3 of 3 runs inconclusive"), "{err}");

    for (fault, what) in [
        (Fault::Instantiation, "instantiation"),
        (Fault::MissingCall, "no such exported function"),
        (Fault::Global, "globals"),
        (Fault::Memory, "memory \"mem\""),
        (Fault::Table, "tables"),
    ] {
        let broken = Faulty(snapshot, fault);
        let err = diff::compare(&module, &wasm, 5, &reference, &[&snapshot, &broken])
            .expect_err("caught");
        assert!(
            err.contains(&format!("{fault:?} broken")) && err.contains(what),
            "{fault:?}: {err}"
        );
    }
}

/// Stack exhaustion on both sides (unbounded recursion: the interpreter's frame limit, the
/// compiled engines' native budget) agrees on the trap, but the run is still inconclusive from
/// there on (the depth reached, and so the state left, is the engine's); the calls before it
/// are compared.
#[test]
fn differential_stack_exhaustion_on_both_sides_is_inconclusive() {
    let wat = r#"
      (module
        (global (export "depth") (mut i32) (i32.const 0))
        (func (export "first") (result i32) (i32.const 42))
        (func $rec (export "rec")
          (global.set 0 (i32.add (global.get 0) (i32.const 1)))
          (call $rec)))"#;
    let wasm = wat::parse_str(wat).expect("wat");
    let module = Module::from_bytes(&wasm).expect("module");
    let (reference, others) = diff::all_engines();
    let c = diff::on_big_stack(|| {
        let all: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
        diff::compare(&module, &wasm, 1, &reference, &all)
    })
    .expect("both sides exhaust the stack: inconclusive, not a disagreement");
    let n = others.len() as u64;
    assert_eq!((c.runs, c.inconclusive, c.one_sided), (n, n, 0), "{c:?}");
    // "first" (equal) and "rec" (StackOverflow on both sides) compared; the second round and
    // the global (a different depth in every engine) are not.
    assert_eq!((c.calls, c.traps), (2 * n, n), "{c:?}");
    let ref_trace = diff::run(&reference, &module, &wasm, 1);
    assert_eq!(ref_trace.calls.len(), 2, "the run stops at the exhaustion");
    assert!(ref_trace.globals.is_empty(), "no state read after it");
}

/// The wrong-`i32.add` engine is caught on wasm-smith modules too: of the modules of seeds
/// 0..1000 that have an `i32.add` (76 at the last count), some show it (1 at the last count:
/// most generated code traps or never reaches its additions; see README).
#[test]
fn differential_harness_catches_a_wrong_operator_in_generated_modules() {
    let (reference, _) = diff::all_engines();
    let broken = WrongAdd(diff::StoreEngine::new(
        Mode::Tiered,
        bareflow::MemoryMode::Checked,
    ));
    let (mut with_add, mut caught) = (0, 0);
    for seed in 0..1000 {
        let Some((wasm, module)) = seed_module(seed) else {
            continue;
        };
        if add_to_sub(&wasm).1 == 0 {
            continue;
        }
        with_add += 1;
        if diff::compare(&module, &wasm, seed, &reference, &[&broken]).is_err() {
            caught += 1;
        }
    }
    eprintln!("wrong i32.add caught in {caught} of {with_add} modules using it");
    assert!(with_add >= 50, "only {with_add} modules use i32.add");
    assert!(
        caught > 0,
        "a wrong i32.add went unnoticed in {with_add} modules"
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

/// The differential fuzz target's finding (`fuzz/artifacts-found/README.md`, fixed): export
/// `"1"` recurses 1,000-2,000 calls deep (bounded by the module's fuel). With the default
/// 1 MiB native budget `jit-none` with checked memory exhausts it where the interpreter runs
/// until the fuel is spent. Under the harness rule (docs/FUZZING.md) every engine has a
/// `diff::WASM_STACK` budget on a `diff::THREAD_STACK` thread: the module then agrees in every
/// mode with no inconclusive run; and the 1 MiB budget's one-sided exhaustion is classified
/// inconclusive (not equal, not a disagreement).
#[test]
fn differential_finding_jit_none_stack_budget() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/artifacts-found/differential-stack-overflow-jit-none.wasm"
    );
    let wasm = std::fs::read(path).expect("finding");
    let module = Module::from_bytes(&wasm).expect("module");
    // The fuzz target's call-argument seed for this input.
    let seed = 8_737_755_074_686_021_764;
    let (reference, others) = diff::all_engines();
    let c = diff::on_big_stack(|| {
        let all: Vec<&dyn diff::Engine> = others.iter().map(|e| e as &dyn diff::Engine).collect();
        diff::compare(&module, &wasm, seed, &reference, &all)
    })
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(c.inconclusive, 0, "{c:?}");
    assert_eq!(c.runs, others.len() as u64);

    // The old budget: jit-none checked exhausts it on the first call of "1", the interpreter
    // does not.
    let old = diff::StoreEngine::new(Mode::JitNone, bareflow::MemoryMode::Checked)
        .with_wasm_stack(runtime_loader::trap::DEFAULT_STACK_BUDGET);
    let (want, got) = diff::on_big_stack(|| {
        (
            diff::run(&reference, &module, &wasm, seed),
            diff::run(&old, &module, &wasm, seed),
        )
    });
    let at = got
        .calls
        .iter()
        .position(|(_, o)| diff::exhausted(o))
        .expect("jit-none exhausts the 1 MiB budget");
    assert!(!diff::exhausted(&want.calls[at].1), "{:?}", want.calls[at]);
    assert_eq!(
        diff::verdict("interp", &want, "jit-none/1MiB", &got),
        diff::Verdict::Inconclusive {
            at,
            one_sided: true
        }
    );
}
