//! Clap commands of the `bareflow` binary. `anyhow` lives only here.
//!
//! Exit status: 0 success, 1 failure (trap, failed assertion, bad input; one `error:` line
//! on stderr), 2 usage error (clap). Engine panics are caught and reported as one
//! `error: internal error: ... panicked ...` line, never a raw backtrace.

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
#[derive(Parser, Debug)]
#[command(name = "bareflow", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WebAssembly module (binary or text).
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
    // Panics are reported as one line by the catch below (or as failures by the wast runner).
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut slot) = LAST_PANIC.lock() {
            *slot = Some(info.to_string().replace('\n', " "));
        }
    }));
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Run(c) => c.execute(),
        Command::Wast(c) => c.execute(),
        Command::Profile(c) => c.execute(),
        Command::Compile(c) => c.execute(),
        Command::Inspect(c) => c.execute(),
        Command::Keygen(c) => c.execute(),
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
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
