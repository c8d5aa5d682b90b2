//! Multi-memory (WebAssembly 3.0) through the embedding API: the engine flag, loads and
//! stores of every kind on a second memory, growth, bulk operations between memories,
//! data segments per memory, and imported memories.

use sandlite_vm::{
    Caller, Config, Engine, Error, ErrorKind, Instance, Limits, Linker, Memory, MemoryType, Module,
    Store, TrapCode, V128, Val,
};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

fn multi_memory_engine() -> Engine {
    Engine::new(Config::default().multi_memory(true))
}

fn instantiate(engine: &Engine, store: &mut Store<()>, text: &str) -> Instance {
    let module = Module::new(engine, wat(text)).expect("valid module");
    Linker::new(engine)
        .instantiate(store, &module)
        .expect("instantiate")
}

fn memory_type(min: u32, max: Option<u32>) -> MemoryType {
    MemoryType {
        limits: Limits { min, max },
    }
}

fn trap_code(err: &Error) -> TrapCode {
    err.as_trap()
        .unwrap_or_else(|| panic!("expected a trap, got {err}"))
        .code()
}

fn call_i32(inst: Instance, store: &mut Store<()>, name: &str, args: &[i32]) -> Result<i32, Error> {
    let f = inst.get_func(&*store, name).expect("exported function");
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &args, &mut out)?;
    Ok(out[0].i32().expect("an i32 result"))
}

#[test]
fn flag_is_off_by_default_and_two_memories_are_invalid() {
    assert!(!Config::default().is_multi_memory());
    assert!(!Engine::default().config().is_multi_memory());
    assert!(multi_memory_engine().config().is_multi_memory());

    let two_defined = wat("(module (memory 1) (memory 1))");
    let err = Module::new(&Engine::default(), &two_defined).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { message, .. } if message == "multiple memories"),
        "{err}"
    );
    Module::new(&multi_memory_engine(), &two_defined).expect("valid with multi-memory");

    let imported_and_defined = wat(r#"(module (import "env" "m" (memory 1)) (memory 1))"#);
    let err = Module::new(&Engine::default(), &imported_and_defined).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { message, .. } if message == "multiple memories"),
        "{err}"
    );
    Module::new(&multi_memory_engine(), &imported_and_defined).expect("valid with multi-memory");
}

#[test]
fn flag_off_keeps_the_2_0_encodings_malformed() {
    let malformed = |text: &str, expected: &str| {
        let err = Module::new(&Engine::default(), wat(text)).unwrap_err();
        match err.kind() {
            ErrorKind::Malformed { message, .. } => assert_eq!(message, expected, "{text}"),
            _ => panic!("{text}: expected malformed ({expected}), got {err}"),
        }
    };
    // A memory index on a load sets bit 6 of the flags.
    malformed(
        "(module (memory 1) (memory $b 1)
           (func (drop (i32.load $b (i32.const 0)))))",
        "malformed memop flags",
    );
    malformed(
        "(module (memory 1) (memory $b 1) (func (drop (memory.size $b))))",
        "zero byte expected",
    );
    malformed(
        "(module (memory 1) (memory $b 1)
           (func (memory.copy $b 0 (i32.const 0) (i32.const 0) (i32.const 0))))",
        "zero byte expected",
    );
}

#[test]
fn memory_indices_are_validated() {
    let engine = multi_memory_engine();
    let invalid = |text: &str, expected: &str| {
        let err = Module::new(&engine, wat(text)).unwrap_err();
        match err.kind() {
            ErrorKind::Invalid { message, .. } => assert_eq!(message, expected, "{text}"),
            _ => panic!("{text}: expected invalid ({expected}), got {err}"),
        }
    };
    invalid(
        "(module (memory 1) (func (drop (i32.load 1 (i32.const 0)))))",
        "unknown memory 1",
    );
    invalid(
        "(module (memory 1) (memory 1) (func (drop (memory.grow 2 (i32.const 0)))))",
        "unknown memory 2",
    );
    invalid(
        "(module (memory 1) (func (memory.copy 0 1 (i32.const 0) (i32.const 0) (i32.const 0))))",
        "unknown memory 1",
    );
    invalid(
        r#"(module (memory 1) (data (memory 1) (i32.const 0) "x"))"#,
        "unknown memory 1",
    );
    invalid(
        "(module (memory 1) (memory 1)
           (func (v128.store8_lane 1 16 (i32.const 0) (v128.const i64x2 0 0))))",
        "invalid lane index",
    );
}

