//! The tier manager: compiles hot functions and swaps their `FuncRef` entries.
//!
//! It owns one [`JitTier`] per optimization level (created on first use, because a
//! `JITModule` cannot redefine a function), remembers each function's current tier, and logs
//! every tier-up ([`TierUpEvent`]: function, tier, when, compile time, code size).
//!
//! Swapping is two stores: `FuncRef::native` (what compiled callers load at every call) and
//! `FuncRef::array` (what the host and the interpreter call). Both point at code of the same
//! function, so a caller that loads one before the swap and the other after is still right.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_loader::abi::FuncRef;
use runtime_loader::format::MemoryMode;
use runtime_loader::trap::TrapContext;
use wasmparser::FunctionBody;

use super::policy::{self, Counters, Thresholds, Tier};
use crate::clif::ModuleInfo;
use crate::jit::{CompiledFunc, JitError, JitTier, OptLevel};
use crate::parse;

/// One tier-up, as logged by the manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierUpEvent {
    /// Host-chosen instance key.
    pub instance: usize,
    /// Function index inside the instance's module.
    pub func: u32,
    /// The tier the function moved to.
    pub tier: Tier,
    /// When, relative to the manager's creation.
    pub at: Duration,
    /// Translation + code generation time.
    pub compile_time: Duration,
    /// Machine code size in bytes.
    pub code_size: usize,
}

/// One on-stack replacement entry compiled by the manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsrEvent {
    /// Host-chosen instance key.
    pub instance: usize,
    /// Function index inside the instance's module.
    pub func: u32,
    /// Module offset of the loop's `loop` operator.
    pub loop_offset: u32,
    /// The tier of the entry's code.
    pub tier: Tier,
    /// When, relative to the manager's creation.
    pub at: Duration,
    /// Translation + code generation time.
    pub compile_time: Duration,
    /// Machine code size in bytes.
    pub code_size: usize,
}

/// Compiles functions at the tier the policy asks for and swaps their entries.
#[derive(Debug)]
pub struct TierManager {
    thresholds: Thresholds,
    trap_ctx: *mut TrapContext,
    // Boxed: a `JitTier` is large (Cranelift contexts), and most stores never create one.
    none: Option<Box<JitTier>>,
    speed: Option<Box<JitTier>>,
    tiers: HashMap<(usize, u32), Tier>,
    failed: HashMap<(usize, u32), Tier>,
    events: Vec<TierUpEvent>,
    start: Instant,
    verbose: bool,
    memory_mode: MemoryMode,
    bounds: crate::clif::Bounds,
    count_top_tier: bool,
    tier_hook: Option<(*const u8, *const u8)>,
    /// OSR entries by `(instance, func, loop offset)`; null: compiling it failed.
    osr: HashMap<(usize, u32, u32), *const u8>,
    osr_events: Vec<OsrEvent>,
    /// Modules by instance key (function names for the log).
    modules: HashMap<usize, Arc<parse::Module>>,
}

/// The tier OSR entries are compiled at: one step, straight to the top tier (see
/// docs/ARCHITECTURE.md, "On-stack replacement").
pub const OSR_TIER: Tier = Tier::JitSpeed;

impl TierManager {
    /// A manager with the given thresholds; with `verbose`, every tier-up is also printed to
    /// stderr.
    /// `trap_ctx` is the store's trap context (see [`JitTier::new`]).
    pub fn new(thresholds: Thresholds, trap_ctx: *mut TrapContext, verbose: bool) -> TierManager {
        TierManager {
            thresholds,
            trap_ctx,
            none: None,
            speed: None,
            tiers: HashMap::new(),
            failed: HashMap::new(),
            events: Vec::new(),
            start: Instant::now(),
            verbose,
            memory_mode: MemoryMode::Checked,
            bounds: crate::clif::Bounds::default(),
            count_top_tier: false,
            tier_hook: None,
            osr: HashMap::new(),
            osr_events: Vec::new(),
            modules: HashMap::new(),
        }
    }

