//! `bareflow profile`: inspect profile files written by `run --profile-out`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use bareflow::profile::{Profile, ProfileError};
use clap::Subcommand;

/// Profile subcommands.
#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Print a profile as a table, hottest function first (calls + back-edges, then time),
    /// then the hottest loops.
    Show {
        /// The profile file.
        path: PathBuf,
        /// How many loops to list (0: all).
        #[arg(long, default_value_t = 10)]
        loops: usize,
    },
}

impl ProfileCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        match self {
            ProfileCommand::Show { path, loops } => {
                let p = match Profile::load(&path) {
                    Ok(p) => p,
                    // The I/O error already names the file.
                    Err(e @ ProfileError::Io { .. }) => return Err(e.into()),
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("reading profile {}", path.display())));
                    }
                };
                print!("{}", render(&p, loops));
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// How the time column is measured (printed with the table).
pub const TIME_NOTE: &str = "time: interpreted self time (sampled), plus the time of every \
call from the interpreter into the function's compiled code, charged to that function \
(inclusive of the compiled code it calls) and to no other";

/// `name (func N)` or `func N`.
fn label(p: &Profile, idx: u32) -> String {
    match p.funcs.get(&idx).and_then(|f| f.name.as_ref()) {
        Some(n) => format!("{n} (func {idx})"),
        None => format!("func {idx}"),
    }
}

/// The `profile show` table; at most `max_loops` loops (0: all).
fn render(p: &Profile, max_loops: usize) -> String {
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
    let _ = writeln!(s, "{TIME_NOTE}");
    let loops = p.hottest_loops();
    if loops.is_empty() {
        let _ = writeln!(
            s,
            "loops: none recorded (a version 1 profile, or no loop ran)"
        );
        return s;
    }
    let shown = if max_loops == 0 {
        loops.len()
    } else {
        max_loops.min(loops.len())
    };
    let _ = writeln!(s, "hottest loops ({shown} of {}):", loops.len());
    let _ = writeln!(
        s,
        "{:>10} {:>14} {:>7}  function",
        "header", "back-edges", "share"
    );
    for l in &loops[..shown] {
        let _ = writeln!(
            s,
            "{:>10} {:>14} {:>6.1}%  {}",
            format!("0x{:x}", l.offset),
            l.back_edges,
            l.share * 100.0,
            label(p, l.func).escape_debug()
        );
    }
    let unattributed: u64 = p
        .funcs
        .keys()
        .map(|&i| p.unattributed_back_edges(i))
        .fold(0, u64::saturating_add);
    if unattributed > 0 {
        let _ = writeln!(
            s,
            "{unattributed} back-edges belong to no loop above (counted by compiled code \
             in tiered mode, which does not tell loops apart: record with `--mode interp` for \
             every loop's full count)"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use bareflow::profile::{FuncProfile, ModuleId};

    #[test]
    fn lists_the_hottest_loops_with_shares() {
        let mut p = Profile::new(ModuleId::of_bytes(b"m"), "m.wasm");
        p.runs = 1;
        p.funcs.insert(
            2,
            FuncProfile {
                name: Some("kernel".into()),
                calls: 1,
                back_edges: 1000,
                nanos: 5,
            },
        );
        p.loops.insert((2, 0x31), 750);
        p.loops.insert((2, 0x50), 200);
        let out = render(&p, 10);
        assert!(out.contains("hottest loops (2 of 2)"), "{out}");
        assert!(
            out.contains("0x31            750   75.0%  kernel (func 2)"),
            "{out}"
        );
        assert!(out.contains("50 back-edges belong to no loop"), "{out}");
        assert!(out.contains("time: interpreted self time"), "{out}");
        let one = render(&p, 1);
        assert!(
            one.contains("hottest loops (1 of 2)") && !one.contains("0x50"),
            "{one}"
        );
    }
}
