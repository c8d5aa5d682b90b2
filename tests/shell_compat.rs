//! The `sandlite` shell against the `sqlite3` CLI installed on the machine: for each
//! output mode, command-line option and dot-command, both run the same input in fresh
//! directories of their own, and their standard output, the files they write, whether
//! they failed and whether they wrote to standard error must agree.
//!
//! For SQL that fails, the error reports on standard error and the exit status must be
//! the same too, byte for byte ([`compare_errors`]).
//!
//! The installed `sqlite3` may be older than our SQLite (Debian 12 has 3.40.1, we run
//! 3.49.1): the inputs stay where the two versions print the same (no reals needing
//! more than 15 digits in quote and insert modes, where 3.40's printf was inexact, and
//! only errors whose SQLite messages the two versions share). Dot-commands' misuse is
//! reported in the installed sqlite3's words ([`dot_command_misuse_words_as_sqlite3`]). Without `/usr/bin/sqlite3` every test says so and
//! passes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const SQLITE3: &str = "/usr/bin/sqlite3";

/// What one shell did.
#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    /// The files asked for, in order (missing: `None`).
    files: Vec<Option<String>>,
    success: bool,
    wrote_stderr: bool,
}

fn run_in(dir: &Path, program: &str, args: &[&str], stdin: &str, files: &[&str]) -> Outcome {
    run_full(dir, program, args, stdin, files).0
}

/// What one shell did, with its standard error and exit status.
fn run_full(
    dir: &Path,
    program: &str,
    args: &[&str],
    stdin: &str,
    files: &[&str],
) -> (Outcome, String, Option<i32>) {
    let mut child = Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Neither shell reads a start-up file of the person running the tests.
        .env("HOME", dir)
        // Sandlite's code cache stays out of `dir` (sqlite3 ignores this).
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sandlite-test-cache"),
        )
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("wait");
    let shown = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes).replace(dir.to_str().expect("UTF-8 temp dir"), "DIR")
    };
    let outcome = Outcome {
        stdout: shown(&output.stdout),
        files: files
            .iter()
            .map(|f| std::fs::read(dir.join(f)).ok().map(|b| shown(&b)))
            .collect(),
        success: output.status.success(),
        wrote_stderr: !output.stderr.is_empty(),
    };
    (outcome, shown(&output.stderr), output.status.code())
}

/// Runs both shells on the same arguments and input, each in a fresh directory holding
/// `bad.sql` (a script with a parse and a runtime error), and requires the same
/// standard error, byte for byte, and the same exit status; with `stdout`, the same
/// outcome as [`compare`] too (at `-interactive` the prompts differ).
fn compare_errors(args: &[&str], stdin: &str, stdout: bool) {
    if !Path::new(SQLITE3).exists() {
        eprintln!("{SQLITE3} is not installed: skipping the comparison");
        return;
    }
    let run = |program: &str| {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("bad.sql"),
            "SELECT 'a';\n\n-- a comment\nSELECT nope,\n  2;\nCREATE TABLE u(x UNIQUE);\n\
             INSERT INTO u VALUES (1);\nINSERT INTO u VALUES (1);\nSELECT 'b';\n",
        )
        .expect("write bad.sql");
        run_full(dir.path(), program, args, stdin, &[])
    };
    let (theirs, theirs_err, theirs_code) = run(SQLITE3);
    let (ours, ours_err, ours_code) = run(env!("CARGO_BIN_EXE_sandlite"));
    assert_eq!(
        (ours_err.as_str(), ours_code),
        (theirs_err.as_str(), theirs_code),
        "sandlite (left) and sqlite3 (right) report differently for args {args:?}, input:\n{stdin}"
    );
    if stdout {
        assert_eq!(ours, theirs, "args {args:?}, input:\n{stdin}");
    }
}

/// Runs `sqlite3` and `sandlite` on the same arguments and input, each in a fresh
/// directory prepared by `setup`, and requires the same outcome; returns ours.
fn compare_with(
    setup: &dyn Fn(&Path),
    args: &[&str],
    stdin: &str,
    files: &[&str],
) -> Option<Outcome> {
    if !Path::new(SQLITE3).exists() {
        eprintln!("{SQLITE3} is not installed: skipping the comparison");
        return None;
    }
    let theirs_dir = tempfile::tempdir().expect("temp dir");
    let ours_dir = tempfile::tempdir().expect("temp dir");
    setup(theirs_dir.path());
    setup(ours_dir.path());
    let theirs = run_in(theirs_dir.path(), SQLITE3, args, stdin, files);
    let ours = run_in(
        ours_dir.path(),
        env!("CARGO_BIN_EXE_sandlite"),
        args,
        stdin,
        files,
    );
    assert_eq!(
        ours, theirs,
        "sandlite (left) and sqlite3 (right) differ for args {args:?}, input:\n{stdin}"
    );
    Some(ours)
}

