//! Globals.

use super::store::{AsContext, AsContextMut, StoreId};
use super::value::Val;
use crate::error::{Error, Result};
use crate::types::{GlobalType, Mutability};

pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
}

/// A global, owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Global {
    /// Creates a global holding `value`.
    ///
    /// # Errors
    /// If the value does not have the global's type.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let store = store.as_context_mut();
        if value.ty() != ty.content {
            return Err(Error::usage("global initial value has the wrong type"));
        }
        let mut raw = [0u64; 2];
        value.to_slots(store.id(), &mut raw);
        Ok(Global::from_raw(store, ty, raw))
    }

    pub(crate) fn from_raw<T>(
        store: &mut super::store::Store<T>,
        ty: GlobalType,
        raw: [u64; 2],
    ) -> Global {
        store.inner.globals.push(GlobalEntity { ty });
        store.inner.global_values.push(raw);
        Global {
            store: store.id(),
            index: (store.inner.globals.len() - 1) as u32,
        }
    }

    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = store.as_context();
        assert_eq!(store.id(), self.store, "global used with another store");
        store.inner.globals[self.index as usize].ty
    }

    pub fn get(&self, store: impl AsContext) -> Val {
        let store = store.as_context();
        assert_eq!(store.id(), self.store, "global used with another store");
        let ty = store.inner.globals[self.index as usize].ty;
        Val::from_slots(
            ty.content,
            store.id(),
            &store.inner.global_values[self.index as usize],
        )
    }

    /// Writes a mutable global.
    ///
    /// # Errors
    /// If the global is immutable or the value has another type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let store = store.as_context_mut();
        assert_eq!(store.id(), self.store, "global used with another store");
        let ty = store.inner.globals[self.index as usize].ty;
        if ty.mutability != Mutability::Var {
            return Err(Error::usage("global is immutable"));
        }
        if value.ty() != ty.content {
            return Err(Error::usage("value has the wrong type for this global"));
        }
        let mut raw = [0u64; 2];
        value.to_slots(store.id(), &mut raw);
        store.inner.global_values[self.index as usize] = raw;
        Ok(())
    }
}
