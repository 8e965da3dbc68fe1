//! Profile samples and self-time estimation, the tier hook, and the on-stack-replacement
//! entry and trap paths the dispatch loop calls out to.
//!
//! Code placement: the cold paths `Interp::run` calls are `#[cold] #[inline]`, not
//! `#[inline(never)]`, so rustc emits a copy of each in `run`'s codegen unit, as when they
//! lived in the same file (LLVM then sees their bodies, keeps most out of line and
//! allocates `run`'s registers better: 1-3% fewer instructions, README "Benchmarks");
//! `call_period`, `compiled_call_begin` and `osr_enter`, which LLVM would inline into the
//! call paths, stay `#[inline(never)]`.

use std::cell::Cell;

use runtime_loader::TrapCode;
use runtime_loader::abi::{ArrayFn, FuncRef, VMContext};

use super::super::ops::{FuncCode, Op};
use super::code::{Counters, InterpInstance};
use crate::runtime::Trap;

/// A monotonic tick counter (the TSC on x86-64).
#[inline]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` has no preconditions on x86-64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
        EPOCH
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
    }
}

/// Most slots [`Interp::run`](super::Interp::run) leaves unused before frame 0 (half a page of padding at
/// most plus rounding; see there).
pub(super) const STACK_PAD_MAX: usize = 4096 / 8;

/// Hook events (calls out of the interpreter, pending back-edges at frame switches)
/// between two samples (tier hook). Calls into interpreted functions are sampled per
/// callee instead ([`CALL_PERIOD`]); returns are not events: a return only adds the
/// returning frame's pending back-edges (none in a function without loops).
pub(super) const SAMPLE_PERIOD: u32 = 16;

/// Interpreted calls of one function between two samples of it (tier hook, clock): the
/// hook sees every function called often, whoever calls it. See [`Counters::calls`].
pub(super) const CALL_PERIOD: u32 = 16;

/// Samples between two clock reads: `rdtsc` costs ~45 cycles here, which read every 16
/// calls alone cost a call-heavy program 5%.
pub(super) const CLOCK_PERIOD: u32 = 8;

/// Loop back-edges counted in a register before they are added to the function's
/// counter and a profile sample is taken (clock read, tier hook). Pending edges are also
/// flushed at every call, return, trap and exit, so the counters are exact whenever the
/// interpreter leaves the frame; only a hook that runs inside a loop may see up to
/// `EDGE_BATCH - 1` fewer edges than were taken.
pub(super) const EDGE_BATCH: u32 = 128;

/// Profile samples and self-time estimation. A sample is taken every [`CALL_PERIOD`]
/// interpreted calls of a function (charged to that callee), every [`EDGE_BATCH`]
/// back-edges (to the looping function) and every [`SAMPLE_PERIOD`] other hook events;
/// each runs the tier hook. Reading the clock at every frame switch costs more than a
/// small call, so the clock is read every [`CLOCK_PERIOD`] samples and the elapsed time
/// is charged to the function sampled then. Totals are exact (every tick is charged to
/// someone); the split between functions is a statistical estimate weighted by samples,
/// which is good enough to rank hot functions. Call and back-edge counts are exact.
///
/// Cost with profiling on (cachegrind, warm call): the loop ops run the same instructions
/// as with profiling off (see `back_edges!`), a call to an interpreted function adds about
/// six (flush check, one decrement, spills) and a return from a function without loops
/// none ([`Op::ReturnNoLoop`](super::super::ops::Op::ReturnNoLoop)).
pub(super) struct Sampler {
    pub(super) last: u64,
    /// Hook events until the next sample.
    pub(super) countdown: u32,
    /// Samples until the next clock read.
    pub(super) clock_left: u32,
    pub(super) hook: Option<TierHook>,
    /// Counters are collected (the back-edge countdown runs either way).
    pub(super) profiling: bool,
    /// Back-edges are also counted per loop ([`ExecConfig::loops`](super::ExecConfig::loops)).
    pub(super) loops: bool,
    /// Back-edges per batch (`EDGE_BATCH`, or fewer when the tier hook asks for
    /// earlier on-stack replacement checks, see [`TierHook::edge_batch`]).
    pub(super) batch: u32,
    /// Length of the running countdown: `batch`, or 1 after a frame switch of a function
    /// with [`Counters::osr_armed`]. Pending edges are `armed - edges_left`.
    pub(super) armed: u32,
    /// With fuel or interrupt checks (`interp/fuel.rs`): the countdown fires at every edge
    /// (`batch` and `armed` are 1) and `sub_left` counts down the profile's batch of
    /// `sub_batch` edges instead; pending edges are `sub_batch - sub_left`.
    pub(super) bounds: Option<super::super::fuel::Bounds>,
    pub(super) sub_batch: u32,
    pub(super) sub_left: u32,
}

