//! The embedder's view of a module and an instance (issue #20, item 5): export and import
//! listing with types, function signatures, globals by export name, tables, a pointer to
//! every linear memory, host bindings checked against the import's type, and where the last
//! trap happened.
//!
//! Every function here is API surface only: nothing in `bf_load` / `bf_instantiate` /
//! `bf_call` calls it, so a program that does not use one links none of its code (the
//! library is built with one section per function and linked with `--gc-sections`). The
//! loader core figure of `scripts/sizes.sh` is measured on a program without them.

use super::*;
use runtime_loader::meta::{GlobalType, ValType};
use runtime_loader::meta_view::{ExportView, ImportView};

// `MetaView::export`/`import` are `#[inline(always)]` for this module: a call site here
// would otherwise make LLVM (opt-level "z") stop inlining them at the core's single call
// sites (measured: +306 bytes of loader core, with every function here discarded at link
// time). For the same reason nothing here calls `TrapCode::from_u32` or compares slices
// with core's `==`.
fn export_at(m: &Module, i: u32) -> ExportView<'static> {
    m.meta.export(i)
}

fn import_at(m: &Module, i: u32) -> ImportView<'static> {
    m.meta.import(i)
}

/// Byte-string equality, without core's slice comparison (see above).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `bf_extern::kind` of a function (the values of `wasm.h`'s `wasm_externkind_t`).
pub const BF_EXTERN_FUNC: u32 = 0;
/// `bf_extern::kind` of a global.
pub const BF_EXTERN_GLOBAL: u32 = 1;
/// `bf_extern::kind` of a table.
pub const BF_EXTERN_TABLE: u32 = 2;
/// `bf_extern::kind` of a linear memory.
pub const BF_EXTERN_MEMORY: u32 = 3;

/// Value types of `bf_value::ty` (the values of `wasm.h`'s `wasm_valkind_t`).
pub const BF_TYPE_I32: u32 = 0;
/// `i64`.
pub const BF_TYPE_I64: u32 = 1;
/// `f32`.
pub const BF_TYPE_F32: u32 = 2;
/// `f64`.
pub const BF_TYPE_F64: u32 = 3;
/// `v128`.
pub const BF_TYPE_V128: u32 = 4;
/// `externref`.
pub const BF_TYPE_EXTERNREF: u32 = 128;
/// `funcref`.
pub const BF_TYPE_FUNCREF: u32 = 129;
/// `exnref` (exception handling; no snapshot holds one yet: compiled modes refuse exceptions).
pub const BF_TYPE_EXNREF: u32 = 130;

/// A null function reference as a function index (`bf_table_get`, funcref `bf_value`s).
pub const BF_NULL_FUNC: u32 = u32::MAX;

/// One import or export (`bf_extern` in the header). Names are the module's bytes, not
/// NUL-terminated, valid as long as the loaded module (until `bf_init` on the arena again).
#[repr(C)]
pub struct bf_extern {
    /// Imports: the module name; exports: null.
    pub module: *const c_char,
    /// Length of `module` in bytes (0 for exports).
    pub module_len: usize,
    /// The field (import) or export name.
    pub name: *const c_char,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// `BF_EXTERN_*`.
    pub kind: u32,
    /// Index in the kind's index space (for functions: what `bf_call` and
    /// `bf_func_signature` take).
    pub index: u32,
}

/// A typed value (`bf_value` in the header): `bits[0]` holds i32/f32 in its low 32 bits,
/// i64/f64 whole (floats as raw bits), a funcref as a function index (`BF_NULL_FUNC` for
/// null), an externref as the host's value (0 = null); a v128 takes `bits[0]` (low half)
/// and `bits[1]`.
#[repr(C)]
pub struct bf_value {
    /// `BF_TYPE_*`.
    pub ty: u32,
    /// Zero.
    pub reserved: u32,
    /// The value's bits.
    pub bits: [u64; 2],
}

fn type_code(t: ValType) -> u32 {
    match t {
        ValType::I32 => BF_TYPE_I32,
        ValType::I64 => BF_TYPE_I64,
        ValType::F32 => BF_TYPE_F32,
        ValType::F64 => BF_TYPE_F64,
        ValType::V128 => BF_TYPE_V128,
        ValType::ExternRef => BF_TYPE_EXTERNREF,
        ValType::FuncRef => BF_TYPE_FUNCREF,
        ValType::ExnRef => BF_TYPE_EXNREF,
    }
}

