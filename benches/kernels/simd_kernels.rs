//! SIMD benchmark kernels: the same two loops as Wasm with fixed-width SIMD
//! (`kernels/simd/simd.wat`), as scalar Wasm (`kernels/simd/scalar.wat`) and as native
//! Rust, timed on the same data after checking that all three agree:
//!
//! - `count_byte`: how many bytes of a 64 KiB buffer equal a given byte;
//! - `dot_f32`: the dot product of two arrays of 8192 f32s.
//!
//! Included by the criterion bench `benches/vm.rs`:
//!
//! ```ignore
//! #[path = "simd_kernels.rs"]
//! mod simd_kernels;
//! criterion_group!(benches, simd_kernels::register /* , ... */);
//! ```

use criterion::{Criterion, Throughput};
use sandlite_vm::{Config, Engine, Linker, Memory, Module, Store, Strategy, TypedFunc};
use std::hint::black_box;

/// The kernels with vector instructions.
pub const SIMD_WAT: &str = include_str!("simd/simd.wat");
/// The same kernels, scalar.
pub const SCALAR_WAT: &str = include_str!("simd/scalar.wat");

/// Bytes searched by `count_byte` (at address 0 of the kernels' memory).
pub const HAYSTACK_LEN: usize = 64 * 1024;
/// The byte counted.
pub const NEEDLE: u8 = b'e';
/// Elements of each `dot_f32` operand.
pub const DOT_LEN: usize = 8192;
/// Where the `dot_f32` operands are in the kernels' memory (after the haystack).
const DOT_A: usize = HAYSTACK_LEN;
const DOT_B: usize = DOT_A + 4 * DOT_LEN;

/// Native twin of `count_byte`.
pub fn count_byte_native(haystack: &[u8], needle: u8) -> u32 {
    haystack.iter().filter(|&&b| b == needle).count() as u32
}

/// Native twin of `dot_f32` (summed in index order, as the scalar Wasm does).
pub fn dot_f32_native(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |sum, (x, y)| sum + x * y)
}

/// Native twin of the SIMD `count_byte`'s algorithm: 16 bytes at a time, lane-wise
/// compares summed per block, the tail bytewise. Written in plain Rust in a shape LLVM
/// vectorizes (`pcmpeqb` and byte sums on the baseline x86-64 target), so it is the fair
/// native peer of the compiled SIMD Wasm.
pub fn count_byte_native_lanes(haystack: &[u8], needle: u8) -> u32 {
    let blocks = haystack.chunks_exact(16);
    let tail = blocks.remainder();
    let mut n = 0u32;
    for block in blocks {
        let mut hits = 0u8;
        for &b in block {
            hits += u8::from(b == needle);
        }
        n += u32::from(hits);
    }
    n + tail.iter().filter(|&&b| b == needle).count() as u32
}

/// Native twin of the SIMD `dot_f32`'s algorithm: four partial sums in lanes (the same
/// order of additions as `f32x4.mul`/`f32x4.add`, lanes added as `(0+1) + (2+3)`), then
/// the tail; LLVM keeps the four sums in one vector register.
pub fn dot_f32_native_lanes(a: &[f32], b: &[f32]) -> f32 {
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (at, bt) = (ac.remainder(), bc.remainder());
    let mut acc = [0f32; 4];
    for (x, y) in ac.zip(bc) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    at.iter().zip(bt).fold(sum, |s, (x, y)| s + x * y)
}

/// Text-like bytes from a fixed pseudo-random sequence (so every run times the same work).
pub fn haystack() -> Vec<u8> {
    const ALPHABET: &[u8] = b"etaoin shrdlu,cmfwyp.vbgkqjxz\n";
    let mut state = 0x2545_f491_u32;
    (0..HAYSTACK_LEN)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            ALPHABET[state as usize % ALPHABET.len()]
        })
        .collect()
}

/// Two operands of small integers, so every partial sum is exact in f32 and the SIMD
/// kernel's different order of additions gives the same result.
pub fn dot_operands() -> (Vec<f32>, Vec<f32>) {
    let a = (0..DOT_LEN).map(|i| (i % 7) as f32 - 3.0).collect();
    let b = (0..DOT_LEN).map(|i| (i % 5) as f32).collect();
    (a, b)
}

/// One instantiated kernel module with the benchmark data in its memory.
pub struct WasmKernels {
    store: Store<()>,
    memory: Memory,
    count_byte: TypedFunc<(i32, i32, i32), i32>,
    dot_f32: TypedFunc<(i32, i32, i32), f32>,
}

