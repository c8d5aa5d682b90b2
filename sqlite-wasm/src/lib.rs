//! SQLite compiled to WebAssembly, running on Sandlite's VM with Sandlite's Rust VFS.
//!
//! This is Sandlite's "sys" layer: [`Sqlite`] is one sandboxed SQLite instance (its own
//! Wasm store, memory and VFS), with typed wrappers over the C API. Handles ([`Db`],
//! [`Stmt`], [`Blob`], [`Backup`]) are guest pointers; using a stale one can only
//! confuse SQLite inside its sandbox, never the host. The `sandlite-driver` crate builds
//! the user-facing API on top.
//!
//! ```
//! use sandlite_sqlite_wasm::{Config, Sqlite, ffi};
//! use sandlite_vfs::Vfs;
//!
//! let dir = tempfile::tempdir()?;
//! let mut sqlite = Sqlite::new(Config::new(Vfs::new(dir.path())?))?;
//! let db = sqlite.open("demo.db", ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE)?;
//! let stmt = sqlite.prepare(db, "SELECT 40 + 2", 0)?.stmt.unwrap();
//! assert!(sqlite.step(stmt)?);
//! assert_eq!(sqlite.column_int64(stmt, 0)?, 42);
//! sqlite.finalize(stmt)?;
//! sqlite.close(db)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every host function the module imports lives in one module (`host`); each turns a
//! Rust `Result` into the SQLite result code the C shim expects. A trap inside SQLite
//! (or a broken contract between guest and host) marks the instance broken: every later
//! call returns [`Error::Broken`].

pub mod alloc;
mod callbacks;
mod error;
mod exports;
pub mod ffi;
mod guest;
mod host;
mod sqlite;
mod vtab;

pub use callbacks::{
    AggregateFunction, AggregateState, BusyHandler, Collation, CommitHook, FunctionCall,
    ProgressHandler, RollbackHook, ScalarFunction, TraceEvent, TraceHook, TraceQuery, UpdateAction,
    UpdateHook, ValueType,
};
pub use error::{Error, Result};
pub use sandlite_vm::Strategy;
pub use sqlite::{
    Backup, Blob, Config, DEFAULT_MEMORY_LIMIT, Db, Function, GuestBytes, Prepared, ROW_CAPACITY,
    RawColumn, SQLITE_WASM, Sqlite, Stmt, preload, set_code_cache_dir, wait_for_compiler,
};
pub use vtab::{
    Constraint, FilterArg, HostValue, IndexInfo, ModuleKind, ModuleWrites, TransactionOp,
    VtabConnect, VtabCursor, VtabError, VtabModule, VtabTable,
};
