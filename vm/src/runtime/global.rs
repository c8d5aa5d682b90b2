//! Globals.

use super::store::{AsContext, AsContextMut, StoreId};
use super::value::Val;
use super::vmctx::GlobalCell;
use crate::error::{Error, Result};
use crate::types::{GlobalType, Mutability};

pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
    /// Where the value lives: its instance's context, or the store's cell arena.
    pub cell: GlobalCell,
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
        let store = store.as_context_mut().0;
        if value.ty() != ty.content {
            return Err(Error::usage("global initial value has the wrong type"));
        }
        store.check_val(&value)?;
        let mut raw = [0u64; 2];
        value.to_slots(&store.inner, &mut raw);
        let cell = store.inner.global_cells.alloc(raw);
        Ok(Global::push(store, ty, cell))
    }

    /// Registers a global whose value lives in `cell`.
    pub(crate) fn push<T>(
        store: &mut super::store::Store<T>,
        ty: GlobalType,
        cell: GlobalCell,
    ) -> Global {
        store.inner.globals.push(GlobalEntity { ty, cell });
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
        let e = &store.inner.globals[self.index as usize];
        Val::from_slots(e.ty.content, &store.inner, &e.cell.get())
    }

    /// Writes a mutable global.
    ///
    /// # Errors
    /// If the global is immutable or the value has another type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let store = store.as_context_mut().0;
        assert_eq!(store.id(), self.store, "global used with another store");
        let ty = store.inner.globals[self.index as usize].ty;
        if ty.mutability != Mutability::Var {
            return Err(Error::usage("global is immutable"));
        }
        if value.ty() != ty.content {
            return Err(Error::usage("value has the wrong type for this global"));
        }
        store.check_val(&value)?;
        let mut raw = [0u64; 2];
        value.to_slots(&store.inner, &mut raw);
        store.inner.globals[self.index as usize].cell.set(raw);
        Ok(())
    }
}
