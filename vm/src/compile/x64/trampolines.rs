//! Code at the edges of compiled code, generated per module:
//!
//! - **entry** (one per function type): called from Rust with the System V convention as
//!   `entry(vmctx, code, slots, record) -> status`; saves the host's callee-saved
//!   registers, records the stack pointer in the entry record (where a trap resumes),
//!   loads the arguments from the slots into the Wasm convention, calls, and stores the
//!   results back into the slots. Returns 0.
//! - **trap return** (one per module): where the signal handler resumes a trapped call,
//!   with rsp at the recorded value; restores the host's registers and returns 1.
//! - **host adapter** (one per function type): called like a Wasm function of that type
//!   when a `funcref` has no native code (a host function, or a function of an
//!   interpreted module), with the reference in r10; spills the arguments to slots and
//!   calls the store's `call_func`, then loads the results.
//! - **stack check** (one per module): the slow path of a function's stack check;
//!   preserves every argument register around the runtime's check, which raises
//!   "interrupted" or "call stack exhausted", or finds the limit was only raised.

#![forbid(unsafe_code)]

use super::abi::{ArgLoc, Sig, slot_offsets, slots};
use super::asm::*;
use super::inst::Reg;
use crate::compile::ir::Type;
use crate::runtime::vmctx::{VMOffsets, VMStoreContext};

/// Offset of `EntryRecord::saved_rsp` (see `compile::entry`).
pub(crate) const RECORD_SAVED_RSP: i32 = 0;

fn int(r: Reg) -> Gpr {
    r.as_gpr()
}

fn load_arg(a: &mut Asm, ty: Type, loc: Reg, mem: Mem) {
    match ty {
        Type::V128 => a.movdqu_load(loc.as_xmm(), mem),
        Type::F32 => a.sse_load(false, loc.as_xmm(), mem),
        Type::F64 => a.sse_load(true, loc.as_xmm(), mem),
        Type::I32 => a.load(Size::S32, int(loc), mem),
        Type::I64 => a.load(Size::S64, int(loc), mem),
    }
}

fn store_arg(a: &mut Asm, ty: Type, loc: Reg, mem: Mem) {
    match ty {
        Type::V128 => a.movdqu_store(mem, loc.as_xmm()),
        Type::F32 => a.sse_store(false, mem, loc.as_xmm()),
        Type::F64 => a.sse_store(true, mem, loc.as_xmm()),
        Type::I32 => {
            // Keep the slot's upper half zero, as the interpreter's slots are.
            a.mov_rr(Size::S32, R11, int(loc));
            a.store(Size::S64, mem, R11);
        }
        Type::I64 => a.store(Size::S64, mem, int(loc)),
    }
}

/// Copies a value of type `ty` (one 8-byte word, two for a v128) from `src` to `dst`
/// through `tmp`.
fn copy_words(a: &mut Asm, ty: Type, dst: Mem, src: Mem, tmp: Gpr) {
    for w in 0..slots(ty) as i32 {
        a.load(
            Size::S64,
            tmp,
            Mem {
                disp: src.disp + 8 * w,
                ..src
            },
        );
        a.store(
            Size::S64,
            Mem {
                disp: dst.disp + 8 * w,
                ..dst
            },
            tmp,
        );
    }
}

/// The entry trampoline for functions of type `params -> results`.
pub(crate) fn entry(a: &mut Asm, params: &[Type], results: &[Type]) {
    let sig = Sig::new(params, results);
    a.push(RBP);
    a.mov_rr(Size::S64, RBP, RSP);
    for r in [RBX, R12, R13, R14, R15] {
        a.push(r);
    }
    a.alu_ri(Alu::Sub, Size::S64, RSP, 8);
    a.store(Size::S64, Mem::base(RCX, RECORD_SAVED_RSP), RSP);
    a.mov_rr(Size::S64, R12, RDX);
    a.mov_rr(Size::S64, R13, RSI);
    a.mov_rr(Size::S64, R14, RDI);
    a.load(Size::S64, R15, Mem::base(R14, VMOffsets::HEAP_BASE as i32));
    let area = 8 * (sig.stack_args + sig.ret_area);
    let area = area.div_ceil(16) * 16;
    if area > 0 {
        a.alu_ri(Alu::Sub, Size::S64, RSP, area as i32);
    }
    // Stack arguments first (they go through r11), then registers.
    let param_at = slot_offsets(params);
    for ((&ty, loc), &at) in params.iter().zip(&sig.params).zip(&param_at) {
        if let ArgLoc::Stack(s) = loc {
            copy_words(
                a,
                ty,
                Mem::base(RSP, 8 * *s as i32),
                Mem::base(R12, at),
                R11,
            );
        }
    }
    for ((&ty, loc), &at) in params.iter().zip(&sig.params).zip(&param_at) {
        if let ArgLoc::Reg(r) = loc {
            load_arg(a, ty, *r, Mem::base(R12, at));
        }
    }
    if sig.ret_area > 0 {
        a.lea(Size::S64, RAX, Mem::base(RSP, 8 * sig.stack_args as i32));
    }
    a.call_r(R13);
    // The callee popped its stack arguments: the return area is at rsp now.
    let result_at = slot_offsets(results);
    for ((&ty, loc), &at) in results.iter().zip(&sig.results).zip(&result_at) {
        match loc {
            ArgLoc::Reg(r) => store_arg(a, ty, *r, Mem::base(R12, at)),
            ArgLoc::Stack(s) => copy_words(
                a,
                ty,
                Mem::base(R12, at),
                Mem::base(RSP, 8 * *s as i32),
                R11,
            ),
        }
    }
    a.alu_rr(Alu::Xor, Size::S32, RAX, RAX);
    a.lea(Size::S64, RSP, Mem::base(RBP, -40));
    for r in [R15, R14, R13, R12, RBX] {
        a.pop(r);
    }
    a.pop(RBP);
    a.ret(0);
}

