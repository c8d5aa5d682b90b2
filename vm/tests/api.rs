//! The embedding API: calls, host functions, reentrancy, traps, limits, threads, interrupts.

use sandlite_vm::{
    Caller, Engine, Error, ErrorKind, Extern, Func, FuncType, Global, GlobalType, Instance, Linker,
    Memory, Module, Mutability, Store, StoreLimits, Trap, TrapCode, V128, Val, ValType,
};
use std::sync::Arc;
use std::time::Duration;

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn module(text: &str) -> Module {
    Module::new(&Engine::default(), wat(text)).expect("valid module")
}

fn instantiate<T: 'static>(linker: &Linker<T>, store: &mut Store<T>, text: &str) -> Instance {
    linker
        .instantiate(store, &module(text))
        .expect("instantiate")
}

const FIB: &str = r#"
(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))
"#;

#[test]
fn typed_and_untyped_calls() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (func (export "add") (param i32 i64) (result i64)
              (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
            (func (export "pair") (param f32 f64) (result f64 f32)
              (local.get 1) (local.get 0)))"#,
    );
    let add = inst
        .get_typed_func::<(i32, i64), i64>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (-5, 10)).unwrap(), 5);

    // A wrong signature is refused when the typed view is made.
    let wrong = inst.get_typed_func::<(i32, i32), i64>(&store, "add");
    assert!(matches!(wrong.unwrap_err().kind(), ErrorKind::Link(_)));

    let pair = inst.get_func(&store, "pair").unwrap();
    let mut out = [Val::I32(0), Val::I32(0)];
    pair.call(
        &mut store,
        &[Val::from(1.5f32), Val::from(2.25f64)],
        &mut out,
    )
    .unwrap();
    assert_eq!(out[0].f64(), Some(2.25));
    assert_eq!(out[1].f32(), Some(1.5));

    // Wrong argument types are a usage error, not a panic.
    let err = pair
        .call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Usage(_)), "{err}");
    let typed = pair.typed::<(f32, f64), (f64, f32)>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (3.0, 4.0)).unwrap(), (4.0, 3.0));
}

#[test]
fn recursion_and_fib() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&Linker::new(&engine), &mut store, FIB);
    let fib = inst.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
}

struct Counter {
    calls: u32,
    sum: i64,
}

#[test]
fn host_functions_keep_state() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Counter { calls: 0, sum: 0 });
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "add", |mut caller: Caller<'_, Counter>, v: i64| {
            let data = caller.data_mut();
            data.calls += 1;
            data.sum += v;
            data.sum
        })
        .unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (import "host" "add" (func $add (param i64) (result i64)))
            (func (export "run") (param i32) (result i64) (local i64)
              (block $done
                (loop $l
                  (br_if $done (i32.eqz (local.get 0)))
                  (local.set 1 (call $add (i64.extend_i32_u (local.get 0))))
                  (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                  (br $l)))
              (local.get 1)))"#,
    );
    let run = inst.get_typed_func::<i32, i64>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, 100).unwrap(), 5050);
    assert_eq!(store.data().calls, 100);
}

#[test]
fn host_calls_back_into_the_instance() {
    // outer -> host -> inner -> host -> inner ... several levels deep, with the host
    // reading guest memory each time (as a SQL function reading its arguments does).
    let engine = Engine::default();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Vec<i32>>, depth: i32| -> Result<i32, Trap> {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .ok_or_else(|| Trap::host_message("no memory"))?;
                let mut word = [0u8; 4];
                memory.read(&caller, 0, &mut word).unwrap();
                caller.data_mut().push(i32::from_le_bytes(word));
                if depth == 0 {
                    return Ok(0);
                }
                let inner = caller
                    .get_export("inner")
                    .and_then(Extern::into_func)
                    .ok_or_else(|| Trap::host_message("no inner"))?;
                let inner = inner.typed::<i32, i32>(&caller).map_err(Trap::host)?;
                let r = inner.call(&mut caller, depth - 1).map_err(Trap::host)?;
                Ok(r + 1)
            },
        )
        .unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (import "host" "reenter" (func $reenter (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "inner") (param i32) (result i32)
              (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
              (i32.mul (call $reenter (local.get 0)) (i32.const 1)))
            (func (export "outer") (param i32) (result i32)
              (call $reenter (local.get 0))))"#,
    );
    let outer = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, 10).unwrap(), 10);
    assert_eq!(store.data().as_slice(), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
}

