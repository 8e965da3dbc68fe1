//! The entry table (section kind 5).

use super::*;

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
    /// Where the last present entry ends (0 without entries).
    entries_end: u32,
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
            entries_end: 0,
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
        // `end` is at most `code_len`, a `u32`.
        Ok(EntryTable {
            entries_end: end as u32,
            ..t
        })
    }

    /// The in-place region's checks ([`super::Snapshot::parse`] makes them for every
    /// snapshot with an entry table): the region starts where an allocated section
    /// of the ELF `object` starts (`sh_offset` = [`EntryTable::code_offset`], its bytes
    /// inside the object) and every present entry lies inside that section (an empty
    /// region, without entries, needs no section).
    ///
    /// # Errors
    /// [`LoadError::UnsupportedElf`] if the region is not in place, [`LoadError::BadElf`]
    /// for an object without a sound ELF header, [`LoadError::BadOffset`] for a region or an
    /// entry outside the section.
    pub fn check_in_place(&self, object: &[u8]) -> Result<(), LoadError> {
        let (shoff, shnum) = elf_section_headers(object)?;
        let o = u64::from(self.code_offset.ok_or(LoadError::UnsupportedElf)?);
        // An empty region (a module without code) runs nothing, wherever it lies.
        if self.code_len == 0 {
            return Ok(());
        }
        // sh_flags & SHF_ALLOC, sh_offset, sh_size (the largest of several at `o`; 0 for
        // none, which the non-empty region below then cannot fit).
        let mut n = 0;
        for k in 0..shnum {
            let h = (shoff + 64 * k) as usize;
            if le(object, h + 8, 1) & 2 != 0 && le(object, h + 24, 8) == o {
                n = n.max(le(object, h + 32, 8));
            }
        }
        // As for a relocation table's one copy record: the section's bytes inside the
        // object, the entries inside the section, the code length at most its size rounded
        // up to 8.
        if n <= (object.len() as u64).saturating_sub(o)
            && u64::from(self.entries_end) <= n
            && u64::from(self.code_len) <= n.next_multiple_of(8)
        {
            Ok(())
        } else {
            Err(LoadError::BadOffset)
        }
    }

    /// Copies the code region (checked by [`EntryTable::check_in_place`]) into the first
    /// [`EntryTable::code_len`] bytes of `region`: the object's bytes from
    /// [`EntryTable::code_offset`] (inside the object: [`EntryTable::parse`]). Nothing is
    /// patched: version-9 code has no relocations.
    ///
    /// # Errors
    /// [`LoadError::CodeMemory`] if `region` is shorter than the code,
    /// [`LoadError::BadOffset`] for a region outside `object`.
    pub fn copy_region(&self, object: &[u8], region: &mut [u8]) -> Result<(), LoadError> {
        let (off, len) = (
            self.code_offset.unwrap_or(0) as usize,
            self.code_len as usize,
        );
        // `EntryTable::parse` keeps the region inside the object; checked again anyway.
        let src = object.get(off..off + len).ok_or(LoadError::BadOffset)?;
        region
            .get_mut(..len)
            .ok_or(LoadError::CodeMemory)?
            .copy_from_slice(src);
        Ok(())
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
    pub(super) fn at(&self, i: usize) -> Option<(u32, u32)> {
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
