//! The machinery behind the embedding API: front end, interpreter, CLIF translator, JIT
//! tiers, snapshot export, the `.wast` runner and the helpers the `bareflow` CLI, the tests,
//! the spec runner and the bench share.
//!
//! **No stability promise**: anything here may change or disappear in any release, without
//! a deprecation period. It is public only so the workspace's own CLI, tests, `spec-tests`
//! and `bench` can reach it; an embedder uses the crate root ([`crate::Module`],
//! [`crate::Store`], ...) instead.

#[path = "aot/mod.rs"]
pub mod aot;
#[path = "ci.rs"]
pub mod ci;
#[path = "clif/mod.rs"]
pub mod clif;
#[path = "fsio.rs"]
pub mod fsio;
#[path = "interp/mod.rs"]
pub mod interp;
#[path = "jit/mod.rs"]
pub mod jit;
#[path = "parse.rs"]
pub mod parse;
#[path = "signing.rs"]
pub mod signing;
#[path = "tier/mod.rs"]
pub mod tier;
#[path = "wast.rs"]
pub mod wast;
#[path = "wast_stop.rs"]
pub mod wast_stop;
