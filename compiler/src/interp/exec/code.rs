//! What the dispatch loop runs and counts: lowered module code, per-function profile
//! counters, the interpreter's view of an instance, and its limits.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::super::ops::FuncCode;
use super::sampler::{CALL_PERIOD, TierHook};
use crate::parse;

/// All lowered functions of one module plus arity tables.
#[derive(Debug, Default)]
pub struct ModuleCode {
    /// Lowered bodies, by defined-function index.
    pub funcs: Vec<FuncCode>,
    /// `(params, results)` value slots of every function index (imports included).
    pub func_arity: Vec<(u32, u32)>,
    /// `(params, results)` value slots of every module type.
    pub type_arity: Vec<(u32, u32)>,
    /// Some body uses an exception instruction.
    pub uses_exceptions: bool,
}

/// Per-function profile counters.
#[derive(Debug)]
pub struct Counters {
    /// Calls, except the interpreter's latest ones, which it counts down in `calls_left`
    /// and adds here every 16 calls (read the total with [`Counters::calls`]).
    /// Compiled code that counts calls adds them here directly.
    pub call_base: Cell<u64>,
    /// Loop back-edges taken.
    pub back_edges: Cell<u64>,
    /// Self time in clock ticks (see [`ticks_to_nanos`](super::ticks_to_nanos)).
    pub ticks: Cell<u64>,
    /// Interpreted calls until this function's next call sample (from [`CALL_PERIOD`]
    /// down to 1): one decrement per call both counts it and schedules the sample.
    pub(super) calls_left: Cell<u32>,
    /// Set by the tier hook when this function's interpreted frames may be replaced (it
    /// was compiled, or a sample found it hot for OSR): a frame switch then ends the back-edge batch after one edge, so a
    /// loop whose body calls (and so flushes its batch every iteration) still reaches an
    /// OSR check at its header. Cleared when a replacement is refused.
    pub osr_armed: Cell<bool>,
    /// Back-edges per loop, when a profile was asked for ([`ExecConfig::loops`]): `(wasm
    /// offset, count)`, the offset being the `loop` operator's for a full batch (exact
    /// loop) or that of the op where the frame switched for the edges pending then (a
    /// point inside the loop that took them, mapped to its innermost enclosing loop by
    /// `Store::loop_counters`). See `Sampler::edges`.
    pub loop_edges: RefCell<Vec<(u32, u64)>>,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            call_base: Cell::new(0),
            back_edges: Cell::new(0),
            ticks: Cell::new(0),
            calls_left: Cell::new(CALL_PERIOD),
            osr_armed: Cell::new(false),
            loop_edges: RefCell::new(Vec::new()),
        }
    }
}

impl Counters {
    /// Calls so far (exact).
    #[inline]
    pub fn calls(&self) -> u64 {
        self.call_base.get() + u64::from(CALL_PERIOD - self.calls_left.get())
    }

    /// Adds `n` back-edges at wasm offset `at` to [`Counters::loop_edges`].
    #[cold]
    #[inline]
    pub(super) fn add_loop_edges(&self, at: u32, n: u64) {
        let mut v = self.loop_edges.borrow_mut();
        match v.iter_mut().find(|e| e.0 == at) {
            Some(e) => e.1 = e.1.saturating_add(n),
            None => v.push((at, n)),
        }
    }

    /// Counts one interpreted call; true when it completes a [`CALL_PERIOD`] (the caller
    /// then takes a sample with [`Sampler::call_period`]).
    #[inline(always)]
    pub(super) fn count_call(&self) -> bool {
        let left = self.calls_left.get() - 1;
        self.calls_left.set(left);
        left == 0
    }
}

/// What a wasm `FuncRef::host_data` points at: the interpreter's view of an instance.
#[derive(Debug)]
pub struct InterpInstance {
    /// The parsed module (names for traps).
    pub module: Arc<parse::Module>,
    /// Lowered code.
    pub code: Arc<ModuleCode>,
    /// One counter set per defined function.
    pub counters: Box<[Counters]>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// `code.funcs` and `counters` as raw pointers, for the call path (both live as long
    /// as `self`, and neither is ever resized).
    pub(super) funcs_ptr: *const FuncCode,
    pub(super) counters_ptr: *const Counters,
    /// The owning store's limits, used when compiled code enters the interpreter
    /// ([`array_entry`](super::array_entry)) so that path obeys the same call depth and stack size.
    pub exec: ExecConfig,
    /// The tier hook of interpreters entered from compiled code ([`array_entry`](super::array_entry)), so
    /// functions reached only from compiled code are sampled and can tier up or OSR too
    /// (tiered mode; set by the store's JIT side, valid as long as the store).
    pub tier_hook: Cell<Option<TierHook>>,
    /// The instance's tags, imports first (exception handling; set by the store).
    pub tags: Box<[*const crate::runtime::TagInst]>,
    /// The store's exception heap (set by the store; null: the module throws nothing).
    pub exn: *const crate::runtime::ExnHeap,
}

impl InterpInstance {
    /// Creates the interpreter view of an instance of `module`.
    #[inline]
    pub fn new(
        module: Arc<parse::Module>,
        code: Arc<ModuleCode>,
        exec: ExecConfig,
    ) -> InterpInstance {
        let n = code.funcs.len();
        let counters: Box<[Counters]> = (0..n).map(|_| Counters::default()).collect();
        InterpInstance {
            num_imported_funcs: module.meta.num_imported_funcs,
            funcs_ptr: code.funcs.as_ptr(),
            counters_ptr: counters.as_ptr(),
            module,
            code,
            counters,
            exec,
            tier_hook: Cell::new(None),
            tags: Box::default(),
            exn: std::ptr::null(),
        }
    }
}

/// Limits and switches of one interpreter.
#[derive(Clone, Copy, Debug)]
pub struct ExecConfig {
    /// Maximum frame depth.
    pub max_depth: usize,
    /// Maximum value-stack slots.
    pub max_slots: usize,
    /// Collect counters.
    pub profiling: bool,
    /// Also count back-edges per loop ([`Counters::loop_edges`]; a profile was asked for,
    /// not only tiering). Needs `profiling`.
    pub loops: bool,
    /// Fuel checks (`interp/fuel.rs`): interpreters made for a call from compiled code
    /// ([`array_entry`](super::array_entry)) charge the store's trap context (the callee's `vmctx.trap_ctx`).
    pub fuel: bool,
    /// Interrupt checks, likewise.
    pub interrupt: bool,
}
