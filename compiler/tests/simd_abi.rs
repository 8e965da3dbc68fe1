//! `v128` across every boundary in every mode: parameters and results of exported functions
//! (array ABI, two slots each), an imported host function called from wasm (native→array
//! stub), an imported mutable `v128` global (16-byte cell), `select` and blocks on `v128`,
//! calls between wasm functions, and memory round trips; the tiered mode with thresholds low
//! enough that the loop runs compiled (interpreted ↔ compiled calls with `v128` arguments).

use bareflow::runtime::{Config, Extern, FuncType, Mode, Module, Store, TierUp, Val, ValType};

const WAT: &str = r#"(module
  (import "host" "swap" (func $swap (param v128 i32 v128) (result v128 i64 v128)))
  (import "host" "g" (global $g (mut v128)))
  (memory 1)
  (func $mix (param $a v128) (param $b v128) (param $n i32) (result v128)
    (block (result v128)
      (select (result v128)
        (i32x4.add (local.get $a) (local.get $b))
        (i8x16.swizzle (local.get $a) (local.get $b))
        (local.get $n))))
  (func (export "run") (param $a v128) (param $n i32) (param $b v128)
        (result v128 i64 v128)
    (local $i i32) (local $acc v128)
    (local.set $acc (global.get $g))
    (loop $l
      (local.set $acc (call $mix (local.get $acc) (local.get $a) (local.get $i)))
      (v128.store offset=3 (local.get $i) (local.get $acc))
      (local.set $acc (v128.load offset=3 (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (global.set $g (local.get $acc))
    (call $swap (local.get $acc) (local.get $n) (local.get $b))))
"#;

/// What `run` computes, in plain Rust.
fn expected(a: u128, n: i32, b: u128, g: u128) -> (u128, i64, u128) {
    let lanes32 = |x: u128| -> [u32; 4] { core::array::from_fn(|i| (x >> (32 * i)) as u32) };
    let bytes = |x: u128| x.to_le_bytes();
    let mut acc = g;
    for i in 0..n.max(1) {
        acc = if i != 0 {
            let (x, y) = (lanes32(acc), lanes32(a));
            (0..4).fold(0u128, |r, k| {
                r | u128::from(x[k].wrapping_add(y[k])) << (32 * k)
            })
        } else {
            let (x, s) = (bytes(acc), bytes(a));
            u128::from_le_bytes(core::array::from_fn(|k| {
                if s[k] < 16 { x[usize::from(s[k])] } else { 0 }
            }))
        };
    }
    (b, i64::from(n) * 2, acc)
}

fn run(mode: Mode) {
    let mut store = Store::new(Config {
        mode,
        tier_up: TierUp {
            calls: 2,
            back_edges: 8,
        },
        ..Config::default()
    });
    let ty = FuncType {
        params: vec![ValType::V128, ValType::I32, ValType::V128],
        results: vec![ValType::V128, ValType::I64, ValType::V128],
    };
    let swap = store.host_func(
        ty,
        Box::new(|p: &[Val], r: &mut [Val]| {
            let Val::I32(n) = p[1] else { panic!("i32") };
            r[0] = p[2];
            r[1] = Val::I64(i64::from(n) * 2);
            r[2] = p[0];
            Ok(())
        }),
    );
    let g0 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100_u128;
    let g = store.new_global(ValType::V128, true, Val::V128(g0));
    let m = Module::from_bytes(WAT.as_bytes()).unwrap();
    let inst = store
        .instantiate(&m, &|module, name| match (module, name) {
            ("host", "swap") => Some(Extern::Func(swap)),
            ("host", "g") => Some(Extern::Global(g)),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
    let Some(Extern::Func(f)) = store.export(inst, "run") else {
        panic!("no run")
    };
    let a = 0x0001_0203_0405_0607_1011_1213_1415_1617_u128;
    let b = u128::MAX - 0x1234;
    let mut gv = g0;
    for n in [1, 3, 40] {
        let out = store
            .call(f, &[Val::V128(a), Val::I32(n), Val::V128(b)])
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let (r0, r1, r2) = expected(a, n, b, gv);
        assert_eq!(
            out,
            vec![Val::V128(r0), Val::I64(r1), Val::V128(r2)],
            "{mode:?} n={n}"
        );
        gv = r2;
        assert_eq!(store.global_get(g), Val::V128(gv), "{mode:?} global");
    }
}

#[test]
fn v128_across_every_boundary_in_every_mode() {
    for mode in Mode::ALL {
        run(mode);
    }
}

/// Vector `min`/`max` with a NaN operand give the same bits in every mode (the interpreter
/// follows Cranelift's x86-64 lowering, docs/ABI.md "SIMD"). Found by the SIMD differential
/// (seed 5872: an `f64x2.relaxed_max` of NaN lanes fed an address, so interp trapped where
/// compiled code loaded).
#[test]
fn vector_min_max_nan_bits_agree_in_every_mode() {
    const WAT: &str = r#"(module
      (func (export "max64") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f64x2.max i64x2.extract_lane 0)
      (func (export "rmax64") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f64x2.relaxed_max i64x2.extract_lane 1)
      (func (export "min64") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f64x2.min i64x2.extract_lane 0)
      (func (export "rmin64") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f64x2.relaxed_min i64x2.extract_lane 1)
      (func (export "max32") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f32x4.max i64x2.extract_lane 0)
      (func (export "min32") (param i64 i64) (result i64)
        local.get 0 i64x2.splat local.get 1 i64x2.splat f32x4.relaxed_min i64x2.extract_lane 0))"#;
    let module = bareflow::Module::from_bytes(WAT.as_bytes()).unwrap();
    let inputs: [(i64, i64); 5] = [
        (-1, 0),
        (0, -1),
        (0x7ff0_0000_0000_0001, 0),
        (0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000_u64 as i64),
        (0x3ff0_0000_0000_0000, 0x4000_0000_0000_0000),
    ];
    let run = |mode: bareflow::Mode| {
        let mut store = bareflow::Store::new(bareflow::Config {
            mode,
            ..bareflow::Config::default()
        });
        let inst = store.instantiate(&module, &|_, _| None).unwrap();
        let mut out = Vec::new();
        for name in ["max64", "rmax64", "min64", "rmin64", "max32", "min32"] {
            let Some(bareflow::Extern::Func(f)) = store.export(inst, name) else {
                panic!("export {name}")
            };
            for (a, b) in inputs {
                out.push(
                    store
                        .call(f, &[bareflow::Val::I64(a), bareflow::Val::I64(b)])
                        .unwrap(),
                );
            }
        }
        out
    };
    let reference = run(bareflow::Mode::Interp);
    // max(NaN, 0) with the NaN's sign set: the canonical NaN with the sign bit set.
    assert_eq!(
        reference[0],
        vec![bareflow::Val::I64(0xfff8_0000_0000_0000_u64 as i64)]
    );
    for mode in [
        bareflow::Mode::JitNone,
        bareflow::Mode::JitSpeed,
        bareflow::Mode::Snapshot,
        bareflow::Mode::SnapshotXip,
    ] {
        assert_eq!(run(mode), reference, "{mode}");
    }
}
