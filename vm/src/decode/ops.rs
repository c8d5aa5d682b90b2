//! Instructions as decoded from a function body or constant expression (§5.4 "Instructions").

use super::Features;
use super::reader::Reader;
use crate::error::{Error, Result};
use crate::types::{RefType, ValType};

/// A block's type: `[] -> []`, `[] -> [t]`, or a function type by index (multi-value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockType {
    Empty,
    Value(ValType),
    Func(u32),
}

/// The immediate of a load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemArg {
    /// log2 of the alignment hint.
    pub align: u32,
    pub offset: u32,
    /// The memory accessed: always 0 unless multi-memory is enabled.
    pub memory: u32,
}

macro_rules! num_ops {
    ($(#[$meta:meta])* $enum:ident;
     $( $name:ident = $code:literal : [$($p:ident),*] -> [$($r:ident),*], )*) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum $enum { $($name,)* }

        impl $enum {
            /// The operand and result types.
            pub(crate) fn signature(self) -> (&'static [ValType], &'static [ValType]) {
                match self {
                    $($enum::$name => (&[$(ValType::$p),*], &[$(ValType::$r),*]),)*
                }
            }

            /// The opcode (`0xFC n` as `0xFC00 + n`; vector instructions by `n`).
            #[allow(dead_code)]
            pub(crate) fn code(self) -> u32 {
                match self {
                    $($enum::$name => $code,)*
                }
            }

            pub(crate) fn from_code(code: u32) -> Option<$enum> {
                match code {
                    $($code => Some($enum::$name),)*
                    _ => None,
                }
            }
        }
    };
}

