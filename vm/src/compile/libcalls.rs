//! Runtime functions compiled code calls (`Libcall`): bulk memory and table operations,
//! `memory.grow`, and float rounding on machines without SSE4.1. Each takes the calling
//! instance's context first; those that can trap store the trap in the store context
//! and return 1 (`table.get` returns `u64::MAX`, which is never a reference).

use super::entry::{instance_of, store_inner};
use crate::compile::ir::Libcall;
use crate::decode::ops::SimdOp;
use crate::error::{Trap, TrapCode};
use crate::runtime::store::StoreInner;
use crate::runtime::vmctx::VMContext;
use std::sync::OnceLock;

/// The table the context's `LIBCALLS` field points to, in `Libcall` order.
pub(crate) fn table() -> *const usize {
    static TABLE: OnceLock<Box<[usize]>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut t = vec![0usize; Libcall::COUNT];
            t[Libcall::MemoryGrow as usize] = memory_grow as *const () as usize;
            t[Libcall::MemorySize as usize] = memory_size as *const () as usize;
            t[Libcall::MemoryCopy as usize] = memory_copy as *const () as usize;
            t[Libcall::MemoryFill as usize] = memory_fill as *const () as usize;
            t[Libcall::MemoryInit as usize] = memory_init as *const () as usize;
            t[Libcall::DataDrop as usize] = data_drop as *const () as usize;
            t[Libcall::TableGet as usize] = table_get as *const () as usize;
            t[Libcall::TableSet as usize] = table_set as *const () as usize;
            t[Libcall::TableSize as usize] = table_size as *const () as usize;
            t[Libcall::TableGrow as usize] = table_grow as *const () as usize;
            t[Libcall::TableFill as usize] = table_fill as *const () as usize;
            t[Libcall::TableCopy as usize] = table_copy as *const () as usize;
            t[Libcall::TableInit as usize] = table_init as *const () as usize;
            t[Libcall::ElemDrop as usize] = elem_drop as *const () as usize;
            t[Libcall::FloorF32 as usize] = floor_f32 as *const () as usize;
            t[Libcall::CeilF32 as usize] = ceil_f32 as *const () as usize;
            t[Libcall::TruncF32 as usize] = trunc_f32 as *const () as usize;
            t[Libcall::NearestF32 as usize] = nearest_f32 as *const () as usize;
            t[Libcall::FloorF64 as usize] = floor_f64 as *const () as usize;
            t[Libcall::CeilF64 as usize] = ceil_f64 as *const () as usize;
            t[Libcall::TruncF64 as usize] = trunc_f64 as *const () as usize;
            t[Libcall::NearestF64 as usize] = nearest_f64 as *const () as usize;
            t[Libcall::StackCheck as usize] = super::entry::stack_check as *const () as usize;
            t[Libcall::Memmove as usize] = memmove as *const () as usize;
            t[Libcall::Memset as usize] = memset as *const () as usize;
            t[Libcall::Simd as usize] = simd as *const () as usize;
            t.into_boxed_slice()
        })
        .as_ptr()
}

/// The store and calling instance of a library call.
///
/// # Safety
/// `vmctx` is the context of an instance running natively.
unsafe fn cx<'a>(vmctx: *mut VMContext) -> (&'a mut StoreInner, usize) {
    // SAFETY: forwarded contract.
    unsafe { (store_inner(vmctx), instance_of(vmctx) as usize) }
}

fn fail(store: &mut StoreInner, code: TrapCode) -> u32 {
    store.vmstore.trap = Some(Trap::new(code));
    1
}

macro_rules! libcall {
    ($(fn $name:ident($s:ident, $i:ident $(, $a:ident: $t:ty)*) -> $r:ty $body:block)*) => {
        $(
            /// # Safety
            /// Called by native code of an instance running natively, with its context.
            unsafe extern "C" fn $name(vmctx: *mut VMContext $(, $a: $t)*) -> $r {
                // SAFETY: native code passes its own context.
                let ($s, $i) = unsafe { cx(vmctx) };
                $body
            }
        )*
    };
}

