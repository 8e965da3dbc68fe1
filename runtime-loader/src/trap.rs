//! Entering compiled code and unwinding out of it on a trap, without any OS support.
//!
//! [`enter`] is a small x86-64 System V trampoline: it saves the callee-saved registers on
//! its own stack, links a jump buffer (two words on the same stack: the previous innermost
//! buffer and the [`TrapContext`]) into the store-wide [`TrapContext`], and calls an
//! [`ArrayFn`](crate::abi::ArrayFn). [`raise_trap`] (the libcall in slot
//! [`libcall::RAISE_TRAP`](crate::abi::libcall::RAISE_TRAP)) reloads the stack pointer from the
//! innermost buffer, unlinks it and makes that [`enter`] return the trap code.
//!
//! Nesting (host → wasm → host → wasm) works because every host-to-wasm transition goes
//! through its own [`enter`]: a trap only ever unwinds compiled-code frames up to the innermost
//! trampoline. Rust frames (host functions, the interpreter, libcalls) are never jumped over:
//! they return a status, and the compiled code that called them raises the trap itself.
//!
//! The trap context also carries the stack limit compiled code checks at function entry (see
//! docs/ABI.md, "Stack overflow"): the outermost [`enter`] sets it to its own stack pointer
//! minus [`TrapContext::stack_budget`], but never below [`TrapContext::stack_floor`]: the
//! lowest address of the calling thread's real stack plus [`HOST_STACK_MARGIN`] (found with
//! `pthread_getattr_np` on Linux, feature `unix`), or the embedder's
//! [`TrapContext::stack_floor_min`] where there is no pthread (firmware). When the floor is at
//! or above the stack pointer, [`enter`] refuses to run wasm and returns
//! [`TrapCode::StackOverflow`](crate::TrapCode::StackOverflow).

use crate::abi::{FuncRef, VMContext};

