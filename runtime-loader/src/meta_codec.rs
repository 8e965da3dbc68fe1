//! Binary encoding of [`ModuleMeta`] for the snapshot's metadata section.
//!
//! Compact and self-delimiting: counts and indices are unsigned LEB128, `i32`/`i64` constants
//! signed LEB128, float bits fixed-width little-endian, names length-prefixed UTF-8. The layout
//! follows the struct field order; `docs/SNAPSHOT.md` lists it.
//!
//! [`decode_meta`] trusts nothing: every tag, count and index is checked (indices against the
//! index spaces they refer to), counts can never make it allocate more than the input's size,
//! and trailing bytes are an error. Encoding ([`encode_meta`]) needs the `write` feature.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::LoadError;
#[cfg(feature = "write")]
use crate::meta::{
    ConstExpr, DataMode, ElemMode, ExportKind, GlobalType, ImportKind, Limits, TableType, ValType,
};
use crate::meta::{DataSegment, ElemSegment, Export, FuncType, GlobalDef, Import, ModuleMeta};
use crate::meta_view::{List, MetaView, val_type};

/// Decodes and validates a metadata section: [`MetaView::parse`] validates it, then the
/// owned [`ModuleMeta`] is built from the view (one reader of the format).
///
/// # Errors
/// [`LoadError::BadMeta`] for any malformed or inconsistent field, [`LoadError::BadUtf8`]
/// for a bad name.
pub fn decode_meta(bytes: &[u8]) -> Result<ModuleMeta, LoadError> {
    let v = MetaView::parse(bytes)?;
    let ty = |t: &[u8]| collect(t.len(), t.iter().filter_map(|&b| val_type(b)), |t| t);
    Ok(ModuleMeta {
        types: collect_list(v.types(), |t| FuncType {
            params: ty(t.params),
            results: ty(t.results),
        }),
        imports: collect_list(v.imports(), |i| Import {
            module: String::from(i.module),
            name: String::from(i.name),
            kind: i.kind,
        }),
        funcs: collect_list(v.funcs(), |f| f),
        num_imported_funcs: v.num_imported_funcs,
        memories: collect_list(v.memories(), |m| m),
        num_imported_memories: v.num_imported_memories,
        tables: collect_list(v.tables(), |t| t),
        num_imported_tables: v.num_imported_tables,
        global_types: collect_list(v.global_types(), |g| g),
        num_imported_globals: v.num_imported_globals,
        globals: collect_list(v.globals(), |(ty, init)| GlobalDef { ty, init }),
        exports: collect_list(v.exports(), |e| Export {
            name: String::from(e.name),
            kind: e.kind,
            index: e.index,
        }),
        start: v.start,
        elems: collect_list(v.elems(), |e| ElemSegment {
            mode: e.mode,
            ty: e.ty,
            items: collect_list(e.items, |i| i),
        }),
        datas: collect_list(v.datas(), |d| DataSegment {
            mode: d.mode,
            bytes: Vec::from(d.bytes),
        }),
    })
}

fn collect_list<T, U>(list: List<'_, T>, f: impl FnMut(T) -> U) -> Vec<U> {
    collect(list.count_left() as usize, list, f)
}

/// Collects the `n` items of `it` (it has no more; exactly `n` for validated metadata) mapped
/// by `f`: one allocation, no growth path.
fn collect<T, U>(n: usize, it: impl Iterator<Item = T>, mut f: impl FnMut(T) -> U) -> Vec<U> {
    let mut v: Vec<U> = Vec::with_capacity(n);
    for x in it.take(n) {
        let len = v.len();
        // SAFETY: at most `n` items are written into a vector of capacity `n`, each at the
        // current length, which then grows by one.
        unsafe {
            v.as_mut_ptr().add(len).write(f(x));
            v.set_len(len + 1);
        }
    }
    v
}

#[cfg(feature = "write")]
pub use writer::encode_meta;

#[cfg(feature = "write")]
mod writer {
    use super::*;

    struct W(Vec<u8>);

