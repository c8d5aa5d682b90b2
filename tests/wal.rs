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

/// Not a test: the body of the child processes the tests above spawn.
#[test]
#[ignore = "helper process, spawned by processes_increment_a_counter_in_wal_mode"]
fn child_process_entry() {
    let Some((role, dir)) = child_role() else {
        return;
    };
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
