//! The float rounding helpers Cranelift calls as libcalls on x86-64 without SSE4.1
//! (`ceil`, `floor`, `trunc`, `nearbyint` and their `f32` forms, also per lane of a vector),
//! and its `pshufb` libcall without SSSE3 ([`x86_pshufb`], for `i8x16.swizzle`). Snapshot code is compiled
//! for baseline x86-64, so the loader resolves these symbols itself ([`symbol`], or by index
//! [`helper`] from a snapshot's relocation table); `core` has no float rounding, hence these
//! bit-level versions (the `f32` ones round in `f64`). NaN inputs return a quiet NaN
//! (`x + x`), as the SSE4.1 instructions do.

macro_rules! rounding {
    ($t:ty, $bits:ty, $mant:expr, $trunc:ident, $floor:ident, $ceil:ident, $nearest:ident) => {
        /// Rounds toward zero.
        pub extern "C" fn $trunc(x: $t) -> $t {
            if x.is_nan() {
                return x + x;
            }
            let b = x.to_bits();
            let exp_bits = (<$bits>::BITS - 1 - $mant) as u32;
            let bias = (1 << (exp_bits - 1)) - 1;
            let e = ((b >> $mant) & ((1 << exp_bits) - 1)) as i32 - bias;
            if e >= $mant as i32 {
                return x; // already integral (or infinite)
            }
            if e < 0 {
                return <$t>::from_bits(b & (1 << (<$bits>::BITS - 1))); // ±0
            }
            let frac: $bits = (1 << ($mant - e as u32)) - 1;
            <$t>::from_bits(b & !frac)
        }

        /// Rounds toward −∞.
        pub extern "C" fn $floor(x: $t) -> $t {
            let t = $trunc(x);
            if x < t { t - 1.0 } else { t }
        }

        /// Rounds toward +∞.
        pub extern "C" fn $ceil(x: $t) -> $t {
            let t = $trunc(x);
            if x > t { t + 1.0 } else { t }
        }

        /// Rounds to nearest, ties to even.
        pub extern "C" fn $nearest(x: $t) -> $t {
            if x.is_nan() {
                return x + x;
            }
            let big = (1u64 << $mant) as $t;
            let a = if x < 0.0 { -x } else { x };
            if a >= big {
                return x;
            }
            // Adding and removing 2^mant rounds to an integer in the default (ties-even) mode.
            let r = (a + big) - big;
            if x.is_sign_negative() { -r } else { r }
        }
    };
}

rounding!(f64, u64, 52, trunc, floor, ceil, nearbyint);

// The `f32` forms round in `f64`: widening is exact, the result is an integer of at most 24
// significant bits (or the input itself), so narrowing it back is exact too, and a NaN stays
// a NaN with its payload (quieted).
macro_rules! via_f64 {
    ($($name:ident => $f64:ident, $what:literal;)*) => {$(
        #[doc = $what]
        pub extern "C" fn $name(x: f32) -> f32 {
            $f64(f64::from(x)) as f32
        }
    )*};
}

via_f64! {
    truncf => trunc, "Rounds toward zero (`f32`).";
    floorf => floor, "Rounds toward −∞ (`f32`).";
    ceilf => ceil, "Rounds toward +∞ (`f32`).";
    nearbyintf => nearbyint, "Rounds to nearest, ties to even (`f32`).";
}

