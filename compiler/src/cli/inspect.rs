//! `bareflow inspect`: print what a snapshot holds (header, sections, exports, function
//! records), after full validation with the real loader's reader.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use runtime_loader::elf::ElfObject;
use runtime_loader::format::Snapshot;
use runtime_loader::meta_codec::decode_meta;

/// Show the contents of a snapshot.
#[derive(Args, Debug)]
pub struct InspectCommand {
    /// The snapshot file.
    file: PathBuf,
}

impl InspectCommand {
    /// Runs the command.
    pub fn execute(self) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        let bytes =
            bareflow::fsio::read_input(&self.file).with_context(|| format!("reading {path}"))?;
        let snap = Snapshot::parse(&bytes).map_err(|e| anyhow!("{path}: {e}"))?;
        let meta = decode_meta(snap.meta_bytes()).map_err(|e| anyhow!("{path}: {e}"))?;
        let obj = ElfObject::parse(snap.object_bytes()).map_err(|e| anyhow!("{path}: {e}"))?;
        println!(
            "snapshot {path}: {} bytes, isa {:?}, memory {:?}",
            bytes.len(),
            snap.isa,
            snap.memory_mode
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
        println!(
            "  metadata {} bytes, object {} bytes (code region {} bytes)",
            snap.meta_bytes().len(),
            snap.object_bytes().len(),
            obj.region_size().unwrap_or(0)
        );
        // The relocation table (section kind 6) is what a loader applies; the object's own
        // relocation entries are only its source.
        let table = match snap.relocations() {
            Ok(t) => format!("{} records", t.record_count()),
            Err(_) => "none".to_string(),
        };
        println!(
            "  relocation table {table} (object: {} relocations){}",
            obj.relocation_count(),
            if snap.flags & runtime_loader::format::flags::XIP != 0 {
                " (execute in place: code runs unchanged from the snapshot bytes)"
            } else {
                ""
            }
        );
        if let Some(p) = runtime_loader::sign::signature_parts(&bytes).ok().flatten() {
            println!(
                "  signed: ed25519, signature {}",
                bareflow::signing::to_hex(p.signature)
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
            println!("  import {:?}.{:?}: {:?}", i.module, i.name, i.kind);
        }
        for e in &meta.exports {
            println!("  export {:?}: {:?} {}", e.name, e.kind, e.index);
        }
        println!(
            "  {} function records, {} trap records",
            snap.func_record_count(),
            snap.trap_record_count()
        );
        println!(
            "  {:>6} {:>6} {:>12} {:>10} {:>6}  name",
            "func", "tier", "calls", "avg ns", "bytes"
        );
        let (mut total_calls, mut total_bytes, mut total_nanos, mut n) = (0u64, 0u64, 0u128, 0u32);
        for r in snap.func_records() {
            n += 1;
            total_calls = total_calls.saturating_add(r.calls);
            total_bytes += u64::from(r.code_size);
            total_nanos += u128::from(r.avg_nanos) * u128::from(r.calls);
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
        println!(
            "  total: {n} functions, {total_calls} calls, {:.3} ms profiled, {total_bytes} code bytes, snapshot {} bytes",
            total_nanos as f64 / 1e6,
            bytes.len()
        );
        Ok(ExitCode::SUCCESS)
    }
}
