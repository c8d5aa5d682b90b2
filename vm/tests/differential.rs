//! Differential testing of the two engines: random valid modules from `wasm-smith` run
//! on the interpreter and on the compiler, and every observable result must agree: each
//! exported function's results or trap, and after each call the contents of every
//! exported memory and the value of every exported global. Floats compare bit for bit,
//! except that any NaN equals any NaN (the spec lets NaN payloads differ).
//!
//! `cargo test --release --test differential` runs `DIFF_MODULES` modules (default
//! 2,000) from seed `DIFF_SEED` (default 0). A divergence prints the seed and writes the
//! module to `target/diff-<seed>.wasm`; each one found becomes a case in
//! `tests/fuzzcases/`, which [`regressions`] replays.

use arbitrary::Unstructured;
use sandlite_vm::{Config, Engine, Extern, Linker, Module, Store, Strategy, Val, ValType};

/// What running a module showed, in order.
#[derive(Debug)]
enum Event {
    Compiled(Result<(), String>),
    Instantiated(Result<(), String>),
    Call(String, Result<Vec<Val>, String>),
    Memory(String, u64),
    Global(String, Val),
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Deterministic arguments for a call.
fn args(types: &[ValType], seed: u64) -> Vec<Val> {
    const INTS: [i64; 8] = [0, 1, -1, 7, 0x7fff_ffff, i64::MIN, 65536, 255];
    const FLOATS: [f64; 6] = [0.0, -0.0, 1.5, -3.25, 1e300, f64::NAN];
    types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let k = (seed as usize).wrapping_add(i * 7);
            match t {
                ValType::I32 => Val::I32(INTS[k % INTS.len()] as i32),
                ValType::I64 => Val::I64(INTS[k % INTS.len()]),
                ValType::F32 => Val::from(FLOATS[k % FLOATS.len()] as f32),
                ValType::F64 => Val::from(FLOATS[k % FLOATS.len()]),
                ValType::V128 => Val::V128(sandlite_vm::V128(k as u128)),
                ValType::FuncRef => Val::FuncRef(None),
                ValType::ExternRef => Val::ExternRef(None),
            }
        })
        .collect()
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => {
            x == y || f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan()
        }
        (Val::F64(x), Val::F64(y)) => {
            x == y || f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan()
        }
        (Val::FuncRef(x), Val::FuncRef(y)) => x.is_some() == y.is_some(),
        // A vector has no lane type: equal bits, or NaN wherever the lanes differ, seen
        // as f32 lanes or as f64 lanes.
        (Val::V128(x), Val::V128(y)) => {
            let (x, y) = (x.0, y.0);
            let lanes_agree = |bits: u32| {
                (0..128 / bits).all(|k| {
                    let mask = (1u128 << bits) - 1;
                    let (p, q) = ((x >> (k * bits)) & mask, (y >> (k * bits)) & mask);
                    p == q
                        || if bits == 32 {
                            f32::from_bits(p as u32).is_nan() && f32::from_bits(q as u32).is_nan()
                        } else {
                            f64::from_bits(p as u64).is_nan() && f64::from_bits(q as u64).is_nan()
                        }
                })
            };
            lanes_agree(32) || lanes_agree(64)
        }
        _ => a == b,
    }
}

fn same_event(a: &Event, b: &Event) -> bool {
    match (a, b) {
        (Event::Compiled(x), Event::Compiled(y))
        | (Event::Instantiated(x), Event::Instantiated(y)) => x.is_ok() == y.is_ok(),
        (Event::Call(n, x), Event::Call(m, y)) => {
            n == m
                && match (x, y) {
                    (Ok(x), Ok(y)) => {
                        x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
                    }
                    (Err(x), Err(y)) => x == y,
                    _ => false,
                }
        }
        (Event::Memory(n, x), Event::Memory(m, y)) => n == m && x == y,
        (Event::Global(n, x), Event::Global(m, y)) => n == m && same(x, y),
        _ => false,
    }
}

