//! End-to-end tests of the embedding API in interpreter mode: each op family, traps,
//! deep recursion, linking, host functions, counters.

use super::*;

fn store() -> Store {
    Store::new(Config::default())
}

fn inst(s: &mut Store, wat: &str) -> InstanceId {
    let m = Module::from_bytes(wat.as_bytes()).expect("valid module");
    s.instantiate(&m, &|_, _| None).expect("instantiates")
}

fn func(s: &Store, i: InstanceId, name: &str) -> Func {
    match s.export(i, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

fn call(s: &mut Store, i: InstanceId, name: &str, args: &[Val]) -> Result<Vec<Val>, CallError> {
    let f = func(s, i, name);
    s.call(f, args)
}

fn trap_code(r: Result<Vec<Val>, CallError>) -> TrapCode {
    match r {
        Err(CallError::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn integer_ops() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func (export "i32") (param i32 i32) (result i32 i32 i32 i32 i32 i32)
            (i32.add (local.get 0) (local.get 1))
            (i32.div_s (local.get 0) (local.get 1))
            (i32.rem_u (local.get 0) (local.get 1))
            (i32.rotl (local.get 0) (local.get 1))
            (i32.shr_s (local.get 0) (local.get 1))
            (i32.clz (local.get 0)))
        (func (export "i64") (param i64 i64) (result i64 i64 i64 i32)
            (i64.mul (local.get 0) (local.get 1))
            (i64.rem_s (local.get 0) (local.get 1))
            (i64.extend32_s (local.get 0))
            (i64.lt_u (local.get 0) (local.get 1)))
        (func (export "div0") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
        (func (export "ovf") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
        (func (export "rem") (result i64) (i64.rem_s (i64.const 0x8000000000000000) (i64.const -1))))"#,
    );
    assert_eq!(
        call(&mut s, i, "i32", &[Val::I32(-7), Val::I32(2)]).unwrap(),
        vec![
            Val::I32(-5),
            Val::I32(-3),
            Val::I32(1),
            Val::I32(-25),
            Val::I32(-2),
            Val::I32(0)
        ]
    );
    assert_eq!(
        call(&mut s, i, "i64", &[Val::I64(-3), Val::I64(2)]).unwrap(),
        vec![Val::I64(-6), Val::I64(-1), Val::I64(-3), Val::I32(0)]
    );
    assert_eq!(
        trap_code(call(&mut s, i, "div0", &[Val::I32(0)])),
        TrapCode::IntegerDivideByZero
    );
    assert_eq!(
        trap_code(call(&mut s, i, "ovf", &[])),
        TrapCode::IntegerOverflow
    );
    assert_eq!(call(&mut s, i, "rem", &[]).unwrap(), vec![Val::I64(0)]);
}

#[test]
fn float_ops_and_conversions() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func (export "f32") (param f32 f32) (result f32 f32 f32 f32)
            (f32.min (local.get 0) (local.get 1))
            (f32.max (local.get 0) (local.get 1))
            (f32.copysign (local.get 0) (local.get 1))
            (f32.nearest (local.get 0)))
        (func (export "f64") (param f64) (result f64 f64 i32)
            (f64.sqrt (local.get 0))
            (f64.neg (local.get 0))
            (f64.ne (local.get 0) (local.get 0)))
        (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
        (func (export "sat") (param f64) (result i32 i64) 
            (i32.trunc_sat_f64_u (local.get 0)) (i64.trunc_sat_f64_s (local.get 0)))
        (func (export "conv") (param i64) (result f32 f64 i32)
            (f32.convert_i64_u (local.get 0))
            (f64.convert_i64_s (local.get 0))
            (i32.reinterpret_f32 (f32.demote_f64 (f64.const 1.5)))))"#,
    );
    let f = |x: f32| Val::F32(x.to_bits());
    let d = |x: f64| Val::F64(x.to_bits());
    assert_eq!(
        call(&mut s, i, "f32", &[f(-0.0), f(0.0)]).unwrap(),
        vec![f(-0.0), f(0.0), f(0.0), f(-0.0)]
    );
    assert_eq!(
        call(&mut s, i, "f32", &[f(2.5), f(-1.0)]).unwrap(),
        vec![f(-1.0), f(2.5), f(-2.5), f(2.0)]
    );
    let r = call(&mut s, i, "f32", &[f(f32::NAN), f(1.0)]).unwrap();
    assert!(matches!(r[0], Val::F32(b) if f32::from_bits(b).is_nan()));
    assert_eq!(
        call(&mut s, i, "f64", &[d(4.0)]).unwrap(),
        vec![d(2.0), d(-4.0), Val::I32(0)]
    );
    assert_eq!(
        trap_code(call(&mut s, i, "trunc", &[d(f64::NAN)])),
        TrapCode::InvalidConversionToInteger
    );
    assert_eq!(
        trap_code(call(&mut s, i, "trunc", &[d(3e9)])),
        TrapCode::IntegerOverflow
    );
    assert_eq!(
        call(&mut s, i, "trunc", &[d(-2.9)]).unwrap(),
        vec![Val::I32(-2)]
    );
    assert_eq!(
        call(&mut s, i, "sat", &[d(-1e30)]).unwrap(),
        vec![Val::I32(0), Val::I64(i64::MIN)]
    );
    assert_eq!(
        call(&mut s, i, "conv", &[Val::I64(-1)]).unwrap(),
        vec![
            f(18446744073709551616.0),
            d(-1.0),
            Val::I32(1.5f32.to_bits() as i32)
        ]
    );
}

