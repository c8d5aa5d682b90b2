//! Sandbox escapes through SQLite: every path that leads outside the instance's root
//! (`..`, absolute paths, symbolic links, ATTACH, VACUUM INTO) is refused with
//! `SQLITE_CANTOPEN` (or an SQL error carrying it) and a reason, nothing is created or
//! changed outside the root, and the instance goes on working.

mod common;

use common::{Config, Conn, OPEN_CREATE, Sqlite, Vfs, ffi, listing};
use std::path::{Path, PathBuf};

/// A temporary directory `outer` holding the sandbox root `outer/root` and a valid
/// database `outer/existing.db` that no sandboxed path may reach.
struct Layout {
    _tmp: tempfile::TempDir,
    outer: PathBuf,
    root: PathBuf,
}

impl Layout {
    fn new() -> Layout {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path().to_owned();
        let root = outer.join("root");
        std::fs::create_dir(&root).unwrap();
        // A real database outside the root, written through a sandbox at `outer`.
        let mut conn = Conn::open(&outer, "existing.db");
        conn.execute_batch("CREATE TABLE secret(x); INSERT INTO secret VALUES ('outside');");
        drop(conn);
        Layout {
            _tmp: tmp,
            outer,
            root,
        }
    }

    fn outside(&self, name: &str) -> String {
        self.outer.join(name).to_str().unwrap().to_owned()
    }

    fn sqlite(&self) -> Sqlite {
        Sqlite::new(Config::new(Vfs::new(&self.root).unwrap())).unwrap()
    }

    /// Everything outside the root: names and contents of `outer`'s files.
    fn outside_state(&self) -> Vec<(String, Option<Vec<u8>>)> {
        listing(&self.outer)
            .into_iter()
            .map(|name| {
                let path = self.outer.join(&name);
                let bytes = path
                    .symlink_metadata()
                    .unwrap()
                    .is_file()
                    .then(|| std::fs::read(&path).unwrap());
                (name, bytes)
            })
            .collect()
    }
}

/// Panics unless `result` is a refusal with code `SQLITE_CANTOPEN` whose message
/// contains `reason`.
fn assert_refused<T: std::fmt::Debug>(what: &str, result: Result<T, common::Error>, reason: &str) {
    match result {
        Err(err) => {
            assert_eq!(
                err.primary_code(),
                Some(ffi::SQLITE_CANTOPEN),
                "{what}: {err} ({err:?})"
            );
            assert!(
                err.to_string().contains(reason),
                "{what}: the message does not give the reason {reason:?}: {err}"
            );
        }
        Ok(v) => panic!("{what}: opened ({v:?}) outside the sandbox"),
    }
}

#[test]
fn paths_leading_out_of_the_root_are_refused() {
    let layout = Layout::new();
    let before = layout.outside_state();
    let mut sqlite = layout.sqlite();
    let escapes = "path escapes the sandbox root";
    let outside = "absolute path outside the sandbox root";
    let cases = [
        ("../x.db".to_owned(), escapes),
        ("../existing.db".to_owned(), escapes),
        ("sub/../../x.db".to_owned(), escapes),
        ("./../../../x.db".to_owned(), escapes),
        (layout.outside("x.db"), outside),
        (layout.outside("existing.db"), outside),
        (format!("{}/../x.db", layout.root.display()), outside),
        ("/etc/hostname".to_owned(), outside),
    ];
    for (name, reason) in &cases {
        assert_refused(name, sqlite.open(name, OPEN_CREATE), reason);
        assert_refused(name, sqlite.open(name, ffi::SQLITE_OPEN_READONLY), reason);
    }
    // URI filenames go through the same checks.
    assert_refused(
        "file:../x.db",
        sqlite.open("file:../x.db?mode=rwc", OPEN_CREATE | ffi::SQLITE_OPEN_URI),
        escapes,
    );
    assert_eq!(
        layout.outside_state(),
        before,
        "something changed outside the root"
    );
    assert!(
        listing(&layout.root).is_empty(),
        "{:?}",
        listing(&layout.root)
    );

    // The instance is fine after all those refusals.
    let db = sqlite.open("inside.db", OPEN_CREATE).unwrap();
    let stmt = sqlite.prepare(db, "SELECT 1 + 1", 0).unwrap().stmt.unwrap();
    assert!(sqlite.step(stmt).unwrap());
    assert_eq!(sqlite.column_int64(stmt, 0).unwrap(), 2);
    sqlite.finalize(stmt).unwrap();
    sqlite.close(db).unwrap();
    assert_eq!(layout.outside_state(), before);
}