fn compare(args: &[&str], stdin: &str) -> Option<Outcome> {
    compare_with(&|_| {}, args, stdin, &[])
}

/// A table with the values that show the differences between modes: integers, reals,
/// NULL, quotes, markup characters, a line break, a tab, non-ASCII text.
const DATA: &str = "CREATE TABLE t(a, b, c);
INSERT INTO t VALUES (1, 'plain', 2.5), (NULL, 'it''s \"q\"', -7),
  ('<a&b>', 'two
lines', 0.5), ('é', 'x' || char(9) || 'y', NULL), (12345, '', 1e10);
";

fn mode_case(mode: &str) {
    for headers in ["on", "off"] {
        let input = format!(".headers {headers}\n.mode {mode}\n{DATA}SELECT * FROM t;\n");
        compare(&[], &input);
    }
}

#[test]
fn mode_box() {
    mode_case("box");
}

#[test]
fn mode_markdown() {
    mode_case("markdown");
}

#[test]
fn mode_line() {
    mode_case("line");
}

#[test]
fn mode_insert() {
    mode_case("insert");
    compare(
        &[],
        &format!(
            "{DATA}.mode insert target\nSELECT * FROM t;\n.mode insert \"odd name\"\nSELECT 1;\n"
        ),
    );
}

#[test]
fn mode_quote() {
    mode_case("quote");
}

#[test]
fn mode_tabs() {
    mode_case("tabs");
}

#[test]
fn mode_html() {
    mode_case("html");
}

#[test]
fn mode_csv_ends_rows_with_crlf() {
    mode_case("csv");
    if let Some(ours) = compare(&[":memory:", ".mode csv", "SELECT 1, 2"], "") {
        assert_eq!(ours.stdout, "1,2\r\n");
    }
}

#[test]
fn mode_list_column_table() {
    mode_case("list");
    mode_case("column");
    mode_case("table");
}

#[test]
fn columnar_modes_wrap_at_60_characters() {
    let long = "SELECT printf('%.70c', 'x') AS a, 'y' AS b;\n";
    for mode in ["box", "table", "markdown", "column"] {
        compare(&[], &format!(".mode {mode}\n{long}"));
        compare(&[&format!("-{mode}"), ":memory:"], long);
    }
}

#[test]
fn mode_query_shows_the_current_mode() {
    compare(&[], ".mode\n.mode box\n.mode\n.mode tabs\n.mode\n");
    compare(&["-table", ":memory:"], ".mode\n.show\n");
    // A columnar result gives .width an entry for each column (sqlite3 does so).
    compare(&[], ".mode column\nSELECT 1, 2, 3;\n.show\n");
}

#[test]
fn mode_wrap_options() {
    compare(
        &[],
        ".mode box --wrap 5\nSELECT 'abcdefghijkl' AS a;\n.mode\n.mode --wrap 3\n.show\n\
         SELECT 'abcdefg';\n.mode table --wrap 0 --noquote\nSELECT printf('%.70c', 'x');\n\
         .mode markdown --wordwrap off\n.mode\n.show\n",
    );
}

fn option_case(option: &[&str]) {
    let mut args = option.to_vec();
    args.extend([":memory:", DATA, "SELECT * FROM t"]);
    compare(&args, "");
    let mut args = option.to_vec();
    args.push(":memory:");
    compare(&args, &format!("{DATA}SELECT * FROM t;\n"));
}

#[test]
fn option_line() {
    option_case(&["-line"]);
}

#[test]
fn option_box() {
    option_case(&["-box"]);
}

#[test]
fn option_markdown() {
    option_case(&["-markdown"]);
}

#[test]
fn option_html() {
    option_case(&["-html"]);
    option_case(&["-html", "-header"]);
}

#[test]
fn option_tabs() {
    option_case(&["-tabs"]);
    option_case(&["-tabs", "-separator", ";"]);
}

#[test]
fn option_quote() {
    option_case(&["-quote"]);
    option_case(&["-header", "-quote"]);
}

#[test]
fn option_separator_in_order_with_modes() {
    option_case(&["-separator", ";"]);
    option_case(&["-separator", ";", "-csv"]);
    option_case(&["-csv", "-separator", ";"]);
    option_case(&["-separator", ";", "-quote"]);
}

#[test]
fn option_nullvalue() {
    option_case(&["-nullvalue", "NULL"]);
    option_case(&["-nullvalue", "-", "-column"]);
}

#[test]
fn option_cmd() {
    option_case(&["-cmd", ".mode box"]);
    // Later options win over an earlier -cmd, as in sqlite3.
    option_case(&["-cmd", ".mode box", "-line"]);
    compare(&["-cmd", "SELECT 5", ":memory:", "SELECT 6"], "");
    compare(
        &["-cmd", "SELECT 5", "-cmd", ".print x", ":memory:"],
        "SELECT 6;\n",
    );
}

#[test]
fn option_init() {
    let setup = |dir: &Path| {
        std::fs::write(
            dir.join("init.sql"),
            ".headers on\nCREATE TABLE t(x);\nINSERT INTO t VALUES (1);\n",
        )
        .unwrap();
    };
    compare_with(
        &setup,
        &["-init", "init.sql", ":memory:"],
        "SELECT x FROM t;\n",
        &[],
    );
    compare_with(
        &setup,
        &["-init", "init.sql", ":memory:", "SELECT x + 1 AS y FROM t"],
        "",
        &[],
    );
}

#[test]
fn option_batch() {
    option_case(&["-batch"]);
    compare(&["-batch", ":memory:"], "SELECT 1;\nSELEC 2;\nSELECT 3;\n");
}

#[test]
fn option_bail() {
    let script = "SELECT 1;\nSELECT nosuch;\nSELECT 3;\n";
    compare(&[":memory:"], script);
    compare(&["-bail", ":memory:"], script);
    compare(&["-bail", ":memory:"], ".bogus\nSELECT 3;\n");
}

#[test]
fn option_echo() {
    compare(
        &["-echo", ":memory:"],
        "SELECT 1;\n.print hi\n  SELECT 2;   SELECT\n 3;\n",
    );
    compare(&["-echo", ":memory:", "SELECT 1;"], "");
}

#[test]
fn option_readonly() {
    let setup = |dir: &Path| {
        let status = Command::new(SQLITE3)
            .current_dir(dir)
            .args(["db", "CREATE TABLE t(x); INSERT INTO t VALUES (42)"])
            .status()
            .expect("sqlite3");
        assert!(status.success());
    };
    compare_with(&setup, &["-readonly", "db", "SELECT x FROM t"], "", &[]);
    compare_with(
        &setup,
        &["-readonly", "db"],
        "INSERT INTO t VALUES (1);\nSELECT count(*) FROM t;\n",
        &[],
    );
}

#[test]
fn option_version() {
    // The versions differ: the shape of the line must not (version, date, time, hash).
    let shape = |out: &str| {
        let words: Vec<&str> = out.split_whitespace().collect();
        assert!(words.len() >= 4, "{out}");
        assert!(
            words[0].split('.').all(|n| n.parse::<u32>().is_ok()),
            "{out}"
        );
        assert_eq!(words[1].len(), "2025-02-18".len(), "{out}");
        assert_eq!(words[2].len(), "13:38:58".len(), "{out}");
        assert!(words[3].len() >= 40, "{out}");
    };
    let dir = tempfile::tempdir().unwrap();
    let ours = run_in(
        dir.path(),
        env!("CARGO_BIN_EXE_sandlite"),
        &["-version"],
        "",
        &[],
    );
    assert!(ours.success && !ours.wrote_stderr);
    shape(&ours.stdout);
    assert!(ours.stdout.starts_with("3.49.1 2025-"), "{}", ours.stdout);
    if Path::new(SQLITE3).exists() {
        let theirs = run_in(dir.path(), SQLITE3, &["-version"], "", &[]);
        shape(&theirs.stdout);
    }
}

#[test]
fn option_help_goes_to_stderr() {
    if let Some(ours) = compare(&["-help"], "") {
        assert_eq!((ours.success, ours.stdout.as_str()), (false, ""));
        assert!(ours.wrote_stderr);
    }
}

#[test]
fn dot_indexes() {
    compare(
        &[],
        "CREATE TABLE t(a UNIQUE, b);\nCREATE INDEX tb ON t(b);\nCREATE TABLE u(x);\n\
         CREATE INDEX ux ON u(x);\n.indexes\n.indexes t\n.indexes %u%\n.indexes nosuch\n",
    );
}

#[test]
fn dot_nullvalue() {
    compare(
        &[],
        ".nullvalue NIL\nSELECT NULL, 1;\n.mode csv\nSELECT NULL;\n.mode quote\nSELECT NULL;\n\
         .mode box\nSELECT NULL AS n;\n",
    );
}

#[test]
fn dot_separator() {
    compare(
        &[],
        ".separator ;\nSELECT 1, 2;\n.separator , ' xx'\nSELECT 1, 2;\n.separator \"\\t\"\n\
         SELECT 3, 4;\n.mode csv\n.separator ;\nSELECT 'a;b', 'c,d';\n",
    );
}

#[test]
fn dot_output() {
    compare_with(
        &|_| {},
        &[],
        "SELECT 1;\n.output out.txt\nSELECT 2;\n.print p\nSELECT 3;\n.output\nSELECT 4;\n",
        &["out.txt"],
    );
}

#[test]
fn dot_once() {
    compare_with(
        &|_| {},
        &[],
        ".once out.txt\nSELECT 1;\nSELECT 2;\n.once two.txt\n.print x\nSELECT 3;\n",
        &["out.txt", "two.txt"],
    );
}

#[test]
fn dot_output_and_once_pipe_into_a_command_and_write_a_bom() {
    compare_with(
        &|_| {},
        &[],
        "SELECT 0;\n.output |sort -r\nSELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3;\n\
         .print hi\n.output\nSELECT 4;\n.once '|tr a-z A-Z > up.txt'\nSELECT 'abc';\n\
         SELECT 5;\n.output | cat > all.txt\nSELECT 6;\n.output stdout\nSELECT 7;\n\
         .once --bom bom.txt\nSELECT 8;\n.output -bom bom2.txt\nSELECT 9;\n.output\n\
         .once --bom |cat\nSELECT 10;\n",
        &["up.txt", "all.txt", "bom.txt", "bom2.txt"],
    );
}

#[test]
fn dot_show() {
    compare(
        &[],
        ".show\n.headers on\n.mode csv\n.nullvalue x\n.width 1 -2 3\n.echo on\n.show\n\
         .mode box\n.separator \"\\t\" \"\\r\\n\"\n.show\n",
    );
    compare(&["-cmd", ".show", ":memory:"], "");
}

#[test]
fn dot_databases() {
    compare(&[], ".databases\n");
    compare(
        &["db"],
        ".databases\nATTACH 'other.db' AS aux;\n.databases\n",
    );
}

#[test]
fn dot_open() {
    compare_with(
        &|_| {},
        &[],
        "CREATE TABLE mem(x);\n.open a.db\n.tables\nCREATE TABLE t(x);\nINSERT INTO t VALUES (1);\n\
         .open b.db\n.tables\n.open a.db\nSELECT * FROM t;\n.open\n.tables\n\
         .open --readonly a.db\nINSERT INTO t VALUES (2);\nSELECT count(*) FROM t;\n",
        &[],
    );
}

#[test]
fn dot_backup() {
    compare_with(
        &|_| {},
        &[],
        "CREATE TABLE t(x);\nINSERT INTO t VALUES (1), (2);\n.backup bk.db\n.backup main bk2.db\n\
         .open bk.db\nSELECT * FROM t;\n.open bk2.db\nSELECT count(*) FROM t;\n",
        &[],
    );
}

#[test]
fn dot_restore() {
    compare_with(
        &|_| {},
        &[],
        "CREATE TABLE t(x);\nINSERT INTO t VALUES (7);\n.backup bk.db\nDROP TABLE t;\n\
         .restore bk.db\nSELECT * FROM t;\nDROP TABLE t;\n.restore main bk.db\nSELECT * FROM t;\n",
        &[],
    );
}

#[test]
fn dot_width() {
    let query = "SELECT 'abcdefg' AS a, 5 AS bbbbbbb, 'x' AS c;\n";
    for mode in ["column", "table", "box", "markdown"] {
        compare(
            &[],
            &format!(".mode {mode}\n.width 3 -4\n{query}.width 0 0 5\n{query}.width\n{query}"),
        );
    }
}

#[test]
fn dot_changes() {
    compare(
        &[],
        ".changes on\nCREATE TABLE t(a);\nINSERT INTO t VALUES (1), (2);\nSELECT * FROM t;\n\
         INSERT INTO t VALUES (3); INSERT INTO t VALUES (4);\n.changes off\nINSERT INTO t VALUES (5);\n",
    );
}

#[test]
fn dot_bail() {
    let script = "SELECT 1;\nSELECT nosuch;\nSELECT 3;\n";
    compare(&[], &format!(".bail on\n{script}"));
    compare(&[], &format!(".bail on\n.bail off\n{script}"));
}

#[test]
fn dot_echo() {
    compare(
        &[],
        ".echo on\nSELECT 1;\n.print hi\nSELECT 2; SELECT 3;\n.echo off\nSELECT 4;\n",
    );
}

#[test]
fn dot_print() {
    compare(&[], ".print a \"b  c\" 'd'\n.print\n.print one\n");
}

#[test]
fn dot_parameter() {
    compare(
        &[],
        ".parameter set :a 5\n.parameter set @b 'hi'\n.parameter set $c 1+2\n\
         .parameter set ?1 x'00ff'\n.parameter list\nSELECT :a, @b, $c, :zz, quote(?1);\n\
         .parameter unset :a\n.parameter list\nSELECT :a;\n.parameter clear\n.parameter list\n\
         .param init\n.tables\n.parameter set :t bare_word\nSELECT :t;\n",
    );
}

#[test]
fn dot_help_lists_every_command() {
    let Some(ours) = compare_help() else {
        return;
    };
    for command in [
        ".backup",
        ".bail",
        ".changes",
        ".databases",
        ".dump",
        ".echo",
        ".excel",
        ".exit",
        ".headers",
        ".help",
        ".import",
        ".indexes",
        ".mode",
        ".nullvalue",
        ".once",
        ".open",
        ".output",
        ".parameter",
        ".print",
        ".quit",
        ".read",
        ".restore",
        ".schema",
        ".separator",
        ".show",
        ".tables",
        ".timer",
        ".width",
    ] {
        assert!(ours.contains(command), "{command} missing from:\n{ours}");
    }
}

/// `.help` texts differ: both must list the commands.
fn compare_help() -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let ours = run_in(
        dir.path(),
        env!("CARGO_BIN_EXE_sandlite"),
        &[],
        ".help\n",
        &[],
    );
    assert!(ours.success && !ours.wrote_stderr);
    if Path::new(SQLITE3).exists() {
        let theirs = run_in(dir.path(), SQLITE3, &[], ".help\n", &[]);
        for line in ours.stdout.lines().filter(|l| l.starts_with('.')) {
            let command = line.split_whitespace().next().unwrap_or_default();
            assert!(
                theirs.stdout.contains(command),
                "{command} is not a sqlite3 command"
            );
        }
    }
    Some(ours.stdout)
}

