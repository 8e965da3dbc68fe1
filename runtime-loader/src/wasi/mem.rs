//! Bounds-checked access to the guest's linear memory.
//!
//! Every guest pointer and length goes through [`GuestMem`]; an access outside the memory is
//! [`errno::FAULT`], never a host fault.

use super::errno::{self, Errno};
use crate::abi::MemoryDef;

/// A view of linear memory for the duration of one host call.
pub(crate) struct GuestMem<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMem<'a> {
    /// The memory behind `def` (an empty view if `def` is null).
    ///
    /// # Safety
    /// `def` must be null or point at a live `MemoryDef` whose `base..base+len` is valid for
    /// reads and writes and not otherwise accessed while the view lives (true during a host
    /// call: no wasm code runs until it returns).
    pub(crate) unsafe fn new(def: *mut MemoryDef) -> GuestMem<'a> {
        if def.is_null() {
            return GuestMem { bytes: &mut [] };
        }
        // SAFETY: per the contract `def` is live.
        let (base, len) = unsafe { ((*def).base, (*def).len) };
        if base.is_null() || len == 0 {
            return GuestMem { bytes: &mut [] };
        }
        // SAFETY: per the contract the region is valid and unaliased for the view's life.
        let bytes = unsafe { core::slice::from_raw_parts_mut(base, len as usize) };
        GuestMem { bytes }
    }

    /// `len` bytes at `ptr`.
    pub(crate) fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(errno::FAULT)?;
        self.bytes.get(start..end).ok_or(errno::FAULT)
    }

    /// `len` writable bytes at `ptr`.
    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(errno::FAULT)?;
        self.bytes.get_mut(start..end).ok_or(errno::FAULT)
    }

    /// Copies `data` to `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Checks the iovec array at `iovs`: `count` entries `(buf, len)`, the array and every
    /// buffer inside memory (so a call faults before it moves anything).
    pub(crate) fn check_iovecs(&self, iovs: u32, count: u32) -> Result<(), Errno> {
        let raw = self.slice(iovs, count.checked_mul(8).ok_or(errno::FAULT)?)?;
        for e in raw.chunks_exact(8) {
            let (buf, len) = iovec_of(e);
            self.slice(buf, len)?;
        }
        Ok(())
    }

    /// Entry `i` of the iovec array at `iovs`, read again at each use (a transfer into memory
    /// may have changed it: the buffer's slice is checked again when taken).
    pub(crate) fn iovec(&self, iovs: u32, i: u32) -> Result<(u32, u32), Errno> {
        let at = i
            .checked_mul(8)
            .and_then(|o| iovs.checked_add(o))
            .ok_or(errno::FAULT)?;
        Ok(iovec_of(self.slice(at, 8)?))
    }
}

/// The `(buf, len)` of an 8-byte iovec record.
fn iovec_of(e: &[u8]) -> (u32, u32) {
    let w = |k: usize| u32::from_le_bytes([e[k], e[k + 1], e[k + 2], e[k + 3]]);
    (w(0), w(4))
}
