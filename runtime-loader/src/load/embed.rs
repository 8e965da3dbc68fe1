//! A safe API for running snapshots: [`Snapshot::load`] → [`Instance::new`] →
//! [`Instance::call`], traps as values, bounds-checked memory access, host functions with a
//! [`Caller`] context. No `unsafe` in user code.
//!
//! ```no_run
//! use runtime_loader::embed::{Caller, Imports, Instance, Snapshot, Trap, Val, ValType};
//!
//! let bytes = std::fs::read("prog.snap")?;
//! let snapshot = Snapshot::load(&bytes)?;
//! let mut imports = Imports::new();
//! imports.func("env", "log", &[ValType::I32, ValType::I32], &[],
//!     |caller: &mut Caller<'_>, args: &[Val], _results: &mut [Val]| {
//!         let (Val::I32(ptr), Val::I32(len)) = (args[0], args[1]) else { unreachable!() };
//!         let mut buf = vec![0; len as usize];
//!         caller.read(ptr as u32 as u64, &mut buf).map_err(|_| Trap::host("bad pointer"))?;
//!         println!("{}", String::from_utf8_lossy(&buf));
//!         Ok(())
//!     });
//! let mut instance = Instance::new(&snapshot, imports)?;
//! let results = instance.call("main", &[Val::I32(7)])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Builds: the API is feature `embed` (in the default `std`; it needs `alloc`) on x86-64;
//! [`Snapshot::load`] also needs `unix` (executable memory through `mmap`). With
//! `default-features = false, features = ["embed"]` (no std), [`Snapshot::load_into`] takes
//! any [`CodeMemory`] (the embedder's executable memory). A guard-page snapshot needs `std` on Linux (else [`Snapshot::load`] fails
//! with [`LoadError::UnsupportedMemoryMode`]).
//!
//! Scope: the instance's imports are functions only (a snapshot importing a memory, table
//! or global is [`InstantiateError::Unlinkable`]); `funcref`/`externref` parameters and
//! results of exports and host functions are refused ([`CallError::BadArguments`],
//! [`InstantiateError::Unlinkable`]). The caller of every host function is the instance
//! that imports it.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use core::cell::RefCell;
use core::ffi::c_void;
use core::fmt;
use core::pin::Pin;

pub use crate::TrapCode;
use crate::abi::{FuncRef, VMContext, func_kind};
use crate::code::CodeMemory;
use crate::error::LoadError;
use crate::instance::{self, Imports as RawImports, InstanceError, LinearMemory};
use crate::loader::{self, LoadedModule};
pub use crate::meta::ValType;
use crate::meta::{ExportKind, FuncType, slot_offsets};
use crate::meta_view::{FuncTypeView, MetaView};
use crate::trap::TrapContext;

/// A WebAssembly value of a numeric or vector type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32` as raw bits.
    F32(u32),
    /// `f64` as raw bits.
    F64(u64),
    /// `v128`, little-endian (lane 0 in the low bits).
    V128(u128),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
        }
    }

    fn zero(ty: ValType) -> Val {
        match ty {
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            _ => Val::I32(0),
        }
    }

    fn from_slots(s: &[u64], ty: ValType) -> Val {
        match ty {
            ValType::I64 => Val::I64(s[0] as i64),
            ValType::F32 => Val::F32(s[0] as u32),
            ValType::F64 => Val::F64(s[0]),
            ValType::V128 => Val::V128(u128::from(s[0]) | u128::from(s[1]) << 64),
            _ => Val::I32(s[0] as u32 as i32),
        }
    }

    fn to_slots(self, out: &mut [u64]) {
        match self {
            Val::I32(x) => out[0] = u64::from(x as u32),
            Val::I64(x) => out[0] = x as u64,
            Val::F32(x) => out[0] = u64::from(x),
            Val::F64(x) => out[0] = x,
            Val::V128(x) => {
                out[0] = x as u64;
                out[1] = (x >> 64) as u64;
            }
        }
    }
}

fn supported(ty: &FuncType) -> bool {
    !ty.params.iter().chain(&ty.results).any(|t| t.is_ref())
}

/// Why a call stopped: a trap, with the function and code offset when compiled code
/// raised it, and the message a host function gave ([`Trap::host`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub code: TrapCode,
    /// Index of the function whose code trapped, when known.
    pub func: Option<u32>,
    /// Wasm code offset of the trapping instruction, when known.
    pub offset: Option<u32>,
    /// A host function's message.
    pub message: Option<String>,
}

