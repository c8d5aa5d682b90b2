//! What the native compiler must get right beyond the spec suites: choosing the engine,
//! mixing engines in one store, traps and panics unwinding across compiled frames to the
//! right entry, stack exhaustion through host frames, and signal handling that leaves
//! other faults and other handlers alone.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use sandlite_vm::{
    Caller, Config, Engine, ErrorKind, Linker, Module, Store, Strategy, Trap, TrapCode,
};
use std::process::Command;

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn engine(strategy: Strategy) -> Engine {
    Engine::new(Config::default().strategy(strategy))
}

const ADD: &str = r#"(module (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"#;

const SIMD: &str = r#"(module (func (export "v") (result i32)
    (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))"#;

#[test]
fn modules_report_their_engine() {
    let m = Module::new(&engine(Strategy::Compiler), wat(ADD)).unwrap();
    assert_eq!(m.strategy(), Strategy::Compiler);
    assert!(m.native_code().is_some());
    let m = Module::new(&engine(Strategy::Interpreter), wat(ADD)).unwrap();
    assert_eq!(m.strategy(), Strategy::Interpreter);
    assert!(m.native_code().is_none());
    if std::env::var_os("SANDLITE_STRATEGY").is_none() {
        let m = Module::new(&Engine::default(), wat(ADD)).unwrap();
        assert_eq!(
            m.strategy(),
            Strategy::Compiler,
            "Auto compiles on x86-64 Linux"
        );
    }
}

#[test]
fn simd_compiles_where_the_cpu_has_sse41_and_runs_on_the_interpreter_elsewhere() {
    let run = |config: Config| {
        let engine = Engine::new(config);
        let m = Module::new(&engine, wat(SIMD)).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine).instantiate(&mut store, &m).unwrap();
        let v = inst.get_typed_func::<(), i32>(&store, "v").unwrap();
        assert_eq!(v.call(&mut store, ()).unwrap(), 1);
        m.strategy()
    };
    if std::arch::is_x86_feature_detected!("sse4.1") {
        assert_eq!(
            run(Config::default().strategy(Strategy::Auto)),
            Strategy::Compiler
        );
        assert_eq!(
            run(Config::default().strategy(Strategy::Compiler)),
            Strategy::Compiler
        );
    }
    // Without SSE4.1 (here: code for the baseline CPU) vectors are not compiled: Auto
    // falls back to the interpreter, Compiler refuses the module.
    let baseline = Config::default().baseline_cpu(true);
    assert_eq!(
        run(baseline.clone().strategy(Strategy::Auto)),
        Strategy::Interpreter
    );
    let err = Module::new(
        &Engine::new(baseline.strategy(Strategy::Compiler)),
        wat(SIMD),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("SSE4.1"), "{err}");
    // An invalid module is reported as invalid, not as unsupported.
    let bad = wat(r#"(module (func (result v128) (i32.const 0)))"#);
    let err = Module::new(&engine(Strategy::Compiler), bad).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
}