// One-byte opcodes are listed as is; `0xFC n` as `0xFC00 + n`.
num_ops! {
    /// Instructions with no immediates that pop operands and push results of fixed types.
    NumOp;
    I32Eqz = 0x45: [I32] -> [I32],
    I32Eq = 0x46: [I32, I32] -> [I32],
    I32Ne = 0x47: [I32, I32] -> [I32],
    I32LtS = 0x48: [I32, I32] -> [I32],
    I32LtU = 0x49: [I32, I32] -> [I32],
    I32GtS = 0x4a: [I32, I32] -> [I32],
    I32GtU = 0x4b: [I32, I32] -> [I32],
    I32LeS = 0x4c: [I32, I32] -> [I32],
    I32LeU = 0x4d: [I32, I32] -> [I32],
    I32GeS = 0x4e: [I32, I32] -> [I32],
    I32GeU = 0x4f: [I32, I32] -> [I32],
    I64Eqz = 0x50: [I64] -> [I32],
    I64Eq = 0x51: [I64, I64] -> [I32],
    I64Ne = 0x52: [I64, I64] -> [I32],
    I64LtS = 0x53: [I64, I64] -> [I32],
    I64LtU = 0x54: [I64, I64] -> [I32],
    I64GtS = 0x55: [I64, I64] -> [I32],
    I64GtU = 0x56: [I64, I64] -> [I32],
    I64LeS = 0x57: [I64, I64] -> [I32],
    I64LeU = 0x58: [I64, I64] -> [I32],
    I64GeS = 0x59: [I64, I64] -> [I32],
    I64GeU = 0x5a: [I64, I64] -> [I32],
    F32Eq = 0x5b: [F32, F32] -> [I32],
    F32Ne = 0x5c: [F32, F32] -> [I32],
    F32Lt = 0x5d: [F32, F32] -> [I32],
    F32Gt = 0x5e: [F32, F32] -> [I32],
    F32Le = 0x5f: [F32, F32] -> [I32],
    F32Ge = 0x60: [F32, F32] -> [I32],
    F64Eq = 0x61: [F64, F64] -> [I32],
    F64Ne = 0x62: [F64, F64] -> [I32],
    F64Lt = 0x63: [F64, F64] -> [I32],
    F64Gt = 0x64: [F64, F64] -> [I32],
    F64Le = 0x65: [F64, F64] -> [I32],
    F64Ge = 0x66: [F64, F64] -> [I32],
    I32Clz = 0x67: [I32] -> [I32],
    I32Ctz = 0x68: [I32] -> [I32],
    I32Popcnt = 0x69: [I32] -> [I32],
    I32Add = 0x6a: [I32, I32] -> [I32],
    I32Sub = 0x6b: [I32, I32] -> [I32],
    I32Mul = 0x6c: [I32, I32] -> [I32],
    I32DivS = 0x6d: [I32, I32] -> [I32],
    I32DivU = 0x6e: [I32, I32] -> [I32],
    I32RemS = 0x6f: [I32, I32] -> [I32],
    I32RemU = 0x70: [I32, I32] -> [I32],
    I32And = 0x71: [I32, I32] -> [I32],
    I32Or = 0x72: [I32, I32] -> [I32],
    I32Xor = 0x73: [I32, I32] -> [I32],
    I32Shl = 0x74: [I32, I32] -> [I32],
    I32ShrS = 0x75: [I32, I32] -> [I32],
    I32ShrU = 0x76: [I32, I32] -> [I32],
    I32Rotl = 0x77: [I32, I32] -> [I32],
    I32Rotr = 0x78: [I32, I32] -> [I32],
    I64Clz = 0x79: [I64] -> [I64],
    I64Ctz = 0x7a: [I64] -> [I64],
    I64Popcnt = 0x7b: [I64] -> [I64],
    I64Add = 0x7c: [I64, I64] -> [I64],
    I64Sub = 0x7d: [I64, I64] -> [I64],
    I64Mul = 0x7e: [I64, I64] -> [I64],
    I64DivS = 0x7f: [I64, I64] -> [I64],
    I64DivU = 0x80: [I64, I64] -> [I64],
    I64RemS = 0x81: [I64, I64] -> [I64],
    I64RemU = 0x82: [I64, I64] -> [I64],
    I64And = 0x83: [I64, I64] -> [I64],
    I64Or = 0x84: [I64, I64] -> [I64],
    I64Xor = 0x85: [I64, I64] -> [I64],
    I64Shl = 0x86: [I64, I64] -> [I64],
    I64ShrS = 0x87: [I64, I64] -> [I64],
    I64ShrU = 0x88: [I64, I64] -> [I64],
    I64Rotl = 0x89: [I64, I64] -> [I64],
    I64Rotr = 0x8a: [I64, I64] -> [I64],
    F32Abs = 0x8b: [F32] -> [F32],
    F32Neg = 0x8c: [F32] -> [F32],
    F32Ceil = 0x8d: [F32] -> [F32],
    F32Floor = 0x8e: [F32] -> [F32],
    F32Trunc = 0x8f: [F32] -> [F32],
    F32Nearest = 0x90: [F32] -> [F32],
    F32Sqrt = 0x91: [F32] -> [F32],
    F32Add = 0x92: [F32, F32] -> [F32],
    F32Sub = 0x93: [F32, F32] -> [F32],
    F32Mul = 0x94: [F32, F32] -> [F32],
    F32Div = 0x95: [F32, F32] -> [F32],
    F32Min = 0x96: [F32, F32] -> [F32],
    F32Max = 0x97: [F32, F32] -> [F32],
    F32Copysign = 0x98: [F32, F32] -> [F32],
    F64Abs = 0x99: [F64] -> [F64],
    F64Neg = 0x9a: [F64] -> [F64],
    F64Ceil = 0x9b: [F64] -> [F64],
    F64Floor = 0x9c: [F64] -> [F64],
    F64Trunc = 0x9d: [F64] -> [F64],
    F64Nearest = 0x9e: [F64] -> [F64],
    F64Sqrt = 0x9f: [F64] -> [F64],
    F64Add = 0xa0: [F64, F64] -> [F64],
    F64Sub = 0xa1: [F64, F64] -> [F64],
    F64Mul = 0xa2: [F64, F64] -> [F64],
    F64Div = 0xa3: [F64, F64] -> [F64],
    F64Min = 0xa4: [F64, F64] -> [F64],
    F64Max = 0xa5: [F64, F64] -> [F64],
    F64Copysign = 0xa6: [F64, F64] -> [F64],
    I32WrapI64 = 0xa7: [I64] -> [I32],
    I32TruncF32S = 0xa8: [F32] -> [I32],
    I32TruncF32U = 0xa9: [F32] -> [I32],
    I32TruncF64S = 0xaa: [F64] -> [I32],
    I32TruncF64U = 0xab: [F64] -> [I32],
    I64ExtendI32S = 0xac: [I32] -> [I64],
    I64ExtendI32U = 0xad: [I32] -> [I64],
    I64TruncF32S = 0xae: [F32] -> [I64],
    I64TruncF32U = 0xaf: [F32] -> [I64],
    I64TruncF64S = 0xb0: [F64] -> [I64],
    I64TruncF64U = 0xb1: [F64] -> [I64],
    F32ConvertI32S = 0xb2: [I32] -> [F32],
    F32ConvertI32U = 0xb3: [I32] -> [F32],
    F32ConvertI64S = 0xb4: [I64] -> [F32],
    F32ConvertI64U = 0xb5: [I64] -> [F32],
    F32DemoteF64 = 0xb6: [F64] -> [F32],
    F64ConvertI32S = 0xb7: [I32] -> [F64],
    F64ConvertI32U = 0xb8: [I32] -> [F64],
    F64ConvertI64S = 0xb9: [I64] -> [F64],
    F64ConvertI64U = 0xba: [I64] -> [F64],
    F64PromoteF32 = 0xbb: [F32] -> [F64],
    I32ReinterpretF32 = 0xbc: [F32] -> [I32],
    I64ReinterpretF64 = 0xbd: [F64] -> [I64],
    F32ReinterpretI32 = 0xbe: [I32] -> [F32],
    F64ReinterpretI64 = 0xbf: [I64] -> [F64],
    I32Extend8S = 0xc0: [I32] -> [I32],
    I32Extend16S = 0xc1: [I32] -> [I32],
    I64Extend8S = 0xc2: [I64] -> [I64],
    I64Extend16S = 0xc3: [I64] -> [I64],
    I64Extend32S = 0xc4: [I64] -> [I64],
    I32TruncSatF32S = 0xfc00: [F32] -> [I32],
    I32TruncSatF32U = 0xfc01: [F32] -> [I32],
    I32TruncSatF64S = 0xfc02: [F64] -> [I32],
    I32TruncSatF64U = 0xfc03: [F64] -> [I32],
    I64TruncSatF32S = 0xfc04: [F32] -> [I64],
    I64TruncSatF32U = 0xfc05: [F32] -> [I64],
    I64TruncSatF64S = 0xfc06: [F64] -> [I64],
    I64TruncSatF64U = 0xfc07: [F64] -> [I64],
}