#[test]
fn loads_and_stores_reach_their_own_memory() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &engine,
        &mut store,
        r#"(module
            (memory $a (export "a") 1)
            (memory $b (export "b") 1)
            (func (export "store") (param $addr i32) (param $x i32) (param $y i32)
              (i32.store $a (local.get $addr) (local.get $x))
              (i32.store $b (local.get $addr) (local.get $y)))
            (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
            (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
            ;; The loaded value feeds arithmetic and a local, and constants are stored.
            (func (export "sum_b") (param $addr i32) (result i32) (local $t i32)
              (local.set $t (i32.load $b offset=4 (local.get $addr)))
              (i32.store8 $b (local.get $addr) (i32.const 0x1ff))
              (i32.add (local.get $t) (i32.load8_u $b (local.get $addr)))))"#,
    );
    let store_fn = inst
        .get_typed_func::<(i32, i32, i32), ()>(&store, "store")
        .unwrap();
    store_fn.call(&mut store, (8, 0x1111, 0x2222)).unwrap();
    assert_eq!(call_i32(inst, &mut store, "load_a", &[8]).unwrap(), 0x1111);
    assert_eq!(call_i32(inst, &mut store, "load_b", &[8]).unwrap(), 0x2222);

    // The host sees each memory under its export name.
    let a = inst.get_memory(&store, "a").unwrap();
    let b = inst.get_memory(&store, "b").unwrap();
    assert_ne!(a, b);
    assert_eq!(&a.data(&store)[8..12], &0x1111u32.to_le_bytes());
    assert_eq!(&b.data(&store)[8..12], &0x2222u32.to_le_bytes());

    b.write(&mut store, 20, &7u32.to_le_bytes()).unwrap();
    assert_eq!(
        call_i32(inst, &mut store, "sum_b", &[16]).unwrap(),
        7 + 0xff
    );
    assert_eq!(b.data(&store)[16], 0xff);
    assert_eq!(a.data(&store)[16], 0, "memory a is untouched");

    let err = call_i32(inst, &mut store, "load_b", &[65533]).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);
}

