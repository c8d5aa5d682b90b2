//! Virtual tables (read-only and writable), `rarray`, `csvtab` and function auxiliary
//! data written the way rusqlite users write them (rusqlite's doc examples and tests in
//! spirit, our own code), with only the import changed from `rusqlite` to `sandlite`.

use sandlite::types::{Value, ValueRef};
use sandlite::vtab::{
    Context, CreateVTab, Filters, IndexConstraintOp, IndexInfo, TransactionVTab, UpdateVTab, VTab,
    VTabConfig, VTabConnection, VTabCursor, VTabKind, Values, array, csvtab, eponymous_only_module,
    read_only_module, update_module, update_module_with_tx,
};
use sandlite::{Connection, Error, Result, ffi, params};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::Bound;
use std::os::raw::c_int;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

// ---- a table-valued function with hidden arguments: range(start, stop) ----

#[repr(C)]
struct RangeTab {
    base: ffi::sqlite3_vtab,
}

const COL_VALUE: c_int = 0;
const COL_START: c_int = 1;
const COL_STOP: c_int = 2;

// SAFETY: the cursor keeps no borrow of the table.
unsafe impl<'vtab> VTab<'vtab> for RangeTab {
    type Aux = ();
    type Cursor = RangeCursor<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        _aux: Option<&()>,
        _args: &[&[u8]],
    ) -> Result<(String, RangeTab)> {
        db.config(sandlite::vtab::VTabConfig::Innocuous)?;
        let vtab = RangeTab {
            base: ffi::sqlite3_vtab::default(),
        };
        Ok((
            "CREATE TABLE x(value, start hidden, stop hidden)".to_owned(),
            vtab,
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
        // idx_num bit 1: start given, bit 2: stop given.
        let mut idx_num = 0;
        let mut next_arg = 1;
        let mut start_usage = None;
        let mut stop_usage = None;
        for (i, c) in info.constraints().enumerate() {
            if !c.is_usable() || c.operator() != IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ {
                continue;
            }
            match c.column() {
                COL_START => start_usage = Some(i),
                COL_STOP => stop_usage = Some(i),
                _ => {}
            }
        }
        if let Some(i) = start_usage {
            let mut u = info.constraint_usage(i);
            u.set_argv_index(next_arg);
            u.set_omit(true);
            next_arg += 1;
            idx_num |= 1;
        }
        if let Some(i) = stop_usage {
            let mut u = info.constraint_usage(i);
            u.set_argv_index(next_arg);
            u.set_omit(true);
            idx_num |= 2;
        }
        let ascending = info
            .order_bys()
            .next()
            .is_some_and(|o| o.column() == COL_VALUE && !o.is_order_by_desc());
        if ascending && info.num_of_order_by() == 1 {
            info.set_order_by_consumed(true);
        }
        info.set_estimated_cost(if idx_num == 3 { 10.0 } else { 1e9 });
        info.set_idx_num(idx_num);
        info.set_idx_str("range plan");
        Ok(())
    }

    fn open(&mut self) -> Result<RangeCursor<'_>> {
        Ok(RangeCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            value: 0,
            stop: 0,
            phantom: PhantomData,
        })
    }
}

#[repr(C)]
struct RangeCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    value: i64,
    stop: i64,
    phantom: PhantomData<&'vtab RangeTab>,
}

// SAFETY: nothing beyond the trait's rules.
unsafe impl VTabCursor for RangeCursor<'_> {
    fn filter(&mut self, idx_num: c_int, idx_str: Option<&str>, args: &Filters<'_>) -> Result<()> {
        assert_eq!(idx_str, Some("range plan"));
        let mut i = 0;
        self.value = 0;
        self.stop = 9;
        if idx_num & 1 != 0 {
            self.value = args.get(i)?;
            i += 1;
        }
        if idx_num & 2 != 0 {
            self.stop = args.get(i)?;
        }
        Ok(())
    }
    fn next(&mut self) -> Result<()> {
        self.value += 1;
        Ok(())
    }
    fn eof(&self) -> bool {
        self.value > self.stop
    }
    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        match i {
            COL_VALUE => ctx.set_result(&self.value),
            _ => ctx.set_result(&sandlite::types::Null),
        }
    }
    fn rowid(&self) -> Result<i64> {
        Ok(self.value)
    }
}

