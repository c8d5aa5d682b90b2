//! Code written the way rusqlite (and r2d2_sqlite) users write it, with only the import
//! changed from `rusqlite` to `sandlite`. Each test is one such snippet; what does not
//! port is listed in README.md ("Coming from rusqlite").

// The snippets pass parameters the way users do, borrowed forms included.
#![allow(clippy::needless_borrows_for_generic_args)]

use std::time::Duration;

/// A name no other test in this process uses, for shared in-memory databases.
fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn readme_style_person_table() -> sandlite::Result<()> {
    use sandlite::{Connection, Result, params};

    #[derive(Debug)]
    struct Person {
        id: i32,
        name: String,
        data: Option<Vec<u8>>,
    }

    let conn = Connection::open_in_memory()?;
    conn.execute(
        "CREATE TABLE person (
            id    INTEGER PRIMARY KEY,
            name  TEXT NOT NULL,
            data  BLOB
        )",
        (),
    )?;
    let me = Person {
        id: 0,
        name: "Steven".to_string(),
        data: None,
    };
    conn.execute(
        "INSERT INTO person (name, data) VALUES (?1, ?2)",
        (&me.name, &me.data),
    )?;
    conn.execute(
        "INSERT INTO person (name, data) VALUES (?1, ?2)",
        params!["Ann", vec![1u8, 2]],
    )?;

    let mut stmt = conn.prepare("SELECT id, name, data FROM person ORDER BY id")?;
    let people: Result<Vec<Person>> = stmt
        .query_map([], |row| {
            Ok(Person {
                id: row.get(0)?,
                name: row.get(1)?,
                data: row.get(2)?,
            })
        })?
        .collect();
    let people = people?;
    assert_eq!(people.len(), 2);
    assert_eq!(
        (people[0].id, people[0].name.as_str(), &people[0].data),
        (1, "Steven", &None)
    );
    assert_eq!(people[1].data.as_deref(), Some(&[1u8, 2][..]));
    Ok(())
}

#[test]
fn pragmas_by_value() -> sandlite::Result<()> {
    use sandlite::{Connection, DatabaseName};

    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("app.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(Some(DatabaseName::Main), "user_version", 3)?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    assert_eq!(mode, "wal");
    let fk: bool = conn.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    assert!(fk);
    let version: i32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    assert_eq!(version, 3);
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))?;
    assert_eq!(mode, "delete");
    let timeout: i64 =
        conn.pragma_update_and_check(None, "busy_timeout", 250_i64, |row| row.get(0))?;
    assert_eq!(timeout, 250);

    conn.execute_batch("CREATE TABLE t(a INTEGER, b TEXT)")?;
    let mut columns = Vec::new();
    conn.pragma(None, "table_info", "t", |row| {
        columns.push(row.get::<_, String>(1)?);
        Ok(())
    })?;
    assert_eq!(columns, ["a", "b"]);
    Ok(())
}

#[test]
fn named_parameters_in_every_spelling() -> sandlite::Result<()> {
    use sandlite::{Connection, ToSql, named_params};

    let conn = Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER)")?;
    let v = 1;
    conn.execute(
        "INSERT INTO kv VALUES (:k, :v)",
        &[(":k", &"one" as &dyn ToSql), (":v", &v as &dyn ToSql)],
    )?;
    conn.execute("INSERT INTO kv VALUES (:k, 2)", &[(":k", "two")])?;
    conn.execute("INSERT INTO kv VALUES ('three', :v)", [(":v", 3)])?;
    conn.execute(
        "INSERT INTO kv VALUES (:k, :v)",
        named_params! {":k": "four", ":v": 4},
    )?;
    let mut stmt = conn.prepare("SELECT v FROM kv WHERE k = :k")?;
    let two: i64 = stmt.query_row(&[(":k", "two")], |r| r.get(0))?;
    assert_eq!(two, 2);
    let total: i64 = conn.query_row("SELECT sum(v) FROM kv", [], |r| r.get(0))?;
    assert_eq!(total, 10);
    Ok(())
}