/// A callback run at every profile sample point with the counters of the function running
/// then (tiered mode: the tier manager checks whether that function should be compiled).
/// The interpreter keeps running the current frame; a swapped `FuncRef` is picked up at the
/// next call.
#[derive(Clone, Copy, Debug)]
pub struct TierHook {
    /// The callback: `f(data, counters)`.
    pub f: unsafe fn(*mut std::ffi::c_void, *const Counters),
    /// Its context.
    pub data: *mut std::ffi::c_void,
    /// On-stack replacement: called after the sample of every full batch of back-edges,
    /// with the running function's counters and code, its instance's vmctx and the op index
    /// the back-edge jumped to; returns an OSR entry for that loop (null: keep
    /// interpreting). See [`OsrFn`] and docs/ABI.md, "On-stack replacement".
    pub osr: Option<OsrHook>,
    /// Back-edges between two batch samples (clamped to `1..=``EDGE_BATCH`): 1 makes
    /// every back-edge a sample and an OSR check.
    pub edge_batch: u32,
}

/// The OSR callback of a [`TierHook`]: `(data, counters, code, vmctx, target op index)`.
pub type OsrHook = unsafe fn(
    *mut std::ffi::c_void,
    *const Counters,
    *const FuncCode,
    *mut VMContext,
    u32,
) -> *const u8;

/// An OSR entry (docs/ABI.md, "On-stack replacement"): an [`ArrayFn`] whose `values`
/// argument is the interpreted frame itself (locals, then the loop's parameters); it
/// finishes the call and writes the function's results to `values[0..results]`.
pub type OsrFn = ArrayFn;

/// Ops the dispatch loop runs after an OSR entry returned: the frame's results are in its
/// first slots and `sp` is just above them, so a plain return completes the call.
pub(super) static OSR_RETURN: [Op; 1] = [Op::Return];

/// Status of [`Sampler::edge_batch`]: no OSR happened.
pub(super) const NO_OSR: u32 = u32::MAX;

impl Sampler {
    #[inline]
    pub(super) fn new(
        profiling: bool,
        loops: bool,
        hook: Option<TierHook>,
        bounds: Option<super::super::fuel::Bounds>,
    ) -> Sampler {
        let batch = hook.map_or(EDGE_BATCH, |h| h.edge_batch.clamp(1, EDGE_BATCH));
        let mut s = Sampler::new_unbounded(profiling, loops, hook);
        if bounds.is_some() {
            s.bounds = bounds;
            s.sub_batch = batch;
            s.sub_left = batch;
            s.batch = 1;
            s.armed = 1;
        }
        s
    }

    #[inline]
    pub(super) fn new_unbounded(profiling: bool, loops: bool, hook: Option<TierHook>) -> Sampler {
        Sampler {
            last: if profiling { ticks() } else { 0 },
            countdown: SAMPLE_PERIOD,
            clock_left: CLOCK_PERIOD,
            hook,
            profiling,
            loops: profiling && loops,
            batch: hook.map_or(EDGE_BATCH, |h| h.edge_batch.clamp(1, EDGE_BATCH)),
            armed: hook.map_or(EDGE_BATCH, |h| h.edge_batch.clamp(1, EDGE_BATCH)),
            bounds: None,
            sub_batch: 0,
            sub_left: 0,
        }
    }

