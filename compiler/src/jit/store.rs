//! The JIT side of a [`Store`](crate::runtime::Store): what the runtime calls at store
//! creation, instantiation, host-function creation and call time in the JIT modes.
//!
//! * `jit-none` / `jit-speed`: every defined function is compiled at instantiation (one batch
//!   per instance, direct calls inside the batch), its `FuncRef::native` and `array` set.
//! * `tiered`: defined functions start interpreted, with `FuncRef::native` = the
//!   native→array stub of their signature and `FuncRef::array` = the interpreter's array entry,
//!   so compiled callers reach them; [`JitStore::tier_up`] applies the tier policy to the
//!   interpreter's counters and swaps in compiled code.
//! * In every JIT mode host functions get the native→array stub as `native`, every instance's
//!   vmctx gets the store's [`TrapContext`] and the `RAISE_TRAP` libcall.
//!
//! Array entries of compiled functions enter through `trap::enter` themselves, so the runtime
//! and the interpreter call them like any `ArrayFn` and get a trap status back.

use runtime_loader::abi::{FuncRef, libcall};
use runtime_loader::format::MemoryMode;
use runtime_loader::instance::GUARD_MEMORY_SUPPORTED;
use runtime_loader::instance::Instance;
use runtime_loader::meta;
use runtime_loader::trap::{self, TrapContext, TrapFrames};

use super::{JitError, JitTier, OptLevel};
use crate::clif::{ModuleInfo, wasm_val_type};
use crate::interp::InterpInstance;
use crate::interp::exec::{Counters, TierHook};
use crate::interp::ops::FuncCode;
use crate::parse;
use crate::runtime::{Config, Mode};
use crate::tier::{Counters as TierCounters, Thresholds, TierManager};

/// Per-store JIT state (present in the JIT modes only).
pub struct JitStore {
    // Field order is drop order: code (which embeds the trap context's address) first.
    pure: Option<JitTier>,
    /// Tiered mode. Boxed: compiled baseline code calls [`compiled_tier_hook`] with its
    /// address, which must not change when the store moves.
    tiering: Option<Box<Tiering>>,
    trap_ctx: Box<TrapContext>,
    /// Where the raise path records the frame-pointer chain (`trap_ctx.frames`).
    _frames: Box<TrapFrames>,
}

/// The tiered-mode state: the tier manager and what it needs to know about every instance.
struct Tiering {
    manager: TierManager,
    instances: Vec<InstanceJit>,
    /// Interpreter samples seen by the tier hook.
    samples: u64,
    /// Whether the `none` tier exists and every interpreted function has its native→array
    /// stub as `FuncRef::native`. Until the first tier-up nothing is compiled, so nothing
    /// calls `native`: a short run pays no JIT set-up at all.
    stubs_ready: bool,
    /// Host functions created before the stubs (their `native` is set with the stubs).
    pending_hosts: Vec<(*mut FuncRef, wasmparser::FuncType)>,
    /// Back-edges between two interpreter batch samples (OSR checks): the back-edge
    /// threshold, at most the interpreter's default batch.
    edge_batch: u32,
}

/// Every this many interpreter samples, the tier hook scans every function: functions
/// running compiled at `none` are never sampled by the interpreter but keep counting.
const FULL_SCAN_SAMPLES: u64 = 256;

/// What tiering needs to know about one instance.
struct InstanceJit {
    info: ModuleInfo,
    module: std::sync::Arc<parse::Module>,
    vmctx_instance: *const Instance,
    interp: *const InterpInstance,
}

impl core::fmt::Debug for JitStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JitStore")
            .field("pure", &self.pure)
            .field(
                "instances",
                &self.tiering.as_ref().map(|t| t.instances.len()),
            )
            .finish_non_exhaustive()
    }
}

fn wasm_func_type(t: &meta::FuncType) -> wasmparser::FuncType {
    wasmparser::FuncType::new(
        t.params.iter().map(|v| wasm_val_type(*v)),
        t.results.iter().map(|v| wasm_val_type(*v)),
    )
}

/// The tier thresholds of a store configuration: compile at `none` after `tier_up.calls`
/// calls (or `tier_up.back_edges` back-edges), at `speed` after ten times as many.
pub fn thresholds(config: &Config) -> Thresholds {
    let calls = config.tier_up.calls.max(1);
    Thresholds {
        to_none: calls,
        to_speed: calls.saturating_mul(10),
        back_edge_weight: (config.tier_up.back_edges / calls).max(1),
        osr_edge_factor: crate::tier::policy::OSR_EDGE_FACTOR,
    }
}