#[test]
fn control_flow_multi_value_and_br_table() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
        (func (export "swap") (param i32 i32) (result i32 i32)
            (call $swap (local.get 0) (local.get 1)))
        (func (export "sum") (param i32) (result i32) (local i32)
            (block $done
                (loop $l
                    (br_if $done (i32.eqz (local.get 0)))
                    (local.set 1 (i32.add (local.get 1) (local.get 0)))
                    (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                    (br $l)))
            (local.get 1))
        (func (export "table") (param i32) (result i32)
            (block $a (result i32)
                (block $b (result i32)
                    (block $c (result i32)
                        (br_table $c $b $a 3 (i32.const 100) (local.get 0)))
                    (i32.add (i32.const 1))
                    (return))
                (i32.add (i32.const 2)))
            (i32.add (i32.const 10)))
        (func (export "block-params") (result i32)
            (i32.const 3) (i32.const 4)
            (block (param i32 i32) (result i32) (i32.mul))
            (if (param i32) (result i32) (i32.const 1)
                (then (i32.add (i32.const 1)))
                (else (i32.sub (i32.const 1)))))
        (func (export "early") (param i32) (result i32)
            (if (local.get 0) (then (return (i32.const 9))))
            (br_if 0 (i32.const 5) (i32.const 1))
            (drop)
            (unreachable)))"#,
    );
    assert_eq!(
        call(&mut s, i, "swap", &[Val::I32(1), Val::I32(2)]).unwrap(),
        vec![Val::I32(2), Val::I32(1)]
    );
    assert_eq!(
        call(&mut s, i, "sum", &[Val::I32(100)]).unwrap(),
        vec![Val::I32(5050)]
    );
    assert_eq!(
        call(&mut s, i, "table", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(101)]
    );
    assert_eq!(
        call(&mut s, i, "table", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(112)]
    );
    assert_eq!(
        call(&mut s, i, "table", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(110)]
    );
    assert_eq!(
        call(&mut s, i, "table", &[Val::I32(99)]).unwrap(),
        vec![Val::I32(100)]
    );
    assert_eq!(
        call(&mut s, i, "block-params", &[]).unwrap(),
        vec![Val::I32(13)]
    );
    assert_eq!(
        call(&mut s, i, "early", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(9)]
    );
    assert_eq!(
        call(&mut s, i, "early", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(5)]
    );
}

