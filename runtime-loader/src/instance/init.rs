//! Instantiation steps both loaders share: constant-expression evaluation, global
//! initialisation, the segment tables of an [`InstanceCore`] and the application of active
//! segments in spec order.
//!
//! They read the module through [`ModuleSource`], implemented for the in-place
//! [`MetaView`] (every snapshot loader: the C library, `LoadedModule`, `bareflow-load`) and
//! the decoded [`ModuleMeta`] (the compiler's modules); constant expressions are evaluated in
//! the metadata's [`RawExpr`] form. [`crate::instance::Instance::new`] reads the rest of the
//! module (types, imports, memories, tables, globals) through it too.

use alloc::boxed::Box;
use core::alloc::Layout;
use core::ptr;

use super::libcalls::{InstanceCore, Segment};
use crate::abi::{FuncRef, TrapCode};
use crate::meta::{
    CONST_OP_BYTES, CONST_STACK, ConstExpr, DataMode, ElemMode, ExportKind, GlobalType, ImportKind,
    MemoryType, ModuleMeta, TableType,
};
use crate::meta_view::{MetaView, RawExpr};

/// What instantiation reads of a module: its index spaces, imports, globals and segments.
pub trait ModuleSource {
    /// Whether passive data segments are copied into the instance. A metadata view's bytes
    /// are read in place instead: whoever instantiates from a [`MetaView`] keeps its bytes
    /// alive (and unchanged) as long as the instance.
    const COPY_DATA: bool;
    /// Number of module types.
    fn num_types(&self) -> u32;
    /// Number of imports.
    fn num_imports(&self) -> u32;
    /// Import `i`'s kind and type; `seen` counts the imports before it of each kind
    /// (functions, memories, tables, globals): the `k`-th import of a kind is entry `k` of
    /// that kind's index space (imports come first there, in import order).
    fn import_kind(&self, i: u32, seen: [u32; 4]) -> ImportKind;
    /// Number of functions, imported ones included.
    fn num_funcs(&self) -> u32;
    /// Number of imported functions.
    fn num_imported_funcs(&self) -> u32;
    /// Type index of function `f` (below [`ModuleSource::num_funcs`]).
    fn func_type_index(&self, f: u32) -> u32;
    /// Number of memories, imported ones included.
    fn num_memories(&self) -> u32;
    /// Number of imported memories.
    fn num_imported_memories(&self) -> u32;
    /// Memory `i` (below [`ModuleSource::num_memories`]).
    fn memory_type(&self, i: u32) -> MemoryType;
    /// Number of tables, imported ones included.
    fn num_tables(&self) -> u32;
    /// Number of imported tables.
    fn num_imported_tables(&self) -> u32;
    /// Table `i` (below [`ModuleSource::num_tables`]).
    fn table_type(&self, i: u32) -> TableType;
    /// The initialiser of table `i` (below [`ModuleSource::num_tables`]; `ref.null` for an
    /// imported one).
    fn table_init(&self, i: u32) -> RawExpr;
    /// Type of global `i` (below [`ModuleSource::num_globals`]).
    fn global_type(&self, i: u32) -> GlobalType;
    /// Number of globals, imported ones included.
    fn num_globals(&self) -> u32;
    /// Number of imported globals.
    fn num_imported_globals(&self) -> u32;
    /// The initializer of defined global `defined` (index without the imports).
    fn global_init(&self, defined: u32) -> RawExpr;
    /// The 16 bytes of defined global `defined`'s initializer if it is a `v128.const`.
    fn global_v128(&self, defined: u32) -> Option<u128>;
    /// Number of element segments.
    fn num_elems(&self) -> u32;
    /// Element segment `i`: (table and offset if active, passive, number of items).
    fn elem(&self, i: u32) -> (Option<(u32, RawExpr)>, bool, u32);
    /// Item `j` of element segment `i`.
    fn elem_item(&self, i: u32, j: u32) -> RawExpr;
    /// The operations of an extended constant expression (tag 8 or 9, see
    /// [`crate::meta::CONST_OP_BYTES`]); none if its range is out of bounds.
    fn const_code(&self, e: RawExpr) -> &[u8];
    /// Number of data segments.
    fn num_datas(&self) -> u32;
    /// Data segment `i`: (memory and offset if active, bytes).
    fn data(&self, i: u32) -> (Option<(u32, RawExpr)>, &[u8]);
}

