//! Unit tests of instantiation, segments and the libcalls.

use super::*;
use crate::abi::{WASM_PAGE_SIZE, libcall};
use crate::meta::{
    ConstExpr, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExportKind, GlobalDef, Import,
    ImportKind, MemoryType, ModuleMeta, TableType,
};
use alloc::string::ToString;

fn empty_sig_meta() -> ModuleMeta {
    ModuleMeta {
        types: vec![FuncType::default()],
        ..ModuleMeta::default()
    }
}

fn mem_ty(min: u32, max: Option<u32>) -> MemoryType {
    MemoryType {
        limits: Limits {
            min: min.into(),
            max: max.map(u64::from),
        },
        index64: false,
    }
}

fn new_inst(meta: &ModuleMeta, imports: Imports) -> Result<Pin<Box<Instance>>, InstanceError> {
    let ids = (0..meta.types.len() as u32).collect();
    // SAFETY: test imports are live for the test's duration.
    unsafe { Instance::new(meta, ids, imports, ptr::null_mut()) }
}

#[test]
fn globals_funcs_and_data() {
    let mut meta = empty_sig_meta();
    meta.funcs = vec![0, 0];
    meta.memories = vec![mem_ty(1, Some(3))];
    meta.global_types = vec![GlobalType {
        ty: ValType::I32,
        mutable: false,
    }];
    meta.globals = vec![GlobalDef {
        ty: meta.global_types[0],
        init: ConstExpr::I32(-5),
    }];
    meta.datas = vec![DataSegment {
        mode: DataMode::Active {
            memory: 0,
            offset: ConstExpr::GlobalGet(0),
        },
        bytes: b"xy".to_vec(),
    }];
    meta.exports = vec![Export {
        name: "m".to_string(),
        kind: ExportKind::Memory,
        index: 0,
    }];
    // Offset -5 as u32 is out of bounds: instantiation traps.
    let inst = new_inst(&meta, Imports::default()).unwrap();
    assert_eq!(inst.initialize(&meta), Err(TrapCode::MemoryOutOfBounds));

    meta.globals[0].init = ConstExpr::I32(10);
    let inst = new_inst(&meta, Imports::default()).unwrap();
    inst.initialize(&meta).unwrap();
    let m = inst.memory(0).unwrap();
    // SAFETY: the instance is live.
    assert_eq!(unsafe { &(*m).data()[10..12] }, b"xy");
    // SAFETY: as above.
    assert_eq!(unsafe { (*inst.global(0).unwrap()).value }, 10);
    let f1 = inst.func(1).unwrap();
    // SAFETY: as above.
    unsafe {
        assert_eq!((*f1).func_index, 1);
        assert_eq!((*f1).vmctx, inst.vmctx());
        assert_eq!(
            Instance::from_vmctx(inst.vmctx()) as *const _,
            &*inst as *const _
        );
        let globals = (*inst.vmctx()).globals;
        assert_eq!(**globals, 10);
    }
    // memory.grow through the libcall table, honouring the maximum.
    // SAFETY: the table holds `libcall_memory_grow` at this index.
    let grow: unsafe extern "C" fn(*mut VMContext, u32, u32) -> u32 =
        unsafe { core::mem::transmute(*inst.libcalls_mut().add(libcall::MEMORY_GROW)) };
    // SAFETY: the vmctx is live.
    unsafe {
        assert_eq!(grow(inst.vmctx(), 0, 2), 1);
        assert_eq!(grow(inst.vmctx(), 0, 1), u32::MAX);
        assert_eq!((*(*inst.vmctx()).memory).len, 3 * WASM_PAGE_SIZE);
        assert_eq!(&(*m).data()[10..12], b"xy");
    }
}

