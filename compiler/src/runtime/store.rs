//! `Module`, `Store` and the handles into a store.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_void;
use std::path::Path;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use runtime_loader::TrapCode;
use runtime_loader::abi::{FuncRef, VMContext, func_kind};
use runtime_loader::instance::{
    GlobalCell, Imports, Instance, InstanceError, LinearMemory, TableInst, TypeRegistry,
};
use runtime_loader::meta::{ExportKind, ImportKind, Limits};

use super::caller::{Caller, MemoryAccessError, checked_range};
use super::error::{CallError, InstantiateError, Trap};
use super::exn::{Exception, Exn, ExnHeap, ExnObj, Pending, Tag, TagInst};
use super::types::{
    Config, FuncCounters, FuncType, GlobalType, LoopCounters, MemoryMode, MemoryType, Mode,
    TableType, Val, ValType,
};
use crate::interp::{self, ExecConfig, Interp, InterpInstance, ModuleCode};
use crate::jit::store::JitStore;
use crate::parse::{self, ParseError, ParseErrorKind};

/// A parsed, validated module, cheap to clone (shared).
///
/// ```
/// use bareflow::{ExternType, Module};
/// let m = Module::from_bytes(br#"(module (func (export "f") (param i32) (result i32) local.get 0))"#)?;
/// let exports = m.exports();
/// assert_eq!(exports[0].name, "f");
/// assert!(matches!(&exports[0].ty, ExternType::Func(t) if t.params.len() == 1));
/// // Bad input is a typed error, never a panic.
/// assert!(Module::from_bytes(b"\0asm\x01\0\0\0\x05").is_err());
/// # Ok::<(), bareflow::internals::parse::ParseError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Module {
    inner: Arc<parse::Module>,
    code: Arc<ModuleCode>,
    /// The code lowered without loop rotation, for stores with fuel or interrupt checks
    /// (`interp::lower_module_with`), made on first use and shared by the clones.
    exact: Arc<std::sync::OnceLock<Arc<ModuleCode>>>,
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
    /// A tag (exception handling): its type (parameters = payload, no results).
    Tag(FuncType),
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
        let parsed = parse::parse(bytes)?;
        let code = interp::lower_module(&parsed)
            .map_err(|e| ParseError::new(ParseErrorKind::Unsupported, Some(e.offset), e.message))?;
        Ok(Module {
            inner: Arc::new(parsed),
            code: Arc::new(code),
            exact: Arc::default(),
        })
    }

    /// The interpreter's lowered code.
    pub fn interp_code(&self) -> &Arc<ModuleCode> {
        &self.code
    }

    /// The lowered code an interpreter runs: with fuel or interrupt checks (`bounds`), the
    /// module lowered without loop rotation, which would hide one back-edge per loop exit
    /// from the checks (`interp::lower::lower_function_with`); without, [`Module::interp_code`].
    pub fn interp_code_for(&self, bounds: bool) -> &Arc<ModuleCode> {
        if !bounds {
            return &self.code;
        }
        self.exact.get_or_init(|| {
            // The module lowered once already, so it lowers again (rotation only changes
            // ops in place).
            Arc::new(
                interp::lower_module_with(&self.inner, false)
                    .expect("a module that lowered once lowers without rotation"),
            )
        })
    }

    /// Reads and parses a `.wasm` or `.wat` file.
    ///
    /// # Errors
    /// I/O errors (offset `None`) and parse errors.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Module, ParseError> {
        let bytes = crate::fsio::read_input(path.as_ref()).map_err(|e| {
            ParseError::new(
                ParseErrorKind::Text,
                None,
                format!("cannot read {}: {e}", path.as_ref().display()),
            )
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

    /// The module's exports in order (tags after the other kinds).
    pub fn exports(&self) -> Vec<ExportType<'_>> {
        let meta = &self.inner.meta;
        let tags = &self.inner.tags;
        self.inner
            .meta
            .exports
            .iter()
            .map(|e| ExportType {
                name: &e.name,
                ty: self.extern_type(e.kind, e.index),
            })
            .chain(tags.exports.iter().map(|(n, i)| {
                let t = tags.types.get(*i as usize).copied().unwrap_or(u32::MAX);
                ExportType {
                    name: n,
                    ty: ExternType::Tag(meta.types.get(t as usize).cloned().unwrap_or_default()),
                }
            }))
            .collect()
    }

    /// The module's imports in order (tags after the other kinds).
    pub fn imports(&self) -> Vec<ImportType<'_>> {
        use runtime_loader::meta::ImportKind;
        let meta = &self.inner.meta;
        let tags = &self.inner.tags;
        let tag_imports = tags
            .imports
            .iter()
            .zip(&tags.types)
            .map(|((m, n), t)| ImportType {
                module: m,
                name: n,
                ty: ExternType::Tag(meta.types.get(*t as usize).cloned().unwrap_or_default()),
            });
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
            .chain(tag_imports)
            .collect()
    }

    /// Whether the module uses exception handling (tags, `exnref`, or exception
    /// instructions), which only [`Mode::Interp`] runs so far.
    pub fn uses_exceptions(&self) -> bool {
        let meta = &self.inner.meta;
        let exn = |t: &ValType| *t == ValType::ExnRef;
        !self.inner.tags.is_empty()
            || self.code.uses_exceptions
            || meta
                .types
                .iter()
                .any(|t| t.params.iter().chain(&t.results).any(exn))
            || meta.global_types.iter().any(|g| exn(&g.ty))
            || meta.tables.iter().any(|t| exn(&t.elem))
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

/// An instance inside a store ([`Store::instantiate`]); its exports are reached with
/// [`Store::export`].
///
/// ```
/// use bareflow::{Config, Extern, Module, Store};
/// let m = Module::from_bytes(br#"(module (memory (export "memory") 1) (global (export "g") i32 (i32.const 5)))"#)?;
/// let mut store = Store::new(Config::default());
/// let inst = store.instantiate(&m, &|_, _| None)?;
/// assert!(matches!(store.export(inst, "memory"), Some(Extern::Memory(_))));
/// let Some(Extern::Global(g)) = store.export(inst, "g") else { unreachable!() };
/// assert_eq!(store.global_get(g), bareflow::Val::I32(5));
/// assert!(store.export(inst, "nope").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub(crate) u32);

/// A function handle (wasm or host) into a store, called with [`Store::call`]; its
/// signature is [`Store::func_type`].
///
/// ```
/// use bareflow::{CallError, Config, Extern, Module, Store, TrapCode, Val};
/// let m = Module::from_bytes(br#"(module (func (export "div") (param i32 i32) (result i32)
///     (i32.div_u (local.get 0) (local.get 1))))"#)?;
/// let mut store = Store::new(Config::default());
/// let inst = store.instantiate(&m, &|_, _| None)?;
/// let Some(Extern::Func(div)) = store.export(inst, "div") else { unreachable!() };
/// assert_eq!(store.call(div, &[Val::I32(7), Val::I32(2)])?, vec![Val::I32(3)]);
/// // Traps are values; the store stays usable.
/// match store.call(div, &[Val::I32(1), Val::I32(0)]) {
///     Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::IntegerDivideByZero),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(store.call(div, &[Val::I64(1)]), Err(CallError::BadArguments(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    /// A tag (exception handling).
    Tag(Tag),
}

