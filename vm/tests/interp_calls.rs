//! Calls on the interpreter: its frame array (pushed and popped through a raw pointer
//! into spare capacity, grown on demand, re-read after host calls that may have moved
//! it), the exact call-depth limit, and the locals zeroed on entry.

use sandlite_vm::{
    Caller, Config, Engine, Extern, Instance, Linker, Module, Store, StoreLimits, Trap, TrapCode,
};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn interpreter() -> Engine {
    Engine::new(Config::default().strategy(sandlite_vm::Strategy::Interpreter))
}

fn with_depth<T>(store: &mut Store<T>, max_call_depth: usize) {
    store.set_limits(StoreLimits {
        max_call_depth,
        ..StoreLimits::default()
    });
}

/// `down(n)` makes `n` nested calls (so `n` frames) and returns `n`; `sum(n)` returns
/// `n + (n-1) + ... + 1` through `n` nested calls that each keep a local across the call.
const RECURSE: &str = r#"
(module
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func $sum (export "sum") (param i32) (result i64)
    (local $mine i64) (local $pad i32)
    (local.set $mine (i64.extend_i32_u (local.get 0)))
    (if (result i64) (i32.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (call $sum (i32.sub (local.get 0) (i32.const 1))) (local.get $mine))))))
"#;

fn recurse(engine: &Engine) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat(RECURSE)).expect("valid module");
    let mut store = Store::new(engine, ());
    let inst = Linker::new(engine)
        .instantiate(&mut store, &module)
        .expect("instantiate");
    (store, inst)
}

#[test]
fn the_call_depth_limit_is_exact_and_a_typed_trap() {
    let engine = interpreter();
    // Around the frame array's first size (256) and its doublings.
    for limit in [1usize, 2, 7, 255, 256, 257, 511, 512, 513, 3000] {
        let (mut store, inst) = recurse(&engine);
        with_depth(&mut store, limit);
        let down = inst.get_typed_func::<i32, i32>(&store, "down").unwrap();
        let n = i32::try_from(limit).unwrap();
        assert_eq!(down.call(&mut store, n).unwrap(), n, "limit {limit}");
        let err = down.call(&mut store, n + 1).unwrap_err();
        let trap = err.as_trap().expect("a trap, not another error");
        assert_eq!(trap.code(), TrapCode::StackOverflow, "limit {limit}");
        // The store recovers, at the limit again.
        assert_eq!(down.call(&mut store, n).unwrap(), n, "limit {limit}");
        assert_eq!(down.call(&mut store, 0).unwrap(), 0);
    }
    let (mut store, inst) = recurse(&engine);
    with_depth(&mut store, 0);
    let down = inst.get_typed_func::<i32, i32>(&store, "down").unwrap();
    assert_eq!(down.call(&mut store, 0).unwrap(), 0);
    let err = down.call(&mut store, 1).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::StackOverflow);
}

#[test]
fn deep_returns_restore_every_frame() {
    let engine = interpreter();
    let (mut store, inst) = recurse(&engine);
    let sum = inst.get_typed_func::<i32, i64>(&store, "sum").unwrap();
    // The default limit (20,000): grows the frame array several times.
    for n in [0i32, 1, 300, 19_999] {
        let n64 = i64::from(n);
        assert_eq!(sum.call(&mut store, n).unwrap(), n64 * (n64 + 1) / 2, "{n}");
    }
    let err = sum.call(&mut store, 20_001).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::StackOverflow);
    assert_eq!(sum.call(&mut store, 10).unwrap(), 55);
}

