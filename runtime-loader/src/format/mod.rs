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

/// The four bytes every snapshot starts with.
pub const MAGIC: [u8; 4] = *b"SNAP";
/// The container version this crate reads and writes (6: the x86-64 CPU features the code
/// uses in the header flags ([`cpu`]) and the `__cranelift_x86_pshufb` external; 5: CRC-32C
/// checksum, entry lengths and
/// type arities in the entry table; 4 introduced the relocation table, section kind 6; 3 the
/// flat metadata section; 2 the entry table, section kind 5; older versions are refused with
/// [`LoadError::UnsupportedVersion`]).
pub const VERSION: u16 = 6;
/// Size of the fixed header.
pub const HEADER_SIZE: usize = 32;
/// Size of one section table entry.
pub const SECTION_ENTRY_SIZE: usize = 16;
/// Byte range of the checksum field inside the header (treated as zero when hashing): the
/// CRC-32C in its first four bytes, the last four zero.
pub const CHECKSUM_RANGE: core::ops::Range<usize> = 24..32;
/// Sections start at multiples of this in files the writer produces (readers do not require it).
pub const SECTION_ALIGN: usize = 16;
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
    /// The relocation table ([`super::RelocTable`]): how to build the code region from the
    /// object without parsing it. Required by the copying loaders; the writer derives it
    /// from the object.
    pub const RELOCS: u32 = 6;
    /// Largest kind this version knows.
    pub const MAX: u32 = 6;
}

/// "No entry" / "not in place" in the entry table.
pub const NO_ENTRY: u32 = u32::MAX;
/// Size of the entry table's fixed part (five `u32`s).
pub const ENTRY_TABLE_FIXED: usize = 20;

/// The entry table (section kind 5): where every entry point lies in the code region (offset
/// and length), so a loader needs no symbol lookup, each type's arity, and, for
/// execute-in-place snapshots, where the region lies in the object, so the in-place loader
/// needs no ELF parsing. Validated by [`EntryTable::parse`] (the one place both loaders
/// check it): every present entry is non-empty, inside the region and after the previous
/// one (entries lie in the region in table order and do not overlap), an absent one has
/// length 0, and an in-place region is inside the object section. [`Snapshot::parse`] then
/// checks each entry against the relocation table's copied sections.
#[derive(Clone, Copy, Debug)]
pub struct EntryTable<'a> {
    /// Byte offset of the code region inside the object section when the code runs in place
    /// unchanged (`None`: the object must be loaded and relocated).
    pub code_offset: Option<u32>,
    /// Size of the code region in bytes (`ElfObject::region_size`).
    pub code_len: u32,
    /// Alignment the region's base needs (`ElfObject::region_align`; a power of two ≤ 4096).
    pub code_align: u32,
    /// Number of defined functions.
    pub defined_funcs: u32,
    /// Number of module types.
    pub types: u32,
    /// The whole section (offsets from byte 20 on).
    raw: &'a [u8],
}

impl<'a> EntryTable<'a> {
    /// Validates an entry table section (`object_len`: the object section's length, which
    /// an in-place region must fit in).
    ///
    /// # Errors
    /// [`LoadError::BadSection`] for a malformed table, [`LoadError::BadOffset`] for an
    /// entry outside the region, empty, overlapping or out of order, or a region outside the
    /// object.
    pub fn parse(s: &'a [u8], object_len: usize) -> Result<EntryTable<'a>, LoadError> {
        let bad = LoadError::BadSection;
        let field = |i: usize| le(s, 4 * i, 4) as u32;
        let (code_offset, code_len, code_align, defined_funcs, types) =
            (field(0), field(1), field(2), field(3), field(4));
        // (offset, length) per entry, then (params, results) per type.
        let n = u64::from(defined_funcs) + 2 * u64::from(types);
        if s.len() < ENTRY_TABLE_FIXED
            || (n + u64::from(types)) * 8 != (s.len() - ENTRY_TABLE_FIXED) as u64
            || !code_align.is_power_of_two()
            || code_align > 4096
        {
            return Err(bad);
        }
        let code_offset = (code_offset != NO_ENTRY).then_some(code_offset);
        if code_offset.is_some_and(|o| u64::from(o) + u64::from(code_len) > object_len as u64) {
            return Err(LoadError::BadOffset);
        }
        let t = EntryTable {
            code_offset,
            code_len,
            code_align,
            defined_funcs,
            types,
            raw: s,
        };
        let mut end = 0u64;
        for i in 0..n as usize {
            let (off, len) = t.pair(i);
            if off == NO_ENTRY {
                if len != 0 {
                    return Err(LoadError::BadOffset);
                }
                continue;
            }
            let (off, len) = (u64::from(off), u64::from(len));
            if len == 0 || off < end || off + len > u64::from(code_len) {
                return Err(LoadError::BadOffset);
            }
            end = off + len;
        }
        Ok(t)
    }

    /// The section's bytes (to keep a copy: [`EntryTable::rebased`]).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The same table over `copy`, a byte-for-byte copy of [`EntryTable::raw`] (kept
    /// elsewhere): nothing is checked again; `None` if the length differs.
    pub fn rebased<'b>(&self, copy: &'b [u8]) -> Option<EntryTable<'b>> {
        (copy.len() == self.raw.len()).then_some(EntryTable { raw: copy, ..*self })
    }

    /// The two words of pair `i` (entries first, then arities).
    fn pair(&self, i: usize) -> (u32, u32) {
        let at = ENTRY_TABLE_FIXED + i * 8;
        (le(self.raw, at, 4) as u32, le(self.raw, at + 4, 4) as u32)
    }

    /// Entry `i` as (offset, length), if present.
    fn at(&self, i: usize) -> Option<(u32, u32)> {
        let (off, len) = self.pair(i);
        (off != NO_ENTRY).then_some((off, len))
    }

    /// Present entries in table order (ascending offsets), as (offset, length).
    pub fn present(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let n = self.defined_funcs as usize + 2 * self.types as usize;
        (0..n).filter_map(|i| self.at(i))
    }

    /// Region offset and length of defined function `d`'s native entry (`bf_f<i>`); `None`
    /// if the function has no code (dropped as unreachable) or `d` is out of range.
    pub fn native_range(&self, d: u32) -> Option<(u32, u32)> {
        if d >= self.defined_funcs {
            return None;
        }
        self.at(d as usize)
    }

    /// Region offset of defined function `d`'s native entry (see [`EntryTable::native_range`]).
    pub fn native(&self, d: u32) -> Option<u32> {
        self.native_range(d).map(|r| r.0)
    }

    /// Region offset of type `t`'s array entry (`bf_a<t>`).
    pub fn array(&self, t: u32) -> Option<u32> {
        if t >= self.types {
            return None;
        }
        self.at(self.defined_funcs as usize + t as usize)
            .map(|r| r.0)
    }

    /// Region offset of type `t`'s native→array stub for imports (`bf_s<t>`).
    pub fn import_stub(&self, t: u32) -> Option<u32> {
        if t >= self.types {
            return None;
        }
        self.at(self.defined_funcs as usize + self.types as usize + t as usize)
            .map(|r| r.0)
    }

    /// Type `t`'s (parameter count, result count), as the code was compiled for it (`None`
    /// if `t` is out of range). The loaders require it to match the metadata's type.
    pub fn arity(&self, t: u32) -> Option<(u32, u32)> {
        (t < self.types)
            .then(|| self.pair(self.defined_funcs as usize + 2 * self.types as usize + t as usize))
    }
}

/// Size of one record of the relocation table (four little-endian `u32`s).
pub const RELOC_RECORD_SIZE: usize = 16;

