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
        }
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
        let align = |n: usize| n.div_ceil(SECTION_ALIGN) * SECTION_ALIGN;
        // Code that runs in place starts on a cache-line boundary of the file, as copied
        // code starts on one of its page-aligned region: the two modes then lay out every
        // loop alike relative to cache lines and fetch blocks (a loop split across a line
        // ran `multiply` 1.35-1.8x slower in place than copied).
        let in_place = crate::elf::ElfObject::parse(&self.object)
            .ok()
            .and_then(|o| o.in_place_offset().ok());
        let mut offsets = Vec::with_capacity(sections.len());
        let mut offset = align(HEADER_SIZE + sections.len() * SECTION_ENTRY_SIZE);
        let mut table = Vec::new();
        for (kind, body) in &sections {
            if let (section::OBJECT, Some(code)) = (*kind, in_place) {
                let misalign = (offset + code) % CODE_LINE_ALIGN;
                if misalign != 0 {
                    offset += CODE_LINE_ALIGN - misalign;
                }
            }
            offsets.push(offset);
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
        for ((_, body), &at) in sections.iter().zip(&offsets) {
            out.resize(at, 0);
            out.extend_from_slice(body);
        }
        let len = out.len() as u64;
        out[16..24].copy_from_slice(&len.to_le_bytes());
        let sum = file_checksum(&out).expect("file longer than header");
        out[CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
        out
    }
}
