//! Guard-page memory mode (Linux x86-64, feature `std`): reserved linear memories, a registry
//! of compiled code's trap sites, and the `SIGSEGV`/`SIGBUS` handler that turns a fault at a
//! recorded trap site into an ordinary BareFlow trap.
//!
//! * **Memory.** [`reserve`] maps [`RESERVATION`] bytes `PROT_NONE` (no commit charge) and
//!   [`commit`] makes the accessible prefix read/write as the memory grows, so
//!   `MemoryDef::base` never moves. A wasm address is `base + zext(index) + offset` with a
//!   32-bit index and a 32-bit offset, at most `2^33 - 2 + 8` bytes past `base`: it can never
//!   leave the reservation, so compiled code needs no bounds check: an access past `len` hits
//!   a `PROT_NONE` page and faults.
//! * **Trap sites.** Code that relies on faults registers its code range, the offsets of its
//!   faulting instructions (Cranelift's trap records) and the store's
//!   [`TrapContext`] with [`register`]; the returned
//!   [`Registration`] removes them on drop (before the code is freed).
//! * **Handler.** Installed once ([`install`]), on an alternate signal stack. On a fault whose
//!   PC is a registered trap site it rewrites the interrupted context so that, when the
//!   handler returns, the thread continues in `raise_trap_in(trap_ctx, code)` (`rdi`, `rsi`,
//!   `rip`, an aligned `rsp`): the ordinary trap path, which unwinds to the innermost
//!   `trap::enter`. Any other fault goes to the previous handler (or the default action).
//!
//! Every thread that runs guard-mode code needs an alternate signal stack; [`prepare_thread`]
//! gives the calling thread one if it has none (Rust's runtime already does this for its own
//! threads). The lookup in the handler takes a read lock on the registry: the faulting thread
//! is running compiled code, so it never holds the registry's write lock itself.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use std::sync::{Once, RwLock};
use std::vec::Vec;

use crate::abi::{FuncRef, TrapCode};
use crate::trap::{TrapContext, raise_trap_in_address};

/// Bytes reserved per guard-mode memory: 8 GiB (32-bit index + 32-bit offset) plus one wasm
/// page for the access size.
pub const RESERVATION: usize = (8 << 30) + 0x1_0000;

const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_PRIVATE: i32 = 0x02;
const MAP_ANONYMOUS: i32 = 0x20;
const SIGBUS: i32 = 7;
const SIGSEGV: i32 = 11;
const SA_SIGINFO: i32 = 4;
const SA_ONSTACK: i32 = 0x0800_0000;
const SS_DISABLE: i32 = 2;
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;
/// Size of the alternate signal stacks this module allocates.
const ALT_STACK_SIZE: usize = 64 << 10;

// `ucontext_t` on x86-64 Linux: uc_flags (8), uc_link (8), uc_stack (24), then
// `mcontext_t.gregs[23]`, indexed by the REG_* constants of <sys/ucontext.h>.
const GREGS_OFFSET: usize = 40;
const REG_RDI: usize = 8;
const REG_RSI: usize = 9;
const REG_RSP: usize = 15;
const REG_RIP: usize = 16;

/// `struct sigaction` as glibc and musl define it on x86-64 Linux.
#[repr(C)]
#[derive(Clone, Copy)]
struct SigAction {
    sa_sigaction: usize,
    sa_mask: [u64; 16],
    sa_flags: i32,
    sa_restorer: usize,
}

/// `stack_t`.
#[repr(C)]
struct StackT {
    ss_sp: *mut c_void,
    ss_flags: i32,
    ss_size: usize,
}

unsafe extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
    -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
    fn sigaction(sig: i32, act: *const SigAction, old: *mut SigAction) -> i32;
    fn sigaltstack(ss: *const StackT, old: *mut StackT) -> i32;
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

/// Reserves a [`RESERVATION`]-byte inaccessible region and makes its first `len` bytes
/// read/write (zeroed). Returns the base, or `None` if the address space is exhausted.
/// The mapping itself is [`crate::vmem`]'s, shared with checked memories.
pub fn reserve(len: usize) -> Option<*mut u8> {
    crate::vmem::reserve(RESERVATION, len)
}

/// Makes bytes `from..to` of the reservation at `base` read/write. Page-aligned bounds are
/// expected (wasm pages are); returns `false` if the kernel refuses.
///
/// # Safety
/// `base` must come from [`reserve`] and not be released; `from <= to <= RESERVATION`.
pub unsafe fn commit(base: *mut u8, from: usize, to: usize) -> bool {
    // SAFETY: per the caller, the range lies inside a live reservation.
    unsafe { crate::vmem::commit(base, from, to) }
}