#[test]
fn matching_errors_like_rusqlite_users() {
    use sandlite::{Connection, Error, ErrorCode, ffi};

    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users(email TEXT UNIQUE)")
        .unwrap();
    conn.execute("INSERT INTO users VALUES ('a@example.com')", [])
        .unwrap();
    let err = conn
        .execute("INSERT INTO users VALUES ('a@example.com')", [])
        .unwrap_err();
    match &err {
        Error::SqliteFailure(
            ffi::Error {
                code: ErrorCode::ConstraintViolation,
                extended_code,
            },
            Some(msg),
        ) => {
            assert_eq!(*extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE);
            assert_eq!(msg, "UNIQUE constraint failed: users.email");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation)
    );
    assert_eq!(
        err.sqlite_error().map(|e| e.extended_code),
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE)
    );
    if let Some(ErrorCode::ConstraintViolation) = err.sqlite_error_code() {
    } else {
        panic!("not a constraint violation");
    }

    // Syntax errors name the SQL and the offset.
    let err = conn.execute("SELEC 1", []).unwrap_err();
    assert_eq!(
        err.to_string(),
        "near \"SELEC\": syntax error in SELEC 1 at offset 0"
    );
    assert!(matches!(err, Error::SqlInputError { offset: 0, .. }));

    // No rows, with `==` as rusqlite users compare.
    let none = conn.query_row("SELECT 1 WHERE 0", [], |r| r.get::<_, i64>(0));
    assert_eq!(none, Err(Error::QueryReturnedNoRows));
    let none = conn.query_row("SELECT 1 WHERE 0", [], |r| r.get::<_, i64>(0));
    assert!(matches!(none, Err(Error::QueryReturnedNoRows)));

    // Conversion errors in the tuple shapes.
    let err = conn
        .query_row("SELECT 'x'", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidColumnType(0, ref name, sandlite::types::Type::Text) if name == "'x'")
    );
    let err = conn
        .query_row("SELECT 300", [], |r| r.get::<_, u8>(0))
        .unwrap_err();
    assert_eq!(err, Error::IntegralValueOutOfRange(0, 300));
    let err = conn.execute("SELECT ?1", [1, 2]).unwrap_err();
    assert_eq!(err, Error::InvalidParameterCount(2, 1));

    // A locked database, as `is_busy`-style helpers see it.
    let name = unique("busy");
    let a = Connection::open(format!("file:{name}?mode=memory&cache=shared")).unwrap();
    let b = Connection::open(format!("file:{name}?mode=memory&cache=shared")).unwrap();
    b.busy_timeout(Duration::ZERO).unwrap();
    a.execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE")
        .unwrap();
    let busy = b.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
    assert_eq!(busy.sqlite_error_code(), Some(ErrorCode::DatabaseBusy));
    assert!(busy.is_busy());
}

#[test]
fn values_from_everything() {
    use sandlite::types::{ToSqlOutput, Value, ValueRef};

    let values: Vec<Value> = vec![
        1i8.into(),
        2i16.into(),
        3i32.into(),
        4i64.into(),
        5u8.into(),
        6u16.into(),
        7u32.into(),
        8isize.into(),
        1.5f32.into(),
        2.5f64.into(),
        "x".into(),
        String::from("y").into(),
        true.into(),
        vec![1u8].into(),
    ];
    assert_eq!(values[3], Value::Integer(4));
    assert_eq!(values[8], Value::Real(1.5));
    assert_eq!(values[10], Value::Text("x".into()));
    assert_eq!(values[12], Value::Integer(1));
    let out: ToSqlOutput<'_> = "x".into();
    assert_eq!(out, ToSqlOutput::Owned(Value::Text("x".into())));
    let out: ToSqlOutput<'_> = 7u16.into();
    assert_eq!(out, ToSqlOutput::from(7i64));
    assert_eq!(ValueRef::Integer(5).as_i64(), Ok(5));
    assert_eq!(ValueRef::Null.as_str_or_null(), Ok(None));

    let conn = sandlite::Connection::open_in_memory().unwrap();
    let back: (i8, u32, f32, bool, String, Vec<u8>) = conn
        .query_row("SELECT -1, 7, 0.5, 1, 'z', x'ff'", [], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap();
    assert_eq!(back, (-1, 7, 0.5, true, "z".to_string(), vec![0xff]));
}

#[test]
fn shared_memory_uri_like_native() -> sandlite::Result<()> {
    use sandlite::Connection;

    let uri = format!("file:{}?mode=memory&cache=shared", unique("cache"));
    let writer = Connection::open(&uri)?;
    let reader = Connection::open(&uri)?;
    writer.execute_batch(
        "CREATE TABLE jobs(id INTEGER PRIMARY KEY); INSERT INTO jobs DEFAULT VALUES",
    )?;
    let n: i64 = reader.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))?;
    assert_eq!(n, 1);
    Ok(())
}

