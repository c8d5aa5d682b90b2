//! `v128` across the embedding API (typed and untyped calls, globals, host functions,
//! memory) and translator paths the spec suite exercises only lightly: lazy `v128`
//! locals, block results, calls and `select` on vectors.

use sandlite_vm::{
    Caller, Engine, ErrorKind, Func, FuncType, Global, GlobalType, Instance, Linker, Module,
    Mutability, Store, TrapCode, V128, Val, ValType,
};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn instantiate(linker: &Linker<()>, store: &mut Store<()>, text: &str) -> Instance {
    let module = Module::new(&Engine::default(), wat(text)).expect("valid module");
    linker.instantiate(store, &module).expect("instantiate")
}

/// A vector from four i32 lanes, lane 0 first.
fn i32x4(lanes: [u32; 4]) -> V128 {
    V128(
        lanes
            .iter()
            .enumerate()
            .fold(0, |v, (i, &l)| v | (u128::from(l) << (32 * i))),
    )
}

#[test]
fn typed_calls_pass_and_return_vectors() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module
            (func (export "add") (param v128 v128) (result v128)
              (i32x4.add (local.get 0) (local.get 1)))
            ;; Scalars around a vector: every slot offset must be right.
            (func (export "mix") (param i32 v128 f64) (result f64 v128 i32)
              (local.get 2)
              (i32x4.replace_lane 3 (local.get 1) (local.get 0))
              (i32x4.extract_lane 0 (local.get 1))))"#,
    );
    let add = inst
        .get_typed_func::<(V128, V128), V128>(&store, "add")
        .unwrap();
    let sum = add
        .call(
            &mut store,
            (i32x4([1, 2, 3, u32::MAX]), i32x4([10, 20, 30, 2])),
        )
        .unwrap();
    assert_eq!(sum, i32x4([11, 22, 33, 1]));

    let mix = inst
        .get_typed_func::<(i32, V128, f64), (f64, V128, i32)>(&store, "mix")
        .unwrap();
    let (f, v, i) = mix
        .call(&mut store, (-7, i32x4([5, 6, 7, 8]), 2.5))
        .unwrap();
    assert_eq!(f, 2.5);
    assert_eq!(v, i32x4([5, 6, 7, (-7i32) as u32]));
    assert_eq!(i, 5);

    // A typed view with a scalar where the function takes a vector is refused.
    let wrong = inst.get_typed_func::<(i32, i64, f64), (f64, V128, i32)>(&store, "mix");
    let err = wrong.expect_err("a mismatched typed view is refused");
    assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
}

#[test]
fn untyped_calls_check_vector_types() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module
            (func (export "swap") (param v128 i64) (result i64 v128)
              (local.get 1) (local.get 0)))"#,
    );
    let swap = inst.get_func(&store, "swap").unwrap();
    assert_eq!(
        swap.ty(&store),
        FuncType::new([ValType::V128, ValType::I64], [ValType::I64, ValType::V128])
    );
    let v = V128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    let mut out = [Val::I32(0), Val::I32(0)];
    swap.call(&mut store, &[Val::V128(v), Val::I64(-1)], &mut out)
        .unwrap();
    assert_eq!(out, [Val::I64(-1), Val::V128(v)]);

    // A vector argument given as a scalar is a usage error, not a crash.
    let err = swap
        .call(&mut store, &[Val::I64(1), Val::I64(-1)], &mut out)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Usage(_)), "{err}");
}

#[test]
fn vector_globals_defined_imported_and_exported() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let seed = Global::new(
        &mut store,
        GlobalType {
            content: ValType::V128,
            mutability: Mutability::Const,
        },
        Val::V128(i32x4([1, 2, 3, 4])),
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.define("env", "seed", seed).unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (global $seed (import "env" "seed") v128)
            ;; Initialized from the import: a constant expression reading a v128 global.
            (global $copy (export "copy") v128 (global.get $seed))
            (global $acc (export "acc") (mut v128) (v128.const i64x2 -1 0x7fffffffffffffff))
            (func (export "accumulate") (result v128)
              (global.set $acc (i32x4.add (global.get $acc) (global.get $copy)))
              (global.get $acc)))"#,
    );
    let copy = inst.get_global(&store, "copy").unwrap();
    assert_eq!(copy.get(&store), Val::V128(i32x4([1, 2, 3, 4])));
    let acc = inst.get_global(&store, "acc").unwrap();
    assert_eq!(
        acc.get(&store),
        Val::V128(V128(0x7fff_ffff_ffff_ffff_ffff_ffff_ffff_ffff))
    );

    acc.set(&mut store, Val::V128(i32x4([10, 20, 30, 40])))
        .unwrap();
    let accumulate = inst
        .get_typed_func::<(), V128>(&store, "accumulate")
        .unwrap();
    assert_eq!(
        accumulate.call(&mut store, ()).unwrap(),
        i32x4([11, 22, 33, 44])
    );
    assert_eq!(
        accumulate.call(&mut store, ()).unwrap(),
        i32x4([12, 24, 36, 48])
    );
    assert_eq!(acc.get(&store), Val::V128(i32x4([12, 24, 36, 48])));

    // The type is checked on set.
    assert!(acc.set(&mut store, Val::I32(1)).is_err());
}

