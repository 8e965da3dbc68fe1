//! The BareFlow snapshot loader as a C static library (`libbareflow.a`, header
//! `runtime-loader/include/bareflow.h`, guide `docs/FIRMWARE.md`).
//!
//! Memory: the embedder hands in every byte. [`bf_init`] takes one *arena*; the runtime
//! state (trap context, loaded module, instance, vmctx, tables, globals, linear memory, host
//! bindings) lives in it, allocated by a bump allocator that is this library's global
//! allocator. Code goes into a second embedder region ([`bf_load`]) or, for an
//! execute-in-place snapshot, runs straight from the snapshot bytes. Nothing calls an OS.
//!
//! Errors: every function returns a [`bf_status`]; nothing aborts. The core only allocates
//! while loading, binding and instantiating (and in `memory.grow`/`table.grow`, which report
//! failure to wasm as -1). If the arena runs out during one of those, the allocation failure
//! panics; the panic handler unwinds to the API entry through the same trap trampoline wasm
//! traps use (only frames of this library are discarded; what they owned stays leaked in the
//! arena), the runtime is marked poisoned and the call returns [`BF_ERR_ARENA`]: call
//! [`bf_init`] again to reuse the arena.
//!
//! Threads: a runtime is single-threaded, and the allocator's "current arena" is a global,
//! so use the library from one thread (firmware) or serialise calls.
#![cfg_attr(panic = "abort", no_std)]
#![allow(non_camel_case_types)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{CStr, c_char, c_void};
use core::pin::Pin;
use core::ptr;

use runtime_loader::abi::{FuncRef, VMContext, func_kind};
use runtime_loader::code::BufferCodeMemory;
use runtime_loader::format::MemoryMode;
use runtime_loader::instance::{Imports, Instance, TypeRegistry};
use runtime_loader::loader::{LoadedModule, call};
use runtime_loader::meta::{ExportKind, ImportKind};
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

struct Binding {
    module: Vec<u8>,
    name: Vec<u8>,
    func: bf_host_fn,
    env: *mut c_void,
    rt: *mut Runtime,
}

/// Runtime state (opaque to C: `bf_runtime`), placed at the start of the embedder's arena.
pub struct Runtime {
    heap: Bump,
    trap_ctx: TrapContext,
    poisoned: bool,
    module: Option<LoadedModule<BufferCodeMemory<'static>>>,
    /// Boxed: host `FuncRef`s point at their `Binding` (`host_data`) and the instance points
    /// at the `FuncRef`s, so neither may move when the vectors grow.
    #[allow(clippy::vec_box)]
    bindings: Vec<Box<Binding>>,
    #[allow(clippy::vec_box)]
    host_funcs: Vec<Box<FuncRef>>,
    instance: Option<Pin<Box<Instance>>>,
    trap_code: u32,
    message: [u8; 96],
    /// Ed25519 key every snapshot must be signed with (`bf_set_public_key`).
    public_key: Option<[u8; 32]>,
}

/// Writes the concatenation of `parts` into `buf`, truncated, NUL-terminated.
fn set_msg(buf: &mut [u8; 96], parts: &[&str]) {
    let mut n = 0;
    for p in parts {
        for &b in p.as_bytes() {
            if n + 1 < buf.len() {
                buf[n] = b;
                n += 1;
            }
        }
    }
    buf[n] = 0;
}

/// Runs `op` on the runtime behind `rt` with its arena as the allocator's, under a trap
/// entry so that a panic (arena exhausted) returns `BF_ERR_ARENA` instead of aborting.
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
            set_msg(
                &mut (*rt).message,
                &["arena exhausted (runtime poisoned: call bf_init again)"],
            );
            BF_ERR_ARENA
        }
    }
}