fn kind_code(k: ExportKind) -> u32 {
    match k {
        ExportKind::Func => BF_EXTERN_FUNC,
        ExportKind::Global => BF_EXTERN_GLOBAL,
        ExportKind::Table => BF_EXTERN_TABLE,
        ExportKind::Memory => BF_EXTERN_MEMORY,
    }
}

/// The signature letter of a value type (`bf_bind_typed`, `bf_func_signature`): WAMR's
/// `i` `I` `f` `F` and `r` (externref), plus `V` (v128) and `R` (funcref).
fn sig_char(t: ValType) -> u8 {
    match t {
        ValType::I32 => b'i',
        ValType::I64 => b'I',
        ValType::F32 => b'f',
        ValType::F64 => b'F',
        ValType::V128 => b'V',
        ValType::ExternRef => b'r',
        ValType::FuncRef => b'R',
        ValType::ExnRef => b'X',
    }
}

/// Writes the signature of function type `ty` as `(PARAMS)RESULTS` into `out`; returns its
/// length (it may exceed `out`'s, which then holds a prefix).
fn render_sig(ty: &runtime_loader::meta_view::FuncTypeView<'_>, out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut push = |b: u8| {
        if let Some(s) = out.get_mut(n) {
            *s = b;
        }
        n += 1;
    };
    push(b'(');
    ty.param_types().for_each(|t| push(sig_char(t)));
    push(b')');
    ty.result_types().for_each(|t| push(sig_char(t)));
    n
}

/// Runs `op` on the loaded module (`BF_ERR_STATE` before `bf_load`).
///
/// # Safety
/// `rt` null or from `bf_init`.
unsafe fn with_module(
    rt: *mut Runtime,
    op: &mut dyn FnMut(&mut Runtime, Module) -> bf_status,
) -> bf_status {
    // SAFETY: per the contract.
    unsafe {
        guarded(rt, &mut |r| match r.module {
            Some(m) => op(r, m),
            None => BF_ERR_STATE,
        })
    }
}

/// Runs `op` on the instance (`BF_ERR_STATE` before `bf_instantiate`).
///
/// # Safety
/// `rt` null or from `bf_init`.
unsafe fn with_instance(
    rt: *mut Runtime,
    op: &mut dyn FnMut(&mut Runtime, Module, &Inst) -> bf_status,
) -> bf_status {
    // SAFETY: per the contract; a non-null `inst` is the live instance block.
    unsafe {
        guarded(rt, &mut |r| match (r.module, r.inst.is_null()) {
            (Some(m), false) => {
                let inst = &*r.inst;
                op(r, m, inst)
            }
            _ => BF_ERR_STATE,
        })
    }
}

/// The index of the export `name` of kind `kind`, or `BF_ERR_NOT_FOUND` (message set).
fn export_index(
    r: &mut Runtime,
    m: &Module,
    name: &[u8],
    kind: ExportKind,
) -> Result<u32, bf_status> {
    let found = (0..m.meta.num_exports())
        .map(|i| export_at(m, i))
        .find(|e| same(e.name, name));
    match found {
        Some(e) if e.kind == kind => Ok(e.index),
        Some(_) => {
            set_msg(&mut r.message, &[b"export is of another kind: ", name]);
            Err(BF_ERR_TYPE)
        }
        None => {
            set_msg(&mut r.message, &[b"no export named ", name]);
            Err(BF_ERR_NOT_FOUND)
        }
    }
}

/// Number of exports of the loaded module (after `bf_load`).
///
/// # Safety
/// `rt` from `bf_init`; `count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_export_count(rt: *mut Runtime, count: *mut u32) -> bf_status {
    if count.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    unsafe {
        with_module(rt, &mut |_, m| {
            *count = m.meta.num_exports();
            BF_OK
        })
    }
}

/// Export `i` (`0 <= i < bf_export_count`) of the loaded module; `BF_ERR_NOT_FOUND` past
/// the end.
///
/// # Safety
/// `rt` from `bf_init`; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_export_get(rt: *mut Runtime, i: u32, out: *mut bf_extern) -> bf_status {
    if out.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    unsafe {
        with_module(rt, &mut |_, m| {
            if i >= m.meta.num_exports() {
                return BF_ERR_NOT_FOUND;
            }
            let e = export_at(&m, i);
            out.write(bf_extern {
                module: ptr::null(),
                module_len: 0,
                name: e.name.as_ptr().cast(),
                name_len: e.name.len(),
                kind: kind_code(e.kind),
                index: e.index,
            });
            BF_OK
        })
    }
}

