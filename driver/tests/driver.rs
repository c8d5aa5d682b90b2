//! The driver's public API end to end.

use sandlite_driver::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use sandlite_driver::pool::SandliteConnectionManager;
use sandlite_driver::service::{Route, ServicePool};
use sandlite_driver::types::Type;
use sandlite_driver::{
    Connection, DatabaseName, DropBehavior, Error, OpenFlags, OpenOptions, OptionalExtension,
    TransactionBehavior, Value, ValueRef, ZeroBlob, named_params, params, params_from_iter,
};
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn memory() -> Connection {
    Connection::open_in_memory().unwrap()
}

fn integrity_ok(conn: &Connection) {
    let r: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
}

#[test]
fn connections_move_between_threads() {
    fn send<T: Send + 'static>() {}
    send::<Connection>();
    let conn = memory();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (7)")
        .unwrap();
    let x: i64 =
        std::thread::spawn(move || conn.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap())
            .join()
            .unwrap();
    assert_eq!(x, 7);
}

#[test]
fn open_execute_query() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
             -- a comment between statements
             CREATE INDEX person_age ON person(age);",
        )
        .unwrap();
        assert_eq!(
            conn.execute(
                "INSERT INTO person(name, age) VALUES (?1, ?2)",
                params!["Ada", 36]
            )
            .unwrap(),
            1
        );
        assert_eq!(conn.last_insert_rowid(), 1);
        conn.execute(
            "INSERT INTO person(name, age) VALUES (:name, :age)",
            named_params! {":name": "Grace", ":age": 85},
        )
        .unwrap();
        conn.execute(
            "INSERT INTO person(name, age) VALUES (@n, $a)",
            named_params! {"@n": "Linus", "$a": None::<i64>},
        )
        .unwrap();
        assert_eq!(
            conn.execute("UPDATE person SET age = age + 1 WHERE age IS NOT NULL", [])
                .unwrap(),
            2
        );
        assert_eq!(conn.changes(), 2);
        assert_eq!(conn.total_changes(), 5);
        assert!(conn.is_autocommit());
        integrity_ok(&conn);
    }
    let conn = Connection::open(&path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, name, age FROM person ORDER BY id")
        .unwrap();
    assert_eq!(stmt.column_names(), vec!["id", "name", "age"]);
    assert_eq!(stmt.column_index("NAME").unwrap(), 1);
    assert!(stmt.readonly());
    let people: Vec<(i64, String, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get("name")?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        people,
        vec![
            (1, "Ada".into(), Some(37)),
            (2, "Grace".into(), Some(86)),
            (3, "Linus".into(), None)
        ]
    );
    // Streaming rows, get_ref.
    let mut rows = stmt.query([]).unwrap();
    let first = rows.next().unwrap().unwrap();
    assert_eq!(first.get_ref(1).unwrap(), ValueRef::Text(b"Ada"));
    drop(rows);
    let none: Option<String> = conn
        .query_row("SELECT name FROM person WHERE id = ?1", [42], |r| r.get(0))
        .optional()
        .unwrap();
    assert_eq!(none, None);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM person WHERE id IN (?, ?, ?)",
            params_from_iter([1, 2, 9]),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
    let mut stmt = conn
        .prepare("SELECT name FROM person WHERE age > ?1")
        .unwrap();
    assert!(stmt.exists([80]).unwrap());
    assert!(!stmt.exists([100]).unwrap());
    let mut insert = conn.prepare("INSERT INTO person(name) VALUES (?)").unwrap();
    assert_eq!(insert.insert(["Edsger"]).unwrap(), 4);
    assert_eq!(
        insert.expanded_sql(),
        Some("INSERT INTO person(name) VALUES ('Edsger')".into())
    );
}

