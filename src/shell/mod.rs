//! The `sandlite` shell: reads SQL and dot-commands line by line, runs them on one
//! connection and prints the results the way the `sqlite3` command-line shell does.
//!
//! Errors: a script (standard input that is not a terminal, a command-line argument, a
//! `.read` file) stops at its first error; at a terminal the error is shown and the
//! shell goes on. Either way the exit status is 1 once any error has happened.

mod cputime;
mod csv;
mod dump;
mod input;
mod render;
mod sql_text;
mod values;

pub use input::MAX_STATEMENT_BYTES;
pub use render::Mode;

use input::Line;
use sandlite::{Connection, params_from_iter, signals};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::time::Instant;
use values::{Cell, quote_identifier};

/// How deep `.read` may nest (a file that reads itself stops here).
const MAX_READ_DEPTH: usize = 32;

const HELP: &str = "\
.dump ?TABLE?            Render the database (or tables LIKE TABLE) as SQL text
.exit ?CODE?             Exit, with status CODE if given
.headers on|off          Show column names in list and csv modes
.help                    Show this message
.import FILE TABLE       Import CSV data from FILE into TABLE (created from the
                           header row if missing). Options: --skip N
.mode MODE               Set the output mode: list, csv, column, table, json
.quit                    Exit
.read FILE               Run the SQL and dot-commands in FILE
.schema ?PATTERN?        Show the CREATE statements of tables LIKE PATTERN
.tables ?PATTERN?        List the tables and views LIKE PATTERN
.timer on|off            Print the run time of each statement
";

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// A statement from the input failed; `sql` is its text, which starts `start` bytes
    /// into the text being run.
    Sql {
        error: sandlite::Error,
        sql: String,
        start: usize,
    },
    /// A query the shell made for a dot-command failed.
    Db(sandlite::Error),
    /// A dot-command was misused, a file could not be read, ...
    Message(String),
    /// Writing standard output failed: nothing more can be shown.
    Output(io::Error),
    /// A `.read` file stopped at an error that has been reported already.
    Reported,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

impl From<sandlite::Error> for Failure {
    fn from(e: sandlite::Error) -> Failure {
        Failure::Db(e)
    }
}

fn message<T>(text: impl fmt::Display) -> Result<T, Failure> {
    Err(Failure::Message(text.to_string()))
}

/// SQLite's message alone (the driver's `Display` adds the offset, which the shell
/// shows as a caret instead).
fn error_text(error: &sandlite::Error) -> String {
    match error.sqlite_message() {
        Some(message) => message.to_owned(),
        None => error.to_string(),
    }
}

/// What ended a run over some input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The input ran out.
    Eof,
    /// `.quit` (no code) or `.exit CODE`.
    Quit(Option<i32>),
    /// A script stopped at an error.
    Bail,
}

/// Where input comes from, which decides prompts and what an error does.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// A person at a terminal: prompts, and errors do not stop the input.
    pub interactive: bool,
    /// Errors say which line of the input they are on.
    pub numbered: bool,
    /// The file name shown with line numbers (`None` for standard input).
    pub name: Option<&'a str>,
}

impl Source<'_> {
    /// A script read from standard input.
    pub const STDIN_SCRIPT: Source<'static> = Source {
        interactive: false,
        numbered: true,
        name: None,
    };
    /// A person typing at a terminal.
    pub const TERMINAL: Source<'static> = Source {
        interactive: true,
        numbered: false,
        name: None,
    };
    /// SQL given as a command-line argument.
    pub const ARGUMENT: Source<'static> = Source {
        interactive: false,
        numbered: false,
        name: None,
    };
}

/// The shell's state: the connection, the output and the settings dot-commands change.
pub struct Shell {
    conn: Connection,
    out: Box<dyn Write>,
    mode: Mode,
    headers: bool,
    /// `.headers` was given: `.mode column` no longer turns headers on.
    headers_set: bool,
    timer: bool,
    errors: usize,
    read_depth: usize,
}

impl Shell {
    pub fn new(conn: Connection, out: Box<dyn Write>) -> Shell {
        Shell {
            conn,
            out,
            mode: Mode::List,
            headers: false,
            headers_set: false,
            timer: false,
            errors: 0,
            read_depth: 0,
        }
    }