#[test]
fn wasm_calls_host_functions_with_vectors() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    // Typed: shifts every byte left by `n`.
    linker
        .func_wrap("env", "shift", |_: Caller<'_, ()>, v: V128, n: i32| {
            V128(v.0 << (8 * n as u32))
        })
        .unwrap();
    // Untyped: returns the vector's lanes reversed and their sum.
    linker
        .func_new(
            "env",
            "reverse",
            FuncType::new([ValType::V128], [ValType::V128, ValType::I32]),
            |_, params, results| {
                let Val::V128(V128(v)) = params[0] else {
                    panic!("a vector argument")
                };
                let lanes: Vec<u32> = (0..4).map(|i| (v >> (32 * i)) as u32).collect();
                results[0] = Val::V128(i32x4([lanes[3], lanes[2], lanes[1], lanes[0]]));
                results[1] = Val::I32(lanes.iter().sum::<u32>() as i32);
                Ok(())
            },
        )
        .unwrap();
    let inst = instantiate(
        &linker,
        &mut store,
        r#"(module
            (import "env" "shift" (func $shift (param v128 i32) (result v128)))
            (import "env" "reverse" (func $reverse (param v128) (result v128 i32)))
            (func (export "run") (param v128) (result v128 i32)
              (call $reverse (call $shift (local.get 0) (i32.const 4)))))"#,
    );
    let run = inst
        .get_typed_func::<V128, (V128, i32)>(&store, "run")
        .unwrap();
    let (v, sum) = run.call(&mut store, i32x4([1, 2, 3, 4])).unwrap();
    // Shifting by 4 bytes moves each lane up one: [0, 1, 2, 3]; reversed: [3, 2, 1, 0].
    assert_eq!(v, i32x4([3, 2, 1, 0]));
    assert_eq!(sum, 6);

    // A host function made with `Func::wrap` is called with vectors from the host too.
    let neg = Func::wrap(&mut store, |_: Caller<'_, ()>, v: V128| V128(!v.0));
    let neg = neg.typed::<V128, V128>(&store).unwrap();
    assert_eq!(neg.call(&mut store, V128(0)).unwrap(), V128(u128::MAX));
}

#[test]
fn vector_memory_access_and_traps() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module
            (memory (export "memory") 1)
            ;; Counts the bytes equal to `needle` in the 16 bytes at `addr`.
            (func (export "count") (param $addr i32) (param $needle i32) (result i32)
              (i8x16.bitmask (i8x16.eq (v128.load (local.get $addr))
                                       (i8x16.splat (local.get $needle))))
              (i32.popcnt))
            (func (export "store_lane") (param i32 v128)
              (v128.store32_lane offset=4 2 (local.get 0) (local.get 1)))
            (func (export "load_lane") (param i32 v128) (result v128)
              (v128.load16_lane 7 (local.get 0) (local.get 1))))"#,
    );
    let memory = inst.get_memory(&store, "memory").unwrap();
    memory
        .write(&mut store, 65520, b"abcabcabcabcabca")
        .unwrap();
    let count = inst
        .get_typed_func::<(i32, i32), i32>(&store, "count")
        .unwrap();
    assert_eq!(count.call(&mut store, (65520, i32::from(b'a'))).unwrap(), 6);
    assert_eq!(count.call(&mut store, (65520, i32::from(b'z'))).unwrap(), 0);
    // The last byte of a 16-byte access past the end traps.
    let err = count.call(&mut store, (65521, 0)).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::MemoryOutOfBounds);

    let store_lane = inst
        .get_typed_func::<(i32, V128), ()>(&store, "store_lane")
        .unwrap();
    store_lane
        .call(&mut store, (8, i32x4([0, 0, 0xdead_beef, 0])))
        .unwrap();
    let mut word = [0u8; 4];
    memory.read(&store, 12, &mut word).unwrap();
    assert_eq!(u32::from_le_bytes(word), 0xdead_beef);
    let err = store_lane.call(&mut store, (65530, V128(0))).unwrap_err();
    assert_eq!(err.as_trap().unwrap().code(), TrapCode::MemoryOutOfBounds);

    let load_lane = inst
        .get_typed_func::<(i32, V128), V128>(&store, "load_lane")
        .unwrap();
    let v = load_lane.call(&mut store, (12, V128(u128::MAX))).unwrap();
    assert_eq!(v, V128((u128::MAX >> 16) | (0xbeef << 112)));
}

