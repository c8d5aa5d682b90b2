//! The run-time data both engines share, laid out for machine code.
//!
//! Compiled code reaches everything an instance owns through one pointer, its
//! [`VMContext`], held in a pinned register; the interpreter reads the same structures.
//! Every structure here lives at a stable address for as long as its store lives (boxed,
//! never moved), so code may keep raw pointers into it:
//!
//! - [`VMFuncRef`]: what a `funcref` points to. A reference's raw value (in tables,
//!   globals, locals, slots) is the address of its `VMFuncRef`, or 0 for null.
//! - [`VMMemory`] and [`VMTable`]: base and current length of a memory or table, kept up
//!   to date by `grow`.
//! - [`VMInterrupts`]: the stack limit and interrupt flag, shared with
//!   [`InterruptHandle`](crate::InterruptHandle).
//! - [`VMStoreContext`]: per store; where a native call finds the store again.
//! - the instance's [`VMContext`]: a block of words whose layout [`VMOffsets`] computes
//!   from the module's counts (the compiler bakes those offsets into code).
//!
//! This module holds the `unsafe` that reads and writes through those pointers.

use crate::error::Trap;
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// What a non-null `funcref` points to: enough to call the function from any engine.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMFuncRef {
    /// Entry of the function's native code (the compiler's calling convention), or null
    /// when the function is a host function or runs on the interpreter.
    pub code: *const u8,
    /// The context of the instance that defines the function (null for host functions).
    pub vmctx: *mut VMContext,
    /// The function's type, interned process-wide (see [`super::registry`]).
    pub type_id: u32,
    /// The function's index in its store.
    pub index: u32,
}

#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)] // compiler only
impl VMFuncRef {
    pub(crate) const CODE: u32 = 0;
    pub(crate) const VMCTX: u32 = 8;
    pub(crate) const TYPE_ID: u32 = 16;
}

/// A linear memory's base and accessible length, updated by `memory.grow`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMMemory {
    pub base: *mut u8,
    pub len: u64,
}

#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)] // compiler only
impl VMMemory {
    pub(crate) const BASE: u32 = 0;
    pub(crate) const LEN: u32 = 8;
}

/// A table's elements (raw references) and length, updated whenever the table's storage
/// changes.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct VMTable {
    pub base: *mut u64,
    pub len: u64,
}

#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)] // compiler only
impl VMTable {
    pub(crate) const BASE: u32 = 0;
    pub(crate) const LEN: u32 = 8;
}

/// A store's interrupt state, shared with every [`InterruptHandle`](crate::InterruptHandle).
///
/// The interpreter tests `flag`, which also carries a second request, [`TIER_UP`]: a
/// module compiled in the background has its machine code, so the interpreter's next
/// call or loop moves its instances onto it (`backend::tier_up`; compiled code never
/// sees that bit). Compiled code reads copies kept in each instance's
/// context, with one load each: the flag byte at loop headers (`INTERRUPT_FLAG`), and
/// the stack limit in each function's prologue (`STACK_LIMIT`). An interrupt sets the
/// flags and raises the limits to the top of the address space, so the next prologue's
/// stack check fails too and its slow path reports the interrupt.
#[derive(Debug)]
pub(crate) struct VMInterrupts {
    /// [`INTERRUPT`] and [`TIER_UP`] bits.
    pub flag: AtomicU8,
    state: std::sync::Mutex<Copies>,
    /// `state.limit`, readable without the lock: an entry from the host that sets the
    /// limit it already has (the usual case) skips the lock and the writes.
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    limit: AtomicUsize,
}

#[derive(Debug, Default)]
struct Copies {
    /// Addresses of the contexts holding copies. Emptied when the store goes away, so a
    /// late interrupt writes nowhere.
    contexts: Vec<usize>,
    /// The stack limit of the running native call.
    limit: usize,
}

