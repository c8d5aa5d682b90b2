//! Lane-wise semantics of the fixed-width vector instructions (§4.4.3 "Vector
//! Instructions"), in portable Rust: no `std::arch`, no dependence on the host's CPU.
//!
//! A `v128` is a `u128` whose least significant bits hold lane 0, which is the order of
//! the vector's bytes in linear memory (little-endian). Each helper is named after the
//! instruction it implements; the interpreter's op for that instruction reads its
//! registers, calls the helper and writes the result. Float lanes follow the scalar
//! rules of [`super::float`]: NaN results are quiet, `min`/`max` propagate NaN and order
//! zeros by sign, rounding to nearest breaks ties to even.

#![forbid(unsafe_code)]

use super::float::{f32ops, f64ops};

/// A lane type: an integer or float of 8 to 64 bits stored in the low bits of a `u128`.
trait Lane: Copy {
    const BITS: u32;
    /// The lane whose bits are the low `BITS` bits of `raw`.
    fn from_raw(raw: u128) -> Self;
    /// The lane's bits, zero-extended.
    fn to_raw(self) -> u128;
    /// The lane stored little-endian in `bytes` (`BITS / 8` of them).
    fn from_le(bytes: &[u8]) -> Self;
    /// Stores the lane little-endian into `out` (`BITS / 8` bytes).
    fn write_le(self, out: &mut [u8]);
}