    /// Registers the module of instance `instance` (function names in the tier log).
    pub fn set_module(&mut self, instance: usize, module: Arc<parse::Module>) {
        self.modules.insert(instance, module);
    }

    /// `function 3 (name)`, or `function 3` without a name.
    fn func_label(&self, instance: usize, func: u32) -> String {
        match self.modules.get(&instance).and_then(|m| m.func_name(func)) {
            Some(n) => format!("function {func} ({n})"),
            None => format!("function {func}"),
        }
    }

    /// Every OSR entry compiled so far, in order.
    pub fn osr_events(&self) -> &[OsrEvent] {
        &self.osr_events
    }

    /// The OSR entry of a loop if it was asked for before: `Some(null)` if compiling it
    /// failed (not retried), `None` if it was never compiled.
    pub fn osr_cached(&self, instance: usize, func: u32, loop_offset: u32) -> Option<*const u8> {
        self.osr.get(&(instance, func, loop_offset)).copied()
    }

    /// The OSR entry of function `func` for the `loop` at module offset `loop_offset`, whose
    /// frame holds `below` operand values of enclosing blocks between the locals and the
    /// loop's parameters, compiled at [`OSR_TIER`] on first use and cached; null if it cannot be compiled
    /// (the frame keeps interpreting; not retried).
    ///
    /// # Safety
    ///
    /// As for [`TierManager::observe`].
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn osr(
        &mut self,
        instance: usize,
        info: &ModuleInfo,
        func: u32,
        body: &FunctionBody<'_>,
        loop_offset: u32,
        below: u32,
        func_ref: *mut FuncRef,
        counter_cells: Option<(usize, usize)>,
    ) -> *const u8 {
        if let Some(e) = self.osr_cached(instance, func, loop_offset) {
            return e;
        }
        let cells = if self.count_top_tier {
            counter_cells
        } else {
            None
        };
        let verbose = self.verbose;
        let result = self.jit(OptLevel::Speed).and_then(|t| {
            t.compile_osr(
                info,
                func,
                body,
                loop_offset,
                below,
                cells,
                func_ref.cast_const(),
            )
        });
        let entry = match result {
            Ok(c) => {
                let event = OsrEvent {
                    instance,
                    func,
                    loop_offset,
                    tier: OSR_TIER,
                    at: self.start.elapsed(),
                    compile_time: c.compile_time,
                    code_size: c.code_size,
                };
                if verbose {
                    eprintln!(
                        "osr: instance {} {} loop at 0x{:x} -> {} at {:?} (compile {:?}, {} bytes)",
                        instance,
                        self.func_label(instance, func),
                        loop_offset,
                        OSR_TIER.name(),
                        event.at,
                        event.compile_time,
                        event.code_size
                    );
                }
                self.osr_events.push(event);
                c.entry
            }
            Err(e) => {
                if verbose {
                    eprintln!(
                        "osr: instance {} {} loop at 0x{:x}: not compiled ({e}); stays interpreted",
                        instance,
                        self.func_label(instance, func),
                        loop_offset
                    );
                }
                core::ptr::null()
            }
        };
        self.osr.insert((instance, func, loop_offset), entry);
        entry
    }

    /// Sets the memory mode of the tiers created from now on (checked by default; call
    /// before the first [`TierManager::jit`]).
    pub fn set_memory_mode(&mut self, mode: MemoryMode) {
        self.memory_mode = mode;
    }

    /// Sets the bounded-execution checks of the tiers created from now on (none by
    /// default; call before the first [`TierManager::jit`]).
    pub fn set_bounds(&mut self, bounds: crate::clif::Bounds) {
        self.bounds = bounds;
    }

    /// Makes code compiled at the top tier keep counting calls and back-edges too (a profile
    /// was asked for: without this, counts would stop when a function reaches `speed`).
    pub fn set_count_top_tier(&mut self, on: bool) {
        self.count_top_tier = on;
    }

    /// Makes code compiled at `none` call `hook(data, calls_cell)` (an `extern "C"`
    /// function) every [`super::HOOK_PERIOD`] calls (call before the first
    /// [`TierManager::jit`]). `data` must outlive the compiled code.
    pub fn set_tier_hook(&mut self, hook: *const u8, data: *const u8) {
        self.tier_hook = Some((hook, data));
    }

