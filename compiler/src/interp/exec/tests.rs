//! Tests of the dispatch loop through the public runtime API.

use crate::runtime::{CallError, Config, Extern, Mode, Module, Store, Val};

/// Runs export `name` of `wat` with one i32 argument in the interpreter.
fn call(wat: &str, name: &str, arg: i32) -> Result<Vec<Val>, CallError> {
    let m = Module::from_bytes(wat.as_bytes()).expect("valid module");
    let mut store = Store::new(Config::new(Mode::Interp));
    let i = store.instantiate(&m, &|_, _| None).expect("instantiates");
    let Some(Extern::Func(f)) = store.export(i, name) else {
        panic!("no export {name}");
    };
    store.call(f, &[Val::I32(arg)])
}

#[test]
fn fused_address_arithmetic_wraps_like_wasm() {
    // `x + c` with a "negative" c must wrap at 32 bits before the static offset is
    // added (the fused loads compute both in one op).
    let wat = r#"(module (memory 1)
        (data (i32.const 0) "\01\02\03\04\05\06\07\08")
        (func (export "lc") (param i32) (result i32)
            (i32.load8_u offset=1 (i32.add (local.get 0) (i32.const -4))))
        (func (export "sc") (param i32) (result i32)
            (i32.load8_u offset=1
                (i32.sub (i32.mul (local.get 0) (i32.const 1)) (i32.const 4)))))"#;
    for name in ["lc", "sc"] {
        let r = call(wat, name, 5).expect("in bounds");
        assert!(matches!(r[..], [Val::I32(3)]), "{name}: {r:?}");
        // 3 - 4 wraps to 0xffff_ffff; + offset 1 is past the memory: a trap.
        let e = call(wat, name, 3).expect_err("out of bounds");
        assert!(e.to_string().contains("out of bounds"), "{name}: {e}");
    }
}

/// Bodies of `(param f64 f64 i32) (result f64)` functions that lower to the fused f64,
/// load and store forms, each with the fused op it must contain.
const F64_BODIES: &[(&str, &str)] = &[
    ("local.get 0 local.get 1 f64.sub", "F64SubLL"),
    ("local.get 2 f64.load local.get 1 f64.div", "F64DivSL"),
    ("local.get 0 f64.const -2.5 f64.mul", "F64MulSC"),
    (
        "local.get 0 local.get 2 f64.load offset=8 f64.add",
        "F64AddSM",
    ),
    ("local.get 1 local.get 2 f64.load f64.sub", "F64SubLM"),
    (
        "local.get 1 local.get 2 i32.const 8 i32.add f64.load f64.mul",
        "F64MulLM",
    ),
    (
        "local.get 0 local.get 2 i32.const -8 i32.add f64.load offset=16 f64.div",
        "F64DivSM",
    ),
    (
        "local.get 2 local.get 2 f64.load local.get 0 local.get 1 f64.mul f64.add \
         f64.store local.get 2 f64.load",
        "F64AddStore",
    ),
    (
        "local.get 2 local.get 0 local.get 1 f64.div local.get 1 local.get 0 f64.mul \
         f64.sub f64.store offset=8 local.get 2 f64.load offset=8",
        "F64SubStore",
    ),
    (
        "local.get 2 local.get 2 i32.load16_s offset=2 i32.const 3 i32.mul \
         i32.store8 offset=1 local.get 2 f64.load",
        "LoadLDup",
    ),
    (
        "local.get 2 i32.load offset=4 local.set 2 local.get 2 i32.const 24 i32.and \
         f64.load",
        "LoadLSet",
    ),
];

