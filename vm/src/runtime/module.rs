//! Engines and compiled modules.

use super::backend::{self, ModuleCode};
use super::registry;
use super::vmctx::VMOffsets;
use crate::decode::reader::Reader;
use crate::decode::{self, ExternKind, Features, ImportDesc, ModuleInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::interp::translate::{self, CompiledFunc};
use crate::types::ExternType;
use crate::validate;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Compilation settings shared by modules and stores. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    config: Arc<Config>,
}

/// Which engine runs a module's code.
///
/// Both engines implement the same semantics, traps and limits; they differ in start-up
/// time and speed. The environment variable `SANDLITE_STRATEGY` (`interpreter`,
/// `compiler` or `auto`), read once per process, replaces [`Strategy::Auto`] wherever it
/// is configured, so a whole test suite can run on either engine; an explicit
/// `Interpreter` or `Compiler` in a [`Config`] is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The compiler on x86-64 Linux, the interpreter elsewhere. Until the compiler
    /// handles SIMD, a module that uses `v128` runs on the interpreter.
    #[default]
    Auto,
    /// Sandlite's interpreter: portable, starts at once.
    Interpreter,
    /// Sandlite's x86-64 compiler. Refuses modules it cannot compile, with an error
    /// saying why.
    Compiler,
}

impl Strategy {
    /// What `Auto` means in this process: `SANDLITE_STRATEGY` if set, else `Auto`.
    fn from_env() -> Strategy {
        static FROM_ENV: OnceLock<Strategy> = OnceLock::new();
        *FROM_ENV.get_or_init(|| match std::env::var("SANDLITE_STRATEGY") {
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "interpreter" | "interp" => Strategy::Interpreter,
                "compiler" | "native" => Strategy::Compiler,
                "" | "auto" => Strategy::Auto,
                other => {
                    eprintln!(
                        "sandlite: ignoring SANDLITE_STRATEGY={other:?} \
                         (expected interpreter, compiler or auto)"
                    );
                    Strategy::Auto
                }
            },
            Err(_) => Strategy::Auto,
        })
    }

    /// This strategy with `Auto` replaced by the environment's choice.
    pub(crate) fn resolve(self) -> Strategy {
        match self {
            Strategy::Auto => Strategy::from_env(),
            explicit => explicit,
        }
    }
}

/// Engine configuration: which WebAssembly features beyond 2.0 modules may use, and
/// which engine runs them.
///
/// The default accepts exactly WebAssembly 2.0 and picks the engine automatically
/// ([`Strategy::Auto`]). Settings are made builder-style:
///
/// ```
/// use sandlite_vm::{Config, Engine, Strategy};
///
/// let engine = Engine::new(Config::default().multi_memory(true).strategy(Strategy::Interpreter));
/// assert!(engine.config().is_multi_memory());
/// assert_eq!(engine.config().configured_strategy(), Strategy::Interpreter);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    multi_memory: bool,
    strategy: Strategy,
    baseline_cpu: bool,
    no_avx: bool,
    omit_loop_interrupt_checks: bool,
    cache_dir: Option<PathBuf>,
    cache_size: Option<u64>,
    compile_before_returning: bool,
    background_threshold: Option<usize>,
}

/// Code bytes (function bodies) from which [`Strategy::Auto`] compiles a module in the
/// background: below it compiling takes a few milliseconds at most and is done before
/// [`Module::new`] returns. `sqlite3.wasm` has about 1.4 MB.
pub const BACKGROUND_COMPILE_THRESHOLD: usize = 256 << 10;

/// The code cache's size limit unless [`Config::cache_size`] sets one.
pub const DEFAULT_CACHE_SIZE: u64 = 512 << 20;

