//! The BareFlow snapshot loader as a C static library (`libbareflow.a`, header
//! `runtime-loader/include/bareflow.h`, guide `docs/FIRMWARE.md`).
//!
//! Memory: the embedder hands in every byte. [`bf_init`] takes one *arena*; the runtime
//! state (trap context, the loaded module's metadata view and entry table, host bindings) and
//! the instance (one block: vmctx, `FuncRef`s, table and global arrays; plus a
//! block per linear memory and per table) live in it, carved by a bump allocator. The
//! metadata is never decoded: it is validated once ([`MetaView::parse`]) and read in place.
//! Code goes into a second embedder region ([`bf_load`]) or, for an execute-in-place
//! snapshot, runs straight from the snapshot bytes, located by the snapshot's entry table
//! without parsing the ELF object. Nothing calls an OS.
//!
//! Errors: every function returns a [`bf_status`]; nothing aborts. The core only allocates
//! while loading, binding and instantiating (and in `memory.grow`/`table.grow`, which report
//! failure to wasm as -1). If the arena runs out during one of those the call returns
//! [`BF_ERR_ARENA`] (for the runtime state, the runtime is poisoned: call [`bf_init`] again).
//! Every call runs under a trap entry, so a panic (a bug) unwinds to the API entry through
//! the trampoline wasm traps use, poisons the runtime and returns [`BF_ERR_ARENA`] too.
//!
//! Threads: a runtime is single-threaded, and the allocator's "current arena" is a global,
//! so use the library from one thread (firmware) or serialise calls.
#![cfg_attr(panic = "abort", no_std)]
#![allow(non_camel_case_types)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::boxed::Box;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{CStr, c_char, c_void};
use core::ptr;

use runtime_loader::abi::{ArrayFn, FuncRef, MemoryDef, TableDef, VMContext, func_kind};
use runtime_loader::format::{EntryTable, MemoryMode, Snapshot};
use runtime_loader::instance::init::{Segments, apply_active_segments, init_globals};
use runtime_loader::instance::{InstanceCore, LIBCALLS, LinearMemory, TableInst};
use runtime_loader::loader::{check_entry_table, check_header};
use runtime_loader::meta::ExportKind;
use runtime_loader::meta_view::MetaView;
use runtime_loader::trap::{self, TrapContext};
use runtime_loader::{LoadError, TrapCode};

mod arena;
mod bounds;
mod call;
mod instance;
mod load;
mod reflect;

use arena::*;
pub use call::*;
pub use instance::*;
pub use load::*;
pub use reflect::*;

// ---------------------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------------------

/// Result of every C API call (`bf_status` in the header).
pub type bf_status = u32;
/// Success.
pub const BF_OK: bf_status = 0;
/// A null pointer, a bad length or a name that is not UTF-8.
pub const BF_ERR_ARG: bf_status = 1;
/// Wrong order of calls (e.g. `bf_call` before `bf_instantiate`), or a poisoned runtime.
pub const BF_ERR_STATE: bf_status = 2;
/// The arena is too small.
pub const BF_ERR_ARENA: bf_status = 3;
/// The snapshot was rejected (detail in `bf_error_message`).
pub const BF_ERR_LOAD: bf_status = 4;
/// An import is not bound, or is not a function.
pub const BF_ERR_LINK: bf_status = 5;
/// The instance could not be created.
pub const BF_ERR_INSTANTIATE: bf_status = 6;
/// No export of that name (or not a function).
pub const BF_ERR_NOT_FOUND: bf_status = 7;
/// The call trapped: `bf_trap_code` / `bf_error_message` say why; the runtime stays usable.
pub const BF_ERR_TRAP: bf_status = 8;
/// A memory access or a value buffer out of bounds.
pub const BF_ERR_BOUNDS: bf_status = 9;
/// Signed snapshots (`bf_set_public_key`): the snapshot is unsigned, its signature does not
/// verify, or the key is invalid / not supported by this build (`bf_error_message` says which).
pub const BF_ERR_SIGNATURE: bf_status = 10;
/// A type mismatch: a host function's signature is not the import's (`bf_bind_typed`), a
/// value is not of the global's type or the global is immutable (`bf_global_set`), an
/// export is of another kind, or a table holds externrefs (`bf_error_message` says which).
pub const BF_ERR_TYPE: bf_status = 11;

/// What each status means, indexed by its value (`BF_OK` first).
const STATUS_MESSAGES: [&CStr; 12] = [
    c"ok",
    c"invalid argument",
    c"call out of order or runtime poisoned",
    c"arena exhausted",
    c"snapshot rejected",
    c"import not bound",
    c"instantiation failed",
    c"export not found",
    c"trap",
    c"out of bounds",
    c"signature check failed",
    c"type mismatch",
];
const _: () = assert!(STATUS_MESSAGES.len() == BF_ERR_TYPE as usize + 1);

