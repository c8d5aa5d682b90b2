//! The driver's error type.

use crate::ffi::{self, ErrorCode};
use crate::types::Type;
use std::path::PathBuf;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong: rusqlite's `Error`, variant for variant where rusqlite
/// has one, plus what the sandbox adds ([`Error::Trap`], [`Error::Broken`],
/// [`Error::Load`], [`Error::ReentrantUse`], [`Error::Misuse`]). `Send + Sync + 'static`,
/// so it crosses threads and fits in `Box<dyn Error>`.
///
/// ```
/// use sandlite_driver::{Connection, Error, ErrorCode, ffi};
/// let conn = Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY)")?;
/// conn.execute("INSERT INTO t VALUES (1)", [])?;
/// match conn.execute("INSERT INTO t VALUES (1)", []) {
///     Err(Error::SqliteFailure(ffi::Error { code: ErrorCode::ConstraintViolation, extended_code }, _)) => {
///         assert_eq!(extended_code, ffi::SQLITE_CONSTRAINT_PRIMARYKEY);
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error: its code and its message (`None` when SQLite gave only
    /// the code).
    #[error("{}", match .1 { Some(m) => m.clone(), None => .0.to_string() })]
    SqliteFailure(ffi::Error, Option<String>),
    /// A value does not convert to the requested Rust type (column index, the value's
    /// type, the reason).
    #[error("Conversion error from type {1} at index: {0}, {2}")]
    FromSqlConversionFailure(usize, Type, #[source] BoxError),
    /// An integer does not fit the requested Rust integer type (column index, value).
    #[error("Integer {1} out of range at index {0}")]
    IntegralValueOutOfRange(usize, i64),
    /// Text that is not valid UTF-8 where a `&str` was asked for.
    #[error(transparent)]
    Utf8Error(#[from] std::str::Utf8Error),
    /// A string with an interior NUL byte where SQLite needs a C string.
    #[error("string contains a NUL byte")]
    NulError,
    /// A named parameter that the statement does not have.
    #[error("Invalid parameter name: {0}")]
    InvalidParameterName(String),
    /// A path that cannot be used (not UTF-8).
    #[error("Invalid path: {}", .0.display())]
    InvalidPath(PathBuf),
    /// `execute` was given a statement that returns rows.
    #[error("Execute returned results - did you mean to call query?")]
    ExecuteReturnedResults,
    /// `query_row` (or `query_one`) found no row.
    #[error("Query returned no rows")]
    QueryReturnedNoRows,
    /// `query_one` found more than one row.
    #[error("Query returned more than one row")]
    QueryReturnedMoreThanOneRow,
    /// A column index past the last column.
    #[error("Invalid column index: {0}")]
    InvalidColumnIndex(usize),
    /// No column has this name.
    #[error("Invalid column name: {0}")]
    InvalidColumnName(String),
    /// The value in a column cannot become the requested Rust type (index, column name,
    /// the value's type).
    #[error("Invalid column type {2} at index: {0}, name: {1}")]
    InvalidColumnType(usize, String, Type),
    /// `Statement::insert` changed this many rows instead of one.
    #[error("Query changed {0} rows")]
    StatementChangedRows(usize),
    /// A user function's argument cannot become the requested Rust type (argument index,
    /// the value's type).
    #[error("Invalid function parameter type {1} at index {0}")]
    InvalidFunctionParameterType(usize, Type),
    /// A user function returned an error.
    #[error(transparent)]
    UserFunctionError(BoxError),
    /// A virtual-table argument (`Values::get` in `xFilter`) cannot become the requested
    /// Rust type (argument index, the value's type).
    #[error("Invalid filter parameter type {1} at index {0}")]
    InvalidFilterParameterType(usize, Type),
    /// An error of a virtual-table module, reported to SQLite with this message.
    #[error("{0}")]
    ModuleError(String),
    /// `Context::get_aux` found auxiliary data of another type.
    #[error("get_aux called with wrong type")]
    GetAuxWrongType,
    /// A `ToSql` implementation failed.
    #[error(transparent)]
    ToSqlConversionFailure(BoxError),
    /// The SQL is not a query where one was required.
    #[error("Query is not read-only")]
    InvalidQuery,
    /// More than one statement where only one is allowed.
    #[error("Multiple statements provided")]
    MultipleStatement,
    /// The number of parameters given does not match the statement (given, expected).
    #[error("Wrong number of parameters passed to query. Got {0}, needed {1}")]
    InvalidParameterCount(usize, usize),
    /// SQLite could not compile the SQL: the error, SQLite's message, the SQL and the
    /// byte offset in it that the error refers to.
    #[error("{msg} in {sql} at offset {offset}")]
    SqlInputError {
        /// The error code.
        error: ffi::Error,
        /// SQLite's message.
        msg: String,
        /// The SQL text.
        sql: String,
        /// Byte offset in `sql`.
        offset: i32,
    },
    /// An attached database index that does not exist.
    #[error("Invalid database index: {0}")]
    InvalidDatabaseIndex(usize),
    /// The VM trapped while running SQLite; the connection is broken (see
    /// [`Connection::is_broken`](crate::Connection::is_broken)). Sandlite only.
    #[error("SQLite trapped inside the sandbox: {0}")]
    Trap(#[source] sandlite_vm::Trap),
    /// The SQLite module could not be loaded. Sandlite only.
    #[error("cannot load SQLite: {0}")]
    Load(String),
    /// An earlier trap broke this connection; open a new one. Sandlite only.
    #[error("connection broken by an earlier trap: {0}")]
    Broken(String),
    /// The connection was used from a callback it is running (a user function or hook
    /// calling back into the same connection). Sandlite only.
    #[error("connection is busy running a statement; it cannot be used from its own callbacks")]
    ReentrantUse,
    /// Any other misuse of the API, with an explanation. Sandlite only.
    #[error("{0}")]
    Misuse(String),
}

impl PartialEq for Error {
    /// As rusqlite: equal variants with equal data; errors carrying a boxed error
    /// compare only their other fields (`ToSqlConversionFailure` and
    /// `UserFunctionError` are never equal).
    fn eq(&self, other: &Error) -> bool {
        use Error as E;
        match (self, other) {
            (E::SqliteFailure(a, m), E::SqliteFailure(b, n)) => a == b && m == n,
            (E::FromSqlConversionFailure(i, t, _), E::FromSqlConversionFailure(j, u, _)) => {
                i == j && t == u
            }
            (E::IntegralValueOutOfRange(i, v), E::IntegralValueOutOfRange(j, w)) => {
                i == j && v == w
            }
            (E::Utf8Error(a), E::Utf8Error(b)) => a == b,
            (E::NulError, E::NulError)
            | (E::ExecuteReturnedResults, E::ExecuteReturnedResults)
            | (E::QueryReturnedNoRows, E::QueryReturnedNoRows)
            | (E::QueryReturnedMoreThanOneRow, E::QueryReturnedMoreThanOneRow)
            | (E::InvalidQuery, E::InvalidQuery)
            | (E::MultipleStatement, E::MultipleStatement)
            | (E::ReentrantUse, E::ReentrantUse)
            | (E::GetAuxWrongType, E::GetAuxWrongType) => true,
            (E::InvalidParameterName(a), E::InvalidParameterName(b))
            | (E::InvalidColumnName(a), E::InvalidColumnName(b))
            | (E::Load(a), E::Load(b))
            | (E::Broken(a), E::Broken(b))
            | (E::Misuse(a), E::Misuse(b))
            | (E::ModuleError(a), E::ModuleError(b)) => a == b,
            (E::InvalidPath(a), E::InvalidPath(b)) => a == b,
            (E::InvalidColumnIndex(a), E::InvalidColumnIndex(b))
            | (E::StatementChangedRows(a), E::StatementChangedRows(b))
            | (E::InvalidDatabaseIndex(a), E::InvalidDatabaseIndex(b)) => a == b,
            (E::InvalidColumnType(i, n, t), E::InvalidColumnType(j, m, u)) => {
                i == j && n == m && t == u
            }
            (E::InvalidFunctionParameterType(i, t), E::InvalidFunctionParameterType(j, u))
            | (E::InvalidFilterParameterType(i, t), E::InvalidFilterParameterType(j, u)) => {
                i == j && t == u
            }
            (E::InvalidParameterCount(a, b), E::InvalidParameterCount(c, d)) => a == c && b == d,
            (
                E::SqlInputError {
                    error: e1,
                    msg: m1,
                    sql: s1,
                    offset: o1,
                },
                E::SqlInputError {
                    error: e2,
                    msg: m2,
                    sql: s2,
                    offset: o2,
                },
            ) => e1 == e2 && m1 == m2 && s1 == s2 && o1 == o2,
            (E::Trap(a), E::Trap(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Error {
    /// SQLite's error (code and extended code), for errors SQLite reported.
    pub fn sqlite_error(&self) -> Option<&ffi::Error> {
        match self {
            Error::SqliteFailure(e, _) | Error::SqlInputError { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// SQLite's error code, for errors SQLite reported.
    pub fn sqlite_error_code(&self) -> Option<ErrorCode> {
        self.sqlite_error().map(|e| e.code)
    }

    /// The primary SQLite result code (`SQLITE_BUSY`, ...), for errors SQLite reported.
    pub fn sqlite_code(&self) -> Option<i32> {
        self.sqlite_error().map(|e| e.extended_code & 0xff)
    }

    /// The extended SQLite result code, for errors SQLite reported.
    pub fn extended_code(&self) -> Option<i32> {
        self.sqlite_error().map(|e| e.extended_code)
    }

    /// SQLite's own message, without the SQL or offset (for errors SQLite reported).
    pub fn sqlite_message(&self) -> Option<&str> {
        match self {
            Error::SqliteFailure(_, m) => m.as_deref(),
            Error::SqlInputError { msg, .. } => Some(msg),
            _ => None,
        }
    }

    /// The byte offset in the SQL text the error refers to, when known.
    pub fn sql_offset(&self) -> Option<usize> {
        match self {
            Error::SqlInputError { offset, .. } => usize::try_from(*offset).ok(),
            _ => None,
        }
    }

    /// `SQLITE_BUSY` (the database is locked by another connection).
    pub fn is_busy(&self) -> bool {
        self.sqlite_code() == Some(ffi::SQLITE_BUSY)
    }

    /// Any constraint violation (`SQLITE_CONSTRAINT`).
    pub fn is_constraint(&self) -> bool {
        self.sqlite_code() == Some(ffi::SQLITE_CONSTRAINT)
    }

    /// A UNIQUE or PRIMARY KEY constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self.extended_code(),
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        )
    }

    /// The statement was interrupted (`SQLITE_INTERRUPT`).
    pub fn is_interrupt(&self) -> bool {
        self.sqlite_code() == Some(ffi::SQLITE_INTERRUPT)
    }

    pub(crate) fn from_code(code: i32) -> Error {
        Error::SqliteFailure(ffi::Error::new(code), None)
    }

    /// An SQLite error with the extended `code` and `message`.
    pub(crate) fn sqlite(code: i32, message: impl Into<String>) -> Error {
        Error::SqliteFailure(ffi::Error::new(code), Some(message.into()))
    }

    /// Converts a binding error from compiling or running `sql`: an error with an
    /// offset becomes [`Error::SqlInputError`], the offset moved by `shift` (the
    /// position in `sql` of the statement that failed).
    pub(crate) fn in_sql(e: sandlite_sqlite_wasm::Error, sql: &str, shift: usize) -> Error {
        match e {
            sandlite_sqlite_wasm::Error::Sqlite {
                code,
                message,
                offset: Some(offset),
            } => Error::SqlInputError {
                error: ffi::Error::new(code),
                msg: message,
                sql: sql.to_owned(),
                offset: i32::try_from(offset + shift).unwrap_or(i32::MAX),
            },
            other => other.into(),
        }
    }
}

/// The column index of an [`Error`] converted from a bare [`FromSqlError`], which
/// knows no column (`usize::MAX`, as rusqlite uses).
pub const UNKNOWN_COLUMN: usize = usize::MAX;

/// As in rusqlite, so that `value.as_i64()?` works in code returning [`Result`] (a
/// virtual table's `delete`, a function's `Context::get_raw(..).as_str()?`). The column
/// is [`UNKNOWN_COLUMN`]; an out-of-range integer keeps its value, a wrong blob size is
/// reported as a blob, anything else as of unknown type ([`Type::Null`]).
impl From<crate::types::FromSqlError> for Error {
    #[cold]
    fn from(err: crate::types::FromSqlError) -> Error {
        use crate::types::FromSqlError as F;
        match err {
            F::OutOfRange(value) => Error::IntegralValueOutOfRange(UNKNOWN_COLUMN, value),
            F::InvalidBlobSize { .. } => {
                Error::FromSqlConversionFailure(UNKNOWN_COLUMN, Type::Blob, Box::new(err))
            }
            F::Other(source) => Error::FromSqlConversionFailure(UNKNOWN_COLUMN, Type::Null, source),
            F::InvalidType => {
                Error::FromSqlConversionFailure(UNKNOWN_COLUMN, Type::Null, Box::new(err))
            }
        }
    }
}

impl From<sandlite_sqlite_wasm::Error> for Error {
    fn from(e: sandlite_sqlite_wasm::Error) -> Error {
        use sandlite_sqlite_wasm::Error as E;
        match e {
            E::Sqlite { code, message, .. } => Error::sqlite(code, message),
            E::Trap(t) => Error::Trap(t),
            E::Load(e) => Error::Load(e.to_string()),
            E::Broken(why) => Error::Broken(why),
            E::Misuse(m) => {
                if m.contains("NUL") {
                    Error::NulError
                } else {
                    Error::Misuse(m)
                }
            }
            other => Error::Misuse(other.to_string()),
        }
    }
}

/// `Result` with the driver's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns "no rows" into `None`: `conn.query_row(...).optional()`.
pub trait OptionalExtension<T> {
    /// `Ok(Some(v))` for a row, `Ok(None)` for [`Error::QueryReturnedNoRows`], other
    /// errors unchanged.
    ///
    /// # Errors
    /// Any error but "no rows".
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<Error>();
    }

    #[test]
    fn helpers_classify_codes() {
        let unique = Error::from_code(ffi::SQLITE_CONSTRAINT_UNIQUE);
        assert!(unique.is_constraint() && unique.is_unique_violation() && !unique.is_busy());
        assert_eq!(
            unique.sqlite_error_code(),
            Some(ErrorCode::ConstraintViolation)
        );
        assert_eq!(unique.to_string(), "Error code 2067: constraint failed");
        assert!(Error::from_code(ffi::SQLITE_BUSY).is_busy());
        let e = Error::SqlInputError {
            error: ffi::Error::new(ffi::SQLITE_ERROR),
            msg: "near \"SELEC\": syntax error".into(),
            sql: "SELEC 1".into(),
            offset: 0,
        };
        assert_eq!(
            e.to_string(),
            "near \"SELEC\": syntax error in SELEC 1 at offset 0"
        );
        assert_eq!(e.sql_offset(), Some(0));
        assert_eq!(e.sqlite_error_code(), Some(ErrorCode::Unknown));
        let r: Result<i32> = Err(Error::QueryReturnedNoRows);
        assert_eq!(r.optional().unwrap(), None);
    }

    #[test]
    fn errors_compare_like_rusqlite() {
        assert_eq!(Error::from_code(5), Error::from_code(5));
        assert_ne!(Error::from_code(5), Error::sqlite(5, "database is locked"));
        assert_eq!(Error::InvalidColumnIndex(3), Error::InvalidColumnIndex(3));
        let boxed = || Error::ToSqlConversionFailure("x".into());
        assert_ne!(boxed(), boxed());
        assert_eq!(
            Error::FromSqlConversionFailure(1, Type::Text, "a".into()),
            Error::FromSqlConversionFailure(1, Type::Text, "b".into())
        );
    }
}