#[test]
fn memory_ops_bulk_and_traps() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (memory (export "mem") 1 2)
        (data $d "\01\02\03\04")
        (func (export "load") (param i32) (result i64) (i64.load16_s offset=1 (local.get 0)))
        (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "size") (result i32) (memory.size))
        (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
        (func (export "drop") (data.drop $d))
        (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
        (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    call(&mut s, i, "init", &[Val::I32(10), Val::I32(0), Val::I32(4)]).unwrap();
    assert_eq!(
        call(&mut s, i, "load", &[Val::I32(10)]).unwrap(),
        vec![Val::I64(0x0302)]
    );
    call(&mut s, i, "store", &[Val::I32(12), Val::I32(0xff)]).unwrap();
    assert_eq!(
        call(&mut s, i, "load", &[Val::I32(10)]).unwrap(),
        vec![Val::I64(-254)]
    );
    call(
        &mut s,
        i,
        "copy",
        &[Val::I32(11), Val::I32(10), Val::I32(4)],
    )
    .unwrap();
    call(
        &mut s,
        i,
        "fill",
        &[Val::I32(20), Val::I32(0x41), Val::I32(2)],
    )
    .unwrap();
    let Some(Extern::Memory(m)) = s.export(i, "mem") else {
        panic!("memory export")
    };
    assert_eq!(&s.memory_data(m)[10..16], &[1, 1, 2, 0xff, 4, 0]);
    assert_eq!(&s.memory_data(m)[20..22], b"AA");
    assert_eq!(
        trap_code(call(&mut s, i, "load", &[Val::I32(65534)])),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(
        trap_code(call(
            &mut s,
            i,
            "fill",
            &[Val::I32(65535), Val::I32(0), Val::I32(2)]
        )),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(1)]
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I32(1)]).unwrap(),
        vec![Val::I32(-1)]
    );
    assert_eq!(call(&mut s, i, "size", &[]).unwrap(), vec![Val::I32(2)]);
    // Loads beyond the old size work after growth.
    assert_eq!(
        call(&mut s, i, "load", &[Val::I32(65534)]).unwrap(),
        vec![Val::I64(0)]
    );
    call(&mut s, i, "drop", &[]).unwrap();
    assert_eq!(
        trap_code(call(
            &mut s,
            i,
            "init",
            &[Val::I32(0), Val::I32(0), Val::I32(1)]
        )),
        TrapCode::MemoryOutOfBounds
    );
}

