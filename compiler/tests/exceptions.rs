//! Issue #17: exception handling (`try_table`, `throw`, `throw_ref`, tags, `exnref`).
//!
//! Every mode runs it: the interpreter, tiered mode (every function compiled after its
//! first call), jit-none, jit-speed, snapshot and snapshot-xip (guard memory too): every
//! test below runs in each of them. A snapshot *file* of such a module is refused
//! (`bareflow compile`: the loaders have no exception functions yet).

use bareflow::{
    CallError, Config, Exception, Extern, FuncType, InstantiateError, Mode, Module, Store, Trap,
    TrapCode, Val, ValType,
};

const WAT: &str = r#"
(module
  (import "host" "h32" (tag $h32 (param i32)))
  (import "host" "fail" (func $fail (param i32)))
  (tag $e32 (export "e32") (param i32))
  (tag $e64 (param i64))
  (tag $ef32 (param f32))
  (tag $ef64 (param f64))
  (tag $ev (param v128))
  (tag $emix (export "emix") (param i32 i64 f32 f64 v128))
  (tag $empty (export "empty"))

  ;; Throws $e32 x from `depth` frames down.
  (func $deep (param $x i32) (param $depth i32)
    (if (i32.eqz (local.get $depth))
      (then (throw $e32 (local.get $x))))
    (call $deep (local.get $x) (i32.sub (local.get $depth) (i32.const 1))))

  ;; A callee whose own handler does not match ($e64): the caller's catches it.
  (func $inner (param $x i32)
    (block $h (result i64)
      (try_table (catch $e64 $h)
        (call $deep (local.get $x) (i32.const 3)))
      (return))
    (drop))

  (func (export "catch_deep") (param $x i32) (param $depth i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e32 $h)
        (call $deep (local.get $x) (local.get $depth)))
      (i32.const -1)))

  (func (export "catch_outer") (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e32 $h) (call $inner (local.get $x)))
      (i32.const -1)))

  (func (export "throw_i64") (param i64) (result i64)
    (block $h (result i64)
      (try_table (catch $e64 $h) (throw $e64 (local.get 0)))
      (i64.const -1)))
  (func (export "throw_f32") (param f32) (result f32)
    (block $h (result f32)
      (try_table (catch $ef32 $h) (throw $ef32 (local.get 0)))
      (f32.const -1)))
  (func (export "throw_f64") (param f64) (result f64)
    (block $h (result f64)
      (try_table (catch $ef64 $h) (throw $ef64 (local.get 0)))
      (f64.const -1)))
  (func (export "throw_v128") (param v128) (result v128)
    (block $h (result v128)
      (try_table (catch $ev $h) (throw $ev (local.get 0)))
      (v128.const i64x2 -1 -1)))
  ;; Every payload type at once, summed into an f64 after the catch.
  (func (export "throw_mix") (param i32 i64 f32 f64 v128) (result f64)
    (local $a i32) (local $b i64) (local $c f32) (local $d f64) (local $v v128)
    (block $h (result i32 i64 f32 f64 v128)
      (try_table (catch $emix $h)
        (throw $emix (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
      (unreachable))
    (local.set $v) (local.set $d) (local.set $c) (local.set $b) (local.set $a)
    (f64.add
      (f64.add (f64.convert_i32_s (local.get $a)) (f64.convert_i64_s (local.get $b)))
      (f64.add (f64.promote_f32 (local.get $c))
               (f64.add (local.get $d)
                        (f64.convert_i64_s (i64x2.extract_lane 1 (local.get $v)))))))

  ;; catch_ref, then throw_ref: the outer handler sees the same payload.
  (func (export "rethrow") (param $x i32) (result i32)
    (block $outer (result i32)
      (try_table (catch $e32 $outer)
        (block $h (result i32 exnref)
          (try_table (catch_ref $e32 $h) (throw $e32 (local.get $x)))
          (unreachable))
        (throw_ref))
      (i32.const -1)))
  ;; catch_all_ref keeps the exception; throw_ref sends it on to the host.
  (func (export "rethrow_uncaught") (param $x i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e32 (local.get $x)))
      (unreachable))
    (throw_ref))
  ;; catch_all: nothing pushed.
  (func (export "catch_all") (result i32)
    (block $h
      (try_table (catch_all $h) (throw $empty))
      (return (i32.const -1)))
    (i32.const 1))
  ;; The exnref itself reaches the host.
  (func (export "exnref_out") (param $x i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e32 (local.get $x)))
      (unreachable)))
  (func (export "throw_null") (throw_ref (ref.null exn)))

  (func (export "uncaught") (param $x i32) (result i32)
    (throw $e32 (local.get $x)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))

  ;; The host function throws $h32; the handler catches it.
  (func (export "host_caught") (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $h32 $h) (call $fail (local.get $x)))
      (i32.const -1)))
  (func (export "host_uncaught") (param $x i32) (result i32)
    (call $fail (local.get $x))
    (i32.const -1))

  ;; A tail call leaves the try_table: its handler does not apply.
  (func $thrower (result i32) (throw $e32 (i32.const 5)))
  (func (export "tail_out") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e32 $h) (return_call $thrower))))
  ;; A tail call to a host function that throws: not caught here either.
  (func (export "tail_host") (param i32)
    (block $h (result i32)
      (try_table (catch $h32 $h) (return_call $fail (local.get 0)))
      (i32.const -1))
    (drop))
  (func (export "call_in") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e32 $h) (call $thrower))))

  ;; A catch that branches out of a loop (and back in, counting).
  (func (export "loop_catch") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e32 $h) (throw $e32 (local.get $i)))
        (unreachable))
      (local.set $i (i32.add (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  ;; A catch to the function label returns the payload directly.
  (func (export "catch_to_return") (param $x i32) (result i32)
    (try_table (catch $e32 0) (throw $e32 (local.get $x)))
    (i32.const -1))
)
"#;

fn i32s(v: &[Val]) -> Vec<i32> {
    v.iter()
        .map(|v| match v {
            Val::I32(x) => *x,
            other => panic!("{other:?}"),
        })
        .collect()
}

struct Setup {
    store: Store,
    inst: bareflow::InstanceId,
    host_tag: bareflow::Tag,
}

/// Every configuration that runs exception handling: the interpreter, tiered mode compiling
/// each function after its first call, jit-none and jit-speed (checked and guard memory).
fn configs() -> Vec<Config> {
    let mut v = vec![Config::new(Mode::Interp)];
    let mut tiered = Config::new(Mode::Tiered);
    tiered.tier_up = bareflow::TierUp {
        calls: 1,
        back_edges: 1 << 30,
    };
    v.push(tiered);
    for mode in [
        Mode::JitNone,
        Mode::JitSpeed,
        Mode::Snapshot,
        Mode::SnapshotXip,
    ] {
        v.push(Config::new(mode));
    }
    if runtime_loader::instance::GUARD_MEMORY_SUPPORTED {
        for mode in [Mode::JitSpeed, Mode::Snapshot] {
            let mut g = Config::new(mode);
            g.memory = bareflow::MemoryMode::Guard;
            v.push(g);
        }
    }
    v
}

fn setup_with(config: Config) -> Result<Setup, InstantiateError> {
    let mut store = Store::new(config);
    let host_tag = store.new_tag(FuncType {
        params: vec![ValType::I32],
        results: vec![],
    });
    let fail = store.host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![],
        },
        Box::new(move |p, _| {
            let Val::I32(x) = p[0] else { unreachable!() };
            if x < 0 {
                // A payload of the wrong type: a host error, not an exception.
                return Err(Trap::throw(host_tag, vec![Val::I64(1)]));
            }
            Err(Trap::throw(host_tag, vec![Val::I32(x * 10)]))
        }),
    );
    let m = Module::from_bytes(WAT.as_bytes()).expect("valid module");
    assert!(m.uses_exceptions());
    let inst = store.instantiate(&m, &|_, name| match name {
        "h32" => Some(Extern::Tag(host_tag)),
        "fail" => Some(Extern::Func(fail)),
        _ => None,
    })?;
    Ok(Setup {
        store,
        inst,
        host_tag,
    })
}

