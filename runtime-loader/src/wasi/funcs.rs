//! The preview1 functions. Each takes the context, the guest memory and the array-ABI
//! parameter slots, and returns the errno to hand back (or a trap, for `proc_exit`).
//! Host access goes through the OS seam ([`super::os::Os`], backend [`Sys`]).

use alloc::vec::Vec;

use super::errno::{self, Errno};
use super::fs::{self, ALL_RIGHTS, FdEntry, FdKind, filetype};
use super::mem::GuestMem;
use super::os::{Dir, File, OpenSpec, Opened, Os, Stdio, Sys};
use super::{Strings, WasiCtx};
use crate::abi::TrapCode;

/// The parameter slots of one call, copied into a fixed array (zero past the function's
/// parameters) so that reading parameter `i` is one load, with no bounds check.
pub(crate) type Args = [u64; super::PARAMS_MAX];

/// WASI `oflags`.
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const OFLAGS_EXCL: u32 = 4;
const OFLAGS_TRUNC: u32 = 8;
/// WASI `fdflags::append`.
const FDFLAGS_APPEND: u32 = 1;
/// WASI `lookupflags::symlink_follow`.
const LOOKUP_FOLLOW: u32 = 1;

fn done(r: Result<(), Errno>) -> Result<Errno, TrapCode> {
    Ok(r.err().unwrap_or(errno::SUCCESS))
}

#[inline(always)]
fn a32(v: &Args, i: usize) -> u32 {
    v[i] as u32
}

#[inline(always)]
fn a64(v: &Args, i: usize) -> u64 {
    v[i]
}

impl WasiCtx {
    fn fd(&self, fd: u32) -> Result<&FdEntry, Errno> {
        self.fds
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(errno::BADF)
    }

    fn fd_mut(&mut self, fd: u32) -> Result<&mut FdEntry, Errno> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(errno::BADF)
    }

    fn file(&mut self, fd: u32) -> Result<&mut File, Errno> {
        match &mut self.fd_mut(fd)?.kind {
            FdKind::File(f) => Ok(f),
            FdKind::Dir { .. } => Err(errno::ISDIR),
            _ => Err(errno::SPIPE),
        }
    }

    fn dir(&self, fd: u32) -> Result<&Dir, Errno> {
        match &self.fd(fd)?.kind {
            FdKind::Dir { dir, .. } => Ok(dir),
            _ => Err(errno::NOTDIR),
        }
    }

    /// Directory descriptor `fd` and the guest path at `ptr` (`len` bytes, borrowed from
    /// guest memory) relative to it: every access goes through the `Dir` (see `fs`).
    fn at<'m>(
        &self,
        mem: &'m GuestMem<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
    ) -> Result<(&Dir, &'m [u8]), Errno> {
        let dir = self.dir(fd)?;
        Ok((dir, fs::guest_path(mem.slice(ptr, len)?)?))
    }

    fn alloc_fd(&mut self, e: FdEntry) -> Result<u32, Errno> {
        let i = match self.fds.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.fds.push(None);
                self.fds.len() - 1
            }
        };
        let fd = u32::try_from(i).map_err(|_| errno::MFILE)?;
        self.fds[i] = Some(e);
        Ok(fd)
    }
}

// ---------------------------------------------------------------- args, environment

fn strings_sizes(
    list: &Strings,
    mem: &mut GuestMem<'_>,
    count_ptr: u32,
    size_ptr: u32,
) -> Result<(), Errno> {
    mem.write_u32(count_ptr, list.count)?;
    mem.write_u32(
        size_ptr,
        u32::try_from(list.bytes.len()).map_err(|_| errno::NOMEM)?,
    )
}

/// The strings in one copy to `buf`, then a pointer to each at `ptrs`.
fn strings_get(list: &Strings, mem: &mut GuestMem<'_>, ptrs: u32, buf: u32) -> Result<(), Errno> {
    // No strings: nothing is written, no pointer checked.
    if !list.bytes.is_empty() {
        mem.write(buf, &list.bytes)?;
    }
    // `buf + bytes.len()` is inside the memory (the write above), so `at` cannot wrap
    // before the last string.
    let (mut at, mut p) = (buf, ptrs);
    for s in list.bytes.split_inclusive(|&b| b == 0) {
        mem.write_u32(p, at)?;
        p = p.checked_add(4).ok_or(errno::FAULT)?;
        at = at.wrapping_add(s.len() as u32);
    }
    Ok(())
}