macro_rules! lane {
    ($($t:ty => $bits:ty),*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$bits>::BITS;
            #[inline(always)]
            fn from_raw(raw: u128) -> Self {
                <$t>::from_le_bytes((raw as $bits).to_le_bytes())
            }
            #[inline(always)]
            fn to_raw(self) -> u128 {
                u128::from(<$bits>::from_le_bytes(self.to_le_bytes()))
            }
            #[inline(always)]
            fn from_le(bytes: &[u8]) -> Self {
                let mut b = [0; (<$bits>::BITS / 8) as usize];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
            #[inline(always)]
            fn write_le(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

lane!(u8 => u8, i8 => u8, u16 => u16, i16 => u16, u32 => u32, i32 => u32, u64 => u64,
      i64 => u64, f32 => u32, f64 => u64);

/// The first `N` lanes of type `T` (all of them when `N * T::BITS == 128`).
#[inline(always)]
fn lanes<T: Lane, const N: usize>(v: u128) -> [T; N] {
    debug_assert!(N as u32 * T::BITS <= 128);
    let bytes = v.to_le_bytes();
    let width = (T::BITS / 8) as usize;
    std::array::from_fn(|i| T::from_le(&bytes[i * width..(i + 1) * width]))
}

/// A vector from lanes `0..N`; lanes beyond `N` are zero.
#[inline(always)]
fn pack<T: Lane, const N: usize>(lanes: [T; N]) -> u128 {
    let mut bytes = [0; 16];
    let width = (T::BITS / 8) as usize;
    for (i, lane) in lanes.into_iter().enumerate() {
        lane.write_le(&mut bytes[i * width..(i + 1) * width]);
    }
    u128::from_le_bytes(bytes)
}

/// Applies `f` to every lane.
#[inline(always)]
fn map<T: Lane, U: Lane, const N: usize>(a: u128, f: impl Fn(T) -> U) -> u128 {
    pack::<U, N>(lanes::<T, N>(a).map(f))
}

/// Applies `f` to each pair of corresponding lanes.
#[inline(always)]
fn zip<T: Lane, U: Lane, const N: usize>(a: u128, b: u128, f: impl Fn(T, T) -> U) -> u128 {
    let (a, b) = (lanes::<T, N>(a), lanes::<T, N>(b));
    pack::<U, N>(std::array::from_fn(|i| f(a[i], b[i])))
}

/// A comparison: each result lane is all ones where `f` holds, zero elsewhere.
#[inline(always)]
fn compare<T: Lane, const N: usize>(a: u128, b: u128, f: impl Fn(T, T) -> bool) -> u128 {
    let ones = u128::MAX >> (128 - T::BITS);
    let (a, b) = (lanes::<T, N>(a), lanes::<T, N>(b));
    let mut v = 0;
    for i in 0..N {
        if f(a[i], b[i]) {
            v |= ones << (i as u32 * T::BITS);
        }
    }
    v
}

/// Lanes `N..2N` of a vector with `2N` lanes.
#[inline(always)]
fn high_lanes<T: Lane, const N: usize>(v: u128) -> [T; N] {
    lanes::<T, N>(v >> (N as u32 * T::BITS))
}

/// Lane `lane` of a vector of `T`. The index wraps (validation keeps it in range).
#[inline(always)]
fn extract<T: Lane>(v: u128, lane: u32) -> T {
    let lanes = 128 / T::BITS;
    T::from_raw(v >> ((lane % lanes) * T::BITS))
}

/// `v` with lane `lane` set to `x`.
#[inline(always)]
fn replace<T: Lane>(v: u128, lane: u32, x: T) -> u128 {
    let lanes = 128 / T::BITS;
    let shift = (lane % lanes) * T::BITS;
    let ones = u128::MAX >> (128 - T::BITS);
    (v & !(ones << shift)) | (x.to_raw() << shift)
}

/// A vector with every lane `x`.
#[inline(always)]
fn splat<T: Lane, const N: usize>(x: T) -> u128 {
    pack::<T, N>([x; N])
}

// Lane-parallel integer arithmetic on all 128 bits at once ("SIMD within a register"),
// for the frequent ops whose lane-by-lane form compiles to slow byte shuffling: masks keep
// every carry and borrow inside its lane (Hacker's Delight, §2-18).

/// Bit 0 of every `w`-bit lane.
const fn lane_low_bits(w: u32) -> u128 {
    u128::MAX / (u128::MAX >> (128 - w))
}

/// The top bit of every `w`-bit lane.
const fn lane_high_bits(w: u32) -> u128 {
    lane_low_bits(w) << (w - 1)
}

#[inline(always)]
fn swar_add<const W: u32>(a: u128, b: u128) -> u128 {
    let h = lane_high_bits(W);
    // The low W-1 bits of two lanes sum to less than 2^W: no carry leaves a lane.
    ((a & !h) + (b & !h)) ^ ((a ^ b) & h)
}

#[inline(always)]
fn swar_sub<const W: u32>(a: u128, b: u128) -> u128 {
    let h = lane_high_bits(W);
    // Each lane of `a | h` is at least 2^(W-1), above that of `b & !h`: no borrow.
    ((a | h) - (b & !h)) ^ ((a ^ !b) & h)
}

/// The top bit of each lane set where the lane is not zero, all other bits clear.
#[inline(always)]
fn swar_nonzero<const W: u32>(a: u128) -> u128 {
    let h = lane_high_bits(W);
    (((a & !h) + !h) | a) & h
}

/// Every lane all ones where its top bit is set in `m` (which has only top bits).
#[inline(always)]
fn swar_expand<const W: u32>(m: u128) -> u128 {
    m | (m - (m >> (W - 1)))
}

#[inline(always)]
fn swar_eq<const W: u32>(a: u128, b: u128) -> u128 {
    swar_expand::<W>(!swar_nonzero::<W>(a ^ b) & lane_high_bits(W))
}

/// One bit per lane, set when the lane is negative.
#[inline(always)]
fn bitmask<T: Lane, const N: usize>(v: u128) -> u32 {
    if T::BITS == 8 {
        return byte_signs(v as u64) | (byte_signs((v >> 64) as u64) << 8);
    }
    let sign = T::BITS - 1;
    let mut m = 0;
    for i in 0..N as u32 {
        m |= ((v >> (i * T::BITS + sign)) as u32 & 1) << i;
    }
    m
}

/// The sign bits of the eight bytes of `x` as an 8-bit mask. The multiplication moves
/// the bit of byte `i` to bit `56 + i`; no two partial products overlap, so nothing
/// carries.
#[inline(always)]
fn byte_signs(x: u64) -> u32 {
    let bits = (x >> 7) & 0x0101_0101_0101_0101;
    (bits.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

// ---- bitwise ----

pub(crate) fn v128_not(a: u128) -> u128 {
    !a
}

pub(crate) fn v128_and(a: u128, b: u128) -> u128 {
    a & b
}

pub(crate) fn v128_and_not(a: u128, b: u128) -> u128 {
    a & !b
}

pub(crate) fn v128_or(a: u128, b: u128) -> u128 {
    a | b
}

pub(crate) fn v128_xor(a: u128, b: u128) -> u128 {
    a ^ b
}

/// Bits of `a` where `mask` is set, of `b` elsewhere.
pub(crate) fn v128_bitselect(a: u128, b: u128, mask: u128) -> u128 {
    (a & mask) | (b & !mask)
}

pub(crate) fn v128_any_true(a: u128) -> u32 {
    u32::from(a != 0)
}

// ---- splats, lanes, shuffles ----

pub(crate) fn i8x16_splat(x: u64) -> u128 {
    splat::<u8, 16>(x as u8)
}

pub(crate) fn i16x8_splat(x: u64) -> u128 {
    splat::<u16, 8>(x as u16)
}

/// Also `f32x4.splat` (on the float's bits).
pub(crate) fn i32x4_splat(x: u64) -> u128 {
    splat::<u32, 4>(x as u32)
}

/// Also `f64x2.splat` (on the float's bits).
pub(crate) fn i64x2_splat(x: u64) -> u128 {
    splat::<u64, 2>(x)
}

/// Lane extraction, as the bits of the scalar register.
pub(crate) fn i8x16_extract_lane_s(v: u128, lane: u32) -> u64 {
    u64::from(extract::<i8>(v, lane) as i32 as u32)
}

pub(crate) fn i8x16_extract_lane_u(v: u128, lane: u32) -> u64 {
    u64::from(extract::<u8>(v, lane))
}

pub(crate) fn i16x8_extract_lane_s(v: u128, lane: u32) -> u64 {
    u64::from(extract::<i16>(v, lane) as i32 as u32)
}

pub(crate) fn i16x8_extract_lane_u(v: u128, lane: u32) -> u64 {
    u64::from(extract::<u16>(v, lane))
}

/// Also `f32x4.extract_lane`.
pub(crate) fn i32x4_extract_lane(v: u128, lane: u32) -> u64 {
    u64::from(extract::<u32>(v, lane))
}

/// Also `f64x2.extract_lane`.
pub(crate) fn i64x2_extract_lane(v: u128, lane: u32) -> u64 {
    extract::<u64>(v, lane)
}

/// Lane replacement from the bits of a scalar register.
pub(crate) fn i8x16_replace_lane(v: u128, lane: u32, x: u64) -> u128 {
    replace(v, lane, x as u8)
}

pub(crate) fn i16x8_replace_lane(v: u128, lane: u32, x: u64) -> u128 {
    replace(v, lane, x as u16)
}

/// Also `f32x4.replace_lane`.
pub(crate) fn i32x4_replace_lane(v: u128, lane: u32, x: u64) -> u128 {
    replace(v, lane, x as u32)
}

/// Also `f64x2.replace_lane`.
pub(crate) fn i64x2_replace_lane(v: u128, lane: u32, x: u64) -> u128 {
    replace(v, lane, x)
}

/// Bytes of `a` picked by the bytes of `s`; indices of 16 and above give 0.
pub(crate) fn i8x16_swizzle(a: u128, s: u128) -> u128 {
    let bytes = a.to_le_bytes();
    map::<u8, u8, 16>(s, |i| bytes.get(usize::from(i)).copied().unwrap_or(0))
}

/// Bytes of `a` then `b` (32 in all) picked by the bytes of `mask`, each below 32
/// (validated; the index wraps otherwise).
pub(crate) fn i8x16_shuffle(a: u128, b: u128, mask: u128) -> u128 {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&a.to_le_bytes());
    bytes[16..].copy_from_slice(&b.to_le_bytes());
    map::<u8, u8, 16>(mask, |i| bytes[usize::from(i & 31)])
}

// ---- integer arithmetic ----

macro_rules! int_shape {
    ($s:ty, $u:ty, $n:literal, $w:literal,
     $add:ident, $sub:ident, $neg:ident, $abs:ident, $shl:ident, $shr_s:ident, $shr_u:ident,
     $all_true:ident, $bitmask:ident,
     $eq:ident, $ne:ident, $lt_s:ident, $gt_s:ident, $le_s:ident, $ge_s:ident) => {
        pub(crate) fn $add(a: u128, b: u128) -> u128 {
            swar_add::<$w>(a, b)
        }

        pub(crate) fn $sub(a: u128, b: u128) -> u128 {
            swar_sub::<$w>(a, b)
        }

        pub(crate) fn $neg(a: u128) -> u128 {
            swar_sub::<$w>(0, a)
        }

        /// The absolute value; the most negative lane stays as it is.
        pub(crate) fn $abs(a: u128) -> u128 {
            map::<$s, $s, $n>(a, <$s>::wrapping_abs)
        }

        /// Shifts by the count modulo the lane width.
        pub(crate) fn $shl(a: u128, count: u32) -> u128 {
            map::<$u, $u, $n>(a, |x| x.wrapping_shl(count))
        }

        pub(crate) fn $shr_s(a: u128, count: u32) -> u128 {
            map::<$s, $s, $n>(a, |x| x.wrapping_shr(count))
        }

        pub(crate) fn $shr_u(a: u128, count: u32) -> u128 {
            map::<$u, $u, $n>(a, |x| x.wrapping_shr(count))
        }

        pub(crate) fn $all_true(a: u128) -> u32 {
            u32::from(swar_nonzero::<$w>(a) == lane_high_bits($w))
        }

        pub(crate) fn $bitmask(a: u128) -> u32 {
            bitmask::<$u, $n>(a)
        }

        pub(crate) fn $eq(a: u128, b: u128) -> u128 {
            swar_eq::<$w>(a, b)
        }

        pub(crate) fn $ne(a: u128, b: u128) -> u128 {
            !swar_eq::<$w>(a, b)
        }

        pub(crate) fn $lt_s(a: u128, b: u128) -> u128 {
            compare::<$s, $n>(a, b, |x, y| x < y)
        }

        pub(crate) fn $gt_s(a: u128, b: u128) -> u128 {
            compare::<$s, $n>(a, b, |x, y| x > y)
        }

        pub(crate) fn $le_s(a: u128, b: u128) -> u128 {
            compare::<$s, $n>(a, b, |x, y| x <= y)
        }

        pub(crate) fn $ge_s(a: u128, b: u128) -> u128 {
            compare::<$s, $n>(a, b, |x, y| x >= y)
        }
    };
}

int_shape!(
    i8,
    u8,
    16,
    8,
    i8x16_add,
    i8x16_sub,
    i8x16_neg,
    i8x16_abs,
    i8x16_shl,
    i8x16_shr_s,
    i8x16_shr_u,
    i8x16_all_true,
    i8x16_bitmask,
    i8x16_eq,
    i8x16_ne,
    i8x16_lt_s,
    i8x16_gt_s,
    i8x16_le_s,
    i8x16_ge_s
);
int_shape!(
    i16,
    u16,
    8,
    16,
    i16x8_add,
    i16x8_sub,
    i16x8_neg,
    i16x8_abs,
    i16x8_shl,
    i16x8_shr_s,
    i16x8_shr_u,
    i16x8_all_true,
    i16x8_bitmask,
    i16x8_eq,
    i16x8_ne,
    i16x8_lt_s,
    i16x8_gt_s,
    i16x8_le_s,
    i16x8_ge_s
);
int_shape!(
    i32,
    u32,
    4,
    32,
    i32x4_add,
    i32x4_sub,
    i32x4_neg,
    i32x4_abs,
    i32x4_shl,
    i32x4_shr_s,
    i32x4_shr_u,
    i32x4_all_true,
    i32x4_bitmask,
    i32x4_eq,
    i32x4_ne,
    i32x4_lt_s,
    i32x4_gt_s,
    i32x4_le_s,
    i32x4_ge_s
);
int_shape!(
    i64,
    u64,
    2,
    64,
    i64x2_add,
    i64x2_sub,
    i64x2_neg,
    i64x2_abs,
    i64x2_shl,
    i64x2_shr_s,
    i64x2_shr_u,
    i64x2_all_true,
    i64x2_bitmask,
    i64x2_eq,
    i64x2_ne,
    i64x2_lt_s,
    i64x2_gt_s,
    i64x2_le_s,
    i64x2_ge_s
);

/// Unsigned comparisons and min/max, for the shapes that have them (not i64x2).
macro_rules! int_shape_narrow {
    ($s:ty, $u:ty, $n:literal, $lt_u:ident, $gt_u:ident, $le_u:ident, $ge_u:ident,
     $min_s:ident, $min_u:ident, $max_s:ident, $max_u:ident) => {
        pub(crate) fn $lt_u(a: u128, b: u128) -> u128 {
            compare::<$u, $n>(a, b, |x, y| x < y)
        }

        pub(crate) fn $gt_u(a: u128, b: u128) -> u128 {
            compare::<$u, $n>(a, b, |x, y| x > y)
        }

        pub(crate) fn $le_u(a: u128, b: u128) -> u128 {
            compare::<$u, $n>(a, b, |x, y| x <= y)
        }

        pub(crate) fn $ge_u(a: u128, b: u128) -> u128 {
            compare::<$u, $n>(a, b, |x, y| x >= y)
        }

        pub(crate) fn $min_s(a: u128, b: u128) -> u128 {
            zip::<$s, $s, $n>(a, b, Ord::min)
        }

        pub(crate) fn $min_u(a: u128, b: u128) -> u128 {
            zip::<$u, $u, $n>(a, b, Ord::min)
        }

        pub(crate) fn $max_s(a: u128, b: u128) -> u128 {
            zip::<$s, $s, $n>(a, b, Ord::max)
        }

        pub(crate) fn $max_u(a: u128, b: u128) -> u128 {
            zip::<$u, $u, $n>(a, b, Ord::max)
        }
    };
}

int_shape_narrow!(
    i8,
    u8,
    16,
    i8x16_lt_u,
    i8x16_gt_u,
    i8x16_le_u,
    i8x16_ge_u,
    i8x16_min_s,
    i8x16_min_u,
    i8x16_max_s,
    i8x16_max_u
);
int_shape_narrow!(
    i16,
    u16,
    8,
    i16x8_lt_u,
    i16x8_gt_u,
    i16x8_le_u,
    i16x8_ge_u,
    i16x8_min_s,
    i16x8_min_u,
    i16x8_max_s,
    i16x8_max_u
);
int_shape_narrow!(
    i32,
    u32,
    4,
    i32x4_lt_u,
    i32x4_gt_u,
    i32x4_le_u,
    i32x4_ge_u,
    i32x4_min_s,
    i32x4_min_u,
    i32x4_max_s,
    i32x4_max_u
);

/// Saturating addition and subtraction and the rounding average (8- and 16-bit lanes).
macro_rules! int_shape_sat {
    ($s:ty, $u:ty, $wide:ty, $n:literal, $add_sat_s:ident, $add_sat_u:ident,
     $sub_sat_s:ident, $sub_sat_u:ident, $avgr_u:ident) => {
        pub(crate) fn $add_sat_s(a: u128, b: u128) -> u128 {
            zip::<$s, $s, $n>(a, b, <$s>::saturating_add)
        }

        pub(crate) fn $add_sat_u(a: u128, b: u128) -> u128 {
            zip::<$u, $u, $n>(a, b, <$u>::saturating_add)
        }

        pub(crate) fn $sub_sat_s(a: u128, b: u128) -> u128 {
            zip::<$s, $s, $n>(a, b, <$s>::saturating_sub)
        }

        pub(crate) fn $sub_sat_u(a: u128, b: u128) -> u128 {
            zip::<$u, $u, $n>(a, b, <$u>::saturating_sub)
        }

        /// `(a + b + 1) / 2` without overflow.
        pub(crate) fn $avgr_u(a: u128, b: u128) -> u128 {
            zip::<$u, $u, $n>(a, b, |x, y| {
                ((<$wide>::from(x) + <$wide>::from(y) + 1) >> 1) as $u
            })
        }
    };
}

int_shape_sat!(
    i8,
    u8,
    u16,
    16,
    i8x16_add_sat_s,
    i8x16_add_sat_u,
    i8x16_sub_sat_s,
    i8x16_sub_sat_u,
    i8x16_avgr_u
);
int_shape_sat!(
    i16,
    u16,
    u32,
    8,
    i16x8_add_sat_s,
    i16x8_add_sat_u,
    i16x8_sub_sat_s,
    i16x8_sub_sat_u,
    i16x8_avgr_u
);

/// Works on pairs of 16-bit lanes in 32-bit lanes, which compile to faster code.
pub(crate) fn i16x8_mul(a: u128, b: u128) -> u128 {
    zip::<u32, u32, 4>(a, b, |x, y| {
        let low = x.wrapping_mul(y) & 0xffff;
        let high = (x >> 16).wrapping_mul(y >> 16) << 16;
        low | high
    })
}

pub(crate) fn i32x4_mul(a: u128, b: u128) -> u128 {
    zip::<u32, u32, 4>(a, b, u32::wrapping_mul)
}

pub(crate) fn i64x2_mul(a: u128, b: u128) -> u128 {
    zip::<u64, u64, 2>(a, b, u64::wrapping_mul)
}

pub(crate) fn i8x16_popcnt(a: u128) -> u128 {
    map::<u8, u8, 16>(a, |x| x.count_ones() as u8)
}

/// Q15 fixed-point multiplication, rounded, saturated: `(a * b + 2^14) >> 15`.
pub(crate) fn i16x8_q15mulr_sat_s(a: u128, b: u128) -> u128 {
    zip::<i16, i16, 8>(a, b, |x, y| {
        let product = (i32::from(x) * i32::from(y) + 0x4000) >> 15;
        product.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    })
}

/// Products of 16-bit lanes, added in adjacent pairs into 32-bit lanes.
pub(crate) fn i32x4_dot_i16x8_s(a: u128, b: u128) -> u128 {
    let (a, b) = (lanes::<i16, 8>(a), lanes::<i16, 8>(b));
    pack::<i32, 4>(std::array::from_fn(|i| {
        let lo = i32::from(a[2 * i]) * i32::from(b[2 * i]);
        let hi = i32::from(a[2 * i + 1]) * i32::from(b[2 * i + 1]);
        lo.wrapping_add(hi)
    }))
}

// ---- narrowing, extension, extended multiplication, pairwise addition ----

/// Signed lanes of `a` then `b`, saturated to half their width: `$to` for `_s`,
/// `$to_u` for `_u` (which still reads the input lanes as signed).
macro_rules! narrow {
    ($name_s:ident, $name_u:ident, $from:ty, $to:ty, $to_u:ty, $n:literal) => {
        pub(crate) fn $name_s(a: u128, b: u128) -> u128 {
            let (a, b) = (lanes::<$from, $n>(a), lanes::<$from, $n>(b));
            let sat =
                |x: $from| x.clamp(<$from>::from(<$to>::MIN), <$from>::from(<$to>::MAX)) as $to;
            pack::<$to, { 2 * $n }>(std::array::from_fn(|i| {
                if i < $n { sat(a[i]) } else { sat(b[i - $n]) }
            }))
        }

        pub(crate) fn $name_u(a: u128, b: u128) -> u128 {
            let (a, b) = (lanes::<$from, $n>(a), lanes::<$from, $n>(b));
            let sat = |x: $from| x.clamp(0, <$from>::from(<$to_u>::MAX)) as $to_u;
            pack::<$to_u, { 2 * $n }>(std::array::from_fn(|i| {
                if i < $n { sat(a[i]) } else { sat(b[i - $n]) }
            }))
        }
    };
}

narrow!(i8x16_narrow_i16x8_s, i8x16_narrow_i16x8_u, i16, i8, u8, 8);
narrow!(i16x8_narrow_i32x4_s, i16x8_narrow_i32x4_u, i32, i16, u16, 4);

/// Extension of the low or high half of the lanes to twice their width, and the
/// multiplication of two such extended halves.
macro_rules! extend {
    ($from:ty, $to:ty, $n:literal, $low:ident, $high:ident, $mul_low:ident, $mul_high:ident) => {
        pub(crate) fn $low(a: u128) -> u128 {
            pack::<$to, $n>(lanes::<$from, $n>(a).map(<$to>::from))
        }

        pub(crate) fn $high(a: u128) -> u128 {
            pack::<$to, $n>(high_lanes::<$from, $n>(a).map(<$to>::from))
        }

        /// The product always fits the wider lane.
        pub(crate) fn $mul_low(a: u128, b: u128) -> u128 {
            let (a, b) = (lanes::<$from, $n>(a), lanes::<$from, $n>(b));
            pack::<$to, $n>(std::array::from_fn(|i| {
                <$to>::from(a[i]).wrapping_mul(<$to>::from(b[i]))
            }))
        }

        pub(crate) fn $mul_high(a: u128, b: u128) -> u128 {
            let (a, b) = (high_lanes::<$from, $n>(a), high_lanes::<$from, $n>(b));
            pack::<$to, $n>(std::array::from_fn(|i| {
                <$to>::from(a[i]).wrapping_mul(<$to>::from(b[i]))
            }))
        }
    };
}

extend!(
    i8,
    i16,
    8,
    i16x8_extend_low_i8x16_s,
    i16x8_extend_high_i8x16_s,
    i16x8_extmul_low_i8x16_s,
    i16x8_extmul_high_i8x16_s
);
extend!(
    u8,
    u16,
    8,
    i16x8_extend_low_i8x16_u,
    i16x8_extend_high_i8x16_u,
    i16x8_extmul_low_i8x16_u,
    i16x8_extmul_high_i8x16_u
);
extend!(
    i16,
    i32,
    4,
    i32x4_extend_low_i16x8_s,
    i32x4_extend_high_i16x8_s,
    i32x4_extmul_low_i16x8_s,
    i32x4_extmul_high_i16x8_s
);
extend!(
    u16,
    u32,
    4,
    i32x4_extend_low_i16x8_u,
    i32x4_extend_high_i16x8_u,
    i32x4_extmul_low_i16x8_u,
    i32x4_extmul_high_i16x8_u
);
extend!(
    i32,
    i64,
    2,
    i64x2_extend_low_i32x4_s,
    i64x2_extend_high_i32x4_s,
    i64x2_extmul_low_i32x4_s,
    i64x2_extmul_high_i32x4_s
);
extend!(
    u32,
    u64,
    2,
    i64x2_extend_low_i32x4_u,
    i64x2_extend_high_i32x4_u,
    i64x2_extmul_low_i32x4_u,
    i64x2_extmul_high_i32x4_u
);

/// Adjacent lanes added into one lane of twice the width (the sum always fits).
macro_rules! extadd_pairwise {
    ($name:ident, $from:ty, $to:ty, $n:literal) => {
        pub(crate) fn $name(a: u128) -> u128 {
            let a = lanes::<$from, { 2 * $n }>(a);
            pack::<$to, $n>(std::array::from_fn(|i| {
                <$to>::from(a[2 * i]) + <$to>::from(a[2 * i + 1])
            }))
        }
    };
}

extadd_pairwise!(i16x8_extadd_pairwise_i8x16_s, i8, i16, 8);
extadd_pairwise!(i16x8_extadd_pairwise_i8x16_u, u8, u16, 8);
extadd_pairwise!(i32x4_extadd_pairwise_i16x8_s, i16, i32, 4);
extadd_pairwise!(i32x4_extadd_pairwise_i16x8_u, u16, u32, 4);

// ---- floating point ----

macro_rules! float_shape {
    ($f:ty, $bits:ty, $n:literal, $ops:ident,
     $abs:ident, $neg:ident, $sqrt:ident, $ceil:ident, $floor:ident, $trunc:ident,
     $nearest:ident, $add:ident, $sub:ident, $mul:ident, $div:ident, $min:ident, $max:ident,
     $pmin:ident, $pmax:ident, $eq:ident, $ne:ident, $lt:ident, $gt:ident, $le:ident,
     $ge:ident) => {
        /// Clears the sign bits (NaNs keep their payload).
        pub(crate) fn $abs(a: u128) -> u128 {
            map::<$bits, $bits, $n>(a, |x| x & !(1 << (<$bits>::BITS - 1)))
        }

        /// Flips the sign bits (NaNs keep their payload).
        pub(crate) fn $neg(a: u128) -> u128 {
            map::<$bits, $bits, $n>(a, |x| x ^ (1 << (<$bits>::BITS - 1)))
        }

        pub(crate) fn $sqrt(a: u128) -> u128 {
            map::<$f, $f, $n>(a, $ops::sqrt)
        }

        pub(crate) fn $ceil(a: u128) -> u128 {
            map::<$f, $f, $n>(a, $ops::ceil)
        }

        pub(crate) fn $floor(a: u128) -> u128 {
            map::<$f, $f, $n>(a, $ops::floor)
        }

        pub(crate) fn $trunc(a: u128) -> u128 {
            map::<$f, $f, $n>(a, $ops::trunc)
        }

        pub(crate) fn $nearest(a: u128) -> u128 {
            map::<$f, $f, $n>(a, $ops::nearest)
        }

        pub(crate) fn $add(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| x + y)
        }

        pub(crate) fn $sub(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| x - y)
        }

        pub(crate) fn $mul(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| x * y)
        }

        pub(crate) fn $div(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| x / y)
        }

        /// NaN-propagating, with -0 below +0 (as the scalar `min`).
        pub(crate) fn $min(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, $ops::min)
        }

        pub(crate) fn $max(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, $ops::max)
        }

        /// Pseudo-minimum `b < a ? b : a`: no NaN propagation, zeros unordered.
        pub(crate) fn $pmin(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| if y < x { y } else { x })
        }

        /// Pseudo-maximum `a < b ? b : a`.
        pub(crate) fn $pmax(a: u128, b: u128) -> u128 {
            zip::<$f, $f, $n>(a, b, |x, y| if x < y { y } else { x })
        }

        pub(crate) fn $eq(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x == y)
        }

        pub(crate) fn $ne(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x != y)
        }

        pub(crate) fn $lt(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x < y)
        }

        pub(crate) fn $gt(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x > y)
        }

        pub(crate) fn $le(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x <= y)
        }

        pub(crate) fn $ge(a: u128, b: u128) -> u128 {
            compare::<$f, $n>(a, b, |x, y| x >= y)
        }
    };
}