/// Record kinds of the relocation table. A record is `[at, kind, target, addend]`; `S` below
/// is the target's address, `A` the addend (`i32`), `P` the patched field's address
/// (region base + `at`).
pub mod reloc {
    /// Copies `addend` bytes (a `u32` length) from object offset `target` to region offset
    /// `at`.
    pub const COPY: u32 = 1;
    /// 8 bytes: `S + A`, `S` = region base + `target` (a region offset).
    pub const ABS64: u32 = 2;
    /// 4 bytes: `S + A − P` (must fit `i32`), `S` = region base + `target`.
    pub const PC32: u32 = 3;
    /// 8 bytes: `S + A`, `S` = the address of external `target` ([`EXTERNALS`]).
    pub const ABS64_EXT: u32 = 4;
    /// 4 bytes: `S + A − P` (must fit `i32`), `S` = the address of external `target`.
    pub const PC32_EXT: u32 = 5;
    /// External symbols by index: the trap trampoline (`bf_enter`, index 0), then the float
    /// rounding helpers in this order, then Cranelift's SSE2 `pshufb` fallback (see
    /// `runtime_loader::float`).
    pub const EXTERNALS: [&[u8]; 10] = [
        b"bf_enter",
        b"truncf",
        b"floorf",
        b"ceilf",
        b"nearbyintf",
        b"trunc",
        b"floor",
        b"ceil",
        b"nearbyint",
        b"__cranelift_x86_pshufb",
    ];
}

/// The relocation table (section kind 6): how to build the code region from the object
/// section without parsing it. `u32 count`, then `count` records of [`RELOC_RECORD_SIZE`]
/// bytes applied in order to a zero-filled region of the entry table's code length: copies
/// of object bytes, then patches ([`reloc`]). Every record is bounds-checked (the rules of
/// [`RelocTable::validate`]) before it is applied, so [`RelocTable::apply`] can only write
/// inside the region.
#[derive(Clone, Copy, Debug)]
pub struct RelocTable<'a> {
    raw: &'a [u8],
    code_len: usize,
}

/// The four `u32` fields of a relocation record.
fn record_fields(r: &[u8]) -> [u64; 4] {
    let w = |i: usize| le(r, 4 * i, 4);
    [w(0), w(1), w(2), w(3)]
}

impl<'a> RelocTable<'a> {
    /// A relocation table section for a code region of `code_len` bytes: its length must
    /// match its count exactly. Records are checked by [`RelocTable::validate`] (which
    /// [`Snapshot::parse`] runs) and, one by one, by [`RelocTable::apply`].
    ///
    /// # Errors
    /// [`LoadError::BadSection`] if the length does not match the count.
    pub fn new(s: &'a [u8], code_len: usize) -> Result<Self, LoadError> {
        if s.len() < 4 || (s.len() - 4) as u64 != le(s, 0, 4) * RELOC_RECORD_SIZE as u64 {
            return Err(LoadError::BadSection);
        }
        Ok(RelocTable { raw: s, code_len })
    }

    /// The section's bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Size of the code region the table builds (the entry table's code length).
    pub fn code_len(&self) -> usize {
        self.code_len
    }

    fn records(&self) -> impl Iterator<Item = [u64; 4]> + 'a {
        self.raw
            .get(4..)
            .unwrap_or(&[])
            .chunks_exact(RELOC_RECORD_SIZE)
            .map(record_fields)
    }

    /// Number of records (copies and patches).
    pub fn record_count(&self) -> usize {
        self.raw.len() / RELOC_RECORD_SIZE
    }

    /// Checks every record against `object` (the object section), so that every site and
    /// target lies inside its section and the region is no larger than the table can fill:
    ///
    /// * every record has a known kind and writes only inside the region (`at + width ≤
    ///   code length`; width 8, 4 or the copy length);
    /// * copy records come first, in ascending, non-overlapping region order, and each
    ///   copies exactly one allocated section of the ELF object (its `sh_offset` and
    ///   `sh_size`, inside the object; sections matched in header order, the object's ELF
    ///   header and section header table checked for bounds: [`elf_section_headers`]);
    /// * a patch writes inside one copied section, or (absolute kinds only: the GOT slots)
    ///   after the last one;
    /// * a region target (`ABS64`, `PC32`) lies inside a copied section or after the last
    ///   one, below the code length; an external target is in [`reloc::EXTERNALS`];
    /// * the code length is at most the copies' end rounded up to 8 plus 8 bytes per patch
    ///   written after it (so no length the file does not account for is ever allocated).
    ///
    /// Both parses ([`Snapshot::parse`], [`Snapshot::parse_without_records`]) run it before
    /// any code memory is asked for.
    ///
    /// # Errors
    /// [`LoadError::BadRelocation`] for the first bad record, [`LoadError::BadElf`] for an
    /// object without a sound ELF header, [`LoadError::BadOffset`] for a code length the
    /// table does not account for.
    #[inline(never)]
    pub fn validate(&self, object: &[u8]) -> Result<(), LoadError> {
        use reloc::*;
        let bad = Err(LoadError::BadRelocation);
        let (shoff, shnum) = elf_section_headers(object)?;
        let code_len = self.code_len as u64;
        let (mut k, mut copies, mut copies_end, mut tail) = (0u64, 0usize, 0u64, 0u64);
        // Every field is a `u32`: no sum below overflows.
        for (i, [at, kind, target, n]) in self.records().enumerate() {
            let kind = kind as u32;
            if kind == COPY {
                if copies != i || at < copies_end || at + n > code_len {
                    return bad;
                }
                loop {
                    if k >= shnum {
                        return bad;
                    }
                    let h = (shoff + 64 * k) as usize;
                    k += 1;
                    // sh_flags & SHF_ALLOC, sh_offset, sh_size
                    if le(object, h + 8, 1) & 2 != 0
                        && le(object, h + 24, 8) == target
                        && le(object, h + 32, 8) == n
                    {
                        break;
                    }
                }
                if target + n > object.len() as u64 {
                    return bad;
                }
                copies += 1;
                copies_end = at + n;
                continue;
            }
            // ABS64 and ABS64_EXT (even kinds) write 8 bytes, PC32 and PC32_EXT 4.
            let width = if kind.is_multiple_of(2) { 8 } else { 4 };
            let after = at >= copies_end;
            tail += u64::from(after);
            let site = self.in_copy(copies, at, width) || after && width == 8;
            let target_ok = if kind <= PC32 {
                self.in_copy(copies, target, 1) || (target >= copies_end && target < code_len)
            } else {
                target < EXTERNALS.len() as u64
            };
            if !(ABS64..=PC32_EXT).contains(&kind) || at + width > code_len || !site || !target_ok {
                return bad;
            }
        }
        if code_len > copies_end.next_multiple_of(8) + 8 * tail {
            return Err(LoadError::BadOffset);
        }
        Ok(())
    }

    /// Number of leading copy records (all of them, in a validated table).
    pub fn copy_count(&self) -> usize {
        self.records()
            .take_while(|r| r[1] == u64::from(reloc::COPY))
            .count()
    }

    /// Whether region bytes `[off, off + len)` lie inside one of the first `copies` records'
    /// destinations (ascending: a binary search).
    fn in_copy(&self, copies: usize, off: u64, len: u64) -> bool {
        // Field `k` of record `i`.
        let f = |i: usize, k: usize| le(self.raw, 4 + i * RELOC_RECORD_SIZE + 4 * k, 4);
        let (mut lo, mut hi) = (0usize, copies);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if f(mid, 0) <= off {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo > 0 && off + len <= f(lo - 1, 0) + f(lo - 1, 3)
    }

    /// Checks the entry table against the copied sections: every present entry lies inside
    /// one, and for an in-place region, every copy's source is where the region puts it
    /// (`code_offset + at`).
    ///
    /// # Errors
    /// [`LoadError::BadOffset`].
    pub fn check_entries(&self, e: &EntryTable<'_>) -> Result<(), LoadError> {
        let copies = self.copy_count();
        let n = e.defined_funcs as usize + 2 * e.types as usize;
        for i in 0..n {
            if let Some((off, len)) = e.at(i)
                && !self.in_copy(copies, off.into(), len.into())
            {
                return Err(LoadError::BadOffset);
            }
        }
        if let Some(o) = e.code_offset {
            for i in 0..copies {
                let f = |k: usize| le(self.raw, 4 + i * RELOC_RECORD_SIZE + 4 * k, 4);
                if f(2) != f(0) + u64::from(o) {
                    return Err(LoadError::BadOffset);
                }
            }
        }
        Ok(())
    }

    /// Builds the code region in `region` (at least the table's code length; its first byte
    /// lives at address `base`): zero-fills it, then applies every record in order, copying
    /// from `object` (the snapshot's object section), `external(i)` giving the address of
    /// external `i`. On error the region must not be executed. Whatever the table, it writes
    /// only inside `region[..code length]` and reads only inside `object`; the section rules
    /// are [`RelocTable::validate`]'s, which both parses run first.
    ///
    /// # Errors
    /// [`LoadError::CodeMemory`] if `region` is too small, [`LoadError::BadRelocation`] for
    /// a record out of bounds or of an unknown kind, [`LoadError::UndefinedSymbol`] if
    /// `external` does not know an external, [`LoadError::RelocationOverflow`] if a
    /// PC-relative value does not fit.
    pub fn apply(
        &self,
        object: &[u8],
        region: &mut [u8],
        base: u64,
        external: fn(u32) -> Option<u64>,
    ) -> Result<(), LoadError> {
        use reloc::*;
        let region = region
            .get_mut(..self.code_len)
            .ok_or(LoadError::CodeMemory)?;
        region.fill(0);
        let bad = LoadError::BadRelocation;
        for [at, kind, target, addend] in self.records() {
            let (at, kind) = (at as usize, kind as u32);
            if kind == COPY {
                let (t, n) = (target as usize, addend as usize);
                let src = object.get(t..t + n).ok_or(bad)?;
                region.get_mut(at..at + n).ok_or(bad)?.copy_from_slice(src);
                continue;
            }
            let s = match kind {
                ABS64 | PC32 => base.wrapping_add(target),
                ABS64_EXT | PC32_EXT => {
                    external(target as u32).ok_or(LoadError::UndefinedSymbol)?
                }
                _ => return Err(bad),
            };
            let v = s.wrapping_add(i64::from(addend as u32 as i32) as u64);
            let wide = kind.is_multiple_of(2);
            let dst = region
                .get_mut(at..at + if wide { 8 } else { 4 })
                .ok_or(bad)?;
            if wide {
                dst.copy_from_slice(&v.to_le_bytes());
            } else {
                // Modulo 2^64, as the CPU adds a displacement to the instruction pointer.
                let v = v.wrapping_sub(base.wrapping_add(at as u64)) as i64;
                let v = i32::try_from(v).map_err(|_| LoadError::RelocationOverflow)?;
                dst.copy_from_slice(&v.to_le_bytes());
            }
        }
        Ok(())
    }
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

/// CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`) of one nibble, for the 16-entry
/// table [`crc32c_update`] uses (64 bytes of table instead of 1 KiB: the loader is small).
const CRC32C_NIBBLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 {
                c >> 1 ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Continues a CRC-32C over `bytes` (`crc` is the running register, pre-inverted).
fn crc32c_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc ^= u32::from(b);
        crc = crc >> 4 ^ CRC32C_NIBBLE[(crc & 15) as usize];
        crc = crc >> 4 ^ CRC32C_NIBBLE[(crc & 15) as usize];
    }
    crc
}

