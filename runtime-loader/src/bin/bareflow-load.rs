//! `bareflow-load [--require-signed] [--pubkey FILE] SNAP [--invoke NAME [ARGS...]]`: load a
//! snapshot with the tiny loader, instantiate it (running its start function) and optionally
//! call one exported function (a `v128` argument or result as `0x` and hex digits, as in
//! `bareflow run`), printing its results one per line. With `--pubkey` (feature
//! `sign`) the snapshot must carry an Ed25519 signature that verifies under that key, or
//! nothing of it is loaded; `--require-signed` refuses to run at all without `--pubkey`.
//! With feature `wasi` (std, cap-std) or `tiny-wasi` (no std: the same WASI functions over raw
//! syscalls) a snapshot importing WASI preview1 runs as a command:
//! `bareflow-load SNAP [--dir HOST[::GUEST]]... [--env K=V]... [-- ARGS...]`, exiting with its
//! status.
//!
//! Exit status: 0 success, 1 bad snapshot / trap / bad argument value (one `error:` or `trap:`
//! line on stderr), 2 usage error.
//!
//! Built small: `#![no_main]` with a C `main`, talking to libc through a handful of `extern "C"`
//! declarations, no argument-parsing crate. Without the `std` feature
//! (`--no-default-features --features alloc,unix`) and with `panic = "abort"` (the `min-size`
//! profile) it is also `#![no_std]`, with a malloc-backed allocator and an aborting panic
//! handler: that is the configuration `scripts/loader-size.sh` measures. (A no_std binary
//! cannot be built with unwinding panics, so other profiles link std.)
#![cfg_attr(all(not(feature = "std"), panic = "abort"), no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_char, c_void};
use core::fmt::Write;

use runtime_loader::LoadError;
use runtime_loader::code::MmapCodeMemory;
use runtime_loader::error::write_decimal;
use runtime_loader::instance::Imports;
use runtime_loader::loader::{LoadedModule, call};
use runtime_loader::meta::{ExportKind, ValType};
use runtime_loader::trap::{TrapContext, TrapFrames};

unsafe extern "C" {
    fn open(path: *const c_char, flags: i32, ...) -> i32;
    fn read(fd: i32, buf: *mut c_void, n: usize) -> isize;
    fn write(fd: i32, buf: *const c_void, n: usize) -> isize;
    fn close(fd: i32) -> i32;
}

#[cfg(all(not(feature = "std"), panic = "abort"))]
mod rt {
    use core::alloc::{GlobalAlloc, Layout};
    use core::ffi::c_void;

    unsafe extern "C" {
        fn malloc(n: usize) -> *mut c_void;
        fn aligned_alloc(align: usize, n: usize) -> *mut c_void;
        fn free(p: *mut c_void);
        fn abort() -> !;
    }

    struct Malloc;

    // SAFETY: malloc/aligned_alloc return blocks valid for the requested size and alignment
    // (malloc guarantees 16-byte alignment on x86-64 glibc/musl) or null; free releases them.
    unsafe impl GlobalAlloc for Malloc {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            // SAFETY: plain libc allocation calls with a non-zero-rounded size.
            unsafe {
                if l.align() <= 16 {
                    malloc(l.size().max(1)).cast()
                } else {
                    aligned_alloc(l.align(), l.size().next_multiple_of(l.align())).cast()
                }
            }
        }
        unsafe fn dealloc(&self, p: *mut u8, _: Layout) {
            // SAFETY: `p` came from `alloc` above.
            unsafe { free(p.cast()) }
        }
    }

    #[global_allocator]
    static ALLOC: Malloc = Malloc;

    // The prebuilt `alloc` crate was compiled with unwinding; with `panic = "abort"` these are
    // never called, but its landing pads still name them.
    /// Never called (see above).
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() {}

    /// Never called (see above).
    #[unsafe(no_mangle)]
    extern "C" fn _Unwind_Resume() -> ! {
        // SAFETY: abort never returns and needs no preconditions.
        unsafe { abort() }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        super::out(2, b"bareflow-load: internal error\n");
        // SAFETY: abort never returns and needs no preconditions.
        unsafe { abort() }
    }
}

fn out(fd: i32, b: &[u8]) {
    let mut b = b;
    while !b.is_empty() {
        // SAFETY: `b` is a live byte slice; write reads at most `b.len()` bytes of it.
        let n = unsafe { write(fd, b.as_ptr().cast(), b.len()) };
        if n <= 0 {
            return;
        }
        b = b.get(n as usize..).unwrap_or(&[]);
    }
}

