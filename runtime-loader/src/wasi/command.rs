//! Running a WASI command from a loaded snapshot: the loader's side of WASI.
//!
//! Every import must be a `wasi_snapshot_preview1` function with preview1's signature. Each
//! gets a host `FuncRef` whose `array` is the function's [`WasiFunc::entry`](super::WasiFunc::entry), whose
//! `host_data` is the [`WasiCtx`], and whose `native` is the snapshot's import stub of its
//! type (`bf_s<t>`, see [`LoadedModule::import_stub`]); its `vmctx` is the instance's, so a
//! trap (`proc_exit`) raised by the stub unwinds through the instance's trap context.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{MODULE, WasiCtx, lookup};
use crate::abi::{FuncRef, TrapCode, func_kind};
use crate::code::CodeMemory;
use crate::instance::{Imports, InstanceError};
use crate::loader::{LoadedModule, call};
use crate::meta::ExportKind;
use crate::trap::TrapContext;

/// Why a command could not run to completion.
#[derive(Debug)]
pub enum CommandError {
    /// An import that is not a preview1 function (or has another signature).
    Unlinkable(String),
    /// The snapshot has no native stub for an imported function's type.
    MissingStub(u32),
    /// Instantiation failed.
    Instance(InstanceError),
    /// The module exports no `_start` function.
    NoStart,
    /// The program trapped (anything but `proc_exit`).
    Trap(TrapCode),
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::Unlinkable(s) => f.write_str(s),
            // Pieces, not `write!`: no integer-formatting code in the size-built loader.
            CommandError::MissingStub(t) => {
                f.write_str("the snapshot has no import stub for type ")?;
                crate::error::write_decimal(f, u64::from(*t))?;
                f.write_str(" (recompile it with this version)")
            }
            CommandError::Instance(e) => {
                f.write_str("instantiation failed: ")?;
                core::fmt::Display::fmt(e, f)
            }
            CommandError::NoStart => f.write_str("the module exports no `_start` function"),
            CommandError::Trap(t) => core::fmt::Display::fmt(t, f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CommandError {}

/// `what` `module::name` (built by hand: no `format!` machinery in the size-built loader). A
/// name that is not UTF-8 (the compiler never writes one) shows as `?`: no lossy decoder in
/// the size-built loader.
fn import_message(what: &str, module: &[u8], name: &[u8]) -> String {
    let text = |b| core::str::from_utf8(b).unwrap_or("?");
    let mut s = String::from(what);
    s.push_str(text(module));
    s.push_str("::");
    s.push_str(text(name));
    s
}

/// Instantiates `module` with its WASI imports bound to `ctx`, runs the start function and
/// `_start`, and returns the exit status (0 when `_start` returns, the `proc_exit` status
/// otherwise).
///
/// # Errors
/// [`CommandError`]; a trap other than `proc_exit` is [`CommandError::Trap`].
pub fn run_command<M: CodeMemory>(
    module: &LoadedModule<M>,
    ctx: &mut WasiCtx,
) -> Result<u32, CommandError> {
    let meta = module.meta();
    let type_ids = meta.canonical_type_ids();
    let ctx_ptr: *mut WasiCtx = ctx;
    let mut host: Vec<Box<FuncRef>> = Vec::new();
    let mut imports = Imports::default();
    // Imports come first in the function index space: the `i`-th import is function `i`.
    for i in 0..meta.num_imports() {
        let imp = meta.import(i);
        let what = || import_message("unknown import ", imp.module, imp.name);
        if imp.kind != ExportKind::Func {
            return Err(CommandError::Unlinkable(what()));
        }
        let t = meta.func_type_index(i);
        let f = core::str::from_utf8(imp.name)
            .ok()
            .and_then(lookup)
            .filter(|_| imp.module == MODULE.as_bytes())
            .ok_or_else(|| CommandError::Unlinkable(what()))?;
        let ty = meta.type_at(t);
        if !ty.param_types().eq(f.params().iter().copied())
            || !ty.result_types().eq(f.results().iter().copied())
        {
            return Err(CommandError::Unlinkable(import_message(
                "incompatible import type for ",
                imp.module,
                imp.name,
            )));
        }
        let native = module.import_stub(t);
        if native.is_null() {
            return Err(CommandError::MissingStub(t));
        }
        let fr = Box::new(FuncRef {
            native,
            array: f.entry() as *const u8,
            vmctx: core::ptr::null_mut(),
            type_id: type_ids[t as usize],
            func_index: f.index() as u32,
            kind: func_kind::HOST,
            reserved: 0,
            host_data: ctx_ptr.cast(),
        });
        imports.funcs.push(&*fr as *const FuncRef);
        host.push(fr);
    }
    let mut trap_ctx = Box::new(TrapContext::default());
    // SAFETY: the imported FuncRefs (`host`), `trap_ctx` and `module` outlive the instance,
    // which is dropped at the end of this function before them (declared later).
    let inst =
        unsafe { module.instantiate(type_ids, imports, core::ptr::null_mut(), &mut *trap_ctx) }
            .map_err(CommandError::Instance)?;
    for fr in &mut host {
        fr.vmctx = inst.vmctx();
    }
    let memory = meta
        .export_named(b"memory")
        .filter(|e| e.kind == ExportKind::Memory)
        .and_then(|e| inst.memory(e.index));
    if let Some(m) = memory {
        // SAFETY: `LinearMemory` is `#[repr(C)]` with its `MemoryDef` first, and it lives
        // as long as the instance, i.e. for every call of the guest below.
        unsafe { (*ctx_ptr).bind_memory(m.cast()) };
    }
    let outcome = (|| {
        inst.initialize(&meta)?;
        if let Some(start) = meta.start() {
            // SAFETY: the start function takes and returns nothing; one slot is enough.
            unsafe { call(&inst, start, &mut [0u64]) }?;
        }
        let start = meta
            .export_named(b"_start")
            .filter(|e| e.kind == ExportKind::Func)
            .ok_or(TrapCode::HostError)?;
        // SAFETY: `_start` is `() -> ()` in a WASI command; one slot is enough.
        unsafe { call(&inst, start.index, &mut [0u64]) }
    })();
    // SAFETY: no guest code runs any more.
    unsafe { (*ctx_ptr).bind_memory(core::ptr::null_mut()) };
    drop(inst);
    match outcome {
        Ok(()) => Ok(0),
        Err(TrapCode::Exit) => Ok(ctx.exit_status().unwrap_or(1)),
        Err(TrapCode::HostError) if meta.export_named(b"_start").is_none() => {
            Err(CommandError::NoStart)
        }
        Err(t) => Err(CommandError::Trap(t)),
    }
}
