//! The one seam between the runtime and its engines.
//!
//! A [`Module`](super::module::Module) holds its code for exactly one engine
//! ([`ModuleCode`]): register ops for the interpreter (`crate::interp`) or machine code
//! from the compiler (`crate::compile`). Everything else — stores, instances, memories,
//! tables, globals, host functions, traps, limits, interrupts — is the runtime's and is
//! the same for both. The runtime reaches the engines only through this file:
//!
//! - [`compile`] turns a decoded module into [`ModuleCode`] for the chosen strategy;
//! - [`call_with_slots`] and [`invoke`] call any store function (host, interpreted or
//!   native) with its arguments and results in value-stack slots, which is also how the
//!   engines call each other's functions and how either calls the host;
//! - [`call_host`] runs a host function.

use super::func::{Caller, FuncEntity, HostFn};
use super::module::{Strategy, translate_all};
use super::store::{Store, StoreInner};
use super::vmctx::VMOffsets;
use crate::decode::ModuleInfo;
use crate::error::{Error, Result, Trap, TrapCode};
use crate::interp;
use crate::interp::translate::CompiledFunc;
use std::sync::Arc;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use std::sync::OnceLock;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use crate::compile;

/// A module's code: for one engine, or for the interpreter until the compiler, running
/// on a background thread, has made machine code for it ([`ModuleCode::Tiered`]).
pub(crate) enum ModuleCode {
    Interpreted(Box<[CompiledFunc]>),
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Native(compile::NativeModule),
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Tiered(Tiered),
}

/// Both codes of a module compiled in the background: the interpreter's, ready at once,
/// and the compiler's, set once by the compiling thread (`None` if it could not compile
/// the module, which then stays on the interpreter).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) struct Tiered {
    interpreted: Box<[CompiledFunc]>,
    native: OnceLock<Option<compile::NativeModule>>,
    /// The stores with instances of the module waiting for `native`: told (through
    /// their interrupt flag) once it is set, so that their running interpreter moves
    /// them onto it at its next call. Emptied then.
    waiting: std::sync::Mutex<Vec<std::sync::Weak<super::vmctx::VMInterrupts>>>,
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
impl Tiered {
    fn waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, Vec<std::sync::Weak<super::vmctx::VMInterrupts>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the compile's outcome, then tells the waiting stores.
    fn finish(&self, native: Option<compile::NativeModule>) {
        let _ = self.native.set(native);
        for store in self.waiting().drain(..) {
            if let Some(interrupts) = store.upgrade() {
                interrupts.request_tier_up();
            }
        }
    }
}

impl std::fmt::Debug for ModuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleCode::Interpreted(code) => write!(f, "Interpreted({} functions)", code.len()),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(m) => write!(f, "Native({} bytes)", m.code_size()),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Tiered(t) => match t.native.get() {
                None => write!(f, "Tiered(compiling)"),
                Some(None) => write!(f, "Tiered(interpreted: the compiler failed)"),
                Some(Some(m)) => write!(f, "Tiered({} bytes)", m.code_size()),
            },
        }
    }
}

impl ModuleCode {
    /// The engine new instances start on: `Interpreter` or `Compiler`.
    pub(crate) fn strategy(&self) -> Strategy {
        if HAS_COMPILER && self.has_native() {
            Strategy::Compiler
        } else {
            Strategy::Interpreter
        }
    }

    /// The interpreter's code, if this module has it.
    pub(crate) fn interpreted(&self) -> Option<&[CompiledFunc]> {
        match self {
            ModuleCode::Interpreted(code) => Some(code),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(_) => None,
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Tiered(t) => Some(&t.interpreted),
        }
    }

    /// Whether machine code exists (now) for this module.
    fn has_native(&self) -> bool {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        return self.native().is_some();
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        return false;
    }

    /// The machine code, if there is some yet.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    pub(crate) fn native(&self) -> Option<&compile::NativeModule> {
        match self {
            ModuleCode::Interpreted(_) => None,
            ModuleCode::Native(m) => Some(m),
            ModuleCode::Tiered(t) => t.native.get().and_then(Option::as_ref),
        }
    }

    /// Whether the compiler is still working on this module in the background.
    pub(crate) fn is_compiling(&self) -> bool {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let ModuleCode::Tiered(t) = self {
            return t.native.get().is_none();
        }
        false
    }

    /// Blocks until a background compile (if any) has finished; then whether the module
    /// has machine code.
    pub(crate) fn wait_for_native(&self) -> bool {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let ModuleCode::Tiered(t) = self {
            t.native.wait();
        }
        self.has_native()
    }
}