#[test]
fn r2d2_sqlite_style_pool() {
    use sandlite::pool::SandliteConnectionManager;

    // r2d2_sqlite's README, with `SqliteConnectionManager` renamed.
    let dir = tempfile::tempdir().unwrap();
    let manager = SandliteConnectionManager::file(dir.path().join("file.db"));
    let pool = r2d2::Pool::new(manager).unwrap();
    pool.get()
        .unwrap()
        .execute("CREATE TABLE IF NOT EXISTS foo (bar INTEGER)", [])
        .unwrap();
    std::thread::scope(|s| {
        for i in 0..4 {
            let pool = pool.clone();
            s.spawn(move || {
                let conn = pool.get().unwrap();
                conn.execute("INSERT INTO foo (bar) VALUES (?)", [i])
                    .unwrap();
            });
        }
    });
    let n: i64 = pool
        .get()
        .unwrap()
        .query_row("SELECT count(*) FROM foo", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);

    // `memory()`, `with_flags` and `with_init`, as r2d2_sqlite users configure them.
    let manager = SandliteConnectionManager::memory()
        .with_flags(sandlite::OpenFlags::default())
        .with_init(|c| c.execute_batch("PRAGMA foreign_keys = ON"));
    let pool = r2d2::Pool::builder().max_size(2).build(manager).unwrap();
    {
        let conn = pool.get().unwrap();
        conn.execute("CREATE TABLE IF NOT EXISTS foo (bar INTEGER)", [])
            .unwrap();
    }
    let conn = pool.get().unwrap();
    conn.execute("INSERT INTO foo (bar) VALUES (1)", [])
        .unwrap();
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn transactions_the_rusqlite_way() -> sandlite::Result<()> {
    use sandlite::{Connection, Transaction, TransactionBehavior};

    let mut conn = Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE t(x)")?;
    {
        let tx = Transaction::new(&mut conn, TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        tx.commit()?;
    }
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    {
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO t VALUES (2)", [])?;
        // dropped: rolled back
    }
    let mut sp = sandlite::Savepoint::new(&mut conn)?;
    sp.execute("INSERT INTO t VALUES (3)", [])?;
    sp.rollback()?;
    sp.commit()?;
    let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 1);
    Ok(())
}

#[test]
fn statements_columns_query_one_and_batches() -> sandlite::Result<()> {
    use sandlite::{Batch, Connection, Error};

    let conn = Connection::open_in_memory()?;
    let mut batch = Batch::new(
        &conn,
        "CREATE TABLE t(id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b');",
    );
    while let Some(mut stmt) = batch.next()? {
        stmt.execute([])?;
    }

    let stmt = conn.prepare("SELECT id, name, id + 1 AS next FROM t")?;
    let cols: Vec<(String, Option<String>)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.decl_type().map(str::to_string)))
        .collect();
    assert_eq!(
        cols,
        [
            ("id".to_string(), Some("INTEGER".to_string())),
            ("name".to_string(), Some("TEXT".to_string())),
            ("next".to_string(), None)
        ]
    );

    let one: String = conn.query_one("SELECT name FROM t WHERE id = ?1", [2], |r| r.get(0))?;
    assert_eq!(one, "b");
    let many = conn.query_one("SELECT name FROM t", [], |r| r.get::<_, String>(0));
    assert_eq!(many, Err(Error::QueryReturnedMoreThanOneRow));

    let mut stmt = conn.prepare("SELECT id FROM t ORDER BY id")?;
    let ids: sandlite::Result<Vec<i64>> = stmt.query([])?.map(|r| r.get(0)).collect();
    assert_eq!(ids?, [1, 2]);
    let names: Result<Vec<String>, Error> = conn
        .prepare("SELECT name FROM t ORDER BY id")?
        .query([])?
        .and_then(|r| r.get(0))
        .collect();
    assert_eq!(names?, ["a", "b"]);
    Ok(())
}

