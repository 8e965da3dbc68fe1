//! Issue #20, CLI items 6, 9 and 10, through the real `bareflow` binary: Wasmtime's
//! `run [OPTIONS] FILE [ARGS...]` grammar (everything after FILE belongs to the guest),
//! `--env KEY` inheriting, `--invoke` of a WASI module, `bareflow FILE`; `inspect` in words
//! with import/export types; `compile` without `-o`, `wast DIR` recursion, the guard/interp
//! warning, error messages printed once, the profile-mismatch message, float arguments and
//! results, and a module with nothing to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
  (func $helper (export "helper") (param i32) (result i32)
    local.get 0
    call $fib))
"#;

/// A WASI module whose export `hello` writes "hi\n" through `fd_write` and returns 42, and
/// whose export `quit` calls `proc_exit(7)`.
const WASI_EXPORTS: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "hello") (param $x i32) (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.add (local.get $x) (i32.const 40)))
  (func (export "quit") (call $exit (i32.const 7))))
"#;

/// A fresh directory for one test.
fn tmpdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bareflow-cli20-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(&p, contents).expect("write test file");
    p.to_str().expect("utf-8 temp path").to_string()
}

fn bareflow_env(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bareflow"));
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    for k in remove {
        c.env_remove(k);
    }
    c.output().expect("run bareflow")
}