/// Owns instances, host functions, memories, tables and globals; runs calls. There is no
/// separate `Engine`: a store's [`Config`] chooses the execution [`Mode`].
///
/// ```
/// use bareflow::{Config, Extern, Mode, Module, Store, Val};
/// let m = Module::from_bytes(br#"(module (func (export "add") (param i64 i64) (result i64)
///     (i64.add (local.get 0) (local.get 1))))"#)?;
/// for mode in [Mode::Interp, Mode::JitSpeed, Mode::Snapshot] {
///     let mut store = Store::new(Config::new(mode));
///     let inst = store.instantiate(&m, &|_, _| None)?;
///     let Some(Extern::Func(add)) = store.export(inst, "add") else { unreachable!() };
///     assert_eq!(store.call(add, &[Val::I64(2), Val::I64(40)])?, vec![Val::I64(42)]);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Handles ([`Func`], [`Memory`], ...) carry the id of the store that made them; a handle
/// from another store is rejected (`BadArguments`, `Unlinkable`) or yields a neutral
/// answer for the infallible getters, never undefined behaviour.
pub struct Store {
    id: u64,
    config: Config,
    types: TypeRegistry,
    instances: Vec<StoreInstance>,
    host_funcs: Vec<*mut HostFunc>,
    memories: Vec<*mut LinearMemory>,
    tables: Vec<*mut TableInst>,
    globals: Vec<*mut GlobalCell>,
    /// Every tag (defined by an instance or by the host): boxed, the address is the tag.
    #[allow(clippy::vec_box)]
    tags: Vec<Box<TagInst>>,
    /// The precise reference type of every instance's defined reference-typed globals and
    /// tables, by cell / table address (`parse::RefTypes`): what linking checks typed
    /// reference imports against. The host's own globals and tables are not here: their
    /// type is the top type ([`parse::RefTy::top`]).
    ref_types: std::collections::HashMap<usize, parse::RefTy>,
    /// The canonical signature (`parse::RefTypes::sigs`) of every instance's defined
    /// functions whose signature has typed references, by `FuncRef` address.
    func_sigs: std::collections::HashMap<usize, Arc<str>>,
    /// The run-time type id of each canonical signature with typed references
    /// (`parse::RefTypes::sigs`): distinct from the id of its collapsed form, so
    /// `call_indirect` tells `(ref $t)` from `funcref`.
    typed_sig_ids: std::collections::HashMap<Arc<str>, u32>,
    interp: Interp,
    /// JIT state (JIT modes only; see `crate::jit::store`).
    jit: Option<JitStore>,
    /// Snapshot state (`Mode::Snapshot`/`SnapshotXip` only, see `crate::aot::store`).
    snap: Option<crate::aot::store::SnapshotStore>,
    created: Instant,
    created_ticks: u64,
    /// User data and the last host error message (boxed: host functions point at it).
    shared: Box<StoreShared>,
    /// Fuel and interruption (`bounds.rs`); dropped last (the trap context may be its own).
    bounds: bounds::Bounds,
}

/// The part of a store its host functions reach while wasm runs.
#[derive(Default)]
struct StoreShared {
    /// [`Store::set_data`]'s slot, lent to each host call's [`Caller`].
    data: RefCell<Option<Box<dyn Any>>>,
    /// The message of the last host error ([`Trap::host`]) with its code, picked up by the
    /// [`Store::call`] the trap ends.
    host_error: RefCell<Option<(TrapCode, String)>>,
    /// The pending exception and the `exnref` objects (exception handling).
    exn: ExnHeap,
}

#[path = "bounds.rs"]
mod bounds;
pub use bounds::InterruptHandle;

struct StoreInstance {
    // Field order is drop order: the instance before the data its FuncRefs point at.
    inst: Pin<Box<Instance>>,
    /// This instance's copies of the host functions it imports (see [`HostImport`]); boxed
    /// because the instance's vmctx points at them.
    #[allow(clippy::vec_box)]
    _host_imports: Vec<Box<HostImport>>,
    interp: *mut InterpInstance,
    module: Module,
    /// The instance's tags (imports first).
    tags: Vec<*const TagInst>,
}

/// One import of a host function by one instance: a copy of the host function's
/// `FuncRef` (first, so a `*const FuncRef` to it is a `*const HostImport`) that knows the
/// importing instance, which becomes the [`Caller`] of every call through it.
#[repr(C)]
struct HostImport {
    func_ref: FuncRef,
    /// The importing instance (set once it exists, before any of its code runs).
    instance: *const Instance,
    module: Module,
}

impl Drop for StoreInstance {
    fn drop(&mut self) {
        // SAFETY: `interp` came from `Box::into_raw` in `instantiate` and is dropped once.
        unsafe { drop(Box::from_raw(self.interp)) };
    }
}

/// A host function without a caller context ([`Store::host_func`]).
pub type HostFn = Box<dyn FnMut(&[Val], &mut [Val]) -> Result<(), Trap>>;

