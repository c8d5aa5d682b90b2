//! Machine code for allocated VCode: the prologue and epilogue, each instruction (the
//! compound ones expanded with local labels), the allocator's moves, trap stubs and
//! jump tables.

#![forbid(unsafe_code)]

use super::abi::VMCTX_SLOT;
use super::asm::*;
use super::inst::*;
use super::lower::Lowered;
use crate::compile::regalloc::{Allocation, Loc, Move};
use crate::error::TrapCode;
use crate::runtime::vmctx::{VMFuncRef, VMMemory, VMOffsets};

/// A call or address inside the module that linking fills in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelocTarget {
    /// Defined function `def`.
    Func(u32),
    /// The host-call adapter for type index `t`.
    Adapter(u32),
    /// The module's stack-check slow path.
    StackCheck,
    /// Not PC-relative: the 32-bit field holds the process-wide id of type index `t`
    /// (ids differ between processes, so cached code is patched when it loads).
    TypeId(u32),
}

/// A 32-bit field at `at`: PC-relative to point at `target`, or a type id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reloc {
    pub at: u32,
    pub target: RelocTarget,
}

/// One function's code, positioned at 0.
#[derive(Default)]
pub(crate) struct FuncCode {
    pub code: Vec<u8>,
    pub relocs: Vec<Reloc>,
    /// Offsets of instructions that may fault or trap, with what they report.
    pub traps: Vec<(u32, TrapKind)>,
}

struct Emitter<'a> {
    a: Asm,
    lowered: &'a Lowered,
    block_labels: Vec<Label>,
    trap_labels: Vec<(TrapKind, Label)>,
    tables: Vec<(Label, Vec<u32>)>,
    relocs: Vec<Reloc>,
    traps: Vec<(u32, TrapKind)>,
    spill_base: i32,
    frame_size: u32,
    spill_slots: u32,
    saved: Vec<Gpr>,
    /// The prologue's stack-check slow path: (its label, where it returns to).
    stack_slow: Option<(Label, Label)>,
    /// Per block, the label of the next block emitted after it.
    next_label: Vec<Option<Label>>,
}

/// Emits the function. `Lowered::vcode` has been allocated into `alloc`.
pub(crate) fn emit(lowered: &Lowered, alloc: &Allocation) -> FuncCode {
    let vc = &lowered.vcode;
    let mut a = Asm::new();
    let mut block_labels: Vec<Label> = (0..vc.blocks.len()).map(|_| a.new_label()).collect();
    // A block that is only a jump (no moves) is bypassed: jumps to it go to its target.
    let forwards = |b: usize| -> Option<u32> {
        let blk = &vc.blocks[b];
        let i = blk.start as usize;
        match vc.insts.get(i) {
            Some(MInst::Jmp { target })
                if b != 0
                    && blk.end == blk.start + 1
                    && alloc.before[i].is_empty()
                    && alloc.after[i].is_empty() =>
            {
                Some(*target)
            }
            _ => None,
        }
    };
    let mut skipped = vec![false; vc.blocks.len()];
    for b in 0..vc.blocks.len() {
        let mut t = b;
        for _ in 0..16 {
            match forwards(t) {
                Some(next) if next as usize != t => t = next as usize,
                _ => break,
            }
        }
        if t != b {
            block_labels[b] = block_labels[t];
            skipped[b] = true;
        }
    }
    let saved: Vec<Gpr> = alloc.used_callee_saved.iter().map(|r| r.as_gpr()).collect();
    // Frame: vmctx slot, callee-saved registers, spill slots, outgoing area.
    let fixed = 8 + 8 * saved.len() as u32;
    let spill_base = -(8 + fixed as i32);
    let frame_size = (fixed + 8 * alloc.num_slots + lowered.outgoing).div_ceil(16) * 16;
    let mut e = Emitter {
        a,
        lowered,
        block_labels,
        trap_labels: Vec::new(),
        tables: Vec::new(),
        relocs: Vec::new(),
        traps: Vec::new(),
        spill_base,
        frame_size,
        spill_slots: alloc.num_slots,
        saved,
        stack_slow: None,
        next_label: Vec::new(),
    };
    let mut following = None;
    let mut next_label = vec![None; vc.blocks.len()];
    for b in (0..vc.blocks.len()).rev() {
        next_label[b] = following;
        if !skipped[b] {
            following = Some(e.block_labels[b]);
        }
    }
    e.next_label = next_label;
    e.prologue();
    for (b, blk) in vc.blocks.iter().enumerate() {
        if skipped[b] {
            continue;
        }
        let l = e.block_labels[b];
        e.a.bind(l);
        let mut i = blk.start as usize;
        while i < blk.end as usize {
            for m in &alloc.before[i] {
                e.mov(*m);
            }
            // With AVX, a copy and the two-operand instruction that overwrites it
            // (nothing the allocator inserted between them) are one instruction.
            if lowered.avx
                && i + 1 < blk.end as usize
                && alloc.after[i].is_empty()
                && alloc.before[i + 1].is_empty()
                && e.three_operand(&vc.insts[i], &vc.insts[i + 1])
            {
                i += 1;
            } else {
                e.inst(&vc.insts[i], b as u32);
            }
            for m in &alloc.after[i] {
                e.mov(*m);
            }
            i += 1;
        }
    }
    // The stack check's slow path, trap stubs, then jump tables.
    if let Some((slow, back)) = e.stack_slow {
        e.a.bind(slow);
        let at = e.a.call_rel32();
        e.relocs.push(Reloc {
            at,
            target: RelocTarget::StackCheck,
        });
        e.a.jmp(back);
    }
    let stubs = std::mem::take(&mut e.trap_labels);
    for (kind, l) in stubs {
        e.a.bind(l);
        e.traps.push((e.a.pos(), kind));
        e.a.ud2();
    }
    let tables = std::mem::take(&mut e.tables);
    for (table, targets) in tables {
        while !e.a.pos().is_multiple_of(4) {
            e.a.int3();
        }
        e.a.bind(table);
        let base = e.a.pos();
        let entries: Vec<u32> = targets.iter().map(|_| e.a.table_entry()).collect();
        for (at, t) in entries.into_iter().zip(targets) {
            e.a.patch_table_entry(at, base, e.block_labels[t as usize]);
        }
    }
    e.a.finish();
    FuncCode {
        code: e.a.buf,
        relocs: e.relocs,
        traps: e.traps,
    }
}

