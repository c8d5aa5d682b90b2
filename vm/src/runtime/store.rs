//! The store: everything instances own at run time, and the limits on it.

use super::func::{Caller, FuncEntity, HostFn};
use super::instance::InstanceData;
use super::memory::MemoryEntity;
use super::table::TableEntity;
use super::vmctx::{CellArena, FuncRefArena, VMInterrupts, VMStoreContext};
use crate::error::{Error, Result};
use crate::interp::exec::Frame;
use crate::runtime::module::Engine;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a store, so handles from one store are refused by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoreId(u64);

impl StoreId {
    fn next() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Resource limits of one store (one database connection, for Sandlite).
#[derive(Clone, Debug)]
pub struct StoreLimits {
    /// Largest size any linear memory may grow to, in bytes. `memory.grow` beyond it
    /// fails (returns -1) as if the memory's own maximum were reached.
    pub max_memory_bytes: u64,
    /// Largest number of elements a table may grow to.
    pub max_table_elements: u32,
    /// Deepest Wasm call nesting before a `call stack exhausted` trap.
    ///
    /// The interpreter counts frames. Compiled code runs on the native stack and checks
    /// a byte limit instead: 128 bytes per call of this depth (compiled frames are
    /// usually smaller, so at least this many calls nest), never more than the thread's
    /// stack allows.
    pub max_call_depth: usize,
    /// Size of the value stack (locals and operands of all active frames) in 64-bit slots.
    /// Compiled code, which keeps frames on the native stack, gets 8 bytes of it per slot.
    pub value_stack_slots: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_memory_bytes: 1 << 32,
            max_table_elements: 10_000_000,
            max_call_depth: 20_000,
            value_stack_slots: 1 << 20,
        }
    }
}

/// Stops a running call from another thread: the call traps with
/// [`TrapCode::Interrupted`](crate::TrapCode::Interrupted) at its next loop iteration or
/// function call.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    interrupts: Arc<VMInterrupts>,
}

impl InterruptHandle {
    /// Requests the interrupt. If no call is running, the next one traps at its first
    /// check; [`Store::clear_interrupt`] withdraws the request.
    pub fn interrupt(&self) {
        self.interrupts.interrupt();
    }
}

/// The value stack: raw slots only ever accessed through pointers while a call runs.
pub(crate) struct ValueStack {
    ptr: NonNull<u64>,
    len: usize,
}

impl ValueStack {
    fn new(len: usize) -> Result<ValueStack> {
        let len = len.max(16);
        let layout = std::alloc::Layout::array::<u64>(len)
            .map_err(|_| Error::resource("value stack too large"))?;
        // SAFETY: the layout has non-zero size (len >= 16).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr.cast::<u64>())
            .ok_or_else(|| Error::resource("cannot allocate the value stack"))?;
        Ok(ValueStack { ptr, len })
    }

    pub(crate) fn ptr(&self) -> *mut u64 {
        self.ptr.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for ValueStack {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::array::<u64>(self.len).expect("valid at allocation");
        // SAFETY: allocated in `new` with this same layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
    }
}

/// The part of a store that does not depend on the host's data type. (Public only so
/// the sealed value-conversion traits can name it; not reachable from outside the crate.)
#[doc(hidden)]
pub struct StoreInner {
    pub(crate) id: StoreId,
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    pub(crate) instances: Vec<InstanceData>,
    pub(crate) memories: Vec<MemoryEntity>,
    pub(crate) tables: Vec<TableEntity>,
    pub(crate) globals: Vec<super::global::GlobalEntity>,
    /// Values of globals the host created (instances keep theirs in their contexts).
    pub(crate) global_cells: CellArena,
    /// The `funcref` of every function in `funcs`, by index.
    pub(crate) funcrefs: FuncRefArena,
    pub(crate) limits: StoreLimits,
    pub(crate) interrupts: Arc<VMInterrupts>,
    /// Where native code finds this store again.
    pub(crate) vmstore: Box<VMStoreContext>,
    pub(crate) stack: Option<ValueStack>,
    /// Frames of every active Wasm call, outermost first.
    pub(crate) frames: Vec<Frame>,
    /// First free value-stack slot: where a new (possibly nested) call starts.
    pub(crate) stack_top: usize,
    /// Nested host-to-Wasm calls currently active.
    pub(crate) host_depth: usize,
    /// The compiled modules instantiated in this store (where the signal handler looks
    /// up trap sites).
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    pub(crate) native_modules: Vec<*const crate::compile::NativeModule>,
    /// Instances still interpreted while the compiler works on their module in the
    /// background; they switch at the next call from the host (`backend::tier_up`).
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    pub(crate) tiering: Vec<u32>,
}

// SAFETY: the raw pointers a store holds (the value stack allocation and, inside frames,
// positions in code and in that stack) are owned by the store or by modules it keeps
// alive, and are only dereferenced by a call running with `&mut Store`, i.e. on the one
// thread that currently owns the store.
unsafe impl Send for StoreInner {}

/// Owns instances and everything they allocate: functions, memories, tables, globals.
/// A `Store` is used by one thread at a time; many stores run in parallel.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host_funcs: Vec<Arc<HostFn<T>>>,
    data: T,
}

