//! SQL end to end through the binding: SQLite on the VM with the sandboxed VFS, on real
//! files in temporary directories. Results are checked against known answers, and
//! every test that writes ends with `PRAGMA integrity_check`.

mod common;

use common::{Config, Conn, Error, Value, Vfs, ffi, text};
use sandlite_sqlite_wasm::{
    AggregateFunction, AggregateState, Function, FunctionCall, UpdateAction,
};
use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

fn people_table(conn: &mut Conn) {
    conn.execute_batch(
        "CREATE TABLE people(
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             score REAL,
             photo BLOB,
             email TEXT UNIQUE
         );",
    );
    let rows: [[Value; 5]; 3] = [
        [
            1.into(),
            "Ada".into(),
            9.5.into(),
            Value::Blob(vec![0, 1, 2, 255]),
            "ada@example.org".into(),
        ],
        [
            2.into(),
            "Bob".into(),
            Value::Null,
            Value::Null,
            "bob@example.org".into(),
        ],
        [
            3.into(),
            "Zoë ✓".into(),
            (-1.25).into(),
            Value::Blob(vec![]),
            Value::Null,
        ],
    ];
    for row in rows {
        assert_eq!(
            conn.execute("INSERT INTO people VALUES (?1, ?2, ?3, ?4, ?5)", &row),
            1
        );
    }
}

#[test]
fn create_insert_select_update_delete_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut conn = Conn::open(dir.path(), "crud.db");
        people_table(&mut conn);
        assert_eq!(conn.sqlite.last_insert_rowid(conn.db).unwrap(), 3);

        assert_eq!(
            conn.query("SELECT id, name, score, photo, email FROM people ORDER BY id"),
            vec![
                vec![
                    Value::Integer(1),
                    text("Ada"),
                    Value::Real(9.5),
                    Value::Blob(vec![0, 1, 2, 255]),
                    text("ada@example.org"),
                ],
                vec![
                    Value::Integer(2),
                    text("Bob"),
                    Value::Null,
                    Value::Null,
                    text("bob@example.org"),
                ],
                // An empty blob comes back as a zero-length blob, not NULL.
                vec![
                    Value::Integer(3),
                    text("Zoë ✓"),
                    Value::Real(-1.25),
                    Value::Blob(vec![]),
                    Value::Null,
                ],
            ]
        );
        assert_eq!(
            conn.query("SELECT length(name), typeof(photo) FROM people WHERE id = 3"),
            vec![vec![Value::Integer(5), text("blob")]]
        );

        assert_eq!(
            conn.execute(
                "UPDATE people SET score = coalesce(score, 0) + ?1 WHERE id >= ?2",
                &[1.0.into(), 2.into()]
            ),
            2
        );
        assert_eq!(
            conn.query("SELECT id, score FROM people ORDER BY id"),
            vec![
                vec![Value::Integer(1), Value::Real(9.5)],
                vec![Value::Integer(2), Value::Real(1.0)],
                vec![Value::Integer(3), Value::Real(-0.25)],
            ]
        );
        assert_eq!(
            conn.execute("DELETE FROM people WHERE name = ?1", &["Ada".into()]),
            1
        );
        assert_eq!(conn.execute("DELETE FROM people WHERE id = 99", &[]), 0);
        assert_eq!(
            conn.query("SELECT count(*), total(score) FROM people"),
            vec![vec![Value::Integer(2), Value::Real(0.75)]]
        );
        conn.assert_integrity_ok();
    }

    // A new SQLite instance (new store, memory and VFS) reads what the first wrote.
    let mut again = Conn::open(dir.path(), "crud.db");
    assert_eq!(
        again.query("SELECT id, name, score FROM people ORDER BY id"),
        vec![
            vec![Value::Integer(2), text("Bob"), Value::Real(1.0)],
            vec![Value::Integer(3), text("Zoë ✓"), Value::Real(-0.25)],
        ]
    );
    again.assert_integrity_ok();
}

