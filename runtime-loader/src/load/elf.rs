//! Just enough ELF64 to load a relocatable x86-64 object as cranelift-object writes it.
//!
//! [`ElfObject::parse`] validates the file header, the section header table, the symbol table
//! and every relocation that targets a loadable section *before* anything is copied or
//! executed. [`ElfObject::load`] then lays every `SHF_ALLOC` section out in one region (in
//! section order, each at its alignment), followed by one 8-byte GOT slot per GOT-relative
//! relocation, and applies the relocations:
//!
//! | kind | value written |
//! |---|---|
//! | `R_X86_64_64` | `S + A` (8 bytes) |
//! | `R_X86_64_PC32`, `R_X86_64_PLT32` | `S + A − P` (4 bytes, must fit `i32`) |
//! | `R_X86_64_GOTPCREL`, `GOTPCRELX`, `REX_GOTPCRELX` | `G + A − P` where the GOT slot `G` holds `S` |
//!
//! Anything else is [`LoadError::UnsupportedRelocation`]. Symbols defined in the object resolve
//! to their place in the region; undefined ones go through the caller's resolver (wasm code
//! reaches imports and libcalls through the vmctx, so normally there are none).
//!
//! Nothing here allocates, and untrusted bytes are only read through bounds-checked accessors.

use crate::error::LoadError;

const EM_X86_64: u16 = 62;
const ET_REL: u16 = 1;
const EHDR_SIZE: usize = 64;
const SHDR_SIZE: usize = 64;
const SYM_SIZE: usize = 24;
const RELA_SIZE: usize = 24;

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_X86_64_UNWIND: u32 = 0x7000_0001;
const SHF_ALLOC: u64 = 0x2;

const SHN_UNDEF: u16 = 0;
const SHN_LORESERVE: u16 = 0xff00;
const SHN_ABS: u16 = 0xfff1;

/// `R_X86_64_64`.
pub const R_X86_64_64: u32 = 1;
/// `R_X86_64_PC32`.
pub const R_X86_64_PC32: u32 = 2;
/// `R_X86_64_PLT32`.
pub const R_X86_64_PLT32: u32 = 4;
/// `R_X86_64_GOTPCREL`.
pub const R_X86_64_GOTPCREL: u32 = 9;
/// `R_X86_64_GOTPCRELX`.
pub const R_X86_64_GOTPCRELX: u32 = 41;
/// `R_X86_64_REX_GOTPCRELX`.
pub const R_X86_64_REX_GOTPCRELX: u32 = 42;

/// Largest section alignment accepted (one page).
pub const MAX_ALIGN: u64 = 4096;

fn rd<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], LoadError> {
    let end = at.checked_add(N).ok_or(LoadError::BadElf)?;
    let s = b.get(at..end).ok_or(LoadError::BadElf)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}
fn u16_at(b: &[u8], at: usize) -> Result<u16, LoadError> {
    rd(b, at).map(u16::from_le_bytes)
}
fn u32_at(b: &[u8], at: usize) -> Result<u32, LoadError> {
    rd(b, at).map(u32::from_le_bytes)
}
fn u64_at(b: &[u8], at: usize) -> Result<u64, LoadError> {
    rd(b, at).map(u64::from_le_bytes)
}
fn to_usize(v: u64) -> Result<usize, LoadError> {
    usize::try_from(v).map_err(|_| LoadError::BadOffset)
}

/// One section header.
#[derive(Clone, Copy, Debug)]
struct Shdr {
    name: u32,
    ty: u32,
    flags: u64,
    offset: usize,
    size: usize,
    link: u32,
    info: u32,
    align: usize,
    entsize: u64,
}

impl Shdr {
    fn is_loaded(&self) -> bool {
        self.flags & SHF_ALLOC != 0 && self.size > 0
    }
}

/// One symbol table entry.
#[derive(Clone, Copy, Debug)]
struct Sym {
    name: u32,
    shndx: u16,
    value: u64,
    size: u64,
}

/// A validated ELF64 x86-64 relocatable object borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct ElfObject<'a> {
    bytes: &'a [u8],
    shoff: usize,
    shnum: usize,
    /// Section index of the symbol table (0 = none).
    symtab: usize,
    /// Section-name string table.
    shstrtab: &'a [u8],
    /// Symbol-name string table.
    strtab: &'a [u8],
    /// Bytes used by loaded sections.
    sections_size: usize,
    /// Offset of the GOT in the region.
    got_offset: usize,
    /// Number of GOT slots.
    got_slots: usize,
    /// Largest alignment among loaded sections.
    max_align: usize,
}

