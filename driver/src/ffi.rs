//! SQLite's constants and rusqlite's `ffi::Error`/`ErrorCode`, as `rusqlite::ffi` has
//! them (`libsqlite3-sys` there; here the numbers are those of the bundled
//! `sqlite3.wasm`, and there is no C API to call).

pub use sandlite_sqlite_wasm::ffi::*;

use std::fmt;

/// The SQLite version built into `sqlite3.wasm` (rusqlite's is a NUL-terminated byte
/// string; this is a `&str`).
pub const SQLITE_VERSION: &str = "3.49.1";
/// [`SQLITE_VERSION`] as a number.
pub const SQLITE_VERSION_NUMBER: i32 = 3_049_001;

/// The kind of an SQLite error: its primary result code, named as rusqlite names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `SQLITE_INTERNAL`.
    InternalMalfunction,
    /// `SQLITE_PERM`.
    PermissionDenied,
    /// `SQLITE_ABORT`.
    OperationAborted,
    /// `SQLITE_BUSY`.
    DatabaseBusy,
    /// `SQLITE_LOCKED`.
    DatabaseLocked,
    /// `SQLITE_NOMEM` (also past the connection's memory limit).
    OutOfMemory,
    /// `SQLITE_READONLY`.
    ReadOnly,
    /// `SQLITE_INTERRUPT`.
    OperationInterrupted,
    /// `SQLITE_IOERR`.
    SystemIoFailure,
    /// `SQLITE_CORRUPT`.
    DatabaseCorrupt,
    /// `SQLITE_NOTFOUND`.
    NotFound,
    /// `SQLITE_FULL`.
    DiskFull,
    /// `SQLITE_CANTOPEN` (also a path outside the sandbox).
    CannotOpen,
    /// `SQLITE_PROTOCOL`.
    FileLockingProtocolFailed,
    /// `SQLITE_SCHEMA`.
    SchemaChanged,
    /// `SQLITE_TOOBIG`.
    TooBig,
    /// `SQLITE_CONSTRAINT`.
    ConstraintViolation,
    /// `SQLITE_MISMATCH`.
    TypeMismatch,
    /// `SQLITE_MISUSE`.
    ApiMisuse,
    /// `SQLITE_NOLFS`.
    NoLargeFileSupport,
    /// `SQLITE_AUTH`.
    AuthorizationForStatementDenied,
    /// `SQLITE_RANGE`.
    ParameterOutOfRange,
    /// `SQLITE_NOTADB`.
    NotADatabase,
    /// Any other code, `SQLITE_ERROR` included (as in rusqlite).
    Unknown,
}

/// An SQLite result code: its kind and the extended code it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Error {
    /// The kind (from the primary code).
    pub code: ErrorCode,
    /// The extended result code (e.g. `SQLITE_CONSTRAINT_UNIQUE`, 2067).
    pub extended_code: i32,
}

impl Error {
    /// The error for the (extended or primary) result code `result_code`.
    pub fn new(result_code: i32) -> Error {
        let code = match result_code & 0xff {
            SQLITE_INTERNAL => ErrorCode::InternalMalfunction,
            SQLITE_PERM => ErrorCode::PermissionDenied,
            SQLITE_ABORT => ErrorCode::OperationAborted,
            SQLITE_BUSY => ErrorCode::DatabaseBusy,
            SQLITE_LOCKED => ErrorCode::DatabaseLocked,
            SQLITE_NOMEM => ErrorCode::OutOfMemory,
            SQLITE_READONLY => ErrorCode::ReadOnly,
            SQLITE_INTERRUPT => ErrorCode::OperationInterrupted,
            SQLITE_IOERR => ErrorCode::SystemIoFailure,
            SQLITE_CORRUPT => ErrorCode::DatabaseCorrupt,
            SQLITE_NOTFOUND => ErrorCode::NotFound,
            SQLITE_FULL => ErrorCode::DiskFull,
            SQLITE_CANTOPEN => ErrorCode::CannotOpen,
            SQLITE_PROTOCOL => ErrorCode::FileLockingProtocolFailed,
            SQLITE_SCHEMA => ErrorCode::SchemaChanged,
            SQLITE_TOOBIG => ErrorCode::TooBig,
            SQLITE_CONSTRAINT => ErrorCode::ConstraintViolation,
            SQLITE_MISMATCH => ErrorCode::TypeMismatch,
            SQLITE_MISUSE => ErrorCode::ApiMisuse,
            SQLITE_NOLFS => ErrorCode::NoLargeFileSupport,
            SQLITE_AUTH => ErrorCode::AuthorizationForStatementDenied,
            SQLITE_RANGE => ErrorCode::ParameterOutOfRange,
            SQLITE_NOTADB => ErrorCode::NotADatabase,
            _ => ErrorCode::Unknown,
        };
        Error {
            code,
            extended_code: result_code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error code {}: {}",
            self.extended_code,
            code_to_str(self.extended_code)
        )
    }
}

impl std::error::Error for Error {}

/// The English text of a result code (what `sqlite3_errstr` gives).
pub fn code_to_str(code: i32) -> &'static str {
    code_name(code)
}

/// Stands for SQLite's `sqlite3_vtab` in a virtual table's `base` field, as rusqlite's
/// examples declare it. The real one lives in the guest's memory; this is empty.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct sqlite3_vtab {}

/// Stands for SQLite's `sqlite3_vtab_cursor` in a cursor's `base` field (empty, like
/// [`sqlite3_vtab`]).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct sqlite3_vtab_cursor {}