    impl W {
        fn leb_u(&mut self, mut v: u64) {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    self.0.push(b);
                    return;
                }
                self.0.push(b | 0x80);
            }
        }
        fn leb_s(&mut self, mut v: i64) {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
                    self.0.push(b);
                    return;
                }
                self.0.push(b | 0x80);
            }
        }
        fn u32(&mut self, v: u32) {
            self.leb_u(u64::from(v));
        }
        fn len(&mut self, n: usize) {
            self.leb_u(n as u64);
        }
        fn str(&mut self, s: &str) {
            self.len(s.len());
            self.0.extend_from_slice(s.as_bytes());
        }
        fn val_type(&mut self, t: ValType) {
            self.0.push(match t {
                ValType::I32 => 0,
                ValType::I64 => 1,
                ValType::F32 => 2,
                ValType::F64 => 3,
                ValType::FuncRef => 4,
                ValType::ExternRef => 5,
            });
        }
        fn limits(&mut self, l: Limits) {
            self.0.push(l.max.is_some() as u8);
            self.u32(l.min);
            if let Some(m) = l.max {
                self.u32(m);
            }
        }
        fn global_type(&mut self, g: GlobalType) {
            self.val_type(g.ty);
            self.0.push(g.mutable as u8);
        }
        fn table_type(&mut self, t: TableType) {
            self.val_type(t.elem);
            self.limits(t.limits);
        }
        fn const_expr(&mut self, e: &ConstExpr) {
            match *e {
                ConstExpr::I32(v) => {
                    self.0.push(0);
                    self.leb_s(i64::from(v));
                }
                ConstExpr::I64(v) => {
                    self.0.push(1);
                    self.leb_s(v);
                }
                ConstExpr::F32(b) => {
                    self.0.push(2);
                    self.0.extend_from_slice(&b.to_le_bytes());
                }
                ConstExpr::F64(b) => {
                    self.0.push(3);
                    self.0.extend_from_slice(&b.to_le_bytes());
                }
                ConstExpr::RefNull(t) => {
                    self.0.push(4);
                    self.val_type(t);
                }
                ConstExpr::RefFunc(f) => {
                    self.0.push(5);
                    self.u32(f);
                }
                ConstExpr::GlobalGet(g) => {
                    self.0.push(6);
                    self.u32(g);
                }
            }
        }
    }

    /// Encodes `meta` for the snapshot's metadata section.
    pub fn encode_meta(meta: &ModuleMeta) -> Vec<u8> {
        let mut w = W(Vec::new());
        w.len(meta.types.len());
        for t in &meta.types {
            w.len(t.params.len());
            t.params.iter().for_each(|p| w.val_type(*p));
            w.len(t.results.len());
            t.results.iter().for_each(|p| w.val_type(*p));
        }
        w.len(meta.imports.len());
        for i in &meta.imports {
            w.str(&i.module);
            w.str(&i.name);
            match &i.kind {
                ImportKind::Func(t) => {
                    w.0.push(0);
                    w.u32(*t);
                }
                ImportKind::Memory(m) => {
                    w.0.push(1);
                    w.limits(m.limits);
                }
                ImportKind::Table(t) => {
                    w.0.push(2);
                    w.table_type(*t);
                }
                ImportKind::Global(g) => {
                    w.0.push(3);
                    w.global_type(*g);
                }
            }
        }
        w.len(meta.funcs.len());
        meta.funcs.iter().for_each(|f| w.u32(*f));
        w.u32(meta.num_imported_funcs);
        w.len(meta.memories.len());
        meta.memories.iter().for_each(|m| w.limits(m.limits));
        w.u32(meta.num_imported_memories);
        w.len(meta.tables.len());
        meta.tables.iter().for_each(|t| w.table_type(*t));
        w.u32(meta.num_imported_tables);
        w.len(meta.global_types.len());
        meta.global_types.iter().for_each(|g| w.global_type(*g));
        w.u32(meta.num_imported_globals);
        w.len(meta.globals.len());
        for g in &meta.globals {
            w.global_type(g.ty);
            w.const_expr(&g.init);
        }
        w.len(meta.exports.len());
        for e in &meta.exports {
            w.str(&e.name);
            w.0.push(match e.kind {
                ExportKind::Func => 0,
                ExportKind::Memory => 1,
                ExportKind::Table => 2,
                ExportKind::Global => 3,
            });
            w.u32(e.index);
        }
        match meta.start {
            None => w.0.push(0),
            Some(s) => {
                w.0.push(1);
                w.u32(s);
            }
        }
        w.len(meta.elems.len());
        for e in &meta.elems {
            match &e.mode {
                ElemMode::Active { table, offset } => {
                    w.0.push(0);
                    w.u32(*table);
                    w.const_expr(offset);
                }
                ElemMode::Passive => w.0.push(1),
                ElemMode::Declared => w.0.push(2),
            }
            w.val_type(e.ty);
            w.len(e.items.len());
            e.items.iter().for_each(|i| w.const_expr(i));
        }
        w.len(meta.datas.len());
        for d in &meta.datas {
            match &d.mode {
                DataMode::Active { memory, offset } => {
                    w.0.push(0);
                    w.u32(*memory);
                    w.const_expr(offset);
                }
                DataMode::Passive => w.0.push(1),
            }
            w.len(d.bytes.len());
            w.0.extend_from_slice(&d.bytes);
        }
        w.0
    }
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use crate::meta::MemoryType;
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
        };
        let tab = TableType {
            elem: ValType::FuncRef,
            limits: Limits { min: 2, max: None },
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
                        max: Some(0),
                    },
                },
            ],
            num_imported_tables: 1,
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
        }
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
    fn huge_count_does_not_allocate() {
        // types count = u32::MAX with nothing after it.
        assert_eq!(
            decode_meta(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Err(LoadError::BadMeta)
        );
    }
}
