//! WASI preview1 (`wasi_snapshot_preview1`) host functions, written once for every tier.
//!
//! A [`WasiCtx`] holds what the guest may see: arguments, environment, the descriptor table
//! (stdin/stdout/stderr and the preopened directories granted with
//! [`WasiCtx::preopen_dir`]), and the exit status set by `proc_exit`. Nothing else of the
//! host is reachable: by default there are no files and no environment variables.
//!
//! Each function of [`FUNCS`] is an [`ArrayFn`](crate::abi::ArrayFn) ([`WasiFunc::entry`],
//! one for all, dispatching on `FuncRef::func_index`) whose `FuncRef::host_data` is the
//! `*mut WasiCtx`, so the snapshot loader binds them as plain `FuncRef`s; the compiler's
//! store calls the same implementations through [`WasiCtx::invoke`]. A host function does
//! not get the caller's vmctx, so the guest memory is bound once after instantiation with
//! [`WasiCtx::bind_memory`] (the exported `memory`); it is re-read at every call, so growth
//! is seen.
//!
//! Every guest pointer and length is checked against the memory (`FAULT` otherwise);
//! functions not provided return `NOSYS`; `proc_exit` records the status and returns
//! [`TrapCode::Exit`], which unwinds the guest like a trap.
//!
//! The host side goes through a small OS seam (`os::Os`): cap-std and std with feature
//! `wasi`, raw Linux x86-64 system calls with feature `tiny-wasi` alone (no std, for the
//! size-built `bareflow-load`). The functions here are the same in both builds.

#[cfg(target_arch = "x86_64")]
pub mod command;
mod errno;
mod fs;
mod funcs;
mod mem;
mod os;
#[cfg(not(feature = "wasi"))]
mod os_raw;
#[cfg(feature = "wasi")]
mod os_std;

use alloc::string::String;
use alloc::vec::Vec;

use crate::abi::{FuncRef, MemoryDef, TrapCode, VMContext};
use crate::meta::ValType;

pub use errno::Errno;
/// Why the host could not open a granted directory.
#[cfg(feature = "wasi")]
pub type OsError = std::io::Error;
use fs::{ALL_RIGHTS, FdEntry, FdKind};
use os::{Os, Sys};
#[cfg(not(feature = "wasi"))]
pub use os_raw::OsError;

/// The import module name of WASI preview1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Longest preview1 parameter list (`path_open`).
const PARAMS_MAX: usize = 9;

/// One WASI function: name and signature, in 8 bytes with no pointers (so the table needs no
/// load-time relocations in a position-independent binary). The name is a range of
/// `NAMES` (all names in one string); parameters are `i32` or `i64` (bit `i` of `wide` set: parameter `i` is `i64`),
/// the result the `i32` errno (none for `proc_exit`).
pub struct WasiFunc {
    name_at: u16,
    wide: u16,
    name_len: u8,
    n_params: u8,
    n_results: u8,
}

/// Value types of a [`WasiFunc`]'s parameters or results (a slice through `Deref`).
#[derive(Clone, Copy, Debug)]
pub struct Types {
    tys: [ValType; PARAMS_MAX],
    n: u8,
}

impl core::ops::Deref for Types {
    type Target = [ValType];
    fn deref(&self) -> &[ValType] {
        &self.tys[..usize::from(self.n).min(PARAMS_MAX)]
    }
}

