//! Front end: `.wasm` or `.wat` bytes → validated [`Module`].
//!
//! This is the only module that sees raw sections. It drives wasmparser's `Parser` and
//! `Validator` together (WebAssembly 2.0: sign-extension, non-trapping
//! float-to-int, multi-value, bulk memory, reference types, multiple tables, fixed-width SIMD;
//! plus relaxed SIMD) and builds the
//! compiler-neutral [`ModuleMeta`] plus the byte range of every function body, which the
//! interpreter lowering and the Cranelift translator read again later. Everything
//! downstream may rely on the module being valid.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use runtime_loader::meta::{
    ConstExpr, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExportKind, FuncType,
    GlobalDef, GlobalType, Import, ImportKind, Limits, MemoryType, ModuleMeta, TableType, ValType,
};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// Which rule a rejected module breaks, in the spec's terms (the spec suite's
/// `assert_malformed` expects [`ParseErrorKind::Text`] or [`ParseErrorKind::Decode`],
/// `assert_invalid` expects [`ParseErrorKind::Validate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// The text format does not parse (or the file cannot be read).
    Text,
    /// The binary does not decode: the binary format's rules (section layout, LEB128s,
    /// opcodes, UTF-8 names, section counts, the data count requirement).
    Decode,
    /// The module decodes but does not validate (types, indices, limits, features outside
    /// WebAssembly 2.0 plus relaxed SIMD).
    Validate,
    /// Valid WebAssembly this engine does not implement.
    Unsupported,
}

impl ParseErrorKind {
    /// A short name (`text`, `decode`, `validate`, `unsupported`).
    pub fn name(self) -> &'static str {
        match self {
            ParseErrorKind::Text => "text",
            ParseErrorKind::Decode => "decode",
            ParseErrorKind::Validate => "validate",
            ParseErrorKind::Unsupported => "unsupported",
        }
    }
}

/// A front-end error: the bytes are not a valid module in scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Which rule the module breaks.
    pub kind: ParseErrorKind,
    /// Byte offset in the binary module, when known (text errors carry line/column in the
    /// message instead).
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// An error of `kind` at a byte offset.
    pub fn new(kind: ParseErrorKind, offset: Option<usize>, message: impl Into<String>) -> Self {
        ParseError {
            kind,
            offset,
            message: message.into(),
        }
    }

    /// Valid WebAssembly this front end does not implement.
    fn at(offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(ParseErrorKind::Unsupported, Some(offset), message)
    }

    fn decode(e: &wasmparser::BinaryReaderError) -> ParseError {
        ParseError::new(
            ParseErrorKind::Decode,
            usize::try_from(e.offset()).ok(),
            e.message().to_string(),
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "{} (at offset {off:#x})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Errors of the validating pass. [`decode`] has already accepted the bytes, so whatever the
/// parser or validator reports here is a validation error.
impl From<wasmparser::BinaryReaderError> for ParseError {
    fn from(e: wasmparser::BinaryReaderError) -> ParseError {
        ParseError::new(
            ParseErrorKind::Validate,
            usize::try_from(e.offset()).ok(),
            e.message().to_string(),
        )
    }
}

/// One function body: where its bytes are in [`Module::bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncBody {
    /// Byte range of the body (locals and code, without the size prefix).
    pub range: Range<usize>,
}

/// A parsed and validated module.
#[derive(Clone, Debug)]
pub struct Module {
    /// The compiler-neutral description.
    pub meta: ModuleMeta,
    /// Bodies of the defined functions (index `i` is function `num_imported_funcs + i`).
    pub bodies: Vec<FuncBody>,
    /// The binary module (text input is converted first).
    pub bytes: Arc<[u8]>,
    /// Function names from the name section: `(function index, name)`, sorted by index.
    pub func_names: Vec<(u32, String)>,
    /// The precise reference types of the globals and tables (imports first), which
    /// [`ModuleMeta`] collapses to `funcref`/`externref`: what import linking checks
    /// (`runtime::Store::instantiate`).
    pub ref_types: RefTypes,
    /// Module name from the name section.
    pub name: Option<String>,
    /// Tags (exception handling), imports first: what [`ModuleMeta`] does not describe yet.
    pub tags: Tags,
}

/// A module's tags (exception handling). Kept beside [`ModuleMeta`], whose imports and
/// exports list functions, memories, tables and globals only.
#[derive(Clone, Debug, Default)]
pub struct Tags {
    /// The module type index of every tag (a tag's parameters are its payload), imports
    /// first.
    pub types: Vec<u32>,
    /// Imported tags: `(module, name)`, in tag index order (tag `i < imports.len()`).
    pub imports: Vec<(String, String)>,
    /// Exported tags: `(name, tag index)`.
    pub exports: Vec<(String, u32)>,
}

impl Tags {
    /// Whether the module declares or imports any tag.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

impl Module {
    /// The name-section name of function `index`.
    ///
    /// Without a name-section entry, the name of the first function export of `index` is used,
    /// so traps, profiles and snapshots of stripped modules still name exported functions.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
            .or_else(|| {
                self.meta
                    .exports
                    .iter()
                    .find(|e| e.kind == ExportKind::Func && e.index == index)
                    .map(|e| e.name.as_str())
            })
    }

    /// A reader over the body of defined function `defined_index`.
    pub fn body_reader(&self, defined_index: usize) -> Option<wasmparser::FunctionBody<'_>> {
        let body = self.bodies.get(defined_index)?;
        let bytes = self.bytes.get(body.range.clone())?;
        Some(wasmparser::FunctionBody::new(
            wasmparser::BinaryReader::new(bytes, body.range.start as u64),
        ))
    }
}

