//! The transformer workload (wasm-samples/wasi/llama): a short generation with the small
//! checkpoint in every execution mode of `bareflow run`, and compiled to a snapshot for
//! `bareflow-load`, for both the scalar and the `-msimd128` build; stdout must equal the
//! native build's (`cc -O2` of the same C, built here) byte for byte: the generated text and
//! a hash of the raw bits of every logit.
//!
//! The checkpoint and tokenizer are written by the workload's own generator (`gen.wasm`, run
//! by `bareflow run --mode jit-speed`; checked against the native generator's bytes), into
//! this test's scratch directory: nothing big is committed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// One way to run a WASI program: how to build its command line.
struct Runner {
    name: &'static str,
    /// `bareflow run` options (a `Run` runner) or a snapshot loader binary (`Load`).
    kind: Kind,
}

enum Kind {
    /// `bareflow run OPTIONS --dir D::. PROGRAM.wasm ARGS`
    Run(&'static [&'static str]),
    /// `bareflow compile PROGRAM.wasm -o P.snap`, then `LOADER P.snap --dir D::. -- ARGS`
    Load(fn() -> PathBuf),
}

/// Every runner the outputs are compared across. One more loader is one more line.
const RUNNERS: &[Runner] = &[
    Runner {
        name: "interp",
        kind: Kind::Run(&["--mode", "interp"]),
    },
    Runner {
        name: "jit-none",
        kind: Kind::Run(&["--mode", "jit-none"]),
    },
    Runner {
        name: "jit-speed",
        kind: Kind::Run(&["--mode", "jit-speed"]),
    },
    Runner {
        name: "tiered",
        kind: Kind::Run(&["--mode", "tiered"]),
    },
    Runner {
        name: "snapshot",
        kind: Kind::Run(&["--mode", "snapshot"]),
    },
    Runner {
        name: "snapshot-xip",
        kind: Kind::Run(&["--mode", "snapshot-xip"]),
    },
    Runner {
        name: "jit-speed-guard",
        kind: Kind::Run(&["--mode", "jit-speed", "--memory", "guard"]),
    },
    Runner {
        name: "snapshot-guard",
        kind: Kind::Run(&["--mode", "snapshot", "--memory", "guard"]),
    },
    Runner {
        name: "bareflow-load",
        kind: Kind::Load(std_loader),
    },
    Runner {
        name: "bareflow-load-tiny",
        kind: Kind::Load(tiny_loader),
    },
];

/// The generation runs compared: guest arguments after the checkpoint and tokenizer.
const CASES: &[(&str, &[&str])] = &[
    ("greedy", &["-n", "40"]),
    (
        "top-p",
        &[
            "-n",
            "40",
            "-t",
            "0.9",
            "-p",
            "0.9",
            "-s",
            "7",
            "-i",
            " bada dana",
        ],
    ),
    (
        "multinomial",
        &["-n", "24", "-t", "1.0", "-p", "1.0", "-s", "12345"],
    ),
];

fn samples() -> PathBuf {
    common::root().join("wasm-samples/wasi/llama")
}

fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llama-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// `bareflow-load` with the `wasi` feature (the std build), in its own target dir (shared
/// with compiler/tests/wasi.rs).
fn std_loader() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loadbin-wasi");
        let out = Command::new(cargo)
            .args(["build", "-p", "runtime-loader", "--bin", "bareflow-load"])
            .args(["--features", "wasi", "--offline", "--target-dir"])
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("debug/bareflow-load")
    })
    .clone()
}

/// The size-built `bareflow-load` (no std, `--profile min-size`, feature `tiny-wasi`: WASI
/// over raw Linux system calls), in its own target dir (shared with compiler/tests/wasi.rs).
fn tiny_loader() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loadbin-tinywasi");
        let out = Command::new(cargo)
            .args([
                "build",
                "-p",
                "runtime-loader",
                "--bin",
                "bareflow-load",
                "--offline",
            ])
            .args(["--profile", "min-size", "--no-default-features"])
            .args(["--features", "alloc,unix,tiny-wasi", "--target-dir"])
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("min-size/bareflow-load")
    })
    .clone()
}

#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

fn outcome(out: std::process::Output) -> Outcome {
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

fn bareflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bareflow"));
    c.stdin(Stdio::null());
    c
}

/// The small checkpoint and tokenizer in the scratch directory (written once).
fn model() -> &'static Path {
    static DONE: OnceLock<()> = OnceLock::new();
    let dir = scratch();
    DONE.get_or_init(|| {
        let out = bareflow()
            .args(["run", "--mode", "jit-speed", "--dir"])
            .arg(format!("{}::.", dir.display()))
            .arg(samples().join("gen.wasm"))
            .args(["small", "small.bin", "small.tok"])
            .output()
            .unwrap();
        let o = outcome(out);
        assert_eq!(o.status, Some(0), "gen.wasm: {o:?}");
        let size = std::fs::metadata(dir.join("small.bin")).unwrap().len();
        // A 28-byte header, then whole f32 weights.
        assert_eq!((size - 28) % 4, 0);
        assert!(size > 500_000, "small.bin is {size} bytes");
    });
    dir
}