    /// The thresholds in use.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// The JIT tier for `opt`, created on first use.
    ///
    /// # Errors
    ///
    /// [`JitError::Isa`] if the host CPU is not supported.
    pub fn jit(&mut self, opt: OptLevel) -> Result<&mut JitTier, JitError> {
        let slot = match opt {
            OptLevel::None => &mut self.none,
            OptLevel::Speed => &mut self.speed,
        };
        if slot.is_none() {
            let mut tier = JitTier::new(opt, self.trap_ctx)?;
            tier.set_memory_mode(self.memory_mode)?;
            tier.set_bounds(self.bounds);
            if opt == OptLevel::None {
                tier.set_tier_hook(self.tier_hook);
            }
            *slot = Some(Box::new(tier));
        }
        Ok(slot.as_mut().expect("just created"))
    }

    /// The current tier of a function.
    pub fn tier_of(&self, instance: usize, func: u32) -> Tier {
        self.tiers
            .get(&(instance, func))
            .copied()
            .unwrap_or(Tier::Interp)
    }

    /// Every tier-up so far, in order.
    pub fn events(&self) -> &[TierUpEvent] {
        &self.events
    }

    /// Whether an interpreted frame of the function should be replaced at a loop header now
    /// ([`policy::wants_osr`]; false if compiling the function failed before).
    pub fn wants_osr(&self, instance: usize, func: u32, counters: Counters) -> bool {
        !self.failed.contains_key(&(instance, func))
            && policy::wants_osr(counters, &self.thresholds)
    }

    /// Whether the policy would move a function with these counters up (cheap; call it
    /// before fetching the body for [`TierManager::observe`]).
    pub fn wants_tier_up(&self, instance: usize, func: u32, counters: Counters) -> bool {
        let current = self.tier_of(instance, func);
        match policy::next_tier(current, counters, &self.thresholds) {
            Some(t) => self.failed.get(&(instance, func)).is_none_or(|f| t < *f),
            None => false,
        }
    }

