//! Tables: 8-byte slots (`*const FuncRef` or an externref value, 0 = null), created and grown
//! here for every tier and both loaders (the elements come from the global allocator: the
//! system heap, or the C library's arena).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::marker::PhantomPinned;
use core::ptr;

use super::InstanceError;
use crate::abi::TableDef;
use crate::meta::TableType;

/// Largest number of elements a table may grow to (growth beyond fails with -1).
pub const MAX_TABLE_ELEMS: u32 = 10_000_000;

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

    pub(crate) fn slice_mut(&mut self) -> &mut [u64] {
        &mut self.elems
    }
}
