//! WAL mode through the VFS's `-shm` mapping: snapshots, checkpoints, and several
//! instances and processes on one database.

mod common;

use common::{
    CHILD_SIGNAL, Child, Conn, Value, child_command, child_role, child_signal, child_wait_for_go,
    create_counter, ffi,
};
use std::path::Path;

const CHILD_ENTRY: &str = "child_process_entry";

/// Opens `name` in `dir` and switches it to WAL mode.
fn open_wal(dir: &Path, name: &str, busy_ms: i32) -> Conn {
    let mut conn = Conn::try_open(dir, name, busy_ms).unwrap();
    assert_eq!(conn.query_text("PRAGMA journal_mode=WAL"), "wal");
    conn
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .len()
}

#[test]
fn a_reader_keeps_its_snapshot_while_a_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    // No busy timeout: in WAL mode readers and the writer never wait for each other.
    let mut writer = open_wal(dir.path(), "snap.db", 0);
    writer.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER);
         WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10)
         INSERT INTO t SELECT i, i FROM r;",
    );
    assert!(dir.path().join("snap.db-wal").exists());
    assert!(dir.path().join("snap.db-shm").exists());

    let mut reader = Conn::try_open(dir.path(), "snap.db", 0).unwrap();
    // The mode is persistent: a new connection finds the database in WAL mode.
    assert_eq!(reader.query_text("PRAGMA journal_mode"), "wal");
    reader.execute_batch("BEGIN");
    let snapshot = vec![vec![Value::Integer(10), Value::Integer(55)]];
    assert_eq!(reader.query("SELECT count(*), sum(v) FROM t"), snapshot);

    // The writer commits while the reader's transaction is open.
    writer.execute_batch(
        "INSERT INTO t(v) VALUES (100), (200), (300), (400), (500);
         BEGIN; UPDATE t SET v = v * 2; COMMIT;",
    );
    assert_eq!(
        writer.query("SELECT count(*), sum(v) FROM t"),
        vec![vec![Value::Integer(15), Value::Integer(3110)]]
    );
    // The reader still sees exactly its snapshot, however often it looks.
    for _ in 0..3 {
        assert_eq!(reader.query("SELECT count(*), sum(v) FROM t"), snapshot);
    }
    // A third instance, started now, sees the new state at once.
    let mut late = Conn::try_open(dir.path(), "snap.db", 0).unwrap();
    assert_eq!(late.query_i64("SELECT count(*) FROM t"), 15);

    reader.execute_batch("COMMIT");
    assert_eq!(
        reader.query("SELECT count(*), sum(v) FROM t"),
        vec![vec![Value::Integer(15), Value::Integer(3110)]]
    );

    // WAL still allows only one writer at a time.
    writer.execute_batch("BEGIN IMMEDIATE; INSERT INTO t(v) VALUES (1);");
    let err = reader.try_execute_batch("BEGIN IMMEDIATE").unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{err}");
    writer.execute_batch("COMMIT");
    reader.assert_integrity_ok();
}

