//! The dispatch loop.
//!
//! One value stack of 8-byte slots and one explicit frame stack per [`Interp`]: wasm calls
//! never recurse on the host stack. A frame's slots are `[base, base + max_height)`: its
//! locals (parameters first), then its operand stack. A call pops the arguments, which
//! become the callee's first locals in place; a return copies the results down to the
//! callee's base, where the caller expects them.
//!
//! Calls go through the callee's `FuncRef`: a host function, or a wasm function with a
//! native entry (compiled code), is called through its array-ABI entry (`FuncRef::array`);
//! any other wasm function is interpreted, its code found through `FuncRef::host_data`
//! (an [`InterpInstance`]) and `FuncRef::func_index`.
//!
//! Profiling is done at frame switches and loop back-edges only, when enabled: call and
//! back-edge counts, and self time from the time-stamp counter.

use runtime_loader::TrapCode;
use runtime_loader::abi::{ArrayFn, FuncRef, VMContext, func_kind};
use runtime_loader::instance::Instance;

use super::num;
use super::ops::{Bin, FBin, FuncCode, Load, Op, Store};

use crate::runtime::Trap;

mod code;
mod sampler;
pub use code::*;
pub use sampler::*;

#[derive(Clone, Copy)]
struct Frame {
    code: *const FuncCode,
    data: *const InterpInstance,
    vmctx: *mut VMContext,
    counters: *const Counters,
    /// Where the caller resumes (the op after its call; unused for the entry frame).
    ret: *const Op,
    base: usize,
}

/// The wasm functions of `frames` (this invocation's frame stack, the current frame last),
/// innermost first: the trap path's [`Trap::backtrace`].
#[cold]
fn frame_backtrace(frames: &[Frame]) -> Vec<crate::runtime::BacktraceFrame> {
    frames
        .iter()
        .rev()
        .map(|f| {
            // SAFETY: frames hold code and interpreter views of live instances.
            let (code, data) = unsafe { (&*f.code, &*f.data) };
            crate::runtime::BacktraceFrame {
                func: code.func_index,
                func_name: data.module.func_name(code.func_index).map(str::to_string),
            }
        })
        .collect()
}

/// An interpreter: reusable stacks plus configuration.
#[derive(Debug)]
pub struct Interp {
    stack: Vec<u64>,
    frames: Vec<Frame>,
    /// Configuration.
    pub config: ExecConfig,
    /// Called at profile sample points (tiered mode); its `data` must stay valid during
    /// every `invoke`.
    pub tier_hook: Option<TierHook>,
    /// Fuel and interrupt checks (`interp/fuel.rs`); `None`: none. Its trap context must
    /// stay valid during every `invoke`.
    pub bounds: Option<super::fuel::Bounds>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("ret", &self.ret)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Looks up a function's interpreted code.
///
/// # Safety
/// `f` must be a live wasm `FuncRef` whose `host_data` is a live [`InterpInstance`].
unsafe fn wasm_code(
    f: *const FuncRef,
) -> (*const InterpInstance, *const FuncCode, *const Counters) {
    // SAFETY: per the caller; a wasm FuncRef's `func_index` is a defined function of the
    // instance `host_data` describes, so the index is below `code.funcs.len()`.
    unsafe {
        let data = (*f).host_data as *const InterpInstance;
        let idx = ((*f).func_index - (*data).num_imported_funcs) as usize;
        debug_assert!({
            let d = &*data;
            idx < d.code.funcs.len()
        });
        let code = (*data).funcs_ptr.add(idx);
        let counters = (*data).counters_ptr.add(idx);
        (data, code, counters)
    }
}

/// The callee of an indirect call through entry `i` of table `table`, checked against
/// module type `ty`.
///
/// # Safety
/// `vmctx` must be a live instance's and `ty`, `table` validated indices of it.
#[inline(always)]
unsafe fn table_callee(
    vmctx: *mut VMContext,
    i: u32,
    ty: u32,
    table: u32,
) -> Result<*const FuncRef, TrapCode> {
    // SAFETY: per the caller; the table definition is live.
    let t = unsafe { &**(*vmctx).tables.add(table as usize) };
    if u64::from(i) >= t.len {
        return Err(TrapCode::UndefinedElement);
    }
    // SAFETY: `i < len`.
    let f = unsafe { *t.base.add(i as usize) } as *const FuncRef;
    if f.is_null() {
        return Err(TrapCode::UninitializedElement);
    }
    // SAFETY: validated type index; non-null entries of a funcref table are live FuncRefs.
    let (want, have) = unsafe { (*(*vmctx).type_ids.add(ty as usize), (*f).type_id) };
    if want != have {
        return Err(TrapCode::IndirectCallTypeMismatch);
    }
    Ok(f)
}

/// Where the caller (now the last frame) resumes.
#[inline(always)]
fn caller_ret(frames: &[Frame]) -> *const Op {
    frames.last().map_or(std::ptr::null(), |f| f.ret)
}

/// Whether `f` runs in this interpreter: a wasm function with no array entry, or whose
/// array entry is the interpreter's own ([`array_entry`], tiered mode). Everything else
/// (host functions, compiled code) is called through `FuncRef::array`.
///
/// # Safety
/// `f` must be a live `FuncRef`.
#[inline]
unsafe fn is_interpreted(f: *const FuncRef) -> bool {
    // SAFETY: per the caller.
    let (kind, array) = unsafe { ((*f).kind, (*f).array) };
    kind == func_kind::WASM && (array.is_null() || array == array_entry as *const u8)
}

/// The interpreter's array-ABI entry (`FuncRef::array` of interpreted functions in tiered
/// mode, reached from compiled code through the native→array stub). Runs the function on
/// a fresh interpreter with the owning store's limits and returns 0 or the trap code.
///
/// # Safety
/// `callee` must be a live interpreted wasm `FuncRef` and `values` must hold
/// `max(params, results)` slots of its signature.
pub unsafe extern "C" fn array_entry(
    _vmctx: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: per the caller, `callee` is interpreted, so `host_data` is its InterpInstance.
    let (np, nr, exec, hook) = unsafe {
        let data = &*((*callee).host_data as *const InterpInstance);
        let (np, nr) = data.code.func_arity[(*callee).func_index as usize];
        (np, nr, data.exec, data.tier_hook.get())
    };
    let n = (np as usize).max(nr as usize);
    // SAFETY: per the caller, `values` holds `n` slots.
    let values = unsafe { std::slice::from_raw_parts_mut(values, n) };
    let mut interp = Interp::new(exec);
    interp.tier_hook = hook;
    if exec.fuel || exec.interrupt {
        interp.bounds = Some(super::fuel::Bounds {
            // SAFETY: per the caller; compiled code runs only with the store's trap context.
            ctx: unsafe { (*(*callee).vmctx).trap_ctx.cast() },
            fuel: exec.fuel,
            interrupt: exec.interrupt,
        });
    }
    // SAFETY: per the caller.
    match unsafe { interp.run_interpreted(callee, values, np as usize, nr as usize) } {
        Ok(()) => 0,
        Err(t) => t.code as u32,
    }
}

/// The op a throw continues at ([`Op::ThrowPending`]; see `throw!` in `Interp::run`).
static THROW_PENDING: [Op; 1] = [Op::ThrowPending];

/// Where [`unwind`] found a handler.
enum Unwound {
    /// The last frame (frames above it were dropped) continues at op `.1` with the stack
    /// top `.0` (the catch clause's values pushed).
    Caught(*mut u64, u32),
    /// No frame of this invocation catches it (nothing changed; still pending).
    Uncaught,
    /// A catch by reference found the arena full ([`crate::runtime::MAX_LIVE_EXNREFS`]).
    Full,
}

/// Throws a new exception of tag `tag` (module index) whose payload is the top slots below
/// `sp` (the handler resets the stack top).
///
/// # Safety
/// `data` must be a live instance view and the payload on the stack.
#[cold]
#[inline(never)]
unsafe fn throw_new(data: *const InterpInstance, tag: u32, sp: *mut u64) {
    use crate::runtime::{ExnObj, Pending};
    // SAFETY: per the caller.
    unsafe {
        let d = &*data;
        let t = d.tags[tag as usize];
        let n = (*t).slots as usize;
        let base = sp.sub(n);
        if !d.exn.is_null() {
            let payload = std::slice::from_raw_parts(base, n).into();
            (*d.exn).set_pending(Pending::Owned(Box::new(ExnObj { tag: t, payload })));
        }
    }
}

/// Rethrows exception reference `r` (non-null).
///
/// # Safety
/// `data` must be a live instance view and `r` an object of its store's arena.
#[cold]
#[inline(never)]
unsafe fn throw_shared(data: *const InterpInstance, r: u64) {
    // SAFETY: per the caller.
    unsafe {
        let d = &*data;
        if !d.exn.is_null() {
            (*d.exn).set_pending(crate::runtime::Pending::Shared(
                r as *const crate::runtime::ExnObj,
            ));
        }
    }
}

/// Finds the innermost handler of the pending exception in `frames` (the running frame
/// last, one op past the throw at `ip`; the others one op past their call), by the
/// handler tables of their code (docs/ABI.md, "Exceptions"). On a catch it drops the
/// frames above the catching one and pushes the clause's values at `sptr` + the frame's
/// base + the clause's height.
///
/// # Safety
/// The frames must hold live code and instance views, `ip` point into the running body
/// and `sptr` be the value stack the frames' bases index.
#[cold]
#[inline(never)]
unsafe fn unwind(frames: &mut Vec<Frame>, ip: *const Op, sptr: *mut u64) -> Unwound {
    use super::ops::CatchKind;
    let n = frames.len();
    for j in (0..n).rev() {
        let f = frames[j];
        // SAFETY: per the caller.
        let (code, data) = unsafe { (&*f.code, &*f.data) };
        if data.exn.is_null() {
            return Unwound::Uncaught;
        }
        // SAFETY: the store's exception heap outlives its instances.
        let heap = unsafe { &*data.exn };
        let at = if j == n - 1 { ip } else { f.ret };
        // SAFETY: `at` points one past an op of this body.
        let op_index = (unsafe { at.offset_from(code.ops.as_ptr()) } as usize).saturating_sub(1);
        // A tail call left its frame: its handlers do not apply.
        if matches!(
            code.ops.get(op_index),
            Some(Op::ReturnCall(_) | Op::ReturnCallIndirect { .. } | Op::ReturnCallRef(_))
        ) {
            continue;
        }
        let Some(tag) = heap.pending_tag() else {
            return Unwound::Uncaught;
        };
        let pc = op_index as u32;
        let hit = code
            .handlers
            .iter()
            .filter(|h| h.start <= pc && pc < h.end)
            .flat_map(|h| &code.catches[h.first as usize..(h.first + h.len) as usize])
            .find(|c| match c.kind {
                CatchKind::All | CatchKind::AllRef => true,
                CatchKind::Tag | CatchKind::TagRef => {
                    data.tags.get(c.tag as usize).copied() == Some(tag)
                }
            });
        let Some(c) = hit.copied() else { continue };
        let Some(p) = heap.take_pending() else {
            return Unwound::Uncaught;
        };
        frames.truncate(j + 1);
        // SAFETY: the catch's height plus its values fit the frame's max height (the
        // label's arity was counted by the lowering).
        unsafe {
            let mut sp = sptr.add(f.base + c.height as usize);
            if matches!(c.kind, CatchKind::Tag | CatchKind::TagRef) {
                let payload = &p.obj().payload;
                std::ptr::copy_nonoverlapping(payload.as_ptr(), sp, payload.len());
                sp = sp.add(payload.len());
            }
            if matches!(c.kind, CatchKind::TagRef | CatchKind::AllRef) {
                let Some(r) = heap.expose(p) else {
                    return Unwound::Full;
                };
                *sp = r as u64;
                sp = sp.add(1);
            }
            return Unwound::Caught(sp, c.target);
        }
    }
    Unwound::Uncaught
}

fn trap_status(status: u32) -> TrapCode {
    TrapCode::from_u32(status).unwrap_or(TrapCode::HostError)
}

impl Interp {
    /// A new interpreter.
    pub fn new(config: ExecConfig) -> Interp {
        Interp {
            stack: Vec::new(),
            frames: Vec::new(),
            config,
            tier_hook: None,
            bounds: None,
        }
    }

    /// Calls `callee` with the array ABI: `values[..nparams]` are the arguments, results
    /// are written to `values[..nresults]`.
    ///
    /// # Safety
    /// `callee` must be a live `FuncRef` of this store (wasm functions interpreted through
    /// an [`InterpInstance`]), and `values` must hold `max(nparams, nresults)` slots of the
    /// right types for its signature.
    pub unsafe fn invoke(
        &mut self,
        callee: *const FuncRef,
        values: &mut [u64],
        nparams: usize,
        nresults: usize,
    ) -> Result<(), Trap> {
        // SAFETY: per the caller.
        unsafe {
            if !is_interpreted(callee) {
                let arr: ArrayFn = std::mem::transmute((*callee).array);
                let status = arr((*callee).vmctx, callee, values.as_mut_ptr());
                return if status == 0 {
                    Ok(())
                } else {
                    Err(Trap::new(trap_status(status)))
                };
            }
            // Take the stacks out so a nested entry (compiled code calling back into the
            // interpreter) gets fresh ones instead of aliasing these.
            let mut stack = std::mem::take(&mut self.stack);
            let mut frames = std::mem::take(&mut self.frames);
            stack.clear();
            frames.clear();
            let r = self.run(&mut stack, &mut frames, callee, values, nparams, nresults);
            self.stack = stack;
            self.frames = frames;
            r
        }
    }

