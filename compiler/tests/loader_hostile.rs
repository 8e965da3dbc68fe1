//! Issue #14 items 3 and 6 for `bareflow-load`, in the shipped build (no std, `min-size`)
//! and the std build: deep recursion under `ulimit -s 1024` traps "call stack exhausted"
//! instead of crashing, a snapshot declaring 65,536 pages (and growing to them) costs little
//! RSS, and `/dev/zero` as the snapshot ends with a clear error instead of reading forever.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAT: &str = r#"
(module
  (memory (export "mem") 65536)
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    call $rec)
  (func (export "ok") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add)
  (func (export "spin") (param i32)
    ;; touch the last byte, then spin forever (the test reads RSS meanwhile)
    i32.const -1
    i32.const 7
    i32.store8
    loop
      br 0
    end))
"#;

const GROW_WAT: &str = r#"
(module
  (memory 1)
  (func (export "spin") (param i32)
    i32.const 65535
    memory.grow
    drop
    i32.const -1
    i32.const 7
    i32.store8
    loop
      br 0
    end))
"#;

fn build_loader(no_std: bool) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.join(if no_std {
        "hostile-nostd"
    } else {
        "hostile-std"
    });
    let mut c = Command::new(&cargo);
    c.args([
        "build",
        "-p",
        "runtime-loader",
        "--bin",
        "bareflow-load",
        "--offline",
    ])
    .arg("--target-dir")
    .arg(&target)
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if no_std {
        c.args([
            "--profile",
            "min-size",
            "--no-default-features",
            "--features",
            "alloc,unix",
        ]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target
        .join(if no_std { "min-size" } else { "debug" })
        .join("bareflow-load")
}

fn compile(name: &str, wat: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let w = dir.join(format!("{name}.wat"));
    std::fs::write(&w, wat).unwrap();
    let snap = dir.join(format!("{name}.snap"));
    let o = Command::new(env!("CARGO_BIN_EXE_bareflow"))
        .arg("compile")
        .arg(&w)
        .arg("-o")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    snap
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `bin snap --invoke spin 0` for a second and returns the largest RSS seen (KiB).
fn peak_rss_while_spinning(bin: &Path, snap: &Path) -> u64 {
    let mut child = Command::new(bin)
        .arg(snap)
        .args(["--invoke", "spin", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut peak = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        if let Some(r) = vm_rss_kib(child.id()) {
            peak = peak.max(r);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the loader exited early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    peak
}

fn check_loader(no_std: bool) {
    let bin = build_loader(no_std);
    let snap = compile("big", WAT);
    let what = if no_std { "no_std" } else { "std" };

    // 65,536 pages declared: only the touched page is resident.
    let peak = peak_rss_while_spinning(&bin, &snap);
    assert!(
        peak < 128 << 10,
        "{what}: 4 GiB memory peaked at {peak} KiB RSS"
    );
    // Grown to 65,536 pages in one step: same.
    let grow = compile("grow", GROW_WAT);
    let peak = peak_rss_while_spinning(&bin, &grow);
    assert!(
        peak < 128 << 10,
        "{what}: grown memory peaked at {peak} KiB RSS"
    );

    // Deep recursion with a 1 MiB main-thread stack: a trap, not a crash.
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -s 1024 && exec \"$0\" \"$1\" --invoke rec 0")
        .arg(&bin)
        .arg(&snap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{what}: {:?} {err}", o.status);
    assert!(err.contains("call stack exhausted"), "{what}: {err}");
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -s 1024 && exec \"$0\" \"$1\" --invoke ok 41")
        .arg(&bin)
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "42\n", "{what}");

    // /dev/zero as the snapshot: a clear error within the timeout.
    let mut child = Command::new(&bin)
        .args(["/dev/zero", "--invoke", "ok", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{what}: bareflow-load still reading /dev/zero after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{what}: {err}");
    assert!(err.contains("input limit"), "{what}: {err}");
}

#[test]
fn bareflow_load_no_std_survives_hostile_resources() {
    check_loader(true);
}

#[test]
fn bareflow_load_std_survives_hostile_resources() {
    check_loader(false);
}
