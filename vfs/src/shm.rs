//! WAL shared memory: the `-shm` file, its lock slots and the dead-man switch.
//!
//! Each database handle opens its own descriptor of `<db>-shm` (so its own open file
//! description), and takes its locks with OFD byte-range locks at the unix VFS's offsets:
//! lock slot `i` is byte `UNIX_SHM_BASE + i` (120..128), the dead-man switch (DMS) is byte
//! 128. Two handles in one process and a native `sqlite3` process (POSIX locks on the same
//! bytes) therefore all exclude each other. The protocol follows `unixOpenSharedMemory`,
//! `unixLockSharedMemory`, `unixShmMap`, `unixShmLock` and `unixShmUnmap` of `os_unix.c`:
//!
//! * Opening: if nobody holds a lock on the DMS byte, this handle is the first user: it
//!   write-locks DMS, truncates the file (stale content from a crash must not be trusted)
//!   and downgrades to a read lock. If someone holds it read-locked, it joins with a read
//!   lock. If someone holds it write-locked (initialising right now), `SQLITE_BUSY`.
//! * Mapping: this crate does not map memory for SQLite. [`ShmRegion`] says which bytes
//!   of which descriptor hold a region; the caller maps them `MAP_SHARED` where it wants
//!   (the VM maps them into the guest's linear memory). [`ShmRegion::map`] (in
//!   `mapping`) is a safe mapping for tests and other users.
#![forbid(unsafe_code)]

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;

use crate::codes::{
    SQLITE_BUSY, SQLITE_CANTOPEN, SQLITE_IOERR_SHMLOCK, SQLITE_IOERR_SHMMAP, SQLITE_IOERR_SHMOPEN,
    SQLITE_IOERR_SHMSIZE, SQLITE_READONLY_CANTINIT, SQLITE_SHM_NLOCK, UNIX_SHM_BASE, UNIX_SHM_DMS,
};
use crate::error::VfsError;
use crate::flags::ShmLockFlags;
use crate::sandbox::{RelPath, Sandbox, check_links, escape_error, is_escape};
use crate::sys::{self, LockType};

/// The page size SQLite's unix VFS grows `-shm` files by, one written byte per page.
const SHM_GROW_PAGE: u64 = 4096;

/// Size a first user truncates the `-shm` file to: less than the WAL-index header, so the
/// header is invalid, but not zero, as a debugging aid (as the unix VFS does).
const SHM_RESET_SIZE: u64 = 3;

/// One handle's attachment to a `-shm` file.
#[derive(Debug)]
pub(crate) struct Shm {
    file: File,
    rel: RelPath,
    name: String,
    read_only: bool,
    region_size: Option<u32>,
    shared_mask: u16,
    exclusive_mask: u16,
}

/// Where a region of WAL shared memory lives: `len` bytes at `offset` of the `-shm` file
/// open as `fd`. Map it `MAP_SHARED` (`PROT_READ` only when `read_only`). `offset` is a
/// multiple of the host page size.
///
/// A mapping holds no locks: [`VfsFile::shm_unmap`](crate::VfsFile::shm_unmap) and closing
/// the file release this handle's shared-memory locks even while mappings remain. Unmap
/// them promptly after `shm_unmap`: once every user has detached, the next first user
/// truncates the file, and touching a mapping past the new end raises `SIGBUS`.
#[derive(Debug, Clone, Copy)]
pub struct ShmRegion<'a> {
    /// Descriptor of the `-shm` file (owned by the [`VfsFile`](crate::VfsFile)).
    pub fd: BorrowedFd<'a>,
    /// Byte offset of the region in the file.
    pub offset: u64,
    /// Length of the region in bytes.
    pub len: usize,
    /// The `-shm` file could only be opened read-only: map it read-only, and report
    /// `SQLITE_READONLY` to SQLite along with the mapping.
    pub read_only: bool,
}

impl Shm {
    /// Open (creating if needed) the `-shm` file of the database `db` and attach to it
    /// following the DMS protocol. `mode` is the database file's permission bits.
    pub(crate) fn open(sandbox: &Sandbox, db: &RelPath, mode: u32) -> Result<Shm, VfsError> {
        let rel = db.with_suffix("-shm");
        let name = sandbox.host_path(&rel);
        let (fd, read_only) = open_shm_file(sandbox, &rel, &name, mode)?;
        let shm = Shm {
            file: File::from(fd),
            rel,
            name,
            read_only,
            region_size: None,
            shared_mask: 0,
            exclusive_mask: 0,
        };
        shm.attach()?;
        Ok(shm)
    }

