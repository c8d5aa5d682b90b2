//! WASI preview 1 end to end: programs built for wasm32-wasip1 (`tests/wasi/*.wasm`, from
//! the sources beside them by `tests/wasi/build.sh`) run on the VM with
//! `sandlite_vm::wasi`, and through `sandlite run`.

use sandlite::run::{RunIo, TRAP_STATUS, USAGE_STATUS};
use sandlite::vm::wasi::{self, DirPerms, I32Exit, OutputBuffer, WasiCtx, WasiCtxBuilder};
use sandlite::vm::{Engine, Linker, Module, Store, TrapCode};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const GUEST: &[u8] = include_bytes!("wasi/guest.wasm");
const RAW: &[u8] = include_bytes!("wasi/raw.wasm");
const SQLITE_DEMO: &[u8] = include_bytes!("wasi/sqlite_demo.wasm");

fn wasm_path(name: &str) -> String {
    format!("{}/tests/wasi/{name}.wasm", env!("CARGO_MANIFEST_DIR"))
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// `_start` returned.
    Returned,
    /// `proc_exit(code)`.
    Exit(i32),
    /// Another trap: its code and function.
    Trap(TrapCode, Option<String>),
}

struct Outcome {
    end: End,
    stdout: String,
    stderr: String,
}

/// Runs `_start` of `wasm` with stdout and stderr captured; `grant` adds the rest.
fn run(wasm: &[u8], args: &[&str], grant: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    let engine = Engine::default();
    let module = Module::new(&engine, wasm).expect("the test module compiles");
    let (stdout, stderr) = (OutputBuffer::new(), OutputBuffer::new());
    let mut builder = WasiCtx::builder();
    builder.args(args).unwrap();
    builder
        .stdout_buffer(stdout.clone())
        .stderr_buffer(stderr.clone());
    grant(&mut builder);
    let mut store = Store::new(&engine, builder.build());
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx| ctx).unwrap();
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiates");
    let start = instance
        .get_typed_func::<(), ()>(&store, "_start")
        .expect("a command module");
    let end = match start.call(&mut store, ()) {
        Ok(()) => End::Returned,
        Err(e) => {
            let trap = e.as_trap().unwrap_or_else(|| panic!("not a trap: {e}"));
            match trap.downcast_ref::<I32Exit>() {
                Some(exit) => End::Exit(exit.0),
                None => End::Trap(trap.code(), trap.function().map(str::to_owned)),
            }
        }
    };
    Outcome {
        end,
        stdout: stdout.to_string_lossy(),
        stderr: stderr.to_string_lossy(),
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// `tmp/root`: the directory to preopen, as `raw.c` describes it, with `tmp/outside`
/// and `tmp/outside.txt` beside it for escapes to aim at.
struct Sandbox {
    tmp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(tmp.path().join("outside")).unwrap();
        fs::write(tmp.path().join("outside/secret.txt"), "secret\n").unwrap();
        fs::write(tmp.path().join("outside.txt"), "outside\n").unwrap();
        fs::write(root.join("inside.txt"), "inside\n").unwrap();
        // Escape routes, created from the host side.
        symlink("../outside.txt", root.join("link_out")).unwrap();
        symlink("../outside", root.join("link_out_dir")).unwrap();
        symlink("/etc/passwd", root.join("abs_link")).unwrap();
        Sandbox { tmp }
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// Every path under the temporary directory with its file contents, to compare
    /// before and after a run.
    fn snapshot(&self) -> Vec<(String, String)> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let path = e.path();
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                let ft = e.file_type().unwrap();
                if ft.is_symlink() {
                    out.push((
                        rel,
                        format!("-> {}", fs::read_link(&path).unwrap().display()),
                    ));
                } else if ft.is_dir() {
                    out.push((rel.clone(), "dir".into()));
                    walk(&path, base, out);
                } else {
                    out.push((rel, fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.tmp.path(), self.tmp.path(), &mut out);
        out
    }
}

#[test]
fn arguments_and_environment_are_exactly_those_granted() {
    let out = run(GUEST, &["guest.wasm", "args", "two words", "ünï"], |b| {
        b.env("GREETING", "hello=world").unwrap();
        b.env("EMPTY", "").unwrap();
    });
    assert_eq!(out.end, End::Returned);
    assert_eq!(
        lines(&out.stdout),
        [
            "arg 0: guest.wasm",
            "arg 1: args",
            "arg 2: two words",
            "arg 3: ünï",
            "env EMPTY=",
            "env GREETING=hello=world",
        ]
    );
    // Nothing of the host's environment leaks in.
    assert!(std::env::var("PATH").is_ok());
    let out = run(GUEST, &["guest.wasm", "args"], |_| {});
    assert_eq!(lines(&out.stdout), ["arg 0: guest.wasm", "arg 1: args"]);
}

#[test]
fn stdin_stdout_and_stderr_are_separate_in_memory_streams() {
    let out = run(GUEST, &["g", "stdio"], |b| {
        b.stdin_bytes("hello, wasi\n");
    });
    assert_eq!(out.end, End::Returned);
    assert_eq!(out.stdout, "stdin had 12 bytes\nupper: HELLO, WASI\n");
    assert_eq!(out.stderr, "this goes to stderr\n");
    // The default stdin is empty.
    let out = run(GUEST, &["g", "stdio"], |_| {});
    assert_eq!(out.stdout, "stdin had 0 bytes\nupper: \n");
}

#[test]
fn files_and_directories_in_a_preopen() {
    let dir = tempfile::tempdir().unwrap();
    // The program makes and reads a hard link of its own: allowed explicitly.
    let out = run(GUEST, &["g", "files", "/sandbox"], |b| {
        b.preopened_dir(dir.path(), "/sandbox", DirPerms::ReadWrite)
            .unwrap()
            .allow_hard_links(true);
    });
    assert_eq!(out.end, End::Returned, "stdout:\n{}", out.stdout);
    assert_eq!(
        lines(&out.stdout),
        [
            "mkdir sub: ok",
            "write a.txt: ok",
            "read from 6: world",
            "position: 11",
            "after append: hello world!!",
            "len: 13 is_file: true is_dir: false",
            "after set_len(5): hello",
            "mtime: 1000000000",
            "read back: hello there",
            "rename: ok, a exists: false",
            "via hard link: hello there",
            "readlink: b.txt",
            "via link: hello there",
            "symlink is_symlink: true",
            "listing: b.txt,c,hard.txt,soft.txt",
            // wasi errno 55 is `notempty` (std has no ErrorKind for it on WASI).
            "rmdir non-empty: Uncategorized (errno 55)",
            "cleanup: ok, listing: ",
            "tree entries: 51",
            "remove_dir_all: ok, t exists: false",
        ]
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn files_are_unreachable_without_a_preopen() {
    let out = run(GUEST, &["g", "files", "/sandbox"], |_| {});
    assert_eq!(out.end, End::Exit(1));
    assert_eq!(out.stdout, "failed: NotFound (errno 44)\n");
}

#[test]
fn escapes_through_dotdot_and_symlinks_are_refused() {
    let sandbox = Sandbox::new();
    let before = sandbox.snapshot();
    let out = run(GUEST, &["g", "escapes", "/sandbox"], |b| {
        b.preopened_dir(sandbox.root(), "/sandbox", DirPerms::ReadWrite)
            .unwrap();
    });
    assert_eq!(out.end, End::Returned);
    assert_eq!(
        lines(&out.stdout),
        [
            "read /../outside.txt: PermissionDenied (errno 63)",
            "read /sub/../../outside.txt: PermissionDenied (errno 63)",
            "read /link_out: PermissionDenied (errno 63)",
            "read /link_out_dir/secret.txt: PermissionDenied (errno 63)",
            "read /abs_link: PermissionDenied (errno 63)",
            "write ../created.txt: PermissionDenied (errno 63)",
            "write link_out_dir/created.txt: PermissionDenied (errno 63)",
            "mkdir ../newdir: PermissionDenied (errno 63)",
            // wasi-libc finds no preopen for it and never asks the host.
            "read /etc/passwd: NotFound (errno 44)",
            "read inside.txt: ok",
        ]
    );
    assert_eq!(sandbox.snapshot(), before, "nothing may change");
}

#[test]
fn raw_wasi_calls_in_a_read_write_preopen() {
    let sandbox = Sandbox::new();
    let before = sandbox.snapshot();
    let started = Instant::now();
    let out = run(RAW, &["raw", "rw"], |b| {
        b.preopened_dir(sandbox.root(), "/sandbox", DirPerms::ReadWrite)
            .unwrap();
    });
    assert_eq!(out.end, End::Returned, "stdout:\n{}", out.stdout);
    // The 30 ms poll_oneoff clock wait happened.
    assert!(started.elapsed() >= Duration::from_millis(30));
    let expected = r#"open ..: perm
open ../outside.txt: perm
open sub/../../outside.txt: perm
open /etc/passwd: perm
open link_out: perm
open link_out_dir/secret.txt: perm
open abs_link: perm
open sub/../inside.txt: ok
open missing.txt: noent
open link_out without following: loop
stat ..: perm
lstat link_out: ok type 7
stat link_out (follow): perm
readlink link_out: ok "../outside.txt"
mkdir ..: perm
mkdir ../x: perm
mkdir link_out_dir/x: perm
rmdir ..: perm
unlink ../outside.txt: perm
unlink link_out_dir/secret.txt: perm
rename inside.txt -> ../stolen: perm
rename ../outside.txt -> got: perm
link ../outside.txt -> got: perm
symlink /etc/passwd: perm
set times ..: perm
open inside.txt: ok
read two iovecs: ok 7 "inside
"
seek end-4: ok 3
tell: ok 3
seek before start: inval
seek bad whence: inval
pread at 2: ok "side"
write read-only fd: badf
filestat: ok type 4 size 7 nlink 1
fdstat: ok type 4 read 1 write 0
gain rights: perm
drop read right: ok
read without right: badf
open sub: ok
renumber to closed fd: badf
renumber onto open fd: ok
old fd after renumber: badf
close renumbered: ok
close again: badf
random_get out of bounds: fault
fd_write bad buffer: fault
fd_write bad iovec array: fault
prestat: ok
prestat dir name: ok
preopen name: /sandbox (tag 0)
prestat of stdout: badf
prestat past the end: badf
readdir: ok entries 7 inside.txt 1 sub 1 link_out 1
readdir into 30 bytes: ok used 30
readdir past the end: ok used 0
readdir of a file: notdir
create new.txt: ok
create new.txt again (excl): exist
write: ok 10
pwrite: ok
allocate: ok
size after allocate: 16
set size 10: ok
set times: ok
set times both now and value: inval
stat: size 10 atim 5000000000 mtim 7000000000
datasync: ok
sync: ok
advise: ok
set append flag: ok
append flag: 1
content: "hello WasiW"
close: ok
mkdir d: ok
mkdir d again: exist
mkdir .: exist
rename new.txt -> d/moved.txt: ok
link d/moved.txt -> d/linked.txt: ok
symlink moved.txt -> d/sym: ok
readlink into 4 bytes: ok "move"
readlink of a file: inval
rmdir non-empty: notempty
rmdir a file: notdir
unlink a directory: isdir
unlink with trailing slash: notdir
unlink d/sym: ok
unlink d/linked.txt: ok
unlink d/moved.txt: ok
unlink missing: noent
rmdir d/: ok
rmdir .: inval
open with empty path: noent
poll: ok 2 events
  event userdata 22 type 1 error ok nbytes 7
  event userdata 33 type 2 error badf nbytes 0
poll clock: ok 1 events userdata 44 type 0 waited >= 30ms 1
poll nothing: inval
clock res: ok positive 1
clock bad id: inval
sock_accept: notsock
sock_shutdown bad fd: badf
sock_recv: notsock
sock_send: notsock
proc_raise: nosys
sched_yield: ok
stdout fdstat: ok seek 0 write 1
seek stdout: spipe
close preopen: ok
open after closing preopen: badf
"#;
    assert_eq!(out.stdout, expected);
    // Everything the program created it removed again; nothing outside changed.
    assert_eq!(sandbox.snapshot(), before);
}

#[test]
fn read_only_preopen_refuses_every_change() {
    let sandbox = Sandbox::new();
    let before = sandbox.snapshot();
    let out = run(RAW, &["raw", "ro"], |b| {
        b.preopened_dir(sandbox.root(), "/sandbox", DirPerms::ReadOnly)
            .unwrap();
    });
    assert_eq!(out.end, End::Returned);
    let expected = r#"create: perm
open for writing: perm
truncate: perm
open append: perm
mkdir: perm
unlink: perm
rmdir: perm
rename: perm
symlink: perm
link: perm
set times: perm
open for reading: ok
file rights: write 0 set size 0
write: badf
set size: perm
set times on fd: perm
allocate: perm
read: ok "inside"
"#;
    assert_eq!(out.stdout, expected);

    // The same through Rust's std.
    let out = run(GUEST, &["g", "readonly", "/ro"], |b| {
        b.preopened_dir(sandbox.root(), "/ro", DirPerms::ReadOnly)
            .unwrap();
    });
    assert_eq!(out.end, End::Returned);
    assert_eq!(
        lines(&out.stdout),
        [
            "content: inside",
            "",
            "read inside.txt: ok",
            "create new.txt: PermissionDenied (errno 63)",
            "open inside.txt for writing: PermissionDenied (errno 63)",
            "append inside.txt: PermissionDenied (errno 63)",
            "truncate inside.txt: PermissionDenied (errno 63)",
            "mkdir d: PermissionDenied (errno 63)",
            "remove inside.txt: PermissionDenied (errno 63)",
            "rename inside.txt: PermissionDenied (errno 63)",
            "rmdir sub: PermissionDenied (errno 63)",
            "names: abs_link,inside.txt,link_out,link_out_dir,sub",
            "list: ok",
        ]
    );
    assert_eq!(sandbox.snapshot(), before);
}

#[test]
fn clocks_and_randomness() {
    let out = run(GUEST, &["g", "clock"], |_| {});
    assert_eq!(
        out.stdout,
        "realtime after 2020: true\nmonotonic: true (x=0)\n"
    );
    let out = run(GUEST, &["g", "random"], |_| {});
    let l = lines(&out.stdout);
    assert_eq!(l[0], "errno 0 0");
    let (a, b) = (&l[1][2..], &l[2][2..]);
    assert_eq!((a.len(), b.len()), (64, 64));
    assert_ne!(a, b, "two draws of 32 random bytes are equal");
    assert_ne!(a, "0".repeat(64));
}

#[test]
fn poll_oneoff_sleeps_for_the_clock_timeout() {
    let started = Instant::now();
    let out = run(GUEST, &["g", "sleep", "150"], |_| {});
    let waited = started.elapsed();
    assert_eq!(out.stdout, "slept at least 150 ms: true\n");
    assert!(
        waited >= Duration::from_millis(150),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
}

#[test]
fn proc_exit_ends_the_run_with_its_code() {
    let out = run(GUEST, &["g", "exit", "3"], |_| {});
    assert_eq!(out.end, End::Exit(3));
    assert_eq!(out.stdout, "exiting with 3\n");
    let out = run(GUEST, &["g", "nonsense"], |_| {});
    assert_eq!(out.end, End::Exit(2));
    assert_eq!(out.stderr, "unknown scenario \"nonsense\"\n");
}

#[test]
fn a_trap_names_its_kind_and_function() {
    let out = run(GUEST, &["g", "trap"], |_| {});
    let End::Trap(code, function) = out.end else {
        panic!("expected a trap, got {:?}", out.end);
    };
    assert_eq!(code, TrapCode::Unreachable);
    let function = function.expect("the trap names its function");
    assert!(function.contains("trap_here"), "{function}");
    assert_eq!(out.stdout, "about to trap\n");
}

#[test]
fn sqlite_amalgamation_on_wasi_creates_a_database_the_native_cli_reads() {
    let dir = tempfile::tempdir().unwrap();
    let grant = |b: &mut WasiCtxBuilder| {
        b.preopened_dir(dir.path(), "/data", DirPerms::ReadWrite)
            .unwrap();
    };
    let out = run(SQLITE_DEMO, &["sqlite_demo", "/data/test.db", "100"], grant);
    assert_eq!(out.end, End::Returned, "stdout:\n{}", out.stdout);
    assert_eq!(
        lines(&out.stdout),
        [
            "sqlite 3.49.1, vfs unix-dotfile",
            "summary: n=100 total=2525.0 last=row-99",
            "range: id=4 name=row-4",
            "range: id=5 name=row-5",
            "range: id=6 name=row-6",
            "after: n=90 negative=9",
            "check: integrity_check=ok",
            "done",
        ]
    );
    // Reopen the same file and add to it.
    let out = run(SQLITE_DEMO, &["sqlite_demo", "/data/test.db", "50"], grant);
    assert_eq!(out.end, End::Returned, "stdout:\n{}", out.stdout);
    assert!(out.stdout.contains("summary: n=140 "), "{}", out.stdout);
    assert!(
        out.stdout.contains("after: n=90 negative=9"),
        "{}",
        out.stdout
    );

    // Only the database is left: no journal, no lock directory.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["test.db"]);

    let cli = Path::new("/usr/bin/sqlite3");
    if !cli.exists() {
        eprintln!("skipping the native check: /usr/bin/sqlite3 is not installed");
        return;
    }
    let native = std::process::Command::new(cli)
        .arg(dir.path().join("test.db"))
        .arg("SELECT count(*), sum(score < 0), max(id) FROM t; PRAGMA integrity_check;")
        .output()
        .unwrap();
    assert!(native.status.success(), "{native:?}");
    assert_eq!(String::from_utf8_lossy(&native.stdout), "90|9|90\nok\n");
}

/// `sandlite run` with captured streams.
fn cli(args: &[&str], stdin: &str) -> (u8, String, String) {
    let io = RunIo {
        stdin: Some(stdin.as_bytes().to_vec()),
        stdout: Some(OutputBuffer::new()),
        stderr: Some(OutputBuffer::new()),
    };
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let status = sandlite::run::run(&args, &io);
    let text = |b: &Option<OutputBuffer>| b.as_ref().unwrap().to_string_lossy();
    (status, text(&io.stdout), text(&io.stderr))
}

#[test]
fn cli_runs_commands_with_granted_dirs_env_and_exit_codes() {
    let guest = wasm_path("guest");
    let (status, out, _) = cli(&["--env", "A=1", &guest, "args", "x"], "");
    assert_eq!(status, 0);
    assert_eq!(
        out,
        format!("arg 0: {guest}\narg 1: args\narg 2: x\nenv A=1\n")
    );

    let (status, out, _) = cli(&[&guest, "stdio"], "abc");
    assert_eq!(
        (status, out.as_str()),
        (0, "stdin had 3 bytes\nupper: ABC\n")
    );

    let (status, out, _) = cli(&[&guest, "exit", "3"], "");
    assert_eq!((status, out.as_str()), (3, "exiting with 3\n"));
    // Like POSIX exit(), only the low 8 bits of the code reach the shell.
    let (status, _, _) = cli(&[&guest, "exit", "300"], "");
    assert_eq!(status, 44);

    let (status, _, err) = cli(&[&guest, "trap"], "");
    assert_eq!(status, TRAP_STATUS);
    assert!(
        err.ends_with("guest.wasm: trap: unreachable (in guest::trap_here)\n"),
        "{err}"
    );

    let sandbox = Sandbox::new();
    let spec = format!("{}::/ro", sandbox.root().display());
    let (status, out, _) = cli(&["--dir-ro", &spec, &guest, "readonly", "/ro"], "");
    assert_eq!(status, 0);
    assert!(out.contains("create new.txt: PermissionDenied"), "{out}");
    let spec = format!("{}::/sandbox", sandbox.root().display());
    let (status, out, _) = cli(&["--dir", &spec, &wasm_path("raw"), "ro"], "");
    assert_eq!(status, 0);
    assert!(out.starts_with("create: ok\n"), "{out}");
    assert!(sandbox.root().join("new.txt").exists());
}

#[test]
fn cli_invokes_exports_and_reports_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("calc.wasm");
    let wat = r#"(module
        (func (export "add") (param i32 i64) (result i64)
            local.get 0 i64.extend_i32_s local.get 1 i64.add)
        (func (export "pair") (param f64) (result f64 i32)
            local.get 0 f64.const 2 f64.mul i32.const 7)
        (func (export "boom") unreachable))"#;
    let buf = wast::parser::ParseBuffer::new(wat).unwrap();
    let mut parsed = wast::parser::parse::<wast::Wat<'_>>(&buf).unwrap();
    fs::write(&module, parsed.encode().unwrap()).unwrap();
    let m = module.to_str().unwrap();

    assert_eq!(
        cli(&["--invoke", "add", m, "-5", "0x10"], ""),
        (0, "11\n".into(), String::new())
    );
    assert_eq!(
        cli(&["--invoke=pair", m, "1.25"], ""),
        (0, "2.5\n7\n".into(), String::new())
    );
    let (status, _, err) = cli(&["--invoke", "boom", m], "");
    assert_eq!(status, TRAP_STATUS);
    assert!(err.contains("unreachable"), "{err}");

    for (args, says) in [
        (vec!["--invoke", "add", m, "1"], "give 2 arguments"),
        (
            vec!["--invoke", "add", m, "x", "1"],
            "`x` is not a valid i32",
        ),
        (vec!["--invoke", "nope", m], "exports no function `nope`"),
        (vec![m], "has no `_start` export"),
        (vec!["--bogus", m], "unknown option --bogus"),
    ] {
        let (status, _, err) = cli(&args, "");
        assert_eq!(status, USAGE_STATUS, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (status, _, err) = cli(&["/nonexistent/x.wasm"], "");
    assert_eq!(status, 1);
    assert!(err.contains("cannot read /nonexistent/x.wasm"), "{err}");
    let bad = dir.path().join("bad.wasm");
    fs::write(&bad, b"\0asm\x01\0\0\0\x05").unwrap();
    let (status, _, err) = cli(&[bad.to_str().unwrap()], "");
    assert_eq!(status, 1);
    assert!(err.contains("malformed"), "{err}");
    let missing_dir = format!("{}/nope::/x", dir.path().display());
    let (status, _, err) = cli(&["--dir", &missing_dir, m], "");
    assert_eq!(status, 1);
    assert!(err.contains("cannot open directory"), "{err}");
}

#[test]
fn the_sandlite_binary_dispatches_run() {
    let guest = wasm_path("guest");
    let dir = tempfile::tempdir().unwrap();
    let output = runner_command(env!("CARGO_BIN_EXE_sandlite"))
        .args(["run", "--env", "A=1", &guest, "args", "x"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("arg 0: {guest}\narg 1: args\narg 2: x\nenv A=1\n")
    );
    let status = runner_command(env!("CARGO_BIN_EXE_sandlite"))
        .args(["run", &guest, "exit", "3"])
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(3));
}

/// Compiles `wat` into `dir/name.wasm` and returns its path.
fn wat_module(dir: &Path, name: &str, wat: &str) -> String {
    let buf = wast::parser::ParseBuffer::new(wat).unwrap();
    let mut parsed = wast::parser::parse::<wast::Wat<'_>>(&buf).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    fs::write(&path, parsed.encode().unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Writes "started\n" to stdout, then spins forever.
const SPIN: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "started\n")
    (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 8))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (loop $forever (br $forever))))"#;

const LIMITS: &str = r#"(module
    (memory (export "memory") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func $deep (export "deep") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (i32.add (i32.const 1)
                (call $deep (i32.sub (local.get 0) (i32.const 1))))))))"#;

