//! The one `unsafe` of the virtual-table glue: a table that hands out `&'static mut`
//! borrows of itself to [`VTab::open`](super::VTab::open).
//!
//! rusqlite's `open(&'vtab mut self)` lets a cursor type carry the table's lifetime.
//! Sandlite keeps tables and cursors in the connection's host state (which is
//! `'static`), so `'vtab` is `'static` here, and the table lives in a heap allocation
//! whose address never changes. The [`VTab`](super::VTab) contract (an `unsafe`
//! trait) forbids a cursor to keep the borrow, which makes handing out several over
//! time sound; the allocation is freed only when no cursor exists any more (each holds
//! a [`CursorToken`]), so even a cursor breaking the contract never sees freed memory.

use std::ptr::NonNull;
use std::sync::Arc;

/// Held by each cursor of a table.
pub(crate) type CursorToken = Arc<()>;

/// A heap-allocated table that may lend itself to cursors.
pub(crate) struct TableBox<T> {
    table: NonNull<T>,
    cursors: CursorToken,
}

// SAFETY: a `TableBox<T>` owns its `T` as a `Box<T>` would (only borrows derived from
// it, which never leave the thread that holds the box, point into it), so it may move to
// another thread when `T` may.
unsafe impl<T: Send> Send for TableBox<T> {}

impl<T> TableBox<T> {
    pub(crate) fn new(table: T) -> TableBox<T> {
        TableBox {
            table: NonNull::from(Box::leak(Box::new(table))),
            cursors: Arc::new(()),
        }
    }

    /// The table, for `best_index` and `destroy`.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `table` came from `Box::leak` and is freed only in `drop`; by the
        // `VTab` contract no cursor holds a borrow of it, so no `&mut` is live.
        unsafe { self.table.as_ref() }
    }

    /// The table, for the write and transaction methods (which SQLite may call while
    /// cursors are open, e.g. in `DELETE ... WHERE`).
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`; `&mut self` makes this the only borrow the box hands out
        // while it lives, and by the `VTab` contract no cursor holds one.
        unsafe { self.table.as_mut() }
    }

    /// A token for a new cursor: the table stays allocated while it exists.
    pub(crate) fn token(&self) -> CursorToken {
        self.cursors.clone()
    }

    /// The `&'static mut` borrow `VTab::open` takes.
    pub(crate) fn open_borrow(&mut self) -> &'static mut T
    where
        T: 'static,
    {
        // SAFETY: as in `get`: the allocation outlives every cursor (it is freed only
        // when no token is left, else leaked), and by the `VTab` contract the cursor
        // `open` makes does not keep this borrow, so it is unique while `open` runs.
        unsafe { &mut *self.table.as_ptr() }
    }
}

impl<T> Drop for TableBox<T> {
    fn drop(&mut self) {
        if Arc::strong_count(&self.cursors) == 1 {
            // SAFETY: `table` came from `Box::leak` and this is its only release; no
            // cursor is left that could refer to it.
            drop(unsafe { Box::from_raw(self.table.as_ptr()) });
        }
        // Otherwise a cursor outlives its table (the connection is being torn down
        // after a trap): leak the table rather than free memory a cursor might use.
    }
}