#[test]
fn rollback_restores_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "rollback.db");
    people_table(&mut conn);
    let before = conn.query("SELECT * FROM people ORDER BY id");

    conn.execute_batch(
        "BEGIN;
         INSERT INTO people(name) VALUES ('Eve');
         UPDATE people SET name = upper(name);
         DELETE FROM people WHERE id = 2;
         CREATE TABLE scratch(x);",
    );
    assert!(!conn.sqlite.get_autocommit(conn.db).unwrap());
    assert_eq!(
        conn.query_i64("SELECT count(*) FROM people WHERE name = 'EVE'"),
        1
    );
    conn.execute_batch("ROLLBACK");
    assert!(conn.sqlite.get_autocommit(conn.db).unwrap());
    assert_eq!(conn.query("SELECT * FROM people ORDER BY id"), before);
    assert_eq!(
        conn.query_i64("SELECT count(*) FROM sqlite_schema WHERE name = 'scratch'"),
        0
    );

    // A savepoint rolls back only its own part.
    conn.execute_batch(
        "BEGIN;
         INSERT INTO people(name) VALUES ('kept');
         SAVEPOINT inner;
         INSERT INTO people(name) VALUES ('undone');
         ROLLBACK TO inner;
         RELEASE inner;
         COMMIT;",
    );
    assert_eq!(
        conn.query("SELECT name FROM people WHERE id > 3"),
        vec![vec![text("kept")]]
    );
    conn.assert_integrity_ok();

    // And it all survives a new instance.
    drop(conn);
    let mut again = Conn::open(dir.path(), "rollback.db");
    assert_eq!(again.query_i64("SELECT count(*) FROM people"), 4);
    again.assert_integrity_ok();
}

#[test]
fn bad_sql_reports_message_and_offset_and_the_connection_survives() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "bad.db");
    conn.execute_batch("CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x');");

    // (SQL, the token the offset must point at or `None` where SQLite records no
    // offset, a part of the message)
    let cases = [
        ("SELECT * FORM t", Some("FORM"), "syntax error"),
        (
            "SELECT a, nosuchcolumn FROM t",
            Some("nosuchcolumn"),
            "no such column: nosuchcolumn",
        ),
        (
            "SELECT a FROM nosuchtable",
            None,
            "no such table: nosuchtable",
        ),
        (
            "INSERT INTO t(a, zz) VALUES (1, 2)",
            None,
            "no column named zz",
        ),
    ];
    for (sql, token, message) in cases {
        match conn.try_query(sql) {
            Err(Error::Sqlite {
                code,
                message: got,
                offset,
            }) => {
                assert_eq!(code, ffi::SQLITE_ERROR, "{sql}: {got}");
                assert!(got.contains(message), "{sql}: message {got:?}");
                let expected = token.map(|t| sql.find(t).unwrap());
                assert_eq!(offset, expected, "{sql}: {got}");
            }
            other => panic!("{sql}: expected an SQL error, got {other:?}"),
        }
        // The same connection goes on working after each error.
        assert_eq!(conn.query_i64("SELECT count(*) FROM t"), 1);
    }

    // A failing statement in the middle of a batch leaves the earlier ones applied.
    let err = conn
        .try_execute_batch("INSERT INTO t VALUES (2, 'y'); SELEC 1; INSERT INTO t VALUES (3, 'z');")
        .unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_ERROR), "{err}");
    assert_eq!(conn.query_i64("SELECT max(a) FROM t"), 2);

    // A runtime error (not a parse error) has no offset but the same survival.
    let err = conn
        .try_query("SELECT json_extract('{not json', '$.a')")
        .unwrap_err();
    assert!(err.to_string().contains("malformed JSON"), "{err}");
    assert_eq!(conn.query_i64("SELECT 6 * 7"), 42);
    conn.assert_integrity_ok();
}

#[test]
fn constraint_violations_have_extended_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "constraints.db");
    conn.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, age INTEGER NOT NULL CHECK (age >= 0));
         CREATE TABLE tags(name TEXT PRIMARY KEY) WITHOUT ROWID;
         INSERT INTO users VALUES (1, 'a@example.org', 30);
         INSERT INTO tags VALUES ('red');",
    );
    let cases: [(&str, i32, &str); 5] = [
        (
            "INSERT INTO users VALUES (2, 'a@example.org', 1)",
            2067, // SQLITE_CONSTRAINT_UNIQUE
            "UNIQUE constraint failed: users.email",
        ),
        (
            "INSERT INTO users VALUES (1, 'b@example.org', 1)",
            1555, // SQLITE_CONSTRAINT_PRIMARYKEY
            "UNIQUE constraint failed: users.id",
        ),
        (
            "INSERT INTO tags VALUES ('red')",
            1555,
            "UNIQUE constraint failed: tags.name",
        ),
        (
            "INSERT INTO users VALUES (3, 'c@example.org', NULL)",
            1299, // SQLITE_CONSTRAINT_NOTNULL
            "NOT NULL constraint failed: users.age",
        ),
        (
            "UPDATE users SET age = -1",
            275, // SQLITE_CONSTRAINT_CHECK
            "CHECK constraint failed",
        ),
    ];
    assert_eq!(cases[0].1, ffi::SQLITE_CONSTRAINT_UNIQUE);
    assert_eq!(cases[1].1, ffi::SQLITE_CONSTRAINT_PRIMARYKEY);
    for (sql, code, message) in cases {
        let err = conn.try_execute(sql, &[]).unwrap_err();
        assert_eq!(err.code(), Some(code), "{sql}: {err}");
        assert_eq!(err.primary_code(), Some(ffi::SQLITE_CONSTRAINT), "{sql}");
        assert!(err.to_string().contains(message), "{sql}: {err}");
    }
    // Nothing of the failed statements was applied.
    assert_eq!(
        conn.query("SELECT id, email, age FROM users"),
        vec![vec![
            Value::Integer(1),
            text("a@example.org"),
            Value::Integer(30)
        ]]
    );
    assert_eq!(conn.query_i64("SELECT count(*) FROM tags"), 1);
    conn.assert_integrity_ok();
}

