//! The std backend of the OS seam ([`Os`]): std files and stdio, std time, and cap-std's
//! directories (what Wasmtime uses).
//!
//! Every directory descriptor holds an open host directory ([`cap_std::fs::Dir`]), never a
//! host path. A guest path is resolved beneath it by the kernel in one step where it can
//! (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, Linux >= 5.6) and otherwise by
//! cap-std's per-component `openat(O_NOFOLLOW)` walk; the final operation (`openat`,
//! `unlinkat`, `renameat`, `mkdirat`, `fstatat`, ...) acts on a descriptor of the parent
//! directory found that way. cap-std reports an escape as `PermissionDenied` without an OS
//! errno, which [`errno::from_io`] maps to `NOTCAPABLE`.

use std::ffi::OsStr;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::vec::Vec;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, FileTypeExt, Metadata, MetadataExt, OpenOptions};

use super::errno::{self, Errno};
use super::fs::filetype;
use super::os::{DirEntry, OpenSpec, Opened, Os, Stat, Stdio};

/// The std backend.
#[derive(Debug)]
pub(crate) struct StdOs;

fn io(e: std::io::Error) -> Errno {
    errno::from_io(&e)
}

fn p(path: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(path))
}

/// The WASI file type of host metadata.
fn filetype_of(m: &Metadata) -> u8 {
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
        filetype::BLOCK_DEVICE
    } else if t.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

