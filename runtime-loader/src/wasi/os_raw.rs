//! The raw backend of the OS seam ([`Os`]): Linux x86-64 system calls, no std, no libc (the
//! size-built `bareflow-load`, feature `tiny-wasi`).
//!
//! The sandbox is the kernel's: every guest path is resolved by `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` relative to the directory descriptor (Linux >=
//! 5.6; older kernels answer `ENOSYS`, reported to the guest as `NOSYS`, never a fallback to
//! an unchecked open). `RESOLVE_BENEATH` refuses absolute paths, `..` above the descriptor
//! and symbolic links that are absolute or climb out, with `EXDEV`: that is `NOTCAPABLE`
//! here, as cap-std's `PermissionDenied` is in the std backend. Operations on a final
//! component (`mkdirat`, `unlinkat`, `renameat`, `readlinkat`) run on an `O_PATH` descriptor
//! of the parent directory resolved that way, as cap-std does; a path ending in `.` or `..`
//! resolves the whole path and acts on `.` of it.

use alloc::vec::Vec;
use core::arch::asm;

use super::errno::{self, Errno};
use super::fs::filetype;
use super::os::{DirEntry, OpenSpec, Opened, Os, Stat, Stdio};

/// The raw-syscall backend.
#[derive(Debug)]
pub(crate) struct RawOs;

/// An owned file descriptor, closed on drop.
#[derive(Debug)]
pub(crate) struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: `close` of a descriptor this value owns.
        let _ = unsafe { sys(3, [self.0 as usize, 0, 0, 0, 0, 0]) };
    }
}

/// Why a host directory could not be granted: a Linux errno.
#[derive(Debug)]
pub struct OsError(pub i32);

impl core::fmt::Display for OsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.0 {
            2 => "no such file or directory",
            13 => "permission denied",
            20 => "not a directory",
            40 => "too many levels of symbolic links",
            _ => "error",
        };
        f.write_str(what)?;
        // By hand, not `{}` of an i32: no integer-formatting code in the size-built loader.
        f.write_str(" (os error ")?;
        if self.0 < 0 {
            f.write_str("-")?;
        }
        crate::error::write_decimal(f, u64::from(self.0.unsigned_abs()))?;
        f.write_str(")")
    }
}

// System call numbers (x86-64).
const READ: usize = 0;
const WRITE: usize = 1;
const FSTAT: usize = 5;
const LSEEK: usize = 8;
const IOCTL: usize = 16;
const PREAD64: usize = 17;
const PWRITE64: usize = 18;
const SCHED_YIELD: usize = 24;
const NANOSLEEP: usize = 35;
const FSYNC: usize = 74;
const FTRUNCATE: usize = 77;
const GETDENTS64: usize = 217;
const CLOCK_GETTIME: usize = 228;
const OPENAT: usize = 257;
const MKDIRAT: usize = 258;
const NEWFSTATAT: usize = 262;
const UNLINKAT: usize = 263;
const RENAMEAT: usize = 264;
const READLINKAT: usize = 267;
const GETRANDOM: usize = 318;
const OPENAT2: usize = 437;

const O_RDONLY: u64 = 0;
const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
const O_DIRECTORY: u64 = 0o200000;
const O_NOFOLLOW: u64 = 0o400000;
const O_CLOEXEC: u64 = 0o2000000;
const O_PATH: u64 = 0o10000000;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_BENEATH: u64 = 0x08;
const AT_SYMLINK_NOFOLLOW: usize = 0x100;
const AT_REMOVEDIR: usize = 0x200;
const AT_FDCWD: isize = -100;
const EINTR: isize = 4;
const EAGAIN: isize = 11;
const EXDEV: isize = 18;

/// One system call; a negative errno becomes `Err(errno)`.
///
/// # Safety
/// The arguments must be valid for system call `n` (pointers live for the lengths given).
unsafe fn sys(n: usize, a: [usize; 6]) -> Result<usize, isize> {
    let r: isize;
    // SAFETY: the x86-64 Linux system call convention; the kernel clobbers rcx and r11 only.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => r,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if (-4095..0).contains(&r) {
        Err(-r)
    } else {
        Ok(r as usize)
    }
}