#[test]
fn conversions_and_their_errors() {
    let conn = memory();
    conn.execute_batch("CREATE TABLE v(i INTEGER, r REAL, t TEXT, b BLOB, n)")
        .unwrap();
    conn.execute(
        "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
        (300i64, 2.5f64, "héllo", vec![0u8, 1, 255], None::<i32>),
    )
    .unwrap();
    let row = |sql: &str| -> Result<Value, Error> { conn.query_row(sql, [], |r| r.get(0)) };
    assert_eq!(row("SELECT i FROM v").unwrap(), Value::Integer(300));
    assert_eq!(
        row("SELECT b FROM v").unwrap(),
        Value::Blob(vec![0, 1, 255])
    );
    assert_eq!(row("SELECT n FROM v").unwrap(), Value::Null);
    let get = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, u8>(0));
    match get("SELECT i FROM v") {
        Err(Error::IntegralValueOutOfRange(0, 300)) => {}
        other => panic!("expected out of range, got {other:?}"),
    }
    match conn.query_row("SELECT t FROM v", [], |r| r.get::<_, i64>(0)) {
        Err(Error::InvalidColumnType(0, ref name, Type::Text)) if name == "t" => {}
        other => panic!("expected invalid column type, got {other:?}"),
    }
    let t: String = conn.query_row("SELECT t FROM v", [], |r| r.get(0)).unwrap();
    assert_eq!(t, "héllo");
    let f: f64 = conn.query_row("SELECT i FROM v", [], |r| r.get(0)).unwrap();
    assert_eq!(f, 300.0);
    // get_ref hands out text exactly as stored, even when it is not UTF-8.
    let raw = conn
        .query_row("SELECT CAST(x'61ff62' AS TEXT)", [], |r| {
            Ok(match r.get_ref(0)? {
                ValueRef::Text(t) => t.to_vec(),
                other => panic!("{other:?}"),
            })
        })
        .unwrap();
    assert_eq!(raw, vec![0x61, 0xff, 0x62]);
    let b: bool = conn.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
    assert!(b);
    assert!(matches!(
        conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(5)),
        Err(Error::InvalidColumnIndex(5))
    ));
    assert!(matches!(
        conn.query_row("SELECT 1 AS a", [], |r| r.get::<_, i64>("b")),
        Err(Error::InvalidColumnName(_))
    ));
    // Parameters: count, names, range-checked unsigned.
    assert!(matches!(
        conn.execute("INSERT INTO v(i) VALUES (?)", [1, 2]),
        Err(Error::InvalidParameterCount(2, 1))
    ));
    assert!(matches!(
        conn.execute("INSERT INTO v(i) VALUES (:x)", named_params! {":y": 1}),
        Err(Error::InvalidParameterName(_))
    ));
    assert!(matches!(
        conn.execute("INSERT INTO v(i) VALUES (?)", [u64::MAX]),
        Err(Error::ToSqlConversionFailure(_))
    ));
    assert!(matches!(
        conn.execute("SELECT 1", []),
        Err(Error::ExecuteReturnedResults)
    ));
    assert!(matches!(
        conn.prepare("SELECT 1; SELECT 2"),
        Err(Error::MultipleStatement)
    ));
}

#[test]
fn sql_errors_keep_code_message_offset_and_the_connection_survives() {
    let conn = memory();
    let err = conn
        .execute_batch("CREATE TABLE t(a); SELEC * FROM t")
        .unwrap_err();
    match &err {
        Error::SqlInputError {
            error,
            msg,
            sql,
            offset: 19,
        } => {
            assert_eq!(error.extended_code, 1);
            assert!(msg.contains("syntax error"), "{msg}");
            assert_eq!(sql, "CREATE TABLE t(a); SELEC * FROM t");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.sql_offset(), Some(19));
    conn.execute_batch("CREATE UNIQUE INDEX ta ON t(a); INSERT INTO t VALUES (1)")
        .unwrap();
    let dup = conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
    assert!(dup.is_constraint() && dup.is_unique_violation(), "{dup:?}");
    assert_eq!(dup.extended_code(), Some(2067));
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn transactions_and_savepoints_roll_back_on_drop() {
    let mut conn = memory();
    conn.execute_batch("CREATE TABLE t(x)").unwrap();
    {
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert!(!tx.is_autocommit());
        // dropped: rolled back
    }
    let count = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&conn), 0);
    {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
        tx.commit().unwrap();
    }
    assert_eq!(count(&conn), 1);
    {
        let mut tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
        {
            let mut sp = tx.savepoint().unwrap();
            sp.execute("INSERT INTO t VALUES (3)", []).unwrap();
            {
                let sp2 = sp.savepoint().unwrap();
                sp2.execute("INSERT INTO t VALUES (4)", []).unwrap();
                // dropped: 4 rolled back
            }
            sp.rollback().unwrap(); // 3 rolled back, savepoint still open
            sp.execute("INSERT INTO t VALUES (5)", []).unwrap();
            sp.commit().unwrap();
        }
        tx.commit().unwrap();
    }
    let xs: Vec<i64> = conn
        .prepare("SELECT x FROM t ORDER BY x")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(xs, vec![1, 2, 5]);
    {
        let mut tx = conn.transaction().unwrap();
        tx.set_drop_behavior(DropBehavior::Commit);
        tx.execute("INSERT INTO t VALUES (6)", []).unwrap();
    }
    assert_eq!(count(&conn), 4);
    assert!(conn.is_autocommit());
}