#[test]
fn eponymous_table_valued_function_with_hidden_arguments() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("range", eponymous_only_module::<RangeTab>(), None)?;

    let mut s = db.prepare("SELECT value FROM range(?1, ?2)")?;
    let values: Vec<i64> = s
        .query_map([3, 7], |row| row.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(values, [3, 4, 5, 6, 7]);

    let sum: i64 = db.query_row("SELECT sum(value) FROM range WHERE stop = 4", [], |r| {
        r.get(0)
    })?;
    assert_eq!(sum, 10);
    // Several cursors at once: a self-join.
    let pairs: i64 = db.query_row(
        "SELECT count(*) FROM range(1, 3) a, range(1, 3) b WHERE a.value < b.value",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(pairs, 3);
    let ordered: Vec<i64> = db
        .prepare("SELECT value FROM range(5, 8) ORDER BY value")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(ordered, [5, 6, 7, 8]);
    // Eponymous only: CREATE VIRTUAL TABLE is refused.
    assert!(
        db.execute_batch("CREATE VIRTUAL TABLE r USING range")
            .is_err()
    );
    Ok(())
}

#[test]
fn filter_argument_of_the_wrong_type_is_an_error() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("range", eponymous_only_module::<RangeTab>(), None)?;
    let err = db
        .query_row("SELECT value FROM range('a', 3)", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("Invalid filter parameter type"),
        "{err}"
    );
    // The connection is fine afterwards.
    let n: i64 = db.query_row("SELECT count(*) FROM range(1, 2)", [], |r| r.get(0))?;
    assert_eq!(n, 2);
    Ok(())
}

// ---- a regular table made with CREATE VIRTUAL TABLE, with arguments ----

/// Repeats the text argument `n` times: `CREATE VIRTUAL TABLE t USING repeat(word, 3)`.
#[repr(C)]
struct RepeatTab {
    base: ffi::sqlite3_vtab,
    word: String,
    times: i64,
}

// SAFETY: the cursor keeps no borrow of the table.
unsafe impl<'vtab> VTab<'vtab> for RepeatTab {
    type Aux = String;
    type Cursor = RepeatCursor<'vtab>;

    fn connect(
        _db: &mut VTabConnection,
        aux: Option<&String>,
        args: &[&[u8]],
    ) -> Result<(String, RepeatTab)> {
        if args.len() != 5 {
            return Err(Error::ModuleError(format!(
                "repeat takes 2 arguments, got {}",
                args.len().saturating_sub(3)
            )));
        }
        let word = std::str::from_utf8(args[3]).map_err(Error::Utf8Error)?;
        let times = std::str::from_utf8(args[4])
            .map_err(Error::Utf8Error)?
            .trim()
            .parse::<i64>()
            .map_err(|e| Error::ModuleError(e.to_string()))?;
        if times == 13 {
            panic!("unlucky");
        }
        let column = aux.cloned().unwrap_or_else(|| "word".to_owned());
        Ok((
            format!("CREATE TABLE x({column} TEXT, n INTEGER)"),
            RepeatTab {
                base: ffi::sqlite3_vtab::default(),
                word: word.to_owned(),
                times,
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
        info.set_estimated_cost(self.times as f64);
        Ok(())
    }

    fn open(&mut self) -> Result<RepeatCursor<'_>> {
        Ok(RepeatCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            word: self.word.clone(),
            times: self.times,
            i: 0,
            phantom: PhantomData,
        })
    }
}

impl CreateVTab<'_> for RepeatTab {
    const KIND: VTabKind = VTabKind::Default;

    fn destroy(&self) -> Result<()> {
        if self.word == "sticky" {
            return Err(Error::ModuleError("sticky tables stay".into()));
        }
        Ok(())
    }
}

#[repr(C)]
struct RepeatCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    word: String,
    times: i64,
    i: i64,
    phantom: PhantomData<&'vtab RepeatTab>,
}

// SAFETY: nothing beyond the trait's rules.
unsafe impl VTabCursor for RepeatCursor<'_> {
    fn filter(&mut self, _: c_int, _: Option<&str>, _: &Filters<'_>) -> Result<()> {
        self.i = 1;
        Ok(())
    }
    fn next(&mut self) -> Result<()> {
        self.i += 1;
        Ok(())
    }
    fn eof(&self) -> bool {
        self.i > self.times
    }
    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        match i {
            0 if self.word == "boom" => panic!("column exploded"),
            0 if self.word == "fail" => Err(Error::ModuleError("no such word".into())),
            0 => ctx.set_result(&self.word),
            _ => ctx.set_result(&self.i),
        }
    }
    fn rowid(&self) -> Result<i64> {
        Ok(self.i)
    }
}