fn align_up(v: usize, align: usize) -> Result<usize, LoadError> {
    // `align` is a power of two.
    v.checked_add(align - 1)
        .map(|x| x & !(align - 1))
        .ok_or(LoadError::BadOffset)
}

/// The NUL-terminated name at `at` in a string table, as bytes (names are only compared, so
/// their encoding is not checked).
fn cstr(table: &[u8], at: u32) -> Result<&[u8], LoadError> {
    let rest = table.get(at as usize..).ok_or(LoadError::BadSymbol)?;
    let len = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(LoadError::BadSymbol)?;
    rest.get(..len).ok_or(LoadError::BadSymbol)
}

impl<'a> ElfObject<'a> {
    /// Validates `bytes` as an object this loader can load.
    ///
    /// # Errors
    /// [`LoadError::BadElf`] for malformed structure, [`LoadError::UnsupportedElf`] for
    /// well-formed objects using features outside our subset, [`LoadError::BadSymbol`] /
    /// [`LoadError::BadRelocation`] / [`LoadError::UnsupportedRelocation`] for bad
    /// relocation entries.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, LoadError> {
        let ident = bytes.get(..16).ok_or(LoadError::BadElf)?;
        if ident.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(LoadError::BadElf);
        }
        // ELFCLASS64, ELFDATA2LSB, EV_CURRENT.
        if ident.get(4..7) != Some([2u8, 1, 1].as_slice()) {
            return Err(LoadError::UnsupportedElf);
        }
        if u16_at(bytes, 16)? != ET_REL || u16_at(bytes, 18)? != EM_X86_64 {
            return Err(LoadError::UnsupportedElf);
        }
        let shoff = to_usize(u64_at(bytes, 40)?)?;
        if u16_at(bytes, 52)? as usize != EHDR_SIZE || u16_at(bytes, 58)? as usize != SHDR_SIZE {
            return Err(LoadError::BadElf);
        }
        let shnum = u16_at(bytes, 60)? as usize;
        let shstrndx = u16_at(bytes, 62)? as usize;
        if shnum == 0 || shstrndx >= shnum {
            // Extended section numbering (shnum == 0) is not needed by our objects.
            return Err(LoadError::UnsupportedElf);
        }
        let table_end = shnum
            .checked_mul(SHDR_SIZE)
            .and_then(|n| n.checked_add(shoff))
            .ok_or(LoadError::BadElf)?;
        if table_end > bytes.len() {
            return Err(LoadError::BadElf);
        }
        let mut obj = ElfObject {
            bytes,
            shoff,
            shnum,
            symtab: 0,
            shstrtab: &[],
            strtab: &[],
            sections_size: 0,
            got_offset: 0,
            got_slots: 0,
            max_align: 1,
        };
        let sh = obj.shdr(shstrndx)?;
        if sh.ty != SHT_STRTAB {
            return Err(LoadError::BadElf);
        }
        obj.shstrtab = obj.contents(&sh)?;

        // Pass 1: every section's bounds; layout of loaded sections; the symbol table.
        let mut off = 0usize;
        for i in 0..shnum {
            let s = obj.shdr(i)?;
            if s.ty != SHT_NOBITS {
                obj.contents(&s)?;
            }
            cstr(obj.shstrtab, s.name).map_err(|_| LoadError::BadElf)?;
            if s.is_loaded() {
                if !matches!(s.ty, SHT_PROGBITS | SHT_NOBITS | SHT_X86_64_UNWIND) {
                    return Err(LoadError::UnsupportedElf);
                }
                off = align_up(off, s.align)?;
                off = off.checked_add(s.size).ok_or(LoadError::BadOffset)?;
                obj.max_align = obj.max_align.max(s.align);
            }
            match s.ty {
                SHT_SYMTAB => {
                    if obj.symtab != 0 || s.entsize != SYM_SIZE as u64 || s.size % SYM_SIZE != 0 {
                        return Err(LoadError::BadElf);
                    }
                    let link = s.link as usize;
                    if link >= shnum {
                        return Err(LoadError::BadElf);
                    }
                    let st = obj.shdr(link)?;
                    if st.ty != SHT_STRTAB {
                        return Err(LoadError::BadElf);
                    }
                    obj.symtab = i;
                    obj.strtab = obj.contents(&st)?;
                }
                SHT_REL => {
                    let target = obj.shdr(s.info as usize)?;
                    if target.is_loaded() {
                        return Err(LoadError::UnsupportedElf);
                    }
                }
                _ => {}
            }
        }
        obj.sections_size = off;
        obj.got_offset = align_up(off, 8)?;

        // Pass 2: symbols, then relocations.
        for k in 0..obj.symbol_count() {
            let sym = obj.sym(k)?;
            cstr(obj.strtab, sym.name)?;
            obj.check_symbol_section(&sym)?;
        }
        let mut got = 0usize;
        for i in 0..shnum {
            let s = obj.shdr(i)?;
            if s.ty != SHT_RELA {
                continue;
            }
            let target = obj.shdr(s.info as usize)?;
            if !target.is_loaded() {
                continue; // debug info and the like: not loaded, not relocated
            }
            if target.ty == SHT_NOBITS
                || s.link as usize != obj.symtab
                || obj.symtab == 0
                || s.entsize != RELA_SIZE as u64
                || s.size % RELA_SIZE != 0
            {
                return Err(LoadError::BadRelocation);
            }
            let relas = obj.contents(&s)?;
            for r in relas.chunks_exact(RELA_SIZE) {
                let (offset, ty, sym, _) = rela_fields(r)?;
                let width = match ty {
                    R_X86_64_64 => 8,
                    R_X86_64_PC32 | R_X86_64_PLT32 => 4,
                    R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => {
                        got += 1;
                        4
                    }
                    _ => return Err(LoadError::UnsupportedRelocation),
                };
                let end = offset.checked_add(width).ok_or(LoadError::BadRelocation)?;
                if end > target.size {
                    return Err(LoadError::BadRelocation);
                }
                if sym != 0 {
                    let sy = obj.sym(sym)?;
                    if sy.shndx != SHN_UNDEF && sy.shndx != SHN_ABS {
                        let home = obj.shdr(sy.shndx as usize)?;
                        if !home.is_loaded() {
                            return Err(LoadError::BadSymbol);
                        }
                    }
                }
            }
        }
        obj.got_slots = got;
        obj.region_size()?;
        Ok(obj)
    }

    fn shdr(&self, i: usize) -> Result<Shdr, LoadError> {
        if i >= self.shnum {
            return Err(LoadError::BadElf);
        }
        let at = self.shoff + i * SHDR_SIZE; // within the table checked in `parse`
        let b = self.bytes;
        let align = u64_at(b, at + 48)?;
        let align = match align {
            0 | 1 => 1,
            a if a.is_power_of_two() && a <= MAX_ALIGN => a as usize,
            _ => return Err(LoadError::UnsupportedElf),
        };
        Ok(Shdr {
            name: u32_at(b, at)?,
            ty: u32_at(b, at + 4)?,
            flags: u64_at(b, at + 8)?,
            offset: to_usize(u64_at(b, at + 24)?)?,
            size: to_usize(u64_at(b, at + 32)?)?,
            link: u32_at(b, at + 40)?,
            info: u32_at(b, at + 44)?,
            align,
            entsize: u64_at(b, at + 56)?,
        })
    }

    fn contents(&self, s: &Shdr) -> Result<&'a [u8], LoadError> {
        let end = s.offset.checked_add(s.size).ok_or(LoadError::BadElf)?;
        self.bytes.get(s.offset..end).ok_or(LoadError::BadElf)
    }

    fn symbol_count(&self) -> usize {
        match self.shdr(self.symtab) {
            Ok(s) if self.symtab != 0 => s.size / SYM_SIZE,
            _ => 0,
        }
    }

    fn sym(&self, k: usize) -> Result<Sym, LoadError> {
        if k >= self.symbol_count() {
            return Err(LoadError::BadSymbol);
        }
        let s = self.shdr(self.symtab)?;
        let b = self.contents(&s)?;
        let at = k * SYM_SIZE;
        Ok(Sym {
            name: u32_at(b, at)?,
            shndx: u16_at(b, at + 6)?,
            value: u64_at(b, at + 8)?,
            size: u64_at(b, at + 16)?,
        })
    }

    fn check_symbol_section(&self, sym: &Sym) -> Result<(), LoadError> {
        match sym.shndx {
            SHN_UNDEF | SHN_ABS => Ok(()),
            n if n >= SHN_LORESERVE => Err(LoadError::UnsupportedElf), // COMMON, XINDEX, ...
            n => {
                let s = self.shdr(n as usize).map_err(|_| LoadError::BadSymbol)?;
                if s.flags & SHF_ALLOC != 0 && sym.value > s.size as u64 {
                    return Err(LoadError::BadSymbol);
                }
                Ok(())
            }
        }
    }

    /// Offset of loaded section `i` in the region (`None` if it is not loaded).
    fn section_offset(&self, i: usize) -> Result<Option<usize>, LoadError> {
        let mut off = 0usize;
        for j in 0..self.shnum {
            let s = self.shdr(j)?;
            if s.is_loaded() {
                off = align_up(off, s.align)?;
                if j == i {
                    return Ok(Some(off));
                }
                off += s.size; // cannot overflow: checked in `parse`
            } else if j == i {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// Bytes of code memory [`ElfObject::load`] needs.
    ///
    /// # Errors
    /// [`LoadError::BadOffset`] on overflow (never after a successful `parse`).
    pub fn region_size(&self) -> Result<usize, LoadError> {
        self.got_slots
            .checked_mul(8)
            .and_then(|g| g.checked_add(self.got_offset))
            .ok_or(LoadError::BadOffset)
    }

    /// Number of relocation entries that apply to loaded sections.
    pub fn relocation_count(&self) -> usize {
        (0..self.shnum)
            .filter_map(|i| self.shdr(i).ok())
            .filter(|s| s.ty == SHT_RELA)
            .filter(|s| self.shdr(s.info as usize).is_ok_and(|t| t.is_loaded()))
            .map(|s| s.size / RELA_SIZE)
            .sum()
    }

    /// For execute in place: the byte offset, within the object, at which the code region
    /// starts, if the object can run from its own bytes unchanged. That needs no relocations
    /// (hence no GOT) and loaded sections that are all `PROGBITS` laid out in the file
    /// exactly as [`ElfObject::load`] lays them out in a region. An object without loaded
    /// sections runs in place trivially (offset 0, an empty region).
    ///
    /// # Errors
    /// [`LoadError::UnsupportedElf`] if the object needs loading.
    pub fn in_place_offset(&self) -> Result<usize, LoadError> {
        if self.relocation_count() != 0 || self.got_slots != 0 {
            return Err(LoadError::UnsupportedElf);
        }
        let mut first: Option<usize> = None;
        for i in 0..self.shnum {
            let s = self.shdr(i)?;
            if !s.is_loaded() {
                continue;
            }
            if s.ty == SHT_NOBITS {
                return Err(LoadError::UnsupportedElf);
            }
            let region_off = self.section_offset(i)?.ok_or(LoadError::BadElf)?;
            let start = *first.get_or_insert(s.offset.wrapping_sub(region_off));
            if s.offset.checked_sub(start) != Some(region_off) {
                return Err(LoadError::UnsupportedElf);
            }
        }
        // No loaded section (a module without code): an empty region, anywhere.
        Ok(first.unwrap_or(0))
    }

    /// Alignment the region's base address must have.
    pub fn region_align(&self) -> usize {
        self.max_align.max(8)
    }

    /// Region offset of the symbol named `name` defined in a loaded section.
    pub fn find_symbol(&self, name: &str) -> Option<usize> {
        for k in 1..self.symbol_count() {
            let sym = self.sym(k).ok()?;
            if sym.shndx == SHN_UNDEF || sym.shndx >= SHN_LORESERVE {
                continue;
            }
            if cstr(self.strtab, sym.name).ok() != Some(name.as_bytes()) {
                continue;
            }
            let base = self.section_offset(sym.shndx as usize).ok()??;
            return base.checked_add(usize::try_from(sym.value).ok()?);
        }
        None
    }

    /// Names of the symbols defined in loaded sections (for diagnostics; names that are not
    /// UTF-8 are left out).
    pub fn defined_symbols(&self) -> impl Iterator<Item = (&'a str, usize)> + '_ {
        self.defined_symbol_ranges()
            .map(|(name, off, _)| (name, off))
    }

    /// [`ElfObject::defined_symbols`] with each symbol's size (`st_size`) as the third field.
    pub fn defined_symbol_ranges(&self) -> impl Iterator<Item = (&'a str, usize, u64)> + '_ {
        (1..self.symbol_count()).filter_map(move |k| {
            let sym = self.sym(k).ok()?;
            if sym.shndx == SHN_UNDEF || sym.shndx >= SHN_LORESERVE {
                return None;
            }
            let name = core::str::from_utf8(cstr(self.strtab, sym.name).ok()?).ok()?;
            let off = self.section_offset(sym.shndx as usize).ok()??;
            Some((name, off + sym.value as usize, sym.size))
        })
    }

    fn symbol_address(
        &self,
        k: usize,
        base: u64,
        resolve: &mut dyn FnMut(&[u8]) -> Option<u64>,
    ) -> Result<u64, LoadError> {
        if k == 0 {
            return Ok(0);
        }
        let sym = self.sym(k)?;
        match sym.shndx {
            SHN_UNDEF => {
                let name = cstr(self.strtab, sym.name)?;
                resolve(name).ok_or(LoadError::UndefinedSymbol)
            }
            SHN_ABS => Ok(sym.value),
            n => {
                let off = self
                    .section_offset(n as usize)?
                    .ok_or(LoadError::BadSymbol)?;
                Ok(base.wrapping_add(off as u64).wrapping_add(sym.value))
            }
        }
    }

    /// Copies the loaded sections into `region` (whose first byte will live at address
    /// `base`), zero-fills `NOBITS` sections and padding, fills the GOT and applies every
    /// relocation. On error the region's contents are unspecified and must not be executed.
    ///
    /// # Errors
    /// [`LoadError::CodeMemory`] if `region` is too small or `base` misaligned,
    /// [`LoadError::UndefinedSymbol`] if `resolve` does not know an external symbol,
    /// [`LoadError::RelocationOverflow`] if a PC-relative value does not fit.
    pub fn load(
        &self,
        region: &mut [u8],
        base: u64,
        resolve: &mut dyn FnMut(&[u8]) -> Option<u64>,
    ) -> Result<(), LoadError> {
        let size = self.region_size()?;
        if region.len() < size || !base.is_multiple_of(self.region_align() as u64) {
            return Err(LoadError::CodeMemory);
        }
        region.fill(0);
        for i in 0..self.shnum {
            let s = self.shdr(i)?;
            if s.is_loaded() && s.ty != SHT_NOBITS {
                let off = self.section_offset(i)?.ok_or(LoadError::BadElf)?;
                let dst = region
                    .get_mut(off..off + s.size)
                    .ok_or(LoadError::BadOffset)?;
                dst.copy_from_slice(self.contents(&s)?);
            }
        }
        let mut got = 0usize;
        for i in 0..self.shnum {
            let s = self.shdr(i)?;
            if s.ty != SHT_RELA {
                continue;
            }
            let target_index = s.info as usize;
            let Some(toff) = self.section_offset(target_index)? else {
                continue;
            };
            for r in self.contents(&s)?.chunks_exact(RELA_SIZE) {
                let (offset, ty, sym, addend) = rela_fields(r)?;
                let at = toff.checked_add(offset).ok_or(LoadError::BadRelocation)?;
                let p = base.wrapping_add(at as u64);
                let s_addr = self.symbol_address(sym, base, resolve)?;
                match ty {
                    R_X86_64_64 => {
                        let v = s_addr.wrapping_add(addend as u64);
                        put(region, at, &v.to_le_bytes())?;
                    }
                    R_X86_64_PC32 | R_X86_64_PLT32 => {
                        let v = pc_rel(s_addr, addend, p)?;
                        put(region, at, &v.to_le_bytes())?;
                    }
                    R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => {
                        let slot = self.got_offset + got * 8;
                        got += 1;
                        if got > self.got_slots {
                            return Err(LoadError::BadRelocation);
                        }
                        put(region, slot, &s_addr.to_le_bytes())?;
                        let g = base.wrapping_add(slot as u64);
                        let v = pc_rel(g, addend, p)?;
                        put(region, at, &v.to_le_bytes())?;
                    }
                    _ => return Err(LoadError::UnsupportedRelocation),
                }
            }
        }
        Ok(())
    }
}

fn rela_fields(r: &[u8]) -> Result<(usize, u32, usize, i64), LoadError> {
    let offset = to_usize(u64_at(r, 0).map_err(|_| LoadError::BadRelocation)?)
        .map_err(|_| LoadError::BadRelocation)?;
    let info = u64_at(r, 8).map_err(|_| LoadError::BadRelocation)?;
    let addend = u64_at(r, 16).map_err(|_| LoadError::BadRelocation)? as i64;
    Ok((offset, info as u32, (info >> 32) as usize, addend))
}

fn pc_rel(s: u64, a: i64, p: u64) -> Result<i32, LoadError> {
    let v = i128::from(s) + i128::from(a) - i128::from(p);
    i32::try_from(v).map_err(|_| LoadError::RelocationOverflow)
}

fn put(region: &mut [u8], at: usize, v: &[u8]) -> Result<(), LoadError> {
    let end = at.checked_add(v.len()).ok_or(LoadError::BadRelocation)?;
    region
        .get_mut(at..end)
        .ok_or(LoadError::BadRelocation)?
        .copy_from_slice(v);
    Ok(())
}
