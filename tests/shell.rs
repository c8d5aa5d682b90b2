//! The `sandlite` shell binary, run as users run it: piped scripts, SQL arguments,
//! every dot-command and output mode, errors and exit codes. Where the real `sqlite3`
//! CLI is installed, outputs and dumps are checked against it too.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs the shell in `dir` with `args`, feeding `stdin`, under a 4 GiB address-space
/// limit (so a regression that buffers without bound fails instead of exhausting the
/// machine, and the bounds-checked memory fallback carries every shell feature).
fn shell(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut command = Command::new("sh");
    command.args(["-c", "ulimit -v 4194304 && exec \"$0\" \"$@\""]);
    // Under an emulator (see `runner_command`) the limit applies to it too.
    if let Some(runner) = std::env::var_os("SANDLITE_TEST_RUNNER").filter(|r| !r.is_empty()) {
        command.arg(runner);
    }
    command.arg(env!("CARGO_BIN_EXE_sandlite"));
    run(command, dir, args, stdin)
}

fn run(mut command: Command, dir: &Path, args: &[&str], stdin: &str) -> Run {
    // No start-up file of the person running the tests (~/.sqliterc) is read, unless
    // the test puts one in `dir`. (sqlite3 asks the password database for the home
    // directory, so it ignores this.)
    // With HOME in `dir`, the code cache would land there too: keep it in one place
    // outside (shared by the tests, which also exercises concurrent writers).
    if !command.get_envs().any(|(k, _)| k == "XDG_CACHE_HOME") {
        command.env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sandlite-test-cache"),
        );
    }
    let mut child = command
        .current_dir(dir)
        .env("HOME", dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the shell");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("wait for the shell");
    Run {
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        code: output.status.code().expect("exit code"),
    }
}

/// Runs the shell and requires success and a quiet standard error.
fn ok(dir: &Path, args: &[&str], stdin: &str) -> String {
    let r = shell(dir, args, stdin);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (0, ""),
        "args {args:?}, stdout:\n{}",
        r.stdout
    );
    r.stdout
}

