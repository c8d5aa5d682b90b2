//! Copies of values whose size the database chooses: when the host cannot allocate
//! them, reading the value is an error, never an abort of the process.
//!
//! This test binary's global allocator refuses any single allocation above
//! [`REFUSE_ABOVE`] (as an address-space limit would), so a copy that assumed success
//! would abort the whole binary instead of failing the test.

use sandlite_driver::types::Value;
use sandlite_driver::{Connection, Error};
use std::alloc::{GlobalAlloc, Layout, System};

const REFUSE_ABOVE: usize = 48 << 20;

/// The system allocator, refusing allocations larger than [`REFUSE_ABOVE`].
mod refusing {
    use super::*;

    pub struct Refusing;

    // SAFETY: every call is forwarded unchanged to `System`, except that too-large
    // requests get null, which `GlobalAlloc` allows ("the allocator could not satisfy
    // the request").
    unsafe impl GlobalAlloc for Refusing {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.size() > REFUSE_ABOVE {
                return std::ptr::null_mut();
            }
            // SAFETY: the caller's contract for `alloc` is passed on as is.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if new_size > REFUSE_ABOVE {
                return std::ptr::null_mut();
            }
            // SAFETY: the caller's contract for `realloc` is passed on as is.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static ALLOCATOR: refusing::Refusing = refusing::Refusing;

#[test]
fn values_too_large_for_the_host_are_errors_and_the_connection_goes_on() {
    let conn = Connection::open_in_memory().unwrap();
    let big = 64 << 20;
    let mut stmt = conn
        .prepare("SELECT zeroblob(?1), CAST(zeroblob(?1) AS TEXT), length(zeroblob(?1))")
        .unwrap();
    let mut rows = stmt.query([big]).unwrap();
    let row = rows.next().unwrap().unwrap();
    // The value itself is read in place in SQLite's memory.
    assert_eq!(row.get::<_, i64>(2).unwrap(), big);
    for result in [
        row.get::<_, Vec<u8>>(0).map(|_| ()),
        row.get::<_, Value>(0).map(|_| ()),
        row.get::<_, String>(1).map(|_| ()),
        row.get::<_, Value>(1).map(|_| ()),
        row.get::<_, Box<str>>(1).map(|_| ()),
    ] {
        match result {
            Err(Error::FromSqlConversionFailure(_, _, source)) => {
                assert!(source.to_string().contains("out of memory"), "{source}");
            }
            other => panic!("expected a conversion failure, got {other:?}"),
        }
    }
    let e = row.get_ref(0).unwrap_err();
    assert_eq!(e.sqlite_code(), Some(sandlite_driver::ffi::SQLITE_NOMEM));
    drop(rows);
    drop(stmt);
    // Small values still copy, and the connection works.
    let small: Vec<u8> = conn
        .query_row("SELECT zeroblob(1000)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(small.len(), 1000);
}