libcall! {
    fn memory_grow(s, i, memory: u32, delta: u32) -> u32 {
        let m = s.instances[i].memories[memory as usize] as *const () as usize;
        let max = s.limits.max_memory_bytes;
        s.memories[m].grow(delta, max).unwrap_or(u32::MAX)
    }

    fn memory_size(s, i, memory: u32) -> u32 {
        let m = s.instances[i].memories[memory as usize] as *const () as usize;
        s.memories[m].pages()
    }

    fn memory_copy(s, i, dst_mem: u32, src_mem: u32, d: u32, src: u32, n: u32) -> u32 {
        let inst = &s.instances[i];
        let (dm, sm) = (inst.memories[dst_mem as usize] as usize, inst.memories[src_mem as usize] as usize);
        let (d, src, n) = (d as usize, src as usize, n as usize);
        let (dst_len, src_len) = (s.memories[dm].len(), s.memories[sm].len());
        if src + n > src_len || d + n > dst_len {
            return fail(s, TrapCode::MemoryOutOfBounds);
        }
        let (db, sb) = (s.memories[dm].base(), s.memories[sm].base());
        // SAFETY: both ranges are inside their memories' accessible bytes (checked);
        // `copy` allows the overlap of one memory with itself.
        unsafe { std::ptr::copy(sb.add(src), db.add(d), n) };
        0
    }

    fn memory_fill(s, i, memory: u32, d: u32, value: u32, n: u32) -> u32 {
        let m = s.instances[i].memories[memory as usize] as *const () as usize;
        let (d, n) = (d as usize, n as usize);
        if d + n > s.memories[m].len() {
            return fail(s, TrapCode::MemoryOutOfBounds);
        }
        s.memories[m].data_mut()[d..d + n].fill(value as u8);
        0
    }

    fn memory_init(s, i, memory: u32, data: u32, d: u32, src: u32, n: u32) -> u32 {
        let inst = &s.instances[i];
        let m = inst.memories[memory as usize] as *const () as usize;
        let module = inst.module.clone();
        let seg: &[u8] = if inst.data_dropped[data as usize] {
            &[]
        } else {
            &module.inner.info.datas[data as usize].bytes
        };
        let (d, src, n) = (d as usize, src as usize, n as usize);
        if src + n > seg.len() || d + n > s.memories[m].len() {
            return fail(s, TrapCode::MemoryOutOfBounds);
        }
        s.memories[m].data_mut()[d..d + n].copy_from_slice(&seg[src..src + n]);
        0
    }

    fn data_drop(s, i, data: u32) -> u32 {
        s.instances[i].data_dropped[data as usize] = true;
        0
    }

    fn table_get(s, i, table: u32, index: u32) -> u64 {
        let t = s.instances[i].tables[table as usize] as *const () as usize;
        match s.tables[t].elements.get(index as usize) {
            Some(&v) => v,
            None => {
                fail(s, TrapCode::TableOutOfBounds);
                u64::MAX
            }
        }
    }

    fn table_set(s, i, table: u32, index: u32, raw: u64) -> u32 {
        let t = s.instances[i].tables[table as usize] as *const () as usize;
        match s.tables[t].elements.get_mut(index as usize) {
            Some(slot) => {
                *slot = raw;
                0
            }
            None => fail(s, TrapCode::TableOutOfBounds),
        }
    }

    fn table_size(s, i, table: u32) -> u32 {
        let t = s.instances[i].tables[table as usize] as *const () as usize;
        s.tables[t].elements.len() as u32
    }

    fn table_grow(s, i, table: u32, init: u64, delta: u32) -> u32 {
        let t = s.instances[i].tables[table as usize] as *const () as usize;
        let max = s.limits.max_table_elements;
        s.tables[t].grow(delta, init, max).unwrap_or(u32::MAX)
    }

    fn table_fill(s, i, table: u32, d: u32, raw: u64, n: u32) -> u32 {
        let t = s.instances[i].tables[table as usize] as *const () as usize;
        let (d, n) = (d as usize, n as usize);
        let elements = &mut s.tables[t].elements;
        if d + n > elements.len() {
            return fail(s, TrapCode::TableOutOfBounds);
        }
        elements[d..d + n].fill(raw);
        0
    }

    fn table_copy(s, i, dst_table: u32, src_table: u32, d: u32, src: u32, n: u32) -> u32 {
        let inst = &s.instances[i];
        let (dt, st) = (inst.tables[dst_table as usize] as usize, inst.tables[src_table as usize] as usize);
        let (d, src, n) = (d as usize, src as usize, n as usize);
        if src + n > s.tables[st].elements.len() || d + n > s.tables[dt].elements.len() {
            return fail(s, TrapCode::TableOutOfBounds);
        }
        if dt == st {
            s.tables[dt].elements.copy_within(src..src + n, d);
        } else {
            let items: Vec<u64> = s.tables[st].elements[src..src + n].to_vec();
            s.tables[dt].elements[d..d + n].copy_from_slice(&items);
        }
        0
    }

    fn table_init(s, i, table: u32, elem: u32, d: u32, src: u32, n: u32) -> u32 {
        let inst = &s.instances[i];
        let t = inst.tables[table as usize] as *const () as usize;
        let (d, src, n) = (d as usize, src as usize, n as usize);
        let seg = &inst.elems[elem as usize];
        if src + n > seg.len() || d + n > s.tables[t].elements.len() {
            return fail(s, TrapCode::TableOutOfBounds);
        }
        let items: Vec<u64> = seg[src..src + n].to_vec();
        s.tables[t].elements[d..d + n].copy_from_slice(&items);
        0
    }

    fn elem_drop(s, i, elem: u32) -> u32 {
        s.instances[i].elems[elem as usize] = Box::new([]);
        0
    }
}

