//! Files on disk inside the sandbox.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::codes::{
    SQLITE_CANTOPEN, SQLITE_CANTOPEN_ISDIR, SQLITE_FULL, SQLITE_IOERR_FSTAT, SQLITE_IOERR_FSYNC,
    SQLITE_IOERR_READ, SQLITE_IOERR_SHMOPEN, SQLITE_IOERR_TRUNCATE, SQLITE_IOERR_WRITE,
    SQLITE_READONLY_DIRECTORY,
};
use crate::error::VfsError;
use crate::file::ReadOutcome;
use crate::flags::{OpenFlags, SyncFlags};
use crate::lock::{self, LockLevel, LockRegion, RangeLocks};
use crate::sandbox::{RelPath, Sandbox, check_links, escape_error, is_escape};
use crate::shm::{Shm, ShmRegion};
use crate::sys::{self, LockType};

/// Block size used when a size hint pre-allocates a file.
const ALLOCATION_BLOCK: u64 = 4096;

/// Default permissions of created files (`SQLITE_DEFAULT_FILE_PERMISSIONS`); the umask
/// applies.
const DEFAULT_MODE: u32 = 0o644;

/// An open file inside a sandbox.
#[derive(Debug)]
pub(crate) struct DiskFile {
    file: File,
    sandbox: Arc<Sandbox>,
    /// The name inside the root; `None` for anonymous and delete-on-close files.
    rel: Option<RelPath>,
    name: String,
    level: LockLevel,
    shm: Option<Shm>,
    /// A newly created journal: sync its directory on the first sync, so the new
    /// directory entry is durable (as the unix VFS does).
    dir_sync_pending: bool,
    chunk_size: u64,
    last_errno: AtomicI32,
}

/// OFD locks through one descriptor.
struct OfdLocks<'a>(BorrowedFd<'a>);

impl RangeLocks for OfdLocks<'_> {
    fn apply(&self, region: LockRegion, kind: LockType) -> io::Result<bool> {
        let (start, len) = region.range();
        sys::ofd_set_lock(self.0, kind, start, len)
    }

    fn reserved_elsewhere(&self) -> io::Result<bool> {
        let (start, len) = LockRegion::Reserved.range();
        Ok(sys::ofd_probe_lock(self.0, LockType::Write, start, len)?.is_some())
    }
}

fn is_full(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
        || err.kind() == io::ErrorKind::WriteZero
}

/// Permission bits for a file about to be created (as `findCreateFileMode`): journals and
/// WAL files copy the database's, delete-on-close files are private.
fn create_mode(sandbox: &Sandbox, rel: &RelPath, flags: OpenFlags) -> u32 {
    if flags.contains(OpenFlags::DELETEONCLOSE) {
        return 0o600;
    }
    if flags.intersects(OpenFlags::WAL | OpenFlags::MAIN_JOURNAL) {
        // "<db>-journal" and "<db>-wal": the database is the name before the last '-'.
        if let Some(db) = rel.before_last_dash()
            && let Ok(meta) = sandbox.stat(&db)
        {
            return meta.mode() & 0o777;
        }
    }
    DEFAULT_MODE
}