/// The real sqlite3 CLI, when installed.
fn sqlite3() -> Option<Command> {
    let found = Command::new("sqlite3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("sqlite3 CLI not installed: skipping the comparison with it");
    }
    found.then(|| Command::new("sqlite3"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

const PEOPLE: &str =
    "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, score REAL, photo BLOB);
INSERT INTO people VALUES (1, 'Ada', 3.5, x'00ff'), (2, 'it''s, \"quoted\"', NULL, NULL),
  (3, 'two
lines', 0.1, NULL);
";

#[test]
fn piped_script_with_multi_line_statements_triggers_and_comments() {
    let dir = tempdir();
    let script = "create table t(a);
create table log(b);
create trigger tr after insert on t begin
  insert into log values(new.a * 10);
end;
insert into t values(1); insert into t values(2);
select
  b
from log -- a comment with ; in it
order by b;
/* a block comment */ select count(*) from t;
-- the last statement has no semicolon
select 'end'";
    assert_eq!(ok(dir.path(), &["db.sqlite"], script), "10\n20\n2\nend\n");
    // The data is in the file for the next run.
    assert_eq!(
        ok(dir.path(), &["db.sqlite", "select sum(b) from log"], ""),
        "30\n"
    );
}

#[test]
fn no_database_argument_means_in_memory() {
    let dir = tempdir();
    assert_eq!(
        ok(
            dir.path(),
            &[],
            "create table t(x); insert into t values(42); select x from t;"
        ),
        "42\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file created"
    );
}

#[test]
fn sql_arguments_run_in_order_with_dot_commands() {
    let dir = tempdir();
    let out = ok(
        dir.path(),
        &[
            "a.db",
            "create table t(x); insert into t values (1), (2); select x from t;",
            ".headers on",
            "select x * 2 as doubled from t where x = 2",
        ],
        "select 'stdin is not read';",
    );
    assert_eq!(out, "1\n2\ndoubled\n4\n");
}

#[test]
fn tables_and_schema() {
    let dir = tempdir();
    let setup =
        "create table zebra(a); create table apple(b); create view v_apple as select b from apple;
create index apple_b on apple(b); create table \"order\"(x);";
    ok(dir.path(), &["db", setup], "");
    assert_eq!(
        ok(dir.path(), &["db", ".tables"], ""),
        "apple    order    v_apple  zebra  \n"
    );
    assert_eq!(ok(dir.path(), &["db", ".tables a%"], ""), "apple\n");
    assert_eq!(
        ok(dir.path(), &["db", ".schema apple"], ""),
        "CREATE TABLE apple(b);\nCREATE INDEX apple_b on apple(b);\n"
    );
    let schema = ok(dir.path(), &["db", ".schema"], "");
    assert_eq!(
        schema.lines().collect::<Vec<_>>(),
        [
            "CREATE TABLE zebra(a);",
            "CREATE TABLE apple(b);",
            "CREATE VIEW v_apple as select b from apple;",
            "CREATE INDEX apple_b on apple(b);",
            "CREATE TABLE \"order\"(x);",
        ]
    );
    assert_eq!(ok(dir.path(), &["db", ".schema nothing"], ""), "");
}

#[test]
fn every_output_mode() {
    let dir = tempdir();
    ok(dir.path(), &["db", PEOPLE], "");
    let query = "select id, name, score from people order by id";
    let mode = |mode: &str, headers: &str| {
        ok(
            dir.path(),
            &[
                "db",
                &format!(".mode {mode}"),
                &format!(".headers {headers}"),
                query,
            ],
            "",
        )
    };
    assert_eq!(
        mode("list", "off"),
        "1|Ada|3.5\n2|it's, \"quoted\"|\n3|two\nlines|0.1\n"
    );
    assert_eq!(
        mode("list", "on"),
        "id|name|score\n1|Ada|3.5\n2|it's, \"quoted\"|\n3|two\nlines|0.1\n"
    );
    assert_eq!(
        mode("csv", "on"),
        "id,name,score\r\n1,Ada,3.5\r\n2,\"it's, \"\"quoted\"\"\",\r\n3,\"two\nlines\",0.1\r\n"
    );
    assert_eq!(
        mode("column", "on"),
        "id  name            score\n\
         --  --------------  -----\n\
         1   Ada             3.5  \n\
         \n\
         2   it's, \"quoted\"       \n\
         \n\
         3   two             0.1  \n    lines                \n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "db",
                ".mode column",
                "select id, score from people where id < 3"
            ],
            ""
        ),
        "id  score\n--  -----\n1   3.5  \n2        \n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[
                "db",
                ".mode table",
                "select id, name from people where id < 3"
            ],
            ""
        ),
        "+----+----------------+\n\
         | id |      name      |\n\
         +----+----------------+\n\
         | 1  | Ada            |\n\
         | 2  | it's, \"quoted\" |\n\
         +----+----------------+\n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &["db", ".mode json", "select * from people order by id"],
            ""
        ),
        "[{\"id\":1,\"name\":\"Ada\",\"score\":3.5,\"photo\":\"00ff\"},\n\
         {\"id\":2,\"name\":\"it's, \\\"quoted\\\"\",\"score\":null,\"photo\":null},\n\
         {\"id\":3,\"name\":\"two\\nlines\",\"score\":0.1,\"photo\":null}]\n"
    );
    // Statements without rows print nothing in any mode.
    for m in ["list", "csv", "column", "table", "json"] {
        let empty = ok(
            dir.path(),
            &[
                "db",
                &format!(".mode {m}"),
                ".headers on",
                "select * from people where 0",
            ],
            "",
        );
        assert_eq!(empty, "", "mode {m}");
    }
    let r = shell(dir.path(), &["db", ".mode"], "");
    assert_eq!(r.stdout, "current output mode: list\n");
    let r = shell(dir.path(), &["db", ".mode yaml"], "");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: mode should be one of: ascii box column csv html insert json line list \
         markdown qbox quote table tabs tcl\n"
    );
}

#[test]
fn json_mode_escapes_and_types() {
    let dir = tempdir();
    let out = ok(
        dir.path(),
        &[
            "-json",
            ":memory:",
            "select 'quote\" back\\ tab\t ctl'||char(1) as \"k\"\"ey\", 2 as i, 1e300 as r, \
             -0.5 as neg, 1.0 as whole, x'0aff' as b, null as n",
        ],
        "",
    );
    assert_eq!(
        out,
        "[{\"k\\\"ey\":\"quote\\\" back\\\\ tab\\t ctl\\u0001\",\"i\":2,\"r\":1e300,\
         \"neg\":-0.5,\"whole\":1.0,\"b\":\"0aff\",\"n\":null}]\n"
    );
}