/// A module with one export `f<i>` per body; `barrier` separates every instruction
/// with an empty block (a label the peephole never fuses across).
fn f64_module(barrier: bool) -> String {
    let mut wat = String::from(
        "(module (memory (export \"mem\") 1)\n(data (i32.const 0) \
         \"\\00\\00\\00\\00\\00\\00\\f8\\3f\\01\\00\\00\\00\\00\\00\\f4\\7f\
         \\00\\00\\00\\00\\00\\00\\00\\c0\\bc\\0a\\00\\00\\00\\00\\f8\\ff\")\n",
    );
    for (i, (body, _)) in F64_BODIES.iter().enumerate() {
        let body = if barrier {
            let mut out = String::new();
            for tok in body.split_whitespace() {
                // Immediates follow their instruction on the same line.
                let is_imm = tok.starts_with("offset=")
                    || tok.parse::<f64>().is_ok()
                    || tok.parse::<i64>().is_ok();
                if !is_imm && !out.is_empty() {
                    out.push_str(" block end");
                }
                out.push(' ');
                out.push_str(tok);
            }
            out
        } else {
            body.to_string()
        };
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param f64 f64 i32) (result f64) {body})\n"
        ));
    }
    wat.push(')');
    wat
}

#[test]
fn fused_f64_and_memory_forms_match_unfused_semantics() {
    let fused = Module::from_bytes(f64_module(false).as_bytes()).expect("valid");
    let plain = Module::from_bytes(f64_module(true).as_bytes()).expect("valid");
    for (i, (_, want)) in F64_BODIES.iter().enumerate() {
        let ops = |m: &Module| format!("{:?}", m.interp_code().funcs[i].ops);
        assert!(ops(&fused).contains(want), "f{i}: {}", ops(&fused));
        let p = ops(&plain);
        assert!(
            !p.contains("F64Bin") && !p.contains("Dup") && !p.contains(want),
            "f{i} with barriers still fuses: {p}"
        );
    }
    let mut stores = [fused, plain].map(|m| {
        let mut s = Store::new(Config::new(Mode::Interp));
        let i = s.instantiate(&m, &|_, _| None).expect("instantiates");
        (s, i)
    });
    let floats: [u64; 6] = [
        1.5f64.to_bits(),
        (-0.0f64).to_bits(),
        3.0f64.to_bits(),
        0x7ff0_0000_0000_0001, // signalling NaN with a payload
        0xfff8_0000_0000_0abc, // negative quiet NaN with a payload
        f64::INFINITY.to_bits(),
    ];
    // In bounds, unaligned, last f64 of the page, past it, and wrapping addresses.
    let addrs: [i32; 7] = [0, 8, 3, 65528, 65536, -8, -16];
    // Memory is reset before every call so both runs always start from the same state.
    let init: Vec<u8> = {
        let (s, inst) = &stores[0];
        let Some(Extern::Memory(m)) = s.export(*inst, "mem") else {
            panic!("no memory export");
        };
        s.memory_data(m).to_vec()
    };
    // NaN payloads are not deterministic in wasm (LLVM may also commute the operands
    // of a handler's `+`): a NaN result only has to be a NaN in both runs.
    let show = |v: &Vec<Val>| match v[..] {
        [Val::F64(b)] if f64::from_bits(b).is_nan() => "NaN".to_string(),
        _ => format!("{v:?}"),
    };
    let mut traps = 0;
    for (i, _) in F64_BODIES.iter().enumerate() {
        for &x in &floats {
            for &y in &floats[..4] {
                for &a in &addrs {
                    let args = [Val::F64(x), Val::F64(y), Val::I32(a)];
                    let r = stores.each_mut().map(|(s, inst)| {
                        let Some(Extern::Memory(m)) = s.export(*inst, "mem") else {
                            panic!("no memory export");
                        };
                        s.memory_data_mut(m).copy_from_slice(&init);
                        let Some(Extern::Func(f)) = s.export(*inst, &format!("f{i}")) else {
                            panic!("no export f{i}");
                        };
                        let r = match s.call(f, &args) {
                            Ok(v) => Ok(show(&v)),
                            Err(CallError::Trap(t)) => Err(t.code),
                            Err(e) => panic!("f{i}: {e}"),
                        };
                        (r, s.memory_data(m).to_vec())
                    });
                    traps += usize::from(r[0].0.is_err());
                    assert_eq!(r[0].0, r[1].0, "f{i}({x:#x}, {y:#x}, {a})");
                    // Stored values are the results read back: byte-exact unless NaN.
                    if r[0].0 != Ok("NaN".to_string()) {
                        assert!(r[0].1 == r[1].1, "f{i}({x:#x}, {y:#x}, {a}): memory");
                    }
                }
            }
        }
    }
    assert!(traps > 0, "no out-of-bounds case trapped");
}
