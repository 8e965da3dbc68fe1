//! The public embedding API: [`Module`], [`Store`], values, handles, traps.
//!
//! Every execution mode sits behind this API; the CLI, the spec runner, the bench and the
//! differential tests use only this. See `docs/ARCHITECTURE.md` for the contract.

mod caller;
mod error;
pub(crate) mod exn;
mod store;
mod types;

pub use caller::{Caller, MemoryAccessError};
pub use error::{BacktraceFrame, CallError, InstantiateError, Trap, TrapCode};
pub use exn::{Exception, Exn, Tag};
#[doc(hidden)]
pub use exn::{ExnHeap, ExnObj, MAX_LIVE_EXNREFS, Pending, TagInst};
pub use store::{
    ExportType, Extern, ExternType, Func, Global, HostFn, HostFnWithCaller, ImportType, InstanceId,
    InterruptHandle, Memory, Module, Store, Table,
};
pub use types::{
    Config, FuncCounters, FuncType, GlobalType, Limits, LoopCounters, MemoryMode, MemoryType, Mode,
    TableType, TierUp, UnknownMemoryMode, UnknownMode, Val, ValType,
};

#[cfg(test)]
mod tests;