fn call(s: &mut Setup, name: &str, args: &[Val]) -> Result<Vec<Val>, CallError> {
    let Some(Extern::Func(f)) = s.store.export(s.inst, name) else {
        panic!("no export {name}");
    };
    s.store.call(f, args)
}

fn exception(r: Result<Vec<Val>, CallError>) -> Exception {
    match r {
        Err(CallError::Trap(t)) => {
            assert_eq!(t.code, TrapCode::Exception, "{t}");
            *t.exception
                .expect("an exception trap carries the exception")
        }
        other => panic!("expected an exception, got {other:?}"),
    }
}

#[test]
fn throw_and_catch_across_frames() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        for depth in [0, 1, 5, 1000] {
            assert_eq!(
                i32s(&call(&mut s, "catch_deep", &[Val::I32(7), Val::I32(depth)]).unwrap()),
                [7],
                "depth {depth}"
            );
        }
        assert_eq!(
            i32s(&call(&mut s, "catch_outer", &[Val::I32(9)]).unwrap()),
            [9]
        );
        assert_eq!(i32s(&call(&mut s, "catch_all", &[]).unwrap()), [1]);
        assert_eq!(
            i32s(&call(&mut s, "catch_to_return", &[Val::I32(4)]).unwrap()),
            [4]
        );
        assert_eq!(
            i32s(&call(&mut s, "loop_catch", &[Val::I32(100)]).unwrap()),
            [100]
        );
    }
}