#[test]
fn list_and_csv_match_the_sqlite3_cli() {
    let Some(_) = sqlite3() else { return };
    let dir = tempdir();
    let script = "create table t(a, b, c);
insert into t values (1, 'plain', 2.5), (-7, 'with, comma', NULL), (3, 'say \"hi\"', 1e20),
  (4, '', 0.1), (5, 'new
line', 123456789.125), (1e15, ' lead', -0.0);
select * from t;
select a * 2 as twice, upper(b) as up from t where a > 2;
";
    for options in [
        &["-list"][..],
        &["-csv"],
        &["-header"],
        &["-csv", "-header"],
    ] {
        let mut args = options.to_vec();
        args.push(":memory:");
        let ours = ok(dir.path(), &args, script);
        let theirs = run(Command::new("sqlite3"), dir.path(), &args, script);
        assert_eq!(theirs.code, 0, "{}", theirs.stderr);
        assert_eq!(ours, theirs.stdout, "options {options:?}");
    }
    // Column and table modes too (sqlite3 3.40 and later lay them out alike).
    for (mode, query) in [
        ("column", "select * from t"),
        ("table", "select b, a from t"),
    ] {
        // On standard input: with a command argument sqlite3 would not read the script.
        let input = format!(".mode {mode}\n{script}{query};\n");
        let ours = ok(dir.path(), &[":memory:"], &input);
        let theirs = run(Command::new("sqlite3"), dir.path(), &[":memory:"], &input);
        assert_eq!(theirs.code, 0, "{}", theirs.stderr);
        assert!(ours.contains("with, comma"), "mode {mode}: {ours}");
        assert_eq!(ours, theirs.stdout, "mode {mode}");
    }
}

#[test]
fn headers_switch() {
    let dir = tempdir();
    let q = "select 1 as one, 2 as two";
    assert_eq!(ok(dir.path(), &[":memory:", q], ""), "1|2\n");
    assert_eq!(
        ok(dir.path(), &[":memory:", ".headers on", q], ""),
        "one|two\n1|2\n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &[":memory:", ".headers on", ".headers off", q],
            ""
        ),
        "1|2\n"
    );
    // Column mode turns headers on unless .headers said otherwise.
    assert_eq!(
        ok(
            dir.path(),
            &[":memory:", ".headers off", ".mode column", q],
            ""
        ),
        "1    2  \n"
    );
    // As in sqlite3: a word that is no boolean is "off" after a warning (no error);
    // a missing one is a usage error.
    let r = shell(
        dir.path(),
        &[":memory:", ".headers on", ".headers maybe", q],
        "",
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "1|2\n"));
    assert_eq!(
        r.stderr,
        "ERROR: Not a boolean value: \"maybe\". Assuming \"no\".\n"
    );
    let r = shell(dir.path(), &[":memory:", ".headers"], "");
    assert_eq!((r.code, r.stderr.as_str()), (1, "Usage: .headers on|off\n"));
}

#[test]
fn timer_reports_each_statement() {
    let dir = tempdir();
    let out = ok(
        dir.path(),
        &[":memory:"],
        ".timer on\nselect 1;\ncreate table t(x);\n.timer off\nselect 2;\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], "1");
    assert_eq!(lines[3], "2");
    for line in &lines[1..3] {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[..3], ["Run", "Time:", "real"], "{line}");
        assert!(fields[3].parse::<f64>().is_ok(), "{line}");
        assert_eq!(fields[3].split('.').nth(1).map(str::len), Some(3), "{line}");
        assert_eq!((fields[4], fields[6]), ("user", "sys"), "{line}");
    }
}

#[test]
fn read_runs_a_file_and_goes_on_after_errors_unless_bail() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("setup.sql"),
        "create table t(x);\ninsert into t values (1);\n.headers on\nselect x from t;\n",
    )
    .unwrap();
    assert_eq!(
        ok(
            dir.path(),
            &["db", ".read setup.sql", "select count(*) as n from t"],
            ""
        ),
        "x\n1\nn\n1\n"
    );
    std::fs::write(
        dir.path().join("bad.sql"),
        "select 'before';\n\nselect nosuch\n  from t;\nselect 'after';\n",
    )
    .unwrap();
    // sqlite3's words: the line the statement starts on, its lines joined by spaces.
    let error = "Parse error near line 3: no such column: nosuch\n  select nosuch   from t;\n         ^--- error here\n";
    // As in sqlite3: the file goes on after its error, and so does the input.
    let r = shell(dir.path(), &["db"], ".read bad.sql\nselect 'next';\n");
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "before\nafter\nnext\n");
    assert_eq!(r.stderr, error);
    // With -bail both stop at the error.
    let r = shell(
        dir.path(),
        &["-bail", "db"],
        ".read bad.sql\nselect 'not reached';\n",
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "before\n");
    assert_eq!(r.stderr, error);
    let r = shell(dir.path(), &["db", ".read missing.sql"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("Error: cannot open \"missing.sql\""),
        "{}",
        r.stderr
    );
    // A file that reads itself stops at the nesting limit instead of overflowing.
    std::fs::write(dir.path().join("loop.sql"), ".read loop.sql\n").unwrap();
    let r = shell(dir.path(), &["db", ".read loop.sql"], "");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(".read nested more than"), "{}", r.stderr);
}