/// `pshufb` (SSSE3) for code compiled for baseline SSE2 x86-64: Cranelift lowers
/// `i8x16.swizzle` to a call of `__cranelift_x86_pshufb` there. Byte `i` of the result is
/// `a[b[i] & 15]`, or 0 if bit 7 of `b[i]` is set (the code saturates out-of-range indices
/// into that bit before the call).
#[cfg(target_arch = "x86_64")]
// `__m128i` is the C ABI's `__m128i` (passed and returned in XMM registers, SSE2 being part
// of x86-64), which is how Cranelift calls this libcall.
#[allow(improper_ctypes_definitions)]
pub extern "C" fn x86_pshufb(
    a: core::arch::x86_64::__m128i,
    b: core::arch::x86_64::__m128i,
) -> core::arch::x86_64::__m128i {
    // SAFETY: `__m128i` and `[u8; 16]` are both 16 plain bytes.
    let (a, b): ([u8; 16], [u8; 16]) = unsafe {
        (
            core::mem::transmute::<core::arch::x86_64::__m128i, [u8; 16]>(a),
            core::mem::transmute::<core::arch::x86_64::__m128i, [u8; 16]>(b),
        )
    };
    let mut r = [0u8; 16];
    for (r, i) in r.iter_mut().zip(b) {
        if i & 0x80 == 0 {
            *r = a[usize::from(i & 15)];
        }
    }
    // SAFETY: as above.
    unsafe { core::mem::transmute(r) }
}

/// Address of the helper named `name` (the libc names Cranelift uses), if it is one.
pub fn symbol(name: &[u8]) -> Option<u64> {
    let i = crate::format::reloc::EXTERNALS
        .iter()
        .position(|n| *n == name)?;
    helper((i as u32).checked_sub(1)?)
}