impl Trap {
    /// A trap with a code only.
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            func: None,
            offset: None,
            message: None,
        }
    }

    /// A host function error with a message ([`TrapCode::HostError`]).
    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            message: Some(message.into()),
            ..Trap::new(TrapCode::HostError)
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        match (self.func, self.offset) {
            (Some(func), Some(off)) => write!(f, " (in function {func}, at code offset {off:#x})"),
            (Some(func), None) => write!(f, " (in function {func})"),
            _ => Ok(()),
        }
    }
}

impl core::error::Error for Trap {}

/// Error of [`Instance::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstantiateError {
    /// An import is missing, has another signature, or is not a function.
    Unlinkable(String),
    /// The instance could not be created (allocation, malformed metadata).
    Instance(InstanceError),
    /// A segment initializer or the start function trapped.
    Trap(Trap),
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Unlinkable(m) => write!(f, "unlinkable: {m}"),
            InstantiateError::Instance(e) => write!(f, "instantiation failed: {e}"),
            InstantiateError::Trap(t) => write!(f, "trap during instantiation: {t}"),
        }
    }
}

impl core::error::Error for InstantiateError {}

/// Error of [`Instance::call`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No exported function of that name.
    NoSuchFunction(String),
    /// Wrong argument count or types, or a reference-typed signature.
    BadArguments(String),
    /// The call trapped (the instance stays usable).
    Trap(Trap),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NoSuchFunction(n) => write!(f, "no exported function `{n}`"),
            CallError::BadArguments(m) => write!(f, "bad arguments: {m}"),
            CallError::Trap(t) => write!(f, "{t}"),
        }
    }
}

impl core::error::Error for CallError {}

/// A bounds-checked memory access failed (or the instance has no memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessError {
    /// Guest address.
    pub offset: u64,
    /// Bytes accessed.
    pub len: usize,
    /// Memory size in bytes (0: no memory).
    pub size: usize,
}

impl fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "out of bounds memory access: {} bytes at {:#x} (memory size {:#x})",
            self.len, self.offset, self.size
        )
    }
}

impl core::error::Error for MemoryAccessError {}

fn range(
    offset: u64,
    len: usize,
    size: usize,
) -> Result<core::ops::Range<usize>, MemoryAccessError> {
    let err = MemoryAccessError { offset, len, size };
    let start = usize::try_from(offset).map_err(|_| err.clone())?;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(err),
    }
}

/// A verified snapshot whose code is loaded and executable.
///
/// Its instances share one trap context (as a compiler `Store`'s do): the loader raises a
/// guard-page fault in this code into the context registered for it, so one per snapshot is
/// what keeps several instances of a guard-mode snapshot sound. Neither type is `Send`.
pub struct Snapshot<M: CodeMemory> {
    // Field order is drop order: the module (which may hold a fault-handler registration
    // naming the trap context) before the context.
    module: LoadedModule<M>,
    // Shared with the [`InterruptHandle`]s, which may outlive the snapshot (their request
    // then lands in a context nothing reads).
    trap_ctx: Arc<core::cell::UnsafeCell<TrapContext>>,
    /// The header flags (`format::flags`: fuel and interrupt checks).
    flags: u32,
}

/// Why [`Snapshot::set_fuel`], [`Snapshot::fuel`] or [`Snapshot::interrupt_handle`] cannot
/// be used: the snapshot's code was compiled without the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsError {
    /// No fuel checks (`bareflow compile --fuel`).
    NoFuelChecks,
    /// No interrupt checks (`bareflow compile --interruptible`).
    NoInterruptChecks,
}

impl fmt::Display for BoundsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoundsError::NoFuelChecks => "the snapshot has no fuel checks (compile --fuel)",
            BoundsError::NoInterruptChecks => {
                "the snapshot has no interrupt checks (compile --interruptible)"
            }
        })
    }
}

impl core::error::Error for BoundsError {}

/// Makes the calls of a snapshot's instances trap `Interrupted` at their next check point
/// (function entry or loop back-edge), from any thread or a signal handler: see
/// [`Snapshot::interrupt_handle`]. A request made while no call runs stops the next call
/// at its first check; the check consumes it. After the snapshot is dropped a request
/// does nothing.
#[derive(Clone)]
pub struct InterruptHandle {
    ctx: Arc<core::cell::UnsafeCell<TrapContext>>,
}