impl ModuleSource for MetaView<'_> {
    const COPY_DATA: bool = false;
    fn num_types(&self) -> u32 {
        MetaView::num_types(self)
    }
    fn num_imports(&self) -> u32 {
        MetaView::num_imports(self)
    }
    fn import_kind(&self, i: u32, seen: [u32; 4]) -> ImportKind {
        let kind = MetaView::import(self, i).kind;
        let k = seen[kind as usize];
        match kind {
            ExportKind::Func => ImportKind::Func(MetaView::func_type_index(self, k)),
            ExportKind::Memory => ImportKind::Memory(MetaView::memory(self, k)),
            ExportKind::Table => ImportKind::Table(MetaView::table(self, k)),
            ExportKind::Global => ImportKind::Global(MetaView::global_type(self, k)),
        }
    }
    fn num_funcs(&self) -> u32 {
        MetaView::num_funcs(self)
    }
    fn num_imported_funcs(&self) -> u32 {
        MetaView::num_imported_funcs(self)
    }
    fn func_type_index(&self, f: u32) -> u32 {
        MetaView::func_type_index(self, f)
    }
    fn num_memories(&self) -> u32 {
        MetaView::num_memories(self)
    }
    fn num_imported_memories(&self) -> u32 {
        MetaView::num_imported_memories(self)
    }
    fn memory_type(&self, i: u32) -> MemoryType {
        MetaView::memory(self, i)
    }
    fn num_tables(&self) -> u32 {
        MetaView::num_tables(self)
    }
    fn num_imported_tables(&self) -> u32 {
        MetaView::num_imported_tables(self)
    }
    fn table_type(&self, i: u32) -> TableType {
        MetaView::table(self, i)
    }
    fn table_init(&self, i: u32) -> RawExpr {
        MetaView::table_init(self, i)
    }
    fn global_type(&self, i: u32) -> GlobalType {
        MetaView::global_type(self, i)
    }
    fn num_globals(&self) -> u32 {
        MetaView::num_globals(self)
    }
    fn num_imported_globals(&self) -> u32 {
        MetaView::num_imported_globals(self)
    }
    fn global_init(&self, defined: u32) -> RawExpr {
        MetaView::global_init(self, defined)
    }
    fn global_v128(&self, defined: u32) -> Option<u128> {
        match self.decode_expr(MetaView::global_init(self, defined)) {
            Ok(ConstExpr::V128(x)) => Some(x),
            _ => None,
        }
    }
    fn num_elems(&self) -> u32 {
        MetaView::num_elems(self)
    }
    fn elem(&self, i: u32) -> (Option<(u32, RawExpr)>, bool, u32) {
        let e = MetaView::elem(self, i);
        (e.active, e.passive, e.count)
    }
    fn elem_item(&self, i: u32, j: u32) -> RawExpr {
        MetaView::elem_item(self, MetaView::elem(self, i).first + j)
    }
    fn const_code(&self, e: RawExpr) -> &[u8] {
        MetaView::const_code(self, e)
    }
    fn num_datas(&self) -> u32 {
        MetaView::num_datas(self)
    }
    fn data(&self, i: u32) -> (Option<(u32, RawExpr)>, &[u8]) {
        let d = MetaView::data(self, i);
        (d.active, d.bytes)
    }
}

