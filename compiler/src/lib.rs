//! BareFlow development system as a library: parse a WebAssembly module, run it in any
//! execution mode (profiling interpreter, Cranelift JIT tiers, frozen snapshots) and export
//! snapshots for `runtime-loader`. See `docs/ARCHITECTURE.md`.
//!
//! The public surface is the embedding API of [`runtime`], re-exported at the crate root
//! ([`Module`], [`Store`], [`Config`], [`Mode`], [`Val`], [`Trap`], ...), WASI preview1 for a
//! store ([`wasi`]) and the profile file ([`profile`]). Everything else (front end,
//! interpreter, translator, JIT, snapshot export, the `.wast` runner) is in [`internals`],
//! which has no stability promise.
//!
//! Cargo features: `cli` (default) builds the `bareflow` command line and pulls in its
//! dependencies (clap, anyhow). A library user writes
//! `bareflow = { ..., default-features = false }` and gets neither.
//!
//! The internal modules are not reachable at the crate root:
//!
//! ```compile_fail,E0603
//! let _ = bareflow::clif::translate::translate_function;
//! ```
//!
//! ```compile_fail,E0603
//! let _ = bareflow::interp::exec::Interp::new;
//! ```
//!
//! while the same paths under [`internals`] compile:
//!
//! ```
//! let _ = bareflow::internals::clif::translate::translate_function;
//! let _ = bareflow::internals::interp::exec::Interp::new;
//! ```

pub mod internals;
pub mod profile;
pub mod runtime;
pub mod wasi;

// Inside the crate the internal modules keep their short paths (`crate::clif::...`).
pub(crate) use internals::{aot, clif, fsio, interp, jit, parse, tier, wast_stop};

pub use runtime::*;