#[test]
fn tables_references_and_call_indirect() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (type $ii (func (param i32) (result i32)))
        (table $t (export "t") 4 funcref)
        (table $e 2 externref)
        (elem (table $t) (i32.const 0) func $inc $dbl)
        (elem $p func $dbl)
        (elem declare func $nop)
        (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
        (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
        (func $nop)
        (func (export "call") (param i32 i32) (result i32)
            (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
        (func (export "set-nop") (table.set $t (i32.const 3) (ref.func $nop)))
        (func (export "init") (table.init $t $p (i32.const 2) (i32.const 0) (i32.const 1)))
        (func (export "grow") (param externref) (result i32)
            (table.grow $e (local.get 0) (i32.const 2)))
        (func (export "get-e") (param i32) (result externref) (table.get $e (local.get 0)))
        (func (export "is-null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
        (func (export "size") (result i32) (table.size $e)))"#,
    );
    assert_eq!(
        call(&mut s, i, "call", &[Val::I32(0), Val::I32(5)]).unwrap(),
        vec![Val::I32(6)]
    );
    assert_eq!(
        call(&mut s, i, "call", &[Val::I32(1), Val::I32(5)]).unwrap(),
        vec![Val::I32(10)]
    );
    assert_eq!(
        trap_code(call(&mut s, i, "call", &[Val::I32(2), Val::I32(5)])),
        TrapCode::UninitializedElement
    );
    assert_eq!(
        trap_code(call(&mut s, i, "call", &[Val::I32(4), Val::I32(5)])),
        TrapCode::UndefinedElement
    );
    call(&mut s, i, "set-nop", &[]).unwrap();
    assert_eq!(
        trap_code(call(&mut s, i, "call", &[Val::I32(3), Val::I32(5)])),
        TrapCode::IndirectCallTypeMismatch
    );
    call(&mut s, i, "init", &[]).unwrap();
    assert_eq!(
        call(&mut s, i, "call", &[Val::I32(2), Val::I32(5)]).unwrap(),
        vec![Val::I32(10)]
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::ExternRef(Some(42))]).unwrap(),
        vec![Val::I32(2)]
    );
    assert_eq!(call(&mut s, i, "size", &[]).unwrap(), vec![Val::I32(4)]);
    assert_eq!(
        call(&mut s, i, "get-e", &[Val::I32(3)]).unwrap(),
        vec![Val::ExternRef(Some(42))]
    );
    assert_eq!(
        call(&mut s, i, "get-e", &[Val::I32(0)]).unwrap(),
        vec![Val::ExternRef(None)]
    );
    assert_eq!(
        trap_code(call(&mut s, i, "get-e", &[Val::I32(4)])),
        TrapCode::TableOutOfBounds
    );
    assert_eq!(
        call(&mut s, i, "is-null", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(0)]
    );
    // A funcref read from the table is callable from the host.
    let Some(Extern::Table(t)) = s.export(i, "t") else {
        panic!("table export")
    };
    let Some(Val::FuncRef(Some(inc))) = s.table_get(t, 0) else {
        panic!("funcref")
    };
    assert_eq!(s.call(inc, &[Val::I32(1)]).unwrap(), vec![Val::I32(2)]);
}

#[test]
fn deep_recursion_traps_without_host_overflow_and_store_stays_usable() {
    let mut s = Store::new(Config {
        max_call_depth: 50_000,
        ..Config::default()
    });
    let i = inst(
        &mut s,
        r#"(module
        (global $g (mut i32) (i32.const 0))
        (func $down (export "down") (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
                (then (i32.const 0))
                (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
        (func $inf (export "inf") (global.set $g (i32.add (global.get $g) (i32.const 1))) (call $inf))
        (func (export "g") (result i32) (global.get $g)))"#,
    );
    // 40,000 nested wasm calls: far beyond what host recursion could survive in a debug
    // build's test thread, fine with an explicit frame stack.
    assert_eq!(
        call(&mut s, i, "down", &[Val::I32(40_000)]).unwrap(),
        vec![Val::I32(40_000)]
    );
    let t = match call(&mut s, i, "inf", &[]) {
        Err(CallError::Trap(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(t.code, TrapCode::StackOverflow);
    assert_eq!(t.func, Some(1));
    assert!(
        t.to_string()
            .starts_with("call stack exhausted (in function inf"),
        "{t}"
    );
    assert_eq!(call(&mut s, i, "g", &[]).unwrap(), vec![Val::I32(50_000)]);
    // Still usable after the trap.
    assert_eq!(
        call(&mut s, i, "down", &[Val::I32(10)]).unwrap(),
        vec![Val::I32(10)]
    );
}

#[test]
fn trap_reports_function_and_offset() {
    let mut s = store();
    let wat = r#"(module (func $boom (export "boom") nop unreachable))"#;
    let i = inst(&mut s, wat);
    let t = match call(&mut s, i, "boom", &[]) {
        Err(CallError::Trap(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(t.code, TrapCode::Unreachable);
    assert_eq!(t.func, Some(0));
    assert_eq!(t.func_name.as_deref(), Some("boom"));
    // The offset points at the `unreachable` byte (0x00) in the binary.
    let bin = wat::parse_str(wat).unwrap();
    let off = t.offset.expect("offset") as usize;
    assert_eq!(bin[off], 0x00);
    assert_eq!(bin[off - 1], 0x01, "preceded by nop");
}

#[test]
fn linking_host_functions_and_shared_state() {
    let mut s = store();
    let a = inst(
        &mut s,
        r#"(module
        (memory (export "mem") 1)
        (global (export "g") (mut i32) (i32.const 5))
        (table (export "tab") 2 funcref)
        (func (export "get") (result i32) (global.get 0))
        (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    );
    let logged = std::rc::Rc::new(std::cell::Cell::new(0));
    let l2 = logged.clone();
    let host = s.host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![ValType::I32],
        },
        Box::new(move |args, res| {
            let Val::I32(x) = args[0] else {
                return Err(Trap::new(TrapCode::HostError));
            };
            l2.set(x);
            if x < 0 {
                return Err(Trap::new(TrapCode::HostError));
            }
            res[0] = Val::I32(x * 3);
            Ok(())
        }),
    );
    let exports: Vec<(String, Extern)> = ["mem", "g", "tab"]
        .iter()
        .map(|n| (n.to_string(), s.export(a, n).unwrap()))
        .collect();
    let m = Module::from_bytes(
        br#"(module
        (import "host" "triple" (func $t (param i32) (result i32)))
        (import "a" "mem" (memory 1))
        (import "a" "g" (global $g (mut i32)))
        (import "a" "tab" (table 2 funcref))
        (elem (i32.const 1) func $t)
        (data (i32.const 3) "\2a")
        (func (export "run") (param i32) (result i32)
            (global.set $g (call $t (local.get 0)))
            (call_indirect (param i32) (result i32) (global.get $g) (i32.const 1))))"#,
    )
    .unwrap();
    let lookup = |module: &str, name: &str| match module {
        "host" if name == "triple" => Some(Extern::Func(host)),
        "a" => exports.iter().find(|(n, _)| n == name).map(|(_, e)| *e),
        _ => None,
    };
    let b = s.instantiate(&m, &lookup).unwrap();
    assert_eq!(
        call(&mut s, b, "run", &[Val::I32(2)]).unwrap(),
        vec![Val::I32(18)]
    );
    assert_eq!(logged.get(), 6);
    assert_eq!(call(&mut s, a, "get", &[]).unwrap(), vec![Val::I32(6)]);
    assert_eq!(
        call(&mut s, a, "peek", &[Val::I32(3)]).unwrap(),
        vec![Val::I32(42)]
    );
    assert_eq!(
        trap_code(call(&mut s, b, "run", &[Val::I32(-1)])),
        TrapCode::HostError
    );
    // Host functions are callable directly, and type-checked.
    assert_eq!(s.call(host, &[Val::I32(4)]).unwrap(), vec![Val::I32(12)]);
    assert!(matches!(
        s.call(host, &[Val::I64(4)]),
        Err(CallError::BadArguments(_))
    ));

    // Import errors.
    let err = s.instantiate(&m, &|_, _| None).unwrap_err();
    assert!(
        matches!(&err, InstantiateError::Unlinkable(msg) if msg.starts_with("unknown import")),
        "{err}"
    );
    let get = s.export(a, "get");
    let wrong = |module: &str, name: &str| match (module, name) {
        ("host", _) => get,
        _ => lookup(module, name),
    };
    let err = s.instantiate(&m, &wrong).unwrap_err();
    assert!(
        matches!(&err, InstantiateError::Unlinkable(msg) if msg.starts_with("incompatible import type")),
        "{err}"
    );
}

#[test]
fn failed_instantiation_keeps_earlier_segment_writes() {
    let mut s = store();
    let mem = s.new_memory(1, None);
    let m = Module::from_bytes(
        br#"(module
        (import "env" "mem" (memory 1))
        (data (i32.const 0) "ok")
        (data (i32.const 65535) "no"))"#,
    )
    .unwrap();
    let err = s
        .instantiate(&m, &|_, n| (n == "mem").then_some(Extern::Memory(mem)))
        .unwrap_err();
    assert!(matches!(
        err,
        InstantiateError::Trap(Trap {
            code: TrapCode::MemoryOutOfBounds,
            ..
        })
    ));
    assert_eq!(&s.memory_data(mem)[..2], b"ok");
}

#[test]
fn start_function_runs_and_can_trap() {
    let mut s = store();
    let g = s.new_global(ValType::I32, true, Val::I32(0));
    let m = Module::from_bytes(
        br#"(module (import "env" "g" (global $g (mut i32)))
            (func $s (global.set $g (i32.const 77))) (start $s))"#,
    )
    .unwrap();
    s.instantiate(&m, &|_, _| Some(Extern::Global(g))).unwrap();
    assert_eq!(s.global_get(g), Val::I32(77));
    let m = Module::from_bytes(b"(module (func $s unreachable) (start $s))").unwrap();
    assert!(matches!(
        s.instantiate(&m, &|_, _| None),
        Err(InstantiateError::Trap(Trap {
            code: TrapCode::Unreachable,
            ..
        }))
    ));
}

#[test]
fn counters_count_calls_and_back_edges() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func $leaf (result i32) (i32.const 1))
        (func (export "loop") (param i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (call $leaf)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))"#,
    );
    call(&mut s, i, "loop", &[Val::I32(10)]).unwrap();
    let c = s.func_counters(i);
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].func, c[0].calls, c[0].back_edges), (0, 10, 0));
    assert_eq!((c[1].func, c[1].calls, c[1].back_edges), (1, 1, 9));

    let mut off = Store::new(Config {
        profiling: false,
        ..Config::default()
    });
    let m = s.instance_module(i).unwrap().clone();
    let j = off.instantiate(&m, &|_, _| None).unwrap();
    call(&mut off, j, "loop", &[Val::I32(10)]).unwrap();
    assert!(
        off.func_counters(j)
            .iter()
            .all(|c| c.calls == 0 && c.back_edges == 0)
    );
}

