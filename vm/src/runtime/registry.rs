//! Canonical function types per store: `call_indirect` compares two integers.

use crate::types::FuncType;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct TypeRegistry {
    types: Vec<FuncType>,
    ids: HashMap<FuncType, u32>,
}

impl TypeRegistry {
    /// The id of `ty`, registering it if new. Equal types get equal ids.
    pub(crate) fn intern(&mut self, ty: &FuncType) -> u32 {
        if let Some(&id) = self.ids.get(ty) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.ids.insert(ty.clone(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &FuncType {
        &self.types[id as usize]
    }
}
