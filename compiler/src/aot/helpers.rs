//! The libcalls of baseline (SSE2) x86-64 code, compiled into the snapshot itself.
//!
//! Without SSE4.1 Cranelift lowers `floor`, `ceil`, `trunc` and `nearest` to calls of
//! `floorf`, `ceilf`, ..., and without SSSE3 `i8x16.swizzle` (and the shuffles that need
//! `pshufb`) to `__cranelift_x86_pshufb`. After the parallel compile the exporter knows which
//! of these the code asked for ([`needed`]); [`define`] defines exactly those as local
//! functions of the object under their libcall names (cranelift-object binds a libcall to an
//! existing symbol of that name), written in CLIF with SSE2-only operations, so every call
//! is a PC-relative call inside `.text` that `resolve_in_place` resolves at export and no
//! snapshot needs the loader to relocate anything.
//!
//! Rounding, for `|x| < 2^M` (M = 23 for `f32`, 52 for `f64`, the mantissa width):
//! `nearest(x) = copysign((|x| + 2^M) - 2^M, x)`: the sum lies in `[2^M, 2^(M+1))`, where
//! the spacing is 1, so the hardware's round-to-nearest-even rounds it to an integer.
//! Larger or infinite `x` are integral already (returned unchanged); a NaN returns `x + x`
//! (quieted, payload and sign kept, as `roundss` does). `floor`, `ceil` and `trunc` adjust
//! that integer by one where it lies on the wrong side of `x` (of `|x|` for `trunc`) and take
//! the sign of `x`, which is the sign of every zero result (`ceil(-0.5) = -0`).

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, I8, I8X16, I64};
use cranelift_codegen::ir::{
    InstBuilder, LibCall, MemFlagsData, StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module, ModuleRelocTarget};
use cranelift_object::ObjectModule;

use super::AotError;

/// The libcalls this module can define.
const SUPPORTED: [LibCall; 9] = [
    LibCall::FloorF32,
    LibCall::FloorF64,
    LibCall::CeilF32,
    LibCall::CeilF64,
    LibCall::TruncF32,
    LibCall::TruncF64,
    LibCall::NearestF32,
    LibCall::NearestF64,
    LibCall::X86Pshufb,
];

