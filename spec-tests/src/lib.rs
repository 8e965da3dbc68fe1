//! Shared pieces of the spec-suite harness (`tests/spec.rs`): which files and modes run,
//! where the suite lives, and running one script on a thread with a large stack.
//!
//! The suite itself is read-only data outside the repository: `$WASM_TESTSUITE`, or
//! `../shared/wasm-testsuite` next to the workspace root.

use std::path::{Path, PathBuf};

use bareflow::internals::wast::{FileReport, RunConfig, Scope, run_file};
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
    SpecMode::checked(Mode::Snapshot), // AOT snapshot, copied and relocated by the loader
    SpecMode::guard(Mode::JitSpeed),   // guard-page memory: no explicit bounds checks
    SpecMode::guard(Mode::Snapshot),   // guard-page memory, snapshot code
    SpecMode::checked(Mode::SnapshotXip), // execute in place, code mapped read+exec
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

/// The fixed-width SIMD files (WebAssembly 2.0 `v128`), as listed in `spec-scope/simd.txt`
/// (58 files, 25,515 assertions). They run in the core scope: strictly (no failure, no
/// skip) in the modes [`bareflow::internals::wast::simd_in_mode`] accepts; elsewhere their SIMD
/// assertions are reported as skipped (feature `simd`) and nothing may fail.
pub const SIMD_FILES: &[&str] = &[
    "simd_address.wast",
    "simd_align.wast",
    "simd_bit_shift.wast",
    "simd_bitwise.wast",
    "simd_boolean.wast",
    "simd_const.wast",
    "simd_conversions.wast",
    "simd_f32x4.wast",
    "simd_f32x4_arith.wast",
    "simd_f32x4_cmp.wast",
    "simd_f32x4_pmin_pmax.wast",
    "simd_f32x4_rounding.wast",
    "simd_f64x2.wast",
    "simd_f64x2_arith.wast",
    "simd_f64x2_cmp.wast",
    "simd_f64x2_pmin_pmax.wast",
    "simd_f64x2_rounding.wast",
    "simd_i16x8_arith.wast",
    "simd_i16x8_arith2.wast",
    "simd_i16x8_cmp.wast",
    "simd_i16x8_extadd_pairwise_i8x16.wast",
    "simd_i16x8_extmul_i8x16.wast",
    "simd_i16x8_q15mulr_sat_s.wast",
    "simd_i16x8_sat_arith.wast",
    "simd_i32x4_arith.wast",
    "simd_i32x4_arith2.wast",
    "simd_i32x4_cmp.wast",
    "simd_i32x4_dot_i16x8.wast",
    "simd_i32x4_extadd_pairwise_i16x8.wast",
    "simd_i32x4_extmul_i16x8.wast",
    "simd_i32x4_trunc_sat_f32x4.wast",
    "simd_i32x4_trunc_sat_f64x2.wast",
    "simd_i64x2_arith.wast",
    "simd_i64x2_arith2.wast",
    "simd_i64x2_cmp.wast",
    "simd_i64x2_extmul_i32x4.wast",
    "simd_i8x16_arith.wast",
    "simd_i8x16_arith2.wast",
    "simd_i8x16_cmp.wast",
    "simd_i8x16_sat_arith.wast",
    "simd_int_to_int_extend.wast",
    "simd_lane.wast",
    "simd_linking.wast",
    "simd_load.wast",
    "simd_load16_lane.wast",
    "simd_load32_lane.wast",
    "simd_load64_lane.wast",
    "simd_load8_lane.wast",
    "simd_load_extend.wast",
    "simd_load_splat.wast",
    "simd_load_zero.wast",
    "simd_select.wast",
    "simd_splat.wast",
    "simd_store.wast",
    "simd_store16_lane.wast",
    "simd_store32_lane.wast",
    "simd_store64_lane.wast",
    "simd_store8_lane.wast",
];