float_shape!(
    f32,
    u32,
    4,
    f32ops,
    f32x4_abs,
    f32x4_neg,
    f32x4_sqrt,
    f32x4_ceil,
    f32x4_floor,
    f32x4_trunc,
    f32x4_nearest,
    f32x4_add,
    f32x4_sub,
    f32x4_mul,
    f32x4_div,
    f32x4_min,
    f32x4_max,
    f32x4_pmin,
    f32x4_pmax,
    f32x4_eq,
    f32x4_ne,
    f32x4_lt,
    f32x4_gt,
    f32x4_le,
    f32x4_ge
);
float_shape!(
    f64,
    u64,
    2,
    f64ops,
    f64x2_abs,
    f64x2_neg,
    f64x2_sqrt,
    f64x2_ceil,
    f64x2_floor,
    f64x2_trunc,
    f64x2_nearest,
    f64x2_add,
    f64x2_sub,
    f64x2_mul,
    f64x2_div,
    f64x2_min,
    f64x2_max,
    f64x2_pmin,
    f64x2_pmax,
    f64x2_eq,
    f64x2_ne,
    f64x2_lt,
    f64x2_gt,
    f64x2_le,
    f64x2_ge
);

// ---- conversions ----

/// Saturating truncation (Rust's `as` saturates and maps NaN to 0, as the spec's
/// `trunc_sat` does).
pub(crate) fn i32x4_trunc_sat_f32x4_s(a: u128) -> u128 {
    map::<f32, i32, 4>(a, |x| x as i32)
}

