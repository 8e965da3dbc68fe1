//! Executable memory for loaded code, W^X: a region is handed out writable, filled, then
//! switched to read+execute and never written again.
//!
//! The loader cannot map memory by itself on every target, so it takes a [`CodeMemory`] from
//! the embedder. Two implementations ship: [`MmapCodeMemory`] (feature `unix`, anonymous
//! `mmap` + `mprotect` through `extern "C"` declarations, no libc crate) and
//! [`BufferCodeMemory`] (a caller-provided buffer plus an optional "make executable" hook,
//! for targets without an MMU or with their own MPU setup).

use crate::elf::ElfObject;
use crate::error::LoadError;
use crate::format::EntryTable;

/// Provider of code memory for one loaded object.
pub trait CodeMemory {
    /// Returns a writable region of exactly `size` bytes whose address is a multiple of
    /// `align` (a power of two no larger than 4096). A second call may discard the first
    /// region.
    ///
    /// # Errors
    /// [`LoadError::CodeMemory`] if the memory cannot be provided.
    fn allocate(&mut self, size: usize, align: usize) -> Result<&mut [u8], LoadError>;

    /// Makes the region returned by the last [`CodeMemory::allocate`] executable and
    /// read-only, and returns its address.
    ///
    /// # Errors
    /// [`LoadError::CodeMemory`] if there is no region or protection cannot be changed.
    fn publish(&mut self) -> Result<*const u8, LoadError>;
}

/// Loads `obj` into memory from `mem`: allocate, copy, relocate, publish. Returns the base
/// address of the region; symbols are at `base + obj.find_symbol(..)`.
///
/// # Errors
/// Any error from allocation, relocation ([`ElfObject::load`]) or publishing. On error no
/// memory has been made executable.
pub fn load_object(
    obj: &ElfObject<'_>,
    mem: &mut dyn CodeMemory,
    resolve: &mut dyn FnMut(&[u8]) -> Option<u64>,
) -> Result<*const u8, LoadError> {
    let size = obj.region_size()?.max(1);
    let region = mem.allocate(size, obj.region_align())?;
    let base = region.as_ptr() as u64;
    obj.load(region, base, resolve)?;
    mem.publish()
}

/// Builds a snapshot's code region in memory from `mem`: allocate (the entry table's code
/// length, at its alignment), copy the in-place region of `object`
/// ([`EntryTable::copy_region`]: version-9 code needs no patching), publish. Returns the
/// region's base.
///
/// # Errors
/// Any error from allocation, copying or publishing. On error no memory has been made
/// executable.
pub fn load_copied(
    object: &[u8],
    entries: &EntryTable<'_>,
    mem: &mut dyn CodeMemory,
) -> Result<*const u8, LoadError> {
    let region = mem.allocate(
        (entries.code_len as usize).max(1),
        entries.code_align as usize,
    )?;
    entries.copy_region(object, region)?;
    mem.publish()
}

/// Code memory carved out of a caller-provided buffer. On targets without an MMU the buffer
/// is executable as is; `make_executable` (if given) is called on publish, e.g. to program
/// an MPU region or to flush caches.
pub struct BufferCodeMemory<'a> {
    buf: &'a mut [u8],
    used: Option<(usize, usize)>,
    make_executable: Option<fn(*const u8, usize) -> bool>,
}

impl<'a> BufferCodeMemory<'a> {
    /// Wraps `buf`. The caller guarantees the buffer is (or will be made, by the hook)
    /// executable memory.
    pub fn new(buf: &'a mut [u8], make_executable: Option<fn(*const u8, usize) -> bool>) -> Self {
        BufferCodeMemory {
            buf,
            used: None,
            make_executable,
        }
    }
}

impl CodeMemory for BufferCodeMemory<'_> {
    fn allocate(&mut self, size: usize, align: usize) -> Result<&mut [u8], LoadError> {
        if !align.is_power_of_two() {
            return Err(LoadError::CodeMemory);
        }
        let addr = self.buf.as_ptr() as usize;
        let start = addr.checked_add(align - 1).ok_or(LoadError::CodeMemory)? & !(align - 1);
        let skip = start - addr;
        let end = skip.checked_add(size).ok_or(LoadError::CodeMemory)?;
        let region = self.buf.get_mut(skip..end).ok_or(LoadError::CodeMemory)?;
        self.used = Some((skip, size));
        Ok(region)
    }

    fn publish(&mut self) -> Result<*const u8, LoadError> {
        let (skip, size) = self.used.ok_or(LoadError::CodeMemory)?;
        let p = self.buf.get(skip..).ok_or(LoadError::CodeMemory)?.as_ptr();
        if let Some(hook) = self.make_executable
            && !hook(p, size)
        {
            return Err(LoadError::CodeMemory);
        }
        Ok(p)
    }
}

#[cfg(feature = "unix")]
pub use mmap::MmapCodeMemory;

#[cfg(feature = "unix")]
mod mmap {
    use super::*;
    use core::ffi::c_void;

    const PROT_READ: i32 = 1;
    const PROT_WRITE: i32 = 2;
    const PROT_EXEC: i32 = 4;
    const MAP_PRIVATE: i32 = 0x02;
    #[cfg(target_os = "linux")]
    const MAP_ANONYMOUS: i32 = 0x20;
    #[cfg(not(target_os = "linux"))]
    const MAP_ANONYMOUS: i32 = 0x1000;
    const PAGE: usize = 4096;

