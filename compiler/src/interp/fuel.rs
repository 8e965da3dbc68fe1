//! Bounded execution in the interpreter (docs/ABI.md, "Bounded execution"): the same
//! check points as compiled code (every interpreted function entry, every taken loop
//! back-edge), the same store-wide counters (`TrapContext::{fuel, interrupt}`), so a call
//! that moves between the interpreter, compiled tiers and OSR'd code is charged the same
//! as one that stays in a single mode.
//!
//! Back-edges reach the check through the interpreter's back-edge countdown: with checks
//! on, the countdown fires at every edge (its cold path runs the check), and a shadow
//! countdown in the sampler keeps the profile's batches as they were.

use runtime_loader::TrapCode;
use runtime_loader::trap::TrapContext;

/// The checks an interpreter runs, and where the counters are.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// The store's trap context (holds `fuel` and `interrupt`).
    pub ctx: *mut TrapContext,
    /// Charge 1 fuel per check point.
    pub fuel: bool,
    /// Look at the interrupt flag at each check point.
    pub interrupt: bool,
}

impl Bounds {
    /// One check point: charges fuel and looks at the interrupt flag.
    ///
    /// # Safety
    /// `ctx` must point at a live trap context.
    #[cold]
    #[inline(never)]
    pub unsafe fn check(self) -> Result<(), TrapCode> {
        // SAFETY: per the caller. Fuel first, as compiled code does. Volatile: another thread or a signal handler writes
        // `interrupt` (a single aligned 32-bit store).
        unsafe {
            if self.fuel {
                let f = (*self.ctx).fuel - 1;
                (*self.ctx).fuel = f;
                if f < 0 {
                    return Err(TrapCode::OutOfFuel);
                }
            }
            if self.interrupt {
                let p = &raw mut (*self.ctx).interrupt;
                if core::ptr::read_volatile(p) != 0 {
                    core::ptr::write_volatile(p, 0);
                    return Err(TrapCode::Interrupted);
                }
            }
        }
        Ok(())
    }
}
