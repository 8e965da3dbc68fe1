//! Tables: 8-byte slots (`*const FuncRef` or an externref value, 0 = null), created and grown
//! here for every tier and both loaders (the elements come from the global allocator: the
//! system heap, or the C library's arena).

use alloc::boxed::Box;
use core::marker::PhantomPinned;
use core::ptr;

use super::InstanceError;
use super::memory::{free_bytes, realloc_zeroed};
use crate::abi::TableDef;
use crate::meta::TableType;

/// Largest number of elements a table may grow to (growth beyond fails with -1).
pub const MAX_TABLE_ELEMS: u32 = 10_000_000;

/// A table: 8-byte slots (`*const FuncRef` or externref value, 0 = null). The first field is
/// the ABI [`TableDef`], which is also the storage: `len` slots at `base`, a block of the
/// global allocator (the same seam linear memories use), grown with `realloc`.
#[repr(C)]
#[derive(Debug)]
pub struct TableInst {
    /// What compiled code reads: base and length.
    pub def: TableDef,
    /// Element type and declared limits.
    pub ty: TableType,
    _pin: PhantomPinned,
}

impl TableInst {
    /// A table of `ty.limits.min` elements set to `init`.
    ///
    /// # Errors
    /// `OutOfMemory` if the size exceeds [`MAX_TABLE_ELEMS`] or allocation fails;
    /// `Malformed` if the minimum exceeds the maximum.
    pub fn new(ty: TableType, init: u64) -> Result<Box<TableInst>, InstanceError> {
        let mut t = Box::new(TableInst {
            def: TableDef {
                base: ptr::null_mut(),
                len: 0,
            },
            ty,
            _pin: PhantomPinned,
        });
        if ty.limits.max.is_some_and(|max| max < ty.limits.min) {
            return Err(InstanceError::Malformed("table minimum above its maximum"));
        }
        if ty.limits.min > u64::from(MAX_TABLE_ELEMS)
            || t.resize(ty.limits.min as u32, init).is_none()
        {
            return Err(InstanceError::OutOfMemory);
        }
        Ok(t)
    }

    /// Current number of elements.
    pub fn len(&self) -> u32 {
        self.def.len as u32
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.def.len == 0
    }

    /// The elements.
    pub fn elems(&self) -> &[u64] {
        if self.def.len == 0 {
            return &[];
        }
        // SAFETY: `base` holds `len` initialised slots owned by this table.
        unsafe { core::slice::from_raw_parts(self.def.base, self.def.len as usize) }
    }

    /// Element `i`.
    pub fn get(&self, i: u32) -> Option<u64> {
        self.elems().get(i as usize).copied()
    }

    /// Sets element `i`; `false` if out of bounds.
    pub fn set(&mut self, i: u32, v: u64) -> bool {
        match self.slice_mut().get_mut(i as usize) {
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
        let max = self
            .ty
            .limits
            .max
            .unwrap_or(u64::MAX)
            .min(u64::from(MAX_TABLE_ELEMS));
        if new > max {
            return None;
        }
        self.resize(new as u32, init)?;
        Some(old)
    }

    /// Resizes the storage to `new >= len` slots, the new ones set to `init`.
    fn resize(&mut self, new: u32, init: u64) -> Option<()> {
        let old = self.def.len as usize;
        let new = new as usize;
        if new == old {
            return Some(());
        }
        // SAFETY: the block is this table's (or there is none yet when `old` is 0).
        let base = unsafe { realloc_zeroed(self.def.base.cast(), old * 8, new * 8)? };
        self.def.base = base.cast();
        self.def.len = new as u64;
        if init != 0 {
            self.slice_mut()[old..].fill(init);
        }
        Some(())
    }

    pub(crate) fn slice_mut(&mut self) -> &mut [u64] {
        if self.def.len == 0 {
            return &mut [];
        }
        // SAFETY: as in `elems`; `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.def.base, self.def.len as usize) }
    }
}

impl Drop for TableInst {
    fn drop(&mut self) {
        if self.def.len > 0 {
            // SAFETY: the block came from `realloc_zeroed` with this length.
            unsafe { free_bytes(self.def.base.cast(), self.def.len * 8) };
        }
    }
}
