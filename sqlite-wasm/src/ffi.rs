//! SQLite's numeric constants, as the guest uses them.

pub const SQLITE_OK: i32 = 0;
pub const SQLITE_ERROR: i32 = 1;
pub const SQLITE_INTERNAL: i32 = 2;
pub const SQLITE_PERM: i32 = 3;
pub const SQLITE_ABORT: i32 = 4;
pub const SQLITE_BUSY: i32 = 5;
pub const SQLITE_LOCKED: i32 = 6;
pub const SQLITE_NOMEM: i32 = 7;
pub const SQLITE_READONLY: i32 = 8;
pub const SQLITE_INTERRUPT: i32 = 9;
pub const SQLITE_IOERR: i32 = 10;
pub const SQLITE_CORRUPT: i32 = 11;
pub const SQLITE_NOTFOUND: i32 = 12;
pub const SQLITE_FULL: i32 = 13;
pub const SQLITE_CANTOPEN: i32 = 14;
pub const SQLITE_PROTOCOL: i32 = 15;
pub const SQLITE_EMPTY: i32 = 16;
pub const SQLITE_SCHEMA: i32 = 17;
pub const SQLITE_TOOBIG: i32 = 18;
pub const SQLITE_CONSTRAINT: i32 = 19;
pub const SQLITE_MISMATCH: i32 = 20;
pub const SQLITE_MISUSE: i32 = 21;
pub const SQLITE_NOLFS: i32 = 22;
pub const SQLITE_AUTH: i32 = 23;
pub const SQLITE_FORMAT: i32 = 24;
pub const SQLITE_RANGE: i32 = 25;
pub const SQLITE_NOTADB: i32 = 26;
pub const SQLITE_NOTICE: i32 = 27;
pub const SQLITE_WARNING: i32 = 28;
pub const SQLITE_ROW: i32 = 100;
pub const SQLITE_DONE: i32 = 101;

pub const SQLITE_OK_SYMLINK: i32 = SQLITE_OK | (2 << 8);
pub const SQLITE_IOERR_SHORT_READ: i32 = SQLITE_IOERR | (2 << 8);
pub const SQLITE_IOERR_SHMMAP: i32 = SQLITE_IOERR | (21 << 8);

/// Alignment of the guest blocks WAL-index regions are mapped over
/// (`SANDLITE_SHM_ALIGNMENT` of `sandlite_shim.h`): the Wasm page size.
pub const SANDLITE_SHM_ALIGNMENT: u32 = 65536;
pub const SQLITE_READONLY_CANTINIT: i32 = SQLITE_READONLY | (5 << 8);
pub const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = SQLITE_CONSTRAINT | (6 << 8);
pub const SQLITE_CONSTRAINT_UNIQUE: i32 = SQLITE_CONSTRAINT | (8 << 8);

pub const SQLITE_OPEN_READONLY: i32 = 0x0000_0001;
pub const SQLITE_OPEN_READWRITE: i32 = 0x0000_0002;
pub const SQLITE_OPEN_CREATE: i32 = 0x0000_0004;
pub const SQLITE_OPEN_URI: i32 = 0x0000_0040;
pub const SQLITE_OPEN_MEMORY: i32 = 0x0000_0080;
/// `sqlite3_deserialize`: SQLite frees the buffer when the database closes.
pub const SQLITE_DESERIALIZE_FREEONCLOSE: i32 = 1;
/// `sqlite3_deserialize`: SQLite may grow the buffer (with `sqlite3_realloc64`).
pub const SQLITE_DESERIALIZE_RESIZEABLE: i32 = 2;
pub const SQLITE_OPEN_NOMUTEX: i32 = 0x0000_8000;
pub const SQLITE_OPEN_FULLMUTEX: i32 = 0x0001_0000;
pub const SQLITE_OPEN_SHAREDCACHE: i32 = 0x0002_0000;
pub const SQLITE_OPEN_PRIVATECACHE: i32 = 0x0004_0000;
pub const SQLITE_OPEN_NOFOLLOW: i32 = 0x0100_0000;
pub const SQLITE_OPEN_EXRESCODE: i32 = 0x0200_0000;

