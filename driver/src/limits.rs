//! Run-time limits ([`sqlite3_limit`](https://www.sqlite.org/c3ref/limit.html)), as
//! rusqlite's `limits` module has them. They bound what SQL may ask for; the sandbox's
//! own limits (guest memory, interrupts) come on top.

use crate::connection::Connection;
use crate::error::Result;

/// A run-time limit (`SQLITE_LIMIT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
#[non_exhaustive]
#[allow(non_camel_case_types)]
pub enum Limit {
    /// Largest string or blob, or row, in bytes.
    SQLITE_LIMIT_LENGTH = 0,
    /// Longest SQL statement, in bytes.
    SQLITE_LIMIT_SQL_LENGTH = 1,
    /// Most columns in a table, index, result set, `GROUP BY` or `ORDER BY`.
    SQLITE_LIMIT_COLUMN = 2,
    /// Deepest expression parse tree.
    SQLITE_LIMIT_EXPR_DEPTH = 3,
    /// Most terms in a compound `SELECT`.
    SQLITE_LIMIT_COMPOUND_SELECT = 4,
    /// Most virtual-machine instructions in one statement.
    SQLITE_LIMIT_VDBE_OP = 5,
    /// Most arguments of a function.
    SQLITE_LIMIT_FUNCTION_ARG = 6,
    /// Most attached databases.
    SQLITE_LIMIT_ATTACHED = 7,
    /// Longest `LIKE`/`GLOB` pattern.
    SQLITE_LIMIT_LIKE_PATTERN_LENGTH = 8,
    /// Highest parameter number.
    SQLITE_LIMIT_VARIABLE_NUMBER = 9,
    /// Deepest trigger recursion.
    SQLITE_LIMIT_TRIGGER_DEPTH = 10,
    /// Most auxiliary worker threads (always 0 here: one thread per instance).
    SQLITE_LIMIT_WORKER_THREADS = 11,
}

impl Connection {
    /// The current value of `limit`.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn limit(&self, limit: Limit) -> Result<i32> {
        let mut inner = self.inner()?;
        let db = inner.db;
        Ok(inner.sqlite.limit(db, limit as i32, -1)?)
    }

    /// Sets `limit` to `new_val` (SQLite lowers values above its compile-time maximum to
    /// it; a negative value changes nothing) and returns the previous value.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn set_limit(&self, limit: Limit, new_val: i32) -> Result<i32> {
        let mut inner = self.inner()?;
        let db = inner.db;
        Ok(inner.sqlite.limit(db, limit as i32, new_val)?)
    }
}
