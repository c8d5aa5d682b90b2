//! Tables of references.

use super::store::{AsContext, AsContextMut, StoreId};
use super::value::Val;
use super::vmctx::VMTable;
use crate::error::{Error, Result};
use crate::types::TableType;

/// Elements are raw references: 0 is null, otherwise the address of a function's
/// [`VMFuncRef`](super::vmctx::VMFuncRef) or an `externref` + 1.
pub(crate) struct TableEntity {
    pub ty: TableType,
    /// The elements. Changing the length (only `grow` does) must refresh `vm`.
    pub elements: Vec<u64>,
    /// Base and length of `elements`, where native code reads them.
    vm: Box<VMTable>,
}

impl TableEntity {
    pub(crate) fn new(ty: TableType, init: u64, max_elements: u32) -> Result<TableEntity> {
        if ty.limits.min > max_elements {
            return Err(Error::resource(format!(
                "table of {} elements exceeds the store's limit of {max_elements}",
                ty.limits.min
            )));
        }
        let mut elements = vec![init; ty.limits.min as usize];
        let vm = Box::new(VMTable {
            base: elements.as_mut_ptr(),
            len: elements.len() as u64,
        });
        Ok(TableEntity { ty, elements, vm })
    }

    /// The table's base and length, at a stable address.
    pub(crate) fn vm(&self) -> *const VMTable {
        &*self.vm
    }

    /// `table.grow`: the old size, or `None` if the table cannot grow that far.
    pub(crate) fn grow(&mut self, delta: u32, init: u64, max_elements: u32) -> Option<u32> {
        let old = self.elements.len() as u32;
        let new = u64::from(old) + u64::from(delta);
        let max = self.ty.limits.max.unwrap_or(u32::MAX).min(max_elements);
        if new > u64::from(max) {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.vm.base = self.elements.as_mut_ptr();
        self.vm.len = self.elements.len() as u64;
        Some(old)
    }
}

/// A table, owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Table {
    /// Creates a table filled with `init`.
    ///
    /// # Errors
    /// If `init` does not match the element type or the size exceeds the store's limit.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = store.as_context_mut().0;
        if init.ty() != ty.element.into() {
            return Err(Error::usage("table initial value has the wrong type"));
        }
        store.check_val(&init)?;
        let mut raw = [0u64; 2];
        init.to_slots(&store.inner, &mut raw);
        let entity = TableEntity::new(ty, raw[0], store.inner.limits.max_table_elements)?;
        store.inner.tables.push(entity);
        Ok(Table {
            store: store.id(),
            index: (store.inner.tables.len() - 1) as u32,
        })
    }

    fn entity<'s, T>(&self, store: &'s super::store::Store<T>) -> &'s TableEntity {
        assert_eq!(store.id(), self.store, "table used with another store");
        &store.inner.tables[self.index as usize]
    }

    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.entity(store.as_context()).ty
    }

    pub fn size(&self, store: impl AsContext) -> u32 {
        self.entity(store.as_context()).elements.len() as u32
    }

    /// The element at `index`, if in bounds.
    pub fn get(&self, store: impl AsContext, index: u32) -> Option<Val> {
        let store = store.as_context();
        let e = self.entity(store);
        let raw = *e.elements.get(index as usize)?;
        Some(Val::from_slots(e.ty.element.into(), &store.inner, &[raw]))
    }
}
