//! Linear memories.

use super::store::{AsContext, AsContextMut, StoreId};
use super::sys::Reservation;
use super::vmctx::VMMemory;
use crate::error::{Error, Result};
use crate::types::{MAX_PAGES, MemoryType, PAGE_SIZE};
use std::os::fd::BorrowedFd;

/// Address space reserved per memory: 4 GiB of memory plus 4 GiB so that any 32-bit
/// address plus any 32-bit offset stays inside the reservation (compiled code relies on
/// this instead of bounds checks), plus a page for wide accesses at the very end.
pub(crate) const RESERVATION: usize = (8 << 30) + 65536;

/// Inaccessible bytes kept after the largest size a bounds-checked memory may reach.
pub(crate) const GUARD: usize = 65536;

/// How a linear memory keeps accesses inside it, decided when the memory is created.
///
/// Every memory first tries to reserve [`GuardPages`](MemoryMode::GuardPages) worth of
/// address space (8 GiB + 64 KiB). Where that is refused (an address-space limit such
/// as `ulimit -v` or `prlimit --as`, common on shared hosts and in containers), it
/// reserves only up to the largest size it may ever reach, the smaller of its declared
/// maximum and the store's [`max_memory_bytes`](crate::StoreLimits::max_memory_bytes),
/// plus a 64 KiB guard, and runs [`BoundsChecked`](MemoryMode::BoundsChecked). The base
/// address never moves in either mode.
///
/// The interpreter checks every access explicitly (`address + width <= size`) in both
/// modes, so only code that relies on faults instead of checks (a native compiler) has
/// to tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryMode {
    /// The whole 8 GiB + 64 KiB range that any 32-bit address plus 32-bit offset can
    /// reach is reserved: an access outside the memory lands on an inaccessible page,
    /// so compiled code may omit bounds checks.
    GuardPages,
    /// Only the memory's reachable maximum plus a 64 KiB guard is reserved: accesses
    /// must be bounds-checked explicitly, and the memory cannot grow past what was
    /// reserved (raising the store's limit later does not enlarge it).
    BoundsChecked,
}

pub(crate) struct MemoryEntity {
    pub ty: MemoryType,
    map: Reservation,
    pages: u32,
    guarded: bool,
    /// Base and length, where native code reads them.
    vm: Box<VMMemory>,
}

impl MemoryEntity {
    pub(crate) fn new(ty: MemoryType, max_bytes: u64) -> Result<MemoryEntity> {
        Self::create(ty, max_bytes, true)
    }

    /// Whether a memory created now would get guard pages (the address space has room
    /// for the full reservation). Compiled code is generated for what this says.
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn guard_pages_available() -> bool {
        Reservation::new(RESERVATION).is_ok()
    }

    /// `new`, with `try_guarded` false skipping the full reservation (as if refused).
    fn create(ty: MemoryType, max_bytes: u64, try_guarded: bool) -> Result<MemoryEntity> {
        let min_bytes = u64::from(ty.limits.min) * PAGE_SIZE;
        if min_bytes > max_bytes {
            return Err(Error::resource(format!(
                "memory of {} pages exceeds the store's limit of {max_bytes} bytes",
                ty.limits.min
            )));
        }
        let full = if try_guarded {
            Reservation::new(RESERVATION)
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::OutOfMemory))
        };
        let (mut map, guarded) = match full {
            Ok(map) => (map, true),
            Err(full_error) => {
                let reserve = bounded_reservation(&ty, max_bytes);
                let map = Reservation::new(reserve).map_err(|e| {
                    Error::resource(format!(
                        "cannot reserve memory: {full_error} (for {RESERVATION} bytes), \
                         and {e} for the {reserve} bytes of a bounds-checked memory"
                    ))
                })?;
                (map, false)
            }
        };
        map.grow_to(min_bytes as usize)
            .map_err(|e| Error::resource(format!("cannot commit memory: {e}")))?;
        let vm = Box::new(VMMemory {
            base: map.base(),
            len: min_bytes,
        });
        Ok(MemoryEntity {
            ty,
            map,
            pages: ty.limits.min,
            guarded,
            vm,
        })
    }

    /// The memory's base and length, at a stable address.
    pub(crate) fn vm(&self) -> *const VMMemory {
        &*self.vm
    }

    /// True when the memory has the full guard reservation ([`MemoryMode::GuardPages`]);
    /// false when only its reachable maximum is reserved and accesses need explicit
    /// bounds checks.
    pub(crate) fn is_guarded(&self) -> bool {
        self.guarded
    }

    pub(crate) fn base(&self) -> *mut u8 {
        self.map.base()
    }

    /// Accessible bytes.
    pub(crate) fn len(&self) -> usize {
        self.pages as usize * PAGE_SIZE as usize
    }

    pub(crate) fn pages(&self) -> u32 {
        self.pages
    }

    /// `memory.grow`: the old size in pages, or `None` if the memory cannot grow that far.
    pub(crate) fn grow(&mut self, delta: u32, max_bytes: u64) -> Option<u32> {
        let old = self.pages;
        let new = u64::from(old) + u64::from(delta);
        let max = u64::from(self.ty.limits.max.unwrap_or(MAX_PAGES)).min(u64::from(MAX_PAGES));
        if new > max || new * PAGE_SIZE > max_bytes {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        // A bounds-checked memory keeps its guard: it never grows into the last
        // `GUARD` bytes of its reservation (the store's limit may have been raised since).
        if !self.guarded && new * PAGE_SIZE + GUARD as u64 > self.map.reserved() as u64 {
            return None;
        }
        self.map.grow_to((new * PAGE_SIZE) as usize).ok()?;
        self.pages = new as u32;
        self.vm.len = new * PAGE_SIZE;
        Some(old)
    }

    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: the first `len()` bytes of the reservation are accessible (grow_to made
        // them so) and stay mapped as long as `self` lives; `&self` keeps out writers that go
        // through the store.
        unsafe { std::slice::from_raw_parts(self.base(), self.len()) }
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.len()) }
    }
}

