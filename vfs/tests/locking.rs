//! SQLite's lock protocol between handles of one process, between processes, and
//! against the native `sqlite3` shell.

mod common;

use std::io::Read;
use std::path::Path;

use common::{helper_session, open_db, sqlite3_cli, sqlite3_run, sqlite3_session};
use sandlite_vfs::codes::SQLITE_BUSY;
use sandlite_vfs::{LockLevel, Vfs, VfsError, VfsFile};

const HELPER: &str = "lock_holder_process";
const HELPER_TASK: &str = "SANDLITE_VFS_LOCK_HELPER";

fn assert_busy(result: Result<(), VfsError>) {
    let err = result.expect_err("lock must conflict");
    assert_eq!(err.code(), SQLITE_BUSY, "{err}");
    assert!(err.is_busy());
}

fn climb(file: &mut VfsFile, level: LockLevel) -> Result<(), VfsError> {
    for step in [LockLevel::Shared, LockLevel::Reserved, LockLevel::Exclusive] {
        if step > level {
            break;
        }
        file.lock(step)?;
    }
    Ok(())
}

fn two_handles() -> (tempfile::TempDir, Vfs, VfsFile, VfsFile) {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let a = open_db(&vfs, "lock.db");
    let b = open_db(&vfs, "lock.db");
    (dir, vfs, a, b)
}

#[test]
fn shared_locks_coexist() {
    let (_dir, _vfs, mut a, mut b) = two_handles();
    a.lock(LockLevel::Shared).unwrap();
    b.lock(LockLevel::Shared).unwrap();
    assert_eq!(a.lock_level(), LockLevel::Shared);
    assert_eq!(b.lock_level(), LockLevel::Shared);
    assert!(!a.check_reserved_lock().unwrap());
}

#[test]
fn reserved_excludes_reserved_but_not_shared() {
    let (_dir, vfs, mut a, mut b) = two_handles();
    climb(&mut a, LockLevel::Reserved).unwrap();
    b.lock(LockLevel::Shared).unwrap();
    assert_busy(b.lock(LockLevel::Reserved));
    assert_eq!(b.lock_level(), LockLevel::Shared);
    assert!(b.check_reserved_lock().unwrap());
    assert!(
        a.check_reserved_lock().unwrap(),
        "the holder sees its own RESERVED"
    );
    let mut c = open_db(&vfs, "lock.db");
    c.lock(LockLevel::Shared).unwrap();
}

#[test]
fn pending_blocks_new_shared_locks() {
    let (_dir, vfs, mut a, mut b) = two_handles();
    a.lock(LockLevel::Shared).unwrap();
    climb(&mut b, LockLevel::Reserved).unwrap();
    // A reader remains, so EXCLUSIVE fails but B keeps PENDING.
    assert_busy(b.lock(LockLevel::Exclusive));
    assert_eq!(b.lock_level(), LockLevel::Pending);
    let mut c = open_db(&vfs, "lock.db");
    assert_busy(c.lock(LockLevel::Shared));
    assert_eq!(c.lock_level(), LockLevel::None);
    // The old reader leaves: the writer gets through.
    a.unlock(LockLevel::None).unwrap();
    b.lock(LockLevel::Exclusive).unwrap();
    assert_eq!(b.lock_level(), LockLevel::Exclusive);
}

#[test]
fn exclusive_excludes_everyone() {
    let (_dir, vfs, mut a, mut b) = two_handles();
    climb(&mut a, LockLevel::Exclusive).unwrap();
    assert_busy(b.lock(LockLevel::Shared));
    assert!(b.check_reserved_lock().unwrap());
    // Straight from SHARED to EXCLUSIVE (hot-journal rollback) is excluded too.
    let mut c = open_db(&vfs, "lock.db");
    assert_busy(c.lock(LockLevel::Shared));
    a.unlock(LockLevel::None).unwrap();
    c.lock(LockLevel::Shared).unwrap();
    c.lock(LockLevel::Exclusive).unwrap();
    assert_busy(b.lock(LockLevel::Shared));
}

