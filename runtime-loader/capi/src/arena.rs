//! The arena: a bump allocator over the embedder's memory, installed as the global
//! allocator for the duration of each API call, and the panic handler (`panic = "abort"`).

use super::*;

/// A bump allocator over `[cur, end)`; freeing (or growing) the most recent block reuses it.
pub(crate) struct Bump {
    pub(crate) start: usize,
    pub(crate) cur: usize,
    pub(crate) end: usize,
}

impl Bump {
    pub(crate) fn alloc(&mut self, l: Layout) -> *mut u8 {
        let Some(p) = self.cur.checked_next_multiple_of(l.align()) else {
            return ptr::null_mut();
        };
        match p.checked_add(l.size()) {
            Some(e) if e <= self.end => {
                self.cur = e;
                p as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }
}

/// The arena of the runtime whose API call is running (null outside calls).
pub(crate) static mut HEAP: *mut Bump = ptr::null_mut();
/// The runtime whose API call is running, for the panic handler.
pub(crate) static mut CURRENT: *mut Runtime = ptr::null_mut();

pub(crate) struct Arena;

// SAFETY: blocks come from the current runtime's arena, are aligned as requested, don't
// overlap (the cursor only moves past handed-out blocks, and back only over the last block
// when that block is freed or resized), and stay valid until `bf_init` resets the arena.
// Single-threaded by contract (see the crate docs).
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: `HEAP` is null or the live arena of the running API call.
        unsafe {
            let h = HEAP;
            if h.is_null() {
                return ptr::null_mut();
            }
            (*h).alloc(l)
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as in `alloc`; `p` was handed out by this arena with layout `l`.
        unsafe {
            let h = HEAP;
            if !h.is_null() && p as usize + l.size() == (*h).cur && p as usize >= (*h).start {
                (*h).cur = p as usize;
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`; `p` is a live block of layout `l`.
        unsafe {
            let h = HEAP;
            if h.is_null() {
                return ptr::null_mut();
            }
            // The last block grows or shrinks in place.
            if p as usize + l.size() == (*h).cur {
                match (p as usize).checked_add(new_size) {
                    Some(e) if e <= (*h).end => {
                        (*h).cur = e;
                        return p;
                    }
                    _ => return ptr::null_mut(),
                }
            }
            let Ok(nl) = Layout::from_size_align(new_size, l.align()) else {
                return ptr::null_mut();
            };
            let q = (*h).alloc(nl);
            if !q.is_null() {
                ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
            }
            q
        }
    }
}

#[global_allocator]
static ALLOC: Arena = Arena;

#[cfg(panic = "abort")]
mod rt {
    /// The prebuilt `alloc` crate was compiled with unwinding; with `panic = "abort"` these
    /// are never called, but its landing pads still name them.
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() {}

    /// Never called (see above).
    #[unsafe(no_mangle)]
    extern "C" fn _Unwind_Resume() -> ! {
        super::halt()
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        // SAFETY: `CURRENT` is null or the runtime of the running API call, whose guard
        // `enter` is active (see `guarded`); the frames between here and that entry are this
        // library's code, holding only arena memory, which stays allocated (leaked).
        unsafe {
            let rt = super::CURRENT;
            if !rt.is_null() && (*rt).trap_ctx.depth > 0 {
                (*rt).poisoned = true;
                runtime_loader::trap::raise_trap_in(&mut (*rt).trap_ctx, super::PANIC_STATUS);
            }
        }
        super::halt()
    }
}

/// Last resort when a panic happens outside any API call (cannot happen through the API).
#[cfg(panic = "abort")]
pub(crate) fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The status a panic unwinds with (never a real trap code).
#[cfg(panic = "abort")]
pub(crate) const PANIC_STATUS: u32 = 0xBF_DEAD;