// The vector instructions without immediates (§5.4.8 "Vector Instructions"): `0xFD n`,
// listed by their sub-opcode `n`.
num_ops! {
    /// Vector instructions with no immediates: lane-wise arithmetic, comparisons, tests,
    /// conversions and splats.
    SimdOp;
    I8x16Swizzle = 0x0e: [V128, V128] -> [V128],
    I8x16Splat = 0x0f: [I32] -> [V128],
    I16x8Splat = 0x10: [I32] -> [V128],
    I32x4Splat = 0x11: [I32] -> [V128],
    I64x2Splat = 0x12: [I64] -> [V128],
    F32x4Splat = 0x13: [F32] -> [V128],
    F64x2Splat = 0x14: [F64] -> [V128],
    I8x16Eq = 0x23: [V128, V128] -> [V128],
    I8x16Ne = 0x24: [V128, V128] -> [V128],
    I8x16LtS = 0x25: [V128, V128] -> [V128],
    I8x16LtU = 0x26: [V128, V128] -> [V128],
    I8x16GtS = 0x27: [V128, V128] -> [V128],
    I8x16GtU = 0x28: [V128, V128] -> [V128],
    I8x16LeS = 0x29: [V128, V128] -> [V128],
    I8x16LeU = 0x2a: [V128, V128] -> [V128],
    I8x16GeS = 0x2b: [V128, V128] -> [V128],
    I8x16GeU = 0x2c: [V128, V128] -> [V128],
    I16x8Eq = 0x2d: [V128, V128] -> [V128],
    I16x8Ne = 0x2e: [V128, V128] -> [V128],
    I16x8LtS = 0x2f: [V128, V128] -> [V128],
    I16x8LtU = 0x30: [V128, V128] -> [V128],
    I16x8GtS = 0x31: [V128, V128] -> [V128],
    I16x8GtU = 0x32: [V128, V128] -> [V128],
    I16x8LeS = 0x33: [V128, V128] -> [V128],
    I16x8LeU = 0x34: [V128, V128] -> [V128],
    I16x8GeS = 0x35: [V128, V128] -> [V128],
    I16x8GeU = 0x36: [V128, V128] -> [V128],
    I32x4Eq = 0x37: [V128, V128] -> [V128],
    I32x4Ne = 0x38: [V128, V128] -> [V128],
    I32x4LtS = 0x39: [V128, V128] -> [V128],
    I32x4LtU = 0x3a: [V128, V128] -> [V128],
    I32x4GtS = 0x3b: [V128, V128] -> [V128],
    I32x4GtU = 0x3c: [V128, V128] -> [V128],
    I32x4LeS = 0x3d: [V128, V128] -> [V128],
    I32x4LeU = 0x3e: [V128, V128] -> [V128],
    I32x4GeS = 0x3f: [V128, V128] -> [V128],
    I32x4GeU = 0x40: [V128, V128] -> [V128],
    F32x4Eq = 0x41: [V128, V128] -> [V128],
    F32x4Ne = 0x42: [V128, V128] -> [V128],
    F32x4Lt = 0x43: [V128, V128] -> [V128],
    F32x4Gt = 0x44: [V128, V128] -> [V128],
    F32x4Le = 0x45: [V128, V128] -> [V128],
    F32x4Ge = 0x46: [V128, V128] -> [V128],
    F64x2Eq = 0x47: [V128, V128] -> [V128],
    F64x2Ne = 0x48: [V128, V128] -> [V128],
    F64x2Lt = 0x49: [V128, V128] -> [V128],
    F64x2Gt = 0x4a: [V128, V128] -> [V128],
    F64x2Le = 0x4b: [V128, V128] -> [V128],
    F64x2Ge = 0x4c: [V128, V128] -> [V128],
    V128Not = 0x4d: [V128] -> [V128],
    V128And = 0x4e: [V128, V128] -> [V128],
    V128AndNot = 0x4f: [V128, V128] -> [V128],
    V128Or = 0x50: [V128, V128] -> [V128],
    V128Xor = 0x51: [V128, V128] -> [V128],
    V128Bitselect = 0x52: [V128, V128, V128] -> [V128],
    V128AnyTrue = 0x53: [V128] -> [I32],
    F32x4DemoteF64x2Zero = 0x5e: [V128] -> [V128],
    F64x2PromoteLowF32x4 = 0x5f: [V128] -> [V128],
    I8x16Abs = 0x60: [V128] -> [V128],
    I8x16Neg = 0x61: [V128] -> [V128],
    I8x16Popcnt = 0x62: [V128] -> [V128],
    I8x16AllTrue = 0x63: [V128] -> [I32],
    I8x16Bitmask = 0x64: [V128] -> [I32],
    I8x16NarrowI16x8S = 0x65: [V128, V128] -> [V128],
    I8x16NarrowI16x8U = 0x66: [V128, V128] -> [V128],
    F32x4Ceil = 0x67: [V128] -> [V128],
    F32x4Floor = 0x68: [V128] -> [V128],
    F32x4Trunc = 0x69: [V128] -> [V128],
    F32x4Nearest = 0x6a: [V128] -> [V128],
    I8x16Shl = 0x6b: [V128, I32] -> [V128],
    I8x16ShrS = 0x6c: [V128, I32] -> [V128],
    I8x16ShrU = 0x6d: [V128, I32] -> [V128],
    I8x16Add = 0x6e: [V128, V128] -> [V128],
    I8x16AddSatS = 0x6f: [V128, V128] -> [V128],
    I8x16AddSatU = 0x70: [V128, V128] -> [V128],
    I8x16Sub = 0x71: [V128, V128] -> [V128],
    I8x16SubSatS = 0x72: [V128, V128] -> [V128],
    I8x16SubSatU = 0x73: [V128, V128] -> [V128],
    F64x2Ceil = 0x74: [V128] -> [V128],
    F64x2Floor = 0x75: [V128] -> [V128],
    I8x16MinS = 0x76: [V128, V128] -> [V128],
    I8x16MinU = 0x77: [V128, V128] -> [V128],
    I8x16MaxS = 0x78: [V128, V128] -> [V128],
    I8x16MaxU = 0x79: [V128, V128] -> [V128],
    F64x2Trunc = 0x7a: [V128] -> [V128],
    I8x16AvgrU = 0x7b: [V128, V128] -> [V128],
    I16x8ExtaddPairwiseI8x16S = 0x7c: [V128] -> [V128],
    I16x8ExtaddPairwiseI8x16U = 0x7d: [V128] -> [V128],
    I32x4ExtaddPairwiseI16x8S = 0x7e: [V128] -> [V128],
    I32x4ExtaddPairwiseI16x8U = 0x7f: [V128] -> [V128],
    I16x8Abs = 0x80: [V128] -> [V128],
    I16x8Neg = 0x81: [V128] -> [V128],
    I16x8Q15mulrSatS = 0x82: [V128, V128] -> [V128],
    I16x8AllTrue = 0x83: [V128] -> [I32],
    I16x8Bitmask = 0x84: [V128] -> [I32],
    I16x8NarrowI32x4S = 0x85: [V128, V128] -> [V128],
    I16x8NarrowI32x4U = 0x86: [V128, V128] -> [V128],
    I16x8ExtendLowI8x16S = 0x87: [V128] -> [V128],
    I16x8ExtendHighI8x16S = 0x88: [V128] -> [V128],
    I16x8ExtendLowI8x16U = 0x89: [V128] -> [V128],
    I16x8ExtendHighI8x16U = 0x8a: [V128] -> [V128],
    I16x8Shl = 0x8b: [V128, I32] -> [V128],
    I16x8ShrS = 0x8c: [V128, I32] -> [V128],
    I16x8ShrU = 0x8d: [V128, I32] -> [V128],
    I16x8Add = 0x8e: [V128, V128] -> [V128],
    I16x8AddSatS = 0x8f: [V128, V128] -> [V128],
    I16x8AddSatU = 0x90: [V128, V128] -> [V128],
    I16x8Sub = 0x91: [V128, V128] -> [V128],
    I16x8SubSatS = 0x92: [V128, V128] -> [V128],
    I16x8SubSatU = 0x93: [V128, V128] -> [V128],
    F64x2Nearest = 0x94: [V128] -> [V128],
    I16x8Mul = 0x95: [V128, V128] -> [V128],
    I16x8MinS = 0x96: [V128, V128] -> [V128],
    I16x8MinU = 0x97: [V128, V128] -> [V128],
    I16x8MaxS = 0x98: [V128, V128] -> [V128],
    I16x8MaxU = 0x99: [V128, V128] -> [V128],
    I16x8AvgrU = 0x9b: [V128, V128] -> [V128],
    I16x8ExtmulLowI8x16S = 0x9c: [V128, V128] -> [V128],
    I16x8ExtmulHighI8x16S = 0x9d: [V128, V128] -> [V128],
    I16x8ExtmulLowI8x16U = 0x9e: [V128, V128] -> [V128],
    I16x8ExtmulHighI8x16U = 0x9f: [V128, V128] -> [V128],
    I32x4Abs = 0xa0: [V128] -> [V128],
    I32x4Neg = 0xa1: [V128] -> [V128],
    I32x4AllTrue = 0xa3: [V128] -> [I32],
    I32x4Bitmask = 0xa4: [V128] -> [I32],
    I32x4ExtendLowI16x8S = 0xa7: [V128] -> [V128],
    I32x4ExtendHighI16x8S = 0xa8: [V128] -> [V128],
    I32x4ExtendLowI16x8U = 0xa9: [V128] -> [V128],
    I32x4ExtendHighI16x8U = 0xaa: [V128] -> [V128],
    I32x4Shl = 0xab: [V128, I32] -> [V128],
    I32x4ShrS = 0xac: [V128, I32] -> [V128],
    I32x4ShrU = 0xad: [V128, I32] -> [V128],
    I32x4Add = 0xae: [V128, V128] -> [V128],
    I32x4Sub = 0xb1: [V128, V128] -> [V128],
    I32x4Mul = 0xb5: [V128, V128] -> [V128],
    I32x4MinS = 0xb6: [V128, V128] -> [V128],
    I32x4MinU = 0xb7: [V128, V128] -> [V128],
    I32x4MaxS = 0xb8: [V128, V128] -> [V128],
    I32x4MaxU = 0xb9: [V128, V128] -> [V128],
    I32x4DotI16x8S = 0xba: [V128, V128] -> [V128],
    I32x4ExtmulLowI16x8S = 0xbc: [V128, V128] -> [V128],
    I32x4ExtmulHighI16x8S = 0xbd: [V128, V128] -> [V128],
    I32x4ExtmulLowI16x8U = 0xbe: [V128, V128] -> [V128],
    I32x4ExtmulHighI16x8U = 0xbf: [V128, V128] -> [V128],
    I64x2Abs = 0xc0: [V128] -> [V128],
    I64x2Neg = 0xc1: [V128] -> [V128],
    I64x2AllTrue = 0xc3: [V128] -> [I32],
    I64x2Bitmask = 0xc4: [V128] -> [I32],
    I64x2ExtendLowI32x4S = 0xc7: [V128] -> [V128],
    I64x2ExtendHighI32x4S = 0xc8: [V128] -> [V128],
    I64x2ExtendLowI32x4U = 0xc9: [V128] -> [V128],
    I64x2ExtendHighI32x4U = 0xca: [V128] -> [V128],
    I64x2Shl = 0xcb: [V128, I32] -> [V128],
    I64x2ShrS = 0xcc: [V128, I32] -> [V128],
    I64x2ShrU = 0xcd: [V128, I32] -> [V128],
    I64x2Add = 0xce: [V128, V128] -> [V128],
    I64x2Sub = 0xd1: [V128, V128] -> [V128],
    I64x2Mul = 0xd5: [V128, V128] -> [V128],
    I64x2Eq = 0xd6: [V128, V128] -> [V128],
    I64x2Ne = 0xd7: [V128, V128] -> [V128],
    I64x2LtS = 0xd8: [V128, V128] -> [V128],
    I64x2GtS = 0xd9: [V128, V128] -> [V128],
    I64x2LeS = 0xda: [V128, V128] -> [V128],
    I64x2GeS = 0xdb: [V128, V128] -> [V128],
    I64x2ExtmulLowI32x4S = 0xdc: [V128, V128] -> [V128],
    I64x2ExtmulHighI32x4S = 0xdd: [V128, V128] -> [V128],
    I64x2ExtmulLowI32x4U = 0xde: [V128, V128] -> [V128],
    I64x2ExtmulHighI32x4U = 0xdf: [V128, V128] -> [V128],
    F32x4Abs = 0xe0: [V128] -> [V128],
    F32x4Neg = 0xe1: [V128] -> [V128],
    F32x4Sqrt = 0xe3: [V128] -> [V128],
    F32x4Add = 0xe4: [V128, V128] -> [V128],
    F32x4Sub = 0xe5: [V128, V128] -> [V128],
    F32x4Mul = 0xe6: [V128, V128] -> [V128],
    F32x4Div = 0xe7: [V128, V128] -> [V128],
    F32x4Min = 0xe8: [V128, V128] -> [V128],
    F32x4Max = 0xe9: [V128, V128] -> [V128],
    F32x4Pmin = 0xea: [V128, V128] -> [V128],
    F32x4Pmax = 0xeb: [V128, V128] -> [V128],
    F64x2Abs = 0xec: [V128] -> [V128],
    F64x2Neg = 0xed: [V128] -> [V128],
    F64x2Sqrt = 0xef: [V128] -> [V128],
    F64x2Add = 0xf0: [V128, V128] -> [V128],
    F64x2Sub = 0xf1: [V128, V128] -> [V128],
    F64x2Mul = 0xf2: [V128, V128] -> [V128],
    F64x2Div = 0xf3: [V128, V128] -> [V128],
    F64x2Min = 0xf4: [V128, V128] -> [V128],
    F64x2Max = 0xf5: [V128, V128] -> [V128],
    F64x2Pmin = 0xf6: [V128, V128] -> [V128],
    F64x2Pmax = 0xf7: [V128, V128] -> [V128],
    I32x4TruncSatF32x4S = 0xf8: [V128] -> [V128],
    I32x4TruncSatF32x4U = 0xf9: [V128] -> [V128],
    F32x4ConvertI32x4S = 0xfa: [V128] -> [V128],
    F32x4ConvertI32x4U = 0xfb: [V128] -> [V128],
    I32x4TruncSatF64x2SZero = 0xfc: [V128] -> [V128],
    I32x4TruncSatF64x2UZero = 0xfd: [V128] -> [V128],
    F64x2ConvertLowI32x4S = 0xfe: [V128] -> [V128],
    F64x2ConvertLowI32x4U = 0xff: [V128] -> [V128],
}