// SAFETY: the handle only ever writes the context's `interrupt` word, with an aligned
// volatile store (`trap::request_interrupt`), which compiled code reads with an atomic
// load; every other field is touched only by the snapshot's own (non-`Send`) thread.
unsafe impl Send for InterruptHandle {}
// SAFETY: as for `Send`: `interrupt` takes `&self` and does that one store.
unsafe impl Sync for InterruptHandle {}

impl fmt::Debug for InterruptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterruptHandle").finish_non_exhaustive()
    }
}

impl InterruptHandle {
    /// Requests the interruption.
    pub fn interrupt(&self) {
        // SAFETY: the Arc keeps the context alive; see the `Send` impl.
        unsafe { crate::trap::request_interrupt(self.ctx.get()) }
    }
}

impl<M: CodeMemory> fmt::Debug for Snapshot<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("module", &self.module)
            .finish()
    }
}

#[cfg(feature = "unix")]
impl Snapshot<crate::code::MmapCodeMemory> {
    /// Verifies `bytes` (header, CPU features, checksums, relocations, metadata) and loads
    /// its code into fresh `mmap`ed memory.
    ///
    /// # Errors
    /// Any [`LoadError`]; nothing has run when this fails.
    pub fn load(bytes: &[u8]) -> Result<Self, LoadError> {
        Snapshot::load_into(bytes, crate::code::MmapCodeMemory::new())
    }
}

impl<M: CodeMemory> Snapshot<M> {
    /// As [`Snapshot::load`], into the given code memory.
    ///
    /// # Errors
    /// Any [`LoadError`].
    pub fn load_into(bytes: &[u8], mem: M) -> Result<Self, LoadError> {
        let module = LoadedModule::load(bytes, mem)?;
        // `load` validated the header: bytes 12..16 are its flags.
        let flags = bytes
            .get(12..16)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        Ok(Snapshot {
            module,
            trap_ctx: Arc::default(),
            flags,
        })
    }

    fn need(&self, flag: u32, e: BoundsError) -> Result<*mut TrapContext, BoundsError> {
        if self.flags & flag == 0 {
            return Err(e);
        }
        Ok(self.trap_ctx.get())
    }

    /// Sets the fuel of the snapshot's instances (they share it, as a compiler `Store`'s
    /// instances do): each function entry and taken loop back-edge costs 1; a call that
    /// needs more traps `OutOfFuel`, and the instance stays usable (set more and call
    /// again). A snapshot compiled with fuel checks starts with 0.
    ///
    /// # Errors
    /// [`BoundsError::NoFuelChecks`] unless compiled with `bareflow compile --fuel`.
    pub fn set_fuel(&self, fuel: u64) -> Result<(), BoundsError> {
        let ctx = self.need(crate::format::flags::FUEL, BoundsError::NoFuelChecks)?;
        // SAFETY: the context is live; no wasm of this (non-`Send`) snapshot runs while
        // its owner thread is here, except from a host function, which holds no reference
        // into the context.
        unsafe { (*ctx).fuel = i64::try_from(fuel).unwrap_or(i64::MAX) };
        Ok(())
    }

    /// The fuel left (0 after an `OutOfFuel` trap).
    ///
    /// # Errors
    /// As [`Snapshot::set_fuel`].
    pub fn fuel(&self) -> Result<u64, BoundsError> {
        let ctx = self.need(crate::format::flags::FUEL, BoundsError::NoFuelChecks)?;
        // SAFETY: as in `set_fuel`.
        Ok(unsafe { (*ctx).fuel }.max(0) as u64)
    }

    /// A handle that interrupts the calls of this snapshot's instances from any thread.
    ///
    /// # Errors
    /// [`BoundsError::NoInterruptChecks`] unless compiled with `bareflow compile
    /// --interruptible`.
    pub fn interrupt_handle(&self) -> Result<InterruptHandle, BoundsError> {
        self.need(
            crate::format::flags::INTERRUPT,
            BoundsError::NoInterruptChecks,
        )?;
        Ok(InterruptHandle {
            ctx: self.trap_ctx.clone(),
        })
    }

    /// The snapshot's module metadata (imports, exports, types), read in place.
    pub fn meta(&self) -> MetaView<'_> {
        self.module.meta()
    }
}