const TRICKY_CSV: &str = "name,\"note, with comma\",qty\r\n\
\"Smith, J\",\"said \"\"hi\"\"\nthen left\",1\r\n\
plain,,2\n\
\n\
short\n\
long,a,3,extra\n";

#[test]
fn import_creates_the_table_from_the_header() {
    let dir = tempdir();
    std::fs::write(dir.path().join("in.csv"), TRICKY_CSV).unwrap();
    let r = shell(dir.path(), &["db", ".import in.csv items"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "in.csv:6: expected 3 columns but found 1 - filling the rest with NULL\n\
         in.csv:7: expected 3 columns but found 4 - extras ignored\n"
    );
    assert_eq!(
        ok(dir.path(), &["db", ".schema items"], ""),
        "CREATE TABLE items(name TEXT, \"note, with comma\" TEXT, qty TEXT);\n"
    );
    assert_eq!(
        ok(
            dir.path(),
            &["db", ".mode json", "select * from items order by rowid"],
            ""
        ),
        "[{\"name\":\"Smith, J\",\"note, with comma\":\"said \\\"hi\\\"\\nthen left\",\"qty\":\"1\"},\n\
         {\"name\":\"plain\",\"note, with comma\":\"\",\"qty\":\"2\"},\n\
         {\"name\":\"short\",\"note, with comma\":null,\"qty\":null},\n\
         {\"name\":\"long\",\"note, with comma\":\"a\",\"qty\":\"3\"}]\n"
    );
}

#[test]
fn import_into_an_existing_table_inserts_every_row_in_one_transaction() {
    let dir = tempdir();
    std::fs::write(dir.path().join("rows.csv"), "1,one\n2,\"two, too\"\n").unwrap();
    ok(
        dir.path(),
        &["db", "create table n(i integer, word text)"],
        "",
    );
    ok(dir.path(), &["db", ".import rows.csv n"], "");
    assert_eq!(
        ok(
            dir.path(),
            &["db", "select i + 1, word, typeof(i) from n"],
            ""
        ),
        "2|one|integer\n3|two, too|integer\n"
    );
    // --skip drops leading lines.
    ok(dir.path(), &["db", ".import --skip 1 rows.csv n"], "");
    assert_eq!(ok(dir.path(), &["db", "select count(*) from n"], ""), "3\n");
    // A failing row undoes the whole import.
    ok(dir.path(), &["db", "create table u(k unique)"], "");
    std::fs::write(dir.path().join("dup.csv"), "a\nb\na\n").unwrap();
    let r = shell(dir.path(), &["db", ".import dup.csv u"], "");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: dup.csv:3: UNIQUE constraint failed: u.k\n"
    );
    assert_eq!(ok(dir.path(), &["db", "select count(*) from u"], ""), "0\n");
    // A malformed file changes nothing.
    std::fs::write(dir.path().join("open.csv"), "h\n\"never closed\n").unwrap();
    let r = shell(dir.path(), &["db", ".import open.csv fresh"], "");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: open.csv: line 2: unterminated quoted field\n"
    );
    assert_eq!(ok(dir.path(), &["db", ".tables fresh"], ""), "");
}