fn run(wasm: &[u8], strategy: Strategy, seed: u64) -> Vec<Event> {
    let mut events = Vec::new();
    let engine = Engine::new(Config::default().strategy(strategy));
    let module = match Module::new(&engine, wasm) {
        Ok(m) => {
            events.push(Event::Compiled(Ok(())));
            m
        }
        Err(e) => {
            events.push(Event::Compiled(Err(e.to_string())));
            return events;
        }
    };
    let mut store = Store::new(&engine, ());
    let instance = match Linker::new(&engine).instantiate(&mut store, &module) {
        Ok(i) => {
            events.push(Event::Instantiated(Ok(())));
            i
        }
        Err(e) => {
            let why = e
                .as_trap()
                .map_or_else(|| e.to_string(), |t| t.code().to_string());
            events.push(Event::Instantiated(Err(why)));
            return events;
        }
    };
    let exports = instance.exports(&store);
    for (k, (name, ext)) in exports.iter().enumerate() {
        let Extern::Func(f) = ext else { continue };
        let ty = f.ty(&store);
        let params = args(ty.params(), seed.wrapping_add(k as u64));
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let r = f.call(&mut store, &params, &mut results);
        let r = match r {
            Ok(()) => Ok(results),
            Err(e) => Err(e
                .as_trap()
                .map_or_else(|| e.to_string(), |t| t.code().to_string())),
        };
        events.push(Event::Call(name.clone(), r));
        for (n, e) in &exports {
            match e {
                Extern::Memory(m) => events.push(Event::Memory(n.clone(), fnv(m.data(&store)))),
                Extern::Global(g) => events.push(Event::Global(n.clone(), g.get(&store))),
                _ => {}
            }
        }
    }
    events
}

fn config(simd: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: simd,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        max_imports: 0,
        max_memories: 1,
        max_tables: 2,
        max_funcs: 12,
        min_funcs: 1,
        max_instructions: 600,
        max_table_elements: 1000,
        max_memory32_bytes: 16 << 16,
        export_everything: true,
        max_nesting_depth: 8,
        ..wasm_smith::Config::default()
    }
}

/// The module for `seed`, or `None` if wasm-smith declines the input.
fn generate(seed: u64, simd: bool) -> Option<Vec<u8>> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let len = 512 + (seed % 16) as usize * 1024;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut u = Unstructured::new(&bytes);
    let mut m = wasm_smith::Module::new(config(simd), &mut u).ok()?;
    m.ensure_termination(1_000).ok()?;
    Some(m.to_bytes())
}

/// Runs `wasm` on both engines; the events where they first differ, if they do.
fn compare(wasm: &[u8], seed: u64) -> Option<String> {
    let a = run(wasm, Strategy::Interpreter, seed);
    let b = run(wasm, Strategy::Compiler, seed);
    if a.len() != b.len() {
        return Some(format!("interpreter {a:?}\ncompiler {b:?}"));
    }
    for (x, y) in a.iter().zip(&b) {
        if !same_event(x, y) {
            return Some(format!("interpreter: {x:?}\ncompiler:    {y:?}"));
        }
    }
    None
}

#[test]
fn engines_agree_on_random_modules() {
    agree_on_random_modules(false, "DIFF_MODULES", 2000);
}

/// The same with the vector instructions (wasm-smith's `simd_enabled`): the compiler's
/// SSE sequences and runtime calls against the interpreter's portable lanes.
#[test]
fn engines_agree_on_random_simd_modules() {
    agree_on_random_modules(true, "DIFF_SIMD_MODULES", 1000);
}

fn agree_on_random_modules(simd: bool, count_var: &str, default_count: u64) {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return;
    }
    let n: u64 = std::env::var(count_var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_count);
    let first: u64 = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut failures = Vec::new();
    let mut tested = 0;
    for seed in first..first + n {
        let Some(wasm) = generate(seed, simd) else {
            continue;
        };
        tested += 1;
        if let Some(diff) = compare(&wasm, seed) {
            let kind = if simd { "simd-" } else { "" };
            let path = format!(
                "{}/../target/diff-{kind}{seed}.wasm",
                env!("CARGO_MANIFEST_DIR")
            );
            let _ = std::fs::write(&path, &wasm);
            println!("seed {seed}: engines differ ({path})\n{diff}");
            failures.push(seed);
            if failures.len() >= 10 {
                break;
            }
        }
    }
    println!(
        "DIFF {tested} {}modules from seed {first}: {} divergent",
        if simd { "SIMD " } else { "" },
        failures.len()
    );
    assert!(
        tested > n / 2,
        "wasm-smith produced too few modules ({tested} of {n})"
    );
    assert!(failures.is_empty(), "divergent seeds: {failures:?}");
}

/// Every divergence found so far, replayed.
#[test]
fn regressions() {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzzcases");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "wasm") {
            let wasm = std::fs::read(&path).unwrap();
            if let Some(diff) = compare(&wasm, 0) {
                panic!("{}: engines differ\n{diff}", path.display());
            }
            n += 1;
        }
    }
    println!("{n} regression cases agree");
}