#[test]
fn translator_keeps_vector_operands_straight() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &Linker::new(&engine),
        &mut store,
        r#"(module
            (func $pair (param v128 v128) (result v128 v128) (local.get 1) (local.get 0))
            ;; The old value of $v is on the stack when $v is written.
            (func (export "old_then_new") (param $v v128) (result v128)
              (local.get $v)
              (local.set $v (v128.const i32x4 9 9 9 9))
              (i32x4.sub (local.get $v)))
            ;; Vector block results through br_if and br_table, and select.
            (func (export "branches") (param $v v128) (param $k i32) (result v128)
              (block $out (result v128)
                (block $b (result v128)
                  (br_if $out (local.get $v) (i32.eqz (local.get $k)))
                  (br_table $b $out (i32x4.splat (local.get $k)) (i32.sub (local.get $k) (i32.const 1))))
                (select (i32x4.mul (i32x4.splat (i32.const 3)))
                        (local.get $v)
                        (i32.const 1))))
            ;; Loop parameters of type v128, and a call returning two vectors.
            (func (export "loop") (param $n i32) (result v128)
              (local $t v128)
              (v128.const i32x4 1 0 0 0)
              (loop $l (param v128) (result v128)
                (local.set $t)
                (call $pair (local.get $t) (i32x4.shl (local.get $t) (i32.const 1)))
                (drop)
                (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l)))
            (func (export "shuffle") (param v128 v128) (result v128)
              (i8x16.shuffle 31 0 30 1 29 2 28 3 27 4 26 5 25 6 24 7 (local.get 0) (local.get 1)))
            (func (export "bitselect") (param v128 v128 v128) (result v128)
              (v128.bitselect (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    let old_then_new = inst
        .get_typed_func::<V128, V128>(&store, "old_then_new")
        .unwrap();
    assert_eq!(
        old_then_new
            .call(&mut store, i32x4([10, 11, 12, 13]))
            .unwrap(),
        i32x4([1, 2, 3, 4])
    );

    let branches = inst
        .get_typed_func::<(V128, i32), V128>(&store, "branches")
        .unwrap();
    let v = i32x4([1, 2, 3, 4]);
    assert_eq!(branches.call(&mut store, (v, 0)).unwrap(), v, "br_if taken");
    assert_eq!(
        branches.call(&mut store, (v, 1)).unwrap(),
        i32x4([3, 3, 3, 3]),
        "br_table to $b, select picks the product"
    );
    assert_eq!(
        branches.call(&mut store, (v, 2)).unwrap(),
        i32x4([2, 2, 2, 2]),
        "br_table to $out"
    );

    let looped = inst.get_typed_func::<i32, V128>(&store, "loop").unwrap();
    assert_eq!(looped.call(&mut store, 5).unwrap(), i32x4([32, 0, 0, 0]));

    let shuffle = inst
        .get_typed_func::<(V128, V128), V128>(&store, "shuffle")
        .unwrap();
    let a = V128(u128::from_le_bytes(std::array::from_fn(|i| i as u8)));
    let b = V128(u128::from_le_bytes(std::array::from_fn(|i| 0x80 | i as u8)));
    let expected: [u8; 16] = [
        0x8f, 0, 0x8e, 1, 0x8d, 2, 0x8c, 3, 0x8b, 4, 0x8a, 5, 0x89, 6, 0x88, 7,
    ];
    assert_eq!(
        shuffle.call(&mut store, (a, b)).unwrap(),
        V128(u128::from_le_bytes(expected))
    );

    let bitselect = inst
        .get_typed_func::<(V128, V128, V128), V128>(&store, "bitselect")
        .unwrap();
    assert_eq!(
        bitselect
            .call(&mut store, (V128(u128::MAX), V128(0), V128(0xff00)))
            .unwrap(),
        V128(0xff00)
    );
}

#[test]
fn malformed_and_invalid_vector_code_is_refused() {
    let engine = Engine::default();
    // A lane index beyond the shape's lanes.
    let bad_lane =
        wat(r#"(module (func (param v128) (result i32) (i32x4.extract_lane 3 (local.get 0))))"#);
    // Patch the immediate from 3 to 4: the text format would refuse it.
    let mut bytes = bad_lane.clone();
    let at = bytes
        .windows(3)
        .position(|w| w == [0xfd, 0x1b, 3])
        .expect("extract_lane encoding");
    bytes[at + 2] = 4;
    let err = Module::new(&engine, &bytes).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("invalid lane index"), "{err}");
    Module::new(&engine, &bad_lane).expect("lane 3 is fine");

    // An unknown 0xFD sub-opcode is malformed: 0x9a is a hole in the opcode space (with the
    // next byte it reads as the LEB128 number 538, also unknown).
    bytes[at + 1] = 0x9a;
    let err = Module::new(&engine, &bytes).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Malformed { .. }), "{err}");

    // Over-aligned vector access.
    let over = wat(r#"(module (memory 1) (func (drop (v128.load align=16 (i32.const 0)))))"#);
    let mut bytes = over;
    let at = bytes
        .windows(3)
        .position(|w| w == [0xfd, 0x00, 4])
        .expect("v128.load encoding");
    bytes[at + 2] = 5;
    let err = Module::new(&engine, &bytes).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
}