/// `sum(x*x)` as an aggregate and, with `inverse`/`value`, as a window function.
struct SumOfSquares;

fn squares(state: &mut AggregateState) -> &mut i64 {
    state.downcast_mut::<i64>().expect("state is an i64")
}

impl AggregateFunction for SumOfSquares {
    fn init(&mut self) -> AggregateState {
        Box::new(0_i64)
    }

    fn step(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let x = call.int64(0).map_err(|e| e.to_string())?;
        *squares(state) += x * x;
        Ok(())
    }

    fn finalize(
        &mut self,
        state: Option<AggregateState>,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let total = state.map_or(0, |mut s| *squares(&mut s));
        call.set_int64(total).map_err(|e| e.to_string())
    }

    fn value(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let total = *squares(state);
        call.set_int64(total).map_err(|e| e.to_string())
    }

    fn inverse(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let x = call.int64(0).map_err(|e| e.to_string())?;
        *squares(state) -= x * x;
        Ok(())
    }
}

#[test]
fn user_scalar_aggregate_and_window_functions() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "functions.db");
    let db = conn.db;
    let deterministic = ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC;

    // Scalar: reads text and integer arguments, returns text; NULL in, NULL out.
    let repeat = |call: &mut FunctionCall<'_, '_>| -> Result<(), String> {
        if call.value_type(0).map_err(|e| e.to_string())? == common::ValueType::Null {
            return call.set_null().map_err(|e| e.to_string());
        }
        let times = call.int64(1).map_err(|e| e.to_string())?;
        let word = String::from_utf8_lossy(call.text(0).map_err(|e| e.to_string())?).into_owned();
        let out = vec![word; times.max(0) as usize].join("-");
        call.set_text(out.as_bytes()).map_err(|e| e.to_string())
    };
    conn.sqlite
        .create_function(
            db,
            "repeat_word",
            2,
            deterministic,
            Function::Scalar(Box::new(repeat)),
        )
        .unwrap();
    // Scalar over blobs and reals.
    let blob_info = |call: &mut FunctionCall<'_, '_>| -> Result<(), String> {
        let bytes = call.blob(0).map_err(|e| e.to_string())?.to_vec();
        let scale = call.double(1).map_err(|e| e.to_string())?;
        let sum: u32 = bytes.iter().map(|&b| u32::from(b)).sum();
        call.set_double(f64::from(sum) * scale)
            .map_err(|e| e.to_string())
    };
    conn.sqlite
        .create_function(
            db,
            "blob_sum",
            2,
            deterministic,
            Function::Scalar(Box::new(blob_info)),
        )
        .unwrap();
    conn.sqlite
        .create_function(
            db,
            "sumsq",
            1,
            deterministic,
            Function::Aggregate(Box::new(SumOfSquares)),
        )
        .unwrap();
    conn.sqlite
        .create_function(
            db,
            "winsumsq",
            1,
            deterministic,
            Function::Window(Box::new(SumOfSquares)),
        )
        .unwrap();

    assert_eq!(
        conn.query("SELECT repeat_word('ab', 3), repeat_word(NULL, 2), repeat_word('x', 0)"),
        vec![vec![text("ab-ab-ab"), Value::Null, text("")]]
    );
    assert_eq!(
        conn.query("SELECT blob_sum(x'0102ff', 0.5)"),
        vec![vec![Value::Real(129.0)]]
    );

    conn.execute_batch(
        "CREATE TABLE nums(g TEXT, x INTEGER);
         INSERT INTO nums VALUES ('a', 1), ('a', 2), ('b', 3), ('b', 4), ('b', 5);",
    );
    // Aggregate, grouped, plus the empty-input case (finalize without any step).
    assert_eq!(
        conn.query("SELECT g, sumsq(x) FROM nums GROUP BY g ORDER BY g"),
        vec![
            vec![text("a"), Value::Integer(5)],
            vec![text("b"), Value::Integer(50)],
        ]
    );
    assert_eq!(
        conn.query("SELECT sumsq(x) FROM nums WHERE x > 100"),
        vec![vec![Value::Integer(0)]]
    );
    // Window with a sliding frame: uses value and inverse. Squares 1,4,9,16,25.
    assert_eq!(
        conn.query(
            "SELECT x, winsumsq(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
             FROM nums ORDER BY x"
        ),
        vec![
            vec![Value::Integer(1), Value::Integer(1)],
            vec![Value::Integer(2), Value::Integer(5)],
            vec![Value::Integer(3), Value::Integer(13)],
            vec![Value::Integer(4), Value::Integer(25)],
            vec![Value::Integer(5), Value::Integer(41)],
        ]
    );
    // An aggregate-only function is refused as a window function.
    let err = conn
        .try_query("SELECT sumsq(x) OVER (ORDER BY x) FROM nums")
        .unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_ERROR), "{err}");

    // Functions work inside writes too.
    conn.execute_batch("UPDATE nums SET g = repeat_word(g, 2) WHERE x <= 2");
    assert_eq!(
        conn.query_i64("SELECT count(*) FROM nums WHERE g = 'a-a'"),
        2
    );
    conn.assert_integrity_ok();
}

