//! `sandlite`: an SQLite shell like `sqlite3`, running SQLite inside Sandlite's
//! WebAssembly sandbox.
//!
//! ```text
//! sandlite demo.db                      # interactive shell (prompts when on a terminal)
//! sandlite demo.db "SELECT * FROM t"    # run SQL (and dot-commands), print, exit
//! sandlite demo.db < script.sql         # run a script from standard input
//! ```

mod shell;

use shell::{Flow, Mode, Shell, Source};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: sandlite [OPTIONS] [DATABASE] [SQL]...
       sandlite run [--dir HOST[::GUEST]] [--dir-ro HOST[::GUEST]] [--env K=V] [--invoke FN]
                    [--timeout DURATION] [--max-memory SIZE] [--max-call-depth N]
                    [--max-stack SIZE] MODULE.wasm [ARGS]...

Opens DATABASE (created if missing; an in-memory database if omitted) and runs each
SQL argument, or else reads SQL and dot-commands from standard input: interactively
with prompts when it is a terminal, as a script otherwise. Enter \".help\" in the shell
for its dot-commands.

As in sqlite3, a script (piped standard input, .read files) goes on after an error
unless -bail (or .bail on) is given; SQL arguments stop at their first error. The exit
status is 1 if any error happened, 0 otherwise (or the code given to .exit); a failed
SQL argument exits with SQLite's result code, as in sqlite3. Ctrl-C
interrupts the running statement; at an idle prompt it clears the line, and a second
Ctrl-C in a row exits. A statement or input line may be at most 256 MiB; the columnar
modes lay out at most 128 MiB of a result.

`sandlite run` runs a WebAssembly program (WASI preview 1) on Sandlite's VM, with access
to nothing but the granted directories; `sandlite run --help` explains it.

OPTIONS include:
   -bail                stop after hitting an error
   -batch               force batch I/O (no prompts, as for a script)
   -box                 set output mode to 'box'
   -cmd COMMAND         run \"COMMAND\" before reading stdin
   -column              set output mode to 'column'
   -csv                 set output mode to 'csv'
   -echo                print inputs before execution
   -init FILENAME       read/process named file before the rest
   -[no]header          turn headers on or off
   -help                show this message
   -html                set output mode to HTML
   -interactive         force interactive I/O (prompts, errors do not stop input)
   -json                set output mode to 'json'
   -line                set output mode to 'line'
   -list                set output mode to 'list'
   -markdown            set output mode to 'markdown'
   -newline SEP         set output row separator. Default: '\\n'
   -no-cache            compile SQLite now, not from ~/.cache/sandlite (sandlite only)
   -nullvalue TEXT      set text string for NULL values. Default ''
   -quote               set output mode to 'quote'
   -readonly            open the database read-only
   -separator SEP       set output column separator. Default: '|'
   -table               set output mode to 'table'
   -tabs                set output mode to 'tabs'
   -version             show SQLite version
";

