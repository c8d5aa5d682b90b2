//! Translation of a function body into register ops (see [`super::ir`]), in one pass
//! beside the validator.
//!
//! The translator keeps its own model of the operand stack. An entry is a *temporary*
//! (its value is in its slot), a *local* (its value is still in that local's slot:
//! `local.get` emitted nothing), or a *constant* (not yet written anywhere). Lazy entries
//! are written to their own slots ("materialized") when something needs them there: a
//! call's arguments, a block's results, or a write to the local they alias.
//!
//! Invariants:
//! - an operand at stack position `i` always lives (or will be materialized) at the same
//!   slot, so block results and call arguments land in fixed, contiguous slots;
//! - when a block, loop or `if` starts, no entry on the stack aliases a local, so a local
//!   written on one path can never change what an older entry means on another path.

#![forbid(unsafe_code)]

use super::ir::{MemAccess, Op, Reg};
use crate::decode::ModuleInfo;
use crate::decode::ops::{
    BlockType, LaneArg, LaneOp, LoadKind, MemArg, NumOp, Operator, SimdOp, StoreKind, V128LoadKind,
};
use crate::decode::reader::Reader;
use crate::error::{Error, Result};
use crate::types::ValType;
use crate::validate::Context;
use crate::validate::func::{FrameKind, FuncValidator};
use std::collections::HashMap;

/// A function ready for the interpreter.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub code: Box<[Op]>,
    /// Slots the frame needs: locals plus the deepest operand stack, and at least
    /// `param_slots + ENTRY_ZEROED` (entering zeroes that many slots after the parameters
    /// when the function declares no more locals than that).
    pub frame_size: u32,
    pub param_slots: u32,
    /// Slots of declared (non-parameter) locals, zeroed on entry.
    pub local_slots: u32,
}

/// Slots after the parameters that entering a function zeroes with four plain stores
/// (when it declares at most that many local slots): the frame size is padded to hold
/// them, so that common case needs no `memset` and no branch on the exact count.
pub(crate) const ENTRY_ZEROED: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Temp,
    Local(Reg),
    Const(u64),
}

#[derive(Clone, Copy, Debug)]
struct Operand {
    ty: ValType,
    slot: Reg,
    kind: Kind,
}

#[derive(Debug)]
struct Block {
    kind: FrameKind,
    ty: BlockType,
    /// Operand stack length at entry, parameters excluded.
    height: usize,
    /// Where the block's parameters (and results) sit.
    base_slot: Reg,
    /// Opened inside unreachable code: emits nothing.
    dead: bool,
    /// A loop's first op.
    loop_start: u32,
    /// Branches to this block's end, to patch when it is known.
    pending: Vec<u32>,
    /// An `if`'s branch to its `else`.
    else_branch: Option<u32>,
}

struct Translator<'a> {
    v: FuncValidator<'a>,
    module: &'a ModuleInfo,
    code: Vec<Op>,
    stack: Vec<Operand>,
    blocks: Vec<Block>,
    local_slot: Vec<Reg>,
    local_type: Vec<ValType>,
    /// How many stack entries alias each local, and in all.
    local_refs: Vec<u32>,
    /// Locals before this index are parameters; the others start at zero.
    num_params: usize,
    /// Whether any code translated so far writes each local.
    local_written: Vec<bool>,
    alias_count: u32,
    results: &'a [ValType],
    num_local_slots: u32,
    max_slot: u32,
    reachable: bool,
    /// The last op wrote a fresh temporary now on top of the stack: it may be retargeted
    /// or fused with what consumes it.
    last_result: Option<usize>,
    /// The latest code position that is or may become a branch target (a label bound,
    /// a block started, a `br_table` stub): ops after it are reached only from the op
    /// before them.
    label_pc: u32,
    /// The last op wrote its result straight into this local (a folded `local.set` or
    /// `local.tee`): `(op index, local slot)`. A branch on that local may fuse with it.
    last_local_write: Option<(usize, Reg)>,
    /// Every op whose branch target has been set (`set_target` is the only way one is).
    branches: Vec<u32>,
    result_slots: u32,
    at: usize,
    /// The constant pool and where each value is in it (values are shared).
    consts: Vec<u128>,
    const_index: HashMap<u128, u32>,
}

/// Validates and translates defined function `def_index`.
pub(crate) fn translate(cx: &Context<'_>, bytes: &[u8], def_index: u32) -> Result<CompiledFunc> {
    let m = cx.module;
    let func_index = m.num_imported_funcs + def_index;
    let body = &m.bodies[def_index as usize];
    let ty = &m.types[m.funcs[func_index as usize] as usize];
    let v = FuncValidator::new(cx, func_index);
    let local_type = v.locals().to_vec();
    let mut local_slot = Vec::with_capacity(local_type.len());
    let mut next = 0u32;
    for t in &local_type {
        local_slot.push(next);
        next += t.slots();
    }
    let param_slots = ty.param_slots();
    let mut t = Translator {
        v,
        module: m,
        code: Vec::with_capacity((body.code_end - body.code_start) / 2 + 4),
        stack: Vec::new(),
        blocks: Vec::new(),
        local_refs: vec![0; local_type.len()],
        num_params: ty.params().len(),
        local_written: vec![false; local_type.len()],
        alias_count: 0,
        results: ty.results(),
        local_slot,
        local_type,
        num_local_slots: next,
        max_slot: next.max(ty.result_slots()),
        reachable: true,
        last_result: None,
        label_pc: 0,
        last_local_write: None,
        branches: Vec::new(),
        result_slots: ty.result_slots(),
        at: body.code_start,
        consts: Vec::new(),
        const_index: HashMap::new(),
    };
    t.blocks.push(Block {
        kind: FrameKind::Func,
        ty: BlockType::Func(m.funcs[func_index as usize]),
        height: 0,
        base_slot: 0,
        dead: false,
        loop_start: 0,
        pending: Vec::new(),
        else_branch: None,
    });
    let mut r = Reader::new(bytes, body.code_start, body.code_end);
    let has_data_count = m.data_count.is_some();
    let features = m.features;
    while !t.v.is_finished() {
        if r.is_empty() {
            return Err(Error::malformed(r.pos(), "END opcode expected"));
        }
        let at = r.pos();
        let op = r.operator(features, has_data_count)?;
        t.at = at;
        t.v.visit(&op, at)?;
        t.op(&op)?;
    }
    if !r.is_empty() {
        return Err(Error::malformed(r.pos(), "section size mismatch"));
    }
    join_pairs(&mut t.code, &t.branches);
    append_pool(&mut t.code, &t.consts).ok_or_else(|| t.too_large())?;
    Ok(CompiledFunc {
        code: t.code.into_boxed_slice(),
        frame_size: t.max_slot.max(param_slots + ENTRY_ZEROED),
        param_slots,
        local_slots: t.num_local_slots - param_slots,
    })
}

/// Appends the constant pool after the function's last op (two `PoolWord`s per entry)
/// and points the ops that read it at their entry's position. The interpreter then
/// finds an entry from the code pointer alone, with no per-function state to keep
/// across calls. `None` if the positions overflow.
fn append_pool(code: &mut Vec<Op>, consts: &[u128]) -> Option<()> {
    if consts.is_empty() {
        return Some(());
    }
    let start = u32::try_from(code.len()).ok()?;
    u32::try_from(consts.len())
        .ok()?
        .checked_mul(2)?
        .checked_add(start)?;
    for op in code.iter_mut() {
        if let Op::V128Const { index, .. } | Op::I8x16Shuffle { mask: index, .. } = op {
            *index = start + 2 * *index;
        }
    }
    for &c in consts {
        code.push(Op::PoolWord(c as u64));
        code.push(Op::PoolWord((c >> 64) as u64));
    }
    Some(())
}

/// Inverse of a fused compare-and-branch (for "branch if false").
fn negate_branch(op: Op) -> Op {
    use Op::*;
    match op {
        BrI32Eq(a, b, t) => BrI32Ne(a, b, t),
        BrI32Ne(a, b, t) => BrI32Eq(a, b, t),
        BrI32LtS(a, b, t) => BrI32GeS(a, b, t),
        BrI32LtU(a, b, t) => BrI32GeU(a, b, t),
        BrI32GtS(a, b, t) => BrI32LeS(a, b, t),
        BrI32GtU(a, b, t) => BrI32LeU(a, b, t),
        BrI32LeS(a, b, t) => BrI32GtS(a, b, t),
        BrI32LeU(a, b, t) => BrI32GtU(a, b, t),
        BrI32GeS(a, b, t) => BrI32LtS(a, b, t),
        BrI32GeU(a, b, t) => BrI32LtU(a, b, t),
        BrI32EqImm(a, b, t) => BrI32NeImm(a, b, t),
        BrI32NeImm(a, b, t) => BrI32EqImm(a, b, t),
        BrI32LtSImm(a, b, t) => BrI32GeSImm(a, b, t),
        BrI32LtUImm(a, b, t) => BrI32GeUImm(a, b, t),
        BrI32GtSImm(a, b, t) => BrI32LeSImm(a, b, t),
        BrI32GtUImm(a, b, t) => BrI32LeUImm(a, b, t),
        BrI32LeSImm(a, b, t) => BrI32GtSImm(a, b, t),
        BrI32LeUImm(a, b, t) => BrI32GtUImm(a, b, t),
        BrI32GeSImm(a, b, t) => BrI32LtSImm(a, b, t),
        BrI32GeUImm(a, b, t) => BrI32LtUImm(a, b, t),
        BrI64Eq(a, b, t) => BrI64Ne(a, b, t),
        BrI64Ne(a, b, t) => BrI64Eq(a, b, t),
        BrI64LtS(a, b, t) => BrI64GeS(a, b, t),
        BrI64LtU(a, b, t) => BrI64GeU(a, b, t),
        BrI64GtS(a, b, t) => BrI64LeS(a, b, t),
        BrI64GtU(a, b, t) => BrI64LeU(a, b, t),
        BrI64LeS(a, b, t) => BrI64GtS(a, b, t),
        BrI64LeU(a, b, t) => BrI64GtU(a, b, t),
        BrI64GeS(a, b, t) => BrI64LtS(a, b, t),
        BrI64GeU(a, b, t) => BrI64LtU(a, b, t),
        BrI64EqImm(a, b, t) => BrI64NeImm(a, b, t),
        BrI64NeImm(a, b, t) => BrI64EqImm(a, b, t),
        BrI64LtSImm(a, b, t) => BrI64GeSImm(a, b, t),
        BrI64LtUImm(a, b, t) => BrI64GeUImm(a, b, t),
        BrI64GtSImm(a, b, t) => BrI64LeSImm(a, b, t),
        BrI64GtUImm(a, b, t) => BrI64LeUImm(a, b, t),
        BrI64LeSImm(a, b, t) => BrI64GtSImm(a, b, t),
        BrI64LeUImm(a, b, t) => BrI64GtUImm(a, b, t),
        BrI64GeSImm(a, b, t) => BrI64LtSImm(a, b, t),
        BrI64GeUImm(a, b, t) => BrI64LtUImm(a, b, t),
        BrI64Eqz(a, t) => BrI64Nez(a, t),
        BrI64Nez(a, t) => BrI64Eqz(a, t),
        BrI32AndImmNez(a, c, t) => BrI32AndImmEqz(a, c, t),
        BrI32AndImmEqz(a, c, t) => BrI32AndImmNez(a, c, t),
        BrI32LoadNez(a, o, t) => BrI32LoadEqz(a, o, t),
        BrI32LoadEqz(a, o, t) => BrI32LoadNez(a, o, t),
        BrI32Load8UNez(a, o, t) => BrI32Load8UEqz(a, o, t),
        BrI32Load8UEqz(a, o, t) => BrI32Load8UNez(a, o, t),
        BrI32Load8UAddImmNez(a, c, o, t) => BrI32Load8UAddImmEqz(a, c, o, t),
        BrI32Load8UAddImmEqz(a, c, o, t) => BrI32Load8UAddImmNez(a, c, o, t),
        BrI32Load8UNe(a, b, o, t) => BrI32Load8UEq(a, b, o, t),
        BrI32Load8UEq(a, b, o, t) => BrI32Load8UNe(a, b, o, t),
        I32AddImmBrNez(r, c, t) => I32AddImmBrEqz(r, c, t),
        I32AddImmBrEqz(r, c, t) => I32AddImmBrNez(r, c, t),
        BrIfEqz { cond, target } => BrIfNez { cond, target },
        BrIfNez { cond, target } => BrIfEqz { cond, target },
        other => other,
    }
}

/// The fused "branch if true" form of a comparison op, with a placeholder target.
fn fuse_compare(op: Op) -> Option<Op> {
    use Op::*;
    Some(match op {
        I32Eq(_, a, b) => BrI32Eq(a, b, 0),
        I32Ne(_, a, b) => BrI32Ne(a, b, 0),
        I32LtS(_, a, b) => BrI32LtS(a, b, 0),
        I32LtU(_, a, b) => BrI32LtU(a, b, 0),
        I32GtS(_, a, b) => BrI32GtS(a, b, 0),
        I32GtU(_, a, b) => BrI32GtU(a, b, 0),
        I32LeS(_, a, b) => BrI32LeS(a, b, 0),
        I32LeU(_, a, b) => BrI32LeU(a, b, 0),
        I32GeS(_, a, b) => BrI32GeS(a, b, 0),
        I32GeU(_, a, b) => BrI32GeU(a, b, 0),
        I32EqImm(_, a, b) => BrI32EqImm(a, b, 0),
        I32NeImm(_, a, b) => BrI32NeImm(a, b, 0),
        I32LtSImm(_, a, b) => BrI32LtSImm(a, b, 0),
        I32LtUImm(_, a, b) => BrI32LtUImm(a, b, 0),
        I32GtSImm(_, a, b) => BrI32GtSImm(a, b, 0),
        I32GtUImm(_, a, b) => BrI32GtUImm(a, b, 0),
        I32LeSImm(_, a, b) => BrI32LeSImm(a, b, 0),
        I32LeUImm(_, a, b) => BrI32LeUImm(a, b, 0),
        I32GeSImm(_, a, b) => BrI32GeSImm(a, b, 0),
        I32GeUImm(_, a, b) => BrI32GeUImm(a, b, 0),
        I64Eq(_, a, b) => BrI64Eq(a, b, 0),
        I64Ne(_, a, b) => BrI64Ne(a, b, 0),
        I64LtS(_, a, b) => BrI64LtS(a, b, 0),
        I64LtU(_, a, b) => BrI64LtU(a, b, 0),
        I64GtS(_, a, b) => BrI64GtS(a, b, 0),
        I64GtU(_, a, b) => BrI64GtU(a, b, 0),
        I64LeS(_, a, b) => BrI64LeS(a, b, 0),
        I64LeU(_, a, b) => BrI64LeU(a, b, 0),
        I64GeS(_, a, b) => BrI64GeS(a, b, 0),
        I64GeU(_, a, b) => BrI64GeU(a, b, 0),
        I64EqImm(_, a, b) => BrI64EqImm(a, b, 0),
        I64NeImm(_, a, b) => BrI64NeImm(a, b, 0),
        I64LtSImm(_, a, b) => BrI64LtSImm(a, b, 0),
        I64LtUImm(_, a, b) => BrI64LtUImm(a, b, 0),
        I64GtSImm(_, a, b) => BrI64GtSImm(a, b, 0),
        I64GtUImm(_, a, b) => BrI64GtUImm(a, b, 0),
        I64LeSImm(_, a, b) => BrI64LeSImm(a, b, 0),
        I64LeUImm(_, a, b) => BrI64LeUImm(a, b, 0),
        I64GeSImm(_, a, b) => BrI64GeSImm(a, b, 0),
        I64GeUImm(_, a, b) => BrI64GeUImm(a, b, 0),
        I32Eqz(_, a) => BrIfEqz { cond: a, target: 0 },
        I64Eqz(_, a) => BrI64Eqz(a, 0),
        I32AndImm(_, a, c) => BrI32AndImmNez(a, c, 0),
        I32Load(_, a, o) => BrI32LoadNez(a, o, 0),
        I32Load8U(_, a, o) => BrI32Load8UNez(a, o, 0),
        I32Load8UAddImm(_, a, c, o) => BrI32Load8UAddImmNez(a, c, o, 0),
        _ => return None,
    })
}