/// Bytes to reserve for a bounds-checked memory: the largest size `memory.grow` can
/// reach (its declared maximum, the 4 GiB of 32-bit memories and the store's limit,
/// whichever is least, in whole pages) plus [`GUARD`].
fn bounded_reservation(ty: &MemoryType, max_bytes: u64) -> usize {
    let max_pages = u64::from(ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES));
    let reachable = (max_pages * PAGE_SIZE).min(max_bytes / PAGE_SIZE * PAGE_SIZE);
    // At most 4 GiB, so this fits a 64-bit usize.
    reachable as usize + GUARD
}

/// A linear memory, owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// An access outside a memory's current size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("out of bounds memory access: {len} bytes at {offset:#x} in a memory of {size} bytes")]
pub struct MemoryAccessError {
    pub offset: usize,
    pub len: usize,
    pub size: usize,
}

impl Memory {
    /// Creates a memory in `store` (not part of any instance; it can be imported).
    ///
    /// # Errors
    /// If the minimum exceeds the store's memory limit or address space is short.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = store.as_context_mut().0;
        let limit = store.inner.limits.max_memory_bytes;
        let entity = MemoryEntity::new(ty, limit)?;
        store.inner.memories.push(entity);
        Ok(Memory {
            store: store.id(),
            index: (store.inner.memories.len() - 1) as u32,
        })
    }

    fn entity<'s, T>(&self, store: &'s super::store::Store<T>) -> &'s MemoryEntity {
        assert_eq!(store.id(), self.store, "memory used with another store");
        &store.inner.memories[self.index as usize]
    }

    fn entity_mut<'s, T>(&self, store: &'s mut super::store::Store<T>) -> &'s mut MemoryEntity {
        assert_eq!(store.id(), self.store, "memory used with another store");
        &mut store.inner.memories[self.index as usize]
    }

    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.entity(store.as_context()).ty
    }

    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u32 {
        self.entity(store.as_context()).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.entity(store.as_context()).len()
    }

    /// How this memory keeps accesses inside it: the full guard-page reservation, or
    /// a reservation of only its reachable maximum with explicit bounds checks (when
    /// the address space was too small for the full one). See [`MemoryMode`].
    pub fn mode(&self, store: impl AsContext) -> MemoryMode {
        if self.entity(store.as_context()).is_guarded() {
            MemoryMode::GuardPages
        } else {
            MemoryMode::BoundsChecked
        }
    }

    /// The memory's bytes.
    ///
    /// Pages mapped from a shared file (see [`Memory::map_shared_file`]) may change under
    /// this slice when another process writes the file.
    pub fn data<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> &'a [u8] {
        self.entity(store.as_context()).data()
    }

    /// The memory's bytes, writable.
    pub fn data_mut<'a, T: 'a>(&self, store: &'a mut impl AsContextMut<Data = T>) -> &'a mut [u8] {
        self.entity_mut(store.as_context_mut().0).data_mut()
    }

    /// The memory's bytes and the store's host data at once, both writable (a host
    /// function copying between guest memory and its own state needs both).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: &'a mut impl AsContextMut<Data = T>,
    ) -> (&'a mut [u8], &'a mut T) {
        let store = store.as_context_mut().0;
        assert_eq!(store.id(), self.store, "memory used with another store");
        let (inner, data) = store.split_mut();
        (inner.memories[self.index as usize].data_mut(), data)
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    /// If the range is not inside the memory.
    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buf: &mut [u8],
    ) -> Result<(), MemoryAccessError> {
        let data = self.entity(store.as_context()).data();
        let src = checked_range(data.len(), offset, buf.len())?;
        buf.copy_from_slice(&data[src]);
        Ok(())
    }

    /// Copies `bytes` into the memory at `offset`.
    ///
    /// # Errors
    /// If the range is not inside the memory.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        bytes: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let data = self.entity_mut(store.as_context_mut().0).data_mut();
        let dst = checked_range(data.len(), offset, bytes.len())?;
        data[dst].copy_from_slice(bytes);
        Ok(())
    }

    /// Grows the memory by `delta` pages and returns the old size in pages.
    ///
    /// # Errors
    /// If the memory's maximum or the store's limit would be exceeded.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u32) -> Result<u32> {
        let store = store.as_context_mut().0;
        let limit = store.inner.limits.max_memory_bytes;
        self.entity_mut(store)
            .grow(delta, limit)
            .ok_or_else(|| Error::resource("memory cannot grow that far"))
    }

    /// Maps `len` bytes of `file` starting at `file_offset` over the memory at `offset`,
    /// shared: the guest and every process mapping the file see each other's writes
    /// (SQLite's WAL index). `offset` and `len` must be multiples of the host page size and
    /// inside the memory.
    ///
    /// # Errors
    /// If the range is misaligned or outside the memory, or the OS refuses the mapping.
    pub fn map_shared_file(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        len: usize,
        file: BorrowedFd<'_>,
        file_offset: u64,
    ) -> Result<()> {
        let e = self.entity_mut(store.as_context_mut().0);
        e.map
            .map_file_shared(offset, len, file, file_offset)
            .map_err(|err| Error::resource(format!("cannot map shared file: {err}")))
    }

    /// Undoes [`Memory::map_shared_file`]: the range becomes zeroed private memory again.
    ///
    /// # Errors
    /// If the range is misaligned or outside the memory.
    pub fn unmap_shared_file(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        len: usize,
    ) -> Result<()> {
        let e = self.entity_mut(store.as_context_mut().0);
        e.map
            .unmap_file(offset, len)
            .map_err(|err| Error::resource(format!("cannot unmap shared file: {err}")))
    }
}

