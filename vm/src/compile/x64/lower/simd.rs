//! Instruction selection for the vector instructions (SSE2 through SSE4.1).
//!
//! `v128` values live in XMM registers (class `Vector`). Most lane-wise instructions are
//! one packed SSE instruction, some a short sequence (`ne` as `eq` and `not`, unsigned
//! `ge` as `max` and `eq`, splats as a move and a shuffle). Those with no short
//! sequence yet (NaN-exact `min`/`max`, saturating float truncation, 8-bit shifts, ...)
//! call the runtime, which applies the interpreter's lane semantics
//! (`interp::simd::eval`): the operands go through the outgoing-argument area.

#![forbid(unsafe_code)]

use super::*;
use crate::compile::x64::asm::{VecImmOp, VecOp};
use crate::decode::ops::{LaneOp, SimdOp, V128LoadKind};

/// Bytes of the outgoing area a runtime vector call uses: three `v128` operands.
const SIMD_CALL_AREA: u32 = 48;

/// `splat` of a lane of `n` bytes.
fn splat_ones(lane_bytes: u32, bits: u64) -> u128 {
    let mut v = 0u128;
    for k in 0..16 / lane_bytes {
        v |= u128::from(bits) << (8 * lane_bytes * k);
    }
    v
}

/// Which compare a lane-wise integer comparison becomes.
enum IntCompare {
    /// `op(a, b)`.
    Direct(VecOp),
    /// `op(b, a)`.
    Swapped(VecOp),
    /// `not(op(a, b))`.
    Inverted(VecOp),
    /// `eq(minmax(a, b), a)`, with the `eq` of the lane width.
    MinMaxEq(VecOp, VecOp),
    /// `not(eq(minmax(a, b), a))`.
    NotMinMaxEq(VecOp, VecOp),
}