/// `VMInterrupts::flag`: an interrupt is requested.
pub(crate) const INTERRUPT: u8 = 1;
/// `VMInterrupts::flag`: machine code became ready for a module the store interprets.
pub(crate) const TIER_UP: u8 = 2;

impl VMInterrupts {
    pub(crate) fn new() -> VMInterrupts {
        VMInterrupts {
            flag: AtomicU8::new(0),
            state: std::sync::Mutex::new(Copies::default()),
            limit: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Copies> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the flag and limit copies of one context.
    fn write(context: usize, flag: bool, limit: usize) {
        // SAFETY: registered contexts are live instance contexts of the store (the store
        // unregisters them, under the lock the callers hold, before freeing them); the
        // copies are atomics as compiled code reads them.
        unsafe {
            let base = context as *const u8;
            (*base
                .add(VMOffsets::INTERRUPT_FLAG as usize)
                .cast::<std::sync::atomic::AtomicU8>())
            .store(u8::from(flag), Ordering::SeqCst);
            (*base
                .add(VMOffsets::STACK_LIMIT as usize)
                .cast::<AtomicUsize>())
            .store(if flag { usize::MAX } else { limit }, Ordering::SeqCst);
        }
    }

    fn write_all(&self, state: &Copies) {
        let flag = self.flag.load(Ordering::SeqCst) & INTERRUPT != 0;
        for &c in &state.contexts {
            Self::write(c, flag, state.limit);
        }
    }

    /// Requests an interrupt (any thread).
    pub(crate) fn interrupt(&self) {
        let state = self.state();
        self.flag.fetch_or(INTERRUPT, Ordering::SeqCst);
        self.write_all(&state);
    }

    /// Tells the interpreter that a module it runs has machine code now (any thread).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn request_tier_up(&self) {
        self.flag.fetch_or(TIER_UP, Ordering::SeqCst);
    }

    /// Takes a pending tier-up request: true if there was one.
    pub(crate) fn take_tier_up(&self) -> bool {
        self.flag.fetch_and(!TIER_UP, Ordering::SeqCst) & TIER_UP != 0
    }

    /// Takes a pending request: true if there was one.
    pub(crate) fn take(&self) -> bool {
        let state = self.state();
        let was = self.flag.fetch_and(!INTERRUPT, Ordering::SeqCst) & INTERRUPT != 0;
        self.write_all(&state);
        was
    }

    /// The stack limit last set (0 before the first native call).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn stack_limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets the stack limit compiled code checks (raised while an interrupt is pending).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) fn set_stack_limit(&self, limit: usize) {
        // Only the thread running the store sets the limit, so it cannot change between
        // this load and the lock; the copies already hold `limit` (or the raised limit
        // of a pending interrupt, which `take` replaces with `state.limit`).
        if self.limit.load(Ordering::Relaxed) == limit {
            return;
        }
        let mut state = self.state();
        state.limit = limit;
        self.limit.store(limit, Ordering::Relaxed);
        self.write_all(&state);
    }

    /// Keeps the copies in the context at `context` up to date.
    pub(crate) fn add_context(&self, context: *mut VMContext) {
        let mut state = self.state();
        state.contexts.push(context as usize);
        Self::write(
            context as usize,
            self.flag.load(Ordering::SeqCst) & INTERRUPT != 0,
            state.limit,
        );
    }

    /// Forgets every context (the store and its contexts are going away).
    pub(crate) fn forget_contexts(&self) {
        self.state().contexts.clear();
    }
}

