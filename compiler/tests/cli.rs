//! Integration tests of the `bareflow` binary: error reporting (one line, non-zero status,
//! never a panic), `run --invoke`, accumulating profiles, `profile show` and `wast`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bareflow::profile::Profile;

const FIB: &str = r#"
(module
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0
    i32.const 2
    i32.lt_s
    if (result i32)
      local.get 0
    else
      local.get 0
      i32.const 1
      i32.sub
      call $fib
      local.get 0
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end)
  (func $cold (export "cold") (result i32) i32.const 7)
  (func $main (export "main") (param i32) (result i32)
    call $cold
    drop
    local.get 0
    call $fib))
"#;

/// A fresh directory for one test.
fn tmpdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bareflow-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).expect("write test file");
    p
}

fn bareflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(args)
        .output()
        .expect("run bareflow")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run failed with status 1 and exactly one `error:` line on stderr containing every
/// needle, and nothing panicked.
fn assert_one_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(o.status.code(), Some(1), "status; stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one error line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "`{n}` not in: {err}");
    }
}

/// `bareflow run [--invoke NAME] m.wat ARGS...`: `args` may start with `--invoke NAME`,
/// which goes before the module (everything after it belongs to the guest).
fn run_wat(test: &str, wat: &str, args: &[&str]) -> Output {
    let dir = tmpdir(test);
    let f = write(&dir, "m.wat", wat);
    let mut all = vec!["run"];
    let rest = match args {
        ["--invoke", name, rest @ ..] => {
            all.extend(["--invoke", name]);
            rest
        }
        _ => args,
    };
    all.push(f.to_str().expect("utf-8 path"));
    all.extend_from_slice(rest);
    bareflow(&all)
}

#[test]
fn malformed_bytes() {
    let dir = tmpdir("malformed");
    let f = write(&dir, "bad.wasm", b"\0asm\x01\0\0\0\x01\xff\xff\xff");
    let o = bareflow(&["run", f.to_str().unwrap()]);
    assert_one_error(&o, &["bad.wasm"]);
    let garbage = write(&dir, "garbage.wasm", [0xde, 0xad, 0xbe, 0xef, 0, 1, 2]);
    let o = bareflow(&["run", garbage.to_str().unwrap()]);
    assert_one_error(&o, &["garbage.wasm"]);
}

#[test]
fn missing_file() {
    let o = bareflow(&["run", "/nonexistent/x.wasm"]);
    assert_one_error(&o, &["/nonexistent/x.wasm"]);
}

#[test]
fn invalid_module() {
    let o = run_wat(
        "invalid",
        "(module (func (export \"f\") (result i32) i64.const 1))",
        &["--invoke", "f"],
    );
    assert_one_error(&o, &["type mismatch"]);
}

#[test]
fn missing_export() {
    let o = run_wat("missing-export", FIB, &["--invoke", "nope"]);
    assert_one_error(&o, &["no export named `nope`", "fib"]);
}

#[test]
fn wrong_argument_count() {
    let o = run_wat("argc", FIB, &["--invoke", "fib"]);
    assert_one_error(&o, &["`fib`", "1 argument", "got 0"]);
    let o = run_wat("argc2", FIB, &["--invoke", "fib", "1", "2"]);
    assert_one_error(&o, &["`fib`", "got 2"]);
}

#[test]
fn wrong_argument_type() {
    let o = run_wat("argtype", FIB, &["--invoke", "fib", "abc"]);
    assert_one_error(&o, &["argument 1", "abc", "i32"]);
    let o = run_wat("argrange", FIB, &["--invoke", "fib", "4294967296"]);
    assert_one_error(&o, &["argument 1", "out of range"]);
}

#[test]
fn out_of_bounds_load() {
    let o = run_wat(
        "oob",
        r#"(module (memory 1)
             (func $load (export "load") (param i32) (result i32) local.get 0 i32.load))"#,
        &["--invoke", "load", "65535"],
    );
    assert_one_error(&o, &["out of bounds memory access", "load"]);
}

#[test]
fn division_by_zero() {
    let o = run_wat(
        "div0",
        r#"(module (func $div (export "div") (param i32 i32) (result i32)
             local.get 0 local.get 1 i32.div_s))"#,
        &["--invoke", "div", "7", "0"],
    );
    assert_one_error(&o, &["integer divide by zero", "div"]);
}