#[test]
fn create_virtual_table_with_arguments_and_drop() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module(
        "repeat",
        read_only_module::<RepeatTab>(),
        Some("w".to_owned()),
    )?;
    db.execute_batch("CREATE VIRTUAL TABLE t USING repeat(hi, 3)")?;
    let rows: Vec<(String, i64, i64)> = db
        .prepare("SELECT w, n, rowid FROM t")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_>>()?;
    assert_eq!(
        rows,
        [
            ("hi".to_owned(), 1, 1),
            ("hi".to_owned(), 2, 2),
            ("hi".to_owned(), 3, 3)
        ]
    );
    // Not eponymous.
    assert!(db.prepare("SELECT * FROM repeat").is_err());
    // Read-only.
    let err = db.execute("INSERT INTO t VALUES ('x', 1)", []).unwrap_err();
    assert!(err.to_string().contains("may not be modified"), "{err}");
    // The table is in the schema and survives a reconnect of the statement cache.
    assert!(db.table_exists(None, "t")?);
    db.execute_batch("DROP TABLE t")?;
    assert!(!db.table_exists(None, "t")?);

    // Errors of connect and destroy become SQL errors with their messages.
    let err = db
        .execute_batch("CREATE VIRTUAL TABLE bad USING repeat(x)")
        .unwrap_err();
    assert!(
        err.to_string().contains("repeat takes 2 arguments, got 1"),
        "{err}"
    );
    let err = db
        .execute_batch("CREATE VIRTUAL TABLE bad USING repeat(x, many)")
        .unwrap_err();
    assert!(err.to_string().contains("invalid digit"), "{err}");
    db.execute_batch("CREATE VIRTUAL TABLE s USING repeat(sticky, 1)")?;
    // SQLite reports a failed xDestroy by its code only.
    let err = db.execute_batch("DROP TABLE s").unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(sandlite::ErrorCode::Unknown),
        "{err}"
    );
    assert!(db.table_exists(None, "s")?);
    Ok(())
}

#[test]
fn panics_and_errors_in_user_code_become_sql_errors() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("repeat", read_only_module::<RepeatTab>(), None)?;
    let err = db
        .execute_batch("CREATE VIRTUAL TABLE p USING repeat(x, 13)")
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    db.execute_batch(
        "CREATE VIRTUAL TABLE boom USING repeat(boom, 2);
         CREATE VIRTUAL TABLE fail USING repeat(fail, 2);",
    )?;
    let err = db
        .query_row("SELECT word FROM boom", [], |r| r.get::<_, String>(0))
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    let err = db
        .query_row("SELECT word FROM fail", [], |r| r.get::<_, String>(0))
        .unwrap_err();
    assert!(err.to_string().contains("no such word"), "{err}");
    // Nothing broke: the other column still works and the connection is usable.
    assert!(!db.is_broken());
    let n: i64 = db.query_row("SELECT sum(n) FROM boom", [], |r| r.get(0))?;
    assert_eq!(n, 3);
    Ok(())
}

#[test]
fn tables_persist_in_a_file_database_and_reconnect() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    {
        let db = Connection::open(&path)?;
        db.create_module("repeat", read_only_module::<RepeatTab>(), None)?;
        db.execute_batch("CREATE VIRTUAL TABLE t USING repeat(again, 2)")?;
    }
    let db = Connection::open(&path)?;
    // Without the module the table cannot be used...
    assert!(db.prepare("SELECT * FROM t").is_err());
    // ...with it, xConnect rebuilds it from the stored arguments.
    db.create_module("repeat", read_only_module::<RepeatTab>(), None)?;
    let n: i64 = db.query_row("SELECT count(*) FROM t WHERE word = 'again'", [], |r| {
        r.get(0)
    })?;
    assert_eq!(n, 2);
    Ok(())
}

// ---- rarray ----

#[test]
fn rarray_as_rusqlite_documents_it() -> Result<()> {
    let db = Connection::open_in_memory()?;
    array::load_module(&db)?;

    let v = [1i64, 2, 3, 4];
    let values: Vec<Value> = v.into_iter().map(Value::from).collect();
    let ptr = Rc::new(values);
    {
        let mut stmt = db.prepare("SELECT value from rarray(?1);")?;
        let rows = stmt.query_map([&ptr], |row| row.get::<_, i64>(0))?;
        let mut count = 0;
        for (i, value) in rows.enumerate() {
            assert_eq!(i as i64, value? - 1);
            count += 1;
        }
        assert_eq!(4, count);
    }
    assert_eq!(1, Rc::strong_count(&ptr));
    Ok(())
}

