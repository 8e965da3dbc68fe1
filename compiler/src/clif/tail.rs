//! Tail calls (`return_call`, `return_call_indirect`) in compiled code.
//!
//! Every wasm function's native ABI uses Cranelift's `tail` calling convention
//! ([`WASM_CALL_CONV`], see docs/ABI.md), so a tail call is a Cranelift `return_call` /
//! `return_call_indirect`: the callee reuses the caller's frame and the host stack stays
//! as deep as it was. The array ABI (trampolines, OSR entries, libcalls, host functions)
//! keeps the platform convention; a tail call inside an OSR entry (array signature) is a
//! call followed by a return (one extra frame for the rest of that call, no growth).

use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{InstBuilder, SigRef, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use runtime_loader::abi;

use super::env::{ClifEnv, trusted};

/// The calling convention of every wasm function's native ABI.
pub const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// Tail-calls through a `*const FuncRef` (loads `native` and `vmctx` at the call, like
/// [`ClifEnv::call_func_ref`]). Terminates the current block.
pub fn return_call_func_ref(b: &mut FunctionBuilder, sig: SigRef, func_ref: Value, args: &[Value]) {
    let native = b.ins().load(I64, trusted(), func_ref, abi::FUNC_REF_NATIVE);
    let callee_vmctx = b.ins().load(I64, trusted(), func_ref, abi::FUNC_REF_VMCTX);
    let mut all = Vec::with_capacity(args.len() + 2);
    all.push(callee_vmctx);
    all.push(func_ref);
    all.extend_from_slice(args);
    b.ins().return_call_indirect(sig, native, &all);
}

/// Tail-calls function `index` (`return_call`): a direct `return_call` when
/// [`ClifEnv::direct_callee`] knows the callee, otherwise through its `FuncRef`.
/// Terminates the current block.
pub fn return_call_direct(
    env: &mut dyn ClifEnv,
    b: &mut FunctionBuilder,
    vmctx: Value,
    index: u32,
    sig: SigRef,
    args: &[Value],
) {
    let func_ref = env.func_ref(b, vmctx, index);
    let Some(callee) = env.direct_callee(b.func, index) else {
        return return_call_func_ref(b, sig, func_ref, args);
    };
    let mut all = Vec::with_capacity(args.len() + 2);
    all.push(vmctx);
    all.push(func_ref);
    all.extend_from_slice(args);
    b.ins().return_call(callee, &all);
}
