//! Helpers shared by the cross-crate SQL tests: one connection on its own sandboxed
//! SQLite instance, batch execution, queries returning plain values, integrity checks,
//! and re-running the current test binary as a child process.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub use sandlite_sqlite_wasm::{Config, Db, Error, Sqlite, Stmt, ValueType, ffi};
pub use sandlite_vfs::Vfs;

/// Flags of an ordinary read-write open that creates the file.
pub const OPEN_CREATE: i32 = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE;

/// Busy timeout the stress tests give every connection: far above any real wait.
pub const LONG_BUSY_TIMEOUT_MS: i32 = 10_000;

/// An SQL value as read back from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Integer(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

/// Shorthand for a text value.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// One connection on its own SQLite instance (own Wasm store, memory and VFS).
pub struct Conn {
    pub sqlite: Sqlite,
    pub db: Db,
}

impl Conn {
    /// Opens `name` inside the sandbox `dir` (created if missing), with `busy_ms` as the
    /// busy timeout (0: fail at once when locked).
    ///
    /// # Errors
    /// The binding's error if the instance or the database cannot be opened.
    pub fn try_open(dir: &Path, name: &str, busy_ms: i32) -> Result<Conn, Error> {
        let vfs = Vfs::new(dir).map_err(|e| Error::Misuse(format!("sandbox {dir:?}: {e}")))?;
        Conn::try_open_with(Config::new(vfs), name, busy_ms)
    }

    /// Like [`Conn::try_open`] with an explicit instance configuration.
    ///
    /// # Errors
    /// The binding's error if the instance or the database cannot be opened.
    pub fn try_open_with(config: Config, name: &str, busy_ms: i32) -> Result<Conn, Error> {
        let mut sqlite = Sqlite::new(config)?;
        let db = sqlite.open(name, OPEN_CREATE)?;
        sqlite.busy_timeout(db, busy_ms)?;
        Ok(Conn { sqlite, db })
    }

    /// [`Conn::try_open`] with the long busy timeout, panicking on failure.
    pub fn open(dir: &Path, name: &str) -> Conn {
        Conn::try_open(dir, name, LONG_BUSY_TIMEOUT_MS)
            .unwrap_or_else(|e| panic!("open {name} in {dir:?}: {e}"))
    }

    /// Runs every statement of `sql`, discarding rows.
    ///
    /// # Errors
    /// The first statement's error (the statements before it have run).
    pub fn try_execute_batch(&mut self, sql: &str) -> Result<(), Error> {
        let mut rest = sql;
        loop {
            let prepared = self.sqlite.prepare(self.db, rest, 0)?;
            let Some(stmt) = prepared.stmt else {
                return Ok(());
            };
            let stepped = self.drain(stmt);
            let finalized = self.sqlite.finalize(stmt);
            stepped?;
            finalized?;
            rest = &rest[prepared.tail..];
        }
    }

    /// [`Conn::try_execute_batch`], panicking with the SQL on failure.
    pub fn execute_batch(&mut self, sql: &str) {
        if let Err(e) = self.try_execute_batch(sql) {
            panic!("{sql}: {e} ({e:?})");
        }
    }

    fn drain(&mut self, stmt: Stmt) -> Result<(), Error> {
        while self.sqlite.step(stmt)? {}
        Ok(())
    }

    /// Prepares one statement and binds `params` (1-based, in order).
    fn prepare_bound(&mut self, sql: &str, params: &[Value]) -> Result<Stmt, Error> {
        let stmt = self
            .sqlite
            .prepare(self.db, sql, 0)?
            .stmt
            .ok_or_else(|| Error::Misuse(format!("no statement in {sql:?}")))?;
        let bound = (|| {
            for (i, value) in params.iter().enumerate() {
                let i = i as i32 + 1;
                match value {
                    Value::Null => self.sqlite.bind_null(stmt, i)?,
                    Value::Integer(v) => self.sqlite.bind_int64(stmt, i, *v)?,
                    Value::Real(v) => self.sqlite.bind_double(stmt, i, *v)?,
                    Value::Text(v) => self.sqlite.bind_text(stmt, i, v)?,
                    Value::Blob(v) => self.sqlite.bind_blob(stmt, i, v)?,
                }
            }
            Ok(())
        })();
        if let Err(e) = bound {
            let _ = self.sqlite.finalize(stmt);
            return Err(e);
        }
        Ok(stmt)
    }

