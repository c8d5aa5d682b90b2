//! The compiler's code cache (`Config::cache_dir`): a second compile loads, the loaded
//! code runs as the compiled code did (type checks of `call_indirect` included, in a
//! process whose type ids differ), and a damaged, truncated, swapped or foreign entry,
//! racing writers and a failing disk all end in correct code.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use sandlite_vm::{Config, Engine, Linker, Module, Store, Strategy, TrapCode};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

/// Calls through a table (type-checked against process-wide type ids), memory
/// accesses that trap past the end, and a loop: what must survive a round trip.
const PROGRAM: &str = r#"(module
    (type $bin (func (param i32 i32) (result i32)))
    (type $un (func (param i32) (result i32)))
    (memory 1)
    (table funcref (elem $add $sub $neg))
    (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
    (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
    (func $neg (type $un) (i32.sub (i32.const 0) (local.get 0)))
    (func (export "bin") (param i32 i32 i32) (result i32)
        (call_indirect (type $bin) (local.get 1) (local.get 2) (local.get 0)))
    (func (export "un") (param i32 i32) (result i32)
        (call_indirect (type $un) (local.get 1) (local.get 0)))
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "sum") (param i32) (result i64) (local $s i64)
        (block (loop
            (br_if 1 (i32.eqz (local.get 0)))
            (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get 0))))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br 0)))
        (local.get $s)))"#;

/// Another module, for entries of the wrong module.
const OTHER: &str = r#"(module (func (export "sum") (param i32) (result i64)
    (i64.const 42)))"#;

fn cached_engine(dir: &Path) -> Engine {
    cached_engine_with(dir, |c| c)
}

/// A compiling engine with the cache in `dir` and the settings `more` adds.
fn cached_engine_with(dir: &Path, more: impl FnOnce(Config) -> Config) -> Engine {
    Engine::new(more(
        Config::default()
            .strategy(Strategy::Compiler)
            .cache_dir(dir),
    ))
}

/// Runs `PROGRAM`'s exports and checks every result and trap.
fn check_program(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, ());
    let inst = Linker::new(engine).instantiate(&mut store, module).unwrap();
    let bin = inst
        .get_typed_func::<(i32, i32, i32), i32>(&store, "bin")
        .unwrap();
    let un = inst
        .get_typed_func::<(i32, i32), i32>(&store, "un")
        .unwrap();
    let load = inst.get_typed_func::<i32, i32>(&store, "load").unwrap();
    let sum = inst.get_typed_func::<i32, i64>(&store, "sum").unwrap();
    assert_eq!(bin.call(&mut store, (0, 40, 2)).unwrap(), 42);
    assert_eq!(bin.call(&mut store, (1, 40, 2)).unwrap(), 38);
    assert_eq!(un.call(&mut store, (2, 5)).unwrap(), -5);
    let trap = |e: sandlite_vm::Error| e.as_trap().map(|t| t.code());
    assert_eq!(
        trap(bin.call(&mut store, (2, 1, 1)).unwrap_err()),
        Some(TrapCode::IndirectCallTypeMismatch)
    );
    assert_eq!(
        trap(un.call(&mut store, (0, 1)).unwrap_err()),
        Some(TrapCode::IndirectCallTypeMismatch)
    );
    assert_eq!(
        trap(bin.call(&mut store, (3, 1, 1)).unwrap_err()),
        Some(TrapCode::UndefinedElement)
    );
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    assert_eq!(
        trap(load.call(&mut store, 65533).unwrap_err()),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(sum.call(&mut store, 100_000).unwrap(), 5_000_050_000);
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The one entry in `dir`.
fn only_entry(dir: &Path) -> PathBuf {
    let files = entries(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".code"), "{files:?}");
    files[0].clone()
}