/// `memory.copy` within memory 0 after compiled code checked both ranges.
///
/// # Safety
/// Both ranges lie inside memory 0's accessible bytes.
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller checked both ranges against the memory's length.
    unsafe { std::ptr::copy(src, dst, len) };
}

/// `memory.fill` of memory 0 after compiled code checked the range.
///
/// # Safety
/// The range lies inside memory 0's accessible bytes.
unsafe extern "C" fn memset(dst: *mut u8, byte: u32, len: usize) {
    // SAFETY: the caller checked the range against the memory's length.
    unsafe { std::ptr::write_bytes(dst, byte as u8, len) };
}

extern "C" fn floor_f32(_: *mut VMContext, bits: u32) -> u32 {
    f32::from_bits(bits).floor().to_bits()
}

extern "C" fn ceil_f32(_: *mut VMContext, bits: u32) -> u32 {
    f32::from_bits(bits).ceil().to_bits()
}

extern "C" fn trunc_f32(_: *mut VMContext, bits: u32) -> u32 {
    f32::from_bits(bits).trunc().to_bits()
}

extern "C" fn nearest_f32(_: *mut VMContext, bits: u32) -> u32 {
    f32::from_bits(bits).round_ties_even().to_bits()
}

extern "C" fn floor_f64(_: *mut VMContext, bits: u64) -> u64 {
    f64::from_bits(bits).floor().to_bits()
}

extern "C" fn ceil_f64(_: *mut VMContext, bits: u64) -> u64 {
    f64::from_bits(bits).ceil().to_bits()
}

extern "C" fn trunc_f64(_: *mut VMContext, bits: u64) -> u64 {
    f64::from_bits(bits).trunc().to_bits()
}

extern "C" fn nearest_f64(_: *mut VMContext, bits: u64) -> u64 {
    f64::from_bits(bits).round_ties_even().to_bits()
}

/// A vector instruction without an inline sequence: `area` holds three 16-byte
/// operands (scalars in the low bytes); the result is written over the first.
///
/// # Safety
/// `area` points to 48 writable bytes (the caller's outgoing-argument area), and `op` is
/// the opcode of a `SimdOp` (compiled code passes a constant).
unsafe extern "C" fn simd(op: u32, area: *mut u64) {
    let Some(op) = SimdOp::from_code(op) else {
        return;
    };
    // SAFETY: the caller passes its 48-byte outgoing area, 8-byte aligned.
    let words = unsafe { std::slice::from_raw_parts_mut(area, 6) };
    let operand = |k: usize| u128::from(words[2 * k]) | (u128::from(words[2 * k + 1]) << 64);
    let r = crate::interp::simd::eval(op, operand(0), operand(1), operand(2));
    words[0] = r as u64;
    words[1] = (r >> 64) as u64;
}