/// A database with every kind of value a dump must reproduce exactly.
const ROUND_TRIP: &str = "
CREATE TABLE kinds(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
INSERT INTO kinds(v) VALUES (NULL), (0), (-9223372036854775808), (9223372036854775807),
  (0.1), (1.0/3), (2.5e-7), (-1e21), (3.0e10), (9e999), (-9e999),
  (123456789.123456789), (100.0), (-0.0), (0.30000000000000004),
  ('plain'), ('it''s'), (''), ('line1' || char(10) || 'line2' || char(13)), ('tab' || char(9)),
  ('unicode é ☃'), (x''), (x'00ff10'), (CAST(x'41004200' AS TEXT)), (CAST(x'ff' AS TEXT));
CREATE TABLE \"odd name\"(\"col \"\"q\"\"\" TEXT, n REAL);
INSERT INTO \"odd name\" VALUES ('x', 1), ('y', 2.25);
CREATE TABLE g(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c AS (a + 1) STORED);
INSERT INTO g(a) VALUES (5), (7);
CREATE INDEX g_a ON g(a);
CREATE VIEW doubled AS SELECT a, b FROM g;
CREATE TRIGGER kinds_log AFTER DELETE ON kinds BEGIN INSERT INTO g(a) VALUES (old.id); END;
DELETE FROM kinds WHERE id = 1;
";

/// The reals the round trip must keep bit for bit, read as hex of their IEEE bytes
/// through the shell itself.
const FINGERPRINT: &str = "select id, typeof(v), hex(v), \
  case when typeof(v) = 'real' then printf('%!.20e', v) end from kinds order by id";

#[test]
fn dump_round_trips_through_sandlite() {
    let dir = tempdir();
    ok(dir.path(), &["orig.db", ROUND_TRIP], "");
    let dump = ok(dir.path(), &["orig.db", ".dump"], "");
    assert!(
        dump.starts_with("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"),
        "{dump}"
    );
    assert!(dump.ends_with("COMMIT;\n"), "{dump}");
    assert!(
        dump.contains(
            "DELETE FROM sqlite_sequence;\nINSERT INTO sqlite_sequence VALUES('kinds',25);\n"
        ),
        "{dump}"
    );
    assert!(dump.contains("INSERT INTO g(a) VALUES(5);\n"), "{dump}");
    assert!(
        dump.contains("INSERT INTO \"odd name\" VALUES('y',2.25);\n"),
        "{dump}"
    );
    assert!(
        dump.contains("'line1'||char(10)||'line2'||char(13)"),
        "{dump}"
    );
    assert!(dump.contains("CAST(X'41004200' AS TEXT)"), "{dump}");
    ok(dir.path(), &["copy.db"], &dump);
    // Same schema, same data, same sequence: the copy dumps to the same text.
    assert_eq!(ok(dir.path(), &["copy.db", ".dump"], ""), dump);
    assert_eq!(
        ok(dir.path(), &["copy.db", FINGERPRINT], ""),
        ok(dir.path(), &["orig.db", FINGERPRINT], "")
    );
    // The trigger came back and works.
    ok(
        dir.path(),
        &["copy.db", "delete from kinds where id = 2"],
        "",
    );
    assert_eq!(
        ok(
            dir.path(),
            &["copy.db", "select a from g order by rowid desc limit 1"],
            ""
        ),
        "2\n"
    );
    // .dump TABLE: only that table and its index (the row the trigger added included).
    let one = ok(dir.path(), &["orig.db", ".dump g"], "");
    assert_eq!(
        one,
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n\
         CREATE TABLE g(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c AS (a + 1) STORED);\n\
         INSERT INTO g(a) VALUES(5);\nINSERT INTO g(a) VALUES(7);\nINSERT INTO g(a) VALUES(1);\n\
         CREATE INDEX g_a ON g(a);\nCOMMIT;\n"
    );
}

#[test]
fn dump_reals_with_extreme_exponents_stay_exact() {
    let dir = tempdir();
    // Reals across the whole exponent range, where SQLite's decimal parser is not
    // always exact: the dump must still restore every bit.
    let setup = "create table r(v real);
with recursive e(i) as (select -307 union all select i + 1 from e where i < 307)
insert into r select (1.0 + ((i * 7919) % 1000) / 1013.0) * pow(10, i) from e;
insert into r values (5e-324), (-2.5e-300), (1.7976931348623157e308), (2.2250738585072014e-308);";
    ok(dir.path(), &["orig.db", setup], "");
    let dump = ok(dir.path(), &["orig.db", ".dump"], "");
    ok(dir.path(), &["copy.db"], &dump);
    let query = "select hex(printf('%!.20e', v)) from r order by rowid";
    let (orig, copy) = (
        ok(dir.path(), &["orig.db", query], ""),
        ok(dir.path(), &["copy.db", query], ""),
    );
    assert_eq!(orig.lines().count(), 619);
    assert_eq!(orig, copy);
    let check = ok(
        dir.path(),
        &[
            "copy.db",
            "attach 'orig.db' as o; select count(*) from main.r a join o.r b on a.rowid = b.rowid where a.v = b.v",
        ],
        "",
    );
    assert_eq!(check, "619\n");
}

#[test]
fn dump_loads_into_the_sqlite3_cli() {
    let Some(_) = sqlite3() else { return };
    let dir = tempdir();
    // sqlite3's dump writes text that is not UTF-8 as raw bytes and cuts text at a NUL
    // (the shell reads UTF-8 scripts only): those two rows stay out of this test.
    let without = "delete from kinds where instr(v, char(0)) or hex(v) = 'FF'";
    ok(dir.path(), &["orig.db", ROUND_TRIP, without], "");
    let dump = ok(dir.path(), &["orig.db", ".dump"], "");
    let loaded = run(Command::new("sqlite3"), dir.path(), &["theirs.db"], &dump);
    assert_eq!((loaded.code, loaded.stderr.as_str()), (0, ""));
    // The data sqlite3 loaded, read back by sandlite, dumps to the same text.
    assert_eq!(ok(dir.path(), &["theirs.db", ".dump"], ""), dump);
    // And sqlite3's own dump of our database loads into sandlite with the same data.
    let theirs = run(
        Command::new("sqlite3"),
        dir.path(),
        &["orig.db", ".dump"],
        "",
    );
    assert_eq!(theirs.code, 0, "{}", theirs.stderr);
    ok(dir.path(), &["from_sqlite3.db"], &theirs.stdout);
    let q = "select id, typeof(v), quote(v) from kinds where typeof(v) != 'real' order by id";
    assert_eq!(
        ok(dir.path(), &["from_sqlite3.db", q], ""),
        ok(dir.path(), &["orig.db", q], "")
    );
}

#[test]
fn dump_of_a_virtual_table() {
    let dir = tempdir();
    let setup = "create virtual table docs using fts5(body);
insert into docs values ('the quick brown fox'), ('lazy dogs');";
    ok(dir.path(), &["orig.db", setup], "");
    let dump = ok(dir.path(), &["orig.db", ".dump"], "");
    assert!(dump.contains("PRAGMA writable_schema=ON;\nINSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','docs','docs',0,'CREATE VIRTUAL TABLE docs using fts5(body)');\n"), "{dump}");
    ok(dir.path(), &["copy.db"], &dump);
    assert_eq!(
        ok(
            dir.path(),
            &["copy.db", "select body from docs where docs match 'fox'"],
            ""
        ),
        "the quick brown fox\n"
    );
}

#[test]
fn syntax_error_shows_the_message_and_a_caret() {
    let dir = tempdir();
    let r = shell(
        dir.path(),
        &[":memory:", "create table t(x); SELEC * FROM t"],
        "",
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "Error: in prepare, near \"SELEC\": syntax error\n  SELEC * FROM t\n  ^--- error here\n"
    );
    // As in sqlite3, the excerpt runs from the failing statement to the end of the
    // argument, line breaks shown as spaces.
    let r = shell(
        dir.path(),
        &[
            ":memory:",
            "select 1;\nselect 2,\n       3 frm t;\nselect 4;",
        ],
        "",
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "1\n");
    assert_eq!(
        r.stderr,
        "Error: in prepare, near \"t\": syntax error\n  select 2,        3 frm t; select 4;\n                         ^--- error here\n"
    );
    // Far into a long line the excerpt scrolls and the caret comes after the words.
    let long = format!("select {}last frm t", "column_name, ".repeat(5));
    let r = shell(dir.path(), &[":memory:", &long], "");
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stderr);
    assert_eq!(lines[0], "Error: in prepare, near \"t\": syntax error");
    assert!(lines[2].ends_with("error here ---^"), "{}", r.stderr);
    let caret = lines[2].find('^').unwrap();
    assert_eq!(&lines[1][caret..], "t", "{}", r.stderr);
    assert!(lines[1].len() < long.len(), "{}", r.stderr);
}