struct Median;

impl Aggregate<Vec<f64>, Option<f64>> for Median {
    fn init(&self, _: &mut Context<'_>) -> sandlite_driver::Result<Vec<f64>> {
        Ok(Vec::new())
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut Vec<f64>) -> sandlite_driver::Result<()> {
        acc.push(ctx.get(0)?);
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Vec<f64>>,
    ) -> sandlite_driver::Result<Option<f64>> {
        let Some(mut v) = acc else { return Ok(None) };
        v.sort_by(f64::total_cmp);
        Ok(Some(v[v.len() / 2]))
    }
}

struct MovingSum;

impl Aggregate<i64, i64> for MovingSum {
    fn init(&self, _: &mut Context<'_>) -> sandlite_driver::Result<i64> {
        Ok(0)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut i64) -> sandlite_driver::Result<()> {
        *acc += ctx.get::<i64>(0)?;
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<i64>) -> sandlite_driver::Result<i64> {
        Ok(acc.unwrap_or(0))
    }
}

impl WindowAggregate<i64, i64> for MovingSum {
    fn value(&self, acc: Option<&mut i64>) -> sandlite_driver::Result<i64> {
        Ok(acc.map_or(0, |a| *a))
    }
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut i64) -> sandlite_driver::Result<()> {
        *acc -= ctx.get::<i64>(0)?;
        Ok(())
    }
}

