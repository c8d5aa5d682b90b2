//! The calling convention between compiled Wasm functions, and the frame layout.
//!
//! ```text
//! arguments   integer-class (i32, i64, references): rdi rsi rdx rcx
//!             SSE-class (f32, f64, v128):           xmm0 … xmm7
//!             the rest on the stack, 8 bytes each (16 for a v128), the first at the
//!             lowest address;
//!             the callee pops them (`ret n`), so tail calls can replace a frame's
//!             stack arguments later
//! results     integer-class: rax rdx; SSE-class: xmm0 xmm1; the rest in a return
//!             area whose address the caller passes in rax
//! preserved   rbx r12 r13 r8 r9 (saved by the callee when it uses them), rbp, rsp
//! pinned      r14 = the instance's VMContext, r15 = memory 0's base; a callee in
//!             another instance gets its own in both, and the caller restores its
//!             own after the call
//! scratch     r11, xmm15: never allocated, free for instruction sequences
//! ```
//!
//! Frame (rbp-based; rsp is 16-byte aligned at every call):
//!
//! ```text
//! [rbp + 16 + 8k]   incoming stack argument k
//! [rbp + 8]         return address
//! [rbp]             caller's rbp
//! [rbp - 8]         the VMContext (r14), reloaded after calls into other instances
//! [rbp - 16 - 8k]   saved callee-saved register k
//!                   spill slots
//! [rsp + …]         outgoing stack arguments, then the return area of calls
//! ```

#![forbid(unsafe_code)]

use super::asm::{R8, R9, RAX, RCX, RDI, RDX, RSI, Xmm};
use super::inst::Reg;
use crate::compile::ir::Type;

/// Where one argument or result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgLoc {
    Reg(Reg),
    /// Stack argument slot `k` (`[rsp + 8k]` at the call), or return-area slot `k`.
    Stack(u32),
}

/// A function signature mapped to locations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sig {
    pub params: Vec<ArgLoc>,
    pub results: Vec<ArgLoc>,
    /// Stack argument slots (8 bytes each).
    pub stack_args: u32,
    /// Return-area slots (8 bytes each); if non-zero, rax carries its address.
    pub ret_area: u32,
}

pub(crate) const INT_ARGS: [Reg; 4] = [
    Reg(RDI.0 as u32),
    Reg(RSI.0 as u32),
    Reg(RDX.0 as u32),
    Reg(RCX.0 as u32),
];
pub(crate) const INT_RESULTS: [Reg; 2] = [Reg(RAX.0 as u32), Reg(RDX.0 as u32)];
pub(crate) const RET_AREA_REG: Reg = Reg(RAX.0 as u32);

fn xmm(n: u8) -> Reg {
    Reg::xmm(Xmm(n))
}

/// 8-byte slots a value of type `t` takes on the stack, in a return area, and in the
/// runtime's value stack.
pub(crate) fn slots(t: Type) -> u32 {
    if t == Type::V128 { 2 } else { 1 }
}

/// The offset of each value's first slot when `types` lie in consecutive slots.
pub(crate) fn slot_offsets(types: &[Type]) -> Vec<i32> {
    let mut at = 0;
    types
        .iter()
        .map(|&t| {
            at += slots(t);
            8 * (at - slots(t)) as i32
        })
        .collect()
}

/// Offset of the saved VMContext below rbp.
pub(crate) const VMCTX_SLOT: i32 = -8;

impl Sig {
    pub(crate) fn new(params: &[Type], results: &[Type]) -> Sig {
        let (mut ni, mut nf, mut stack) = (0, 0, 0u32);
        let params = params
            .iter()
            .map(|t| {
                if t.is_sse() {
                    if nf < 8 {
                        nf += 1;
                        return ArgLoc::Reg(xmm(nf as u8 - 1));
                    }
                } else if ni < INT_ARGS.len() {
                    ni += 1;
                    return ArgLoc::Reg(INT_ARGS[ni - 1]);
                }
                stack += slots(*t);
                ArgLoc::Stack(stack - slots(*t))
            })
            .collect();
        let (mut ri, mut rf, mut area) = (0, 0, 0u32);
        let results = results
            .iter()
            .map(|t| {
                if t.is_sse() {
                    if rf < 2 {
                        rf += 1;
                        return ArgLoc::Reg(xmm(rf as u8 - 1));
                    }
                } else if ri < INT_RESULTS.len() {
                    ri += 1;
                    return ArgLoc::Reg(INT_RESULTS[ri - 1]);
                }
                area += slots(*t);
                ArgLoc::Stack(area - slots(*t))
            })
            .collect();
        Sig {
            params,
            results,
            stack_args: stack,
            ret_area: area,
        }
    }

    /// Registers holding arguments on entry (plus rax for a return area).
    pub(crate) fn entry_regs(&self) -> Vec<Reg> {
        let mut regs: Vec<Reg> = self
            .params
            .iter()
            .filter_map(|l| match l {
                ArgLoc::Reg(r) => Some(*r),
                ArgLoc::Stack(_) => None,
            })
            .collect();
        if self.ret_area > 0 {
            regs.push(RET_AREA_REG);
        }
        regs
    }

    /// Bytes of stack arguments the callee pops.
    pub(crate) fn stack_arg_bytes(&self) -> u32 {
        8 * self.stack_args
    }
}

/// System V argument registers, for calls into the runtime.
pub(crate) const SYSV_ARGS: [Reg; 6] = [
    Reg(RDI.0 as u32),
    Reg(RSI.0 as u32),
    Reg(RDX.0 as u32),
    Reg(RCX.0 as u32),
    Reg(R8.0 as u32),
    Reg(R9.0 as u32),
];