    /// The dead-man-switch step (`unixLockSharedMemory`).
    fn attach(&self) -> Result<(), VfsError> {
        let fd = self.file.as_fd();
        let ioerr = |what: &str, e: &std::io::Error| {
            VfsError::os(SQLITE_IOERR_SHMOPEN, format!("{what} {}", self.name), e)
        };
        let holder = sys::ofd_probe_lock(fd, LockType::Write, UNIX_SHM_DMS, 1)
            .map_err(|e| ioerr("probe DMS lock of", &e))?;
        match holder {
            None if self.read_only => {
                // Nothing to join and no right to initialise. The caller retries by
                // opening again, as `unixShmMap` retries with `isUnlocked`.
                return Err(VfsError::new(
                    SQLITE_READONLY_CANTINIT,
                    format!(
                        "read-only {} has no live writer to initialise it",
                        self.name
                    ),
                ));
            }
            None => {
                // First user: nobody else is attached, so stale content is reset.
                if !sys::ofd_set_lock(fd, LockType::Write, UNIX_SHM_DMS, 1)
                    .map_err(|e| ioerr("lock DMS of", &e))?
                {
                    return Err(VfsError::busy(&self.name));
                }
                self.file
                    .set_len(SHM_RESET_SIZE)
                    .map_err(|e| ioerr("truncate", &e))?;
            }
            Some(LockType::Write) => return Err(VfsError::busy(&self.name)),
            Some(_) => {}
        }
        // Join (or downgrade the initialising write lock) with a read lock on DMS.
        if !sys::ofd_set_lock(fd, LockType::Read, UNIX_SHM_DMS, 1)
            .map_err(|e| ioerr("lock DMS of", &e))?
        {
            return Err(VfsError::busy(&self.name));
        }
        Ok(())
    }

    /// Ensure region `region` of `region_size` bytes exists (growing the file if
    /// `extend`), and say where it lives (`xShmMap`).
    pub(crate) fn map(
        &mut self,
        region: u32,
        region_size: u32,
        extend: bool,
    ) -> Result<Option<ShmRegion<'_>>, VfsError> {
        let shmmap = |why: String| VfsError::new(SQLITE_IOERR_SHMMAP, why);
        if region_size == 0 {
            return Err(shmmap(format!("zero region size for {}", self.name)));
        }
        match self.region_size {
            Some(size) if size != region_size => {
                return Err(shmmap(format!(
                    "region size {region_size} differs from the {size} used before on {}",
                    self.name
                )));
            }
            _ => self.region_size = Some(region_size),
        }
        let offset = u64::from(region) * u64::from(region_size);
        let page = sys::page_size();
        if !offset.is_multiple_of(page) || !u64::from(region_size).is_multiple_of(page) {
            // A 64 KiB-page kernel and SQLite's 32 KiB regions: WAL is unavailable there.
            return Err(shmmap(format!(
                "region {region} of {region_size} bytes is not a whole number of {page}-byte \
                 host pages in {} (WAL needs pages of at most {region_size} bytes)",
                self.name
            )));
        }
        let needed = offset + u64::from(region_size);
        let size = self
            .file
            .metadata()
            .map_err(|e| VfsError::os(SQLITE_IOERR_SHMSIZE, format!("fstat {}", self.name), &e))?
            .len();
        if size < needed {
            if !extend {
                return Ok(None);
            }
            // Write the last byte of every new page, so the file system allocates the
            // blocks now rather than failing with SIGBUS when the memory is touched.
            let first_page = size / SHM_GROW_PAGE;
            let last_page = needed.div_ceil(SHM_GROW_PAGE);
            for page in first_page..last_page {
                let at = page * SHM_GROW_PAGE + SHM_GROW_PAGE - 1;
                self.file.write_all_at(&[0], at).map_err(|e| {
                    VfsError::os(SQLITE_IOERR_SHMSIZE, format!("grow {}", self.name), &e)
                })?;
            }
        }
        Ok(Some(ShmRegion {
            fd: self.file.as_fd(),
            offset,
            len: usize::try_from(region_size).unwrap_or(usize::MAX),
            read_only: self.read_only,
        }))
    }

    /// Take or release locks on slots `offset .. offset + n` (`xShmLock`).
    pub(crate) fn lock(
        &mut self,
        offset: u32,
        n: u32,
        flags: ShmLockFlags,
    ) -> Result<(), VfsError> {
        let lock_shared = ShmLockFlags::LOCK | ShmLockFlags::SHARED;
        let lock_exclusive = ShmLockFlags::LOCK | ShmLockFlags::EXCLUSIVE;
        let unlock_shared = ShmLockFlags::UNLOCK | ShmLockFlags::SHARED;
        let unlock_exclusive = ShmLockFlags::UNLOCK | ShmLockFlags::EXCLUSIVE;
        let valid_range = n >= 1
            && offset
                .checked_add(n)
                .is_some_and(|end| end <= SQLITE_SHM_NLOCK);
        let valid_flags =
            [lock_shared, lock_exclusive, unlock_shared, unlock_exclusive].contains(&flags);
        let shared = flags == lock_shared || flags == unlock_shared;
        if !valid_range || !valid_flags || (shared && n != 1) {
            return Err(VfsError::new(
                SQLITE_IOERR_SHMLOCK,
                format!(
                    "invalid shared-memory lock request on {}: offset {offset}, n {n}, flags {:#x}",
                    self.name,
                    flags.bits()
                ),
            ));
        }
        let mask = (((1u32 << (offset + n)) - (1u32 << offset)) & 0xffff) as u16;
        let start = UNIX_SHM_BASE + u64::from(offset);
        let len = u64::from(n);
        let fd = self.file.as_fd();
        let failed = |e: &std::io::Error| {
            VfsError::os(SQLITE_IOERR_SHMLOCK, format!("lock {}", self.name), e)
        };
        let busy = || {
            VfsError::new(
                SQLITE_BUSY,
                format!(
                    "{}: shared-memory lock slots {offset}..{} are busy",
                    self.name,
                    offset + n
                ),
            )
        };
        if flags == unlock_shared || flags == unlock_exclusive {
            if (self.shared_mask | self.exclusive_mask) & mask != 0 {
                sys::ofd_set_lock(fd, LockType::Unlock, start, len).map_err(|e| failed(&e))?;
                self.shared_mask &= !mask;
                self.exclusive_mask &= !mask;
            }
        } else if flags == lock_shared {
            if self.shared_mask & mask == 0 {
                if !sys::ofd_set_lock(fd, LockType::Read, start, len).map_err(|e| failed(&e))? {
                    return Err(busy());
                }
                self.shared_mask |= mask;
            }
        } else {
            if !sys::ofd_set_lock(fd, LockType::Write, start, len).map_err(|e| failed(&e))? {
                return Err(busy());
            }
            self.exclusive_mask |= mask;
            self.shared_mask &= !mask;
        }
        Ok(())
    }

    /// Does another handle or process hold a WAL read lock (slots 3..8)?
    pub(crate) fn external_reader(&self) -> Result<bool, VfsError> {
        let start = UNIX_SHM_BASE + 3;
        let len = u64::from(SQLITE_SHM_NLOCK - 3);
        sys::ofd_probe_lock(self.file.as_fd(), LockType::Write, start, len)
            .map(|holder| holder.is_some())
            .map_err(|e| VfsError::os(SQLITE_IOERR_SHMLOCK, format!("probe {}", self.name), &e))
    }

    /// The slots this handle holds shared and exclusive, as bit masks.
    pub(crate) fn held(&self) -> (u16, u16) {
        (self.shared_mask, self.exclusive_mask)
    }

    /// Detach (`xShmUnmap`). With `delete`, remove the `-shm` file, but only if no other
    /// handle or process is attached (this handle can write-lock DMS).
    pub(crate) fn close(self, sandbox: &Sandbox, delete: bool) {
        if delete && !self.read_only {
            let alone = sys::ofd_set_lock(self.file.as_fd(), LockType::Write, UNIX_SHM_DMS, 1);
            if matches!(alone, Ok(true)) {
                // Failure to delete is harmless: the next first user resets the file.
                let _ = sandbox.unlink(&self.rel);
            }
        }
        // Drop releases the locks.
    }
}