impl<T> Store<T> {
    /// A new empty store holding `data`, which host functions reach through [`Caller`].
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner {
                id: StoreId::next(),
                engine: engine.clone(),
                funcs: Vec::new(),
                instances: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                global_cells: CellArena::default(),
                funcrefs: FuncRefArena::default(),
                limits: StoreLimits::default(),
                interrupts: Arc::new(VMInterrupts::new()),
                vmstore: Box::new(VMStoreContext::new()),
                stack: None,
                frames: Vec::new(),
                stack_top: 0,
                host_depth: 0,
                #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                native_modules: Vec::new(),
                #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                tiering: Vec::new(),
            },
            host_funcs: Vec::new(),
            data,
        }
    }

    pub fn data(&self) -> &T {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    pub fn into_data(self) -> T {
        self.data
    }

    /// The runtime part and the host data, borrowed separately.
    pub(crate) fn split_mut(&mut self) -> (&mut StoreInner, &mut T) {
        (&mut self.inner, &mut self.data)
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Sets the limits. The value stack size takes effect before the first call.
    pub fn set_limits(&mut self, limits: StoreLimits) {
        if self.inner.frames.is_empty()
            && limits.value_stack_slots != self.inner.limits.value_stack_slots
        {
            self.inner.stack = None;
        }
        self.inner.limits = limits;
    }

    pub fn limits(&self) -> &StoreLimits {
        &self.inner.limits
    }

    /// A handle that interrupts calls running in this store.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            interrupts: self.inner.interrupts.clone(),
        }
    }

    /// Withdraws a pending interrupt request.
    pub fn clear_interrupt(&self) {
        self.inner.interrupts.take();
    }

    pub(crate) fn id(&self) -> StoreId {
        self.inner.id
    }

    /// Refuses a function reference from another store.
    pub(crate) fn check_val(&self, v: &super::value::Val) -> Result<()> {
        match v {
            super::value::Val::FuncRef(Some(f)) => self.check_id(f.store),
            _ => Ok(()),
        }
    }

    pub(crate) fn check_id(&self, id: StoreId) -> Result<()> {
        if id != self.inner.id {
            return Err(Error::usage(
                "object used with a store that does not own it",
            ));
        }
        Ok(())
    }
}

impl Drop for StoreInner {
    fn drop(&mut self) {
        // Interrupt handles may outlive the store: they must stop writing into the
        // instance contexts freed now.
        self.interrupts.forget_contexts();
    }
}

impl StoreInner {
    /// Adds a function and its reference; returns its store index.
    pub(crate) fn push_func(
        &mut self,
        entity: FuncEntity,
        code: *const u8,
        vmctx: *mut super::vmctx::VMContext,
    ) -> u32 {
        let index = self.funcs.len() as u32;
        self.funcrefs.push(super::vmctx::VMFuncRef {
            code,
            vmctx,
            type_id: entity.type_id(),
            index,
        });
        self.funcs.push(entity);
        index
    }

    /// The value stack, allocated on first use.
    pub(crate) fn stack(&mut self) -> Result<&ValueStack> {
        if self.stack.is_none() {
            self.stack = Some(ValueStack::new(self.limits.value_stack_slots)?);
        }
        Ok(self.stack.as_ref().expect("just allocated"))
    }
}

/// Access to a store: implemented by [`Store`] and by [`Caller`] (inside host functions).
pub trait AsContext {
    type Data;
    fn as_context(&self) -> &Store<Self::Data>;
}

/// Mutable access to a store.
pub trait AsContextMut: AsContext {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

/// A store borrowed for changing: what [`AsContextMut`] hands out.
///
/// It reads like a `&Store<T>` (through `Deref`) and changes the host data, but never
/// lends out a `&mut Store<T>`: inside a host function the store is running Wasm frames,
/// and a `&mut Store<T>` would let the host swap it for another store or replace it
/// (dropping the memories and code those frames use). Wasm-level changes go through the
/// API types (`Memory`, `Table`, `Global`, `Func`, `Instance`), which take
/// `impl AsContextMut`.
///
/// ```
/// use sandlite_vm::{AsContextMut, Caller, Engine, Func, Store};
/// let mut store = Store::new(&Engine::default(), 0u32);
/// Func::wrap(&mut store, |mut caller: Caller<'_, u32>| {
///     let mut cx = caller.as_context_mut();
///     *cx.data_mut() += 1; // the host data changes,
///     let _limits = cx.limits(); // the store reads,
///     Ok(())
/// });
/// ```
///
/// but the store itself cannot be taken out of a running call:
///
/// ```compile_fail
/// use sandlite_vm::{AsContextMut, Caller, Engine, Func, Store};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// Func::wrap(&mut store, move |mut caller: Caller<'_, ()>| {
///     let running: &mut Store<()> = &mut caller.as_context_mut();
///     drop(std::mem::replace(running, Store::new(&engine, ())));
///     Ok(())
/// });
/// ```
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut Store<T>);

impl<T> StoreContextMut<'_, T> {
    pub fn data_mut(&mut self) -> &mut T {
        self.0.data_mut()
    }

    /// Sets the limits; see [`Store::set_limits`].
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.0.set_limits(limits)
    }
}

impl<T> std::ops::Deref for StoreContextMut<'_, T> {
    type Target = Store<T>;
    fn deref(&self) -> &Store<T> {
        self.0
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> &Store<T> {
        self.0
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> &Store<T> {
        self
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self)
    }
}

impl<S: AsContext + ?Sized> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> &Store<S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContext + ?Sized> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> &Store<S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        (**self).as_context_mut()
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> &Store<T> {
        self.store
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}