/// A precise reference type (WebAssembly 3.0 typed function references): nullability and
/// heap type. [`ModuleMeta`] keeps only the top type (`funcref`/`externref`), which is all
/// execution needs; linking needs this one ([`RefTy::matches`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefTy {
    /// Whether null is a value of the type.
    pub nullable: bool,
    /// The heap type.
    pub heap: HeapTy,
}

/// A heap type (without GC: the function and extern hierarchies).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeapTy {
    /// `func`, the top of the function references.
    Func,
    /// `nofunc`, the bottom.
    NoFunc,
    /// `extern`.
    Extern,
    /// `noextern`.
    NoExtern,
    /// `exn`, the top of the exception references.
    Exn,
    /// `noexn`, the bottom.
    NoExn,
    /// A concrete function type, in a canonical structural form that is equal for
    /// equivalent types of any two modules (a reference back to a type being spelled out
    /// is written `rec N`, N levels up).
    Concrete(Arc<str>),
}

impl RefTy {
    /// The nullable top type of a runtime reference type (`funcref`, `externref`): the
    /// precise type of tables and globals the host creates.
    pub fn top(t: ValType) -> RefTy {
        RefTy {
            nullable: true,
            heap: if t == ValType::ExternRef {
                HeapTy::Extern
            } else {
                HeapTy::Func
            },
        }
    }

    /// Whether `self` is a subtype of `other` (without GC every concrete type is final, so
    /// concrete types match only themselves).
    pub fn matches(&self, other: &RefTy) -> bool {
        use HeapTy::*;
        let heap = match (&self.heap, &other.heap) {
            (a, b) if a == b => true,
            (NoFunc, Func | Concrete(_))
            | (Concrete(_), Func)
            | (NoExtern, Extern)
            | (NoExn, Exn) => true,
            _ => false,
        };
        (!self.nullable || other.nullable) && heap
    }
}

/// The precise reference types of a module's globals and tables (see [`Module::ref_types`]).
#[derive(Clone, Debug, Default)]
pub struct RefTypes {
    /// Per global (imports first): its reference type, `None` for a number or vector.
    pub globals: Vec<Option<RefTy>>,
    /// Per table (imports first): its element type.
    pub tables: Vec<RefTy>,
    /// Per module type: its canonical form (as in [`HeapTy::Concrete`]) if a parameter or
    /// result is a typed reference (anything but `funcref`/`externref`), else `None`: the
    /// run-time type ids compare signatures with reference types collapsed, so linking
    /// compares these too.
    pub sigs: Vec<Option<Arc<str>>>,
}

