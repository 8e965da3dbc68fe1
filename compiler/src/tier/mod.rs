//! Tiering: when a function moves from the interpreter to Cranelift `none`, then `speed`
//! ([`policy`], pure functions of counters), and the machinery that compiles it and swaps its
//! `FuncRef::native` ([`manager`]).

pub mod manager;
pub mod policy;

pub use manager::{OSR_TIER, OsrEvent, TierManager, TierUpEvent};
pub use policy::{Counters, Thresholds, Tier};

/// Code compiled at `none` calls the store's tier hook every this many calls of the
/// function (a power of two), so functions called only from compiled code move on too.
pub const HOOK_PERIOD: u64 = 256;
