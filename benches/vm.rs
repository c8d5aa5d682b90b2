//! VM kernels: the compiler and the interpreter against native Rust on the same
//! algorithms.
//!
//! Each kernel of `benches/kernels/` (C compiled to WebAssembly by `build.sh`, and its
//! Rust twin in `kernels.rs`) gets one criterion group with three functions,
//! `compiler`, `interpreter` and `native`, on an input sized to take roughly 1–50 ms on
//! the interpreter. Before timing, the bench asserts that all produce the same result.
//!
//! `cargo bench --bench vm -- --warm-up-time 1 --measurement-time 3`; results and
//! ratios are recorded in BENCHMARKS.md.

#[path = "kernels/kernels.rs"]
mod kernels;
#[path = "kernels/simd_kernels.rs"]
mod simd_kernels;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use kernels::{Guest, native};
use sandlite::vm::{Config, Engine, Module, Strategy, WasmParams, WasmResults};
use std::fmt::Debug;
use std::hint::black_box;
use std::time::Duration;

/// Recursion depth of `fib`.
const FIB_N: u32 = 27;
/// Upper bound of the sieve.
const SIEVE_LIMIT: u32 = 1_000_000;
/// Matrix order of `matmul`.
const MATMUL_N: u32 = 100;
/// Loop rounds of `calls`.
const CALLS_N: u32 = 200_000;
/// Keys sorted by `sort_hash`.
const SORT_KEYS: u32 = 100_000;
/// Seed of the keys sorted by `sort_hash`.
const SORT_SEED: u32 = 0x5eed;

/// Times `compiled`, `interpreted` and `native` in one group named `kernel`, after
/// checking that they compute the same value.
fn compare<R: PartialEq + Debug>(
    c: &mut Criterion,
    kernel: &str,
    input: &str,
    mut compiled: impl FnMut() -> R,
    mut interpreted: impl FnMut() -> R,
    mut native: impl FnMut() -> R,
) {
    let (on_vm, in_rust) = (interpreted(), native());
    assert_eq!(
        on_vm, in_rust,
        "{kernel}({input}): the interpreter and native Rust disagree"
    );
    assert_eq!(
        compiled(),
        in_rust,
        "{kernel}({input}): the compiler and native Rust disagree"
    );
    let mut group = c.benchmark_group(kernel);
    // Interpreted iterations take milliseconds: equal-sized samples keep the run short.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function(BenchmarkId::new("compiler", input), |b| {
        b.iter(&mut compiled)
    });
    group.bench_function(BenchmarkId::new("interpreter", input), |b| {
        b.iter(&mut interpreted)
    });
    group.bench_function(BenchmarkId::new("native", input), |b| b.iter(&mut native));
    group.finish();
}

/// The kernel `export` of `wasm` on the compiler and on the interpreter.
fn guests<P: WasmParams, R: WasmResults>(wasm: &[u8], export: &str) -> (Guest<P, R>, Guest<P, R>) {
    (
        Guest::on(wasm, export, Strategy::Compiler).expect("compiles"),
        Guest::on(wasm, export, Strategy::Interpreter).expect("translates"),
    )
}

fn fib(c: &mut Criterion) {
    let (mut native_guest, mut guest) = guests::<u32, u32>(kernels::FIB_WASM, "fib");
    compare(
        c,
        "fib",
        &FIB_N.to_string(),
        || native_guest.call(black_box(FIB_N)).expect("fib runs"),
        || guest.call(black_box(FIB_N)).expect("fib runs"),
        || native::fib(black_box(FIB_N)),
    );
}

fn sieve(c: &mut Criterion) {
    let (mut native_guest, mut guest) = guests::<u32, i32>(kernels::SIEVE_WASM, "sieve");
    let mut composite = native::sieve_buffer();
    compare(
        c,
        "sieve",
        &SIEVE_LIMIT.to_string(),
        || {
            native_guest
                .call(black_box(SIEVE_LIMIT))
                .expect("sieve runs")
        },
        || guest.call(black_box(SIEVE_LIMIT)).expect("sieve runs"),
        || native::sieve(&mut composite, black_box(SIEVE_LIMIT)),
    );
}

fn matmul(c: &mut Criterion) {
    let (mut native_guest, mut guest) = guests::<u32, f64>(kernels::MATMUL_WASM, "matmul");
    let mut matrices = native::Matrices::new();
    compare(
        c,
        "matmul",
        &MATMUL_N.to_string(),
        // Compare bit patterns: every value is exact, so they must match exactly.
        || {
            native_guest
                .call(black_box(MATMUL_N))
                .expect("matmul runs")
                .to_bits()
        },
        || {
            guest
                .call(black_box(MATMUL_N))
                .expect("matmul runs")
                .to_bits()
        },
        || native::matmul(&mut matrices, black_box(MATMUL_N)).to_bits(),
    );
}

fn calls(c: &mut Criterion) {
    let (mut native_guest, mut guest) = guests::<u32, u32>(kernels::CALLS_WASM, "calls");
    compare(
        c,
        "calls",
        &CALLS_N.to_string(),
        || native_guest.call(black_box(CALLS_N)).expect("calls runs"),
        || guest.call(black_box(CALLS_N)).expect("calls runs"),
        || native::calls(black_box(CALLS_N)),
    );
}