/// A `fmt::Write` sink for one file descriptor (buffered per line).
struct Fd(i32, Vec<u8>);

impl Write for Fd {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.1.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        out(self.0, &self.1);
    }
}

#[cfg(not(any(feature = "wasi", feature = "tiny-wasi")))]
const USAGE: &str = "usage: bareflow-load [OPTIONS] [--] SNAPSHOT [ARGS...]\noptions: --invoke NAME (call it with ARGS, print its results), --fuel N, --timeout DUR,\n         --pubkey FILE, --require-signed, -h/--help, -V/--version\n";
#[cfg(any(feature = "wasi", feature = "tiny-wasi"))]
const USAGE: &str = "usage: bareflow-load [OPTIONS] [--] SNAPSHOT [ARGS...]\noptions: --invoke NAME (call it with ARGS, print its results; else a WASI command gets ARGS),\n         --dir HOST[::GUEST], --env KEY=VALUE, --fuel N, --timeout DUR,\n         --pubkey FILE, --require-signed, -h/--help, -V/--version\n";

fn fail(code: i32, kind: &str, msg: &dyn core::fmt::Display) -> i32 {
    // Pieces, not `{kind}`: `str`'s Display pulls in the padding code.
    let mut o = Fd(2, Vec::new());
    let _ = (
        o.write_str("bareflow-load: "),
        o.write_str(kind),
        o.write_str(": "),
    );
    let _ = writeln!(o, "{msg}");
    code
}

/// `fail` for a message in pieces: written byte for byte, no formatting machinery (and no
/// static table of pieces, each entry of which a position-independent binary relocates).
#[inline(never)]
fn fail_parts(code: i32, kind: &str, parts: &[&str]) -> i32 {
    let mut o = Fd(2, Vec::new());
    for p in ["bareflow-load: ", kind, ": "].iter().chain(parts) {
        o.1.extend_from_slice(p.as_bytes());
    }
    o.1.push(b'\n');
    code
}

/// `fail` for a plain message.
#[inline(never)]
fn fail_str(code: i32, kind: &str, msg: &str) -> i32 {
    fail_parts(code, kind, &[msg])
}

/// A number in decimal, as a piece of [`fail_parts`].
#[derive(Default)]
struct Digits([u8; 20]);

impl Digits {
    #[inline(never)]
    fn of(&mut self, mut v: u64) -> &str {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        core::str::from_utf8(&self.0[i..]).unwrap_or("")
    }
}

/// Largest file `bareflow-load` reads (snapshot, public key): 256 MiB. Reading stops there
/// with an error, so `/dev/zero` or an endless pipe cannot make it read (and allocate) forever.
const MAX_INPUT_BYTES: usize = 256 << 20;

/// Why [`read_file`] failed.
enum ReadError {
    /// The open or a read failed.
    Io,
    /// More than [`MAX_INPUT_BYTES`] bytes.
    TooLarge,
}

impl ReadError {
    /// The message, followed by what was read (`snapshot file`, `public key file`).
    fn text(&self) -> &'static str {
        match self {
            ReadError::Io => "cannot read",
            ReadError::TooLarge => "input limit (268435456 bytes) exceeded by",
        }
    }
}

// The message above spells MAX_INPUT_BYTES out.
const _: () = assert!(MAX_INPUT_BYTES == 268_435_456);

fn read_file(path: *const c_char) -> Result<Vec<u8>, ReadError> {
    // SAFETY: `path` is a NUL-terminated argv string; O_RDONLY = 0.
    let fd = unsafe { open(path, 0) };
    if fd < 0 {
        return Err(ReadError::Io);
    }
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let result = loop {
        // SAFETY: `chunk` is a live writable buffer of `chunk.len()` bytes.
        let n = unsafe { read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            break Err(ReadError::Io);
        }
        if n == 0 {
            break Ok(());
        }
        if data.len() + n as usize > MAX_INPUT_BYTES {
            break Err(ReadError::TooLarge);
        }
        match chunk.get(..n as usize) {
            Some(c) => data.extend_from_slice(c),
            None => break Err(ReadError::Io),
        }
    };
    // SAFETY: `fd` is open.
    unsafe { close(fd) };
    result.map(|()| data)
}

/// Integer literal: optional sign, decimal or `0x` hex, `_` separators; values up to
/// `2^bits - 1` wrap to the signed value.
fn parse_int(s: &str, bits: u32) -> Option<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => (16, h),
        None => (10, body),
    };
    let mut mag: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        mag = mag
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(d))?;
        any = true;
    }
    if !any {
        return None;
    }
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if neg {
        (mag <= 1u64 << (bits - 1)).then(|| mag.wrapping_neg() & max)
    } else {
        (mag <= max).then_some(mag)
    }
}