#[test]
fn element_segments_trap_midway_and_keep_earlier_writes() {
    let mut meta = empty_sig_meta();
    meta.funcs = vec![0];
    meta.tables = vec![TableType {
        index64: false,
        elem: ValType::FuncRef,
        limits: Limits { min: 2, max: None },
    }];
    meta.memories = vec![mem_ty(1, None)];
    meta.elems = vec![
        ElemSegment {
            mode: ElemMode::Active {
                table: 0,
                offset: ConstExpr::I32(0),
            },
            ty: ValType::FuncRef,
            items: vec![ConstExpr::RefFunc(0)],
        },
        ElemSegment {
            mode: ElemMode::Active {
                table: 0,
                offset: ConstExpr::I32(1),
            },
            ty: ValType::FuncRef,
            items: vec![ConstExpr::RefFunc(0), ConstExpr::RefFunc(0)],
        },
    ];
    meta.datas = vec![DataSegment {
        mode: DataMode::Active {
            memory: 0,
            offset: ConstExpr::I32(0),
        },
        bytes: b"z".to_vec(),
    }];
    let inst = new_inst(&meta, Imports::default()).unwrap();
    assert_eq!(inst.initialize(&meta), Err(TrapCode::TableOutOfBounds));
    assert_eq!(inst.table_get(0, 0).unwrap(), inst.func(0).unwrap() as u64);
    assert_eq!(inst.table_get(0, 1).unwrap(), 0);
    // Data segments come after elements: not applied.
    // SAFETY: the instance is live.
    assert_eq!(unsafe { (*inst.memory(0).unwrap()).data()[0] }, 0);
    // Active segments are dropped: table.init of length 0 at offset 0 works, 1 traps.
    assert_eq!(inst.table_init(0, 0, 0, 0, 0), Ok(()));
    assert_eq!(
        inst.table_init(0, 0, 0, 0, 1),
        Err(TrapCode::TableOutOfBounds)
    );
}

