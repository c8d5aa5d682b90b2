//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use sandlite_vfs::{OpenFlags, Vfs, VfsFile};

/// Read-write, create, main database.
pub fn main_db_flags() -> OpenFlags {
    OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_DB
}

/// Open (creating) `name` as a main database through `vfs`, the way SQLite does:
/// full pathname first.
pub fn open_db(vfs: &Vfs, name: &str) -> VfsFile {
    let full = vfs.full_pathname(name).expect("full pathname").path;
    vfs.open(Some(&full), main_db_flags())
        .expect("open database")
}

/// The `sqlite3` command-line shell, if installed; prints why a test is skipped if not.
pub fn sqlite3_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("sqlite3"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        println!("skipped: the sqlite3 command-line shell is not on PATH");
    }
    found
}

/// Run `sqlite3 db sql` to completion; returns (success, stdout, stderr).
pub fn sqlite3_run(cli: &Path, db: &Path, sql: &str) -> (bool, String, String) {
    let out = Command::new(cli)
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A long-running process we talk to through stdin/stdout.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Session {
    pub fn spawn(mut command: Command) -> Session {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child process");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        Session {
            child,
            stdin,
            stdout,
        }
    }

    /// Send text to the child.
    pub fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).expect("write to child");
        stdin.flush().expect("flush child stdin");
    }

    /// Read lines until one contains `marker`; panics if the child's output ends first.
    pub fn wait_for(&mut self, marker: &str) {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("read child stdout");
            assert!(
                n > 0,
                "child ended before printing {marker:?}; output: {seen}"
            );
            if line.contains(marker) {
                return;
            }
            seen.push_str(&line);
        }
    }

    /// Close stdin and wait for the child to exit; returns whether it succeeded.
    pub fn finish(mut self) -> bool {
        drop(self.stdin.take());
        self.child.wait().expect("wait for child").success()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `sqlite3` shell kept open on `db`.
pub fn sqlite3_session(cli: &Path, db: &Path) -> Session {
    let mut command = Command::new(cli);
    command.arg(db);
    Session::spawn(command)
}

/// This test binary run again with only the ignored helper test `helper`, which reads
/// its task from the environment variable `var`.
pub fn helper_session(helper: &str, var: &str, task: &str) -> Session {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = runner_command(exe);
    command
        .args([
            "--exact",
            helper,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(var, task);
    Session::spawn(command)
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
