//! Link step of the no_std `bareflow-load` (issue #21 item 1): no unwind tables.
//!
//! Nothing in `bareflow-load` unwinds: built `#![no_std]` with `panic = "abort"` (the
//! `min-size` profile, see the binary's header) its panic handler aborts; in the other profiles
//! (std, unwinding panics) a panic cannot leave its `extern "C" fn main` and aborts there too,
//! and a trap leaves compiled code through the loader's own trap context (src/trap.rs), not
//! through DWARF unwinding. (A build script cannot see the profile's panic strategy:
//! `CARGO_CFG_PANIC` is the target's default. So the condition is the feature set instead.)
//! The `.eh_frame` / `.eh_frame_hdr` sections the toolchain still emits (the precompiled
//! `core` / `alloc` carry unwind tables, so `-C force-unwind-tables=no` alone does not remove
//! them) were ~19 KB of the stripped binary. This script passes the binary's link step a small
//! linker script that discards them (`INSERT` keeps the linker's default layout for
//! everything else; works with rust-lld and GNU ld) plus `--no-eh-frame-hdr`. Only that binary
//! and only without feature `std` (the size builds, `--no-default-features --features
//! alloc,unix[,tiny-wasi|sign]`): std builds, the library and every test binary link as
//! before. The workspace's `.cargo/config.toml` flags are untouched.
use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let no_std = env::var_os("CARGO_FEATURE_STD").is_none();
    let bin =
        env::var_os("CARGO_FEATURE_ALLOC").is_some() && env::var_os("CARGO_FEATURE_UNIX").is_some();
    if !(linux && no_std && bin) {
        return;
    }
    let script =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("no-eh-frame.ld");
    fs::write(
        &script,
        "/* Written by runtime-loader/build.rs: bareflow-load never unwinds. */\n\
         SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) } } INSERT AFTER .text;\n",
    )
    .expect("write the linker script into OUT_DIR");
    println!("cargo:rustc-link-arg-bin=bareflow-load=-Wl,--no-eh-frame-hdr");
    println!(
        "cargo:rustc-link-arg-bin=bareflow-load=-Wl,-T,{}",
        script.display()
    );
}