fn stat_of(m: &Metadata) -> Stat {
    let ns = |s: i64, n: i64| {
        (s as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(n as u64)
    };
    Stat {
        dev: m.dev(),
        ino: m.ino(),
        filetype: filetype_of(m),
        nlink: m.nlink(),
        size: m.size(),
        atim: ns(m.atime(), m.atime_nsec()),
        mtim: ns(m.mtime(), m.mtime_nsec()),
        ctim: ns(m.ctime(), m.ctime_nsec()),
    }
}

impl Os for StdOs {
    type Dir = Dir;
    type File = std::fs::File;
    type Instant = std::time::Instant;
    type Error = std::io::Error;

    fn open_host_dir(path: &[u8]) -> Result<Dir, std::io::Error> {
        Dir::open_ambient_dir(p(path), cap_std::ambient_authority())
    }

    fn open_dir_at(dir: &Dir, path: &[u8], follow: bool) -> Result<Dir, Errno> {
        if follow {
            dir.open_dir(p(path))
        } else {
            dir.open_dir_nofollow(p(path))
        }
        .map_err(io)
    }

    fn open_at(dir: &Dir, path: &[u8], s: &OpenSpec) -> Result<Opened<Dir, Self::File>, Errno> {
        let mut o = OpenOptions::new();
        o.read(s.read)
            .write(s.write)
            .append(s.append)
            .follow(if s.follow {
                FollowSymlinks::Yes
            } else {
                FollowSymlinks::No
            });
        if s.create {
            if s.excl {
                o.create_new(true);
            } else {
                o.create(true);
            }
        }
        o.truncate(s.trunc);
        let f = dir.open_with(p(path), &o).map_err(io)?.into_std();
        if Metadata::from_file(&f).map_err(io)?.is_dir() {
            Ok(Opened::Dir(Dir::from_std_file(f)))
        } else {
            Ok(Opened::File(f))
        }
    }

    fn read(f: &mut Self::File, buf: &mut [u8]) -> Result<usize, Errno> {
        f.read(buf).map_err(io)
    }

    fn write_all(f: &mut Self::File, buf: &[u8]) -> Result<(), Errno> {
        f.write_all(buf).map_err(io)
    }

    fn pread(f: &Self::File, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        f.read_at(buf, off).map_err(io)
    }

    fn pwrite_all(f: &Self::File, buf: &[u8], off: u64) -> Result<(), Errno> {
        f.write_all_at(buf, off).map_err(io)
    }

    fn seek(f: &mut Self::File, off: i64, whence: u32) -> Result<u64, Errno> {
        let pos = match whence {
            0 => SeekFrom::Start(u64::try_from(off).map_err(|_| errno::INVAL)?),
            1 => SeekFrom::Current(off),
            _ => SeekFrom::End(off),
        };
        f.seek(pos).map_err(io)
    }

    fn sync(f: &Self::File) -> Result<(), Errno> {
        f.sync_all().map_err(io)
    }

    fn set_len(f: &Self::File, len: u64) -> Result<(), Errno> {
        f.set_len(len).map_err(io)
    }

    fn file_stat(f: &Self::File) -> Result<Stat, Errno> {
        Metadata::from_file(f).map(|m| stat_of(&m)).map_err(io)
    }

    fn dir_stat(d: &Dir) -> Result<Stat, Errno> {
        d.dir_metadata().map(|m| stat_of(&m)).map_err(io)
    }

    fn stat_at(dir: &Dir, path: &[u8], follow: bool) -> Result<Stat, Errno> {
        if follow {
            dir.metadata(p(path))
        } else {
            dir.symlink_metadata(p(path))
        }
        .map(|m| stat_of(&m))
        .map_err(io)
    }

    fn read_dir(dir: &Dir) -> Result<Vec<DirEntry>, Errno> {
        let mut v = Vec::new();
        // Listed through the descriptor itself: the directory it refers to, wherever it is.
        for d in dir.entries().map_err(io)? {
            let d = d.map_err(io)?;
            let ft = match d.file_type() {
                Ok(t) if t.is_dir() => filetype::DIRECTORY,
                Ok(t) if t.is_file() => filetype::REGULAR_FILE,
                Ok(t) if t.is_symlink() => filetype::SYMBOLIC_LINK,
                _ => filetype::UNKNOWN,
            };
            // Entry metadata is an `fstatat` without following; 0 if the entry just vanished.
            let ino = d.metadata().map(|md| md.ino()).unwrap_or(0);
            v.push((d.file_name().as_bytes().to_vec(), ino, ft));
        }
        Ok(v)
    }

    fn read_link_at(dir: &Dir, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let t = dir.read_link_contents(p(path)).map_err(io)?;
        Ok(t.as_os_str().as_bytes().to_vec())
    }

    fn mkdir_at(dir: &Dir, path: &[u8]) -> Result<(), Errno> {
        dir.create_dir(p(path)).map_err(io)
    }

    fn rmdir_at(dir: &Dir, path: &[u8]) -> Result<(), Errno> {
        dir.remove_dir(p(path)).map_err(io)
    }

    fn unlink_at(dir: &Dir, path: &[u8]) -> Result<(), Errno> {
        // `unlinkat` without AT_REMOVEDIR: a directory is EISDIR, a symlink is removed itself.
        dir.remove_file_or_symlink(p(path)).map_err(io)
    }

    fn rename_at(from: &Dir, fp: &[u8], to: &Dir, tp: &[u8]) -> Result<(), Errno> {
        from.rename(p(fp), to, p(tp)).map_err(io)
    }

    fn stdin_read(buf: &mut [u8]) -> Result<usize, Errno> {
        std::io::stdin().lock().read(buf).map_err(io)
    }

    fn stdio_write(s: Stdio, buf: &[u8]) -> Result<(), Errno> {
        match s {
            Stdio::Err => std::io::stderr().lock().write_all(buf),
            _ => std::io::stdout().lock().write_all(buf),
        }
        .map_err(io)
    }

    fn stdout_flush() -> Result<(), Errno> {
        std::io::stdout().lock().flush().map_err(io)
    }

    fn is_tty(s: Stdio) -> bool {
        use std::io::IsTerminal;
        match s {
            Stdio::In => std::io::stdin().is_terminal(),
            Stdio::Out => std::io::stdout().is_terminal(),
            Stdio::Err => std::io::stderr().is_terminal(),
        }
    }

    fn now() -> std::time::Instant {
        std::time::Instant::now()
    }

    fn elapsed_ns(start: &std::time::Instant) -> u64 {
        start.elapsed().as_nanos() as u64
    }

    fn realtime_ns() -> Result<u64, Errno> {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| errno::INVAL)?;
        Ok(d.as_nanos() as u64)
    }

    fn random(buf: &mut [u8]) -> Result<(), Errno> {
        let mut f = std::fs::File::open("/dev/urandom").map_err(io)?;
        f.read_exact(buf).map_err(io)
    }

    fn sleep_ns(ns: u64) {
        std::thread::sleep(std::time::Duration::from_nanos(ns));
    }

    fn yield_now() {
        std::thread::yield_now();
    }
}
