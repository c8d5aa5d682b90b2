//! WebAssembly → SSA: one pass over a function body, beside the validator.
//!
//! The operand stack holds SSA values directly. Locals are SSA *variables*, turned into
//! values with the algorithm of Braun et al., "Simple and Efficient Construction of
//! Static Single Assignment Form" (CC 2013): a read of a local looks for its definition
//! in the current block, then through predecessors; a block whose predecessors are not
//! all known yet ("unsealed": a loop header before the loop's `end`, a block's merge
//! point before its `end`) gets a placeholder parameter that is completed when the
//! block is sealed. Phis with a single distinct operand are replaced on the spot; the
//! cycles of redundant phis that remain are removed by `passes::remove_redundant_phis`.
//!
//! Wasm's structure decides sealing: a `block`'s or `if`'s merge block is sealed at its
//! `end` (only branches from inside reach it), a loop header at the loop's `end`, every
//! other block as soon as it is created (its single predecessor is known).

#![forbid(unsafe_code)]

use super::CompileError;
use super::ir::*;
use crate::decode::ModuleInfo;
use crate::decode::ops::{BlockType, LoadKind, MemArg, NumOp, Operator, StoreKind, V128LoadKind};
use crate::decode::reader::Reader;
use crate::error::{Error, TrapCode};
use crate::types::ValType;
use crate::validate::Context;
use crate::validate::func::{FrameKind, FuncValidator};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hasher for the small integer keys of the SSA maps.
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // A product's low bits depend only on the factor's low bits, and hashbrown picks
        // buckets by the low bits: without the rotation, keys `block << 32 | local`
        // differing only in the block all land in one probe sequence.
        self.0.rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The IR type of a Wasm value type.
pub(crate) fn ir_type(t: ValType) -> Result<Type, CompileError> {
    Ok(match t {
        ValType::I32 => Type::I32,
        ValType::I64 | ValType::FuncRef | ValType::ExternRef => Type::I64,
        ValType::F32 => Type::F32,
        ValType::F64 => Type::F64,
        ValType::V128 => Type::V128,
    })
}

struct Frame {
    kind: FrameKind,
    /// For a loop, its header; otherwise the block after `end`.
    label: Block,
    /// The block after `end`, for loops too (created lazily for loops: `NONE`).
    end: Block,
    /// Operand stack height at entry, parameters excluded.
    height: usize,
    num_params: usize,
    num_results: usize,
    /// An `if`'s else block and the parameters it starts with.
    else_block: Block,
    else_params: Vec<Value>,
    /// Whether code before the frame was reachable (for `else`).
    reachable_at_entry: bool,
}

/// Builds the SSA form of one function.
struct Builder<'a> {
    module: &'a ModuleInfo,
    f: Function,
    local_types: Vec<Type>,
    /// (block, local) → value defined for that local in that block.
    defs: FastMap<u64, Value>,
    sealed: Vec<bool>,
    /// Unique predecessor blocks, per block.
    preds: Vec<Vec<Block>>,
    /// Placeholder phis of unsealed blocks: (local, parameter).
    incomplete: FastMap<u32, Vec<(u32, Value)>>,
    /// The blocks `read_var` walks through, a stack shared by nested calls (a vector
    /// per walk was a tenth of the compiler's allocations).
    walk: Vec<Block>,
    /// The variable each Braun phi stands for (to complete it), by parameter value.
    stack: Vec<Value>,
    frames: Vec<Frame>,
    cur: Block,
    reachable: bool,
    loop_depth: u32,
}