#[derive(Debug, thiserror::Error)]
#[error("the host gave up with code {0}")]
struct HostFailure(i32);

#[test]
fn host_errors_become_traps() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "fail",
            |_: Caller<'_, ()>, code: i32| -> Result<(), Trap> {
                Err(Trap::host(HostFailure(code)))
            },
        )
        .unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (import "host" "fail" (func $fail (param i32)))
            (func $middle (export "run") (call $fail (i32.const 42))))"#,
    );
    let run = inst.get_typed_func::<(), ()>(&store, "run").unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.code(), TrapCode::Host);
    assert_eq!(trap.downcast_ref::<HostFailure>().map(|e| e.0), Some(42));
    assert_eq!(trap.function(), Some("middle"));
    // The store is still usable afterwards.
    assert!(run.call(&mut store, ()).is_err());
}

#[test]
fn traps_name_the_function() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module
            (memory 1)
            (func $boom (export "boom") unreachable)
            (func $div (export "div") (param i32 i32) (result i32)
              (i32.div_s (local.get 0) (local.get 1)))
            (func $oob (export "oob") (result i32) (i32.load (i32.const 65534))))"#,
    );
    let boom = inst.get_typed_func::<(), ()>(&store, "boom").unwrap();
    let err = boom.call(&mut store, ()).unwrap_err();
    let trap = err.as_trap().unwrap();
    assert_eq!(trap.code(), TrapCode::Unreachable);
    assert_eq!(trap.function(), Some("boom"));
    assert_eq!(err.to_string(), "unreachable (in boom)");

    let div = inst
        .get_typed_func::<(i32, i32), i32>(&store, "div")
        .unwrap();
    let code = |r: Result<i32, Error>| r.unwrap_err().as_trap().unwrap().code();
    assert_eq!(
        code(div.call(&mut store, (1, 0))),
        TrapCode::IntegerDivisionByZero
    );
    assert_eq!(
        code(div.call(&mut store, (i32::MIN, -1))),
        TrapCode::IntegerOverflow
    );
    assert_eq!(div.call(&mut store, (7, -2)).unwrap(), -3);
    let oob = inst.get_typed_func::<(), i32>(&store, "oob").unwrap();
    assert_eq!(code(oob.call(&mut store, ())), TrapCode::MemoryOutOfBounds);
}

#[test]
fn deep_recursion_traps_instead_of_crashing() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module (func $f (export "f") (param i64) (result i64)
              (i64.add (call $f (local.get 0)) (i64.const 1))))"#,
    );
    let f = inst.get_typed_func::<i64, i64>(&store, "f").unwrap();
    let err = f.call(&mut store, 0).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::StackOverflow);
    // Recovery: ordinary calls work after the exhaustion.
    let inst = instantiate(&Linker::new(&engine), &mut store, FIB);
    let fib = inst.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 10).unwrap(), 55);
}