impl core::fmt::Debug for WasiFunc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiFunc")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl WasiFunc {
    const EMPTY: WasiFunc = WasiFunc {
        name_at: 0,
        wide: 0,
        name_len: 0,
        n_params: 0,
        n_results: 0,
    };

    /// The entry of `name` (at `name_at` in [`NAMES`]); parameters `i32` or `i64` only.
    const fn new(name_at: usize, name: &str, params: &[ValType], results: &[ValType]) -> Self {
        let mut wide = 0u16;
        let mut i = 0;
        while i < params.len() {
            match params[i] {
                ValType::I32 => {}
                ValType::I64 => wide |= 1 << i,
                _ => panic!("a preview1 parameter is i32 or i64"),
            }
            i += 1;
        }
        assert!(params.len() <= PARAMS_MAX && results.len() <= 1 && name_at < 1 << 16);
        assert!(results.is_empty() || matches!(results[0], ValType::I32));
        WasiFunc {
            name_at: name_at as u16,
            wide,
            name_len: name.len() as u8,
            n_params: params.len() as u8,
            n_results: results.len() as u8,
        }
    }

    /// Position in [`FUNCS`] (every `WasiFunc` is an entry of it: there is no other way to
    /// get one).
    pub fn index(&self) -> usize {
        (self as *const WasiFunc as usize - FUNCS.as_ptr() as usize)
            / core::mem::size_of::<WasiFunc>()
    }

    fn name_bytes(&self) -> &'static [u8] {
        let at = usize::from(self.name_at);
        NAMES
            .as_bytes()
            .get(at..at + usize::from(self.name_len))
            .unwrap_or(&[])
    }

    /// Import name inside [`MODULE`].
    pub fn name(&self) -> &'static str {
        core::str::from_utf8(self.name_bytes()).unwrap_or("")
    }

    /// Parameter types.
    pub fn params(&self) -> Types {
        let mut tys = [ValType::I32; PARAMS_MAX];
        for (i, t) in tys.iter_mut().enumerate() {
            if self.wide >> i & 1 != 0 {
                *t = ValType::I64;
            }
        }
        Types {
            tys,
            n: self.n_params,
        }
    }

    /// Result types (`[i32]` errno, or none for `proc_exit`).
    pub fn results(&self) -> Types {
        Types {
            tys: [ValType::I32; PARAMS_MAX],
            n: self.n_results,
        }
    }

    /// Number of 8-byte slots the array ABI needs for this function.
    pub fn slots(&self) -> usize {
        usize::from(self.n_params.max(self.n_results))
    }

    /// The array-ABI entry: one function for all of [`FUNCS`], which runs
    /// `FUNCS[callee.func_index]`; so `FuncRef::func_index` must be this function's
    /// [`index`](WasiFunc::index) and `FuncRef::host_data` a `*mut WasiCtx`.
    pub fn entry(&self) -> crate::abi::ArrayFn {
        entry
    }
}

/// The function named `name`, if preview1 has it.
pub fn lookup(name: &str) -> Option<&'static WasiFunc> {
    FUNCS.iter().find(|f| f.name_bytes() == name.as_bytes())
}

/// The array-ABI entry of every function (see [`WasiFunc::entry`]): runs
/// `FUNCS[callee.func_index]` (a bad index is `HostError`).
///
/// # Safety
/// `callee` must be a live `FuncRef` whose `host_data` is a live `*mut WasiCtx` not
/// otherwise borrowed, and `values` must hold that function's `slots()` slots.
unsafe extern "C" fn entry(
    _vmctx: *mut VMContext,
    callee: *const FuncRef,
    values: *mut u64,
) -> u32 {
    // SAFETY: per the contract `callee` is live.
    let (ctx, i) = unsafe { ((*callee).host_data, (*callee).func_index as usize) };
    let ctx = ctx as *mut WasiCtx;
    let Some(f) = FUNCS.get(i) else {
        return TrapCode::HostError as u32;
    };
    if ctx.is_null() || values.is_null() {
        return TrapCode::HostError as u32;
    }
    // SAFETY: per the contract the buffer has `slots()` slots and the context is live and
    // unaliased for the duration of the call.
    unsafe {
        let vals = core::slice::from_raw_parts_mut(values, f.slots());
        (*ctx).invoke(i, vals)
    }
}

macro_rules! wasi_table {
    ($($idx:literal $name:literal ($($p:ident),*) $(-> $r:ident)? => $imp:path;)*) => {
        /// Every preview1 function name, one after the other (see [`WasiFunc`]).
        const NAMES: &str = concat!($($name),*);

        /// Every preview1 function, in a fixed order (`FUNCS[i].index() == i`).
        pub static FUNCS: &[WasiFunc] = &{
            const SPECS: &[(&str, &[ValType], &[ValType])] =
                &[$(($name, &[$(ValType::$p),*], &[$(ValType::$r)?])),*];
            let mut out = [WasiFunc::EMPTY; SPECS.len()];
            let (mut i, mut at) = (0, 0);
            while i < SPECS.len() {
                out[i] = WasiFunc::new(at, SPECS[i].0, SPECS[i].1, SPECS[i].2);
                at += SPECS[i].0.len();
                i += 1;
            }
            out
        };

        /// Runs the implementation of `FUNCS[i]` (`None`: no such function). A `match` of
        /// direct calls, not a table of function pointers: no load-time relocations.
        fn run(
            i: usize,
            c: &mut WasiCtx,
            m: &mut mem::GuestMem<'_>,
            v: &funcs::Args,
        ) -> Option<Result<Errno, TrapCode>> {
            Some(match i {
                $($idx => $imp(c, m, v),)*
                _ => return None,
            })
        }
    };
}