#[test]
fn batched_back_edges_are_exact_across_calls_and_traps() {
    // The interpreter counts back-edges in batches; every frame switch, trap and exit
    // flushes them, so the totals must be exact for loops longer than a batch, loops that
    // call, and loops left by a trap.
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func $inner (param i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0)))))
        (func (export "outer") (param i32 i32) (local i32)
            (loop $l
                (call $inner (local.get 1))
                (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 2) (local.get 0)))))
        (func (export "trap_after") (param i32) (local i32)
            (loop $l
                (if (i32.eq (local.get 1) (local.get 0)) (then unreachable))
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br $l))))"#,
    );
    // 1000 outer iterations (999 back-edges), each calling inner with 5 (4 back-edges).
    call(&mut s, i, "outer", &[Val::I32(1000), Val::I32(5)]).unwrap();
    // One outer iteration around a long inner loop (299_999 back-edges).
    call(&mut s, i, "outer", &[Val::I32(1), Val::I32(300_000)]).unwrap();
    let c = s.func_counters(i);
    assert_eq!((c[0].calls, c[0].back_edges), (1001, 1000 * 4 + 299_999));
    assert_eq!((c[1].calls, c[1].back_edges), (2, 999));
    // A trap after 1234 back-edges of the trapping frame.
    let r = call(&mut s, i, "trap_after", &[Val::I32(1234)]);
    assert_eq!(trap_code(r), TrapCode::Unreachable);
    let c = s.func_counters(i);
    assert_eq!((c[2].calls, c[2].back_edges), (1, 1234));
}