pub(crate) fn i32x4_trunc_sat_f32x4_u(a: u128) -> u128 {
    map::<f32, u32, 4>(a, |x| x as u32)
}

/// The two results go to lanes 0 and 1; lanes 2 and 3 are zero.
pub(crate) fn i32x4_trunc_sat_f64x2_s_zero(a: u128) -> u128 {
    pack::<i32, 2>(lanes::<f64, 2>(a).map(|x| x as i32))
}

pub(crate) fn i32x4_trunc_sat_f64x2_u_zero(a: u128) -> u128 {
    pack::<u32, 2>(lanes::<f64, 2>(a).map(|x| x as u32))
}

/// Rounds to nearest, ties to even (Rust's `as` from integers does).
pub(crate) fn f32x4_convert_i32x4_s(a: u128) -> u128 {
    map::<i32, f32, 4>(a, |x| x as f32)
}

pub(crate) fn f32x4_convert_i32x4_u(a: u128) -> u128 {
    map::<u32, f32, 4>(a, |x| x as f32)
}

/// Converts lanes 0 and 1 (exactly).
pub(crate) fn f64x2_convert_low_i32x4_s(a: u128) -> u128 {
    pack::<f64, 2>(lanes::<i32, 2>(a).map(f64::from))
}

pub(crate) fn f64x2_convert_low_i32x4_u(a: u128) -> u128 {
    pack::<f64, 2>(lanes::<u32, 2>(a).map(f64::from))
}

