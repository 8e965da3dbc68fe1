//! Issue #16 item 3 (multi-memory), in the interpreter and every compiled mode (checked and
//! guard memory):
//! * `multi_memory_edges`: a hand-written module with three memories (a 32-bit memory 0, a
//!   32-bit memory 1 that grows, a memory64 memory 2) whose results are the spec's, written
//!   down here, not taken from an engine: loads and stores per memory, an access out of
//!   bounds on memory 1 that would be in bounds on memory 0 (and the reverse), `memory.grow`
//!   and `memory.size` of memory 1, copies between memories, fill and init per memory, SIMD
//!   loads, stores and lane accesses on memory 1, active data segments into memory 1 and 2;
//! * `imported_and_exported_second_memory`: memory 1 of one module is imported as memory 1
//!   of another, which exports a second memory of its own; both see each other's writes
//!   and growth;
//! * `differential_multi_memory`: wasm-smith modules with up to three memories (32- and
//!   64-bit mixed), interp vs every compiled mode, results, traps and every exported memory
//!   compared by `diff::compare` (`BAREFLOW_DIFF_MULTIMEM_CASES=N` seeds, 120 by default,
//!   from `BAREFLOW_DIFF_START`).

mod diff;

use bareflow::{CallError, Extern, Module, Store, TrapCode, Val};
use diff::Engine;