wasi_table! {
    0 "args_get" (I32, I32) -> I32 => funcs::args_get;
    1 "args_sizes_get" (I32, I32) -> I32 => funcs::args_sizes_get;
    2 "environ_get" (I32, I32) -> I32 => funcs::environ_get;
    3 "environ_sizes_get" (I32, I32) -> I32 => funcs::environ_sizes_get;
    4 "clock_res_get" (I32, I32) -> I32 => funcs::clock_res_get;
    5 "clock_time_get" (I32, I64, I32) -> I32 => funcs::clock_time_get;
    6 "fd_advise" (I32, I64, I64, I32) -> I32 => funcs::fd_advise;
    7 "fd_allocate" (I32, I64, I64) -> I32 => funcs::nosys;
    8 "fd_close" (I32) -> I32 => funcs::fd_close;
    9 "fd_datasync" (I32) -> I32 => funcs::fd_sync;
    10 "fd_fdstat_get" (I32, I32) -> I32 => funcs::fd_fdstat_get;
    11 "fd_fdstat_set_flags" (I32, I32) -> I32 => funcs::nosys;
    12 "fd_fdstat_set_rights" (I32, I64, I64) -> I32 => funcs::nosys;
    13 "fd_filestat_get" (I32, I32) -> I32 => funcs::fd_filestat_get;
    14 "fd_filestat_set_size" (I32, I64) -> I32 => funcs::fd_filestat_set_size;
    15 "fd_filestat_set_times" (I32, I64, I64, I32) -> I32 => funcs::nosys;
    16 "fd_pread" (I32, I32, I32, I64, I32) -> I32 => funcs::fd_pread;
    17 "fd_prestat_get" (I32, I32) -> I32 => funcs::fd_prestat_get;
    18 "fd_prestat_dir_name" (I32, I32, I32) -> I32 => funcs::fd_prestat_dir_name;
    19 "fd_pwrite" (I32, I32, I32, I64, I32) -> I32 => funcs::fd_pwrite;
    20 "fd_read" (I32, I32, I32, I32) -> I32 => funcs::fd_read;
    21 "fd_readdir" (I32, I32, I32, I64, I32) -> I32 => funcs::fd_readdir;
    22 "fd_renumber" (I32, I32) -> I32 => funcs::fd_renumber;
    23 "fd_seek" (I32, I64, I32, I32) -> I32 => funcs::fd_seek;
    24 "fd_sync" (I32) -> I32 => funcs::fd_sync;
    25 "fd_tell" (I32, I32) -> I32 => funcs::fd_tell;
    26 "fd_write" (I32, I32, I32, I32) -> I32 => funcs::fd_write;
    27 "path_create_directory" (I32, I32, I32) -> I32 => funcs::path_create_directory;
    28 "path_filestat_get" (I32, I32, I32, I32, I32) -> I32 => funcs::path_filestat_get;
    29 "path_filestat_set_times" (I32, I32, I32, I32, I64, I64, I32) -> I32 => funcs::nosys;
    30 "path_link" (I32, I32, I32, I32, I32, I32, I32) -> I32 => funcs::nosys;
    31 "path_open" (I32, I32, I32, I32, I32, I64, I64, I32, I32) -> I32 => funcs::path_open;
    32 "path_readlink" (I32, I32, I32, I32, I32, I32) -> I32 => funcs::path_readlink;
    33 "path_remove_directory" (I32, I32, I32) -> I32 => funcs::path_remove_directory;
    34 "path_rename" (I32, I32, I32, I32, I32, I32) -> I32 => funcs::path_rename;
    35 "path_symlink" (I32, I32, I32, I32, I32) -> I32 => funcs::nosys;
    36 "path_unlink_file" (I32, I32, I32) -> I32 => funcs::path_unlink_file;
    37 "poll_oneoff" (I32, I32, I32, I32) -> I32 => funcs::poll_oneoff;
    38 "proc_exit" (I32) => funcs::proc_exit;
    39 "proc_raise" (I32) -> I32 => funcs::nosys;
    40 "random_get" (I32, I32) -> I32 => funcs::random_get;
    41 "sched_yield" () -> I32 => funcs::sched_yield;
    42 "sock_accept" (I32, I32, I32) -> I32 => funcs::nosys;
    43 "sock_recv" (I32, I32, I32, I32, I32, I32) -> I32 => funcs::nosys;
    44 "sock_send" (I32, I32, I32, I32, I32) -> I32 => funcs::nosys;
    45 "sock_shutdown" (I32, I32) -> I32 => funcs::nosys;
}