/// Every load and store kind, once on memory 0 (the interpreter's fast ops) and once on
/// memory 1 (its memory-indexed ops), over the same bytes: results, traps and the bytes
/// written must agree.
#[test]
fn every_access_kind_agrees_between_memory_0_and_memory_1() {
    const LOADS: &[(&str, &str)] = &[
        ("i32.load", "i32"),
        ("i64.load", "i64"),
        ("f32.load", "f32"),
        ("f64.load", "f64"),
        ("i32.load8_s", "i32"),
        ("i32.load8_u", "i32"),
        ("i32.load16_s", "i32"),
        ("i32.load16_u", "i32"),
        ("i64.load8_s", "i64"),
        ("i64.load8_u", "i64"),
        ("i64.load16_s", "i64"),
        ("i64.load16_u", "i64"),
        ("i64.load32_s", "i64"),
        ("i64.load32_u", "i64"),
        ("v128.load", "v128"),
        ("v128.load8x8_s", "v128"),
        ("v128.load8x8_u", "v128"),
        ("v128.load16x4_s", "v128"),
        ("v128.load16x4_u", "v128"),
        ("v128.load32x2_s", "v128"),
        ("v128.load32x2_u", "v128"),
        ("v128.load8_splat", "v128"),
        ("v128.load16_splat", "v128"),
        ("v128.load32_splat", "v128"),
        ("v128.load64_splat", "v128"),
        ("v128.load32_zero", "v128"),
        ("v128.load64_zero", "v128"),
    ];
    const LANE_LOADS: &[&str] = &[
        "v128.load8_lane 15",
        "v128.load16_lane 3",
        "v128.load32_lane 2",
        "v128.load64_lane 1",
    ];
    // (instruction, value type, constant operand for the immediate-store form)
    const STORES: &[(&str, &str, &str)] = &[
        ("i32.store", "i32", "i32.const -2"),
        ("i64.store", "i64", "i64.const -3"),
        ("f32.store", "f32", "f32.const -1.5"),
        ("f64.store", "f64", "f64.const 2.5"),
        ("i32.store8", "i32", "i32.const 0x1ff"),
        ("i32.store16", "i32", "i32.const 0x1fffe"),
        ("i64.store8", "i64", "i64.const 0x1fd"),
        ("i64.store16", "i64", "i64.const -4"),
        ("i64.store32", "i64", "i64.const 0x1_2345_6789"),
        ("v128.store", "v128", "v128.const i32x4 1 2 3 4"),
        ("v128.store8_lane 9", "v128", "v128.const i32x4 5 6 7 8"),
        ("v128.store16_lane 6", "v128", "v128.const i32x4 5 6 7 8"),
        ("v128.store32_lane 1", "v128", "v128.const i32x4 5 6 7 8"),
        ("v128.store64_lane 1", "v128", "v128.const i32x4 5 6 7 8"),
    ];

    let mut text = String::from(
        "(module
           (memory $m0 1) (memory $m1 1)
           (export \"m0\" (memory $m0)) (export \"m1\" (memory $m1))\n",
    );
    let pattern: String = (0..64u32)
        .map(|i| format!("\\{:02x}", (i * 37 + 11) % 256))
        .collect();
    for memory in ["$m0", "$m1"] {
        text += &format!("(data (memory {memory}) (i32.const 0) \"{pattern}\")\n");
        text += &format!("(data (memory {memory}) (i32.const 65472) \"{pattern}\")\n");
    }
    for m in ["0", "1"] {
        for (i, (op, ty)) in LOADS.iter().enumerate() {
            text += &format!(
                "(func (export \"load{i}/{m}\") (param i32) (result {ty})
                   ({op} $m{m} offset=3 (local.get 0)))\n"
            );
        }
        for (i, op) in LANE_LOADS.iter().enumerate() {
            let (name, lane) = op.split_once(' ').unwrap();
            text += &format!(
                "(func (export \"lane{i}/{m}\") (param i32 v128) (result v128)
                   ({name} $m{m} offset=1 {lane} (local.get 0) (local.get 1)))\n"
            );
        }
        for (i, (op, ty, constant)) in STORES.iter().enumerate() {
            let (name, lane) = op.split_once(' ').unwrap_or((op, ""));
            text += &format!(
                "(func (export \"store{i}/{m}\") (param i32 {ty})
                   ({name} $m{m} offset=2 {lane} (local.get 0) (local.get 1)))
                 (func (export \"store_const{i}/{m}\") (param i32)
                   ({name} $m{m} {lane} (local.get 0) ({constant})))\n"
            );
        }
    }
    text += ")";

    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&engine, &mut store, &text);
    let (m0, m1) = (
        inst.get_memory(&store, "m0").unwrap(),
        inst.get_memory(&store, "m1").unwrap(),
    );
    let addresses = [
        0, 1, 5, 40, 65472, 65509, 65516, 65520, 65525, 65529, 65531, 65532, 65533, 65535, 65536,
        -1,
    ];
    let vector = Val::V128(V128(0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100));
    let call = |store: &mut Store<()>, name: &str, args: &[Val], results: usize| {
        let f = inst.get_func(&*store, name).expect(name);
        let mut out = vec![Val::I32(0); results];
        f.call(&mut *store, args, &mut out).map(|()| out)
    };
    let same = |a: &Result<Vec<Val>, Error>, b: &Result<Vec<Val>, Error>| match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => trap_code(x) == trap_code(y),
        _ => false,
    };
    let mut traps = 0;
    for &addr in &addresses {
        for (i, (op, _)) in LOADS.iter().enumerate() {
            let args = [Val::I32(addr)];
            let r0 = call(&mut store, &format!("load{i}/0"), &args, 1);
            let r1 = call(&mut store, &format!("load{i}/1"), &args, 1);
            assert!(same(&r0, &r1), "{op} at {addr}: {r0:?} vs {r1:?}");
            traps += usize::from(r0.is_err());
        }
        for (i, op) in LANE_LOADS.iter().enumerate() {
            let args = [Val::I32(addr), vector];
            let r0 = call(&mut store, &format!("lane{i}/0"), &args, 1);
            let r1 = call(&mut store, &format!("lane{i}/1"), &args, 1);
            assert!(same(&r0, &r1), "{op} at {addr}: {r0:?} vs {r1:?}");
        }
        for (i, (op, ty, _)) in STORES.iter().enumerate() {
            let value = match *ty {
                "i32" => Val::I32(0x8765_4321_u32 as i32),
                "i64" => Val::I64(0x0123_4567_89ab_cdef),
                "f32" => Val::from(3.25f32),
                "f64" => Val::from(-7.125f64),
                _ => vector,
            };
            for (name, args) in [
                (format!("store{i}"), vec![Val::I32(addr), value]),
                (format!("store_const{i}"), vec![Val::I32(addr)]),
            ] {
                let r0 = call(&mut store, &format!("{name}/0"), &args, 0);
                let r1 = call(&mut store, &format!("{name}/1"), &args, 0);
                assert!(same(&r0, &r1), "{op} at {addr}: {r0:?} vs {r1:?}");
                assert!(
                    m0.data(&store) == m1.data(&store),
                    "{name} ({op}) at {addr} wrote different bytes"
                );
            }
        }
    }
    assert!(traps > 0, "some accesses ran past the end");
}