/// The precise [`RefTy`] of `r`; `types` is the type section so far.
/// The [`HeapTy`] of `h` (`stack`: the types being spelled out, see [`HeapTy::Concrete`]).
fn heap(types: &[wasmparser::FuncType], h: wasmparser::HeapType, stack: &mut Vec<u32>) -> HeapTy {
    use wasmparser::{AbstractHeapType as A, HeapType};
    match h {
        HeapType::Abstract { ty: A::Func, .. } => HeapTy::Func,
        HeapType::Abstract { ty: A::NoFunc, .. } => HeapTy::NoFunc,
        HeapType::Abstract {
            ty: A::NoExtern, ..
        } => HeapTy::NoExtern,
        HeapType::Abstract { ty: A::Exn, .. } => HeapTy::Exn,
        HeapType::Abstract { ty: A::NoExn, .. } => HeapTy::NoExn,
        HeapType::Abstract { .. } => HeapTy::Extern,
        HeapType::Concrete(i) | HeapType::Exact(i) => {
            let i = i.as_module_index().unwrap_or(u32::MAX);
            HeapTy::Concrete(canon(types, i, stack).into())
        }
    }
}
/// The canonical structural form of type `i` (see [`HeapTy::Concrete`]).
fn canon(types: &[wasmparser::FuncType], i: u32, stack: &mut Vec<u32>) -> String {
    if let Some(p) = stack.iter().rposition(|&x| x == i) {
        return format!("rec {}", stack.len() - 1 - p);
    }
    let Some(f) = types.get(i as usize) else {
        return format!("type {i}");
    };
    stack.push(i);
    let mut s = String::from("(func");
    for (k, t) in f.params().iter().chain(f.results()).enumerate() {
        if k == f.params().len() {
            s.push_str(" ->");
        }
        s.push(' ');
        match t {
            wasmparser::ValType::Ref(r) => {
                let null = if r.is_nullable() { "null " } else { "" };
                match heap(types, r.heap_type(), stack) {
                    HeapTy::Concrete(c) => s.push_str(&format!("(ref {null}{c})")),
                    h => s.push_str(&format!("(ref {null}{h:?})")),
                }
            }
            t => s.push_str(&t.to_string()),
        }
    }
    if f.results().is_empty() {
        s.push_str(" ->");
    }
    s.push(')');
    stack.pop();
    s
}

fn precise_ref(types: &[wasmparser::FuncType], r: wasmparser::RefType) -> RefTy {
    RefTy {
        nullable: r.is_nullable(),
        heap: heap(types, r.heap_type(), &mut Vec::new()),
    }
}

fn precise_val(types: &[wasmparser::FuncType], t: wasmparser::ValType) -> Option<RefTy> {
    match t {
        wasmparser::ValType::Ref(r) => Some(precise_ref(types, r)),
        _ => None,
    }
}

/// The WebAssembly 3.0 features (beyond relaxed SIMD) this front end and every execution
/// mode implement completely. The spec suite's `wasm3` scope puts exactly these in scope (see
/// `wast::Scope::Wasm3`), so adding a flag here is what makes its files strict.
pub const WASM3_IMPLEMENTED: WasmFeatures = WasmFeatures::EXTENDED_CONST
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::FUNCTION_REFERENCES)
    .union(WasmFeatures::MEMORY64)
    .union(WasmFeatures::MULTI_MEMORY);

/// 3.0 features the front end accepts although they are not complete yet; the `wasm3` scope keeps their spec assertions skipped and named until they move
/// to [`WASM3_IMPLEMENTED`].
///
/// Exception handling runs in every mode, but snapshot files of modules that use it are
/// refused (the loaders have no exception functions yet), so the front end keeps it here;
/// the `wasm3` scope adds it in every mode (`wast::exceptions_in_mode`).
pub const WASM3_PARTIAL: WasmFeatures = WasmFeatures::EXCEPTIONS;

/// The features this front end accepts: WebAssembly 2.0 (including fixed-width SIMD),
/// relaxed SIMD, [`WASM3_IMPLEMENTED`] and [`WASM3_PARTIAL`].
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        .union(WasmFeatures::RELAXED_SIMD)
        .union(WASM3_IMPLEMENTED)
        .union(WASM3_PARTIAL)
}

/// Parses `.wasm` or `.wat` bytes (text is recognized by not starting with `\0asm`).
///
/// # Errors
/// Text syntax errors, malformed binaries and validation failures (including features
/// outside WebAssembly 2.0 plus relaxed SIMD).
pub fn parse(bytes: &[u8]) -> Result<Module, ParseError> {
    if bytes.starts_with(b"\0asm") {
        parse_binary(Arc::from(bytes))
    } else {
        let bin = wat::parse_bytes(bytes)
            .map_err(|e| ParseError::new(ParseErrorKind::Text, None, e.to_string()))?;
        parse_binary(Arc::from(bin.as_ref()))
    }
}

