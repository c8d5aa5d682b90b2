//! The x86-64 optimizing compiler.
//!
//! Per function, on all cores ([`compile_module`]):
//!
//! ```text
//! validated body ─ frontend ─▶ SSA IR (ir) ─ passes ─▶ optimized IR ─ layout
//!     ─ x64::lower ─▶ VCode (virtual registers) ─ regalloc ─▶ allocated VCode
//!     ─ x64::emit (x64::asm) ─▶ machine code + relocations + trap sites
//! ```
//!
//! then per module: entry trampolines and host adapters for every function type
//! (`x64::trampolines`), linking into one image, and executable memory (`code`). At run
//! time, `entry` calls into the code and back out to the runtime, `signals` turns
//! faults into traps, and `libcalls` implements the operations compiled code leaves to
//! the runtime. See docs/compiler.md for the design.

use crate::decode::ModuleInfo;
use crate::error::Error;
use crate::runtime::vmctx::VMOffsets;
use crate::validate;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use x64::emit::{FuncCode, RelocTarget};
use x64::inst::TrapKind;

mod cache;
pub(crate) mod code;
pub(crate) mod entry;
pub(crate) mod frontend;
pub(crate) mod ir;
mod libcalls;
pub(crate) mod passes;
pub(crate) mod regalloc;
pub(crate) mod signals;
pub(crate) mod x64;

/// Debugging switches of the compiler, read from the environment once per process:
///
/// - `SANDLITE_TRACE_FRONTEND`: print every operator as SSA construction sees it (and
///   compile on one thread, so the trace reads in order);
/// - `SANDLITE_NO_PHI`, `SANDLITE_NO_MERGE`, `SANDLITE_NO_GVN`: skip a pass (to bisect
///   a miscompilation);
/// - `SANDLITE_REGALLOC_FEW`: allocate from a handful of registers (a stress mode for
///   spilling and splitting); `SANDLITE_REGALLOC_DEBUG`: print the allocator's input;
/// - `SANDLITE_PERF_MAP`: write `/tmp/perf-<pid>.map` so `perf report` names compiled
///   functions;
/// - `SANDLITE_COMPILE_STATS`: print, per compiled module, the time each stage took
///   (summed over threads) and the slowest function;
/// - `SANDLITE_NO_AVX`: compile as for a CPU without AVX (SSE4.1 at most), to test
///   that path on a machine that has AVX (the same as `Config::no_avx`).
pub(crate) struct DebugFlags {
    pub trace_frontend: bool,
    pub no_phi: bool,
    pub no_merge: bool,
    pub no_gvn: bool,
    pub regalloc_few: bool,
    pub regalloc_debug: bool,
    pub perf_map: bool,
    pub stats: bool,
    pub no_avx: bool,
}

/// The process's [`DebugFlags`].
pub(crate) fn debug_flags() -> &'static DebugFlags {
    static FLAGS: std::sync::OnceLock<DebugFlags> = std::sync::OnceLock::new();
    FLAGS.get_or_init(|| {
        let on = |name: &str| std::env::var_os(name).is_some();
        DebugFlags {
            trace_frontend: on("SANDLITE_TRACE_FRONTEND"),
            no_phi: on("SANDLITE_NO_PHI"),
            no_merge: on("SANDLITE_NO_MERGE"),
            no_gvn: on("SANDLITE_NO_GVN"),
            regalloc_few: on("SANDLITE_REGALLOC_FEW"),
            regalloc_debug: on("SANDLITE_REGALLOC_DEBUG"),
            perf_map: on("SANDLITE_PERF_MAP"),
            stats: on("SANDLITE_COMPILE_STATS"),
            no_avx: on("SANDLITE_NO_AVX"),
        }
    })
}

/// Why a module was not compiled.
#[derive(Debug)]
pub(crate) enum CompileError {
    /// The module is malformed or invalid.
    Wasm(Error),
    /// The module is valid but uses something the compiler does not handle yet.
    Unsupported(String),
}