#[test]
fn engines_call_each_other_in_one_store() {
    // Both modules use the engine of one Engine... but the store accepts modules of
    // either: an interpreted module imports a compiled one's function and the other way.
    let compiled_engine = engine(Strategy::Compiler);
    let mut store = Store::new(&compiled_engine, ());
    let native = Module::new(
        &compiled_engine,
        wat(r#"(module
            (import "interp" "twice" (func $twice (param i32) (result i32)))
            (func (export "plus_one_twice") (param i32) (result i32)
              (call $twice (i32.add (local.get 0) (i32.const 1))))
            (func (export "square") (param i32) (result i32)
              (i32.mul (local.get 0) (local.get 0))))"#),
    )
    .unwrap();
    let interpreted = Module::new(
        &engine(Strategy::Interpreter),
        wat(r#"(module
            (import "native" "square" (func $square (param i32) (result i32)))
            (func (export "twice") (param i32) (result i32)
              (i32.shl (local.get 0) (i32.const 1)))
            (func (export "square_plus") (param i32) (result i32)
              (i32.add (call $square (local.get 0)) (i32.const 3))))"#),
    )
    .unwrap();
    assert_eq!(native.strategy(), Strategy::Compiler);
    assert_eq!(interpreted.strategy(), Strategy::Interpreter);

    // The compiled module's import is satisfied later: define a placeholder chain.
    let mut linker = Linker::new(&compiled_engine);
    linker
        .func_wrap("native", "square", |_: Caller<'_, ()>, x: i32| x * x)
        .unwrap();
    let interp_inst = linker.instantiate(&mut store, &interpreted).unwrap();
    linker.instance(&store, "interp", interp_inst).unwrap();
    let native_inst = linker.instantiate(&mut store, &native).unwrap();
    let f = native_inst
        .get_typed_func::<i32, i32>(&store, "plus_one_twice")
        .unwrap();
    assert_eq!(f.call(&mut store, 4).unwrap(), 10);
    let g = interp_inst
        .get_typed_func::<i32, i32>(&store, "square_plus")
        .unwrap();
    assert_eq!(g.call(&mut store, 5).unwrap(), 28);

    // And an interpreted function calling a compiled one directly.
    let mut linker2 = Linker::new(&compiled_engine);
    linker2.instance(&store, "native", native_inst).unwrap();
    let interp2 = linker2.instantiate(&mut store, &interpreted).unwrap();
    let h = interp2
        .get_typed_func::<i32, i32>(&store, "square_plus")
        .unwrap();
    assert_eq!(h.call(&mut store, 6).unwrap(), 39);
}

#[test]
fn a_trap_unwinds_only_to_its_own_entry() {
    let e = engine(Strategy::Compiler);
    let mut store = Store::new(&e, 0u32);
    let mut linker = Linker::new(&e);
    // The host calls back into Wasm, which traps; the host sees the trap, counts it and
    // carries on, so the outer Wasm call completes normally.
    linker
        .func_wrap(
            "env",
            "probe",
            |mut caller: Caller<'_, u32>, x: i32| -> i32 {
                let Some(f) = caller.get_export("divide").and_then(|e| e.into_func()) else {
                    return -1;
                };
                let f = f.typed::<(i32, i32), i32>(&caller).unwrap();
                match f.call(&mut caller, (x, 0)) {
                    Err(e) => {
                        assert_eq!(e.as_trap().unwrap().code(), TrapCode::IntegerDivisionByZero);
                        *caller.data_mut() += 1;
                        7
                    }
                    Ok(v) => v,
                }
            },
        )
        .unwrap();
    let m = Module::new(
        &e,
        wat(r#"(module
            (import "env" "probe" (func $probe (param i32) (result i32)))
            (func (export "divide") (param i32 i32) (result i32)
              (i32.div_s (local.get 0) (local.get 1)))
            (func (export "outer") (param i32) (result i32)
              (i32.add (call $probe (local.get 0)) (call $probe (local.get 0)))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let outer = inst.get_typed_func::<i32, i32>(&store, "outer").unwrap();
    assert_eq!(outer.call(&mut store, 9).unwrap(), 14);
    assert_eq!(*store.data(), 2);
}

#[test]
fn host_errors_unwind_compiled_frames_and_name_the_caller() {
    let e = engine(Strategy::Compiler);
    let mut store = Store::new(&e, ());
    let mut linker = Linker::new(&e);
    linker
        .func_wrap("env", "fail", |_: Caller<'_, ()>| -> Result<(), Trap> {
            Err(Trap::host_message("no more"))
        })
        .unwrap();
    let m = Module::new(
        &e,
        wat(r#"(module
            (import "env" "fail" (func $fail))
            (func $deep (param i32)
              (if (local.get 0)
                (then (call $deep (i32.sub (local.get 0) (i32.const 1))))
                (else (call $fail))))
            (func (export "run") (call $deep (i32.const 50))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let run = inst.get_typed_func::<(), ()>(&store, "run").unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.code(), TrapCode::Host);
    assert_eq!(trap.function(), Some("deep"));
    assert!(trap.to_string().contains("no more"), "{trap}");
    // The store is usable afterwards.
    assert!(run.call(&mut store, ()).is_err());
}

#[test]
fn a_host_panic_crosses_compiled_frames_as_a_panic() {
    let e = engine(Strategy::Compiler);
    let mut store = Store::new(&e, ());
    let mut linker = Linker::new(&e);
    linker
        .func_wrap("env", "boom", |_: Caller<'_, ()>, x: i32| -> i32 {
            if x == 3 {
                panic!("host panicked at {x}");
            }
            x
        })
        .unwrap();
    let m = Module::new(
        &e,
        wat(r#"(module
            (import "env" "boom" (func $boom (param i32) (result i32)))
            (func (export "call") (param i32) (result i32)
              (i32.add (call $boom (local.get 0)) (i32.const 1))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let f = inst.get_typed_func::<i32, i32>(&store, "call").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&mut store, 3)));
    let payload = caught.expect_err("the panic reaches the caller");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(msg.contains("host panicked at 3"), "{msg}");
    assert_eq!(f.call(&mut store, 4).unwrap(), 5);
}

#[test]
fn recursion_through_host_frames_ends_in_a_trap() {
    let e = engine(Strategy::Compiler);
    let mut store = Store::new(&e, ());
    let mut linker = Linker::new(&e);
    linker
        .func_wrap(
            "env",
            "again",
            |mut caller: Caller<'_, ()>, n: i32| -> Result<i32, Trap> {
                let f = caller
                    .get_export("down")
                    .and_then(|e| e.into_func())
                    .unwrap()
                    .typed::<i32, i32>(&caller)
                    .unwrap();
                f.call(&mut caller, n + 1).map_err(|e| {
                    e.into_trap()
                        .unwrap_or_else(|_| Trap::host_message("not a trap"))
                })
            },
        )
        .unwrap();
    let m = Module::new(
        &e,
        wat(r#"(module
            (import "env" "again" (func $again (param i32) (result i32)))
            (func (export "down") (param i32) (result i32)
              (call $again (local.get 0))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let down = inst.get_typed_func::<i32, i32>(&store, "down").unwrap();
    let err = down.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.as_trap().unwrap().code(),
        TrapCode::StackOverflow,
        "{err}"
    );
}

/// Values live across a call sit in the convention's preserved registers, r8 and r9
/// among them; System V runtime calls in the callee (here `table.copy`, whose six
/// arguments fill r8 and r9, and `memory.fill`) must not destroy them.
#[test]
fn values_in_preserved_registers_survive_runtime_calls_in_the_callee() {
    let e = engine(Strategy::Compiler);
    let m = Module::new(
        &e,
        wat(r#"(module
            (memory 1)
            (table $t 4 funcref)
            (func $runtime_calls
              (table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 2))
              (memory.fill (i32.const 16) (i32.const 7) (i32.const 64)))
            (func (export "f") (param $x i32) (result i32)
              (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32)
              (local.set $a (i32.mul (local.get $x) (i32.const 3)))
              (local.set $b (i32.xor (local.get $x) (i32.const 0x55)))
              (local.set $c (i32.add (local.get $x) (i32.const 1000)))
              (local.set $d (i32.shl (local.get $x) (i32.const 4)))
              (local.set $e (i32.sub (i32.const 77) (local.get $x)))
              (call $runtime_calls)
              (i32.add
                (i32.add
                  (i32.mul (local.get $a) (i32.const 3))
                  (i32.mul (local.get $b) (i32.const 5)))
                (i32.add
                  (i32.add
                    (i32.mul (local.get $c) (i32.const 7))
                    (i32.mul (local.get $d) (i32.const 11)))
                  (i32.add
                    (i32.mul (local.get $e) (i32.const 13))
                    (i32.load8_u (i32.const 40)))))))"#),
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    let inst = Linker::new(&e).instantiate(&mut store, &m).unwrap();
    let f = inst.get_typed_func::<i32, i32>(&store, "f").unwrap();
    for x in [0i32, 1, 12345, -9] {
        let expect = (x.wrapping_mul(3)).wrapping_mul(3)
            + (x ^ 0x55).wrapping_mul(5)
            + (x.wrapping_add(1000)).wrapping_mul(7)
            + (x << 4).wrapping_mul(11)
            + (77i32.wrapping_sub(x)).wrapping_mul(13)
            + 7;
        assert_eq!(f.call(&mut store, x).unwrap(), expect, "f({x})");
    }
}

/// Loads used once by an ALU operation or compare become its memory operand; they must
/// still see memory as it was at the load, and trap before later effects.
#[test]
fn folded_loads_keep_their_place_among_stores_and_traps() {
    let e = engine(Strategy::Compiler);
    let m = Module::new(
        &e,
        wat(r#"(module
            (memory 1)
            (global $g (mut i32) (i32.const 0))
            ;; The old value, although a store to the same address comes before the add.
            (func (export "load_store_add") (param $p i32) (result i32)
              (local $old i32)
              (local.set $old (i32.load (local.get $p)))
              (i32.store (local.get $p) (i32.const 1000))
              (i32.add (local.get $old) (i32.const 1)))
            ;; Folded into the add and the compares (nothing in between writes).
            (func (export "sum_if") (param $p i32) (param $q i32) (result i32)
              (if (result i32) (i32.lt_s (i32.load offset=4 (local.get $p)) (i32.const 10))
                (then (i32.add (local.get $q) (i32.load offset=8 (local.get $p))))
                (else (i32.sub (local.get $q) (i32.load offset=8 (local.get $p))))))
            (func (export "cmp_reg") (param $p i32) (param $x i64) (result i32)
              (i64.gt_u (i64.load (local.get $p)) (local.get $x)))
            ;; An out-of-bounds load traps before the global is written.
            (func (export "trap_first") (param $p i32) (result i32)
              (local $v i32)
              (local.set $v (i32.load (local.get $p)))
              (global.set $g (i32.const 1))
              (i32.xor (local.get $v) (i32.const 5)))
            (func (export "g") (result i32) (global.get $g))
            ;; Narrow loads tested against masks: `test word/byte [...], imm`.
            (func (export "flags") (param $p i32) (result i32)
              (if (result i32) (i32.and (i32.load16_u (local.get $p)) (i32.const 0x0201))
                (then (i32.const 1))
                (else (i32.eqz (i32.and (i32.load8_u offset=1 (local.get $p)) (i32.const 4))))))
            (data (i32.const 16) "\07\00\00\00\09\00\00\00\64\00\00\00")
            (data (i32.const 32) "\01\00\00\02\00\00\04\00"))"#),
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    let inst = Linker::new(&e).instantiate(&mut store, &m).unwrap();
    let load_store_add = inst
        .get_typed_func::<i32, i32>(&store, "load_store_add")
        .unwrap();
    assert_eq!(load_store_add.call(&mut store, 16).unwrap(), 8);
    assert_eq!(load_store_add.call(&mut store, 16).unwrap(), 1001);
    let sum_if = inst
        .get_typed_func::<(i32, i32), i32>(&store, "sum_if")
        .unwrap();
    // [p+4] = 9 < 10: q + [p+8] = q + 100.
    assert_eq!(sum_if.call(&mut store, (16, 5)).unwrap(), 105);
    // p = 20: [24] = 100 ≥ 10, so q - [28] = q - 0.
    assert_eq!(sum_if.call(&mut store, (20, 5)).unwrap(), 5);
    let cmp_reg = inst
        .get_typed_func::<(i32, i64), i32>(&store, "cmp_reg")
        .unwrap();
    // [20..28] = 9 | 100 << 32.
    let v = 9 | (100i64 << 32);
    assert_eq!(cmp_reg.call(&mut store, (20, v - 1)).unwrap(), 1);
    assert_eq!(cmp_reg.call(&mut store, (20, v)).unwrap(), 0);
    assert_eq!(cmp_reg.call(&mut store, (20, -1)).unwrap(), 0);
    let trap_first = inst
        .get_typed_func::<i32, i32>(&store, "trap_first")
        .unwrap();
    let err = trap_first.call(&mut store, 65534).unwrap_err();
    assert_eq!(
        err.as_trap().unwrap().code(),
        TrapCode::MemoryOutOfBounds,
        "{err}"
    );
    let g = inst.get_typed_func::<(), i32>(&store, "g").unwrap();
    assert_eq!(
        g.call(&mut store, ()).unwrap(),
        0,
        "the global was written before the trap"
    );
    assert_eq!(trap_first.call(&mut store, 16).unwrap(), 1000 ^ 5);
    assert_eq!(g.call(&mut store, ()).unwrap(), 1);
    let flags = inst.get_typed_func::<i32, i32>(&store, "flags").unwrap();
    // Bytes from 32: 01 00 00 02 00 00 04 00.
    assert_eq!(
        flags.call(&mut store, 32).unwrap(),
        1,
        "bit 0 of the low byte"
    );
    assert_eq!(
        flags.call(&mut store, 34).unwrap(),
        1,
        "bit 1 of the high byte"
    );
    assert_eq!(
        flags.call(&mut store, 36).unwrap(),
        1,
        "no bit, and [37] lacks bit 2"
    );
    assert_eq!(
        flags.call(&mut store, 37).unwrap(),
        0,
        "no bit, and [38] has bit 2"
    );
    // A 16-bit access with one byte past the end traps, as the unfolded load would.
    let err = flags.call(&mut store, 65535).unwrap_err();
    assert_eq!(
        err.as_trap().unwrap().code(),
        TrapCode::MemoryOutOfBounds,
        "{err}"
    );
}

/// Branches that reuse the flags of the operation that computed their condition.
#[test]
fn branches_on_flags_of_the_last_operation() {
    let e = engine(Strategy::Compiler);
    let m = Module::new(
        &e,
        wat(r#"(module
            (func (export "count_down") (param $n i32) (result i32)
              (local $acc i32)
              (loop $l
                (local.set $acc (i32.add (local.get $acc) (local.get $n)))
                (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
              (local.get $acc))
            (func (export "and_or_seven") (param i32 i32) (result i32)
              (local $x i32)
              (if (result i32)
                (i32.ne (local.tee $x (i32.and (local.get 0) (local.get 1))) (i32.const 0))
                (then (local.get $x))
                (else (i32.const 7))))
            (func (export "add_eqz") (param i64) (result i32)
              (i64.eqz (i64.add (local.get 0) (i64.const 5)))))"#),
    )
    .unwrap();
    let mut store = Store::new(&e, ());
    let inst = Linker::new(&e).instantiate(&mut store, &m).unwrap();
    let count_down = inst
        .get_typed_func::<i32, i32>(&store, "count_down")
        .unwrap();
    assert_eq!(count_down.call(&mut store, 10).unwrap(), 55);
    assert_eq!(count_down.call(&mut store, 1).unwrap(), 1);
    let and_or_seven = inst
        .get_typed_func::<(i32, i32), i32>(&store, "and_or_seven")
        .unwrap();
    assert_eq!(and_or_seven.call(&mut store, (12, 10)).unwrap(), 8);
    assert_eq!(and_or_seven.call(&mut store, (12, 3)).unwrap(), 7);
    let add_eqz = inst.get_typed_func::<i64, i32>(&store, "add_eqz").unwrap();
    assert_eq!(add_eqz.call(&mut store, -5).unwrap(), 1);
    assert_eq!(add_eqz.call(&mut store, 1 << 32).unwrap(), 0);
    assert_eq!(add_eqz.call(&mut store, -(1 << 32) - 5).unwrap(), 0);
}

/// Compile time stays linear in a `br_table`'s size (a mutated module with 20,000
/// targets once took two seconds: the block ordering rescanned every target per edge).
#[test]
fn a_huge_br_table_compiles_in_linear_time() {
    let targets = "0 1 ".repeat(100_000);
    let text = format!(
        r#"(module (func (export "f") (param i32) (result i32)
            (block (block (br_table {targets} 0 (local.get 0))) (return (i32.const 10)))
            (i32.const 20)))"#
    );
    let (e, bytes) = (engine(Strategy::Compiler), wat(&text));
    let started = std::time::Instant::now();
    let m = Module::new(&e, bytes).unwrap();
    let took = started.elapsed();
    // Quadratic work on 200,000 edges takes minutes; linear, well under a second.
    assert!(
        took < std::time::Duration::from_secs(10),
        "compiling took {took:?}"
    );
    let mut store = Store::new(&e, ());
    let inst = Linker::new(&e).instantiate(&mut store, &m).unwrap();
    let f = inst.get_typed_func::<i32, i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, 0).unwrap(), 10);
    assert_eq!(f.call(&mut store, 1).unwrap(), 20);
    assert_eq!(f.call(&mut store, 7).unwrap(), 20);
    assert_eq!(f.call(&mut store, -1).unwrap(), 10);
}

/// Runs this test binary again with `SANDLITE_NATIVE_CHILD=case`, returning its status.
fn child(case: &str) -> std::process::ExitStatus {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_cases", "--nocapture"])
        .env("SANDLITE_NATIVE_CHILD", case)
        .status()
        .unwrap()
}

/// Run the compiled code once, so the signal handler is installed.
fn run_compiled_code() {
    let e = engine(Strategy::Compiler);
    let mut store = Store::new(&e, ());
    let m = Module::new(
        &e,
        wat(r#"(module (memory 1)
        (func (export "oob") (result i32) (i32.load (i32.const 70000))))"#),
    )
    .unwrap();
    let inst = Linker::new(&e).instantiate(&mut store, &m).unwrap();
    let f = inst.get_typed_func::<(), i32>(&store, "oob").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::MemoryOutOfBounds);
}

extern "C" fn own_handler(_: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(42) };
}

/// The cases `child` runs, in a process of their own.
#[test]
fn child_process_cases() {
    let Ok(case) = std::env::var("SANDLITE_NATIVE_CHILD") else {
        return;
    };
    match case.as_str() {
        "fault-outside" => {
            run_compiled_code();
            // A fault in Rust code is not a Wasm trap: the process must die of it.
            // SAFETY: deliberately invalid, to crash this child process.
            unsafe { std::ptr::read_volatile(16 as *const u64) };
        }
        "own-handler" => {
            // SAFETY: installing a plain handler for SIGSEGV before the VM installs its
            // own; the handler only calls _exit.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = own_handler as *const () as usize;
                libc::sigaction(libc::SIGSEGV, &act, std::ptr::null_mut());
            }
            run_compiled_code();
            // SAFETY: deliberately invalid: the program's own handler must see it.
            unsafe { std::ptr::read_volatile(16 as *const u64) };
        }
        other => panic!("unknown case {other}"),
    }
    std::process::exit(1);
}

#[test]
fn faults_outside_compiled_code_still_crash() {
    use std::os::unix::process::ExitStatusExt;
    let status = child("fault-outside");
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status:?}");
}

#[test]
fn a_programs_own_signal_handler_keeps_working() {
    let status = child("own-handler");
    assert_eq!(status.code(), Some(42), "{status:?}");
}