    /// Runs an interpreted function (no array-entry dispatch; see [`array_entry`]).
    ///
    /// # Safety
    /// As for [`Interp::invoke`], and `callee` must be interpreted.
    unsafe fn run_interpreted(
        &mut self,
        callee: *const FuncRef,
        values: &mut [u64],
        nparams: usize,
        nresults: usize,
    ) -> Result<(), Trap> {
        let mut stack = Vec::new();
        let mut frames = Vec::new();
        // SAFETY: per the caller.
        unsafe { self.run(&mut stack, &mut frames, callee, values, nparams, nresults) }
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn run(
        &self,
        stack: &mut Vec<u64>,
        frames: &mut Vec<Frame>,
        callee: *const FuncRef,
        values: &mut [u64],
        nparams: usize,
        nresults: usize,
    ) -> Result<(), Trap> {
        let cfg = self.config;
        let profiling = cfg.profiling;
        // SAFETY: per `invoke`'s contract, `callee` is a live interpreted function.
        let (mut data, code0, mut counters) = unsafe { wasm_code(callee) };
        // SAFETY: as above.
        let mut code: &FuncCode = unsafe { &*code0 };
        let mut vmctx = unsafe { (*callee).vmctx };
        let need = (code.max_height as usize).max(nresults).max(nparams);
        if need > cfg.max_slots {
            return Err(Trap::new(TrapCode::StackOverflow));
        }
        // Frame 0 starts `pad` slots into the vector, chosen so that it lies half a page
        // away from the entry function's code modulo 4 KiB: a load of the next op whose
        // address matches a just-written stack slot in bits 0..12 waits for the store
        // ("4K aliasing"), which made tight loops up to 25% slower depending on where the
        // allocator happened to put the two.
        stack.reserve(need + STACK_PAD_MAX);
        let want = (code.ops.as_ptr() as usize).wrapping_add(2048) & 4095;
        let pad = (want.wrapping_sub(stack.as_ptr() as usize) & 4095) / 8;
        stack.resize(pad + need, 0);
        stack[pad..pad + nparams].copy_from_slice(&values[..nparams]);
        // From here on the stack is accessed through `sptr` only (see `rd!`); it is
        // refreshed whenever the vector reallocates. The padding and the number of slots
        // after it are recomputed from `sptr` where needed (`pad!`, `slen!`) rather than
        // kept in variables: every value live across the dispatch loop competes for the
        // registers that hold `ip`, `sp` and `fp`.
        // SAFETY: `pad <= len`.
        let mut sptr: *mut u64 = unsafe { stack.as_mut_ptr().add(pad) };
        macro_rules! pad {
            () => {
                (sptr as usize - stack.as_ptr() as usize) / 8
            };
        }
        macro_rules! slen {
            () => {
                stack.len() - pad!()
            };
        }
        // Hot state as pointers: the next op, the frame base (local 0), the stack top.
        let mut ops: *const Op = code.ops.as_ptr();
        let mut ip: *const Op = ops;
        let mut fp: *mut u64 = sptr;
        // SAFETY: `num_locals <= max_height <= need = slen!()`.
        let mut sp: *mut u64 = unsafe { sptr.add(code.num_locals as usize) };
        let bounds = self.bounds;
        if let Some(b) = bounds {
            // The entry of the called function (a check point, as in compiled code).
            // SAFETY: the store keeps the trap context alive during `invoke`.
            if let Err(c) = unsafe { b.check() } {
                return Err(Trap::new(c));
            }
        }
        let mut sampler = Sampler::new(profiling, cfg.loops, self.tier_hook, bounds);
        // Back-edges until the next batch.
        let mut edges_left: u32 = sampler.batch;
        // The running frame trapped inside an OSR entry (the trap's location comes from
        // compiled code then, see the end of this function).
        let mut osr_trapped = false;
        if profiling {
            // SAFETY: counters of a live instance.
            let c = unsafe { &*counters };
            if c.count_call() {
                sampler.call_period(c);
            }
        }
        frames.push(Frame {
            code: code0,
            data,
            vmctx,
            counters,
            ret: std::ptr::null(),
            base: 0,
        });

        // Slot access without bounds checks. Invariant: validation plus the lowering's
        // height tracking keep every access inside `[fp, fp + max_height)` of the current
        // frame, which `need`/`resize` made part of the vector (below `sptr + slen!()`).
        // Debug builds (tests, the spec runner) check it.
        macro_rules! in_bounds {
            ($p:expr) => {
                debug_assert!(
                    ($p as usize) >= (sptr as usize)
                        && ($p as usize) < (sptr as usize) + slen!() * 8,
                    "stack access out of bounds"
                )
            };
        }
        macro_rules! top {
            ($k:literal) => {{
                // SAFETY: see the invariant above.
                let p = unsafe { sp.sub($k) };
                in_bounds!(p);
                // SAFETY: see the invariant above.
                unsafe { *p }
            }};
        }
        macro_rules! set_top {
            ($k:literal, $v:expr) => {{
                let v: u64 = $v;
                // SAFETY: see the invariant above.
                let p = unsafe { sp.sub($k) };
                in_bounds!(p);
                // SAFETY: see the invariant above.
                unsafe { *p = v }
            }};
        }
        macro_rules! loc {
            ($i:expr) => {{
                // SAFETY: validated local index, inside the frame.
                let p = unsafe { fp.add($i as usize) };
                in_bounds!(p);
                // SAFETY: see the invariant above.
                unsafe { *p }
            }};
        }
        macro_rules! set_loc {
            ($i:expr, $v:expr) => {{
                let v: u64 = $v;
                // SAFETY: validated local index, inside the frame.
                let p = unsafe { fp.add($i as usize) };
                in_bounds!(p);
                // SAFETY: see the invariant above.
                unsafe { *p = v }
            }};
        }
        macro_rules! pop {
            () => {{
                // SAFETY: see the invariant above.
                sp = unsafe { sp.sub(1) };
                in_bounds!(sp);
                // SAFETY: see the invariant above.
                unsafe { *sp }
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                let v: u64 = $v;
                in_bounds!(sp);
                // SAFETY: see the invariant above.
                unsafe {
                    *sp = v;
                    sp = sp.add(1);
                }
            }};
        }
        macro_rules! un {
            ($f:expr) => {{
                let f = $f;
                set_top!(1, f(top!(1)));
            }};
        }
        macro_rules! i32_bin {
            ($f:expr) => {{
                let f = $f;
                let b = pop!() as u32;
                let a = top!(1) as u32;
                let r: u32 = f(a, b);
                set_top!(1, r as u64);
            }};
        }
        macro_rules! i32_cmp {
            ($f:expr) => {{
                let f = $f;
                let b = pop!() as u32;
                let a = top!(1) as u32;
                let r: bool = f(a, b);
                set_top!(1, r as u64);
            }};
        }
        macro_rules! i64_bin {
            ($f:expr) => {{
                let f = $f;
                let b = pop!();
                let a = top!(1);
                let r: u64 = f(a, b);
                set_top!(1, r);
            }};
        }
        macro_rules! i64_cmp {
            ($f:expr) => {{
                let f = $f;
                let b = pop!();
                let a = top!(1);
                let r: bool = f(a, b);
                set_top!(1, r as u64);
            }};
        }
        macro_rules! f32_bin {
            ($f:expr) => {{
                let f = $f;
                let b = f32::from_bits(pop!() as u32);
                let a = f32::from_bits(top!(1) as u32);
                let r: f32 = f(a, b);
                set_top!(1, r.to_bits() as u64);
            }};
        }
        macro_rules! f32_cmp {
            ($f:expr) => {{
                let f = $f;
                let b = f32::from_bits(pop!() as u32);
                let a = f32::from_bits(top!(1) as u32);
                let r: bool = f(a, b);
                set_top!(1, r as u64);
            }};
        }
        macro_rules! f32_un {
            ($f:expr) => {{
                let f = $f;
                let a = f32::from_bits(top!(1) as u32);
                let r: f32 = f(a);
                set_top!(1, r.to_bits() as u64);
            }};
        }
        macro_rules! f64_bin {
            ($f:expr) => {{
                let f = $f;
                let b = f64::from_bits(pop!());
                let a = f64::from_bits(top!(1));
                let r: f64 = f(a, b);
                set_top!(1, r.to_bits());
            }};
        }
        macro_rules! f64_cmp {
            ($f:expr) => {{
                let f = $f;
                let b = f64::from_bits(pop!());
                let a = f64::from_bits(top!(1));
                let r: bool = f(a, b);
                set_top!(1, r as u64);
            }};
        }
        macro_rules! f64_un {
            ($f:expr) => {{
                let f = $f;
                let a = f64::from_bits(top!(1));
                let r: f64 = f(a);
                set_top!(1, r.to_bits());
            }};
        }
        macro_rules! trap {
            ($c:expr) => {
                break Err($c)
            };
        }
        macro_rules! try_trap {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(c) => trap!(c),
                }
            };
        }
        // Back-edges are counted down in a local (a register in the hot loop) and added to
        // the function's counter per batch, or by `flush_edges!` when the frame changes.
        // The countdown runs whether or not profiling is on (only the batch's cold path
        // checks): a decrement costs what testing the switch would, so the loop ops run
        // the same instructions either way. `$n` is 0 or 1 (fused compare-and-jump ops
        // carry their "is a back-edge" flag; subtracting it needs no branch).
        // Used after the jump (`ip` is the back-edge's target): a batch may end in on-stack
        // replacement, which finishes the call in compiled code and leaves `ip` at a plain
        // return (results at `fp`, `sp` above them).
        macro_rules! back_edges {
            ($n:expr) => {{
                edges_left = edges_left.wrapping_sub($n);
                // With checks (`interp/fuel.rs`) the countdown ends at every edge.
                if edges_left == 0 && bounds.is_some() {
                    edges_left = 1;
                    // SAFETY: the store keeps the trap context alive during `invoke`.
                    match unsafe { sampler.bound_edge() } {
                        Ok(true) => edges_left = 0,
                        Ok(false) => {}
                        Err(c) => trap!(c),
                    }
                }
                if edges_left == 0 {
                    // SAFETY: `ip` points into the current body.
                    let target = unsafe { ip.offset_from(ops) } as u32;
                    // SAFETY: the running frame's counters, code, vmctx and slots.
                    let status = unsafe { sampler.edge_batch(counters, code, vmctx, target, fp) };
                    edges_left = sampler.armed;
                    if status != NO_OSR {
                        if status != 0 {
                            osr_trapped = true;
                            trap!(trap_status(status));
                        }
                        // SAFETY: the results were written to the frame's first slots,
                        // which the frame's max height covers.
                        sp = unsafe { fp.add(code.num_results as usize) };
                        ip = OSR_RETURN.as_ptr();
                    }
                }
            }};
        }
        macro_rules! back_edge {
            () => {
                back_edges!(1)
            };
        }
        // A frame switch (call, return, trap) of the running function `counters`, when
        // profiling: adds its pending back-edges to its counter, so the counts are exact
        // whenever the frame changes (one compare when the function took no back-edge).
        macro_rules! flush_edges {
            () => {{
                if sampler.pending(edges_left) != 0 {
                    // SAFETY: counters of a live instance.
                    edges_left = sampler.edges(
                        unsafe { &*counters },
                        sampler.pending(edges_left),
                        code,
                        // SAFETY: `ip` points into the current body.
                        unsafe { ip.offset_from(ops) } as usize,
                    );
                }
            }};
        }
        macro_rules! branch {
            ($target:expr, $height:expr, $keep:expr) => {{
                let keep = $keep as usize;
                // SAFETY: the target height is inside the frame, the kept values lie below
                // `sp` and above it (see the invariant above).
                unsafe {
                    let dst = fp.add($height as usize);
                    if keep > 0 {
                        std::ptr::copy(sp.sub(keep), dst, keep);
                    }
                    sp = dst.add(keep);
                    ip = ops.add($target as usize);
                }
            }};
        }
        macro_rules! cond_jump {
            ($lp:expr, $t:expr) => {{
                // SAFETY: targets are op indices of the current body.
                ip = unsafe { ops.add($t as usize) };
                back_edges!(u32::from($lp));
            }};
        }
        macro_rules! inst {
            () => {
                // SAFETY: `vmctx` belongs to the live instance running this frame.
                unsafe { Instance::from_vmctx(vmctx) }
            };
        }
        macro_rules! mem_addr {
            ($off:expr, $n:expr) => {{
                let addr = pop!() as u32 as u64 + $off as u64;
                // SAFETY: validation guarantees the module has a memory, so
                // `vmctx.memory` points at a live definition.
                let m = unsafe { &*(*vmctx).memory };
                if addr + $n > m.len {
                    trap!(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `addr + n <= len` was just checked.
                unsafe { m.base.add(addr as usize) }
            }};
        }
        macro_rules! load {
            ($off:expr, $n:literal, $conv:expr) => {{
                let p = mem_addr!($off, $n);
                // SAFETY: `p..p + n` is inside the memory.
                let bytes: [u8; $n] = unsafe { std::ptr::read_unaligned(p as *const [u8; $n]) };
                let conv = $conv;
                let v: u64 = conv(bytes);
                push!(v);
            }};
        }
        macro_rules! store {
            ($off:expr, $n:literal, $conv:expr) => {{
                let v = pop!();
                let p = mem_addr!($off, $n);
                let conv = $conv;
                let bytes: [u8; $n] = conv(v);
                // SAFETY: `p..p + n` is inside the memory.
                unsafe { std::ptr::write_unaligned(p as *mut [u8; $n], bytes) };
            }};
        }
        // Loads kind `$k` (a `Load`) from linear address `$addr`: the slot value.
        macro_rules! load_val {
            ($k:expr, $addr:expr) => {{
                // SAFETY: validation guarantees the module has a memory, so
                // `vmctx.memory` points at a live definition.
                load_val!(@in unsafe { &*(*vmctx).memory }, $k, $addr)
            }};
            (@in $m:expr, $k:expr, $addr:expr) => {{
                let (k, addr): (Load, u64) = ($k, $addr);
                let m: &runtime_loader::abi::MemoryDef = $m;
                if addr + k.width() > m.len {
                    trap!(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `addr + width <= len` was just checked.
                let p = unsafe { m.base.add(addr as usize) };
                // SAFETY: `p..p + width` is inside the memory.
                let v = unsafe {
                    match k {
                        Load::I32 => {
                            u64::from(u32::from_le(std::ptr::read_unaligned(p as *const u32)))
                        }
                        Load::I64 => u64::from_le(std::ptr::read_unaligned(p as *const u64)),
                        Load::I32_8S => *p as i8 as i32 as u32 as u64,
                        Load::I32_8U => u64::from(*p),
                        Load::I32_16S => i16::from_le(std::ptr::read_unaligned(p as *const i16))
                            as i32 as u32 as u64,
                        Load::I32_16U => {
                            u64::from(u16::from_le(std::ptr::read_unaligned(p as *const u16)))
                        }
                        Load::I64_8S => *p as i8 as i64 as u64,
                        Load::I64_16S => {
                            i16::from_le(std::ptr::read_unaligned(p as *const i16)) as i64 as u64
                        }
                        Load::I64_32S => {
                            i32::from_le(std::ptr::read_unaligned(p as *const i32)) as i64 as u64
                        }
                    }
                };
                v
            }};
        }
        // Loads kind `$k` (a `Load`) from linear address `$addr` and pushes it.
        macro_rules! load_k {
            ($k:expr, $addr:expr) => {{
                let v = load_val!($k, $addr);
                push!(v);
            }};
        }
        // Stores the low bytes (width `$k`, a `Store`) of `$v` at linear address `$addr`.
        macro_rules! store_w {
            ($k:expr, $addr:expr, $v:expr) => {{
                // SAFETY: validation guarantees the module has a memory, so
                // `vmctx.memory` points at a live definition.
                store_w!(@in unsafe { &*(*vmctx).memory }, $k, $addr, $v)
            }};
            (@in $m:expr, $k:expr, $addr:expr, $v:expr) => {{
                let (k, addr, v): (Store, u64, u64) = ($k, $addr, $v);
                let m: &runtime_loader::abi::MemoryDef = $m;
                let w = match k {
                    Store::S8 => 1,
                    Store::S16 => 2,
                    Store::S32 => 4,
                    Store::S64 => 8,
                };
                if addr + w > m.len {
                    trap!(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `addr + w <= len` was just checked.
                unsafe {
                    let p = m.base.add(addr as usize);
                    match k {
                        Store::S8 => *p = v as u8,
                        Store::S16 => std::ptr::write_unaligned(p as *mut u16, (v as u16).to_le()),
                        Store::S32 => std::ptr::write_unaligned(p as *mut u32, (v as u32).to_le()),
                        Store::S64 => std::ptr::write_unaligned(p as *mut u64, v.to_le()),
                    }
                }
            }};
        }
        // An exception is pending (`ExnHeap`): the next op is `THROW_PENDING`'s, the one
        // place that finds the handler and reloads the frame state (one such place per
        // throw site cost 9-12% instructions on code that never throws). The throwing op's
        // `ip` waits in the running frame's `ret` slot, unused while it runs.
        macro_rules! throw {
            () => {{
                // SAFETY: a frame is running.
                unsafe { (*frames.as_mut_ptr().add(frames.len() - 1)).ret = ip };
                ip = THROW_PENDING.as_ptr();
            }};
        }
        // Calls `$f` (a `*const FuncRef`) with `$np` arguments on the stack and `$nr` results.
        macro_rules! call {
            ($f:expr, $arity:expr) => {{
                let f: *const FuncRef = $f;
                // SAFETY: `f` comes from this instance's function array or a table of the
                // store; FuncRefs live as long as the store.
                if !unsafe { is_interpreted(f) } {
                    let (np, nr): (u32, u32) = $arity;
                    let (np, nr) = (np as usize, nr as usize);
                    // Compiled wasm code (tiered mode) is timed to its own function.
                    let mut mark = None;
                    if profiling {
                        flush_edges!();
                        // A call out counts as an event of the caller (tiered mode: an
                        // interpreted function that mostly calls compiled code).
                        // SAFETY: counters of a live instance.
                        sampler.event(unsafe { &*counters });
                        // SAFETY: `f` is live.
                        if unsafe { (*f).kind } == func_kind::WASM {
                            // SAFETY: counters of a live instance.
                            mark = Some(sampler.compiled_call_begin(unsafe { &*counters }));
                        }
                    }
                    // SAFETY: the arguments are the top `np` slots.
                    let vbase = unsafe { sp.sub(np) };
                    // SAFETY: `array` is an ArrayFn for host and compiled functions; the
                    // buffer has max(np, nr) slots (the frame's max height covers results).
                    let status = unsafe {
                        let arr: ArrayFn = std::mem::transmute((*f).array);
                        arr((*f).vmctx, f, vbase)
                    };
                    if let Some(m) = mark {
                        // SAFETY: `f` is a live compiled wasm FuncRef.
                        unsafe { sampler.compiled_call_end(f, m) };
                    }
                    if status != 0 {
                        if status != TrapCode::Exception as u32 {
                            trap!(trap_status(status));
                        }
                        throw!();
                    }
                    // SAFETY: the frame's max height covers the results.
                    sp = unsafe { vbase.add(nr) };
                } else {
                    if frames.len() >= cfg.max_depth {
                        trap!(TrapCode::StackOverflow);
                    }
                    if let Some(b) = bounds {
                        // SAFETY: the store keeps the trap context alive during `invoke`.
                        if let Err(c) = unsafe { b.check() } {
                            trap!(c);
                        }
                    }
                    // SAFETY: a wasm FuncRef without native code is interpreted.
                    let (d, c, k) = unsafe { wasm_code(f) };
                    // SAFETY: code of a live instance.
                    let callee_code: &FuncCode = unsafe { &*c };
                    let np = callee_code.num_params as usize;
                    // SAFETY: `sp` points into the vector.
                    let sp_index = unsafe { sp.offset_from(sptr) } as usize;
                    let new_base = sp_index - np;
                    let need = new_base + callee_code.max_height as usize;
                    let pad = pad!();
                    let slen = stack.len() - pad;
                    // Invariant: `slen <= max(cfg.max_slots, first frame's need)`, so only
                    // a growing stack can exceed the limit.
                    if need > slen {
                        if need > cfg.max_slots {
                            trap!(TrapCode::StackOverflow);
                        }
                        stack.resize(pad + need.max(slen * 2).min(cfg.max_slots), 0);
                        // SAFETY: `pad <= len`.
                        sptr = unsafe { stack.as_mut_ptr().add(pad) };
                        // SAFETY: rebase the stack top onto the new allocation (the caller's
                        // frame base is recomputed from `Frame::base` on return).
                        sp = unsafe { sptr.add(sp_index) };
                    }
                    let locals_end = new_base + callee_code.num_locals as usize;
                    debug_assert!(locals_end <= slen!());
                    // Zero the declared locals: a short loop for the usual few (volatile
                    // keeps it from becoming a `memset` call), `write_bytes` for many.
                    let n = locals_end - sp_index;
                    // SAFETY: `locals_end <= need <= slen!()`.
                    unsafe {
                        if n <= 8 {
                            for i in 0..n {
                                std::ptr::write_volatile(sp.add(i), 0);
                            }
                        } else {
                            std::ptr::write_bytes(sp, 0, n);
                        }
                    }
                    if profiling {
                        flush_edges!();
                        // SAFETY: counters of a live instance.
                        let kc = unsafe { &*k };
                        // Sampled per callee: the hook sees hot callees.
                        if kc.count_call() {
                            sampler.call_period(kc);
                        }
                    }
                    // SAFETY: a frame is running (the caller).
                    unsafe { (*frames.as_mut_ptr().add(frames.len() - 1)).ret = ip };
                    data = d;
                    code = callee_code;
                    ops = code.ops.as_ptr();
                    counters = k;
                    // SAFETY: as above.
                    vmctx = unsafe { (*f).vmctx };
                    // SAFETY: `new_base..locals_end` lies inside the vector (`need <= slen!()`).
                    unsafe {
                        fp = sptr.add(new_base);
                        sp = sptr.add(locals_end);
                    }
                    ip = ops;
                    frames.push(Frame {
                        code: c,
                        data,
                        vmctx,
                        counters,
                        ret: std::ptr::null(),
                        base: new_base,
                    });
                }
            }};
        }

        // Returns from the running frame (the `Return` ops).
        macro_rules! ret {
            () => {{
                let n = code.num_results as usize;
                // SAFETY: results lie below `sp`, the base is below them.
                unsafe {
                    if n == 1 {
                        *fp = *sp.sub(1);
                    } else {
                        std::ptr::copy(sp.sub(n), fp, n);
                    }
                    sp = fp.add(n);
                }
                if let Some(done) = self.ret(
                    frames,
                    &mut code,
                    &mut data,
                    &mut vmctx,
                    &mut counters,
                    &mut fp,
                    sptr,
                ) {
                    break done;
                }
                ops = code.ops.as_ptr();
                // The caller resumes after its call op.
                ip = caller_ret(frames);
            }};
        }

        // Tail-calls `$f` (`return_call*`): an interpreted callee replaces the running
        // frame in place (same base, same return address), so the frame stack and the
        // value stack stay as deep as they were; any other callee (host function,
        // compiled code) is called as by `call!` and its results returned at once.
        macro_rules! tail_call {
            ($f:expr, $arity:expr) => {{
                let f: *const FuncRef = $f;
                // SAFETY: as in `call!`.
                if !unsafe { is_interpreted(f) } {
                    call!(f, $arity);
                    // A callee that threw continues at the throw op (`throw!`), whose
                    // search skips this frame (it made a tail call).
                    if !core::ptr::eq(ip, THROW_PENDING.as_ptr()) {
                        ret!();
                    }
                } else {
                    if profiling {
                        // The pending back-edges belong to the frame being replaced.
                        flush_edges!();
                    }
                    // The callee's entry is a check point, as for `call` and in compiled
                    // code (its entry check runs after a tail call too).
                    if let Some(b) = bounds {
                        // SAFETY: the store keeps the trap context alive during `invoke`.
                        if let Err(c) = unsafe { b.check() } {
                            trap!(c);
                        }
                    }
                    // SAFETY: a wasm FuncRef without native code is interpreted.
                    let (d, c, k) = unsafe { wasm_code(f) };
                    // SAFETY: code of a live instance.
                    let callee_code: &FuncCode = unsafe { &*c };
                    let np = callee_code.num_params as usize;
                    // SAFETY: the arguments are the top `np` slots, the frame base lies
                    // below them; the regions may overlap.
                    unsafe { std::ptr::copy(sp.sub(np), fp, np) };
                    // SAFETY: `fp` points into the vector.
                    let base = unsafe { fp.offset_from(sptr) } as usize;
                    let need = base + callee_code.max_height as usize;
                    let pad = pad!();
                    let slen = stack.len() - pad;
                    if need > slen {
                        if need > cfg.max_slots {
                            trap!(TrapCode::StackOverflow);
                        }
                        stack.resize(pad + need.max(slen * 2).min(cfg.max_slots), 0);
                        // SAFETY: `pad <= len`.
                        sptr = unsafe { stack.as_mut_ptr().add(pad) };
                        // SAFETY: `base < need <= slen!()`.
                        fp = unsafe { sptr.add(base) };
                    }
                    let nl = callee_code.num_locals as usize;
                    // SAFETY: `base + nl <= need <= slen!()`: zero the declared locals.
                    unsafe {
                        std::ptr::write_bytes(fp.add(np), 0, nl - np);
                        sp = fp.add(nl);
                    }
                    if profiling {
                        // SAFETY: counters of a live instance.
                        let kc = unsafe { &*k };
                        if kc.count_call() {
                            sampler.call_period(kc);
                        }
                    }
                    data = d;
                    code = callee_code;
                    ops = code.ops.as_ptr();
                    counters = k;
                    // SAFETY: as above.
                    vmctx = unsafe { (*f).vmctx };
                    ip = ops;
                    // SAFETY: a frame is running (the one being replaced); its `ret` and
                    // `base` stay.
                    unsafe {
                        let fr = &mut *frames.as_mut_ptr().add(frames.len() - 1);
                        fr.code = c;
                        fr.data = data;
                        fr.vmctx = vmctx;
                        fr.counters = counters;
                    }
                }
            }};
        }

        let result: Result<(), TrapCode> = loop {
            // SAFETY: every body ends with `Return` and branch targets are op indices of
            // the same body, so `ip` stays in bounds.
            // Matching on the place (not a copy) lets each handler load only the
            // immediates it uses, instead of all of them before the dispatch jump.
            let op: &Op = unsafe {
                debug_assert!(
                    ip == OSR_RETURN.as_ptr()
                        || ip == THROW_PENDING.as_ptr()
                        || (ip.offset_from(ops) as usize) < code.ops.len()
                );
                let op = &*ip;
                ip = ip.add(1);
                op
            };
            match *op {
                // ---- control -------------------------------------------------------------
                Op::Unreachable => trap!(TrapCode::Unreachable),
                // SAFETY (jumps): targets are op indices of the current body.
                Op::Jump(t) => ip = unsafe { ops.add(t as usize) },
                Op::JumpLoop(t) => {
                    ip = unsafe { ops.add(t as usize) };
                    back_edge!();
                }
                Op::JumpIfZero(t) => {
                    if pop!() as u32 == 0 {
                        ip = unsafe { ops.add(t as usize) };
                    }
                }
                Op::JumpIfNonZero(t) => {
                    if pop!() as u32 != 0 {
                        ip = unsafe { ops.add(t as usize) };
                    }
                }
                Op::JumpIfNonZeroLoop(t) => {
                    if pop!() as u32 != 0 {
                        ip = unsafe { ops.add(t as usize) };
                        back_edge!();
                    }
                }
                Op::Br {
                    target,
                    height,
                    keep,
                } => branch!(target, height, keep),
                Op::BrLoop {
                    target,
                    height,
                    keep,
                } => {
                    branch!(target, height, keep);
                    back_edge!();
                }
                Op::BrIf {
                    target,
                    height,
                    keep,
                } => {
                    if pop!() as u32 != 0 {
                        branch!(target, height, keep);
                    }
                }
                Op::BrIfLoop {
                    target,
                    height,
                    keep,
                } => {
                    if pop!() as u32 != 0 {
                        branch!(target, height, keep);
                        back_edge!();
                    }
                }
                Op::BrTable { start, len } => {
                    let i = pop!() as u32;
                    let i = i.min(len - 1);
                    let e = code.br_tables[(start + i) as usize];
                    branch!(e.target, e.height, e.keep);
                    if e.is_loop {
                        back_edge!();
                    }
                }
                Op::Return => {
                    if profiling {
                        flush_edges!();
                    }
                    ret!();
                }
                Op::ReturnNoLoop => {
                    // No back-edge in this function: nothing is pending (the call that
                    // entered it flushed its caller's edges), so no profiling work here.
                    debug_assert!(!profiling || edges_left == sampler.armed);
                    ret!();
                }

                // ---- calls ---------------------------------------------------------------
                Op::Call(idx) => {
                    // SAFETY: validated index into the live instance's function array.
                    let f = unsafe { *(*vmctx).funcs.add(idx as usize) };
                    // SAFETY: `data` is the live interpreter view of this instance.
                    call!(f, unsafe { (&*data).code.func_arity[idx as usize] });
                }
                Op::CallIndirect { ty, table } => {
                    let i = pop!() as u32;
                    // SAFETY: validated table index; the table definition is live.
                    let t = unsafe { &**(*vmctx).tables.add(table as usize) };
                    if u64::from(i) >= t.len {
                        trap!(TrapCode::UndefinedElement);
                    }
                    // SAFETY: `i < len`.
                    let f = unsafe { *t.base.add(i as usize) } as *const FuncRef;
                    if f.is_null() {
                        trap!(TrapCode::UninitializedElement);
                    }
                    // SAFETY: validated type index; non-null table entries of a funcref
                    // table are live FuncRefs.
                    let (want, have) =
                        unsafe { (*(*vmctx).type_ids.add(ty as usize), (*f).type_id) };
                    if want != have {
                        trap!(TrapCode::IndirectCallTypeMismatch);
                    }
                    // SAFETY: `data` is the live interpreter view of this instance.
                    call!(f, unsafe { (&*data).code.type_arity[ty as usize] });
                }

                Op::ReturnCall(idx) => {
                    // SAFETY: validated index into the live instance's function array.
                    let f = unsafe { *(*vmctx).funcs.add(idx as usize) };
                    // SAFETY: `data` is the live interpreter view of this instance.
                    tail_call!(f, unsafe { (&*data).code.func_arity[idx as usize] });
                }
                Op::ReturnCallIndirect { ty, table } => {
                    let i = pop!() as u32;
                    // SAFETY: validated type and table indices of the running instance.
                    let f = try_trap!(unsafe { table_callee(vmctx, i, ty, table) });
                    // SAFETY: `data` is the live interpreter view of this instance.
                    tail_call!(f, unsafe { (&*data).code.type_arity[ty as usize] });
                }

                Op::CallRef(ty) => {
                    let f = pop!() as *const FuncRef;
                    if f.is_null() {
                        trap!(TrapCode::NullFuncRef);
                    }
                    // SAFETY: `data` is the live interpreter view of this instance; non-null
                    // function references are live FuncRefs of the store.
                    call!(f, unsafe { (&*data).code.type_arity[ty as usize] });
                }
                Op::ReturnCallRef(ty) => {
                    let f = pop!() as *const FuncRef;
                    if f.is_null() {
                        trap!(TrapCode::NullFuncRef);
                    }
                    // SAFETY: as for `CallRef`.
                    tail_call!(f, unsafe { (&*data).code.type_arity[ty as usize] });
                }
                Op::RefAsNonNull => {
                    if top!(1) == 0 {
                        trap!(TrapCode::NullReference);
                    }
                }
                Op::Throw(t) => {
                    // SAFETY: `data` is the live view of this instance; validation put the
                    // tag's payload on the stack.
                    unsafe { throw_new(data, t, sp) };
                    throw!();
                }
                Op::ThrowRef => {
                    let r = pop!();
                    if r == 0 {
                        trap!(TrapCode::NullReference);
                    }
                    // SAFETY: a non-null exnref is an object of the store's arena.
                    unsafe { throw_shared(data, r) };
                    throw!();
                }
                Op::ThrowPending => {
                    // SAFETY: a frame is running; `throw!` left the throw point in its slot.
                    let at = unsafe { (*frames.as_ptr().add(frames.len() - 1)).ret };
                    ip = at;
                    if profiling {
                        flush_edges!();
                    }
                    // SAFETY: the frames hold live code; `at` is one past the throwing op.
                    match unsafe { unwind(frames, at, sptr) } {
                        Unwound::Caught(to_sp, target) => {
                            let f = *frames.last().expect("the catching frame");
                            // SAFETY: frames hold code and views of live instances.
                            code = unsafe { &*f.code };
                            data = f.data;
                            vmctx = f.vmctx;
                            counters = f.counters;
                            // SAFETY: the frame's base is inside the vector.
                            fp = unsafe { sptr.add(f.base) };
                            sp = to_sp;
                            ops = code.ops.as_ptr();
                            // SAFETY: catch targets are op indices of the catching body.
                            ip = unsafe { ops.add(target as usize) };
                        }
                        Unwound::Uncaught => trap!(TrapCode::Exception),
                        Unwound::Full => trap!(TrapCode::HostError),
                    }
                }
                Op::DupIsNull => {
                    let v = top!(1);
                    push!((v == 0) as u64);
                }

                // ---- parametric and variables --------------------------------------------
                // SAFETY: validation guarantees an operand.
                Op::Drop => sp = unsafe { sp.sub(1) },
                Op::Select => {
                    let c = pop!() as u32;
                    let b = pop!();
                    if c == 0 {
                        set_top!(1, b);
                    }
                }
                Op::LocalGet(i) => push!(loc!(i)),
                Op::LocalSet(i) => {
                    let v = pop!();
                    set_loc!(i, v);
                }
                Op::LocalTee(i) => set_loc!(i, top!(1)),
                Op::GlobalGet(i) => {
                    // SAFETY: validated index; global cells are live.
                    let v = unsafe { **(*vmctx).globals.add(i as usize) };
                    push!(v);
                }
                Op::GlobalSet(i) => {
                    let v = pop!();
                    // SAFETY: validated index of a mutable global; cells are live.
                    unsafe { **(*vmctx).globals.add(i as usize) = v };
                }
                Op::Const(v) => push!(v),

                // ---- SIMD (out of line) --------------------------------------------------
                Op::Simd { op, lane, imm } => {
                    // SAFETY: the lowering's invariants (operands on the stack, pushes
                    // within `max_height`, valid immediates); `vmctx` is this frame's.
                    match unsafe {
                        super::simd::exec(op, lane, imm, sp, fp, vmctx, &code.v128_consts)
                    } {
                        Ok(p) => sp = p,
                        Err(c) => trap!(c),
                    }
                }

                // ---- memory --------------------------------------------------------------
                Op::I32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::F32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::F64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::I32Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64),
                Op::I32Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                Op::I32Load16S(o) => {
                    load!(o, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64)
                }
                Op::I32Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                Op::I64Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64),
                Op::I64Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                Op::I64Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i64 as u64),
                Op::I64Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                Op::I64Load32S(o) => load!(o, 4, |b| i32::from_le_bytes(b) as i64 as u64),
                Op::I64Load32U(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::I32Store(o) | Op::F32Store(o) => {
                    store!(o, 4, |v: u64| (v as u32).to_le_bytes())
                }
                Op::I64Store(o) | Op::F64Store(o) => store!(o, 8, |v: u64| v.to_le_bytes()),
                Op::I32Store8(o) | Op::I64Store8(o) => store!(o, 1, |v: u64| [v as u8]),
                Op::I32Store16(o) | Op::I64Store16(o) => {
                    store!(o, 2, |v: u64| (v as u16).to_le_bytes())
                }
                Op::I64Store32(o) => store!(o, 4, |v: u64| (v as u32).to_le_bytes()),
                Op::MemorySize => push!(u64::from(inst!().memory_size(0))),
                Op::MemoryGrow => {
                    let d = pop!() as u32;
                    push!(u64::from(inst!().memory_grow(0, d)));
                }
                Op::MemoryFill => {
                    let n = pop!() as u32;
                    let v = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_fill(0, d, v, n));
                }
                Op::MemoryCopy => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_copy(0, 0, d, s, n));
                }
                Op::MemoryInit(seg) => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_init(0, seg, d, s, n));
                }
                Op::DataDrop(seg) => inst!().data_drop(seg),

                // ---- tables and references -----------------------------------------------
                Op::TableGet(t) => {
                    let i = pop!() as u32;
                    let v = try_trap!(inst!().table_get(t, i));
                    push!(v);
                }
                Op::TableSet(t) => {
                    let v = pop!();
                    let i = pop!() as u32;
                    try_trap!(inst!().table_set(t, i, v));
                }
                Op::TableSize(t) => push!(u64::from(inst!().table_size(t))),
                Op::TableGrow(t) => {
                    let n = pop!() as u32;
                    let v = pop!();
                    push!(u64::from(inst!().table_grow(t, v, n)));
                }
                Op::TableFill(t) => {
                    let n = pop!() as u32;
                    let v = pop!();
                    let d = pop!() as u32;
                    try_trap!(inst!().table_fill(t, d, v, n));
                }
                Op::TableCopy { dst, src } => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().table_copy(dst, src, d, s, n));
                }
                Op::TableInit { table, elem } => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().table_init(table, elem, d, s, n));
                }
                Op::ElemDrop(seg) => inst!().elem_drop(seg),

                // ---- memory64 / table64 ---------------------------------------------------
                Op::Addr64 { depth, lo, hi } => {
                    let off = u64::from(hi) << 32 | u64::from(lo);
                    // SAFETY: validation: the address operand is `depth` slots below the top.
                    let p = unsafe { sp.sub(1 + depth as usize) };
                    in_bounds!(p);
                    // SAFETY: as above.
                    let ea = unsafe { *p }.checked_add(off);
                    match ea {
                        // SAFETY: as above.
                        Some(ea) if ea <= u64::from(u32::MAX) => unsafe { *p = ea },
                        _ => trap!(TrapCode::MemoryOutOfBounds),
                    }
                }
                Op::Narrow64 { mask, code } => {
                    let mut high = 0;
                    for k in 0..3 {
                        if mask & (1 << k) != 0 {
                            // SAFETY: validation: the op has at least `k + 1` operands.
                            let p = unsafe { sp.sub(1 + k) };
                            in_bounds!(p);
                            // SAFETY: as above.
                            high |= unsafe { *p } >> 32;
                        }
                    }
                    if high != 0 {
                        trap!(code);
                    }
                }
                Op::MemoryGrow64 => {
                    let d = u32::try_from(pop!()).unwrap_or(u32::MAX);
                    let r = inst!().memory_grow(0, d);
                    push!(if r == u32::MAX {
                        u64::MAX
                    } else {
                        u64::from(r)
                    });
                }
                // ---- multi-memory (memories other than 0) ---------------------------------
                Op::LoadM { kind, mem, off } => {
                    let addr = pop!() as u32 as u64 + u64::from(off);
                    // SAFETY: validation guarantees memory `mem` exists, so the vmctx's
                    // memory array has a live definition at `mem`.
                    let v = load_val!(@in unsafe { &**(*vmctx).memories.add(mem as usize) }, kind, addr);
                    push!(v);
                }
                Op::StoreM { kind, mem, off } => {
                    let v = pop!();
                    let addr = pop!() as u32 as u64 + u64::from(off);
                    // SAFETY: as for `LoadM`.
                    store_w!(@in unsafe { &**(*vmctx).memories.add(mem as usize) }, kind, addr, v);
                }
                Op::MemorySizeM(m) => push!(u64::from(inst!().memory_size(m))),
                Op::MemoryGrowM(m) => {
                    let d = pop!() as u32;
                    push!(u64::from(inst!().memory_grow(m, d)));
                }
                Op::MemoryGrow64M(m) => {
                    let d = u32::try_from(pop!()).unwrap_or(u32::MAX);
                    let r = inst!().memory_grow(m, d);
                    push!(if r == u32::MAX {
                        u64::MAX
                    } else {
                        u64::from(r)
                    });
                }
                Op::MemoryFillM(m) => {
                    let n = pop!() as u32;
                    let v = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_fill(m, d, v, n));
                }
                Op::MemoryCopyM { dst, src } => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_copy(dst, src, d, s, n));
                }
                Op::MemoryInitM { mem, seg } => {
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    try_trap!(inst!().memory_init(mem, seg, d, s, n));
                }
                Op::SimdM { op, lane, imm, mem } => {
                    // SAFETY: as for `Simd`; memory `mem` exists (validation).
                    match unsafe {
                        super::simd::exec_in(op, lane, imm, sp, fp, vmctx, &code.v128_consts, mem)
                    } {
                        Ok(p) => sp = p,
                        Err(c) => trap!(c),
                    }
                }
                Op::TableGrow64(t) => {
                    let n = u32::try_from(pop!()).unwrap_or(u32::MAX);
                    let v = pop!();
                    let r = inst!().table_grow(t, v, n);
                    push!(if r == u32::MAX {
                        u64::MAX
                    } else {
                        u64::from(r)
                    });
                }
                Op::RefIsNull => un!(|v: u64| (v == 0) as u64),
                Op::RefFunc(i) => {
                    // SAFETY: validated index into the live function array.
                    let f = unsafe { *(*vmctx).funcs.add(i as usize) };
                    push!(f as u64);
                }

                // ---- fused forms --------------------------------------------------------
                Op::I32BinLL { k, a, b } => {
                    push!(u64::from(k.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32BinLC { k, a, c } => push!(u64::from(k.eval32(loc!(a) as u32, c))),
                Op::I32BinSL { k, b } => {
                    set_top!(1, u64::from(k.eval32(top!(1) as u32, loc!(b) as u32)))
                }
                Op::I32BinSC { k, c } => set_top!(1, u64::from(k.eval32(top!(1) as u32, c))),
                Op::I64BinLL { k, a, b } => push!(k.eval64(loc!(a), loc!(b))),
                Op::I64BinLC { k, a, c } => push!(k.eval64(loc!(a), c as i64 as u64)),
                Op::I64BinSL { k, b } => set_top!(1, k.eval64(top!(1), loc!(b))),
                Op::I64BinSC { k, c } => set_top!(1, k.eval64(top!(1), c as i64 as u64)),
                Op::I32JumpLL { k, lp, a, b, t } => {
                    if k.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32JumpLC { k, lp, a, c, t } => {
                    if k.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32JumpSS { k, lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if k.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32JumpSC { k, lp, c, t } => {
                    if k.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32JumpSL { k, lp, b, t } => {
                    let a = pop!() as u32;
                    if k.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64JumpSL { k, lp, b, t } => {
                    let a = pop!();
                    if k.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64JumpLL { k, lp, a, b, t } => {
                    if k.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64JumpLC { k, lp, a, c, t } => {
                    if k.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64JumpSS { k, lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if k.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64JumpSC { k, lp, c, t } => {
                    if k.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32BinLLD { k, a, b, d } => {
                    set_loc!(d, u64::from(k.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32BinLCD { k, a, c, d } => {
                    set_loc!(d, u64::from(k.eval32(loc!(a) as u32, c)))
                }
                Op::I32BinSLD { k, b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(k.eval32(x, loc!(b) as u32)))
                }
                Op::I32BinSCD { k, c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(k.eval32(x, c)))
                }
                Op::I64BinLLD { k, a, b, d } => set_loc!(d, k.eval64(loc!(a), loc!(b))),
                Op::I64BinLCD { k, a, c, d } => {
                    set_loc!(d, k.eval64(loc!(a), c as i64 as u64))
                }
                Op::I64BinSLD { k, b, d } => {
                    let x = pop!();
                    set_loc!(d, k.eval64(x, loc!(b)))
                }
                Op::I64BinSCD { k, c, d } => {
                    let x = pop!();
                    set_loc!(d, k.eval64(x, c as i64 as u64))
                }
                Op::I32BinSSD { k, d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(k.eval32(x, y)))
                }
                Op::I64BinSSD { k, d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, k.eval64(x, y))
                }
                Op::Copy { a, b } => set_loc!(b, loc!(a)),
                Op::SetConst32 { d, c } => set_loc!(d, u64::from(c)),
                Op::LocalGet2 { a, b } => {
                    push!(loc!(a));
                    push!(loc!(b));
                }
                Op::StoreLL { k, a, b, off } => {
                    let addr = (loc!(a) as u32 as u64) + u64::from(off);
                    let v = loc!(b);
                    store_w!(k, addr, v);
                }
                Op::StoreSL { k, b, off } => {
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    let v = loc!(b);
                    store_w!(k, addr, v);
                }
                Op::StoreSC { k, c, off } => {
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(k, addr, u64::from(c));
                }
                Op::LoadL { k, a, off } => {
                    load_k!(k, (loc!(a) as u32 as u64) + u64::from(off))
                }
                Op::LoadLC { k, a, c, off } => {
                    load_k!(
                        k,
                        u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off)
                    )
                }
                Op::LoadSC { k, c, off } => {
                    load_k!(
                        k,
                        u64::from((pop!() as u32).wrapping_add(c)) + u64::from(off)
                    )
                }
                Op::LoadLDup { k, a, off } => {
                    let x = loc!(a);
                    push!(x);
                    load_k!(k, (x as u32 as u64) + u64::from(off))
                }
                Op::LoadLSet { k, a, off, d } => {
                    let v = load_val!(k, (loc!(a) as u32 as u64) + u64::from(off));
                    set_loc!(d, v)
                }
                Op::F64BinLL { k, a, b } => push!(k.eval(loc!(a), loc!(b))),
                Op::F64BinSL { k, b } => set_top!(1, k.eval(top!(1), loc!(b))),
                Op::F64BinSC { k, c } => set_top!(1, k.eval(top!(1), c)),
                Op::F64BinSM { k, a, c, off } => {
                    let addr = u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off);
                    let y = load_val!(Load::I64, addr);
                    set_top!(1, k.eval(top!(1), y))
                }
                Op::F64BinLM { k, b, a, c } => {
                    let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)));
                    push!(k.eval(loc!(b), y))
                }
                Op::F64BinStore { k, off } => {
                    let y = pop!();
                    let x = pop!();
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(Store::S64, addr, k.eval(x, y))
                }

                // ---- specialized fused forms (scripts/gen-interp-fused.py) ---------------
                // BEGIN GENERATED
                Op::I32AddLL { a, b } => {
                    push!(u64::from(Bin::Add.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32SubLL { a, b } => {
                    push!(u64::from(Bin::Sub.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32MulLL { a, b } => {
                    push!(u64::from(Bin::Mul.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32AndLL { a, b } => {
                    push!(u64::from(Bin::And.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32OrLL { a, b } => {
                    push!(u64::from(Bin::Or.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32XorLL { a, b } => {
                    push!(u64::from(Bin::Xor.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32ShlLL { a, b } => {
                    push!(u64::from(Bin::Shl.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32ShrSLL { a, b } => {
                    push!(u64::from(Bin::ShrS.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32ShrULL { a, b } => {
                    push!(u64::from(Bin::ShrU.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32RotlLL { a, b } => {
                    push!(u64::from(Bin::Rotl.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32RotrLL { a, b } => {
                    push!(u64::from(Bin::Rotr.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32AddLC { a, c } => push!(u64::from(Bin::Add.eval32(loc!(a) as u32, c))),
                Op::I32SubLC { a, c } => push!(u64::from(Bin::Sub.eval32(loc!(a) as u32, c))),
                Op::I32MulLC { a, c } => push!(u64::from(Bin::Mul.eval32(loc!(a) as u32, c))),
                Op::I32AndLC { a, c } => push!(u64::from(Bin::And.eval32(loc!(a) as u32, c))),
                Op::I32OrLC { a, c } => push!(u64::from(Bin::Or.eval32(loc!(a) as u32, c))),
                Op::I32XorLC { a, c } => push!(u64::from(Bin::Xor.eval32(loc!(a) as u32, c))),
                Op::I32ShlLC { a, c } => push!(u64::from(Bin::Shl.eval32(loc!(a) as u32, c))),
                Op::I32ShrSLC { a, c } => push!(u64::from(Bin::ShrS.eval32(loc!(a) as u32, c))),
                Op::I32ShrULC { a, c } => push!(u64::from(Bin::ShrU.eval32(loc!(a) as u32, c))),
                Op::I32RotlLC { a, c } => push!(u64::from(Bin::Rotl.eval32(loc!(a) as u32, c))),
                Op::I32RotrLC { a, c } => push!(u64::from(Bin::Rotr.eval32(loc!(a) as u32, c))),
                Op::I32AddSL { b } => set_top!(
                    1,
                    u64::from(Bin::Add.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32SubSL { b } => set_top!(
                    1,
                    u64::from(Bin::Sub.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32MulSL { b } => set_top!(
                    1,
                    u64::from(Bin::Mul.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32AndSL { b } => set_top!(
                    1,
                    u64::from(Bin::And.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32OrSL { b } => {
                    set_top!(1, u64::from(Bin::Or.eval32(top!(1) as u32, loc!(b) as u32)))
                }
                Op::I32XorSL { b } => set_top!(
                    1,
                    u64::from(Bin::Xor.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32ShlSL { b } => set_top!(
                    1,
                    u64::from(Bin::Shl.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32ShrSSL { b } => set_top!(
                    1,
                    u64::from(Bin::ShrS.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32ShrUSL { b } => set_top!(
                    1,
                    u64::from(Bin::ShrU.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32RotlSL { b } => set_top!(
                    1,
                    u64::from(Bin::Rotl.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32RotrSL { b } => set_top!(
                    1,
                    u64::from(Bin::Rotr.eval32(top!(1) as u32, loc!(b) as u32))
                ),
                Op::I32AddSC { c } => set_top!(1, u64::from(Bin::Add.eval32(top!(1) as u32, c))),
                Op::I32SubSC { c } => set_top!(1, u64::from(Bin::Sub.eval32(top!(1) as u32, c))),
                Op::I32MulSC { c } => set_top!(1, u64::from(Bin::Mul.eval32(top!(1) as u32, c))),
                Op::I32AndSC { c } => set_top!(1, u64::from(Bin::And.eval32(top!(1) as u32, c))),
                Op::I32OrSC { c } => set_top!(1, u64::from(Bin::Or.eval32(top!(1) as u32, c))),
                Op::I32XorSC { c } => set_top!(1, u64::from(Bin::Xor.eval32(top!(1) as u32, c))),
                Op::I32ShlSC { c } => set_top!(1, u64::from(Bin::Shl.eval32(top!(1) as u32, c))),
                Op::I32ShrSSC { c } => set_top!(1, u64::from(Bin::ShrS.eval32(top!(1) as u32, c))),
                Op::I32ShrUSC { c } => set_top!(1, u64::from(Bin::ShrU.eval32(top!(1) as u32, c))),
                Op::I32RotlSC { c } => set_top!(1, u64::from(Bin::Rotl.eval32(top!(1) as u32, c))),
                Op::I32RotrSC { c } => set_top!(1, u64::from(Bin::Rotr.eval32(top!(1) as u32, c))),
                Op::I32AddLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Add.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32SubLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Sub.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32MulLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Mul.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32AndLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::And.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32OrLLD { a, b, d } => {
                    set_loc!(d, u64::from(Bin::Or.eval32(loc!(a) as u32, loc!(b) as u32)))
                }
                Op::I32XorLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Xor.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32ShlLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Shl.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32ShrSLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::ShrS.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32ShrULLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::ShrU.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32RotlLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Rotl.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32RotrLLD { a, b, d } => set_loc!(
                    d,
                    u64::from(Bin::Rotr.eval32(loc!(a) as u32, loc!(b) as u32))
                ),
                Op::I32AddLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Add.eval32(loc!(a) as u32, c)))
                }
                Op::I32SubLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Sub.eval32(loc!(a) as u32, c)))
                }
                Op::I32MulLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Mul.eval32(loc!(a) as u32, c)))
                }
                Op::I32AndLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::And.eval32(loc!(a) as u32, c)))
                }
                Op::I32OrLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Or.eval32(loc!(a) as u32, c)))
                }
                Op::I32XorLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Xor.eval32(loc!(a) as u32, c)))
                }
                Op::I32ShlLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Shl.eval32(loc!(a) as u32, c)))
                }
                Op::I32ShrSLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::ShrS.eval32(loc!(a) as u32, c)))
                }
                Op::I32ShrULCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::ShrU.eval32(loc!(a) as u32, c)))
                }
                Op::I32RotlLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Rotl.eval32(loc!(a) as u32, c)))
                }
                Op::I32RotrLCD { a, c, d } => {
                    set_loc!(d, u64::from(Bin::Rotr.eval32(loc!(a) as u32, c)))
                }
                Op::I32AddSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Add.eval32(x, loc!(b) as u32)))
                }
                Op::I32SubSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Sub.eval32(x, loc!(b) as u32)))
                }
                Op::I32MulSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Mul.eval32(x, loc!(b) as u32)))
                }
                Op::I32AndSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::And.eval32(x, loc!(b) as u32)))
                }
                Op::I32OrSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Or.eval32(x, loc!(b) as u32)))
                }
                Op::I32XorSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Xor.eval32(x, loc!(b) as u32)))
                }
                Op::I32ShlSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Shl.eval32(x, loc!(b) as u32)))
                }
                Op::I32ShrSSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrS.eval32(x, loc!(b) as u32)))
                }
                Op::I32ShrUSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrU.eval32(x, loc!(b) as u32)))
                }
                Op::I32RotlSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotl.eval32(x, loc!(b) as u32)))
                }
                Op::I32RotrSLD { b, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotr.eval32(x, loc!(b) as u32)))
                }
                Op::I32AddSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Add.eval32(x, c)))
                }
                Op::I32SubSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Sub.eval32(x, c)))
                }
                Op::I32MulSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Mul.eval32(x, c)))
                }
                Op::I32AndSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::And.eval32(x, c)))
                }
                Op::I32OrSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Or.eval32(x, c)))
                }
                Op::I32XorSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Xor.eval32(x, c)))
                }
                Op::I32ShlSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Shl.eval32(x, c)))
                }
                Op::I32ShrSSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrS.eval32(x, c)))
                }
                Op::I32ShrUSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrU.eval32(x, c)))
                }
                Op::I32RotlSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotl.eval32(x, c)))
                }
                Op::I32RotrSCD { c, d } => {
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotr.eval32(x, c)))
                }
                Op::I32AddSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Add.eval32(x, y)))
                }
                Op::I32SubSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Sub.eval32(x, y)))
                }
                Op::I32MulSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Mul.eval32(x, y)))
                }
                Op::I32AndSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::And.eval32(x, y)))
                }
                Op::I32OrSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Or.eval32(x, y)))
                }
                Op::I32XorSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Xor.eval32(x, y)))
                }
                Op::I32ShlSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Shl.eval32(x, y)))
                }
                Op::I32ShrSSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrS.eval32(x, y)))
                }
                Op::I32ShrUSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::ShrU.eval32(x, y)))
                }
                Op::I32RotlSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotl.eval32(x, y)))
                }
                Op::I32RotrSSD { d } => {
                    let y = pop!() as u32;
                    let x = pop!() as u32;
                    set_loc!(d, u64::from(Bin::Rotr.eval32(x, y)))
                }
                Op::I64AddLL { a, b } => push!(Bin::Add.eval64(loc!(a), loc!(b))),
                Op::I64SubLL { a, b } => push!(Bin::Sub.eval64(loc!(a), loc!(b))),
                Op::I64MulLL { a, b } => push!(Bin::Mul.eval64(loc!(a), loc!(b))),
                Op::I64AndLL { a, b } => push!(Bin::And.eval64(loc!(a), loc!(b))),
                Op::I64OrLL { a, b } => push!(Bin::Or.eval64(loc!(a), loc!(b))),
                Op::I64XorLL { a, b } => push!(Bin::Xor.eval64(loc!(a), loc!(b))),
                Op::I64ShlLL { a, b } => push!(Bin::Shl.eval64(loc!(a), loc!(b))),
                Op::I64ShrSLL { a, b } => push!(Bin::ShrS.eval64(loc!(a), loc!(b))),
                Op::I64ShrULL { a, b } => push!(Bin::ShrU.eval64(loc!(a), loc!(b))),
                Op::I64RotlLL { a, b } => push!(Bin::Rotl.eval64(loc!(a), loc!(b))),
                Op::I64RotrLL { a, b } => push!(Bin::Rotr.eval64(loc!(a), loc!(b))),
                Op::I64AddLC { a, c } => push!(Bin::Add.eval64(loc!(a), c as i64 as u64)),
                Op::I64SubLC { a, c } => push!(Bin::Sub.eval64(loc!(a), c as i64 as u64)),
                Op::I64MulLC { a, c } => push!(Bin::Mul.eval64(loc!(a), c as i64 as u64)),
                Op::I64AndLC { a, c } => push!(Bin::And.eval64(loc!(a), c as i64 as u64)),
                Op::I64OrLC { a, c } => push!(Bin::Or.eval64(loc!(a), c as i64 as u64)),
                Op::I64XorLC { a, c } => push!(Bin::Xor.eval64(loc!(a), c as i64 as u64)),
                Op::I64ShlLC { a, c } => push!(Bin::Shl.eval64(loc!(a), c as i64 as u64)),
                Op::I64ShrSLC { a, c } => push!(Bin::ShrS.eval64(loc!(a), c as i64 as u64)),
                Op::I64ShrULC { a, c } => push!(Bin::ShrU.eval64(loc!(a), c as i64 as u64)),
                Op::I64RotlLC { a, c } => push!(Bin::Rotl.eval64(loc!(a), c as i64 as u64)),
                Op::I64RotrLC { a, c } => push!(Bin::Rotr.eval64(loc!(a), c as i64 as u64)),
                Op::I64AddSL { b } => set_top!(1, Bin::Add.eval64(top!(1), loc!(b))),
                Op::I64SubSL { b } => set_top!(1, Bin::Sub.eval64(top!(1), loc!(b))),
                Op::I64MulSL { b } => set_top!(1, Bin::Mul.eval64(top!(1), loc!(b))),
                Op::I64AndSL { b } => set_top!(1, Bin::And.eval64(top!(1), loc!(b))),
                Op::I64OrSL { b } => set_top!(1, Bin::Or.eval64(top!(1), loc!(b))),
                Op::I64XorSL { b } => set_top!(1, Bin::Xor.eval64(top!(1), loc!(b))),
                Op::I64ShlSL { b } => set_top!(1, Bin::Shl.eval64(top!(1), loc!(b))),
                Op::I64ShrSSL { b } => set_top!(1, Bin::ShrS.eval64(top!(1), loc!(b))),
                Op::I64ShrUSL { b } => set_top!(1, Bin::ShrU.eval64(top!(1), loc!(b))),
                Op::I64RotlSL { b } => set_top!(1, Bin::Rotl.eval64(top!(1), loc!(b))),
                Op::I64RotrSL { b } => set_top!(1, Bin::Rotr.eval64(top!(1), loc!(b))),
                Op::I64AddSC { c } => set_top!(1, Bin::Add.eval64(top!(1), c as i64 as u64)),
                Op::I64SubSC { c } => set_top!(1, Bin::Sub.eval64(top!(1), c as i64 as u64)),
                Op::I64MulSC { c } => set_top!(1, Bin::Mul.eval64(top!(1), c as i64 as u64)),
                Op::I64AndSC { c } => set_top!(1, Bin::And.eval64(top!(1), c as i64 as u64)),
                Op::I64OrSC { c } => set_top!(1, Bin::Or.eval64(top!(1), c as i64 as u64)),
                Op::I64XorSC { c } => set_top!(1, Bin::Xor.eval64(top!(1), c as i64 as u64)),
                Op::I64ShlSC { c } => set_top!(1, Bin::Shl.eval64(top!(1), c as i64 as u64)),
                Op::I64ShrSSC { c } => set_top!(1, Bin::ShrS.eval64(top!(1), c as i64 as u64)),
                Op::I64ShrUSC { c } => set_top!(1, Bin::ShrU.eval64(top!(1), c as i64 as u64)),
                Op::I64RotlSC { c } => set_top!(1, Bin::Rotl.eval64(top!(1), c as i64 as u64)),
                Op::I64RotrSC { c } => set_top!(1, Bin::Rotr.eval64(top!(1), c as i64 as u64)),
                Op::I64AddLLD { a, b, d } => set_loc!(d, Bin::Add.eval64(loc!(a), loc!(b))),
                Op::I64SubLLD { a, b, d } => set_loc!(d, Bin::Sub.eval64(loc!(a), loc!(b))),
                Op::I64MulLLD { a, b, d } => set_loc!(d, Bin::Mul.eval64(loc!(a), loc!(b))),
                Op::I64AndLLD { a, b, d } => set_loc!(d, Bin::And.eval64(loc!(a), loc!(b))),
                Op::I64OrLLD { a, b, d } => set_loc!(d, Bin::Or.eval64(loc!(a), loc!(b))),
                Op::I64XorLLD { a, b, d } => set_loc!(d, Bin::Xor.eval64(loc!(a), loc!(b))),
                Op::I64ShlLLD { a, b, d } => set_loc!(d, Bin::Shl.eval64(loc!(a), loc!(b))),
                Op::I64ShrSLLD { a, b, d } => set_loc!(d, Bin::ShrS.eval64(loc!(a), loc!(b))),
                Op::I64ShrULLD { a, b, d } => set_loc!(d, Bin::ShrU.eval64(loc!(a), loc!(b))),
                Op::I64RotlLLD { a, b, d } => set_loc!(d, Bin::Rotl.eval64(loc!(a), loc!(b))),
                Op::I64RotrLLD { a, b, d } => set_loc!(d, Bin::Rotr.eval64(loc!(a), loc!(b))),
                Op::I64AddLCD { a, c, d } => set_loc!(d, Bin::Add.eval64(loc!(a), c as i64 as u64)),
                Op::I64SubLCD { a, c, d } => set_loc!(d, Bin::Sub.eval64(loc!(a), c as i64 as u64)),
                Op::I64MulLCD { a, c, d } => set_loc!(d, Bin::Mul.eval64(loc!(a), c as i64 as u64)),
                Op::I64AndLCD { a, c, d } => set_loc!(d, Bin::And.eval64(loc!(a), c as i64 as u64)),
                Op::I64OrLCD { a, c, d } => set_loc!(d, Bin::Or.eval64(loc!(a), c as i64 as u64)),
                Op::I64XorLCD { a, c, d } => set_loc!(d, Bin::Xor.eval64(loc!(a), c as i64 as u64)),
                Op::I64ShlLCD { a, c, d } => set_loc!(d, Bin::Shl.eval64(loc!(a), c as i64 as u64)),
                Op::I64ShrSLCD { a, c, d } => {
                    set_loc!(d, Bin::ShrS.eval64(loc!(a), c as i64 as u64))
                }
                Op::I64ShrULCD { a, c, d } => {
                    set_loc!(d, Bin::ShrU.eval64(loc!(a), c as i64 as u64))
                }
                Op::I64RotlLCD { a, c, d } => {
                    set_loc!(d, Bin::Rotl.eval64(loc!(a), c as i64 as u64))
                }
                Op::I64RotrLCD { a, c, d } => {
                    set_loc!(d, Bin::Rotr.eval64(loc!(a), c as i64 as u64))
                }
                Op::I64AddSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Add.eval64(x, loc!(b)))
                }
                Op::I64SubSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Sub.eval64(x, loc!(b)))
                }
                Op::I64MulSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Mul.eval64(x, loc!(b)))
                }
                Op::I64AndSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::And.eval64(x, loc!(b)))
                }
                Op::I64OrSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Or.eval64(x, loc!(b)))
                }
                Op::I64XorSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Xor.eval64(x, loc!(b)))
                }
                Op::I64ShlSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Shl.eval64(x, loc!(b)))
                }
                Op::I64ShrSSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::ShrS.eval64(x, loc!(b)))
                }
                Op::I64ShrUSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::ShrU.eval64(x, loc!(b)))
                }
                Op::I64RotlSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Rotl.eval64(x, loc!(b)))
                }
                Op::I64RotrSLD { b, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Rotr.eval64(x, loc!(b)))
                }
                Op::I64AddSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Add.eval64(x, c as i64 as u64))
                }
                Op::I64SubSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Sub.eval64(x, c as i64 as u64))
                }
                Op::I64MulSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Mul.eval64(x, c as i64 as u64))
                }
                Op::I64AndSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::And.eval64(x, c as i64 as u64))
                }
                Op::I64OrSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Or.eval64(x, c as i64 as u64))
                }
                Op::I64XorSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Xor.eval64(x, c as i64 as u64))
                }
                Op::I64ShlSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Shl.eval64(x, c as i64 as u64))
                }
                Op::I64ShrSSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::ShrS.eval64(x, c as i64 as u64))
                }
                Op::I64ShrUSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::ShrU.eval64(x, c as i64 as u64))
                }
                Op::I64RotlSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Rotl.eval64(x, c as i64 as u64))
                }
                Op::I64RotrSCD { c, d } => {
                    let x = pop!();
                    set_loc!(d, Bin::Rotr.eval64(x, c as i64 as u64))
                }
                Op::I64AddSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Add.eval64(x, y))
                }
                Op::I64SubSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Sub.eval64(x, y))
                }
                Op::I64MulSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Mul.eval64(x, y))
                }
                Op::I64AndSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::And.eval64(x, y))
                }
                Op::I64OrSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Or.eval64(x, y))
                }
                Op::I64XorSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Xor.eval64(x, y))
                }
                Op::I64ShlSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Shl.eval64(x, y))
                }
                Op::I64ShrSSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::ShrS.eval64(x, y))
                }
                Op::I64ShrUSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::ShrU.eval64(x, y))
                }
                Op::I64RotlSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Rotl.eval64(x, y))
                }
                Op::I64RotrSSD { d } => {
                    let y = pop!();
                    let x = pop!();
                    set_loc!(d, Bin::Rotr.eval64(x, y))
                }
                Op::I32EqJumpLL { lp, a, b, t } => {
                    if Bin::Eq.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32NeJumpLL { lp, a, b, t } => {
                    if Bin::Ne.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtSJumpLL { lp, a, b, t } => {
                    if Bin::LtS.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtUJumpLL { lp, a, b, t } => {
                    if Bin::LtU.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtSJumpLL { lp, a, b, t } => {
                    if Bin::GtS.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtUJumpLL { lp, a, b, t } => {
                    if Bin::GtU.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeSJumpLL { lp, a, b, t } => {
                    if Bin::LeS.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeUJumpLL { lp, a, b, t } => {
                    if Bin::LeU.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeSJumpLL { lp, a, b, t } => {
                    if Bin::GeS.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeUJumpLL { lp, a, b, t } => {
                    if Bin::GeU.test32(loc!(a) as u32, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32EqJumpLC { lp, a, c, t } => {
                    if Bin::Eq.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32NeJumpLC { lp, a, c, t } => {
                    if Bin::Ne.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtSJumpLC { lp, a, c, t } => {
                    if Bin::LtS.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtUJumpLC { lp, a, c, t } => {
                    if Bin::LtU.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtSJumpLC { lp, a, c, t } => {
                    if Bin::GtS.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtUJumpLC { lp, a, c, t } => {
                    if Bin::GtU.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeSJumpLC { lp, a, c, t } => {
                    if Bin::LeS.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeUJumpLC { lp, a, c, t } => {
                    if Bin::LeU.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeSJumpLC { lp, a, c, t } => {
                    if Bin::GeS.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeUJumpLC { lp, a, c, t } => {
                    if Bin::GeU.test32(loc!(a) as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32EqJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::Eq.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32NeJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::Ne.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtSJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::LtS.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtUJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::LtU.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtSJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::GtS.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtUJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::GtU.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeSJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::LeS.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeUJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::LeU.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeSJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::GeS.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeUJumpSS { lp, t } => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if Bin::GeU.test32(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32EqJumpSC { lp, c, t } => {
                    if Bin::Eq.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32NeJumpSC { lp, c, t } => {
                    if Bin::Ne.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtSJumpSC { lp, c, t } => {
                    if Bin::LtS.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtUJumpSC { lp, c, t } => {
                    if Bin::LtU.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtSJumpSC { lp, c, t } => {
                    if Bin::GtS.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtUJumpSC { lp, c, t } => {
                    if Bin::GtU.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeSJumpSC { lp, c, t } => {
                    if Bin::LeS.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeUJumpSC { lp, c, t } => {
                    if Bin::LeU.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeSJumpSC { lp, c, t } => {
                    if Bin::GeS.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeUJumpSC { lp, c, t } => {
                    if Bin::GeU.test32(pop!() as u32, c) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32EqJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::Eq.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32NeJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::Ne.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtSJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::LtS.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LtUJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::LtU.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtSJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::GtS.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GtUJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::GtU.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeSJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::LeS.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32LeUJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::LeU.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeSJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::GeS.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I32GeUJumpSL { lp, b, t } => {
                    let a = pop!() as u32;
                    if Bin::GeU.test32(a, loc!(b) as u32) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64EqJumpLL { lp, a, b, t } => {
                    if Bin::Eq.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64NeJumpLL { lp, a, b, t } => {
                    if Bin::Ne.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtSJumpLL { lp, a, b, t } => {
                    if Bin::LtS.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtUJumpLL { lp, a, b, t } => {
                    if Bin::LtU.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtSJumpLL { lp, a, b, t } => {
                    if Bin::GtS.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtUJumpLL { lp, a, b, t } => {
                    if Bin::GtU.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeSJumpLL { lp, a, b, t } => {
                    if Bin::LeS.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeUJumpLL { lp, a, b, t } => {
                    if Bin::LeU.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeSJumpLL { lp, a, b, t } => {
                    if Bin::GeS.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeUJumpLL { lp, a, b, t } => {
                    if Bin::GeU.test64(loc!(a), loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64EqJumpLC { lp, a, c, t } => {
                    if Bin::Eq.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64NeJumpLC { lp, a, c, t } => {
                    if Bin::Ne.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtSJumpLC { lp, a, c, t } => {
                    if Bin::LtS.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtUJumpLC { lp, a, c, t } => {
                    if Bin::LtU.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtSJumpLC { lp, a, c, t } => {
                    if Bin::GtS.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtUJumpLC { lp, a, c, t } => {
                    if Bin::GtU.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeSJumpLC { lp, a, c, t } => {
                    if Bin::LeS.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeUJumpLC { lp, a, c, t } => {
                    if Bin::LeU.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeSJumpLC { lp, a, c, t } => {
                    if Bin::GeS.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeUJumpLC { lp, a, c, t } => {
                    if Bin::GeU.test64(loc!(a), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64EqJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::Eq.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64NeJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::Ne.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtSJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::LtS.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtUJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::LtU.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtSJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::GtS.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtUJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::GtU.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeSJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::LeS.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeUJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::LeU.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeSJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::GeS.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeUJumpSS { lp, t } => {
                    let b = pop!();
                    let a = pop!();
                    if Bin::GeU.test64(a, b) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64EqJumpSC { lp, c, t } => {
                    if Bin::Eq.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64NeJumpSC { lp, c, t } => {
                    if Bin::Ne.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtSJumpSC { lp, c, t } => {
                    if Bin::LtS.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtUJumpSC { lp, c, t } => {
                    if Bin::LtU.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtSJumpSC { lp, c, t } => {
                    if Bin::GtS.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtUJumpSC { lp, c, t } => {
                    if Bin::GtU.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeSJumpSC { lp, c, t } => {
                    if Bin::LeS.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeUJumpSC { lp, c, t } => {
                    if Bin::LeU.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeSJumpSC { lp, c, t } => {
                    if Bin::GeS.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeUJumpSC { lp, c, t } => {
                    if Bin::GeU.test64(pop!(), c as i64 as u64) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64EqJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::Eq.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64NeJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::Ne.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtSJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::LtS.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LtUJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::LtU.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtSJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::GtS.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GtUJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::GtU.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeSJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::LeS.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64LeUJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::LeU.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeSJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::GeS.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::I64GeUJumpSL { lp, b, t } => {
                    let a = pop!();
                    if Bin::GeU.test64(a, loc!(b)) {
                        cond_jump!(lp, t);
                    }
                }
                Op::F64AddLL { a, b } => push!(FBin::Add.eval(loc!(a), loc!(b))),
                Op::F64SubLL { a, b } => push!(FBin::Sub.eval(loc!(a), loc!(b))),
                Op::F64MulLL { a, b } => push!(FBin::Mul.eval(loc!(a), loc!(b))),
                Op::F64DivLL { a, b } => push!(FBin::Div.eval(loc!(a), loc!(b))),
                Op::F64AddSL { b } => set_top!(1, FBin::Add.eval(top!(1), loc!(b))),
                Op::F64SubSL { b } => set_top!(1, FBin::Sub.eval(top!(1), loc!(b))),
                Op::F64MulSL { b } => set_top!(1, FBin::Mul.eval(top!(1), loc!(b))),
                Op::F64DivSL { b } => set_top!(1, FBin::Div.eval(top!(1), loc!(b))),
                Op::F64AddSC { c } => set_top!(1, FBin::Add.eval(top!(1), c)),
                Op::F64SubSC { c } => set_top!(1, FBin::Sub.eval(top!(1), c)),
                Op::F64MulSC { c } => set_top!(1, FBin::Mul.eval(top!(1), c)),
                Op::F64DivSC { c } => set_top!(1, FBin::Div.eval(top!(1), c)),
                Op::F64AddSM { a, c, off } => {
                    let y = load_val!(
                        Load::I64,
                        u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off)
                    );
                    set_top!(1, FBin::Add.eval(top!(1), y))
                }
                Op::F64SubSM { a, c, off } => {
                    let y = load_val!(
                        Load::I64,
                        u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off)
                    );
                    set_top!(1, FBin::Sub.eval(top!(1), y))
                }
                Op::F64MulSM { a, c, off } => {
                    let y = load_val!(
                        Load::I64,
                        u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off)
                    );
                    set_top!(1, FBin::Mul.eval(top!(1), y))
                }
                Op::F64DivSM { a, c, off } => {
                    let y = load_val!(
                        Load::I64,
                        u64::from((loc!(a) as u32).wrapping_add(c)) + u64::from(off)
                    );
                    set_top!(1, FBin::Div.eval(top!(1), y))
                }
                Op::F64AddLM { b, a, c } => {
                    let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)));
                    push!(FBin::Add.eval(loc!(b), y))
                }
                Op::F64SubLM { b, a, c } => {
                    let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)));
                    push!(FBin::Sub.eval(loc!(b), y))
                }
                Op::F64MulLM { b, a, c } => {
                    let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)));
                    push!(FBin::Mul.eval(loc!(b), y))
                }
                Op::F64DivLM { b, a, c } => {
                    let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)));
                    push!(FBin::Div.eval(loc!(b), y))
                }
                Op::F64AddStore { off } => {
                    let y = pop!();
                    let x = pop!();
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(Store::S64, addr, FBin::Add.eval(x, y))
                }
                Op::F64SubStore { off } => {
                    let y = pop!();
                    let x = pop!();
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(Store::S64, addr, FBin::Sub.eval(x, y))
                }
                Op::F64MulStore { off } => {
                    let y = pop!();
                    let x = pop!();
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(Store::S64, addr, FBin::Mul.eval(x, y))
                }
                Op::F64DivStore { off } => {
                    let y = pop!();
                    let x = pop!();
                    let addr = (pop!() as u32 as u64) + u64::from(off);
                    store_w!(Store::S64, addr, FBin::Div.eval(x, y))
                } // END GENERATED

                // ---- i32 -----------------------------------------------------------------
                Op::I32Eqz => un!(|v: u64| (v as u32 == 0) as u64),
                Op::I32Eq => i32_cmp!(|a, b| a == b),
                Op::I32Ne => i32_cmp!(|a, b| a != b),
                Op::I32LtS => i32_cmp!(|a, b| (a as i32) < (b as i32)),
                Op::I32LtU => i32_cmp!(|a, b| a < b),
                Op::I32GtS => i32_cmp!(|a, b| (a as i32) > (b as i32)),
                Op::I32GtU => i32_cmp!(|a, b| a > b),
                Op::I32LeS => i32_cmp!(|a, b| (a as i32) <= (b as i32)),
                Op::I32LeU => i32_cmp!(|a, b| a <= b),
                Op::I32GeS => i32_cmp!(|a, b| (a as i32) >= (b as i32)),
                Op::I32GeU => i32_cmp!(|a, b| a >= b),
                Op::I32Clz => un!(|v: u64| u64::from((v as u32).leading_zeros())),
                Op::I32Ctz => un!(|v: u64| u64::from((v as u32).trailing_zeros())),
                Op::I32Popcnt => un!(|v: u64| u64::from((v as u32).count_ones())),
                Op::I32Add => i32_bin!(|a: u32, b| a.wrapping_add(b)),
                Op::I32Sub => i32_bin!(|a: u32, b| a.wrapping_sub(b)),
                Op::I32Mul => i32_bin!(|a: u32, b| a.wrapping_mul(b)),
                Op::I32DivS => {
                    let b = top!(1) as u32 as i32;
                    let a = top!(2) as u32 as i32;
                    if b == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    if a == i32::MIN && b == -1 {
                        trap!(TrapCode::IntegerOverflow);
                    }
                    i32_bin!(|a: u32, b: u32| (a as i32 / b as i32) as u32);
                }
                Op::I32DivU => {
                    if top!(1) as u32 == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i32_bin!(|a: u32, b: u32| a / b);
                }
                Op::I32RemS => {
                    if top!(1) as u32 == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i32_bin!(|a: u32, b: u32| (a as i32).wrapping_rem(b as i32) as u32);
                }
                Op::I32RemU => {
                    if top!(1) as u32 == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i32_bin!(|a: u32, b: u32| a % b);
                }
                Op::I32And => i32_bin!(|a: u32, b: u32| a & b),
                Op::I32Or => i32_bin!(|a: u32, b: u32| a | b),
                Op::I32Xor => i32_bin!(|a: u32, b: u32| a ^ b),
                Op::I32Shl => i32_bin!(|a: u32, b: u32| a.wrapping_shl(b)),
                Op::I32ShrS => i32_bin!(|a: u32, b: u32| (a as i32).wrapping_shr(b) as u32),
                Op::I32ShrU => i32_bin!(|a: u32, b: u32| a.wrapping_shr(b)),
                Op::I32Rotl => i32_bin!(|a: u32, b: u32| a.rotate_left(b)),
                Op::I32Rotr => i32_bin!(|a: u32, b: u32| a.rotate_right(b)),

                // ---- i64 -----------------------------------------------------------------
                Op::I64Eqz => un!(|v: u64| (v == 0) as u64),
                Op::I64Eq => i64_cmp!(|a, b| a == b),
                Op::I64Ne => i64_cmp!(|a, b| a != b),
                Op::I64LtS => i64_cmp!(|a, b| (a as i64) < (b as i64)),
                Op::I64LtU => i64_cmp!(|a, b| a < b),
                Op::I64GtS => i64_cmp!(|a, b| (a as i64) > (b as i64)),
                Op::I64GtU => i64_cmp!(|a, b| a > b),
                Op::I64LeS => i64_cmp!(|a, b| (a as i64) <= (b as i64)),
                Op::I64LeU => i64_cmp!(|a, b| a <= b),
                Op::I64GeS => i64_cmp!(|a, b| (a as i64) >= (b as i64)),
                Op::I64GeU => i64_cmp!(|a, b| a >= b),
                Op::I64Clz => un!(|v: u64| u64::from(v.leading_zeros())),
                Op::I64Ctz => un!(|v: u64| u64::from(v.trailing_zeros())),
                Op::I64Popcnt => un!(|v: u64| u64::from(v.count_ones())),
                Op::I64Add => i64_bin!(|a: u64, b| a.wrapping_add(b)),
                Op::I64Sub => i64_bin!(|a: u64, b| a.wrapping_sub(b)),
                Op::I64Mul => i64_bin!(|a: u64, b| a.wrapping_mul(b)),
                Op::I64DivS => {
                    let b = top!(1) as i64;
                    let a = top!(2) as i64;
                    if b == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    if a == i64::MIN && b == -1 {
                        trap!(TrapCode::IntegerOverflow);
                    }
                    i64_bin!(|a: u64, b: u64| (a as i64 / b as i64) as u64);
                }
                Op::I64DivU => {
                    if top!(1) == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i64_bin!(|a: u64, b: u64| a / b);
                }
                Op::I64RemS => {
                    if top!(1) == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i64_bin!(|a: u64, b: u64| (a as i64).wrapping_rem(b as i64) as u64);
                }
                Op::I64RemU => {
                    if top!(1) == 0 {
                        trap!(TrapCode::IntegerDivideByZero);
                    }
                    i64_bin!(|a: u64, b: u64| a % b);
                }
                Op::I64And => i64_bin!(|a: u64, b: u64| a & b),
                Op::I64Or => i64_bin!(|a: u64, b: u64| a | b),
                Op::I64Xor => i64_bin!(|a: u64, b: u64| a ^ b),
                Op::I64Shl => i64_bin!(|a: u64, b: u64| a.wrapping_shl(b as u32)),
                Op::I64ShrS => i64_bin!(|a: u64, b: u64| (a as i64).wrapping_shr(b as u32) as u64),
                Op::I64ShrU => i64_bin!(|a: u64, b: u64| a.wrapping_shr(b as u32)),
                Op::I64Rotl => i64_bin!(|a: u64, b: u64| a.rotate_left((b & 63) as u32)),
                Op::I64Rotr => i64_bin!(|a: u64, b: u64| a.rotate_right((b & 63) as u32)),

                // ---- f32 -----------------------------------------------------------------
                Op::F32Eq => f32_cmp!(|a, b| a == b),
                Op::F32Ne => f32_cmp!(|a, b| a != b),
                Op::F32Lt => f32_cmp!(|a, b| a < b),
                Op::F32Gt => f32_cmp!(|a, b| a > b),
                Op::F32Le => f32_cmp!(|a, b| a <= b),
                Op::F32Ge => f32_cmp!(|a, b| a >= b),
                Op::F32Abs => un!(|v: u64| v & 0x7fff_ffff),
                Op::F32Neg => un!(|v: u64| (v ^ 0x8000_0000) & 0xffff_ffff),
                Op::F32Ceil => f32_un!(|a: f32| num::round32(a, f32::ceil)),
                Op::F32Floor => f32_un!(|a: f32| num::round32(a, f32::floor)),
                Op::F32Trunc => f32_un!(|a: f32| num::round32(a, f32::trunc)),
                Op::F32Nearest => f32_un!(num::nearest32),
                Op::F32Sqrt => f32_un!(f32::sqrt),
                Op::F32Add => f32_bin!(|a: f32, b: f32| a + b),
                Op::F32Sub => f32_bin!(|a: f32, b: f32| a - b),
                Op::F32Mul => f32_bin!(|a: f32, b: f32| a * b),
                Op::F32Div => f32_bin!(|a: f32, b: f32| a / b),
                Op::F32Min => f32_bin!(num::fmin32),
                Op::F32Max => f32_bin!(num::fmax32),
                Op::F32Copysign => {
                    let b = pop!();
                    let a = top!(1);
                    set_top!(1, (a & 0x7fff_ffff) | (b & 0x8000_0000));
                }

                // ---- f64 -----------------------------------------------------------------
                Op::F64Eq => f64_cmp!(|a, b| a == b),
                Op::F64Ne => f64_cmp!(|a, b| a != b),
                Op::F64Lt => f64_cmp!(|a, b| a < b),
                Op::F64Gt => f64_cmp!(|a, b| a > b),
                Op::F64Le => f64_cmp!(|a, b| a <= b),
                Op::F64Ge => f64_cmp!(|a, b| a >= b),
                Op::F64Abs => un!(|v: u64| v & 0x7fff_ffff_ffff_ffff),
                Op::F64Neg => un!(|v: u64| v ^ 0x8000_0000_0000_0000),
                Op::F64Ceil => f64_un!(|a: f64| num::round64(a, f64::ceil)),
                Op::F64Floor => f64_un!(|a: f64| num::round64(a, f64::floor)),
                Op::F64Trunc => f64_un!(|a: f64| num::round64(a, f64::trunc)),
                Op::F64Nearest => f64_un!(num::nearest64),
                Op::F64Sqrt => f64_un!(f64::sqrt),
                Op::F64Add => f64_bin!(|a: f64, b: f64| a + b),
                Op::F64Sub => f64_bin!(|a: f64, b: f64| a - b),
                Op::F64Mul => f64_bin!(|a: f64, b: f64| a * b),
                Op::F64Div => f64_bin!(|a: f64, b: f64| a / b),
                Op::F64Min => f64_bin!(num::fmin64),
                Op::F64Max => f64_bin!(num::fmax64),
                Op::F64Copysign => {
                    let b = pop!();
                    let a = top!(1);
                    set_top!(1, (a & 0x7fff_ffff_ffff_ffff) | (b & 0x8000_0000_0000_0000));
                }

                // ---- conversions ---------------------------------------------------------
                Op::I32WrapI64 => un!(|v: u64| v & 0xffff_ffff),
                Op::I32TruncF32S => {
                    let x = f32::from_bits(top!(1) as u32) as f64;
                    set_top!(1, try_trap!(num::trunc_i32_s(x)) as u32 as u64);
                }
                Op::I32TruncF32U => {
                    let x = f32::from_bits(top!(1) as u32) as f64;
                    set_top!(1, try_trap!(num::trunc_i32_u(x)) as u64);
                }
                Op::I32TruncF64S => {
                    let x = f64::from_bits(top!(1));
                    set_top!(1, try_trap!(num::trunc_i32_s(x)) as u32 as u64);
                }
                Op::I32TruncF64U => {
                    let x = f64::from_bits(top!(1));
                    set_top!(1, try_trap!(num::trunc_i32_u(x)) as u64);
                }
                Op::I64ExtendI32S => un!(|v: u64| v as u32 as i32 as i64 as u64),
                Op::I64ExtendI32U => un!(|v: u64| v & 0xffff_ffff),
                Op::I64TruncF32S => {
                    let x = f32::from_bits(top!(1) as u32) as f64;
                    set_top!(1, try_trap!(num::trunc_i64_s(x)) as u64);
                }
                Op::I64TruncF32U => {
                    let x = f32::from_bits(top!(1) as u32) as f64;
                    set_top!(1, try_trap!(num::trunc_i64_u(x)));
                }
                Op::I64TruncF64S => {
                    let x = f64::from_bits(top!(1));
                    set_top!(1, try_trap!(num::trunc_i64_s(x)) as u64);
                }
                Op::I64TruncF64U => {
                    let x = f64::from_bits(top!(1));
                    set_top!(1, try_trap!(num::trunc_i64_u(x)));
                }
                Op::F32ConvertI32S => {
                    un!(|v: u64| ((v as u32 as i32) as f32).to_bits() as u64)
                }
                Op::F32ConvertI32U => un!(|v: u64| ((v as u32) as f32).to_bits() as u64),
                Op::F32ConvertI64S => un!(|v: u64| ((v as i64) as f32).to_bits() as u64),
                Op::F32ConvertI64U => un!(|v: u64| (v as f32).to_bits() as u64),
                Op::F32DemoteF64 => un!(|v: u64| (f64::from_bits(v) as f32).to_bits() as u64),
                Op::F64ConvertI32S => un!(|v: u64| ((v as u32 as i32) as f64).to_bits()),
                Op::F64ConvertI32U => un!(|v: u64| ((v as u32) as f64).to_bits()),
                Op::F64ConvertI64S => un!(|v: u64| ((v as i64) as f64).to_bits()),
                Op::F64ConvertI64U => un!(|v: u64| (v as f64).to_bits()),
                Op::F64PromoteF32 => {
                    un!(|v: u64| (f32::from_bits(v as u32) as f64).to_bits())
                }
                Op::I32Extend8S => un!(|v: u64| v as u8 as i8 as i32 as u32 as u64),
                Op::I32Extend16S => un!(|v: u64| v as u16 as i16 as i32 as u32 as u64),
                Op::I64Extend8S => un!(|v: u64| v as u8 as i8 as i64 as u64),
                Op::I64Extend16S => un!(|v: u64| v as u16 as i16 as i64 as u64),
                Op::I64Extend32S => un!(|v: u64| v as u32 as i32 as i64 as u64),
                Op::I32TruncSatF32S => {
                    un!(|v: u64| (f32::from_bits(v as u32) as i32) as u32 as u64)
                }
                Op::I32TruncSatF32U => un!(|v: u64| (f32::from_bits(v as u32) as u32) as u64),
                Op::I32TruncSatF64S => un!(|v: u64| (f64::from_bits(v) as i32) as u32 as u64),
                Op::I32TruncSatF64U => un!(|v: u64| (f64::from_bits(v) as u32) as u64),
                Op::I64TruncSatF32S => un!(|v: u64| (f32::from_bits(v as u32) as i64) as u64),
                Op::I64TruncSatF32U => un!(|v: u64| f32::from_bits(v as u32) as u64),
                Op::I64TruncSatF64S => un!(|v: u64| (f64::from_bits(v) as i64) as u64),
                Op::I64TruncSatF64U => un!(|v: u64| f64::from_bits(v) as u64),
            }
        };

        if profiling {
            // SAFETY: counters of a live instance.
            let c = unsafe { &*counters };
            // The pending back-edges of the frame that returned last or trapped.
            c.back_edges
                .set(c.back_edges.get() + u64::from(sampler.pending(edges_left)));
            sampler.flush(c);
        }
        match result {
            Ok(()) => {
                let pad = pad!();
                values[..nresults].copy_from_slice(&stack[pad..pad + nresults]);
                Ok(())
            }
            Err(c) if osr_trapped => {
                frames.clear();
                // SAFETY: the frame's vmctx is live and has the store's trap context.
                Err(unsafe { osr_trap(c, vmctx, data, code.func_index) })
            }
            Err(c) => {
                // The trapping op is the one before `pc` in the current frame.
                // SAFETY: `ip` points into the current body, one past the trapping op.
                let op_index = (unsafe { ip.offset_from(ops) } as usize).saturating_sub(1);
                let offset = code.offsets.get(op_index).copied();
                // SAFETY: `data` is the live interpreter view of the trapping instance.
                let module = unsafe { &(*data).module };
                let backtrace = frame_backtrace(frames);
                frames.clear();
                Err(Trap {
                    code: c,
                    func: Some(code.func_index),
                    offset,
                    func_name: module.func_name(code.func_index).map(str::to_string),
                    message: None,
                    backtrace,
                    exception: None,
                })
            }
        }
    }

    /// Pops the current frame after its results were copied to its base. Returns
    /// `Some(Ok(()))` when the entry frame returned, `None` to continue in the caller.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn ret(
        &self,
        frames: &mut Vec<Frame>,
        code: &mut &FuncCode,
        data: &mut *const InterpInstance,
        vmctx: &mut *mut VMContext,
        counters: &mut *const Counters,
        fp: &mut *mut u64,
        sptr: *mut u64,
    ) -> Option<Result<(), TrapCode>> {
        frames.pop();
        let Some(caller) = frames.last() else {
            return Some(Ok(()));
        };
        // SAFETY: frames hold code of live instances.
        *code = unsafe { &*caller.code };
        *data = caller.data;
        *vmctx = caller.vmctx;
        *counters = caller.counters;
        // SAFETY: the caller's base is inside the vector.
        *fp = unsafe { sptr.add(caller.base) };
        None
    }
}

#[cfg(test)]
mod tests;