/// Loads, by opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoadKind {
    I32,
    I64,
    F32,
    F64,
    I32S8,
    I32U8,
    I32S16,
    I32U16,
    I64S8,
    I64U8,
    I64S16,
    I64U16,
    I64S32,
    I64U32,
}

impl LoadKind {
    /// log2 of the access width, which bounds the alignment.
    pub(crate) fn width_log2(self) -> u32 {
        use LoadKind::*;
        match self {
            I32S8 | I32U8 | I64S8 | I64U8 => 0,
            I32S16 | I32U16 | I64S16 | I64U16 => 1,
            I32 | F32 | I64S32 | I64U32 => 2,
            I64 | F64 => 3,
        }
    }

    pub(crate) fn result(self) -> ValType {
        use LoadKind::*;
        match self {
            I32 | I32S8 | I32U8 | I32S16 | I32U16 => ValType::I32,
            F32 => ValType::F32,
            F64 => ValType::F64,
            _ => ValType::I64,
        }
    }
}

/// Stores, by opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreKind {
    I32,
    I64,
    F32,
    F64,
    I32As8,
    I32As16,
    I64As8,
    I64As16,
    I64As32,
}

impl StoreKind {
    pub(crate) fn width_log2(self) -> u32 {
        use StoreKind::*;
        match self {
            I32As8 | I64As8 => 0,
            I32As16 | I64As16 => 1,
            I32 | F32 | I64As32 => 2,
            I64 | F64 => 3,
        }
    }