/// Store-wide trap state, reached from every instance through `VMContext::trap_ctx`.
///
/// Field offsets are the `TRAP_CTX_*` constants below; compiled code reads
/// [`TrapContext::stack_limit`] and the trampolines read and write [`TrapContext::jmp`].
#[repr(C)]
#[derive(Debug)]
pub struct TrapContext {
    /// Innermost jump buffer (null when no compiled code is running on this store).
    pub jmp: *mut u8,
    /// Lowest stack address compiled code may reach; checked in every compiled function's
    /// prologue. Written by the outermost [`enter`] when [`TrapContext::stack_budget`] is
    /// non-zero.
    pub stack_limit: usize,
    /// How many bytes of stack compiled code (and everything it calls) may use below the
    /// outermost [`enter`]. Zero means "leave `stack_limit` alone" (the embedder sets it).
    pub stack_budget: usize,
    /// Number of [`enter`] frames currently active.
    pub depth: usize,
    /// The code of the last trap that unwound to an [`enter`] (0 if none yet).
    pub last_trap: u32,
    /// Wasm code offset (from the start of the module) of the instruction that raised the
    /// last trap, when compiled code knows it (0 = unknown: no instruction sits at offset 0).
    /// Written with [`TrapContext::last_func`]; the embedder clears it.
    pub last_offset: u32,
    /// The `FuncRef` of the compiled function that raised the last trap, when compiled code
    /// raised it (null when it came from a host function or the interpreter through a stub).
    /// Written by compiled code just before it calls `RAISE_TRAP`; the embedder clears it.
    pub last_func: *const FuncRef,
    /// The lowest value the outermost [`enter`] gives [`TrapContext::stack_limit`]: the
    /// larger of [`TrapContext::stack_floor_min`] and the calling thread's stack bottom plus
    /// [`HOST_STACK_MARGIN`] (when the build can find it, see [`thread_stack_floor`]).
    /// Recomputed by every outermost [`enter`], so it follows the calling thread.
    pub stack_floor: usize,
    /// The embedder's floor (0 = none): the lowest stack address wasm may use, for targets
    /// where the loader cannot ask the thread library (bare metal, see the C API).
    pub stack_floor_min: usize,
    /// Remaining fuel (docs/ABI.md, "Bounded execution"): code compiled with fuel checks
    /// (and the interpreter when the store asks for fuel) subtracts 1 at every function
    /// entry and every taken loop back-edge and traps [`crate::TrapCode::OutOfFuel`] when
    /// the result is below 0. Store-wide, like the stack limit; the host reads and sets it.
    pub fuel: i64,
    /// Interrupt flag: non-zero asks code compiled with interrupt checks (and the
    /// interpreter when the store asks for them) to trap [`crate::TrapCode::Interrupted`]
    /// at its next function entry or back-edge; the check clears it. Written with a single
    /// store from any thread or a signal handler (see [`request_interrupt`]).
    pub interrupt: u32,
    /// Exception handling: non-zero while compiled code returns an uncaught exception to a
    /// compiled caller that asked for it (docs/ABI.md, "Exceptions"); that caller clears it.
    /// The exception itself is the store's pending one. Fills the padding before `walk`.
    pub exn_pending: u32,
    /// Called by the raise path, when set, before it unwinds: `walk(ctx, sp, fp)` with the
    /// stack pointer at the raise entry (`[sp]` is the return address into the code that
    /// raised the trap) and that code's frame pointer. The std side installs
    /// [`record_frames`] to keep a wasm backtrace of compiled code; the C library leaves it
    /// null (the raise path then only tests it).
    pub walk: Option<unsafe extern "C" fn(ctx: *mut TrapContext, sp: usize, fp: usize)>,
    /// Where [`record_frames`] writes (null: nowhere); owned by whoever sets `walk`.
    pub frames: *mut TrapFrames,
    /// Exception handling: the table of the embedder's exception functions compiled code
    /// of a module that uses exceptions calls (`throw`, `throw_ref`, `catch`: three code
    /// addresses; docs/ABI.md, "Exceptions"). Null where the embedder has none (the
    /// loaders: such code is not loaded there).
    pub exn_fns: *const usize,
}

/// Return addresses of the compiled frames a trap unwound, innermost first, as
/// [`record_frames`] found them by following the frame-pointer chain (every compiled
/// function keeps frame pointers: Cranelift's `preserve_frame_pointers`). The embedder maps
/// them to functions with its code ranges; an address outside compiled code ends the chain.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TrapFrames {
    /// Entries of `pcs` in use.
    pub len: usize,
    /// `pcs[0]`: the return address of the raise call (inside the code that trapped); then
    /// one return address per caller frame.
    pub pcs: [usize; TrapFrames::MAX],
}

impl TrapFrames {
    /// Most frames kept (the innermost ones).
    pub const MAX: usize = 32;

    /// No frames.
    pub const EMPTY: TrapFrames = TrapFrames {
        len: 0,
        pcs: [0; TrapFrames::MAX],
    };

    /// The recorded return addresses.
    pub fn pcs(&self) -> &[usize] {
        &self.pcs[..self.len.min(Self::MAX)]
    }
}

/// The raise path's frame walk ([`TrapContext::walk`]): records in `(*ctx).frames` the
/// return address at `sp`, then the return address of every frame of the chain from `fp`,
/// while the chain climbs strictly towards the innermost [`enter`]'s buffer
/// (`TrapContext::jmp`): every word it reads lies between the raise call and that entry, on
/// the stack wasm is running on. No allocation, no lock.
///
/// # Safety
/// Called by the raise path only: `ctx` is the live trap context with an active entry,
/// `sp` the raise entry's stack pointer.
pub unsafe extern "C" fn record_frames(ctx: *mut TrapContext, sp: usize, fp: usize) {
    // SAFETY: per the contract; every address read is checked to lie in [sp, jmp), the
    // live part of the stack between the raise call and the innermost entry.
    unsafe {
        let out = (*ctx).frames;
        if out.is_null() {
            return;
        }
        let top = (*ctx).jmp as usize;
        let mut n = 0;
        if sp.checked_add(8).is_some_and(|e| e <= top) {
            (*out).pcs[0] = *(sp as *const usize);
            n = 1;
        }
        let (mut prev, mut fp) = (sp, fp);
        while n < TrapFrames::MAX
            && fp > prev
            && fp % 8 == 0
            && fp.checked_add(16).is_some_and(|e| e <= top)
        {
            (*out).pcs[n] = *((fp + 8) as *const usize);
            n += 1;
            prev = fp;
            fp = *(fp as *const usize);
        }
        (*out).len = n;
    }
}