#[test]
fn grow_and_size_per_memory() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &engine,
        &mut store,
        r#"(module
            (memory $a 1)
            (memory $b (export "b") 0 3)
            (func (export "size_a") (result i32) (memory.size $a))
            (func (export "size_b") (result i32) (memory.size $b))
            (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
            (func (export "poke_b") (param i32 i32) (i32.store $b (local.get 0) (local.get 1)))
            (func (export "peek_b") (param i32) (result i32) (i32.load $b (local.get 0))))"#,
    );
    assert_eq!(call_i32(inst, &mut store, "size_a", &[]).unwrap(), 1);
    assert_eq!(call_i32(inst, &mut store, "size_b", &[]).unwrap(), 0);
    let err = call_i32(inst, &mut store, "peek_b", &[0]).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);

    assert_eq!(call_i32(inst, &mut store, "grow_b", &[2]).unwrap(), 0);
    assert_eq!(call_i32(inst, &mut store, "size_b", &[]).unwrap(), 2);
    assert_eq!(call_i32(inst, &mut store, "size_a", &[]).unwrap(), 1);
    let poke = inst
        .get_typed_func::<(i32, i32), ()>(&store, "poke_b")
        .unwrap();
    poke.call(&mut store, (131_068, 42)).unwrap();
    assert_eq!(
        call_i32(inst, &mut store, "peek_b", &[131_068]).unwrap(),
        42
    );
    // Beyond the maximum of 3 pages: -1, size unchanged.
    assert_eq!(call_i32(inst, &mut store, "grow_b", &[2]).unwrap(), -1);
    assert_eq!(call_i32(inst, &mut store, "size_b", &[]).unwrap(), 2);

    // The host grows memory b; Wasm sees it.
    let b = inst.get_memory(&store, "b").unwrap();
    assert_eq!(b.grow(&mut store, 1).unwrap(), 2);
    assert_eq!(call_i32(inst, &mut store, "size_b", &[]).unwrap(), 3);
    poke.call(&mut store, (196_604, 7)).unwrap();
    assert_eq!(&b.data(&store)[196_604..], &7u32.to_le_bytes());
}

