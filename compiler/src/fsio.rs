//! Reading inputs and writing outputs safely (issue #14 items 5 and 6).
//!
//! * [`read_input`] reads a whole input file (`.wasm`, `.wat`, `.wast`, snapshots, profiles,
//!   keys) but refuses devices (`/dev/zero` would never end), directories and anything larger
//!   than [`MAX_INPUT_BYTES`]; a FIFO or pipe is read up to that limit.
//! * [`write_output`] writes an output file so that a reader sees the old content or the new,
//!   never half of it: the bytes go to a temporary file with an unpredictable name created in
//!   the target's directory with `O_CREAT|O_EXCL|O_NOFOLLOW` (`tempfile`), are synced, then
//!   renamed over the target. A planted symlink can never redirect the write, the temporary
//!   file is removed on every error path, and
//!   - an existing non-regular target (a character or block device, a FIFO: `-o /dev/null`)
//!     is opened and written directly, never replaced by a regular file;
//!   - an existing read-only target (no write bit in its mode, checked explicitly because
//!     root ignores permission bits, or one the kernel will not let us open for writing) is
//!     refused with a clear error and left unchanged;
//!   - an existing regular target keeps its permission bits; a new one gets `0666 & !umask`.
//!
//! The output bytes are computed before the temporary file is created, so a compile killed
//! while compiling leaves nothing behind; only a kill (SIGKILL) during the write itself can
//! leave the randomly named `.NAME.XXXXXX.tmp` beside the target.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

/// Largest input file [`read_input`] accepts: 256 MiB.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

/// Reads the whole of `path`, at most [`MAX_INPUT_BYTES`].
///
/// # Errors
/// The open/read error, or an error naming the problem for a directory, a device or a file
/// larger than the limit.
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    read_input_limited(path, MAX_INPUT_BYTES)
}

/// [`read_input`] with an explicit size limit in bytes.
///
/// # Errors
/// As for [`read_input`].
pub fn read_input_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let md = f.metadata()?;
    let ft = md.file_type();
    if ft.is_dir() {
        return Err(other("is a directory".into()));
    }
    if ft.is_char_device() || ft.is_block_device() || ft.is_socket() {
        return Err(other("not a regular file (a device or socket)".into()));
    }
    let too_big = || other(format!("larger than the input limit of {limit} bytes"));
    if ft.is_file() && md.len() > limit {
        return Err(too_big());
    }
    let mut data = Vec::new();
    if ft.is_file() {
        data.reserve(md.len() as usize);
    }
    f.take(limit + 1).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(data)
}

/// [`read_input`] as UTF-8 text.
///
/// # Errors
/// As for [`read_input`], or `InvalidData` for bytes that are not UTF-8.
pub fn read_input_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read_input(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Writes `bytes` to `path` as described in the module documentation.
///
/// # Errors
/// I/O errors, and a clear error for a read-only target, a directory or a socket.
pub fn write_output(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(md) => {
            let ft = md.file_type();
            if ft.is_dir() {
                return Err(other(format!("{} is a directory", path.display())));
            }
            if ft.is_socket() {
                return Err(other(format!("{} is a socket", path.display())));
            }
            if !ft.is_file() {
                // A device or FIFO: write through it, never rename over it.
                let mut f = OpenOptions::new().write(true).open(path)?;
                return f.write_all(bytes);
            }
            refuse_read_only(path, &md)?;
            // Replace the file a symlink at `path` points to, not the link.
            let target = fs::canonicalize(path)?;
            let mode = md.permissions().mode() & 0o7777;
            replace(&target, bytes, Permissions::from_mode(mode), true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            replace(path, bytes, Permissions::from_mode(0o666), false)
        }
        Err(e) => Err(e),
    }
}

/// Creates `path` with `bytes` and permissions `mode` (before the umask), failing with
/// `AlreadyExists` if anything (even a dangling symlink) is there; `path` appears complete
/// or not at all.
///
/// # Errors
/// I/O errors; `AlreadyExists` as above.
pub fn create_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = temp_in(path, Permissions::from_mode(mode))?;
    let tmp = fill(tmp, bytes)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

/// Refuses a regular target that is read-only: no write bit at all in its mode (checked by
/// hand, root ignores the bits) or one the kernel does not let us open for writing.
fn refuse_read_only(path: &Path, md: &fs::Metadata) -> io::Result<()> {
    let read_only = || other(format!("{} is read-only; not replacing it", path.display()));
    if md.permissions().mode() & 0o222 == 0 {
        return Err(read_only());
    }
    // Opening for writing (without truncating) changes nothing; it asks the kernel whether
    // we may write the file, as access(W_OK) would.
    match OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(read_only()),
        Err(e) => Err(e),
    }
}

/// A fresh temporary file beside `path` (`.NAME.XXXXXX.tmp`, random, `O_EXCL|O_NOFOLLOW`).
fn temp_in(path: &Path, perms: Permissions) -> io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(perms)
        .tempfile_in(dir)
}

/// Writes and syncs the temporary file (dropping it, which removes it, on error).
fn fill(mut tmp: tempfile::NamedTempFile, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

fn replace(path: &Path, bytes: &[u8], perms: Permissions, exact: bool) -> io::Result<()> {
    let tmp = temp_in(path, perms.clone())?;
    if exact {
        // The umask applied at creation; an existing target keeps its exact bits.
        tmp.as_file().set_permissions(perms)?;
    }
    let tmp = fill(tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