/// A store's own context, at a stable address: native code reaches it from any
/// instance's [`VMContext`] and finds the store through it again.
#[repr(C)]
pub(crate) struct VMStoreContext {
    /// The `Store<T>` running a native call (set on every entry from the host).
    pub store: *mut (),
    /// Calls a store function from native code: `(store context, funcref, slots,
    /// calling vmctx) -> status` (0: done, results in the slots; 1: trapped, the trap is
    /// in `trap`). Instantiated for the store's data type when the store is created.
    pub call_func: unsafe extern "C" fn(
        *mut VMStoreContext,
        *const VMFuncRef,
        *mut u64,
        *mut VMContext,
    ) -> u32,
    /// The innermost native entry on this store's thread (an engine-private record).
    pub entry: *mut (),
    /// The store's runtime part (`StoreInner`) during a native call, for library calls.
    pub inner: *mut (),
    /// The real stack limit of the running native call (the shared one may be raised
    /// by an interrupt).
    pub stack_limit: usize,
    /// A trap raised outside machine code (host function, library call) while native
    /// code was running, waiting for the entry to pick it up.
    pub trap: Option<Trap>,
    /// A panic caught in a host function called from native code, resumed once the
    /// native frames are gone.
    pub panic: Option<Box<dyn std::any::Any + Send + 'static>>,
}

/// Stand-in for `call_func` before a store installs its own.
unsafe extern "C" fn no_call_func(
    _: *mut VMStoreContext,
    _: *const VMFuncRef,
    _: *mut u64,
    _: *mut VMContext,
) -> u32 {
    1
}

impl VMStoreContext {
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )] // compiler only
    pub(crate) const CALL_FUNC: u32 = 8;

    pub(crate) fn new() -> VMStoreContext {
        VMStoreContext {
            store: ptr::null_mut(),
            call_func: no_call_func,
            entry: ptr::null_mut(),
            inner: ptr::null_mut(),
            stack_limit: 0,
            trap: None,
            panic: None,
        }
    }
}

/// An instance's context. Only ever used behind a pointer: its real size and layout come
/// from [`VMOffsets`].
#[repr(C)]
pub(crate) struct VMContext {
    _opaque: [u64; 0],
}

/// Where things are in a module's [`VMContext`]: a fixed header, then
///
/// ```text
/// funcs:    [*const VMFuncRef; functions]  every function, imported and defined
/// globals:  [*mut [u64; 2]; globals]       where each global's value lives
/// cells:    [[u64; 2]; defined globals]    the values of the instance's own globals
/// tables:   [*mut VMTable; tables]
/// memories: [*mut VMMemory; memories]
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct VMOffsets {
    pub num_funcs: u32,
    pub num_globals: u32,
    pub num_imported_globals: u32,
    pub num_tables: u32,
    pub num_memories: u32,
}

impl VMOffsets {
    /// Base of memory 0 (null without memories): compiled code keeps it in a register.
    pub(crate) const HEAP_BASE: u32 = 0;
    /// `*const VMMemory` of memory 0 (null without memories).
    pub(crate) const MEMORY0: u32 = 8;
    /// `*mut VMStoreContext`.
    pub(crate) const STORE: u32 = 16;
    /// `*const VMInterrupts`.
    pub(crate) const INTERRUPTS: u32 = 24;
    /// `*const usize`: the compiler's table of library functions.
    pub(crate) const LIBCALLS: u32 = 32;
    /// The instance's index in its store (u32).
    pub(crate) const INSTANCE: u32 = 40;
    /// A copy of the store's interrupt flag (one byte; see [`VMInterrupts`]).
    pub(crate) const INTERRUPT_FLAG: u32 = 48;
    /// A copy of the stack limit compiled prologues check (see [`VMInterrupts`]).
    pub(crate) const STACK_LIMIT: u32 = 56;
    const HEADER: u32 = 64;

    pub(crate) fn funcs(&self) -> u32 {
        Self::HEADER
    }

    pub(crate) fn func(&self, index: u32) -> u32 {
        self.funcs() + 8 * index
    }

    pub(crate) fn globals(&self) -> u32 {
        self.funcs() + 8 * self.num_funcs
    }

    pub(crate) fn global(&self, index: u32) -> u32 {
        self.globals() + 8 * index
    }

    fn cells(&self) -> u32 {
        self.globals() + 8 * self.num_globals
    }

    /// The value of defined (not imported) global `index` (module index space).
    pub(crate) fn defined_global_cell(&self, index: u32) -> u32 {
        debug_assert!(index >= self.num_imported_globals);
        self.cells() + 16 * (index - self.num_imported_globals)
    }

