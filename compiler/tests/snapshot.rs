//! Snapshots end to end: compile with `bareflow::internals::aot`, load with the real `runtime_loader`,
//! run, compare with the interpreter; corrupted snapshots are rejected before any code runs;
//! the loader crate stays compiler-free and builds without std.

use std::process::Command;

use bareflow::internals::aot::{self, AotOpt, AotOptions};
use bareflow::{Config, Extern, Mode, Module, Store, Val};
use runtime_loader::LoadError;
use runtime_loader::code::{BufferCodeMemory, MmapCodeMemory};
use runtime_loader::instance::Imports;
use runtime_loader::loader::{LoadedModule, call};
use runtime_loader::trap::TrapContext;
use runtime_loader::{TrapCode, format};

const WAT: &str = r#"
(module
  (memory 1)
  (data (i32.const 16) "\2a\00\00\00")
  (global $g (mut i32) (i32.const 5))
  (table 4 funcref)
  (elem (i32.const 0) $fib $sq)
  (type $t (func (param i64) (result i64)))
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func $sq (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
  (func (export "indirect") (param i64 i32) (result i64)
    (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "fadd") (param f64 f32) (result f64 f32)
    (f64.add (local.get 0) (f64.const 0.5)) (f32.mul (local.get 1) (f32.const 2)))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
  (func (export "grow") (result i32) (memory.grow (i32.const 2)))
  (func (export "fill") (param i32 i32 i32) (result i32)
    (memory.fill (local.get 0) (local.get 1) (local.get 2)) (i32.load8_u (local.get 0)))
  (func $unused (result i32) (i32.const 7))
  (func $also_unused (result i32) (call $unused))
  (func $rec (export "rec") (param i32) (result i32) (call $rec (local.get 0)))
)
"#;

fn snapshot(opt: AotOpt) -> (bareflow::internals::parse::Module, Vec<u8>, aot::AotStats) {
    let m = bareflow::internals::parse::parse(WAT.as_bytes()).unwrap();
    let (bytes, stats) = aot::compile(
        &m,
        &AotOptions {
            opt,
            profile: None,
            ..Default::default()
        },
    )
    .unwrap();
    (m, bytes, stats)
}

/// Calls through the real loader; `Err` is a trap.
fn run_snapshot(bytes: &[u8], calls: &[(&str, Vec<u64>)]) -> Vec<Result<Vec<u64>, TrapCode>> {
    let module = LoadedModule::load(bytes, MmapCodeMemory::new()).unwrap();
    run_loaded(&module, calls)
}

/// Instantiates `module` (no imports) and makes `calls`; `Err` is a trap.
fn run_loaded(
    module: &LoadedModule<MmapCodeMemory>,
    calls: &[(&str, Vec<u64>)],
) -> Vec<Result<Vec<u64>, TrapCode>> {
    let meta = module.meta();
    let type_ids = (0..meta.num_types())
        .map(|i| {
            (0..=i)
                .find(|&j| meta.type_at(j) == meta.type_at(i))
                .unwrap()
        })
        .collect();
    let mut trap_ctx = Box::new(TrapContext::default());
    // SAFETY: no imports; `trap_ctx` and `module` outlive `inst` (dropped at the end of
    // this function, `inst` first).
    let inst = unsafe {
        module
            .instantiate(
                type_ids,
                Imports::default(),
                std::ptr::null_mut(),
                &mut *trap_ctx,
            )
            .unwrap()
    };
    inst.initialize(&meta).unwrap();
    let mut out = Vec::new();
    for (name, args) in calls {
        let e = meta.export_named(name.as_bytes()).unwrap();
        let ty = meta.func_type(e.index).unwrap();
        let mut values = args.clone();
        values.resize(ty.params.len().max(ty.results.len()).max(1), 0);
        // SAFETY: `values` is large enough and holds parameters of the right types.
        let r = unsafe { call(&inst, e.index, &mut values) };
        out.push(r.map(|()| values[..ty.results.len()].to_vec()));
    }
    drop(inst);
    out
}

fn to_bits(v: &Val) -> u64 {
    match v {
        Val::I32(x) => *x as u32 as u64,
        Val::I64(x) => *x as u64,
        Val::F32(b) => u64::from(*b),
        Val::F64(b) => *b,
        _ => panic!("no references in this test"),
    }
}

fn run_interp(calls: &[(&str, Vec<u64>)]) -> Vec<Result<Vec<u64>, TrapCode>> {
    let module = Module::from_bytes(WAT.as_bytes()).unwrap();
    let mut store = Store::new(Config::new(Mode::Interp));
    let inst = store.instantiate(&module, &|_, _| None).unwrap();
    calls
        .iter()
        .map(|(name, args)| {
            let Some(Extern::Func(f)) = store.export(inst, name) else {
                panic!("export {name}");
            };
            let ty = store.func_type(f);
            let vals: Vec<Val> = ty
                .params
                .iter()
                .zip(args)
                .map(|(t, a)| match t {
                    bareflow::ValType::I32 => Val::I32(*a as i32),
                    bareflow::ValType::I64 => Val::I64(*a as i64),
                    bareflow::ValType::F32 => Val::F32(*a as u32),
                    bareflow::ValType::F64 => Val::F64(*a),
                    _ => unreachable!(),
                })
                .collect();
            match store.call(f, &vals) {
                Ok(r) => Ok(r.iter().map(to_bits).collect()),
                Err(bareflow::CallError::Trap(t)) => Err(t.code),
                Err(e) => panic!("{e}"),
            }
        })
        .collect()
}

fn calls() -> Vec<(&'static str, Vec<u64>)> {
    vec![
        ("fib", vec![20]),
        ("indirect", vec![9, 0]),
        ("indirect", vec![9, 1]),
        ("indirect", vec![9, 2]),
        ("indirect", vec![9, 7]),
        ("div", vec![7, (-2i32) as u32 as u64]),
        ("div", vec![1, 0]),
        ("div", vec![i32::MIN as u32 as u64, u64::from(u32::MAX)]),
        ("load", vec![16]),
        ("load", vec![65533]),
        (
            "fadd",
            vec![1.25f64.to_bits(), u64::from((-3.5f32).to_bits())],
        ),
        ("bump", vec![]),
        ("bump", vec![]),
        ("grow", vec![]),
        ("load", vec![65536 * 2]),
        ("fill", vec![100, 0xab, 10]),
        ("fill", vec![100, 1, 1 << 30]),
        ("rec", vec![1]),
        ("fib", vec![10]),
    ]
}

#[test]
fn snapshot_matches_interpreter_at_every_opt_level() {
    let expected = run_interp(&calls());
    assert!(expected.iter().any(|r| r.is_err()), "the test covers traps");
    for opt in [AotOpt::None, AotOpt::Speed, AotOpt::Size] {
        let (_, bytes, stats) = snapshot(opt);
        assert_eq!(stats.dropped, 2, "two unreachable functions dropped");
        assert_eq!(run_snapshot(&bytes, &calls()), expected, "opt {opt:?}");
    }
}

/// Permissions (`r-xp`, ...) of the mapping of this process that contains `addr`.
fn mapping_perms(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (lo, hi) = f.next()?.split_once('-')?;
        let (lo, hi) = (
            usize::from_str_radix(lo, 16).ok()?,
            usize::from_str_radix(hi, 16).ok()?,
        );
        (lo <= addr && addr < hi).then(|| f.next().map(str::to_string))?
    })
}