    /// With checks: a back-edge's check; `Ok(true)` when it completes the profile's batch
    /// (then `armed` holds the batch's length for [`Sampler::edge_batch`]).
    ///
    /// # Safety
    /// The bounds' trap context must be live.
    #[cold]
    #[inline]
    pub(super) unsafe fn bound_edge(&mut self) -> Result<bool, TrapCode> {
        let Some(b) = self.bounds else {
            return Ok(true);
        };
        // SAFETY: per the caller.
        unsafe { b.check()? };
        self.sub_left -= 1;
        if self.sub_left == 0 {
            self.armed = self.sub_batch;
            self.sub_left = self.sub_batch;
            return Ok(true);
        }
        Ok(false)
    }

    /// Back-edges taken since the last batch or flush that the countdown has not counted.
    #[inline]
    pub(super) fn pending(&self, edges_left: u32) -> u32 {
        match self.bounds {
            Some(_) => self.sub_batch - self.sub_left,
            None => self.armed - edges_left,
        }
    }

    #[inline(always)]
    pub(super) fn event(&mut self, c: &Counters) {
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = SAMPLE_PERIOD;
            self.sample(c);
        }
    }

    /// The call that completed a [`CALL_PERIOD`] of `c`'s function: moves the period into
    /// its base count and takes a sample of it.
    #[cold]
    #[inline(never)]
    pub(super) fn call_period(&mut self, c: &Counters) {
        c.call_base.set(c.call_base.get() + u64::from(CALL_PERIOD));
        c.calls_left.set(CALL_PERIOD);
        self.sample(c);
    }

    /// A full batch of back-edges of the running function: counts them, asks the tier
    /// hook for an OSR entry of the loop at op `target` and, if there is one, runs the rest
    /// of the call in it ([`osr_enter`]); otherwise takes a sample (a batch is longer than
    /// a sample period of events). Returns [`NO_OSR`], or the OSR entry's status
    /// (0: the results are in `fp[0..results]`; else a trap code).
    ///
    /// # Safety
    /// `counters`, `code` and `vmctx` describe the running frame, whose slots start at
    /// `fp` and whose control position is `target`, the op a back-edge just jumped to.
    #[cold]
    #[inline]
    pub(super) unsafe fn edge_batch(
        &mut self,
        counters: *const Counters,
        code: &FuncCode,
        vmctx: *mut VMContext,
        target: u32,
        fp: *mut u64,
    ) -> u32 {
        if !self.profiling {
            self.armed = self.batch;
            return NO_OSR;
        }
        // SAFETY: counters of a live instance.
        let c = unsafe { &*counters };
        let n = std::mem::replace(&mut self.armed, self.batch);
        c.back_edges.set(c.back_edges.get() + u64::from(n));
        // A full batch ends at a back-edge of this loop: its edges are charged to it (the
        // batch may have started in a sibling loop; at most `batch - 1` edges move).
        if self.loops
            && let Some(off) = code.loop_at(target).map(|l| l.offset)
        {
            c.add_loop_edges(off, u64::from(n));
        }
        self.countdown = SAMPLE_PERIOD;
        // OSR first: a frame that moves to compiled code needs no call-driven compile of
        // its function now (a function called once would pay for it in vain).
        let entry = match self.hook {
            // SAFETY: per `Interp::tier_hook`'s contract; the rest per the caller.
            Some(TierHook {
                osr: Some(osr),
                data,
                ..
            }) => unsafe { osr(data, counters, code, vmctx, target) },
            _ => std::ptr::null(),
        };
        if entry.is_null() {
            self.sample(c);
            return NO_OSR;
        }
        // The frame leaves the interpreter: nothing is pending when it returns.
        self.armed = self.batch;
        // The time since the last clock read, which the OSR entry dominates, is charged to
        // this function when the entry returns (inclusive of the compiled code it calls,
        // less what interpreters entered from it charged to their own functions), not to
        // whichever function the interpreter samples next.
        // The back-edges the compiled rest of the call counts (when a profile was asked
        // for) go to the function's total only: compiled code does not tell loops apart.
        let mark = CHARGED.get();
        // SAFETY: per the caller; `entry` is an OSR entry of this loop (the hook's contract).
        let status = unsafe { osr_enter(entry, vmctx, code.func_index, fp) };
        self.charge(c, mark);
        self.clock_left = CLOCK_PERIOD;
        status
    }

    /// Adds `n` pending back-edges (fewer than a batch) to the running function's counter
    /// at a frame switch and returns the new countdown ([`EDGE_BATCH`]; returned from here
    /// so the caller's hot path has no store of its own). They count as hook events too,
    /// so a loop whose body is a call keeps the sampling rate of one edge, one event, and
    /// the sample that they complete goes to the looping function (the tier hook must see
    /// it often enough).
    /// `code` and `pc` (an op index of it) locate the frame switch: the edges are charged
    /// to the loop that encloses it when a per-loop profile is on (the loop whose body
    /// calls; edges of a sibling loop left since the last flush go there too).
    #[cold]
    #[inline]
    pub(super) fn edges(&mut self, c: &Counters, n: u32, code: &FuncCode, pc: usize) -> u32 {
        c.back_edges.set(c.back_edges.get() + u64::from(n));
        if self.loops
            && let Some(&off) = code
                .offsets
                .get(pc.min(code.offsets.len().saturating_sub(1)))
        {
            c.add_loop_edges(off, u64::from(n));
        }
        if n >= self.countdown {
            self.countdown = SAMPLE_PERIOD;
            self.sample(c);
        } else {
            self.countdown -= n;
        }
        self.armed = if c.osr_armed.get() { 1 } else { self.batch };
        if self.bounds.is_some() {
            self.sub_left = if c.osr_armed.get() { 1 } else { self.sub_batch };
            self.armed = 1;
        }
        self.armed
    }

    #[cold]
    #[inline]
    pub(super) fn sample(&mut self, c: &Counters) {
        self.clock_left -= 1;
        if self.clock_left == 0 {
            self.clock_left = CLOCK_PERIOD;
            self.flush(c);
        }
        if let Some(h) = self.hook {
            // SAFETY: whoever installed the hook keeps `data` valid while this interpreter
            // runs (see `Interp::tier_hook`).
            unsafe { (h.f)(h.data, c) };
        }
    }

    #[inline]
    pub(super) fn flush(&mut self, c: &Counters) {
        self.charge(c, CHARGED.get());
    }

    /// Charges the ticks since the last clock read to `c`, less those that nested
    /// interpreters (entered from compiled code this frame called) charged since
    /// [`CHARGED`] was `mark`.
    #[inline]
    pub(super) fn charge(&mut self, c: &Counters, mark: u64) {
        let now = ticks();
        let nested = CHARGED.get().wrapping_sub(mark);
        let d = now.wrapping_sub(self.last).saturating_sub(nested);
        c.ticks.set(c.ticks.get() + d);
        CHARGED.set(CHARGED.get().wrapping_add(d));
        self.last = now;
    }

    /// Profiling: the running function (counters `c`) calls compiled code. Charges the
    /// time so far to it and returns the mark for [`Sampler::compiled_call_end`].
    #[cold]
    #[inline(never)]
    pub(super) fn compiled_call_begin(&mut self, c: &Counters) -> u64 {
        self.flush(c);
        CHARGED.get()
    }

    /// Profiling: a call into compiled wasm function `f` returned. Its time (inclusive of
    /// the compiled code it called, less what interpreters entered from it charged to their
    /// own functions) is charged to `f`'s own counters, not to the next function sampled.
    ///
    /// # Safety
    /// `f` must be a live compiled wasm `FuncRef` of a tiered instance.
    #[cold]
    #[inline]
    pub(super) unsafe fn compiled_call_end(&mut self, f: *const FuncRef, mark: u64) {
        // SAFETY: per the caller, `host_data` of a tiered wasm FuncRef is its instance's
        // interpreter view, which lives as long as the store.
        let callee = unsafe {
            let data = (*f).host_data as *const InterpInstance;
            if data.is_null() {
                None
            } else {
                let data: &InterpInstance = &*data;
                let d = (*f).func_index.checked_sub(data.num_imported_funcs);
                d.and_then(|d| data.counters.get(d as usize))
            }
        };
        // Not an instance we count: the time stays with the next function charged.
        if let Some(k) = callee {
            self.charge(k, mark);
        }
    }
}

