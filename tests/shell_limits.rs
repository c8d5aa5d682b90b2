//! The `sandlite` shell against hostile input and Ctrl-C: endless input, huge results in
//! column modes, SIGINT piped and at a terminal. Every run has a 4 GiB address-space
//! limit (`ulimit -v`), so a regression that buffers without bound fails (the shell
//! aborts or errors) instead of taking the machine down, and so Sandlite is checked to
//! run under such a limit at all.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// 4 GiB in the KiB units of `ulimit -v`.
const ADDRESS_SPACE_KIB: u64 = 4 << 20;

/// The shell under the address-space limit, in `dir`, with `args`.
fn limited(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    // A test run started in the background by a non-interactive shell inherits SIGINT
    // ignored, and the shell (rightly) keeps an ignored SIGINT ignored: give the child
    // the default action, as a foreground job has, so the Ctrl-C tests test something.
    // SAFETY: between fork and exec the closure calls only `signal`, which is
    // async-signal-safe, and allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    // No start-up file of the person running the tests (~/.sqliterc) is read.
    c.current_dir(dir)
        .env("HOME", dir)
        // The code cache stays out of `dir`.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sandlite-test-cache"),
        )
        .args([
            "-c",
            &format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""),
        ])
        .arg(env!("CARGO_BIN_EXE_sandlite"))
        .args(args);
    c
}

struct Run {
    stdout: String,
    stderr: String,
    status: ExitStatus,
}

fn output(mut command: Command, stdin: Stdio) -> Run {
    let out = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the shell");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status,
    }
}

/// Exited normally (not by a signal, not by an abort) with status 1, saying `says`.
fn assert_fails_with(r: &Run, says: &str) {
    assert_eq!(
        r.status.code(),
        Some(1),
        "status {} (stderr: {})",
        r.status,
        r.stderr
    );
    assert!(r.stderr.contains(says), "stderr: {}", r.stderr);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Waits up to `limit` for `child` to exit.
fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn sigint(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT failed");
}

const ENDLESS_COUNT: &str =
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";

#[test]
fn sandlite_runs_under_a_4_gib_address_space_limit() {
    // Each memory cannot have its 8 GiB guard reservation here: the bounds-checked
    // fallback must carry a file database in WAL mode (its -shm mapped into guest
    // memory), an attached one and a big temporary sort.
    let dir = tempdir();
    let script = "PRAGMA journal_mode=WAL;
CREATE TABLE t(x);
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 100000)
  INSERT INTO t SELECT randomblob(100) FROM r;
ATTACH 'other.db' AS other;
CREATE TABLE other.u AS SELECT * FROM t ORDER BY x LIMIT 10;
SELECT count(*) FROM t;
SELECT count(*) FROM other.u;
PRAGMA integrity_check;
";
    let r = output(limited(dir.path(), &["db", script]), Stdio::null());
    assert_eq!(
        (r.status.code(), r.stderr.as_str()),
        (Some(0), ""),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout, "wal\n100000\n10\nok\n");
}

#[test]
fn read_of_an_endless_file_is_an_error_not_unbounded_memory() {
    let dir = tempdir();
    let r = output(
        limited(dir.path(), &[":memory:", ".read /dev/zero"]),
        Stdio::null(),
    );
    assert_fails_with(
        &r,
        "Error: near line 1: line longer than 268435456 bytes (the shell's limit)",
    );
}

