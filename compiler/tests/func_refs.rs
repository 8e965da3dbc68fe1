//! Issue #16 item 5: typed function references (`(ref null? $t)`, `call_ref`,
//! `return_call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-nullable
//! locals, tables with initialiser expressions) in every mode, checked and guard memory.

use bareflow::{CallError, Config, Extern, MemoryMode, Mode, Module, Store, TrapCode, Val};

const WAT: &str = r#"
(module
  (type $ii (func (param i32) (result i32)))
  (type $step (func (param i32 i64) (result i64)))
  (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (elem declare func $dbl $inc $even $odd)
  (global $g (mut (ref null $ii)) (ref.null $ii))
  ;; Picks $dbl (k = 0), $inc (k = 1) or null (otherwise).
  (func $pick (param $k i32) (result (ref null $ii))
    (if (result (ref null $ii)) (i32.eqz (local.get $k))
      (then (ref.func $dbl))
      (else (if (result (ref null $ii)) (i32.eq (local.get $k) (i32.const 1))
        (then (ref.func $inc))
        (else (ref.null $ii))))))
  (func (export "call") (param $k i32) (param $x i32) (result i32)
    (call_ref $ii (local.get $x) (call $pick (local.get $k))))
  (func (export "tail") (param $k i32) (param $x i32) (result i32)
    (return_call_ref $ii (local.get $x) (call $pick (local.get $k))))
  (func (export "non_null") (param $k i32) (result i32)
    (local $f (ref $ii))
    (local.set $f (ref.as_non_null (call $pick (local.get $k))))
    (call_ref $ii (i32.const 10) (local.get $f)))
  ;; -1 for null, else f(100), by br_on_null.
  (func (export "on_null") (param $k i32) (result i32)
    (block $null
      (return (call_ref $ii (i32.const 100) (br_on_null $null (call $pick (local.get $k))))))
    (i32.const -1))
  ;; f(7) by br_on_non_null, else -2.
  (func (export "on_non_null") (param $k i32) (result i32)
    (call_ref $ii (i32.const 7)
      (block $some (result (ref $ii))
        (br_on_non_null $some (call $pick (local.get $k)))
        (return (i32.const -2)))))
  ;; A table of non-nullable references: every element starts as $inc.
  (table $t 4 (ref $ii) (ref.func $inc))
  (func (export "via_table") (param $k i32) (param $x i32) (result i32)
    (call_ref $ii (local.get $x) (table.get $t (local.get $k))))
  (func (export "table_size") (result i32) (table.size $t))
  ;; A global of a typed reference type.
  (func (export "via_global") (param $k i32) (param $x i32) (result i32)
    (global.set $g (call $pick (local.get $k)))
    (call_ref $ii (local.get $x) (global.get $g)))
  ;; Million-deep mutual recursion through return_call_ref.
  (func $even (export "even") (type $step)
    (if (result i64) (i32.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call_ref $step (i32.sub (local.get 0) (i32.const 1))
                                   (i64.add (local.get 1) (i64.const 1))
                                   (ref.func $odd)))))
  (func $odd (type $step)
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.sub (i64.const 0) (local.get 1)))
      (else (return_call_ref $step (i32.sub (local.get 0) (i32.const 1))
                                   (i64.add (local.get 1) (i64.const 2))
                                   (ref.func $even))))))
"#;

fn expected(n: u32) -> i64 {
    let (mut acc, mut even) = (0i64, true);
    for _ in 0..n {
        acc += if even { 1 } else { 2 };
        even = !even;
    }
    if even { acc } else { -acc }
}