impl JitStore {
    /// The JIT state for `config`, or `None` when the mode does not use the JIT.
    ///
    /// # Errors
    ///
    /// [`JitError::Isa`] if the host is not supported.
    pub fn new(config: &Config) -> Result<Option<JitStore>, JitError> {
        let mut trap_ctx = Box::new(TrapContext::new(config.wasm_stack_budget()));
        let mut frames = Box::new(TrapFrames::EMPTY);
        super::frames::install(&mut trap_ctx, &mut frames);
        trap_ctx.exn_fns = crate::runtime::exn::compiled::table();
        let ctx: *mut TrapContext = &mut *trap_ctx;
        let (mut pure, tiering) = match config.mode {
            Mode::JitNone => (Some(JitTier::new(OptLevel::None, ctx)?), None),
            Mode::JitSpeed => (Some(JitTier::new(OptLevel::Speed, ctx)?), None),
            Mode::Tiered => {
                if config.memory == MemoryMode::Guard && !GUARD_MEMORY_SUPPORTED {
                    return Err(JitError::Isa(
                        "guard-page memory needs Linux on x86-64".to_string(),
                    ));
                }
                let mut m = TierManager::new(thresholds(config), ctx, config.tier_log);
                m.set_count_top_tier(config.profiling);
                m.set_memory_mode(config.memory);
                m.set_bounds(config.bounds());
                let mut t = Box::new(Tiering {
                    manager: m,
                    instances: Vec::new(),
                    samples: 0,
                    stubs_ready: false,
                    pending_hosts: Vec::new(),
                    edge_batch: u32::try_from(config.tier_up.back_edges.max(1)).unwrap_or(u32::MAX),
                });
                let data: *mut Tiering = &mut *t;
                t.manager
                    .set_tier_hook(compiled_tier_hook as *const u8, data as *const u8);
                (None, Some(t))
            }
            Mode::Interp | Mode::Snapshot | Mode::SnapshotXip => return Ok(None),
        };
        if let Some(t) = &mut pure {
            t.set_memory_mode(config.memory)?;
            t.set_bounds(config.bounds());
        }
        Ok(Some(JitStore {
            pure,
            tiering,
            trap_ctx,
            _frames: frames,
        }))
    }

    /// The store's trap context.
    pub fn trap_ctx(&mut self) -> *mut TrapContext {
        &mut *self.trap_ctx
    }

    /// Forgets the function recorded by the last compiled-code trap (call before entering).
    pub fn clear_trap_site(&mut self) {
        clear_trap_site(&mut self.trap_ctx);
    }

    /// Names the compiled function that raised `trap`, if compiled code raised it and the
    /// trap carries no location yet.
    pub fn attribute_trap(&mut self, trap: &mut crate::runtime::Trap) {
        attribute_trap(&mut self.trap_ctx, trap);
    }

    /// The tier manager (tiered mode), e.g. to read its tier-up log.
    pub fn manager(&self) -> Option<&TierManager> {
        self.tiering.as_ref().map(|t| &t.manager)
    }

    /// Gives a host function its native entry (the native→array stub of its signature).
    ///
    /// # Errors
    ///
    /// A [`JitError`] if the stub cannot be compiled.
    ///
    /// # Safety
    ///
    /// `func_ref` must be a live host `FuncRef` of this store with signature `ty`.
    pub unsafe fn install_host_func(
        &mut self,
        func_ref: *mut FuncRef,
        ty: &meta::FuncType,
    ) -> Result<(), JitError> {
        let ty = wasm_func_type(ty);
        let tier = match (&mut self.pure, &mut self.tiering) {
            (Some(t), _) => t,
            (None, Some(t)) if !t.stubs_ready => {
                // No compiled code exists yet: the stub is installed with the first tier-up.
                t.pending_hosts.push((func_ref, ty));
                return Ok(());
            }
            (None, Some(t)) => t.manager.jit(OptLevel::None)?,
            (None, None) => return Err(JitError::Isa("no JIT tier in this store".into())),
        };
        let stub = tier.native_stub(&ty)?;
        // SAFETY: per the caller, `func_ref` is live.
        unsafe { (*func_ref).native = stub };
        Ok(())
    }

