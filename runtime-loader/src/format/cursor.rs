//! Bounds-checked reading of untrusted bytes: the little-endian cursor, the ELF section
//! header bounds.

use super::*;

/// Bounds of an ELF64 little-endian object's section header table: `(e_shoff, e_shnum)`
/// after checking the identification bytes (`\x7fELF`, 64-bit, little-endian, version 1),
/// `e_shentsize` = 64 and that the table lies inside `object`. The loaders parse no more of
/// the object than this (the in-place region check of [`super::Snapshot::parse`] reads the
/// section headers); `crate::elf` is the full parser.
///
/// # Errors
/// [`LoadError::BadElf`].
pub fn elf_section_headers(object: &[u8]) -> Result<(u64, u64), LoadError> {
    let (shoff, shnum) = (le(object, 40, 8), le(object, 60, 2));
    if object.get(..7) != Some(&[0x7f, b'E', b'L', b'F', 2, 1, 1][..])
        || le(object, 58, 2) != 64
        || shoff
            .checked_add(64 * shnum)
            .is_none_or(|end| end > object.len() as u64)
    {
        return Err(LoadError::BadElf);
    }
    Ok((shoff, shnum))
}

/// The `n`-byte (at most 8) little-endian value at `off` in `b`; bytes past the end read as 0
/// (callers check the bounds first: it never panics either way).
#[inline(never)]
pub(super) fn le(b: &[u8], off: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = v << 8 | u64::from(b.get(off.wrapping_add(i)).copied().unwrap_or(0));
    }
    v
}

/// A bounds-checked little-endian cursor over untrusted bytes.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// Current position.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] if fewer than `n` bytes remain.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        let end = self.pos.checked_add(n).ok_or(LoadError::Truncated)?;
        let s = self.bytes.get(self.pos..end).ok_or(LoadError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads a `u8`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u8(&mut self) -> Result<u8, LoadError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a little-endian `u16`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u16(&mut self) -> Result<u16, LoadError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] at the end of input.
    pub fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a `u32` length followed by that many bytes of UTF-8.
    ///
    /// # Errors
    /// [`LoadError::Truncated`] or [`LoadError::BadUtf8`].
    pub fn str(&mut self) -> Result<&'a str, LoadError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        core::str::from_utf8(b).map_err(|_| LoadError::BadUtf8)
    }
}
