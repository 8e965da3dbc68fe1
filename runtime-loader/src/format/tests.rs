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
    // table), 4, 5 (before the CPU-feature bits), 6 (before the extended constant
    // expressions), 7 (32-bit limits, before memory64), 8 (relocation tables, no signature
    // classes) and unknown versions are refused.
    for v in [1u8, 2, 3, 4, 5, 6, 7, 8, 10] {
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

/// Format v9: `Snapshot::parse` (and the lean parse) checks the in-place region of every
/// snapshot with an entry table (it must start at an allocated section, the entries inside
/// it), refuses the old relocation table's section kind 6, and `EntryTable::copy_region`
/// lays out exactly the in-place bytes.
#[test]
fn in_place_region_in_snapshot() {
    let object = elf(&[1, 2, 3, 4, 5, 6, 7, 8], &[(64, 8)]);
    let snap = |e: Vec<u8>| {
        let mut b = SnapshotBuilder::new(Isa::X86_64, MemoryMode::Checked);
        b.meta(b"m".to_vec()).object(object.clone()).entries(e);
        b.finish()
    };
    let in_place = |off, len| snap(entries(off, len, &[(0, 4), (4, 4), (NO_ENTRY, 0)]));
    let good = in_place(64, 8);
    let s = Snapshot::parse(&good).unwrap();
    let mut region = [0xAAu8; 12];
    s.entries()
        .unwrap()
        .copy_region(s.object_bytes(), &mut region)
        .unwrap();
    assert_eq!(region, [1, 2, 3, 4, 5, 6, 7, 8, 0xAA, 0xAA, 0xAA, 0xAA]);
    // A region shorter than the code.
    assert_eq!(
        s.entries()
            .unwrap()
            .copy_region(s.object_bytes(), &mut [0; 7])
            .err(),
        Some(LoadError::CodeMemory)
    );
    for lean in [false, true] {
        let parse = |b: &[u8]| {
            if lean {
                Snapshot::parse_without_records(b).map(|_| ())
            } else {
                Snapshot::parse(b).map(|_| ())
            }
        };
        assert!(parse(&good).is_ok());
        // Not at a section start, or not in place at all.
        assert_eq!(parse(&in_place(65, 7)).err(), Some(LoadError::BadOffset));
        assert_eq!(parse(&in_place(63, 8)).err(), Some(LoadError::BadOffset));
        assert_eq!(
            parse(&in_place(NO_ENTRY, 8)).err(),
            Some(LoadError::UnsupportedElf)
        );
        // Longer than the section rounded up to 8 (the object has room after it).
        assert_eq!(parse(&in_place(64, 16)).err(), Some(LoadError::BadOffset));
    }
    // Section kind 6 (the relocation table of versions 4 to 8) is unknown now.
    let mut f = sample();
    let kinds: Vec<usize> = (0..u16::from_le_bytes([f[10], f[11]]) as usize)
        .map(|k| HEADER_SIZE + k * SECTION_ENTRY_SIZE)
        .collect();
    let at = *kinds
        .iter()
        .find(|&&e| f[e] == section::FUNCS as u8)
        .unwrap();
    f[at] = 6;
    rehash(&mut f);
    assert_eq!(Snapshot::parse(&f).err(), Some(LoadError::BadSection));
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
        b.meta(b"m".to_vec())
            .object(elf(&[0; 48], &[(16, 48)]))
            .entries(e);
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
    // Format v9: every region runs in place.
    assert_eq!(
        table([NO_ENTRY, 48, 16, 0, 0], &[]),
        Err(LoadError::UnsupportedElf)
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
    let set = |g: &mut Vec<u8>, at: usize, v: u32| g[at..at + 4].copy_from_slice(&v.to_le_bytes());
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
    let funcs_off = u32::from_le_bytes(g[entry(2) + 4..entry(2) + 8].try_into().unwrap()) as usize;
    set(&mut g, funcs_off, u32::MAX);
    rehash(&mut g);
    assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::BadRecord);
    // Missing object section: turn the entry into a second... drop it by count.
    let mut g = f.clone();
    g[10..12].copy_from_slice(&1u16.to_le_bytes());
    rehash(&mut g);
    assert_eq!(Snapshot::parse(&g).unwrap_err(), LoadError::MissingSection);
}

/// The in-place checks (`EntryTable::check_in_place`, the C API's XIP path, which does not
/// read the relocation table): the region starts at an allocated section and the entries
/// lie inside it.
#[test]
fn in_place_region_is_an_allocated_section() {
    let object = elf(&[1; 16], &[(64, 8)]);
    let check_len = |off: u32, len: u32, offs: &[(u32, u32)]| {
        let e = entries(off, len, offs);
        EntryTable::parse(&e, object.len())
            .unwrap()
            .check_in_place(&object)
    };
    // A code length past the section rounded up to 8.
    assert_eq!(
        check_len(64, 16, &[(0, 4), (4, 4), (NO_ENTRY, 0)]),
        Err(LoadError::BadOffset)
    );
    let check = |off: u32, offs: &[(u32, u32)]| {
        let e = entries(off, 8, offs);
        EntryTable::parse(&e, object.len())
            .unwrap()
            .check_in_place(&object)
    };
    assert_eq!(check(64, &[(0, 4), (4, 4), (NO_ENTRY, 0)]), Ok(()));
    // Not where the section starts (inside the object, inside the payload).
    assert_eq!(
        check(65, &[(0, 4), (4, 3), (NO_ENTRY, 0)]),
        Err(LoadError::BadOffset)
    );
    assert_eq!(
        check(72, &[(0, 4), (4, 4), (NO_ENTRY, 0)]),
        Err(LoadError::BadOffset)
    );
    // An entry past the section's end (inside the region the table claims: a 6-byte
    // section, an 8-byte region).
    let short = elf(&[1; 16], &[(64, 6)]);
    let in_short = |offs: &[(u32, u32)]| {
        let e = entries(64, 8, offs);
        EntryTable::parse(&e, short.len())
            .unwrap()
            .check_in_place(&short)
    };
    assert_eq!(in_short(&[(0, 4), (4, 2), (NO_ENTRY, 0)]), Ok(()));
    assert_eq!(
        in_short(&[(0, 4), (4, 3), (NO_ENTRY, 0)]),
        Err(LoadError::BadOffset)
    );
    // Not in place at all.
    let e = entries(NO_ENTRY, 8, &[(0, 4), (4, 4), (NO_ENTRY, 0)]);
    assert_eq!(
        EntryTable::parse(&e, object.len())
            .unwrap()
            .check_in_place(&object),
        Err(LoadError::UnsupportedElf)
    );
    // A section whose bytes are not all in the object.
    let mut big = elf(&[1; 16], &[(64, 8)]);
    let h = big.len() - 64;
    let too_big = (big.len() as u64).to_le_bytes();
    big[h + 32..h + 40].copy_from_slice(&too_big);
    let e = entries(64, 8, &[(0, 4), (4, 4), (NO_ENTRY, 0)]);
    assert_eq!(
        EntryTable::parse(&e, big.len())
            .unwrap()
            .check_in_place(&big),
        Err(LoadError::BadOffset)
    );
}
