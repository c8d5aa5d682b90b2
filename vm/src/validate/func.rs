//! Function body validation: the operand and control stacks of the spec's validation
//! algorithm (Appendix "Validation Algorithm"), with its names: `push_val`, `pop_val`,
//! `push_ctrl`, `pop_ctrl`, `label_types`, `unreachable`.
//!
//! The validator only types; engines walk the same instructions beside it to emit code
//! and ask it what they need (is this code reachable, what type is on top).

use super::Context;
use crate::decode::ops::{BlockType, LaneArg, MemArg, NumOp, Operator, SimdOp};
use crate::error::{Error, Result};
use crate::types::{FuncType, Mutability, RefType, ValType};

/// What opened a control frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Clone, Debug)]
pub(crate) struct CtrlFrame {
    pub kind: FrameKind,
    pub ty: BlockType,
    /// Operand stack height at entry (after popping the parameters).
    pub height: usize,
    pub unreachable: bool,
}

/// `None` is the spec's `Unknown`: a value from unreachable code that may be of any type.
pub(crate) type MaybeType = Option<ValType>;

pub(crate) struct FuncValidator<'a> {
    cx: &'a Context<'a>,
    locals: Vec<ValType>,
    vals: Vec<MaybeType>,
    ctrls: Vec<CtrlFrame>,
    /// Offset of the instruction being validated, for errors.
    at: usize,
}