    pub(crate) fn operand(self) -> ValType {
        use StoreKind::*;
        match self {
            I32 | I32As8 | I32As16 => ValType::I32,
            F32 => ValType::F32,
            F64 => ValType::F64,
            _ => ValType::I64,
        }
    }
}

/// Vector loads that produce a whole `v128`, by opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum V128LoadKind {
    /// `v128.load`: 16 bytes.
    Load,
    /// `v128.load8x8_s` and friends: 8 bytes, each lane extended to twice its width.
    Load8x8S,
    Load8x8U,
    Load16x4S,
    Load16x4U,
    Load32x2S,
    Load32x2U,
    /// `v128.loadN_splat`: one lane's worth, copied to every lane.
    Load8Splat,
    Load16Splat,
    Load32Splat,
    Load64Splat,
    /// `v128.loadN_zero`: one lane's worth into lane 0, the others zero.
    Load32Zero,
    Load64Zero,
}

impl V128LoadKind {
    /// log2 of the bytes read, which bounds the alignment.
    pub(crate) fn width_log2(self) -> u32 {
        use V128LoadKind::*;
        match self {
            Load => 4,
            Load8x8S | Load8x8U | Load16x4S | Load16x4U | Load32x2S | Load32x2U => 3,
            Load8Splat => 0,
            Load16Splat => 1,
            Load32Splat | Load32Zero => 2,
            Load64Splat | Load64Zero => 3,
        }
    }
}