/// [`sys`], retried on `EINTR`, errors as WASI errnos (`EXDEV` from the resolver:
/// `NOTCAPABLE`).
///
/// # Safety
/// As [`sys`].
unsafe fn call(n: usize, a: [usize; 6]) -> Result<usize, Errno> {
    loop {
        // SAFETY: forwarded.
        match unsafe { sys(n, a) } {
            Err(EINTR) => continue,
            Err(EXDEV) => return Err(errno::NOTCAPABLE),
            Err(e) => return Err(errno::from_raw(e as i32)),
            Ok(v) => return Ok(v),
        }
    }
}

/// `path` with a NUL appended.
fn cstr(path: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(path.len() + 1);
    v.extend_from_slice(path);
    v.push(0);
    v
}

/// `openat2(dir, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`.
fn open_beneath(dir: i32, path: &[u8], flags: u64) -> Result<Fd, Errno> {
    let c = cstr(path);
    // struct open_how { u64 flags; u64 mode; u64 resolve; }
    let how: [u64; 3] = [
        flags | O_CLOEXEC,
        if flags & O_CREAT != 0 { 0o666 } else { 0 },
        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    ];
    let mut tries = 0;
    loop {
        // SAFETY: `c` is NUL-terminated and `how` is a live `open_how` of its size.
        let r = unsafe {
            sys(
                OPENAT2,
                [
                    dir as usize,
                    c.as_ptr() as usize,
                    how.as_ptr() as usize,
                    24,
                    0,
                    0,
                ],
            )
        };
        match r {
            Ok(fd) => return Ok(Fd(fd as i32)),
            // A concurrent rename somewhere on the system: the kernel asks to retry.
            Err(EAGAIN | EINTR) if tries < 16 => tries += 1,
            Err(EXDEV) => return Err(errno::NOTCAPABLE),
            Err(e) => return Err(errno::from_raw(e as i32)),
        }
    }
}

/// A parent directory resolved beneath a descriptor and a final component.
struct Parent {
    /// The parent, if not the descriptor itself (`O_PATH`, closed on drop).
    fd: Option<Fd>,
    /// The descriptor it was resolved from.
    base_fd: i32,
    /// The final component, trailing slashes kept, NUL-terminated.
    name: Vec<u8>,
}

impl Parent {
    fn fd(&self) -> usize {
        self.fd.as_ref().map_or(self.base_fd, |f| f.0) as usize
    }

    fn name(&self) -> usize {
        self.name.as_ptr() as usize
    }
}

/// Splits `path` into its parent (resolved beneath `dir`, `O_PATH`) and the final component.
fn at_parent(dir: &Fd, path: &[u8]) -> Result<Parent, Errno> {
    let trimmed = match path.iter().rposition(|&b| b != b'/') {
        Some(i) => &path[..=i],
        None => path,
    };
    let (parent, base) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    let last = base.split(|&b| b == b'/').next().unwrap_or(base);
    let (fd, name) = if last == b"." || last == b".." {
        (
            Some(open_beneath(dir.0, path, O_PATH | O_DIRECTORY)?),
            cstr(b"."),
        )
    } else if parent.is_empty() {
        (None, cstr(base))
    } else {
        (
            Some(open_beneath(dir.0, parent, O_PATH | O_DIRECTORY)?),
            cstr(base),
        )
    };
    Ok(Parent {
        fd,
        base_fd: dir.0,
        name,
    })
}

/// System call `n` (`mkdirat`, `unlinkat`) on the final component of `path` beneath `dir`
/// (its parent resolved by [`at_parent`]) with third argument `arg`.
#[inline(never)]
fn at_call(dir: &Fd, path: &[u8], n: usize, arg: usize) -> Result<(), Errno> {
    let p = at_parent(dir, path)?;
    // SAFETY: the name is NUL-terminated; `mkdirat` and `unlinkat` take no other pointer.
    unsafe { call(n, [p.fd(), p.name(), arg, 0, 0, 0]) }.map(drop)
}

