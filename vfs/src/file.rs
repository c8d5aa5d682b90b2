//! [`VfsFile`]: an open file, with the methods of `sqlite3_io_methods`
//! (<https://www.sqlite.org/c3ref/io_methods.html>).
#![forbid(unsafe_code)]

use std::sync::atomic::{Ordering, fence};

use crate::codes::{
    SQLITE_CANTOPEN, SQLITE_FCNTL_CHUNK_SIZE, SQLITE_FCNTL_EXTERNAL_READER, SQLITE_FCNTL_HAS_MOVED,
    SQLITE_FCNTL_LAST_ERRNO, SQLITE_FCNTL_LOCKSTATE, SQLITE_FCNTL_PERSIST_WAL,
    SQLITE_FCNTL_POWERSAFE_OVERWRITE, SQLITE_FCNTL_SIZE_HINT, SQLITE_IOCAP_POWERSAFE_OVERWRITE,
    SQLITE_IOCAP_SAFE_APPEND, SQLITE_IOCAP_SEQUENTIAL, SQLITE_IOERR_SHMLOCK, SQLITE_IOERR_SHMOPEN,
    SQLITE_IOERR_SHORT_READ, SQLITE_OK,
};
use crate::disk::DiskFile;
use crate::error::VfsError;
use crate::flags::{OpenFlags, ShmLockFlags, SyncFlags};
use crate::lock::LockLevel;
use crate::memdb::MemFile;
use crate::shm::ShmRegion;

/// The sector size reported for every file (`xSectorSize`), as the unix VFS does.
pub const SECTOR_SIZE: u32 = 4096;

/// How a read ended (`xRead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The whole buffer was filled from the file (`SQLITE_OK`).
    Complete,
    /// The file ended first: `bytes_read` bytes came from the file and the rest of the
    /// buffer was zero-filled (`SQLITE_IOERR_SHORT_READ`, which SQLite requires).
    Short {
        /// Bytes actually read from the file.
        bytes_read: usize,
    },
}

impl ReadOutcome {
    /// The result code to return to SQLite.
    pub fn code(self) -> i32 {
        match self {
            ReadOutcome::Complete => SQLITE_OK,
            ReadOutcome::Short { .. } => SQLITE_IOERR_SHORT_READ,
        }
    }
}

/// What [`VfsFile::file_control`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileControlOutcome {
    /// Handled; nothing to report back (`SQLITE_OK`).
    Done,
    /// Handled; write this value back through the argument pointer (`SQLITE_OK`). Its
    /// width is that of the opcode's argument (`int` or `sqlite3_int64`).
    Value(i64),
    /// This VFS does not handle the opcode (`SQLITE_NOTFOUND`); SQLite falls back to
    /// its default.
    NotFound,
}

#[derive(Debug)]
enum Inner {
    Disk(DiskFile),
    Memory(MemFile),
}

/// An open file of a [`Vfs`](crate::Vfs): a database, journal, WAL or temporary file,
/// on disk inside the sandbox or in a memdb namespace.
///
/// Dropping the file closes it, which releases its locks and its shared memory;
/// [`close`](Self::close) does the same and reports errors.
#[derive(Debug)]
pub struct VfsFile {
    inner: Inner,
    flags: OpenFlags,
    persist_wal: bool,
    powersafe_overwrite: bool,
}

fn no_shm_for_memdb(name: &str) -> VfsError {
    VfsError::new(
        SQLITE_IOERR_SHMOPEN,
        format!(
            "{name} is a memdb file, which has no WAL shared memory (give it io_methods \
             version 1 so SQLite keeps a rollback journal)"
        ),
    )
}

impl VfsFile {
    pub(crate) fn disk(file: DiskFile, flags: OpenFlags) -> Self {
        Self::wrap(Inner::Disk(file), flags)
    }

    pub(crate) fn memory(file: MemFile, flags: OpenFlags) -> Self {
        Self::wrap(Inner::Memory(file), flags)
    }

    fn wrap(inner: Inner, flags: OpenFlags) -> Self {
        VfsFile {
            inner,
            flags,
            persist_wal: false,
            powersafe_overwrite: true,
        }
    }

    /// The flags the file was actually opened with: the `pOutFlags` of
    /// [`xOpen`](https://www.sqlite.org/c3ref/vfs.html). When a read-write open fell back
    /// to read-only, `READWRITE` and `CREATE` are replaced by `READONLY`.
    pub fn open_flags(&self) -> OpenFlags {
        self.flags
    }

    /// The file's name: its host path (disk) or namespace path (memdb).
    pub fn name(&self) -> &str {
        match &self.inner {
            Inner::Disk(f) => f.name(),
            Inner::Memory(f) => f.name(),
        }
    }