/// Whether this build has a native compiler for the machine it runs on.
pub(crate) const HAS_COMPILER: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

/// Produces a module's code. `strategy` has `Auto` resolved from the environment (it may
/// still be `Auto`: the compiler where there is one, with the interpreter for what it
/// cannot compile yet).
pub(crate) fn compile(
    config: &super::module::Config,
    strategy: Strategy,
    info: &ModuleInfo,
    bytes: &[u8],
    deferred: Option<Error>,
    type_ids: &[u32],
    offsets: &VMOffsets,
) -> Result<ModuleCode> {
    if let Some(e) = deferred {
        return Err(e);
    }
    let native = match strategy {
        Strategy::Interpreter => false,
        Strategy::Auto => HAS_COMPILER,
        Strategy::Compiler => {
            if !HAS_COMPILER {
                // Still report a malformed or invalid module as such.
                translate_all(info, bytes)?;
                return Err(Error::unsupported(
                    "the compiler targets x86-64 Linux; use Strategy::Interpreter on this machine",
                ));
            }
            true
        }
    };
    if native {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            let code_bytes: usize = info.bodies.iter().map(|b| b.code_end - b.code_start).sum();
            if strategy == Strategy::Auto && config.compiles_in_background(code_bytes) {
                if let Some(m) = compile::load_cached(info, bytes, type_ids, offsets, config) {
                    return Ok(ModuleCode::Native(m));
                }
                // Validated and ready now; `start_background_compile` makes the rest.
                return Ok(ModuleCode::Tiered(Tiered {
                    interpreted: translate_all(info, bytes)?,
                    native: OnceLock::new(),
                    waiting: std::sync::Mutex::new(Vec::new()),
                }));
            }
            match compile::compile_module(info, bytes, type_ids, offsets, config, &|| false) {
                Ok(m) => return Ok(ModuleCode::Native(m)),
                Err(compile::CompileError::Wasm(e)) => return Err(e),
                Err(compile::CompileError::Unsupported(why)) => {
                    // Invalid beats unsupported: the interpreter's translation validates all.
                    let code = translate_all(info, bytes)?;
                    if strategy == Strategy::Compiler {
                        return Err(Error::unsupported(format!(
                            "the compiler cannot compile this module: {why}; \
                             use Strategy::Interpreter or Strategy::Auto"
                        )));
                    }
                    return Ok(ModuleCode::Interpreted(code));
                }
            }
        }
    }
    let _ = (type_ids, offsets, config);
    Ok(ModuleCode::Interpreted(translate_all(info, bytes)?))
}

/// Whether background compiles wait before starting (see [`hold_background_compiles`]).
static HOLD: (std::sync::Mutex<bool>, std::sync::Condvar) =
    (std::sync::Mutex::new(false), std::sync::Condvar::new());

/// Makes background compiles (of this whole process) wait before they start, until
/// called again with `false`: tests use it to see a module's instances on the
/// interpreter first, whatever the machine's speed. Not for production use.
#[doc(hidden)]
pub fn hold_background_compiles(hold: bool) {
    let mut held = HOLD.0.lock().unwrap_or_else(|e| e.into_inner());
    *held = hold;
    HOLD.1.notify_all();
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn wait_while_held() {
    let mut held = HOLD.0.lock().unwrap_or_else(|e| e.into_inner());
    while *held {
        held = HOLD.1.wait(held).unwrap_or_else(|e| e.into_inner());
    }
}

/// Compiles a [`ModuleCode::Tiered`] module's machine code on a new thread (a no-op for
/// other modules). The thread keeps the module alive while it works, and gives up as
/// soon as it is the module's only holder (every `Module` and instance dropped).
pub(crate) fn start_background_compile(
    module: &Arc<super::module::ModuleInner>,
    bytes: &[u8],
    config: &super::module::Config,
) {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let ModuleCode::Tiered(_) = module.code {
        let (bytes, config) = (bytes.to_vec(), config.clone());
        let held = Arc::clone(module);
        let spawned = std::thread::Builder::new()
            .name("sandlite-tier-up".into())
            .spawn(move || {
                wait_while_held();
                let inner = &*held;
                let abandoned = || Arc::strong_count(&held) == 1;
                let native = compile::compile_module(
                    &inner.info,
                    &bytes,
                    &inner.type_ids,
                    &inner.offsets,
                    &config,
                    &abandoned,
                )
                .ok();
                if let ModuleCode::Tiered(t) = &inner.code {
                    t.finish(native);
                }
            });
        if spawned.is_err()
            && let ModuleCode::Tiered(t) = &module.code
        {
            // No thread to compile on: the module stays on the interpreter.
            t.finish(None);
        }
    }
    let _ = (module, bytes, config);
}

/// The compiler's library-function table, for instance contexts (null without one).
pub(crate) fn libcalls() -> *const usize {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    return compile::libcalls();
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    return std::ptr::null();
}

/// A function's engine entry found ahead of calls (see [`resolve_entry`]): a native
/// function's code and context, so a typed call from the host skips the lookups.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ResolvedEntry {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    native: Option<compile::entry::NativeTarget>,
}