#[test]
fn rarray_binds_a_list_for_in() -> Result<()> {
    let db = Connection::open_in_memory()?;
    array::load_module(&db)?;
    db.execute_batch(
        "CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO person VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger'), (4, 'barbara');",
    )?;
    let ids: array::Array = Rc::new(vec![Value::from(4), Value::from(2), Value::from(99)]);
    let mut stmt = db.prepare("SELECT name FROM person WHERE id IN rarray(?) ORDER BY id")?;
    let names: Vec<String> = stmt
        .query_map([ids.clone()], |r| r.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(names, ["grace", "barbara"]);
    // Mixed values come back as they were bound.
    let mixed: array::Array = Rc::new(vec![
        Value::Text("x".into()),
        Value::Null,
        Value::Real(1.5),
        Value::Blob(vec![1, 2]),
    ]);
    let types: Vec<String> = db
        .prepare("SELECT typeof(value) FROM rarray(?)")?
        .query_map([mixed], |r| r.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(types, ["text", "null", "real", "blob"]);
    // The same statement, rebound.
    let one: array::Array = Rc::new(vec![Value::from(3)]);
    let names: Vec<String> = stmt
        .query_map([one], |r| r.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(names, ["edsger"]);
    Ok(())
}

#[test]
fn rarray_cannot_be_forged_from_sql() -> Result<()> {
    let db = Connection::open_in_memory()?;
    array::load_module(&db)?;
    // Integers, text or a missing argument are not arrays: no rows.
    for sql in [
        "SELECT count(*) FROM rarray(1)",
        "SELECT count(*) FROM rarray('1')",
        "SELECT count(*) FROM rarray(NULL)",
        "SELECT count(*) FROM rarray()",
    ] {
        let n: i64 = db.query_row(sql, [], |r| r.get(0))?;
        assert_eq!(n, 0, "{sql}");
    }
    // SQL sees a bound array as NULL.
    let a: array::Array = Rc::new(vec![Value::from(1)]);
    let t: String = db.query_row("SELECT typeof(?)", [a], |r| r.get(0))?;
    assert_eq!(t, "null");
    Ok(())
}

// ---- csvtab ----

fn csv_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test.csv"),
        "\"colA\",\"colB\",\"colC\"\n1,2,3\na,b,c\na,\"b\",c\n\"a\",\"b\",\"c .. z\"\n\"a\",\"b\",\"c\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn csv_file_as_rusqlite_tests_it() -> Result<()> {
    let dir = csv_dir();
    let db = Connection::open(dir.path().join("db.sqlite"))?;
    csvtab::load_module(&db)?;
    db.execute_batch("CREATE VIRTUAL TABLE vtab USING csv(filename='test.csv', header=yes)")?;
    {
        let mut s = db.prepare("SELECT rowid, * FROM vtab")?;
        {
            let headers = s.column_names();
            assert_eq!(vec!["rowid", "colA", "colB", "colC"], headers);
        }
        let ids: Result<Vec<i32>> = s.query([])?.map(|row| row.get::<_, i32>(0)).collect();
        let sum = ids?.iter().sum::<i32>();
        assert_eq!(sum, 15);
    }
    db.execute_batch("DROP TABLE vtab")?;
    Ok(())
}

#[test]
fn csv_cursors_join_as_rusqlite_tests_it() -> Result<()> {
    let dir = csv_dir();
    let db = Connection::open(dir.path().join("db.sqlite"))?;
    csvtab::load_module(&db)?;
    db.execute_batch("CREATE VIRTUAL TABLE vtab USING csv(filename='test.csv', header=yes)")?;
    let mut s = db.prepare(
        "SELECT v1.rowid, v1.* FROM vtab v1 NATURAL JOIN vtab v2 WHERE v1.rowid < v2.rowid",
    )?;
    let mut rows = s.query([])?;
    let row = rows.next()?.unwrap();
    assert_eq!(row.get_unwrap::<_, i32>(0), 2);
    Ok(())
}

#[test]
fn csv_without_header_with_options_and_inline_data() -> Result<()> {
    let db = Connection::open_in_memory()?;
    csvtab::load_module(&db)?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE d USING csv(data='1;|x;y|;3\n4;5;6', delimiter=';', quote='|');",
    )?;
    let names: Vec<String> = db
        .prepare("SELECT * FROM d")?
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(names, ["c0", "c1", "c2"]);
    let rows: Vec<(String, String)> = db
        .prepare("SELECT c1, c2 FROM d")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_>>()?;
    assert_eq!(
        rows,
        [
            ("x;y".to_owned(), "3".to_owned()),
            ("5".to_owned(), "6".to_owned())
        ]
    );
    db.execute_batch(
        "CREATE VIRTUAL TABLE s USING csv(data='a,b', schema='CREATE TABLE x(first, second)');
         CREATE VIRTUAL TABLE n USING csv(data='a,b,c', columns=2);",
    )?;
    let second: String = db.query_row("SELECT second FROM s", [], |r| r.get(0))?;
    assert_eq!(second, "b");
    assert_eq!(db.prepare("SELECT * FROM n")?.column_count(), 2);
    for (args, message) in [
        ("", "no CSV file specified"),
        ("data='a', bogus=1", "unrecognized parameter 'bogus'"),
        ("data='a', header=maybe", "header must be yes or no"),
        (
            "data='a', delimiter='::'",
            "delimiter must be one ASCII character",
        ),
        ("data='a', columns=0", "columns must be a positive integer"),
        ("nonsense", "illegal argument"),
    ] {
        let err = db
            .execute_batch(&format!("CREATE VIRTUAL TABLE e USING csv({args})"))
            .unwrap_err();
        assert!(err.to_string().contains(message), "{args}: {err}");
    }
    Ok(())
}

#[test]
fn csv_files_outside_the_sandbox_are_refused() -> Result<()> {
    let outside = csv_dir();
    let inside = tempfile::tempdir().unwrap();
    let db = Connection::open(inside.path().join("db.sqlite"))?;
    csvtab::load_module(&db)?;
    let absolute = outside.path().join("test.csv");
    for name in [
        absolute.display().to_string(),
        format!(
            "../{}/test.csv",
            outside.path().file_name().unwrap().to_str().unwrap()
        ),
        "missing.csv".to_owned(),
    ] {
        let err = db
            .execute_batch(&format!(
                "CREATE VIRTUAL TABLE x USING csv(filename='{name}')"
            ))
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot open CSV file"),
            "{name}: {err}"
        );
    }
    // An in-memory connection has no directory: no file at all.
    let mem = Connection::open_in_memory()?;
    csvtab::load_module(&mem)?;
    assert!(
        mem.execute_batch(&format!(
            "CREATE VIRTUAL TABLE x USING csv(filename='{}')",
            absolute.display()
        ))
        .is_err()
    );
    Ok(())
}