#[test]
fn bulk_operations_between_memories() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &engine,
        &mut store,
        r#"(module
            (memory $a (export "a") 1)
            (memory $b (export "b") 1)
            (data $d "0123456789")
            (func (export "init_b") (param i32 i32 i32)
              (memory.init $b $d (local.get 0) (local.get 1) (local.get 2)))
            (func (export "drop") (data.drop $d))
            (func (export "copy_b_to_a") (param i32 i32 i32)
              (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
            (func (export "copy_a_to_b") (param i32 i32 i32)
              (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2)))
            (func (export "copy_b_to_b") (param i32 i32 i32)
              (memory.copy $b $b (local.get 0) (local.get 1) (local.get 2)))
            (func (export "fill_b") (param i32 i32 i32)
              (memory.fill $b (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    let op = |store: &mut Store<()>, name: &str, args: (i32, i32, i32)| {
        inst.get_typed_func::<(i32, i32, i32), ()>(&*store, name)
            .unwrap()
            .call(store, args)
    };
    let (a, b) = (
        inst.get_memory(&store, "a").unwrap(),
        inst.get_memory(&store, "b").unwrap(),
    );

    op(&mut store, "init_b", (100, 2, 5)).unwrap();
    assert_eq!(&b.data(&store)[100..105], b"23456");
    assert!(a.data(&store)[100..105].iter().all(|&x| x == 0));
    let err = op(&mut store, "init_b", (65533, 0, 4)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);

    op(&mut store, "copy_b_to_a", (10, 100, 5)).unwrap();
    assert_eq!(&a.data(&store)[10..15], b"23456");
    a.write(&mut store, 200, b"xyz").unwrap();
    op(&mut store, "copy_a_to_b", (0, 200, 3)).unwrap();
    assert_eq!(&b.data(&store)[0..3], b"xyz");
    // Overlapping copy inside memory b moves the bytes as if through a buffer.
    op(&mut store, "copy_b_to_b", (102, 100, 5)).unwrap();
    assert_eq!(&b.data(&store)[100..107], b"2323456");
    let err = op(&mut store, "copy_b_to_a", (0, 65535, 2)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);
    let err = op(&mut store, "copy_a_to_b", (65535, 0, 2)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);

    op(&mut store, "fill_b", (300, 0xab, 4)).unwrap();
    assert_eq!(&b.data(&store)[299..305], &[0, 0xab, 0xab, 0xab, 0xab, 0]);
    assert!(a.data(&store)[300..304].iter().all(|&x| x == 0));
    let err = op(&mut store, "fill_b", (65535, 0, 2)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);

    // After data.drop only an empty init succeeds.
    inst.get_typed_func::<(), ()>(&store, "drop")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    op(&mut store, "init_b", (0, 0, 0)).unwrap();
    let err = op(&mut store, "init_b", (0, 0, 1)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);
}

#[test]
fn data_segments_initialize_each_memory() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let inst = instantiate(
        &engine,
        &mut store,
        r#"(module
            (memory $a (export "a") 1)
            (memory $b (export "b") 1)
            (memory $c (export "c") 2)
            (data (i32.const 0) "zero")
            (data (memory $b) (i32.const 4) "one")
            (data (memory $c) (i32.const 65536) "two")
            (data (memory $a) (i32.const 8) "again"))"#,
    );
    let data = |name: &str, range: std::ops::Range<usize>| {
        inst.get_memory(&store, name).unwrap().data(&store)[range].to_vec()
    };
    assert_eq!(data("a", 0..4), b"zero");
    assert_eq!(data("a", 8..13), b"again");
    assert_eq!(data("b", 0..7), b"\0\0\0\0one");
    assert_eq!(data("c", 65536..65539), b"two");
    assert_eq!(data("c", 0..4), [0; 4]);

    // A segment that does not fit its memory traps at instantiation, even though it
    // would fit another one.
    let module = Module::new(
        &engine,
        wat(r#"(module (memory 2) (memory $small 1)
                 (data (memory $small) (i32.const 65535) "ab"))"#),
    )
    .unwrap();
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);
}

#[test]
fn linker_instantiates_with_two_imported_memories() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let first = Memory::new(&mut store, memory_type(1, None)).unwrap();
    let second = Memory::new(&mut store, memory_type(2, Some(4))).unwrap();
    let mut linker = Linker::new(&engine);
    linker.define("env", "first", first).unwrap();
    linker.define("env", "second", second).unwrap();
    let module = Module::new(
        &engine,
        wat(r#"(module
            (import "env" "first" (memory $first 1))
            (import "env" "second" (memory $second 2 4))
            (memory $own (export "own") 1)
            (data (memory $second) (i32.const 70000) "data")
            (func (export "move") (param $from i32) (param $to i32)
              ;; first[from] -> second[to] -> own[to]
              (i64.store $second (local.get $to) (i64.load $first (local.get $from)))
              (i64.store $own (local.get $to) (i64.load $second (local.get $to))))
            (func (export "grow_second") (param i32) (result i32)
              (memory.grow $second (local.get 0))))"#),
    )
    .unwrap();
    let imports: Vec<_> = module.imports().map(|i| i.name.to_owned()).collect();
    assert_eq!(imports, ["first", "second"]);
    let inst = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(&second.data(&store)[70000..70004], b"data");

    first.write(&mut store, 16, b"ABCDEFGH").unwrap();
    let move_fn = inst
        .get_typed_func::<(i32, i32), ()>(&store, "move")
        .unwrap();
    move_fn.call(&mut store, (16, 100)).unwrap();
    let own = inst.get_memory(&store, "own").unwrap();
    assert_eq!(&second.data(&store)[100..108], b"ABCDEFGH");
    assert_eq!(&own.data(&store)[100..108], b"ABCDEFGH");
    assert!(first.data(&store)[100..108].iter().all(|&x| x == 0));
    // 70000 is inside `second` (two pages) but not `own` (one): the store to `second`
    // happens, then the one to `own` traps.
    let err = move_fn.call(&mut store, (16, 70000)).unwrap_err();
    assert_eq!(trap_code(&err), TrapCode::MemoryOutOfBounds);
    assert_eq!(&second.data(&store)[70000..70008], b"ABCDEFGH");

    assert_eq!(call_i32(inst, &mut store, "grow_second", &[1]).unwrap(), 2);
    assert_eq!(second.size(&store), 3);
    assert_eq!(call_i32(inst, &mut store, "grow_second", &[2]).unwrap(), -1);

    // A memory below the import's minimum does not link.
    let mut small_linker = Linker::new(&engine);
    small_linker.define("env", "first", first).unwrap();
    small_linker.define("env", "second", first).unwrap();
    let err = small_linker.instantiate(&mut store, &module).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
}