/// Exact powers of ten in `f64` (10^0 ..= 10^22 are exactly representable).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Float literal: `nan`, `inf`, or a decimal `[+-]digits[.digits][e[+-]digits]`.
///
/// Decimal conversion uses only the exact "fast path" (Clinger): the significand must fit
/// the format's mantissa (2^53 for f64, 2^24 for f32) and the power of ten its exact range
/// (10^22 / 10^10), so the one rounding done by the FPU is the correct one. Longer literals
/// are rejected rather than converted inexactly (core's full parser costs ~18 KB).
fn parse_float(s: &str, f32_: bool) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else {
        let (num, exp) = match body.find(['e', 'E']) {
            Some(i) => (body.get(..i)?, body.get(i + 1..)?),
            None => (body, "0"),
        };
        let mut exp = parse_int(exp, 32)? as u32 as i32 as i64;
        let mut m: u64 = 0;
        let (mut digits, mut dot) = (0, false);
        for c in num.chars() {
            match c {
                '.' if !dot => dot = true,
                '_' => {}
                _ => {
                    m = m.checked_mul(10)?.checked_add(u64::from(c.to_digit(10)?))?;
                    digits += 1;
                    if dot {
                        exp -= 1;
                    }
                }
            }
        }
        if digits == 0 {
            return None;
        }
        let (max_m, max_e) = if f32_ {
            (1u64 << 24, 10)
        } else {
            (1u64 << 53, 22)
        };
        if m > max_m || exp.abs() > max_e {
            return None;
        }
        let p = POW10[exp.unsigned_abs() as usize];
        if f32_ {
            let (mf, pf) = (m as f32, p as f32);
            f64::from(if exp < 0 { mf / pf } else { mf * pf })
        } else if exp < 0 {
            m as f64 / p
        } else {
            m as f64 * p
        }
    };
    Some(if neg { -v } else { v })
}

/// Writes `v` (an `f32` widened when `f32_`) as the shortest fixed-point decimal that
/// converts back to exactly `v` through the fast path above, else as its exact integer
/// value if it is one below 2^64; anything else is printed as raw bits (`bits 0x...`),
/// never inexactly. (core's shortest-float formatting costs ~12 KB.)
fn write_float(o: &mut Fd, v: f64, f32_: bool) {
    if v.is_nan() {
        let _ = o.write_str("NaN");
        return;
    }
    if v.is_sign_negative() {
        let _ = o.write_str("-");
    }
    let a = v.abs();
    if a.is_infinite() {
        let _ = o.write_str("inf");
        return;
    }
    let (max_m, max_k) = if f32_ {
        (1u64 << 24, 10)
    } else {
        (1u64 << 53, 22)
    };
    for (k, &p) in POW10.iter().enumerate().take(max_k + 1) {
        let scaled = a * p;
        if scaled >= max_m as f64 {
            break;
        }
        let m = (scaled + 0.5) as u64;
        let back = if f32_ {
            f64::from(m as f32 / p as f32)
        } else {
            m as f64 / p
        };
        if back == a {
            // `m` with a decimal point `k` digits from the right (zero-padded).
            let mut digits = [b'0'; 24];
            let (mut n, mut i) = (m, digits.len());
            while n > 0 || digits.len() - i <= k {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            let (int, frac) = digits[i..].split_at(digits.len() - i - k);
            o.1.extend_from_slice(int);
            if k > 0 {
                o.1.push(b'.');
                o.1.extend_from_slice(frac);
            }
            return;
        }
    }
    if a < 1.8e19 && (a as u64) as f64 == a {
        let _ = write_decimal(o, a as u64);
        return;
    }
    let bits = if f32_ {
        u64::from((v as f32).to_bits())
    } else {
        v.to_bits()
    };
    o.1.extend_from_slice(b"bits 0x");
    write_hex(o, bits);
}

/// Parses a command-line argument of type `ty` into its slots `out` (one, or two for a
/// `v128`, low half first; `out` is long enough).
#[inline(never)]
fn parse_arg(ty: ValType, s: &str, out: &mut [u64]) -> Option<()> {
    out[0] = match ty {
        ValType::I32 => parse_int(s, 32)?,
        ValType::I64 => parse_int(s, 64)?,
        ValType::F32 => u64::from((parse_float(s, true)? as f32).to_bits()),
        ValType::F64 => parse_float(s, false)?.to_bits(),
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => (s == "null").then_some(0)?,
        ValType::V128 => return parse_v128(s, out),
    };
    Some(())
}

/// A `v128` as `bareflow run --invoke` takes it: `0x` and hex digits, as many as fit 128
/// bits (lane 0 in the low bits), into `out[0]` (low half) and `out[1]`.
#[inline(never)]
fn parse_v128(s: &str, out: &mut [u64]) -> Option<()> {
    let h = s.strip_prefix("0x")?;
    // `u128::from_str_radix`, which `bareflow run` uses, takes a leading `+`.
    let h = h.strip_prefix('+').unwrap_or(h);
    let (mut hi, mut lo) = (0u64, 0u64);
    for c in h.bytes() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' | b'A'..=b'F' => (c | 0x20) - b'a' + 10,
            _ => return None,
        };
        if hi >> 60 != 0 {
            return None;
        }
        hi = hi << 4 | lo >> 60;
        lo = lo << 4 | u64::from(d);
    }
    if h.is_empty() {
        return None;
    }
    out[0] = lo;
    out[1] = hi;
    Some(())
}