    /// Runs one statement with `params` and returns the number of rows it changed.
    ///
    /// # Errors
    /// The statement's error.
    pub fn try_execute(&mut self, sql: &str, params: &[Value]) -> Result<i64, Error> {
        let stmt = self.prepare_bound(sql, params)?;
        let stepped = self.drain(stmt);
        let finalized = self.sqlite.finalize(stmt);
        stepped?;
        finalized?;
        self.sqlite.changes(self.db)
    }

    /// [`Conn::try_execute`], panicking with the SQL on failure.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> i64 {
        self.try_execute(sql, params)
            .unwrap_or_else(|e| panic!("{sql}: {e} ({e:?})"))
    }

    /// Runs one statement with `params` and returns all its rows.
    ///
    /// # Errors
    /// The statement's error.
    pub fn try_query_with(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>, Error> {
        let stmt = self.prepare_bound(sql, params)?;
        let rows = self.collect_rows(stmt);
        let finalized = self.sqlite.finalize(stmt);
        let rows = rows?;
        finalized?;
        Ok(rows)
    }

    /// [`Conn::try_query_with`], panicking with the SQL on failure.
    pub fn query_with(&mut self, sql: &str, params: &[Value]) -> Vec<Vec<Value>> {
        self.try_query_with(sql, params)
            .unwrap_or_else(|e| panic!("{sql}: {e} ({e:?})"))
    }

    fn collect_rows(&mut self, stmt: Stmt) -> Result<Vec<Vec<Value>>, Error> {
        let columns = self.sqlite.column_count(stmt)?;
        let mut rows = Vec::new();
        while self.sqlite.step(stmt)? {
            let mut row = Vec::with_capacity(columns as usize);
            for i in 0..columns {
                row.push(match self.sqlite.column_type(stmt, i)? {
                    ValueType::Null => Value::Null,
                    ValueType::Integer => Value::Integer(self.sqlite.column_int64(stmt, i)?),
                    ValueType::Real => Value::Real(self.sqlite.column_double(stmt, i)?),
                    ValueType::Text => Value::Text(
                        String::from_utf8_lossy(self.sqlite.column_text(stmt, i)?).into_owned(),
                    ),
                    ValueType::Blob => Value::Blob(self.sqlite.column_blob(stmt, i)?.to_vec()),
                });
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// One statement without parameters; its rows.
    ///
    /// # Errors
    /// The statement's error.
    pub fn try_query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, Error> {
        self.try_query_with(sql, &[])
    }

    /// [`Conn::try_query`], panicking with the SQL on failure.
    pub fn query(&mut self, sql: &str) -> Vec<Vec<Value>> {
        self.try_query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e} ({e:?})"))
    }

    /// The single integer a query returns (one row, one column).
    pub fn query_i64(&mut self, sql: &str) -> i64 {
        match self.query(sql).as_slice() {
            [row] => match row.as_slice() {
                [Value::Integer(v)] => *v,
                other => panic!("{sql}: expected one integer, got {other:?}"),
            },
            rows => panic!("{sql}: expected one row, got {rows:?}"),
        }
    }

    /// The single text value a query returns (one row, one column).
    pub fn query_text(&mut self, sql: &str) -> String {
        match self.query(sql).as_slice() {
            [row] => match row.as_slice() {
                [Value::Text(v)] => v.clone(),
                other => panic!("{sql}: expected one text, got {other:?}"),
            },
            rows => panic!("{sql}: expected one row, got {rows:?}"),
        }
    }

    /// `PRAGMA integrity_check`'s lines, joined.
    pub fn integrity_check(&mut self) -> String {
        self.query("PRAGMA integrity_check")
            .into_iter()
            .map(|row| format!("{row:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Panics unless `PRAGMA integrity_check` says exactly `ok`.
    pub fn assert_integrity_ok(&mut self) {
        let rows = self.query("PRAGMA integrity_check");
        assert_eq!(rows, vec![vec![text("ok")]], "integrity_check");
    }

    /// Runs `increments` transactions, each `BEGIN IMMEDIATE`, read the counter, write it
    /// back plus one, `COMMIT`: a lost update would leave the counter short.
    pub fn increment_counter(&mut self, increments: usize) {
        for _ in 0..increments {
            self.execute_batch("BEGIN IMMEDIATE");
            let n = self.query_i64("SELECT n FROM counter WHERE id = 1");
            self.execute("UPDATE counter SET n = ?1 WHERE id = 1", &[(n + 1).into()]);
            self.execute_batch("COMMIT");
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Errors here (a statement left open by a failed assertion) do not matter: the
        // instance and its files go away with `sqlite`.
        let _ = self.sqlite.close(self.db);
    }
}

/// Creates the one-row table `counter(id, n)` with `n = 0`.
pub fn create_counter(conn: &mut Conn) {
    conn.execute_batch(
        "CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
         INSERT INTO counter VALUES (1, 0);",
    );
}

/// Environment variable telling a re-run test binary which child role to play.
pub const CHILD_ROLE_VAR: &str = "SANDLITE_TEST_CHILD_ROLE";
/// Environment variable giving a child the sandbox directory to work in.
pub const CHILD_DIR_VAR: &str = "SANDLITE_TEST_CHILD_DIR";

/// A command re-running this test binary for only the ignored test `entry` (a helper
/// that plays a child role), with the role and directory in its environment.
pub fn child_command(entry: &str, role: &str, dir: &Path) -> Command {
    let exe = std::env::current_exe().expect("path of the running test binary");
    let mut cmd = runner_command(exe);
    cmd.args([
        "--exact",
        entry,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ROLE_VAR, role)
    .env(CHILD_DIR_VAR, dir);
    cmd
}

/// In a child entry: its (role, directory), or `None` when the entry was run by hand
/// (e.g. `cargo test -- --ignored`) rather than spawned, in which case it does nothing.
pub fn child_role() -> Option<(String, std::path::PathBuf)> {
    let role = std::env::var(CHILD_ROLE_VAR).ok()?;
    let dir = std::env::var_os(CHILD_DIR_VAR)?;
    Some((role, dir.into()))
}

/// Prefix of the lines a child prints for its parent (libtest prints its own lines
/// around them).
pub const CHILD_SIGNAL: &str = "SANDLITE-CHILD:";

/// In a child: tells the parent `what` (one line on stdout).
pub fn child_signal(what: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{CHILD_SIGNAL} {what}").expect("write to the parent");
    out.flush().expect("flush to the parent");
}

/// In a child: waits until the parent sends a line on stdin.
pub fn child_wait_for_go() {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .expect("read the go signal");
}

/// A child process with its stdout read line by line and its stderr collected.
pub struct Child {
    process: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    seen: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Child {
    /// Spawns `cmd` with piped stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Child {
        use std::io::Read;
        use std::process::Stdio;
        let mut process = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let stdout = std::io::BufReader::new(process.stdout.take().expect("piped stdout"));
        let mut stderr = process.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Child {
            process,
            stdout,
            seen: String::new(),
            stderr: Some(stderr),
        }
    }

    /// Reads stdout until the child signals `what` (see [`child_signal`]) and returns the
    /// rest of that line; panics with everything it printed if it exits first.
    pub fn wait_for_signal(&mut self, what: &str) -> String {
        use std::io::BufRead;
        let wanted = format!("{CHILD_SIGNAL} {what}");
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .expect("read the child's stdout");
            self.seen.push_str(&line);
            if n == 0 {
                let status = self.process.wait();
                let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
                panic!(
                    "child ended ({status:?}) before signalling {what:?}\n--- stdout\n{}\n--- stderr\n{}",
                    self.seen,
                    stderr.unwrap_or_default()
                );
            }
            if let Some(at) = line.find(&wanted) {
                return line[at + wanted.len()..].trim().to_owned();
            }
        }
    }

    /// Sends the go signal (see [`child_wait_for_go`]).
    pub fn go(&mut self) {
        use std::io::Write;
        let stdin = self.process.stdin.as_mut().expect("piped stdin");
        stdin.write_all(b"go\n").expect("write to the child");
        stdin.flush().expect("flush to the child");
    }

    /// Kills the child with SIGKILL and reaps it.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.process.kill().expect("kill the child");
        self.process.wait().expect("reap the child")
    }

    /// Waits for the child and panics unless it succeeded; returns its whole stdout.
    pub fn finish(mut self, what: &str) -> String {
        use std::io::Read;
        drop(self.process.stdin.take());
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        self.seen.push_str(&rest);
        let status = self.process.wait().expect("wait for the child");
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        assert!(
            status.success(),
            "{what} failed ({status}):\n--- stdout\n{}\n--- stderr\n{stderr}",
            self.seen
        );
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // A test that failed half way must not leave a child looping forever.
        if let Ok(None) = self.process.try_wait() {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

/// The file names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {dir:?}: {e}"))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A command running `program`, through the emulator named by `SANDLITE_TEST_RUNNER`
/// when it is set: CI sets it to `qemu-aarch64-static` for the aarch64 tests, whose
/// child processes (this test binary again, the `sandlite` binary) the x86-64 machine
/// cannot execute directly (no binfmt_misc registration in CI's container).
pub fn runner_command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    match std::env::var_os("SANDLITE_TEST_RUNNER").filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut command = std::process::Command::new(runner);
            command.arg(program);
            command
        }
        None => std::process::Command::new(program),
    }
}
