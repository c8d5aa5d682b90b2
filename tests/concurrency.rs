//! Concurrency in rollback-journal mode: several SQLite instances (each its own Wasm
//! store and VFS) on one file, in one process and across processes. Locks exclude,
//! the busy timeout waits and then reports `SQLITE_BUSY`, and no update is lost.

mod common;

use common::{
    CHILD_SIGNAL, Child, Conn, child_command, child_role, child_signal, child_wait_for_go,
    create_counter, ffi,
};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const CHILD_ENTRY: &str = "child_process_entry";

#[test]
fn a_write_transaction_excludes_other_writers() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Conn::open(dir.path(), "locks.db");
    first.execute_batch("CREATE TABLE t(x INTEGER)");
    let mut second = Conn::try_open(dir.path(), "locks.db", 0).unwrap();

    first.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");
    for sql in [
        "BEGIN IMMEDIATE",
        "INSERT INTO t VALUES (2)",
        "BEGIN EXCLUSIVE",
    ] {
        let err = second.try_execute_batch(sql).unwrap_err();
        assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{sql}: {err}");
        assert!(err.to_string().contains("locked"), "{sql}: {err}");
        // A failed BEGIN leaves no transaction behind.
        assert!(second.sqlite.get_autocommit(second.db).unwrap(), "{sql}");
    }
    // In rollback mode a reader still sees the last committed state, not the pending row.
    assert_eq!(second.query_i64("SELECT count(*) FROM t"), 0);

    first.execute_batch("COMMIT");
    // The lock is gone: the second connection writes, and sees the first one's row.
    second.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT;");
    assert_eq!(first.query_i64("SELECT sum(x) FROM t"), 3);
    assert_eq!(second.query_i64("SELECT sum(x) FROM t"), 3);

    // A reader in a transaction keeps a SHARED lock: a writer can reserve but not commit.
    second.execute_batch("BEGIN; SELECT count(*) FROM t;");
    first.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (4);");
    first.sqlite.busy_timeout(first.db, 0).unwrap();
    let err = first.try_execute_batch("COMMIT").unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{err}");
    // COMMIT failing with BUSY keeps the transaction open; it goes through once the
    // reader is done.
    assert!(!first.sqlite.get_autocommit(first.db).unwrap());
    second.execute_batch("COMMIT");
    first.execute_batch("COMMIT");
    assert_eq!(second.query_i64("SELECT sum(x) FROM t"), 7);
    first.assert_integrity_ok();
}

#[test]
fn busy_timeout_waits_then_reports_busy() {
    const TIMEOUT: Duration = Duration::from_millis(400);
    let dir = tempfile::tempdir().unwrap();
    let mut holder = Conn::open(dir.path(), "busy.db");
    holder.execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");

    let mut waiter = Conn::try_open(dir.path(), "busy.db", TIMEOUT.as_millis() as i32).unwrap();
    let started = Instant::now();
    let err = waiter.try_execute_batch("BEGIN IMMEDIATE").unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{err}");
    // SQLite's busy handler sleeps until the whole timeout is used up.
    assert!(
        waited >= TIMEOUT,
        "gave up after {waited:?}, timeout {TIMEOUT:?}"
    );
    assert!(
        waited < TIMEOUT * 10,
        "waited {waited:?} for a {TIMEOUT:?} timeout"
    );

    // Without a timeout it fails at once.
    waiter.sqlite.busy_timeout(waiter.db, 0).unwrap();
    let started = Instant::now();
    let err = waiter.try_execute_batch("BEGIN IMMEDIATE").unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_BUSY), "{err}");
    assert!(
        started.elapsed() < TIMEOUT,
        "no timeout, yet waited {:?}",
        started.elapsed()
    );
    holder.execute_batch("COMMIT");
    waiter.assert_integrity_ok();
}

#[test]
fn busy_timeout_waits_until_the_lock_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let mut holder = Conn::open(dir.path(), "release.db");
    holder.execute_batch(
        "CREATE TABLE t(who TEXT); BEGIN IMMEDIATE; INSERT INTO t VALUES ('holder');",
    );

    let ready = Arc::new(Barrier::new(2));
    let waiter = {
        let ready = ready.clone();
        let path = dir.path().to_owned();
        std::thread::spawn(move || {
            let mut waiter = Conn::open(&path, "release.db");
            ready.wait();
            // Blocks in the busy handler until the holder commits, well within 10 s.
            waiter.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES ('waiter'); COMMIT;");
            Instant::now()
        })
    };
    ready.wait();
    std::thread::sleep(Duration::from_millis(150));
    let committed_at = Instant::now();
    holder.execute_batch("COMMIT");
    let waiter_done_at = waiter.join().unwrap();
    assert!(
        waiter_done_at > committed_at,
        "the waiter wrote while the lock was held"
    );
    assert_eq!(
        holder.query("SELECT who FROM t ORDER BY rowid"),
        vec![vec![common::text("holder")], vec![common::text("waiter")]]
    );
    holder.assert_integrity_ok();
}

#[test]
fn threads_increment_a_counter_without_lost_updates() {
    const THREADS: usize = 4;
    const INCREMENTS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Conn::open(dir.path(), "counter.db");
    create_counter(&mut setup);

    let start = Arc::new(Barrier::new(THREADS));
    let log = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (start, log, path) = (start.clone(), log.clone(), dir.path().to_owned());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&path, "counter.db");
                start.wait();
                for _ in 0..INCREMENTS {
                    conn.execute_batch("BEGIN IMMEDIATE");
                    let n = conn.query_i64("SELECT n FROM counter WHERE id = 1");
                    conn.execute("UPDATE counter SET n = ?1 WHERE id = 1", &[(n + 1).into()]);
                    conn.execute_batch("COMMIT");
                    log.lock().unwrap().push(n + 1);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let total = (THREADS * INCREMENTS) as i64;
    assert_eq!(setup.query_i64("SELECT n FROM counter"), total);
    // Every committed value was seen exactly once: the transactions were serialized.
    let mut seen = std::mem::take(&mut *log.lock().unwrap());
    seen.sort_unstable();
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    setup.assert_integrity_ok();
}

#[test]
fn processes_increment_a_counter_without_lost_updates() {
    const CHILDREN: usize = 3;
    const INCREMENTS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let mut parent = Conn::open(dir.path(), "counter.db");
    create_counter(&mut parent);

    let mut children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            let mut cmd = child_command(CHILD_ENTRY, "increment", dir.path());
            cmd.env("SANDLITE_TEST_INCREMENTS", INCREMENTS.to_string());
            Child::spawn(cmd)
        })
        .collect();
    // Everyone starts together once all have opened the database, so the parent
    // increments at the same time as its children.
    for child in &mut children {
        child.wait_for_signal("ready");
    }
    for child in &mut children {
        child.go();
    }
    parent.increment_counter(INCREMENTS);
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
    parent.assert_integrity_ok();
}

/// Not a test: the body of the child processes the tests above spawn.
#[test]
#[ignore = "helper process, spawned by processes_increment_a_counter_without_lost_updates"]
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
    child_signal("ready");
    child_wait_for_go();
    conn.increment_counter(increments);
    child_signal(&format!("incremented {increments} times"));
}