    /// Prepares a new instance for compiled code: trap context, `RAISE_TRAP`, and (pure JIT
    /// modes) compiled code for every defined function, or (tiered) stubs and interpreter
    /// entries. Call it after the instance is created and before any of its code runs
    /// (segment initialization included, since `initialize` only copies FuncRef pointers).
    ///
    /// # Errors
    ///
    /// A [`JitError`] if a function cannot be compiled (the instance must not be used then).
    ///
    /// # Safety
    ///
    /// `inst` must be a live instance of `module` owned by this store, `interp` its
    /// interpreter view (the `host_data` of its FuncRefs); both must outlive the store's use
    /// of them (until the store drops).
    pub unsafe fn install_instance(
        &mut self,
        inst: &Instance,
        module: &std::sync::Arc<parse::Module>,
        interp: *const InterpInstance,
    ) -> Result<(), JitError> {
        let ctx: *mut TrapContext = &mut *self.trap_ctx;
        // SAFETY: the vmctx and libcall table are live allocations owned by `inst`.
        unsafe {
            (*inst.vmctx()).trap_ctx = ctx.cast();
            *inst.libcalls_mut().add(libcall::RAISE_TRAP) = trap::raise_trap_address();
        }
        let meta = &module.meta;
        // SAFETY: per the caller, `interp` is live.
        let exceptions = !module.tags.is_empty() || unsafe { (&*interp).code.uses_exceptions };
        let info = ModuleInfo::from_module(module, exceptions);
        let n = meta.num_defined_funcs();
        if let Some(tier) = &mut self.pure {
            let mut bodies = Vec::with_capacity(n as usize);
            for d in 0..n {
                let body = module.body_reader(d as usize).ok_or(JitError::Translate {
                    func: meta.num_imported_funcs + d,
                    error: crate::clif::TranslateError::Invalid("missing function body"),
                })?;
                bodies.push((meta.num_imported_funcs + d, body));
            }
            let func_refs: Vec<*const FuncRef> = (0..n)
                .map(|d| {
                    inst.defined_func_ref(d)
                        .expect("one FuncRef per defined function")
                        .cast_const()
                })
                .collect();
            let compiled = tier.compile_functions_with(&info, &bodies, true, &[], &func_refs)?;
            for (d, c) in compiled.iter().enumerate() {
                let fr = inst
                    .defined_func_ref(d as u32)
                    .expect("one FuncRef per defined function");
                // SAFETY: `fr` is a live FuncRef of `inst`; no code of it runs yet.
                unsafe {
                    (*fr).native = c.native;
                    (*fr).array = c.array;
                    if exceptions {
                        (*fr).reserved |= runtime_loader::abi::FUNC_REF_FLAG_EXN;
                    }
                }
            }
            return Ok(());
        }
        let tiering = self
            .tiering
            .as_mut()
            .expect("tiered mode has a tier manager");
        for d in 0..n {
            let fr = inst
                .defined_func_ref(d)
                .expect("one FuncRef per defined function");
            // SAFETY: `fr` is a live FuncRef of `inst`; no code of it runs yet.
            unsafe { (*fr).array = crate::interp::exec::array_entry as *const u8 };
        }
        tiering.instances.push(InstanceJit {
            info,
            module: module.clone(),
            vmctx_instance: inst,
            interp,
        });
        let key = tiering.instances.len() - 1;
        tiering.manager.set_module(key, module.clone());
        let hook = tiering.hook();
        // SAFETY: per the caller, `interp` is live; the hook's data is the boxed tiering
        // state, which lives as long as the store.
        unsafe { (*interp).tier_hook.set(Some(hook)) };
        if tiering.stubs_ready {
            tiering.install_stubs(key)?;
        }
        Ok(())
    }

    /// Tiered mode: applies the tier policy to every interpreted or compiled function of
    /// every instance and compiles the ones that crossed a threshold. Compilation failures
    /// leave the function where it is (the first error is returned after the scan).
    ///
    /// # Errors
    ///
    /// The first [`JitError`] met.
    pub fn tier_up(&mut self) -> Result<(), JitError> {
        match &mut self.tiering {
            Some(t) => t.tier_up(),
            None => Ok(()),
        }
    }