    pub(crate) fn tables(&self) -> u32 {
        self.cells() + 16 * (self.num_globals - self.num_imported_globals)
    }

    pub(crate) fn table(&self, index: u32) -> u32 {
        self.tables() + 8 * index
    }

    pub(crate) fn memories(&self) -> u32 {
        self.tables() + 8 * self.num_tables
    }

    pub(crate) fn memory(&self, index: u32) -> u32 {
        self.memories() + 8 * index
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> u32 {
        self.memories() + 8 * self.num_memories
    }
}

/// The storage of one instance's [`VMContext`], owned by the instance.
pub(crate) struct VMContextBox {
    words: Box<[UnsafeCell<u64>]>,
    offsets: VMOffsets,
}

impl VMContextBox {
    pub(crate) fn new(offsets: VMOffsets) -> VMContextBox {
        let words = (0..offsets.size() / 8)
            .map(|_| UnsafeCell::new(0))
            .collect();
        VMContextBox { words, offsets }
    }

    pub(crate) fn as_ptr(&self) -> *mut VMContext {
        self.words.as_ptr().cast_mut().cast()
    }

    fn word(&self, offset: u32) -> *mut u64 {
        assert!(offset.is_multiple_of(8) && (offset as usize) < self.words.len() * 8);
        self.words[(offset / 8) as usize].get()
    }

    fn set(&self, offset: u32, value: u64) {
        // SAFETY: `word` checked the offset is inside this allocation; `UnsafeCell` makes
        // writes through a shared reference legal, and a store (one thread at a time) is
        // the only writer.
        unsafe { *self.word(offset) = value };
    }

    pub(crate) fn set_header(&self, offset: u32, value: usize) {
        debug_assert!(offset < VMOffsets::HEADER);
        self.set(offset, value as u64);
    }

    pub(crate) fn set_func(&self, index: u32, funcref: *const VMFuncRef) {
        self.set(self.offsets.func(index), funcref as u64);
    }

    pub(crate) fn set_global(&self, index: u32, cell: GlobalCell) {
        self.set(self.offsets.global(index), cell.0.as_ptr() as u64);
    }

    pub(crate) fn set_table(&self, index: u32, table: *const VMTable) {
        self.set(self.offsets.table(index), table as u64);
    }

    pub(crate) fn set_memory(&self, index: u32, memory: *const VMMemory) {
        self.set(self.offsets.memory(index), memory as u64);
    }

    /// The cell holding defined global `index`, inside this context.
    pub(crate) fn defined_global_cell(&self, index: u32) -> GlobalCell {
        let offset = self.offsets.defined_global_cell(index);
        let _ = self.word(offset + 8);
        GlobalCell(NonNull::new(self.word(offset).cast()).expect("inside a live allocation"))
    }

    /// The global pointer array, for the interpreter.
    pub(crate) fn globals_ptr(&self) -> *const GlobalCell {
        // The array may be empty and end the allocation: index the slice, not `word`.
        self.words[(self.offsets.globals() / 8) as usize..]
            .as_ptr()
            .cast::<GlobalCell>()
    }
}

/// Where a global's value lives: a cell in its instance's context, or one the store
/// allocated for a global the host created. Stable for the store's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct GlobalCell(NonNull<[u64; 2]>);

impl GlobalCell {
    pub(crate) fn get(self) -> [u64; 2] {
        // SAFETY: cells are owned by the store (an instance's context or the store's
        // cell arena) and outlive every handle; the store is used by one thread at a time.
        unsafe { *self.0.as_ptr() }
    }

    pub(crate) fn set(self, value: [u64; 2]) {
        // SAFETY: as in `get`; cells are `UnsafeCell`s, so writing through a shared
        // handle is allowed.
        unsafe { *self.0.as_ptr() = value };
    }