#[test]
fn endless_standard_input_is_an_error_not_unbounded_memory() {
    let dir = tempdir();
    // /dev/zero as standard input: one endless line of NUL bytes.
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let r = output(limited(dir.path(), &[":memory:"]), Stdio::from(zero));
    assert_fails_with(
        &r,
        "Error: near line 1: line longer than 268435456 bytes (the shell's limit)",
    );

    // One endless line (`yes | tr -d '\n'`), and endless lines of one statement
    // that never ends (`yes 'select 1'`), through a pipe.
    for (chunk, says) in [
        (&b"yyyyyyyy"[..], "line longer than 268435456 bytes"),
        (
            &b"select 1\n"[..],
            "near line 1: statement longer than 268435456 bytes",
        ),
    ] {
        let mut child = limited(dir.path(), &[":memory:"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let chunk = chunk.repeat((64 << 10) / chunk.len());
        let feeder = std::thread::spawn(move || {
            // Until the shell stops reading (a broken pipe), at most 1 GiB.
            for _ in 0..(1 << 30) / chunk.len() {
                if input.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let r = Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status,
        };
        assert_fails_with(&r, says);
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn import_of_an_endless_file_is_an_error_and_changes_nothing() {
    let dir = tempdir();
    let r = output(
        limited(dir.path(), &["db", ".import /dev/zero t"]),
        Stdio::null(),
    );
    assert_fails_with(
        &r,
        "Error: /dev/zero: line 1: record longer than 268435456 bytes",
    );
    let r = output(limited(dir.path(), &["db", ".tables"]), Stdio::null());
    assert_eq!((r.status.code(), r.stdout.as_str()), (Some(0), ""));
}

#[test]
fn table_mode_shows_what_fits_and_fails_on_an_endless_result() {
    let dir = tempdir();
    for mode in ["-table", "-column"] {
        // Rows of ~1 KB reach the 128 MiB layout limit after ~130,000 rows.
        let sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) \
                   SELECT i, printf('%.1000c', 'x') AS pad FROM r";
        let r = output(limited(dir.path(), &[mode, ":memory:", sql]), Stdio::null());
        assert_fails_with(&r, "Error: result too large for ");
        assert!(
            r.stderr
                .contains("it lays out at most 134217728 bytes, the first ")
        );
        let shown: usize = r
            .stderr
            .split("the first ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a row count");
        assert!((100_000..140_000).contains(&shown), "{shown} rows");
        let lines: Vec<&str> = r.stdout.lines().collect();
        if mode == "-table" {
            // Border, header, border, the rows, border.
            assert_eq!(lines.len(), shown + 4, "{mode}");
            let header: Vec<&str> = lines[1].split('|').map(str::trim).collect();
            assert_eq!(header, ["", "i", "pad", ""], "{}", lines[1]);
            assert_eq!(lines.last(), lines.first());
        } else {
            // `-column` alone shows no header (as in sqlite3).
            assert_eq!(lines.len(), shown, "{mode}");
        }
        let last_row = if mode == "-table" {
            lines[lines.len() - 2]
        } else {
            lines[lines.len() - 1]
        };
        assert!(
            last_row
                .trim_start_matches('|')
                .trim_start()
                .starts_with(&shown.to_string()),
            "{mode}: last row {}",
            &last_row[..20]
        );
    }
    // Streaming modes are not limited: 200,000 wide rows pass in list mode.
    let r = output(
        limited(
            dir.path(),
            &[
                ":memory:",
                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 200000) \
                 SELECT i, printf('%.1000c', 'x') FROM r",
            ],
        ),
        Stdio::null(),
    );
    assert_eq!((r.status.code(), r.stderr.as_str()), (Some(0), ""));
    assert_eq!(r.stdout.lines().count(), 200_000);
}

#[test]
fn ctrl_c_interrupts_a_piped_script_which_then_stops_with_status_1() {
    let dir = tempdir();
    let mut child = limited(dir.path(), &["db"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    write!(
        input,
        "create table t(x); insert into t values (1);\nselect 'started';\n{ENDLESS_COUNT};\n\
         insert into t values (2);\nselect 'not reached';\n"
    )
    .unwrap();
    // Standard input stays open: only the signal can end the query.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = [0u8; 8];
    stdout.read_exact(&mut seen).unwrap();
    assert_eq!(&seen, b"started\n");
    std::thread::sleep(Duration::from_millis(300));
    sigint(&child);
    let status = wait_timeout(&mut child, Duration::from_secs(30));
    drop(input);
    let Some(status) = status else {
        child.kill().unwrap();
        panic!("the shell did not stop on SIGINT");
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{status}; stderr: {stderr}");
    // sqlite3's words for an interrupted statement of a script.
    assert_eq!(stderr, "Runtime error near line 3: interrupted (9)\n");
    assert_eq!(rest, "");
    // The script stopped at the interrupted statement: nothing after it ran.
    let r = output(
        limited(dir.path(), &["db", "select group_concat(x) from t"]),
        Stdio::null(),
    );
    assert_eq!(r.stdout, "1\n");
}

#[test]
fn ctrl_c_interrupts_a_query_given_as_an_argument() {
    let dir = tempdir();
    let mut child = limited(dir.path(), &[":memory:", ENDLESS_COUNT])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    sigint(&child);
    let Some(status) = wait_timeout(&mut child, Duration::from_secs(30)) else {
        child.kill().unwrap();
        panic!("the shell did not stop on SIGINT");
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // As in sqlite3: an SQL argument that fails exits with the result code,
    // SQLITE_INTERRUPT here.
    assert_eq!(status.code(), Some(9), "{status}");
    assert_eq!(stderr, "Error: stepping, interrupted (9)\n");
}

/// A pseudo-terminal for the shell: what a person at a terminal gives it, Ctrl-C
/// included (the terminal turns the `^C` byte into SIGINT for its foreground process).
mod pty {
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    pub struct Terminal {
        master: File,
        pub child: Child,
        screen: Arc<Mutex<Vec<u8>>>,
    }

    /// A failed test must not leave its shell running.
    impl Drop for Terminal {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Terminal {
        /// Starts `command` as the session leader of a new terminal.
        pub fn spawn(mut command: Command) -> Terminal {
            // SAFETY: posix_openpt has no memory preconditions; the result is checked.
            let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
            assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            // SAFETY: `fd` is a new descriptor that nothing else owns.
            let master = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
            let mut name = [0 as libc::c_char; 128];
            // SAFETY: `fd` is a pty master; `name` is writable for its whole length.
            let ok = unsafe {
                libc::grantpt(fd) == 0
                    && libc::unlockpt(fd) == 0
                    && libc::ptsname_r(fd, name.as_mut_ptr(), name.len()) == 0
            };
            assert!(ok, "pty setup: {}", std::io::Error::last_os_error());
            // Wide enough that no typed line wraps: the shell's line editor redraws a
            // wrapping line, prompt included, and the tests count prompts.
            let size = libc::winsize {
                ws_row: 50,
                ws_col: 400,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: `fd` is a pty master; `size` is a valid winsize for the call.
            let sized = unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &size) } == 0;
            assert!(sized, "pty size: {}", std::io::Error::last_os_error());
            // SAFETY: ptsname_r wrote a NUL-terminated name into `name`.
            let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
            let slave = File::options()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOCTTY)
                .open(name.to_str().unwrap())
                .unwrap();
            // No history file in the home of whoever runs the tests (an empty
            // SANDLITE_HISTORY means none), unless the test chose one.
            if !command
                .get_envs()
                .any(|(name, _)| name == "SANDLITE_HISTORY")
            {
                command.env("SANDLITE_HISTORY", "");
            }
            command
                .stdin(Stdio::from(slave.try_clone().unwrap()))
                .stdout(Stdio::from(slave.try_clone().unwrap()))
                .stderr(Stdio::from(slave));
            // SAFETY: between fork and exec the closure calls only async-signal-safe
            // functions (setsid, ioctl) and allocates nothing.
            unsafe {
                command.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = command.spawn().expect("start the shell on a terminal");
            // The slave's descriptors live on only in the child.
            drop(command);
            let screen = Arc::new(Mutex::new(Vec::new()));
            let mut reader = master.try_clone().unwrap();
            let sink = screen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Ends with EIO once the child and its terminal are gone.
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
            Terminal {
                master,
                child,
                screen,
            }
        }

        /// Types `keys`.
        pub fn type_keys(&mut self, keys: &str) {
            self.master.write_all(keys.as_bytes()).unwrap();
        }

        /// Everything the terminal has shown.
        pub fn screen(&self) -> String {
            String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
        }

        /// Waits until the screen shows `text` `times` times in all.
        pub fn wait_for(&self, text: &str, times: usize) {
            let start = Instant::now();
            while self.screen().matches(text).count() < times {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no {text:?} (x{times}) on the screen:\n{}",
                    self.screen()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn ctrl_c_at_a_terminal_interrupts_the_query_and_keeps_the_session() {
    let dir = tempdir();
    let mut term = pty::Terminal::spawn(limited(dir.path(), &[]));
    term.wait_for("sandlite> ", 1);
    term.type_keys("create temp table t(x); insert into t values (5);\n");
    term.wait_for("sandlite> ", 2);
    term.type_keys(&format!("{ENDLESS_COUNT};\n"));
    std::thread::sleep(Duration::from_millis(1500));
    term.type_keys("\x03");
    term.wait_for("Runtime error: interrupted (9)", 1);
    term.wait_for("sandlite> ", 3);
    // Same connection, same in-memory database: the temporary table is still there.
    term.type_keys("select x * 10 from t;\n");
    term.wait_for("\n50\r\n", 1);
    term.wait_for("sandlite> ", 4);
    // A script run with .read is interrupted the same way.
    std::fs::write(dir.path().join("loop.sql"), format!("{ENDLESS_COUNT};\n")).unwrap();
    term.type_keys(".read loop.sql\n");
    std::thread::sleep(Duration::from_millis(1500));
    term.type_keys("\x03");
    term.wait_for("Runtime error near line 1: interrupted (9)", 1);
    term.wait_for("sandlite> ", 5);
    // One Ctrl-C at an idle prompt only gives a fresh prompt (the ones that stopped
    // statements do not count towards exiting).
    term.type_keys("\x03");
    term.wait_for("sandlite> ", 6);
    term.type_keys("select 6 * 7;\n");
    term.wait_for("\n42\r\n", 1);
    // Ctrl-D ends the session; an error happened, so the status is 1.
    term.type_keys("\x04");
    let status = wait_timeout(&mut term.child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the shell did not exit on Ctrl-D:\n{}", term.screen()));
    assert_eq!(status.code(), Some(1), "{}", term.screen());
}

#[test]
fn two_ctrl_c_at_an_idle_prompt_exit() {
    let dir = tempdir();
    let mut term = pty::Terminal::spawn(limited(dir.path(), &[]));
    term.wait_for("sandlite> ", 1);
    term.type_keys("\x03");
    term.wait_for("sandlite> ", 2);
    assert!(
        term.child.try_wait().unwrap().is_none(),
        "exited on one Ctrl-C"
    );
    term.type_keys("\x03");
    let status = wait_timeout(&mut term.child, Duration::from_secs(30)).unwrap_or_else(|| {
        panic!(
            "the shell did not exit on a second Ctrl-C:\n{}",
            term.screen()
        )
    });
    assert_eq!(status.code(), Some(1), "{}", term.screen());
    // Exited by itself, not killed by the signal.
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), None);
}

/// Starts the shell on a terminal with its history in `history`.
fn terminal_with_history(dir: &Path, history: &Path) -> pty::Terminal {
    let mut command = limited(dir, &[]);
    command.env("SANDLITE_HISTORY", history);
    pty::Terminal::spawn(command)
}

/// Ends a terminal session with Ctrl-D and requires status 0.
fn end_session(term: &mut pty::Terminal) {
    term.type_keys("\x04");
    let status = wait_timeout(&mut term.child, Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the shell did not exit on Ctrl-D:\n{}", term.screen()));
    assert_eq!(status.code(), Some(0), "{}", term.screen());
}

#[test]
fn line_editing_keys_edit_the_line_and_never_reach_the_sql() {
    let dir = tempdir();
    let history = dir.path().join("history");
    let mut term = terminal_with_history(dir.path(), &history);
    // The editor redraws the line (prompt included) as it changes: wait for results,
    // then give the next prompt a moment.
    let settle = || std::thread::sleep(Duration::from_millis(300));
    term.wait_for("sandlite> ", 1);
    // Left arrow, an insert, right arrow: "select 132;".
    term.type_keys("select 12\x1b[D3\x1b[C;\n");
    term.wait_for("\n132\r\n", 1);
    settle();
    // Home (Ctrl-A), a word, End (Ctrl-E), a key the editor does not bind (F5).
    term.type_keys("7 * 6;\x01select \x05\x1b[15~\n");
    term.wait_for("\n42\r\n", 1);
    settle();
    // Backspace.
    term.type_keys("select 'xyz\x7f\x7f';\n");
    term.wait_for("\nx\r\n", 1);
    settle();
    // Up arrow recalls the line before.
    term.type_keys("\x1b[A\n");
    term.wait_for("\nx\r\n", 2);
    settle();
    // Ctrl-C drops what was typed.
    term.type_keys("select 'dropped'");
    term.wait_for("'dropped'", 1);
    settle();
    term.type_keys("\x03");
    settle();
    term.type_keys("select 'kept';\n");
    term.wait_for("\nkept\r\n", 1);
    settle();
    end_session(&mut term);
    let screen = term.screen();
    assert!(!screen.contains("Error"), "{screen}");
    assert!(!screen.contains("\ndropped\r\n"), "{screen}");
}

#[test]
fn history_is_kept_between_sessions_and_searched_with_ctrl_r() {
    let dir = tempdir();
    let history = dir.path().join("history");
    let mut term = terminal_with_history(dir.path(), &history);
    term.wait_for("sandlite> ", 1);
    term.type_keys("select 40 + 2;\n");
    term.wait_for("\n42\r\n", 1);
    std::thread::sleep(Duration::from_millis(300));
    term.type_keys("select 'other';\n");
    term.wait_for("\nother\r\n", 1);
    std::thread::sleep(Duration::from_millis(300));
    end_session(&mut term);
    let saved = std::fs::read_to_string(&history).expect("history file");
    assert!(saved.contains("select 40 + 2;"), "{saved}");
    // A new session finds the first line with a reverse search for "40".
    let mut term = terminal_with_history(dir.path(), &history);
    term.wait_for("sandlite> ", 1);
    term.type_keys("\x1240");
    term.wait_for("40 + 2", 1);
    std::thread::sleep(Duration::from_millis(300));
    term.type_keys("\n");
    term.wait_for("\n42\r\n", 1);
    end_session(&mut term);
}
