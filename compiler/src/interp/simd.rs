//! Fixed-width SIMD and relaxed SIMD in the interpreter, in portable Rust.
//!
//! Every vector instruction lowers to one [`Op::Simd`](super::ops::Op::Simd) carrying a
//! [`SimdOp`], a lane index and a 32-bit immediate (memory offset, local slot, global index,
//! or the index of a 128-bit constant / shuffle pattern in `FuncCode::v128_consts`). The
//! dispatch loop hands all of them to [`exec`], one out-of-line function, so the scalar
//! handlers (and the register allocation of the dispatch loop) stay as they were.
//!
//! A `v128` occupies two consecutive 8-byte slots, low 64 bits first (docs/ABI.md, "SIMD
//! (v128)"). Lanes are taken from the value's little-endian bytes, so the code means the
//! same on any host. Relaxed-SIMD instructions compute the one deterministic choice of the
//! table in docs/ABI.md.

use runtime_loader::TrapCode;
use runtime_loader::abi::VMContext;
use wasmparser::Operator;

use super::num;

macro_rules! simd_ops {
    (plain: [$($p:ident),* $(,)?] imm: [$($i:ident),* $(,)?]) => {
        /// A vector instruction (named after its wasmparser operator) or a `v128` variant of
        /// a parametric / variable instruction.
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum SimdOp {
            $($p,)*
            $($i,)*
            /// `local.get` of a `v128` local: immediate = its first slot.
            LocalGet,
            /// `local.set` of a `v128` local.
            LocalSet,
            /// `local.tee` of a `v128` local.
            LocalTee,
            /// `global.get` of a `v128` global: immediate = global index.
            GlobalGet,
            /// `global.set` of a `v128` global.
            GlobalSet,
            /// `select` of two `v128` operands.
            Select,
        }

        /// The [`SimdOp`] of a vector operator without immediates.
        pub fn plain(op: &Operator<'_>) -> Option<SimdOp> {
            match op {
                $(Operator::$p => Some(SimdOp::$p),)*
                _ => None,
            }
        }
    };
}

simd_ops! {
    plain: [
        I8x16Swizzle, I8x16Splat, I16x8Splat, I32x4Splat, I64x2Splat, F32x4Splat, F64x2Splat,
        I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU, I8x16LeS, I8x16LeU, I8x16GeS,
        I8x16GeU, I16x8Eq, I16x8Ne, I16x8LtS, I16x8LtU, I16x8GtS, I16x8GtU, I16x8LeS, I16x8LeU,
        I16x8GeS, I16x8GeU, I32x4Eq, I32x4Ne, I32x4LtS, I32x4LtU, I32x4GtS, I32x4GtU, I32x4LeS,
        I32x4LeU, I32x4GeS, I32x4GeU, I64x2Eq, I64x2Ne, I64x2LtS, I64x2GtS, I64x2LeS, I64x2GeS,
        F32x4Eq, F32x4Ne, F32x4Lt, F32x4Gt, F32x4Le, F32x4Ge, F64x2Eq, F64x2Ne, F64x2Lt,
        F64x2Gt, F64x2Le, F64x2Ge, V128Not, V128And, V128AndNot, V128Or, V128Xor,
        V128Bitselect, V128AnyTrue, I8x16Abs, I8x16Neg, I8x16Popcnt, I8x16AllTrue,
        I8x16Bitmask, I8x16NarrowI16x8S, I8x16NarrowI16x8U, I8x16Shl, I8x16ShrS, I8x16ShrU,
        I8x16Add, I8x16AddSatS, I8x16AddSatU, I8x16Sub, I8x16SubSatS, I8x16SubSatU, I8x16MinS,
        I8x16MinU, I8x16MaxS, I8x16MaxU, I8x16AvgrU, I16x8ExtAddPairwiseI8x16S,
        I16x8ExtAddPairwiseI8x16U, I16x8Abs, I16x8Neg, I16x8Q15MulrSatS, I16x8AllTrue,
        I16x8Bitmask, I16x8NarrowI32x4S, I16x8NarrowI32x4U, I16x8ExtendLowI8x16S,
        I16x8ExtendHighI8x16S, I16x8ExtendLowI8x16U, I16x8ExtendHighI8x16U, I16x8Shl,
        I16x8ShrS, I16x8ShrU, I16x8Add, I16x8AddSatS, I16x8AddSatU, I16x8Sub, I16x8SubSatS,
        I16x8SubSatU, I16x8Mul, I16x8MinS, I16x8MinU, I16x8MaxS, I16x8MaxU, I16x8AvgrU,
        I16x8ExtMulLowI8x16S, I16x8ExtMulHighI8x16S, I16x8ExtMulLowI8x16U,
        I16x8ExtMulHighI8x16U, I32x4ExtAddPairwiseI16x8S, I32x4ExtAddPairwiseI16x8U,
        I32x4Abs, I32x4Neg, I32x4AllTrue, I32x4Bitmask, I32x4ExtendLowI16x8S,
        I32x4ExtendHighI16x8S, I32x4ExtendLowI16x8U, I32x4ExtendHighI16x8U, I32x4Shl,
        I32x4ShrS, I32x4ShrU, I32x4Add, I32x4Sub, I32x4Mul, I32x4MinS, I32x4MinU, I32x4MaxS,
        I32x4MaxU, I32x4DotI16x8S, I32x4ExtMulLowI16x8S, I32x4ExtMulHighI16x8S,
        I32x4ExtMulLowI16x8U, I32x4ExtMulHighI16x8U, I64x2Abs, I64x2Neg, I64x2AllTrue,
        I64x2Bitmask, I64x2ExtendLowI32x4S, I64x2ExtendHighI32x4S, I64x2ExtendLowI32x4U,
        I64x2ExtendHighI32x4U, I64x2Shl, I64x2ShrS, I64x2ShrU, I64x2Add, I64x2Sub, I64x2Mul,
        I64x2ExtMulLowI32x4S, I64x2ExtMulHighI32x4S, I64x2ExtMulLowI32x4U,
        I64x2ExtMulHighI32x4U, F32x4Ceil, F32x4Floor, F32x4Trunc, F32x4Nearest, F32x4Abs,
        F32x4Neg, F32x4Sqrt, F32x4Add, F32x4Sub, F32x4Mul, F32x4Div, F32x4Min, F32x4Max,
        F32x4PMin, F32x4PMax, F64x2Ceil, F64x2Floor, F64x2Trunc, F64x2Nearest, F64x2Abs,
        F64x2Neg, F64x2Sqrt, F64x2Add, F64x2Sub, F64x2Mul, F64x2Div, F64x2Min, F64x2Max,
        F64x2PMin, F64x2PMax, I32x4TruncSatF32x4S, I32x4TruncSatF32x4U, F32x4ConvertI32x4S,
        F32x4ConvertI32x4U, I32x4TruncSatF64x2SZero, I32x4TruncSatF64x2UZero,
        F64x2ConvertLowI32x4S, F64x2ConvertLowI32x4U, F32x4DemoteF64x2Zero,
        F64x2PromoteLowF32x4,
        I8x16RelaxedSwizzle, I32x4RelaxedTruncF32x4S, I32x4RelaxedTruncF32x4U,
        I32x4RelaxedTruncF64x2SZero, I32x4RelaxedTruncF64x2UZero, F32x4RelaxedMadd,
        F32x4RelaxedNmadd, F64x2RelaxedMadd, F64x2RelaxedNmadd, I8x16RelaxedLaneselect,
        I16x8RelaxedLaneselect, I32x4RelaxedLaneselect, I64x2RelaxedLaneselect,
        F32x4RelaxedMin, F32x4RelaxedMax, F64x2RelaxedMin, F64x2RelaxedMax,
        I16x8RelaxedQ15mulrS, I16x8RelaxedDotI8x16I7x16S, I32x4RelaxedDotI8x16I7x16AddS,
    ]
    imm: [
        V128Load, V128Load8x8S, V128Load8x8U, V128Load16x4S, V128Load16x4U, V128Load32x2S,
        V128Load32x2U, V128Load8Splat, V128Load16Splat, V128Load32Splat, V128Load64Splat,
        V128Load32Zero, V128Load64Zero, V128Store, V128Load8Lane, V128Load16Lane,
        V128Load32Lane, V128Load64Lane, V128Store8Lane, V128Store16Lane, V128Store32Lane,
        V128Store64Lane, V128Const, I8x16Shuffle, I8x16ExtractLaneS, I8x16ExtractLaneU,
        I8x16ReplaceLane, I16x8ExtractLaneS, I16x8ExtractLaneU, I16x8ReplaceLane,
        I32x4ExtractLane, I32x4ReplaceLane, I64x2ExtractLane, I64x2ReplaceLane,
        F32x4ExtractLane, F32x4ReplaceLane, F64x2ExtractLane, F64x2ReplaceLane,
    ]
}

