//! Errors of the binding.

use crate::ffi;

/// A failure of SQLite or of the VM running it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite returned an error code.
    #[error("{message}")]
    Sqlite {
        /// The extended result code (the primary code is `code & 0xff`).
        code: i32,
        /// SQLite's message, with the VFS's reason appended where it has one.
        message: String,
        /// Byte offset in the SQL text the error refers to, when SQLite knows it.
        offset: Option<usize>,
    },
    /// The VM trapped while running SQLite: the instance is unusable from now on.
    #[error("SQLite trapped inside the sandbox: {0}")]
    Trap(#[source] sandlite_vm::Trap),
    /// `sqlite3.wasm` could not be compiled or instantiated.
    #[error("cannot load sqlite3.wasm: {0}")]
    Load(#[source] sandlite_vm::Error),
    /// An earlier trap left this instance unusable.
    #[error("the connection is broken by an earlier trap: {0}")]
    Broken(String),
    /// A wrong argument from the host side (a string with an interior NUL, ...).
    #[error("{0}")]
    Misuse(String),
}

impl Error {
    /// An SQLite error with the standard message for `code`.
    pub fn from_code(code: i32) -> Error {
        Error::Sqlite {
            code,
            message: ffi::code_name(code).to_owned(),
            offset: None,
        }
    }

    /// The extended result code, for SQLite errors.
    pub fn code(&self) -> Option<i32> {
        match self {
            Error::Sqlite { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The primary result code, for SQLite errors.
    pub fn primary_code(&self) -> Option<i32> {
        self.code().map(|c| c & 0xff)
    }
}

impl From<sandlite_vm::Error> for Error {
    fn from(e: sandlite_vm::Error) -> Error {
        match e.into_trap() {
            Ok(trap) => Error::Trap(trap),
            Err(other) => Error::Load(other),
        }
    }
}

/// `Result` with the binding's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