// ---- Context::get_or_create_aux ----

#[test]
fn get_or_create_aux_compiles_a_pattern_once_per_statement() -> Result<()> {
    use sandlite::functions::FunctionFlags;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
    static COMPILED: AtomicUsize = AtomicUsize::new(0);

    /// A "pattern": the set of characters that must all occur.
    struct Pattern(Vec<char>);

    let db = Connection::open_in_memory()?;
    db.create_scalar_function(
        "has_all",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            assert_eq!(ctx.len(), 2, "called with unexpected number of arguments");
            let pattern: Arc<Pattern> = ctx.get_or_create_aux(0, |vr| -> Result<_, BoxError> {
                COMPILED.fetch_add(1, Ordering::SeqCst);
                Ok(Pattern(vr.as_str()?.chars().collect()))
            })?;
            let is_match = {
                let text = ctx.get_raw(1).as_str()?;
                pattern.0.iter().all(|c| text.contains(*c))
            };
            Ok(is_match)
        },
    )?;
    db.execute_batch(
        "CREATE TABLE words(w);
         INSERT INTO words VALUES ('bread'), ('beard'), ('bead'), ('dare'), ('tree');",
    )?;
    let matches: Vec<String> = db
        .prepare("SELECT w FROM words WHERE has_all('abdr', w) ORDER BY w")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_>>()?;
    assert_eq!(matches, ["beard", "bread"]);
    assert_eq!(COMPILED.load(Ordering::SeqCst), 1);

    // Another type under the same argument is refused.
    db.create_scalar_function("aux_types", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        ctx.set_aux(0, 7i64)?;
        match ctx.get_aux::<String>(0) {
            Err(Error::GetAuxWrongType) => {}
            other => panic!("{:?}", other.map(|_| ())),
        }
        Ok(*ctx.get_aux::<i64>(0)?.expect("just set"))
    })?;
    let v: i64 = db.query_row("SELECT aux_types('x')", [], |r| r.get(0))?;
    assert_eq!(v, 7);
    // A pattern that fails to compile is the function's error.
    let err = db
        .query_row("SELECT has_all(CAST(x'ff' AS TEXT), 'a')", [], |r| {
            r.get::<_, bool>(0)
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("utf-8") || err.to_string().contains("UTF-8"),
        "{err}"
    );
    Ok(())
}

// ---- a writable in-memory table: CREATE VIRTUAL TABLE t USING memtab(col, ...) ----

type RowMap = BTreeMap<i64, Vec<Value>>;
/// The rows, shared by the table and its cursors (a cursor must not borrow the table).
type Rows = Arc<Mutex<RowMap>>;
/// What the transaction methods saw, handed to the module as its `Aux`.
type Journal = Arc<Mutex<Vec<&'static str>>>;

#[repr(C)]
struct MemTab {
    base: ffi::sqlite3_vtab,
    columns: usize,
    rows: Rows,
    journal: Option<Journal>,
    /// The rows as `begin` found them, for `rollback`.
    saved: Option<RowMap>,
}

impl MemTab {
    fn note(&self, event: &'static str) {
        if let Some(j) = &self.journal {
            j.lock().unwrap().push(event);
        }
    }

    /// The column values of an insert or update (`args[2..]`).
    fn row(&self, args: &Values<'_>) -> Result<Vec<Value>> {
        if args.len() != self.columns + 2 {
            return Err(Error::ModuleError(format!(
                "expected {} columns, got {}",
                self.columns,
                args.len() - 2
            )));
        }
        let row = (2..args.len())
            .map(|i| args.get::<Value>(i))
            .collect::<Result<Vec<_>>>()?;
        if row.contains(&Value::Text("forbidden".into())) {
            return Err(Error::ModuleError("memtab refuses 'forbidden'".into()));
        }
        if row.contains(&Value::Text("panic".into())) {
            panic!("memtab exploded");
        }
        Ok(row)
    }
}

fn taken(rowid: i64) -> Error {
    Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
        Some(format!("rowid {rowid} already exists")),
    )
}

