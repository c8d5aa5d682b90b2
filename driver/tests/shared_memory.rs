//! Shared in-memory databases: the URI forms native SQLite shares between the
//! connections of a process share one database here too, private forms stay private,
//! forms that cannot be honoured fail at open, and pools keep the database alive.

use r2d2::ManageConnection;
use sandlite_driver::pool::SandliteConnectionManager;
use sandlite_driver::{Connection, Error, ErrorCode, OpenFlags, OpenOptions, ffi};
use std::time::Duration;

/// A name no other test (or earlier run in this process) uses.
fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn count(conn: &Connection) -> Result<i64, Error> {
    conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
}

#[test]
fn mode_memory_cache_shared_is_one_database() {
    let uri = format!("file:{}?mode=memory&cache=shared", unique("uri"));
    let a = Connection::open(&uri).unwrap();
    let b = Connection::open(&uri).unwrap();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")
        .unwrap();
    assert_eq!(
        count(&b).unwrap(),
        2,
        "the second connection sees the first's rows"
    );
    b.execute("INSERT INTO t VALUES (3)", []).unwrap();
    assert_eq!(count(&a).unwrap(), 3);
    // Parameter order and the `file:///` spelling do not matter to the name's database
    // as long as the name is the same; another name is another database.
    let swapped = uri.replace("mode=memory&cache=shared", "cache=shared&mode=memory");
    assert_eq!(count(&Connection::open(&swapped).unwrap()).unwrap(), 3);
    let other =
        Connection::open(format!("file:{}?mode=memory&cache=shared", unique("uri"))).unwrap();
    let err = count(&other).unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
}

#[test]
fn uri_and_open_shared_memory_name_the_same_database() {
    let name = unique("same");
    let by_uri = Connection::open(format!("file:{name}?mode=memory&cache=shared")).unwrap();
    by_uri
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (7)")
        .unwrap();
    let by_name = Connection::open_shared_memory(&name).unwrap();
    assert_eq!(count(&by_name).unwrap(), 1);
}