    /// True if the file lives in a memdb namespace.
    pub fn is_memory(&self) -> bool {
        matches!(self.inner, Inner::Memory(_))
    }

    /// Close the file: release locks and shared memory
    /// ([`xClose`](https://www.sqlite.org/c3ref/io_methods.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_UNLOCK` if releasing the locks failed; the file is closed anyway.
    pub fn close(mut self) -> Result<(), VfsError> {
        self.shm_unmap(false);
        self.unlock(LockLevel::None)
    }

    /// Read `buf.len()` bytes at `offset`
    /// ([`xRead`](https://www.sqlite.org/c3ref/io_methods.html)). Past the end of the
    /// file the buffer is zero-filled and [`ReadOutcome::Short`] returned.
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_READ` if the read fails.
    pub fn read(&self, buf: &mut [u8], offset: u64) -> Result<ReadOutcome, VfsError> {
        match &self.inner {
            Inner::Disk(f) => f.read(buf, offset),
            Inner::Memory(f) => Ok(f.read(buf, offset)),
        }
    }

    /// Write `data` at `offset`, growing the file if needed
    /// ([`xWrite`](https://www.sqlite.org/c3ref/io_methods.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_FULL` when the disk (or memory) is full, `SQLITE_IOERR_WRITE` otherwise.
    pub fn write(&mut self, data: &[u8], offset: u64) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.write(data, offset),
            Inner::Memory(f) => f.write(data, offset),
        }
    }

    /// Set the file's size to `size` bytes (rounded up to the chunk size, if one was set)
    /// ([`xTruncate`](https://www.sqlite.org/c3ref/io_methods.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_TRUNCATE` if `ftruncate` fails.
    pub fn truncate(&mut self, size: u64) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.truncate(size),
            Inner::Memory(f) => f.truncate(size),
        }
    }

    /// Make written data durable: `fdatasync` with `SQLITE_SYNC_DATAONLY`, `fsync`
    /// otherwise; the first sync of a new journal also syncs its directory
    /// ([`xSync`](https://www.sqlite.org/c3ref/io_methods.html)). A no-op for memdb.
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_FSYNC` if the sync fails.
    pub fn sync(&mut self, flags: SyncFlags) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.sync(flags),
            Inner::Memory(_) => Ok(()),
        }
    }

    /// The file's size in bytes
    /// ([`xFileSize`](https://www.sqlite.org/c3ref/io_methods.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_FSTAT` if `fstat` fails.
    pub fn file_size(&self) -> Result<u64, VfsError> {
        match &self.inner {
            Inner::Disk(f) => f.size(),
            Inner::Memory(f) => Ok(f.size()),
        }
    }

    /// The lock level this handle holds.
    pub fn lock_level(&self) -> LockLevel {
        match &self.inner {
            Inner::Disk(f) => f.lock_level(),
            Inner::Memory(f) => f.lock_level(),
        }
    }

    /// Raise the lock to `level` ([`xLock`](https://www.sqlite.org/c3ref/io_methods.html)):
    /// SHARED from NONE, RESERVED from SHARED, EXCLUSIVE from SHARED, RESERVED or PENDING.
    /// Asking for a level already held (or lower) does nothing.
    ///
    /// # Errors
    ///
    /// `SQLITE_BUSY` when another connection's lock conflicts (after a failed EXCLUSIVE
    /// from RESERVED the handle holds PENDING); `SQLITE_IOERR_LOCK` for a transition the
    /// protocol does not allow or a failing system call.
    pub fn lock(&mut self, level: LockLevel) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.lock(level),
            Inner::Memory(f) => f.lock(level),
        }
    }

    /// Lower the lock to `level`, SHARED or NONE
    /// ([`xUnlock`](https://www.sqlite.org/c3ref/io_methods.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_RDLOCK` / `SQLITE_IOERR_UNLOCK` if the system call fails,
    /// `SQLITE_IOERR_UNLOCK` for a level above SHARED.
    pub fn unlock(&mut self, level: LockLevel) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.unlock(level),
            Inner::Memory(f) => f.unlock(level),
        }
    }

    /// Does any connection (this one included) hold RESERVED or higher on the file
    /// ([`xCheckReservedLock`](https://www.sqlite.org/c3ref/io_methods.html))?
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_CHECKRESERVEDLOCK` if probing the lock fails.
    pub fn check_reserved_lock(&self) -> Result<bool, VfsError> {
        match &self.inner {
            Inner::Disk(f) => f.check_reserved(),
            Inner::Memory(f) => f.check_reserved(),
        }
    }

    /// Handle a file-control opcode with its integer argument
    /// ([`xFileControl`](https://www.sqlite.org/c3ref/io_methods.html), opcodes at
    /// <https://www.sqlite.org/c3ref/c_fcntl_begin_atomic_write.html>).
    ///
    /// Handled: `LOCKSTATE`, `LAST_ERRNO`, `SIZE_HINT` (arg: size), `CHUNK_SIZE` (arg:
    /// chunk), `PERSIST_WAL` and `POWERSAFE_OVERWRITE` (arg < 0 queries, 0 clears, > 0
    /// sets; the value after is returned), `HAS_MOVED`, `EXTERNAL_READER`. Everything
    /// else is [`FileControlOutcome::NotFound`].
    ///
    /// # Errors
    ///
    /// I/O errors of the operation (for example `SQLITE_FULL` from a size hint).
    pub fn file_control(&mut self, op: i32, arg: i64) -> Result<FileControlOutcome, VfsError> {
        let flag = |current: &mut bool| {
            if arg >= 0 {
                *current = arg != 0;
            }
            FileControlOutcome::Value(i64::from(*current))
        };
        Ok(match op {
            SQLITE_FCNTL_LOCKSTATE => {
                FileControlOutcome::Value(i64::from(self.lock_level().as_raw()))
            }
            SQLITE_FCNTL_PERSIST_WAL => flag(&mut self.persist_wal),
            SQLITE_FCNTL_POWERSAFE_OVERWRITE => flag(&mut self.powersafe_overwrite),
            SQLITE_FCNTL_LAST_ERRNO => FileControlOutcome::Value(match &self.inner {
                Inner::Disk(f) => i64::from(f.last_errno()),
                Inner::Memory(_) => 0,
            }),
            SQLITE_FCNTL_SIZE_HINT => {
                let size = u64::try_from(arg).unwrap_or(0);
                match &mut self.inner {
                    Inner::Disk(f) => f.size_hint(size)?,
                    Inner::Memory(f) => f.size_hint(size)?,
                }
                FileControlOutcome::Done
            }
            SQLITE_FCNTL_CHUNK_SIZE => {
                if let Inner::Disk(f) = &mut self.inner {
                    f.set_chunk_size(u64::try_from(arg).unwrap_or(0));
                }
                FileControlOutcome::Done
            }
            SQLITE_FCNTL_HAS_MOVED => FileControlOutcome::Value(i64::from(match &self.inner {
                Inner::Disk(f) => f.has_moved()?,
                Inner::Memory(_) => false,
            })),
            SQLITE_FCNTL_EXTERNAL_READER => {
                FileControlOutcome::Value(i64::from(match &self.inner {
                    Inner::Disk(f) => match f.shm() {
                        Some(shm) => shm.external_reader()?,
                        None => false,
                    },
                    Inner::Memory(_) => false,
                }))
            }
            _ => FileControlOutcome::NotFound,
        })
    }

    /// The sector size, [`SECTOR_SIZE`]
    /// ([`xSectorSize`](https://www.sqlite.org/c3ref/io_methods.html)).
    pub fn sector_size(&self) -> u32 {
        SECTOR_SIZE
    }

    /// `SQLITE_IOCAP_*` bits
    /// ([`xDeviceCharacteristics`](https://www.sqlite.org/c3ref/io_methods.html)):
    /// `POWERSAFE_OVERWRITE` unless turned off with `SQLITE_FCNTL_POWERSAFE_OVERWRITE`,
    /// plus `SAFE_APPEND | SEQUENTIAL` for memdb files.
    pub fn device_characteristics(&self) -> i32 {
        let mut caps = 0;
        if self.powersafe_overwrite {
            caps |= SQLITE_IOCAP_POWERSAFE_OVERWRITE;
        }
        if self.is_memory() {
            caps |= SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL;
        }
        caps
    }

    /// True if this file can have WAL shared memory (disk files with a name). memdb
    /// files cannot: give them `sqlite3_io_methods` version 1, so SQLite keeps a
    /// rollback journal.
    pub fn supports_shm(&self) -> bool {
        match &self.inner {
            Inner::Disk(f) => f.is_named(),
            Inner::Memory(_) => false,
        }
    }

    /// Open (creating if needed) the database's `-shm` file and attach to it with the
    /// dead-man-switch protocol of the unix VFS. [`shm_map`](Self::shm_map) calls this
    /// on first use; calling it again does nothing.
    ///
    /// # Errors
    ///
    /// `SQLITE_BUSY` while another connection initialises the file;
    /// `SQLITE_READONLY_CANTINIT` for a read-only `-shm` with no live user;
    /// `SQLITE_CANTOPEN` if the file cannot be opened; `SQLITE_IOERR_SHMOPEN` for memdb
    /// and anonymous files.
    pub fn shm_open(&mut self) -> Result<(), VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.shm_open().map(|_| ()),
            Inner::Memory(f) => Err(no_shm_for_memdb(f.name())),
        }
    }

    /// Make sure shared-memory region `region` (of `region_size` bytes; SQLite uses
    /// 32768) exists and say where it lives in the `-shm` file
    /// ([`xShmMap`](https://www.sqlite.org/c3ref/io_methods.html)). When the file is too
    /// small, it grows if `extend`, else `Ok(None)` is returned (SQLite's NULL pointer).
    /// Where pages ([`shm_page_size`](crate::shm_page_size)) are larger than regions, the
    /// answer is the region's whole page, which it shares with its neighbours
    /// ([`ShmRegion::start`]), and growing grows the file to the end of that page.
    ///
    /// # Errors
    ///
    /// Those of [`shm_open`](Self::shm_open); `SQLITE_IOERR_SHMSIZE` if growing fails;
    /// `SQLITE_IOERR_SHMMAP` for a region size that changes or is neither a multiple
    /// nor a fraction of the page size, or a bad `SANDLITE_SHM_PAGE_SIZE`.
    pub fn shm_map(
        &mut self,
        region: u32,
        region_size: u32,
        extend: bool,
    ) -> Result<Option<ShmRegion<'_>>, VfsError> {
        match &mut self.inner {
            Inner::Disk(f) => f.shm_map(region, region_size, extend),
            Inner::Memory(f) => Err(no_shm_for_memdb(f.name())),
        }
    }

    /// Take or release shared-memory locks on slots `offset .. offset + n` (of 8)
    /// ([`xShmLock`](https://www.sqlite.org/c3ref/io_methods.html)). Locks this handle
    /// already holds are tracked, as `unixShmLock` does: a repeated shared lock is a
    /// no-op, and unlocking slots not held does nothing.
    ///
    /// # Errors
    ///
    /// `SQLITE_BUSY` on a conflict; `SQLITE_IOERR_SHMLOCK` without shared memory, for
    /// an invalid request, or a failing system call.
    pub fn shm_lock(&mut self, offset: u32, n: u32, flags: ShmLockFlags) -> Result<(), VfsError> {
        let name = self.name().to_owned();
        let shm = match &mut self.inner {
            Inner::Disk(f) => f.shm_mut(),
            Inner::Memory(_) => None,
        };
        match shm {
            Some(shm) => shm.lock(offset, n, flags),
            None => Err(VfsError::new(
                SQLITE_IOERR_SHMLOCK,
                format!("shared-memory lock on {name} before shm_open"),
            )),
        }
    }

    /// The shared-memory lock slots this handle holds, as bit masks `(shared,
    /// exclusive)`; bit `i` is slot `i`.
    pub fn shm_lock_masks(&self) -> (u16, u16) {
        match &self.inner {
            Inner::Disk(f) => f.shm().map_or((0, 0), |shm| shm.held()),
            Inner::Memory(_) => (0, 0),
        }
    }

    /// A full memory fence
    /// ([`xShmBarrier`](https://www.sqlite.org/c3ref/io_methods.html)).
    pub fn shm_barrier(&self) {
        fence(Ordering::SeqCst);
    }

    /// Detach from shared memory, releasing this handle's shared-memory locks
    /// ([`xShmUnmap`](https://www.sqlite.org/c3ref/io_methods.html)). With `delete`,
    /// the `-shm` file is removed when no other connection or process is attached.
    /// Mappings made from [`ShmRegion`]s stay valid; unmapping them is the caller's job.
    pub fn shm_unmap(&mut self, delete: bool) {
        if let Inner::Disk(f) = &mut self.inner {
            f.shm_unmap(delete);
        }
    }
}

/// Reject flag combinations SQLite never passes (`unixOpen` asserts the same).
pub(crate) fn validate_open_flags(flags: OpenFlags, named: bool) -> Result<(), VfsError> {
    let read_only = flags.contains(OpenFlags::READONLY);
    let read_write = flags.contains(OpenFlags::READWRITE);
    let why = if read_only == read_write {
        "exactly one of READONLY and READWRITE is required"
    } else if flags.contains(OpenFlags::CREATE) && !read_write {
        "CREATE requires READWRITE"
    } else if flags.contains(OpenFlags::EXCLUSIVE) && !flags.contains(OpenFlags::CREATE) {
        "EXCLUSIVE requires CREATE"
    } else if !named && !read_write {
        "a temporary file must be READWRITE"
    } else {
        return Ok(());
    };
    Err(VfsError::new(
        SQLITE_CANTOPEN,
        format!("invalid open flags {:#x}: {why}", flags.bits()),
    ))
}