/// Sets the branch target of a branching op.
fn set_target(op: &mut Op, to: u32) {
    match target_mut(op) {
        Some(target) => *target = to,
        None => unreachable!("not a branch: {op:?}"),
    }
}

/// The branch target of an op, if it branches (`BrTable` entries are `Br` ops).
fn target_mut(op: &mut Op) -> Option<&mut u32> {
    use Op::*;
    match op {
        Br { target } | BrIfNez { target, .. } | BrIfEqz { target, .. } => Some(target),
        BrI32Eq(.., t)
        | BrI32Ne(.., t)
        | BrI32LtS(.., t)
        | BrI32LtU(.., t)
        | BrI32GtS(.., t)
        | BrI32GtU(.., t)
        | BrI32LeS(.., t)
        | BrI32LeU(.., t)
        | BrI32GeS(.., t)
        | BrI32GeU(.., t)
        | BrI32EqImm(.., t)
        | BrI32NeImm(.., t)
        | BrI32LtSImm(.., t)
        | BrI32LtUImm(.., t)
        | BrI32GtSImm(.., t)
        | BrI32GtUImm(.., t)
        | BrI32LeSImm(.., t)
        | BrI32LeUImm(.., t)
        | BrI32GeSImm(.., t)
        | BrI32GeUImm(.., t)
        | BrI64Eq(.., t)
        | BrI64Ne(.., t)
        | BrI64LtS(.., t)
        | BrI64LtU(.., t)
        | BrI64GtS(.., t)
        | BrI64GtU(.., t)
        | BrI64LeS(.., t)
        | BrI64LeU(.., t)
        | BrI64GeS(.., t)
        | BrI64GeU(.., t)
        | BrI64EqImm(.., t)
        | BrI64NeImm(.., t)
        | BrI64LtSImm(.., t)
        | BrI64LtUImm(.., t)
        | BrI64GtSImm(.., t)
        | BrI64GtUImm(.., t)
        | BrI64LeSImm(.., t)
        | BrI64LeUImm(.., t)
        | BrI64GeSImm(.., t)
        | BrI64GeUImm(.., t)
        | BrI64Eqz(_, t)
        | BrI64Nez(_, t)
        | BrI32AndImmNez(.., t)
        | BrI32AndImmEqz(.., t)
        | BrI32LoadNez(.., t)
        | BrI32LoadEqz(.., t)
        | BrI32Load8UNez(.., t)
        | BrI32Load8UEqz(.., t)
        | BrI32Load8UAddImmNez(.., t)
        | BrI32Load8UAddImmEqz(.., t)
        | BrI32Load8UNe(.., t)
        | BrI32Load8UEq(.., t)
        | I32AddImmBrNez(.., t)
        | I32AddImmBrEqz(.., t)
        | I32AddImmThenBr { target: t, .. }
        | I32AddImmThenAddImmBrNez { target: t, .. }
        | ByteCompareLoop { exit: t, .. }
        | I32LoadThenBrIfEqz { target: t, .. }
        | I32AddThenBrI32LeU { target: t, .. }
        | I32AddImmThenBrI32Ne { target: t, .. } => Some(t),
        _ => None,
    }
}

/// Joins adjacent pairs of the commonest ops into one op each (the list is `join`): one
/// dispatch instead of two. The joined op replaces the first of the pair and does both
/// halves in order, so it is exact whatever the registers; it then steps over the
/// second, which stays in place (never executed), so no index moves and no target
/// needs renumbering. A pair is joined only when its second op is no branch target (so
/// it is reached only from the first) and every field fits the joined op's 16-bit
/// fields. `branches` lists every op with a target. The four ops of a byte-compare
/// loop become one `ByteCompareLoop` the same way (the other three stepped over), and
/// last, a `Br` to an `I32AddImmThenBr` becomes a copy of it.
fn join_pairs(code: &mut [Op], branches: &[u32]) {
    let n = code.len();
    #[cfg(test)]
    {
        // The translator's list is every op with a target (checked wherever unit tests
        // translate code; the spec suites would fail on a missed target too).
        let mut listed = branches.to_vec();
        listed.sort_unstable();
        let scanned: Vec<u32> = (0..n as u32)
            .filter(|&i| target_mut(&mut code[i as usize]).is_some())
            .collect();
        assert_eq!(listed, scanned, "{code:?}");
    }
    let mut is_target = vec![false; n + 1];
    for &k in branches {
        if let Some(&mut t) = target_mut(&mut code[k as usize]) {
            is_target[t as usize] = true;
        }
    }
    let mut i = 0;
    while i + 1 < n {
        if let Op::BrI32Load8UNe(..) = code[i]
            && i + 3 < n
            && !is_target[i + 1..i + 4].contains(&true)
            && let Some(op) = byte_compare_loop(&code[i..i + 4], i as u32)
        {
            code[i] = op;
            i += 4;
            continue;
        }
        if let Op::Copy { .. } = code[i]
            && i + 2 < n
            && let Some(op) = copy_pair_then_call(&code[i..i + 3])
            && !is_target[i + 1..i + 3].contains(&true)
        {
            code[i] = op;
            i += 3;
            continue;
        }
        if let Some(pair) = join(&code[i], &code[i + 1])
            && !is_target[i + 1]
        {
            code[i] = pair;
            i += 2;
            continue;
        }
        i += 1;
    }
    // A `Br` to a step-and-back-edge does the step and takes the back edge itself (the
    // end of a VDBE opcode's case, `break` to `pOp++`): the same work, one dispatch
    // fewer. Every cycle still has a backward jump, so interrupts are still checked.
    for &k in branches {
        if let Op::Br { target } = code[k as usize]
            && let op @ Op::I32AddImmThenBr { .. } = code[target as usize]
        {
            code[k as usize] = op;
        }
    }
}

/// `r` as a 16-bit field of a fused or joined op, if it fits.
fn narrow(r: Reg) -> Option<u16> {
    u16::try_from(r).ok()
}

/// Two `Copy`s into a call's argument slots, then the `Call`, as one op.
fn copy_pair_then_call(ops: &[Op]) -> Option<Op> {
    let &[
        Op::Copy { dst: d1, src: s1 },
        Op::Copy { dst: d2, src: s2 },
        Op::Call { func, base, dst },
    ] = ops
    else {
        return None;
    };
    let r = narrow;
    let k = |d: u32| u8::try_from(d.checked_sub(base)?).ok();
    Some(Op::CopyPairThenCall {
        func,
        base: r(base)?,
        ret: r(dst)?,
        s1: r(s1)?,
        s2: r(s2)?,
        k1: k(d1)?,
        k2: k(d2)?,
    })
}

/// `ops` as one `ByteCompareLoop` if they are a byte-compare loop starting at `at`:
/// the compare of `*a` and `*b`, the steps `a += 1` and `b += 1` (either order), and
/// `n -= 1` branching back to the compare while nonzero, with five distinct registers.
fn byte_compare_loop(ops: &[Op], at: u32) -> Option<Op> {
    let &[
        Op::BrI32Load8UNe(dst_a, dst_b, addrs, exit),
        Op::I32AddImm(s1, s1_src, 1),
        Op::I32AddImm(s2, s2_src, 1),
        Op::I32AddImmBrNez(n, -1, back),
    ] = ops
    else {
        return None;
    };
    let dst_b = narrow(dst_b)?;
    let (a, b) = ((addrs & 0xffff) as u16, (addrs >> 16) as u16);
    // Each step is `r += 1` in place, one on `a` and one on `b`, in either order.
    let (ra, rb) = (u32::from(a), u32::from(b));
    let steps_both = s1 == s1_src && s2 == s2_src && ((s1, s2) == (ra, rb) || (s1, s2) == (rb, ra));
    let n = narrow(n)?;
    let regs = [dst_a, dst_b, a, b, n];
    let distinct = (0..5).all(|i| (i + 1..5).all(|j| regs[i] != regs[j]));
    (back == at && steps_both && distinct).then_some(Op::ByteCompareLoop {
        dst_a,
        dst_b,
        a,
        b,
        n,
        exit,
    })
}

/// The joined form of ops `a` then `b`, if there is one and their fields fit it.
/// (Inlined into `join_pairs`' sweep, where it is mostly a test of `a`'s tag.)
#[inline]
fn join(a: &Op, b: &Op) -> Option<Op> {
    // Registers and offsets in 16 bits, immediates in 16 signed bits.
    let r = narrow;
    let imm = |x: i32| i16::try_from(x).ok();
    Some(match (*a, *b) {
        (
            Op::Copy { dst: d, src },
            Op::Call {
                func,
                base,
                dst: ret,
            },
        ) => Op::CopyThenCall {
            func,
            base: r(base)?,
            ret: r(ret)?,
            dst: r(d)?,
            src: r(src)?,
        },
        (Op::Copy { dst: d1, src: s1 }, Op::Copy { dst: d2, src: s2 }) => Op::CopyPair {
            d1: r(d1)?,
            s1: r(s1)?,
            d2: r(d2)?,
            s2: r(s2)?,
        },
        (Op::I32AddImm(d1, a1, i1), Op::I32AddImm(d2, a2, i2)) => Op::I32AddImmPair {
            d1: r(d1)?,
            a1: r(a1)?,
            i1: imm(i1)?,
            d2: r(d2)?,
            a2: r(a2)?,
            i2: imm(i2)?,
        },
        (Op::I32Load(d1, a1, o1), Op::I32Load(d2, a2, o2)) => Op::I32LoadPair {
            d1: r(d1)?,
            a1: r(a1)?,
            o1: r(o1)?,
            d2: r(d2)?,
            a2: r(a2)?,
            o2: r(o2)?,
        },
        (Op::I64Load(d1, a1, o1), Op::I64Load(d2, a2, o2)) => Op::I64LoadPair {
            d1: r(d1)?,
            a1: r(a1)?,
            o1: r(o1)?,
            d2: r(d2)?,
            a2: r(a2)?,
            o2: r(o2)?,
        },
        (Op::F64Add(d1, a1, b1), Op::F64Add(d2, a2, b2)) if b2 == d1 => Op::F64AddThenAdd {
            d1: r(d1)?,
            a1: r(a1)?,
            b1: r(b1)?,
            d2: r(d2)?,
            a2: r(a2)?,
        },
        (Op::I32Load(d, a, offset), Op::BrIfEqz { cond, target }) if cond == d => {
            Op::I32LoadThenBrIfEqz {
                d: r(d)?,
                a: r(a)?,
                offset,
                target,
            }
        }
        (Op::I32AddImm(d, a, imm), Op::Store8Imm(addr, value, offset)) if addr == d => {
            Op::I32AddImmThenStore8Imm {
                d: r(d)?,
                a: r(a)?,
                imm,
                offset,
                value: value as u8,
            }
        }
        (Op::I32AddImm(d, a, i), Op::BrI32Ne(x, y, target)) => Op::I32AddImmThenBrI32Ne {
            d: r(d)?,
            a: r(a)?,
            imm: imm(i)?,
            x: r(x)?,
            y: r(y)?,
            target,
        },
        (Op::I32Add(d, a, b), Op::BrI32LeU(x, y, target)) => Op::I32AddThenBrI32LeU {
            d: r(d)?,
            a: r(a)?,
            b: r(b)?,
            x: r(x)?,
            y: r(y)?,
            target,
        },
        (Op::I32Add(d, a1, a2), Op::Return1 { src }) => Op::I32AddThenReturn1 {
            d: r(d)?,
            a: r(a1)?,
            b: r(a2)?,
            src: r(src)?,
        },
        (Op::GlobalSetAddImm { global, src, imm }, Op::Return1 { src: ret }) => {
            Op::GlobalSetAddImmThenReturn1 {
                global: r(global)?,
                src: r(src)?,
                ret: r(ret)?,
                imm,
            }
        }
        (Op::I32AddImm(d, a, i), Op::Br { target }) => Op::I32AddImmThenBr {
            d: r(d)?,
            a: r(a)?,
            imm: i,
            target,
        },
        (Op::I32AddImm(d, a, i), Op::I32AddImmBrNez(x, c, target)) => {
            Op::I32AddImmThenAddImmBrNez {
                d: r(d)?,
                a: r(a)?,
                imm: imm(i)?,
                x: r(x)?,
                c: imm(c)?,
                target,
            }
        }
        _ => return None,
    })
}

/// Builds an op with an immediate: `(dst, src, imm)`.
type ImmOp = fn(Reg, Reg, i32) -> Op;

/// How an integer binary op may take a constant right operand.
enum ImmForm {
    /// `op(dst, lhs, imm)`.
    Rhs(ImmOp),
    /// Commutative: a constant on either side.
    Either(ImmOp),
    /// A comparison: a constant on the left uses the mirrored comparison.
    Compare(ImmOp, ImmOp),
    /// Subtraction: `x - c` is `x + (-c)`; `c - x` has its own op.
    Sub(ImmOp, ImmOp),
    /// Division: only for divisors that cannot trap.
    Div(ImmOp, bool),
    None,
}

impl<'a> Translator<'a> {
    fn emit(&mut self, op: Op) -> u32 {
        self.code.push(op);
        self.last_result = None;
        self.last_local_write = None;
        (self.code.len() - 1) as u32
    }

    /// The index of `value` in the constant pool, adding it if new.
    fn pool(&mut self, value: u128) -> u32 {
        let next = self.consts.len() as u32;
        let index = *self.const_index.entry(value).or_insert(next);
        if index == next {
            self.consts.push(value);
        }
        index
    }

    fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    fn too_large(&self) -> Error {
        Error::invalid(self.at, "function too large")
    }

    fn next_slot(&self) -> Reg {
        self.stack
            .last()
            .map_or(self.num_local_slots, |o| o.slot + o.ty.slots())
    }

    fn note_slots(&mut self, end: u32) {
        self.max_slot = self.max_slot.max(end);
    }

    fn push(&mut self, ty: ValType, kind: Kind) -> Reg {
        let slot = self.next_slot();
        self.note_slots(slot + ty.slots());
        if let Kind::Local(l) = kind {
            let index = self.local_index(l);
            self.local_refs[index] += 1;
            self.alias_count += 1;
        }
        self.stack.push(Operand { ty, slot, kind });
        slot
    }

    /// Pushes a result computed by the op just emitted.
    fn push_result(&mut self, ty: ValType) -> Reg {
        self.push(ty, Kind::Temp)
    }

    /// Emits `make(dst)` and pushes its result.
    fn emit_result(&mut self, ty: ValType, make: impl FnOnce(Reg) -> Op) {
        let dst = self.next_slot();
        self.push_result(ty);
        self.code.push(make(dst));
        self.last_result = Some(self.code.len() - 1);
        self.last_local_write = None;
    }

    fn local_index(&self, slot: Reg) -> usize {
        // Locals are few per slot; the slot→index map is monotonic.
        self.local_slot
            .binary_search(&slot)
            .expect("a local's slot")
    }

    fn pop(&mut self) -> Operand {
        let o = self.stack.pop().expect("validated");
        if let Kind::Local(l) = o.kind {
            let index = self.local_index(l);
            self.local_refs[index] -= 1;
            self.alias_count -= 1;
        }
        o
    }

    fn copy_op(ty: ValType, dst: Reg, src: Reg) -> Op {
        if ty == ValType::V128 {
            Op::Copy2 { dst, src }
        } else {
            Op::Copy { dst, src }
        }
    }

    fn const_op(ty: ValType, dst: Reg, value: u64) -> Op {
        match ty {
            ValType::I32 | ValType::F32 => Op::Const32 {
                dst,
                value: value as u32,
            },
            _ => Op::Const64 { dst, value },
        }
    }

    /// Writes the value of `o` into slot `dst`.
    fn move_to(&mut self, o: Operand, dst: Reg) {
        match o.kind {
            Kind::Temp if o.slot == dst => {}
            Kind::Temp => {
                self.emit(Self::copy_op(o.ty, dst, o.slot));
            }
            Kind::Local(l) if l == dst => {}
            Kind::Local(l) => {
                self.emit(Self::copy_op(o.ty, dst, l));
            }
            Kind::Const(c) => {
                self.emit(Self::const_op(o.ty, dst, c));
            }
        }
    }