#[test]
fn a_script_goes_on_after_errors_exits_1_and_stops_with_bail() {
    let dir = tempdir();
    let script = "create table t(x unique);
insert into t values (1);
select 'ok';
insert into t values (1);
select 'after';
";
    let r = shell(dir.path(), &["db"], script);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "ok\nafter\n");
    assert_eq!(
        r.stderr,
        "Runtime error near line 4: UNIQUE constraint failed: t.x (19)\n"
    );
    std::fs::remove_file(dir.path().join("db")).unwrap();
    for bail in [&["-bail", "db"][..], &["-cmd", ".bail on", "db"]] {
        let r = shell(
            dir.path(),
            bail,
            &script.replace("'after'", "'not reached'"),
        );
        assert_eq!((r.code, r.stdout.as_str()), (1, "ok\n"), "{bail:?}");
        std::fs::remove_file(dir.path().join("db")).unwrap();
    }
    let r = shell(dir.path(), &["db"], "select 1;\n.bogus\nselect 2;\n");
    assert_eq!((r.code, r.stdout.as_str()), (1, "1\n2\n"));
    assert_eq!(
        r.stderr,
        "Error: unknown command or invalid arguments:  \"bogus\". Enter \".help\" for help\n"
    );
    // An error in one SQL argument skips the later ones.
    let r = shell(dir.path(), &["db", "select nope", "select 3"], "");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(
        r.stderr,
        "Error: in prepare, no such column: nope\n  select nope\n         ^--- error here\n"
    );
    // As in sqlite3, a failed SQL argument exits with SQLite's result code.
    let twice = "create table u(x unique); insert into u values (1); insert into u values (1)";
    let r = shell(dir.path(), &["db", twice, "select 3"], "");
    assert_eq!((r.code, r.stdout.as_str()), (19, ""));
    assert_eq!(
        r.stderr,
        "Error: stepping, UNIQUE constraint failed: u.x (19)\n"
    );
}

