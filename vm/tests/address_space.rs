//! Linear memories under an address-space limit (`ulimit -v`, `prlimit --as`), where the
//! 8 GiB guard-page reservation is refused: memories fall back to reserving only what
//! they can reach and run bounds-checked.
//!
//! The limited half runs in a child process (this test binary again, under
//! `ulimit -v`), so the limit never applies to the other tests.

use sandlite_vm::{Engine, Linker, MemoryMode, Module, Store, StoreLimits, TrapCode};
use std::process::Command;

/// 4 GiB, in the KiB `ulimit -v` counts.
const LIMIT_KIB: u64 = 4 << 20;
const CHILD_ENV: &str = "SANDLITE_TEST_UNDER_AS_LIMIT";

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

const MODULE: &str = r#"(module (memory (export "mem") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "peek64") (param i32) (result i64) (i64.load offset=0 (local.get 0))))"#;

/// Instantiates `MODULE` with a store limited to `limit` bytes, grows its memory to the
/// limit and checks accesses at both edges; returns the memory's mode.
fn exercise(limit: u64) -> MemoryMode {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits {
        max_memory_bytes: limit,
        ..StoreLimits::default()
    });
    let module = Module::new(&engine, wat(MODULE)).expect("valid module");
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let poke = inst
        .get_typed_func::<(i32, i32), ()>(&store, "poke")
        .unwrap();
    let peek = inst.get_typed_func::<i32, i64>(&store, "peek64").unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    let base = mem.data(&store).as_ptr();
    let pages = (limit / 65536) as i32;
    assert_eq!(grow.call(&mut store, pages - 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "past the limit");
    assert_eq!(mem.data(&store).as_ptr(), base, "the base never moves");
    let end = pages * 65536;
    poke.call(&mut store, (end - 1, 7)).unwrap();
    assert_eq!(peek.call(&mut store, end - 8).unwrap() >> 56, 7);
    for bad in [end - 7, end, -1] {
        let trap = peek.call(&mut store, bad).unwrap_err();
        assert_eq!(
            trap.as_trap().map(|t| t.code()),
            Some(TrapCode::MemoryOutOfBounds),
            "load at {bad:#x}"
        );
    }
    mem.mode(&store)
}

#[test]
fn memories_fall_back_to_bounds_checks_under_an_address_space_limit() {
    if std::env::var_os(CHILD_ENV).is_some() {
        // The child, under the limit: several 256 MiB memories at once (what a pool of
        // database connections has) fit, bounds-checked.
        let modes: Vec<MemoryMode> = (0..4).map(|_| exercise(256 << 20)).collect();
        assert_eq!(modes, [MemoryMode::BoundsChecked; 4]);
        println!("CHILD OK");
        return;
    }
    // Unlimited: the full guard-page reservation.
    assert_eq!(exercise(16 << 20), MemoryMode::GuardPages);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v {LIMIT_KIB} && exec \"$0\" \"$@\""),
        ])
        .arg(exe)
        .args([
            "--exact",
            "memories_fall_back_to_bounds_checks_under_an_address_space_limit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD OK"),
        "child under a {LIMIT_KIB} KiB limit failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
