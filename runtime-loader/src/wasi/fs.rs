//! The descriptor table and guest path checks.
//!
//! Every directory descriptor holds an open host directory ([`Dir`] of the OS backend,
//! `super::os`), never a host path. A guest path is always resolved beneath the directory of
//! the descriptor it is relative to; the final operation acts on a descriptor of the parent
//! directory found that way. Renaming or replacing directories between or during calls
//! therefore cannot redirect an access out of the sandbox: an open descriptor keeps its
//! directory wherever it moves.
//!
//! Absolute paths, `..` above the descriptor's directory and symbolic links that are
//! absolute or climb out are refused with [`errno::NOTCAPABLE`] (see [`guest_path`] and the
//! backends).

use alloc::boxed::Box;

use super::errno::{self, Errno};
use super::os::{Dir, File, Stat};

/// WASI file types.
pub(crate) mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// What a descriptor refers to.
#[derive(Debug)]
pub(crate) enum FdKind {
    /// Host standard input.
    Stdin,
    /// Host standard output.
    Stdout,
    /// Host standard error.
    Stderr,
    /// A directory: the open host directory and, for preopens, the guest name.
    Dir {
        dir: Dir,
        preopen: Option<Box<[u8]>>,
    },
    /// An open regular file (or other non-directory).
    File(File),
}

/// One descriptor.
#[derive(Debug)]
pub(crate) struct FdEntry {
    pub kind: FdKind,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub flags: u16,
}

/// Every right defined by preview1 (bits 0..=29).
pub(crate) const ALL_RIGHTS: u64 = (1 << 30) - 1;
/// `fd_read`.
pub(crate) const RIGHT_FD_READ: u64 = 1 << 1;
/// `fd_write`.
pub(crate) const RIGHT_FD_WRITE: u64 = 1 << 6;
/// `poll_oneoff` on the descriptor.
pub(crate) const RIGHT_POLL: u64 = 1 << 27;

/// Largest byte count one read or write call moves (Linux's `MAX_RW_COUNT`): longer iovec
/// lists give a short count, as on Linux, and the count always fits the guest's `u32`.
pub(crate) const MAX_RW: usize = 0x7fff_f000;

/// A guest path, checked: `INVAL` for a NUL byte, `NOENT` when empty, `NOTCAPABLE` when
/// absolute. Everything else (`..`, links) is checked by the backend's resolver.
pub(crate) fn guest_path(path: &[u8]) -> Result<&[u8], Errno> {
    if super::has_nul(path) {
        return Err(errno::INVAL);
    }
    if path.is_empty() {
        return Err(errno::NOENT);
    }
    if path.starts_with(b"/") {
        return Err(errno::NOTCAPABLE);
    }
    Ok(path)
}

/// The 64-byte `filestat` record.
pub(crate) fn filestat_bytes(m: &Stat) -> [u8; 64] {
    let fields = [
        m.dev,
        m.ino,
        u64::from(m.filetype),
        m.nlink,
        m.size,
        m.atim,
        m.mtim,
        m.ctim,
    ];
    let mut b = [0u8; 64];
    for (out, v) in b.chunks_exact_mut(8).zip(fields) {
        out.copy_from_slice(&v.to_le_bytes());
    }
    b
}