#[test]
fn memory_grows_up_to_the_store_limit() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    store.set_limits(StoreLimits {
        max_memory_bytes: 10 * 65536,
        ..StoreLimits::default()
    });
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module (memory (export "mem") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    );
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let poke = inst
        .get_typed_func::<(i32, i32), ()>(&store, "poke")
        .unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    let base = mem.data(&store).as_ptr();
    assert_eq!(grow.call(&mut store, 4).unwrap(), 1);
    assert_eq!(mem.size(&store), 5);
    assert_eq!(grow.call(&mut store, 5).unwrap(), 5);
    // The eleventh page exceeds the limit: -1, and the size is unchanged.
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(mem.data_size(&store), 10 * 65536);
    assert!(mem.grow(&mut store, 1).is_err());
    // The base address never moves, and new pages are usable and zeroed.
    assert_eq!(mem.data(&store).as_ptr(), base);
    poke.call(&mut store, (10 * 65536 - 1, 7)).unwrap();
    assert_eq!(mem.data(&store)[10 * 65536 - 1], 7);
    assert_eq!(mem.data(&store)[9 * 65536], 0);
    let trap = poke.call(&mut store, (10 * 65536, 7)).unwrap_err();
    assert_eq!(trap.as_trap().unwrap().code(), TrapCode::MemoryOutOfBounds);

    // Host access is bounds-checked too.
    let mut buf = [0u8; 8];
    assert!(mem.read(&store, 10 * 65536 - 4, &mut buf).is_err());
    mem.write(&mut store, 100, b"sandlite").unwrap();
    mem.read(&store, 100, &mut buf).unwrap();
    assert_eq!(&buf, b"sandlite");

    // A module whose minimum exceeds the limit fails to instantiate with a clear error.
    let big = Linker::new(&engine).instantiate(&mut store, &module("(module (memory 11))"));
    assert!(matches!(big.unwrap_err().kind(), ErrorKind::Resource(_)));
}

#[test]
fn one_module_many_threads() {
    fn check<T: Send + Sync>() {}
    check::<Module>();
    check::<Engine>();
    fn send<T: Send>() {}
    send::<Store<()>>();

    let engine = Engine::default();
    let module = Arc::new(module(FIB));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let inst = Linker::new(&engine)
                    .instantiate(&mut store, &module)
                    .unwrap();
                let fib = inst.get_typed_func::<i32, i32>(&store, "fib").unwrap();
                fib.call(&mut store, 18 + i).unwrap()
            })
        })
        .collect();
    let results: Vec<i32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results, vec![2584, 4181, 6765, 10946]);
}

#[test]
fn interrupt_stops_a_running_call() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module (func (export "spin") (loop $l (br $l))))"#,
    );
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    let handle = store.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.interrupt();
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::Interrupted);
    // The flag is consumed: the store runs normally afterwards.
    let inst = instantiate(&Linker::new(&engine), &mut store, FIB);
    let fib = inst.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 5).unwrap(), 5);
}

#[test]
fn link_errors_name_the_import() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let m = module(r#"(module (import "env" "missing" (func (param i32))))"#);
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    assert!(err.to_string().contains("env::missing"), "{err}");

    linker
        .func_wrap("env", "missing", |_: Caller<'_, ()>, _: i64| {})
        .unwrap();
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Link(_)));
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    // Defining a name twice is refused unless shadowing is allowed.
    assert!(
        linker
            .func_wrap("env", "missing", |_: Caller<'_, ()>, _: i32| {})
            .is_err()
    );
    linker.allow_shadowing(true);
    linker
        .func_wrap("env", "missing", |_: Caller<'_, ()>, _: i32| {})
        .unwrap();
    linker.instantiate(&mut store, &m).unwrap();
}

#[test]
fn globals_and_v128_values() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let counter = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I64,
            mutability: Mutability::Var,
        },
        Val::I64(40),
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.define("env", "counter", counter).unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (global $c (import "env" "counter") (mut i64))
            (global $k (export "k") i32 (i32.const 7))
            (func (export "bump") (result i64)
              (global.set $c (i64.add (global.get $c) (i64.const 2)))
              (global.get $c)))"#,
    );
    let bump = inst.get_typed_func::<(), i64>(&store, "bump").unwrap();
    assert_eq!(bump.call(&mut store, ()).unwrap(), 42);
    assert_eq!(counter.get(&store), Val::I64(42));
    counter.set(&mut store, Val::I64(0)).unwrap();
    assert_eq!(bump.call(&mut store, ()).unwrap(), 2);
    let k = inst.get_global(&store, "k").unwrap();
    assert_eq!(k.get(&store), Val::I32(7));
    assert!(k.set(&mut store, Val::I32(8)).is_err(), "immutable");

    // v128 values cross the host boundary in globals and host functions.
    let v = Global::new(
        &mut store,
        GlobalType {
            content: ValType::V128,
            mutability: Mutability::Var,
        },
        Val::V128(V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10)),
    )
    .unwrap();
    assert_eq!(
        v.get(&store),
        Val::V128(V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10))
    );
    let echo = Func::wrap(&mut store, |_: Caller<'_, ()>, x: V128| x);
    let echo = echo.typed::<V128, V128>(&store).unwrap();
    assert_eq!(
        echo.call(&mut store, V128(u128::MAX - 5)).unwrap(),
        V128(u128::MAX - 5)
    );
}

