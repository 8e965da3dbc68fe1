//! BareFlow development system: front end, profiling interpreter, Cranelift tiers,
//! snapshot export. The embedding API lives in [`runtime`] and is re-exported here.
//! See `docs/ARCHITECTURE.md`.

pub mod aot;
pub mod ci;
pub mod clif;
pub mod fsio;
pub mod interp;
pub mod jit;
pub mod parse;
pub mod profile;
pub mod runtime;
pub mod signing;
pub mod tier;
pub mod wasi;
pub mod wast;
pub mod wast_stop;

pub use runtime::*;