/// The CPU features the generated code may use (detected at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CpuFeatures {
    pub sse41: bool,
    pub lzcnt: bool,
    pub bmi1: bool,
    pub popcnt: bool,
    /// VEX encodings: three-operand forms of the SSE instructions (`x64::emit` folds a
    /// copy and a two-operand instruction into one). Implies `sse41` here.
    pub avx: bool,
    /// `vpbroadcastb`/`w` for 8- and 16-bit splats. Implies `avx`.
    pub avx2: bool,
}

impl CpuFeatures {
    /// What every x86-64 CPU has (SSE2).
    pub(crate) const BASELINE: CpuFeatures = CpuFeatures {
        sse41: false,
        lzcnt: false,
        bmi1: false,
        popcnt: false,
        avx: false,
        avx2: false,
    };

    /// This machine's features (`is_x86_feature_detected!` also checks that the kernel
    /// saves the AVX state), without AVX if `no_avx`.
    pub(crate) fn detect(no_avx: bool) -> CpuFeatures {
        let sse41 = std::arch::is_x86_feature_detected!("sse4.1");
        let avx = sse41 && !no_avx && std::arch::is_x86_feature_detected!("avx");
        CpuFeatures {
            sse41,
            lzcnt: std::arch::is_x86_feature_detected!("lzcnt"),
            bmi1: std::arch::is_x86_feature_detected!("bmi1"),
            popcnt: std::arch::is_x86_feature_detected!("popcnt"),
            avx,
            avx2: avx && std::arch::is_x86_feature_detected!("avx2"),
        }
    }
}

/// What compiling one function needs to know about its module.
pub(crate) struct Env<'a> {
    pub info: &'a ModuleInfo,
    pub offsets: &'a VMOffsets,
    pub cpu: CpuFeatures,
    /// Memory 0 has a guard region (accesses need no bounds checks).
    pub memory0_guarded: bool,
    /// Loop headers test the interrupt flag (see `Config::omit_loop_interrupt_checks`).
    pub loop_interrupt_checks: bool,
}

const REG_INFO: regalloc::RegInfo = regalloc::RegInfo {
    int_regs: &x64::inst::ALLOCATABLE_GPRS,
    float_regs: &x64::inst::ALLOCATABLE_XMMS,
    callee_saved: &x64::inst::CALLEE_SAVED,
    int_scratch: x64::inst::Reg(11),
    float_scratch: x64::inst::Reg(31),
};

/// Where everything lies in a module's code image (see [`link`]); what the code cache
/// stores beside the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Start of each defined function, ascending.
    funcs: Box<[u32]>,
    /// Entry trampoline of each type index (`u32::MAX` if the type cannot be called).
    entries: Box<[u32]>,
    /// Trap sites, by offset.
    traps: Box<[(u32, TrapKind)]>,
    /// Code before this offset is stubs (trampolines, adapters).
    stubs_end: u32,
    trap_return: u32,
    /// 32-bit fields to fill with the process-wide id of a type index: (offset, index).
    type_id_fields: Box<[(u32, u32)]>,
}

/// A module's machine code, ready to run.
pub(crate) struct NativeModule {
    pub(crate) code: code::CodeMemory,
    layout: Layout,
    /// The code accesses memory 0 without bounds checks (it must have guard pages).
    pub(crate) memory0_guarded: bool,
    /// The code was loaded from the code cache rather than compiled.
    pub(crate) from_cache: bool,
}

impl NativeModule {
    /// Fills in the type ids of this process and makes `image` executable.
    fn new(
        mut image: memmap2::MmapMut,
        layout: Layout,
        type_ids: &[u32],
        memory0_guarded: bool,
    ) -> Result<NativeModule, CompileError> {
        for &(at, index) in &layout.type_id_fields {
            let id = type_ids[index as usize];
            image[at as usize..at as usize + 4].copy_from_slice(&id.to_le_bytes());
        }
        let code = code::CodeMemory::new(image)
            .map_err(|e| CompileError::Wasm(Error::resource(format!("cannot map code: {e}"))))?;
        Ok(NativeModule {
            code,
            layout,
            memory0_guarded,
            from_cache: false,
        })
    }

    /// Code before this offset is stubs (trampolines, adapters).
    pub(crate) fn stubs_end(&self) -> u32 {
        self.layout.stubs_end
    }

