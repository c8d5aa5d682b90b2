//! WAL shared memory: regions, shared-memory locks, the dead-man switch, and sharing a
//! WAL database with the native `sqlite3` shell.

mod common;

use std::path::Path;

use common::{open_db, sqlite3_cli, sqlite3_run, sqlite3_session};
use sandlite_vfs::codes::{
    SQLITE_BUSY, SQLITE_FCNTL_EXTERNAL_READER, SQLITE_IOERR_SHMLOCK, SQLITE_IOERR_SHMMAP,
};
use sandlite_vfs::{FileControlOutcome, LockLevel, ShmLockFlags, Vfs, shm_page_size};

const REGION: u32 = 32768;
const LOCK_SHARED: ShmLockFlags = ShmLockFlags::from_bits_retain(2 | 4);
const LOCK_EXCLUSIVE: ShmLockFlags = ShmLockFlags::from_bits_retain(2 | 8);
const UNLOCK_SHARED: ShmLockFlags = ShmLockFlags::from_bits_retain(1 | 4);
const UNLOCK_EXCLUSIVE: ShmLockFlags = ShmLockFlags::from_bits_retain(1 | 8);

fn shm_len(dir: &Path, db: &str) -> u64 {
    std::fs::metadata(dir.join(format!("{db}-shm")))
        .unwrap()
        .len()
}

#[test]
fn regions_exist_only_when_extended_and_are_shared_between_handles() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut a = open_db(&vfs, "w.db");
    let mut b = open_db(&vfs, "w.db");
    assert!(a.supports_shm());

    assert!(
        a.shm_map(0, REGION, false).unwrap().is_none(),
        "nothing allocated yet"
    );
    let region = a.shm_map(1, REGION, true).unwrap().unwrap();
    // Pages of at most a region: the region is its own mapping. 64 KiB pages (a 64 KiB
    // arm64 kernel, or SANDLITE_SHM_PAGE_SIZE=65536): it is the second half of page 0.
    let large_pages = shm_page_size().unwrap() > u64::from(REGION);
    let (offset, len, s1) = if large_pages {
        (0, 65536, 32768)
    } else {
        (32768, 32768, 0)
    };
    assert_eq!(
        (region.offset, region.len, region.start, region.read_only),
        (offset, len, s1, false)
    );
    let map_a1 = region.map().unwrap();
    assert_eq!(shm_len(dir.path(), "w.db"), 65536);
    let region0 = a.shm_map(0, REGION, false).unwrap().unwrap();
    assert_eq!((region0.offset, region0.start), (0, 0));
    let map_a0 = region0.map().unwrap();

    // The other handle sees the same bytes, both ways.
    let map_b1 = b.shm_map(1, REGION, false).unwrap().unwrap().map().unwrap();
    map_a1.store_u32(s1 + 8, 0xDEAD_BEEF).unwrap();
    assert_eq!(map_b1.load_u32(s1 + 8).unwrap(), 0xDEAD_BEEF);
    map_b1.write(s1 + 100, b"from b").unwrap();
    let mut buf = [0u8; 6];
    map_a1.read(s1 + 100, &mut buf).unwrap();
    assert_eq!(&buf, b"from b");
    // Distinct regions are distinct bytes.
    assert_eq!(map_a0.load_u32(8).unwrap(), 0);
    assert!(b.shm_map(2, REGION, false).unwrap().is_none());

    // Mappings check bounds and alignment instead of faulting.
    assert_eq!(map_a0.len(), len);
    assert_eq!(
        map_a0.load_u32(len).unwrap_err().code(),
        SQLITE_IOERR_SHMMAP
    );
    assert_eq!(map_a0.load_u32(2).unwrap_err().code(), SQLITE_IOERR_SHMMAP);
    assert_eq!(
        map_a0.write(len - 1, b"xx").unwrap_err().code(),
        SQLITE_IOERR_SHMMAP
    );
    // The region size cannot change under SQLite's feet.
    assert_eq!(
        a.shm_map(0, 65536, false).unwrap_err().code(),
        SQLITE_IOERR_SHMMAP
    );
}