impl Lower<'_> {
    pub(super) fn vector_inst(&mut self, d: InstData) {
        match d.op {
            Opcode::V128Const => {
                let dst = self.def(d.result);
                let c = self.f.v128_consts[d.imm as usize];
                self.emit(MInst::VecConst {
                    dst,
                    bits: [c as u64, (c >> 64) as u64],
                });
            }
            Opcode::Shuffle => self.shuffle(d),
            Opcode::Lane(op, lane) => self.lane(d, op, lane),
            Opcode::VLoad(kind) => self.vector_load(d, kind),
            Opcode::LoadLane { width_log2, lane } => {
                let size = lane_size(width_log2);
                let addr = self.mem_addr(d.aux, d.args[0], d.imm, 1 << width_log2);
                let t = self.int_reg();
                self.emit(MInst::Load {
                    op: LoadOp::Zx(size),
                    dst: t,
                    addr,
                });
                let dst = self.copy_of(d.result, d.args[1]);
                self.emit(MInst::VecInsert {
                    size,
                    dst,
                    src: t,
                    lane,
                });
            }
            Opcode::StoreLane { width_log2, lane } => {
                let size = lane_size(width_log2);
                let src = self.reg(d.args[1]);
                let t = self.int_reg();
                self.emit(MInst::VecExtract {
                    size,
                    dst: t,
                    src,
                    lane,
                });
                let addr = self.mem_addr(d.aux, d.args[0], d.imm, 1 << width_log2);
                self.emit(MInst::Store { size, src: t, addr });
            }
            Opcode::Simd(op) => {
                if !self.simd_inline(d, op) {
                    self.simd_call(d, op);
                }
            }
            _ => unreachable!("not a vector instruction: {:?}", d.op),
        }
    }

    fn vreg(&mut self) -> Reg {
        self.vc.new_vreg(Class::Vector)
    }

    fn vconst(&mut self, c: u128) -> Reg {
        let dst = self.vreg();
        self.emit(MInst::VecConst {
            dst,
            bits: [c as u64, (c >> 64) as u64],
        });
        dst
    }

    /// The register of `result`, holding a copy of `src` (for a two-address form).
    fn copy_of(&mut self, result: Value, src: Value) -> Reg {
        let dst = self.def(result);
        let s = self.reg(src);
        self.mov(dst, s);
        dst
    }

    /// `result = a op b` (`swap`: `b op a`).
    fn vec_binary(&mut self, op: VecOp, result: Value, a: Value, b: Value, swap: bool) -> Reg {
        let (a, b) = if swap { (b, a) } else { (a, b) };
        let dst = self.copy_of(result, a);
        let src = self.reg(b);
        self.emit(MInst::Vec { op, dst, src });
        dst
    }

    /// `dst = !dst`.
    fn vec_not(&mut self, dst: Reg) {
        let ones = self.vreg();
        self.emit(MInst::VecFill {
            ones: true,
            dst: ones,
        });
        self.emit(MInst::Vec {
            op: VecOp::Pxor,
            dst,
            src: ones,
        });
    }

    /// A scalar in a general-purpose register copied to every lane of `dst`.
    fn splat_gpr(&mut self, lane_bytes: u32, dst: Reg, x: Reg) {
        let size = if lane_bytes == 8 {
            Size::S64
        } else {
            Size::S32
        };
        self.emit(MInst::GprToXmm { size, dst, src: x });
        self.broadcast_low(lane_bytes, dst);
    }

    /// Copies lane 0 of `dst` (of `lane_bytes`) to every lane.
    fn broadcast_low(&mut self, lane_bytes: u32, dst: Reg) {
        match lane_bytes {
            1 => {
                let zero = self.vreg();
                self.emit(MInst::VecFill {
                    ones: false,
                    dst: zero,
                });
                self.emit(MInst::Vec {
                    op: VecOp::Pshufb,
                    dst,
                    src: zero,
                });
            }
            2 => {
                self.emit(MInst::VecImm {
                    op: VecImmOp::Pshuflw,
                    dst,
                    src: dst,
                    imm: 0,
                });
                self.emit(MInst::VecImm {
                    op: VecImmOp::Pshufd,
                    dst,
                    src: dst,
                    imm: 0,
                });
            }
            4 => self.emit(MInst::VecImm {
                op: VecImmOp::Pshufd,
                dst,
                src: dst,
                imm: 0,
            }),
            _ => self.emit(MInst::Vec {
                op: VecOp::Punpcklqdq,
                dst,
                src: dst,
            }),
        }
    }

    fn vector_load(&mut self, d: InstData, kind: V128LoadKind) {
        use V128LoadKind as K;
        let bytes = 1 << kind.width_log2();
        let addr = self.mem_addr(d.aux, d.args[0], d.imm, bytes);
        let dst = self.def(d.result);
        let load = |kind| MInst::VecLoad { kind, dst, addr };
        match kind {
            K::Load => self.emit(load(VecLoadKind::Full)),
            K::Load8x8S => self.emit(load(VecLoadKind::Extend(VecOp::Pmovsxbw))),
            K::Load8x8U => self.emit(load(VecLoadKind::Extend(VecOp::Pmovzxbw))),
            K::Load16x4S => self.emit(load(VecLoadKind::Extend(VecOp::Pmovsxwd))),
            K::Load16x4U => self.emit(load(VecLoadKind::Extend(VecOp::Pmovzxwd))),
            K::Load32x2S => self.emit(load(VecLoadKind::Extend(VecOp::Pmovsxdq))),
            K::Load32x2U => self.emit(load(VecLoadKind::Extend(VecOp::Pmovzxdq))),
            K::Load32Zero => self.emit(load(VecLoadKind::Low32)),
            K::Load64Zero => self.emit(load(VecLoadKind::Low64)),
            K::Load8Splat | K::Load16Splat => {
                let t = self.int_reg();
                let size = if bytes == 1 { Size::S8 } else { Size::S16 };
                self.emit(MInst::Load {
                    op: LoadOp::Zx(size),
                    dst: t,
                    addr,
                });
                self.splat_gpr(bytes, dst, t);
            }
            K::Load32Splat => {
                self.emit(load(VecLoadKind::Low32));
                self.broadcast_low(4, dst);
            }
            K::Load64Splat => {
                self.emit(load(VecLoadKind::Low64));
                self.broadcast_low(8, dst);
            }
        }
    }

    fn shuffle(&mut self, d: InstData) {
        let lanes = self.f.v128_consts[d.imm as usize].to_le_bytes();
        let [a, b, _] = d.args;
        if self.f.resolve(a) == self.f.resolve(b) || lanes.iter().all(|&l| l < 16) {
            let mask = u128::from_le_bytes(lanes.map(|l| l & 15));
            let m = self.vconst(mask);
            let dst = self.copy_of(d.result, a);
            self.emit(MInst::Vec {
                op: VecOp::Pshufb,
                dst,
                src: m,
            });
            return;
        }
        if lanes.iter().all(|&l| l >= 16) {
            let mask = u128::from_le_bytes(lanes.map(|l| l - 16));
            let m = self.vconst(mask);
            let dst = self.copy_of(d.result, b);
            self.emit(MInst::Vec {
                op: VecOp::Pshufb,
                dst,
                src: m,
            });
            return;
        }
        // Lanes from `a` (bit 7 set elsewhere: pshufb writes zero there), or from `b`.
        let from_a = u128::from_le_bytes(lanes.map(|l| if l < 16 { l } else { 0x80 }));
        let from_b = u128::from_le_bytes(lanes.map(|l| if l >= 16 { l - 16 } else { 0x80 }));
        let (ma, mb) = (self.vconst(from_a), self.vconst(from_b));
        let dst = self.copy_of(d.result, a);
        self.emit(MInst::Vec {
            op: VecOp::Pshufb,
            dst,
            src: ma,
        });
        let t = self.vreg();
        let rb = self.reg(b);
        self.mov(t, rb);
        self.emit(MInst::Vec {
            op: VecOp::Pshufb,
            dst: t,
            src: mb,
        });
        self.emit(MInst::Vec {
            op: VecOp::Por,
            dst,
            src: t,
        });
    }

    fn lane(&mut self, d: InstData, op: LaneOp, lane: u8) {
        use LaneOp as L;
        let [v, x, _] = d.args;
        match op {
            L::I8x16ExtractLaneS | L::I16x8ExtractLaneS => {
                let size = if op == L::I8x16ExtractLaneS {
                    Size::S8
                } else {
                    Size::S16
                };
                let src = self.reg(v);
                let t = self.int_reg();
                self.emit(MInst::VecExtract {
                    size,
                    dst: t,
                    src,
                    lane,
                });
                let dst = self.def(d.result);
                self.emit(MInst::Extend {
                    signed: true,
                    from: size,
                    to: Size::S32,
                    dst,
                    src: t,
                });
            }
            L::I8x16ExtractLaneU
            | L::I16x8ExtractLaneU
            | L::I32x4ExtractLane
            | L::I64x2ExtractLane => {
                let size = match op {
                    L::I8x16ExtractLaneU => Size::S8,
                    L::I16x8ExtractLaneU => Size::S16,
                    L::I32x4ExtractLane => Size::S32,
                    _ => Size::S64,
                };
                let src = self.reg(v);
                let dst = self.def(d.result);
                self.emit(MInst::VecExtract {
                    size,
                    dst,
                    src,
                    lane,
                });
            }
            L::F32x4ExtractLane | L::F64x2ExtractLane => {
                let src = self.reg(v);
                let dst = self.def(d.result);
                if lane == 0 {
                    self.mov(dst, src);
                } else {
                    let imm = if op == L::F32x4ExtractLane {
                        lane
                    } else {
                        0xee
                    };
                    self.emit(MInst::VecImm {
                        op: VecImmOp::Pshufd,
                        dst,
                        src,
                        imm,
                    });
                }
            }
            L::I8x16ReplaceLane
            | L::I16x8ReplaceLane
            | L::I32x4ReplaceLane
            | L::I64x2ReplaceLane => {
                let size = match op {
                    L::I8x16ReplaceLane => Size::S8,
                    L::I16x8ReplaceLane => Size::S16,
                    L::I32x4ReplaceLane => Size::S32,
                    _ => Size::S64,
                };
                let src = self.reg(x);
                let dst = self.copy_of(d.result, v);
                self.emit(MInst::VecInsert {
                    size,
                    dst,
                    src,
                    lane,
                });
            }
            L::F32x4ReplaceLane => {
                let src = self.reg(x);
                let dst = self.copy_of(d.result, v);
                self.emit(MInst::VecImm {
                    op: VecImmOp::Insertps,
                    dst,
                    src,
                    imm: lane << 4,
                });
            }
            L::F64x2ReplaceLane => {
                let src = self.reg(x);
                let dst = self.copy_of(d.result, v);
                let op = if lane == 0 {
                    VecOp::Movsd
                } else {
                    VecOp::Unpcklpd
                };
                self.emit(MInst::Vec { op, dst, src });
            }
        }
    }

    /// Emits `op` inline; false if it has no inline sequence (yet).
    fn simd_inline(&mut self, d: InstData, op: SimdOp) -> bool {
        use SimdOp as S;
        use VecOp as V;
        let [a, b, c] = d.args;
        let r = d.result;
        let direct = match op {
            S::I8x16Add => Some(V::Paddb),
            S::I16x8Add => Some(V::Paddw),
            S::I32x4Add => Some(V::Paddd),
            S::I64x2Add => Some(V::Paddq),
            S::I8x16Sub => Some(V::Psubb),
            S::I16x8Sub => Some(V::Psubw),
            S::I32x4Sub => Some(V::Psubd),
            S::I64x2Sub => Some(V::Psubq),
            S::I8x16AddSatS => Some(V::Paddsb),
            S::I8x16AddSatU => Some(V::Paddusb),
            S::I16x8AddSatS => Some(V::Paddsw),
            S::I16x8AddSatU => Some(V::Paddusw),
            S::I8x16SubSatS => Some(V::Psubsb),
            S::I8x16SubSatU => Some(V::Psubusb),
            S::I16x8SubSatS => Some(V::Psubsw),
            S::I16x8SubSatU => Some(V::Psubusw),
            S::I16x8Mul => Some(V::Pmullw),
            S::I32x4Mul => Some(V::Pmulld),
            S::I32x4DotI16x8S => Some(V::Pmaddwd),
            S::I8x16MinS => Some(V::Pminsb),
            S::I8x16MinU => Some(V::Pminub),
            S::I8x16MaxS => Some(V::Pmaxsb),
            S::I8x16MaxU => Some(V::Pmaxub),
            S::I16x8MinS => Some(V::Pminsw),
            S::I16x8MinU => Some(V::Pminuw),
            S::I16x8MaxS => Some(V::Pmaxsw),
            S::I16x8MaxU => Some(V::Pmaxuw),
            S::I32x4MinS => Some(V::Pminsd),
            S::I32x4MinU => Some(V::Pminud),
            S::I32x4MaxS => Some(V::Pmaxsd),
            S::I32x4MaxU => Some(V::Pmaxud),
            S::I8x16AvgrU => Some(V::Pavgb),
            S::I16x8AvgrU => Some(V::Pavgw),
            S::V128And => Some(V::Pand),
            S::V128Or => Some(V::Por),
            S::V128Xor => Some(V::Pxor),
            S::I8x16NarrowI16x8S => Some(V::Packsswb),
            S::I8x16NarrowI16x8U => Some(V::Packuswb),
            S::I16x8NarrowI32x4S => Some(V::Packssdw),
            S::I16x8NarrowI32x4U => Some(V::Packusdw),
            S::F32x4Add => Some(V::Addps),
            S::F64x2Add => Some(V::Addpd),
            S::F32x4Sub => Some(V::Subps),
            S::F64x2Sub => Some(V::Subpd),
            S::F32x4Mul => Some(V::Mulps),
            S::F64x2Mul => Some(V::Mulpd),
            S::F32x4Div => Some(V::Divps),
            S::F64x2Div => Some(V::Divpd),
            _ => None,
        };
        if let Some(vop) = direct {
            self.vec_binary(vop, r, a, b, false);
            return true;
        }
        // `pmin(a, b)` is `b < a ? b : a`: `minps` with `b` as destination gives exactly
        // that (it returns its second operand when either is NaN or both are zero).
        let swapped = match op {
            S::F32x4Pmin => Some(V::Minps),
            S::F32x4Pmax => Some(V::Maxps),
            S::F64x2Pmin => Some(V::Minpd),
            S::F64x2Pmax => Some(V::Maxpd),
            // `andnot(a, b) = a & !b`; `pandn dst, src` is `!dst & src`.
            S::V128AndNot => Some(V::Pandn),
            _ => None,
        };
        if let Some(vop) = swapped {
            self.vec_binary(vop, r, a, b, true);
            return true;
        }
        let unary = match op {
            S::I8x16Abs => Some(V::Pabsb),
            S::I16x8Abs => Some(V::Pabsw),
            S::I32x4Abs => Some(V::Pabsd),
            S::F32x4Sqrt => Some(V::Sqrtps),
            S::F64x2Sqrt => Some(V::Sqrtpd),
            S::F32x4ConvertI32x4S => Some(V::Cvtdq2ps),
            S::F64x2ConvertLowI32x4S => Some(V::Cvtdq2pd),
            S::F32x4DemoteF64x2Zero => Some(V::Cvtpd2ps),
            S::F64x2PromoteLowF32x4 => Some(V::Cvtps2pd),
            S::I16x8ExtendLowI8x16S => Some(V::Pmovsxbw),
            S::I16x8ExtendLowI8x16U => Some(V::Pmovzxbw),
            S::I32x4ExtendLowI16x8S => Some(V::Pmovsxwd),
            S::I32x4ExtendLowI16x8U => Some(V::Pmovzxwd),
            S::I64x2ExtendLowI32x4S => Some(V::Pmovsxdq),
            S::I64x2ExtendLowI32x4U => Some(V::Pmovzxdq),
            _ => None,
        };
        if let Some(vop) = unary {
            let src = self.reg(a);
            let dst = self.def(r);
            self.emit(MInst::Vec { op: vop, dst, src });
            return true;
        }
        let high = match op {
            S::I16x8ExtendHighI8x16S => Some(V::Pmovsxbw),
            S::I16x8ExtendHighI8x16U => Some(V::Pmovzxbw),
            S::I32x4ExtendHighI16x8S => Some(V::Pmovsxwd),
            S::I32x4ExtendHighI16x8U => Some(V::Pmovzxwd),
            S::I64x2ExtendHighI32x4S => Some(V::Pmovsxdq),
            S::I64x2ExtendHighI32x4U => Some(V::Pmovzxdq),
            _ => None,
        };
        if let Some(vop) = high {
            let src = self.reg(a);
            let t = self.vreg();
            self.emit(MInst::VecImm {
                op: VecImmOp::Pshufd,
                dst: t,
                src,
                imm: 0xee,
            });
            let dst = self.def(r);
            self.emit(MInst::Vec {
                op: vop,
                dst,
                src: t,
            });
            return true;
        }
        if let Some(cmp) = int_compare(op) {
            match cmp {
                IntCompare::Direct(vop) => {
                    self.vec_binary(vop, r, a, b, false);
                }
                IntCompare::Swapped(vop) => {
                    self.vec_binary(vop, r, a, b, true);
                }
                IntCompare::Inverted(vop) => {
                    let dst = self.vec_binary(vop, r, a, b, false);
                    self.vec_not(dst);
                }
                IntCompare::MinMaxEq(mm, eq) | IntCompare::NotMinMaxEq(mm, eq) => {
                    let dst = self.vec_binary(mm, r, a, b, false);
                    let ra = self.reg(a);
                    self.emit(MInst::Vec {
                        op: eq,
                        dst,
                        src: ra,
                    });
                    if matches!(cmp, IntCompare::NotMinMaxEq(..)) {
                        self.vec_not(dst);
                    }
                }
            }
            return true;
        }
        let float_compare = match op {
            S::F32x4Eq => Some((VecImmOp::Cmpps, 0, false)),
            S::F32x4Ne => Some((VecImmOp::Cmpps, 4, false)),
            S::F32x4Lt => Some((VecImmOp::Cmpps, 1, false)),
            S::F32x4Le => Some((VecImmOp::Cmpps, 2, false)),
            S::F32x4Gt => Some((VecImmOp::Cmpps, 1, true)),
            S::F32x4Ge => Some((VecImmOp::Cmpps, 2, true)),
            S::F64x2Eq => Some((VecImmOp::Cmppd, 0, false)),
            S::F64x2Ne => Some((VecImmOp::Cmppd, 4, false)),
            S::F64x2Lt => Some((VecImmOp::Cmppd, 1, false)),
            S::F64x2Le => Some((VecImmOp::Cmppd, 2, false)),
            S::F64x2Gt => Some((VecImmOp::Cmppd, 1, true)),
            S::F64x2Ge => Some((VecImmOp::Cmppd, 2, true)),
            _ => None,
        };
        if let Some((cop, imm, swap)) = float_compare {
            let (x, y) = if swap { (b, a) } else { (a, b) };
            let dst = self.copy_of(r, x);
            let src = self.reg(y);
            self.emit(MInst::VecImm {
                op: cop,
                dst,
                src,
                imm,
            });
            return true;
        }
        let round = match op {
            S::F32x4Nearest => Some((VecImmOp::Roundps, 0)),
            S::F32x4Floor => Some((VecImmOp::Roundps, 1)),
            S::F32x4Ceil => Some((VecImmOp::Roundps, 2)),
            S::F32x4Trunc => Some((VecImmOp::Roundps, 3)),
            S::F64x2Nearest => Some((VecImmOp::Roundpd, 0)),
            S::F64x2Floor => Some((VecImmOp::Roundpd, 1)),
            S::F64x2Ceil => Some((VecImmOp::Roundpd, 2)),
            S::F64x2Trunc => Some((VecImmOp::Roundpd, 3)),
            _ => None,
        };
        if let Some((rop, mode)) = round {
            let src = self.reg(a);
            let dst = self.def(r);
            // Bit 3: no precision exception.
            self.emit(MInst::VecImm {
                op: rop,
                dst,
                src,
                imm: mode | 8,
            });
            return true;
        }
        let shift = match op {
            S::I16x8Shl => Some((V::Psllw, 15)),
            S::I16x8ShrS => Some((V::Psraw, 15)),
            S::I16x8ShrU => Some((V::Psrlw, 15)),
            S::I32x4Shl => Some((V::Pslld, 31)),
            S::I32x4ShrS => Some((V::Psrad, 31)),
            S::I32x4ShrU => Some((V::Psrld, 31)),
            S::I64x2Shl => Some((V::Psllq, 63)),
            S::I64x2ShrU => Some((V::Psrlq, 63)),
            _ => None,
        };
        if let Some((sop, mask)) = shift {
            // The count is taken modulo the lane width.
            let count = self.int_reg();
            let rb = self.reg(b);
            self.mov(count, rb);
            self.emit(MInst::Alu {
                op: Alu::And,
                size: Size::S32,
                dst: count,
                src: RegMemImm::Imm(mask),
            });
            let x = self.vreg();
            self.emit(MInst::GprToXmm {
                size: Size::S32,
                dst: x,
                src: count,
            });
            let dst = self.copy_of(r, a);
            self.emit(MInst::Vec {
                op: sop,
                dst,
                src: x,
            });
            return true;
        }
        match op {
            S::I8x16Splat | S::I16x8Splat | S::I32x4Splat | S::I64x2Splat => {
                let bytes = match op {
                    S::I8x16Splat => 1,
                    S::I16x8Splat => 2,
                    S::I32x4Splat => 4,
                    _ => 8,
                };
                let x = self.reg(a);
                let dst = self.def(r);
                self.splat_gpr(bytes, dst, x);
            }
            S::F32x4Splat | S::F64x2Splat => {
                let src = self.reg(a);
                let dst = self.def(r);
                self.emit(MInst::VecImm {
                    op: VecImmOp::Pshufd,
                    dst,
                    src,
                    imm: if op == S::F32x4Splat { 0 } else { 0x44 },
                });
            }
            S::V128Not => {
                let dst = self.copy_of(r, a);
                self.vec_not(dst);
            }
            S::V128Bitselect => {
                // (a & mask) | (b & !mask)
                let mask = self.reg(c);
                let dst = self.copy_of(r, a);
                self.emit(MInst::Vec {
                    op: V::Pand,
                    dst,
                    src: mask,
                });
                let t = self.vreg();
                self.mov(t, mask);
                let rb = self.reg(b);
                self.emit(MInst::Vec {
                    op: V::Pandn,
                    dst: t,
                    src: rb,
                });
                self.emit(MInst::Vec {
                    op: V::Por,
                    dst,
                    src: t,
                });
            }
            S::I8x16Swizzle => {
                // Indices of 16 and more select zero: saturating `+ 0x70` sets their bit 7,
                // which makes `pshufb` write zero.
                let bias = self.vconst(splat_ones(1, 0x70));
                let rb = self.reg(b);
                let idx = self.vreg();
                self.mov(idx, rb);
                self.emit(MInst::Vec {
                    op: V::Paddusb,
                    dst: idx,
                    src: bias,
                });
                let dst = self.copy_of(r, a);
                self.emit(MInst::Vec {
                    op: V::Pshufb,
                    dst,
                    src: idx,
                });
            }
            S::I8x16Neg | S::I16x8Neg | S::I32x4Neg | S::I64x2Neg => {
                let sub = match op {
                    S::I8x16Neg => V::Psubb,
                    S::I16x8Neg => V::Psubw,
                    S::I32x4Neg => V::Psubd,
                    _ => V::Psubq,
                };
                let src = self.reg(a);
                let dst = self.def(r);
                self.emit(MInst::VecFill { ones: false, dst });
                self.emit(MInst::Vec { op: sub, dst, src });
            }
            S::F32x4Abs | S::F32x4Neg | S::F64x2Abs | S::F64x2Neg => {
                let (lane_bytes, sign) = if matches!(op, S::F32x4Abs | S::F32x4Neg) {
                    (4, 1u64 << 31)
                } else {
                    (8, 1u64 << 63)
                };
                let abs = matches!(op, S::F32x4Abs | S::F64x2Abs);
                let bits = if abs {
                    splat_ones(lane_bytes, sign - 1)
                } else {
                    splat_ones(lane_bytes, sign)
                };
                let m = self.vconst(bits);
                let dst = self.copy_of(r, a);
                let vop = if abs { V::Pand } else { V::Pxor };
                self.emit(MInst::Vec {
                    op: vop,
                    dst,
                    src: m,
                });
            }
            S::V128AnyTrue => {
                let src = self.reg(a);
                self.emit(MInst::Ptest { a: src, b: src });
                let dst = self.def(r);
                self.emit(MInst::Setcc {
                    cc: CC::Int(Cond::Ne),
                    dst,
                });
            }
            S::I8x16AllTrue | S::I16x8AllTrue | S::I32x4AllTrue | S::I64x2AllTrue => {
                let eq = match op {
                    S::I8x16AllTrue => V::Pcmpeqb,
                    S::I16x8AllTrue => V::Pcmpeqw,
                    S::I32x4AllTrue => V::Pcmpeqd,
                    _ => V::Pcmpeqq,
                };
                // Lanes equal to zero become all ones: all true when none did.
                let src = self.reg(a);
                let zeros = self.vreg();
                self.emit(MInst::VecFill {
                    ones: false,
                    dst: zeros,
                });
                self.emit(MInst::Vec {
                    op: eq,
                    dst: zeros,
                    src,
                });
                self.emit(MInst::Ptest { a: zeros, b: zeros });
                let dst = self.def(r);
                self.emit(MInst::Setcc {
                    cc: CC::Int(Cond::E),
                    dst,
                });
            }
            S::I8x16Bitmask | S::I32x4Bitmask | S::I64x2Bitmask => {
                let lane_bytes = match op {
                    S::I8x16Bitmask => 1,
                    S::I32x4Bitmask => 4,
                    _ => 8,
                };
                let src = self.reg(a);
                let dst = self.def(r);
                self.emit(MInst::VecMask {
                    lane_bytes,
                    dst,
                    src,
                });
            }
            S::I16x8Bitmask => {
                // Narrowing keeps each lane's sign in a byte.
                let src = self.reg(a);
                let t = self.vreg();
                self.mov(t, src);
                self.emit(MInst::Vec {
                    op: V::Packsswb,
                    dst: t,
                    src: t,
                });
                let dst = self.def(r);
                self.emit(MInst::VecMask {
                    lane_bytes: 1,
                    dst,
                    src: t,
                });
                self.emit(MInst::Alu {
                    op: Alu::And,
                    size: Size::S32,
                    dst,
                    src: RegMemImm::Imm(0xff),
                });
            }
            _ => return false,
        }
        true
    }

    /// `op` through the runtime: the operands are stored in the outgoing area, the
    /// runtime writes the result over the first.
    fn simd_call(&mut self, d: InstData, op: SimdOp) {
        let (params, _) = op.signature();
        for k in 0..params.len() {
            let v = d.args[k];
            let ty = self.f.ty(v);
            let src = self.reg(v);
            self.store_from(ty, src, Amode::sp(16 * k as i32));
        }
        self.outgoing = self.outgoing.max(SIMD_CALL_AREA);
        let code = self.int_reg();
        self.emit(MInst::MovImm {
            size: Size::S32,
            dst: code,
            imm: u64::from(op.code()),
        });
        let area = self.int_reg();
        self.emit(MInst::Lea {
            size: Size::S64,
            dst: area,
            addr: Amode::sp(0),
        });
        self.lib_call(Libcall::Simd, &[code, area], false);
        let dst = self.def(d.result);
        self.load_to(d.ty, dst, Amode::sp(0));
    }
}