/// `outer(a, b)`: `a` nested calls, then a host call that runs `inner(b)` (`b` nested
/// calls) and returns its result or -1 if it trapped with a stack overflow; each level
/// of `outer` adds 1000 to what comes back, so the result shows every frame returned to
/// the right caller after the nested calls moved the frame array.
const NESTED: &str = r#"
(module
  (import "host" "run_inner" (func $run_inner (param i32) (result i32)))
  (func $inner (export "inner") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $inner (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func $outer (export "outer") (param i32 i32) (result i32)
    (local $keep i32)
    (local.set $keep (i32.const 1000))
    (if (result i32) (i32.eqz (local.get 0))
      (then (call $run_inner (local.get 1)))
      (else
        (i32.add
          (call $outer (i32.sub (local.get 0) (i32.const 1)) (local.get 1))
          (local.get $keep))))))
"#;

fn nested(engine: &Engine) -> (Store<()>, Instance) {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap(
            "host",
            "run_inner",
            |mut caller: Caller<'_, ()>, n: i32| -> Result<i32, Trap> {
                let inner = caller
                    .get_export("inner")
                    .and_then(Extern::into_func)
                    .ok_or_else(|| Trap::host_message("no inner"))?;
                let inner = inner.typed::<i32, i32>(&caller).map_err(Trap::host)?;
                match inner.call(&mut caller, n) {
                    Ok(v) => Ok(v),
                    Err(e) if e.as_trap().map(Trap::code) == Some(TrapCode::StackOverflow) => {
                        Ok(-1)
                    }
                    Err(e) => Err(Trap::host(e)),
                }
            },
        )
        .unwrap();
    let module = Module::new(engine, wat(NESTED)).expect("valid module");
    let mut store = Store::new(engine, ());
    let inst = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    (store, inst)
}

#[test]
fn frames_survive_host_calls_that_grow_the_frame_array() {
    let engine = interpreter();
    let (mut store, inst) = nested(&engine);
    let outer = inst
        .get_typed_func::<(i32, i32), i32>(&store, "outer")
        .unwrap();
    // 200 outer frames fit the first allocation; 5000 inner ones move it.
    for (a, b) in [(0, 0), (1, 1), (200, 5000), (3, 10_000), (250, 255)] {
        assert_eq!(
            outer.call(&mut store, (a, b)).unwrap(),
            1000 * a + b,
            "{a} {b}"
        );
    }
}

#[test]
fn the_depth_limit_counts_frames_across_host_calls() {
    let engine = interpreter();
    let (mut store, inst) = nested(&engine);
    with_depth(&mut store, 600);
    let outer = inst
        .get_typed_func::<(i32, i32), i32>(&store, "outer")
        .unwrap();
    // `outer(a, b)` uses `a` frames for its calls and `b` for inner's: 600 fit.
    assert_eq!(outer.call(&mut store, (300, 300)).unwrap(), 300_000 + 300);
    assert_eq!(outer.call(&mut store, (300, 301)).unwrap(), 300_000 - 1);
    assert_eq!(outer.call(&mut store, (10, 590)).unwrap(), 10_000 + 590);
    // Past the limit in outer itself: a trap out of the whole call.
    let err = outer.call(&mut store, (601, 0)).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::StackOverflow);
    assert_eq!(outer.call(&mut store, (2, 3)).unwrap(), 2003);
}