fn sort(c: &mut Criterion) {
    let (mut native_guest, mut guest) = guests::<(u32, u32), u32>(kernels::SORT_WASM, "sort_hash");
    let mut keys = native::sort_buffer();
    compare(
        c,
        "sort",
        &SORT_KEYS.to_string(),
        || {
            native_guest
                .call((black_box(SORT_KEYS), black_box(SORT_SEED)))
                .expect("sort_hash runs")
        },
        || {
            guest
                .call((black_box(SORT_KEYS), black_box(SORT_SEED)))
                .expect("sort_hash runs")
        },
        || native::sort_hash(&mut keys, black_box(SORT_KEYS), black_box(SORT_SEED)),
    );
}

/// What the interrupt check at every loop header costs: the loop kernels compiled with
/// and without it (group `loop_checks`, functions `checked` and `unchecked`).
fn loop_checks(c: &mut Criterion) {
    let on = |wasm: &[u8], export: &str, omit: bool| {
        let config = Config::default()
            .strategy(Strategy::Compiler)
            .omit_loop_interrupt_checks(omit);
        Guest::<u32, i32>::with_config(wasm, export, config).expect("compiles")
    };
    let mut group = c.benchmark_group("loop_checks");
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for (name, wasm, export, input) in [
        ("sieve", kernels::SIEVE_WASM, "sieve", SIEVE_LIMIT),
        ("calls", kernels::CALLS_WASM, "calls", CALLS_N),
    ] {
        let (mut checked, mut unchecked) = (on(wasm, export, false), on(wasm, export, true));
        assert_eq!(
            checked.call(input).expect("runs"),
            unchecked.call(input).expect("runs"),
            "{name}: the checks changed the result"
        );
        group.bench_function(BenchmarkId::new("checked", name), |b| {
            b.iter(|| checked.call(black_box(input)).expect("runs"))
        });
        group.bench_function(BenchmarkId::new("unchecked", name), |b| {
            b.iter(|| unchecked.call(black_box(input)).expect("runs"))
        });
    }
    group.finish();
}

/// What compiling SQLite costs (group `compile`, input `sqlite3.wasm`): `Module::new`
/// on each engine (validation included; the compiler's functions are compiled on all
/// available threads), under `Auto` (ready on the interpreter, compiling in the
/// background) and from a warm code cache. Prints the module's code size and the
/// machine code it becomes.
fn compile(c: &mut Criterion) {
    let wasm = sandlite_sqlite_wasm::SQLITE_WASM;
    let engine = |strategy| Engine::new(Config::default().strategy(strategy));
    let (compiler, interpreter) = (engine(Strategy::Compiler), engine(Strategy::Interpreter));
    let module = Module::new(&compiler, wasm).expect("sqlite3.wasm compiles");
    let functions = module.native_code().expect("compiled to machine code");
    let machine_code: usize = functions.iter().map(|(_, code)| code.len()).sum();
    eprintln!(
        "compile: sqlite3.wasm is {} bytes; {} functions become {} bytes of machine code",
        wasm.len(),
        functions.len(),
        machine_code
    );
    let mut group = c.benchmark_group("compile");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function(BenchmarkId::new("compiler", "sqlite3.wasm"), |b| {
        b.iter(|| Module::new(&compiler, black_box(wasm)).expect("compiles"))
    });
    group.bench_function(BenchmarkId::new("interpreter", "sqlite3.wasm"), |b| {
        b.iter(|| Module::new(&interpreter, black_box(wasm)).expect("translates"))
    });
    // `Strategy::Auto`: ready on the interpreter while the compiler runs in the
    // background. Only `Module::new` is timed; each compile is waited for, untimed, so
    // that it does not run into the next sample.
    let auto = engine(Strategy::Auto);
    group.bench_function(BenchmarkId::new("auto-ready", "sqlite3.wasm"), |b| {
        b.iter_custom(|iters| {
            let mut ready = Duration::ZERO;
            for _ in 0..iters {
                let start = std::time::Instant::now();
                let module = Module::new(&auto, black_box(wasm)).expect("translates");
                ready += start.elapsed();
                assert!(module.is_compiling() || module.strategy() == Strategy::Compiler);
                assert!(module.wait_for_compiler(), "compiles in the background");
            }
            ready
        })
    });
    // A warm code cache: decoding, hashing the module, reading and checking the entry.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cached = Engine::new(
        Config::default()
            .strategy(Strategy::Compiler)
            .cache_dir(dir.path()),
    );
    Module::new(&cached, wasm).expect("compiles into the cache");
    assert!(
        Module::new(&cached, wasm)
            .expect("loads")
            .is_from_code_cache()
    );
    group.sample_size(50);
    group.bench_function(BenchmarkId::new("compiler-cached", "sqlite3.wasm"), |b| {
        b.iter(|| Module::new(&cached, black_box(wasm)).expect("loads"))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = vm_kernels;
    config = config();
    targets = fib, sieve, matmul, calls, sort, loop_checks, compile, simd_kernels::register
}
criterion_main!(vm_kernels);