impl Config {
    /// Keeps compiled code in `dir` (created if missing), so that a later process
    /// compiling the same module with the same settings on the same kind of CPU loads
    /// the code instead of compiling it. Off by default.
    ///
    /// An entry is keyed by a SHA-256 hash of the module, this compiler's build, the
    /// CPU features used and every setting that changes code, and checked whole
    /// (checksum) before any of it runs; a damaged or foreign entry is recompiled and
    /// replaced. Processes may share the directory. A directory that cannot be read or
    /// written (read-only, full) means compiling as without a cache, never an error.
    /// The directory holds at most [`Config::cache_size`] bytes, least recently used
    /// entries going first. Code in it runs: give it the protection of the program's
    /// own files. Only the compiler uses it.
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Config {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Turns the code cache off (the default).
    #[must_use]
    pub fn no_cache(mut self) -> Config {
        self.cache_dir = None;
        self
    }

    /// The code cache directory, if any.
    pub fn cache_directory(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    /// Most bytes the code cache directory may hold ([`DEFAULT_CACHE_SIZE`] unless set).
    #[must_use]
    pub fn cache_size(mut self, bytes: u64) -> Config {
        self.cache_size = Some(bytes);
        self
    }

    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn cache_size_limit(&self) -> u64 {
        self.cache_size.unwrap_or(DEFAULT_CACHE_SIZE)
    }

    /// Lets [`Strategy::Auto`] start a large module (at least
    /// [`BACKGROUND_COMPILE_THRESHOLD`] bytes of code) on the interpreter and compile it
    /// on a background thread (on by default). [`Module::new`] then returns as soon as
    /// the interpreter's code is ready (for `sqlite3.wasm` ~20 ms instead of ~350 ms), and
    /// each instance moves to machine code at its first call from the host after the
    /// compiler has finished, never in the middle of a call; both engines give the same
    /// results, so only the speed changes. A module found in the code cache loads
    /// compiled. With `false`, `Module::new` compiles before it returns, as
    /// [`Strategy::Compiler`] always does.
    #[must_use]
    pub fn background_compile(mut self, enable: bool) -> Config {
        self.compile_before_returning = !enable;
        self
    }

    /// Sets the code size from which modules compile in the background (tests use 0).
    #[doc(hidden)]
    #[must_use]
    pub fn background_compile_threshold(mut self, code_bytes: usize) -> Config {
        self.background_threshold = Some(code_bytes);
        self
    }

    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn compiles_in_background(&self, code_bytes: usize) -> bool {
        !self.compile_before_returning
            && code_bytes
                >= self
                    .background_threshold
                    .unwrap_or(BACKGROUND_COMPILE_THRESHOLD)
    }

    /// Chooses the engine (see [`Strategy`]).
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Config {
        self.strategy = strategy;
        self
    }

    /// Compiles for the baseline x86-64 CPU (SSE2) even where the machine has more
    /// (SSE4.1, LZCNT, BMI1, POPCNT). For tests that compare generated code.
    #[doc(hidden)]
    #[must_use]
    pub fn baseline_cpu(mut self, baseline: bool) -> Config {
        self.baseline_cpu = baseline;
        self
    }

    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn is_baseline_cpu(&self) -> bool {
        self.baseline_cpu
    }

    /// Compiles as for a CPU without AVX (SSE4.1 at most) even where AVX exists: for
    /// tests of that path and of generated code (`SANDLITE_NO_AVX` does the same for a
    /// whole process).
    #[doc(hidden)]
    #[must_use]
    pub fn no_avx(mut self, no_avx: bool) -> Config {
        self.no_avx = no_avx;
        self
    }

    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn is_no_avx(&self) -> bool {
        self.no_avx
    }

    /// Compiles loops without their interrupt check: an interrupt then takes effect at
    /// the next call (every function with calls checks in its prologue), and a loop
    /// without calls cannot be interrupted. For measuring what the checks cost.
    #[doc(hidden)]
    #[must_use]
    pub fn omit_loop_interrupt_checks(mut self, omit: bool) -> Config {
        self.omit_loop_interrupt_checks = omit;
        self
    }

    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn loop_interrupt_checks(&self) -> bool {
        !self.omit_loop_interrupt_checks
    }

    /// The strategy as configured (`Auto` stays `Auto`; see [`Module::strategy`] for the
    /// engine a module actually runs on).
    pub fn configured_strategy(&self) -> Strategy {
        self.strategy
    }

    /// Enables multi-memory (part of WebAssembly 3.0): a module may define and import
    /// several memories, and memory instructions and data segments name the memory they
    /// use. Off by default, where a second memory makes a module invalid ("multiple
    /// memories") and the memory-index encodings are malformed, as in 2.0.
    #[must_use]
    pub fn multi_memory(mut self, enable: bool) -> Config {
        self.multi_memory = enable;
        self
    }

    /// Whether multi-memory is enabled.
    pub fn is_multi_memory(&self) -> bool {
        self.multi_memory
    }

    fn features(&self) -> Features {
        Features {
            multi_memory: self.multi_memory,
        }
    }
}

/// The user's code cache directory: `$XDG_CACHE_HOME/sandlite`, else
/// `$HOME/.cache/sandlite` (`None` if neither variable is set to an absolute path).
pub fn default_cache_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("sandlite"))
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config: Arc::new(config),
        }
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// A validated, compiled module. `Send + Sync`; instantiate it as often as needed.
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