fn run(mode: Mode, memory: MemoryMode) {
    let what = format!("{mode:?} {memory:?}");
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    let mut config = Config::new(mode);
    config.memory = memory;
    config.max_call_depth = 4;
    config.tier_up.calls = 2;
    config.tier_up.back_edges = 2;
    let mut store = Store::new(config);
    let inst = store
        .instantiate(&module, &|_, _| None)
        .expect("instantiate");
    let mut call = |name: &str, args: &[Val]| -> Result<Vec<Val>, CallError> {
        let Some(Extern::Func(f)) = store.export(inst, name) else {
            panic!("export {name}")
        };
        store.call(f, args)
    };
    let i = |v: i32| Val::I32(v);
    for round in 0..3 {
        let w = format!("{what} round {round}");
        for name in ["call", "tail", "via_global"] {
            assert_eq!(
                call(name, &[i(0), i(21)]).expect(name),
                [i(42)],
                "{w} {name}"
            );
            assert_eq!(
                call(name, &[i(1), i(21)]).expect(name),
                [i(22)],
                "{w} {name}"
            );
        }
        for k in 0..4 {
            assert_eq!(
                call("via_table", &[i(k), i(5)]).expect("tab"),
                [i(6)],
                "{w} {k}"
            );
        }
        assert_eq!(call("table_size", &[]).expect("size"), [i(4)], "{w}");
        assert_eq!(call("non_null", &[i(0)]).expect("nn"), [i(20)], "{w}");
        assert_eq!(call("on_null", &[i(1)]).expect("on_null"), [i(101)], "{w}");
        assert_eq!(call("on_null", &[i(2)]).expect("on_null"), [i(-1)], "{w}");
        assert_eq!(call("on_non_null", &[i(0)]).expect("onn"), [i(14)], "{w}");
        assert_eq!(call("on_non_null", &[i(5)]).expect("onn"), [i(-2)], "{w}");
        for (name, args, code) in [
            ("call", vec![i(2), i(1)], TrapCode::NullFuncRef),
            ("tail", vec![i(2), i(1)], TrapCode::NullFuncRef),
            ("via_global", vec![i(9), i(1)], TrapCode::NullFuncRef),
            ("non_null", vec![i(3)], TrapCode::NullReference),
        ] {
            match call(name, &args) {
                Err(CallError::Trap(t)) => assert_eq!(t.code, code, "{w} {name}: {t}"),
                other => panic!("{w} {name}: {other:?}"),
            }
        }
        for n in [0u32, 3, 1_000_000] {
            assert_eq!(
                call("even", &[i(n as i32), Val::I64(0)]).expect("even"),
                [Val::I64(expected(n))],
                "{w} even({n})"
            );
        }
    }
}

#[test]
fn typed_function_references_in_every_mode() {
    let mut modes = vec![(Mode::Interp, MemoryMode::Checked)];
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
        // A small thread: return_call_ref must not grow the host stack either.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || run(mode, memory))
            .expect("spawn")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }
}

/// `call_indirect` compares precise signatures: a function taking `(ref null $t)` is not
/// callable through a `call_indirect` typed `(param funcref)` (nor the reverse), while
/// equal typed signatures of two modules match each other through a shared table.
const PRECISE_A: &str = r#"
(module
  (type $t (func))
  (type $typed (func (param (ref null $t)) (result i32)))
  (type $plain (func (param funcref) (result i32)))
  (table $tab (export "tab") 4 funcref)
  (func $typed_f (type $typed) (i32.const 1))
  (func $plain_f (type $plain) (i32.const 2))
  (elem (table $tab) (i32.const 0) func $typed_f $plain_f)
  (func (export "as_typed") (param $i i32) (result i32)
    (call_indirect $tab (type $typed) (ref.null $t) (local.get $i)))
  (func (export "as_plain") (param $i i32) (result i32)
    (call_indirect $tab (type $plain) (ref.null func) (local.get $i))))
"#;

/// A second module whose typed signature is spelled with other type indices.
const PRECISE_B: &str = r#"
(module
  (type $pad (func (param i64)))
  (type $u (func))
  (type $typed2 (func (param (ref null $u)) (result i32)))
  (import "a" "tab" (table $tab 4 funcref))
  (func $g (type $typed2) (i32.const 3))
  (elem (table $tab) (i32.const 2) func $g)
  (func (export "as_typed2") (param $i i32) (result i32)
    (call_indirect $tab (type $typed2) (ref.null $u) (local.get $i))))
"#;

