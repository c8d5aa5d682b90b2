//! Crash safety: a child process commits a known state, starts a large transaction
//! that spills uncommitted pages to disk, and is killed with SIGKILL in the middle of
//! it. Reopening sees exactly the last committed state, and `integrity_check` is `ok`.
//! Both in rollback-journal mode (a hot journal to roll back) and in WAL mode
//! (uncommitted frames to ignore).

mod common;

use common::{Child, Conn, Value, child_command, child_role, child_signal};
use std::path::Path;

const CHILD_ENTRY: &str = "child_process_entry";
const JOURNAL_VAR: &str = "SANDLITE_TEST_JOURNAL";
/// Rows of the committed state.
const COMMITTED_ROWS: i64 = 1000;

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Count, value sum, a weighted checksum and the count of intact padding of `t`.
fn fingerprint(conn: &mut Conn) -> Vec<Vec<Value>> {
    conn.query(
        "SELECT count(*), sum(v), sum(id * v % 1000003), count(CASE WHEN pad = printf('%080d', id) THEN 1 END)
         FROM t",
    )
}

/// The fingerprint of the state the child commits: ids 1..=1000 with v = 3 * id.
fn committed_fingerprint() -> Vec<Vec<Value>> {
    let weighted: i64 = (1..=COMMITTED_ROWS)
        .map(|id| id * (3 * id) % 1_000_003)
        .sum();
    vec![vec![
        Value::Integer(COMMITTED_ROWS),
        Value::Integer(3 * COMMITTED_ROWS * (COMMITTED_ROWS + 1) / 2),
        Value::Integer(weighted),
        Value::Integer(COMMITTED_ROWS),
    ]]
}

fn killed_mid_transaction(journal_mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let journal = dir.path().join("crash.db-journal");
    let wal = dir.path().join("crash.db-wal");

    let mut cmd = child_command(CHILD_ENTRY, "crash", dir.path());
    cmd.env(JOURNAL_VAR, journal_mode);
    let mut child = Child::spawn(cmd);
    // The child reports the sizes of its files right after committing.
    let committed = child.wait_for_signal("committed:");
    let committed_len = |file: &str| -> u64 {
        committed
            .split_whitespace()
            .find_map(|field| field.strip_prefix(file)?.strip_prefix('='))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no size of {file} in {committed:?}"))
    };
    child.wait_for_signal("inside the transaction");
    // The child keeps writing inside its transaction until it dies.
    let db_len_at_kill = file_len(&db);
    let status = child.kill();
    assert!(!status.success(), "the child ended by itself: {status}");
    let db_len_after_kill = file_len(&db);

    match journal_mode {
        "delete" => {
            // Uncommitted pages reached the database file; the journal that can undo
            // them is hot.
            assert!(
                db_len_at_kill.max(db_len_after_kill) > committed_len("db"),
                "no uncommitted page reached the database file"
            );
            assert!(file_len(&journal) > 0, "no hot journal after the kill");
            assert!(!wal.exists());
        }
        "wal" => {
            // The WAL holds the committed state plus uncommitted frames.
            assert!(
                file_len(&wal) > committed_len("wal"),
                "no uncommitted frame reached the WAL"
            );
            assert!(!journal.exists());
        }
        other => unreachable!("journal mode {other}"),
    }

    // Reopen in a new instance: exactly the committed state.
    let mut conn = Conn::open(dir.path(), "crash.db");
    assert_eq!(fingerprint(&mut conn), committed_fingerprint());
    conn.assert_integrity_ok();
    assert_eq!(conn.query_text("PRAGMA journal_mode"), journal_mode);
    if journal_mode == "delete" {
        // Rolling back the hot journal removed it and cut the file to its committed size.
        assert!(!journal.exists(), "the hot journal is still there");
        assert_eq!(file_len(&db), committed_len("db"));
    }
    // The recovered database takes new writes.
    conn.execute_batch("INSERT INTO t VALUES (5000, 1, printf('%080d', 5000))");
    assert_eq!(conn.query_i64("SELECT count(*) FROM t"), COMMITTED_ROWS + 1);
    conn.assert_integrity_ok();
}

#[test]
fn killed_mid_transaction_in_rollback_mode_recovers_the_committed_state() {
    killed_mid_transaction("delete");
}

#[test]
fn killed_mid_transaction_in_wal_mode_recovers_the_committed_state() {
    killed_mid_transaction("wal");
}

/// Not a test: the body of the child processes the tests above spawn and kill.
#[test]
#[ignore = "helper process, spawned (and killed) by the crash tests"]
fn child_process_entry() {
    let Some((role, dir)) = child_role() else {
        return;
    };
    assert_eq!(role, "crash", "unknown child role");
    let journal_mode = std::env::var(JOURNAL_VAR).unwrap();
    let mut conn = Conn::open(&dir, "crash.db");
    assert_eq!(
        conn.query_text(&format!("PRAGMA journal_mode = {journal_mode}")),
        journal_mode
    );
    conn.execute_batch(&format!(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad TEXT NOT NULL);
         WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {COMMITTED_ROWS})
         INSERT INTO t SELECT i, 3 * i, printf('%080d', i) FROM r;"
    ));
    let len = |suffix: &str| file_len(&dir.join(format!("crash.db{suffix}")));
    child_signal(&format!("committed: db={} wal={}", len(""), len("-wal")));

    // A page cache of 20 pages makes the transaction spill to the files long before
    // its end.
    conn.execute_batch(
        "PRAGMA cache_size = 20;
         BEGIN;
         WITH RECURSIVE r(i) AS (SELECT 1001 UNION ALL SELECT i + 1 FROM r WHERE i < 30000)
         INSERT INTO t SELECT i, i, printf('%0200d', i) FROM r;
         UPDATE t SET v = -v, pad = 'overwritten' WHERE id <= 1000;
         DELETE FROM t WHERE id % 3 = 0;",
    );
    child_signal("inside the transaction");
    for k in 0_i64.. {
        conn.execute(
            "UPDATE t SET v = v + 1 WHERE id % 10 = ?1",
            &[(k % 10).into()],
        );
    }
}