    /// How many errors have been reported.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// Sets the output mode (the command-line options; `.mode` may turn headers on).
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    pub fn set_headers(&mut self, on: bool) {
        self.headers = on;
        self.headers_set = true;
    }

    /// Writes to standard output (the banner).
    ///
    /// # Errors
    /// Failure to write.
    pub fn print(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// Flushes standard output.
    ///
    /// # Errors
    /// Failure to write.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Runs every line of `input`: SQL statements (accumulated until SQLite says they
    /// are complete) and dot-commands (a line starting with `.` where a new statement
    /// would start).
    ///
    /// # Errors
    /// Only failure to write standard output; everything else is reported on standard
    /// error and counted.
    pub fn process(&mut self, input: &mut dyn BufRead, source: Source<'_>) -> io::Result<Flow> {
        let mut buffer = String::new();
        // The input line where `buffer` starts.
        let mut buffer_line = 0;
        let mut line_number = 0;
        let mut raw = Vec::new();
        loop {
            if source.interactive {
                let prompt = if buffer.is_empty() {
                    "sandlite> "
                } else {
                    "   ...> "
                };
                self.print(prompt)?;
            }
            raw.clear();
            let room = MAX_STATEMENT_BYTES - buffer.len();
            match input::read_line(input, &mut raw, room) {
                Ok(Line::Eof) => break,
                Ok(Line::Read) => line_number += 1,
                Ok(Line::TooLong) => {
                    line_number += 1;
                    let what = if buffer.is_empty() {
                        "line"
                    } else {
                        "statement"
                    };
                    let failure = Failure::Message(format!(
                        "{what} longer than {MAX_STATEMENT_BYTES} bytes (the shell's limit)"
                    ));
                    let at = if buffer.is_empty() {
                        line_number
                    } else {
                        buffer_line
                    };
                    if self.fail(failure, source, Some(at))? {
                        return Ok(Flow::Bail);
                    }
                    // At a terminal: drop the statement and the rest of the line.
                    buffer.clear();
                    input::skip_line(input)?;
                    continue;
                }
                Ok(Line::Interrupted) => {
                    if !source.interactive {
                        let failure = Failure::Message("interrupted".into());
                        self.fail(failure, source, Some(line_number + 1))?;
                        return Ok(Flow::Bail);
                    }
                    // Ctrl-C at the prompt drops what was typed; twice in a row exits,
                    // as in sqlite3.
                    self.print("\n")?;
                    if signals::pending() >= 2 {
                        return Ok(Flow::Quit(Some(1)));
                    }
                    buffer.clear();
                    continue;
                }
                Err(e) => {
                    let failure = Failure::Message(format!("cannot read input: {e}"));
                    self.fail(failure, source, Some(line_number + 1))?;
                    return Ok(Flow::Bail);
                }
            }
            // A line was read: an earlier Ctrl-C at the prompt is forgotten.
            if source.interactive {
                signals::take();
            }
            let Ok(line) = std::str::from_utf8(&raw) else {
                let failure = Failure::Message("the line is not valid UTF-8".into());
                if self.fail(failure, source, Some(line_number))? {
                    return Ok(Flow::Bail);
                }
                continue;
            };
            if buffer.is_empty() {
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                if trimmed.starts_with('.') {
                    let done = self.dot_command(trimmed);
                    if source.interactive {
                        // A Ctrl-C that interrupted the command (a `.read` script, say)
                        // is used up.
                        signals::take();
                    }
                    match done {
                        Ok(None) => {}
                        Ok(Some(flow)) => return Ok(flow),
                        Err(failure) => {
                            if self.fail(failure, source, Some(line_number))? {
                                return Ok(Flow::Bail);
                            }
                        }
                    }
                    continue;
                }
                buffer_line = line_number;
            }
            if buffer.try_reserve(line.len()).is_err() {
                let failure = Failure::Message("out of memory".into());
                if self.fail(failure, source, Some(buffer_line))? {
                    return Ok(Flow::Bail);
                }
                buffer.clear();
                continue;
            }
            buffer.push_str(line);
            // Only a line with a `;` can complete a statement: this keeps long
            // multi-line statements from being re-checked on every line.
            if line.contains(';') && self.conn.is_complete(&buffer).unwrap_or(true) {
                let result = self.run_sql(&buffer);
                if source.interactive {
                    // A Ctrl-C that interrupted the statement is used up.
                    signals::take();
                }
                let text = std::mem::take(&mut buffer);
                if let Err(failure) = result
                    && self.fail_in(failure, source, &text, buffer_line)?
                {
                    return Ok(Flow::Bail);
                }
            }
        }
        // Whatever is left at the end runs as it is (a last statement may lack its `;`).
        if !sql_text::only_comments(&buffer)
            && let Err(failure) = self.run_sql(&buffer)
            && self.fail_in(failure, source, &buffer, buffer_line)?
        {
            return Ok(Flow::Bail);
        }
        if source.interactive {
            self.print("\n")?;
        }
        Ok(Flow::Eof)
    }

    /// Reports a failure of SQL text `text` that starts on input line `first_line`.
    fn fail_in(
        &mut self,
        failure: Failure,
        source: Source<'_>,
        text: &str,
        first_line: usize,
    ) -> io::Result<bool> {
        let line = match &failure {
            Failure::Sql { error, sql, start } => {
                let before = &text[..*start];
                let within = error
                    .sql_offset()
                    .and_then(|o| sql.get(..o.min(sql.len())))
                    .unwrap_or("");
                first_line + before.matches('\n').count() + within.matches('\n').count()
            }
            _ => first_line,
        };
        self.fail(failure, source, Some(line))
    }

    /// Reports a failure on standard error and counts it; returns `true` when the
    /// input must stop (a script).
    ///
    /// # Errors
    /// A failure to write standard output is passed on: nothing more can be shown.
    fn fail(
        &mut self,
        failure: Failure,
        source: Source<'_>,
        line: Option<usize>,
    ) -> io::Result<bool> {
        // Results printed so far come before the error.
        self.out.flush()?;
        let location = match (source.numbered, line, source.name) {
            (true, Some(n), Some(name)) => format!("near line {n} of {name}: "),
            (true, Some(n), None) => format!("near line {n}: "),
            _ => String::new(),
        };
        let mut report = String::new();
        match failure {
            Failure::Output(e) => return Err(e),
            Failure::Reported => {}
            Failure::Sql { error, sql, .. } => {
                report = format!("Error: {location}{}\n", error_text(&error));
                if let Some(offset) = error.sql_offset() {
                    let (excerpt, caret) = sql_text::error_excerpt(&sql, offset);
                    report.push_str(&format!("  {excerpt}\n  {caret}\n"));
                }
            }
            Failure::Db(error) => report = format!("Error: {location}{}\n", error_text(&error)),
            Failure::Message(text) => report = format!("Error: {location}{text}\n"),
        }
        if !report.is_empty() {
            self.errors += 1;
            let _ = io::stderr().write_all(report.as_bytes());
        }
        Ok(!source.interactive)
    }

    /// Runs every statement in `text`, stopping at the first error. Statements are found
    /// one at a time: no list of them is made, whatever the text holds.
    fn run_sql(&mut self, text: &str) -> Result<(), Failure> {
        let mut at = 0;
        loop {
            let conn = &self.conn;
            let Some(found) = sql_text::first_statement(&text[at..], |s| conn.is_complete(s))?
            else {
                return Ok(());
            };
            let range = at + found.start..at + found.end;
            at = range.end;
            self.run_one(text, range)?;
        }
    }

    /// Runs the statement at `range` of `text`.
    fn run_one(&mut self, text: &str, range: std::ops::Range<usize>) -> Result<(), Failure> {
        let segment = &text[range.clone()];
        let sql = segment.trim_start();
        let start = range.start + (segment.len() - sql.len());
        self.run_statement(sql).map_err(|failure| match failure {
            Failure::Db(error) => Failure::Sql {
                error,
                sql: sql.to_owned(),
                start,
            },
            other => other,
        })?;
        // Ctrl-C after the statement's last step still stops what follows.
        if signals::pending() > 0 {
            return message("interrupted");
        }
        Ok(())
    }

    /// Runs one statement and prints its rows in the current mode.
    fn run_statement(&mut self, sql: &str) -> Result<(), Failure> {
        let started = Instant::now();
        let cpu_before = cputime::cpu_times();
        {
            // Ctrl-C interrupts the statement (through the connection's interrupt
            // handle, see main.rs); a third one while it runs ends the shell.
            let _busy = signals::busy();
            let mut stmt = self.conn.prepare(sql)?;
            let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
            let count = columns.len();
            let mut renderer = render::Renderer::new(self.mode, self.headers, columns);
            let mut rows = stmt.raw_query();
            let mut cells = Vec::with_capacity(count);
            loop {
                if signals::pending() > 0 {
                    renderer.finish(&mut *self.out)?;
                    return message("interrupted");
                }
                match rows.next() {
                    Ok(Some(row)) if count > 0 => {
                        cells.clear();
                        for i in 0..count {
                            cells.push(row.get::<_, Cell>(i)?);
                        }
                        match renderer.row(&mut *self.out, &cells) {
                            Ok(()) => {}
                            Err(render::RowError::Output(e)) => return Err(e.into()),
                            Err(render::RowError::TooLarge { rows }) => {
                                return message(format!(
                                    "result too large for {} mode: it lays out at most \
                                     {} bytes, the first {rows} rows shown above \
                                     (list, csv and json modes stream any number of rows)",
                                    self.mode.name(),
                                    render::MAX_LAYOUT_BYTES
                                ));
                            }
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        renderer.finish(&mut *self.out)?;
                        return Err(e.into());
                    }
                }
            }
            renderer.finish(&mut *self.out)?;
        }
        if self.timer {
            let real = started.elapsed().as_secs_f64();
            let line = match (cpu_before, cputime::cpu_times()) {
                (Some((u0, s0)), Some((u1, s1))) => format!(
                    "Run Time: real {real:.3} user {:.6} sys {:.6}\n",
                    u1.saturating_sub(u0).as_secs_f64(),
                    s1.saturating_sub(s0).as_secs_f64()
                ),
                _ => format!("Run Time: real {real:.3}\n"),
            };
            self.out.write_all(line.as_bytes())?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Runs one dot-command line; `Some` when it ends the input.
    fn dot_command(&mut self, line: &str) -> Result<Option<Flow>, Failure> {
        let args = split_args(&line[1..])?;
        let Some(command) = args.first() else {
            return message("a dot-command needs a name (enter \".help\" for a list)");
        };
        let rest = &args[1..];
        match command.as_str() {
            "quit" | "exit" => {
                let code = match rest.first() {
                    Some(code) if command == "exit" => match code.parse() {
                        Ok(code) => Some(code),
                        Err(_) => return message(format!("not an exit code: {code}")),
                    },
                    _ => None,
                };
                return Ok(Some(Flow::Quit(code)));
            }
            "help" => self.out.write_all(HELP.as_bytes())?,
            "tables" => self.tables(rest.first().map(String::as_str))?,
            "schema" => self.schema(rest.first().map(String::as_str))?,
            "dump" => {
                let result =
                    dump::dump(&self.conn, &mut *self.out, rest.first().map(String::as_str));
                self.out.flush()?;
                result?;
            }
            "mode" => match rest.first() {
                None => writeln!(self.out, "current output mode: {}", self.mode.name())?,
                Some(name) => match Mode::parse(name) {
                    Some(mode) => {
                        // As in sqlite3: `.mode column` shows headers unless `.headers`
                        // said otherwise.
                        self.mode = mode;
                        if matches!(mode, Mode::Column | Mode::Table) && !self.headers_set {
                            self.headers = true;
                        }
                    }
                    None => {
                        return message(format!(
                            "unknown mode \"{name}\"; choose one of: {}",
                            Mode::NAMES
                        ));
                    }
                },
            },
            "headers" | "header" => {
                let on = switch(command, rest)?;
                self.set_headers(on);
            }
            "timer" => self.timer = switch(command, rest)?,
            "read" => {
                let [file] = rest else {
                    return message("usage: .read FILE");
                };
                return self.read_file(file);
            }
            "import" => self.import(rest)?,
            other => {
                return message(format!(
                    "unknown command \".{other}\" (enter \".help\" for a list)"
                ));
            }
        }
        self.out.flush()?;
        Ok(None)
    }

    fn read_file(&mut self, path: &str) -> Result<Option<Flow>, Failure> {
        if self.read_depth >= MAX_READ_DEPTH {
            return message(format!(".read nested more than {MAX_READ_DEPTH} deep"));
        }
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return message(format!("cannot open \"{path}\": {e}")),
        };
        let source = Source {
            interactive: false,
            numbered: true,
            name: Some(path),
        };
        self.read_depth += 1;
        let flow = self.process(&mut io::BufReader::new(file), source);
        self.read_depth -= 1;
        match flow? {
            Flow::Eof => Ok(None),
            Flow::Quit(code) => Ok(Some(Flow::Quit(code))),
            Flow::Bail => Err(Failure::Reported),
        }
    }

    /// The schemas of the connection: `main`, `temp`, attached ones.
    fn schemas(&self) -> Result<Vec<String>, Failure> {
        let mut stmt = self.conn.prepare("PRAGMA database_list")?;
        let names = stmt
            .query_map([], |r| r.get(1))?
            .collect::<Result<_, _>>()?;
        Ok(names)
    }

    fn tables(&mut self, pattern: Option<&str>) -> Result<(), Failure> {
        let mut names: Vec<String> = Vec::new();
        for schema in self.schemas()? {
            let sql = format!(
                "SELECT name FROM {}.sqlite_schema WHERE type IN ('table', 'view') \
                 AND name NOT LIKE 'sqlite_%' AND name LIKE ?1 ORDER BY 1",
                quote_identifier(&schema)
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let found: Vec<String> = stmt
                .query_map([pattern.unwrap_or("%")], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let prefix = if schema == "main" {
                String::new()
            } else {
                format!("{schema}.")
            };
            names.extend(found.into_iter().map(|n| format!("{prefix}{n}")));
        }
        if names.is_empty() {
            return Ok(());
        }
        // Column-major in lines of at most 80 characters, like sqlite3.
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let per_line = (80 / (width + 2)).max(1);
        let lines = names.len().div_ceil(per_line);
        for i in 0..lines {
            let mut text = String::new();
            for (k, name) in names.iter().skip(i).step_by(lines).enumerate() {
                if k > 0 {
                    text.push_str("  ");
                }
                text.push_str(name);
                text.push_str(&" ".repeat(width - name.chars().count()));
            }
            writeln!(self.out, "{text}")?;
        }
        Ok(())
    }

    fn schema(&mut self, pattern: Option<&str>) -> Result<(), Failure> {
        for schema in self.schemas()? {
            let sql = format!(
                "SELECT sql FROM {}.sqlite_schema \
                 WHERE sql NOT NULL AND (?1 IS NULL OR tbl_name LIKE ?1) ORDER BY rowid",
                quote_identifier(&schema)
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let mut rows = stmt.query([pattern])?;
            while let Some(row) = rows.next()? {
                let sql: String = row.get(0)?;
                writeln!(self.out, "{sql};")?;
            }
        }
        Ok(())
    }

    /// `.import FILE TABLE [--skip N] [--csv]`, all in one savepoint: on error nothing
    /// (not even a created table) remains.
    fn import(&mut self, args: &[String]) -> Result<(), Failure> {
        let usage = "usage: .import FILE TABLE [--skip N]";
        let mut positional = Vec::new();
        let mut skip = 0;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--csv" => {}
                "--skip" => {
                    skip = match args.next().map(|n| n.parse::<usize>()) {
                        Some(Ok(n)) => n,
                        _ => return message(usage),
                    }
                }
                option if option.starts_with("--") => {
                    return message(format!("unknown .import option {option}; {usage}"));
                }
                _ => positional.push(arg.as_str()),
            }
        }
        let &[file, table] = positional.as_slice() else {
            return message(usage);
        };
        let handle = match std::fs::File::open(file) {
            Ok(f) => f,
            Err(e) => return message(format!("cannot open \"{file}\": {e}")),
        };
        // Streamed record by record: a file of any size needs the memory of its longest
        // record only.
        let mut records = csv::Reader::new(io::BufReader::new(handle), MAX_STATEMENT_BYTES);
        self.conn.execute_batch("SAVEPOINT sandlite_import")?;
        let result = self.import_records(file, table, &mut records, skip);
        let end = if result.is_ok() {
            "RELEASE sandlite_import"
        } else {
            "ROLLBACK TO sandlite_import; RELEASE sandlite_import"
        };
        let ended = self.conn.execute_batch(end);
        result?;
        ended?;
        Ok(())
    }

    fn import_records(
        &mut self,
        file: &str,
        table: &str,
        records: &mut csv::Reader<impl BufRead>,
        skip: usize,
    ) -> Result<(), Failure> {
        let next = |records: &mut csv::Reader<_>| match records.next_record() {
            Ok(r) => Ok(r),
            Err(e) => message(format!("{file}: {e}")),
        };
        for _ in 0..skip {
            if next(records)?.is_none() {
                break;
            }
        }
        let (existing, _) = dump::insertable_columns(&self.conn, table)?;
        let columns = if existing.is_empty() {
            let Some(header) = next(records)? else {
                return message(format!(
                    "{file} is empty: no header row to create table {table} from"
                ));
            };
            let names = column_names(header.fields);
            let definitions: Vec<String> = names
                .iter()
                .map(|n| format!("{} TEXT", quote_identifier(n)))
                .collect();
            self.conn.execute_batch(&format!(
                "CREATE TABLE {}({})",
                quote_identifier(table),
                definitions.join(", ")
            ))?;
            names
        } else {
            existing
        };
        let count = columns.len();
        let quoted: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
        let mut stmt = self.conn.prepare(&format!(
            "INSERT INTO {}({}) VALUES({})",
            quote_identifier(table),
            quoted.join(", "),
            vec!["?"; count].join(", ")
        ))?;
        while let Some(record) = next(records)? {
            let found = record.fields.len();
            if found != count {
                let what = if found < count {
                    "filling the rest with NULL"
                } else {
                    "extras ignored"
                };
                let _ = writeln!(
                    io::stderr(),
                    "{file}:{}: expected {count} columns but found {found} - {what}",
                    record.line
                );
            }
            let values: Vec<Option<&str>> = (0..count)
                .map(|i| record.fields.get(i).map(String::as_str))
                .collect();
            if let Err(e) = stmt.execute(params_from_iter(values)) {
                return message(format!("{file}:{}: {}", record.line, error_text(&e)));
            }
            if signals::pending() > 0 {
                return message(format!("{file}:{}: interrupted", record.line));
            }
        }
        Ok(())
    }
}

/// Column names for a new table from a CSV header: empty names become `cN`, repeated
/// names get a `_N` suffix.
fn column_names(header: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, name) in header.into_iter().enumerate() {
        let base = if name.is_empty() {
            format!("c{}", i + 1)
        } else {
            name
        };
        let mut candidate = base.clone();
        let mut n = 1;
        while names
            .iter()
            .any(|taken| taken.eq_ignore_ascii_case(&candidate))
        {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        names.push(candidate);
    }
    names
}

/// `on`/`off` (also `yes`/`no`, `true`/`false`, `1`/`0`) for `.headers` and `.timer`.
fn switch(command: &str, args: &[String]) -> Result<bool, Failure> {
    let value = match args {
        [value] => value.to_ascii_lowercase(),
        _ => return message(format!("usage: .{command} on|off")),
    };
    match value.as_str() {
        "on" | "yes" | "true" | "1" => Ok(true),
        "off" | "no" | "false" | "0" => Ok(false),
        _ => message(format!("usage: .{command} on|off")),
    }
}

/// Splits a dot-command line into words; `"..."` (with backslash escapes) and `'...'`
/// quote words that hold spaces.
fn split_args(text: &str) -> Result<Vec<String>, Failure> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(args);
        };
        let mut word = String::new();
        match first {
            '"' => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return message("unterminated \"quoted\" argument"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some(c) => word.push(c),
                            None => return message("unterminated \"quoted\" argument"),
                        },
                        Some(c) => word.push(c),
                    }
                }
            }
            '\'' => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return message("unterminated 'quoted' argument"),
                        Some('\'') => break,
                        Some(c) => word.push(c),
                    }
                }
            }
            _ => {
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    word.push(c);
                }
            }
        }
        args.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_command_words() {
        let words = split_args(r#"import "my file.csv" 'a b' plain "q\"x""#).unwrap();
        assert_eq!(words, vec!["import", "my file.csv", "a b", "plain", "q\"x"]);
        assert!(split_args("read \"open").is_err());
    }

    #[test]
    fn header_names() {
        let names = column_names(vec!["a".into(), "".into(), "A".into(), "a".into()]);
        assert_eq!(names, vec!["a", "c2", "A_2", "a_3"]);
    }

    #[test]
    fn switches() {
        assert!(switch("timer", &["ON".into()]).unwrap());
        assert!(!switch("timer", &["0".into()]).unwrap());
        assert!(switch("timer", &["maybe".into()]).is_err());
        assert!(switch("timer", &[]).is_err());
    }
}