#[test]
fn functions_and_collations_from_sql() {
    let conn = memory();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    conn.create_scalar_function(
        "shout",
        1,
        FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            c.fetch_add(1, Ordering::SeqCst);
            let s: String = ctx.get(0)?;
            Ok(format!("{}!", s.to_uppercase()))
        },
    )
    .unwrap();
    let s: String = conn
        .query_row("SELECT shout('hi')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(s, "HI!");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    conn.create_scalar_function(
        "fail",
        0,
        FunctionFlags::SQLITE_UTF8,
        |_| -> sandlite_driver::Result<i64> { Err(Error::UserFunctionError("nope".into())) },
    )
    .unwrap();
    let err = conn
        .query_row("SELECT fail()", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    conn.create_scalar_function(
        "boom",
        0,
        FunctionFlags::SQLITE_UTF8,
        |_| -> sandlite_driver::Result<i64> { panic!("inside a user function") },
    )
    .unwrap();
    let err = conn
        .query_row("SELECT boom()", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    // A callback that re-enters its connection gets an error, not a panic.
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (5), (3), (4), (2)")
        .unwrap();
    conn.create_aggregate_function("median", 1, FunctionFlags::SQLITE_DETERMINISTIC, Median)
        .unwrap();
    let m: f64 = conn
        .query_row("SELECT median(x) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(m, 3.0);
    let empty: Option<f64> = conn
        .query_row("SELECT median(x) FROM t WHERE x > 100", [], |r| r.get(0))
        .unwrap();
    assert_eq!(empty, None);
    conn.create_window_function("msum", 1, FunctionFlags::SQLITE_UTF8, MovingSum)
        .unwrap();
    let sums: Vec<i64> = conn
        .prepare("SELECT msum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sums, vec![1, 3, 5, 7, 9]);
    conn.create_collation("reverse", |a: &str, b: &str| b.cmp(a))
        .unwrap();
    let names: Vec<String> = conn
        .prepare(
            "SELECT column1 FROM (VALUES ('a'), ('c'), ('b')) ORDER BY column1 COLLATE reverse",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, vec!["c", "b", "a"]);
    conn.remove_function("shout", 1).unwrap();
    assert!(
        conn.query_row("SELECT shout('x')", [], |r| r.get::<_, String>(0))
            .is_err()
    );
}

#[test]
fn blob_io() {
    let conn = memory();
    conn.execute_batch("CREATE TABLE f(data BLOB)").unwrap();
    conn.execute("INSERT INTO f VALUES (?)", [ZeroBlob(100_000)])
        .unwrap();
    let row = conn.last_insert_rowid();
    let mut blob = conn
        .blob_open(DatabaseName::Main, "f", "data", row, false)
        .unwrap();
    assert_eq!(blob.len(), 100_000);
    let chunk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let mut written = 0;
    while written < 100_000 {
        written += blob
            .write(&chunk[..chunk.len().min(100_000 - written)])
            .unwrap();
    }
    assert!(blob.write(b"x").is_err(), "blobs cannot grow");
    blob.seek(SeekFrom::Start(4096 + 10)).unwrap();
    let mut b = [0u8; 3];
    blob.read_exact(&mut b).unwrap();
    assert_eq!(b, [10, 11, 12]);
    blob.seek(SeekFrom::End(-1)).unwrap();
    let mut rest = Vec::new();
    blob.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, vec![((100_000 - 1) % 4096 % 256) as u8]);
    drop(blob);
    let total: i64 = conn
        .query_row("SELECT length(data) FROM f", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 100_000);
    let ro = conn
        .blob_open(DatabaseName::Main, "f", "data", row, true)
        .unwrap();
    let mut ro = ro;
    assert!(ro.write(b"x").is_err());
}

#[test]
fn hooks_fire() {
    let conn = memory();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = log.clone();
    conn.update_hook(Some(move |a, db: &str, t: &str, id| {
        l.lock().unwrap().push(format!("{a:?} {db}.{t} {id}"));
    }))
    .unwrap();
    let l = log.clone();
    conn.commit_hook(Some(move || {
        l.lock().unwrap().push("commit".into());
        false
    }))
    .unwrap();
    let l = log.clone();
    conn.rollback_hook(Some(move || l.lock().unwrap().push("rollback".into())))
        .unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1); BEGIN; UPDATE t SET x = 2; ROLLBACK; DELETE FROM t WHERE x > 0")
        .unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            "commit",
            "SQLITE_INSERT main.t 1",
            "commit",
            "SQLITE_UPDATE main.t 1",
            "rollback",
            "SQLITE_DELETE main.t 1",
            "commit"
        ]
    );
    // A commit hook that vetoes turns the commit into a rollback.
    conn.commit_hook(Some(|| true)).unwrap();
    let err = conn.execute("INSERT INTO t VALUES (9)", []).unwrap_err();
    assert_eq!(err.sqlite_code(), Some(19), "{err:?}");
    conn.commit_hook(None::<fn() -> bool>).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