impl Emitter<'_> {
    /// Emits `copy` (`dst = a`) and `next` (`dst = dst op b`) as the AVX instruction
    /// `dst = a op b`, if `next` has such a form; false (nothing emitted) otherwise.
    /// Where `b` is `dst` itself, the SSE form reads the copy: `b` is then `a`.
    fn three_operand(&mut self, copy: &MInst, next: &MInst) -> bool {
        let MInst::XmmMov { dst, src: a } = *copy else {
            return false;
        };
        if dst == a {
            return false;
        }
        let (d, a) = (dst.as_xmm(), a.as_xmm());
        let b_of = |b: Reg| if b == dst { a } else { b.as_xmm() };
        match *next {
            MInst::Vec { op, dst: t, src } if t == dst && op.reads_dst() => {
                self.a.vec_op3(op, d, a, b_of(src));
            }
            MInst::VecImm {
                op,
                dst: t,
                src,
                imm,
            } if t == dst && op.reads_dst() => {
                self.a.vec_imm3(op, d, a, b_of(src), imm);
            }
            MInst::VecShiftImm { op, dst: t, amount } if t == dst => {
                self.a.vec_shift_imm3(op, d, a, amount);
            }
            MInst::XmmOp {
                op,
                double,
                dst: t,
                src,
            } if t == dst && op != SseOp::Sqrt => {
                self.a.sse_op3(op, double, d, a, b_of(src));
            }
            _ => return false,
        }
        true
    }
}

fn mem(a: &Amode) -> Mem {
    let base = match a.base {
        Base::Heap => R15,
        Base::Vmctx => R14,
        Base::Frame => RBP,
        Base::Sp => RSP,
        Base::Reg(r) => r.as_gpr(),
    };
    Mem {
        base: Some(base),
        index: a.index.map(|i| (i.as_gpr(), a.scale)),
        disp: a.disp,
    }
}

/// Sign and magnitude bit patterns of float bounds used by truncations.
fn float_bits(double: bool, v: f64) -> u64 {
    if double {
        v.to_bits()
    } else {
        u64::from((v as f32).to_bits())
    }
}