const EDGES: &str = r#"(module
  (memory $m0 (export "mem0") 1 1)
  (memory $m1 (export "mem1") 1 3)
  (memory $m2 (export "mem2") i64 1 2)
  (data (memory $m1) (i32.const 16) "\2a\00\00\00")
  (data (memory $m2) (i64.const 32) "\07\00\00\00")
  (data $p "\11\22\33\44")
  (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
  (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
  (func (export "load1_off") (param i32) (result i32) (i32.load $m1 offset=0xfffc (local.get 0)))
  (func (export "load2") (param i64) (result i32) (i32.load $m2 (local.get 0)))
  (func (export "load1_8s") (param i32) (result i64) (i64.load8_s $m1 (local.get 0)))
  (func (export "store0") (param i32 i32) (i32.store $m0 (local.get 0) (local.get 1)))
  (func (export "store1") (param i32 i32) (i32.store $m1 (local.get 0) (local.get 1)))
  (func (export "store1_16") (param i32 i64) (i64.store16 $m1 (local.get 0) (local.get 1)))
  (func (export "store2") (param i64 i32) (i32.store $m2 offset=4 (local.get 0) (local.get 1)))
  (func (export "size0") (result i32) (memory.size $m0))
  (func (export "size1") (result i32) (memory.size $m1))
  (func (export "size2") (result i64) (memory.size $m2))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "grow2") (param i64) (result i64) (memory.grow $m2 (local.get 0)))
  ;; memory.copy $dst $src
  (func (export "copy01") (param i32 i32 i32)
    (memory.copy $m0 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy10") (param i32 i32 i32)
    (memory.copy $m1 $m0 (local.get 0) (local.get 1) (local.get 2)))
  ;; 32-bit destination, 64-bit source: the length is i32.
  (func (export "copy12") (param i32 i64 i32)
    (memory.copy $m1 $m2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy11") (param i32 i32 i32)
    (memory.copy $m1 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill1") (param i32 i32 i32)
    (memory.fill $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill2") (param i64 i32 i64)
    (memory.fill $m2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init1") (param i32 i32 i32)
    (memory.init $m1 $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "v_load1") (param i32) (result i64)
    (i64x2.extract_lane 0 (v128.load $m1 offset=8 (local.get 0))))
  (func (export "v_store1") (param i32 i64) (v128.store $m1 (local.get 0) (i64x2.splat (local.get 1))))
  (func (export "v_lane1") (param i32) (result i64)
    (i64x2.extract_lane 1 (v128.load64_lane $m1 1 (local.get 0) (v128.const i64x2 0 0))))
  (func (export "v_store_lane2") (param i64 i64)
    (v128.store64_lane $m2 1 (local.get 0) (i64x2.splat (local.get 1))))
  (func (export "v_splat2") (param i64) (result i32)
    (i32x4.extract_lane 3 (v128.load32_splat $m2 (local.get 0))))
)"#;

/// What a call must give.
#[derive(Debug)]
enum Want {
    Vals(Vec<Val>),
    Trap(TrapCode),
}

fn i32s(v: i32) -> Want {
    Want::Vals(vec![Val::I32(v)])
}

fn i64s(v: i64) -> Want {
    Want::Vals(vec![Val::I64(v)])
}

fn none() -> Want {
    Want::Vals(vec![])
}

const OOB: Want = Want::Trap(TrapCode::MemoryOutOfBounds);
const PAGE: i32 = 65536;

/// The call sequence (one instance, in order) and the spec's results.
fn script() -> Vec<(&'static str, Vec<Val>, Want)> {
    use Val::{I32, I64};
    vec![
        // Data segments went to their own memories.
        ("load1", vec![I32(16)], i32s(42)),
        ("load0", vec![I32(16)], i32s(0)),
        ("load2", vec![I64(32)], i32s(7)),
        ("load1_8s", vec![I32(16)], i64s(42)),
        // Stores stay in their memory.
        ("store0", vec![I32(100), I32(-1)], none()),
        ("load0", vec![I32(100)], i32s(-1)),
        ("load1", vec![I32(100)], i32s(0)),
        ("store1_16", vec![I32(200), I64(0x1_2345)], none()),
        ("load1", vec![I32(200)], i32s(0x2345)),
        ("load0", vec![I32(200)], i32s(0)),
        ("store2", vec![I64(60), I32(99)], none()),
        ("load2", vec![I64(64)], i32s(99)),
        ("load2", vec![I64(0x1_0000_0040)], OOB),
        // Sizes are per memory; memory 1 grows to its maximum, memory 0 stays.
        ("size0", vec![], i32s(1)),
        ("size1", vec![], i32s(1)),
        ("size2", vec![], i64s(1)),
        ("load1", vec![I32(PAGE)], OOB),
        ("load1_off", vec![I32(4)], OOB),
        ("grow1", vec![I32(1)], i32s(1)),
        ("size1", vec![], i32s(2)),
        ("size0", vec![], i32s(1)),
        // In bounds on memory 1 (2 pages) but out of bounds on memory 0 (1 page).
        ("load1", vec![I32(PAGE)], i32s(0)),
        ("load1_off", vec![I32(4)], i32s(0)),
        ("load0", vec![I32(PAGE)], OOB),
        ("store1", vec![I32(PAGE + 8), I32(5)], none()),
        ("load1", vec![I32(PAGE + 8)], i32s(5)),
        ("store0", vec![I32(PAGE + 8), I32(5)], OOB),
        ("grow1", vec![I32(2)], i32s(-1)),
        ("grow1", vec![I32(1)], i32s(2)),
        ("size1", vec![], i32s(3)),
        ("load1", vec![I32(3 * PAGE - 4)], i32s(0)),
        ("load1", vec![I32(3 * PAGE - 3)], OOB),
        ("grow2", vec![I64(1)], i64s(1)),
        ("grow2", vec![I64(1)], i64s(-1)),
        ("size2", vec![], i64s(2)),
        // Copies between memories: memory 1 byte 16.. (42) into memory 0 at 300.
        ("copy01", vec![I32(300), I32(16), I32(4)], none()),
        ("load0", vec![I32(300)], i32s(42)),
        ("copy10", vec![I32(400), I32(100), I32(4)], none()),
        ("load1", vec![I32(400)], i32s(-1)),
        ("copy12", vec![I32(500), I64(64), I32(4)], none()),
        ("load1", vec![I32(500)], i32s(99)),
        // Ranges are checked against each memory's own size: a source past memory 0's end
        // traps even though memory 1 is larger, and the reverse copy of the same range
        // into memory 1 works.
        ("copy01", vec![I32(0), I32(PAGE), I32(4)], none()),
        ("copy10", vec![I32(PAGE), I32(0), I32(4)], none()),
        ("copy01", vec![I32(PAGE), I32(0), I32(4)], OOB),
        ("copy10", vec![I32(0), I32(PAGE), I32(4)], OOB),
        ("copy12", vec![I32(0), I64(0x1_0000_0000), I32(4)], OOB),
        ("copy11", vec![I32(600), I32(PAGE + 8), I32(4)], none()),
        ("load1", vec![I32(600)], i32s(5)),
        // Fill and init per memory.
        ("fill1", vec![I32(700), I32(0x55), I32(4)], none()),
        ("load1", vec![I32(700)], i32s(0x5555_5555)),
        ("load0", vec![I32(700)], i32s(0)),
        ("fill1", vec![I32(3 * PAGE - 2), I32(0), I32(4)], OOB),
        ("fill2", vec![I64(80), I32(0x66), I64(4)], none()),
        ("load2", vec![I64(80)], i32s(0x6666_6666)),
        ("fill2", vec![I64(0x1_0000_0000), I32(0), I64(1)], OOB),
        ("init1", vec![I32(800), I32(0), I32(4)], none()),
        ("load1", vec![I32(800)], i32s(0x4433_2211)),
        ("load0", vec![I32(800)], i32s(0)),
        ("init1", vec![I32(3 * PAGE - 2), I32(0), I32(4)], OOB),
        // SIMD on memory 1 and memory 2.
        ("v_load1", vec![I32(8)], i64s(42)),
        ("v_load1", vec![I32(3 * PAGE - 24)], i64s(0)),
        ("v_load1", vec![I32(3 * PAGE - 23)], OOB),
        ("v_store1", vec![I32(900), I64(-3)], none()),
        ("load1", vec![I32(908)], i32s(-3)),
        ("load0", vec![I32(908)], i32s(0)),
        ("v_lane1", vec![I32(900)], i64s(-3)),
        ("v_lane1", vec![I32(3 * PAGE - 7)], OOB),
        ("v_store_lane2", vec![I64(120), I64(0x0102_0304)], none()),
        ("load2", vec![I64(120)], i32s(0x0102_0304)),
        ("v_splat2", vec![I64(120)], i32s(0x0102_0304)),
        ("v_splat2", vec![I64(2 * PAGE as i64 - 3)], OOB),
        ("v_store_lane2", vec![I64(0x1_0000_0078), I64(1)], OOB),
    ]
}

fn check(want: &Want, got: &Option<Result<Vec<Val>, CallError>>) -> bool {
    match (want, got) {
        (Want::Vals(w), Some(Ok(g))) => w == g,
        (Want::Trap(c), Some(Err(CallError::Trap(t)))) => t.code == *c,
        _ => false,
    }
}

#[test]
fn multi_memory_edges() {
    let module = Module::from_bytes(EDGES.as_bytes()).expect("multi-memory module");
    let (reference, others) = diff::all_engines();
    let mut failures = Vec::new();
    let mut engines = 0;
    for engine in std::iter::once(&reference).chain(&others) {
        engines += 1;
        let mut inst = engine
            .instantiate(&module, &[])
            .unwrap_or_else(|e| panic!("{}: instantiate: {e}", engine.name()));
        for (name, args, want) in script() {
            let got = inst.call(name, &args);
            if !check(&want, &got) {
                failures.push(format!(
                    "{}: {name}{args:?}: want {want:?}, got {got:?}",
                    engine.name()
                ));
            }
        }
        let lens = ["mem0", "mem1", "mem2"].map(|m| inst.memory(m).map(|b| b.len()));
        assert_eq!(
            lens,
            [Some(65536), Some(3 * 65536), Some(2 * 65536)],
            "{}",
            engine.name()
        );
    }
    assert!(engines >= 6, "{engines} engines");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const EXPORTER: &str = r#"(module
  (memory $a (export "a") 1)
  (memory $b (export "b") 1 4)
  (func (export "read_b") (param i32) (result i32) (i32.load $b (local.get 0)))
  (func (export "size_b") (result i32) (memory.size $b)))"#;

/// Imports the exporter's two memories as its memories 0 and 1 (so the second memory is
/// imported) and defines and exports a memory 2 of its own.
const IMPORTER: &str = r#"(module
  (import "x" "a" (memory $own 1))
  (import "x" "b" (memory $imp 1 4))
  (memory $third (export "third") 2)
  (data (memory $imp) (i32.const 4) "\05\00\00\00")
  (func (export "write_imp") (param i32 i32) (i32.store $imp (local.get 0) (local.get 1)))
  (func (export "read_imp") (param i32) (result i32) (i32.load $imp (local.get 0)))
  (func (export "read_own") (param i32) (result i32) (i32.load $own (local.get 0)))
  (func (export "grow_imp") (param i32) (result i32) (memory.grow $imp (local.get 0)))
  (func (export "write_third") (param i32 i32) (i32.store $third (local.get 0) (local.get 1)))
  (func (export "copy_third_to_imp") (param i32 i32 i32)
    (memory.copy $imp $third (local.get 0) (local.get 1) (local.get 2))))"#;

fn call(store: &mut Store, inst: bareflow::InstanceId, name: &str, args: &[Val]) -> Vec<Val> {
    let Some(Extern::Func(f)) = store.export(inst, name) else {
        panic!("no export {name}");
    };
    store
        .call(f, args)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn imported_and_exported_second_memory() {
    use Val::I32;
    let exporter = Module::from_bytes(EXPORTER.as_bytes()).unwrap();
    let importer = Module::from_bytes(IMPORTER.as_bytes()).unwrap();
    let (reference, others) = diff::all_engines();
    for engine in std::iter::once(&reference).chain(&others) {
        let name = engine.name();
        let mut store = Store::new(engine.config());
        let x = store.instantiate(&exporter, &|_, _| None).unwrap();
        let a = store.export(x, "a").expect("memory a");
        let b = store.export(x, "b").expect("memory b");
        let y = store
            .instantiate(&importer, &|m, n| match (m, n) {
                ("x", "a") => Some(a),
                ("x", "b") => Some(b),
                _ => None,
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The importer's data segment landed in the exporter's memory 1.
        assert_eq!(call(&mut store, x, "read_b", &[I32(4)]), [I32(5)], "{name}");
        call(&mut store, y, "write_imp", &[I32(8), I32(77)]);
        assert_eq!(
            call(&mut store, x, "read_b", &[I32(8)]),
            [I32(77)],
            "{name}"
        );
        assert_eq!(
            call(&mut store, y, "read_own", &[I32(8)]),
            [I32(0)],
            "{name}"
        );
        // Growth by the importer is seen by the exporter, and the importer reaches the
        // new page.
        assert_eq!(
            call(&mut store, y, "grow_imp", &[I32(2)]),
            [I32(1)],
            "{name}"
        );
        assert_eq!(call(&mut store, x, "size_b", &[]), [I32(3)], "{name}");
        call(&mut store, y, "write_imp", &[I32(2 * 65536), I32(9)]);
        assert_eq!(
            call(&mut store, x, "read_b", &[I32(2 * 65536)]),
            [I32(9)],
            "{name}"
        );
        // The importer's own exported second memory.
        call(&mut store, y, "write_third", &[I32(65540), I32(123)]);
        let Some(Extern::Memory(third)) = store.export(y, "third") else {
            panic!("{name}: no memory `third`");
        };
        let mut buf = [0u8; 4];
        store.read(third, 65540, &mut buf).unwrap();
        assert_eq!(i32::from_le_bytes(buf), 123, "{name}");
        call(
            &mut store,
            y,
            "copy_third_to_imp",
            &[I32(12), I32(65540), I32(4)],
        );
        assert_eq!(
            call(&mut store, x, "read_b", &[I32(12)]),
            [I32(123)],
            "{name}"
        );
    }
}

#[test]
fn differential_multi_memory() {
    let cases = diff::env_u64("BAREFLOW_DIFF_MULTIMEM_CASES", 120);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let config = wasm_smith::Config {
        min_memories: 2,
        max_memories: 3,
        memory64_enabled: true,
        max_memory64_bytes: 4 << 16,
        ..diff::smith_config()
    };
    let mut counts = diff::Counts::default();
    let (mut modules, mut with_many) = (0u64, 0u64);
    let mut failures = Vec::new();
    let mut engines = 0;
    diff::on_big_stack(|| {
        let (reference, others) = diff::all_engines();
        let others: Vec<&dyn diff::Engine> =
            others.iter().map(|e| e as &dyn diff::Engine).collect();
        engines = others.len();
        for seed in start..start + cases {
            let Some((wasm, module)) = diff::seed_module_with(&config, seed, "multi-memory ")
            else {
                continue;
            };
            modules += 1;
            with_many += u64::from(module.parsed().meta.memories.len() > 1);
            match diff::compare(&module, &wasm, seed, &reference, &others) {
                Ok(c) => counts += c,
                Err(d) => failures.push(d),
            }
        }
    });
    eprintln!(
        "differential-multimem: {cases} seeds, {modules} modules ({with_many} with 2+ \
         memories), {engines} compiled engines, {counts:?}, {} disagreements",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    diff::check_inconclusive(&counts).unwrap();
    if cases >= 100 {
        assert!(
            with_many * 4 >= cases,
            "only {with_many} of {cases} seeds had two or more memories"
        );
    }
}