/// What an op leaves on the stack, for the lowering's height tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// Nothing.
    None,
    /// One scalar slot.
    Scalar,
    /// A `v128` (two slots).
    V128,
}

/// The stack effect of `op`: slots popped, then what it pushes.
pub fn shape(op: SimdOp) -> (u32, Out) {
    use SimdOp as S;
    match op {
        S::V128Const | S::LocalGet | S::GlobalGet => (0, Out::V128),
        S::LocalSet | S::GlobalSet => (2, Out::None),
        S::LocalTee => (2, Out::V128),
        S::Select => (5, Out::V128),
        // Address → v128.
        S::V128Load
        | S::V128Load8x8S
        | S::V128Load8x8U
        | S::V128Load16x4S
        | S::V128Load16x4U
        | S::V128Load32x2S
        | S::V128Load32x2U
        | S::V128Load8Splat
        | S::V128Load16Splat
        | S::V128Load32Splat
        | S::V128Load64Splat
        | S::V128Load32Zero
        | S::V128Load64Zero => (1, Out::V128),
        // Address, v128 → v128 / nothing.
        S::V128Load8Lane | S::V128Load16Lane | S::V128Load32Lane | S::V128Load64Lane => {
            (3, Out::V128)
        }
        S::V128Store
        | S::V128Store8Lane
        | S::V128Store16Lane
        | S::V128Store32Lane
        | S::V128Store64Lane => (3, Out::None),
        // Scalar → v128.
        S::I8x16Splat
        | S::I16x8Splat
        | S::I32x4Splat
        | S::I64x2Splat
        | S::F32x4Splat
        | S::F64x2Splat => (1, Out::V128),
        // v128 → scalar.
        S::I8x16ExtractLaneS
        | S::I8x16ExtractLaneU
        | S::I16x8ExtractLaneS
        | S::I16x8ExtractLaneU
        | S::I32x4ExtractLane
        | S::I64x2ExtractLane
        | S::F32x4ExtractLane
        | S::F64x2ExtractLane
        | S::V128AnyTrue
        | S::I8x16AllTrue
        | S::I16x8AllTrue
        | S::I32x4AllTrue
        | S::I64x2AllTrue
        | S::I8x16Bitmask
        | S::I16x8Bitmask
        | S::I32x4Bitmask
        | S::I64x2Bitmask => (2, Out::Scalar),
        // v128, scalar → v128.
        S::I8x16ReplaceLane
        | S::I16x8ReplaceLane
        | S::I32x4ReplaceLane
        | S::I64x2ReplaceLane
        | S::F32x4ReplaceLane
        | S::F64x2ReplaceLane
        | S::I8x16Shl
        | S::I8x16ShrS
        | S::I8x16ShrU
        | S::I16x8Shl
        | S::I16x8ShrS
        | S::I16x8ShrU
        | S::I32x4Shl
        | S::I32x4ShrS
        | S::I32x4ShrU
        | S::I64x2Shl
        | S::I64x2ShrS
        | S::I64x2ShrU => (3, Out::V128),
        // Three vectors → v128.
        S::V128Bitselect
        | S::F32x4RelaxedMadd
        | S::F32x4RelaxedNmadd
        | S::F64x2RelaxedMadd
        | S::F64x2RelaxedNmadd
        | S::I8x16RelaxedLaneselect
        | S::I16x8RelaxedLaneselect
        | S::I32x4RelaxedLaneselect
        | S::I64x2RelaxedLaneselect
        | S::I32x4RelaxedDotI8x16I7x16AddS => (6, Out::V128),
        // One vector → v128.
        S::V128Not
        | S::I8x16Abs
        | S::I8x16Neg
        | S::I8x16Popcnt
        | S::I16x8ExtAddPairwiseI8x16S
        | S::I16x8ExtAddPairwiseI8x16U
        | S::I16x8Abs
        | S::I16x8Neg
        | S::I16x8ExtendLowI8x16S
        | S::I16x8ExtendHighI8x16S
        | S::I16x8ExtendLowI8x16U
        | S::I16x8ExtendHighI8x16U
        | S::I32x4ExtAddPairwiseI16x8S
        | S::I32x4ExtAddPairwiseI16x8U
        | S::I32x4Abs
        | S::I32x4Neg
        | S::I32x4ExtendLowI16x8S
        | S::I32x4ExtendHighI16x8S
        | S::I32x4ExtendLowI16x8U
        | S::I32x4ExtendHighI16x8U
        | S::I64x2Abs
        | S::I64x2Neg
        | S::I64x2ExtendLowI32x4S
        | S::I64x2ExtendHighI32x4S
        | S::I64x2ExtendLowI32x4U
        | S::I64x2ExtendHighI32x4U
        | S::F32x4Ceil
        | S::F32x4Floor
        | S::F32x4Trunc
        | S::F32x4Nearest
        | S::F32x4Abs
        | S::F32x4Neg
        | S::F32x4Sqrt
        | S::F64x2Ceil
        | S::F64x2Floor
        | S::F64x2Trunc
        | S::F64x2Nearest
        | S::F64x2Abs
        | S::F64x2Neg
        | S::F64x2Sqrt
        | S::I32x4TruncSatF32x4S
        | S::I32x4TruncSatF32x4U
        | S::F32x4ConvertI32x4S
        | S::F32x4ConvertI32x4U
        | S::I32x4TruncSatF64x2SZero
        | S::I32x4TruncSatF64x2UZero
        | S::F64x2ConvertLowI32x4S
        | S::F64x2ConvertLowI32x4U
        | S::F32x4DemoteF64x2Zero
        | S::F64x2PromoteLowF32x4
        | S::I32x4RelaxedTruncF32x4S
        | S::I32x4RelaxedTruncF32x4U
        | S::I32x4RelaxedTruncF64x2SZero
        | S::I32x4RelaxedTruncF64x2UZero => (2, Out::V128),
        // Everything else: two vectors → v128.
        _ => (4, Out::V128),
    }
}

// ---- lanes --------------------------------------------------------------------------------

macro_rules! lanes {
    ($to:ident, $from:ident, $t:ty, $n:literal) => {
        #[inline(always)]
        fn $to(v: u128) -> [$t; $n] {
            const W: usize = 16 / $n;
            let b = v.to_le_bytes();
            std::array::from_fn(|i| {
                let mut x = [0u8; W];
                x.copy_from_slice(&b[i * W..(i + 1) * W]);
                <$t>::from_le_bytes(x)
            })
        }

        #[inline(always)]
        fn $from(a: [$t; $n]) -> u128 {
            const W: usize = 16 / $n;
            let mut b = [0u8; 16];
            for (i, x) in a.iter().enumerate() {
                b[i * W..(i + 1) * W].copy_from_slice(&x.to_le_bytes());
            }
            u128::from_le_bytes(b)
        }
    };
}

