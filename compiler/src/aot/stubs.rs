//! Native→array stubs for imported functions, emitted into the snapshot object.
//!
//! The loader has no compiler, yet compiled code calls an imported function through its
//! `FuncRef::native`. For every module type `t` used by an imported function the object
//! gets `bf_s<t>` (`runtime_loader::loader::import_stub_symbol`): a native-ABI function that
//! spills its parameters to an 8-byte-slot buffer on its stack, calls the callee's
//! `FuncRef::array` (a host `ArrayFn`, e.g. a WASI function), raises a non-zero status
//! through `vmctx.libcalls[RAISE_TRAP]`, and returns the results from the buffer. The
//! embedder must therefore give host `FuncRef`s a `vmctx` with a libcall table and trap
//! context (the importing instance's vmctx does).

use std::collections::BTreeSet;

use cranelift_codegen::Context;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module};
use cranelift_object::ObjectModule;
use runtime_loader::abi;
use runtime_loader::loader::import_stub_symbol;
use runtime_loader::meta::{ImportKind, ModuleMeta};
use runtime_loader::trap::TRAP_CTX_LAST_FUNC;

use super::AotError;
use crate::clif::{self, ClifEnv, ModuleInfo, VmctxEnv};

/// Defines `bf_s<t>` for every type of an imported function.
pub(super) fn emit_import_stubs(
    obj: &mut ObjectModule,
    meta: &ModuleMeta,
    info: &ModuleInfo,
    call_conv: CallConv,
    frontend: TargetFrontendConfig,
) -> Result<(), AotError> {
    let types: BTreeSet<u32> = meta
        .imports
        .iter()
        .filter_map(|i| match i.kind {
            ImportKind::Func(t) => Some(t),
            _ => None,
        })
        .collect();
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for t in types {
        let ty = info
            .types
            .get(t as usize)
            .ok_or(AotError::Codegen(format!("import type {t} out of range")))?;
        let sig = clif::native_signature(ty, call_conv)
            .map_err(|error| AotError::Translate { func: 0, error })?;
        let id = obj.declare_function(&import_stub_symbol(t), Linkage::Export, &sig)?;
        ctx.clear();
        ctx.func.signature = sig;
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        clif::stubs::native_to_array_stub(b, call_conv, frontend, |b, vmctx, status| {
            // The trap came from host code: no compiled function to name.
            let flags = MemFlagsData::trusted();
            let tctx = b.ins().load(I64, flags, vmctx, abi::VMCTX_TRAP_CTX);
            let null = b.ins().iconst(I64, 0);
            b.ins().store(flags, null, tctx, TRAP_CTX_LAST_FUNC);
            VmctxEnv { call_conv }.raise_trap(b, vmctx, status);
        });
        obj.define_function(id, &mut ctx)?;
    }
    Ok(())
}