    #[cfg_attr(not(feature = "std"), link(name = "c"))]
    unsafe extern "C" {
        fn mmap(
            addr: *mut c_void,
            len: usize,
            prot: i32,
            flags: i32,
            fd: i32,
            off: i64,
        ) -> *mut c_void;
        fn mprotect(addr: *mut c_void, len: usize, prot: i32) -> i32;
        fn munmap(addr: *mut c_void, len: usize) -> i32;
    }

    /// Page-granular code memory from anonymous `mmap`, unmapped on drop.
    #[derive(Debug)]
    pub struct MmapCodeMemory {
        ptr: *mut u8,
        len: usize,
        size: usize,
    }

    impl MmapCodeMemory {
        /// No memory mapped yet.
        pub fn new() -> Self {
            MmapCodeMemory {
                ptr: core::ptr::null_mut(),
                len: 0,
                size: 0,
            }
        }

        /// A page-aligned copy of `bytes` mapped read+execute only, e.g. an execute-in-place
        /// snapshot for [`LoadedModule::load_in_place`](crate::loader::LoadedModule::load_in_place)
        /// with [`MmapCodeMemory::bytes`] as the file and this value as `keep`: any write into
        /// the mapping faults, as it would in flash.
        ///
        /// # Errors
        /// [`LoadError::CodeMemory`] if mapping or protecting fails.
        pub fn map_read_exec(bytes: &[u8]) -> Result<Self, LoadError> {
            let mut m = MmapCodeMemory::new();
            m.allocate(bytes.len(), PAGE)?.copy_from_slice(bytes);
            m.publish()?;
            Ok(m)
        }

        /// The bytes asked for by the last allocation (empty if nothing is mapped); after
        /// [`CodeMemory::publish`] they are read+execute only.
        pub fn bytes(&self) -> &[u8] {
            if self.ptr.is_null() {
                return &[];
            }
            // SAFETY: `ptr` is a live readable mapping of `len >= size` bytes owned by
            // `self`; after `allocate`'s mutable borrow ended nothing writes to it.
            unsafe { core::slice::from_raw_parts(self.ptr, self.size) }
        }

        fn release(&mut self) {
            if !self.ptr.is_null() {
                // SAFETY: `ptr`/`len` are exactly a mapping this value created and still owns;
                // no reference into it outlives `self` (code pointers are only used while the
                // owning module is alive).
                unsafe { munmap(self.ptr.cast(), self.len) };
                self.ptr = core::ptr::null_mut();
                self.len = 0;
                self.size = 0;
            }
        }
    }

    impl Default for MmapCodeMemory {
        fn default() -> Self {
            Self::new()
        }
    }

    impl CodeMemory for MmapCodeMemory {
        fn allocate(&mut self, size: usize, align: usize) -> Result<&mut [u8], LoadError> {
            if align > PAGE || !align.is_power_of_two() {
                return Err(LoadError::CodeMemory);
            }
            self.release();
            let len = size
                .max(1)
                .checked_next_multiple_of(PAGE)
                .ok_or(LoadError::CodeMemory)?;
            // SAFETY: anonymous private mapping at a kernel-chosen address; touches no
            // existing memory.
            let p = unsafe {
                mmap(
                    core::ptr::null_mut(),
                    len,
                    PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p.is_null() || p as isize == -1 {
                return Err(LoadError::CodeMemory);
            }
            self.ptr = p.cast();
            self.len = len;
            self.size = size;
            // SAFETY: the mapping is `len >= size` bytes, readable and writable, and owned
            // exclusively by `self` for the lifetime of the returned borrow.
            Ok(unsafe { core::slice::from_raw_parts_mut(self.ptr, size) })
        }

        fn publish(&mut self) -> Result<*const u8, LoadError> {
            if self.ptr.is_null() {
                return Err(LoadError::CodeMemory);
            }
            // SAFETY: `ptr`/`len` are a page-aligned mapping owned by `self`; no Rust
            // reference to it is live (the `allocate` borrow ended).
            let r = unsafe { mprotect(self.ptr.cast(), self.len, PROT_READ | PROT_EXEC) };
            if r != 0 {
                return Err(LoadError::CodeMemory);
            }
            Ok(self.ptr)
        }
    }

    impl Drop for MmapCodeMemory {
        fn drop(&mut self) {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_memory_aligns_and_bounds() {
        let mut buf = [0u8; 100];
        let mut m = BufferCodeMemory::new(&mut buf, None);
        let r = m.allocate(40, 16).unwrap();
        assert_eq!(r.len(), 40);
        assert_eq!(r.as_ptr() as usize % 16, 0);
        assert!(m.allocate(200, 16).is_err());
        let mut buf2 = [0u8; 8];
        let mut m2 = BufferCodeMemory::new(&mut buf2, Some(|_, _| false));
        m2.allocate(4, 1).unwrap();
        assert_eq!(m2.publish(), Err(LoadError::CodeMemory));
    }

    #[cfg(all(feature = "unix", target_arch = "x86_64"))]
    #[test]
    fn mmap_memory_runs_code() {
        let mut m = MmapCodeMemory::new();
        // mov eax, 42; ret
        let code = [0xb8, 42, 0, 0, 0, 0xc3];
        m.allocate(code.len(), 16).unwrap().copy_from_slice(&code);
        let p = m.publish().unwrap();
        // SAFETY: `p` points at the six bytes above, now mapped read+execute; they form a
        // complete `extern "C" fn() -> i32`.
        let f: extern "C" fn() -> i32 = unsafe { core::mem::transmute(p) };
        assert_eq!(f(), 42);
    }
}