    /// Applies the policy to a function's counters; compiles and swaps if it should move up.
    /// Returns the new tier, if it changed. A function whose compilation failed stays where
    /// it is and is not retried at that tier.
    ///
    /// # Errors
    ///
    /// The [`JitError`] of a failed compilation.
    ///
    /// # Safety
    ///
    /// `func_ref` must be the live `FuncRef` of function `func` of the instance described by
    /// `info`, and the compiled code must only run while that instance is alive.
    /// `counter_cells`, if given, are the addresses of the function's `(calls, back_edges)`
    /// u64 counters, which code compiled at [`Tier::JitNone`] keeps incrementing; they must
    /// outlive the compiled code.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn observe(
        &mut self,
        instance: usize,
        info: &ModuleInfo,
        func: u32,
        body: &FunctionBody<'_>,
        counters: Counters,
        func_ref: *mut FuncRef,
        counter_cells: Option<(usize, usize)>,
    ) -> Result<Option<Tier>, JitError> {
        if !self.wants_tier_up(instance, func, counters) {
            return Ok(None);
        }
        let current = self.tier_of(instance, func);
        let target = policy::target_tier(current, counters, &self.thresholds);
        // SAFETY: forwarded from the caller's contract.
        match unsafe {
            self.compile_at(target, instance, info, func, body, func_ref, counter_cells)
        } {
            Ok(_) => Ok(Some(target)),
            Err(e) => {
                self.failed.insert((instance, func), target);
                Err(e)
            }
        }
    }

    /// Compiles function `func` at `tier` (not [`Tier::Interp`]) and swaps its entries.
    ///
    /// # Errors
    ///
    /// The [`JitError`] of a failed compilation; the `FuncRef` is unchanged then.
    ///
    /// # Safety
    ///
    /// As for [`TierManager::observe`].
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn compile_at(
        &mut self,
        tier: Tier,
        instance: usize,
        info: &ModuleInfo,
        func: u32,
        body: &FunctionBody<'_>,
        func_ref: *mut FuncRef,
        counter_cells: Option<(usize, usize)>,
    ) -> Result<CompiledFunc, JitError> {
        let opt = match tier {
            Tier::Interp | Tier::JitNone => OptLevel::None,
            Tier::JitSpeed => OptLevel::Speed,
        };
        // Only the baseline tier needs to count to move on; the top tier counts only when a
        // profile was asked for.
        let cells = if opt == OptLevel::None || self.count_top_tier {
            counter_cells
        } else {
            None
        };
        // The top tier is never replaced: its recursive calls can be direct.
        let compiled = self.jit(opt)?.compile_functions_with(
            info,
            &[(func, body.clone())],
            opt == OptLevel::Speed,
            &[cells],
            &[func_ref.cast_const()],
        )?[0];
        // SAFETY: the caller guarantees `func_ref` is live; both entries are valid code for
        // this function's signature.
        unsafe {
            (*func_ref).native = compiled.native;
            (*func_ref).array = compiled.array;
            if info.exceptions {
                (*func_ref).reserved |= runtime_loader::abi::FUNC_REF_FLAG_EXN;
            }
        }
        self.tiers.insert((instance, func), tier);
        let event = TierUpEvent {
            instance,
            func,
            tier,
            at: self.start.elapsed(),
            compile_time: compiled.compile_time,
            code_size: compiled.code_size,
        };
        if self.verbose {
            eprintln!(
                "tier-up: instance {} {} -> {} at {:?} (compile {:?}, {} bytes)",
                instance,
                self.func_label(instance, func),
                tier.name(),
                event.at,
                event.compile_time,
                event.code_size
            );
        }
        self.events.push(event);
        Ok(compiled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;
    use runtime_loader::abi::func_kind;

    #[test]
    fn tiers_up_and_logs() {
        let wasm = wat::parse_str(
            "(module (func (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))",
        )
        .expect("wat");
        let (info, bodies) = ModuleInfo::from_wasm(&wasm).expect("info");
        let r = bodies[0].clone();
        let body = FunctionBody::new(wasmparser::BinaryReader::new(
            &wasm[r.clone()],
            r.start as u64,
        ));
        let mut fr = FuncRef {
            native: core::ptr::null(),
            array: core::ptr::null(),
            vmctx: null_mut(),
            type_id: 0,
            func_index: 0,
            kind: func_kind::WASM,
            reserved: 0,
            host_data: null_mut(),
        };
        let mut ctx = TrapContext::default();
        let mut m = TierManager::new(Thresholds::default(), &mut ctx, false);
        let cold = Counters {
            calls: 3,
            back_edges: 0,
        };
        // SAFETY: `fr` is live for the whole test and no code runs.
        unsafe {
            assert_eq!(
                m.observe(7, &info, 0, &body, cold, &mut fr, None).unwrap(),
                None
            );
            assert!(fr.native.is_null());
            let warm = Counters {
                calls: 100,
                back_edges: 0,
            };
            assert_eq!(
                m.observe(7, &info, 0, &body, warm, &mut fr, None).unwrap(),
                Some(Tier::JitNone)
            );
            let first = fr.native;
            assert!(!first.is_null() && !fr.array.is_null());
            assert_eq!(
                m.observe(7, &info, 0, &body, warm, &mut fr, None).unwrap(),
                None
            );
            let hot = Counters {
                calls: 5_000,
                back_edges: 0,
            };
            assert_eq!(
                m.observe(7, &info, 0, &body, hot, &mut fr, None).unwrap(),
                Some(Tier::JitSpeed)
            );
            assert_ne!(fr.native, first);
        }
        let tiers: Vec<Tier> = m.events().iter().map(|e| e.tier).collect();
        assert_eq!(tiers, [Tier::JitNone, Tier::JitSpeed]);
        assert_eq!(m.tier_of(7, 0), Tier::JitSpeed);
        assert!(m.events().iter().all(|e| e.func == 0 && e.code_size > 0));
    }
}