#[test]
fn limits_versions_flags_and_schema_names() -> sandlite::Result<()> {
    use sandlite::limits::Limit;
    use sandlite::{Connection, MAIN_DB, OpenFlags};

    let conn = Connection::open_in_memory()?;
    let old = conn.set_limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 2)?;
    assert!(old >= 999);
    assert_eq!(conn.limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER)?, 2);
    assert!(conn.prepare("SELECT ?1, ?2, ?3").is_err());
    assert_eq!(
        conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 10)?,
        1_000_000_000
    );
    assert!(
        conn.query_row("SELECT zeroblob(100)", [], |r| r.get::<_, Vec<u8>>(0))
            .is_err()
    );
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 1_000_000)?;

    assert_eq!(sandlite::version(), conn.sqlite_version()?);
    assert_eq!(sandlite::version_number(), 3_049_001);

    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    let mut f = flags;
    f.insert(OpenFlags::SQLITE_OPEN_URI);
    f -= OpenFlags::SQLITE_OPEN_CREATE;
    assert!(f.contains(OpenFlags::SQLITE_OPEN_URI) && !f.contains(OpenFlags::SQLITE_OPEN_CREATE));
    assert!(OpenFlags::all().contains(OpenFlags::SQLITE_OPEN_SHARED_CACHE));
    let ro = Connection::open_in_memory_with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    assert!(ro.execute_batch("CREATE TABLE t(x)").is_err());

    assert!(!conn.is_readonly(MAIN_DB)?);
    assert!(!conn.is_readonly("main")?);
    conn.execute_batch("CREATE TABLE files(data BLOB); INSERT INTO files VALUES (zeroblob(4))")?;
    let blob = conn.blob_open("main", "files", "data", 1, true)?;
    assert_eq!(blob.len(), 4);
    Ok(())
}

#[test]
fn module_paths_users_import() {
    // Only that these paths exist, as rusqlite's do, and mean the same things.
    use sandlite::backup::Progress;
    use sandlite::blob::ZeroBlob;
    use sandlite::hooks::Action;

    let p = Progress {
        remaining: 0,
        pagecount: 1,
    };
    assert_eq!(p.pagecount - p.remaining, 1);
    let conn = sandlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE b(x)").unwrap();
    conn.execute("INSERT INTO b VALUES (?1)", [ZeroBlob(3)])
        .unwrap();
    let len: i64 = conn
        .query_row("SELECT length(x) FROM b", [], |r| r.get(0))
        .unwrap();
    assert_eq!(len, 3);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    conn.update_hook(Some(
        move |action: Action, _db: &str, table: &str, _row: i64| {
            log.lock().unwrap().push((action, table.to_string()));
        },
    ))
    .unwrap();
    conn.execute("DELETE FROM b WHERE x IS NOT NULL", [])
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(Action::SQLITE_DELETE, "b".to_string())]
    );
}

#[test]
fn schema_introspection_config_and_path() -> sandlite::Result<()> {
    use sandlite::Connection;
    use sandlite::config::DbConfig;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.db");
    let conn = Connection::open(&file)?;
    let expected = std::fs::canonicalize(&file).unwrap();
    assert_eq!(conn.path(), expected.to_str());
    assert_eq!(Connection::open_in_memory()?.path(), Some(""));

    conn.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
         CREATE TABLE tags(name TEXT PRIMARY KEY) WITHOUT ROWID;
         CREATE TEMP TABLE scratch(x);",
    )?;
    assert!(conn.table_exists(None, "users")?);
    assert!(conn.table_exists(None, "USERS")?);
    assert!(conn.table_exists(None, "scratch")?);
    assert!(!conn.table_exists(Some(sandlite::MAIN_DB), "scratch")?);
    assert!(!conn.table_exists(None, "nope")?);
    assert!(conn.column_exists(None, "users", "email")?);
    assert!(conn.column_exists(None, "users", "rowid")?);
    assert!(!conn.column_exists(None, "users", "age")?);
    assert!(!conn.column_exists(None, "tags", "rowid")?);

    assert!(!conn.db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY)?);
    assert!(conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY, true)?);
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert_eq!(fk, 1);
    assert!(conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?);
    Ok(())
}

