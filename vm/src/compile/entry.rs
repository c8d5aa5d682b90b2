//! Calls between the runtime and native code, in both directions.
//!
//! [`call`] runs a native function for the runtime: it publishes the store where native
//! code can find it, pushes an [`EntryRecord`], sets the stack limit, and jumps through
//! the module's entry trampoline for the function's type. [`call_func`] is the way back:
//! native code calls it (through a host adapter) for functions without native code —
//! host functions and functions of interpreted modules.
//!
//! This module holds the `unsafe` of crossing into machine code.

use super::signals::{self, EntryRecord};
use super::x64::inst::TrapKind;
use crate::error::{Trap, TrapCode};
use crate::runtime::backend;
use crate::runtime::func::FuncEntity;
use crate::runtime::store::{Store, StoreInner};
use crate::runtime::vmctx::{VMContext, VMFuncRef, VMOffsets, VMStoreContext};

/// How many host→Wasm calls may nest (shared with the interpreter's limit).
const MAX_NESTED_CALLS: usize = 100;

/// Stack left below the deepest Wasm frame for host functions and the runtime.
const STACK_MARGIN: usize = 256 * 1024;

thread_local! {
    /// The lowest usable address of this thread's stack, once known.
    static STACK_LOW: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The lowest address of the current thread's stack (0 if unknown).
fn stack_low() -> usize {
    STACK_LOW.with(|low| {
        if low.get() == 0 {
            low.set(query_stack_low());
        }
        low.get()
    })
}

fn query_stack_low() -> usize {
    // SAFETY: `attr` is initialized by pthread_getattr_np before use and destroyed after;
    // the out-parameters are valid for writes.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 { 0 } else { addr as usize }
    }
}

/// An address near the current stack pointer.
#[inline(never)]
fn approximate_sp() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

/// How far the published stack limit may be from the one an entry computes and still
/// be kept: entries from about the same host depth (a driver's calls into SQLite) then
/// need not republish it, which takes a lock and writes every instance context.
const LIMIT_SLACK: usize = 16 * 1024;

/// Native stack bytes a unit of `max_call_depth` buys compiled code.
const BYTES_PER_CALL: usize = 128;

/// The stack limit for native code entered now from the host, within the store's
/// limits (see `StoreLimits::max_call_depth`). `published` is the limit in force: it is
/// kept when it is within [`LIMIT_SLACK`] of the computed one and the budget is large
/// enough for that slack not to matter (at most a quarter of it).
fn stack_limit(limits: &crate::runtime::store::StoreLimits, published: usize) -> usize {
    let sp = approximate_sp();
    let budget = limits
        .max_call_depth
        .saturating_mul(BYTES_PER_CALL)
        .min(limits.value_stack_slots.saturating_mul(8));
    let floor = match stack_low() {
        0 => sp.saturating_sub(1 << 20),
        low => (low + STACK_MARGIN).min(sp.saturating_sub(64 * 1024)),
    };
    let limit = sp.saturating_sub(budget).max(floor);
    let keep = published != 0
        && budget >= 4 * LIMIT_SLACK
        && published.abs_diff(limit) <= LIMIT_SLACK
        && published >= floor;
    if keep { published } else { limit }
}

/// The entry trampoline of a function type: `(vmctx, code, slots, record) -> status`.
type EntryTrampoline =
    unsafe extern "C" fn(*mut VMContext, *const u8, *mut u64, *mut EntryRecord) -> u32;

/// What entering a native function from the host needs, found once (a `TypedFunc`
/// keeps it) so each call skips the lookups through the store, instance and module.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NativeTarget {
    vmctx: *mut VMContext,
    code: *const u8,
    trampoline: EntryTrampoline,
    trap_return: usize,
}

// SAFETY: the addresses are only used by `call_target` with the store they were resolved
// in (callers check the store's id), whose instances and modules never go away while
// it lives; they are plain data otherwise.
unsafe impl Send for NativeTarget {}
// SAFETY: as above; nothing is written through them outside a call on that store.
unsafe impl Sync for NativeTarget {}

/// The native target of store function `func`, if it is a defined function of a
/// compiled module.
pub(crate) fn resolve(store: &StoreInner, func: u32) -> Option<NativeTarget> {
    let FuncEntity::Wasm { instance, def, .. } = store.funcs[func as usize] else {
        return None;
    };
    // The instance's module (and so its machine code) lives as long as the store.
    let inst = &store.instances[instance as usize];
    let info = &inst.module.inner.info;
    if !inst.runs_native {
        return None;
    }
    let native = inst.module.inner.code.native()?;
    let type_index = info.funcs[(info.num_imported_funcs + def) as usize];
    Some(NativeTarget {
        vmctx: inst.vmctx.as_ptr(),
        code: native.func_entry(def),
        trampoline: native.entry_trampoline(type_index),
        trap_return: native.trap_return(),
    })
}

