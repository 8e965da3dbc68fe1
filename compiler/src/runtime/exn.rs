//! Exception handling: tags, exception objects and the store's exception heap.
//!
//! A tag is a store entity ([`TagInst`], boxed so its address is its identity); an instance
//! refers to its tags (defined and imported) by address. An exception object ([`ExnObj`]) is
//! a tag plus its payload in value slots. While an exception propagates it is the store's
//! *pending* exception ([`ExnHeap`]); a `throw` and a host function that throws set it, the
//! array ABI carries only the status [`TrapCode::Exception`](runtime_loader::TrapCode), and
//! whoever catches it (an interpreter handler, or `Store::call` turning it into the typed
//! error [`Exception`]) takes it. An `exnref` value (`catch_ref`, `catch_all_ref`) is the
//! address of an object moved into the heap's arena, which lives as long as the store (there
//! is no collector); an exception caught by `catch`/`catch_all`, or that reaches the host,
//! is freed at once.

use std::cell::RefCell;
use std::sync::Arc;

use super::types::{FuncType, Val};

/// A tag handle into a store (exception handling): [`Extern::Tag`](super::Extern::Tag).
/// Two tags are the same tag exactly when their handles are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// An exception reference (`exnref`) handle into a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Exn {
    pub(crate) store: u64,
    pub(crate) ptr: usize,
}

/// An exception that reached the host: the tag it was thrown with and its payload (the
/// tag's parameters). Carried by a [`Trap`](super::Trap) of code
/// [`TrapCode::Exception`](runtime_loader::TrapCode::Exception); see
/// [`Trap::exception`](super::Trap::exception).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The exception's tag.
    pub tag: Tag,
    /// Its payload values.
    pub payload: Vec<Val>,
}

/// A tag: its type (parameters = payload; no results).
#[derive(Debug)]
pub struct TagInst {
    /// The tag's type.
    pub ty: FuncType,
    /// Value slots of the payload.
    pub slots: u32,
    /// The canonical form of the type when it has typed references
    /// (`parse::RefTypes::sigs`), compared when a tag is imported.
    pub sig: Option<Arc<str>>,
}

/// An exception object.
#[derive(Debug)]
pub struct ExnObj {
    /// Its tag.
    pub tag: *const TagInst,
    /// Its payload in value slots.
    pub payload: Box<[u64]>,
}

/// The exception in flight.
#[derive(Debug)]
pub enum Pending {
    /// A new exception (`throw`, or a host function's): owned until caught.
    Owned(Box<ExnObj>),
    /// An exception rethrown from an `exnref` (`throw_ref`): in the arena.
    Shared(*const ExnObj),
}

impl Pending {
    /// The exception object.
    pub fn obj(&self) -> &ExnObj {
        match self {
            Pending::Owned(b) => b,
            // SAFETY: arena objects live as long as the store.
            Pending::Shared(p) => unsafe { &**p },
        }
    }
}

/// Most exception objects an `exnref` may have made live in one store: a program that
/// catches by reference in a loop forever gets a trap, not unbounded memory.
pub const MAX_LIVE_EXNREFS: usize = 1 << 20;

/// A store's exceptions: the pending one and the arena of those an `exnref` refers to.
#[derive(Debug, Default)]
pub struct ExnHeap {
    pending: RefCell<Option<Pending>>,
    #[allow(clippy::vec_box)]
    arena: RefCell<Vec<Box<ExnObj>>>,
}

impl ExnHeap {
    /// Makes `p` the pending exception (replacing any).
    pub fn set_pending(&self, p: Pending) {
        *self.pending.borrow_mut() = Some(p);
    }

    /// Takes the pending exception.
    pub fn take_pending(&self) -> Option<Pending> {
        self.pending.borrow_mut().take()
    }

    /// The tag of the pending exception.
    pub fn pending_tag(&self) -> Option<*const TagInst> {
        self.pending.borrow().as_ref().map(|p| p.obj().tag)
    }

    /// Whether an exception is pending.
    pub fn has_pending(&self) -> bool {
        self.pending.borrow().is_some()
    }

    /// The `exnref` of a caught exception: its address in the arena (moved there if new).
    /// `None` when the arena is full ([`MAX_LIVE_EXNREFS`]).
    pub fn expose(&self, p: Pending) -> Option<*const ExnObj> {
        match p {
            Pending::Shared(p) => Some(p),
            Pending::Owned(b) => {
                let mut a = self.arena.borrow_mut();
                if a.len() >= MAX_LIVE_EXNREFS {
                    return None;
                }
                let ptr: *const ExnObj = &*b;
                a.push(b);
                Some(ptr)
            }
        }
    }
}