// SAFETY: the cursor keeps no borrow of the table (it shares the rows' `Arc`).
unsafe impl<'vtab> VTab<'vtab> for MemTab {
    type Aux = Journal;
    type Cursor = MemCursor<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        aux: Option<&Journal>,
        args: &[&[u8]],
    ) -> Result<(String, MemTab)> {
        let columns = args[3..]
            .iter()
            .map(|a| std::str::from_utf8(a).map(str::trim))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if columns.is_empty() {
            return Err(Error::ModuleError("memtab needs columns".into()));
        }
        // INSERT OR IGNORE skips a row whose insert returns SQLITE_CONSTRAINT.
        db.config(VTabConfig::ConstraintSupport)?;
        let vtab = MemTab {
            base: ffi::sqlite3_vtab::default(),
            columns: columns.len(),
            rows: Rows::default(),
            journal: aux.cloned(),
            saved: None,
        };
        Ok((format!("CREATE TABLE x({})", columns.join(", ")), vtab))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
        info.set_estimated_cost(self.rows.lock().unwrap().len() as f64 + 1.0);
        Ok(())
    }

    fn open(&mut self) -> Result<MemCursor<'_>> {
        Ok(MemCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            rows: self.rows.clone(),
            current: None,
            phantom: PhantomData,
        })
    }
}

impl CreateVTab<'_> for MemTab {
    const KIND: VTabKind = VTabKind::Default;
}

impl UpdateVTab<'_> for MemTab {
    fn delete(&mut self, arg: ValueRef<'_>) -> Result<()> {
        let rowid = arg.as_i64()?;
        if rowid == 666 {
            panic!("cannot delete row 666");
        }
        self.rows.lock().unwrap().remove(&rowid);
        Ok(())
    }

    fn insert(&mut self, args: &Values<'_>) -> Result<i64> {
        let row = self.row(args)?;
        let mut rows = self.rows.lock().unwrap();
        let rowid = match args.get::<Option<i64>>(1)? {
            Some(rowid) if rows.contains_key(&rowid) => return Err(taken(rowid)),
            Some(rowid) => rowid,
            None => rows.keys().next_back().map_or(1, |last| last + 1),
        };
        rows.insert(rowid, row);
        Ok(rowid)
    }

    fn update(&mut self, args: &Values<'_>) -> Result<()> {
        let old: i64 = args.get(0)?;
        let new: i64 = args.get(1)?;
        let row = self.row(args)?;
        let mut rows = self.rows.lock().unwrap();
        if new != old && rows.contains_key(&new) {
            return Err(taken(new));
        }
        rows.remove(&old);
        rows.insert(new, row);
        Ok(())
    }
}

impl TransactionVTab<'_> for MemTab {
    fn begin(&mut self) -> Result<()> {
        self.note("begin");
        self.saved = Some(self.rows.lock().unwrap().clone());
        Ok(())
    }
    fn sync(&mut self) -> Result<()> {
        self.note("sync");
        let rows = self.rows.lock().unwrap();
        if rows
            .values()
            .flatten()
            .any(|v| *v == Value::Text("unsyncable".into()))
        {
            return Err(Error::ModuleError("cannot sync 'unsyncable'".into()));
        }
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        self.note("commit");
        self.saved = None;
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        self.note("rollback");
        if let Some(saved) = self.saved.take() {
            *self.rows.lock().unwrap() = saved;
        }
        Ok(())
    }
}

#[repr(C)]
struct MemCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    rows: Rows,
    /// The current row (a copy: the table may change while the cursor is open).
    current: Option<(i64, Vec<Value>)>,
    phantom: PhantomData<&'vtab MemTab>,
}

impl MemCursor<'_> {
    fn seek(&mut self, after: Bound<i64>) {
        let rows = self.rows.lock().unwrap();
        self.current = rows
            .range((after, Bound::Unbounded))
            .next()
            .map(|(k, v)| (*k, v.clone()));
    }
}

// SAFETY: nothing beyond the trait's rules.
unsafe impl VTabCursor for MemCursor<'_> {
    fn filter(&mut self, _: c_int, _: Option<&str>, _: &Filters<'_>) -> Result<()> {
        self.seek(Bound::Unbounded);
        Ok(())
    }
    fn next(&mut self) -> Result<()> {
        if let Some((rowid, _)) = self.current {
            self.seek(Bound::Excluded(rowid));
        }
        Ok(())
    }
    fn eof(&self) -> bool {
        self.current.is_none()
    }
    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        let (_, row) = self.current.as_ref().expect("column past the end");
        ctx.set_result(&row[i as usize])
    }
    fn rowid(&self) -> Result<i64> {
        Ok(self.current.as_ref().map_or(0, |(rowid, _)| *rowid))
    }
}

