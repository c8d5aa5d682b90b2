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
use crate::compile;

/// A module's code, for the one engine it runs on.
pub(crate) enum ModuleCode {
    Interpreted(Box<[CompiledFunc]>),
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Native(compile::NativeModule),
}

impl std::fmt::Debug for ModuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleCode::Interpreted(code) => write!(f, "Interpreted({} functions)", code.len()),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(m) => write!(f, "Native({} bytes)", m.code_size()),
        }
    }
}

impl ModuleCode {
    /// The engine: `Interpreter` or `Compiler`.
    pub(crate) fn strategy(&self) -> Strategy {
        match self {
            ModuleCode::Interpreted(_) => Strategy::Interpreter,
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(_) => Strategy::Compiler,
        }
    }

    /// The interpreter's code, if this module runs on the interpreter.
    pub(crate) fn interpreted(&self) -> Option<&[CompiledFunc]> {
        match self {
            ModuleCode::Interpreted(code) => Some(code),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(_) => None,
        }
    }

    /// The native entry of defined function `def`, or null on the interpreter.
    pub(crate) fn native_entry(&self, def: u32) -> *const u8 {
        let _ = def; // only native code has entries
        match self {
            ModuleCode::Interpreted(_) => std::ptr::null(),
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            ModuleCode::Native(m) => m.func_entry(def),
        }
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
        match compile::compile_module(info, bytes, type_ids, offsets, config) {
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
    let _ = (type_ids, offsets, config);
    Ok(ModuleCode::Interpreted(translate_all(info, bytes)?))
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
            match store.inner.instances[instance as usize].module.inner.code {
                ModuleCode::Interpreted(_) => interp::exec::run(store, instance, def, base),
                #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                ModuleCode::Native(_) => compile::entry::call(store, func, base, n_slots),
            }
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
    store.instances[instance as usize]
        .module
        .inner
        .code
        .interpreted()
        .is_some()
}
