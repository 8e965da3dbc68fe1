//! The descriptor table and capability-checked path resolution.
//!
//! A guest path is always relative to a directory descriptor. [`resolve`] walks it one
//! component at a time below that directory: absolute paths, `..` above the directory and
//! symbolic links whose target is absolute or climbs out are refused with
//! [`errno::NOTCAPABLE`]; relative links are expanded in place (at most [`MAX_LINKS`]), so
//! the host path it returns contains no symbolic link except possibly the last component
//! (when the caller asked not to follow it; opens then use `O_NOFOLLOW`).
//!
//! Limitation: the checks and the final host call are separate steps, so a host process
//! racing to swap a directory for a symlink between them could redirect one access. Guests
//! cannot create symlinks (`path_symlink` is not provided).

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::vec::Vec;

use super::errno::{self, Errno};

/// Symbolic links expanded in one resolution before giving up with `LOOP`.
pub const MAX_LINKS: u32 = 32;

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
    /// A directory: its host path (canonical for preopens) and, for preopens, the guest name.
    Dir {
        host: PathBuf,
        preopen: Option<Vec<u8>>,
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

/// Resolves `path` below the directory `base` (see the module docs). With `follow_last`
/// false a final symbolic link is kept as is.
pub(crate) fn resolve(
    base: &std::path::Path,
    path: &[u8],
    follow_last: bool,
) -> Result<PathBuf, Errno> {
    if path.contains(&0) {
        return Err(errno::INVAL);
    }
    if path.is_empty() {
        return Err(errno::NOENT);
    }
    if path.starts_with(b"/") {
        return Err(errno::NOTCAPABLE);
    }
    let trailing_slash = path.ends_with(b"/");
    // Components still to walk, last one first (so `pop` yields the next).
    let mut pending: Vec<Vec<u8>> = path
        .split(|b| *b == b'/')
        .map(<[u8]>::to_vec)
        .rev()
        .collect();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut links = 0u32;
    while let Some(comp) = pending.pop() {
        match comp.as_slice() {
            b"" | b"." => continue,
            b".." => {
                if stack.pop().is_none() {
                    return Err(errno::NOTCAPABLE);
                }
                continue;
            }
            _ => {}
        }
        let last = pending.iter().all(|c| c.is_empty() || c == b".");
        let follow = !last || follow_last || trailing_slash;
        if follow {
            let candidate = join(base, &stack).join(OsStr::from_bytes(&comp));
            let meta = std::fs::symlink_metadata(&candidate);
            if meta.is_ok_and(|m| m.file_type().is_symlink()) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(errno::LOOP);
                }
                let target = std::fs::read_link(&candidate).map_err(|e| errno::from_io(&e))?;
                let t = target.as_os_str().as_bytes();
                if t.starts_with(b"/") {
                    return Err(errno::NOTCAPABLE);
                }
                for c in t.split(|b| *b == b'/').rev() {
                    pending.push(c.to_vec());
                }
                continue;
            }
        }
        stack.push(comp);
    }
    Ok(join(base, &stack))
}

fn join(base: &std::path::Path, comps: &[Vec<u8>]) -> PathBuf {
    let mut p = base.to_path_buf();
    for c in comps {
        p.push(OsStr::from_bytes(c));
    }
    p
}

/// The WASI file type of host metadata.
pub(crate) fn filetype_of(m: &Metadata) -> u8 {
    use std::os::unix::fs::FileTypeExt;
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
    use std::os::unix::fs::MetadataExt;
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