/// Translates defined function `def_index` to SSA, validating it on the way.
pub(crate) fn translate(
    cx: &Context<'_>,
    bytes: &[u8],
    def_index: u32,
) -> Result<Function, CompileError> {
    let m = cx.module;
    let func_index = m.num_imported_funcs + def_index;
    let body = &m.bodies[def_index as usize];
    let type_index = m.funcs[func_index as usize];
    let ty = &m.types[type_index as usize];
    let mut v = FuncValidator::new(cx, func_index);
    let local_types = v
        .locals()
        .iter()
        .map(|t| ir_type(*t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut b = Builder {
        module: m,
        f: Function::default(),
        local_types,
        defs: FastMap::default(),
        sealed: Vec::new(),
        preds: Vec::new(),
        incomplete: FastMap::default(),
        walk: Vec::new(),
        stack: Vec::new(),
        frames: Vec::new(),
        cur: Block::NONE,
        reachable: true,
        loop_depth: 0,
    };
    b.f.params = ty
        .params()
        .iter()
        .map(|t| ir_type(*t))
        .collect::<Result<_, _>>()?;
    b.f.results = ty
        .results()
        .iter()
        .map(|t| ir_type(*t))
        .collect::<Result<_, _>>()?;
    let entry = b.new_block();
    b.seal(entry);
    b.f.entry = entry;
    b.cur = entry;
    for (i, &t) in b.f.params.clone().iter().enumerate() {
        let p = b.f.add_param(entry, t);
        b.write_var(i as u32, entry, p);
    }
    let num_params = b.f.params.len();
    for i in num_params..b.local_types.len() {
        let t = b.local_types[i];
        let zero = b.iconst(t, 0);
        b.write_var(i as u32, entry, zero);
    }
    b.frames.push(Frame {
        kind: FrameKind::Func,
        label: Block::NONE,
        end: Block::NONE,
        height: 0,
        num_params: 0,
        num_results: b.f.results.len(),
        else_block: Block::NONE,
        else_params: Vec::new(),
        reachable_at_entry: true,
    });

    let mut r = Reader::new(bytes, body.code_start, body.code_end);
    let has_data_count = m.data_count.is_some();
    let features = m.features;
    let trace = super::debug_flags().trace_frontend;
    while !v.is_finished() {
        if r.is_empty() {
            return Err(CompileError::Wasm(Error::malformed(
                r.pos(),
                "END opcode expected",
            )));
        }
        let at = r.pos();
        let op = r.operator(features, has_data_count)?;
        v.visit(&op, at)?;
        if trace {
            eprintln!(
                "{at:#x} {op:?} stack={} reachable={} frames={:?}",
                b.stack.len(),
                b.reachable,
                b.frames
                    .iter()
                    .map(|f| (f.height, f.reachable_at_entry))
                    .collect::<Vec<_>>()
            );
        }
        b.op(&op, &v)?;
    }
    if !r.is_empty() {
        return Err(CompileError::Wasm(Error::malformed(
            r.pos(),
            "section size mismatch",
        )));
    }
    if super::debug_flags().stats && b.f.blocks.len() > 2000 {
        let params: usize = b.f.blocks.iter().map(|bl| bl.params.len()).sum();
        eprintln!(
            "frontend: function {def_index}: {} locals, {} blocks, {} values, {} block params, {} defs",
            b.local_types.len(),
            b.f.blocks.len(),
            b.f.values.len(),
            params,
            b.defs.len()
        );
    }
    Ok(b.f)
}

impl From<Error> for CompileError {
    fn from(e: Error) -> CompileError {
        CompileError::Wasm(e)
    }
}

fn key(block: Block, var: u32) -> u64 {
    (u64::from(block.0) << 32) | u64::from(var)
}

impl Builder<'_> {
    fn new_block(&mut self) -> Block {
        let b = self.f.new_block(self.loop_depth);
        self.sealed.push(false);
        self.preds.push(Vec::new());
        b
    }

    // ---- SSA variables (Braun et al.) ----

    fn write_var(&mut self, var: u32, block: Block, v: Value) {
        self.defs.insert(key(block, var), v);
    }

    fn read_var(&mut self, var: u32, block: Block) -> Value {
        if let Some(&v) = self.defs.get(&key(block, var)) {
            return self.f.resolve(v);
        }
        // Walk single-predecessor chains without recursion, noting the blocks on
        // `walk` above `base` (a nested call, through `read_var_slow`, notes and
        // removes its own above ours).
        let base = self.walk.len();
        let mut b = block;
        let v = loop {
            if let Some(&v) = self.defs.get(&key(b, var)) {
                break self.f.resolve(v);
            }
            if self.sealed[b.index()] && self.preds[b.index()].len() == 1 {
                self.walk.push(b);
                b = self.preds[b.index()][0];
                continue;
            }
            break self.read_var_slow(var, b);
        };
        for i in base..self.walk.len() {
            let p = self.walk[i];
            self.write_var(var, p, v);
        }
        self.walk.truncate(base);
        v
    }

    /// `b` has no definition of `var` and is unsealed or has several predecessors.
    fn read_var_slow(&mut self, var: u32, b: Block) -> Value {
        let ty = self.local_types[var as usize];
        if !self.sealed[b.index()] {
            let p = self.f.add_param(b, ty);
            self.incomplete.entry(b.0).or_default().push((var, p));
            self.write_var(var, b, p);
            return p;
        }
        if self.preds[b.index()].is_empty() {
            // Unreachable block: any value will do, it never runs.
            let z = self.iconst_in(b, ty, 0);
            self.write_var(var, b, z);
            return z;
        }
        let p = self.f.add_param(b, ty);
        self.write_var(var, b, p);
        self.complete_phi(var, b, p)
    }

    /// Adds the operands of phi `p` (for `var`) on every edge into `b`; returns the
    /// value the phi stands for (itself, or its single distinct operand).
    fn complete_phi(&mut self, var: u32, b: Block, p: Value) -> Value {
        let mut same = Value::NONE;
        let mut trivial = true;
        // By index: `b` is sealed, so its predecessors no longer change.
        for i in 0..self.preds[b.index()].len() {
            let pred = self.preds[b.index()][i];
            let arg = self.read_var(var, pred);
            let arg = self.f.resolve(arg);
            if arg != p {
                if same.is_none() {
                    same = arg;
                } else if same != arg {
                    trivial = false;
                }
            }
            self.f.blocks[pred.index()].term.for_each_succ_mut(|c| {
                if c.block == b {
                    c.args.push(arg);
                }
            });
        }
        if trivial && !same.is_none() {
            // The argument stays on the edges (removed with the parameter later).
            self.f.alias(p, same);
            self.write_var(var, b, same);
            return same;
        }
        p
    }

    fn seal(&mut self, b: Block) {
        if let Some(list) = self.incomplete.remove(&b.0) {
            self.sealed[b.index()] = true;
            for (var, p) in list {
                let v = self.complete_phi(var, b, p);
                let _ = v;
            }
        }
        self.sealed[b.index()] = true;
    }

    // ---- emitting ----

    fn ins(&mut self, op: Opcode, ty: Type, args: &[Value], imm: u64, aux: u32) -> Value {
        let mut a = [Value::NONE; 3];
        for (slot, v) in a.iter_mut().zip(args) {
            *slot = self.f.resolve(*v);
        }
        let mut data = InstData {
            op,
            ty,
            args: a,
            imm,
            aux,
            result: Value::NONE,
        };
        if op.is_pure()
            || matches!(
                op,
                Opcode::DivS | Opcode::DivU | Opcode::RemS | Opcode::RemU
            )
        {
            match super::passes::simplify(&self.f, &mut data) {
                Some(super::passes::Simple::Value(v)) => return v,
                Some(super::passes::Simple::Const(c)) => return self.iconst(ty, c),
                None => {}
            }
        }
        let has_result = !matches!(
            op,
            Opcode::Store(_)
                | Opcode::GlobalSet
                | Opcode::InterruptCheck
                | Opcode::StoreLane { .. }
        );
        self.f.push_inst(self.cur, data, has_result)
    }

    fn iconst_in(&mut self, b: Block, ty: Type, bits: u64) -> Value {
        let (op, imm) = if ty == Type::V128 {
            let index = self.f.v128_consts.len() as u64;
            self.f.v128_consts.push(u128::from(bits));
            (Opcode::V128Const, index)
        } else {
            (Opcode::Const, bits)
        };
        let data = InstData {
            op,
            ty,
            args: [Value::NONE; 3],
            imm,
            aux: 0,
            result: Value::NONE,
        };
        self.f.push_inst(b, data, true)
    }

    fn iconst(&mut self, ty: Type, bits: u64) -> Value {
        self.iconst_in(self.cur, ty, bits)
    }

    fn v128_const(&mut self, c: u128) -> Value {
        let index = self.f.v128_consts.len() as u64;
        self.f.v128_consts.push(c);
        self.ins(Opcode::V128Const, Type::V128, &[], index, 0)
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated: operand present")
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn top_n(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len() - n..]
            .iter()
            .map(|v| self.f.resolve(*v))
            .collect()
    }

    fn add_edge(&mut self, from: Block, to: Block) {
        let preds = &mut self.preds[to.index()];
        if !preds.contains(&from) {
            preds.push(from);
        }
    }

    /// Ends the current block with `term`.
    fn terminate(&mut self, term: Terminator) {
        let from = self.cur;
        let mut targets = Vec::new();
        term.for_each_succ(|c| targets.push(c.block));
        self.f.blocks[from.index()].term = term;
        for t in targets {
            self.add_edge(from, t);
        }
    }

    fn jump(&mut self, to: Block, args: Vec<Value>) {
        self.terminate(Terminator::Jump(BlockCall { block: to, args }));
    }

    /// The target and arguments of a branch to the label `depth` frames out; `None`
    /// for the function's label (a return).
    fn branch_target(&mut self, depth: u32) -> Option<BlockCall> {
        let i = self.frames.len() - 1 - depth as usize;
        let f = &self.frames[i];
        if f.kind == FrameKind::Func {
            return None;
        }
        let (block, arity) = if f.kind == FrameKind::Loop {
            (f.label, f.num_params)
        } else {
            (f.end, f.num_results)
        };
        let args = self.top_n(arity);
        Some(BlockCall { block, args })
    }

    fn return_values(&mut self) -> Terminator {
        let n = self.f.results.len();
        Terminator::Return(self.top_n(n))
    }

    fn block_arity(
        &self,
        v: &FuncValidator<'_>,
        ty: BlockType,
    ) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        let params = v
            .block_params(ty)
            .iter()
            .map(|t| ir_type(*t))
            .collect::<Result<Vec<_>, _>>()?;
        let results = v
            .block_results(ty)
            .iter()
            .map(|t| ir_type(*t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((params, results))
    }

    /// Makes code unreachable until the current frame ends.
    fn set_unreachable(&mut self) {
        self.reachable = false;
        let h = self.frames.last().map_or(0, |f| f.height);
        self.stack.truncate(h);
    }

    /// Translates one validated operator. Returns `Unsupported` for SIMD.
    fn op(&mut self, op: &Operator, v: &FuncValidator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        // Control structure is tracked even in unreachable code.
        match op {
            O::Block(ty) => return self.begin_block(v, *ty),
            O::Loop(ty) => return self.begin_loop(v, *ty),
            O::If(ty) => return self.begin_if(v, *ty),
            O::Else => return self.begin_else(),
            O::End => return self.end(),
            _ => {}
        }
        if !self.reachable {
            return Ok(());
        }
        match op {
            O::Unreachable => {
                self.terminate(Terminator::Trap(TrapCode::Unreachable));
                self.set_unreachable();
            }
            O::Nop => {}
            O::Br(depth) => {
                let term = match self.branch_target(*depth) {
                    Some(c) => Terminator::Jump(c),
                    None => self.return_values(),
                };
                self.terminate(term);
                self.set_unreachable();
            }
            O::BrIf(depth) => {
                let cond = self.pop();
                let next = self.new_block();
                let taken = match self.branch_target(*depth) {
                    Some(c) => c,
                    None => {
                        // A conditional return: through a block that returns.
                        let ret = self.new_block();
                        let saved = self.cur;
                        self.cur = ret;
                        let t = self.return_values();
                        self.f.blocks[ret.index()].term = t;
                        self.cur = saved;
                        BlockCall {
                            block: ret,
                            args: Vec::new(),
                        }
                    }
                };
                let taken_block = taken.block;
                self.terminate(Terminator::Branch {
                    cond,
                    then: taken,
                    else_: BlockCall {
                        block: next,
                        args: Vec::new(),
                    },
                });
                if self.preds[taken_block.index()].len() == 1
                    && self.f.blocks[taken_block.index()].params.is_empty()
                    && matches!(
                        self.f.blocks[taken_block.index()].term,
                        Terminator::Return(_)
                    )
                {
                    self.seal(taken_block);
                }
                self.seal(next);
                self.cur = next;
            }
            O::BrTable { targets, default } => {
                let index = self.pop();
                let mut calls = Vec::with_capacity(targets.len() + 1);
                let mut ret = Block::NONE;
                for &d in targets.iter().chain(std::iter::once(default)) {
                    let c = match self.branch_target(d) {
                        Some(c) => c,
                        None => {
                            if ret.is_none() {
                                ret = self.new_block();
                                let saved = self.cur;
                                self.cur = ret;
                                let t = self.return_values();
                                self.f.blocks[ret.index()].term = t;
                                self.cur = saved;
                            }
                            BlockCall {
                                block: ret,
                                args: Vec::new(),
                            }
                        }
                    };
                    calls.push(c);
                }
                self.terminate(Terminator::BrTable {
                    index,
                    targets: calls,
                });
                if !ret.is_none() {
                    self.seal(ret);
                }
                self.set_unreachable();
            }
            O::Return => {
                let t = self.return_values();
                self.terminate(t);
                self.set_unreachable();
            }
            O::Call(func) => self.call(Callee::Direct(*func), self.module.funcs[*func as usize])?,
            O::CallIndirect { type_index, table } => self.call(
                Callee::Indirect {
                    type_index: *type_index,
                    table: *table,
                },
                *type_index,
            )?,
            O::Drop => {
                self.pop();
            }
            O::Select | O::SelectTyped(_) => {
                let c = self.pop();
                let b = self.pop();
                let a = self.pop();
                let ty = self.f.ty(a);
                let r = self.ins(Opcode::Select, ty, &[c, a, b], 0, 0);
                self.push(r);
            }
            O::LocalGet(i) => {
                let v = self.read_var(*i, self.cur);
                self.push(v);
            }
            O::LocalSet(i) => {
                let v = self.pop();
                let v = self.f.resolve(v);
                self.write_var(*i, self.cur, v);
            }
            O::LocalTee(i) => {
                let v = *self.stack.last().expect("validated");
                let v = self.f.resolve(v);
                self.write_var(*i, self.cur, v);
            }
            O::GlobalGet(g) => {
                let ty = ir_type(self.module.global_types[*g as usize].content)?;
                let r = self.ins(Opcode::GlobalGet, ty, &[], u64::from(*g), 0);
                self.push(r);
            }
            O::GlobalSet(g) => {
                let ty = ir_type(self.module.global_types[*g as usize].content)?;
                let x = self.pop();
                self.ins(Opcode::GlobalSet, ty, &[x], u64::from(*g), 0);
            }
            O::TableGet(t) => {
                let i = self.pop();
                let tv = self.iconst(Type::I32, u64::from(*t));
                let r = self.libcall(Libcall::TableGet, Type::I64, &[tv, i]);
                self.push(r);
            }
            O::TableSet(t) => {
                let x = self.pop();
                let i = self.pop();
                let tv = self.iconst(Type::I32, u64::from(*t));
                self.libcall(Libcall::TableSet, Type::I32, &[tv, i, x]);
            }
            O::Load(kind, arg) => self.load(*kind, *arg),
            O::Store(kind, arg) => self.store(*kind, *arg),
            O::MemorySize(mem) => {
                let r = if *mem == 0 {
                    self.ins(Opcode::MemorySize, Type::I32, &[], 0, 0)
                } else {
                    let m = self.iconst(Type::I32, u64::from(*mem));
                    self.libcall(Libcall::MemorySize, Type::I32, &[m])
                };
                self.push(r);
            }
            O::MemoryGrow(mem) => {
                let delta = self.pop();
                let m = self.iconst(Type::I32, u64::from(*mem));
                let r = self.libcall(Libcall::MemoryGrow, Type::I32, &[m, delta]);
                self.push(r);
            }
            O::I32Const(c) => {
                let r = self.iconst(Type::I32, u64::from(*c as u32));
                self.push(r);
            }
            O::I64Const(c) => {
                let r = self.iconst(Type::I64, *c as u64);
                self.push(r);
            }
            O::F32Const(bits) => {
                let r = self.iconst(Type::F32, u64::from(*bits));
                self.push(r);
            }
            O::F64Const(bits) => {
                let r = self.iconst(Type::F64, *bits);
                self.push(r);
            }
            O::Num(n) => self.num(*n)?,
            O::RefNull(_) => {
                let r = self.iconst(Type::I64, 0);
                self.push(r);
            }
            O::RefIsNull => {
                let x = self.pop();
                let z = self.iconst(Type::I64, 0);
                let r = self.ins(Opcode::Icmp(IntCC::Eq), Type::I64, &[x, z], 0, 0);
                self.push(r);
            }
            O::RefFunc(f) => {
                let r = self.ins(Opcode::FuncRef, Type::I64, &[], u64::from(*f), 0);
                self.push(r);
            }
            O::MemoryInit { data, memory } => {
                let args = self.pop_n(3);
                let m = self.iconst(Type::I32, u64::from(*memory));
                let d = self.iconst(Type::I32, u64::from(*data));
                self.libcall(
                    Libcall::MemoryInit,
                    Type::I32,
                    &[m, d, args[0], args[1], args[2]],
                );
            }
            O::DataDrop(d) => {
                let d = self.iconst(Type::I32, u64::from(*d));
                self.libcall(Libcall::DataDrop, Type::I32, &[d]);
            }
            O::MemoryCopy { dst, src } => {
                let args = self.pop_n(3);
                let dm = self.iconst(Type::I32, u64::from(*dst));
                let sm = self.iconst(Type::I32, u64::from(*src));
                self.libcall(
                    Libcall::MemoryCopy,
                    Type::I32,
                    &[dm, sm, args[0], args[1], args[2]],
                );
            }
            O::MemoryFill(mem) => {
                let args = self.pop_n(3);
                let m = self.iconst(Type::I32, u64::from(*mem));
                self.libcall(
                    Libcall::MemoryFill,
                    Type::I32,
                    &[m, args[0], args[1], args[2]],
                );
            }
            O::TableInit { elem, table } => {
                let args = self.pop_n(3);
                let t = self.iconst(Type::I32, u64::from(*table));
                let e = self.iconst(Type::I32, u64::from(*elem));
                self.libcall(
                    Libcall::TableInit,
                    Type::I32,
                    &[t, e, args[0], args[1], args[2]],
                );
            }
            O::ElemDrop(e) => {
                let e = self.iconst(Type::I32, u64::from(*e));
                self.libcall(Libcall::ElemDrop, Type::I32, &[e]);
            }
            O::TableCopy { dst, src } => {
                let args = self.pop_n(3);
                let dt = self.iconst(Type::I32, u64::from(*dst));
                let st = self.iconst(Type::I32, u64::from(*src));
                self.libcall(
                    Libcall::TableCopy,
                    Type::I32,
                    &[dt, st, args[0], args[1], args[2]],
                );
            }
            O::TableGrow(t) => {
                let args = self.pop_n(2);
                let tv = self.iconst(Type::I32, u64::from(*t));
                let r = self.libcall(Libcall::TableGrow, Type::I32, &[tv, args[0], args[1]]);
                self.push(r);
            }
            O::TableSize(t) => {
                let tv = self.iconst(Type::I32, u64::from(*t));
                let r = self.libcall(Libcall::TableSize, Type::I32, &[tv]);
                self.push(r);
            }
            O::TableFill(t) => {
                let args = self.pop_n(3);
                let tv = self.iconst(Type::I32, u64::from(*t));
                self.libcall(
                    Libcall::TableFill,
                    Type::I32,
                    &[tv, args[0], args[1], args[2]],
                );
            }
            O::V128Load(kind, arg) => {
                let addr = self.pop();
                let op = match kind {
                    V128LoadKind::Load => Opcode::Load(MemKind::Full),
                    k => Opcode::VLoad(*k),
                };
                let r = self.ins(op, Type::V128, &[addr], u64::from(arg.offset), arg.memory);
                self.push(r);
            }
            O::V128Store(arg) => {
                let x = self.pop();
                let addr = self.pop();
                self.ins(
                    Opcode::Store(MemKind::Full),
                    Type::V128,
                    &[addr, x],
                    u64::from(arg.offset),
                    arg.memory,
                );
            }
            O::V128LoadLane(la) | O::V128StoreLane(la) => {
                let v = self.pop();
                let addr = self.pop();
                let (width_log2, lane) = (la.width_log2 as u8, la.lane);
                let op = if matches!(op, O::V128LoadLane(_)) {
                    Opcode::LoadLane { width_log2, lane }
                } else {
                    Opcode::StoreLane { width_log2, lane }
                };
                let r = self.ins(
                    op,
                    Type::V128,
                    &[addr, v],
                    u64::from(la.arg.offset),
                    la.arg.memory,
                );
                if !r.is_none() {
                    self.push(r);
                }
            }
            O::V128Const(c) => {
                let r = self.v128_const(*c);
                self.push(r);
            }
            O::I8x16Shuffle(lanes) => {
                let b = self.pop();
                let a = self.pop();
                let mask = self.f.v128_consts.len() as u64;
                self.f.v128_consts.push(u128::from_le_bytes(*lanes));
                let r = self.ins(Opcode::Shuffle, Type::V128, &[a, b], mask, 0);
                self.push(r);
            }
            O::Lane(lop, lane) => {
                let r = if lop.is_replace() {
                    let x = self.pop();
                    let v = self.pop();
                    self.ins(Opcode::Lane(*lop, *lane), Type::V128, &[v, x], 0, 0)
                } else {
                    let v = self.pop();
                    let ty = ir_type(lop.scalar())?;
                    self.ins(Opcode::Lane(*lop, *lane), ty, &[v], 0, 0)
                };
                self.push(r);
            }
            O::Simd(sop) => {
                let (params, results) = sop.signature();
                let args = self.pop_n(params.len());
                let ty = ir_type(results[0])?;
                let r = self.ins(Opcode::Simd(*sop), ty, &args, 0, 0);
                self.push(r);
            }
            O::Block(_) | O::Loop(_) | O::If(_) | O::Else | O::End => unreachable!(),
        }
        Ok(())
    }

    fn libcall(&mut self, lib: Libcall, ty: Type, args: &[Value]) -> Value {
        let args: Vec<Value> = args.iter().map(|a| self.f.resolve(*a)).collect();
        let index = self.f.calls.len() as u64;
        self.f.calls.push(CallData {
            callee: Callee::Lib(lib),
            args,
            results: Vec::new(),
            type_index: u32::MAX,
        });
        let data = InstData {
            op: Opcode::Libcall(lib),
            ty,
            args: [Value::NONE; 3],
            imm: index,
            aux: 0,
            result: Value::NONE,
        };
        let r = self.f.push_inst(self.cur, data, lib.has_result());
        if !r.is_none() {
            self.f.calls[index as usize].results.push(r);
        }
        r
    }

    fn call(&mut self, callee: Callee, type_index: u32) -> Result<(), CompileError> {
        let ty = &self.module.types[type_index as usize];
        let extra = usize::from(matches!(callee, Callee::Indirect { .. }));
        let results = ty
            .results()
            .iter()
            .map(|t| ir_type(*t))
            .collect::<Result<Vec<_>, _>>()?;
        for t in ty.params() {
            ir_type(*t)?;
        }
        let args: Vec<Value> = self
            .pop_n(ty.params().len() + extra)
            .into_iter()
            .map(|a| self.f.resolve(a))
            .collect();
        let index = self.f.calls.len() as u64;
        self.f.calls.push(CallData {
            callee,
            args,
            results: Vec::new(),
            type_index,
        });
        let data = InstData {
            op: Opcode::Call,
            ty: results.first().copied().unwrap_or(Type::I32),
            args: [Value::NONE; 3],
            imm: index,
            aux: 0,
            result: Value::NONE,
        };
        let first = self.f.push_inst(self.cur, data, !results.is_empty());
        let inst = Inst(self.f.insts.len() as u32 - 1);
        let mut rs = Vec::with_capacity(results.len());
        if !first.is_none() {
            rs.push(first);
        }
        for (n, &t) in results.iter().enumerate().skip(1) {
            rs.push(self.f.new_value(t, ValueDef::CallResult(inst, n as u32)));
        }
        self.stack.extend(rs.iter().copied());
        self.f.calls[index as usize].results = rs;
        Ok(())
    }

    fn load(&mut self, kind: LoadKind, arg: MemArg) {
        use LoadKind as L;
        let (ty, mk) = match kind {
            L::I32 => (Type::I32, MemKind::Full),
            L::I64 => (Type::I64, MemKind::Full),
            L::F32 => (Type::F32, MemKind::Full),
            L::F64 => (Type::F64, MemKind::Full),
            L::I32S8 => (Type::I32, MemKind::S8),
            L::I32U8 => (Type::I32, MemKind::U8),
            L::I32S16 => (Type::I32, MemKind::S16),
            L::I32U16 => (Type::I32, MemKind::U16),
            L::I64S8 => (Type::I64, MemKind::S8),
            L::I64U8 => (Type::I64, MemKind::U8),
            L::I64S16 => (Type::I64, MemKind::S16),
            L::I64U16 => (Type::I64, MemKind::U16),
            L::I64S32 => (Type::I64, MemKind::S32),
            L::I64U32 => (Type::I64, MemKind::U32),
        };
        let addr = self.pop();
        let r = self.ins(
            Opcode::Load(mk),
            ty,
            &[addr],
            u64::from(arg.offset),
            arg.memory,
        );
        self.push(r);
    }

    fn store(&mut self, kind: StoreKind, arg: MemArg) {
        use StoreKind as S;
        let (ty, mk) = match kind {
            S::I32 => (Type::I32, MemKind::Full),
            S::I64 => (Type::I64, MemKind::Full),
            S::F32 => (Type::F32, MemKind::Full),
            S::F64 => (Type::F64, MemKind::Full),
            S::I32As8 => (Type::I32, MemKind::U8),
            S::I32As16 => (Type::I32, MemKind::U16),
            S::I64As8 => (Type::I64, MemKind::U8),
            S::I64As16 => (Type::I64, MemKind::U16),
            S::I64As32 => (Type::I64, MemKind::U32),
        };
        let x = self.pop();
        let addr = self.pop();
        self.ins(
            Opcode::Store(mk),
            ty,
            &[addr, x],
            u64::from(arg.offset),
            arg.memory,
        );
    }

    fn num(&mut self, n: NumOp) -> Result<(), CompileError> {
        use NumOp as N;
        use Opcode as Op;
        use Type::*;
        let bin = |s: &mut Self, op: Opcode, ty: Type| {
            let b = s.pop();
            let a = s.pop();
            let r = s.ins(op, ty, &[a, b], 0, 0);
            s.push(r);
        };
        let un = |s: &mut Self, op: Opcode, ty: Type, imm: u64| {
            let a = s.pop();
            let r = s.ins(op, ty, &[a], imm, 0);
            s.push(r);
        };
        match n {
            N::I32Eqz | N::I64Eqz => {
                let ty = if n == N::I32Eqz { I32 } else { I64 };
                let a = self.pop();
                let z = self.iconst(ty, 0);
                let r = self.ins(Op::Icmp(IntCC::Eq), ty, &[a, z], 0, 0);
                self.push(r);
            }
            N::I32Eq => bin(self, Op::Icmp(IntCC::Eq), I32),
            N::I32Ne => bin(self, Op::Icmp(IntCC::Ne), I32),
            N::I32LtS => bin(self, Op::Icmp(IntCC::LtS), I32),
            N::I32LtU => bin(self, Op::Icmp(IntCC::LtU), I32),
            N::I32GtS => bin(self, Op::Icmp(IntCC::GtS), I32),
            N::I32GtU => bin(self, Op::Icmp(IntCC::GtU), I32),
            N::I32LeS => bin(self, Op::Icmp(IntCC::LeS), I32),
            N::I32LeU => bin(self, Op::Icmp(IntCC::LeU), I32),
            N::I32GeS => bin(self, Op::Icmp(IntCC::GeS), I32),
            N::I32GeU => bin(self, Op::Icmp(IntCC::GeU), I32),
            N::I64Eq => bin(self, Op::Icmp(IntCC::Eq), I64),
            N::I64Ne => bin(self, Op::Icmp(IntCC::Ne), I64),
            N::I64LtS => bin(self, Op::Icmp(IntCC::LtS), I64),
            N::I64LtU => bin(self, Op::Icmp(IntCC::LtU), I64),
            N::I64GtS => bin(self, Op::Icmp(IntCC::GtS), I64),
            N::I64GtU => bin(self, Op::Icmp(IntCC::GtU), I64),
            N::I64LeS => bin(self, Op::Icmp(IntCC::LeS), I64),
            N::I64LeU => bin(self, Op::Icmp(IntCC::LeU), I64),
            N::I64GeS => bin(self, Op::Icmp(IntCC::GeS), I64),
            N::I64GeU => bin(self, Op::Icmp(IntCC::GeU), I64),
            N::F32Eq => bin(self, Op::Fcmp(FloatCC::Eq), F32),
            N::F32Ne => bin(self, Op::Fcmp(FloatCC::Ne), F32),
            N::F32Lt => bin(self, Op::Fcmp(FloatCC::Lt), F32),
            N::F32Gt => bin(self, Op::Fcmp(FloatCC::Gt), F32),
            N::F32Le => bin(self, Op::Fcmp(FloatCC::Le), F32),
            N::F32Ge => bin(self, Op::Fcmp(FloatCC::Ge), F32),
            N::F64Eq => bin(self, Op::Fcmp(FloatCC::Eq), F64),
            N::F64Ne => bin(self, Op::Fcmp(FloatCC::Ne), F64),
            N::F64Lt => bin(self, Op::Fcmp(FloatCC::Lt), F64),
            N::F64Gt => bin(self, Op::Fcmp(FloatCC::Gt), F64),
            N::F64Le => bin(self, Op::Fcmp(FloatCC::Le), F64),
            N::F64Ge => bin(self, Op::Fcmp(FloatCC::Ge), F64),
            N::I32Clz => un(self, Op::Clz, I32, 0),
            N::I32Ctz => un(self, Op::Ctz, I32, 0),
            N::I32Popcnt => un(self, Op::Popcnt, I32, 0),
            N::I32Add => bin(self, Op::Add, I32),
            N::I32Sub => bin(self, Op::Sub, I32),
            N::I32Mul => bin(self, Op::Mul, I32),
            N::I32DivS => bin(self, Op::DivS, I32),
            N::I32DivU => bin(self, Op::DivU, I32),
            N::I32RemS => bin(self, Op::RemS, I32),
            N::I32RemU => bin(self, Op::RemU, I32),
            N::I32And => bin(self, Op::And, I32),
            N::I32Or => bin(self, Op::Or, I32),
            N::I32Xor => bin(self, Op::Xor, I32),
            N::I32Shl => bin(self, Op::Shl, I32),
            N::I32ShrS => bin(self, Op::ShrS, I32),
            N::I32ShrU => bin(self, Op::ShrU, I32),
            N::I32Rotl => bin(self, Op::Rotl, I32),
            N::I32Rotr => bin(self, Op::Rotr, I32),
            N::I64Clz => un(self, Op::Clz, I64, 0),
            N::I64Ctz => un(self, Op::Ctz, I64, 0),
            N::I64Popcnt => un(self, Op::Popcnt, I64, 0),
            N::I64Add => bin(self, Op::Add, I64),
            N::I64Sub => bin(self, Op::Sub, I64),
            N::I64Mul => bin(self, Op::Mul, I64),
            N::I64DivS => bin(self, Op::DivS, I64),
            N::I64DivU => bin(self, Op::DivU, I64),
            N::I64RemS => bin(self, Op::RemS, I64),
            N::I64RemU => bin(self, Op::RemU, I64),
            N::I64And => bin(self, Op::And, I64),
            N::I64Or => bin(self, Op::Or, I64),
            N::I64Xor => bin(self, Op::Xor, I64),
            N::I64Shl => bin(self, Op::Shl, I64),
            N::I64ShrS => bin(self, Op::ShrS, I64),
            N::I64ShrU => bin(self, Op::ShrU, I64),
            N::I64Rotl => bin(self, Op::Rotl, I64),
            N::I64Rotr => bin(self, Op::Rotr, I64),
            N::F32Abs => un(self, Op::Fabs, F32, 0),
            N::F32Neg => un(self, Op::Fneg, F32, 0),
            N::F32Ceil => un(self, Op::Fceil, F32, 0),
            N::F32Floor => un(self, Op::Ffloor, F32, 0),
            N::F32Trunc => un(self, Op::Ftrunc, F32, 0),
            N::F32Nearest => un(self, Op::Fnearest, F32, 0),
            N::F32Sqrt => un(self, Op::Fsqrt, F32, 0),
            N::F32Add => bin(self, Op::Fadd, F32),
            N::F32Sub => bin(self, Op::Fsub, F32),
            N::F32Mul => bin(self, Op::Fmul, F32),
            N::F32Div => bin(self, Op::Fdiv, F32),
            N::F32Min => bin(self, Op::Fmin, F32),
            N::F32Max => bin(self, Op::Fmax, F32),
            N::F32Copysign => bin(self, Op::Fcopysign, F32),
            N::F64Abs => un(self, Op::Fabs, F64, 0),
            N::F64Neg => un(self, Op::Fneg, F64, 0),
            N::F64Ceil => un(self, Op::Fceil, F64, 0),
            N::F64Floor => un(self, Op::Ffloor, F64, 0),
            N::F64Trunc => un(self, Op::Ftrunc, F64, 0),
            N::F64Nearest => un(self, Op::Fnearest, F64, 0),
            N::F64Sqrt => un(self, Op::Fsqrt, F64, 0),
            N::F64Add => bin(self, Op::Fadd, F64),
            N::F64Sub => bin(self, Op::Fsub, F64),
            N::F64Mul => bin(self, Op::Fmul, F64),
            N::F64Div => bin(self, Op::Fdiv, F64),
            N::F64Min => bin(self, Op::Fmin, F64),
            N::F64Max => bin(self, Op::Fmax, F64),
            N::F64Copysign => bin(self, Op::Fcopysign, F64),
            N::I32WrapI64 => un(self, Op::Wrap, I32, 0),
            N::I32TruncF32S => un(self, Op::TruncS, I32, 0),
            N::I32TruncF32U => un(self, Op::TruncU, I32, 0),
            N::I32TruncF64S => un(self, Op::TruncS, I32, 1),
            N::I32TruncF64U => un(self, Op::TruncU, I32, 1),
            N::I64ExtendI32S => un(self, Op::ExtendS, I64, 0),
            N::I64ExtendI32U => un(self, Op::ExtendU, I64, 0),
            N::I64TruncF32S => un(self, Op::TruncS, I64, 0),
            N::I64TruncF32U => un(self, Op::TruncU, I64, 0),
            N::I64TruncF64S => un(self, Op::TruncS, I64, 1),
            N::I64TruncF64U => un(self, Op::TruncU, I64, 1),
            N::F32ConvertI32S => un(self, Op::ConvertS, F32, 0),
            N::F32ConvertI32U => un(self, Op::ConvertU, F32, 0),
            N::F32ConvertI64S => un(self, Op::ConvertS, F32, 1),
            N::F32ConvertI64U => un(self, Op::ConvertU, F32, 1),
            N::F32DemoteF64 => un(self, Op::Demote, F32, 0),
            N::F64ConvertI32S => un(self, Op::ConvertS, F64, 0),
            N::F64ConvertI32U => un(self, Op::ConvertU, F64, 0),
            N::F64ConvertI64S => un(self, Op::ConvertS, F64, 1),
            N::F64ConvertI64U => un(self, Op::ConvertU, F64, 1),
            N::F64PromoteF32 => un(self, Op::Promote, F64, 0),
            N::I32ReinterpretF32 => un(self, Op::Bitcast, I32, 0),
            N::I64ReinterpretF64 => un(self, Op::Bitcast, I64, 0),
            N::F32ReinterpretI32 => un(self, Op::Bitcast, F32, 0),
            N::F64ReinterpretI64 => un(self, Op::Bitcast, F64, 0),
            N::I32Extend8S => un(self, Op::Extend8S, I32, 0),
            N::I32Extend16S => un(self, Op::Extend16S, I32, 0),
            N::I64Extend8S => un(self, Op::Extend8S, I64, 0),
            N::I64Extend16S => un(self, Op::Extend16S, I64, 0),
            N::I64Extend32S => un(self, Op::Extend32S, I64, 0),
            N::I32TruncSatF32S => un(self, Op::TruncSatS, I32, 0),
            N::I32TruncSatF32U => un(self, Op::TruncSatU, I32, 0),
            N::I32TruncSatF64S => un(self, Op::TruncSatS, I32, 1),
            N::I32TruncSatF64U => un(self, Op::TruncSatU, I32, 1),
            N::I64TruncSatF32S => un(self, Op::TruncSatS, I64, 0),
            N::I64TruncSatF32U => un(self, Op::TruncSatU, I64, 0),
            N::I64TruncSatF64S => un(self, Op::TruncSatS, I64, 1),
            N::I64TruncSatF64U => un(self, Op::TruncSatU, I64, 1),
        }
        Ok(())
    }

    // ---- control ----

    fn begin_block(&mut self, v: &FuncValidator<'_>, ty: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(v, ty)?;
        let end = if self.reachable {
            let end = self.new_block();
            for t in &results {
                self.f.add_param(end, *t);
            }
            end
        } else {
            Block::NONE
        };
        // In unreachable code the stack is not modelled: keep it as it is.
        let height = if self.reachable {
            self.stack.len() - params.len()
        } else {
            self.stack.len()
        };
        let reachable = self.reachable;
        self.frames.push(Frame {
            kind: FrameKind::Block,
            label: end,
            end,
            height,
            num_params: params.len(),
            num_results: results.len(),
            else_block: Block::NONE,
            else_params: Vec::new(),
            reachable_at_entry: reachable,
        });
        Ok(())
    }

    fn begin_loop(&mut self, v: &FuncValidator<'_>, ty: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(v, ty)?;
        let reachable = self.reachable;
        let height = if reachable {
            self.stack.len() - params.len()
        } else {
            self.stack.len()
        };
        let mut header = Block::NONE;
        if reachable {
            self.loop_depth += 1;
            header = self.new_block();
            let args = self.pop_n(params.len());
            let args: Vec<Value> = args.into_iter().map(|a| self.f.resolve(a)).collect();
            self.jump(header, args);
            for t in &params {
                let p = self.f.add_param(header, *t);
                self.push(p);
            }
            self.cur = header;
            self.ins(Opcode::InterruptCheck, Type::I32, &[], 0, 0);
        }
        self.frames.push(Frame {
            kind: FrameKind::Loop,
            label: header,
            end: Block::NONE,
            height,
            num_params: params.len(),
            num_results: results.len(),
            else_block: Block::NONE,
            else_params: Vec::new(),
            reachable_at_entry: reachable,
        });
        Ok(())
    }

    fn begin_if(&mut self, v: &FuncValidator<'_>, ty: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_arity(v, ty)?;
        let reachable = self.reachable;
        let (mut end, mut else_block) = (Block::NONE, Block::NONE);
        let mut else_params = Vec::new();
        let height;
        if reachable {
            let cond = self.pop();
            height = self.stack.len() - params.len();
            end = self.new_block();
            for t in &results {
                self.f.add_param(end, *t);
            }
            let then = self.new_block();
            else_block = self.new_block();
            else_params = self.top_n(params.len());
            self.terminate(Terminator::Branch {
                cond,
                then: BlockCall {
                    block: then,
                    args: Vec::new(),
                },
                else_: BlockCall {
                    block: else_block,
                    args: Vec::new(),
                },
            });
            self.seal(then);
            self.seal(else_block);
            self.cur = then;
        } else {
            height = self.stack.len();
        }
        self.frames.push(Frame {
            kind: FrameKind::If,
            label: end,
            end,
            height,
            num_params: params.len(),
            num_results: results.len(),
            else_block,
            else_params,
            reachable_at_entry: reachable,
        });
        Ok(())
    }

    fn begin_else(&mut self) -> Result<(), CompileError> {
        let f = self.frames.last_mut().expect("validated: inside if");
        f.kind = FrameKind::Else;
        let reachable_at_entry = f.reachable_at_entry;
        let (end, else_block, n_results, height) = (f.end, f.else_block, f.num_results, f.height);
        let else_params = std::mem::take(&mut f.else_params);
        f.else_block = Block::NONE;
        if self.reachable {
            let args = self.top_n(n_results);
            self.jump(end, args);
        }
        self.stack.truncate(height);
        if reachable_at_entry {
            self.stack.extend(else_params);
            self.cur = else_block;
            self.reachable = true;
        } else {
            self.reachable = false;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), CompileError> {
        let f = self.frames.pop().expect("validated: frame to end");
        match f.kind {
            FrameKind::Func => {
                if self.reachable {
                    let t = self.return_values();
                    self.terminate(t);
                }
                self.reachable = false;
                return Ok(());
            }
            FrameKind::Loop => {
                if f.reachable_at_entry {
                    self.seal(f.label);
                    self.loop_depth -= 1;
                }
                // Falling out of a loop continues in the same block.
                if self.reachable {
                    let results = self.pop_n(f.num_results);
                    self.stack.truncate(f.height);
                    self.stack.extend(results);
                } else {
                    self.stack.truncate(f.height);
                }
                return Ok(());
            }
            FrameKind::If | FrameKind::Block | FrameKind::Else => {}
        }
        if !f.reachable_at_entry {
            self.stack.truncate(f.height);
            return Ok(());
        }
        if self.reachable {
            let args = self.top_n(f.num_results);
            self.jump(f.end, args);
        }
        if f.kind == FrameKind::If {
            // No `else`: the parameters pass through (they equal the results).
            let saved = self.cur;
            self.cur = f.else_block;
            self.jump(f.end, f.else_params);
            self.cur = saved;
        }
        self.seal(f.end);
        self.stack.truncate(f.height);
        self.cur = f.end;
        if self.preds[f.end.index()].is_empty() {
            self.reachable = false;
        } else {
            self.reachable = true;
            let params = self.f.blocks[f.end.index()].params[..f.num_results].to_vec();
            self.stack.extend(params);
        }
        Ok(())
    }
}