/// A host function with a caller context ([`Store::func_with_caller`]).
pub type HostFnWithCaller = Box<dyn FnMut(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap>>;

/// A host function: its `FuncRef` first, so a `*const FuncRef` is a `*const HostFunc`.
/// `func_ref.host_data` points back at it (also in every [`HostImport`] copy).
#[repr(C)]
struct HostFunc {
    func_ref: FuncRef,
    ty: FuncType,
    store: u64,
    shared: *const StoreShared,
    f: RefCell<HostFnWithCaller>,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// The value of type `ty` in value slots `s` (a `v128` takes `s[0]` (low) and `s[1]`).
fn slots_to_val(s: &[u64], ty: ValType, store: u64) -> Val {
    match ty {
        ValType::V128 => Val::V128(u128::from(s[0]) | u128::from(s[1]) << 64),
        _ => slot_to_val(s[0], ty, store),
    }
}

/// Writes `v` to value slots `out` (a `v128` takes two, low 64 bits first).
fn val_to_slots(v: &Val, store: u64, out: &mut [u64]) -> Result<(), String> {
    match *v {
        Val::V128(x) => {
            out[0] = x as u64;
            out[1] = (x >> 64) as u64;
        }
        _ => out[0] = val_to_slot(v, store)?,
    }
    Ok(())
}

/// A one-slot value (a `v128` gives its low half; use [`slots_to_val`] for it).
fn slot_to_val(slot: u64, ty: ValType, store: u64) -> Val {
    match ty {
        ValType::V128 => Val::V128(u128::from(slot)),
        ValType::I32 => Val::I32(slot as u32 as i32),
        ValType::I64 => Val::I64(slot as i64),
        ValType::F32 => Val::F32(slot as u32),
        ValType::F64 => Val::F64(slot),
        ValType::FuncRef => Val::FuncRef((slot != 0).then_some(Func {
            store,
            ptr: slot as usize,
        })),
        ValType::ExternRef => Val::ExternRef((slot != 0).then_some(slot)),
        ValType::ExnRef => Val::ExnRef((slot != 0).then_some(Exn {
            store,
            ptr: slot as usize,
        })),
    }
}

fn val_to_slot(v: &Val, store: u64) -> Result<u64, String> {
    Ok(match *v {
        Val::I32(x) => u64::from(x as u32),
        Val::I64(x) => x as u64,
        Val::F32(x) => u64::from(x),
        Val::F64(x) => x,
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) => 0,
        Val::ExnRef(Some(e)) => {
            if e.store != store {
                return Err("exception reference from another store".into());
            }
            e.ptr as u64
        }
        Val::FuncRef(Some(f)) => {
            if f.store != store {
                return Err("function from another store".into());
            }
            f.ptr as u64
        }
        Val::ExternRef(Some(0)) => return Err("externref value 0 is reserved for null".into()),
        Val::ExternRef(Some(x)) => x,
        Val::V128(x) => x as u64,
    })
}

/// The array-ABI entry of every host function.
///
/// # Safety
/// `callee` must be the `FuncRef` of a live [`HostFunc`] and `values` must hold
/// `max(params, results)` slots.
unsafe extern "C" fn host_trampoline(
    _vmctx: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: per the contract `callee` is a live host FuncRef: the HostFunc's own or a
    // HostImport copy, both with `host_data` = the HostFunc.
    let hf = unsafe { &*((*callee).host_data as *const HostFunc) };
    // SAFETY: a host FuncRef other than the HostFunc's own is the first field of a live
    // HostImport (the only copies the store makes), whose instance is set and live.
    let import =
        (!ptr::eq(callee, &hf.func_ref)).then(|| unsafe { &*(callee as *const HostImport) });
    // SAFETY: the store's shared part is boxed and outlives its host functions.
    let shared = unsafe { &*hf.shared };
    let nslots = hf.ty.param_slots().max(hf.ty.result_slots()) as usize;
    // SAFETY: the buffer holds `max(param slots, result slots)` slots.
    let slots = unsafe { std::slice::from_raw_parts_mut(values, nslots) };
    let offs = runtime_loader::meta::slot_offsets(hf.ty.params.iter().copied());
    let params: Vec<Val> = hf
        .ty
        .params
        .iter()
        .zip(&offs)
        .map(|(t, &o)| slots_to_val(&slots[o as usize..], *t, hf.store))
        .collect();
    let mut results: Vec<Val> = hf.ty.results.iter().map(|t| Val::default_for(*t)).collect();
    let Ok(mut f) = hf.f.try_borrow_mut() else {
        // A host function re-entered itself.
        return TrapCode::HostError as u32;
    };
    let host_error = |code: TrapCode, m: String| {
        *shared.host_error.borrow_mut() = Some((code, m));
        code as u32
    };
    let mut caller = Caller {
        store: hf.store,
        // SAFETY: see `import` above.
        instance: import.map(|i| unsafe { &*i.instance }),
        module: import.map(|i| &i.module),
        // Busy only if a host function of this store is already running further up.
        data: shared.data.try_borrow_mut().ok(),
    };
    let r = f(&mut caller, &params, &mut results);
    drop(caller);
    if let Err(t) = r {
        if let Some(e) = t.exception {
            return host_throw(hf.store, shared, *e);
        }
        return match t.message {
            Some(m) => host_error(t.code, m),
            None => t.code as u32,
        };
    }
    let offs = runtime_loader::meta::slot_offsets(hf.ty.results.iter().copied());
    for (i, ((r, t), &o)) in results.iter().zip(&hf.ty.results).zip(&offs).enumerate() {
        if r.ty() != *t {
            return host_error(
                TrapCode::HostError,
                format!(
                    "host function returned {} for result {i} of type {t}",
                    r.ty()
                ),
            );
        }
        if val_to_slots(r, hf.store, &mut slots[o as usize..]).is_err() {
            return TrapCode::HostError as u32;
        }
    }
    0
}

/// A host function throws `e` (its [`Trap::throw`]): makes it the store's pending
/// exception and returns [`TrapCode::Exception`], or a host error if `e` is not a valid
/// exception of this store.
fn host_throw(store: u64, shared: &StoreShared, e: Exception) -> u32 {
    let fail = |m: String| {
        *shared.host_error.borrow_mut() = Some((TrapCode::HostError, m));
        TrapCode::HostError as u32
    };
    if e.tag.store != store {
        return fail("host function threw an exception with a tag of another store".into());
    }
    // SAFETY: tag handles of this store point at its live tags.
    let tag = unsafe { &*(e.tag.ptr as *const TagInst) };
    if e.payload.len() != tag.ty.params.len()
        || e.payload
            .iter()
            .zip(&tag.ty.params)
            .any(|(v, t)| v.ty() != *t)
    {
        return fail(format!(
            "host function threw an exception whose payload does not match its tag's type {:?}",
            tag.ty.params
        ));
    }
    let mut payload = vec![0u64; tag.slots as usize];
    let offs = runtime_loader::meta::slot_offsets(tag.ty.params.iter().copied());
    for (v, &o) in e.payload.iter().zip(&offs) {
        if val_to_slots(v, store, &mut payload[o as usize..]).is_err() {
            return fail("host function threw an exception with a foreign reference".into());
        }
    }
    shared.exn.set_pending(Pending::Owned(Box::new(ExnObj {
        tag,
        payload: payload.into_boxed_slice(),
    })));
    TrapCode::Exception as u32
}

/// The typed form of exception object `obj` of store `store`.
fn exception_of(obj: &ExnObj, store: u64) -> Exception {
    // SAFETY: an exception's tag is a live tag of its store.
    let tag = unsafe { &*obj.tag };
    let offs = runtime_loader::meta::slot_offsets(tag.ty.params.iter().copied());
    Exception {
        tag: Tag {
            store,
            ptr: obj.tag as usize,
        },
        payload: tag
            .ty
            .params
            .iter()
            .zip(&offs)
            .map(|(t, &o)| slots_to_val(&obj.payload[o as usize..], *t, store))
            .collect(),
    }
}

fn check_mode(mode: Mode) -> Result<(), String> {
    match mode {
        Mode::Interp
        | Mode::JitNone
        | Mode::JitSpeed
        | Mode::Tiered
        | Mode::Snapshot
        | Mode::SnapshotXip => Ok(()),
    }
}

impl Store {
    /// A new empty store.
    pub fn new(config: Config) -> Store {
        let mut jit = JitStore::new(&config).unwrap_or(None);
        let mut snap = crate::aot::store::SnapshotStore::new(&config);
        let ctx = match (&mut jit, &mut snap) {
            (Some(j), _) => j.trap_ctx(),
            (None, Some(s)) => s.trap_ctx(),
            (None, None) => ptr::null_mut(),
        };
        let bounds = bounds::Bounds::new(ctx);
        let exec = ExecConfig {
            max_depth: config.max_call_depth.max(1),
            max_slots: config.max_stack_slots.max(1),
            // Tiered mode needs the counters to decide what to compile.
            profiling: config.profiling || config.mode == Mode::Tiered,
            loops: config.profiling,
            fuel: config.consume_fuel,
            interrupt: config.interruptible,
        };
        let mut interp = Interp::new(exec);
        if config.consume_fuel || config.interruptible {
            interp.bounds = Some(interp::fuel::Bounds {
                ctx: bounds.ctx,
                fuel: config.consume_fuel,
                interrupt: config.interruptible,
            });
        }
        Store {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            config,
            types: TypeRegistry::new(),
            instances: Vec::new(),
            host_funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            ref_types: std::collections::HashMap::new(),
            func_sigs: std::collections::HashMap::new(),
            typed_sig_ids: std::collections::HashMap::new(),
            interp,
            jit,
            snap,
            created: Instant::now(),
            created_ticks: interp::exec::ticks(),
            shared: Box::default(),
            bounds,
        }
    }

    /// Sets the store's user data (replacing any), which host functions reach through
    /// [`Caller::data`] / [`Caller::data_mut`].
    pub fn set_data<T: Any>(&mut self, data: T) {
        *self.shared.data.borrow_mut() = Some(Box::new(data));
    }

    /// The store's user data, if it is a `T`.
    pub fn data<T: Any>(&self) -> Option<&T> {
        // SAFETY: `&self` excludes running wasm (and so any host call's borrow of the slot);
        // the returned reference keeps `self` borrowed, so no host call starts meanwhile.
        unsafe { (*self.shared.data.as_ptr()).as_ref()?.downcast_ref() }
    }

    /// The store's user data, writable, if it is a `T`.
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.shared.data.get_mut().as_mut()?.downcast_mut()
    }

    /// Takes the store's user data out (leaving none).
    pub fn take_data(&mut self) -> Option<Box<dyn Any>> {
        self.shared.data.get_mut().take()
    }

    /// The store's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the store's memories are guard-page memories (`Config::memory`).
    fn guard(&self) -> bool {
        self.config.memory == MemoryMode::Guard
    }

    /// The store-wide signature registry (`FuncRef::type_id` indexes it).
    pub fn types(&self) -> &TypeRegistry {
        &self.types
    }

    /// Instantiates `m`, resolving each import through `imports(module, name)`, then
    /// applies segments and runs the start function.
    ///
    /// # Errors
    /// See [`InstantiateError`]. When a segment or the start function traps, the writes
    /// done before the trap stay visible through imported memories and tables.
    pub fn instantiate(
        &mut self,
        m: &Module,
        imports: &dyn Fn(&str, &str) -> Option<Extern>,
    ) -> Result<InstanceId, InstantiateError> {
        check_mode(self.config.mode).map_err(InstantiateError::Unsupported)?;
        let meta = &m.inner.meta;
        let tags = self.link_tags(m, imports)?;
        let mut resolved = Imports::default();
        let mut host_imports: Vec<Box<HostImport>> = Vec::new();
        let (mut ti, mut gi) = (0, 0);
        for imp in &meta.imports {
            let what = format!("{}::{}", imp.module, imp.name);
            let Some(ext) = imports(&imp.module, &imp.name) else {
                return Err(InstantiateError::Unlinkable(format!(
                    "unknown import {what}"
                )));
            };
            let incompatible =
                || InstantiateError::Unlinkable(format!("incompatible import type for {what}"));
            match (&imp.kind, ext) {
                (ImportKind::Func(t), Extern::Func(f)) if f.store == self.id => {
                    // Signatures with typed references: the same canonical type (the type
                    // ids `Instance::new` compares collapse reference types).
                    let want = m.inner.ref_types.sigs.get(*t as usize).cloned().flatten();
                    if want != self.func_sigs.get(&f.ptr).cloned() {
                        return Err(incompatible());
                    }
                    let fr = f.ptr as *const FuncRef;
                    // SAFETY: handles of this store point at live FuncRefs.
                    let fr_val = unsafe { &*fr };
                    if fr_val.kind == func_kind::HOST
                        && fr_val.array == host_trampoline as *const u8
                    {
                        // This instance's own copy, so calls through it know their caller.
                        let mut hi = Box::new(HostImport {
                            func_ref: FuncRef {
                                native: fr_val.native,
                                array: fr_val.array,
                                vmctx: fr_val.vmctx,
                                type_id: fr_val.type_id,
                                func_index: fr_val.func_index,
                                kind: fr_val.kind,
                                reserved: fr_val.reserved,
                                host_data: fr_val.host_data,
                            },
                            instance: ptr::null(),
                            module: m.clone(),
                        });
                        resolved
                            .funcs
                            .push(&mut hi.func_ref as *mut FuncRef as *const FuncRef);
                        host_imports.push(hi);
                    } else {
                        resolved.funcs.push(fr)
                    }
                }
                (ImportKind::Memory(_), Extern::Memory(x)) if x.store == self.id => {
                    resolved.memories.push(x.ptr as *mut LinearMemory)
                }
                (ImportKind::Table(_), Extern::Table(x)) if x.store == self.id => {
                    // Table element types are invariant.
                    let want = m.inner.ref_types.tables.get(ti);
                    ti += 1;
                    // SAFETY: handles of this store point at live tables.
                    let elem = unsafe { (*(x.ptr as *const TableInst)).ty.elem };
                    if want != Some(&self.ref_type_of(x.ptr, elem)) {
                        return Err(incompatible());
                    }
                    resolved.tables.push(x.ptr as *mut TableInst)
                }
                (ImportKind::Global(g), Extern::Global(x)) if x.store == self.id => {
                    // A reference-typed global: an immutable one may have a subtype, a
                    // mutable one only the same type (the rest: `Instance::new`).
                    if let Some(Some(want)) = m.inner.ref_types.globals.get(gi) {
                        // SAFETY: handles of this store point at live globals.
                        let have = unsafe { (*(x.ptr as *const GlobalCell)).ty.ty };
                        let have = self.ref_type_of(x.ptr, have);
                        if !(if g.mutable {
                            have == *want
                        } else {
                            have.matches(want)
                        }) {
                            return Err(incompatible());
                        }
                    }
                    gi += 1;
                    resolved.globals.push(x.ptr as *mut GlobalCell)
                }
                _ => return Err(incompatible()),
            }
        }
        let type_ids = meta
            .types
            .iter()
            .enumerate()
            .map(
                |(i, t)| match m.inner.ref_types.sigs.get(i).cloned().flatten() {
                    Some(canon) => {
                        let types = &mut self.types;
                        *self
                            .typed_sig_ids
                            .entry(canon)
                            .or_insert_with(|| types.add_distinct(t))
                    }
                    None => self.types.intern(t),
                },
            )
            .collect();
        let mut interp_inst = InterpInstance::new(
            m.inner.clone(),
            m.interp_code_for(self.interp.config.fuel || self.interp.config.interrupt)
                .clone(),
            self.interp.config,
        );
        interp_inst.tags = tags.clone().into_boxed_slice();
        interp_inst.exn = &self.shared.exn;
        let data = Box::into_raw(Box::new(interp_inst));
        // SAFETY: every import pointer is owned by this store (checked ids above) and
        // lives as long as the store, which outlives the instance.
        let inst = unsafe {
            Instance::new_in_mode(meta, type_ids, resolved, data as *mut c_void, self.guard())
        };
        let inst = match inst {
            Ok(i) => i,
            Err(e) => {
                // SAFETY: `data` came from `Box::into_raw` above and was not shared.
                unsafe { drop(Box::from_raw(data)) };
                return Err(match e {
                    InstanceError::IncompatibleImport { index, .. } => {
                        let imp = &meta.imports[index];
                        InstantiateError::Unlinkable(format!(
                            "incompatible import type for {}::{}: {e}",
                            imp.module, imp.name
                        ))
                    }
                    InstanceError::ImportCount => InstantiateError::Unlinkable(e.to_string()),
                    other => InstantiateError::Resource(other.to_string()),
                });
            }
        };
        for hi in &mut host_imports {
            hi.instance = &*inst as *const Instance;
            // SAFETY: `hi` is a live host FuncRef copy owned by the instance being added.
            let ty = unsafe { (*(hi.func_ref.host_data as *const HostFunc)).ty.clone() };
            if let Some(jit) = &mut self.jit {
                // SAFETY: as above (boxed: the address stays put).
                unsafe { jit.install_host_func(&mut hi.func_ref, &ty) }
                    .expect("a native->array stub compiles for every signature");
            }
            if let Some(snap) = &mut self.snap {
                // SAFETY: as above.
                unsafe { snap.install_host_func(&mut hi.func_ref, &ty) }
                    .expect("a native->array stub compiles for every signature");
            }
        }
        let rt = &m.inner.ref_types;
        for (i, t) in rt
            .tables
            .iter()
            .enumerate()
            .skip(meta.num_imported_tables as usize)
        {
            if let Some(p) = inst.table(i as u32) {
                self.ref_types.insert(p as usize, t.clone());
            }
        }
        for (i, t) in rt
            .globals
            .iter()
            .enumerate()
            .skip(meta.num_imported_globals as usize)
        {
            if let (Some(t), Some(p)) = (t, inst.global(i as u32)) {
                self.ref_types.insert(p as usize, t.clone());
            }
        }
        for i in meta.num_imported_funcs..meta.funcs.len() as u32 {
            let sig = rt
                .sigs
                .get(meta.funcs[i as usize] as usize)
                .cloned()
                .flatten();
            if let (Some(sig), Some(p)) = (sig, inst.func(i)) {
                self.func_sigs.insert(p as usize, sig);
            }
        }
        let id = InstanceId(self.instances.len() as u32);
        self.instances.push(StoreInstance {
            inst,
            _host_imports: host_imports,
            interp: data,
            module: m.clone(),
            tags,
        });
        let si = self.instances.last().expect("just pushed");
        if let Some(jit) = &mut self.jit {
            // SAFETY: the instance, its interpreter view and the module live as long as the
            // store; none of the instance's code has run yet.
            unsafe { jit.install_instance(&si.inst, &m.inner, si.interp) }
                .map_err(|e| InstantiateError::Resource(e.to_string()))?;
        } else if let Some(snap) = &mut self.snap {
            // SAFETY: as above (snapshot mode).
            let exceptions = !m.inner.tags.is_empty() || m.code.uses_exceptions;
            unsafe { snap.install_instance(&si.inst, &m.inner, exceptions) }
                .map_err(InstantiateError::Resource)?;
        } else if self.config.mode != Mode::Interp {
            return Err(InstantiateError::Unsupported(format!(
                "execution mode `{}` is not available on this host",
                self.config.mode
            )));
        }
        if let Err(code) = si.inst.initialize(meta) {
            return Err(InstantiateError::Trap(Trap::new(code)));
        }
        if let Some(start) = meta.start {
            let f = si
                .inst
                .func(start)
                .ok_or_else(|| InstantiateError::Resource("start index out of range".into()))?;
            let f = Func {
                store: self.id,
                ptr: f as usize,
            };
            match self.call(f, &[]) {
                Ok(_) => {}
                Err(CallError::Trap(t)) => return Err(InstantiateError::Trap(t)),
                Err(e) => return Err(InstantiateError::Resource(e.to_string())),
            }
        }
        Ok(id)
    }

    fn instance(&self, i: InstanceId) -> Option<&StoreInstance> {
        self.instances.get(i.0 as usize)
    }

    /// The module an instance was created from.
    pub fn instance_module(&self, i: InstanceId) -> Option<&Module> {
        self.instance(i).map(|s| &s.module)
    }

    /// An export of an instance.
    pub fn export(&self, i: InstanceId, name: &str) -> Option<Extern> {
        let si = self.instance(i)?;
        if let Some((_, t)) = si.module.inner.tags.exports.iter().find(|(n, _)| n == name) {
            return Some(Extern::Tag(Tag {
                store: self.id,
                ptr: *si.tags.get(*t as usize)? as usize,
            }));
        }
        export_of(&si.inst, &si.module, self.id, name)
    }

    /// The tags of a new instance of `m`: its imported tags (checked: same type) and new
    /// ones for those it defines.
    fn link_tags(
        &mut self,
        m: &Module,
        imports: &dyn Fn(&str, &str) -> Option<Extern>,
    ) -> Result<Vec<*const TagInst>, InstantiateError> {
        let p = &m.inner;
        let mut out = Vec::with_capacity(p.tags.types.len());
        for (i, &t) in p.tags.types.iter().enumerate() {
            let ty = p.meta.types.get(t as usize).cloned().unwrap_or_default();
            let sig = p.ref_types.sigs.get(t as usize).cloned().flatten();
            if let Some((module, name)) = p.tags.imports.get(i) {
                let what = format!("{module}::{name}");
                match imports(module, name) {
                    None => {
                        return Err(InstantiateError::Unlinkable(format!(
                            "unknown import {what}"
                        )));
                    }
                    Some(Extern::Tag(x)) if x.store == self.id => {
                        // SAFETY: tag handles of this store point at its live tags.
                        let have = unsafe { &*(x.ptr as *const TagInst) };
                        if have.ty != ty || have.sig != sig {
                            return Err(InstantiateError::Unlinkable(format!(
                                "incompatible import type for {what}"
                            )));
                        }
                        out.push(x.ptr as *const TagInst);
                    }
                    Some(_) => {
                        return Err(InstantiateError::Unlinkable(format!(
                            "incompatible import type for {what}"
                        )));
                    }
                }
            } else {
                out.push(self.alloc_tag(ty, sig));
            }
        }
        Ok(out)
    }

    fn alloc_tag(&mut self, ty: FuncType, sig: Option<Arc<str>>) -> *const TagInst {
        let slots = ty.param_slots();
        let b = Box::new(TagInst { ty, slots, sig });
        let p: *const TagInst = &*b;
        self.tags.push(b);
        p
    }

    /// A new tag of type `ty` (its parameters are the payload; results must be empty),
    /// for host functions that throw ([`Trap::throw`]) and modules that import it.
    pub fn new_tag(&mut self, ty: FuncType) -> Tag {
        let ptr = self.alloc_tag(ty, None) as usize;
        Tag {
            store: self.id,
            ptr,
        }
    }

    /// The type of tag `t` (`None` for a foreign handle).
    pub fn tag_type(&self, t: Tag) -> Option<FuncType> {
        // SAFETY: tag handles of this store point at its live tags.
        (t.store == self.id).then(|| unsafe { (*(t.ptr as *const TagInst)).ty.clone() })
    }

    /// The tag and payload of exception reference `e` (`None` for a foreign handle).
    pub fn exn_exception(&self, e: Exn) -> Option<Exception> {
        // SAFETY: exnref handles of this store point at objects of its arena, which live
        // as long as the store.
        (e.store == self.id).then(|| exception_of(unsafe { &*(e.ptr as *const ExnObj) }, self.id))
    }

    /// Copies `buf.len()` bytes at guest address `offset` of memory `m` into `buf`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory or `m` is from another store.
    pub fn read(&self, m: Memory, offset: u64, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data(m);
        let r = checked_range(offset, buf.len(), data.len())?;
        buf.copy_from_slice(&data[r]);
        Ok(())
    }

    /// Copies `bytes` to guest address `offset` of memory `m`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory or `m` is from another store.
    pub fn write(&mut self, m: Memory, offset: u64, bytes: &[u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data_mut(m);
        let r = checked_range(offset, bytes.len(), data.len())?;
        data[r].copy_from_slice(bytes);
        Ok(())
    }
}

/// Export `name` of instance `inst` of `module`, as handles of store `store`.
pub(crate) fn export_of(
    inst: &Instance,
    module: &Module,
    store: u64,
    name: &str,
) -> Option<Extern> {
    {
        let si = inst;
        let e = module.inner.meta.export(name)?;
        Some(match e.kind {
            ExportKind::Func => Extern::Func(Func {
                store,
                ptr: si.func(e.index)? as usize,
            }),
            ExportKind::Memory => Extern::Memory(Memory {
                store,
                ptr: si.memory(e.index)? as usize,
            }),
            ExportKind::Table => Extern::Table(Table {
                store,
                ptr: si.table(e.index)? as usize,
            }),
            ExportKind::Global => Extern::Global(Global {
                store,
                ptr: si.global(e.index)? as usize,
            }),
        })
    }
}

impl Store {
    /// Calls `f` with `args`.
    ///
    /// # Errors
    /// `BadArguments` for a wrong argument count or type or a foreign handle; `Trap` when
    /// the call traps (the store stays usable).
    pub fn call(&mut self, f: Func, args: &[Val]) -> Result<Vec<Val>, CallError> {
        check_mode(self.config.mode).map_err(CallError::Unsupported)?;
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if self.guard() {
            // Guard-mode faults are handled on an alternate signal stack.
            runtime_loader::guard::prepare_thread();
        }
        if f.store != self.id {
            return Err(CallError::BadArguments(
                "function from another store".into(),
            ));
        }
        let fr = f.ptr as *const FuncRef;
        // SAFETY: handles of this store point at FuncRefs that live as long as the store.
        let type_id = unsafe { (*fr).type_id };
        let ty = self
            .types
            .get(type_id)
            .ok_or_else(|| CallError::BadArguments("unknown signature".into()))?
            .clone();
        if args.len() != ty.params.len() {
            return Err(CallError::BadArguments(format!(
                "expected {} arguments, got {}",
                ty.params.len(),
                args.len()
            )));
        }
        let (param_slots, result_slots) = (ty.param_slots(), ty.result_slots());
        let n = param_slots.max(result_slots) as usize;
        let mut values = vec![0u64; n];
        let offs = runtime_loader::meta::slot_offsets(ty.params.iter().copied());
        for (i, ((a, t), &o)) in args.iter().zip(&ty.params).zip(&offs).enumerate() {
            if a.ty() != *t {
                return Err(CallError::BadArguments(format!(
                    "argument {i}: expected {t}, got {}",
                    a.ty()
                )));
            }
            val_to_slots(a, self.id, &mut values[o as usize..]).map_err(CallError::BadArguments)?;
        }
        if let Some(jit) = &mut self.jit {
            // Tiered mode: compile what got hot since the last call (errors leave the
            // function interpreted).
            let _ = jit.tier_up();
            self.interp.tier_hook = jit.tier_hook();
            jit.clear_trap_site();
        }
        if let Some(snap) = &mut self.snap {
            snap.clear_trap_site();
        }
        let outer_error = self.shared.host_error.borrow_mut().take();
        // SAFETY: `fr` is a live FuncRef of this store and `values` matches its signature.
        let r = unsafe {
            self.interp
                .invoke(fr, &mut values, param_slots as usize, result_slots as usize)
        };
        // A host error's message travels beside its status code (see `host_trampoline`).
        let host_error = std::mem::replace(&mut *self.shared.host_error.borrow_mut(), outer_error);
        // An exception that escaped to here (or was left behind by a trap) is taken.
        let pending = self.shared.exn.take_pending();
        let r = r.map_err(|mut t| {
            if let Some((_, m)) = host_error.filter(|(c, _)| *c == t.code) {
                t.message.get_or_insert(m);
            }
            if t.code == TrapCode::Exception
                && let Some(p) = &pending
            {
                t.exception = Some(Box::new(exception_of(p.obj(), self.id)));
            }
            t
        });
        drop(pending);
        if let (Err(t), Some(jit)) = (&r, &mut self.jit) {
            let mut t = t.clone();
            jit.attribute_trap(&mut t);
            return Err(CallError::Trap(t));
        }
        if let (Err(t), Some(snap)) = (&r, &mut self.snap) {
            let mut t = t.clone();
            snap.attribute_trap(&mut t);
            return Err(CallError::Trap(t));
        }
        r?;
        let offs = runtime_loader::meta::slot_offsets(ty.results.iter().copied());
        Ok(ty
            .results
            .iter()
            .zip(&offs)
            .map(|(t, &o)| slots_to_val(&values[o as usize..], *t, self.id))
            .collect())
    }

    /// The signature of `f` (empty for a foreign handle).
    pub fn func_type(&self, f: Func) -> FuncType {
        if f.store != self.id {
            return FuncType::default();
        }
        // SAFETY: handles of this store point at live FuncRefs.
        let id = unsafe { (*(f.ptr as *const FuncRef)).type_id };
        self.types.get(id).cloned().unwrap_or_default()
    }

    /// The current value of `g` (`I32(0)` for a foreign handle).
    pub fn global_get(&self, g: Global) -> Val {
        if g.store != self.id {
            return Val::I32(0);
        }
        // SAFETY: handles of this store point at live global cells.
        let cell = unsafe { &*(g.ptr as *const GlobalCell) };
        slots_to_val(&[cell.value, cell.hi], cell.ty.ty, self.id)
    }

    /// The type of `g`.
    pub fn global_type(&self, g: Global) -> Option<GlobalType> {
        if g.store != self.id {
            return None;
        }
        // SAFETY: handles of this store point at live global cells.
        Some(unsafe { (*(g.ptr as *const GlobalCell)).ty })
    }

    /// Sets a mutable global.
    ///
    /// # Errors
    /// `BadArguments` for an immutable global, a type mismatch or a foreign handle.
    pub fn global_set(&mut self, g: Global, v: Val) -> Result<(), CallError> {
        let ty = self
            .global_type(g)
            .ok_or_else(|| CallError::BadArguments("global from another store".into()))?;
        if !ty.mutable || v.ty() != ty.ty {
            return Err(CallError::BadArguments("global type mismatch".into()));
        }
        let mut slots = [0u64; 2];
        val_to_slots(&v, self.id, &mut slots).map_err(CallError::BadArguments)?;
        // SAFETY: handles of this store point at live global cells; `&mut self` excludes
        // concurrent wasm execution.
        unsafe {
            (*(g.ptr as *mut GlobalCell)).value = slots[0];
            (*(g.ptr as *mut GlobalCell)).hi = slots[1];
        }
        Ok(())
    }

    /// Defines a host function. It is called with its parameters and a result buffer
    /// pre-filled with zero values; it must store values of the declared result types (a
    /// wrong type traps with a [`TrapCode::HostError`] naming it). To reach the calling
    /// instance's memory or the store's data, use [`Store::func_with_caller`].
    ///
    /// ```
    /// use bareflow::{Config, FuncType, Store, Val, ValType};
    /// let mut store = Store::new(Config::default());
    /// let ty = FuncType { params: vec![ValType::I32], results: vec![ValType::I32] };
    /// let double = store.host_func(ty, Box::new(|p: &[Val], r: &mut [Val]| {
    ///     let Val::I32(x) = p[0] else { unreachable!() };
    ///     r[0] = Val::I32(x * 2);
    ///     Ok(())
    /// }));
    /// assert_eq!(store.call(double, &[Val::I32(21)])?, vec![Val::I32(42)]);
    /// # Ok::<(), bareflow::CallError>(())
    /// ```
    pub fn host_func(&mut self, ty: FuncType, mut f: HostFn) -> Func {
        self.func_with_caller(
            ty,
            Box::new(move |_: &mut Caller<'_>, p: &[Val], r: &mut [Val]| f(p, r)),
        )
    }

    /// Defines a host function that gets a [`Caller`] context: the calling instance's
    /// memory and exports and the store's user data (see [`Caller`] for an example and for
    /// which instance is the caller). Works in every [`Mode`].
    pub fn func_with_caller(&mut self, ty: FuncType, f: HostFnWithCaller) -> Func {
        let type_id = self.types.intern(&ty);
        let hf = Box::into_raw(Box::new(HostFunc {
            func_ref: FuncRef {
                native: ptr::null(),
                array: host_trampoline as *const u8,
                vmctx: ptr::null_mut(),
                type_id,
                func_index: self.host_funcs.len() as u32,
                kind: func_kind::HOST,
                reserved: 0,
                host_data: ptr::null_mut(),
            },
            ty,
            store: self.id,
            shared: &*self.shared,
            f: RefCell::new(f),
        }));
        // SAFETY: `hf` was just allocated and is not shared yet.
        unsafe { (*hf).func_ref.host_data = hf as *mut c_void };
        self.host_funcs.push(hf);
        if let Some(jit) = &mut self.jit {
            // SAFETY: `hf` is a live host function of this store.
            unsafe { jit.install_host_func(&mut (*hf).func_ref, &(*hf).ty) }
                .expect("a native->array stub compiles for every signature");
        }
        if let Some(snap) = &mut self.snap {
            // SAFETY: `hf` is a live host function of this store (snapshot mode).
            unsafe { snap.install_host_func(&mut (*hf).func_ref, &(*hf).ty) }
                .expect("a native->array stub compiles for every signature");
        }
        Func {
            store: self.id,
            ptr: hf as usize,
        }
    }

    /// The precise reference type of the global cell or table at `ptr` whose runtime type
    /// is `ty`: recorded at instantiation, or the top type for the host's own.
    fn ref_type_of(&self, ptr: usize, ty: ValType) -> parse::RefTy {
        self.ref_types
            .get(&ptr)
            .cloned()
            .unwrap_or_else(|| parse::RefTy::top(ty))
    }

    /// Creates a standalone memory.
    ///
    /// # Panics
    /// If `min_pages` exceeds 65536 or the memory cannot be allocated.
    pub fn new_memory(&mut self, min_pages: u32, max: Option<u32>) -> Memory {
        let ty = MemoryType {
            limits: Limits {
                min: min_pages.into(),
                max: max.map(u64::from),
            },
            index64: false,
        };
        let m = LinearMemory::new_in_mode(ty, self.guard())
            .expect("host memory size within 4 GiB and allocatable");
        let p = Box::into_raw(m);
        self.memories.push(p);
        Memory {
            store: self.id,
            ptr: p as usize,
        }
    }

    /// Creates a standalone table (elements start null).
    ///
    /// # Panics
    /// If `min` exceeds the table size limit or `elem` is not a reference type.
    pub fn new_table(&mut self, elem: ValType, min: u32, max: Option<u32>) -> Table {
        self.new_table_typed(TableType {
            elem,
            limits: Limits {
                min: min.into(),
                max: max.map(u64::from),
            },
            index64: false,
        })
    }

    /// Creates a standalone table of type `ty` (a table64 one with `ty.index64`; elements
    /// start null).
    ///
    /// # Panics
    /// As [`Store::new_table`].
    pub fn new_table_typed(&mut self, ty: TableType) -> Table {
        assert!(
            ty.elem.is_ref(),
            "table element type must be a reference type"
        );
        let t = TableInst::new(ty, 0).expect("host table size within limits");
        let p = Box::into_raw(t);
        self.tables.push(p);
        Table {
            store: self.id,
            ptr: p as usize,
        }
    }

    /// Creates a standalone global.
    ///
    /// # Panics
    /// If `init` does not have type `ty` or is a function from another store.
    pub fn new_global(&mut self, ty: ValType, mutable: bool, init: Val) -> Global {
        assert_eq!(init.ty(), ty, "global initializer type");
        let mut slots = [0u64; 2];
        val_to_slots(&init, self.id, &mut slots).expect("global initializer from this store");
        let p = Box::into_raw(Box::new(GlobalCell {
            value: slots[0],
            hi: slots[1],
            ty: GlobalType { ty, mutable },
        }));
        self.globals.push(p);
        Global {
            store: self.id,
            ptr: p as usize,
        }
    }

    /// The bytes of memory `m` (empty for a foreign handle).
    pub fn memory_data(&self, m: Memory) -> &[u8] {
        if m.store != self.id {
            return &[];
        }
        // SAFETY: handles of this store point at live memories; the returned borrow of
        // `self` prevents wasm from running (and growing the memory) meanwhile.
        unsafe { (*(m.ptr as *const LinearMemory)).data() }
    }

    /// The bytes of memory `m`, writable (empty for a foreign handle).
    pub fn memory_data_mut(&mut self, m: Memory) -> &mut [u8] {
        if m.store != self.id {
            return &mut [];
        }
        // SAFETY: as in `memory_data`, with `&mut self` making the access exclusive.
        unsafe { (*(m.ptr as *mut LinearMemory)).data_mut() }
    }

    /// The type of memory `m` with its current size as the minimum.
    pub fn memory_type(&self, m: Memory) -> Option<MemoryType> {
        if m.store != self.id {
            return None;
        }
        // SAFETY: handles of this store point at live memories.
        let lm = unsafe { &*(m.ptr as *const LinearMemory) };
        Some(MemoryType {
            limits: Limits {
                min: lm.pages().into(),
                max: lm.ty.limits.max,
            },
            index64: lm.ty.index64,
        })
    }

    /// The type of table `t` with its current size as the minimum.
    pub fn table_type(&self, t: Table) -> Option<TableType> {
        if t.store != self.id {
            return None;
        }
        // SAFETY: handles of this store point at live tables.
        let ti = unsafe { &*(t.ptr as *const TableInst) };
        Some(TableType {
            elem: ti.ty.elem,
            limits: Limits {
                min: ti.len().into(),
                max: ti.ty.limits.max,
            },
            index64: ti.ty.index64,
        })
    }

    /// Element `i` of table `t`, if in bounds.
    pub fn table_get(&self, t: Table, i: u32) -> Option<Val> {
        if t.store != self.id {
            return None;
        }
        // SAFETY: handles of this store point at live tables.
        let ti = unsafe { &*(t.ptr as *const TableInst) };
        Some(slot_to_val(ti.get(i)?, ti.ty.elem, self.id))
    }

    /// Counters of every defined function of instance `i` (empty for an unknown id).
    pub fn func_counters(&self, i: InstanceId) -> Vec<FuncCounters> {
        let Some(si) = self.instance(i) else {
            return Vec::new();
        };
        let ref_ticks = interp::exec::ticks().wrapping_sub(self.created_ticks);
        let ref_nanos = self.created.elapsed().as_nanos() as u64;
        // SAFETY: `interp` is live while the instance is in the store.
        let data = unsafe { &*si.interp };
        data.counters
            .iter()
            .enumerate()
            .map(|(j, c)| FuncCounters {
                func: data.num_imported_funcs + j as u32,
                calls: c.calls(),
                back_edges: c.back_edges.get(),
                nanos: interp::exec::ticks_to_nanos(c.ticks.get(), ref_ticks, ref_nanos),
            })
            .collect()
    }

    /// Back-edges per loop of every defined function of instance `i`, hottest first
    /// (collected when [`Config::profiling`] is on; empty otherwise or for an unknown id).
    ///
    /// The interpreter counts back-edges in batches: a full batch is charged to the loop
    /// whose back-edge ends it; the edges pending when the frame calls or returns, to the
    /// innermost loop enclosing that point, or outside every loop (a return) to the last
    /// loop before it ([`crate::profile::loop_for_offset`]). Compiled code (tiered mode: entered through a
    /// call, or after an on-stack replacement) counts a function's back-edges without
    /// telling its loops apart: those belong to no loop, so a function's total
    /// ([`FuncCounters::back_edges`]) can exceed the sum of its loops, and in tiered mode a
    /// loop lists only its interpreted back-edges (interp mode counts every one).
    pub fn loop_counters(&self, i: InstanceId) -> Vec<LoopCounters> {
        let Some(si) = self.instance(i) else {
            return Vec::new();
        };
        // SAFETY: `interp` is live while the instance is in the store.
        let data = unsafe { &*si.interp };
        let mut out: Vec<LoopCounters> = Vec::new();
        for (d, c) in data.counters.iter().enumerate() {
            let raw = c.loop_edges.borrow();
            if raw.is_empty() {
                continue;
            }
            let func = data.num_imported_funcs + d as u32;
            let ranges = data
                .module
                .body_reader(d)
                .map(|b| crate::profile::loop_ranges(&b))
                .unwrap_or_default();
            let mut per: std::collections::BTreeMap<u32, u64> = Default::default();
            for &(at, n) in raw.iter() {
                if let Some(l) = crate::profile::loop_for_offset(&ranges, at) {
                    let e = per.entry(l).or_default();
                    *e = e.saturating_add(n);
                }
            }
            out.extend(per.into_iter().map(|(offset, back_edges)| LoopCounters {
                func,
                offset,
                back_edges,
            }));
        }
        out.sort_by(|a, b| {
            b.back_edges
                .cmp(&a.back_edges)
                .then(a.offset.cmp(&b.offset))
        });
        out
    }

    /// Tiered mode: every on-stack replacement entry compiled so far, in order (empty in the
    /// other modes).
    pub fn osr_events(&self) -> Vec<crate::tier::OsrEvent> {
        self.jit
            .as_ref()
            .and_then(|j| j.manager())
            .map(|m| m.osr_events().to_vec())
            .unwrap_or_default()
    }

    /// The runtime instance behind an id (for tiers that install compiled code).
    pub fn runtime_instance(&self, i: InstanceId) -> Option<&Instance> {
        self.instance(i).map(|s| &*s.inst)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Instances first: nothing is dereferenced on drop, but keep the owners last.
        self.instances.clear();
        // SAFETY: each pointer came from `Box::into_raw` in this store and is freed once.
        unsafe {
            for p in self.host_funcs.drain(..) {
                drop(Box::from_raw(p));
            }
            for p in self.memories.drain(..) {
                drop(Box::from_raw(p));
            }
            for p in self.tables.drain(..) {
                drop(Box::from_raw(p));
            }
            for p in self.globals.drain(..) {
                drop(Box::from_raw(p));
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.id)
            .field("mode", &self.config.mode)
            .field("instances", &self.instances.len())
            .finish_non_exhaustive()
    }
}
