//! Zero-copy reader of the snapshot's metadata section: the one reader of that format.
//!
//! [`MetaView::parse`] validates the whole encoding in one pass without allocating (every
//! tag, count, index and name; the cross-checks between imports, index spaces and globals;
//! no trailing bytes) and remembers where each list starts. The views it hands out
//! ([`MetaView::types`], [`MetaView::imports`], ...) then re-read the validated bytes on the
//! fly: names and data segments are slices of the input, signatures are slices of value-type
//! bytes. [`crate::meta_codec::decode_meta`] builds the owned [`crate::meta::ModuleMeta`]
//! from these views; the firmware C API reads the views directly and never decodes.
//!
//! The byte layout is in `docs/SNAPSHOT.md` ("Metadata section").

use crate::error::LoadError;
use crate::format::Cursor;
use crate::meta::{
    ConstExpr, DataMode, ElemMode, ExportKind, GlobalType, ImportKind, Limits, MemoryType,
    TableType, ValType,
};

const E: LoadError = LoadError::BadMeta;

/// A cursor over metadata bytes with the format's primitive readers.
#[derive(Clone, Copy)]
struct Reader<'a> {
    c: Cursor<'a>,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, LoadError> {
        let b = *self.c.bytes.get(self.c.pos).ok_or(E)?;
        self.c.pos += 1;
        Ok(b)
    }

    fn leb(&mut self, bits: u32, signed: bool) -> Result<u64, LoadError> {
        let mut result = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            if shift == 63 {
                // Tenth byte: only bit 63 (and, when signed, its sign copies) may remain.
                let payload = b & 0x7f;
                let ok = if signed {
                    payload == 0 || payload == 0x7f
                } else {
                    payload <= 1
                };
                if !ok || b & 0x80 != 0 {
                    return Err(E);
                }
                result |= u64::from(payload & 1) << 63;
                break;
            }
            result |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if signed && shift < 64 && b & 0x40 != 0 {
                    result |= !0u64 << shift;
                }
                break;
            }
        }
        // Reject encodings whose value does not fit `bits`.
        if bits < 64 {
            let ok = if signed {
                let v = result as i64;
                v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1))
            } else {
                result < (1u64 << bits)
            };
            if !ok {
                return Err(E);
            }
        }
        Ok(result)
    }

    fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(self.leb(32, false)? as u32)
    }

    /// A count of items each taking at least one byte: bounded by the remaining input.
    fn count(&mut self) -> Result<u32, LoadError> {
        let n = self.u32()?;
        if n as usize > self.c.remaining() {
            return Err(E);
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], LoadError> {
        let n = self.u32()? as usize;
        self.c.take(n).map_err(|_| E)
    }

    fn str(&mut self) -> Result<&'a str, LoadError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| LoadError::BadUtf8)
    }

    fn val_type(&mut self) -> Result<ValType, LoadError> {
        val_type(self.byte()?).ok_or(E)
    }

    fn ref_type(&mut self) -> Result<ValType, LoadError> {
        let t = self.val_type()?;
        if !t.is_ref() {
            return Err(E);
        }
        Ok(t)
    }

    fn flag(&mut self) -> Result<bool, LoadError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E),
        }
    }

    fn limits(&mut self) -> Result<Limits, LoadError> {
        let has_max = self.flag()?;
        let min = self.u32()?;
        let max = if has_max { Some(self.u32()?) } else { None };
        Ok(Limits { min, max })
    }

    fn memory_type(&mut self) -> Result<MemoryType, LoadError> {
        Ok(MemoryType {
            limits: self.limits()?,
        })
    }

    fn global_type(&mut self) -> Result<GlobalType, LoadError> {
        let ty = self.val_type()?;
        Ok(GlobalType {
            ty,
            mutable: self.flag()?,
        })
    }

    fn table_type(&mut self) -> Result<TableType, LoadError> {
        let elem = self.ref_type()?;
        Ok(TableType {
            elem,
            limits: self.limits()?,
        })
    }

    fn const_expr(&mut self) -> Result<ConstExpr, LoadError> {
        Ok(match self.byte()? {
            0 => ConstExpr::I32(self.leb(32, true)? as i32),
            1 => ConstExpr::I64(self.leb(64, true)? as i64),
            2 => ConstExpr::F32(self.c.u32().map_err(|_| E)?),
            3 => ConstExpr::F64(self.c.u64().map_err(|_| E)?),
            4 => ConstExpr::RefNull(self.ref_type()?),
            5 => ConstExpr::RefFunc(self.u32()?),
            6 => ConstExpr::GlobalGet(self.u32()?),
            _ => return Err(E),
        })
    }

    /// A signature: two counted lists of value-type bytes.
    fn func_type(&mut self) -> Result<FuncTypeView<'a>, LoadError> {
        let mut list = || -> Result<&'a [u8], LoadError> {
            let n = self.count()? as usize;
            let b = self.c.take(n).map_err(|_| E)?;
            if b.iter().any(|&t| val_type(t).is_none()) {
                return Err(E);
            }
            Ok(b)
        };
        let params = list()?;
        Ok(FuncTypeView {
            params,
            results: list()?,
        })
    }

    fn import(&mut self) -> Result<ImportView<'a>, LoadError> {
        let module = self.str()?;
        let name = self.str()?;
        let kind = match self.byte()? {
            0 => ImportKind::Func(self.u32()?),
            1 => ImportKind::Memory(self.memory_type()?),
            2 => ImportKind::Table(self.table_type()?),
            3 => ImportKind::Global(self.global_type()?),
            _ => return Err(E),
        };
        Ok(ImportView { module, name, kind })
    }

    fn global(&mut self) -> Result<(GlobalType, ConstExpr), LoadError> {
        let ty = self.global_type()?;
        Ok((ty, self.const_expr()?))
    }

    fn export(&mut self) -> Result<ExportView<'a>, LoadError> {
        let name = self.str()?;
        let kind = match self.byte()? {
            0 => ExportKind::Func,
            1 => ExportKind::Memory,
            2 => ExportKind::Table,
            3 => ExportKind::Global,
            _ => return Err(E),
        };
        Ok(ExportView {
            name,
            kind,
            index: self.u32()?,
        })
    }

    /// An element segment; its items are skipped (validated) and handed out as a list.
    fn elem(&mut self) -> Result<ElemView<'a>, LoadError> {
        let mode = match self.byte()? {
            0 => ElemMode::Active {
                table: self.u32()?,
                offset: self.const_expr()?,
            },
            1 => ElemMode::Passive,
            2 => ElemMode::Declared,
            _ => return Err(E),
        };
        let ty = self.ref_type()?;
        let n = self.count()?;
        let at = *self;
        for _ in 0..n {
            self.const_expr()?;
        }
        Ok(ElemView {
            mode,
            ty,
            items: List {
                r: at,
                n,
                read: Reader::const_expr,
            },
        })
    }

    fn data(&mut self) -> Result<DataView<'a>, LoadError> {
        let mode = match self.byte()? {
            0 => DataMode::Active {
                memory: self.u32()?,
                offset: self.const_expr()?,
            },
            1 => DataMode::Passive,
            _ => return Err(E),
        };
        Ok(DataView {
            mode,
            bytes: self.bytes()?,
        })
    }

    /// Reads a count and validates that many items with `check`; returns where they start.
    #[inline(never)]
    fn skip(
        &mut self,
        check: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), LoadError>,
    ) -> Result<(Reader<'a>, u32), LoadError> {
        let n = self.count()?;
        let at = *self;
        for _ in 0..n {
            check(self)?;
        }
        Ok((at, n))
    }
}

