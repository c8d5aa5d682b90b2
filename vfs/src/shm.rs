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
//! * Pages larger than a region (SQLite's regions are 32 KiB; some arm64 kernels have
//!   64 KiB pages): a mapping must cover whole pages, so, as `unixShmMap` does with
//!   `unixShmRegionPerMap`, the region's whole page is the mapping: `page / region_size`
//!   consecutive regions share one page-aligned, page-sized range of the file, and
//!   [`ShmRegion::start`] says where in it the region begins. [`shm_page_size`] is that
//!   page size (`SANDLITE_SHM_PAGE_SIZE` raises it, for tests).
#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

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

/// The environment variable that raises [`shm_page_size`] (for tests).
pub const SHM_PAGE_SIZE_VAR: &str = "SANDLITE_SHM_PAGE_SIZE";

/// The largest page size [`SHM_PAGE_SIZE_VAR`] may ask for: 64 KiB, the largest page of
/// the Linux kernels Sandlite runs on (arm64, ppc64) and the WebAssembly page size.
pub const MAX_SHM_PAGE_SIZE: u64 = 65536;

/// The page size WAL shared memory is mapped in: every [`ShmRegion`] is a whole number of
/// these pages at an offset that is a multiple of one. It is the host's page size,
/// unless the environment variable `SANDLITE_SHM_PAGE_SIZE` (read once per process)
/// raises it to a power of two of at most 64 KiB: mapping in larger granules is valid on
/// any kernel, so a 4 KiB-page machine can test the layout of a 64 KiB-page one. Empty
/// is the same as unset.
///
/// # Errors
///
/// `SQLITE_IOERR_SHMMAP` when `SANDLITE_SHM_PAGE_SIZE` is set but is not a power of two
/// between the host's page size and 64 KiB (the same error every time).
pub fn shm_page_size() -> Result<u64, VfsError> {
    static SIZE: OnceLock<Result<u64, String>> = OnceLock::new();
    SIZE.get_or_init(|| {
        let setting = std::env::var_os(SHM_PAGE_SIZE_VAR);
        effective_page_size(sys::page_size(), setting.as_deref())
    })
    .clone()
    .map_err(|why| VfsError::new(SQLITE_IOERR_SHMMAP, why))
}

/// The host page size `real`, raised by the setting `setting` if there is one.
fn effective_page_size(real: u64, setting: Option<&OsStr>) -> Result<u64, String> {
    // Unset or empty: the host's own.
    let Some(setting) = setting.filter(|s| !s.is_empty()) else {
        return Ok(real);
    };
    let text = setting.to_string_lossy();
    match text.trim().parse::<u64>() {
        Ok(size) if size.is_power_of_two() && real <= size && size <= MAX_SHM_PAGE_SIZE => Ok(size),
        _ => Err(format!(
            "{SHM_PAGE_SIZE_VAR}={text:?} is not a power of two between the host page size \
             ({real}) and {MAX_SHM_PAGE_SIZE}"
        )),
    }
}