/// f64 to f32, rounding to nearest; a NaN becomes a quiet NaN with the sign and the
/// high payload bits kept (so a canonical NaN stays canonical).
fn demote(x: f64) -> f32 {
    if x.is_nan() {
        let bits = x.to_bits();
        let sign = (bits >> 32) as u32 & 0x8000_0000;
        let payload = (bits >> 29) as u32 & 0x003f_ffff;
        return f32::from_bits(sign | 0x7fc0_0000 | payload);
    }
    x as f32
}

/// f32 to f64 (exact); a NaN becomes a quiet NaN with its payload in the high bits.
fn promote(x: f32) -> f64 {
    if x.is_nan() {
        let bits = u64::from(x.to_bits());
        let sign = (bits & 0x8000_0000) << 32;
        let payload = (bits & 0x003f_ffff) << 29;
        return f64::from_bits(sign | 0x7ff8_0000_0000_0000 | payload);
    }
    f64::from(x)
}

/// Lanes 2 and 3 of the result are zero.
pub(crate) fn f32x4_demote_f64x2_zero(a: u128) -> u128 {
    pack::<f32, 2>(lanes::<f64, 2>(a).map(demote))
}

/// Promotes lanes 0 and 1.
pub(crate) fn f64x2_promote_low_f32x4(a: u128) -> u128 {
    pack::<f64, 2>(lanes::<f32, 2>(a).map(promote))
}

