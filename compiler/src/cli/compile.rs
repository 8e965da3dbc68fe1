//! `bareflow compile`: freeze a module into a snapshot (relocatable x86-64 code + metadata)
//! that `bareflow-load` and `runtime_loader::loader` run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bareflow::MemoryMode;
use bareflow::internals::aot::{self, AotOpt, AotOptions};
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
    /// Output snapshot path (replaced atomically). Default: FILE with the extension `.snap`
    /// beside the input (`prog.wasm` -> `prog.snap`), as `wasmtime compile` writes `.cwasm`.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Optimization level for every function without a profile: none, speed or size.
    #[arg(long, default_value = "speed")]
    opt: AotOpt,
    /// Profile written by `bareflow run --profile-out`: hot functions → speed, the others
    /// that ran → size, functions that never ran → none.
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
    /// Compile fuel checks (1 unit per function entry and loop back-edge; header flag FUEL):
    /// loaders can then run it with a fuel budget (`bareflow-load --fuel N`, `bf_set_fuel`).
    #[arg(long)]
    fuel: bool,
    /// Compile interrupt checks at the same points (header flag INTERRUPT): loaders can then
    /// stop it (`bareflow-load --timeout DUR`, `bf_interrupt`).
    #[arg(long)]
    interruptible: bool,
    /// Worker threads compiling the functions (0: one per available core). The snapshot is
    /// the same for any number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    jobs: usize,
    /// Do not inline callees at direct call sites (by default small callees are inlined,
    /// and with `--profile` hot ones into hot callers; never with `--fuel`/`--interruptible`).
    #[arg(long)]
    no_inline: bool,
}

impl CompileCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        let output = match &self.output {
            Some(o) => o.clone(),
            None => self.file.with_extension("snap"),
        };
        // Never replace one of the user's inputs with an output.
        let inputs = [Some(&self.file), self.profile.as_ref(), self.sign.as_ref()];
        for out in [Some(&output), self.emit_obj.as_ref()]
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
        let input = super::ModuleFile::read(&self.file)?;
        let bytes = &input.bytes;
        let module = bareflow::internals::parse::parse(input.wasm())
            .with_context(|| format!("loading {path}"))?;
        let profile = match &self.profile {
            Some(p) => {
                Some(Profile::load(p).with_context(|| format!("reading profile {}", p.display()))?)
            }
            None => None,
        };
        if let Some(p) = &profile
            && p.module != ModuleId::of_bytes(bytes)
        {
            bail!(
                "profile {} was recorded for {} [{}], not for {path} [{}] (another module, \
                 or another version of it)",
                self.profile
                    .as_deref()
                    .unwrap_or(std::path::Path::new("?"))
                    .display(),
                p.path,
                p.module,
                ModuleId::of_bytes(bytes)
            );
        }
        // The profile's loops travel with it to the compiler (`AotOptions::profile`, see
        // `Profile::hottest_loops`); the log says which ones, and that they change no code
        // yet (only the per-function counts pick speed or size).
        let loop_log = profile.as_ref().map(loop_summary);
        let opts = AotOptions {
            opt: self.opt,
            profile,
            xip: self.xip,
            memory: self.memory,
            target_cpu: self.target_cpu.clone(),
            bounds: bareflow::internals::clif::Bounds {
                fuel: self.fuel,
                interrupt: self.interruptible,
            },
            threads: self.jobs,
            inline: !self.no_inline,
            // The loaders have no exception functions (docs/ABI.md, "Exceptions").
            exceptions: false,
        };
        // Read the key first: a bad key file fails before the (slow) compilation.
        let key = match &self.sign {
            Some(k) => Some(
                bareflow::internals::signing::SigningKey::load(k)
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
        // `fsio::write_output` directly (not `aot::write_atomic`, whose error says
        // "snapshot" also for the `.o`): atomic, symlink-safe, devices written through.
        bareflow::internals::fsio::write_output(&output, &snap)
            .with_context(|| format!("writing {}", output.display()))?;
        if let Some(obj_path) = &self.emit_obj {
            // The object is taken back out of the snapshot just written, so the `.o` is
            // byte-for-byte what the loader relocates.
            let parsed = runtime_loader::format::Snapshot::parse(&snap)
                .map_err(|e| anyhow::anyhow!("re-reading the snapshot: {e}"))?;
            bareflow::internals::fsio::write_output(obj_path, parsed.object_bytes())
                .with_context(|| format!("writing {}", obj_path.display()))?;
        }
        eprintln!(
            "compiled {} functions ({} speed, {} size, {} none), dropped {} unreachable, \
             inlined {} call sites; code {} bytes, object {} bytes, snapshot {} bytes",
            stats.compiled,
            stats.by_tier[1],
            stats.by_tier[2],
            stats.by_tier[0],
            stats.dropped,
            stats.inlined,
            stats.code_bytes,
            stats.object_bytes,
            stats.snapshot_bytes
        );
        if let Some(l) = &loop_log {
            eprint!("{l}");
        }
        if key.is_some() {
            eprintln!("signed (ed25519)");
        }
        if self.output.is_none() {
            eprintln!("wrote {}", output.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The compile log's lines about the profile's loops (at most the three hottest).
fn loop_summary(p: &Profile) -> String {
    use std::fmt::Write as _;
    let loops = p.hottest_loops();
    let mut s = String::new();
    if loops.is_empty() {
        let _ = writeln!(s, "profile: no loops recorded");
        return s;
    }
    let _ = writeln!(
        s,
        "profile: {} loops recorded (passed to the compiler; they change no generated code \
         yet); hottest:",
        loops.len()
    );
    for l in loops.iter().take(3) {
        let name = match p.funcs.get(&l.func).and_then(|f| f.name.as_deref()) {
            Some(n) => format!("{n} (func {})", l.func),
            None => format!("func {}", l.func),
        };
        let _ = writeln!(
            s,
            "  {} loop at 0x{:x}: {} back-edges ({:.1}%)",
            name.escape_debug(),
            l.offset,
            l.back_edges,
            l.share * 100.0
        );
    }
    s
}

/// Whether two paths name the same existing file (false if either does not exist).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