    /// Writes stack entry `i` into its own slot.
    fn materialize(&mut self, i: usize) {
        let o = self.stack[i];
        if o.kind == Kind::Temp {
            return;
        }
        self.move_to(o, o.slot);
        if let Kind::Local(l) = o.kind {
            let index = self.local_index(l);
            self.local_refs[index] -= 1;
            self.alias_count -= 1;
        }
        self.stack[i].kind = Kind::Temp;
    }

    fn materialize_top(&mut self, n: usize) {
        let len = self.stack.len();
        for i in len - n..len {
            self.materialize(i);
        }
    }

    /// Makes sure no stack entry aliases a local.
    fn materialize_locals(&mut self) {
        if self.alias_count == 0 {
            return;
        }
        for i in 0..self.stack.len() {
            if matches!(self.stack[i].kind, Kind::Local(_)) {
                self.materialize(i);
            }
        }
    }

    /// Before local `index` is written: entries aliasing it take its current value.
    fn preserve_local(&mut self, index: usize) {
        if self.local_refs[index] == 0 {
            return;
        }
        let slot = self.local_slot[index];
        for i in 0..self.stack.len() {
            if self.stack[i].kind == Kind::Local(slot) {
                self.materialize(i);
            }
        }
    }

    /// A register holding the popped operand's value.
    fn reg(&mut self, o: Operand) -> Reg {
        match o.kind {
            Kind::Temp => o.slot,
            Kind::Local(l) => l,
            Kind::Const(c) => {
                self.emit(Self::const_op(o.ty, o.slot, c));
                o.slot
            }
        }
    }

    fn pop_reg(&mut self) -> Reg {
        let o = self.pop();
        self.reg(o)
    }

    /// The index of the op that computed the top operand, if it may be rewritten.
    fn fusable_top(&self) -> Option<usize> {
        let top = self.stack.last()?;
        let i = self.last_result?;
        (top.kind == Kind::Temp && i + 1 == self.code.len()).then_some(i)
    }

    // ---- control ----

