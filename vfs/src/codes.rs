//! SQLite result codes and the other integer constants of the VFS contract.
//!
//! Values are those of `sqlite3.h` (SQLite 3.49); see
//! <https://www.sqlite.org/rescode.html> for what each code means. Only the codes a VFS
//! returns are listed. Extended codes combine a primary code with `n << 8`.
#![forbid(unsafe_code)]

/// Successful result.
pub const SQLITE_OK: i32 = 0;
/// Generic error.
pub const SQLITE_ERROR: i32 = 1;
/// Access permission denied.
pub const SQLITE_PERM: i32 = 3;
/// The database file is locked.
pub const SQLITE_BUSY: i32 = 5;
/// A memory allocation failed.
pub const SQLITE_NOMEM: i32 = 7;
/// Attempt to write a read-only database.
pub const SQLITE_READONLY: i32 = 8;
/// Some kind of disk I/O error occurred.
pub const SQLITE_IOERR: i32 = 10;
/// Unknown opcode in `sqlite3_file_control()`.
pub const SQLITE_NOTFOUND: i32 = 12;
/// The disk (or the in-memory store) is full.
pub const SQLITE_FULL: i32 = 13;
/// Unable to open the database file.
pub const SQLITE_CANTOPEN: i32 = 14;
/// Library used incorrectly.
pub const SQLITE_MISUSE: i32 = 21;

const fn extended(primary: i32, n: i32) -> i32 {
    primary | (n << 8)
}

/// `pread` failed.
pub const SQLITE_IOERR_READ: i32 = extended(SQLITE_IOERR, 1);
/// A read reached the end of the file; the rest of the buffer was zero-filled.
pub const SQLITE_IOERR_SHORT_READ: i32 = extended(SQLITE_IOERR, 2);
/// `pwrite` failed.
pub const SQLITE_IOERR_WRITE: i32 = extended(SQLITE_IOERR, 3);
/// `fsync`/`fdatasync` failed.
pub const SQLITE_IOERR_FSYNC: i32 = extended(SQLITE_IOERR, 4);
/// Syncing a directory failed.
pub const SQLITE_IOERR_DIR_FSYNC: i32 = extended(SQLITE_IOERR, 5);
/// `ftruncate` failed.
pub const SQLITE_IOERR_TRUNCATE: i32 = extended(SQLITE_IOERR, 6);
/// `fstat` failed.
pub const SQLITE_IOERR_FSTAT: i32 = extended(SQLITE_IOERR, 7);
/// Releasing a lock failed.
pub const SQLITE_IOERR_UNLOCK: i32 = extended(SQLITE_IOERR, 8);
/// Downgrading to a read lock failed.
pub const SQLITE_IOERR_RDLOCK: i32 = extended(SQLITE_IOERR, 9);
/// Deleting a file failed.
pub const SQLITE_IOERR_DELETE: i32 = extended(SQLITE_IOERR, 10);
/// Out of memory inside an I/O operation.
pub const SQLITE_IOERR_NOMEM: i32 = extended(SQLITE_IOERR, 12);
/// Checking access to a file failed.
pub const SQLITE_IOERR_ACCESS: i32 = extended(SQLITE_IOERR, 13);
/// Probing the reserved lock failed.
pub const SQLITE_IOERR_CHECKRESERVEDLOCK: i32 = extended(SQLITE_IOERR, 14);
/// Taking a lock failed for a reason other than a conflict.
pub const SQLITE_IOERR_LOCK: i32 = extended(SQLITE_IOERR, 15);
/// Closing a file failed.
pub const SQLITE_IOERR_CLOSE: i32 = extended(SQLITE_IOERR, 16);
/// Opening the `-shm` file failed.
pub const SQLITE_IOERR_SHMOPEN: i32 = extended(SQLITE_IOERR, 18);
/// Growing the `-shm` file failed.
pub const SQLITE_IOERR_SHMSIZE: i32 = extended(SQLITE_IOERR, 19);
/// A shared-memory lock operation failed (not a conflict).
pub const SQLITE_IOERR_SHMLOCK: i32 = extended(SQLITE_IOERR, 20);
/// Describing or mapping a shared-memory region failed.
pub const SQLITE_IOERR_SHMMAP: i32 = extended(SQLITE_IOERR, 21);
/// The file to delete does not exist.
pub const SQLITE_IOERR_DELETE_NOENT: i32 = extended(SQLITE_IOERR, 23);
/// The name of a file is a directory.
pub const SQLITE_CANTOPEN_ISDIR: i32 = extended(SQLITE_CANTOPEN, 2);
/// A full pathname could not be produced.
pub const SQLITE_CANTOPEN_FULLPATH: i32 = extended(SQLITE_CANTOPEN, 3);
/// The path contains a symbolic link and `SQLITE_OPEN_NOFOLLOW` was asked.
pub const SQLITE_CANTOPEN_SYMLINK: i32 = extended(SQLITE_CANTOPEN, 6);
/// A read-only connection could not initialise the `-shm` file.
pub const SQLITE_READONLY_CANTINIT: i32 = extended(SQLITE_READONLY, 5);
/// A journal could not be created because its directory is not writable.
pub const SQLITE_READONLY_DIRECTORY: i32 = extended(SQLITE_READONLY, 6);