/// Address of helper `i`, in the order of the snapshot format's external symbols after
/// `bf_enter` (`format::reloc::EXTERNALS[1..]`): `truncf`, `floorf`, `ceilf`, `nearbyintf`,
/// `trunc`, `floor`, `ceil`, `nearbyint`, then `__cranelift_x86_pshufb` ([`x86_pshufb`]).
pub fn helper(i: u32) -> Option<u64> {
    let f: usize = match i {
        0 => truncf as *const () as usize,
        1 => floorf as *const () as usize,
        2 => ceilf as *const () as usize,
        3 => nearbyintf as *const () as usize,
        4 => trunc as *const () as usize,
        5 => floor as *const () as usize,
        6 => ceil as *const () as usize,
        7 => nearbyint as *const () as usize,
        #[cfg(target_arch = "x86_64")]
        8 => x86_pshufb as *const () as usize,
        _ => return None,
    };
    Some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every helper against std's rounding over a spread of bit patterns (every 4099th `f32`,
    /// a multiplicative walk over `f64`, plus the boundaries): the same bits, and a quiet NaN
    /// for a NaN.
    #[cfg(feature = "std")]
    #[test]
    fn rounding_matches_std() {
        fn same32(a: f32, b: f32) -> bool {
            if b.is_nan() {
                a.is_nan() && a.to_bits() & 0x0040_0000 != 0
            } else {
                a.to_bits() == b.to_bits()
            }
        }
        fn same64(a: f64, b: f64) -> bool {
            if b.is_nan() {
                a.is_nan() && a.to_bits() & 0x0008_0000_0000_0000 != 0
            } else {
                a.to_bits() == b.to_bits()
            }
        }
        let special32 = [
            0x4b00_0000u32,
            0x4aff_ffff,
            0x3f00_0000,
            0x3eff_ffff,
            0x7f80_0001,
        ];
        let bits32 = (0..=u32::MAX).step_by(4099).chain(special32);
        for b in bits32.flat_map(|b| [b, b | 0x8000_0000]) {
            let x = f32::from_bits(b);
            assert!(same32(truncf(x), x.trunc()), "truncf {b:#x}");
            assert!(same32(floorf(x), x.floor()), "floorf {b:#x}");
            assert!(same32(ceilf(x), x.ceil()), "ceilf {b:#x}");
            assert!(
                same32(nearbyintf(x), x.round_ties_even()),
                "nearbyintf {b:#x}"
            );
        }
        let mut b = 1u64;
        for _ in 0..200_000 {
            b = b
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Bias the exponent toward the interesting range around 2^0 .. 2^53.
            let bits = (b & 0x800f_ffff_ffff_ffff) | ((0x3f0 + (b >> 52) % 0x60) << 52);
            for bits in [bits, b] {
                let x = f64::from_bits(bits);
                assert!(same64(trunc(x), x.trunc()), "trunc {bits:#x}");
                assert!(same64(floor(x), x.floor()), "floor {bits:#x}");
                assert!(same64(ceil(x), x.ceil()), "ceil {bits:#x}");
                assert!(
                    same64(nearbyint(x), x.round_ties_even()),
                    "nearbyint {bits:#x}"
                );
            }
        }
    }

    #[test]
    fn rounding_matches_definitions() {
        let cases: [(f64, f64, f64, f64, f64); 9] = [
            // x, trunc, floor, ceil, nearest
            (1.5, 1.0, 1.0, 2.0, 2.0),
            (2.5, 2.0, 2.0, 3.0, 2.0),
            (-1.5, -1.0, -2.0, -1.0, -2.0),
            (-0.5, -0.0, -1.0, -0.0, -0.0),
            (0.49999999999999994, 0.0, 0.0, 1.0, 0.0),
            (
                4503599627370497.0,
                4503599627370497.0,
                4503599627370497.0,
                4503599627370497.0,
                4503599627370497.0,
            ),
            (-0.0, -0.0, -0.0, -0.0, -0.0),
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY,
                f64::INFINITY,
            ),
            (1e300, 1e300, 1e300, 1e300, 1e300),
        ];
        for (x, t, fl, c, n) in cases {
            assert_eq!(trunc(x).to_bits(), t.to_bits(), "trunc {x}");
            assert_eq!(floor(x).to_bits(), fl.to_bits(), "floor {x}");
            assert_eq!(ceil(x).to_bits(), c.to_bits(), "ceil {x}");
            assert_eq!(nearbyint(x).to_bits(), n.to_bits(), "nearest {x}");
            let xf = x as f32;
            assert_eq!(truncf(xf).to_bits(), (t as f32).to_bits(), "truncf {x}");
            assert_eq!(floorf(xf).to_bits(), (fl as f32).to_bits(), "floorf {x}");
            assert_eq!(ceilf(xf).to_bits(), (c as f32).to_bits(), "ceilf {x}");
        }
        assert_eq!(nearbyintf(2.5).to_bits(), 2.0f32.to_bits());
        assert_eq!(nearbyintf(-3.5).to_bits(), (-4.0f32).to_bits());
        assert!(floor(f64::NAN).is_nan() && nearbyintf(f32::NAN).is_nan());
    }

    /// The SSE2 `pshufb` fallback selects bytes by the low 4 index bits and zeroes where
    /// bit 7 is set, like the SSSE3 instruction (checked against it).
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    #[test]
    fn pshufb_matches_the_instruction() {
        use core::arch::x86_64::__m128i;
        let a: [u8; 16] = core::array::from_fn(|i| 0xa0 + i as u8);
        for seed in 0..64u32 {
            let b: [u8; 16] = core::array::from_fn(|i| {
                (seed.wrapping_mul(2_654_435_761).rotate_left(i as u32 * 5) >> 7) as u8
            });
            // SAFETY: 16-byte plain data both ways.
            let (va, vb): (__m128i, __m128i) = unsafe {
                (
                    core::mem::transmute::<[u8; 16], __m128i>(a),
                    core::mem::transmute::<[u8; 16], __m128i>(b),
                )
            };
            let got: [u8; 16] = unsafe { core::mem::transmute(x86_pshufb(va, vb)) };
            let want: [u8; 16] = core::array::from_fn(|i| {
                if b[i] & 0x80 != 0 {
                    0
                } else {
                    a[usize::from(b[i] & 15)]
                }
            });
            assert_eq!(got, want, "indices {b:02x?}");
            if std::is_x86_feature_detected!("ssse3") {
                // SAFETY: SSSE3 is present.
                let hw: [u8; 16] = unsafe { core::mem::transmute(ssse3_shuffle(va, vb)) };
                assert_eq!(got, hw);
            }
        }
        #[target_feature(enable = "ssse3")]
        unsafe fn ssse3_shuffle(a: __m128i, b: __m128i) -> __m128i {
            core::arch::x86_64::_mm_shuffle_epi8(a, b)
        }
    }
}
