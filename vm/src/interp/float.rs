//! Floating-point operations whose WebAssembly semantics differ from Rust's defaults
//! (§4.3.3 "Floating-Point Operations"): NaN results are always quiet, `min`/`max`
//! propagate NaN and order zeros by sign, and truncations check their range.

#![forbid(unsafe_code)]

use crate::error::TrapCode;

macro_rules! float_ops {
    ($t:ty, $bits:ty, $quiet:expr, $min:ident, $max:ident, $ceil:ident, $floor:ident,
     $trunc:ident, $nearest:ident, $sqrt:ident) => {
        #[inline]
        pub(crate) fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                // -0 and +0: the minimum is -0.
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }

        #[inline]
        pub(crate) fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }

        #[inline]
        fn quiet(a: $t) -> $t {
            <$t>::from_bits(a.to_bits() | $quiet)
        }

        #[inline]
        pub(crate) fn $ceil(a: $t) -> $t {
            if a.is_nan() { quiet(a) } else { a.ceil() }
        }

        #[inline]
        pub(crate) fn $floor(a: $t) -> $t {
            if a.is_nan() { quiet(a) } else { a.floor() }
        }

        #[inline]
        pub(crate) fn $trunc(a: $t) -> $t {
            if a.is_nan() { quiet(a) } else { a.trunc() }
        }

        #[inline]
        pub(crate) fn $nearest(a: $t) -> $t {
            if a.is_nan() {
                quiet(a)
            } else {
                a.round_ties_even()
            }
        }

        #[inline]
        pub(crate) fn $sqrt(a: $t) -> $t {
            if a.is_nan() { quiet(a) } else { a.sqrt() }
        }
    };
}

pub(crate) mod f32ops {
    float_ops!(
        f32,
        u32,
        0x0040_0000,
        min,
        max,
        ceil,
        floor,
        trunc,
        nearest,
        sqrt
    );
}

pub(crate) mod f64ops {
    float_ops!(
        f64,
        u64,
        0x0008_0000_0000_0000,
        min,
        max,
        ceil,
        floor,
        trunc,
        nearest,
        sqrt
    );
}

/// Checks a float-to-int truncation: NaN is an invalid conversion, values whose
/// truncation falls outside `(lower, upper)` (exclusive bounds) overflow.
#[inline]
pub(crate) fn check_trunc(x: f64, lower: f64, upper: f64) -> Result<(), TrapCode> {
    if x.is_nan() {
        return Err(TrapCode::InvalidConversionToInteger);
    }
    if x <= lower || x >= upper {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(())
}

// Exclusive bounds for each trapping truncation; all exact in f64 (and an f32 converts to
// f64 exactly).
pub(crate) const I32_S: (f64, f64) = (-2147483649.0, 2147483648.0);
pub(crate) const I32_U: (f64, f64) = (-1.0, 4294967296.0);
pub(crate) const I64_S: (f64, f64) = (-9223372036854777856.0, 9223372036854775808.0);
pub(crate) const I64_U: (f64, f64) = (-1.0, 18446744073709551616.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zeros_and_nans() {
        assert!(f32ops::min(0.0, -0.0).is_sign_negative());
        assert!(f32ops::max(-0.0, 0.0).is_sign_positive());
        assert!(f64ops::min(f64::NAN, 1.0).is_nan());
        assert_eq!(f64ops::max(1.0, 2.0), 2.0);
    }

    #[test]
    fn nan_results_are_quiet() {
        let signaling = f32::from_bits(0x7fa0_0000);
        assert_eq!(f32ops::ceil(signaling).to_bits() & 0x0040_0000, 0x0040_0000);
        assert_eq!(f64ops::nearest(2.5), 2.0);
        assert_eq!(f64ops::nearest(-0.5).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn truncation_bounds() {
        assert!(check_trunc(2147483647.9, I32_S.0, I32_S.1).is_ok());
        assert_eq!(
            check_trunc(2147483648.0, I32_S.0, I32_S.1),
            Err(TrapCode::IntegerOverflow)
        );
        assert!(check_trunc(-2147483648.9, I32_S.0, I32_S.1).is_ok());
        assert!(check_trunc(-0.9, I32_U.0, I32_U.1).is_ok());
        assert_eq!(
            check_trunc(f64::NAN, I64_S.0, I64_S.1),
            Err(TrapCode::InvalidConversionToInteger)
        );
        assert!(check_trunc(-9223372036854775808.0, I64_S.0, I64_S.1).is_ok());
    }
}