thread_local! {
    /// Ticks charged to any function on this thread so far: a charge that spans nested
    /// interpreters (an OSR entry, a call into compiled code) subtracts what they charged
    /// in between, so no tick is charged twice.
    static CHARGED: Cell<u64> = const { Cell::new(0) };
}

/// Runs the rest of a call in an OSR entry: `fp` is the frame (locals, then the loop's
/// parameters), which receives the results. Returns 0 or the trap code. The trap context's
/// last trap site is cleared first, so a trap that compiled code located can be told from
/// one it did not.
///
/// # Safety
/// `entry` must be an OSR entry of function `func` of the instance of `vmctx` for the loop
/// the frame at `fp` is at, and the frame must have room for the results.
#[cold]
#[inline(never)]
pub(super) unsafe fn osr_enter(
    entry: *const u8,
    vmctx: *mut VMContext,
    func: u32,
    fp: *mut u64,
) -> u32 {
    // SAFETY: per the caller; tiered instances have the store's trap context, and
    // `vmctx.funcs[func]` is the function's live FuncRef.
    unsafe {
        let ctx = (*vmctx).trap_ctx as *mut runtime_loader::trap::TrapContext;
        (*ctx).last_func = std::ptr::null();
        (*ctx).last_offset = 0;
        let callee = *(*vmctx).funcs.add(func as usize);
        runtime_loader::trap::enter(ctx, entry, vmctx, callee, fp)
    }
}