/// The libcalls named by `relocs`, each once, in first-use order. Any libcall this module
/// cannot define is an error naming its symbol (the snapshot would need the loader to
/// provide it, and loaders provide nothing).
pub(super) fn needed<'a>(
    relocs: impl IntoIterator<Item = &'a cranelift_module::ModuleReloc>,
) -> Result<Vec<LibCall>, AotError> {
    let mut out = Vec::new();
    for r in relocs {
        if let ModuleRelocTarget::LibCall(l) = r.name {
            if !SUPPORTED.contains(&l) {
                return Err(unsupported(l));
            }
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    Ok(out)
}

fn unsupported(l: LibCall) -> AotError {
    AotError::Codegen(format!(
        "the code calls `{}`, which a snapshot cannot contain (loaders resolve no external \
         symbols); compile for a CPU that has the instruction (--target-cpu)",
        (cranelift_module::default_libcall_names())(l)
    ))
}

/// Defines each of `libcalls` as a local function of `obj` under its default libcall name.
pub(super) fn define(
    obj: &mut ObjectModule,
    libcalls: &[LibCall],
    call_conv: CallConv,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    frontend: TargetFrontendConfig,
) -> Result<(), AotError> {
    let names = cranelift_module::default_libcall_names();
    for &l in libcalls {
        let sig = l.signature(call_conv, I64);
        let id = obj.declare_function(&names(l), Linkage::Local, &sig)?;
        ctx.clear();
        ctx.func.signature = sig;
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let p = b.block_params(entry).to_vec();
        let r = match l {
            LibCall::FloorF32 | LibCall::FloorF64 => {
                let x = p[0];
                let n = nearest(&mut b, x);
                let above = b.ins().fcmp(FloatCC::GreaterThan, n, x);
                let r = step(&mut b, above, n, -1.0);
                b.ins().fcopysign(r, x)
            }
            LibCall::CeilF32 | LibCall::CeilF64 => {
                let x = p[0];
                let n = nearest(&mut b, x);
                let below = b.ins().fcmp(FloatCC::LessThan, n, x);
                let r = step(&mut b, below, n, 1.0);
                b.ins().fcopysign(r, x)
            }
            LibCall::TruncF32 | LibCall::TruncF64 => {
                let x = p[0];
                let a = b.ins().fabs(x);
                let n = nearest(&mut b, a);
                let above = b.ins().fcmp(FloatCC::GreaterThan, n, a);
                let r = step(&mut b, above, n, -1.0);
                b.ins().fcopysign(r, x)
            }
            LibCall::NearestF32 | LibCall::NearestF64 => nearest(&mut b, p[0]),
            LibCall::X86Pshufb => pshufb(&mut b, p[0], p[1]),
            other => return Err(unsupported(other)),
        };
        b.ins().return_(&[r]);
        b.finalize(frontend);
        obj.define_function(id, ctx)?;
    }
    Ok(())
}

fn fconst(b: &mut FunctionBuilder<'_>, ty: Type, v: f64) -> Value {
    if ty == F32 {
        b.ins().f32const(v as f32)
    } else {
        b.ins().f64const(v)
    }
}

/// `n + d` where `cond`, else `n` (`d` = ±1).
fn step(b: &mut FunctionBuilder<'_>, cond: Value, n: Value, d: f64) -> Value {
    let ty = b.func.dfg.value_type(n);
    let one = fconst(b, ty, d);
    let moved = b.ins().fadd(n, one);
    b.ins().select(cond, moved, n)
}

/// Round to nearest, ties to even (see the module comment).
fn nearest(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let big = fconst(
        b,
        ty,
        if ty == F64 {
            2f64.powi(52)
        } else {
            2f64.powi(23)
        },
    );
    let a = b.ins().fabs(x);
    let up = b.ins().fadd(a, big);
    let r = b.ins().fsub(up, big);
    let r = b.ins().fcopysign(r, x);
    // Not below 2^M: integral or infinite (x), or NaN (x + x, quieted).
    let small = b.ins().fcmp(FloatCC::LessThan, a, big);
    let nan = b.ins().fcmp(FloatCC::Unordered, x, x);
    let quiet = b.ins().fadd(x, x);
    let other = b.ins().select(nan, quiet, x);
    b.ins().select(small, r, other)
}

/// `pshufb a, m`: byte `i` is 0 if bit 7 of `m[i]` is set, else `a[m[i] & 15]`; byte by byte
/// through stack slots.
fn pshufb(b: &mut FunctionBuilder<'_>, a: Value, m: Value) -> Value {
    let slot = |b: &mut FunctionBuilder<'_>| {
        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4))
    };
    let (sa, sm, sr) = (slot(b), slot(b), slot(b));
    b.ins().stack_store(I64, a, sa, 0);
    b.ins().stack_store(I64, m, sm, 0);
    let base = b.ins().stack_addr(I64, sa, 0);
    let flags = MemFlagsData::trusted();
    for i in 0..16 {
        let mi = b.ins().stack_load(I64, I8, sm, i);
        let idx = b.ins().band_imm_u(mi, 15);
        let idx = b.ins().uextend(I64, idx);
        let at = b.ins().iadd(base, idx);
        let v = b.ins().load(I8, flags, at, 0);
        let zero = b.ins().iconst(I8, 0);
        let off = b.ins().icmp_imm_s(IntCC::SignedLessThan, mi, 0);
        let v = b.ins().select(off, zero, v);
        b.ins().stack_store(I64, v, sr, i);
    }
    b.ins().stack_load(I64, I8X16, sr, 0)
}
