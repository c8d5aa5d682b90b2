//! Opening, reading, writing, truncating, syncing, deleting and checking files.

mod common;

use std::process::Command;

use common::{main_db_flags, open_db};
use sandlite_vfs::codes::{
    SQLITE_CANTOPEN, SQLITE_CANTOPEN_ISDIR, SQLITE_FCNTL_CHUNK_SIZE, SQLITE_FCNTL_HAS_MOVED,
    SQLITE_FCNTL_LOCKSTATE, SQLITE_FCNTL_PERSIST_WAL, SQLITE_FCNTL_POWERSAFE_OVERWRITE,
    SQLITE_FCNTL_SIZE_HINT, SQLITE_IOCAP_POWERSAFE_OVERWRITE, SQLITE_IOERR_DELETE_NOENT,
    SQLITE_IOERR_SHORT_READ, SQLITE_OK,
};
use sandlite_vfs::{
    AccessCheck, FileControlOutcome, LockLevel, OpenFlags, ReadOutcome, SyncFlags, Vfs,
};

#[test]
fn write_read_and_short_read_zero_fill() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut f = open_db(&vfs, "rw.db");
    assert_eq!(f.file_size().unwrap(), 0);
    f.write(b"0123456789", 0).unwrap();
    f.write(b"ab", 4).unwrap();
    assert_eq!(f.file_size().unwrap(), 10);

    let mut buf = [0u8; 6];
    assert_eq!(f.read(&mut buf, 2).unwrap(), ReadOutcome::Complete);
    assert_eq!(&buf, b"23ab67");

    let mut buf = [0xAAu8; 8];
    let outcome = f.read(&mut buf, 6).unwrap();
    assert_eq!(outcome, ReadOutcome::Short { bytes_read: 4 });
    assert_eq!(outcome.code(), SQLITE_IOERR_SHORT_READ);
    assert_eq!(
        &buf, b"6789\0\0\0\0",
        "the rest of the buffer is zero-filled"
    );

    let mut buf = [0xAAu8; 4];
    assert_eq!(
        f.read(&mut buf, 1000).unwrap(),
        ReadOutcome::Short { bytes_read: 0 }
    );
    assert_eq!(buf, [0; 4]);

    // Writing past the end leaves a zero gap.
    f.write(b"Z", 20).unwrap();
    assert_eq!(f.file_size().unwrap(), 21);
    let mut buf = [0xAAu8; 11];
    assert_eq!(f.read(&mut buf, 10).unwrap(), ReadOutcome::Complete);
    assert_eq!(&buf, b"\0\0\0\0\0\0\0\0\0\0Z");
    assert_eq!(std::fs::read(dir.path().join("rw.db")).unwrap().len(), 21);
}

#[test]
fn truncate_sync_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut f = open_db(&vfs, "t.db");
    f.write(&[1u8; 8192], 0).unwrap();
    f.truncate(100).unwrap();
    assert_eq!(f.file_size().unwrap(), 100);
    f.truncate(5000).unwrap();
    assert_eq!(f.file_size().unwrap(), 5000);
    for flags in [
        SyncFlags::NORMAL,
        SyncFlags::FULL,
        SyncFlags::NORMAL | SyncFlags::DATAONLY,
    ] {
        f.sync(flags).unwrap();
    }
    // With a chunk size, truncation rounds up to whole chunks and size hints allocate.
    f.file_control(SQLITE_FCNTL_CHUNK_SIZE, 4096).unwrap();
    f.truncate(100).unwrap();
    assert_eq!(f.file_size().unwrap(), 4096);
    assert_eq!(
        f.file_control(SQLITE_FCNTL_SIZE_HINT, 10_000).unwrap(),
        FileControlOutcome::Done
    );
    assert_eq!(f.file_size().unwrap(), 12_288);
    assert_eq!(f.sector_size(), 4096);
}

