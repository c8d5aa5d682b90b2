//! `sandlite`: an SQLite shell like `sqlite3`, running SQLite inside Sandlite's
//! WebAssembly sandbox.
//!
//! ```text
//! sandlite demo.db                      # interactive shell (prompts when on a terminal)
//! sandlite demo.db "SELECT * FROM t"    # run SQL (and dot-commands), print, exit
//! sandlite demo.db < script.sql         # run a script from standard input
//! ```

mod shell;

use sandlite::Connection;
use shell::{Flow, Mode, Shell, Source};
use std::io::{self, BufWriter, IsTerminal, Write};
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

A script (SQL arguments, piped standard input, .read files) stops at its first error;
at a terminal errors are shown and the shell goes on. The exit status is 1 if any
error happened, 0 otherwise (or the code given to .exit). Ctrl-C interrupts the running
statement; at an idle prompt, a second Ctrl-C in a row exits. A statement or input line
may be at most 256 MiB; column and table modes lay out at most 128 MiB of a result.

`sandlite run` runs a WebAssembly program (WASI preview 1) on Sandlite's VM, with access
to nothing but the granted directories; `sandlite run --help` explains it.

Options:
  -list, -csv, -column, -table, -json   output mode (default: list)
  -header, -noheader                    show column names or not
  -help, --help                         show this message
  -version, --version                   show the versions of sandlite and SQLite
";

/// What the command line asked for.
#[derive(Debug, Default)]
struct Options {
    database: Option<String>,
    commands: Vec<String>,
    mode: Option<Mode>,
    headers: Option<bool>,
    help: bool,
    version: bool,
}

fn parse_options(args: impl Iterator<Item = std::ffi::OsString>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut only_positional = false;
    for arg in args {
        let Some(arg) = arg.to_str().map(str::to_owned) else {
            return Err(format!("argument is not UTF-8: {}", arg.to_string_lossy()));
        };
        if !only_positional && arg.starts_with('-') && arg.len() > 1 {
            // Like sqlite3, one or two leading dashes mean the same.
            let name = arg.trim_start_matches('-');
            match name {
                "" => only_positional = true,
                "help" | "h" => options.help = true,
                "version" => options.version = true,
                "header" | "headers" => options.headers = Some(true),
                "noheader" | "noheaders" => options.headers = Some(false),
                _ => match Mode::parse(name) {
                    Some(mode) => options.mode = Some(mode),
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
            eprintln_quiet(&format!("sandlite: {e}\nUse --help for a list of options."));
            return ExitCode::FAILURE;
        }
    };
    if options.help {
        print_quiet(USAGE);
        return ExitCode::SUCCESS;
    }
    let path = options
        .database
        .clone()
        .unwrap_or_else(|| ":memory:".to_owned());
    // Ctrl-C interrupts the running statement instead of killing the shell. The handler
    // goes in before the database opens (opening compiles SQLite, which takes a while on
    // a loaded machine): a Ctrl-C meanwhile is counted and stops the first statement.
    if let Err(e) = sandlite::signals::install() {
        eprintln_quiet(&format!("sandlite: cannot handle Ctrl-C: {e}"));
    }
    let conn = match Connection::open(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln_quiet(&format!("Error: unable to open database \"{path}\": {e}"));
            return ExitCode::FAILURE;
        }
    };
    let versions = format!(
        "sandlite {} (SQLite {})",
        env!("CARGO_PKG_VERSION"),
        conn.sqlite_version().unwrap_or_else(|_| "unknown".into())
    );
    if options.version {
        print_quiet(&format!("{versions}\n"));
        return ExitCode::SUCCESS;
    }
    let interrupt = conn.get_interrupt_handle();
    sandlite::signals::set_action(move || interrupt.interrupt());
    let mut shell = Shell::new(conn, Box::new(BufWriter::new(io::stdout())));
    if let Some(mode) = options.mode {
        shell.set_mode(mode);
    }
    if let Some(on) = options.headers {
        shell.set_headers(on);
    }
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
        Flow::Bail => ExitCode::FAILURE,
        Flow::Quit(None) | Flow::Eof if failed => ExitCode::FAILURE,
        Flow::Quit(None) | Flow::Eof => ExitCode::SUCCESS,
    }
}

fn run(shell: &mut Shell, options: &Options, versions: &str) -> io::Result<Flow> {
    if !options.commands.is_empty() {
        for command in &options.commands {
            let flow = shell.process(&mut command.as_bytes(), Source::ARGUMENT)?;
            if flow != Flow::Eof {
                return Ok(flow);
            }
        }
        return Ok(Flow::Eof);
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let mut banner = format!("{versions}\nEnter \".help\" for usage hints.\n");
        if options.database.is_none() {
            banner.push_str("Connected to a transient in-memory database.\n");
        }
        shell.print(&banner)?;
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