const LONG_QUERY: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[test]
fn interrupt_from_another_thread() {
    let conn = memory();
    let handle = conn.get_interrupt_handle();
    // Interrupting while idle has no effect on the next statement.
    handle.interrupt();
    let one: i64 = conn.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(one, 1);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        handle.interrupt();
    });
    let started = Instant::now();
    let err = conn
        .query_row(LONG_QUERY, [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    stopper.join().unwrap();
    assert!(err.is_interrupt(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!conn.is_broken());
    let two: i64 = conn.query_row("SELECT 2", [], |r| r.get(0)).unwrap();
    assert_eq!(two, 2);
}

#[test]
fn busy_timeout_waits_then_reports_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let a = Connection::open(&path).unwrap();
    a.execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
        .unwrap();
    let b = OpenOptions::new()
        .busy_timeout(Duration::from_millis(300))
        .open(&path)
        .unwrap();
    let started = Instant::now();
    let err = b.execute("INSERT INTO t VALUES (2)", []).unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    a.execute_batch("COMMIT").unwrap();
    b.execute("INSERT INTO t VALUES (2)", []).unwrap();
    let n: i64 = a
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn backup_is_consistent_while_a_writer_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("src.db");
    let dst_dir = tempfile::tempdir().unwrap();
    let dst = dst_dir.path().join("copy.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(v INTEGER, pad TEXT);")
        .unwrap();
    {
        let tx = conn.unchecked_transaction().unwrap();
        for i in 1..=2000 {
            tx.execute(
                "INSERT INTO t VALUES (?1, hex(randomblob(64))), (-?1, '')",
                [i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let w = Connection::open(&path).unwrap();
            let mut i = 10_000;
            while !stop.load(Ordering::Relaxed) {
                // Each transaction keeps sum(v) = 0 and count even.
                w.execute_batch(&format!(
                    "BEGIN; INSERT INTO t VALUES ({i}, hex(randomblob(64))); INSERT INTO t VALUES (-{i}, ''); COMMIT"
                ))
                .unwrap();
                i += 1;
            }
            i - 10_000
        })
    };
    let mut steps = 0;
    let mut progress = |_p: sandlite_driver::Progress| steps += 1;
    conn.backup(DatabaseName::Main, &dst, Some(&mut progress))
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(steps > 0);
    let copy = Connection::open(&dst).unwrap();
    integrity_ok(&copy);
    let (count, sum): (i64, i64) = copy
        .query_row("SELECT count(*), sum(v) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(sum, 0, "a torn copy would break the invariant");
    assert_eq!(count % 2, 0);
    assert!(count >= 4000, "{count}");
    let _ = written;
    // The sandbox grant was only for the backup: ATTACH into that directory fails now.
    let attach = format!("ATTACH '{}' AS other", dst.display());
    assert!(conn.execute_batch(&attach).is_err());
}

#[test]
fn pool_recovers_from_broken_and_abandoned_connections() {
    let dir = tempfile::tempdir().unwrap();
    let manager = SandliteConnectionManager::file(dir.path().join("p.db"))
        .with_init(|c| c.execute_batch("CREATE TABLE IF NOT EXISTS t(x)"));
    let pool = r2d2::Pool::builder().max_size(2).build(manager).unwrap();
    {
        let conn = pool.get().unwrap();
        let abort = conn.abort_handle().unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            abort.abort();
        });
        let err = conn
            .query_row(LONG_QUERY, [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        t.join().unwrap();
        assert!(matches!(err, Error::Trap(_)), "{err:?}");
        assert!(conn.is_broken());
        assert!(matches!(
            conn.execute_batch("SELECT 1"),
            Err(Error::Broken(_))
        ));
    }
    {
        // Returned inside a transaction: also discarded.
        let conn = pool.get().unwrap();
        conn.execute_batch("BEGIN; INSERT INTO t VALUES (1)")
            .unwrap();
    }
    for _ in 0..4 {
        let conn = pool.get().unwrap();
        assert!(!conn.is_broken());
        assert!(conn.is_autocommit());
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "the abandoned transaction was rolled back");
    }
}

#[test]
fn shared_memory_database_is_one_database() {
    let name = format!("shared-test-{}", std::process::id());
    let a = Connection::open_shared_memory(&name).unwrap();
    let b = Connection::open_shared_memory(&name).unwrap();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42)")
        .unwrap();
    let x: i64 = b.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(x, 42);
    let other = Connection::open_shared_memory(&format!("{name}-other")).unwrap();
    assert!(
        other
            .query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))
            .is_err()
    );
}