lanes!(i8s, from_i8s, i8, 16);
lanes!(u8s, from_u8s, u8, 16);
lanes!(i16s, from_i16s, i16, 8);
lanes!(u16s, from_u16s, u16, 8);
lanes!(i32s, from_i32s, i32, 4);
lanes!(u32s, from_u32s, u32, 4);
lanes!(i64s, from_i64s, i64, 2);
lanes!(u64s, from_u64s, u64, 2);

#[inline(always)]
fn f32s(v: u128) -> [f32; 4] {
    u32s(v).map(f32::from_bits)
}

#[inline(always)]
fn from_f32s(a: [f32; 4]) -> u128 {
    from_u32s(a.map(f32::to_bits))
}

#[inline(always)]
fn f64s(v: u128) -> [f64; 2] {
    u64s(v).map(f64::from_bits)
}

#[inline(always)]
fn from_f64s(a: [f64; 2]) -> u128 {
    from_u64s(a.map(f64::to_bits))
}

/// Lanewise unary map.
macro_rules! map1 {
    ($to:ident, $from:ident, $a:expr, |$x:ident| $e:expr) => {{
        let a = $to($a);
        $from(std::array::from_fn(|i| {
            let $x = a[i];
            $e
        }))
    }};
}

/// Lanewise binary map.
macro_rules! map2 {
    ($to:ident, $from:ident, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (a, b) = ($to($a), $to($b));
        $from(std::array::from_fn(|i| {
            let ($x, $y) = (a[i], b[i]);
            $e
        }))
    }};
}

/// Lanewise comparison: all ones where true. `$mask` is the integer lane constructor of the
/// result width.
macro_rules! cmp {
    ($to:ident, $from:ident, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (a, b) = ($to($a), $to($b));
        $from(std::array::from_fn(|i| {
            let ($x, $y) = (a[i], b[i]);
            if $e { -1 } else { 0 }
        }))
    }};
}

/// Saturating narrowing of two vectors' lanes (`a` low half, `b` high half).
macro_rules! narrow {
    ($to:ident, $from:ident, $a:expr, $b:expr, $n:literal, $lo:expr, $hi:expr) => {{
        let (a, b) = ($to($a), $to($b));
        $from(std::array::from_fn(|i| {
            let x = if i < $n { a[i] } else { b[i - $n] };
            x.clamp($lo, $hi) as _
        }))
    }};
}

/// Widening of the low (`$off` = 0) or high half of a vector's lanes.
macro_rules! extend {
    ($to:ident, $from:ident, $a:expr, $off:expr, $wide:ty) => {{
        let a = $to($a);
        $from(std::array::from_fn(|i| <$wide>::from(a[i + $off])))
    }};
}

/// Widening multiply of the low or high half of two vectors' lanes.
macro_rules! extmul {
    ($to:ident, $from:ident, $a:expr, $b:expr, $off:expr, $wide:ty) => {{
        let (a, b) = ($to($a), $to($b));
        $from(std::array::from_fn(|i| {
            <$wide>::from(a[i + $off]).wrapping_mul(<$wide>::from(b[i + $off]))
        }))
    }};
}

/// Pairwise widening add of adjacent lanes.
macro_rules! extadd {
    ($to:ident, $from:ident, $a:expr, $wide:ty) => {{
        let a = $to($a);
        $from(std::array::from_fn(|i| {
            <$wide>::from(a[2 * i]) + <$wide>::from(a[2 * i + 1])
        }))
    }};
}

/// Bit `i` = the top bit of lane `i`.
macro_rules! bitmask {
    ($to:ident, $a:expr) => {{
        let mut m = 0u32;
        for (i, x) in $to($a).iter().enumerate() {
            if *x < 0 {
                m |= 1 << i;
            }
        }
        m
    }};
}

fn bitselect(a: u128, b: u128, m: u128) -> u128 {
    (a & m) | (b & !m)
}

fn swizzle(a: u128, s: u128) -> u128 {
    let (a, s) = (u8s(a), u8s(s));
    from_u8s(std::array::from_fn(|i| {
        let j = s[i] as usize;
        if j < 16 { a[j] } else { 0 }
    }))
}