    /// Tiered mode: the interpreter's hook, run at profile sample points with the counters
    /// of the function running then. `None` in the other modes.
    pub fn tier_hook(&mut self) -> Option<TierHook> {
        let t = self.tiering.as_mut()?;
        Some(t.hook())
    }
}

impl Tiering {
    /// The interpreter's hook (sampling and OSR) for this tiering state.
    fn hook(&mut self) -> TierHook {
        TierHook {
            f: tier_hook_entry,
            data: (self as *mut Tiering).cast(),
            osr: Some(osr_hook_entry),
            edge_batch: self.edge_batch,
        }
    }

    /// Instance key and defined-function index of the function whose counters live at
    /// `counters`.
    fn locate(&self, counters: *const Counters) -> Option<(usize, usize)> {
        for key in 0..self.instances.len() {
            // SAFETY: as in `tier_up`.
            let all = unsafe { &(*self.instances[key].interp).counters };
            let base = all.as_ptr() as usize;
            let addr = counters as usize;
            let size = core::mem::size_of::<Counters>().max(1);
            if addr >= base && addr < base + all.len() * size {
                return Some((key, (addr - base) / size));
            }
        }
        None
    }

    /// The OSR entry for the interpreted frame of the function with `counters` at op
    /// `target` (a loop header a back-edge just reached), compiling it if needed; null to
    /// keep interpreting. A frame moves once its function is hot by the tier policy (it was
    /// compiled, or would be now), straight into `speed` code: see
    /// docs/ARCHITECTURE.md, "On-stack replacement". Operand values of enclosing blocks
    /// under the loop travel in the frame (between the locals and the loop's parameters);
    /// functions whose compilation failed stay interpreted.
    fn osr_entry(&mut self, counters: *const Counters, code: &FuncCode, target: u32) -> *const u8 {
        let Some((key, d)) = self.locate(counters) else {
            return core::ptr::null();
        };
        let func = self.instances[key].module.meta.num_imported_funcs + d as u32;
        // SAFETY: as in `tier_up`.
        let c = unsafe { &(*self.instances[key].interp).counters[d] };
        // Exception handling runs in the interpreter only (docs/ABI.md "Exceptions").
        if code.uses_exceptions {
            c.osr_armed.set(false);
            return core::ptr::null();
        }
        let hot = self.manager.tier_of(key, func) > crate::tier::Tier::Interp
            || self.manager.wants_osr(
                key,
                func,
                TierCounters {
                    calls: c.calls(),
                    back_edges: c.back_edges.get(),
                },
            );
        if !hot {
            return core::ptr::null();
        }
        let Some(lp) = code.loop_at(target) else {
            c.osr_armed.set(false);
            return core::ptr::null();
        };
        if lp.height < code.num_locals || code.max_height < code.num_results {
            c.osr_armed.set(false);
            return core::ptr::null();
        }
        let offset = lp.offset;
        let below = lp.height - code.num_locals;
        if let Some(entry) = self.manager.osr_cached(key, func, offset) {
            if entry.is_null() {
                c.osr_armed.set(false);
            }
            return entry;
        }
        // Compiled code calls interpreted functions through their native→array stubs.
        if self.ensure_stubs().is_err() {
            c.osr_armed.set(false);
            return core::ptr::null();
        }
        let ij = &self.instances[key];
        // SAFETY: as in `tier_up`.
        let (inst, interp) = unsafe { (&*ij.vmctx_instance, &*ij.interp) };
        let Some(body) = ij.module.body_reader(d) else {
            return core::ptr::null();
        };
        let fr = inst
            .defined_func_ref(d as u32)
            .expect("one FuncRef per defined function");
        let c = &interp.counters[d];
        let cells = Some((
            c.call_base.as_ptr() as usize,
            c.back_edges.as_ptr() as usize,
        ));
        // SAFETY: `fr` belongs to a live instance of this store; the counter cells live as
        // long as the instance.
        let entry = unsafe {
            self.manager
                .osr(key, &ij.info, func, &body, offset, below, fr, cells)
        };
        if entry.is_null() {
            c.osr_armed.set(false);
        }
        entry
    }