#[test]
fn passive_segments_and_bulk_ops() {
    let mut meta = empty_sig_meta();
    meta.funcs = vec![0];
    meta.tables = vec![TableType {
        index64: false,
        elem: ValType::FuncRef,
        limits: Limits {
            min: 4,
            max: Some(5),
        },
    }];
    meta.memories = vec![mem_ty(1, None)];
    meta.elems = vec![ElemSegment {
        mode: ElemMode::Passive,
        ty: ValType::FuncRef,
        items: vec![ConstExpr::RefNull(ValType::FuncRef), ConstExpr::RefFunc(0)],
    }];
    meta.datas = vec![DataSegment {
        mode: DataMode::Passive,
        bytes: b"abcd".to_vec(),
    }];
    let inst = new_inst(&meta, Imports::default()).unwrap();
    inst.initialize(&meta).unwrap();
    let f0 = inst.func(0).unwrap() as u64;

    inst.table_init(0, 0, 2, 0, 2).unwrap();
    assert_eq!(inst.table_get(0, 3), Ok(f0));
    assert_eq!(
        inst.table_init(0, 0, 3, 0, 2),
        Err(TrapCode::TableOutOfBounds)
    );
    inst.table_copy(0, 0, 0, 2, 2).unwrap();
    assert_eq!(inst.table_get(0, 1), Ok(f0));
    inst.table_fill(0, 0, 7, 4).unwrap();
    assert_eq!(inst.table_get(0, 3), Ok(7));
    assert_eq!(inst.table_fill(0, 4, 7, 1), Err(TrapCode::TableOutOfBounds));
    assert_eq!(inst.table_fill(0, 4, 7, 0), Ok(()));
    assert_eq!(inst.table_grow(0, 9, 1), 4);
    assert_eq!(inst.table_grow(0, 9, 1), u32::MAX);
    assert_eq!(inst.table_get(0, 4), Ok(9));
    inst.elem_drop(0);
    assert_eq!(
        inst.table_init(0, 0, 0, 0, 1),
        Err(TrapCode::TableOutOfBounds)
    );

    inst.memory_init(0, 0, 100, 1, 3).unwrap();
    inst.memory_copy(0, 0, 101, 100, 3).unwrap();
    inst.memory_fill(0, 99, 0x2a, 1).unwrap();
    // SAFETY: the instance is live.
    let data = unsafe { (*inst.memory(0).unwrap()).data() };
    assert_eq!(&data[99..104], b"*bbcd");
    assert_eq!(
        inst.memory_fill(0, 65535, 0, 2),
        Err(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(inst.memory_fill(0, 65536, 0, 0), Ok(()));
    assert_eq!(
        inst.memory_copy(0, 0, 0, 65535, 2),
        Err(TrapCode::MemoryOutOfBounds)
    );
    inst.data_drop(0);
    assert_eq!(
        inst.memory_init(0, 0, 0, 0, 1),
        Err(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(inst.memory_init(0, 0, 0, 0, 0), Ok(()));
}

#[test]
fn import_checks() {
    let mut exporter = empty_sig_meta();
    exporter.memories = vec![mem_ty(2, Some(4))];
    exporter.global_types = vec![GlobalType {
        ty: ValType::I64,
        mutable: true,
    }];
    exporter.globals = vec![GlobalDef {
        ty: exporter.global_types[0],
        init: ConstExpr::I64(42),
    }];
    let a = new_inst(&exporter, Imports::default()).unwrap();

    let mut importer = empty_sig_meta();
    let imp = |kind| Import {
        module: "a".to_string(),
        name: "x".to_string(),
        kind,
    };
    importer.imports = vec![
        imp(ImportKind::Memory(mem_ty(1, Some(4)))),
        imp(ImportKind::Global(exporter.global_types[0])),
    ];
    importer.memories = vec![mem_ty(1, Some(4))];
    importer.num_imported_memories = 1;
    importer.global_types = vec![exporter.global_types[0]];
    importer.num_imported_globals = 1;
    let imports = Imports {
        memories: vec![a.memory(0).unwrap()],
        globals: vec![a.global(0).unwrap()],
        ..Imports::default()
    };
    let b = new_inst(&importer, imports.clone()).unwrap();
    assert_eq!(b.memory(0), a.memory(0));
    assert_eq!(b.memory_grow(0, 1), 2);
    assert_eq!(a.memory_size(0), 3);
    // SAFETY: both instances are live.
    unsafe {
        *(*(*b.vmctx()).globals) = 7;
        assert_eq!((*a.global(0).unwrap()).value, 7);
    }

    // Memory max larger than the import allows.
    importer.imports[0].kind = ImportKind::Memory(mem_ty(1, Some(3)));
    assert!(matches!(
        new_inst(&importer, imports.clone()),
        Err(InstanceError::IncompatibleImport { index: 0, .. })
    ));
    // Minimum larger than the current size.
    importer.imports[0].kind = ImportKind::Memory(mem_ty(4, None));
    assert!(new_inst(&importer, imports.clone()).is_err());
    // Global mutability mismatch.
    importer.imports[0].kind = ImportKind::Memory(mem_ty(1, None));
    importer.imports[1].kind = ImportKind::Global(GlobalType {
        ty: ValType::I64,
        mutable: false,
    });
    assert!(matches!(
        new_inst(&importer, imports),
        Err(InstanceError::IncompatibleImport { index: 1, .. })
    ));
}

#[test]
fn type_registry_interns() {
    let mut r = TypeRegistry::new();
    let a = FuncType {
        params: vec![ValType::I32],
        results: vec![],
    };
    let b = FuncType {
        params: vec![],
        results: vec![ValType::I32],
    };
    let ia = r.intern(&a);
    let ib = r.intern(&b);
    assert_ne!(ia, ib);
    assert_eq!(r.intern(&a.clone()), ia);
    assert_eq!(r.get(ib), Some(&b));
}

/// Resident set size of this process in bytes (Linux `/proc/self/statm`, second field).
#[cfg(all(feature = "std", target_os = "linux"))]
fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Issue #14 item 6: a checked memory of 65,536 pages (4 GiB) costs address space, not RSS,
/// and growing to the maximum by big deltas commits in place: no copy, base unchanged, fast.
/// (The old heap path copied the old contents on every growth: ~4 GiB RSS, seconds.)
#[cfg(all(feature = "std", target_os = "linux"))]
#[test]
fn checked_memory_is_reserved_not_committed() {
    let limit = 256 << 20;
    let before = rss_bytes();
    let mut big = LinearMemory::new(mem_ty(65_536, None)).unwrap();
    assert_eq!(big.pages(), 65_536);
    let n = big.data().len();
    big.data_mut()[n - 1] = 7;
    assert_eq!(big.data()[n - 1], 7);
    assert!(
        rss_bytes().saturating_sub(before) < limit,
        "min 65,536 pages committed"
    );
    drop(big);

    let t = std::time::Instant::now();
    let before = rss_bytes();
    let mut m = LinearMemory::new(mem_ty(1, None)).unwrap();
    m.data_mut()[0] = 1;
    let base = m.def.base;
    let p: *mut LinearMemory = &mut *m;
    let mut pages = 1u32;
    for delta in [4095u32, 8192, 16_384, 32_768, 4096] {
        // SAFETY: `m` is live and no reference into its bytes is held.
        assert_eq!(unsafe { LinearMemory::grow(p, delta) }, Some(pages));
        pages += delta;
        // Touch the last byte of the new size and the old contents.
        let len = m.data().len();
        m.data_mut()[len - 1] = 9;
        assert_eq!(m.data()[0], 1);
    }
    assert_eq!(m.pages(), 65_536);
    assert_eq!(m.def.base, base, "grew in place");
    // SAFETY: as above.
    assert_eq!(unsafe { LinearMemory::grow(p, 1) }, None);
    assert!(
        rss_bytes().saturating_sub(before) < limit,
        "growth committed the memory"
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );

    // A declared maximum bounds the reservation and growth.
    let mut small = LinearMemory::new(mem_ty(0, Some(2))).unwrap();
    let p: *mut LinearMemory = &mut *small;
    // SAFETY: as above.
    unsafe {
        assert_eq!(LinearMemory::grow(p, 3), None);
        assert_eq!(LinearMemory::grow(p, 2), Some(0));
        assert_eq!(LinearMemory::grow(p, 1), None);
    }
    assert_eq!(small.data().len(), 2 << 16);
    assert!(small.data().iter().all(|&b| b == 0));
    // No maximum, no pages: still usable.
    let z = LinearMemory::new(mem_ty(0, Some(0))).unwrap();
    assert!(z.data().is_empty());
}

/// A minimum above the maximum (only a crafted snapshot has one: `MetaView::parse` reads the
/// limits as they are) is refused by the instance core, for every loader, instead of making
/// a memory or table larger than its maximum.
#[test]
fn limits_with_min_above_max_are_refused() {
    assert!(matches!(
        LinearMemory::new(mem_ty(2, Some(1))),
        Err(InstanceError::Malformed(_))
    ));
    let ty = TableType {
        index64: false,
        elem: ValType::FuncRef,
        limits: Limits {
            min: 3,
            max: Some(2),
        },
    };
    assert!(matches!(
        TableInst::new(ty, 0),
        Err(InstanceError::Malformed(_))
    ));
    // Equal is fine, and growth stops at the maximum.
    let mut t = TableInst::new(
        TableType {
            index64: false,
            limits: Limits {
                min: 2,
                max: Some(2),
            },
            ..ty
        },
        7,
    )
    .unwrap();
    assert_eq!(t.elems(), &[7, 7]);
    assert_eq!(t.grow(1, 0), None);
    assert_eq!(t.grow(0, 0), Some(2));
}

/// Table slots live in the `TableDef` block: growth keeps the old slots, fills the new ones
/// with the initial value, and the definition compiled code reads follows.
#[test]
fn table_growth_moves_the_definition_with_the_slots() {
    let ty = TableType {
        index64: false,
        elem: ValType::FuncRef,
        limits: Limits { min: 0, max: None },
    };
    let mut t = TableInst::new(ty, 0).unwrap();
    assert!(t.is_empty() && t.get(0).is_none());
    assert_eq!(t.grow(3, 5), Some(0));
    assert!(t.set(1, 9));
    assert_eq!(t.grow(1000, 1), Some(3));
    assert_eq!(t.len(), 1003);
    assert_eq!(&t.elems()[..4], &[5, 9, 5, 1]);
    assert_eq!(t.def.len, 1003);
    // SAFETY: the definition describes the table's live slots.
    assert_eq!(unsafe { *t.def.base.add(1002) }, 1);
    assert!(!t.set(1003, 0));
}

/// Extended constant expressions (tags 8/9): operations encoded as `CONST_OP_BYTES`-byte
/// records, evaluated by the one evaluator; malformed operation lists are refused.
#[test]
fn extended_constant_expressions() {
    fn op(code: &mut Vec<u8>, o: u8, x: u64) {
        code.push(o);
        code.extend_from_slice(&x.to_le_bytes());
    }
    let g = |ty| GlobalType { ty, mutable: false };
    let mut meta = empty_sig_meta();
    meta.global_types = vec![g(ValType::I32), g(ValType::I32), g(ValType::I64)];
    let mut code = Vec::new();
    // g1 = g0 * 3 - 1 (i32, wrapping); g2 = i64.const -2 * i64.const 2^62 (wrapping).
    op(&mut code, 0x23, 0);
    op(&mut code, 0x41, 3);
    op(&mut code, 0x6c, 0);
    op(&mut code, 0x41, 1);
    op(&mut code, 0x6b, 0);
    let l1 = code.len() as u32;
    op(&mut code, 0x42, (-2i64) as u64);
    op(&mut code, 0x42, 1 << 62);
    op(&mut code, 0x7e, 0);
    let l2 = code.len() as u32 - l1;
    meta.const_code = code;
    meta.globals = vec![
        GlobalDef {
            ty: g(ValType::I32),
            init: ConstExpr::I32(i32::MAX),
        },
        GlobalDef {
            ty: g(ValType::I32),
            init: ConstExpr::Code {
                i64: false,
                off: 0,
                len: l1,
            },
        },
        GlobalDef {
            ty: g(ValType::I64),
            init: ConstExpr::Code {
                i64: true,
                off: l1,
                len: l2,
            },
        },
    ];
    let inst = new_inst(&meta, Imports::default()).unwrap();
    // SAFETY: the cells are live while the instance is.
    let v = |i| unsafe { (*inst.global(i).unwrap()).value };
    assert_eq!(
        v(1),
        u64::from(i32::MAX.wrapping_mul(3).wrapping_sub(1) as u32)
    );
    assert_eq!(v(2), (-2i64).wrapping_mul(1 << 62) as u64);
    // Refused: a range outside the code, a truncated op, an unknown opcode, underflow, two
    // values left, a global not initialised yet, a stack deeper than CONST_STACK.
    let bad = |code: Vec<u8>, len: Option<u32>| {
        let mut m = meta.clone();
        m.globals[1].init = ConstExpr::Code {
            i64: false,
            off: 0,
            len: len.unwrap_or(code.len() as u32),
        };
        m.const_code = code;
        assert!(new_inst(&m, Imports::default()).is_err());
    };
    bad(meta.const_code[..l1 as usize].to_vec(), Some(l1 + 9));
    bad(meta.const_code[..l1 as usize - 1].to_vec(), None);
    let mut c = Vec::new();
    op(&mut c, 0x41, 1);
    op(&mut c, 0x41, 1);
    op(&mut c, 0x6d, 0);
    bad(c, None);
    let mut c = Vec::new();
    op(&mut c, 0x41, 1);
    op(&mut c, 0x6a, 0);
    bad(c, None);
    let mut c = Vec::new();
    op(&mut c, 0x41, 1);
    op(&mut c, 0x41, 1);
    bad(c, None);
    let mut c = Vec::new();
    op(&mut c, 0x23, 1);
    op(&mut c, 0x41, 1);
    op(&mut c, 0x6a, 0);
    bad(c, None);
    let mut c = Vec::new();
    for _ in 0..=crate::meta::CONST_STACK {
        op(&mut c, 0x41, 1);
    }
    for _ in 0..crate::meta::CONST_STACK {
        op(&mut c, 0x6a, 0);
    }
    bad(c, None);
    // Through the snapshot metadata: the operations move to the pool and back.
    #[cfg(feature = "write")]
    {
        let b = crate::meta_codec::encode_meta(&meta);
        assert_eq!(crate::meta_codec::decode_meta(&b).unwrap(), meta);
    }
}

/// A defined table with an initialiser expression starts with every element set to its
/// value, through both sources (`ModuleMeta` and the snapshot's `MetaView`); `ref.null`
/// tables stay zero.
#[cfg(feature = "write")]
#[test]
fn table_initialiser_fills_every_element() {
    let mut meta = empty_sig_meta();
    meta.funcs = vec![0, 0];
    let tab = |min| TableType {
        index64: false,
        elem: ValType::FuncRef,
        limits: Limits { min, max: None },
    };
    meta.tables = vec![tab(3), tab(2)];
    meta.table_inits = vec![ConstExpr::RefFunc(1), ConstExpr::RefNull(ValType::FuncRef)];
    let bytes = crate::meta_codec::encode_meta(&meta);
    let view = crate::meta_view::MetaView::parse(&bytes).unwrap();
    assert_eq!(crate::meta_codec::decode_meta(&bytes).unwrap(), meta);
    let check = |inst: &Instance| {
        let f1 = inst.func(1).unwrap() as u64;
        // SAFETY: the instance is live.
        unsafe {
            assert_eq!((*inst.table(0).unwrap()).elems(), &[f1, f1, f1]);
            assert_eq!((*inst.table(1).unwrap()).elems(), &[0, 0]);
        }
    };
    check(&new_inst(&meta, Imports::default()).unwrap());
    let ids = vec![0];
    // SAFETY: no imports.
    check(&unsafe { Instance::new(&view, ids, Imports::default(), ptr::null_mut()) }.unwrap());
}