type HostClosure = Box<dyn FnMut(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap>>;

struct HostDef {
    module: String,
    name: String,
    ty: FuncType,
    f: HostClosure,
}

/// Host functions to link, by import module and name.
#[derive(Default)]
pub struct Imports {
    funcs: Vec<HostDef>,
}

impl fmt::Debug for Imports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.funcs.iter().map(|d| (&d.module, &d.name)))
            .finish()
    }
}

impl Imports {
    /// No imports.
    pub fn new() -> Imports {
        Imports::default()
    }

    /// Defines host function `module::name` with the given signature. It gets the
    /// parameters and a result buffer of zero values it must fill with values of the
    /// result types (another type is a host error naming it).
    pub fn func(
        &mut self,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
        f: impl FnMut(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap> + 'static,
    ) -> &mut Imports {
        self.funcs.push(HostDef {
            module: module.into(),
            name: name.into(),
            ty: FuncType {
                params: params.to_vec(),
                results: results.to_vec(),
            },
            f: Box::new(f),
        });
        self
    }
}

/// What the host functions of an instance share: user data and the last host error.
#[derive(Default)]
struct Shared {
    data: RefCell<Option<Box<dyn Any>>>,
    host_error: RefCell<Option<(TrapCode, String)>>,
}

/// One imported host function: its `FuncRef` first (`host_data` points at the slot).
#[repr(C)]
struct HostSlot {
    func_ref: FuncRef,
    ty: FuncType,
    shared: *const Shared,
    /// The importing instance's default memory ([`default_memory`]).
    memory: Option<u32>,
    f: RefCell<HostClosure>,
}

/// The context of a host function call: the calling instance's memory and the instance's
/// user data ([`Instance::set_data`]).
pub struct Caller<'a> {
    inst: Option<&'a instance::Instance>,
    memory: Option<u32>,
    data: Option<core::cell::RefMut<'a, Option<Box<dyn Any>>>>,
}

impl fmt::Debug for Caller<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").finish_non_exhaustive()
    }
}

impl Caller<'_> {
    /// The calling instance's memory (its `memory` export, else memory 0), empty if none.
    pub fn memory_data(&self) -> &[u8] {
        match self.inst.zip(self.memory).and_then(|(i, m)| i.memory(m)) {
            // SAFETY: the memory is live while its instance is; wasm is suspended while a
            // host function runs and cannot be re-entered through a Caller.
            Some(p) => unsafe { (*p).data() },
            None => &[],
        }
    }

    /// The calling instance's memory, writable.
    pub fn memory_data_mut(&mut self) -> &mut [u8] {
        match self.inst.zip(self.memory).and_then(|(i, m)| i.memory(m)) {
            // SAFETY: as in `memory_data`; `&mut self` makes the borrow exclusive.
            Some(p) => unsafe { (*p).data_mut() },
            None => &mut [],
        }
    }

    /// Copies guest bytes at `offset` into `buf`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory (nothing is read).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data();
        buf.copy_from_slice(&data[range(offset, buf.len(), data.len())?]);
        Ok(())
    }

    /// Copies `bytes` into guest memory at `offset`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory (nothing is written).
    pub fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data_mut();
        let r = range(offset, bytes.len(), data.len())?;
        data[r].copy_from_slice(bytes);
        Ok(())
    }

    /// The instance's user data, if it is a `T`.
    pub fn data<T: Any>(&self) -> Option<&T> {
        self.data.as_ref()?.as_ref()?.downcast_ref()
    }

    /// The instance's user data, writable, if it is a `T`.
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.data.as_mut()?.as_mut()?.downcast_mut()
    }
}

/// The memory host functions and [`Instance::read`] use: export `memory`, else memory 0.
fn default_memory(meta: &MetaView<'_>) -> Option<u32> {
    match meta.export_named(b"memory") {
        Some(e) if e.kind == ExportKind::Memory => Some(e.index),
        _ => (meta.num_memories() > 0).then_some(0),
    }
}

/// An owned copy of a signature of the view.
fn owned_type(t: FuncTypeView<'_>) -> FuncType {
    FuncType {
        params: t.param_types().collect(),
        results: t.result_types().collect(),
    }
}