#[test]
fn checkpoints_respect_readers_and_truncate_empties_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("ckpt.db-wal");
    let mut writer = open_wal(dir.path(), "ckpt.db", 0);
    writer.execute_batch(
        "PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE t(id INTEGER PRIMARY KEY, pad TEXT);
         WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 200)
         INSERT INTO t SELECT i, printf('%0500d', i) FROM r;",
    );
    let mut reader = Conn::try_open(dir.path(), "ckpt.db", 0).unwrap();
    reader.execute_batch("BEGIN");
    assert_eq!(reader.query_i64("SELECT count(*) FROM t"), 200);

    writer.execute_batch(
        "WITH RECURSIVE r(i) AS (SELECT 201 UNION ALL SELECT i + 1 FROM r WHERE i < 400)
         INSERT INTO t SELECT i, printf('%0500d', i) FROM r;",
    );
    let wal_before = file_len(&wal);
    assert!(wal_before > 0);

    // A passive checkpoint copies back only the frames the open reader does not need.
    let (log, done) = writer
        .sqlite
        .wal_checkpoint(writer.db, None, ffi::SQLITE_CHECKPOINT_PASSIVE)
        .unwrap();
    assert!(log > 0, "frames in the WAL: {log}");
    assert!(
        0 < done && done < log,
        "checkpointed {done} of {log} frames past a reader's snapshot"
    );
    // A truncating checkpoint cannot finish while the reader is there.
    let err = writer
        .sqlite
        .wal_checkpoint(writer.db, Some("main"), ffi::SQLITE_CHECKPOINT_TRUNCATE)
        .unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{err}");
    assert_eq!(reader.query_i64("SELECT count(*) FROM t"), 200);
    reader.execute_batch("COMMIT");

    // Now a full checkpoint copies every frame back...
    let (log, done) = writer
        .sqlite
        .wal_checkpoint(writer.db, Some("main"), ffi::SQLITE_CHECKPOINT_FULL)
        .unwrap();
    assert!(
        log > 0 && done == log,
        "checkpointed {done} of {log} frames"
    );
    // ... and a truncating one resets the WAL to zero bytes.
    let (log, done) = writer
        .sqlite
        .wal_checkpoint(writer.db, None, ffi::SQLITE_CHECKPOINT_TRUNCATE)
        .unwrap();
    assert_eq!((log, done), (0, 0));
    assert_eq!(file_len(&wal), 0, "WAL was {wal_before} bytes");

    // Everything is in the database file now, and it goes on working.
    assert_eq!(reader.query_i64("SELECT count(*) FROM t"), 400);
    assert_eq!(
        reader.query_i64("SELECT count(*) FROM t WHERE pad = printf('%0500d', id)"),
        400
    );
    writer.execute_batch("INSERT INTO t(pad) VALUES ('after')");
    assert!(file_len(&wal) > 0);
    assert_eq!(reader.query_i64("SELECT count(*) FROM t"), 401);
    writer.assert_integrity_ok();
    drop((reader, writer));

    // The last connection to close checkpoints and removes the WAL.
    assert!(!wal.exists(), "the WAL outlived its last connection");
    let mut again = Conn::open(dir.path(), "ckpt.db");
    assert_eq!(again.query_i64("SELECT count(*) FROM t"), 401);
    again.assert_integrity_ok();
}

#[test]
fn processes_increment_a_counter_in_wal_mode() {
    const CHILDREN: usize = 3;
    const INCREMENTS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let mut parent = open_wal(dir.path(), "counter.db", common::LONG_BUSY_TIMEOUT_MS);
    create_counter(&mut parent);

    let mut children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            let mut cmd = child_command(CHILD_ENTRY, "increment", dir.path());
            cmd.env("SANDLITE_TEST_INCREMENTS", INCREMENTS.to_string());
            Child::spawn(cmd)
        })
        .collect();
    for child in &mut children {
        child.wait_for_signal("ready in wal mode");
    }
    for child in &mut children {
        child.go();
    }
    // The parent writes and also reads the whole time (a reader never blocks).
    for _ in 0..INCREMENTS {
        parent.increment_counter(1);
        let n = parent.query_i64("SELECT n FROM counter");
        assert!(n as usize <= (CHILDREN + 1) * INCREMENTS);
    }
    for child in children {
        let stdout = child.finish("incrementing child");
        assert!(
            stdout.contains(&format!("{CHILD_SIGNAL} incremented {INCREMENTS} times")),
            "the child did not run its role:\n{stdout}"
        );
    }
    assert_eq!(
        parent.query_i64("SELECT n FROM counter"),
        ((CHILDREN + 1) * INCREMENTS) as i64
    );
    assert_eq!(parent.query_text("PRAGMA journal_mode"), "wal");
    parent.assert_integrity_ok();
}

/// Rows of ~100 bytes that need more than 8158 WAL frames of 512-byte pages in one
/// transaction, so that the WAL index has three 32 KiB regions: region 1 shares the
/// first 64 KiB page with region 0, region 2 starts the second.
const BIG_ROWS: i64 = 40_000;