/// Compiled code's exception functions (docs/ABI.md, "Exceptions"), called by absolute
/// address from JIT code ([`crate::clif::env::ExnFns`]). `fr` is the calling function's own
/// `FuncRef`, whose `host_data` is its instance's interpreter view (tags and the store's
/// exception heap).
pub(crate) mod compiled {
    use super::{ExnObj, Pending};
    use crate::interp::InterpInstance;
    use runtime_loader::abi::FuncRef;

    /// Catch clause kinds, as compiled code passes them to [`catch`].
    pub const CATCH_TAG: u32 = 0;
    /// `catch_ref`.
    pub const CATCH_TAG_REF: u32 = 1;
    /// `catch_all`.
    pub const CATCH_ALL: u32 = 2;
    /// `catch_all_ref`.
    pub const CATCH_ALL_REF: u32 = 3;

    /// What [`catch`] returns when a catch by reference finds the arena full.
    pub const CATCH_FULL: u64 = u64::MAX;

    /// The table `TrapContext::exn_fns` points at, in `clif::exn_fn` order.
    #[repr(C)]
    pub struct Table {
        throw: unsafe extern "C" fn(*const FuncRef, u32, *const u64),
        throw_ref: unsafe extern "C" fn(*const FuncRef, u64),
        catch: unsafe extern "C" fn(*const FuncRef, u32, u32, *mut u64) -> u64,
    }

    /// This runtime's exception functions.
    pub static TABLE: Table = Table {
        throw,
        throw_ref,
        catch,
    };

    /// What a store's `TrapContext::exn_fns` is set to.
    pub fn table() -> *const usize {
        (&raw const TABLE).cast()
    }

    /// The instance view of compiled function `fr`.
    ///
    /// # Safety
    /// `fr` is a live wasm `FuncRef`.
    unsafe fn view<'a>(fr: *const FuncRef) -> Option<&'a InterpInstance> {
        // SAFETY: per the caller; wasm FuncRefs carry their interpreter view.
        unsafe {
            let d = (*fr).host_data as *const InterpInstance;
            (!d.is_null() && !(*d).exn.is_null()).then(|| &*d)
        }
    }

    /// `throw tag`: makes a new exception with the payload in `values` (the tag's slots)
    /// the store's pending one.
    ///
    /// # Safety
    /// Called by compiled code: `fr` its live `FuncRef`, `tag` a tag index of its module,
    /// `values` the tag's payload slots.
    pub unsafe extern "C" fn throw(fr: *const FuncRef, tag: u32, values: *const u64) {
        // SAFETY: per the caller.
        unsafe {
            let Some(d) = view(fr) else { return };
            let Some(&t) = d.tags.get(tag as usize) else {
                return;
            };
            let n = (*t).slots as usize;
            let payload = std::slice::from_raw_parts(values, n).into();
            (*d.exn).set_pending(Pending::Owned(Box::new(ExnObj { tag: t, payload })));
        }
    }

    /// `throw_ref`: makes exception reference `r` (non-null) the pending exception.
    ///
    /// # Safety
    /// As for [`throw`]; `r` an object of the store's arena.
    pub unsafe extern "C" fn throw_ref(fr: *const FuncRef, r: u64) {
        // SAFETY: per the caller.
        unsafe {
            if let Some(d) = view(fr) {
                (*d.exn).set_pending(Pending::Shared(r as *const ExnObj));
            }
        }
    }

    /// One catch clause: if the pending exception matches (`kind` one of the `CATCH_*`
    /// constants, `tag` the clause's tag index), takes it, writes its payload to `values`
    /// (tag clauses) and returns its `exnref` (by-reference clauses; [`CATCH_FULL`] if the
    /// arena is full) or 1; 0 if it does not match.
    ///
    /// # Safety
    /// As for [`throw`]; `values` has room for the tag's payload slots.
    pub unsafe extern "C" fn catch(
        fr: *const FuncRef,
        kind: u32,
        tag: u32,
        values: *mut u64,
    ) -> u64 {
        // SAFETY: per the caller.
        unsafe {
            let Some(d) = view(fr) else { return 0 };
            let heap = &*d.exn;
            let Some(pending) = heap.pending_tag() else {
                return 0;
            };
            let by_tag = matches!(kind, CATCH_TAG | CATCH_TAG_REF);
            if by_tag && d.tags.get(tag as usize).copied() != Some(pending) {
                return 0;
            }
            let Some(p) = heap.take_pending() else {
                return 0;
            };
            if by_tag {
                let payload = &p.obj().payload;
                std::ptr::copy_nonoverlapping(payload.as_ptr(), values, payload.len());
            }
            if matches!(kind, CATCH_TAG_REF | CATCH_ALL_REF) {
                return heap.expose(p).map_or(CATCH_FULL, |r| r as u64);
            }
            1
        }
    }
}