#[test]
fn the_second_compile_loads_and_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let engine = cached_engine(dir.path());
    let first = Module::new(&engine, wat(PROGRAM)).unwrap();
    assert!(!first.is_from_code_cache());
    check_program(&engine, &first);
    only_entry(dir.path());
    let second = Module::new(&engine, wat(PROGRAM)).unwrap();
    assert!(second.is_from_code_cache());
    assert_eq!(first.native_code(), second.native_code());
    check_program(&engine, &second);
    // Without a cache directory nothing is read or written.
    let plain = Engine::new(Config::default().strategy(Strategy::Compiler));
    assert!(
        !Module::new(&plain, wat(PROGRAM))
            .unwrap()
            .is_from_code_cache()
    );
    // The interpreter never uses it.
    let interp = cached_engine_with(dir.path(), |c| c.strategy(Strategy::Interpreter));
    assert!(
        !Module::new(&interp, wat(PROGRAM))
            .unwrap()
            .is_from_code_cache()
    );
}

#[test]
fn code_loaded_in_another_process_gets_that_process_type_ids() {
    let dir = tempfile::tempdir().unwrap();
    let engine = cached_engine(dir.path());
    Module::new(&engine, wat(PROGRAM)).unwrap();
    child("load-after-other-types", dir.path()).unwrap();
}

#[test]
fn damaged_entries_are_recompiled_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let engine = cached_engine(dir.path());
    Module::new(&engine, wat(PROGRAM)).unwrap();
    let entry = only_entry(dir.path());
    let good = std::fs::read(&entry).unwrap();
    let mut damaged: Vec<(&str, Vec<u8>)> = Vec::new();
    // A flipped byte in the code (its last byte), in the header, in the tables.
    for at in [good.len() - 1, 20, 120] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        damaged.push(("a flipped byte", bad));
    }
    damaged.push(("truncated", good[..good.len() / 2].to_vec()));
    damaged.push(("truncated to nothing", Vec::new()));
    damaged.push(("zeroed", vec![0; good.len()]));
    for (what, bytes) in damaged {
        std::fs::write(&entry, &bytes).unwrap();
        let m = Module::new(&engine, wat(PROGRAM)).unwrap();
        assert!(!m.is_from_code_cache(), "{what} entry loaded");
        check_program(&engine, &m);
        assert_eq!(std::fs::read(&entry).unwrap(), good, "{what}: rewritten");
        assert!(
            Module::new(&engine, wat(PROGRAM))
                .unwrap()
                .is_from_code_cache()
        );
    }
}

#[test]
fn swapped_and_foreign_entries_are_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let engine = cached_engine(dir.path());
    Module::new(&engine, wat(PROGRAM)).unwrap();
    let program_entry = only_entry(dir.path());
    Module::new(&engine, wat(OTHER)).unwrap();
    let other_entry = entries(dir.path())
        .into_iter()
        .find(|p| *p != program_entry)
        .unwrap();
    // Another module's entry under this module's name: a miss, then the right code.
    std::fs::copy(&other_entry, &program_entry).unwrap();
    let m = Module::new(&engine, wat(PROGRAM)).unwrap();
    assert!(!m.is_from_code_cache());
    check_program(&engine, &m);

    // The baseline CPU (no SSE4.1, LZCNT, BMI1, POPCNT) has entries of its own, and
    // an entry for other CPU features under its name is a miss too.
    let baseline = cached_engine_with(dir.path(), |c| c.baseline_cpu(true));
    let b = Module::new(&baseline, wat(PROGRAM)).unwrap();
    assert!(
        !b.is_from_code_cache(),
        "the detected CPU's entry served the baseline"
    );
    check_program(&baseline, &b);
    let baseline_entry = entries(dir.path())
        .into_iter()
        .find(|p| *p != program_entry && *p != other_entry)
        .expect("an entry of its own");
    std::fs::copy(&program_entry, &baseline_entry).unwrap();
    let b = Module::new(&baseline, wat(PROGRAM)).unwrap();
    assert!(!b.is_from_code_cache());
    check_program(&baseline, &b);
    // Settings that change code have their own entries too.
    let unchecked = cached_engine_with(dir.path(), |c| c.omit_loop_interrupt_checks(true));
    assert!(
        !Module::new(&unchecked, wat(PROGRAM))
            .unwrap()
            .is_from_code_cache()
    );
    assert_eq!(entries(dir.path()).len(), 4);
}

