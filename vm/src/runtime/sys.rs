//! Virtual memory for linear memories: the only place the runtime talks to the OS.
//!
//! A linear memory reserves its whole possible range up front, inaccessible
//! (`PROT_NONE`), and makes pages readable and writable as it grows. The base address
//! never moves, so compiled code and the host may keep pointers into it, and the VFS can
//! map a file's pages (the WAL index) straight into it.

use memmap2::{MmapMut, MmapOptions};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The host's page size; every protection change is in these units.
pub(crate) fn host_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n <= 0 { 4096 } else { n as usize }
}

/// A reserved range of address space whose first `accessible` bytes are read-write.
pub(crate) struct Reservation {
    map: MmapMut,
    accessible: usize,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("reserved", &self.map.len())
            .field("accessible", &self.accessible)
            .finish()
    }
}

fn protect(ptr: *mut u8, len: usize, prot: libc::c_int) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: callers pass a page-aligned range inside a mapping this module owns.
    let rc = unsafe { libc::mprotect(ptr.cast(), len, prot) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Reservation {
    /// Reserves `reserve` bytes (rounded up to pages), none of them accessible.
    pub(crate) fn new(reserve: usize) -> io::Result<Reservation> {
        let page = host_page_size();
        let reserve = reserve.div_ceil(page) * page;
        let map = MmapOptions::new()
            .len(reserve)
            .no_reserve_swap()
            .map_anon()?;
        protect(map.as_ptr().cast_mut(), reserve, libc::PROT_NONE)?;
        Ok(Reservation { map, accessible: 0 })
    }

    pub(crate) fn base(&self) -> *mut u8 {
        self.map.as_ptr().cast_mut()
    }

    /// Bytes of address space reserved (a multiple of the host page size).
    pub(crate) fn reserved(&self) -> usize {
        self.map.len()
    }

    /// Makes the first `len` bytes readable and writable (new pages read as zero).
    pub(crate) fn grow_to(&mut self, len: usize) -> io::Result<()> {
        if len <= self.accessible {
            return Ok(());
        }
        if len > self.map.len() {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "beyond the reserved range",
            ));
        }
        let page = host_page_size();
        let start = self.accessible.div_ceil(page) * page;
        let end = len.div_ceil(page) * page;
        // SAFETY: `start` is within the mapping (start <= end <= map.len()).
        let ptr = unsafe { self.base().add(start) };
        protect(ptr, end - start, libc::PROT_READ | libc::PROT_WRITE)?;
        self.accessible = len;
        Ok(())
    }

    /// Maps `len` bytes of `file` from `file_offset`, shared, over `[offset, offset + len)`
    /// of the accessible range. Writes through either side are seen by the other and by
    /// every process mapping the file.
    pub(crate) fn map_file_shared(
        &mut self,
        offset: usize,
        len: usize,
        file: BorrowedFd<'_>,
        file_offset: u64,
    ) -> io::Result<()> {
        self.check_page_range(offset, len)?;
        // SAFETY: the target range lies inside this reservation's accessible part (checked
        // above), which this value owns; MAP_FIXED replaces exactly those pages and nothing
        // else. The guest may observe the file's contents there, which is the point.
        let p = unsafe {
            libc::mmap(
                self.base().add(offset).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                file.as_raw_fd(),
                file_offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Puts fresh zeroed private memory back over `[offset, offset + len)` (after
    /// `map_file_shared`).
    pub(crate) fn unmap_file(&mut self, offset: usize, len: usize) -> io::Result<()> {
        self.check_page_range(offset, len)?;
        // SAFETY: as in `map_file_shared`: the range is inside the accessible part of a
        // mapping this value owns.
        let p = unsafe {
            libc::mmap(
                self.base().add(offset).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn check_page_range(&self, offset: usize, len: usize) -> io::Result<()> {
        let page = host_page_size();
        let end = offset.checked_add(len);
        if !offset.is_multiple_of(page)
            || !len.is_multiple_of(page)
            || end.is_none_or(|e| e > self.accessible.div_ceil(page) * page)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "range is not page-aligned inside the accessible memory",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_keeps_base_and_zeroes() {
        let mut r = Reservation::new(1 << 30).unwrap();
        let base = r.base();
        r.grow_to(65536).unwrap();
        // SAFETY: the first 64 KiB were just made accessible.
        unsafe {
            assert_eq!(*base.add(100), 0);
            *base.add(100) = 7;
        }
        r.grow_to(3 * 65536).unwrap();
        assert_eq!(r.base(), base);
        // SAFETY: still accessible after growth.
        unsafe {
            assert_eq!(*base.add(100), 7);
            assert_eq!(*base.add(2 * 65536), 0);
        }
        assert!(r.grow_to(2 << 30).is_err());
    }

    #[test]
    fn shared_file_mapping_round_trips() {
        use std::io::{Read, Seek, Write};
        let dir = std::env::temp_dir().join(format!("sandlite-sys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shm");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.write_all(&[1u8; 8192]).unwrap();
        let page = host_page_size();
        let mut r = Reservation::new(1 << 24).unwrap();
        r.grow_to(4 * page).unwrap();
        use std::os::fd::AsFd;
        r.map_file_shared(page, page, file.as_fd(), 0).unwrap();
        // SAFETY: the page at `page` is mapped to the file.
        unsafe {
            assert_eq!(*r.base().add(page), 1);
            *r.base().add(page + 1) = 9;
        }
        let mut buf = [0u8; 2];
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.read_exact(&mut buf).unwrap();
        assert_eq!(buf, [1, 9]);
        r.unmap_file(page, page).unwrap();
        // SAFETY: private zero pages are back.
        unsafe { assert_eq!(*r.base().add(page + 1), 0) };
        assert!(r.map_file_shared(1, page, file.as_fd(), 0).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