    fn label_types(&self, depth: u32) -> &'a [ValType] {
        let b = self.block_at(depth);
        if b.kind == FrameKind::Loop {
            self.v.block_params(b.ty)
        } else {
            self.v.block_results(b.ty)
        }
    }

    fn block_at(&self, depth: u32) -> &Block {
        &self.blocks[self.blocks.len() - 1 - depth as usize]
    }

    /// Does branching to `depth` need moves of the top operands?
    fn branch_needs_moves(&self, depth: u32) -> bool {
        let block = self.block_at(depth);
        if block.kind == FrameKind::Func {
            return true;
        }
        let n = self.label_types(depth).len();
        let dst = block.base_slot;
        let start = self.stack.len() - n;
        if n == 0 {
            return false;
        }
        let first = self.stack[start];
        first.slot != dst || self.stack[start..].iter().any(|o| o.kind != Kind::Temp)
    }

    /// Moves the branch values to the label's slots (without popping them).
    fn branch_moves(&mut self, depth: u32) {
        let n = self.label_types(depth).len();
        let block = self.block_at(depth);
        if block.kind == FrameKind::Func {
            self.return_moves();
            return;
        }
        let mut dst = block.base_slot;
        let start = self.stack.len() - n;
        for i in start..self.stack.len() {
            let o = self.stack[i];
            self.move_to(o, dst);
            dst += o.ty.slots();
        }
    }

    /// Moves the function's results into slots `0..`. Leaves the stack model unchanged:
    /// this code may run on one path only (a `br_if` or `br_table` arm).
    fn return_moves(&mut self) {
        let n = self.results.len();
        let start = self.stack.len() - n;
        let mut values: Vec<Operand> = self.stack[start..].to_vec();
        // A result read from a local that an earlier result overwrites is saved first in
        // its own (temporary) slot, which lies above every destination slot.
        let clobber = values.iter().any(|o| match o.kind {
            Kind::Local(l) => l < self.result_slots,
            _ => false,
        });
        if clobber && n > 1 {
            for o in values.iter_mut() {
                if matches!(o.kind, Kind::Local(_)) {
                    self.move_to(*o, o.slot);
                    o.kind = Kind::Temp;
                }
            }
        }
        let mut dst = 0;
        for o in values {
            self.move_to(o, dst);
            dst += o.ty.slots();
        }
    }

    /// Emits a return of the function's results from the top of the stack.
    fn emit_return(&mut self) {
        let results = self.result_slots;
        if results == 1 {
            let o = *self.stack.last().expect("validated");
            match o.kind {
                Kind::Const(c) => {
                    self.emit(Self::const_op(o.ty, 0, c));
                    self.emit(Op::Return);
                }
                Kind::Temp => {
                    self.emit(Op::Return1 { src: o.slot });
                }
                Kind::Local(l) => {
                    self.emit(Op::Return1 { src: l });
                }
            }
        } else {
            self.return_moves();
            self.emit(Op::Return);
        }
    }

    /// Emits a branch op to `depth`, patched later if the target is ahead.
    fn emit_branch_op(&mut self, depth: u32, op: Op) {
        let idx = self.emit(op);
        self.link(depth, idx);
    }

    fn link(&mut self, depth: u32, idx: u32) {
        let n = self.blocks.len() - 1 - depth as usize;
        let block = &mut self.blocks[n];
        if block.kind == FrameKind::Loop {
            let start = block.loop_start;
            set_target(&mut self.code[idx as usize], start);
            self.branches.push(idx);
        } else {
            block.pending.push(idx);
        }
    }

    fn bind_pending(&mut self, pending: Vec<u32>) {
        let here = self.pc();
        self.label_pc = here;
        for idx in pending {
            set_target(&mut self.code[idx as usize], here);
            self.branches.push(idx);
        }
        self.last_result = None;
        self.last_local_write = None;
    }

    /// An unconditional branch to `depth` with the top operands as its values.
    fn br(&mut self, depth: u32) {
        if self.block_at(depth).kind == FrameKind::Func {
            self.emit_return();
            return;
        }
        self.branch_moves(depth);
        self.emit_branch_op(depth, Op::Br { target: 0 });
    }

    /// `br_if` / `if`: `cond_op` is a branch that jumps when the condition holds.
    fn take_condition(&mut self) -> Op {
        if let Some(i) = self.fusable_top()
            && let Some(fused) = fuse_compare(self.code[i])
        {
            self.code.pop();
            self.pop();
            return self
                .fuse_byte_compare(fused)
                .or_else(|| self.fuse_negated_condition(fused))
                .unwrap_or(fused);
        }
        // A counter stepped in place and tested: `x = x + c; br_if x`.
        if let Some(&Operand {
            kind: Kind::Local(l),
            ..
        }) = self.stack.last()
            && let Some((i, written)) = self.last_local_write
            && written == l
            && i + 1 == self.code.len()
            && let Op::I32AddImm(d, src, c) = self.code[i]
            && d == l
            && src == l
            // No other entry reads the local: the fused op may land after the copies
            // an `if` makes of such entries, which must see the stepped value.
            && self.local_refs[self.local_index(l)] == 1
        {
            self.code.pop();
            self.pop();
            self.last_local_write = None;
            return Op::I32AddImmBrNez(l, c, 0);
        }
        let cond = self.pop_reg();
        Op::BrIfNez { cond, target: 0 }
    }

    /// `BrI32Ne`/`BrI32Eq` (just taken off the code) comparing the bytes the two ops
    /// before it loaded, as one `BrI32Load8UNe`/`Eq` doing all three in order. Only when
    /// no label lies after the first load (a branch to the second load or to the compare
    /// would skip part of the fused op; one to the first load runs all of it), the
    /// compare reads exactly the two loads' destinations, these differ, both offsets are
    /// 0 and the registers fit the op's 16-bit fields. The loads' results are still
    /// written: they may be locals (a folded `local.set`/`tee`) read later.
    fn fuse_byte_compare(&mut self, fused: Op) -> Option<Op> {
        let (ra, rb, eq) = match fused {
            Op::BrI32Ne(a, b, _) => (a, b, false),
            Op::BrI32Eq(a, b, _) => (a, b, true),
            _ => return None,
        };
        let n = self.code.len();
        if n < 2 || self.label_pc as usize > n - 2 {
            return None;
        }
        let (Op::I32Load8U(da, xa, 0), Op::I32Load8U(db, xb, 0)) =
            (self.code[n - 2], self.code[n - 1])
        else {
            return None;
        };
        if da != ra || db != rb || da == db {
            return None;
        }
        let (da, xa, xb) = (narrow(da)?, narrow(xa)?, narrow(xb)?);
        let addrs = u32::from(xa) | u32::from(xb) << 16;
        self.code.truncate(n - 2);
        self.last_result = None;
        self.last_local_write = None;
        Some(if eq {
            Op::BrI32Load8UEq(da, db, addrs, 0)
        } else {
            Op::BrI32Load8UNe(da, db, addrs, 0)
        })
    }

    /// `i32.eqz` of a condition the op before it computed (`x & C`, a load, a
    /// comparison), branched on: `fused` is the `BrIfEqz` the `i32.eqz` became, the op
    /// before it is now the last; both become that op's branch form, negated
    /// (`BrI32AndImmEqz`, `BrI32LoadEqz`, the inverse comparison). Only when that op
    /// wrote a temporary (the one the `i32.eqz` read; a local it was folded into must
    /// keep its value) and no label lies after it (a branch landing on the `i32.eqz`
    /// would skip the op).
    fn fuse_negated_condition(&mut self, fused: Op) -> Option<Op> {
        let Op::BrIfEqz { cond, .. } = fused else {
            return None;
        };
        let n = self.code.len();
        if n == 0 || self.label_pc as usize > n - 1 || cond < self.num_local_slots {
            return None;
        }
        let mut before = self.code[n - 1];
        if before.retargetable_dst().copied() != Some(cond) {
            return None;
        }
        let inner = fuse_compare(before)?;
        self.code.pop();
        self.last_result = None;
        self.last_local_write = None;
        let inner = self.fuse_byte_compare(inner).unwrap_or(inner);
        Some(negate_branch(inner))
    }

    /// `global.set g` of an i32 the last op computed as `x + C`, as one op: the
    /// stack-pointer epilogue (`I32AddImm` into a temporary, which only the `global.set`
    /// reads) becomes `GlobalSetAddImm`; the prologue (`GlobalGet g` into a temporary,
    /// `I32AddImm` of it folded into a local by `local.tee`, that local set back to `g`)
    /// becomes `GlobalAddImmTee`, when no label lies after the `GlobalGet`. Pops the
    /// value and emits the op if it fuses.
    fn fuse_global_set(&mut self, g: u32) -> bool {
        let Some(&top) = self.stack.last() else {
            return false;
        };
        if top.ty != ValType::I32 {
            return false;
        }
        if let Some(i) = self.fusable_top()
            && let Op::I32AddImm(_, src, imm) = self.code[i]
        {
            self.code.pop();
            self.pop();
            self.emit(Op::GlobalSetAddImm {
                global: g,
                src,
                imm,
            });
            return true;
        }
        let n = self.code.len();
        if let Kind::Local(x) = top.kind
            && let Some((i, written)) = self.last_local_write
            && written == x
            && i + 1 == n
            && i >= 1
            && (self.label_pc as usize) < i
            && let Op::I32AddImm(dst, t, imm) = self.code[i]
            && dst == x
            && let Op::GlobalGet { dst: got, global } = self.code[i - 1]
            && got == t
            && global == g
            && t >= self.num_local_slots
        {
            self.code.truncate(i - 1);
            self.pop();
            self.emit(Op::GlobalAddImmTee {
                dst: x,
                global: g,
                imm,
            });
            return true;
        }
        false
    }

    fn br_if(&mut self, depth: u32) {
        let branch = self.take_condition();
        if !self.branch_needs_moves(depth) {
            self.emit_branch_op(depth, branch);
            return;
        }
        if self.block_at(depth).kind == FrameKind::Func {
            let skip = self.emit(negate_branch(branch));
            self.emit_return();
            self.bind_pending(vec![skip]);
            return;
        }
        let skip = self.emit(negate_branch(branch));
        self.branch_moves(depth);
        self.emit_branch_op(depth, Op::Br { target: 0 });
        self.bind_pending(vec![skip]);
    }

    fn br_table(&mut self, targets: &[u32], default: u32) {
        let len = targets.len() as u32;
        // On a byte just loaded (into a temporary, or into a local by `local.tee`, as the
        // VDBE's opcode switch keeps its opcode): one op, which still writes the byte.
        if let Some((dst, addr, offset)) = self.byte_just_loaded() {
            self.code.pop();
            self.pop();
            self.emit(Op::BrTableLoad8U {
                dst,
                addr,
                offset,
                len,
            });
        } else {
            let index = self.pop_reg();
            self.emit(Op::BrTable { index, len });
        }
        let table_start = self.pc();
        for _ in 0..=len {
            self.emit(Op::Br { target: 0 });
        }
        let all = targets.iter().copied().chain(std::iter::once(default));
        for (i, depth) in all.enumerate() {
            let entry = table_start + i as u32;
            if self.branch_needs_moves(depth) {
                let stub = self.pc();
                self.label_pc = stub;
                set_target(&mut self.code[entry as usize], stub);
                self.branches.push(entry);
                self.br(depth);
            } else {
                self.link(depth, entry);
            }
        }
    }

    /// The `I32Load8U` that is the last op emitted and wrote the top operand, a
    /// temporary or (through a folded `local.tee`) a local, with 16-bit registers: its
    /// destination, address register and offset.
    fn byte_just_loaded(&self) -> Option<(u16, u16, u32)> {
        let i = match self.stack.last()?.kind {
            Kind::Temp => self.fusable_top()?,
            Kind::Local(l) => match self.last_local_write? {
                (i, written) if written == l && i + 1 == self.code.len() => i,
                _ => return None,
            },
            _ => return None,
        };
        let Op::I32Load8U(dst, addr, offset) = self.code[i] else {
            return None;
        };
        Some((narrow(dst)?, narrow(addr)?, offset))
    }

    fn block_start(&mut self, kind: FrameKind, ty: BlockType) {
        let params = self.v.block_params(ty);
        let dead = !self.reachable;
        let mut base_slot = self.next_slot();
        if !dead {
            self.materialize_locals();
            // Loop parameters are rewritten by every branch back; an `if`'s are seen
            // again by its `else`: both need them in their slots.
            if kind != FrameKind::Block {
                self.materialize_top(params.len());
            }
            let height = self.stack.len() - params.len();
            base_slot = self.stack.get(height).map_or(base_slot, |o| o.slot);
        }
        let height = if dead {
            self.stack.len()
        } else {
            self.stack.len() - params.len()
        };
        self.blocks.push(Block {
            kind,
            ty,
            height,
            base_slot,
            dead,
            loop_start: self.pc(),
            pending: Vec::new(),
            else_branch: None,
        });
        self.label_pc = self.pc();
        self.last_result = None;
        self.last_local_write = None;
    }

    /// Leaves the block's results (or an `if`'s parameters) at its slots as temporaries.
    fn reset_stack(&mut self, height: usize, base_slot: Reg, types: &[ValType]) {
        while self.stack.len() > height {
            self.pop();
        }
        let mut slot = base_slot;
        for &ty in types {
            self.stack.push(Operand {
                ty,
                slot,
                kind: Kind::Temp,
            });
            slot += ty.slots();
        }
        self.note_slots(slot);
    }

    /// Materializes the block's results in place at its end (or before `else`).
    fn finish_arm(&mut self, results: usize) {
        self.materialize_top(results);
    }

    fn op(&mut self, op: &Operator) -> Result<()> {
        use Operator as O;
        match *op {
            O::Block(ty) => {
                self.block_start(FrameKind::Block, ty);
                return Ok(());
            }
            O::Loop(ty) => {
                self.block_start(FrameKind::Loop, ty);
                return Ok(());
            }
            O::If(ty) => {
                let live = self.reachable;
                let branch = if live {
                    Some(self.take_condition())
                } else {
                    None
                };
                self.block_start(FrameKind::If, ty);
                if let Some(branch) = branch {
                    let idx = self.emit(negate_branch(branch));
                    self.blocks.last_mut().unwrap().else_branch = Some(idx);
                }
                return Ok(());
            }
            O::Else => {
                let block = self.blocks.last().expect("validated");
                let (dead, height, base, ty) =
                    (block.dead, block.height, block.base_slot, block.ty);
                if !dead {
                    if self.reachable {
                        let n = self.v.block_results(ty).len();
                        self.finish_arm(n);
                        let idx = self.emit(Op::Br { target: 0 });
                        self.blocks.last_mut().unwrap().pending.push(idx);
                    }
                    let else_branch = self.blocks.last_mut().unwrap().else_branch.take();
                    if let Some(e) = else_branch {
                        self.bind_pending(vec![e]);
                    }
                    let params = self.v.block_params(ty);
                    self.reset_stack(height, base, params);
                    self.reachable = true;
                }
                self.blocks.last_mut().unwrap().kind = FrameKind::Else;
                return Ok(());
            }
            O::End => {
                let block = self.blocks.pop().expect("validated");
                if block.kind == FrameKind::Func {
                    if self.reachable {
                        self.emit_return();
                    }
                    return Ok(());
                }
                if block.dead {
                    return Ok(());
                }
                let results = self.v.block_results(block.ty);
                if self.reachable {
                    self.finish_arm(results.len());
                }
                let mut pending = block.pending;
                if let Some(e) = block.else_branch {
                    pending.push(e);
                }
                let has_entry = !pending.is_empty() || self.reachable;
                self.bind_pending(pending);
                self.reset_stack(block.height, block.base_slot, results);
                self.reachable = has_entry;
                return Ok(());
            }
            _ => {}
        }
        if !self.reachable {
            return Ok(());
        }
        self.instr(op)
    }

    fn instr(&mut self, op: &Operator) -> Result<()> {
        use Operator as O;
        use ValType::*;
        match *op {
            O::Unreachable => {
                self.emit(Op::Unreachable);
                self.reachable = false;
            }
            O::Nop => {}
            O::Br(depth) => {
                self.br(depth);
                self.reachable = false;
            }
            O::BrIf(depth) => self.br_if(depth),
            O::BrTable {
                ref targets,
                default,
            } => {
                self.br_table(targets, default);
                self.reachable = false;
            }
            O::Return => {
                self.emit_return();
                self.reachable = false;
            }
            O::Call(f) => {
                let m = self.module;
                let ty = &m.types[m.funcs[f as usize] as usize];
                let base = self.call_args(ty.params().len());
                if f < m.num_imported_funcs {
                    self.emit(Op::CallImport { func: f, base });
                    self.call_results(ty.results());
                } else {
                    let call = self.emit(Op::Call {
                        func: f - m.num_imported_funcs,
                        base,
                        dst: base,
                    });
                    self.call_results(ty.results());
                    // One one-slot result: a `local.set` of it may fold into the call,
                    // which then returns it straight into the local.
                    if let [t] = ty.results()
                        && t.slots() == 1
                    {
                        self.last_result = Some(call as usize);
                    }
                }
            }
            O::CallIndirect { type_index, table } => {
                let ty = &self.module.types[type_index as usize];
                // The index sits right above the arguments.
                let base = self.call_args(ty.params().len() + 1);
                self.emit(Op::CallIndirect {
                    type_index,
                    table,
                    base,
                });
                self.call_results(ty.results());
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::SelectTyped(_) => self.select(),
            O::LocalGet(i) => {
                let (slot, ty) = (self.local_slot[i as usize], self.local_type[i as usize]);
                self.push(ty, Kind::Local(slot));
            }
            O::LocalSet(i) => self.local_set(i as usize, false),
            O::LocalTee(i) => self.local_set(i as usize, true),
            O::GlobalGet(g) => {
                let ty = self.module.global_types[g as usize].content;
                if ty == V128 {
                    self.emit_result(ty, |dst| Op::GlobalGet2 { dst, global: g });
                } else {
                    self.emit_result(ty, |dst| Op::GlobalGet { dst, global: g });
                }
            }
            O::GlobalSet(g) => {
                if self.fuse_global_set(g) {
                    return Ok(());
                }
                let o = self.pop();
                let src = self.reg(o);
                if o.ty == V128 {
                    self.emit(Op::GlobalSet2 { src, global: g });
                } else {
                    self.emit(Op::GlobalSet { src, global: g });
                }
            }
            O::TableGet(table) => {
                let index = self.pop_reg();
                let ty = self.module.tables[table as usize].element.into();
                self.emit_result(ty, |dst| Op::TableGet { dst, table, index });
            }
            O::TableSet(table) => {
                let value = self.pop_reg();
                let index = self.pop_reg();
                self.emit(Op::TableSet {
                    table,
                    index,
                    value,
                });
            }
            O::Load(kind, arg) if arg.memory != 0 => {
                use LoadKind as L;
                let access = match kind {
                    L::I32 | L::F32 => MemAccess::I32Load,
                    L::I64 | L::F64 => MemAccess::I64Load,
                    L::I32S8 => MemAccess::I32Load8S,
                    L::I32U8 => MemAccess::I32Load8U,
                    L::I32S16 => MemAccess::I32Load16S,
                    L::I32U16 => MemAccess::I32Load16U,
                    L::I64S8 => MemAccess::I64Load8S,
                    L::I64U8 => MemAccess::I64Load8U,
                    L::I64S16 => MemAccess::I64Load16S,
                    L::I64U16 => MemAccess::I64Load16U,
                    L::I64S32 => MemAccess::I64Load32S,
                    L::I64U32 => MemAccess::I64Load32U,
                };
                self.memory_access_n(access, arg, 0, 1, Some(kind.result()));
            }
            O::Store(kind, arg) if arg.memory != 0 => {
                use StoreKind as S;
                let access = match kind {
                    S::I32As8 | S::I64As8 => MemAccess::Store8,
                    S::I32As16 | S::I64As16 => MemAccess::Store16,
                    S::I32 | S::F32 | S::I64As32 => MemAccess::Store32,
                    S::I64 | S::F64 => MemAccess::Store64,
                };
                self.memory_access_n(access, arg, 0, 2, None);
            }
            O::Load(kind, arg) => {
                let off = arg.offset;
                if self.fuse_load_address(kind, off) {
                    return Ok(());
                }
                let addr = self.pop_reg();
                use LoadKind as L;
                let make: fn(Reg, Reg, u32) -> Op = match kind {
                    L::I32 | L::F32 => Op::I32Load,
                    L::I64 | L::F64 => Op::I64Load,
                    L::I32S8 => Op::I32Load8S,
                    L::I32U8 => Op::I32Load8U,
                    L::I32S16 => Op::I32Load16S,
                    L::I32U16 => Op::I32Load16U,
                    L::I64S8 => Op::I64Load8S,
                    L::I64U8 => Op::I64Load8U,
                    L::I64S16 => Op::I64Load16S,
                    L::I64U16 => Op::I64Load16U,
                    L::I64S32 => Op::I64Load32S,
                    L::I64U32 => Op::I64Load32U,
                };
                self.emit_result(kind.result(), |dst| make(dst, addr, off));
            }
            O::Store(kind, arg) => {
                let value = self.pop();
                let addr = self.pop_reg();
                let off = arg.offset;
                use StoreKind as S;
                let width = kind.width_log2();
                let imm = match value.kind {
                    Kind::Const(c) => {
                        if width == 3 {
                            i32::try_from(c as i64).ok()
                        } else {
                            Some(c as u32 as i32)
                        }
                    }
                    _ => None,
                };
                let op = match (imm, kind) {
                    (Some(v), S::I32As8 | S::I64As8) => Op::Store8Imm(addr, v, off),
                    (Some(v), S::I32As16 | S::I64As16) => Op::Store16Imm(addr, v, off),
                    (Some(v), S::I32 | S::F32 | S::I64As32) => Op::Store32Imm(addr, v, off),
                    (Some(v), S::I64 | S::F64) => Op::Store64Imm(addr, v, off),
                    (None, _) => {
                        let src = self.reg(value);
                        match kind {
                            S::I32As8 | S::I64As8 => Op::Store8(addr, src, off),
                            S::I32As16 | S::I64As16 => Op::Store16(addr, src, off),
                            S::I32 | S::F32 | S::I64As32 => Op::Store32(addr, src, off),
                            S::I64 | S::F64 => Op::Store64(addr, src, off),
                        }
                    }
                };
                self.emit(op);
            }
            O::MemorySize(0) => self.emit_result(I32, |dst| Op::MemorySize { dst }),
            O::MemorySize(memory) => {
                self.emit_result(I32, |dst| Op::MemorySizeN { dst, memory });
            }
            O::MemoryGrow(0) => {
                let delta = self.pop_reg();
                self.emit_result(I32, |dst| Op::MemoryGrow { dst, delta });
            }
            O::MemoryGrow(memory) => {
                let delta = self.pop_reg();
                self.emit_result(I32, |dst| Op::MemoryGrowN { dst, delta, memory });
            }
            O::I32Const(v) => {
                self.push(I32, Kind::Const(v as u32 as u64));
            }
            O::I64Const(v) => {
                self.push(I64, Kind::Const(v as u64));
            }
            O::F32Const(bits) => {
                self.push(F32, Kind::Const(u64::from(bits)));
            }
            O::F64Const(bits) => {
                self.push(F64, Kind::Const(bits));
            }
            O::RefNull(t) => {
                self.push(t.into(), Kind::Const(0));
            }
            O::RefIsNull => {
                let src = self.pop_reg();
                self.emit_result(I32, |dst| Op::I64Eqz(dst, src));
            }
            O::RefFunc(func) => self.emit_result(FuncRef, |dst| Op::RefFunc { dst, func }),
            O::MemoryInit { data, memory } => {
                let base = self.operands_in_place(3);
                if memory == 0 {
                    self.emit(Op::MemoryInit { data, base });
                } else {
                    self.emit(Op::MemoryInitN { data, base, memory });
                }
            }
            O::DataDrop(data) => {
                self.emit(Op::DataDrop { data });
            }
            O::MemoryCopy { dst, src } => {
                let base = self.operands_in_place(3);
                if dst == 0 && src == 0 {
                    self.emit(Op::MemoryCopy { base });
                } else {
                    self.emit(Op::MemoryCopyN {
                        base,
                        dst_memory: dst,
                        src_memory: src,
                    });
                }
            }
            O::MemoryFill(memory) => {
                let base = self.operands_in_place(3);
                if memory == 0 {
                    self.emit(Op::MemoryFill { base });
                } else {
                    self.emit(Op::MemoryFillN { base, memory });
                }
            }
            O::TableInit { elem, table } => {
                let base = self.operands_in_place(3);
                self.emit(Op::TableInit { elem, table, base });
            }
            O::ElemDrop(elem) => {
                self.emit(Op::ElemDrop { elem });
            }
            O::TableCopy { dst, src } => {
                let base = self.operands_in_place(3);
                self.emit(Op::TableCopy {
                    dst_table: dst,
                    src_table: src,
                    base,
                });
            }
            O::TableGrow(table) => {
                let base = self.operands_in_place(2);
                self.emit(Op::TableGrow { table, base });
                self.push_result(I32);
            }
            O::TableSize(table) => self.emit_result(I32, |dst| Op::TableSize { dst, table }),
            O::TableFill(table) => {
                let base = self.operands_in_place(3);
                self.emit(Op::TableFill { table, base });
            }
            O::Num(n) => self.num(n),
            O::V128Load(kind, arg) if arg.memory != 0 => {
                use V128LoadKind as K;
                let access = match kind {
                    K::Load => MemAccess::V128Load,
                    K::Load8x8S => MemAccess::V128Load8x8S,
                    K::Load8x8U => MemAccess::V128Load8x8U,
                    K::Load16x4S => MemAccess::V128Load16x4S,
                    K::Load16x4U => MemAccess::V128Load16x4U,
                    K::Load32x2S => MemAccess::V128Load32x2S,
                    K::Load32x2U => MemAccess::V128Load32x2U,
                    K::Load8Splat => MemAccess::V128Load8Splat,
                    K::Load16Splat => MemAccess::V128Load16Splat,
                    K::Load32Splat => MemAccess::V128Load32Splat,
                    K::Load64Splat => MemAccess::V128Load64Splat,
                    K::Load32Zero => MemAccess::V128Load32Zero,
                    K::Load64Zero => MemAccess::V128Load64Zero,
                };
                self.memory_access_n(access, arg, 0, 1, Some(V128));
            }
            O::V128Store(arg) if arg.memory != 0 => {
                self.memory_access_n(MemAccess::V128Store, arg, 0, 2, None);
            }
            O::V128LoadLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) if arg.memory != 0 => {
                let access = [
                    MemAccess::V128Load8Lane,
                    MemAccess::V128Load16Lane,
                    MemAccess::V128Load32Lane,
                    MemAccess::V128Load64Lane,
                ][width_log2 as usize];
                self.memory_access_n(access, arg, lane, 2, Some(V128));
            }
            O::V128StoreLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) if arg.memory != 0 => {
                let access = [
                    MemAccess::V128Store8Lane,
                    MemAccess::V128Store16Lane,
                    MemAccess::V128Store32Lane,
                    MemAccess::V128Store64Lane,
                ][width_log2 as usize];
                self.memory_access_n(access, arg, lane, 2, None);
            }
            O::V128Load(kind, arg) => {
                let addr = self.pop_reg();
                let off = arg.offset;
                use V128LoadKind as K;
                let make: fn(Reg, Reg, u32) -> Op = match kind {
                    K::Load => Op::V128Load,
                    K::Load8x8S => Op::V128Load8x8S,
                    K::Load8x8U => Op::V128Load8x8U,
                    K::Load16x4S => Op::V128Load16x4S,
                    K::Load16x4U => Op::V128Load16x4U,
                    K::Load32x2S => Op::V128Load32x2S,
                    K::Load32x2U => Op::V128Load32x2U,
                    K::Load8Splat => Op::V128Load8Splat,
                    K::Load16Splat => Op::V128Load16Splat,
                    K::Load32Splat => Op::V128Load32Splat,
                    K::Load64Splat => Op::V128Load64Splat,
                    K::Load32Zero => Op::V128Load32Zero,
                    K::Load64Zero => Op::V128Load64Zero,
                };
                self.emit_result(V128, |dst| make(dst, addr, off));
            }
            O::V128Store(arg) => {
                let value = self.pop();
                let addr = self.pop_reg();
                let src = self.reg(value);
                self.emit(Op::V128Store(addr, src, arg.offset));
            }
            O::V128LoadLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) => {
                // Address and vector side by side: the op has no room for a third register.
                let base = self.operands_in_place(2);
                let offset = arg.offset;
                self.emit_result(V128, |dst| match width_log2 {
                    0 => Op::V128Load8Lane {
                        dst,
                        base,
                        offset,
                        lane,
                    },
                    1 => Op::V128Load16Lane {
                        dst,
                        base,
                        offset,
                        lane,
                    },
                    2 => Op::V128Load32Lane {
                        dst,
                        base,
                        offset,
                        lane,
                    },
                    _ => Op::V128Load64Lane {
                        dst,
                        base,
                        offset,
                        lane,
                    },
                });
            }
            O::V128StoreLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) => {
                let value = self.pop();
                let addr = self.pop_reg();
                let src = self.reg(value);
                let offset = arg.offset;
                self.emit(match width_log2 {
                    0 => Op::V128Store8Lane {
                        addr,
                        src,
                        offset,
                        lane,
                    },
                    1 => Op::V128Store16Lane {
                        addr,
                        src,
                        offset,
                        lane,
                    },
                    2 => Op::V128Store32Lane {
                        addr,
                        src,
                        offset,
                        lane,
                    },
                    _ => Op::V128Store64Lane {
                        addr,
                        src,
                        offset,
                        lane,
                    },
                });
            }
            O::V128Const(value) => {
                let index = self.pool(value);
                self.emit_result(V128, |dst| Op::V128Const { dst, index });
            }
            O::I8x16Shuffle(lanes) => {
                let mask = self.pool(u128::from_le_bytes(lanes));
                let lhs = self.operands_in_place(2);
                self.emit_result(V128, |dst| Op::I8x16Shuffle { dst, lhs, mask });
            }
            O::Lane(op, lane) => self.lane(op, lane),
            O::Simd(op) => self.simd(op),
            O::Block(_) | O::Loop(_) | O::If(_) | O::Else | O::End => {
                unreachable!("handled in op")
            }
        }
        if self.max_slot > u32::MAX / 2 {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// A load or store on a memory other than memory 0: its `operands` (the address, then
    /// a value or vector) side by side, the result (if any) at the same base slot.
    fn memory_access_n(
        &mut self,
        access: MemAccess,
        arg: MemArg,
        lane: u8,
        operands: usize,
        result: Option<ValType>,
    ) {
        let base = self.operands_in_place(operands);
        self.emit(Op::MemoryAccessN {
            access,
            lane,
            base,
            offset: arg.offset,
            memory: arg.memory,
        });
        if let Some(ty) = result {
            let dst = self.push_result(ty);
            debug_assert_eq!(dst, base, "a result takes its first operand's slot");
        }
    }

    /// Materializes the top `n` operands in their slots and pops them; returns the first
    /// slot.
    fn operands_in_place(&mut self, n: usize) -> Reg {
        self.materialize_top(n);
        let base = self.stack[self.stack.len() - n].slot;
        for _ in 0..n {
            self.pop();
        }
        base
    }

    /// Places `n` call operands in their slots and pops them; returns the callee's base.
    fn call_args(&mut self, n: usize) -> Reg {
        if n == 0 {
            return self.next_slot();
        }
        self.operands_in_place(n)
    }

    fn call_results(&mut self, results: &[ValType]) {
        for &t in results {
            self.push_result(t);
        }
    }

    /// A memory-0 load whose address is the fresh result of `i32.add` (of a constant or
    /// of two registers that fit 16 bits): one fused op instead of two. Returns whether
    /// it emitted the load.
    fn fuse_load_address(&mut self, kind: LoadKind, offset: u32) -> bool {
        use LoadKind as L;
        let Some(i) = self.fusable_top() else {
            return false;
        };
        let top = self.stack[self.stack.len() - 1];
        type WithImm = fn(Reg, u16, i32, u32) -> Op;
        type WithReg = fn(Reg, u16, u16, u32) -> Op;
        let (with_imm, with_reg): (WithImm, WithReg) = match kind {
            L::I32 | L::F32 => (Op::I32LoadAddImm, Op::I32LoadAdd),
            L::I64 | L::F64 => (Op::I64LoadAddImm, Op::I64LoadAdd),
            L::I32U8 => (Op::I32Load8UAddImm, Op::I32Load8UAdd),
            L::I32S8 => (Op::I32Load8SAddImm, Op::I32Load8SAdd),
            L::I32U16 => (Op::I32Load16UAddImm, Op::I32Load16UAdd),
            L::I32S16 => (Op::I32Load16SAddImm, Op::I32Load16SAdd),
            _ => return false,
        };
        // The address as `(register, constant)` or `(register, register)`.
        let address = match self.code[i] {
            Op::I32AddImm(t, a, c) if t == top.slot => match narrow(a) {
                Some(a) => Ok((a, c)),
                None => return false,
            },
            Op::I32Add(t, a, b) if t == top.slot => match (narrow(a), narrow(b)) {
                (Some(a), Some(b)) => Err((a, b)),
                _ => return false,
            },
            _ => return false,
        };
        self.code.pop();
        self.pop();
        self.emit_result(kind.result(), |dst| match address {
            Ok((a, c)) => with_imm(dst, a, c, offset),
            Err((a, b)) => with_reg(dst, a, b, offset),
        });
        true
    }

    /// `i32.add` with one operand the fresh result of `i32.shl` by a constant (and the
    /// other a local or an older temporary): one [`Op::I32AddShl`]. Returns whether it
    /// emitted the add.
    fn fuse_add_shl(&mut self) -> bool {
        let Some(i) = self.last_result else {
            return false;
        };
        if i + 1 != self.code.len() {
            return false;
        }
        let Op::I32ShlImm(t, index, k) = self.code[i] else {
            return false;
        };
        let len = self.stack.len();
        let (lhs, rhs) = (self.stack[len - 2], self.stack[len - 1]);
        let other = if rhs.kind == Kind::Temp && rhs.slot == t {
            lhs
        } else if lhs.kind == Kind::Temp && lhs.slot == t && rhs.kind != Kind::Temp {
            rhs
        } else {
            return false;
        };
        if matches!(other.kind, Kind::Const(_)) {
            return false;
        }
        self.code.pop();
        self.pop();
        self.pop();
        let base = self.reg(other);
        let shift = (k & 31) as u8;
        self.emit_result(ValType::I32, |dst| Op::I32AddShl {
            dst,
            base,
            index,
            shift,
        });
        true
    }

    fn select(&mut self) {
        let cond = self.pop_reg();
        let b = self.pop();
        let a = self.pop();
        let b_reg = self.reg(b);
        // One op reading both values where they are (a local need not be copied first),
        // whose result a `local.set` may fold into.
        let r = narrow;
        let a_reg = match a.kind {
            Kind::Local(l) => Some(l),
            Kind::Temp => Some(a.slot),
            Kind::Const(_) => None,
        };
        if a.ty != ValType::V128
            && let Some(((a_reg, b_reg), cond)) = a_reg.and_then(r).zip(r(b_reg)).zip(r(cond))
        {
            self.emit_result(a.ty, |dst| Op::Select {
                dst,
                a: a_reg,
                b: b_reg,
                cond,
            });
            return;
        }
        let dst = a.slot;
        self.move_to(a, dst);
        if a.ty == ValType::V128 {
            self.emit(Op::CopyIfEqz2 {
                dst,
                src: b_reg,
                cond,
            });
        } else {
            self.emit(Op::CopyIfEqz {
                dst,
                src: b_reg,
                cond,
            });
        }
        self.push_result(a.ty);
    }

    fn local_set(&mut self, index: usize, tee: bool) {
        let slot = self.local_slot[index];
        let ty = self.local_type[index];
        // Declared locals are zero on entry: a zero stored into one that no code before
        // writes, outside every loop (so it runs once per call, before any write), is
        // no op (clang's `i32.const 0; local.set` at the top of a function).
        if index >= self.num_params
            && !self.local_written[index]
            && let Some(&Operand {
                kind: Kind::Const(0),
                ..
            }) = self.stack.last()
            && !self.blocks.iter().any(|b| b.kind == FrameKind::Loop)
        {
            self.pop();
            if tee {
                self.push(ty, Kind::Const(0));
            }
            return;
        }
        self.local_written[index] = true;
        // Fold into the op that computed the value when nothing else reads this local.
        if self.local_refs[index] == 0
            && let Some(i) = self.fusable_top()
            && let Some(dst) = self.code[i].retargetable_dst()
        {
            *dst = slot;
            self.pop();
            self.last_result = None;
            self.last_local_write = Some((i, slot));
            if tee {
                self.push(ty, Kind::Local(slot));
            }
            return;
        }
        let value = self.pop();
        if value.kind == Kind::Local(slot) {
            if tee {
                self.push(ty, Kind::Local(slot));
            }
            return;
        }
        self.preserve_local(index);
        self.move_to(value, slot);
        if tee {
            self.push(ty, Kind::Local(slot));
        }
    }

    fn lane(&mut self, op: LaneOp, lane: u8) {
        use LaneOp as L;
        if op.is_replace() {
            let value = self.pop();
            let vector = self.pop();
            let src = self.reg(vector);
            let value = self.reg(value);
            let make: fn(Reg, Reg, Reg, u8) -> Op = match op {
                L::I8x16ReplaceLane => |dst, src, value, lane| Op::I8x16ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                },
                L::I16x8ReplaceLane => |dst, src, value, lane| Op::I16x8ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                },
                L::I32x4ReplaceLane | L::F32x4ReplaceLane => {
                    |dst, src, value, lane| Op::I32x4ReplaceLane {
                        dst,
                        src,
                        value,
                        lane,
                    }
                }
                _ => |dst, src, value, lane| Op::I64x2ReplaceLane {
                    dst,
                    src,
                    value,
                    lane,
                },
            };
            self.emit_result(ValType::V128, |dst| make(dst, src, value, lane));
            return;
        }
        let make: fn(Reg, Reg, u32) -> Op = match op {
            L::I8x16ExtractLaneS => Op::I8x16ExtractLaneS,
            L::I8x16ExtractLaneU => Op::I8x16ExtractLaneU,
            L::I16x8ExtractLaneS => Op::I16x8ExtractLaneS,
            L::I16x8ExtractLaneU => Op::I16x8ExtractLaneU,
            L::I32x4ExtractLane | L::F32x4ExtractLane => Op::I32x4ExtractLane,
            _ => Op::I64x2ExtractLane,
        };
        let src = self.pop_reg();
        self.emit_result(op.scalar(), |dst| make(dst, src, u32::from(lane)));
    }

    fn simd(&mut self, s: SimdOp) {
        use Op as P;
        use SimdOp as S;
        let (params, results) = s.signature();
        let result_ty = results[0];
        match params.len() {
            1 => {
                let make: fn(Reg, Reg) -> Op = match s {
                    S::I8x16Splat => P::I8x16Splat,
                    S::I16x8Splat => P::I16x8Splat,
                    S::I32x4Splat => P::I32x4Splat,
                    S::I64x2Splat => P::I64x2Splat,
                    S::F32x4Splat => P::I32x4Splat,
                    S::F64x2Splat => P::I64x2Splat,
                    S::V128Not => P::V128Not,
                    S::V128AnyTrue => P::V128AnyTrue,
                    S::F32x4DemoteF64x2Zero => P::F32x4DemoteF64x2Zero,
                    S::F64x2PromoteLowF32x4 => P::F64x2PromoteLowF32x4,
                    S::I8x16Abs => P::I8x16Abs,
                    S::I8x16Neg => P::I8x16Neg,
                    S::I8x16Popcnt => P::I8x16Popcnt,
                    S::I8x16AllTrue => P::I8x16AllTrue,
                    S::I8x16Bitmask => P::I8x16Bitmask,
                    S::F32x4Ceil => P::F32x4Ceil,
                    S::F32x4Floor => P::F32x4Floor,
                    S::F32x4Trunc => P::F32x4Trunc,
                    S::F32x4Nearest => P::F32x4Nearest,
                    S::F64x2Ceil => P::F64x2Ceil,
                    S::F64x2Floor => P::F64x2Floor,
                    S::F64x2Trunc => P::F64x2Trunc,
                    S::I16x8ExtaddPairwiseI8x16S => P::I16x8ExtaddPairwiseI8x16S,
                    S::I16x8ExtaddPairwiseI8x16U => P::I16x8ExtaddPairwiseI8x16U,
                    S::I32x4ExtaddPairwiseI16x8S => P::I32x4ExtaddPairwiseI16x8S,
                    S::I32x4ExtaddPairwiseI16x8U => P::I32x4ExtaddPairwiseI16x8U,
                    S::I16x8Abs => P::I16x8Abs,
                    S::I16x8Neg => P::I16x8Neg,
                    S::I16x8AllTrue => P::I16x8AllTrue,
                    S::I16x8Bitmask => P::I16x8Bitmask,
                    S::I16x8ExtendLowI8x16S => P::I16x8ExtendLowI8x16S,
                    S::I16x8ExtendHighI8x16S => P::I16x8ExtendHighI8x16S,
                    S::I16x8ExtendLowI8x16U => P::I16x8ExtendLowI8x16U,
                    S::I16x8ExtendHighI8x16U => P::I16x8ExtendHighI8x16U,
                    S::F64x2Nearest => P::F64x2Nearest,
                    S::I32x4Abs => P::I32x4Abs,
                    S::I32x4Neg => P::I32x4Neg,
                    S::I32x4AllTrue => P::I32x4AllTrue,
                    S::I32x4Bitmask => P::I32x4Bitmask,
                    S::I32x4ExtendLowI16x8S => P::I32x4ExtendLowI16x8S,
                    S::I32x4ExtendHighI16x8S => P::I32x4ExtendHighI16x8S,
                    S::I32x4ExtendLowI16x8U => P::I32x4ExtendLowI16x8U,
                    S::I32x4ExtendHighI16x8U => P::I32x4ExtendHighI16x8U,
                    S::I64x2Abs => P::I64x2Abs,
                    S::I64x2Neg => P::I64x2Neg,
                    S::I64x2AllTrue => P::I64x2AllTrue,
                    S::I64x2Bitmask => P::I64x2Bitmask,
                    S::I64x2ExtendLowI32x4S => P::I64x2ExtendLowI32x4S,
                    S::I64x2ExtendHighI32x4S => P::I64x2ExtendHighI32x4S,
                    S::I64x2ExtendLowI32x4U => P::I64x2ExtendLowI32x4U,
                    S::I64x2ExtendHighI32x4U => P::I64x2ExtendHighI32x4U,
                    S::F32x4Abs => P::F32x4Abs,
                    S::F32x4Neg => P::F32x4Neg,
                    S::F32x4Sqrt => P::F32x4Sqrt,
                    S::F64x2Abs => P::F64x2Abs,
                    S::F64x2Neg => P::F64x2Neg,
                    S::F64x2Sqrt => P::F64x2Sqrt,
                    S::I32x4TruncSatF32x4S => P::I32x4TruncSatF32x4S,
                    S::I32x4TruncSatF32x4U => P::I32x4TruncSatF32x4U,
                    S::F32x4ConvertI32x4S => P::F32x4ConvertI32x4S,
                    S::F32x4ConvertI32x4U => P::F32x4ConvertI32x4U,
                    S::I32x4TruncSatF64x2SZero => P::I32x4TruncSatF64x2SZero,
                    S::I32x4TruncSatF64x2UZero => P::I32x4TruncSatF64x2UZero,
                    S::F64x2ConvertLowI32x4S => P::F64x2ConvertLowI32x4S,
                    S::F64x2ConvertLowI32x4U => P::F64x2ConvertLowI32x4U,
                    _ => unreachable!("not unary: {s:?}"),
                };
                let src = self.pop_reg();
                self.emit_result(result_ty, |dst| make(dst, src));
            }
            2 => {
                let make: fn(Reg, Reg, Reg) -> Op = match s {
                    S::I8x16Swizzle => P::I8x16Swizzle,
                    S::I8x16Eq => P::I8x16Eq,
                    S::I8x16Ne => P::I8x16Ne,
                    S::I8x16LtS => P::I8x16LtS,
                    S::I8x16LtU => P::I8x16LtU,
                    S::I8x16GtS => P::I8x16GtS,
                    S::I8x16GtU => P::I8x16GtU,
                    S::I8x16LeS => P::I8x16LeS,
                    S::I8x16LeU => P::I8x16LeU,
                    S::I8x16GeS => P::I8x16GeS,
                    S::I8x16GeU => P::I8x16GeU,
                    S::I16x8Eq => P::I16x8Eq,
                    S::I16x8Ne => P::I16x8Ne,
                    S::I16x8LtS => P::I16x8LtS,
                    S::I16x8LtU => P::I16x8LtU,
                    S::I16x8GtS => P::I16x8GtS,
                    S::I16x8GtU => P::I16x8GtU,
                    S::I16x8LeS => P::I16x8LeS,
                    S::I16x8LeU => P::I16x8LeU,
                    S::I16x8GeS => P::I16x8GeS,
                    S::I16x8GeU => P::I16x8GeU,
                    S::I32x4Eq => P::I32x4Eq,
                    S::I32x4Ne => P::I32x4Ne,
                    S::I32x4LtS => P::I32x4LtS,
                    S::I32x4LtU => P::I32x4LtU,
                    S::I32x4GtS => P::I32x4GtS,
                    S::I32x4GtU => P::I32x4GtU,
                    S::I32x4LeS => P::I32x4LeS,
                    S::I32x4LeU => P::I32x4LeU,
                    S::I32x4GeS => P::I32x4GeS,
                    S::I32x4GeU => P::I32x4GeU,
                    S::F32x4Eq => P::F32x4Eq,
                    S::F32x4Ne => P::F32x4Ne,
                    S::F32x4Lt => P::F32x4Lt,
                    S::F32x4Gt => P::F32x4Gt,
                    S::F32x4Le => P::F32x4Le,
                    S::F32x4Ge => P::F32x4Ge,
                    S::F64x2Eq => P::F64x2Eq,
                    S::F64x2Ne => P::F64x2Ne,
                    S::F64x2Lt => P::F64x2Lt,
                    S::F64x2Gt => P::F64x2Gt,
                    S::F64x2Le => P::F64x2Le,
                    S::F64x2Ge => P::F64x2Ge,
                    S::V128And => P::V128And,
                    S::V128AndNot => P::V128AndNot,
                    S::V128Or => P::V128Or,
                    S::V128Xor => P::V128Xor,
                    S::I8x16NarrowI16x8S => P::I8x16NarrowI16x8S,
                    S::I8x16NarrowI16x8U => P::I8x16NarrowI16x8U,
                    S::I8x16Shl => P::I8x16Shl,
                    S::I8x16ShrS => P::I8x16ShrS,
                    S::I8x16ShrU => P::I8x16ShrU,
                    S::I8x16Add => P::I8x16Add,
                    S::I8x16AddSatS => P::I8x16AddSatS,
                    S::I8x16AddSatU => P::I8x16AddSatU,
                    S::I8x16Sub => P::I8x16Sub,
                    S::I8x16SubSatS => P::I8x16SubSatS,
                    S::I8x16SubSatU => P::I8x16SubSatU,
                    S::I8x16MinS => P::I8x16MinS,
                    S::I8x16MinU => P::I8x16MinU,
                    S::I8x16MaxS => P::I8x16MaxS,
                    S::I8x16MaxU => P::I8x16MaxU,
                    S::I8x16AvgrU => P::I8x16AvgrU,
                    S::I16x8Q15mulrSatS => P::I16x8Q15mulrSatS,
                    S::I16x8NarrowI32x4S => P::I16x8NarrowI32x4S,
                    S::I16x8NarrowI32x4U => P::I16x8NarrowI32x4U,
                    S::I16x8Shl => P::I16x8Shl,
                    S::I16x8ShrS => P::I16x8ShrS,
                    S::I16x8ShrU => P::I16x8ShrU,
                    S::I16x8Add => P::I16x8Add,
                    S::I16x8AddSatS => P::I16x8AddSatS,
                    S::I16x8AddSatU => P::I16x8AddSatU,
                    S::I16x8Sub => P::I16x8Sub,
                    S::I16x8SubSatS => P::I16x8SubSatS,
                    S::I16x8SubSatU => P::I16x8SubSatU,
                    S::I16x8Mul => P::I16x8Mul,
                    S::I16x8MinS => P::I16x8MinS,
                    S::I16x8MinU => P::I16x8MinU,
                    S::I16x8MaxS => P::I16x8MaxS,
                    S::I16x8MaxU => P::I16x8MaxU,
                    S::I16x8AvgrU => P::I16x8AvgrU,
                    S::I16x8ExtmulLowI8x16S => P::I16x8ExtmulLowI8x16S,
                    S::I16x8ExtmulHighI8x16S => P::I16x8ExtmulHighI8x16S,
                    S::I16x8ExtmulLowI8x16U => P::I16x8ExtmulLowI8x16U,
                    S::I16x8ExtmulHighI8x16U => P::I16x8ExtmulHighI8x16U,
                    S::I32x4Shl => P::I32x4Shl,
                    S::I32x4ShrS => P::I32x4ShrS,
                    S::I32x4ShrU => P::I32x4ShrU,
                    S::I32x4Add => P::I32x4Add,
                    S::I32x4Sub => P::I32x4Sub,
                    S::I32x4Mul => P::I32x4Mul,
                    S::I32x4MinS => P::I32x4MinS,
                    S::I32x4MinU => P::I32x4MinU,
                    S::I32x4MaxS => P::I32x4MaxS,
                    S::I32x4MaxU => P::I32x4MaxU,
                    S::I32x4DotI16x8S => P::I32x4DotI16x8S,
                    S::I32x4ExtmulLowI16x8S => P::I32x4ExtmulLowI16x8S,
                    S::I32x4ExtmulHighI16x8S => P::I32x4ExtmulHighI16x8S,
                    S::I32x4ExtmulLowI16x8U => P::I32x4ExtmulLowI16x8U,
                    S::I32x4ExtmulHighI16x8U => P::I32x4ExtmulHighI16x8U,
                    S::I64x2Shl => P::I64x2Shl,
                    S::I64x2ShrS => P::I64x2ShrS,
                    S::I64x2ShrU => P::I64x2ShrU,
                    S::I64x2Add => P::I64x2Add,
                    S::I64x2Sub => P::I64x2Sub,
                    S::I64x2Mul => P::I64x2Mul,
                    S::I64x2Eq => P::I64x2Eq,
                    S::I64x2Ne => P::I64x2Ne,
                    S::I64x2LtS => P::I64x2LtS,
                    S::I64x2GtS => P::I64x2GtS,
                    S::I64x2LeS => P::I64x2LeS,
                    S::I64x2GeS => P::I64x2GeS,
                    S::I64x2ExtmulLowI32x4S => P::I64x2ExtmulLowI32x4S,
                    S::I64x2ExtmulHighI32x4S => P::I64x2ExtmulHighI32x4S,
                    S::I64x2ExtmulLowI32x4U => P::I64x2ExtmulLowI32x4U,
                    S::I64x2ExtmulHighI32x4U => P::I64x2ExtmulHighI32x4U,
                    S::F32x4Add => P::F32x4Add,
                    S::F32x4Sub => P::F32x4Sub,
                    S::F32x4Mul => P::F32x4Mul,
                    S::F32x4Div => P::F32x4Div,
                    S::F32x4Min => P::F32x4Min,
                    S::F32x4Max => P::F32x4Max,
                    S::F32x4Pmin => P::F32x4Pmin,
                    S::F32x4Pmax => P::F32x4Pmax,
                    S::F64x2Add => P::F64x2Add,
                    S::F64x2Sub => P::F64x2Sub,
                    S::F64x2Mul => P::F64x2Mul,
                    S::F64x2Div => P::F64x2Div,
                    S::F64x2Min => P::F64x2Min,
                    S::F64x2Max => P::F64x2Max,
                    S::F64x2Pmin => P::F64x2Pmin,
                    S::F64x2Pmax => P::F64x2Pmax,
                    _ => unreachable!("not binary: {s:?}"),
                };
                let b = self.pop();
                let a = self.pop();
                let rb = self.reg(b);
                let ra = self.reg(a);
                self.emit_result(result_ty, |dst| make(dst, ra, rb));
            }
            _ => {
                // `v128.bitselect`: three vectors side by side.
                let base = self.operands_in_place(3);
                self.emit_result(result_ty, |dst| P::V128Bitselect(dst, base));
            }
        }
    }

    fn num(&mut self, n: NumOp) {
        use NumOp as N;
        use Op as P;
        let (params, results) = n.signature();
        let result_ty = results[0];
        if params.len() == 1 {
            let make: fn(Reg, Reg) -> Op = match n {
                N::I32Eqz => P::I32Eqz,
                N::I64Eqz => P::I64Eqz,
                N::I32Clz => P::I32Clz,
                N::I32Ctz => P::I32Ctz,
                N::I32Popcnt => P::I32Popcnt,
                N::I64Clz => P::I64Clz,
                N::I64Ctz => P::I64Ctz,
                N::I64Popcnt => P::I64Popcnt,
                N::F32Abs => P::F32Abs,
                N::F32Neg => P::F32Neg,
                N::F32Ceil => P::F32Ceil,
                N::F32Floor => P::F32Floor,
                N::F32Trunc => P::F32Trunc,
                N::F32Nearest => P::F32Nearest,
                N::F32Sqrt => P::F32Sqrt,
                N::F64Abs => P::F64Abs,
                N::F64Neg => P::F64Neg,
                N::F64Ceil => P::F64Ceil,
                N::F64Floor => P::F64Floor,
                N::F64Trunc => P::F64Trunc,
                N::F64Nearest => P::F64Nearest,
                N::F64Sqrt => P::F64Sqrt,
                N::I32WrapI64 => P::I32WrapI64,
                N::I32TruncF32S => P::I32TruncF32S,
                N::I32TruncF32U => P::I32TruncF32U,
                N::I32TruncF64S => P::I32TruncF64S,
                N::I32TruncF64U => P::I32TruncF64U,
                N::I64ExtendI32S => P::I64ExtendI32S,
                N::I64ExtendI32U => P::I64ExtendI32U,
                N::I64TruncF32S => P::I64TruncF32S,
                N::I64TruncF32U => P::I64TruncF32U,
                N::I64TruncF64S => P::I64TruncF64S,
                N::I64TruncF64U => P::I64TruncF64U,
                N::F32ConvertI32S => P::F32ConvertI32S,
                N::F32ConvertI32U => P::F32ConvertI32U,
                N::F32ConvertI64S => P::F32ConvertI64S,
                N::F32ConvertI64U => P::F32ConvertI64U,
                N::F32DemoteF64 => P::F32DemoteF64,
                N::F64ConvertI32S => P::F64ConvertI32S,
                N::F64ConvertI32U => P::F64ConvertI32U,
                N::F64ConvertI64S => P::F64ConvertI64S,
                N::F64ConvertI64U => P::F64ConvertI64U,
                N::F64PromoteF32 => P::F64PromoteF32,
                N::I32Extend8S => P::I32Extend8S,
                N::I32Extend16S => P::I32Extend16S,
                N::I64Extend8S => P::I64Extend8S,
                N::I64Extend16S => P::I64Extend16S,
                N::I64Extend32S => P::I64Extend32S,
                N::I32TruncSatF32S => P::I32TruncSatF32S,
                N::I32TruncSatF32U => P::I32TruncSatF32U,
                N::I32TruncSatF64S => P::I32TruncSatF64S,
                N::I32TruncSatF64U => P::I32TruncSatF64U,
                N::I64TruncSatF32S => P::I64TruncSatF32S,
                N::I64TruncSatF32U => P::I64TruncSatF32U,
                N::I64TruncSatF64S => P::I64TruncSatF64S,
                N::I64TruncSatF64U => P::I64TruncSatF64U,
                // Reinterpretations keep the bits (and the op that computed them).
                N::I32ReinterpretF32
                | N::I64ReinterpretF64
                | N::F32ReinterpretI32
                | N::F64ReinterpretI64 => {
                    let o = self.pop();
                    self.push(result_ty, o.kind);
                    return;
                }
                _ => unreachable!("binary op {n:?}"),
            };
            let src = self.pop_reg();
            self.emit_result(result_ty, |dst| make(dst, src));
            return;
        }
        let (make, imm): (fn(Reg, Reg, Reg) -> Op, ImmForm) = match n {
            N::I32Eq => (P::I32Eq, ImmForm::Compare(P::I32EqImm, P::I32EqImm)),
            N::I32Ne => (P::I32Ne, ImmForm::Compare(P::I32NeImm, P::I32NeImm)),
            N::I32LtS => (P::I32LtS, ImmForm::Compare(P::I32LtSImm, P::I32GtSImm)),
            N::I32LtU => (P::I32LtU, ImmForm::Compare(P::I32LtUImm, P::I32GtUImm)),
            N::I32GtS => (P::I32GtS, ImmForm::Compare(P::I32GtSImm, P::I32LtSImm)),
            N::I32GtU => (P::I32GtU, ImmForm::Compare(P::I32GtUImm, P::I32LtUImm)),
            N::I32LeS => (P::I32LeS, ImmForm::Compare(P::I32LeSImm, P::I32GeSImm)),
            N::I32LeU => (P::I32LeU, ImmForm::Compare(P::I32LeUImm, P::I32GeUImm)),
            N::I32GeS => (P::I32GeS, ImmForm::Compare(P::I32GeSImm, P::I32LeSImm)),
            N::I32GeU => (P::I32GeU, ImmForm::Compare(P::I32GeUImm, P::I32LeUImm)),
            N::I32Add => (P::I32Add, ImmForm::Either(P::I32AddImm)),
            N::I32Sub => (P::I32Sub, ImmForm::Sub(P::I32AddImm, P::I32SubImmRev)),
            N::I32Mul => (P::I32Mul, ImmForm::Either(P::I32MulImm)),
            N::I32DivS => (P::I32DivS, ImmForm::Div(P::I32DivSImm, true)),
            N::I32DivU => (P::I32DivU, ImmForm::Div(P::I32DivUImm, false)),
            N::I32RemS => (P::I32RemS, ImmForm::Div(P::I32RemSImm, true)),
            N::I32RemU => (P::I32RemU, ImmForm::Div(P::I32RemUImm, false)),
            N::I32And => (P::I32And, ImmForm::Either(P::I32AndImm)),
            N::I32Or => (P::I32Or, ImmForm::Either(P::I32OrImm)),
            N::I32Xor => (P::I32Xor, ImmForm::Either(P::I32XorImm)),
            N::I32Shl => (P::I32Shl, ImmForm::Rhs(P::I32ShlImm)),
            N::I32ShrS => (P::I32ShrS, ImmForm::Rhs(P::I32ShrSImm)),
            N::I32ShrU => (P::I32ShrU, ImmForm::Rhs(P::I32ShrUImm)),
            N::I32Rotl => (P::I32Rotl, ImmForm::Rhs(P::I32RotlImm)),
            N::I32Rotr => (P::I32Rotr, ImmForm::Rhs(P::I32RotrImm)),
            N::I64Eq => (P::I64Eq, ImmForm::Compare(P::I64EqImm, P::I64EqImm)),
            N::I64Ne => (P::I64Ne, ImmForm::Compare(P::I64NeImm, P::I64NeImm)),
            N::I64LtS => (P::I64LtS, ImmForm::Compare(P::I64LtSImm, P::I64GtSImm)),
            N::I64LtU => (P::I64LtU, ImmForm::Compare(P::I64LtUImm, P::I64GtUImm)),
            N::I64GtS => (P::I64GtS, ImmForm::Compare(P::I64GtSImm, P::I64LtSImm)),
            N::I64GtU => (P::I64GtU, ImmForm::Compare(P::I64GtUImm, P::I64LtUImm)),
            N::I64LeS => (P::I64LeS, ImmForm::Compare(P::I64LeSImm, P::I64GeSImm)),
            N::I64LeU => (P::I64LeU, ImmForm::Compare(P::I64LeUImm, P::I64GeUImm)),
            N::I64GeS => (P::I64GeS, ImmForm::Compare(P::I64GeSImm, P::I64LeSImm)),
            N::I64GeU => (P::I64GeU, ImmForm::Compare(P::I64GeUImm, P::I64LeUImm)),
            N::I64Add => (P::I64Add, ImmForm::Either(P::I64AddImm)),
            N::I64Sub => (P::I64Sub, ImmForm::Sub(P::I64AddImm, P::I64SubImmRev)),
            N::I64Mul => (P::I64Mul, ImmForm::Either(P::I64MulImm)),
            N::I64DivS => (P::I64DivS, ImmForm::Div(P::I64DivSImm, true)),
            N::I64DivU => (P::I64DivU, ImmForm::Div(P::I64DivUImm, false)),
            N::I64RemS => (P::I64RemS, ImmForm::Div(P::I64RemSImm, true)),
            N::I64RemU => (P::I64RemU, ImmForm::Div(P::I64RemUImm, false)),
            N::I64And => (P::I64And, ImmForm::Either(P::I64AndImm)),
            N::I64Or => (P::I64Or, ImmForm::Either(P::I64OrImm)),
            N::I64Xor => (P::I64Xor, ImmForm::Either(P::I64XorImm)),
            N::I64Shl => (P::I64Shl, ImmForm::Rhs(P::I64ShlImm)),
            N::I64ShrS => (P::I64ShrS, ImmForm::Rhs(P::I64ShrSImm)),
            N::I64ShrU => (P::I64ShrU, ImmForm::Rhs(P::I64ShrUImm)),
            N::I64Rotl => (P::I64Rotl, ImmForm::Rhs(P::I64RotlImm)),
            N::I64Rotr => (P::I64Rotr, ImmForm::Rhs(P::I64RotrImm)),
            N::F32Eq => (P::F32Eq, ImmForm::None),
            N::F32Ne => (P::F32Ne, ImmForm::None),
            N::F32Lt => (P::F32Lt, ImmForm::None),
            N::F32Gt => (P::F32Gt, ImmForm::None),
            N::F32Le => (P::F32Le, ImmForm::None),
            N::F32Ge => (P::F32Ge, ImmForm::None),
            N::F32Add => (P::F32Add, ImmForm::None),
            N::F32Sub => (P::F32Sub, ImmForm::None),
            N::F32Mul => (P::F32Mul, ImmForm::None),
            N::F32Div => (P::F32Div, ImmForm::None),
            N::F32Min => (P::F32Min, ImmForm::None),
            N::F32Max => (P::F32Max, ImmForm::None),
            N::F32Copysign => (P::F32Copysign, ImmForm::None),
            N::F64Eq => (P::F64Eq, ImmForm::None),
            N::F64Ne => (P::F64Ne, ImmForm::None),
            N::F64Lt => (P::F64Lt, ImmForm::None),
            N::F64Gt => (P::F64Gt, ImmForm::None),
            N::F64Le => (P::F64Le, ImmForm::None),
            N::F64Ge => (P::F64Ge, ImmForm::None),
            N::F64Add => (P::F64Add, ImmForm::None),
            N::F64Sub => (P::F64Sub, ImmForm::None),
            N::F64Mul => (P::F64Mul, ImmForm::None),
            N::F64Div => (P::F64Div, ImmForm::None),
            N::F64Min => (P::F64Min, ImmForm::None),
            N::F64Max => (P::F64Max, ImmForm::None),
            N::F64Copysign => (P::F64Copysign, ImmForm::None),
            _ => unreachable!("unary op {n:?}"),
        };
        let rhs = self.stack[self.stack.len() - 1];
        let lhs = self.stack[self.stack.len() - 2];
        let is64 = params[0] == ValType::I64;
        // A constant operand as a 32-bit immediate, if it fits.
        let as_imm = |o: Operand| -> Option<i32> {
            match o.kind {
                Kind::Const(c) if is64 => i32::try_from(c as i64).ok(),
                Kind::Const(c) => Some(c as u32 as i32),
                _ => None,
            }
        };
        let (lhs_imm, rhs_imm) = (as_imm(lhs), as_imm(rhs));
        let with_imm: Option<(ImmOp, bool, i32)> = match imm {
            ImmForm::None => None,
            _ if lhs_imm.is_some() && rhs_imm.is_some() => None,
            ImmForm::Rhs(f) => rhs_imm.map(|c| (f, false, c)),
            ImmForm::Either(f) => rhs_imm
                .map(|c| (f, false, c))
                .or_else(|| lhs_imm.map(|c| (f, true, c))),
            ImmForm::Compare(f, mirrored) => rhs_imm
                .map(|c| (f, false, c))
                .or_else(|| lhs_imm.map(|c| (mirrored, true, c))),
            ImmForm::Sub(add, rev) => rhs_imm
                .filter(|&c| c != i32::MIN)
                .map(|c| (add, false, c.wrapping_neg()))
                .or_else(|| lhs_imm.map(|c| (rev, true, c))),
            ImmForm::Div(f, signed) => rhs_imm
                .filter(|&c| c != 0 && !(signed && c == -1))
                .map(|c| (f, false, c)),
        };
        if let Some((f, const_on_left, c)) = with_imm {
            let (a, b) = (self.pop(), self.pop());
            let other = if const_on_left { a } else { b };
            // `i64.and (i64.extend_i32_u x) C` is `x & C` in 32 bits, zero-extended,
            // which every i32 op writes: one op instead of two.
            if n == N::I64And
                && other.kind == Kind::Temp
                && let Some(i) = self.last_result
                && i + 1 == self.code.len()
                && let Op::I64ExtendI32U(t, x) = self.code[i]
                && t == other.slot
            {
                self.code.pop();
                self.emit_result(result_ty, |dst| Op::I32AndImm(dst, x, c));
                return;
            }
            let src = self.reg(other);
            self.emit_result(result_ty, |dst| f(dst, src, c));
            return;
        }
        if n == N::I32Add && self.fuse_add_shl() {
            return;
        }
        let b = self.pop();
        let a = self.pop();
        let rb = self.reg(b);
        let ra = self.reg(a);
        self.emit_result(result_ty, |dst| make(dst, ra, rb));
    }
}

