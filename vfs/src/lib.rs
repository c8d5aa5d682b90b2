//! Sandlite's SQLite VFS, in plain Rust.
//!
//! This crate implements the operating-system layer SQLite needs — the methods of
//! [`sqlite3_vfs`](https://www.sqlite.org/c3ref/vfs.html) and
//! [`sqlite3_io_methods`](https://www.sqlite.org/c3ref/io_methods.html) — on paths, byte
//! slices and offsets. It knows nothing of WebAssembly: `sandlite-sqlite-wasm` exposes it
//! to SQLite compiled to Wasm, whose C shim calls one host function per VFS method.
//!
//! | SQLite method | here |
//! |---|---|
//! | `xOpen`, `xDelete`, `xAccess`, `xFullPathname` | [`Vfs::open`], [`Vfs::delete`], [`Vfs::access`], [`Vfs::full_pathname`] |
//! | `xRandomness`, `xSleep`, `xCurrentTimeInt64` | [`Vfs::randomness`], [`Vfs::sleep`], [`Vfs::current_time_ms`] |
//! | `xRead`, `xWrite`, `xTruncate`, `xSync`, `xFileSize` | [`VfsFile::read`], [`VfsFile::write`], [`VfsFile::truncate`], [`VfsFile::sync`], [`VfsFile::file_size`] |
//! | `xLock`, `xUnlock`, `xCheckReservedLock` | [`VfsFile::lock`], [`VfsFile::unlock`], [`VfsFile::check_reserved_lock`] |
//! | `xFileControl`, `xSectorSize`, `xDeviceCharacteristics` | [`VfsFile::file_control`], [`VfsFile::sector_size`], [`VfsFile::device_characteristics`] |
//! | `xShmMap`, `xShmLock`, `xShmBarrier`, `xShmUnmap` | [`VfsFile::shm_map`], [`VfsFile::shm_lock`], [`VfsFile::shm_barrier`], [`VfsFile::shm_unmap`] |
//! | `xClose` | [`VfsFile::close`] (or drop) |
//!
//! Errors are [`VfsError`]s carrying the SQLite result code ([`codes`]) and a message.
//!
//! Platform: Linux 5.8 or later (`faccessat2`, open-file-description locks), on any
//! architecture (CI: x86-64 and aarch64). Where `openat2` (5.6) answers `ENOSYS`, as
//! under `qemu-user` before 9.1, lookups take the same walk in user space (`beneath`).
//!
//! # The sandbox
//!
//! A disk [`Vfs`] has a root directory; every file it touches — database, `-journal`,
//! `-wal`, `-shm`, super-journals, ATTACH targets, temporary files — is inside it. Each
//! lookup starts at the root's directory descriptor and uses Linux `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so `..` past the root, absolute paths
//! elsewhere and symbolic links that lead out (even ones swapped in concurrently) fail
//! with `SQLITE_CANTOPEN` and a message naming the reason. Symbolic links inside the
//! root work if they are relative and stay inside.
//!
//! What no path resolution can see is a *hard link*: a name inside the root for a file
//! that also has a name outside it. So a database, journal, WAL or `-shm` file whose link
//! count is above 1 is refused too (`SQLITE_CANTOPEN`, checked on the opened descriptor,
//! so no race changes the answer), unless [`SandboxOptions::allow_hard_links`] says
//! otherwise ([`Vfs::with_options`]). The sandbox does not defend against whoever can
//! write the root directory itself: they decide what its files contain.
//!
//! **Path names** are host paths. Relative names are relative to the root (not to the
//! process's working directory). Absolute names must lie inside the root.
//! [`Vfs::full_pathname`] returns the canonical absolute host path (root resolved,
//! `.`/`..` and in-root symlinks resolved), e.g. `/srv/data/sub/demo.db` for `sub/demo.db`
//! under root `/srv/data`. SQLite appends `-journal`, `-wal` and `-shm` to it, and those
//! names resolve into the same root. Host paths (rather than names relative to the root)
//! keep names written into journals — super-journal names — meaningful to every
//! process, a native `sqlite3` included, whatever root each one uses.
//!
//! # Locks
//!
//! Database locks follow SQLite's unix VFS byte for byte (see [`LockLevel`]) using Linux
//! open-file-description locks, which belong to the opened file rather than to the
//! process: two connections of one process exclude each other, and so do other
//! processes, including a native `sqlite3` using classic POSIX locks. WAL shared memory
//! uses the same kind of locks on the `-shm` file at the unix VFS offsets, with its
//! dead-man-switch protocol.
//!
//! # memdb
//!
//! [`Vfs::memory`] gives a process-wide in-memory namespace by name, shared by every
//! `Vfs` of that name (so a connection pool sees one database), with the same locking
//! protocol emulated in process. memdb files have no WAL shared memory.
//!
//! # Example
//!
//! ```
//! use sandlite_vfs::{LockLevel, OpenFlags, ReadOutcome, Vfs};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("sandlite-vfs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let vfs = Vfs::new(&dir)?;
//!
//! // What SQLite does: canonicalise the name, then open it.
//! let name = vfs.full_pathname("demo.db")?.path;
//! let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_DB;
//! let mut db = vfs.open(Some(&name), flags)?;
//! db.lock(LockLevel::Shared)?;
//! db.lock(LockLevel::Reserved)?;
//! db.lock(LockLevel::Exclusive)?;
//! db.write(b"hello", 0)?;
//!
//! let mut buf = [0xffu8; 8];
//! assert_eq!(db.read(&mut buf, 0)?, ReadOutcome::Short { bytes_read: 5 });
//! assert_eq!(&buf, b"hello\0\0\0");
//!
//! // Nothing outside the root can be reached.
//! let err = vfs.open(Some("../escape.db"), flags).unwrap_err();
//! assert_eq!(err.code(), sandlite_vfs::codes::SQLITE_CANTOPEN);
//!
//! db.unlock(LockLevel::None)?;
//! drop(db);
//! vfs.delete(&name, false)?;
//! std::fs::remove_dir(&dir)?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]

mod beneath;
pub mod codes;
mod disk;
mod error;
mod file;
mod flags;
mod lock;
mod mapping;
mod memdb;
mod os;
mod sandbox;
mod shm;
#[doc(hidden)]
pub mod sys;
mod vfs;

pub use error::VfsError;
pub use file::{FileControlOutcome, ReadOutcome, SECTOR_SIZE, VfsFile};
pub use flags::{AccessCheck, OpenFlags, ShmLockFlags, SyncFlags};
pub use lock::LockLevel;
pub use mapping::ShmMapping;
pub use os::UNIX_EPOCH_JULIAN_MS;
pub use sandbox::{MAX_PATHNAME, SandboxOptions};
pub use shm::{MAX_SHM_PAGE_SIZE, SHM_PAGE_SIZE_VAR, ShmRegion, shm_page_size};
pub use vfs::{FullPathname, Vfs};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Vfs>();
        send_sync::<VfsFile>();
        send_sync::<VfsError>();
        send_sync::<ShmMapping>();
    }
}
