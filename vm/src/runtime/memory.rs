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

pub(crate) struct MemoryEntity {
    pub ty: MemoryType,
    map: Reservation,
    pages: u32,
    /// Base and length, where native code reads them.
    vm: Box<VMMemory>,
}

impl MemoryEntity {
    pub(crate) fn new(ty: MemoryType, max_bytes: u64) -> Result<MemoryEntity> {
        let min_bytes = u64::from(ty.limits.min) * PAGE_SIZE;
        if min_bytes > max_bytes {
            return Err(Error::resource(format!(
                "memory of {} pages exceeds the store's limit of {max_bytes} bytes",
                ty.limits.min
            )));
        }
        let mut map = Reservation::new(RESERVATION)
            .map_err(|e| Error::resource(format!("cannot reserve memory: {e}")))?;
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
            vm,
        })
    }

    /// The memory's base and length, at a stable address.
    pub(crate) fn vm(&self) -> *const VMMemory {
        &*self.vm
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
        let store = store.as_context_mut();
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

    /// The memory's bytes.
    ///
    /// Pages mapped from a shared file (see [`Memory::map_shared_file`]) may change under
    /// this slice when another process writes the file.
    pub fn data<'a, T: 'a>(&self, store: &'a impl AsContext<Data = T>) -> &'a [u8] {
        self.entity(store.as_context()).data()
    }

    /// The memory's bytes, writable.
    pub fn data_mut<'a, T: 'a>(&self, store: &'a mut impl AsContextMut<Data = T>) -> &'a mut [u8] {
        self.entity_mut(store.as_context_mut()).data_mut()
    }

    /// The memory's bytes and the store's host data at once, both writable (a host
    /// function copying between guest memory and its own state needs both).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: &'a mut impl AsContextMut<Data = T>,
    ) -> (&'a mut [u8], &'a mut T) {
        let store = store.as_context_mut();
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
        let data = self.entity_mut(store.as_context_mut()).data_mut();
        let dst = checked_range(data.len(), offset, bytes.len())?;
        data[dst].copy_from_slice(bytes);
        Ok(())
    }

    /// Grows the memory by `delta` pages and returns the old size in pages.
    ///
    /// # Errors
    /// If the memory's maximum or the store's limit would be exceeded.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u32) -> Result<u32> {
        let store = store.as_context_mut();
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
        let e = self.entity_mut(store.as_context_mut());
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
        let e = self.entity_mut(store.as_context_mut());
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
