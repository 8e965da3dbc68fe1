//! Zero-copy reader of the snapshot's metadata section: the one reader of that format.
//!
//! The section is flat (snapshot format v3): a header of 16 little-endian `u32` counts, then
//! one table of fixed-size records per list (every field a `u32` word), then a byte pool
//! holding signatures' value types, names and data segments (records refer to it by offset
//! and length). [`MetaView::parse`] validates it without allocating: one length equation
//! for the whole layout, then a few uniform checks per record (tags, pool ranges, indices
//! against their index spaces, constant-expression types). The accessors then read any
//! record by index in constant time. Names are handed out as bytes: the loaders compare
//! them as bytes; [`crate::meta_codec::decode_meta`] (which builds the owned
//! [`crate::meta::ModuleMeta`]) checks they are UTF-8.
//!
//! The byte layout is in `docs/SNAPSHOT.md` ("Module metadata").

use crate::error::LoadError;
use crate::meta::{
    ConstExpr, DataMode, ElemMode, ExportKind, GlobalType, Limits, MemoryType, TableType, ValType,
};

const E: LoadError = LoadError::BadMeta;

/// Header word indices (each a `u32` count unless noted).
pub mod header {
    /// Module types.
    pub const TYPES: usize = 0;
    /// Imports.
    pub const IMPORTS: usize = 1;
    /// Functions (imports included).
    pub const FUNCS: usize = 2;
    /// Imported functions.
    pub const IMPORTED_FUNCS: usize = 3;
    /// Memories (imports included).
    pub const MEMORIES: usize = 4;
    /// Imported memories.
    pub const IMPORTED_MEMORIES: usize = 5;
    /// Tables (imports included).
    pub const TABLES: usize = 6;
    /// Imported tables.
    pub const IMPORTED_TABLES: usize = 7;
    /// Globals (imports included).
    pub const GLOBALS: usize = 8;
    /// Imported globals.
    pub const IMPORTED_GLOBALS: usize = 9;
    /// Exports.
    pub const EXPORTS: usize = 10;
    /// Element segments.
    pub const ELEMS: usize = 11;
    /// Data segments.
    pub const DATAS: usize = 12;
    /// Element items of all segments.
    pub const ITEMS: usize = 13;
    /// Start function index, `0xFFFF_FFFF` for none.
    pub const START: usize = 14;
    /// Byte length of the pool.
    pub const POOL: usize = 15;
    /// Number of header words.
    pub const WORDS: usize = 16;
}

/// The record tables in section order: their index in [`MetaView`]'s table starts.
#[derive(Clone, Copy)]
#[repr(usize)]
enum Tab {
    Types,
    Imports,
    Funcs,
    Memories,
    Tables,
    GlobalTypes,
    Globals,
    Exports,
    Elems,
    Datas,
    Items,
}

/// Words per record, by record table in section order: a type (pool offset, parameter
/// count, result count, signature class: the first type index with the same precise
/// signature, see [`MetaView::type_class`]); an import (module offset, length, name offset, length, kind); a function (type index); a
/// memory (limits); a table (element type, limits, initialiser constant expression:
/// `ref.null` for imported tables); a global type
/// (value type, mutable); a defined global (constant expression); an export (name offset,
/// length, kind, index); an element segment (mode, table, offset expression, element type,
/// first item, item count); a data segment (mode, memory, offset expression, pool offset,
/// length); an element item (constant expression). A constant expression is three words:
/// tag, low and high half of its 64-bit payload. Limits are five words: low and high half
/// of the 64-bit minimum and maximum, and flags (bit 0: has a maximum; bit 1: 64-bit index
/// type, memory64 / table64).
pub const RECORD_WORDS: [usize; 11] = [4, 5, 1, 5, 9, 2, 3, 4, 8, 7, 3];

/// [`FIELD_CHECKS`]: `lo` marking a pool range (offset in field `k`, length in `k + 1`).
const POOL_RANGE: u8 = 0xFF;
/// [`FIELD_CHECKS`]: a `bound` at or above this is header word `bound - HEADER_BOUND`.
const HEADER_BOUND: u8 = 0x80;