/// The immediates of a lane load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LaneArg {
    /// log2 of the lane's bytes.
    pub width_log2: u32,
    pub arg: MemArg,
    pub lane: u8,
}

/// Lane accesses with a lane-index immediate: `extract_lane` and `replace_lane`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LaneOp {
    I8x16ExtractLaneS,
    I8x16ExtractLaneU,
    I8x16ReplaceLane,
    I16x8ExtractLaneS,
    I16x8ExtractLaneU,
    I16x8ReplaceLane,
    I32x4ExtractLane,
    I32x4ReplaceLane,
    I64x2ExtractLane,
    I64x2ReplaceLane,
    F32x4ExtractLane,
    F32x4ReplaceLane,
    F64x2ExtractLane,
    F64x2ReplaceLane,
}

impl LaneOp {
    /// In opcode order, from `0xFD 0x15`.
    const BY_CODE: [LaneOp; 14] = {
        use LaneOp::*;
        [
            I8x16ExtractLaneS,
            I8x16ExtractLaneU,
            I8x16ReplaceLane,
            I16x8ExtractLaneS,
            I16x8ExtractLaneU,
            I16x8ReplaceLane,
            I32x4ExtractLane,
            I32x4ReplaceLane,
            I64x2ExtractLane,
            I64x2ReplaceLane,
            F32x4ExtractLane,
            F32x4ReplaceLane,
            F64x2ExtractLane,
            F64x2ReplaceLane,
        ]
    };

    /// The scalar type of one lane.
    pub(crate) fn scalar(self) -> ValType {
        use LaneOp::*;
        match self {
            I8x16ExtractLaneS | I8x16ExtractLaneU | I8x16ReplaceLane | I16x8ExtractLaneS
            | I16x8ExtractLaneU | I16x8ReplaceLane | I32x4ExtractLane | I32x4ReplaceLane => {
                ValType::I32
            }
            I64x2ExtractLane | I64x2ReplaceLane => ValType::I64,
            F32x4ExtractLane | F32x4ReplaceLane => ValType::F32,
            F64x2ExtractLane | F64x2ReplaceLane => ValType::F64,
        }
    }

    /// How many lanes the shape has (lane indices must be below it).
    pub(crate) fn lanes(self) -> u8 {
        use LaneOp::*;
        match self {
            I8x16ExtractLaneS | I8x16ExtractLaneU | I8x16ReplaceLane => 16,
            I16x8ExtractLaneS | I16x8ExtractLaneU | I16x8ReplaceLane => 8,
            I32x4ExtractLane | I32x4ReplaceLane | F32x4ExtractLane | F32x4ReplaceLane => 4,
            I64x2ExtractLane | I64x2ReplaceLane | F64x2ExtractLane | F64x2ReplaceLane => 2,
        }
    }

