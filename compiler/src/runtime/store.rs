//! `Module`, `Store` and the handles into a store.

use std::path::Path;
use std::sync::Arc;

use super::error::{CallError, InstantiateError, Trap};
use super::types::{
    Config, FuncCounters, FuncType, GlobalType, MemoryType, TableType, Val, ValType,
};
use crate::parse::{self, ParseError};

/// A parsed, validated module, cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Module {
    inner: Arc<parse::Module>,
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A memory.
    Memory(MemoryType),
    /// A table.
    Table(TableType),
    /// A global.
    Global(GlobalType),
}

/// One import of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportType<'a> {
    /// Module name.
    pub module: &'a str,
    /// Field name.
    pub name: &'a str,
    /// Type.
    pub ty: ExternType,
}

/// One export of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportType<'a> {
    /// Export name.
    pub name: &'a str,
    /// Type.
    pub ty: ExternType,
}

impl Module {
    /// Parses and validates a binary or text module.
    ///
    /// # Errors
    /// See [`parse::parse`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Module, ParseError> {
        Ok(Module {
            inner: Arc::new(parse::parse(bytes)?),
        })
    }

    /// Reads and parses a `.wasm` or `.wat` file.
    ///
    /// # Errors
    /// I/O errors (offset `None`) and parse errors.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Module, ParseError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|e| ParseError {
            offset: None,
            message: format!("cannot read {}: {e}", path.as_ref().display()),
        })?;
        Module::from_bytes(&bytes)
    }

    /// The parsed module (metadata, bodies, names).
    pub fn parsed(&self) -> &parse::Module {
        &self.inner
    }

    fn extern_type(&self, kind: runtime_loader::meta::ExportKind, index: u32) -> ExternType {
        use runtime_loader::meta::ExportKind;
        let meta = &self.inner.meta;
        match kind {
            ExportKind::Func => {
                ExternType::Func(meta.func_type(index).cloned().unwrap_or_default())
            }
            ExportKind::Memory => ExternType::Memory(meta.memories[index as usize]),
            ExportKind::Table => ExternType::Table(meta.tables[index as usize]),
            ExportKind::Global => ExternType::Global(meta.global_types[index as usize]),
        }
    }

    /// The module's exports in order.
    pub fn exports(&self) -> Vec<ExportType<'_>> {
        self.inner
            .meta
            .exports
            .iter()
            .map(|e| ExportType {
                name: &e.name,
                ty: self.extern_type(e.kind, e.index),
            })
            .collect()
    }

    /// The module's imports in order.
    pub fn imports(&self) -> Vec<ImportType<'_>> {
        use runtime_loader::meta::ImportKind;
        let meta = &self.inner.meta;
        meta.imports
            .iter()
            .map(|i| ImportType {
                module: &i.module,
                name: &i.name,
                ty: match &i.kind {
                    ImportKind::Func(t) => {
                        ExternType::Func(meta.types.get(*t as usize).cloned().unwrap_or_default())
                    }
                    ImportKind::Memory(m) => ExternType::Memory(*m),
                    ImportKind::Table(t) => ExternType::Table(*t),
                    ImportKind::Global(g) => ExternType::Global(*g),
                },
            })
            .collect()
    }

    /// The name-section name of function `index`.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        self.inner.func_name(index)
    }

    /// The start function index.
    pub fn start(&self) -> Option<u32> {
        self.inner.meta.start
    }
}

/// An instance inside a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub(crate) u32);

/// A function handle (wasm or host) into a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// A memory handle into a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// A table handle into a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// A global handle into a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// Anything that can be imported or exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A memory.
    Memory(Memory),
    /// A table.
    Table(Table),
    /// A global.
    Global(Global),
}

/// Owns instances, host functions, memories, tables and globals; runs calls.
pub struct Store {
    config: Config,
}

impl Store {
    /// A new empty store.
    pub fn new(config: Config) -> Store {
        Store { config }
    }

    /// The store's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Instantiates `m`, resolving each import through `imports(module, name)`.
    ///
    /// # Errors
    /// See [`InstantiateError`].
    pub fn instantiate(
        &mut self,
        _m: &Module,
        _imports: &dyn Fn(&str, &str) -> Option<Extern>,
    ) -> Result<InstanceId, InstantiateError> {
        Err(InstantiateError::Unsupported("work in progress".into()))
    }

    /// An export of an instance.
    pub fn export(&self, _i: InstanceId, _name: &str) -> Option<Extern> {
        None
    }

    /// Calls `f` with `args`.
    ///
    /// # Errors
    /// See [`CallError`].
    pub fn call(&mut self, _f: Func, _args: &[Val]) -> Result<Vec<Val>, CallError> {
        Err(CallError::Unsupported("work in progress".into()))
    }

    /// The signature of `f`.
    pub fn func_type(&self, _f: Func) -> FuncType {
        FuncType::default()
    }

    /// The current value of `g`.
    pub fn global_get(&self, _g: Global) -> Val {
        Val::I32(0)
    }

    /// Defines a host function.
    pub fn host_func(
        &mut self,
        _ty: FuncType,
        _f: Box<dyn FnMut(&[Val], &mut [Val]) -> Result<(), Trap>>,
    ) -> Func {
        Func { store: 0, ptr: 0 }
    }

    /// Creates a standalone memory.
    pub fn new_memory(&mut self, _min_pages: u32, _max: Option<u32>) -> Memory {
        Memory { store: 0, ptr: 0 }
    }

    /// Creates a standalone table (elements start null).
    pub fn new_table(&mut self, _elem: ValType, _min: u32, _max: Option<u32>) -> Table {
        Table { store: 0, ptr: 0 }
    }

    /// Creates a standalone global.
    pub fn new_global(&mut self, _ty: ValType, _mutable: bool, _init: Val) -> Global {
        Global { store: 0, ptr: 0 }
    }

    /// The bytes of memory `m`.
    pub fn memory_data(&self, _m: Memory) -> &[u8] {
        &[]
    }

    /// Counters of every defined function of instance `i`.
    pub fn func_counters(&self, _i: InstanceId) -> Vec<FuncCounters> {
        Vec::new()
    }
}