#[test]
fn symbolic_links_leading_out_are_refused() {
    use std::os::unix::fs::symlink;
    let layout = Layout::new();
    let root = &layout.root;
    symlink(layout.outer.join("existing.db"), root.join("link.db")).unwrap();
    symlink(layout.outer.join("new.db"), root.join("dangling.db")).unwrap();
    symlink(&layout.outer, root.join("outdir")).unwrap();
    symlink("../existing.db", root.join("relative-link.db")).unwrap();
    let before = layout.outside_state();
    let mut sqlite = layout.sqlite();
    let reason = "symbolic link";
    for name in [
        "link.db",
        "dangling.db",
        "outdir/x.db",
        "outdir/existing.db",
        "relative-link.db",
    ] {
        assert_refused(name, sqlite.open(name, OPEN_CREATE), reason);
        assert_refused(name, sqlite.open(name, ffi::SQLITE_OPEN_READONLY), reason);
    }
    assert_eq!(
        layout.outside_state(),
        before,
        "something changed outside the root"
    );

    // A symbolic link that stays inside the root is fine.
    let mut real = Conn::open(root, "real.db");
    real.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42);");
    symlink("real.db", root.join("alias.db")).unwrap();
    let mut alias = Conn::open(root, "alias.db");
    assert_eq!(alias.query_i64("SELECT x FROM t"), 42);
    assert_eq!(layout.outside_state(), before);
}

#[test]
fn attach_and_vacuum_into_outside_the_root_are_refused() {
    let layout = Layout::new();
    let before = layout.outside_state();
    let elsewhere = PathBuf::from(format!(
        "/tmp/sandlite-sandbox-test-{}-elsewhere.db",
        std::process::id()
    ));
    let mut conn = Conn::open(&layout.root, "main.db");
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);");

    let refused = [
        "ATTACH '../other.db' AS other".to_owned(),
        "ATTACH '../existing.db' AS other".to_owned(),
        format!("ATTACH '{}' AS other", layout.outside("other.db")),
        format!("ATTACH '{}' AS other", elsewhere.display()),
        "VACUUM INTO '../copy.db'".to_owned(),
        format!("VACUUM INTO '{}'", layout.outside("copy.db")),
        format!("VACUUM INTO '{}'", elsewhere.display()),
    ];
    for sql in &refused {
        let err = conn.try_execute_batch(sql).unwrap_err();
        assert_eq!(
            err.primary_code(),
            Some(ffi::SQLITE_CANTOPEN),
            "{sql}: {err:?}"
        );
        assert!(
            err.to_string().contains("sandbox root"),
            "{sql}: no reason in {err}"
        );
        // Still one database, and the connection works.
        assert_eq!(
            conn.query_i64("SELECT count(*) FROM pragma_database_list"),
            1
        );
        assert_eq!(conn.query_i64("SELECT sum(x) FROM t"), 6);
    }
    assert_eq!(
        layout.outside_state(),
        before,
        "something changed outside the root"
    );
    assert!(!elsewhere.exists(), "{elsewhere:?} was created");

    // Inside the root, by relative or absolute path, both work.
    std::fs::create_dir(layout.root.join("sub")).unwrap();
    conn.execute_batch(&format!(
        "ATTACH 'sub/inner.db' AS inner;
         CREATE TABLE inner.u(y); INSERT INTO inner.u VALUES ('in');
         ATTACH '{}' AS absolute;
         CREATE TABLE absolute.w(z);
         VACUUM INTO 'copy.db';",
        layout.root.join("abs.db").display()
    ));
    assert!(layout.root.join("sub/inner.db").is_file());
    assert!(layout.root.join("abs.db").is_file());
    let mut copy = Conn::open(&layout.root, "copy.db");
    assert_eq!(copy.query_i64("SELECT sum(x) FROM t"), 6);
    copy.assert_integrity_ok();
    conn.assert_integrity_ok();
    assert_eq!(layout.outside_state(), before);
}

#[test]
fn a_file_inside_the_root_opens_by_absolute_path() {
    let layout = Layout::new();
    let absolute = layout.root.join("abs.db");
    let absolute = absolute.to_str().unwrap();
    assert!(Path::new(absolute).is_absolute());
    {
        let mut conn = Conn::open(&layout.root, absolute);
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES ('by absolute path');");
        let name = conn.sqlite.db_filename(conn.db, "main").unwrap().unwrap();
        assert!(name.ends_with("/root/abs.db"), "{name}");
    }
    assert!(layout.root.join("abs.db").is_file());
    // The same file by its relative name, and by a path with harmless `.` and `..`
    // components that stay inside.
    let dotted = format!("{}/./sub/../abs.db", layout.root.display());
    for name in ["abs.db", dotted.as_str()] {
        let mut conn = Conn::open(&layout.root, name);
        assert_eq!(
            conn.query_text("SELECT x FROM t"),
            "by absolute path",
            "{name}"
        );
    }
}
