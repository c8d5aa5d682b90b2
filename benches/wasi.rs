//! WASI programs: the same C program (`tests/wasi/bench.c`) as a WASI command on the
//! compiler and on the interpreter, and as a native x86-64 executable built with the
//! same clang.
//!
//! Scenarios: `sieve` (compute: primes below 5,000,000), `hash` (compute: xorshift fill
//! and FNV-1a over 16 MiB), `files` (write 10 MiB to a preopened directory in 64 KiB
//! chunks, read it back, delete it) and `startup` (`sieve 10`: the fixed cost of one
//! run — instantiating the module and its WASI context, or spawning the process).
//! Each Wasm iteration (functions `compiler` and `interpreter`) is a whole run: a fresh
//! store, WASI context and instance of the already compiled module, then `_start`; each
//! native iteration spawns the executable. Before timing, the bench checks that all
//! print the same result.
//!
//! The native executable is built by this bench into `target/wasi-bench/` with
//! `clang-19 -O2` (set `CLANG` to use another); without it only the Wasm engines run.
//!
//! `cargo bench --bench wasi -- --warm-up-time 1 --measurement-time 3`; figures are
//! recorded in BENCHMARKS.md ("WASI programs").

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use sandlite::vm::wasi::{self, DirPerms, OutputBuffer, WasiCtx};
use sandlite::vm::{Config, Engine, Linker, Module, Store, Strategy};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BENCH_WASM: &[u8] = include_bytes!("../tests/wasi/bench.wasm");

/// The program on one engine: compiled once, instantiated per run.
struct Guest {
    engine: Engine,
    module: Module,
    linker: Linker<WasiCtx>,
    dir: PathBuf,
}

impl Guest {
    fn new(dir: &Path, strategy: Strategy) -> Guest {
        let engine = Engine::new(Config::default().strategy(strategy));
        let module = Module::new(&engine, BENCH_WASM).expect("bench.wasm compiles");
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |ctx| ctx).expect("WASI links");
        Guest {
            engine,
            module,
            linker,
            dir: dir.to_owned(),
        }
    }

    /// One complete run; returns what the program printed.
    fn run(&self, args: &[&str]) -> String {
        let stdout = OutputBuffer::new();
        let ctx = WasiCtx::builder()
            .arg("bench")
            .and_then(|b| b.args(args))
            .and_then(|b| b.preopened_dir(&self.dir, "/bench", DirPerms::ReadWrite))
            .expect("WASI context")
            .stdout_buffer(stdout.clone())
            .build();
        let mut store = Store::new(&self.engine, ctx);
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .expect("instantiates");
        let start = instance
            .get_typed_func::<(), ()>(&store, "_start")
            .expect("_start");
        start.call(&mut store, ()).expect("runs to the end");
        stdout.to_string_lossy()
    }
}

/// Builds `tests/wasi/bench.c` natively; `None` (with a note) if clang is missing.
fn native_executable() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out_dir = target.join("wasi-bench");
    std::fs::create_dir_all(&out_dir).ok()?;
    let exe = out_dir.join("bench-native");
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang-19".to_owned());
    let status = Command::new(&clang)
        .args(["-O2", "-std=c17", "-o"])
        .arg(&exe)
        .arg(root.join("tests/wasi/bench.c"))
        .status();
    match status {
        Ok(s) if s.success() => Some(exe),
        other => {
            eprintln!("note: cannot build the native twin with {clang} ({other:?}); Wasm only");
            None
        }
    }
}

fn run_native(exe: &Path, args: &[String]) -> String {
    let out = Command::new(exe).args(args).output().expect("native run");
    assert!(out.status.success(), "native bench failed: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn scenarios(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let compiled = Guest::new(dir.path(), Strategy::Compiler);
    let interpreted = Guest::new(dir.path(), Strategy::Interpreter);
    let native = native_executable();
    let host_file = dir.path().join("native.bin").display().to_string();
    // (group, input label, guest args, native args)
    let cases: [(&str, &str, Vec<&str>, Vec<String>); 4] = [
        (
            "wasi_startup",
            "sieve_10",
            vec!["sieve", "10"],
            vec!["sieve".into(), "10".into()],
        ),
        (
            "wasi_sieve",
            "5000000",
            vec!["sieve", "5000000"],
            vec!["sieve".into(), "5000000".into()],
        ),
        (
            "wasi_hash",
            "16MiB",
            vec!["hash", "16"],
            vec!["hash".into(), "16".into()],
        ),
        (
            "wasi_files",
            "10MiB",
            vec!["files", "/bench/guest.bin", "10"],
            vec!["files".into(), host_file, "10".into()],
        ),
    ];
    for (group_name, input, guest_args, native_args) in cases {
        let printed = interpreted.run(&guest_args);
        assert_eq!(
            printed,
            compiled.run(&guest_args),
            "{group_name}: the interpreter and the compiler disagree"
        );
        if let Some(exe) = &native {
            assert_eq!(
                printed,
                run_native(exe, &native_args),
                "{group_name}: the interpreter and the native build disagree"
            );
        }
        let mut group = c.benchmark_group(group_name);
        group.sampling_mode(SamplingMode::Flat).sample_size(20);
        group.bench_function(BenchmarkId::new("compiler", input), |b| {
            b.iter(|| compiled.run(&guest_args))
        });
        group.bench_function(BenchmarkId::new("interpreter", input), |b| {
            b.iter(|| interpreted.run(&guest_args))
        });
        if let Some(exe) = &native {
            group.bench_function(BenchmarkId::new("native", input), |b| {
                b.iter(|| run_native(exe, &native_args))
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = wasi_programs;
    config = config();
    targets = scenarios
}
criterion_main!(wasi_programs);