/// `v` as a signed decimal (see [`write_decimal`]).
fn write_signed(o: &mut Fd, v: i64) {
    if v < 0 {
        o.1.push(b'-');
    }
    let _ = write_decimal(o, v.unsigned_abs());
}

/// A `v128` as `bareflow run` prints it: `0x` and all 32 hex digits.
#[inline(never)]
fn print_v128(o: &mut Fd, lo: u64, hi: u64) {
    o.1.extend_from_slice(b"0x");
    for half in [hi, lo] {
        for k in (0..16).rev() {
            o.1.push(b"0123456789abcdef"[(half >> (4 * k)) as usize & 15]);
        }
    }
    o.1.push(b'\n');
}

fn print_result(o: &mut Fd, ty: ValType, v: u64) {
    match ty {
        ValType::I32 => write_signed(o, i64::from(v as u32 as i32)),
        ValType::I64 => write_signed(o, v as i64),
        ValType::F32 => write_float(o, f64::from(f32::from_bits(v as u32)), true),
        ValType::F64 => write_float(o, f64::from_bits(v), false),
        // Printed by `print_v128` (two slots).
        ValType::V128 => return,
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef if v == 0 => {
            o.1.extend_from_slice(b"null")
        }
        ValType::FuncRef => o.1.extend_from_slice(b"funcref"),
        ValType::ExnRef => o.1.extend_from_slice(b"exnref"),
        ValType::ExternRef => {
            o.1.extend_from_slice(b"externref ");
            let _ = write_decimal(o, v.wrapping_sub(1));
        }
    }
    o.1.push(b'\n');
}

/// Reports a trap as `trap: MESSAGE (in function NAME, at code offset 0xN)`, as `bareflow run`
/// does: compiled code records the trapping function's `FuncRef` and the wasm offset in the
/// trap context just before it raises the trap. The name comes from the snapshot's function
/// records, read again from `path` only now (nothing is kept for a run that does not trap).
/// Then the wasm backtrace, as `bareflow run` prints it (`; wasm backtrace (innermost
/// first): c <- b <- a`): the return addresses the raise path recorded in `frames` (the
/// frame-pointer chain, `trap::record_frames`) mapped to functions with the records' code
/// sizes and `native` (a function's loaded entry, null if none).
fn fail_trap(
    t: &runtime_loader::TrapCode,
    ctx: &mut TrapContext,
    path: *const c_char,
    frames: &TrapFrames,
    native: &dyn Fn(u32) -> *const u8,
) -> i32 {
    let f = core::mem::replace(&mut ctx.last_func, core::ptr::null());
    let off = core::mem::replace(&mut ctx.last_offset, 0);
    let mut e = Fd(2, Vec::new());
    let _ = e.write_str("bareflow-load: trap: ");
    let _ = e.write_str(t.message());
    if !f.is_null() {
        // SAFETY: compiled code records a live FuncRef of this instance (it outlives `ctx`'s
        // use here: the instance is dropped after this returns).
        let index = unsafe { (*f).func_index };
        let _ = e.write_str(" (in function ");
        let bytes = read_file(path).unwrap_or_default();
        let snap = runtime_loader::format::Snapshot::parse(&bytes).ok();
        let snap = snap.as_ref();
        name_of(&mut e, snap, index);
        if off != 0 {
            let _ = e.write_str(", at code offset 0x");
            write_hex(&mut e, u64::from(off));
        }
        let _ = e.write_str("); wasm backtrace (innermost first): ");
        name_of(&mut e, snap, index);
        // Then each recorded frame's function (a guard-page fault's chain starts at the
        // caller: the trapping function is skipped only as the first one found); addresses
        // outside the snapshot's functions before the first one are skipped (an import
        // stub), after it they end the chain.
        let mut started = false;
        for &pc in frames.pcs() {
            let pc = pc.wrapping_sub(1);
            let found = snap.and_then(|s| {
                s.func_records().find_map(|r| {
                    let start = native(r.func_index) as usize;
                    (start != 0 && pc >= start && pc - start < r.code_size as usize)
                        .then_some(r.func_index)
                })
            });
            match found {
                Some(i) => {
                    if started || i != index {
                        let _ = e.write_str(" <- ");
                        name_of(&mut e, snap, i);
                    }
                    started = true;
                }
                None if !started => {}
                None => break,
            }
        }
        return finish_trap(e);
    }
    finish_trap(e)
}

