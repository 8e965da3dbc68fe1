//! Bounded execution (issue #18): fuel is charged the same in every mode (1 per function
//! entry, 1 per taken loop back-edge), `(loop br 0)` is stopped by fuel and by an interrupt
//! in every mode, and the same instance answers the next call.

use std::time::Duration;

use bareflow::{
    CallError, Config, Extern, Func, MemoryMode, Mode, Module, Store, TierUp, TrapCode, Val,
};

const WAT: &str = r#"
(module
  (memory (export "memory") 1)
  (func $spin (export "spin") (loop br 0))
  ;; $spin through a call (inlined in snapshots, interrupt checks and all).
  (func (export "spin_via") (call $spin))
  ;; n iterations, each a call and a back-edge: fuel 1 + 2n.
  (func $count (export "count") (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $leaf (local.get $n))))
        (i32.store (i32.const 0) (local.get $acc))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func $leaf (param i32) (result i32) (i32.and (local.get 0) (i32.const 1)))
  ;; n iterations without calls (n - 1 back-edges), then a trap chosen by $kind: 0 an
  ;; out-of-bounds load (a fault in guard mode), 1 `unreachable`, 2 a libcall
  ;; (`memory.grow`) and an out-of-bounds `memory.fill` (a libcall status). Fuel n.
  (func (export "trapping") (param $n i32) (param $kind i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (block $b2 (block $b1 (block $b0 (br_table $b0 $b1 $b2 (local.get $kind)))
        (return (i32.load (i32.const -4))))
      unreachable)
    (drop (memory.grow (i32.const 0)))
    (memory.fill (i32.const -4) (i32.const 0) (i32.const 8))
    (local.get $acc))
  ;; n iterations without calls, then a tail call of $leaf: fuel n + 1.
  (func (export "tail") (param $n i32) (result i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (return_call $leaf (i32.const 1)))
  ;; A nested loop with a br_table back-edge and a br_if back-edge: fuel
  ;; 1 + (outer - 1) + outer * (inner - 1).
  (func (export "nested") (param $outer i32) (param $inner i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $x (loop $o
      (local.set $j (i32.const 0))
      (loop $in
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $in (i32.lt_u (local.get $j) (local.get $inner))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_table $o $x (i32.ge_u (local.get $i) (local.get $outer)))))
    (local.get $acc))
)
"#;

fn configs() -> Vec<(&'static str, Config)> {
    let mut v = Vec::new();
    for (name, mode) in [
        ("interp", Mode::Interp),
        ("jit-none", Mode::JitNone),
        ("jit-speed", Mode::JitSpeed),
        ("tiered", Mode::Tiered),
        ("snapshot", Mode::Snapshot),
        ("snapshot-xip", Mode::SnapshotXip),
    ] {
        let mut c = Config::new(mode);
        if mode == Mode::Tiered {
            // OSR at the first batch of back-edges, and calls compile at once.
            c.tier_up = TierUp {
                calls: 1,
                back_edges: 3,
            };
        }
        v.push((name, c));
    }
    for (name, mode) in [
        ("jit-speed-guard", Mode::JitSpeed),
        ("snapshot-guard", Mode::Snapshot),
    ] {
        let mut c = Config::new(mode);
        c.memory = MemoryMode::Guard;
        v.push((name, c));
    }
    v
}

fn func(store: &Store, inst: bareflow::InstanceId, name: &str) -> Func {
    match store.export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

fn trap_code(r: Result<Vec<Val>, CallError>) -> TrapCode {
    match r {
        Err(CallError::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const BUDGET: u64 = 1_000_000;

#[test]
fn remaining_fuel_is_the_same_in_every_mode() {
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    let mut seen = Vec::new();
    for (name, mut config) in configs() {
        config.consume_fuel(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let count = func(&store, inst, "count");
        let nested = func(&store, inst, "nested");
        store.set_fuel(BUDGET).unwrap();
        let mut remaining = Vec::new();
        for n in [0, 1, 7, 1000] {
            let r = store.call(count, &[Val::I32(n)]).expect(name);
            assert_eq!(r, vec![Val::I32((n + 1) / 2)], "{name}");
            remaining.push(store.get_fuel().unwrap());
        }
        let r = store
            .call(nested, &[Val::I32(30), Val::I32(20)])
            .expect(name);
        assert_eq!(r, vec![Val::I32(600)], "{name}");
        remaining.push(store.get_fuel().unwrap());
        // The unit, spelled out: 1 per entry, 1 per taken back-edge.
        let mut want = BUDGET;
        let mut expected = Vec::new();
        for n in [0u64, 1, 7, 1000] {
            want -= 1 + 2 * n;
            expected.push(want);
        }
        want -= 1 + 29 + 30 * 19;
        expected.push(want);
        assert_eq!(remaining, expected, "{name}");
        if name == "tiered" {
            assert!(!store.osr_events().is_empty(), "tiered: no OSR happened");
        }
        // A budget that runs out mid-loop stops at the same point in every mode: the
        // memory shows how far the loop got.
        store.set_fuel(101).unwrap();
        assert_eq!(
            trap_code(store.call(count, &[Val::I32(1000)])),
            TrapCode::OutOfFuel,
            "{name}"
        );
        assert_eq!(store.get_fuel().unwrap(), 0, "{name}");
        let mem = match store.export(inst, "memory") {
            Some(Extern::Memory(m)) => Some(m),
            _ => None,
        };
        let stored = mem.map(|m| store.memory_data(m)[0]);
        seen.push((name, stored));
        // The same instance answers the next call once fuel is added.
        store.set_fuel(10).unwrap();
        assert_eq!(
            store.call(count, &[Val::I32(2)]).expect(name),
            vec![Val::I32(1)]
        );
        assert_eq!(store.get_fuel().unwrap(), 5, "{name}");
    }
    // 101 units: the entry and 50 iterations (call + back-edge); the 51st call traps.
    // (1000..=951 has 25 odd numbers.)
    for (name, stored) in &seen {
        assert_eq!(*stored, Some(25), "{name}: {seen:?}");
    }
}

/// Compiled code keeps fuel in a register inside a function with loops: every trap exit
/// (an explicit check, a guard-mode fault, a libcall status) must leave the exact count.
#[test]
fn remaining_fuel_after_a_trap_is_the_same_in_every_mode() {
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    for (name, mut config) in configs() {
        config.consume_fuel(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let trapping = func(&store, inst, "trapping");
        store.set_fuel(BUDGET).unwrap();
        let mut want = BUDGET;
        for (kind, code) in [
            (0, TrapCode::MemoryOutOfBounds),
            (1, TrapCode::Unreachable),
            (2, TrapCode::MemoryOutOfBounds),
        ] {
            for n in [1, 1000] {
                let r = store.call(trapping, &[Val::I32(n), Val::I32(kind)]);
                assert_eq!(trap_code(r), code, "{name} kind {kind}");
                want -= n as u64;
                assert_eq!(store.get_fuel().unwrap(), want, "{name} kind {kind} n {n}");
            }
        }
        // A tail call leaves the function: the callee must see the fuel charged so far.
        let tail = func(&store, inst, "tail");
        let r = store.call(tail, &[Val::I32(1000)]).expect(name);
        assert_eq!(r, vec![Val::I32(1)], "{name}");
        want -= 1001;
        assert_eq!(store.get_fuel().unwrap(), want, "{name} tail");
    }
}

#[test]
fn an_endless_loop_is_stopped_by_fuel_in_every_mode() {
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    for (name, mut config) in configs() {
        config.consume_fuel(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let spin = func(&store, inst, "spin");
        let count = func(&store, inst, "count");
        for budget in [0, 1, 5000, 200_000] {
            store.set_fuel(budget).unwrap();
            let r = store.call(spin, &[]);
            match r {
                Err(CallError::Trap(t)) => {
                    assert_eq!(t.code, TrapCode::OutOfFuel, "{name}");
                    assert_eq!(t.code.to_string(), "all fuel consumed");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        store.set_fuel(100).unwrap();
        assert_eq!(
            store.call(count, &[Val::I32(3)]).expect(name),
            vec![Val::I32(2)]
        );
        assert_eq!(store.get_fuel().unwrap(), 93, "{name}");
    }
}

#[test]
fn an_endless_loop_is_interrupted_in_every_mode() {
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    for (name, mut config) in configs() {
        config.interruptible(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        let spin = func(&store, inst, "spin");
        let count = func(&store, inst, "count");
        let h = store.interrupt_handle().unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            h.interrupt();
        });
        let r = store.call(spin, &[]);
        t.join().unwrap();
        match r {
            Err(CallError::Trap(t)) => {
                assert_eq!(t.code, TrapCode::Interrupted, "{name}");
                assert_eq!(t.code.to_string(), "interrupted");
            }
            other => panic!("{name}: {other:?}"),
        }
        let spin_via = func(&store, inst, "spin_via");
        let h = store.interrupt_handle().unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            h.interrupt();
        });
        let r = store.call(spin_via, &[]);
        t.join().unwrap();
        assert!(
            matches!(&r, Err(CallError::Trap(t)) if t.code == TrapCode::Interrupted),
            "{name} spin_via: {r:?}"
        );
        // The check consumed the request: the next call runs to the end.
        assert_eq!(
            store.call(count, &[Val::I32(3)]).expect(name),
            vec![Val::I32(2)]
        );
    }
}

#[test]
fn fuel_and_interrupts_need_the_config() {
    let mut store = Store::new(Config::new(Mode::Interp));
    assert!(matches!(store.set_fuel(1), Err(CallError::Unsupported(_))));
    assert!(matches!(store.get_fuel(), Err(CallError::Unsupported(_))));
    assert!(store.interrupt_handle().is_err());
}

const SPIN_WAST: &str = r#"
(module (func (export "spin") (loop br 0)) (func (export "f") (result i32) i32.const 7))
(assert_return (invoke "f") (i32.const 7))
(invoke "spin")
(assert_return (invoke "f") (i32.const 7))
"#;

#[test]
fn a_stopped_wast_script_ends_its_thread() {
    for mode in [Mode::Interp, Mode::JitSpeed, Mode::Snapshot] {
        let stop = bareflow::internals::wast_stop::ScriptStop::new();
        let s = stop.clone();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let me = std::fs::read_link("/proc/thread-self").unwrap();
            tid_tx
                .send(me.file_name().unwrap().to_string_lossy().into_owned())
                .unwrap();
            bareflow::internals::wast_stop::set_thread_stop(Some(s));
            let cfg = bareflow::internals::wast::RunConfig {
                mode,
                ..Default::default()
            };
            bareflow::internals::wast::run_script("spin.wast", SPIN_WAST, &cfg)
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !worker.is_finished(),
            "{mode:?}: the script should still spin"
        );
        stop.stop();
        let t0 = std::time::Instant::now();
        while !worker.is_finished() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{mode:?}: the worker still runs"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let report = worker.join().unwrap();
        // The first assertion passed, `spin` was interrupted, the rest did not run.
        assert_eq!(report.passed, 1, "{mode:?}: {report:?}");
        // The worker's task is gone from the process (other tests' threads come and go, so
        // the check looks at this thread's id only).
        let tid = tid_rx.recv().unwrap();
        assert!(
            !std::path::Path::new(&format!("/proc/self/task/{tid}")).exists(),
            "{mode:?}: thread {tid} still exists"
        );
    }
}

#[test]
fn cli_run_fuel_and_timeout() {
    let dir = std::env::temp_dir().join(format!("bareflow-fuel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("spin.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "spin") (loop br 0)) (func (export "f") (result i32) i32.const 7))"#,
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_bareflow");
    for mode in ["interp", "jit-speed", "tiered", "snapshot"] {
        for (opt, val, msg) in [
            ("--timeout", "200ms", "interrupted"),
            ("--fuel", "100000", "all fuel consumed"),
        ] {
            let out = std::process::Command::new(bin)
                .args(["run", "--mode", mode, opt, val, "--invoke", "spin"])
                .arg(&wat)
                .output()
                .unwrap();
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(msg), "{mode} {opt}: {err}");
        }
        let out = std::process::Command::new(bin)
            .args(["run", "--mode", mode, "--fuel", "1", "--timeout", "5s"])
            .args(["--invoke", "f"])
            .arg(&wat)
            .output()
            .unwrap();
        assert!(out.status.success(), "{mode}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "7");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `bareflow-load --fuel/--timeout`: stops `(loop br 0)` in a snapshot compiled with the
/// checks, and refuses a snapshot compiled without them.
#[test]
fn bareflow_load_fuel_and_timeout() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    // The same target directory as tests/snapshot.rs's `bareflow_load_cli`.
    let target = tmp.join("loadbin");
    let out = std::process::Command::new(&cargo)
        .args([
            "build",
            "-p",
            "runtime-loader",
            "--bin",
            "bareflow-load",
            "--offline",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let load = target.join("debug/bareflow-load");
    let dir = tmp.join("fuel-load");
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("spin.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "spin") (loop br 0)) (func (export "f") (result i32) i32.const 7))"#,
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_bareflow");
    let snap = |name: &str, flags: &[&str]| {
        let p = dir.join(name);
        let o = std::process::Command::new(bin)
            .arg("compile")
            .args(flags)
            .arg(&wat)
            .arg("-o")
            .arg(&p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        p
    };
    let bounded = snap("bounded.snap", &["--fuel", "--interruptible"]);
    let xip = snap("bounded-xip.snap", &["--fuel", "--interruptible", "--xip"]);
    let plain = snap("plain.snap", &[]);
    let run = |args: &[&str], s: &std::path::Path, tail: &[&str]| {
        let o = std::process::Command::new(&load)
            .args(args)
            .arg(s)
            .args(tail)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    for s in [&bounded, &xip] {
        let (code, _, err) = run(&["--fuel", "5000"], s, &["--invoke", "spin"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("trap: all fuel consumed"), "{err}");
        let (code, _, err) = run(&["--timeout", "200ms"], s, &["--invoke", "spin"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("trap: interrupted"), "{err}");
        // Enough fuel, a deadline that does not pass: the result.
        let (code, out, _) = run(&["--fuel", "1", "--timeout", "5s"], s, &["--invoke", "f"]);
        assert_eq!((code, out.trim()), (Some(0), "7"));
        // No bounds asked for: runs as usual.
        let (code, out, _) = run(&[], s, &["--invoke", "f"]);
        assert_eq!((code, out.trim()), (Some(0), "7"));
    }
    let (code, _, err) = run(&["--fuel", "10"], &plain, &["--invoke", "f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no fuel checks"), "{err}");
    let (code, _, err) = run(&["--timeout", "1s"], &plain, &["--invoke", "f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no interrupt checks"), "{err}");
    let (code, _, _) = run(&["--timeout", "soon"], &plain, &["--invoke", "f"]);
    assert_eq!(code, Some(2));
}

/// Counted loops (compiler/src/clif/counted_loop.rs) run an unchecked copy when the fuel
/// left covers their most back-edges: each shape the analysis recognises, at budgets just
/// below, at and above what the call needs, must stop (or finish) with the same fuel left
/// in every mode as the plain unit count says.
const COUNTED: &str = r#"
(module
  (memory 1)
  ;; do-while, i < n (unsigned), clang's shape.
  (func (export "lt_u") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
  ;; do-while, n >= i (signed, bound first).
  (func (export "le_s") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ge_s (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
    (local.get $acc))
  ;; do-while, i > n (signed), stepping down by i32.sub.
  (func (export "gt_s") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.gt_s (local.tee $i (i32.sub (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
  ;; do-while, i >= n (unsigned) stepping down by adding -1: endless for n = 0.
  (func (export "ge_u") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ge_u (local.tee $i (i32.add (local.get $i) (i32.const -1))) (local.get $n))))
    (local.get $acc))
  ;; do-while, i <= n (unsigned): endless for n = -1.
  (func (export "le_u") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
  ;; do-while, i != n (wraps around).
  (func (export "ne") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
  ;; do-while on the stepped value itself: continue while i != 0.
  (func (export "tee") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const -1)))))
    (local.get $acc))
  ;; do-while, i64 induction, i < n (signed) with a constant bound n + 0.
  (func (export "lt_s64") (param $i i32) (param $n i32) (result i32) (local $j i64) (local $m i64)
    (local $acc i32)
    (local.set $j (i64.extend_i32_s (local.get $i)))
    (local.set $m (i64.extend_i32_s (local.get $n)))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i64.lt_s (local.tee $j (i64.add (local.get $j) (i64.const 1))) (local.get $m))))
    (local.get $acc))
  ;; Steps other than 1: 4 with `ne` (endless unless 4 divides the distance), 3 with
  ;; `lt_u` (may wrap past the bound), -4 with `ge_u`, -2 with `gt_s`, 8 with an i64 `le_s`,
  ;; and 4 with `ne` and the bound first.
  (func (export "ne4") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n))))
    (local.get $acc))
  (func (export "lt_u3") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 3))) (local.get $n))))
    (local.get $acc))
  (func (export "ge_u_m4") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ge_u (local.tee $i (i32.sub (local.get $i) (i32.const 4))) (local.get $n))))
    (local.get $acc))
  (func (export "gt_s_m2") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.gt_s (local.tee $i (i32.add (local.get $i) (i32.const -2))) (local.get $n))))
    (local.get $acc))
  (func (export "le_s8_64") (param $i i32) (param $n i32) (result i32) (local $j i64) (local $m i64)
    (local $acc i32)
    (local.set $j (i64.extend_i32_s (local.get $i)))
    (local.set $m (i64.extend_i32_s (local.get $n)))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i64.le_s (local.tee $j (i64.add (local.get $j) (i64.const 8))) (local.get $m))))
    (local.get $acc))
  (func (export "ne4_swapped") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 4))))))
    (local.get $acc))
  ;; A step held in a local (sieve's `j += i`): n & 7 (0: endless), with `le_u`; n & 15
  ;; with `lt_s`.
  (func (export "le_u_var") (param $i i32) (param $n i32) (result i32) (local $s i32)
    (local $acc i32)
    (local.set $s (i32.and (local.get $n) (i32.const 7)))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.le_u (local.tee $i (i32.add (local.get $i) (local.get $s))) (local.get $n))))
    (local.get $acc))
  (func (export "lt_s_var") (param $i i32) (param $n i32) (result i32) (local $s i32)
    (local $acc i32)
    (local.set $s (i32.and (local.get $n) (i32.const 15)))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (local.get $s))) (local.get $n))))
    (local.get $acc))
  ;; while: exit when i > n (signed), step at the end (sum_to_n's shape).
  (func (export "while_gt_s") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  ;; while: exit when 0 >= i (signed, bound first), stepping down (multiply's shape).
  (func (export "while_ge_s") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $n) (local.get $i)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  ;; do-while, i < n with an early exit: a load that traps once i * 4096 leaves the page.
  (func (export "trap_at_16") (param $i i32) (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.load (i32.shl (local.get $i) (i32.const 12)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
)
"#;

/// Taken back-edges of `name` called with `(i, n)`, by the loop's wasm semantics, at most
/// `cap` (`None`: more than `cap`).
fn model_back_edges(name: &str, i: i32, n: i32, cap: u64) -> Option<u64> {
    let mut edges = 0u64;
    let mut i = i;
    let (mut j, m) = (i64::from(i), i64::from(n));
    loop {
        let cont = match name {
            "lt_u" | "trap_at_16" => {
                i = i.wrapping_add(1);
                (i as u32) < (n as u32)
            }
            "le_s" => {
                i = i.wrapping_add(1);
                n >= i
            }
            "gt_s" => {
                i = i.wrapping_sub(1);
                i > n
            }
            "ge_u" => {
                i = i.wrapping_add(-1);
                (i as u32) >= (n as u32)
            }
            "le_u" => {
                i = i.wrapping_add(1);
                (i as u32) <= (n as u32)
            }
            "ne" => {
                i = i.wrapping_add(1);
                i != n
            }
            "tee" => {
                i = i.wrapping_add(-1);
                i != 0
            }
            "lt_s64" => {
                j += 1;
                j < m
            }
            "ne4" | "ne4_swapped" => {
                i = i.wrapping_add(4);
                i != n
            }
            "lt_u3" => {
                i = i.wrapping_add(3);
                (i as u32) < (n as u32)
            }
            "ge_u_m4" => {
                i = i.wrapping_sub(4);
                (i as u32) >= (n as u32)
            }
            "gt_s_m2" => {
                i = i.wrapping_add(-2);
                i > n
            }
            "le_s8_64" => {
                j += 8;
                j <= m
            }
            "le_u_var" => {
                i = i.wrapping_add(n & 7);
                (i as u32) <= (n as u32)
            }
            "lt_s_var" => {
                i = i.wrapping_add(n & 15);
                i < n
            }
            "while_gt_s" => {
                let go = i <= n;
                i = i.wrapping_add(1);
                go
            }
            "while_ge_s" => {
                let go = n < i;
                i = i.wrapping_sub(1);
                go
            }
            _ => panic!("{name}"),
        };
        if !cont {
            return Some(edges);
        }
        edges += 1;
        if edges > cap {
            return None;
        }
    }
}

const COUNTED_CASES: &[(&str, i32, i32)] = &[
    ("lt_u", 0, 100),
    ("lt_u", 100, 0),
    ("lt_u", -1, 5),
    ("le_s", -3, 40),
    ("le_s", 5, i32::MIN),
    ("le_s", i32::MAX - 60, i32::MAX),
    ("gt_s", 50, -10),
    ("gt_s", i32::MIN, 0),
    ("ge_u", 70, 3),
    ("ge_u", 70, 0),
    ("le_u", 0, 90),
    ("le_u", -50, -1),
    ("ne", 10, 60),
    ("ne", 10, 11),
    ("tee", 80, 0),
    ("tee", 1, 0),
    ("lt_s64", -20, 20),
    ("ne4", 0, 400),
    ("ne4", 1, 400),
    ("ne4", -8, 8),
    ("ne4_swapped", 0, 200),
    ("ne4_swapped", 3, 200),
    ("lt_u3", 0, 100),
    ("lt_u3", 0, -1),
    ("lt_u3", -10, -2),
    ("ge_u_m4", 100, 8),
    ("ge_u_m4", 100, 2),
    ("gt_s_m2", 50, -10),
    ("gt_s_m2", i32::MIN + 5, i32::MIN),
    ("le_s8_64", -20, 100),
    ("le_s8_64", i32::MAX - 20, i32::MAX),
    ("le_u_var", 0, 103),
    ("le_u_var", 0, 96),
    ("le_u_var", -20, -1),
    ("le_u_var", 5, 7),
    ("lt_s_var", -100, 111),
    ("lt_s_var", i32::MAX - 40, i32::MAX),
    ("lt_s_var", 50, 16),
    ("lt_s_var", 0, 16),
    ("while_gt_s", 1, 100),
    ("while_gt_s", i32::MAX - 30, i32::MAX),
    ("while_ge_s", 64, 0),
    ("while_ge_s", -4, 0),
];

/// Calls every case of [`COUNTED_CASES`] accepted by `pick` at budgets around its need and
/// checks the outcome and the fuel left against the unit count.
fn check_counted_cases(
    name: &str,
    store: &mut Store,
    inst: bareflow::InstanceId,
    pick: fn(&str) -> bool,
) {
    for &(export, i, n) in COUNTED_CASES.iter().filter(|c| pick(c.0)) {
        let f = func(store, inst, export);
        let cap = 300;
        let need = model_back_edges(export, i, n, cap).map(|e| e + 1);
        let budgets: Vec<u64> = match need {
            Some(k) => vec![k.saturating_sub(2), k - 1, k, k + 1, k + 1000],
            None => vec![0, 1, 77, cap],
        };
        for budget in budgets {
            store.set_fuel(budget).unwrap();
            let r = store.call(f, &[Val::I32(i), Val::I32(n)]);
            let at = format!("{name} {export}({i}, {n}) fuel {budget}");
            match need {
                Some(k) if budget >= k => {
                    let acc = (k - 1 + 1) as i32;
                    let acc = if export.starts_with("while") {
                        acc - 1
                    } else {
                        acc
                    };
                    assert_eq!(r.expect(&at), vec![Val::I32(acc)], "{at}");
                    assert_eq!(store.get_fuel().unwrap(), budget - k, "{at}");
                }
                _ => {
                    assert!(
                        matches!(&r, Err(CallError::Trap(t)) if t.code == TrapCode::OutOfFuel),
                        "{at}: {r:?}"
                    );
                    assert_eq!(store.get_fuel().unwrap(), 0, "{at}");
                }
            }
        }
    }
}

#[test]
fn counted_loops_charge_exactly_in_every_mode() {
    let module = Module::from_bytes(COUNTED.as_bytes()).expect("module");
    // Fuel alone, and fuel with interrupt checks (the guard then also bounds the trips).
    let both = configs().into_iter().map(|(n, mut c)| {
        c.interruptible(true);
        (n, c)
    });
    for (name, mut config) in configs().into_iter().chain(both) {
        config.consume_fuel(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        check_counted_cases(name, &mut store, inst, |_| true);
        // A trap in the unchecked copy (fuel covers the loop) leaves the exact count: 16
        // trips run, the 17th load traps, so 1 + 16 units are spent.
        let f = func(&store, inst, "trap_at_16");
        for budget in [17, 18, 1000] {
            store.set_fuel(budget).unwrap();
            let r = store.call(f, &[Val::I32(0), Val::I32(100)]);
            let at = format!("{name} trap_at_16 fuel {budget}");
            assert_eq!(trap_code(r), TrapCode::MemoryOutOfBounds, "{at}");
            assert_eq!(store.get_fuel().unwrap(), budget - 17, "{at}");
        }
    }
}

/// A counted loop without a bound (`i <=u -1` never fails) keeps its interrupt check, and
/// so does one whose trip count is too large to run unchecked.
#[test]
fn counted_loops_are_interrupted_in_every_mode() {
    let module = Module::from_bytes(COUNTED.as_bytes()).expect("module");
    for (name, mut config) in configs() {
        config.interruptible(true);
        let mut store = Store::new(config);
        let inst = store.instantiate(&module, &|_, _| None).expect("inst");
        // `lt_s_var(0, 16)` steps by 0, `while_gt_s(0, i32::MAX)` never exits and
        // `le_u(-100, -1)` wraps around within a few trips: chunks would never end (the
        // last one runs up to the bound), so they keep their checks.
        for (export, i, n) in [
            ("le_u", 0, -1),
            ("le_u", -100, -1),
            ("ne", 1, 0),
            ("lt_s_var", 0, 16),
            ("while_gt_s", 0, i32::MAX),
        ] {
            let f = func(&store, inst, export);
            let h = store.interrupt_handle().unwrap();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                h.interrupt();
            });
            // `le_u(0, -1)` never ends; `ne(1, 0)` takes 2^32 - 1 trips, too many to run
            // unchecked, and is stopped long before its end.
            let r = store.call(f, &[Val::I32(i), Val::I32(n)]);
            t.join().unwrap();
            let at = format!("{name} {export}({i}, {n})");
            assert_eq!(trap_code(r), TrapCode::Interrupted, "{at}");
            // A short counted loop runs to the end (unchecked in compiled code).
            let short = func(&store, inst, "lt_u");
            assert_eq!(
                store.call(short, &[Val::I32(0), Val::I32(1000)]).ok(),
                Some(vec![Val::I32(1000)]),
                "{at}"
            );
        }
    }
}

/// Counted loops run in interrupt chunks in compiled code (compiler/src/clif/bounds.rs: at
/// most 2^24 operators between two checks): each shape, its body padded to 4,000-odd
/// operators so that a chunk is about 4,000 trips, run over several chunk boundaries (the
/// bound at, just past and far from one), with interrupt checks alone and with fuel, must
/// compute what the loop computes and leave the exact fuel.
#[test]
fn chunked_counted_loops_cross_chunk_boundaries() {
    const PAD: usize = 1000;
    let unit = "(local.set $acc (i32.add (local.get $acc) (i32.const 1)))";
    let wat = COUNTED.replace(unit, &unit.repeat(PAD));
    let module = Module::from_bytes(wat.as_bytes()).expect("module");
    // Body operators: the padding, the step and the test (the chunk is 2^24 / ops trips).
    let chunk = (1u64 << 24) / (4 * PAD as u64 + 7);
    let c = i32::try_from(chunk).unwrap();
    let cases: Vec<(&str, i32, i32)> = vec![
        ("lt_u", 0, 2 * c),
        ("lt_u", 0, 2 * c + 1),
        ("lt_u", 5, 3 * c - 1),
        ("le_s", -c, 2 * c),
        ("le_s", i32::MAX - 3 * c, i32::MAX - 1),
        ("gt_s", c, -2 * c),
        ("ge_u", 3 * c, 1),
        ("le_u", 0, 2 * c),
        ("le_u", -3 * c, -2),
        ("lt_s64", -c, 2 * c),
        ("lt_u3", 0, 8 * c),
        ("ge_u_m4", 12 * c, 3),
        ("gt_s_m2", i32::MIN + 6 * c, i32::MIN),
        ("le_s8_64", i32::MAX - 20 * c, i32::MAX),
        ("le_u_var", 0, 8 * 3 * c + 7),
        ("lt_s_var", -30 * c, 16 * c + 15),
        ("while_gt_s", 1, 3 * c),
        ("while_gt_s", i32::MAX - 2 * c, i32::MAX - 1),
        ("while_ge_s", 3 * c, 0),
    ];
    for (name, mut config) in configs()
        .into_iter()
        .filter(|(n, _)| matches!(*n, "jit-none" | "jit-speed" | "snapshot" | "snapshot-guard"))
    {
        config.interruptible(true);
        for fuel in [false, true] {
            config.consume_fuel(fuel);
            let mut store = Store::new(config.clone());
            let inst = store.instantiate(&module, &|_, _| None).expect("inst");
            for &(export, i, n) in &cases {
                let edges = model_back_edges(export, i, n, 1 << 26).expect(export);
                let trips = if export.starts_with("while") {
                    edges
                } else {
                    edges + 1
                };
                assert!(trips >= 2 * chunk, "{export}({i}, {n}): {trips} trips");
                let f = func(&store, inst, export);
                let budget = 1u64 << 40;
                if fuel {
                    store.set_fuel(budget).unwrap();
                }
                let at = format!("{name} fuel {fuel} {export}({i}, {n})");
                let r = store.call(f, &[Val::I32(i), Val::I32(n)]).expect(&at);
                assert_eq!(r, vec![Val::I32((trips * PAD as u64) as i32)], "{at}");
                if fuel {
                    assert_eq!(store.get_fuel().unwrap(), budget - edges - 1, "{at}");
                }
            }
        }
    }
}

/// Regression: the interpreter rotates a loop that starts with its exit test and ends with
/// `br 0` (the bottom test jumps past the header), and its exit then took no back-edge:
/// `while_gt_s(1, 100)` finished on 100 units where every compiled mode needs the entry and
/// 100 back-edges, 101. Stores with checks now run the code lowered without rotation.
#[test]
fn while_shaped_loops_charge_exactly_in_the_interpreter() {
    let module = Module::from_bytes(COUNTED.as_bytes()).expect("module");
    let mut config = Config::new(Mode::Interp);
    config.consume_fuel(true);
    let mut store = Store::new(config);
    let inst = store.instantiate(&module, &|_, _| None).expect("inst");
    check_counted_cases("interp", &mut store, inst, |e| e.starts_with("while"));
}

/// The C kernels' loops as clang emits them (many are counted loops and run unchecked in
/// compiled code): the fuel a call leaves is the same in every mode, and a budget that runs
/// out midway stops every mode with the same fuel charged (all of it).
#[test]
fn kernels_leave_the_same_fuel_in_every_mode() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm-samples");
    for (kernel, arg) in [
        ("sha256", 3),
        ("crc32", 2),
        ("matmul", 24),
        ("nbody", 500),
        ("sieve", 100_000),
        ("quicksort", 5_000),
        ("minivm", 40),
    ] {
        let wasm = std::fs::read(samples.join(format!("{kernel}.wasm"))).expect(kernel);
        let module = Module::from_bytes(&wasm).expect(kernel);
        let mut seen: Vec<(&str, Vec<Val>, u64)> = Vec::new();
        for (name, mut config) in configs() {
            config.consume_fuel(true);
            let mut store = Store::new(config);
            let inst = store.instantiate(&module, &|_, _| None).expect(kernel);
            let run = func(&store, inst, "run");
            store.set_fuel(BUDGET * 1000).unwrap();
            let r = store.call(run, &[Val::I32(arg)]).expect(kernel);
            let used = BUDGET * 1000 - store.get_fuel().unwrap();
            seen.push((name, r, used));
            // Half the need: out of fuel, with nothing left, in every mode.
            store.set_fuel(used / 2).unwrap();
            let r = store.call(run, &[Val::I32(arg)]);
            assert_eq!(trap_code(r), TrapCode::OutOfFuel, "{kernel} {name}");
            assert_eq!(store.get_fuel().unwrap(), 0, "{kernel} {name}");
        }
        let (_, want_r, want_used) = &seen[0];
        for (name, r, used) in &seen {
            assert_eq!((r, used), (want_r, want_used), "{kernel}: {name} vs interp");
        }
    }
}

/// The safe snapshot API (`runtime_loader::embed`, issue #18 item 2): fuel and interruption
/// on a snapshot compiled with the checks, the same fuel left as the interpreter's, the
/// instance usable after each stop; a snapshot without checks refuses both.
#[test]
fn safe_snapshot_api_fuel_and_interrupts() {
    use bareflow::internals::{aot, clif::Bounds, parse};
    use runtime_loader::embed::{
        BoundsError, CallError as E, Imports, Instance, Snapshot, Val as V,
    };
    let m = parse::parse(WAT.as_bytes()).expect("parse");
    let compile = |bounds| {
        aot::compile(
            &m,
            &aot::AotOptions {
                bounds,
                ..Default::default()
            },
        )
        .expect("compile")
        .0
    };
    let checked = compile(Bounds {
        fuel: true,
        interrupt: true,
    });
    let s = Snapshot::load(&checked).expect("load");
    let mut inst = Instance::new(&s, Imports::new()).expect("instantiate");
    let code = |r: Result<Vec<V>, E>| match r {
        Err(E::Trap(t)) => t.code,
        other => panic!("expected a trap, got {other:?}"),
    };
    // A new snapshot has no fuel: the first check traps.
    assert_eq!(s.fuel(), Ok(0));
    assert_eq!(code(inst.call("count", &[V::I32(3)])), TrapCode::OutOfFuel);
    // The endless loop stops when the fuel runs out; more fuel, and the next call answers.
    s.set_fuel(1_000).unwrap();
    assert_eq!(code(inst.call("spin", &[])), TrapCode::OutOfFuel);
    assert_eq!(s.fuel(), Ok(0));
    s.set_fuel(BUDGET).unwrap();
    assert_eq!(inst.call("count", &[V::I32(1000)]).unwrap(), [V::I32(500)]);
    let left = s.fuel().unwrap();
    // The interpreter charges the same.
    let module = Module::from_bytes(WAT.as_bytes()).expect("module");
    let mut config = Config::new(Mode::Interp);
    config.consume_fuel(true);
    let mut store = Store::new(config);
    let i = store.instantiate(&module, &|_, _| None).expect("inst");
    store.set_fuel(BUDGET).unwrap();
    let count = func(&store, i, "count");
    store.call(count, &[Val::I32(1000)]).expect("count");
    assert_eq!(
        left,
        store.get_fuel().unwrap(),
        "fuel left: snapshot vs interp"
    );
    // An interrupt from another thread stops the endless loop; the next call answers.
    s.set_fuel(u64::MAX).unwrap();
    let h = s.interrupt_handle().unwrap();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        h.interrupt();
    });
    assert_eq!(code(inst.call("spin", &[])), TrapCode::Interrupted);
    t.join().unwrap();
    assert_eq!(inst.call("count", &[V::I32(3)]).unwrap(), [V::I32(2)]);
    // Without the checks, both are refused with the flag to compile with.
    let plain = Snapshot::load(&compile(Bounds::default())).expect("load");
    assert_eq!(plain.set_fuel(1), Err(BoundsError::NoFuelChecks));
    assert_eq!(plain.fuel(), Err(BoundsError::NoFuelChecks));
    let e = plain.interrupt_handle().unwrap_err();
    assert_eq!(e, BoundsError::NoInterruptChecks);
    assert!(e.to_string().contains("--interruptible"), "{e}");
}