#[cfg(test)]
mod tests {
    use super::super::ir::Op;
    use crate::{Config, Engine, Module, Strategy};

    /// The ops of every defined function of `text`, translated for the interpreter.
    fn ops(text: &str) -> Vec<Op> {
        let buf = wast::parser::ParseBuffer::new(text).expect("lex");
        let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
        let bytes = module.encode().expect("encode");
        let engine = Engine::new(Config::default().strategy(Strategy::Interpreter));
        let module = Module::new(&engine, bytes).expect("valid");
        let code = module.inner.code.interpreted().expect("interpreted");
        code.iter().flat_map(|f| f.code.iter().copied()).collect()
    }

    fn count(ops: &[Op], pred: impl Fn(&Op) -> bool) -> usize {
        ops.iter().filter(|op| pred(op)).count()
    }

    #[test]
    fn fuses_address_arithmetic_into_loads() {
        let code = ops(r#"(module (memory 1)
            (func (param i32 i32) (result i32)
              (i32.add
                (i32.load offset=4 (i32.add (local.get 0) (i32.const 8)))
                (i32.load8_u (i32.add (local.get 0) (local.get 1)))))
            (func (param i32 i32) (result i32)
              (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))"#);
        assert!(code.contains(&Op::I32LoadAddImm(2, 0, 8, 4)), "{code:?}");
        assert_eq!(
            count(&code, |op| matches!(op, Op::I32Load8UAdd(_, 0, 1, 0))),
            1
        );
        assert_eq!(
            count(&code, |op| matches!(
                op,
                Op::I32AddShl {
                    base: 0,
                    index: 1,
                    shift: 2,
                    ..
                }
            )),
            1
        );
        // The one add left is the first function's sum of the loads, joined with its
        // return.
        assert_eq!(
            count(&code, |op| matches!(
                op,
                Op::I32AddImm(..)
                    | Op::I32Add(..)
                    | Op::I32ShlImm(..)
                    | Op::I32AddThenReturn1 { .. }
            )),
            1
        );
    }

    #[test]
    fn fuses_tests_into_branches() {
        let code = ops(r#"(module (memory 1)
            (func (param i32) (result i32)
              (if (i32.and (local.get 0) (i32.const 4)) (then (return (i32.const 1))))
              (if (i32.load8_u (local.get 0)) (then (return (i32.const 2))))
              (block (br_if 0 (i32.load (local.get 0))) (return (i32.const 3)))
              (loop (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
              (i32.const 0)))"#);
        // `if` branches to its end when the condition is false.
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::BrI32AndImmEqz(0, 4, _))),
            "{code:?}"
        );
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::BrI32Load8UEqz(0, 0, _))),
            "{code:?}"
        );
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::BrI32LoadNez(0, 0, _))),
            "{code:?}"
        );
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::I32AddImmBrNez(0, -1, _))),
            "{code:?}"
        );
    }

    #[test]
    fn fuses_stack_pointer_prologues_and_epilogues() {
        let code = ops(
            r#"(module (memory 1) (global $sp (mut i32) (i32.const 4096))
            (global $g (mut i32) (i32.const 0))
            (func (param i32) (local $fp i32)
              (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 32))))
              (i32.store (local.get $fp) (local.get 0))
              (global.set $sp (i32.add (local.get $fp) (i32.const 32))))
            (func (local $x i32)
              (global.set $g (local.tee $x (i32.add (global.get $sp) (i32.const 5))))))"#,
        );
        assert!(
            code.iter().any(|op| matches!(
                op,
                Op::GlobalAddImmTee {
                    dst: 1,
                    global: 0,
                    imm: -32
                }
            )),
            "{code:?}"
        );
        assert!(
            code.iter().any(|op| matches!(
                op,
                Op::GlobalSetAddImm {
                    global: 0,
                    src: 1,
                    imm: 32
                }
            )),
            "{code:?}"
        );
        // Another global: the three ops stay (the second function).
        assert_eq!(
            count(&code, |op| matches!(op, Op::GlobalAddImmTee { .. })),
            1,
            "{code:?}"
        );
        assert_eq!(
            count(&code, |op| matches!(op, Op::GlobalGet { global: 0, .. })),
            1,
            "{code:?}"
        );
    }

    #[test]
    fn fuses_byte_compares_into_branches() {
        // (body, the fused branch expected): temporaries, and loads folded into locals
        // (which the fused op still writes); `if` branches past its body when the bytes
        // differ.
        let fused = [
            (
                "(block (br_if 0 (i32.ne (i32.load8_u (local.get 0)) (i32.load8_u (local.get 1))))
                   (return (i32.const 1)))",
                Op::BrI32Load8UNe(4, 5, 0x1_0000, 0),
            ),
            (
                "(if (i32.eq (i32.load8_u (local.get 1)) (i32.load8_u (local.get 0)))
                   (then (return (i32.const 2))))",
                Op::BrI32Load8UNe(4, 5, 0x1, 0),
            ),
            (
                "(block (br_if 0 (i32.ne (local.tee 2 (i32.load8_u (local.get 0)))
                                        (local.tee 3 (i32.load8_u (local.get 1)))))
                   (return (i32.const 1)))",
                Op::BrI32Load8UNe(2, 3, 0x1_0000, 0),
            ),
        ];
        let module = |body: &str| {
            format!(
                "(module (memory 1) (func (param i32 i32) (result i32) (local i32 i32)
                   {body} (i32.sub (local.get 2) (local.get 3))))"
            )
        };
        for (body, want) in fused {
            let code = ops(&module(body));
            let with_target = |op: &Op| {
                let mut op = *op;
                if matches!(op, Op::BrI32Load8UNe(..)) {
                    super::set_target(&mut op, 0);
                }
                op
            };
            assert!(code.iter().any(|op| with_target(op) == want), "{code:?}");
            assert!(
                !code.iter().any(|op| matches!(op, Op::I32Load8U(..))),
                "{code:?}"
            );
        }
        // Not fused: an offset, the second load at a loop label, a compare of a load
        // with something else.
        for body in [
            "(i32.ne (i32.load8_u offset=1 (local.get 0)) (i32.load8_u (local.get 1)))",
            "(i32.ne (i32.load8_u (local.get 0)) (i32.load8_u offset=7 (local.get 1)))",
            "(i32.ne (i32.load8_u (local.get 0)) (loop (result i32) (i32.load8_u (local.get 1))))",
            "(i32.ne (i32.load8_u (local.get 0)) (i32.load16_u (local.get 1)))",
        ] {
            let code = ops(&module(&format!(
                "(block (br_if 0 {body}) (return (i32.const 1)))"
            )));
            assert!(
                !code
                    .iter()
                    .any(|op| matches!(op, Op::BrI32Load8UNe(..) | Op::BrI32Load8UEq(..))),
                "{body}: {code:?}"
            );
        }
    }

    #[test]
    fn fuses_eqz_of_a_condition_into_its_negated_branch() {
        let module = |body: &str| {
            format!(
                "(module (memory 1) (func (param i32 i32) (result i32) (local i32)
                   (block {body} (return (i32.const 1))) (i32.const 0)))"
            )
        };
        let branch_of = |op: &Op| {
            let mut op = *op;
            match op {
                Op::BrI32AndImmEqz(..)
                | Op::BrI32LoadEqz(..)
                | Op::BrI32Load8UEqz(..)
                | Op::BrI32GeS(..)
                | Op::BrIfNez { .. }
                | Op::BrI64Nez(..)
                | Op::BrI32Load8UEq(..) => {
                    super::set_target(&mut op, 0);
                    Some(op)
                }
                _ => None,
            }
        };
        for (body, want) in [
            (
                "(br_if 0 (i32.eqz (i32.and (local.get 0) (i32.const 8))))",
                Op::BrI32AndImmEqz(0, 8, 0),
            ),
            (
                "(br_if 0 (i32.eqz (i32.load offset=4 (local.get 1))))",
                Op::BrI32LoadEqz(1, 4, 0),
            ),
            (
                "(br_if 0 (i32.eqz (i32.load8_u (local.get 0))))",
                Op::BrI32Load8UEqz(0, 0, 0),
            ),
            (
                "(br_if 0 (i32.eqz (i32.lt_s (local.get 0) (local.get 1))))",
                Op::BrI32GeS(0, 1, 0),
            ),
            (
                "(br_if 0 (i32.eqz (i32.eqz (local.get 1))))",
                Op::BrIfNez { cond: 1, target: 0 },
            ),
            (
                "(br_if 0 (i32.eqz (i64.eqz (i64.extend_i32_u (local.get 1)))))",
                Op::BrI64Nez(3, 0),
            ),
        ] {
            let code = ops(&module(body));
            assert!(
                code.iter().any(|op| branch_of(op) == Some(want)),
                "{body}: {code:?}"
            );
            assert!(
                !code.iter().any(|op| matches!(
                    op,
                    Op::I32Eqz(..)
                        | Op::I32AndImm(..)
                        | Op::I32Load(..)
                        | Op::I32Load8U(..)
                        | Op::I32LtS(..)
                )),
                "{body}: {code:?}"
            );
        }
        // Not fused: the condition kept in a local, an `i32.eqz` at a loop label.
        for body in [
            "(br_if 0 (i32.eqz (local.tee 2 (i32.and (local.get 0) (i32.const 8)))))",
            "(i32.and (local.get 0) (i32.const 8)) (loop (param i32) (result i32))
             (i32.eqz) (br_if 0)",
        ] {
            let code = ops(&module(body));
            assert!(
                code.iter().any(|op| matches!(op, Op::I32AndImm(..))),
                "{body}: {code:?}"
            );
        }
    }

    #[test]
    fn joins_pairs_only_where_the_second_op_is_no_target() {
        use Op::*;
        let mut code = vec![
            Copy { dst: 1, src: 0 },
            Copy { dst: 2, src: 1 },
            BrIfNez { cond: 1, target: 5 },
            I32AddImm(1, 1, 1),
            I32AddImm(2, 2, -1),
            // A target, but the first of its pair: joined with the `Br` after it.
            I32AddImm(1, 1, 3),
            Br { target: 0 },
            I32Load(3, 1, 8),
            // The second of a pair, but a branch target: not joined.
            I32Load(4, 3, 0),
            BrIfEqz { cond: 4, target: 8 },
            // A field that does not fit 16 bits: not joined.
            I32Load(3, 1, 70_000),
            I32Load(4, 3, 0),
            I32AddImm(1, 1, 40_000),
            I32AddImmBrNez(2, -1, 3),
            Return,
        ];
        super::join_pairs(&mut code, &[2, 6, 9, 13]);
        // Each joined op replaces the first of its pair; the second stays (stepped over).
        assert_eq!(
            code,
            vec![
                CopyPair {
                    d1: 1,
                    s1: 0,
                    d2: 2,
                    s2: 1
                },
                Copy { dst: 2, src: 1 },
                BrIfNez { cond: 1, target: 5 },
                I32AddImmPair {
                    d1: 1,
                    a1: 1,
                    i1: 1,
                    d2: 2,
                    a2: 2,
                    i2: -1
                },
                I32AddImm(2, 2, -1),
                I32AddImmThenBr {
                    d: 1,
                    a: 1,
                    imm: 3,
                    target: 0
                },
                Br { target: 0 },
                I32Load(3, 1, 8),
                // A target itself, but the first of its pair.
                I32LoadThenBrIfEqz {
                    d: 4,
                    a: 3,
                    offset: 0,
                    target: 8
                },
                BrIfEqz { cond: 4, target: 8 },
                I32Load(3, 1, 70_000),
                I32Load(4, 3, 0),
                I32AddImm(1, 1, 40_000),
                I32AddImmBrNez(2, -1, 3),
                Return,
            ]
        );
    }

    #[test]
    fn bytes_loaded_at_an_added_constant_feed_branches() {
        let code = ops(r#"(module (memory 1)
            (func (param i32) (result i32)
              (block (br_if 0 (i32.load8_u offset=2 (i32.add (local.get 0) (i32.const 3))))
                (return (i32.const 1)))
              (block (br_if 0 (i32.eqz (i32.load8_u (i32.add (local.get 0) (i32.const -4)))))
                (return (i32.const 2)))
              (if (i32.load8_u offset=7 (i32.add (local.get 0) (i32.const 5)))
                (then (return (i32.const 3))))
              (i32.const 4)))"#);
        let has = |pred: &dyn Fn(&Op) -> bool| assert!(code.iter().any(pred), "{code:?}");
        has(&|op| matches!(op, Op::BrI32Load8UAddImmNez(0, 3, 2, _)));
        has(&|op| matches!(op, Op::BrI32Load8UAddImmEqz(0, -4, 0, _)));
        // `if` branches around its `then` when the byte is zero.
        has(&|op| matches!(op, Op::BrI32Load8UAddImmEqz(0, 5, 7, _)));
        assert_eq!(
            count(&code, |op| matches!(op, Op::I32Load8UAddImm(..))),
            0,
            "{code:?}"
        );
    }

    #[test]
    fn selects_read_their_values_in_place() {
        let code = ops(r#"(module
            (func (param i32 i32 i32) (result i32)
              (local.set 0 (select (local.get 0) (local.get 1) (local.get 2)))
              (local.set 1 (select (i32.add (local.get 0) (local.get 1)) (local.get 0)
                (local.get 2)))
              (select (i32.const 7) (local.get 1) (local.get 0)))
            (func (param v128 v128 i32) (result v128)
              (select (local.get 0) (local.get 1) (local.get 2))))"#);
        let has = |pred: &dyn Fn(&Op) -> bool| assert!(code.iter().any(pred), "{code:?}");
        // From two locals into the first: no copy before, none after.
        has(&|op| {
            matches!(
                op,
                Op::Select {
                    dst: 0,
                    a: 0,
                    b: 1,
                    cond: 2
                }
            )
        });
        // A temporary and a local, folded into local 1.
        has(&|op| {
            matches!(
                op,
                Op::Select {
                    dst: 1,
                    b: 0,
                    cond: 2,
                    ..
                }
            )
        });
        // A constant first value keeps the two-op form, as does a v128 select.
        has(&|op| {
            matches!(
                op,
                Op::CopyIfEqz {
                    src: 1,
                    cond: 0,
                    ..
                }
            )
        });
        has(&|op| matches!(op, Op::CopyIfEqz2 { .. }));
    }

    #[test]
    fn masks_of_zero_extended_values_are_32_bit_ands() {
        let code = ops(r#"(module (func (param i32) (result i64)
            (i64.and (i64.extend_i32_u (local.get 0)) (i64.const -16))))"#);
        assert!(code.contains(&Op::I32AndImm(1, 0, -16)), "{code:?}");
        assert_eq!(count(&code, |op| matches!(op, Op::I64ExtendI32U(..))), 0);
        // A mask wider than 32 bits is still exact: the high half of the extension is 0.
        let code = ops(r#"(module (func (param i32) (result i64)
            (i64.and (i64.const 0x7fffffff) (i64.extend_i32_u (local.get 0)))))"#);
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::I32AndImm(_, 0, 0x7fff_ffff))),
            "{code:?}"
        );
    }

    #[test]
    fn a_step_and_its_bound_test_are_joined() {
        let code = ops(r#"(module (func (param i32 i32) (result i32) (local i32)
            (loop
              (local.set 2 (i32.add (local.get 2) (local.get 0)))
              (br_if 0 (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1)))
                               (local.get 1))))
            (local.get 2)))"#);
        assert!(
            code.iter().any(|op| matches!(
                op,
                Op::I32AddImmThenBrI32Ne {
                    d: 0,
                    a: 0,
                    imm: 1,
                    x: 0,
                    y: 1,
                    target: 0
                }
            )),
            "{code:?}"
        );
    }

    #[test]
    fn the_constant_pool_follows_the_last_op() {
        let f = |text: &str| {
            let buf = wast::parser::ParseBuffer::new(text).expect("lex");
            let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
            let bytes = module.encode().expect("encode");
            let engine = Engine::new(Config::default().strategy(Strategy::Interpreter));
            let module = Module::new(&engine, bytes).expect("valid");
            module.inner.code.interpreted().expect("interpreted")[0]
                .code
                .to_vec()
        };
        let code = f(r#"(module (func (param v128) (result v128)
            (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14
              (v128.const i64x2 7 9) (local.get 0))
            (v128.const i64x2 7 9)
            (i64x2.add)))"#);
        // Two distinct entries (the repeated constant is shared), four words at the end,
        // after the return.
        let n = code.len();
        let words: Vec<u64> = code[n - 4..]
            .iter()
            .map(|op| match *op {
                Op::PoolWord(w) => w,
                _ => panic!("{code:?}"),
            })
            .collect();
        assert!(
            matches!(code[n - 5], Op::Return | Op::Return1 { .. }),
            "{code:?}"
        );
        let entry = |at: u32| {
            let at = at as usize;
            assert!(at == n - 4 || at == n - 2, "{at} in {code:?}");
            u128::from(words[at - (n - 4)]) | (u128::from(words[at - (n - 4) + 1]) << 64)
        };
        let consts: Vec<u128> = code
            .iter()
            .filter_map(|op| match *op {
                Op::V128Const { index, .. } => Some(entry(index)),
                _ => None,
            })
            .collect();
        assert_eq!(consts, [7 | (9 << 64), 7 | (9 << 64)]);
        let mask = code.iter().find_map(|op| match *op {
            Op::I8x16Shuffle { mask, .. } => Some(entry(mask)),
            _ => None,
        });
        let lanes = [1u8, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14];
        assert_eq!(mask, Some(u128::from_le_bytes(lanes)));
        // No constants, no pool.
        let plain = f("(module (func (result i32) (i32.const 1)))");
        assert!(!plain.iter().any(|op| matches!(op, Op::PoolWord(_))));
    }

    #[test]
    fn calls_return_into_locals_and_take_their_argument_copies() {
        let code = ops(r#"(module
            (func $f (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
            (func $g (param i32) (result i32) (local.get 0))
            (func $two (param i32) (result i32 i32) (local.get 0) (local.get 0))
            (func (param i32 i32) (result i32) (local i32)
              (local.set 2 (call $f (local.get 1) (local.get 0)))
              (local.set 0 (call $g (local.get 2)))
              (local.set 1 (call $g (i32.const 7)))
              (call $two (local.get 0))
              (local.set 1)
              (local.set 0)
              (i32.add (local.get 0) (local.get 1))))"#);
        let has = |pred: &dyn Fn(&Op) -> bool| assert!(code.iter().any(pred), "{code:?}");
        // Both argument copies (crossed) and the call, the result into local 2.
        has(&|op| {
            matches!(
                op,
                Op::CopyPairThenCall {
                    func: 0,
                    ret: 2,
                    s1: 1,
                    s2: 0,
                    k1: 0,
                    k2: 1,
                    ..
                }
            )
        });
        // One copy and the call, the result into the parameter it read.
        has(
            &|op| matches!(op, Op::CopyThenCall { func: 1, ret: 0, src: 2, dst, base } if dst == base),
        );
        // A constant argument: no copy to join, the result still into the local.
        has(&|op| matches!(op, Op::Call { func: 1, dst: 1, base } if *base > 2));
        // Two results: not redirected, taken from the call's slots by copies.
        has(&|op| matches!(op, Op::Call { func: 2, dst, base } if dst == base));
        has(&|op| matches!(op, Op::CopyPair { d1: 1, d2: 0, .. }));
    }

    #[test]
    fn joins_pairs_of_translated_code() {
        // The shapes `vm/tests/interp_fusion.rs` runs: a load whose address is the
        // load before it, copies, two steps, a loop's step and back edge, and a step
        // before a stepped counter's test (wasi-libc's memcmp has both steps).
        let code = ops(r#"(module (memory 1)
            (func (param i32) (result i32) (local i32)
              (local.set 1 (i32.load offset=4 (local.get 0)))
              (local.set 1 (i32.load offset=8 (local.get 1)))
              (local.get 1))
            (func (param i32 i32) (local i32)
              (local.set 2 (local.get 0))
              (local.set 0 (local.get 1)))
            (func (param i32) (result i32) (local i32)
              (local.set 0 (i32.add (local.get 0) (i32.const 1)))
              (local.set 1 (i32.add (local.get 0) (i32.const 2)))
              (local.get 1))
            (func (param i32) (result i32) (local i32 i32)
              (block (loop
                (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
                (local.set 2 (i32.add (local.get 2) (local.get 1)))
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br 0)))
              (local.get 2))
            (func (param i32) (result i32) (local i32)
              (block (br_if 0 (i32.eqz (local.tee 1 (i32.load offset=12 (local.get 0)))))
                (return (local.get 1)))
              (i32.const -1))
            (func (param i32 i32) (result i32) (local i32)
              (loop
                (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (br_if 0 (local.tee 1 (i32.add (local.get 1) (i32.const -1)))))
              (local.get 2))
            (func (param i32 i32) (result i32)
              (i32.add (local.get 0) (local.get 1)))
            (func (param i32 i32 i32)
              (loop
                (i32.store8 (i32.add (local.get 0) (i32.const 300)) (i32.const 1))
                (i32.store offset=2 (i32.add (local.get 0) (i32.const 600)) (local.get 1))
                (br_if 0 (i32.le_u (local.tee 0 (i32.add (local.get 0) (local.get 1)))
                                   (local.get 2)))))
            (func (param i32) (result f64) (local f64)
              (local.set 1 (f64.const 0.5))
              (f64.add (f64.mul (f64.load (local.get 0)) (f64.load offset=16 (local.get 0)))
                (f64.add (f64.mul (f64.load offset=8 (local.get 0)) (f64.const 2))
                         (local.get 1))))
            (global $sp (mut i32) (i32.const 4096))
            (func (param i32) (result i32) (local i32)
              (global.set $sp (local.tee 1 (i32.sub (global.get $sp) (i32.const 16))))
              (global.set $sp (i32.add (local.get 1) (i32.const 16)))
              (local.get 0)))"#);
        let has = |pred: &dyn Fn(&Op) -> bool| assert!(code.iter().any(pred), "{code:?}");
        has(&|op| {
            matches!(
                op,
                Op::I32AddThenReturn1 { a: 0, b: 1, d, src } if d == src
            )
        });
        has(&|op| {
            matches!(
                op,
                Op::I32AddImmThenStore8Imm {
                    a: 0,
                    imm: 300,
                    offset: 0,
                    value: 1,
                    ..
                }
            )
        });
        has(&|op| {
            matches!(
                op,
                Op::I32AddThenBrI32LeU {
                    d: 0,
                    a: 0,
                    b: 1,
                    x: 0,
                    y: 2,
                    ..
                }
            )
        });
        has(&|op| {
            matches!(
                op,
                Op::I64LoadPair {
                    a1: 0,
                    o1: 0,
                    a2: 0,
                    o2: 16,
                    ..
                }
            )
        });
        has(&|op| matches!(op, Op::F64AddThenAdd { b1: 1, .. }));
        has(&|op| {
            *op == Op::GlobalSetAddImmThenReturn1 {
                global: 0,
                src: 1,
                ret: 0,
                imm: 16,
            }
        });
        has(&|op| {
            *op == Op::I32LoadPair {
                d1: 1,
                a1: 0,
                o1: 4,
                d2: 1,
                a2: 1,
                o2: 8,
            }
        });
        has(&|op| {
            *op == Op::CopyPair {
                d1: 2,
                s1: 0,
                d2: 0,
                s2: 1,
            }
        });
        has(&|op| {
            *op == Op::I32AddImmPair {
                d1: 0,
                a1: 0,
                i1: 1,
                d2: 1,
                a2: 0,
                i2: 2,
            }
        });
        has(&|op| {
            matches!(
                op,
                Op::I32AddImmThenBr {
                    d: 1,
                    a: 1,
                    imm: 1,
                    ..
                }
            )
        });
        has(&|op| {
            matches!(
                op,
                Op::I32AddImmThenAddImmBrNez {
                    d: 0,
                    a: 0,
                    imm: 1,
                    x: 1,
                    c: -1,
                    ..
                }
            )
        });
        has(&|op| {
            matches!(
                op,
                Op::I32LoadThenBrIfEqz {
                    d: 1,
                    a: 0,
                    offset: 12,
                    ..
                }
            )
        });
    }

    #[test]
    fn byte_compare_loops_become_one_op() {
        let memcmp = |steps: &str, regs: &str| {
            format!(
                "(module (memory 1)
                  (func (param i32 i32 i32) (result i32) (local i32 i32)
                    (block $done (loop $next
                      (br_if $done (i32.ne (local.tee 3 (i32.load8_u (local.get 0)))
                                           (local.tee {regs} (i32.load8_u (local.get 1)))))
                      {steps}
                      (br_if $next (local.tee 2 (i32.add (local.get 2) (i32.const -1))))))
                    (i32.sub (local.get 3) (local.get 4))))"
            )
        };
        let one = "(local.set 0 (i32.add (local.get 0) (i32.const 1)))";
        let other = "(local.set 1 (i32.add (local.get 1) (i32.const 1)))";
        let is_loop = |op: &Op| {
            matches!(
                op,
                Op::ByteCompareLoop {
                    dst_a: 3,
                    dst_b: 4,
                    a: 0,
                    b: 1,
                    n: 2,
                    ..
                }
            )
        };
        for steps in [format!("{one} {other}"), format!("{other} {one}")] {
            let code = ops(&memcmp(&steps, "4"));
            assert_eq!(code.iter().filter(|op| is_loop(op)).count(), 1, "{code:?}");
        }
        // Not the loop: a step of 2, a destination that is also a pointer.
        let code = ops(&memcmp(
            &format!("{one} (local.set 1 (i32.add (local.get 1) (i32.const 2)))"),
            "4",
        ));
        assert!(
            !code
                .iter()
                .any(|op| matches!(op, Op::ByteCompareLoop { .. })),
            "{code:?}"
        );
        let code = ops(&memcmp(&format!("{one} {other}"), "1"));
        assert!(
            !code
                .iter()
                .any(|op| matches!(op, Op::ByteCompareLoop { .. })),
            "{code:?}"
        );
    }

    #[test]
    fn a_zero_stored_into_a_fresh_local_is_no_op() {
        // Only the first zero goes: the second follows a write, the third is in a loop,
        // the fourth is into a parameter.
        let code = ops(r#"(module
            (func (param i32) (result i32) (local i32 i32)
              (local.set 1 (i32.const 0))
              (local.set 1 (i32.add (local.get 1) (local.get 0)))
              (local.set 1 (i32.const 0))
              (loop (local.set 2 (i32.const 0)))
              (local.set 0 (i32.const 0))
              (i32.add (local.get 1) (local.get 2))))"#);
        let zeros = count(&code, |op| matches!(op, Op::Const32 { value: 0, .. }));
        assert_eq!(zeros, 3, "{code:?}");
    }

    #[test]
    fn br_table_on_a_loaded_byte_is_one_op() {
        let code = ops(r#"(module (memory 1)
            (func (param i32) (result i32)
              (block (block (br_table 0 1 (i32.load8_u offset=9 (local.get 0)))))
              (i32.const 0)))"#);
        assert!(
            code.iter().any(|op| matches!(
                op,
                Op::BrTableLoad8U {
                    addr: 0,
                    offset: 9,
                    len: 1,
                    ..
                }
            )),
            "{code:?}"
        );
        assert!(
            !code
                .iter()
                .any(|op| matches!(op, Op::I32Load8U(..) | Op::BrTable { .. }))
        );
        // Kept in a local by `local.tee` (the VDBE's opcode): the op writes the local.
        let code = ops(r#"(module (memory 1)
            (func (param i32) (result i32) (local i32)
              (block (block (br_table 0 1 (local.tee 1 (i32.load8_u offset=9 (local.get 0))))))
              (local.get 1)))"#);
        assert!(
            code.contains(&Op::BrTableLoad8U {
                dst: 1,
                addr: 0,
                offset: 9,
                len: 1
            }),
            "{code:?}"
        );
        assert!(
            !code
                .iter()
                .any(|op| matches!(op, Op::I32Load8U(..) | Op::BrTable { .. })),
            "{code:?}"
        );
    }

    #[test]
    fn a_br_to_a_step_and_back_edge_takes_both_itself() {
        use Op::*;
        let mut code = vec![
            BrIfEqz { cond: 0, target: 3 },
            Br { target: 4 },
            Return,
            I32AddImm(1, 1, 1),
            I32AddImm(2, 2, 1),
            Br { target: 0 },
            Return,
        ];
        super::join_pairs(&mut code, &[0, 1, 5]);
        let step = I32AddImmThenBr {
            d: 2,
            a: 2,
            imm: 1,
            target: 0,
        };
        assert_eq!(
            code,
            vec![
                BrIfEqz { cond: 0, target: 3 },
                step,
                Return,
                I32AddImm(1, 1, 1),
                step,
                Br { target: 0 },
                Return,
            ]
        );
    }
}
