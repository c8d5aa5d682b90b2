//! memdb: named in-memory namespaces shared across `Vfs` values, isolated by name.

mod common;

use common::{main_db_flags, open_db};
use sandlite_vfs::codes::{SQLITE_BUSY, SQLITE_CANTOPEN, SQLITE_IOERR_DELETE_NOENT};
use sandlite_vfs::{AccessCheck, LockLevel, OpenFlags, ReadOutcome, Vfs};

#[test]
fn same_name_shares_files_other_names_are_isolated() {
    let first = Vfs::memory("memdb-share");
    let second = Vfs::memory("memdb-share");
    let other = Vfs::memory("memdb-share-other");
    assert_eq!(first.memory_name(), Some("memdb-share"));
    assert_eq!(first.root(), None);

    let mut a = open_db(&first, "app.db");
    a.write(b"shared bytes", 0).unwrap();
    assert!(a.is_memory());

    let b = open_db(&second, "/app.db");
    let mut buf = [0u8; 12];
    assert_eq!(b.read(&mut buf, 0).unwrap(), ReadOutcome::Complete);
    assert_eq!(&buf, b"shared bytes");
    assert_eq!(b.file_size().unwrap(), 12);

    assert!(!other.access("app.db", AccessCheck::Exists).unwrap());
    let err = other
        .open(Some("app.db"), OpenFlags::READWRITE | OpenFlags::MAIN_DB)
        .unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN);
}

#[test]
fn files_persist_while_the_namespace_lives_and_vanish_after() {
    let name = "memdb-lifetime";
    {
        let vfs = Vfs::memory(name);
        let mut f = open_db(&vfs, "keep.db");
        f.write(b"data", 0).unwrap();
        drop(f);
        // Closed, but the namespace is alive: the file is still there.
        assert!(vfs.access("keep.db", AccessCheck::Exists).unwrap());
        let again = Vfs::memory(name);
        assert!(again.access("keep.db", AccessCheck::Exists).unwrap());
    }
    // Every Vfs and file of the name is gone: it starts over empty.
    let fresh = Vfs::memory(name);
    assert!(!fresh.access("keep.db", AccessCheck::Exists).unwrap());

    // An open file alone keeps the namespace alive.
    let file = open_db(&Vfs::memory("memdb-held-by-file"), "held.db");
    assert!(
        Vfs::memory("memdb-held-by-file")
            .access("held.db", AccessCheck::ReadWrite)
            .unwrap()
    );
    drop(file);
    assert!(
        !Vfs::memory("memdb-held-by-file")
            .access("held.db", AccessCheck::ReadWrite)
            .unwrap()
    );
}

#[test]
fn io_matches_disk_semantics() {
    let vfs = Vfs::memory("memdb-io");
    let mut f = open_db(&vfs, "io.db");
    f.write(b"abc", 5).unwrap();
    assert_eq!(f.file_size().unwrap(), 8);
    let mut buf = [0xFFu8; 10];
    assert_eq!(
        f.read(&mut buf, 0).unwrap(),
        ReadOutcome::Short { bytes_read: 8 }
    );
    assert_eq!(&buf, b"\0\0\0\0\0abc\0\0");
    f.truncate(6).unwrap();
    assert_eq!(f.file_size().unwrap(), 6);
    f.sync(sandlite_vfs::SyncFlags::FULL).unwrap();

    assert_eq!(
        vfs.full_pathname("a/./b/../io.db").unwrap().path,
        "/a/io.db"
    );
    assert_eq!(
        vfs.full_pathname("../x").unwrap_err().code(),
        SQLITE_CANTOPEN
    );

    let err = vfs
        .open(Some("io.db"), main_db_flags() | OpenFlags::EXCLUSIVE)
        .unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN);
    let mut ro = vfs
        .open(Some("io.db"), OpenFlags::READONLY | OpenFlags::MAIN_DB)
        .unwrap();
    assert!(ro.write(b"x", 0).is_err());

    vfs.delete("io.db", true).unwrap();
    assert_eq!(
        vfs.delete("io.db", false).unwrap_err().code(),
        SQLITE_IOERR_DELETE_NOENT
    );
    // Open handles keep the data of a deleted file.
    assert_eq!(f.file_size().unwrap(), 6);

    let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::DELETEONCLOSE;
    let mut temp = vfs.open(None, flags).unwrap();
    temp.write(b"tmp", 0).unwrap();
    let mut named_temp = vfs.open(Some("gone.db"), flags).unwrap();
    named_temp.write(b"tmp", 0).unwrap();
    assert!(!vfs.access("gone.db", AccessCheck::ReadWrite).unwrap());
}

#[test]
fn locking_follows_the_protocol_between_connections() {
    let vfs = Vfs::memory("memdb-locks");
    let other_vfs = Vfs::memory("memdb-locks");
    let mut a = open_db(&vfs, "l.db");
    let mut b = open_db(&other_vfs, "l.db");
    let mut c = open_db(&vfs, "l.db");
    let busy =
        |r: Result<(), sandlite_vfs::VfsError>| assert_eq!(r.unwrap_err().code(), SQLITE_BUSY);

    a.lock(LockLevel::Shared).unwrap();
    b.lock(LockLevel::Shared).unwrap();
    b.lock(LockLevel::Reserved).unwrap();
    busy(a.lock(LockLevel::Reserved));
    assert!(a.check_reserved_lock().unwrap());
    busy(b.lock(LockLevel::Exclusive));
    assert_eq!(b.lock_level(), LockLevel::Pending);
    busy(c.lock(LockLevel::Shared));
    a.unlock(LockLevel::None).unwrap();
    b.lock(LockLevel::Exclusive).unwrap();
    busy(a.lock(LockLevel::Shared));
    b.unlock(LockLevel::Shared).unwrap();
    a.lock(LockLevel::Shared).unwrap();
    busy(a.lock(LockLevel::Exclusive));
    // Dropping a handle releases its locks.
    drop(b);
    assert!(!a.check_reserved_lock().unwrap());
    a.lock(LockLevel::Exclusive).unwrap();
    busy(c.lock(LockLevel::Shared));
    drop(a);
    c.lock(LockLevel::Shared).unwrap();
    // Different files of a namespace lock independently.
    let mut d = open_db(&vfs, "other.db");
    d.lock(LockLevel::Shared).unwrap();
    d.lock(LockLevel::Exclusive).unwrap();
}

#[test]
fn concurrent_writers_from_threads_serialise_through_locks() {
    // Many threads increment a counter in a shared memdb file under EXCLUSIVE; no
    // increment may be lost.
    let name = "memdb-hammer";
    let _keep = Vfs::memory(name);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let vfs = Vfs::memory(name);
                let mut f = open_db(&vfs, "counter.db");
                let mut done = 0;
                while done < 200 {
                    if f.lock(LockLevel::Shared).is_err() {
                        std::thread::yield_now();
                        continue;
                    }
                    if f.lock(LockLevel::Reserved).is_err() || f.lock(LockLevel::Exclusive).is_err()
                    {
                        f.unlock(LockLevel::None).unwrap();
                        std::thread::yield_now();
                        continue;
                    }
                    let mut buf = [0u8; 8];
                    f.read(&mut buf, 0).unwrap();
                    let value = u64::from_le_bytes(buf) + 1;
                    f.write(&value.to_le_bytes(), 0).unwrap();
                    f.unlock(LockLevel::None).unwrap();
                    done += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let f = open_db(&Vfs::memory(name), "counter.db");
    let mut buf = [0u8; 8];
    f.read(&mut buf, 0).unwrap();
    assert_eq!(u64::from_le_bytes(buf), 800);
}