/// Builds `src` natively with `cc -O2 -ffp-contract=off` (None without a C compiler,
/// outside CI).
fn native(src: &str) -> Option<PathBuf> {
    let Some(cc) = common::c_compiler() else {
        assert!(
            !common::in_ci(),
            "CI must have a C compiler for the native reference"
        );
        eprintln!("note: no C compiler: the interpreter's output is the reference instead");
        return None;
    };
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let exe = scratch().join(format!("native-{src}"));
    if exe.exists() {
        return Some(exe);
    }
    let out = Command::new(cc)
        .args(["-O2", "-ffp-contract=off", "-fno-math-errno", "-o"])
        .arg(&exe)
        .arg(samples().join(format!("{src}.c")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc {src}.c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(exe)
}

fn guest_args<'a>(case: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    ["small.bin", "small.tok"]
        .into_iter()
        .chain(case.iter().copied())
}

fn run(runner: &Runner, program: &str, case: &[&str]) -> Outcome {
    let dir = model();
    let grant = format!("{}::.", dir.display());
    let mut cmd = match &runner.kind {
        Kind::Run(opts) => {
            let mut c = bareflow();
            c.arg("run").args(*opts).arg("--dir").arg(&grant);
            c.arg(samples().join(format!("{program}.wasm")));
            c
        }
        Kind::Load(loader) => {
            let snap = dir.join(format!("{program}.snap"));
            if !snap.exists() {
                let out = bareflow()
                    .arg("compile")
                    .arg(samples().join(format!("{program}.wasm")))
                    .arg("-o")
                    .arg(&snap)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "compile {program}: {:?}",
                    outcome(out)
                );
            }
            let mut c = Command::new(loader());
            c.stdin(Stdio::null());
            c.arg(&snap).arg("--dir").arg(&grant).arg("--");
            c
        }
    };
    cmd.args(guest_args(case));
    outcome(cmd.output().unwrap())
}

#[test]
fn generator_is_deterministic_and_matches_native() {
    let dir = model();
    let Some(generator) = native("gen") else {
        return;
    };
    let out = Command::new(generator)
        .args(["small", "native.bin", "native.tok"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    for (a, b) in [("small.bin", "native.bin"), ("small.tok", "native.tok")] {
        assert!(
            std::fs::read(dir.join(a)).unwrap() == std::fs::read(dir.join(b)).unwrap(),
            "gen.wasm's {a} differs from the native generator's"
        );
    }
}

#[test]
fn every_mode_prints_native_output_scalar() {
    every_mode_prints_native_output("llama");
}

#[test]
fn every_mode_prints_native_output_simd() {
    every_mode_prints_native_output("llama_simd");
}

/// `program` (the scalar or the SIMD build) prints the scalar native build's stdout.
fn every_mode_prints_native_output(program: &str) {
    let dir = model();
    let reference: Vec<(String, Outcome)> = match native("llama") {
        Some(exe) => CASES
            .iter()
            .map(|(name, case)| {
                let out = Command::new(&exe)
                    .args(guest_args(case))
                    .current_dir(dir)
                    .output();
                (name.to_string(), outcome(out.unwrap()))
            })
            .collect(),
        None => CASES
            .iter()
            .map(|(name, case)| (name.to_string(), run(&RUNNERS[0], "llama", case)))
            .collect(),
    };
    for (name, r) in &reference {
        assert_eq!(r.status, Some(0), "reference {name}: {r:?}");
        assert!(
            r.stdout.contains(" tokens, logits hash "),
            "reference {name}: {r:?}"
        );
        assert!(
            r.stderr.starts_with("achieved tok/s: "),
            "reference {name}: {r:?}"
        );
    }
    // The cases differ from each other: the sampler and the prompt are exercised.
    assert_ne!(reference[0].1.stdout, reference[1].1.stdout);
    assert_ne!(reference[0].1.stdout, reference[2].1.stdout);
    // The prompt is echoed (as the vocabulary spells it: greedy longest match).
    assert!(
        reference[1].1.stdout.trim_start().starts_with("bada"),
        "{:?}",
        reference[1].1
    );

    let mut failures = Vec::new();
    for runner in RUNNERS {
        for ((name, case), (_, want)) in CASES.iter().zip(&reference) {
            let got = run(runner, program, case);
            if got.stdout != want.stdout
                || got.status != Some(0)
                || !got.stderr.starts_with("achieved tok/s: ")
            {
                failures.push(format!(
                    "{program} {} {name}:\n got {got:?}\nwant {want:?}",
                    runner.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_checkpoints_are_refused() {
    let dir = model();
    let small = std::fs::read(dir.join("small.bin")).unwrap();
    let mut bad_header = small.clone();
    bad_header[0..4].copy_from_slice(&(-5i32).to_le_bytes());
    std::fs::write(dir.join("bad-header.bin"), &bad_header).unwrap();
    std::fs::write(dir.join("truncated.bin"), &small[..small.len() / 2]).unwrap();
    for file in ["bad-header.bin", "truncated.bin", "missing.bin"] {
        let out = bareflow()
            .args(["run", "--mode", "jit-speed", "--dir"])
            .arg(format!("{}::.", dir.display()))
            .arg(samples().join("llama.wasm"))
            .args([file, "small.tok"])
            .output()
            .unwrap();
        let o = outcome(out);
        assert_eq!(o.status, Some(1), "{file}: {o:?}");
        assert!(o.stderr.starts_with("llama: "), "{file}: {o:?}");
    }
}