/// `--xip`: no relocation left, the snapshot copied into a read+execute-only mapping runs
/// from there (every entry point lies inside it, on a page the process cannot write) and
/// gives the interpreter's results, traps included.
#[test]
fn xip_snapshot_runs_in_place_from_read_exec_memory() {
    let expected = run_interp(&calls());
    let m = bareflow::internals::parse::parse(WAT.as_bytes()).unwrap();
    let opts = AotOptions {
        xip: true,
        ..Default::default()
    };
    let (bytes, _) = aot::compile(&m, &opts).unwrap();
    let snap = format::Snapshot::parse(&bytes).unwrap();
    assert_eq!(
        snap.flags & format::flags::XIP,
        format::flags::XIP,
        "XIP flag set"
    );
    let elf = runtime_loader::elf::ElfObject::parse(snap.object_bytes()).unwrap();
    assert_eq!(elf.relocation_count(), 0);
    let image = MmapCodeMemory::map_read_exec(&bytes).unwrap();
    let range = image.bytes().as_ptr_range();
    let (lo, hi) = (range.start as usize, range.end as usize);
    let file: *const [u8] = image.bytes();
    // SAFETY: `file` is the read+execute mapping `image` owns; the module keeps `image`.
    let module = unsafe { LoadedModule::load_in_place(&*file, image, None) }.unwrap();
    let meta = module.meta();
    let mut entries = 0;
    for i in meta.num_imported_funcs()..meta.num_funcs() {
        let p = module.native(i) as usize;
        if p == 0 {
            continue;
        }
        entries += 1;
        assert!(lo <= p && p < hi, "function {i} runs outside the image");
        let perms = mapping_perms(p).expect("mapped");
        assert!(perms.starts_with("r-x"), "code page is {perms}");
    }
    assert!(entries >= 8);
    // The code starts on a cache line of the file, so every function sits on the same
    // 64-byte boundaries as in a copied (page-aligned) region: loops split across a line
    // made `multiply` 1.35-1.8x slower in place than copied.
    let code_at = snap.object_bytes().as_ptr() as usize - bytes.as_ptr() as usize
        + elf.in_place_offset().unwrap();
    assert_eq!(
        code_at % format::CODE_LINE_ALIGN,
        0,
        "code at file offset {code_at}"
    );
    let copied = LoadedModule::load(&bytes, MmapCodeMemory::new()).unwrap();
    for i in meta.num_imported_funcs()..meta.num_funcs() {
        let (p, q) = (module.native(i) as usize, copied.native(i) as usize);
        assert_eq!(
            p % 64,
            q % 64,
            "function {i}: in place {p:#x}, copied {q:#x}"
        );
    }
    assert_eq!(run_loaded(&module, &calls()), expected);
    // The copying loader takes the same snapshot too.
    assert_eq!(run_snapshot(&bytes, &calls()), expected);
}

