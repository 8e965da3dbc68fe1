//! `ModuleMeta`: a compiler-neutral description of a WebAssembly module.
//!
//! Everything an instance needs besides code: signatures, imports, the type of every
//! function, memories, tables, globals (with their constant initializers), exports, the
//! start function and the element and data segments. It is plain owned data (no borrowed
//! bytes, no compiler types) so the compiler can build it from wasmparser and a snapshot can
//! serialize it field by field.
//!
//! Index spaces follow the WebAssembly convention: in `funcs`, `memories`, `tables` and
//! `globals`, imported entities come first (in import order), then the defined ones.

use alloc::string::String;
use alloc::vec::Vec;

/// A value type (WebAssembly 2.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// Nullable function reference.
    FuncRef,
    /// Nullable host reference.
    ExternRef,
    /// 128-bit vector (SIMD).
    V128,
    /// Nullable exception reference (exception handling; a store-owned exception object).
    ExnRef,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        )
    }

    /// Number of 8-byte value slots a value of this type takes in the interpreter's value
    /// stack and the array ABI: 2 for `v128` (low 64 bits first), 1 for everything else.
    /// The one definition of the slot layout (docs/ABI.md, "Value slots").
    #[inline]
    pub fn slots(self) -> u32 {
        if self == ValType::V128 { 2 } else { 1 }
    }
}

/// Number of 8-byte value slots a sequence of values takes (see [`ValType::slots`]).
pub fn slot_count(types: &[ValType]) -> u32 {
    types.iter().map(|t| t.slots()).sum()
}

/// The slot offset of each value of a sequence laid out consecutively from slot 0 (see
/// [`ValType::slots`]): entry `i` is where value `i` starts.
pub fn slot_offsets(types: impl IntoIterator<Item = ValType>) -> Vec<u32> {
    let mut at = 0u32;
    types
        .into_iter()
        .map(|t| {
            let o = at;
            at += t.slots();
            o
        })
        .collect()
}

impl ValType {
    /// The text format's name (`i32`, `funcref`, ...): what `Display` writes, for callers
    /// that avoid `core::fmt` (the size-built `bareflow-load`).
    pub fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::V128 => "v128",
            ValType::ExnRef => "exnref",
        }
    }
}

impl core::fmt::Display for ValType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// Value slots the parameters take (see [`ValType::slots`]).
    pub fn param_slots(&self) -> u32 {
        slot_count(&self.params)
    }

    /// Value slots the results take (see [`ValType::slots`]).
    pub fn result_slots(&self) -> u32 {
        slot_count(&self.results)
    }
}

impl core::fmt::Display for FuncType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{p}")?;
        }
        f.write_str(") -> (")?;
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{r}")?;
        }
        f.write_str(")")
    }
}

/// Size limits of a memory (in 64 KiB pages) or a table (in elements). 64-bit: a memory64
/// memory or table64 table may declare limits past `u32` (the validator keeps a 32-bit
/// one's within `u32`); the instance core refuses sizes it cannot create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Optional maximum size.
    pub max: Option<u64>,
}

/// A linear memory's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    /// Size limits in pages.
    pub limits: Limits,
    /// memory64: addresses are `i64` (`false`: the `i32` addresses of WebAssembly 1.0).
    pub index64: bool,
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    /// Element type: [`ValType::FuncRef`] or [`ValType::ExternRef`].
    pub elem: ValType,
    /// Size limits in elements.
    pub limits: Limits,
    /// table64: indices are `i64` (`false`: `i32` indices).
    pub index64: bool,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Whether `global.set` may write it.
    pub mutable: bool,
}

/// A constant expression (initializers of globals, segment offsets and element items).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConstExpr {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const` (raw bits).
    F32(u32),
    /// `f64.const` (raw bits).
    F64(u64),
    /// `ref.null` of the given reference type.
    RefNull(ValType),
    /// `ref.func` of a function index.
    RefFunc(u32),
    /// `global.get` of a global index.
    GlobalGet(u32),
    /// `v128.const` (the 16 bytes little-endian: lane 0 in the low bits).
    V128(u128),
    /// An extended constant expression (WebAssembly 3.0: `i32/i64.add/sub/mul` over
    /// constants and `global.get`): bytes `off .. off + len` of [`ModuleMeta::const_code`],
    /// [`CONST_OP_BYTES`]-byte operations (see there). `i64` says the result type (`i32`
    /// otherwise).
    Code {
        /// Whether the result is an `i64` (else `i32`).
        i64: bool,
        /// Offset in [`ModuleMeta::const_code`].
        off: u32,
        /// Length in bytes (a multiple of [`CONST_OP_BYTES`]).
        len: u32,
    },
}

/// Size of one operation of an extended constant expression ([`ConstExpr::Code`]): the
/// WebAssembly opcode byte (`0x41` `i32.const`, `0x42` `i64.const`, `0x23` `global.get`,
/// `0x6a`/`0x6b`/`0x6c` `i32.add/sub/mul`, `0x7c`/`0x7d`/`0x7e` `i64.add/sub/mul`), then a
/// little-endian `u64` (the constant's bits zero-extended, the global index, 0 for the
/// arithmetic). Fixed-width so the loaders' evaluator needs no LEB128 decoder.
pub const CONST_OP_BYTES: usize = 9;