impl ModuleSource for ModuleMeta {
    const COPY_DATA: bool = true;
    fn num_types(&self) -> u32 {
        self.types.len() as u32
    }
    fn num_imports(&self) -> u32 {
        self.imports.len() as u32
    }
    fn import_kind(&self, i: u32, _: [u32; 4]) -> ImportKind {
        self.imports[i as usize].kind.clone()
    }
    fn num_funcs(&self) -> u32 {
        self.funcs.len() as u32
    }
    fn num_imported_funcs(&self) -> u32 {
        self.num_imported_funcs
    }
    fn func_type_index(&self, f: u32) -> u32 {
        self.funcs[f as usize]
    }
    fn num_memories(&self) -> u32 {
        self.memories.len() as u32
    }
    fn num_imported_memories(&self) -> u32 {
        self.num_imported_memories
    }
    fn memory_type(&self, i: u32) -> MemoryType {
        self.memories[i as usize]
    }
    fn num_tables(&self) -> u32 {
        self.tables.len() as u32
    }
    fn num_imported_tables(&self) -> u32 {
        self.num_imported_tables
    }
    fn table_type(&self, i: u32) -> TableType {
        self.tables[i as usize]
    }
    fn table_init(&self, i: u32) -> RawExpr {
        let d = i.checked_sub(self.num_imported_tables);
        match d.and_then(|d| self.table_inits.get(d as usize)) {
            Some(e) => RawExpr::encode(e),
            None => RawExpr::encode(&ConstExpr::RefNull(self.tables[i as usize].elem)),
        }
    }
    fn global_type(&self, i: u32) -> GlobalType {
        self.global_types[i as usize]
    }
    fn num_globals(&self) -> u32 {
        self.global_types.len() as u32
    }
    fn num_imported_globals(&self) -> u32 {
        self.num_imported_globals
    }
    fn global_init(&self, defined: u32) -> RawExpr {
        RawExpr::encode(&self.globals[defined as usize].init)
    }
    fn global_v128(&self, defined: u32) -> Option<u128> {
        match self.globals[defined as usize].init {
            ConstExpr::V128(x) => Some(x),
            _ => None,
        }
    }
    fn num_elems(&self) -> u32 {
        self.elems.len() as u32
    }
    fn elem(&self, i: u32) -> (Option<(u32, RawExpr)>, bool, u32) {
        let e = &self.elems[i as usize];
        let active = match &e.mode {
            ElemMode::Active { table, offset } => Some((*table, RawExpr::encode(offset))),
            _ => None,
        };
        (active, e.mode == ElemMode::Passive, e.items.len() as u32)
    }
    fn elem_item(&self, i: u32, j: u32) -> RawExpr {
        RawExpr::encode(&self.elems[i as usize].items[j as usize])
    }
    fn const_code(&self, e: RawExpr) -> &[u8] {
        let (off, len) = (e.value as u32 as usize, (e.value >> 32) as usize);
        self.const_code
            .get(off..)
            .and_then(|c| c.get(..len))
            .unwrap_or(&[])
    }
    fn num_datas(&self) -> u32 {
        self.datas.len() as u32
    }
    fn data(&self, i: u32) -> (Option<(u32, RawExpr)>, &[u8]) {
        let d = &self.datas[i as usize];
        let active = match &d.mode {
            DataMode::Active { memory, offset } => Some((*memory, RawExpr::encode(offset))),
            DataMode::Passive => None,
        };
        (active, &d.bytes)
    }
}

/// The value of a validated constant expression of `meta` as an 8-byte slot; `global.get`
/// may read the globals in `globals` only (those initialised so far). `None` for an index
/// out of range or malformed extended operations (not produced by a validated module).
pub fn eval_const<M: ModuleSource + ?Sized>(
    meta: &M,
    e: RawExpr,
    funcs: &[*const FuncRef],
    globals: &[*mut u64],
) -> Option<u64> {
    Env { funcs, globals }.value(meta, e)
}

/// What constant expressions read (the function and global cells), passed as one pointer
/// to the evaluator (fewer argument moves at each of instantiation's call sites).
struct Env<'a> {
    funcs: &'a [*const FuncRef],
    globals: &'a [*mut u64],
}

