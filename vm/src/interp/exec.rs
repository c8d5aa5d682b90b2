//! The interpreter loop.
//!
//! One `match` over [`Op`] in a loop, with the program counter, the frame pointer and
//! the current instance's memory and globals held in local variables. Frames of Wasm
//! calls live in `StoreInner::frames`, never on the Rust stack, so deep recursion ends
//! in a `call stack exhausted` trap rather than a crash. Host calls that call back into
//! Wasm start a nested loop above the caller's frame.
//!
//! This module holds the interpreter's `unsafe` code: registers are read and written
//! through the frame pointer without bounds checks, which is sound because the
//! translator only names slots below the frame size it computed, and every call checks
//! that the callee's whole frame fits in the value stack before entering it. Linear
//! memory is read and written through its base pointer after an explicit bounds check
//! against the current size.

use super::float::{self, f32ops, f64ops};
use super::ir::{MemAccess, Op};
use super::simd;
use super::translate::{CompiledFunc, ENTRY_ZEROED};
use crate::error::{Trap, TrapCode};
use crate::runtime::backend;
use crate::runtime::func::FuncEntity;
use crate::runtime::memory::MemoryEntity;
use crate::runtime::store::{Store, StoreInner};
use crate::runtime::vmctx::{GlobalCell, VMInterrupts, funcref_of};
use std::sync::atomic::{AtomicU8, Ordering};

/// A suspended caller. Plain data (no `Drop`): `execute` writes and reads frames in the
/// spare capacity of `StoreInner::frames` through a raw pointer (`frames_top` in `execute`).
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    /// The caller's call op (the loop steps past it on return).
    ret_pc: *const Op,
    /// Where the callee's first result goes: its own slot 0 (the caller's call base),
    /// or the caller's local a `local.set` of the call's result was folded into.
    ret_dst: *mut u64,
    code: *const Op,
    fp: *mut u64,
    instance: u32,
}

/// How many host→Wasm calls may nest (each uses some native stack).
const MAX_NESTED_CALLS: usize = 100;

/// Frames the frame array grows to at least when it first fills up (then it doubles,
/// never beyond the call-depth limit).
const MIN_FRAMES: usize = 256;

/// Hot state of the current instance.
struct Ctx {
    instance: u32,
    /// The instance moved to machine code while this call ran (a background compile
    /// finished): its frames here finish on the interpreter, its calls go native.
    native: bool,
    code: *const CompiledFunc,
    funcs: *const u32,
    /// Imported functions come first in `funcs`.
    num_imported: u32,
    /// Where each of the instance's globals lives (from its context).
    globals: *const GlobalCell,
    type_param_slots: *const u32,
    /// Process-wide type ids of the module's types, for `call_indirect`.
    type_ids: *const u32,
    /// Memory 0: its store index (`usize::MAX` if none), base and accessible bytes.
    memory: usize,
    mem_base: *mut u8,
    mem_len: usize,
    /// Store indices of the instance's memories, and the store's memories, through which
    /// the ops on other memories find theirs (multi-memory).
    memories: *const u32,
    memory_entities: *const MemoryEntity,
}

impl Ctx {
    fn load(store: &StoreInner, instance: u32) -> Ctx {
        let inst = &store.instances[instance as usize];
        let (memory, mem_base, mem_len) = match inst.memories.first() {
            Some(&m) => {
                let e = &store.memories[m as usize];
                (m as usize, e.base(), e.len())
            }
            None => (usize::MAX, std::ptr::null_mut(), 0),
        };
        let code = inst
            .module
            .inner
            .code
            .interpreted()
            .expect("the interpreter runs only interpreted instances");
        Ctx {
            instance,
            native: inst.runs_native,
            code: code.as_ptr(),
            funcs: inst.funcs.as_ptr(),
            num_imported: inst.module.inner.info.num_imported_funcs,
            globals: inst.vmctx.globals_ptr(),
            type_param_slots: inst.module.inner.type_param_slots.as_ptr(),
            type_ids: inst.module.inner.type_ids.as_ptr(),
            memory,
            mem_base,
            mem_len,
            memories: inst.memories.as_ptr(),
            memory_entities: store.memories.as_ptr(),
        }
    }

    /// Re-reads what a host call or `memory.grow` may have changed (a host call may
    /// also have moved the instance to machine code).
    fn refresh(&mut self, store: &StoreInner) {
        self.native = store.instances[self.instance as usize].runs_native;
        self.memory_entities = store.memories.as_ptr();
        if self.memory != usize::MAX {
            let e = &store.memories[self.memory];
            self.mem_base = e.base();
            self.mem_len = e.len();
        }
    }
}

/// Runs defined function `def` of interpreted instance `instance` with its arguments at
/// value-stack slot `base` (allocated by the caller, with nothing above it in use).
pub(crate) fn run<T>(
    store: &mut Store<T>,
    instance: u32,
    def: u32,
    base: usize,
) -> Result<(), Trap> {
    if store.inner.host_depth >= MAX_NESTED_CALLS {
        return Err(Trap::new(TrapCode::StackOverflow));
    }
    store.inner.host_depth += 1;
    let floor = store.inner.frames.len();
    let saved_top = store.inner.stack_top;
    // SAFETY: `base` is inside the value stack, which the caller allocated, and nothing
    // above it is in use.
    let result = unsafe { execute(store, instance, def, base, floor) };
    store.inner.frames.truncate(floor);
    store.inner.stack_top = saved_top;
    store.inner.host_depth -= 1;
    result
}

/// The constant-pool entry whose two words start at `at`.
///
/// # Safety
/// `at` and the op after it must be inside one function's code.
unsafe fn pool_entry(at: *const Op) -> u128 {
    // SAFETY: the caller's promise; the translator points every pool reader at the
    // first of its entry's two `PoolWord`s (`translate::append_pool`).
    let (lo, hi) = unsafe { (*at, *at.add(1)) };
    match (lo, hi) {
        (Op::PoolWord(lo), Op::PoolWord(hi)) => u128::from(lo) | (u128::from(hi) << 64),
        _ => {
            debug_assert!(false, "a pool reader points at {lo:?} {hi:?}");
            0
        }
    }
}

/// The name of the function of `instance` whose code starts at `code` (for a trap's
/// message: the loop keeps only the code pointer of the running function).
fn name_of<T>(store: &Store<T>, instance: u32, code: *const Op) -> String {
    let module = &store.inner.instances[instance as usize].module;
    let funcs = module.inner.code.interpreted().unwrap_or_default();
    match funcs.iter().position(|f| f.code.as_ptr() == code) {
        Some(def) => module.func_name(module.inner.info.num_imported_funcs + def as u32),
        None => "?".to_owned(),
    }
}

