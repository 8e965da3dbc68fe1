//! Bounded execution on the [`Store`]: fuel and interruption (docs/ABI.md, "Bounded
//! execution"). Both counters live in the store's `TrapContext`, which compiled code of
//! every instance of the store reaches through its vmctx and the interpreter through
//! [`crate::interp::fuel::Bounds`].

use std::sync::{Arc, Mutex};

use runtime_loader::trap::{self, TrapContext};

use super::{CallError, Store};

/// Makes the calls of one store trap `Interrupted` at their next check point (function
/// entry or loop back-edge), from any thread: see [`Store::interrupt_handle`]. A request
/// made while no call runs stops the next call at its first check. After the store is
/// dropped, [`InterruptHandle::interrupt`] does nothing.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    /// The store's trap context address (0 once the store is gone).
    ctx: Arc<Mutex<usize>>,
}

impl InterruptHandle {
    /// Requests the interruption.
    pub fn interrupt(&self) {
        let ctx = self.ctx.lock().unwrap_or_else(|e| e.into_inner());
        if *ctx != 0 {
            // SAFETY: the store clears the address (under this lock) before its trap
            // context goes away.
            unsafe { trap::request_interrupt(*ctx as *mut TrapContext) };
        }
    }
}

/// The store side of the interrupt handles.
#[derive(Debug)]
pub(super) struct Bounds {
    /// The store's trap context (null when the store has none).
    pub(super) ctx: *mut TrapContext,
    /// Interp mode: the trap context that holds the counters (compiled modes use theirs).
    pub(super) own: Option<Box<TrapContext>>,
    handle: Option<Arc<Mutex<usize>>>,
}

impl Bounds {
    /// `ctx`, or (null) a trap context of its own.
    pub(super) fn new(ctx: *mut TrapContext) -> Bounds {
        let mut b = Bounds {
            ctx,
            own: None,
            handle: None,
        };
        if ctx.is_null() {
            let own = b.own.insert(Box::new(TrapContext::default()));
            b.ctx = &mut **own;
        }
        b
    }
}

impl Drop for Bounds {
    fn drop(&mut self) {
        if let Some(h) = &self.handle {
            *h.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        }
    }
}

impl Store {
    fn need_fuel(&self) -> Result<*mut TrapContext, CallError> {
        if !self.config.consume_fuel || self.bounds.ctx.is_null() {
            return Err(CallError::Unsupported(
                "fuel is not enabled for this store (Config::consume_fuel)".into(),
            ));
        }
        Ok(self.bounds.ctx)
    }

    /// Sets the store's remaining fuel (Wasmtime's `Store::set_fuel`): each function entry
    /// and taken loop back-edge costs 1; a call that needs more traps `OutOfFuel`, and the
    /// store stays usable (set more and call again).
    ///
    /// # Errors
    /// `Unsupported` unless the store was made with [`super::Config::consume_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), CallError> {
        let ctx = self.need_fuel()?;
        // SAFETY: the store owns the trap context.
        unsafe { (*ctx).fuel = i64::try_from(fuel).unwrap_or(i64::MAX) };
        Ok(())
    }

    /// The store's remaining fuel (0 after an `OutOfFuel` trap).
    ///
    /// # Errors
    /// As [`Store::set_fuel`].
    pub fn get_fuel(&self) -> Result<u64, CallError> {
        let ctx = self.need_fuel()?;
        // SAFETY: the store owns the trap context.
        Ok(unsafe { (*ctx).fuel }.max(0) as u64)
    }

    /// A handle that interrupts this store's calls from any thread (the store must have
    /// been made with [`super::Config::interruptible`]).
    ///
    /// # Errors
    /// `Unsupported` without [`super::Config::interruptible`].
    pub fn interrupt_handle(&mut self) -> Result<InterruptHandle, CallError> {
        if !self.config.interruptible || self.bounds.ctx.is_null() {
            return Err(CallError::Unsupported(
                "interruption is not enabled for this store (Config::interruptible)".into(),
            ));
        }
        let ctx = self.bounds.ctx as usize;
        let h = self
            .bounds
            .handle
            .get_or_insert_with(|| Arc::new(Mutex::new(ctx)));
        Ok(InterruptHandle { ctx: h.clone() })
    }
}
