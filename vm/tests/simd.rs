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

/// The Wasm and the host version of `mix`: ten vectors and an i32 in, three vectors out.
fn mix(p: &[u128; 10], k: i32) -> [u128; 3] {
    let lanes = |v: u128| -> [u32; 4] { std::array::from_fn(|i| (v >> (32 * i)) as u32) };
    let mut sum = [k as u32; 4];
    for v in p {
        for (s, l) in sum.iter_mut().zip(lanes(*v)) {
            *s = s.wrapping_add(l);
        }
    }
    [i32x4(sum).0, p[9], p[0] ^ p[8]]
}

/// More vector arguments than SSE argument registers (stack arguments), more vector
/// results than result registers (the return area), vectors live across calls (16-byte
/// spill slots), through direct, indirect and host calls: on both engines, with the
/// same results as Rust computes.
#[test]
fn vectors_cross_calls_on_the_stack_and_in_spill_slots() {
    const MODULE: &str = r#"(module
        (type $mix (func (param v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 i32)
                         (result v128 v128 v128)))
        (import "host" "mix" (func $host_mix (type $mix)))
        (table 2 funcref)
        (elem (i32.const 0) $wasm_mix $host_mix)
        (func $wasm_mix (type $mix)
          (i32x4.add (i32x4.splat (local.get 10))
            (i32x4.add (i32x4.add (i32x4.add (local.get 0) (local.get 1))
                                  (i32x4.add (local.get 2) (local.get 3)))
              (i32x4.add (i32x4.add (i32x4.add (local.get 4) (local.get 5))
                                    (i32x4.add (local.get 6) (local.get 7)))
                         (i32x4.add (local.get 8) (local.get 9)))))
          (local.get 9)
          (v128.xor (local.get 0) (local.get 8)))
        ;; Ten vectors built from `seed`, passed to `mix` through table entry `which`
        ;; (and directly to the Wasm one); the originals stay live across both calls and
        ;; are folded into the results afterwards.
        (func (export "run") (param $seed i32) (param $which i32) (result v128 v128 v128)
          (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
          (local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128)
          (local $v8 v128) (local $v9 v128)
          (local $r0 v128) (local $r1 v128) (local $r2 v128)
          (local.set $v0 (i32x4.splat (local.get $seed)))
          (local.set $v1 (i32x4.replace_lane 1 (local.get $v0) (i32.const 0x1111)))
          (local.set $v2 (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12
                            (local.get $v1) (local.get $v1)))
          (local.set $v3 (i64x2.splat (i64.extend_i32_u (local.get $seed))))
          (local.set $v4 (v128.not (local.get $v3)))
          (local.set $v5 (i16x8.add (local.get $v4) (local.get $v2)))
          (local.set $v6 (v128.const i32x4 0x01020304 0x05060708 0x090a0b0c 0x0d0e0f10))
          (local.set $v7 (i8x16.sub (local.get $v6) (local.get $v0)))
          (local.set $v8 (f32x4.splat (f32.convert_i32_s (local.get $seed))))
          (local.set $v9 (i32x4.mul (local.get $v7) (local.get $v5)))
          (call_indirect (type $mix)
            (local.get $v0) (local.get $v1) (local.get $v2) (local.get $v3) (local.get $v4)
            (local.get $v5) (local.get $v6) (local.get $v7) (local.get $v8) (local.get $v9)
            (local.get $seed) (local.get $which))
          (local.set $r2) (local.set $r1) (local.set $r0)
          (call $wasm_mix
            (local.get $v9) (local.get $v8) (local.get $v7) (local.get $v6) (local.get $v5)
            (local.get $v4) (local.get $v3) (local.get $v2) (local.get $v1) (local.get $r0)
            (i32.const 7))
          (drop) (drop)
          (local.set $r1 (v128.xor (local.get $r1)))
          (local.set $r2 (v128.not (local.get $r2)))
          (i32x4.add (local.get $r0)
            (i32x4.add (i32x4.add (i32x4.add (local.get $v0) (local.get $v1))
                                  (i32x4.add (local.get $v2) (local.get $v3)))
              (i32x4.add (i32x4.add (i32x4.add (local.get $v4) (local.get $v5))
                                    (i32x4.add (local.get $v6) (local.get $v7)))
                         (i32x4.add (local.get $v8) (local.get $v9)))))
          (local.get $r1)
          (local.get $r2)))"#;
    let expected = |seed: i32| -> [u128; 3] {
        let s = seed as u32;
        let l = |v: u128, i: u32| (v >> (32 * i)) as u32;
        let v0 = i32x4([s; 4]).0;
        let v1 = i32x4([s, 0x1111, s, s]).0;
        let v2 = i32x4(std::array::from_fn(|i| l(v1, i as u32).swap_bytes())).0;
        let v3 = u128::from(u64::from(s)) | (u128::from(u64::from(s)) << 64);
        let v4 = !v3;
        let v5 = (0..8).fold(0u128, |acc, i| {
            let x = ((v4 >> (16 * i)) as u16).wrapping_add((v2 >> (16 * i)) as u16);
            acc | (u128::from(x) << (16 * i))
        });
        let v6 = i32x4([0x01020304, 0x05060708, 0x090a0b0c, 0x0d0e0f10]).0;
        let v7 = (0..16).fold(0u128, |acc, i| {
            let x = ((v6 >> (8 * i)) as u8).wrapping_sub((v0 >> (8 * i)) as u8);
            acc | (u128::from(x) << (8 * i))
        });
        let v8 = i32x4([(seed as f32).to_bits(); 4]).0;
        let v9 = i32x4(std::array::from_fn(|i| {
            l(v7, i as u32).wrapping_mul(l(v5, i as u32))
        }))
        .0;
        let vs = [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9];
        let [r0, r1, r2] = mix(&vs, seed);
        let all = [r0, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9];
        let sum = i32x4(std::array::from_fn(|i| {
            all.iter()
                .fold(0u32, |a, v| a.wrapping_add(l(*v, i as u32)))
        }));
        let x0 = mix(&[v9, v8, v7, v6, v5, v4, v3, v2, v1, r0], 7)[0];
        [sum.0, r1 ^ x0, !r2]
    };
    for strategy in [
        sandlite_vm::Strategy::Interpreter,
        sandlite_vm::Strategy::Auto,
    ] {
        let engine = Engine::new(sandlite_vm::Config::default().strategy(strategy));
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let mut ty_params = vec![ValType::V128; 10];
        ty_params.push(ValType::I32);
        linker
            .func_new(
                "host",
                "mix",
                FuncType::new(ty_params, [ValType::V128; 3]),
                |_, params, results| {
                    let p: [u128; 10] = std::array::from_fn(|i| match params[i] {
                        Val::V128(V128(v)) => v,
                        _ => panic!("a vector argument"),
                    });
                    let Val::I32(k) = params[10] else {
                        panic!("an i32 argument")
                    };
                    for (r, v) in results.iter_mut().zip(mix(&p, k)) {
                        *r = Val::V128(V128(v));
                    }
                    Ok(())
                },
            )
            .unwrap();
        let module = Module::new(&engine, wat(MODULE)).unwrap();
        let inst = linker.instantiate(&mut store, &module).unwrap();
        let run = inst
            .get_typed_func::<(i32, i32), (V128, V128, V128)>(&store, "run")
            .unwrap();
        for seed in [0, 1, -5, 0x1234_5678] {
            for which in [0, 1] {
                let (a, b, c) = run.call(&mut store, (seed, which)).unwrap();
                assert_eq!(
                    [a.0, b.0, c.0],
                    expected(seed),
                    "{strategy:?}: seed {seed}, through table entry {which}"
                );
            }
        }
    }
}
