//! Stopping a running `.wast` script from another thread (`bareflow wast --timeout`): the
//! worker thread installs a [`ScriptStop`] before it runs the script; every store the
//! script's runner makes is interruptible and registers its handle, and the runner checks
//! the flag between directives. [`ScriptStop::stop`] sets the flag and interrupts the
//! stores, so the guest code traps "interrupted" at its next check point and the worker
//! returns instead of spinning on.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::runtime::InterruptHandle;

/// The stop switch of one script run.
#[derive(Debug, Default)]
pub struct ScriptStop {
    stopped: AtomicBool,
    handles: Mutex<Vec<InterruptHandle>>,
}

impl ScriptStop {
    /// A switch not yet thrown.
    pub fn new() -> Arc<ScriptStop> {
        Arc::new(ScriptStop::default())
    }

    /// Stops the script: no further directive runs, running guest code is interrupted.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for h in self
            .handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            h.interrupt();
        }
    }

    /// Whether [`ScriptStop::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub(crate) fn register(&self, h: InterruptHandle) {
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(h);
        // A stop that came before the store existed still reaches it.
        if self.stopped() {
            self.stop();
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ScriptStop>>> = const { RefCell::new(None) };
}

/// Installs (or removes) the stop switch of the scripts this thread runs.
pub fn set_thread_stop(stop: Option<Arc<ScriptStop>>) {
    CURRENT.with(|c| *c.borrow_mut() = stop);
}

/// The switch of this thread, if any.
pub(crate) fn thread_stop() -> Option<Arc<ScriptStop>> {
    CURRENT.with(|c| c.borrow().clone())
}