fn ok(b: bool) -> Result<(), LoadError> {
    if b { Ok(()) } else { Err(E) }
}

/// The value type a metadata byte encodes.
pub(crate) fn val_type(b: u8) -> Option<ValType> {
    Some(match b {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F32,
        3 => ValType::F64,
        4 => ValType::FuncRef,
        5 => ValType::ExternRef,
        _ => return None,
    })
}

/// A validated list of metadata items, read on the fly (an iterator; cloning restarts it
/// where the clone was made).
pub struct List<'a, T> {
    r: Reader<'a>,
    n: u32,
    read: fn(&mut Reader<'a>) -> Result<T, LoadError>,
}

impl<T> Clone for List<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for List<'_, T> {}

impl<T> List<'_, T> {
    /// Number of items left.
    pub fn count_left(&self) -> u32 {
        self.n
    }
}

impl<T> Iterator for List<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        // The bytes were validated by `MetaView::parse`: the read cannot fail.
        (self.read)(&mut self.r).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n as usize, Some(self.n as usize))
    }
}

impl<T> core::fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("List").field("len", &self.n).finish()
    }
}

/// A signature: parameter and result types as value-type bytes (validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncTypeView<'a> {
    /// Parameter type bytes.
    pub params: &'a [u8],
    /// Result type bytes.
    pub results: &'a [u8],
}