#[test]
fn service_pool_routes_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let pool = ServicePool::open(dir.path().join("s.db"), 3).unwrap();
    pool.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", [])
        .unwrap();
    pool.write(|tx| {
        for i in 0..10 {
            tx.execute("INSERT INTO t(v) VALUES (?)", [format!("v{i}")])?;
        }
        Ok(())
    })
    .unwrap();
    let rows = pool
        .query("SELECT v FROM t WHERE id > ?1 ORDER BY id", [8], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    assert_eq!(rows, vec!["v8", "v9"]);
    assert_eq!(pool.route("SELECT 1"), Route::Reader);
    let reads = pool.stats().reader.load(Ordering::Relaxed);
    assert_eq!(reads, 1);
    // WITH … INSERT parses as a query but writes: the writer runs it.
    pool.query(
        "WITH n(x) AS (VALUES (100)) INSERT INTO t(id, v) SELECT x, 'cte' FROM n RETURNING id",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap();
    // Unparsable for sqlparser, valid for SQLite: goes to the writer and works.
    pool.query(
        "INSERT OR IGNORE INTO t(id, v) VALUES (100, 'dup') RETURNING id",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap();
    // Misrouted on purpose: a reader refuses it after prepare, the writer runs it.
    let before = pool.stats().misrouted.load(Ordering::Relaxed);
    pool.query_with_route(
        Route::Reader,
        "DELETE FROM t WHERE id = 100 RETURNING id",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap();
    assert_eq!(pool.stats().misrouted.load(Ordering::Relaxed), before + 1);
    let n: i64 = pool
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 10);
    // Readers cannot write even when handed a connection directly.
    let err = pool
        .read(|c| c.execute("INSERT INTO t(v) VALUES ('x')", []))
        .unwrap_err();
    assert_eq!(err.sqlite_code(), Some(8), "{err:?}"); // SQLITE_READONLY
}

#[test]
fn service_pool_many_threads_no_lost_writes() {
    let dir = tempfile::tempdir().unwrap();
    let pool = Arc::new(ServicePool::open(dir.path().join("m.db"), 4).unwrap());
    pool.execute("CREATE TABLE c(n INTEGER)", []).unwrap();
    pool.execute("INSERT INTO c VALUES (0)", []).unwrap();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    if t % 2 == 0 {
                        pool.write(|tx| {
                            let n: i64 = tx.query_row("SELECT n FROM c", [], |r| r.get(0))?;
                            tx.execute("UPDATE c SET n = ?", [n + 1])?;
                            Ok(())
                        })
                        .unwrap();
                    } else {
                        let _: i64 = pool.query_row("SELECT n FROM c", [], |r| r.get(0)).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n: i64 = pool.query_row("SELECT n FROM c", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 75);
}

#[test]
fn open_flags_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    assert!(
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).is_err(),
        "no create flag"
    );
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    let ro = OpenOptions::new().read_only(true).open(&path).unwrap();
    assert!(ro.is_readonly(DatabaseName::Main).unwrap());
    let err = ro.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
    assert_eq!(err.sqlite_code(), Some(8));
    // A sandbox root above the file: subdirectories are reachable, outside is not.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let conn = OpenOptions::new()
        .sandbox_root(dir.path())
        .open("sub/inner.db")
        .unwrap();
    conn.execute_batch("CREATE TABLE x(y)").unwrap();
    assert!(sub.join("inner.db").exists());
    let err = Connection::open(dir.path().join("missing-dir/x.db")).unwrap_err();
    assert_eq!(err.sqlite_code(), Some(14), "{err}");
    // Memory limit: a query needing more fails with NOMEM; the connection survives.
    let small = OpenOptions::new()
        .memory_limit(6 << 20)
        .open(dir.path().join("m.db"))
        .unwrap();
    let err = small
        .query_row(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) SELECT length(group_concat(hex(randomblob(8)))) FROM c",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_err();
    assert_eq!(err.sqlite_code(), Some(7), "{err:?}");
    assert!(!small.is_broken());
    let one: i64 = small.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(one, 1);
}

#[test]
fn pragmas_cache_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("p.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(Some(DatabaseName::Main), "user_version", 7)
        .unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 7);
    let mut names = Vec::new();
    conn.execute_batch("CREATE TABLE t(a, b)").unwrap();
    conn.pragma_query(None, "table_info('t')", |r| {
        names.push(r.get::<_, String>(1)?);
        Ok(())
    })
    .ok();
    // table_info takes an argument: use the function form instead.
    let cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('t')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(cols, vec!["a", "b"]);
    for i in 0..100 {
        conn.execute("INSERT INTO t VALUES (?1, ?2)", (i, i * 2))
            .unwrap();
    }
    conn.set_prepared_statement_cache_capacity(2);
    conn.close().unwrap();
}