    /// Creates the `none` tier and gives every interpreted function (and host function) its
    /// native→array stub, once, before the first compilation.
    fn ensure_stubs(&mut self) -> Result<(), JitError> {
        if self.stubs_ready {
            return Ok(());
        }
        for key in 0..self.instances.len() {
            self.install_stubs(key)?;
        }
        let tier = self.manager.jit(OptLevel::None)?;
        for (fr, ty) in std::mem::take(&mut self.pending_hosts) {
            let stub = tier.native_stub(&ty)?;
            // SAFETY: host FuncRefs live as long as the store (`install_host_func`).
            unsafe { (*fr).native = stub };
        }
        self.stubs_ready = true;
        Ok(())
    }

    /// Sets `FuncRef::native` of instance `key`'s functions that have no code yet to the
    /// native→array stub of their signature.
    fn install_stubs(&mut self, key: usize) -> Result<(), JitError> {
        let tier = self.manager.jit(OptLevel::None)?;
        let ij = &self.instances[key];
        // SAFETY: instances live as long as the store (`install_instance`'s contract).
        let inst = unsafe { &*ij.vmctx_instance };
        let meta = &ij.module.meta;
        for d in 0..meta.num_defined_funcs() {
            let ty = ij
                .info
                .func_type(meta.num_imported_funcs + d)
                .expect("defined function has a type");
            let fr = inst
                .defined_func_ref(d)
                .expect("one FuncRef per defined function");
            // SAFETY: `fr` is a live FuncRef of a live instance; only functions without
            // code (still interpreted) get the stub.
            unsafe {
                if (*fr).native.is_null() {
                    (*fr).native = tier.native_stub(ty)?;
                }
            }
        }
        Ok(())
    }