#[test]
fn snapshot_records_describe_compiled_functions() {
    let (m, bytes, stats) = snapshot(AotOpt::Speed);
    let snap = format::Snapshot::parse(&bytes).unwrap();
    let recs: Vec<_> = snap.func_records().collect();
    assert_eq!(recs.len() as u32, stats.compiled);
    assert_eq!(stats.compiled + stats.dropped, m.meta.num_defined_funcs());
    assert!(recs.iter().all(|r| r.code_size > 0));
    assert!(recs.iter().any(|r| r.name == "fib"));
}

/// Every truncation, and single-byte corruption at many positions, is rejected by
/// `LoadedModule::load` before any code runs (loaded into a plain, never executed buffer).
#[test]
fn corrupted_snapshots_are_rejected() {
    let (_, bytes, _) = snapshot(AotOpt::Speed);
    let try_load = |b: &[u8]| {
        let mut buf = vec![0u8; 1 << 16];
        LoadedModule::load(b, BufferCodeMemory::new(&mut buf, None)).map(|_| ())
    };
    try_load(&bytes).expect("the intact snapshot loads");
    for n in 0..bytes.len() {
        assert!(try_load(&bytes[..n]).is_err(), "truncated to {n} accepted");
    }
    let step = (bytes.len() / 1500).max(1);
    for i in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[i] ^= 0x41;
        assert!(try_load(&b).is_err(), "flip at {i} accepted");
    }
    let mut b = bytes.clone();
    b[0] = b'X';
    assert_eq!(try_load(&b), Err(LoadError::BadMagic));
    // Version 8 (relocation tables) and an unknown version 10.
    for v in [8, 10] {
        let mut b = bytes.clone();
        b[4] = v;
        assert_eq!(try_load(&b), Err(LoadError::UnsupportedVersion));
    }
}

/// With a valid checksum, the structure checks still hold: corrupt the object's section
/// header offset and other bytes, re-seal the checksum, expect clear errors.
#[test]
fn corrupted_object_with_valid_checksum_is_rejected() {
    let (_, bytes, _) = snapshot(AotOpt::Speed);
    let snap = format::Snapshot::parse(&bytes).unwrap();
    let obj_start = snap.object_bytes().as_ptr() as usize - bytes.as_ptr() as usize;
    let reseal = |b: &mut Vec<u8>| {
        let sum = format::file_checksum(b).unwrap();
        b[format::CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
    };
    let load = |b: &[u8]| {
        let mut buf = vec![0u8; 1 << 16];
        LoadedModule::load(b, BufferCodeMemory::new(&mut buf, None)).map(|_| ())
    };
    // e_shoff far outside the object.
    let mut b = bytes.clone();
    b[obj_start + 40..obj_start + 48].copy_from_slice(&u64::MAX.to_le_bytes());
    reseal(&mut b);
    assert_eq!(load(&b), Err(LoadError::BadElf));
    // Every byte of the object overwritten in turn (checksum re-sealed): never a panic, and
    // at least a tenth are rejected. Most bytes are code and data, which the loader copies
    // without interpreting (the checksum and the signature protect them), so only header,
    // section-table and symbol bytes can be refused: measured 774 of 3,616 (21%) on
    // 2026-12-03 with relocations; 586 of 3,976 (15%) on 2026-12-08 (format v9: the object
    // has no relocation entries left to cross-check).
    let obj_len = snap.object_bytes().len();
    let mut rejected = 0;
    for i in 0..obj_len {
        let mut b = bytes.clone();
        b[obj_start + i] = 0xff;
        reseal(&mut b);
        if load(&b).is_err() {
            rejected += 1;
        }
    }
    assert!(
        rejected * 10 >= obj_len,
        "only {rejected} of {obj_len} single-byte corruptions rejected"
    );
    // Metadata corrupted with a valid checksum: export index out of range.
    let mut b = bytes.clone();
    let meta_start = snap.meta_bytes().as_ptr() as usize - bytes.as_ptr() as usize;
    b[meta_start] = 0x7f; // absurd type count
    reseal(&mut b);
    assert_eq!(load(&b), Err(LoadError::BadMeta));
}

#[test]
fn loader_dependency_tree_is_compiler_free() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "runtime-loader",
            "--edges",
            "normal",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("runtime-loader"), "{tree}");
    for bad in [
        "cranelift",
        "wasmparser",
        "wasmtime",
        "object ",
        "bareflow v",
    ] {
        assert!(!tree.contains(bad), "{bad} in loader tree:\n{tree}");
    }
}

