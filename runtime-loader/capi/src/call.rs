//! Exports, calls and memory access of the instance.

use super::*;

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
            // Cleared before the call, so after a trap it names the trapping compiled
            // function (`bf_trap_location`); host traps clear it themselves (import stubs).
            r.trap_ctx.last_func = ptr::null();
            let result = call(&*r.inst, index, slots);
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
pub(crate) unsafe fn memory0(rt: *mut Runtime) -> Result<(*mut u8, u64), bf_status> {
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

pub(crate) fn in_bounds(offset: u64, len: usize, size: u64) -> bool {
    offset
        .checked_add(len as u64)
        .is_some_and(|end| end <= size)
}

/// Copies `len` bytes between memory 0 at `offset` and `buf` (into `buf` unless `write`).
///
/// # Safety
/// `rt` from `bf_init`; `buf` valid for `len` bytes in the direction of the copy.
#[inline(never)]
unsafe fn host_copy(
    rt: *mut Runtime,
    offset: u64,
    buf: *mut u8,
    len: usize,
    write: bool,
) -> bf_status {
    // SAFETY: per the contract.
    unsafe { copy_checked(memory0(rt), offset, buf, len, write) }
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
    // SAFETY: per the contract.
    unsafe { host_copy(rt, offset, dst.cast(), len, false) }
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
    // SAFETY: per the contract; the copy only reads `src`.
    unsafe { host_copy(rt, offset, src.cast_mut().cast(), len, true) }
}

/// Multi-memory: memory `mem` of the instance, as [`memory0`] (kept apart from it so the
/// memory-0 entry points compile as before: the loader core of a program that uses only
/// them does not grow).
///
/// # Safety
/// `rt` from `bf_init`.
unsafe fn memory_n(rt: *mut Runtime, mem: u32) -> Result<(*mut u8, u64), bf_status> {
    if rt.is_null() {
        return Err(BF_ERR_ARG);
    }
    // SAFETY: per the contract.
    let r = unsafe { &*rt };
    if r.poisoned || r.inst.is_null() {
        return Err(BF_ERR_STATE);
    }
    // SAFETY: the instance is live; its memories are live.
    let m = unsafe { (*r.inst).core.memory_ptr(mem) }.ok_or(BF_ERR_NOT_FOUND)?;
    // SAFETY: as above.
    Ok(unsafe { ((*m).def.base, (*m).def.len) })
}

/// Multi-memory: [`host_copy`] for memory `mem`.
///
/// # Safety
/// As for [`host_copy`].
#[inline(never)]
unsafe fn host_copy_mem(
    rt: *mut Runtime,
    mem: u32,
    offset: u64,
    buf: *mut u8,
    len: usize,
    write: bool,
) -> bf_status {
    // SAFETY: per the contract.
    unsafe { copy_checked(memory_n(rt, mem), offset, buf, len, write) }
}

/// The copy of [`host_copy`] and [`host_copy_mem`] once the memory is found (`memory`: its
/// base and size, or the status that it is not there): `buf` checked, the range bounded.
/// Inlined into each, which stay out of line themselves.
///
/// # Safety
/// `memory`'s base addresses `size` bytes; `buf` valid for `len` bytes in the direction of
/// the copy.
#[inline(always)]
unsafe fn copy_checked(
    memory: Result<(*mut u8, u64), bf_status>,
    offset: u64,
    buf: *mut u8,
    len: usize,
    write: bool,
) -> bf_status {
    if buf.is_null() && len != 0 {
        return BF_ERR_ARG;
    }
    match memory {
        Ok((base, size)) if in_bounds(offset, len, size) => {
            // SAFETY: the range is inside the memory; `buf` per the contract.
            unsafe {
                let at = base.add(offset as usize);
                let (from, to) = if write { (buf, at) } else { (at, buf) };
                ptr::copy(from, to, len);
            }
            BF_OK
        }
        Ok(_) => BF_ERR_BOUNDS,
        Err(s) => s,
    }
}

/// Multi-memory: [`bf_memory_read`] of memory `mem` (`BF_ERR_NOT_FOUND` for no such memory).
///
/// # Safety
/// `rt` from `bf_init`; `dst` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_read_mem(
    rt: *mut Runtime,
    mem: u32,
    offset: u64,
    dst: *mut c_void,
    len: usize,
) -> bf_status {
    // SAFETY: per the contract.
    unsafe { host_copy_mem(rt, mem, offset, dst.cast(), len, false) }
}

/// Multi-memory: [`bf_memory_write`] into memory `mem` (`BF_ERR_NOT_FOUND` for no such
/// memory).
///
/// # Safety
/// `rt` from `bf_init`; `src` readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_write_mem(
    rt: *mut Runtime,
    mem: u32,
    offset: u64,
    src: *const c_void,
    len: usize,
) -> bf_status {
    // SAFETY: per the contract; the copy only reads `src`.
    unsafe { host_copy_mem(rt, mem, offset, src.cast_mut().cast(), len, true) }
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