#[test]
fn script_errors_go_on_and_fail_the_exit_status() {
    // (The SQL errors of scripts and arguments are in the tests below.) An unknown
    // dot-command, in sqlite3's words, and -bail stopping a `.read` and its reader.
    compare_errors(&[], "SELECT 1;\n.bogus\nSELECT 2;\n", true);
    compare_errors(&["-bail"], ".read bad.sql\nSELECT 'after';\n", true);
}

/// SQL given as arguments: `Error: in prepare, ...` with the excerpt from the failing
/// statement to the end of the argument, or `Error: stepping, ... (CODE)`; the exit
/// status is SQLite's result code.
#[test]
fn sql_argument_errors_word_and_exit_as_sqlite3() {
    let long = format!("SELECT {}nope, {}1", "1, ".repeat(20), "2, ".repeat(20));
    // (One process pair per case, so only the ones that differ in kind: the excerpt
    // running on to later statements, a runtime error's code, line breaks and a tab in
    // the excerpt, a long one scrolled.)
    for sql in [
        "SELECT 1; SELEC 2; SELECT 3",
        "CREATE TABLE t(a UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)",
        "SELECT 1;\n  SELECT nope,\n\t2;\nSELECT 3",
        &long,
    ] {
        compare_errors(&[":memory:", sql, "SELECT 'not reached'"], "", true);
    }
    // A dot-command argument, a `.read` of a script with errors, stops the arguments;
    // `-cmd` with `-bail` exits with the result code too.
    compare_errors(
        &[":memory:", ".read bad.sql", "SELECT 'not reached'"],
        "",
        true,
    );
    compare_errors(
        &[
            "-bail",
            "-cmd",
            "CREATE TABLE t(a CHECK (a > 0)); INSERT INTO t VALUES (0)",
        ],
        "SELECT 'not reached';\n",
        true,
    );
}

