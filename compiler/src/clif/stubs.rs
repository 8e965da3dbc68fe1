//! Bodies of the ABI adapters shared by the JIT and the object writer.
//!
//! * The raw array→native trampoline: `(vmctx, callee, values) -> status` loads the
//!   arguments from the 8-byte slots (a `v128` takes two, low half first), calls `callee->native` and stores the results back.
//! * The native→array stub: a native-ABI function that spills its arguments to slots on its
//!   stack, calls `callee->array` and raises a non-zero status as a trap.
//!
//! Only how a trap is raised from a stub differs between the two users (an absolute address
//! in the JIT, the vmctx libcall table in a snapshot), so the caller passes that part in.

use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Signature, Value};
use cranelift_codegen::ir::{StackSlotData, StackSlotKind};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::FunctionBuilder;
use runtime_loader::abi;

use super::translate::{slot_flags, slots_of};
use super::{array_signature, widen};

/// Creates, fills and seals the entry block; returns its parameters.
fn entry_params(b: &mut FunctionBuilder) -> Vec<Value> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    b.block_params(entry).to_vec()
}

/// Builds a raw array→native trampoline into `b`'s function (which must have the
/// [`array_signature`]): `params` are the callee's parameter types and `native_sig` its
/// native signature. It returns status 0; a trap unwinds through it, so it must be entered
/// through `trap::enter`.
pub fn raw_array_trampoline(
    mut b: FunctionBuilder<'_>,
    params: &[ir::Type],
    native_sig: Signature,
    frontend: TargetFrontendConfig,
) {
    let p = entry_params(&mut b);
    let (vmctx, callee, values) = (p[0], p[1], p[2]);
    let flags = MemFlagsData::trusted();
    let mut args = vec![vmctx, callee];
    let mut slot = 0;
    for t in params {
        args.push(b.ins().load(*t, slot_flags(*t), values, (slot * 8) as i32));
        slot += slots_of(*t);
    }
    let sig = b.import_signature(native_sig);
    let native = b.ins().load(I64, flags, callee, abi::FUNC_REF_NATIVE);
    let call = b.ins().call_indirect(sig, native, &args);
    let results = b.inst_results(call).to_vec();
    let mut slot = 0;
    for r in results {
        let ty = b.func.dfg.value_type(r);
        let v = widen(&mut b, r);
        b.ins().store(slot_flags(ty), v, values, (slot * 8) as i32);
        slot += slots_of(ty);
    }
    let ok = b.ins().iconst(I32, 0);
    b.ins().return_(&[ok]);
    b.finalize(frontend);
}

/// Builds a native→array stub into `b`'s function (which must have the callee's native
/// signature). On a non-zero status, `raise(b, vmctx, status)` emits the code that raises
/// it (it must not return; a `trap` instruction follows as a terminator).
pub fn native_to_array_stub(
    mut b: FunctionBuilder<'_>,
    call_conv: CallConv,
    frontend: TargetFrontendConfig,
    raise: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value),
) {
    let p = entry_params(&mut b);
    let (vmctx, callee) = (p[0], p[1]);
    let returns: Vec<ir::Type> = b
        .func
        .signature
        .returns
        .iter()
        .map(|r| r.value_type)
        .collect();
    let param_slots: usize = p[2..]
        .iter()
        .map(|v| slots_of(b.func.dfg.value_type(*v)))
        .sum();
    let result_slots: usize = returns.iter().map(|t| slots_of(*t)).sum();
    let slots = param_slots.max(result_slots).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (slots * 8) as u32,
        3,
    ));
    let values = b.ins().stack_addr(I64, slot, 0);
    let flags = MemFlagsData::trusted();
    let mut slot = 0;
    for v in &p[2..] {
        let ty = b.func.dfg.value_type(*v);
        let w = widen(&mut b, *v);
        b.ins().store(slot_flags(ty), w, values, (slot * 8) as i32);
        slot += slots_of(ty);
    }
    let array = b.ins().load(I64, flags, callee, abi::FUNC_REF_ARRAY);
    let sig = b.import_signature(array_signature(call_conv));
    let call = b.ins().call_indirect(sig, array, &[vmctx, callee, values]);
    let status = b.inst_results(call)[0];
    let trap = b.create_block();
    let done = b.create_block();
    b.set_cold_block(trap);
    b.ins().brif(status, trap, &[], done, &[]);
    b.seal_block(trap);
    b.seal_block(done);
    b.switch_to_block(trap);
    raise(&mut b, vmctx, status);
    b.ins().trap(ir::TrapCode::unwrap_user(1));
    b.switch_to_block(done);
    let mut results = Vec::with_capacity(returns.len());
    let mut slot = 0;
    for t in &returns {
        results.push(b.ins().load(*t, slot_flags(*t), values, (slot * 8) as i32));
        slot += slots_of(*t);
    }
    b.ins().return_(&results);
    b.finalize(frontend);
}
