//! SQLite's database-file locking protocol over byte-range locks.
//!
//! The five lock levels and the byte ranges that implement them are those of SQLite's
//! unix VFS (`unixLock` and `posixUnlock` in `os_unix.c`; the protocol is described in
//! <https://www.sqlite.org/lockingv3.html>):
//!
//! | level     | held as                                                       |
//! |-----------|---------------------------------------------------------------|
//! | SHARED    | read lock on the shared range (510 bytes at `SHARED_FIRST`)   |
//! | RESERVED  | SHARED + write lock on `RESERVED_BYTE`                        |
//! | PENDING   | RESERVED + write lock on `PENDING_BYTE`                       |
//! | EXCLUSIVE | write lock on the shared range (+ PENDING/RESERVED if held)   |
//!
//! A SHARED lock is taken by read-locking `PENDING_BYTE` first and dropping it after the
//! shared range is read-locked, so a writer holding PENDING keeps new readers out.
//! Because every lock sits on the same bytes as in the unix VFS, a native `sqlite3`
//! (classic POSIX locks) and Sandlite (open-file-description locks) exclude each other.
//!
//! The protocol is written once, over the [`RangeLocks`] trait, and used both by disk
//! files (kernel OFD locks) and by memdb files (an in-process lock table), so the two
//! behave identically.
#![forbid(unsafe_code)]

use std::io;

use crate::codes::{
    PENDING_BYTE, RESERVED_BYTE, SHARED_FIRST, SHARED_SIZE, SQLITE_IOERR_CHECKRESERVEDLOCK,
    SQLITE_IOERR_LOCK, SQLITE_IOERR_RDLOCK, SQLITE_IOERR_UNLOCK,
};
use crate::error::VfsError;
use crate::sys::LockType;

/// A lock level of SQLite's locking protocol (`SQLITE_LOCK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(i32)]
pub enum LockLevel {
    /// No lock (`SQLITE_LOCK_NONE`).
    #[default]
    None = 0,
    /// Reading is allowed (`SQLITE_LOCK_SHARED`).
    Shared = 1,
    /// This connection plans to write (`SQLITE_LOCK_RESERVED`).
    Reserved = 2,
    /// Waiting for readers to leave before writing (`SQLITE_LOCK_PENDING`).
    Pending = 3,
    /// Writing to the database file (`SQLITE_LOCK_EXCLUSIVE`).
    Exclusive = 4,
}

impl LockLevel {
    /// The level for a `SQLITE_LOCK_*` value, or `None` if out of range.
    pub fn from_raw(raw: i32) -> Option<LockLevel> {
        Some(match raw {
            0 => LockLevel::None,
            1 => LockLevel::Shared,
            2 => LockLevel::Reserved,
            3 => LockLevel::Pending,
            4 => LockLevel::Exclusive,
            _ => return None,
        })
    }

    /// The `SQLITE_LOCK_*` value.
    pub fn as_raw(self) -> i32 {
        self as i32
    }
}

/// The byte ranges the protocol locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockRegion {
    Pending,
    Reserved,
    SharedRange,
    /// `PENDING_BYTE` and `RESERVED_BYTE` together (they are adjacent).
    PendingAndReserved,
    /// The whole file.
    Whole,
}

impl LockRegion {
    /// `(start, len)` in the file; `len == 0` means to the end of the file.
    pub(crate) fn range(self) -> (u64, u64) {
        match self {
            LockRegion::Pending => (PENDING_BYTE, 1),
            LockRegion::Reserved => (RESERVED_BYTE, 1),
            LockRegion::SharedRange => (SHARED_FIRST, SHARED_SIZE),
            LockRegion::PendingAndReserved => (PENDING_BYTE, 2),
            LockRegion::Whole => (0, 0),
        }
    }
}

/// Byte-range locks owned by one file handle, which conflict with those of every other
/// handle (in this process or another).
pub(crate) trait RangeLocks {
    /// Set, convert or release a lock on `region` without waiting. `Ok(false)` means
    /// another handle holds a conflicting lock.
    fn apply(&self, region: LockRegion, kind: LockType) -> io::Result<bool>;

