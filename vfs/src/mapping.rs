//! A safe view of a mapped shared-memory region, for tests and Rust users; the VM maps
//! regions into guest memory itself.
//!
//! Other handles and processes change the bytes at any time, so every access goes
//! through atomics: concurrent use is then defined behaviour, not a data race.

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::codes::SQLITE_IOERR_SHMMAP;
use crate::error::VfsError;
use crate::shm::ShmRegion;

impl ShmRegion<'_> {
    /// Map the region into this process (`MAP_SHARED`). The mapping stays valid after
    /// the file handle is closed.
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_SHMMAP` if `mmap` fails.
    pub fn map(&self) -> Result<ShmMapping, VfsError> {
        let mut options = MmapOptions::new();
        options.offset(self.offset).len(self.len);
        let map = if self.read_only {
            options.map_raw_read_only(&self.fd)
        } else {
            options.map_raw(&self.fd)
        };
        let map = map.map_err(|e| VfsError::os(SQLITE_IOERR_SHMMAP, "mmap of -shm region", &e))?;
        Ok(ShmMapping {
            map,
            read_only: self.read_only,
        })
    }
}

/// A shared-memory region mapped into this process. Other handles and processes may
/// change it at any time, so every access is an atomic load or store.
///
/// If another process truncates the `-shm` file below the mapping (which the protocol
/// only allows once every user has detached), access raises `SIGBUS`.
#[derive(Debug)]
pub struct ShmMapping {
    map: MmapRaw,
    read_only: bool,
}

impl ShmMapping {
    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if the mapping has no bytes.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// The start of the mapping, for callers that manage access themselves.
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    fn check(&self, offset: usize, len: usize, align: usize, write: bool) -> Result<(), VfsError> {
        let fits = offset.checked_add(len).is_some_and(|end| end <= self.len());
        if !fits || !offset.is_multiple_of(align) {
            return Err(VfsError::new(
                SQLITE_IOERR_SHMMAP,
                format!(
                    "shared-memory access of {len} bytes at {offset} is out of bounds or misaligned"
                ),
            ));
        }
        if write && self.read_only {
            return Err(VfsError::new(
                SQLITE_IOERR_SHMMAP,
                "write to a read-only shared-memory mapping",
            ));
        }
        Ok(())
    }

    fn byte(&self, index: usize) -> &AtomicU8 {
        // SAFETY: callers checked `index < len`, so the pointer lies inside the mapping,
        // which lives as long as `self`; `AtomicU8` has alignment 1; every access to the
        // shared bytes from this crate is atomic, so concurrent use is not a data race.
        unsafe { AtomicU8::from_ptr(self.map.as_mut_ptr().add(index)) }
    }

    /// Copy bytes at `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_SHMMAP` if the range is outside the mapping.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), VfsError> {
        self.check(offset, buf.len(), 1, false)?;
        for (i, out) in buf.iter_mut().enumerate() {
            *out = self.byte(offset + i).load(Ordering::Relaxed);
        }
        Ok(())
    }

    /// Copy `data` to `offset`.
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_SHMMAP` if the range is outside the mapping or it is read-only.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), VfsError> {
        self.check(offset, data.len(), 1, true)?;
        for (i, &value) in data.iter().enumerate() {
            self.byte(offset + i).store(value, Ordering::Relaxed);
        }
        Ok(())
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: callers checked that the 4 bytes at `offset` lie inside the mapping and
        // that `offset` is a multiple of 4; the mapping starts page-aligned, so the
        // pointer is aligned for `AtomicU32`. It lives as long as `self`, and all access
        // from this crate is atomic.
        unsafe { AtomicU32::from_ptr(self.map.as_mut_ptr().add(offset).cast()) }
    }

    /// Atomically load the native-endian `u32` at `offset` (a multiple of 4).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_SHMMAP` if out of bounds or misaligned.
    pub fn load_u32(&self, offset: usize) -> Result<u32, VfsError> {
        self.check(offset, 4, 4, false)?;
        Ok(self.word(offset).load(Ordering::SeqCst))
    }

    /// Atomically store a native-endian `u32` at `offset` (a multiple of 4).
    ///
    /// # Errors
    ///
    /// `SQLITE_IOERR_SHMMAP` if out of bounds, misaligned or read-only.
    pub fn store_u32(&self, offset: usize, value: u32) -> Result<(), VfsError> {
        self.check(offset, 4, 4, true)?;
        self.word(offset).store(value, Ordering::SeqCst);
        Ok(())
    }
}