impl DiskFile {
    /// `xOpen` inside `sandbox`. Returns the file and the flags actually obtained.
    pub(crate) fn open(
        sandbox: &Arc<Sandbox>,
        path: Option<&str>,
        flags: OpenFlags,
    ) -> Result<(DiskFile, OpenFlags), VfsError> {
        let Some(path) = path else {
            let fd = sandbox.open_anonymous().map_err(|e| {
                VfsError::os(
                    SQLITE_CANTOPEN,
                    "cannot create a temporary file in the sandbox",
                    &e,
                )
            })?;
            return Ok((
                Self::new(sandbox, File::from(fd), None, "(temporary file)".into()),
                flags,
            ));
        };
        let rel = sandbox.resolve(path)?;
        let name = sandbox.host_path(&rel);
        let read_write = flags.contains(OpenFlags::READWRITE);
        let mut os_flags = libc::O_NONBLOCK
            | if read_write {
                libc::O_RDWR
            } else {
                libc::O_RDONLY
            };
        if flags.contains(OpenFlags::CREATE) {
            os_flags |= libc::O_CREAT;
        }
        if flags.contains(OpenFlags::EXCLUSIVE) {
            os_flags |= libc::O_EXCL;
        }
        let new_journal = flags.contains(OpenFlags::CREATE)
            && flags
                .intersects(OpenFlags::MAIN_JOURNAL | OpenFlags::SUPER_JOURNAL | OpenFlags::WAL);
        let mode = create_mode(sandbox, &rel, flags);
        let mut out_flags = flags;
        let fd = match sandbox.open_file(&rel, os_flags, mode) {
            Ok(fd) => fd,
            Err(e) if is_escape(&e) => return Err(escape_error(&name, &e)),
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {
                return Err(VfsError::new(
                    SQLITE_CANTOPEN_ISDIR,
                    format!("cannot open {name}: is a directory"),
                ));
            }
            Err(e)
                if new_journal
                    && e.raw_os_error() == Some(libc::EACCES)
                    && sandbox.stat(&rel).is_err() =>
            {
                return Err(VfsError::os(
                    SQLITE_READONLY_DIRECTORY,
                    format!("cannot create {name}: directory is not writable"),
                    &e,
                ));
            }
            Err(e) if read_write && e.raw_os_error() != Some(libc::EEXIST) => {
                // Fall back to read-only, as the unix VFS does, and say so in the flags
                // (but not when EXCLUSIVE found the file existing: that is a refusal).
                let read_only = libc::O_RDONLY | libc::O_NONBLOCK;
                let fd = sandbox.open_file(&rel, read_only, 0).map_err(|_| {
                    VfsError::os(SQLITE_CANTOPEN, format!("cannot open {name}"), &e)
                })?;
                out_flags =
                    flags.without(OpenFlags::READWRITE | OpenFlags::CREATE) | OpenFlags::READONLY;
                fd
            }
            Err(e) => {
                return Err(VfsError::os(
                    SQLITE_CANTOPEN,
                    format!("cannot open {name}"),
                    &e,
                ));
            }
        };
        let file = File::from(fd);
        let meta = file
            .metadata()
            .map_err(|e| VfsError::os(SQLITE_CANTOPEN, format!("cannot stat {name}"), &e))?;
        if meta.is_dir() {
            return Err(VfsError::new(
                SQLITE_CANTOPEN_ISDIR,
                format!("cannot open {name}: is a directory"),
            ));
        }
        if !meta.is_file() {
            return Err(VfsError::new(
                SQLITE_CANTOPEN,
                format!("cannot open {name}: not a regular file"),
            ));
        }
        // Checked on the opened descriptor: no rename or link race can change which
        // file this is.
        check_links(sandbox, &name, meta.nlink())?;
        let mut opened = Self::new(sandbox, file, Some(rel), name);
        opened.dir_sync_pending = new_journal;
        if flags.contains(OpenFlags::DELETEONCLOSE) {
            // Unlink now, as the unix VFS does: the data lives until the descriptor closes.
            if let Some(rel) = opened.rel.take() {
                let _ = sandbox.unlink(&rel);
            }
            opened.dir_sync_pending = false;
        }
        Ok((opened, out_flags))
    }

