//! `bareflow-load --fuel N --timeout DUR` (docs/ABI.md, "Bounded execution"). The snapshot
//! must have been compiled with the checks (`bareflow compile --fuel`/`--interruptible`,
//! header flags `FUEL`/`INTERRUPT`). The deadline is a `SIGALRM` from `setitimer`
//! (no thread needed): its handler does one store, the interrupt flag of the trap context.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use runtime_loader::trap::{TrapContext, request_interrupt};

#[repr(C)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
struct Itimerval {
    interval: Timeval,
    value: Timeval,
}

unsafe extern "C" {
    fn signal(sig: i32, handler: usize) -> usize;
    fn setitimer(which: i32, new: *const Itimerval, old: *mut Itimerval) -> i32;
}

const SIGALRM: i32 = 14;
const ITIMER_REAL: i32 = 0;
const SIG_ERR: usize = usize::MAX;

/// The trap context the alarm interrupts.
static CTX: AtomicPtr<TrapContext> = AtomicPtr::new(null_mut());

extern "C" fn on_alarm(_sig: i32) {
    let p = CTX.load(Ordering::Relaxed);
    if !p.is_null() {
        // SAFETY: `arm`'s caller keeps the trap context alive for the rest of the process.
        unsafe { request_interrupt(p) };
    }
}

/// A decimal number (no sign), `None` if empty, not digits or too large.
pub fn digits(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// A duration in microseconds: `500ms`, `2s`, `100us`, `1m`, or a bare number of seconds.
pub fn parse_duration_us(s: &str) -> Option<u64> {
    let split = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n = digits(num)?;
    let scale = match unit {
        "" | "s" => 1_000_000,
        "ms" => 1_000,
        "us" => 1,
        "m" => 60_000_000,
        _ => return None,
    };
    n.checked_mul(scale).filter(|&us| us > 0)
}

/// Interrupts the code running on `ctx` after `us` microseconds. False if the timer could
/// not be set.
///
/// # Safety
/// `ctx` must stay valid for the rest of the process.
pub unsafe fn arm(ctx: *mut TrapContext, us: u64) -> bool {
    CTX.store(ctx, Ordering::Relaxed);
    let t = Itimerval {
        interval: Timeval { sec: 0, usec: 0 },
        value: Timeval {
            sec: (us / 1_000_000) as i64,
            usec: (us % 1_000_000) as i64,
        },
    };
    // SAFETY: plain libc calls; the handler only does an atomic load and one store.
    unsafe {
        signal(SIGALRM, on_alarm as extern "C" fn(i32) as usize) != SIG_ERR
            && setitimer(ITIMER_REAL, &t, null_mut()) == 0
    }
}

/// Forgets the trap context when dropped (declare it after the context: a late alarm then
/// finds nothing to write).
pub struct Disarm;

impl Drop for Disarm {
    fn drop(&mut self) {
        CTX.store(null_mut(), Ordering::Relaxed);
    }
}
