//! Values crossing the host boundary.

use super::func::Func;
use super::store::StoreInner;
use crate::types::ValType;

/// An opaque host reference (`externref`). The host chooses the number; the VM only
/// stores and compares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(pub u32);

/// A 128-bit vector value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct V128(pub u128);

/// A WebAssembly value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// Kept as bits so NaN payloads survive.
    F32(u32),
    /// Kept as bits so NaN payloads survive.
    F64(u64),
    V128(V128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero (or null) value of a type: what locals and new table slots start as.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }

    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }

    /// Writes this value into slots (a function reference must belong to `store`).
    pub(crate) fn to_slots(self, store: &StoreInner, out: &mut [u64]) {
        match self {
            Val::I32(v) => out[0] = v as u32 as u64,
            Val::I64(v) => out[0] = v as u64,
            Val::F32(v) => out[0] = u64::from(v),
            Val::F64(v) => out[0] = v,
            Val::V128(v) => {
                out[0] = v.0 as u64;
                out[1] = (v.0 >> 64) as u64;
            }
            Val::FuncRef(f) => out[0] = f.map_or(0, |f| f.to_raw(store)),
            Val::ExternRef(r) => out[0] = r.map_or(0, |r| u64::from(r.0) + 1),
        }
    }

    /// Reads a value of type `ty` from slots.
    pub(crate) fn from_slots(ty: ValType, store: &StoreInner, slots: &[u64]) -> Val {
        match ty {
            ValType::I32 => Val::I32(slots[0] as u32 as i32),
            ValType::I64 => Val::I64(slots[0] as i64),
            ValType::F32 => Val::F32(slots[0] as u32),
            ValType::F64 => Val::F64(slots[0]),
            ValType::V128 => Val::V128(V128(u128::from(slots[0]) | (u128::from(slots[1]) << 64))),
            ValType::FuncRef => Val::FuncRef(Func::from_raw(store, slots[0])),
            ValType::ExternRef => Val::ExternRef(match slots[0] {
                0 => None,
                n => Some(ExternRef((n - 1) as u32)),
            }),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