fn val_type(offset: usize, t: wasmparser::ValType) -> Result<ValType, ParseError> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ref_type(offset, r)?,
    })
}

/// A reference type: `funcref`, `externref` and the typed function references of
/// WebAssembly 3.0 (`(ref null? $t)`, `(ref null? func)`, `nofunc`, `noextern`). Nullability
/// and the concrete type are the validator's business; at run time every function reference
/// is a `*const FuncRef` (0 = null) and every external one a host value, so the runtime type
/// is the top type of the hierarchy.
fn ref_type(offset: usize, r: wasmparser::RefType) -> Result<ValType, ParseError> {
    heap_ref_type(offset, r.heap_type())
        .map_err(|_| ParseError::at(offset, format!("reference type {r} is not supported")))
}

fn heap_ref_type(offset: usize, h: wasmparser::HeapType) -> Result<ValType, ParseError> {
    use wasmparser::{AbstractHeapType, HeapType};
    match h {
        HeapType::Abstract {
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
            shared: false,
        } => Ok(ValType::FuncRef),
        HeapType::Abstract {
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
            shared: false,
        } => Ok(ValType::ExternRef),
        HeapType::Abstract {
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
            shared: false,
        } => Ok(ValType::ExnRef),
        // Without GC every concrete type is a function type.
        HeapType::Concrete(_) => Ok(ValType::FuncRef),
        _ => Err(ParseError::at(offset, "heap type is not supported")),
    }
}

fn limits(min: u64, max: Option<u64>) -> Limits {
    Limits { min, max }
}

/// Multi-memory: more than [`runtime_loader::abi::MAX_MEMORIES`] memories (imports
/// included) is refused, so no loader allocates per-memory arrays without bound.
fn too_many_memories(offset: usize, n: usize) -> Result<(), ParseError> {
    let max = runtime_loader::abi::MAX_MEMORIES;
    if n > max as usize {
        return Err(ParseError::at(
            offset,
            format!("too many memories (more than {max})"),
        ));
    }
    Ok(())
}

fn memory_type(offset: usize, m: wasmparser::MemoryType) -> Result<MemoryType, ParseError> {
    if m.shared || m.page_size_log2.is_some() {
        return Err(ParseError::at(offset, "memory type is not supported"));
    }
    Ok(MemoryType {
        limits: limits(m.initial, m.maximum),
        index64: m.memory64,
    })
}

fn table_type(offset: usize, t: wasmparser::TableType) -> Result<TableType, ParseError> {
    if t.shared {
        return Err(ParseError::at(offset, "table type is not supported"));
    }
    Ok(TableType {
        elem: ref_type(offset, t.element_type)?,
        limits: limits(t.initial, t.maximum),
        index64: t.table64,
    })
}

fn global_type(offset: usize, g: wasmparser::GlobalType) -> Result<GlobalType, ParseError> {
    if g.shared {
        return Err(ParseError::at(offset, "shared globals are not supported"));
    }
    Ok(GlobalType {
        ty: val_type(offset, g.content_type)?,
        mutable: g.mutable,
    })
}

fn const_expr(
    offset: usize,
    e: &wasmparser::ConstExpr<'_>,
    code: &mut Vec<u8>,
) -> Result<ConstExpr, ParseError> {
    use wasmparser::Operator as O;
    let mut reader = e.get_operators_reader();
    let first = reader.read()?;
    let value = match first {
        O::I32Const { value } => ConstExpr::I32(value),
        O::I64Const { value } => ConstExpr::I64(value),
        O::F32Const { value } => ConstExpr::F32(value.bits()),
        O::F64Const { value } => ConstExpr::F64(value.bits()),
        O::RefNull { hty } => ConstExpr::RefNull(heap_ref_type(offset, hty)?),
        O::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        O::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        O::V128Const { value } => ConstExpr::V128(value.i128() as u128),
        _ => return Err(ParseError::at(offset, "unsupported constant expression")),
    };
    match reader.read()? {
        O::End => Ok(value),
        _ => extended_const(offset, e, code),
    }
}

