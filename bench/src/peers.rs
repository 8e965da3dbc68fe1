//! Peer engines run as subprocesses: wasmtime and wasm3 through a small Python driver
//! (`bench/peers/driver.py`), V8 through a node driver (`bench/peers/driver.mjs`), and wabt's
//! wasm2c through a generated C driver (`bench/peers/wasm2c.sh`). Each driver instantiates the
//! module once and times every call in-process, printing the format of
//! `bench/native/driver.c`, so interpreter/VM start-up and compilation are not measured.
//!
//! A peer that is not installed is reported as missing with the reason, never replaced.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{NativeRun, ResultType, Workload, parse_driver_output, target_dir, workspace_root};

/// Which peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// wasmtime (Cranelift) through the `wasmtime` PyPI package.
    Wasmtime,
    /// wasm3 (interpreter) through the `pywasm3` PyPI package.
    Wasm3,
    /// wabt's wasm2c, the C compiled with clang -O2.
    Wasm2c,
    /// node's V8 (Liftoff + TurboFan).
    Node,
}

/// Every peer, in report order.
pub const PEERS: [(PeerKind, &str); 4] = [
    (PeerKind::Wasmtime, "wasmtime"),
    (PeerKind::Wasm3, "wasm3"),
    (PeerKind::Wasm2c, "wasm2c"),
    (PeerKind::Node, "node-v8"),
];

/// An installed peer.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Column name.
    pub name: &'static str,
    /// Which engine.
    pub kind: PeerKind,
    /// Version and how it runs, for the report.
    pub description: String,
    python: String,
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
        return Err(format!("{cmd:?} failed: {last}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn peers_dir() -> PathBuf {
    workspace_root().join("bench/peers")
}

impl Peer {
    /// Looks `kind` up; `Err(reason)` when it is not installed.
    pub fn probe(kind: PeerKind, name: &'static str) -> Result<Peer, String> {
        let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let py_version = |dist: &str| {
            output(Command::new(&python).args([
                "-c",
                &format!(
                    "import importlib.metadata as m, {}; print(m.version('{dist}'))",
                    if dist == "pywasm3" { "wasm3" } else { dist }
                ),
            ]))
        };
        let description = match kind {
            PeerKind::Wasmtime => format!(
                "wasmtime {} (PyPI `wasmtime`, Cranelift; in-process timing from Python)",
                py_version("wasmtime")?
            ),
            PeerKind::Wasm3 => format!(
                "wasm3 (PyPI `pywasm3` {}; interpreter; in-process timing from Python)",
                py_version("pywasm3")?
            ),
            PeerKind::Wasm2c => {
                let v = output(Command::new("wasm2c").arg("--version"))?;
                output(Command::new("clang").arg("--version"))
                    .map_err(|e| format!("clang missing: {e}"))?;
                format!("wabt wasm2c {v} + clang -O2 (guard-page memory checks)")
            }
            PeerKind::Node => {
                let v = output(Command::new("node").arg("--version"))?;
                let v8 = output(Command::new("node").args(["-p", "process.versions.v8"]))?;
                format!("node {v} (V8 {v8}, Liftoff then TurboFan; in-process timing)")
            }
        };
        Ok(Peer {
            name,
            kind,
            description,
            python,
        })
    }

    /// Why this peer cannot run `w` at all (reported as unavailable, not as a failure), if
    /// it cannot: wabt 1.0.32's wasm2c aborts on SIMD modules (an assertion in its C
    /// writer) and wasm3 has no SIMD.
    pub fn unsupported(&self, w: &Workload) -> Option<String> {
        match self.kind {
            PeerKind::Wasm2c if crate::uses_simd(w) => {
                Some("wasm2c (wabt 1.0.32) aborts on SIMD modules".into())
            }
            PeerKind::Wasm3 if crate::uses_simd(w) => Some("wasm3 has no SIMD".into()),
            _ => None,
        }
    }

    /// Runs `w` with `args`: `reps` calls in one process after one instantiation.
    ///
    /// # Errors
    /// The driver fails to build or run, or prints something unexpected.
    pub fn run(&self, w: &Workload, args: &[i32], reps: usize) -> Result<NativeRun> {
        let wasm = w.wasm_path();
        let rtype = match w.result {
            ResultType::I32 => "i32",
            ResultType::I64 => "i64",
        };
        let mut cmd = match self.kind {
            PeerKind::Wasmtime | PeerKind::Wasm3 => {
                let mut c = Command::new(&self.python);
                c.arg(peers_dir().join("driver.py")).arg(match self.kind {
                    PeerKind::Wasmtime => "wasmtime",
                    _ => "wasm3",
                });
                c.arg(&wasm).arg(w.export).arg(rtype);
                c
            }
            PeerKind::Node => {
                let mut c = Command::new("node");
                c.arg(peers_dir().join("driver.mjs"))
                    .arg(&wasm)
                    .arg(w.export)
                    .arg(rtype);
                c
            }
            PeerKind::Wasm2c => {
                let bin = target_dir().join(format!("bench/wasm2c/{}", w.name));
                let script = peers_dir().join("wasm2c.sh");
                let out = Command::new("sh")
                    .arg(&script)
                    .arg(&wasm)
                    .arg(w.export)
                    .arg(args.len().to_string())
                    .arg(rtype)
                    .arg(&bin)
                    .output()
                    .with_context(|| format!("running {}", script.display()))?;
                if !out.status.success() {
                    bail!(
                        "wasm2c build failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                Command::new(bin)
            }
        };
        cmd.arg(reps.to_string())
            .args(args.iter().map(i32::to_string));
        let out = cmd
            .output()
            .with_context(|| format!("running {}", self.name))?;
        if !out.status.success() {
            bail!(
                "{} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        parse_driver_output(&String::from_utf8_lossy(&out.stdout), reps)
            .with_context(|| format!("{} {}", self.name, w.name))
    }
}
