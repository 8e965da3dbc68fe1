//! Instances: memories, tables, global cells, `FuncRef`s and the vmctx, for every tier.
//!
//! An [`Instance`] is built from a [`ModuleMeta`] plus resolved imports ([`Imports`]). Every
//! object compiled code can reach through a raw pointer (the vmctx and its arrays, memory and
//! table definitions, global cells, `FuncRef`s) lives in its own heap allocation that never
//! moves while the instance lives, and the instance itself is pinned. Memories and tables
//! are separate heap objects whose first field is the ABI definition ([`MemoryDef`],
//! [`TableDef`]), so a pointer to the definition is also a pointer to the owner.
//!
//! Ownership: an instance owns what it defines; imports are raw pointers to objects owned
//! by another instance or by the embedder (the store), which must outlive this instance.
//! All state changes go through raw pointers, so every operation takes `&self` and the
//! instance can be shared by the interpreter and compiled code (single-threaded).
//!
//! Instantiation follows the WebAssembly 2.0 order: globals, then element segments, then data
//! segments, each active segment bounds-checked when it is applied, so a trap half-way
//! leaves the earlier writes in place ([`Instance::initialize`]).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::Cell;
use core::ffi::c_void;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::{self, NonNull};

use crate::abi::{
    FuncRef, MAX_WASM_PAGES, MemoryDef, TableDef, TrapCode, VMContext, WASM_PAGE_SIZE, func_kind,
    libcall,
};
use crate::meta::{
    ConstExpr, DataMode, ElemMode, FuncType, GlobalType, ImportKind, Limits, MemoryType,
    ModuleMeta, TableType, ValType,
};

/// Largest number of elements a table may grow to (growth beyond fails with -1).
pub const MAX_TABLE_ELEMS: u32 = 10_000_000;

/// Store-wide interner of function signatures: equal signatures get equal ids.
#[derive(Debug, Default, Clone)]
pub struct TypeRegistry {
    types: Vec<FuncType>,
    /// Ids sorted by their signature, for a binary search (smaller code than a map).
    sorted: Vec<u32>,
}

impl TypeRegistry {
    /// An empty registry.
    pub fn new() -> TypeRegistry {
        TypeRegistry::default()
    }

    /// The id of `ty`, adding it if new.
    pub fn intern(&mut self, ty: &FuncType) -> u32 {
        let at = match self
            .sorted
            .binary_search_by(|&id| self.types[id as usize].cmp(ty))
        {
            Ok(at) => return self.sorted[at],
            Err(at) => at,
        };
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.sorted.insert(at, id);
        id
    }

    /// The signature with id `id`.
    pub fn get(&self, id: u32) -> Option<&FuncType> {
        self.types.get(id as usize)
    }
}

/// Why an instance could not be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceError {
    /// The number of supplied imports does not match the module.
    ImportCount,
    /// Import `index` has the wrong type; `what` says how.
    IncompatibleImport {
        /// Index in `ModuleMeta::imports`.
        index: usize,
        /// Short reason.
        what: &'static str,
    },
    /// A memory or table could not be allocated.
    OutOfMemory,
    /// The module refers to something out of range (not produced by a validated module).
    Malformed(&'static str),
    /// The build cannot provide what was asked for (guard-page memory without `std`).
    Unsupported(&'static str),
}

impl core::fmt::Display for InstanceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InstanceError::ImportCount => f.write_str("wrong number of imports"),
            InstanceError::IncompatibleImport { index, what } => {
                write!(f, "incompatible import type (import #{index}: {what})")
            }
            InstanceError::OutOfMemory => f.write_str("out of memory"),
            InstanceError::Malformed(w) => write!(f, "malformed module: {w}"),
            InstanceError::Unsupported(w) => write!(f, "unsupported: {w}"),
        }
    }
}

impl core::error::Error for InstanceError {}

// ---------------------------------------------------------------------------------------
// Linear memory
// ---------------------------------------------------------------------------------------

/// A linear memory. The first field is the ABI [`MemoryDef`].
///
/// "Checked" memories ([`LinearMemory::new`]) are heap-allocated, bounds-checked explicitly
/// by compiled code and may move on growth. "Guard" memories ([`LinearMemory::new_guard`],
/// Linux x86-64 with `std`) live in a reserved region ([`crate::guard`]) whose accessible
/// prefix grows in place, so `base` never moves and compiled code needs no bounds checks.
#[repr(C)]
#[derive(Debug)]
pub struct LinearMemory {
    /// What compiled code reads: base and length.
    pub def: MemoryDef,
    /// Declared limits (the minimum is the initial size).
    pub ty: MemoryType,
    guard: bool,
    /// Bytes of address space reserved for a checked memory (feature `unix`,
    /// [`crate::vmem`]); 0 when the bytes come from the heap allocator (or there are none).
    reserved: usize,
    _pin: PhantomPinned,
}

/// Whether this build can provide guard-page memories ([`LinearMemory::new_guard`]).
pub const GUARD_MEMORY_SUPPORTED: bool = cfg!(all(
    feature = "std",
    target_os = "linux",
    target_arch = "x86_64"
));

fn mem_layout(bytes: usize) -> Option<Layout> {
    Layout::from_size_align(bytes, 16).ok()
}