/// An extended constant expression (more than one operation, WebAssembly 3.0), written to
/// `code` as [`ConstExpr::Code`] operations (`runtime_loader::meta::CONST_OP_BYTES` each).
/// The module is valid, so the operations are `i32/i64.const`, `global.get` and
/// `i32/i64.add/sub/mul`, and the stack ends with one `i32` or `i64`.
fn extended_const(
    offset: usize,
    e: &wasmparser::ConstExpr<'_>,
    code: &mut Vec<u8>,
) -> Result<ConstExpr, ParseError> {
    use runtime_loader::meta::CONST_STACK;
    use wasmparser::Operator as O;
    let start = code.len();
    let (mut depth, mut max, mut i64) = (0usize, 0usize, false);
    let unsupported = || ParseError::at(offset, "unsupported constant expression");
    let mut reader = e.get_operators_reader();
    loop {
        let (op, x): (u8, u64) = match reader.read()? {
            O::End => break,
            O::I32Const { value } => (0x41, u64::from(value as u32)),
            O::I64Const { value } => (0x42, value as u64),
            O::GlobalGet { global_index } => (0x23, u64::from(global_index)),
            O::I32Add => (0x6a, 0),
            O::I32Sub => (0x6b, 0),
            O::I32Mul => (0x6c, 0),
            O::I64Add => (0x7c, 0),
            O::I64Sub => (0x7d, 0),
            O::I64Mul => (0x7e, 0),
            _ => return Err(unsupported()),
        };
        if matches!(op, 0x41 | 0x42 | 0x23) {
            depth += 1;
        } else {
            depth = depth.checked_sub(1).ok_or_else(unsupported)?;
            i64 = op >= 0x7c;
        }
        max = max.max(depth);
        code.push(op);
        code.extend_from_slice(&x.to_le_bytes());
    }
    if max > CONST_STACK {
        return Err(ParseError::at(
            offset,
            format!("constant expression deeper than {CONST_STACK} operands"),
        ));
    }
    let len = u32::try_from(code.len() - start).map_err(|_| unsupported())?;
    Ok(ConstExpr::Code {
        i64,
        off: u32::try_from(start).map_err(|_| unsupported())?,
        len,
    })
}

/// Decodes every part of a binary module without validating it, as the spec's decoder
/// does before validation: a module that breaks a binary-format rule anywhere is malformed
/// even if an earlier part would not validate.
///
/// Besides what wasmparser's `Parser` and section readers check (section order and sizes,
/// LEB128s, opcodes, UTF-8, function/code and data count/data section lengths), this checks
/// the binary-format rule the readers leave to the validator: `memory.init` and `data.drop`
/// need a data count section.
///
/// # Errors
/// A [`ParseErrorKind::Decode`] error for the first rule broken.
pub fn decode(bytes: &[u8]) -> Result<(), ParseError> {
    decode_all(bytes).map_err(|e| match e {
        DecodeFail::Reader(e) => ParseError::decode(&e),
        DecodeFail::Rule(offset, message) => ParseError::new(
            ParseErrorKind::Decode,
            usize::try_from(offset).ok(),
            message,
        ),
    })
}