pub(crate) fn args_get(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done(strings_get(&c.args, m, a32(v, 0), a32(v, 1)))
}

pub(crate) fn args_sizes_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done(strings_sizes(&c.args, m, a32(v, 0), a32(v, 1)))
}

pub(crate) fn environ_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done(strings_get(&c.env, m, a32(v, 0), a32(v, 1)))
}

pub(crate) fn environ_sizes_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done(strings_sizes(&c.env, m, a32(v, 0), a32(v, 1)))
}

// ---------------------------------------------------------------- clocks, random, process

fn clock_now(c: &WasiCtx, id: u32) -> Result<u64, Errno> {
    match id {
        // Realtime.
        0 => Sys::realtime_ns(),
        // Monotonic, process and thread CPU time: time since the context was created
        // (plus one, so it is never zero).
        1..=3 => Ok(Sys::elapsed_ns(&c.start) + 1),
        _ => Err(errno::INVAL),
    }
}

pub(crate) fn clock_res_get(
    _c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done(match a32(v, 0) {
        0..=3 => m.write_u64(a32(v, 1), 1),
        _ => Err(errno::INVAL),
    })
}

pub(crate) fn clock_time_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done(clock_now(c, a32(v, 0)).and_then(|t| m.write_u64(a32(v, 2), t)))
}

pub(crate) fn random_get(
    _c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| Sys::random(m.slice_mut(a32(v, 0), a32(v, 1))?))())
}

pub(crate) fn proc_exit(
    c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    c.exit_status = Some(a32(v, 0));
    Err(TrapCode::Exit)
}

pub(crate) fn sched_yield(
    _c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    _v: &Args,
) -> Result<Errno, TrapCode> {
    Sys::yield_now();
    Ok(errno::SUCCESS)
}

/// Not provided: `NOSYS`.
pub(crate) fn nosys(_c: &mut WasiCtx, _m: &mut GuestMem<'_>, _v: &Args) -> Result<Errno, TrapCode> {
    Ok(errno::NOSYS)
}

/// `poll_oneoff`: clock subscriptions sleep until the earliest deadline; descriptor
/// subscriptions are reported ready at once (every descriptor here is blocking).
pub(crate) fn poll_oneoff(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (subs, events, n, nevents_ptr) = (a32(v, 0), a32(v, 1), a32(v, 2), a32(v, 3));
        if n == 0 {
            return Err(errno::INVAL);
        }
        // A copy: the events written below may overlap the subscriptions.
        let sub_bytes = m
            .slice(subs, n.checked_mul(48).ok_or(errno::FAULT)?)?
            .to_vec();
        m.slice(events, n.checked_mul(32).ok_or(errno::FAULT)?)?;
        let mut ready: u32 = 0;
        // One event record: userdata, error, type (the rest zero).
        let event = |m: &mut GuestMem<'_>, i: u32, userdata: u64, ty: u8, err: u16| {
            let mut e = [0u8; 32];
            e[..8].copy_from_slice(&userdata.to_le_bytes());
            e[8..10].copy_from_slice(&err.to_le_bytes());
            e[10] = ty;
            m.write(events + 32 * i, &e)
        };
        let mut earliest: Option<(u64, u64)> = None; // (deadline ns, userdata)
        for s in sub_bytes.chunks_exact(48) {
            let mut f = [0u64; 6];
            for (w, b) in f.iter_mut().zip(s.chunks_exact(8)) {
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                *w = u64::from_le_bytes(le);
            }
            // userdata @0, tag @8, clock id / fd @16, timeout @24, flags @40.
            let (userdata, tag, id) = (f[0], f[1] as u8, f[2] as u32);
            match tag {
                0 => {
                    let now = clock_now(c, id)?;
                    let wait = if f[5] & 1 != 0 {
                        f[3].saturating_sub(now)
                    } else {
                        f[3]
                    };
                    if earliest.is_none_or(|(w, _)| wait < w) {
                        earliest = Some((wait, userdata));
                    }
                }
                1 | 2 => {
                    let err = if c.fd(id).is_ok() {
                        0
                    } else {
                        errno::BADF.0 as u16
                    };
                    event(m, ready, userdata, tag, err)?;
                    ready += 1;
                }
                _ => return Err(errno::INVAL),
            }
        }
        if let (0, Some((wait, userdata))) = (ready, earliest) {
            Sys::sleep_ns(wait);
            event(m, 0, userdata, 0, 0)?;
            ready = 1;
        }
        m.write_u32(nevents_ptr, ready)
    })())
}