    /// Tiered mode: applies the tier policy to every interpreted or compiled function of
    /// every instance and compiles the ones that crossed a threshold. Compilation failures
    /// leave the function where it is (the first error is returned after the scan).
    ///
    /// # Errors
    ///
    /// The first [`JitError`] met.
    fn tier_up(&mut self) -> Result<(), JitError> {
        let mut first_err = None;
        for key in 0..self.instances.len() {
            // SAFETY: instances and their interpreter views live as long as the store
            // (`install_instance`'s contract).
            let interp: &InterpInstance = unsafe { &*self.instances[key].interp };
            let n = interp.counters.len();
            for d in 0..n {
                if let Err(e) = self.check_one(key, d) {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Applies the policy to the function whose counters live at `counters`, if any.
    fn tier_up_counters(&mut self, counters: *const Counters) {
        self.samples += 1;
        if self.samples.is_multiple_of(FULL_SCAN_SAMPLES) {
            let _ = self.tier_up();
            return;
        }
        if let Some((key, d)) = self.locate(counters) {
            // A failure leaves the function interpreted; it is not retried.
            let _ = self.check_one(key, d);
        }
    }

    /// Applies the tier policy to defined function `d` of instance `key`.
    fn check_one(&mut self, key: usize, d: usize) -> Result<(), JitError> {
        let ij = &self.instances[key];
        // SAFETY: as in `tier_up`.
        let (inst, interp) = unsafe { (&*ij.vmctx_instance, &*ij.interp) };
        let Some(c) = interp.counters.get(d) else {
            return Ok(());
        };
        let counters = TierCounters {
            calls: c.calls(),
            back_edges: c.back_edges.get(),
        };
        let func = ij.module.meta.num_imported_funcs + d as u32;
        // Hot enough for on-stack replacement but not compiled: arm the OSR check, so a
        // loop whose body calls (which ends its back-edge batch every iteration) reaches it.
        if self.manager.tier_of(key, func) == crate::tier::Tier::Interp
            && self.manager.wants_osr(key, func, counters)
        {
            c.osr_armed.set(true);
        }
        if !self.manager.wants_tier_up(key, func, counters) {
            return Ok(());
        }
        self.ensure_stubs()?;
        let ij = &self.instances[key];
        let Some(body) = ij.module.body_reader(d) else {
            return Ok(());
        };
        let fr = inst
            .defined_func_ref(d as u32)
            .expect("one FuncRef per defined function");
        let cells = Some((
            c.call_base.as_ptr() as usize,
            c.back_edges.as_ptr() as usize,
        ));
        // SAFETY: `fr` belongs to a live instance of this store; swapping entries between
        // calls is the tiering contract; the counter cells live as long as the instance.
        let moved = unsafe {
            self.manager
                .observe(key, &ij.info, func, &body, counters, fr, cells)
        }?;
        if moved.is_some() {
            // Its running interpreted frames may now be replaced at a loop header.
            c.osr_armed.set(true);
        }
        Ok(())
    }
}

/// [`TierHook`] callback: `data` is the store's [`Tiering`].
///
/// # Safety
/// `data` must be a live `Tiering` not otherwise borrowed, `counters` a live counter set.
unsafe fn tier_hook_entry(data: *mut core::ffi::c_void, counters: *const Counters) {
    // SAFETY: per the caller (the store installs the hook only for the duration of a call,
    // during which it does not touch its JitStore).
    unsafe { (*(data as *mut Tiering)).tier_up_counters(counters) }
}

/// [`TierHook::osr`] callback: `data` is the store's [`Tiering`].
///
/// # Safety
/// As for [`tier_hook_entry`]; `code` is the running function's live code.
unsafe fn osr_hook_entry(
    data: *mut core::ffi::c_void,
    counters: *const Counters,
    code: *const FuncCode,
    _vmctx: *mut runtime_loader::abi::VMContext,
    target: u32,
) -> *const u8 {
    // SAFETY: per the caller.
    unsafe { (*(data as *mut Tiering)).osr_entry(counters, &*code, target) }
}

/// The tier hook of compiled baseline code (`extern "C"`): called every
/// [`crate::tier::HOOK_PERIOD`] calls of a function running at `none`, with the address of
/// its call counter, so a function that is only ever called from compiled code still moves
/// on to `speed`.
///
/// # Safety
/// `data` must be the live boxed [`Tiering`] of the store whose compiled code calls this
/// (it is baked into that code, which the `Tiering` owns), not otherwise borrowed;
/// `calls` the function's call counter.
unsafe extern "C" fn compiled_tier_hook(data: *mut Tiering, calls: *const u64) {
    // SAFETY: per the caller: compiled code runs only inside a store call, during which the
    // store does not touch its tiering state; the counter lies inside a `Counters` entry.
    unsafe { (*data).tier_up_counters(calls.cast()) }
}

/// Forgets the function recorded in `ctx` by the last compiled-code trap (call before
/// entering wasm).
pub(crate) fn clear_trap_site(ctx: &mut TrapContext) {
    ctx.last_func = core::ptr::null();
    ctx.last_offset = 0;
    super::frames::clear(ctx);
}

/// Names the compiled function that raised `trap` from the site recorded in `ctx` (JIT and
/// snapshot code both record it: `record_trap_site`, or the guard-page handler from the trap
/// records), if compiled code raised it and the trap carries no location yet.
pub(crate) fn attribute_trap(ctx: &mut TrapContext, trap: &mut crate::runtime::Trap) {
    let f = core::mem::replace(&mut ctx.last_func, core::ptr::null());
    let offset = core::mem::replace(&mut ctx.last_offset, 0);
    let chain = super::frames::backtrace(ctx);
    if trap.func.is_some() || f.is_null() {
        return;
    }
    if trap.offset.is_none() && offset != 0 {
        trap.offset = Some(offset);
    }
    // SAFETY: compiled code records its own live wasm FuncRef, whose `host_data` is the
    // instance's interpreter view (set by the runtime for every wasm function).
    unsafe {
        let index = (*f).func_index;
        trap.func = Some(index);
        let data = (*f).host_data as *const InterpInstance;
        if !data.is_null() {
            trap.func_name = (*data).module.func_name(index).map(str::to_string);
        }
        // Compiled code: the frame-pointer chain the raise path recorded (`frames`),
        // starting at the trapping function (a guard-page fault raises from the signal
        // handler, whose chain starts at the caller: the recorded function comes first).
        if trap.backtrace.is_empty() {
            trap.backtrace.push(crate::runtime::BacktraceFrame {
                func: index,
                func_name: trap.func_name.clone(),
            });
            let skip = usize::from(chain.first().is_some_and(|c| c.0 == index));
            for &(i, fr) in &chain[skip..] {
                let name = if fr.is_null() {
                    None
                } else {
                    let data = (*fr).host_data as *const InterpInstance;
                    (!data.is_null())
                        .then(|| (*data).module.func_name(i).map(str::to_string))
                        .flatten()
                };
                trap.backtrace.push(crate::runtime::BacktraceFrame {
                    func: i,
                    func_name: name,
                });
            }
        }
    }
}