impl LinearMemory {
    /// Allocates a zeroed memory of `ty.limits.min` pages.
    ///
    /// With feature `unix` the address range of the maximum size is reserved once
    /// (`mmap(PROT_NONE, MAP_NORESERVE)`, see [`crate::vmem`]) and only the current size is
    /// made accessible: untouched pages cost no RSS, growth commits in place and the base never
    /// moves. Without it the bytes come from the global allocator and growth reallocates.
    ///
    /// # Errors
    /// `OutOfMemory` if the allocation fails or the size exceeds 4 GiB.
    pub fn new(ty: MemoryType) -> Result<Box<LinearMemory>, InstanceError> {
        if u64::from(ty.limits.min) > MAX_WASM_PAGES {
            return Err(InstanceError::OutOfMemory);
        }
        let bytes = u64::from(ty.limits.min) * WASM_PAGE_SIZE;
        #[cfg(feature = "unix")]
        {
            let max = u64::from(ty.limits.max.unwrap_or(MAX_WASM_PAGES as u32))
                .clamp(u64::from(ty.limits.min), MAX_WASM_PAGES);
            let mut reserved =
                usize::try_from(max * WASM_PAGE_SIZE).map_err(|_| InstanceError::OutOfMemory)?;
            let base = if reserved == 0 {
                NonNull::<u8>::dangling().as_ptr()
            } else if let Some(base) = crate::vmem::reserve(reserved, bytes as usize) {
                base
            } else if bytes == 0 {
                // The address space is limited (RLIMIT_AS): reserve nothing now, growth
                // reserves what it needs and moves.
                reserved = 0;
                NonNull::<u8>::dangling().as_ptr()
            } else {
                // The address space is limited (RLIMIT_AS): reserve the current size only;
                // growth past it moves the memory (see `grow`).
                reserved = bytes as usize;
                crate::vmem::reserve(reserved, bytes as usize).ok_or(InstanceError::OutOfMemory)?
            };
            Ok(Box::new(LinearMemory {
                def: MemoryDef { base, len: bytes },
                ty,
                guard: false,
                reserved,
                _pin: PhantomPinned,
            }))
        }
        #[cfg(not(feature = "unix"))]
        {
            let base = alloc_zeroed_bytes(bytes).ok_or(InstanceError::OutOfMemory)?;
            Ok(Box::new(LinearMemory {
                def: MemoryDef { base, len: bytes },
                ty,
                guard: false,
                reserved: 0,
                _pin: PhantomPinned,
            }))
        }
    }

    /// Reserves a guard-page memory of `ty.limits.min` pages (see [`crate::guard`]).
    ///
    /// # Errors
    /// `OutOfMemory` if the size exceeds 4 GiB or the reservation fails;
    /// `Unsupported` when the build has no guard-page support ([`GUARD_MEMORY_SUPPORTED`]).
    pub fn new_guard(ty: MemoryType) -> Result<Box<LinearMemory>, InstanceError> {
        if u64::from(ty.limits.min) > MAX_WASM_PAGES {
            return Err(InstanceError::OutOfMemory);
        }
        let bytes = u64::from(ty.limits.min) * WASM_PAGE_SIZE;
        #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
        {
            let base = crate::guard::reserve(bytes as usize).ok_or(InstanceError::OutOfMemory)?;
            Ok(Box::new(LinearMemory {
                def: MemoryDef { base, len: bytes },
                ty,
                guard: true,
                reserved: 0,
                _pin: PhantomPinned,
            }))
        }
        #[cfg(not(all(feature = "std", target_os = "linux", target_arch = "x86_64")))]
        {
            let _ = bytes;
            Err(InstanceError::Unsupported(
                "guard-page memory is not supported by this build",
            ))
        }
    }

    /// A memory of the given mode: [`LinearMemory::new_guard`] if `guard`, else
    /// [`LinearMemory::new`].
    ///
    /// # Errors
    /// As for those constructors.
    pub fn new_in_mode(ty: MemoryType, guard: bool) -> Result<Box<LinearMemory>, InstanceError> {
        if guard {
            LinearMemory::new_guard(ty)
        } else {
            LinearMemory::new(ty)
        }
    }

    /// Whether this is a guard-page memory (its base never moves).
    pub fn is_guard(&self) -> bool {
        self.guard
    }

    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.def.len / WASM_PAGE_SIZE) as u32
    }

    /// The effective maximum in pages.
    pub fn max_pages(&self) -> u32 {
        self.ty.limits.max.unwrap_or(MAX_WASM_PAGES as u32)
    }

    /// The memory's bytes.
    pub fn data(&self) -> &[u8] {
        if self.def.len == 0 {
            return &[];
        }
        // SAFETY: `base` points at an allocation of `len` bytes owned by this memory.
        unsafe { core::slice::from_raw_parts(self.def.base, self.def.len as usize) }
    }

    /// The memory's bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        if self.def.len == 0 {
            return &mut [];
        }
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.def.base, self.def.len as usize) }
    }

    /// Grows by `delta` pages; returns the old size in pages or `None` (size unchanged).
    ///
    /// # Safety
    /// `this` must point at a live memory; no reference into its bytes may be held.
    pub unsafe fn grow(this: *mut LinearMemory, delta: u32) -> Option<u32> {
        // SAFETY: caller guarantees `this` is live; we only use raw accesses.
        unsafe {
            let old_len = (*this).def.len;
            let old_pages = (old_len / WASM_PAGE_SIZE) as u32;
            let new_pages = u64::from(old_pages) + u64::from(delta);
            if new_pages > u64::from((*this).max_pages()) || new_pages > MAX_WASM_PAGES {
                return None;
            }
            if delta == 0 {
                return Some(old_pages);
            }
            let new_len = new_pages * WASM_PAGE_SIZE;
            #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
            if (*this).guard {
                // In place: the reservation covers every reachable size.
                let base = (*this).def.base;
                if !crate::guard::commit(base, old_len as usize, new_len as usize) {
                    return None;
                }
                (*this).def.len = new_len;
                return Some(old_pages);
            }
            #[cfg(feature = "unix")]
            if (*this).reserved != 0 {
                if new_len as usize <= (*this).reserved {
                    // In place: the reservation covers the maximum (or, when the address space
                    // was limited at creation, at least the new size).
                    if !crate::vmem::commit((*this).def.base, old_len as usize, new_len as usize) {
                        return None;
                    }
                    (*this).def.len = new_len;
                    return Some(old_pages);
                }
                // A reservation smaller than the maximum (address space limited when the
                // memory was made): reserve the new size elsewhere and move.
                let new_base = crate::vmem::reserve(new_len as usize, new_len as usize)?;
                ptr::copy_nonoverlapping((*this).def.base, new_base, old_len as usize);
                crate::vmem::release((*this).def.base, (*this).reserved);
                (*this).def.base = new_base;
                (*this).def.len = new_len;
                (*this).reserved = new_len as usize;
                return Some(old_pages);
            }
            // A fresh zeroed allocation leaves untouched pages lazily mapped; only the old
            // contents are copied.
            let new_base = alloc_zeroed_bytes(new_len)?;
            if old_len > 0 {
                ptr::copy_nonoverlapping((*this).def.base, new_base, old_len as usize);
                free_bytes((*this).def.base, old_len);
            }
            (*this).def.base = new_base;
            (*this).def.len = new_len;
            Some(old_pages)
        }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        #[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
        if self.guard {
            // SAFETY: the base came from `guard::reserve` and nothing uses it after drop.
            unsafe { crate::guard::release(self.def.base) };
            return;
        }
        #[cfg(feature = "unix")]
        if self.reserved != 0 {
            // SAFETY: the base came from `vmem::reserve(self.reserved, _)` and nothing uses it
            // after drop.
            unsafe { crate::vmem::release(self.def.base, self.reserved) };
            return;
        }
        if self.def.len > 0 {
            // SAFETY: allocated by `alloc_zeroed_bytes` with this length.
            unsafe { free_bytes(self.def.base, self.def.len) };
        }
    }
}

