//! Background compilation (`Config::background_compile`): a module starts on the
//! interpreter, the compiler works on another thread, and each instance moves to
//! machine code once it is done — at its next call from the host, or inside a running
//! call at the interpreter's next Wasm call or loop — with its memories, globals and
//! tables carried over unchanged.
//!
//! The tests hold background compiles (`hold_background_compiles`) to see the
//! interpreter first on any machine; the hold is process-wide, so they run one at a
//! time.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use sandlite_vm::{
    Caller, Config, Engine, Instance, Linker, Module, Store, Strategy, TrapCode,
    hold_background_compiles,
};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

/// Auto with every module (however small) compiled in the background.
fn tiering_engine() -> Engine {
    Engine::new(
        Config::default()
            .strategy(Strategy::Auto)
            .background_compile_threshold(0),
    )
}

/// Releases held compiles even when an assertion fails, for the next test.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        hold_background_compiles(false);
    }
}

/// A counter in a global, a running sum in memory, and a call through a table: state
/// both engines must see the same.
const STATEFUL: &str = r#"(module
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (table 2 funcref)
    (elem (i32.const 0) $double $triple)
    (type $unary (func (param i32) (result i32)))
    (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
    (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
    ;; Adds f(x) to the sum at address 8 (f = table[calls % 2]) and returns the sum.
    (func (export "step") (param i32) (result i32)
      (i32.store (i32.const 8)
        (i32.add (i32.load (i32.const 8))
          (call_indirect (type $unary) (local.get 0)
            (i32.rem_u (global.get $calls) (i32.const 2)))))
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (i32.load (i32.const 8)))
    (func (export "calls") (result i32) (global.get $calls))
    (func (export "trap") unreachable))"#;

#[test]
fn instances_move_to_machine_code_between_calls_and_keep_their_state() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = tiering_engine();
    hold_background_compiles(true);
    let release = Release;
    let module = Module::new(&engine, wat(STATEFUL)).unwrap();
    assert!(module.is_compiling());
    assert_eq!(module.strategy(), Strategy::Interpreter);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let step = instance.get_typed_func::<i32, i32>(&store, "step").unwrap();
    let calls = instance.get_typed_func::<(), i32>(&store, "calls").unwrap();
    // Interpreted: 10*2 + 10*3 + 10*2 = 70.
    let mut expected = 0;
    for k in 0..3 {
        expected += 10 * if k % 2 == 0 { 2 } else { 3 };
        assert_eq!(step.call(&mut store, 10).unwrap(), expected);
    }
    assert_eq!(instance.strategy(&store), Strategy::Interpreter);

    drop(release);
    assert!(module.wait_for_compiler(), "the module compiles");
    assert!(!module.is_compiling());
    assert_eq!(module.strategy(), Strategy::Compiler);
    // Nothing switches until the store runs again.
    assert_eq!(instance.strategy(&store), Strategy::Interpreter);
    for k in 3..6 {
        expected += 10 * if k % 2 == 0 { 2 } else { 3 };
        assert_eq!(step.call(&mut store, 10).unwrap(), expected, "step {k}");
        assert_eq!(instance.strategy(&store), Strategy::Compiler);
    }
    assert_eq!(calls.call(&mut store, ()).unwrap(), 6);
    let memory = instance.get_memory(&store, "memory").unwrap();
    let mut sum = [0u8; 4];
    memory.read(&store, 8, &mut sum).unwrap();
    assert_eq!(i32::from_le_bytes(sum), expected);
    // Traps come from the machine code now, as they came from the interpreter.
    let trap = instance.get_typed_func::<(), ()>(&store, "trap").unwrap();
    let err = trap.call(&mut store, ()).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::Unreachable);
    assert_eq!(step.call(&mut store, 1).unwrap(), expected + 2);

    // A new instance of the compiled module starts on machine code.
    let mut store2 = Store::new(&engine, ());
    let second = Linker::new(&engine)
        .instantiate(&mut store2, &module)
        .unwrap();
    assert_eq!(second.strategy(&store2), Strategy::Compiler);
    let step2 = second.get_typed_func::<i32, i32>(&store2, "step").unwrap();
    assert_eq!(step2.call(&mut store2, 5).unwrap(), 10);
}

/// The host's view of the instance while it is inside a call: what `probe` saw.
#[derive(Default)]
struct Seen {
    instance: Option<Instance>,
    during_call: Vec<Strategy>,
}