fn contents(db: &Connection, table: &str) -> Result<Vec<(i64, Value, Value)>> {
    db.prepare(&format!("SELECT rowid, * FROM {table} ORDER BY rowid"))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

#[test]
fn writable_table_takes_insert_update_and_delete() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("memtab", update_module::<MemTab>(), None)?;
    db.execute_batch("CREATE VIRTUAL TABLE fruit USING memtab(name, qty)")?;

    // INSERT with the rowid chosen by the table, explicit, and explicitly NULL.
    assert_eq!(db.execute("INSERT INTO fruit VALUES ('apple', 3)", [])?, 1);
    assert_eq!(db.last_insert_rowid(), 1);
    db.execute(
        "INSERT INTO fruit(rowid, name, qty) VALUES (10, 'pear', 5)",
        [],
    )?;
    assert_eq!(db.last_insert_rowid(), 10);
    db.execute(
        "INSERT INTO fruit(rowid, name, qty) VALUES (NULL, ?1, ?2)",
        params!["fig", 1.5],
    )?;
    assert_eq!(db.last_insert_rowid(), 11);
    // Several rows in one statement, every type.
    assert_eq!(
        db.execute(
            "INSERT INTO fruit VALUES (x'c0ffee', NULL), ('plum', 7)",
            []
        )?,
        2
    );
    assert_eq!(
        contents(&db, "fruit")?,
        [
            (1, text("apple"), Value::Integer(3)),
            (10, text("pear"), Value::Integer(5)),
            (11, text("fig"), Value::Real(1.5)),
            (12, Value::Blob(vec![0xc0, 0xff, 0xee]), Value::Null),
            (13, text("plum"), Value::Integer(7)),
        ]
    );

    // UPDATE of columns, and of the rowid.
    assert_eq!(
        db.execute("UPDATE fruit SET qty = qty + 1 WHERE name = 'apple'", [])?,
        1
    );
    assert_eq!(
        db.execute("UPDATE fruit SET rowid = 20 WHERE name = 'pear'", [])?,
        1
    );
    assert_eq!(db.execute("UPDATE fruit SET rowid = rowid + 100", [])?, 5);
    assert_eq!(
        contents(&db, "fruit")?,
        [
            (101, text("apple"), Value::Integer(4)),
            (111, text("fig"), Value::Real(1.5)),
            (112, Value::Blob(vec![0xc0, 0xff, 0xee]), Value::Null),
            (113, text("plum"), Value::Integer(7)),
            (120, text("pear"), Value::Integer(5)),
        ]
    );

    // DELETE while the scan that finds the rows is open.
    assert_eq!(db.execute("DELETE FROM fruit WHERE qty >= 5", [])?, 2);
    assert_eq!(db.execute("DELETE FROM fruit WHERE rowid = 112", [])?, 1);
    assert_eq!(
        contents(&db, "fruit")?,
        [
            (101, text("apple"), Value::Integer(4)),
            (111, text("fig"), Value::Real(1.5)),
        ]
    );
    assert_eq!(db.execute("DELETE FROM fruit", [])?, 2);
    let n: i64 = db.query_row("SELECT count(*) FROM fruit", [], |r| r.get(0))?;
    assert_eq!(n, 0);
    // The table chooses rowids again from 1.
    db.execute("INSERT INTO fruit VALUES ('cherry', 9)", [])?;
    assert_eq!(db.last_insert_rowid(), 1);
    Ok(())
}

#[test]
fn errors_from_write_methods_become_sql_errors() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("memtab", update_module::<MemTab>(), None)?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE t USING memtab(a, b);
         INSERT INTO t VALUES ('kept', 1);",
    )?;

    // A module error, with its message; nothing was inserted.
    let err = db
        .execute("INSERT INTO t VALUES ('forbidden', 2)", [])
        .unwrap_err();
    assert!(
        err.to_string().contains("memtab refuses 'forbidden'"),
        "{err}"
    );
    assert_eq!(err.sqlite_error_code(), Some(sandlite::ErrorCode::Unknown));
    let err = db.execute("UPDATE t SET b = 'forbidden'", []).unwrap_err();
    assert!(
        err.to_string().contains("memtab refuses 'forbidden'"),
        "{err}"
    );

    // An SqliteFailure keeps its code: a constraint violation...
    let err = db
        .execute("INSERT INTO t(rowid, a, b) VALUES (1, 'again', 2)", [])
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(sandlite::ErrorCode::ConstraintViolation),
        "{err}"
    );
    assert!(err.to_string().contains("rowid 1 already exists"), "{err}");
    // ...which INSERT OR IGNORE skips, as the table declared constraint support.
    assert_eq!(
        db.execute(
            "INSERT OR IGNORE INTO t(rowid, a, b) VALUES (1, 'again', 2)",
            []
        )?,
        0
    );
    assert_eq!(contents(&db, "t")?, [(1, text("kept"), Value::Integer(1))]);
    assert!(!db.is_broken());
    Ok(())
}