#[test]
fn user_function_errors_become_sql_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "fail.db");
    let db = conn.db;
    let checked_sqrt = |call: &mut FunctionCall<'_, '_>| -> Result<(), String> {
        let x = call.double(0).map_err(|e| e.to_string())?;
        if x < 0.0 {
            return Err(format!("checked_sqrt: negative input {x}"));
        }
        call.set_double(x.sqrt()).map_err(|e| e.to_string())
    };
    conn.sqlite
        .create_function(
            db,
            "checked_sqrt",
            1,
            ffi::SQLITE_UTF8,
            Function::Scalar(Box::new(checked_sqrt)),
        )
        .unwrap();
    conn.execute_batch("CREATE TABLE v(x REAL); INSERT INTO v VALUES (4), (-9), (16);");

    assert_eq!(
        conn.query("SELECT checked_sqrt(x) FROM v WHERE x >= 0 ORDER BY x"),
        vec![vec![Value::Real(2.0)], vec![Value::Real(4.0)]]
    );
    let err = conn.try_query("SELECT checked_sqrt(x) FROM v").unwrap_err();
    assert_eq!(err.code(), Some(ffi::SQLITE_ERROR), "{err:?}");
    assert_eq!(err.to_string(), "checked_sqrt: negative input -9");

    // An error inside a write aborts the statement: nothing of it is applied.
    let err = conn
        .try_execute("UPDATE v SET x = checked_sqrt(x)", &[])
        .unwrap_err();
    assert!(err.to_string().contains("negative input"), "{err}");
    assert_eq!(
        conn.query_i64("SELECT count(*) FROM v WHERE x IN (4, -9, 16)"),
        3
    );

    // A panicking function is an SQL error too, not a crash, and the instance goes on.
    let panicky = |_: &mut FunctionCall<'_, '_>| -> Result<(), String> {
        panic!("deliberate panic in a user function")
    };
    conn.sqlite
        .create_function(
            db,
            "panicky",
            0,
            ffi::SQLITE_UTF8,
            Function::Scalar(Box::new(panicky)),
        )
        .unwrap();
    let err = conn.try_query("SELECT panicky()").unwrap_err();
    assert!(err.to_string().contains("deliberate panic"), "{err}");
    assert!(!conn.sqlite.is_broken());
    assert_eq!(conn.query_i64("SELECT count(*) FROM v"), 3);
    conn.assert_integrity_ok();
}