#[derive(Debug)]
pub(crate) struct ModuleInner {
    pub info: ModuleInfo,
    /// The code, for the one engine this module runs on.
    pub code: ModuleCode,
    /// Parameter slots of each type, for `call_indirect`.
    pub type_param_slots: Box<[u32]>,
    /// Process-wide ids of the module's types (see [`registry`]).
    pub type_ids: Box<[u32]>,
    /// Layout of the module's instance contexts.
    pub offsets: VMOffsets,
}

/// An import a module needs.
#[derive(Clone, Debug)]
pub struct ImportType<'m> {
    pub module: &'m str,
    pub name: &'m str,
    pub ty: ExternType,
}

/// An export a module offers.
#[derive(Clone, Debug)]
pub struct ExportType<'m> {
    pub name: &'m str,
    pub ty: ExternType,
}

/// Code bytes per function above which translation is split across threads.
const PARALLEL_THRESHOLD: usize = 256 * 1024;

impl Module {
    /// Decodes, validates and compiles a module binary.
    ///
    /// # Errors
    /// [`ErrorKind::Malformed`] or [`ErrorKind::Invalid`] naming the byte offset.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let (info, deferred) = decode::decode(bytes, engine.config.features())?;
        let type_ids: Box<[u32]> = info.types.iter().map(registry::intern).collect();
        let offsets = VMOffsets {
            num_funcs: info.funcs.len() as u32,
            num_globals: info.global_types.len() as u32,
            num_imported_globals: info.num_imported_globals,
            num_tables: info.tables.len() as u32,
            num_memories: info.memories.len() as u32,
        };
        let compiled = backend::compile(
            &engine.config,
            engine.config.strategy.resolve(),
            &info,
            bytes,
            deferred,
            &type_ids,
            &offsets,
        );
        let code = match compiled {
            Ok(code) => code,
            Err(e) if matches!(e.kind(), ErrorKind::Invalid { .. }) => {
                // A module that is both malformed and invalid is malformed.
                return Err(first_malformed_body(&info, bytes).unwrap_or(e));
            }
            Err(e) => return Err(e),
        };
        let type_param_slots = info.types.iter().map(|t| t.param_slots()).collect();
        let inner = Arc::new(ModuleInner {
            info,
            code,
            type_param_slots,
            type_ids,
            offsets,
        });
        backend::start_background_compile(&inner, bytes, &engine.config);
        Ok(Module { inner })
    }

    /// Checks a module binary without keeping the result.
    ///
    /// # Errors
    /// As [`Module::new`].
    pub fn validate(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<()> {
        Module::new(engine, bytes).map(|_| ())
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl Iterator<Item = ImportType<'_>> {
        let info = &self.inner.info;
        info.imports.iter().map(move |i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: match i.desc {
                ImportDesc::Func(t) => ExternType::Func(info.types[t as usize].clone()),
                ImportDesc::Table(t) => ExternType::Table(t),
                ImportDesc::Memory(m) => ExternType::Memory(m),
                ImportDesc::Global(g) => ExternType::Global(g),
            },
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl Iterator<Item = ExportType<'_>> {
        let info = &self.inner.info;
        info.exports.iter().map(move |e| ExportType {
            name: &e.name,
            ty: match e.kind {
                ExternKind::Func => {
                    ExternType::Func(info.types[info.funcs[e.index as usize] as usize].clone())
                }
                ExternKind::Table => ExternType::Table(info.tables[e.index as usize]),
                ExternKind::Memory => ExternType::Memory(info.memories[e.index as usize]),
                ExternKind::Global => ExternType::Global(info.global_types[e.index as usize]),
            },
        })
    }

    /// A function's name for messages: from the `name` section, else `func[N]`.
    pub(crate) fn func_name(&self, index: u32) -> String {
        match self.inner.info.func_names.get(&index) {
            Some(n) => n.clone(),
            None => format!("func[{index}]"),
        }
    }

    /// Whether this module's machine code came from the code cache
    /// ([`Config::cache_dir`]) rather than from compiling it now.
    pub fn is_from_code_cache(&self) -> bool {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let Some(m) = self.inner.code.native() {
            return m.from_cache;
        }
        false
    }

    /// The machine code of each defined function, with its name, for tests that
    /// disassemble it (`None` on the interpreter). Not a stable interface.
    #[doc(hidden)]
    pub fn native_code(&self) -> Option<Vec<(String, Vec<u8>)>> {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let Some(m) = self.inner.code.native() {
            let first = self.inner.info.num_imported_funcs;
            return Some(
                m.func_bytes()
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| (self.func_name(first + i as u32), b.to_vec()))
                    .collect(),
            );
        }
        None
    }

    /// The engine this module's new instances start on: [`Strategy::Interpreter`] or
    /// [`Strategy::Compiler`]. A module compiling in the background
    /// ([`Config::background_compile`]) says `Interpreter` until its machine code is
    /// ready; [`Instance::strategy`](crate::Instance::strategy) tells what an instance
    /// runs on now.
    pub fn strategy(&self) -> Strategy {
        self.inner.code.strategy()
    }

    /// Whether the compiler is still making this module's machine code in the
    /// background ([`Config::background_compile`]).
    pub fn is_compiling(&self) -> bool {
        self.inner.code.is_compiling()
    }

    /// Waits until a background compile of this module (if any) has finished, and says
    /// whether the module has machine code. A program that keeps compiled code in the
    /// code cache and exits early calls this first, so that the next run finds it.
    pub fn wait_for_compiler(&self) -> bool {
        self.inner.code.wait_for_native()
    }
}