/// Number of imports of the loaded module (after `bf_load`).
///
/// # Safety
/// `rt` from `bf_init`; `count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_import_count(rt: *mut Runtime, count: *mut u32) -> bf_status {
    if count.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    unsafe {
        with_module(rt, &mut |_, m| {
            *count = m.meta.num_imports();
            BF_OK
        })
    }
}

/// Import `i` (`0 <= i < bf_import_count`) of the loaded module: the `k`-th import of a kind
/// is index `k` of that kind's index space. `BF_ERR_NOT_FOUND` past the end.
///
/// # Safety
/// `rt` from `bf_init`; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_import_get(rt: *mut Runtime, i: u32, out: *mut bf_extern) -> bf_status {
    if out.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    unsafe {
        with_module(rt, &mut |_, m| {
            if i >= m.meta.num_imports() {
                return BF_ERR_NOT_FOUND;
            }
            let imp = import_at(&m, i);
            let index = (0..i)
                .filter(|&j| import_at(&m, j).kind == imp.kind)
                .count() as u32;
            out.write(bf_extern {
                module: imp.module.as_ptr().cast(),
                module_len: imp.module.len(),
                name: imp.name.as_ptr().cast(),
                name_len: imp.name.len(),
                kind: kind_code(imp.kind),
                index,
            });
            BF_OK
        })
    }
}

/// Writes the signature of function `index` as `(PARAMS)RESULTS`, NUL-terminated, into
/// `buf` (`len` bytes): one letter per value, `i` i32, `I` i64, `f` f32, `F` f64, `V` v128,
/// `r` externref, `R` funcref (`"(iI)"`: two parameters, no result). `BF_ERR_BOUNDS` if it
/// does not fit (`buf` then holds nothing useful), `BF_ERR_NOT_FOUND` for no such function.
///
/// # Safety
/// `rt` from `bf_init`; `buf` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_func_signature(
    rt: *mut Runtime,
    index: u32,
    buf: *mut c_char,
    len: usize,
) -> bf_status {
    if buf.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    unsafe {
        with_module(rt, &mut |_, m| {
            let Some(ty) = m.meta.func_type(index) else {
                return BF_ERR_NOT_FOUND;
            };
            let out = core::slice::from_raw_parts_mut(buf.cast::<u8>(), len);
            let n = render_sig(&ty, out);
            match out.get_mut(n) {
                Some(z) => {
                    *z = 0;
                    BF_OK
                }
                None => BF_ERR_BOUNDS,
            }
        })
    }
}

/// Whether `sig` (a `bf_bind_typed` signature string) is exactly `ty`'s signature;
/// `None` if `sig` is not well formed.
fn sig_matches(sig: &[u8], ty: &runtime_loader::meta_view::FuncTypeView<'_>) -> Option<bool> {
    // Well formed: '(' letters ')' letters, every letter one of the table's.
    let close = sig.iter().position(|&b| b == b')')?;
    let ok = |b: &u8| b"iIfFVrR".contains(b);
    if sig.first() != Some(&b'(')
        || !sig[1..close].iter().all(ok)
        || !sig[close + 1..].iter().all(ok)
    {
        return None;
    }
    let mut want = [0u8; 64];
    let n = render_sig(ty, &mut want);
    Some(n <= want.len() && same(&want[..n], sig))
}