#[test]
fn quit_and_exit() {
    let dir = tempdir();
    let r = shell(dir.path(), &[":memory:"], "select 1;\n.quit\nselect 2;\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "1\n"));
    let r = shell(dir.path(), &[":memory:"], "select 1;\n.exit 3\nselect 2;\n");
    assert_eq!((r.code, r.stdout.as_str()), (3, "1\n"));
    let r = shell(dir.path(), &[":memory:"], ".exit\n");
    assert_eq!(r.code, 0);
}

#[test]
fn help_version_and_bad_options() {
    let dir = tempdir();
    let help = ok(dir.path(), &[":memory:", ".help"], "");
    for command in [
        ".dump", ".exit", ".headers", ".help", ".import", ".mode", ".quit", ".read", ".schema",
        ".tables", ".timer",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    // As sqlite3 does, the usage goes to standard error with status 1.
    let r = shell(dir.path(), &["--help"], "");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(
        r.stderr
            .starts_with("Usage: sandlite [OPTIONS] [DATABASE] [SQL]..."),
        "{}",
        r.stderr
    );
    // sqlite3's version line: version, date, time, check-in hash.
    let version = ok(dir.path(), &["--version"], "");
    let words: Vec<&str> = version.split_whitespace().collect();
    assert_eq!(words.len(), 4, "{version}");
    assert_eq!(words[0], "3.49.1");
    assert!(words[1].starts_with("2025-"), "{version}");
    assert_eq!(words[3].len(), 64, "{version}");
    let r = shell(dir.path(), &["--frobnicate"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown option: --frobnicate"),
        "{}",
        r.stderr
    );
    let r = shell(dir.path(), &["missing-dir/x.db", "select 1"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("Error: unable to open database \"missing-dir/x.db\""),
        "{}",
        r.stderr
    );
}

#[test]
fn options_set_mode_and_headers() {
    let dir = tempdir();
    assert_eq!(
        ok(
            dir.path(),
            &["-csv", "-header", ":memory:", "select 'a b' as x, 1 as y"],
            ""
        ),
        "x,y\n\"a b\",1\n"
    );
    assert_eq!(
        ok(dir.path(), &["--table", ":memory:", "select 1 as x"], ""),
        "+---+\n| x |\n+---+\n| 1 |\n+---+\n"
    );
}

#[test]
fn non_utf8_input_is_an_error_not_a_panic() {
    let dir = tempdir();
    let mut child = runner_command(env!("CARGO_BIN_EXE_sandlite"))
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"select 1;\nselect '\xff';\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"1\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: near line 2: the line is not valid UTF-8\n"
    );
}

#[test]
fn file_commands_report_failures_and_keep_the_session() {
    let dir = tempdir();
    let r = shell(
        dir.path(),
        &[":memory:"],
        "create table t(x); insert into t values (1);
.output missing-dir/out.txt
.once missing-dir/out.txt
.open --append x.db
.open missing-dir/x.db
select count(*) from t;
.backup missing-dir/b.db
.restore missing.db
.open --bogus x.db
select 'still here';
",
    );
    assert_eq!(r.code, 1);
    // The in-memory database survived the failed .open.
    assert_eq!(r.stdout, "1\nstill here\n");
    // sqlite3's words: two lines for each file that cannot be written.
    let errors: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errors.len(), 9, "{}", r.stderr);
    for i in [0, 2] {
        assert_eq!(errors[i], "Error: cannot open \"missing-dir/out.txt\"");
        assert_eq!(
            errors[i + 1],
            "Error: cannot write to \"missing-dir/out.txt\""
        );
    }
    assert!(
        errors[4].contains(".open --append is not supported"),
        "{}",
        r.stderr
    );
    assert!(
        errors[5].contains("unable to open database \"missing-dir/x.db\""),
        "{}",
        r.stderr
    );
    assert!(
        errors[7].contains("cannot open \"missing.db\""),
        "{}",
        r.stderr
    );
    assert_eq!(errors[8], "unknown option: --bogus");
    assert!(!dir.path().join("missing-dir").exists());
}

/// A command running `program`, through the emulator named by `SANDLITE_TEST_RUNNER`
/// when it is set: CI sets it to `qemu-aarch64-static` for the aarch64 tests, whose
/// child processes (this test binary again, the `sandlite` binary) the x86-64 machine
/// cannot execute directly (no binfmt_misc registration in CI's container).
fn runner_command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    match std::env::var_os("SANDLITE_TEST_RUNNER").filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut command = std::process::Command::new(runner);
            command.arg(program);
            command
        }
        None => std::process::Command::new(program),
    }
}

