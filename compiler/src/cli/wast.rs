//! `bareflow wast`: run `.wast` scripts and report passed/failed/skipped assertions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bareflow::internals::wast::{Failure, FileReport, RunConfig, Scope, run_file};
use bareflow::{MemoryMode, Mode};
use clap::Args;

/// Stack size of the thread each script runs on: the interpreter and the `wast` parser may
/// recurse deeply on the host stack for deeply nested scripts.
const SCRIPT_STACK_BYTES: usize = 256 << 20;

/// Run `.wast` spec scripts.
///
/// Prints one line per file (`path: N passed, N failed, N skipped`, plus the features of
/// skipped assertions), failure details on stderr, and a last line with the totals.
/// Directories are searched recursively for `*.wast` files (in sorted path order; symbolic
/// links to directories are not followed, so a link loop cannot recurse forever); a
/// directory holding none is an error. Exits with 1 if any assertion failed.
///
/// Each script runs on its own worker thread under a deadline (`--timeout`). A script that
/// does not finish in time (e.g. a function that loops forever) counts as one failure,
/// `timeout`, and the run moves on to the next file. The worker's stores are interruptible
/// (`Config::interruptible`): at the deadline the script's code is interrupted and the
/// runner stops after the current directive, so the worker thread ends before the next file
/// starts (docs/ABI.md, "Bounded execution").
#[derive(Args, Debug)]
pub struct WastCommand {
    /// Execution mode: interp, jit-none, jit-speed, tiered, snapshot or snapshot-xip.
    #[arg(long, default_value = "interp", value_parser = super::parse_mode)]
    mode: Mode,
    /// Memory mode of compiled code: checked (explicit bounds checks) or guard (guard pages).
    #[arg(long, default_value = "checked", value_parser = super::parse_memory)]
    memory: MemoryMode,
    /// Features in scope: `core` (WebAssembly 1.0 + 2.0 and relaxed SIMD; the rest is
    /// skipped), `wasm3` (core plus the 3.0 features the engine implements; the 3.0
    /// features it does not are skipped and named) or `all` (nothing skipped).
    #[arg(long, default_value = "core", value_parser = parse_scope)]
    scope: Scope,
    /// Judge `assert_invalid`/`assert_malformed`/`assert_unlinkable` loosely: any rejection
    /// passes, whatever its category (decode, validation, link) and message. By default the
    /// category must match and the script's message must be a prefix of the engine's (or be
    /// listed in docs/SPEC-MESSAGES.md), as in the spec's reference interpreter.
    #[arg(long)]
    lenient_messages: bool,
    /// Failure details printed per file (0 = all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_failures: usize,
    /// Time limit per script, in seconds (0 = none). A script that exceeds it is reported
    /// as one `timeout` failure and the run continues with the next file.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    timeout: u64,
    /// Script files or directories of scripts.
    #[arg(required = true, value_name = "PATHS")]
    paths: Vec<PathBuf>,
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

impl WastCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let files = expand(&self.paths)?;
        if self.memory == MemoryMode::Guard && self.mode == Mode::Interp {
            eprintln!(
                "warning: --memory guard has no effect with --mode interp (the interpreter \
                 checks every access; guard pages apply to compiled code)"
            );
        }
        let cfg = RunConfig {
            mode: self.mode,
            scope: self.scope,
            memory: self.memory,
            lenient_messages: self.lenient_messages,
        };
        let mut total = FileReport::default();
        for file in &files {
            let limit = (self.timeout > 0).then(|| Duration::from_secs(self.timeout));
            let report = run_on_big_stack(file, cfg, limit)?;
            println!("{}", report.summary_line());
            let shown = if self.max_failures == 0 {
                report.failures.len()
            } else {
                self.max_failures.min(report.failures.len())
            };
            for f in &report.failures[..shown] {
                eprintln!("{}:{}: {}: {}", report.path, f.line, f.directive, f.message);
            }
            if shown < report.failures.len() {
                eprintln!(
                    "{}: ... {} more failures",
                    report.path,
                    report.failures.len() - shown
                );
            }
            total.absorb(&report);
        }
        if total.mapped_messages > 0 {
            println!(
                "{} rejection assertions passed through the message map (docs/SPEC-MESSAGES.md)",
                total.mapped_messages
            );
        }
        if total.lenient_passes > 0 {
            println!(
                "{} rejection assertions passed only because of --lenient-messages \
                 (wrong category or message)",
                total.lenient_passes
            );
        }
        println!("{}", total.counts());
        Ok(if total.failed > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// Expands directories, recursively, into their `*.wast` files (each directory's files in
/// sorted path order). A directory without any script is an error, not an empty success.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = files.len();
            collect_scripts(p, &mut files)?;
            if files.len() == before {
                bail!("no .wast files in {} (searched recursively)", p.display());
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Appends the `*.wast` files under `dir` (sorted; links to directories are not followed).
fn collect_scripts(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        let is_real_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_real_dir {
            collect_scripts(&path, files)?;
        } else if path.extension().is_some_and(|x| x == "wast") {
            files.push(path);
        }
    }
    Ok(())
}

/// Runs one script on a worker thread with a large stack, waiting at most `limit` for it.
/// A script still running at the deadline is reported as one `timeout` failure; its thread
/// is interrupted and joined (see [`WastCommand`]).
/// How long a stopped script may take to return before its worker is left detached.
const STOP_GRACE: Duration = Duration::from_secs(10);

fn run_on_big_stack(file: &Path, cfg: RunConfig, limit: Option<Duration>) -> Result<FileReport> {
    let owned = file.to_path_buf();
    let (tx, rx) = mpsc::channel();
    let stop = limit.map(|_| bareflow::internals::wast_stop::ScriptStop::new());
    let worker_stop = stop.clone();
    let worker = std::thread::Builder::new()
        .name("wast".into())
        .stack_size(SCRIPT_STACK_BYTES)
        .spawn(move || {
            bareflow::internals::wast_stop::set_thread_stop(worker_stop);
            // The receiver is gone only after a timeout: nobody wants the late report.
            let _ = tx.send(run_file(&owned, &cfg));
        })
        .context("spawning the script thread")?;
    let got = match limit {
        Some(limit) => rx.recv_timeout(limit),
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    match got {
        Ok(r) => Ok(r?),
        Err(RecvTimeoutError::Timeout) => {
            // Interrupt the script's code (it traps at its next function entry or loop
            // back-edge) and wait for the worker: its CPU is free again when this returns.
            // Code that never reaches a check (a compile that hangs) keeps the thread: it
            // is left detached after a grace period.
            if let Some(s) = &stop {
                s.stop();
            }
            if rx.recv_timeout(STOP_GRACE).is_ok() {
                let _ = worker.join();
            }
            let secs = limit.map_or(0, |l| l.as_secs());
            Ok(FileReport {
                path: file.display().to_string(),
                failed: 1,
                failures: vec![Failure {
                    line: 0,
                    directive: "script",
                    message: format!("timeout: the script did not finish within {secs} s"),
                }],
                ..FileReport::default()
            })
        }
        // The worker dropped the sender without sending: it panicked.
        Err(RecvTimeoutError::Disconnected) => {
            Err(anyhow!("the runner panicked on {}", file.display()))
        }
    }
}