    /// Does another handle hold any lock on `RESERVED_BYTE`?
    fn reserved_elsewhere(&self) -> io::Result<bool>;
}

fn io_error(code: i32, what: &str, name: &str, err: &io::Error) -> VfsError {
    VfsError::os(code, format!("{what} on {name}"), err)
}

/// Raise `*level` towards `wanted` (`xLock`). On a conflict returns `SQLITE_BUSY`, leaving
/// `*level` at the highest level actually reached (PENDING when EXCLUSIVE was wanted from
/// RESERVED but readers remain).
pub(crate) fn lock(
    locks: &impl RangeLocks,
    level: &mut LockLevel,
    wanted: LockLevel,
    name: &str,
) -> Result<(), VfsError> {
    if *level >= wanted {
        return Ok(());
    }
    let misuse = |why: &str| {
        VfsError::new(
            SQLITE_IOERR_LOCK,
            format!("invalid lock request on {name}: {why} ({level:?} -> {wanted:?})"),
        )
    };
    if wanted == LockLevel::Pending {
        return Err(misuse("PENDING is never requested directly"));
    }
    if *level == LockLevel::None && wanted != LockLevel::Shared {
        return Err(misuse("the first lock must be SHARED"));
    }
    if wanted == LockLevel::Reserved && *level != LockLevel::Shared {
        return Err(misuse("RESERVED needs SHARED first"));
    }
    let set = |region, kind| {
        locks
            .apply(region, kind)
            .map_err(|e| io_error(SQLITE_IOERR_LOCK, "lock", name, &e))
    };

    if wanted == LockLevel::Shared {
        // Read-lock PENDING_BYTE while taking the shared range so that a writer holding
        // PENDING keeps new readers out; then release it again.
        if !set(LockRegion::Pending, LockType::Read)? {
            return Err(VfsError::busy(name));
        }
        let shared = set(LockRegion::SharedRange, LockType::Read);
        let released = locks.apply(LockRegion::Pending, LockType::Unlock);
        let got_shared = shared?;
        if let Err(e) = released {
            return Err(io_error(SQLITE_IOERR_UNLOCK, "unlock", name, &e));
        }
        if !got_shared {
            return Err(VfsError::busy(name));
        }
        *level = LockLevel::Shared;
        return Ok(());
    }

    if wanted == LockLevel::Exclusive && *level == LockLevel::Reserved {
        if !set(LockRegion::Pending, LockType::Write)? {
            return Err(VfsError::busy(name));
        }
        *level = LockLevel::Pending;
    }
    let region = if wanted == LockLevel::Reserved {
        LockRegion::Reserved
    } else {
        LockRegion::SharedRange
    };
    if !set(region, LockType::Write)? {
        return Err(VfsError::busy(name));
    }
    *level = wanted;
    Ok(())
}

/// Lower `*level` to `wanted`, which must be SHARED or NONE (`xUnlock`).
pub(crate) fn unlock(
    locks: &impl RangeLocks,
    level: &mut LockLevel,
    wanted: LockLevel,
    name: &str,
) -> Result<(), VfsError> {
    if wanted > LockLevel::Shared {
        return Err(VfsError::new(
            SQLITE_IOERR_UNLOCK,
            format!("invalid unlock request on {name}: {wanted:?} is not SHARED or NONE"),
        ));
    }
    if *level <= wanted {
        return Ok(());
    }
    if *level > LockLevel::Shared {
        if wanted == LockLevel::Shared {
            // Converting the write lock on the shared range into a read lock cannot
            // conflict with anyone following the protocol.
            match locks.apply(LockRegion::SharedRange, LockType::Read) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(VfsError::new(
                        SQLITE_IOERR_RDLOCK,
                        format!("downgrade to SHARED on {name} conflicted with another lock"),
                    ));
                }
                Err(e) => return Err(io_error(SQLITE_IOERR_RDLOCK, "downgrade", name, &e)),
            }
        }
        locks
            .apply(LockRegion::PendingAndReserved, LockType::Unlock)
            .map_err(|e| io_error(SQLITE_IOERR_UNLOCK, "unlock", name, &e))?;
        *level = LockLevel::Shared;
    }
    if wanted == LockLevel::None {
        let result = locks.apply(LockRegion::Whole, LockType::Unlock);
        // Whatever happened, SQLite must not believe it still holds a lock.
        *level = LockLevel::None;
        result.map_err(|e| io_error(SQLITE_IOERR_UNLOCK, "unlock", name, &e))?;
    }
    Ok(())
}

