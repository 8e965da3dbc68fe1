//! The BareFlow snapshot loader as a C static library (`libbareflow.a`, header
//! `runtime-loader/include/bareflow.h`, guide `docs/FIRMWARE.md`).
//!
//! Memory: the embedder hands in every byte. [`bf_init`] takes one *arena*; the runtime
//! state (trap context, the loaded module's metadata view and entry table, host bindings) and
//! the instance (one block: vmctx, libcall table, `FuncRef`s, table and global arrays; plus a
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

use runtime_loader::abi::{ArrayFn, FuncRef, MemoryDef, TableDef, VMContext, func_kind, libcall};
use runtime_loader::format::{EntryTable, MemoryMode, Snapshot};
use runtime_loader::instance::init::{Segments, apply_active_segments, init_globals};
use runtime_loader::instance::{InstanceCore, LinearMemory, TableInst, default_libcalls};
use runtime_loader::loader::{check_entries, check_header};
use runtime_loader::meta::ExportKind;
use runtime_loader::meta_view::MetaView;
use runtime_loader::trap::{self, TrapContext};
use runtime_loader::{LoadError, TrapCode};

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

/// A static, NUL-terminated description of `status`.
#[unsafe(no_mangle)]
pub extern "C" fn bf_status_message(status: bf_status) -> *const c_char {
    let s: &CStr = match status {
        BF_OK => c"ok",
        BF_ERR_ARG => c"invalid argument",
        BF_ERR_STATE => c"call out of order or runtime poisoned",
        BF_ERR_ARENA => c"arena exhausted",
        BF_ERR_LOAD => c"snapshot rejected",
        BF_ERR_LINK => c"import not bound",
        BF_ERR_INSTANTIATE => c"instantiation failed",
        BF_ERR_NOT_FOUND => c"export not found",
        BF_ERR_TRAP => c"trap",
        BF_ERR_BOUNDS => c"out of bounds",
        BF_ERR_SIGNATURE => c"signature check failed",
        _ => c"unknown status",
    };
    s.as_ptr()
}

// ---------------------------------------------------------------------------------------
// The arena allocator
// ---------------------------------------------------------------------------------------

/// A bump allocator over `[cur, end)`; freeing (or growing) the most recent block reuses it.
struct Bump {
    start: usize,
    cur: usize,
    end: usize,
}