    pub(crate) fn is_replace(self) -> bool {
        use LaneOp::*;
        matches!(
            self,
            I8x16ReplaceLane
                | I16x8ReplaceLane
                | I32x4ReplaceLane
                | I64x2ReplaceLane
                | F32x4ReplaceLane
                | F64x2ReplaceLane
        )
    }
}

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operator {
    Unreachable,
    Nop,
    Block(BlockType),
    Loop(BlockType),
    If(BlockType),
    Else,
    End,
    Br(u32),
    BrIf(u32),
    BrTable {
        targets: Vec<u32>,
        default: u32,
    },
    Return,
    Call(u32),
    CallIndirect {
        type_index: u32,
        table: u32,
    },
    Drop,
    Select,
    SelectTyped(ValType),
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    GlobalGet(u32),
    GlobalSet(u32),
    TableGet(u32),
    TableSet(u32),
    Load(LoadKind, MemArg),
    Store(StoreKind, MemArg),
    /// The memory index.
    MemorySize(u32),
    MemoryGrow(u32),
    I32Const(i32),
    I64Const(i64),
    F32Const(u32),
    F64Const(u64),
    Num(NumOp),
    RefNull(RefType),
    RefIsNull,
    RefFunc(u32),
    MemoryInit {
        data: u32,
        memory: u32,
    },
    DataDrop(u32),
    MemoryCopy {
        dst: u32,
        src: u32,
    },
    /// The memory index.
    MemoryFill(u32),
    TableInit {
        elem: u32,
        table: u32,
    },
    ElemDrop(u32),
    TableCopy {
        dst: u32,
        src: u32,
    },
    TableGrow(u32),
    TableSize(u32),
    TableFill(u32),
    // Vector instructions. A shuffle's lane indices pick from the 32 bytes of both
    // operands (validation checks they are below 32).
    V128Load(V128LoadKind, MemArg),
    V128Store(MemArg),
    V128LoadLane(LaneArg),
    V128StoreLane(LaneArg),
    V128Const(u128),
    I8x16Shuffle([u8; 16]),
    Lane(LaneOp, u8),
    Simd(SimdOp),
}