/// Unmaps a reservation.
///
/// # Safety
/// `base` must come from [`reserve`]; no reference into the region may be used afterwards.
pub unsafe fn release(base: *mut u8) {
    // SAFETY: per the caller, the whole reservation is ours to unmap.
    unsafe { crate::vmem::release(base, RESERVATION) };
}

// ---------------------------------------------------------------------------------------
// Trap-site registry
// ---------------------------------------------------------------------------------------

struct Region {
    id: u64,
    start: usize,
    end: usize,
    trap_ctx: usize,
    /// The `FuncRef` of the function the code belongs to (0 = unknown), written to
    /// `TrapContext::last_func` when one of its sites faults.
    func: usize,
    /// `(offset from start, trap code, wasm code offset or 0)`, sorted by offset.
    traps: Vec<(u32, u32, u32)>,
}

struct Registry {
    next_id: u64,
    /// Sorted by `start`.
    regions: Vec<Region>,
}

static REGISTRY: RwLock<Registry> = RwLock::new(Registry {
    next_id: 1,
    regions: Vec::new(),
});

/// Keeps a code range's trap sites registered; dropping it unregisters them.
#[derive(Debug)]
pub struct Registration {
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        reg.regions.retain(|r| r.id != self.id);
    }
}

/// Registers the code at `start..start + len` whose instructions at the given offsets fault
/// on purpose (out-of-bounds guard-page accesses), raising `code` into `trap_ctx`. Installs
/// the signal handler on first use and prepares the calling thread ([`prepare_thread`]).
///
/// # Safety
/// `trap_ctx` must outlive the registration, and the code must stay mapped while it is
/// registered. Each listed offset must be an instruction that can only fault because of a
/// guard-page access, in code that may be unwound with `raise_trap_in` (compiled code
/// entered through `trap::enter`).
pub unsafe fn register(
    start: *const u8,
    len: usize,
    traps: impl IntoIterator<Item = (u32, TrapCode)>,
    trap_ctx: *mut TrapContext,
) -> Registration {
    let traps = traps.into_iter().map(|(o, c)| (o, c, 0));
    // SAFETY: forwarded from the caller's contract.
    unsafe { register_located(start, len, traps, core::ptr::null(), trap_ctx) }
}

/// [`register`] for the code of one function whose trap sites also carry their wasm code
/// offset (`(code offset, trap code, wasm offset or 0)`): a fault at a site also records the
/// wasm offset in `TrapContext::last_offset` and `func` (the function's `FuncRef`, or null)
/// in `TrapContext::last_func`, as compiled code does before raising an explicit trap.
///
/// # Safety
/// As for [`register`]; `func`, if not null, must stay valid while registered.
pub unsafe fn register_located(
    start: *const u8,
    len: usize,
    traps: impl IntoIterator<Item = (u32, TrapCode, u32)>,
    func: *const FuncRef,
    trap_ctx: *mut TrapContext,
) -> Registration {
    install();
    prepare_thread();
    let mut traps: Vec<(u32, u32, u32)> = traps
        .into_iter()
        .map(|(o, c, w)| (o, c as u32, w))
        .collect();
    traps.sort_unstable();
    traps.dedup_by_key(|t| t.0);
    let start = start as usize;
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let id = reg.next_id;
    reg.next_id += 1;
    let at = reg.regions.partition_point(|r| r.start <= start);
    reg.regions.insert(
        at,
        Region {
            id,
            start,
            end: start.saturating_add(len),
            trap_ctx: trap_ctx as usize,
            func: func as usize,
            traps,
        },
    );
    Registration { id }
}

/// What the registry knows about a faulting trap site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Site {
    trap_ctx: usize,
    code: u32,
    wasm_offset: u32,
    func: usize,
}

