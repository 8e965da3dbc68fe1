//! Host functions with a caller context, in every mode.

use crate::runtime::*;

#[derive(Default)]
struct Log {
    calls: u32,
    last: String,
}

/// `log(ptr, len)`: reads the guest string through the caller and records it in the store's
/// user data; `fill(ptr)` writes "xyz" into guest memory; `fail(n)` traps with a message.
fn link(store: &mut Store) -> impl Fn(&str, &str) -> Option<Extern> + use<> {
    let i32s = |n| vec![ValType::I32; n];
    let log = store.func_with_caller(
        FuncType {
            params: i32s(2),
            results: vec![],
        },
        Box::new(|c: &mut Caller<'_>, p: &[Val], _: &mut [Val]| {
            let (Val::I32(ptr), Val::I32(len)) = (p[0], p[1]) else {
                panic!("i32 params")
            };
            let mem = c.memory().ok_or_else(|| Trap::host("no memory"))?;
            let mut buf = vec![0; len as u32 as usize];
            c.read(mem, u64::from(ptr as u32), &mut buf)
                .map_err(|e| Trap::host(e.to_string()))?;
            let s = String::from_utf8(buf).map_err(|_| Trap::host("not UTF-8"))?;
            let log = c.data_mut::<Log>().ok_or_else(|| Trap::host("no log"))?;
            log.calls += 1;
            log.last = s;
            Ok(())
        }),
    );
    let fill = store.func_with_caller(
        FuncType {
            params: i32s(1),
            results: vec![],
        },
        Box::new(|c: &mut Caller<'_>, p: &[Val], _: &mut [Val]| {
            let Val::I32(ptr) = p[0] else { panic!("i32") };
            let Some(Extern::Memory(mem)) = c.get_export("memory") else {
                return Err(Trap::host("no memory export"));
            };
            c.write(mem, u64::from(ptr as u32), b"xyz")
                .map_err(|e| Trap::host(e.to_string()))
        }),
    );
    let fail = store.host_func(
        FuncType {
            params: i32s(1),
            results: vec![],
        },
        Box::new(|p: &[Val], _: &mut [Val]| Err(Trap::host(format!("boom {:?}", p[0])))),
    );
    move |_, name| match name {
        "log" => Some(Extern::Func(log)),
        "fill" => Some(Extern::Func(fill)),
        "fail" => Some(Extern::Func(fail)),
        _ => None,
    }
}

