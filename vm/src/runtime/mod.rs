//! The embedding API: engines, modules, stores, instances and their items.

pub(crate) mod backend;
pub(crate) mod func;
pub(crate) mod global;
pub(crate) mod instance;
pub(crate) mod memory;
pub(crate) mod module;
pub(crate) mod registry;
pub(crate) mod store;
pub(crate) mod sys;
pub(crate) mod table;
pub(crate) mod value;
pub(crate) mod vmctx;