impl Drop for Shm {
    fn drop(&mut self) {
        // Release every lock explicitly rather than by closing the descriptor: a mapping
        // of the file keeps its open file description — and so its OFD locks — alive
        // until it is unmapped, and the caller's mappings may outlive this handle.
        let _ = sys::ofd_set_lock(self.file.as_fd(), LockType::Unlock, 0, 0);
    }
}

fn open_shm_file(
    sandbox: &Sandbox,
    rel: &RelPath,
    name: &str,
    mode: u32,
) -> Result<(OwnedFd, bool), VfsError> {
    let cantopen = |e: &std::io::Error| {
        if is_escape(e) {
            escape_error(name, e)
        } else {
            VfsError::os(SQLITE_CANTOPEN, format!("cannot open {name}"), e)
        }
    };
    let read_write = libc::O_RDWR | libc::O_CREAT | libc::O_NONBLOCK;
    let (fd, read_only) = match sandbox.open_file(rel, read_write, mode) {
        Ok(fd) => (fd, false),
        Err(e) if is_escape(&e) => return Err(cantopen(&e)),
        Err(_) => {
            let fd = sandbox
                .open_file(rel, libc::O_RDONLY | libc::O_NONBLOCK, 0)
                .map_err(|e| cantopen(&e))?;
            (fd, true)
        }
    };
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| cantopen(&e))?;
    if !meta.is_file() {
        return Err(VfsError::new(
            SQLITE_CANTOPEN,
            format!("cannot open {name}: not a regular file"),
        ));
    }
    check_links(sandbox, name, std::os::unix::fs::MetadataExt::nlink(&meta))?;
    Ok((OwnedFd::from(file), read_only))
}
