//! The driver's error type.

use crate::types::Type;
use sandlite_sqlite_wasm::ffi;
use std::path::PathBuf;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong. `Send + Sync + 'static`, so it crosses threads and
/// fits in `Box<dyn Error>`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite reported an error.
    #[error("{}", sqlite_message(.message, .offset))]
    Sqlite {
        /// The primary result code (`code & 0xff` of the extended one).
        code: i32,
        /// The extended result code (e.g. `SQLITE_CONSTRAINT_UNIQUE`, 2067).
        extended_code: i32,
        /// SQLite's message, with the VFS's reason appended where there is one.
        message: String,
        /// Byte offset in the SQL text the error refers to, when SQLite knows it.
        offset: Option<usize>,
    },
    /// The VM trapped while running SQLite; the connection is broken (see
    /// [`Connection::is_broken`](crate::Connection::is_broken)).
    #[error("SQLite trapped inside the sandbox: {0}")]
    Trap(#[source] sandlite_vm::Trap),
    /// The SQLite module could not be loaded.
    #[error("cannot load SQLite: {0}")]
    Load(String),
    /// An earlier trap broke this connection; open a new one.
    #[error("connection broken by an earlier trap: {0}")]
    Broken(String),
    /// `query_row` found no row.
    #[error("query returned no rows")]
    QueryReturnedNoRows,
    /// A column index past the last column.
    #[error("invalid column index: {0}")]
    InvalidColumnIndex(usize),
    /// No column has this name.
    #[error("invalid column name: {0}")]
    InvalidColumnName(String),
    /// The value in a column cannot become the requested Rust type.
    #[error("invalid column type {found} at index {index} ({name}): {message}")]
    InvalidColumnType {
        index: usize,
        name: String,
        found: Type,
        message: String,
    },
    /// An integer does not fit the requested Rust integer type.
    #[error("integer {value} at column {index} is out of range for the requested type")]
    IntegralValueOutOfRange { index: usize, value: i64 },
    /// A `FromSql` implementation failed.
    #[error("conversion failed at column {index} ({found}): {source}")]
    FromSqlConversionFailure {
        index: usize,
        found: Type,
        #[source]
        source: BoxError,
    },
    /// A `ToSql` implementation failed.
    #[error("parameter conversion failed: {0}")]
    ToSqlConversionFailure(#[source] BoxError),
    /// The number of parameters given does not match the statement.
    #[error("wrong number of parameters: {given} given, {expected} expected")]
    InvalidParameterCount { given: usize, expected: usize },
    /// A named parameter that the statement does not have.
    #[error("invalid parameter name: {0}")]
    InvalidParameterName(String),
    /// `execute` was given a statement that returns rows.
    #[error("execute returned results: use query instead")]
    ExecuteReturnedResults,
    /// More than one statement where only one is allowed.
    #[error("multiple statements provided")]
    MultipleStatement,
    /// A string with an interior NUL byte where SQLite needs a C string.
    #[error("string contains a NUL byte")]
    NulError,
    /// A user function returned an error.
    #[error("user function error: {0}")]
    UserFunctionError(#[source] BoxError),
    /// A path that cannot be used (not UTF-8, no file name, ...).
    #[error("invalid path {0}: {1}")]
    InvalidPath(PathBuf, String),
    /// The connection was used from a callback it is running (a user function or hook
    /// calling back into the same connection).
    #[error("connection is busy running a statement; it cannot be used from its own callbacks")]
    ReentrantUse,
    /// Any other misuse of the API, with an explanation.
    #[error("{0}")]
    Misuse(String),
}

fn sqlite_message(message: &str, offset: &Option<usize>) -> String {
    match offset {
        Some(o) => format!("{message} (at offset {o})"),
        None => message.to_owned(),
    }
}

impl Error {
    /// The primary SQLite result code, for SQLite errors.
    pub fn sqlite_code(&self) -> Option<i32> {
        match self {
            Error::Sqlite { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The extended SQLite result code, for SQLite errors.
    pub fn extended_code(&self) -> Option<i32> {
        match self {
            Error::Sqlite { extended_code, .. } => Some(*extended_code),
            _ => None,
        }
    }

    /// The byte offset in the SQL text the error refers to, when known.
    pub fn sql_offset(&self) -> Option<usize> {
        match self {
            Error::Sqlite { offset, .. } => *offset,
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
        Error::Sqlite {
            code: code & 0xff,
            extended_code: code,
            message: ffi::code_name(code).to_owned(),
            offset: None,
        }
    }
}

impl From<sandlite_sqlite_wasm::Error> for Error {
    fn from(e: sandlite_sqlite_wasm::Error) -> Error {
        use sandlite_sqlite_wasm::Error as E;
        match e {
            E::Sqlite {
                code,
                message,
                offset,
            } => Error::Sqlite {
                code: code & 0xff,
                extended_code: code,
                message,
                offset,
            },
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
        assert!(Error::from_code(ffi::SQLITE_BUSY).is_busy());
        let e = Error::Sqlite {
            code: 1,
            extended_code: 1,
            message: "near \"SELEC\": syntax error".into(),
            offset: Some(0),
        };
        assert_eq!(e.to_string(), "near \"SELEC\": syntax error (at offset 0)");
        let r: Result<i32> = Err(Error::QueryReturnedNoRows);
        assert_eq!(r.optional().unwrap(), None);
    }
}