#[test]
fn open_flags_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let name = vfs.full_pathname("f.db").unwrap().path;
    let err = vfs
        .open(Some(&name), OpenFlags::READWRITE | OpenFlags::MAIN_DB)
        .unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN);
    assert!(err.message().contains("No such file"), "{err}");

    let f = vfs.open(Some(&name), main_db_flags()).unwrap();
    assert_eq!(f.open_flags(), main_db_flags());
    assert_eq!(f.name(), name);
    drop(f);
    let err = vfs
        .open(Some(&name), main_db_flags() | OpenFlags::EXCLUSIVE)
        .unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN);

    // Nonsensical flag combinations are errors, not panics.
    for bad in [
        OpenFlags::MAIN_DB,
        OpenFlags::READONLY | OpenFlags::READWRITE,
        OpenFlags::READONLY | OpenFlags::CREATE,
        OpenFlags::READWRITE | OpenFlags::EXCLUSIVE,
    ] {
        assert_eq!(
            vfs.open(Some(&name), bad).unwrap_err().code(),
            SQLITE_CANTOPEN
        );
    }

    // Read-only handles cannot write.
    let mut ro = vfs
        .open(Some(&name), OpenFlags::READONLY | OpenFlags::MAIN_DB)
        .unwrap();
    assert!(ro.write(b"x", 0).is_err());

    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let err = vfs.open(Some("adir"), OpenFlags::READONLY).unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN_ISDIR);
}

#[test]
fn delete_on_close_removes_the_name_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let flags = main_db_flags() | OpenFlags::DELETEONCLOSE;
    let mut f = vfs.open(Some("scratch.db"), flags).unwrap();
    assert!(!dir.path().join("scratch.db").exists());
    f.write(b"still here", 0).unwrap();
    let mut buf = [0u8; 10];
    f.read(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"still here");
}

#[test]
fn delete_and_access() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let name = vfs.full_pathname("sub/../d.db").unwrap().path;
    assert!(name.ends_with("/d.db"));
    assert!(!vfs.access(&name, AccessCheck::Exists).unwrap());
    assert!(!vfs.access(&name, AccessCheck::ReadWrite).unwrap());

    let mut f = vfs.open(Some(&name), main_db_flags()).unwrap();
    // An empty file counts as absent for EXISTS, as in the unix VFS.
    assert!(!vfs.access(&name, AccessCheck::Exists).unwrap());
    f.write(b"x", 0).unwrap();
    assert!(vfs.access(&name, AccessCheck::Exists).unwrap());
    assert!(vfs.access(&name, AccessCheck::ReadWrite).unwrap());
    assert!(vfs.access(&name, AccessCheck::Read).unwrap());
    drop(f);

    vfs.delete(&name, true).unwrap();
    assert!(!dir.path().join("d.db").exists());
    let err = vfs.delete(&name, false).unwrap_err();
    assert_eq!(err.code(), SQLITE_IOERR_DELETE_NOENT);
    assert!(!vfs.access("no/such/dir/x.db", AccessCheck::Exists).unwrap());

    std::fs::create_dir(dir.path().join("sub")).unwrap();
    assert!(vfs.access("sub", AccessCheck::Exists).unwrap());
}

#[test]
fn has_moved_notices_rename_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut f = open_db(&vfs, "m.db");
    assert_eq!(
        f.file_control(SQLITE_FCNTL_HAS_MOVED, 0).unwrap(),
        FileControlOutcome::Value(0)
    );
    std::fs::rename(dir.path().join("m.db"), dir.path().join("n.db")).unwrap();
    assert_eq!(
        f.file_control(SQLITE_FCNTL_HAS_MOVED, 0).unwrap(),
        FileControlOutcome::Value(1)
    );
}