#[test]
fn unlock_downgrades_step_by_step() {
    let (_dir, _vfs, mut a, mut b) = two_handles();
    climb(&mut a, LockLevel::Exclusive).unwrap();
    a.unlock(LockLevel::Shared).unwrap();
    assert_eq!(a.lock_level(), LockLevel::Shared);
    // RESERVED and PENDING went with the downgrade; SHARED stays.
    b.lock(LockLevel::Shared).unwrap();
    b.lock(LockLevel::Reserved).unwrap();
    assert_busy(a.lock(LockLevel::Reserved));
    assert_busy(b.lock(LockLevel::Exclusive));
    a.unlock(LockLevel::None).unwrap();
    assert_eq!(a.lock_level(), LockLevel::None);
    b.lock(LockLevel::Exclusive).unwrap();
}

#[test]
fn closing_another_descriptor_keeps_our_locks() {
    // The trap of classic POSIX locks: closing any descriptor of a file drops all of the
    // process's locks on it. OFD locks belong to the open file description instead.
    let (_dir, vfs, mut a, mut b) = two_handles();
    climb(&mut a, LockLevel::Reserved).unwrap();
    let other = open_db(&vfs, "lock.db");
    drop(other);
    b.lock(LockLevel::Shared).unwrap();
    assert_busy(b.lock(LockLevel::Reserved));
    // Closing the holder does release its locks.
    drop(a);
    b.lock(LockLevel::Reserved).unwrap();
}

#[test]
fn locks_between_threads() {
    let (_dir, vfs, mut a, _b) = two_handles();
    climb(&mut a, LockLevel::Exclusive).unwrap();
    let vfs2 = vfs.clone();
    let outcome = std::thread::spawn(move || {
        let mut t = open_db(&vfs2, "lock.db");
        t.lock(LockLevel::Shared).map_err(|e| e.code())
    })
    .join()
    .unwrap();
    assert_eq!(outcome, Err(SQLITE_BUSY));
}

/// Helper process for the cross-process tests: takes the lock described in
/// `SANDLITE_VFS_LOCK_HELPER` (`root`, file name and level on three lines), says
/// `HELPER-LOCKED`, and holds it until its stdin closes; if the lock conflicts it says
/// `HELPER-FAILED <code>` and exits with status 3.
#[test]
#[ignore = "helper process, spawned by the cross-process lock tests"]
fn lock_holder_process() {
    let Ok(task) = std::env::var(HELPER_TASK) else {
        println!("nothing to do: this helper runs only when spawned by another test");
        return;
    };
    let mut lines = task.lines();
    let (root, name, level) = (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap().parse::<i32>().unwrap(),
    );
    let vfs = Vfs::new(root).unwrap();
    let mut file = open_db(&vfs, name);
    if let Err(err) = climb(&mut file, LockLevel::from_raw(level).unwrap()) {
        println!("HELPER-FAILED {}", err.code());
        std::process::exit(3);
    }
    println!("HELPER-LOCKED");
    let mut rest = String::new();
    std::io::stdin().read_to_string(&mut rest).unwrap();
}

fn hold_in_child(root: &Path, name: &str, level: LockLevel) -> common::Session {
    let task = format!("{}\n{name}\n{}", root.display(), level.as_raw());
    let mut child = helper_session(HELPER, HELPER_TASK, &task);
    child.wait_for("HELPER-LOCKED");
    child
}

#[test]
fn another_process_holding_reserved_excludes_our_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "x.db");
    let child = hold_in_child(dir.path(), "x.db", LockLevel::Reserved);
    ours.lock(LockLevel::Shared).unwrap();
    assert!(ours.check_reserved_lock().unwrap());
    assert_busy(ours.lock(LockLevel::Reserved));
    assert!(child.finish());
    assert!(!ours.check_reserved_lock().unwrap());
    ours.lock(LockLevel::Reserved).unwrap();
    ours.lock(LockLevel::Exclusive).unwrap();
}

#[test]
fn another_process_holding_exclusive_excludes_our_shared() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "x.db");
    let child = hold_in_child(dir.path(), "x.db", LockLevel::Exclusive);
    assert_busy(ours.lock(LockLevel::Shared));
    assert!(child.finish());
    ours.lock(LockLevel::Shared).unwrap();
}

