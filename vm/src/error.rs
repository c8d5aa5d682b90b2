//! Errors and traps.
//!
//! Every failure of the VM is a value: a malformed or invalid module names the byte
//! offset, a link error names the import, a trap names its kind and, when known, the
//! function it happened in.

use std::fmt;

/// A VM error: one word, so `Result<T, Error>` stays small on hot paths.
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not a well-formed WebAssembly binary (spec: "malformed").
    #[error("malformed module: {message} (at offset {offset:#x})")]
    Malformed { offset: usize, message: String },
    /// The module is well formed but does not validate (spec: "invalid").
    #[error("invalid module: {message} (at offset {offset:#x})")]
    Invalid { offset: usize, message: String },
    /// An import could not be satisfied, or a value has the wrong type for its use.
    #[error("link error: {0}")]
    Link(String),
    /// Execution trapped.
    #[error(transparent)]
    Trap(#[from] Trap),
    /// The host could not supply a resource (address space for a memory, ...).
    #[error("resource error: {0}")]
    Resource(String),
    /// The API was used wrongly (a value from another store, a wrong argument count, ...).
    #[error("usage error: {0}")]
    Usage(String),
    /// The chosen engine cannot run this (valid) module, or does not exist on this machine.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl Error {
    pub(crate) fn malformed(offset: usize, message: impl Into<String>) -> Error {
        ErrorKind::Malformed {
            offset,
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn invalid(offset: usize, message: impl Into<String>) -> Error {
        ErrorKind::Invalid {
            offset,
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn link(message: impl Into<String>) -> Error {
        ErrorKind::Link(message.into()).into()
    }

    pub(crate) fn resource(message: impl Into<String>) -> Error {
        ErrorKind::Resource(message.into()).into()
    }

    pub(crate) fn usage(message: impl Into<String>) -> Error {
        ErrorKind::Usage(message.into()).into()
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Error {
        ErrorKind::Unsupported(message.into()).into()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match &*self.0 {
            ErrorKind::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// Takes the trap out, if this error is one.
    pub fn into_trap(self) -> Result<Trap, Error> {
        match *self.0 {
            ErrorKind::Trap(t) => Ok(t),
            other => Err(Error(Box::new(other))),
        }
    }

    /// The error message without the offset decoration (used by spec tests).
    pub fn message(&self) -> String {
        match &*self.0 {
            ErrorKind::Malformed { message, .. } | ErrorKind::Invalid { message, .. } => {
                message.clone()
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

impl From<Trap> for Error {
    fn from(trap: Trap) -> Error {
        ErrorKind::Trap(trap).into()
    }
}

/// Why execution trapped. One byte, shared by every engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` executed.
    Unreachable,
    /// A load, store or bulk memory operation outside the memory.
    MemoryOutOfBounds,
    /// A table access or bulk table operation outside the table.
    TableOutOfBounds,
    /// `call_indirect` with an index outside the table.
    UndefinedElement,
    /// `call_indirect` through a null table entry.
    UninitializedElement,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float-to-int truncation of NaN or of a value out of range.
    InvalidConversionToInteger,
    /// The call stack (depth or value stack) is exhausted.
    StackOverflow,
    /// A null reference was dereferenced.
    NullReference,
    /// The store's interrupt handle stopped the execution.
    Interrupted,
    /// A host function returned an error.
    Host,
}

impl TrapCode {
    /// The spec's message for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::InvalidConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::NullReference => "null reference",
            TrapCode::Interrupted => "interrupted",
            TrapCode::Host => "host error",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

type HostError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A trap: execution stopped and the call returned this instead of results.
#[derive(Debug)]
pub struct Trap {
    code: TrapCode,
    function: Option<String>,
    host: Option<HostError>,
}

impl Trap {
    /// A trap of the given kind.
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            function: None,
            host: None,
        }
    }

    /// A trap raised by a host function, carrying its error (see [`Trap::downcast_ref`]).
    pub fn host(error: impl Into<HostError>) -> Trap {
        Trap {
            code: TrapCode::Host,
            function: None,
            host: Some(error.into()),
        }
    }

    /// A host trap with just a message.
    pub fn host_message(message: impl Into<String>) -> Trap {
        Trap::host(message.into())
    }

    /// The kind of trap.
    pub fn code(&self) -> TrapCode {
        self.code
    }

    /// The function executing when the trap happened (its name from the `name` section, or
    /// `func[N]`), when known.
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// The host error that caused a [`TrapCode::Host`] trap.
    pub fn host_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.host.as_deref()
    }

    /// The host error as a concrete type, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.host.as_ref()?.downcast_ref::<E>()
    }

    /// Takes the host error out.
    pub fn into_host_error(self) -> Option<HostError> {
        self.host
    }

    pub(crate) fn with_function(mut self, name: impl FnOnce() -> String) -> Trap {
        if self.function.is_none() {
            self.function = Some(name());
        }
        self
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Trap {
        Trap::new(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(e) => write!(f, "{}: {e}", self.code)?,
            None => write!(f, "{}", self.code)?,
        }
        if let Some(func) = &self.function {
            write!(f, " (in {func})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.host
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `Result` with the VM's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_word() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn error_is_send_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
        check::<Trap>();
    }

    #[test]
    fn host_trap_downcasts() {
        #[derive(Debug, thiserror::Error)]
        #[error("exit {0}")]
        struct Exit(i32);
        let trap = Trap::host(Exit(3));
        assert_eq!(trap.code(), TrapCode::Host);
        assert_eq!(trap.downcast_ref::<Exit>().map(|e| e.0), Some(3));
        assert_eq!(trap.to_string(), "host error: exit 3");
    }
}