/// The WASI file type of a `st_mode`.
fn filetype_of_mode(mode: u32) -> u8 {
    match mode & 0o170000 {
        0o040000 => filetype::DIRECTORY,
        0o100000 => filetype::REGULAR_FILE,
        0o120000 => filetype::SYMBOLIC_LINK,
        0o020000 => filetype::CHARACTER_DEVICE,
        0o060000 => filetype::BLOCK_DEVICE,
        0o140000 => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// The fields of x86-64 `struct stat` (144 bytes) WASI reports.
fn stat_of(b: &[u64; 18]) -> Stat {
    let ns = |s: u64, n: u64| s.wrapping_mul(1_000_000_000).wrapping_add(n);
    Stat {
        dev: b[0],
        ino: b[1],
        nlink: b[2],
        filetype: filetype_of_mode(b[3] as u32),
        size: b[6],
        atim: ns(b[9], b[10]),
        mtim: ns(b[11], b[12]),
        ctim: ns(b[13], b[14]),
    }
}

fn fstat(fd: i32) -> Result<Stat, Errno> {
    let mut b = [0u64; 18];
    // SAFETY: `b` is 144 bytes, the size of `struct stat`.
    unsafe { call(FSTAT, [fd as usize, b.as_mut_ptr() as usize, 0, 0, 0, 0]) }?;
    Ok(stat_of(&b))
}

fn fstatat(dir: i32, name: &[u8], flags: usize) -> Result<Stat, Errno> {
    let mut b = [0u64; 18];
    // SAFETY: `name` is NUL-terminated; `b` is a `struct stat`.
    unsafe {
        call(
            NEWFSTATAT,
            [
                dir as usize,
                name.as_ptr() as usize,
                b.as_mut_ptr() as usize,
                flags,
                0,
                0,
            ],
        )
    }?;
    Ok(stat_of(&b))
}

fn write_all_fd(fd: i32, mut buf: &[u8], mut off: Option<u64>) -> Result<(), Errno> {
    while !buf.is_empty() {
        let n = match off {
            // SAFETY: `buf` is live for its length.
            None => unsafe {
                call(
                    WRITE,
                    [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0],
                )
            },
            // SAFETY: as above.
            Some(o) => unsafe {
                call(
                    PWRITE64,
                    [
                        fd as usize,
                        buf.as_ptr() as usize,
                        buf.len(),
                        o as usize,
                        0,
                        0,
                    ],
                )
            },
        }?;
        if n == 0 {
            return Err(errno::IO);
        }
        buf = &buf[n..];
        off = off.map(|o| o + n as u64);
    }
    Ok(())
}

fn read_fd(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is live and writable for its length.
    unsafe {
        call(
            READ,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    }
}

fn clock(id: usize) -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: `ts` is a `struct timespec`.
    let _ = unsafe { call(CLOCK_GETTIME, [id, ts.as_mut_ptr() as usize, 0, 0, 0, 0]) };
    ts[0].wrapping_mul(1_000_000_000).wrapping_add(ts[1])
}

fn stdio_fd(s: Stdio) -> i32 {
    match s {
        Stdio::In => 0,
        Stdio::Out => 1,
        Stdio::Err => 2,
    }
}

impl Os for RawOs {
    type Dir = Fd;
    type File = Fd;
    type Instant = u64;
    type Error = OsError;

    fn open_host_dir(path: &[u8]) -> Result<Fd, OsError> {
        if super::has_nul(path) {
            return Err(OsError(22));
        }
        let c = cstr(path);
        // SAFETY: `c` is NUL-terminated.
        let r = unsafe {
            sys(
                OPENAT,
                [
                    AT_FDCWD as usize,
                    c.as_ptr() as usize,
                    (O_RDONLY | O_DIRECTORY | O_CLOEXEC) as usize,
                    0,
                    0,
                    0,
                ],
            )
        };
        r.map(|fd| Fd(fd as i32)).map_err(|e| OsError(e as i32))
    }

    fn open_dir_at(dir: &Fd, path: &[u8], follow: bool) -> Result<Fd, Errno> {
        let nofollow = if follow { 0 } else { O_NOFOLLOW };
        open_beneath(dir.0, path, O_RDONLY | O_DIRECTORY | nofollow)
    }

    fn open_at(dir: &Fd, path: &[u8], s: &OpenSpec) -> Result<Opened<Fd, Fd>, Errno> {
        // std's OpenOptions rules (the std backend's behaviour).
        if s.append && s.trunc && !s.excl {
            return Err(errno::INVAL);
        }
        if !s.write && !s.append && (s.trunc || s.create) {
            return Err(errno::INVAL);
        }
        let mut flags = match (s.read, s.write || s.append) {
            (true, true) => O_RDWR,
            (false, true) => O_WRONLY,
            _ => O_RDONLY,
        };
        if s.append {
            flags |= O_APPEND;
        }
        if s.create {
            flags |= if s.excl { O_CREAT | O_EXCL } else { O_CREAT };
        }
        if s.trunc {
            flags |= O_TRUNC;
        }
        if !s.follow {
            flags |= O_NOFOLLOW;
        }
        let fd = open_beneath(dir.0, path, flags)?;
        if fstat(fd.0)?.filetype == filetype::DIRECTORY {
            Ok(Opened::Dir(fd))
        } else {
            Ok(Opened::File(fd))
        }
    }

    fn read(f: &mut Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        read_fd(f.0, buf)
    }

    fn write_all(f: &mut Fd, buf: &[u8]) -> Result<(), Errno> {
        write_all_fd(f.0, buf, None)
    }

    fn pread(f: &Fd, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        // SAFETY: `buf` is live and writable for its length.
        unsafe {
            call(
                PREAD64,
                [
                    f.0 as usize,
                    buf.as_mut_ptr() as usize,
                    buf.len(),
                    off as usize,
                    0,
                    0,
                ],
            )
        }
    }

    fn pwrite_all(f: &Fd, buf: &[u8], off: u64) -> Result<(), Errno> {
        write_all_fd(f.0, buf, Some(off))
    }

    fn seek(f: &mut Fd, off: i64, whence: u32) -> Result<u64, Errno> {
        // SAFETY: no pointers.
        unsafe {
            call(
                LSEEK,
                [f.0 as usize, off as usize, whence as usize, 0, 0, 0],
            )
        }
        .map(|p| p as u64)
    }

    fn sync(f: &Fd) -> Result<(), Errno> {
        // SAFETY: no pointers.
        unsafe { call(FSYNC, [f.0 as usize, 0, 0, 0, 0, 0]) }.map(drop)
    }

    fn set_len(f: &Fd, len: u64) -> Result<(), Errno> {
        let len = i64::try_from(len).map_err(|_| errno::INVAL)?;
        // SAFETY: no pointers.
        unsafe { call(FTRUNCATE, [f.0 as usize, len as usize, 0, 0, 0, 0]) }.map(drop)
    }

    fn file_stat(f: &Fd) -> Result<Stat, Errno> {
        fstat(f.0)
    }

    fn dir_stat(d: &Fd) -> Result<Stat, Errno> {
        fstat(d.0)
    }

    fn stat_at(dir: &Fd, path: &[u8], follow: bool) -> Result<Stat, Errno> {
        if follow {
            fstat(open_beneath(dir.0, path, O_PATH)?.0)
        } else {
            let p = at_parent(dir, path)?;
            fstatat(p.fd() as i32, &p.name, AT_SYMLINK_NOFOLLOW)
        }
    }

    fn read_dir(dir: &Fd) -> Result<Vec<DirEntry>, Errno> {
        // A fresh descriptor of the same directory, so the listing starts at the beginning.
        let d = open_beneath(dir.0, b".", O_RDONLY | O_DIRECTORY)?;
        let mut out = Vec::new();
        let mut buf = alloc::vec![0u8; 4096];
        loop {
            // SAFETY: `buf` is live and writable for its length.
            let n = unsafe {
                call(
                    GETDENTS64,
                    [d.0 as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
                )
            }?;
            if n == 0 {
                return Ok(out);
            }
            let mut at = 0;
            // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
            while at < n {
                let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
                if reclen < 20 || at + reclen > n {
                    // Not a kernel record: refuse rather than read past it.
                    return Err(errno::IO);
                }
                let rec = &buf[at..at + reclen];
                let name_z = &rec[19..];
                let len = name_z.iter().position(|&b| b == 0).unwrap_or(name_z.len());
                let name = &name_z[..len];
                at += reclen;
                if name == b"." || name == b".." {
                    continue;
                }
                let ft = match rec[18] {
                    4 => filetype::DIRECTORY,
                    8 => filetype::REGULAR_FILE,
                    10 => filetype::SYMBOLIC_LINK,
                    _ => filetype::UNKNOWN,
                };
                // Entry metadata is an `fstatat` without following; 0 if the entry vanished.
                let ino = fstatat(d.0, &cstr(name), AT_SYMLINK_NOFOLLOW)
                    .map(|s| s.ino)
                    .unwrap_or(0);
                out.push((name.to_vec(), ino, ft));
            }
        }
    }

    fn read_link_at(dir: &Fd, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let p = at_parent(dir, path)?;
        // A link's text is shorter than PATH_MAX (4096): one call with a buffer that size.
        let mut buf = alloc::vec![0u8; 4096];
        // SAFETY: the name is NUL-terminated; `buf` is writable for its length.
        let n = unsafe {
            call(
                READLINKAT,
                [p.fd(), p.name(), buf.as_mut_ptr() as usize, buf.len(), 0, 0],
            )
        }?;
        if n >= buf.len() {
            return Err(errno::NAMETOOLONG);
        }
        buf.truncate(n);
        Ok(buf)
    }

    fn mkdir_at(dir: &Fd, path: &[u8]) -> Result<(), Errno> {
        at_call(dir, path, MKDIRAT, 0o777)
    }

    fn rmdir_at(dir: &Fd, path: &[u8]) -> Result<(), Errno> {
        at_call(dir, path, UNLINKAT, AT_REMOVEDIR)
    }

    fn unlink_at(dir: &Fd, path: &[u8]) -> Result<(), Errno> {
        at_call(dir, path, UNLINKAT, 0)
    }

    fn rename_at(from: &Fd, fp: &[u8], to: &Fd, tp: &[u8]) -> Result<(), Errno> {
        let (f, t) = (at_parent(from, fp)?, at_parent(to, tp)?);
        // SAFETY: both names are NUL-terminated.
        unsafe { call(RENAMEAT, [f.fd(), f.name(), t.fd(), t.name(), 0, 0]) }.map(drop)
    }

    fn stdin_read(buf: &mut [u8]) -> Result<usize, Errno> {
        read_fd(0, buf)
    }

    fn stdio_write(s: Stdio, buf: &[u8]) -> Result<(), Errno> {
        write_all_fd(stdio_fd(s), buf, None)
    }

    fn stdout_flush() -> Result<(), Errno> {
        Ok(())
    }

    fn is_tty(s: Stdio) -> bool {
        let mut termios = [0u8; 64];
        // SAFETY: TCGETS writes a `struct termios` (60 bytes) into `termios`.
        unsafe {
            sys(
                IOCTL,
                [
                    stdio_fd(s) as usize,
                    0x5401,
                    termios.as_mut_ptr() as usize,
                    0,
                    0,
                    0,
                ],
            )
        }
        .is_ok()
    }

    fn now() -> u64 {
        clock(1)
    }

    fn elapsed_ns(start: &u64) -> u64 {
        clock(1).wrapping_sub(*start)
    }

    fn realtime_ns() -> Result<u64, Errno> {
        Ok(clock(0))
    }

    fn random(mut buf: &mut [u8]) -> Result<(), Errno> {
        while !buf.is_empty() {
            // SAFETY: `buf` is live and writable for its length.
            let n = unsafe {
                call(
                    GETRANDOM,
                    [buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0, 0],
                )
            }?;
            buf = &mut buf[n..];
        }
        Ok(())
    }

    fn sleep_ns(ns: u64) {
        let mut ts = [ns / 1_000_000_000, ns % 1_000_000_000];
        loop {
            let p = ts.as_mut_ptr() as usize;
            // SAFETY: `ts` is a `struct timespec`, read and (remaining time) written.
            match unsafe { sys(NANOSLEEP, [p, p, 0, 0, 0, 0]) } {
                Err(EINTR) => continue,
                _ => return,
            }
        }
    }

    fn yield_now() {
        // SAFETY: no arguments.
        let _ = unsafe { sys(SCHED_YIELD, [0; 6]) };
    }
}
