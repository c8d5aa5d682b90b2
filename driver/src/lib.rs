//! A rusqlite-style SQLite driver on Sandlite: SQLite compiled to WebAssembly, running in
//! a pure-Rust sandbox with no C toolchain anywhere in the build.
//!
//! ```
//! use sandlite_driver::{Connection, params};
//!
//! let conn = Connection::open_in_memory()?;
//! conn.execute_batch("CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")?;
//! conn.execute("INSERT INTO person(name, age) VALUES (?1, ?2)", params!["Ada", 36])?;
//! let mut stmt = conn.prepare("SELECT name, age FROM person WHERE age > :min")?;
//! let people: Vec<(String, i64)> = stmt
//!     .query_map(&[(":min", &30 as &dyn sandlite_driver::ToSql)], |r| Ok((r.get(0)?, r.get("age")?)))?
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(people, vec![("Ada".to_string(), 36)]);
//! # Ok::<(), sandlite_driver::Error>(())
//! ```
//!
//! | rusqlite | Sandlite |
//! |---|---|
//! | `Connection::open`, `open_in_memory`, `open_with_flags`, `open_in_memory_with_flags` | the same (shared-cache in-memory URIs share one database per process), plus [`OpenOptions`] (sandbox root, memory limit) and [`Connection::open_shared_memory`] |
//! | `execute`, `execute_batch`, `prepare`, `prepare_cached`, `query_row`, `query_one`, `Batch` | the same |
//! | `Statement::query`, `query_map`, `query_and_then`, `columns`, `Rows::next`/`map`/`and_then`, `Row::get` | the same (iterators are std iterators) |
//! | `ToSql`, `FromSql`, `Value`, `ValueRef`, `params!`, `named_params!`, `params_from_iter` | the same |
//! | `Error::SqliteFailure(ffi::Error { code: ErrorCode, .. }, _)` and the other variants | the same shapes and messages, plus the sandbox's own |
//! | `Transaction`, `Savepoint` (rollback on drop), `set_transaction_behavior` | the same |
//! | pragmas, `limits`, `config::DbConfig`, `trace`/`profile` | the same |
//! | functions, collations, hooks, blob I/O, `backup`, `InterruptHandle` | the same shapes (`backup::Backup` needs one side on disk) |
//! | `r2d2_sqlite::SqliteConnectionManager` | [`pool::SandliteConnectionManager`]; plus [`service::ServicePool`] |
//! | `vtab` (`VTab`, `VTabCursor`, `CreateVTab`, `UpdateVTab`, `TransactionVTab`, `create_module`), `vtab::array` (`rarray`), `vtab::csvtab` | the same shapes, writable tables too ([`vtab`]) |
//! | `load_extension` | not available (see the README's "Coming from rusqlite") |
//!
//! Every connection runs SQLite in its own sandbox: its files must live under one
//! directory (by default the database file's), its memory is capped, and a trap inside
//! SQLite breaks only that connection ([`Connection::is_broken`]).

pub mod backup;
mod batch;
pub mod blob;
mod cache;
pub mod config;
mod connection;
mod error;
mod features;
pub mod ffi;
pub mod functions;
pub mod limits;
mod params;
pub mod pool;
pub mod service;
mod statement;
pub mod trace;
mod transaction;
pub mod types;
mod uri;
pub mod vtab;

/// Hook types (rusqlite's `hooks` module).
pub mod hooks {
    pub use crate::connection::Action;
}

pub use batch::Batch;

pub use backup::Progress;
pub use blob::Blob;
pub use cache::CachedStatement;
pub use connection::{
    AbortHandle, Action, Connection, DatabaseName, InterruptHandle, MAIN_DB, Name, OpenFlags,
    OpenOptions, TEMP_DB,
};
pub use error::{Error, OptionalExtension, Result};
pub use ffi::ErrorCode;
pub use params::{Params, ParamsFromIter, params_from_iter};
pub use sandlite_sqlite_wasm::Strategy;
pub use statement::{
    AndThenRows, Column, MappedRows, Row, RowIndex, Rows, Statement, StatementStatus,
};
pub use transaction::{DropBehavior, Savepoint, Transaction, TransactionBehavior};
pub use types::{FromSql, Null, ToSql, ToSqlOutput, Value, ValueRef, ZeroBlob};

/// The version of the SQLite inside Sandlite (`"3.49.1"`), as `sqlite3_libversion`
/// reports it; the same for every connection, since `sqlite3.wasm` is built in.
pub fn version() -> &'static str {
    ffi::SQLITE_VERSION
}

/// Keeps the machine code compiled from SQLite in `dir`, so that later processes
/// start without compiling it again (about 0.35 s of CPU on two cores; loading takes a
/// few milliseconds). Call it before the first connection opens: it returns `false`,
/// changing nothing, once SQLite has been loaded in this process. Off by default for
/// the library; the `sandlite` shell uses [`default_cache_dir`] unless `-no-cache`.
/// Entries are checked whole before use, shared safely between processes, and the
/// directory is kept under 512 MiB (see `sandlite_vm::Config::cache_dir`).
pub fn set_code_cache_dir(dir: Option<std::path::PathBuf>) -> bool {
    sandlite_sqlite_wasm::set_code_cache_dir(dir)
}

pub use sandlite_vm::default_cache_dir;

/// Waits until SQLite's machine code is ready, if SQLite is loaded in this process, and
/// says whether it is. With the default `Strategy::Auto`, SQLite starts on the
/// interpreter (ready in ~20 ms) while the compiler works on a background thread (about
/// 0.35 s), and connections move to machine code at their next call once it is done;
/// nothing waits for it unless a program asks. A short-lived program that keeps a code
/// cache ([`set_code_cache_dir`]) calls this before exiting, so that the compiled code
/// is stored for its next run.
pub fn wait_for_compiler() -> bool {
    sandlite_sqlite_wasm::wait_for_compiler()
}

/// [`version`] as a number (`3049001`), as `sqlite3_libversion_number` reports it.
pub fn version_number() -> i32 {
    ffi::SQLITE_VERSION_NUMBER
}

impl Connection {
    /// True if `sql` ends with a complete statement (what an interactive shell asks
    /// before running input).
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn is_complete(&self, sql: &str) -> Result<bool> {
        Ok(self.inner()?.sqlite.complete(sql)?)
    }
}