/// The array-ABI entry of every host function of this API.
///
/// # Safety
/// `callee` must be the `FuncRef` of a live [`HostSlot`] whose `vmctx` is its importing
/// instance's, and `values` must hold `max(params, results)` slots.
unsafe extern "C" fn host_entry(
    vmctx: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: per the contract.
    let slot = unsafe { &*((*callee).host_data as *const HostSlot) };
    // SAFETY: the shared part is boxed in the instance, which outlives its calls.
    let shared = unsafe { &*slot.shared };
    let n = slot.ty.param_slots().max(slot.ty.result_slots()) as usize;
    // SAFETY: per the contract.
    let slots = unsafe { core::slice::from_raw_parts_mut(values, n) };
    let offs = slot_offsets(slot.ty.params.iter().copied());
    let params: Vec<Val> = slot
        .ty
        .params
        .iter()
        .zip(&offs)
        .map(|(t, &o)| Val::from_slots(&slots[o as usize..], *t))
        .collect();
    let mut results: Vec<Val> = slot.ty.results.iter().map(|t| Val::zero(*t)).collect();
    let fail = |code: TrapCode, m: String| {
        *shared.host_error.borrow_mut() = Some((code, m));
        code as u32
    };
    let Ok(mut f) = slot.f.try_borrow_mut() else {
        return fail(TrapCode::HostError, "host function re-entered".into());
    };
    // SAFETY: `vmctx` is the importing instance's (set before any code ran).
    let inst = (!vmctx.is_null()).then(|| unsafe { instance::Instance::from_vmctx(vmctx) });
    let mut caller = Caller {
        inst,
        memory: slot.memory,
        data: shared.data.try_borrow_mut().ok(),
    };
    let r = f(&mut caller, &params, &mut results);
    drop(caller);
    if let Err(t) = r {
        return match t.message {
            Some(m) => fail(t.code, m),
            None => t.code as u32,
        };
    }
    let offs = slot_offsets(slot.ty.results.iter().copied());
    for (i, ((r, t), &o)) in results.iter().zip(&slot.ty.results).zip(&offs).enumerate() {
        if r.ty() != *t {
            return fail(
                TrapCode::HostError,
                format!(
                    "host function returned {} for result {i} of type {t}",
                    r.ty()
                ),
            );
        }
        r.to_slots(&mut slots[o as usize..]);
    }
    0
}

/// An instance of a [`Snapshot`]: its memory, its host functions, its trap context.
pub struct Instance<'s, M: CodeMemory> {
    // Field order is drop order: the instance before what its FuncRefs point at.
    inst: Pin<Box<instance::Instance>>,
    // Boxed: the instance's vmctx points at each slot's FuncRef, so they must not move.
    #[allow(clippy::vec_box)]
    _hosts: Vec<Box<HostSlot>>,
    shared: Box<Shared>,
    memory: Option<u32>,
    snapshot: &'s Snapshot<M>,
}

impl<M: CodeMemory> fmt::Debug for Instance<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("inst", &self.inst)
            .finish_non_exhaustive()
    }
}