/// Where a trapped call resumes, with rsp as the entry trampoline recorded it.
pub(crate) fn trap_return(a: &mut Asm) {
    a.alu_ri(Alu::Add, Size::S64, RSP, 8);
    for r in [R15, R14, R13, R12, RBX] {
        a.pop(r);
    }
    a.pop(RBP);
    a.mov_ri(Size::S32, RAX, 1);
    a.ret(0);
}

/// The host adapter for functions of type `params -> results`. Returns the offset of
/// its `ud2` (a pending trap).
pub(crate) fn adapter(a: &mut Asm, params: &[Type], results: &[Type]) -> u32 {
    let sig = Sig::new(params, results);
    let (param_at, result_at) = (slot_offsets(params), slot_offsets(results));
    let count = |ts: &[Type]| ts.iter().map(|&t| slots(t)).sum::<u32>();
    let slots = count(params).max(count(results)).max(1);
    // [rbp-8] return area, [rbp-16] r8, [rbp-24] r9 (callee-saved in the Wasm convention,
    // not in System V), then the slots.
    let frame = (24 + 8 * slots).div_ceil(16) * 16;
    a.push(RBP);
    a.mov_rr(Size::S64, RBP, RSP);
    a.alu_ri(Alu::Sub, Size::S64, RSP, frame as i32);
    a.store(Size::S64, Mem::base(RBP, -8), RAX);
    a.store(Size::S64, Mem::base(RBP, -16), R8);
    a.store(Size::S64, Mem::base(RBP, -24), R9);
    for ((&ty, loc), &at) in params.iter().zip(&sig.params).zip(&param_at) {
        let slot = Mem::base(RSP, at);
        match loc {
            ArgLoc::Reg(r) => store_arg(a, ty, *r, slot),
            ArgLoc::Stack(s) => copy_words(a, ty, slot, Mem::base(RBP, 16 + 8 * *s as i32), R11),
        }
    }
    a.load(Size::S64, RDI, Mem::base(R14, VMOffsets::STORE as i32));
    a.mov_rr(Size::S64, RSI, R10);
    a.mov_rr(Size::S64, RDX, RSP);
    a.mov_rr(Size::S64, RCX, R14);
    a.call_m(Mem::base(RDI, VMStoreContext::CALL_FUNC as i32));
    a.test_rr(Size::S32, RAX, RAX);
    let trap = a.new_label();
    a.jcc(Cond::Ne, trap);
    // Return-area results first: they use r10/r11, and rax is a result register.
    if sig.ret_area > 0 {
        a.load(Size::S64, R11, Mem::base(RBP, -8));
        for ((&ty, loc), &at) in results.iter().zip(&sig.results).zip(&result_at) {
            if let ArgLoc::Stack(s) = loc {
                copy_words(
                    a,
                    ty,
                    Mem::base(R11, 8 * *s as i32),
                    Mem::base(RSP, at),
                    R10,
                );
            }
        }
    }
    for ((&ty, loc), &at) in results.iter().zip(&sig.results).zip(&result_at) {
        if let ArgLoc::Reg(r) = loc {
            load_arg(a, ty, *r, Mem::base(RSP, at));
        }
    }
    a.load(Size::S64, R8, Mem::base(RBP, -16));
    a.load(Size::S64, R9, Mem::base(RBP, -24));
    a.mov_rr(Size::S64, RSP, RBP);
    a.pop(RBP);
    a.ret(sig.stack_arg_bytes() as u16);
    a.bind(trap);
    let at = a.pos();
    a.ud2();
    at
}

/// The stack check's slow path. Returns the offset of its `ud2` (a pending trap).
pub(crate) fn stack_check(a: &mut Asm, libcall_index: u32) -> u32 {
    const SAVED: [Gpr; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];
    a.push(RBP);
    a.mov_rr(Size::S64, RBP, RSP);
    for r in SAVED {
        a.push(r);
    }
    a.alu_ri(Alu::Sub, Size::S64, RSP, 128);
    for k in 0..8u8 {
        a.movdqu_store(Mem::base(RSP, 16 * i32::from(k)), Xmm(k));
    }
    a.mov_rr(Size::S64, RDI, R14);
    a.load(Size::S64, R11, Mem::base(R14, VMOffsets::LIBCALLS as i32));
    a.call_m(Mem::base(R11, 8 * libcall_index as i32));
    a.test_rr(Size::S32, RAX, RAX);
    let trap = a.new_label();
    a.jcc(Cond::Ne, trap);
    for k in 0..8u8 {
        a.movdqu_load(Xmm(k), Mem::base(RSP, 16 * i32::from(k)));
    }
    a.alu_ri(Alu::Add, Size::S64, RSP, 128);
    for r in SAVED.iter().rev() {
        a.pop(*r);
    }
    a.pop(RBP);
    a.ret(0);
    a.bind(trap);
    let at = a.pos();
    a.ud2();
    at
}