impl FuncTypeView<'_> {
    /// The parameter types.
    pub fn param_types(&self) -> impl Iterator<Item = ValType> + '_ {
        self.params.iter().filter_map(|&b| val_type(b))
    }

    /// The result types.
    pub fn result_types(&self) -> impl Iterator<Item = ValType> + '_ {
        self.results.iter().filter_map(|&b| val_type(b))
    }
}

/// One import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportView<'a> {
    /// Module name.
    pub module: &'a str,
    /// Field name.
    pub name: &'a str,
    /// Kind and type.
    pub kind: ImportKind,
}

/// One export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportView<'a> {
    /// Export name.
    pub name: &'a str,
    /// Index space.
    pub kind: ExportKind,
    /// Index in that space.
    pub index: u32,
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElemView<'a> {
    /// Mode.
    pub mode: ElemMode,
    /// Element type.
    pub ty: ValType,
    /// Items (function-index items are [`ConstExpr::RefFunc`]).
    pub items: List<'a, ConstExpr>,
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct DataView<'a> {
    /// Mode.
    pub mode: DataMode,
    /// Contents (a slice of the metadata bytes).
    pub bytes: &'a [u8],
}

/// Where each list of the metadata starts (byte position of its first item) and its length.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    at: u32,
    n: u32,
}

/// A validated metadata section, read in place. Small (positions and counts only): the
/// lists are re-read from the bytes on demand.
#[derive(Clone, Copy, Debug)]
pub struct MetaView<'a> {
    bytes: &'a [u8],
    types: Span,
    imports: Span,
    funcs: Span,
    memories: Span,
    tables: Span,
    global_types: Span,
    globals: Span,
    exports: Span,
    elems: Span,
    datas: Span,
    /// Number of imported functions (the first entries of [`MetaView::funcs`]).
    pub num_imported_funcs: u32,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Start function index.
    pub start: Option<u32>,
}

/// Reads a count and validates that many items with `read` and `check`.
fn span<'a, T>(
    r: &mut Reader<'a>,
    read: fn(&mut Reader<'a>) -> Result<T, LoadError>,
    mut check: impl FnMut(T) -> bool,
) -> Result<Span, LoadError> {
    let (at, n) = r.skip(&mut |r| ok(check(read(r)?)))?;
    Ok(Span {
        at: at.c.position() as u32,
        n,
    })
}