#[test]
fn trace_and_profile_with_fn_pointers() -> sandlite::Result<()> {
    use std::sync::Mutex;
    static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static PROFILED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    fn trace(sql: &str) {
        TRACED.lock().unwrap().push(sql.to_string());
    }
    fn profile(sql: &str, took: Duration) {
        assert!(took < Duration::from_secs(60));
        PROFILED.lock().unwrap().push(sql.to_string());
    }

    let mut conn = sandlite::Connection::open_in_memory()?;
    conn.trace(Some(trace))?;
    conn.profile(Some(profile))?;
    conn.execute_batch("CREATE TABLE t(x)")?;
    conn.execute("INSERT INTO t VALUES (?1)", [1])?;
    conn.trace(None)?;
    conn.profile(None)?;
    conn.execute("INSERT INTO t VALUES (2)", [])?;
    let expected = ["CREATE TABLE t(x)", "INSERT INTO t VALUES (?1)"];
    assert_eq!(*TRACED.lock().unwrap(), expected);
    assert_eq!(*PROFILED.lock().unwrap(), expected);
    Ok(())
}

#[test]
fn trace_v2_with_a_closure() -> sandlite::Result<()> {
    use sandlite::trace::{TraceEvent, TraceEventCodes};
    use std::sync::{Arc, Mutex};

    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let mut db = sandlite::Connection::open_in_memory()?;
    db.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")?;
    db.trace_v2(
        TraceEventCodes::all(),
        Some(move |e: TraceEvent<'_>| {
            let line = match e {
                TraceEvent::Stmt(s, sql) => {
                    assert_eq!(s.sql(), sql);
                    format!("stmt {sql}")
                }
                TraceEvent::Profile(s, d) => {
                    assert!(d < Duration::from_secs(60));
                    format!("profile {}", s.sql())
                }
                TraceEvent::Row(s) => format!("row {}", s.expanded_sql().unwrap_or_default()),
                TraceEvent::Close(c) => {
                    assert!(c.is_autocommit());
                    assert!(c.db_filename().is_none_or(|f| f.is_empty()));
                    "close".to_owned()
                }
                _ => "other".to_owned(),
            };
            log.lock().unwrap().push(line);
        }),
    )?;
    let n: i64 = db.query_row("SELECT count(*) FROM t WHERE x > ?1", [0], |r| r.get(0))?;
    assert_eq!(n, 2);
    drop(db);
    assert_eq!(
        *events.lock().unwrap(),
        [
            "stmt SELECT count(*) FROM t WHERE x > ?1",
            "row SELECT count(*) FROM t WHERE x > 0",
            "profile SELECT count(*) FROM t WHERE x > ?1",
            "close",
        ]
    );

    // Only the events asked for; `None` stops it.
    let rows = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&rows);
    let mut db = sandlite::Connection::open_in_memory()?;
    db.trace_v2(
        TraceEventCodes::SQLITE_TRACE_ROW,
        Some(move |e: TraceEvent<'_>| {
            assert!(matches!(e, TraceEvent::Row(_)));
            *counter.lock().unwrap() += 1;
        }),
    )?;
    db.execute_batch("SELECT 1 UNION ALL SELECT 2")?;
    db.trace_v2(TraceEventCodes::empty(), None::<fn(TraceEvent<'_>)>)?;
    db.execute_batch("SELECT 3")?;
    assert_eq!(*rows.lock().unwrap(), 2);
    Ok(())
}

#[test]
fn backup_and_restore_files() -> sandlite::Result<()> {
    use sandlite::{Connection, DatabaseName};

    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")?;
    let path = dir.path().join("backup.db");
    conn.backup(DatabaseName::Main, &path, None)?;

    let mut fresh = Connection::open_in_memory()?;
    fresh.restore(DatabaseName::Main, &path, None)?;
    let n: i64 = fresh.query_row("SELECT sum(x) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 6);
    // The source file is read, not changed.
    assert_eq!(
        Connection::open(&path)?.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?,
        3
    );
    assert!(
        fresh
            .restore(DatabaseName::Main, dir.path().join("missing.db"), None)
            .is_err()
    );
    Ok(())
}

#[test]
fn scalar_function_reading_raw_arguments() -> sandlite::Result<()> {
    use sandlite::functions::FunctionFlags;
    use sandlite::types::ValueRef;

    let conn = sandlite::Connection::open_in_memory()?;
    conn.create_scalar_function(
        "kind",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Null => "null".to_string(),
                ValueRef::Integer(i) => format!("int {i}"),
                ValueRef::Real(r) => format!("real {r}"),
                ValueRef::Text(t) => format!("text {}", t.len()),
                ValueRef::Blob(b) => format!("blob {}", b.len()),
            })
        },
    )?;
    let kinds: Vec<String> = conn
        .prepare("SELECT kind(v) FROM (SELECT NULL AS v UNION ALL SELECT 1 UNION ALL SELECT 2.5 UNION ALL SELECT CAST(x'61ff' AS TEXT) UNION ALL SELECT x'0102')")?
        .query_map([], |r| r.get(0))?
        .collect::<sandlite::Result<_>>()?;
    assert_eq!(kinds, ["null", "int 1", "real 2.5", "text 2", "blob 2"]);

    // rusqlite's `?` on a raw value's conversion inside a callback returning Result.
    use sandlite::types::{FromSqlError, Type};
    conn.create_scalar_function("twice", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        Ok(ctx.get_raw(0).as_i64()? * 2)
    })?;
    let n: i64 = conn.query_row("SELECT twice(21)", [], |r| r.get(0))?;
    assert_eq!(n, 42);
    let err = conn
        .query_row("SELECT twice('x')", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Conversion error from type Null at index: 18446744073709551615, Invalid type"
    );
    assert_eq!(
        FromSqlError::InvalidBlobSize {
            expected_size: 16,
            blob_size: 3
        }
        .to_string(),
        "Cannot read 16 byte value out of 3 byte blob"
    );
    assert_eq!(
        sandlite::Error::from(FromSqlError::OutOfRange(300)),
        sandlite::Error::IntegralValueOutOfRange(usize::MAX, 300)
    );
    assert!(matches!(
        FromSqlError::InvalidType.into(),
        sandlite::Error::FromSqlConversionFailure(usize::MAX, Type::Null, _)
    ));
    assert!(matches!(
        FromSqlError::InvalidBlobSize {
            expected_size: 16,
            blob_size: 3
        }
        .into(),
        sandlite::Error::FromSqlConversionFailure(usize::MAX, Type::Blob, _)
    ));
    Ok(())
}

