//! BareFlow runtime loader: the runtime ABI every tier shares, instances, and the snapshot
//! loader. Depends on no compiler crate; `#![no_std]` with optional `alloc`/`std`.
//!
//! | feature | what it adds |
//! |---|---|
//! | (none)  | the ABI ([`abi`]), the snapshot reader ([`format`], relocation table included), the ELF reader and relocator ([`elf`]: the reference the tables are derived from and checked against), [`code::BufferCodeMemory`] |
//! | `alloc` | heap-allocated instances, `ModuleMeta` decoding, the zero-copy [`meta_view`], [`loader`] |
//! | `unix`  | [`code::MmapCodeMemory`] (anonymous `mmap` + `mprotect`, no std needed); checked linear memories reserved with `mmap` ([`vmem`]) |
//! | `std`   | `alloc` + `unix` (default); on Linux x86-64 also guard-page memories ([`guard`]) |
//! | `write` | the snapshot and metadata writers (used by the compiler) |
//! | `wasi`  | WASI preview1 host functions ([`wasi`]) for every tier and the loader (needs `std`) |
//! | `sign`  | Ed25519 verification of signed snapshots (`sign::verify`, `LoadedModule::load_signed`) |
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
pub mod float;
pub mod format;
#[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
pub mod guard;
pub mod sign;

pub use error::LoadError;

pub use abi::TrapCode;
#[cfg(feature = "alloc")]
pub mod instance;
#[cfg(all(feature = "alloc", target_arch = "x86_64"))]
pub mod loader;
#[cfg(feature = "alloc")]
pub mod meta;
#[cfg(feature = "alloc")]
pub mod meta_codec;
#[cfg(feature = "alloc")]
pub mod meta_view;
#[cfg(target_arch = "x86_64")]
pub mod trap;
#[cfg(feature = "unix")]
pub mod vmem;
#[cfg(feature = "wasi")]
pub mod wasi;
