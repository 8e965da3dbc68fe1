//! The snapshot container: a little-endian, versioned file holding module metadata, the
//! relocatable ELF object emitted by cranelift-object, per-function profile records and trap
//! records, with one CRC-32C checksum over the whole file (against accidental corruption
//! only: anyone can recompute it; signatures, `crate::sign`, are the defence against crafted
//! files). `docs/SNAPSHOT.md` has the byte layout and the trust model.
//!
//! [`Snapshot::parse`] validates everything before handing anything out: magic, version,
//! checksum, every section offset and length, every record count and string. After it
//! succeeds, the accessors cannot fail. Reading allocates nothing; the writer
//! (`SnapshotBuilder`) needs the `write` feature.

use crate::abi::TrapCode;
use crate::error::LoadError;

mod checksum;
mod cursor;
mod entry;
mod records;

pub use checksum::*;
pub use cursor::*;
pub use entry::*;
pub use records::*;

/// The four bytes every snapshot starts with.
pub const MAGIC: [u8; 4] = *b"SNAP";
/// The container version this crate reads and writes (9: every snapshot's code runs in
/// place, relocation-free: no relocation table (section kind 6 is gone), no external symbols,
/// the in-place region checked by [`Snapshot::parse`]; copying loaders copy that region;
/// 8: memory64 / table64, 64-bit limits
/// and an index-type flag in the metadata's memory and table records; 7: extended constant expressions,
/// const-expr tags 8 and 9 in the metadata; 6: the x86-64 CPU features the code
/// uses in the header flags ([`cpu`]); 5: CRC-32C
/// checksum, entry lengths and
/// type arities in the entry table; 4 introduced the relocation table; 3 the
/// flat metadata section; 2 the entry table, section kind 5; older versions are refused with
/// [`LoadError::UnsupportedVersion`]).
pub const VERSION: u16 = 9;
/// Size of the fixed header.
pub const HEADER_SIZE: usize = 32;
/// Size of one section table entry.
pub const SECTION_ENTRY_SIZE: usize = 16;
/// Byte range of the checksum field inside the header (treated as zero when hashing): the
/// CRC-32C in its first four bytes, the last four zero.
pub const CHECKSUM_RANGE: core::ops::Range<usize> = 24..32;
/// Sections start at multiples of this in files the writer produces (readers do not require it).
pub const SECTION_ALIGN: usize = 16;
/// The writer places the object section so that code which runs in place (its
/// `in_place_offset`) starts at a multiple of this in the file: one cache line, so loops sit
/// on the same line boundaries as in a copied, page-aligned code region.
pub const CODE_LINE_ALIGN: usize = 64;
/// Size of one trap record.
pub const TRAP_RECORD_SIZE: usize = 12;
/// Fixed part of a function record (the name follows).
pub const FUNC_RECORD_FIXED: usize = 32;

/// Section kinds.
pub mod section {
    /// Module metadata (`ModuleMeta` encoding). Required.
    pub const META: u32 = 1;
    /// The ELF64 relocatable object. Required.
    pub const OBJECT: u32 = 2;
    /// Function records. Optional.
    pub const FUNCS: u32 = 3;
    /// Trap records. Optional.
    pub const TRAPS: u32 = 4;
    /// The entry table ([`super::EntryTable`]). Required by the loaders; the writer derives it
    /// from the object and the metadata.
    pub const ENTRIES: u32 = 5;
    /// Largest kind this version knows (6, the relocation table of versions 4 to 8, is
    /// refused: [`crate::LoadError::BadSection`]).
    pub const MAX: u32 = 5;
}

/// Instruction set the code was compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Isa {
    /// x86-64 (System V calling convention for entry points).
    X86_64 = 1,
}

/// How compiled code checks linear-memory accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum MemoryMode {
    /// Explicit bounds checks against `MemoryDef::len`; works without an MMU.
    #[default]
    Checked = 0,
    /// Accesses rely on a reserved region with guard pages (needs an MMU and a fault handler).
    Guard = 1,
}

