//! The `sandlite` shell: reads SQL and dot-commands line by line, runs them on one
//! connection and prints the results the way the `sqlite3` command-line shell does.
//!
//! Errors, as in sqlite3: a script (standard input that is not a terminal, a `.read`
//! file) goes on after an error unless `.bail on` (`-bail`); SQL given as arguments
//! stops at its first error; Ctrl-C stops a script. Either way the exit status is 1
//! once any error has happened (SQLite's result code when an SQL argument failed). The
//! reports on standard error are worded as sqlite3's, byte for byte.

mod commands;
mod cputime;
mod csv;
mod dump;
#[cfg(feature = "line-editing")]
mod editor;
mod input;
mod opener;
mod render;
mod sql_text;
mod values;

#[cfg(feature = "line-editing")]
pub use editor::EditorInput;
pub use input::MAX_STATEMENT_BYTES;
pub use render::{Mode, Style};

use input::Line;
use sandlite::{Connection, ffi, params_from_iter, signals};
use std::cell::RefCell;
use std::fmt;
use std::io::{self, BufRead, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Instant;
use values::{Cell, quote_identifier};

/// The interrupt handle of the shell's current connection, for the Ctrl-C handler
/// (which may only load and store atomics). Each handle stored is leaked: a few bytes
/// per `.open`.
static CURRENT_INTERRUPT: AtomicPtr<sandlite::InterruptHandle> =
    AtomicPtr::new(std::ptr::null_mut());

/// Makes Ctrl-C interrupt `conn`'s statements (the first call also sets the signal
/// action).
pub fn route_interrupts_to(conn: &Connection) {
    let handle = Box::into_raw(Box::new(conn.get_interrupt_handle()));
    CURRENT_INTERRUPT.store(handle, Ordering::SeqCst);
    signals::set_action(|| {
        let handle = CURRENT_INTERRUPT.load(Ordering::SeqCst);
        // SAFETY: every pointer stored is from `Box::into_raw` and never freed.
        if let Some(handle) = unsafe { handle.as_ref() } {
            handle.interrupt();
        }
    });
}

/// Opens a database as the shell does: sandboxed to the file's directory (the driver's
/// `Connection::open` rule), read-only if asked.
///
/// # Errors
/// The driver's error.
pub fn open_database(path: &str, read_only: bool) -> sandlite::Result<Connection> {
    sandlite::OpenOptions::new().read_only(read_only).open(path)
}

/// How deep `.read` may nest (a file that reads itself stops here).
const MAX_READ_DEPTH: usize = 32;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// A statement from the input failed, while SQLite prepared it or ran it;
    /// `context` is the excerpt and caret sqlite3 shows under a prepare error (empty
    /// when there is none).
    Sql {
        error: sandlite::Error,
        phase: Phase,
        context: String,
    },
    /// Preparing a statement of the input failed (made a [`Failure::Sql`] by the caller,
    /// who knows the text).
    Prepare(sandlite::Error),
    /// A query the shell made for a dot-command failed, or a statement of the input
    /// failed while it ran.
    Db(sandlite::Error),
    /// A dot-command was misused, a file could not be read, ...: `Error: TEXT`.
    Message(String),
    /// A dot-command's report in sqlite3's words that do not start with `Error:`
    /// (`Usage: .bail on|off`), written as it is.
    Plain(String),
    /// A dot-command failed and said so already (on the output, as sqlite3 writes its
    /// usage errors that show help), or fails without a word (`.output off`).
    Silent,
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

/// A report in sqlite3's words without `Error:` ([`Failure::Plain`]).
fn plain<T>(text: impl fmt::Display) -> Result<T, Failure> {
    Err(Failure::Plain(text.to_string()))
}

/// When a statement failed: sqlite3's reports say it ("in prepare, ..." or "Parse
/// error", "stepping, ..." or "Runtime error").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Prepare,
    Step,
}