fn lane_size(width_log2: u8) -> Size {
    match width_log2 {
        0 => Size::S8,
        1 => Size::S16,
        2 => Size::S32,
        _ => Size::S64,
    }
}

/// Lane-wise integer comparisons with a short SSE sequence (the 64-bit orderings need
/// SSE4.2's `pcmpgtq`: they go through the runtime).
fn int_compare(op: SimdOp) -> Option<IntCompare> {
    use IntCompare::*;
    use SimdOp as S;
    use VecOp as V;
    Some(match op {
        S::I8x16Eq => Direct(V::Pcmpeqb),
        S::I16x8Eq => Direct(V::Pcmpeqw),
        S::I32x4Eq => Direct(V::Pcmpeqd),
        S::I64x2Eq => Direct(V::Pcmpeqq),
        S::I8x16Ne => Inverted(V::Pcmpeqb),
        S::I16x8Ne => Inverted(V::Pcmpeqw),
        S::I32x4Ne => Inverted(V::Pcmpeqd),
        S::I64x2Ne => Inverted(V::Pcmpeqq),
        S::I8x16GtS => Direct(V::Pcmpgtb),
        S::I16x8GtS => Direct(V::Pcmpgtw),
        S::I32x4GtS => Direct(V::Pcmpgtd),
        S::I8x16LtS => Swapped(V::Pcmpgtb),
        S::I16x8LtS => Swapped(V::Pcmpgtw),
        S::I32x4LtS => Swapped(V::Pcmpgtd),
        S::I8x16GeS => MinMaxEq(V::Pmaxsb, V::Pcmpeqb),
        S::I16x8GeS => MinMaxEq(V::Pmaxsw, V::Pcmpeqw),
        S::I32x4GeS => MinMaxEq(V::Pmaxsd, V::Pcmpeqd),
        S::I8x16LeS => MinMaxEq(V::Pminsb, V::Pcmpeqb),
        S::I16x8LeS => MinMaxEq(V::Pminsw, V::Pcmpeqw),
        S::I32x4LeS => MinMaxEq(V::Pminsd, V::Pcmpeqd),
        S::I8x16GeU => MinMaxEq(V::Pmaxub, V::Pcmpeqb),
        S::I16x8GeU => MinMaxEq(V::Pmaxuw, V::Pcmpeqw),
        S::I32x4GeU => MinMaxEq(V::Pmaxud, V::Pcmpeqd),
        S::I8x16LeU => MinMaxEq(V::Pminub, V::Pcmpeqb),
        S::I16x8LeU => MinMaxEq(V::Pminuw, V::Pcmpeqw),
        S::I32x4LeU => MinMaxEq(V::Pminud, V::Pcmpeqd),
        S::I8x16GtU => NotMinMaxEq(V::Pminub, V::Pcmpeqb),
        S::I16x8GtU => NotMinMaxEq(V::Pminuw, V::Pcmpeqw),
        S::I32x4GtU => NotMinMaxEq(V::Pminud, V::Pcmpeqd),
        S::I8x16LtU => NotMinMaxEq(V::Pmaxub, V::Pcmpeqb),
        S::I16x8LtU => NotMinMaxEq(V::Pmaxuw, V::Pcmpeqw),
        S::I32x4LtU => NotMinMaxEq(V::Pmaxud, V::Pcmpeqd),
        _ => return None,
    })
}