/// The relaxed-SIMD files (WebAssembly 3.0 relaxed SIMD, in the core scope too), judged like
/// [`SIMD_FILES`].
pub const RELAXED_SIMD_FILES: &[&str] = &[
    "i16x8_relaxed_q15mulr_s.wast",
    "i32x4_relaxed_trunc.wast",
    "i8x16_relaxed_swizzle.wast",
    "relaxed_dot_product.wast",
    "relaxed_laneselect.wast",
    "relaxed_madd_nmadd.wast",
    "relaxed_min_max.wast",
];

/// Every file that uses a WebAssembly 3.0 feature, as listed in `spec-scope/wasm3.txt`
/// (127 files, 12,405 assertions). They run in the `wasm3` scope
/// ([`bareflow::internals::wast::Scope::Wasm3`]) in every mode: nothing may fail, and an assertion may
/// only be skipped for a 3.0 feature the engine does not implement yet
/// ([`WASM3_PENDING`]), never for one it does ([`WASM3_IMPLEMENTED`]).
pub const WASM3_FILES: &[&str] = &[
    "address0.wast",
    "address1.wast",
    "address64.wast",
    "align0.wast",
    "align64.wast",
    "annotations.wast",
    "array.wast",
    "array_copy.wast",
    "array_fill.wast",
    "array_init_data.wast",
    "array_init_elem.wast",
    "array_new_data.wast",
    "array_new_elem.wast",
    "binary-gc.wast",
    "binary0.wast",
    "binary_leb128_64.wast",
    "br_if.wast",
    "br_on_cast.wast",
    "br_on_cast_fail.wast",
    "br_on_non_null.wast",
    "br_on_null.wast",
    "br_table.wast",
    "bulk64.wast",
    "call_indirect64.wast",
    "call_ref.wast",
    "data.wast",
    "data0.wast",
    "data1.wast",
    "data_drop0.wast",
    "elem.wast",
    "endianness64.wast",
    "exports.wast",
    "exports0.wast",
    "extern.wast",
    "float_exprs0.wast",
    "float_exprs1.wast",
    "float_memory0.wast",
    "float_memory64.wast",
    "func.wast",
    "global.wast",
    "i16x8_relaxed_q15mulr_s.wast",
    "i31.wast",
    "i32x4_relaxed_trunc.wast",
    "i8x16_relaxed_swizzle.wast",
    "imports.wast",
    "imports0.wast",
    "imports1.wast",
    "imports2.wast",
    "imports3.wast",
    "imports4.wast",
    "instance.wast",
    "linking.wast",
    "linking0.wast",
    "linking1.wast",
    "linking2.wast",
    "linking3.wast",
    "load0.wast",
    "load1.wast",
    "load2.wast",
    "load64.wast",
    "local_init.wast",
    "local_tee.wast",
    "memory-multi.wast",
    "memory64-imports.wast",
    "memory64.wast",
    "memory_copy0.wast",
    "memory_copy1.wast",
    "memory_copy64.wast",
    "memory_fill0.wast",
    "memory_fill64.wast",
    "memory_grow.wast",
    "memory_grow64.wast",
    "memory_init0.wast",
    "memory_init64.wast",
    "memory_redundancy64.wast",
    "memory_size0.wast",
    "memory_size1.wast",
    "memory_size2.wast",
    "memory_size3.wast",
    "memory_size_import.wast",
    "memory_trap0.wast",
    "memory_trap1.wast",
    "memory_trap64.wast",
    "ref.wast",
    "ref_as_non_null.wast",
    "ref_cast.wast",
    "ref_eq.wast",
    "ref_is_null.wast",
    "ref_null.wast",
    "ref_test.wast",
    "relaxed_dot_product.wast",
    "relaxed_laneselect.wast",
    "relaxed_madd_nmadd.wast",
    "relaxed_min_max.wast",
    "return_call.wast",
    "return_call_indirect.wast",
    "return_call_ref.wast",
    "select.wast",
    "simd_memory-multi.wast",
    "start0.wast",
    "store0.wast",
    "store1.wast",
    "store2.wast",
    "struct.wast",
    "table-sub.wast",
    "table.wast",
    "table64.wast",
    "table_copy64.wast",
    "table_copy_mixed.wast",
    "table_fill64.wast",
    "table_get64.wast",
    "table_grow64.wast",
    "table_init.wast",
    "table_init64.wast",
    "table_set64.wast",
    "table_size64.wast",
    "tag.wast",
    "throw.wast",
    "throw_ref.wast",
    "traps0.wast",
    "try_table.wast",
    "type-canon.wast",
    "type-equivalence.wast",
    "type-rec.wast",
    "type-subtyping.wast",
    "unreached-invalid.wast",
    "unreached-valid.wast",
];