    pub(crate) fn code_size(&self) -> usize {
        self.code.len()
    }

    pub(crate) fn func_entry(&self, def: u32) -> *const u8 {
        // SAFETY: function offsets lie inside the mapped code.
        unsafe {
            self.code
                .base()
                .add(self.layout.funcs[def as usize] as usize)
        }
    }

    pub(crate) fn entry_trampoline(
        &self,
        type_index: u32,
    ) -> unsafe extern "C" fn(
        *mut crate::runtime::vmctx::VMContext,
        *const u8,
        *mut u64,
        *mut signals::EntryRecord,
    ) -> u32 {
        let off = self.layout.entries[type_index as usize];
        assert_ne!(off, u32::MAX, "no entry trampoline for this type");
        // SAFETY: the offset is the start of an entry trampoline this module generated
        // with exactly this signature (System V: vmctx, code, slots, record -> status).
        unsafe { std::mem::transmute(self.code.base().add(off as usize)) }
    }

    pub(crate) fn trap_return(&self) -> usize {
        self.code.base() as usize + self.layout.trap_return as usize
    }

    /// The trap reported by the instruction at `offset`, if it is a trap site.
    pub(crate) fn trap_at(&self, offset: u32) -> Option<TrapKind> {
        let i = self
            .layout
            .traps
            .binary_search_by_key(&offset, |t| t.0)
            .ok()?;
        Some(self.layout.traps[i].1)
    }

    /// Each defined function's machine code (for disassembly in tests).
    pub(crate) fn func_bytes(&self) -> Vec<&[u8]> {
        // SAFETY: the mapping is readable; `len` bounds every function.
        let all = unsafe { std::slice::from_raw_parts(self.code.base(), self.code.len()) };
        (0..self.layout.funcs.len())
            .map(|i| {
                let start = self.layout.funcs[i] as usize;
                let end = self
                    .layout
                    .funcs
                    .get(i + 1)
                    .map_or(all.len(), |&e| e as usize);
                &all[start..end]
            })
            .collect()
    }

    /// The defined function containing `pc`.
    pub(crate) fn func_at(&self, pc: usize) -> Option<u32> {
        let off = pc.checked_sub(self.code.base() as usize)? as u32;
        if off < self.layout.stubs_end {
            return None;
        }
        let i = self.layout.funcs.partition_point(|&s| s <= off);
        i.checked_sub(1).map(|i| i as u32)
    }
}

impl std::fmt::Debug for NativeModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeModule({} bytes)", self.code.len())
    }
}

/// The library-call table for instance contexts.
pub(crate) fn libcalls() -> *const usize {
    libcalls::table()
}

/// Time spent in each stage of [`compile_function`] (`SANDLITE_COMPILE_STATS`).
#[derive(Default, Clone)]
struct StageTimes {
    /// frontend, passes, layout + lowering, register allocation, emission.
    stages: [std::time::Duration; 5],
    /// The slowest function: its time, defined-function index and stage times.
    slowest: (std::time::Duration, u32, [std::time::Duration; 5]),
}