fn bareflow(args: &[&str]) -> Output {
    bareflow_env(args, &[], &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn echo_wasm() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wasm-samples/wasi/echo.wasm")
        .to_str()
        .unwrap()
        .to_string()
}

/// The `arg N: [..]` lines the `echo` sample prints for its `argv[1..]`.
fn echoed_args(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter_map(|l| l.strip_prefix("arg ").and_then(|r| r.split_once(": ")))
        .map(|(_, v)| v.trim_start_matches('[').trim_end_matches(']').to_string())
        .collect()
}

// ---- item 6: `run [OPTIONS] FILE [ARGS...]` ----

/// Before: `--help` after FILE printed bareflow's help and `--mode` after FILE was taken as
/// bareflow's option.
#[test]
fn item6_everything_after_the_module_goes_to_the_guest() {
    let echo = echo_wasm();
    let o = bareflow(&[
        "run",
        "--mode",
        "interp",
        &echo,
        "--help",
        "--mode",
        "jit-speed",
        "--",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        echoed_args(&o),
        ["--help", "--mode", "jit-speed", "--", "x"],
        "{}",
        stdout(&o)
    );
    // `--` before the module ends bareflow's options, as usual.
    let o = bareflow(&["run", "--", &echo, "a"]);
    assert_eq!(echoed_args(&o), ["a"], "{}", stderr(&o));
    // Function arguments after the module, options before it.
    let dir = tmpdir("grammar");
    let fib = write(&dir, "fib.wat", FIB);
    let o = bareflow(&["run", "--mode", "interp", "--invoke", "fib", &fib, "-1"]);
    assert_eq!(stdout(&o), "-1\n", "{}", stderr(&o));
    // An option after the module is an argument: here one too many for `fib`.
    let o = bareflow(&["run", "--invoke", "fib", &fib, "10", "--mode", "interp"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("got 3"), "{}", stderr(&o));
}

/// Before: `--env KEY` without `=` was refused.
#[test]
fn item6_env_key_inherits_the_hosts_value() {
    let echo = echo_wasm();
    let o = bareflow_env(
        &["run", "--env", "BF_CLI20_VAR", "--env", "B=2", &echo],
        &[("BF_CLI20_VAR", "from host"), ("BF_CLI20_OTHER", "leak?")],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("env: BF_CLI20_VAR=from host"), "{out}");
    assert!(out.contains("env: B=2"), "{out}");
    assert!(
        !out.contains("BF_CLI20_OTHER"),
        "only named variables pass: {out}"
    );
    // A variable the host does not have is an error, not an empty value.
    let o = bareflow_env(
        &["run", "--env", "BF_CLI20_UNSET", &echo],
        &[],
        &["BF_CLI20_UNSET"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("BF_CLI20_UNSET"), "{}", stderr(&o));
}

/// Before: `--invoke` of a WASI module instantiated it without WASI (unknown import).
#[test]
fn item6_invoke_of_a_wasi_module_links_wasi() {
    let dir = tmpdir("wasi-invoke");
    let m = write(&dir, "w.wat", WASI_EXPORTS);
    for mode in ["interp", "jit-speed", "snapshot"] {
        let o = bareflow(&["run", "--mode", mode, "--invoke", "hello", &m, "2"]);
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", stderr(&o));
        assert_eq!(stdout(&o), "hi\n42\n", "{mode}");
        // proc_exit inside an invoked function is the process's exit status.
        let o = bareflow(&["run", "--mode", mode, "--invoke", "quit", &m]);
        assert_eq!(o.status.code(), Some(7), "{mode}: {}", stderr(&o));
    }
}

/// Before: `bareflow FILE` was a usage error (exit 2).
#[test]
fn item6_bareflow_file_is_bareflow_run_file() {
    let dir = tmpdir("shorthand");
    let fib = write(&dir, "fib.wat", FIB);
    let o = bareflow(&["--mode", "interp", "--invoke", "fib", &fib, "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "55\n");
    let o = bareflow(&[&echo_wasm(), "--version"]);
    assert_eq!(echoed_args(&o), ["--version"], "{}", stderr(&o));
    // Subcommands still win, and a mistyped one is still a usage error.
    assert_eq!(
        bareflow(&["run", "--invoke", "fib", &fib, "7"]).stdout,
        b"13\n"
    );
    assert_eq!(bareflow(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(bareflow(&["--version"]).status.code(), Some(0));
}

// ---- item 9: `inspect` ----

/// A module with a host import, a memory, a table and a global among its exports.
const TYPED: &str = r#"
(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "limit" (global $limit i32))
  (memory (export "mem") 1 4)
  (table (export "tab") 2 funcref)
  (global (export "count") (mut i64) (i64.const 0))
  (func (export "go") (param i32) (result i32)
    (call $log (local.get 0) (global.get $limit))
    local.get 0))
"#;

/// Before: Rust Debug (`isa X86_64, memory Checked`, `Func(1)`), no import signatures and
/// the full table always.
#[test]
fn item9_inspect_speaks_in_words_with_types() {
    let dir = tmpdir("inspect");
    let m = write(&dir, "typed.wat", TYPED);
    let snap = dir.join("typed.snap");
    let snap = snap.to_str().unwrap();
    let o = bareflow(&["compile", &m, "-o", snap]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = bareflow(&["inspect", snap]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("isa x86-64, memory checked"), "{out}");
    assert!(
        out.contains(r#"import "env" "log": func (i32 i32) -> ()"#),
        "{out}"
    );
    assert!(out.contains(r#"import "env" "limit": global i32"#), "{out}");
    assert!(
        out.contains(r#"export "go": func 1 (i32) -> (i32)"#),
        "{out}"
    );
    assert!(
        out.contains(r#"export "mem": memory 0 1..4 pages"#),
        "{out}"
    );
    assert!(
        out.contains(r#"export "tab": table 0 funcref 2.. elements"#),
        "{out}"
    );
    assert!(out.contains(r#"export "count": global 1 mut i64"#), "{out}");
    for debug in ["X86_64", "Checked", "Func(", "Memory(", "Global("] {
        assert!(!out.contains(debug), "`{debug}` (Rust Debug) in:\n{out}");
    }
    // Summary by default, the table of records with --functions.
    assert!(!out.contains("avg ns"), "{out}");
    assert!(out.contains("total: 1 functions"), "{out}");
    let o = bareflow(&["inspect", "--functions", snap]);
    let full = stdout(&o);
    assert!(full.contains("avg ns"), "{full}");
    assert!(
        full.lines().any(|l| l.trim_end().ends_with(" go")),
        "{full}"
    );
}

/// The calls `inspect` totals are the profile's: the sum of `profile show`'s calls column.
#[test]
fn item9_inspect_totals_agree_with_profile_show() {
    let dir = tmpdir("totals");
    let m = write(&dir, "fib.wat", FIB);
    let prof = dir.join("fib.prof");
    let prof = prof.to_str().unwrap();
    for n in ["12", "9"] {
        let o = bareflow(&[
            "run",
            "--mode",
            "interp",
            "--profile-out",
            prof,
            "--invoke",
            "helper",
            &m,
            n,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let show = stdout(&bareflow(&["profile", "show", prof]));
    let profiled: u64 = show
        .lines()
        .skip(3)
        // The function rows (they start with the index); the loop table follows them.
        .take_while(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.parse::<u64>().is_ok())
        })
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    // fib(12) + fib(9) make 465 + 109 calls of fib, plus one call of helper per run.
    assert_eq!(profiled, 465 + 109 + 2, "{show}");
    let snap = dir.join("fib.snap");
    let snap = snap.to_str().unwrap();
    let o = bareflow(&["compile", "--profile", prof, &m, "-o", snap]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&bareflow(&["inspect", snap]));
    assert!(
        out.contains(&format!("total: 2 functions, {profiled} calls")),
        "{out}\n{show}"
    );
}

/// Before: the parser's excerpt was joined into one line and named `<anon>`.
#[test]
fn item9_wat_errors_keep_their_lines_and_name_the_file() {
    let dir = tmpdir("watfile");
    let m = write(
        &dir,
        "broken.wat",
        "(module\n  (func (export \"f\")\n    i32.bogus))\n",
    );
    for sub in ["run", "compile"] {
        let o = bareflow(&[sub, &m]);
        assert_eq!(o.status.code(), Some(1), "{sub}");
        let err = stderr(&o);
        assert!(err.starts_with("error: loading "), "{err}");
        assert!(err.contains(&format!("--> {m}:3:5")), "{sub}: {err}");
        assert!(err.lines().count() >= 4, "multi-line excerpt: {err}");
        assert!(
            err.lines().any(|l| l.trim_end().ends_with("i32.bogus))")),
            "{err}"
        );
        assert!(!err.contains("<anon>"), "{err}");
    }
}

// ---- item 10: small things ----

/// Before: `-o` was required (exit 2).
#[test]
fn item10_compile_without_o_writes_file_snap_beside_the_input() {
    let dir = tmpdir("default-out");
    let m = write(&dir, "fib.wat", FIB);
    let o = bareflow(&["compile", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let snap = dir.join("fib.snap");
    let bytes = std::fs::read(&snap).expect("fib.snap beside fib.wat");
    runtime_loader::format::Snapshot::parse(&bytes).expect("a valid snapshot");
    assert!(
        stderr(&o).contains(&format!("wrote {}", snap.display())),
        "{}",
        stderr(&o)
    );
    // An existing regular FILE.snap is replaced; the input never is.
    std::fs::write(&snap, "old").unwrap();
    assert_eq!(bareflow(&["compile", &m]).status.code(), Some(0));
    assert_ne!(std::fs::read(&snap).unwrap(), b"old");
    let o = bareflow(&["compile", snap.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a .snap input would be its own output"
    );
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
}

/// Before: a directory was searched one level deep (a tree of scripts: `0 passed`, exit 0).
#[test]
fn item10_wast_dir_recurses() {
    let dir = tmpdir("wast-tree");
    let script = "(module (func (export \"one\") (result i32) i32.const 1))\n\
                  (assert_return (invoke \"one\") (i32.const 1))\n";
    write(&dir, "suite/a/one.wast", script);
    write(&dir, "suite/b/c/two.wast", script);
    write(&dir, "suite/notes.txt", "not a script");
    let suite = dir.join("suite");
    let o = bareflow(&["wast", suite.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("2 passed, 0 failed"),
        "{out}"
    );
    let a = out.find("one.wast").unwrap();
    let b = out.find("two.wast").unwrap();
    assert!(a < b, "sorted: {out}");
    // A directory without any script is an error, not an empty success.
    std::fs::create_dir_all(dir.join("empty/sub")).unwrap();
    let o = bareflow(&["wast", dir.join("empty").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no .wast files"), "{}", stderr(&o));
}

/// Before: `--memory guard` was silently meaningless with `--mode interp`.
#[test]
fn item10_guard_memory_with_interp_warns() {
    let dir = tmpdir("guard-warn");
    let m = write(&dir, "fib.wat", FIB);
    let o = bareflow(&[
        "run", "--mode", "interp", "--memory", "guard", "--invoke", "fib", &m, "5",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "5\n");
    assert!(stderr(&o).starts_with("warning: --memory guard has no effect with --mode interp"));
    let o = bareflow(&[
        "run",
        "--mode",
        "jit-speed",
        "--memory",
        "guard",
        "--invoke",
        "fib",
        &m,
        "5",
    ]);
    assert_eq!(stderr(&o), "", "no warning where guard pages apply");
    let w = write(
        &dir,
        "t.wast",
        "(assert_return (invoke \"x\") (i32.const 1))",
    );
    let o = bareflow(&["wast", "--memory", "guard", &w]);
    assert!(
        stderr(&o).contains("warning: --memory guard"),
        "{}",
        stderr(&o)
    );
}

/// Before: "No such file or directory (os error 2): No such file or directory (os error 2)".
#[test]
fn item10_an_io_error_is_printed_once() {
    let dir = tmpdir("once");
    let m = write(&dir, "fib.wat", FIB);
    let missing_key = dir.join("nope.key");
    let cases: Vec<Vec<String>> = vec![
        vec![
            "compile".into(),
            m.clone(),
            "--sign".into(),
            missing_key.display().to_string(),
        ],
        vec![
            "compile".into(),
            m.clone(),
            "-o".into(),
            "/nonexistent-dir/x.snap".into(),
        ],
        vec!["keygen".into(), "--out".into(), "/nonexistent-dir/k".into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = bareflow(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(err.matches("(os error 2)").count(), 1, "{args:?}: {err}");
    }
}

/// Before: "the profile was recorded for another module" without saying which.
#[test]
fn item10_profile_mismatch_names_the_profiled_module() {
    let dir = tmpdir("mismatch");
    let fib = write(&dir, "fib.wat", FIB);
    let other = write(&dir, "other.wat", "(module (func (export \"f\")))");
    let prof = dir.join("fib.prof");
    let prof = prof.to_str().unwrap();
    let o = bareflow(&["run", "--profile-out", prof, "--invoke", "fib", &fib, "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = std::fs::read(prof).unwrap();
    let o = bareflow(&["compile", "--profile", prof, &other, "-o", "/dev/null"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains(&format!("recorded for {fib}")), "{err}");
    assert!(err.contains(&format!("not for {other}")), "{err}");
    let o = bareflow(&["run", "--profile-out", prof, "--invoke", "f", &other]);
    assert!(
        stderr(&o).contains(&format!("recorded for {fib}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(prof).unwrap(),
        before,
        "the profile is left alone"
    );
}

/// Before: `1e40` as f32 became `inf`, hex floats were refused, `1e300` printed as 301
/// digits and a negative NaN printed as `NaN`.
#[test]
fn item10_float_arguments_and_results() {
    let dir = tmpdir("floats");
    let m = write(
        &dir,
        "id.wat",
        r#"(module
          (func (export "f32") (param f32) (result f32) local.get 0)
          (func (export "f64") (param f64) (result f64) local.get 0))"#,
    );
    let cases = [
        ("f32", "0x1.8p1", "3"),
        ("f64", "-0x1p-2", "-0.25"),
        ("f32", "3.4028235e38", "3.4028235e38"),
        ("f64", "1e300", "1e300"),
        ("f64", "1.5e-7", "1.5e-7"),
        ("f64", "123.25", "123.25"),
        ("f32", "inf", "inf"),
        ("f64", "-infinity", "-inf"),
        ("f32", "nan", "NaN"),
        ("f64", "-nan", "-NaN"),
        ("f32", "nan:0x200000", "NaN:0x200000"),
        ("f64", "NaN", "NaN"),
        ("f32", "-0", "-0"),
    ];
    for mode in ["interp", "jit-speed", "snapshot"] {
        for (f, arg, want) in cases {
            let o = bareflow(&["run", "--mode", mode, "--invoke", f, &m, arg]);
            assert_eq!(o.status.code(), Some(0), "{mode} {f} {arg}: {}", stderr(&o));
            assert_eq!(stdout(&o), format!("{want}\n"), "{mode} {f}({arg})");
            // What is printed reads back as the same value.
            let o = bareflow(&["run", "--mode", mode, "--invoke", f, &m, want]);
            assert_eq!(
                stdout(&o),
                format!("{want}\n"),
                "{mode} {f}({want}) round trip"
            );
        }
    }
    for (f, arg) in [
        ("f32", "1e40"),
        ("f32", "0x1p128"),
        ("f64", "1e309"),
        ("f32", "1.2.3"),
    ] {
        let o = bareflow(&["run", "--invoke", f, &m, arg]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{f}({arg}) must be refused: {}",
            stdout(&o)
        );
        assert!(
            stderr(&o).contains(&format!("(`{arg}`) is not a valid {f}")),
            "{}",
            stderr(&o)
        );
    }
    let o = bareflow(&["run", "--invoke", "f32", &m, "1e40"]);
    assert!(stderr(&o).contains("out of range"), "{}", stderr(&o));
}

/// Before: such a run did nothing and exited 0.
#[test]
fn item10_nothing_to_run_lists_the_exports() {
    let dir = tmpdir("nothing");
    let m = write(&dir, "fib.wat", FIB);
    let o = bareflow(&["run", &m]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no `_start`") && err.contains("--invoke NAME"),
        "{err}"
    );
    assert!(
        err.contains("fib (i32) -> (i32), helper (i32) -> (i32)"),
        "{err}"
    );
    // A module whose start function is the program still just runs it.
    let s = write(
        &dir,
        "start.wat",
        "(module (global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 1))) (start $s))",
    );
    let o = bareflow(&["run", &s]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ---- item 8: trap locations in every mode ----

/// Before: `--mode snapshot` and `snapshot-xip` printed only `integer divide by zero`, while
/// the interpreter and the JIT modes named the function and the wasm code offset.
#[test]
fn item8_snapshot_traps_name_the_function_and_offset() {
    let dir = tmpdir("traploc");
    let m = write(
        &dir,
        "t.wat",
        r#"(module
             (func $inner (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
             (func (export "outer") (param i32) (result i32) local.get 0 call $inner))"#,
    );
    let mut seen = Vec::new();
    for mode in ["interp", "jit-none", "snapshot", "snapshot-xip"] {
        let o = bareflow(&["run", "--mode", mode, "--invoke", "outer", &m, "0"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{mode}: {err}");
        assert!(
            err.contains("integer divide by zero (in function inner, at code offset 0x"),
            "{mode}: {err}"
        );
        seen.push(err);
    }
    // The same offset in every mode, and the same backtrace (compiler/tests/trap_backtrace.rs).
    let location = |e: &String| {
        e.split("; wasm backtrace")
            .next()
            .unwrap()
            .trim_end()
            .to_string()
    };
    assert!(
        seen.iter().all(|e| location(e) == location(&seen[0])),
        "{seen:?}"
    );
    assert!(
        seen[0].contains("; wasm backtrace (innermost first): inner <- outer"),
        "{seen:?}"
    );
    // A guard-page fault in a snapshot names the function (its trap records carry no wasm
    // offset).
    let m = write(
        &dir,
        "oob.wat",
        r#"(module (memory 1) (func (export "oob") (result i32) i32.const 100000 i32.load))"#,
    );
    for mode in ["snapshot", "snapshot-xip"] {
        let o = bareflow(&[
            "run", "--mode", mode, "--memory", "guard", "--invoke", "oob", &m,
        ]);
        let err = stderr(&o);
        assert!(
            err.contains("out of bounds memory access (in function oob"),
            "{mode}: {err}"
        );
    }
}