/// The 3.0 features the engine implements, by the names the runner gives skips: over
/// [`WASM3_FILES`] each must have 0 skips in every mode. A feature moves here from
/// [`WASM3_PENDING`] when it lands.
pub const WASM3_IMPLEMENTED: &[&str] = &[
    "relaxed-simd",
    "extended-const",
    "tail-call",
    "function-references",
    "memory64",
    "annotations",
    "multi-memory",
    "exceptions",
];

/// The 3.0 features not implemented yet: the only ones a [`WASM3_FILES`] assertion may be
/// skipped for.
pub const WASM3_PENDING: &[&str] = &["gc"];

/// The modes that run exception handling ([`bareflow::internals::wast::exceptions_in_mode`],
/// every mode since compiled code propagates exceptions): [`exceptions_verdict`] requires
/// the `exceptions` feature to have no skip there.
pub fn exceptions_strict(mode: SpecMode) -> bool {
    bareflow::internals::wast::exceptions_in_mode(mode.mode)
}

/// In a mode that runs exception handling ([`exceptions_strict`]): the file has no
/// failure and no assertion skipped for `exceptions` alone.
///
/// # Errors
/// The failures or the `exceptions` skips.
pub fn exceptions_verdict(r: &FileReport) -> Result<(), String> {
    match r.skipped_features.get("exceptions") {
        Some(n) if *n > 0 => Err(format!(
            "{}\n  {n} assertions skipped for `exceptions`, which this mode runs",
            r.summary_line()
        )),
        _ if r.failed > 0 => Err(verdict(r).err().unwrap_or_else(|| r.summary_line())),
        _ => Ok(()),
    }
}

/// The verdict on a [`WASM3_FILES`] file: no failure, and every skip is for a feature of
/// [`WASM3_PENDING`] (a skip named `a+b` needs several, each pending).
///
/// # Errors
/// The failures, or the skips for an implemented or unnamed feature.
pub fn wasm3_verdict(r: &FileReport) -> Result<(), String> {
    let bad: Vec<&String> = r
        .skipped_features
        .keys()
        .filter(|f| !f.split('+').all(|p| WASM3_PENDING.contains(&p)))
        .collect();
    if r.failed == 0 && bad.is_empty() {
        return Ok(());
    }
    let mut msg = verdict(r).err().unwrap_or_else(|| r.summary_line());
    for f in bad {
        msg.push_str(&format!(
            "\n  skipped for `{f}`, which is not a pending 3.0 feature (WASM3_PENDING)"
        ));
    }
    Err(msg)
}

/// Whether `mode` runs SIMD (so the SIMD lists are judged strictly there).
pub fn simd_strict(mode: SpecMode) -> bool {
    bareflow::internals::wast::simd_in_mode(mode.mode)
}

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
    run_script_in(path, mode, Scope::Core)
}

