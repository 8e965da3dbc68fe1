//! Clap commands of the `bareflow` binary. `anyhow` lives only here.
//!
//! Exit status: 0 success, 1 failure (trap, failed assertion, bad input; one `error:` line
//! on stderr, except a `.wat` syntax error, which keeps the parser's multi-line excerpt),
//! 2 usage error (clap). Engine panics are caught and reported as one
//! `error: internal error: ... panicked ...` line, never a raw backtrace.
//!
//! `bareflow [RUN OPTIONS] FILE [ARGS...]` is `bareflow run ...` (as `wasmtime FILE` is
//! `wasmtime run FILE`): the run options are flattened into the top-level command and the
//! subcommands win when the first word names one.

mod bounds; // `--fuel`, `--timeout`
mod compile; // `bareflow compile`: wasm -> snapshot
mod inspect; // `bareflow inspect`: what a snapshot holds
mod keygen; // signed snapshots
mod profile;
mod run;
mod wasi;
mod wast;

use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Parser, Subcommand};

/// BareFlow: a WebAssembly interpreter, Cranelift tiers and snapshot compiler.
///
/// `bareflow [OPTIONS] FILE [ARGS...]` without a subcommand is `bareflow run`.
#[derive(Parser, Debug)]
#[command(
    name = "bareflow",
    version,
    about,
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true,
    override_usage = "bareflow [OPTIONS] <FILE> [ARGS]...\n       bareflow <COMMAND>"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `bareflow FILE ...`: the options and operands of `run`.
    #[command(flatten)]
    run: run::RunCommand,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WebAssembly module (binary or text).
    #[command(override_usage = "bareflow run [OPTIONS] <FILE> [ARGS]...")]
    Run(run::RunCommand),
    /// Run `.wast` spec scripts and report passed/failed/skipped assertions.
    Wast(wast::WastCommand),
    /// Inspect profile files written by `run --profile-out`.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Compile a module ahead of time into a snapshot.
    Compile(compile::CompileCommand),
    /// Show what a snapshot contains.
    Inspect(inspect::InspectCommand),
    /// Make an Ed25519 key pair for signed snapshots (`compile --sign`).
    Keygen(keygen::KeygenCommand),
}

/// The last panic's message and location, recorded by the panic hook.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Parses the command line, runs the command and maps the result to an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        // Prints help/version (exit 0) or the usage error (exit 2).
        Err(e) => e.exit(),
    };
    if cli.command.is_none()
        && let Some(word) = cli.run.file()
        && looks_like_a_subcommand(word)
    {
        // `bareflow frobnicate`: a mistyped subcommand, not a module file (exit 2).
        let msg = format!(
            "unrecognized subcommand '{}' (and no module file of that name)",
            word.to_string_lossy()
        );
        use clap::CommandFactory as _;
        Cli::command()
            .error(clap::error::ErrorKind::InvalidSubcommand, msg)
            .exit();
    }
    // Panics are reported as one line by the catch below (or as failures by the wast runner).
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut slot) = LAST_PANIC.lock() {
            *slot = Some(info.to_string().replace('\n', " "));
        }
    }));
    let result = std::panic::catch_unwind(|| match cli.command {
        None => cli.run.execute(),
        Some(c) => c.execute(),
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {}", render_error(&e));
            ExitCode::from(1)
        }
        Err(_) => {
            let msg = LAST_PANIC
                .lock()
                .ok()
                .and_then(|mut s| s.take())
                .unwrap_or_else(|| "unknown panic".into());
            eprintln!("error: internal error: bareflow {}", one_line(&msg));
            ExitCode::from(1)
        }
    }
}

impl Command {
    fn execute(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Run(c) => c.execute(),
            Command::Wast(c) => c.execute(),
            Command::Profile(c) => c.execute(),
            Command::Compile(c) => c.execute(),
            Command::Inspect(c) => c.execute(),
            Command::Keygen(c) => c.execute(),
        }
    }
}

/// Whether `bareflow WORD` should be read as a mistyped subcommand: WORD names no file and
/// has neither a directory part nor an extension, as a module path would.
fn looks_like_a_subcommand(word: &std::ffi::OsStr) -> bool {
    let p = std::path::Path::new(word);
    !p.exists() && p.extension().is_none() && p.parent().is_none_or(|d| d.as_os_str().is_empty())
}

/// An error whose message keeps its line breaks (the `.wat` parser's source excerpt).
#[derive(Debug)]
pub(crate) struct MultiLine(pub String);

impl std::fmt::Display for MultiLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MultiLine {}

/// The error chain as `context: cause: cause`, on one line unless a link is [`MultiLine`].
///
/// A cause whose text the previous link already ends with is left out: several library
/// errors print their source inside their own message and also return it from
/// `source()`, which `{:#}` would print twice ("... (os error 2): ... (os error 2)").
fn render_error(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = if cause.downcast_ref::<MultiLine>().is_some() {
            cause.to_string().trim_end().to_string()
        } else {
            one_line(&cause.to_string())
        };
        if text.is_empty() || parts.last().is_some_and(|prev| prev.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// A module file as read from disk.
pub(crate) struct ModuleFile {
    /// The file's bytes (what a profile identifies a module by).
    pub bytes: Vec<u8>,
    /// The binary module when the file is `.wat` text.
    text_to_binary: Option<Vec<u8>>,
}

impl ModuleFile {
    /// Reads `path` (`.wasm`, or `.wat` text converted here so that a syntax error names the
    /// file and keeps the parser's excerpt with its line breaks).
    pub fn read(path: &std::path::Path) -> anyhow::Result<ModuleFile> {
        use anyhow::Context as _;
        let shown = path.display();
        let bytes = bareflow::internals::fsio::read_input(path)
            .with_context(|| format!("reading {shown}"))?;
        if bytes.starts_with(b"\0asm") {
            return Ok(ModuleFile {
                bytes,
                text_to_binary: None,
            });
        }
        match wat::parse_bytes(&bytes) {
            Ok(bin) => {
                let bin = bin.into_owned();
                Ok(ModuleFile {
                    bytes,
                    text_to_binary: Some(bin),
                })
            }
            Err(mut e) => {
                e.set_path(path);
                Err(anyhow::Error::new(MultiLine(e.to_string()))
                    .context(format!("loading {shown}")))
            }
        }
    }

    /// The binary module.
    pub fn wasm(&self) -> &[u8] {
        self.text_to_binary.as_deref().unwrap_or(&self.bytes)
    }
}

/// Errors are printed on one line; messages from parsers can contain newlines.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Clap value parser for `--mode`.
fn parse_mode(s: &str) -> Result<bareflow::Mode, String> {
    s.parse().map_err(|e: bareflow::UnknownMode| e.to_string())
}

fn parse_memory(s: &str) -> Result<bareflow::MemoryMode, String> {
    s.parse()
        .map_err(|e: bareflow::UnknownMemoryMode| e.to_string())
}