/// Where region `region` of `region_size` bytes is mapped with pages of `page` bytes:
/// (file offset of the mapping, its length, the region's offset inside it).
fn region_layout(region: u32, region_size: u32, page: u64) -> Option<(u64, u64, u64)> {
    let (region, size) = (u64::from(region), u64::from(region_size));
    if size.is_multiple_of(page) {
        // Whole pages: the region is its own mapping (4, 16 and 32 KiB pages).
        Some((region * size, size, 0))
    } else if page.is_multiple_of(size) {
        // Several regions per page: the mapping is the region's page.
        let per_page = page / size;
        Some((region / per_page * page, page, region % per_page * size))
    } else {
        None
    }
}

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
/// open as `fd` hold it, from `start` on. Map those `len` bytes `MAP_SHARED` (`PROT_READ`
/// only when `read_only`); the region is the `region_size` bytes at `start` of the
/// mapping. `offset` and `len` are multiples of [`shm_page_size`]. Where pages are no
/// larger than a region (4, 16 and 32 KiB), `start` is 0 and `len` the region size; with
/// larger pages the mapping is the region's whole page, shared with its neighbours.
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
    /// Length of the mapping in bytes.
    pub len: usize,
    /// Byte offset of the region inside the mapping.
    pub start: usize,
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
        let page = shm_page_size()?;
        self.map_in_pages(region, region_size, extend, page)
    }

    /// [`map`](Self::map) with pages of `page` bytes.
    fn map_in_pages(
        &mut self,
        region: u32,
        region_size: u32,
        extend: bool,
        page: u64,
    ) -> Result<Option<ShmRegion<'_>>, VfsError> {
        let Some((offset, len, start)) = region_layout(region, region_size, page) else {
            return Err(VfsError::new(
                SQLITE_IOERR_SHMMAP,
                format!(
                    "region {region} of {region_size} bytes is neither a whole number of \
                     {page}-byte pages nor a fraction of one in {}",
                    self.name
                ),
            ));
        };
        let size = self
            .file
            .metadata()
            .map_err(|e| VfsError::os(SQLITE_IOERR_SHMSIZE, format!("fstat {}", self.name), &e))?
            .len();
        // The region exists when the file holds it; with several regions per page its
        // neighbours need not exist yet (a peer with smaller pages grows the file one
        // region at a time), and the caller must not touch them until they do.
        let region_end = offset + start + u64::from(region_size);
        if size < region_end && !extend {
            return Ok(None);
        }
        // Growing, grow to the end of the mapping, so that all of it is backed by the
        // file, as `unixShmMap` grows to whole mappings.
        let needed = offset + len;
        if extend && size < needed {
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
        let too_big = || {
            VfsError::new(
                SQLITE_IOERR_SHMMAP,
                format!("region {region} of {} does not fit in memory", self.name),
            )
        };
        Ok(Some(ShmRegion {
            fd: self.file.as_fd(),
            offset,
            len: usize::try_from(len).map_err(|_| too_big())?,
            start: usize::try_from(start).map_err(|_| too_big())?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SandboxOptions;

    const REGION: u32 = 32768;

    #[test]
    fn the_page_size_setting_may_only_raise_it_to_a_power_of_two() {
        let set = |s: &str| effective_page_size(4096, Some(OsStr::new(s)));
        assert_eq!(effective_page_size(4096, None), Ok(4096));
        assert_eq!(effective_page_size(65536, None), Ok(65536));
        assert_eq!(set("65536"), Ok(65536));
        assert_eq!(set("16384"), Ok(16384));
        assert_eq!(set("4096"), Ok(4096));
        assert_eq!(set(""), Ok(4096), "empty is unset");
        for bad in ["2048", "12288", "131072", " ", "64k", "-4096"] {
            let err = set(bad).unwrap_err();
            assert!(err.contains(SHM_PAGE_SIZE_VAR), "{bad}: {err}");
        }
        // Never below the real page size.
        assert!(effective_page_size(16384, Some(OsStr::new("4096"))).is_err());
    }

    #[test]
    fn regions_share_a_mapping_when_pages_are_larger() {
        // Pages of at most a region: each region is its own mapping, as always.
        for page in [4096, 16384, 32768] {
            assert_eq!(region_layout(0, REGION, page), Some((0, 32768, 0)));
            assert_eq!(region_layout(3, REGION, page), Some((98304, 32768, 0)));
        }
        // 64 KiB pages: two regions per page-aligned page.
        assert_eq!(region_layout(0, REGION, 65536), Some((0, 65536, 0)));
        assert_eq!(region_layout(1, REGION, 65536), Some((0, 65536, 32768)));
        assert_eq!(region_layout(2, REGION, 65536), Some((65536, 65536, 0)));
        assert_eq!(
            region_layout(5, REGION, 65536),
            Some((131072, 65536, 32768))
        );
        assert_eq!(region_layout(5, 16384, 65536), Some((65536, 65536, 16384)));
        // Neither a multiple nor a fraction of a page.
        assert_eq!(region_layout(0, 12288, 65536), None);
        assert_eq!(region_layout(1, 100, 4096), None);
    }

    #[test]
    fn large_pages_grow_the_file_to_whole_pages_but_a_region_exists_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::open(dir.path(), &SandboxOptions::new()).unwrap();
        let db = sandbox.resolve("w.db").unwrap();
        let shm_path = dir.path().join("w.db-shm");
        let shm_len = || std::fs::metadata(&shm_path).unwrap().len();
        let mut shm = Shm::open(&sandbox, &db, 0o644).unwrap();
        let page = 65536;
        let layout = |r: Option<ShmRegion<'_>>| r.map(|r| (r.offset, r.len, r.start));

        assert_eq!(
            layout(shm.map_in_pages(0, REGION, false, page).unwrap()),
            None
        );
        // Extending region 1 grows the file to the end of its page (regions 0 and 1).
        let r1 = shm.map_in_pages(1, REGION, true, page).unwrap();
        assert_eq!(layout(r1), Some((0, 65536, 32768)));
        assert_eq!(shm_len(), 65536);
        assert_eq!(
            layout(shm.map_in_pages(0, REGION, false, page).unwrap()),
            Some((0, 65536, 0))
        );
        assert_eq!(
            layout(shm.map_in_pages(2, REGION, false, page).unwrap()),
            None
        );

        // A peer with 32 KiB mappings grew the file by one region only: region 2 exists
        // although its page's second half does not; extending it fills the page.
        shm.file.set_len(3 * 32768).unwrap();
        assert_eq!(
            layout(shm.map_in_pages(2, REGION, false, page).unwrap()),
            Some((65536, 65536, 0))
        );
        assert_eq!(
            layout(shm.map_in_pages(3, REGION, false, page).unwrap()),
            None
        );
        assert_eq!(shm_len(), 3 * 32768, "no growth without extend");
        assert_eq!(
            layout(shm.map_in_pages(2, REGION, true, page).unwrap()),
            Some((65536, 65536, 0))
        );
        assert_eq!(shm_len(), 131072);

        // The bytes of a region are where the layout says: write region 3 through the
        // file, read it back through a mapping of its page.
        shm.file.write_all_at(b"region 3", 3 * 32768 + 8).unwrap();
        let r3 = shm.map_in_pages(3, REGION, false, page).unwrap().unwrap();
        let mapping = r3.map().unwrap();
        let mut buf = [0u8; 8];
        mapping.read(r3.start + 8, &mut buf).unwrap();
        assert_eq!(&buf, b"region 3");

        let err = shm.map_in_pages(0, 12288, true, page).err().unwrap();
        assert_eq!(err.code(), SQLITE_IOERR_SHMMAP);
    }
}