#[test]
fn our_shared_lock_keeps_another_process_from_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "x.db");
    ours.lock(LockLevel::Shared).unwrap();
    // The child cannot climb to EXCLUSIVE: it fails and exits without the marker.
    let task = format!(
        "{}\nx.db\n{}",
        dir.path().display(),
        LockLevel::Exclusive.as_raw()
    );
    let mut child = helper_session(HELPER, HELPER_TASK, &task);
    child.wait_for(&format!("HELPER-FAILED {SQLITE_BUSY}"));
    assert!(!child.finish(), "the helper must fail to get EXCLUSIVE");
    ours.unlock(LockLevel::None).unwrap();
    let child = hold_in_child(dir.path(), "x.db", LockLevel::Exclusive);
    assert!(child.finish());
}

fn create_table(cli: &Path, db: &Path) {
    let (ok, _, err) = sqlite3_run(cli, db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    assert!(ok, "sqlite3 failed: {err}");
}

#[test]
fn sqlite3_shell_cannot_write_while_we_hold_reserved_or_exclusive() {
    let Some(cli) = sqlite3_cli() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    create_table(&cli, &db);
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "cli.db");

    climb(&mut ours, LockLevel::Reserved).unwrap();
    let (ok, _, err) = sqlite3_run(&cli, &db, "INSERT INTO t VALUES (2);");
    assert!(!ok && err.contains("database is locked"), "stderr: {err}");
    // Readers are fine beside RESERVED.
    let (ok, out, err) = sqlite3_run(&cli, &db, "SELECT count(*) FROM t;");
    assert!(ok, "stderr: {err}");
    assert_eq!(out.trim(), "1");

    ours.lock(LockLevel::Exclusive).unwrap();
    let (ok, _, err) = sqlite3_run(&cli, &db, "SELECT count(*) FROM t;");
    assert!(!ok && err.contains("database is locked"), "stderr: {err}");

    ours.unlock(LockLevel::None).unwrap();
    let (ok, _, err) = sqlite3_run(&cli, &db, "INSERT INTO t VALUES (2);");
    assert!(ok, "stderr: {err}");
}

#[test]
fn we_cannot_lock_while_the_sqlite3_shell_holds_a_transaction() {
    let Some(cli) = sqlite3_cli() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    create_table(&cli, &db);
    let vfs = Vfs::new(dir.path()).unwrap();
    let mut ours = open_db(&vfs, "cli.db");

    let mut shell = sqlite3_session(&cli, &db);
    shell.send("BEGIN IMMEDIATE;\nINSERT INTO t VALUES (2);\nSELECT 'ready';\n");
    shell.wait_for("ready");
    ours.lock(LockLevel::Shared).unwrap();
    assert!(ours.check_reserved_lock().unwrap());
    assert_busy(ours.lock(LockLevel::Reserved));
    ours.unlock(LockLevel::None).unwrap();
    shell.send("COMMIT;\nBEGIN EXCLUSIVE;\nSELECT 'exclusive';\n");
    shell.wait_for("exclusive");
    assert_busy(ours.lock(LockLevel::Shared));
    shell.send("COMMIT;\n");
    assert!(shell.finish());

    climb(&mut ours, LockLevel::Exclusive).unwrap();
    let mut header = [0u8; 16];
    ours.read(&mut header, 0).unwrap();
    assert_eq!(&header, b"SQLite format 3\0");
}

#[test]
fn concurrent_writers_on_disk_lose_no_update() {
    // Threads, each with its own handle (its own open file description), increment a
    // counter under EXCLUSIVE; OFD locks must serialise them.
    let dir = tempfile::tempdir().unwrap();
    let vfs = Vfs::new(dir.path()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let vfs = vfs.clone();
            std::thread::spawn(move || {
                let mut f = open_db(&vfs, "counter.db");
                let mut done = 0;
                while done < 100 {
                    if climb(&mut f, LockLevel::Exclusive).is_err() {
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
    let f = open_db(&vfs, "counter.db");
    let mut buf = [0u8; 8];
    f.read(&mut buf, 0).unwrap();
    assert_eq!(u64::from_le_bytes(buf), 400);
}