/// Validates and translates every function for the interpreter.
pub(crate) fn translate_all(info: &ModuleInfo, bytes: &[u8]) -> Result<Box<[CompiledFunc]>> {
    let cx = validate::validate_module(info)?;
    let n = info.bodies.len();
    let code_bytes: usize = info.bodies.iter().map(|b| b.code_end - b.code_start).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if code_bytes < PARALLEL_THRESHOLD || threads < 2 || n < 2 {
        return (0..n as u32)
            .map(|i| translate::translate(&cx, bytes, i))
            .collect();
    }
    // Interleave functions across threads so each gets a similar share of big ones.
    let cx = &cx;
    let parts: Vec<Vec<(u32, Result<CompiledFunc>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t as u32..n as u32)
                        .step_by(threads)
                        .map(|i| (i, translate::translate(cx, bytes, i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut slots: Vec<Option<Result<CompiledFunc>>> = (0..n).map(|_| None).collect();
    for (i, r) in parts.into_iter().flatten() {
        slots[i as usize] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::resource("a compilation thread failed"))))
        .collect()
}

/// The first malformation in any function body, decoding instructions and tracking
/// only block nesting (not types).
fn first_malformed_body(info: &ModuleInfo, bytes: &[u8]) -> Option<Error> {
    use decode::ops::Operator;
    let has_data_count = info.data_count.is_some();
    let features = info.features;
    for body in &info.bodies {
        let mut r = Reader::new(bytes, body.code_start, body.code_end);
        let mut depth: i64 = 0;
        loop {
            if r.is_empty() {
                return Some(Error::malformed(
                    r.pos(),
                    "unexpected end of section or function",
                ));
            }
            match r.operator(features, has_data_count) {
                Ok(Operator::Block(_) | Operator::Loop(_) | Operator::If(_)) => depth += 1,
                Ok(Operator::End) => {
                    depth -= 1;
                    if depth < 0 {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::Malformed { .. }) => return Some(e),
                Err(_) => {}
            }
        }
        if !r.is_empty() {
            return Some(Error::malformed(r.pos(), "section size mismatch"));
        }
    }
    None
}