/// Offset of [`TrapContext::fuel`].
pub const TRAP_CTX_FUEL: i32 = 64;
/// Offset of [`TrapContext::interrupt`].
pub const TRAP_CTX_INTERRUPT: i32 = 72;
/// Offset of [`TrapContext::exn_pending`].
pub const TRAP_CTX_EXN_PENDING: i32 = 76;
/// Offset of [`TrapContext::exn_fns`].
pub const TRAP_CTX_EXN_FNS: i32 = 96;
/// Offset of [`TrapContext::walk`].
pub const TRAP_CTX_WALK: i32 = 80;

/// Sets the interrupt flag of the trap context at `ctx` (one volatile 32-bit store:
/// async-signal-safe, callable from another thread or an interrupt handler).
///
/// # Safety
/// `ctx` must point at a live [`TrapContext`].
#[inline]
pub unsafe fn request_interrupt(ctx: *mut TrapContext) {
    // SAFETY: per the caller; an aligned u32 store is atomic on every supported target.
    unsafe { core::ptr::write_volatile(&raw mut (*ctx).interrupt, 1) }
}

/// Offset of [`TrapContext::jmp`].
pub const TRAP_CTX_JMP: i32 = 0;
/// Offset of [`TrapContext::stack_limit`].
pub const TRAP_CTX_STACK_LIMIT: i32 = 8;
/// Offset of [`TrapContext::stack_budget`].
pub const TRAP_CTX_STACK_BUDGET: i32 = 16;
/// Offset of [`TrapContext::depth`].
pub const TRAP_CTX_DEPTH: i32 = 24;
/// Offset of [`TrapContext::last_trap`].
pub const TRAP_CTX_LAST_TRAP: i32 = 32;
/// Offset of [`TrapContext::last_offset`].
pub const TRAP_CTX_LAST_OFFSET: i32 = 36;
/// Offset of [`TrapContext::last_func`].
pub const TRAP_CTX_LAST_FUNC: i32 = 40;
/// Offset of [`TrapContext::stack_floor`].
pub const TRAP_CTX_STACK_FLOOR: i32 = 48;

/// Stack kept free below the deepest wasm frame for the host code that runs under compiled
/// code: libcalls, host functions (WASI), the interpreter entered from a stub, and a tier-up
/// compilation it may start. The stack limit is never set closer than this to the bottom of
/// the calling thread's stack.
pub const HOST_STACK_MARGIN: usize = 128 << 10;

/// Default [`TrapContext::stack_budget`]: 1 MiB. Rust's default thread stack is 2 MiB, so the
/// rest stays free for host frames (libcalls, host functions, the interpreter) that run below
/// the deepest compiled frame.
pub const DEFAULT_STACK_BUDGET: usize = 1 << 20;

impl TrapContext {
    /// A trap context with no active entry and the given stack budget.
    pub const fn new(stack_budget: usize) -> TrapContext {
        TrapContext {
            jmp: core::ptr::null_mut(),
            stack_limit: 0,
            stack_budget,
            depth: 0,
            last_trap: 0,
            last_offset: 0,
            last_func: core::ptr::null(),
            stack_floor: 0,
            stack_floor_min: 0,
            fuel: 0,
            interrupt: 0,
            exn_pending: 0,
            walk: None,
            frames: core::ptr::null_mut(),
            exn_fns: core::ptr::null(),
        }
    }
}