/// Runs native function `func` (a defined function of an instance whose module is
/// compiled) with its arguments in the value stack at `base` (`n_slots` slots in use).
pub(crate) fn call<T>(
    store: &mut Store<T>,
    func: u32,
    base: usize,
    n_slots: usize,
) -> Result<(), Trap> {
    let target = resolve(&store.inner, func).expect("the backend sends only native functions");
    call_target(store, &target, base, n_slots)
}

/// [`call`] with the target resolved already, by [`resolve`] on this store.
pub(crate) fn call_target<T>(
    store: &mut Store<T>,
    target: &NativeTarget,
    base: usize,
    n_slots: usize,
) -> Result<(), Trap> {
    if store.inner.host_depth >= MAX_NESTED_CALLS {
        return Err(Trap::new(TrapCode::StackOverflow));
    }
    if let Err(e) = signals::init() {
        return Err(Trap::host(e.to_string()));
    }
    let NativeTarget {
        vmctx,
        code,
        trampoline,
        trap_return,
    } = *target;
    let slots = store
        .inner
        .stack
        .as_ref()
        .expect("allocated by the caller")
        .ptr();
    // SAFETY: the caller checked `base + n_slots` fits in the value stack.
    let slots = unsafe { slots.add(base) };

    let outermost = store.inner.vmstore.entry.is_null();
    let saved = (
        store.inner.vmstore.store,
        store.inner.vmstore.inner,
        store.inner.vmstore.stack_limit,
    );
    if outermost {
        let limit = stack_limit(&store.inner.limits, store.inner.interrupts.stack_limit());
        store.inner.vmstore.stack_limit = limit;
        store.inner.interrupts.set_stack_limit(limit);
    }
    store.inner.vmstore.call_func = call_func::<T>;
    let mut record = EntryRecord {
        saved_rsp: 0,
        resume_pc: trap_return,
        trap: None,
        modules: &store.inner.native_modules,
        prev: std::ptr::null(),
    };
    store.inner.host_depth += 1;
    let saved_top = store.inner.stack_top;
    store.inner.stack_top = base + n_slots;
    let prev_entry = store.inner.vmstore.entry;
    store.inner.vmstore.entry = (&raw mut record).cast();
    store.inner.vmstore.inner = (&raw mut store.inner).cast();
    let store_ptr: *mut Store<T> = store;
    // SAFETY: `store_ptr` came from the `&mut` we hold and nothing else uses that borrow
    // until the call returns; native code reaches the store only through it (via
    // `call_func`), on this thread.
    unsafe { (*store_ptr).inner.vmstore.store = store_ptr.cast() };
    record.prev = signals::push_entry(&record);
    // SAFETY: the target was resolved in this store (`resolve`; callers check the
    // store's id): the trampoline and code belong to an instance's module and `vmctx` is
    // that instance's context, all kept alive by the store (instances are never
    // removed); `slots` holds the arguments and has room for the results; the record
    // lives across the call and is the current entry, so a trap resumes in the
    // trampoline's trap return.
    let status = unsafe { trampoline(vmctx, code, slots, &mut record) };
    signals::pop_entry(record.prev);
    // SAFETY: the call is over; the `&mut` borrow is ours again.
    let store = unsafe { &mut *store_ptr };
    store.inner.vmstore.entry = prev_entry;
    store.inner.vmstore.store = saved.0;
    store.inner.vmstore.inner = saved.1;
    store.inner.vmstore.stack_limit = saved.2;
    store.inner.stack_top = saved_top;
    store.inner.host_depth -= 1;
    if status == 0 {
        return Ok(());
    }
    if let Some(p) = store.inner.vmstore.panic.take() {
        std::panic::resume_unwind(p);
    }
    let (kind, pc) = record.trap.unwrap_or((TrapKind::Pending, 0));
    let trap = match kind {
        TrapKind::Wasm(code) => {
            if code == TrapCode::Interrupted {
                store.inner.interrupts.take();
            }
            Trap::new(code)
        }
        TrapKind::Pending => store
            .inner
            .vmstore
            .trap
            .take()
            .unwrap_or_else(|| Trap::host_message("native code trapped without a reason")),
    };
    Err(name_trap(store, trap, pc))
}

/// Adds the function a trap happened in, found from its PC.
fn name_trap<T>(store: &Store<T>, trap: Trap, pc: usize) -> Trap {
    if pc == 0 {
        return trap;
    }
    for inst in &store.inner.instances {
        if let Some(m) = inst.module.inner.code.native()
            && m.code.contains(pc)
        {
            if let Some(def) = m.func_at(pc) {
                let index = inst.module.inner.info.num_imported_funcs + def;
                return trap.with_function(|| inst.module.func_name(index));
            }
            return trap;
        }
    }
    trap
}