#[test]
fn infinite_recursion() {
    let o = run_wat(
        "recursion",
        r#"(module (func $down (export "down") (param i32) (result i32)
             local.get 0 i32.const 1 i32.add call $down))"#,
        &["--invoke", "down", "0"],
    );
    assert_one_error(&o, &["call stack exhausted", "down"]);
}

#[test]
fn unreachable() {
    let o = run_wat(
        "unreachable",
        r#"(module (func $boom (export "boom") unreachable))"#,
        &["--invoke", "boom"],
    );
    assert_one_error(&o, &["unreachable", "boom"]);
}

#[test]
fn trap_in_start_function() {
    let o = run_wat(
        "start-trap",
        r#"(module (func $s unreachable) (start $s))"#,
        &[],
    );
    assert_one_error(&o, &["unreachable"]);
}

#[test]
fn usage_errors_exit_2() {
    let o = bareflow(&["run"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = bareflow(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = bareflow(&["run", "--mode", "warp", "x.wasm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown mode"));
    let o = bareflow(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    for sub in ["run", "wast", "profile"] {
        let o = bareflow(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub} --help");
        assert!(stdout(&o).contains("Usage"));
    }
}

#[test]
fn invoke_fib() {
    let o = run_wat("fib", FIB, &["--invoke", "fib", "20"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn results_formatting() {
    let wat = r#"(module
      (func (export "multi") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
        local.get 3 local.get 2 local.get 1 local.get 0))"#;
    let o = run_wat(
        "multi",
        wat,
        &["--invoke", "multi", "-5", "0x10", "0.1", "-inf"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "-inf\n0.1\n16\n-5\n");
}

#[test]
fn profiles_accumulate_and_show_hot_function_first() {
    let dir = tmpdir("profile");
    let m = write(&dir, "fib.wat", FIB);
    let prof = dir.join("fib.profile");
    let (m, prof_s) = (m.to_str().unwrap(), prof.to_str().unwrap());
    let run = || {
        let o = bareflow(&["run", "--invoke", "main", "--profile-out", prof_s, m, "10"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "55\n");
    };
    run();
    let first = Profile::load(&prof).expect("profile after one run");
    assert_eq!(first.runs, 1);
    let fib_calls = |p: &Profile| {
        p.funcs
            .values()
            .find(|f| f.name.as_deref() == Some("fib"))
            .map(|f| f.calls)
            .expect("fib in profile")
    };
    // fib(10) makes 177 calls.
    assert_eq!(fib_calls(&first), 177);
    run();
    let second = Profile::load(&prof).expect("profile after two runs");
    assert_eq!(second.runs, 2);
    assert_eq!(fib_calls(&second), 2 * 177);
    for (idx, f) in &first.funcs {
        assert_eq!(second.funcs[idx].calls, 2 * f.calls, "func {idx}");
    }

    let o = bareflow(&["profile", "show", prof_s]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("function"))
        .skip(1)
        .collect();
    assert!(rows[0].contains("fib"), "hot function first:\n{out}");
    assert!(rows[0].contains("354"), "{out}");

    // A profile of another module is refused, and the file is left alone.
    let other = write(&dir, "other.wat", "(module (func (export \"f\")))");
    let o = bareflow(&[
        "run",
        "--invoke",
        "f",
        "--profile-out",
        prof_s,
        other.to_str().unwrap(),
    ]);
    assert_one_error(&o, &["another module"]);
    assert_eq!(Profile::load(&prof).unwrap(), second);

    // A corrupt profile is a clear error.
    let bad = write(&dir, "bad.profile", "bareflow-profile 1\nmodule nope\n");
    let o = bareflow(&["profile", "show", bad.to_str().unwrap()]);
    assert_one_error(&o, &["corrupt profile", "line 2"]);
}

#[test]
fn wast_timeout_fails_the_script_and_moves_on() {
    let dir = tmpdir("wast-timeout");
    let spin = write(
        &dir,
        "spin.wast",
        r#"(module (func (export "spin") (loop br 0)))
           (assert_return (invoke "spin"))"#,
    );
    let ok = write(
        &dir,
        "ok.wast",
        r#"(module (func (export "one") (result i32) i32.const 1))
           (assert_return (invoke "one") (i32.const 1))"#,
    );
    let start = std::time::Instant::now();
    let o = bareflow(&[
        "wast",
        "--mode",
        "interp",
        "--timeout",
        "1",
        spin.to_str().unwrap(),
        ok.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("spin.wast: 0 passed, 1 failed"), "{out}");
    assert!(lines[1].contains("ok.wast: 1 passed, 0 failed"), "{out}");
    assert_eq!(*lines.last().unwrap(), "1 passed, 1 failed, 0 skipped");
    assert!(
        stderr(&o).contains("spin.wast:0: script: timeout"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wast_counts_and_exit_status() {
    let dir = tmpdir("wast");
    let ok = write(
        &dir,
        "ok.wast",
        r#"(module (func (export "add") (param i32 i32) (result i32)
             local.get 0 local.get 1 i32.add))
           (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
           (assert_trap (module (func $u unreachable) (start $u)) "unreachable")
           (assert_invalid (module (func (result i32) i64.const 0)) "type mismatch")
           (assert_malformed (module quote "(func get_local 0)") "unknown operator")
           (module (func (export "v") (result v128) v128.const i64x2 0 0))
           (assert_return (invoke "v") (v128.const i64x2 0 0))"#,
    );
    let o = bareflow(&["wast", ok.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    // SIMD is in scope in every mode (the interpreter's and the compiled modes').
    assert!(lines[0].contains("5 passed, 0 failed, 0 skipped"), "{out}");
    assert_eq!(*lines.last().unwrap(), "5 passed, 0 failed, 0 skipped");

    // Rejections are judged by category and message; --lenient-messages accepts any.
    let loose = write(
        &dir,
        "loose.wast",
        r#"(assert_malformed (module quote "(func") "unexpected end of input")
           (assert_malformed (module quote "(func (result i32) i64.const 0)") "type mismatch")"#,
    );
    let o = bareflow(&["wast", loose.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).ends_with("0 passed, 2 failed, 0 skipped\n"),
        "{}",
        stdout(&o)
    );
    let o = bareflow(&["wast", "--lenient-messages", loose.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("2 rejection assertions passed only because of --lenient-messages"),
        "{}",
        stdout(&o)
    );

    let bad = write(
        &dir,
        "bad.wast",
        r#"(module (func (export "one") (result i32) i32.const 1))
           (assert_return (invoke "one") (i32.const 2))"#,
    );
    let o = bareflow(&["wast", bad.to_str().unwrap(), ok.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o).lines().last().unwrap(),
        "5 passed, 1 failed, 0 skipped"
    );
    assert!(stderr(&o).contains("bad.wast:2"), "{}", stderr(&o));
}

#[test]
fn tiered_run_logs_tier_ups_and_checks_thresholds() {
    let dir = tmpdir("tierlog");
    let m = write(&dir, "fib.wat", FIB);
    let m = m.to_str().unwrap();
    // `tiered` is the default mode; with thresholds of 1 call, fib reaches the top tier (the
    // policy may skip `none` when the counters are already past the `speed` threshold).
    let o = bareflow(&[
        "run",
        "--tier-log",
        "--tier-up",
        "1,1",
        "--invoke",
        "fib",
        m,
        "20",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6765\n");
    let log = stderr(&o);
    assert!(log.contains("tier-up: instance 0 function 0"), "{log}");
    assert!(log.contains("-> jit-speed"), "{log}");
    // Without --tier-log nothing is printed.
    let o = bareflow(&["run", "--tier-up", "1,1", "--invoke", "fib", m, "20"]);
    assert_eq!(stderr(&o), "");
    // Bad thresholds are a usage error.
    for bad in ["0,5", "5", "x,1"] {
        let o = bareflow(&["run", "--tier-up", bad, "--invoke", "fib", m, "1"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn compile_refuses_to_overwrite_its_input() {
    let dir = tmpdir("compile-overwrite");
    let wat = write(&dir, "fib.wat", FIB);
    let before = std::fs::read(&wat).expect("read input");
    let out = bareflow(&[
        "compile",
        wat.to_str().unwrap(),
        "-o",
        wat.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(
        std::fs::read(&wat).expect("read input"),
        before,
        "input unchanged"
    );
    // An output that is a different file is fine, and --emit-obj onto the input is refused.
    let snap = dir.join("fib.snap");
    let ok = bareflow(&[
        "compile",
        wat.to_str().unwrap(),
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert!(ok.status.success(), "{ok:?}");
    let bad = bareflow(&[
        "compile",
        wat.to_str().unwrap(),
        "-o",
        snap.to_str().unwrap(),
        "--emit-obj",
        wat.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert_eq!(
        std::fs::read(&wat).expect("read input"),
        before,
        "input unchanged"
    );
}

/// `inspect` says the truth about relocations (format v9: none to apply, in every
/// snapshot) and names the helpers compiled into baseline code: `floorf` for `f32.floor`
/// without SSE4.1, none with `--xip` (SSE4.1: `roundss`).
#[test]
fn inspect_shows_no_relocations_and_the_helpers() {
    let dir = tmpdir("inspect-relocs");
    let wat = write(
        &dir,
        "floor.wat",
        "(module (func (export \"f\") (param f32) (result f32) (f32.floor (local.get 0))))",
    );
    for (name, xip) in [("r.snap", false), ("x.snap", true)] {
        let snap = dir.join(name);
        let mut args = vec![
            "compile",
            wat.to_str().unwrap(),
            "-o",
            snap.to_str().unwrap(),
        ];
        if xip {
            args.push("--xip");
        }
        let o = bareflow(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = bareflow(&["inspect", snap.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let line = out
            .lines()
            .find(|l| l.contains("relocations:"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            line.contains("relocations: 0 in the object, none to apply"),
            "{line}"
        );
        let helpers = out.lines().find(|l| l.contains("helpers compiled in"));
        if xip {
            assert!(helpers.is_none(), "{out}");
        } else {
            assert!(helpers.is_some_and(|l| l.contains("floorf")), "{out}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Issue #14 items 5 and 6: output files and unbounded inputs
// ---------------------------------------------------------------------------------------

/// Runs `bareflow args` but kills it after `secs` seconds, so a regression that reads
/// forever fails the test instead of hanging it.
fn bareflow_timeout(args: &[&str], secs: u64) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bareflow");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bareflow {args:?} still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Names in `dir` that look like leftover temporary files.
fn temp_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.contains(".tmp"))
        .collect()
}

fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

/// `-o` and `--emit-obj` onto a character device write through it and never replace the
/// node with a regular file (which root could do). Tested on a private `mknod` copy of
/// `/dev/null` when we may create one (root), and on `/dev/null` itself.
#[test]
fn compile_onto_a_device_writes_through_it() {
    let dir = tmpdir("compile-device");
    let wat = write(&dir, "fib.wat", FIB);
    let w = wat.to_str().unwrap();
    let private = dir.join("null");
    let made = Command::new("mknod")
        .arg(&private)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    let mut targets = vec![Path::new("/dev/null").to_path_buf()];
    if made {
        targets.insert(0, private);
    }
    for t in &targets {
        assert!(
            is_char_device(t),
            "{} not a char device before",
            t.display()
        );
        let ts = t.to_str().unwrap();
        let o = bareflow(&["compile", w, "-o", ts, "--emit-obj", ts]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            is_char_device(t),
            "{} replaced by a regular file",
            t.display()
        );
    }
    assert!(
        temp_leftovers(&dir).is_empty(),
        "{:?}",
        temp_leftovers(&dir)
    );
}

/// A FIFO target is written through (a reader gets the snapshot), not renamed over.
#[test]
fn compile_onto_a_fifo_writes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tmpdir("compile-fifo");
    let wat = write(&dir, "fib.wat", FIB);
    let fifo = dir.join("out.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let f2 = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(&f2).unwrap());
    let o = bareflow_timeout(
        &[
            "compile",
            wat.to_str().unwrap(),
            "-o",
            fifo.to_str().unwrap(),
        ],
        60,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Checked before joining: a replaced FIFO would leave the reader blocked forever.
    let md = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(md.file_type().is_fifo(), "FIFO replaced");
    let got = reader.join().unwrap();
    assert!(
        got.len() > 64,
        "the reader got the snapshot ({} bytes)",
        got.len()
    );
}

/// Symlinks planted at every predictable temporary name (`.NAME.tmp<pid>` for the next
/// thousands of pids) are never followed: their target stays unchanged, they stay links.
#[test]
fn compile_never_follows_a_planted_symlink() {
    let dir = tmpdir("compile-symlink");
    let wat = write(&dir, "fib.wat", FIB);
    let victim = write(&dir, "victim", "precious");
    let out = dir.join("fib.snap");
    let me = std::process::id();
    let mut links = Vec::new();
    for pid in me.saturating_sub(50)..me + 3000 {
        let l = dir.join(format!(".fib.snap.tmp{pid}"));
        std::os::unix::fs::symlink(&victim, &l).unwrap();
        links.push(l);
    }
    let o = bareflow(&[
        "compile",
        wat.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for l in &links {
        let md = std::fs::symlink_metadata(l).unwrap();
        assert!(md.file_type().is_symlink(), "{} replaced", l.display());
    }
    assert!(std::fs::metadata(&out).unwrap().len() > 64);
}

/// A read-only (0444) target is refused with a clear error and left unchanged, whoever
/// runs the test (root ignores permission bits, so the mode is checked explicitly); no
/// temporary file is left behind by any failure.
#[test]
fn compile_refuses_a_read_only_target_and_leaves_no_temp_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmpdir("compile-readonly");
    let wat = write(&dir, "fib.wat", FIB);
    let w = wat.to_str().unwrap();
    let ro = write(&dir, "ro.snap", "old contents");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let ok = dir.join("ok.snap");
    for args in [
        vec!["compile", w, "-o", ro.to_str().unwrap()],
        vec![
            "compile",
            w,
            "-o",
            ok.to_str().unwrap(),
            "--emit-obj",
            ro.to_str().unwrap(),
        ],
    ] {
        let o = bareflow(&args);
        assert_one_error(&o, &["read-only"]);
        assert_eq!(std::fs::read_to_string(&ro).unwrap(), "old contents");
        let mode = std::fs::metadata(&ro).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444);
    }
    // `run --profile-out` onto a read-only profile is refused the same way.
    let o = bareflow(&[
        "run",
        "--invoke",
        "fib",
        "--profile-out",
        ro.to_str().unwrap(),
        w,
        "5",
    ]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), "old contents");
    // Failures after a write started (output into a directory, a missing directory).
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let missing = dir.join("missing/x.snap");
    for out in [sub.to_str().unwrap(), missing.to_str().unwrap()] {
        let o = bareflow(&["compile", w, "-o", out]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
    assert!(
        temp_leftovers(&dir).is_empty(),
        "{:?}",
        temp_leftovers(&dir)
    );
    assert!(
        temp_leftovers(&sub).is_empty(),
        "{:?}",
        temp_leftovers(&sub)
    );
    // A writable existing target is replaced and keeps its mode.
    let rw = write(&dir, "rw.snap", "old");
    std::fs::set_permissions(&rw, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = bareflow(&["compile", w, "-o", rw.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::metadata(&rw).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o640);
    assert!(md.len() > 64);
    assert!(
        temp_leftovers(&dir).is_empty(),
        "{:?}",
        temp_leftovers(&dir)
    );
}

/// `/dev/zero` (endless) and a FIFO fed forever as inputs end with a clear error, not an
/// endless read; the timeout turns a regression into a failure instead of a hang.
#[test]
fn endless_inputs_are_refused() {
    for args in [
        vec!["run", "/dev/zero"],
        vec!["compile", "/dev/zero", "-o", "/dev/null"],
        vec!["inspect", "/dev/zero"],
        vec!["wast", "/dev/zero"],
    ] {
        let o = bareflow_timeout(&args, 30);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    // An endless FIFO: read up to the documented limit, then a clear error.
    let dir = tmpdir("endless-fifo");
    let fifo = dir.join("in.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let f2 = fifo.clone();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(&f2).unwrap();
        let buf = vec![0u8; 1 << 16];
        while f.write_all(&buf).is_ok() {}
    });
    let o = bareflow_timeout(&["inspect", fifo.to_str().unwrap()], 60);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("input limit"), "{}", stderr(&o));
}