/// Resolves store function `func`'s entry, for calls on this same store only.
pub(crate) fn resolve_entry(store: &StoreInner, func: u32) -> ResolvedEntry {
    let _ = (store, func);
    ResolvedEntry {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        native: compile::entry::resolve(store, func),
    }
}

/// Calls store function `func` with `n_slots` argument/result slots filled by `write`
/// and read back by `read` (both also see the store, to convert references). `entry`
/// was resolved for `func` in this store, or is the default (resolved here).
pub(crate) fn call_with_slots<T>(
    store: &mut Store<T>,
    func: u32,
    n_slots: usize,
    entry: ResolvedEntry,
    write: impl FnOnce(&mut [u64], &StoreInner),
    read: impl FnOnce(&[u64], &StoreInner),
) -> Result<()> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if !store.inner.tiering.is_empty() {
        tier_up(&mut store.inner);
    }
    let base = store.inner.stack_top;
    let stack = store.inner.stack()?;
    if base + n_slots > stack.len() {
        return Err(Trap::new(TrapCode::StackOverflow).into());
    }
    let ptr = stack.ptr();
    // SAFETY: `base + n_slots` is within the value stack allocation (checked above), and
    // no other reference to these slots exists: they are above every active frame.
    write(
        unsafe { std::slice::from_raw_parts_mut(ptr.add(base), n_slots) },
        &store.inner,
    );
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    let called = match &entry.native {
        Some(target) => compile::entry::call_target(store, target, base, n_slots),
        None => invoke(store, func, base, n_slots, None),
    };
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    let called = {
        let _ = entry;
        invoke(store, func, base, n_slots, None)
    };
    called.map_err(Error::from)?;
    // SAFETY: as above; the call has returned, so nothing else uses the slots.
    read(
        unsafe { std::slice::from_raw_parts(ptr.add(base), n_slots) },
        &store.inner,
    );
    Ok(())
}

/// Calls store function `func` with its arguments at value-stack slot `base`, where its
/// results are left; `n_slots` (at least the function's `max(param, result)` slots) are
/// in use from `base`. `caller` is the calling instance, if Wasm called.
///
/// The caller must have allocated the value stack and checked `base + n_slots` fits.
pub(crate) fn invoke<T>(
    store: &mut Store<T>,
    func: u32,
    base: usize,
    n_slots: usize,
    caller: Option<u32>,
) -> Result<(), Trap> {
    match store.inner.funcs[func as usize] {
        FuncEntity::Host { host, slots, .. } => {
            let n = slots as usize;
            debug_assert!(n <= n_slots);
            let ptr = store
                .inner
                .stack
                .as_ref()
                .expect("allocated by the caller")
                .ptr();
            // SAFETY: the caller checked `base + n_slots` fits in the stack, and the slots
            // are free.
            let slots = unsafe { std::slice::from_raw_parts_mut(ptr.add(base), n) };
            call_host(store, host, caller, base + n, slots)
        }
        FuncEntity::Wasm { instance, def, .. } => {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            if store.inner.instances[instance as usize].runs_native {
                return compile::entry::call(store, func, base, n_slots);
            }
            let _ = n_slots;
            interp::exec::run(store, instance, def, base)
        }
    }
}