impl<'a> MetaView<'a> {
    /// Validates a metadata section completely (one pass, no allocation).
    ///
    /// # Errors
    /// [`LoadError::BadMeta`] for any malformed or inconsistent field, [`LoadError::BadUtf8`]
    /// for a bad name.
    #[inline(never)]
    pub fn parse(bytes: &'a [u8]) -> Result<MetaView<'a>, LoadError> {
        if u32::try_from(bytes.len()).is_err() {
            return Err(E);
        }
        let mut r = Reader {
            c: Cursor::new(bytes),
        };
        let mut v = MetaView {
            bytes,
            types: span(&mut r, Reader::func_type, |_| true)?,
            imports: span(&mut r, Reader::import, |_| true)?,
            funcs: Span::default(),
            memories: Span::default(),
            tables: Span::default(),
            global_types: Span::default(),
            globals: Span::default(),
            exports: Span::default(),
            elems: Span::default(),
            datas: Span::default(),
            num_imported_funcs: 0,
            num_imported_memories: 0,
            num_imported_tables: 0,
            num_imported_globals: 0,
            start: None,
        };
        let nty = v.types.n;
        v.funcs = span(&mut r, Reader::u32, |t| t < nty)?;
        v.num_imported_funcs = r.u32()?;
        v.memories = span(&mut r, Reader::memory_type, |_| true)?;
        v.num_imported_memories = r.u32()?;
        v.tables = span(&mut r, Reader::table_type, |_| true)?;
        v.num_imported_tables = r.u32()?;
        v.global_types = span(&mut r, Reader::global_type, |_| true)?;
        v.num_imported_globals = r.u32()?;
        let (nf, nm, nt, ng) = (v.funcs.n, v.memories.n, v.tables.n, v.global_types.n);
        let expr = |e: &ConstExpr| match *e {
            ConstExpr::RefFunc(i) => i < nf,
            ConstExpr::GlobalGet(i) => i < ng,
            _ => true,
        };
        // Imports come first in each index space, in import order.
        let (mut f, mut m, mut t, mut g) = (v.funcs(), v.memories(), v.tables(), v.global_types());
        for imp in v.imports() {
            ok(match imp.kind {
                ImportKind::Func(ty) => f.next() == Some(ty),
                ImportKind::Memory(mt) => m.next() == Some(mt),
                ImportKind::Table(tt) => t.next() == Some(tt),
                ImportKind::Global(gt) => g.next() == Some(gt),
            })?;
        }
        ok(nf - f.n == v.num_imported_funcs
            && nm - m.n == v.num_imported_memories
            && nt - t.n == v.num_imported_tables
            && ng - g.n == v.num_imported_globals)?;
        // `g` now yields the types of the defined globals.
        let ndef_globals = g.n;
        v.globals = span(&mut r, Reader::global, |(ty, init)| {
            g.next() == Some(ty) && expr(&init)
        })?;
        ok(v.globals.n == ndef_globals)?;
        v.exports = span(&mut r, Reader::export, |e| {
            e.index
                < match e.kind {
                    ExportKind::Func => nf,
                    ExportKind::Memory => nm,
                    ExportKind::Table => nt,
                    ExportKind::Global => ng,
                }
        })?;
        v.start = if r.flag()? { Some(r.u32()?) } else { None };
        ok(v.start.is_none_or(|s| s < nf))?;
        v.elems = span(&mut r, Reader::elem, |e| {
            let mut items = e.items;
            items.all(|i| expr(&i))
                && match e.mode {
                    ElemMode::Active { table, offset } => table < nt && expr(&offset),
                    _ => true,
                }
        })?;
        v.datas = span(&mut r, Reader::data, |d| match d.mode {
            DataMode::Active { memory, offset } => memory < nm && expr(&offset),
            DataMode::Passive => true,
        })?;
        ok(r.c.remaining() == 0)?;
        Ok(v)
    }

    fn list<T>(&self, s: Span, read: fn(&mut Reader<'a>) -> Result<T, LoadError>) -> List<'a, T> {
        List {
            r: self.reader_at(s.at),
            n: s.n,
            read,
        }
    }

    #[inline(never)]
    fn reader_at(&self, at: u32) -> Reader<'a> {
        Reader {
            c: Cursor::new(self.bytes.get(at as usize..).unwrap_or(&[])),
        }
    }

    /// The type section.
    pub fn types(&self) -> List<'a, FuncTypeView<'a>> {
        self.list(self.types, Reader::func_type)
    }

    /// Imports in section order.
    pub fn imports(&self) -> List<'a, ImportView<'a>> {
        self.list(self.imports, Reader::import)
    }

    /// Type index of every function (imports first).
    pub fn funcs(&self) -> List<'a, u32> {
        self.list(self.funcs, Reader::u32)
    }

    /// Every memory (imports first).
    pub fn memories(&self) -> List<'a, MemoryType> {
        self.list(self.memories, Reader::memory_type)
    }

    /// Every table (imports first).
    pub fn tables(&self) -> List<'a, TableType> {
        self.list(self.tables, Reader::table_type)
    }

    /// Type of every global (imports first).
    pub fn global_types(&self) -> List<'a, GlobalType> {
        self.list(self.global_types, Reader::global_type)
    }

    /// Defined globals: type and initializer (index `num_imported_globals + i`).
    pub fn globals(&self) -> List<'a, (GlobalType, ConstExpr)> {
        self.list(self.globals, Reader::global)
    }

    /// Exports in section order.
    pub fn exports(&self) -> List<'a, ExportView<'a>> {
        self.list(self.exports, Reader::export)
    }

    /// Element segments.
    pub fn elems(&self) -> List<'a, ElemView<'a>> {
        self.list(self.elems, Reader::elem)
    }

    /// Data segments.
    pub fn datas(&self) -> List<'a, DataView<'a>> {
        self.list(self.datas, Reader::data)
    }

    /// Number of functions (imported and defined).
    pub fn num_funcs(&self) -> u32 {
        self.funcs.n
    }

    /// Number of module types.
    pub fn num_types(&self) -> u32 {
        self.types.n
    }

    /// Number of memories (imports included).
    pub fn num_memories(&self) -> u32 {
        self.memories.n
    }

    /// Number of tables (imports included).
    pub fn num_tables(&self) -> u32 {
        self.tables.n
    }

    /// Number of globals (imports included).
    pub fn num_globals(&self) -> u32 {
        self.global_types.n
    }

    /// Number of element segments.
    pub fn num_elems(&self) -> u32 {
        self.elems.n
    }

    /// Number of data segments.
    pub fn num_datas(&self) -> u32 {
        self.datas.n
    }

    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.funcs.n - self.num_imported_funcs
    }

    /// The signature of function `index`, if in range.
    pub fn func_type(&self, index: u32) -> Option<FuncTypeView<'a>> {
        let t = self.funcs().nth(index as usize)?;
        self.types().nth(t as usize)
    }
}