/// Borrows a NUL-terminated UTF-8 string.
///
/// # Safety
/// `s` must be null or a NUL-terminated string.
unsafe fn c_str<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    unsafe { CStr::from_ptr(s) }.to_str().ok()
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
            bindings: Vec::new(),
            host_funcs: Vec::new(),
            instance: None,
            trap_code: 0,
            message: [0; 96],
            public_key: None,
        });
        *out = rt;
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
/// writable and executable for `code_len` bytes and alive as long as the runtime.
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
    // SAFETY: per the contract.
    let file = unsafe { core::slice::from_raw_parts(snap, snap_len) };
    let region: &'static mut [u8] = if code.is_null() {
        &mut []
    } else {
        // SAFETY: per the contract, the region is the embedder's and lives as long as `rt`.
        unsafe { core::slice::from_raw_parts_mut(code, code_len) }
    };
    let in_place = code.is_null();
    let mut region = Some(region);
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.module.is_some() {
                return BF_ERR_STATE;
            }
            let Some(region) = region.take() else {
                return BF_ERR_STATE;
            };
            // Signed snapshots: checked on the raw bytes before anything is parsed or mapped.
            if let Some(key) = &r.public_key
                && let Err(e) = verify_signature(file, key)
            {
                set_msg(&mut r.message, &["snapshot rejected: ", e.message()]);
                return BF_ERR_SIGNATURE;
            }
            let mem = BufferCodeMemory::new(region, None);
            let loaded = if in_place {
                // (Inside the caller's `unsafe` block.) Per the contract, with `code` null
                // the snapshot bytes are executable and outlive the runtime.
                LoadedModule::load_in_place(file, mem, Some(MemoryMode::Checked))
            } else if cfg!(feature = "relocate") {
                LoadedModule::load_expecting(file, mem, MemoryMode::Checked)
            } else {
                // Built without the relocating loader: execute-in-place snapshots only.
                set_msg(
                    &mut r.message,
                    &["this build runs execute-in-place snapshots only (pass code = NULL)"],
                );
                return BF_ERR_ARG;
            };
            match loaded {
                Ok(m) => {
                    r.module = Some(m);
                    BF_OK
                }
                Err(e) => load_error(r, e),
            }
        })
    }
}

fn load_error(r: &mut Runtime, e: LoadError) -> bf_status {
    set_msg(&mut r.message, &["snapshot rejected: ", e.message()]);
    BF_ERR_LOAD
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
    // SAFETY: `rt` per the contract.
    unsafe {
        guarded(rt, &mut |r| {
            if r.instance.is_some() {
                return BF_ERR_STATE;
            }
            let rtp: *mut Runtime = r;
            if let Some(b) = r
                .bindings
                .iter_mut()
                .find(|b| b.module == m.as_bytes() && b.name == n.as_bytes())
            {
                b.func = func;
                b.env = env;
                return BF_OK;
            }
            r.bindings.push(Box::new(Binding {
                module: m.as_bytes().to_vec(),
                name: n.as_bytes().to_vec(),
                func,
                env,
                rt: rtp,
            }));
            BF_OK
        })
    }
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
        s if TrapCode::from_u32(s).is_some() => s,
        _ => TrapCode::HostError as u32,
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
    unsafe { guarded(rt, &mut |r| instantiate(r)) }
}