fn precise(mode: Mode) {
    let a = Module::from_bytes(PRECISE_A.as_bytes()).expect("module a");
    let b = Module::from_bytes(PRECISE_B.as_bytes()).expect("module b");
    let mut config = Config::new(mode);
    config.tier_up.calls = 2;
    let mut store = Store::new(config);
    let ia = store.instantiate(&a, &|_, _| None).expect("instantiate a");
    let tab = store.export(ia, "tab").expect("tab");
    let ib = store
        .instantiate(&b, &|m, n| (m == "a" && n == "tab").then_some(tab))
        .expect("instantiate b");
    let i = Val::I32;
    for round in 0..3 {
        let w = format!("{mode:?} round {round}");
        let mut call = |inst, name: &str, k: i32| {
            let Some(Extern::Func(f)) = store.export(inst, name) else {
                panic!("export {name}")
            };
            store.call(f, &[i(k)])
        };
        assert_eq!(call(ia, "as_typed", 0).expect("typed"), [i(1)], "{w}");
        assert_eq!(call(ia, "as_plain", 1).expect("plain"), [i(2)], "{w}");
        assert_eq!(call(ia, "as_typed", 2).expect("b's g"), [i(3)], "{w}");
        assert_eq!(call(ib, "as_typed2", 0).expect("a's f"), [i(1)], "{w}");
        assert_eq!(call(ib, "as_typed2", 2).expect("g"), [i(3)], "{w}");
        for (inst, name, k) in [
            (ia, "as_typed", 1),
            (ia, "as_plain", 0),
            (ia, "as_plain", 2),
            (ib, "as_typed2", 1),
        ] {
            match call(inst, name, k) {
                Err(CallError::Trap(t)) => {
                    assert_eq!(
                        t.code,
                        TrapCode::IndirectCallTypeMismatch,
                        "{w} {name}({k})"
                    )
                }
                other => panic!("{w} {name}({k}): {other:?}"),
            }
        }
    }
}

#[test]
fn call_indirect_compares_typed_references_precisely() {
    for mode in [
        Mode::Interp,
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Tiered,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ] {
        precise(mode);
    }
}

/// The snapshot loaders compare signature classes recorded in the snapshot (format v9): the
/// safe snapshot API (the view `bareflow-load` and the C library read too) traps where the
/// Rust API does. Before v9 the loaders compared collapsed signatures and called `$typed_f`
/// through `(type $plain)`.
#[test]
fn snapshot_loaders_compare_typed_signatures_precisely() {
    use bareflow::internals::{aot, parse};
    use runtime_loader::embed::{CallError as E, Imports, Instance, Snapshot, Val as V};
    let m = parse::parse(PRECISE_A.as_bytes()).expect("parse");
    // (Type 3 is the exports' `(param i32) (result i32)`.)
    assert_eq!(
        m.meta.type_classes,
        [0, 1, 2, 3],
        "typed and plain are distinct classes"
    );
    assert_eq!(
        m.meta.types[1], m.meta.types[2],
        "equal collapsed signatures"
    );
    let (bytes, _) = aot::compile(&m, &aot::AotOptions::default()).expect("compile");
    let s = Snapshot::load(&bytes).expect("load");
    let mut inst = Instance::new(&s, Imports::new()).expect("instantiate");
    assert_eq!(
        inst.call("as_typed", &[V::I32(0)]).expect("typed"),
        [V::I32(1)]
    );
    assert_eq!(
        inst.call("as_plain", &[V::I32(1)]).expect("plain"),
        [V::I32(2)]
    );
    for (name, k) in [("as_typed", 1), ("as_plain", 0)] {
        match inst.call(name, &[V::I32(k)]) {
            Err(E::Trap(t)) => assert_eq!(t.code, TrapCode::IndirectCallTypeMismatch, "{name}"),
            other => panic!("{name}({k}): {other:?}"),
        }
    }
    // Equal typed signatures spelled with other indices share a class.
    let dup = parse::parse(
        br#"(module (type $t (func)) (type $a (func (param (ref $t))))
                    (type $u (func)) (type $b (func (param (ref $u)))))"#,
    )
    .expect("parse");
    let classes: Vec<u32> = (0..4).map(|t| dup.meta.type_class(t)).collect();
    assert_eq!(classes, [0, 1, 0, 1]);
}
