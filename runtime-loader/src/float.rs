//! The float rounding helpers Cranelift calls as libcalls on x86-64 without SSE4.1
//! (`ceil`, `floor`, `trunc`, `nearbyint` and their `f32` forms). Snapshot code is compiled
//! for baseline x86-64, so the loader resolves these symbols itself ([`symbol`]); `core` has
//! no float rounding, hence these bit-level versions. NaN inputs return a quiet NaN (`x + x`),
//! as the SSE4.1 instructions do.

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

rounding!(f32, u32, 23, truncf, floorf, ceilf, nearbyintf);
rounding!(f64, u64, 52, trunc, floor, ceil, nearbyint);

/// Address of the helper named `name` (the libc names Cranelift uses), if it is one.
pub fn symbol(name: &[u8]) -> Option<u64> {
    let i = crate::format::reloc::EXTERNALS
        .iter()
        .position(|n| *n == name)?;
    helper((i as u32).checked_sub(1)?)
}

/// Address of helper `i`, in the order of the snapshot format's external symbols after
/// `bf_enter` (`format::reloc::EXTERNALS[1..]`): `truncf`, `floorf`, `ceilf`, `nearbyintf`,
/// `trunc`, `floor`, `ceil`, `nearbyint`.
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
        _ => return None,
    };
    Some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
