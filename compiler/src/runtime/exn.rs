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
