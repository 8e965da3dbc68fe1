//! The instance core every instance starts with, the operations on it (bulk memory, table
//! instructions, segment drops, growth) and the libcalls compiled code reaches them through.
//!
//! Both kinds of instance, the Rust [`super::Instance`] (interpreter, JIT tiers,
//! `bareflow-load`) and the C library's arena instance, begin with an [`InstanceCore`] and
//! point `vmctx.instance` at it, so one libcall table ([`default_libcalls`]) serves both, and
//! the interpreter calls the same methods the libcalls wrap.

use core::ptr;

use super::{LinearMemory, TableInst};
use crate::abi::{TrapCode, VMContext, libcall};

/// A segment's remaining items: `len` is 0 once dropped (active and declared segments start
/// dropped); `ptr` may then be null (an all-zero `Segment` is an empty one).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Segment<T> {
    /// The first item.
    pub ptr: *const T,
    /// Number of items.
    pub len: usize,
}

impl<T> Segment<T> {
    /// An empty (dropped) segment.
    pub const EMPTY: Segment<T> = Segment {
        ptr: ptr::NonNull::dangling().as_ptr(),
        len: 0,
    };

    /// The items.
    ///
    /// # Safety
    /// `ptr` must point at `len` live items.
    unsafe fn items<'a>(self) -> &'a [T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: per the caller.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// What an instance's operations need: its memories, tables and passive segments, as raw
/// arrays owned by the instance that embeds this header (first field, `#[repr(C)]`).
#[repr(C)]
#[derive(Debug)]
pub struct InstanceCore {
    /// Memory pointers (imported then defined).
    pub memories: *const *mut LinearMemory,
    /// Number of memories.
    pub num_memories: u32,
    /// Number of tables.
    pub num_tables: u32,
    /// Table pointers (imported then defined).
    pub tables: *const *mut TableInst,
    /// Element segments (evaluated items).
    pub elems: *mut Segment<u64>,
    /// Data segments.
    pub datas: *mut Segment<u8>,
    /// Number of element segments.
    pub num_elems: u32,
    /// Number of data segments.
    pub num_datas: u32,
}

impl InstanceCore {
    /// An instance core with nothing in it.
    pub const EMPTY: InstanceCore = InstanceCore {
        memories: ptr::null(),
        num_memories: 0,
        num_tables: 0,
        tables: ptr::null(),
        elems: ptr::null_mut(),
        datas: ptr::null_mut(),
        num_elems: 0,
        num_datas: 0,
    };

    /// Memory `index`, if in range.
    pub fn memory_ptr(&self, index: u32) -> Option<*mut LinearMemory> {
        // SAFETY: the array holds `num_memories` live pointers.
        (index < self.num_memories).then(|| unsafe { *self.memories.add(index as usize) })
    }

    /// Table `index`, if in range.
    pub fn table_ptr(&self, index: u32) -> Option<*mut TableInst> {
        // SAFETY: the array holds `num_tables` live pointers.
        (index < self.num_tables).then(|| unsafe { *self.tables.add(index as usize) })
    }

    fn mem(&self, index: u32) -> Result<*mut LinearMemory, TrapCode> {
        self.memory_ptr(index).ok_or(TrapCode::MemoryOutOfBounds)
    }

    fn tab(&self, index: u32) -> Result<*mut TableInst, TrapCode> {
        self.table_ptr(index).ok_or(TrapCode::TableOutOfBounds)
    }

    fn elem_seg(&self, elem: u32) -> Segment<u64> {
        if elem < self.num_elems {
            // SAFETY: in range of the segment array.
            unsafe { *self.elems.add(elem as usize) }
        } else {
            Segment::EMPTY
        }
    }

    fn data_seg(&self, data: u32) -> Segment<u8> {
        if data < self.num_datas {
            // SAFETY: in range of the segment array.
            unsafe { *self.datas.add(data as usize) }
        } else {
            Segment::EMPTY
        }
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

    /// Copies `bytes` into memory `mem` at `dst` (`memory.init` and active data segments).
    ///
    /// # Errors
    /// `MemoryOutOfBounds` if `dst + bytes.len()` exceeds the memory.
    pub fn write_memory(&self, mem: u32, dst: u64, bytes: &[u8]) -> Result<(), TrapCode> {
        let m = self.mem(mem)?;
        // SAFETY: the memory is live and the range is checked against its length (a `dst`
        // near 2^64, a memory64 segment offset, saturates past it); `bytes` never aliases
        // linear memory (segments live in the instance or the metadata).
        unsafe {
            if dst.saturating_add(bytes.len() as u64) > (*m).def.len {
                return Err(TrapCode::MemoryOutOfBounds);
            }
            ptr::copy_nonoverlapping(bytes.as_ptr(), (*m).def.base.add(dst as usize), bytes.len());
        }
        Ok(())
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
        // SAFETY: segments point at live bytes owned by the instance or its metadata.
        let seg = unsafe { self.data_seg(data).items() };
        let bytes = seg
            .get(src as usize..src as usize + len as usize)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        self.write_memory(mem, dst.into(), bytes)
    }

    /// `data.drop`.
    pub fn data_drop(&self, data: u32) {
        if data < self.num_datas {
            // SAFETY: in range of the segment array, which the instance owns.
            unsafe { *self.datas.add(data as usize) = Segment::EMPTY };
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

    /// Writes `len` items into table `table` at `dst`, item `j` being `item(j)` (`table.init`
    /// and active element segments); `item` returning `None` traps like a bad range.
    ///
    /// # Errors
    /// `TableOutOfBounds` if `dst + len` exceeds the table (nothing written) or an item fails.
    pub fn write_table(
        &self,
        table: u32,
        dst: u64,
        len: u32,
        item: &mut dyn FnMut(u32) -> Option<u64>,
    ) -> Result<(), TrapCode> {
        let t = self.tab(table)?;
        // SAFETY: the table is live; exclusive during this call (`item` does not touch it).
        let t = unsafe { &mut *t };
        // A `dst` near 2^64 (a table64 segment offset) saturates past the length.
        if dst.saturating_add(u64::from(len)) > u64::from(t.len()) {
            return Err(TrapCode::TableOutOfBounds);
        }
        let dst = dst as usize;
        let slots = &mut t.slice_mut()[dst..dst + len as usize];
        for (j, slot) in (0..len).zip(slots) {
            *slot = item(j).ok_or(TrapCode::TableOutOfBounds)?;
        }
        Ok(())
    }

    /// `table.fill`.
    ///
    /// # Errors
    /// `TableOutOfBounds` if `dst + len` exceeds the table.
    pub fn table_fill(&self, table: u32, dst: u32, val: u64, len: u32) -> Result<(), TrapCode> {
        self.write_table(table, dst.into(), len, &mut |_| Some(val))
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
        // SAFETY: segments point at live items owned by the instance.
        let seg = unsafe { self.elem_seg(elem).items() };
        let items = seg
            .get(src as usize..src as usize + len as usize)
            .ok_or(TrapCode::TableOutOfBounds)?;
        self.write_table(table, dst.into(), len, &mut |j| Some(items[j as usize]))
    }

    /// `elem.drop`.
    pub fn elem_drop(&self, elem: u32) {
        if elem < self.num_elems {
            // SAFETY: in range of the segment array, which the instance owns.
            unsafe { *self.elems.add(elem as usize) = Segment::EMPTY };
        }
    }
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
/// `vmctx` must be the vmctx of a live instance (its `instance` points at the core).
unsafe fn core<'a>(vmctx: *mut VMContext) -> &'a InstanceCore {
    // SAFETY: per the caller.
    unsafe { &*((*vmctx).instance as *const InstanceCore) }
}

/// Libcall `memory.grow`, see [`libcall::MEMORY_GROW`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_memory_grow(vmctx: *mut VMContext, mem: u32, delta: u32) -> u32 {
    // SAFETY: per the caller.
    unsafe { core(vmctx) }.memory_grow(mem, delta)
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
    status(unsafe { core(vmctx) }.memory_fill(mem, dst, val, len))
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
    status(unsafe { core(vmctx) }.memory_copy(dst_mem, src_mem, dst, src, len))
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
    status(unsafe { core(vmctx) }.memory_init(mem, data, dst, src, len))
}

/// Libcall `data.drop`, see [`libcall::DATA_DROP`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: per the caller.
    unsafe { core(vmctx) }.data_drop(data)
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
    unsafe { core(vmctx) }.table_grow(table, init, delta)
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
    status(unsafe { core(vmctx) }.table_fill(table, dst, val, len))
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
    status(unsafe { core(vmctx) }.table_copy(dst_table, src_table, dst, src, len))
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
    status(unsafe { core(vmctx) }.table_init(table, elem, dst, src, len))
}

/// Libcall `elem.drop`, see [`libcall::ELEM_DROP`].
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance.
pub unsafe extern "C" fn libcall_elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: per the caller.
    unsafe { core(vmctx) }.elem_drop(elem)
}

/// A libcall table: entry `i` is the address of libcall `i` ([`libcall`] indices), the layout
/// `vmctx.libcalls` points at.
#[repr(transparent)]
#[derive(Debug)]
pub struct LibcallTable(pub [*const (); libcall::COUNT]);

// SAFETY: the table only holds code addresses and is never written.
unsafe impl Sync for LibcallTable {}

/// The libcalls in table order, `raise` and `enter` at [`libcall::RAISE_TRAP`] and
/// [`libcall::ENTER`].
const fn libcall_table(raise: *const (), enter: *const ()) -> [*const (); libcall::COUNT] {
    let mut t = [ptr::null(); libcall::COUNT];
    t[libcall::MEMORY_GROW] = libcall_memory_grow as *const ();
    t[libcall::MEMORY_FILL] = libcall_memory_fill as *const ();
    t[libcall::MEMORY_COPY] = libcall_memory_copy as *const ();
    t[libcall::MEMORY_INIT] = libcall_memory_init as *const ();
    t[libcall::DATA_DROP] = libcall_data_drop as *const ();
    t[libcall::TABLE_GROW] = libcall_table_grow as *const ();
    t[libcall::TABLE_FILL] = libcall_table_fill as *const ();
    t[libcall::TABLE_COPY] = libcall_table_copy as *const ();
    t[libcall::TABLE_INIT] = libcall_table_init as *const ();
    t[libcall::ELEM_DROP] = libcall_elem_drop as *const ();
    t[libcall::RAISE_TRAP] = raise;
    t[libcall::ENTER] = enter;
    t
}

/// The complete libcall table, trap trampolines included: read-only and shared, what an
/// instance whose libcalls nobody replaces points `vmctx.libcalls` at (the C library's).
#[cfg(target_arch = "x86_64")]
pub static LIBCALLS: LibcallTable = LibcallTable(libcall_table(
    crate::trap::bareflow_trap_raise as *const (),
    crate::trap::bareflow_trap_enter as *const (),
));

/// The libcall table of every Rust instance. [`libcall::RAISE_TRAP`] is 0 until a JIT
/// installs its own (`Instance::libcalls_mut`); [`libcall::ENTER`] is the entry trampoline
/// on x86-64.
pub fn default_libcalls() -> [usize; libcall::COUNT] {
    #[cfg(target_arch = "x86_64")]
    let enter = crate::trap::bareflow_trap_enter as *const ();
    #[cfg(not(target_arch = "x86_64"))]
    let enter = ptr::null();
    libcall_table(ptr::null(), enter).map(|p| p as usize)
}