fn alloc_zeroed_bytes(len: u64) -> Option<*mut u8> {
    if len == 0 {
        return Some(NonNull::<u8>::dangling().as_ptr());
    }
    let len = usize::try_from(len).ok()?;
    let layout = mem_layout(len)?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if p.is_null() { None } else { Some(p) }
}

/// # Safety
/// `p` must come from `alloc_zeroed_bytes(len)` with `len > 0`.
unsafe fn free_bytes(p: *mut u8, len: u64) {
    if let Some(layout) = mem_layout(len as usize) {
        // SAFETY: same layout as the allocation, per the caller.
        unsafe { alloc::alloc::dealloc(p, layout) };
    }
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

/// A table: 8-byte slots (`*const FuncRef` or externref value, 0 = null). The first field is
/// the ABI [`TableDef`].
#[repr(C)]
#[derive(Debug)]
pub struct TableInst {
    /// What compiled code reads: base and length.
    pub def: TableDef,
    /// Element type and declared limits.
    pub ty: TableType,
    elems: Vec<u64>,
    _pin: PhantomPinned,
}

impl TableInst {
    /// A table of `ty.limits.min` elements set to `init`.
    ///
    /// # Errors
    /// `OutOfMemory` if the size exceeds [`MAX_TABLE_ELEMS`] or allocation fails.
    pub fn new(ty: TableType, init: u64) -> Result<Box<TableInst>, InstanceError> {
        if ty.limits.min > MAX_TABLE_ELEMS {
            return Err(InstanceError::OutOfMemory);
        }
        let mut elems = Vec::new();
        elems
            .try_reserve_exact(ty.limits.min as usize)
            .map_err(|_| InstanceError::OutOfMemory)?;
        elems.resize(ty.limits.min as usize, init);
        let mut t = Box::new(TableInst {
            def: TableDef {
                base: ptr::null_mut(),
                len: 0,
            },
            ty,
            elems,
            _pin: PhantomPinned,
        });
        t.sync();
        Ok(t)
    }

    fn sync(&mut self) {
        self.def.base = self.elems.as_mut_ptr();
        self.def.len = self.elems.len() as u64;
    }

    /// Current number of elements.
    pub fn len(&self) -> u32 {
        self.elems.len() as u32
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }

    /// The elements.
    pub fn elems(&self) -> &[u64] {
        &self.elems
    }

    /// Element `i`.
    pub fn get(&self, i: u32) -> Option<u64> {
        self.elems.get(i as usize).copied()
    }

    /// Sets element `i`; `false` if out of bounds.
    pub fn set(&mut self, i: u32, v: u64) -> bool {
        match self.elems.get_mut(i as usize) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        }
    }

    /// Grows by `delta` elements set to `init`; returns the old length or `None`.
    pub fn grow(&mut self, delta: u32, init: u64) -> Option<u32> {
        let old = self.len();
        let new = u64::from(old) + u64::from(delta);
        let max = self.ty.limits.max.unwrap_or(u32::MAX).min(MAX_TABLE_ELEMS);
        if new > u64::from(max) {
            return None;
        }
        self.elems.try_reserve_exact(delta as usize).ok()?;
        self.elems.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    fn slice_mut(&mut self) -> &mut [u64] {
        &mut self.elems
    }
}

// ---------------------------------------------------------------------------------------
// Globals
// ---------------------------------------------------------------------------------------

/// A global's cell: the value first (what `vmctx.globals[i]` points at), then its type.
/// Every cell is 16 bytes of value, 16-aligned, so a `v128` global fits (low 64 bits in
/// `value`, high in `hi`); scalars use `value` only.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct GlobalCell {
    /// The value (i32/f32 in the low 32 bits, references as pointers/host values; a `v128`'s
    /// low 64 bits).
    pub value: u64,
    /// The high 64 bits of a `v128` (0 for every other type).
    pub hi: u64,
    /// Type and mutability.
    pub ty: GlobalType,
}

// ---------------------------------------------------------------------------------------
// Owned heap objects handed out as raw pointers
// ---------------------------------------------------------------------------------------

/// A heap allocation owned through a raw pointer, so raw pointers handed to compiled code
/// stay valid (no `Box` uniqueness is asserted after creation).
struct Owned<T: ?Sized>(NonNull<T>);

impl<T: ?Sized> Owned<T> {
    fn new(b: Box<T>) -> Owned<T> {
        // SAFETY: `Box::into_raw` never returns null.
        Owned(unsafe { NonNull::new_unchecked(Box::into_raw(b)) })
    }
    fn ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

impl<T: ?Sized> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: created by `Box::into_raw` in `new` and dropped once.
        unsafe { drop(Box::from_raw(self.0.as_ptr())) };
    }
}

