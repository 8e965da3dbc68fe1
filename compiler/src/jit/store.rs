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
use runtime_loader::instance::Instance;
use runtime_loader::meta;
use runtime_loader::trap::{self, TrapContext};

use super::{JitError, JitTier, OptLevel};
use crate::clif::{ModuleInfo, wasm_val_type};
use crate::interp::InterpInstance;
use crate::interp::exec::{Counters, TierHook};
use crate::parse;
use crate::runtime::{Config, Mode};
use crate::tier::{Counters as TierCounters, Thresholds, TierManager};

/// Per-store JIT state (present in the JIT modes only).
pub struct JitStore {
    // Field order is drop order: code (which embeds the trap context's address) first.
    pure: Option<JitTier>,
    manager: Option<TierManager>,
    trap_ctx: Box<TrapContext>,
    instances: Vec<InstanceJit>,
    /// Interpreter samples seen by the tier hook.
    samples: u64,
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
            .field("instances", &self.instances.len())
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
    }
}

impl JitStore {
    /// The JIT state for `config`, or `None` when the mode does not use the JIT.
    ///
    /// # Errors
    ///
    /// [`JitError::Isa`] if the host is not supported.
    pub fn new(config: &Config) -> Result<Option<JitStore>, JitError> {
        let mut trap_ctx = Box::new(TrapContext::default());
        let ctx: *mut TrapContext = &mut *trap_ctx;
        let (mut pure, mut manager) = match config.mode {
            Mode::JitNone => (Some(JitTier::new(OptLevel::None, ctx)?), None),
            Mode::JitSpeed => (Some(JitTier::new(OptLevel::Speed, ctx)?), None),
            Mode::Tiered => {
                let verbose = config.tier_log;
                (
                    None,
                    Some({
                        let mut m = TierManager::new(thresholds(config), ctx, verbose);
                        m.set_count_top_tier(config.profiling);
                        m
                    }),
                )
            }
            Mode::Interp | Mode::Snapshot | Mode::SnapshotXip => return Ok(None),
        };
        if let Some(t) = &mut pure {
            t.set_memory_mode(config.memory)?;
        }
        if let Some(m) = &mut manager {
            m.set_memory_mode(config.memory);
        }
        Ok(Some(JitStore {
            pure,
            manager,
            trap_ctx,
            instances: Vec::new(),
            samples: 0,
        }))
    }

    /// The store's trap context.
    pub fn trap_ctx(&mut self) -> *mut TrapContext {
        &mut *self.trap_ctx
    }

    /// Forgets the function recorded by the last compiled-code trap (call before entering).
    pub fn clear_trap_site(&mut self) {
        self.trap_ctx.last_func = core::ptr::null();
    }

    /// Names the compiled function that raised `trap`, if compiled code raised it and the
    /// trap carries no location yet.
    pub fn attribute_trap(&mut self, trap: &mut crate::runtime::Trap) {
        let f = core::mem::replace(&mut self.trap_ctx.last_func, core::ptr::null());
        if trap.func.is_some() || f.is_null() {
            return;
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
        }
    }

    /// The tier manager (tiered mode), e.g. to read its tier-up log.
    pub fn manager(&self) -> Option<&TierManager> {
        self.manager.as_ref()
    }