impl Reader<'_> {
    /// Decodes the rest of a `0xFD` instruction: its LEB128 sub-opcode and immediates.
    fn simd_operator(&mut self, at: usize, features: Features) -> Result<Operator> {
        use Operator as O;
        use V128LoadKind::*;
        let sub = self.u32()?;
        Ok(match sub {
            0x00..=0x0a => {
                let kind = [
                    Load,
                    Load8x8S,
                    Load8x8U,
                    Load16x4S,
                    Load16x4U,
                    Load32x2S,
                    Load32x2U,
                    Load8Splat,
                    Load16Splat,
                    Load32Splat,
                    Load64Splat,
                ][sub as usize];
                O::V128Load(kind, self.mem_arg(features)?)
            }
            0x0b => O::V128Store(self.mem_arg(features)?),
            0x0c => {
                let bytes: [u8; 16] = self.bytes(16)?.try_into().expect("16 bytes");
                O::V128Const(u128::from_le_bytes(bytes))
            }
            0x0d => O::I8x16Shuffle(self.bytes(16)?.try_into().expect("16 bytes")),
            0x15..=0x22 => {
                let op = LaneOp::BY_CODE[(sub - 0x15) as usize];
                O::Lane(op, self.u8()?)
            }
            0x54..=0x5b => {
                let width_log2 = (sub - 0x54) % 4;
                let arg = self.mem_arg(features)?;
                let lane = self.u8()?;
                let lane_arg = LaneArg {
                    width_log2,
                    arg,
                    lane,
                };
                if sub < 0x58 {
                    O::V128LoadLane(lane_arg)
                } else {
                    O::V128StoreLane(lane_arg)
                }
            }
            0x5c => O::V128Load(Load32Zero, self.mem_arg(features)?),
            0x5d => O::V128Load(Load64Zero, self.mem_arg(features)?),
            _ => match SimdOp::from_code(sub) {
                Some(op) => O::Simd(op),
                None => return Err(Error::malformed(at, "illegal opcode")),
            },
        })
    }

    fn block_type(&mut self) -> Result<BlockType> {
        let b = self.peek_u8()?;
        if b == 0x40 {
            self.u8()?;
            return Ok(BlockType::Empty);
        }
        if matches!(b, 0x7f | 0x7e | 0x7d | 0x7c | 0x7b | 0x70 | 0x6f) {
            return Ok(BlockType::Value(self.val_type()?));
        }
        let at = self.pos();
        let index = self.s33()?;
        if index < 0 {
            return Err(Error::malformed(at, "malformed value type"));
        }
        u32::try_from(index)
            .map(BlockType::Func)
            .map_err(|_| Error::invalid(at, "unknown type"))
    }

    /// A load's or store's flags and offset. In 2.0 the flags are the alignment alone,
    /// below 32. With multi-memory (3.0), bit 6 says a memory index follows the flags,
    /// the alignment is the low six bits, and flags of 128 or more are malformed.
    fn mem_arg(&mut self, features: Features) -> Result<MemArg> {
        let at = self.pos();
        let flags = self.u32()?;
        let (align, memory) = if features.multi_memory {
            if flags >= 0x80 {
                return Err(Error::malformed(at, "malformed memop flags"));
            }
            let memory = if flags & 0x40 != 0 { self.u32()? } else { 0 };
            (flags & 0x3f, memory)
        } else {
            // Larger values are multi-memory encodings (bit 6) or meaningless alignments.
            if flags >= 32 {
                return Err(Error::malformed(at, "malformed memop flags"));
            }
            (flags, 0)
        };
        let offset = self.u32()?;
        Ok(MemArg {
            align,
            offset,
            memory,
        })
    }

    fn zero_byte(&mut self) -> Result<()> {
        let at = self.pos();
        if self.u8()? != 0 {
            return Err(Error::malformed(at, "zero byte expected"));
        }
        Ok(())
    }

    /// The memory index of `memory.size`, `grow`, `fill`, `copy` and `init`: a u32 with
    /// multi-memory, else a single zero byte.
    fn mem_index(&mut self, features: Features) -> Result<u32> {
        if features.multi_memory {
            self.u32()
        } else {
            self.zero_byte().map(|()| 0)
        }
    }

    /// Decodes the next instruction. `features` are the proposals beyond 2.0 the engine
    /// accepts; `has_data_count` says whether the module has a data count section, which
    /// `memory.init` and `data.drop` require.
    pub(crate) fn operator(
        &mut self,
        features: Features,
        has_data_count: bool,
    ) -> Result<Operator> {
        let at = self.pos();
        let code = self.u8()?;
        use Operator as O;
        Ok(match code {
            0x00 => O::Unreachable,
            0x01 => O::Nop,
            0x02 => O::Block(self.block_type()?),
            0x03 => O::Loop(self.block_type()?),
            0x04 => O::If(self.block_type()?),
            0x05 => O::Else,
            0x0b => O::End,
            0x0c => O::Br(self.u32()?),
            0x0d => O::BrIf(self.u32()?),
            0x0e => {
                let n = self.len()?;
                let mut targets = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    targets.push(self.u32()?);
                }
                O::BrTable {
                    targets,
                    default: self.u32()?,
                }
            }
            0x0f => O::Return,
            0x10 => O::Call(self.u32()?),
            0x11 => {
                let type_index = self.u32()?;
                let table = self.u32()?;
                O::CallIndirect { type_index, table }
            }
            0x1a => O::Drop,
            0x1b => O::Select,
            0x1c => {
                let at = self.pos();
                let n = self.u32()?;
                if n != 1 {
                    return Err(Error::invalid(at, "invalid result arity"));
                }
                O::SelectTyped(self.val_type()?)
            }
            0x20 => O::LocalGet(self.u32()?),
            0x21 => O::LocalSet(self.u32()?),
            0x22 => O::LocalTee(self.u32()?),
            0x23 => O::GlobalGet(self.u32()?),
            0x24 => O::GlobalSet(self.u32()?),
            0x25 => O::TableGet(self.u32()?),
            0x26 => O::TableSet(self.u32()?),
            0x28..=0x35 => {
                use LoadKind::*;
                let kind = [
                    I32, I64, F32, F64, I32S8, I32U8, I32S16, I32U16, I64S8, I64U8, I64S16, I64U16,
                    I64S32, I64U32,
                ][usize::from(code - 0x28)];
                O::Load(kind, self.mem_arg(features)?)
            }
            0x36..=0x3e => {
                use StoreKind::*;
                let kind = [
                    I32, I64, F32, F64, I32As8, I32As16, I64As8, I64As16, I64As32,
                ][usize::from(code - 0x36)];
                O::Store(kind, self.mem_arg(features)?)
            }
            0x3f => O::MemorySize(self.mem_index(features)?),
            0x40 => O::MemoryGrow(self.mem_index(features)?),
            0x41 => O::I32Const(self.i32()?),
            0x42 => O::I64Const(self.i64()?),
            0x43 => O::F32Const(self.f32_bits()?),
            0x44 => O::F64Const(self.f64_bits()?),
            0x45..=0xc4 => O::Num(NumOp::from_code(u32::from(code)).expect("dense range")),
            0xd0 => O::RefNull(self.ref_type()?),
            0xd1 => O::RefIsNull,
            0xd2 => O::RefFunc(self.u32()?),
            0xfc => {
                let sub = self.u32()?;
                match sub {
                    0..=7 => O::Num(NumOp::from_code(0xfc00 + sub).expect("dense range")),
                    8 => {
                        let data = self.u32()?;
                        let memory = self.mem_index(features)?;
                        if !has_data_count {
                            return Err(Error::malformed(at, "data count section required"));
                        }
                        O::MemoryInit { data, memory }
                    }
                    9 => {
                        let data = self.u32()?;
                        if !has_data_count {
                            return Err(Error::malformed(at, "data count section required"));
                        }
                        O::DataDrop(data)
                    }
                    10 => {
                        let dst = self.mem_index(features)?;
                        let src = self.mem_index(features)?;
                        O::MemoryCopy { dst, src }
                    }
                    11 => O::MemoryFill(self.mem_index(features)?),
                    12 => {
                        let elem = self.u32()?;
                        let table = self.u32()?;
                        O::TableInit { elem, table }
                    }
                    13 => O::ElemDrop(self.u32()?),
                    14 => {
                        let dst = self.u32()?;
                        let src = self.u32()?;
                        O::TableCopy { dst, src }
                    }
                    15 => O::TableGrow(self.u32()?),
                    16 => O::TableSize(self.u32()?),
                    17 => O::TableFill(self.u32()?),
                    _ => return Err(Error::malformed(at, "illegal opcode")),
                }
            }
            0xfd => self.simd_operator(at, features)?,
            _ => return Err(Error::malformed(at, "illegal opcode")),
        })
    }
}