/// [`run_script`] in `scope`.
///
/// # Errors
/// A message if the file cannot be read or the runner thread dies.
pub fn run_script_in(path: &Path, mode: SpecMode, scope: Scope) -> Result<FileReport, String> {
    let cfg = RunConfig {
        mode: mode.mode,
        scope,
        memory: mode.memory,
        lenient_messages: false,
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

/// The `spec-scope/` directory beside the suite (file lists and their assertion counts).
pub fn scope_dir() -> PathBuf {
    suite_dir().join("../spec-scope")
}

/// The number of assertions `spec-scope/README.md` gives for a scope list (`core.txt`):
/// the `assertions` column of the list's table row.
///
/// # Errors
/// A message if the README cannot be read or has no such row.
pub fn scope_assertions(list: &str) -> Result<usize, String> {
    let path = scope_dir().join("README.md");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    scope_assertions_in(&text, list).ok_or_else(|| {
        format!(
            "{} has no table row for `{list}` with an assertion count",
            path.display()
        )
    })
}

/// [`scope_assertions`] on the README's text.
pub fn scope_assertions_in(readme: &str, list: &str) -> Option<usize> {
    let key = format!("`{list}`");
    let row = readme
        .lines()
        .find(|l| l.trim_start().starts_with('|') && l.contains(&key))?;
    // | `core.txt` | 72 | 24,578 | ...
    let cell = row.split('|').map(str::trim).nth(3)?;
    cell.replace(',', "").parse().ok()
}

/// Counts the assertion forms (`(assert_...`) of a `.wast` script by scanning its text,
/// independently of the `wast` crate and the runner: comments and strings are skipped, so
/// `module quote` text cannot add to the count. This is the count the runner's per-file
/// total is checked against: a directive the runner drops (or a parser that loses one)
/// shows up as a difference.
pub fn count_assertion_forms(script: &str) -> usize {
    let b = script.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        match b[i] {
            b';' if b.get(i + 1) == Some(&b';') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' if b.get(i + 1) == Some(&b';') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i..].starts_with(b"(;") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b";)") {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'(' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if b[i..].starts_with(b"assert_") {
                    n += 1;
                }
            }
            _ => i += 1,
        }
    }
    n
}