#[test]
fn racing_processes_each_run_correct_code_and_leave_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| spawn_child("compile-and-check", dir.path()))
        .collect();
    for c in children {
        finished("compile-and-check", c.wait_with_output().unwrap()).unwrap();
    }
    only_entry(dir.path());
    let engine = cached_engine(dir.path());
    let m = Module::new(&engine, wat(PROGRAM)).unwrap();
    assert!(m.is_from_code_cache());
    check_program(&engine, &m);
}

#[test]
fn a_full_disk_or_unusable_directory_means_compiling_without_error() {
    let dir = tempfile::tempdir().unwrap();
    // Writes fail past 64 bytes in the child (RLIMIT_FSIZE): the entry cannot be stored.
    child("compile-with-a-full-disk", dir.path()).unwrap();
    assert_eq!(
        entries(dir.path()),
        Vec::<PathBuf>::new(),
        "nothing left behind"
    );
    // A cache directory under a regular file cannot be created.
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    let engine = cached_engine(&file.join("cache"));
    let m = Module::new(&engine, wat(PROGRAM)).unwrap();
    check_program(&engine, &m);
    assert!(
        !Module::new(&engine, wat(PROGRAM))
            .unwrap()
            .is_from_code_cache()
    );
}

/// The child's output is piped, never inherited: under `RLIMIT_FSIZE` a write to an
/// inherited log file would fail.
fn child_command(case: &str, dir: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "child_process", "--ignored", "--nocapture"])
        .env("SANDLITE_CACHE_CHILD", case)
        .env("SANDLITE_CACHE_CHILD_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs a child case to its end; the result says what it printed if it failed.
fn child(case: &str, dir: &Path) -> Result<(), String> {
    finished(case, child_command(case, dir).output().unwrap())
}

fn spawn_child(case: &str, dir: &Path) -> std::process::Child {
    child_command(case, dir).spawn().unwrap()
}

fn finished(case: &str, out: std::process::Output) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "child {case}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// What the tests above run in a child process (`SANDLITE_CACHE_CHILD` names it).
#[test]
#[ignore = "run by the tests above in child processes"]
fn child_process() {
    let case = std::env::var("SANDLITE_CACHE_CHILD").expect("run as a child");
    let dir = PathBuf::from(std::env::var_os("SANDLITE_CACHE_CHILD_DIR").unwrap());
    let engine = cached_engine(&dir);
    match case.as_str() {
        "load-after-other-types" => {
            // Types interned first take the low ids: this process numbers PROGRAM's
            // types differently from the process that compiled it.
            let plain = Engine::new(Config::default().strategy(Strategy::Interpreter));
            for n in 1..12 {
                let params = "i64 ".repeat(n);
                let text = format!("(module (func (param {params}) (result f32) f32.const 0))");
                Module::new(&plain, wat(&text)).unwrap();
            }
            let m = Module::new(&engine, wat(PROGRAM)).unwrap();
            assert!(m.is_from_code_cache());
            check_program(&engine, &m);
        }
        "compile-and-check" => {
            let m = Module::new(&engine, wat(PROGRAM)).unwrap();
            check_program(&engine, &m);
        }
        "compile-with-a-full-disk" => {
            // SAFETY: plain system calls on this single-threaded child's own limits and
            // signal disposition (SIGXFSZ would otherwise kill it at the limit).
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit {
                    rlim_cur: 64,
                    rlim_max: libc::RLIM_INFINITY,
                };
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
            }
            let m = Module::new(&engine, wat(PROGRAM)).unwrap();
            assert!(!m.is_from_code_cache());
            check_program(&engine, &m);
        }
        other => panic!("unknown child case {other}"),
    }
}