/// Called by native code (through a host adapter) to run store function `funcref`
/// with its arguments in `slots`, leaving the results there. Returns 0, or 1 with the
/// trap (or a caught panic) stored in the store context.
///
/// # Safety
/// `vmstore` must be the running store's context with `store` set by [`call`] for a
/// `Store<T>`; `funcref` a reference of that store; `slots` valid for the function's
/// `max(params, results)` slots; `caller` the calling instance's context.
pub(crate) unsafe extern "C" fn call_func<T>(
    vmstore: *mut VMStoreContext,
    funcref: *const VMFuncRef,
    slots: *mut u64,
    caller: *mut VMContext,
) -> u32 {
    // SAFETY: per the contract, `store` is the live store of this native call, used by
    // nothing else while native code runs; the slots are valid for the function's area.
    unsafe {
        let store = &mut *(*vmstore).store.cast::<Store<T>>();
        let func = (*funcref).index;
        let instance = *caller
            .cast::<u8>()
            .add(VMOffsets::INSTANCE as usize)
            .cast::<u32>();
        let n = store.inner.funcs[func as usize].slots() as usize;
        let slots = std::slice::from_raw_parts_mut(slots, n);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call_store_func(store, func, slots, instance)
        }));
        match result {
            Ok(Ok(())) => 0,
            Ok(Err(trap)) => {
                store.inner.vmstore.trap = Some(trap);
                1
            }
            Err(panic) => {
                store.inner.vmstore.panic = Some(panic);
                1
            }
        }
    }
}

/// Calls a host or interpreted function from native code.
fn call_store_func<T>(
    store: &mut Store<T>,
    func: u32,
    slots: &mut [u64],
    caller: u32,
) -> Result<(), Trap> {
    if let FuncEntity::Host { host, .. } = store.inner.funcs[func as usize] {
        let top = store.inner.stack_top;
        return backend::call_host(store, host, Some(caller), top, slots);
    }
    // An interpreted (or other) Wasm function takes its arguments on the value stack.
    let base = store.inner.stack_top;
    let n = slots.len();
    let stack = store
        .inner
        .stack()
        .map_err(|_| Trap::new(TrapCode::StackOverflow))?;
    if base + n > stack.len() {
        return Err(Trap::new(TrapCode::StackOverflow));
    }
    let ptr = stack.ptr();
    // SAFETY: `base + n` fits in the value stack (checked), and slots above `stack_top`
    // are free.
    unsafe { std::ptr::copy_nonoverlapping(slots.as_ptr(), ptr.add(base), n) };
    backend::invoke(store, func, base, n, Some(caller))?;
    // SAFETY: as above; the callee left its results there.
    unsafe { std::ptr::copy_nonoverlapping(ptr.add(base), slots.as_mut_ptr(), n) };
    Ok(())
}

/// The runtime's part of a function's stack check (library call `StackCheck`): the
/// limit was crossed because of an interrupt, a real overflow, or a withdrawn
/// interrupt. Returns 0 to continue, 1 with the trap stored.
///
/// # Safety
/// `vmctx` must be the context of an instance running natively.
pub(crate) unsafe extern "C" fn stack_check(vmctx: *mut VMContext) -> u32 {
    // SAFETY: the header fields of a live context point at the store's context and
    // interrupts, which outlive the call.
    unsafe {
        let base = vmctx.cast::<u8>();
        let vmstore = &mut **base
            .add(VMOffsets::STORE as usize)
            .cast::<*mut VMStoreContext>();
        let interrupts = &*(*base
            .add(VMOffsets::INTERRUPTS as usize)
            .cast::<*const crate::runtime::vmctx::VMInterrupts>());
        let real = vmstore.stack_limit;
        if interrupts.take() {
            vmstore.trap = Some(Trap::new(TrapCode::Interrupted));
            return 1;
        }
        if approximate_sp() < real {
            vmstore.trap = Some(Trap::new(TrapCode::StackOverflow));
            return 1;
        }
        // An interrupt that was withdrawn left the limit raised: restore it.
        interrupts.set_stack_limit(real);
        0
    }
}

/// The store's runtime part during a native call, for library calls.
///
/// # Safety
/// `vmctx` must be the context of an instance running natively.
pub(crate) unsafe fn store_inner<'a>(vmctx: *mut VMContext) -> &'a mut StoreInner {
    // SAFETY: during a native call the store context's `inner` points at the running
    // store's runtime part, used by nothing else while the library call runs.
    unsafe {
        let base = vmctx.cast::<u8>();
        let vmstore = &**base
            .add(VMOffsets::STORE as usize)
            .cast::<*mut VMStoreContext>();
        &mut *vmstore.inner.cast::<StoreInner>()
    }
}

/// The instance index a context belongs to.
///
/// # Safety
/// `vmctx` must be a live instance context.
pub(crate) unsafe fn instance_of(vmctx: *mut VMContext) -> u32 {
    // SAFETY: the header of a live context holds its instance index.
    unsafe {
        *vmctx
            .cast::<u8>()
            .add(VMOffsets::INSTANCE as usize)
            .cast::<u32>()
    }
}
