//! The OS seam: everything the WASI functions ([`super::funcs`]) need from the host, as one
//! trait with two implementations, chosen at build time ([`Sys`]):
//!
//! - [`os_std`](super::os_std) (feature `wasi`): std files, stdio, time and cap-std's
//!   sandboxed directories;
//! - [`os_raw`](super::os_raw) (feature `tiny-wasi` without `wasi`, Linux x86-64): raw
//!   system calls, no std and no libc, for the size-built `bareflow-load`.
//!
//! The WASI logic (argument checks, rights, descriptor table, errno choice, record layouts)
//! lives above the seam, once; the seam only moves bytes and resolves paths. Both backends
//! resolve a guest path only beneath the directory descriptor it is relative to, refusing
//! absolute paths, `..` above it and links that leave it with [`errno::NOTCAPABLE`]
//! (see `docs/WASI.md`).

use alloc::vec::Vec;

use super::errno::Errno;

/// The backend this build uses.
#[cfg(feature = "wasi")]
pub(crate) type Sys = super::os_std::StdOs;
/// The backend this build uses.
#[cfg(not(feature = "wasi"))]
pub(crate) type Sys = super::os_raw::RawOs;

/// An open directory of the backend.
pub(crate) type Dir = <Sys as Os>::Dir;
/// An open file of the backend.
pub(crate) type File = <Sys as Os>::File;

/// What `fstat` tells the WASI functions about a file (times in ns since the epoch).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// A WASI file type (`fs::filetype`).
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// How `path_open` opens a file (already reduced from WASI's rights and flags).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OpenSpec {
    pub read: bool,
    pub write: bool,
    pub append: bool,
    pub create: bool,
    pub excl: bool,
    pub trunc: bool,
    /// Follow a symbolic link in the last component.
    pub follow: bool,
}

/// What an open resolved to (classified by `fstat` of the opened descriptor).
pub(crate) enum Opened<D, F> {
    Dir(D),
    File(F),
}

/// A standard stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stdio {
    In,
    Out,
    Err,
}

/// One directory entry: name, inode, WASI file type.
pub(crate) type DirEntry = (Vec<u8>, u64, u8);

/// The host operations of WASI preview1. Paths are guest paths already checked by
/// `fs::guest_path` (relative, non-empty, no NUL); every path operation must stay beneath
/// `dir` (see the module docs). Errors are WASI errnos.
pub(crate) trait Os {
    /// An open directory (closed on drop).
    type Dir: core::fmt::Debug;
    /// An open non-directory (closed on drop).
    type File: core::fmt::Debug;
    /// A monotonic time point.
    type Instant: core::fmt::Debug;
    /// Why a host directory could not be granted.
    type Error: core::fmt::Display + core::fmt::Debug;

    /// Opens a host directory named by the host (the one use of ambient authority).
    fn open_host_dir(path: &[u8]) -> Result<Self::Dir, Self::Error>;
    /// Opens `path` beneath `dir` as a directory.
    fn open_dir_at(dir: &Self::Dir, path: &[u8], follow: bool) -> Result<Self::Dir, Errno>;
    /// Opens `path` beneath `dir` as `spec` says.
    fn open_at(
        dir: &Self::Dir,
        path: &[u8],
        spec: &OpenSpec,
    ) -> Result<Opened<Self::Dir, Self::File>, Errno>;

    /// One `read` at the file position.
    fn read(f: &mut Self::File, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes all of `buf` at the file position.
    fn write_all(f: &mut Self::File, buf: &[u8]) -> Result<(), Errno>;
    /// One positioned read.
    fn pread(f: &Self::File, buf: &mut [u8], off: u64) -> Result<usize, Errno>;
    /// Writes all of `buf` at `off`.
    fn pwrite_all(f: &Self::File, buf: &[u8], off: u64) -> Result<(), Errno>;
    /// `lseek` (`whence` 0 set, 1 current, 2 end; checked by the caller).
    fn seek(f: &mut Self::File, off: i64, whence: u32) -> Result<u64, Errno>;
    /// `fsync`.
    fn sync(f: &Self::File) -> Result<(), Errno>;
    /// `ftruncate`.
    fn set_len(f: &Self::File, len: u64) -> Result<(), Errno>;
    /// `fstat` of a file.
    fn file_stat(f: &Self::File) -> Result<Stat, Errno>;
    /// `fstat` of a directory.
    fn dir_stat(d: &Self::Dir) -> Result<Stat, Errno>;
    /// `stat` (`follow`) or `lstat` of `path` beneath `dir`.
    fn stat_at(dir: &Self::Dir, path: &[u8], follow: bool) -> Result<Stat, Errno>;
    /// The entries of `dir` except `.` and `..`, in any order.
    fn read_dir(dir: &Self::Dir) -> Result<Vec<DirEntry>, Errno>;
    /// The text of the symbolic link `path` beneath `dir`.
    fn read_link_at(dir: &Self::Dir, path: &[u8]) -> Result<Vec<u8>, Errno>;
    /// `mkdirat`.
    fn mkdir_at(dir: &Self::Dir, path: &[u8]) -> Result<(), Errno>;
    /// `unlinkat(AT_REMOVEDIR)`.
    fn rmdir_at(dir: &Self::Dir, path: &[u8]) -> Result<(), Errno>;
    /// `unlinkat` of a file or symbolic link.
    fn unlink_at(dir: &Self::Dir, path: &[u8]) -> Result<(), Errno>;
    /// `renameat`.
    fn rename_at(from: &Self::Dir, fp: &[u8], to: &Self::Dir, tp: &[u8]) -> Result<(), Errno>;

    /// One read of standard input.
    fn stdin_read(buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes all of `buf` to standard output or error.
    fn stdio_write(s: Stdio, buf: &[u8]) -> Result<(), Errno>;
    /// Flushes standard output (after one `fd_write`).
    fn stdout_flush() -> Result<(), Errno>;
    /// Whether a standard stream is a terminal.
    fn is_tty(s: Stdio) -> bool;

    /// Now, on a monotonic clock.
    fn now() -> Self::Instant;
    /// Nanoseconds since `start`.
    fn elapsed_ns(start: &Self::Instant) -> u64;
    /// Wall-clock nanoseconds since the Unix epoch.
    fn realtime_ns() -> Result<u64, Errno>;
    /// Fills `buf` with random bytes from the kernel.
    fn random(buf: &mut [u8]) -> Result<(), Errno>;
    /// Sleeps `ns` nanoseconds.
    fn sleep_ns(ns: u64);
    /// Yields the CPU.
    fn yield_now();
}