#[test]
fn file_controls_and_device_characteristics() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut f = open_db(&vfs, "fc.db");
    assert_eq!(
        f.device_characteristics() & SQLITE_IOCAP_POWERSAFE_OVERWRITE,
        SQLITE_IOCAP_POWERSAFE_OVERWRITE
    );
    f.lock(LockLevel::Shared).unwrap();
    assert_eq!(
        f.file_control(SQLITE_FCNTL_LOCKSTATE, 0).unwrap(),
        FileControlOutcome::Value(1)
    );
    // Flag file controls: negative queries, zero clears, positive sets.
    assert_eq!(
        f.file_control(SQLITE_FCNTL_PERSIST_WAL, -1).unwrap(),
        FileControlOutcome::Value(0)
    );
    assert_eq!(
        f.file_control(SQLITE_FCNTL_PERSIST_WAL, 1).unwrap(),
        FileControlOutcome::Value(1)
    );
    assert_eq!(
        f.file_control(SQLITE_FCNTL_POWERSAFE_OVERWRITE, 0).unwrap(),
        FileControlOutcome::Value(0)
    );
    assert_eq!(
        f.device_characteristics() & SQLITE_IOCAP_POWERSAFE_OVERWRITE,
        0
    );
    // Unknown opcodes (VFSNAME = 12, PRAGMA = 14, ...) are SQLITE_NOTFOUND.
    for op in [12, 14, 9999] {
        assert_eq!(f.file_control(op, 0).unwrap(), FileControlOutcome::NotFound);
    }
}

/// Makes a file read-only even for root: `chattr +i` (immutable); undone on drop.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(path.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn read_write_open_of_a_read_only_file_falls_back_to_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    std::fs::write(&path, b"read me").unwrap();
    // Permission bits do not stop root, so use the immutable attribute there.
    let is_root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    let _guard = if is_root {
        match Immutable::set(&path) {
            Some(guard) => Some(guard),
            None => {
                println!("skipped: running as root and `chattr +i` is unavailable here");
                return;
            }
        }
    } else {
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o444);
        std::fs::set_permissions(&path, perms).unwrap();
        None
    };
    let vfs = Vfs::new(dir.path()).unwrap();
    let name = vfs.full_pathname("ro.db").unwrap().path;
    assert!(!vfs.access(&name, AccessCheck::ReadWrite).unwrap());
    assert!(vfs.access(&name, AccessCheck::Read).unwrap());
    let mut f = vfs.open(Some(&name), main_db_flags()).unwrap();
    let flags = f.open_flags();
    assert!(flags.contains(OpenFlags::READONLY), "{flags:?}");
    assert!(
        !flags.intersects(OpenFlags::READWRITE | OpenFlags::CREATE),
        "{flags:?}"
    );
    assert!(flags.contains(OpenFlags::MAIN_DB));
    let mut buf = [0u8; 7];
    assert_eq!(f.read(&mut buf, 0).unwrap().code(), SQLITE_OK);
    assert_eq!(&buf, b"read me");
    assert!(f.write(b"no", 0).is_err());
    // The database can still take read locks.
    f.lock(LockLevel::Shared).unwrap();
}

#[test]
fn journal_and_wal_names_derive_from_the_full_pathname() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let db = vfs.full_pathname("sub/demo.db").unwrap().path;
    assert_eq!(db, format!("{}/sub/demo.db", vfs.root().unwrap()));
    let _main = vfs.open(Some(&db), main_db_flags()).unwrap();
    for (suffix, kind) in [
        ("-journal", OpenFlags::MAIN_JOURNAL),
        ("-wal", OpenFlags::WAL),
    ] {
        let name = format!("{db}{suffix}");
        let mut f = vfs
            .open(Some(&name), OpenFlags::READWRITE | OpenFlags::CREATE | kind)
            .unwrap();
        f.write(b"j", 0).unwrap();
        f.sync(SyncFlags::NORMAL).unwrap();
        assert!(vfs.access(&name, AccessCheck::Exists).unwrap());
        vfs.delete(&name, true).unwrap();
    }
    let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["demo.db"]);
}

#[test]
fn os_services() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut a = [0u8; 32];
    vfs.randomness(&mut a).unwrap();
    assert_ne!(a, [0u8; 32]);
    let slept = vfs.sleep(std::time::Duration::from_micros(1500));
    assert!(slept.as_micros() >= 1500);
    let now = vfs.current_time_ms();
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((now - sandlite_vfs::UNIX_EPOCH_JULIAN_MS - unix_ms).abs() < 5_000);
}