impl MemoryMode {
    /// Lower-case name: `checked` or `guard`.
    pub fn name(self) -> &'static str {
        match self {
            MemoryMode::Checked => "checked",
            MemoryMode::Guard => "guard",
        }
    }
}

impl core::fmt::Display for MemoryMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`MemoryMode`]'s `FromStr`: the name is neither `checked` nor `guard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownMemoryMode;

impl core::fmt::Display for UnknownMemoryMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unknown memory mode (expected checked or guard)")
    }
}

impl core::error::Error for UnknownMemoryMode {}

impl core::str::FromStr for MemoryMode {
    type Err = UnknownMemoryMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "checked" => Ok(MemoryMode::Checked),
            "guard" => Ok(MemoryMode::Guard),
            _ => Err(UnknownMemoryMode),
        }
    }
}

/// Optimization level a function was exported with (function record `tier` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CodeTier {
    /// Cranelift `opt_level=none`.
    None = 0,
    /// Cranelift `opt_level=speed` (hot functions).
    Speed = 1,
    /// Cranelift `opt_level=speed_and_size` (cold functions).
    Size = 2,
}

impl CodeTier {
    /// Decodes a record byte.
    pub fn from_u8(v: u8) -> Option<CodeTier> {
        match v {
            0 => Some(CodeTier::None),
            1 => Some(CodeTier::Speed),
            2 => Some(CodeTier::Size),
            _ => None,
        }
    }

    /// Short lower-case name (`none`, `speed`, `size`).
    pub fn name(self) -> &'static str {
        match self {
            CodeTier::None => "none",
            CodeTier::Speed => "speed",
            CodeTier::Size => "size",
        }
    }
}

/// Header flag bits (offset 12). Unknown bits are rejected.
pub mod flags {
    /// Execute in place: the object has no relocations and exactly one loaded section, so
    /// its code runs from the snapshot bytes unchanged. Every snapshot of version 9 has it
    /// (set by the compiler; `--xip` now only adds SSSE3 and SSE4.1).
    pub const XIP: u32 = 1;
    /// The code uses SSE4.1 (`roundss`/`roundsd` instead of rounding libcalls); the loader
    /// refuses it on a CPU without SSE4.1.
    pub const SSE41: u32 = 2;
    /// Signed: an Ed25519 signature trailer follows the container (`crate::sign`).
    pub const SIGNED: u32 = 4;
    /// The code charges fuel at function entries and loop back-edges
    /// (`bareflow compile --fuel`; docs/ABI.md, "Bounded execution").
    pub const FUEL: u32 = 8;
    /// The code checks the interrupt flag at the same points (`--interruptible`).
    pub const INTERRUPT: u32 = 16;
    /// Every bit this version knows.
    pub const KNOWN: u32 = XIP | SIGNED | FUEL | INTERRUPT | super::cpu::ALL;
}

/// The x86-64 CPU features a snapshot's code was compiled to use, as header flag bits
/// (baseline x86-64 is SSE2: no bit). The loaders compare them with the host's (`cpuid`,
/// `runtime_loader::loader::host_cpu_features`) before mapping any code and refuse a
/// snapshot that needs a feature the host lacks (`LoadError::MissingSse41`, `MissingAvx2`, ...:
/// one variant per feature, naming it).
pub mod cpu;

/// A validated snapshot borrowing the file's bytes.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    /// Instruction set of the code.
    pub isa: Isa,
    /// Memory mode the code was compiled for.
    pub memory_mode: MemoryMode,
    /// log2 of the wasm page size (16).
    pub page_size_log2: u8,
    /// Header flags ([`flags`]).
    pub flags: u32,
    meta: &'a [u8],
    object: &'a [u8],
    funcs: &'a [u8],
    func_count: u32,
    traps: &'a [u8],
    trap_count: u32,
    entries: Option<EntryTable<'a>>,
}

impl<'a> Snapshot<'a> {
    /// Validates `file` completely and returns views of its sections.
    ///
    /// # Errors
    /// Any [`LoadError`] describing the first problem found; checks run in the order magic,
    /// version, length, checksum, header fields, section table, section contents.
    pub fn parse(file: &'a [u8]) -> Result<Self, LoadError> {
        Self::parse_with(file, true)
    }