/// A long call does not stay on the interpreter: when the compile finishes inside it,
/// the frames running finish on the interpreter and the next Wasm call (here `$work`,
/// and everything the loop calls after it) enters machine code.
#[test]
fn a_running_call_moves_to_machine_code_at_its_next_call() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = tiering_engine();
    hold_background_compiles(true);
    let release = Release;
    let module = Module::new(
        &engine,
        wat(r#"(module
            (import "env" "probe" (func $probe (param i32)))
            (global $sum (mut i64) (i64.const 0))
            (type $widen (func (param i32) (result i64)))
            (table 1 funcref)
            (elem (i32.const 0) $plain)
            (func $work (param i32) (result i64)
              (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 1000)))
            (func $plain (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
            ;; For i in 0..n: probe(i), then sum += work(i) + plain(i) (through the table).
            (func (export "run") (param $n i32) (result i64)
              (local $i i32)
              (loop $next
                (call $probe (local.get $i))
                (global.set $sum
                  (i64.add (global.get $sum)
                    (i64.add (call $work (local.get $i))
                      (call_indirect (type $widen) (local.get $i) (i32.const 0)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
              (global.get $sum)))"#),
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    let held = Mutex::new(Some(release));
    let module_in_host = module.clone();
    linker
        .func_wrap(
            "env",
            "probe",
            move |mut caller: Caller<'_, Seen>, i: i32| {
                let instance = caller.data().instance.unwrap();
                let now = instance.strategy(&caller);
                caller.data_mut().during_call.push(now);
                if i == 1 {
                    // The compile finishes while `run` is active.
                    drop(held.lock().unwrap().take());
                    assert!(module_in_host.wait_for_compiler());
                }
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, Seen::default());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    store.data_mut().instance = Some(instance);
    let run = instance.get_typed_func::<i32, i64>(&store, "run").unwrap();
    let n = 5;
    let expected: i64 = (0..n).map(|i| i64::from(i) * 1001).sum();
    assert_eq!(run.call(&mut store, n).unwrap(), expected);
    use Strategy::{Compiler, Interpreter};
    assert_eq!(
        store.data().during_call,
        [Interpreter, Interpreter, Compiler, Compiler, Compiler]
    );
    // The state carried on: a second run adds to the same global, on machine code.
    assert_eq!(run.call(&mut store, n).unwrap(), 2 * expected);
    assert_eq!(instance.strategy(&store), Compiler);
}

#[test]
fn background_compile_off_and_explicit_compiler_compile_before_returning() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    hold_background_compiles(true);
    let _release = Release;
    for config in [
        Config::default()
            .strategy(Strategy::Auto)
            .background_compile_threshold(0)
            .background_compile(false),
        Config::default()
            .strategy(Strategy::Compiler)
            .background_compile_threshold(0),
    ] {
        let engine = Engine::new(config);
        // Held compiles do not matter: nothing runs in the background.
        let module = Module::new(&engine, wat(STATEFUL)).unwrap();
        assert!(!module.is_compiling());
        assert_eq!(module.strategy(), Strategy::Compiler);
    }
    // Under the threshold (the default: 256 KiB of code), Auto compiles at once too.
    let engine = Engine::new(Config::default().strategy(Strategy::Auto));
    let module = Module::new(&engine, wat(STATEFUL)).unwrap();
    assert!(!module.is_compiling());
}

#[test]
fn each_store_switches_at_its_own_next_call() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = tiering_engine();
    hold_background_compiles(true);
    let release = Release;
    let module = Module::new(&engine, wat(STATEFUL)).unwrap();
    let mut stores: Vec<(Store<()>, Instance)> = (0..2)
        .map(|_| {
            let mut store = Store::new(&engine, ());
            let instance = Linker::new(&engine)
                .instantiate(&mut store, &module)
                .unwrap();
            (store, instance)
        })
        .collect();
    drop(release);
    assert!(module.wait_for_compiler());
    let (store, instance) = &mut stores[0];
    let step = instance
        .get_typed_func::<i32, i32>(&*store, "step")
        .unwrap();
    assert_eq!(step.call(&mut *store, 1).unwrap(), 2);
    assert_eq!(instance.strategy(&*store), Strategy::Compiler);
    let (store, instance) = &mut stores[1];
    assert_eq!(instance.strategy(&*store), Strategy::Interpreter);
    let calls = instance
        .get_typed_func::<(), i32>(&*store, "calls")
        .unwrap();
    assert_eq!(calls.call(&mut *store, ()).unwrap(), 0);
    assert_eq!(instance.strategy(&*store), Strategy::Compiler);
}
