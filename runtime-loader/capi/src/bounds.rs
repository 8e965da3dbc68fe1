//! Bounded execution in the C API (docs/ABI.md, "Bounded execution"): `bf_set_fuel`,
//! `bf_get_fuel`, `bf_interrupt`. The snapshot must carry the checks (header flags `FUEL`,
//! `INTERRUPT`, `bareflow compile --fuel` / `--interruptible`); `bf_load` records them.

use runtime_loader::format::flags::{FUEL, INTERRUPT};

use super::*;

/// `bf_load`: remembers which checks the code has; fuel-checked code starts unbounded
/// (`i64::MAX`) until `bf_set_fuel`.
pub(crate) fn loaded(r: &mut Runtime, flags: u32) {
    r.bounds = flags & (FUEL | INTERRUPT);
    r.trap_ctx.fuel = if flags & FUEL != 0 { i64::MAX } else { 0 };
}

/// Sets the fuel of the next calls (1 per function entry and taken loop back-edge; a call
/// that runs out fails with `BF_ERR_TRAP`, trap code 13). `BF_ERR_STATE` if the loaded
/// snapshot has no fuel checks (or nothing is loaded).
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_set_fuel(rt: *mut Runtime, fuel: u64) -> bf_status {
    if rt.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract.
    let r = unsafe { &mut *rt };
    if r.poisoned || r.bounds & FUEL == 0 {
        set_msg(
            &mut r.message,
            &[b"the snapshot has no fuel checks (bareflow compile --fuel)"],
        );
        return BF_ERR_STATE;
    }
    r.trap_ctx.fuel = fuel.min(i64::MAX as u64) as i64;
    BF_OK
}

/// The remaining fuel (0 after running out, or without fuel checks).
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_get_fuel(rt: *const Runtime) -> u64 {
    if rt.is_null() {
        return 0;
    }
    // SAFETY: per the contract.
    unsafe { (*rt).trap_ctx.fuel.max(0) as u64 }
}

/// Makes the running (or next) call trap "interrupted" (trap code 14) at its next function
/// entry or loop back-edge. Async-signal-safe: one 32-bit store (call it from a timer
/// interrupt or a signal handler). `BF_ERR_STATE` if the snapshot has no interrupt checks.
///
/// # Safety
/// `rt` null or from `bf_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bf_interrupt(rt: *mut Runtime) -> bf_status {
    if rt.is_null() {
        return BF_ERR_ARG;
    }
    // SAFETY: per the contract; only reads `bounds` and stores the flag.
    unsafe {
        if (*rt).bounds & INTERRUPT == 0 {
            return BF_ERR_STATE;
        }
        trap::request_interrupt(&raw mut (*rt).trap_ctx);
    }
    BF_OK
}
