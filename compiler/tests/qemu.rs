//! Bare metal: builds the QEMU image (`firmware/qemu/build.sh`: execute-in-place snapshots of
//! the trio, sha256, a trapping module and one calling a host import, `libbareflow.a`, a PVH entry into long mode) and
//! boots it in `qemu-system-x86_64`. The image prints its calls on the serial port and leaves
//! through `isa-debug-exit`; this test checks the exit status, that the image found every
//! result as expected, and replays every `call` line in the interpreter.
//!
//! Skipped (with a printed reason) when qemu-system-x86_64 or a C compiler is missing and
//! `CI` is unset; under `CI` a missing tool fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bareflow::{Config, Extern, Mode, Module, Store, Val, ValType};

mod common;
use common::{in_ci, replay_call_lines, root};

/// QEMU's exit status when the image writes its success code (0x10) to isa-debug-exit.
const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;
/// How long the image may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);

fn runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Skips (returns false) when `tool` is missing, unless under CI.
fn have(tool: &str) -> bool {
    if runs(tool) {
        return true;
    }
    assert!(!in_ci(), "{tool} not found (CI is set)");
    eprintln!("skipping: {tool} not found");
    false
}

fn module_path(snap: &str) -> PathBuf {
    let root = root();
    if snap == "trap" || snap == "serial" {
        root.join("firmware/qemu").join(format!("{snap}.wat"))
    } else {
        root.join("wasm-samples").join(format!("{snap}.wasm"))
    }
}

/// What the interpreter says about `export(args)` of `snap`: result slots or a trap code.
fn interpret(snap: &str, export: &str, args: &[u64]) -> Result<Vec<u64>, u32> {
    let module = Module::from_file(module_path(snap)).unwrap();
    let mut store = Store::new(Config::new(Mode::Interp));
    // serial.wat's env.write(ptr, len); its output is checked on the serial port instead.
    let write_ty = bareflow::FuncType {
        params: vec![ValType::I32, ValType::I32],
        results: vec![],
    };
    let write = store.host_func(write_ty, Box::new(|_, _| Ok(())));
    let inst = store
        .instantiate(&module, &|m, n| match (m, n) {
            ("env", "write") => Some(Extern::Func(write)),
            _ => None,
        })
        .unwrap();
    let Some(Extern::Func(f)) = store.export(inst, export) else {
        panic!("{snap} has no export {export}");
    };
    let ty = store.func_type(f);
    assert_eq!(ty.params.len(), args.len(), "{snap}.{export}: arity");
    let vals: Vec<Val> = ty
        .params
        .iter()
        .zip(args)
        .map(|(t, a)| match t {
            ValType::I32 => Val::I32(*a as i32),
            ValType::I64 => Val::I64(*a as i64),
            _ => panic!("{snap}.{export}: unexpected parameter type"),
        })
        .collect();
    match store.call(f, &vals) {
        Ok(r) => Ok(r
            .iter()
            .map(|v| match v {
                Val::I32(x) => *x as u32 as u64,
                Val::I64(x) => *x as u64,
                _ => panic!("{snap}.{export}: unexpected result type"),
            })
            .collect()),
        Err(bareflow::CallError::Trap(t)) => Err(t.code as u32),
        Err(e) => panic!("{snap}.{export}: {e}"),
    }
}

/// Boots `image`; returns the serial output and QEMU's exit code. Kills QEMU after TIMEOUT.
fn boot(image: &Path) -> (String, Option<i32>) {
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-nographic",
            "-no-reboot",
            "-cpu",
            "max",
            "-m",
            "64M",
            "-serial",
            "stdio",
            "-monitor",
            "none",
            "-display",
            "none",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel",
        ])
        .arg(image)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting qemu-system-x86_64");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).map(|_| s)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("waiting for qemu") {
            break Some(st);
        }
        if start.elapsed() > TIMEOUT {
            // Only the child we started, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap().expect("reading the serial output");
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let out = String::from_utf8_lossy(&out).into_owned();
    eprintln!(
        "qemu ran {:.2} s\n{out}{err}",
        start.elapsed().as_secs_f64()
    );
    let Some(status) = status else {
        panic!("qemu did not exit within {TIMEOUT:?}; serial output:\n{out}");
    };
    (out, status.code())
}

#[test]
fn qemu_image_runs_xip_snapshots_on_bare_metal() {
    if !have("qemu-system-x86_64") || !have("cc") {
        return;
    }
    let root = root();
    // build.sh builds the XIP-only library; same target dir as firmware.rs's XIP-only build.
    let target = root.join("target").join("firmware-xip-only");
    let out = target.join("qemu");
    let o = Command::new("sh")
        .arg(root.join("firmware/qemu/build.sh"))
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_bareflow"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("running firmware/qemu/build.sh");
    let build = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "build.sh failed:\n{build}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{build}");

    let (serial, code) = boot(&out.join("bareflow-qemu.elf"));
    let lines: Vec<&str> = serial.lines().map(str::trim_end).collect();
    for l in &lines {
        assert!(
            !l.starts_with("FAIL") && !l.starts_with("exception"),
            "the image reported: {l}\n{serial}"
        );
    }
    assert_eq!(
        code,
        Some(EXIT_SUCCESS),
        "exit status; serial output:\n{serial}"
    );
    assert_eq!(lines.last(), Some(&"done 0"), "{serial}");

    // Every call line agrees with the interpreter.
    let calls = replay_call_lines(lines.iter().copied(), interpret);
    assert_eq!(calls, 11, "call lines:\n{serial}");
    // Each trap kind is printed with its message, and all five snapshots ran in place.
    for want in [
        "call trap boom trap 1 trap: unreachable",
        "call trap div 7 0 trap 7 trap: integer divide by zero",
        "call trap load 65533 trap 2 trap: out of bounds memory access",
        "call trap deep 0 trap 10 trap: call stack exhausted",
        "call trap div 7 2 -> 3",
        "call serial hello 2 -> 60",
        // A snapshot for the other memory mode is refused with a load status.
        "snapshot fibonacci-guard (--memory guard) -> status 4 snapshot rejected",
        "write to snapshot memory at 0x",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "missing `{want}` in:\n{serial}"
        );
    }
    // Wasm wrote through the host import, twice.
    let hello = lines
        .iter()
        .filter(|l| **l == "wasm: hello from wasm, on bare metal")
        .count();
    assert_eq!(hello, 2, "{serial}");
    let in_place = lines
        .iter()
        .filter(|l| l.starts_with("snapshot ") && l.ends_with(", in place"))
        .count();
    assert_eq!(in_place, 6, "{serial}");
}