/// Resolved imports, in the module's import order per index space.
#[derive(Debug, Default, Clone)]
pub struct Imports {
    /// Imported functions.
    pub funcs: Vec<*const FuncRef>,
    /// Imported memories.
    pub memories: Vec<*mut LinearMemory>,
    /// Imported tables.
    pub tables: Vec<*mut TableInst>,
    /// Imported globals.
    pub globals: Vec<*mut GlobalCell>,
}

/// A module instance. Pinned: the vmctx points back at it.
pub struct Instance {
    vmctx: Owned<VMContext>,
    memories: Vec<*mut LinearMemory>,
    _owned_memories: Vec<Owned<LinearMemory>>,
    tables: Vec<*mut TableInst>,
    _owned_tables: Vec<Owned<TableInst>>,
    _table_defs: Owned<[*mut TableDef]>,
    global_cells: Vec<*mut GlobalCell>,
    _owned_globals: Option<Owned<[GlobalCell]>>,
    _global_ptrs: Owned<[*mut u64]>,
    funcs: Owned<[*const FuncRef]>,
    defined_funcs: Option<Owned<[FuncRef]>>,
    num_imported_funcs: u32,
    type_ids: Owned<[u32]>,
    libcalls: Owned<[usize]>,
    /// Passive element segments, evaluated (active/declared ones are empty).
    elems: Vec<Box<[u64]>>,
    elem_dropped: Vec<Cell<bool>>,
    /// Passive data segments (active ones are empty).
    datas: Vec<Box<[u8]>>,
    data_dropped: Vec<Cell<bool>>,
    _pin: PhantomPinned,
}

impl core::fmt::Debug for Instance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Instance")
            .field("memories", &self.memories.len())
            .field("tables", &self.tables.len())
            .field("globals", &self.global_cells.len())
            .finish_non_exhaustive()
    }
}

fn limits_match(actual_min: u32, actual_max: Option<u32>, want: Limits) -> bool {
    if actual_min < want.min {
        return false;
    }
    match (want.max, actual_max) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(w), Some(a)) => a <= w,
    }
}

impl Instance {
    /// Creates an instance: checks import types, allocates memories, tables and globals,
    /// evaluates global initializers and builds the `FuncRef`s and the vmctx. Segments are
    /// not applied yet: call [`Instance::initialize`] next.
    ///
    /// `type_ids[i]` is the store-wide id of module type `i`; `host_data` is stored in the
    /// `FuncRef` of every defined function.
    ///
    /// # Errors
    /// Import mismatches, allocation failures, out-of-range indices.
    ///
    /// # Safety
    /// Every pointer in `imports` must be live and must outlive the instance.
    pub unsafe fn new(
        meta: &ModuleMeta,
        type_ids: Vec<u32>,
        imports: Imports,
        host_data: *mut c_void,
    ) -> Result<Pin<Box<Instance>>, InstanceError> {
        // SAFETY: forwarded from the caller's contract.
        unsafe { Instance::new_in_mode(meta, type_ids, imports, host_data, false) }
    }