/// Why [`decode_all`] stopped: a reader error, or a rule checked here (offset, message).
enum DecodeFail {
    Reader(wasmparser::BinaryReaderError),
    Rule(u64, &'static str),
}

impl From<wasmparser::BinaryReaderError> for DecodeFail {
    fn from(e: wasmparser::BinaryReaderError) -> DecodeFail {
        DecodeFail::Reader(e)
    }
}

fn decode_all(bytes: &[u8]) -> Result<(), DecodeFail> {
    fn const_expr(e: &wasmparser::ConstExpr<'_>) -> wasmparser::Result<()> {
        let mut ops = e.get_operators_reader();
        while !ops.eof() {
            ops.read()?;
        }
        ops.finish()
    }
    let mut has_data_count = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(r) => {
                for g in r {
                    g?;
                }
            }
            Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    i?;
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    f?;
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    if let wasmparser::TableInit::Expr(e) = t?.init {
                        const_expr(&e)?;
                    }
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    m?;
                }
            }
            Payload::TagSection(r) => {
                for t in r {
                    t?;
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    const_expr(&g?.init_expr)?;
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    e?;
                }
            }
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e?;
                    if let wasmparser::ElementKind::Active { offset_expr, .. } = &e.kind {
                        const_expr(offset_expr)?;
                    }
                    match e.items {
                        wasmparser::ElementItems::Functions(r) => {
                            for f in r {
                                f?;
                            }
                        }
                        wasmparser::ElementItems::Expressions(_, r) => {
                            for x in r {
                                const_expr(&x?)?;
                            }
                        }
                    }
                }
            }
            Payload::DataCountSection { .. } => has_data_count = true,
            // The parser hands unknown ids to the validator; they are a format error.
            Payload::UnknownSection { range, .. } => {
                return Err(DecodeFail::Rule(range.start, "malformed section id"));
            }
            Payload::DataSection(r) => {
                for d in r {
                    if let wasmparser::DataKind::Active { offset_expr, .. } = &d?.kind {
                        const_expr(offset_expr)?;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                for l in body.get_locals_reader()? {
                    l?;
                }
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    let pos = ops.original_position();
                    match ops.read()? {
                        wasmparser::Operator::MemoryInit { .. }
                        | wasmparser::Operator::DataDrop { .. }
                            if !has_data_count =>
                        {
                            return Err(DecodeFail::Rule(pos, "data count section required"));
                        }
                        _ => {}
                    }
                }
                ops.finish()?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_binary(bytes: Arc<[u8]>) -> Result<Module, ParseError> {
    decode(&bytes)?;
    let mut validator = Validator::new_with_features(features());
    let mut meta = ModuleMeta::default();
    let mut bodies = Vec::new();
    let mut func_names = Vec::new();
    let mut name = None;
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    let (mut ptypes, mut ref_types) = (Vec::new(), RefTypes::default());
    let mut tags = Tags::default();

    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        match payload {
            Payload::TypeSection(reader) => {
                let off = reader.range().start as usize;
                for group in reader {
                    for sub in group?.into_types() {
                        match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                ptypes.push(f.clone());
                                let params = f
                                    .params()
                                    .iter()
                                    .map(|t| val_type(off, *t))
                                    .collect::<Result<_, _>>()?;
                                let results = f
                                    .results()
                                    .iter()
                                    .map(|t| val_type(off, *t))
                                    .collect::<Result<_, _>>()?;
                                meta.types.push(FuncType { params, results });
                            }
                            _ => {
                                return Err(ParseError::at(
                                    off,
                                    "only function types are supported",
                                ));
                            }
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports_with_offsets() {
                    let (off, imp) = imp?;
                    let off = off as usize;
                    let kind = match imp.ty {
                        wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                            meta.funcs.push(t);
                            meta.num_imported_funcs += 1;
                            ImportKind::Func(t)
                        }
                        wasmparser::TypeRef::Memory(m) => {
                            let m = memory_type(off, m)?;
                            meta.memories.push(m);
                            meta.num_imported_memories += 1;
                            too_many_memories(off, meta.memories.len())?;
                            ImportKind::Memory(m)
                        }
                        wasmparser::TypeRef::Table(t) => {
                            ref_types.tables.push(precise_ref(&ptypes, t.element_type));
                            let t = table_type(off, t)?;
                            meta.tables.push(t);
                            meta.num_imported_tables += 1;
                            ImportKind::Table(t)
                        }
                        wasmparser::TypeRef::Global(g) => {
                            ref_types.globals.push(precise_val(&ptypes, g.content_type));
                            let g = global_type(off, g)?;
                            meta.global_types.push(g);
                            meta.num_imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        wasmparser::TypeRef::Tag(t) => {
                            tags.types.push(t.func_type_idx);
                            tags.imports
                                .push((imp.module.to_string(), imp.name.to_string()));
                            continue;
                        }
                    };
                    meta.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    meta.funcs.push(t?);
                }
            }
            Payload::TableSection(reader) => {
                let off = reader.range().start as usize;
                for t in reader {
                    let t = t?;
                    ref_types
                        .tables
                        .push(precise_ref(&ptypes, t.ty.element_type));
                    let ty = table_type(off, t.ty)?;
                    let init = match &t.init {
                        wasmparser::TableInit::RefNull => ConstExpr::RefNull(ty.elem),
                        wasmparser::TableInit::Expr(e) => const_expr(off, e, &mut meta.const_code)?,
                    };
                    meta.tables.push(ty);
                    meta.table_inits.push(init);
                }
            }
            Payload::MemorySection(reader) => {
                let off = reader.range().start as usize;
                for m in reader {
                    meta.memories.push(memory_type(off, m?)?);
                    too_many_memories(off, meta.memories.len())?;
                }
            }
            Payload::GlobalSection(reader) => {
                let off = reader.range().start as usize;
                for g in reader {
                    let g = g?;
                    ref_types
                        .globals
                        .push(precise_val(&ptypes, g.ty.content_type));
                    let ty = global_type(off, g.ty)?;
                    meta.global_types.push(ty);
                    meta.globals.push(GlobalDef {
                        ty,
                        init: const_expr(off, &g.init_expr, &mut meta.const_code)?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    let kind = match e.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            ExportKind::Func
                        }
                        wasmparser::ExternalKind::Memory => ExportKind::Memory,
                        wasmparser::ExternalKind::Table => ExportKind::Table,
                        wasmparser::ExternalKind::Global => ExportKind::Global,
                        wasmparser::ExternalKind::Tag => {
                            tags.exports.push((e.name.to_string(), e.index));
                            continue;
                        }
                    };
                    meta.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => meta.start = Some(func),
            Payload::TagSection(reader) => {
                for t in reader {
                    tags.types.push(t?.func_type_idx);
                }
            }
            Payload::ElementSection(reader) => {
                let off = reader.range().start as usize;
                for e in reader {
                    let e = e?;
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => ElemMode::Passive,
                        wasmparser::ElementKind::Declared => ElemMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(off, &offset_expr, &mut meta.const_code)?,
                        },
                    };
                    let (ty, items) = match e.items {
                        wasmparser::ElementItems::Functions(r) => (
                            ValType::FuncRef,
                            r.into_iter()
                                .map(|f| f.map(ConstExpr::RefFunc))
                                .collect::<Result<Vec<_>, _>>()?,
                        ),
                        wasmparser::ElementItems::Expressions(rt, r) => {
                            let ty = ref_type(off, rt)?;
                            let mut items = Vec::new();
                            for ex in r {
                                items.push(const_expr(off, &ex?, &mut meta.const_code)?);
                            }
                            (ty, items)
                        }
                    };
                    meta.elems.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(reader) => {
                let off = reader.range().start as usize;
                for d in reader {
                    let d = d?;
                    let mode = match d.kind {
                        wasmparser::DataKind::Passive => DataMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => DataMode::Active {
                            memory: memory_index,
                            offset: const_expr(off, &offset_expr, &mut meta.const_code)?,
                        },
                    };
                    meta.datas.push(DataSegment {
                        mode,
                        bytes: d.data.to_vec(),
                    });
                }
            }
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                bodies.push(FuncBody {
                    range: r.start as usize..r.end as usize,
                });
            }
            Payload::CustomSection(reader) => {
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    // A malformed name section is not an error (custom sections never are).
                    read_names(names, &mut func_names, &mut name);
                }
            }
            _ => {}
        }
        if let wasmparser::ValidPayload::Func(fv, body) = valid {
            let mut fv = fv.into_validator(std::mem::take(&mut allocs));
            fv.validate(&body)?;
            allocs = fv.into_allocations();
        }
    }
    ref_types.sigs = (0..ptypes.len() as u32)
        .map(|i| {
            let f = &ptypes[i as usize];
            let typed = f.params().iter().chain(f.results()).any(|t| {
                use wasmparser::{AbstractHeapType as A, HeapType};
                matches!(t, wasmparser::ValType::Ref(r) if !(r.is_nullable()
                    && matches!(r.heap_type(), HeapType::Abstract { ty: A::Func | A::Extern, .. })))
            });
            typed.then(|| canon(&ptypes, i, &mut Vec::new()).into())
        })
        .collect();
    // Signature classes: the first type with the same collapsed signature and the same
    // canonical typed form (what the snapshot loaders compare in `call_indirect`).
    // (A map of first occurrences: linear in the types, whatever their number.)
    let mut first = std::collections::HashMap::new();
    let classes = (0..meta.types.len())
        .map(|i| {
            *first
                .entry((&meta.types[i], ref_types.sigs.get(i)))
                .or_insert(i as u32)
        })
        .collect();
    meta.set_type_classes(classes);
    func_names.sort_by_key(|(i, _)| *i);
    func_names.dedup_by_key(|(i, _)| *i);
    Ok(Module {
        meta,
        bodies,
        bytes,
        func_names,
        ref_types,
        name,
        tags,
    })
}

fn read_names(
    reader: wasmparser::NameSectionReader<'_>,
    func_names: &mut Vec<(u32, String)>,
    module_name: &mut Option<String>,
) {
    for sub in reader {
        let Ok(sub) = sub else { return };
        match sub {
            wasmparser::Name::Module { name, .. } => *module_name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for n in map {
                    let Ok(n) = n else { return };
                    func_names.push((n.index, n.name.to_string()));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_builds_meta() {
        let m = parse(
            br#"(module
                (import "env" "f" (func $f (param i32)))
                (import "env" "g" (global i64))
                (memory 1 2)
                (table 3 funcref)
                (global $x (mut i32) (i32.const 7))
                (func $add (export "add") (param i32 i32) (result i32)
                    local.get 0 local.get 1 i32.add)
                (elem (i32.const 0) func $add)
                (data (i32.const 8) "hi")
                (start $add2)
                (func $add2))"#,
        )
        .expect("valid module");
        assert_eq!(m.meta.num_imported_funcs, 1);
        assert_eq!(m.meta.funcs.len(), 3);
        assert_eq!(m.meta.num_imported_globals, 1);
        assert_eq!(m.meta.globals[0].init, ConstExpr::I32(7));
        assert_eq!(
            m.meta.memories[0].limits,
            Limits {
                min: 1,
                max: Some(2)
            }
        );
        assert_eq!(m.meta.tables[0].elem, ValType::FuncRef);
        assert_eq!(m.bodies.len(), 2);
        assert_eq!(m.meta.start, Some(2));
        assert_eq!(m.func_name(1), Some("add"));
        assert_eq!(m.meta.datas[0].bytes, b"hi");
        assert_eq!(m.meta.elems[0].items, vec![ConstExpr::RefFunc(1)]);
        assert_eq!(m.meta.export("add").map(|e| e.index), Some(1));
    }

    #[test]
    fn extended_constant_expressions() {
        let m = parse(
            br#"(module
                (import "env" "g" (global i32))
                (global i64 (i64.mul (i64.const 3) (i64.sub (i64.const 10) (i64.const 4))))
                (global i32 (i32.add (global.get 0) (i32.const 1)))
                (memory 1)
                (data (i32.mul (global.get 0) (i32.const 2)) "x"))"#,
        )
        .expect("valid 3.0 module");
        let ConstExpr::Code {
            i64: true,
            off,
            len,
        } = m.meta.globals[0].init
        else {
            panic!("{:?}", m.meta.globals[0].init);
        };
        assert_eq!((off, len), (0, 5 * 9));
        assert_eq!(&m.meta.const_code[..9], &[0x42, 3, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            m.meta.globals[1].init,
            ConstExpr::Code {
                i64: false,
                off: 45,
                len: 27
            }
        ));
        // Deeper than the evaluator's stack: refused as unsupported, not a crash later.
        let deep = format!(
            "(module (global i32 {}(i32.const 1){}))",
            "(i32.add (i32.const 1) ".repeat(17),
            ")".repeat(17)
        );
        let e = parse(deep.as_bytes()).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Unsupported, "{e}");
    }

    #[test]
    fn rejects_invalid_and_out_of_scope() {
        let e = parse(b"(module (func (result i32) i64.const 0))").unwrap_err();
        assert!(e.offset.is_some(), "{e}");
        parse(b"(module (func (drop (v128.const i32x4 0 0 0 0))))").unwrap();
        // Multi-memory is in; past `abi::MAX_MEMORIES` memories a module is refused.
        assert_eq!(
            parse(b"(module (memory 1) (memory 1))")
                .unwrap()
                .meta
                .memories
                .len(),
            2
        );
        let many = |n: usize| format!("(module {})", "(memory 0)".repeat(n));
        let max = runtime_loader::abi::MAX_MEMORIES as usize;
        assert_eq!(
            parse(many(max).as_bytes()).unwrap().meta.memories.len(),
            max
        );
        let e = parse(many(max + 1).as_bytes()).unwrap_err();
        // wasmparser's validator has the same limit (100) and may say so first.
        let clear = |m: &str| m.contains("too many memories") || m.contains("memories count");
        assert!(clear(&e.message), "{e}");
        let imports = "(import \"m\" \"m\" (memory 0))".repeat(max + 1);
        let e = parse(format!("(module {imports})").as_bytes()).unwrap_err();
        assert!(clear(&e.message), "{e}");
        let m = parse(b"(module (memory i64 1 0x1_0000_0000_0000) (table i64 2 funcref))").unwrap();
        assert!(m.meta.memories[0].index64 && m.meta.tables[0].index64);
        assert_eq!(m.meta.memories[0].limits.max, Some(1 << 48));
        assert!(parse(b"\0asm\x01\0\0\0\x01").is_err());
        assert!(parse(b"(module (func").is_err());
    }
}