/// A static, NUL-terminated description of `status`.
#[unsafe(no_mangle)]
pub extern "C" fn bf_status_message(status: bf_status) -> *const c_char {
    STATUS_MESSAGES
        .get(status as usize)
        .copied()
        .unwrap_or(c"unknown status")
        .as_ptr()
}

// ---------------------------------------------------------------------------------------
// The runtime
// ---------------------------------------------------------------------------------------

/// A host function bound to an import: `values` holds the parameters on entry and receives
/// the results (one 8-byte slot each, `max(params, results)` slots). Returns 0, or a non-zero
/// value to trap (a `TrapCode` value is kept, anything else becomes "host function error").
pub type bf_host_fn =
    Option<unsafe extern "C" fn(env: *mut c_void, rt: *mut Runtime, values: *mut u64) -> u32>;

/// One `bf_bind`: a node of the runtime's binding list, its names stored right after it.
struct Binding {
    next: *mut Binding,
    module: &'static [u8],
    name: &'static [u8],
    func: bf_host_fn,
    env: *mut c_void,
    rt: *mut Runtime,
}

/// A loaded snapshot: its validated metadata and entry table, read in place (from the
/// snapshot bytes when the code runs in place, else from a copy in the arena), and the base
/// address of the code.
#[derive(Clone, Copy)]
struct Module {
    meta: MetaView<'static>,
    entries: EntryTable<'static>,
    base: *const u8,
}

/// Runtime state (opaque to C: `bf_runtime`), placed at the start of the embedder's arena.
pub struct Runtime {
    heap: Bump,
    trap_ctx: TrapContext,
    poisoned: bool,
    module: Option<Module>,
    bindings: *mut Binding,
    /// The instance (null until `bf_instantiate`), one arena block.
    inst: *mut Inst,
    trap_code: u32,
    message: [u8; 96],
    /// Ed25519 key every snapshot must be signed with (`bf_set_public_key`).
    public_key: Option<[u8; 32]>,
    /// `bf_require_signature`: refuse every snapshot unless a key is set (and it verifies).
    require_signature: bool,
    /// Header flags `FUEL | INTERRUPT` of the loaded snapshot (`bounds.rs`).
    bounds: u32,
}

/// Writes the concatenation of `parts` into `buf`, truncated, NUL-terminated.
fn set_msg(buf: &mut [u8; 96], parts: &[&[u8]]) {
    let mut n = 0;
    for p in parts {
        for &b in *p {
            if n + 1 < buf.len() {
                buf[n] = b;
                n += 1;
            }
        }
    }
    buf[n] = 0;
}

/// The arena is exhausted: the runtime is poisoned (as after a panic) and `BF_ERR_ARENA`.
fn exhausted(r: &mut Runtime) -> bf_status {
    r.poisoned = true;
    set_msg(
        &mut r.message,
        &[b"arena exhausted (runtime poisoned: call bf_init again)"],
    );
    BF_ERR_ARENA
}

/// `size` zeroed bytes aligned to `align` from the runtime's arena.
fn arena_zeroed(r: &mut Runtime, size: usize, align: usize) -> Result<*mut u8, bf_status> {
    // A size no layout can hold is exhausted like a full arena (one error path).
    let p = match Layout::from_size_align(size, align) {
        Ok(l) => r.heap.alloc(l),
        Err(_) => ptr::null_mut(),
    };
    if p.is_null() {
        return Err(exhausted(r));
    }
    // SAFETY: `p` is a fresh block of `size` bytes.
    unsafe { ptr::write_bytes(p, 0, size) };
    Ok(p)
}