#[test]
fn one_memory_imported_twice_is_one_memory() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let shared = Memory::new(&mut store, memory_type(1, None)).unwrap();
    let mut linker = Linker::new(&engine);
    linker.define("env", "memory", shared).unwrap();
    let module = Module::new(
        &engine,
        wat(r#"(module
            (import "env" "memory" (memory $x 1))
            (import "env" "memory" (memory $y 1))
            (func (export "store_y_load_x") (param i32 i32) (result i32)
              (i32.store $y (local.get 0) (local.get 1))
              (i32.load $x (local.get 0)))
            (func (export "grow_y_size_x") (result i32)
              (drop (memory.grow $y (i32.const 1)))
              (memory.size $x))
            (func (export "load_x") (param i32) (result i32) (i32.load $x (local.get 0)))
            (func (export "copy_x_to_y") (param i32 i32 i32)
              (memory.copy $y $x (local.get 0) (local.get 1) (local.get 2))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(
        call_i32(inst, &mut store, "store_y_load_x", &[40, 1234]).unwrap(),
        1234
    );
    // Growing through one index is seen through the other, including memory 0's cached
    // size: an access in the new page works at once.
    assert_eq!(call_i32(inst, &mut store, "grow_y_size_x", &[]).unwrap(), 2);
    shared
        .write(&mut store, 70000, &5u32.to_le_bytes())
        .unwrap();
    assert_eq!(call_i32(inst, &mut store, "load_x", &[70000]).unwrap(), 5);
    // An overlapping copy between the two indices is a copy within one memory.
    shared.write(&mut store, 0, b"abcdef").unwrap();
    inst.get_typed_func::<(i32, i32, i32), ()>(&store, "copy_x_to_y")
        .unwrap()
        .call(&mut store, (2, 0, 4))
        .unwrap();
    assert_eq!(&shared.data(&store)[0..6], b"ababcd");
}

#[test]
fn host_calls_that_add_and_grow_memories_are_seen() {
    let engine = multi_memory_engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    // The host creates memories, which moves the store's memory list, then grows memory
    // `b` of its caller: the interpreter must find memory `b` afresh afterwards (a view
    // of the old list would see one page).
    linker
        .func_wrap("env", "churn", |mut caller: Caller<'_, ()>| {
            for _ in 0..16 {
                Memory::new(&mut caller, memory_type(0, None)).unwrap();
            }
            let b = caller
                .get_export("b")
                .and_then(|e| e.into_memory())
                .unwrap();
            b.grow(&mut caller, 1).unwrap();
        })
        .unwrap();
    let module = Module::new(
        &engine,
        wat(r#"(module
            (import "env" "churn" (func $churn))
            (memory $a 1)
            (memory $b (export "b") 1)
            (func (export "run") (result i32)
              (i32.store $b (i32.const 65532) (i32.const 9))
              (call $churn)
              (i32.store $b (i32.const 131068) (i32.const 11))
              (i32.add (i32.load $b (i32.const 65532))
                       (i32.add (i32.load $b (i32.const 131068)) (memory.size $b)))))"#),
    )
    .unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    assert_eq!(call_i32(inst, &mut store, "run", &[]).unwrap(), 9 + 11 + 2);
}