/// The registered trap site at a faulting `pc`, if it is one.
fn lookup(pc: usize) -> Option<Site> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let i = reg.regions.partition_point(|r| r.start <= pc);
    // Regions may overlap only if code is registered twice; search backwards a little.
    for r in reg.regions[..i].iter().rev().take(4) {
        if pc >= r.end {
            continue;
        }
        let off = u32::try_from(pc - r.start).ok()?;
        if let Ok(k) = r.traps.binary_search_by_key(&off, |t| t.0) {
            let (_, code, wasm_offset) = r.traps[k];
            return Some(Site {
                trap_ctx: r.trap_ctx,
                code,
                wasm_offset,
                func: r.func,
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Signal handler
// ---------------------------------------------------------------------------------------

/// The actions that were installed before ours (SIGSEGV, SIGBUS), written once inside
/// `INSTALL` before our handler can run, read-only afterwards.
struct Previous(UnsafeCell<[SigAction; 2]>);

// SAFETY: written only inside `INSTALL.call_once`, before the handler that reads it is
// installed for the corresponding signal; read-only afterwards.
unsafe impl Sync for Previous {}

const EMPTY_ACTION: SigAction = SigAction {
    sa_sigaction: SIG_DFL,
    sa_mask: [0; 16],
    sa_flags: 0,
    sa_restorer: 0,
};

static PREVIOUS: Previous = Previous(UnsafeCell::new([EMPTY_ACTION; 2]));
static INSTALL: Once = Once::new();

/// Installs the `SIGSEGV`/`SIGBUS` handler (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let act = SigAction {
            sa_sigaction: handler as *const () as usize,
            sa_mask: [0; 16],
            sa_flags: SA_SIGINFO | SA_ONSTACK,
            sa_restorer: 0,
        };
        for (i, sig) in [SIGSEGV, SIGBUS].into_iter().enumerate() {
            // SAFETY: `act` is a valid action whose handler only touches the registry and
            // the interrupted context; the old action is stored in PREVIOUS[i], which
            // nothing reads before this signal's handler is ours.
            unsafe {
                let old = (*PREVIOUS.0.get()).as_mut_ptr().add(i);
                sigaction(sig, &act, old);
            }
        }
    });
}

std::thread_local! {
    static ALT_STACK: AltStack = AltStack::new();
}

/// An alternate signal stack this module allocated for the current thread (or none, if the
/// thread already had one).
struct AltStack {
    mapping: *mut u8,
}