/// A 64 KiB-page host, on whatever this machine's pages are: a child process maps the
/// WAL index in 64 KiB granules (`SANDLITE_SHM_PAGE_SIZE`, which raises the page size
/// WAL shared memory is mapped in), two 32 KiB regions per mapping, while this process
/// maps it with its own page size, and each sees the other's writes.
#[test]
fn wal_works_with_64_kib_shm_pages_next_to_smaller_ones() {
    let dir = tempfile::tempdir().unwrap();
    let shm = dir.path().join("big.db-shm");
    let wal = dir.path().join("big.db-wal");
    let mut cmd = child_command(CHILD_ENTRY, "large-pages", dir.path());
    cmd.env(sandlite_vfs::SHM_PAGE_SIZE_VAR, "65536");
    let mut child = Child::spawn(cmd);

    // The child wrote BIG_ROWS rows in WAL mode, read them back through a second
    // connection of its own, and holds the database open.
    let frames: u64 = child.wait_for_signal("wrote frames:").parse().unwrap();
    assert!(
        frames > 8158,
        "{frames} frames use fewer than three index regions"
    );
    let shm_len = file_len(&shm);
    assert!(
        shm_len >= 3 * 32768 && shm_len.is_multiple_of(65536),
        "a -shm file of {shm_len} bytes was not grown in whole 64 KiB pages"
    );

    // This process reads the index the child built (regions 0..2) and appends to it.
    let mut conn = Conn::open(dir.path(), "big.db");
    assert_eq!(conn.query_text("PRAGMA journal_mode"), "wal");
    assert_eq!(
        conn.query("SELECT count(*), sum(length(v)) FROM t"),
        vec![vec![
            Value::Integer(BIG_ROWS),
            Value::Integer(BIG_ROWS * 100)
        ]]
    );
    assert!(file_len(&wal) > 0, "nothing was checkpointed yet");
    conn.execute_batch("INSERT INTO t(v) VALUES (zeroblob(7))");
    child.go();

    // The child saw that row through its 64 KiB mappings, checkpointed everything and
    // truncated the WAL, then wrote once more.
    assert_eq!(
        child.wait_for_signal("after the checkpoint:"),
        "40001 rows, WAL 0 bytes"
    );
    let stdout = child.finish("64 KiB-page child");
    assert!(stdout.contains("wrote one more"), "{stdout}");
    assert_eq!(conn.query_i64("SELECT count(*) FROM t"), BIG_ROWS + 2);
    assert_eq!(
        conn.query_i64("SELECT max(length(v)) FROM t WHERE id > 40000"),
        9
    );
    conn.assert_integrity_ok();
}

/// The child of `wal_works_with_64_kib_shm_pages_next_to_smaller_ones`.
fn large_pages_child(dir: &Path) {
    assert_eq!(
        std::env::var(sandlite_vfs::SHM_PAGE_SIZE_VAR).as_deref(),
        Ok("65536")
    );
    assert_eq!(sandlite_vfs::shm_page_size().unwrap(), 65536);
    let mut writer = Conn::open(dir, "big.db");
    writer.execute_batch("PRAGMA page_size = 512");
    assert_eq!(writer.query_text("PRAGMA journal_mode=WAL"), "wal");
    writer.execute_batch(&format!(
        "PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
         WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {BIG_ROWS})
         INSERT INTO t SELECT i, randomblob(100) FROM r;"
    ));
    let mut reader = Conn::open(dir, "big.db");
    assert_eq!(
        reader.query("SELECT count(*), sum(length(v)) FROM t"),
        vec![vec![
            Value::Integer(BIG_ROWS),
            Value::Integer(BIG_ROWS * 100)
        ]]
    );
    let frames = (file_len(&dir.join("big.db-wal")) - 32) / (512 + 24);
    child_signal(&format!("wrote frames: {frames}"));
    child_wait_for_go();

    let rows = reader.query_i64("SELECT count(*) FROM t");
    let (log, done) = writer
        .sqlite
        .wal_checkpoint(writer.db, None, ffi::SQLITE_CHECKPOINT_TRUNCATE)
        .unwrap();
    assert_eq!((log, done), (0, 0));
    let wal = file_len(&dir.join("big.db-wal"));
    child_signal(&format!(
        "after the checkpoint: {rows} rows, WAL {wal} bytes"
    ));
    reader.execute_batch("INSERT INTO t(v) VALUES (zeroblob(9))");
    assert_eq!(writer.query_i64("SELECT count(*) FROM t"), rows + 1);
    writer.assert_integrity_ok();
    child_signal("wrote one more");
}

/// Not a test: the body of the child processes the tests above spawn.
#[test]
#[ignore = "helper process, spawned by the tests above"]
fn child_process_entry() {
    let Some((role, dir)) = child_role() else {
        return;
    };
    if role == "large-pages" {
        large_pages_child(&dir);
        return;
    }
    assert_eq!(role, "increment", "unknown child role");
    let increments: usize = std::env::var("SANDLITE_TEST_INCREMENTS")
        .unwrap()
        .parse()
        .unwrap();
    let mut conn = Conn::open(&dir, "counter.db");
    let mode = conn.query_text("PRAGMA journal_mode");
    child_signal(&format!("ready in {mode} mode"));
    child_wait_for_go();
    conn.increment_counter(increments);
    child_signal(&format!("incremented {increments} times"));
}
