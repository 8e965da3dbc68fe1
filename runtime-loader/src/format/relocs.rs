//! The relocation table (section kind 6) and its record kinds.

use super::*;

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

/// Where [`RelocTable::walk`] applies the records: the region, its base address and the
/// external symbols' addresses.
type Target<'r> = (&'r mut [u8], u64, fn(u32) -> Option<u64>);

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
    /// [`Snapshot::validate_relocations`] runs it ([`Snapshot::parse`] does; the default C
    /// library after [`Snapshot::parse_without_records`] for an in-place region) before any
    /// code memory is written; the default C library's copying path checks the same rules
    /// record by record as it applies them ([`RelocTable::validate_and_apply`]).
    ///
    /// # Errors
    /// [`LoadError::BadRelocation`] for the first bad record, [`LoadError::BadElf`] for an
    /// object without a sound ELF header, [`LoadError::BadOffset`] for a code length the
    /// table does not account for.
    pub fn validate(&self, object: &[u8]) -> Result<(), LoadError> {
        self.walk(object, None)
    }

    /// [`RelocTable::validate`] and [`RelocTable::apply`] in one pass over the records, for a
    /// loader that builds the region right away (the C library): each record is checked by
    /// `validate`'s rules, then applied, and the code length by its rule at the end. On
    /// error the region has been written but must not be executed. Accepts exactly the
    /// tables that `validate` followed by `apply` accept.
    ///
    /// # Errors
    /// As [`RelocTable::validate`], then as [`RelocTable::apply`].
    pub fn validate_and_apply(
        &self,
        object: &[u8],
        region: &mut [u8],
        base: u64,
        external: fn(u32) -> Option<u64>,
    ) -> Result<(), LoadError> {
        self.walk(object, Some((region, base, external)))
    }

    /// `validate`'s checks over every record, applying each after its check when `out`
    /// (region, base, externals) is given.
    #[inline(never)]
    fn walk(&self, object: &[u8], out: Option<Target<'_>>) -> Result<(), LoadError> {
        use reloc::*;
        let bad = Err(LoadError::BadRelocation);
        let (shoff, shnum) = elf_section_headers(object)?;
        let code_len = self.code_len as u64;
        let mut out = match out {
            Some((region, base, external)) => {
                let region = region
                    .get_mut(..self.code_len)
                    .ok_or(LoadError::CodeMemory)?;
                region.fill(0);
                Some((region, base, external))
            }
            None => None,
        };
        let (mut k, mut copies, mut copies_end, mut tail) = (0u64, 0usize, 0u64, 0u64);
        // Every field is a `u32`: no sum below overflows.
        for i in 0..self.record_count() {
            let [at, kind, target, n] = [0, 1, 2, 3].map(|k| self.field(i, k));
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
                if let Some((region, _, _)) = &mut out {
                    // SAFETY: checked above: `target + n ≤ object.len()`, `at + n ≤ code
                    // length = region.len()`; the object and the region do not overlap
                    // (one is borrowed shared, the other exclusively).
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            object.as_ptr().add(target as usize),
                            region.as_mut_ptr().add(at as usize),
                            n as usize,
                        );
                    }
                }
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
            if let Some((region, base, external)) = &mut out {
                let s = if kind <= PC32 {
                    base.wrapping_add(target)
                } else {
                    external(target as u32).ok_or(LoadError::UndefinedSymbol)?
                };
                let v = s.wrapping_add(i64::from(n as u32 as i32) as u64);
                // SAFETY (both writes): checked above, `at + width ≤ code length =
                // region.len()`.
                let dst = unsafe { region.as_mut_ptr().add(at as usize) };
                if width == 8 {
                    unsafe { dst.cast::<u64>().write_unaligned(v.to_le()) };
                } else {
                    // Modulo 2^64, as the CPU adds a displacement to the instruction pointer.
                    let v = v.wrapping_sub(base.wrapping_add(at)) as i64;
                    let v = i32::try_from(v).map_err(|_| LoadError::RelocationOverflow)?;
                    unsafe { dst.cast::<i32>().write_unaligned(v.to_le()) };
                }
            }
        }
        if code_len > copies_end.next_multiple_of(8) + 8 * tail {
            return Err(LoadError::BadOffset);
        }
        Ok(())
    }

    /// Field `k` of record `i`.
    fn field(&self, i: usize, k: usize) -> u64 {
        le(self.raw, 4 + i * RELOC_RECORD_SIZE + 4 * k, 4)
    }

    /// Number of leading copy records (all of them, in a validated table).
    pub fn copy_count(&self) -> usize {
        (0..self.record_count())
            .take_while(|&i| self.field(i, 1) == u64::from(reloc::COPY))
            .count()
    }

    /// Whether region bytes `[off, off + len)` lie inside one of the first `copies` records'
    /// destinations (ascending: a binary search).
    fn in_copy(&self, copies: usize, off: u64, len: u64) -> bool {
        let f = |i: usize, k: usize| self.field(i, k);
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
                let f = |k: usize| self.field(i, k);
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
        for i in 0..self.record_count() {
            let [at, kind, target, addend] = [0, 1, 2, 3].map(|k| self.field(i, k));
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