/// Scripts: `Parse error near line N: ...` and `Runtime error near line N: ... (CODE)`,
/// N the line the statement starts on (blank, comment-only, `;` and `#` lines start
/// none), its lines joined by spaces in the excerpt; at a terminal no line number.
#[test]
fn script_errors_word_as_sqlite3() {
    let script = "SELECT 1;\n\n-- note\n;\n# hash\n  SELECT nope,\n\t2; SELECT 3;\n\
                  CREATE TABLE t(a UNIQUE);\nINSERT INTO t VALUES (1);\n\
                  INSERT INTO t VALUES (1);\nSELECT 1;;\n;SELECT x;\n\
                  /* c */ SELEC 4;\n.read bad.sql\nSELECT 'end'";
    compare_errors(&[], script, true);
    compare_errors(&["-bail"], script, true);
    compare_errors(&["-echo"], script, true);
    // (Not a tab at the terminal: sqlite3's line editor would take it for completion.)
    compare_errors(
        &["-interactive", ":memory:"],
        &script.replace('\t', " "),
        false,
    );
}

/// Wrong usage of every dot-command, unknown and abbreviated names: the same standard
/// output, standard error and exit status as sqlite3's, byte for byte, in a script
/// (which goes on after each) and under `-bail` (which stops at the first).
#[test]
fn dot_command_misuse_words_as_sqlite3() {
    let cases = [
        ".mode bogus",
        ".mode",
        ".mode list x",
        ".mode insert t x",
        ".mode --wrap",
        ".mode --wrap x",
        ".mode --foo",
        ".mode list x --foo",
        ".mode c",
        ".mode ta",
        ".open --foo",
        ".open a b",
        ".width x",
        ".width 1 x -3 0x10 5k",
        ".bail maybe",
        ".bail",
        ".bail on off",
        ".echo x",
        ".headers",
        ".headers x",
        ".headers 2",
        ".changes x",
        ".timer x",
        ".timer",
        ".foo",
        ".foo bar",
        ".",
        ".output a b",
        ".once",
        ".once a b",
        ".once -w",
        ".once --plain",
        ".output --foo",
        ".once -x a",
        ".output off",
        ".import --skip x a b",
        ".import nofile t",
        ".nullvalue",
        ".nullvalue a b",
        ".separator",
        ".separator a b c",
        ".read",
        ".read a b",
        ".read nofile",
        ".backup",
        ".backup a b c",
        ".backup --foo x",
        ".restore",
        ".restore a b c",
        ".parameter",
        ".parameter foo",
        ".parameter set a",
        ".parameter unset",
        ".tables a b",
        ".schema a b",
        ".schema --foo",
        ".indexes a b",
        ".databases x",
        ".show x",
        ".print",
        ".output /nonexistent/x",
        ".once /nonexistent/x",
        ".sch",
        ".he on",
        ".mo csv",
        ".ta",
        ".sep ,",
        ".pa",
        ".tim on",
        ".ti",
        ".o out.txt",
    ];
    for case in cases {
        let input = format!("create table t(a);\n{case}\nselect 1;\n");
        compare_errors(&[], &input, true);
        compare_errors(&["-bail"], &input, true);
    }
    // `.exit` reads its code as sqlite3 does (`x` and 0 are `.quit`).
    for case in [
        ".exit x",
        ".exit 0",
        ".exit 3 4",
        ".exit 256",
        ".quit 5",
        ".ex 7",
    ] {
        compare_errors(&[], &format!("selec;\n{case}\nselect 1;\n"), true);
        compare_errors(&[], &format!("{case}\nselect 1;\n"), true);
    }
    // As SQL arguments too.
    compare_errors(&[":memory:", ".bail", "select 1"], "", true);
    compare_errors(&[":memory:", ".foo", "select 1"], "", true);
}

