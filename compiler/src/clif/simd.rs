//! Fixed-width SIMD and relaxed SIMD operators → CLIF (a child of `translate`).
//!
//! Every `v128` value on the translator's value stack (and in locals, block parameters,
//! signatures and globals) has the Cranelift type `I8X16`; an operator bitcasts its operands
//! to the lane view it works on (`I16X8`, `F32X4`, ...) and its result back. Vector bitcasts
//! are register no-ops on x86-64, so the views cost nothing.
//!
//! Memory accesses go through the same bounds check as scalar ones (`heap_addr` with the
//! access width: 16 for `v128.load`/`store`, 8 for `load8x8_s` and `load64_zero`, the lane
//! width for splats and lane accesses) and carry the same trap flags in guard mode.
//!
//! Relaxed SIMD follows the deterministic table in docs/ABI.md ("Relaxed SIMD").

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64, I64X2};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use wasmparser::{MemArg, Operator};

use super::{Result, Translator, unsupported_name};
use crate::clif::TranslateError;

/// Flags of a vector bitcast (changing the lane count needs an explicit byte order).
fn little() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Whether `op` reads or writes linear memory (for `uses_memory`).
pub(super) fn is_memory_op(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::V128Load { .. }
            | O::V128Load8x8S { .. }
            | O::V128Load8x8U { .. }
            | O::V128Load16x4S { .. }
            | O::V128Load16x4U { .. }
            | O::V128Load32x2S { .. }
            | O::V128Load32x2U { .. }
            | O::V128Load8Splat { .. }
            | O::V128Load16Splat { .. }
            | O::V128Load32Splat { .. }
            | O::V128Load64Splat { .. }
            | O::V128Load32Zero { .. }
            | O::V128Load64Zero { .. }
            | O::V128Store { .. }
            | O::V128Load8Lane { .. }
            | O::V128Load16Lane { .. }
            | O::V128Load32Lane { .. }
            | O::V128Load64Lane { .. }
            | O::V128Store8Lane { .. }
            | O::V128Store16Lane { .. }
            | O::V128Store32Lane { .. }
            | O::V128Store64Lane { .. }
    )
}

/// A 16-byte `v128` constant (`I8X16`) in `b`'s function.
pub(super) fn v128_const(
    b: &mut cranelift_frontend::FunctionBuilder<'_>,
    bytes: [u8; 16],
) -> Value {
    let c = b.func.dfg.constants.insert(ConstantData::from(&bytes[..]));
    b.ins().vconst(I8X16, c)
}

