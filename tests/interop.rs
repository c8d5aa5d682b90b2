//! Interoperability with native SQLite (Debian's `sqlite3` shell): the same files, the
//! same locks. A native process and Sandlite read and write one database at the same
//! time, in rollback-journal and in WAL mode, without corruption or lost writes, and
//! each reads what the other wrote.
//!
//! The shell is at /usr/bin/sqlite3 (CI installs it). Without it these tests print why
//! they are skipped, except under CI (`CI` set), where its absence is a failure.

mod common;

use common::{Conn, Value, ffi, text};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The native shell, or `None` (after saying so) when it is not installed.
fn sqlite3_cli(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("sqlite3"))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: the sqlite3 shell is not installed, and CI must run the interop tests \
             (apt-get install sqlite3)"
        );
        eprintln!(
            "skipping {test}: the native sqlite3 shell is not installed (apt-get install sqlite3)"
        );
    }
    found
}

/// The native shell on `db`, reading its commands from stdin; it stops at the first
/// error (`-bail`).
fn cli_command(cli: &Path, db: &Path) -> Command {
    let mut cmd = Command::new(cli);
    cmd.arg("-bail").arg("-batch").arg(db);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `script` in the native shell and returns its output; panics if it fails or
/// complains.
fn run_cli(cli: &Path, db: &Path, script: &str) -> String {
    let mut child = cli_command(cli, db).spawn().expect("start sqlite3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .expect("write the script to sqlite3");
    let output = child.wait_with_output().expect("wait for sqlite3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "sqlite3 failed ({}) on:\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// Waits for a running native shell and panics unless it succeeded quietly.
fn finish_cli(child: std::process::Child) -> String {
    let output = child.wait_with_output().expect("wait for sqlite3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "sqlite3 failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// Sandlite's connection on a fresh `shared.db` with the table both sides write.
fn shared_database(dir: &Path, wal: bool) -> Conn {
    let mut conn = Conn::open(dir, "shared.db");
    if wal {
        assert_eq!(conn.query_text("PRAGMA journal_mode=WAL"), "wal");
    }
    conn.execute_batch(
        "CREATE TABLE t(
             id INTEGER PRIMARY KEY,
             src TEXT NOT NULL,
             i INTEGER NOT NULL,
             UNIQUE (src, i)
         );",
    );
    conn
}

/// Both sides' rows are all there, once each, and both SQLites find the file sound.
fn assert_rows_and_integrity(cli: &Path, conn: &mut Conn, db: &Path, per_side: i64) {
    for src in ["native", "sandlite"] {
        assert_eq!(
            conn.query_with(
                "SELECT count(*), count(DISTINCT i), min(i), max(i) FROM t WHERE src = ?1",
                &[src.into()]
            ),
            vec![vec![
                Value::Integer(per_side),
                Value::Integer(per_side),
                Value::Integer(0),
                Value::Integer(per_side - 1),
            ]],
            "rows written by {src}"
        );
    }
    conn.assert_integrity_ok();
    let native_view = run_cli(
        cli,
        db,
        "SELECT src, count(*) FROM t GROUP BY src ORDER BY src;\nPRAGMA integrity_check;\n",
    );
    assert_eq!(
        native_view,
        format!("native|{per_side}\nsandlite|{per_side}\nok\n")
    );
}

/// A native shell and Sandlite insert rows into one table at the same time, each row in
/// its own transaction, both with a 10 s busy timeout.
fn write_concurrently_with_native(wal: bool) {
    const PER_SIDE: i64 = 300;
    const CHUNK: i64 = 20;
    let test = if wal {
        "concurrent writes (WAL)"
    } else {
        "concurrent writes (rollback)"
    };
    let Some(cli) = sqlite3_cli(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let mut conn = shared_database(dir.path(), wal);

    let mut native = cli_command(&cli, &db).spawn().expect("start sqlite3");
    let mut native_in = native.stdin.take().unwrap();
    native_in.write_all(b".timeout 10000\n").unwrap();
    let mut last_count = 0;
    for chunk in 0..PER_SIDE / CHUNK {
        // Hand the shell its next rows, then write ours while it works on them.
        let rows = chunk * CHUNK..(chunk + 1) * CHUNK;
        let script: String = rows
            .clone()
            .map(|i| format!("INSERT INTO t(src, i) VALUES ('native', {i});\n"))
            .collect();
        native_in.write_all(script.as_bytes()).unwrap();
        native_in.flush().unwrap();
        for i in rows {
            if i % 2 == 0 {
                conn.execute("INSERT INTO t(src, i) VALUES ('sandlite', ?1)", &[i.into()]);
            } else {
                conn.execute_batch("BEGIN IMMEDIATE");
                conn.execute("INSERT INTO t(src, i) VALUES ('sandlite', ?1)", &[i.into()]);
                conn.execute_batch("COMMIT");
            }
        }
        // Committed rows never disappear.
        let count = conn.query_i64("SELECT count(*) FROM t");
        assert!(
            count >= last_count,
            "row count went from {last_count} to {count}"
        );
        last_count = count;
        // Rounds are in lock step (each side writes in every round), so the two sides'
        // rows interleave whatever the timing within a round.
        let deadline = Instant::now() + Duration::from_secs(20);
        while conn.query_i64("SELECT count(*) FROM t WHERE src = 'native'") < (chunk + 1) * CHUNK {
            assert!(
                Instant::now() < deadline,
                "the native shell stalled in round {chunk}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    drop(native_in);
    finish_cli(native);

    // At least every round but the first and last lies between Sandlite's rows.
    let native_rows_between = conn.query_i64(
        "SELECT count(*) FROM t WHERE src = 'native'
           AND id > (SELECT min(id) FROM t WHERE src = 'sandlite')
           AND id < (SELECT max(id) FROM t WHERE src = 'sandlite')",
    );
    assert!(
        native_rows_between >= PER_SIDE - 2 * CHUNK,
        "{test}: only {native_rows_between} native rows between Sandlite's first and last"
    );

    assert_rows_and_integrity(&cli, &mut conn, &db, PER_SIDE);
    if wal {
        assert_eq!(conn.query_text("PRAGMA journal_mode"), "wal");
    }
}

#[test]
fn native_and_sandlite_write_concurrently_in_rollback_mode() {
    write_concurrently_with_native(false);
}

#[test]
fn native_and_sandlite_write_concurrently_in_wal_mode() {
    write_concurrently_with_native(true);
}

/// Each side holds the write lock in turn while the other waits for it.
fn wait_for_each_others_locks(wal: bool) {
    let test = if wal {
        "lock waits (WAL)"
    } else {
        "lock waits (rollback)"
    };
    let Some(cli) = sqlite3_cli(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let mut conn = shared_database(dir.path(), wal);

    // 1. Sandlite holds the write lock: the native shell waits until it commits.
    conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t(src, i) VALUES ('sandlite', 0);");
    let mut native = cli_command(&cli, &db).spawn().expect("start sqlite3");
    native
        .stdin
        .take()
        .unwrap()
        .write_all(b".timeout 10000\nINSERT INTO t(src, i) VALUES ('native', 0);\nSELECT 'native inserted';\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        native.try_wait().unwrap().is_none(),
        "the native shell finished while Sandlite held the write lock"
    );
    conn.execute_batch("COMMIT");
    assert_eq!(finish_cli(native), "native inserted\n");

    // 2. The native shell holds the write lock: Sandlite waits until it commits.
    let mut native = cli_command(&cli, &db).spawn().expect("start sqlite3");
    let mut native_in = native.stdin.take().unwrap();
    native_in
        .write_all(
            b".timeout 10000\nBEGIN IMMEDIATE;\nINSERT INTO t(src, i) VALUES ('native', 1);\n",
        )
        .unwrap();
    native_in.flush().unwrap();
    // Wait until the shell has the lock (a try without busy timeout fails).
    conn.sqlite.busy_timeout(conn.db, 0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match conn.try_execute_batch("BEGIN IMMEDIATE") {
            Err(e) if e.primary_code() == Some(ffi::SQLITE_BUSY) => break,
            Err(e) => panic!("probing the native lock: {e}"),
            Ok(()) => conn.execute_batch("ROLLBACK"),
        }
        assert!(
            Instant::now() < deadline,
            "the native shell never took the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let path = dir.path().to_owned();
    let waiter = std::thread::spawn(move || {
        let mut other = Conn::open(&path, "shared.db");
        other.execute("INSERT INTO t(src, i) VALUES ('sandlite', 1)", &[]);
        Instant::now()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !waiter.is_finished(),
        "Sandlite wrote while the native shell held the write lock"
    );
    let commit_sent = Instant::now();
    native_in.write_all(b"COMMIT;\n").unwrap();
    drop(native_in);
    let inserted_at = waiter.join().unwrap();
    assert!(inserted_at > commit_sent);
    finish_cli(native);

    assert_eq!(
        conn.query("SELECT src, i FROM t ORDER BY id"),
        vec![
            vec![text("sandlite"), Value::Integer(0)],
            vec![text("native"), Value::Integer(0)],
            vec![text("native"), Value::Integer(1)],
            vec![text("sandlite"), Value::Integer(1)],
        ]
    );
    conn.sqlite
        .busy_timeout(conn.db, common::LONG_BUSY_TIMEOUT_MS)
        .unwrap();
    assert_rows_and_integrity(&cli, &mut conn, &db, 2);
}

#[test]
fn native_and_sandlite_wait_for_each_others_locks_in_rollback_mode() {
    wait_for_each_others_locks(false);
}

#[test]
fn native_and_sandlite_wait_for_each_others_locks_in_wal_mode() {
    wait_for_each_others_locks(true);
}

#[test]
fn a_file_written_by_sandlite_reads_in_native_sqlite() {
    let Some(cli) = sqlite3_cli("sandlite file read natively") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("made-by-sandlite.db");
    let mut conn = Conn::open(dir.path(), "made-by-sandlite.db");
    conn.execute_batch(
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB);
         CREATE INDEX items_name ON items(name);
         CREATE VIEW cheap AS SELECT name FROM items WHERE price < 2;
         PRAGMA user_version = 7;",
    );
    conn.execute(
        "INSERT INTO items VALUES (1, 'crème brûlée', 1.5, x'00ff10'), (2, 'tea', 3.25, NULL)",
        &[],
    );
    conn.execute_batch(
        "WITH RECURSIVE r(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM r WHERE i < 2000)
         INSERT INTO items SELECT i, 'item ' || i, i / 100.0, randomblob(50) FROM r;",
    );
    // Read natively while Sandlite's connection is still open.
    let out = run_cli(
        &cli,
        &db,
        "SELECT id, name, price, hex(data), typeof(data) FROM items WHERE id <= 2 ORDER BY id;
         SELECT count(*), sum(length(data)) FROM items;
         SELECT * FROM cheap WHERE name NOT LIKE 'item%';
         PRAGMA user_version;
         PRAGMA integrity_check;\n",
    );
    assert_eq!(
        out,
        "1|crème brûlée|1.5|00FF10|blob\n2|tea|3.25||null\n2000|99903\ncrème brûlée\n7\nok\n"
    );
    // A WAL-mode database with frames not yet checkpointed reads natively too.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         UPDATE items SET price = price * 2 WHERE id <= 2;",
    );
    assert!(
        std::fs::metadata(dir.path().join("made-by-sandlite.db-wal"))
            .unwrap()
            .len()
            > 0
    );
    let out = run_cli(
        &cli,
        &db,
        "SELECT price FROM items WHERE id <= 2 ORDER BY id;\n",
    );
    assert_eq!(out, "3.0\n6.5\n");
}

#[test]
fn a_file_written_by_native_sqlite_reads_in_sandlite() {
    let Some(cli) = sqlite3_cli("native file read by sandlite") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("made-natively.db");
    run_cli(
        &cli,
        &db,
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB);
         CREATE UNIQUE INDEX items_name ON items(name);
         INSERT INTO items VALUES (1, 'crème brûlée', 1.5, x'00ff10'), (2, 'tea', 3.25, NULL);
         WITH RECURSIVE r(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM r WHERE i < 2000)
         INSERT INTO items SELECT i, 'item ' || i, i / 100.0, zeroblob(i % 7) FROM r;
         PRAGMA user_version = 9;\n",
    );
    let mut conn = Conn::open(dir.path(), "made-natively.db");
    assert_eq!(
        conn.query("SELECT id, name, price, data FROM items WHERE id <= 2 ORDER BY id"),
        vec![
            vec![
                Value::Integer(1),
                text("crème brûlée"),
                Value::Real(1.5),
                Value::Blob(vec![0x00, 0xff, 0x10]),
            ],
            vec![
                Value::Integer(2),
                text("tea"),
                Value::Real(3.25),
                Value::Null
            ],
        ]
    );
    assert_eq!(conn.query_i64("SELECT count(*) FROM items"), 2000);
    assert_eq!(
        conn.query_i64("SELECT sum(length(data)) FROM items"),
        3 + 5997
    );
    assert_eq!(conn.query_i64("PRAGMA user_version"), 9);
    // The native unique index is used and enforced.
    let err = conn
        .try_execute("INSERT INTO items(name) VALUES ('tea')", &[])
        .unwrap_err();
    assert_eq!(err.code(), Some(ffi::SQLITE_CONSTRAINT_UNIQUE), "{err}");
    conn.assert_integrity_ok();

    // A native WAL database, left with frames in its WAL by a native writer that is
    // still running, reads in Sandlite.
    run_cli(&cli, &db, "PRAGMA journal_mode = WAL;\n");
    let mut native = cli_command(&cli, &db).spawn().expect("start sqlite3");
    let mut native_in = native.stdin.take().unwrap();
    native_in
        .write_all(b"PRAGMA wal_autocheckpoint = 0;\nUPDATE items SET price = -price WHERE id <= 2;\nSELECT 'updated';\n")
        .unwrap();
    native_in.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while conn.query_i64("SELECT count(*) FROM items WHERE price < 0") != 2 {
        assert!(
            Instant::now() < deadline,
            "the native update never became visible"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        std::fs::metadata(dir.path().join("made-natively.db-wal"))
            .unwrap()
            .len()
            > 0
    );
    assert_eq!(
        conn.query("SELECT price FROM items WHERE id <= 2 ORDER BY id"),
        vec![vec![Value::Real(-1.5)], vec![Value::Real(-3.25)]]
    );
    drop(native_in);
    assert_eq!(finish_cli(native), "0\nupdated\n");
    conn.assert_integrity_ok();
}