impl Emitter<'_> {
    fn slot(&self, k: u32) -> Mem {
        Mem::base(RBP, self.spill_base - 8 * k as i32)
    }

    fn trap_label(&mut self, kind: TrapKind) -> Label {
        if let Some((_, l)) = self.trap_labels.iter().find(|(k, _)| *k == kind) {
            return *l;
        }
        let l = self.a.new_label();
        self.trap_labels.push((kind, l));
        l
    }

    fn wasm_trap(&mut self, code: TrapCode) -> Label {
        self.trap_label(TrapKind::Wasm(code))
    }

    /// Marks the next instruction as one that may fault on a guard page.
    fn heap_site(&mut self, a: &Amode) {
        if a.base == Base::Heap {
            let at = self.a.pos();
            self.traps
                .push((at, TrapKind::Wasm(TrapCode::MemoryOutOfBounds)));
        }
    }

    /// A leaf without spills, saved registers or stack arguments needs no frame.
    fn frameless(&self) -> bool {
        !self.lowered.has_calls
            && self.spill_slots == 0
            && self.saved.is_empty()
            && self.lowered.outgoing == 0
            && self.lowered.sig.stack_args == 0
    }

    fn prologue(&mut self) {
        if self.frameless() {
            return;
        }
        let a = &mut self.a;
        a.push(RBP);
        a.mov_rr(Size::S64, RBP, RSP);
        if self.frame_size > 0 {
            a.alu_ri(Alu::Sub, Size::S64, RSP, self.frame_size as i32);
        }
        if self.lowered.has_ref_calls {
            a.store(Size::S64, Mem::base(RBP, VMCTX_SLOT), R14);
        }
        for (k, &r) in self.saved.iter().enumerate() {
            a.store(Size::S64, Mem::base(RBP, -16 - 8 * k as i32), r);
        }
        if self.lowered.has_calls || self.frame_size > 4096 {
            // The limit also turns into "interrupted" when an interrupt is requested.
            a.alu_rm(
                Alu::Cmp,
                Size::S64,
                RSP,
                Mem::base(R14, VMOffsets::STACK_LIMIT as i32),
            );
            let slow = a.new_label();
            let back = a.new_label();
            a.jcc(Cond::B, slow);
            a.bind(back);
            // The slow path goes at the end, with the trap stubs.
            self.stack_slow = Some((slow, back));
        }
    }

    fn epilogue(&mut self) {
        if self.frameless() {
            self.a.ret(0);
            return;
        }
        for (k, &r) in self.saved.iter().enumerate() {
            self.a
                .load(Size::S64, r, Mem::base(RBP, -16 - 8 * k as i32));
        }
        self.a.mov_rr(Size::S64, RSP, RBP);
        self.a.pop(RBP);
        self.a.ret(self.lowered.sig.stack_arg_bytes() as u16);
    }

    fn mov(&mut self, m: Move) {
        match (m.class, m.src, m.dst) {
            (_, s, d) if s == d => {}
            (Class::Int, Loc::Reg(s), Loc::Reg(d)) => {
                self.a.mov_rr(Size::S64, d.as_gpr(), s.as_gpr())
            }
            (Class::Float | Class::Vector, Loc::Reg(s), Loc::Reg(d)) => {
                self.a.movaps(d.as_xmm(), s.as_xmm())
            }
            (Class::Vector, Loc::Reg(s), Loc::Stack(k)) => {
                let m = self.slot(k + 1);
                self.a.movdqu_store(m, s.as_xmm());
            }
            (Class::Vector, Loc::Stack(k), Loc::Reg(d)) => {
                let m = self.slot(k + 1);
                self.a.movdqu_load(d.as_xmm(), m);
            }
            (Class::Vector, Loc::Stack(s), Loc::Stack(d)) => {
                for half in 0..2 {
                    let (ms, md) = (self.slot(s + half), self.slot(d + half));
                    self.a.push_m(ms);
                    self.a.pop_m(md);
                }
            }
            (Class::Int, Loc::Reg(s), Loc::Stack(k)) => {
                let m = self.slot(k);
                self.a.store(Size::S64, m, s.as_gpr());
            }
            (Class::Float, Loc::Reg(s), Loc::Stack(k)) => {
                let m = self.slot(k);
                self.a.sse_store(true, m, s.as_xmm());
            }
            (Class::Int, Loc::Stack(k), Loc::Reg(d)) => {
                let m = self.slot(k);
                self.a.load(Size::S64, d.as_gpr(), m);
            }
            (Class::Float, Loc::Stack(k), Loc::Reg(d)) => {
                let m = self.slot(k);
                self.a.sse_load(true, d.as_xmm(), m);
            }
            (_, Loc::Stack(s), Loc::Stack(d)) => {
                let (ms, md) = (self.slot(s), self.slot(d));
                self.a.push_m(ms);
                self.a.pop_m(md);
            }
        }
    }

    /// The label of the code right after block `b` (where a jump can fall through).
    fn fallthrough(&self, b: u32) -> Option<Label> {
        self.next_label.get(b as usize).copied().flatten()
    }

    fn jcc_cc(&mut self, cc: CC, target: Label) {
        match cc {
            CC::Int(c) => self.a.jcc(c, target),
            CC::FloatEq => {
                let skip = self.a.new_label();
                self.a.jcc(Cond::P, skip);
                self.a.jcc(Cond::E, target);
                self.a.bind(skip);
            }
            CC::FloatNe => {
                self.a.jcc(Cond::P, target);
                self.a.jcc(Cond::Ne, target);
            }
        }
    }

    fn inst(&mut self, inst: &MInst, block: u32) {
        match inst {
            MInst::Args { .. } => {}
            MInst::Mov { dst, src } => {
                if dst != src {
                    self.a.mov_rr(Size::S64, dst.as_gpr(), src.as_gpr());
                }
            }
            MInst::MovImm { size, dst, imm } => self.a.mov_ri(*size, dst.as_gpr(), *imm),
            MInst::Alu { op, size, dst, src } => match src {
                RegMemImm::Reg(s) => self.a.alu_rr(*op, *size, dst.as_gpr(), s.as_gpr()),
                RegMemImm::Mem(m) => {
                    self.heap_site(m);
                    self.a.alu_rm(*op, *size, dst.as_gpr(), mem(m));
                }
                RegMemImm::Imm(k) => self.a.alu_ri(*op, *size, dst.as_gpr(), *k),
            },
            MInst::Cmp { size, a, b } => match b {
                RegMemImm::Reg(s) => self.a.alu_rr(Alu::Cmp, *size, a.as_gpr(), s.as_gpr()),
                RegMemImm::Mem(m) => {
                    self.heap_site(m);
                    self.a.alu_rm(Alu::Cmp, *size, a.as_gpr(), mem(m));
                }
                RegMemImm::Imm(k) => self.a.alu_ri(Alu::Cmp, *size, a.as_gpr(), *k),
            },
            MInst::CmpTypeId { a, type_index } => {
                let at = self.a.cmp_ri32_field(a.as_gpr());
                self.relocs.push(Reloc {
                    at,
                    target: RelocTarget::TypeId(*type_index),
                });
            }
            MInst::CmpMemImm { size, a, imm } => {
                self.heap_site(a);
                self.a.alu_mi(Alu::Cmp, *size, mem(a), *imm);
            }
            MInst::Test { size, a, b } => self.a.test_rr(*size, a.as_gpr(), b.as_gpr()),
            MInst::TestMemImm { size, a, imm } => {
                self.heap_site(a);
                self.a.test_mi(*size, mem(a), *imm);
            }
            MInst::TestImm { size, a, imm } => self.a.test_ri(*size, a.as_gpr(), *imm),
            MInst::Imul { size, dst, src } => self.a.imul_rr(*size, dst.as_gpr(), src.as_gpr()),
            MInst::ImulImm {
                size,
                dst,
                src,
                imm,
            } => self.a.imul_rri(*size, dst.as_gpr(), src.as_gpr(), *imm),
            MInst::Shift {
                op,
                size,
                dst,
                amount,
            } => match amount {
                Some(k) => self.a.shift_ri(*op, *size, dst.as_gpr(), *k),
                None => self.a.shift_cl(*op, *size, dst.as_gpr()),
            },
            MInst::Neg { size, dst } => self.a.neg(*size, dst.as_gpr()),
            MInst::Not { size, dst } => self.a.not(*size, dst.as_gpr()),
            MInst::Div {
                kind,
                size,
                divisor,
            } => {
                let d = divisor.as_gpr();
                match kind {
                    DivKind::DivU | DivKind::RemU => {
                        self.a.alu_rr(Alu::Xor, Size::S32, RDX, RDX);
                        self.a.div(false, *size, d);
                    }
                    DivKind::DivS => {
                        self.a.sign_extend_rax(*size);
                        self.a.div(true, *size, d);
                    }
                    DivKind::RemS => {
                        // x rem -1 is 0, and idiv would fault on MIN / -1.
                        let minus_one = self.a.new_label();
                        let done = self.a.new_label();
                        self.a.alu_ri(Alu::Cmp, *size, d, -1);
                        self.a.jcc(Cond::E, minus_one);
                        self.a.sign_extend_rax(*size);
                        self.a.div(true, *size, d);
                        self.a.jmp(done);
                        self.a.bind(minus_one);
                        self.a.alu_rr(Alu::Xor, Size::S32, RDX, RDX);
                        self.a.bind(done);
                    }
                }
            }
            MInst::CheckOverflow { size, a, b } => {
                let skip = self.a.new_label();
                let trap = self.wasm_trap(TrapCode::IntegerOverflow);
                self.a.alu_ri(Alu::Cmp, *size, b.as_gpr(), -1);
                self.a.jcc(Cond::Ne, skip);
                // a - 1 overflows exactly when a is the minimum.
                self.a.alu_ri(Alu::Cmp, *size, a.as_gpr(), 1);
                self.a.jcc(Cond::O, trap);
                self.a.bind(skip);
            }
            MInst::Load { op, dst, addr } => {
                self.heap_site(addr);
                let m = mem(addr);
                match op {
                    LoadOp::Zx(s) => self.a.load(*s, dst.as_gpr(), m),
                    LoadOp::Sx { from, to } => self.a.load_sx(*from, *to, dst.as_gpr(), m),
                }
            }
            MInst::Store { size, src, addr } => {
                self.heap_site(addr);
                self.a.store(*size, mem(addr), src.as_gpr());
            }
            MInst::StoreImm { size, imm, addr } => {
                self.heap_site(addr);
                self.a.store_imm(*size, mem(addr), *imm);
            }
            MInst::Lea { size, dst, addr } => self.a.lea(*size, dst.as_gpr(), mem(addr)),
            MInst::Setcc { cc, dst } => {
                let d = dst.as_gpr();
                match cc {
                    CC::Int(c) => self.a.setcc(*c, d),
                    CC::FloatEq => {
                        self.a.setcc(Cond::E, d);
                        self.a.setcc(Cond::Np, R11);
                        self.a.alu_rr(Alu::And, Size::S8, d, R11);
                    }
                    CC::FloatNe => {
                        self.a.setcc(Cond::Ne, d);
                        self.a.setcc(Cond::P, R11);
                        self.a.alu_rr(Alu::Or, Size::S8, d, R11);
                    }
                }
                self.a.extend(false, Size::S8, Size::S32, d, d);
            }
            MInst::Cmov { cc, size, dst, src } => {
                self.a.cmov(*cc, *size, dst.as_gpr(), src.as_gpr())
            }
            MInst::Extend {
                signed,
                from,
                to,
                dst,
                src,
            } => self
                .a
                .extend(*signed, *from, *to, dst.as_gpr(), src.as_gpr()),
            MInst::BitCount { op, size, dst, src } => {
                self.a.bit_count(*op, *size, dst.as_gpr(), src.as_gpr())
            }
            MInst::BitScanCount {
                leading,
                size,
                dst,
                src,
            } => {
                let bits: u64 = if *size == Size::S64 { 64 } else { 32 };
                let d = dst.as_gpr();
                if *leading {
                    self.a.mov_ri(Size::S64, R11, 2 * bits - 1);
                    self.a.bit_count(BitOp::Bsr, *size, d, src.as_gpr());
                    self.a.cmov(Cond::E, *size, d, R11);
                    self.a.alu_ri(Alu::Xor, *size, d, bits as i32 - 1);
                } else {
                    self.a.mov_ri(Size::S64, R11, bits);
                    self.a.bit_count(BitOp::Bsf, *size, d, src.as_gpr());
                    self.a.cmov(Cond::E, *size, d, R11);
                }
            }
            MInst::PopcntSoft {
                size,
                dst,
                src,
                tmp,
            } => {
                let (d, t, size) = (dst.as_gpr(), tmp.as_gpr(), *size);
                let wide = size == Size::S64;
                let pattern = |byte: u64| {
                    if wide {
                        byte * 0x0101_0101_0101_0101
                    } else {
                        byte * 0x0101_0101
                    }
                };
                self.a.mov_rr(size, d, src.as_gpr());
                // d -= (d >> 1) & 0x55..
                self.a.mov_rr(size, t, d);
                self.a.shift_ri(Shift::Shr, size, t, 1);
                self.a.mov_ri(Size::S64, R11, pattern(0x55));
                self.a.alu_rr(Alu::And, size, t, R11);
                self.a.alu_rr(Alu::Sub, size, d, t);
                // d = (d & 0x33..) + ((d >> 2) & 0x33..)
                self.a.mov_rr(size, t, d);
                self.a.shift_ri(Shift::Shr, size, t, 2);
                self.a.mov_ri(Size::S64, R11, pattern(0x33));
                self.a.alu_rr(Alu::And, size, t, R11);
                self.a.alu_rr(Alu::And, size, d, R11);
                self.a.alu_rr(Alu::Add, size, d, t);
                // d = (d + (d >> 4)) & 0x0f..
                self.a.mov_rr(size, t, d);
                self.a.shift_ri(Shift::Shr, size, t, 4);
                self.a.alu_rr(Alu::Add, size, d, t);
                self.a.mov_ri(Size::S64, R11, pattern(0x0f));
                self.a.alu_rr(Alu::And, size, d, R11);
                // The byte sums add up in the top byte.
                self.a.mov_ri(Size::S64, R11, pattern(0x01));
                self.a.imul_rr(size, d, R11);
                self.a
                    .shift_ri(Shift::Shr, size, d, if wide { 56 } else { 24 });
            }
            MInst::XmmMov { dst, src } => {
                if dst != src {
                    self.a.movaps(dst.as_xmm(), src.as_xmm());
                }
            }
            MInst::Vec { op, dst, src } => self.a.vec_op(*op, dst.as_xmm(), src.as_xmm()),
            MInst::VecImm { op, dst, src, imm } => {
                self.a.vec_imm(*op, dst.as_xmm(), src.as_xmm(), *imm)
            }
            MInst::VecShiftImm { op, dst, amount } => {
                self.a.vec_shift_imm(*op, dst.as_xmm(), *amount)
            }
            MInst::VecFill { ones, dst } => {
                let d = dst.as_xmm();
                let op = if *ones { VecOp::Pcmpeqd } else { VecOp::Pxor };
                self.a.vec_op(op, d, d);
            }
            MInst::VecConst { dst, bits } => {
                let d = dst.as_xmm();
                match *bits {
                    [0, 0] => self.a.vec_op(VecOp::Pxor, d, d),
                    [u64::MAX, u64::MAX] => self.a.vec_op(VecOp::Pcmpeqd, d, d),
                    [lo, hi] => {
                        self.a.mov_ri(Size::S64, R11, lo);
                        self.a.gpr_to_xmm(Size::S64, d, R11);
                        if hi != 0 {
                            self.a.mov_ri(Size::S64, R11, hi);
                            self.a.pinsr(Size::S64, d, R11, 1);
                        }
                    }
                }
            }
            MInst::VecLoad { kind, dst, addr } => {
                self.heap_site(addr);
                let (d, m) = (dst.as_xmm(), mem(addr));
                match kind {
                    VecLoadKind::Full => self.a.movdqu_load(d, m),
                    VecLoadKind::Low64 => self.a.movq_load(d, m),
                    VecLoadKind::Low32 => self.a.movd_load(d, m),
                    VecLoadKind::Extend(op) => self.a.vec_op_m(*op, d, m),
                }
            }
            MInst::VecStore { src, addr } => {
                self.heap_site(addr);
                self.a.movdqu_store(mem(addr), src.as_xmm());
            }
            MInst::VecExtract {
                size,
                dst,
                src,
                lane,
            } => self.a.pextr(*size, dst.as_gpr(), src.as_xmm(), *lane),
            MInst::VecInsert {
                size,
                dst,
                src,
                lane,
            } => self.a.pinsr(*size, dst.as_xmm(), src.as_gpr(), *lane),
            MInst::VecMask {
                lane_bytes,
                dst,
                src,
            } => self.a.movmsk(*lane_bytes, dst.as_gpr(), src.as_xmm()),
            MInst::Ptest { a, b } => self.a.ptest(a.as_xmm(), b.as_xmm()),
            MInst::XmmLoad { double, dst, addr } => {
                self.heap_site(addr);
                self.a.sse_load(*double, dst.as_xmm(), mem(addr));
            }
            MInst::XmmStore { double, src, addr } => {
                self.heap_site(addr);
                self.a.sse_store(*double, mem(addr), src.as_xmm());
            }
            MInst::XmmOp {
                op,
                double,
                dst,
                src,
            } => self.a.sse_op(*op, *double, dst.as_xmm(), src.as_xmm()),
            MInst::XmmMinMax {
                max,
                double,
                dst,
                src,
            } => {
                let (d, s) = (dst.as_xmm(), src.as_xmm());
                let (nan, ordinary, done) =
                    (self.a.new_label(), self.a.new_label(), self.a.new_label());
                self.a.ucomi(*double, d, s);
                self.a.jcc(Cond::P, nan);
                self.a.jcc(Cond::Ne, ordinary);
                // Equal: only ±0 differ; min takes -0 (OR of signs), max +0 (AND).
                let op = if *max { SseBit::And } else { SseBit::Or };
                self.a.sse_bit(op, *double, d, s);
                self.a.jmp(done);
                self.a.bind(ordinary);
                let op = if *max { SseOp::Max } else { SseOp::Min };
                self.a.sse_op(op, *double, d, s);
                self.a.jmp(done);
                self.a.bind(nan);
                // Either is NaN: the sum is a NaN.
                self.a.sse_op(SseOp::Add, *double, d, s);
                self.a.bind(done);
            }
            MInst::Ucomi { double, a, b } => self.a.ucomi(*double, a.as_xmm(), b.as_xmm()),
            MInst::GprToXmm { size, dst, src } => {
                self.a.gpr_to_xmm(*size, dst.as_xmm(), src.as_gpr())
            }
            MInst::XmmToGpr { size, dst, src } => {
                self.a.xmm_to_gpr(*size, dst.as_gpr(), src.as_xmm())
            }
            MInst::CvtIntToFloat {
                double,
                src_size,
                dst,
                src,
            } => {
                let d = dst.as_xmm();
                self.a.sse_bit(SseBit::Xor, false, d, d);
                self.a.cvt_int_to_float(*double, *src_size, d, src.as_gpr());
            }
            MInst::CvtU64ToFloat {
                double,
                dst,
                src,
                tmp,
            } => {
                let (d, s, t) = (dst.as_xmm(), src.as_gpr(), tmp.as_gpr());
                let (big, done) = (self.a.new_label(), self.a.new_label());
                self.a.sse_bit(SseBit::Xor, false, d, d);
                self.a.test_rr(Size::S64, s, s);
                self.a.jcc(Cond::S, big);
                self.a.cvt_int_to_float(*double, Size::S64, d, s);
                self.a.jmp(done);
                self.a.bind(big);
                // Halve (keeping the lowest bit for rounding), convert, double.
                self.a.mov_rr(Size::S64, t, s);
                self.a.shift_ri(Shift::Shr, Size::S64, t, 1);
                self.a.mov_rr(Size::S32, R11, s);
                self.a.alu_ri(Alu::And, Size::S32, R11, 1);
                self.a.alu_rr(Alu::Or, Size::S64, t, R11);
                self.a.cvt_int_to_float(*double, Size::S64, d, t);
                self.a.sse_op(SseOp::Add, *double, d, d);
                self.a.bind(done);
            }
            MInst::CvtFloat {
                to_double,
                dst,
                src,
            } => self.a.cvt_float(*to_double, dst.as_xmm(), src.as_xmm()),
            MInst::Round {
                double,
                mode,
                dst,
                src,
            } => self.a.round(*double, dst.as_xmm(), src.as_xmm(), *mode),
            MInst::Trunc {
                kind,
                dst,
                src,
                tmp,
            } => self.trunc(*kind, dst.as_gpr(), src.as_xmm(), tmp.as_xmm()),
            MInst::XmmSelect { cond, dst, a } => {
                let skip = self.a.new_label();
                let c = cond.as_gpr();
                self.a.test_rr(Size::S32, c, c);
                self.a.jcc(Cond::E, skip);
                self.a.movaps(dst.as_xmm(), a.as_xmm());
                self.a.bind(skip);
            }
            MInst::CheckedAddr {
                memory_offset,
                addr,
                offset,
                bytes,
                base,
                index,
            } => {
                let (b, i) = (base.as_gpr(), index.as_gpr());
                let trap = self.wasm_trap(TrapCode::MemoryOutOfBounds);
                self.a
                    .load(Size::S64, b, Mem::base(R14, *memory_offset as i32));
                self.a.mov_rr(Size::S32, i, addr.as_gpr());
                if *offset != 0 {
                    self.a.mov_ri(Size::S32, R11, u64::from(*offset));
                    self.a.alu_rr(Alu::Add, Size::S64, i, R11);
                }
                self.a.lea(Size::S64, R11, Mem::base(i, *bytes as i32));
                self.a
                    .alu_rm(Alu::Cmp, Size::S64, R11, Mem::base(b, VMMemory::LEN as i32));
                self.a.jcc(Cond::A, trap);
                self.a
                    .load(Size::S64, b, Mem::base(b, VMMemory::BASE as i32));
            }
            MInst::CheckRange { addr, len, tmp } => {
                let t = tmp.as_gpr();
                let trap = self.wasm_trap(TrapCode::MemoryOutOfBounds);
                // Both are zero-extended u32: their 64-bit sum cannot wrap.
                self.a.mov_rr(Size::S32, t, addr.as_gpr());
                self.a.alu_rr(Alu::Add, Size::S64, t, len.as_gpr());
                self.a
                    .load(Size::S64, R11, Mem::base(R14, VMOffsets::MEMORY0 as i32));
                self.a
                    .alu_rm(Alu::Cmp, Size::S64, t, Mem::base(R11, VMMemory::LEN as i32));
                self.a.jcc(Cond::A, trap);
            }
            MInst::InterruptCheck => {
                let trap = self.wasm_trap(TrapCode::Interrupted);
                self.a.alu_mi(
                    Alu::Cmp,
                    Size::S8,
                    Mem::base(R14, VMOffsets::INTERRUPT_FLAG as i32),
                    0,
                );
                self.a.jcc(Cond::Ne, trap);
            }
            MInst::Jmp { target } => {
                let l = self.block_labels[*target as usize];
                if Some(l) != self.fallthrough(block) {
                    self.a.jmp(l);
                }
            }
            MInst::Jcc {
                cc,
                taken,
                not_taken,
            } => {
                let next = self.fallthrough(block);
                let (lt, ln) = (
                    self.block_labels[*taken as usize],
                    self.block_labels[*not_taken as usize],
                );
                if Some(lt) == next {
                    self.jcc_cc(cc.invert(), ln);
                } else {
                    self.jcc_cc(*cc, lt);
                    if Some(ln) != next {
                        self.a.jmp(ln);
                    }
                }
            }
            MInst::TrapIf { cc, kind } => {
                let l = self.trap_label(*kind);
                self.jcc_cc(*cc, l);
            }
            MInst::Trap { kind } => {
                self.traps.push((self.a.pos(), *kind));
                self.a.ud2();
            }
            MInst::JumpTable {
                index,
                tmp,
                targets,
            } => {
                let (i, t) = (index.as_gpr(), tmp.as_gpr());
                let n = targets.len() as i32;
                let default = self.block_labels[*targets.last().expect("a default") as usize];
                let table = self.a.new_label();
                self.a.alu_ri(Alu::Cmp, Size::S32, i, n - 1);
                self.a.jcc(Cond::Ae, default);
                self.a.lea_label(R11, table);
                self.a.movsxd_load(t, Mem::base_index(R11, i, 2, 0));
                self.a.alu_rr(Alu::Add, Size::S64, t, R11);
                self.a.jmp_r(t);
                self.tables.push((table, targets.clone()));
            }
            MInst::Ret { .. } => self.epilogue(),
            MInst::Call {
                target,
                stack_bytes,
                ..
            } => {
                match target {
                    CallTarget::Defined(def) => {
                        let at = self.a.call_rel32();
                        self.relocs.push(Reloc {
                            at,
                            target: RelocTarget::Func(*def),
                        });
                    }
                    CallTarget::Ref { type_index } => {
                        let (adapter, after) = (self.a.new_label(), self.a.new_label());
                        self.a
                            .load(Size::S64, R11, Mem::base(R10, VMFuncRef::CODE as i32));
                        self.a.test_rr(Size::S64, R11, R11);
                        self.a.jcc(Cond::E, adapter);
                        self.a
                            .load(Size::S64, R14, Mem::base(R10, VMFuncRef::VMCTX as i32));
                        self.a
                            .load(Size::S64, R15, Mem::base(R14, VMOffsets::HEAP_BASE as i32));
                        self.a.call_r(R11);
                        self.a.jmp(after);
                        self.a.bind(adapter);
                        let at = self.a.call_rel32();
                        self.relocs.push(Reloc {
                            at,
                            target: RelocTarget::Adapter(*type_index),
                        });
                        self.a.bind(after);
                        self.a.load(Size::S64, R14, Mem::base(RBP, VMCTX_SLOT));
                        self.a
                            .load(Size::S64, R15, Mem::base(R14, VMOffsets::HEAP_BASE as i32));
                    }
                    CallTarget::Lib(lib) => {
                        self.a
                            .load(Size::S64, R11, Mem::base(R14, VMOffsets::LIBCALLS as i32));
                        self.a.call_m(Mem::base(R11, 8 * *lib as i32));
                    }
                }
                if *stack_bytes > 0 {
                    // The callee popped its stack arguments: restore the frame.
                    self.a.alu_ri(Alu::Sub, Size::S64, RSP, *stack_bytes as i32);
                }
            }
        }
    }

    /// Loads the float constant `v` into `x` (through r11).
    fn fconst(&mut self, double: bool, x: Xmm, v: f64) {
        let bits = float_bits(double, v);
        let size = if double { Size::S64 } else { Size::S32 };
        self.a.mov_ri(Size::S64, R11, bits);
        self.a.gpr_to_xmm(size, x, R11);
    }

    /// Float → integer truncation with Wasm's rules: trapping (NaN: invalid conversion,
    /// out of range: integer overflow) or saturating (NaN → 0, clamped).
    fn trunc(&mut self, k: TruncKind, d: Gpr, s: Xmm, t: Xmm) {
        let double = k.double;
        let size = k.dst;
        let (done, nan_or_zero) = (self.a.new_label(), self.a.new_label());
        let invalid = TrapKind::Wasm(TrapCode::InvalidConversionToInteger);
        let overflow = TrapKind::Wasm(TrapCode::IntegerOverflow);
        if k.signed {
            self.a.cvt_float_to_int(double, size, d, s);
            // Only the "indefinite" result (the minimum) needs a closer look.
            self.a.alu_ri(Alu::Cmp, size, d, 1);
            self.a.jcc(Cond::No, done);
            self.a.ucomi(double, s, s);
            if k.saturating {
                self.a.jcc(Cond::P, nan_or_zero);
                self.a.sse_bit(SseBit::Xor, false, t, t);
                self.a.ucomi(double, s, t);
                self.a.jcc(Cond::B, done); // negative: the minimum is right
                let max = if size == Size::S64 {
                    i64::MAX as u64
                } else {
                    i32::MAX as u64
                };
                self.a.mov_ri(size, d, max);
                self.a.jmp(done);
                self.a.bind(nan_or_zero);
                self.a.mov_ri(Size::S32, d, 0);
            } else {
                let l = self.trap_label(invalid);
                self.a.jcc(Cond::P, l);
                // The minimum is right if MIN <= s (f64 → i32: MIN - 1 < s).
                let l = self.trap_label(overflow);
                if size == Size::S32 && double {
                    self.fconst(double, t, -2147483649.0);
                    self.a.ucomi(double, s, t);
                    self.a.jcc(Cond::Be, l);
                } else {
                    let min = if size == Size::S64 {
                        -9223372036854775808.0
                    } else {
                        -2147483648.0
                    };
                    self.fconst(double, t, min);
                    self.a.ucomi(double, s, t);
                    self.a.jcc(Cond::B, l);
                }
                self.a.sse_bit(SseBit::Xor, false, t, t);
                self.a.ucomi(double, s, t);
                self.a.jcc(Cond::A, l);
            }
            self.a.bind(done);
            return;
        }
        // Unsigned.
        let limit = if size == Size::S64 {
            18446744073709551616.0
        } else {
            4294967296.0
        };
        let max_label = self.a.new_label();
        self.a.ucomi(double, s, s);
        if k.saturating {
            self.a.jcc(Cond::P, nan_or_zero);
            self.a.sse_bit(SseBit::Xor, false, t, t);
            self.a.ucomi(double, s, t);
            self.a.jcc(Cond::Be, nan_or_zero);
            self.fconst(double, t, limit);
            self.a.ucomi(double, s, t);
            self.a.jcc(Cond::Ae, max_label);
        } else {
            let l = self.trap_label(invalid);
            self.a.jcc(Cond::P, l);
            let l = self.trap_label(overflow);
            self.fconst(double, t, -1.0);
            self.a.ucomi(double, s, t);
            self.a.jcc(Cond::Be, l);
            self.fconst(double, t, limit);
            self.a.ucomi(double, s, t);
            self.a.jcc(Cond::Ae, l);
        }
        if size == Size::S32 {
            // In range of i64: convert as that.
            self.a.cvt_float_to_int(double, Size::S64, d, s);
            self.a.mov_rr(Size::S32, d, d);
        } else {
            let big = self.a.new_label();
            self.fconst(double, t, 9223372036854775808.0);
            self.a.ucomi(double, s, t);
            self.a.jcc(Cond::Ae, big);
            self.a.cvt_float_to_int(double, Size::S64, d, s);
            self.a.jmp(done);
            self.a.bind(big);
            // s - 2^63 converts in range; add 2^63 back with the top bit.
            self.a.movaps(Xmm(15), s);
            self.a.sse_op(SseOp::Sub, double, Xmm(15), t);
            self.a.cvt_float_to_int(double, Size::S64, d, Xmm(15));
            self.a.mov_ri(Size::S64, R11, 1 << 63);
            self.a.alu_rr(Alu::Xor, Size::S64, d, R11);
        }
        self.a.jmp(done);
        self.a.bind(max_label);
        let max = if size == Size::S64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        self.a.mov_ri(size, d, max);
        self.a.jmp(done);
        self.a.bind(nan_or_zero);
        self.a.mov_ri(Size::S32, d, 0);
        self.a.bind(done);
    }
}