    fn stub_tier(&mut self) -> Result<&mut JitTier, JitError> {
        match (&mut self.pure, &mut self.manager) {
            (Some(t), _) => Ok(t),
            (None, Some(m)) => m.jit(OptLevel::None),
            (None, None) => Err(JitError::Isa("no JIT tier in this store".into())),
        }
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
        let stub = self.stub_tier()?.native_stub(&wasm_func_type(ty))?;
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
        let info = ModuleInfo::from_meta(meta);
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
            let compiled = tier.compile_functions(&info, &bodies, true)?;
            for (d, c) in compiled.iter().enumerate() {
                let fr = inst
                    .defined_func_ref(d as u32)
                    .expect("one FuncRef per defined function");
                // SAFETY: `fr` is a live FuncRef of `inst`; no code of it runs yet.
                unsafe {
                    (*fr).native = c.native;
                    (*fr).array = c.array;
                }
            }
        } else {
            let manager = self.manager.as_mut().expect("tiered mode has a manager");
            let tier = manager.jit(OptLevel::None)?;
            for d in 0..n {
                let ty = info
                    .func_type(meta.num_imported_funcs + d)
                    .expect("defined function has a type");
                let stub = tier.native_stub(ty)?;
                let fr = inst
                    .defined_func_ref(d)
                    .expect("one FuncRef per defined function");
                // SAFETY: `fr` is a live FuncRef of `inst`; no code of it runs yet.
                unsafe {
                    (*fr).native = stub;
                    (*fr).array = crate::interp::exec::array_entry as *const u8;
                }
            }
        }
        self.instances.push(InstanceJit {
            info,
            module: module.clone(),
            vmctx_instance: inst,
            interp,
        });
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

    /// Tiered mode: the interpreter's hook, run at profile sample points with the counters
    /// of the function running then. `None` in the other modes.
    pub fn tier_hook(&mut self) -> Option<TierHook> {
        self.manager.as_ref()?;
        Some(TierHook {
            f: tier_hook_entry,
            data: (self as *mut JitStore).cast(),
        })
    }

    /// Applies the policy to the function whose counters live at `counters`, if any.
    fn tier_up_counters(&mut self, counters: *const Counters) {
        self.samples += 1;
        if self.samples.is_multiple_of(FULL_SCAN_SAMPLES) {
            let _ = self.tier_up();
            return;
        }
        for key in 0..self.instances.len() {
            // SAFETY: as in `tier_up`.
            let all = unsafe { &(*self.instances[key].interp).counters };
            let base = all.as_ptr() as usize;
            let addr = counters as usize;
            let size = core::mem::size_of::<Counters>().max(1);
            if addr >= base && addr < base + all.len() * size {
                // A failure leaves the function interpreted; it is not retried.
                let _ = self.check_one(key, (addr - base) / size);
                return;
            }
        }
    }

    /// Applies the tier policy to defined function `d` of instance `key`.
    fn check_one(&mut self, key: usize, d: usize) -> Result<(), JitError> {
        let Some(manager) = &mut self.manager else {
            return Ok(());
        };
        let ij = &self.instances[key];
        // SAFETY: as in `tier_up`.
        let (inst, interp) = unsafe { (&*ij.vmctx_instance, &*ij.interp) };
        let Some(c) = interp.counters.get(d) else {
            return Ok(());
        };
        let counters = TierCounters {
            calls: c.calls.get(),
            back_edges: c.back_edges.get(),
        };
        let func = ij.module.meta.num_imported_funcs + d as u32;
        if !manager.wants_tier_up(key, func, counters) {
            return Ok(());
        }
        let Some(body) = ij.module.body_reader(d) else {
            return Ok(());
        };
        let fr = inst
            .defined_func_ref(d as u32)
            .expect("one FuncRef per defined function");
        let cells = Some((c.calls.as_ptr() as usize, c.back_edges.as_ptr() as usize));
        // SAFETY: `fr` belongs to a live instance of this store; swapping entries between
        // calls is the tiering contract; the counter cells live as long as the instance.
        unsafe { manager.observe(key, &ij.info, func, &body, counters, fr, cells) }?;
        Ok(())
    }
}

/// [`TierHook`] callback: `data` is the store's [`JitStore`].
///
/// # Safety
/// `data` must be a live `JitStore` not otherwise borrowed, `counters` a live counter set.
unsafe fn tier_hook_entry(data: *mut core::ffi::c_void, counters: *const Counters) {
    // SAFETY: per the caller (the store installs the hook only for the duration of a call,
    // during which it does not touch its JitStore).
    unsafe { (*(data as *mut JitStore)).tier_up_counters(counters) }
}