/// `.import` misuse: sqlite3's first line and exit status; the help entry after it
/// lists our options (sqlite3's has `--ascii`, `--schema`, `-v`).
#[test]
fn dot_import_misuse_words_as_sqlite3() {
    for case in [
        ".import",
        ".import a",
        ".import a b c",
        ".import --foo a b",
        ".import a b --skip",
    ] {
        let input = format!("{case}\nselect 1;\n");
        compare_errors(&[], &input, false);
        if !Path::new(SQLITE3).exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let theirs = run_in(dir.path(), SQLITE3, &[], &input, &[]);
        let ours = run_in(dir.path(), env!("CARGO_BIN_EXE_sandlite"), &[], &input, &[]);
        let first = |o: &Outcome| o.stdout.lines().take(2).collect::<Vec<_>>().join("\n");
        assert_eq!(first(&ours), first(&theirs), "{case}");
        assert!(ours.stdout.ends_with("\n1\n"), "{case}: {}", ours.stdout);
    }
}

/// A fake `xdg-open` first on `PATH` records each file it is given, with its
/// contents, in `opened.txt`; temporary files go to `$TEMP` (the test's directory).
fn run_with_opener(
    program: &str,
    stdin: &str,
    with_opener: bool,
) -> (String, String, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let temp = dir.path().join("temp");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let record = dir.path().join("opened.txt");
    if with_opener {
        let script = bin.join("xdg-open");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"opened $1\" >> '{0}'\ncat \"$1\" >> '{0}'\n",
                record.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut child = Command::new(program)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("HOME", dir.path())
        .env("PATH", path)
        .env("TEMP", &temp)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sandlite-test-cache"),
        )
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    // Temporary names are random: each shows as TEMPFILE.csv/.txt.
    let temp_name = mask_temp_names(&temp.display().to_string());
    let opened = std::fs::read_to_string(&record).unwrap_or_default();
    let left: Vec<_> = std::fs::read_dir(&temp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        temp_name(&String::from_utf8_lossy(&output.stderr)),
        temp_name(&opened),
        output.status.success() && left.len() <= 1,
    )
}

