//! Bit sets and small enums of the VFS contract, with SQLite's numeric values.
#![forbid(unsafe_code)]

use std::ops::{BitOr, BitOrAssign};

/// Flags of `xOpen`: the `SQLITE_OPEN_*` bits
/// (<https://www.sqlite.org/c3ref/c_open_autoproxy.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenFlags(i32);

impl OpenFlags {
    /// Open for reading only.
    pub const READONLY: OpenFlags = OpenFlags(0x0000_0001);
    /// Open for reading and writing.
    pub const READWRITE: OpenFlags = OpenFlags(0x0000_0002);
    /// Create the file if it does not exist.
    pub const CREATE: OpenFlags = OpenFlags(0x0000_0004);
    /// Delete the file when it is closed.
    pub const DELETEONCLOSE: OpenFlags = OpenFlags(0x0000_0008);
    /// Fail if the file already exists (with `CREATE`).
    pub const EXCLUSIVE: OpenFlags = OpenFlags(0x0000_0010);
    /// The file is a main database.
    pub const MAIN_DB: OpenFlags = OpenFlags(0x0000_0100);
    /// The file is a temporary database.
    pub const TEMP_DB: OpenFlags = OpenFlags(0x0000_0200);
    /// The file is a transient database.
    pub const TRANSIENT_DB: OpenFlags = OpenFlags(0x0000_0400);
    /// The file is a main rollback journal.
    pub const MAIN_JOURNAL: OpenFlags = OpenFlags(0x0000_0800);
    /// The file is a temporary journal.
    pub const TEMP_JOURNAL: OpenFlags = OpenFlags(0x0000_1000);
    /// The file is a statement sub-journal.
    pub const SUBJOURNAL: OpenFlags = OpenFlags(0x0000_2000);
    /// The file is a super-journal (multi-database commit).
    pub const SUPER_JOURNAL: OpenFlags = OpenFlags(0x0000_4000);
    /// The file is a write-ahead log.
    pub const WAL: OpenFlags = OpenFlags(0x0008_0000);
    /// The name must not contain a symbolic link.
    pub const NOFOLLOW: OpenFlags = OpenFlags(0x0100_0000);

    /// The bits that tell which kind of file is opened.
    pub const KIND_MASK: OpenFlags = OpenFlags(0x000F_FF00);

    /// No flags.
    pub const fn empty() -> OpenFlags {
        OpenFlags(0)
    }

    /// Flags from SQLite's integer, keeping unknown bits.
    pub const fn from_bits_retain(bits: i32) -> OpenFlags {
        OpenFlags(bits)
    }

    /// The integer SQLite uses.
    pub const fn bits(self) -> i32 {
        self.0
    }

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set.
    pub const fn intersects(self, other: OpenFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// These flags without the bits of `other`.
    pub const fn without(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 & !other.0)
    }

    /// The file-kind bits alone (`MAIN_DB`, `WAL`, ...).
    pub const fn kind(self) -> OpenFlags {
        OpenFlags(self.0 & Self::KIND_MASK.0)
    }
}

impl BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for OpenFlags {
    fn bitor_assign(&mut self, rhs: OpenFlags) {
        self.0 |= rhs.0;
    }
}

/// Flags of `xSync`: `SQLITE_SYNC_NORMAL` or `SQLITE_SYNC_FULL`, optionally with
/// `SQLITE_SYNC_DATAONLY` (<https://www.sqlite.org/c3ref/c_sync_dataonly.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyncFlags(i32);

impl SyncFlags {
    /// Ordinary sync.
    pub const NORMAL: SyncFlags = SyncFlags(0x02);
    /// Full sync (`PRAGMA fullfsync`).
    pub const FULL: SyncFlags = SyncFlags(0x03);
    /// Only the data needs to reach the disk, not the metadata (the size aside).
    pub const DATAONLY: SyncFlags = SyncFlags(0x10);

    /// Flags from SQLite's integer.
    pub const fn from_bits_retain(bits: i32) -> SyncFlags {
        SyncFlags(bits)
    }

    /// The integer SQLite uses.
    pub const fn bits(self) -> i32 {
        self.0
    }

    /// True if `SQLITE_SYNC_DATAONLY` is set.
    pub const fn data_only(self) -> bool {
        self.0 & Self::DATAONLY.0 != 0
    }
}

impl BitOr for SyncFlags {
    type Output = SyncFlags;
    fn bitor(self, rhs: SyncFlags) -> SyncFlags {
        SyncFlags(self.0 | rhs.0)
    }
}

/// The question `xAccess` asks (`SQLITE_ACCESS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessCheck {
    /// Does the file exist (and, for a regular file, is it non-empty)?
    Exists,
    /// Is the file readable and writable?
    ReadWrite,
    /// Is the file readable?
    Read,
}

impl AccessCheck {
    /// The check for a `SQLITE_ACCESS_*` value, or `None` if unknown.
    pub fn from_raw(raw: i32) -> Option<AccessCheck> {
        Some(match raw {
            0 => AccessCheck::Exists,
            1 => AccessCheck::ReadWrite,
            2 => AccessCheck::Read,
            _ => return None,
        })
    }
}

/// Flags of `xShmLock`: `LOCK` or `UNLOCK`, combined with `SHARED` or `EXCLUSIVE`
/// (<https://www.sqlite.org/c3ref/c_shm_exclusive.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShmLockFlags(i32);

impl ShmLockFlags {
    /// Release the locks.
    pub const UNLOCK: ShmLockFlags = ShmLockFlags(1);
    /// Take the locks.
    pub const LOCK: ShmLockFlags = ShmLockFlags(2);
    /// Shared (read) locks.
    pub const SHARED: ShmLockFlags = ShmLockFlags(4);
    /// Exclusive (write) locks.
    pub const EXCLUSIVE: ShmLockFlags = ShmLockFlags(8);

    /// Flags from SQLite's integer.
    pub const fn from_bits_retain(bits: i32) -> ShmLockFlags {
        ShmLockFlags(bits)
    }

    /// The integer SQLite uses.
    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl BitOr for ShmLockFlags {
    type Output = ShmLockFlags;
    fn bitor(self, rhs: ShmLockFlags) -> ShmLockFlags {
        ShmLockFlags(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_compose() {
        let f = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_DB;
        assert_eq!(f.bits(), 0x106);
        assert!(f.contains(OpenFlags::CREATE));
        assert_eq!(f.kind(), OpenFlags::MAIN_DB);
        assert_eq!(f.without(OpenFlags::CREATE).bits(), 0x102);
        assert!(!f.intersects(OpenFlags::WAL | OpenFlags::READONLY));
    }

    #[test]
    fn access_and_sync_values() {
        assert_eq!(AccessCheck::from_raw(1), Some(AccessCheck::ReadWrite));
        assert_eq!(AccessCheck::from_raw(9), None);
        assert!((SyncFlags::NORMAL | SyncFlags::DATAONLY).data_only());
        assert!(!SyncFlags::FULL.data_only());
    }
}
