//! Canonical function types, process-wide: `call_indirect` compares two integers, and
//! because ids do not depend on the store, compiled code can carry a module's type ids
//! as immediates.

use crate::types::FuncType;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Default)]
struct TypeRegistry {
    types: Vec<Arc<FuncType>>,
    ids: HashMap<Arc<FuncType>, u32>,
}

fn registry() -> &'static Mutex<TypeRegistry> {
    static REGISTRY: OnceLock<Mutex<TypeRegistry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The id of `ty`, registering it if new. Equal types get equal ids. Ids are never
/// reused, so a process holds as many entries as it has seen distinct types.
pub(crate) fn intern(ty: &FuncType) -> u32 {
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&id) = r.ids.get(ty) {
        return id;
    }
    let id = r.types.len() as u32;
    let ty = Arc::new(ty.clone());
    r.types.push(ty.clone());
    r.ids.insert(ty, id);
    id
}

/// The type registered as `id`.
pub(crate) fn get(id: u32) -> Arc<FuncType> {
    let r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.types[id as usize].clone()
}
