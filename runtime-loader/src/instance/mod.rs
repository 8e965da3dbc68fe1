//! Instances: memories, tables, global cells, `FuncRef`s and the vmctx, for every tier.
//!
//! An [`Instance`] is built from a module's metadata (an [`init::ModuleSource`]: the decoded
//! [`crate::meta::ModuleMeta`] or the in-place [`crate::meta_view::MetaView`]) plus resolved
//! imports ([`Imports`]). Every
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

//!
//! Files: the instance core every instance starts with, its operations and the libcalls
//! (`libcalls.rs`), the instantiation steps the C library shares (`init.rs`: constant
//! expressions, globals, segments), memories (`memory.rs`, backed by `vmem.rs` or
//! `guard.rs`), tables (`table.rs`), and this file: the Rust [`Instance`] with imports of
//! every kind.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::{self, NonNull};

use crate::abi::{FuncRef, MemoryDef, TableDef, TrapCode, VMContext, func_kind};
use crate::meta::{FuncType, GlobalType, ImportKind, Limits, ValType};
use init::ModuleSource;

pub mod init;
pub mod libcalls;
mod memory;
mod table;

pub use libcalls::*;
pub use memory::{GUARD_MEMORY_SUPPORTED, LinearMemory};
pub use table::{MAX_TABLE_ELEMS, TableInst};

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

    /// A new id for `ty` that [`intern`](Self::intern) never returns: for a signature whose
    /// typed references make it differ from every other with the same collapsed form
    /// (the caller keeps the precise form's id, see `bareflow::runtime::Store`).
    pub fn add_distinct(&mut self, ty: &FuncType) -> u32 {
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
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
            // Written piece by piece, without core's padding machinery (`write_decimal`).
            InstanceError::IncompatibleImport { index, what } => {
                f.write_str("incompatible import type (import #")?;
                crate::error::write_decimal(f, *index as u64)?;
                f.write_str(": ")?;
                f.write_str(what)?;
                f.write_str(")")
            }
            InstanceError::OutOfMemory => f.write_str("out of memory"),
            InstanceError::Malformed(w) => {
                f.write_str("malformed module: ")?;
                f.write_str(w)
            }
            InstanceError::Unsupported(w) => {
                f.write_str("unsupported: ")?;
                f.write_str(w)
            }
        }
    }
}

impl core::error::Error for InstanceError {}

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

/// A module instance. Pinned: the vmctx points back at it (at the [`InstanceCore`] it
/// starts with, which the libcalls read; the instance dereferences to it for the
/// interpreter's bulk-memory and table operations).
#[repr(C)]
pub struct Instance {
    core: InstanceCore,
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
    segments: init::Segments,
    _pin: PhantomPinned,
}

impl core::ops::Deref for Instance {
    type Target = InstanceCore;
    fn deref(&self) -> &InstanceCore {
        &self.core
    }
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

fn limits_match(actual_min: u32, actual_max: Option<u64>, want: Limits) -> bool {
    if u64::from(actual_min) < want.min {
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
    /// `meta` is the decoded [`crate::meta::ModuleMeta`] (the compiler's tiers) or the in-place
    /// [`crate::meta_view::MetaView`] (the snapshot loaders): both are a [`ModuleSource`].
    ///
    /// # Safety
    /// Every pointer in `imports` must be live and must outlive the instance. A
    /// [`crate::meta_view::MetaView`]'s bytes must outlive the instance too (passive data
    /// segments are read in place, not copied).
    pub unsafe fn new<S: ModuleSource>(
        meta: &S,
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
    pub unsafe fn new_in_mode<S: ModuleSource>(
        meta: &S,
        type_ids: Vec<u32>,
        imports: Imports,
        host_data: *mut c_void,
        guard_memory: bool,
    ) -> Result<Pin<Box<Instance>>, InstanceError> {
        let bad = InstanceError::Malformed;
        if meta.num_memories() > crate::abi::MAX_MEMORIES {
            return Err(InstanceError::Unsupported(
                "too many memories (more than abi::MAX_MEMORIES)",
            ));
        }
        if type_ids.len() != meta.num_types() as usize {
            return Err(bad("type id count"));
        }
        if imports.funcs.len() != meta.num_imported_funcs() as usize
            || imports.memories.len() != meta.num_imported_memories() as usize
            || imports.tables.len() != meta.num_imported_tables() as usize
            || imports.globals.len() != meta.num_imported_globals() as usize
        {
            return Err(InstanceError::ImportCount);
        }
        // Import type checks, in import order.
        let (mut fi, mut mi, mut ti, mut gi) = (0, 0, 0, 0);
        for index in 0..meta.num_imports() as usize {
            let incompatible = |what| InstanceError::IncompatibleImport { index, what };
            // SAFETY (all derefs below): the caller guarantees import pointers are live.
            let seen = [fi, mi, ti, gi].map(|k| k as u32);
            match meta.import_kind(index as u32, seen) {
                ImportKind::Func(t) => {
                    let want = *type_ids.get(t as usize).ok_or(bad("type index"))?;
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
                    if unsafe { (*mem).ty.index64 } != m.index64 {
                        return Err(incompatible("memory index type (i32 vs i64)"));
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
                    if unsafe { (*tab).ty.index64 } != t.index64 {
                        return Err(incompatible("table index type (i32 vs i64)"));
                    }
                }
                ImportKind::Global(g) => {
                    let cell = imports.globals[gi];
                    gi += 1;
                    if unsafe { (*cell).ty } != g {
                        return Err(incompatible("global type"));
                    }
                }
            }
        }

        // Memories.
        let mut memories = imports.memories;
        let mut owned_memories = Vec::new();
        for i in meta.num_imported_memories()..meta.num_memories() {
            let ty = meta.memory_type(i);
            let m = match LinearMemory::new_in_mode(ty, guard_memory) {
                // Multi-memory: compiled code checks accesses to memories other than 0
                // explicitly in guard mode too (docs/ABI.md "Multi-memory"), so one whose
                // guard reservation cannot be made is a checked memory instead.
                Err(InstanceError::OutOfMemory) if guard_memory && i != 0 => LinearMemory::new(ty)?,
                r => r?,
            };
            let m = Owned::new(m);
            memories.push(m.ptr());
            owned_memories.push(m);
        }

        // Tables.
        let mut tables = imports.tables;
        let mut owned_tables = Vec::new();
        for i in meta.num_imported_tables()..meta.num_tables() {
            let t = Owned::new(TableInst::new(meta.table_type(i), 0)?);
            tables.push(t.ptr());
            owned_tables.push(t);
        }
        let table_defs: Box<[*mut TableDef]> =
            tables.iter().map(|t| t.cast::<TableDef>()).collect();
        let table_defs = Owned::new(table_defs);

        // Functions: imported pointers first, defined FuncRefs filled once the vmctx exists.
        let nfuncs = meta.num_funcs() as usize;
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
            // The vector's buffer does not move: `memories` is only read from here on.
            memories: if memories.is_empty() {
                ptr::null()
            } else {
                memories.as_ptr().cast::<*mut MemoryDef>()
            },
        }));

        let nimported = meta.num_imported_funcs() as usize;
        let ndefined = nfuncs - nimported;
        let mut defined = Vec::with_capacity(ndefined);
        for i in nimported..nfuncs {
            let ty = meta.func_type_index(i as u32) as usize;
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
                    *fp.add(nimported + j) = base.add(j);
                }
            }
        }