/// CRC-32C of `bytes` (as iSCSI, ext4 and the `crc32c` crate compute it).
pub fn crc32c(bytes: &[u8]) -> u32 {
    !crc32c_update(!0, bytes)
}

/// The snapshot checksum: CRC-32C of the whole file with the 8-byte checksum field read as
/// zeros, zero-extended to the field's 64 bits. It catches accidental corruption (every
/// burst of up to 32 bits, any odd number of flipped bits, …); it is **not** a security
/// measure: anyone can recompute it, which is why the loaders check every field they can and
/// signatures (`crate::sign`) exist. `None` if `file` is shorter than the header.
pub fn file_checksum(file: &[u8]) -> Option<u64> {
    let head = file.get(..CHECKSUM_RANGE.start)?;
    let tail = file.get(CHECKSUM_RANGE.end..)?;
    let c = crc32c_update(!0, head);
    let c = crc32c_update(c, &[0u8; 8]);
    Some(u64::from(!crc32c_update(c, tail)))
}

/// Bounds of an ELF64 little-endian object's section header table: `(e_shoff, e_shnum)`
/// after checking the identification bytes (`\x7fELF`, 64-bit, little-endian, version 1),
/// `e_shentsize` = 64 and that the table lies inside `object`. The loaders parse no more of
/// the object than this ([`RelocTable::validate`] matches copy records to section headers);
/// `crate::elf` is the full parser.
///
/// # Errors
/// [`LoadError::BadElf`].
pub fn elf_section_headers(object: &[u8]) -> Result<(u64, u64), LoadError> {
    let (shoff, shnum) = (le(object, 40, 8), le(object, 60, 2));
    if object.get(..7) != Some(&[0x7f, b'E', b'L', b'F', 2, 1, 1][..])
        || le(object, 58, 2) != 64
        || shoff
            .checked_add(64 * shnum)
            .is_none_or(|end| end > object.len() as u64)
    {
        return Err(LoadError::BadElf);
    }
    Ok((shoff, shnum))
}

/// The `n`-byte (at most 8) little-endian value at `off` in `b`; bytes past the end read as 0
/// (callers check the bounds first: it never panics either way).
#[inline(never)]
fn le(b: &[u8], off: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = v << 8 | u64::from(b.get(off.wrapping_add(i)).copied().unwrap_or(0));
    }
    v
}

/// A bounds-checked little-endian cursor over untrusted bytes.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// Current position.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] if fewer than `n` bytes remain.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        let end = self.pos.checked_add(n).ok_or(LoadError::Truncated)?;
        let s = self.bytes.get(self.pos..end).ok_or(LoadError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads a `u8`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u8(&mut self) -> Result<u8, LoadError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a little-endian `u16`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u16(&mut self) -> Result<u16, LoadError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a `u32` length followed by that many bytes of UTF-8.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] or [`LoadError::BadUtf8`].
    pub fn str(&mut self) -> Result<&'a str, LoadError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        core::str::from_utf8(b).map_err(|_| LoadError::BadUtf8)
    }
}

/// One function's profile record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRecord<'a> {
    /// Function index in the module (imports count).
    pub func_index: u32,
    /// Optimization level the function was exported with.
    pub tier: CodeTier,
    /// Calls observed while profiling.
    pub calls: u64,
    /// Average time per call in nanoseconds (0 if unknown).
    pub avg_nanos: u64,
    /// Size of the function's machine code in bytes.
    pub code_size: u32,
    /// Function name (from the name section or export), may be empty.
    pub name: &'a str,
}

impl<'a> FuncRecord<'a> {
    fn read(c: &mut Cursor<'a>) -> Result<Self, LoadError> {
        let func_index = c.u32()?;
        let tier = CodeTier::from_u8(c.u8()?).ok_or(LoadError::BadRecord)?;
        if c.take(3)? != [0, 0, 0] {
            return Err(LoadError::BadRecord);
        }
        let calls = c.u64()?;
        let avg_nanos = c.u64()?;
        let code_size = c.u32()?;
        let name = c.str()?;
        Ok(FuncRecord {
            func_index,
            tier,
            calls,
            avg_nanos,
            code_size,
            name,
        })
    }
}