impl Default for TrapContext {
    fn default() -> Self {
        TrapContext::new(DEFAULT_STACK_BUDGET)
    }
}

// The jump buffer `enter` builds on its stack, from its stack pointer upwards:
//   [rsp + 0]  previous innermost buffer (TrapContext::jmp before this entry)
//   [rsp + 8]  the TrapContext
//   [rsp + 16] padding (keeps rsp 16-byte aligned at the call)
//   [rsp + 24] r15, r14, r13, r12, rbx, rbp, return address
core::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl bareflow_trap_enter",
    "bareflow_trap_enter:",
    // rdi = trap_ctx, rsi = array fn, rdx = vmctx, rcx = callee, r8 = values
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 24",
    // Outermost entry: derive the stack limit from the current stack pointer.
    "cmp qword ptr [rdi + {depth}], 0",
    "jne 2f",
    "mov rax, qword ptr [rdi + {budget}]",
    "test rax, rax",
    "jz 2f",
    // stack_floor = the calling thread's floor (a Rust call; the argument registers are
    // saved around it and rsp stays 16-byte aligned).
    "sub rsp, 48",
    "mov qword ptr [rsp], rdi",
    "mov qword ptr [rsp + 8], rsi",
    "mov qword ptr [rsp + 16], rdx",
    "mov qword ptr [rsp + 24], rcx",
    "mov qword ptr [rsp + 32], r8",
    "call {refresh}",
    "mov rdi, qword ptr [rsp]",
    "mov rsi, qword ptr [rsp + 8]",
    "mov rdx, qword ptr [rsp + 16]",
    "mov rcx, qword ptr [rsp + 24]",
    "mov r8, qword ptr [rsp + 32]",
    "add rsp, 48",
    // limit = max(rsp - budget (0 if that wraps), stack_floor)
    "mov r9, rsp",
    "sub r9, qword ptr [rdi + {budget}]",
    "jae 4f",
    "xor r9d, r9d",
    "4:",
    "mov rax, qword ptr [rdi + {floor}]",
    "cmp r9, rax",
    "jae 5f",
    "mov r9, rax",
    "5:",
    // Too little stack left to run wasm at all: refuse, as a stack-overflow trap.
    "cmp r9, rsp",
    "jae 6f",
    "mov qword ptr [rdi + {limit}], r9",
    "2:",
    "add qword ptr [rdi + {depth}], 1",
    "mov rax, qword ptr [rdi + {jmp}]",
    "mov qword ptr [rsp], rax",
    "mov qword ptr [rsp + 8], rdi",
    "mov qword ptr [rdi + {jmp}], rsp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "call rax",
    // Normal return (eax = status) or landing from raise_trap (eax = trap code, rsp = buffer).
    ".globl bareflow_trap_landing",
    "bareflow_trap_landing:",
    "mov rcx, qword ptr [rsp + 8]",
    "mov rdx, qword ptr [rsp]",
    "mov qword ptr [rcx + {jmp}], rdx",
    "sub qword ptr [rcx + {depth}], 1",
    "add rsp, 24",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "6:",
    "mov eax, {stack_overflow}",
    "mov dword ptr [rdi + {last_trap}], eax",
    "add rsp, 24",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "",
    ".p2align 4",
    ".globl bareflow_trap_raise",
    "bareflow_trap_raise:",
    // rdi = vmctx, esi = code
    "mov rdi, qword ptr [rdi + {vmctx_trap_ctx}]",
    // fall through
    ".globl bareflow_trap_raise_ctx",
    "bareflow_trap_raise_ctx:",
    // rdi = trap_ctx, esi = code
    "mov rax, rdi",
    "mov rcx, qword ptr [rax + {jmp}]",
    "test rcx, rcx",
    "jz 3f",
    // A frame walk (TrapContext::walk) before the frames are dropped. The callee-saved
    // registers are free: the landing restores the entry's.
    "mov rdx, qword ptr [rax + {walk}]",
    "test rdx, rdx",
    "jz 4f",
    "mov rbx, rax",
    "mov r12d, esi",
    "mov r13, rdx",
    "mov rdi, rax",
    "mov rsi, rsp",
    "mov rdx, rbp",
    "and rsp, -16",
    "call r13",
    "mov rax, rbx",
    "mov esi, r12d",
    "mov rcx, qword ptr [rax + {jmp}]",
    "4:",
    "mov dword ptr [rax + {last_trap}], esi",
    "mov rsp, rcx",
    "mov eax, esi",
    "jmp bareflow_trap_landing",
    // No active entry: a bug in the embedder; there is nowhere to unwind to.
    "3:",
    "ud2",
    jmp = const TRAP_CTX_JMP,
    limit = const TRAP_CTX_STACK_LIMIT,
    budget = const TRAP_CTX_STACK_BUDGET,
    depth = const TRAP_CTX_DEPTH,
    last_trap = const TRAP_CTX_LAST_TRAP,
    walk = const TRAP_CTX_WALK,
    floor = const TRAP_CTX_STACK_FLOOR,
    stack_overflow = const crate::abi::TrapCode::StackOverflow as u32,
    refresh = sym refresh_stack_floor,
    vmctx_trap_ctx = const crate::abi::VMCTX_TRAP_CTX,
);