        // Globals: cells first (zero), then the initializers in order (each may read the
        // imports and the globals before it).
        let mut global_cells = imports.globals;
        let cells: Vec<GlobalCell> = (meta.num_imported_globals()..meta.num_globals())
            .map(|i| GlobalCell {
                value: 0,
                hi: 0,
                ty: meta.global_type(i),
            })
            .collect();
        let cells_len = cells.len();
        let owned_globals = if cells.is_empty() {
            None
        } else {
            let o = Owned::new(cells.into_boxed_slice());
            let base = o.ptr() as *mut GlobalCell;
            for j in 0..cells_len {
                // SAFETY: within the allocation of `cells_len` cells.
                global_cells.push(unsafe { base.add(j) });
            }
            Some(o)
        };
        if global_cells.len() != meta.num_globals() as usize {
            return Err(bad("global count"));
        }
        let global_ptrs: Box<[*mut u64]> = global_cells.iter().map(|c| c.cast::<u64>()).collect();
        let global_ptrs = Owned::new(global_ptrs);
        // SAFETY: `funcs` and `global_ptrs` are live allocations owned here; every cell is
        // live (imports per the caller's contract, the rest just allocated).
        let segments = unsafe {
            let (f, g) = (&*funcs.ptr(), &*global_ptrs.ptr());
            init::init_globals(meta, f, g).ok_or(bad("constant expression"))?;
            init::init_tables(meta, &tables, f, g).ok_or(bad("constant expression"))?;
            // Segments: passive ones are kept (evaluated), the others start dropped.
            init::Segments::new(meta, f, g).ok_or(bad("constant expression"))?
        };
        let core = InstanceCore {
            memories: memories.as_ptr(),
            num_memories: memories.len() as u32,
            num_tables: tables.len() as u32,
            tables: tables.as_ptr(),
            ..InstanceCore::EMPTY
        };

        let mut inst = Box::pin(Instance {
            core,
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
            num_imported_funcs: meta.num_imported_funcs(),
            type_ids,
            libcalls,
            segments,
            _pin: PhantomPinned,
        });
        // SAFETY: only fields are written, nothing is moved out of the pinned instance.
        unsafe {
            let i = Pin::get_unchecked_mut(inst.as_mut());
            i.segments.attach(&mut i.core);
        }
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
    pub fn initialize<S: ModuleSource>(&self, meta: &S) -> Result<(), TrapCode> {
        // SAFETY: `funcs` and the global pointers are live allocations owned by the instance.
        let (f, g) = unsafe { (&*self.funcs.ptr(), &*self._global_ptrs.ptr()) };
        init::apply_active_segments(&self.core, meta, f, g)
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
}

/// The zero value of a type as an 8-byte slot (null for references).
pub fn zero_slot(_ty: ValType) -> u64 {
    0
}

#[cfg(test)]
mod tests;