impl Env<'_> {
    /// [`eval_const`]: an extended expression's operations come from `meta`.
    #[inline(never)]
    fn value<M: ModuleSource + ?Sized>(&self, meta: &M, e: RawExpr) -> Option<u64> {
        if e.tag >= 8 {
            self.eval_code(meta.const_code(e))
        } else {
            self.eval(e)
        }
    }

    /// An extended constant expression: [`CONST_OP_BYTES`]-byte operations on a stack of at
    /// most [`CONST_STACK`] values; `None` unless exactly one value is left and every
    /// operation is known and in range.
    #[inline(never)]
    fn eval_code(&self, code: &[u8]) -> Option<u64> {
        let mut stack = [0u64; CONST_STACK];
        let mut sp: usize = 0;
        let ops = code.chunks_exact(CONST_OP_BYTES);
        if !ops.remainder().is_empty() {
            return None;
        }
        for op in ops {
            let x = u64::from_le_bytes(*op[1..].first_chunk()?);
            let v = match op[0] {
                0x41 | 0x42 => x,
                // SAFETY: the cells of imported and earlier defined globals are live.
                0x23 => unsafe { **self.globals.get(x as usize)? },
                o => {
                    sp = sp.checked_sub(2)?;
                    let (a, b) = (stack[sp], stack[sp + 1]);
                    // The low 32 bits of the 64-bit result are the `i32` result.
                    let r = match o {
                        0x6a | 0x7c => a.wrapping_add(b),
                        0x6b | 0x7d => a.wrapping_sub(b),
                        0x6c | 0x7e => a.wrapping_mul(b),
                        _ => return None,
                    };
                    if o < 0x7c { r as u32 as u64 } else { r }
                }
            };
            *stack.get_mut(sp)? = v;
            sp += 1;
        }
        (sp == 1).then_some(stack[0])
    }

    /// [`eval_const`] of a one-operation expression.
    #[inline(never)]
    fn eval(&self, e: RawExpr) -> Option<u64> {
        let i = e.value as u32 as usize;
        Some(match e.tag {
            // Numbers: the payload is the value's bits (zero-extended for 32-bit values).
            0..=3 => e.value,
            // `ref.null`.
            4 => 0,
            5 => *self.funcs.get(i)? as u64,
            // SAFETY: the cells of imported and earlier defined globals are live.
            6 => unsafe { **self.globals.get(i)? },
            _ => return None,
        })
    }
}

/// Initialises the defined globals in order: `globals` holds every global's cell (imports
/// first); each initializer may read the imports and the globals before it. A cell is two
/// words (docs/ABI.md, "SIMD"): the value, then the high half of a `v128` (0 otherwise,
/// as the cells start zeroed); `global.get` copies both.
///
/// # Safety
/// Every pointer in `globals` must be a live, writable, zeroed 16-byte cell.
pub unsafe fn init_globals<M: ModuleSource + ?Sized>(
    meta: &M,
    funcs: &[*const FuncRef],
    globals: &[*mut u64],
) -> Option<()> {
    let nimp = meta.num_imported_globals();
    for i in nimp..meta.num_globals() {
        let cell = globals[i as usize];
        let e = meta.global_init(i - nimp);
        let (lo, hi) = match e.tag {
            // `v128.const`: its 16 bytes are not in the expression's payload.
            7 => {
                let x = meta.global_v128(i - nimp)?;
                (x as u64, (x >> 64) as u64)
            }
            tag => {
                let lo = eval_const(meta, e, funcs, &globals[..i as usize])?;
                // SAFETY: `eval_const` checked the index; cells are 16 bytes (per the caller).
                let hi = if tag == 6 {
                    unsafe { *globals[e.value as usize].add(1) }
                } else {
                    0
                };
                (lo, hi)
            }
        };
        // SAFETY: per the caller.
        unsafe {
            *cell = lo;
            *cell.add(1) = hi;
        }
    }
    Some(())
}

/// Fills every defined table whose initialiser is not `ref.null` with its value (after the
/// globals: an initialiser may read the imported ones); `tables` holds every table (imports
/// first).
///
/// # Safety
/// Every pointer in `tables` must be a live table not otherwise borrowed.
pub unsafe fn init_tables<M: ModuleSource + ?Sized>(
    meta: &M,
    tables: &[*mut super::TableInst],
    funcs: &[*const FuncRef],
    globals: &[*mut u64],
) -> Option<()> {
    for i in meta.num_imported_tables()..meta.num_tables() {
        let e = meta.table_init(i);
        if e.tag != 4 {
            let v = eval_const(meta, e, funcs, globals)?;
            // SAFETY: per the caller.
            unsafe { (*tables[i as usize]).slice_mut().fill(v) };
        }
    }
    Some(())
}

/// The segment tables of an instance: passive element segments evaluated, passive data
/// copied (or, for a [`MetaView`], read in place), active and declared ones empty (dropped). Four allocations whatever the number of
/// segments: the two tables, every passive segment's items, every passive segment's bytes.
#[derive(Debug)]
pub struct Segments {
    elems: Box<[Segment<u64>]>,
    datas: Box<[Segment<u8>]>,
    items: Box<[u64]>,
    bytes: Box<[u8]>,
}