/// The trap of an OSR entry of function `func`: located where compiled code recorded it
/// (the trapping compiled function and its wasm offset), else in `func` with no offset (a
/// trap raised by a host function or a nested interpreter called from the OSR'd code).
///
/// # Safety
/// `vmctx` must be live with the store's trap context; `data` the live interpreter view of
/// its instance.
#[cold]
pub(super) unsafe fn osr_trap(
    code: TrapCode,
    vmctx: *mut VMContext,
    data: *const InterpInstance,
    func: u32,
) -> Trap {
    // SAFETY: per the caller; a recorded `last_func` is a live compiled wasm FuncRef whose
    // `host_data` is its instance's interpreter view.
    unsafe {
        let ctx = (*vmctx).trap_ctx as *mut runtime_loader::trap::TrapContext;
        let f = std::mem::replace(&mut (*ctx).last_func, std::ptr::null());
        let offset = std::mem::replace(&mut (*ctx).last_offset, 0);
        let (func, offset, data) = if f.is_null() || (*f).host_data.is_null() {
            (func, None, data)
        } else {
            let d = (*f).host_data as *const InterpInstance;
            ((*f).func_index, (offset != 0).then_some(offset), d)
        };
        Trap {
            code,
            func: Some(func),
            offset,
            func_name: (*data).module.func_name(func).map(str::to_string),
            message: None,
            backtrace: Vec::new(),
            exception: None,
        }
    }
}

/// Converts ticks to nanoseconds given a calibration: `ref_ticks` ticks took `ref_nanos`.
#[inline]
pub fn ticks_to_nanos(t: u64, ref_ticks: u64, ref_nanos: u64) -> u64 {
    if ref_ticks == 0 {
        return 0;
    }
    ((t as u128 * ref_nanos as u128) / ref_ticks as u128) as u64
}