/// `text` without the line break (`\n` or `\r\n`) it ends with, if any.
fn without_line_end(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
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
pub struct Source {
    /// A person at a terminal: prompts, and errors do not stop the input.
    pub interactive: bool,
    /// Errors say which line of the input they are on (a script), else they say what
    /// failed as sqlite3 does for SQL it runs at once (arguments, `-cmd`).
    pub numbered: bool,
    /// The first error stops it even without `.bail on` (SQL given as an argument, as
    /// in sqlite3).
    pub stops_at_error: bool,
}

impl Source {
    /// A script read from standard input.
    pub const STDIN_SCRIPT: Source = Source {
        interactive: false,
        numbered: true,
        stops_at_error: false,
    };
    /// A person typing at a terminal.
    pub const TERMINAL: Source = Source {
        interactive: true,
        numbered: false,
        stops_at_error: false,
    };
    /// A command given with `-cmd` (or the `-init` file's `.read`): errors are
    /// reported and the shell goes on unless `-bail`.
    pub const COMMAND_OPTION: Source = Source {
        interactive: false,
        numbered: false,
        stops_at_error: false,
    };
    /// SQL given as a command-line argument.
    pub const ARGUMENT: Source = Source {
        interactive: false,
        numbered: false,
        stops_at_error: true,
    };
}

/// What `.once -x` changes for the spreadsheet's CSV, put back after it (as sqlite3's
/// `outputModePush`/`outputModePop` do).
struct SavedMode {
    mode: Mode,
    column_separator: String,
    row_separator: String,
    echo: bool,
}

/// The shell's state: the connection, the output and the settings dot-commands change.
pub struct Shell {
    conn: Connection,
    /// The database's name as given (`.show`).
    filename: String,
    /// Where results go: standard output, or the file of `.output`/`.once`.
    out: Box<dyn Write>,
    /// Standard output while `out` is a file.
    stdout: Option<Box<dyn Write>>,
    /// The file `out` writes to (`.show`).
    output_name: Option<String>,
    /// `.once`: commands left before output goes back to standard output.
    once: u8,
    /// `-x`/`-e`: the temporary file being written, shown when output goes back, and
    /// the settings `-x` replaced for it.
    show_after: Option<(opener::TempFile, Option<SavedMode>)>,
    /// The last temporary file shown, removed at the next one or at the end.
    temp_file: Option<opener::TempFile>,
    style: Style,
    /// `.headers` was given: `.mode column` no longer turns headers on.
    headers_set: bool,
    timer: bool,
    bail: bool,
    echo: bool,
    changes: bool,
    /// `.parameter` made `temp.sqlite_parameters`: statements bind from it.
    parameters: bool,
    errors: usize,
    /// The exit status when an error stops the input: 1, or, as in sqlite3, SQLite's
    /// result code when SQL given as an argument (or with `-cmd` and `-bail`) failed.
    bail_status: u8,
    read_depth: usize,
    /// At a terminal with line editing: the editor shows this prompt.
    editor_prompt: Option<Rc<RefCell<String>>>,
}

impl Shell {
    pub fn new(conn: Connection, filename: &str, out: Box<dyn Write>) -> Shell {
        Shell {
            conn,
            filename: filename.to_owned(),
            out,
            stdout: None,
            output_name: None,
            once: 0,
            show_after: None,
            temp_file: None,
            style: Style::default(),
            headers_set: false,
            timer: false,
            bail: false,
            echo: false,
            changes: false,
            parameters: false,
            errors: 0,
            bail_status: 1,
            read_depth: 0,
            editor_prompt: None,
        }
    }

    /// Interactive input comes from a line editor, which shows the prompt it finds
    /// in `prompt` (instead of the shell printing it).
    #[cfg(feature = "line-editing")]
    pub fn use_editor_prompt(&mut self, prompt: Rc<RefCell<String>>) {
        self.editor_prompt = Some(prompt);
    }

    /// `.bail on` (`-bail`): a script stops at its first error.
    pub fn set_bail(&mut self, on: bool) {
        self.bail = on;
    }

    /// `.echo on` (`-echo`): each command is printed before it runs.
    pub fn set_echo(&mut self, on: bool) {
        self.echo = on;
    }

    /// The style's settings, for the command-line options.
    pub fn style_mut(&mut self) -> &mut Style {
        &mut self.style
    }

    /// `.mode NAME ?TABLE?`: the mode and the separators it implies, as in sqlite3.
    fn dot_mode(&mut self, name: &str, table: Option<&str>) -> Result<(), Failure> {
        let Some(mode) = Mode::parse(name) else {
            return message(format!(
                "unknown mode \"{name}\"; choose one of: {}",
                Mode::NAMES
            ));
        };
        let separators = match name.to_ascii_lowercase().as_str() {
            "list" => Some(("|", "\n")),
            "tabs" => Some(("\t", "\n")),
            "csv" => Some((",", "\r\n")),
            "quote" => Some((",", "\n")),
            _ => None,
        };
        if let Some((column, row)) = separators {
            self.style.column_separator = column.into();
            self.style.row_separator = row.into();
        }
        if mode == Mode::Insert {
            self.style.insert_table = table.unwrap_or("table").to_owned();
        }
        self.style.mode = mode;
        if mode.is_columnar() {
            self.style.wrap = 60;
        }
        // As in sqlite3: `.mode column` shows headers unless `.headers` said otherwise
        // (table, box and markdown always show them, leaving the setting alone).
        if mode == Mode::Column && !self.headers_set {
            self.style.headers = true;
        }
        Ok(())
    }

    /// How many errors have been reported.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// The exit status after the input stopped at an error ([`Flow::Bail`]).
    pub fn bail_status(&self) -> u8 {
        self.bail_status
    }

    /// Sets the output mode (the command-line options; `.mode` may turn headers on).
    pub fn set_mode(&mut self, mode: Mode) {
        self.style.mode = mode;
    }

    pub fn set_headers(&mut self, on: bool) {
        self.style.headers = on;
        self.headers_set = true;
    }

    /// Sends output to `to` (a file), keeping standard output for later.
    fn redirect(&mut self, to: Box<dyn Write>, name: &str) -> io::Result<()> {
        self.out.flush()?;
        let previous = std::mem::replace(&mut self.out, to);
        if self.stdout.is_none() {
            self.stdout = Some(previous);
        }
        self.output_name = Some(name.to_owned());
        Ok(())
    }

    /// Output goes back to standard output (the file is flushed and closed).
    fn reset_output(&mut self) -> io::Result<()> {
        self.once = 0;
        self.output_name = None;
        if let Some(stdout) = self.stdout.take() {
            let mut file = std::mem::replace(&mut self.out, stdout);
            file.flush()?;
        }
        // The file is closed: show it, then put back what `-x` changed.
        if let Some((temp, saved)) = self.show_after.take() {
            opener::show(temp.path());
            if let Some(saved) = saved {
                self.style.mode = saved.mode;
                self.style.column_separator = saved.column_separator;
                self.style.row_separator = saved.row_separator;
                self.echo = saved.echo;
            }
            self.temp_file = Some(temp);
        }
        Ok(())
    }

    /// After each command: a `.once` file is closed after the command that follows it.
    fn command_done(&mut self) -> io::Result<()> {
        if self.once > 0 {
            self.once -= 1;
            if self.once == 0 {
                return self.reset_output();
            }
        }
        Ok(())
    }

    /// Standard output, even while output goes to a file (prompts, the banner).
    fn terminal(&mut self) -> &mut dyn Write {
        match &mut self.stdout {
            Some(stdout) => &mut **stdout,
            None => &mut *self.out,
        }
    }

    /// Writes to standard output (the banner).
    ///
    /// # Errors
    /// Failure to write.
    pub fn print(&mut self, text: &str) -> io::Result<()> {
        let out = self.terminal();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Flushes standard output.
    ///
    /// # Errors
    /// Failure to write.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.reset_output()
    }

    /// Runs every line of `input`: SQL statements (accumulated until SQLite says they
    /// are complete) and dot-commands (a line starting with `.` where a new statement
    /// would start).
    ///
    /// # Errors
    /// Only failure to write standard output; everything else is reported on standard
    /// error and counted.
    pub fn process(&mut self, input: &mut dyn BufRead, source: Source) -> io::Result<Flow> {
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
                match &self.editor_prompt {
                    Some(slot) => {
                        prompt.clone_into(&mut slot.borrow_mut());
                        self.out.flush()?;
                    }
                    None => self.print(prompt)?,
                }
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
                    // A script stops here whatever `.bail` says: the rest of an
                    // endless line cannot be skipped.
                    if self.fail(failure, source, Some(at))? || !source.interactive {
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
                // As in sqlite3: between statements, a line of only white space and
                // comments (or a `#` line) is no SQL; `.echo on` still shows it.
                if sql_text::plain_white(line) || line.starts_with('#') {
                    if self.echo {
                        writeln!(self.out, "{}", without_line_end(line))?;
                    }
                    continue;
                }
                let trimmed = line.trim();
                if trimmed.starts_with('.') {
                    if self.echo {
                        writeln!(self.out, "{}", without_line_end(line))?;
                    }
                    let done = self.dot_command(trimmed);
                    if !sets_once(trimmed) || done.is_err() {
                        self.command_done()?;
                    }
                    if source.interactive {
                        // A Ctrl-C that interrupted the command (a `.read` script, say)
                        // is used up.
                        signals::take();
                    }
                    match done {
                        Ok(None) => {}
                        Ok(Some(flow)) => return Ok(flow),
                        // As in sqlite3, a dot-command's error names no line.
                        Err(failure) => {
                            if self.fail(failure, source, None)? {
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
                let result = self.run_chunk(&buffer, source);
                if source.interactive {
                    // A Ctrl-C that interrupted the statement is used up.
                    signals::take();
                }
                buffer.clear();
                if let Err(failure) = result
                    && self.fail_in(failure, source, buffer_line)?
                {
                    return Ok(Flow::Bail);
                }
            }
        }
        // Whatever is left at the end runs as it is (a last statement may lack its `;`).
        if !sql_text::only_comments(&buffer)
            && let Err(failure) = self.run_chunk(&buffer, source)
            && self.fail_in(failure, source, buffer_line)?
        {
            return Ok(Flow::Bail);
        }
        if source.interactive {
            self.print("\n")?;
        }
        Ok(Flow::Eof)
    }

    /// Runs one SQL argument or `-cmd` text as sqlite3 does: a dot-command if it starts
    /// with `.`, else all of it as SQL at once (line breaks and all), never echoed.
    ///
    /// # Errors
    /// Only failure to write standard output; everything else is reported on standard
    /// error and counted.
    pub fn run_direct(&mut self, text: &str, source: Source) -> io::Result<Flow> {
        let done = if text.starts_with('.') {
            let line = text.trim();
            let done = self.dot_command(line);
            if !sets_once(line) || done.is_err() {
                self.command_done()?;
            }
            done
        } else {
            self.run_chunk(text, source).map(|()| None)
        };
        match done {
            Ok(flow) => Ok(flow.unwrap_or(Flow::Eof)),
            Err(failure) => Ok(if self.fail(failure, source, None)? {
                Flow::Bail
            } else {
                Flow::Eof
            }),
        }
    }

    /// Runs a complete piece of SQL text from the input: echoed first with `.echo on`,
    /// followed by the counts of `.changes on`.
    fn run_chunk(&mut self, text: &str, source: Source) -> Result<(), Failure> {
        // A script's lines run as sqlite3 gathers them: from the first line's first
        // non-blank character, without the last line's line break (which decides what
        // an error's excerpt shows). SQL run at once (arguments, `-cmd`) runs as given,
        // and is not echoed.
        let direct = !source.interactive && !source.numbered;
        let text = if direct {
            text
        } else {
            without_line_end(text.trim_start_matches(sql_text::is_c_space))
        };
        if self.echo && !direct {
            writeln!(self.out, "{text}")?;
        }
        let result = self.run_sql(text);
        if result.is_ok() && self.changes && !source.stops_at_error {
            writeln!(
                self.out,
                "changes: {}   total_changes: {}",
                self.conn.changes(),
                self.conn.total_changes()
            )?;
        }
        self.command_done()?;
        result
    }

    /// Reports a failure of SQL text that starts on input line `first_line`: sqlite3
    /// names that line, wherever in the text the error is.
    fn fail_in(&mut self, failure: Failure, source: Source, first_line: usize) -> io::Result<bool> {
        self.fail(failure, source, Some(first_line))
    }

    /// Reports a failure on standard error and counts it; returns `true` when the
    /// input must stop: a script with `.bail on`, SQL arguments, or after Ctrl-C.
    ///
    /// # Errors
    /// A failure to write standard output is passed on: nothing more can be shown.
    fn fail(&mut self, failure: Failure, source: Source, line: Option<usize>) -> io::Result<bool> {
        // Results printed so far come before the error.
        self.out.flush()?;
        let line = line.filter(|_| source.numbered);
        let location = line.map_or(String::new(), |n| format!("near line {n}: "));
        let mut report = String::new();
        let mut status = 1;
        match failure {
            Failure::Output(e) => return Err(e),
            Failure::Reported => {}
            Failure::Sql {
                error,
                phase,
                context,
            } => {
                // sqlite3's words: SQL run at once (arguments, -cmd) says "Error: in
                // prepare, ..." or "Error: stepping, ..."; a script or the terminal
                // says "Parse error near line N: ..." or "Runtime error ...". A result
                // code other than SQLITE_ERROR follows the message, and under a prepare
                // error the excerpt.
                let code = error.sqlite_code().unwrap_or(ffi::SQLITE_ERROR);
                let mut body = error_text(&error);
                if code > 1 {
                    body.push_str(&format!(" ({code})"));
                }
                body.push_str(&context);
                let direct = !source.interactive && !source.numbered;
                report = match (direct, phase, line) {
                    (true, Phase::Prepare, _) => format!("Error: in prepare, {body}\n"),
                    (true, Phase::Step, _) => format!("Error: stepping, {body}\n"),
                    (false, Phase::Prepare, None) => format!("Parse error: {body}\n"),
                    (false, Phase::Step, None) => format!("Runtime error: {body}\n"),
                    (false, Phase::Prepare, Some(n)) => {
                        format!("Parse error near line {n}: {body}\n")
                    }
                    (false, Phase::Step, Some(n)) => {
                        format!("Runtime error near line {n}: {body}\n")
                    }
                };
                // sqlite3 exits with the result code when such SQL stops it.
                if direct {
                    status = u8::try_from(code & 0xff)
                        .ok()
                        .filter(|&c| c != 0)
                        .unwrap_or(1);
                }
            }
            Failure::Prepare(error) | Failure::Db(error) => {
                report = format!("Error: {location}{}\n", error_text(&error));
            }
            Failure::Message(text) => report = format!("Error: {location}{text}\n"),
            Failure::Plain(text) => report = format!("{text}\n"),
            Failure::Silent => self.errors += 1,
        }
        if !report.is_empty() {
            self.errors += 1;
            let _ = io::stderr().write_all(report.as_bytes());
        }
        // A script also stops at Ctrl-C, as sqlite3's does.
        let stop =
            !source.interactive && (self.bail || source.stops_at_error || signals::pending() > 0);
        if stop {
            self.bail_status = status;
        }
        Ok(stop)
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
            // Where sqlite3 would hand SQLite the rest of the text: after the previous
            // statement and the white space that follows it (empty statements and
            // comments before this one included).
            let base = if at == 0 {
                0
            } else {
                text.len() - text[at..].trim_start_matches(sql_text::is_c_space).len()
            };
            let range = at + found.start..at + found.end;
            at = range.end;
            self.run_one(text, base, range)?;
        }
    }

    /// Runs the statement at `range` of `text`; an error's excerpt shows `text` from
    /// `base` on, as sqlite3's does.
    fn run_one(
        &mut self,
        text: &str,
        base: usize,
        range: std::ops::Range<usize>,
    ) -> Result<(), Failure> {
        let segment = &text[range.clone()];
        let sql = segment.trim_start();
        let start = range.start + (segment.len() - sql.len());
        self.run_statement(sql).map_err(|failure| match failure {
            Failure::Prepare(error) => Failure::Sql {
                context: error
                    .sql_offset()
                    .and_then(|offset| {
                        sql_text::error_context(&text[base..], offset + (start - base))
                    })
                    .unwrap_or_default(),
                error,
                phase: Phase::Prepare,
            },
            Failure::Db(error) => Failure::Sql {
                error,
                phase: Phase::Step,
                context: String::new(),
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
            let mut stmt = self.conn.prepare(sql).map_err(Failure::Prepare)?;
            let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
            let count = columns.len();
            if self.parameters {
                bind_parameters(&self.conn, &mut stmt)?;
            }
            // As in sqlite3, a columnar result gives `.width` an entry (0) for each
            // column it lacked (`.show` lists them).
            if self.style.mode.is_columnar() && self.style.widths.len() < count {
                self.style.widths.resize(count, 0);
            }
            let mut renderer = render::Renderer::new(&self.style, columns);
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
                                    self.style.mode.name(),
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

    /// Runs one dot-command line; `Some` when it ends the input. Names may be
    /// abbreviated as sqlite3 allows (`.h on`, `.mo csv`), and misuse is reported in
    /// sqlite3's words, with its exit status.
    fn dot_command(&mut self, line: &str) -> Result<Option<Flow>, Failure> {
        let args = split_args(&line[1..])?;
        // A lone `.` is nothing, as in sqlite3.
        let Some(typed) = args.first() else {
            return Ok(None);
        };
        let rest = &args[1..];
        let Some(command) = commands::resolve(typed) else {
            return unknown_command(typed);
        };
        match command {
            "quit" => return Ok(Some(Flow::Quit(None))),
            "exit" => {
                // As sqlite3 reads it: `.exit x` and `.exit 0` are `.quit`.
                let code = rest
                    .first()
                    .map_or(0, |c| commands::integer_value(c) as i32);
                return Ok(Some(Flow::Quit((code != 0).then_some(code))));
            }
            "help" => self.help(rest.first().map(String::as_str))?,
            "tables" => self.tables(rest.first().map(String::as_str))?,
            "schema" => {
                let mut pattern = None;
                for arg in rest {
                    match arg.as_str() {
                        "--indent" | "-indent" | "--nosys" | "-nosys" | "--debug" | "-debug" => {
                            return message(format!(".schema {arg} is not supported"));
                        }
                        option if option.starts_with('-') => {
                            return plain(format!("Unknown option: \"{option}\""));
                        }
                        name if pattern.is_none() => pattern = Some(name),
                        _ => return plain("Usage: .schema ?--indent? ?--nosys? ?LIKE-PATTERN?"),
                    }
                }
                self.schema(pattern)?;
            }
            "dump" => {
                let result =
                    dump::dump(&self.conn, &mut *self.out, rest.first().map(String::as_str));
                self.out.flush()?;
                result?;
            }
            "mode" => self.mode_command(rest)?,
            "bail" => self.bail = on_off(command, rest)?,
            "echo" => self.echo = on_off(command, rest)?,
            "changes" => self.changes = on_off(command, rest)?,
            "timer" => self.timer = on_off(command, rest)?,
            "headers" => {
                let on = on_off(command, rest)?;
                self.set_headers(on);
            }
            "nullvalue" => {
                let [value] = rest else {
                    return plain("Usage: .nullvalue STRING");
                };
                self.style.null_value = value.clone();
            }
            "separator" => {
                // As in sqlite3, too many arguments still set the first two.
                if let Some(column) = rest.first() {
                    self.style.column_separator = column.clone();
                }
                if let Some(row) = rest.get(1) {
                    self.style.row_separator = row.clone();
                }
                if rest.is_empty() || rest.len() > 2 {
                    return plain("Usage: .separator COL ?ROW?");
                }
            }
            "width" => {
                let mut widths = Vec::with_capacity(rest.len());
                for w in rest {
                    // As sqlite3 reads it (`x` is 0, automatic), within a bound that
                    // keeps a padded row in memory.
                    let n = commands::integer_value(w);
                    if n.unsigned_abs() > 1_000_000 {
                        return message(format!(
                            "column width {w} out of range (at most 1000000 either way)"
                        ));
                    }
                    widths.push(n);
                }
                self.style.widths = widths;
            }
            "print" => writeln!(self.out, "{}", rest.join(" "))?,
            "show" => {
                if !rest.is_empty() {
                    return plain("Usage: .show");
                }
                self.show()?;
            }
            "indices" | "indexes" => {
                if rest.len() > 1 {
                    return plain("Usage: .indexes ?LIKE-PATTERN?");
                }
                self.indexes(rest.first().map(String::as_str))?;
            }
            "databases" => self.databases()?,
            "output" | "once" | "excel" => self.output(command, rest)?,
            "open" => self.open(rest)?,
            "backup" | "save" => {
                let mut names = Vec::new();
                for arg in rest {
                    match arg.as_str() {
                        "--append" | "-append" | "--async" | "-async" => {
                            return message(format!(".{command} {arg} is not supported"));
                        }
                        option if option.starts_with('-') => {
                            return plain(format!("unknown option: {option}"));
                        }
                        name => names.push(name),
                    }
                }
                let (schema, file) = match names.as_slice() {
                    [] => return plain(format!("missing FILENAME argument on .{command}")),
                    [file] => ("main", *file),
                    [schema, file] => (*schema, *file),
                    _ => return plain(format!("Usage: .{command} ?DB? ?OPTIONS? FILENAME")),
                };
                self.conn.backup(schema, file, None)?;
            }
            "restore" => {
                let (schema, file) = match rest {
                    [file] => ("main", file),
                    [schema, file] => (schema.as_str(), file),
                    _ => return plain("Usage: .restore ?DB? FILE"),
                };
                if !std::path::Path::new(file).is_file() {
                    return message(format!("cannot open \"{file}\""));
                }
                self.conn.restore(schema, file, None)?;
            }
            "parameter" => self.parameter(rest)?,
            "read" => {
                let [file] = rest else {
                    return plain("Usage: .read FILE");
                };
                return self.read_file(file);
            }
            "import" => self.import(rest)?,
            _ => return unknown_command(typed),
        }
        self.out.flush()?;
        Ok(None)
    }

    /// `.help ?COMMAND?`: every entry, or those of the commands whose names start with
    /// COMMAND.
    fn help(&mut self, pattern: Option<&str>) -> Result<(), Failure> {
        let pattern = pattern.map(|p| p.trim_start_matches('.'));
        let mut found = false;
        for (name, text) in commands::HELP {
            if pattern.is_none_or(|p| name.starts_with(p)) {
                self.out.write_all(text.as_bytes())?;
                found = true;
            }
        }
        if !found && let Some(p) = pattern {
            writeln!(self.out, "Nothing matches '{p}'")?;
        }
        Ok(())
    }

    /// A usage error that sqlite3 writes on the output, followed by the command's help
    /// entry (`.import`, `.once`, `.output`): counted as an error, nothing more said.
    fn usage_with_help<T>(&mut self, first_line: &str, command: &str) -> Result<T, Failure> {
        self.out.write_all(first_line.as_bytes())?;
        self.out
            .write_all(commands::help_entry(command).as_bytes())?;
        self.out.flush()?;
        Err(Failure::Silent)
    }

    /// `.mode ?MODE? ?TABLE? ?OPTIONS?`, its words read as sqlite3 reads them.
    fn mode_command(&mut self, args: &[String]) -> Result<(), Failure> {
        let mut name = None;
        let mut table = None;
        let mut wrap = None;
        let mut words = args.iter();
        while let Some(word) = words.next() {
            let option = word.strip_prefix("--").or_else(|| word.strip_prefix('-'));
            match option {
                Some("wrap") if words.len() > 0 => {
                    let n = words.next().map_or(0, |n| commands::integer_value(n));
                    wrap = Some(usize::try_from(n).unwrap_or(0));
                }
                Some("wordwrap") if words.len() > 0 => {
                    if words.next().is_some_and(|b| commands::bool_value(b)) {
                        return message(
                            "--wordwrap on is not supported (values wrap at any character)",
                        );
                    }
                }
                Some("ww") => {
                    return message("--ww is not supported (values wrap at any character)");
                }
                Some("quote") => {
                    return message("--quote is not supported (columnar modes show text as it is)");
                }
                Some("noquote") => {}
                _ if name.is_none() => name = Some(word.as_str()),
                _ if table.is_none() => table = Some(word.as_str()),
                Some(_) => {
                    return plain(format!(
                        "unknown option: {word}\noptions:\n  --noquote\n  --quote\n  \
                         --wordwrap on/off\n  --wrap N\n  --ww"
                    ));
                }
                None => return plain(format!("extra argument: \"{word}\"")),
            }
        }
        let Some(name) = name else {
            // As sqlite3 does: names the mode in force, then takes this command's wrap
            // (60 by default).
            writeln!(self.out, "current output mode: {}", self.mode_text())?;
            self.style.wrap = wrap.unwrap_or(60);
            return Ok(());
        };
        let Some(resolved) = commands::resolve_mode(name) else {
            return message(commands::MODE_LIST);
        };
        if Mode::parse(resolved).is_none() {
            return message(format!("mode \"{resolved}\" is not supported here"));
        }
        self.dot_mode(resolved, table)?;
        if let Some(n) = wrap {
            self.style.wrap = n;
        }
        Ok(())
    }

    /// Runs a start-up file as `.read` would: the `-init` file (`required`: one that
    /// cannot be opened is an error) or else `~/.sqliterc` (silently skipped when
    /// missing), as sqlite3 does. At a terminal it says which file it reads.
    ///
    /// # Errors
    /// Only failure to write standard output.
    pub fn read_init(
        &mut self,
        path: &std::path::Path,
        required: bool,
        interactive: bool,
    ) -> io::Result<Flow> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(_) if !required => return Ok(Flow::Eof),
            Err(_) => {
                // sqlite3's words (no "Error:").
                self.out.flush()?;
                self.errors += 1;
                let _ = writeln!(io::stderr(), "cannot open: \"{}\"", path.display());
                return Ok(if self.bail { Flow::Bail } else { Flow::Eof });
            }
        };
        if interactive {
            let _ = writeln!(io::stderr(), "-- Loading resources from {}", path.display());
        }
        match self.read_from(file) {
            Ok(flow) => Ok(flow.unwrap_or(Flow::Eof)),
            Err(failure) => Ok(if self.fail(failure, Source::COMMAND_OPTION, None)? {
                Flow::Bail
            } else {
                Flow::Eof
            }),
        }
    }

    fn read_file(&mut self, path: &str) -> Result<Option<Flow>, Failure> {
        if self.read_depth >= MAX_READ_DEPTH {
            return message(format!(".read nested more than {MAX_READ_DEPTH} deep"));
        }
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(_) => return message(format!("cannot open \"{path}\"")),
        };
        self.read_from(file)
    }

    /// Runs the SQL and dot-commands of `file` as a script (`.read`).
    fn read_from(&mut self, file: std::fs::File) -> Result<Option<Flow>, Failure> {
        let source = Source {
            interactive: false,
            numbered: true,
            stops_at_error: false,
        };
        let errors_before = self.errors;
        self.read_depth += 1;
        let flow = self.process(&mut io::BufReader::new(file), source);
        self.read_depth -= 1;
        match flow? {
            // As in sqlite3, `.read` fails when its file had errors (so SQL arguments
            // after it do not run, and `-bail` stops there).
            Flow::Eof if self.errors > errors_before => Err(Failure::Reported),
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
        let names = self.schema_names(
            "type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name LIKE ?1",
            pattern,
        )?;
        self.write_name_columns(&names)
    }

    /// `.indexes ?TABLE?`: the indexes (of tables LIKE TABLE), laid out as `.tables`.
    fn indexes(&mut self, table: Option<&str>) -> Result<(), Failure> {
        let names = self.schema_names("type = 'index' AND tbl_name LIKE ?1", table)?;
        self.write_name_columns(&names)
    }

    /// Names of the schema rows matching `filter` (`?1` is `pattern`, `%` without one) in
    /// every attached database, sorted per database, prefixed `schema.` outside `main`.
    fn schema_names(
        &mut self,
        filter: &str,
        pattern: Option<&str>,
    ) -> Result<Vec<String>, Failure> {
        let mut names: Vec<String> = Vec::new();
        for schema in self.schemas()? {
            let sql = format!(
                "SELECT name FROM {}.sqlite_schema WHERE {filter} ORDER BY 1",
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
        Ok(names)
    }

    /// Names in columns, column-major, in lines of at most 80 characters, like sqlite3.
    fn write_name_columns(&mut self, names: &[String]) -> Result<(), Failure> {
        if names.is_empty() {
            return Ok(());
        }
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

    /// The mode as `.mode` and `.show` name it.
    fn mode_text(&self) -> String {
        let style = &self.style;
        if style.mode.is_columnar() {
            format!(
                "{} --wrap {} --wordwrap off --noquote",
                style.mode.name(),
                style.wrap
            )
        } else {
            style.mode.name().to_owned()
        }
    }

    /// `.show`: the settings, laid out as sqlite3 does.
    fn show(&mut self) -> Result<(), Failure> {
        let on_off = |on: bool| if on { "on" } else { "off" };
        let mode = self.mode_text();
        let style = &self.style;
        let widths: String = style.widths.iter().map(|w| format!("{w} ")).collect();
        let lines = [
            ("echo", on_off(self.echo).to_owned()),
            ("eqp", "off".to_owned()),
            ("explain", "auto".to_owned()),
            ("headers", on_off(style.headers).to_owned()),
            ("mode", mode),
            ("nullvalue", c_string(&style.null_value)),
            (
                "output",
                self.output_name.clone().unwrap_or_else(|| "stdout".into()),
            ),
            ("colseparator", c_string(&style.column_separator)),
            ("rowseparator", c_string(&style.row_separator)),
            ("stats", "off".to_owned()),
            ("width", widths),
            ("filename", self.filename.clone()),
        ];
        for (name, value) in lines {
            writeln!(self.out, "{name:>12}: {value}")?;
        }
        Ok(())
    }

    /// `.databases`: each schema's name, file and whether it is writable.
    fn databases(&mut self) -> Result<(), Failure> {
        let list: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare("PRAGMA database_list")?;
            stmt.query_map([], |r| {
                Ok((
                    r.get(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                ))
            })?
            .collect::<Result<_, _>>()?
        };
        for (name, file) in list {
            let access = if self.conn.is_readonly(name.as_str())? {
                "r/o"
            } else {
                "r/w"
            };
            let file = if file.is_empty() { "\"\"".into() } else { file };
            writeln!(self.out, "{name}: {file} {access}")?;
        }
        Ok(())
    }

    /// `.output ?OPTIONS? ?FILE?`, `.once ?OPTIONS? ?FILE?` and `.excel`, read as
    /// sqlite3 reads them: results go to FILE (created or truncated), with `.once` for
    /// the next command only. `|COMMAND` (the rest of the line) pipes them into a
    /// shell command instead, as sqlite3's `popen` does: it runs with the shell's
    /// standard output and error, and is waited for when output goes back. `--bom`
    /// starts the output with a UTF-8 byte-order mark; `-x` (and `.excel`) writes CSV
    /// and `-e` text to a temporary file shown with the system's opener when the output
    /// is done ([`opener::show`]).
    fn output(&mut self, command: &str, args: &[String]) -> Result<(), Failure> {
        let excel = command == "excel";
        let once = command != "output";
        let mut bom = false;
        let mut open_as = excel.then_some('x');
        let mut file: Option<String> = None;
        for (i, arg) in args.iter().enumerate() {
            if arg.starts_with('-') {
                let option = arg.strip_prefix('-').filter(|o| o.starts_with('-'));
                match option.unwrap_or(arg) {
                    "-bom" => bom = true,
                    "-x" if !excel => open_as = Some('x'),
                    "-e" if !excel => open_as = Some('e'),
                    _ => {
                        return self.usage_with_help(
                            &format!("ERROR: unknown option: \"{arg}\".  Usage:\n"),
                            command,
                        );
                    }
                }
            } else if file.is_none() && open_as.is_none() {
                if arg.starts_with('|') {
                    file = Some(args[i..].join(" "));
                    break;
                }
                file = Some(arg.clone());
            } else {
                return self.usage_with_help(
                    &format!("ERROR: extra parameter: \"{arg}\".  Usage:\n"),
                    command,
                );
            }
        }
        self.reset_output()?;
        let mut file = file.unwrap_or_else(|| "stdout".to_owned());
        let mut to: Box<dyn Write> = if let Some(kind) = open_as {
            let (temp, handle) =
                match opener::TempFile::create(if kind == 'x' { "csv" } else { "txt" }) {
                    Ok(created) => created,
                    Err(e) => return message(format!("cannot create a temporary file: {e}")),
                };
            file = temp.path().to_string_lossy().into_owned();
            // The spreadsheet gets CSV, without echoed commands, for as long as the
            // output lasts; then the settings come back.
            let saved = (kind == 'x').then(|| {
                let saved = SavedMode {
                    mode: self.style.mode,
                    column_separator: self.style.column_separator.clone(),
                    row_separator: self.style.row_separator.clone(),
                    echo: self.echo,
                };
                self.style.mode = Mode::Csv;
                self.style.column_separator = ",".into();
                self.style.row_separator = "\r\n".into();
                self.echo = false;
                saved
            });
            // The previous one (already shown) goes now, as in sqlite3.
            self.temp_file = None;
            self.show_after = Some((temp, saved));
            Box::new(io::BufWriter::new(handle))
        } else if let Some(command) = file.strip_prefix('|') {
            match PipeOutput::spawn(command) {
                Ok(pipe) => Box::new(io::BufWriter::new(pipe)),
                Err(_) => return message(format!("cannot open pipe \"{command}\"")),
            }
        } else if file == "stdout" {
            if !bom {
                return Ok(());
            }
            Box::new(io::BufWriter::new(io::stdout()))
        } else if file == "off" {
            // sqlite3 fails here without a word, output staying on standard output.
            return Err(Failure::Silent);
        } else {
            match std::fs::File::create(&file) {
                Ok(f) => Box::new(io::BufWriter::new(f)),
                // sqlite3's two lines.
                Err(_) => {
                    return plain(format!(
                        "Error: cannot open \"{file}\"\nError: cannot write to \"{file}\""
                    ));
                }
            }
        };
        if bom {
            to.write_all("\u{feff}".as_bytes())?;
        }
        self.redirect(to, &file)?;
        // Back to standard output after the next command.
        self.once = u8::from(once);
        Ok(())
    }

    /// `.open ?--new? ?--readonly? ?FILE?`: a new connection replaces the current one
    /// (an in-memory database without FILE), opened as the command line opens one.
    fn open(&mut self, args: &[String]) -> Result<(), Failure> {
        let mut new = false;
        let mut read_only = false;
        let mut file = None;
        for arg in args {
            let option = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
            match option {
                Some("new") => new = true,
                Some("readonly") => read_only = true,
                Some("append" | "zip" | "nofollow" | "deserialize" | "hexdb" | "maxsize") => {
                    return message(format!(".open {arg} is not supported"));
                }
                Some(_) => return plain(format!("unknown option: {arg}")),
                None if file.is_none() => file = Some(arg.as_str()),
                None => return plain(format!("extra argument: \"{arg}\"")),
            }
        }
        let file = file.unwrap_or(":memory:");
        if new
            && !file.starts_with("file:")
            && file != ":memory:"
            && let Err(e) = std::fs::write(file, b"")
        {
            return message(format!("cannot open \"{file}\": {e}"));
        }
        let conn = match open_database(file, read_only) {
            Ok(c) => c,
            Err(e) => {
                return message(format!(
                    "unable to open database \"{file}\": {}",
                    error_text(&e)
                ));
            }
        };
        route_interrupts_to(&conn);
        self.conn = conn;
        self.filename = file.to_owned();
        self.parameters = false;
        Ok(())
    }

    /// `.parameter`: values kept in `temp.sqlite_parameters` and bound to the
    /// parameters of every statement, as sqlite3 does.
    fn parameter(&mut self, args: &[String]) -> Result<(), Failure> {
        // `sqlite_` names are SQLite's own: creating one needs `writable_schema`.
        const CREATE: &str = "PRAGMA writable_schema = ON; \
                              CREATE TABLE IF NOT EXISTS temp.sqlite_parameters(\
                              key TEXT PRIMARY KEY, value) WITHOUT ROWID; \
                              PRAGMA writable_schema = OFF";
        // As in sqlite3, misuse shows the help entry and is no error.
        let Some(command) = args.first() else {
            self.out
                .write_all(commands::help_entry("parameter").as_bytes())?;
            return Ok(());
        };
        match (command.as_str(), &args[1..]) {
            ("init", []) => {
                self.conn.execute_batch(CREATE)?;
                self.parameters = true;
            }
            ("clear", []) => {
                if self.parameters {
                    self.conn
                        .execute_batch("DROP TABLE IF EXISTS temp.sqlite_parameters")?;
                }
                self.parameters = false;
            }
            ("list", []) => {
                if !self.parameters {
                    return Ok(());
                }
                let rows: Vec<(String, String)> = {
                    let mut stmt = self.conn.prepare(
                        "SELECT key, quote(value) FROM temp.sqlite_parameters ORDER BY key",
                    )?;
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?
                };
                let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                for (key, value) in rows {
                    writeln!(self.out, "{key:<width$} {value}")?;
                }
            }
            ("set", [name, value]) => {
                self.conn.execute_batch(CREATE)?;
                self.parameters = true;
                // The value is SQL (`1+2`, `'text'`, `x'00'`); what does not evaluate is
                // kept as text.
                let sql =
                    format!("REPLACE INTO temp.sqlite_parameters(key, value) VALUES(?1, {value})");
                let evaluated = self
                    .conn
                    .prepare(&sql)
                    .and_then(|mut stmt| stmt.execute([name]));
                if evaluated.is_err() {
                    self.conn.execute(
                        "REPLACE INTO temp.sqlite_parameters(key, value) VALUES(?1, ?2)",
                        [name, value],
                    )?;
                }
            }
            ("unset", [name]) => {
                if self.parameters {
                    self.conn
                        .execute("DELETE FROM temp.sqlite_parameters WHERE key = ?1", [name])?;
                }
            }
            _ => {
                self.out
                    .write_all(commands::help_entry("parameter").as_bytes())?;
            }
        }
        Ok(())
    }

    /// `.import FILE TABLE [--skip N] [--csv]` (options anywhere, read as sqlite3
    /// reads them), all in one savepoint: on error nothing
    /// (not even a created table) remains.
    fn import(&mut self, args: &[String]) -> Result<(), Failure> {
        let mut file = None;
        let mut table = None;
        let mut skip = 0;
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            // As in sqlite3: `--opt` is `-opt`, and the reports show that spelling.
            let word = arg
                .strip_prefix('-')
                .filter(|w| w.starts_with('-'))
                .unwrap_or(arg);
            let has_value = i + 1 < args.len();
            match word {
                _ if !word.starts_with('-') => {
                    if file.is_none() {
                        file = Some(word);
                    } else if table.is_none() {
                        table = Some(word);
                    } else {
                        return self.usage_with_help(
                            &format!("ERROR: extra argument: \"{word}\".  Usage:\n"),
                            "import",
                        );
                    }
                }
                "-csv" => {}
                "-skip" if has_value => {
                    i += 1;
                    skip = usize::try_from(commands::integer_value(&args[i])).unwrap_or(0);
                }
                "-v" | "-ascii" => return message(format!(".import {arg} is not supported")),
                "-schema" if has_value => {
                    return message(format!(".import {arg} is not supported"));
                }
                _ => {
                    return self.usage_with_help(
                        &format!("ERROR: unknown option: \"{word}\".  Usage:\n"),
                        "import",
                    );
                }
            }
            i += 1;
        }
        let (Some(file), Some(table)) = (file, table) else {
            let missing = if file.is_none() { "FILE" } else { "TABLE" };
            return self.usage_with_help(
                &format!("ERROR: missing {missing} argument. Usage:\n"),
                "import",
            );
        };
        let handle = match std::fs::File::open(file) {
            Ok(f) => f,
            Err(_) => return message(format!("cannot open \"{file}\"")),
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

/// Binds each parameter of `stmt` to its value in `temp.sqlite_parameters` (those not
/// there stay NULL).
/// The standard input of a command run by `sh -c` (`.output |COMMAND`). Dropping it
/// closes the pipe and waits for the command, as `pclose` does.
struct PipeOutput {
    stdin: Option<std::process::ChildStdin>,
    child: std::process::Child,
}

impl PipeOutput {
    fn spawn(command: &str) -> io::Result<PipeOutput> {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(PipeOutput { stdin, child })
    }
}

/// A command that stopped reading (`|head -1`) is not a failure of the shell's own
/// output: what it would not take is dropped.
impl Write for PipeOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(stdin) = &mut self.stdin else {
            return Ok(buf.len());
        };
        match stdin.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.stdin = None;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let Some(stdin) = &mut self.stdin else {
            return Ok(());
        };
        match stdin.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.stdin = None;
                Ok(())
            }
            other => other,
        }
    }
}

impl Drop for PipeOutput {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn bind_parameters(conn: &Connection, stmt: &mut sandlite::Statement<'_>) -> Result<(), Failure> {
    let count = stmt.parameter_count();
    if count == 0 {
        return Ok(());
    }
    let mut lookup = match conn.prepare("SELECT value FROM temp.sqlite_parameters WHERE key = ?1") {
        Ok(lookup) => lookup,
        // `.parameter` made the table, but SQL may have dropped it.
        Err(_) => return Ok(()),
    };
    for i in 1..=count {
        let name = stmt.parameter_name(i).unwrap_or_else(|| format!("?{i}"));
        let value: Option<sandlite::types::Value> = lookup.query_row([&name], |r| r.get(0)).ok();
        if let Some(value) = value {
            stmt.raw_bind_parameter(i, &value)?;
        }
    }
    Ok(())
}

/// A setting as `.show` writes it: in double quotes with C escapes.
fn c_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\{:03o}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The character a backslash escape `\c` stands for in a dot-command's words.
fn escaped(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'v' => '\u{b}',
        other => other,
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

/// The one on/off argument of `.bail`, `.changes`, `.echo`, `.headers`, `.timer`, as
/// sqlite3 reads it ([`commands::bool_value`]: anything else is "off" after a warning).
fn on_off(command: &str, args: &[String]) -> Result<bool, Failure> {
    match args {
        [value] => Ok(commands::bool_value(value)),
        _ => plain(format!("Usage: .{command} on|off")),
    }
}

/// Whether a dot-command line is `.once` or `.excel` (abbreviated or not): the
/// command after it is the one whose output they take.
fn sets_once(line: &str) -> bool {
    let name = line[1..].split_whitespace().next().unwrap_or("");
    matches!(commands::resolve(name), Some("once" | "excel"))
}

/// sqlite3's words for a command it does not have (or one Sandlite lacks), two spaces
/// included.
fn unknown_command<T>(typed: &str) -> Result<T, Failure> {
    message(format!(
        "unknown command or invalid arguments:  \"{typed}\". Enter \".help\" for help"
    ))
}

/// Splits a dot-command line into words; `"..."` and `'...'` quote words that hold
/// spaces. Backslash escapes (`\t`, `\n`, `\\`, ...) hold except in `'...'`.
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
                            Some(c) => word.push(escaped(c)),
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
                // As in sqlite3, backslash escapes hold in bare words too.
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    if c == '\\' {
                        match chars.next_if(|c| !c.is_whitespace()) {
                            Some(next) => word.push(escaped(next)),
                            None => word.push('\\'),
                        }
                    } else {
                        word.push(c);
                    }
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
    fn on_off_arguments() {
        assert!(on_off("timer", &["ON".into()]).unwrap());
        assert!(!on_off("timer", &["0".into()]).unwrap());
        assert!(!on_off("timer", &["maybe".into()]).unwrap());
        assert!(
            matches!(on_off("timer", &[]), Err(Failure::Plain(t)) if t == "Usage: .timer on|off")
        );
        assert!(on_off("timer", &["on".into(), "off".into()]).is_err());
    }
}