fn q15mulr(a: u128, b: u128) -> u128 {
    map2!(i16s, from_i16s, a, b, |x, y| {
        ((i32::from(x) * i32::from(y) + 0x4000) >> 15).clamp(-0x8000, 0x7fff) as i16
    })
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: both operands signed, the i16 sum wrapping.
fn relaxed_dot16(a: u128, b: u128) -> u128 {
    let (a, b) = (i8s(a), i8s(b));
    from_i16s(std::array::from_fn(|i| {
        let p = |k: usize| i16::from(a[k]) * i16::from(b[k]);
        p(2 * i).wrapping_add(p(2 * i + 1))
    }))
}

fn trunc_sat_f64x2_s_zero(a: u128) -> u128 {
    let a = f64s(a);
    from_i32s([a[0] as i32, a[1] as i32, 0, 0])
}

fn trunc_sat_f64x2_u_zero(a: u128) -> u128 {
    let a = f64s(a);
    from_u32s([a[0] as u32, a[1] as u32, 0, 0])
}

fn pmin32(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

fn pmax32(a: f32, b: f32) -> f32 {
    if a < b { b } else { a }
}

fn pmin64(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

fn pmax64(a: f64, b: f64) -> f64 {
    if a < b { b } else { a }
}

/// One vector operand → one vector result.
fn unary(op: SimdOp, a: u128) -> u128 {
    use SimdOp as S;
    match op {
        S::V128Not => !a,
        S::I8x16Abs => map1!(i8s, from_i8s, a, |x| x.wrapping_abs()),
        S::I8x16Neg => map1!(i8s, from_i8s, a, |x| x.wrapping_neg()),
        S::I8x16Popcnt => map1!(u8s, from_u8s, a, |x| x.count_ones() as u8),
        S::I16x8ExtAddPairwiseI8x16S => extadd!(i8s, from_i16s, a, i16),
        S::I16x8ExtAddPairwiseI8x16U => extadd!(u8s, from_u16s, a, u16),
        S::I16x8Abs => map1!(i16s, from_i16s, a, |x| x.wrapping_abs()),
        S::I16x8Neg => map1!(i16s, from_i16s, a, |x| x.wrapping_neg()),
        S::I16x8ExtendLowI8x16S => extend!(i8s, from_i16s, a, 0, i16),
        S::I16x8ExtendHighI8x16S => extend!(i8s, from_i16s, a, 8, i16),
        S::I16x8ExtendLowI8x16U => extend!(u8s, from_u16s, a, 0, u16),
        S::I16x8ExtendHighI8x16U => extend!(u8s, from_u16s, a, 8, u16),
        S::I32x4ExtAddPairwiseI16x8S => extadd!(i16s, from_i32s, a, i32),
        S::I32x4ExtAddPairwiseI16x8U => extadd!(u16s, from_u32s, a, u32),
        S::I32x4Abs => map1!(i32s, from_i32s, a, |x| x.wrapping_abs()),
        S::I32x4Neg => map1!(i32s, from_i32s, a, |x| x.wrapping_neg()),
        S::I32x4ExtendLowI16x8S => extend!(i16s, from_i32s, a, 0, i32),
        S::I32x4ExtendHighI16x8S => extend!(i16s, from_i32s, a, 4, i32),
        S::I32x4ExtendLowI16x8U => extend!(u16s, from_u32s, a, 0, u32),
        S::I32x4ExtendHighI16x8U => extend!(u16s, from_u32s, a, 4, u32),
        S::I64x2Abs => map1!(i64s, from_i64s, a, |x| x.wrapping_abs()),
        S::I64x2Neg => map1!(i64s, from_i64s, a, |x| x.wrapping_neg()),
        S::I64x2ExtendLowI32x4S => extend!(i32s, from_i64s, a, 0, i64),
        S::I64x2ExtendHighI32x4S => extend!(i32s, from_i64s, a, 2, i64),
        S::I64x2ExtendLowI32x4U => extend!(u32s, from_u64s, a, 0, u64),
        S::I64x2ExtendHighI32x4U => extend!(u32s, from_u64s, a, 2, u64),
        S::F32x4Ceil => map1!(f32s, from_f32s, a, |x| num::round32(x, f32::ceil)),
        S::F32x4Floor => map1!(f32s, from_f32s, a, |x| num::round32(x, f32::floor)),
        S::F32x4Trunc => map1!(f32s, from_f32s, a, |x| num::round32(x, f32::trunc)),
        S::F32x4Nearest => map1!(f32s, from_f32s, a, |x| num::nearest32(x)),
        // Sign-bit operations: NaN payloads untouched.
        S::F32x4Abs => a & !0x8000_0000_8000_0000_8000_0000_8000_0000,
        S::F32x4Neg => a ^ 0x8000_0000_8000_0000_8000_0000_8000_0000,
        S::F32x4Sqrt => map1!(f32s, from_f32s, a, |x| x.sqrt()),
        S::F64x2Ceil => map1!(f64s, from_f64s, a, |x| num::round64(x, f64::ceil)),
        S::F64x2Floor => map1!(f64s, from_f64s, a, |x| num::round64(x, f64::floor)),
        S::F64x2Trunc => map1!(f64s, from_f64s, a, |x| num::round64(x, f64::trunc)),
        S::F64x2Nearest => map1!(f64s, from_f64s, a, |x| num::nearest64(x)),
        S::F64x2Abs => a & !0x8000_0000_0000_0000_8000_0000_0000_0000,
        S::F64x2Neg => a ^ 0x8000_0000_0000_0000_8000_0000_0000_0000,
        S::F64x2Sqrt => map1!(f64s, from_f64s, a, |x| x.sqrt()),
        // `as` saturates and maps NaN to 0: exactly `trunc_sat`.
        S::I32x4TruncSatF32x4S | S::I32x4RelaxedTruncF32x4S => {
            let a = f32s(a);
            from_i32s(a.map(|x| x as i32))
        }
        S::I32x4TruncSatF32x4U | S::I32x4RelaxedTruncF32x4U => {
            let a = f32s(a);
            from_u32s(a.map(|x| x as u32))
        }
        S::F32x4ConvertI32x4S => from_f32s(i32s(a).map(|x| x as f32)),
        S::F32x4ConvertI32x4U => from_f32s(u32s(a).map(|x| x as f32)),
        S::I32x4TruncSatF64x2SZero | S::I32x4RelaxedTruncF64x2SZero => trunc_sat_f64x2_s_zero(a),
        S::I32x4TruncSatF64x2UZero | S::I32x4RelaxedTruncF64x2UZero => trunc_sat_f64x2_u_zero(a),
        S::F64x2ConvertLowI32x4S => {
            let a = i32s(a);
            from_f64s([f64::from(a[0]), f64::from(a[1])])
        }
        S::F64x2ConvertLowI32x4U => {
            let a = u32s(a);
            from_f64s([f64::from(a[0]), f64::from(a[1])])
        }
        S::F32x4DemoteF64x2Zero => {
            let a = f64s(a);
            from_f32s([a[0] as f32, a[1] as f32, 0.0, 0.0])
        }
        S::F64x2PromoteLowF32x4 => {
            let a = f32s(a);
            from_f64s([f64::from(a[0]), f64::from(a[1])])
        }
        _ => unreachable!("not a unary vector op: {op:?}"),
    }
}

/// Two vector operands → one vector result.
fn binary(op: SimdOp, a: u128, b: u128) -> u128 {
    use SimdOp as S;
    match op {
        S::I8x16Swizzle | S::I8x16RelaxedSwizzle => swizzle(a, b),
        S::I8x16Eq => cmp!(i8s, from_i8s, a, b, |x, y| x == y),
        S::I8x16Ne => cmp!(i8s, from_i8s, a, b, |x, y| x != y),
        S::I8x16LtS => cmp!(i8s, from_i8s, a, b, |x, y| x < y),
        S::I8x16GtS => cmp!(i8s, from_i8s, a, b, |x, y| x > y),
        S::I8x16LeS => cmp!(i8s, from_i8s, a, b, |x, y| x <= y),
        S::I8x16GeS => cmp!(i8s, from_i8s, a, b, |x, y| x >= y),
        S::I8x16LtU => cmp!(u8s, from_i8s, a, b, |x, y| x < y),
        S::I8x16GtU => cmp!(u8s, from_i8s, a, b, |x, y| x > y),
        S::I8x16LeU => cmp!(u8s, from_i8s, a, b, |x, y| x <= y),
        S::I8x16GeU => cmp!(u8s, from_i8s, a, b, |x, y| x >= y),
        S::I16x8Eq => cmp!(i16s, from_i16s, a, b, |x, y| x == y),
        S::I16x8Ne => cmp!(i16s, from_i16s, a, b, |x, y| x != y),
        S::I16x8LtS => cmp!(i16s, from_i16s, a, b, |x, y| x < y),
        S::I16x8GtS => cmp!(i16s, from_i16s, a, b, |x, y| x > y),
        S::I16x8LeS => cmp!(i16s, from_i16s, a, b, |x, y| x <= y),
        S::I16x8GeS => cmp!(i16s, from_i16s, a, b, |x, y| x >= y),
        S::I16x8LtU => cmp!(u16s, from_i16s, a, b, |x, y| x < y),
        S::I16x8GtU => cmp!(u16s, from_i16s, a, b, |x, y| x > y),
        S::I16x8LeU => cmp!(u16s, from_i16s, a, b, |x, y| x <= y),
        S::I16x8GeU => cmp!(u16s, from_i16s, a, b, |x, y| x >= y),
        S::I32x4Eq => cmp!(i32s, from_i32s, a, b, |x, y| x == y),
        S::I32x4Ne => cmp!(i32s, from_i32s, a, b, |x, y| x != y),
        S::I32x4LtS => cmp!(i32s, from_i32s, a, b, |x, y| x < y),
        S::I32x4GtS => cmp!(i32s, from_i32s, a, b, |x, y| x > y),
        S::I32x4LeS => cmp!(i32s, from_i32s, a, b, |x, y| x <= y),
        S::I32x4GeS => cmp!(i32s, from_i32s, a, b, |x, y| x >= y),
        S::I32x4LtU => cmp!(u32s, from_i32s, a, b, |x, y| x < y),
        S::I32x4GtU => cmp!(u32s, from_i32s, a, b, |x, y| x > y),
        S::I32x4LeU => cmp!(u32s, from_i32s, a, b, |x, y| x <= y),
        S::I32x4GeU => cmp!(u32s, from_i32s, a, b, |x, y| x >= y),
        S::I64x2Eq => cmp!(i64s, from_i64s, a, b, |x, y| x == y),
        S::I64x2Ne => cmp!(i64s, from_i64s, a, b, |x, y| x != y),
        S::I64x2LtS => cmp!(i64s, from_i64s, a, b, |x, y| x < y),
        S::I64x2GtS => cmp!(i64s, from_i64s, a, b, |x, y| x > y),
        S::I64x2LeS => cmp!(i64s, from_i64s, a, b, |x, y| x <= y),
        S::I64x2GeS => cmp!(i64s, from_i64s, a, b, |x, y| x >= y),
        S::F32x4Eq => cmp!(f32s, from_i32s, a, b, |x, y| x == y),
        S::F32x4Ne => cmp!(f32s, from_i32s, a, b, |x, y| x != y),
        S::F32x4Lt => cmp!(f32s, from_i32s, a, b, |x, y| x < y),
        S::F32x4Gt => cmp!(f32s, from_i32s, a, b, |x, y| x > y),
        S::F32x4Le => cmp!(f32s, from_i32s, a, b, |x, y| x <= y),
        S::F32x4Ge => cmp!(f32s, from_i32s, a, b, |x, y| x >= y),
        S::F64x2Eq => cmp!(f64s, from_i64s, a, b, |x, y| x == y),
        S::F64x2Ne => cmp!(f64s, from_i64s, a, b, |x, y| x != y),
        S::F64x2Lt => cmp!(f64s, from_i64s, a, b, |x, y| x < y),
        S::F64x2Gt => cmp!(f64s, from_i64s, a, b, |x, y| x > y),
        S::F64x2Le => cmp!(f64s, from_i64s, a, b, |x, y| x <= y),
        S::F64x2Ge => cmp!(f64s, from_i64s, a, b, |x, y| x >= y),
        S::V128And => a & b,
        S::V128AndNot => a & !b,
        S::V128Or => a | b,
        S::V128Xor => a ^ b,
        S::I8x16NarrowI16x8S => narrow!(i16s, from_i8s, a, b, 8, -128, 127),
        S::I8x16NarrowI16x8U => narrow!(i16s, from_u8s, a, b, 8, 0, 255),
        S::I16x8NarrowI32x4S => narrow!(i32s, from_i16s, a, b, 4, -0x8000, 0x7fff),
        S::I16x8NarrowI32x4U => narrow!(i32s, from_u16s, a, b, 4, 0, 0xffff),
        S::I8x16Add => map2!(i8s, from_i8s, a, b, |x, y| x.wrapping_add(y)),
        S::I8x16AddSatS => map2!(i8s, from_i8s, a, b, |x, y| x.saturating_add(y)),
        S::I8x16AddSatU => map2!(u8s, from_u8s, a, b, |x, y| x.saturating_add(y)),
        S::I8x16Sub => map2!(i8s, from_i8s, a, b, |x, y| x.wrapping_sub(y)),
        S::I8x16SubSatS => map2!(i8s, from_i8s, a, b, |x, y| x.saturating_sub(y)),
        S::I8x16SubSatU => map2!(u8s, from_u8s, a, b, |x, y| x.saturating_sub(y)),
        S::I8x16MinS => map2!(i8s, from_i8s, a, b, |x, y| x.min(y)),
        S::I8x16MinU => map2!(u8s, from_u8s, a, b, |x, y| x.min(y)),
        S::I8x16MaxS => map2!(i8s, from_i8s, a, b, |x, y| x.max(y)),
        S::I8x16MaxU => map2!(u8s, from_u8s, a, b, |x, y| x.max(y)),
        S::I8x16AvgrU => map2!(u8s, from_u8s, a, b, |x, y| {
            ((u16::from(x) + u16::from(y) + 1) >> 1) as u8
        }),
        S::I16x8Q15MulrSatS | S::I16x8RelaxedQ15mulrS => q15mulr(a, b),
        S::I16x8Add => map2!(i16s, from_i16s, a, b, |x, y| x.wrapping_add(y)),
        S::I16x8AddSatS => map2!(i16s, from_i16s, a, b, |x, y| x.saturating_add(y)),
        S::I16x8AddSatU => map2!(u16s, from_u16s, a, b, |x, y| x.saturating_add(y)),
        S::I16x8Sub => map2!(i16s, from_i16s, a, b, |x, y| x.wrapping_sub(y)),
        S::I16x8SubSatS => map2!(i16s, from_i16s, a, b, |x, y| x.saturating_sub(y)),
        S::I16x8SubSatU => map2!(u16s, from_u16s, a, b, |x, y| x.saturating_sub(y)),
        S::I16x8Mul => map2!(i16s, from_i16s, a, b, |x, y| x.wrapping_mul(y)),
        S::I16x8MinS => map2!(i16s, from_i16s, a, b, |x, y| x.min(y)),
        S::I16x8MinU => map2!(u16s, from_u16s, a, b, |x, y| x.min(y)),
        S::I16x8MaxS => map2!(i16s, from_i16s, a, b, |x, y| x.max(y)),
        S::I16x8MaxU => map2!(u16s, from_u16s, a, b, |x, y| x.max(y)),
        S::I16x8AvgrU => map2!(u16s, from_u16s, a, b, |x, y| {
            ((u32::from(x) + u32::from(y) + 1) >> 1) as u16
        }),
        S::I16x8ExtMulLowI8x16S => extmul!(i8s, from_i16s, a, b, 0, i16),
        S::I16x8ExtMulHighI8x16S => extmul!(i8s, from_i16s, a, b, 8, i16),
        S::I16x8ExtMulLowI8x16U => extmul!(u8s, from_u16s, a, b, 0, u16),
        S::I16x8ExtMulHighI8x16U => extmul!(u8s, from_u16s, a, b, 8, u16),
        S::I32x4Add => map2!(i32s, from_i32s, a, b, |x, y| x.wrapping_add(y)),
        S::I32x4Sub => map2!(i32s, from_i32s, a, b, |x, y| x.wrapping_sub(y)),
        S::I32x4Mul => map2!(i32s, from_i32s, a, b, |x, y| x.wrapping_mul(y)),
        S::I32x4MinS => map2!(i32s, from_i32s, a, b, |x, y| x.min(y)),
        S::I32x4MinU => map2!(u32s, from_u32s, a, b, |x, y| x.min(y)),
        S::I32x4MaxS => map2!(i32s, from_i32s, a, b, |x, y| x.max(y)),
        S::I32x4MaxU => map2!(u32s, from_u32s, a, b, |x, y| x.max(y)),
        S::I32x4DotI16x8S => {
            let (a, b) = (i16s(a), i16s(b));
            from_i32s(std::array::from_fn(|i| {
                let p = |k: usize| i32::from(a[k]) * i32::from(b[k]);
                p(2 * i).wrapping_add(p(2 * i + 1))
            }))
        }
        S::I32x4ExtMulLowI16x8S => extmul!(i16s, from_i32s, a, b, 0, i32),
        S::I32x4ExtMulHighI16x8S => extmul!(i16s, from_i32s, a, b, 4, i32),
        S::I32x4ExtMulLowI16x8U => extmul!(u16s, from_u32s, a, b, 0, u32),
        S::I32x4ExtMulHighI16x8U => extmul!(u16s, from_u32s, a, b, 4, u32),
        S::I64x2Add => map2!(i64s, from_i64s, a, b, |x, y| x.wrapping_add(y)),
        S::I64x2Sub => map2!(i64s, from_i64s, a, b, |x, y| x.wrapping_sub(y)),
        S::I64x2Mul => map2!(i64s, from_i64s, a, b, |x, y| x.wrapping_mul(y)),
        S::I64x2ExtMulLowI32x4S => extmul!(i32s, from_i64s, a, b, 0, i64),
        S::I64x2ExtMulHighI32x4S => extmul!(i32s, from_i64s, a, b, 2, i64),
        S::I64x2ExtMulLowI32x4U => extmul!(u32s, from_u64s, a, b, 0, u64),
        S::I64x2ExtMulHighI32x4U => extmul!(u32s, from_u64s, a, b, 2, u64),
        S::F32x4Add => map2!(f32s, from_f32s, a, b, |x, y| x + y),
        S::F32x4Sub => map2!(f32s, from_f32s, a, b, |x, y| x - y),
        S::F32x4Mul => map2!(f32s, from_f32s, a, b, |x, y| x * y),
        S::F32x4Div => map2!(f32s, from_f32s, a, b, |x, y| x / y),
        S::F32x4Min | S::F32x4RelaxedMin => map2!(f32s, from_f32s, a, b, |x, y| vmin32(x, y)),
        S::F32x4Max | S::F32x4RelaxedMax => map2!(f32s, from_f32s, a, b, |x, y| vmax32(x, y)),
        S::F32x4PMin => map2!(f32s, from_f32s, a, b, |x, y| pmin32(x, y)),
        S::F32x4PMax => map2!(f32s, from_f32s, a, b, |x, y| pmax32(x, y)),
        S::F64x2Add => map2!(f64s, from_f64s, a, b, |x, y| x + y),
        S::F64x2Sub => map2!(f64s, from_f64s, a, b, |x, y| x - y),
        S::F64x2Mul => map2!(f64s, from_f64s, a, b, |x, y| x * y),
        S::F64x2Div => map2!(f64s, from_f64s, a, b, |x, y| x / y),
        S::F64x2Min | S::F64x2RelaxedMin => map2!(f64s, from_f64s, a, b, |x, y| vmin64(x, y)),
        S::F64x2Max | S::F64x2RelaxedMax => map2!(f64s, from_f64s, a, b, |x, y| vmax64(x, y)),
        S::F64x2PMin => map2!(f64s, from_f64s, a, b, |x, y| pmin64(x, y)),
        S::F64x2PMax => map2!(f64s, from_f64s, a, b, |x, y| pmax64(x, y)),
        S::I16x8RelaxedDotI8x16I7x16S => relaxed_dot16(a, b),
        _ => unreachable!("not a binary vector op: {op:?}"),
    }
}

/// Three vector operands → one vector result.
fn ternary(op: SimdOp, a: u128, b: u128, c: u128) -> u128 {
    use SimdOp as S;
    match op {
        S::V128Bitselect
        | S::I8x16RelaxedLaneselect
        | S::I16x8RelaxedLaneselect
        | S::I32x4RelaxedLaneselect
        | S::I64x2RelaxedLaneselect => bitselect(a, b, c),
        // Unfused: two roundings (docs/ABI.md, relaxed-SIMD table).
        S::F32x4RelaxedMadd => {
            let (a, b, c) = (f32s(a), f32s(b), f32s(c));
            from_f32s(std::array::from_fn(|i| a[i] * b[i] + c[i]))
        }
        S::F32x4RelaxedNmadd => {
            let (a, b, c) = (f32s(a), f32s(b), f32s(c));
            from_f32s(std::array::from_fn(|i| c[i] - a[i] * b[i]))
        }
        S::F64x2RelaxedMadd => {
            let (a, b, c) = (f64s(a), f64s(b), f64s(c));
            from_f64s(std::array::from_fn(|i| a[i] * b[i] + c[i]))
        }
        S::F64x2RelaxedNmadd => {
            let (a, b, c) = (f64s(a), f64s(b), f64s(c));
            from_f64s(std::array::from_fn(|i| c[i] - a[i] * b[i]))
        }
        S::I32x4RelaxedDotI8x16I7x16AddS => {
            let d = i16s(relaxed_dot16(a, b));
            let c = i32s(c);
            from_i32s(std::array::from_fn(|i| {
                (i32::from(d[2 * i]) + i32::from(d[2 * i + 1])).wrapping_add(c[i])
            }))
        }
        _ => unreachable!("not a ternary vector op: {op:?}"),
    }
}

/// A vector and a scalar (shift count or lane value) → one vector.
fn with_scalar(op: SimdOp, lane: usize, a: u128, x: u64) -> u128 {
    use SimdOp as S;
    let s = x as u32;
    match op {
        S::I8x16Shl => map1!(i8s, from_i8s, a, |v| v.wrapping_shl(s & 7)),
        S::I8x16ShrS => map1!(i8s, from_i8s, a, |v| v.wrapping_shr(s & 7)),
        S::I8x16ShrU => map1!(u8s, from_u8s, a, |v| v.wrapping_shr(s & 7)),
        S::I16x8Shl => map1!(i16s, from_i16s, a, |v| v.wrapping_shl(s & 15)),
        S::I16x8ShrS => map1!(i16s, from_i16s, a, |v| v.wrapping_shr(s & 15)),
        S::I16x8ShrU => map1!(u16s, from_u16s, a, |v| v.wrapping_shr(s & 15)),
        S::I32x4Shl => map1!(i32s, from_i32s, a, |v| v.wrapping_shl(s & 31)),
        S::I32x4ShrS => map1!(i32s, from_i32s, a, |v| v.wrapping_shr(s & 31)),
        S::I32x4ShrU => map1!(u32s, from_u32s, a, |v| v.wrapping_shr(s & 31)),
        S::I64x2Shl => map1!(i64s, from_i64s, a, |v| v.wrapping_shl(s & 63)),
        S::I64x2ShrS => map1!(i64s, from_i64s, a, |v| v.wrapping_shr(s & 63)),
        S::I64x2ShrU => map1!(u64s, from_u64s, a, |v| v.wrapping_shr(s & 63)),
        S::I8x16ReplaceLane => {
            let mut l = u8s(a);
            l[lane] = x as u8;
            from_u8s(l)
        }
        S::I16x8ReplaceLane => {
            let mut l = u16s(a);
            l[lane] = x as u16;
            from_u16s(l)
        }
        S::I32x4ReplaceLane | S::F32x4ReplaceLane => {
            let mut l = u32s(a);
            l[lane] = x as u32;
            from_u32s(l)
        }
        S::I64x2ReplaceLane | S::F64x2ReplaceLane => {
            let mut l = u64s(a);
            l[lane] = x;
            from_u64s(l)
        }
        _ => unreachable!("not a vector-scalar op: {op:?}"),
    }
}

/// A vector → a scalar slot (i32 in the low 32 bits, i64/f64 bits, f32 bits).
fn to_scalar(op: SimdOp, lane: usize, a: u128) -> u64 {
    use SimdOp as S;
    match op {
        S::I8x16ExtractLaneS => u64::from(i32::from(i8s(a)[lane]) as u32),
        S::I8x16ExtractLaneU => u64::from(u8s(a)[lane]),
        S::I16x8ExtractLaneS => u64::from(i32::from(i16s(a)[lane]) as u32),
        S::I16x8ExtractLaneU => u64::from(u16s(a)[lane]),
        S::I32x4ExtractLane | S::F32x4ExtractLane => u64::from(u32s(a)[lane]),
        S::I64x2ExtractLane | S::F64x2ExtractLane => u64s(a)[lane],
        S::V128AnyTrue => u64::from(a != 0),
        S::I8x16AllTrue => u64::from(u8s(a).iter().all(|&x| x != 0)),
        S::I16x8AllTrue => u64::from(u16s(a).iter().all(|&x| x != 0)),
        S::I32x4AllTrue => u64::from(u32s(a).iter().all(|&x| x != 0)),
        S::I64x2AllTrue => u64::from(u64s(a).iter().all(|&x| x != 0)),
        S::I8x16Bitmask => u64::from(bitmask!(i8s, a)),
        S::I16x8Bitmask => u64::from(bitmask!(i16s, a)),
        S::I32x4Bitmask => u64::from(bitmask!(i32s, a)),
        S::I64x2Bitmask => u64::from(bitmask!(i64s, a)),
        _ => unreachable!("not a vector-to-scalar op: {op:?}"),
    }
}

/// A scalar → a vector with it in every lane.
fn splat(op: SimdOp, x: u64) -> u128 {
    use SimdOp as S;
    match op {
        S::I8x16Splat => from_u8s([x as u8; 16]),
        S::I16x8Splat => from_u16s([x as u16; 8]),
        S::I32x4Splat | S::F32x4Splat => from_u32s([x as u32; 4]),
        S::I64x2Splat | S::F64x2Splat => from_u64s([x; 2]),
        _ => unreachable!("not a splat: {op:?}"),
    }
}

/// Bytes a memory op accesses.
fn access_width(op: SimdOp) -> u64 {
    use SimdOp as S;
    match op {
        S::V128Load8Splat | S::V128Load8Lane | S::V128Store8Lane => 1,
        S::V128Load16Splat | S::V128Load16Lane | S::V128Store16Lane => 2,
        S::V128Load32Splat | S::V128Load32Zero | S::V128Load32Lane | S::V128Store32Lane => 4,
        S::V128Load8x8S
        | S::V128Load8x8U
        | S::V128Load16x4S
        | S::V128Load16x4U
        | S::V128Load32x2S
        | S::V128Load32x2U
        | S::V128Load64Splat
        | S::V128Load64Zero
        | S::V128Load64Lane
        | S::V128Store64Lane => 8,
        _ => 16,
    }
}

/// A load of `b` (the accessed bytes, zero-padded to 16) into a vector.
fn load(op: SimdOp, b: [u8; 16]) -> u128 {
    use SimdOp as S;
    let v = u128::from_le_bytes(b);
    match op {
        S::V128Load | S::V128Load32Zero | S::V128Load64Zero => v,
        S::V128Load8x8S => extend!(i8s, from_i16s, v, 0, i16),
        S::V128Load8x8U => extend!(u8s, from_u16s, v, 0, u16),
        S::V128Load16x4S => extend!(i16s, from_i32s, v, 0, i32),
        S::V128Load16x4U => extend!(u16s, from_u32s, v, 0, u32),
        S::V128Load32x2S => extend!(i32s, from_i64s, v, 0, i64),
        S::V128Load32x2U => extend!(u32s, from_u64s, v, 0, u64),
        S::V128Load8Splat => splat(S::I8x16Splat, v as u64),
        S::V128Load16Splat => splat(S::I16x8Splat, v as u64),
        S::V128Load32Splat => splat(S::I32x4Splat, v as u64),
        S::V128Load64Splat => splat(S::I64x2Splat, v as u64),
        _ => unreachable!("not a vector load: {op:?}"),
    }
}

/// Reads the `v128` at slots `p`, `p + 1`.
///
/// # Safety
/// Both slots must be valid.
#[inline(always)]
unsafe fn rd(p: *const u64) -> u128 {
    // SAFETY: per the caller.
    unsafe { u128::from(*p) | (u128::from(*p.add(1)) << 64) }
}

/// Writes a `v128` to slots `p`, `p + 1`.
///
/// # Safety
/// Both slots must be valid.
#[inline(always)]
unsafe fn wr(p: *mut u64, v: u128) {
    // SAFETY: per the caller.
    unsafe {
        *p = v as u64;
        *p.add(1) = (v >> 64) as u64;
    }
}

/// The checked byte range `[addr + offset, + width)` of memory `mem`, as a pointer.
///
/// # Safety
/// `vmctx` must be a live instance with memory `mem` (validation guarantees one).
#[inline(always)]
unsafe fn mem_at(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    offset: u32,
    width: u64,
) -> Result<*mut u8, TrapCode> {
    // SAFETY: per the caller; memory 0 keeps its direct pointer, the others are in the
    // vmctx's memory array.
    let m = unsafe {
        if mem == 0 {
            &*(*vmctx).memory
        } else {
            &**(*vmctx).memories.add(mem as usize)
        }
    };
    let ea = (addr as u32 as u64) + u64::from(offset);
    if ea + width > m.len {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: `ea + width <= len`.
    Ok(unsafe { m.base.add(ea as usize) })
}

/// Runs one vector op on the value stack whose top is `sp` (one past the last slot), in the
/// frame whose locals start at `fp`. Returns the new stack top.
///
/// # Safety
/// The lowering's invariants: the operands the op pops are on the stack, the slots it
/// pushes are inside the frame's `max_height`, `imm` is a valid local slot / global index /
/// constant index for the op, and `vmctx` is the running instance.
#[inline(always)]
pub unsafe fn exec(
    op: SimdOp,
    lane: u8,
    imm: u32,
    sp: *mut u64,
    fp: *mut u64,
    vmctx: *mut VMContext,
    consts: &[u128],
) -> Result<*mut u64, TrapCode> {
    // SAFETY: per the caller.
    unsafe { exec_in(op, lane, imm, sp, fp, vmctx, consts, 0) }
}

/// [`exec`] with the memory of a memory op: `mem` (multi-memory, [`super::ops::Op::SimdM`]).
///
/// # Safety
/// As for [`exec`]; memory `mem` exists.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn exec_in(
    op: SimdOp,
    lane: u8,
    imm: u32,
    sp: *mut u64,
    fp: *mut u64,
    vmctx: *mut VMContext,
    consts: &[u128],
    mem: u32,
) -> Result<*mut u64, TrapCode> {
    use SimdOp as S;
    let lane = lane as usize;
    let (pops, out) = shape(op);
    // SAFETY (throughout): per the caller, the popped slots are below `sp` and the pushed
    // ones inside the frame.
    unsafe {
        let base = sp.sub(pops as usize);
        let after = base.add(match out {
            Out::None => 0,
            Out::Scalar => 1,
            Out::V128 => 2,
        });
        match op {
            S::V128Const => wr(base, consts[imm as usize]),
            S::I8x16Shuffle => {
                let (a, b) = (u8s(rd(base)), u8s(rd(base.add(2))));
                let s = u8s(consts[imm as usize]);
                let r: [u8; 16] = std::array::from_fn(|i| {
                    let j = s[i] as usize;
                    if j < 16 { a[j] } else { b[j - 16] }
                });
                wr(base, from_u8s(r));
            }
            S::LocalGet => wr(base, rd(fp.add(imm as usize))),
            S::LocalSet => wr(fp.add(imm as usize), rd(base)),
            S::LocalTee => wr(fp.add(imm as usize), rd(base)),
            S::GlobalGet => {
                let cell = *(*vmctx).globals.add(imm as usize);
                wr(base, rd(cell));
            }
            S::GlobalSet => {
                let cell = *(*vmctx).globals.add(imm as usize);
                wr(cell, rd(base));
            }
            S::Select => {
                if *base.add(4) as u32 == 0 {
                    wr(base, rd(base.add(2)));
                }
            }
            S::V128Store => {
                let p = mem_at(vmctx, mem, *base, imm, 16)?;
                std::ptr::copy_nonoverlapping(rd(base.add(1)).to_le_bytes().as_ptr(), p, 16);
            }
            S::V128Store8Lane | S::V128Store16Lane | S::V128Store32Lane | S::V128Store64Lane => {
                let w = access_width(op);
                let p = mem_at(vmctx, mem, *base, imm, w)?;
                let b = rd(base.add(1)).to_le_bytes();
                let at = lane * w as usize;
                std::ptr::copy_nonoverlapping(b[at..].as_ptr(), p, w as usize);
            }
            S::V128Load8Lane | S::V128Load16Lane | S::V128Load32Lane | S::V128Load64Lane => {
                let w = access_width(op);
                let p = mem_at(vmctx, mem, *base, imm, w)?;
                let mut b = rd(base.add(1)).to_le_bytes();
                let at = lane * w as usize;
                std::ptr::copy_nonoverlapping(p, b[at..].as_mut_ptr(), w as usize);
                wr(base, u128::from_le_bytes(b));
            }
            S::V128Load
            | S::V128Load8x8S
            | S::V128Load8x8U
            | S::V128Load16x4S
            | S::V128Load16x4U
            | S::V128Load32x2S
            | S::V128Load32x2U
            | S::V128Load8Splat
            | S::V128Load16Splat
            | S::V128Load32Splat
            | S::V128Load64Splat
            | S::V128Load32Zero
            | S::V128Load64Zero => {
                let w = access_width(op);
                let p = mem_at(vmctx, mem, *base, imm, w)?;
                let mut b = [0u8; 16];
                std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), w as usize);
                wr(base, load(op, b));
            }
            _ => match (pops, out) {
                (1, Out::V128) => wr(base, splat(op, *base)),
                (2, Out::Scalar) => *base = to_scalar(op, lane, rd(base)),
                (2, Out::V128) => wr(base, unary(op, rd(base))),
                (3, Out::V128) => wr(base, with_scalar(op, lane, rd(base), *base.add(2))),
                (4, Out::V128) => wr(base, binary(op, rd(base), rd(base.add(2)))),
                (6, Out::V128) => wr(
                    base,
                    ternary(op, rd(base), rd(base.add(2)), rd(base.add(4))),
                ),
                _ => unreachable!("vector op {op:?} has no handler"),
            },
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_trip_little_endian() {
        let v = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100_u128;
        assert_eq!(u8s(v)[0], 0);
        assert_eq!(u8s(v)[15], 15);
        assert_eq!(u16s(v)[1], 0x0302);
        assert_eq!(u32s(v)[3], 0x0f0e_0d0c);
        assert_eq!(from_i16s(i16s(v)), v);
        assert_eq!(from_f64s(f64s(v)), v);
    }

    #[test]
    fn relaxed_choices_are_the_documented_ones() {
        // Laneselect is bitwise.
        let m = 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff_u128;
        assert_eq!(ternary(SimdOp::I16x8RelaxedLaneselect, !0, 0, m), m);
        // Swizzle: out-of-range indices give 0.
        let a = from_u8s(std::array::from_fn(|i| i as u8 + 1));
        let idx = from_u8s([0, 15, 16, 200, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(
            u8s(binary(SimdOp::I8x16RelaxedSwizzle, a, idx))[..5],
            [1, 16, 0, 0, 0]
        );
        // Dot: signed operands, wrapping i16 sum.
        let n = from_i8s([-128; 16]);
        assert_eq!(
            i16s(binary(SimdOp::I16x8RelaxedDotI8x16I7x16S, n, n)),
            [i16::MIN; 8]
        );
        // Madd is unfused: (1 + 2^-12)^2 rounds (dropping 2^-24) before the add.
        let x = 1.0f32 + 2.0f32.powi(-12);
        let (a, c) = (from_f32s([x; 4]), from_f32s([-1.0; 4]));
        let r = f32s(ternary(SimdOp::F32x4RelaxedMadd, a, a, c))[0];
        assert_eq!(r, 2.0f32.powi(-11));
        assert_eq!(x.mul_add(x, -1.0), 2.0f32.powi(-11) + 2.0f32.powi(-24));
        let r = f32s(ternary(
            SimdOp::F32x4RelaxedNmadd,
            a,
            a,
            from_f32s([1.0; 4]),
        ))[0];
        assert_eq!(r, -(2.0f32.powi(-11)));
        // Min is the NaN-propagating wasm min.
        let nan = from_f32s([f32::NAN, 0.0, -0.0, 1.0]);
        let z = from_f32s([1.0, -0.0, 0.0, f32::NAN]);
        let r = f32s(binary(SimdOp::F32x4RelaxedMin, nan, z));
        assert!(r[0].is_nan() && r[3].is_nan());
        assert_eq!(r[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(r[2].to_bits(), (-0.0f32).to_bits());
    }
}

#[cfg(test)]
mod slot_layout_tests {
    use crate::runtime::{Config, Extern, Module, Store, Val};

    fn run(wat: &str, name: &str, args: &[Val]) -> Vec<Val> {
        let m = Module::from_bytes(wat.as_bytes()).expect("module");
        let mut s = Store::new(Config::default());
        let i = s.instantiate(&m, &|_, _| None).expect("instantiate");
        let Some(Extern::Func(f)) = s.export(i, name) else {
            panic!("no export {name}")
        };
        s.call(f, args).expect("call")
    }

    /// `v128` locals, parameters, block results, branches, calls, `drop`, untyped `select`
    /// and globals each take two slots, mixed with scalars on both sides.
    #[test]
    fn v128_values_take_two_slots_everywhere() {
        let wat = r#"(module
          (global $g (mut v128) (v128.const i64x2 7 8))
          (func $swap (param i32 v128 i64 v128) (result v128 i64 v128 i32)
            local.get 3 local.get 2 local.get 1 local.get 0)
          (func (export "f") (param $a i32) (param $v v128) (param $b i64)
            (result v128 v128 v128 i64 i32)
            (local $x i32) (local $w v128) (local $y i64)
            (local.set $x (i32.const 5))
            (local.set $y (i64.const 6))
            (local.set $w (i64x2.add (local.get $v) (global.get $g)))
            (global.set $g (local.get $w))
            ;; a block that yields a v128 through a branch, with scalars below it
            (block (result v128)
              (local.get $x)
              (v128.const i32x4 1 1 1 1)
              (br_if 0 (local.get $w) (i32.const 1))
              (drop) (drop) (drop)
              (v128.const i32x4 0 0 0 0))
            ;; untyped select of two v128s, drop of a v128
            (select (local.get $w) (v128.const i32x4 9 9 9 9) (local.get $a))
            (drop (select (v128.const i32x4 9 9 9 9) (local.get $w) (i32.const 0)))
            (call $swap (local.get $a) (local.get $w) (local.get $b) (global.get $g))
            (drop) (drop) (drop)
            (i64.add (local.get $b) (local.get $y))
            (local.get $x)))"#;
        let v = 0x0000_0000_0000_0002_0000_0000_0000_0001_u128;
        let w = 0x0000_0000_0000_000a_0000_0000_0000_0008_u128;
        let r = run(wat, "f", &[Val::I32(3), Val::V128(v), Val::I64(10)]);
        let r2 = vec![
            Val::V128(w),
            Val::V128(w),
            Val::V128(w),
            Val::I64(16),
            Val::I32(5),
        ];
        assert_eq!(r, r2);
    }

    /// Out-of-bounds vector accesses trap; lanes land where the spec puts them.
    #[test]
    fn v128_memory_bounds_and_lanes() {
        let wat = r#"(module (memory 1)
          (func (export "st") (param i32 v128) (v128.store offset=0 (local.get 0) (local.get 1)))
          (func (export "ld8") (param i32) (result i32)
            (i8x16.extract_lane_u 3 (v128.load8_splat (local.get 0))))
          (func (export "lane") (param i32) (result v128)
            (v128.load32_lane 2 (local.get 0) (v128.const i64x2 -1 -1))))"#;
        let m = Module::from_bytes(wat.as_bytes()).expect("module");
        let mut s = Store::new(Config::default());
        let i = s.instantiate(&m, &|_, _| None).expect("instantiate");
        let f = |s: &Store, n: &str| match s.export(i, n) {
            Some(Extern::Func(f)) => f,
            _ => panic!("{n}"),
        };
        let st = f(&s, "st");
        let x = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100_u128;
        s.call(st, &[Val::I32(0), Val::V128(x)]).unwrap();
        assert!(s.call(st, &[Val::I32(65536 - 15), Val::V128(x)]).is_err());
        s.call(st, &[Val::I32(65536 - 16), Val::V128(x)]).unwrap();
        let ld8 = f(&s, "ld8");
        assert_eq!(s.call(ld8, &[Val::I32(5)]).unwrap(), vec![Val::I32(5)]);
        let lane = f(&s, "lane");
        assert_eq!(
            s.call(lane, &[Val::I32(4)]).unwrap(),
            vec![Val::V128(0xffff_ffff_0706_0504_ffff_ffff_ffff_ffff)]
        );
        assert!(s.call(lane, &[Val::I32(65533)]).is_err());
    }
}

// Vector min/max NaN results. The spec lets a NaN result be any arithmetic NaN; these give
// the bits Cranelift's x86-64 lowering gives (docs/ABI.md, "SIMD"), so the interpreter and
// compiled code agree bit for bit (the differential test compares integer views of vector
// results, which wasm-smith's NaN canonicalization does not cover for relaxed min/max):
// `min` with a NaN operand is the canonical NaN with the sign bit set; `max` is the
// canonical NaN whose sign is the OR of both operands' signs.

fn vmin32(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        return f32::from_bits(0xffc0_0000);
    }
    num::fmin32(x, y)
}

fn vmax32(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        return f32::from_bits(0x7fc0_0000 | ((x.to_bits() | y.to_bits()) & 0x8000_0000));
    }
    num::fmax32(x, y)
}

fn vmin64(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::from_bits(0xfff8_0000_0000_0000);
    }
    num::fmin64(x, y)
}

fn vmax64(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        let sign = (x.to_bits() | y.to_bits()) & (1 << 63);
        return f64::from_bits(0x7ff8_0000_0000_0000 | sign);
    }
    num::fmax64(x, y)
}