/// Replaces `DIR/temp<hex>.` (a temporary file's name in DIR) by `TEMPFILE.`.
fn mask_temp_names(dir: &str) -> impl Fn(&str) -> String + use<> {
    let prefix = format!("{dir}/temp");
    move |text: &str| {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(&prefix) {
            out.push_str(&rest[..at]);
            out.push_str("TEMPFILE");
            rest = rest[at + prefix.len()..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        out.push_str(rest);
        out
    }
}

/// `.once -x`, `.once -e`, `.output -x/-e`, `.excel` and `--bom`: the same files shown
/// with the same contents (CSV with CRLF and no echo for `-x`, the settings back
/// afterwards), the same output and reports as sqlite3, with the opener on `PATH` and
/// without it (`Failed: [xdg-open FILE]`, not an error).
#[test]
fn once_and_output_open_temporary_files_as_sqlite3() {
    if !Path::new(SQLITE3).exists() {
        eprintln!("{SQLITE3} is not installed: skipping the comparison");
        return;
    }
    let script = ".headers on\n.echo on\n.once -x\nselect 1 as a, 'x,y' as b;\nselect 3;\n\
                  .show\n.output -e\nselect 4;\n.once --bom -x\nselect 5;\n.excel\n\
                  select 6 as six;\n.o -e\nselect 7;\n.once -x -e\nselect 8;\n.mode\n";
    for with_opener in [true, false] {
        let theirs = run_with_opener(SQLITE3, script, with_opener);
        let ours = run_with_opener(env!("CARGO_BIN_EXE_sandlite"), script, with_opener);
        assert_eq!(ours, theirs, "with the opener: {with_opener}");
        if with_opener {
            assert!(
                ours.2.contains("opened TEMPFILE.csv\na,b\r\n1,\"x,y\"\r\n"),
                "{}",
                ours.2
            );
            assert!(
                ours.2.contains("opened TEMPFILE.txt\nselect 4;\n4\n4\n"),
                "{}",
                ours.2
            );
            assert!(ours.2.contains("\u{feff}5\r\n5\r\n"), "{}", ours.2);
        } else {
            assert!(
                ours.1.contains("Failed: [xdg-open TEMPFILE.csv]"),
                "{}",
                ours.1
            );
        }
    }
}