/// Called by the outermost [`enter`]: `stack_floor = max(stack_floor_min, thread floor)`.
///
/// # Safety
/// `ctx` must point at a live [`TrapContext`].
unsafe extern "C" fn refresh_stack_floor(ctx: *mut TrapContext) {
    let auto = thread_stack_floor().unwrap_or(0);
    // SAFETY: per the contract; the trampoline passes its own live trap context.
    unsafe { (*ctx).stack_floor = (*ctx).stack_floor_min.max(auto) };
}

/// The lowest address of the calling thread's stack plus [`HOST_STACK_MARGIN`], if this
/// build can find the stack (Linux with feature `unix`: `pthread_getattr_np`, which for the
/// main thread accounts for `ulimit -s`). Cached per thread in std builds.
pub fn thread_stack_floor() -> Option<usize> {
    #[cfg(all(feature = "std", target_os = "linux"))]
    {
        use core::cell::Cell;
        std::thread_local! {
            static FLOOR: Cell<Option<usize>> = const { Cell::new(None) };
        }
        if let Ok(Some(f)) = FLOOR.try_with(Cell::get) {
            return Some(f);
        }
        let f = stack::bottom()?.checked_add(HOST_STACK_MARGIN)?;
        let _ = FLOOR.try_with(|c| c.set(Some(f)));
        Some(f)
    }
    #[cfg(all(feature = "unix", not(feature = "std"), target_os = "linux"))]
    {
        stack::bottom()?.checked_add(HOST_STACK_MARGIN)
    }
    #[cfg(not(all(feature = "unix", target_os = "linux")))]
    {
        None
    }
}

#[cfg(all(feature = "unix", target_os = "linux"))]
mod stack {
    use core::ffi::c_void;

    /// `pthread_attr_t`: 56 bytes on x86-64 glibc and musl; a little more, aligned.
    #[repr(C, align(8))]
    struct Attr([u8; 64]);

    #[cfg_attr(not(feature = "std"), link(name = "c"))]
    unsafe extern "C" {
        fn pthread_self() -> usize;
        fn pthread_getattr_np(thread: usize, attr: *mut Attr) -> i32;
        fn pthread_attr_getstack(
            attr: *const Attr,
            addr: *mut *mut c_void,
            size: *mut usize,
        ) -> i32;
        fn pthread_attr_destroy(attr: *mut Attr) -> i32;
    }