    /// [`Instance::new`] with the memory mode of the code that will run in the instance:
    /// with `guard_memory`, defined memories are guard-page memories
    /// ([`LinearMemory::new_guard`]) and imported memories must be too (compiled code does
    /// not bounds-check them); otherwise every memory is a checked one.
    ///
    /// # Errors
    /// As for [`Instance::new`]; an imported memory of the other mode is an
    /// [`InstanceError::IncompatibleImport`].
    ///
    /// # Safety
    /// As for [`Instance::new`].
    pub unsafe fn new_in_mode(
        meta: &ModuleMeta,
        type_ids: Vec<u32>,
        imports: Imports,
        host_data: *mut c_void,
        guard_memory: bool,
    ) -> Result<Pin<Box<Instance>>, InstanceError> {
        let bad = InstanceError::Malformed;
        if type_ids.len() != meta.types.len() {
            return Err(bad("type id count"));
        }
        if imports.funcs.len() != meta.num_imported_funcs as usize
            || imports.memories.len() != meta.num_imported_memories as usize
            || imports.tables.len() != meta.num_imported_tables as usize
            || imports.globals.len() != meta.num_imported_globals as usize
        {
            return Err(InstanceError::ImportCount);
        }
        // Import type checks, in import order.
        let (mut fi, mut mi, mut ti, mut gi) = (0, 0, 0, 0);
        for (index, imp) in meta.imports.iter().enumerate() {
            let incompatible = |what| InstanceError::IncompatibleImport { index, what };
            // SAFETY (all derefs below): the caller guarantees import pointers are live.
            match &imp.kind {
                ImportKind::Func(t) => {
                    let want = *type_ids.get(*t as usize).ok_or(bad("type index"))?;
                    let f = imports.funcs[fi];
                    fi += 1;
                    if f.is_null() || unsafe { (*f).type_id } != want {
                        return Err(incompatible("function signature"));
                    }
                }
                ImportKind::Memory(m) => {
                    let mem = imports.memories[mi];
                    mi += 1;
                    let ok =
                        unsafe { limits_match((*mem).pages(), (*mem).ty.limits.max, m.limits) };
                    if !ok {
                        return Err(incompatible("memory limits"));
                    }
                    if unsafe { (*mem).is_guard() } != guard_memory {
                        return Err(incompatible("memory mode (checked vs guard pages)"));
                    }
                }
                ImportKind::Table(t) => {
                    let tab = imports.tables[ti];
                    ti += 1;
                    let (elem, len, max) =
                        unsafe { ((*tab).ty.elem, (*tab).len(), (*tab).ty.limits.max) };
                    if elem != t.elem {
                        return Err(incompatible("table element type"));
                    }
                    if !limits_match(len, max, t.limits) {
                        return Err(incompatible("table limits"));
                    }
                }
                ImportKind::Global(g) => {
                    let cell = imports.globals[gi];
                    gi += 1;
                    if unsafe { (*cell).ty } != *g {
                        return Err(incompatible("global type"));
                    }
                }
            }
        }

        // Memories.
        let mut memories = imports.memories;
        let mut owned_memories = Vec::new();
        for ty in meta
            .memories
            .iter()
            .skip(meta.num_imported_memories as usize)
        {
            let m = Owned::new(LinearMemory::new_in_mode(*ty, guard_memory)?);
            memories.push(m.ptr());
            owned_memories.push(m);
        }

        // Tables.
        let mut tables = imports.tables;
        let mut owned_tables = Vec::new();
        for ty in meta.tables.iter().skip(meta.num_imported_tables as usize) {
            let t = Owned::new(TableInst::new(*ty, 0)?);
            tables.push(t.ptr());
            owned_tables.push(t);
        }
        let table_defs: Box<[*mut TableDef]> =
            tables.iter().map(|t| t.cast::<TableDef>()).collect();
        let table_defs = Owned::new(table_defs);

        // Functions: imported pointers first, defined FuncRefs filled once the vmctx exists.
        let nfuncs = meta.funcs.len();
        let funcs = Owned::new(vec![ptr::null::<FuncRef>(); nfuncs].into_boxed_slice());
        let type_ids = Owned::new(type_ids.into_boxed_slice());
        let libcalls = Owned::new(default_libcalls().to_vec().into_boxed_slice());

        let vmctx = Owned::new(Box::new(VMContext {
            memory: memories
                .first()
                .map_or(ptr::null_mut(), |m| m.cast::<MemoryDef>()),
            globals: ptr::null(),
            tables: table_defs.ptr() as *const *mut TableDef,
            funcs: funcs.ptr() as *const *const FuncRef,
            type_ids: type_ids.ptr() as *const u32,
            stack_limit: 0,
            libcalls: libcalls.ptr() as *const usize,
            trap_ctx: ptr::null_mut(),
            instance: ptr::null_mut(),
        }));

        let ndefined = nfuncs - meta.num_imported_funcs as usize;
        let mut defined = Vec::with_capacity(ndefined);
        for i in meta.num_imported_funcs as usize..nfuncs {
            let ty = meta.funcs[i] as usize;
            // SAFETY: `type_ids` is a live allocation of `meta.types.len()` ids.
            let type_id = *unsafe { &*type_ids.ptr() }
                .get(ty)
                .ok_or(bad("type index"))?;
            defined.push(FuncRef {
                native: ptr::null(),
                array: ptr::null(),
                vmctx: vmctx.ptr(),
                type_id,
                func_index: i as u32,
                kind: func_kind::WASM,
                reserved: 0,
                host_data,
            });
        }
        let defined_funcs = if defined.is_empty() {
            None
        } else {
            Some(Owned::new(defined.into_boxed_slice()))
        };
        // SAFETY: `funcs` is a live allocation of `nfuncs` pointers, not otherwise borrowed.
        unsafe {
            let fp = funcs.ptr() as *mut *const FuncRef;
            for (i, f) in imports.funcs.iter().enumerate() {
                *fp.add(i) = *f;
            }
            if let Some(d) = &defined_funcs {
                let base = d.ptr() as *const FuncRef;
                for j in 0..ndefined {
                    *fp.add(meta.num_imported_funcs as usize + j) = base.add(j);
                }
            }
        }

        // Globals: evaluate initializers in order (they may read imported globals).
        let mut global_cells = imports.globals;
        let mut values = Vec::with_capacity(meta.globals.len());
        for g in &meta.globals {
            let (v, hi) = match g.init {
                ConstExpr::V128(x) => (x as u64, (x >> 64) as u64),
                ConstExpr::GlobalGet(i) if g.ty.ty == ValType::V128 => {
                    let c = global_cells
                        .get(i as usize)
                        .ok_or(InstanceError::Malformed("global index"))?;
                    // SAFETY: global cells of imports and earlier definitions are live.
                    unsafe { ((**c).value, (**c).hi) }
                }
                _ => (eval_const(&g.init, &global_cells, funcs.ptr())?, 0),
            };
            values.push(GlobalCell {
                value: v,
                hi,
                ty: g.ty,
            });
        }
        let owned_globals = if values.is_empty() {
            None
        } else {
            let o = Owned::new(values.into_boxed_slice());
            let base = o.ptr() as *mut GlobalCell;
            for j in 0..meta.globals.len() {
                // SAFETY: within the allocation of `meta.globals.len()` cells.
                global_cells.push(unsafe { base.add(j) });
            }
            Some(o)
        };
        if global_cells.len() != meta.global_types.len() {
            return Err(bad("global count"));
        }
        let global_ptrs: Box<[*mut u64]> = global_cells.iter().map(|c| c.cast::<u64>()).collect();
        let global_ptrs = Owned::new(global_ptrs);

        // Segments: passive ones are kept (evaluated), the others start dropped.
        let mut elems = Vec::with_capacity(meta.elems.len());
        let mut elem_dropped = Vec::with_capacity(meta.elems.len());
        for seg in &meta.elems {
            if seg.mode == ElemMode::Passive {
                let items = seg
                    .items
                    .iter()
                    .map(|e| eval_const(e, &global_cells, funcs.ptr()))
                    .collect::<Result<Vec<u64>, _>>()?;
                elems.push(items.into_boxed_slice());
                elem_dropped.push(Cell::new(false));
            } else {
                elems.push(Box::default());
                elem_dropped.push(Cell::new(true));
            }
        }
        let mut datas = Vec::with_capacity(meta.datas.len());
        let mut data_dropped = Vec::with_capacity(meta.datas.len());
        for seg in &meta.datas {
            if seg.mode == DataMode::Passive {
                datas.push(seg.bytes.clone().into_boxed_slice());
                data_dropped.push(Cell::new(false));
            } else {
                datas.push(Box::default());
                data_dropped.push(Cell::new(true));
            }
        }

        let inst = Box::pin(Instance {
            vmctx,
            memories,
            _owned_memories: owned_memories,
            tables,
            _owned_tables: owned_tables,
            _table_defs: table_defs,
            global_cells,
            _owned_globals: owned_globals,
            _global_ptrs: global_ptrs,
            funcs,
            defined_funcs,
            num_imported_funcs: meta.num_imported_funcs,
            type_ids,
            libcalls,
            elems,
            elem_dropped,
            datas,
            data_dropped,
            _pin: PhantomPinned,
        });
        // SAFETY: the vmctx is a live allocation owned by the instance; the instance is
        // pinned, so its address is stable for the vmctx's lifetime.
        unsafe {
            let v = inst.vmctx.ptr();
            (*v).globals = inst._global_ptrs.ptr() as *const *mut u64;
            (*v).instance = &*inst as *const Instance as *mut c_void;
        }
        Ok(inst)
    }

