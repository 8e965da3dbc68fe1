//! WebAssembly → Cranelift IR translation, shared by the JIT tiers and object output.
//!
//! * [`translate`] walks one function body (a single `match` on [`wasmparser::Operator`])
//!   and builds CLIF with a [`cranelift_frontend::FunctionBuilder`].
//! * [`env`](mod@env) is the seam between the translator and the runtime: how compiled code reaches
//!   memory, globals, tables, other functions and libcalls. The default implementations follow
//!   the `runtime_loader::abi` VMContext layout, so an environment only decides how direct
//!   calls are emitted (through `FuncRef::native`, or as direct calls in a pure-JIT module).
//! * [`ModuleInfo`] is everything the translator needs to know about the module around the
//!   function: signatures, function types, globals, tables.
//!
//! Memory mode is "checked" by default: every load/store is bounds-checked explicitly against
//! the `MemoryDef` length. In "guard" mode ([`FuncTranslator::set_memory_mode`]) loads and
//! stores carry a trap code instead and fault on the guard pages of a reserved memory (the
//! only traps that rely on a signal handler). Every other trap (bounds, division, conversion, indirect-call checks,
//! `unreachable`, stack overflow) branches to a cold block that calls the `RAISE_TRAP` libcall,
//! so no trap depends on a CPU fault or a signal handler.

pub mod env;
pub mod stubs;
pub mod tail;
pub mod translate;

use cranelift_codegen::ir::{self, AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use wasmparser::{FuncType, ValType};

pub use env::{ClifEnv, ModuleCalls, VmctxEnv, exn_fn, widen};
pub use translate::{
    Bounds, FuncTranslator, heap_trap_sites, heap_trap_sites_located, translate_function,
};

/// A translation failure. Validated input only fails with [`TranslateError::Unsupported`].
#[derive(Debug)]
pub enum TranslateError {
    /// An operator or type outside WebAssembly 2.0 and relaxed SIMD.
    Unsupported(&'static str),
    /// The function body could not be decoded.
    Parse(wasmparser::BinaryReaderError),
    /// The body refers to something the module does not have (only for unvalidated input).
    Invalid(&'static str),
}

impl core::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TranslateError::Unsupported(what) => write!(f, "unsupported: {what}"),
            TranslateError::Parse(e) => write!(f, "cannot decode function body: {e}"),
            TranslateError::Invalid(what) => write!(f, "invalid function body: {what}"),
        }
    }
}

impl std::error::Error for TranslateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TranslateError::Parse(e) => Some(e),
            _ => None,
        }
    }
}

impl From<wasmparser::BinaryReaderError> for TranslateError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        TranslateError::Parse(e)
    }
}

/// A global as the translator sees it.
#[derive(Clone, Copy, Debug)]
pub struct GlobalInfo {
    /// Value type of the global.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// What the translator needs to know about the module around a function body.
#[derive(Clone, Debug, Default)]
pub struct ModuleInfo {
    /// The module's function types, by type index.
    pub types: Vec<FuncType>,
    /// Type index of every function, imports first.
    pub func_types: Vec<u32>,
    /// Number of imported functions (function indices below this are imports).
    pub num_imported_funcs: u32,
    /// Every global, imports first.
    pub globals: Vec<GlobalInfo>,
    /// Number of tables, imports included.
    pub num_tables: u32,
    /// Whether the module has (defines or imports) a memory.
    pub has_memory: bool,
    /// Per memory (imports first): memory64, `i64` addresses.
    pub memory_index64: Vec<bool>,
    /// Per table (imports first): table64, `i64` indices.
    pub table_index64: Vec<bool>,
    /// Exception handling: the type index of every tag (imports first).
    pub tags: Vec<u32>,
    /// The module uses exception handling: every function propagates exceptions
    /// (docs/ABI.md, "Exceptions").
    pub exceptions: bool,
}

impl ModuleInfo {
    /// The type of function `func`.
    pub fn func_type(&self, func: u32) -> Option<&FuncType> {
        let ty = *self.func_types.get(func as usize)?;
        self.types.get(ty as usize)
    }