    /// [`Snapshot::parse`] for a loader of checked-memory code that reads neither profile
    /// data nor guard-page trap sites (the C API): the same checks, except that the function
    /// records (kind 3) and trap records (kind 4) are only bounded as sections, not
    /// validated, and [`Snapshot::func_records`] / [`Snapshot::trap_records`] then yield
    /// nothing. Everything else (header, section table, metadata and object bounds,
    /// entry table and its in-place region) is validated as by [`Snapshot::parse`].
    ///
    /// # Errors
    /// As [`Snapshot::parse`].
    pub fn parse_without_records(file: &'a [u8]) -> Result<Self, LoadError> {
        Self::parse_with(file, false)
    }

    fn parse_with(file: &'a [u8], records: bool) -> Result<Self, LoadError> {
        // Signed snapshots: validate the container, not the signature trailer after it.
        let file = crate::sign::container(file)?;
        if file.get(..4) != Some(&MAGIC[..]) {
            return Err(LoadError::BadMagic);
        }
        if file.len() >= 6 && le(file, 4, 2) != u64::from(VERSION) {
            return Err(LoadError::UnsupportedVersion);
        }
        let Some(h) = file.first_chunk::<HEADER_SIZE>() else {
            return Err(LoadError::Truncated);
        };
        let (isa, memory_mode, page_size_log2, reserved8) = (h[6], h[7], h[8], h[9]);
        let section_count = le(h, 10, 2);
        let flag_bits = le(h, 12, 4) as u32;
        let file_len = le(h, 16, 8);
        let checksum = le(h, 24, 8);
        if file_len != file.len() as u64 {
            return Err(if file_len > file.len() as u64 {
                LoadError::Truncated
            } else {
                LoadError::BadHeader
            });
        }
        if file_checksum(file) != Some(checksum) {
            return Err(LoadError::BadChecksum);
        }
        if reserved8 != 0 || flag_bits & !flags::KNOWN != 0 || page_size_log2 != 16 {
            return Err(LoadError::BadHeader);
        }
        let isa = match isa {
            1 => Isa::X86_64,
            _ => return Err(LoadError::UnsupportedIsa),
        };
        let memory_mode = match memory_mode {
            0 => MemoryMode::Checked,
            1 => MemoryMode::Guard,
            _ => return Err(LoadError::UnsupportedMemoryMode),
        };

        let table_end = (section_count as usize)
            .checked_mul(SECTION_ENTRY_SIZE)
            .and_then(|n| n.checked_add(HEADER_SIZE))
            .ok_or(LoadError::BadOffset)?;
        if table_end > file.len() {
            return Err(LoadError::Truncated);
        }
        // (start, end) per kind; (0, 0) for an absent one: a present section starts at
        // `table_end` or later (> 0), and an empty range overlaps nothing.
        let mut found = [(0usize, 0usize); section::MAX as usize];
        for e in (HEADER_SIZE..table_end).step_by(SECTION_ENTRY_SIZE) {
            let kind = le(file, e, 4);
            let offset = le(file, e + 4, 4) as usize;
            let len = le(file, e + 8, 4) as usize;
            if le(file, e + 12, 4) != 0 {
                return Err(LoadError::BadSection);
            }
            let slot = kind
                .checked_sub(1)
                .and_then(|k| found.get_mut(k as usize))
                .ok_or(LoadError::BadSection)?;
            if slot.0 != 0 {
                return Err(LoadError::BadSection);
            }
            let end = offset.checked_add(len).ok_or(LoadError::BadOffset)?;
            if offset < table_end || end > file.len() {
                return Err(LoadError::BadOffset);
            }
            *slot = (offset, end);
        }
        // Sections may not overlap one another.
        for (i, a) in found.iter().enumerate() {
            for b in found.iter().skip(i + 1) {
                if a.0 < b.1 && b.0 < a.1 {
                    return Err(LoadError::BadSection);
                }
            }
        }
        let get = |kind: u32| -> Option<&'a [u8]> {
            let (s, e) = found[kind as usize - 1];
            if s == 0 { None } else { file.get(s..e) }
        };
        let meta = get(section::META).ok_or(LoadError::MissingSection)?;
        let object = get(section::OBJECT).ok_or(LoadError::MissingSection)?;
        let funcs = get(section::FUNCS).unwrap_or(&[]);
        let traps = get(section::TRAPS).unwrap_or(&[]);