impl<'s, M: CodeMemory> Instance<'s, M> {
    /// Links `imports` to the snapshot's imports (by module and name, signatures checked),
    /// creates the instance, applies its segments and runs its start function.
    ///
    /// # Errors
    /// [`InstantiateError`].
    pub fn new(snapshot: &'s Snapshot<M>, imports: Imports) -> Result<Self, InstantiateError> {
        let meta = snapshot.module.meta();
        let type_ids = meta.canonical_type_ids();
        let shared = Box::<Shared>::default();
        let mut defs: Vec<Option<HostDef>> = imports.funcs.into_iter().map(Some).collect();
        let mut hosts: Vec<Box<HostSlot>> = Vec::new();
        let mut raw = RawImports::default();
        // Imports come first in their index spaces: the `i`-th import, if a function, is
        // function `i`.
        for i in 0..meta.num_imports() {
            let imp = meta.import(i);
            let (module, name) = (
                String::from_utf8_lossy(imp.module),
                String::from_utf8_lossy(imp.name),
            );
            let what = || format!("{module}::{name}");
            if imp.kind != ExportKind::Func {
                return Err(InstantiateError::Unlinkable(format!(
                    "{}: only function imports are supported",
                    what()
                )));
            }
            let t = meta.func_type_index(i);
            let want = owned_type(meta.type_at(t));
            let Some(def) = defs
                .iter_mut()
                .find(|d| {
                    d.as_ref()
                        .is_some_and(|d| d.module == module && d.name == name)
                })
                .and_then(Option::take)
            else {
                return Err(InstantiateError::Unlinkable(format!(
                    "unknown import {}",
                    what()
                )));
            };
            if def.ty != want || !supported(&want) {
                return Err(InstantiateError::Unlinkable(format!(
                    "incompatible import type for {}",
                    what()
                )));
            }
            let native = snapshot.module.import_stub(t);
            if native.is_null() {
                return Err(InstantiateError::Unlinkable(format!(
                    "{}: the snapshot has no import stub for its type",
                    what()
                )));
            }
            let mut slot = Box::new(HostSlot {
                func_ref: FuncRef {
                    native,
                    array: host_entry as *const u8,
                    vmctx: core::ptr::null_mut(),
                    type_id: type_ids[t as usize],
                    func_index: hosts.len() as u32,
                    kind: func_kind::HOST,
                    reserved: 0,
                    host_data: core::ptr::null_mut(),
                },
                ty: def.ty,
                shared: &*shared,
                memory: default_memory(&meta),
                f: RefCell::new(def.f),
            });
            slot.func_ref.host_data = &mut *slot as *mut HostSlot as *mut c_void;
            raw.funcs.push(&slot.func_ref as *const FuncRef);
            hosts.push(slot);
        }
        let trap_ctx = snapshot.trap_ctx.get();
        // SAFETY: the imported FuncRefs (`hosts`) are owned by the returned value and dropped
        // after the instance (field order); the instance borrows the snapshot (`'s`), which
        // owns the trap context, so neither the code nor the context is gone before it.
        let inst = unsafe {
            snapshot
                .module
                .instantiate(type_ids, raw, core::ptr::null_mut(), trap_ctx)
        }
        .map_err(InstantiateError::Instance)?;
        for h in &mut hosts {
            h.func_ref.vmctx = inst.vmctx();
        }
        let mut this = Instance {
            inst,
            _hosts: hosts,
            shared,
            memory: default_memory(&meta),
            snapshot,
        };
        this.inst
            .initialize(&meta)
            .map_err(|c| InstantiateError::Trap(Trap::new(c)))?;
        if let Some(start) = meta.start() {
            this.call_index(start, &[]).map_err(|e| match e {
                CallError::Trap(t) => InstantiateError::Trap(t),
                other => InstantiateError::Unlinkable(format!("start function: {other}")),
            })?;
        }
        Ok(this)
    }

