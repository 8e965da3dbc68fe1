//! BareFlow runtime loader: the runtime ABI every tier shares, instances, and (later) the
//! snapshot loader. Depends on no compiler crate; `#![no_std]` with optional `alloc`/`std`.
//!
//! | feature | what it adds |
//! |---|---|
//! | (none)  | the ABI constants and types ([`abi`]) |
//! | `alloc` | heap-allocated instances |
//! | `std`   | mmap-backed code and memory (default) |
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
pub mod code;
pub mod elf;
pub mod error;
pub mod format;

pub use error::LoadError;

pub use abi::TrapCode;
#[cfg(feature = "alloc")]
pub mod instance;
#[cfg(feature = "alloc")]
pub mod meta;
#[cfg(target_arch = "x86_64")]
pub mod trap;