/// Runs defined function `def` of `instance` with its frame at value-stack slot `base`.
///
/// # Safety
/// `base` must lie inside the store's allocated value stack, with no live references to
/// the slots from `base` up.
unsafe fn execute<T>(
    store: &mut Store<T>,
    instance: u32,
    def: u32,
    base: usize,
    floor: usize,
) -> Result<(), Trap> {
    // SAFETY: this block is the interpreter. Its invariants:
    // - `fp` points at the current frame inside the value stack, and the frame's
    //   `frame_size` slots fit below `stack_end` (checked on every entry); ops only name
    //   slots below the frame size (guaranteed by the translator, for a v128 register's
    //   second slot too), so register accesses stay inside the allocation.
    // - `pc` points into the current function's code, which a module kept alive by the
    //   store owns; branch targets are indices inside that code (the translator patches
    //   every one, fused branches included), and every function's last op is a return
    //   (only its constant pool follows: `PoolWord`s, never executed, which
    //   `V128Const` and `I8x16Shuffle` name by code position, two words inside it).
    //   A joined pair (`join_pairs`) steps `pc` over its second half, which is still in
    //   the code; when that half is a return, the joined op returns instead, so the
    //   function still ends with a return op that is never stepped past.
    //   `ByteCompareLoop` steps over its three ops the same way, and hands
    //   `byte_compare_loop` five slots of this frame (the translator's registers) and
    //   memory 0's cached base and length.
    //   Fused ops name only slots the ops they replace named, and their 16-bit fields
    //   hold registers the translator checked fit. `BrTable` (and `BrTableLoad8U`)
    //   reads the `Br` entry it selects, one of the `len + 1` the translator always
    //   emits after it.
    // - `ctx` pointers refer to boxed slices owned by instances and modules the store
    //   keeps alive; the global-value vector and memory size are re-read after anything
    //   that may change them (host calls, `memory.grow`). A tier-up in the middle
    //   (`backend::tier_up_now`, from `check_interrupt!`) changes only function
    //   references' code pointers, instances' `runs_native` and the store's list of
    //   native modules, none of which the interpreter holds pointers into.
    // - memory accesses check `address + width <= mem_len`, and the first `mem_len` bytes
    //   from `mem_base` are mapped read-write.
    // - `interrupt` points into an `Arc` the store holds (and never replaces) for as long
    //   as this call runs. Memories other than memory 0 are looked
    //   up through `ctx.memories` (indices the validator checked against the module's
    //   memories) and `ctx.memory_entities` (re-read whenever the store's memory vector
    //   may have changed: host calls and `memory.grow`), and bounds-checked the same way.
    // - a frame's `ret_dst` points at a slot of the caller's frame (its call base, or
    //   a local below it), which stays inside the value stack while the callee runs;
    //   joined calls write `base + k` only where the copies they replace wrote.
    // - frames: `frames_top` stays within `frames_floor..=frames_end`, and `frames_end`
    //   is at most the vector's capacity, so a push writes inside its allocation; every
    //   entry from `frames_floor` up to `frames_top` was written by a push (`Frame` is
    //   plain `Copy` data, so `set_len` to that count exposes only initialized entries);
    //   the pointers are re-derived after anything that may reallocate the vector (a
    //   host call, growing it). A function's entry writes `ENTRY_ZEROED` slots after its
    //   parameters only when its frame size (padded to hold them) covers them, and the
    //   stack check before it covers the frame.
    unsafe {
        let stack = store.inner.stack.as_ref().expect("allocated by the caller");
        let stack_ptr = stack.ptr();
        let stack_end = stack_ptr.add(stack.len());
        // The store owns the flag for the whole call; no need to clone its `Arc`.
        let interrupts: *const VMInterrupts = &*store.inner.interrupts;
        let interrupt: *const AtomicU8 = &(*interrupts).flag;
        let max_depth = store.inner.limits.max_call_depth;
        let max_memory = store.inner.limits.max_memory_bytes;
        let max_table = store.inner.limits.max_table_elements;
        let mut ctx = Ctx::load(&store.inner, instance);
        // The frames of this call live in `store.inner.frames` from index `floor` up. They
        // are pushed and popped through `frames_top` (the first free entry) without
        // touching the `Vec`: its length stays `floor` and the entries above are written
        // in its spare capacity, below `frames_end` (the capacity or the depth limit,
        // whichever is less, so one comparison per call checks both). The length is set
        // to the true count only around anything that may use the vector (a host call,
        // which may run Wasm that pushes frames of its own, and growing it), and the
        // pointers are re-read afterwards since the vector may have moved. `run`
        // truncates the vector to `floor` at the end, so every exit may leave it at any
        // length between `floor` and the true count: the entries are plain data.
        let mut frames_base: *mut Frame;
        let mut frames_top: *mut Frame;
        let mut frames_floor: *mut Frame;
        let mut frames_end: *mut Frame;
        // (Re)derives the frame pointers from the vector, with `$count` frames in use.
        macro_rules! load_frames {
            ($count:expr) => {{
                let count: usize = $count;
                let frames = &mut store.inner.frames;
                frames_base = frames.as_mut_ptr();
                frames_top = frames_base.add(count);
                frames_floor = frames_base.add(floor);
                frames_end = frames_base.add(frames.capacity().min(max_depth));
            }};
        }
        // Makes the vector's length the true count of frames (before the vector is used).
        macro_rules! sync_frames {
            () => {{
                let count = frames_top.offset_from(frames_base) as usize;
                store.inner.frames.set_len(count);
                count
            }};
        }
        load_frames!(floor);
        let mut fp = stack_ptr.add(base);
        // The running function's code (before the first entry, the entered function's, so
        // that a trap on entry names it).
        let mut code: *const Op = (*ctx.code.add(def as usize)).code.as_ptr();
        let mut pc: *const Op;

        macro_rules! trap {
            ($code:expr) => {
                return Err(Trap::new($code).with_function(|| name_of(store, ctx.instance, code)))
            };
        }
        macro_rules! r {
            ($i:expr) => {
                *fp.add($i as usize)
            };
        }
        macro_rules! w {
            ($i:expr, $v:expr) => {
                *fp.add($i as usize) = $v
            };
        }
        // Also where a finished background compile is noticed: the instances move to
        // their machine code (this frame and its callers finish here; calls go native).
        macro_rules! check_interrupt {
            () => {
                if (*interrupt).load(Ordering::Relaxed) != 0 {
                    if (*interrupts).take() {
                        trap!(TrapCode::Interrupted);
                    }
                    if (*interrupts).take_tier_up() {
                        backend::tier_up_now(&mut store.inner);
                        ctx.refresh(&store.inner);
                    }
                }
            };
        }
        // `pc` points at the op being executed until the loop's latch steps it; a taken
        // branch sets it and goes straight to the next iteration. A branch to itself or
        // backwards is a loop: it checks for an interrupt.
        macro_rules! jump {
            ($target:expr) => {{
                let target = code.add($target as usize);
                if target <= pc {
                    check_interrupt!();
                }
                pc = target;
                continue;
            }};
        }
        // Enters defined function `$def` of the current instance with its frame at `$fp`.
        // `pc` is left at the callee's first op: inside the loop, the caller must
        // `continue` rather than reach the latch.
        macro_rules! enter {
            ($def:expr, $fp:expr) => {{
                let callee = &*ctx.code.add($def as usize);
                let new_fp: *mut u64 = $fp;
                if new_fp.add(callee.frame_size as usize) > stack_end {
                    trap!(TrapCode::StackOverflow);
                }
                // Most functions declare few locals: zero `ENTRY_ZEROED` slots with plain
                // stores (the frame size is padded to hold them; any beyond the declared
                // locals are operand slots, written before they are read) rather than
                // calling `memset` or branching on the count.
                let locals = new_fp.add(callee.param_slots as usize);
                if callee.local_slots <= ENTRY_ZEROED {
                    locals
                        .cast::<[u64; ENTRY_ZEROED as usize]>()
                        .write([0; ENTRY_ZEROED as usize]);
                } else {
                    std::ptr::write_bytes(locals, 0, callee.local_slots as usize);
                }
                fp = new_fp;
                code = callee.code.as_ptr();
                pc = code;
            }};
        }
        macro_rules! push_frame {
            ($ret_dst:expr) => {{
                if frames_top >= frames_end {
                    // Full: at the depth limit, or the vector needs to grow.
                    let count = sync_frames!();
                    if count >= max_depth {
                        trap!(TrapCode::StackOverflow);
                    }
                    let want = (2 * count).max(MIN_FRAMES).min(max_depth);
                    store.inner.frames.reserve_exact(want - count);
                    load_frames!(count);
                }
                frames_top.write(Frame {
                    ret_pc: pc,
                    ret_dst: $ret_dst,
                    code,
                    fp,
                    instance: ctx.instance,
                });
                frames_top = frames_top.add(1);
            }};
        }
        // Calls store function `$func` with its frame at slot `$base` of this frame; its
        // first result goes to slot `$dst` (`$base` unless a `local.set` was folded in).
        macro_rules! call_store_func {
            ($func:expr, $base:expr, $dst:expr) => {{
                match store.inner.funcs[$func as usize] {
                    FuncEntity::Wasm { instance, def, .. }
                        if if instance == ctx.instance {
                            !ctx.native
                        } else {
                            backend::is_interpreted(&store.inner, instance)
                        } =>
                    {
                        push_frame!(fp.add($dst as usize));
                        if instance != ctx.instance {
                            ctx = Ctx::load(&store.inner, instance);
                        }
                        enter!(def, fp.add($base as usize));
                        check_interrupt!();
                        continue;
                    }
                    ref entity => {
                        // A host function, or a function another engine runs: it takes
                        // its arguments in place and leaves its results there.
                        let n = entity.slots() as usize;
                        let args = fp.add($base as usize);
                        if args.add(n) > stack_end {
                            trap!(TrapCode::StackOverflow);
                        }
                        let at = args.offset_from(stack_ptr) as usize;
                        let caller_instance = ctx.instance;
                        let saved_top = store.inner.stack_top;
                        store.inner.stack_top = at + n;
                        // Nested Wasm pushes its frames above ours (and truncates back).
                        let count = sync_frames!();
                        let result = backend::invoke(store, $func, at, n, Some(caller_instance));
                        store.inner.stack_top = saved_top;
                        load_frames!(count);
                        if let Err(t) = result {
                            return Err(t.with_function(|| name_of(store, caller_instance, code)));
                        }
                        ctx.refresh(&store.inner);
                        if $dst != $base {
                            w!($dst, r!($base));
                        }
                    }
                }
            }};
        }
        // Calls defined function `$func` of this instance (frame at `$base`, first
        // result to `$dst`), from the call op at `pc`.
        macro_rules! call_defined {
            ($func:expr, $base:expr, $dst:expr) => {{
                if ctx.native {
                    let f = *ctx.funcs.add((ctx.num_imported + $func) as usize);
                    call_store_func!(f, $base, $dst);
                } else {
                    push_frame!(fp.add($dst as usize));
                    enter!($func, fp.add($base as usize));
                    check_interrupt!();
                    continue;
                }
            }};
        }
        // Pops the caller's frame after writing `$first`, the first result, where the
        // caller wants it (`Frame::ret_dst`); returns to the host from the entry frame,
        // whose results stay in slots `0..`.
        macro_rules! do_return {
            ($first:expr) => {{
                let first: u64 = $first;
                if frames_top == frames_floor {
                    *fp = first;
                    return Ok(());
                }
                frames_top = frames_top.sub(1);
                let f = frames_top.read();
                *f.ret_dst = first;
                fp = f.fp;
                pc = f.ret_pc;
                code = f.code;
                if f.instance != ctx.instance {
                    ctx = Ctx::load(&store.inner, f.instance);
                }
            }};
        }
        // `Return1`: the one result to slot 0, then return.
        macro_rules! return1 {
            ($src:expr) => {{
                do_return!(r!($src));
            }};
        }
        // `global = src + imm` (i32): the stack-pointer epilogue.
        macro_rules! global_set_add_imm {
            ($global:expr, $src:expr, $imm:expr) => {{
                let cell = (*ctx.globals.add($global as usize)).as_ptr();
                (*cell)[0] = u64::from((r!($src) as u32).wrapping_add($imm as u32));
            }};
        }
        // The host address of a `$width`-byte access at Wasm address `$at` (a u32) plus
        // offset `$off`, after the bounds check.
        macro_rules! addr_at {
            ($at:expr, $off:expr, $width:expr) => {{
                let ea = ($at as usize) + ($off as usize);
                if ea + $width > ctx.mem_len {
                    trap!(TrapCode::MemoryOutOfBounds);
                }
                ctx.mem_base.add(ea)
            }};
        }
        macro_rules! addr {
            ($addr:expr, $off:expr, $width:expr) => {
                addr_at!(r!($addr) as u32, $off, $width)
            };
        }
        macro_rules! load {
            ($ty:ty, $addr:expr, $off:expr) => {{
                let p = addr!($addr, $off, std::mem::size_of::<$ty>());
                <$ty>::from_le(p.cast::<$ty>().read_unaligned())
            }};
        }
        // A load from Wasm address `$at` (a u32) plus `$off`.
        macro_rules! load_at {
            ($ty:ty, $at:expr, $off:expr) => {{
                let p = addr_at!($at, $off, std::mem::size_of::<$ty>());
                <$ty>::from_le(p.cast::<$ty>().read_unaligned())
            }};
        }
        // The address `r[$a] + $c` (i32, wrapping) of the fused loads.
        macro_rules! plus_imm {
            ($a:expr, $c:expr) => {
                (r!($a) as u32).wrapping_add($c as u32)
            };
        }
        macro_rules! plus_reg {
            ($a:expr, $b:expr) => {
                (r!($a) as u32).wrapping_add(r!($b) as u32)
            };
        }
        macro_rules! store_mem {
            ($ty:ty, $addr:expr, $off:expr, $v:expr) => {{
                let p = addr!($addr, $off, std::mem::size_of::<$ty>());
                p.cast::<$ty>().write_unaligned(<$ty>::to_le($v));
            }};
        }
        macro_rules! i32bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as u32 as i32;
                let $y = r!($b) as u32 as i32;
                w!($d, ($e) as u32 as u64);
            }};
        }
        macro_rules! i32imm {
            ($d:expr, $a:expr, $c:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as u32 as i32;
                let $y: i32 = $c;
                w!($d, ($e) as u32 as u64);
            }};
        }
        macro_rules! i64bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as i64;
                let $y = r!($b) as i64;
                w!($d, ($e) as u64);
            }};
        }
        macro_rules! i64imm {
            ($d:expr, $a:expr, $c:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as i64;
                let $y = $c as i64;
                w!($d, ($e) as u64);
            }};
        }
        macro_rules! f32bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f32::from_bits(r!($a) as u32);
                let $y = f32::from_bits(r!($b) as u32);
                w!($d, u64::from(($e).to_bits()));
            }};
        }
        macro_rules! f32cmp {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f32::from_bits(r!($a) as u32);
                let $y = f32::from_bits(r!($b) as u32);
                w!($d, u64::from($e));
            }};
        }
        macro_rules! f32un {
            ($d:expr, $a:expr, |$x:ident| $e:expr) => {{
                let $x = f32::from_bits(r!($a) as u32);
                w!($d, u64::from(($e).to_bits()));
            }};
        }
        macro_rules! f64bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f64::from_bits(r!($a));
                let $y = f64::from_bits(r!($b));
                w!($d, ($e).to_bits());
            }};
        }
        macro_rules! f64cmp {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f64::from_bits(r!($a));
                let $y = f64::from_bits(r!($b));
                w!($d, u64::from($e));
            }};
        }
        macro_rules! f64un {
            ($d:expr, $a:expr, |$x:ident| $e:expr) => {{
                let $x = f64::from_bits(r!($a));
                w!($d, ($e).to_bits());
            }};
        }
        macro_rules! trunc {
            ($d:expr, $a:expr, $src:ty, $bounds:expr, $dst:ty, $store:ty) => {{
                let x = <$src>::from_bits(r!($a) as _);
                if let Err(code) = float::check_trunc(x as f64, $bounds.0, $bounds.1) {
                    trap!(code);
                }
                w!($d, (x as $dst) as $store as u64);
            }};
        }
        macro_rules! br_cmp32 {
            ($a:expr, $b:expr, $t:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as u32;
                let $y = r!($b) as u32;
                if $e {
                    jump!($t);
                }
            }};
        }
        macro_rules! br_cmp32_imm {
            ($a:expr, $c:expr, $t:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a) as u32;
                let $y = $c as u32;
                if $e {
                    jump!($t);
                }
            }};
        }
        macro_rules! br_cmp64 {
            ($a:expr, $b:expr, $t:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a);
                let $y = r!($b);
                if $e {
                    jump!($t);
                }
            }};
        }
        macro_rules! br_cmp64_imm {
            ($a:expr, $c:expr, $t:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = r!($a);
                let $y = $c as i64 as u64;
                if $e {
                    jump!($t);
                }
            }};
        }

        // A v128 register: two slots, low half first.
        macro_rules! rv {
            ($i:expr) => {
                u128::from(r!($i)) | (u128::from(r!($i + 1)) << 64)
            };
        }
        macro_rules! wv {
            ($i:expr, $v:expr) => {{
                let v: u128 = $v;
                w!($i, v as u64);
                w!($i + 1, (v >> 64) as u64);
            }};
        }
        macro_rules! vun {
            ($d:expr, $a:expr, $f:path) => {
                wv!($d, $f(rv!($a)))
            };
        }
        macro_rules! vbin {
            ($d:expr, $a:expr, $b:expr, $f:path) => {{
                let (x, y) = (rv!($a), rv!($b));
                wv!($d, $f(x, y))
            }};
        }
        macro_rules! vshift {
            ($d:expr, $a:expr, $b:expr, $f:path) => {
                wv!($d, $f(rv!($a), r!($b) as u32))
            };
        }
        macro_rules! vtest {
            ($d:expr, $a:expr, $f:path) => {
                w!($d, u64::from($f(rv!($a))))
            };
        }
        macro_rules! vsplat {
            ($d:expr, $a:expr, $f:path) => {
                wv!($d, $f(r!($a)))
            };
        }
        // Memory `$m` of the current instance (multi-memory): its store index and entity.
        macro_rules! memory_n {
            ($m:expr) => {{
                let index = *ctx.memories.add($m as usize) as usize;
                (index, &*ctx.memory_entities.add(index))
            }};
        }
        // The constant-pool entry at code position `$at` (after the function's last op).
        macro_rules! pool {
            ($at:expr) => {
                pool_entry(code.add($at as usize))
            };
        }

        // Enter the first function.
        enter!(def, fp);
        check_interrupt!();

        loop {
            // Matched in place, not copied into a local first: each arm then loads only
            // the fields it uses, and the dispatch reads just the tag (a copy made LLVM
            // load every field shape of every arm before the jump; docs/interpreter.md).
            match *pc {
                // Pool words follow the last op (a return) and are never reached.
                Op::Unreachable | Op::PoolWord(_) => trap!(TrapCode::Unreachable),
                Op::Br { target } => jump!(target),
                Op::BrIfNez { cond, target } => {
                    if r!(cond) as u32 != 0 {
                        jump!(target);
                    }
                }
                Op::BrIfEqz { cond, target } => {
                    if r!(cond) as u32 == 0 {
                        jump!(target);
                    }
                }
                Op::BrTable { index, len } => {
                    let i = (r!(index) as u32).min(len);
                    // Take the entry's branch here rather than dispatching it.
                    // The entries follow the `BrTable`; a non-`Br` entry is dispatched
                    // next (the latch steps past the `BrTable` itself).
                    match *pc.add(1 + i as usize) {
                        Op::Br { target } => jump!(target),
                        _ => pc = pc.add(i as usize),
                    }
                }
                Op::BrTableLoad8U {
                    dst,
                    addr,
                    offset,
                    len,
                } => {
                    let byte = load!(u8, addr, offset);
                    w!(dst, u64::from(byte));
                    let i = u32::from(byte).min(len);
                    match *pc.add(1 + i as usize) {
                        Op::Br { target } => jump!(target),
                        _ => pc = pc.add(i as usize),
                    }
                }
                // Results are in slots `0..` (slot 0 rewritten in place unless the
                // caller redirected a single result).
                Op::Return => do_return!(*fp),
                Op::Return1 { src } => return1!(src),
                Op::Call { func, base, dst } => call_defined!(func, base, dst),
                // Joined with the argument copies before it: the copies, then the call
                // from the `Call` op (still in the code), where the return lands.
                Op::CopyThenCall {
                    func,
                    base,
                    ret,
                    dst,
                    src,
                } => {
                    w!(dst, r!(src));
                    pc = pc.add(1);
                    call_defined!(func, base, ret);
                }
                Op::CopyPairThenCall {
                    func,
                    base,
                    ret,
                    s1,
                    s2,
                    k1,
                    k2,
                } => {
                    w!(usize::from(base) + usize::from(k1), r!(s1));
                    w!(usize::from(base) + usize::from(k2), r!(s2));
                    pc = pc.add(2);
                    call_defined!(func, base, ret);
                }
                Op::CallImport { func, base } => {
                    let f = *ctx.funcs.add(func as usize);
                    call_store_func!(f, base, base);
                }
                Op::CallIndirect {
                    type_index,
                    table,
                    base,
                } => {
                    let params = *ctx.type_param_slots.add(type_index as usize);
                    let index = r!(base + params) as u32 as usize;
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = &store.inner.tables[inst.tables[table as usize] as usize];
                    let Some(&raw) = t.elements.get(index) else {
                        trap!(TrapCode::UndefinedElement);
                    };
                    if raw == 0 {
                        trap!(TrapCode::UninitializedElement);
                    }
                    let funcref = funcref_of(raw);
                    if funcref.type_id != *ctx.type_ids.add(type_index as usize) {
                        trap!(TrapCode::IndirectCallTypeMismatch);
                    }
                    let f = funcref.index;
                    call_store_func!(f, base, base);
                }

                Op::BrI32Eq(a, b, t) => br_cmp32!(a, b, t, |x, y| x == y),
                Op::BrI32Ne(a, b, t) => br_cmp32!(a, b, t, |x, y| x != y),
                Op::BrI32LtS(a, b, t) => br_cmp32!(a, b, t, |x, y| (x as i32) < (y as i32)),
                Op::BrI32LtU(a, b, t) => br_cmp32!(a, b, t, |x, y| x < y),
                Op::BrI32GtS(a, b, t) => br_cmp32!(a, b, t, |x, y| (x as i32) > (y as i32)),
                Op::BrI32GtU(a, b, t) => br_cmp32!(a, b, t, |x, y| x > y),
                Op::BrI32LeS(a, b, t) => br_cmp32!(a, b, t, |x, y| (x as i32) <= (y as i32)),
                Op::BrI32LeU(a, b, t) => br_cmp32!(a, b, t, |x, y| x <= y),
                Op::BrI32GeS(a, b, t) => br_cmp32!(a, b, t, |x, y| (x as i32) >= (y as i32)),
                Op::BrI32GeU(a, b, t) => br_cmp32!(a, b, t, |x, y| x >= y),
                Op::BrI32EqImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x == y),
                Op::BrI32NeImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x != y),
                Op::BrI32LtSImm(a, c, t) => {
                    br_cmp32_imm!(a, c, t, |x, y| (x as i32) < (y as i32))
                }
                Op::BrI32LtUImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x < y),
                Op::BrI32GtSImm(a, c, t) => {
                    br_cmp32_imm!(a, c, t, |x, y| (x as i32) > (y as i32))
                }
                Op::BrI32GtUImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x > y),
                Op::BrI32LeSImm(a, c, t) => {
                    br_cmp32_imm!(a, c, t, |x, y| (x as i32) <= (y as i32))
                }
                Op::BrI32LeUImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x <= y),
                Op::BrI32GeSImm(a, c, t) => {
                    br_cmp32_imm!(a, c, t, |x, y| (x as i32) >= (y as i32))
                }
                Op::BrI32GeUImm(a, c, t) => br_cmp32_imm!(a, c, t, |x, y| x >= y),
                Op::BrI64Eq(a, b, t) => br_cmp64!(a, b, t, |x, y| x == y),
                Op::BrI64Ne(a, b, t) => br_cmp64!(a, b, t, |x, y| x != y),
                Op::BrI64LtS(a, b, t) => br_cmp64!(a, b, t, |x, y| (x as i64) < (y as i64)),
                Op::BrI64LtU(a, b, t) => br_cmp64!(a, b, t, |x, y| x < y),
                Op::BrI64GtS(a, b, t) => br_cmp64!(a, b, t, |x, y| (x as i64) > (y as i64)),
                Op::BrI64GtU(a, b, t) => br_cmp64!(a, b, t, |x, y| x > y),
                Op::BrI64LeS(a, b, t) => br_cmp64!(a, b, t, |x, y| (x as i64) <= (y as i64)),
                Op::BrI64LeU(a, b, t) => br_cmp64!(a, b, t, |x, y| x <= y),
                Op::BrI64GeS(a, b, t) => br_cmp64!(a, b, t, |x, y| (x as i64) >= (y as i64)),
                Op::BrI64GeU(a, b, t) => br_cmp64!(a, b, t, |x, y| x >= y),
                Op::BrI64EqImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x == y),
                Op::BrI64NeImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x != y),
                Op::BrI64LtSImm(a, c, t) => {
                    br_cmp64_imm!(a, c, t, |x, y| (x as i64) < (y as i64))
                }
                Op::BrI64LtUImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x < y),
                Op::BrI64GtSImm(a, c, t) => {
                    br_cmp64_imm!(a, c, t, |x, y| (x as i64) > (y as i64))
                }
                Op::BrI64GtUImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x > y),
                Op::BrI64LeSImm(a, c, t) => {
                    br_cmp64_imm!(a, c, t, |x, y| (x as i64) <= (y as i64))
                }
                Op::BrI64LeUImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x <= y),
                Op::BrI64GeSImm(a, c, t) => {
                    br_cmp64_imm!(a, c, t, |x, y| (x as i64) >= (y as i64))
                }
                Op::BrI64GeUImm(a, c, t) => br_cmp64_imm!(a, c, t, |x, y| x >= y),
                Op::BrI64Eqz(a, t) => {
                    if r!(a) == 0 {
                        jump!(t);
                    }
                }
                Op::BrI64Nez(a, t) => {
                    if r!(a) != 0 {
                        jump!(t);
                    }
                }
                Op::BrI32AndImmNez(a, c, t) => {
                    if r!(a) as u32 & c as u32 != 0 {
                        jump!(t);
                    }
                }
                Op::BrI32AndImmEqz(a, c, t) => {
                    if r!(a) as u32 & c as u32 == 0 {
                        jump!(t);
                    }
                }
                Op::BrI32LoadNez(a, o, t) => {
                    if load!(u32, a, o) != 0 {
                        jump!(t);
                    }
                }
                Op::BrI32LoadEqz(a, o, t) => {
                    if load!(u32, a, o) == 0 {
                        jump!(t);
                    }
                }
                Op::BrI32Load8UNez(a, o, t) => {
                    if load!(u8, a, o) != 0 {
                        jump!(t);
                    }
                }
                Op::BrI32Load8UEqz(a, o, t) => {
                    if load!(u8, a, o) == 0 {
                        jump!(t);
                    }
                }
                Op::BrI32Load8UAddImmNez(a, c, o, t) => {
                    if load_at!(u8, plus_imm!(a, c), o) != 0 {
                        jump!(t);
                    }
                }
                Op::BrI32Load8UAddImmEqz(a, c, o, t) => {
                    if load_at!(u8, plus_imm!(a, c), o) == 0 {
                        jump!(t);
                    }
                }
                Op::BrI32Load8UNe(da, db, addrs, t) => {
                    let x = load!(u8, addrs & 0xffff, 0);
                    w!(da, u64::from(x));
                    let y = load!(u8, addrs >> 16, 0);
                    w!(db, u64::from(y));
                    if x != y {
                        jump!(t);
                    }
                }
                Op::ByteCompareLoop {
                    dst_a,
                    dst_b,
                    a,
                    b,
                    n,
                    exit,
                } => {
                    let regs = [dst_a, dst_b, a, b, n];
                    match byte_compare_loop(fp, regs, ctx.mem_base, ctx.mem_len, interrupt) {
                        ByteLoop::Differ => jump!(exit),
                        ByteLoop::Done => pc = pc.add(3),
                        // Back at the compare, as the back edge would be: check, then
                        // run this op again from the registers as they are.
                        ByteLoop::Interrupt => {
                            check_interrupt!();
                            continue;
                        }
                        ByteLoop::OutOfBounds => trap!(TrapCode::MemoryOutOfBounds),
                    }
                }
                Op::BrI32Load8UEq(da, db, addrs, t) => {
                    let x = load!(u8, addrs & 0xffff, 0);
                    w!(da, u64::from(x));
                    let y = load!(u8, addrs >> 16, 0);
                    w!(db, u64::from(y));
                    if x == y {
                        jump!(t);
                    }
                }
                Op::I32AddImmBrNez(a, c, t) => {
                    let v = (r!(a) as u32).wrapping_add(c as u32);
                    w!(a, u64::from(v));
                    if v != 0 {
                        jump!(t);
                    }
                }
                Op::I32AddImmBrEqz(a, c, t) => {
                    let v = (r!(a) as u32).wrapping_add(c as u32);
                    w!(a, u64::from(v));
                    if v == 0 {
                        jump!(t);
                    }
                }
                Op::I32AddShl {
                    dst,
                    base,
                    index,
                    shift,
                } => {
                    let v = (r!(base) as u32)
                        .wrapping_add((r!(index) as u32).wrapping_shl(u32::from(shift)));
                    w!(dst, u64::from(v));
                }
                Op::I32LoadAddImm(d, a, c, o) => {
                    w!(d, u64::from(load_at!(u32, plus_imm!(a, c), o)))
                }
                Op::I64LoadAddImm(d, a, c, o) => w!(d, load_at!(u64, plus_imm!(a, c), o)),
                Op::I32Load8UAddImm(d, a, c, o) => {
                    w!(d, u64::from(load_at!(u8, plus_imm!(a, c), o)))
                }
                Op::I32Load8SAddImm(d, a, c, o) => {
                    w!(
                        d,
                        load_at!(u8, plus_imm!(a, c), o) as i8 as i32 as u32 as u64
                    )
                }
                Op::I32Load16UAddImm(d, a, c, o) => {
                    w!(d, u64::from(load_at!(u16, plus_imm!(a, c), o)))
                }
                Op::I32Load16SAddImm(d, a, c, o) => {
                    w!(
                        d,
                        load_at!(u16, plus_imm!(a, c), o) as i16 as i32 as u32 as u64
                    )
                }
                Op::I32LoadAdd(d, a, b, o) => w!(d, u64::from(load_at!(u32, plus_reg!(a, b), o))),
                Op::I64LoadAdd(d, a, b, o) => w!(d, load_at!(u64, plus_reg!(a, b), o)),
                Op::I32Load8UAdd(d, a, b, o) => {
                    w!(d, u64::from(load_at!(u8, plus_reg!(a, b), o)))
                }
                Op::I32Load8SAdd(d, a, b, o) => {
                    w!(
                        d,
                        load_at!(u8, plus_reg!(a, b), o) as i8 as i32 as u32 as u64
                    )
                }
                Op::I32Load16UAdd(d, a, b, o) => {
                    w!(d, u64::from(load_at!(u16, plus_reg!(a, b), o)))
                }
                Op::I32Load16SAdd(d, a, b, o) => {
                    w!(
                        d,
                        load_at!(u16, plus_reg!(a, b), o) as i16 as i32 as u32 as u64
                    )
                }

                // A joined pair does both halves, then steps over the second (still in
                // the code, never executed) before the latch steps past the pair.
                Op::CopyPair { d1, s1, d2, s2 } => {
                    w!(d1, r!(s1));
                    w!(d2, r!(s2));
                    pc = pc.add(1);
                }
                Op::I32AddImmPair {
                    d1,
                    a1,
                    i1,
                    d2,
                    a2,
                    i2,
                } => {
                    i32imm!(d1, a1, i32::from(i1), |x, y| x.wrapping_add(y));
                    i32imm!(d2, a2, i32::from(i2), |x, y| x.wrapping_add(y));
                    pc = pc.add(1);
                }
                Op::I32LoadPair {
                    d1,
                    a1,
                    o1,
                    d2,
                    a2,
                    o2,
                } => {
                    w!(d1, u64::from(load!(u32, a1, o1)));
                    w!(d2, u64::from(load!(u32, a2, o2)));
                    pc = pc.add(1);
                }
                Op::I64LoadPair {
                    d1,
                    a1,
                    o1,
                    d2,
                    a2,
                    o2,
                } => {
                    w!(d1, load!(u64, a1, o1));
                    w!(d2, load!(u64, a2, o2));
                    pc = pc.add(1);
                }
                Op::F64AddThenAdd { d1, a1, b1, d2, a2 } => {
                    let sum = f64::from_bits(r!(a1)) + f64::from_bits(r!(b1));
                    w!(d1, sum.to_bits());
                    // Read after the write: `a2` may be `d1`.
                    w!(d2, (f64::from_bits(r!(a2)) + sum).to_bits());
                    pc = pc.add(1);
                }
                Op::I32AddImmThenStore8Imm {
                    d,
                    a,
                    imm,
                    offset,
                    value,
                } => {
                    i32imm!(d, a, imm, |x, y| x.wrapping_add(y));
                    store_mem!(u8, d, offset, value);
                    pc = pc.add(1);
                }
                Op::I32AddThenBrI32LeU {
                    d,
                    a,
                    b,
                    x,
                    y,
                    target,
                } => {
                    i32bin!(d, a, b, |p, q| p.wrapping_add(q));
                    pc = pc.add(1);
                    br_cmp32!(x, y, target, |p, q| p <= q);
                }
                Op::I32AddImmThenBrI32Ne {
                    d,
                    a,
                    imm,
                    x,
                    y,
                    target,
                } => {
                    i32imm!(d, a, i32::from(imm), |p, q| p.wrapping_add(q));
                    pc = pc.add(1);
                    br_cmp32!(x, y, target, |p, q| p != q);
                }
                // A joined return does both halves and returns (its second half is the
                // function's `Return1`, never executed).
                Op::I32AddThenReturn1 { d, a, b, src } => {
                    i32bin!(d, a, b, |x, y| x.wrapping_add(y));
                    return1!(src);
                }
                Op::GlobalSetAddImmThenReturn1 {
                    global,
                    src,
                    ret,
                    imm,
                } => {
                    global_set_add_imm!(global, src, imm);
                    return1!(ret);
                }
                Op::I32LoadThenBrIfEqz {
                    d,
                    a,
                    offset,
                    target,
                } => {
                    let v = load!(u32, a, offset);
                    w!(d, u64::from(v));
                    if v == 0 {
                        jump!(target);
                    }
                    pc = pc.add(1);
                }
                Op::I32AddImmThenBr { d, a, imm, target } => {
                    i32imm!(d, a, imm, |x, y| x.wrapping_add(y));
                    jump!(target);
                }
                Op::I32AddImmThenAddImmBrNez {
                    d,
                    a,
                    imm,
                    x,
                    c,
                    target,
                } => {
                    i32imm!(d, a, i32::from(imm), |x, y| x.wrapping_add(y));
                    let v = (r!(x) as u32).wrapping_add(i32::from(c) as u32);
                    w!(x, u64::from(v));
                    if v != 0 {
                        jump!(target);
                    }
                    pc = pc.add(1);
                }
                Op::Copy { dst, src } => w!(dst, r!(src)),
                Op::Copy2 { dst, src } => {
                    let (lo, hi) = (r!(src), r!(src + 1));
                    w!(dst, lo);
                    w!(dst + 1, hi);
                }
                Op::Select { dst, a, b, cond } => {
                    // No branch on the condition (a sort's comparisons are data, and a
                    // branch on them mispredicts): LLVM picks the register index with a
                    // `setcc` and copies that slot.
                    let (x, y) = (r!(a), r!(b));
                    w!(dst, if r!(cond) as u32 != 0 { x } else { y });
                }
                // Without a branch on the condition, as `Select`.
                Op::CopyIfEqz { dst, src, cond } => {
                    let (keep, new) = (r!(dst), r!(src));
                    w!(dst, if r!(cond) as u32 == 0 { new } else { keep });
                }
                Op::CopyIfEqz2 { dst, src, cond } => {
                    if r!(cond) as u32 == 0 {
                        let (lo, hi) = (r!(src), r!(src + 1));
                        w!(dst, lo);
                        w!(dst + 1, hi);
                    }
                }
                Op::Const32 { dst, value } => w!(dst, u64::from(value)),
                Op::Const64 { dst, value } => w!(dst, value),

                Op::GlobalGet { dst, global } => {
                    let cell = (*ctx.globals.add(global as usize)).as_ptr();
                    w!(dst, (*cell)[0]);
                }
                Op::GlobalSet { src, global } => {
                    let cell = (*ctx.globals.add(global as usize)).as_ptr();
                    (*cell)[0] = r!(src);
                }
                Op::GlobalSetAddImm { global, src, imm } => {
                    global_set_add_imm!(global, src, imm)
                }
                Op::GlobalAddImmTee { dst, global, imm } => {
                    let cell = (*ctx.globals.add(global as usize)).as_ptr();
                    let v = u64::from(((*cell)[0] as u32).wrapping_add(imm as u32));
                    w!(dst, v);
                    (*cell)[0] = v;
                }
                Op::GlobalGet2 { dst, global } => {
                    let v = (*ctx.globals.add(global as usize)).get();
                    w!(dst, v[0]);
                    w!(dst + 1, v[1]);
                }
                Op::GlobalSet2 { src, global } => {
                    (*ctx.globals.add(global as usize)).set([r!(src), r!(src + 1)]);
                }

                Op::I32Load(d, a, o) => w!(d, u64::from(load!(u32, a, o))),
                Op::I64Load(d, a, o) => w!(d, load!(u64, a, o)),
                Op::I32Load8S(d, a, o) => w!(d, load!(u8, a, o) as i8 as i32 as u32 as u64),
                Op::I32Load8U(d, a, o) => w!(d, u64::from(load!(u8, a, o))),
                Op::I32Load16S(d, a, o) => w!(d, load!(u16, a, o) as i16 as i32 as u32 as u64),
                Op::I32Load16U(d, a, o) => w!(d, u64::from(load!(u16, a, o))),
                Op::I64Load8S(d, a, o) => w!(d, load!(u8, a, o) as i8 as i64 as u64),
                Op::I64Load8U(d, a, o) => w!(d, u64::from(load!(u8, a, o))),
                Op::I64Load16S(d, a, o) => w!(d, load!(u16, a, o) as i16 as i64 as u64),
                Op::I64Load16U(d, a, o) => w!(d, u64::from(load!(u16, a, o))),
                Op::I64Load32S(d, a, o) => w!(d, load!(u32, a, o) as i32 as i64 as u64),
                Op::I64Load32U(d, a, o) => w!(d, u64::from(load!(u32, a, o))),
                Op::Store8(a, s, o) => store_mem!(u8, a, o, r!(s) as u8),
                Op::Store16(a, s, o) => store_mem!(u16, a, o, r!(s) as u16),
                Op::Store32(a, s, o) => store_mem!(u32, a, o, r!(s) as u32),
                Op::Store64(a, s, o) => store_mem!(u64, a, o, r!(s)),
                Op::Store8Imm(a, v, o) => store_mem!(u8, a, o, v as u8),
                Op::Store16Imm(a, v, o) => store_mem!(u16, a, o, v as u16),
                Op::Store32Imm(a, v, o) => store_mem!(u32, a, o, v as u32),
                Op::Store64Imm(a, v, o) => store_mem!(u64, a, o, v as i64 as u64),
                Op::MemorySize { dst } => {
                    w!(dst, (ctx.mem_len / crate::types::PAGE_SIZE as usize) as u64)
                }
                Op::MemoryGrow { dst, delta } => {
                    let delta = r!(delta) as u32;
                    let mem = &mut store.inner.memories[ctx.memory];
                    let old = mem.grow(delta, max_memory).unwrap_or(u32::MAX);
                    w!(dst, u64::from(old));
                    ctx.refresh(&store.inner);
                }
                Op::MemoryInit { data, base } => {
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let seg: &[u8] = if inst.data_dropped[data as usize] {
                        &[]
                    } else {
                        &inst.module.inner.info.datas[data as usize].bytes
                    };
                    let (d, s, n) = (d as usize, s as usize, n as usize);
                    if s + n > seg.len() || d + n > ctx.mem_len {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    std::ptr::copy_nonoverlapping(seg.as_ptr().add(s), ctx.mem_base.add(d), n);
                }
                Op::DataDrop { data } => {
                    store.inner.instances[ctx.instance as usize].data_dropped[data as usize] = true;
                }
                Op::MemoryCopy { base } => {
                    let (d, s, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u32 as usize,
                        r!(base + 2) as u32 as usize,
                    );
                    if s + n > ctx.mem_len || d + n > ctx.mem_len {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    std::ptr::copy(ctx.mem_base.add(s), ctx.mem_base.add(d), n);
                }
                Op::MemoryFill { base } => {
                    let (d, v, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u8,
                        r!(base + 2) as u32 as usize,
                    );
                    if d + n > ctx.mem_len {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    std::ptr::write_bytes(ctx.mem_base.add(d), v, n);
                }

                Op::MemoryAccessN {
                    access,
                    lane,
                    base,
                    offset,
                    memory,
                } => {
                    let (_, e) = memory_n!(memory);
                    let regs = fp.add(base as usize);
                    if let Err(code) = memory_access(regs, access, lane, offset, e.base(), e.len())
                    {
                        trap!(code);
                    }
                }
                Op::MemorySizeN { dst, memory } => {
                    let (_, e) = memory_n!(memory);
                    w!(dst, u64::from(e.pages()));
                }
                Op::MemoryGrowN { dst, delta, memory } => {
                    let delta = r!(delta) as u32;
                    let (index, _) = memory_n!(memory);
                    let mem = &mut store.inner.memories[index];
                    let old = mem.grow(delta, max_memory).unwrap_or(u32::MAX);
                    w!(dst, u64::from(old));
                    // Memory 0 may be the same memory, imported twice.
                    ctx.refresh(&store.inner);
                }
                Op::MemoryInitN { data, base, memory } => {
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    let (_, e) = memory_n!(memory);
                    let (mem_base, mem_len) = (e.base(), e.len());
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let seg: &[u8] = if inst.data_dropped[data as usize] {
                        &[]
                    } else {
                        &inst.module.inner.info.datas[data as usize].bytes
                    };
                    let (d, s, n) = (d as usize, s as usize, n as usize);
                    if s + n > seg.len() || d + n > mem_len {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    std::ptr::copy_nonoverlapping(seg.as_ptr().add(s), mem_base.add(d), n);
                }
                Op::MemoryCopyN {
                    base,
                    dst_memory,
                    src_memory,
                } => {
                    let (d, s, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u32 as usize,
                        r!(base + 2) as u32 as usize,
                    );
                    let (_, de) = memory_n!(dst_memory);
                    let (_, se) = memory_n!(src_memory);
                    if s + n > se.len() || d + n > de.len() {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    // The two may be one memory (imported twice): `copy` allows overlap.
                    std::ptr::copy(se.base().add(s), de.base().add(d), n);
                }
                Op::MemoryFillN { base, memory } => {
                    let (d, v, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u8,
                        r!(base + 2) as u32 as usize,
                    );
                    let (_, e) = memory_n!(memory);
                    if d + n > e.len() {
                        trap!(TrapCode::MemoryOutOfBounds);
                    }
                    std::ptr::write_bytes(e.base().add(d), v, n);
                }

                Op::TableGet { dst, table, index } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = &store.inner.tables[inst.tables[table as usize] as usize];
                    match t.elements.get(r!(index) as u32 as usize) {
                        Some(&v) => w!(dst, v),
                        None => trap!(TrapCode::TableOutOfBounds),
                    }
                }
                Op::TableSet {
                    table,
                    index,
                    value,
                } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = inst.tables[table as usize] as usize;
                    let (i, v) = (r!(index) as u32 as usize, r!(value));
                    match store.inner.tables[t].elements.get_mut(i) {
                        Some(slot) => *slot = v,
                        None => trap!(TrapCode::TableOutOfBounds),
                    }
                }
                Op::TableSize { dst, table } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = &store.inner.tables[inst.tables[table as usize] as usize];
                    w!(dst, t.elements.len() as u64);
                }
                Op::TableGrow { table, base } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = inst.tables[table as usize] as usize;
                    let (init, delta) = (r!(base), r!(base + 1) as u32);
                    let old = store.inner.tables[t]
                        .grow(delta, init, max_table)
                        .unwrap_or(u32::MAX);
                    w!(base, u64::from(old));
                }
                Op::TableFill { table, base } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = inst.tables[table as usize] as usize;
                    let (i, v, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1),
                        r!(base + 2) as u32 as usize,
                    );
                    let elements = &mut store.inner.tables[t].elements;
                    if i + n > elements.len() {
                        trap!(TrapCode::TableOutOfBounds);
                    }
                    elements[i..i + n].fill(v);
                }
                Op::TableCopy {
                    dst_table,
                    src_table,
                    base,
                } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let dt = inst.tables[dst_table as usize] as usize;
                    let st = inst.tables[src_table as usize] as usize;
                    let (d, s, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u32 as usize,
                        r!(base + 2) as u32 as usize,
                    );
                    let tables = &mut store.inner.tables;
                    if s + n > tables[st].elements.len() || d + n > tables[dt].elements.len() {
                        trap!(TrapCode::TableOutOfBounds);
                    }
                    if dt == st {
                        tables[dt].elements.copy_within(s..s + n, d);
                    } else {
                        let src: Vec<u64> = tables[st].elements[s..s + n].to_vec();
                        tables[dt].elements[d..d + n].copy_from_slice(&src);
                    }
                }
                Op::TableInit { elem, table, base } => {
                    let inst = &store.inner.instances[ctx.instance as usize];
                    let t = inst.tables[table as usize] as usize;
                    let (d, s, n) = (
                        r!(base) as u32 as usize,
                        r!(base + 1) as u32 as usize,
                        r!(base + 2) as u32 as usize,
                    );
                    let seg = &inst.elems[elem as usize];
                    if s + n > seg.len() || d + n > store.inner.tables[t].elements.len() {
                        trap!(TrapCode::TableOutOfBounds);
                    }
                    let items: Vec<u64> = seg[s..s + n].to_vec();
                    store.inner.tables[t].elements[d..d + n].copy_from_slice(&items);
                }
                Op::ElemDrop { elem } => {
                    store.inner.instances[ctx.instance as usize].elems[elem as usize] =
                        Box::new([]);
                }
                Op::RefFunc { dst, func } => {
                    let f = *ctx.funcs.add(func as usize);
                    w!(dst, store.inner.funcrefs.get(f) as u64);
                }

                Op::I32Eqz(d, a) => w!(d, u64::from(r!(a) as u32 == 0)),
                Op::I32Eq(d, a, b) => i32bin!(d, a, b, |x, y| x == y),
                Op::I32Ne(d, a, b) => i32bin!(d, a, b, |x, y| x != y),
                Op::I32LtS(d, a, b) => i32bin!(d, a, b, |x, y| x < y),
                Op::I32LtU(d, a, b) => i32bin!(d, a, b, |x, y| (x as u32) < (y as u32)),
                Op::I32GtS(d, a, b) => i32bin!(d, a, b, |x, y| x > y),
                Op::I32GtU(d, a, b) => i32bin!(d, a, b, |x, y| (x as u32) > (y as u32)),
                Op::I32LeS(d, a, b) => i32bin!(d, a, b, |x, y| x <= y),
                Op::I32LeU(d, a, b) => i32bin!(d, a, b, |x, y| (x as u32) <= (y as u32)),
                Op::I32GeS(d, a, b) => i32bin!(d, a, b, |x, y| x >= y),
                Op::I32GeU(d, a, b) => i32bin!(d, a, b, |x, y| (x as u32) >= (y as u32)),
                Op::I32Clz(d, a) => w!(d, u64::from((r!(a) as u32).leading_zeros())),
                Op::I32Ctz(d, a) => w!(d, u64::from((r!(a) as u32).trailing_zeros())),
                Op::I32Popcnt(d, a) => w!(d, u64::from((r!(a) as u32).count_ones())),
                Op::I32Add(d, a, b) => i32bin!(d, a, b, |x, y| x.wrapping_add(y)),
                Op::I32Sub(d, a, b) => i32bin!(d, a, b, |x, y| x.wrapping_sub(y)),
                Op::I32Mul(d, a, b) => i32bin!(d, a, b, |x, y| x.wrapping_mul(y)),
                Op::I32DivS(d, a, b) => {
                    let (x, y) = (r!(a) as u32 as i32, r!(b) as u32 as i32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    if x == i32::MIN && y == -1 {
                        trap!(TrapCode::IntegerOverflow);
                    }
                    w!(d, (x / y) as u32 as u64);
                }
                Op::I32DivU(d, a, b) => {
                    let (x, y) = (r!(a) as u32, r!(b) as u32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, u64::from(x / y));
                }
                Op::I32RemS(d, a, b) => {
                    let (x, y) = (r!(a) as u32 as i32, r!(b) as u32 as i32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, x.wrapping_rem(y) as u32 as u64);
                }
                Op::I32RemU(d, a, b) => {
                    let (x, y) = (r!(a) as u32, r!(b) as u32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, u64::from(x % y));
                }
                Op::I32And(d, a, b) => i32bin!(d, a, b, |x, y| x & y),
                Op::I32Or(d, a, b) => i32bin!(d, a, b, |x, y| x | y),
                Op::I32Xor(d, a, b) => i32bin!(d, a, b, |x, y| x ^ y),
                Op::I32Shl(d, a, b) => i32bin!(d, a, b, |x, y| x.wrapping_shl(y as u32)),
                Op::I32ShrS(d, a, b) => i32bin!(d, a, b, |x, y| x.wrapping_shr(y as u32)),
                Op::I32ShrU(d, a, b) => {
                    i32bin!(d, a, b, |x, y| (x as u32).wrapping_shr(y as u32))
                }
                Op::I32Rotl(d, a, b) => {
                    i32bin!(d, a, b, |x, y| (x as u32).rotate_left(y as u32 & 31))
                }
                Op::I32Rotr(d, a, b) => {
                    i32bin!(d, a, b, |x, y| (x as u32).rotate_right(y as u32 & 31))
                }
                Op::I32EqImm(d, a, c) => i32imm!(d, a, c, |x, y| x == y),
                Op::I32NeImm(d, a, c) => i32imm!(d, a, c, |x, y| x != y),
                Op::I32LtSImm(d, a, c) => i32imm!(d, a, c, |x, y| x < y),
                Op::I32LtUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) < (y as u32)),
                Op::I32GtSImm(d, a, c) => i32imm!(d, a, c, |x, y| x > y),
                Op::I32GtUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) > (y as u32)),
                Op::I32LeSImm(d, a, c) => i32imm!(d, a, c, |x, y| x <= y),
                Op::I32LeUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) <= (y as u32)),
                Op::I32GeSImm(d, a, c) => i32imm!(d, a, c, |x, y| x >= y),
                Op::I32GeUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) >= (y as u32)),
                Op::I32AddImm(d, a, c) => i32imm!(d, a, c, |x, y| x.wrapping_add(y)),
                Op::I32MulImm(d, a, c) => i32imm!(d, a, c, |x, y| x.wrapping_mul(y)),
                Op::I32DivSImm(d, a, c) => i32imm!(d, a, c, |x, y| x / y),
                Op::I32DivUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) / (y as u32)),
                Op::I32RemSImm(d, a, c) => i32imm!(d, a, c, |x, y| x % y),
                Op::I32RemUImm(d, a, c) => i32imm!(d, a, c, |x, y| (x as u32) % (y as u32)),
                Op::I32AndImm(d, a, c) => i32imm!(d, a, c, |x, y| x & y),
                Op::I32OrImm(d, a, c) => i32imm!(d, a, c, |x, y| x | y),
                Op::I32XorImm(d, a, c) => i32imm!(d, a, c, |x, y| x ^ y),
                Op::I32ShlImm(d, a, c) => i32imm!(d, a, c, |x, y| x.wrapping_shl(y as u32)),
                Op::I32ShrSImm(d, a, c) => i32imm!(d, a, c, |x, y| x.wrapping_shr(y as u32)),
                Op::I32ShrUImm(d, a, c) => {
                    i32imm!(d, a, c, |x, y| (x as u32).wrapping_shr(y as u32))
                }
                Op::I32RotlImm(d, a, c) => {
                    i32imm!(d, a, c, |x, y| (x as u32).rotate_left(y as u32 & 31))
                }
                Op::I32RotrImm(d, a, c) => {
                    i32imm!(d, a, c, |x, y| (x as u32).rotate_right(y as u32 & 31))
                }
                Op::I32SubImmRev(d, a, c) => i32imm!(d, a, c, |x, y| y.wrapping_sub(x)),

                Op::I64Eqz(d, a) => w!(d, u64::from(r!(a) == 0)),
                Op::I64Eq(d, a, b) => i64bin!(d, a, b, |x, y| x == y),
                Op::I64Ne(d, a, b) => i64bin!(d, a, b, |x, y| x != y),
                Op::I64LtS(d, a, b) => i64bin!(d, a, b, |x, y| x < y),
                Op::I64LtU(d, a, b) => i64bin!(d, a, b, |x, y| (x as u64) < (y as u64)),
                Op::I64GtS(d, a, b) => i64bin!(d, a, b, |x, y| x > y),
                Op::I64GtU(d, a, b) => i64bin!(d, a, b, |x, y| (x as u64) > (y as u64)),
                Op::I64LeS(d, a, b) => i64bin!(d, a, b, |x, y| x <= y),
                Op::I64LeU(d, a, b) => i64bin!(d, a, b, |x, y| (x as u64) <= (y as u64)),
                Op::I64GeS(d, a, b) => i64bin!(d, a, b, |x, y| x >= y),
                Op::I64GeU(d, a, b) => i64bin!(d, a, b, |x, y| (x as u64) >= (y as u64)),
                Op::I64Clz(d, a) => w!(d, u64::from(r!(a).leading_zeros())),
                Op::I64Ctz(d, a) => w!(d, u64::from(r!(a).trailing_zeros())),
                Op::I64Popcnt(d, a) => w!(d, u64::from(r!(a).count_ones())),
                Op::I64Add(d, a, b) => i64bin!(d, a, b, |x, y| x.wrapping_add(y)),
                Op::I64Sub(d, a, b) => i64bin!(d, a, b, |x, y| x.wrapping_sub(y)),
                Op::I64Mul(d, a, b) => i64bin!(d, a, b, |x, y| x.wrapping_mul(y)),
                Op::I64DivS(d, a, b) => {
                    let (x, y) = (r!(a) as i64, r!(b) as i64);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    if x == i64::MIN && y == -1 {
                        trap!(TrapCode::IntegerOverflow);
                    }
                    w!(d, (x / y) as u64);
                }
                Op::I64DivU(d, a, b) => {
                    let (x, y) = (r!(a), r!(b));
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, x / y);
                }
                Op::I64RemS(d, a, b) => {
                    let (x, y) = (r!(a) as i64, r!(b) as i64);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, x.wrapping_rem(y) as u64);
                }
                Op::I64RemU(d, a, b) => {
                    let (x, y) = (r!(a), r!(b));
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero);
                    }
                    w!(d, x % y);
                }
                Op::I64And(d, a, b) => i64bin!(d, a, b, |x, y| x & y),
                Op::I64Or(d, a, b) => i64bin!(d, a, b, |x, y| x | y),
                Op::I64Xor(d, a, b) => i64bin!(d, a, b, |x, y| x ^ y),
                Op::I64Shl(d, a, b) => i64bin!(d, a, b, |x, y| x.wrapping_shl(y as u32)),
                Op::I64ShrS(d, a, b) => i64bin!(d, a, b, |x, y| x.wrapping_shr(y as u32)),
                Op::I64ShrU(d, a, b) => {
                    i64bin!(d, a, b, |x, y| (x as u64).wrapping_shr(y as u32))
                }
                Op::I64Rotl(d, a, b) => {
                    i64bin!(d, a, b, |x, y| (x as u64).rotate_left(y as u32 & 63))
                }
                Op::I64Rotr(d, a, b) => {
                    i64bin!(d, a, b, |x, y| (x as u64).rotate_right(y as u32 & 63))
                }
                Op::I64EqImm(d, a, c) => i64imm!(d, a, c, |x, y| x == y),
                Op::I64NeImm(d, a, c) => i64imm!(d, a, c, |x, y| x != y),
                Op::I64LtSImm(d, a, c) => i64imm!(d, a, c, |x, y| x < y),
                Op::I64LtUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) < (y as u64)),
                Op::I64GtSImm(d, a, c) => i64imm!(d, a, c, |x, y| x > y),
                Op::I64GtUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) > (y as u64)),
                Op::I64LeSImm(d, a, c) => i64imm!(d, a, c, |x, y| x <= y),
                Op::I64LeUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) <= (y as u64)),
                Op::I64GeSImm(d, a, c) => i64imm!(d, a, c, |x, y| x >= y),
                Op::I64GeUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) >= (y as u64)),
                Op::I64AddImm(d, a, c) => i64imm!(d, a, c, |x, y| x.wrapping_add(y)),
                Op::I64MulImm(d, a, c) => i64imm!(d, a, c, |x, y| x.wrapping_mul(y)),
                Op::I64DivSImm(d, a, c) => i64imm!(d, a, c, |x, y| x / y),
                Op::I64DivUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) / (y as u64)),
                Op::I64RemSImm(d, a, c) => i64imm!(d, a, c, |x, y| x % y),
                Op::I64RemUImm(d, a, c) => i64imm!(d, a, c, |x, y| (x as u64) % (y as u64)),
                Op::I64AndImm(d, a, c) => i64imm!(d, a, c, |x, y| x & y),
                Op::I64OrImm(d, a, c) => i64imm!(d, a, c, |x, y| x | y),
                Op::I64XorImm(d, a, c) => i64imm!(d, a, c, |x, y| x ^ y),
                Op::I64ShlImm(d, a, c) => i64imm!(d, a, c, |x, y| x.wrapping_shl(y as u32)),
                Op::I64ShrSImm(d, a, c) => i64imm!(d, a, c, |x, y| x.wrapping_shr(y as u32)),
                Op::I64ShrUImm(d, a, c) => {
                    i64imm!(d, a, c, |x, y| (x as u64).wrapping_shr(y as u32))
                }
                Op::I64RotlImm(d, a, c) => {
                    i64imm!(d, a, c, |x, y| (x as u64).rotate_left(y as u32 & 63))
                }
                Op::I64RotrImm(d, a, c) => {
                    i64imm!(d, a, c, |x, y| (x as u64).rotate_right(y as u32 & 63))
                }
                Op::I64SubImmRev(d, a, c) => i64imm!(d, a, c, |x, y| y.wrapping_sub(x)),

                Op::F32Eq(d, a, b) => f32cmp!(d, a, b, |x, y| x == y),
                Op::F32Ne(d, a, b) => f32cmp!(d, a, b, |x, y| x != y),
                Op::F32Lt(d, a, b) => f32cmp!(d, a, b, |x, y| x < y),
                Op::F32Gt(d, a, b) => f32cmp!(d, a, b, |x, y| x > y),
                Op::F32Le(d, a, b) => f32cmp!(d, a, b, |x, y| x <= y),
                Op::F32Ge(d, a, b) => f32cmp!(d, a, b, |x, y| x >= y),
                Op::F32Abs(d, a) => w!(d, r!(a) & 0x7fff_ffff),
                Op::F32Neg(d, a) => w!(d, (r!(a) as u32 ^ 0x8000_0000) as u64),
                Op::F32Ceil(d, a) => f32un!(d, a, |x| f32ops::ceil(x)),
                Op::F32Floor(d, a) => f32un!(d, a, |x| f32ops::floor(x)),
                Op::F32Trunc(d, a) => f32un!(d, a, |x| f32ops::trunc(x)),
                Op::F32Nearest(d, a) => f32un!(d, a, |x| f32ops::nearest(x)),
                Op::F32Sqrt(d, a) => f32un!(d, a, |x| f32ops::sqrt(x)),
                Op::F32Add(d, a, b) => f32bin!(d, a, b, |x, y| x + y),
                Op::F32Sub(d, a, b) => f32bin!(d, a, b, |x, y| x - y),
                Op::F32Mul(d, a, b) => f32bin!(d, a, b, |x, y| x * y),
                Op::F32Div(d, a, b) => f32bin!(d, a, b, |x, y| x / y),
                Op::F32Min(d, a, b) => f32bin!(d, a, b, |x, y| f32ops::min(x, y)),
                Op::F32Max(d, a, b) => f32bin!(d, a, b, |x, y| f32ops::max(x, y)),
                Op::F32Copysign(d, a, b) => {
                    let (x, y) = (r!(a) as u32, r!(b) as u32);
                    w!(d, u64::from((x & 0x7fff_ffff) | (y & 0x8000_0000)));
                }

                Op::F64Eq(d, a, b) => f64cmp!(d, a, b, |x, y| x == y),
                Op::F64Ne(d, a, b) => f64cmp!(d, a, b, |x, y| x != y),
                Op::F64Lt(d, a, b) => f64cmp!(d, a, b, |x, y| x < y),
                Op::F64Gt(d, a, b) => f64cmp!(d, a, b, |x, y| x > y),
                Op::F64Le(d, a, b) => f64cmp!(d, a, b, |x, y| x <= y),
                Op::F64Ge(d, a, b) => f64cmp!(d, a, b, |x, y| x >= y),
                Op::F64Abs(d, a) => w!(d, r!(a) & 0x7fff_ffff_ffff_ffff),
                Op::F64Neg(d, a) => w!(d, r!(a) ^ 0x8000_0000_0000_0000),
                Op::F64Ceil(d, a) => f64un!(d, a, |x| f64ops::ceil(x)),
                Op::F64Floor(d, a) => f64un!(d, a, |x| f64ops::floor(x)),
                Op::F64Trunc(d, a) => f64un!(d, a, |x| f64ops::trunc(x)),
                Op::F64Nearest(d, a) => f64un!(d, a, |x| f64ops::nearest(x)),
                Op::F64Sqrt(d, a) => f64un!(d, a, |x| f64ops::sqrt(x)),
                Op::F64Add(d, a, b) => f64bin!(d, a, b, |x, y| x + y),
                Op::F64Sub(d, a, b) => f64bin!(d, a, b, |x, y| x - y),
                Op::F64Mul(d, a, b) => f64bin!(d, a, b, |x, y| x * y),
                Op::F64Div(d, a, b) => f64bin!(d, a, b, |x, y| x / y),
                Op::F64Min(d, a, b) => f64bin!(d, a, b, |x, y| f64ops::min(x, y)),
                Op::F64Max(d, a, b) => f64bin!(d, a, b, |x, y| f64ops::max(x, y)),
                Op::F64Copysign(d, a, b) => {
                    let (x, y) = (r!(a), r!(b));
                    w!(d, (x & 0x7fff_ffff_ffff_ffff) | (y & 0x8000_0000_0000_0000));
                }

                Op::I32WrapI64(d, a) => w!(d, r!(a) as u32 as u64),
                Op::I32TruncF32S(d, a) => trunc!(d, a, f32, float::I32_S, i32, u32),
                Op::I32TruncF32U(d, a) => trunc!(d, a, f32, float::I32_U, u32, u32),
                Op::I32TruncF64S(d, a) => trunc!(d, a, f64, float::I32_S, i32, u32),
                Op::I32TruncF64U(d, a) => trunc!(d, a, f64, float::I32_U, u32, u32),
                Op::I64ExtendI32S(d, a) => w!(d, r!(a) as u32 as i32 as i64 as u64),
                Op::I64ExtendI32U(d, a) => w!(d, r!(a) as u32 as u64),
                Op::I64TruncF32S(d, a) => trunc!(d, a, f32, float::I64_S, i64, u64),
                Op::I64TruncF32U(d, a) => trunc!(d, a, f32, float::I64_U, u64, u64),
                Op::I64TruncF64S(d, a) => trunc!(d, a, f64, float::I64_S, i64, u64),
                Op::I64TruncF64U(d, a) => trunc!(d, a, f64, float::I64_U, u64, u64),
                Op::F32ConvertI32S(d, a) => {
                    w!(d, u64::from((r!(a) as u32 as i32 as f32).to_bits()))
                }
                Op::F32ConvertI32U(d, a) => w!(d, u64::from((r!(a) as u32 as f32).to_bits())),
                Op::F32ConvertI64S(d, a) => w!(d, u64::from((r!(a) as i64 as f32).to_bits())),
                Op::F32ConvertI64U(d, a) => w!(d, u64::from((r!(a) as f32).to_bits())),
                Op::F32DemoteF64(d, a) => {
                    w!(d, u64::from((f64::from_bits(r!(a)) as f32).to_bits()))
                }
                Op::F64ConvertI32S(d, a) => w!(d, (r!(a) as u32 as i32 as f64).to_bits()),
                Op::F64ConvertI32U(d, a) => w!(d, (r!(a) as u32 as f64).to_bits()),
                Op::F64ConvertI64S(d, a) => w!(d, (r!(a) as i64 as f64).to_bits()),
                Op::F64ConvertI64U(d, a) => w!(d, (r!(a) as f64).to_bits()),
                Op::F64PromoteF32(d, a) => {
                    w!(d, f64::from(f32::from_bits(r!(a) as u32)).to_bits())
                }
                Op::I32Extend8S(d, a) => w!(d, r!(a) as u8 as i8 as i32 as u32 as u64),
                Op::I32Extend16S(d, a) => w!(d, r!(a) as u16 as i16 as i32 as u32 as u64),
                Op::I64Extend8S(d, a) => w!(d, r!(a) as u8 as i8 as i64 as u64),
                Op::I64Extend16S(d, a) => w!(d, r!(a) as u16 as i16 as i64 as u64),
                Op::I64Extend32S(d, a) => w!(d, r!(a) as u32 as i32 as i64 as u64),
                Op::I32TruncSatF32S(d, a) => {
                    w!(d, f32::from_bits(r!(a) as u32) as i32 as u32 as u64)
                }
                Op::I32TruncSatF32U(d, a) => w!(d, u64::from(f32::from_bits(r!(a) as u32) as u32)),
                Op::I32TruncSatF64S(d, a) => w!(d, f64::from_bits(r!(a)) as i32 as u32 as u64),
                Op::I32TruncSatF64U(d, a) => w!(d, u64::from(f64::from_bits(r!(a)) as u32)),
                Op::I64TruncSatF32S(d, a) => w!(d, f32::from_bits(r!(a) as u32) as i64 as u64),
                Op::I64TruncSatF32U(d, a) => w!(d, f32::from_bits(r!(a) as u32) as u64),
                Op::I64TruncSatF64S(d, a) => w!(d, f64::from_bits(r!(a)) as i64 as u64),
                Op::I64TruncSatF64U(d, a) => w!(d, f64::from_bits(r!(a)) as u64),

                Op::V128Const { dst, index } => wv!(dst, pool!(index)),
                Op::V128Load(d, a, o) => wv!(d, load!(u128, a, o)),
                Op::V128Load8x8S(d, a, o) => {
                    wv!(
                        d,
                        simd::i16x8_extend_low_i8x16_s(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load8x8U(d, a, o) => {
                    wv!(
                        d,
                        simd::i16x8_extend_low_i8x16_u(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load16x4S(d, a, o) => {
                    wv!(
                        d,
                        simd::i32x4_extend_low_i16x8_s(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load16x4U(d, a, o) => {
                    wv!(
                        d,
                        simd::i32x4_extend_low_i16x8_u(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load32x2S(d, a, o) => {
                    wv!(
                        d,
                        simd::i64x2_extend_low_i32x4_s(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load32x2U(d, a, o) => {
                    wv!(
                        d,
                        simd::i64x2_extend_low_i32x4_u(u128::from(load!(u64, a, o)))
                    )
                }
                Op::V128Load8Splat(d, a, o) => {
                    wv!(d, simd::i8x16_splat(u64::from(load!(u8, a, o))))
                }
                Op::V128Load16Splat(d, a, o) => {
                    wv!(d, simd::i16x8_splat(u64::from(load!(u16, a, o))))
                }
                Op::V128Load32Splat(d, a, o) => {
                    wv!(d, simd::i32x4_splat(u64::from(load!(u32, a, o))))
                }
                Op::V128Load64Splat(d, a, o) => wv!(d, simd::i64x2_splat(load!(u64, a, o))),
                Op::V128Load32Zero(d, a, o) => wv!(d, u128::from(load!(u32, a, o))),
                Op::V128Load64Zero(d, a, o) => wv!(d, u128::from(load!(u64, a, o))),
                Op::V128Store(a, s, o) => store_mem!(u128, a, o, rv!(s)),
                Op::V128Load8Lane {
                    dst,
                    base,
                    offset,
                    lane,
                } => {
                    let x = u64::from(load!(u8, base, offset));
                    wv!(
                        dst,
                        simd::i8x16_replace_lane(rv!(base + 1), u32::from(lane), x)
                    );
                }
                Op::V128Load16Lane {
                    dst,
                    base,
                    offset,
                    lane,
                } => {
                    let x = u64::from(load!(u16, base, offset));
                    wv!(
                        dst,
                        simd::i16x8_replace_lane(rv!(base + 1), u32::from(lane), x)
                    );
                }
                Op::V128Load32Lane {
                    dst,
                    base,
                    offset,
                    lane,
                } => {
                    let x = u64::from(load!(u32, base, offset));
                    wv!(
                        dst,
                        simd::i32x4_replace_lane(rv!(base + 1), u32::from(lane), x)
                    );
                }
                Op::V128Load64Lane {
                    dst,
                    base,
                    offset,
                    lane,
                } => {
                    let x = load!(u64, base, offset);
                    wv!(
                        dst,
                        simd::i64x2_replace_lane(rv!(base + 1), u32::from(lane), x)
                    );
                }
                Op::V128Store8Lane {
                    addr,
                    src,
                    offset,
                    lane,
                } => {
                    let x = simd::i8x16_extract_lane_u(rv!(src), u32::from(lane));
                    store_mem!(u8, addr, offset, x as u8);
                }
                Op::V128Store16Lane {
                    addr,
                    src,
                    offset,
                    lane,
                } => {
                    let x = simd::i16x8_extract_lane_u(rv!(src), u32::from(lane));
                    store_mem!(u16, addr, offset, x as u16);
                }
                Op::V128Store32Lane {
                    addr,
                    src,
                    offset,
                    lane,
                } => {
                    let x = simd::i32x4_extract_lane(rv!(src), u32::from(lane));
                    store_mem!(u32, addr, offset, x as u32);
                }
                Op::V128Store64Lane {
                    addr,
                    src,
                    offset,
                    lane,
                } => {
                    let x = simd::i64x2_extract_lane(rv!(src), u32::from(lane));
                    store_mem!(u64, addr, offset, x);
                }
                Op::I8x16ExtractLaneS(d, a, l) => w!(d, simd::i8x16_extract_lane_s(rv!(a), l)),
                Op::I8x16ExtractLaneU(d, a, l) => w!(d, simd::i8x16_extract_lane_u(rv!(a), l)),
                Op::I16x8ExtractLaneS(d, a, l) => w!(d, simd::i16x8_extract_lane_s(rv!(a), l)),
                Op::I16x8ExtractLaneU(d, a, l) => w!(d, simd::i16x8_extract_lane_u(rv!(a), l)),
                Op::I32x4ExtractLane(d, a, l) => w!(d, simd::i32x4_extract_lane(rv!(a), l)),
                Op::I64x2ExtractLane(d, a, l) => w!(d, simd::i64x2_extract_lane(rv!(a), l)),
                Op::I8x16ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                } => wv!(
                    dst,
                    simd::i8x16_replace_lane(rv!(src), u32::from(lane), r!(value))
                ),
                Op::I16x8ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                } => wv!(
                    dst,
                    simd::i16x8_replace_lane(rv!(src), u32::from(lane), r!(value))
                ),
                Op::I32x4ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                } => wv!(
                    dst,
                    simd::i32x4_replace_lane(rv!(src), u32::from(lane), r!(value))
                ),
                Op::I64x2ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                } => wv!(
                    dst,
                    simd::i64x2_replace_lane(rv!(src), u32::from(lane), r!(value))
                ),
                Op::I8x16Shuffle { dst, lhs, mask } => {
                    let (x, y) = (rv!(lhs), rv!(lhs + 2));
                    wv!(dst, simd::i8x16_shuffle(x, y, pool!(mask)));
                }
                Op::V128Bitselect(d, base) => {
                    let (x, y, m) = (rv!(base), rv!(base + 2), rv!(base + 4));
                    wv!(d, simd::v128_bitselect(x, y, m));
                }
                Op::I8x16Swizzle(d, a, b) => vbin!(d, a, b, simd::i8x16_swizzle),
                Op::I8x16Splat(d, a) => vsplat!(d, a, simd::i8x16_splat),
                Op::I16x8Splat(d, a) => vsplat!(d, a, simd::i16x8_splat),
                Op::I32x4Splat(d, a) => vsplat!(d, a, simd::i32x4_splat),
                Op::I64x2Splat(d, a) => vsplat!(d, a, simd::i64x2_splat),
                Op::I8x16Eq(d, a, b) => vbin!(d, a, b, simd::i8x16_eq),
                Op::I8x16Ne(d, a, b) => vbin!(d, a, b, simd::i8x16_ne),
                Op::I8x16LtS(d, a, b) => vbin!(d, a, b, simd::i8x16_lt_s),
                Op::I8x16LtU(d, a, b) => vbin!(d, a, b, simd::i8x16_lt_u),
                Op::I8x16GtS(d, a, b) => vbin!(d, a, b, simd::i8x16_gt_s),
                Op::I8x16GtU(d, a, b) => vbin!(d, a, b, simd::i8x16_gt_u),
                Op::I8x16LeS(d, a, b) => vbin!(d, a, b, simd::i8x16_le_s),
                Op::I8x16LeU(d, a, b) => vbin!(d, a, b, simd::i8x16_le_u),
                Op::I8x16GeS(d, a, b) => vbin!(d, a, b, simd::i8x16_ge_s),
                Op::I8x16GeU(d, a, b) => vbin!(d, a, b, simd::i8x16_ge_u),
                Op::I16x8Eq(d, a, b) => vbin!(d, a, b, simd::i16x8_eq),
                Op::I16x8Ne(d, a, b) => vbin!(d, a, b, simd::i16x8_ne),
                Op::I16x8LtS(d, a, b) => vbin!(d, a, b, simd::i16x8_lt_s),
                Op::I16x8LtU(d, a, b) => vbin!(d, a, b, simd::i16x8_lt_u),
                Op::I16x8GtS(d, a, b) => vbin!(d, a, b, simd::i16x8_gt_s),
                Op::I16x8GtU(d, a, b) => vbin!(d, a, b, simd::i16x8_gt_u),
                Op::I16x8LeS(d, a, b) => vbin!(d, a, b, simd::i16x8_le_s),
                Op::I16x8LeU(d, a, b) => vbin!(d, a, b, simd::i16x8_le_u),
                Op::I16x8GeS(d, a, b) => vbin!(d, a, b, simd::i16x8_ge_s),
                Op::I16x8GeU(d, a, b) => vbin!(d, a, b, simd::i16x8_ge_u),
                Op::I32x4Eq(d, a, b) => vbin!(d, a, b, simd::i32x4_eq),
                Op::I32x4Ne(d, a, b) => vbin!(d, a, b, simd::i32x4_ne),
                Op::I32x4LtS(d, a, b) => vbin!(d, a, b, simd::i32x4_lt_s),
                Op::I32x4LtU(d, a, b) => vbin!(d, a, b, simd::i32x4_lt_u),
                Op::I32x4GtS(d, a, b) => vbin!(d, a, b, simd::i32x4_gt_s),
                Op::I32x4GtU(d, a, b) => vbin!(d, a, b, simd::i32x4_gt_u),
                Op::I32x4LeS(d, a, b) => vbin!(d, a, b, simd::i32x4_le_s),
                Op::I32x4LeU(d, a, b) => vbin!(d, a, b, simd::i32x4_le_u),
                Op::I32x4GeS(d, a, b) => vbin!(d, a, b, simd::i32x4_ge_s),
                Op::I32x4GeU(d, a, b) => vbin!(d, a, b, simd::i32x4_ge_u),
                Op::F32x4Eq(d, a, b) => vbin!(d, a, b, simd::f32x4_eq),
                Op::F32x4Ne(d, a, b) => vbin!(d, a, b, simd::f32x4_ne),
                Op::F32x4Lt(d, a, b) => vbin!(d, a, b, simd::f32x4_lt),
                Op::F32x4Gt(d, a, b) => vbin!(d, a, b, simd::f32x4_gt),
                Op::F32x4Le(d, a, b) => vbin!(d, a, b, simd::f32x4_le),
                Op::F32x4Ge(d, a, b) => vbin!(d, a, b, simd::f32x4_ge),
                Op::F64x2Eq(d, a, b) => vbin!(d, a, b, simd::f64x2_eq),
                Op::F64x2Ne(d, a, b) => vbin!(d, a, b, simd::f64x2_ne),
                Op::F64x2Lt(d, a, b) => vbin!(d, a, b, simd::f64x2_lt),
                Op::F64x2Gt(d, a, b) => vbin!(d, a, b, simd::f64x2_gt),
                Op::F64x2Le(d, a, b) => vbin!(d, a, b, simd::f64x2_le),
                Op::F64x2Ge(d, a, b) => vbin!(d, a, b, simd::f64x2_ge),
                Op::V128Not(d, a) => vun!(d, a, simd::v128_not),
                Op::V128And(d, a, b) => vbin!(d, a, b, simd::v128_and),
                Op::V128AndNot(d, a, b) => vbin!(d, a, b, simd::v128_and_not),
                Op::V128Or(d, a, b) => vbin!(d, a, b, simd::v128_or),
                Op::V128Xor(d, a, b) => vbin!(d, a, b, simd::v128_xor),
                Op::V128AnyTrue(d, a) => vtest!(d, a, simd::v128_any_true),
                Op::F32x4DemoteF64x2Zero(d, a) => vun!(d, a, simd::f32x4_demote_f64x2_zero),
                Op::F64x2PromoteLowF32x4(d, a) => vun!(d, a, simd::f64x2_promote_low_f32x4),
                Op::I8x16Abs(d, a) => vun!(d, a, simd::i8x16_abs),
                Op::I8x16Neg(d, a) => vun!(d, a, simd::i8x16_neg),
                Op::I8x16Popcnt(d, a) => vun!(d, a, simd::i8x16_popcnt),
                Op::I8x16AllTrue(d, a) => vtest!(d, a, simd::i8x16_all_true),
                Op::I8x16Bitmask(d, a) => vtest!(d, a, simd::i8x16_bitmask),
                Op::I8x16NarrowI16x8S(d, a, b) => vbin!(d, a, b, simd::i8x16_narrow_i16x8_s),
                Op::I8x16NarrowI16x8U(d, a, b) => vbin!(d, a, b, simd::i8x16_narrow_i16x8_u),
                Op::F32x4Ceil(d, a) => vun!(d, a, simd::f32x4_ceil),
                Op::F32x4Floor(d, a) => vun!(d, a, simd::f32x4_floor),
                Op::F32x4Trunc(d, a) => vun!(d, a, simd::f32x4_trunc),
                Op::F32x4Nearest(d, a) => vun!(d, a, simd::f32x4_nearest),
                Op::I8x16Shl(d, a, b) => vshift!(d, a, b, simd::i8x16_shl),
                Op::I8x16ShrS(d, a, b) => vshift!(d, a, b, simd::i8x16_shr_s),
                Op::I8x16ShrU(d, a, b) => vshift!(d, a, b, simd::i8x16_shr_u),
                Op::I8x16Add(d, a, b) => vbin!(d, a, b, simd::i8x16_add),
                Op::I8x16AddSatS(d, a, b) => vbin!(d, a, b, simd::i8x16_add_sat_s),
                Op::I8x16AddSatU(d, a, b) => vbin!(d, a, b, simd::i8x16_add_sat_u),
                Op::I8x16Sub(d, a, b) => vbin!(d, a, b, simd::i8x16_sub),
                Op::I8x16SubSatS(d, a, b) => vbin!(d, a, b, simd::i8x16_sub_sat_s),
                Op::I8x16SubSatU(d, a, b) => vbin!(d, a, b, simd::i8x16_sub_sat_u),
                Op::F64x2Ceil(d, a) => vun!(d, a, simd::f64x2_ceil),
                Op::F64x2Floor(d, a) => vun!(d, a, simd::f64x2_floor),
                Op::I8x16MinS(d, a, b) => vbin!(d, a, b, simd::i8x16_min_s),
                Op::I8x16MinU(d, a, b) => vbin!(d, a, b, simd::i8x16_min_u),
                Op::I8x16MaxS(d, a, b) => vbin!(d, a, b, simd::i8x16_max_s),
                Op::I8x16MaxU(d, a, b) => vbin!(d, a, b, simd::i8x16_max_u),
                Op::F64x2Trunc(d, a) => vun!(d, a, simd::f64x2_trunc),
                Op::I8x16AvgrU(d, a, b) => vbin!(d, a, b, simd::i8x16_avgr_u),
                Op::I16x8ExtaddPairwiseI8x16S(d, a) => {
                    vun!(d, a, simd::i16x8_extadd_pairwise_i8x16_s)
                }
                Op::I16x8ExtaddPairwiseI8x16U(d, a) => {
                    vun!(d, a, simd::i16x8_extadd_pairwise_i8x16_u)
                }
                Op::I32x4ExtaddPairwiseI16x8S(d, a) => {
                    vun!(d, a, simd::i32x4_extadd_pairwise_i16x8_s)
                }
                Op::I32x4ExtaddPairwiseI16x8U(d, a) => {
                    vun!(d, a, simd::i32x4_extadd_pairwise_i16x8_u)
                }
                Op::I16x8Abs(d, a) => vun!(d, a, simd::i16x8_abs),
                Op::I16x8Neg(d, a) => vun!(d, a, simd::i16x8_neg),
                Op::I16x8Q15mulrSatS(d, a, b) => vbin!(d, a, b, simd::i16x8_q15mulr_sat_s),
                Op::I16x8AllTrue(d, a) => vtest!(d, a, simd::i16x8_all_true),
                Op::I16x8Bitmask(d, a) => vtest!(d, a, simd::i16x8_bitmask),
                Op::I16x8NarrowI32x4S(d, a, b) => vbin!(d, a, b, simd::i16x8_narrow_i32x4_s),
                Op::I16x8NarrowI32x4U(d, a, b) => vbin!(d, a, b, simd::i16x8_narrow_i32x4_u),
                Op::I16x8ExtendLowI8x16S(d, a) => vun!(d, a, simd::i16x8_extend_low_i8x16_s),
                Op::I16x8ExtendHighI8x16S(d, a) => vun!(d, a, simd::i16x8_extend_high_i8x16_s),
                Op::I16x8ExtendLowI8x16U(d, a) => vun!(d, a, simd::i16x8_extend_low_i8x16_u),
                Op::I16x8ExtendHighI8x16U(d, a) => vun!(d, a, simd::i16x8_extend_high_i8x16_u),
                Op::I16x8Shl(d, a, b) => vshift!(d, a, b, simd::i16x8_shl),
                Op::I16x8ShrS(d, a, b) => vshift!(d, a, b, simd::i16x8_shr_s),
                Op::I16x8ShrU(d, a, b) => vshift!(d, a, b, simd::i16x8_shr_u),
                Op::I16x8Add(d, a, b) => vbin!(d, a, b, simd::i16x8_add),
                Op::I16x8AddSatS(d, a, b) => vbin!(d, a, b, simd::i16x8_add_sat_s),
                Op::I16x8AddSatU(d, a, b) => vbin!(d, a, b, simd::i16x8_add_sat_u),
                Op::I16x8Sub(d, a, b) => vbin!(d, a, b, simd::i16x8_sub),
                Op::I16x8SubSatS(d, a, b) => vbin!(d, a, b, simd::i16x8_sub_sat_s),
                Op::I16x8SubSatU(d, a, b) => vbin!(d, a, b, simd::i16x8_sub_sat_u),
                Op::F64x2Nearest(d, a) => vun!(d, a, simd::f64x2_nearest),
                Op::I16x8Mul(d, a, b) => vbin!(d, a, b, simd::i16x8_mul),
                Op::I16x8MinS(d, a, b) => vbin!(d, a, b, simd::i16x8_min_s),
                Op::I16x8MinU(d, a, b) => vbin!(d, a, b, simd::i16x8_min_u),
                Op::I16x8MaxS(d, a, b) => vbin!(d, a, b, simd::i16x8_max_s),
                Op::I16x8MaxU(d, a, b) => vbin!(d, a, b, simd::i16x8_max_u),
                Op::I16x8AvgrU(d, a, b) => vbin!(d, a, b, simd::i16x8_avgr_u),
                Op::I16x8ExtmulLowI8x16S(d, a, b) => vbin!(d, a, b, simd::i16x8_extmul_low_i8x16_s),
                Op::I16x8ExtmulHighI8x16S(d, a, b) => {
                    vbin!(d, a, b, simd::i16x8_extmul_high_i8x16_s)
                }
                Op::I16x8ExtmulLowI8x16U(d, a, b) => vbin!(d, a, b, simd::i16x8_extmul_low_i8x16_u),
                Op::I16x8ExtmulHighI8x16U(d, a, b) => {
                    vbin!(d, a, b, simd::i16x8_extmul_high_i8x16_u)
                }
                Op::I32x4Abs(d, a) => vun!(d, a, simd::i32x4_abs),
                Op::I32x4Neg(d, a) => vun!(d, a, simd::i32x4_neg),
                Op::I32x4AllTrue(d, a) => vtest!(d, a, simd::i32x4_all_true),
                Op::I32x4Bitmask(d, a) => vtest!(d, a, simd::i32x4_bitmask),
                Op::I32x4ExtendLowI16x8S(d, a) => vun!(d, a, simd::i32x4_extend_low_i16x8_s),
                Op::I32x4ExtendHighI16x8S(d, a) => vun!(d, a, simd::i32x4_extend_high_i16x8_s),
                Op::I32x4ExtendLowI16x8U(d, a) => vun!(d, a, simd::i32x4_extend_low_i16x8_u),
                Op::I32x4ExtendHighI16x8U(d, a) => vun!(d, a, simd::i32x4_extend_high_i16x8_u),
                Op::I32x4Shl(d, a, b) => vshift!(d, a, b, simd::i32x4_shl),
                Op::I32x4ShrS(d, a, b) => vshift!(d, a, b, simd::i32x4_shr_s),
                Op::I32x4ShrU(d, a, b) => vshift!(d, a, b, simd::i32x4_shr_u),
                Op::I32x4Add(d, a, b) => vbin!(d, a, b, simd::i32x4_add),
                Op::I32x4Sub(d, a, b) => vbin!(d, a, b, simd::i32x4_sub),
                Op::I32x4Mul(d, a, b) => vbin!(d, a, b, simd::i32x4_mul),
                Op::I32x4MinS(d, a, b) => vbin!(d, a, b, simd::i32x4_min_s),
                Op::I32x4MinU(d, a, b) => vbin!(d, a, b, simd::i32x4_min_u),
                Op::I32x4MaxS(d, a, b) => vbin!(d, a, b, simd::i32x4_max_s),
                Op::I32x4MaxU(d, a, b) => vbin!(d, a, b, simd::i32x4_max_u),
                Op::I32x4DotI16x8S(d, a, b) => vbin!(d, a, b, simd::i32x4_dot_i16x8_s),
                Op::I32x4ExtmulLowI16x8S(d, a, b) => vbin!(d, a, b, simd::i32x4_extmul_low_i16x8_s),
                Op::I32x4ExtmulHighI16x8S(d, a, b) => {
                    vbin!(d, a, b, simd::i32x4_extmul_high_i16x8_s)
                }
                Op::I32x4ExtmulLowI16x8U(d, a, b) => vbin!(d, a, b, simd::i32x4_extmul_low_i16x8_u),
                Op::I32x4ExtmulHighI16x8U(d, a, b) => {
                    vbin!(d, a, b, simd::i32x4_extmul_high_i16x8_u)
                }
                Op::I64x2Abs(d, a) => vun!(d, a, simd::i64x2_abs),
                Op::I64x2Neg(d, a) => vun!(d, a, simd::i64x2_neg),
                Op::I64x2AllTrue(d, a) => vtest!(d, a, simd::i64x2_all_true),
                Op::I64x2Bitmask(d, a) => vtest!(d, a, simd::i64x2_bitmask),
                Op::I64x2ExtendLowI32x4S(d, a) => vun!(d, a, simd::i64x2_extend_low_i32x4_s),
                Op::I64x2ExtendHighI32x4S(d, a) => vun!(d, a, simd::i64x2_extend_high_i32x4_s),
                Op::I64x2ExtendLowI32x4U(d, a) => vun!(d, a, simd::i64x2_extend_low_i32x4_u),
                Op::I64x2ExtendHighI32x4U(d, a) => vun!(d, a, simd::i64x2_extend_high_i32x4_u),
                Op::I64x2Shl(d, a, b) => vshift!(d, a, b, simd::i64x2_shl),
                Op::I64x2ShrS(d, a, b) => vshift!(d, a, b, simd::i64x2_shr_s),
                Op::I64x2ShrU(d, a, b) => vshift!(d, a, b, simd::i64x2_shr_u),
                Op::I64x2Add(d, a, b) => vbin!(d, a, b, simd::i64x2_add),
                Op::I64x2Sub(d, a, b) => vbin!(d, a, b, simd::i64x2_sub),
                Op::I64x2Mul(d, a, b) => vbin!(d, a, b, simd::i64x2_mul),
                Op::I64x2Eq(d, a, b) => vbin!(d, a, b, simd::i64x2_eq),
                Op::I64x2Ne(d, a, b) => vbin!(d, a, b, simd::i64x2_ne),
                Op::I64x2LtS(d, a, b) => vbin!(d, a, b, simd::i64x2_lt_s),
                Op::I64x2GtS(d, a, b) => vbin!(d, a, b, simd::i64x2_gt_s),
                Op::I64x2LeS(d, a, b) => vbin!(d, a, b, simd::i64x2_le_s),
                Op::I64x2GeS(d, a, b) => vbin!(d, a, b, simd::i64x2_ge_s),
                Op::I64x2ExtmulLowI32x4S(d, a, b) => vbin!(d, a, b, simd::i64x2_extmul_low_i32x4_s),
                Op::I64x2ExtmulHighI32x4S(d, a, b) => {
                    vbin!(d, a, b, simd::i64x2_extmul_high_i32x4_s)
                }
                Op::I64x2ExtmulLowI32x4U(d, a, b) => vbin!(d, a, b, simd::i64x2_extmul_low_i32x4_u),
                Op::I64x2ExtmulHighI32x4U(d, a, b) => {
                    vbin!(d, a, b, simd::i64x2_extmul_high_i32x4_u)
                }
                Op::F32x4Abs(d, a) => vun!(d, a, simd::f32x4_abs),
                Op::F32x4Neg(d, a) => vun!(d, a, simd::f32x4_neg),
                Op::F32x4Sqrt(d, a) => vun!(d, a, simd::f32x4_sqrt),
                Op::F32x4Add(d, a, b) => vbin!(d, a, b, simd::f32x4_add),
                Op::F32x4Sub(d, a, b) => vbin!(d, a, b, simd::f32x4_sub),
                Op::F32x4Mul(d, a, b) => vbin!(d, a, b, simd::f32x4_mul),
                Op::F32x4Div(d, a, b) => vbin!(d, a, b, simd::f32x4_div),
                Op::F32x4Min(d, a, b) => vbin!(d, a, b, simd::f32x4_min),
                Op::F32x4Max(d, a, b) => vbin!(d, a, b, simd::f32x4_max),
                Op::F32x4Pmin(d, a, b) => vbin!(d, a, b, simd::f32x4_pmin),
                Op::F32x4Pmax(d, a, b) => vbin!(d, a, b, simd::f32x4_pmax),
                Op::F64x2Abs(d, a) => vun!(d, a, simd::f64x2_abs),
                Op::F64x2Neg(d, a) => vun!(d, a, simd::f64x2_neg),
                Op::F64x2Sqrt(d, a) => vun!(d, a, simd::f64x2_sqrt),
                Op::F64x2Add(d, a, b) => vbin!(d, a, b, simd::f64x2_add),
                Op::F64x2Sub(d, a, b) => vbin!(d, a, b, simd::f64x2_sub),
                Op::F64x2Mul(d, a, b) => vbin!(d, a, b, simd::f64x2_mul),
                Op::F64x2Div(d, a, b) => vbin!(d, a, b, simd::f64x2_div),
                Op::F64x2Min(d, a, b) => vbin!(d, a, b, simd::f64x2_min),
                Op::F64x2Max(d, a, b) => vbin!(d, a, b, simd::f64x2_max),
                Op::F64x2Pmin(d, a, b) => vbin!(d, a, b, simd::f64x2_pmin),
                Op::F64x2Pmax(d, a, b) => vbin!(d, a, b, simd::f64x2_pmax),
                Op::I32x4TruncSatF32x4S(d, a) => vun!(d, a, simd::i32x4_trunc_sat_f32x4_s),
                Op::I32x4TruncSatF32x4U(d, a) => vun!(d, a, simd::i32x4_trunc_sat_f32x4_u),
                Op::F32x4ConvertI32x4S(d, a) => vun!(d, a, simd::f32x4_convert_i32x4_s),
                Op::F32x4ConvertI32x4U(d, a) => vun!(d, a, simd::f32x4_convert_i32x4_u),
                Op::I32x4TruncSatF64x2SZero(d, a) => vun!(d, a, simd::i32x4_trunc_sat_f64x2_s_zero),
                Op::I32x4TruncSatF64x2UZero(d, a) => vun!(d, a, simd::i32x4_trunc_sat_f64x2_u_zero),
                Op::F64x2ConvertLowI32x4S(d, a) => vun!(d, a, simd::f64x2_convert_low_i32x4_s),
                Op::F64x2ConvertLowI32x4U(d, a) => vun!(d, a, simd::f64x2_convert_low_i32x4_u),
            }
            // The latch: every op that does not branch, call or return goes on with the
            // next one. (A return resumes at the caller's call op, stepped past here.)
            pc = pc.add(1);
        }
    }
}

/// How [`byte_compare_loop`] ended.
enum ByteLoop {
    /// The bytes at `a` and `b` differ: branch to the exit.
    Differ,
    /// `n` reached zero: go on after the loop.
    Done,
    /// The interrupt flag is set at the back edge (the registers are those the next
    /// iteration starts from).
    Interrupt,
    /// A load was out of bounds (the registers hold what the ops before it wrote).
    OutOfBounds,
}

/// Runs [`Op::ByteCompareLoop`] on the frame at `fp` with registers `[dst_a, dst_b, a,
/// b, n]`: each iteration loads `mem[a]` into `dst_a` and `mem[b]` into `dst_b` (each
/// bounds-checked against memory 0's `mem_len` bytes at `mem_base`), stops if they
/// differ, steps `a`, `b` and `n`, stops if `n` is zero, and checks `interrupt` on the
/// way back. Kept out of the interpreter loop: an inner loop in its arm made every
/// other op slower (docs/interpreter.md).
///
/// # Safety
/// The five registers must be slots of the frame at `fp`, valid for reads and writes,
/// the first `mem_len` bytes from `mem_base` mapped, and `interrupt` valid.
#[inline(never)]
unsafe fn byte_compare_loop(
    fp: *mut u64,
    [dst_a, dst_b, a, b, n]: [u16; 5],
    mem_base: *mut u8,
    mem_len: usize,
    interrupt: *const AtomicU8,
) -> ByteLoop {
    // SAFETY: the caller guarantees the slots, the memory and the flag; each load is
    // checked against `mem_len` first.
    unsafe {
        let reg = |r: u16| fp.add(usize::from(r));
        loop {
            let at = *reg(a) as u32 as usize;
            if at >= mem_len {
                return ByteLoop::OutOfBounds;
            }
            let x = *mem_base.add(at);
            *reg(dst_a) = u64::from(x);
            let at = *reg(b) as u32 as usize;
            if at >= mem_len {
                return ByteLoop::OutOfBounds;
            }
            let y = *mem_base.add(at);
            *reg(dst_b) = u64::from(y);
            if x != y {
                return ByteLoop::Differ;
            }
            *reg(a) = u64::from((*reg(a) as u32).wrapping_add(1));
            *reg(b) = u64::from((*reg(b) as u32).wrapping_add(1));
            let left = (*reg(n) as u32).wrapping_sub(1);
            *reg(n) = u64::from(left);
            if left == 0 {
                return ByteLoop::Done;
            }
            if (*interrupt).load(Ordering::Relaxed) != 0 {
                return ByteLoop::Interrupt;
            }
        }
    }
}

/// Performs `access` on a memory other than memory 0 ([`Op::MemoryAccessN`]): reads the
/// address from `regs[0]` (and the value or vector from `regs[1..]`), checks the access
/// lies inside the memory's `mem_len` bytes at `mem_base`, and writes a load's result to
/// `regs[0..]`. Kept out of the interpreter loop so the loop's common ops stay compact.
///
/// # Safety
/// `regs` must point at frame slots valid for reads and writes of the access's operands
/// and result (up to three slots), and the first `mem_len` bytes from `mem_base` must be
/// mapped read-write.
#[inline(never)]
unsafe fn memory_access(
    regs: *mut u64,
    access: MemAccess,
    lane: u8,
    offset: u32,
    mem_base: *mut u8,
    mem_len: usize,
) -> Result<(), TrapCode> {
    use MemAccess as A;
    // SAFETY: the caller guarantees the slots; the address check below keeps every byte
    // touched inside the mapped `mem_len` bytes.
    unsafe {
        let ea = (*regs as u32 as usize) + offset as usize;
        if ea + access.width() > mem_len {
            return Err(TrapCode::MemoryOutOfBounds);
        }
        let p = mem_base.add(ea);
        let lane = u32::from(lane);
        macro_rules! read {
            ($ty:ty) => {
                <$ty>::from_le(p.cast::<$ty>().read_unaligned())
            };
        }
        macro_rules! write {
            ($ty:ty, $v:expr) => {
                p.cast::<$ty>().write_unaligned(<$ty>::to_le($v))
            };
        }
        // The vector operand after the address, and a vector result.
        let vector = || u128::from(*regs.add(1)) | (u128::from(*regs.add(2)) << 64);
        let set = |v: u64| *regs = v;
        let set_vector = |v: u128| {
            *regs = v as u64;
            *regs.add(1) = (v >> 64) as u64;
        };
        match access {
            A::I32Load => set(u64::from(read!(u32))),
            A::I64Load => set(read!(u64)),
            A::I32Load8S => set(read!(u8) as i8 as i32 as u32 as u64),
            A::I32Load8U => set(u64::from(read!(u8))),
            A::I32Load16S => set(read!(u16) as i16 as i32 as u32 as u64),
            A::I32Load16U => set(u64::from(read!(u16))),
            A::I64Load8S => set(read!(u8) as i8 as i64 as u64),
            A::I64Load8U => set(u64::from(read!(u8))),
            A::I64Load16S => set(read!(u16) as i16 as i64 as u64),
            A::I64Load16U => set(u64::from(read!(u16))),
            A::I64Load32S => set(read!(u32) as i32 as i64 as u64),
            A::I64Load32U => set(u64::from(read!(u32))),
            A::Store8 => write!(u8, *regs.add(1) as u8),
            A::Store16 => write!(u16, *regs.add(1) as u16),
            A::Store32 => write!(u32, *regs.add(1) as u32),
            A::Store64 => write!(u64, *regs.add(1)),
            A::V128Load => set_vector(read!(u128)),
            A::V128Load8x8S => set_vector(simd::i16x8_extend_low_i8x16_s(u128::from(read!(u64)))),
            A::V128Load8x8U => set_vector(simd::i16x8_extend_low_i8x16_u(u128::from(read!(u64)))),
            A::V128Load16x4S => set_vector(simd::i32x4_extend_low_i16x8_s(u128::from(read!(u64)))),
            A::V128Load16x4U => set_vector(simd::i32x4_extend_low_i16x8_u(u128::from(read!(u64)))),
            A::V128Load32x2S => set_vector(simd::i64x2_extend_low_i32x4_s(u128::from(read!(u64)))),
            A::V128Load32x2U => set_vector(simd::i64x2_extend_low_i32x4_u(u128::from(read!(u64)))),
            A::V128Load8Splat => set_vector(simd::i8x16_splat(u64::from(read!(u8)))),
            A::V128Load16Splat => set_vector(simd::i16x8_splat(u64::from(read!(u16)))),
            A::V128Load32Splat => set_vector(simd::i32x4_splat(u64::from(read!(u32)))),
            A::V128Load64Splat => set_vector(simd::i64x2_splat(read!(u64))),
            A::V128Load32Zero => set_vector(u128::from(read!(u32))),
            A::V128Load64Zero => set_vector(u128::from(read!(u64))),
            A::V128Store => write!(u128, vector()),
            A::V128Load8Lane => {
                let x = u64::from(read!(u8));
                set_vector(simd::i8x16_replace_lane(vector(), lane, x));
            }
            A::V128Load16Lane => {
                let x = u64::from(read!(u16));
                set_vector(simd::i16x8_replace_lane(vector(), lane, x));
            }
            A::V128Load32Lane => {
                let x = u64::from(read!(u32));
                set_vector(simd::i32x4_replace_lane(vector(), lane, x));
            }
            A::V128Load64Lane => {
                let x = read!(u64);
                set_vector(simd::i64x2_replace_lane(vector(), lane, x));
            }
            A::V128Store8Lane => write!(u8, simd::i8x16_extract_lane_u(vector(), lane) as u8),
            A::V128Store16Lane => {
                write!(u16, simd::i16x8_extract_lane_u(vector(), lane) as u16)
            }
            A::V128Store32Lane => write!(u32, simd::i32x4_extract_lane(vector(), lane) as u32),
            A::V128Store64Lane => write!(u64, simd::i64x2_extract_lane(vector(), lane)),
        }
    }
    Ok(())
}
