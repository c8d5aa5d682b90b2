//! Instruction selection: SSA IR → x86-64 VCode.
//!
//! One walk over the blocks in layout order. Each IR value gets a virtual register when
//! first needed; constants get none and are folded into instructions as immediates or
//! rematerialized right where a register is needed, so they never occupy a register
//! across blocks. A comparison used once, by the branch, `select` or trap of its block,
//! is emitted at that user as `cmp` + `jcc`/`cmov` instead of producing a 0/1 value.
//! Two-address x86 forms are written as a copy and an in-place operation; the
//! allocator's hints usually make the copy disappear.

#![forbid(unsafe_code)]

use super::abi::{ArgLoc, RET_AREA_REG, SYSV_ARGS, Sig};
use super::asm::{Alu, BitOp, Cond, R10, R14, RAX, RCX, RDX, Shift, Size, SseOp};
use super::inst::*;
use crate::compile::Env;
use crate::compile::frontend::ir_type;
use crate::compile::ir::*;
use crate::compile::regalloc::{VBlock, VCode};
use crate::error::TrapCode;
use crate::runtime::vmctx::{VMFuncRef, VMMemory, VMOffsets, VMTable};

/// The lowered function and what the emitter needs to know about it.
pub(crate) struct Lowered {
    pub vcode: VCode,
    pub sig: Sig,
    /// Bytes below rsp used by outgoing call arguments and return areas.
    pub outgoing: u32,
    pub has_calls: bool,
    /// Calls through a `funcref` (which may switch instances and need the context
    /// restored from the frame).
    pub has_ref_calls: bool,
    /// The CPU has AVX: emission may fold a register copy into the three-operand
    /// (VEX) form of the instruction after it.
    pub avx: bool,
}

struct Lower<'a> {
    f: &'a Function,
    env: &'a Env<'a>,
    vc: VCode,
    vregs: Vec<Reg>,
    uses: Vec<u32>,
    /// IR instructions emitted at their user instead (fused compares).
    fused: Vec<bool>,
    /// Loads whose one user takes them as a memory operand (or, if it cannot, loads them
    /// itself where it is emitted); cleared once emitted.
    folded: Vec<bool>,
    /// While a block's folds are found: the position in the block of each value's first
    /// user (`u32::MAX` for none), so finding users is linear in the block's size.
    first_user: Vec<u32>,
    /// The register whose value (of this size) the flags reflect, set by an ALU
    /// operation and kept by the flag-neutral instructions after it: a branch on that
    /// value needs no `test`.
    flags: Option<(Reg, Size)>,
    /// The block being lowered.
    current: Block,
    /// The block of each IR instruction (filled block by block as lowering goes).
    inst_block: Vec<u32>,
    block_index: Vec<u32>,
    sig: Sig,
    ret_area: Option<Reg>,
    outgoing: u32,
    has_calls: bool,
    has_ref_calls: bool,
    /// `find_folds`' scratch, kept from block to block.
    barriers: Vec<u32>,
}

const NO_REG: Reg = Reg(u32::MAX);

mod simd;

fn size_of(ty: Type) -> Size {
    if ty.is_64() { Size::S64 } else { Size::S32 }
}

fn class_of(ty: Type) -> Class {
    match ty {
        Type::V128 => Class::Vector,
        Type::F32 | Type::F64 => Class::Float,
        Type::I32 | Type::I64 => Class::Int,
    }
}

fn int_cond(cc: IntCC) -> Cond {
    match cc {
        IntCC::Eq => Cond::E,
        IntCC::Ne => Cond::Ne,
        IntCC::LtS => Cond::L,
        IntCC::LtU => Cond::B,
        IntCC::GtS => Cond::G,
        IntCC::GtU => Cond::A,
        IntCC::LeS => Cond::Le,
        IntCC::LeU => Cond::Be,
        IntCC::GeS => Cond::Ge,
        IntCC::GeU => Cond::Ae,
    }
}

/// Lowers `f` (already optimized and laid out: `order` lists its blocks).
pub(crate) fn lower(f: &Function, order: &[Block], env: &Env<'_>) -> Lowered {
    let mut uses = vec![0u32; f.values.len()];
    let mut count = |v: Value| {
        if !v.is_none() {
            uses[v.index()] += 1;
        }
    };
    for &b in order {
        let bd = &f.blocks[b.index()];
        for &i in &bd.insts {
            let d = &f.insts[i.index()];
            d.args.iter().for_each(|a| count(*a));
            if matches!(d.op, Opcode::Call | Opcode::Libcall(_)) {
                f.calls[d.imm as usize].args.iter().for_each(|a| count(*a));
            }
        }
        bd.term.for_each_operand(&mut count);
        bd.term
            .for_each_succ(|c| c.args.iter().for_each(|a| count(*a)));
    }
    let mut block_index = vec![u32::MAX; f.blocks.len()];
    for (k, &b) in order.iter().enumerate() {
        block_index[b.index()] = k as u32;
    }
    let sig = Sig::new(&f.params, &f.results);
    let mut l = Lower {
        f,
        env,
        vc: VCode::default(),
        vregs: vec![NO_REG; f.values.len()],
        uses,
        fused: vec![false; f.insts.len()],
        folded: vec![false; f.insts.len()],
        first_user: vec![u32::MAX; f.values.len()],
        flags: None,
        current: Block(0),
        inst_block: vec![u32::MAX; f.insts.len()],
        block_index,
        sig,
        ret_area: None,
        outgoing: 0,
        has_calls: false,
        has_ref_calls: false,
        barriers: Vec::new(),
    };
    for (k, &b) in order.iter().enumerate() {
        l.block(b, k == 0);
    }
    // Predecessors.
    let n = l.vc.blocks.len();
    for b in 0..n {
        for k in 0..l.vc.blocks[b].succs.len() {
            let s = l.vc.blocks[b].succs[k].0;
            l.vc.blocks[s as usize].preds.push(b as u32);
        }
    }
    Lowered {
        vcode: l.vc,
        sig: l.sig,
        outgoing: l.outgoing,
        has_calls: l.has_calls,
        has_ref_calls: l.has_ref_calls,
        avx: env.cpu.avx,
    }
}