impl Bump {
    fn alloc(&mut self, l: Layout) -> *mut u8 {
        let Some(p) = self.cur.checked_next_multiple_of(l.align()) else {
            return ptr::null_mut();
        };
        match p.checked_add(l.size()) {
            Some(e) if e <= self.end => {
                self.cur = e;
                p as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }
}

/// The arena of the runtime whose API call is running (null outside calls).
static mut HEAP: *mut Bump = ptr::null_mut();
/// The runtime whose API call is running, for the panic handler.
static mut CURRENT: *mut Runtime = ptr::null_mut();

struct Arena;

// SAFETY: blocks come from the current runtime's arena, are aligned as requested, don't
// overlap (the cursor only moves past handed-out blocks, and back only over the last block
// when that block is freed or resized), and stay valid until `bf_init` resets the arena.
// Single-threaded by contract (see the crate docs).
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: `HEAP` is null or the live arena of the running API call.
        unsafe {
            let h = HEAP;
            if h.is_null() {
                return ptr::null_mut();
            }
            (*h).alloc(l)
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as in `alloc`; `p` was handed out by this arena with layout `l`.
        unsafe {
            let h = HEAP;
            if !h.is_null() && p as usize + l.size() == (*h).cur && p as usize >= (*h).start {
                (*h).cur = p as usize;
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`; `p` is a live block of layout `l`.
        unsafe {
            let h = HEAP;
            if h.is_null() {
                return ptr::null_mut();
            }
            // The last block grows or shrinks in place.
            if p as usize + l.size() == (*h).cur {
                match (p as usize).checked_add(new_size) {
                    Some(e) if e <= (*h).end => {
                        (*h).cur = e;
                        return p;
                    }
                    _ => return ptr::null_mut(),
                }
            }
            let Ok(nl) = Layout::from_size_align(new_size, l.align()) else {
                return ptr::null_mut();
            };
            let q = (*h).alloc(nl);
            if !q.is_null() {
                ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
            }
            q
        }
    }
}

#[global_allocator]
static ALLOC: Arena = Arena;

#[cfg(panic = "abort")]
mod rt {
    /// The prebuilt `alloc` crate was compiled with unwinding; with `panic = "abort"` these
    /// are never called, but its landing pads still name them.
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() {}

    /// Never called (see above).
    #[unsafe(no_mangle)]
    extern "C" fn _Unwind_Resume() -> ! {
        super::halt()
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        // SAFETY: `CURRENT` is null or the runtime of the running API call, whose guard
        // `enter` is active (see `guarded`); the frames between here and that entry are this
        // library's code, holding only arena memory, which stays allocated (leaked).
        unsafe {
            let rt = super::CURRENT;
            if !rt.is_null() && (*rt).trap_ctx.depth > 0 {
                (*rt).poisoned = true;
                runtime_loader::trap::raise_trap_in(&mut (*rt).trap_ctx, super::PANIC_STATUS);
            }
        }
        super::halt()
    }
}

/// Last resort when a panic happens outside any API call (cannot happen through the API).
#[cfg(panic = "abort")]
fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The status a panic unwinds with (never a real trap code).
#[cfg(panic = "abort")]
const PANIC_STATUS: u32 = 0xBF_DEAD;

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
    let Ok(l) = Layout::from_size_align(size, align) else {
        return Err(exhausted(r));
    };
    let p = r.heap.alloc(l);
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
    unsafe {
        rt.write(Runtime {
            heap: Bump {
                start: heap,
                cur: heap,
                end,
            },
            trap_ctx: TrapContext::new(budget),
            poisoned: false,
            module: None,
            bindings: ptr::null_mut(),
            inst: ptr::null_mut(),
            trap_code: 0,
            message: [0; 96],
            public_key: None,
            require_signature: false,
        });
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

/// Verifies `snap` (`snap_len` bytes) and loads its code into `code` (`code_len` bytes,
/// memory the CPU can execute; it is written once, then only executed). With `code` null the
/// snapshot must be execute-in-place (`bareflow compile --xip`) and its code runs from the
/// snapshot bytes, unpatched: they must then be executable (read-only is fine) and stay
/// alive and unchanged for the runtime's life.
///
/// # Safety
/// `rt` from `bf_init`; `snap` readable for `snap_len` bytes; `code` null (see above) or
/// writable and executable for `code_len` bytes, alive as long as the runtime and
/// overlapping neither `snap` nor the arena.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_load(
    rt: *mut Runtime,
    snap: *const u8,
    snap_len: usize,
    code: *mut u8,
    code_len: usize,
) -> bf_status {
    if snap.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; with `code` null the bytes outlive the runtime, otherwise
    // nothing borrowed from them is kept past this call (see `load`).
    let file: &'static [u8] = unsafe { core::slice::from_raw_parts(snap, snap_len) };
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            // Signed snapshots: checked on the raw bytes before anything is parsed or mapped.
            // Required (`bf_require_signature`) without a key: nothing can verify, refuse.
            let checked = match &r.public_key {
                Some(key) => verify_signature(file, key),
                None if r.require_signature => Err(LoadError::Unsigned),
                None => Ok(()),
            };
            if let Err(e) = checked {
                let why: &[u8] = if r.public_key.is_none() {
                    b"signatures required, no public key set"
                } else {
                    e.message().as_bytes()
                };
                set_msg(&mut r.message, &[b"snapshot rejected: ", why]);
                return BF_ERR_SIGNATURE;
            }
            match load(r, file, code, code_len) {
                Ok(()) => BF_OK,
                Err(Fail::Load(e)) => {
                    set_msg(
                        &mut r.message,
                        &[b"snapshot rejected: ", e.message().as_bytes()],
                    );
                    BF_ERR_LOAD
                }
                Err(Fail::Status(s)) => s,
            }
        })
    }
}

/// Why `load` failed: a rejected snapshot or an API status (message already set).
enum Fail {
    Load(LoadError),
    Status(bf_status),
}

impl From<LoadError> for Fail {
    fn from(e: LoadError) -> Fail {
        Fail::Load(e)
    }
}

fn load(r: &mut Runtime, file: &'static [u8], code: *mut u8, code_len: usize) -> Result<(), Fail> {
    let snap = Snapshot::parse_without_records(file)?;
    check_header(&snap, Some(MemoryMode::Checked))?;
    let meta = MetaView::parse(snap.meta_bytes())?;
    let nimp = meta.num_imported_funcs();
    let ntypes = meta.num_types() as usize;
    let entries = check_entries(
        &snap,
        (nimp..meta.num_funcs()).map(|f| meta.func_type_index(f)),
        ntypes,
        |t| meta.type_arity(t),
    )?;
    if code.is_null() {
        // Execute in place: the entry table says where the code lies in the object; no ELF
        // parsing, nothing copied.
        let off = entries.code_offset.ok_or(LoadError::UnsupportedElf)?;
        let base = snap.object_bytes().as_ptr().wrapping_add(off as usize);
        if !(base as usize).is_multiple_of(entries.code_align as usize) {
            return Err(LoadError::CodeMemory.into());
        }
        r.module = Some(Module {
            meta,
            entries,
            base,
        });
        return Ok(());
    }
    relocate(r, &snap, &meta, entries, code, code_len)
}

/// The copying path: builds the code region in the embedder's memory from the relocation
/// table and keeps a copy of the metadata and the entry table in the arena (the snapshot
/// bytes may go away).
#[cfg(feature = "relocate")]
fn relocate(
    r: &mut Runtime,
    snap: &Snapshot<'static>,
    meta: &MetaView<'static>,
    entries: EntryTable<'static>,
    code: *mut u8,
    code_len: usize,
) -> Result<(), Fail> {
    // The relocation table builds the region: every record bounds-checked against the object
    // and the entry table's code length as it is applied; the ELF object is never parsed.
    let relocs = snap.relocations()?;
    // SAFETY: per `bf_load`'s contract the region is the embedder's and lives as long as
    // the runtime.
    let region = unsafe { core::slice::from_raw_parts_mut(code, code_len) };
    // The region's base, aligned as the code needs (`code_align` is a power of two).
    let skip = (code as usize).wrapping_neg() & (entries.code_align as usize - 1);
    let region = region.get_mut(skip..).ok_or(LoadError::CodeMemory)?;
    let base = region.as_ptr();
    relocs.apply(
        snap.object_bytes(),
        region,
        base as u64,
        runtime_loader::loader::external_address,
    )?;
    let (m, e) = (snap.meta_bytes(), entries.raw());
    let p = arena_zeroed(r, m.len() + e.len(), 1).map_err(Fail::Status)?;
    // SAFETY: `p` is a fresh arena block of `m.len() + e.len()` bytes that lives (unchanged)
    // as long as the runtime.
    let (m, e) = unsafe {
        ptr::copy_nonoverlapping(m.as_ptr(), p, m.len());
        ptr::copy_nonoverlapping(e.as_ptr(), p.add(m.len()), e.len());
        (
            core::slice::from_raw_parts(p, m.len()),
            core::slice::from_raw_parts(p.add(m.len()), e.len()),
        )
    };
    // Exact copies of validated bytes: the views are moved onto them, not checked again.
    let (Some(meta), Some(entries)) = (meta.rebased(m), entries.rebased(e)) else {
        return Err(LoadError::BadMeta.into());
    };
    r.module = Some(Module {
        meta,
        entries,
        base,
    });
    Ok(())
}

/// Built without the relocating loader: execute-in-place snapshots only.
#[cfg(not(feature = "relocate"))]
fn relocate(
    r: &mut Runtime,
    _: &Snapshot<'static>,
    _: &MetaView<'static>,
    _: EntryTable<'static>,
    _: *mut u8,
    _: usize,
) -> Result<(), Fail> {
    set_msg(
        &mut r.message,
        &[b"this build runs execute-in-place snapshots only (pass code = NULL)"],
    );
    Err(Fail::Status(BF_ERR_ARG))
}

/// Binds the import (`module`, `name`) to `func`, called with `env`. Bind before
/// `bf_instantiate`; binding the same pair again replaces the earlier binding.
///
/// # Safety
/// `rt` from `bf_init`; `module` and `name` NUL-terminated; `func` callable with the
/// import's signature in the array convention; `env` as `func` expects.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_bind(
    rt: *mut Runtime,
    module: *const c_char,
    name: *const c_char,
    func: bf_host_fn,
    env: *mut c_void,
) -> bf_status {
    // SAFETY: per the contract.
    let (Some(m), Some(n)) = (unsafe { c_str(module) }, unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    if func.is_none() {
        return BF_ERR_ARG;
    }
    // SAFETY: `rt` per the contract; binding nodes live in the arena for the runtime's life.
    unsafe {
        guarded(rt, &mut |r| {
            if !r.inst.is_null() {
                return BF_ERR_STATE;
            }
            if let Some(b) = find_binding(r, m, n) {
                (*b).func = func;
                (*b).env = env;
                return BF_OK;
            }
            let size = size_of::<Binding>() + m.len() + n.len();
            let p = match arena_zeroed(r, size, align_of::<Binding>()) {
                Ok(p) => p,
                Err(s) => return s,
            };
            let names = p.add(size_of::<Binding>());
            ptr::copy_nonoverlapping(m.as_ptr(), names, m.len());
            ptr::copy_nonoverlapping(n.as_ptr(), names.add(m.len()), n.len());
            let b = p.cast::<Binding>();
            b.write(Binding {
                next: r.bindings,
                module: core::slice::from_raw_parts(names, m.len()),
                name: core::slice::from_raw_parts(names.add(m.len()), n.len()),
                func,
                env,
                rt: r,
            });
            r.bindings = b;
            BF_OK
        })
    }
}

fn find_binding(r: &Runtime, module: &[u8], name: &[u8]) -> Option<*mut Binding> {
    let mut b = r.bindings;
    while !b.is_null() {
        // SAFETY: nodes of the list are live arena blocks written by `bf_bind`.
        unsafe {
            if (*b).module == module && (*b).name == name {
                return Some(b);
            }
            b = (*b).next;
        }
    }
    None
}

/// The array entry of every host `FuncRef`: calls the bound C function.
unsafe extern "C" fn host_entry(
    _: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: host FuncRefs made by `bf_instantiate` carry their live `Binding` as host data.
    let status = unsafe {
        let b = &*((*callee).host_data as *const Binding);
        match b.func {
            Some(f) => f(b.env, b.rt, values),
            None => TrapCode::HostError as u32,
        }
    };
    match status {
        0 => 0,
        s if is_trap_code(s) => s,
        _ => TrapCode::HostError as u32,
    }
}

// ---------------------------------------------------------------------------------------
// The instance: one arena block over the shared instance core
// ---------------------------------------------------------------------------------------

/// The instance header, at the start of its one arena block; the arrays the vmctx points at
/// follow it in the same block (offsets computed in `instantiate`). Memories, tables and
/// passive segments are the runtime loader's own objects (`runtime_loader::instance`),
/// allocated from the arena through the global allocator; their operations, growth and the
/// libcalls are the instance core's, shared with every other tier.
#[repr(C)]
struct Inst {
    /// First: `vmctx.instance` points here, where the shared libcalls read the core.
    core: InstanceCore,
    vmctx: VMContext,
    libcalls: [usize; libcall::COUNT],
    nfuncs: u32,
    nglobals: u32,
    funcs: *mut *const FuncRef,
    gptrs: *mut *mut u64,
    segments: Segments,
}

impl Inst {
    /// The function and global pointer arrays constant expressions read.
    fn arrays(&self) -> (&[*const FuncRef], &[*mut u64]) {
        // SAFETY: both arrays live in the instance block with these lengths.
        unsafe {
            (
                core::slice::from_raw_parts(self.funcs, self.nfuncs as usize),
                core::slice::from_raw_parts(self.gptrs, self.nglobals as usize),
            )
        }
    }
}

/// Instantiates the loaded module: resolves imports against the bindings, allocates memory,
/// tables and globals in the arena, applies segments and runs the start function.
///
/// # Safety
/// `rt` from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_instantiate(rt: *mut Runtime) -> bf_status {
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| match instantiate(r) {
            Ok(()) => BF_OK,
            Err(s) => s,
        })
    }
}

/// Offset of a `count`-element array of `T` placed at the end of a block of `*size` bytes.
fn carve<T>(size: &mut usize, count: u32) -> usize {
    let at = size.next_multiple_of(align_of::<T>());
    *size = at + size_of::<T>() * count as usize;
    at
}

fn link_error(r: &mut Runtime, what: &[u8], m: &[u8], n: &[u8]) -> bf_status {
    set_msg(&mut r.message, &[what, m, b".", n]);
    BF_ERR_LINK
}

fn instantiate(r: &mut Runtime) -> Result<(), bf_status> {
    let Some(module) = r.module.as_ref().map(|m| m as *const Module) else {
        return Err(BF_ERR_STATE);
    };
    if !r.inst.is_null() {
        return Err(BF_ERR_STATE);
    }
    // SAFETY: the module lives in the runtime (which never moves) and is not changed while
    // the runtime lives.
    let module: &'static Module = unsafe { &*module };
    let meta = &module.meta;
    // Imports, in order: only functions (so import `i` is function `i`), each bound, each
    // with its host stub.
    for i in 0..meta.num_imports() {
        let imp = meta.import(i);
        let (m, n) = (imp.module, imp.name);
        if imp.kind != ExportKind::Func {
            return Err(link_error(r, b"unsupported import kind: ", m, n));
        }
        if find_binding(r, m, n).is_none() {
            return Err(link_error(r, b"unknown import: ", m, n));
        }
        if module
            .entries
            .import_stub(meta.func_type_index(i))
            .is_none()
        {
            return Err(link_error(
                r,
                b"snapshot has no host stub for import ",
                m,
                n,
            ));
        }
    }

    // The block: header, then every array the vmctx and the libcalls reach.
    let (nfuncs, nmems, ntables) = (meta.num_funcs(), meta.num_memories(), meta.num_tables());
    let nglobals = meta.num_globals();
    let mut size = size_of::<Inst>();
    let o = [
        carve::<FuncRef>(&mut size, nfuncs),
        carve::<*const FuncRef>(&mut size, nfuncs),
        carve::<*mut LinearMemory>(&mut size, nmems),
        carve::<*mut TableInst>(&mut size, ntables),
        carve::<*mut TableDef>(&mut size, ntables),
        carve::<u64>(&mut size, nglobals),
        carve::<*mut u64>(&mut size, nglobals),
        carve::<u32>(&mut size, meta.num_types()),
    ];
    // A failed instantiation gives its arena blocks back.
    let mark = r.heap.cur;
    let block = arena_zeroed(r, size, align_of::<Inst>())?;
    match build(r, module, block, o) {
        // Stored before segments and the start function run, so host functions called by
        // the start function can use the instance's memory.
        Ok(inst) => r.inst = inst,
        Err(s) => {
            if !r.poisoned {
                r.heap.cur = mark;
            }
            return Err(s);
        }
    }
    // SAFETY: the instance was just built.
    let inst = unsafe { &*r.inst };
    let (funcs, globals) = inst.arrays();
    let result = apply_active_segments(&inst.core, meta, funcs, globals)
        .map_err(|c| c as u32)
        .and_then(|()| match meta.start() {
            // SAFETY: the start function takes and returns nothing; one slot is enough.
            Some(s) => unsafe { call(inst, s, &mut [0u64]) },
            None => Ok(()),
        });
    result.map_err(|code| trapped(r, code))
}

/// Fills the zeroed instance block `block` (array offsets `o`, as carved in `instantiate`).
fn build(
    r: &mut Runtime,
    module: &'static Module,
    block: *mut u8,
    o: [usize; 8],
) -> Result<*mut Inst, bf_status> {
    let meta = &module.meta;
    let nimp = meta.num_imported_funcs();
    let (nfuncs, nmems, ntables) = (meta.num_funcs(), meta.num_memories(), meta.num_tables());
    // SAFETY: every offset lies inside the zeroed block, aligned for its type (`carve`).
    let at = |i: usize| unsafe { block.add(o[i]) };
    let inst = block.cast::<Inst>();
    let refs = at(0).cast::<FuncRef>();
    let funcs = at(1).cast::<*const FuncRef>();
    let mems = at(2).cast::<*mut LinearMemory>();
    let tables = at(3).cast::<*mut TableInst>();
    let tptrs = at(4).cast::<*mut TableDef>();
    let globals = at(5).cast::<u64>();
    let gptrs = at(6).cast::<*mut u64>();
    let type_ids = at(7).cast::<u32>();
    // SAFETY: all writes below go to the block's own arrays, sized by the metadata counts
    // the loops are bounded by; `inst` is the block's header.
    unsafe {
        // Store-wide signature ids for call_indirect: the first type with equal signature.
        for i in 0..meta.num_types() {
            let t = meta.type_at(i);
            let same = (0..i).find(|&u| meta.type_at(u) == t).unwrap_or(i);
            *type_ids.add(i as usize) = same;
        }
        let vmctx: *mut VMContext = &raw mut (*inst).vmctx;
        // Functions: host FuncRefs for imports (bound here), the loaded code for the rest.
        for i in 0..nfuncs {
            let ty = meta.func_type_index(i);
            let f = refs.add(i as usize);
            *funcs.add(i as usize) = f;
            let (native, array, kind, host_data) = if i < nimp {
                // Checked in `instantiate`: every import is a bound function with a stub.
                let imp = meta.import(i);
                let Some(stub) = module.entries.import_stub(ty) else {
                    return Err(BF_ERR_LINK);
                };
                let Some(b) = find_binding(r, imp.module, imp.name) else {
                    return Err(BF_ERR_LINK);
                };
                let entry: ArrayFn = host_entry;
                (
                    module.base.wrapping_add(stub as usize),
                    entry as *const u8,
                    func_kind::HOST,
                    b.cast::<c_void>(),
                )
            } else {
                match module.entries.native(i - nimp) {
                    Some(n) => (
                        module.base.wrapping_add(n as usize),
                        // check_entries: every function with code has its array entry.
                        module
                            .entries
                            .array(ty)
                            .map_or(ptr::null(), |a| module.base.wrapping_add(a as usize)),
                        func_kind::WASM,
                        ptr::null_mut(),
                    ),
                    None => (ptr::null(), ptr::null(), func_kind::WASM, ptr::null_mut()),
                }
            };
            f.write(FuncRef {
                native,
                array,
                vmctx,
                type_id: *type_ids.add(ty as usize),
                func_index: i,
                kind,
                reserved: 0,
                host_data,
            });
        }
        // Memories and tables (none imported), from the arena through the global allocator.
        for i in 0..nmems {
            let Ok(m) = LinearMemory::new(meta.memory(i)) else {
                return Err(out_of_memory(r));
            };
            *mems.add(i as usize) = Box::into_raw(m);
        }
        for i in 0..ntables {
            let Ok(t) = TableInst::new(meta.table(i), 0) else {
                return Err(out_of_memory(r));
            };
            let t = Box::into_raw(t);
            *tables.add(i as usize) = t;
            *tptrs.add(i as usize) = &raw mut (*t).def;
        }
        let mut libcalls = default_libcalls();
        libcalls[libcall::RAISE_TRAP] = trap::raise_trap_address();
        for i in 0..meta.num_globals() as usize {
            *gptrs.add(i) = globals.add(i);
        }
        (&raw mut (*inst).core).write(InstanceCore {
            memories: mems,
            num_memories: nmems,
            num_tables: ntables,
            tables,
            ..InstanceCore::EMPTY
        });
        (*inst).vmctx = VMContext {
            memory: if nmems > 0 {
                (*mems).cast::<MemoryDef>()
            } else {
                ptr::null_mut()
            },
            globals: gptrs,
            tables: tptrs,
            funcs,
            type_ids,
            stack_limit: 0,
            libcalls: (*inst).libcalls.as_ptr(),
            trap_ctx: (&raw mut r.trap_ctx).cast(),
            instance: inst.cast(),
        };
        (*inst).libcalls = libcalls;
        (*inst).nfuncs = nfuncs;
        (*inst).nglobals = meta.num_globals();
        (*inst).funcs = funcs;
        (*inst).gptrs = gptrs;
        // Globals in order (none imported: imports are functions only), then the segments
        // (passive ones evaluated, the others dropped).
        let (f, g) = (*inst).arrays();
        let segments = init_globals(meta, f, g).and_then(|()| Segments::new(meta, f, g));
        let Some(segments) = segments else {
            set_msg(&mut r.message, &[b"instantiation failed"]);
            return Err(BF_ERR_INSTANTIATE);
        };
        (&raw mut (*inst).segments).write(segments);
        (*inst).segments.attach(&mut (*inst).core);
    }
    Ok(inst)
}

/// A memory or table does not fit (the instantiation's blocks are given back).
fn out_of_memory(r: &mut Runtime) -> bf_status {
    set_msg(&mut r.message, &[b"arena exhausted"]);
    BF_ERR_ARENA
}

/// Calls function `index` with `values` (parameters in, results out).
///
/// # Safety
/// `values` must hold `max(params, results)` slots of the function's signature.
unsafe fn call(inst: &Inst, index: u32, values: &mut [u64]) -> Result<(), u32> {
    let host = TrapCode::HostError as u32;
    if index >= inst.nfuncs {
        return Err(host);
    }
    // SAFETY: `index` is in range; FuncRefs live in the instance block.
    let (fr, array, vmctx) = unsafe {
        let fr = *inst.funcs.add(index as usize);
        (fr, (*fr).array, (*fr).vmctx)
    };
    if array.is_null() {
        return Err(host);
    }
    // SAFETY: non-null array entries are `ArrayFn`s that enter through the trap trampoline
    // themselves; `values` is large enough per the contract.
    let status = unsafe {
        let f: ArrayFn = core::mem::transmute(array);
        f(vmctx, fr, values.as_mut_ptr())
    };
    match status {
        0 => Ok(()),
        s if is_trap_code(s) => Err(s),
        _ => Err(host),
    }
}

/// Whether `s` is a `TrapCode` value (they are 1 up to the last one, without gaps).
fn is_trap_code(s: u32) -> bool {
    (1..=TrapCode::ALL.len() as u32).contains(&s)
}

fn trapped(r: &mut Runtime, code: u32) -> bf_status {
    r.trap_code = code;
    let msg = TrapCode::from_u32(code).map_or("unknown trap", |c| c.message());
    set_msg(&mut r.message, &[b"trap: ", msg.as_bytes()]);
    BF_ERR_TRAP
}

// ---------------------------------------------------------------------------------------
// Exports, calls, memory access
// ---------------------------------------------------------------------------------------

/// Looks up the exported function `name`: its function index and parameter/result counts
/// (any out pointer may be null).
///
/// # Safety
/// `rt` from `bf_init`; `name` NUL-terminated; out pointers null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_export_func(
    rt: *mut Runtime,
    name: *const c_char,
    index: *mut u32,
    nparams: *mut u32,
    nresults: *mut u32,
) -> bf_status {
    // SAFETY: per the contract.
    let Some(name) = (unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    // SAFETY: `rt` per the contract; out pointers are null or writable.
    unsafe {
        guarded(rt, &mut |r| {
            let Some(m) = &r.module else {
                return BF_ERR_STATE;
            };
            let Some(e) = (0..m.meta.num_exports())
                .map(|i| m.meta.export(i))
                .find(|e| e.kind == ExportKind::Func && e.name == name)
            else {
                return BF_ERR_NOT_FOUND;
            };
            let Some(ty) = m.meta.func_type(e.index) else {
                return BF_ERR_NOT_FOUND;
            };
            for (out, v) in [
                (index, e.index),
                (nparams, ty.params.len() as u32),
                (nresults, ty.results.len() as u32),
            ] {
                if !out.is_null() {
                    *out = v;
                }
            }
            BF_OK
        })
    }
}

/// Calls function `index` with `values` (`nvalues` 8-byte slots, at least
/// `max(params, results)`): parameters in, results out. i32/f32 use the low 32 bits (floats as
/// raw bits). A trap returns `BF_ERR_TRAP`; the instance stays usable.
///
/// # Safety
/// `rt` from `bf_init`; `values` readable and writable for `nvalues` slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_call(
    rt: *mut Runtime,
    index: u32,
    values: *mut u64,
    nvalues: usize,
) -> bf_status {
    if values.is_null() && nvalues != 0 {
        return BF_ERR_ARG;
    }
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            let (Some(m), false) = (&r.module, r.inst.is_null()) else {
                return BF_ERR_STATE;
            };
            let Some(ty) = m.meta.func_type(index) else {
                return BF_ERR_NOT_FOUND;
            };
            if nvalues < ty.params.len().max(ty.results.len()) {
                return BF_ERR_BOUNDS;
            }
            let mut one = [0u64];
            let slots: &mut [u64] = if nvalues == 0 {
                &mut one
            } else {
                core::slice::from_raw_parts_mut(values, nvalues)
            };
            let result = call(&*r.inst, index, slots);
            r.trap_ctx.last_func = ptr::null();
            match result {
                Ok(()) => {
                    r.trap_code = 0;
                    BF_OK
                }
                Err(t) => trapped(r, t),
            }
        })
    }
}

/// The trap code of the last trapped call (values of `TrapCode`, docs/ABI.md), 0 if none.
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_trap_code(rt: *const Runtime) -> u32 {
    if rt.is_null() {
        return 0;
    }
    // SAFETY: per the contract.
    unsafe { (*rt).trap_code }
}

/// A NUL-terminated description of the last error or trap (empty if none); valid until the
/// next call on `rt`.
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_error_message(rt: *const Runtime) -> *const c_char {
    if rt.is_null() {
        return c"".as_ptr();
    }
    // SAFETY: per the contract; `message` is always NUL-terminated.
    unsafe { (*rt).message.as_ptr().cast() }
}

/// Memory 0 of the instance: its current base and length (valid until the next call that
/// may grow it), or `BF_ERR_NOT_FOUND` if the module has no memory.
///
/// # Safety
/// `rt` from `bf_init`.
unsafe fn memory0(rt: *mut Runtime) -> Result<(*mut u8, u64), bf_status> {
    if rt.is_null() {
        return Err(BF_ERR_ARG);
    }
    // SAFETY: per the contract.
    let r = unsafe { &*rt };
    if r.poisoned {
        return Err(BF_ERR_STATE);
    }
    if r.inst.is_null() {
        return Err(BF_ERR_STATE);
    }
    // SAFETY: the instance is live.
    let m = unsafe { (*r.inst).core.memory_ptr(0) }.ok_or(BF_ERR_NOT_FOUND)?;
    // SAFETY: the instance's memories are live.
    Ok(unsafe { ((*m).def.base, (*m).def.len) })
}

/// The size of memory 0 in bytes.
///
/// # Safety
/// `rt` from `bf_init`; `bytes` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_size(rt: *mut Runtime, bytes: *mut u64) -> bf_status {
    if bytes.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    match unsafe { memory0(rt) } {
        Ok((_, len)) => {
            // SAFETY: `bytes` is writable per the contract.
            unsafe { *bytes = len };
            BF_OK
        }
        Err(s) => s,
    }
}

fn in_bounds(offset: u64, len: usize, size: u64) -> bool {
    offset
        .checked_add(len as u64)
        .is_some_and(|end| end <= size)
}

/// Copies `len` bytes of memory 0 starting at `offset` into `dst`.
///
/// # Safety
/// `rt` from `bf_init`; `dst` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_read(
    rt: *mut Runtime,
    offset: u64,
    dst: *mut c_void,
    len: usize,
) -> bf_status {
    if dst.is_null() && len != 0 {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    match unsafe { memory0(rt) } {
        Ok((base, size)) if in_bounds(offset, len, size) => {
            // SAFETY: the range is inside the memory; `dst` per the contract.
            unsafe { ptr::copy(base.add(offset as usize), dst.cast(), len) };
            BF_OK
        }
        Ok(_) => BF_ERR_BOUNDS,
        Err(s) => s,
    }
}

/// Copies `len` bytes from `src` into memory 0 at `offset`.
///
/// # Safety
/// `rt` from `bf_init`; `src` readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_write(
    rt: *mut Runtime,
    offset: u64,
    src: *const c_void,
    len: usize,
) -> bf_status {
    if src.is_null() && len != 0 {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    match unsafe { memory0(rt) } {
        Ok((base, size)) if in_bounds(offset, len, size) => {
            // SAFETY: the range is inside the memory; `src` per the contract.
            unsafe { ptr::copy(src.cast(), base.add(offset as usize), len) };
            BF_OK
        }
        Ok(_) => BF_ERR_BOUNDS,
        Err(s) => s,
    }
}

/// Bytes of the arena in use (runtime state included), for sizing the arena.
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_arena_used(rt: *const Runtime) -> usize {
    if rt.is_null() {
        return 0;
    }
    // SAFETY: per the contract.
    unsafe { (*rt).heap.cur - rt as usize }
}

// ---------------------------------------------------------------------------------------
// Signed snapshots (feature `sign`)
// ---------------------------------------------------------------------------------------

/// Verifies `file`'s Ed25519 signature under `key` (`runtime_loader::sign::verify`).
#[cfg(feature = "sign")]
fn verify_signature(file: &[u8], key: &[u8; 32]) -> Result<(), LoadError> {
    runtime_loader::sign::verify(file, key)
}

/// Without the `sign` feature no key can be set; refuse anyway (fail closed).
#[cfg(not(feature = "sign"))]
fn verify_signature(_: &[u8], _: &[u8; 32]) -> Result<(), LoadError> {
    Err(LoadError::BadSignature)
}

/// Whether `key` can be used to verify snapshots (else why not).
#[cfg(feature = "sign")]
fn check_key(key: &[u8; 32]) -> Result<(), &'static str> {
    runtime_loader::sign::check_public_key(key).map_err(LoadError::message)
}

/// Whether `key` can be used to verify snapshots: not without the `sign` feature.
#[cfg(not(feature = "sign"))]
fn check_key(_: &[u8; 32]) -> Result<(), &'static str> {
    Err("signature verification not built in (feature sign)")
}

/// With `on` non-zero, `bf_load` refuses (`BF_ERR_SIGNATURE`) every snapshot that does not
/// carry an Ed25519 signature verifying under the key of `bf_set_public_key`, and every
/// snapshot at all while no key is set: a firmware that must never run unsigned code cannot
/// then forget the key. (With a key set, unsigned snapshots are refused either way.) `on` = 0
/// clears the requirement. Call it after `bf_init`, before `bf_load`.
///
/// Returns `BF_ERR_SIGNATURE` if the library was built without the `sign` feature: the
/// requirement is set anyway (fail closed: no snapshot can load).
///
/// # Safety
/// `rt` from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_require_signature(rt: *mut Runtime, on: i32) -> bf_status {
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            r.require_signature = on != 0;
            if on != 0 && !cfg!(feature = "sign") {
                set_msg(
                    &mut r.message,
                    &[b"signature verification not built in (feature sign)"],
                );
                return BF_ERR_SIGNATURE;
            }
            BF_OK
        })
    }
}

/// Requires every snapshot later given to `bf_load` to carry an Ed25519 signature that
/// verifies under `key` (32 bytes, `bareflow keygen`'s PREFIX.pub decoded from hex); the check
/// runs on the raw bytes before anything of the snapshot is parsed or mapped, and a failure
/// returns `BF_ERR_SIGNATURE`. Call it after `bf_init`, before `bf_load`.
///
/// Returns `BF_ERR_SIGNATURE` if `key` is not a valid Ed25519 public key, or if the library
/// was built without the `sign` feature (then no snapshot could be checked).
///
/// # Safety
/// `rt` from `bf_init`; `key` readable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_set_public_key(rt: *mut Runtime, key: *const u8) -> bf_status {
    if key.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract `key` points at 32 readable bytes.
    let key: [u8; 32] = unsafe { key.cast::<[u8; 32]>().read_unaligned() };
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            match check_key(&key) {
                Ok(()) => {
                    r.public_key = Some(key);
                    BF_OK
                }
                Err(why) => {
                    set_msg(&mut r.message, &[why.as_bytes()]);
                    BF_ERR_SIGNATURE
                }
            }
        })
    }
}