pub const SQLITE_PREPARE_PERSISTENT: i32 = 0x01;

pub const SQLITE_TRACE_STMT: i32 = 0x01;
pub const SQLITE_TRACE_PROFILE: i32 = 0x02;
pub const SQLITE_TRACE_ROW: i32 = 0x04;
pub const SQLITE_TRACE_CLOSE: i32 = 0x08;

pub const SQLITE_STMTSTATUS_FULLSCAN_STEP: i32 = 1;
pub const SQLITE_STMTSTATUS_SORT: i32 = 2;
pub const SQLITE_STMTSTATUS_AUTOINDEX: i32 = 3;
pub const SQLITE_STMTSTATUS_VM_STEP: i32 = 4;
pub const SQLITE_STMTSTATUS_REPREPARE: i32 = 5;
pub const SQLITE_STMTSTATUS_RUN: i32 = 6;
pub const SQLITE_STMTSTATUS_FILTER_MISS: i32 = 7;
pub const SQLITE_STMTSTATUS_FILTER_HIT: i32 = 8;
pub const SQLITE_STMTSTATUS_MEMUSED: i32 = 99;

pub const SQLITE_INTEGER: i32 = 1;
pub const SQLITE_FLOAT: i32 = 2;
pub const SQLITE_TEXT: i32 = 3;
pub const SQLITE_BLOB: i32 = 4;
pub const SQLITE_NULL: i32 = 5;

pub const SQLITE_UTF8: i32 = 1;
pub const SQLITE_DETERMINISTIC: i32 = 0x0000_0800;
pub const SQLITE_DIRECTONLY: i32 = 0x0008_0000;
pub const SQLITE_INNOCUOUS: i32 = 0x0020_0000;

/// Destructor argument: SQLite copies the buffer.
pub const SQLITE_TRANSIENT: i32 = -1;

pub const SQLITE_INSERT: i32 = 18;
pub const SQLITE_DELETE: i32 = 9;
pub const SQLITE_UPDATE: i32 = 23;

pub const SQLITE_CHECKPOINT_PASSIVE: i32 = 0;
pub const SQLITE_CHECKPOINT_FULL: i32 = 1;
pub const SQLITE_CHECKPOINT_RESTART: i32 = 2;
pub const SQLITE_CHECKPOINT_TRUNCATE: i32 = 3;

pub const SQLITE_LIMIT_LENGTH: i32 = 0;
pub const SQLITE_LIMIT_SQL_LENGTH: i32 = 1;
pub const SQLITE_LIMIT_VARIABLE_NUMBER: i32 = 9;

/// The English text of a primary result code (as `sqlite3_errstr` gives, without
/// entering the guest).
pub fn code_name(code: i32) -> &'static str {
    match code & 0xff {
        SQLITE_OK => "not an error",
        SQLITE_ERROR => "SQL logic error",
        SQLITE_INTERNAL => "internal logic error",
        SQLITE_PERM => "access permission denied",
        SQLITE_ABORT => "query aborted",
        SQLITE_BUSY => "database is locked",
        SQLITE_LOCKED => "database table is locked",
        SQLITE_NOMEM => "out of memory",
        SQLITE_READONLY => "attempt to write a readonly database",
        SQLITE_INTERRUPT => "interrupted",
        SQLITE_IOERR => "disk I/O error",
        SQLITE_CORRUPT => "database disk image is malformed",
        SQLITE_NOTFOUND => "unknown operation",
        SQLITE_FULL => "database or disk is full",
        SQLITE_CANTOPEN => "unable to open database file",
        SQLITE_PROTOCOL => "locking protocol",
        SQLITE_SCHEMA => "database schema has changed",
        SQLITE_TOOBIG => "string or blob too big",
        SQLITE_CONSTRAINT => "constraint failed",
        SQLITE_MISMATCH => "datatype mismatch",
        SQLITE_MISUSE => "bad parameter or other API misuse",
        SQLITE_AUTH => "authorization denied",
        SQLITE_RANGE => "column index out of range",
        SQLITE_NOTADB => "file is not a database",
        SQLITE_ROW => "another row available",
        SQLITE_DONE => "no more rows available",
        _ => "unknown error",
    }
}
