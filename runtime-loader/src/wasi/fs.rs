//! The descriptor table and capability-checked path access.
//!
//! Every directory descriptor holds an open host directory ([`cap_std::fs::Dir`]), never a
//! host path. A guest path is always resolved beneath the directory of the descriptor it is
//! relative to, by the kernel in one step where it can (`openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS`, Linux >= 5.6) and otherwise by cap-std's per-component
//! `openat(O_NOFOLLOW)` walk; the final operation (`openat`, `unlinkat`, `renameat`,
//! `mkdirat`, `fstatat`, ...) acts on a descriptor of the parent directory found that way.
//! Renaming or replacing directories between or during calls therefore cannot redirect an
//! access out of the sandbox: an open descriptor keeps its directory wherever it moves.
//!
//! Absolute paths, `..` above the descriptor's directory and symbolic links that are
//! absolute or climb out are refused with [`errno::NOTCAPABLE`] (see [`guest_path`] and
//! [`errno::from_io`]).

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::vec::Vec;

use cap_std::fs::{Dir, FileTypeExt, Metadata, MetadataExt};

use super::errno::{self, Errno};

/// WASI file types.
pub(crate) mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
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
    Dir { dir: Dir, preopen: Option<Vec<u8>> },
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

/// A guest path as a host relative path: `INVAL` for a NUL byte, `NOENT` when empty,
/// `NOTCAPABLE` when absolute. Everything else (`..`, links) is checked by the resolver.
pub(crate) fn guest_path(path: &[u8]) -> Result<&Path, Errno> {
    if path.contains(&0) {
        return Err(errno::INVAL);
    }
    if path.is_empty() {
        return Err(errno::NOENT);
    }
    if path.starts_with(b"/") {
        return Err(errno::NOTCAPABLE);
    }
    Ok(Path::new(OsStr::from_bytes(path)))
}

/// The metadata of an open file, in the form the directory calls return.
pub(crate) fn file_metadata(f: &File) -> Result<Metadata, Errno> {
    Metadata::from_file(f).map_err(|e| errno::from_io(&e))
}

/// The WASI file type of host metadata.
pub(crate) fn filetype_of(m: &Metadata) -> u8 {
    let t = m.file_type();
    if t.is_dir() {
        filetype::DIRECTORY
    } else if t.is_file() {
        filetype::REGULAR_FILE
    } else if t.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if t.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if t.is_block_device() {
        1
    } else if t.is_socket() {
        6
    } else {
        filetype::UNKNOWN
    }
}

/// The 64-byte `filestat` record of host metadata.
pub(crate) fn filestat_bytes(m: &Metadata) -> [u8; 64] {
    let ns = |s: i64, n: i64| {
        (s as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(n as u64)
    };
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&m.dev().to_le_bytes());
    b[8..16].copy_from_slice(&m.ino().to_le_bytes());
    b[16] = filetype_of(m);
    b[24..32].copy_from_slice(&m.nlink().to_le_bytes());
    b[32..40].copy_from_slice(&m.size().to_le_bytes());
    b[40..48].copy_from_slice(&ns(m.atime(), m.atime_nsec()).to_le_bytes());
    b[48..56].copy_from_slice(&ns(m.mtime(), m.mtime_nsec()).to_le_bytes());
    b[56..64].copy_from_slice(&ns(m.ctime(), m.ctime_nsec()).to_le_bytes());
    b
}
