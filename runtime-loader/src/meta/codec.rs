//! The snapshot's metadata section and the owned [`ModuleMeta`]: [`decode_meta`] builds one
//! from the section, `encode_meta` (feature `write`) writes it.
//!
//! The section is flat: fixed-size little-endian `u32` records and a byte pool (layout in
//! [`crate::meta_view`] and `docs/SNAPSHOT.md`). [`decode_meta`] trusts nothing: it reads
//! through [`MetaView::parse`] (every tag, range and index checked, no allocation driven by
//! counts before the section's length has been matched against them) and also checks that
//! names are UTF-8.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::LoadError;
use crate::meta::{
    ConstExpr, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExportKind, FuncType,
    GlobalDef, Import, ImportKind, ModuleMeta,
};
use crate::meta_view::{MetaView, RawExpr, val_type};

/// Decodes and validates a metadata section: [`MetaView::parse`] validates it, then the
/// owned [`ModuleMeta`] is built from the view (one reader of the format).
///
/// # Errors
/// [`LoadError::BadMeta`] for any malformed or inconsistent field, [`LoadError::BadUtf8`]
/// for a name that is not UTF-8.
pub fn decode_meta(bytes: &[u8]) -> Result<ModuleMeta, LoadError> {
    let v = MetaView::parse(bytes)?;
    let ty = |t: &[u8]| t.iter().filter_map(|&b| val_type(b.into())).collect();
    let name = |b: &[u8]| {
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| LoadError::BadUtf8)
    };
    let mut seen = [0u32; 4];
    let mut imports = Vec::with_capacity(v.num_imports() as usize);
    for i in 0..v.num_imports() {
        let imp = v.import(i);
        let k = &mut seen[imp.kind as usize];
        let kind = match imp.kind {
            ExportKind::Func => ImportKind::Func(v.func_type_index(*k)),
            ExportKind::Memory => ImportKind::Memory(v.memory(*k)),
            ExportKind::Table => ImportKind::Table(v.table(*k)),
            ExportKind::Global => ImportKind::Global(v.global_type(*k)),
        };
        *k += 1;
        imports.push(Import {
            module: name(imp.module)?,
            name: name(imp.name)?,
            kind,
        });
    }
    let mut exports = Vec::with_capacity(v.num_exports() as usize);
    for i in 0..v.num_exports() {
        let e = v.export(i);
        exports.push(Export {
            name: name(e.name)?,
            kind: e.kind,
            index: e.index,
        });
    }
    let nig = v.num_imported_globals();
    // Extended constant expressions: their operations move from the pool to `const_code`.
    let mut const_code = Vec::new();
    let mut globals = Vec::with_capacity(v.num_defined_globals() as usize);
    for d in 0..v.num_defined_globals() {
        let raw = v.global_init(d);
        globals.push(GlobalDef {
            ty: v.global_type(nig + d),
            init: own_code(&v, v.decode_expr(raw)?, raw, &mut const_code),
        });
    }
    let nit = v.num_imported_tables();
    let mut table_inits = Vec::with_capacity((v.num_tables() - nit) as usize);
    for t in nit..v.num_tables() {
        let raw = v.table_init(t);
        table_inits.push(own_code(&v, raw.decode(), raw, &mut const_code));
    }
    let mut elems = Vec::with_capacity(v.num_elems() as usize);
    for i in 0..v.num_elems() {
        let e = v.elem(i);
        let mut mode = e.mode();
        if let (ElemMode::Active { offset, .. }, Some((_, raw))) = (&mut mode, e.active) {
            *offset = own_code(&v, *offset, raw, &mut const_code);
        }
        let mut items = Vec::with_capacity(e.count as usize);
        for j in e.first..e.first + e.count {
            let raw = v.elem_item(j);
            items.push(own_code(&v, raw.decode(), raw, &mut const_code));
        }
        elems.push(ElemSegment {
            mode,
            ty: e.ty,
            items,
        });
    }
    let mut datas = Vec::with_capacity(v.num_datas() as usize);
    for i in 0..v.num_datas() {
        let d = v.data(i);
        let mut mode = d.mode();
        if let (DataMode::Active { offset, .. }, Some((_, raw))) = (&mut mode, d.active) {
            *offset = own_code(&v, *offset, raw, &mut const_code);
        }
        datas.push(DataSegment {
            mode,
            bytes: Vec::from(d.bytes),
        });
    }
    let mut meta = ModuleMeta {
        types: (0..v.num_types())
            .map(|t| {
                let t = v.type_at(t);
                FuncType {
                    params: ty(t.params),
                    results: ty(t.results),
                }
            })
            .collect(),
        imports,
        funcs: (0..v.num_funcs()).map(|f| v.func_type_index(f)).collect(),
        num_imported_funcs: v.num_imported_funcs(),
        memories: (0..v.num_memories()).map(|m| v.memory(m)).collect(),
        num_imported_memories: v.num_imported_memories(),
        tables: (0..v.num_tables()).map(|t| v.table(t)).collect(),
        num_imported_tables: nit,
        table_inits,
        global_types: (0..v.num_globals()).map(|g| v.global_type(g)).collect(),
        num_imported_globals: nig,
        globals,
        exports,
        start: v.start(),
        elems,
        datas,
        const_code,
        type_classes: Vec::new(),
    };
    meta.set_type_classes((0..v.num_types()).map(|t| v.type_class(t)).collect());
    Ok(meta)
}

