//! Signed snapshots end to end: `bareflow keygen`, `bareflow compile --sign`, `bareflow
//! inspect`, `bareflow-load --pubkey` (built with the loader's `sign` feature), and the Rust
//! API `LoadedModule::load_signed`. A tampered signed snapshot, an unsigned one and one signed
//! with another key are each refused with a clear message before any code memory is asked
//! for; the correctly signed one loads and runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use bareflow::internals::aot::{self, AotOpt, AotOptions};
use bareflow::internals::signing::SigningKey;
use runtime_loader::LoadError;
use runtime_loader::code::{CodeMemory, MmapCodeMemory};
use runtime_loader::instance::Imports;
use runtime_loader::loader::{LoadedModule, call};
use runtime_loader::trap::TrapContext;

mod common;
use common::{c_compiler, in_ci};

const WAT: &str = r#"
(module
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2))))))))
"#;

fn unsigned_snapshot(xip: bool) -> Vec<u8> {
    let m = bareflow::internals::parse::parse(WAT.as_bytes()).unwrap();
    aot::compile(
        &m,
        &AotOptions {
            opt: AotOpt::Speed,
            xip,
            ..Default::default()
        },
    )
    .unwrap()
    .0
}

/// A code memory that records whether the loader asked it for anything.
struct Watched {
    inner: MmapCodeMemory,
    asked: std::rc::Rc<std::cell::Cell<bool>>,
}

impl CodeMemory for Watched {
    fn allocate(&mut self, size: usize, align: usize) -> Result<&mut [u8], LoadError> {
        self.asked.set(true);
        self.inner.allocate(size, align)
    }
    fn publish(&mut self) -> Result<*const u8, LoadError> {
        self.asked.set(true);
        self.inner.publish()
    }
}

/// `load_signed` of `bytes` under `key`: `Ok(fib(20))` or the error, and whether code memory
/// was asked for.
fn load_and_run(bytes: &[u8], key: &[u8; 32]) -> (Result<u64, LoadError>, bool) {
    let asked = std::rc::Rc::new(std::cell::Cell::new(false));
    let mem = Watched {
        inner: MmapCodeMemory::new(),
        asked: asked.clone(),
    };
    let module = match LoadedModule::load_signed(bytes, mem, key) {
        Ok(m) => m,
        Err(e) => return (Err(e), asked.get()),
    };
    let meta = module.meta();
    let fib = meta.export_named(b"fib").unwrap().index;
    let mut trap_ctx = Box::new(TrapContext::default());
    // SAFETY: no imports; `trap_ctx` and `module` outlive `inst`.
    let inst = unsafe {
        module
            .instantiate(
                vec![0; meta.num_types() as usize],
                Imports::default(),
                std::ptr::null_mut(),
                &mut *trap_ctx,
            )
            .unwrap()
    };
    inst.initialize(&meta).unwrap();
    let mut v = [20u64];
    // SAFETY: fib takes one i64 and returns one.
    unsafe { call(&inst, fib, &mut v) }.unwrap();
    (Ok(v[0]), asked.get())
}

#[test]
fn load_signed_api_refuses_before_mapping() {
    let key = SigningKey::from_seed([0x42; 32]).unwrap();
    let other = SigningKey::from_seed([0x43; 32]).unwrap();
    for xip in [false, true] {
        let unsigned = unsigned_snapshot(xip);
        let signed = key.sign_snapshot(&unsigned).unwrap();
        assert_eq!(
            signed.len(),
            unsigned.len() + runtime_loader::sign::TRAILER_SIZE
        );
        let pk = key.public_key();
        assert_eq!(load_and_run(&signed, &pk), (Ok(6765), true));
        // Unsigned, wrong key, tampered code byte (checksum re-sealed, so only the signature
        // can tell), tampered signature: refused without touching code memory.
        assert_eq!(
            load_and_run(&unsigned, &pk),
            (Err(LoadError::Unsigned), false)
        );
        assert_eq!(
            load_and_run(&signed, &other.public_key()),
            (Err(LoadError::BadSignature), false)
        );
        let snap = runtime_loader::format::Snapshot::parse(&signed).unwrap();
        let obj_at = snap.object_bytes().as_ptr() as usize - signed.as_ptr() as usize;
        let mut tampered = signed.clone();
        let n = tampered.len() - runtime_loader::sign::TRAILER_SIZE;
        tampered[obj_at + snap.object_bytes().len() / 2] ^= 0x01;
        let sum = runtime_loader::format::file_checksum(&tampered[..n]).unwrap();
        tampered[24..32].copy_from_slice(&sum.to_le_bytes());
        assert!(runtime_loader::format::Snapshot::parse(&tampered).is_ok());
        assert_eq!(
            load_and_run(&tampered, &pk),
            (Err(LoadError::BadSignature), false)
        );
        let mut bad_sig = signed.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 0x20;
        assert_eq!(
            load_and_run(&bad_sig, &pk),
            (Err(LoadError::BadSignature), false)
        );
        // A loader without a key still loads a signed snapshot.
        assert!(LoadedModule::load(&signed, MmapCodeMemory::new()).is_ok());
        // Signing an already signed snapshot is refused.
        assert!(key.sign_snapshot(&signed).is_err());
    }
}