#[test]
fn hard_links_into_the_sandbox_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("box"), dir.path().join("outside"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim.db");
    let setup = Connection::open(&victim).unwrap();
    setup
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES ('outside')")
        .unwrap();
    drop(setup);
    let before = std::fs::read(&victim).unwrap();
    std::fs::hard_link(&victim, root.join("hard.db")).unwrap();

    // Opened directly, or ATTACHed from a database inside: refused with the reason.
    let e = Connection::open(root.join("hard.db")).unwrap_err();
    assert_eq!(e.sqlite_code(), Some(sandlite_driver::ffi::SQLITE_CANTOPEN));
    assert!(e.to_string().contains("it has 2 hard links"), "{e}");
    let conn = Connection::open(root.join("main.db")).unwrap();
    let e = conn
        .execute_batch("ATTACH 'hard.db' AS h; INSERT INTO h.t VALUES ('written')")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("may be a file outside the sandbox root"),
        "{e}"
    );
    assert_eq!(
        e.sqlite_code(),
        Some(sandlite_driver::ffi::SQLITE_CANTOPEN),
        "{e}"
    );
    let reason = conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0));
    assert_eq!(reason.unwrap(), 1, "the connection goes on");
    drop(conn);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        before,
        "outside file unchanged"
    );

    // Allowed explicitly, it opens (and is the outside database).
    let conn = OpenOptions::new()
        .allow_hard_links(true)
        .open(root.join("main.db"))
        .unwrap();
    conn.execute_batch("ATTACH 'hard.db' AS h").unwrap();
    let x: String = conn
        .query_row("SELECT x FROM h.t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(x, "outside");
}

#[test]
fn an_explicit_root_confines_untrusted_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Without a root, the path's own parent is the sandbox: `data/../victim.db` is
    // confined to `data/..`, so it opens (by design; see OpenOptions::sandbox_root).
    let name = "../victim.db";
    Connection::open(data.join(name)).unwrap();
    assert!(dir.path().join("victim.db").exists());
    std::fs::remove_file(dir.path().join("victim.db")).unwrap();
    // With the root set, the same name is refused and nothing is created.
    let e = OpenOptions::new()
        .sandbox_root(&data)
        .open(data.join(name))
        .unwrap_err();
    assert_eq!(
        e.sqlite_code(),
        Some(sandlite_driver::ffi::SQLITE_CANTOPEN),
        "{e}"
    );
    assert!(!dir.path().join("victim.db").exists());
}