// ---------------------------------------------------------------- descriptors

/// The length of the next iovec (`len` bytes) cut to what is `left` of the call's
/// [`fs::MAX_RW`] bytes (a short transfer, as Linux does), so one call never moves more than
/// that nor overflows the `u32` count. The callers stop once nothing is left.
pub(crate) fn capped(left: &mut u32, len: u32) -> u32 {
    let take = len.min(*left);
    *left -= take;
    take
}

/// `fd_write`: each iovec is written straight from guest memory (no buffer of the total).
pub(crate) fn fd_write(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done((|| {
        let (fd, iovs, n, out) = (a32(v, 0), a32(v, 1), a32(v, 2), a32(v, 3));
        m.check_iovecs(iovs, n)?;
        // `None`: the file of the descriptor, else that standard stream.
        let (stdio, mut file) = match &mut c.fd_mut(fd)?.kind {
            FdKind::Stdout => (Some(Stdio::Out), None),
            FdKind::Stderr => (Some(Stdio::Err), None),
            FdKind::File(f) => (None, Some(f)),
            FdKind::Dir { .. } => return Err(errno::ISDIR),
            FdKind::Stdin => return Err(errno::BADF),
        };
        let (mut total, mut left) = (0u32, fs::MAX_RW as u32);
        for i in 0..n {
            if left == 0 {
                break;
            }
            let (p, l) = m.iovec(iovs, i)?;
            let l = capped(&mut left, l);
            let b = m.slice(p, l)?;
            match (stdio, &mut file) {
                (Some(s), _) => Sys::stdio_write(s, b)?,
                (None, Some(f)) => Sys::write_all(f, b)?,
                (None, None) => return Err(errno::BADF),
            }
            total += l;
        }
        if stdio == Some(Stdio::Out) {
            Sys::stdout_flush()?;
        }
        m.write_u32(out, total)
    })())
}

/// `fd_read`: straight into each iovec, stopping at the first short read.
pub(crate) fn fd_read(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done((|| {
        let (fd, iovs, n, out) = (a32(v, 0), a32(v, 1), a32(v, 2), a32(v, 3));
        m.check_iovecs(iovs, n)?;
        // `None`: standard input, else the descriptor's file.
        let mut file = match &mut c.fd_mut(fd)?.kind {
            FdKind::Stdin => None,
            FdKind::File(f) => Some(f),
            FdKind::Dir { .. } => return Err(errno::ISDIR),
            FdKind::Stdout | FdKind::Stderr => return Err(errno::BADF),
        };
        let (mut total, mut left) = (0u32, fs::MAX_RW as u32);
        for i in 0..n {
            if left == 0 {
                break;
            }
            let (p, l) = m.iovec(iovs, i)?;
            let l = capped(&mut left, l);
            let buf = m.slice_mut(p, l)?;
            let got = match &mut file {
                None => Sys::stdin_read(buf)?,
                Some(f) => Sys::read(f, buf)?,
            };
            total += got as u32;
            if got < buf.len() {
                break;
            }
        }
        m.write_u32(out, total)
    })())
}

pub(crate) fn fd_pread(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    positioned(c, m, v, false)
}

pub(crate) fn fd_pwrite(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    positioned(c, m, v, true)
}