/// The checks one field of every record of a table gets, as `[table, field k, lo, bound]`:
/// the field's value minus `lo` (wrapping) below `bound` (a constant, or a header count at
/// or above [`HEADER_BOUND`]), or with `lo` = [`POOL_RANGE`] fields `k`, `k + 1` a pool
/// range. The checks that depend on other fields (kinds and modes) follow in
/// `MetaView::check`.
const FIELD_CHECKS: [[u8; 4]; 15] = [
    // An import's module and field names, and its kind.
    [Tab::Imports as u8, 0, POOL_RANGE, 0],
    [Tab::Imports as u8, 2, POOL_RANGE, 0],
    [Tab::Imports as u8, 4, 0, 4],
    // A function's type index.
    [Tab::Funcs as u8, 0, 0, HEADER_BOUND + header::TYPES as u8],
    // A memory's limits flags.
    [Tab::Memories as u8, 4, 0, 4],
    // A table's element type (a reference type: funcref, externref or exnref, v128 is
    // refused in `check`) and limits flags.
    [Tab::Tables as u8, 0, FUNCREF as u8, 4],
    [Tab::Tables as u8, 5, 0, 4],
    // A global's value type and mutability flag.
    [Tab::GlobalTypes as u8, 0, 0, EXNREF as u8 + 1],
    [Tab::GlobalTypes as u8, 1, 0, 2],
    // An export's name and kind (its index: in `MetaView::check`).
    [Tab::Exports as u8, 0, POOL_RANGE, 0],
    [Tab::Exports as u8, 2, 0, 4],
    // An element segment's mode (active, passive, declared) and element type (a reference
    // type).
    [Tab::Elems as u8, 0, 0, 3],
    [Tab::Elems as u8, 5, FUNCREF as u8, 4],
    // A data segment's mode (active, passive) and bytes.
    [Tab::Datas as u8, 0, 0, 2],
    [Tab::Datas as u8, 5, POOL_RANGE, 0],
];

/// Value-type byte / word codes.
const FUNCREF: u32 = 4;
const EXTERNREF: u32 = 5;
const V128: u32 = 6;
const EXNREF: u32 = 7;
const NO_START: u32 = u32::MAX;

/// Little-endian word `i` of `b` (0 past the end: never reached for validated input).
#[inline(never)]
fn word(b: &[u8], i: usize) -> u32 {
    match b
        .get(i.wrapping_mul(4)..)
        .and_then(|b| b.first_chunk::<4>())
    {
        Some(w) => u32::from_le_bytes(*w),
        None => 0,
    }
}

/// The value type a metadata byte or word encodes.
/// The metadata code of a value type (the inverse of [`val_type`]).
pub(crate) fn val_code(t: ValType) -> u32 {
    match t {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F32 => 2,
        ValType::F64 => 3,
        ValType::FuncRef => FUNCREF,
        ValType::ExternRef => EXTERNREF,
        ValType::V128 => V128,
        ValType::ExnRef => EXNREF,
    }
}

pub(crate) fn val_type(b: u32) -> Option<ValType> {
    Some(match b {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F32,
        3 => ValType::F64,
        FUNCREF => ValType::FuncRef,
        EXTERNREF => ValType::ExternRef,
        V128 => ValType::V128,
        EXNREF => ValType::ExnRef,
        _ => return None,
    })
}

fn is_ref(t: u32) -> bool {
    t == FUNCREF || t == EXTERNREF || t == EXNREF
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
        self.params.iter().filter_map(|&b| val_type(b.into()))
    }

    /// The result types.
    pub fn result_types(&self) -> impl Iterator<Item = ValType> + '_ {
        self.results.iter().filter_map(|&b| val_type(b.into()))
    }
}

/// One import. Its type is that of the entity it brings in: the `k`-th import of a kind is
/// entry `k` of that kind's index space (imports come first there, in import order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportView<'a> {
    /// Module name (bytes; UTF-8 is checked only when decoding).
    pub module: &'a [u8],
    /// Field name.
    pub name: &'a [u8],
    /// Index space it belongs to.
    pub kind: ExportKind,
}

