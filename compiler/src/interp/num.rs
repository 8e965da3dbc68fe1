//! Numeric semantics that Rust's operators do not give exactly as the spec wants:
//! `min`/`max` (NaN propagation, -0 < +0), rounding of NaNs, float-to-int conversions.
//!
//! Slots hold raw bits, so `abs`, `neg` and `copysign` are pure bit operations in `exec`
//! (the spec defines them on the sign bit only, NaN payloads untouched).

use runtime_loader::TrapCode;

macro_rules! float_impl {
    ($t:ty, $min:ident, $max:ident, $round:ident, $nearest:ident) => {
        /// `fN.min`: NaN if either operand is NaN, and `-0 < +0`.
        pub fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                // An arithmetic NaN built from the inputs.
                return a + b;
            }
            if a == b {
                // Equal values differ only in the sign of zero: prefer the negative one.
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }

        /// `fN.max`: NaN if either operand is NaN, and `+0 > -0`.
        pub fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }

        /// `ceil`/`floor`/`trunc` with NaN inputs quieted (an arithmetic NaN).
        pub fn $round(a: $t, f: fn($t) -> $t) -> $t {
            if a.is_nan() { a + a } else { f(a) }
        }

        /// `fN.nearest`: round half to even.
        pub fn $nearest(a: $t) -> $t {
            if a.is_nan() {
                a + a
            } else {
                a.round_ties_even()
            }
        }
    };
}

float_impl!(f32, fmin32, fmax32, round32, nearest32);
float_impl!(f64, fmin64, fmax64, round64, nearest64);

/// Checks a float (widened to `f64`, exact for `f32`) before a trapping truncation:
/// NaN → invalid conversion; outside the open interval `(lo, hi)` → overflow.
#[inline]
fn check(x: f64, lo: f64, hi: f64) -> Result<(), TrapCode> {
    if x.is_nan() {
        Err(TrapCode::InvalidConversionToInteger)
    } else if x <= lo || x >= hi {
        Err(TrapCode::IntegerOverflow)
    } else {
        Ok(())
    }
}

/// `i32.trunc_fN_s` (the float widened to f64).
pub fn trunc_i32_s(x: f64) -> Result<i32, TrapCode> {
    check(x, -2147483649.0, 2147483648.0)?;
    Ok(x as i32)
}

/// `i32.trunc_fN_u`.
pub fn trunc_i32_u(x: f64) -> Result<u32, TrapCode> {
    check(x, -1.0, 4294967296.0)?;
    Ok(x as u32)
}

/// `i64.trunc_fN_s`.
pub fn trunc_i64_s(x: f64) -> Result<i64, TrapCode> {
    // -2^63 itself is representable: the lower bound is inclusive.
    if x.is_nan() {
        return Err(TrapCode::InvalidConversionToInteger);
    }
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(x as i64)
}

/// `i64.trunc_fN_u`.
pub fn trunc_i64_u(x: f64) -> Result<u64, TrapCode> {
    check(x, -1.0, 18446744073709551616.0)?;
    Ok(x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zero_and_nan() {
        assert_eq!(fmin32(0.0, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(fmin32(-0.0, 0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(fmax32(-0.0, 0.0).to_bits(), 0.0f32.to_bits());
        assert!(fmin64(f64::NAN, 1.0).is_nan());
        assert!(fmax64(1.0, f64::NAN).is_nan());
        assert_eq!(fmax64(1.0, 2.0), 2.0);
        assert_eq!(fmin64(1.0, 2.0), 1.0);
        // A signalling NaN comes back quiet.
        let snan = f32::from_bits(0x7fa0_0000);
        assert_eq!(fmin32(snan, 1.0).to_bits() & 0x0040_0000, 0x0040_0000);
    }

    #[test]
    fn nearest_ties_to_even() {
        assert_eq!(nearest32(2.5), 2.0);
        assert_eq!(nearest32(3.5), 4.0);
        assert_eq!(nearest64(-0.5).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn truncations_trap_at_the_bounds() {
        assert_eq!(trunc_i32_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(trunc_i32_s(-2147483649.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(trunc_i32_s(2147483647.9), Ok(i32::MAX));
        assert_eq!(trunc_i32_s(2147483648.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(trunc_i32_u(-0.9), Ok(0));
        assert_eq!(trunc_i32_u(-1.0), Err(TrapCode::IntegerOverflow));
        assert_eq!(
            trunc_i32_u(f64::NAN),
            Err(TrapCode::InvalidConversionToInteger)
        );
        assert_eq!(trunc_i64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(
            trunc_i64_s(9223372036854775808.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(
            trunc_i64_u(18446744073709549568.0),
            Ok(18446744073709549568)
        );
        assert_eq!(
            trunc_i64_u(18446744073709551616.0),
            Err(TrapCode::IntegerOverflow)
        );
    }
}