/// Does any connection hold RESERVED or higher (`xCheckReservedLock`)?
pub(crate) fn check_reserved(
    locks: &impl RangeLocks,
    level: LockLevel,
    name: &str,
) -> Result<bool, VfsError> {
    if level > LockLevel::Shared {
        return Ok(true);
    }
    locks
        .reserved_elsewhere()
        .map_err(|e| io_error(SQLITE_IOERR_CHECKRESERVEDLOCK, "probe lock", name, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records what the protocol asks for and refuses selected requests.
    #[derive(Default)]
    struct Script {
        calls: RefCell<Vec<(LockRegion, LockType)>>,
        refuse: Option<(LockRegion, LockType)>,
    }

    impl RangeLocks for Script {
        fn apply(&self, region: LockRegion, kind: LockType) -> io::Result<bool> {
            self.calls.borrow_mut().push((region, kind));
            Ok(self.refuse != Some((region, kind)))
        }
        fn reserved_elsewhere(&self) -> io::Result<bool> {
            Ok(false)
        }
    }

    use LockRegion::*;
    use LockType::*;

    #[test]
    fn shared_takes_pending_then_range_then_drops_pending() {
        let s = Script::default();
        let mut level = LockLevel::None;
        lock(&s, &mut level, LockLevel::Shared, "db").unwrap();
        assert_eq!(level, LockLevel::Shared);
        assert_eq!(
            *s.calls.borrow(),
            vec![(Pending, Read), (SharedRange, Read), (Pending, Unlock)]
        );
    }

    #[test]
    fn exclusive_from_reserved_passes_through_pending() {
        let s = Script {
            refuse: Some((SharedRange, Write)),
            ..Script::default()
        };
        let mut level = LockLevel::Reserved;
        let err = lock(&s, &mut level, LockLevel::Exclusive, "db").unwrap_err();
        assert!(err.is_busy());
        assert_eq!(
            level,
            LockLevel::Pending,
            "keeps PENDING after failing EXCLUSIVE"
        );
        assert_eq!(
            *s.calls.borrow(),
            vec![(Pending, Write), (SharedRange, Write)]
        );
    }

    #[test]
    fn unlock_to_shared_downgrades_then_releases_pending_and_reserved() {
        let s = Script::default();
        let mut level = LockLevel::Exclusive;
        unlock(&s, &mut level, LockLevel::Shared, "db").unwrap();
        assert_eq!(level, LockLevel::Shared);
        assert_eq!(
            *s.calls.borrow(),
            vec![(SharedRange, Read), (PendingAndReserved, Unlock)]
        );
        unlock(&s, &mut level, LockLevel::None, "db").unwrap();
        assert_eq!(level, LockLevel::None);
        assert_eq!(s.calls.borrow().last(), Some(&(Whole, Unlock)));
    }

    #[test]
    fn invalid_transitions_are_errors_not_panics() {
        let s = Script::default();
        let mut level = LockLevel::None;
        assert!(lock(&s, &mut level, LockLevel::Reserved, "db").is_err());
        assert!(lock(&s, &mut level, LockLevel::Pending, "db").is_err());
        assert!(unlock(&s, &mut level, LockLevel::Reserved, "db").is_err());
        assert_eq!(level, LockLevel::None);
        assert!(s.calls.borrow().is_empty());
    }

    #[test]
    fn lock_level_round_trips_raw_values() {
        for raw in 0..5 {
            assert_eq!(LockLevel::from_raw(raw).unwrap().as_raw(), raw);
        }
        assert_eq!(LockLevel::from_raw(5), None);
    }
}