    /// Calls the exported function `name`.
    ///
    /// # Errors
    /// [`CallError::NoSuchFunction`], [`CallError::BadArguments`], or the trap.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, CallError> {
        let meta = self.snapshot.module.meta();
        let index = match meta.export_named(name.as_bytes()) {
            Some(e) if e.kind == ExportKind::Func => e.index,
            _ => return Err(CallError::NoSuchFunction(name.into())),
        };
        self.call_index(index, args)
    }

    fn call_index(&mut self, index: u32, args: &[Val]) -> Result<Vec<Val>, CallError> {
        let meta = self.snapshot.module.meta();
        let ty = &owned_type(
            meta.func_type(index)
                .ok_or_else(|| CallError::BadArguments("no such function".into()))?,
        );
        if !supported(ty) {
            return Err(CallError::BadArguments(
                "reference-typed parameters or results are not supported".into(),
            ));
        }
        if args.len() != ty.params.len() {
            return Err(CallError::BadArguments(format!(
                "expected {} arguments, got {}",
                ty.params.len(),
                args.len()
            )));
        }
        let n = ty.param_slots().max(ty.result_slots()).max(1) as usize;
        let mut slots = vec![0u64; n];
        let offs = slot_offsets(ty.params.iter().copied());
        for (i, ((a, t), &o)) in args.iter().zip(&ty.params).zip(&offs).enumerate() {
            if a.ty() != *t {
                return Err(CallError::BadArguments(format!(
                    "argument {i}: expected {t}, got {}",
                    a.ty()
                )));
            }
            a.to_slots(&mut slots[o as usize..]);
        }
        #[cfg(all(feature = "std", target_os = "linux"))]
        if self.snapshot.module.memory_mode == crate::format::MemoryMode::Guard {
            // Guard-mode faults are handled on an alternate signal stack.
            crate::guard::prepare_thread();
        }
        *self.shared.host_error.borrow_mut() = None;
        // SAFETY: the slots hold valid values of the parameter types (checked above) and
        // enough room for the results; the trap context lives in `self`.
        let r = unsafe { loader::call(&self.inst, index, &mut slots) };
        if let Err(code) = r {
            let mut t = Trap::new(code);
            // SAFETY: the snapshot's trap context is live; no wasm runs now (the call
            // returned), so nothing else accesses it.
            let ctx = unsafe { &mut *self.snapshot.trap_ctx.get() };
            let f = core::mem::replace(&mut ctx.last_func, core::ptr::null());
            let off = core::mem::replace(&mut ctx.last_offset, 0);
            if !f.is_null() {
                // SAFETY: a recorded `last_func` is a live FuncRef of this instance.
                t.func = Some(unsafe { (*f).func_index });
                t.offset = (off != 0).then_some(off);
            }
            if let Some((c, m)) = self.shared.host_error.borrow_mut().take()
                && c == code
            {
                t.message = Some(m);
            }
            return Err(CallError::Trap(t));
        }
        let offs = slot_offsets(ty.results.iter().copied());
        Ok(ty
            .results
            .iter()
            .zip(&offs)
            .map(|(t, &o)| Val::from_slots(&slots[o as usize..], *t))
            .collect())
    }

    fn linear_memory(&self) -> Option<*mut LinearMemory> {
        self.inst.memory(self.memory?)
    }

    /// The instance's memory (its `memory` export, else memory 0), empty if none.
    pub fn memory_data(&self) -> &[u8] {
        match self.linear_memory() {
            // SAFETY: the memory lives as long as the instance; `&self` keeps wasm (which
            // could grow it) from running meanwhile.
            Some(p) => unsafe { (*p).data() },
            None => &[],
        }
    }

    /// The instance's memory, writable.
    pub fn memory_data_mut(&mut self) -> &mut [u8] {
        match self.linear_memory() {
            // SAFETY: as in `memory_data`, exclusive through `&mut self`.
            Some(p) => unsafe { (*p).data_mut() },
            None => &mut [],
        }
    }

    /// Copies guest bytes at `offset` into `buf`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data();
        buf.copy_from_slice(&data[range(offset, buf.len(), data.len())?]);
        Ok(())
    }

    /// Copies `bytes` into guest memory at `offset`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory.
    pub fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data_mut();
        let r = range(offset, bytes.len(), data.len())?;
        data[r].copy_from_slice(bytes);
        Ok(())
    }

    /// Multi-memory: memory `index` of the instance (imports included), `None` if there is
    /// no such memory.
    pub fn memory_data_at(&self, index: u32) -> Option<&[u8]> {
        // SAFETY: as in `memory_data`.
        self.inst.memory(index).map(|p| unsafe { (*p).data() })
    }

    /// Multi-memory: copies bytes of memory `mem` at `offset` into `buf`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory (size 0: no such memory).
    pub fn read_at(&self, mem: u32, offset: u64, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data_at(mem).unwrap_or(&[]);
        buf.copy_from_slice(&data[range(offset, buf.len(), data.len())?]);
        Ok(())
    }

    /// Multi-memory: copies `bytes` into memory `mem` at `offset`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is outside the memory (size 0: no such memory).
    pub fn write_at(
        &mut self,
        mem: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let data = match self.inst.memory(mem) {
            // SAFETY: as in `memory_data_mut`, exclusive through `&mut self`.
            Some(p) => unsafe { (*p).data_mut() },
            None => &mut [],
        };
        let r = range(offset, bytes.len(), data.len())?;
        data[r].copy_from_slice(bytes);
        Ok(())
    }

    /// Sets the user data host functions reach through [`Caller::data`].
    pub fn set_data<T: Any>(&mut self, data: T) {
        *self.shared.data.borrow_mut() = Some(Box::new(data));
    }

    /// The user data, if it is a `T`.
    pub fn data<T: Any>(&self) -> Option<&T> {
        // SAFETY: `&self` excludes running wasm, so no host call borrows the slot now, and
        // none starts while the returned reference (borrowing `self`) lives.
        unsafe { (*self.shared.data.as_ptr()).as_ref()?.downcast_ref() }
    }

    /// The user data, writable, if it is a `T`.
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.shared.data.get_mut().as_mut()?.downcast_mut()
    }
}