impl<'a> FuncValidator<'a> {
    /// Starts validating function `func_index` (in the module's function index space).
    pub(crate) fn new(cx: &'a Context<'a>, func_index: u32) -> FuncValidator<'a> {
        let m = cx.module;
        let type_index = m.funcs[func_index as usize];
        let body = &m.bodies[(func_index - m.num_imported_funcs) as usize];
        let ty = &m.types[type_index as usize];
        let mut locals = Vec::with_capacity(ty.params().len() + body.num_locals as usize);
        locals.extend_from_slice(ty.params());
        for &(n, t) in &body.locals {
            locals.extend(std::iter::repeat_n(t, n as usize));
        }
        let mut v = FuncValidator {
            cx,
            locals,
            vals: Vec::new(),
            ctrls: Vec::new(),
            at: body.code_start,
        };
        v.ctrls.push(CtrlFrame {
            kind: FrameKind::Func,
            ty: BlockType::Func(type_index),
            height: 0,
            unreachable: false,
        });
        v
    }

    pub(crate) fn locals(&self) -> &[ValType] {
        &self.locals
    }

    /// True once the function's final `end` has been validated.
    pub(crate) fn is_finished(&self) -> bool {
        self.ctrls.is_empty()
    }

    pub(crate) fn ctrl(&self, depth: u32) -> Option<&CtrlFrame> {
        let n = self.ctrls.len();
        n.checked_sub(1 + depth as usize).map(|i| &self.ctrls[i])
    }

    fn err(&self, message: &str) -> Error {
        Error::invalid(self.at, message)
    }

    fn func_type(&self, index: u32) -> Result<&'a FuncType> {
        self.cx
            .module
            .types
            .get(index as usize)
            .ok_or_else(|| self.err("unknown type"))
    }

    /// Parameters of a block type.
    pub(crate) fn block_params(&self, ty: BlockType) -> &'a [ValType] {
        match ty {
            BlockType::Func(i) => self.cx.module.types[i as usize].params(),
            _ => &[],
        }
    }

    /// Results of a block type.
    pub(crate) fn block_results(&self, ty: BlockType) -> &'a [ValType] {
        match ty {
            BlockType::Func(i) => self.cx.module.types[i as usize].results(),
            BlockType::Value(t) => value_slice(t),
            BlockType::Empty => &[],
        }
    }

    pub(crate) fn label_types(&self, frame: &CtrlFrame) -> &'a [ValType] {
        if frame.kind == FrameKind::Loop {
            self.block_params(frame.ty)
        } else {
            self.block_results(frame.ty)
        }
    }

    fn push_val(&mut self, t: MaybeType) {
        self.vals.push(t);
    }

    fn push_vals(&mut self, ts: &[ValType]) {
        self.vals.extend(ts.iter().map(|&t| Some(t)));
    }

    fn pop_val(&mut self) -> Result<MaybeType> {
        let frame = self.ctrls.last().ok_or_else(|| self.err("type mismatch"))?;
        if self.vals.len() == frame.height {
            if frame.unreachable {
                return Ok(None);
            }
            return Err(self.err("type mismatch"));
        }
        Ok(self.vals.pop().expect("above frame height"))
    }

    fn pop_expect(&mut self, expect: ValType) -> Result<MaybeType> {
        let actual = self.pop_val()?;
        match actual {
            Some(t) if t != expect => Err(self.err("type mismatch")),
            _ => Ok(actual),
        }
    }

    fn pop_vals(&mut self, ts: &[ValType]) -> Result<()> {
        for &t in ts.iter().rev() {
            self.pop_expect(t)?;
        }
        Ok(())
    }

    fn push_ctrl(&mut self, kind: FrameKind, ty: BlockType) {
        let height = self.vals.len();
        self.ctrls.push(CtrlFrame {
            kind,
            ty,
            height,
            unreachable: false,
        });
        let params = self.block_params(ty);
        self.push_vals(params);
    }

    fn pop_ctrl(&mut self) -> Result<CtrlFrame> {
        let frame = self.ctrls.last().ok_or_else(|| self.err("type mismatch"))?;
        let (ty, height) = (frame.ty, frame.height);
        let results = self.block_results(ty);
        self.pop_vals(results)?;
        if self.vals.len() != height {
            return Err(self.err("type mismatch"));
        }
        Ok(self.ctrls.pop().expect("checked above"))
    }

    fn unreachable(&mut self) {
        let frame = self.ctrls.last_mut().expect("inside a function");
        self.vals.truncate(frame.height);
        frame.unreachable = true;
    }

    fn check_block_type(&self, ty: BlockType) -> Result<()> {
        if let BlockType::Func(i) = ty {
            self.func_type(i)?;
        }
        Ok(())
    }

    fn label(&self, depth: u32) -> Result<&CtrlFrame> {
        self.ctrl(depth).ok_or_else(|| self.err("unknown label"))
    }

    fn local(&self, index: u32) -> Result<ValType> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| self.err("unknown local"))
    }

    fn global(&self, index: u32) -> Result<crate::types::GlobalType> {
        self.cx
            .module
            .global_types
            .get(index as usize)
            .copied()
            .ok_or_else(|| self.err("unknown global"))
    }

    fn table(&self, index: u32) -> Result<RefType> {
        self.cx
            .module
            .tables
            .get(index as usize)
            .map(|t| t.element)
            .ok_or_else(|| self.err("unknown table"))
    }

    /// Checks memory `index` exists.
    fn memory(&self, index: u32) -> Result<()> {
        if index as usize >= self.cx.module.memories.len() {
            return Err(self.err(&format!("unknown memory {index}")));
        }
        Ok(())
    }

    fn mem_arg(&self, arg: MemArg, width_log2: u32) -> Result<()> {
        self.memory(arg.memory)?;
        if arg.align > width_log2 {
            return Err(self.err("alignment must not be larger than natural"));
        }
        Ok(())
    }

    fn data(&self, index: u32) -> Result<()> {
        match self.cx.module.data_count {
            Some(n) if index < n => Ok(()),
            _ => Err(self.err("unknown data segment")),
        }
    }

    fn elem(&self, index: u32) -> Result<RefType> {
        self.cx
            .module
            .elems
            .get(index as usize)
            .map(|e| e.ty)
            .ok_or_else(|| self.err("unknown elem segment"))
    }

    /// Validates one instruction found at byte offset `at`.
    pub(crate) fn visit(&mut self, op: &Operator, at: usize) -> Result<()> {
        use Operator as O;
        use ValType::*;
        self.at = at;
        if self.ctrls.is_empty() {
            return Err(Error::malformed(
                at,
                "operators remaining after end of function",
            ));
        }
        match *op {
            O::Unreachable => self.unreachable(),
            O::Nop => {}
            O::Block(ty) | O::Loop(ty) => {
                self.check_block_type(ty)?;
                let params = self.block_params(ty);
                self.pop_vals(params)?;
                let kind = if matches!(op, O::Block(_)) {
                    FrameKind::Block
                } else {
                    FrameKind::Loop
                };
                self.push_ctrl(kind, ty);
            }
            O::If(ty) => {
                self.check_block_type(ty)?;
                self.pop_expect(I32)?;
                let params = self.block_params(ty);
                self.pop_vals(params)?;
                self.push_ctrl(FrameKind::If, ty);
            }
            O::Else => {
                let frame = self.pop_ctrl()?;
                if frame.kind != FrameKind::If {
                    return Err(self.err("else without matching if"));
                }
                self.push_ctrl(FrameKind::Else, frame.ty);
            }
            O::End => {
                let frame = self.pop_ctrl()?;
                if frame.kind == FrameKind::If {
                    // An `if` without `else` passes its parameters through.
                    let params = self.block_params(frame.ty);
                    let results = self.block_results(frame.ty);
                    if params != results {
                        return Err(self.err("type mismatch"));
                    }
                }
                let results = self.block_results(frame.ty);
                self.push_vals(results);
            }
            O::Br(l) => {
                let types = self.label_types(self.label(l)?);
                self.pop_vals(types)?;
                self.unreachable();
            }
            O::BrIf(l) => {
                self.pop_expect(I32)?;
                let types = self.label_types(self.label(l)?);
                self.pop_vals(types)?;
                self.push_vals(types);
            }
            O::BrTable {
                ref targets,
                default,
            } => {
                self.pop_expect(I32)?;
                let arity = self.label_types(self.label(default)?).len();
                for &n in targets {
                    let types = self.label_types(self.label(n)?);
                    if types.len() != arity {
                        return Err(self.err("type mismatch"));
                    }
                    self.check_top(types)?;
                }
                let types = self.label_types(self.label(default)?);
                self.pop_vals(types)?;
                self.unreachable();
            }
            O::Return => {
                let types = self.label_types(&self.ctrls[0]);
                self.pop_vals(types)?;
                self.unreachable();
            }
            O::Call(f) => {
                let ty = self
                    .cx
                    .func_type(f)
                    .ok_or_else(|| self.err("unknown function"))?;
                self.pop_vals(ty.params())?;
                self.push_vals(ty.results());
            }
            O::CallIndirect { type_index, table } => {
                if self.table(table)? != RefType::FuncRef {
                    return Err(self.err("type mismatch"));
                }
                let ty = self.func_type(type_index)?;
                self.pop_expect(I32)?;
                self.pop_vals(ty.params())?;
                self.push_vals(ty.results());
            }
            O::Drop => {
                self.pop_val()?;
            }
            O::Select => {
                self.pop_expect(I32)?;
                let t1 = self.pop_val()?;
                let t2 = self.pop_val()?;
                let numeric_or_vector = |t: MaybeType| t.is_none_or(|t| !t.is_ref());
                if !(numeric_or_vector(t1) && numeric_or_vector(t2)) {
                    return Err(self.err("type mismatch"));
                }
                if let (Some(a), Some(b)) = (t1, t2)
                    && a != b
                {
                    return Err(self.err("type mismatch"));
                }
                self.push_val(t1.or(t2));
            }
            O::SelectTyped(t) => {
                self.pop_expect(I32)?;
                self.pop_expect(t)?;
                self.pop_expect(t)?;
                self.push_val(Some(t));
            }
            O::LocalGet(i) => {
                let t = self.local(i)?;
                self.push_val(Some(t));
            }
            O::LocalSet(i) => {
                let t = self.local(i)?;
                self.pop_expect(t)?;
            }
            O::LocalTee(i) => {
                let t = self.local(i)?;
                self.pop_expect(t)?;
                self.push_val(Some(t));
            }
            O::GlobalGet(i) => {
                let g = self.global(i)?;
                self.push_val(Some(g.content));
            }
            O::GlobalSet(i) => {
                let g = self.global(i)?;
                if g.mutability != Mutability::Var {
                    return Err(self.err("global is immutable"));
                }
                self.pop_expect(g.content)?;
            }
            O::TableGet(t) => {
                let rt = self.table(t)?;
                self.pop_expect(I32)?;
                self.push_val(Some(rt.into()));
            }
            O::TableSet(t) => {
                let rt = self.table(t)?;
                self.pop_expect(rt.into())?;
                self.pop_expect(I32)?;
            }
            O::Load(kind, arg) => {
                self.mem_arg(arg, kind.width_log2())?;
                self.pop_expect(I32)?;
                self.push_val(Some(kind.result()));
            }
            O::Store(kind, arg) => {
                self.mem_arg(arg, kind.width_log2())?;
                self.pop_expect(kind.operand())?;
                self.pop_expect(I32)?;
            }
            O::MemorySize(m) => {
                self.memory(m)?;
                self.push_val(Some(I32));
            }
            O::MemoryGrow(m) => {
                self.memory(m)?;
                self.pop_expect(I32)?;
                self.push_val(Some(I32));
            }
            O::I32Const(_) => self.push_val(Some(I32)),
            O::I64Const(_) => self.push_val(Some(I64)),
            O::F32Const(_) => self.push_val(Some(F32)),
            O::F64Const(_) => self.push_val(Some(F64)),
            O::Num(n) => self.num(n)?,
            O::RefNull(t) => self.push_val(Some(t.into())),
            O::RefIsNull => {
                let t = self.pop_val()?;
                if t.is_some_and(|t| !t.is_ref()) {
                    return Err(self.err("type mismatch"));
                }
                self.push_val(Some(I32));
            }
            O::RefFunc(f) => {
                if self.cx.func_type(f).is_none() {
                    return Err(self.err("unknown function"));
                }
                if !self.cx.declared_refs.contains(&f) {
                    return Err(self.err("undeclared function reference"));
                }
                self.push_val(Some(FuncRef));
            }
            O::MemoryInit { data, memory } => {
                self.memory(memory)?;
                self.data(data)?;
                self.pop_vals(&[I32, I32, I32])?;
            }
            O::DataDrop(d) => self.data(d)?,
            O::MemoryCopy { dst, src } => {
                self.memory(dst)?;
                self.memory(src)?;
                self.pop_vals(&[I32, I32, I32])?;
            }
            O::MemoryFill(m) => {
                self.memory(m)?;
                self.pop_vals(&[I32, I32, I32])?;
            }
            O::TableInit { elem, table } => {
                let tt = self.table(table)?;
                let et = self.elem(elem)?;
                if tt != et {
                    return Err(self.err("type mismatch"));
                }
                self.pop_vals(&[I32, I32, I32])?;
            }
            O::ElemDrop(e) => {
                self.elem(e)?;
            }
            O::TableCopy { dst, src } => {
                let d = self.table(dst)?;
                let s = self.table(src)?;
                if d != s {
                    return Err(self.err("type mismatch"));
                }
                self.pop_vals(&[I32, I32, I32])?;
            }
            O::TableGrow(t) => {
                let rt = self.table(t)?;
                self.pop_expect(I32)?;
                self.pop_expect(rt.into())?;
                self.push_val(Some(I32));
            }
            O::TableSize(t) => {
                self.table(t)?;
                self.push_val(Some(I32));
            }
            O::TableFill(t) => {
                let rt = self.table(t)?;
                self.pop_expect(I32)?;
                self.pop_expect(rt.into())?;
                self.pop_expect(I32)?;
            }
            O::V128Load(kind, arg) => {
                self.mem_arg(arg, kind.width_log2())?;
                self.pop_expect(I32)?;
                self.push_val(Some(V128));
            }
            O::V128Store(arg) => {
                self.mem_arg(arg, 4)?;
                self.pop_expect(V128)?;
                self.pop_expect(I32)?;
            }
            O::V128LoadLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) => {
                self.mem_arg(arg, width_log2)?;
                self.lane_index(lane, 16 >> width_log2)?;
                self.pop_expect(V128)?;
                self.pop_expect(I32)?;
                self.push_val(Some(V128));
            }
            O::V128StoreLane(LaneArg {
                width_log2,
                arg,
                lane,
            }) => {
                self.mem_arg(arg, width_log2)?;
                self.lane_index(lane, 16 >> width_log2)?;
                self.pop_expect(V128)?;
                self.pop_expect(I32)?;
            }
            O::V128Const(_) => self.push_val(Some(V128)),
            O::I8x16Shuffle(ref lanes) => {
                for &lane in lanes {
                    self.lane_index(lane, 32)?;
                }
                self.pop_vals(&[V128, V128])?;
                self.push_val(Some(V128));
            }
            O::Lane(op, lane) => {
                self.lane_index(lane, op.lanes())?;
                if op.is_replace() {
                    self.pop_expect(op.scalar())?;
                    self.pop_expect(V128)?;
                    self.push_val(Some(V128));
                } else {
                    self.pop_expect(V128)?;
                    self.push_val(Some(op.scalar()));
                }
            }
            O::Simd(op) => self.simd(op)?,
        }
        Ok(())
    }

    fn lane_index(&self, lane: u8, lanes: u8) -> Result<()> {
        if lane >= lanes {
            return Err(self.err("invalid lane index"));
        }
        Ok(())
    }

    fn simd(&mut self, op: SimdOp) -> Result<()> {
        let (params, results) = op.signature();
        self.pop_vals(params)?;
        self.push_vals(results);
        Ok(())
    }

    fn num(&mut self, op: NumOp) -> Result<()> {
        let (params, results) = op.signature();
        self.pop_vals(params)?;
        self.push_vals(results);
        Ok(())
    }

    /// Checks that the top of the stack matches `types` without changing it (a `br_table`
    /// target).
    fn check_top(&mut self, types: &[ValType]) -> Result<()> {
        let frame = self.ctrls.last().expect("inside a function");
        let available = self.vals.len() - frame.height;
        for (i, &t) in types.iter().rev().enumerate() {
            if i >= available {
                if frame.unreachable {
                    return Ok(());
                }
                return Err(self.err("type mismatch"));
            }
            if let Some(actual) = self.vals[self.vals.len() - 1 - i]
                && actual != t
            {
                return Err(self.err("type mismatch"));
            }
        }
        Ok(())
    }
}

/// A one-element slice for a value type, with a static lifetime.
pub(crate) fn value_slice(t: ValType) -> &'static [ValType] {
    match t {
        ValType::I32 => &[ValType::I32],
        ValType::I64 => &[ValType::I64],
        ValType::F32 => &[ValType::F32],
        ValType::F64 => &[ValType::F64],
        ValType::V128 => &[ValType::V128],
        ValType::FuncRef => &[ValType::FuncRef],
        ValType::ExternRef => &[ValType::ExternRef],
    }
}