#[test]
fn memory_colon_shared_cache_is_shared() {
    // `file::memory:?cache=shared` is one database for the whole process, as natively.
    // Other tests may use the same name, so this one works in its own table.
    let table = unique("colon").replace('-', "_");
    let a = Connection::open("file::memory:?cache=shared").unwrap();
    let b = Connection::open("file::memory:?cache=shared").unwrap();
    a.execute_batch(&format!(
        "CREATE TABLE \"{table}\"(x); INSERT INTO \"{table}\" VALUES (1)"
    ))
    .unwrap();
    let n: i64 = b
        .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn shared_cache_flag_and_memdb_vfs_share_too() {
    let name = unique("flag");
    let flags = OpenFlags::default() | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
    let a = Connection::open_with_flags(format!("file:{name}?mode=memory"), flags).unwrap();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        .unwrap();
    let b = Connection::open_with_flags(format!("file:{name}?mode=memory"), flags).unwrap();
    assert_eq!(count(&b).unwrap(), 1);

    // SQLite's memdb VFS shares "/name" within a process.
    let memdb = format!("file:/{}?vfs=memdb", unique("memdb"));
    let a = Connection::open(&memdb).unwrap();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")
        .unwrap();
    assert_eq!(count(&Connection::open(&memdb).unwrap()).unwrap(), 2);
}

#[test]
fn private_forms_stay_private() {
    let name = unique("private");
    for uri in [
        format!("file:{name}?mode=memory"),
        "file::memory:".to_owned(),
        format!("file:{name}?mode=memory&cache=private"),
        format!("file:{name}?vfs=memdb"),
        ":memory:".to_owned(),
    ] {
        let a = Connection::open(&uri).unwrap();
        a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
            .unwrap();
        assert_eq!(count(&a).unwrap(), 1, "{uri}");
        let b = Connection::open(&uri).unwrap();
        assert!(count(&b).is_err(), "{uri}: a private database was shared");
    }
}

#[test]
fn forms_that_cannot_be_honoured_fail_at_open() {
    let name = unique("bad");
    for uri in [
        format!("file://elsewhere.example/{name}?mode=memory&cache=shared"),
        format!("file:{name}?mode=memory&cache=sometimes"),
        format!("file:{name}?mode=memory&cache=shared&vfs=unix"),
        format!("file:{name}%00?mode=memory&cache=shared"),
    ] {
        match Connection::open(&uri) {
            Err(Error::SqliteFailure(e, Some(msg))) => {
                assert_eq!(e.code, ErrorCode::Unknown, "{uri}: {msg}");
                assert_eq!(e.extended_code, ffi::SQLITE_ERROR, "{uri}: {msg}");
            }
            other => panic!("{uri}: expected an error at open, got {other:?}"),
        }
    }
    // SQLite itself refuses VFS names it does not have (a file URI goes to SQLite).
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("file:{}?vfs=unix-excl", dir.path().join("x.db").display());
    let err = Connection::open(&uri).unwrap_err();
    assert!(err.to_string().contains("no such vfs"), "{err}");
}

#[test]
fn shared_memory_database_lives_while_a_connection_does() {
    let uri = format!("file:{}?mode=memory&cache=shared", unique("life"));
    let a = Connection::open(&uri).unwrap();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        .unwrap();
    let b = Connection::open(&uri).unwrap();
    drop(a);
    assert_eq!(count(&b).unwrap(), 1, "still open through b");
    drop(b);
    // As natively: once the last connection closes, the database is gone.
    assert!(count(&Connection::open(&uri).unwrap()).is_err());
}

#[test]
fn writers_on_a_shared_memory_database_exclude_each_other() {
    let uri = format!("file:{}?mode=memory&cache=shared", unique("locks"));
    let a = Connection::open(&uri).unwrap();
    let b = OpenOptions::new()
        .busy_timeout(Duration::from_millis(50))
        .open(&uri)
        .unwrap();
    a.execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
        .unwrap();
    let err = b.execute("INSERT INTO t VALUES (2)", []).unwrap_err();
    assert!(err.is_busy(), "{err}");
    assert_eq!(count(&b).unwrap(), 0, "uncommitted rows are not visible");
    a.execute_batch("COMMIT").unwrap();
    b.execute("INSERT INTO t VALUES (2)", []).unwrap();
    assert_eq!(count(&a).unwrap(), 2);
}

#[test]
fn pool_over_memory_keeps_its_contents_with_nothing_checked_out() {
    // r2d2_sqlite's test_in_memory_db_persists, as its users write it.
    let manager = SandliteConnectionManager::memory();
    let pool = r2d2::Pool::builder().max_size(2).build(manager).unwrap();
    {
        let conn = pool.get().unwrap();
        conn.execute("CREATE TABLE IF NOT EXISTS foo (bar INTEGER)", [])
            .unwrap();
    }
    let conn = pool.get().unwrap();
    conn.execute("INSERT INTO foo (bar) VALUES (42)", [])
        .unwrap();
    let other = pool.get().unwrap();
    let bar: i64 = other
        .query_row("SELECT bar FROM foo", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bar, 42);

    // Two `memory()` managers are two databases.
    let second = r2d2::Pool::builder()
        .max_size(1)
        .build(SandliteConnectionManager::memory())
        .unwrap();
    assert!(
        second
            .get()
            .unwrap()
            .execute("INSERT INTO foo VALUES (1)", [])
            .is_err()
    );
}

#[test]
fn manager_keeps_the_database_alive_when_every_connection_is_gone() {
    // Even with no idle connection left (closed, broken, discarded), the manager (and
    // so the pool) keeps the shared database.
    for manager in [
        SandliteConnectionManager::memory(),
        SandliteConnectionManager::file(format!(
            "file:{}?mode=memory&cache=shared",
            unique("managed")
        )),
    ] {
        let conn = manager.connect().unwrap();
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (5)")
            .unwrap();
        drop(conn);
        let conn = manager.connect().unwrap();
        assert_eq!(count(&conn).unwrap(), 1, "{manager:?}");
    }
}

#[test]
fn pool_threads_share_one_memory_database() {
    let uri = format!("file:{}?mode=memory&cache=shared", unique("threads"));
    let manager = SandliteConnectionManager::file(&uri)
        .with_init(|c| c.execute_batch("CREATE TABLE IF NOT EXISTS t(x)"));
    let pool = r2d2::Pool::builder().max_size(3).build(manager).unwrap();
    std::thread::scope(|s| {
        for i in 0..3 {
            let pool = pool.clone();
            s.spawn(move || {
                let conn = pool.get().unwrap();
                for j in 0..10 {
                    conn.execute("INSERT INTO t VALUES (?1)", [i * 100 + j])
                        .unwrap();
                }
            });
        }
    });
    let conn = pool.get().unwrap();
    assert_eq!(count(&conn).unwrap(), 30);
    assert_eq!(count(&Connection::open(&uri).unwrap()).unwrap(), 30);
}

#[test]
fn attaching_a_shared_memory_database_from_sql_is_refused() {
    // SQLite would resolve this URI inside the connection's own instance: a private
    // database, silently. Refused instead; a file attaches as usual.
    let conn = Connection::open_in_memory().unwrap();
    let uri = format!("file:{}?mode=memory&cache=shared", unique("attach"));
    let err = conn
        .execute_batch(&format!("ATTACH '{uri}' AS shared"))
        .unwrap_err();
    assert_eq!(err.sqlite_code(), Some(ffi::SQLITE_ERROR), "{err}");
    assert!(err.to_string().contains("cannot ATTACH"), "{err}");
    assert!(
        conn.execute(&format!("ATTACH DATABASE '{uri}' AS s"), [])
            .is_err()
    );
    conn.execute_batch("ATTACH ':memory:' AS scratch").unwrap();
}