/// Writes function `i`'s name from the snapshot's records (`#i` without one).
#[inline(never)]
fn name_of(e: &mut Fd, snap: Option<&runtime_loader::format::Snapshot<'_>>, i: u32) {
    let record = snap.and_then(|s| s.func_records().find(|r| r.func_index == i));
    match record.map(|r| r.name).filter(|n| !n.is_empty()) {
        Some(n) => {
            let _ = e.write_str(n);
        }
        None => {
            let _ = e.write_str("#");
            let _ = write_decimal(e, u64::from(i));
        }
    }
}

/// Ends and writes `fail_trap`'s line: exit status 1.
fn finish_trap(mut e: Fd) -> i32 {
    let _ = e.write_str("\n");
    1
}

/// `v` in lower-case hex digits, without a prefix.
fn write_hex(o: &mut Fd, v: u64) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for k in (0..digits).rev() {
        o.1.push(b"0123456789abcdef"[(v >> (4 * k)) as usize & 15]);
    }
}

/// The public key given with `--pubkey` (feature `sign`). Without the feature no key can
/// be given (`--pubkey` is refused), so the type has no values.
#[cfg(feature = "sign")]
type Key = [u8; 32];
/// See above.
#[cfg(not(feature = "sign"))]
type Key = core::convert::Infallible;

/// Reads the `--pubkey` file, if any (errors are reported here; `Err` is the exit status).
fn public_key(path: Option<*const c_char>) -> Result<Option<Key>, i32> {
    let Some(path) = path else {
        return Ok(None);
    };
    #[cfg(feature = "sign")]
    {
        read_public_key(path).map(Some)
    }
    #[cfg(not(feature = "sign"))]
    {
        let _ = path;
        Err(fail_str(1, "error", "--pubkey needs feature `sign`"))
    }
}

/// Loads `bytes`; with a key, only if the snapshot's Ed25519 signature verifies under it
/// (checked on the raw bytes before anything is parsed or mapped).
fn load(bytes: &[u8], key: Option<&Key>) -> Result<LoadedModule<MmapCodeMemory>, LoadError> {
    match key {
        None => LoadedModule::load(bytes, MmapCodeMemory::new()),
        #[cfg(feature = "sign")]
        Some(k) => LoadedModule::load_signed(bytes, MmapCodeMemory::new(), k),
        #[cfg(not(feature = "sign"))]
        Some(k) => match *k {},
    }
}

/// Reads a public key file written by `bareflow keygen`: 64 hex digits (32 bytes), optional
/// trailing whitespace.
#[cfg(feature = "sign")]
fn read_public_key(path: *const c_char) -> Result<[u8; 32], i32> {
    let text = match read_file(path) {
        Ok(t) => t,
        Err(e) => return Err(fail_parts(1, "error", &[e.text(), " public key file"])),
    };
    let digits = text.trim_ascii_end();
    let mut key = [0u8; 32];
    let hex = |c: u8| (c as char).to_digit(16);
    let ok = digits.len() == 64
        && key
            .iter_mut()
            .zip(digits.chunks_exact(2))
            .all(|(k, d)| match (hex(d[0]), hex(d[1])) {
                (Some(h), Some(l)) => {
                    *k = (h * 16 + l) as u8;
                    true
                }
                _ => false,
            });
    if !ok {
        return Err(fail_str(
            1,
            "error",
            "public key file must hold 64 hex digits (bareflow keygen writes PREFIX.pub)",
        ));
    }
    runtime_loader::sign::check_public_key(&key).map_err(|e| fail(1, "error", &e))?;
    Ok(key)
}