#[test]
fn loader_builds_without_std() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("nostd");
    for features in [None, Some("alloc")] {
        let mut c = Command::new(&cargo);
        c.args([
            "build",
            "-p",
            "runtime-loader",
            "--lib",
            "--no-default-features",
            "--offline",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
        if let Some(f) = features {
            c.args(["--features", f]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `bareflow-load` end to end: results one per line, traps and bad snapshots exit 1 with one
/// message line, usage errors exit 2.
#[test]
fn bareflow_load_cli() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.join("loadbin");
    let out = Command::new(&cargo)
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
    let bin = target.join("debug/bareflow-load");
    let (_, bytes, _) = snapshot(AotOpt::Speed);
    let snap = tmp.join("cli-test.snap");
    aot::write_atomic(&snap, &bytes).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(&bin).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let s = snap.to_str().unwrap();
    assert_eq!(
        run(&[s, "--invoke", "fib", "20"]),
        (Some(0), "6765\n".into(), String::new())
    );
    assert_eq!(
        run(&[s, "--invoke", "fadd", "1.25", "-3.5"]),
        (Some(0), "1.75\n-7\n".into(), String::new())
    );
    assert_eq!(run(&[s, "--invoke", "indirect", "9", "1"]).1, "81\n");
    let (code, out, err) = run(&[s, "--invoke", "div", "1", "0"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("trap: integer divide by zero"), "{err}");
    let (code, _, err) = run(&[s, "--invoke", "rec", "0"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("call stack exhausted"), "{err}");
    let (code, _, err) = run(&[s, "--invoke", "fib", "x"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not a valid i64"), "{err}");
    // Signatures cannot be required from a loader without the verifier.
    let (code, out, err) = run(&["--require-signed", s, "--invoke", "fib", "20"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(
        err.contains("--require-signed needs feature `sign`"),
        "{err}"
    );
    assert_eq!(run(&[s, "--invoke"]).0, Some(2));
    assert_eq!(run(&[]).0, Some(2));
    assert_eq!(run(&[s]).0, Some(0));
    // A corrupted snapshot: clear error, exit 1.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    let badp = tmp.join("cli-test-bad.snap");
    std::fs::write(&badp, &bad).unwrap();
    let (code, out, err) = run(&[badp.to_str().unwrap(), "--invoke", "fib", "1"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("checksum"), "{err}");
    let (code, _, err) = run(&["/nonexistent.snap"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot read"), "{err}");
}

/// Profile-guided export through the CLI: `run --profile-out` records calls, `compile
/// --profile` puts the hot function at `speed`, one that ran a little at `size` and those
/// that never ran at `none`, `inspect` shows it, and the snapshot still computes the same
/// results.
#[test]
fn profile_guided_compile_and_inspect_cli() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pgo");
    std::fs::create_dir_all(&tmp).unwrap();
    let wat = tmp.join("m.wat");
    std::fs::write(&wat, WAT).unwrap();
    let prof = tmp.join("m.profile");
    let _ = std::fs::remove_file(&prof);
    let bareflow = env!("CARGO_BIN_EXE_bareflow");
    let ok = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(bareflow).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let os = |s: &str| std::ffi::OsStr::new(s).to_owned();
    for _ in 0..2 {
        ok(&[
            &os("run"),
            &os("--profile-out"),
            prof.as_os_str(),
            &os("--invoke"),
            &os("fib"),
            wat.as_os_str(),
            &os("15"),
        ]);
    }
    // `bump` runs once: cool, not cold.
    ok(&[
        &os("run"),
        &os("--profile-out"),
        prof.as_os_str(),
        &os("--invoke"),
        &os("bump"),
        wat.as_os_str(),
    ]);
    let snap = tmp.join("m.snap");
    ok(&[
        &os("compile"),
        wat.as_os_str(),
        &os("-o"),
        snap.as_os_str(),
        &os("--profile"),
        prof.as_os_str(),
    ]);
    let listing = ok(&[&os("inspect"), &os("--functions"), snap.as_os_str()]);
    let fib_line = listing
        .lines()
        .find(|l| l.ends_with(" fib"))
        .expect(&listing);
    assert!(fib_line.contains("speed"), "{listing}");
    // What ran a little is at `size`, what never ran at `none`.
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap_or_else(|| panic!("{name} not listed: {listing}"))
            .to_string()
    };
    assert!(line("bump").contains(" size "), "{listing}");
    assert!(line("div").contains(" none "), "{listing}");
    let bytes = std::fs::read(&snap).unwrap();
    let s = format::Snapshot::parse(&bytes).unwrap();
    let fib = s.func_records().find(|r| r.name == "fib").unwrap();
    assert_eq!(fib.calls, 2 * 1973, "fib(15) makes 1973 calls per run");
    assert_eq!(run_snapshot(&bytes, &calls()), run_interp(&calls()));
    // A profile of another module is refused.
    let other = tmp.join("other.wat");
    std::fs::write(&other, "(module (func (export \"f\")))").unwrap();
    let o = Command::new(bareflow)
        .args([
            os("compile"),
            other.into(),
            os("-o"),
            tmp.join("o.snap").into(),
            os("--profile"),
        ])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another module"));
}

#[test]
fn compile_emits_the_bare_object_on_request() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("emit-obj");
    std::fs::create_dir_all(&tmp).unwrap();
    let wat = tmp.join("m.wat");
    std::fs::write(&wat, WAT).unwrap();
    let (snap, obj) = (tmp.join("m.snap"), tmp.join("m.o"));
    let _ = std::fs::remove_file(&obj);
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .arg("compile")
        .arg(&wat)
        .arg("-o")
        .arg(&snap)
        .arg("--emit-obj")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let snap_bytes = std::fs::read(&snap).unwrap();
    let obj_bytes = std::fs::read(&obj).unwrap();
    // The `.o` is an ELF64 relocatable object, identical to the one inside the snapshot.
    assert_eq!(&obj_bytes[..4], b"\x7fELF");
    assert_eq!(obj_bytes[4], 2, "ELFCLASS64");
    let parsed = runtime_loader::format::Snapshot::parse(&snap_bytes).unwrap();
    assert_eq!(parsed.object_bytes(), &obj_bytes[..]);
}

/// Float rounding (libcalls on baseline x86-64, compiled into the snapshot) and calls
/// between functions (PC-relative calls, resolved at export).
const FLOAT_WAT: &str = r#"
(module
  (func $r64 (export "r64") (param f64) (result f64 f64 f64 f64)
    (f64.floor (local.get 0)) (f64.ceil (local.get 0))
    (f64.trunc (local.get 0)) (f64.nearest (local.get 0)))
  (func $r32 (export "r32") (param f32) (result f32 f32 f32 f32)
    (f32.floor (local.get 0)) (f32.ceil (local.get 0))
    (f32.trunc (local.get 0)) (f32.nearest (local.get 0)))
  (func (export "both") (param f64) (result f64)
    (call $r64 (local.get 0)) (drop) (drop) (drop)
    (call $r32 (f32.demote_f64 (local.get 0))) (drop) (drop) (drop)
    (f64.promote_f32) (f64.add))
)
"#;

/// Format v9: a baseline (SSE2) snapshot defines the rounding helpers its code calls as
/// local functions of its object, has no relocation left and no relocation table, and runs
/// the same copied (`LoadedModule::load`) and in place; an `--xip` (SSE4.1) one needs no
/// helper at all.
#[test]
fn baseline_snapshots_carry_their_helpers_and_no_relocations() {
    use runtime_loader::elf::ElfObject;
    let m = bareflow::internals::parse::parse(FLOAT_WAT.as_bytes()).unwrap();
    let helpers = [
        "floor",
        "ceil",
        "trunc",
        "nearbyint",
        "floorf",
        "ceilf",
        "truncf",
        "nearbyintf",
    ];
    for xip in [false, true] {
        let opts = AotOptions {
            xip,
            ..Default::default()
        };
        let (bytes, _) = aot::compile(&m, &opts).unwrap();
        let snap = format::Snapshot::parse(&bytes).unwrap();
        let obj = ElfObject::parse(snap.object_bytes()).unwrap();
        assert_eq!(obj.relocation_count(), 0);
        assert!(obj.in_place_offset().is_ok());
        assert_ne!(snap.flags & format::flags::XIP, 0);
        for h in helpers {
            assert_eq!(obj.find_symbol(h).is_some(), !xip, "{h}, xip {xip}");
        }
        let calls = [
            ("r64", vec![(-2.5f64).to_bits()]),
            ("r32", vec![u64::from(2.5f32.to_bits())]),
            ("both", vec![1.5f64.to_bits()]),
        ];
        let f64s = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let f32s = |v: &[f32]| v.iter().map(|x| u64::from(x.to_bits())).collect::<Vec<_>>();
        let want = vec![
            Ok(f64s(&[-3.0, -2.0, -2.0, -2.0])),
            Ok(f32s(&[2.0, 3.0, 2.0, 2.0])),
            Ok(f64s(&[2.0])), // floor(1.5) + floorf(1.5)
        ];
        assert_eq!(run_snapshot(&bytes, &calls), want, "copied, xip {xip}");
        let image = MmapCodeMemory::map_read_exec(&bytes).unwrap();
        let file: *const [u8] = image.bytes();
        // SAFETY: the read+execute mapping lives in `image`, which the module keeps.
        let module = unsafe { LoadedModule::load_in_place(&*file, image, None) }.unwrap();
        assert_eq!(run_loaded(&module, &calls), want, "in place, xip {xip}");
    }
}

/// Each helper compiled into baseline code against Rust's own rounding (and a byte-wise
/// `pshufb` reference) over the edge values, through the store's `snapshot` mode (baseline
/// SSE2, so the helpers run: the snapshot is checked to define them) and compared with
/// `snapshot-xip` (SSE4.1 `roundss`/`pshufb`). NaNs must come back quieted with sign and
/// payload kept, as `roundss` returns them.
#[test]
fn baseline_helpers_match_std_rounding_and_pshufb() {
    const ROUND: &str = r#"(module
      (func (export "f32") (param f32) (result f32 f32 f32 f32)
        (f32.floor (local.get 0)) (f32.ceil (local.get 0))
        (f32.trunc (local.get 0)) (f32.nearest (local.get 0)))
      (func (export "f64") (param f64) (result f64 f64 f64 f64)
        (f64.floor (local.get 0)) (f64.ceil (local.get 0))
        (f64.trunc (local.get 0)) (f64.nearest (local.get 0)))
      (func (export "swz") (param v128 v128) (result v128)
        (i8x16.swizzle (local.get 0) (local.get 1)))
      (func (export "f32x4") (param v128) (result v128 v128 v128 v128)
        (f32x4.floor (local.get 0)) (f32x4.ceil (local.get 0))
        (f32x4.trunc (local.get 0)) (f32x4.nearest (local.get 0))))"#;
    let parsed = bareflow::internals::parse::parse(ROUND.as_bytes()).unwrap();
    let (bytes, _) = aot::compile(&parsed, &AotOptions::default()).unwrap();
    let snap = format::Snapshot::parse(&bytes).unwrap();
    let obj = runtime_loader::elf::ElfObject::parse(snap.object_bytes()).unwrap();
    for h in [
        "floorf",
        "ceilf",
        "truncf",
        "nearbyintf",
        "floor",
        "ceil",
        "trunc",
        "nearbyint",
    ] {
        assert!(obj.find_symbol(h).is_some(), "baseline code defines {h}");
    }
    assert!(obj.find_symbol("__cranelift_x86_pshufb").is_some());

    let module = Module::from_bytes(ROUND.as_bytes()).unwrap();
    let mut stores: Vec<(Store, _)> = [Mode::Snapshot, Mode::SnapshotXip]
        .into_iter()
        .map(|mode| {
            let mut store = Store::new(Config::new(mode));
            let inst = store.instantiate(&module, &|_, _| None).unwrap();
            (store, inst)
        })
        .collect();
    let mut call = |k: usize, name: &str, args: &[Val]| -> Vec<Val> {
        let (store, inst) = &mut stores[k];
        let Some(Extern::Func(f)) = store.export(*inst, name) else {
            panic!("export {name}");
        };
        store.call(f, args).unwrap()
    };
    let bits = |v: &Val| match v {
        Val::F32(b) => u64::from(*b),
        Val::F64(b) => *b,
        Val::V128(b) => *b as u64,
        _ => panic!(),
    };

    let mut f32s: Vec<f32> = vec![
        0.0,
        0.5,
        1.5,
        2.5,
        0.49999997,
        1.0,
        8388607.0,
        8388608.0,
        8388609.0,
        8388607.5,
        4194303.5,
        16777215.0,
        1e30,
        f32::MAX,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::INFINITY,
        0.7,
        3.3,
    ];
    f32s.extend(f32s.clone().iter().map(|x| -x));
    let nan32 = [
        0x7fc0_0000u32,
        0x7fa0_0001,
        0xffc1_2345,
        0xff80_0001,
        0x7f80_0001,
    ];
    for (k, x) in f32s.iter().map(|x| x.to_bits()).chain(nan32).enumerate() {
        let f = f32::from_bits(x);
        let want: Vec<u64> = if f.is_nan() {
            vec![u64::from(x | 0x0040_0000); 4]
        } else {
            [f.floor(), f.ceil(), f.trunc(), f.round_ties_even()]
                .iter()
                .map(|r| u64::from(r.to_bits()))
                .collect()
        };
        for mode in 0..2 {
            let got: Vec<u64> = call(mode, "f32", &[Val::F32(x)]).iter().map(bits).collect();
            assert_eq!(got, want, "f32 {f:e} ({x:#x}) #{k}, mode {mode}");
        }
        // The same value in every lane of the vector rounding.
        let v = u128::from(x) * 0x0000_0001_0000_0001_0000_0001_0000_0001;
        for mode in 0..2 {
            let got: Vec<u64> = call(mode, "f32x4", &[Val::V128(v)])
                .iter()
                .map(|r| bits(r) & 0xffff_ffff)
                .collect();
            assert_eq!(got, want, "f32x4 {f:e} ({x:#x}), mode {mode}");
        }
    }

    let p52 = 2f64.powi(52);
    let mut f64s: Vec<f64> = vec![
        0.0,
        0.5,
        1.5,
        2.5,
        0.49999999999999994,
        1.0,
        p52 - 1.0,
        p52,
        p52 + 1.0,
        p52 - 0.5,
        2f64.powi(51) + 0.5,
        8388607.5,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::INFINITY,
        0.7,
        3.3,
    ];
    f64s.extend(f64s.clone().iter().map(|x| -x));
    let nan64 = [
        0x7ff8_0000_0000_0000u64,
        0x7ff4_0000_0000_0001,
        0xfff8_1234_5678_9abc,
        0xfff0_0000_0000_0001,
    ];
    for x in f64s.iter().map(|x| x.to_bits()).chain(nan64) {
        let f = f64::from_bits(x);
        let want: Vec<u64> = if f.is_nan() {
            vec![x | 0x0008_0000_0000_0000; 4]
        } else {
            [f.floor(), f.ceil(), f.trunc(), f.round_ties_even()]
                .iter()
                .map(|r| r.to_bits())
                .collect()
        };
        for mode in 0..2 {
            let got: Vec<u64> = call(mode, "f64", &[Val::F64(x)]).iter().map(bits).collect();
            assert_eq!(got, want, "f64 {f:e} ({x:#x}), mode {mode}");
        }
    }

    // pshufb: every index byte class (in range, 16..=127 after the swizzle's saturation,
    // bit 7 set) against a byte-wise reference of `i8x16.swizzle`.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..64 {
        let a = u128::from(next()) | u128::from(next()) << 64;
        let mut m = u128::from(next()) | u128::from(next()) << 64;
        if round % 2 == 0 {
            m &= 0x1f1f_1f1f_1f1f_1f1f_1f1f_1f1f_1f1f_1f1f; // mostly in range
        }
        let (ab, mb) = (a.to_le_bytes(), m.to_le_bytes());
        let want = u128::from_le_bytes(std::array::from_fn(|i| {
            let j = mb[i] as usize;
            if j < 16 { ab[j] } else { 0 }
        }));
        for mode in 0..2 {
            let got = call(mode, "swz", &[Val::V128(a), Val::V128(m)]);
            assert!(
                matches!(got[..], [Val::V128(g)] if g == want),
                "swizzle {a:#x} by {m:#x}, mode {mode}: {got:?}"
            );
        }
    }
}

#[path = "crafted/mod.rs"]
mod crafted;

/// Snapshot of `wasm-samples/fibonacci.wasm` (one function, `fib`, index 0), checked memory.
fn fib_snapshot() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../wasm-samples/fibonacci.wasm"
    );
    let m = bareflow::internals::parse::parse(&std::fs::read(path).unwrap()).unwrap();
    aot::compile(&m, &AotOptions::default()).unwrap().0
}

/// Issue #14 item 4, the Rust loader (`LoadedModule`, std build): every crafted snapshot with
/// a re-sealed checksum is refused at load, before any code could run.
#[test]
fn crafted_snapshots_with_valid_checksum_are_refused() {
    let base = fib_snapshot();
    let load = |b: &[u8]| {
        let mut buf = vec![0u8; 1 << 16];
        LoadedModule::load(b, BufferCodeMemory::new(&mut buf, None)).map(|_| ())
    };
    assert_eq!(load(&base), Ok(()), "the intact snapshot loads");
    let mut accepted = Vec::new();
    for (name, b) in crafted::cases(&base, 0) {
        match load(&b) {
            Ok(()) => accepted.push(name),
            Err(e) => eprintln!("{name}: {e}"),
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}

/// Issue #14 item 4, the no_std loader (`bareflow-load` built without `std`, run as a child
/// process so that a crash is a failed assertion, not a dead test runner): each crafted
/// snapshot exits 1 with one `error:` line (a load error), never runs, never dies of a signal.
#[test]
fn crafted_snapshots_are_refused_by_the_no_std_loader() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.join("loadbin-nostd");
    let out = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "runtime-loader",
            "--bin",
            "bareflow-load",
            "--no-default-features",
            "--features",
            "alloc,unix",
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
    let bin = target.join("debug/bareflow-load");
    let base = fib_snapshot();
    let run = |name: &str, b: &[u8]| {
        let p = tmp.join(format!(
            "crafted-{}.snap",
            name.replace([' ', '[', ']', '>'], "_")
        ));
        std::fs::write(&p, b).unwrap();
        let o = Command::new(&bin)
            .arg(&p)
            .args(["--invoke", "fib", "20"])
            .output()
            .unwrap();
        (o.status, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (st, err) = run("intact", &base);
    assert!(st.success(), "{err}");
    let mut wrong = Vec::new();
    for (name, b) in crafted::cases(&base, 0) {
        let (st, err) = run(name, &b);
        eprintln!("{name}: {st} {}", err.trim());
        // A load error (not the argument check a rewritten type would also trip).
        if st.code() != Some(1) || !err.contains("error:") || err.contains("argument") {
            wrong.push(format!("{name}: {st} {}", err.trim()));
        }
    }
    assert!(wrong.is_empty(), "not refused: {wrong:#?}");
}

/// Inlining (`aot::inline`): a small callee, a trapping callee and a tail-called one are
/// inlined without a profile, a hot recursive function into itself with one; the results and
/// trap codes are those of the code compiled without inlining, and of the interpreter's
/// (`WAT`'s calls, whose small callees are inlined too).
#[test]
fn inlined_code_computes_what_calls_compute() {
    const SMALL: &str = r#"(module
      (memory 1)
      (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
      (func $div (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
      (func $ld (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "sumsq") (param i32 i32) (result i32)
        (i32.add (call $sq (local.get 0)) (call $sq (local.get 1))))
      (func (export "divsq") (param i32 i32) (result i32)
        (call $div (call $sq (local.get 0)) (local.get 1)))
      (func (export "load") (param i32) (result i32) (call $ld (local.get 0)))
      (func (export "tail") (param i32) (result i32) (return_call $sq (local.get 0))))"#;
    let m = bareflow::internals::parse::parse(SMALL.as_bytes()).unwrap();
    let build = |inline| {
        aot::compile(
            &m,
            &AotOptions {
                inline,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let ((with, s_with), (without, s_without)) = (build(true), build(false));
    assert!(s_with.inlined >= 5, "inlined {} call sites", s_with.inlined);
    assert_eq!(s_without.inlined, 0);
    // With interrupt checks the same calls are inlined (a callee's checks do not count
    // toward its size); with fuel none (the fuel counter lives in a register).
    let checked = |bounds| {
        aot::compile(
            &m,
            &AotOptions {
                bounds,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let interrupt = bareflow::internals::clif::Bounds {
        fuel: false,
        interrupt: true,
    };
    let (int_snap, s_int) = checked(interrupt);
    assert_eq!(
        s_int.inlined, s_with.inlined,
        "inlined with interrupt checks"
    );
    let fuel = bareflow::internals::clif::Bounds {
        fuel: true,
        interrupt: true,
    };
    assert_eq!(checked(fuel).1.inlined, 0, "inlined with fuel");
    let cases = vec![
        ("sumsq", vec![3, 4]),
        ("divsq", vec![6, 4]),
        ("divsq", vec![6, 0]),
        ("load", vec![0]),
        ("load", vec![65534]),
        ("tail", vec![12]),
    ];
    let (a, b) = (run_snapshot(&with, &cases), run_snapshot(&without, &cases));
    assert_eq!(a, b);
    assert_eq!(run_snapshot(&int_snap, &cases), a);
    assert_eq!(a[0], Ok(vec![25]));
    assert_eq!(a[1], Ok(vec![9]));
    assert_eq!(a[2], Err(TrapCode::IntegerDivideByZero));
    assert_eq!(a[4], Err(TrapCode::MemoryOutOfBounds));
    assert_eq!(a[5], Ok(vec![144]));
    // The module of the other tests, inlining on (the default): as the interpreter.
    let (_, bytes, _) = snapshot(AotOpt::Speed);
    assert_eq!(run_snapshot(&bytes, &calls()), run_interp(&calls()));
}
