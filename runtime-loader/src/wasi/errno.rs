//! WASI preview1 `errno` values (from wasi-libc's `wasi/api.h`) and the host `io::Error` →
//! errno mapping.

/// A WASI errno value (0 = success). Preview1's `errno` is a `u16`; it is held in a `u64`
/// so that a `Result<_, Errno>` travels in plain registers with no packing into 32 bits
/// (measured: -1,088 bytes of the size-built `bareflow-load` against a `u16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u64);

/// No error.
pub const SUCCESS: Errno = Errno(0);
/// Permission denied.
pub const ACCES: Errno = Errno(2);
/// Resource unavailable, try again.
pub const AGAIN: Errno = Errno(6);
/// Bad file descriptor.
pub const BADF: Errno = Errno(8);
/// File exists.
pub const EXIST: Errno = Errno(20);
/// Bad address (a guest pointer outside linear memory).
pub const FAULT: Errno = Errno(21);
/// File too large.
pub const FBIG: Errno = Errno(22);
/// Invalid argument.
pub const INVAL: Errno = Errno(28);
/// I/O error.
pub const IO: Errno = Errno(29);
/// Is a directory.
pub const ISDIR: Errno = Errno(31);
/// Too many levels of symbolic links.
pub const LOOP: Errno = Errno(32);
/// File descriptor value too large.
pub const MFILE: Errno = Errno(33);
/// Too many links.
pub const MLINK: Errno = Errno(34);
/// Filename too long.
pub const NAMETOOLONG: Errno = Errno(37);
/// No such file or directory.
pub const NOENT: Errno = Errno(44);
/// Not enough space.
pub const NOMEM: Errno = Errno(48);
/// No space left on device.
pub const NOSPC: Errno = Errno(51);
/// Function not supported.
pub const NOSYS: Errno = Errno(52);
/// Not a directory.
pub const NOTDIR: Errno = Errno(54);
/// Directory not empty.
pub const NOTEMPTY: Errno = Errno(55);
/// Not supported.
pub const NOTSUP: Errno = Errno(58);
/// Operation not permitted.
pub const PERM: Errno = Errno(63);
/// Broken pipe.
pub const PIPE: Errno = Errno(64);
/// Read-only file system.
pub const ROFS: Errno = Errno(69);
/// Invalid seek.
pub const SPIPE: Errno = Errno(70);
/// Cross-device link.
pub const XDEV: Errno = Errno(75);
/// Capabilities insufficient (a path escaping its directory).
pub const NOTCAPABLE: Errno = Errno(76);

/// WASI errno of each Linux errno number below 41 (`IO` where there is no closer one).
const FROM_LINUX: [u8; 41] = {
    let mut t = [IO.0 as u8; 41];
    let pairs: [(usize, Errno); 23] = [
        (1, PERM),
        (2, NOENT),
        (5, IO),
        (9, BADF),
        (11, AGAIN),
        (12, NOMEM),
        (13, ACCES),
        (17, EXIST),
        (18, XDEV),
        (20, NOTDIR),
        (21, ISDIR),
        (22, INVAL),
        (24, MFILE),
        (27, FBIG),
        (28, NOSPC),
        (29, SPIPE),
        (30, ROFS),
        (31, MLINK),
        (32, PIPE),
        (36, NAMETOOLONG),
        (38, NOSYS),
        (39, NOTEMPTY),
        (40, LOOP),
    ];
    let mut i = 0;
    while i < pairs.len() {
        t[pairs[i].0] = pairs[i].1.0 as u8;
        i += 1;
    }
    t
};

/// Maps a Linux errno number to the closest WASI errno (a table, not a `match`).
pub fn from_raw(e: i32) -> Errno {
    match usize::try_from(e).ok().and_then(|i| FROM_LINUX.get(i)) {
        Some(&w) => Errno(u64::from(w)),
        None if e == 95 => NOTSUP,
        None => IO,
    }
}

/// Maps a host I/O error to the closest WASI errno (Linux errno numbers, [`from_raw`]).
///
/// cap-std reports a path that would leave its directory (an absolute or climbing symlink,
/// `..` above the base, `openat2`'s `EXDEV` under `RESOLVE_BENEATH`) as a `PermissionDenied`
/// error without an OS errno: that is `NOTCAPABLE`.
#[cfg(feature = "wasi")]
pub fn from_io(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(n) => from_raw(n),
        None => match e.kind() {
            std::io::ErrorKind::PermissionDenied => NOTCAPABLE,
            std::io::ErrorKind::NotFound => NOENT,
            std::io::ErrorKind::AlreadyExists => EXIST,
            std::io::ErrorKind::InvalidInput => INVAL,
            _ => IO,
        },
    }
}
