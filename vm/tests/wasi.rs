//! `sandlite_vm::wasi` through the embedding API, with hand-written modules.

use sandlite_vm::wasi::{self, Errno, I32Exit, OutputBuffer, WasiCtx};
use sandlite_vm::{Engine, Linker, Module, Store, TrapCode};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn linker(engine: &Engine) -> Linker<WasiCtx> {
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |ctx| ctx).expect("WASI links");
    linker
}

/// The Wasm signature of every `wasi_snapshot_preview1` function, as clang emits the
/// imports for wasi-libc's `<wasi/api.h>` declarations (plus `proc_raise`, which the ABI
/// still has but wasi-libc no longer declares).
const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "(param i32 i32) (result i32)"),
    ("args_sizes_get", "(param i32 i32) (result i32)"),
    ("environ_get", "(param i32 i32) (result i32)"),
    ("environ_sizes_get", "(param i32 i32) (result i32)"),
    ("clock_res_get", "(param i32 i32) (result i32)"),
    ("clock_time_get", "(param i32 i64 i32) (result i32)"),
    ("fd_advise", "(param i32 i64 i64 i32) (result i32)"),
    ("fd_allocate", "(param i32 i64 i64) (result i32)"),
    ("fd_close", "(param i32) (result i32)"),
    ("fd_datasync", "(param i32) (result i32)"),
    ("fd_fdstat_get", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_flags", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_rights", "(param i32 i64 i64) (result i32)"),
    ("fd_filestat_get", "(param i32 i32) (result i32)"),
    ("fd_filestat_set_size", "(param i32 i64) (result i32)"),
    (
        "fd_filestat_set_times",
        "(param i32 i64 i64 i32) (result i32)",
    ),
    ("fd_pread", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_prestat_get", "(param i32 i32) (result i32)"),
    ("fd_prestat_dir_name", "(param i32 i32 i32) (result i32)"),
    ("fd_pwrite", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_read", "(param i32 i32 i32 i32) (result i32)"),
    ("fd_readdir", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_renumber", "(param i32 i32) (result i32)"),
    ("fd_seek", "(param i32 i64 i32 i32) (result i32)"),
    ("fd_sync", "(param i32) (result i32)"),
    ("fd_tell", "(param i32 i32) (result i32)"),
    ("fd_write", "(param i32 i32 i32 i32) (result i32)"),
    ("path_create_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_filestat_get",
        "(param i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_filestat_set_times",
        "(param i32 i32 i32 i32 i64 i64 i32) (result i32)",
    ),
    (
        "path_link",
        "(param i32 i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_open",
        "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)",
    ),
    (
        "path_readlink",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_remove_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_rename",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_symlink", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("path_unlink_file", "(param i32 i32 i32) (result i32)"),
    ("poll_oneoff", "(param i32 i32 i32 i32) (result i32)"),
    ("proc_exit", "(param i32)"),
    ("proc_raise", "(param i32) (result i32)"),
    ("sched_yield", "(result i32)"),
    ("random_get", "(param i32 i32) (result i32)"),
    ("sock_accept", "(param i32 i32 i32) (result i32)"),
    ("sock_recv", "(param i32 i32 i32 i32 i32 i32) (result i32)"),
    ("sock_send", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("sock_shutdown", "(param i32 i32) (result i32)"),
];

#[test]
fn every_preview1_function_links_with_its_abi_signature() {
    assert_eq!(SIGNATURES.len(), 46);
    let imports: String = SIGNATURES
        .iter()
        .map(|(name, sig)| format!("(import \"wasi_snapshot_preview1\" \"{name}\" (func {sig}))\n"))
        .collect();
    let engine = Engine::default();
    let module = Module::new(&engine, wat(&format!("(module {imports})"))).unwrap();
    let mut store = Store::new(&engine, WasiCtx::builder().build());
    linker(&engine)
        .instantiate(&mut store, &module)
        .expect("every import resolves");

    // A wrong signature is a link error naming the import.
    let module = Module::new(
        &engine,
        wat(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32))))"#),
    )
    .unwrap();
    let err = linker(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert!(err.to_string().contains("fd_write"), "{err}");
}

/// A module that writes "hi\n" to `fd` with fd_write and returns the errno, and whose
/// `exit` export calls proc_exit.
const HELLO: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "hi\n")
    (func (export "hello") (param $fd i32) (result i32)
        (i32.store (i32.const 0) (i32.const 16))   ;; iovec.buf
        (i32.store (i32.const 4) (i32.const 3))    ;; iovec.buf_len
        (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (func (export "written") (result i32) (i32.load (i32.const 8)))
    (func (export "exit") (param i32) (call $proc_exit (local.get 0)) unreachable))"#;

#[test]
fn fd_write_to_captured_streams_and_proc_exit() {
    let engine = Engine::default();
    let module = Module::new(&engine, wat(HELLO)).unwrap();
    let (out, err) = (OutputBuffer::new(), OutputBuffer::new());
    let ctx = WasiCtx::builder()
        .stdout_buffer(out.clone())
        .stderr_buffer(err.clone())
        .build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let hello = instance
        .get_typed_func::<i32, i32>(&store, "hello")
        .unwrap();
    let written = instance
        .get_typed_func::<(), i32>(&store, "written")
        .unwrap();
    assert_eq!(hello.call(&mut store, 1).unwrap(), 0);
    assert_eq!(written.call(&mut store, ()).unwrap(), 3);
    assert_eq!(hello.call(&mut store, 2).unwrap(), 0);
    assert_eq!(hello.call(&mut store, 1).unwrap(), 0);
    assert_eq!(out.take(), b"hi\nhi\n");
    assert_eq!(err.take(), b"hi\n");
    // stdin is not writable; fd 9 is not open.
    assert_eq!(
        hello.call(&mut store, 0).unwrap(),
        i32::from(Errno::Badf as u16)
    );
    assert_eq!(
        hello.call(&mut store, 9).unwrap(),
        i32::from(Errno::Badf as u16)
    );

    let exit = instance.get_typed_func::<i32, ()>(&store, "exit").unwrap();
    let e = exit.call(&mut store, 42).unwrap_err();
    let trap = e.as_trap().expect("proc_exit is a trap");
    assert_eq!(trap.code(), TrapCode::Host);
    assert_eq!(trap.downcast_ref::<I32Exit>(), Some(&I32Exit(42)));
    // The store stays usable after proc_exit.
    assert_eq!(hello.call(&mut store, 1).unwrap(), 0);
    assert_eq!(out.take(), b"hi\n");
}

#[test]
fn default_streams_discard_and_output_limits_apply() {
    let engine = Engine::default();
    let module = Module::new(&engine, wat(HELLO)).unwrap();
    let mut store = Store::new(&engine, WasiCtx::builder().build());
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let hello = instance
        .get_typed_func::<i32, i32>(&store, "hello")
        .unwrap();
    assert_eq!(
        hello.call(&mut store, 1).unwrap(),
        0,
        "discarded, but successful"
    );

    let limited = OutputBuffer::with_limit(4);
    let ctx = WasiCtx::builder().stdout_buffer(limited.clone()).build();
    let mut store = Store::new(&engine, ctx);
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let hello = instance
        .get_typed_func::<i32, i32>(&store, "hello")
        .unwrap();
    let written = instance
        .get_typed_func::<(), i32>(&store, "written")
        .unwrap();
    assert_eq!(hello.call(&mut store, 1).unwrap(), 0);
    assert_eq!(hello.call(&mut store, 1).unwrap(), 0);
    assert_eq!(
        written.call(&mut store, ()).unwrap(),
        1,
        "only one byte fitted"
    );
    assert_eq!(
        hello.call(&mut store, 1).unwrap(),
        i32::from(Errno::Nospc as u16)
    );
    assert_eq!(limited.contents(), b"hi\nh");
}

#[test]
fn a_wasi_call_without_an_exported_memory_traps_with_a_message() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        wat(r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_close" (func $c (param i32) (result i32)))
            (memory 1)
            (func (export "rand") (result i32) (call $r (i32.const 0) (i32.const 8)))
            (func (export "close") (result i32) (call $c (i32.const 0))))"#),
    )
    .unwrap();
    let mut store = Store::new(&engine, WasiCtx::builder().build());
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let rand = instance.get_typed_func::<(), i32>(&store, "rand").unwrap();
    let err = rand.call(&mut store, ()).unwrap_err();
    assert!(
        err.to_string()
            .contains("`random_get` needs the caller to export its memory"),
        "{err}"
    );
    // Functions that touch no memory work without it.
    let close = instance.get_typed_func::<(), i32>(&store, "close").unwrap();
    assert_eq!(close.call(&mut store, ()).unwrap(), 0);
    assert_eq!(
        close.call(&mut store, ()).unwrap(),
        i32::from(Errno::Badf as u16)
    );
}