    pub(crate) fn as_ptr(self) -> *mut [u64; 2] {
        self.0.as_ptr()
    }
}

/// Cells for globals the host creates, at stable addresses.
#[derive(Default)]
pub(crate) struct CellArena {
    #[allow(clippy::vec_box)] // each cell must stay where it is
    cells: Vec<Box<UnsafeCell<[u64; 2]>>>,
}

impl CellArena {
    pub(crate) fn alloc(&mut self, value: [u64; 2]) -> GlobalCell {
        let cell = Box::new(UnsafeCell::new(value));
        let ptr = NonNull::new(cell.get()).expect("boxes are non-null");
        self.cells.push(cell);
        GlobalCell(ptr)
    }
}

/// Function references of a store, in chunks that never move: the reference of store
/// function `i` is at a fixed address from the moment the function exists.
#[derive(Default)]
pub(crate) struct FuncRefArena {
    chunks: Vec<Box<[UnsafeCell<VMFuncRef>]>>,
    len: usize,
}

const CHUNK: usize = 256;

impl FuncRefArena {
    /// Adds the reference of the next store function (whose index is the arena's length).
    pub(crate) fn push(&mut self, funcref: VMFuncRef) -> *const VMFuncRef {
        debug_assert_eq!(funcref.index as usize, self.len);
        if self.len.is_multiple_of(CHUNK) {
            let chunk = (0..CHUNK)
                .map(|_| {
                    UnsafeCell::new(VMFuncRef {
                        code: ptr::null(),
                        vmctx: ptr::null_mut(),
                        type_id: u32::MAX,
                        index: u32::MAX,
                    })
                })
                .collect();
            self.chunks.push(chunk);
        }
        let slot = &self.chunks[self.len / CHUNK][self.len % CHUNK];
        // SAFETY: the slot is unused (above `len`); nothing else refers to it yet.
        unsafe { *slot.get() = funcref };
        self.len += 1;
        slot.get()
    }

    /// The reference of store function `index`.
    pub(crate) fn get(&self, index: u32) -> *const VMFuncRef {
        let i = index as usize;
        assert!(i < self.len, "function index out of range");
        self.chunks[i / CHUNK][i % CHUNK].get()
    }

    /// Sets where function `index` runs natively.
    pub(crate) fn set_code(&self, index: u32, code: *const u8, vmctx: *mut VMContext) {
        let p = self.get(index).cast_mut();
        // SAFETY: `p` is a live slot of this arena; the store (one thread) is the only
        // writer, and no native code runs while instantiation sets entries.
        unsafe {
            (*p).code = code;
            (*p).vmctx = vmctx;
        }
    }

    /// The store function index a raw, non-null `funcref` value refers to.
    pub(crate) fn index_of(&self, raw: u64) -> Option<u32> {
        let p = raw as usize as *const VMFuncRef;
        // A raw value is only ever made by `get` of this store (the API checks store ids
        // before values enter a store), so it names a live slot; check that anyway before
        // reading it, by finding the chunk it lies in.
        let addr = p as usize;
        let size = std::mem::size_of::<UnsafeCell<VMFuncRef>>();
        let chunk = self.chunks.iter().find(|c| {
            let start = c.as_ptr() as usize;
            addr >= start && addr < start + CHUNK * size && (addr - start).is_multiple_of(size)
        })?;
        let _ = chunk;
        // SAFETY: `p` is an element of one of this arena's chunks (checked above).
        let index = unsafe { (*p).index };
        (index != u32::MAX).then_some(index)
    }
}

/// Reads the type id of the function a raw, non-null `funcref` refers to.
///
/// # Safety
/// `raw` must be a non-null reference made by this store's [`FuncRefArena`].
pub(crate) unsafe fn funcref_of(raw: u64) -> &'static VMFuncRef {
    // SAFETY: the caller guarantees `raw` points at a live arena slot; slots live as long
    // as the store, which outlives the borrow the caller makes of it.
    unsafe { &*(raw as usize as *const VMFuncRef) }
}