#[test]
fn shm_locks_exclude_between_handles() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut a = open_db(&vfs, "w.db");
    let mut b = open_db(&vfs, "w.db");
    assert_eq!(
        a.shm_lock(0, 1, LOCK_EXCLUSIVE).unwrap_err().code(),
        SQLITE_IOERR_SHMLOCK,
        "no shared memory yet"
    );
    a.shm_open().unwrap();
    b.shm_open().unwrap();

    // Writer lock (slot 0): exclusive against shared and exclusive.
    a.shm_lock(0, 1, LOCK_EXCLUSIVE).unwrap();
    assert_eq!(
        b.shm_lock(0, 1, LOCK_SHARED).unwrap_err().code(),
        SQLITE_BUSY
    );
    assert_eq!(
        b.shm_lock(0, 1, LOCK_EXCLUSIVE).unwrap_err().code(),
        SQLITE_BUSY
    );
    b.shm_lock(1, 1, LOCK_EXCLUSIVE).unwrap();
    assert_eq!(a.shm_lock_masks(), (0, 0b1));
    assert_eq!(b.shm_lock_masks(), (0, 0b10));
    a.shm_lock(0, 1, UNLOCK_EXCLUSIVE).unwrap();
    b.shm_lock(0, 1, LOCK_SHARED).unwrap();

    // Read marks: shared locks coexist, exclusive ones wait for readers to leave.
    a.shm_lock(3, 1, LOCK_SHARED).unwrap();
    b.shm_lock(3, 1, LOCK_SHARED).unwrap();
    a.shm_lock(3, 1, LOCK_SHARED).unwrap(); // held already: a no-op
    assert_eq!(
        a.shm_lock(3, 5, LOCK_EXCLUSIVE).unwrap_err().code(),
        SQLITE_BUSY
    );
    b.shm_lock(3, 1, UNLOCK_SHARED).unwrap();
    b.shm_lock(3, 1, UNLOCK_SHARED).unwrap(); // not held: nothing to do
    assert_eq!(b.shm_lock_masks(), (0b1, 0b10));
    a.shm_lock(3, 1, UNLOCK_SHARED).unwrap();
    a.shm_lock(3, 5, LOCK_EXCLUSIVE).unwrap();
    assert_eq!(a.shm_lock_masks(), (0, 0b1111_1000));
    assert_eq!(
        b.shm_lock(7, 1, LOCK_SHARED).unwrap_err().code(),
        SQLITE_BUSY
    );

    // Unmapping releases the handle's locks.
    a.shm_unmap(false);
    assert_eq!(a.shm_lock_masks(), (0, 0));
    b.shm_lock(7, 1, LOCK_SHARED).unwrap();

    // Malformed requests are errors, not panics.
    for (offset, n, flags) in [
        (0, 0, LOCK_SHARED),
        (7, 2, LOCK_EXCLUSIVE),
        (u32::MAX, 2, LOCK_EXCLUSIVE),
        (0, 2, LOCK_SHARED),
        (0, 1, ShmLockFlags::from_bits_retain(2)),
    ] {
        let err = b.shm_lock(offset, n, flags).unwrap_err();
        assert_eq!(err.code(), SQLITE_IOERR_SHMLOCK, "{offset} {n} {flags:?}");
    }
}

#[test]
fn the_first_user_resets_a_stale_shm_file_and_later_users_join() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let stale = dir.path().join("w.db-shm");
    std::fs::write(&stale, vec![0xAB; 65536]).unwrap();

    let mut a = open_db(&vfs, "w.db");
    a.shm_open().unwrap();
    assert_eq!(
        shm_len(dir.path(), "w.db"),
        3,
        "stale content is truncated away"
    );
    let map_a = a.shm_map(0, REGION, true).unwrap().unwrap().map().unwrap();
    // Only the first 3 bytes (less than a header) survive the reset.
    let mut rest = vec![0xFFu8; 32768 - 3];
    map_a.read(3, &mut rest).unwrap();
    assert!(rest.iter().all(|&b| b == 0));
    map_a.store_u32(0, 3_007_000).unwrap();

    // A second user while the first is attached keeps the content.
    let mut b = open_db(&vfs, "w.db");
    let map_b = b.shm_map(0, REGION, false).unwrap().unwrap().map().unwrap();
    assert_eq!(map_b.load_u32(0).unwrap(), 3_007_000);
    // Extending grew the file to the end of the region's mapping: the region, or its
    // whole page where pages are larger.
    let grown = shm_page_size().unwrap().max(u64::from(REGION));
    assert_eq!(shm_len(dir.path(), "w.db"), grown);

    // Once everyone has detached, the next user starts afresh.
    drop(a);
    drop(b);
    let mut c = open_db(&vfs, "w.db");
    c.shm_open().unwrap();
    assert_eq!(shm_len(dir.path(), "w.db"), 3);
}