/// A trapping instruction inside a function: where it is and which trap it raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapRecord {
    /// Function index of the function containing the instruction.
    pub func_index: u32,
    /// Byte offset of the instruction from the function's start.
    pub offset: u32,
    /// The trap raised.
    pub code: TrapCode,
}

impl TrapRecord {
    fn read(c: &mut Cursor<'_>) -> Result<Self, LoadError> {
        let func_index = c.u32()?;
        let offset = c.u32()?;
        let code = TrapCode::from_u32(c.u32()?).ok_or(LoadError::BadRecord)?;
        Ok(TrapRecord {
            func_index,
            offset,
            code,
        })
    }
}

/// Header flag bits (offset 12). Unknown bits are rejected.
pub mod flags {
    /// Execute in place: the object has no relocations and exactly one loaded section, so
    /// its code runs from the snapshot bytes unchanged (`bareflow compile --xip`).
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
pub mod cpu {
    /// SSE4.1 (the historical flag bit: `roundss`/`roundsd`, `pshufb`-free lowerings).
    pub const SSE41: u32 = super::flags::SSE41;
    /// SSE3.
    pub const SSE3: u32 = 1 << 8;
    /// SSSE3 (`pshufb`).
    pub const SSSE3: u32 = 1 << 9;
    /// SSE4.2.
    pub const SSE42: u32 = 1 << 10;
    /// POPCNT.
    pub const POPCNT: u32 = 1 << 11;
    /// CMPXCHG16B.
    pub const CMPXCHG16B: u32 = 1 << 12;
    /// AVX (with OS support for the YMM state).
    pub const AVX: u32 = 1 << 13;
    /// AVX2.
    pub const AVX2: u32 = 1 << 14;
    /// FMA3.
    pub const FMA: u32 = 1 << 15;
    /// BMI1.
    pub const BMI1: u32 = 1 << 16;
    /// BMI2.
    pub const BMI2: u32 = 1 << 17;
    /// LZCNT.
    pub const LZCNT: u32 = 1 << 18;
    /// AVX-512 F (with OS support for the ZMM state).
    pub const AVX512F: u32 = 1 << 19;
    /// AVX-512 VL.
    pub const AVX512VL: u32 = 1 << 20;
    /// AVX-512 DQ.
    pub const AVX512DQ: u32 = 1 << 21;
    /// AVX-512 BITALG.
    pub const AVX512BITALG: u32 = 1 << 22;
    /// AVX-512 VBMI.
    pub const AVX512VBMI: u32 = 1 << 23;
    /// AVX-512 VNNI.
    pub const AVX512VNNI: u32 = 1 << 24;
    /// AVX-VNNI.
    pub const AVXVNNI: u32 = 1 << 25;
    /// Every feature bit.
    pub const ALL: u32 = SSE41 | (((1 << 26) - 1) & !((1 << 8) - 1));

    /// Each feature: its bit and the Cranelift x86-64 setting that enables it.
    pub const CRANELIFT_FLAGS: [(u32, &str); 19] = [
        (SSE3, "has_sse3"),
        (SSSE3, "has_ssse3"),
        (SSE41, "has_sse41"),
        (SSE42, "has_sse42"),
        (POPCNT, "has_popcnt"),
        (CMPXCHG16B, "has_cmpxchg16b"),
        (AVX, "has_avx"),
        (AVX2, "has_avx2"),
        (FMA, "has_fma"),
        (BMI1, "has_bmi1"),
        (BMI2, "has_bmi2"),
        (LZCNT, "has_lzcnt"),
        (AVX512F, "has_avx512f"),
        (AVX512VL, "has_avx512vl"),
        (AVX512DQ, "has_avx512dq"),
        (AVX512BITALG, "has_avx512bitalg"),
        (AVX512VBMI, "has_avx512vbmi"),
        (AVX512VNNI, "has_avx512vnni"),
        (AVXVNNI, "has_avx_vnni"),
    ];

    /// The error for missing feature bit position `bit` (`BadHeader` for a position without
    /// a feature, which the header check has already refused).
    pub fn missing(bit: u32) -> LoadError {
        MISSING
            .get(bit as usize)
            .copied()
            .unwrap_or(LoadError::BadHeader)
    }

    use crate::LoadError;
    const MISSING: [LoadError; 26] = [
        LoadError::BadHeader,
        LoadError::MissingSse41,
        LoadError::BadHeader,
        LoadError::BadHeader,
        LoadError::BadHeader,
        LoadError::BadHeader,
        LoadError::BadHeader,
        LoadError::BadHeader,
        LoadError::MissingSse3,
        LoadError::MissingSsse3,
        LoadError::MissingSse42,
        LoadError::MissingPopcnt,
        LoadError::MissingCmpxchg16b,
        LoadError::MissingAvx,
        LoadError::MissingAvx2,
        LoadError::MissingFma,
        LoadError::MissingBmi1,
        LoadError::MissingBmi2,
        LoadError::MissingLzcnt,
        LoadError::MissingAvx512f,
        LoadError::MissingAvx512vl,
        LoadError::MissingAvx512dq,
        LoadError::MissingAvx512bitalg,
        LoadError::MissingAvx512vbmi,
        LoadError::MissingAvx512vnni,
        LoadError::MissingAvxVnni,
    ];
}

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
    relocs: Option<&'a [u8]>,
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
    /// nothing. Everything else (header, section table, metadata and object bounds, entry
    /// table) is validated as by [`Snapshot::parse`].
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
        let mut found: [Option<(usize, usize)>; section::MAX as usize] =
            [None; section::MAX as usize];
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
            if slot.is_some() {
                return Err(LoadError::BadSection);
            }
            let end = offset.checked_add(len).ok_or(LoadError::BadOffset)?;
            if offset < table_end || end > file.len() {
                return Err(LoadError::BadOffset);
            }
            *slot = Some((offset, end));
        }
        // Sections may not overlap one another.
        for (i, a) in found.iter().enumerate() {
            for b in found.iter().skip(i + 1) {
                if let (Some(a), Some(b)) = (a, b)
                    && a.0 < b.1
                    && b.0 < a.1
                {
                    return Err(LoadError::BadSection);
                }
            }
        }
        let get = |kind: u32| -> Option<&'a [u8]> {
            let (s, e) = found.get(kind as usize - 1).copied().flatten()?;
            file.get(s..e)
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
                elf_section_headers(object)?;
                Some(EntryTable::parse(e, object.len())?)
            }
            None => None,
        };
        let relocs = get(section::RELOCS);
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
            relocs,
        };
        // Both parses: every relocation record and the entries against the copied sections.
        if let (Some(_), Some(e)) = (relocs, &entries) {
            let r = snap.relocations()?;
            r.validate(object)?;
            r.check_entries(e)?;
        }
        Ok(snap)
    }

    /// The entry table, if the snapshot has one (every snapshot this crate writes does).
    pub fn entries(&self) -> Option<EntryTable<'a>> {
        self.entries
    }

    /// The relocation table's raw bytes, if the snapshot has one (not validated by
    /// [`Snapshot::parse_without_records`]).
    pub fn relocs_raw(&self) -> Option<&'a [u8]> {
        self.relocs
    }

    /// The relocation table, for the entry table's code length ([`RelocTable::new`]; its
    /// records have been validated by [`Snapshot::parse`], not by
    /// [`Snapshot::parse_without_records`]: [`RelocTable::apply`] checks each anyway).
    ///
    /// # Errors
    /// [`LoadError::MissingSection`] without a relocation or entry table, else as
    /// [`RelocTable::new`].
    pub fn relocations(&self) -> Result<RelocTable<'a>, LoadError> {
        let (Some(r), Some(e)) = (self.relocs, self.entries) else {
            return Err(LoadError::MissingSection);
        };
        RelocTable::new(r, e.code_len as usize)
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
mod writer {
    use super::*;
    use alloc::vec::Vec;