/// Checks a mode's per-file reports against independent counts: for every file the runner
/// must have judged exactly as many assertions as [`count_assertion_forms`] finds in its
/// text, and the total must equal the scope's figure in `spec-scope/README.md`.
///
/// # Errors
/// Every difference, one per line.
pub fn check_counts(
    expected_total: usize,
    per_file: &[(&str, usize, &FileReport)],
) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut judged = 0;
    let mut in_text = 0;
    for (file, expected, r) in per_file {
        judged += r.assertions;
        in_text += expected;
        if r.assertions != *expected {
            problems.push(format!(
                "{file}: the runner judged {} assertions, the script has {expected}",
                r.assertions
            ));
        }
    }
    if in_text != expected_total {
        problems.push(format!(
            "the scripts have {in_text} assertions, the scope file says {expected_total}"
        ));
    }
    if judged != expected_total {
        problems.push(format!(
            "{judged} assertions judged, the scope file says {expected_total}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded lists match the shared scope files; a missing scope file fails under CI
    /// (see [`bareflow::internals::ci::in_ci`]).
    #[test]
    fn core_list_matches_scope_file() {
        list_matches_scope_file("core.txt", CORE_FILES);
        list_matches_scope_file("simd.txt", SIMD_FILES);
        list_matches_scope_file("wasm3.txt", WASM3_FILES);
    }

    /// A 3.0 file passes with skips for pending features only.
    #[test]
    fn wasm3_verdict_names_features() {
        let mut r = FileReport {
            skipped: 3,
            ..FileReport::default()
        };
        r.skipped_features.insert("gc".into(), 3);
        assert_eq!(wasm3_verdict(&r), Ok(()));
        // A skip naming an implemented feature beside a pending one is refused too.
        r.skipped_features.insert("gc+multi-memory".into(), 1);
        let e = wasm3_verdict(&r).unwrap_err();
        assert!(e.contains("`gc+multi-memory`"), "{e}");
        r.skipped_features.remove("gc+multi-memory");
        r.skipped_features.insert("relaxed-simd".into(), 1);
        let e = wasm3_verdict(&r).unwrap_err();
        assert!(e.contains("`relaxed-simd`"), "{e}");
        r.skipped_features.remove("relaxed-simd");
        r.skipped_features
            .insert("feature outside scope (x)".into(), 1);
        assert!(wasm3_verdict(&r).is_err());
        r.skipped_features.remove("feature outside scope (x)");
        r.failed = 1;
        assert!(wasm3_verdict(&r).is_err());
        for f in WASM3_IMPLEMENTED {
            assert!(
                !WASM3_PENDING.contains(f),
                "{f} both implemented and pending"
            );
        }
    }

    /// Every 3.0 feature the front end accepts (`parse::WASM3_IMPLEMENTED`) is listed as
    /// implemented here, so its skips are held to 0.
    #[test]
    fn implemented_lists_agree() {
        for (name, _) in bareflow::internals::parse::WASM3_IMPLEMENTED.iter_names() {
            let name = name.to_ascii_lowercase().replace('_', "-");
            assert!(
                WASM3_IMPLEMENTED.contains(&name.as_str()),
                "parse::WASM3_IMPLEMENTED has {name}; add it to spec_tests::WASM3_IMPLEMENTED"
            );
        }
    }

    /// The relaxed-SIMD list is every `relaxed_*.wast` / `i*x*_relaxed_*.wast` file.
    #[test]
    fn relaxed_list_matches_suite() {
        let Ok(dir) = std::fs::read_dir(suite_dir()) else {
            assert!(
                !bareflow::internals::ci::in_ci(),
                "suite not readable (CI is set)"
            );
            return;
        };
        let mut found: Vec<String> = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".wast") && n.contains("relaxed_"))
            .collect();
        found.sort();
        let mut listed: Vec<String> = RELAXED_SIMD_FILES.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    fn list_matches_scope_file(list: &str, files: &[&str]) {
        let scope = scope_dir().join(list);
        let text = match std::fs::read_to_string(&scope) {
            Ok(t) => t,
            Err(e) if bareflow::internals::ci::in_ci() => {
                panic!("{} not readable (CI is set): {e}", scope.display())
            }
            Err(_) => {
                eprintln!("{} not found; list not cross-checked", scope.display());
                return;
            }
        };
        let listed: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(listed, files);
    }

    /// A runner that drops a directive is caught by the count check, whichever directive.
    #[test]
    fn dropped_directive_is_caught() {
        use bareflow::internals::wast::{Engine, RealEngine, run_script_with};
        struct Drops(usize);
        impl Engine for Drops {
            fn runs_directive(&mut self, index: usize) -> bool {
                index != self.0
            }
        }
        let script = r#"
            (module (func (export "f") (result i32) (i32.const 1)))
            (assert_return (invoke "f") (i32.const 1))
            (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
            (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
        "#;
        let cfg = RunConfig::default();
        let expected = count_assertion_forms(script);
        assert_eq!(expected, 3);
        let good = run_script_with("t.wast", script, &cfg, &mut RealEngine);
        assert_eq!(check_counts(3, &[("t.wast", expected, &good)]), Ok(()));
        for i in 1..4 {
            let r = run_script_with("t.wast", script, &cfg, &mut Drops(i));
            assert_eq!((r.failed, r.skipped), (0, 0), "dropping {i} fails nothing");
            let err = check_counts(3, &[("t.wast", expected, &r)]).unwrap_err();
            assert!(err.contains("judged 2 assertions"), "{err}");
        }
        // A scope figure that disagrees with the scripts fails too.
        assert!(check_counts(4, &[("t.wast", expected, &good)]).is_err());
    }

    #[test]
    fn scope_row_is_read() {
        let readme = "| list | files | assertions |\n|---|---|---|\n| `core.txt` | 72 | 24,578 | x |\n| `simd.txt` | 58 | 25,515 | y |";
        assert_eq!(scope_assertions_in(readme, "core.txt"), Some(24_578));
        assert_eq!(scope_assertions_in(readme, "simd.txt"), Some(25_515));
        assert_eq!(scope_assertions_in(readme, "wasm3.txt"), None);
    }

    #[test]
    fn assertion_forms_are_counted_outside_comments_and_strings() {
        let script = r#"
            (module (func))
            (assert_return (invoke "f"))
            ( assert_trap (invoke "g") "unreachable")
            ;; (assert_return (invoke "h"))
            (; (assert_invalid (; nested ;) (module) "x") ;)
            (assert_malformed (module quote "(assert_return)" "\"(assert_") "y")
            (thread $T (assert_return (invoke "f")))
        "#;
        assert_eq!(count_assertion_forms(script), 4);
    }
}