/// Calls whose single result a `local.set` takes: the interpreter returns it straight
/// into the local (`Call`'s `dst`), and joins the argument copies before a call into it
/// (`CopyThenCall`, `CopyPairThenCall`). Results set into a parameter that is also an
/// argument, crossed argument copies, every return form (a constant, an early `return`,
/// a computed value), an import, two results, a trap and deep recursion.
const RESULTS: &str = r#"
(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $sub (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.const 7))
  (func $five (result i32) (i32.const 5))
  (func $early (param i32) (result i32)
    (if (local.get 0) (then (return (i32.const 9))))
    (i32.const 4))
  (func $wide (param i64) (result i64) (i64.mul (local.get 0) (i64.const 3)))
  (func $trap (param i32) (result i32) (unreachable))
  (func (export "chain") (param i32 i32) (result i32) (local i32 i64)
    (local.set 0 (call $sub (local.get 1) (local.get 0)))
    (local.set 2 (call $add (local.get 0) (i32.const 100)))
    (local.set 1 (call $five))
    (local.set 2 (i32.add (local.get 2) (call $early (local.get 1))))
    (local.set 0 (call $early (i32.const 0)))
    (local.set 3 (call $wide (i64.extend_i32_u (local.get 2))))
    (local.set 1 (call $twice (local.get 1)))
    (i32.add (i32.mul (local.get 0) (i32.const 1000000))
      (i32.add (i32.mul (local.get 1) (i32.const 1000))
        (i32.wrap_i64 (i64.sub (local.get 3) (i64.extend_i32_u (local.get 2)))))))
  (func (export "swap") (param i32 i32) (result i32)
    (local.set 1 (call $sub (local.get 1) (local.get 0)))
    (local.set 0 (call $sub (local.get 1) (local.get 0)))
    (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))
  (func (export "multi") (param i32) (result i32) (local i32)
    (call $pair (local.get 0))
    (local.set 1)
    (local.set 0)
    (i32.add (i32.mul (local.get 0) (i32.const 10)) (local.get 1)))
  (func (export "kept") (param i32) (result i32) (local i32)
    (local.set 1 (i32.const 50))
    ;; the old value of local 1 is on the stack when the call's result is set into it
    (i32.sub (local.get 1) (local.tee 1 (call $add (local.get 0) (local.get 1)))))
  (func (export "trap") (param i32) (result i32)
    (local.set 0 (call $trap (local.get 0)))
    (local.get 0))
  (func $depth (export "depth") (param i32) (result i32) (local i32)
    (if (local.get 0)
      (then
        (local.set 1 (call $depth (i32.sub (local.get 0) (i32.const 1))))
        (local.set 1 (i32.add (local.get 1) (i32.const 2)))))
    (local.get 1)))
"#;

#[test]
fn call_results_land_in_the_locals_they_are_set_to() {
    let bytes = wat(RESULTS);
    let mut engines = vec![interpreter()];
    let compiler = Engine::new(Config::default().strategy(sandlite_vm::Strategy::Compiler));
    if Module::new(&compiler, wat("(module)")).is_ok() {
        engines.push(compiler);
    }
    for engine in engines {
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "twice",
                |_: Caller<'_, ()>, x: i32| -> Result<i32, Trap> { Ok(x.wrapping_mul(2)) },
            )
            .unwrap();
        let module = Module::new(&engine, &bytes).expect("valid module");
        let mut store = Store::new(&engine, ());
        let inst = linker
            .instantiate(&mut store, &module)
            .expect("instantiate");
        let f = |store: &mut Store<()>, name: &str| {
            inst.get_typed_func::<(i32, i32), i32>(&*store, name)
                .map(|f| f.call(store, (3, 10)).unwrap())
        };
        let one = |store: &mut Store<()>, name: &str, x: i32| {
            let f = inst.get_typed_func::<i32, i32>(&*store, name).unwrap();
            f.call(store, x)
        };
        // chain(3, 10): 7, 107, 5, 107 + 9, 4, 3 * 116, twice(5).
        assert_eq!(
            f(&mut store, "chain").unwrap(),
            4_000_000 + 10_000 + 2 * 116
        );
        // swap(3, 10): b = 10 - 3 = 7, a = 7 - 3 = 4.
        assert_eq!(f(&mut store, "swap").unwrap(), 4007);
        assert_eq!(one(&mut store, "multi", 3).unwrap(), 37);
        // 50 - (3 + 50)
        assert_eq!(one(&mut store, "kept", 3).unwrap(), -3);
        let trap = one(&mut store, "trap", 1).unwrap_err();
        assert_eq!(trap.as_trap().map(Trap::code), Some(TrapCode::Unreachable));
        // Named from the code it ran (the loop keeps no function index).
        assert_eq!(trap.as_trap().and_then(Trap::function), Some("trap"));
        // The store still runs after the trap, and results travel back through deep
        // frames (past the frame array's first size).
        for n in [0, 1, 2, 255, 256, 257, 3000] {
            assert_eq!(one(&mut store, "depth", n).unwrap(), 2 * n, "depth {n}");
        }
    }
}