#[test]
fn collation_orders_and_compares() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "collate.db");
    // Orders by length, then reversed bytes; equal when only ASCII case differs.
    let by_length = Box::new(|a: &[u8], b: &[u8]| -> Ordering {
        a.len().cmp(&b.len()).then_with(|| {
            a.to_ascii_lowercase()
                .cmp(&b.to_ascii_lowercase())
                .reverse()
        })
    });
    conn.sqlite
        .create_collation(conn.db, "by_length", by_length)
        .unwrap();
    conn.execute_batch(
        "CREATE TABLE words(w TEXT COLLATE by_length);
         INSERT INTO words VALUES ('ccc'), ('a'), ('bb'), ('B'), ('dddd'), ('aa');",
    );
    assert_eq!(
        conn.query("SELECT w FROM words ORDER BY w, rowid"),
        vec![
            vec![text("B")],
            vec![text("a")],
            vec![text("bb")],
            vec![text("aa")],
            vec![text("ccc")],
            vec![text("dddd")],
        ]
    );
    // The column's collation applies to comparisons; `= 'b'` matches 'B'.
    assert_eq!(
        conn.query("SELECT w FROM words WHERE w = 'b'"),
        vec![vec![text("B")]]
    );
    // An index built with the collation agrees with it.
    conn.execute_batch("CREATE INDEX words_w ON words(w)");
    assert_eq!(
        conn.query_i64("SELECT count(*) FROM words WHERE w BETWEEN 'zz' AND 'aaa'"),
        3 // 'bb', 'aa', 'ccc': from length 2 up to length 3 in this order
    );
    conn.assert_integrity_ok();
}

#[test]
fn commit_rollback_and_update_hooks_fire_with_their_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Conn::open(dir.path(), "hooks.db");
    conn.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    let db = conn.db;

    let commits = Arc::new(Mutex::new(0_u32));
    let veto_next = Arc::new(Mutex::new(false));
    let rollbacks = Arc::new(Mutex::new(0_u32));
    let updates = Arc::new(Mutex::new(Vec::<(UpdateAction, String, String, i64)>::new()));
    {
        let (commits, veto_next) = (commits.clone(), veto_next.clone());
        conn.sqlite
            .set_commit_hook(
                db,
                Some(Box::new(move || {
                    *commits.lock().unwrap() += 1;
                    std::mem::take(&mut *veto_next.lock().unwrap())
                })),
            )
            .unwrap();
    }
    {
        let rollbacks = rollbacks.clone();
        conn.sqlite
            .set_rollback_hook(db, Some(Box::new(move || *rollbacks.lock().unwrap() += 1)))
            .unwrap();
    }
    {
        let updates = updates.clone();
        conn.sqlite
            .set_update_hook(
                db,
                Some(Box::new(
                    move |action, db_name: &str, table: &str, rowid| {
                        updates.lock().unwrap().push((
                            action,
                            db_name.to_owned(),
                            table.to_owned(),
                            rowid,
                        ));
                    },
                )),
            )
            .unwrap();
    }

    conn.execute_batch(
        "BEGIN;
         INSERT INTO t VALUES (10, 'a');
         INSERT INTO t VALUES (11, 'b');
         UPDATE t SET v = 'c' WHERE id = 11;
         DELETE FROM t WHERE id = 10;
         COMMIT;",
    );
    let main = || "main".to_owned();
    let table = || "t".to_owned();
    assert_eq!(
        std::mem::take(&mut *updates.lock().unwrap()),
        vec![
            (UpdateAction::Insert, main(), table(), 10),
            (UpdateAction::Insert, main(), table(), 11),
            (UpdateAction::Update, main(), table(), 11),
            (UpdateAction::Delete, main(), table(), 10),
        ]
    );
    assert_eq!(*commits.lock().unwrap(), 1);
    assert_eq!(*rollbacks.lock().unwrap(), 0);

    // An explicit ROLLBACK calls the rollback hook, not the commit hook.
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (12, 'd'); ROLLBACK;");
    assert_eq!(*commits.lock().unwrap(), 1);
    assert_eq!(*rollbacks.lock().unwrap(), 1);
    assert_eq!(
        std::mem::take(&mut *updates.lock().unwrap()),
        vec![(UpdateAction::Insert, main(), table(), 12)]
    );

    // A commit hook returning true turns the commit into a rollback.
    *veto_next.lock().unwrap() = true;
    let err = conn
        .try_execute("INSERT INTO t VALUES (13, 'e')", &[])
        .unwrap_err();
    assert_eq!(err.code(), Some(ffi::SQLITE_CONSTRAINT | (2 << 8)), "{err}"); // _COMMITHOOK
    assert_eq!(*commits.lock().unwrap(), 2);
    assert_eq!(*rollbacks.lock().unwrap(), 2);
    assert_eq!(
        conn.query("SELECT id, v FROM t"),
        vec![vec![Value::Integer(11), text("c")]]
    );

    // The update hook saw the insert before the commit hook undid it.
    assert_eq!(
        std::mem::take(&mut *updates.lock().unwrap()),
        vec![(UpdateAction::Insert, main(), table(), 13)]
    );

    // Removed hooks no longer fire.
    conn.sqlite.set_update_hook(db, None).unwrap();
    conn.sqlite.set_commit_hook(db, None).unwrap();
    conn.execute_batch("INSERT INTO t VALUES (14, 'f')");
    assert!(updates.lock().unwrap().is_empty());
    assert_eq!(*commits.lock().unwrap(), 2);
    conn.assert_integrity_ok();
}