/// One export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportView<'a> {
    /// Export name (bytes).
    pub name: &'a [u8],
    /// Index space.
    pub kind: ExportKind,
    /// Index in that space.
    pub index: u32,
}

/// A validated constant expression as the metadata stores it: its tag (0 `i32.const`,
/// 1 `i64.const`, 2 `f32.const`, 3 `f64.const`, 4 `ref.null`, 5 `ref.func`, 6 `global.get`,
/// 7 `v128.const`, 8/9 an extended `i32`/`i64` expression) and 64-bit payload (the value's
/// bits zero-extended, the reference type, the index, for `v128.const` the pool offset of
/// its 16 little-endian bytes, for 8/9 the pool offset (low word) and length (high word) of
/// its operations, see `meta::CONST_OP_BYTES`).
/// Loaders that only need the value read it as is; [`RawExpr::decode`] gives the
/// [`ConstExpr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawExpr {
    /// The tag (0-9, see above).
    pub tag: u32,
    /// The payload.
    pub value: u64,
}

impl RawExpr {
    /// The metadata form of `e` (what the writer stores and the evaluator reads).
    pub fn encode(e: &ConstExpr) -> RawExpr {
        let (tag, value) = match *e {
            ConstExpr::I32(v) => (0, u64::from(v as u32)),
            ConstExpr::I64(v) => (1, v as u64),
            ConstExpr::F32(b) => (2, u64::from(b)),
            ConstExpr::F64(b) => (3, b),
            ConstExpr::RefNull(t) => (4, u64::from(val_code(t))),
            ConstExpr::RefFunc(f) => (5, u64::from(f)),
            ConstExpr::GlobalGet(g) => (6, u64::from(g)),
            // The payload of a `v128.const` is the pool offset of its 16 bytes, which only
            // the writer knows (`meta::codec`); the instantiation steps read a v128 global's
            // initializer through `ModuleSource::global_v128` instead.
            ConstExpr::V128(_) => (7, 0),
            // Extended: 8 (`i32`) or 9 (`i64`), the code's offset and length (the offset in
            // `ModuleMeta::const_code` here; the writer moves the bytes to the pool).
            ConstExpr::Code { i64, off, len } => {
                (8 + u32::from(i64), u64::from(off) | u64::from(len) << 32)
            }
        };
        RawExpr { tag, value }
    }

    /// The expression as a [`ConstExpr`]; a `v128.const` (tag 7) needs its pool bytes: see
    /// [`MetaView::decode_expr`] (here it decodes as zero).
    pub fn decode(self) -> ConstExpr {
        let lo = self.value as u32;
        match self.tag {
            0 => ConstExpr::I32(lo as i32),
            1 => ConstExpr::I64(self.value as i64),
            2 => ConstExpr::F32(lo),
            3 => ConstExpr::F64(self.value),
            4 => ConstExpr::RefNull(val_type(lo).unwrap_or(ValType::FuncRef)),
            5 => ConstExpr::RefFunc(lo),
            7 => ConstExpr::V128(0),
            8 | 9 => ConstExpr::Code {
                i64: self.tag == 9,
                off: lo,
                len: (self.value >> 32) as u32,
            },
            _ => ConstExpr::GlobalGet(lo),
        }
    }
}

/// An element segment; its items are [`MetaView::elem_item`] `first .. first + count`.
#[derive(Clone, Debug)]
pub struct ElemView {
    /// Active segments: the table and the offset expression.
    pub active: Option<(u32, RawExpr)>,
    /// Passive (not active and not declared).
    pub passive: bool,
    /// Element type.
    pub ty: ValType,
    /// Index of its first item.
    pub first: u32,
    /// Number of items.
    pub count: u32,
}

impl ElemView {
    /// The segment's mode.
    pub fn mode(&self) -> ElemMode {
        match self.active {
            Some((table, offset)) => ElemMode::Active {
                table,
                offset: offset.decode(),
            },
            None if self.passive => ElemMode::Passive,
            None => ElemMode::Declared,
        }
    }
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct DataView<'a> {
    /// Active segments: the memory and the offset expression (`None`: passive).
    pub active: Option<(u32, RawExpr)>,
    /// Contents (a slice of the metadata bytes).
    pub bytes: &'a [u8],
}