    /// Applies the segments in spec order: each active element segment (`table.init` then
    /// `elem.drop`), then each active data segment (`memory.init` then `data.drop`).
    ///
    /// # Errors
    /// The first out-of-bounds segment's trap; earlier writes stay.
    pub fn initialize(&self, meta: &ModuleMeta) -> Result<(), TrapCode> {
        for seg in &meta.elems {
            if let ElemMode::Active { table, offset } = &seg.mode {
                let off = self.eval(offset).map_err(|_| TrapCode::TableOutOfBounds)? as u32;
                let tab = *self
                    .tables
                    .get(*table as usize)
                    .ok_or(TrapCode::TableOutOfBounds)?;
                let n = seg.items.len() as u64;
                // SAFETY: tables of a live instance are live; no other reference exists
                // during this call.
                let t = unsafe { &mut *tab };
                if u64::from(off) + n > u64::from(t.len()) {
                    return Err(TrapCode::TableOutOfBounds);
                }
                for (j, item) in seg.items.iter().enumerate() {
                    let v = self.eval(item).map_err(|_| TrapCode::TableOutOfBounds)?;
                    t.slice_mut()[off as usize + j] = v;
                }
            }
        }
        for seg in &meta.datas {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let off = self.eval(offset).map_err(|_| TrapCode::MemoryOutOfBounds)? as u32;
                let mem = *self
                    .memories
                    .get(*memory as usize)
                    .ok_or(TrapCode::MemoryOutOfBounds)?;
                // SAFETY: memories of a live instance are live; exclusive during this call.
                let m = unsafe { &mut *mem };
                let end = u64::from(off) + seg.bytes.len() as u64;
                if end > m.def.len {
                    return Err(TrapCode::MemoryOutOfBounds);
                }
                m.data_mut()[off as usize..end as usize].copy_from_slice(&seg.bytes);
            }
        }
        Ok(())
    }

    fn eval(&self, e: &ConstExpr) -> Result<u64, InstanceError> {
        eval_const(e, &self.global_cells, self.funcs.ptr())
    }

    /// The vmctx compiled code receives.
    pub fn vmctx(&self) -> *mut VMContext {
        self.vmctx.ptr()
    }

    /// The instance a vmctx belongs to.
    ///
    /// # Safety
    /// `vmctx` must be the vmctx of a live instance.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut VMContext) -> &'a Instance {
        // SAFETY: per the caller, `instance` was set by `Instance::new` to a live instance.
        unsafe { &*((*vmctx).instance as *const Instance) }
    }

    /// The libcall table (mutable so a JIT can install `RAISE_TRAP`).
    pub fn libcalls_mut(&self) -> *mut usize {
        self.libcalls.ptr() as *mut usize
    }

    /// Function `index` (imported or defined).
    pub fn func(&self, index: u32) -> Option<*const FuncRef> {
        // SAFETY: `funcs` is a live allocation owned by the instance.
        unsafe { (&*self.funcs.ptr()).get(index as usize).copied() }
    }

    /// Number of functions (imported and defined).
    pub fn num_funcs(&self) -> u32 {
        // SAFETY: as in `func`.
        unsafe { (&*self.funcs.ptr()).len() as u32 }
    }

    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.num_imported_funcs
    }

    /// The `FuncRef` of defined function `defined_index` (mutable, so a JIT can install
    /// `native` / `array` entries).
    pub fn defined_func_ref(&self, defined_index: u32) -> Option<*mut FuncRef> {
        let d = self.defined_funcs.as_ref()?;
        // SAFETY: `d` is a live slice allocation owned by the instance.
        let len = unsafe { (&*d.ptr()).len() };
        if (defined_index as usize) < len {
            // SAFETY: in bounds of the allocation.
            Some(unsafe { (d.ptr() as *mut FuncRef).add(defined_index as usize) })
        } else {
            None
        }
    }

    /// Memory `index`.
    pub fn memory(&self, index: u32) -> Option<*mut LinearMemory> {
        self.memories.get(index as usize).copied()
    }

    /// Table `index`.
    pub fn table(&self, index: u32) -> Option<*mut TableInst> {
        self.tables.get(index as usize).copied()
    }

    /// Global `index`'s cell.
    pub fn global(&self, index: u32) -> Option<*mut GlobalCell> {
        self.global_cells.get(index as usize).copied()
    }

    /// The store-wide type id of module type `index`.
    pub fn type_id(&self, index: u32) -> Option<u32> {
        // SAFETY: `type_ids` is a live allocation owned by the instance.
        unsafe { (&*self.type_ids.ptr()).get(index as usize).copied() }
    }

    // -----------------------------------------------------------------------------------
    // Operations shared by the interpreter and the libcalls
    // -----------------------------------------------------------------------------------

    fn mem(&self, index: u32) -> Result<*mut LinearMemory, TrapCode> {
        self.memories
            .get(index as usize)
            .copied()
            .ok_or(TrapCode::MemoryOutOfBounds)
    }

    fn tab(&self, index: u32) -> Result<*mut TableInst, TrapCode> {
        self.tables
            .get(index as usize)
            .copied()
            .ok_or(TrapCode::TableOutOfBounds)
    }

    /// `memory.grow`: old size in pages, or `u32::MAX` (-1) on failure.
    pub fn memory_grow(&self, mem: u32, delta: u32) -> u32 {
        match self.mem(mem) {
            // SAFETY: the memory is live; no reference into its bytes is held across this.
            Ok(m) => unsafe { LinearMemory::grow(m, delta) }.unwrap_or(u32::MAX),
            Err(_) => u32::MAX,
        }
    }

    /// `memory.size` in pages.
    pub fn memory_size(&self, mem: u32) -> u32 {
        match self.mem(mem) {
            // SAFETY: the memory is live.
            Ok(m) => unsafe { (*m).pages() },
            Err(_) => 0,
        }
    }

    /// `memory.fill`.
    ///
    /// # Errors
    /// `MemoryOutOfBounds` if `dst + len` exceeds the memory.
    pub fn memory_fill(&self, mem: u32, dst: u32, val: u32, len: u32) -> Result<(), TrapCode> {
        let m = self.mem(mem)?;
        // SAFETY: the memory is live; the range is checked against its length.
        unsafe {
            if u64::from(dst) + u64::from(len) > (*m).def.len {
                return Err(TrapCode::MemoryOutOfBounds);
            }
            ptr::write_bytes((*m).def.base.add(dst as usize), val as u8, len as usize);
        }
        Ok(())
    }

    /// `memory.copy` (overlapping ranges allowed).
    ///
    /// # Errors
    /// `MemoryOutOfBounds` if either range exceeds its memory.
    pub fn memory_copy(
        &self,
        dst_mem: u32,
        src_mem: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let d = self.mem(dst_mem)?;
        let s = self.mem(src_mem)?;
        // SAFETY: both memories are live; both ranges are checked; `ptr::copy` allows overlap.
        unsafe {
            if u64::from(dst) + u64::from(len) > (*d).def.len
                || u64::from(src) + u64::from(len) > (*s).def.len
            {
                return Err(TrapCode::MemoryOutOfBounds);
            }
            ptr::copy(
                (*s).def.base.add(src as usize),
                (*d).def.base.add(dst as usize),
                len as usize,
            );
        }
        Ok(())
    }

    /// `memory.init`.
    ///
    /// # Errors
    /// `MemoryOutOfBounds` if the source range exceeds the (possibly dropped) segment or
    /// the destination range exceeds the memory.
    pub fn memory_init(
        &self,
        mem: u32,
        data: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let m = self.mem(mem)?;
        let seg: &[u8] = match self.datas.get(data as usize) {
            Some(s) if !self.data_dropped[data as usize].get() => s,
            _ => &[],
        };
        if u64::from(src) + u64::from(len) > seg.len() as u64 {
            return Err(TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: the memory is live and the destination range is checked.
        unsafe {
            if u64::from(dst) + u64::from(len) > (*m).def.len {
                return Err(TrapCode::MemoryOutOfBounds);
            }
            ptr::copy_nonoverlapping(
                seg.as_ptr().add(src as usize),
                (*m).def.base.add(dst as usize),
                len as usize,
            );
        }
        Ok(())
    }

    /// `data.drop`.
    pub fn data_drop(&self, data: u32) {
        if let Some(d) = self.data_dropped.get(data as usize) {
            d.set(true);
        }
    }

    /// `table.size`.
    pub fn table_size(&self, table: u32) -> u32 {
        match self.tab(table) {
            // SAFETY: the table is live.
            Ok(t) => unsafe { (*t).len() },
            Err(_) => 0,
        }
    }

    /// `table.get`.
    ///
    /// # Errors
    /// `TableOutOfBounds`.
    pub fn table_get(&self, table: u32, i: u32) -> Result<u64, TrapCode> {
        let t = self.tab(table)?;
        // SAFETY: the table is live.
        unsafe { (*t).get(i) }.ok_or(TrapCode::TableOutOfBounds)
    }

    /// `table.set`.
    ///
    /// # Errors
    /// `TableOutOfBounds`.
    pub fn table_set(&self, table: u32, i: u32, v: u64) -> Result<(), TrapCode> {
        let t = self.tab(table)?;
        // SAFETY: the table is live; no other reference to it is held across this call.
        if unsafe { (*t).set(i, v) } {
            Ok(())
        } else {
            Err(TrapCode::TableOutOfBounds)
        }
    }

    /// `table.grow`: old size, or `u32::MAX` (-1) on failure.
    pub fn table_grow(&self, table: u32, init: u64, delta: u32) -> u32 {
        match self.tab(table) {
            // SAFETY: the table is live; exclusive during this call.
            Ok(t) => unsafe { (*t).grow(delta, init) }.unwrap_or(u32::MAX),
            Err(_) => u32::MAX,
        }
    }

    /// `table.fill`.
    ///
    /// # Errors
    /// `TableOutOfBounds` if `dst + len` exceeds the table.
    pub fn table_fill(&self, table: u32, dst: u32, val: u64, len: u32) -> Result<(), TrapCode> {
        let t = self.tab(table)?;
        // SAFETY: the table is live; exclusive during this call.
        let t = unsafe { &mut *t };
        if u64::from(dst) + u64::from(len) > u64::from(t.len()) {
            return Err(TrapCode::TableOutOfBounds);
        }
        t.slice_mut()[dst as usize..(dst + len) as usize].fill(val);
        Ok(())
    }

    /// `table.copy` (overlapping ranges allowed).
    ///
    /// # Errors
    /// `TableOutOfBounds` if either range exceeds its table.
    pub fn table_copy(
        &self,
        dst_table: u32,
        src_table: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let d = self.tab(dst_table)?;
        let s = self.tab(src_table)?;
        // SAFETY: both tables are live; ranges are checked; `ptr::copy` allows overlap
        // (the two tables may be the same object, so only raw pointers are used).
        unsafe {
            if u64::from(dst) + u64::from(len) > u64::from((*d).len())
                || u64::from(src) + u64::from(len) > u64::from((*s).len())
            {
                return Err(TrapCode::TableOutOfBounds);
            }
            ptr::copy(
                (*s).def.base.add(src as usize),
                (*d).def.base.add(dst as usize),
                len as usize,
            );
        }
        Ok(())
    }

    /// `table.init`.
    ///
    /// # Errors
    /// `TableOutOfBounds` if the source range exceeds the (possibly dropped) segment or
    /// the destination range exceeds the table.
    pub fn table_init(
        &self,
        table: u32,
        elem: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let t = self.tab(table)?;
        let seg: &[u64] = match self.elems.get(elem as usize) {
            Some(s) if !self.elem_dropped[elem as usize].get() => s,
            _ => &[],
        };
        // SAFETY: the table is live; exclusive during this call.
        let t = unsafe { &mut *t };
        if u64::from(src) + u64::from(len) > seg.len() as u64
            || u64::from(dst) + u64::from(len) > u64::from(t.len())
        {
            return Err(TrapCode::TableOutOfBounds);
        }
        t.slice_mut()[dst as usize..(dst + len) as usize]
            .copy_from_slice(&seg[src as usize..(src + len) as usize]);
        Ok(())
    }

    /// `elem.drop`.
    pub fn elem_drop(&self, elem: u32) {
        if let Some(d) = self.elem_dropped.get(elem as usize) {
            d.set(true);
        }
    }
}

fn eval_const(
    e: &ConstExpr,
    globals: &[*mut GlobalCell],
    funcs: *mut [*const FuncRef],
) -> Result<u64, InstanceError> {
    Ok(match *e {
        ConstExpr::I32(v) => u64::from(v as u32),
        ConstExpr::I64(v) => v as u64,
        ConstExpr::F32(b) => u64::from(b),
        ConstExpr::F64(b) => b,
        // The low half; `v128` globals are initialized by `Instance::new` itself.
        ConstExpr::V128(x) => x as u64,
        ConstExpr::RefNull(_) => 0,
        ConstExpr::RefFunc(i) => {
            // SAFETY: `funcs` is the instance's live function array.
            let f = unsafe { (&*funcs).get(i as usize).copied() };
            f.ok_or(InstanceError::Malformed("function index"))? as u64
        }
        ConstExpr::GlobalGet(i) => {
            let g = globals
                .get(i as usize)
                .ok_or(InstanceError::Malformed("global index"))?;
            // SAFETY: global cells of imports and earlier definitions are live.
            unsafe { (**g).value }
        }
    })
}

/// The zero value of a type as an 8-byte slot (null for references).
pub fn zero_slot(_ty: ValType) -> u64 {
    0
}

// ---------------------------------------------------------------------------------------
// Libcalls
// ---------------------------------------------------------------------------------------

fn status(r: Result<(), TrapCode>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(c) => c as u32,
    }
}