#[test]
fn untyped_host_functions() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let swap = Func::new(
        &mut store,
        FuncType::new([ValType::I32, ValType::F64], [ValType::F64, ValType::I32]),
        |_, params, results| {
            results[0] = params[1];
            results[1] = params[0];
            Ok(())
        },
    );
    let mut linker = Linker::new(&engine);
    linker.define("env", "swap", swap).unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (import "env" "swap" (func $swap (param i32 f64) (result f64 i32)))
            (func (export "run") (result i32) (local i32)
              (call $swap (i32.const 3) (f64.const 2.5))
              (local.set 0)
              (drop)
              (local.get 0)))"#,
    );
    let run = inst.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 3);
}

#[test]
fn memories_can_be_shared_between_instances() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let owner = instantiate(
        &linker,
        &mut store,
        r#"(module (memory (export "mem") 1)
            (func (export "write") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#,
    );
    linker.instance(&store, "owner", owner).unwrap();
    let reader = instantiate(
        &linker,
        &mut store,
        r#"(module (import "owner" "mem" (memory 1))
            (import "owner" "write" (func $write (param i32 i32)))
            (func (export "roundtrip") (param i32) (result i32)
              (call $write (i32.const 16) (local.get 0))
              (i32.load (i32.const 16))))"#,
    );
    let rt = reader
        .get_typed_func::<i32, i32>(&store, "roundtrip")
        .unwrap();
    assert_eq!(rt.call(&mut store, 1234).unwrap(), 1234);
    let mem: Memory = owner.get_memory(&store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[16..20], &1234i32.to_le_bytes());
}

#[test]
fn malformed_and_invalid_modules_are_errors() {
    let engine = Engine::default();
    let err = Module::new(&engine, b"\0asm\x01\0\0\0\x01\x05\x01\x60").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("offset"), "{err}");
    let err = Module::new(&engine, b"not wasm").unwrap_err();
    assert_eq!(err.message(), "magic header not detected");
    let invalid = wat(r#"(module (func (result i32) (i64.const 1)))"#);
    let err = Module::new(&engine, invalid).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    assert_eq!(err.message(), "type mismatch");
}

/// Without a native compiler for this machine (aarch64, ...), `Auto` interprets and
/// `Compiler` is refused as unsupported, never half-compiled. (SANDLITE_STRATEGY may
/// override `Auto`, but only with a strategy that exists here.)
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
#[test]
fn auto_interprets_where_there_is_no_compiler() {
    use sandlite_vm::{Config, Strategy};
    let bytes = wat(FIB);
    let engine = Engine::new(Config::default().strategy(Strategy::Auto));
    let auto = Module::new(&engine, &bytes).expect("valid module");
    assert_eq!(auto.strategy(), Strategy::Interpreter);
    let err = Module::new(
        &Engine::new(Config::default().strategy(Strategy::Compiler)),
        &bytes,
    )
    .expect_err("no compiler here");
    assert!(matches!(err.kind(), ErrorKind::Unsupported(_)), "{err}");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &auto)
        .expect("instantiate");
    let fib = instance.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
}