/// The byte whose write lock announces a writer waiting for EXCLUSIVE (1 GiB).
pub const PENDING_BYTE: u64 = 0x4000_0000;
/// The byte whose write lock is the RESERVED lock.
pub const RESERVED_BYTE: u64 = PENDING_BYTE + 1;
/// First byte of the range read-locked by SHARED and write-locked by EXCLUSIVE.
pub const SHARED_FIRST: u64 = PENDING_BYTE + 2;
/// Length of the shared range.
pub const SHARED_SIZE: u64 = 510;

/// Number of lock slots of WAL shared memory (`SQLITE_SHM_NLOCK`).
pub const SQLITE_SHM_NLOCK: u32 = 8;
/// Offset in the `-shm` file of the first lock slot (`UNIX_SHM_BASE`, 120).
pub const UNIX_SHM_BASE: u64 = (22 + SQLITE_SHM_NLOCK as u64) * 4;
/// Offset in the `-shm` file of the dead-man-switch byte (`UNIX_SHM_DMS`, 128).
pub const UNIX_SHM_DMS: u64 = UNIX_SHM_BASE + SQLITE_SHM_NLOCK as u64;

/// Writes of any size are atomic.
pub const SQLITE_IOCAP_ATOMIC: i32 = 0x0000_0001;
/// Appended data reaches the file before the size grows.
pub const SQLITE_IOCAP_SAFE_APPEND: i32 = 0x0000_0200;
/// Writes happen in the order issued.
pub const SQLITE_IOCAP_SEQUENTIAL: i32 = 0x0000_0400;
/// A power loss never changes bytes that were not being written.
pub const SQLITE_IOCAP_POWERSAFE_OVERWRITE: i32 = 0x0000_1000;

/// File control: report the current lock level.
pub const SQLITE_FCNTL_LOCKSTATE: i32 = 1;
/// File control: report the last OS error number.
pub const SQLITE_FCNTL_LAST_ERRNO: i32 = 4;
/// File control: the file is about to grow to this size.
pub const SQLITE_FCNTL_SIZE_HINT: i32 = 5;
/// File control: grow and truncate in multiples of this many bytes.
pub const SQLITE_FCNTL_CHUNK_SIZE: i32 = 6;
/// File control: query or set whether the WAL file persists after the last connection.
pub const SQLITE_FCNTL_PERSIST_WAL: i32 = 10;
/// File control: query or set the powersafe-overwrite property.
pub const SQLITE_FCNTL_POWERSAFE_OVERWRITE: i32 = 13;
/// File control: has the file been renamed or deleted since it was opened?
pub const SQLITE_FCNTL_HAS_MOVED: i32 = 20;
/// File control: does another process hold a WAL read lock?
pub const SQLITE_FCNTL_EXTERNAL_READER: i32 = 40;