#[test]
fn counters_are_exact_for_recursion_mixing_loops_and_leaves() {
    // Functions without back-edges return without flushing the pending back-edges (there
    // are none); the loops around and below them must still be counted exactly, with
    // calls counted once per entry, through recursion deeper than a sample period.
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module
        (func $spin (param i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0)))))
        (func $fib (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (call $spin (i32.const 3)) (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
        (func (export "run") (param i32 i32) (result i32) (local i32 i32)
            (loop $l
                (local.set 3 (i32.add (local.get 3) (call $fib (local.get 1))))
                (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
            (local.get 3)))"#,
    );
    let r = call(&mut s, i, "run", &[Val::I32(7), Val::I32(15)]).unwrap();
    // fib(15) = 610, computed 7 times.
    assert_eq!(r, vec![Val::I32(7 * 610)]);
    // fib(n) makes 2 fib(n+1) - 1 calls; fib(16) = 987: 1973 calls per run, of which
    // 987 are leaves (each calls $spin, whose loop takes 2 back-edges).
    let c = s.func_counters(i);
    assert_eq!((c[0].calls, c[0].back_edges), (7 * 987, 7 * 987 * 2));
    assert_eq!((c[1].calls, c[1].back_edges), (7 * 1973, 0));
    assert_eq!((c[2].calls, c[2].back_edges), (1, 6));
}

#[test]
fn other_modes_report_unsupported_and_handles_are_store_checked() {
    let m = Module::from_bytes(b"(module (func (export \"f\")))").unwrap();
    // Snapshot mode runs: compile -> snapshot bytes -> runtime-loader.
    let mut snap = Store::new(Config::new(Mode::Snapshot));
    let k = snap.instantiate(&m, &|_, _| None).unwrap();
    let g = func(&snap, k, "f");
    assert_eq!(snap.call(g, &[]).unwrap(), vec![]);
    let mut a = store();
    let mut b = store();
    let i = a.instantiate(&m, &|_, _| None).unwrap();
    let f = func(&a, i, "f");
    assert!(matches!(b.call(f, &[]), Err(CallError::BadArguments(_))));
    assert_eq!("jit-speed".parse::<Mode>(), Ok(Mode::JitSpeed));
    assert!("fast".parse::<Mode>().is_err());
}

/// Measures the cost of profiling (run with `--ignored --nocapture`; prints, never fails on
/// timing).
#[test]
#[ignore = "timing measurement, run by hand"]
fn profiling_overhead() {
    let wat = r#"(module
        (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
        (func (export "loop") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (local.get 0))))
                (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 1)))"#;
    let m = Module::from_bytes(wat.as_bytes()).unwrap();
    for (name, arg) in [("fib", 27), ("loop", 20_000_000)] {
        let mut best = [f64::MAX; 2];
        for _ in 0..3 {
            for (k, profiling) in [false, true].into_iter().enumerate() {
                let mut s = Store::new(Config {
                    profiling,
                    ..Config::default()
                });
                let i = s.instantiate(&m, &|_, _| None).unwrap();
                let t = std::time::Instant::now();
                call(&mut s, i, name, &[Val::I32(arg)]).unwrap();
                best[k] = best[k].min(t.elapsed().as_secs_f64());
            }
        }
        println!(
            "{name}: off {:.3}s on {:.3}s overhead {:+.1}%",
            best[0],
            best[1],
            (best[1] / best[0] - 1.0) * 100.0
        );
    }
}