impl AltStack {
    fn new() -> AltStack {
        let mut old = StackT {
            ss_sp: core::ptr::null_mut(),
            ss_flags: 0,
            ss_size: 0,
        };
        // SAFETY: querying only (null new stack).
        let r = unsafe { sigaltstack(core::ptr::null(), &mut old) };
        if r != 0 || old.ss_flags & SS_DISABLE == 0 {
            return AltStack {
                mapping: core::ptr::null_mut(),
            };
        }
        // SAFETY: fresh anonymous mapping at a kernel-chosen address.
        let p = unsafe {
            mmap(
                core::ptr::null_mut(),
                ALT_STACK_SIZE,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p.is_null() || p as isize == -1 {
            return AltStack {
                mapping: core::ptr::null_mut(),
            };
        }
        let new = StackT {
            ss_sp: p,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: `new` describes the mapping just made, which lives until this value drops
        // (at thread exit), where the stack is disabled before it is unmapped.
        if unsafe { sigaltstack(&new, core::ptr::null_mut()) } != 0 {
            // SAFETY: the mapping is ours and unused.
            unsafe { munmap(p, ALT_STACK_SIZE) };
            return AltStack {
                mapping: core::ptr::null_mut(),
            };
        }
        AltStack { mapping: p.cast() }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if self.mapping.is_null() {
            return;
        }
        let disable = StackT {
            ss_sp: core::ptr::null_mut(),
            ss_flags: SS_DISABLE,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: the thread is exiting and not handling a signal on this stack; after
        // disabling it nothing refers to the mapping.
        unsafe {
            sigaltstack(&disable, core::ptr::null_mut());
            munmap(self.mapping.cast(), ALT_STACK_SIZE);
        }
    }
}

/// Makes sure the calling thread has an alternate signal stack (cheap after the first call
/// on a thread). Call before running guard-mode code on a thread.
pub fn prepare_thread() {
    ALT_STACK.with(|_| {});
}

unsafe extern "C" fn handler(sig: i32, info: *mut c_void, uctx: *mut c_void) {
    // SAFETY: the kernel passes a valid `ucontext_t` for SA_SIGINFO handlers; the gregs
    // array sits at GREGS_OFFSET on x86-64 Linux.
    let gregs = unsafe { uctx.cast::<u8>().add(GREGS_OFFSET).cast::<u64>() };
    // SAFETY: as above, REG_RIP is inside the 23-entry gregs array.
    let pc = unsafe { *gregs.add(REG_RIP) } as usize;
    if let Some(site) = lookup(pc) {
        let (trap_ctx, code) = (site.trap_ctx, site.code);
        // SAFETY: the registration's contract keeps the trap context alive; it belongs to
        // the store whose code faulted on this thread and nothing else touches it now.
        unsafe {
            let ctx = trap_ctx as *mut TrapContext;
            (*ctx).last_func = site.func as *const FuncRef;
            (*ctx).last_offset = site.wasm_offset;
        }
        // Resume in `raise_trap_in(trap_ctx, code)` as if the faulting instruction had called
        // it: 16-byte aligned stack minus a return address slot. It never returns; it resets
        // rsp to the innermost `enter`'s jump buffer.
        // SAFETY: writing registers of the interrupted context, which the kernel restores
        // when this handler returns.
        unsafe {
            let rsp = *gregs.add(REG_RSP);
            *gregs.add(REG_RSP) = (rsp & !15) - 8;
            *gregs.add(REG_RDI) = trap_ctx as u64;
            *gregs.add(REG_RSI) = u64::from(code);
            *gregs.add(REG_RIP) = raise_trap_in_address() as u64;
        }
        return;
    }
    // Not ours: hand the fault to whoever was installed before.
    let i = if sig == SIGSEGV { 0 } else { 1 };
    // SAFETY: PREVIOUS is read-only once our handler is installed.
    let prev = unsafe { (*PREVIOUS.0.get())[i] };
    match prev.sa_sigaction {
        SIG_DFL | SIG_IGN => {
            // Restore the previous disposition and return: the instruction faults again and
            // gets the default action (termination with a core dump).
            // SAFETY: re-installing an action the process had before.
            unsafe { sigaction(sig, &prev, core::ptr::null_mut()) };
        }
        f if prev.sa_flags & SA_SIGINFO != 0 => {
            // SAFETY: the previous handler was installed as an SA_SIGINFO handler.
            let f: unsafe extern "C" fn(i32, *mut c_void, *mut c_void) =
                unsafe { core::mem::transmute(f) };
            // SAFETY: forwarding the kernel's arguments unchanged.
            unsafe { f(sig, info, uctx) };
        }
        f => {
            // SAFETY: the previous handler was installed as a plain handler.
            let f: unsafe extern "C" fn(i32) = unsafe { core::mem::transmute(f) };
            // SAFETY: forwarding the signal number.
            unsafe { f(sig) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_commit_release() {
        let base = reserve(0x1_0000).expect("address space for one reservation");
        // SAFETY: the first page is committed read/write.
        unsafe {
            *base = 7;
            assert_eq!(*base.add(0xffff), 0);
            assert!(commit(base, 0x1_0000, 0x3_0000));
            *base.add(0x2_ffff) = 9;
            assert_eq!(*base, 7);
            release(base);
        }
    }

    #[test]
    fn registry_lookup() {
        let mut ctx = TrapContext::default();
        let code = [0u8; 64];
        let start = code.as_ptr();
        // SAFETY: the "code" is never executed; the registration is dropped before `ctx`.
        let r = unsafe {
            register(
                start,
                code.len(),
                [
                    (10, TrapCode::MemoryOutOfBounds),
                    (3, TrapCode::Unreachable),
                ],
                &mut ctx,
            )
        };
        let base = start as usize;
        let ctx_addr = &mut ctx as *mut TrapContext as usize;
        let site = |code: TrapCode| Site {
            trap_ctx: ctx_addr,
            code: code as u32,
            wasm_offset: 0,
            func: 0,
        };
        assert_eq!(lookup(base + 10), Some(site(TrapCode::MemoryOutOfBounds)));
        assert_eq!(lookup(base + 3), Some(site(TrapCode::Unreachable)));
        assert_eq!(lookup(base + 4), None);
        assert_eq!(lookup(base + 64), None);
        drop(r);
        assert_eq!(lookup(base + 10), None);
    }

    #[test]
    fn registry_lookup_located() {
        let mut ctx = TrapContext::default();
        let code = [0u8; 32];
        let start = code.as_ptr();
        let func = 0x1000 as *const FuncRef;
        // SAFETY: the "code" is never executed and `func` never dereferenced; the
        // registration is dropped before `ctx`.
        let r = unsafe {
            register_located(
                start,
                code.len(),
                [(7, TrapCode::MemoryOutOfBounds, 0x42)],
                func,
                &mut ctx,
            )
        };
        let got = lookup(start as usize + 7).expect("registered site");
        assert_eq!(got.wasm_offset, 0x42);
        assert_eq!(got.func, 0x1000);
        assert_eq!(got.code, TrapCode::MemoryOutOfBounds as u32);
        drop(r);
    }
}
