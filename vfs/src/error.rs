//! The error type of every fallible VFS operation.
#![forbid(unsafe_code)]

use std::io;

use crate::codes;

/// A failed VFS operation: the SQLite result code to hand back to SQLite and a message
/// saying what went wrong.
///
/// The code is a primary or extended result code from [`codes`] (for example
/// [`codes::SQLITE_CANTOPEN`] for a path outside the sandbox, [`codes::SQLITE_BUSY`] for a
/// lock conflict, [`codes::SQLITE_FULL`] for a full disk).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VfsError {
    code: i32,
    message: String,
    os_error: Option<i32>,
}

impl VfsError {
    /// An error with the given SQLite result code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            os_error: None,
        }
    }

    /// An error caused by an operating-system error; the message is `context: error`.
    pub(crate) fn os(code: i32, context: impl std::fmt::Display, err: &io::Error) -> Self {
        Self {
            code,
            message: format!("{context}: {err}"),
            os_error: err.raw_os_error(),
        }
    }

    /// The lock conflict error (`SQLITE_BUSY`).
    pub(crate) fn busy(what: impl std::fmt::Display) -> Self {
        Self::new(
            codes::SQLITE_BUSY,
            format!("{what}: locked by another connection"),
        )
    }

    /// The SQLite result code (primary or extended) for this error.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The primary result code: the low 8 bits of [`code`](Self::code).
    pub fn primary_code(&self) -> i32 {
        self.code & 0xff
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The OS error number behind this error, if one was involved.
    pub fn os_error(&self) -> Option<i32> {
        self.os_error
    }

    /// True for a lock conflict (`SQLITE_BUSY`), which SQLite retries rather than reports.
    pub fn is_busy(&self) -> bool {
        self.primary_code() == codes::SQLITE_BUSY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_code_strips_the_extension() {
        let err = VfsError::new(codes::SQLITE_IOERR_SHORT_READ, "short");
        assert_eq!(err.code(), 522);
        assert_eq!(err.primary_code(), codes::SQLITE_IOERR);
        assert!(!err.is_busy());
        assert!(VfsError::busy("x").is_busy());
    }

    #[test]
    fn os_errors_keep_errno_and_context() {
        let io = io::Error::from_raw_os_error(libc::ENOSPC);
        let err = VfsError::os(codes::SQLITE_FULL, "write demo.db", &io);
        assert_eq!(err.os_error(), Some(libc::ENOSPC));
        assert!(err.to_string().starts_with("write demo.db: "), "{err}");
    }
}