/// A command-line setting, applied in the order given (as sqlite3 does: `-csv
/// -separator ;` differs from `-separator ; -csv`).
#[derive(Debug)]
enum Setting {
    Mode(&'static str),
    Headers(bool),
    Separator(String),
    Newline(String),
    NullValue(String),
    Bail,
    Echo,
    /// `-cmd`: a command run before the input.
    Command(String),
}

/// What the command line asked for.
#[derive(Debug, Default)]
struct Options {
    database: Option<String>,
    commands: Vec<String>,
    settings: Vec<Setting>,
    init: Option<String>,
    /// `-batch` (false) or `-interactive` (true), else decided by the terminal.
    interactive: Option<bool>,
    read_only: bool,
    /// `-no-cache`: compile SQLite in this process, without the code cache.
    no_cache: bool,
    help: bool,
    version: bool,
}

const MODES: &[&str] = &[
    "box", "column", "csv", "html", "json", "line", "list", "markdown", "quote", "table", "tabs",
];

fn parse_options(args: impl Iterator<Item = std::ffi::OsString>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut only_positional = false;
    let mut args = args.map(|arg| match arg.to_str() {
        Some(text) => Ok(text.to_owned()),
        None => Err(format!("argument is not UTF-8: {}", arg.to_string_lossy())),
    });
    while let Some(arg) = args.next() {
        let arg = arg?;
        if !only_positional && arg.starts_with('-') && arg.len() > 1 {
            // Like sqlite3, one or two leading dashes mean the same.
            let name = arg.trim_start_matches('-');
            let mut value = || match args.next() {
                Some(value) => value,
                None => Err(format!("missing argument to {arg}")),
            };
            match name {
                "" => only_positional = true,
                "help" | "h" => options.help = true,
                "version" => options.version = true,
                "header" | "headers" => options.settings.push(Setting::Headers(true)),
                "noheader" | "noheaders" => options.settings.push(Setting::Headers(false)),
                "separator" => options.settings.push(Setting::Separator(value()?)),
                "newline" => options.settings.push(Setting::Newline(value()?)),
                "nullvalue" => options.settings.push(Setting::NullValue(value()?)),
                "cmd" => options.settings.push(Setting::Command(value()?)),
                "init" => options.init = Some(value()?),
                "bail" => options.settings.push(Setting::Bail),
                "echo" => options.settings.push(Setting::Echo),
                "batch" => options.interactive = Some(false),
                "interactive" => options.interactive = Some(true),
                "readonly" => options.read_only = true,
                "no-cache" => options.no_cache = true,
                _ => match MODES.iter().find(|m| **m == name) {
                    Some(mode) => options.settings.push(Setting::Mode(mode)),
                    None => return Err(format!("unknown option: {arg}")),
                },
            }
            continue;
        }
        if options.database.is_none() {
            options.database = Some(arg);
        } else {
            options.commands.push(arg);
        }
    }
    Ok(options)
}

/// Waits, when dropped, for SQLite's background compile (see `sandlite::wait_for_compiler`).
struct WaitForCompilerOnExit;

impl Drop for WaitForCompilerOnExit {
    fn drop(&mut self) {
        sandlite::wait_for_compiler();
    }
}

fn main() -> ExitCode {
    // `sandlite run MODULE.wasm ...` runs a WASI program instead (a database file named
    // `run` is still reachable as `./run`).
    if std::env::args_os().nth(1).is_some_and(|a| a == "run") {
        let args: Vec<String> = std::env::args_os()
            .skip(2)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return sandlite::run::main(args);
    }
    let options = match parse_options(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln_quiet(&format!("sandlite: {e}\nUse -help for a list of options."));
            return ExitCode::FAILURE;
        }
    };
    if options.help {
        // As sqlite3 does: the usage goes to standard error, with status 1.
        let _ = io::stderr().write_all(USAGE.as_bytes());
        return ExitCode::FAILURE;
    }
    let path = options
        .database
        .clone()
        .unwrap_or_else(|| ":memory:".to_owned());
    // Ctrl-C interrupts the running statement instead of killing the shell. The handler
    // goes in before the database opens (opening compiles SQLite, which takes a while on
    // a loaded machine): a Ctrl-C meanwhile is counted and stops the first statement.
    if !options.no_cache {
        // SQLite's machine code is kept between runs (see `sandlite::set_code_cache_dir`).
        sandlite::set_code_cache_dir(sandlite::default_cache_dir());
    }
    // A first run interprets SQLite while it compiles; the code reaches the cache only
    // if the compile finishes, so the shell waits for it on the way out (after output).
    let _store_compiled_code = (!options.no_cache).then_some(WaitForCompilerOnExit);
    if let Err(e) = sandlite::signals::install() {
        eprintln_quiet(&format!("sandlite: cannot handle Ctrl-C: {e}"));
    }
    let conn = match shell::open_database(&path, options.read_only) {
        Ok(c) => c,
        Err(e) => {
            eprintln_quiet(&format!("Error: unable to open database \"{path}\": {e}"));
            return ExitCode::FAILURE;
        }
    };
    if options.version {
        // sqlite3's line: version, then the source id (date, time and check-in hash).
        let line = conn.query_row("SELECT sqlite_version(), sqlite_source_id()", [], |r| {
            Ok(format!(
                "{} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        });
        return match line {
            Ok(line) => {
                print_quiet(&format!("{line}\n"));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln_quiet(&format!("Error: {e}"));
                ExitCode::FAILURE
            }
        };
    }
    let versions = format!(
        "sandlite {} (SQLite {})",
        env!("CARGO_PKG_VERSION"),
        conn.sqlite_version().unwrap_or_else(|_| "unknown".into())
    );
    shell::route_interrupts_to(&conn);
    let mut shell = Shell::new(conn, &path, Box::new(BufWriter::new(io::stdout())));
    let outcome = run(&mut shell, &options, &versions);
    let flushed = shell.flush();
    let flow = match outcome.and_then(|flow| flushed.map(|()| flow)) {
        Ok(flow) => flow,
        // The reader went away (`sandlite db ... | head`): nothing left to tell it.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Flow::Eof,
        Err(e) => {
            eprintln_quiet(&format!("Error: cannot write output: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let failed = shell.error_count() > 0;
    match flow {
        Flow::Quit(Some(code)) => ExitCode::from(code as u8),
        Flow::Bail => ExitCode::from(shell.bail_status()),
        Flow::Quit(None) | Flow::Eof if failed => ExitCode::FAILURE,
        Flow::Quit(None) | Flow::Eof => ExitCode::SUCCESS,
    }
}

/// Applies the command-line settings in order; `-cmd` commands run where they stand.
fn apply_settings(shell: &mut Shell, options: &Options) -> io::Result<Flow> {
    for setting in &options.settings {
        match setting {
            Setting::Mode(name) => {
                let style = shell.style_mut();
                match *name {
                    "csv" => style.column_separator = ",".into(),
                    "tabs" => {
                        style.column_separator = "\t".into();
                        style.row_separator = "\n".into();
                    }
                    "quote" => {
                        style.column_separator = ",".into();
                        style.row_separator = "\n".into();
                    }
                    _ => {}
                }
                if let Some(mode) = Mode::parse(name) {
                    shell.set_mode(mode);
                }
            }
            Setting::Headers(on) => shell.set_headers(*on),
            Setting::Separator(text) => shell.style_mut().column_separator = text.clone(),
            Setting::Newline(text) => shell.style_mut().row_separator = text.clone(),
            Setting::NullValue(text) => shell.style_mut().null_value = text.clone(),
            Setting::Bail => shell.set_bail(true),
            Setting::Echo => shell.set_echo(true),
            Setting::Command(command) => {
                let flow = shell.run_direct(command, Source::COMMAND_OPTION)?;
                if flow != Flow::Eof {
                    return Ok(flow);
                }
            }
        }
    }
    Ok(Flow::Eof)
}

fn run(shell: &mut Shell, options: &Options, versions: &str) -> io::Result<Flow> {
    let stdin = io::stdin();
    let interactive = options.interactive.unwrap_or_else(|| stdin.is_terminal());
    // sqlite3 reads the start-up file first (the -init file, else ~/.sqliterc, whether
    // interactive or not), knowing -bail already, then applies the options in order.
    if options.settings.iter().any(|s| matches!(s, Setting::Bail)) {
        shell.set_bail(true);
    }
    let flow = match (&options.init, std::env::home_dir()) {
        (Some(init), _) => shell.read_init(Path::new(init), true, interactive)?,
        (None, Some(home)) => shell.read_init(&home.join(".sqliterc"), false, interactive)?,
        (None, None) => Flow::Eof,
    };
    if flow != Flow::Eof {
        return Ok(flow);
    }
    let flow = apply_settings(shell, options)?;
    if flow != Flow::Eof {
        return Ok(flow);
    }
    if !options.commands.is_empty() {
        for command in &options.commands {
            let flow = shell.run_direct(command, Source::ARGUMENT)?;
            if flow != Flow::Eof {
                return Ok(flow);
            }
        }
        return Ok(Flow::Eof);
    }
    if interactive {
        let mut banner = format!("{versions}\nEnter \".help\" for usage hints.\n");
        if options.database.is_none() {
            banner.push_str("Connected to a transient in-memory database.\n");
        }
        shell.print(&banner)?;
        // Line editing and history when both ends are a terminal.
        #[cfg(feature = "line-editing")]
        if stdin.is_terminal() && io::stdout().is_terminal() {
            let prompt = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
            if let Ok(mut editor) = shell::EditorInput::new(prompt.clone()) {
                shell.use_editor_prompt(prompt);
                return shell.process(&mut editor, Source::TERMINAL);
            }
        }
        shell.process(&mut stdin.lock(), Source::TERMINAL)
    } else {
        shell.process(&mut stdin.lock(), Source::STDIN_SCRIPT)
    }
}

/// Prints to standard output, ignoring a reader that went away.
fn print_quiet(text: &str) {
    let _ = io::stdout().write_all(text.as_bytes());
}

/// Prints a line to standard error without panicking if it is closed.
fn eprintln_quiet(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}
