//! WASI preview1 `errno` values (from wasi-libc's `wasi/api.h`) and the host `io::Error` →
//! errno mapping.

/// A WASI errno value (0 = success).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u16);

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

/// Maps a host I/O error to the closest WASI errno (Linux errno numbers).
///
/// cap-std reports a path that would leave its directory (an absolute or climbing symlink,
/// `..` above the base, `openat2`'s `EXDEV` under `RESOLVE_BENEATH`) as a `PermissionDenied`
/// error without an OS errno: that is `NOTCAPABLE`.
pub fn from_io(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(1) => PERM,
        Some(2) => NOENT,
        Some(5) => IO,
        Some(9) => BADF,
        Some(11) => AGAIN,
        Some(12) => NOMEM,
        Some(13) => ACCES,
        Some(17) => EXIST,
        Some(18) => XDEV,
        Some(20) => NOTDIR,
        Some(21) => ISDIR,
        Some(22) => INVAL,
        Some(24) => MFILE,
        Some(27) => FBIG,
        Some(28) => NOSPC,
        Some(29) => SPIPE,
        Some(30) => ROFS,
        Some(31) => MLINK,
        Some(32) => PIPE,
        Some(36) => NAMETOOLONG,
        Some(38) => NOSYS,
        Some(39) => NOTEMPTY,
        Some(40) => LOOP,
        Some(95) => NOTSUP,
        Some(_) => IO,
        None => match e.kind() {
            std::io::ErrorKind::PermissionDenied => NOTCAPABLE,
            std::io::ErrorKind::NotFound => NOENT,
            std::io::ErrorKind::AlreadyExists => EXIST,
            std::io::ErrorKind::InvalidInput => INVAL,
            _ => IO,
        },
    }
}