const GUEST: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "fill" (func $fill (param i32)))
  (import "env" "fail" (func $fail (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello, host")
  (table funcref (elem $log))
  (type $log_t (func (param i32 i32)))
  ;; n calls of log (a loop long enough for tiered mode to compile `run`), the last one
  ;; through the table.
  (func (export "run") (param $n i32)
    (block $done (loop $l
      (br_if $done (i32.le_s (local.get $n) (i32.const 1)))
      (call $log (i32.const 16) (i32.const 5))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (call_indirect (type $log_t) (i32.const 16) (i32.const 11) (i32.const 0)))
  (func (export "fill_and_load") (result i32)
    (call $fill (i32.const 100))
    (i32.load (i32.const 100)))
  (func (export "log_oob") (call $log (i32.const 65530) (i32.const 16)))
  (func (export "fail") (call $fail (i32.const 7))))"#;

fn func(s: &Store, i: InstanceId, name: &str) -> Func {
    match s.export(i, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

fn host_trap(r: Result<Vec<Val>, CallError>) -> Trap {
    match r {
        Err(CallError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn log_reads_guest_memory_in_every_mode() {
    for mode in Mode::ALL {
        let mut store = Store::new(Config::new(mode));
        store.set_data(Log::default());
        let imports = link(&mut store);
        let m = Module::from_bytes(GUEST.as_bytes()).unwrap();
        let inst = store.instantiate(&m, &imports).unwrap();
        let run = func(&store, inst, "run");
        for _ in 0..3 {
            store.call(run, &[Val::I32(12_000)]).unwrap();
        }
        if mode == Mode::Tiered {
            // The loop tiered up: later calls of `log` came from compiled code.
            assert!(!store.osr_events().is_empty(), "no OSR in tiered mode");
        }
        let log = store.data::<Log>().expect("user data");
        assert_eq!(log.calls, 36_000, "{mode}");
        assert_eq!(log.last, "hello, host", "{mode}");

        let f = func(&store, inst, "fill_and_load");
        let want = i32::from_le_bytes(*b"xyz\0");
        assert_eq!(store.call(f, &[]).unwrap(), vec![Val::I32(want)], "{mode}");

        let t = host_trap(store.call(func(&store, inst, "log_oob"), &[]));
        assert_eq!(t.code, TrapCode::HostError, "{mode}");
        let msg = t.message.as_deref().unwrap_or_default();
        assert!(
            msg.starts_with("out of bounds memory access: 16 bytes at 0xfffa"),
            "{mode}: {msg}"
        );

        let t = host_trap(store.call(func(&store, inst, "fail"), &[]));
        assert_eq!(t.message.as_deref(), Some("boom I32(7)"), "{mode}");
        assert!(
            t.to_string()
                .starts_with("host function error: boom I32(7)"),
            "{mode}: {t}"
        );
        // The message belongs to that trap only: a later trap without one has none.
        let t = host_trap(store.call(func(&store, inst, "log_oob"), &[]));
        assert!(t.message.unwrap().starts_with("out of bounds"), "{mode}");
        assert_eq!(store.data::<Log>().unwrap().calls, 36_000, "{mode}");
    }
}

/// Two instances import the same host function: each call sees its own instance's memory.
#[test]
fn caller_is_the_importing_instance() {
    for mode in [Mode::Interp, Mode::JitNone, Mode::Snapshot] {
        let mut store = Store::new(Config::new(mode));
        store.set_data(Log::default());
        let imports = link(&mut store);
        let wat = |s: &str| {
            format!(
                r#"(module (import "env" "log" (func $log (param i32 i32)))
                (memory (export "memory") 1) (data (i32.const 0) "{s}")
                (func (export "run") (call $log (i32.const 0) (i32.const 3))))"#
            )
        };
        let a = store
            .instantiate(
                &Module::from_bytes(wat("aaa").as_bytes()).unwrap(),
                &imports,
            )
            .unwrap();
        let b = store
            .instantiate(
                &Module::from_bytes(wat("bbb").as_bytes()).unwrap(),
                &imports,
            )
            .unwrap();
        store.call(func(&store, a, "run"), &[]).unwrap();
        assert_eq!(store.data::<Log>().unwrap().last, "aaa", "{mode}");
        store.call(func(&store, b, "run"), &[]).unwrap();
        assert_eq!(store.data::<Log>().unwrap().last, "bbb", "{mode}");
    }
}

/// Called directly by the store, a host function has no calling instance; a wrong result
/// type is a host error naming it; the data slot downcasts by type.
#[test]
fn direct_calls_and_bad_results() {
    let mut store = Store::new(Config::default());
    store.set_data(5u32);
    let f = store.func_with_caller(
        FuncType {
            params: vec![],
            results: vec![ValType::I64],
        },
        Box::new(|c: &mut Caller<'_>, _: &[Val], r: &mut [Val]| {
            assert!(c.memory().is_none() && c.get_export("memory").is_none());
            assert!(c.data::<String>().is_none());
            *c.data_mut::<u32>().unwrap() += 1;
            r[0] = Val::I32(1);
            Ok(())
        }),
    );
    let t = host_trap(store.call(f, &[]));
    assert_eq!(
        t.to_string(),
        "host function error: host function returned i32 for result 0 of type i64"
    );
    assert_eq!(store.data::<u32>(), Some(&6));
    assert_eq!(*store.take_data().unwrap().downcast::<u32>().unwrap(), 6);
    let mem = store.new_memory(1, None);
    store.write(mem, 65534, b"ok").unwrap();
    let mut buf = [0; 2];
    store.read(mem, 65534, &mut buf).unwrap();
    assert_eq!(&buf, b"ok");
    assert!(store.read(mem, 65535, &mut buf).is_err());
    assert!(store.write(mem, u64::MAX, b"x").is_err());
}