#[test]
fn payloads_of_every_type() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        assert_eq!(
            call(&mut s, "throw_i64", &[Val::I64(-1 << 40)]).unwrap(),
            [Val::I64(-1 << 40)]
        );
        let f = 1.5f32.to_bits();
        assert_eq!(
            call(&mut s, "throw_f32", &[Val::F32(f)]).unwrap(),
            [Val::F32(f)]
        );
        let d = (-2.25f64).to_bits();
        assert_eq!(
            call(&mut s, "throw_f64", &[Val::F64(d)]).unwrap(),
            [Val::F64(d)]
        );
        let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        assert_eq!(
            call(&mut s, "throw_v128", &[Val::V128(v)]).unwrap(),
            [Val::V128(v)]
        );
        // 1 + 2 + 3.5 + 4.25 + 5 (lane 1 of the v128).
        let r = call(
            &mut s,
            "throw_mix",
            &[
                Val::I32(1),
                Val::I64(2),
                Val::F32(3.5f32.to_bits()),
                Val::F64(4.25f64.to_bits()),
                Val::V128(5u128 << 64 | 77),
            ],
        )
        .unwrap();
        assert_eq!(r, [Val::F64(15.75f64.to_bits())]);
    }
}

#[test]
fn catch_ref_and_throw_ref() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        assert_eq!(i32s(&call(&mut s, "rethrow", &[Val::I32(3)]).unwrap()), [3]);
        let e = exception(call(&mut s, "rethrow_uncaught", &[Val::I32(8)]));
        assert_eq!(e.payload, [Val::I32(8)]);
        let Some(Extern::Tag(e32)) = s.store.export(s.inst, "e32") else {
            panic!("e32 is exported");
        };
        assert_eq!(e.tag, e32);
        // An exnref returned to the host: its tag and payload.
        let r = call(&mut s, "exnref_out", &[Val::I32(11)]).unwrap();
        let [Val::ExnRef(Some(x))] = r[..] else {
            panic!("{r:?}")
        };
        let got = s.store.exn_exception(x).unwrap();
        assert_eq!((got.tag, got.payload), (e32, vec![Val::I32(11)]));
        // throw_ref of null traps.
        match call(&mut s, "throw_null", &[]) {
            Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::NullReference),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn uncaught_reaches_the_host_and_the_instance_stays_usable() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        let Some(Extern::Tag(e32)) = s.store.export(s.inst, "e32") else {
            panic!("e32 is exported");
        };
        assert_eq!(
            s.store.tag_type(e32),
            Some(FuncType {
                params: vec![ValType::I32],
                results: vec![]
            })
        );
        for x in [1, 2, 3] {
            let e = exception(call(&mut s, "uncaught", &[Val::I32(x)]));
            assert_eq!((e.tag, e.payload), (e32, vec![Val::I32(x)]));
            assert_eq!(
                i32s(&call(&mut s, "add", &[Val::I32(x), Val::I32(40)]).unwrap()),
                [x + 40]
            );
        }
        let t = match call(&mut s, "uncaught", &[Val::I32(5)]) {
            Err(CallError::Trap(t)) => t,
            other => panic!("{other:?}"),
        };
        assert!(
            t.to_string()
                .starts_with("uncaught wasm exception: payload [i32 5] (in function uncaught"),
            "{t}"
        );
    }
}