    /// Assembles a snapshot file.
    #[derive(Clone, Debug)]
    pub struct SnapshotBuilder {
        isa: Isa,
        memory_mode: MemoryMode,
        flags: u32,
        meta: Vec<u8>,
        object: Vec<u8>,
        funcs: Vec<u8>,
        func_count: u32,
        traps: Vec<u8>,
        trap_count: u32,
        entries: Option<Vec<u8>>,
        relocs: Option<Vec<u8>>,
    }

    /// Decodes an entry symbol name (`bf_` + kind letter + canonical decimal index: no sign,
    /// no leading zero), as written by `loader::func_symbol` and friends. Anything else is
    /// `None`.
    pub(crate) fn entry_symbol(name: &str) -> Option<(u8, u32)> {
        let rest = name.strip_prefix("bf_")?.as_bytes();
        let (&kind, digits) = rest.split_first()?;
        if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
            return None;
        }
        let mut v: u32 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
        }
        Some((kind, v))
    }

    /// The entry table of a snapshot holding `meta` and `object`: one pass over the object's
    /// defined symbols decoding the entry names (`bf_f<i>`, `bf_a<t>`, `bf_s<t>`; the first
    /// definition wins) with their sizes, region offsets as the loader lays the object out,
    /// then every type's arity. `None` if either part does not parse, or if the entries are
    /// not laid out in table order without overlap (`EntryTable::parse` would refuse them):
    /// such a snapshot cannot load anyway.
    pub fn entry_table(meta: &[u8], object: &[u8]) -> Option<Vec<u8>> {
        let m = crate::meta_view::MetaView::parse(meta).ok()?;
        let obj = crate::elf::ElfObject::parse(object).ok()?;
        let (nimp, ndef, ntypes) = (
            m.num_imported_funcs(),
            m.num_defined_funcs() as usize,
            m.num_types() as usize,
        );
        let mut offs = alloc::vec![(NO_ENTRY, 0u32); ndef + 2 * ntypes];
        for (name, off, size) in obj.defined_symbol_ranges() {
            let i = match entry_symbol(name) {
                Some((b'f', i)) => match i.checked_sub(nimp) {
                    Some(d) if (d as usize) < ndef => d as usize,
                    _ => continue,
                },
                Some((b'a', t)) if (t as usize) < ntypes => ndef + t as usize,
                Some((b's', t)) if (t as usize) < ntypes => ndef + ntypes + t as usize,
                _ => continue,
            };
            if offs[i].0 == NO_ENTRY {
                offs[i] = (u32::try_from(off).ok()?, u32::try_from(size).ok()?);
            }
        }
        let mut out = Vec::new();
        let in_place = obj.in_place_offset().ok();
        put_u32(&mut out, in_place.map_or(NO_ENTRY, |o| o as u32));
        put_u32(&mut out, u32::try_from(obj.region_size().ok()?).ok()?);
        put_u32(&mut out, obj.region_align() as u32);
        put_u32(&mut out, ndef as u32);
        put_u32(&mut out, ntypes as u32);
        for (o, n) in offs {
            put_u32(&mut out, o);
            put_u32(&mut out, n);
        }
        for t in 0..ntypes as u32 {
            let ty = m.type_at(t);
            put_u32(&mut out, ty.params.len() as u32);
            put_u32(&mut out, ty.results.len() as u32);
        }
        EntryTable::parse(&out, object.len()).ok()?;
        Some(out)
    }

    /// Appends a little-endian `u32`.
    pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    impl SnapshotBuilder {
        /// A builder for code compiled for `isa` with `memory_mode`.
        pub fn new(isa: Isa, memory_mode: MemoryMode) -> Self {
            SnapshotBuilder {
                isa,
                memory_mode,
                flags: 0,
                meta: Vec::new(),
                object: Vec::new(),
                funcs: Vec::new(),
                func_count: 0,
                traps: Vec::new(),
                trap_count: 0,
                entries: None,
                relocs: None,
            }
        }

        /// Sets the relocation table bytes (by default [`SnapshotBuilder::finish`] derives
        /// them from the object: `ElfObject::relocation_table`).
        pub fn relocations(&mut self, bytes: Vec<u8>) -> &mut Self {
            self.relocs = Some(bytes);
            self
        }

        /// Sets the entry table bytes (by default [`entry_table`] derives them from the
        /// metadata and the object in [`SnapshotBuilder::finish`]).
        pub fn entries(&mut self, bytes: Vec<u8>) -> &mut Self {
            self.entries = Some(bytes);
            self
        }

        /// Sets the header flags ([`super::flags`]).
        pub fn flags(&mut self, flags: u32) -> &mut Self {
            self.flags = flags;
            self
        }

        /// Sets the module metadata bytes.
        pub fn meta(&mut self, bytes: Vec<u8>) -> &mut Self {
            self.meta = bytes;
            self
        }

        /// Sets the ELF object bytes.
        pub fn object(&mut self, bytes: Vec<u8>) -> &mut Self {
            self.object = bytes;
            self
        }

        /// Adds a function record.
        pub fn func_record(&mut self, r: &FuncRecord<'_>) -> &mut Self {
            let f = &mut self.funcs;
            put_u32(f, r.func_index);
            f.extend_from_slice(&[r.tier as u8, 0, 0, 0]);
            f.extend_from_slice(&r.calls.to_le_bytes());
            f.extend_from_slice(&r.avg_nanos.to_le_bytes());
            put_u32(f, r.code_size);
            let name = r.name.as_bytes();
            put_u32(f, name.len() as u32);
            f.extend_from_slice(name);
            self.func_count += 1;
            self
        }

        /// Adds a trap record.
        pub fn trap_record(&mut self, r: &TrapRecord) -> &mut Self {
            put_u32(&mut self.traps, r.func_index);
            put_u32(&mut self.traps, r.offset);
            put_u32(&mut self.traps, r.code as u32);
            self.trap_count += 1;
            self
        }

        /// Produces the file bytes (checksum filled in).
        ///
        /// # Panics
        /// If the file would exceed 4 GiB (section offsets are 32-bit).
        pub fn finish(&self) -> Vec<u8> {
            let mut sections: Vec<(u32, Vec<u8>)> = Vec::new();
            sections.push((section::META, self.meta.clone()));
            sections.push((section::OBJECT, self.object.clone()));
            if self.func_count > 0 {
                let mut s = Vec::with_capacity(4 + self.funcs.len());
                put_u32(&mut s, self.func_count);
                s.extend_from_slice(&self.funcs);
                sections.push((section::FUNCS, s));
            }
            if self.trap_count > 0 {
                let mut s = Vec::with_capacity(4 + self.traps.len());
                put_u32(&mut s, self.trap_count);
                s.extend_from_slice(&self.traps);
                sections.push((section::TRAPS, s));
            }
            let entries = self
                .entries
                .clone()
                .or_else(|| entry_table(&self.meta, &self.object));
            if let Some(e) = entries {
                sections.push((section::ENTRIES, e));
            }
            let relocs = self.relocs.clone().or_else(|| {
                let obj = crate::elf::ElfObject::parse(&self.object).ok()?;
                obj.relocation_table().ok()
            });
            if let Some(r) = relocs {
                sections.push((section::RELOCS, r));
            }
            let align = |n: usize| n.div_ceil(SECTION_ALIGN) * SECTION_ALIGN;
            let mut offset = align(HEADER_SIZE + sections.len() * SECTION_ENTRY_SIZE);
            let mut table = Vec::new();
            for (kind, body) in &sections {
                put_u32(&mut table, *kind);
                put_u32(
                    &mut table,
                    u32::try_from(offset).expect("snapshot under 4 GiB"),
                );
                put_u32(
                    &mut table,
                    u32::try_from(body.len()).expect("section under 4 GiB"),
                );
                put_u32(&mut table, 0);
                offset = align(offset + body.len());
            }
            let mut out = Vec::with_capacity(offset);
            out.extend_from_slice(&MAGIC);
            out.extend_from_slice(&VERSION.to_le_bytes());
            out.push(self.isa as u8);
            out.push(self.memory_mode as u8);
            out.push(16);
            out.push(0);
            out.extend_from_slice(&(sections.len() as u16).to_le_bytes());
            put_u32(&mut out, self.flags);
            out.extend_from_slice(&[0; 16]); // length, checksum: patched below
            out.extend_from_slice(&table);
            for (_, body) in &sections {
                out.resize(align(out.len()), 0);
                out.extend_from_slice(body);
            }
            let len = out.len() as u64;
            out[16..24].copy_from_slice(&len.to_le_bytes());
            let sum = file_checksum(&out).expect("file longer than header");
            out[CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
            out
        }
    }
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn sample() -> Vec<u8> {
        let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
        b.meta(b"meta-bytes".to_vec())
            .object(b"\x7fELF-not-really".to_vec());
        b.func_record(&FuncRecord {
            func_index: 3,
            tier: CodeTier::Speed,
            calls: 1000,
            avg_nanos: 42,
            code_size: 77,
            name: "fib",
        });
        b.func_record(&FuncRecord {
            func_index: 4,
            tier: CodeTier::Size,
            calls: 0,
            avg_nanos: 0,
            code_size: 12,
            name: "",
        });
        b.trap_record(&TrapRecord {
            func_index: 3,
            offset: 9,
            code: TrapCode::IntegerDivideByZero,
        });
        b.finish()
    }

    fn rehash(f: &mut [u8]) {
        let sum = file_checksum(f).unwrap();
        f[CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
    }

    #[test]
    fn round_trip() {
        let f = sample();
        let s = Snapshot::parse(&f).unwrap();
        assert_eq!(s.isa, Isa::X86_64);
        assert_eq!(s.memory_mode, MemoryMode::Checked);
        assert_eq!(s.meta_bytes(), b"meta-bytes");
        assert_eq!(s.object_bytes(), b"\x7fELF-not-really");
        let recs: Vec<_> = s.func_records().collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].name, "fib");
        assert_eq!(recs[0].calls, 1000);
        assert_eq!(recs[1].tier, CodeTier::Size);
        let traps: Vec<_> = s.trap_records().collect();
        assert_eq!(
            traps,
            [TrapRecord {
                func_index: 3,
                offset: 9,
                code: TrapCode::IntegerDivideByZero
            }]
        );
    }

    #[test]
    fn records_skipped_without_records() {
        let f = sample();
        let s = Snapshot::parse_without_records(&f).unwrap();
        assert_eq!(s.meta_bytes(), b"meta-bytes");
        assert_eq!(s.func_records().count(), 0);
        assert_eq!(s.trap_records().count(), 0);
        // A malformed record: refused by `parse`, not looked at by the lean parse; every
        // other check still applies.
        let pos = f.windows(3).position(|w| w == b"fib").unwrap();
        let mut g = f.clone();
        g[pos] = 0xff;
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadUtf8);
        assert!(Snapshot::parse_without_records(&g).is_ok());
        g[4] = 2;
        rehash(&mut g);
        assert_eq!(
            Snapshot::parse_without_records(&g).unwrap_err(),
            LoadError::UnsupportedVersion
        );
        for n in 0..f.len() {
            assert!(Snapshot::parse_without_records(&f[..n]).is_err());
        }
    }

    #[test]
    fn crc32c_known_values() {
        // RFC 3720 B.4 and the usual check value.
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&inc), 0x46DD_794E);
        // The high half of the header field is zero.
        assert_eq!(file_checksum(&sample()).unwrap() >> 32, 0);
    }

    #[test]
    fn every_truncation_rejected() {
        let f = sample();
        for n in 0..f.len() {
            assert!(Snapshot::parse(&f[..n]).is_err(), "length {n} accepted");
        }
    }

    #[test]
    fn every_flip_rejected() {
        let f = sample();
        for i in 0..f.len() {
            for bit in [0x01u8, 0x80] {
                let mut g = f.clone();
                g[i] ^= bit;
                assert!(Snapshot::parse(&g).is_err(), "flip at {i} accepted");
            }
        }
    }

    #[test]
    fn specific_errors() {
        let f = sample();
        let mut g = f.clone();
        g[0] = b'X';
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadMagic);
        // Versions 1 (before the entry table), 2 (LEB128 metadata), 3 (before the relocation
        // table), 4, 5 (before the CPU-feature bits) and unknown versions are refused.
        for v in [1u8, 2, 3, 4, 5, 7] {
            let mut g = f.clone();
            g[4] = v;
            rehash(&mut g);
            assert_eq!(
                Snapshot::parse(&g).unwrap_err(),
                LoadError::UnsupportedVersion
            );
        }
        let mut g = f.clone();
        g[6] = 9;
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::UnsupportedIsa);
        let mut g = f.clone();
        g[40] ^= 1;
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadChecksum);
        assert_eq!(Snapshot::parse(b"SN").unwrap_err(), LoadError::BadMagic);
        assert_eq!(Snapshot::parse(&f[..20]).unwrap_err(), LoadError::Truncated);
    }

    fn reloc_table(records: &[[u32; 4]]) -> Vec<u8> {
        let mut t = (records.len() as u32).to_le_bytes().to_vec();
        for f in records.iter().flatten() {
            t.extend_from_slice(&f.to_le_bytes());
        }
        t
    }

    fn ext(i: u32) -> Option<u64> {
        (i < 9).then(|| 0x1000 * u64::from(i + 1))
    }

    /// A minimal ELF64 object for the table checks: the 64-byte header, `payload` bytes from
    /// offset 64, then a section header table with the null header and one allocated section
    /// per `(offset, size)` in `sections`.
    fn elf(payload: &[u8], sections: &[(u64, u64)]) -> Vec<u8> {
        let mut o = alloc::vec![0u8; 64];
        o[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        o.extend_from_slice(payload);
        let shoff = o.len() as u64;
        o[40..48].copy_from_slice(&shoff.to_le_bytes());
        o[58..60].copy_from_slice(&64u16.to_le_bytes());
        o[60..62].copy_from_slice(&(sections.len() as u16 + 1).to_le_bytes());
        o.extend_from_slice(&[0; 64]);
        for &(off, size) in sections {
            let mut h = [0u8; 64];
            h[4..8].copy_from_slice(&1u32.to_le_bytes()); // PROGBITS
            h[8..16].copy_from_slice(&6u64.to_le_bytes()); // ALLOC | EXECINSTR
            h[24..32].copy_from_slice(&off.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            o.extend_from_slice(&h);
        }
        o
    }

    /// The relocation table: copies then patches, each kind computed as documented.
    #[test]
    fn relocation_table_applies() {
        use reloc::*;
        let payload: Vec<u8> = (1..=48).collect();
        let object = elf(&payload, &[(64, 12), (76, 28)]);
        let t = reloc_table(&[
            [0, COPY, 64, 12],            // region[0..12] = payload[0..12]
            [16, COPY, 76, 28],           // region[16..44] = payload[12..40]
            [16, ABS64, 8, -2i32 as u32], // base + 8 - 2
            [24, PC32, 0, -4i32 as u32],  // 0 - 4 - 24 (base cancels)
            [28, PC32_EXT, 1, 0],         // 0x2000 - (base + 28)
            [32, ABS64_EXT, 8, 5],        // 0x9000 + 5
            [48, ABS64, 20, 0],           // a GOT slot after the copies: base + 20
        ]);
        let table = RelocTable::new(&t, 56).unwrap();
        table.validate(&object).unwrap();
        assert_eq!(table.copy_count(), 2);
        let mut region = [0xAAu8; 64];
        let base = 0x1_0000u64;
        table.apply(&object, &mut region, base, ext).unwrap();
        assert_eq!(region[..12], payload[..12]);
        assert_eq!(region[12..16], [0; 4]);
        assert_eq!(region[16..24], (base + 6).to_le_bytes());
        assert_eq!(region[24..28], (-28i32).to_le_bytes());
        assert_eq!(region[28..32], (0x2000 - (base as i32 + 28)).to_le_bytes());
        assert_eq!(region[32..40], 0x9005u64.to_le_bytes());
        assert_eq!(region[40..44], payload[36..40]);
        assert_eq!(region[44..48], [0; 4]);
        assert_eq!(region[48..56], (base + 20).to_le_bytes());
        assert_eq!(
            region[56..],
            [0xAA; 8],
            "nothing written past the code length"
        );
        // A region smaller than the code length; a PC-relative value out of range.
        assert_eq!(
            table.apply(&object, &mut region[..55], base, ext),
            Err(LoadError::CodeMemory)
        );
        let far = reloc_table(&[[0, COPY, 64, 12], [0, PC32_EXT, 0, 0]]);
        let far = RelocTable::new(&far, 16).unwrap();
        assert_eq!(far.validate(&object), Ok(()));
        assert_eq!(
            far.apply(&object, &mut region, 1 << 40, ext),
            Err(LoadError::RelocationOverflow)
        );
        assert_eq!(
            far.apply(&object, &mut region, 0, |_| None),
            Err(LoadError::UndefinedSymbol)
        );
    }

    /// Every malformed record is refused by `validate`, and those out of the region also by
    /// `apply` (which checks each record before it writes anything for it); a length that
    /// disagrees with the count is refused by `new`.
    #[test]
    fn relocation_table_bounds() {
        use reloc::*;
        let object = elf(&[7u8; 32], &[(64, 16), (80, 8)]);
        let code_len = 40; // copies [0, 16) and [24, 32), GOT slot [32, 40)
        let copies = [[0, COPY, 64, 16], [24, COPY, 80, 8]];
        // (record, also refused by `apply`)
        for (bad, by_apply) in [
            ([0, 0, 0, 0], true),                // unknown kind
            ([0, 6, 0, 0], true),                // unknown kind
            ([0, COPY, 64, 41], true),           // copy past the region
            ([36, COPY, 64, 16], true),          // copy past the region
            ([32, COPY, 88, 9], true),           // copy past the object
            ([32, COPY, u32::MAX, 2], true),     // copy source far outside
            ([33, ABS64, 0, 0], true),           // field past the region
            ([37, PC32, 0, 0], true),            // field past the region
            ([u32::MAX, PC32, 0, 0], true),      // field far outside
            ([0, ABS64, 41, 0], false),          // target past the region's end
            ([0, PC32, u32::MAX, 0], false),     // target far outside
            ([0, ABS64_EXT, 10, 0], false),      // unknown external
            ([0, PC32_EXT, u32::MAX, 0], false), // unknown external
            ([38, PC32_EXT, 0, 0], true),        // field past the region
            ([14, PC32, 0, 0], false),           // site across a copied section's end
            ([18, ABS64, 0, 0], false),          // site in the gap between sections
            ([32, PC32, 0, 0], false),           // PC-relative site after the copies
            ([0, PC32, 18, 0], false),           // target in the gap between sections
            ([0, ABS64, 40, 0], false),          // target at the region's end
            ([32, COPY, 64, 8], false),          // copy after a patch
        ] {
            let t = reloc_table(&[copies[0], copies[1], [0, ABS64, 0, 0], bad]);
            let table = RelocTable::new(&t, code_len).unwrap();
            assert_eq!(
                table.validate(&object),
                Err(LoadError::BadRelocation),
                "{bad:?}"
            );
            let mut region = [0u8; 64];
            let applied = table.apply(&object, &mut region, 0x1000, ext);
            if by_apply {
                assert_eq!(applied, Err(LoadError::BadRelocation), "{bad:?}");
            }
            assert_eq!(region[code_len..], [0; 24], "{bad:?}");
        }
        // Copies: out of order, overlapping, not a section of the object, or of a non-ELF.
        for bad in [
            [[24, COPY, 80, 8], [0, COPY, 64, 16]],
            [[0, COPY, 64, 16], [12, COPY, 80, 8]],
            [[0, COPY, 65, 15], [24, COPY, 80, 8]],
            [[0, COPY, 64, 16], [24, COPY, 80, 7]],
            [[0, COPY, 80, 8], [24, COPY, 64, 16]],
        ] {
            let t = reloc_table(&bad);
            let table = RelocTable::new(&t, code_len).unwrap();
            assert_eq!(
                table.validate(&object),
                Err(LoadError::BadRelocation),
                "{bad:?}"
            );
        }
        let t = reloc_table(&copies);
        let table = RelocTable::new(&t, code_len).unwrap();
        assert_eq!(table.validate(&object[1..]), Err(LoadError::BadElf));
        assert_eq!(table.validate(&[0x7f; 16]), Err(LoadError::BadElf));
        let mut cut = object.clone();
        cut.truncate(object.len() - 1);
        assert_eq!(table.validate(&cut), Err(LoadError::BadElf));
        // The code length: at most the copies' end (8-aligned) plus 8 per patch after them.
        assert_eq!(RelocTable::new(&t, 32).unwrap().validate(&object), Ok(()));
        for len in [33, 40, u32::MAX as usize] {
            assert_eq!(
                RelocTable::new(&t, len).unwrap().validate(&object),
                Err(LoadError::BadOffset),
                "{len}"
            );
        }
        let got = reloc_table(&[copies[0], copies[1], [32, ABS64_EXT, 1, 0]]);
        assert_eq!(RelocTable::new(&got, 40).unwrap().validate(&object), Ok(()));
        assert_eq!(
            RelocTable::new(&got, 41).unwrap().validate(&object),
            Err(LoadError::BadOffset)
        );
        // Records at the limits are fine: a copy filling its section, a target at the start
        // of the GOT, a patch at the end of a section.
        let t = reloc_table(&[
            copies[0],
            copies[1],
            [28, PC32, 32, 0],
            [12, PC32_EXT, 8, 0],
            [32, ABS64, 0, 0],
        ]);
        let table = RelocTable::new(&t, code_len).unwrap();
        assert_eq!(table.validate(&object), Ok(()));
        let mut region = [0u8; 40];
        assert_eq!(table.apply(&object, &mut region, 0x1000, ext), Ok(()));
        // The length must match the count exactly.
        let t = reloc_table(&[[0, COPY, 0, 1]]);
        for len in [0, 3, 19, 21] {
            let mut u = t.clone();
            u.resize(len, 0);
            assert_eq!(
                RelocTable::new(&u, 8).err(),
                Some(LoadError::BadSection),
                "{len}"
            );
        }
        let mut u = t.clone();
        u[0] = 2;
        assert_eq!(RelocTable::new(&u, 8).err(), Some(LoadError::BadSection));
        assert!(RelocTable::new(&reloc_table(&[]), 0).is_ok());
    }

    /// An entry table with one function and one type (entries `(offset, length)`, arity
    /// `(1, 1)`) over a code region of `code_len` bytes.
    fn entries(code_offset: u32, code_len: u32, offs: &[(u32, u32)]) -> Vec<u8> {
        let mut e = Vec::new();
        for v in [code_offset, code_len, 8, 1, 1] {
            writer::put_u32(&mut e, v);
        }
        for &(o, n) in offs {
            writer::put_u32(&mut e, o);
            writer::put_u32(&mut e, n);
        }
        writer::put_u32(&mut e, 1);
        writer::put_u32(&mut e, 1);
        e
    }

    /// `Snapshot::parse` (and the lean parse) validates the relocation table against the
    /// object and the entry table's code length, and the entries against the copies.
    #[test]
    fn relocation_table_in_snapshot() {
        let object = elf(&[1; 8], &[(64, 8)]);
        let snap = |relocs: Vec<u8>, e: Vec<u8>| {
            let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
            b.meta(b"m".to_vec())
                .object(object.clone())
                .entries(e)
                .relocations(relocs);
            b.finish()
        };
        let e = entries(NO_ENTRY, 16, &[(8, 4), (12, 4), (NO_ENTRY, 0)]);
        let good = snap(reloc_table(&[[8, reloc::COPY, 64, 8]]), e.clone());
        let s = Snapshot::parse(&good).unwrap();
        let mut region = [0u8; 16];
        s.relocations()
            .unwrap()
            .apply(s.object_bytes(), &mut region, 0, ext)
            .unwrap();
        assert_eq!(region, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
        for bad in [
            [8, reloc::COPY, 65, 7],
            [9, reloc::COPY, 64, 8],
            [0, 9, 0, 0],
        ] {
            let f = snap(reloc_table(&[bad]), e.clone());
            assert_eq!(Snapshot::parse(&f).err(), Some(LoadError::BadRelocation));
            assert_eq!(
                Snapshot::parse_without_records(&f).err(),
                Some(LoadError::BadRelocation)
            );
        }
        // An entry outside the copied section (the zero-filled start of the region).
        let f = snap(
            reloc_table(&[[8, reloc::COPY, 64, 8]]),
            entries(NO_ENTRY, 16, &[(4, 4), (12, 4), (NO_ENTRY, 0)]),
        );
        assert_eq!(Snapshot::parse(&f).err(), Some(LoadError::BadOffset));
        // In place: the copy's source must be where the region puts it.
        let in_place = |off| {
            snap(
                reloc_table(&[[0, reloc::COPY, 64, 8]]),
                entries(off, 8, &[(0, 4), (4, 4), (NO_ENTRY, 0)]),
            )
        };
        assert!(Snapshot::parse(&in_place(64)).is_ok());
        assert_eq!(
            Snapshot::parse(&in_place(65)).err(),
            Some(LoadError::BadOffset)
        );
        assert_eq!(
            Snapshot::parse(&in_place(63)).err(),
            Some(LoadError::BadOffset)
        );
        let f = snap(alloc::vec![1, 0, 0, 0], e.clone());
        assert_eq!(Snapshot::parse(&f).err(), Some(LoadError::BadSection));
        assert_eq!(
            Snapshot::parse_without_records(&f).err(),
            Some(LoadError::BadSection)
        );
        // Without the section: `relocations` reports it missing.
        let f = sample();
        let s = Snapshot::parse(&f).unwrap();
        assert_eq!(s.relocations().err(), Some(LoadError::MissingSection));
    }

    /// The entry table is validated structurally: lengths agree with the counts, entries
    /// lie inside the code region in table order without overlap, an in-place region inside
    /// the object, the object has a sound ELF header.
    #[test]
    fn entry_table_validated() {
        let table = |fields: [u32; 5], offs: &[u32]| {
            let mut e = Vec::new();
            for v in fields.iter().chain(offs) {
                writer::put_u32(&mut e, *v);
            }
            let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
            b.meta(b"m".to_vec()).object(elf(&[0; 48], &[])).entries(e);
            let f = b.finish();
            Snapshot::parse(&f).map(|s| {
                let t = s.entries().unwrap();
                (
                    t.code_offset,
                    t.native_range(0),
                    t.array(0),
                    t.import_stub(0),
                    t.arity(0),
                )
            })
        };
        assert_eq!(
            table([16, 48, 16, 1, 1], &[0, 8, 8, 4, NO_ENTRY, 0, 2, 1]),
            Ok((Some(16), Some((0, 8)), Some(8), None, Some((2, 1))))
        );
        assert_eq!(
            table([NO_ENTRY, 48, 16, 0, 0], &[]),
            Ok((None, None, None, None, None))
        );
        let ok = [0u32, 8, 8, 4, NO_ENTRY, 0, 0, 0];
        for (fields, offs, err) in [
            (
                [0, 48, 16, 1, 1],
                &[0u32, 8, 48, 1, NO_ENTRY, 0, 0, 0][..],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[0, 8, 44, 5, NO_ENTRY, 0, 0, 0],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[0, 8, 7, 4, NO_ENTRY, 0, 0, 0],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[8, 8, 0, 4, NO_ENTRY, 0, 0, 0],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[0, 0, 8, 4, NO_ENTRY, 0, 0, 0],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[0, 8, 8, 4, NO_ENTRY, 1, 0, 0],
                LoadError::BadOffset,
            ),
            (
                [0, 48, 16, 1, 1],
                &[0, 8, 8, 4, u32::MAX - 1, 1, 0, 0],
                LoadError::BadOffset,
            ),
            ([129, 48, 16, 1, 1], &ok, LoadError::BadOffset),
            ([0, 48, 16, 1, 1], &ok[..6], LoadError::BadSection),
            ([0, 48, 3, 1, 1], &ok, LoadError::BadSection),
            ([0, 48, 8192, 1, 1], &ok, LoadError::BadSection),
            ([0, 48, 8, u32::MAX, u32::MAX], &[], LoadError::BadSection),
        ] {
            assert_eq!(table(fields, offs).unwrap_err(), err, "{fields:?} {offs:?}");
        }
        // Not an ELF object (the header bounds are checked whenever there is an entry table).
        let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
        let mut e = Vec::new();
        for v in [NO_ENTRY, 0, 8, 0, 0] {
            writer::put_u32(&mut e, v);
        }
        b.meta(b"m".to_vec()).object(alloc::vec![0; 64]).entries(e);
        assert_eq!(Snapshot::parse(&b.finish()).err(), Some(LoadError::BadElf));
    }

    /// Section table entries pointing outside the file, overlapping or duplicated are
    /// rejected even when the checksum is recomputed to match.
    #[test]
    fn bad_section_table_rejected_with_valid_checksum() {
        let f = sample();
        let entry = |i: usize| HEADER_SIZE + i * SECTION_ENTRY_SIZE;
        let set =
            |g: &mut Vec<u8>, at: usize, v: u32| g[at..at + 4].copy_from_slice(&v.to_le_bytes());
        // Offset past the end.
        let mut g = f.clone();
        set(&mut g, entry(1) + 4, u32::MAX - 2);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadOffset);
        // Length past the end.
        let mut g = f.clone();
        set(&mut g, entry(1) + 8, f.len() as u32);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadOffset);
        // Offset inside the header.
        let mut g = f.clone();
        set(&mut g, entry(0) + 4, 4);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadOffset);
        // Duplicate kind.
        let mut g = f.clone();
        set(&mut g, entry(1), section::META);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadSection);
        // Unknown kind.
        let mut g = f.clone();
        set(&mut g, entry(1), 99);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadSection);
        // Overlap: object section starts inside meta.
        let mut g = f.clone();
        let meta_off = u32::from_le_bytes(g[entry(0) + 4..entry(0) + 8].try_into().unwrap());
        set(&mut g, entry(1) + 4, meta_off + 1);
        set(&mut g, entry(1) + 8, 4);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadSection);
        // Huge section count.
        let mut g = f.clone();
        g[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::Truncated);
        // Huge record count.
        let mut g = f.clone();
        let funcs_off =
            u32::from_le_bytes(g[entry(2) + 4..entry(2) + 8].try_into().unwrap()) as usize;
        set(&mut g, funcs_off, u32::MAX);
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadRecord);
        // Missing object section: turn the entry into a second... drop it by count.
        let mut g = f.clone();
        g[10..12].copy_from_slice(&1u16.to_le_bytes());
        rehash(&mut g);
        assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::MissingSection);
    }
}
