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
    // expressions), 7 (32-bit limits, before memory64), 8 (before signature classes) and
    // unknown versions are refused.
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

/// `validate_and_apply` (the C library's one pass) accepts exactly the tables `validate`
/// followed by `apply` accept and builds the same region: every single-bit flip of a table
/// with every record kind, at several code lengths, region sizes and bases.
#[test]
fn validate_and_apply_matches_validate_then_apply() {
    use reloc::*;
    let payload: Vec<u8> = (1..=48).collect();
    let object = elf(&payload, &[(64, 12), (76, 28)]);
    let t = reloc_table(&[
        [0, COPY, 64, 12],
        [16, COPY, 76, 28],
        [16, ABS64, 8, -2i32 as u32],
        [24, PC32, 0, -4i32 as u32],
        [28, PC32_EXT, 1, 0],
        [32, ABS64_EXT, 8, 5],
        [48, ABS64, 20, 0],
    ]);
    let (mut accepted, mut refused) = (0, 0);
    for bit in 0..=(t.len() - 4) * 8 {
        let mut f = t.clone();
        // `bit` past the records: the table unchanged.
        if let Some(b) = f.get_mut(4 + bit / 8) {
            *b ^= 1 << (bit % 8);
        }
        for (code_len, region_len, base) in
            [(56, 64, 0x1_0000u64), (56, 55, 0x1_0000), (64, 64, 1 << 40)]
        {
            let table = RelocTable::new(&f, code_len).unwrap();
            let (mut r1, mut r2) = ([0xAAu8; 64], [0x55u8; 64]);
            let two = table
                .validate(&object)
                .and_then(|()| table.apply(&object, &mut r1[..region_len], base, ext));
            let one = table.validate_and_apply(&object, &mut r2[..region_len], base, ext);
            assert_eq!(
                two.is_ok(),
                one.is_ok(),
                "bit {bit}, code length {code_len}: {two:?} / {one:?}"
            );
            if one.is_ok() {
                assert_eq!(r1[..code_len], r2[..code_len], "bit {bit}");
                accepted += 1;
            } else {
                refused += 1;
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
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
        // The lean parse leaves the table to the path that applies it.
        let lean = Snapshot::parse_without_records(&f).unwrap();
        assert_eq!(
            lean.validate_relocations().err(),
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
    let lean = Snapshot::parse_without_records(&f).unwrap();
    assert_eq!(
        lean.validate_relocations().err(),
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