/// `fd_pread` / `fd_pwrite` (`write`): `(fd, iovs, iovs_len, offset, nbytes_out)`, each iovec
/// at the offset so far, a read stopping at the first short one. One body for both.
#[inline(never)]
fn positioned(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
    write: bool,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (fd, iovs, n, mut off, out) = (a32(v, 0), a32(v, 1), a32(v, 2), a64(v, 3), a32(v, 4));
        m.check_iovecs(iovs, n)?;
        let f = c.file(fd)?;
        let (mut total, mut left) = (0u32, fs::MAX_RW as u32);
        for i in 0..n {
            if left == 0 {
                break;
            }
            let (p, l) = m.iovec(iovs, i)?;
            let l = capped(&mut left, l);
            let got = if write {
                Sys::pwrite_all(f, m.slice(p, l)?, off)?;
                l as usize
            } else {
                Sys::pread(f, m.slice_mut(p, l)?, off)?
            };
            total += got as u32;
            let past = if write { errno::FBIG } else { errno::INVAL };
            off = off.checked_add(got as u64).ok_or(past)?;
            if got < l as usize {
                break;
            }
        }
        m.write_u32(out, total)
    })())
}

pub(crate) fn fd_seek(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done((|| {
        let (fd, off, whence, out) = (a32(v, 0), a64(v, 1) as i64, a32(v, 2), a32(v, 3));
        if whence > 2 || (whence == 0 && off < 0) {
            return Err(errno::INVAL);
        }
        let p = Sys::seek(c.file(fd)?, off, whence)?;
        m.write_u64(out, p)
    })())
}

pub(crate) fn fd_tell(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done((|| {
        let p = Sys::seek(c.file(a32(v, 0))?, 0, 1)?;
        m.write_u64(a32(v, 1), p)
    })())
}

pub(crate) fn fd_close(
    c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let fd = a32(v, 0);
        c.fd(fd)?;
        c.fds[fd as usize] = None;
        Ok(())
    })())
}

pub(crate) fn fd_renumber(
    c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (from, to) = (a32(v, 0), a32(v, 1));
        c.fd(from)?;
        c.fd(to)?;
        let e = c.fds[from as usize].take();
        c.fds[to as usize] = e;
        Ok(())
    })())
}

pub(crate) fn fd_sync(c: &mut WasiCtx, _m: &mut GuestMem<'_>, v: &Args) -> Result<Errno, TrapCode> {
    done((|| Sys::sync(c.file(a32(v, 0))?))())
}

pub(crate) fn fd_advise(
    c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    // Advice is optional; only the descriptor and the advice value are checked.
    done((|| {
        c.file(a32(v, 0))?;
        if a32(v, 3) > 5 {
            return Err(errno::INVAL);
        }
        Ok(())
    })())
}

pub(crate) fn fd_filestat_set_size(
    c: &mut WasiCtx,
    _m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| Sys::set_len(c.file(a32(v, 0))?, a64(v, 1)))())
}

fn stdio_is_tty(k: &FdKind) -> bool {
    match k {
        FdKind::Stdin => Sys::is_tty(Stdio::In),
        FdKind::Stdout => Sys::is_tty(Stdio::Out),
        FdKind::Stderr => Sys::is_tty(Stdio::Err),
        _ => false,
    }
}

pub(crate) fn fd_fdstat_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let e = c.fd(a32(v, 0))?;
        let ft = match &e.kind {
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => {
                if stdio_is_tty(&e.kind) {
                    filetype::CHARACTER_DEVICE
                } else {
                    filetype::UNKNOWN
                }
            }
            FdKind::Dir { .. } => filetype::DIRECTORY,
            FdKind::File(f) => Sys::file_stat(f)
                .map(|md| md.filetype)
                .unwrap_or(filetype::REGULAR_FILE),
        };
        let mut b = [0u8; 24];
        b[0] = ft;
        b[2..4].copy_from_slice(&e.flags.to_le_bytes());
        b[8..16].copy_from_slice(&e.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&e.rights_inheriting.to_le_bytes());
        m.write(a32(v, 1), &b)
    })())
}

pub(crate) fn fd_filestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let b = match &c.fd(a32(v, 0))?.kind {
            FdKind::File(f) => fs::filestat_bytes(&Sys::file_stat(f)?),
            FdKind::Dir { dir, .. } => fs::filestat_bytes(&Sys::dir_stat(dir)?),
            k => {
                let mut b = [0u8; 64];
                b[16] = if stdio_is_tty(k) {
                    filetype::CHARACTER_DEVICE
                } else {
                    filetype::UNKNOWN
                };
                b
            }
        };
        m.write(a32(v, 1), &b)
    })())
}