#[test]
fn step_wise_backup_between_connections() -> sandlite::Result<()> {
    use sandlite::Connection;
    use sandlite::backup::{Backup, StepResult};

    let dir = tempfile::tempdir().unwrap();
    let src = Connection::open_in_memory()?;
    src.execute_batch(
        "CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT randomblob(100) FROM n",
    )?;

    // In memory to a file, a few pages at a time.
    let mut dst = Connection::open(dir.path().join("copy.db"))?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        assert_eq!(backup.step(5)?, StepResult::More);
        let p = backup.progress();
        assert!(p.pagecount > 5 && p.remaining == p.pagecount - 5, "{p:?}");
        backup.run_to_completion(50, Duration::ZERO, None)?;
        assert_eq!(backup.step(1)?, StepResult::Done);
    }
    let n: i64 = dst.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 2000);

    // A file back into memory.
    let mut restored = Connection::open_in_memory()?;
    Backup::new(&dst, &mut restored)?.run_to_completion(-1, Duration::ZERO, None)?;
    let n: i64 = restored.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 2000);

    // In memory to in memory, step-wise too (here from a copy of the source taken
    // when the backup begins: two connections are two SQLite instances).
    let mut other = Connection::open_in_memory()?;
    other.execute_batch("CREATE TABLE old(y)")?;
    {
        let backup = Backup::new(&src, &mut other)?;
        assert_eq!(backup.step(5)?, StepResult::More);
        src.execute("DELETE FROM t", [])?;
        backup.run_to_completion(100, Duration::ZERO, None)?;
    }
    let n: i64 = other.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 2000);
    assert!(!other.table_exists(None, "old")?);
    assert_eq!(
        other.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))?,
        "ok"
    );
    // A shared in-memory database, and an empty one, as sources.
    let shared = Connection::open(format!("file:{}?mode=memory&cache=shared", unique("bk")))?;
    shared.execute_batch("CREATE TABLE s(z); INSERT INTO s VALUES ('shared')")?;
    Backup::new(&shared, &mut other)?.run_to_completion(-1, Duration::ZERO, None)?;
    let z: String = other.query_row("SELECT z FROM s", [], |r| r.get(0))?;
    assert_eq!(z, "shared");
    let empty = Connection::open_in_memory()?;
    Backup::new(&empty, &mut other)?.run_to_completion(-1, Duration::ZERO, None)?;
    assert!(!other.table_exists(None, "s")?);
    Ok(())
}