#[test]
fn unmap_with_delete_removes_the_file_only_when_alone() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut a = open_db(&vfs, "w.db");
    let mut b = open_db(&vfs, "w.db");
    a.shm_map(0, REGION, true).unwrap().unwrap();
    b.shm_open().unwrap();
    let shm = dir.path().join("w.db-shm");
    a.shm_unmap(true);
    assert!(shm.exists(), "b is still attached");
    b.shm_unmap(true);
    assert!(!shm.exists());
}

#[test]
fn memdb_files_have_no_shared_memory() {
    let vfs = Vfs::memory("shm-test-memdb");
    let mut f = open_db(&vfs, "m.db");
    assert!(!f.supports_shm());
    let err = f.shm_open().unwrap_err();
    assert!(err.message().contains("no WAL shared memory"), "{err}");
    assert!(f.shm_map(0, REGION, true).is_err());
    assert_eq!(
        f.shm_lock(0, 1, LOCK_SHARED).unwrap_err().code(),
        SQLITE_IOERR_SHMLOCK
    );
}

#[test]
fn sharing_a_wal_database_with_the_sqlite3_shell() {
    let Some(cli) = sqlite3_cli() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wal.db");
    let (ok, _, err) = sqlite3_run(
        &cli,
        &db,
        "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);",
    );
    assert!(ok, "{err}");

    // The shell opens a read transaction: it holds DMS and a WAL read mark.
    let mut reader = sqlite3_session(&cli, &db);
    reader.send("BEGIN; SELECT count(*) FROM t; SELECT 'reading';\n");
    reader.wait_for("reading");
    let shm_size = shm_len(dir.path(), "wal.db");
    assert!(shm_size >= 32768, "the shell built the wal-index");

    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "wal.db");
    ours.lock(LockLevel::Shared).unwrap();
    // We join without resetting the live wal-index, and see the shell's header.
    let map = ours
        .shm_map(0, REGION, false)
        .unwrap()
        .expect("region 0 exists")
        .map()
        .unwrap();
    assert_eq!(shm_len(dir.path(), "wal.db"), shm_size);
    assert_eq!(map.load_u32(0).unwrap(), 3_007_000, "WAL-index version");
    assert_eq!(
        ours.file_control(SQLITE_FCNTL_EXTERNAL_READER, 0).unwrap(),
        FileControlOutcome::Value(1)
    );
    assert_eq!(
        ours.shm_lock(3, 5, LOCK_EXCLUSIVE).unwrap_err().code(),
        SQLITE_BUSY
    );

    // Holding the WAL write lock keeps another shell from writing.
    ours.shm_lock(0, 1, LOCK_EXCLUSIVE).unwrap();
    let (ok, _, err) = sqlite3_run(&cli, &db, "INSERT INTO t VALUES (2);");
    assert!(!ok && err.contains("database is locked"), "stderr: {err}");
    ours.shm_lock(0, 1, UNLOCK_EXCLUSIVE).unwrap();
    let (ok, _, err) = sqlite3_run(&cli, &db, "INSERT INTO t VALUES (2);");
    assert!(ok, "stderr: {err}");

    reader.send("COMMIT;\n");
    assert!(reader.finish());
    assert_eq!(
        ours.file_control(SQLITE_FCNTL_EXTERNAL_READER, 0).unwrap(),
        FileControlOutcome::Value(0)
    );
    ours.shm_lock(3, 5, LOCK_EXCLUSIVE).unwrap();
}