pub(crate) fn fd_prestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| match &c.fd(a32(v, 0))?.kind {
        FdKind::Dir {
            preopen: Some(name),
            ..
        } => {
            let mut b = [0u8; 8];
            b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
            m.write(a32(v, 1), &b)
        }
        _ => Err(errno::BADF),
    })())
}

pub(crate) fn fd_prestat_dir_name(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| match &c.fd(a32(v, 0))?.kind {
        FdKind::Dir {
            preopen: Some(name),
            ..
        } => {
            if (a32(v, 2) as usize) < name.len() {
                return Err(errno::NAMETOOLONG);
            }
            m.write(a32(v, 1), name)
        }
        _ => Err(errno::BADF),
    })())
}

pub(crate) fn fd_readdir(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (fd, buf, len, cookie, used_ptr) =
            (a32(v, 0), a32(v, 1), a32(v, 2), a64(v, 3), a32(v, 4));
        m.slice(buf, len)?;
        let dir = c.dir(fd)?;
        let me = Sys::dir_stat(dir)?;
        // Listed through the descriptor itself: the directory it refers to, wherever it is.
        let mut rest = Sys::read_dir(dir)?;
        // A stable order, so cookies (indices) stay valid between calls.
        sort_by_name(&mut rest);
        // Each record (a 24-byte `dirent`, then the name) straight into the buffer, the
        // last one cut at its end. Entry `i` is `.`, `..`, then the listing.
        let mut used: u32 = 0;
        for i in cookie..(rest.len() as u64).saturating_add(2) {
            if used >= len {
                break;
            }
            let (name, ino, ft) = match i {
                0 => (&b"."[..], me.ino, filetype::DIRECTORY),
                1 => (&b".."[..], 0, filetype::DIRECTORY),
                _ => match rest.get((i - 2) as usize) {
                    Some((n, ino, ft)) => (&n[..], *ino, *ft),
                    None => break,
                },
            };
            let mut h = [0u8; 24];
            h[..8].copy_from_slice(&(i + 1).to_le_bytes());
            h[8..16].copy_from_slice(&ino.to_le_bytes());
            h[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            h[20] = ft;
            for part in [&h[..], name] {
                let n = part.len().min((len - used) as usize);
                m.write(buf.wrapping_add(used), &part[..n])?;
                used += n as u32;
            }
        }
        m.write_u32(used_ptr, used)
    })())
}