#[test]
fn host_functions_throw() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        assert_eq!(
            i32s(&call(&mut s, "host_caught", &[Val::I32(4)]).unwrap()),
            [40]
        );
        let e = exception(call(&mut s, "host_uncaught", &[Val::I32(6)]));
        assert_eq!((e.tag, e.payload), (s.host_tag, vec![Val::I32(60)]));
        // A payload that does not match the tag is a host error.
        match call(&mut s, "host_caught", &[Val::I32(-1)]) {
            Err(CallError::Trap(t)) => {
                assert_eq!(t.code, TrapCode::HostError);
                assert!(t.to_string().contains("does not match"), "{t}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            i32s(&call(&mut s, "host_caught", &[Val::I32(2)]).unwrap()),
            [20]
        );
    }
}

#[test]
fn a_tail_call_leaves_the_handler() {
    for config in configs() {
        eprintln!("{} {:?}", config.mode, config.memory);
        let mut s = setup_with(config).unwrap();
        assert_eq!(i32s(&call(&mut s, "call_in", &[]).unwrap()), [5]);
        let e = exception(call(&mut s, "tail_out", &[]));
        assert_eq!(e.payload, [Val::I32(5)]);
        let e = exception(call(&mut s, "tail_host", &[Val::I32(3)]));
        assert_eq!(e.payload, [Val::I32(30)]);
    }
}