#[path = "bareflow_load/bounds.rs"]
mod bounds;

/// `--dir`/`--env` options, in order (WASI builds).
#[cfg(any(feature = "wasi", feature = "tiny-wasi"))]
type WasiOpts<'a> = Vec<(&'a str, &'a str)>;

/// Without WASI only the first `--dir`/`--env` flag is kept, for the error naming it.
#[cfg(not(any(feature = "wasi", feature = "tiny-wasi")))]
#[derive(Default)]
struct WasiOpts<'a>(Option<&'a str>);

#[cfg(not(any(feature = "wasi", feature = "tiny-wasi")))]
impl<'a> WasiOpts<'a> {
    fn push(&mut self, (flag, _): (&'a str, &'a str)) {
        self.0.get_or_insert(flag);
    }
    fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// Is `a` a word of the pre-#20 grammar that came after SNAP (`SNAP --invoke NAME ARGS`,
/// `SNAP [--dir D]... [--env K=V]... [-- ARGS]`)?
fn legacy_word(a: &str) -> bool {
    matches!(a, "--invoke" | "--dir" | "--env" | "--")
}

/// C entry point.
#[unsafe(no_mangle)]
extern "C" fn main(argc: i32, argv: *const *const c_char) -> i32 {
    let mut args: Vec<(*const c_char, &str)> = Vec::new();
    for i in 1..argc.max(0) as usize {
        // SAFETY: the C runtime passes `argc` valid NUL-terminated strings in `argv`.
        let p = unsafe { *argv.add(i) };
        // SAFETY: as above; the strings live for the whole process.
        let s = unsafe { core::ffi::CStr::from_ptr(p) };
        let Ok(s) = s.to_str() else {
            return fail_str(2, "error", "argument is not valid utf-8");
        };
        args.push((p, s));
    }
    // `bareflow-load [OPTIONS] [--] SNAP [ARGS...]`, as `bareflow run`: options come before
    // SNAP, everything after SNAP belongs to the guest.
    let (mut required, mut pubkey, mut fuel, mut timeout_us) = (false, None, None, None);
    let mut invoke: Option<&str> = None;
    let mut wasi_opts = WasiOpts::default();
    let mut i = 0;
    let mut dashdash = false;
    while let Some(&(_, a)) = args.get(i) {
        match a {
            "-h" | "--help" => {
                out(1, USAGE.as_bytes());
                return 0;
            }
            "-V" | "--version" => {
                out(
                    1,
                    concat!("bareflow-load ", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
                );
                return 0;
            }
            "--" => {
                dashdash = true;
                i += 1;
                break;
            }
            "--require-signed" => {
                required = true;
                i += 1;
            }
            "--pubkey" | "--fuel" | "--timeout" | "--invoke" | "--dir" | "--env" => {
                let Some(v) = args.get(i + 1) else {
                    out(2, USAGE.as_bytes());
                    return 2;
                };
                match a {
                    "--pubkey" => pubkey = Some(v.0),
                    "--invoke" => invoke = Some(v.1),
                    // `--fuel N`, `--timeout DUR` (docs/ABI.md, "Bounded execution").
                    "--fuel" => match bounds::digits(v.1) {
                        Some(n) => fuel = Some(n.min(i64::MAX as u64) as i64),
                        None => return fail_str(2, "error", "--fuel: not a count"),
                    },
                    "--timeout" => match bounds::parse_duration_us(v.1) {
                        Some(us) => timeout_us = Some(us),
                        None => return fail_str(2, "error", "--timeout: bad duration"),
                    },
                    _ => wasi_opts.push((a, v.1)),
                }
                i += 2;
            }
            _ if a.starts_with('-') && a.len() > 1 => {
                let _ = fail_parts(2, "error", &["unknown option `", a, "`"]);
                out(2, USAGE.as_bytes());
                return 2;
            }
            _ => break,
        }
    }
    let Some((&(path, path_str), mut rest)) = args.get(i..).and_then(|r| r.split_first()) else {
        out(2, USAGE.as_bytes());
        return 2;
    };
    // The old grammar (`SNAP --invoke NAME ARGS`, `SNAP --dir D -- ARGS`) still runs when no
    // `--` and none of those options came before SNAP; `-- SNAP ARGS` always gives ARGS
    // to the guest.
    if !dashdash && invoke.is_none() && wasi_opts.is_empty() {
        while let Some(&(_, a)) = rest.first().filter(|a| legacy_word(a.1)) {
            if a == "--" {
                rest = &rest[1..];
                break;
            }
            let Some(v) = rest.get(1) else {
                out(2, USAGE.as_bytes());
                return 2;
            };
            rest = &rest[2..];
            if a == "--invoke" {
                invoke = Some(v.1);
                break;
            }
            wasi_opts.push((a, v.1));
        }
    }
    if required && pubkey.is_none() {
        if cfg!(feature = "sign") {
            return fail_str(2, "error", "--require-signed needs --pubkey FILE");
        }
        return fail_str(1, "error", "--require-signed needs feature `sign`");
    }
    let key = match public_key(pubkey) {
        Ok(k) => k,
        Err(code) => return code,
    };
    #[cfg(not(any(feature = "wasi", feature = "tiny-wasi")))]
    {
        let _ = path_str;
        if let Some(flag) = wasi_opts.0 {
            return fail_parts(
                1,
                "error",
                &[flag, " needs WASI: build with --features tiny-wasi"],
            );
        }
    }
    if invoke.is_none() && !rest.is_empty() && !cfg!(any(feature = "wasi", feature = "tiny-wasi")) {
        return fail_str(
            2,
            "error",
            "arguments after SNAP need --invoke NAME (or a WASI build: --features tiny-wasi)",
        );
    }
    // Read and loaded once, whatever runs it.
    let bytes = match read_file(path) {
        Ok(b) => b,
        Err(e) => return fail_parts(1, "error", &[e.text(), " snapshot file"]),
    };
    let module = match load(&bytes, key.as_ref()) {
        Ok(m) => m,
        Err(e) => return fail(1, "error", &e),
    };
    // A WASI command: no `--invoke`, and WASI options, guest arguments or WASI imports.
    #[cfg(any(feature = "wasi", feature = "tiny-wasi"))]
    if invoke.is_none() && (!wasi_opts.is_empty() || !rest.is_empty() || imports_wasi(&module)) {
        if fuel.is_some() || timeout_us.is_some() {
            return fail_str(
                1,
                "error",
                "--fuel and --timeout are not supported for WASI commands",
            );
        }
        drop(bytes);
        return wasi_cmd::main(&module, path_str, &wasi_opts, rest);
    }
    // Header flags (bytes 12..16; `load` validated the header).
    let flags = bytes
        .get(12..16)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    drop(bytes);
    use runtime_loader::format::flags::{FUEL, INTERRUPT};
    if fuel.is_some() && flags & FUEL == 0 {
        return fail_str(
            1,
            "error",
            "--fuel: the snapshot has no fuel checks (compile --fuel)",
        );
    }
    if timeout_us.is_some() && flags & INTERRUPT == 0 {
        return fail_str(
            1,
            "error",
            "--timeout: the snapshot has no interrupt checks (compile --interruptible)",
        );
    }
    let meta = module.meta();
    if meta.num_imports() != 0 {
        let imp = meta.import(0);
        let m = core::str::from_utf8(imp.module).unwrap_or("?");
        let n = core::str::from_utf8(imp.name).unwrap_or("?");
        let wasi = m == "wasi_snapshot_preview1";
        let why = if wasi && cfg!(any(feature = "wasi", feature = "tiny-wasi")) {
            "WASI runs as a command: drop --invoke"
        } else if wasi {
            "needs WASI: build with --features tiny-wasi"
        } else {
            "bareflow-load provides only WASI preview1 (--features tiny-wasi)"
        };
        return fail_parts(
            1,
            "error",
            &["the snapshot imports `", m, "`.`", n, "`: ", why],
        );
    }
    let type_ids = meta.canonical_type_ids();
    let mut trap_ctx = Box::new(TrapContext::default());
    // The raise path records the frame-pointer chain here (`fail_trap`'s backtrace).
    let mut frames = Box::new(TrapFrames::EMPTY);
    trap_ctx.walk = Some(runtime_loader::trap::record_frames);
    trap_ctx.frames = &mut *frames;
    // SAFETY: no imports; `trap_ctx` and `module` outlive the instance (dropped after it,
    // in reverse declaration order).
    let inst = match unsafe {
        module.instantiate(
            type_ids,
            Imports::default(),
            core::ptr::null_mut(),
            &mut *trap_ctx,
        )
    } {
        Ok(i) => i,
        Err(e) => return fail(1, "error", &e),
    };
    if let Err(t) = inst.initialize(&meta) {
        return fail(1, "trap", &t);
    }
    // Without `--fuel`, code compiled with fuel checks runs unbounded.
    trap_ctx.fuel = fuel.unwrap_or(i64::MAX);
    // SAFETY: `trap_ctx` lives until the process exits (returning from `main`).
    if let Some(us) = timeout_us
        && !unsafe { bounds::arm(&mut *trap_ctx, us) }
    {
        return fail_str(1, "error", "--timeout: cannot set the timer");
    }
    let _disarm = bounds::Disarm;
    if let Some(start) = meta.start() {
        // SAFETY: the start function takes and returns nothing; one slot is enough.
        if let Err(t) = unsafe { call(&inst, start, &mut [0u64]) } {
            return fail_trap(&t, &mut trap_ctx, path, &frames, &|i| module.native(i));
        }
    }
    let Some(name) = invoke else {
        return 0;
    };
    let Some(export) = meta
        .export_named(name.as_bytes())
        .filter(|e| e.kind == ExportKind::Func)
    else {
        return fail_parts(1, "error", &["no exported function `", name, "`"]);
    };
    let Some(ty) = meta.func_type(export.index) else {
        return fail_str(1, "error", "bad export");
    };
    if rest.len() != ty.params.len() {
        let (mut want, mut given) = (Digits::default(), Digits::default());
        return fail_parts(
            1,
            "error",
            &[
                "`",
                name,
                "` takes ",
                want.of(ty.params.len() as u64),
                " arguments, ",
                given.of(rest.len() as u64),
                " given",
            ],
        );
    }
    // One slot per value, two per `v128` (docs/ABI.md, "Value slots").
    let n = ty
        .param_types()
        .chain(ty.result_types())
        .map(ValType::slots)
        .sum::<u32>() as usize;
    let mut values = vec![0u64; n.max(1)];
    let mut at = 0;
    for (i, (p, a)) in ty.param_types().zip(rest).enumerate() {
        match parse_arg(p, a.1, &mut values[at..]) {
            Some(()) => at += p.slots() as usize,
            None => {
                let mut k = Digits::default();
                return fail_parts(
                    1,
                    "error",
                    &[
                        "argument ",
                        k.of(i as u64 + 1),
                        ": `",
                        a.1,
                        "` is not a valid ",
                        p.name(),
                    ],
                );
            }
        }
    }
    // SAFETY: `values` holds max(params, results) slots with parameters of the right types.
    if let Err(t) = unsafe { call(&inst, export.index, &mut values) } {
        return fail_trap(&t, &mut trap_ctx, path, &frames, &|i| module.native(i));
    }
    let mut o = Fd(1, Vec::new());
    let mut at = 0;
    for r in ty.result_types() {
        if r == ValType::V128 {
            print_v128(&mut o, values[at], values[at + 1]);
        } else {
            print_result(&mut o, r, values[at]);
        }
        at += r.slots() as usize;
    }
    0
}

/// True if the loaded snapshot imports WASI functions.
#[cfg(any(feature = "wasi", feature = "tiny-wasi"))]
fn imports_wasi(m: &LoadedModule<MmapCodeMemory>) -> bool {
    let meta = m.meta();
    (0..meta.num_imports())
        .any(|i| meta.import(i).module == runtime_loader::wasi::MODULE.as_bytes())
}

/// `bareflow-load SNAPSHOT [--dir ..] [--env ..] [-- ARGS]`: runs a WASI command and exits
/// with its status.
#[cfg(any(feature = "wasi", feature = "tiny-wasi"))]
mod wasi_cmd {
    use super::*;
    use runtime_loader::wasi::WasiCtx;
    use runtime_loader::wasi::command::run_command;

    pub(super) fn main(
        module: &LoadedModule<MmapCodeMemory>,
        path_str: &str,
        opts: &[(&str, &str)],
        rest: &[(*const c_char, &str)],
    ) -> i32 {
        let mut ctx = WasiCtx::new();
        let argv0 = match path_str.bytes().rposition(|b| b == b'/') {
            Some(i) => &path_str[i + 1..],
            None => path_str,
        };
        for &(flag, v) in opts {
            let r = if flag == "--dir" {
                ctx.grant_dir_spec(v)
            } else {
                ctx.push_env(v)
            };
            if let Err(e) = r {
                return fail(1, "error", &e);
            }
        }
        for a in core::iter::once(argv0).chain(rest.iter().map(|a| a.1)) {
            if let Err(e) = ctx.push_arg(a) {
                return fail(1, "error", &e);
            }
        }
        match run_command(module, &mut ctx) {
            Ok(status) => (status & 0xff) as i32,
            Err(runtime_loader::wasi::command::CommandError::Trap(t)) => fail(1, "trap", &t),
            Err(e) => fail(1, "error", &e),
        }
    }
}