/// A fixed interpreter workload for instruction-count comparisons under
/// `valgrind --tool=cachegrind` (run with `--ignored`).
#[test]
#[ignore = "workload for external measurement"]
fn interp_workload() {
    let m = Module::from_bytes(
        br#"(module
        (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
        (func (export "loop") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (local.get 0))))
                (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 1)))"#,
    )
    .unwrap();
    let mut s = Store::new(Config {
        profiling: std::env::var_os("BAREFLOW_PROFILING").is_some(),
        ..Config::default()
    });
    let i = s.instantiate(&m, &|_, _| None).unwrap();
    let which = std::env::var("BAREFLOW_WORKLOAD").unwrap_or_else(|_| "loop".into());
    let arg = if which == "fib" { 20 } else { 1_000_000 };
    call(&mut s, i, &which, &[Val::I32(arg)]).unwrap();
}

/// Guard-page memory mode: out-of-bounds loads and stores fault on the guard pages and
/// come back as ordinary traps, the store stays usable, and growth keeps the base in place.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn guard_memory_traps_and_grows_in_place() {
    const WAT: &str = r#"(module
        (memory (export "mem") 1 4)
        (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
        (func (export "store") (param i32 i32) (i64.store (local.get 0) (i64.extend_i32_u (local.get 1))))
        (func (export "far") (result i32) (i32.load offset=0xffffffff (i32.const -1)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    for mode in [Mode::JitSpeed, Mode::JitNone, Mode::Tiered, Mode::Snapshot] {
        let mut s = Store::new(Config {
            memory: MemoryMode::Guard,
            ..Config::new(mode)
        });
        let i = inst(&mut s, WAT);
        let Some(Extern::Memory(m)) = s.export(i, "mem") else {
            panic!("memory export")
        };
        let base = s.memory_data(m).as_ptr();
        let lm = s.runtime_instance(i).unwrap().memory(0).unwrap();
        // SAFETY: the memory lives as long as the store.
        assert!(unsafe { (*lm).is_guard() }, "{mode}");
        call(&mut s, i, "store", &[Val::I32(100), Val::I32(42)]).unwrap();
        assert_eq!(
            call(&mut s, i, "load", &[Val::I32(96)]).unwrap(),
            vec![Val::I32(42)],
            "{mode}"
        );
        // The last in-bounds i32 and the first out-of-bounds one.
        assert!(call(&mut s, i, "load", &[Val::I32(65532 - 4)]).is_ok());
        let t = call(&mut s, i, "load", &[Val::I32(65533 - 4)]);
        assert_eq!(trap_code(t), TrapCode::MemoryOutOfBounds, "{mode}");
        let t = call(&mut s, i, "store", &[Val::I32(65529), Val::I32(1)]);
        assert_eq!(trap_code(t), TrapCode::MemoryOutOfBounds, "{mode}");
        let t = call(&mut s, i, "far", &[]);
        let Err(CallError::Trap(trap)) = t else {
            panic!("{mode}: expected a trap")
        };
        assert!(
            trap.to_string().contains("out of bounds memory access"),
            "{mode}: {trap}"
        );
        // The store is still usable, and growth keeps the base in place.
        assert_eq!(
            call(&mut s, i, "grow", &[Val::I32(2)]).unwrap(),
            vec![Val::I32(1)]
        );
        assert_eq!(s.memory_data(m).as_ptr(), base, "{mode}");
        assert_eq!(s.memory_data(m).len(), 3 << 16);
        call(&mut s, i, "store", &[Val::I32(3 * 65536 - 8), Val::I32(7)]).unwrap();
        assert_eq!(
            call(&mut s, i, "load", &[Val::I32(3 * 65536 - 8)]).unwrap(),
            vec![Val::I32(0)],
            "{mode}: the upper half of the i64 stored"
        );
        let t = call(&mut s, i, "store", &[Val::I32(3 * 65536 - 7), Val::I32(7)]);
        assert_eq!(trap_code(t), TrapCode::MemoryOutOfBounds, "{mode}");
        assert_eq!(
            call(&mut s, i, "grow", &[Val::I32(2)]).unwrap(),
            vec![Val::I32(-1)],
            "{mode}: beyond the maximum"
        );
    }
}

/// Host memories of a guard-mode store are guard memories, so guard-mode instances import
/// them (an instance refuses a memory of the other mode: its code would not check bounds).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn guard_store_host_memories_link() {
    let mut s = Store::new(Config {
        memory: MemoryMode::Guard,
        ..Config::new(Mode::JitSpeed)
    });
    let mem = s.new_memory(1, None);
    let m = Module::from_bytes(br#"(module (import "env" "mem" (memory 1)))"#).unwrap();
    assert!(s.instantiate(&m, &|_, _| Some(Extern::Memory(mem))).is_ok());
}

/// The interpreter entered from compiled code (tiered mode: a compiled function calling a
/// function that is still interpreted, through `interp::exec::array_entry`) must use the
/// store's configured call depth, not `Config::default()`'s 10,000.
#[test]
fn interpreter_entered_from_compiled_code_uses_store_limits() {
    let mut s = Store::new(Config {
        mode: Mode::Tiered,
        max_call_depth: 50_000,
        // `outer`'s 2,000,000 back-edges make it hot during its first call; `down`'s
        // 20,000 calls stay far below the 1,000,000-call threshold: it stays interpreted.
        tier_up: TierUp {
            calls: 1_000_000,
            back_edges: 1_000_000,
        },
        ..Config::default()
    });
    let i = inst(
        &mut s,
        r#"(module
        (func $down (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
                (then (i32.const 0))
                (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
        (func (export "outer") (param i32) (result i32)
            (local $k i32)
            (loop $l
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $k) (i32.const 2000000))))
            (if (result i32) (local.get 0)
                (then (call $down (local.get 0)))
                (else (i32.const -1)))))"#,
    );
    // First call: interpreted, its loop makes it hot.
    assert_eq!(
        call(&mut s, i, "outer", &[Val::I32(0)]).unwrap(),
        vec![Val::I32(-1)]
    );
    // Second call: compiled `outer` enters the interpreter for `down`, which nests 20,000
    // calls: within the configured 50,000, beyond the default 10,000.
    assert_eq!(
        call(&mut s, i, "outer", &[Val::I32(20_000)]).unwrap(),
        vec![Val::I32(20_000)]
    );
}

/// Typed reference imports link by the precise type (linking.wast's "incompatible import
/// type" cases): an immutable global may export a subtype, a mutable one and a table only the
/// same type; the host's own globals and tables have the nullable top type.
#[test]
fn typed_reference_imports_link_by_precise_type() {
    let mut s = store();
    let ex = inst(
        &mut s,
        r#"(module (type $t (func)) (func $f (type $t))
            (global (export "ref") (ref $t) (ref.func $f))
            (global (export "var") (mut (ref null $t)) (ref.null $t))
            (table (export "tab") 1 (ref null $t))
            (func (export "typed") (param (ref $t)))
            (func (export "plain") (param funcref)))"#,
    );
    let host_tab = s.new_table(ValType::FuncRef, 1, None);
    let link = |s: &mut Store, import: &str, name: &'static str| {
        let wat = format!(
            "(module (type $u (func)) (type $v (func (param i32))) (import \"m\" \"{name}\" {import}))"
        );
        let m = Module::from_bytes(wat.as_bytes()).unwrap();
        let e = if name == "host" {
            Some(Extern::Table(host_tab))
        } else {
            s.export(ex, name)
        };
        s.instantiate(&m, &|_, _| e)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let bad = |r: Result<(), String>| {
        assert!(
            matches!(&r, Err(m) if m.contains("incompatible import type")),
            "{r:?}"
        );
    };
    // Immutable: a subtype links (`(ref $t)` <: `(ref null func)`, `(ref func)`, `(ref $u)`).
    link(&mut s, "(global (ref null func))", "ref").unwrap();
    link(&mut s, "(global (ref func))", "ref").unwrap();
    link(&mut s, "(global (ref $u))", "ref").unwrap();
    bad(link(&mut s, "(global (ref extern))", "ref"));
    bad(link(&mut s, "(global (ref $v))", "ref"));
    // Mutable: only the same type.
    link(&mut s, "(global (mut (ref null $u)))", "var").unwrap();
    bad(link(&mut s, "(global (mut (ref null func)))", "var"));
    bad(link(&mut s, "(global (mut (ref $u)))", "var"));
    // Tables: the same element type.
    link(&mut s, "(table 1 (ref null $u))", "tab").unwrap();
    bad(link(&mut s, "(table 1 funcref)", "tab"));
    link(&mut s, "(table 1 funcref)", "host").unwrap();
    bad(link(&mut s, "(table 1 (ref null $u))", "host"));
    // Functions: the same signature, typed references included.
    link(&mut s, "(func (param (ref $u)))", "typed").unwrap();
    bad(link(&mut s, "(func (param funcref))", "typed"));
    bad(link(&mut s, "(func (param (ref null $u)))", "typed"));
    link(&mut s, "(func (param funcref))", "plain").unwrap();
    bad(link(
        &mut s,
        "(func (param (ref null func)) (param i32))",
        "plain",
    ));
    bad(link(&mut s, "(func (param (ref $u)))", "plain"));
}