/// Sorts directory entries by name (unique within a directory, so this is the order of
/// `sort` on the whole tuples). A heap sort: O(n log n), in place, and small (the standard
/// stable sort adds ~3 KB to the size-built `bareflow-load`).
pub(crate) fn sort_by_name(v: &mut [(Vec<u8>, u64, u8)]) {
    fn sift(v: &mut [(Vec<u8>, u64, u8)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child].0 < v[child + 1].0 {
                child += 1;
            }
            if v[root].0 >= v[child].0 {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

// ---------------------------------------------------------------- paths

/// `path_open`. One open beneath the directory descriptor, then the result is classified by
/// `fstat` of what was opened (no check-then-open gap): a directory becomes a directory
/// descriptor, anything else a file descriptor. Without `LOOKUPFLAGS_SYMLINK_FOLLOW` a final
/// symbolic link is not followed (`LOOP`).
pub(crate) fn path_open(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (dirfd, lookup, path, path_len, oflags) =
            (a32(v, 0), a32(v, 1), a32(v, 2), a32(v, 3), a32(v, 4));
        let (rights, rights_inh, fdflags, out) = (a64(v, 5), a64(v, 6), a32(v, 7), a32(v, 8));
        m.slice(out, 4)?;
        let follow = lookup & LOOKUP_FOLLOW != 0;
        let write = rights & fs::RIGHT_FD_WRITE != 0 || fdflags & FDFLAGS_APPEND != 0;
        let (dir, p) = c.at(m, dirfd, path, path_len)?;
        let kind = if oflags & OFLAGS_DIRECTORY != 0 {
            let d = Sys::open_dir_at(dir, p, follow)?;
            // An existing directory cannot be created, truncated or written.
            if oflags & (OFLAGS_CREAT | OFLAGS_EXCL) == OFLAGS_CREAT | OFLAGS_EXCL {
                return Err(errno::EXIST);
            }
            if oflags & (OFLAGS_CREAT | OFLAGS_TRUNC) != 0 || write {
                return Err(errno::ISDIR);
            }
            FdKind::Dir {
                dir: d,
                preopen: None,
            }
        } else {
            let append = fdflags & FDFLAGS_APPEND != 0;
            let create = oflags & OFLAGS_CREAT != 0;
            let trunc = oflags & OFLAGS_TRUNC != 0;
            let o = OpenSpec {
                read: rights & fs::RIGHT_FD_READ != 0 || !write,
                write: (write && !append) || (create && !write) || trunc,
                append,
                create,
                excl: create && oflags & OFLAGS_EXCL != 0,
                trunc,
                follow,
            };
            match Sys::open_at(dir, p, &o)? {
                Opened::Dir(d) => FdKind::Dir {
                    dir: d,
                    preopen: None,
                },
                Opened::File(f) => FdKind::File(f),
            }
        };
        let base = c.fd(dirfd)?.rights_inheriting;
        let fd = c.alloc_fd(FdEntry {
            kind,
            rights_base: rights & base & ALL_RIGHTS,
            rights_inheriting: rights_inh & base & ALL_RIGHTS,
            flags: (fdflags & 0x1f) as u16,
        })?;
        m.write_u32(out, fd)
    })())
}

pub(crate) fn path_filestat_get(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let follow = a32(v, 1) & LOOKUP_FOLLOW != 0;
        let (dir, p) = c.at(m, a32(v, 0), a32(v, 2), a32(v, 3))?;
        let md = Sys::stat_at(dir, p, follow)?;
        m.write(a32(v, 4), &fs::filestat_bytes(&md))
    })())
}

pub(crate) fn path_readlink(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (dir, p) = c.at(m, a32(v, 0), a32(v, 1), a32(v, 2))?;
        // The link's text as stored (it is data; following it is what gets checked).
        let bytes = Sys::read_link_at(dir, p)?;
        let n = bytes.len().min(a32(v, 4) as usize);
        m.write(a32(v, 3), &bytes[..n])?;
        m.write_u32(a32(v, 5), n as u32)
    })())
}

/// What [`path_at`] does with the path.
#[derive(Clone, Copy)]
enum PathOp {
    Mkdir,
    Rmdir,
    Unlink,
}

/// `path_create_directory`, `path_remove_directory` and `path_unlink_file`: `(fd, path,
/// path_len)`, one operation on the path beneath the descriptor. One body for the three.
#[inline(never)]
fn path_at(c: &mut WasiCtx, m: &mut GuestMem<'_>, v: &Args, op: PathOp) -> Result<Errno, TrapCode> {
    done((|| {
        let (dir, p) = c.at(m, a32(v, 0), a32(v, 1), a32(v, 2))?;
        match op {
            PathOp::Mkdir => Sys::mkdir_at(dir, p),
            PathOp::Rmdir => Sys::rmdir_at(dir, p),
            PathOp::Unlink => Sys::unlink_at(dir, p),
        }
    })())
}

pub(crate) fn path_create_directory(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    path_at(c, m, v, PathOp::Mkdir)
}

pub(crate) fn path_remove_directory(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    path_at(c, m, v, PathOp::Rmdir)
}

pub(crate) fn path_unlink_file(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    path_at(c, m, v, PathOp::Unlink)
}

pub(crate) fn path_rename(
    c: &mut WasiCtx,
    m: &mut GuestMem<'_>,
    v: &Args,
) -> Result<Errno, TrapCode> {
    done((|| {
        let (from_dir, from) = c.at(m, a32(v, 0), a32(v, 1), a32(v, 2))?;
        let (to_dir, to) = c.at(m, a32(v, 3), a32(v, 4), a32(v, 5))?;
        Sys::rename_at(from_dir, from, to_dir, to)
    })())
}