#[test]
fn cli_timeout_stops_a_spinning_or_sleeping_guest_with_status_124() {
    let dir = tempfile::tempdir().unwrap();
    let spin = wat_module(dir.path(), "spin", SPIN);
    let started = Instant::now();
    let (status, out, err) = cli(&["--timeout", "300ms", &spin], "");
    assert_eq!(status, sandlite::run::TIMEOUT_STATUS, "{err}");
    assert_eq!(out, "started\n");
    assert!(
        err.ends_with("spin.wasm: timed out after 300ms (--timeout)\n"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // A guest asleep in poll_oneoff is stopped at once, not after its minute.
    let started = Instant::now();
    let (status, out, _) = cli(
        &["--timeout=0.2s", &wasm_path("guest"), "sleep", "60000"],
        "",
    );
    assert_eq!((status, out.as_str()), (sandlite::run::TIMEOUT_STATUS, ""));
    assert!(started.elapsed() < Duration::from_secs(10));
    // A guest that finishes in time is not affected.
    let (status, out, _) = cli(
        &["--timeout", "60s", &wasm_path("guest"), "sleep", "10"],
        "",
    );
    assert_eq!((status, out.as_str()), (0, "slept at least 10 ms: true\n"));
}

#[test]
fn cli_memory_call_depth_and_stack_limits() {
    let dir = tempfile::tempdir().unwrap();
    let m = wat_module(dir.path(), "limits", LIMITS);
    // Default: up to 4 GiB.
    assert_eq!(cli(&["--invoke", "grow", &m, "100"], "").1, "1\n");
    // 2 MiB = 32 pages: growing to 32 works, past it memory.grow says -1.
    assert_eq!(
        cli(&["--max-memory", "2MiB", "--invoke", "grow", &m, "31"], "").1,
        "1\n"
    );
    assert_eq!(
        cli(&["--max-memory", "2MiB", "--invoke", "grow", &m, "32"], "").1,
        "-1\n"
    );
    // A module whose initial memory exceeds the limit cannot be instantiated.
    let big = wat_module(
        dir.path(),
        "big",
        "(module (memory 32) (func (export \"_start\")))",
    );
    let (status, _, err) = cli(&["--max-memory", "1M", &big], "");
    assert_eq!(status, 1, "{err}");
    assert!(
        err.contains("exceeds the store's limit of 1048576 bytes"),
        "{err}"
    );

    assert_eq!(cli(&["--invoke", "deep", &m, "5000"], "").1, "5000\n");
    for limit in [["--max-call-depth", "100"], ["--max-stack", "4K"]] {
        let (status, _, err) = cli(&[limit[0], limit[1], "--invoke", "deep", &m, "5000"], "");
        assert_eq!(status, TRAP_STATUS, "{limit:?}: {err}");
        assert!(err.contains("call stack exhausted"), "{limit:?}: {err}");
    }
    assert_eq!(
        cli(
            &["--max-call-depth", "6000", "--invoke", "deep", &m, "5000"],
            ""
        )
        .1,
        "5000\n"
    );
}

/// `sandlite run` as a process, with stdin piped and kept open.
fn spawn_run(args: &[&str]) -> std::process::Child {
    let mut command = runner_command(env!("CARGO_BIN_EXE_sandlite"));
    // A test run started in the background by a non-interactive shell inherits SIGINT
    // ignored, which `sandlite run` keeps: give the child the default action.
    // SAFETY: between fork and exec the closure calls only `signal`, which is
    // async-signal-safe, and allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command
        .arg("run")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most 30 s) for `child`, killing it if it does not end.
fn finish(mut child: std::process::Child) -> (std::process::ExitStatus, String, String) {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("sandlite run did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status, text(&out.stdout), text(&out.stderr))
}

#[test]
fn ctrl_c_stops_the_guest_with_status_130_keeping_its_output() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let spin = wat_module(dir.path(), "spin", SPIN);
    for args in [
        vec![spin.as_str()],
        vec![&wasm_path("guest"), "sleep", "60000"],
    ] {
        let mut child = spawn_run(&args.iter().map(|s| &**s).collect::<Vec<_>>());
        if args.len() == 1 {
            let mut seen = [0u8; 8];
            child
                .stdout
                .as_mut()
                .unwrap()
                .read_exact(&mut seen)
                .unwrap();
            assert_eq!(&seen, b"started\n");
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        let ok = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let (status, _, err) = finish(child);
        assert_eq!(
            status.code(),
            Some(sandlite::run::INTERRUPTED_STATUS.into()),
            "{args:?}: {status}: {err}"
        );
        assert!(err.ends_with(": interrupted\n"), "{err}");
    }
}

#[test]
fn the_timeout_also_wakes_a_guest_blocked_reading_stdin() {
    // stdin is a pipe that stays open: the guest's read blocks in the kernel.
    let child = spawn_run(&["--timeout", "300ms", &wasm_path("guest"), "stdio"]);
    let (status, out, err) = finish(child);
    assert_eq!(
        status.code(),
        Some(sandlite::run::TIMEOUT_STATUS.into()),
        "{status}: {out} {err}"
    );
    assert!(err.contains("timed out after 300ms"), "{err}");
}

/// `symlink(TARGET, PATH)` and `rename(FROM, TO)` below preopen 3, returning the errno;
/// the strings are written into memory by the caller's arguments (offset, length).
const LINKS: &str = r#"(module
    (import "wasi_snapshot_preview1" "path_symlink"
        (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_rename"
        (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_link"
        (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "../../../../../../etc/shadow")
    (data (i32.const 100) "x")
    (data (i32.const 110) "../inside.txt")
    (data (i32.const 130) "sub/y")
    (data (i32.const 140) "../../outside.txt")
    (data (i32.const 160) "sub/z")
    (data (i32.const 170) "y")
    (data (i32.const 180) "sub/deeper/w")
    (data (i32.const 200) "a/../../outside.txt")
    (func (export "symlink") (param i32 i32 i32 i32) (result i32)
        (call $symlink (local.get 0) (local.get 1) (i32.const 3) (local.get 2) (local.get 3)))
    (func (export "rename") (param i32 i32 i32 i32) (result i32)
        (call $rename (i32.const 3) (local.get 0) (local.get 1)
            (i32.const 3) (local.get 2) (local.get 3)))
    (func (export "link") (param i32 i32 i32 i32) (result i32)
        (call $link (i32.const 3) (i32.const 0) (local.get 0) (local.get 1)
            (i32.const 3) (local.get 2) (local.get 3))))"#;

#[test]
fn a_guest_cannot_plant_a_relative_symlink_that_leads_out_of_its_preopen() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let m = wat_module(dir.path(), "links", LINKS);
    let grant = format!("{}::/box", sandbox.root().display());
    let call = |f: &str, args: [&str; 4]| -> String {
        let mut argv = vec!["--dir", grant.as_str(), "--invoke", f, m.as_str()];
        argv.extend(args);
        let (status, out, err) = cli(&argv, "");
        assert_eq!(status, 0, "{f} {args:?}: {err}");
        out.trim().to_owned()
    };
    fs::create_dir(sandbox.root().join("sub/deeper")).unwrap();
    let before = sandbox.snapshot();
    // At the top of the preopen: any `..` leads out (issue: `head box/x` printed
    // /etc/shadow from the host's side).
    assert_eq!(call("symlink", ["0", "28", "100", "1"]), "63", "perm");
    // One level down, one `..` stays inside; two do not.
    assert_eq!(call("symlink", ["140", "17", "160", "5"]), "63");
    // `a/..` is refused: `a` might be a link to `.`.
    assert_eq!(call("symlink", ["200", "19", "180", "12"]), "63");
    assert_eq!(sandbox.snapshot(), before, "nothing was created");
    assert_eq!(call("symlink", ["110", "13", "130", "5"]), "0");
    assert_eq!(
        fs::read_to_string(sandbox.root().join("sub/y")).unwrap(),
        "inside\n"
    );
    // Moving (or hard-linking) that link to the top would make it lead out: refused.
    assert_eq!(call("rename", ["130", "5", "170", "1"]), "63");
    assert_eq!(call("link", ["130", "5", "170", "1"]), "63");
    assert!(sandbox.root().join("sub/y").is_symlink());
    assert!(!sandbox.root().join("y").exists());
    // Within the same depth it may move.
    assert_eq!(call("rename", ["130", "5", "160", "5"]), "0");
    assert!(sandbox.root().join("sub/z").is_symlink());
}

/// Opens `hard.txt` below preopen 3 to append and writes "appended\n": the first
/// nonzero errno, or 0.
const APPEND: &str = r#"(module
    (import "wasi_snapshot_preview1" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write"
        (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "hard.txt")
    (data (i32.const 16) "appended\n")
    (func (export "append") (result i32) (local $e i32)
        ;; rights: fd_write (1 << 6); fdflags: append (1)
        (local.set $e (call $open (i32.const 3) (i32.const 1) (i32.const 0) (i32.const 8)
            (i32.const 0) (i64.const 64) (i64.const 0) (i32.const 1) (i32.const 32)))
        (if (local.get $e) (then (return (local.get $e))))
        (i32.store (i32.const 40) (i32.const 16))
        (i32.store (i32.const 44) (i32.const 9))
        (call $write (i32.load (i32.const 32)) (i32.const 40) (i32.const 1) (i32.const 48))))"#;

#[test]
fn a_hard_link_in_a_preopen_to_an_outside_file_is_refused_unless_allowed() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let m = wat_module(dir.path(), "append", APPEND);
    let outside = sandbox.tmp.path().join("outside.txt");
    fs::hard_link(&outside, sandbox.root().join("hard.txt")).unwrap();
    let grant = format!("{}::/box", sandbox.root().display());
    let (status, out, err) = cli(&["--dir", &grant, "--invoke", "append", &m], "");
    assert_eq!((status, out.as_str()), (0, "63\n"), "perm; {err}");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "outside\n");
    // The host allowed it: the append goes through (to the outside file: the risk).
    let (status, out, _) = cli(
        &[
            "--allow-hard-links",
            "--dir",
            &grant,
            "--invoke",
            "append",
            &m,
        ],
        "",
    );
    assert_eq!((status, out.as_str()), (0, "0\n"));
    assert_eq!(fs::read_to_string(&outside).unwrap(), "outside\nappended\n");
    // A file with one name opens as before.
    fs::remove_file(sandbox.root().join("hard.txt")).unwrap();
    fs::write(sandbox.root().join("hard.txt"), "own\n").unwrap();
    let (status, out, _) = cli(&["--dir", &grant, "--invoke", "append", &m], "");
    assert_eq!((status, out.as_str()), (0, "0\n"));
    assert_eq!(
        fs::read_to_string(sandbox.root().join("hard.txt")).unwrap(),
        "own\nappended\n"
    );
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