/// [`bf_bind`], checked: `signature` (`"(iI)"`, `"(ii)i"`, letters as in
/// [`bf_func_signature`]) must be the type of every import (`module`, `name`) of the loaded
/// module. Refused with `BF_ERR_TYPE` on a mismatch (or an import that is not a function),
/// `BF_ERR_NOT_FOUND` when the module has no such import, `BF_ERR_ARG` for a malformed
/// signature; `bf_error_message` says which. Call after `bf_load`, before `bf_instantiate`.
///
/// # Safety
/// As for [`bf_bind`]; `signature` NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_bind_typed(
    rt: *mut Runtime,
    module: *const c_char,
    name: *const c_char,
    signature: *const c_char,
    func: bf_host_fn,
    env: *mut c_void,
) -> bf_status {
    // SAFETY: per the contract.
    let (Some(mn), Some(nn), Some(sig)) =
        (unsafe { c_str(module) }, unsafe { c_str(name) }, unsafe {
            c_str(signature)
        })
    else {
        return BF_ERR_ARG;
    };
    // SAFETY: per the contract.
    let checked = unsafe {
        with_module(rt, &mut |r, m| {
            let mut found = false;
            for i in 0..m.meta.num_imports() {
                let imp = import_at(&m, i);
                if !same(imp.module, mn) || !same(imp.name, nn) {
                    continue;
                }
                found = true;
                let ty = match imp.kind {
                    // Imports are functions only here, so import `i` is function `i`; a
                    // module with other imports cannot be instantiated anyway.
                    ExportKind::Func => m.meta.func_type(i),
                    _ => None,
                };
                let Some(ty) = ty else {
                    set_msg(
                        &mut r.message,
                        &[b"import is not a function: ", mn, b".", nn],
                    );
                    return BF_ERR_TYPE;
                };
                match sig_matches(sig, &ty) {
                    None => {
                        set_msg(&mut r.message, &[b"malformed signature: ", sig]);
                        return BF_ERR_ARG;
                    }
                    Some(false) => {
                        let mut want = [0u8; 40];
                        let n = render_sig(&ty, &mut want).min(want.len());
                        set_msg(
                            &mut r.message,
                            &[
                                b"signature mismatch: ",
                                mn,
                                b".",
                                nn,
                                b" is ",
                                &want[..n],
                                b", not ",
                                sig,
                            ],
                        );
                        return BF_ERR_TYPE;
                    }
                    Some(true) => {}
                }
            }
            if found {
                BF_OK
            } else {
                set_msg(&mut r.message, &[b"no import ", mn, b".", nn]);
                BF_ERR_NOT_FOUND
            }
        })
    };
    if checked != BF_OK {
        return checked;
    }
    // SAFETY: per the contract.
    unsafe { bf_bind(rt, module, name, func, env) }
}

/// The cell of global export `name` and its type.
fn global_cell(
    r: &mut Runtime,
    m: &Module,
    inst: &Inst,
    name: &[u8],
) -> Result<(*mut u64, GlobalType), bf_status> {
    let g = export_index(r, m, name, ExportKind::Global)?;
    if g >= inst.nglobals {
        return Err(BF_ERR_NOT_FOUND);
    }
    // SAFETY: `g` is in range of the instance's global pointer array.
    Ok((
        unsafe { *inst.gptrs.add(g as usize) },
        m.meta.global_type(g),
    ))
}