impl DataView<'_> {
    /// The segment's mode.
    pub fn mode(&self) -> DataMode {
        match self.active {
            Some((memory, offset)) => DataMode::Active {
                memory,
                offset: offset.decode(),
            },
            None => DataMode::Passive,
        }
    }
}

/// A validated metadata section, read in place: the bytes, the header counts and where each
/// record table starts.
#[derive(Clone, Copy, Debug)]
pub struct MetaView<'a> {
    bytes: &'a [u8],
    n: [u32; header::WORDS],
    /// Word index of each table's first record ([`Tab`] order), then the pool's byte offset.
    at: [usize; 12],
}

/// A validated [`MetaView`]'s counts and table starts without its bytes
/// ([`MetaView::layout`]): what an owner of a copy of the bytes keeps instead of a view
/// borrowing them.
#[derive(Clone, Copy, Debug)]
pub struct MetaLayout {
    len: usize,
    n: [u32; header::WORDS],
    at: [usize; 12],
}

impl MetaLayout {
    /// The view over `copy`, a byte-for-byte copy of the bytes this layout was validated
    /// from: nothing is checked again; `None` if the length differs.
    pub fn view<'b>(&self, copy: &'b [u8]) -> Option<MetaView<'b>> {
        (copy.len() == self.len).then_some(MetaView {
            bytes: copy,
            n: self.n,
            at: self.at,
        })
    }
}