    /// The lowest address of the calling thread's stack.
    pub fn bottom() -> Option<usize> {
        let mut attr = Attr([0; 64]);
        let mut addr: *mut c_void = core::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: `attr` is large enough for a `pthread_attr_t`; it is initialized by
        // `pthread_getattr_np` before it is read and destroyed afterwards.
        unsafe {
            if pthread_getattr_np(pthread_self(), &mut attr) != 0 {
                return None;
            }
            let r = pthread_attr_getstack(&attr, &mut addr, &mut size);
            pthread_attr_destroy(&mut attr);
            if r != 0 || addr.is_null() || size == 0 {
                return None;
            }
        }
        Some(addr as usize)
    }
}

unsafe extern "C" {
    pub(crate) fn bareflow_trap_enter(
        trap_ctx: *mut TrapContext,
        array_fn: *const u8,
        vmctx: *mut VMContext,
        callee: *const FuncRef,
        values: *mut u64,
    ) -> u32;
    pub(crate) fn bareflow_trap_raise(vmctx: *mut VMContext, code: u32) -> !;
    fn bareflow_trap_raise_ctx(trap_ctx: *mut TrapContext, code: u32) -> !;
}

/// Calls `array_fn(vmctx, callee, values)` so that a [`raise_trap`] anywhere below it (in
/// compiled code, not across Rust frames) returns here. Returns the function's status: 0 on
/// success, else a [`TrapCode`](crate::TrapCode) value.
///
/// # Safety
///
/// `trap_ctx` must point to a live [`TrapContext`] that every vmctx reachable from the callee
/// refers to; `array_fn` must be an [`ArrayFn`](crate::abi::ArrayFn) that accepts `vmctx`,
/// `callee` and a `values` buffer as large as its signature needs. Code reached from it may
/// call [`raise_trap`] only from frames that hold no destructors or locks (compiled code).
pub unsafe fn enter(
    trap_ctx: *mut TrapContext,
    array_fn: *const u8,
    vmctx: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: forwarded from the caller's contract; the trampoline preserves every
    // callee-saved register and restores the stack on both the normal and the trap path.
    unsafe { bareflow_trap_enter(trap_ctx, array_fn, vmctx, callee, values) }
}

/// Address of the raise-trap routine, for slot `libcall::RAISE_TRAP` of the libcall table.
/// Its ABI is `extern "C" fn(vmctx: *mut VMContext, code: u32) -> !`.
pub fn raise_trap_address() -> usize {
    bareflow_trap_raise as *const () as usize
}

/// Address of [`enter`]'s trampoline, `extern "C" fn(trap_ctx, array_fn, vmctx, callee,
/// values) -> u32`, for generated code that enters other generated code.
pub fn enter_address() -> usize {
    bareflow_trap_enter as *const () as usize
}

/// Address of [`raise_trap_in`]'s routine, `extern "C" fn(trap_ctx: *mut TrapContext,
/// code: u32) -> !`, for generated code that knows its trap context but has no vmctx.
pub fn raise_trap_in_address() -> usize {
    bareflow_trap_raise_ctx as *const () as usize
}

/// Like [`raise_trap`], with the trap context given directly.
///
/// # Safety
///
/// As for [`raise_trap`]; `trap_ctx` must have an active [`enter`].
pub unsafe fn raise_trap_in(trap_ctx: *mut TrapContext, code: u32) -> ! {
    // SAFETY: forwarded from the caller's contract.
    unsafe { bareflow_trap_raise_ctx(trap_ctx, code) }
}