fn instantiate(r: &mut Runtime) -> bf_status {
    if r.instance.is_some() {
        return BF_ERR_STATE;
    }
    let Some(module) = r.module.as_ref() else {
        return BF_ERR_STATE;
    };
    let meta = &module.meta;
    let mut registry = TypeRegistry::new();
    let type_ids: Vec<u32> = meta.types.iter().map(|t| registry.intern(t)).collect();
    let mut imports = Imports::default();
    let mut host_funcs = Vec::new();
    for (i, imp) in meta.imports.iter().enumerate() {
        let ImportKind::Func(t) = imp.kind else {
            set_msg(
                &mut r.message,
                &["unsupported import kind: ", &imp.module, ".", &imp.name],
            );
            return BF_ERR_LINK;
        };
        let Some(b) = r
            .bindings
            .iter()
            .find(|b| b.module == imp.module.as_bytes() && b.name == imp.name.as_bytes())
        else {
            set_msg(
                &mut r.message,
                &["unknown import: ", &imp.module, ".", &imp.name],
            );
            return BF_ERR_LINK;
        };
        let stub = module.import_stub(t);
        if stub.is_null() {
            set_msg(
                &mut r.message,
                &["snapshot has no host stub for import ", &imp.name],
            );
            return BF_ERR_LINK;
        }
        let entry: unsafe extern "C" fn(*mut VMContext, *const FuncRef, *mut u64) -> u32 =
            host_entry;
        let f = Box::new(FuncRef {
            native: stub,
            array: entry as *const u8,
            vmctx: ptr::null_mut(),
            type_id: type_ids[t as usize],
            func_index: i as u32,
            kind: func_kind::HOST,
            reserved: 0,
            host_data: (&**b as *const Binding).cast_mut().cast(),
        });
        imports.funcs.push(&*f as *const FuncRef);
        host_funcs.push(f);
    }
    // SAFETY: the imports are host FuncRefs kept alive in `r.host_funcs` for the runtime's
    // life; the trap context lives in the runtime, which never moves (it sits in the arena);
    // the instance is stored next to the module it runs.
    let inst =
        match unsafe { module.instantiate(type_ids, imports, ptr::null_mut(), &mut r.trap_ctx) } {
            Ok(i) => i,
            Err(runtime_loader::instance::InstanceError::OutOfMemory) => {
                set_msg(&mut r.message, &["arena exhausted"]);
                return BF_ERR_ARENA;
            }
            Err(_) => {
                set_msg(&mut r.message, &["instantiation failed"]);
                return BF_ERR_INSTANTIATE;
            }
        };
    // The native→array stubs raise host traps through the vmctx they are called with.
    for f in &mut host_funcs {
        f.vmctx = inst.vmctx();
    }
    let start = meta.start;
    // Stored before segments and the start function run, so host functions called by the
    // start function can use the instance's memory.
    r.host_funcs = host_funcs;
    r.instance = Some(inst);
    let (Some(module), Some(inst)) = (r.module.as_ref(), r.instance.as_deref()) else {
        return BF_ERR_STATE;
    };
    let result = inst.initialize(&module.meta).and_then(|()| match start {
        // SAFETY: the start function takes and returns nothing; one slot is enough.
        Some(s) => unsafe { call(inst, s, &mut [0u64]) },
        None => Ok(()),
    });
    match result {
        Ok(()) => BF_OK,
        Err(t) => trapped(r, t as u32),
    }
}

fn trapped(r: &mut Runtime, code: u32) -> bf_status {
    r.trap_code = code;
    let msg = TrapCode::from_u32(code).map_or("unknown trap", |c| c.message());
    set_msg(&mut r.message, &["trap: ", msg]);
    BF_ERR_TRAP
}

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
            let Some(m) = r.module.as_ref() else {
                return BF_ERR_STATE;
            };
            let Some(e) = m
                .meta
                .exports
                .iter()
                .find(|e| e.kind == ExportKind::Func && e.name == name)
            else {
                return BF_ERR_NOT_FOUND;
            };
            let Some(ty) = m
                .meta
                .funcs
                .get(e.index as usize)
                .and_then(|t| m.meta.types.get(*t as usize))
            else {
                return BF_ERR_NOT_FOUND;
            };
            if !index.is_null() {
                *index = e.index;
            }
            if !nparams.is_null() {
                *nparams = ty.params.len() as u32;
            }
            if !nresults.is_null() {
                *nresults = ty.results.len() as u32;
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
            let (Some(m), Some(inst)) = (r.module.as_ref(), r.instance.as_ref()) else {
                return BF_ERR_STATE;
            };
            let Some(ty) = m
                .meta
                .funcs
                .get(index as usize)
                .and_then(|t| m.meta.types.get(*t as usize))
            else {
                return BF_ERR_NOT_FOUND;
            };
            let need = ty.params.len().max(ty.results.len());
            if nvalues < need {
                return BF_ERR_BOUNDS;
            }
            let mut one = [0u64];
            let slots: &mut [u64] = if nvalues == 0 {
                &mut one
            } else {
                core::slice::from_raw_parts_mut(values, nvalues)
            };
            let result = call(inst, index, slots);
            r.trap_ctx.last_func = ptr::null();
            match result {
                Ok(()) => {
                    r.trap_code = 0;
                    BF_OK
                }
                Err(t) => trapped(r, t as u32),
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
    let inst = r.instance.as_ref().ok_or(BF_ERR_STATE)?;
    let m = inst.memory(0).ok_or(BF_ERR_NOT_FOUND)?;
    // SAFETY: the instance's memory is live.
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
                    set_msg(&mut r.message, &[why]);
                    BF_ERR_SIGNATURE
                }
            }
        })
    }
}
