//! `bareflow profile`: inspect profile files written by `run --profile-out`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use bareflow::profile::{Profile, ProfileError};
use clap::Subcommand;

/// Profile subcommands.
#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Print a profile as a table, hottest function first (calls + back-edges, then time).
    Show {
        /// The profile file.
        path: PathBuf,
    },
}

impl ProfileCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        match self {
            ProfileCommand::Show { path } => {
                let p = match Profile::load(&path) {
                    Ok(p) => p,
                    // The I/O error already names the file.
                    Err(e @ ProfileError::Io { .. }) => return Err(e.into()),
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("reading profile {}", path.display())));
                    }
                };
                print!("{}", render(&p));
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// The `profile show` table.
fn render(p: &Profile) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "module: {} [{}]", p.path, p.module);
    let _ = writeln!(s, "runs:   {}", p.runs);
    let _ = writeln!(
        s,
        "{:>5} {:>14} {:>14} {:>12}  function",
        "index", "calls", "back-edges", "time (ms)"
    );
    for (idx, f) in p.by_hotness() {
        let name = match &f.name {
            Some(n) => format!("{n} (func {idx})"),
            None => format!("func {idx}"),
        };
        let _ = writeln!(
            s,
            "{:>5} {:>14} {:>14} {:>12.3}  {}",
            idx,
            f.calls,
            f.back_edges,
            f.nanos as f64 / 1e6,
            name.escape_debug()
        );
    }
    s
}