/// `n` zeroed values in one allocation of the global allocator; `None` if it fails. Only
/// for the segment parts, whose all-zero bit pattern is a value (0, or an empty segment).
fn zeroed_slice<T: Copy>(n: usize) -> Option<Box<[T]>> {
    let p = zeroed(n.checked_mul(size_of::<T>())?, align_of::<T>())?;
    // SAFETY: `p` is a zeroed block of `n` values of `T` (a valid value, see above), or a
    // dangling aligned pointer when there are none; it has the layout `Box<[T]>` frees.
    Some(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p.cast::<T>(), n)) })
}

/// A zeroed block of `bytes` bytes (a dangling `align`ed pointer if 0).
#[inline(never)]
fn zeroed(bytes: usize, align: usize) -> Option<*mut u8> {
    if bytes == 0 {
        return Some(ptr::without_provenance_mut(align));
    }
    let layout = Layout::from_size_align(bytes, align).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
    (!p.is_null()).then_some(p)
}

impl Segments {
    /// Builds the segments of `meta` (after the globals: items may read them).
    pub fn new<M: ModuleSource + ?Sized>(
        meta: &M,
        funcs: &[*const FuncRef],
        globals: &[*mut u64],
    ) -> Option<Segments> {
        let (ne, nd) = (meta.num_elems(), meta.num_datas());
        let passive_elem = |i| match meta.elem(i) {
            (_, true, count) => count as usize,
            _ => 0,
        };
        let passive_data = |i| match meta.data(i) {
            (None, b) if M::COPY_DATA => b.len(),
            _ => 0,
        };
        let mut s = Segments {
            elems: zeroed_slice(ne as usize)?,
            datas: zeroed_slice(nd as usize)?,
            items: zeroed_slice((0..ne).map(passive_elem).sum())?,
            bytes: zeroed_slice((0..nd).map(passive_data).sum())?,
        };
        let env = Env { funcs, globals };
        let mut at = 0;
        for i in 0..ne {
            let n = passive_elem(i);
            let items = s.items.get_mut(at..at + n)?;
            for j in 0..n {
                *items.get_mut(j)? = env.value(meta, meta.elem_item(i, j as u32))?;
            }
            if n > 0 {
                s.elems[i as usize] = Segment {
                    ptr: items.as_ptr(),
                    len: n,
                };
            }
            at += n;
        }
        let mut at = 0;
        for i in 0..nd {
            let (active, b) = meta.data(i);
            if active.is_some() || b.is_empty() {
                continue;
            }
            let bytes = if M::COPY_DATA {
                let copy = &mut s.bytes[at..at + b.len()];
                copy.copy_from_slice(b);
                at += b.len();
                &*copy
            } else {
                b
            };
            s.datas[i as usize] = Segment {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
            };
        }
        Some(s)
    }

    /// Points `core`'s segment arrays at these (which must outlive its use).
    pub fn attach(&mut self, core: &mut InstanceCore) {
        core.elems = self.elems.as_mut_ptr();
        core.num_elems = self.elems.len() as u32;
        core.datas = self.datas.as_mut_ptr();
        core.num_datas = self.datas.len() as u32;
    }
}

/// Applies the active segments in spec order: each active element segment (`table.init`
/// then `elem.drop`), then each active data segment (`memory.init` then `data.drop`).
///
/// # Errors
/// The first out-of-bounds segment's trap; earlier writes stay.
pub fn apply_active_segments<M: ModuleSource + ?Sized>(
    core: &InstanceCore,
    meta: &M,
    funcs: &[*const FuncRef],
    globals: &[*mut u64],
) -> Result<(), TrapCode> {
    let env = Env { funcs, globals };
    for i in 0..meta.num_elems() {
        if let (Some((table, offset)), _, count) = meta.elem(i) {
            let off = env.value(meta, offset).ok_or(TrapCode::TableOutOfBounds)?;
            // The full 64-bit offset: an `i32` one is zero-extended (constants, global
            // cells and the evaluator keep 32-bit values so); a table64 / memory64 one of
            // 2^32 or more is out of bounds, never truncated.
            core.write_table(table, off, count, &mut |j| {
                env.value(meta, meta.elem_item(i, j))
            })?;
        }
    }
    for i in 0..meta.num_datas() {
        if let (Some((memory, offset)), bytes) = meta.data(i) {
            let off = env.value(meta, offset).ok_or(TrapCode::MemoryOutOfBounds)?;
            core.write_memory(memory, off, bytes)?;
        }
    }
    Ok(())
}
