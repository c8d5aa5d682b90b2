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

/// Bytes of the outgoing area a runtime vector call uses: three `v128` operands. (No
/// instruction needs the call today — `tests::every_vector_instruction_is_inline` — it
/// stays as the path for one added without a sequence.)
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
        if self.env.cpu.avx2 && lane_bytes <= 2 {
            let op = if lane_bytes == 1 {
                VecOp::Vpbroadcastb
            } else {
                VecOp::Vpbroadcastw
            };
            self.emit(MInst::Vec { op, dst, src: dst });
            return;
        }
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
                if lane == 0 && matches!(size, Size::S32 | Size::S64) {
                    // Lane 0 of 32 or 64 bits is a plain `movd`/`movq`.
                    self.emit(MInst::XmmToGpr { size, dst, src });
                } else {
                    self.emit(MInst::VecExtract {
                        size,
                        dst,
                        src,
                        lane,
                    });
                }
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
            if let Some(k) = self.f.const_of(b) {
                let dst = self.copy_of(r, a);
                self.vshift(sop, dst, (k & mask as u64) as u8);
                return true;
            }
            // The count is taken modulo the lane width.
            let x = self.shift_count(b, mask, 0);
            let dst = self.copy_of(r, a);
            self.vop(sop, dst, x);
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
            _ => return self.simd_sequence(d, op),
        }
        true
    }

    fn vop(&mut self, op: VecOp, dst: Reg, src: Reg) {
        self.emit(MInst::Vec { op, dst, src });
    }

    fn vimm(&mut self, op: VecImmOp, dst: Reg, src: Reg, imm: u8) {
        self.emit(MInst::VecImm { op, dst, src, imm });
    }

    fn vshift(&mut self, op: VecOp, dst: Reg, amount: u8) {
        self.emit(MInst::VecShiftImm { op, dst, amount });
    }

    /// A new vector register holding a copy of `src`.
    fn vcopy(&mut self, src: Reg) -> Reg {
        let t = self.vreg();
        self.mov(t, src);
        t
    }

    fn vzero(&mut self) -> Reg {
        let z = self.vreg();
        self.emit(MInst::VecFill {
            ones: false,
            dst: z,
        });
        z
    }

    /// A shift count (`b`, modulo `mask + 1`, plus `add`) in an SSE register.
    fn shift_count(&mut self, b: Value, mask: i32, add: i32) -> Reg {
        let count = self.int_reg();
        let rb = self.reg(b);
        self.mov(count, rb);
        self.emit(MInst::Alu {
            op: Alu::And,
            size: Size::S32,
            dst: count,
            src: RegMemImm::Imm(mask),
        });
        if add != 0 {
            self.emit(MInst::Alu {
                op: Alu::Add,
                size: Size::S32,
                dst: count,
                src: RegMemImm::Imm(add),
            });
        }
        let x = self.vreg();
        self.emit(MInst::GprToXmm {
            size: Size::S32,
            dst: x,
            src: count,
        });
        x
    }

    /// `a < b` on signed 64-bit lanes without SSE4.2's `pcmpgtq` (Hacker's Delight
    /// 2-12): the sign of `(a - b) ^ ((a ^ b) & ((a - b) ^ a))`, spread over the lane.
    fn i64x2_lt_s(&mut self, dst: Reg, a: Reg, b: Reg) {
        let diff = self.vcopy(a);
        self.vop(VecOp::Psubq, diff, b);
        let x = self.vcopy(a);
        self.vop(VecOp::Pxor, x, b);
        let y = self.vcopy(diff);
        self.vop(VecOp::Pxor, y, a);
        self.vop(VecOp::Pand, x, y);
        self.vop(VecOp::Pxor, x, diff);
        self.vshift(VecOp::Psrad, x, 31);
        self.vimm(VecImmOp::Pshufd, dst, x, 0xf5);
    }

    /// Inline sequences of several instructions; false if `op` has none.
    fn simd_sequence(&mut self, d: InstData, op: SimdOp) -> bool {
        use SimdOp as S;
        use VecImmOp as I;
        use VecOp as V;
        let [a, b, _] = d.args;
        let r = d.result;
        match op {
            S::I8x16Shl | S::I8x16ShrU => {
                // Shift 16-bit lanes, then clear the bits that crossed into a byte from
                // its neighbour: the mask is a shifted all-ones byte, spread by pshufb.
                let count = self.shift_count(b, 7, 0);
                let mask = self.vreg();
                self.emit(MInst::VecFill {
                    ones: true,
                    dst: mask,
                });
                let (shift, pick) = if op == S::I8x16Shl {
                    (V::Psllw, 0)
                } else {
                    (V::Psrlw, 1)
                };
                self.vop(shift, mask, count);
                let spread = self.vconst(splat_ones(1, pick));
                self.vop(V::Pshufb, mask, spread);
                let dst = self.copy_of(r, a);
                self.vop(shift, dst, count);
                self.vop(V::Pand, dst, mask);
            }
            S::I8x16ShrS => {
                // Each byte in the high half of a 16-bit lane, shifted arithmetically by
                // 8 more, then narrowed back.
                let count = self.shift_count(b, 7, 8);
                let ra = self.reg(a);
                let lo = self.vcopy(ra);
                self.vop(V::Punpcklbw, lo, ra);
                let hi = self.vcopy(ra);
                self.vop(V::Punpckhbw, hi, ra);
                self.vop(V::Psraw, lo, count);
                self.vop(V::Psraw, hi, count);
                let dst = self.def(r);
                self.mov(dst, lo);
                self.vop(V::Packsswb, dst, hi);
            }
            S::I64x2ShrS => {
                // Logical shift, then sign-extend from the shifted sign position:
                // (x ^ m) - m with m = the sign bit shifted alike.
                let count = self.shift_count(b, 63, 0);
                let m = self.vconst(splat_ones(8, 1 << 63));
                self.vop(V::Psrlq, m, count);
                let dst = self.copy_of(r, a);
                self.vop(V::Psrlq, dst, count);
                self.vop(V::Pxor, dst, m);
                self.vop(V::Psubq, dst, m);
            }
            S::I8x16Popcnt => {
                // Look up each nibble's count with pshufb.
                let table =
                    u128::from_le_bytes(std::array::from_fn(|i| (i as u8 & 15).count_ones() as u8));
                let nibble = self.vconst(splat_ones(1, 0x0f));
                let ra = self.reg(a);
                let lo = self.vcopy(ra);
                self.vop(V::Pand, lo, nibble);
                let hi = self.vcopy(ra);
                self.vshift(V::Psrlw, hi, 4);
                self.vop(V::Pand, hi, nibble);
                let t_lo = self.vconst(table);
                self.vop(V::Pshufb, t_lo, lo);
                let dst = self.def(r);
                self.emit(MInst::VecConst {
                    dst,
                    bits: [table as u64, (table >> 64) as u64],
                });
                self.vop(V::Pshufb, dst, hi);
                self.vop(V::Paddb, dst, t_lo);
            }
            S::I16x8Q15mulrSatS => {
                // pmulhrsw is the rounding Q15 product except 0x8000 * 0x8000, which it
                // gives as 0x8000 where saturation wants 0x7fff.
                let dst = self.vec_binary(V::Pmulhrsw, r, a, b, false);
                let min = self.vconst(splat_ones(2, 0x8000));
                self.vop(V::Pcmpeqw, min, dst);
                self.vop(V::Pxor, dst, min);
            }
            S::I16x8ExtmulLowI8x16S
            | S::I16x8ExtmulHighI8x16S
            | S::I16x8ExtmulLowI8x16U
            | S::I16x8ExtmulHighI8x16U => {
                let high = matches!(op, S::I16x8ExtmulHighI8x16S | S::I16x8ExtmulHighI8x16U);
                let signed = matches!(op, S::I16x8ExtmulLowI8x16S | S::I16x8ExtmulHighI8x16S);
                let widen = if signed { V::Pmovsxbw } else { V::Pmovzxbw };
                let x = self.widened(a, widen, high);
                let y = self.widened(b, widen, high);
                let dst = self.def(r);
                self.mov(dst, x);
                self.vop(V::Pmullw, dst, y);
            }
            S::I32x4ExtmulLowI16x8S
            | S::I32x4ExtmulHighI16x8S
            | S::I32x4ExtmulLowI16x8U
            | S::I32x4ExtmulHighI16x8U => {
                // The low and high halves of the 16-bit products, interleaved.
                let high = matches!(op, S::I32x4ExtmulHighI16x8S | S::I32x4ExtmulHighI16x8U);
                let signed = matches!(op, S::I32x4ExtmulLowI16x8S | S::I32x4ExtmulHighI16x8S);
                let (ra, rb) = (self.reg(a), self.reg(b));
                let lo = self.vcopy(ra);
                self.vop(V::Pmullw, lo, rb);
                let hi = self.vcopy(ra);
                self.vop(if signed { V::Pmulhw } else { V::Pmulhuw }, hi, rb);
                let dst = self.def(r);
                self.mov(dst, lo);
                self.vop(if high { V::Punpckhwd } else { V::Punpcklwd }, dst, hi);
            }
            S::I64x2ExtmulLowI32x4S
            | S::I64x2ExtmulHighI32x4S
            | S::I64x2ExtmulLowI32x4U
            | S::I64x2ExtmulHighI32x4U => {
                // pmuldq/pmuludq multiply 32-bit lanes 0 and 2: move the inputs there.
                let high = matches!(op, S::I64x2ExtmulHighI32x4S | S::I64x2ExtmulHighI32x4U);
                let signed = matches!(op, S::I64x2ExtmulLowI32x4S | S::I64x2ExtmulHighI32x4S);
                let pick = if high { 0xfa } else { 0x50 };
                let (ra, rb) = (self.reg(a), self.reg(b));
                let y = self.vreg();
                self.vimm(I::Pshufd, y, rb, pick);
                let dst = self.def(r);
                self.vimm(I::Pshufd, dst, ra, pick);
                self.vop(if signed { V::Pmuldq } else { V::Pmuludq }, dst, y);
            }
            S::I16x8ExtaddPairwiseI8x16S | S::I16x8ExtaddPairwiseI8x16U => {
                // pmaddubsw multiplies unsigned bytes of the destination by signed
                // bytes of the source and adds pairs: multiply by ones.
                let ones = splat_ones(1, 1);
                if op == S::I16x8ExtaddPairwiseI8x16S {
                    let ra = self.reg(a);
                    let dst = self.def(r);
                    self.emit(MInst::VecConst {
                        dst,
                        bits: [ones as u64, (ones >> 64) as u64],
                    });
                    self.vop(V::Pmaddubsw, dst, ra);
                } else {
                    let m = self.vconst(ones);
                    let dst = self.copy_of(r, a);
                    self.vop(V::Pmaddubsw, dst, m);
                }
            }
            S::I32x4ExtaddPairwiseI16x8S => {
                let m = self.vconst(splat_ones(2, 1));
                let dst = self.copy_of(r, a);
                self.vop(V::Pmaddwd, dst, m);
            }
            S::I32x4ExtaddPairwiseI16x8U => {
                // Biased to signed, added pairwise by pmaddwd, the bias taken back.
                let bias = self.vconst(splat_ones(2, 0x8000));
                let dst = self.copy_of(r, a);
                self.vop(V::Pxor, dst, bias);
                let m = self.vconst(splat_ones(2, 1));
                self.vop(V::Pmaddwd, dst, m);
                let back = self.vconst(splat_ones(4, 0x1_0000));
                self.vop(V::Paddd, dst, back);
            }
            S::I64x2Mul => {
                // lo(a) * lo(b) + ((hi(a) * lo(b) + lo(a) * hi(b)) << 32)
                let (ra, rb) = (self.reg(a), self.reg(b));
                let t1 = self.vcopy(ra);
                self.vshift(V::Psrlq, t1, 32);
                self.vop(V::Pmuludq, t1, rb);
                let t2 = self.vcopy(rb);
                self.vshift(V::Psrlq, t2, 32);
                self.vop(V::Pmuludq, t2, ra);
                self.vop(V::Paddq, t1, t2);
                self.vshift(V::Psllq, t1, 32);
                let dst = self.def(r);
                self.mov(dst, ra);
                self.vop(V::Pmuludq, dst, rb);
                self.vop(V::Paddq, dst, t1);
            }
            S::I64x2Abs => {
                // (x ^ s) - s with s the lane's sign spread over it.
                let ra = self.reg(a);
                let sign = self.vcopy(ra);
                self.vshift(V::Psrad, sign, 31);
                let s = self.vreg();
                self.vimm(I::Pshufd, s, sign, 0xf5);
                let dst = self.def(r);
                self.mov(dst, ra);
                self.vop(V::Pxor, dst, s);
                self.vop(V::Psubq, dst, s);
            }
            S::I64x2LtS | S::I64x2GtS | S::I64x2LeS | S::I64x2GeS => {
                let (ra, rb) = (self.reg(a), self.reg(b));
                // lt(a, b); gt is lt(b, a); le is !gt; ge is !lt.
                let (x, y) = if matches!(op, S::I64x2LtS | S::I64x2GeS) {
                    (ra, rb)
                } else {
                    (rb, ra)
                };
                let dst = self.def(r);
                self.i64x2_lt_s(dst, x, y);
                if matches!(op, S::I64x2LeS | S::I64x2GeS) {
                    self.vec_not(dst);
                }
            }
            S::F32x4Min | S::F32x4Max | S::F64x2Min | S::F64x2Max => {
                let double = matches!(op, S::F64x2Min | S::F64x2Max);
                let min = matches!(op, S::F32x4Min | S::F64x2Min);
                let x86 = match (min, double) {
                    (true, false) => V::Minps,
                    (true, true) => V::Minpd,
                    (false, false) => V::Maxps,
                    (false, true) => V::Maxpd,
                };
                // x86's min/max return the second operand for NaN and for two zeros:
                // both orders, combined (OR picks -0 for min, AND +0 for max); lanes
                // with a NaN take `a + b`, a NaN as the scalar code and the interpreter
                // produce.
                let (ra, rb) = (self.reg(a), self.reg(b));
                let t1 = self.vcopy(ra);
                self.vop(x86, t1, rb);
                let t2 = self.vcopy(rb);
                self.vop(x86, t2, ra);
                self.vop(if min { V::Por } else { V::Pand }, t1, t2);
                let nan = self.vcopy(ra);
                let cmp = if double { I::Cmppd } else { I::Cmpps };
                self.vimm(cmp, nan, rb, 3);
                let sum = self.vcopy(ra);
                self.vop(if double { V::Addpd } else { V::Addps }, sum, rb);
                self.vop(V::Pand, sum, nan);
                let dst = self.def(r);
                self.mov(dst, nan);
                self.vop(V::Pandn, dst, t1);
                self.vop(V::Por, dst, sum);
            }
            S::I32x4TruncSatF32x4S => {
                // NaN lanes to 0.0, then truncate; lanes at or above 2^31 came out as
                // 0x80000000 and become 0x7fffffff (negative overflow is right as is).
                let ra = self.reg(a);
                let t = self.vcopy(ra);
                self.vimm(I::Cmpps, t, ra, 0);
                self.vop(V::Pand, t, ra);
                let limit = self.vconst(splat_ones(4, u64::from(2147483648f32.to_bits())));
                let over = self.vcopy(limit);
                self.vimm(I::Cmpps, over, t, 2);
                let dst = self.def(r);
                self.vop(V::Cvttps2dq, dst, t);
                self.vop(V::Pxor, dst, over);
            }
            S::I32x4TruncSatF32x4U => {
                // Negative and NaN lanes to 0.0; below 2^31 truncate directly; from
                // 2^31 truncate x - 2^31 and add 0x80000000 (which the direct truncation
                // gave); at 2^32 and above that second truncation overflows too and is
                // made 0x7fffffff.
                let ra = self.reg(a);
                let zero = self.vzero();
                let t = self.vcopy(ra);
                self.vop(V::Maxps, t, zero);
                let limit = self.vconst(splat_ones(4, u64::from(2147483648f32.to_bits())));
                let big = self.vcopy(limit);
                self.vimm(I::Cmpps, big, t, 2);
                let t2 = self.vcopy(t);
                self.vop(V::Subps, t2, limit);
                self.vop(V::Pand, t2, big);
                let over = self.vcopy(limit);
                self.vimm(I::Cmpps, over, t2, 2);
                let r2 = self.vreg();
                self.vop(V::Cvttps2dq, r2, t2);
                self.vop(V::Pxor, r2, over);
                let dst = self.def(r);
                self.vop(V::Cvttps2dq, dst, t);
                self.vop(V::Paddd, dst, r2);
            }
            S::I32x4TruncSatF64x2SZero => {
                // NaN lanes to 0.0, clamped above at i32::MAX (exact in f64); negative
                // overflow truncates to 0x80000000 = i32::MIN. cvttpd2dq zeroes lanes 2-3.
                let ra = self.reg(a);
                let t = self.vcopy(ra);
                self.vimm(I::Cmppd, t, ra, 0);
                self.vop(V::Pand, t, ra);
                let max = self.vconst(splat_ones(8, f64::from(i32::MAX).to_bits()));
                self.vop(V::Minpd, t, max);
                let dst = self.def(r);
                self.vop(V::Cvttpd2dq, dst, t);
            }
            S::I32x4TruncSatF64x2UZero => {
                // Clamped to [0, u32::MAX] (NaN to 0), truncated, then 2^52 added: the
                // integer is the low half of each double's bits; shufps gathers them.
                let ra = self.reg(a);
                let zero = self.vzero();
                let t = self.vcopy(ra);
                self.vop(V::Maxpd, t, zero);
                let max = self.vconst(splat_ones(8, f64::from(u32::MAX).to_bits()));
                self.vop(V::Minpd, t, max);
                self.vimm(I::Roundpd, t, t, 3 | 8);
                let magic = self.vconst(splat_ones(8, 4503599627370496f64.to_bits()));
                self.vop(V::Addpd, t, magic);
                let dst = self.def(r);
                self.mov(dst, t);
                self.vimm(I::Shufps, dst, zero, 0x88);
            }
            S::F32x4ConvertI32x4U => {
                // The low 16 bits convert exactly; the high part, halved to stay
                // non-negative, converts exactly and is doubled; one rounding in the sum.
                let ra = self.reg(a);
                let low_mask = self.vconst(splat_ones(4, 0xffff));
                let lo = self.vcopy(ra);
                self.vop(V::Pand, lo, low_mask);
                let hi = self.vcopy(ra);
                self.vop(V::Psubd, hi, lo);
                self.vshift(V::Psrld, hi, 1);
                let hf = self.vreg();
                self.vop(V::Cvtdq2ps, hf, hi);
                self.vop(V::Addps, hf, hf);
                let dst = self.def(r);
                self.vop(V::Cvtdq2ps, dst, lo);
                self.vop(V::Addps, dst, hf);
            }
            S::F64x2ConvertLowI32x4U => {
                // 0x43300000_xxxxxxxx is the double 2^52 + x: subtract 2^52.
                let hi = self.vconst(splat_ones(4, 0x4330_0000));
                let dst = self.copy_of(r, a);
                self.vop(V::Punpckldq, dst, hi);
                let magic = self.vconst(splat_ones(8, 4503599627370496f64.to_bits()));
                self.vop(V::Subpd, dst, magic);
            }
            _ => return false,
        }
        true
    }

    /// `v` (its high half if `high`) with each lane widened by `widen` (pmovsx/zx).
    fn widened(&mut self, v: Value, widen: VecOp, high: bool) -> Reg {
        let src = self.reg(v);
        let src = if high {
            let t = self.vreg();
            self.vimm(VecImmOp::Pshufd, t, src, 0xee);
            t
        } else {
            src
        };
        let w = self.vreg();
        self.vop(widen, w, src);
        w
    }

    /// `op` through the runtime: the operands are stored in the outgoing area, the
    /// runtime writes the result over the first.
    fn simd_call(&mut self, d: InstData, op: SimdOp) {
        #[cfg(test)]
        tests::RUNTIME_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

#[cfg(test)]
pub(super) mod tests {
    use crate::decode::ops::SimdOp;
    use crate::types::ValType;
    use crate::{Config, Engine, Module, Strategy};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Vector instructions lowered to a runtime call (by any test of this binary).
    pub(crate) static RUNTIME_CALLS: AtomicUsize = AtomicUsize::new(0);

    fn val_type(t: ValType) -> u8 {
        match t {
            ValType::I32 => 0x7f,
            ValType::I64 => 0x7e,
            ValType::F32 => 0x7d,
            ValType::F64 => 0x7c,
            ValType::V128 => 0x7b,
            other => panic!("no SIMD operand is {other:?}"),
        }
    }

    /// A module whose one function applies `op` to its parameters.
    fn module_for(op: SimdOp) -> Vec<u8> {
        let (params, results) = op.signature();
        let mut ty = vec![0x60, params.len() as u8];
        ty.extend(params.iter().map(|&t| val_type(t)));
        ty.push(results.len() as u8);
        ty.extend(results.iter().map(|&t| val_type(t)));
        let mut body = vec![0];
        for k in 0..params.len() {
            body.extend([0x20, k as u8]);
        }
        body.push(0xfd);
        let mut code = op.code();
        loop {
            let byte = (code & 0x7f) as u8;
            code >>= 7;
            if code == 0 {
                body.push(byte);
                break;
            }
            body.push(byte | 0x80);
        }
        body.push(0x0b);
        let section = |id: u8, mut content: Vec<u8>| {
            let mut s = vec![id, content.len() as u8];
            s.append(&mut content);
            s
        };
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let mut types = vec![1];
        types.extend(ty);
        wasm.extend(section(1, types));
        wasm.extend(section(3, vec![1, 0]));
        let mut bodies = vec![1, body.len() as u8];
        bodies.extend(body);
        wasm.extend(section(10, bodies));
        wasm
    }

    #[test]
    fn every_vector_instruction_is_inline() {
        if !std::arch::is_x86_feature_detected!("sse4.1") {
            println!("skipped: vectors are compiled only with SSE4.1");
            return;
        }
        let engine = Engine::new(Config::default().strategy(Strategy::Compiler));
        let mut ops = 0;
        for code in 0..0x100 {
            let Some(op) = SimdOp::from_code(code) else {
                continue;
            };
            ops += 1;
            let before = RUNTIME_CALLS.load(Ordering::Relaxed);
            let module = Module::new(&engine, module_for(op));
            assert!(module.is_ok(), "{op:?}: {:?}", module.err());
            assert_eq!(
                RUNTIME_CALLS.load(Ordering::Relaxed),
                before,
                "{op:?} is lowered to a runtime call"
            );
        }
        // The fixed-width instructions without immediates (236 less loads, stores,
        // constants, shuffles and lane accesses).
        assert_eq!(ops, 198);
    }
}
