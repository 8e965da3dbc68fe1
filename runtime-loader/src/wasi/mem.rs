//! Bounds-checked access to the guest's linear memory.
//!
//! Every guest pointer and length goes through [`GuestMem`]; an access outside the memory is
//! [`errno::FAULT`], never a host fault.

use alloc::vec::Vec;

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

    /// The `(buf, len)` pairs of an iovec array, each checked against memory.
    pub(crate) fn iovecs(&self, iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let total = count.checked_mul(8).ok_or(errno::FAULT)?;
        let raw = self.slice(iovs, total)?;
        let mut v = Vec::with_capacity(count as usize);
        for e in raw.chunks_exact(8) {
            let buf = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            let len = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            self.slice(buf, len)?;
            v.push((buf, len));
        }
        Ok(v)
    }
}
