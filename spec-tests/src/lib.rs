//! Shared pieces of the spec-suite harness (`tests/spec.rs`): which files and modes run,
//! where the suite lives, and running one script on a thread with a large stack.
//!
//! The suite itself is read-only data outside the repository: `$WASM_TESTSUITE`, or
//! `../shared/wasm-testsuite` next to the workspace root.

use std::path::{Path, PathBuf};

use bareflow::wast::{FileReport, RunConfig, Scope, run_file};
use bareflow::{MemoryMode, Mode};

/// An execution mode plus the memory mode of its compiled code, as the suite runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecMode {
    /// Execution mode.
    pub mode: Mode,
    /// Memory mode (checked bounds or guard pages).
    pub memory: MemoryMode,
}

impl SpecMode {
    const fn checked(mode: Mode) -> SpecMode {
        SpecMode {
            mode,
            memory: MemoryMode::Checked,
        }
    }

    const fn guard(mode: Mode) -> SpecMode {
        SpecMode {
            mode,
            memory: MemoryMode::Guard,
        }
    }
}

impl std::fmt::Display for SpecMode {
    /// The mode's name, with `-guard` appended in guard memory mode (`jit-speed-guard`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.memory {
            MemoryMode::Checked => write!(f, "{}", self.mode),
            MemoryMode::Guard => write!(f, "{}-guard", self.mode),
        }
    }
}

/// Every execution mode the spec suite runs in. Adding a mode is one line here.
pub const MODES: &[SpecMode] = &[
    SpecMode::checked(Mode::Interp),
    SpecMode::checked(Mode::JitNone),
    SpecMode::checked(Mode::JitSpeed),
    SpecMode::checked(Mode::Tiered),
    SpecMode::checked(Mode::Snapshot),    // H5 hook
    SpecMode::guard(Mode::JitSpeed),      // H9: guard-page memory
    SpecMode::guard(Mode::Snapshot),      // H9: guard-page memory
    SpecMode::checked(Mode::SnapshotXip), // issue 7: execute in place, code mapped read+exec
];

/// The in-scope files (WebAssembly 1.0 + 2.0 without SIMD), as listed in
/// `spec-scope/core.txt` next to the suite (24,578 assertions).
pub const CORE_FILES: &[&str] = &[
    "address.wast",
    "align.wast",
    "binary-leb128.wast",
    "binary.wast",
    "block.wast",
    "br.wast",
    "bulk.wast",
    "call.wast",
    "call_indirect.wast",
    "comments.wast",
    "const.wast",
    "conversions.wast",
    "custom.wast",
    "endianness.wast",
    "f32.wast",
    "f32_bitwise.wast",
    "f32_cmp.wast",
    "f64.wast",
    "f64_bitwise.wast",
    "f64_cmp.wast",
    "fac.wast",
    "float_exprs.wast",
    "float_literals.wast",
    "float_memory.wast",
    "float_misc.wast",
    "forward.wast",
    "func_ptrs.wast",
    "i32.wast",
    "i64.wast",
    "id.wast",
    "if.wast",
    "inline-module.wast",
    "int_exprs.wast",
    "int_literals.wast",
    "labels.wast",
    "left-to-right.wast",
    "load.wast",
    "local_get.wast",
    "local_set.wast",
    "loop.wast",
    "memory.wast",
    "memory_copy.wast",
    "memory_fill.wast",
    "memory_init.wast",
    "memory_redundancy.wast",
    "memory_size.wast",
    "memory_trap.wast",
    "names.wast",
    "nop.wast",
    "obsolete-keywords.wast",
    "ref_func.wast",
    "return.wast",
    "skip-stack-guard-page.wast",
    "stack.wast",
    "start.wast",
    "store.wast",
    "switch.wast",
    "table_copy.wast",
    "table_fill.wast",
    "table_get.wast",
    "table_grow.wast",
    "table_set.wast",
    "table_size.wast",
    "token.wast",
    "traps.wast",
    "type.wast",
    "unreachable.wast",
    "unwind.wast",
    "utf8-custom-section-id.wast",
    "utf8-import-field.wast",
    "utf8-import-module.wast",
    "utf8-invalid-encoding.wast",
];

/// Stack of the thread a script runs on (the interpreter and the `wast` parser may recurse
/// deeply on the host stack).
const SCRIPT_STACK_BYTES: usize = 256 << 20;

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The spec suite directory: `$WASM_TESTSUITE`, else `../shared/wasm-testsuite` relative to
/// the workspace root.
pub fn suite_dir() -> PathBuf {
    let dir = match std::env::var_os("WASM_TESTSUITE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("../shared/wasm-testsuite"),
    };
    dir.canonicalize().unwrap_or(dir)
}

/// Runs one script in `mode` (core scope) on a large-stack thread.
///
/// # Errors
/// A message if the file cannot be read or the runner thread dies.
pub fn run_script(path: &Path, mode: SpecMode) -> Result<FileReport, String> {
    let cfg = RunConfig {
        mode: mode.mode,
        scope: Scope::Core,
        memory: mode.memory,
    };
    let owned = path.to_path_buf();
    let handle = std::thread::Builder::new()
        .name(format!("wast-{mode}"))
        .stack_size(SCRIPT_STACK_BYTES)
        .spawn(move || run_file(&owned, &cfg))
        .map_err(|e| format!("cannot spawn the script thread: {e}"))?;
    match handle.join() {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("the runner panicked on {}", path.display())),
    }
}

/// A trial's verdict: `Err` on any failed or skipped assertion, with the details.
///
/// # Errors
/// The failure details (first 30 failures, skipped features).
pub fn verdict(r: &FileReport) -> Result<(), String> {
    if r.failed == 0 && r.skipped == 0 {
        return Ok(());
    }
    let mut msg = r.summary_line();
    for f in r.failures.iter().take(30) {
        msg.push_str(&format!("\n  {f}"));
    }
    if r.failures.len() > 30 {
        msg.push_str(&format!("\n  ... {} more failures", r.failures.len() - 30));
    }
    Err(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list matches the shared scope file when it is present.
    #[test]
    fn core_list_matches_scope_file() {
        let scope = suite_dir().join("../spec-scope/core.txt");
        let Ok(text) = std::fs::read_to_string(&scope) else {
            eprintln!("{} not found; list not cross-checked", scope.display());
            return;
        };
        let listed: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(listed, CORE_FILES);
    }
}