/// The shell keeps SQLite's machine code in `$XDG_CACHE_HOME/sandlite` (compiler only):
/// a second run loads it; `-no-cache` compiles and stores nothing.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn the_code_cache_serves_the_second_run_and_no_cache_bypasses_it() {
    let dir = tempdir();
    let cache = dir.path().join("xdg");
    let run_with = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sandlite"));
        command
            .env("XDG_CACHE_HOME", &cache)
            .env("SANDLITE_COMPILE_STATS", "1")
            .env("SANDLITE_STRATEGY", "compiler");
        run(command, dir.path(), args, "")
    };
    let loaded = "loaded from the code cache";
    let r = run_with(&["-no-cache", ":memory:", "SELECT 6*7"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "42\n"), "{}", r.stderr);
    assert!(!r.stderr.contains(loaded), "{}", r.stderr);
    assert!(!cache.exists(), "-no-cache wrote {}", cache.display());
    let first = run_with(&[":memory:", "SELECT 6*7"]);
    assert_eq!((first.code, first.stdout.as_str()), (0, "42\n"));
    assert!(!first.stderr.contains(loaded), "{}", first.stderr);
    let entries = std::fs::read_dir(cache.join("sandlite")).unwrap().count();
    assert_eq!(entries, 1);
    let second = run_with(&[":memory:", "SELECT 6*7"]);
    assert_eq!((second.code, second.stdout.as_str()), (0, "42\n"));
    assert!(second.stderr.contains(loaded), "{}", second.stderr);
}

#[test]
fn output_into_a_command_that_stops_reading_does_not_end_the_shell() {
    let dir = tempdir();
    let script = ".output |head -1
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) SELECT x FROM c;
.output
SELECT 'still here';
";
    let r = shell(dir.path(), &[":memory:"], script);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "1\nstill here\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn sqliterc_is_read_first_unless_init_names_another_file() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join(".sqliterc"),
        ".headers on\nselect 'from rc' as rc;\n",
    )
    .unwrap();
    // As in sqlite3: read for every run (not only at a terminal), before the options
    // and the SQL, silently unless interactive.
    assert_eq!(
        ok(dir.path(), &[":memory:", "select 1 as a"], ""),
        "rc\nfrom rc\na\n1\n"
    );
    let r = shell(
        dir.path(),
        &["-interactive", ":memory:"],
        "select 2 as b;\n",
    );
    assert_eq!(
        r.stderr,
        format!(
            "-- Loading resources from {}/.sqliterc\n",
            dir.path().display()
        )
    );
    assert!(r.stdout.contains("rc\nfrom rc\n") && r.stdout.contains("b\n2\n"));
    // -init replaces it; a missing -init file is reported in sqlite3's words, and
    // -bail (known while the file is read) stops there, as in sqlite3.
    std::fs::write(dir.path().join("other.sql"), "select 'other';\n").unwrap();
    assert_eq!(
        ok(
            dir.path(),
            &["-init", "other.sql", ":memory:", "select 3"],
            ""
        ),
        "other\n3\n"
    );
    let r = shell(
        dir.path(),
        &["-init", "none.sql", ":memory:", "select 4"],
        "",
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("4\n", "cannot open: \"none.sql\"\n")
    );
    std::fs::write(dir.path().join(".sqliterc"), "selec;\nselect 'rest';\n").unwrap();
    let r = shell(dir.path(), &["-bail", ":memory:", "select 5"], "");
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(
        r.stderr.starts_with("Parse error near line 1: "),
        "{}",
        r.stderr
    );
}