#[test]
fn add_to_linker_refuses_to_define_twice() {
    let engine = Engine::default();
    let mut linker = linker(&engine);
    assert!(wasi::add_to_linker(&mut linker, |ctx| ctx).is_err());
}

/// `sleep(ns)`: poll_oneoff with one relative monotonic clock subscription.
const SLEEPER: &str = r#"(module
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "sleep") (param $ns i64) (result i32)
        (i64.store (i32.const 0) (i64.const 7))       ;; userdata
        (i32.store8 (i32.const 8) (i32.const 0))      ;; tag: clock
        (i32.store (i32.const 16) (i32.const 1))      ;; id: monotonic
        (i64.store (i32.const 24) (local.get $ns))    ;; timeout
        (i32.store16 (i32.const 40) (i32.const 0))    ;; flags: relative
        (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (func (export "event_userdata") (result i64) (i64.load (i32.const 64))))"#;

#[test]
fn poll_oneoff_sleeps_and_an_interrupt_stops_the_sleep() {
    let engine = Engine::default();
    let module = Module::new(&engine, wat(SLEEPER)).unwrap();
    let mut store = Store::new(&engine, WasiCtx::builder().build());
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let sleep = instance
        .get_typed_func::<i64, i32>(&store, "sleep")
        .unwrap();
    let userdata = instance
        .get_typed_func::<(), i64>(&store, "event_userdata")
        .unwrap();

    let t = std::time::Instant::now();
    assert_eq!(sleep.call(&mut store, 40_000_000).unwrap(), 0);
    assert!(t.elapsed() >= std::time::Duration::from_millis(40));
    assert_eq!(userdata.call(&mut store, ()).unwrap(), 7);

    // A 60 s sleep, interrupted from another thread after 50 ms.
    let handle = store.interrupt_handle();
    let t = std::time::Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        handle.interrupt();
    });
    let err = sleep.call(&mut store, 60_000_000_000).unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.as_trap().map(|t| t.code()), Some(TrapCode::Interrupted));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
    // The request was consumed: the store runs again.
    assert_eq!(sleep.call(&mut store, 1).unwrap(), 0);
}