/// # Safety
/// `vmctx` must be the vmctx of a live instance.
unsafe fn inst<'a>(vmctx: *mut VMContext) -> &'a Instance {
    // SAFETY: per the caller.
    unsafe { Instance::from_vmctx(vmctx) }
}

/// Libcall `memory.grow`, see [`libcall::MEMORY_GROW`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_memory_grow(vmctx: *mut VMContext, mem: u32, delta: u32) -> u32 {
    // SAFETY: per the caller.
    unsafe { inst(vmctx) }.memory_grow(mem, delta)
}

/// Libcall `memory.fill`, see [`libcall::MEMORY_FILL`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_memory_fill(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u32,
    val: u32,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.memory_fill(mem, dst, val, len))
}

/// Libcall `memory.copy`, see [`libcall::MEMORY_COPY`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_memory_copy(
    vmctx: *mut VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.memory_copy(dst_mem, src_mem, dst, src, len))
}

/// Libcall `memory.init`, see [`libcall::MEMORY_INIT`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_memory_init(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.memory_init(mem, data, dst, src, len))
}

/// Libcall `data.drop`, see [`libcall::DATA_DROP`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: per the caller.
    unsafe { inst(vmctx) }.data_drop(data)
}

/// Libcall `table.grow`, see [`libcall::TABLE_GROW`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_table_grow(
    vmctx: *mut VMContext,
    table: u32,
    init: u64,
    delta: u32,
) -> u32 {
    // SAFETY: per the caller.
    unsafe { inst(vmctx) }.table_grow(table, init, delta)
}