/// Tags are identities: an imported tag matches the exporter's, another tag of the same
/// type does not.
#[test]
fn tags_across_instances() {
    for config in configs() {
        let mut store = Store::new(config);
        let a = Module::from_bytes(
            br#"(module
        (tag $t (export "t") (param i32))
        (tag $u (export "u") (param i32))
        (func (export "throw_t") (param i32) (throw $t (local.get 0)))
        (func (export "throw_u") (param i32) (throw $u (local.get 0))))"#,
        )
        .unwrap();
        let ia = store.instantiate(&a, &|_, _| None).unwrap();
        let ext = |s: &Store, n: &str| s.export(ia, n).unwrap();
        let (t, tu, ft, fu) = (
            ext(&store, "t"),
            ext(&store, "u"),
            ext(&store, "throw_t"),
            ext(&store, "throw_u"),
        );
        let b = Module::from_bytes(
            br#"(module
        (import "a" "t" (tag $t (param i32)))
        (import "a" "throw" (func $throw (param i32)))
        (func (export "run") (param i32) (result i32)
          (block $h (result i32)
            (try_table (catch $t $h) (call $throw (local.get 0)))
            (i32.const -1))))"#,
        )
        .unwrap();
        for (thrower, want) in [(ft, Ok(7)), (fu, Err(()))] {
            let ib = store
                .instantiate(&b, &|_, n| match n {
                    "t" => Some(t),
                    _ => Some(thrower),
                })
                .unwrap();
            let Some(Extern::Func(run)) = store.export(ib, "run") else {
                panic!()
            };
            match (store.call(run, &[Val::I32(7)]), want) {
                (Ok(v), Ok(w)) => assert_eq!(v, [Val::I32(w)]),
                (Err(CallError::Trap(t)), Err(())) => {
                    let Extern::Tag(u) = tu else { panic!() };
                    assert_eq!(t.exception.unwrap().tag, u);
                }
                (r, w) => panic!("{r:?}, wanted {w:?}"),
            }
        }
        // A tag import of another type does not link.
        let c = Module::from_bytes(br#"(module (import "a" "t" (tag (param i64))))"#).unwrap();
        match store.instantiate(&c, &|_, _| Some(t)) {
            Err(InstantiateError::Unlinkable(m)) => {
                assert!(m.starts_with("incompatible import type"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match store.instantiate(&c, &|_, _| Some(ft)) {
            Err(InstantiateError::Unlinkable(m)) => {
                assert!(m.starts_with("incompatible import type"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_start_function_that_throws() {
    for config in configs() {
        let mut store = Store::new(config);
        let m = Module::from_bytes(
            br#"(module (tag $t (param i32)) (func $s (throw $t (i32.const 3))) (start $s))"#,
        )
        .unwrap();
        match store.instantiate(&m, &|_, _| None) {
            Err(InstantiateError::Trap(t)) => {
                assert_eq!(t.code, TrapCode::Exception);
                assert_eq!(t.exception.unwrap().payload, [Val::I32(3)]);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A snapshot file of an exception module is refused with a clear error (the loaders
/// have no exception functions); a module without exceptions still compiles, and a host
/// exception passing through its compiled code reaches the host as the typed error.
#[test]
fn snapshot_files_refuse_exception_modules() {
    let m = Module::from_bytes(WAT.as_bytes()).unwrap();
    let opts = bareflow::internals::aot::AotOptions::default();
    match bareflow::internals::aot::compile(m.parsed(), &opts) {
        Err(e) => assert!(e.to_string().contains("exception handling"), "{e}"),
        Ok(_) => panic!("a snapshot file of an exception module was written"),
    }
    // A module without exceptions still runs there, and a host exception passing through
    // compiled code reaches the host as the typed error.
    for mode in [Mode::JitSpeed, Mode::Snapshot] {
        let mut store = Store::new(Config::new(mode));
        let tag = store.new_tag(FuncType {
            params: vec![ValType::I64],
            results: vec![],
        });
        let f = store.host_func(
            FuncType::default(),
            Box::new(move |_, _| Err(Trap::throw(tag, vec![Val::I64(-5)]))),
        );
        let m = Module::from_bytes(
            br#"(module (import "h" "f" (func $f)) (func (export "run") (call $f)))"#,
        )
        .unwrap();
        assert!(!m.uses_exceptions());
        let i = store
            .instantiate(&m, &|_, _| Some(Extern::Func(f)))
            .unwrap();
        let Some(Extern::Func(run)) = store.export(i, "run") else {
            panic!()
        };
        let e = exception(store.call(run, &[]));
        assert_eq!((e.tag, e.payload), (tag, vec![Val::I64(-5)]), "{mode}");
    }
}

/// Tiered mode: an exception crosses the tier boundary both ways after a tier-up in the
/// middle of the run: a compiled handler catches an interpreted thrower (and a host
/// function's exception below a compiled frame), an interpreted handler catches a compiled
/// thrower, and once everything is compiled, compiled code catches compiled code.
#[test]
fn tiered_crosses_the_tier_boundary() {
    let mut config = Config::new(Mode::Tiered);
    config.tier_up = bareflow::TierUp {
        calls: 2,
        back_edges: 1 << 30,
    };
    let mut store = Store::new(config);
    let tag = store.new_tag(FuncType {
        params: vec![ValType::I32],
        results: vec![],
    });
    let host = store.host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![],
        },
        Box::new(move |p, _| Err(Trap::throw(tag, vec![p[0]]))),
    );
    let m = Module::from_bytes(
        br#"(module
        (import "h" "t" (tag $t (param i32)))
        (import "h" "f" (func $host (param i32)))
        (func $c (export "c") (param i32) (throw $t (local.get 0)))
        (func $c2 (export "c2") (param i32) (throw $t (i32.add (local.get 0) (i32.const 2))))
        ;; $a catches what $c throws when $go is set.
        (func (export "a") (param i32) (param $go i32) (result i32)
          (block $k (result i32)
            (try_table (catch $t $k)
              (if (local.get $go) (then (call $c (local.get 0)))))
            (i32.const -1)))
        (func (export "a2") (param i32) (param $go i32) (result i32)
          (block $k (result i32)
            (try_table (catch $t $k)
              (if (local.get $go) (then (call $c2 (local.get 0)))))
            (i32.const -1)))
        (func (export "a3") (param i32) (param $go i32) (result i32)
          (block $k (result i32)
            (try_table (catch $t $k)
              (if (local.get $go) (then (call $host (local.get 0)))))
            (i32.const -1))))"#,
    )
    .unwrap();
    let inst = store
        .instantiate(&m, &|_, n| match n {
            "t" => Some(Extern::Tag(tag)),
            _ => Some(Extern::Func(host)),
        })
        .unwrap();
    let f = |s: &Store, n: &str| match s.export(inst, n) {
        Some(Extern::Func(f)) => f,
        _ => panic!("{n}"),
    };
    let (a, a2, a3, c, c2) = (
        f(&store, "a"),
        f(&store, "a2"),
        f(&store, "a3"),
        f(&store, "c"),
        f(&store, "c2"),
    );
    let compiled = |s: &Store, index: u32| {
        let fr = s.runtime_instance(inst).unwrap().func(index).unwrap();
        // SAFETY: a live FuncRef of the store.
        let array = unsafe { (*fr).array };
        array != bareflow::internals::interp::exec::array_entry as *const u8 && !array.is_null()
    };
    // Function indices: $host 0, $c 1, $c2 2, a 3, a2 4, a3 5.
    // Warm the handlers a and a3 without throwing, and the thrower $c2 alone (each call an
    // uncaught exception to the host).
    for round in 0..20 {
        for (g, x) in [(a, 0), (a3, 0)] {
            assert_eq!(
                store.call(g, &[Val::I32(round), Val::I32(x)]).unwrap(),
                [Val::I32(-1)]
            );
        }
        let e = exception(store.call(c2, &[Val::I32(round)]));
        assert_eq!((e.tag, e.payload), (tag, vec![Val::I32(round + 2)]));
    }
    assert!(compiled(&store, 3) && compiled(&store, 5) && compiled(&store, 2));
    assert!(!compiled(&store, 1) && !compiled(&store, 4));
    // Compiled a catches interpreted $c; compiled a3 catches the host's exception.
    assert_eq!(
        store.call(a, &[Val::I32(7), Val::I32(1)]).unwrap(),
        [Val::I32(7)]
    );
    assert_eq!(
        store.call(a3, &[Val::I32(8), Val::I32(1)]).unwrap(),
        [Val::I32(8)]
    );
    // Interpreted a2 catches compiled $c2 (its first call, so a2 is still interpreted).
    assert!(!compiled(&store, 4));
    assert_eq!(
        store.call(a2, &[Val::I32(9), Val::I32(1)]).unwrap(),
        [Val::I32(11)]
    );
    // Then everything tiers up; compiled code catches compiled code.
    for round in 0..40 {
        assert_eq!(
            store.call(a, &[Val::I32(round), Val::I32(1)]).unwrap(),
            [Val::I32(round)]
        );
        assert_eq!(
            store.call(a2, &[Val::I32(round), Val::I32(1)]).unwrap(),
            [Val::I32(round + 2)]
        );
        let e = exception(store.call(c, &[Val::I32(round)]));
        assert_eq!(e.payload, vec![Val::I32(round)]);
    }
    assert!((1..=5).all(|i| compiled(&store, i)), "everything tiers up");
}