/// Unwinds to the innermost active [`enter`], which returns `code`.
///
/// # Safety
///
/// `vmctx.trap_ctx` must point to a [`TrapContext`] with an active [`enter`], and every frame
/// between here and that entry must be safe to discard without running code (no Rust frames
/// with destructors, no held locks). Intended for compiled code; Rust code returns a status.
pub unsafe fn raise_trap(vmctx: *mut VMContext, code: u32) -> ! {
    // SAFETY: forwarded from the caller's contract.
    unsafe { bareflow_trap_raise(vmctx, code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;
    use core::ptr::{null, null_mut};

    #[test]
    fn offsets_match_layout() {
        assert_eq!(offset_of!(TrapContext, jmp) as i32, TRAP_CTX_JMP);
        assert_eq!(
            offset_of!(TrapContext, stack_limit) as i32,
            TRAP_CTX_STACK_LIMIT
        );
        assert_eq!(
            offset_of!(TrapContext, stack_budget) as i32,
            TRAP_CTX_STACK_BUDGET
        );
        assert_eq!(offset_of!(TrapContext, depth) as i32, TRAP_CTX_DEPTH);
        assert_eq!(
            offset_of!(TrapContext, last_trap) as i32,
            TRAP_CTX_LAST_TRAP
        );
        assert_eq!(
            offset_of!(TrapContext, last_offset) as i32,
            TRAP_CTX_LAST_OFFSET
        );
        assert_eq!(
            offset_of!(TrapContext, last_func) as i32,
            TRAP_CTX_LAST_FUNC
        );
        assert_eq!(
            offset_of!(TrapContext, stack_floor) as i32,
            TRAP_CTX_STACK_FLOOR
        );
        assert_eq!(offset_of!(TrapContext, fuel) as i32, TRAP_CTX_FUEL);
        assert_eq!(
            offset_of!(TrapContext, interrupt) as i32,
            TRAP_CTX_INTERRUPT
        );
        assert_eq!(offset_of!(TrapContext, walk) as i32, TRAP_CTX_WALK);
        assert_eq!(
            offset_of!(TrapContext, exn_pending) as i32,
            TRAP_CTX_EXN_PENDING
        );
        assert_eq!(offset_of!(TrapContext, exn_fns) as i32, TRAP_CTX_EXN_FNS);
    }

    fn vmctx_with(trap_ctx: *mut TrapContext) -> VMContext {
        VMContext {
            memory: null_mut(),
            globals: null(),
            tables: null(),
            funcs: null(),
            type_ids: null(),
            stack_limit: 0,
            libcalls: null(),
            trap_ctx: trap_ctx.cast(),
            instance: null_mut(),
            memories: null(),
        }
    }

    unsafe extern "C" fn adds(_vmctx: *mut VMContext, _c: *const FuncRef, v: *mut u64) -> u32 {
        // SAFETY: the tests pass a two-slot buffer.
        unsafe { *v += *v.add(1) };
        0
    }

    unsafe extern "C" fn traps(vmctx: *mut VMContext, _c: *const FuncRef, v: *mut u64) -> u32 {
        // SAFETY: the tests pass a one-slot buffer; this frame has nothing to drop.
        unsafe {
            *v = 99;
            raise_trap(vmctx, 7)
        }
    }

    /// Re-enters (host → "wasm" → host → "wasm"), lets the inner one trap, then traps itself
    /// with a code derived from the inner status.
    unsafe extern "C" fn nested(vmctx: *mut VMContext, _c: *const FuncRef, v: *mut u64) -> u32 {
        // SAFETY: vmctx.trap_ctx is live (set up by the test); the inner call uses its own slot.
        unsafe {
            let ctx: *mut TrapContext = (*vmctx).trap_ctx.cast();
            assert_eq!((*ctx).depth, 1);
            let mut inner = [0u64; 1];
            let status = enter(ctx, traps as *const u8, vmctx, null(), inner.as_mut_ptr());
            assert_eq!(status, 7);
            assert_eq!((*ctx).depth, 1);
            *v = u64::from(status);
            raise_trap(vmctx, status + 1)
        }
    }

    #[test]
    fn normal_return_and_trap() {
        let mut ctx = TrapContext::default();
        let mut vm = vmctx_with(&mut ctx);
        let mut values = [40u64, 2];
        // SAFETY: live trap context and a two-slot buffer.
        let status = unsafe {
            enter(
                &mut ctx,
                adds as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!(status, 0);
        assert_eq!(values[0], 42);
        assert!(ctx.jmp.is_null());
        assert_eq!(ctx.depth, 0);
        assert!(ctx.stack_limit != 0);

        // SAFETY: as above.
        let status = unsafe {
            enter(
                &mut ctx,
                traps as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!(status, 7);
        assert_eq!(values[0], 99);
        assert_eq!(ctx.last_trap, 7);
        assert!(ctx.jmp.is_null());
        assert_eq!(ctx.depth, 0);

        // The context stays usable after a trap.
        let mut values = [1u64, 2];
        // SAFETY: as above.
        let status = unsafe {
            enter(
                &mut ctx,
                adds as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!((status, values[0]), (0, 3));
    }

    /// The embedder's floor (`stack_floor_min`, the C API's `bf_set_stack_floor`) bounds the
    /// limit, and an entry with the stack pointer already below it runs nothing.
    #[test]
    fn stack_floor_bounds_the_limit_and_refuses_entry() {
        let mut ctx = TrapContext::new(usize::MAX);
        let mut vm = vmctx_with(&mut ctx);
        let here = &ctx as *const TrapContext as usize;
        // A floor a little below this frame: the budget (wrapping to 0) loses to it.
        ctx.stack_floor_min = here - (64 << 10);
        let mut values = [40u64, 2];
        // SAFETY: live trap context and a two-slot buffer.
        let status = unsafe {
            enter(
                &mut ctx,
                adds as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!((status, values[0]), (0, 42));
        assert!(
            ctx.stack_limit >= here - (64 << 10),
            "{:#x}",
            ctx.stack_limit
        );
        // A floor above the stack pointer: refused with StackOverflow, `adds` never runs.
        ctx.stack_floor_min = here + (1 << 20);
        let mut values = [40u64, 2];
        // SAFETY: as above.
        let status = unsafe {
            enter(
                &mut ctx,
                adds as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!(status, crate::abi::TrapCode::StackOverflow as u32);
        assert_eq!(values[0], 40, "nothing ran");
        assert!(ctx.jmp.is_null());
        assert_eq!(ctx.depth, 0);
        // Usable again once the floor is lifted.
        ctx.stack_floor_min = 0;
        // SAFETY: as above.
        let status = unsafe {
            enter(
                &mut ctx,
                adds as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!((status, values[0]), (0, 42));
    }

    /// On Linux the thread's floor is found and lies below the current frame.
    #[cfg(all(feature = "unix", target_os = "linux"))]
    #[test]
    fn thread_floor_is_below_this_frame() {
        let x = 0u8;
        let here = &x as *const u8 as usize;
        let floor = thread_stack_floor().expect("pthread_getattr_np");
        assert!(floor < here, "{floor:#x} >= {here:#x}");
        let t = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let y = 0u8;
                let here = &y as *const u8 as usize;
                let floor = thread_stack_floor().unwrap();
                // 256 KiB stack, 128 KiB margin: the floor is within 256 KiB below us.
                assert!(
                    floor < here && here - floor < 256 << 10,
                    "{floor:#x} {here:#x}"
                );
            })
            .unwrap();
        t.join().unwrap();
    }

    #[test]
    fn nested_entries_unwind_to_the_innermost() {
        let mut ctx = TrapContext::default();
        let mut vm = vmctx_with(&mut ctx);
        let mut values = [0u64; 1];
        // SAFETY: live trap context and a one-slot buffer.
        let status = unsafe {
            enter(
                &mut ctx,
                nested as *const u8,
                &mut vm,
                null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!(status, 8);
        assert_eq!(values[0], 7);
        assert!(ctx.jmp.is_null());
        assert_eq!(ctx.depth, 0);
    }
}
