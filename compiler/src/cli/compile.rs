//! `bareflow compile`: freeze a module into a snapshot (relocatable x86-64 code + metadata)
//! that `bareflow-load` and `runtime_loader::loader` run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bareflow::MemoryMode;
use bareflow::aot::{self, AotOpt, AotOptions};
use bareflow::profile::{ModuleId, Profile};
use clap::Args;

/// Compile a WebAssembly module ahead of time into a snapshot.
///
/// Every function reachable from the exports, the start function and the element segments is
/// compiled with Cranelift into one ELF object; unreachable functions are dropped. With
/// `--profile`, hot functions are optimized for speed and cold ones for size.
#[derive(Args, Debug)]
pub struct CompileCommand {
    /// The module (`.wasm` binary or `.wat` text).
    file: PathBuf,
    /// Output snapshot path (overwritten atomically).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Optimization level for every function without a profile: none, speed or size.
    #[arg(long, default_value = "speed")]
    opt: AotOpt,
    /// Profile written by `bareflow run --profile-out`: hot functions → speed, cold → size.
    #[arg(long, value_name = "P")]
    profile: Option<PathBuf>,
    /// Execute in place: resolve every relocation at compile time (code compiled with
    /// SSE4.1), so the snapshot's code runs from read-only memory unchanged.
    #[arg(long)]
    xip: bool,
    /// x86-64 CPU whose features the code may use: a Cranelift preset (`x86-64-v2`,
    /// `x86-64-v3`, `x86-64-v4`, `haswell`, ...) or `native`. Default: baseline SSE2 (with
    /// `--xip`: SSE4.1). The snapshot records the features; loaders refuse it on a CPU
    /// without them.
    #[arg(long, value_name = "CPU")]
    target_cpu: Option<String>,
    /// Memory mode of the code: checked (explicit bounds checks, runs anywhere) or guard
    /// (guard pages: no checks, needs the loader's fault handler, i.e. `std` on Linux x86-64).
    #[arg(long, default_value = "checked", value_parser = super::parse_memory)]
    memory: MemoryMode,
    /// Also write the bare relocatable ELF object (as packed in the snapshot) to FILE.
    #[arg(long, value_name = "FILE")]
    emit_obj: Option<PathBuf>,
    /// Sign the snapshot with the secret key KEYFILE (`bareflow keygen`'s PREFIX.key): a
    /// loader configured with the public key refuses it if any byte changes.
    #[arg(long, value_name = "KEYFILE")]
    sign: Option<PathBuf>,
}

impl CompileCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        // Never replace one of the user's inputs with an output.
        let inputs = [Some(&self.file), self.profile.as_ref(), self.sign.as_ref()];
        for out in [Some(&self.output), self.emit_obj.as_ref()]
            .into_iter()
            .flatten()
        {
            for input in inputs.into_iter().flatten() {
                if same_file(out, input) {
                    bail!(
                        "output {} is the input {}: refusing to overwrite it",
                        out.display(),
                        input.display()
                    );
                }
            }
        }
        let bytes =
            bareflow::fsio::read_input(&self.file).with_context(|| format!("reading {path}"))?;
        let module = bareflow::parse::parse(&bytes).with_context(|| format!("loading {path}"))?;
        let profile = match &self.profile {
            Some(p) => {
                Some(Profile::load(p).with_context(|| format!("reading profile {}", p.display()))?)
            }
            None => None,
        };
        if let Some(p) = &profile
            && p.module != ModuleId::of_bytes(&bytes)
        {
            bail!("the profile was recorded for another module (or another version of {path})");
        }
        let opts = AotOptions {
            opt: self.opt,
            profile,
            xip: self.xip,
            memory: self.memory,
            target_cpu: self.target_cpu.clone(),
        };
        // Read the key first: a bad key file fails before the (slow) compilation.
        let key = match &self.sign {
            Some(k) => Some(
                bareflow::signing::SigningKey::load(k)
                    .with_context(|| format!("reading key {}", k.display()))?,
            ),
            None => None,
        };
        let (mut snap, mut stats) =
            aot::compile(&module, &opts).with_context(|| format!("compiling {path}"))?;
        if let Some(key) = &key {
            snap = key.sign_snapshot(&snap)?;
            stats.snapshot_bytes = snap.len();
        }
        aot::write_atomic(&self.output, &snap)
            .with_context(|| format!("writing {}", self.output.display()))?;
        if let Some(obj_path) = &self.emit_obj {
            // The object is taken back out of the snapshot just written, so the `.o` is
            // byte-for-byte what the loader relocates.
            let parsed = runtime_loader::format::Snapshot::parse(&snap)
                .map_err(|e| anyhow::anyhow!("re-reading the snapshot: {e}"))?;
            aot::write_atomic(obj_path, parsed.object_bytes())
                .with_context(|| format!("writing {}", obj_path.display()))?;
        }
        eprintln!(
            "compiled {} functions ({} speed, {} size, {} none), dropped {} unreachable; \
             code {} bytes, object {} bytes, snapshot {} bytes",
            stats.compiled,
            stats.by_tier[1],
            stats.by_tier[2],
            stats.by_tier[0],
            stats.dropped,
            stats.code_bytes,
            stats.object_bytes,
            stats.snapshot_bytes
        );
        if key.is_some() {
            eprintln!("signed (ed25519)");
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether two paths name the same existing file (false if either does not exist).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