#[test]
fn panics_in_write_methods_become_sql_errors() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("memtab", update_module::<MemTab>(), None)?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE t USING memtab(a, b);
         INSERT INTO t(rowid, a, b) VALUES (1, 'one', 1), (666, 'devil', 6);",
    )?;
    let err = db
        .execute("UPDATE t SET a = 'panic' WHERE rowid = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    assert!(err.to_string().contains("memtab exploded"), "{err}");
    let err = db
        .execute("INSERT INTO t VALUES ('panic', 2)", [])
        .unwrap_err();
    assert!(err.to_string().contains("memtab exploded"), "{err}");
    let err = db
        .execute("DELETE FROM t WHERE rowid = 666", [])
        .unwrap_err();
    assert!(err.to_string().contains("cannot delete row 666"), "{err}");
    // The process, the connection and the table carry on.
    assert!(!db.is_broken());
    assert_eq!(
        contents(&db, "t")?,
        [
            (1, text("one"), Value::Integer(1)),
            (666, text("devil"), Value::Integer(6))
        ]
    );
    db.execute("UPDATE t SET a = 'uno' WHERE rowid = 1", [])?;
    let a: String = db.query_row("SELECT a FROM t WHERE rowid = 1", [], |r| r.get(0))?;
    assert_eq!(a, "uno");
    Ok(())
}

#[test]
fn read_only_modules_still_refuse_writes() -> Result<()> {
    let db = Connection::open_in_memory()?;
    db.create_module("repeat", read_only_module::<RepeatTab>(), None)?;
    db.create_module("range", eponymous_only_module::<RangeTab>(), None)?;
    db.execute_batch("CREATE VIRTUAL TABLE t USING repeat(hi, 2)")?;
    for sql in [
        "INSERT INTO t VALUES ('x', 1)",
        "UPDATE t SET n = 5",
        "DELETE FROM t",
        "DELETE FROM range",
    ] {
        let err = db.execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("may not be modified"),
            "{sql}: {err}"
        );
    }
    let n: i64 = db.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(n, 2);
    Ok(())
}

#[test]
fn transactions_reach_the_table_and_roll_it_back() -> Result<()> {
    let mut db = Connection::open_in_memory()?;
    let journal = Journal::default();
    let events = || std::mem::take(&mut *journal.lock().unwrap());
    db.create_module(
        "memtx",
        update_module_with_tx::<MemTab>(),
        Some(journal.clone()),
    )?;
    db.execute_batch("CREATE VIRTUAL TABLE t USING memtx(a, b)")?;
    // SQLite makes the new table part of the transaction that creates it, without
    // xBegin.
    assert_eq!(events(), ["sync", "commit"]);

    // Autocommit: each statement is a transaction.
    db.execute("INSERT INTO t VALUES ('first', 1)", [])?;
    assert_eq!(events(), ["begin", "sync", "commit"]);
    // Reads do not begin one.
    let _: i64 = db.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    assert_eq!(events(), Vec::<&str>::new());

    // An explicit transaction: begin once, then rollback restores the rows.
    {
        let tx = db.transaction()?;
        tx.execute("INSERT INTO t VALUES ('second', 2)", [])?;
        tx.execute("UPDATE t SET b = 10 WHERE a = 'first'", [])?;
        tx.execute("DELETE FROM t WHERE a = 'second'", [])?;
        tx.rollback()?;
    }
    assert_eq!(events(), ["begin", "rollback"]);
    assert_eq!(contents(&db, "t")?, [(1, text("first"), Value::Integer(1))]);

    // Dropping a transaction rolls back too, as in rusqlite.
    {
        let tx = db.transaction()?;
        tx.execute("DELETE FROM t", [])?;
    }
    assert_eq!(events(), ["begin", "rollback"]);
    assert_eq!(contents(&db, "t")?.len(), 1);

    // A commit keeps the changes.
    {
        let tx = db.transaction()?;
        tx.execute("INSERT INTO t VALUES ('third', 3)", [])?;
        tx.commit()?;
    }
    assert_eq!(events(), ["begin", "sync", "commit"]);
    assert_eq!(contents(&db, "t")?.len(), 2);

    // A failing statement in autocommit mode rolls its transaction back.
    assert!(
        db.execute("INSERT INTO t VALUES ('forbidden', 4)", [])
            .is_err()
    );
    assert_eq!(events(), ["begin", "rollback"]);

    // A failing sync fails the commit and rolls back.
    let tx = db.transaction()?;
    tx.execute("INSERT INTO t VALUES ('unsyncable', 5)", [])?;
    let err = tx.commit().unwrap_err();
    assert!(err.to_string().contains("cannot sync"), "{err}");
    assert_eq!(events(), ["begin", "sync", "rollback"]);
    assert_eq!(
        contents(&db, "t")?,
        [
            (1, text("first"), Value::Integer(1)),
            (2, text("third"), Value::Integer(3))
        ]
    );
    assert!(db.is_autocommit());

    // The same table type through update_module: no transaction methods are called.
    let plain = Journal::default();
    db.create_module("memtab", update_module::<MemTab>(), Some(plain.clone()))?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE p USING memtab(a, b);
         BEGIN; INSERT INTO p VALUES ('x', 1); ROLLBACK;",
    )?;
    assert!(plain.lock().unwrap().is_empty());
    // Without them the table keeps what a rolled-back transaction wrote.
    assert_eq!(contents(&db, "p")?.len(), 1);
    Ok(())
}