/// `e` (decoded from `raw`) with an extended expression's operations copied from the pool
/// to the end of `code` (its offset rewritten); any other expression as is.
#[inline(never)]
fn own_code(v: &MetaView<'_>, e: ConstExpr, raw: RawExpr, code: &mut Vec<u8>) -> ConstExpr {
    match e {
        ConstExpr::Code { i64, .. } => {
            let ops = v.const_code(raw);
            let off = code.len() as u32;
            code.extend_from_slice(ops);
            ConstExpr::Code {
                i64,
                off,
                len: ops.len() as u32,
            }
        }
        e => e,
    }
}

#[cfg(feature = "write")]
pub use writer::encode_meta;

#[cfg(feature = "write")]
mod writer {
    use super::*;
    use crate::meta::{ConstExpr, DataMode, ElemMode, Limits, ValType};
    use crate::meta_view::{RawExpr, header};

    /// The record tables (in section order) and the pool being written.
    struct W {
        tabs: [Vec<u32>; 11],
        pool: Vec<u8>,
    }

    fn val(t: ValType) -> u32 {
        crate::meta_view::val_code(t)
    }

    fn kind(k: ExportKind) -> u32 {
        match k {
            ExportKind::Func => 0,
            ExportKind::Memory => 1,
            ExportKind::Table => 2,
            ExportKind::Global => 3,
        }
    }

    /// Saturates: a length or offset past `u32` cannot be written, and the reader then
    /// refuses the section (the layout's length no longer matches).
    fn n(v: usize) -> u32 {
        u32::try_from(v).unwrap_or(u32::MAX)
    }

    fn limits(l: Limits, index64: bool) -> [u32; 5] {
        let max = l.max.unwrap_or(0);
        let flags = u32::from(l.max.is_some()) | u32::from(index64) << 1;
        [
            l.min as u32,
            (l.min >> 32) as u32,
            max as u32,
            (max >> 32) as u32,
            flags,
        ]
    }