impl StageTimes {
    const NAMES: [&'static str; 5] = ["frontend", "passes", "lower", "regalloc", "emit"];

    fn add(&mut self, other: &StageTimes) {
        for (a, b) in self.stages.iter_mut().zip(&other.stages) {
            *a += *b;
        }
        self.slowest = self.slowest.max(other.slowest);
    }
}

/// Compiles one defined function.
fn compile_function(
    cx: &validate::Context<'_>,
    bytes: &[u8],
    def: u32,
    env: &Env<'_>,
    mut times: Option<&mut StageTimes>,
) -> Result<FuncCode, CompileError> {
    let start = times.as_ref().map(|_| std::time::Instant::now());
    let before = times.as_ref().map(|t| t.stages);
    let mut last = start;
    let mut lap = |stage: usize, times: &mut Option<&mut StageTimes>| {
        if let (Some(t), Some(l)) = (times.as_deref_mut(), last.as_mut()) {
            let now = std::time::Instant::now();
            t.stages[stage] += now - *l;
            *l = now;
        }
    };
    let mut f = frontend::translate(cx, bytes, def)?;
    if !env.cpu.sse41 && f.values.iter().any(|v| v.ty == ir::Type::V128) {
        // The vector sequences use SSSE3's pshufb and SSE4.1 throughout.
        return Err(CompileError::Unsupported(
            "vector instructions need SSE4.1".into(),
        ));
    }
    lap(0, &mut times);
    passes::optimize(&mut f);
    lap(1, &mut times);
    let order = passes::layout(&f);
    let mut lowered = x64::lower::lower(&f, &order, env);
    drop(f);
    lap(2, &mut times);
    let alloc = if debug_flags().regalloc_few {
        // A stress mode for tests: few registers, so spilling and splitting run often.
        const FEW: regalloc::RegInfo = regalloc::RegInfo {
            int_regs: &[0, 1, 2, 6, 7, 3],
            // xmm0 and two registers no argument pins: a call with eight SSE
            // arguments must leave one register for loading them.
            float_regs: &[16, 24, 25],
            callee_saved: &x64::inst::CALLEE_SAVED,
            int_scratch: x64::inst::Reg(11),
            float_scratch: x64::inst::Reg(31),
        };
        regalloc::allocate(&mut lowered.vcode, &FEW)
    } else {
        regalloc::allocate(&mut lowered.vcode, &REG_INFO)
    };
    lap(3, &mut times);
    let code = x64::emit::emit(&lowered, &alloc);
    lap(4, &mut times);
    if let (Some(t), Some(start), Some(before)) = (times, start, before) {
        let mut own = t.stages;
        for (o, b) in own.iter_mut().zip(before) {
            *o -= b;
        }
        t.slowest = t.slowest.max((start.elapsed(), def, own));
    }
    Ok(code)
}

/// Stack size of compiler threads: SSA construction recurses on deep control flow.
const COMPILE_STACK: usize = 64 << 20;

/// The module-wide settings code is compiled for, from `config` and this machine.
fn module_env<'a>(info: &'a ModuleInfo, offsets: &'a VMOffsets, config: &crate::Config) -> Env<'a> {
    Env {
        info,
        offsets,
        cpu: if config.is_baseline_cpu() {
            CpuFeatures::BASELINE
        } else {
            CpuFeatures::detect(config.is_no_avx() || debug_flags().no_avx)
        },
        // Under an address-space limit memories are bounds-checked: check every access.
        memory0_guarded: crate::runtime::memory::MemoryEntity::guard_pages_available(),
        loop_interrupt_checks: config.loop_interrupt_checks(),
    }
}

/// The code cache entry for this module and settings, if `config` has a cache.
fn module_cache(config: &crate::Config, bytes: &[u8], env: &Env<'_>) -> Option<cache::CodeCache> {
    config.cache_directory().map(|dir| {
        let inputs = cache::KeyInputs {
            module: bytes,
            cpu: env.cpu,
            memory0_guarded: env.memory0_guarded,
            loop_interrupt_checks: env.loop_interrupt_checks,
            multi_memory: config.is_multi_memory(),
        };
        cache::CodeCache::new(dir, config.cache_size_limit(), &inputs)
    })
}

/// The module's machine code from the code cache, if `config` has one that holds it.
pub(crate) fn load_cached(
    info: &ModuleInfo,
    bytes: &[u8],
    type_ids: &[u32],
    offsets: &VMOffsets,
    config: &crate::Config,
) -> Option<NativeModule> {
    let env = module_env(info, offsets, config);
    let cache = module_cache(config, bytes, &env)?;
    let n = info.bodies.len();
    // Only valid modules are stored, under their bytes' hash: a hit needs no checks.
    let start = std::time::Instant::now();
    let hit = cache.load(n, info.types.len())?;
    let mut m = NativeModule::new(hit.image, hit.layout, type_ids, env.memory0_guarded).ok()?;
    m.from_cache = true;
    if debug_flags().stats {
        eprintln!(
            "sandlite compile: {n} functions loaded from the code cache in {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    if debug_flags().perf_map {
        write_perf_map(info, &m);
    }
    Some(m)
}

/// Compiles every function of a validated-to-be module (or loads it from the code
/// cache). Workers stop early, with `Unsupported`, once `stop` returns true.
pub(crate) fn compile_module(
    info: &ModuleInfo,
    bytes: &[u8],
    type_ids: &[u32],
    offsets: &VMOffsets,
    config: &crate::Config,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<NativeModule, CompileError> {
    if let Some(m) = load_cached(info, bytes, type_ids, offsets, config) {
        return Ok(m);
    }
    let env = module_env(info, offsets, config);
    let cache = module_cache(config, bytes, &env);
    let n = info.bodies.len();
    let stats = debug_flags().stats;
    let cx = validate::validate_module(info)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(n.max(1));
    let threads = if debug_flags().trace_frontend {
        1
    } else {
        threads
    };
    // Largest bodies first, handed out one at a time: the few huge functions
    // (`sqlite3VdbeExec`) start at once instead of ending the compile alone.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(info.bodies[i].code_end - info.bodies[i].code_start));
    let next = AtomicUsize::new(0);
    let unsupported = AtomicBool::new(false);
    let wall = std::time::Instant::now();
    let (cx, env, order, next, unsupported) = (&cx, &env, &order, &next, &unsupported);
    type Part = (Vec<(usize, Result<FuncCode, CompileError>)>, StageTimes);
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .name("sandlite-compile".into())
                    .stack_size(COMPILE_STACK)
                    .spawn_scoped(s, move || {
                        let mut times = StageTimes::default();
                        let mut done = Vec::new();
                        // After an unsupported function the module goes to the
                        // interpreter (which validates everything itself): stop.
                        while !unsupported.load(Ordering::Relaxed) && !stop() {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            let Some(&i) = order.get(k) else { break };
                            let t = stats.then_some(&mut times);
                            let r = compile_function(cx, bytes, i as u32, env, t);
                            if matches!(r, Err(CompileError::Unsupported(_))) {
                                unsupported.store(true, Ordering::Relaxed);
                            }
                            done.push((i, r));
                        }
                        (done, times)
                    })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h.join().unwrap_or_default(),
                Err(_) => Default::default(),
            })
            .collect()
    });
    let wall = wall.elapsed();
    if stop() {
        return Err(CompileError::Unsupported(
            "compilation was abandoned".into(),
        ));
    }
    let mut funcs: Vec<Option<FuncCode>> = (0..n).map(|_| None).collect();
    let mut first_error: Option<(usize, CompileError)> = None;
    let mut times = StageTimes::default();
    for (_, t) in &parts {
        times.add(t);
    }
    if stats {
        let stages: Vec<String> = StageTimes::NAMES
            .iter()
            .zip(&times.stages)
            .map(|(name, d)| format!("{name} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect();
        eprintln!(
            "sandlite compile: {n} functions on {threads} threads in {:.1} ms; {}; slowest: function {} in {:.1} ms ({:.1?})",
            wall.as_secs_f64() * 1e3,
            stages.join(", "),
            times.slowest.1,
            times.slowest.0.as_secs_f64() * 1e3,
            times.slowest.2,
        );
    }
    for (i, r) in parts.into_iter().flat_map(|(done, _)| done) {
        match r {
            Ok(code) => funcs[i] = Some(code),
            Err(e) => {
                if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                    first_error = Some((i, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let funcs: Vec<FuncCode> = funcs
        .into_iter()
        .map(|f| f.ok_or_else(|| CompileError::Wasm(Error::resource("a compiler thread failed"))))
        .collect::<Result<_, _>>()?;
    let (image, layout) = link(info, funcs);
    if let Some(cache) = &cache {
        cache.store(&image, &layout);
    }
    let mut map = memmap2::MmapMut::map_anon(image.len().max(1))
        .map_err(|e| CompileError::Wasm(Error::resource(format!("cannot map code: {e}"))))?;
    map[..image.len()].copy_from_slice(&image);
    drop(image);
    let m = NativeModule::new(map, layout, type_ids, env.memory0_guarded)?;
    if debug_flags().perf_map {
        write_perf_map(info, &m);
    }
    Ok(m)
}

/// Appends the module's functions to `/tmp/perf-<pid>.map`, where `perf report` finds
/// names for JIT code (set `SANDLITE_PERF_MAP=1`; a profiling aid).
fn write_perf_map(info: &ModuleInfo, m: &NativeModule) {
    use std::io::Write;
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let base = m.code.base() as usize;
    let mut out = String::new();
    for (i, &start) in m.layout.funcs.iter().enumerate() {
        let end = m
            .layout
            .funcs
            .get(i + 1)
            .map_or(m.code.len() as u32, |&e| e);
        let index = info.num_imported_funcs + i as u32;
        let name = info
            .func_names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("wasm-func[{index}]"));
        out.push_str(&format!(
            "{:x} {:x} {name}\n",
            base + start as usize,
            end - start
        ));
    }
    out.push_str(&format!("{base:x} {:x} wasm-stubs\n", m.layout.stubs_end));
    let _ = file.write_all(out.as_bytes());
}

/// Lays out stubs and functions in one image and resolves calls between them. The
/// image is position-independent; only its type-id fields are left to fill.
fn link(info: &ModuleInfo, funcs: Vec<FuncCode>) -> (Vec<u8>, Layout) {
    use x64::asm::Asm;
    use x64::trampolines;
    let mut a = Asm::new();
    let mut traps: Vec<(u32, TrapKind)> = Vec::new();
    let mut entries = Vec::with_capacity(info.types.len());
    let mut adapters = Vec::with_capacity(info.types.len());
    for ty in &info.types {
        let params: Option<Vec<ir::Type>> = ty
            .params()
            .iter()
            .map(|t| frontend::ir_type(*t).ok())
            .collect();
        let results: Option<Vec<ir::Type>> = ty
            .results()
            .iter()
            .map(|t| frontend::ir_type(*t).ok())
            .collect();
        match (params, results) {
            (Some(p), Some(r)) => {
                align(&mut a, 16);
                entries.push(a.pos());
                trampolines::entry(&mut a, &p, &r);
                align(&mut a, 16);
                adapters.push(a.pos());
                let ud2 = trampolines::adapter(&mut a, &p, &r);
                traps.push((ud2, TrapKind::Pending));
            }
            _ => {
                entries.push(u32::MAX);
                adapters.push(u32::MAX);
            }
        }
    }
    align(&mut a, 16);
    let trap_return = a.pos();
    trampolines::trap_return(&mut a);
    align(&mut a, 16);
    let stack_check = a.pos();
    let ud2 = trampolines::stack_check(&mut a, ir::Libcall::StackCheck as u32);
    traps.push((ud2, TrapKind::Pending));
    a.finish();
    let stubs_end = a.pos();
    let mut image = a.buf;
    let mut starts = Vec::with_capacity(funcs.len());
    for f in &funcs {
        while !image.len().is_multiple_of(16) {
            image.push(0xcc);
        }
        let start = image.len() as u32;
        starts.push(start);
        image.extend_from_slice(&f.code);
        traps.extend(f.traps.iter().map(|&(off, k)| (start + off, k)));
    }
    let mut type_id_fields = Vec::new();
    for (f, &start) in funcs.iter().zip(&starts) {
        for r in &f.relocs {
            let at = start + r.at;
            let target = match r.target {
                RelocTarget::Func(def) => starts[def as usize],
                RelocTarget::Adapter(t) => adapters[t as usize],
                RelocTarget::StackCheck => stack_check,
                RelocTarget::TypeId(t) => {
                    type_id_fields.push((at, t));
                    continue;
                }
            };
            let rel = target as i64 - (at as i64 + 4);
            image[at as usize..at as usize + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
    }
    traps.sort_unstable_by_key(|t| t.0);
    traps.dedup_by_key(|t| t.0);
    let layout = Layout {
        funcs: starts.into_boxed_slice(),
        entries: entries.into_boxed_slice(),
        traps: traps.into_boxed_slice(),
        stubs_end,
        trap_return,
        type_id_fields: type_id_fields.into_boxed_slice(),
    };
    (image, layout)
}

fn align(a: &mut x64::asm::Asm, n: u32) {
    while !a.pos().is_multiple_of(n) {
        a.int3();
    }
}