/// Applies vector instruction `op` (one without immediates) to its operands: `v128`
/// operands as they are, scalar ones (splat values, shift counts) in the low bits;
/// a scalar result (`any_true`, `all_true`, `bitmask`) comes back in the low bits.
/// Operands beyond the instruction's arity are ignored. The compiler calls this for the
/// instructions it has no inline sequence for.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) fn eval(op: crate::decode::ops::SimdOp, a: u128, b: u128, c: u128) -> u128 {
    use crate::decode::ops::SimdOp as S;
    let _ = (b, c);
    match op {
        S::I8x16Swizzle => i8x16_swizzle(a, b),
        S::I8x16Splat => i8x16_splat(a as u64),
        S::I16x8Splat => i16x8_splat(a as u64),
        S::I32x4Splat => i32x4_splat(a as u64),
        S::I64x2Splat => i64x2_splat(a as u64),
        S::F32x4Splat => i32x4_splat(a as u64),
        S::F64x2Splat => i64x2_splat(a as u64),
        S::I8x16Eq => i8x16_eq(a, b),
        S::I8x16Ne => i8x16_ne(a, b),
        S::I8x16LtS => i8x16_lt_s(a, b),
        S::I8x16LtU => i8x16_lt_u(a, b),
        S::I8x16GtS => i8x16_gt_s(a, b),
        S::I8x16GtU => i8x16_gt_u(a, b),
        S::I8x16LeS => i8x16_le_s(a, b),
        S::I8x16LeU => i8x16_le_u(a, b),
        S::I8x16GeS => i8x16_ge_s(a, b),
        S::I8x16GeU => i8x16_ge_u(a, b),
        S::I16x8Eq => i16x8_eq(a, b),
        S::I16x8Ne => i16x8_ne(a, b),
        S::I16x8LtS => i16x8_lt_s(a, b),
        S::I16x8LtU => i16x8_lt_u(a, b),
        S::I16x8GtS => i16x8_gt_s(a, b),
        S::I16x8GtU => i16x8_gt_u(a, b),
        S::I16x8LeS => i16x8_le_s(a, b),
        S::I16x8LeU => i16x8_le_u(a, b),
        S::I16x8GeS => i16x8_ge_s(a, b),
        S::I16x8GeU => i16x8_ge_u(a, b),
        S::I32x4Eq => i32x4_eq(a, b),
        S::I32x4Ne => i32x4_ne(a, b),
        S::I32x4LtS => i32x4_lt_s(a, b),
        S::I32x4LtU => i32x4_lt_u(a, b),
        S::I32x4GtS => i32x4_gt_s(a, b),
        S::I32x4GtU => i32x4_gt_u(a, b),
        S::I32x4LeS => i32x4_le_s(a, b),
        S::I32x4LeU => i32x4_le_u(a, b),
        S::I32x4GeS => i32x4_ge_s(a, b),
        S::I32x4GeU => i32x4_ge_u(a, b),
        S::F32x4Eq => f32x4_eq(a, b),
        S::F32x4Ne => f32x4_ne(a, b),
        S::F32x4Lt => f32x4_lt(a, b),
        S::F32x4Gt => f32x4_gt(a, b),
        S::F32x4Le => f32x4_le(a, b),
        S::F32x4Ge => f32x4_ge(a, b),
        S::F64x2Eq => f64x2_eq(a, b),
        S::F64x2Ne => f64x2_ne(a, b),
        S::F64x2Lt => f64x2_lt(a, b),
        S::F64x2Gt => f64x2_gt(a, b),
        S::F64x2Le => f64x2_le(a, b),
        S::F64x2Ge => f64x2_ge(a, b),
        S::V128Not => v128_not(a),
        S::V128And => v128_and(a, b),
        S::V128AndNot => v128_and_not(a, b),
        S::V128Or => v128_or(a, b),
        S::V128Xor => v128_xor(a, b),
        S::V128Bitselect => v128_bitselect(a, b, c),
        S::V128AnyTrue => u128::from(v128_any_true(a)),
        S::F32x4DemoteF64x2Zero => f32x4_demote_f64x2_zero(a),
        S::F64x2PromoteLowF32x4 => f64x2_promote_low_f32x4(a),
        S::I8x16Abs => i8x16_abs(a),
        S::I8x16Neg => i8x16_neg(a),
        S::I8x16Popcnt => i8x16_popcnt(a),
        S::I8x16AllTrue => u128::from(i8x16_all_true(a)),
        S::I8x16Bitmask => u128::from(i8x16_bitmask(a)),
        S::I8x16NarrowI16x8S => i8x16_narrow_i16x8_s(a, b),
        S::I8x16NarrowI16x8U => i8x16_narrow_i16x8_u(a, b),
        S::F32x4Ceil => f32x4_ceil(a),
        S::F32x4Floor => f32x4_floor(a),
        S::F32x4Trunc => f32x4_trunc(a),
        S::F32x4Nearest => f32x4_nearest(a),
        S::I8x16Shl => i8x16_shl(a, b as u32),
        S::I8x16ShrS => i8x16_shr_s(a, b as u32),
        S::I8x16ShrU => i8x16_shr_u(a, b as u32),
        S::I8x16Add => i8x16_add(a, b),
        S::I8x16AddSatS => i8x16_add_sat_s(a, b),
        S::I8x16AddSatU => i8x16_add_sat_u(a, b),
        S::I8x16Sub => i8x16_sub(a, b),
        S::I8x16SubSatS => i8x16_sub_sat_s(a, b),
        S::I8x16SubSatU => i8x16_sub_sat_u(a, b),
        S::F64x2Ceil => f64x2_ceil(a),
        S::F64x2Floor => f64x2_floor(a),
        S::I8x16MinS => i8x16_min_s(a, b),
        S::I8x16MinU => i8x16_min_u(a, b),
        S::I8x16MaxS => i8x16_max_s(a, b),
        S::I8x16MaxU => i8x16_max_u(a, b),
        S::F64x2Trunc => f64x2_trunc(a),
        S::I8x16AvgrU => i8x16_avgr_u(a, b),
        S::I16x8Abs => i16x8_abs(a),
        S::I16x8Neg => i16x8_neg(a),
        S::I16x8Q15mulrSatS => i16x8_q15mulr_sat_s(a, b),
        S::I16x8AllTrue => u128::from(i16x8_all_true(a)),
        S::I16x8Bitmask => u128::from(i16x8_bitmask(a)),
        S::I16x8NarrowI32x4S => i16x8_narrow_i32x4_s(a, b),
        S::I16x8NarrowI32x4U => i16x8_narrow_i32x4_u(a, b),
        S::I16x8ExtendLowI8x16S => i16x8_extend_low_i8x16_s(a),
        S::I16x8ExtendHighI8x16S => i16x8_extend_high_i8x16_s(a),
        S::I16x8ExtendLowI8x16U => i16x8_extend_low_i8x16_u(a),
        S::I16x8ExtendHighI8x16U => i16x8_extend_high_i8x16_u(a),
        S::I16x8Shl => i16x8_shl(a, b as u32),
        S::I16x8ShrS => i16x8_shr_s(a, b as u32),
        S::I16x8ShrU => i16x8_shr_u(a, b as u32),
        S::I16x8Add => i16x8_add(a, b),
        S::I16x8AddSatS => i16x8_add_sat_s(a, b),
        S::I16x8AddSatU => i16x8_add_sat_u(a, b),
        S::I16x8Sub => i16x8_sub(a, b),
        S::I16x8SubSatS => i16x8_sub_sat_s(a, b),
        S::I16x8SubSatU => i16x8_sub_sat_u(a, b),
        S::F64x2Nearest => f64x2_nearest(a),
        S::I16x8Mul => i16x8_mul(a, b),
        S::I16x8MinS => i16x8_min_s(a, b),
        S::I16x8MinU => i16x8_min_u(a, b),
        S::I16x8MaxS => i16x8_max_s(a, b),
        S::I16x8MaxU => i16x8_max_u(a, b),
        S::I16x8AvgrU => i16x8_avgr_u(a, b),
        S::I16x8ExtmulLowI8x16S => i16x8_extmul_low_i8x16_s(a, b),
        S::I16x8ExtmulLowI8x16U => i16x8_extmul_low_i8x16_u(a, b),
        S::I32x4Abs => i32x4_abs(a),
        S::I32x4Neg => i32x4_neg(a),
        S::I32x4AllTrue => u128::from(i32x4_all_true(a)),
        S::I32x4Bitmask => u128::from(i32x4_bitmask(a)),
        S::I32x4ExtendLowI16x8S => i32x4_extend_low_i16x8_s(a),
        S::I32x4ExtendHighI16x8S => i32x4_extend_high_i16x8_s(a),
        S::I32x4ExtendLowI16x8U => i32x4_extend_low_i16x8_u(a),
        S::I32x4ExtendHighI16x8U => i32x4_extend_high_i16x8_u(a),
        S::I32x4Shl => i32x4_shl(a, b as u32),
        S::I32x4ShrS => i32x4_shr_s(a, b as u32),
        S::I32x4ShrU => i32x4_shr_u(a, b as u32),
        S::I32x4Add => i32x4_add(a, b),
        S::I32x4Sub => i32x4_sub(a, b),
        S::I32x4Mul => i32x4_mul(a, b),
        S::I32x4MinS => i32x4_min_s(a, b),
        S::I32x4MinU => i32x4_min_u(a, b),
        S::I32x4MaxS => i32x4_max_s(a, b),
        S::I32x4MaxU => i32x4_max_u(a, b),
        S::I32x4DotI16x8S => i32x4_dot_i16x8_s(a, b),
        S::I32x4ExtmulLowI16x8S => i32x4_extmul_low_i16x8_s(a, b),
        S::I32x4ExtmulLowI16x8U => i32x4_extmul_low_i16x8_u(a, b),
        S::I64x2Abs => i64x2_abs(a),
        S::I64x2Neg => i64x2_neg(a),
        S::I64x2AllTrue => u128::from(i64x2_all_true(a)),
        S::I64x2Bitmask => u128::from(i64x2_bitmask(a)),
        S::I64x2ExtendLowI32x4S => i64x2_extend_low_i32x4_s(a),
        S::I64x2ExtendHighI32x4S => i64x2_extend_high_i32x4_s(a),
        S::I64x2ExtendLowI32x4U => i64x2_extend_low_i32x4_u(a),
        S::I64x2ExtendHighI32x4U => i64x2_extend_high_i32x4_u(a),
        S::I64x2Shl => i64x2_shl(a, b as u32),
        S::I64x2ShrS => i64x2_shr_s(a, b as u32),
        S::I64x2ShrU => i64x2_shr_u(a, b as u32),
        S::I64x2Add => i64x2_add(a, b),
        S::I64x2Sub => i64x2_sub(a, b),
        S::I64x2Mul => i64x2_mul(a, b),
        S::I64x2Eq => i64x2_eq(a, b),
        S::I64x2Ne => i64x2_ne(a, b),
        S::I64x2LtS => i64x2_lt_s(a, b),
        S::I64x2GtS => i64x2_gt_s(a, b),
        S::I64x2LeS => i64x2_le_s(a, b),
        S::I64x2GeS => i64x2_ge_s(a, b),
        S::I64x2ExtmulLowI32x4S => i64x2_extmul_low_i32x4_s(a, b),
        S::I64x2ExtmulLowI32x4U => i64x2_extmul_low_i32x4_u(a, b),
        S::F32x4Abs => f32x4_abs(a),
        S::F32x4Neg => f32x4_neg(a),
        S::F32x4Sqrt => f32x4_sqrt(a),
        S::F32x4Add => f32x4_add(a, b),
        S::F32x4Sub => f32x4_sub(a, b),
        S::F32x4Mul => f32x4_mul(a, b),
        S::F32x4Div => f32x4_div(a, b),
        S::F32x4Min => f32x4_min(a, b),
        S::F32x4Max => f32x4_max(a, b),
        S::F32x4Pmin => f32x4_pmin(a, b),
        S::F32x4Pmax => f32x4_pmax(a, b),
        S::F64x2Abs => f64x2_abs(a),
        S::F64x2Neg => f64x2_neg(a),
        S::F64x2Sqrt => f64x2_sqrt(a),
        S::F64x2Add => f64x2_add(a, b),
        S::F64x2Sub => f64x2_sub(a, b),
        S::F64x2Mul => f64x2_mul(a, b),
        S::F64x2Div => f64x2_div(a, b),
        S::F64x2Min => f64x2_min(a, b),
        S::F64x2Max => f64x2_max(a, b),
        S::F64x2Pmin => f64x2_pmin(a, b),
        S::F64x2Pmax => f64x2_pmax(a, b),
        S::I32x4TruncSatF32x4S => i32x4_trunc_sat_f32x4_s(a),
        S::I32x4TruncSatF32x4U => i32x4_trunc_sat_f32x4_u(a),
        S::F32x4ConvertI32x4S => f32x4_convert_i32x4_s(a),
        S::F32x4ConvertI32x4U => f32x4_convert_i32x4_u(a),
        S::I32x4TruncSatF64x2SZero => i32x4_trunc_sat_f64x2_s_zero(a),
        S::I32x4TruncSatF64x2UZero => i32x4_trunc_sat_f64x2_u_zero(a),
        S::F64x2ConvertLowI32x4S => f64x2_convert_low_i32x4_s(a),
        S::F64x2ConvertLowI32x4U => f64x2_convert_low_i32x4_u(a),
        S::I16x8ExtaddPairwiseI8x16S => i16x8_extadd_pairwise_i8x16_s(a),
        S::I16x8ExtaddPairwiseI8x16U => i16x8_extadd_pairwise_i8x16_u(a),
        S::I32x4ExtaddPairwiseI16x8S => i32x4_extadd_pairwise_i16x8_s(a),
        S::I32x4ExtaddPairwiseI16x8U => i32x4_extadd_pairwise_i16x8_u(a),
        S::I16x8ExtmulHighI8x16S => i16x8_extmul_high_i8x16_s(a, b),
        S::I16x8ExtmulHighI8x16U => i16x8_extmul_high_i8x16_u(a, b),
        S::I32x4ExtmulHighI16x8S => i32x4_extmul_high_i16x8_s(a, b),
        S::I32x4ExtmulHighI16x8U => i32x4_extmul_high_i16x8_u(a, b),
        S::I64x2ExtmulHighI32x4S => i64x2_extmul_high_i32x4_s(a, b),
        S::I64x2ExtmulHighI32x4U => i64x2_extmul_high_i32x4_u(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i8s(l: [i8; 16]) -> u128 {
        pack::<i8, 16>(l)
    }

    fn i16s(l: [i16; 8]) -> u128 {
        pack::<i16, 8>(l)
    }

    fn f32s(l: [f32; 4]) -> u128 {
        pack::<f32, 4>(l)
    }

    #[test]
    fn lane_zero_is_the_low_bits() {
        let v = i32x4_replace_lane(0, 0, 0x1122_3344);
        assert_eq!(v, 0x1122_3344);
        assert_eq!(i8x16_extract_lane_u(v, 0), 0x44);
        assert_eq!(i8x16_extract_lane_s(0xff << 120, 15), 0xffff_ffff);
        assert_eq!(i16x8_extract_lane_s(0x8000 << 16, 1), 0xffff_8000);
        assert_eq!(i64x2_extract_lane(i64x2_splat(7), 1), 7);
        assert_eq!(i8x16_splat(0x101), u128::MAX / 255);
        assert_eq!(i8x16_splat(0xff), u128::MAX);
    }

    #[test]
    fn saturating_and_wrapping_arithmetic() {
        let a = i8s([127, -128, 100, -100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let b = i8s([1, -1, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let sat = lanes::<i8, 16>(i8x16_add_sat_s(a, b));
        assert_eq!(&sat[..4], &[127, -128, 127, -128]);
        let wrap = lanes::<i8, 16>(i8x16_add(a, b));
        assert_eq!(&wrap[..4], &[-128, 127, -56, 56]);
        let abs = lanes::<i8, 16>(i8x16_abs(a));
        assert_eq!(&abs[..2], &[127, -128]);
        assert_eq!(lanes::<u8, 16>(i8x16_add_sat_u(a, b))[0], 128);
        assert_eq!(
            lanes::<u8, 16>(i8x16_avgr_u(a, b))[1],
            192,
            "(128 + 255 + 1) / 2"
        );
    }

    #[test]
    fn shifts_wrap_the_count() {
        let v = i16x8_splat(0x8001);
        assert_eq!(lanes::<u16, 8>(i16x8_shl(v, 17))[0], 0x0002);
        assert_eq!(lanes::<u16, 8>(i16x8_shr_s(v, 16))[0], 0x8001);
        assert_eq!(lanes::<u16, 8>(i16x8_shr_s(v, 15))[0], 0xffff);
        assert_eq!(lanes::<u16, 8>(i16x8_shr_u(v, 15))[0], 1);
    }

    #[test]
    fn tests_and_masks() {
        let v = i8s([-1, 0, 1, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -128]);
        assert_eq!(i8x16_bitmask(v), 0b1000_0000_0000_1001);
        assert_eq!(i8x16_all_true(v), 0);
        assert_eq!(i8x16_all_true(i8x16_splat(3)), 1);
        assert_eq!(v128_any_true(v), 1);
        assert_eq!(v128_any_true(0), 0);
        let lt = i8x16_lt_s(v, 0);
        assert_eq!(lanes::<u8, 16>(lt)[..4], [0xff, 0, 0, 0xff]);
    }

    #[test]
    fn narrowing_saturates() {
        let a = i16s([300, -300, 127, -128, 255, 0, -1, 1]);
        let s = lanes::<i8, 16>(i8x16_narrow_i16x8_s(a, a));
        assert_eq!(&s[..8], &[127, -128, 127, -128, 127, 0, -1, 1]);
        let u = lanes::<u8, 16>(i8x16_narrow_i16x8_u(a, 0));
        assert_eq!(&u[..8], &[255, 0, 127, 0, 255, 0, 0, 1]);
        assert_eq!(&u[8..], &[0; 8]);
    }

    #[test]
    fn q15_and_dot_products() {
        let min = i16x8_splat(0x8000);
        assert_eq!(lanes::<i16, 8>(i16x8_q15mulr_sat_s(min, min))[0], i16::MAX);
        let dot = lanes::<i32, 4>(i32x4_dot_i16x8_s(min, min));
        assert_eq!(dot[0], i32::MIN, "2 * 2^30 wraps");
        let a = i16s([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(lanes::<i32, 4>(i32x4_dot_i16x8_s(a, a)), [5, 25, 61, 113]);
    }

    #[test]
    fn extension_and_pairwise_sums() {
        let a = i8s([-1, 2, -3, 4, 5, 6, 7, 8, -9, 10, 11, 12, 13, 14, 15, -16]);
        assert_eq!(
            lanes::<i16, 8>(i16x8_extend_high_i8x16_s(a)),
            [-9, 10, 11, 12, 13, 14, 15, -16]
        );
        assert_eq!(lanes::<u16, 8>(i16x8_extend_low_i8x16_u(a))[0], 255);
        assert_eq!(lanes::<i16, 8>(i16x8_extadd_pairwise_i8x16_s(a))[0], 1);
        assert_eq!(lanes::<u16, 8>(i16x8_extadd_pairwise_i8x16_u(a))[0], 257);
        assert_eq!(lanes::<u16, 8>(i16x8_extmul_low_i8x16_u(a, a))[0], 65025);
    }

    #[test]
    fn swizzle_and_shuffle() {
        let a = u128::from_le_bytes(std::array::from_fn(|i| i as u8 + 100));
        let b = u128::from_le_bytes(std::array::from_fn(|i| i as u8 + 200));
        let idx = u128::from_le_bytes([15, 16, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let s = i8x16_swizzle(a, idx).to_le_bytes();
        assert_eq!(&s[..4], &[115, 0, 100, 0]);
        let mask = u128::from_le_bytes(std::array::from_fn(|i| 31 - i as u8));
        let r = i8x16_shuffle(a, b, mask).to_le_bytes();
        assert_eq!(r[0], 215);
        assert_eq!(r[15], 200);
    }

    #[test]
    fn float_lanes_follow_scalar_rules() {
        let nan = f32::from_bits(0x7fa0_0000);
        let a = f32s([0.0, -0.0, nan, 2.5]);
        let b = f32s([-0.0, 0.0, 1.0, 1.0]);
        let min = lanes::<f32, 4>(f32x4_min(a, b));
        assert!(min[0].is_sign_negative() && min[1].is_sign_negative());
        assert!(min[2].is_nan());
        let pmin = lanes::<u32, 4>(f32x4_pmin(a, b));
        assert_eq!(pmin[..3], [0, 0x8000_0000, 0x7fa0_0000], "pmin returns a");
        let near = lanes::<f32, 4>(f32x4_nearest(a));
        assert_eq!(near[3], 2.0);
        assert_eq!(near[2].to_bits() & 0x0040_0000, 0x0040_0000, "quiet NaN");
        let abs = lanes::<u32, 4>(f32x4_abs(f32s([-nan, -1.0, 1.0, -0.0])));
        assert_eq!(abs, [0x7fa0_0000, 0x3f80_0000, 0x3f80_0000, 0]);
        let eq = lanes::<u32, 4>(f32x4_eq(a, b));
        assert_eq!(eq, [u32::MAX, u32::MAX, 0, 0]);
        let ne = lanes::<u32, 4>(f32x4_ne(a, a));
        assert_eq!(ne, [0, 0, u32::MAX, 0]);
    }

    #[test]
    fn conversions() {
        let f = f32s([f32::NAN, 3e9, -3e9, -1.5]);
        assert_eq!(
            lanes::<i32, 4>(i32x4_trunc_sat_f32x4_s(f)),
            [0, i32::MAX, i32::MIN, -1]
        );
        assert_eq!(
            lanes::<u32, 4>(i32x4_trunc_sat_f32x4_u(f)),
            [0, 3_000_000_000, 0, 0]
        );
        let d = pack::<f64, 2>([1e300, -2.5]);
        assert_eq!(
            lanes::<i32, 4>(i32x4_trunc_sat_f64x2_s_zero(d)),
            [i32::MAX, -2, 0, 0]
        );
        let demoted = lanes::<f32, 4>(f32x4_demote_f64x2_zero(d));
        assert_eq!(demoted, [f32::INFINITY, -2.5, 0.0, 0.0]);
        let canonical = pack::<f64, 2>([f64::NAN, 1.0]);
        assert_eq!(
            lanes::<u32, 4>(f32x4_demote_f64x2_zero(canonical))[0] & 0x7fff_ffff,
            0x7fc0_0000
        );
        let promoted = lanes::<f64, 2>(f64x2_promote_low_f32x4(f32s([1.5, f32::NAN, 9.0, 9.0])));
        assert_eq!(promoted[0], 1.5);
        assert_eq!(
            promoted[1].to_bits() & 0x7fff_ffff_ffff_ffff,
            0x7ff8_0000_0000_0000
        );
        assert_eq!(
            lanes::<f64, 2>(f64x2_convert_low_i32x4_u(u128::from(u32::MAX))),
            [4294967295.0, 0.0]
        );
        assert_eq!(
            lanes::<f32, 4>(f32x4_convert_i32x4_s(pack::<i32, 4>([16777217, -1, 0, 2]))),
            [16777216.0, -1.0, 0.0, 2.0]
        );
    }

    /// A fixed pseudo-random sequence of vectors, with lanes of 0, -1 and the sign bit
    /// mixed in so that edge cases come up.
    fn sample_vectors() -> Vec<u128> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..4000)
            .map(|i| {
                let v = u128::from(next()) | (u128::from(next()) << 64);
                let special = [0u128, u128::MAX, 0x8080_8080_8080_8080_8080_8080_8080_8080];
                let keep = u128::from(next()) | (u128::from(next()) << 64);
                match i % 3 {
                    0 => v,
                    _ => (v & keep) | (special[i % special.len()] & !keep),
                }
            })
            .collect()
    }

    #[test]
    fn register_arithmetic_matches_lane_by_lane() {
        let vs = sample_vectors();
        for pair in vs.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(i8x16_add(a, b), zip::<u8, u8, 16>(a, b, u8::wrapping_add));
            assert_eq!(i16x8_sub(a, b), zip::<u16, u16, 8>(a, b, u16::wrapping_sub));
            assert_eq!(i16x8_mul(a, b), zip::<u16, u16, 8>(a, b, u16::wrapping_mul));
            assert_eq!(i32x4_add(a, b), zip::<u32, u32, 4>(a, b, u32::wrapping_add));
            assert_eq!(i64x2_sub(a, b), zip::<u64, u64, 2>(a, b, u64::wrapping_sub));
            assert_eq!(i8x16_neg(a), map::<i8, i8, 16>(a, i8::wrapping_neg));
            assert_eq!(i8x16_eq(a, b), compare::<u8, 16>(a, b, |x, y| x == y));
            // Equal lanes are rare in random data: compare with a partly equal vector.
            let c = (a & 0xffff_0000_ffff_0000_ff00_ff00_00ff_00ff)
                | (b & !0xffff_0000_ffff_0000_ff00_ff00_00ff_00ff);
            assert_eq!(i8x16_eq(a, c), compare::<u8, 16>(a, c, |x, y| x == y));
            assert_eq!(i16x8_ne(a, c), compare::<u16, 8>(a, c, |x, y| x != y));
            assert_eq!(i32x4_eq(a, c), compare::<u32, 4>(a, c, |x, y| x == y));
            assert_eq!(i64x2_eq(a, c), compare::<u64, 2>(a, c, |x, y| x == y));
            let all_nonzero = |v: u128, w: usize| {
                v.to_le_bytes()
                    .chunks(w)
                    .all(|lane| lane.iter().any(|&x| x != 0))
            };
            assert_eq!(i8x16_all_true(a) == 1, all_nonzero(a, 1));
            assert_eq!(i16x8_all_true(c) == 1, all_nonzero(c, 2));
            assert_eq!(i32x4_all_true(a & c) == 1, all_nonzero(a & c, 4));
            assert_eq!(i64x2_all_true(a >> 70) == 1, all_nonzero(a >> 70, 8));
            let signs = a
                .to_le_bytes()
                .iter()
                .enumerate()
                .fold(0, |m, (i, &x)| m | (u32::from(x >> 7) << i));
            assert_eq!(i8x16_bitmask(a), signs);
        }
    }

    #[test]
    fn bitselect_takes_bits_by_mask() {
        assert_eq!(
            v128_bitselect(0xff00, 0x0ff0, 0xf0f0),
            0xf0f0 & 0xff00 | 0x0ff0 & !0xf0f0
        );
        assert_eq!(v128_and_not(0b1100, 0b1010), 0b0100);
    }
}
