//! `bareflow inspect`: print what a snapshot holds (header, sections, imports and exports
//! with their types, a summary of the function records; every record with `--functions`),
//! after full validation with the real loader's reader.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use runtime_loader::elf::ElfObject;
use runtime_loader::format::{Isa, MemoryMode, Snapshot};
use runtime_loader::meta::{ExportKind, GlobalType, ImportKind, Limits, MemoryType, TableType};
use runtime_loader::meta_codec::decode_meta;

/// Show the contents of a snapshot.
///
/// Prints the header, the sections, every import and export with its type and a summary
/// of the function records. The call counts are those of the profile the snapshot was
/// compiled with (`compile --profile`), so the total agrees with `profile show` for the
/// functions the snapshot kept; the time is the records' per-call mean times their calls
/// (the snapshot stores the mean, in whole nanoseconds, not the profile's total).
#[derive(Args, Debug)]
pub struct InspectCommand {
    /// The snapshot file.
    file: PathBuf,
    /// Also print the table of function records (index, tier, calls, mean time, size).
    #[arg(long)]
    functions: bool,
}

impl InspectCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        let bytes = bareflow::internals::fsio::read_input(&self.file)
            .with_context(|| format!("reading {path}"))?;
        let snap = Snapshot::parse(&bytes).map_err(|e| anyhow!("{path}: {e}"))?;
        let meta = decode_meta(snap.meta_bytes()).map_err(|e| anyhow!("{path}: {e}"))?;
        let obj = ElfObject::parse(snap.object_bytes()).map_err(|e| anyhow!("{path}: {e}"))?;
        let isa = match snap.isa {
            Isa::X86_64 => "x86-64",
        };
        let memory = match snap.memory_mode {
            MemoryMode::Checked => "checked (explicit bounds checks)",
            MemoryMode::Guard => "guard (guard pages, needs the fault handler)",
        };
        println!(
            "snapshot {path}: {} bytes, isa {isa}, memory {memory}",
            bytes.len()
        );
        // The CPU features the code needs (docs/SNAPSHOT.md, "CPU features").
        let features: Vec<&str> = runtime_loader::format::cpu::CRANELIFT_FLAGS
            .iter()
            .filter(|(bit, _)| snap.flags & bit != 0)
            .map(|(_, name)| name.trim_start_matches("has_"))
            .collect();
        println!(
            "  cpu features: {}",
            if features.is_empty() {
                "baseline (sse2)".to_string()
            } else {
                features.join(" ")
            }
        );
        // Bounded execution (docs/ABI.md): which checks the code carries.
        {
            use runtime_loader::format::flags::{FUEL, INTERRUPT};
            let checks: Vec<&str> = [(FUEL, "fuel"), (INTERRUPT, "interrupt")]
                .iter()
                .filter(|(bit, _)| snap.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            println!(
                "  bounded execution: {}",
                if checks.is_empty() {
                    "none (no fuel or interrupt checks)".to_string()
                } else {
                    checks.join(", ") + " checks"
                }
            );
        }
        println!(
            "  metadata {} bytes, object {} bytes (code region {} bytes)",
            snap.meta_bytes().len(),
            snap.object_bytes().len(),
            obj.region_size().unwrap_or(0)
        );
        // Format v9: nothing to relocate. The code runs in place or is copied unchanged; the
        // helpers baseline code calls (float rounding, `pshufb`) are compiled into it.
        println!(
            "  relocations: {} in the object, none to apply (code runs unchanged from the \
             snapshot bytes, or copied as is)",
            obj.relocation_count()
        );
        let helpers: Vec<&str> = obj
            .defined_symbols()
            .map(|(name, _)| name)
            .filter(|n| !n.is_empty() && !n.starts_with("bf_"))
            .collect();
        if !helpers.is_empty() {
            println!("  helpers compiled in: {}", helpers.join(", "));
        }
        if let Some(p) = runtime_loader::sign::signature_parts(&bytes).ok().flatten() {
            println!(
                "  signed: ed25519, signature {}",
                bareflow::internals::signing::to_hex(p.signature)
            );
        }
        println!(
            "  {} types, {} imports, {} functions ({} imported), {} exports",
            meta.types.len(),
            meta.imports.len(),
            meta.funcs.len(),
            meta.num_imported_funcs,
            meta.exports.len()
        );
        for i in &meta.imports {
            let ty = match &i.kind {
                ImportKind::Func(t) => match meta.types.get(*t as usize) {
                    Some(ft) => format!("func {ft}"),
                    None => format!("func (type {t} out of range)"),
                },
                ImportKind::Memory(m) => format!("memory {}", memory_type(m)),
                ImportKind::Table(t) => format!("table {}", table_type(t)),
                ImportKind::Global(g) => format!("global {}", global_type(g)),
            };
            println!("  import {:?} {:?}: {ty}", i.module, i.name);
        }
        for e in &meta.exports {
            let i = e.index;
            let ty = match e.kind {
                ExportKind::Func => match meta.func_type(i) {
                    Some(ft) => format!("func {i} {ft}"),
                    None => format!("func {i}"),
                },
                ExportKind::Memory => match meta.memories.get(i as usize) {
                    Some(m) => format!("memory {i} {}", memory_type(m)),
                    None => format!("memory {i}"),
                },
                ExportKind::Table => match meta.tables.get(i as usize) {
                    Some(t) => format!("table {i} {}", table_type(t)),
                    None => format!("table {i}"),
                },
                ExportKind::Global => match meta.global_types.get(i as usize) {
                    Some(g) => format!("global {i} {}", global_type(g)),
                    None => format!("global {i}"),
                },
            };
            println!("  export {:?}: {ty}", e.name);
        }
        println!(
            "  {} function records, {} trap records",
            snap.func_record_count(),
            snap.trap_record_count()
        );
        if self.functions {
            println!(
                "  {:>6} {:>6} {:>12} {:>10} {:>6}  name",
                "func", "tier", "calls", "avg ns", "bytes"
            );
        }
        let (mut total_calls, mut total_bytes, mut total_nanos, mut n) = (0u64, 0u64, 0u128, 0u32);
        for r in snap.func_records() {
            n += 1;
            total_calls = total_calls.saturating_add(r.calls);
            total_bytes += u64::from(r.code_size);
            total_nanos += u128::from(r.avg_nanos) * u128::from(r.calls);
            if self.functions {
                println!(
                    "  {:>6} {:>6} {:>12} {:>10} {:>6}  {}",
                    r.func_index,
                    r.tier.name(),
                    r.calls,
                    r.avg_nanos,
                    r.code_size,
                    if r.name.is_empty() { "-" } else { r.name }
                );
            }
        }
        println!(
            "  total: {n} functions, {total_calls} calls, about {:.3} ms profiled (calls x mean \
             ns), {total_bytes} code bytes, snapshot {} bytes{}",
            total_nanos as f64 / 1e6,
            bytes.len(),
            if self.functions {
                ""
            } else {
                " (per-function table: --functions)"
            }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// `1 page` / `2 pages` / `1..16 pages` / `1.. pages` (no maximum); `unit` is plural.
fn limits(l: &Limits, unit: &str) -> String {
    match l.max {
        Some(1) if l.min == 1 => format!("1 {}", unit.trim_end_matches('s')),
        Some(max) if max == l.min => format!("{} {unit}", l.min),
        Some(max) => format!("{}..{max} {unit}", l.min),
        None => format!("{}.. {unit}", l.min),
    }
}

/// `i64 ` for a memory64 memory / table64 table (their index type), else nothing.
fn index_type(index64: bool) -> &'static str {
    if index64 { "i64 " } else { "" }
}

fn memory_type(m: &MemoryType) -> String {
    format!("{}{}", index_type(m.index64), limits(&m.limits, "pages"))
}

fn table_type(t: &TableType) -> String {
    format!(
        "{} {}{}",
        t.elem,
        index_type(t.index64),
        limits(&t.limits, "elements")
    )
}

fn global_type(g: &GlobalType) -> String {
    if g.mutable {
        format!("mut {}", g.ty)
    } else {
        g.ty.to_string()
    }
}