/// Reads the exported global `name` into `out` (its type in `out->ty`); `*is_mutable`
/// (may be NULL) says whether `bf_global_set` may write it.
///
/// # Safety
/// `rt` from `bf_init`; `name` NUL-terminated; `out` writable; `is_mutable` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_global_get(
    rt: *mut Runtime,
    name: *const c_char,
    out: *mut bf_value,
    is_mutable: *mut i32,
) -> bf_status {
    // SAFETY: per the contract.
    let Some(name) = (unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    if out.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; the cell is a live 16-byte global slot.
    unsafe {
        with_instance(rt, &mut |r, m, inst| {
            let (cell, gt) = match global_cell(r, &m, inst, name) {
                Ok(c) => c,
                Err(s) => return s,
            };
            let mut bits = [*cell, 0];
            match gt.ty {
                ValType::V128 => bits[1] = *cell.add(1),
                ValType::FuncRef => {
                    let f = bits[0] as *const FuncRef;
                    bits[0] = if f.is_null() {
                        BF_NULL_FUNC.into()
                    } else {
                        (*f).func_index.into()
                    };
                }
                ValType::I32 | ValType::F32 => bits[0] &= 0xffff_ffff,
                _ => {}
            }
            out.write(bf_value {
                ty: type_code(gt.ty),
                reserved: 0,
                bits,
            });
            if !is_mutable.is_null() {
                *is_mutable = gt.mutable.into();
            }
            BF_OK
        })
    }
}

/// Writes `value` to the exported global `name`: `value->ty` must be the global's type and
/// the global mutable, else `BF_ERR_TYPE` (`bf_error_message` says which). A funcref value
/// is a function index of this instance or `BF_NULL_FUNC` (`BF_ERR_NOT_FOUND` otherwise).
///
/// # Safety
/// `rt` from `bf_init`; `name` NUL-terminated; `value` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_global_set(
    rt: *mut Runtime,
    name: *const c_char,
    value: *const bf_value,
) -> bf_status {
    // SAFETY: per the contract.
    let Some(name) = (unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    if value.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; the cell is a live 16-byte global slot.
    unsafe {
        let v = &*value;
        with_instance(rt, &mut |r, m, inst| {
            let (cell, gt) = match global_cell(r, &m, inst, name) {
                Ok(c) => c,
                Err(s) => return s,
            };
            if v.ty != type_code(gt.ty) {
                set_msg(
                    &mut r.message,
                    &[b"value of another type than global ", name],
                );
                return BF_ERR_TYPE;
            }
            if !gt.mutable {
                set_msg(&mut r.message, &[b"global is immutable: ", name]);
                return BF_ERR_TYPE;
            }
            let (lo, hi) = match gt.ty {
                ValType::I32 | ValType::F32 => (v.bits[0] & 0xffff_ffff, 0),
                ValType::V128 => (v.bits[0], v.bits[1]),
                ValType::FuncRef if v.bits[0] == u64::from(BF_NULL_FUNC) => (0, 0),
                ValType::FuncRef => match u32::try_from(v.bits[0]) {
                    Ok(f) if f < inst.nfuncs => (*inst.funcs.add(f as usize) as u64, 0),
                    _ => {
                        set_msg(
                            &mut r.message,
                            &[b"no such function for funcref global ", name],
                        );
                        return BF_ERR_NOT_FOUND;
                    }
                },
                _ => (v.bits[0], 0),
            };
            *cell = lo;
            *cell.add(1) = hi;
            BF_OK
        })
    }
}

/// The table of table export `name`.
fn table_of(
    r: &mut Runtime,
    m: &Module,
    inst: &Inst,
    name: &[u8],
) -> Result<*mut TableInst, bf_status> {
    let t = export_index(r, m, name, ExportKind::Table)?;
    inst.core.table_ptr(t).ok_or(BF_ERR_NOT_FOUND)
}

/// The current number of elements of the exported table `name`.
///
/// # Safety
/// `rt` from `bf_init`; `name` NUL-terminated; `size` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_table_size(
    rt: *mut Runtime,
    name: *const c_char,
    size: *mut u32,
) -> bf_status {
    // SAFETY: per the contract.
    let Some(name) = (unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    if size.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; the table is live.
    unsafe {
        with_instance(rt, &mut |r, m, inst| match table_of(r, &m, inst, name) {
            Ok(t) => {
                *size = (*t).def.len as u32;
                BF_OK
            }
            Err(s) => s,
        })
    }
}

/// Element `i` of the exported funcref table `name` as a function index of this instance,
/// callable with `bf_call` (`BF_NULL_FUNC` for a null element). `BF_ERR_BOUNDS` past the
/// table's end, `BF_ERR_TYPE` for an externref table.
///
/// # Safety
/// `rt` from `bf_init`; `name` NUL-terminated; `func_index` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_table_get(
    rt: *mut Runtime,
    name: *const c_char,
    i: u32,
    func_index: *mut u32,
) -> bf_status {
    // SAFETY: per the contract.
    let Some(name) = (unsafe { c_str(name) }) else {
        return BF_ERR_ARG;
    };
    if func_index.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; the table is live and `i` is checked against its length;
    // funcref elements are null or FuncRefs of this instance.
    unsafe {
        with_instance(rt, &mut |r, m, inst| {
            let t = match table_of(r, &m, inst, name) {
                Ok(t) => t,
                Err(s) => return s,
            };
            if (*t).ty.elem != ValType::FuncRef {
                set_msg(&mut r.message, &[b"not a funcref table: ", name]);
                return BF_ERR_TYPE;
            }
            if u64::from(i) >= (*t).def.len {
                return BF_ERR_BOUNDS;
            }
            let f = *(*t).def.base.add(i as usize) as *const FuncRef;
            *func_index = if f.is_null() {
                BF_NULL_FUNC
            } else {
                (*f).func_index
            };
            BF_OK
        })
    }
}