#[test]
fn a_cached_statement_never_shows_a_previous_users_bindings() {
    let conn = memory();
    let sql = "SELECT :a, :b";
    let first: (i64, i64) = conn
        .prepare_cached(sql)
        .unwrap()
        .query_row(named_params! {":a": 1, ":b": 2}, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(first, (1, 2));
    // Binding only :a leaves :b NULL, as on a fresh statement.
    let second: (i64, Option<i64>) = conn
        .prepare_cached(sql)
        .unwrap()
        .query_row(named_params! {":a": 3}, |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(second, (3, None));
    conn.prepare_cached(sql)
        .unwrap()
        .query_row(named_params! {":a": 5, ":b": 6}, |_| Ok(()))
        .unwrap();
    // Nor through expanded_sql, raw binding or a query without parameters.
    let stmt = conn.prepare_cached(sql).unwrap();
    assert_eq!(stmt.expanded_sql().as_deref(), Some("SELECT NULL, NULL"));
    drop(stmt);
    conn.prepare_cached(sql)
        .unwrap()
        .query_row(named_params! {":a": 5, ":b": 6}, |_| Ok(()))
        .unwrap();
    let mut stmt = conn.prepare_cached(sql).unwrap();
    stmt.raw_bind_parameter(1, &7).unwrap();
    let raw: (i64, Option<i64>) = stmt
        .raw_query()
        .next()
        .unwrap()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .unwrap();
    assert_eq!(raw, (7, None));
    drop(stmt);
    // Positional parameters are all rebound every time.
    for i in 0..3 {
        let v: (i64, i64) = conn
            .query_row("SELECT ?1, ?2", (i, i * 10), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(v, (i, i * 10));
    }
}

#[test]
fn rows_read_every_type_and_width_and_interleave_between_statements() {
    let conn = memory();
    conn.execute_batch(
        "CREATE TABLE t(i, r, s, b, n);
         INSERT INTO t VALUES (1, 1.5, 'one', x'01ff', NULL), (2, -2.25, '', x'', NULL),
                              (3, 0.0, 'three', zeroblob(3), NULL)",
    )
    .unwrap();
    type RowValues = (i64, f64, String, Vec<u8>, Option<i64>);
    let mut a = conn.prepare("SELECT * FROM t ORDER BY i").unwrap();
    let mut b = conn.prepare("SELECT * FROM t ORDER BY i DESC").unwrap();
    let mut ra = a.query([]).unwrap();
    let mut rb = b.query([]).unwrap();
    let read = |r: &sandlite_driver::Row<'_>| -> RowValues {
        (
            r.get(0).unwrap(),
            r.get(1).unwrap(),
            r.get(2).unwrap(),
            r.get(3).unwrap(),
            r.get(4).unwrap(),
        )
    };
    let mut seen = Vec::new();
    // Step one, then the other, and read both: each row keeps its own values.
    while let (Some(x), Some(y)) = (ra.next().unwrap().map(read), rb.next().unwrap().map(read)) {
        seen.push((x, y));
    }
    let rows: Vec<RowValues> = vec![
        (1, 1.5, "one".into(), vec![1, 255], None),
        (2, -2.25, String::new(), vec![], None),
        (3, 0.0, "three".into(), vec![0, 0, 0], None),
    ];
    let expected: Vec<_> = rows
        .iter()
        .cloned()
        .zip(rows.iter().rev().cloned())
        .collect();
    assert_eq!(seen, expected);
    drop((ra, rb));
    // A type mismatch is the same error as column by column.
    let e = conn
        .query_row("SELECT 'text'", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidColumnType(0, _, Type::Text)),
        "{e:?}"
    );
    // Rows wider than one step reads (256 columns) read the rest column by column.
    let columns: Vec<String> = (0..300).map(|i| format!("{i} + 0.5")).collect();
    let wide = format!("SELECT {}, 'last'", columns.join(", "));
    conn.query_row(&wide, [], |r| {
        for i in 0..300 {
            assert_eq!(r.get::<_, f64>(i)?, i as f64 + 0.5);
        }
        assert_eq!(r.get::<_, String>(300)?, "last");
        Ok(())
    })
    .unwrap();
}

/// With the default `Strategy::Auto`, SQLite starts on the interpreter and compiles on a
/// background thread; an open connection moves to machine code between two calls, with
/// its database and its prepared statements carried over.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn connections_move_to_compiled_sqlite_between_statements() {
    use sandlite_driver::Strategy;
    let auto = std::env::var("SANDLITE_STRATEGY").map_or(true, |s| s.is_empty() || s == "auto");
    let conn = memory();
    conn.execute_batch(
        "CREATE TABLE t(x INTEGER PRIMARY KEY, s TEXT);
         INSERT INTO t(s) VALUES ('a'), ('b'), ('c');",
    )
    .unwrap();
    let mut stmt = conn.prepare("SELECT group_concat(s, '') FROM t").unwrap();
    let before: String = stmt.query_row([], |r| r.get(0)).unwrap();
    assert_eq!(before, "abc");
    if !auto {
        // An explicit engine never changes.
        let engine = conn.strategy();
        assert!(!sandlite_driver::wait_for_compiler() || engine == Strategy::Compiler);
        assert_eq!(conn.strategy(), engine);
        return;
    }
    assert!(sandlite_driver::wait_for_compiler(), "SQLite compiles");
    conn.execute("INSERT INTO t(s) VALUES ('d')", []).unwrap();
    assert_eq!(conn.strategy(), Strategy::Compiler);
    let after: String = stmt.query_row([], |r| r.get(0)).unwrap();
    assert_eq!(after, "abcd");
    integrity_ok(&conn);
}