impl<'a, 'f> Translator<'a, 'f> {
    /// `v` (any 128-bit vector type) as `ty`.
    fn view(&mut self, v: Value, ty: Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().bitcast(ty, little(), v)
        }
    }

    /// Pops a `v128` as a `ty` vector.
    fn pop_v(&mut self, ty: Type) -> Result<Value> {
        let v = self.pop()?;
        Ok(self.view(v, ty))
    }

    /// Pushes a vector result (stored as `I8X16`).
    fn push_v(&mut self, v: Value) {
        let v = self.view(v, I8X16);
        self.push(v);
    }

    fn v_unop(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) -> Result<()> {
        let a = self.pop_v(ty)?;
        let r = f(self, a);
        self.push_v(r);
        Ok(())
    }

    fn v_binop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut Self, Value, Value) -> Value,
    ) -> Result<()> {
        let y = self.pop_v(ty)?;
        let x = self.pop_v(ty)?;
        let r = f(self, x, y);
        self.push_v(r);
        Ok(())
    }

    fn v_icmp(&mut self, ty: Type, cc: IntCC) -> Result<()> {
        self.v_binop(ty, |t, x, y| t.b.ins().icmp(cc, x, y))
    }

    fn v_fcmp(&mut self, ty: Type, cc: FloatCC) -> Result<()> {
        self.v_binop(ty, |t, x, y| t.b.ins().fcmp(cc, x, y))
    }

    /// Shift by a scalar i32 amount (Cranelift masks it to the lane width, as wasm does).
    fn v_shift(&mut self, ty: Type, kind: u8) -> Result<()> {
        let amt = self.pop()?;
        let x = self.pop_v(ty)?;
        let r = match kind {
            0 => self.b.ins().ishl(x, amt),
            1 => self.b.ins().sshr(x, amt),
            _ => self.b.ins().ushr(x, amt),
        };
        self.push_v(r);
        Ok(())
    }

    /// `v128.any_true` / `*.all_true`: an i32 0 or 1.
    fn v_test(&mut self, ty: Type, all: bool) -> Result<()> {
        let x = self.pop_v(ty)?;
        let c = if all {
            self.b.ins().vall_true(x)
        } else {
            self.b.ins().vany_true(x)
        };
        let r = self.b.ins().uextend(I32, c);
        self.push(r);
        Ok(())
    }

    /// Widens `x` (a `ty` vector) to twice the lane width: low or high half, signed or not.
    fn widen_half(&mut self, x: Value, signed: bool, high: bool) -> Value {
        let ins = self.b.ins();
        match (signed, high) {
            (true, false) => ins.swiden_low(x),
            (true, true) => ins.swiden_high(x),
            (false, false) => ins.uwiden_low(x),
            (false, true) => ins.uwiden_high(x),
        }
    }

    fn v_extend(&mut self, ty: Type, signed: bool, high: bool) -> Result<()> {
        let x = self.pop_v(ty)?;
        let r = self.widen_half(x, signed, high);
        self.push_v(r);
        Ok(())
    }

    fn v_extmul(&mut self, ty: Type, signed: bool, high: bool) -> Result<()> {
        let y = self.pop_v(ty)?;
        let x = self.pop_v(ty)?;
        let x = self.widen_half(x, signed, high);
        let y = self.widen_half(y, signed, high);
        let r = self.b.ins().imul(x, y);
        self.push_v(r);
        Ok(())
    }

    /// Pairwise sum of adjacent lanes widened to twice the width.
    fn extadd_pairwise(&mut self, x: Value, signed: bool) -> Value {
        let lo = self.widen_half(x, signed, false);
        let hi = self.widen_half(x, signed, true);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// `pmin`/`pmax`: `pmin(a, b) = b < a ? b : a`, `pmax(a, b) = a < b ? b : a`, bitwise.
    fn v_pminmax(&mut self, ty: Type, max: bool) -> Result<()> {
        self.v_binop(ty, |t, a, b| {
            let c = if max {
                t.b.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                t.b.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let c = t.view(c, ty);
            t.b.ins().bitselect(c, b, a)
        })
    }

    /// `a * b + c` (relaxed madd, unfused) or `c - a * b` (relaxed nmadd, unfused).
    fn v_madd(&mut self, ty: Type, negate: bool) -> Result<()> {
        let c = self.pop_v(ty)?;
        let b = self.pop_v(ty)?;
        let a = self.pop_v(ty)?;
        let p = self.b.ins().fmul(a, b);
        let r = if negate {
            self.b.ins().fsub(c, p)
        } else {
            self.b.ins().fadd(p, c)
        };
        self.push_v(r);
        Ok(())
    }

    /// `v128.bitselect a b m` (also every relaxed laneselect).
    fn v_bitselect(&mut self) -> Result<()> {
        let m = self.pop_v(I8X16)?;
        let b = self.pop_v(I8X16)?;
        let a = self.pop_v(I8X16)?;
        let r = self.b.ins().bitselect(m, a, b);
        self.push_v(r);
        Ok(())
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: two converted lanes, two zero lanes.
    fn trunc_sat_zero(&mut self, signed: bool) -> Result<()> {
        let x = self.pop_v(F64X2)?;
        // A zero constant of type I64X2 itself: the x86-64 lowering matches
        // `snarrow (fcvt_to_sint_sat x) (vconst 0)` (and the unsigned form) as a whole.
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(&[0u8; 16][..]));
        let zero = self.b.ins().vconst(I64X2, c);
        let r = if signed {
            let w = self.b.ins().fcvt_to_sint_sat(I64X2, x);
            self.b.ins().snarrow(w, zero)
        } else {
            let w = self.b.ins().fcvt_to_uint_sat(I64X2, x);
            self.b.ins().uunarrow(w, zero)
        };
        self.push_v(r);
        Ok(())
    }

    /// The relaxed i8x16 · i7x16 dot product as the table fixes it: per i16 lane, the two
    /// signed byte products summed with wrapping.
    fn relaxed_dot(&mut self, a: Value, b: Value) -> Value {
        let a = self.view(a, I16X8);
        let b = self.view(b, I16X8);
        let eight = self.b.ins().iconst(I32, 8);
        let even = |t: &mut Self, x: Value| {
            let s = t.b.ins().ishl(x, eight);
            t.b.ins().sshr(s, eight)
        };
        let ae = even(self, a);
        let be = even(self, b);
        let ao = self.b.ins().sshr(a, eight);
        let bo = self.b.ins().sshr(b, eight);
        let pe = self.b.ins().imul(ae, be);
        let po = self.b.ins().imul(ao, bo);
        self.b.ins().iadd(pe, po)
    }

    // ---- memory -----------------------------------------------------------------------

    fn v_load(&mut self, memarg: &MemArg) -> Result<()> {
        let addr = self.heap_addr(memarg, 16)?;
        let f = self.access_flags(memarg);
        let v = self.b.ins().load(I8X16, f, addr, 0);
        self.push_v(v);
        Ok(())
    }

    /// `v128.loadNxM_{s,u}`: 8 bytes widened to `M` lanes.
    fn v_load_ext(&mut self, memarg: &MemArg, lanes: Type, signed: bool) -> Result<()> {
        let addr = self.heap_addr(memarg, 8)?;
        let f = self.access_flags(memarg);
        let ins = self.b.ins();
        let v = match (lanes, signed) {
            (I16X8, true) => ins.sload8x8(f, addr, 0),
            (I16X8, false) => ins.uload8x8(f, addr, 0),
            (I32X4, true) => ins.sload16x4(f, addr, 0),
            (I32X4, false) => ins.uload16x4(f, addr, 0),
            (_, true) => ins.sload32x2(f, addr, 0),
            (_, false) => ins.uload32x2(f, addr, 0),
        };
        self.push_v(v);
        Ok(())
    }

    fn v_load_splat(&mut self, memarg: &MemArg, scalar: Type, vector: Type) -> Result<()> {
        let addr = self.heap_addr(memarg, u64::from(scalar.bytes()))?;
        let f = self.access_flags(memarg);
        let x = self.b.ins().load(scalar, f, addr, 0);
        let v = self.b.ins().splat(vector, x);
        self.push_v(v);
        Ok(())
    }

    fn v_load_zero(&mut self, memarg: &MemArg, scalar: Type, vector: Type) -> Result<()> {
        let addr = self.heap_addr(memarg, u64::from(scalar.bytes()))?;
        let f = self.access_flags(memarg);
        let x = self.b.ins().load(scalar, f, addr, 0);
        // `scalar_to_vector` zeroes the other lanes.
        let v = self.b.ins().scalar_to_vector(vector, x);
        self.push_v(v);
        Ok(())
    }

    fn v_load_lane(&mut self, memarg: &MemArg, lane: u8, scalar: Type, vector: Type) -> Result<()> {
        let v = self.pop_v(vector)?;
        let addr = self.heap_addr(memarg, u64::from(scalar.bytes()))?;
        let f = self.access_flags(memarg);
        let x = self.b.ins().load(scalar, f, addr, 0);
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_v(r);
        Ok(())
    }

    fn v_store(&mut self, memarg: &MemArg) -> Result<()> {
        let v = self.pop_v(I8X16)?;
        let addr = self.heap_addr(memarg, 16)?;
        let f = self.access_flags(memarg);
        self.b.ins().store(f, v, addr, 0);
        Ok(())
    }

    fn v_store_lane(&mut self, memarg: &MemArg, lane: u8, vector: Type) -> Result<()> {
        let v = self.pop_v(vector)?;
        let x = self.b.ins().extractlane(v, lane);
        let addr = self.heap_addr(memarg, u64::from(vector.lane_type().bytes()))?;
        let f = self.access_flags(memarg);
        self.b.ins().store(f, x, addr, 0);
        Ok(())
    }

    // ---- lanes ------------------------------------------------------------------------

    fn extract(&mut self, vector: Type, lane: u8, signed: Option<bool>) -> Result<()> {
        let v = self.pop_v(vector)?;
        let x = self.b.ins().extractlane(v, lane);
        let r = match signed {
            Some(true) => self.b.ins().sextend(I32, x),
            Some(false) => self.b.ins().uextend(I32, x),
            None => x,
        };
        self.push(r);
        Ok(())
    }

    fn replace(&mut self, vector: Type, lane: u8) -> Result<()> {
        let x = self.pop()?;
        let v = self.pop_v(vector)?;
        let lt = vector.lane_type();
        let x = if lt == I8 || lt == I16 {
            self.b.ins().ireduce(lt, x)
        } else {
            x
        };
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_v(r);
        Ok(())
    }

    fn splat(&mut self, vector: Type) -> Result<()> {
        let x = self.pop()?;
        let lt = vector.lane_type();
        let x = if lt == I8 || lt == I16 {
            self.b.ins().ireduce(lt, x)
        } else {
            x
        };
        let r = self.b.ins().splat(vector, x);
        self.push_v(r);
        Ok(())
    }

    /// Translates one SIMD or relaxed-SIMD operator; any other operator is unsupported.
    pub(super) fn translate_simd(&mut self, op: Operator<'_>) -> Result<()> {
        use Operator as O;
        match op {
            // ---- memory ---------------------------------------------------------------------
            O::V128Load { memarg } => self.v_load(&memarg)?,
            O::V128Load8x8S { memarg } => self.v_load_ext(&memarg, I16X8, true)?,
            O::V128Load8x8U { memarg } => self.v_load_ext(&memarg, I16X8, false)?,
            O::V128Load16x4S { memarg } => self.v_load_ext(&memarg, I32X4, true)?,
            O::V128Load16x4U { memarg } => self.v_load_ext(&memarg, I32X4, false)?,
            O::V128Load32x2S { memarg } => self.v_load_ext(&memarg, I64X2, true)?,
            O::V128Load32x2U { memarg } => self.v_load_ext(&memarg, I64X2, false)?,
            O::V128Load8Splat { memarg } => self.v_load_splat(&memarg, I8, I8X16)?,
            O::V128Load16Splat { memarg } => self.v_load_splat(&memarg, I16, I16X8)?,
            O::V128Load32Splat { memarg } => self.v_load_splat(&memarg, I32, I32X4)?,
            O::V128Load64Splat { memarg } => self.v_load_splat(&memarg, I64, I64X2)?,
            O::V128Load32Zero { memarg } => self.v_load_zero(&memarg, I32, I32X4)?,
            O::V128Load64Zero { memarg } => self.v_load_zero(&memarg, I64, I64X2)?,
            O::V128Store { memarg } => self.v_store(&memarg)?,
            O::V128Load8Lane { memarg, lane } => self.v_load_lane(&memarg, lane, I8, I8X16)?,
            O::V128Load16Lane { memarg, lane } => self.v_load_lane(&memarg, lane, I16, I16X8)?,
            O::V128Load32Lane { memarg, lane } => self.v_load_lane(&memarg, lane, I32, I32X4)?,
            O::V128Load64Lane { memarg, lane } => self.v_load_lane(&memarg, lane, I64, I64X2)?,
            O::V128Store8Lane { memarg, lane } => self.v_store_lane(&memarg, lane, I8X16)?,
            O::V128Store16Lane { memarg, lane } => self.v_store_lane(&memarg, lane, I16X8)?,
            O::V128Store32Lane { memarg, lane } => self.v_store_lane(&memarg, lane, I32X4)?,
            O::V128Store64Lane { memarg, lane } => self.v_store_lane(&memarg, lane, I64X2)?,

            // ---- constants, shuffles, lanes -------------------------------------------------
            O::V128Const { value } => {
                let v = v128_const(&mut self.b, value.i128().to_le_bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let b = self.pop_v(I8X16)?;
                let a = self.pop_v(I8X16)?;
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(&lanes[..]));
                let r = self.b.ins().shuffle(a, b, mask);
                self.push_v(r);
            }
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.v_binop(I8X16, |t, a, s| t.b.ins().swizzle(a, s))?
            }
            O::I8x16ExtractLaneS { lane } => self.extract(I8X16, lane, Some(true))?,
            O::I8x16ExtractLaneU { lane } => self.extract(I8X16, lane, Some(false))?,
            O::I16x8ExtractLaneS { lane } => self.extract(I16X8, lane, Some(true))?,
            O::I16x8ExtractLaneU { lane } => self.extract(I16X8, lane, Some(false))?,
            O::I32x4ExtractLane { lane } => self.extract(I32X4, lane, None)?,
            O::I64x2ExtractLane { lane } => self.extract(I64X2, lane, None)?,
            O::F32x4ExtractLane { lane } => self.extract(F32X4, lane, None)?,
            O::F64x2ExtractLane { lane } => self.extract(F64X2, lane, None)?,
            O::I8x16ReplaceLane { lane } => self.replace(I8X16, lane)?,
            O::I16x8ReplaceLane { lane } => self.replace(I16X8, lane)?,
            O::I32x4ReplaceLane { lane } => self.replace(I32X4, lane)?,
            O::I64x2ReplaceLane { lane } => self.replace(I64X2, lane)?,
            O::F32x4ReplaceLane { lane } => self.replace(F32X4, lane)?,
            O::F64x2ReplaceLane { lane } => self.replace(F64X2, lane)?,
            O::I8x16Splat => self.splat(I8X16)?,
            O::I16x8Splat => self.splat(I16X8)?,
            O::I32x4Splat => self.splat(I32X4)?,
            O::I64x2Splat => self.splat(I64X2)?,
            O::F32x4Splat => self.splat(F32X4)?,
            O::F64x2Splat => self.splat(F64X2)?,

            // ---- comparisons ----------------------------------------------------------------
            O::I8x16Eq => self.v_icmp(I8X16, IntCC::Equal)?,
            O::I8x16Ne => self.v_icmp(I8X16, IntCC::NotEqual)?,
            O::I8x16LtS => self.v_icmp(I8X16, IntCC::SignedLessThan)?,
            O::I8x16LtU => self.v_icmp(I8X16, IntCC::UnsignedLessThan)?,
            O::I8x16GtS => self.v_icmp(I8X16, IntCC::SignedGreaterThan)?,
            O::I8x16GtU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThan)?,
            O::I8x16LeS => self.v_icmp(I8X16, IntCC::SignedLessThanOrEqual)?,
            O::I8x16LeU => self.v_icmp(I8X16, IntCC::UnsignedLessThanOrEqual)?,
            O::I8x16GeS => self.v_icmp(I8X16, IntCC::SignedGreaterThanOrEqual)?,
            O::I8x16GeU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual)?,
            O::I16x8Eq => self.v_icmp(I16X8, IntCC::Equal)?,
            O::I16x8Ne => self.v_icmp(I16X8, IntCC::NotEqual)?,
            O::I16x8LtS => self.v_icmp(I16X8, IntCC::SignedLessThan)?,
            O::I16x8LtU => self.v_icmp(I16X8, IntCC::UnsignedLessThan)?,
            O::I16x8GtS => self.v_icmp(I16X8, IntCC::SignedGreaterThan)?,
            O::I16x8GtU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThan)?,
            O::I16x8LeS => self.v_icmp(I16X8, IntCC::SignedLessThanOrEqual)?,
            O::I16x8LeU => self.v_icmp(I16X8, IntCC::UnsignedLessThanOrEqual)?,
            O::I16x8GeS => self.v_icmp(I16X8, IntCC::SignedGreaterThanOrEqual)?,
            O::I16x8GeU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual)?,
            O::I32x4Eq => self.v_icmp(I32X4, IntCC::Equal)?,
            O::I32x4Ne => self.v_icmp(I32X4, IntCC::NotEqual)?,
            O::I32x4LtS => self.v_icmp(I32X4, IntCC::SignedLessThan)?,
            O::I32x4LtU => self.v_icmp(I32X4, IntCC::UnsignedLessThan)?,
            O::I32x4GtS => self.v_icmp(I32X4, IntCC::SignedGreaterThan)?,
            O::I32x4GtU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThan)?,
            O::I32x4LeS => self.v_icmp(I32X4, IntCC::SignedLessThanOrEqual)?,
            O::I32x4LeU => self.v_icmp(I32X4, IntCC::UnsignedLessThanOrEqual)?,
            O::I32x4GeS => self.v_icmp(I32X4, IntCC::SignedGreaterThanOrEqual)?,
            O::I32x4GeU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual)?,
            O::I64x2Eq => self.v_icmp(I64X2, IntCC::Equal)?,
            O::I64x2Ne => self.v_icmp(I64X2, IntCC::NotEqual)?,
            O::I64x2LtS => self.v_icmp(I64X2, IntCC::SignedLessThan)?,
            O::I64x2GtS => self.v_icmp(I64X2, IntCC::SignedGreaterThan)?,
            O::I64x2LeS => self.v_icmp(I64X2, IntCC::SignedLessThanOrEqual)?,
            O::I64x2GeS => self.v_icmp(I64X2, IntCC::SignedGreaterThanOrEqual)?,
            O::F32x4Eq => self.v_fcmp(F32X4, FloatCC::Equal)?,
            O::F32x4Ne => self.v_fcmp(F32X4, FloatCC::NotEqual)?,
            O::F32x4Lt => self.v_fcmp(F32X4, FloatCC::LessThan)?,
            O::F32x4Gt => self.v_fcmp(F32X4, FloatCC::GreaterThan)?,
            O::F32x4Le => self.v_fcmp(F32X4, FloatCC::LessThanOrEqual)?,
            O::F32x4Ge => self.v_fcmp(F32X4, FloatCC::GreaterThanOrEqual)?,
            O::F64x2Eq => self.v_fcmp(F64X2, FloatCC::Equal)?,
            O::F64x2Ne => self.v_fcmp(F64X2, FloatCC::NotEqual)?,
            O::F64x2Lt => self.v_fcmp(F64X2, FloatCC::LessThan)?,
            O::F64x2Gt => self.v_fcmp(F64X2, FloatCC::GreaterThan)?,
            O::F64x2Le => self.v_fcmp(F64X2, FloatCC::LessThanOrEqual)?,
            O::F64x2Ge => self.v_fcmp(F64X2, FloatCC::GreaterThanOrEqual)?,

            // ---- bitwise --------------------------------------------------------------------
            O::V128Not => self.v_unop(I8X16, |t, x| t.b.ins().bnot(x))?,
            O::V128And => self.v_binop(I8X16, |t, x, y| t.b.ins().band(x, y))?,
            O::V128AndNot => self.v_binop(I8X16, |t, x, y| t.b.ins().band_not(x, y))?,
            O::V128Or => self.v_binop(I8X16, |t, x, y| t.b.ins().bor(x, y))?,
            O::V128Xor => self.v_binop(I8X16, |t, x, y| t.b.ins().bxor(x, y))?,
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => self.v_bitselect()?,
            O::V128AnyTrue => self.v_test(I8X16, false)?,
            O::I8x16AllTrue => self.v_test(I8X16, true)?,
            O::I16x8AllTrue => self.v_test(I16X8, true)?,
            O::I32x4AllTrue => self.v_test(I32X4, true)?,
            O::I64x2AllTrue => self.v_test(I64X2, true)?,
            O::I8x16Bitmask | O::I16x8Bitmask | O::I32x4Bitmask | O::I64x2Bitmask => {
                let ty = match op {
                    O::I8x16Bitmask => I8X16,
                    O::I16x8Bitmask => I16X8,
                    O::I32x4Bitmask => I32X4,
                    _ => I64X2,
                };
                let x = self.pop_v(ty)?;
                let r = self.b.ins().vhigh_bits(I32, x);
                self.push(r);
            }

            // ---- integer arithmetic ---------------------------------------------------------
            O::I8x16Abs => self.v_unop(I8X16, |t, x| t.b.ins().iabs(x))?,
            O::I16x8Abs => self.v_unop(I16X8, |t, x| t.b.ins().iabs(x))?,
            O::I32x4Abs => self.v_unop(I32X4, |t, x| t.b.ins().iabs(x))?,
            O::I64x2Abs => self.v_unop(I64X2, |t, x| t.b.ins().iabs(x))?,
            O::I8x16Neg => self.v_unop(I8X16, |t, x| t.b.ins().ineg(x))?,
            O::I16x8Neg => self.v_unop(I16X8, |t, x| t.b.ins().ineg(x))?,
            O::I32x4Neg => self.v_unop(I32X4, |t, x| t.b.ins().ineg(x))?,
            O::I64x2Neg => self.v_unop(I64X2, |t, x| t.b.ins().ineg(x))?,
            O::I8x16Popcnt => self.v_unop(I8X16, |t, x| t.b.ins().popcnt(x))?,
            O::I8x16NarrowI16x8S => self.v_binop(I16X8, |t, x, y| t.b.ins().snarrow(x, y))?,
            O::I8x16NarrowI16x8U => self.v_binop(I16X8, |t, x, y| t.b.ins().unarrow(x, y))?,
            O::I16x8NarrowI32x4S => self.v_binop(I32X4, |t, x, y| t.b.ins().snarrow(x, y))?,
            O::I16x8NarrowI32x4U => self.v_binop(I32X4, |t, x, y| t.b.ins().unarrow(x, y))?,
            O::I8x16Shl => self.v_shift(I8X16, 0)?,
            O::I8x16ShrS => self.v_shift(I8X16, 1)?,
            O::I8x16ShrU => self.v_shift(I8X16, 2)?,
            O::I16x8Shl => self.v_shift(I16X8, 0)?,
            O::I16x8ShrS => self.v_shift(I16X8, 1)?,
            O::I16x8ShrU => self.v_shift(I16X8, 2)?,
            O::I32x4Shl => self.v_shift(I32X4, 0)?,
            O::I32x4ShrS => self.v_shift(I32X4, 1)?,
            O::I32x4ShrU => self.v_shift(I32X4, 2)?,
            O::I64x2Shl => self.v_shift(I64X2, 0)?,
            O::I64x2ShrS => self.v_shift(I64X2, 1)?,
            O::I64x2ShrU => self.v_shift(I64X2, 2)?,
            O::I8x16Add => self.v_binop(I8X16, |t, x, y| t.b.ins().iadd(x, y))?,
            O::I16x8Add => self.v_binop(I16X8, |t, x, y| t.b.ins().iadd(x, y))?,
            O::I32x4Add => self.v_binop(I32X4, |t, x, y| t.b.ins().iadd(x, y))?,
            O::I64x2Add => self.v_binop(I64X2, |t, x, y| t.b.ins().iadd(x, y))?,
            O::I8x16Sub => self.v_binop(I8X16, |t, x, y| t.b.ins().isub(x, y))?,
            O::I16x8Sub => self.v_binop(I16X8, |t, x, y| t.b.ins().isub(x, y))?,
            O::I32x4Sub => self.v_binop(I32X4, |t, x, y| t.b.ins().isub(x, y))?,
            O::I64x2Sub => self.v_binop(I64X2, |t, x, y| t.b.ins().isub(x, y))?,
            O::I16x8Mul => self.v_binop(I16X8, |t, x, y| t.b.ins().imul(x, y))?,
            O::I32x4Mul => self.v_binop(I32X4, |t, x, y| t.b.ins().imul(x, y))?,
            O::I64x2Mul => self.v_binop(I64X2, |t, x, y| t.b.ins().imul(x, y))?,
            O::I8x16AddSatS => self.v_binop(I8X16, |t, x, y| t.b.ins().sadd_sat(x, y))?,
            O::I8x16AddSatU => self.v_binop(I8X16, |t, x, y| t.b.ins().uadd_sat(x, y))?,
            O::I8x16SubSatS => self.v_binop(I8X16, |t, x, y| t.b.ins().ssub_sat(x, y))?,
            O::I8x16SubSatU => self.v_binop(I8X16, |t, x, y| t.b.ins().usub_sat(x, y))?,
            O::I16x8AddSatS => self.v_binop(I16X8, |t, x, y| t.b.ins().sadd_sat(x, y))?,
            O::I16x8AddSatU => self.v_binop(I16X8, |t, x, y| t.b.ins().uadd_sat(x, y))?,
            O::I16x8SubSatS => self.v_binop(I16X8, |t, x, y| t.b.ins().ssub_sat(x, y))?,
            O::I16x8SubSatU => self.v_binop(I16X8, |t, x, y| t.b.ins().usub_sat(x, y))?,
            O::I8x16MinS => self.v_binop(I8X16, |t, x, y| t.b.ins().smin(x, y))?,
            O::I8x16MinU => self.v_binop(I8X16, |t, x, y| t.b.ins().umin(x, y))?,
            O::I8x16MaxS => self.v_binop(I8X16, |t, x, y| t.b.ins().smax(x, y))?,
            O::I8x16MaxU => self.v_binop(I8X16, |t, x, y| t.b.ins().umax(x, y))?,
            O::I16x8MinS => self.v_binop(I16X8, |t, x, y| t.b.ins().smin(x, y))?,
            O::I16x8MinU => self.v_binop(I16X8, |t, x, y| t.b.ins().umin(x, y))?,
            O::I16x8MaxS => self.v_binop(I16X8, |t, x, y| t.b.ins().smax(x, y))?,
            O::I16x8MaxU => self.v_binop(I16X8, |t, x, y| t.b.ins().umax(x, y))?,
            O::I32x4MinS => self.v_binop(I32X4, |t, x, y| t.b.ins().smin(x, y))?,
            O::I32x4MinU => self.v_binop(I32X4, |t, x, y| t.b.ins().umin(x, y))?,
            O::I32x4MaxS => self.v_binop(I32X4, |t, x, y| t.b.ins().smax(x, y))?,
            O::I32x4MaxU => self.v_binop(I32X4, |t, x, y| t.b.ins().umax(x, y))?,
            O::I8x16AvgrU => self.v_binop(I8X16, |t, x, y| t.b.ins().avg_round(x, y))?,
            O::I16x8AvgrU => self.v_binop(I16X8, |t, x, y| t.b.ins().avg_round(x, y))?,
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.v_binop(I16X8, |t, x, y| t.b.ins().sqmul_round_sat(x, y))?
            }
            O::I16x8ExtAddPairwiseI8x16S => {
                self.v_unop(I8X16, |t, x| t.extadd_pairwise(x, true))?
            }
            O::I16x8ExtAddPairwiseI8x16U => {
                self.v_unop(I8X16, |t, x| t.extadd_pairwise(x, false))?
            }
            O::I32x4ExtAddPairwiseI16x8S => {
                self.v_unop(I16X8, |t, x| t.extadd_pairwise(x, true))?
            }
            O::I32x4ExtAddPairwiseI16x8U => {
                self.v_unop(I16X8, |t, x| t.extadd_pairwise(x, false))?
            }
            O::I16x8ExtendLowI8x16S => self.v_extend(I8X16, true, false)?,
            O::I16x8ExtendHighI8x16S => self.v_extend(I8X16, true, true)?,
            O::I16x8ExtendLowI8x16U => self.v_extend(I8X16, false, false)?,
            O::I16x8ExtendHighI8x16U => self.v_extend(I8X16, false, true)?,
            O::I32x4ExtendLowI16x8S => self.v_extend(I16X8, true, false)?,
            O::I32x4ExtendHighI16x8S => self.v_extend(I16X8, true, true)?,
            O::I32x4ExtendLowI16x8U => self.v_extend(I16X8, false, false)?,
            O::I32x4ExtendHighI16x8U => self.v_extend(I16X8, false, true)?,
            O::I64x2ExtendLowI32x4S => self.v_extend(I32X4, true, false)?,
            O::I64x2ExtendHighI32x4S => self.v_extend(I32X4, true, true)?,
            O::I64x2ExtendLowI32x4U => self.v_extend(I32X4, false, false)?,
            O::I64x2ExtendHighI32x4U => self.v_extend(I32X4, false, true)?,
            O::I16x8ExtMulLowI8x16S => self.v_extmul(I8X16, true, false)?,
            O::I16x8ExtMulHighI8x16S => self.v_extmul(I8X16, true, true)?,
            O::I16x8ExtMulLowI8x16U => self.v_extmul(I8X16, false, false)?,
            O::I16x8ExtMulHighI8x16U => self.v_extmul(I8X16, false, true)?,
            O::I32x4ExtMulLowI16x8S => self.v_extmul(I16X8, true, false)?,
            O::I32x4ExtMulHighI16x8S => self.v_extmul(I16X8, true, true)?,
            O::I32x4ExtMulLowI16x8U => self.v_extmul(I16X8, false, false)?,
            O::I32x4ExtMulHighI16x8U => self.v_extmul(I16X8, false, true)?,
            O::I64x2ExtMulLowI32x4S => self.v_extmul(I32X4, true, false)?,
            O::I64x2ExtMulHighI32x4S => self.v_extmul(I32X4, true, true)?,
            O::I64x2ExtMulLowI32x4U => self.v_extmul(I32X4, false, false)?,
            O::I64x2ExtMulHighI32x4U => self.v_extmul(I32X4, false, true)?,
            O::I32x4DotI16x8S => self.v_binop(I16X8, |t, x, y| {
                let xl = t.b.ins().swiden_low(x);
                let yl = t.b.ins().swiden_low(y);
                let lo = t.b.ins().imul(xl, yl);
                let xh = t.b.ins().swiden_high(x);
                let yh = t.b.ins().swiden_high(y);
                let hi = t.b.ins().imul(xh, yh);
                t.b.ins().iadd_pairwise(lo, hi)
            })?,
            O::I16x8RelaxedDotI8x16I7x16S => self.v_binop(I8X16, |t, x, y| t.relaxed_dot(x, y))?,
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_v(I32X4)?;
                let y = self.pop_v(I8X16)?;
                let x = self.pop_v(I8X16)?;
                let d = self.relaxed_dot(x, y);
                let s = self.extadd_pairwise(d, true);
                let r = self.b.ins().iadd(s, c);
                self.push_v(r);
            }

            // ---- float arithmetic -----------------------------------------------------------
            O::F32x4Ceil => self.v_unop(F32X4, |t, x| t.b.ins().ceil(x))?,
            O::F32x4Floor => self.v_unop(F32X4, |t, x| t.b.ins().floor(x))?,
            O::F32x4Trunc => self.v_unop(F32X4, |t, x| t.b.ins().trunc(x))?,
            O::F32x4Nearest => self.v_unop(F32X4, |t, x| t.b.ins().nearest(x))?,
            O::F32x4Abs => self.v_unop(F32X4, |t, x| t.b.ins().fabs(x))?,
            O::F32x4Neg => self.v_unop(F32X4, |t, x| t.b.ins().fneg(x))?,
            O::F32x4Sqrt => self.v_unop(F32X4, |t, x| t.b.ins().sqrt(x))?,
            O::F32x4Add => self.v_binop(F32X4, |t, x, y| t.b.ins().fadd(x, y))?,
            O::F32x4Sub => self.v_binop(F32X4, |t, x, y| t.b.ins().fsub(x, y))?,
            O::F32x4Mul => self.v_binop(F32X4, |t, x, y| t.b.ins().fmul(x, y))?,
            O::F32x4Div => self.v_binop(F32X4, |t, x, y| t.b.ins().fdiv(x, y))?,
            O::F32x4Min | O::F32x4RelaxedMin => {
                self.v_binop(F32X4, |t, x, y| t.b.ins().fmin(x, y))?
            }
            O::F32x4Max | O::F32x4RelaxedMax => {
                self.v_binop(F32X4, |t, x, y| t.b.ins().fmax(x, y))?
            }
            O::F32x4PMin => self.v_pminmax(F32X4, false)?,
            O::F32x4PMax => self.v_pminmax(F32X4, true)?,
            O::F64x2Ceil => self.v_unop(F64X2, |t, x| t.b.ins().ceil(x))?,
            O::F64x2Floor => self.v_unop(F64X2, |t, x| t.b.ins().floor(x))?,
            O::F64x2Trunc => self.v_unop(F64X2, |t, x| t.b.ins().trunc(x))?,
            O::F64x2Nearest => self.v_unop(F64X2, |t, x| t.b.ins().nearest(x))?,
            O::F64x2Abs => self.v_unop(F64X2, |t, x| t.b.ins().fabs(x))?,
            O::F64x2Neg => self.v_unop(F64X2, |t, x| t.b.ins().fneg(x))?,
            O::F64x2Sqrt => self.v_unop(F64X2, |t, x| t.b.ins().sqrt(x))?,
            O::F64x2Add => self.v_binop(F64X2, |t, x, y| t.b.ins().fadd(x, y))?,
            O::F64x2Sub => self.v_binop(F64X2, |t, x, y| t.b.ins().fsub(x, y))?,
            O::F64x2Mul => self.v_binop(F64X2, |t, x, y| t.b.ins().fmul(x, y))?,
            O::F64x2Div => self.v_binop(F64X2, |t, x, y| t.b.ins().fdiv(x, y))?,
            O::F64x2Min | O::F64x2RelaxedMin => {
                self.v_binop(F64X2, |t, x, y| t.b.ins().fmin(x, y))?
            }
            O::F64x2Max | O::F64x2RelaxedMax => {
                self.v_binop(F64X2, |t, x, y| t.b.ins().fmax(x, y))?
            }
            O::F64x2PMin => self.v_pminmax(F64X2, false)?,
            O::F64x2PMax => self.v_pminmax(F64X2, true)?,
            O::F32x4RelaxedMadd => self.v_madd(F32X4, false)?,
            O::F32x4RelaxedNmadd => self.v_madd(F32X4, true)?,
            O::F64x2RelaxedMadd => self.v_madd(F64X2, false)?,
            O::F64x2RelaxedNmadd => self.v_madd(F64X2, true)?,

            // ---- conversions ----------------------------------------------------------------
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.v_unop(F32X4, |t, x| t.b.ins().fcvt_to_sint_sat(I32X4, x))?
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.v_unop(F32X4, |t, x| t.b.ins().fcvt_to_uint_sat(I32X4, x))?
            }
            O::F32x4ConvertI32x4S => {
                self.v_unop(I32X4, |t, x| t.b.ins().fcvt_from_sint(F32X4, x))?
            }
            O::F32x4ConvertI32x4U => {
                self.v_unop(I32X4, |t, x| t.b.ins().fcvt_from_uint(F32X4, x))?
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_zero(true)?
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_zero(false)?
            }
            O::F64x2ConvertLowI32x4S => self.v_unop(I32X4, |t, x| {
                let w = t.b.ins().swiden_low(x);
                t.b.ins().fcvt_from_sint(F64X2, w)
            })?,
            O::F64x2ConvertLowI32x4U => self.v_unop(I32X4, |t, x| {
                let w = t.b.ins().uwiden_low(x);
                t.b.ins().fcvt_from_uint(F64X2, w)
            })?,
            O::F32x4DemoteF64x2Zero => self.v_unop(F64X2, |t, x| t.b.ins().fvdemote(x))?,
            O::F64x2PromoteLowF32x4 => self.v_unop(F32X4, |t, x| t.b.ins().fvpromote_low(x))?,

            _ => return Err(TranslateError::Unsupported(unsupported_name(&op))),
        }
        Ok(())
    }
}