/// Runs host function `host` on `slots`; nested calls use the value stack from `new_top`.
pub(crate) fn call_host<T>(
    store: &mut Store<T>,
    host: u32,
    instance: Option<u32>,
    new_top: usize,
    slots: &mut [u64],
) -> Result<(), Trap> {
    let f: *const HostFn<T> = Arc::as_ptr(&store.host_funcs[host as usize]);
    let saved_top = store.inner.stack_top;
    store.inner.stack_top = new_top;
    // SAFETY: `f` points into an `Arc` that `store.host_funcs` keeps for the store's
    // whole life (the list only grows), and the store outlives this call: a host
    // function reaches it only through `Caller`, which never hands out a
    // `&mut Store<T>` that could replace it (see `StoreContextMut`). The function lives
    // in the `Arc`'s own allocation, apart from the store the call borrows mutably.
    let result = unsafe { (*f)(Caller { store, instance }, slots) };
    store.inner.stack_top = saved_top;
    result
}

/// Whether instance `instance` of `store` runs on the interpreter.
pub(crate) fn is_interpreted(store: &StoreInner, instance: u32) -> bool {
    !store.instances[instance as usize].runs_native
}

/// Chooses the engine of the store's newest instance, `instance`, from its module's
/// code: machine code if there is some (and memory 0 suits it), else the interpreter,
/// noting the instance for [`tier_up`] while its module compiles in the background.
pub(crate) fn attach_engine(store: &mut StoreInner, instance: u32) {
    let _ = (&store, instance);
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let module = store.instances[instance as usize].module.clone();
        if let ModuleCode::Tiered(t) = &module.inner.code {
            let mut waiting = t.waiting();
            // Under the lock: a compile that finishes after this check tells this store.
            if t.native.get().is_none() {
                waiting.retain(|w| w.strong_count() > 0);
                if !waiting
                    .iter()
                    .any(|w| std::ptr::eq(w.as_ptr(), &*store.interrupts))
                {
                    waiting.push(Arc::downgrade(&store.interrupts));
                }
                store.tiering.push(instance);
                return;
            }
        }
        if let Some(native) = module.inner.code.native() {
            switch_to_native(store, instance, native);
        }
    }
}

/// Moves every instance whose module's background compile has finished onto its
/// machine code now, with Wasm frames active: called by the interpreter when the
/// store's flag says a compile finished. The interpreter finishes its frames, and its
/// next calls take the machine code.
pub(crate) fn tier_up_now(store: &mut StoreInner) {
    let _ = &store;
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    switch_finished(store);
}

/// Moves every instance whose module's background compile has finished onto its
/// machine code, on entry from the host when no Wasm frame is active; the interpreter
/// does it too, at its next call or loop, when told ([`tier_up_now`]). Either engine
/// may run any function at any time (they share memories, tables, globals and the
/// instance context): what changes is which code the instance's calls enter.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn tier_up(store: &mut StoreInner) {
    if store.stack_top != 0 || !store.vmstore.entry.is_null() {
        return;
    }
    switch_finished(store);
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn switch_finished(store: &mut StoreInner) {
    let mut k = 0;
    while k < store.tiering.len() {
        let instance = store.tiering[k];
        let module = store.instances[instance as usize].module.clone();
        if module.inner.code.is_compiling() {
            k += 1;
            continue;
        }
        store.tiering.swap_remove(k);
        if let Some(native) = module.inner.code.native() {
            switch_to_native(store, instance, native);
        }
    }
}

/// Points `instance`'s functions at `native`, its module's machine code, unless the
/// code needs guard pages that memory 0 lacks (then the instance stays interpreted).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn switch_to_native(store: &mut StoreInner, instance: u32, native: &compile::NativeModule) {
    let inst = &store.instances[instance as usize];
    if native.memory0_guarded
        && let Some(&mem) = inst.memories.first()
        && !store.memories[mem as usize].is_guarded()
    {
        return;
    }
    let p: *const compile::NativeModule = native;
    if !store.native_modules.contains(&p) {
        store.native_modules.push(p);
    }
    let first_defined = inst.module.inner.info.num_imported_funcs as usize;
    for (def, &index) in inst.funcs[first_defined..].iter().enumerate() {
        let code = native.func_entry(def as u32);
        store.funcrefs.set_code(index, code, inst.vmctx.as_ptr());
    }
    store.instances[instance as usize].runs_native = true;
}