#[test]
fn memory_limit_gives_nomem_and_the_connection_survives() {
    const LIMIT: u64 = 8 << 20;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(Vfs::new(dir.path()).unwrap());
    config.memory_limit = LIMIT;
    let mut conn = Conn::try_open_with(config, "limited.db", 0).unwrap();
    conn.execute_batch(
        "CREATE TABLE t(x INTEGER);
         INSERT INTO t VALUES (1), (2), (3);",
    );

    // ~40 MB of text in one string: far past the 8 MiB the instance may use.
    let huge = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000)
                SELECT length(group_concat(hex(zeroblob(1000)), '')) FROM r";
    let err = conn.try_query(huge).unwrap_err();
    assert_eq!(err.primary_code(), Some(ffi::SQLITE_NOMEM), "{err:?}");
    assert!(!conn.sqlite.is_broken());
    assert!(
        conn.sqlite.memory_size() as u64 <= LIMIT,
        "guest memory {} past the limit {LIMIT}",
        conn.sqlite.memory_size()
    );

    // The same connection still reads and writes.
    assert_eq!(conn.query_i64("SELECT sum(x) FROM t"), 6);
    conn.execute_batch("INSERT INTO t VALUES (4)");
    assert_eq!(conn.query_i64("SELECT count(*) FROM t"), 4);
    // A query that fits the limit does run: 2 MB of text.
    assert_eq!(
        conn.query_i64(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000)
             SELECT length(group_concat(hex(zeroblob(1000)), '')) FROM r"
        ),
        2_000_000
    );
    conn.assert_integrity_ok();

    // The same query succeeds with the default limit: it failed for memory, nothing else.
    let mut roomy = Conn::open(dir.path(), "roomy.db");
    assert_eq!(roomy.query_i64(huge), 40_000_000);
}

#[test]
fn hooks_are_released_when_replaced_by_a_timeout_or_the_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = common::Sqlite::new(Config::new(Vfs::new(dir.path()).unwrap())).unwrap();
    let first = sqlite.open("first.db", common::OPEN_CREATE).unwrap();
    let second = sqlite.open("second.db", common::OPEN_CREATE).unwrap();
    let token = Arc::new(());

    // A busy timeout replaces the busy handler, which must then be dropped.
    let held = token.clone();
    sqlite
        .set_busy_handler(first, Some(Box::new(move |_| held.as_ref() == &())))
        .unwrap();
    assert_eq!(Arc::strong_count(&token), 2);
    sqlite.busy_timeout(first, 100).unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the busy handler outlived its replacement"
    );

    // Closing a connection drops its hooks, while the instance and its other
    // connection live on.
    let (a, b, c) = (token.clone(), token.clone(), token.clone());
    sqlite
        .set_commit_hook(first, Some(Box::new(move || a.as_ref() != &())))
        .unwrap();
    sqlite
        .set_rollback_hook(first, Some(Box::new(move || drop(b.clone()))))
        .unwrap();
    sqlite
        .set_update_hook(
            first,
            Some(Box::new(move |_, _: &str, _: &str, _| drop(c.clone()))),
        )
        .unwrap();
    assert_eq!(Arc::strong_count(&token), 4);
    sqlite.close(first).unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "hooks outlived their connection"
    );

    let stmt = sqlite.prepare(second, "SELECT 7", 0).unwrap().stmt.unwrap();
    assert!(sqlite.step(stmt).unwrap());
    assert_eq!(sqlite.column_int64(stmt, 0).unwrap(), 7);
    sqlite.finalize(stmt).unwrap();
    sqlite.close(second).unwrap();
}
