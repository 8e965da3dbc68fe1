//! Crafted snapshots with a valid checksum (issue #14, item 4): each case mutates one field a
//! loader can check, then re-seals the checksum, so only the structural checks stand
//! between the file and the CPU. Shared by `snapshot.rs` (the Rust loaders) and `firmware.rs`
//! (the C API through the freestanding program).

#![allow(dead_code)]

use runtime_loader::format;

/// `(kind, offset, length)` of every section-table entry.
pub fn sections(b: &[u8]) -> Vec<(u32, usize, usize)> {
    let n = u16::from_le_bytes([b[10], b[11]]) as usize;
    (0..n)
        .map(|k| {
            let e = format::HEADER_SIZE + k * format::SECTION_ENTRY_SIZE;
            (
                u32_at(b, e),
                u32_at(b, e + 4) as usize,
                u32_at(b, e + 8) as usize,
            )
        })
        .collect()
}

/// Index in the section table and file range of the section of `kind`.
pub fn section(b: &[u8], kind: u32) -> (usize, usize, usize) {
    let (i, &(_, off, len)) = sections(b)
        .iter()
        .enumerate()
        .find(|(_, s)| s.0 == kind)
        .expect("section present");
    (i, off, len)
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Recomputes the checksum after a mutation (anyone can: it is not a security measure).
pub fn reseal(b: &mut [u8]) {
    let sum = format::file_checksum(b).unwrap();
    b[format::CHECKSUM_RANGE].copy_from_slice(&sum.to_le_bytes());
}

/// File offset of the entry-table slot of defined function `d`'s native entry offset.
pub fn native_slot(b: &[u8], d: usize) -> usize {
    let (_, off, _) = section(b, format::section::ENTRIES);
    off + format::ENTRY_TABLE_FIXED + ENTRY_STRIDE * d
}

/// Bytes per entry in the entry table (format v5: offset and length; v4 had the offset only).
pub const ENTRY_STRIDE: usize = 8;

/// The crafted cases derived from `base` (a checked-memory snapshot whose
/// defined function `func` (module index) is exported and has code): `(name, bytes)`, every
/// one re-sealed. Each must be refused by every loader before any code runs.
pub fn cases(base: &[u8], func: u32) -> Vec<(&'static str, Vec<u8>)> {
    let snap = format::Snapshot::parse(base).expect("base snapshot parses");
    let entries = snap.entries().expect("entry table");
    let meta = runtime_loader::meta_view::MetaView::parse(snap.meta_bytes()).unwrap();
    let d = (func - meta.num_imported_funcs()) as usize;
    let start = entries.native(d as u32).expect("function has code");
    let size = snap
        .func_records()
        .find(|r| r.func_index == func)
        .expect("function record")
        .code_size;
    let (_, ent_off, _) = section(base, format::section::ENTRIES);
    let (obj_index, _, _) = section(base, format::section::OBJECT);
    let (funcs_index, _, _) = section(base, format::section::FUNCS);
    let (_, meta_off, _) = section(base, format::section::META);
    let mut out = Vec::new();
    let mut case = |name: &'static str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = base.to_vec();
        f(&mut b);
        reseal(&mut b);
        out.push((name, b));
    };
    case("entry one past its function", &|b| {
        let at = native_slot(b, d);
        set_u32(b, at, start + size)
    });
    case("entry at the last byte of the code", &|b| {
        let at = native_slot(b, d);
        set_u32(b, at, entries.code_len - 1)
    });
    let obj_entry = format::HEADER_SIZE + obj_index * format::SECTION_ENTRY_SIZE;
    case("object section offset + 1", &|b| {
        let o = u32_at(b, obj_entry + 4);
        set_u32(b, obj_entry + 4, o + 1)
    });
    case("object section offset - 1", &|b| {
        let o = u32_at(b, obj_entry + 4);
        set_u32(b, obj_entry + 4, o - 1)
    });
    // Format v9: the code region must be an allocated section of the object, in place.
    case("code region offset + 16 (not a section start)", &|b| {
        let o = u32_at(b, ent_off);
        set_u32(b, ent_off, o + 16)
    });
    case("code region not in place", &|b| {
        set_u32(b, ent_off, format::NO_ENTRY)
    });
    case("code length beyond its section", &|b| {
        let n = u32_at(b, ent_off + 4);
        set_u32(b, ent_off + 4, n.next_multiple_of(8) + 8)
    });
    case(
        "a section of kind 6 (the relocation table of v4 to v8)",
        &|b| {
            let e = format::HEADER_SIZE + funcs_index * format::SECTION_ENTRY_SIZE;
            set_u32(b, e, 6)
        },
    );
    case("code length 0xffffffff", &|b| {
        set_u32(b, ent_off + 4, u32::MAX)
    });
    case("function type rewritten to [] -> []", &|b| {
        let t = meta.func_type_index(func) as usize;
        // Type records follow the 16-word header: (pool offset, params, results).
        let rec = meta_off + 64 + 12 * t;
        set_u32(b, rec + 4, 0);
        set_u32(b, rec + 8, 0);
    });
    out
}
