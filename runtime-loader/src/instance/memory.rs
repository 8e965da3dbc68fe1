//! Linear memories: the one place a memory is created, grown and freed, for every tier and
//! both loaders.
//!
//! The bytes come from one of three backings, chosen at creation: a reservation of the
//! maximum size made accessible as it grows ([`crate::vmem`], feature `unix`), a guard-page
//! reservation ([`crate::guard`], Linux x86-64 with `std`), or the global allocator (the
//! allocation seam: the system heap in std builds, the embedder's arena in the C library,
//! whose global allocator grows the last block in place).

use alloc::boxed::Box;
use core::alloc::Layout;
use core::marker::PhantomPinned;
use core::ptr::{self, NonNull};

use super::InstanceError;
use crate::abi::{MAX_WASM_PAGES, MemoryDef, WASM_PAGE_SIZE};
use crate::meta::MemoryType;

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

/// The most pages a memory of type `ty` can have here: 65,536 (4 GiB) for a 32-bit memory;
/// one page less for a memory64 memory, so every in-bounds address and every bulk-operation
/// end (which may equal the length) fits in a `u32`: the tiers check that the high half of a
/// 64-bit address is zero and continue on the 32-bit path (docs/ABI.md "memory64").
pub fn page_cap(ty: MemoryType) -> u64 {
    MAX_WASM_PAGES - u64::from(ty.index64)
}

/// The initial size in bytes of a memory of type `ty`.
///
/// # Errors
/// `OutOfMemory` beyond 4 GiB; `Malformed` for a minimum above the maximum (which a loader
/// can only meet in a crafted snapshot).
fn initial_bytes(ty: MemoryType) -> Result<u64, InstanceError> {
    if ty.limits.max.is_some_and(|max| max < ty.limits.min) {
        return Err(InstanceError::Malformed("memory minimum above its maximum"));
    }
    if ty.limits.min > page_cap(ty) {
        return Err(InstanceError::OutOfMemory);
    }
    Ok(ty.limits.min * WASM_PAGE_SIZE)
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
    /// `OutOfMemory` if the allocation fails or the size exceeds 4 GiB; `Malformed` if the
    /// minimum exceeds the maximum.
    pub fn new(ty: MemoryType) -> Result<Box<LinearMemory>, InstanceError> {
        let bytes = initial_bytes(ty)?;
        #[cfg(feature = "unix")]
        {
            let cap = page_cap(ty);
            let max = ty.limits.max.unwrap_or(cap).clamp(ty.limits.min, cap);
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
        let bytes = initial_bytes(ty)?;
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
        let cap = page_cap(self.ty);
        self.ty.limits.max.map_or(cap, |m| m.min(cap)) as u32
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
            // The allocation seam: `realloc` (in place when the allocator can, as the C
            // library's arena does for its last block), then the new tail zeroed.
            let new_base = realloc_zeroed((*this).def.base, old_len as usize, new_len as usize)?;
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

/// Resizes a block from [`alloc_zeroed_bytes`] (or a dangling pointer when `old` is 0) to
/// `new > old` bytes, zeroing the new tail; `None` leaves the block as it was.
///
/// # Safety
/// `p` must be the block's base and `old` its length.
pub(super) unsafe fn realloc_zeroed(p: *mut u8, old: usize, new: usize) -> Option<*mut u8> {
    if old == 0 {
        return alloc_zeroed_bytes(new as u64);
    }
    let layout = mem_layout(old)?;
    mem_layout(new)?;
    // SAFETY: `p` was allocated with `layout` (per the caller); `new` is a valid size.
    let q = unsafe { alloc::alloc::realloc(p, layout, new) };
    if q.is_null() {
        return None;
    }
    // SAFETY: `q` has `new` bytes; the tail past `old` is not initialised yet.
    unsafe { ptr::write_bytes(q.add(old), 0, new - old) };
    Some(q)
}

/// # Safety
/// `p` must come from `alloc_zeroed_bytes(len)` with `len > 0`.
pub(super) unsafe fn free_bytes(p: *mut u8, len: u64) {
    if let Some(layout) = mem_layout(len as usize) {
        // SAFETY: same layout as the allocation, per the caller.
        unsafe { alloc::alloc::dealloc(p, layout) };
    }
}