impl Lower<'_> {
    fn emit(&mut self, i: MInst) {
        self.flags = match &i {
            MInst::Alu {
                op: Alu::Add | Alu::Sub | Alu::And | Alu::Or | Alu::Xor,
                size,
                dst,
                ..
            } => Some((*dst, *size)),
            MInst::Mov { dst, .. }
            | MInst::MovImm { dst, .. }
            | MInst::Lea { dst, .. }
            | MInst::Load { dst, .. }
                if self.flags.is_some_and(|(r, _)| r != *dst) =>
            {
                self.flags
            }
            _ => None,
        };
        self.vc.insts.push(i);
    }

    /// Whether the flags already say whether `r` (of `size`) is zero.
    fn flags_hold(&self, r: Reg, size: Size) -> bool {
        self.flags == Some((r, size))
    }

    /// Whether `v` is what this block's branch tests against zero (directly, or by a
    /// fused `v == 0` / `v != 0`): then computing it with flags saves the `test`.
    fn tested_by_branch(&self, v: Value) -> bool {
        let Terminator::Branch { cond, .. } = &self.f.blocks[self.current.index()].term else {
            return false;
        };
        if *cond == v {
            return true;
        }
        self.f.def_inst(*cond).is_some_and(|i| {
            let d = &self.f.insts[i.index()];
            self.fused[i.index()]
                && matches!(d.op, Opcode::Icmp(IntCC::Eq | IntCC::Ne))
                && d.args[0] == v
                && self.f.const_of(d.args[1]) == Some(0)
        })
    }

    fn new_reg(&mut self, ty: Type) -> Reg {
        self.vc.new_vreg(class_of(ty))
    }

    fn int_reg(&mut self) -> Reg {
        self.vc.new_vreg(Class::Int)
    }

    /// The register of `v` (materializing a constant here if `v` is one).
    fn reg(&mut self, v: Value) -> Reg {
        if let Some(c) = self.f.const_of(v) {
            let ty = self.f.ty(v);
            return self.materialize(ty, c);
        }
        let r = self.vregs[v.index()];
        if r != NO_REG {
            return r;
        }
        if let Some(i) = self.f.def_inst(v)
            && self.folded[i.index()]
        {
            // The user wants the folded load in a register after all: load it here,
            // where the user is emitted (the fold checked that this is safe).
            self.folded[i.index()] = false;
            let d = self.f.insts[i.index()];
            let Opcode::Load(kind) = d.op else {
                unreachable!("only loads fold")
            };
            self.load(d, kind);
            return self.vregs[v.index()];
        }
        let r = self.new_reg(self.f.ty(v));
        self.vregs[v.index()] = r;
        r
    }

    /// The register that will hold the result `v`.
    fn def(&mut self, v: Value) -> Reg {
        self.reg(v)
    }

    fn materialize(&mut self, ty: Type, bits: u64) -> Reg {
        if ty.is_float() {
            let g = self.int_reg();
            let size = size_of(ty);
            self.emit(MInst::MovImm {
                size,
                dst: g,
                imm: bits,
            });
            let x = self.vc.new_vreg(Class::Float);
            self.emit(MInst::GprToXmm {
                size,
                dst: x,
                src: g,
            });
            x
        } else {
            let r = self.int_reg();
            self.emit(MInst::MovImm {
                size: size_of(ty),
                dst: r,
                imm: bits,
            });
            r
        }
    }

    /// A constant usable as a 32-bit immediate for an operation of type `ty`.
    fn imm(&self, v: Value, ty: Type) -> Option<i32> {
        let c = self.f.const_of(v)?;
        if ty == Type::I32 {
            Some(c as u32 as i32)
        } else if c as i64 == (c as i64 as i32) as i64 {
            Some(c as i64 as i32)
        } else {
            None
        }
    }

    fn rmi(&mut self, v: Value, ty: Type) -> RegMemImm {
        match self.imm(v, ty) {
            Some(i) => RegMemImm::Imm(i),
            None => RegMemImm::Reg(self.reg(v)),
        }
    }

    fn block(&mut self, b: Block, is_entry: bool) {
        self.current = b;
        self.flags = None;
        let bd = &self.f.blocks[b.index()];
        let start = self.vc.insts.len() as u32;
        let mut params = Vec::new();
        if is_entry {
            let regs = self.sig.entry_regs();
            self.emit(MInst::Args { regs });
            for (k, &p) in bd.params.iter().enumerate() {
                if self.uses[p.index()] == 0 {
                    continue;
                }
                let r = self.def(p);
                match self.sig.params[k] {
                    ArgLoc::Reg(src) => self.mov(r, src),
                    ArgLoc::Stack(slot) => {
                        let addr = Amode {
                            base: Base::Frame,
                            index: None,
                            scale: 0,
                            disp: 16 + 8 * slot as i32,
                        };
                        self.load_to(self.f.ty(p), r, addr);
                    }
                }
            }
            if self.sig.ret_area > 0 {
                let r = self.int_reg();
                self.mov(r, RET_AREA_REG);
                self.ret_area = Some(r);
            }
        } else {
            for &p in &bd.params {
                params.push(self.def(p));
            }
        }
        // Compares used only by this block's branch, select or trap are fused there.
        self.find_fusions(b);
        for &i in &bd.insts {
            if !self.fused[i.index()] && !self.folded[i.index()] {
                self.inst(i);
            }
        }
        let succs = self.terminator(b);
        let end = self.vc.insts.len() as u32;
        self.vc.blocks.push(VBlock {
            start,
            end,
            params,
            succs,
            preds: Vec::new(),
            loop_depth: bd.loop_depth,
        });
    }

    fn find_fusions(&mut self, b: Block) {
        let bd = &self.f.blocks[b.index()];
        for &i in &bd.insts {
            self.inst_block[i.index()] = b.0;
        }
        let candidate = |v: Value, this: &mut Self| {
            if v.is_none() || this.uses[v.index()] != 1 {
                return;
            }
            if let Some(i) = this.f.def_inst(v) {
                let d = &this.f.insts[i.index()];
                let and_fits = d.op == Opcode::And
                    && (this.f.const_of(d.args[1]).is_none()
                        || this.imm(d.args[1], d.ty).is_some());
                if (matches!(d.op, Opcode::Icmp(_) | Opcode::Fcmp(_)) || and_fits)
                    && this.inst_block[i.index()] == b.0
                {
                    this.fused[i.index()] = true;
                }
            }
        };
        // `(x & y) == 0` and `!= 0` test `x & y` with `test`, without computing it.
        for &i in &bd.insts {
            let d = &self.f.insts[i.index()];
            if let Opcode::Icmp(IntCC::Eq | IntCC::Ne) = d.op
                && self.f.const_of(d.args[1]) == Some(0)
                && self.uses[d.args[0].index()] == 1
                && let Some(and) = self.f.def_inst(d.args[0])
                && self.f.insts[and.index()].op == Opcode::And
                && self.inst_block[and.index()] == b.0
                && (self.f.const_of(self.f.insts[and.index()].args[1]).is_none()
                    || self.imm(self.f.insts[and.index()].args[1], d.ty).is_some())
            {
                self.fused[and.index()] = true;
            }
        }
        if let Terminator::Branch { cond, .. } = &bd.term {
            candidate(*cond, self);
        }
        for &i in &bd.insts {
            let d = &self.f.insts[i.index()];
            if matches!(d.op, Opcode::Select) && !self.f.ty(d.result).is_sse() {
                candidate(d.args[0], self);
            }
        }
        self.find_folds(b);
    }

    /// Marks the loads of block `b` that become a memory operand of their user: a
    /// full-width integer load used once, by an ALU operation or compare of the same
    /// block, with nothing between the load and where that user is emitted that writes
    /// memory, calls, or may trap other than by another load (moving a load past a load
    /// keeps the trap the same: out of bounds).
    fn find_folds(&mut self, b: Block) {
        let f = self.f;
        let insts = &f.blocks[b.index()].insts;
        // Users, and a running count of the instructions a load may not move past.
        let mut barriers = std::mem::take(&mut self.barriers);
        barriers.clear();
        barriers.push(0u32);
        for (j, &i) in insts.iter().enumerate() {
            let d = &f.insts[i.index()];
            for a in d.args.iter().filter(|a| !a.is_none()) {
                if self.first_user[a.index()] == u32::MAX {
                    self.first_user[a.index()] = j as u32;
                }
            }
            let movable_past = d.op.is_pure()
                || matches!(
                    d.op,
                    Opcode::Load(_) | Opcode::GlobalGet | Opcode::MemorySize
                );
            barriers.push(barriers[j] + u32::from(!movable_past));
        }
        for (k, &i) in insts.iter().enumerate() {
            let d = self.f.insts[i.index()];
            let full = match d.op {
                Opcode::Load(MemKind::Full) => true,
                Opcode::Load(MemKind::U8 | MemKind::U16) => false,
                _ => continue,
            };
            if d.ty.is_sse() || self.uses[d.result.index()] != 1 || d.imm > i32::MAX as u64 {
                continue;
            }
            let j = self.first_user[d.result.index()] as usize;
            if j == u32::MAX as usize {
                continue; // used by a call, the terminator or another block
            }
            let u = self.f.insts[insts[j].index()];
            let fits = match u.op {
                Opcode::Add | Opcode::Sub | Opcode::And | Opcode::Or | Opcode::Xor => full,
                Opcode::Icmp(_) => full,
                _ => false,
            };
            // Narrow loads fold only into `test [mem], mask` (a fused `x & mask`).
            let tested = u.op == Opcode::And
                && u.args[0] == d.result
                && self.fused[insts[j].index()]
                && self.imm(u.args[1], u.ty).is_some();
            if !fits && !tested {
                continue;
            }
            let end = self.emission_point(insts, j);
            if barriers[end] == barriers[k + 1] {
                self.folded[i.index()] = true;
            }
        }
        for &i in insts {
            for a in f.insts[i.index()].args.iter().filter(|a| !a.is_none()) {
                self.first_user[a.index()] = u32::MAX;
            }
        }
        self.barriers = barriers;
    }

    /// Where the instruction at `insts[j]` is emitted: there, or if it is fused, where
    /// its user is (`insts.len()` for the terminator).
    fn emission_point(&self, insts: &[Inst], j: usize) -> usize {
        let i = insts[j];
        if !self.fused[i.index()] {
            return j;
        }
        // A fused instruction has one user: in this block, or the terminator.
        match self.first_user[self.f.insts[i.index()].result.index()] {
            u32::MAX => insts.len(),
            m => self.emission_point(insts, m as usize),
        }
    }

    /// Whether `v` is a folded load not yet emitted.
    fn is_folded(&self, v: Value) -> bool {
        self.f
            .def_inst(v)
            .is_some_and(|i| self.folded[i.index()] && self.vregs[v.index()] == NO_REG)
    }

    /// The memory operand of folded load `v` (emitting its address computation here),
    /// or `None` if `v` is not one.
    fn folded_mem(&mut self, v: Value) -> Option<Amode> {
        if !self.is_folded(v) {
            return None;
        }
        let i = self.f.def_inst(v)?;
        self.folded[i.index()] = false;
        let d = self.f.insts[i.index()];
        Some(self.mem_addr(d.aux, d.args[0], d.imm, MemKind::Full.bytes(d.ty)))
    }

    /// For `test`: the access width and memory operand of folded load `x` (a full-width
    /// load, or a zero-extending 8- or 16-bit one), or `None`.
    fn folded_test_mem(&mut self, x: Value) -> Option<(Size, Amode)> {
        if !self.is_folded(x) {
            return None;
        }
        let i = self.f.def_inst(x)?;
        let d = self.f.insts[i.index()];
        let (width, bytes) = match d.op {
            Opcode::Load(MemKind::Full) => (Size::S32, MemKind::Full.bytes(d.ty)),
            Opcode::Load(MemKind::U8) => (Size::S8, 1),
            Opcode::Load(MemKind::U16) => (Size::S16, 2),
            _ => return None,
        };
        self.folded[i.index()] = false;
        Some((width, self.mem_addr(d.aux, d.args[0], d.imm, bytes)))
    }

    /// `b` as a second ALU operand: a folded load's memory, an immediate or a register.
    fn rmi_or_mem(&mut self, v: Value, ty: Type) -> RegMemImm {
        match self.folded_mem(v) {
            Some(m) => RegMemImm::Mem(m),
            None => self.rmi(v, ty),
        }
    }

    fn mov(&mut self, dst: Reg, src: Reg) {
        let class = if src.0 < 16 {
            Class::Int
        } else if src.0 < 32 {
            Class::Float
        } else {
            self.vc.vregs[src.vindex()]
        };
        match class {
            Class::Int => self.emit(MInst::Mov { dst, src }),
            Class::Float | Class::Vector => self.emit(MInst::XmmMov { dst, src }),
        }
    }

    fn load_to(&mut self, ty: Type, dst: Reg, addr: Amode) {
        match ty {
            Type::V128 => self.emit(MInst::VecLoad {
                kind: VecLoadKind::Full,
                dst,
                addr,
            }),
            Type::F32 | Type::F64 => self.emit(MInst::XmmLoad {
                double: ty == Type::F64,
                dst,
                addr,
            }),
            _ => self.emit(MInst::Load {
                op: LoadOp::Zx(size_of(ty)),
                dst,
                addr,
            }),
        }
    }

    fn store_from(&mut self, ty: Type, src: Reg, addr: Amode) {
        match ty {
            Type::V128 => self.emit(MInst::VecStore { src, addr }),
            Type::F32 | Type::F64 => self.emit(MInst::XmmStore {
                double: ty == Type::F64,
                src,
                addr,
            }),
            _ => self.emit(MInst::Store {
                size: size_of(ty),
                src,
                addr,
            }),
        }
    }

    /// Emits a compare for `cond` and returns the condition under which it is true.
    fn condition(&mut self, cond: Value) -> CC {
        if let Some(i) = self.f.def_inst(cond)
            && self.fused[i.index()]
        {
            let d = self.f.insts[i.index()];
            return match d.op {
                Opcode::Icmp(cc) => self.int_compare(cc, d.ty, d.args[0], d.args[1]),
                Opcode::Fcmp(cc) => self.float_compare(cc, d.ty, d.args[0], d.args[1]),
                // A branch on `x & y`: test them (the And itself is fused).
                Opcode::And => {
                    self.test_and(d, d.ty);
                    CC::Int(Cond::Ne)
                }
                _ => unreachable!("only compares and ands fuse"),
            };
        }
        let r = self.reg(cond);
        if !self.flags_hold(r, Size::S32) {
            self.emit(MInst::Test {
                size: Size::S32,
                a: r,
                b: r,
            });
        }
        CC::Int(Cond::Ne)
    }

    fn int_compare(&mut self, cc: IntCC, ty: Type, a: Value, b: Value) -> CC {
        let size = size_of(ty);
        let (mut cc, mut a, mut b) = (cc, a, b);
        if self.f.const_of(a).is_some() && self.f.const_of(b).is_none() {
            std::mem::swap(&mut a, &mut b);
            cc = cc.swap();
        }
        // A folded load goes second (`cmp reg, [mem]`), or is compared with an immediate.
        if self.is_folded(a) && self.f.const_of(b).is_none() && !self.is_folded(b) {
            std::mem::swap(&mut a, &mut b);
            cc = cc.swap();
        }
        if let Some(k) = self.imm(b, ty)
            && let Some(m) = self.folded_mem(a)
        {
            self.emit(MInst::CmpMemImm { size, a: m, imm: k });
            return CC::Int(int_cond(cc));
        }
        if self.f.const_of(b) == Some(0) && matches!(cc, IntCC::Eq | IntCC::Ne) {
            match self.f.def_inst(a) {
                Some(and) if self.fused[and.index()] => {
                    let d = self.f.insts[and.index()];
                    self.test_and(d, ty);
                }
                _ => {
                    let r = self.reg(a);
                    if !self.flags_hold(r, size) {
                        self.emit(MInst::Test { size, a: r, b: r });
                    }
                }
            }
        } else {
            let ra = self.reg(a);
            let rb = self.rmi_or_mem(b, ty);
            self.emit(MInst::Cmp { size, a: ra, b: rb });
        }
        CC::Int(int_cond(cc))
    }

    /// `test x, y` for a fused `x & y` (sets ZF as the And's result would).
    fn test_and(&mut self, and: InstData, ty: Type) {
        let size = size_of(ty);
        let [x, y, _] = and.args;
        if let Some(k) = self.imm(y, ty)
            && let Some((width, m)) = self.folded_test_mem(x)
        {
            // The loaded bits above `width` are zero, so only the mask's low bits count.
            let imm = match width {
                Size::S8 => k & 0xff,
                Size::S16 => k & 0xffff,
                _ => k,
            };
            self.emit(MInst::TestMemImm {
                size: if width == Size::S32 { size } else { width },
                a: m,
                imm,
            });
            return;
        }
        let rx = self.reg(x);
        match self.imm(y, ty) {
            Some(k) => self.emit(MInst::TestImm {
                size,
                a: rx,
                imm: k,
            }),
            None => {
                let ry = self.reg(y);
                self.emit(MInst::Test { size, a: rx, b: ry });
            }
        }
    }

    fn float_compare(&mut self, cc: FloatCC, ty: Type, a: Value, b: Value) -> CC {
        let double = ty == Type::F64;
        let (x, y, c) = match cc {
            FloatCC::Eq => (a, b, CC::FloatEq),
            FloatCC::Ne => (a, b, CC::FloatNe),
            FloatCC::Gt => (a, b, CC::Int(Cond::A)),
            FloatCC::Ge => (a, b, CC::Int(Cond::Ae)),
            FloatCC::Lt => (b, a, CC::Int(Cond::A)),
            FloatCC::Le => (b, a, CC::Int(Cond::Ae)),
        };
        let (rx, ry) = (self.reg(x), self.reg(y));
        self.emit(MInst::Ucomi {
            double,
            a: rx,
            b: ry,
        });
        c
    }

    fn trap_if(&mut self, cc: CC, code: TrapCode) {
        self.emit(MInst::TrapIf {
            cc,
            kind: TrapKind::Wasm(code),
        });
    }

    /// `dst = a op b` for a two-address ALU op (a folded load becomes `src`, swapped
    /// there first if `op` is commutative).
    fn alu(&mut self, op: Alu, ty: Type, dst: Reg, a: Value, b: Value) {
        let commutative = matches!(op, Alu::Add | Alu::And | Alu::Or | Alu::Xor);
        let (a, b) = if commutative
            && self.is_folded(a)
            && !self.is_folded(b)
            && self.f.const_of(b).is_none()
        {
            (b, a)
        } else {
            (a, b)
        };
        let ra = self.reg(a);
        let src = self.rmi_or_mem(b, ty);
        self.mov(dst, ra);
        self.emit(MInst::Alu {
            op,
            size: size_of(ty),
            dst,
            src,
        });
    }

    fn inst(&mut self, i: Inst) {
        let d = self.f.insts[i.index()];
        let ty = d.ty;
        let size = size_of(ty);
        let [a, b, c] = d.args;
        use Opcode as O;
        match d.op {
            O::Const => {}
            O::V128Const
            | O::Simd(_)
            | O::Shuffle
            | O::Lane(..)
            | O::VLoad(_)
            | O::LoadLane { .. }
            | O::StoreLane { .. } => self.vector_inst(d),
            O::Add if self.is_folded(a) || self.is_folded(b) || self.tested_by_branch(d.result) => {
                let dst = self.def(d.result);
                self.alu(Alu::Add, ty, dst, a, b);
            }
            O::Add => {
                let dst = self.def(d.result);
                let ra = self.reg(a);
                let addr = match self.imm(b, ty) {
                    Some(k) => Amode::reg(ra, k),
                    None => {
                        let rb = self.reg(b);
                        Amode {
                            base: Base::Reg(ra),
                            index: Some(rb),
                            scale: 0,
                            disp: 0,
                        }
                    }
                };
                self.emit(MInst::Lea { size, dst, addr });
            }
            O::Sub => {
                let dst = self.def(d.result);
                if self.f.const_of(a) == Some(0) {
                    let rb = self.reg(b);
                    self.mov(dst, rb);
                    self.emit(MInst::Neg { size, dst });
                } else if let Some(k) = self.imm(b, ty).filter(|k| *k != i32::MIN)
                    && !self.tested_by_branch(d.result)
                {
                    let ra = self.reg(a);
                    self.emit(MInst::Lea {
                        size,
                        dst,
                        addr: Amode::reg(ra, -k),
                    });
                } else {
                    self.alu(Alu::Sub, ty, dst, a, b);
                }
            }
            O::And => {
                let dst = self.def(d.result);
                self.alu(Alu::And, ty, dst, a, b);
            }
            O::Or => {
                let dst = self.def(d.result);
                self.alu(Alu::Or, ty, dst, a, b);
            }
            O::Xor => {
                let dst = self.def(d.result);
                if self.f.const_of(b)
                    == Some(if ty == Type::I32 {
                        0xffff_ffff
                    } else {
                        u64::MAX
                    })
                {
                    let ra = self.reg(a);
                    self.mov(dst, ra);
                    self.emit(MInst::Not { size, dst });
                } else {
                    self.alu(Alu::Xor, ty, dst, a, b);
                }
            }
            O::Mul => {
                let dst = self.def(d.result);
                let ra = self.reg(a);
                if let Some(k) = self.imm(b, ty) {
                    self.emit(MInst::ImulImm {
                        size,
                        dst,
                        src: ra,
                        imm: k,
                    });
                } else {
                    let rb = self.reg(b);
                    self.mov(dst, ra);
                    self.emit(MInst::Imul { size, dst, src: rb });
                }
            }
            O::Shl | O::ShrS | O::ShrU | O::Rotl | O::Rotr => {
                let op = match d.op {
                    O::Shl => Shift::Shl,
                    O::ShrS => Shift::Sar,
                    O::ShrU => Shift::Shr,
                    O::Rotl => Shift::Rol,
                    _ => Shift::Ror,
                };
                let dst = self.def(d.result);
                let bits = if ty == Type::I32 { 31 } else { 63 };
                if let Some(k) = self.f.const_of(b) {
                    let ra = self.reg(a);
                    self.mov(dst, ra);
                    let k = (k & bits) as u8;
                    if k != 0 {
                        self.emit(MInst::Shift {
                            op,
                            size,
                            dst,
                            amount: Some(k),
                        });
                    }
                } else {
                    let rb = self.reg(b);
                    let ra = self.reg(a);
                    self.mov(Reg::gpr(RCX), rb);
                    self.mov(dst, ra);
                    self.emit(MInst::Shift {
                        op,
                        size,
                        dst,
                        amount: None,
                    });
                }
            }
            O::DivS | O::DivU | O::RemS | O::RemU => self.div(d),
            O::Clz | O::Ctz | O::Popcnt => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                let cpu = &self.env.cpu;
                match d.op {
                    O::Clz if cpu.lzcnt => self.emit(MInst::BitCount {
                        op: BitOp::Lzcnt,
                        size,
                        dst,
                        src,
                    }),
                    O::Ctz if cpu.bmi1 => self.emit(MInst::BitCount {
                        op: BitOp::Tzcnt,
                        size,
                        dst,
                        src,
                    }),
                    O::Clz | O::Ctz => self.emit(MInst::BitScanCount {
                        leading: d.op == O::Clz,
                        size,
                        dst,
                        src,
                    }),
                    _ if cpu.popcnt => self.emit(MInst::BitCount {
                        op: BitOp::Popcnt,
                        size,
                        dst,
                        src,
                    }),
                    _ => {
                        let tmp = self.int_reg();
                        self.emit(MInst::PopcntSoft {
                            size,
                            dst,
                            src,
                            tmp,
                        });
                    }
                }
            }
            O::Extend8S | O::Extend16S | O::Extend32S => {
                let from = match d.op {
                    O::Extend8S => Size::S8,
                    O::Extend16S => Size::S16,
                    _ => Size::S32,
                };
                let dst = self.def(d.result);
                let src = self.reg(a);
                self.emit(MInst::Extend {
                    signed: true,
                    from,
                    to: size,
                    dst,
                    src,
                });
            }
            O::Wrap => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                self.emit(MInst::Extend {
                    signed: false,
                    from: Size::S32,
                    to: Size::S64,
                    dst,
                    src,
                });
            }
            O::ExtendS => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                self.emit(MInst::Extend {
                    signed: true,
                    from: Size::S32,
                    to: Size::S64,
                    dst,
                    src,
                });
            }
            O::ExtendU => {
                // i32 values are kept zero-extended: the bits are already right.
                let src = self.reg(a);
                let dst = self.def(d.result);
                self.mov(dst, src);
            }
            O::Icmp(_) | O::Fcmp(_) => {
                let dst = self.def(d.result);
                let cc = match d.op {
                    O::Icmp(cc) => self.int_compare(cc, ty, a, b),
                    O::Fcmp(cc) => self.float_compare(cc, ty, a, b),
                    _ => unreachable!(),
                };
                self.emit(MInst::Setcc { cc, dst });
            }
            O::Fadd | O::Fsub | O::Fmul | O::Fdiv => {
                let op = match d.op {
                    O::Fadd => SseOp::Add,
                    O::Fsub => SseOp::Sub,
                    O::Fmul => SseOp::Mul,
                    _ => SseOp::Div,
                };
                let dst = self.def(d.result);
                let (ra, rb) = (self.reg(a), self.reg(b));
                self.mov(dst, ra);
                self.emit(MInst::XmmOp {
                    op,
                    double: ty == Type::F64,
                    dst,
                    src: rb,
                });
            }
            O::Fmin | O::Fmax => {
                let dst = self.def(d.result);
                let (ra, rb) = (self.reg(a), self.reg(b));
                self.mov(dst, ra);
                self.emit(MInst::XmmMinMax {
                    max: d.op == O::Fmax,
                    double: ty == Type::F64,
                    dst,
                    src: rb,
                });
            }
            O::Fsqrt => {
                let dst = self.def(d.result);
                let ra = self.reg(a);
                self.mov(dst, ra);
                self.emit(MInst::XmmOp {
                    op: SseOp::Sqrt,
                    double: ty == Type::F64,
                    dst,
                    src: dst,
                });
            }
            O::Fabs | O::Fneg | O::Fcopysign => self.float_sign(d),
            O::Fceil | O::Ffloor | O::Ftrunc | O::Fnearest => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                let mode = match d.op {
                    O::Fnearest => 0,
                    O::Ffloor => 1,
                    O::Fceil => 2,
                    _ => 3,
                };
                if self.env.cpu.sse41 {
                    self.emit(MInst::Round {
                        double: ty == Type::F64,
                        mode,
                        dst,
                        src,
                    });
                } else {
                    let lib = match (ty == Type::F64, mode) {
                        (false, 0) => Libcall::NearestF32,
                        (false, 1) => Libcall::FloorF32,
                        (false, 2) => Libcall::CeilF32,
                        (false, _) => Libcall::TruncF32,
                        (true, 0) => Libcall::NearestF64,
                        (true, 1) => Libcall::FloorF64,
                        (true, 2) => Libcall::CeilF64,
                        (true, _) => Libcall::TruncF64,
                    };
                    let bits = self.int_reg();
                    self.emit(MInst::XmmToGpr {
                        size,
                        dst: bits,
                        src,
                    });
                    let out = self.lib_call(lib, &[bits], true);
                    self.emit(MInst::GprToXmm {
                        size,
                        dst,
                        src: out,
                    });
                }
            }
            O::TruncS | O::TruncU | O::TruncSatS | O::TruncSatU => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                let tmp = self.vc.new_vreg(Class::Float);
                self.emit(MInst::Trunc {
                    kind: TruncKind {
                        signed: matches!(d.op, O::TruncS | O::TruncSatS),
                        saturating: matches!(d.op, O::TruncSatS | O::TruncSatU),
                        double: d.imm == 1,
                        dst: size,
                    },
                    dst,
                    src,
                    tmp,
                });
            }
            O::ConvertS | O::ConvertU => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                let from64 = d.imm == 1;
                let double = ty == Type::F64;
                if d.op == O::ConvertU && from64 {
                    let tmp = self.int_reg();
                    self.emit(MInst::CvtU64ToFloat {
                        double,
                        dst,
                        src,
                        tmp,
                    });
                } else {
                    // Unsigned 32-bit values are zero-extended: convert them as i64.
                    let src_size = if from64 || d.op == O::ConvertU {
                        Size::S64
                    } else {
                        Size::S32
                    };
                    self.emit(MInst::CvtIntToFloat {
                        double,
                        src_size,
                        dst,
                        src,
                    });
                }
            }
            O::Demote | O::Promote => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                self.emit(MInst::CvtFloat {
                    to_double: d.op == O::Promote,
                    dst,
                    src,
                });
            }
            O::Bitcast => {
                let dst = self.def(d.result);
                let src = self.reg(a);
                if ty.is_float() {
                    self.emit(MInst::GprToXmm { size, dst, src });
                } else {
                    self.emit(MInst::XmmToGpr { size, dst, src });
                }
            }
            O::Select => {
                let dst = self.def(d.result);
                if ty.is_sse() {
                    let (rf, rt, rcond) = (self.reg(c), self.reg(b), self.reg(a));
                    self.mov(dst, rf);
                    self.emit(MInst::XmmSelect {
                        cond: rcond,
                        dst,
                        a: rt,
                    });
                } else {
                    let (rt, rf) = (self.reg(b), self.reg(c));
                    self.mov(dst, rf);
                    let cc = self.condition(a);
                    match cc {
                        CC::Int(cond) => self.emit(MInst::Cmov {
                            cc: cond,
                            size,
                            dst,
                            src: rt,
                        }),
                        CC::FloatEq => {
                            // Equal and ordered: take `rt` unless ZF=0 or PF=1.
                            let tmp = self.int_reg();
                            self.emit(MInst::Setcc {
                                cc: CC::FloatEq,
                                dst: tmp,
                            });
                            self.emit(MInst::Test {
                                size: Size::S32,
                                a: tmp,
                                b: tmp,
                            });
                            self.emit(MInst::Cmov {
                                cc: Cond::Ne,
                                size,
                                dst,
                                src: rt,
                            });
                        }
                        CC::FloatNe => {
                            let tmp = self.int_reg();
                            self.emit(MInst::Setcc {
                                cc: CC::FloatNe,
                                dst: tmp,
                            });
                            self.emit(MInst::Test {
                                size: Size::S32,
                                a: tmp,
                                b: tmp,
                            });
                            self.emit(MInst::Cmov {
                                cc: Cond::Ne,
                                size,
                                dst,
                                src: rt,
                            });
                        }
                    }
                }
            }
            O::Load(kind) => self.load(d, kind),
            O::Store(kind) => self.store(d, kind),
            O::GlobalGet | O::GlobalSet => {
                let g = d.imm as u32;
                let off = self.env.offsets;
                let addr = if g >= off.num_imported_globals {
                    Amode::vmctx(off.defined_global_cell(g))
                } else {
                    let p = self.int_reg();
                    self.emit(MInst::Load {
                        op: LoadOp::Zx(Size::S64),
                        dst: p,
                        addr: Amode::vmctx(off.global(g)),
                    });
                    Amode::reg(p, 0)
                };
                if d.op == O::GlobalGet {
                    let dst = self.def(d.result);
                    self.load_to(ty, dst, addr);
                } else if !ty.is_sse()
                    && let Some(k) = self.imm(a, ty)
                {
                    self.emit(MInst::StoreImm { size, imm: k, addr });
                } else {
                    let src = self.reg(a);
                    self.store_from(ty, src, addr);
                }
            }
            O::MemorySize => {
                let dst = self.def(d.result);
                let m = self.int_reg();
                self.emit(MInst::Load {
                    op: LoadOp::Zx(Size::S64),
                    dst: m,
                    addr: Amode::vmctx(VMOffsets::MEMORY0),
                });
                self.emit(MInst::Load {
                    op: LoadOp::Zx(Size::S64),
                    dst,
                    addr: Amode::reg(m, VMMemory::LEN as i32),
                });
                self.emit(MInst::Shift {
                    op: Shift::Shr,
                    size: Size::S64,
                    dst,
                    amount: Some(16),
                });
            }
            O::FuncRef => {
                let dst = self.def(d.result);
                self.emit(MInst::Load {
                    op: LoadOp::Zx(Size::S64),
                    dst,
                    addr: Amode::vmctx(self.env.offsets.func(d.imm as u32)),
                });
            }
            O::Call => self.call(d),
            O::Libcall(lib @ (Libcall::MemoryCopy | Libcall::MemoryFill))
                if self.inline_bulk(lib, d.imm as usize) => {}
            O::Libcall(lib) => {
                let call = &self.f.calls[d.imm as usize];
                let args: Vec<Reg> = call.args.clone().iter().map(|a| self.reg(*a)).collect();
                let out = self.lib_call(lib, &args, lib.has_result());
                if lib.has_result() {
                    let dst = self.def(d.result);
                    self.mov(dst, out);
                }
            }
            O::InterruptCheck => {
                if self.env.loop_interrupt_checks {
                    self.emit(MInst::InterruptCheck);
                }
            }
        }
    }

    fn div(&mut self, d: InstData) {
        use Opcode as O;
        let ty = d.ty;
        let size = size_of(ty);
        let [a, b, _] = d.args;
        let dst = self.def(d.result);
        let signed = matches!(d.op, O::DivS | O::RemS);
        let konst = self
            .f
            .const_of(b)
            .map(|c| if ty == Type::I32 { c & 0xffff_ffff } else { c });
        let minus_one = if ty == Type::I32 {
            0xffff_ffff
        } else {
            u64::MAX
        };
        if let Some(k) = konst {
            if !signed && k.is_power_of_two() {
                let ra = self.reg(a);
                self.mov(dst, ra);
                if d.op == O::DivU {
                    let s = k.trailing_zeros() as u8;
                    if s != 0 {
                        self.emit(MInst::Shift {
                            op: Shift::Shr,
                            size,
                            dst,
                            amount: Some(s),
                        });
                    }
                } else {
                    let mask = k - 1;
                    if mask <= i32::MAX as u64 {
                        self.emit(MInst::Alu {
                            op: Alu::And,
                            size,
                            dst,
                            src: RegMemImm::Imm(mask as i32),
                        });
                    } else {
                        let m = self.materialize(ty, mask);
                        self.emit(MInst::Alu {
                            op: Alu::And,
                            size,
                            dst,
                            src: RegMemImm::Reg(m),
                        });
                    }
                }
                return;
            }
            if d.op == O::RemS && k == minus_one {
                self.emit(MInst::MovImm { size, dst, imm: 0 });
                return;
            }
        }
        let rb = self.reg(b);
        let ra = self.reg(a);
        if konst.is_none_or(|k| k == 0) {
            self.emit(MInst::Test { size, a: rb, b: rb });
            self.trap_if(CC::Int(Cond::E), TrapCode::IntegerDivisionByZero);
        }
        if d.op == O::DivS && konst.is_none_or(|k| k == minus_one) {
            self.emit(MInst::CheckOverflow { size, a: ra, b: rb });
        }
        let kind = match d.op {
            O::DivS => DivKind::DivS,
            O::DivU => DivKind::DivU,
            O::RemS => DivKind::RemS,
            _ => DivKind::RemU,
        };
        self.mov(Reg::gpr(RAX), ra);
        self.emit(MInst::Div {
            kind,
            size,
            divisor: rb,
        });
        let out = if matches!(kind, DivKind::DivS | DivKind::DivU) {
            RAX
        } else {
            RDX
        };
        self.mov(dst, Reg::gpr(out));
    }

    /// `fabs`, `fneg`, `fcopysign` on the bits, in general-purpose registers.
    fn float_sign(&mut self, d: InstData) {
        use Opcode as O;
        let ty = d.ty;
        let size = size_of(ty);
        let bits = if ty == Type::F64 { 64 } else { 32 };
        let dst = self.def(d.result);
        let x = self.reg(d.args[0]);
        let g = self.int_reg();
        self.emit(MInst::XmmToGpr {
            size,
            dst: g,
            src: x,
        });
        match d.op {
            O::Fabs => {
                // Clear the sign: shift it out and back.
                self.emit(MInst::Shift {
                    op: Shift::Shl,
                    size,
                    dst: g,
                    amount: Some(1),
                });
                self.emit(MInst::Shift {
                    op: Shift::Shr,
                    size,
                    dst: g,
                    amount: Some(1),
                });
            }
            O::Fneg => {
                let m = self.int_reg();
                self.emit(MInst::MovImm {
                    size,
                    dst: m,
                    imm: 1u64 << (bits - 1),
                });
                self.emit(MInst::Alu {
                    op: Alu::Xor,
                    size,
                    dst: g,
                    src: RegMemImm::Reg(m),
                });
            }
            _ => {
                let y = self.reg(d.args[1]);
                let s = self.int_reg();
                self.emit(MInst::XmmToGpr {
                    size,
                    dst: s,
                    src: y,
                });
                // g = magnitude of x; s = sign of y; g |= s.
                for (op, amount, r) in [
                    (Shift::Shl, 1, g),
                    (Shift::Shr, 1, g),
                    (Shift::Shr, bits - 1, s),
                    (Shift::Shl, bits - 1, s),
                ] {
                    self.emit(MInst::Shift {
                        op,
                        size,
                        dst: r,
                        amount: Some(amount as u8),
                    });
                }
                self.emit(MInst::Alu {
                    op: Alu::Or,
                    size,
                    dst: g,
                    src: RegMemImm::Reg(s),
                });
            }
        }
        self.emit(MInst::GprToXmm { size, dst, src: g });
    }

    /// The address of a Wasm memory access: `[heap + addr + offset]` for memory 0 with
    /// guard pages, else bounds-checked.
    fn mem_addr(&mut self, memory: u32, addr: Value, offset: u64, bytes: u32) -> Amode {
        let ra = self.reg(addr);
        if memory == 0 && self.env.memory0_guarded {
            if offset <= i32::MAX as u64 {
                return Amode::heap(ra, offset as i32);
            }
            let t = self.int_reg();
            self.emit(MInst::MovImm {
                size: Size::S64,
                dst: t,
                imm: offset,
            });
            self.emit(MInst::Alu {
                op: Alu::Add,
                size: Size::S64,
                dst: t,
                src: RegMemImm::Reg(ra),
            });
            return Amode::heap(t, 0);
        }
        let base = self.int_reg();
        let index = self.int_reg();
        self.emit(MInst::CheckedAddr {
            memory_offset: self.env.offsets.memory(memory),
            addr: ra,
            offset: offset as u32,
            bytes,
            base,
            index,
        });
        Amode {
            base: Base::Reg(base),
            index: Some(index),
            scale: 0,
            disp: 0,
        }
    }

    fn load(&mut self, d: InstData, kind: MemKind) {
        let ty = d.ty;
        let bytes = kind.bytes(ty);
        let addr = self.mem_addr(d.aux, d.args[0], d.imm, bytes);
        let dst = self.def(d.result);
        let to = size_of(ty);
        let op = match kind {
            MemKind::Full => {
                if ty.is_sse() {
                    self.load_to(ty, dst, addr);
                    return;
                }
                LoadOp::Zx(to)
            }
            MemKind::U8 => LoadOp::Zx(Size::S8),
            MemKind::U16 => LoadOp::Zx(Size::S16),
            MemKind::U32 => LoadOp::Zx(Size::S32),
            MemKind::S8 => LoadOp::Sx { from: Size::S8, to },
            MemKind::S16 => LoadOp::Sx {
                from: Size::S16,
                to,
            },
            MemKind::S32 => LoadOp::Sx {
                from: Size::S32,
                to,
            },
        };
        self.emit(MInst::Load { op, dst, addr });
    }

    fn store(&mut self, d: InstData, kind: MemKind) {
        let ty = d.ty;
        let bytes = kind.bytes(ty);
        let size = match bytes {
            1 => Size::S8,
            2 => Size::S16,
            4 => Size::S32,
            _ => Size::S64,
        };
        let value = d.args[1];
        if !ty.is_sse()
            && let Some(k) = self.imm(value, ty)
        {
            let addr = self.mem_addr(d.aux, d.args[0], d.imm, bytes);
            self.emit(MInst::StoreImm { size, imm: k, addr });
            return;
        }
        let src = self.reg(value);
        let addr = self.mem_addr(d.aux, d.args[0], d.imm, bytes);
        if ty.is_sse() {
            self.store_from(ty, src, addr);
        } else {
            self.emit(MInst::Store { size, src, addr });
        }
    }

    /// Calls a runtime function with the System V convention: the instance context and
    /// `args`. Traps (via the stored trap) if it returns non-zero and can trap.
    /// `memory.copy`/`memory.fill` within memory 0: the bounds checks inline, then
    /// straight to `memmove`/`memset`. False (nothing emitted) for other memories.
    fn inline_bulk(&mut self, lib: Libcall, call: usize) -> bool {
        let args = self.f.calls[call].args.clone();
        let memories: &[Value] = if lib == Libcall::MemoryCopy {
            &args[..2]
        } else {
            &args[..1]
        };
        if memories.iter().any(|m| self.f.const_of(*m) != Some(0)) {
            return false;
        }
        let rest = &args[memories.len()..];
        let (dst, mid, len) = (self.reg(rest[0]), self.reg(rest[1]), self.reg(rest[2]));
        let heap_dst = self.checked_heap_range(dst, len);
        let second = if lib == Libcall::MemoryCopy {
            self.checked_heap_range(mid, len)
        } else {
            mid
        };
        let direct = if lib == Libcall::MemoryCopy {
            Libcall::Memmove
        } else {
            Libcall::Memset
        };
        self.lib_call(direct, &[heap_dst, second, len], false);
        true
    }

    /// Checks that `[addr, addr + len)` lies in memory 0 (trapping if not) and returns
    /// the host address of `addr`.
    fn checked_heap_range(&mut self, addr: Reg, len: Reg) -> Reg {
        let tmp = self.int_reg();
        self.emit(MInst::CheckRange { addr, len, tmp });
        let host = self.int_reg();
        self.emit(MInst::Lea {
            size: Size::S64,
            dst: host,
            addr: Amode::heap(addr, 0),
        });
        host
    }

    fn lib_call(&mut self, lib: Libcall, args: &[Reg], has_result: bool) -> Reg {
        self.has_calls = true;
        let mut uses = Vec::new();
        let first = usize::from(lib.takes_vmctx());
        if lib.takes_vmctx() {
            self.emit(MInst::Mov {
                dst: SYSV_ARGS[0],
                src: Reg::gpr(R14),
            });
            uses.push(SYSV_ARGS[0]);
        }
        for (k, &a) in args.iter().enumerate() {
            self.mov(SYSV_ARGS[k + first], a);
            uses.push(SYSV_ARGS[k + first]);
        }
        let rax = Reg::gpr(RAX);
        self.emit(MInst::Call {
            target: CallTarget::Lib(lib),
            uses,
            defs: vec![rax],
            stack_bytes: 0,
        });
        let out = self.int_reg();
        if lib == Libcall::TableGet
            || matches!(
                lib,
                Libcall::FloorF64 | Libcall::CeilF64 | Libcall::TruncF64 | Libcall::NearestF64
            )
        {
            self.mov(out, rax);
        } else if has_result || lib.can_trap() {
            // A 32-bit result: the upper half of rax is undefined (System V).
            self.emit(MInst::Extend {
                signed: false,
                from: Size::S32,
                to: Size::S64,
                dst: out,
                src: rax,
            });
        }
        if lib == Libcall::TableGet {
            // Returns the reference, or u64::MAX (never a reference) after a trap.
            self.emit(MInst::Cmp {
                size: Size::S64,
                a: out,
                b: RegMemImm::Imm(-1),
            });
            self.emit(MInst::TrapIf {
                cc: CC::Int(Cond::E),
                kind: TrapKind::Pending,
            });
        } else if lib.can_trap() {
            self.emit(MInst::Test {
                size: Size::S32,
                a: out,
                b: out,
            });
            self.emit(MInst::TrapIf {
                cc: CC::Int(Cond::Ne),
                kind: TrapKind::Pending,
            });
        }
        out
    }

    fn call(&mut self, d: InstData) {
        self.has_calls = true;
        let call = self.f.calls[d.imm as usize].clone();
        let info = self.env.info;
        let ty = &info.types[call.type_index as usize];
        let params: Vec<Type> = ty
            .params()
            .iter()
            .map(|t| ir_type(*t).expect("checked by the frontend"))
            .collect();
        let results: Vec<Type> = ty
            .results()
            .iter()
            .map(|t| ir_type(*t).expect("checked by the frontend"))
            .collect();
        let sig = Sig::new(&params, &results);
        let mut args: Vec<Reg> = call.args.iter().map(|a| self.reg(*a)).collect();
        let target = match call.callee {
            Callee::Direct(func) if func >= info.num_imported_funcs => {
                CallTarget::Defined(func - info.num_imported_funcs)
            }
            Callee::Direct(func) => {
                let fr = self.int_reg();
                self.emit(MInst::Load {
                    op: LoadOp::Zx(Size::S64),
                    dst: fr,
                    addr: Amode::vmctx(self.env.offsets.func(func)),
                });
                self.mov(Reg::gpr(R10), fr);
                CallTarget::Ref {
                    type_index: call.type_index,
                }
            }
            Callee::Indirect { type_index, table } => {
                let index = args.pop().expect("the element index");
                let fr = self.indirect_funcref(table, type_index, index);
                self.mov(Reg::gpr(R10), fr);
                CallTarget::Ref { type_index }
            }
            Callee::Lib(_) => unreachable!("library calls are Opcode::Libcall"),
        };
        let mut uses = Vec::new();
        if matches!(target, CallTarget::Ref { .. }) {
            uses.push(Reg::gpr(R10));
            self.has_ref_calls = true;
        }
        // Stack arguments first: storing one needs its value in a register, and the
        // argument registers are taken once they are set.
        for (k, &a) in args.iter().enumerate() {
            if let ArgLoc::Stack(slot) = sig.params[k] {
                self.store_from(params[k], a, Amode::sp(8 * slot as i32));
            }
        }
        for (k, &a) in args.iter().enumerate() {
            if let ArgLoc::Reg(r) = sig.params[k] {
                self.mov(r, a);
                uses.push(r);
            }
        }
        let area_off = 8 * sig.stack_args;
        if sig.ret_area > 0 {
            self.emit(MInst::Lea {
                size: Size::S64,
                dst: RET_AREA_REG,
                addr: Amode::sp(area_off as i32),
            });
            uses.push(RET_AREA_REG);
        }
        self.outgoing = self.outgoing.max(8 * (sig.stack_args + sig.ret_area));
        let defs: Vec<Reg> = sig
            .results
            .iter()
            .filter_map(|l| match l {
                ArgLoc::Reg(r) => Some(*r),
                ArgLoc::Stack(_) => None,
            })
            .collect();
        self.emit(MInst::Call {
            target,
            uses,
            defs,
            stack_bytes: sig.stack_arg_bytes(),
        });
        for (k, &v) in call.results.iter().enumerate() {
            let dst = self.def(v);
            match sig.results[k] {
                ArgLoc::Reg(r) => self.mov(dst, r),
                ArgLoc::Stack(slot) => {
                    self.load_to(results[k], dst, Amode::sp((area_off + 8 * slot) as i32))
                }
            }
        }
    }

    /// `call_indirect`'s checks: the element exists, is not null, has the type.
    fn indirect_funcref(&mut self, table: u32, type_index: u32, index: Reg) -> Reg {
        let t = self.int_reg();
        self.emit(MInst::Load {
            op: LoadOp::Zx(Size::S64),
            dst: t,
            addr: Amode::vmctx(self.env.offsets.table(table)),
        });
        self.emit(MInst::Cmp {
            size: Size::S64,
            a: index,
            b: RegMemImm::Mem(Amode::reg(t, VMTable::LEN as i32)),
        });
        self.trap_if(CC::Int(Cond::Ae), TrapCode::UndefinedElement);
        let base = self.int_reg();
        self.emit(MInst::Load {
            op: LoadOp::Zx(Size::S64),
            dst: base,
            addr: Amode::reg(t, VMTable::BASE as i32),
        });
        let fr = self.int_reg();
        self.emit(MInst::Load {
            op: LoadOp::Zx(Size::S64),
            dst: fr,
            addr: Amode {
                base: Base::Reg(base),
                index: Some(index),
                scale: 3,
                disp: 0,
            },
        });
        self.emit(MInst::Test {
            size: Size::S64,
            a: fr,
            b: fr,
        });
        self.trap_if(CC::Int(Cond::E), TrapCode::UninitializedElement);
        let tid = self.int_reg();
        self.emit(MInst::Load {
            op: LoadOp::Zx(Size::S32),
            dst: tid,
            addr: Amode::reg(fr, VMFuncRef::TYPE_ID as i32),
        });
        self.emit(MInst::CmpTypeId { a: tid, type_index });
        self.trap_if(CC::Int(Cond::Ne), TrapCode::IndirectCallTypeMismatch);
        fr
    }

    /// Lowers `b`'s terminator; returns the successors with their argument registers.
    fn terminator(&mut self, b: Block) -> Vec<(u32, Vec<Reg>)> {
        let f = self.f; // `&'a Function`: borrowing it leaves `self` free
        let term = &f.blocks[b.index()].term;
        let edge = |this: &mut Self, c: &BlockCall| -> (u32, Vec<Reg>) {
            let args = c.args.iter().map(|a| this.reg(*a)).collect();
            (this.block_index[c.block.index()], args)
        };
        match term {
            Terminator::None => unreachable!("every block is terminated"),
            Terminator::Jump(c) => {
                let e = edge(self, c);
                self.emit(MInst::Jmp { target: e.0 });
                vec![e]
            }
            Terminator::Branch { cond, then, else_ } => {
                let t = edge(self, then);
                let e = edge(self, else_);
                let cc = self.condition(*cond);
                self.emit(MInst::Jcc {
                    cc,
                    taken: t.0,
                    not_taken: e.0,
                });
                vec![t, e]
            }
            Terminator::BrTable { index, targets } => {
                let edges: Vec<(u32, Vec<Reg>)> = targets.iter().map(|c| edge(self, c)).collect();
                let r = self.reg(*index);
                let tmp = self.int_reg();
                self.emit(MInst::JumpTable {
                    index: r,
                    tmp,
                    targets: edges.iter().map(|e| e.0).collect(),
                });
                edges
            }
            Terminator::Return(vals) => {
                let mut regs = Vec::new();
                let vals: Vec<(Value, Reg)> = vals.iter().map(|v| (*v, self.reg(*v))).collect();
                for (k, (v, r)) in vals.into_iter().enumerate() {
                    match self.sig.results[k] {
                        ArgLoc::Reg(p) => {
                            self.mov(p, r);
                            regs.push(p);
                        }
                        ArgLoc::Stack(slot) => {
                            let area = self.ret_area.expect("a return area");
                            self.store_from(self.f.ty(v), r, Amode::reg(area, 8 * slot as i32));
                        }
                    }
                }
                self.emit(MInst::Ret { regs });
                Vec::new()
            }
            Terminator::Trap(code) => {
                self.emit(MInst::Trap {
                    kind: TrapKind::Wasm(*code),
                });
                Vec::new()
            }
        }
    }
}