    fn new(sandbox: &Arc<Sandbox>, file: File, rel: Option<RelPath>, name: String) -> Self {
        DiskFile {
            file,
            sandbox: Arc::clone(sandbox),
            rel,
            name,
            level: LockLevel::None,
            shm: None,
            dir_sync_pending: false,
            chunk_size: 0,
            last_errno: AtomicI32::new(0),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// True if the file is reachable by a name (not anonymous, not deleted on open).
    pub(crate) fn is_named(&self) -> bool {
        self.rel.is_some()
    }

    fn os_error(&self, code: i32, action: &str, err: &io::Error) -> VfsError {
        if let Some(errno) = err.raw_os_error() {
            self.last_errno.store(errno, Ordering::Relaxed);
        }
        VfsError::os(code, format!("{action} {}", self.name), err)
    }

    pub(crate) fn last_errno(&self) -> i32 {
        self.last_errno.load(Ordering::Relaxed)
    }

    pub(crate) fn read(&self, buf: &mut [u8], offset: u64) -> Result<ReadOutcome, VfsError> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset
                .checked_add(done as u64)
                .filter(|&at| i64::try_from(at).is_ok())
                .ok_or_else(|| {
                    VfsError::new(
                        SQLITE_IOERR_READ,
                        format!("read {}: offset too large", self.name),
                    )
                })?;
            match self.file.read_at(&mut buf[done..], at) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.os_error(SQLITE_IOERR_READ, "read", &e)),
            }
        }
        buf[done..].fill(0);
        Ok(if done == buf.len() {
            ReadOutcome::Complete
        } else {
            ReadOutcome::Short { bytes_read: done }
        })
    }

    pub(crate) fn write(&mut self, data: &[u8], offset: u64) -> Result<(), VfsError> {
        self.file.write_all_at(data, offset).map_err(|e| {
            let code = if is_full(&e) {
                SQLITE_FULL
            } else {
                SQLITE_IOERR_WRITE
            };
            self.os_error(code, "write", &e)
        })
    }

    pub(crate) fn truncate(&mut self, size: u64) -> Result<(), VfsError> {
        let size = if self.chunk_size > 0 {
            size.div_ceil(self.chunk_size)
                .saturating_mul(self.chunk_size)
        } else {
            size
        };
        self.file
            .set_len(size)
            .map_err(|e| self.os_error(SQLITE_IOERR_TRUNCATE, "truncate", &e))
    }

    pub(crate) fn sync(&mut self, flags: SyncFlags) -> Result<(), VfsError> {
        let result = if flags.data_only() {
            self.file.sync_data()
        } else {
            self.file.sync_all()
        };
        result.map_err(|e| self.os_error(SQLITE_IOERR_FSYNC, "sync", &e))?;
        // Best effort, as in the unix VFS: some file systems cannot sync a directory.
        if std::mem::take(&mut self.dir_sync_pending)
            && let Some(rel) = &self.rel
            && let Ok((dir, _)) = self.sandbox.parent_dir(rel)
        {
            let _ = File::from(dir).sync_all();
        }
        Ok(())
    }

    pub(crate) fn size(&self) -> Result<u64, VfsError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| self.os_error(SQLITE_IOERR_FSTAT, "fstat", &e))
    }

    pub(crate) fn set_chunk_size(&mut self, chunk: u64) {
        self.chunk_size = chunk;
    }

    /// `SQLITE_FCNTL_SIZE_HINT`: with a chunk size set, allocate the file up to the hint
    /// rounded to chunks, writing one byte per block so the space is really reserved.
    pub(crate) fn size_hint(&mut self, size: u64) -> Result<(), VfsError> {
        if self.chunk_size == 0 {
            return Ok(());
        }
        let target = size
            .div_ceil(self.chunk_size)
            .saturating_mul(self.chunk_size);
        let current = self.size()?;
        if target <= current {
            return Ok(());
        }
        let mut at = (current / ALLOCATION_BLOCK + 1) * ALLOCATION_BLOCK - 1;
        while at < target {
            self.write(&[0], at)?;
            at += ALLOCATION_BLOCK;
        }
        self.write(&[0], target - 1)
    }

    /// `SQLITE_FCNTL_HAS_MOVED`: the name no longer leads to this file.
    pub(crate) fn has_moved(&self) -> Result<bool, VfsError> {
        let Some(rel) = &self.rel else {
            return Ok(false);
        };
        let mine = self
            .file
            .metadata()
            .map_err(|e| self.os_error(SQLITE_IOERR_FSTAT, "fstat", &e))?;
        Ok(match self.sandbox.stat(rel) {
            Ok(now) => now.dev() != mine.dev() || now.ino() != mine.ino(),
            Err(_) => true,
        })
    }

    pub(crate) fn lock_level(&self) -> LockLevel {
        self.level
    }

    pub(crate) fn lock(&mut self, wanted: LockLevel) -> Result<(), VfsError> {
        let locks = OfdLocks(self.file.as_fd());
        lock::lock(&locks, &mut self.level, wanted, &self.name)
    }

    pub(crate) fn unlock(&mut self, wanted: LockLevel) -> Result<(), VfsError> {
        let locks = OfdLocks(self.file.as_fd());
        lock::unlock(&locks, &mut self.level, wanted, &self.name)
    }

    pub(crate) fn check_reserved(&self) -> Result<bool, VfsError> {
        lock::check_reserved(&OfdLocks(self.file.as_fd()), self.level, &self.name)
    }

    pub(crate) fn shm_open(&mut self) -> Result<&mut Shm, VfsError> {
        let shm = match self.shm.take() {
            Some(shm) => shm,
            None => {
                let Some(rel) = &self.rel else {
                    return Err(VfsError::new(
                        SQLITE_IOERR_SHMOPEN,
                        format!("{} has no name, so it has no -shm file", self.name),
                    ));
                };
                let mode = self
                    .file
                    .metadata()
                    .map_err(|e| {
                        VfsError::os(SQLITE_IOERR_SHMOPEN, format!("fstat {}", self.name), &e)
                    })?
                    .mode()
                    & 0o777;
                Shm::open(&self.sandbox, rel, mode)?
            }
        };
        Ok(self.shm.insert(shm))
    }

    pub(crate) fn shm(&self) -> Option<&Shm> {
        self.shm.as_ref()
    }

    pub(crate) fn shm_mut(&mut self) -> Option<&mut Shm> {
        self.shm.as_mut()
    }

    pub(crate) fn shm_map(
        &mut self,
        region: u32,
        region_size: u32,
        extend: bool,
    ) -> Result<Option<ShmRegion<'_>>, VfsError> {
        self.shm_open()?.map(region, region_size, extend)
    }

    pub(crate) fn shm_unmap(&mut self, delete: bool) {
        if let Some(shm) = self.shm.take() {
            shm.close(&self.sandbox, delete);
        }
    }
}

impl Drop for DiskFile {
    fn drop(&mut self) {
        // Closing the descriptor releases OFD locks only when no other reference to the
        // open file description remains (a forked child that has not exec'd yet holds
        // one), so release them explicitly.
        if self.level != LockLevel::None {
            let _ = OfdLocks(self.file.as_fd()).apply(LockRegion::Whole, LockType::Unlock);
        }
    }
}