/// Why a [`WasiCtx`] could not be set up.
#[derive(Debug)]
pub enum WasiError {
    /// A preopened directory does not exist or is not a directory.
    BadDir {
        /// The host path as given.
        path: String,
        /// What went wrong (`std::io::Error` with feature `wasi`).
        error: OsError,
    },
    /// An environment entry has no `=` or contains a NUL byte.
    BadEnv(String),
    /// An argument contains a NUL byte.
    BadArg(String),
}

impl core::fmt::Display for WasiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Pieces, not `{}` of strings: no padding code in the size-built loader.
        let (a, s, b) = match self {
            WasiError::BadDir { path, error } => {
                f.write_str("cannot grant directory `")?;
                f.write_str(path)?;
                f.write_str("`: ")?;
                return core::fmt::Display::fmt(error, f);
            }
            WasiError::BadEnv(e) => ("environment entry `", e, "` is not KEY=VALUE"),
            WasiError::BadArg(a) => ("argument `", a, "` contains a NUL byte"),
        };
        f.write_str(a)?;
        f.write_str(s)?;
        f.write_str(b)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WasiError {}

/// True if `b` holds a NUL byte (a plain loop: `contains` would bring in `memchr`).
#[allow(clippy::manual_contains)] // `contains` is the memchr this avoids (-288 bytes)
pub(crate) fn has_nul(b: &[u8]) -> bool {
    b.iter().any(|&c| c == 0)
}

/// Arguments or environment entries as the guest gets them: each string NUL-terminated, one
/// after the other in one buffer (the layout `args_get` / `environ_get` write), and their
/// count.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    bytes: Vec<u8>,
    count: u32,
}

impl Strings {
    fn push(&mut self, s: &[u8]) {
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        self.count += 1;
    }
}

/// The state a WASI guest sees (see the module docs).
#[derive(Debug)]
pub struct WasiCtx {
    args: Strings,
    env: Strings,
    fds: Vec<Option<FdEntry>>,
    exit_status: Option<u32>,
    memory: *mut MemoryDef,
    start: <Sys as Os>::Instant,
}

impl Default for WasiCtx {
    fn default() -> Self {
        WasiCtx::new()
    }
}

impl WasiCtx {
    /// A context with stdin/stdout/stderr, no arguments, no environment and no directories.
    pub fn new() -> WasiCtx {
        let std_fd = |kind, rights| {
            Some(FdEntry {
                kind,
                rights_base: rights,
                rights_inheriting: 0,
                flags: 0,
            })
        };
        WasiCtx {
            args: Strings::default(),
            env: Strings::default(),
            fds: alloc::vec![
                std_fd(FdKind::Stdin, fs::RIGHT_FD_READ | fs::RIGHT_POLL),
                std_fd(FdKind::Stdout, fs::RIGHT_FD_WRITE | fs::RIGHT_POLL),
                std_fd(FdKind::Stderr, fs::RIGHT_FD_WRITE | fs::RIGHT_POLL),
            ],
            exit_status: None,
            memory: core::ptr::null_mut(),
            start: Sys::now(),
        }
    }

    /// Appends a program argument (`argv[0]` first, conventionally the program name).
    ///
    /// # Errors
    /// [`WasiError::BadArg`] if it contains a NUL byte.
    pub fn push_arg(&mut self, arg: &str) -> Result<(), WasiError> {
        // Byte loops, not `str::contains`: no memchr in the size-built loader.
        if has_nul(arg.as_bytes()) {
            return Err(WasiError::BadArg(arg.into()));
        }
        self.args.push(arg.as_bytes());
        Ok(())
    }