#[test]
fn statement_status_counters() -> sandlite::Result<()> {
    use sandlite::StatementStatus;
    use sandlite::trace::{TraceEvent, TraceEventCodes};
    use std::sync::{Arc, Mutex};

    let mut db = sandlite::Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, y);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
         INSERT INTO t(y) SELECT i FROM n;",
    )?;

    // A full scan counts its steps; a lookup by rowid makes none.
    let mut scan = db.prepare("SELECT count(*) FROM t WHERE y > ?1")?;
    let n: i64 = scan.query_row([10], |r| r.get(0))?;
    assert_eq!(n, 90);
    let steps = scan.get_status(StatementStatus::FullscanStep);
    assert!(steps >= 99, "{steps}");
    assert_eq!(scan.get_status(StatementStatus::Run), 1);
    assert!(scan.get_status(StatementStatus::VmStep) > steps);
    assert!(scan.get_status(StatementStatus::MemUsed) > 0);
    assert_eq!(scan.get_status(StatementStatus::Sort), 0);
    scan.query_row([50], |r| r.get::<_, i64>(0))?;
    assert_eq!(scan.get_status(StatementStatus::Run), 2);
    assert_eq!(scan.get_status(StatementStatus::FullscanStep), 2 * steps);

    // reset_status returns the value and zeroes the counter.
    assert_eq!(scan.reset_status(StatementStatus::Run), 2);
    assert_eq!(scan.get_status(StatementStatus::Run), 0);
    assert_eq!(scan.get_status(StatementStatus::FullscanStep), 2 * steps);

    let mut lookup = db.prepare("SELECT y FROM t WHERE id = ?1")?;
    let y: i64 = lookup.query_row([7], |r| r.get(0))?;
    assert_eq!(y, 7);
    assert_eq!(lookup.get_status(StatementStatus::FullscanStep), 0);

    let mut sorted = db.prepare("SELECT y FROM t ORDER BY y DESC LIMIT 1")?;
    let top: i64 = sorted.query_row([], |r| r.get(0))?;
    assert_eq!(top, 100);
    assert_eq!(sorted.get_status(StatementStatus::Sort), 1);

    // A join on an unindexed column builds an automatic index.
    db.execute_batch("CREATE TABLE u(y); INSERT INTO u SELECT y FROM t;")?;
    let mut join = db.prepare("SELECT count(*) FROM t JOIN u ON u.y = t.y")?;
    let joined: i64 = join.query_row([], |r| r.get(0))?;
    assert_eq!(joined, 100);
    assert!(join.get_status(StatementStatus::AutoIndex) > 0);

    drop((scan, lookup, sorted, join));

    // The same counters from a profile callback (rusqlite's StmtRef::get_status).
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    db.trace_v2(
        TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(move |e: TraceEvent<'_>| {
            if let TraceEvent::Profile(s, _) = e {
                log.lock().unwrap().push((
                    s.sql().into_owned(),
                    s.get_status(StatementStatus::FullscanStep),
                    s.get_status(StatementStatus::Run),
                ));
            }
        }),
    )?;
    db.query_row("SELECT max(y) FROM t WHERE y < 1000", [], |_| Ok(()))?;
    db.query_row("SELECT y FROM t WHERE id = 3", [], |_| Ok(()))?;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "SELECT max(y) FROM t WHERE y < 1000");
    assert!(seen[0].1 >= 99, "{seen:?}");
    assert_eq!(seen[0].2, 1);
    assert_eq!(seen[1].1, 0);
    Ok(())
}