fn bareflow(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Builds `bareflow-load` with the `sign` feature (own target dir).
fn signing_loader(tmp: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = tmp.join("loadbin-sign");
    let out = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "runtime-loader",
            "--bin",
            "bareflow-load",
            "--features",
            "sign",
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
    target.join("debug/bareflow-load")
}

#[test]
fn keygen_compile_sign_and_load_cli() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sign-cli");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let p = |name: &str| tmp.join(name).to_str().unwrap().to_owned();
    let load = signing_loader(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let run = |args: &[&str]| {
        let o = Command::new(&load).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };

    // keygen: two files, the public key on stdout, the secret file private, no overwrite.
    let (code, out, err) = bareflow(&["keygen", "--out", &p("k")]);
    assert_eq!(code, Some(0), "{err}");
    let pubhex = std::fs::read_to_string(p("k.pub")).unwrap();
    assert_eq!(out, pubhex);
    assert_eq!(pubhex.trim().len(), 64);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p("k.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "secret key readable by others: {mode:o}");
    let before = std::fs::read(p("k.key")).unwrap();
    let (code, _, err) = bareflow(&["keygen", "--out", &p("k")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(p("k.key")).unwrap(), before);
    assert_eq!(bareflow(&["keygen", "--out", &p("other")]).0, Some(0));

    // compile --sign; inspect shows the signature.
    let wat = p("fib.wat");
    std::fs::write(&wat, WAT).unwrap();
    let (code, _, err) = bareflow(&["compile", &wat, "-o", &p("s.snap"), "--sign", &p("k.key")]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("signed (ed25519)"), "{err}");
    let (code, out, _) = bareflow(&["inspect", &p("s.snap")]);
    assert_eq!(code, Some(0));
    assert!(out.contains("signed: ed25519, signature "), "{out}");
    assert_eq!(bareflow(&["compile", &wat, "-o", &p("u.snap")]).0, Some(0));
    let (code, _, err) = bareflow(&["compile", &wat, "-o", &p("x.snap"), "--sign", &p("k.pub")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("public key"), "{err}");
    assert!(!tmp.join("x.snap").exists());

    // The right key: loads and runs.
    let invoke = |key: &str, snap: &str| run(&["--pubkey", key, snap, "--invoke", "fib", "20"]);
    assert_eq!(
        invoke(&p("k.pub"), &p("s.snap")),
        (Some(0), "6765\n".into(), String::new())
    );
    // Unsigned under a key; another key; a tampered byte: refused, nothing printed on stdout.
    let (code, out, err) = invoke(&p("k.pub"), &p("u.snap"));
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("snapshot is not signed"), "{err}");
    let (code, out, err) = invoke(&p("other.pub"), &p("s.snap"));
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("signature does not verify"), "{err}");
    let mut bytes = std::fs::read(p("s.snap")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x04;
    std::fs::write(p("t.snap"), &bytes).unwrap();
    let (code, out, err) = invoke(&p("k.pub"), &p("t.snap"));
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("signature does not verify"), "{err}");
    // Bad key files.
    let (code, _, err) = invoke(&p("k.key"), &p("s.snap"));
    assert_eq!(code, Some(1));
    assert!(err.contains("64 hex digits"), "{err}");
    std::fs::write(p("weak.pub"), format!("01{}\n", "00".repeat(31))).unwrap();
    let (code, _, err) = invoke(&p("weak.pub"), &p("s.snap"));
    assert_eq!(code, Some(1));
    assert!(err.contains("invalid ed25519 public key"), "{err}");
    // Without --pubkey a signed snapshot runs as any other.
    assert_eq!(run(&[&p("s.snap"), "--invoke", "fib", "10"]).1, "55\n");
    // --require-signed: only with a key (either order); then unsigned snapshots are refused.
    let (code, out, err) = run(&["--require-signed", &p("s.snap"), "--invoke", "fib", "10"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(
        err.contains("--require-signed needs --pubkey FILE"),
        "{err}"
    );
    let (code, out, err) = run(&["--require-signed", &p("u.snap"), "--invoke", "fib", "10"]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
    for args in [
        ["--require-signed", "--pubkey", &p("k.pub")],
        ["--pubkey", &p("k.pub"), "--require-signed"],
    ] {
        let with = |snap: &str| {
            let mut a = args.to_vec();
            a.extend([snap, "--invoke", "fib", "10"]);
            run(&a)
        };
        assert_eq!(with(&p("s.snap")), (Some(0), "55\n".into(), String::new()));
        let (code, out, err) = with(&p("u.snap"));
        assert_eq!((code, out.as_str()), (Some(1), ""));
        assert!(err.contains("snapshot is not signed"), "{err}");
    }
    // --xip and --sign together.
    assert_eq!(
        bareflow(&[
            "compile",
            &wat,
            "-o",
            &p("xs.snap"),
            "--xip",
            "--sign",
            &p("k.key")
        ])
        .0,
        Some(0)
    );
    assert_eq!(invoke(&p("k.pub"), &p("xs.snap")).1, "6765\n");
}

/// The C API: `libbareflow.a` built with `--features sign` (min-size, no_std), driven by
/// `runtime-loader/examples/signed/check_signed.c`: `bf_set_public_key` + `bf_load` return
/// `BF_ERR_SIGNATURE` with a clear message for another key, a tampered byte, an unsigned
/// snapshot and an invalid key; the right key loads and runs. Skipped only when no C compiler
/// is found and `CI` is unset.
#[test]
fn c_api_signature_statuses() {
    let Some(cc) = c_compiler() else {
        assert!(!in_ci(), "no C compiler found (CI is set)");
        eprintln!("skipping: no C compiler found");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = root.join("target").join("firmware-sign");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "-q",
            "-p",
            "bareflow-capi",
            "--profile",
            "min-size",
        ])
        .args(["--features", "sign", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(st.success(), "building libbareflow.a with sign failed");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sign-capi");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let p = |name: &str| tmp.join(name).to_str().unwrap().to_owned();
    let prog = p("check_signed");
    let o = Command::new(&cc)
        .args(["-O2", "-Wall", "-I"])
        .arg(root.join("runtime-loader/include"))
        .arg(root.join("runtime-loader/examples/signed/check_signed.c"))
        .arg(target.join("min-size/libbareflow.a"))
        .args(["-o", &prog])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = SigningKey::from_seed([0x51; 32]).unwrap();
    let other = SigningKey::from_seed([0x52; 32]).unwrap();
    let unsigned = unsigned_snapshot(false);
    std::fs::write(p("s.snap"), key.sign_snapshot(&unsigned).unwrap()).unwrap();
    std::fs::write(p("u.snap"), &unsigned).unwrap();
    std::fs::write(p("k.pub"), key.public_file_text()).unwrap();
    std::fs::write(p("o.pub"), other.public_file_text()).unwrap();
    let o = Command::new(&prog)
        .args([p("s.snap"), p("u.snap"), p("k.pub"), p("o.pub")])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let expected = "\
right-key 0 ok
fib(20) = 6765
other-key 10 snapshot rejected: snapshot signature does not verify
tampered 10 snapshot rejected: snapshot signature does not verify
unsigned 10 snapshot rejected: snapshot is not signed (a public key is configured)
weak-key 10 invalid ed25519 public key
no-key 0 ok
late-key 2
required-nokey-signed 10 snapshot rejected: signatures required, no public key set
required-nokey-unsigned 10 snapshot rejected: signatures required, no public key set
required-key-signed 0 ok
required-key-unsigned 10 snapshot rejected: snapshot is not signed (a public key is configured)
status-message signature check failed
";
    assert_eq!(out, expected);
}

/// The verifier is no_std: runtime-loader builds with `sign` and without `std` (as the
/// shipped `bareflow-load` and the C library use it).
#[test]
fn verifier_builds_without_std() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nostd-sign");
    let out = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "runtime-loader",
            "--lib",
            "--no-default-features",
        ])
        .args(["--features", "sign", "--offline", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