/// Libcall `table.fill`, see [`libcall::TABLE_FILL`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_table_fill(
    vmctx: *mut VMContext,
    table: u32,
    dst: u32,
    val: u64,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.table_fill(table, dst, val, len))
}

/// Libcall `table.copy`, see [`libcall::TABLE_COPY`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.table_copy(dst_table, src_table, dst, src, len))
}

/// Libcall `table.init`, see [`libcall::TABLE_INIT`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_table_init(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: per the caller.
    status(unsafe { inst(vmctx) }.table_init(table, elem, dst, src, len))
}

/// Libcall `elem.drop`, see [`libcall::ELEM_DROP`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: per the caller.
    unsafe { inst(vmctx) }.elem_drop(elem)
}

/// The default libcall table ([`libcall::RAISE_TRAP`] is 0 until a JIT installs it;
/// [`libcall::ENTER`] is the entry trampoline on x86-64).
pub fn default_libcalls() -> [usize; libcall::COUNT] {
    let mut t = [0usize; libcall::COUNT];
    t[libcall::MEMORY_GROW] = libcall_memory_grow as *const () as usize;
    t[libcall::MEMORY_FILL] = libcall_memory_fill as *const () as usize;
    t[libcall::MEMORY_COPY] = libcall_memory_copy as *const () as usize;
    t[libcall::MEMORY_INIT] = libcall_memory_init as *const () as usize;
    t[libcall::DATA_DROP] = libcall_data_drop as *const () as usize;
    t[libcall::TABLE_GROW] = libcall_table_grow as *const () as usize;
    t[libcall::TABLE_FILL] = libcall_table_fill as *const () as usize;
    t[libcall::TABLE_COPY] = libcall_table_copy as *const () as usize;
    t[libcall::TABLE_INIT] = libcall_table_init as *const () as usize;
    t[libcall::ELEM_DROP] = libcall_elem_drop as *const () as usize;
    #[cfg(target_arch = "x86_64")]
    {
        t[libcall::ENTER] = crate::trap::enter_address();
    }
    t
}

#[cfg(test)]
mod tests;