fn checked_range(
    size: usize,
    offset: usize,
    len: usize,
) -> Result<std::ops::Range<usize>, MemoryAccessError> {
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(offset..end),
        _ => Err(MemoryAccessError { offset, len, size }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Limits;

    fn ty(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
        }
    }

    #[test]
    fn full_reservation_is_guarded() {
        let m = MemoryEntity::new(ty(1, None), 1 << 32).unwrap();
        assert!(m.is_guarded());
        assert_eq!(m.map.reserved(), RESERVATION);
    }

    #[test]
    fn bounds_checked_memory_reserves_its_reachable_maximum_and_keeps_its_base() {
        // The store's limit (3.5 pages) binds: 3 whole pages are reachable.
        let mut m = MemoryEntity::create(ty(1, None), 3 * PAGE_SIZE + 100, false).unwrap();
        assert!(!m.is_guarded());
        assert_eq!(m.map.reserved(), 3 * PAGE_SIZE as usize + GUARD);
        let base = m.base();
        m.data_mut()[PAGE_SIZE as usize - 1] = 7;
        assert_eq!(m.grow(2, 1 << 32), Some(1));
        assert_eq!(m.base(), base);
        assert_eq!(m.len(), 3 * PAGE_SIZE as usize);
        assert_eq!(m.data()[PAGE_SIZE as usize - 1], 7);
        m.data_mut()[3 * PAGE_SIZE as usize - 1] = 9;
        // Past the reservation: refused, even though the limit given to grow is higher.
        assert_eq!(m.grow(1, 1 << 32), None);
        assert_eq!(m.pages(), 3);
        // The declared maximum binds when it is smaller.
        let m = MemoryEntity::create(ty(0, Some(2)), 1 << 32, false).unwrap();
        assert_eq!(m.map.reserved(), 2 * PAGE_SIZE as usize + GUARD);
        // A minimum beyond the store's limit is still refused.
        assert!(MemoryEntity::create(ty(5, None), 4 * PAGE_SIZE, false).is_err());
    }
}