/// The deepest operand stack an extended constant expression may need; the front end
/// refuses deeper ones (`Unsupported`) so the evaluator's stack is a fixed array.
pub const CONST_STACK: usize = 16;

/// What an import brings in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given module type index.
    Func(u32),
    /// A linear memory.
    Memory(MemoryType),
    /// A table.
    Table(TableType),
    /// A global.
    Global(GlobalType),
}

/// One import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Kind and type.
    pub kind: ImportKind,
}

/// Which index space an export refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// Function index.
    Func,
    /// Memory index.
    Memory,
    /// Table index.
    Table,
    /// Global index.
    Global,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Index space.
    pub kind: ExportKind,
    /// Index in that space.
    pub index: u32,
}

/// A global definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalDef {
    /// Type.
    pub ty: GlobalType,
    /// Initializer.
    pub init: ConstExpr,
}

/// How an element segment is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElemMode {
    /// Copied into a table at instantiation, then dropped.
    Active {
        /// Table index.
        table: u32,
        /// Offset (an `i32` constant expression).
        offset: ConstExpr,
    },
    /// Available to `table.init` until `elem.drop`.
    Passive,
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemSegment {
    /// Mode.
    pub mode: ElemMode,
    /// Element type ([`ValType::FuncRef`] or [`ValType::ExternRef`]).
    pub ty: ValType,
    /// Items; function-index items are stored as [`ConstExpr::RefFunc`].
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataMode {
    /// Copied into a memory at instantiation, then dropped.
    Active {
        /// Memory index.
        memory: u32,
        /// Offset (an `i32` constant expression).
        offset: ConstExpr,
    },
    /// Available to `memory.init` until `data.drop`.
    Passive,
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSegment {
    /// Mode.
    pub mode: DataMode,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// A compiler-neutral module description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleMeta {
    /// The type section.
    pub types: Vec<FuncType>,
    /// Imports in section order.
    pub imports: Vec<Import>,
    /// Type index of every function (imports first).
    pub funcs: Vec<u32>,
    /// Number of imported functions (the first entries of `funcs`).
    pub num_imported_funcs: u32,
    /// Every memory (imports first).
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every table (imports first).
    pub tables: Vec<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// The initialiser of every defined table (index `num_imported_tables + i`): the value
    /// each element starts with (WebAssembly 3.0 `(table n t expr)`; `ref.null` otherwise).
    /// Missing entries mean `ref.null`.
    pub table_inits: Vec<ConstExpr>,
    /// Type of every global (imports first).
    pub global_types: Vec<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Defined globals with their initializers (index `num_imported_globals + i`).
    pub globals: Vec<GlobalDef>,
    /// Exports in section order.
    pub exports: Vec<Export>,
    /// Start function index.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// The operations of the extended constant expressions ([`ConstExpr::Code`]).
    pub const_code: Vec<u8>,
    /// Per type: its signature class, the first type index with the same precise signature
    /// (typed references included, which [`FuncType`] collapses): the run-time type id a
    /// snapshot loader gives the type, what `call_indirect` compares. Empty: the first type
    /// with an equal [`FuncType`] (see [`ModuleMeta::type_class`]); kept empty when that is
    /// what it would say ([`ModuleMeta::set_type_classes`]), so equal modules compare equal.
    pub type_classes: Vec<u32>,
}

impl ModuleMeta {
    /// The signature class of type `t` ([`ModuleMeta::type_classes`], or the first type
    /// with an equal signature when that is empty or too short).
    pub fn type_class(&self, t: usize) -> u32 {
        self.type_classes
            .get(t)
            .copied()
            .unwrap_or_else(|| self.collapsed_classes().get(t).map_or(t as u32, |&c| c))
    }

    /// Every type's signature class ([`ModuleMeta::type_class`] of each), computed once.
    pub fn all_type_classes(&self) -> Vec<u32> {
        if self.type_classes.len() == self.types.len() {
            return self.type_classes.clone();
        }
        let collapsed = self.collapsed_classes();
        (0..self.types.len())
            .map(|t| self.type_classes.get(t).copied().unwrap_or(collapsed[t]))
            .collect()
    }

    /// Per type, the first type with an equal [`FuncType`] (one pass over a sorted map, so
    /// a module with many types costs `n log n`, not `n²`).
    fn collapsed_classes(&self) -> Vec<u32> {
        let mut first = alloc::collections::BTreeMap::new();
        (0..self.types.len())
            .map(|t| *first.entry(&self.types[t]).or_insert(t as u32))
            .collect()
    }

    /// Sets [`ModuleMeta::type_classes`], left empty if every class is the collapsed one.
    pub fn set_type_classes(&mut self, classes: Vec<u32>) {
        let collapsed = classes == self.collapsed_classes();
        self.type_classes = if collapsed { Vec::new() } else { classes };
    }

    /// The signature of function `index`, if the index is in range.
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let ty = *self.funcs.get(index as usize)?;
        self.types.get(ty as usize)
    }

    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.funcs.len() as u32 - self.num_imported_funcs
    }

    /// Finds an export by name.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}
