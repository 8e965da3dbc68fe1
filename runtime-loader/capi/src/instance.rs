//! Host bindings (`bf_bind`) and instantiation (`bf_instantiate`): the C library's one-block
//! instance over the runtime loader's instance core (`runtime_loader::instance`).

use super::*;

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

pub(crate) fn find_binding(r: &Runtime, module: &[u8], name: &[u8]) -> Option<*mut Binding> {
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
pub(crate) unsafe extern "C" fn host_entry(
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

/// The instance header, at the start of its one arena block; the arrays the vmctx points at
/// follow it in the same block (offsets computed in `instantiate`). Memories, tables and
/// passive segments are the runtime loader's own objects (`runtime_loader::instance`),
/// allocated from the arena through the global allocator; their operations, growth and the
/// libcalls are the instance core's, shared with every other tier.
#[repr(C)]
pub(crate) struct Inst {
    /// First: `vmctx.instance` points here, where the shared libcalls read the core.
    pub(crate) core: InstanceCore,
    // Before the vmctx (80 bytes with multi-memory's `memories`): so these fields keep
    // 8-bit displacements (offsets below 128), 67 bytes of XIP-only loader core.
    pub(crate) nfuncs: u32,
    pub(crate) nglobals: u32,
    pub(crate) funcs: *mut *const FuncRef,
    pub(crate) gptrs: *mut *mut u64,
    pub(crate) vmctx: VMContext,
    pub(crate) segments: Segments,
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
    carve_bytes(size, align_of::<T>(), size_of::<T>() * count as usize)
}

/// Offset of `bytes` bytes aligned to `align` (a power of two) placed at the end of a block
/// of `*size` bytes.
#[inline(never)]
fn carve_bytes(size: &mut usize, align: usize, bytes: usize) -> usize {
    let at = (*size + align - 1) & !(align - 1);
    *size = at + bytes;
    at
}

pub(crate) fn link_error(r: &mut Runtime, what: &[u8], m: &[u8], n: &[u8]) -> bf_status {
    set_msg(&mut r.message, &[what, m, b".", n]);
    BF_ERR_LINK
}

/// Import `i` of `module`: its host stub's offset and its binding, or the link error
/// (message set). One function for the check in `instantiate` and the use in `build`.
#[inline(never)]
fn resolve_import(
    r: &mut Runtime,
    module: &Module,
    i: u32,
) -> Result<(u32, *mut Binding), bf_status> {
    let meta = &module.meta;
    let imp = meta.import(i);
    let (m, n) = (imp.module, imp.name);
    // One message, then one call that sets it.
    let why: &[u8] = if imp.kind != ExportKind::Func {
        b"unsupported import kind: "
    } else if let Some(b) = find_binding(r, m, n) {
        match module.entries.import_stub(meta.func_type_index(i)) {
            Some(stub) => return Ok((stub, b)),
            None => b"snapshot has no host stub for import ",
        }
    } else {
        b"unknown import: "
    };
    Err(link_error(r, why, m, n))
}

pub(crate) fn instantiate(r: &mut Runtime) -> Result<(), bf_status> {
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
    // with its host stub; checked before the block is carved (a link error leaves the arena
    // as it was).
    for i in 0..meta.num_imports() {
        resolve_import(r, module, i)?;
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
        carve::<GlobalSlot>(&mut size, nglobals),
        carve::<*mut u64>(&mut size, nglobals),
        carve::<u32>(&mut size, meta.num_types()),
    ];
    // A failed instantiation gives its arena blocks back.
    let mark = r.heap.cur;
    let block = arena_zeroed(r, size, align_of::<Inst>().max(align_of::<GlobalSlot>()))?;
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
    let result = apply_segments(&inst.core, meta, funcs, globals)
        .map_err(|c| c as u32)
        .and_then(|()| match meta.start() {
            // SAFETY: the start function takes and returns nothing; one slot is enough.
            Some(s) => unsafe { call(inst, s, &mut [0u64]) },
            None => Ok(()),
        });
    result.map_err(|code| trapped(r, code))
}

/// A global's cell in the arena: 16 bytes, 16-aligned, as in the Rust `Instance`
/// (`instance::GlobalCell`), so a `v128` global fits (low half first).
#[repr(C, align(16))]
pub(crate) struct GlobalSlot([u64; 2]);

/// [`apply_active_segments`] for the loaded module, kept out of `instantiate`: inlined there
/// it adds to that large function's spills (-78 bytes of XIP-only loader core). Here and not
/// on the shared function, which the Rust loader inlines at no cost.
#[inline(never)]
fn apply_segments(
    core: &InstanceCore,
    meta: &MetaView<'static>,
    funcs: &[*const FuncRef],
    globals: &[*mut u64],
) -> Result<(), TrapCode> {
    apply_active_segments(core, meta, funcs, globals)
}

/// Fills the zeroed instance block `block` (array offsets `o`, as carved in `instantiate`).
pub(crate) fn build(
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
    let globals = at(5).cast::<GlobalSlot>();
    let gptrs = at(6).cast::<*mut u64>();
    let type_ids = at(7).cast::<u32>();
    // SAFETY: all writes below go to the block's own arrays, sized by the metadata counts
    // the loops are bounded by; `inst` is the block's header.
    unsafe {
        // Signature ids for call_indirect: each type's validated signature class.
        for i in 0..meta.num_types() {
            *type_ids.add(i as usize) = meta.type_class(i);
        }
        let vmctx: *mut VMContext = &raw mut (*inst).vmctx;
        // Functions: host FuncRefs for imports (bound here), the loaded code for the rest.
        for i in 0..nfuncs {
            let ty = meta.func_type_index(i);
            let f = refs.add(i as usize);
            *funcs.add(i as usize) = f;
            let (native, array, kind, host_data) = if i < nimp {
                // Checked in `instantiate`: every import is a bound function with a stub.
                let (stub, b) = resolve_import(r, module, i)?;
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
        for i in 0..meta.num_globals() as usize {
            *gptrs.add(i) = globals.add(i).cast::<u64>();
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
            libcalls: LIBCALLS.0.as_ptr().cast(),
            trap_ctx: (&raw mut r.trap_ctx).cast(),
            instance: inst.cast(),
            memories: mems.cast(),
        };
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
pub(crate) fn out_of_memory(r: &mut Runtime) -> bf_status {
    set_msg(&mut r.message, &[b"arena exhausted"]);
    BF_ERR_ARENA
}

/// Calls function `index` with `values` (parameters in, results out).
///
/// # Safety
/// `values` must hold `max(params, results)` slots of the function's signature.
pub(crate) unsafe fn call(inst: &Inst, index: u32, values: &mut [u64]) -> Result<(), u32> {
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
pub(crate) fn is_trap_code(s: u32) -> bool {
    (1..=TrapCode::ALL.len() as u32).contains(&s)
}

pub(crate) fn trapped(r: &mut Runtime, code: u32) -> bf_status {
    r.trap_code = code;
    let msg = TrapCode::from_u32(code).map_or("unknown trap", |c| c.message());
    set_msg(&mut r.message, &[b"trap: ", msg.as_bytes()]);
    BF_ERR_TRAP
}