        let (funcs, func_count) = if records {
            Self::check_funcs(funcs)?
        } else {
            (&[][..], 0)
        };
        let (traps, trap_count) = if records {
            Self::check_traps(traps)?
        } else {
            (&[][..], 0)
        };
        let entries = match get(section::ENTRIES) {
            Some(e) => {
                let e = EntryTable::parse(e, object.len())?;
                // The code region lies in the object's one loaded section, in place
                // (copying loaders copy exactly it).
                e.check_in_place(object)?;
                Some(e)
            }
            None => None,
        };
        let snap = Snapshot {
            isa,
            memory_mode,
            page_size_log2,
            flags: flag_bits,
            meta,
            object,
            funcs,
            func_count,
            traps,
            trap_count,
            entries,
        };
        Ok(snap)
    }

    /// The entry table, if the snapshot has one (every snapshot this crate writes does).
    pub fn entries(&self) -> Option<EntryTable<'a>> {
        self.entries
    }

    #[inline(never)]
    fn check_funcs(s: &'a [u8]) -> Result<(&'a [u8], u32), LoadError> {
        if s.is_empty() {
            return Ok((s, 0));
        }
        let mut c = Cursor::new(s);
        let count = c.u32()?;
        // Each record is at least FUNC_RECORD_FIXED bytes: reject absurd counts early.
        if (count as usize).checked_mul(FUNC_RECORD_FIXED) > Some(c.remaining()) {
            return Err(LoadError::BadRecord);
        }
        let body = c.take(c.remaining())?;
        let mut r = Cursor::new(body);
        for _ in 0..count {
            FuncRecord::read(&mut r).map_err(|e| match e {
                LoadError::Truncated => LoadError::BadRecord,
                e => e,
            })?;
        }
        if r.remaining() != 0 {
            return Err(LoadError::BadRecord);
        }
        Ok((body, count))
    }

    fn check_traps(s: &'a [u8]) -> Result<(&'a [u8], u32), LoadError> {
        if s.is_empty() {
            return Ok((s, 0));
        }
        let mut c = Cursor::new(s);
        let count = c.u32()?;
        let body = c.take(c.remaining())?;
        if (count as usize).checked_mul(TRAP_RECORD_SIZE) != Some(body.len()) {
            return Err(LoadError::BadRecord);
        }
        let mut r = Cursor::new(body);
        for _ in 0..count {
            TrapRecord::read(&mut r)?;
        }
        Ok((body, count))
    }

    /// The module metadata bytes (see `ModuleMeta` decoding).
    pub fn meta_bytes(&self) -> &'a [u8] {
        self.meta
    }

    /// The ELF object bytes.
    pub fn object_bytes(&self) -> &'a [u8] {
        self.object
    }

    /// Number of function records.
    pub fn func_record_count(&self) -> u32 {
        self.func_count
    }

    /// The function records (validated by [`Snapshot::parse`]).
    pub fn func_records(&self) -> impl Iterator<Item = FuncRecord<'a>> + 'a {
        let mut c = Cursor::new(self.funcs);
        (0..self.func_count).map_while(move |_| FuncRecord::read(&mut c).ok())
    }

    /// Number of trap records.
    pub fn trap_record_count(&self) -> u32 {
        self.trap_count
    }

    /// The trap records (validated by [`Snapshot::parse`]).
    pub fn trap_records(&self) -> impl Iterator<Item = TrapRecord> + 'a {
        let mut c = Cursor::new(self.traps);
        (0..self.trap_count).map_while(move |_| TrapRecord::read(&mut c).ok())
    }
}

#[cfg(all(feature = "write", test))]
pub(crate) use writer::entry_symbol;
#[cfg(feature = "write")]
pub use writer::{SnapshotBuilder, entry_table};

#[cfg(feature = "write")]
mod writer;

#[cfg(all(test, feature = "write"))]
mod tests;