impl WasmKernels {
    fn new(wat: &str, strategy: Strategy, haystack: &[u8], a: &[f32], b: &[f32]) -> WasmKernels {
        let buf = wast::parser::ParseBuffer::new(wat).expect("kernel text lexes");
        let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("kernel text parses");
        let bytes = wat.encode().expect("kernel encodes");
        let engine = Engine::new(Config::default().strategy(strategy));
        let module = Module::new(&engine, bytes).expect("kernel validates");
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .expect("kernel instantiates");
        let memory: Memory = instance
            .get_memory(&store, "memory")
            .expect("memory export");
        memory
            .write(&mut store, 0, haystack)
            .expect("haystack fits");
        let count_byte = instance
            .get_typed_func(&store, "count_byte")
            .expect("count_byte export");
        let dot_f32 = instance
            .get_typed_func(&store, "dot_f32")
            .expect("dot_f32 export");
        let mut kernels = WasmKernels {
            store,
            memory,
            count_byte,
            dot_f32,
        };
        kernels.write_floats(DOT_A, a);
        kernels.write_floats(DOT_B, b);
        kernels
    }

    fn write_floats(&mut self, at: usize, values: &[f32]) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.memory
            .write(&mut self.store, at, &bytes)
            .expect("floats fit");
    }

    fn count_byte(&mut self) -> u32 {
        let args = (0, HAYSTACK_LEN as i32, i32::from(NEEDLE));
        self.count_byte
            .call(&mut self.store, args)
            .expect("count_byte runs") as u32
    }

    fn dot_f32(&mut self) -> f32 {
        let args = (DOT_A as i32, DOT_B as i32, DOT_LEN as i32);
        self.dot_f32
            .call(&mut self.store, args)
            .expect("dot_f32 runs")
    }
}

/// Loads both Wasm kernel modules with the benchmark data (the SIMD one on the default
/// engine and on the interpreter) and checks that they and the native twins agree.
///
/// # Panics
/// If a kernel fails to load or the variants disagree.
pub fn checked_wasm_kernels(
    haystack: &[u8],
    a: &[f32],
    b: &[f32],
) -> Vec<(&'static str, WasmKernels)> {
    let expected_count = count_byte_native(haystack, NEEDLE);
    let expected_dot = dot_f32_native(a, b);
    assert_eq!(count_byte_native_lanes(haystack, NEEDLE), expected_count);
    assert_eq!(dot_f32_native_lanes(a, b), expected_dot);
    let mut variants: Vec<(&str, WasmKernels)> = [
        ("wasm_simd", SIMD_WAT, Strategy::Auto),
        ("wasm_simd_interpreter", SIMD_WAT, Strategy::Interpreter),
        ("wasm_scalar", SCALAR_WAT, Strategy::Auto),
    ]
    .into_iter()
    .map(|(name, wat, strategy)| (name, WasmKernels::new(wat, strategy, haystack, a, b)))
    .collect();
    for (name, kernels) in &mut variants {
        assert_eq!(kernels.count_byte(), expected_count, "{name} count_byte");
        assert_eq!(kernels.dot_f32(), expected_dot, "{name} dot_f32");
    }
    variants
}

/// Registers the `simd/count_byte` and `simd/dot_f32` groups, each with `wasm_simd`,
/// `wasm_simd_interpreter`, `wasm_scalar`, `native` (the scalar algorithm) and
/// `native_lanes` (the SIMD algorithm, vectorized by LLVM) variants.
///
/// # Panics
/// If a kernel fails to load or the three variants disagree.
pub fn register(c: &mut Criterion) {
    let haystack = haystack();
    let (a, b) = dot_operands();
    let mut variants = checked_wasm_kernels(&haystack, &a, &b);

    let mut group = c.benchmark_group("simd/count_byte");
    group.throughput(Throughput::Bytes(HAYSTACK_LEN as u64));
    for (name, kernels) in &mut variants {
        group.bench_function(*name, |bench| bench.iter(|| kernels.count_byte()));
    }
    group.bench_function("native", |bench| {
        bench.iter(|| count_byte_native(black_box(&haystack), black_box(NEEDLE)))
    });
    group.bench_function("native_lanes", |bench| {
        bench.iter(|| count_byte_native_lanes(black_box(&haystack), black_box(NEEDLE)))
    });
    group.finish();

    let mut group = c.benchmark_group("simd/dot_f32");
    group.throughput(Throughput::Elements(DOT_LEN as u64));
    for (name, kernels) in &mut variants {
        group.bench_function(*name, |bench| bench.iter(|| kernels.dot_f32()));
    }
    group.bench_function("native", |bench| {
        bench.iter(|| dot_f32_native(black_box(&a), black_box(&b)))
    });
    group.bench_function("native_lanes", |bench| {
        bench.iter(|| dot_f32_native_lanes(black_box(&a), black_box(&b)))
    });
    group.finish();
}