    /// Grants an environment variable given as `KEY=VALUE`.
    ///
    /// # Errors
    /// [`WasiError::BadEnv`] without `=`, with an empty key or with a NUL byte.
    pub fn push_env(&mut self, entry: &str) -> Result<(), WasiError> {
        let b = entry.as_bytes();
        match b.iter().position(|&c| c == b'=') {
            Some(k) if k > 0 && !has_nul(b) => {
                self.env.push(b);
                Ok(())
            }
            _ => Err(WasiError::BadEnv(entry.into())),
        }
    }

    /// Grants the host directory `host` to the guest under the name `guest` (the next free
    /// descriptor, from 3 on). The directory is opened now; the guest reaches only what is
    /// beneath that open directory, wherever it is later moved.
    ///
    /// # Errors
    /// [`WasiError::BadDir`] if `host` cannot be opened as a directory.
    #[cfg(feature = "std")]
    pub fn preopen_dir(&mut self, host: &std::path::Path, guest: &str) -> Result<(), WasiError> {
        use std::os::unix::ffi::OsStrExt;
        use std::string::ToString;
        self.preopen(host.as_os_str().as_bytes(), guest, || {
            host.display().to_string()
        })
    }

    /// [`WasiCtx::preopen_dir`] with the host path as bytes (`shown` names it in errors).
    fn preopen(
        &mut self,
        host: &[u8],
        guest: &str,
        shown: impl FnOnce() -> String,
    ) -> Result<(), WasiError> {
        let bad = |error| WasiError::BadDir {
            path: shown(),
            error,
        };
        // The one use of ambient authority: the host (not the guest) names the directory.
        let dir = Sys::open_host_dir(host).map_err(bad)?;
        self.fds.push(Some(FdEntry {
            kind: FdKind::Dir {
                dir,
                preopen: Some(guest.as_bytes().into()),
            },
            rights_base: ALL_RIGHTS,
            rights_inheriting: ALL_RIGHTS,
            flags: 0,
        }));
        Ok(())
    }

    /// Parses a wasmtime-style `--dir` value, `HOST[::GUEST]` (the guest name defaults to
    /// `HOST` as written), and grants it.
    ///
    /// # Errors
    /// As [`WasiCtx::preopen_dir`].
    pub fn grant_dir_spec(&mut self, spec: &str) -> Result<(), WasiError> {
        // `HOST::GUEST` split at the first `::` (by hand: no substring search code).
        let b = spec.as_bytes();
        let (host, guest) = match (0..b.len().saturating_sub(1)).find(|&i| &b[i..i + 2] == b"::") {
            Some(i) => (&spec[..i], &spec[i + 2..]),
            None => (spec, spec),
        };
        self.preopen(host.as_bytes(), guest, || host.into())
    }

    /// Binds the guest's linear memory (the instance's exported `memory`). Until bound, every
    /// access to guest memory fails with `FAULT`.
    ///
    /// # Safety
    /// `memory` must be null or stay a live `MemoryDef` for as long as the guest can call
    /// the WASI functions of this context.
    pub unsafe fn bind_memory(&mut self, memory: *mut MemoryDef) {
        self.memory = memory;
    }

    /// The status passed to `proc_exit`, once the guest called it.
    pub fn exit_status(&self) -> Option<u32> {
        self.exit_status
    }

    /// Runs `FUNCS[func]` with its parameters in `values` (array ABI: the errno result, if
    /// any, is written to `values[0]`). Returns 0, or a [`TrapCode`] value (`Exit` after
    /// `proc_exit`, `HostError` for a bad index or a short buffer).
    ///
    /// # Safety
    /// The bound memory (if any) must be live and not accessed by anything else during the
    /// call (true while a host function runs: the guest is suspended).
    pub unsafe fn invoke(&mut self, func: usize, values: &mut [u64]) -> u32 {
        let Some(f) = FUNCS.get(func) else {
            return TrapCode::HostError as u32;
        };
        let Some(params) = values.get(..f.slots()) else {
            return TrapCode::HostError as u32;
        };
        let mut args: funcs::Args = [0; PARAMS_MAX];
        args[..params.len()].copy_from_slice(params);
        // SAFETY: forwarded from the caller's contract and `bind_memory`'s.
        let mut mem = unsafe { mem::GuestMem::new(self.memory) };
        match run(func, self, &mut mem, &args) {
            None => TrapCode::HostError as u32,
            Some(Ok(e)) => {
                if f.n_results != 0 {
                    values[0] = e.0;
                }
                0
            }
            Some(Err(t)) => t as u32,
        }
    }
}

#[cfg(test)]
mod tests;