impl<'a> MetaView<'a> {
    /// Validates a metadata section (no allocation).
    ///
    /// # Errors
    /// [`LoadError::BadMeta`] for a length that does not match the counts, an unknown tag or
    /// value type, a pool range past the pool, an index outside its index space, import
    /// counts that disagree with the imports, a constant expression of the wrong type, or a
    /// start function that takes parameters or returns results.
    #[inline(never)]
    pub fn parse(bytes: &'a [u8]) -> Result<MetaView<'a>, LoadError> {
        use header::*;
        let mut n = [0u32; WORDS];
        for (i, v) in n.iter_mut().enumerate() {
            *v = word(bytes, i);
        }
        let counts = [
            n[TYPES],
            n[IMPORTS],
            n[FUNCS],
            n[MEMORIES],
            n[TABLES],
            n[GLOBALS],
            n[GLOBALS].wrapping_sub(n[IMPORTED_GLOBALS]),
            n[EXPORTS],
            n[ELEMS],
            n[DATAS],
            n[ITEMS],
        ];
        let mut at = [0usize; 12];
        let mut pos = WORDS as u64;
        for ((at, &count), &w) in at.iter_mut().zip(&counts).zip(&RECORD_WORDS) {
            *at = pos as usize;
            pos += u64::from(count) * w as u64;
        }
        at[11] = (pos * 4) as usize;
        let imported = [
            n[IMPORTED_FUNCS],
            n[IMPORTED_MEMORIES],
            n[IMPORTED_TABLES],
            n[IMPORTED_GLOBALS],
        ];
        let spaces = [n[FUNCS], n[MEMORIES], n[TABLES], n[GLOBALS]];
        if bytes.len() < WORDS * 4
            || pos * 4 + u64::from(n[POOL]) != bytes.len() as u64
            || (0..4).any(|k| imported[k] > spaces[k])
            || (n[START] != NO_START && n[START] >= n[FUNCS])
        {
            return Err(E);
        }
        let v = MetaView { bytes, n, at };
        v.check(&counts, &spaces, &imported).then_some(v).ok_or(E)
    }

    /// The same view over `copy`, a byte-for-byte copy of the validated bytes (kept
    /// elsewhere): nothing is checked again; `None` if the length differs.
    // Out of line (-39 B of the default C library, which calls it once).
    #[inline(never)]
    pub fn rebased<'b>(&self, copy: &'b [u8]) -> Option<MetaView<'b>> {
        (copy.len() == self.bytes.len()).then_some(MetaView {
            bytes: copy,
            n: self.n,
            at: self.at,
        })
    }

    /// The view's layout without its bytes, to keep next to an owned copy of them
    /// ([`MetaLayout::view`] rebuilds the view without checking anything again).
    pub fn layout(&self) -> MetaLayout {
        MetaLayout {
            len: self.bytes.len(),
            n: self.n,
            at: self.at,
        }
    }

    /// The first export named `name`.
    pub fn export_named(&self, name: &[u8]) -> Option<ExportView<'a>> {
        (0..self.num_exports())
            .map(|i| self.export(i))
            .find(|e| e.name == name)
    }

    /// The per-record checks of [`MetaView::parse`] (the layout's length already matches;
    /// `counts`: records per table, [`Tab`] order).
    fn check(&self, counts: &[u32; 11], spaces: &[u32; 4], imported: &[u32; 4]) -> bool {
        use header::*;
        let n = &self.n;
        // The field checks every record of a table gets (see [`FIELD_CHECKS`]).
        for &[t, k, lo, bound] in &FIELD_CHECKS {
            for i in 0..counts[t as usize] {
                let r =
                    |k| self.word(self.at[t as usize] + i as usize * RECORD_WORDS[t as usize] + k);
                let (v, k) = (r(k as usize), k as usize);
                let ok = match (lo, bound) {
                    (POOL_RANGE, _) => self.pool_range(v, r(k + 1).into()).is_some(),
                    (_, b) if b < HEADER_BOUND => {
                        v.wrapping_sub(lo.into()) < b.into() && (lo != FUNCREF as u8 || v != V128)
                    }
                    (_, b) => v < n[usize::from(b - HEADER_BOUND)],
                };
                if !ok {
                    return false;
                }
            }
        }
        for t in 0..n[TYPES] {
            let (off, np, nr) = (
                self.rec(Tab::Types, t, 0),
                self.rec(Tab::Types, t, 1),
                self.rec(Tab::Types, t, 2),
            );
            let Some(b) = self.pool_range(off, u64::from(np) + u64::from(nr)) else {
                return false;
            };
            if b.iter().any(|&b| b > EXNREF as u8) {
                return false;
            }
            // A signature class names the type itself or an earlier type with the same
            // value types: types sharing an id then share a signature, so a crafted class
            // can make `call_indirect` stricter, never let it call a function of another
            // signature.
            let c = self.rec(Tab::Types, t, 3);
            if c > t || self.type_at(c) != self.type_at(t) {
                return false;
            }
        }
        let mut seen = [0u32; 4];
        for i in 0..n[IMPORTS] {
            seen[self.rec(Tab::Imports, i, 4) as usize & 3] += 1;
        }
        seen == *imported
            // The start function is called with no parameter and result slots.
            && self.start().is_none_or(|s| {
                let t = self.type_at(self.func_type_index(s));
                t.params.is_empty() && t.results.is_empty()
            })
            && (0..self.num_defined_globals()).all(|d| {
                let ty = self.rec(Tab::GlobalTypes, imported[3] + d, 0);
                self.expr_type(self.word_of(Tab::Globals, d, 0)) == Some(ty)
            })
            // A table's initialiser has its element type.
            && (0..n[TABLES]).all(|t| {
                self.expr_type(self.word_of(Tab::Tables, t, 6)) == Some(self.rec(Tab::Tables, t, 0))
            })
            && (0..n[EXPORTS]).all(|i| {
                self.rec(Tab::Exports, i, 3) < spaces[self.rec(Tab::Exports, i, 2) as usize & 3]
            })
            && (0..n[ELEMS]).all(|i| {
                let r = |k| self.rec(Tab::Elems, i, k);
                let (mode, ty) = (r(0), r(5));
                // An active segment's offset has its table's index type (i32, or i64 for
                // table64: limits flag bit 1).
                (mode != 0
                    || (r(1) < n[TABLES]
                        && self.expr_type(self.word_of(Tab::Elems, i, 2))
                            == Some(self.rec(Tab::Tables, r(1), 5) >> 1 & 1)))
                    && u64::from(r(6)) + u64::from(r(7)) <= u64::from(n[ITEMS])
                    && (r(6)..r(6) + r(7))
                        .all(|j| self.expr_type(self.word_of(Tab::Items, j, 0)) == Some(ty))
            })
            && (0..n[DATAS]).all(|i| {
                let r = |k| self.rec(Tab::Datas, i, k);
                r(0) != 0
                    || (r(1) < n[MEMORIES]
                        && self.expr_type(self.word_of(Tab::Datas, i, 2))
                            == Some(self.rec(Tab::Memories, r(1), 4) >> 1 & 1))
            })
    }

    /// The value type of the constant expression at word `w`, if it is well formed (tag,
    /// unused high word zero, index in range).
    fn expr_type(&self, w: usize) -> Option<u32> {
        let (tag, lo, hi) = (self.word(w), self.word(w + 1), self.word(w + 2));
        if hi != 0 && !matches!(tag, 1 | 3 | 8 | 9) {
            return None;
        }
        match tag {
            0..=3 => Some(tag),
            4 if is_ref(lo) => Some(lo),
            5 if lo < self.n[header::FUNCS] => Some(FUNCREF),
            6 if lo < self.n[header::GLOBALS] => Some(self.rec(Tab::GlobalTypes, lo, 0)),
            // `v128.const`: its pool range is checked where it is read (`decode_expr`), which
            // keeps this check out of the loader core (the C API has no `v128`).
            7 => Some(V128),
            // Extended (`i32` or `i64`): the pool range and the operations are checked
            // where they are evaluated (`instance::init`).
            8 | 9 => Some(tag - 8),
            _ => None,
        }
    }

    fn word(&self, w: usize) -> u32 {
        word(self.bytes, w)
    }

    /// Word index of field `k` of record `i` of table `t`.
    fn word_of(&self, t: Tab, i: u32, k: usize) -> usize {
        self.at[t as usize] + i as usize * RECORD_WORDS[t as usize] + k
    }

    /// Field `k` of record `i` of table `t`.
    fn rec(&self, t: Tab, i: u32, k: usize) -> u32 {
        self.word(self.word_of(t, i, k))
    }

    /// Pool bytes `[off, off + len)`, if inside the pool.
    #[inline(never)]
    fn pool_range(&self, off: u32, len: u64) -> Option<&'a [u8]> {
        let pool = self.bytes.get(self.at[11]..)?;
        pool.get(off as usize..)?.get(..usize::try_from(len).ok()?)
    }

    fn pool(&self, off: u32, len: u32) -> &'a [u8] {
        self.pool_range(off, len.into()).unwrap_or(&[])
    }

    /// `e` as a [`ConstExpr`], reading a `v128.const`'s 16 bytes from the pool.
    ///
    /// # Errors
    /// [`LoadError::BadMeta`] if a `v128.const`'s bytes are not inside the pool.
    pub fn decode_expr(&self, e: RawExpr) -> Result<ConstExpr, LoadError> {
        match e.tag {
            7 => {
                let b = self.pool_range(e.value as u32, 16).ok_or(E)?;
                let mut v = [0u8; 16];
                v.copy_from_slice(b);
                Ok(ConstExpr::V128(u128::from_le_bytes(v)))
            }
            _ => Ok(e.decode()),
        }
    }

    /// The operations of an extended constant expression (tag 8 or 9): its pool bytes, or
    /// none if outside the pool (the evaluator then fails).
    pub fn const_code(&self, e: RawExpr) -> &'a [u8] {
        self.pool_range(e.value as u32, e.value >> 32)
            .unwrap_or(&[])
    }

    /// The constant expression at word `w` (validated).
    fn expr(&self, w: usize) -> RawExpr {
        RawExpr {
            tag: self.word(w),
            value: u64::from(self.word(w + 1)) | u64::from(self.word(w + 2)) << 32,
        }
    }

    /// The limits at field `k` and their 64-bit index flag.
    #[inline(never)]
    fn limits(&self, t: Tab, i: u32, k: usize) -> (Limits, bool) {
        let at = self.word_of(t, i, k);
        let [a, b, c, d, flags] = [0, 1, 2, 3, 4].map(|j| self.word(at + j));
        let min = u64::from(a) | u64::from(b) << 32;
        let max = u64::from(c) | u64::from(d) << 32;
        let limits = Limits {
            min,
            max: (flags & 1 != 0).then_some(max),
        };
        (limits, flags & 2 != 0)
    }

    /// The canonical signature id of every type: its signature class
    /// ([`MetaView::type_class`], what `FuncRef::type_id` and `call_indirect` compare).
    #[cfg(feature = "alloc")]
    pub fn canonical_type_ids(&self) -> alloc::vec::Vec<u32> {
        (0..self.num_types()).map(|t| self.type_class(t)).collect()
    }

    /// The signature class of type `t`: the first type index with the same precise
    /// signature (typed references included, which the pool's value types collapse to
    /// `funcref`/`externref`). Validated by [`MetaView::parse`]: the class is `t` or an
    /// earlier type with an equal collapsed signature.
    pub fn type_class(&self, t: u32) -> u32 {
        self.rec(Tab::Types, t, 3)
    }

    /// Signature `t` (a type index below [`MetaView::num_types`]).
    pub fn type_at(&self, t: u32) -> FuncTypeView<'a> {
        let (off, np) = (self.rec(Tab::Types, t, 0), self.rec(Tab::Types, t, 1));
        let all = self.pool(off, np.saturating_add(self.rec(Tab::Types, t, 2)));
        let (params, results) = all.split_at(all.len().min(np as usize));
        FuncTypeView { params, results }
    }

    /// Signature `t`'s (parameter count, result count), read from its record.
    pub fn type_arity(&self, t: u32) -> (usize, usize) {
        (
            self.rec(Tab::Types, t, 1) as usize,
            self.rec(Tab::Types, t, 2) as usize,
        )
    }

    /// Type index of function `f` (imports first).
    pub fn func_type_index(&self, f: u32) -> u32 {
        self.rec(Tab::Funcs, f, 0)
    }

    /// The signature of function `f`, if in range.
    pub fn func_type(&self, f: u32) -> Option<FuncTypeView<'a>> {
        (f < self.num_funcs()).then(|| self.type_at(self.func_type_index(f)))
    }

    /// Import `i` in section order.
    // Always inlined: the C library's loader core calls it from one place each and inlines
    // it there; its module/instance view (capi/src/reflect.rs, discarded at link time when
    // unused) calling an outlined copy would cost the core ~100 bytes.
    #[inline(always)]
    pub fn import(&self, i: u32) -> ImportView<'a> {
        let r = |k| self.rec(Tab::Imports, i, k);
        ImportView {
            module: self.pool(r(0), r(1)),
            name: self.pool(r(2), r(3)),
            kind: export_kind(r(4)),
        }
    }

    /// Memory `i` (imports first).
    pub fn memory(&self, i: u32) -> MemoryType {
        let (limits, index64) = self.limits(Tab::Memories, i, 0);
        MemoryType { limits, index64 }
    }

    /// Table `i` (imports first).
    pub fn table(&self, i: u32) -> TableType {
        let (limits, index64) = self.limits(Tab::Tables, i, 1);
        TableType {
            elem: val_type(self.rec(Tab::Tables, i, 0)).unwrap_or(ValType::FuncRef),
            limits,
            index64,
        }
    }

    /// The initialiser of table `i` (imports first; `ref.null` for an imported one).
    pub fn table_init(&self, i: u32) -> RawExpr {
        self.expr(self.word_of(Tab::Tables, i, 6))
    }

    /// Type of global `i` (imports first).
    pub fn global_type(&self, i: u32) -> GlobalType {
        GlobalType {
            ty: val_type(self.rec(Tab::GlobalTypes, i, 0)).unwrap_or(ValType::I32),
            mutable: self.rec(Tab::GlobalTypes, i, 1) != 0,
        }
    }

    /// Initializer of defined global `d` (global `num_imported_globals + d`).
    pub fn global_init(&self, d: u32) -> RawExpr {
        self.expr(self.word_of(Tab::Globals, d, 0))
    }

    /// Export `i` in section order.
    // Always inlined: the C library's loader core calls it from one place each and inlines
    // it there; its module/instance view (capi/src/reflect.rs, discarded at link time when
    // unused) calling an outlined copy would cost the core ~100 bytes.
    #[inline(always)]
    pub fn export(&self, i: u32) -> ExportView<'a> {
        let r = |k| self.rec(Tab::Exports, i, k);
        ExportView {
            name: self.pool(r(0), r(1)),
            kind: export_kind(r(2)),
            index: r(3),
        }
    }

    /// Element segment `i`.
    pub fn elem(&self, i: u32) -> ElemView {
        let r = |k| self.rec(Tab::Elems, i, k);
        ElemView {
            active: (r(0) == 0).then(|| (r(1), self.expr(self.word_of(Tab::Elems, i, 2)))),
            passive: r(0) == 1,
            ty: val_type(r(5)).unwrap_or(ValType::FuncRef),
            first: r(6),
            count: r(7),
        }
    }

    /// Element item `j` (of all segments; see [`ElemView::first`]).
    pub fn elem_item(&self, j: u32) -> RawExpr {
        self.expr(self.word_of(Tab::Items, j, 0))
    }

    /// Data segment `i`.
    pub fn data(&self, i: u32) -> DataView<'a> {
        let r = |k| self.rec(Tab::Datas, i, k);
        DataView {
            active: (r(0) == 0).then(|| (r(1), self.expr(self.word_of(Tab::Datas, i, 2)))),
            bytes: self.pool(r(5), r(6)),
        }
    }

    /// Number of imported functions (the first entries of the function index space).
    pub fn num_imported_funcs(&self) -> u32 {
        self.n[header::IMPORTED_FUNCS]
    }

    /// Number of imported memories.
    pub fn num_imported_memories(&self) -> u32 {
        self.n[header::IMPORTED_MEMORIES]
    }

    /// Number of imported tables.
    pub fn num_imported_tables(&self) -> u32 {
        self.n[header::IMPORTED_TABLES]
    }

    /// Number of imported globals.
    pub fn num_imported_globals(&self) -> u32 {
        self.n[header::IMPORTED_GLOBALS]
    }

    /// Start function index.
    pub fn start(&self) -> Option<u32> {
        let s = self.n[header::START];
        (s != NO_START).then_some(s)
    }

    /// Number of module types.
    pub fn num_types(&self) -> u32 {
        self.n[header::TYPES]
    }

    /// Number of imports.
    pub fn num_imports(&self) -> u32 {
        self.n[header::IMPORTS]
    }

    /// Number of functions (imported and defined).
    pub fn num_funcs(&self) -> u32 {
        self.n[header::FUNCS]
    }

    /// Number of memories (imports included).
    pub fn num_memories(&self) -> u32 {
        self.n[header::MEMORIES]
    }

    /// Number of tables (imports included).
    pub fn num_tables(&self) -> u32 {
        self.n[header::TABLES]
    }

    /// Number of globals (imports included).
    pub fn num_globals(&self) -> u32 {
        self.n[header::GLOBALS]
    }

    /// Number of defined (not imported) globals.
    pub fn num_defined_globals(&self) -> u32 {
        self.n[header::GLOBALS] - self.n[header::IMPORTED_GLOBALS]
    }

    /// Number of exports.
    pub fn num_exports(&self) -> u32 {
        self.n[header::EXPORTS]
    }

    /// Number of element segments.
    pub fn num_elems(&self) -> u32 {
        self.n[header::ELEMS]
    }

    /// Number of element items (all segments).
    pub fn num_elem_items(&self) -> u32 {
        self.n[header::ITEMS]
    }

    /// Number of data segments.
    pub fn num_datas(&self) -> u32 {
        self.n[header::DATAS]
    }

    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.n[header::FUNCS] - self.n[header::IMPORTED_FUNCS]
    }
}

/// The index space a kind word names (validated: below 4).
fn export_kind(k: u32) -> ExportKind {
    match k {
        0 => ExportKind::Func,
        1 => ExportKind::Memory,
        2 => ExportKind::Table,
        _ => ExportKind::Global,
    }
}
