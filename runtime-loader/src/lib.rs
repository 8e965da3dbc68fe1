//! BareFlow runtime loader: the runtime ABI every tier shares, instances, and the snapshot
//! loader. Depends on no compiler crate; `#![no_std]` with optional `alloc`/`std`.
//!
//! | feature | what it adds |
//! |---|---|
//! | (none)  | the ABI ([`abi`]), the snapshot reader ([`format`], relocation table included), the ELF reader and relocator ([`elf`]: the reference the tables are derived from and checked against), [`code::BufferCodeMemory`] |
//! | `alloc` | heap-allocated instances, `ModuleMeta` decoding (for the compiler), the zero-copy [`meta_view`] every loader reads, [`loader`] |
//! | `embed` | the safe snapshot API [`embed`] (x86-64; needs `alloc`, part of `std`) |
//! | `unix`  | [`code::MmapCodeMemory`] (anonymous `mmap` + `mprotect`, no std needed); checked linear memories reserved with `mmap` ([`vmem`]) |
//! | `std`   | `alloc` + `unix` + `embed` (default); on Linux x86-64 also guard-page memories ([`guard`]) |
//! | `write` | the snapshot and metadata writers (used by the compiler) |
//! | `wasi`  | WASI preview1 host functions (`wasi`) for every tier and the loader (needs `std`; cap-std sandbox) |
//! | `tiny-wasi` | the same functions without std or libc: raw Linux x86-64 system calls (`openat2` sandbox), for the size-built `bareflow-load`; `wasi` wins if both are on |
//! | `sign`  | Ed25519 verification of signed snapshots (`sign::verify`, `LoadedModule::load_signed`) |
#![no_std]
#![deny(missing_docs)]

// Layout (each folder one concept; module paths predate it and stay as they were):
//   abi.rs, trap.rs, error.rs, float.rs  the ABI every tier shares, the trap entry, errors
//   format/    the snapshot container (header, sections, entry and relocation tables)
//   meta/      module metadata: `ModuleMeta` (meta/mod.rs), its codec, the in-place view
//   instance/  the instance core: memories, tables, globals, instantiation, libcalls, grow
//   load/      the snapshot loader (loader.rs), code memory, the ELF reader, signatures
//   wasi/      WASI preview1 host functions

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
#[path = "load/code.rs"]
pub mod code;
#[path = "load/elf.rs"]
pub mod elf;
pub mod error;
pub mod format;
#[cfg(all(feature = "std", target_os = "linux", target_arch = "x86_64"))]
#[path = "instance/guard.rs"]
pub mod guard;
#[path = "load/sign.rs"]
pub mod sign;

pub use error::LoadError;

pub use abi::TrapCode;
#[cfg(all(feature = "embed", target_arch = "x86_64"))]
#[path = "load/embed.rs"]
pub mod embed;
#[cfg(feature = "alloc")]
pub mod instance;
#[cfg(all(feature = "alloc", target_arch = "x86_64"))]
#[path = "load/loader.rs"]
pub mod loader;
#[cfg(feature = "alloc")]
pub mod meta;
#[cfg(feature = "alloc")]
#[path = "meta/codec.rs"]
pub mod meta_codec;
#[cfg(feature = "alloc")]
#[path = "meta/view.rs"]
pub mod meta_view;
#[cfg(target_arch = "x86_64")]
pub mod trap;
#[cfg(feature = "unix")]
#[path = "instance/vmem.rs"]
pub mod vmem;
#[cfg(any(
    feature = "wasi",
    all(feature = "tiny-wasi", target_os = "linux", target_arch = "x86_64")
))]
pub mod wasi;
