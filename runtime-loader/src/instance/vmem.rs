//! Virtual memory for checked linear memories (feature `unix`, no std needed).
//!
//! A checked memory reserves the address range of its maximum size once, inaccessible and
//! with no commit charge (`PROT_NONE`, `MAP_NORESERVE`), and makes the accessible prefix
//! read/write as it grows. So untouched pages cost nothing (a module declaring 65,536 pages
//! costs address space, not RSS), growing never copies, and `MemoryDef::base` never moves.

use core::ffi::c_void;

const PROT_NONE: i32 = 0;
const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_PRIVATE: i32 = 0x02;
#[cfg(target_os = "linux")]
const MAP_ANONYMOUS: i32 = 0x20;
#[cfg(not(target_os = "linux"))]
const MAP_ANONYMOUS: i32 = 0x1000;
#[cfg(target_os = "linux")]
const MAP_NORESERVE: i32 = 0x4000;
#[cfg(not(target_os = "linux"))]
const MAP_NORESERVE: i32 = 0;
/// Reservations are rounded up to this (a multiple of every x86-64 page size we meet).
const PAGE: usize = 4096;

#[cfg_attr(not(feature = "std"), link(name = "c"))]
unsafe extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
    -> *mut c_void;
    fn mprotect(addr: *mut c_void, len: usize, prot: i32) -> i32;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
}

/// Rounds `len` up to whole pages (`None` on overflow).
pub fn round(len: usize) -> Option<usize> {
    len.checked_next_multiple_of(PAGE)
}

/// Reserves `reserve` bytes (rounded up to pages, non-zero) inaccessible and makes the first
/// `len` read/write (zeroed). Returns the base, or `None` if the kernel refuses.
pub fn reserve(reserve: usize, len: usize) -> Option<*mut u8> {
    let reserve = round(reserve)?;
    if reserve == 0 || len > reserve {
        return None;
    }
    // SAFETY: a fresh anonymous private mapping at a kernel-chosen address; it touches no
    // existing memory.
    let p = unsafe {
        mmap(
            core::ptr::null_mut(),
            reserve,
            PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p.is_null() || p as isize == -1 {
        return None;
    }
    let base = p.cast::<u8>();
    // SAFETY: `0..len` lies inside the reservation just made.
    if !unsafe { commit(base, 0, len) } {
        // SAFETY: the reservation is ours and nothing refers to it yet.
        unsafe { release(base, reserve) };
        return None;
    }
    Some(base)
}

/// Makes bytes `from..to` of the reservation at `base` read/write (page-aligned bounds:
/// wasm pages are). Returns `false` if the kernel refuses.
///
/// # Safety
/// `base` must come from [`reserve`] and not be released; `from <= to` within the reservation.
pub unsafe fn commit(base: *mut u8, from: usize, to: usize) -> bool {
    if to <= from {
        return true;
    }
    // SAFETY: per the caller, the range lies inside a live reservation owned by the caller.
    unsafe { mprotect(base.add(from).cast(), to - from, PROT_READ | PROT_WRITE) == 0 }
}

/// Unmaps a reservation of `reserve` bytes (the size given to [`reserve`]).
///
/// # Safety
/// `base` must come from [`reserve`]`(reserve, _)`; nothing may use the region afterwards.
pub unsafe fn release(base: *mut u8, reserve: usize) {
    if let Some(len) = round(reserve) {
        // SAFETY: per the caller, the whole reservation is ours to unmap.
        unsafe { munmap(base.cast(), len) };
    }
}