/// Memory `index` of the instance: its base address and current length in bytes, for
/// reading and writing in place. Valid until the next call that may run wasm or grow the
/// memory (`bf_call`, and any host function's return into wasm): `memory.grow` may move it.
/// `BF_ERR_NOT_FOUND` for no such memory.
///
/// # Safety
/// `rt` from `bf_init`; `base` and `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_memory_data(
    rt: *mut Runtime,
    index: u32,
    base: *mut *mut u8,
    len: *mut u64,
) -> bf_status {
    if base.is_null() || len.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; the instance's memories are live.
    unsafe {
        with_instance(rt, &mut |_, _, inst| match inst.core.memory_ptr(index) {
            Some(mem) => {
                *base = (*mem).def.base;
                *len = (*mem).def.len;
                BF_OK
            }
            None => BF_ERR_NOT_FOUND,
        })
    }
}

/// Where the last trapped call trapped, when compiled code raised it: the function index and
/// the wasm code offset (from the start of the module's code; 0 if not known).
/// `BF_ERR_NOT_FOUND` when there is no location: no trap, or a trap raised by a host
/// function. Out pointers may be NULL.
///
/// # Safety
/// `rt` from `bf_init`; out pointers null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_trap_location(
    rt: *mut Runtime,
    func_index: *mut u32,
    offset: *mut u32,
) -> bf_status {
    // SAFETY: per the contract; a recorded `last_func` is a FuncRef of the live instance.
    unsafe {
        with_instance(rt, &mut |r, _, _| {
            let f = r.trap_ctx.last_func;
            if r.trap_code == 0 || f.is_null() {
                return BF_ERR_NOT_FOUND;
            }
            if !func_index.is_null() {
                *func_index = (*f).func_index;
            }
            if !offset.is_null() {
                *offset = r.trap_ctx.last_offset;
            }
            BF_OK
        })
    }
}

/// Appends `v` in hexadecimal (no leading zeros) to `out` at `*n`.
fn push_hex(out: &mut [u8], n: &mut usize, v: u32) {
    let digits = (32 - v.leading_zeros()).div_ceil(4).max(1);
    for k in (0..digits).rev() {
        out[*n] = b"0123456789abcdef"[(v >> (4 * k) & 15) as usize];
        *n += 1;
    }
}

/// Appends `v` in decimal to `out` at `*n`.
fn push_dec(out: &mut [u8], n: &mut usize, v: u32) {
    let mut d = [0u8; 10];
    let mut k = d.len();
    let mut v = v;
    loop {
        k -= 1;
        d[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &d[k..] {
        out[*n] = b;
        *n += 1;
    }
}

/// The last trap's message with its location, as `bareflow run` prints it:
/// `trap: integer divide by zero (in function div, at code offset 0x2a)`, the function named
/// by its export name (`#N`, its index, when it has none). Without a location (see
/// [`bf_trap_location`]) it is [`bf_error_message`]. Valid until the next call on `rt`.
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_trap_message(rt: *mut Runtime) -> *const c_char {
    let (mut func, mut off) = (0u32, 0u32);
    // SAFETY: per the contract.
    if unsafe { bf_trap_location(rt, &mut func, &mut off) } == BF_OK {
        // SAFETY: per the contract (checked non-null and live by `bf_trap_location`).
        let _ = unsafe {
            with_module(rt, &mut |r, m| {
                let name = (0..m.meta.num_exports())
                    .map(|i| export_at(&m, i))
                    .find(|e| e.kind == ExportKind::Func && e.index == func)
                    .map(|e| e.name);
                let mut num = [b'#'; 24];
                let mut n = 1;
                let name = match name {
                    Some(s) => s,
                    None => {
                        push_dec(&mut num, &mut n, func);
                        &num[..n]
                    }
                };
                // The message `trapped` wrote ("trap: MESSAGE"), location appended once.
                let mut at = [0u8; 96];
                let mut k = 0;
                for &b in b" (in function " {
                    at[k] = b;
                    k += 1;
                }
                let tag = k;
                let end = r.message.iter().position(|&b| b == 0).unwrap_or(0);
                if r.message[..end].windows(tag).any(|w| same(w, &at[..tag])) {
                    return BF_OK;
                }
                for &b in name.iter().take(48) {
                    at[k] = b;
                    k += 1;
                }
                if off != 0 {
                    for &b in b", at code offset 0x" {
                        at[k] = b;
                        k += 1;
                    }
                    push_hex(&mut at, &mut k, off);
                }
                at[k] = b')';
                k += 1;
                let msg = r.message;
                set_msg(&mut r.message, &[&msg[..end], &at[..k]]);
                BF_OK
            })
        };
    }
    // SAFETY: per the contract.
    unsafe { bf_error_message(rt) }
}