    fn expr(e: &ConstExpr, code: &[u8], pool: &mut Vec<u8>) -> [u32; 3] {
        let RawExpr { tag, value: v } = match *e {
            // The operations go to the pool; the payload is their offset and length (an
            // out-of-range source gives no bytes: the evaluator then refuses it).
            ConstExpr::Code { i64, off, len } => {
                let at = n(pool.len());
                let ops = code
                    .get(off as usize..)
                    .and_then(|c| c.get(..len as usize))
                    .unwrap_or(&[]);
                pool.extend_from_slice(ops);
                RawExpr::encode(&ConstExpr::Code {
                    i64,
                    off: at,
                    len: n(ops.len()),
                })
            }
            // The 16 bytes go to the pool; the payload is their offset.
            ConstExpr::V128(x) => {
                let off = n(pool.len());
                pool.extend_from_slice(&x.to_le_bytes());
                RawExpr {
                    tag: 7,
                    value: u64::from(off),
                }
            }
            _ => RawExpr::encode(e),
        };
        [tag, v as u32, (v >> 32) as u32]
    }

    impl W {
        /// Appends `b` to the pool: its offset and length words.
        fn bytes(&mut self, b: &[u8]) -> [u32; 2] {
            let off = n(self.pool.len());
            self.pool.extend_from_slice(b);
            [off, n(b.len())]
        }
    }

