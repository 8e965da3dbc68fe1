//! Issue #16 item 4 (memory64, table64), in the interpreter and every compiled mode (checked
//! and guard memory):
//! * `memory64_edges`: a hand-written module whose results are the spec's, written down
//!   here, not taken from an engine: loads and stores at large offsets, out-of-bounds
//!   accesses at addresses of 2^32 and more (trap, not wrap: the classic bug is an address
//!   truncated to 32 bits aliasing a valid one, and an address + offset sum wrapping
//!   around 2^64), `memory.grow` with i64 deltas (past the maximum and past 2^32: -1), bulk
//!   operations with 64-bit operands, table64 `call_indirect` / `table.grow` / `table.size`;
//! * `differential_memory64`: wasm-smith modules with `memory64_enabled`, interp vs every
//!   compiled mode, results, traps and memory compared by `diff::compare`
//!   (`BAREFLOW_DIFF_MEM64_CASES=N` seeds, 150 by default, from `BAREFLOW_DIFF_START`).

mod diff;

use bareflow::{CallError, Module, TrapCode, Val};
use diff::Engine;

const EDGES: &str = r#"(module
  (memory (export "mem") i64 1 3)
  (table $t i64 4 funcref)
  (type $r (func (result i32)))
  (elem (table $t) (i64.const 1) func $seven)
  (data (i64.const 16) "\2a\00\00\00")
  (func $seven (result i32) (i32.const 7))
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "load_off20") (param i64) (result i32) (i32.load offset=0x20 (local.get 0)))
  (func (export "load_off4g") (param i64) (result i32) (i32.load offset=0x100000000 (local.get 0)))
  (func (export "load64_top") (param i64) (result i64) (i64.load offset=65528 (local.get 0)))
  (func (export "load8") (param i64) (result i32) (i32.load8_u offset=0xfff0 (local.get 0)))
  (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0)))
  (func (export "tsize") (result i64) (table.size $t))
  (func (export "tgrow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "v_load") (param i64) (result i64)
    (i64x2.extract_lane 0 (v128.load offset=8 (local.get 0))))
  (func (export "v_store_lane") (param i64 i64)
    (v128.store64_lane 1 (local.get 0) (i64x2.splat (local.get 1))))
  (func (export "v_load_lane") (param i64) (result i64)
    (i64x2.extract_lane 1 (v128.load64_lane 1 (local.get 0) (v128.const i64x2 0 0))))
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

/// The call sequence (one instance, in order) and the spec's results.
fn script() -> Vec<(&'static str, Vec<Val>, Want)> {
    use Val::{I32, I64};
    let a = |v: u64| I64(v as i64);
    vec![
        ("load", vec![a(16)], i32s(42)),
        // 2^32 + 16 truncated to 32 bits is 16, which holds 42: must trap, not alias.
        ("load", vec![a(0x1_0000_0010)], OOB),
        ("load", vec![a(u64::MAX)], OOB),
        // u64::MAX - 15 + 0x20 wraps around 2^64 to 16: must trap, not alias.
        ("load_off20", vec![a(u64::MAX - 15)], OOB),
        ("load_off20", vec![a(0)], i32s(0)),
        ("load_off4g", vec![a(0)], OOB),
        ("load64_top", vec![a(0)], i64s(0)),
        ("load64_top", vec![a(1)], OOB),
        ("load8", vec![a(0xf)], i32s(0)),
        ("load8", vec![a(0x10)], OOB),
        ("store", vec![a(65532), I32(0x1234_5678)], none()),
        ("load", vec![a(65532)], i32s(0x1234_5678)),
        ("store", vec![a(65533), I32(1)], OOB),
        ("store", vec![a(0x1_0000_0000), I32(1)], OOB),
        // The failed stores wrote nothing: address 0 (the alias of 2^32) is still 0.
        ("load", vec![a(0)], i32s(0)),
        // SIMD: the address sits below the vector operand of stores and lane accesses.
        ("v_load", vec![a(8)], i64s(42)),
        ("v_load", vec![a(65512)], i64s(0)),
        ("v_load", vec![a(65513)], OOB),
        ("v_load", vec![a(0x1_0000_0008)], OOB),
        ("v_store_lane", vec![a(40), I64(-5)], none()),
        ("v_load_lane", vec![a(40)], i64s(-5)),
        ("v_store_lane", vec![a(0x1_0000_0028), I64(9)], OOB),
        ("v_load_lane", vec![a(0x1_0000_0028)], OOB),
        ("v_load_lane", vec![a(40)], i64s(-5)),
        ("size", vec![], i64s(1)),
        ("grow", vec![a(1)], i64s(1)),
        ("size", vec![], i64s(2)),
        // Past the declared maximum (3 pages) and past 2^32 pages: -1, size unchanged.
        ("grow", vec![a(2)], i64s(-1)),
        ("grow", vec![a(0x1_0000_0001)], i64s(-1)),
        ("grow", vec![a(u64::MAX)], i64s(-1)),
        ("size", vec![], i64s(2)),
        ("grow", vec![a(1)], i64s(2)),
        ("load", vec![a(3 * 65536 - 4)], i32s(0)),
        ("load", vec![a(3 * 65536 - 3)], OOB),
        // Bulk operations: a 64-bit destination or length of 2^32 or more traps, a zero
        // length at the end is fine.
        ("fill", vec![a(3 * 65536), I32(0), a(0)], none()),
        ("fill", vec![a(0x1_0000_0000), I32(0), a(0)], OOB),
        ("fill", vec![a(0), I32(0), a(0x1_0000_0000)], OOB),
        ("fill", vec![a(100), I32(0x55), a(4)], none()),
        ("load", vec![a(100)], i32s(0x5555_5555)),
        ("copy", vec![a(200), a(100), a(4)], none()),
        ("load", vec![a(200)], i32s(0x5555_5555)),
        ("copy", vec![a(0x1_0000_00c8), a(100), a(4)], OOB),
        ("copy", vec![a(200), a(0x1_0000_0064), a(4)], OOB),
        // table64: entry 1 holds $seven; 2^32 + 1 would alias it after truncation.
        ("call", vec![a(1)], i32s(7)),
        (
            "call",
            vec![a(0x1_0000_0001)],
            Want::Trap(TrapCode::UndefinedElement),
        ),
        ("call", vec![a(4)], Want::Trap(TrapCode::UndefinedElement)),
        (
            "call",
            vec![a(2)],
            Want::Trap(TrapCode::UninitializedElement),
        ),
        ("tsize", vec![], i64s(4)),
        ("tgrow", vec![a(0x1_0000_0000)], i64s(-1)),
        ("tgrow", vec![a(2)], i64s(4)),
        ("tsize", vec![], i64s(6)),
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
fn memory64_edges() {
    let module = Module::from_bytes(EDGES.as_bytes()).expect("memory64 module");
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
        let mem = inst.memory("mem").expect("exported memory");
        assert_eq!(mem.len(), 3 * 65536, "{}", engine.name());
    }
    assert!(engines >= 6, "{engines} engines");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A memory64 memory of 4 GiB (65,536 pages) is refused cleanly (the cap is one page less,
/// docs/ABI.md "memory64"), and one whose declared maximum is 2^48 pages instantiates
/// without reserving it.
#[test]
fn memory64_size_limits() {
    let (reference, others) = diff::all_engines();
    let huge = Module::from_bytes(b"(module (memory i64 65536))").unwrap();
    let max48 = Module::from_bytes(
        br#"(module (memory i64 1 0x1000000000000)
              (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    for engine in std::iter::once(&reference).chain(&others) {
        let e = engine.instantiate(&huge, &[]).err();
        assert!(
            e.as_deref().is_some_and(|e| e.starts_with("resource")),
            "{}: {e:?}",
            engine.name()
        );
        let mut inst = engine.instantiate(&max48, &[]).unwrap();
        let got = inst.call("grow", &[Val::I64(65535)]);
        assert!(
            check(&i64s(-1), &got),
            "{}: grow to 65,536 pages: {got:?}",
            engine.name()
        );
        let got = inst.call("grow", &[Val::I64(3)]);
        assert!(check(&i64s(1), &got), "{}: {got:?}", engine.name());
    }
}

/// Whether a module has a memory64 memory or a table64 table.
fn has_64(wasm: &[u8]) -> bool {
    let m = Module::from_bytes(wasm).expect("parsed");
    let meta = &m.parsed().meta;
    meta.memories.iter().any(|m| m.index64) || meta.tables.iter().any(|t| t.index64)
}

#[test]
fn differential_memory64() {
    let cases = diff::env_u64("BAREFLOW_DIFF_MEM64_CASES", 150);
    let start = diff::env_u64("BAREFLOW_DIFF_START", 0);
    let config = wasm_smith::Config {
        memory64_enabled: true,
        max_memory64_bytes: 4 << 16,
        ..diff::smith_config()
    };
    let mut counts = diff::Counts::default();
    let (mut modules, mut with_64) = (0u64, 0u64);
    let mut failures = Vec::new();
    let mut engines = 0;
    diff::on_big_stack(|| {
        let (reference, others) = diff::all_engines();
        let others: Vec<&dyn diff::Engine> =
            others.iter().map(|e| e as &dyn diff::Engine).collect();
        engines = others.len();
        for seed in start..start + cases {
            let Some((wasm, module)) = diff::seed_module_with(&config, seed, "memory64 ") else {
                continue;
            };
            modules += 1;
            with_64 += u64::from(has_64(&wasm));
            match diff::compare(&module, &wasm, seed, &reference, &others) {
                Ok(c) => counts += c,
                Err(d) => failures.push(d),
            }
        }
    });
    eprintln!(
        "differential-mem64: {cases} seeds, {modules} modules ({with_64} with a 64-bit memory \
         or table), {engines} compiled engines, {counts:?}, {} disagreements",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    diff::check_inconclusive(&counts).unwrap();
    if cases >= 100 {
        assert!(
            with_64 * 4 >= cases,
            "only {with_64} of {cases} seeds had a 64-bit memory or table"
        );
    }
}