/// Runs `op` on the runtime behind `rt` with its arena as the allocator's, under a trap
/// entry so that a panic (a bug; nothing in this library is meant to panic) poisons the
/// runtime and returns `BF_ERR_ARENA` instead of aborting.
///
/// # Safety
/// `rt` must be null or a runtime made by `bf_init` whose arena is still live.
unsafe fn guarded(rt: *mut Runtime, op: &mut dyn FnMut(&mut Runtime) -> bf_status) -> bf_status {
    if rt.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract `rt` is a live runtime; reads of a plain field.
    if unsafe { (*rt).poisoned } {
        return BF_ERR_STATE;
    }
    struct Op<'a> {
        rt: *mut Runtime,
        op: &'a mut dyn FnMut(&mut Runtime) -> bf_status,
        out: bf_status,
    }
    unsafe extern "C" fn run(_: *mut VMContext, _: *const FuncRef, values: *mut u64) -> u32 {
        // SAFETY: `values` is the `Op` passed to `enter` below, live for the call.
        unsafe {
            let op = &mut *(values as *mut Op<'_>);
            op.out = (op.op)(&mut *op.rt);
        }
        0
    }
    let mut o = Op { rt, op, out: BF_OK };
    // SAFETY: the globals are only touched by API calls on one thread (crate contract); they
    // are restored on exit so a nested call (from a host function) keeps its caller's arena.
    // `enter` calls `run` with our `Op` as `values`; the trap context belongs to `rt`.
    unsafe {
        let (prev_heap, prev_rt) = (HEAP, CURRENT);
        HEAP = &mut (*rt).heap;
        CURRENT = rt;
        let ctx: *mut TrapContext = &mut (*rt).trap_ctx;
        let run_fn: unsafe extern "C" fn(*mut VMContext, *const FuncRef, *mut u64) -> u32 = run;
        let status = trap::enter(
            ctx,
            run_fn as *const u8,
            ptr::null_mut(),
            ptr::null(),
            (&mut o as *mut Op<'_>).cast(),
        );
        HEAP = prev_heap;
        CURRENT = prev_rt;
        if status == 0 {
            o.out
        } else {
            exhausted(&mut *rt)
        }
    }
}

/// Borrows a NUL-terminated string's bytes.
///
/// # Safety
/// `s` must be null or a NUL-terminated string.
unsafe fn c_str<'a>(s: *const c_char) -> Option<&'a [u8]> {
    if s.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    Some(unsafe { CStr::from_ptr(s) }.to_bytes())
}

/// Sets up a runtime at the start of `arena` (`arena_len` bytes; the rest becomes its heap)
/// and stores it in `*out`. `stack_budget` is how many bytes of stack wasm code may use below
/// the API call (0: 256 KiB). Calling it again on the same arena discards everything.
///
/// # Safety
/// `arena` must be writable for `arena_len` bytes and outlive the runtime; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_init(
    arena: *mut c_void,
    arena_len: usize,
    stack_budget: usize,
    out: *mut *mut Runtime,
) -> bf_status {
    if arena.is_null() || out.is_null() {
        return BF_ERR_ARG;
    }
    let start = arena as usize;
    let Some(at) = start.checked_next_multiple_of(align_of::<Runtime>()) else {
        return BF_ERR_ARENA;
    };
    let end = start.saturating_add(arena_len);
    let Some(heap) = at.checked_add(size_of::<Runtime>()) else {
        return BF_ERR_ARENA;
    };
    if heap > end {
        return BF_ERR_ARENA;
    }
    let rt = at as *mut Runtime;
    let budget = if stack_budget == 0 {
        256 << 10
    } else {
        stack_budget
    };
    // SAFETY: `[at, heap)` lies inside the embedder's writable arena and is aligned for
    // `Runtime`; any previous runtime there is abandoned without drop (its memory is reused).
    // Zeroed first, then the fields whose value is not all-zero bytes written: the other
    // fields (flags, counts, null pointers, the message, the trap context but for its
    // budget) are valid as zero. Smaller than writing a whole `Runtime` value (measured
    // 2026-12-07: `bf_init` 177 bytes, against 299 that way with the frame-walk fields).
    unsafe {
        ptr::write_bytes(rt.cast::<u8>(), 0, size_of::<Runtime>());
        (&raw mut (*rt).heap).write(Bump {
            start: heap,
            cur: heap,
            end,
        });
        // `TrapContext::new(budget)` but for what zero already is (no entry, no walk).
        (*rt).trap_ctx.stack_budget = budget;
        (&raw mut (*rt).module).write(None);
        (&raw mut (*rt).public_key).write(None);
        *out = rt;
    }
    BF_OK
}

/// Sets the lowest stack address wasm code may use (`TrapContext::stack_floor_min`): the
/// outermost entry never sets the stack limit below it and refuses to run wasm when the stack
/// pointer is already there. For targets without pthread (firmware); 0 = none.
///
/// # Safety
/// `rt` from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_set_stack_floor(rt: *mut Runtime, lowest: usize) -> bf_status {
    // A plain field store, no guest code runs: no trap guard needed (and none of its code).
    if rt.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: `rt` per the contract: a live runtime, used by one thread.
    unsafe {
        if (*rt).poisoned {
            return BF_ERR_STATE;
        }
        (*rt).trap_ctx.stack_floor_min = lowest;
    }
    BF_OK
}