    /// Encodes `meta` for the snapshot's metadata section.
    pub fn encode_meta(meta: &ModuleMeta) -> Vec<u8> {
        let mut w = W {
            tabs: Default::default(),
            pool: Vec::new(),
        };
        let classes = meta.all_type_classes();
        for (t, &class) in meta.types.iter().zip(&classes) {
            let mut b: Vec<u8> = t.params.iter().map(|&p| val(p) as u8).collect();
            b.extend(t.results.iter().map(|&r| val(r) as u8));
            let [off, _] = w.bytes(&b);
            w.tabs[0].extend([off, n(t.params.len()), n(t.results.len()), class]);
        }
        for i in &meta.imports {
            let [mo, ml] = w.bytes(i.module.as_bytes());
            let [no, nl] = w.bytes(i.name.as_bytes());
            let k = match i.kind {
                ImportKind::Func(_) => 0,
                ImportKind::Memory(_) => 1,
                ImportKind::Table(_) => 2,
                ImportKind::Global(_) => 3,
            };
            w.tabs[1].extend([mo, ml, no, nl, k]);
        }
        w.tabs[2].extend(meta.funcs.iter().copied());
        for m in &meta.memories {
            w.tabs[3].extend(limits(m.limits, m.index64));
        }
        let nit = meta.num_imported_tables as usize;
        for (i, t) in meta.tables.iter().enumerate() {
            w.tabs[4].push(val(t.elem));
            w.tabs[4].extend(limits(t.limits, t.index64));
            // Imported tables (and defined ones without an initialiser): `ref.null`.
            let null = ConstExpr::RefNull(t.elem);
            let init = i
                .checked_sub(nit)
                .and_then(|d| meta.table_inits.get(d))
                .unwrap_or(&null);
            w.tabs[4].extend(expr(init, &meta.const_code, &mut w.pool));
        }
        for g in &meta.global_types {
            w.tabs[5].extend([val(g.ty), u32::from(g.mutable)]);
        }
        for g in &meta.globals {
            w.tabs[6].extend(expr(&g.init, &meta.const_code, &mut w.pool));
        }
        for e in &meta.exports {
            let [o, l] = w.bytes(e.name.as_bytes());
            w.tabs[7].extend([o, l, kind(e.kind), e.index]);
        }
        for e in &meta.elems {
            let (mode, table, offset) = match &e.mode {
                ElemMode::Active { table, offset } => {
                    (0, *table, expr(offset, &meta.const_code, &mut w.pool))
                }
                ElemMode::Passive => (1, 0, [0; 3]),
                ElemMode::Declared => (2, 0, [0; 3]),
            };
            let first = n(w.tabs[10].len() / 3);
            for i in &e.items {
                w.tabs[10].extend(expr(i, &meta.const_code, &mut w.pool));
            }
            w.tabs[8].extend([mode, table]);
            w.tabs[8].extend(offset);
            w.tabs[8].extend([val(e.ty), first, n(e.items.len())]);
        }
        for d in &meta.datas {
            let (mode, memory, offset) = match &d.mode {
                DataMode::Active { memory, offset } => {
                    (0, *memory, expr(offset, &meta.const_code, &mut w.pool))
                }
                DataMode::Passive => (1, 0, [0; 3]),
            };
            let [o, l] = w.bytes(&d.bytes);
            w.tabs[9].extend([mode, memory]);
            w.tabs[9].extend(offset);
            w.tabs[9].extend([o, l]);
        }
        let mut h = [0u32; header::WORDS];
        h[header::TYPES] = n(meta.types.len());
        h[header::IMPORTS] = n(meta.imports.len());
        h[header::FUNCS] = n(meta.funcs.len());
        h[header::IMPORTED_FUNCS] = meta.num_imported_funcs;
        h[header::MEMORIES] = n(meta.memories.len());
        h[header::IMPORTED_MEMORIES] = meta.num_imported_memories;
        h[header::TABLES] = n(meta.tables.len());
        h[header::IMPORTED_TABLES] = meta.num_imported_tables;
        h[header::GLOBALS] = n(meta.global_types.len());
        h[header::IMPORTED_GLOBALS] = meta.num_imported_globals;
        h[header::EXPORTS] = n(meta.exports.len());
        h[header::ELEMS] = n(meta.elems.len());
        h[header::DATAS] = n(meta.datas.len());
        h[header::ITEMS] = n(w.tabs[10].len() / 3);
        h[header::START] = meta.start.unwrap_or(u32::MAX);
        h[header::POOL] = n(w.pool.len());
        let mut out = Vec::new();
        for v in h.iter().chain(w.tabs.iter().flatten()) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&w.pool);
        out
    }
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use crate::meta::{
        ConstExpr, DataMode, ElemMode, GlobalType, Limits, MemoryType, TableType, ValType,
    };
    use alloc::string::ToString;
    use alloc::vec;

    /// A metadata value exercising every variant.
    pub(crate) fn sample() -> ModuleMeta {
        let ft = |p: &[ValType], r: &[ValType]| FuncType {
            params: p.to_vec(),
            results: r.to_vec(),
        };
        let mem = MemoryType {
            limits: Limits {
                min: 1,
                max: Some(3),
            },
            index64: false,
        };
        let tab = TableType {
            elem: ValType::FuncRef,
            limits: Limits { min: 2, max: None },
            index64: false,
        };
        let g0 = GlobalType {
            ty: ValType::I32,
            mutable: false,
        };
        let g1 = GlobalType {
            ty: ValType::F64,
            mutable: true,
        };
        ModuleMeta {
            types: vec![
                ft(&[], &[]),
                ft(&[ValType::I32, ValType::I64], &[ValType::F32]),
                ft(
                    &[ValType::F64, ValType::ExternRef],
                    &[ValType::FuncRef, ValType::I32],
                ),
            ],
            imports: vec![
                Import {
                    module: "env".to_string(),
                    name: "f".to_string(),
                    kind: ImportKind::Func(1),
                },
                Import {
                    module: "env".to_string(),
                    name: "mem".to_string(),
                    kind: ImportKind::Memory(mem),
                },
                Import {
                    module: "env".to_string(),
                    name: "tab".to_string(),
                    kind: ImportKind::Table(tab),
                },
                Import {
                    module: "env".to_string(),
                    name: "g".to_string(),
                    kind: ImportKind::Global(g0),
                },
            ],
            funcs: vec![1, 0, 2, 2],
            num_imported_funcs: 1,
            memories: vec![mem],
            num_imported_memories: 1,
            tables: vec![
                tab,
                TableType {
                    elem: ValType::ExternRef,
                    limits: Limits {
                        min: 0,
                        max: Some(0x1_0000_0000),
                    },
                    index64: true,
                },
            ],
            num_imported_tables: 1,
            table_inits: vec![ConstExpr::RefNull(ValType::ExternRef)],
            global_types: vec![g0, g1],
            num_imported_globals: 1,
            globals: vec![GlobalDef {
                ty: g1,
                init: ConstExpr::F64(0x4009_21fb_5444_2d18),
            }],
            exports: vec![
                Export {
                    name: "run".to_string(),
                    kind: ExportKind::Func,
                    index: 2,
                },
                Export {
                    name: "ünï".to_string(),
                    kind: ExportKind::Global,
                    index: 1,
                },
                Export {
                    name: "m".to_string(),
                    kind: ExportKind::Memory,
                    index: 0,
                },
                Export {
                    name: "t".to_string(),
                    kind: ExportKind::Table,
                    index: 1,
                },
            ],
            start: Some(1),
            elems: vec![
                ElemSegment {
                    mode: ElemMode::Active {
                        table: 0,
                        offset: ConstExpr::GlobalGet(0),
                    },
                    ty: ValType::FuncRef,
                    items: vec![ConstExpr::RefFunc(3), ConstExpr::RefNull(ValType::FuncRef)],
                },
                ElemSegment {
                    mode: ElemMode::Passive,
                    ty: ValType::ExternRef,
                    items: vec![ConstExpr::RefNull(ValType::ExternRef)],
                },
                ElemSegment {
                    mode: ElemMode::Declared,
                    ty: ValType::FuncRef,
                    items: vec![ConstExpr::RefFunc(0)],
                },
            ],
            datas: vec![
                DataSegment {
                    mode: DataMode::Active {
                        memory: 0,
                        offset: ConstExpr::I32(-5),
                    },
                    bytes: b"hello".to_vec(),
                },
                DataSegment {
                    mode: DataMode::Passive,
                    bytes: vec![0; 300],
                },
            ],
            const_code: Vec::new(),
            type_classes: Vec::new(),
        }
    }

    #[test]
    fn extended_const_round_trips_through_the_pool() {
        let mut m = sample();
        // i32.const 7, i32.const 5, i32.sub as the first data segment's offset.
        let mut code = vec![0u8; 4]; // leading bytes: offsets need not start at 0
        for (o, x) in [(0x41u8, 7u64), (0x41, 5), (0x6b, 0)] {
            code.push(o);
            code.extend_from_slice(&x.to_le_bytes());
        }
        m.const_code = code;
        let e = ConstExpr::Code {
            i64: false,
            off: 4,
            len: 27,
        };
        let DataMode::Active { offset, .. } = &mut m.datas[0].mode else {
            panic!("sample's first data segment is active");
        };
        *offset = e;
        let d = decode_meta(&encode_meta(&m)).unwrap();
        let DataMode::Active { offset, .. } = d.datas[0].mode else {
            panic!("decoded mode");
        };
        let ConstExpr::Code {
            i64: false,
            off,
            len,
        } = offset
        else {
            panic!("{offset:?}");
        };
        assert_eq!(
            &d.const_code[off as usize..][..len as usize],
            &m.const_code[4..]
        );
        // Through the in-place view (the C library's path): the operations are read from the
        // pool and evaluated; a range outside the pool gives no operations and no value.
        let bytes = encode_meta(&m);
        let v = MetaView::parse(&bytes).unwrap();
        let raw = v.data(0).active.unwrap().1;
        let eval = |e| crate::instance::init::eval_const(&v, e, &[], &[]);
        assert_eq!(eval(raw), Some(2));
        let outside = RawExpr {
            value: raw.value | 0xffff_0000 << 32,
            ..raw
        };
        assert!(v.const_code(outside).is_empty());
        assert_eq!(eval(outside), None);
        // An `i64` expression where an `i32` offset is needed is refused by the view.
        let DataMode::Active { offset, .. } = &mut m.datas[0].mode else {
            unreachable!()
        };
        *offset = ConstExpr::Code {
            i64: true,
            off: 4,
            len: 27,
        };
        assert!(decode_meta(&encode_meta(&m)).is_err());
    }

    /// memory64 / table64 (format v8): 64-bit limits and the index-type flag round-trip; an
    /// active segment's offset must have its memory's / table's index type, and a limits
    /// flags word above 3 is refused.
    #[test]
    fn memory64_limits_and_offset_types() {
        let mut m = sample();
        m.memories[0] = MemoryType {
            limits: Limits {
                min: 1,
                max: Some(1 << 48),
            },
            index64: true,
        };
        m.imports[1].kind = ImportKind::Memory(m.memories[0]);
        // The first data segment's i32 offset no longer fits memory 0: refused.
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        m.datas[0].mode = DataMode::Active {
            memory: 0,
            offset: ConstExpr::I64(1 << 40),
        };
        let b = encode_meta(&m);
        assert_eq!(decode_meta(&b).unwrap(), m);
        // Table 0 becomes table64: its element segment's i32 offset (a global.get of an
        // i32 global) is refused, an i64 constant accepted.
        m.tables[0].index64 = true;
        m.imports[2].kind = ImportKind::Table(m.tables[0]);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        m.elems[0].mode = ElemMode::Active {
            table: 0,
            offset: ConstExpr::I64(3),
        };
        assert_eq!(decode_meta(&encode_meta(&m)).unwrap(), m);
        // A flags word of 4 (an unknown bit) in the memory record: refused. The record is
        // found by its 64-bit maximum, 2^48: low word 0, high word 0x10000, then flags 3.
        let mut b = encode_meta(&m);
        let at = b
            .windows(12)
            .position(|w| w == [0, 0, 0, 0, 0, 0, 1, 0, 3, 0, 0, 0])
            .expect("memory record")
            + 8;
        b[at] = 4;
        assert_eq!(decode_meta(&b), Err(LoadError::BadMeta));
    }

    #[test]
    fn round_trip_sample_and_empty() {
        for m in [sample(), ModuleMeta::default()] {
            let b = encode_meta(&m);
            assert_eq!(decode_meta(&b).unwrap(), m);
        }
    }

    #[test]
    fn const_extremes_round_trip() {
        for v in [
            0i64,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            i64::MIN,
            i64::MAX,
        ] {
            let mut m = ModuleMeta::default();
            m.global_types = vec![GlobalType {
                ty: ValType::I64,
                mutable: false,
            }];
            m.globals = vec![GlobalDef {
                ty: m.global_types[0],
                init: ConstExpr::I64(v),
            }];
            assert_eq!(decode_meta(&encode_meta(&m)).unwrap(), m);
            if let Ok(v32) = i32::try_from(v) {
                m.global_types[0].ty = ValType::I32;
                m.globals[0] = GlobalDef {
                    ty: m.global_types[0],
                    init: ConstExpr::I32(v32),
                };
                assert_eq!(decode_meta(&encode_meta(&m)).unwrap(), m);
            }
        }
    }

    #[test]
    fn v128_types_and_consts_round_trip() {
        let mut m = ModuleMeta {
            types: vec![FuncType {
                params: vec![ValType::V128, ValType::I32],
                results: vec![ValType::V128],
            }],
            ..ModuleMeta::default()
        };
        let g = GlobalType {
            ty: ValType::V128,
            mutable: true,
        };
        m.global_types = vec![g, g];
        let x = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        m.globals = vec![
            GlobalDef {
                ty: g,
                init: ConstExpr::V128(x),
            },
            GlobalDef {
                ty: g,
                init: ConstExpr::GlobalGet(0),
            },
        ];
        let b = encode_meta(&m);
        assert_eq!(decode_meta(&b).unwrap(), m);
        // A v128.const whose pool offset points past the pool is refused.
        let v = MetaView::parse(&b).unwrap();
        let w = v.global_init(0);
        assert_eq!(w.tag, 7);
        // Header (16 words), one type (4), two global types (2 each): the first global's
        // initializer starts at word 24.
        let pos = 24;
        assert_eq!(b[pos * 4..pos * 4 + 4], 7u32.to_le_bytes());
        let mut bad = b.clone();
        bad[(pos + 1) * 4..(pos + 2) * 4].copy_from_slice(&0xFFFF_u32.to_le_bytes());
        assert!(decode_meta(&bad).is_err());
        // A v128 global initialized by an i32 constant is a type mismatch.
        m.globals[0].init = ConstExpr::I32(1);
        assert!(decode_meta(&encode_meta(&m)).is_err());
    }

    /// Signature classes (format v9): a class of its own for a type whose collapsed
    /// signature equals an earlier one round-trips; a class naming a later type or a type of
    /// another signature is refused.
    #[test]
    fn signature_classes_round_trip_and_crafted_ones_are_refused() {
        let ft = |p: &[ValType], r: &[ValType]| FuncType {
            params: p.to_vec(),
            results: r.to_vec(),
        };
        let mut m = ModuleMeta {
            types: vec![
                ft(&[ValType::FuncRef], &[]),
                ft(&[ValType::FuncRef], &[]),
                ft(&[ValType::I32], &[]),
            ],
            ..ModuleMeta::default()
        };
        m.set_type_classes(vec![0, 1, 2]);
        assert_eq!(m.type_classes, [0, 1, 2]);
        assert_eq!(decode_meta(&encode_meta(&m)).unwrap(), m);
        m.set_type_classes(vec![0, 0, 2]);
        assert!(
            m.type_classes.is_empty(),
            "the collapsed classes are not stored"
        );
        assert_eq!(decode_meta(&encode_meta(&m)).unwrap(), m);
        // The class word of type t is header (16 words) + 4 t + 3.
        let good = encode_meta(&m);
        for (t, class) in [(0usize, 1u32), (2, 0), (2, 1), (1, 2), (2, 7)] {
            let mut bad = good.clone();
            let at = (16 + 4 * t + 3) * 4;
            bad[at..at + 4].copy_from_slice(&class.to_le_bytes());
            assert_eq!(
                decode_meta(&bad),
                Err(LoadError::BadMeta),
                "type {t} class {class}"
            );
        }
        // Type 2 pointing at type 1 whose class is 0 (three equal signatures, two ids):
        // stricter than needed, and safe, so accepted.
        m.types[2] = ft(&[ValType::FuncRef], &[]);
        m.type_classes = vec![0, 0, 1];
        assert!(decode_meta(&encode_meta(&m)).is_ok());
    }

    /// Exception handling: `exnref` in a signature, a global and a table is accepted (the
    /// in-process snapshot mode runs such modules); a `v128` table is still refused.
    #[test]
    fn exnref_types_round_trip_and_v128_tables_are_refused() {
        let g = GlobalType {
            ty: ValType::ExnRef,
            mutable: true,
        };
        let mut m = ModuleMeta {
            types: vec![FuncType {
                params: vec![ValType::ExnRef],
                results: vec![ValType::ExnRef, ValType::I32],
            }],
            global_types: vec![g],
            globals: vec![GlobalDef {
                ty: g,
                init: ConstExpr::RefNull(ValType::ExnRef),
            }],
            tables: vec![TableType {
                elem: ValType::ExnRef,
                limits: Limits { min: 1, max: None },
                index64: false,
            }],
            table_inits: vec![ConstExpr::RefNull(ValType::ExnRef)],
            ..ModuleMeta::default()
        };
        let b = encode_meta(&m);
        assert_eq!(decode_meta(&b).unwrap(), m);
        m.tables[0].elem = ValType::V128;
        assert!(decode_meta(&encode_meta(&m)).is_err());
        assert!(MetaView::parse(&encode_meta(&m)).is_err());
    }

    #[test]
    fn every_truncation_and_extension_rejected() {
        let b = encode_meta(&sample());
        for n in 0..b.len() {
            assert!(decode_meta(&b[..n]).is_err(), "prefix {n} accepted");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_eq!(decode_meta(&longer), Err(LoadError::BadMeta));
    }

    #[test]
    fn flips_never_panic() {
        let b = encode_meta(&sample());
        let mut rejected = 0;
        for i in 0..b.len() {
            for v in [0u8, 0x7f, 0x80, 0xff, 5] {
                let mut g = b.clone();
                g[i] = v;
                if decode_meta(&g).is_err() {
                    rejected += 1;
                }
            }
        }
        assert!(rejected > b.len());
    }

    #[test]
    fn inconsistent_indices_rejected() {
        let mut m = sample();
        m.exports[0].index = 99;
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        let mut m = sample();
        m.funcs[2] = 7;
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        let mut m = sample();
        m.num_imported_globals = 0;
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        let mut m = sample();
        m.start = Some(4);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        let mut m = sample();
        m.elems[0].items[0] = ConstExpr::RefFunc(4);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
    }

    #[test]
    fn type_mismatches_and_bad_names_rejected() {
        // A global initialized with a value of another type.
        let mut m = sample();
        m.globals[0].init = ConstExpr::I64(1);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        // An element item that is not of the segment's reference type.
        let mut m = sample();
        m.elems[0].items[1] = ConstExpr::I32(7);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        let mut m = sample();
        m.elems[1].items[0] = ConstExpr::RefNull(ValType::FuncRef);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        // A segment offset that is not an i32.
        let mut m = sample();
        m.datas[0].mode = DataMode::Active {
            memory: 0,
            offset: ConstExpr::GlobalGet(1),
        };
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        // A start function with parameters.
        let mut m = sample();
        m.start = Some(0);
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        // More imports of a kind than the header says.
        let mut m = sample();
        m.num_imported_funcs = 0;
        assert_eq!(decode_meta(&encode_meta(&m)), Err(LoadError::BadMeta));
        // Names are bytes in the view, UTF-8 when decoded.
        let mut b = encode_meta(&sample());
        let at = b.windows(3).position(|w| w == b"run").unwrap();
        b[at] = 0xff;
        assert_eq!(decode_meta(&b), Err(LoadError::BadUtf8));
        let v = MetaView::parse(&b).unwrap();
        assert_eq!(v.export(0).name, b"\xffun");
    }

    #[test]
    fn view_reads_records_by_index() {
        let m = sample();
        let b = encode_meta(&m);
        let v = MetaView::parse(&b).unwrap();
        assert_eq!(v.func_type(2).unwrap().params, &[3, 5]);
        assert_eq!(v.func_type(2).unwrap().results, &[4, 0]);
        assert!(v.func_type(4).is_none());
        assert_eq!(v.import(1).name, b"mem");
        assert_eq!(v.import(1).kind, ExportKind::Memory);
        let e = v.elem(0);
        assert_eq!((e.first, e.count), (0, 2));
        assert_eq!(v.elem_item(e.first).decode(), ConstExpr::RefFunc(3));
        assert_eq!(v.elem(2).first, 3);
        assert_eq!(v.data(1).bytes.len(), 300);
        assert_eq!(
            v.global_init(0).decode(),
            ConstExpr::F64(0x4009_21fb_5444_2d18)
        );
    }

    #[test]
    fn huge_count_does_not_allocate() {
        // types count = u32::MAX with nothing after the header.
        let mut b = encode_meta(&ModuleMeta::default());
        b[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_meta(&b), Err(LoadError::BadMeta));
        // Every count at its maximum: the layout's length overflows nothing.
        let b = [0xff; 64];
        assert_eq!(decode_meta(&b), Err(LoadError::BadMeta));
    }
}
