//! Sandlite's WebAssembly virtual machine.
//!
//! A pure-Rust implementation of WebAssembly 2.0: a binary decoder, a validator, a
//! runtime (stores, instances, memories, tables, globals, host functions) and a fast
//! register-based interpreter. WebAssembly 3.0's multi-memory is available behind
//! [`Config::multi_memory`].
//!
//! ```
//! use sandlite_vm::{Engine, Linker, Module, Store};
//!
//! // (module (func (export "add") (param i32 i32) (result i32)
//! //   local.get 0 local.get 1 i32.add))
//! let wasm = [
//!     0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f,
//!     0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64,
//!     0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
//! ];
//! let engine = Engine::default();
//! let module = Module::new(&engine, wasm)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, 5);
//! # Ok::<(), sandlite_vm::Error>(())
//! ```
//!
//! Everything that can fail returns [`Error`]; traps are values ([`Trap`]) that name
//! their kind and the function they happened in. Malformed input never panics.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod compile;
pub(crate) mod decode;
mod error;
pub(crate) mod interp;
mod runtime;
mod types;
pub(crate) mod validate;
pub mod wasi;

pub use decode::ExternKind;
pub use error::{Error, ErrorKind, Result, Trap, TrapCode};
pub use runtime::backend::hold_background_compiles;
pub use runtime::func::{
    Caller, Func, IntoFunc, IntoSlots, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy,
};
pub use runtime::global::Global;
pub use runtime::instance::{Extern, Instance, Linker};
pub use runtime::memory::{Memory, MemoryAccessError, MemoryMode};
pub use runtime::module::{
    BACKGROUND_COMPILE_THRESHOLD, Config, DEFAULT_CACHE_SIZE, Engine, ExportType, ImportType,
    Module, Strategy, default_cache_dir,
};
pub use runtime::store::{
    AsContext, AsContextMut, InterruptHandle, Store, StoreContextMut, StoreId, StoreLimits,
};
pub use runtime::table::Table;
pub use runtime::value::{ExternRef, V128, Val};
pub use types::{
    ExternType, FuncType, GlobalType, Limits, MAX_PAGES, MemoryType, Mutability, PAGE_SIZE,
    RefType, TableType, ValType,
};