    /// The translator's view of a parsed module's metadata.
    pub fn from_meta(meta: &runtime_loader::meta::ModuleMeta) -> ModuleInfo {
        ModuleInfo {
            types: meta
                .types
                .iter()
                .map(|t| {
                    FuncType::new(
                        t.params.iter().map(|v| wasm_val_type(*v)),
                        t.results.iter().map(|v| wasm_val_type(*v)),
                    )
                })
                .collect(),
            func_types: meta.funcs.clone(),
            num_imported_funcs: meta.num_imported_funcs,
            globals: meta
                .global_types
                .iter()
                .map(|g| GlobalInfo {
                    ty: wasm_val_type(g.ty),
                    mutable: g.mutable,
                })
                .collect(),
            num_tables: meta.tables.len() as u32,
            has_memory: !meta.memories.is_empty(),
            memory_index64: meta.memories.iter().map(|m| m.index64).collect(),
            table_index64: meta.tables.iter().map(|t| t.index64).collect(),
            tags: Vec::new(),
            exceptions: false,
        }
    }

    /// [`ModuleInfo::from_meta`] with the parsed module's tags and exception use.
    pub fn from_module(m: &crate::parse::Module, exceptions: bool) -> ModuleInfo {
        ModuleInfo {
            tags: m.tags.types.clone(),
            exceptions,
            ..ModuleInfo::from_meta(&m.meta)
        }
    }

    /// Reads the parts of a module the translator needs, plus the code section bodies
    /// (byte range inside `wasm` of each defined function). Does not validate.
    pub fn from_wasm(
        wasm: &[u8],
    ) -> Result<(ModuleInfo, Vec<core::ops::Range<usize>>), TranslateError> {
        use wasmparser::{Parser, Payload, TypeRef};
        let mut info = ModuleInfo::default();
        let mut bodies = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(r) => {
                    for ty in r.into_iter_err_on_gc_types() {
                        info.types.push(ty?);
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        match imp?.ty {
                            TypeRef::Func(t) => {
                                info.func_types.push(t);
                                info.num_imported_funcs += 1;
                            }
                            TypeRef::Global(g) => info.globals.push(GlobalInfo {
                                ty: g.content_type,
                                mutable: g.mutable,
                            }),
                            TypeRef::Table(t) => {
                                info.num_tables += 1;
                                info.table_index64.push(t.table64);
                            }
                            TypeRef::Memory(m) => {
                                info.has_memory = true;
                                info.memory_index64.push(m.memory64);
                            }
                            _ => return Err(TranslateError::Unsupported("import kind")),
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        info.func_types.push(t?);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        info.num_tables += 1;
                        info.table_index64.push(t?.ty.table64);
                    }
                }
                Payload::MemorySection(r) => {
                    for m in r {
                        info.has_memory = true;
                        info.memory_index64.push(m?.memory64);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g?;
                        info.globals.push(GlobalInfo {
                            ty: g.ty.content_type,
                            mutable: g.ty.mutable,
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let r = body.range();
                    bodies.push(r.start as usize..r.end as usize);
                }
                _ => {}
            }
        }
        Ok((info, bodies))
    }
}

/// The wasmparser value type of a runtime value type.
pub fn wasm_val_type(v: runtime_loader::meta::ValType) -> ValType {
    use runtime_loader::meta::ValType as M;
    match v {
        M::I32 => ValType::I32,
        M::I64 => ValType::I64,
        M::F32 => ValType::F32,
        M::F64 => ValType::F64,
        M::FuncRef => ValType::FUNCREF,
        M::ExternRef => ValType::EXTERNREF,
        M::V128 => ValType::V128,
        M::ExnRef => ValType::EXNREF,
    }
}

/// The Cranelift type of a wasm value (references are pointer-sized integers).
pub fn clif_type(ty: ValType) -> Result<ir::Type, TranslateError> {
    match ty {
        ValType::I32 => Ok(types::I32),
        ValType::I64 => Ok(types::I64),
        ValType::F32 => Ok(types::F32),
        ValType::F64 => Ok(types::F64),
        ValType::Ref(_) => Ok(types::I64),
        ValType::V128 => Ok(types::I8X16),
    }
}

/// The native-ABI signature of a wasm function type:
/// `(callee_vmctx: i64, callee: *const FuncRef, params...) -> results` (see docs/ABI.md).
/// Always in Cranelift's `tail` convention ([`tail::WASM_CALL_CONV`]), whatever the
/// platform's `_platform` convention is (that one is the array ABI's).
pub fn native_signature(ty: &FuncType, _platform: CallConv) -> Result<Signature, TranslateError> {
    let mut sig = Signature::new(tail::WASM_CALL_CONV);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    for p in ty.params() {
        sig.params.push(AbiParam::new(clif_type(*p)?));
    }
    for r in ty.results() {
        sig.returns.push(AbiParam::new(clif_type(*r)?));
    }
    Ok(sig)
}

/// The array-ABI signature `(vmctx: i64, callee: i64, values: i64) -> i32 status`.
pub fn array_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}
