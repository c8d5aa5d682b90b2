//! The x86-64 encoder: machine code bytes for the instructions the compiler emits, with
//! labels and jump fixups. Encodings follow the Intel SDM, volume 2 (legacy prefix, REX,
//! opcode, ModRM, SIB, displacement, immediate); `emit_tests.rs` checks each form
//! against an independent disassembler.

#![forbid(unsafe_code)]

/// A general-purpose register, by hardware number (rax = 0 … r15 = 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Gpr(pub u8);

/// An SSE register, by number (xmm0 … xmm15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Xmm(pub u8);

pub(crate) const RAX: Gpr = Gpr(0);
pub(crate) const RCX: Gpr = Gpr(1);
pub(crate) const RDX: Gpr = Gpr(2);
pub(crate) const RBX: Gpr = Gpr(3);
pub(crate) const RSP: Gpr = Gpr(4);
pub(crate) const RBP: Gpr = Gpr(5);
pub(crate) const RSI: Gpr = Gpr(6);
pub(crate) const RDI: Gpr = Gpr(7);
pub(crate) const R8: Gpr = Gpr(8);
pub(crate) const R9: Gpr = Gpr(9);
pub(crate) const R10: Gpr = Gpr(10);
pub(crate) const R11: Gpr = Gpr(11);
pub(crate) const R12: Gpr = Gpr(12);
pub(crate) const R13: Gpr = Gpr(13);
pub(crate) const R14: Gpr = Gpr(14);
pub(crate) const R15: Gpr = Gpr(15);

/// Operand size of an integer instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Size {
    S8,
    S16,
    S32,
    S64,
}

/// A memory operand: `[base + index * scale + disp]`, or `[rip + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Mem {
    pub base: Option<Gpr>,
    /// Index register and log2 of the scale.
    pub index: Option<(Gpr, u8)>,
    pub disp: i32,
}

impl Mem {
    pub(crate) fn base(base: Gpr, disp: i32) -> Mem {
        Mem {
            base: Some(base),
            index: None,
            disp,
        }
    }

    pub(crate) fn base_index(base: Gpr, index: Gpr, scale_log2: u8, disp: i32) -> Mem {
        Mem {
            base: Some(base),
            index: Some((index, scale_log2)),
            disp,
        }
    }
}

/// Condition codes, by their encoding in `Jcc`/`SETcc`/`CMOVcc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum Cond {
    O = 0,
    No = 1,
    B = 2,
    Ae = 3,
    E = 4,
    Ne = 5,
    Be = 6,
    A = 7,
    S = 8,
    Ns = 9,
    P = 10,
    Np = 11,
    L = 12,
    Ge = 13,
    Le = 14,
    G = 15,
}

impl Cond {
    pub(crate) fn invert(self) -> Cond {
        COND_BY_CODE[(self as u8 ^ 1) as usize]
    }
}

const COND_BY_CODE: [Cond; 16] = [
    Cond::O,
    Cond::No,
    Cond::B,
    Cond::Ae,
    Cond::E,
    Cond::Ne,
    Cond::Be,
    Cond::A,
    Cond::S,
    Cond::Ns,
    Cond::P,
    Cond::Np,
    Cond::L,
    Cond::Ge,
    Cond::Le,
    Cond::G,
];

/// Two-operand integer ALU operations with their `/digit` (immediate forms) and the
/// opcode of the `r/m, r` form (the `r, r/m` form is that + 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Alu {
    Add,
    Or,
    And,
    Sub,
    Xor,
    Cmp,
}

impl Alu {
    fn digit(self) -> u8 {
        match self {
            Alu::Add => 0,
            Alu::Or => 1,
            Alu::And => 4,
            Alu::Sub => 5,
            Alu::Xor => 6,
            Alu::Cmp => 7,
        }
    }

    fn rm_r(self) -> u8 {
        self.digit() * 8 + 1
    }
}

/// Shifts and rotates, by `/digit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// Scalar SSE arithmetic, by opcode (with the `F3`/`F2` prefix choosing single/double).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SseOp {
    Sqrt = 0x51,
    Add = 0x58,
    Mul = 0x59,
    Sub = 0x5c,
    Min = 0x5d,
    Div = 0x5e,
    Max = 0x5f,
}

/// Packed bitwise SSE operations, by opcode (`66` prefix for the double forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SseBit {
    And = 0x54,
    Or = 0x56,
    Xor = 0x57,
}

/// A position in the code that jumps can target before it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Label(pub u32);

/// Where a register-or-memory operand is.
#[derive(Clone, Copy, Debug)]
enum Rm {
    Reg(u8),
    Mem(Mem),
}

/// The machine code of one function (or stub) being assembled.
#[derive(Default)]
pub(crate) struct Asm {
    pub buf: Vec<u8>,
    labels: Vec<Option<u32>>,
    /// (position of a rel32 field, label): patched by `finish`.
    fixups: Vec<(u32, Label)>,
}

impl Asm {
    pub(crate) fn new() -> Asm {
        Asm::default()
    }

    pub(crate) fn pos(&self) -> u32 {
        self.buf.len() as u32
    }

    pub(crate) fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    pub(crate) fn bind(&mut self, l: Label) {
        debug_assert!(self.labels[l.0 as usize].is_none(), "label bound twice");
        self.labels[l.0 as usize] = Some(self.pos());
    }

    /// Resolves every jump to a label. Panics on an unbound label (a compiler bug).
    pub(crate) fn finish(&mut self) {
        for &(at, l) in &self.fixups {
            let target = self.labels[l.0 as usize].expect("jump to an unbound label");
            let rel = target as i64 - (at as i64 + 4);
            self.buf[at as usize..at as usize + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        self.fixups.clear();
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    fn i32(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Legacy prefix, REX, opcode, ModRM/SIB/displacement for `reg` and `rm`.
    /// `byte_regs` forces a REX prefix so registers 4–7 mean spl…dil, not ah…bh.
    fn op(&mut self, prefix: Option<u8>, w: bool, opcode: &[u8], reg: u8, rm: Rm, byte_regs: bool) {
        if let Some(p) = prefix {
            self.byte(p);
        }
        let r = reg >> 3 & 1;
        let (x, b) = match rm {
            Rm::Reg(n) => (0, n >> 3 & 1),
            Rm::Mem(m) => (
                m.index.map_or(0, |(i, _)| i.0 >> 3 & 1),
                m.base.map_or(0, |b| b.0 >> 3 & 1),
            ),
        };
        let need_byte_rex = byte_regs
            && ((reg & 0xf) >= 4 && (reg & 0xf) < 8
                || matches!(rm, Rm::Reg(n) if (4..8).contains(&n)));
        let rex = 0x40 | (u8::from(w) << 3) | (r << 2) | (x << 1) | b;
        if rex != 0x40 || need_byte_rex {
            self.byte(rex);
        }
        self.bytes(opcode);
        self.modrm(reg & 7, rm);
    }

    fn modrm(&mut self, reg: u8, rm: Rm) {
        match rm {
            Rm::Reg(n) => self.byte(0xc0 | (reg << 3) | (n & 7)),
            Rm::Mem(m) => {
                let disp = m.disp;
                match (m.base, m.index) {
                    (None, None) => {
                        // [disp32] without RIP: SIB with no base and no index.
                        self.byte((reg << 3) | 4);
                        self.byte(0x25);
                        self.i32(disp);
                    }
                    (None, Some((i, s))) => {
                        self.byte((reg << 3) | 4);
                        self.byte((s << 6) | ((i.0 & 7) << 3) | 5);
                        self.i32(disp);
                    }
                    (Some(b), index) => {
                        let (mode, disp_len) = if disp == 0 && b.0 & 7 != 5 {
                            (0u8, 0)
                        } else if (-128..128).contains(&disp) {
                            (1, 1)
                        } else {
                            (2, 4)
                        };
                        match index {
                            None if b.0 & 7 != 4 => self.byte((mode << 6) | (reg << 3) | (b.0 & 7)),
                            None => {
                                self.byte((mode << 6) | (reg << 3) | 4);
                                self.byte(0x24);
                            }
                            Some((i, s)) => {
                                debug_assert_ne!(i, RSP, "rsp cannot be an index");
                                self.byte((mode << 6) | (reg << 3) | 4);
                                self.byte((s << 6) | ((i.0 & 7) << 3) | (b.0 & 7));
                            }
                        }
                        match disp_len {
                            0 => {}
                            1 => self.byte(disp as i8 as u8),
                            _ => self.i32(disp),
                        }
                    }
                }
            }
        }
    }

    fn w(size: Size) -> bool {
        size == Size::S64
    }

    /// `66` for 16-bit operations.
    fn size_prefix(size: Size) -> Option<u8> {
        (size == Size::S16).then_some(0x66)
    }

    // ---- integer ----

    /// `op dst, src` on registers.
    pub(crate) fn alu_rr(&mut self, op: Alu, size: Size, dst: Gpr, src: Gpr) {
        let opc = if size == Size::S8 {
            op.rm_r() - 1
        } else {
            op.rm_r()
        };
        self.op(
            Self::size_prefix(size),
            Self::w(size),
            &[opc],
            src.0,
            Rm::Reg(dst.0),
            size == Size::S8,
        );
    }

    /// `op dst, [mem]`.
    pub(crate) fn alu_rm(&mut self, op: Alu, size: Size, dst: Gpr, mem: Mem) {
        let opc = op.rm_r() + 2 - u8::from(size == Size::S8);
        self.op(
            Self::size_prefix(size),
            Self::w(size),
            &[opc],
            dst.0,
            Rm::Mem(mem),
            size == Size::S8,
        );
    }

    fn alu_imm(&mut self, op: Alu, size: Size, rm: Rm, imm: i32) {
        if size == Size::S8 {
            self.op(None, false, &[0x80], op.digit(), rm, true);
            self.byte(imm as u8);
        } else if (-128..128).contains(&imm) {
            self.op(
                Self::size_prefix(size),
                Self::w(size),
                &[0x83],
                op.digit(),
                rm,
                false,
            );
            self.byte(imm as i8 as u8);
        } else {
            self.op(
                Self::size_prefix(size),
                Self::w(size),
                &[0x81],
                op.digit(),
                rm,
                false,
            );
            if size == Size::S16 {
                self.bytes(&(imm as i16).to_le_bytes());
            } else {
                self.i32(imm);
            }
        }
    }

    /// `op dst, imm` (the immediate is sign-extended for 64-bit operations).
    pub(crate) fn alu_ri(&mut self, op: Alu, size: Size, dst: Gpr, imm: i32) {
        self.alu_imm(op, size, Rm::Reg(dst.0), imm);
    }

    /// `cmp dst32, imm32` with the immediate always 4 bytes wide, for a field patched
    /// after emission; returns the immediate's offset.
    pub(crate) fn cmp_ri32_field(&mut self, dst: Gpr) -> u32 {
        self.op(
            None,
            false,
            &[0x81],
            Alu::Cmp.digit(),
            Rm::Reg(dst.0),
            false,
        );
        let at = self.pos();
        self.u32(0);
        at
    }

    /// `op [mem], imm`.
    pub(crate) fn alu_mi(&mut self, op: Alu, size: Size, mem: Mem, imm: i32) {
        self.alu_imm(op, size, Rm::Mem(mem), imm);
    }

    /// `test a, b`.
    pub(crate) fn test_rr(&mut self, size: Size, a: Gpr, b: Gpr) {
        let opc = if size == Size::S8 { 0x84 } else { 0x85 };
        self.op(
            Self::size_prefix(size),
            Self::w(size),
            &[opc],
            b.0,
            Rm::Reg(a.0),
            size == Size::S8,
        );
    }

    /// `test a, imm` (the byte form when the immediate fits in the low byte register).
    pub(crate) fn test_ri(&mut self, size: Size, a: Gpr, imm: i32) {
        if (0..256).contains(&imm) && size != Size::S16 {
            self.op(None, false, &[0xf6], 0, Rm::Reg(a.0), true);
            self.byte(imm as u8);
        } else if size == Size::S16 {
            self.op(Some(0x66), false, &[0xf7], 0, Rm::Reg(a.0), false);
            self.bytes(&(imm as u16).to_le_bytes());
        } else {
            self.op(
                Self::size_prefix(size),
                Self::w(size),
                &[0xf7],
                0,
                Rm::Reg(a.0),
                false,
            );
            self.i32(imm);
        }
    }

    /// `test [mem], imm` on `size` bytes (16-bit takes a 16-bit immediate).
    pub(crate) fn test_mi(&mut self, size: Size, mem: Mem, imm: i32) {
        match size {
            Size::S8 => {
                self.op(None, false, &[0xf6], 0, Rm::Mem(mem), false);
                self.byte(imm as u8);
            }
            Size::S16 => {
                self.op(Some(0x66), false, &[0xf7], 0, Rm::Mem(mem), false);
                self.bytes(&(imm as u16).to_le_bytes());
            }
            _ => {
                self.op(None, Self::w(size), &[0xf7], 0, Rm::Mem(mem), false);
                self.i32(imm);
            }
        }
    }

    /// `mov dst, src` (32-bit zero-extends into the upper half).
    pub(crate) fn mov_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        let size = if size == Size::S64 {
            Size::S64
        } else {
            Size::S32
        };
        self.op(None, Self::w(size), &[0x89], src.0, Rm::Reg(dst.0), false);
    }

    /// `mov dst, imm`, in the shortest form that gives the 64-bit register the value
    /// `imm` (for 32-bit operations, `imm`'s low half zero-extended).
    pub(crate) fn mov_ri(&mut self, size: Size, dst: Gpr, imm: u64) {
        let imm = if size == Size::S64 {
            imm
        } else {
            imm & 0xffff_ffff
        };
        if imm <= u64::from(u32::MAX) {
            if dst.0 >= 8 {
                self.byte(0x41);
            }
            self.byte(0xb8 + (dst.0 & 7));
            self.u32(imm as u32);
        } else if imm as i64 >= i64::from(i32::MIN) && imm as i64 <= i64::from(i32::MAX) {
            self.op(None, true, &[0xc7], 0, Rm::Reg(dst.0), false);
            self.i32(imm as i32);
        } else {
            self.byte(0x48 | (dst.0 >> 3 & 1));
            self.byte(0xb8 + (dst.0 & 7));
            self.bytes(&imm.to_le_bytes());
        }
    }

    /// `mov dst, [mem]` (8/16-bit sizes are zero-extending `movzx` to 32 bits).
    pub(crate) fn load(&mut self, size: Size, dst: Gpr, mem: Mem) {
        match size {
            Size::S8 => self.op(None, false, &[0x0f, 0xb6], dst.0, Rm::Mem(mem), false),
            Size::S16 => self.op(None, false, &[0x0f, 0xb7], dst.0, Rm::Mem(mem), false),
            Size::S32 => self.op(None, false, &[0x8b], dst.0, Rm::Mem(mem), false),
            Size::S64 => self.op(None, true, &[0x8b], dst.0, Rm::Mem(mem), false),
        }
    }

    /// Sign-extending load: `movsx`/`movsxd dst, [mem]` from `from` bytes to `to`.
    pub(crate) fn load_sx(&mut self, from: Size, to: Size, dst: Gpr, mem: Mem) {
        let w = to == Size::S64;
        match from {
            Size::S8 => self.op(None, w, &[0x0f, 0xbe], dst.0, Rm::Mem(mem), false),
            Size::S16 => self.op(None, w, &[0x0f, 0xbf], dst.0, Rm::Mem(mem), false),
            Size::S32 => self.op(None, true, &[0x63], dst.0, Rm::Mem(mem), false),
            Size::S64 => self.load(Size::S64, dst, mem),
        }
    }

    /// `mov [mem], src` of `size` bytes.
    pub(crate) fn store(&mut self, size: Size, mem: Mem, src: Gpr) {
        match size {
            Size::S8 => self.op(None, false, &[0x88], src.0, Rm::Mem(mem), true),
            Size::S16 => self.op(Some(0x66), false, &[0x89], src.0, Rm::Mem(mem), false),
            Size::S32 => self.op(None, false, &[0x89], src.0, Rm::Mem(mem), false),
            Size::S64 => self.op(None, true, &[0x89], src.0, Rm::Mem(mem), false),
        }
    }

    /// `mov [mem], imm` of `size` bytes (sign-extended for 64-bit).
    pub(crate) fn store_imm(&mut self, size: Size, mem: Mem, imm: i32) {
        match size {
            Size::S8 => {
                self.op(None, false, &[0xc6], 0, Rm::Mem(mem), false);
                self.byte(imm as u8);
            }
            Size::S16 => {
                self.op(Some(0x66), false, &[0xc7], 0, Rm::Mem(mem), false);
                self.bytes(&(imm as i16).to_le_bytes());
            }
            Size::S32 | Size::S64 => {
                self.op(None, size == Size::S64, &[0xc7], 0, Rm::Mem(mem), false);
                self.i32(imm);
            }
        }
    }

    /// Register-to-register extension: `movzx`/`movsx`/`movsxd` from `from` to `to`.
    pub(crate) fn extend(&mut self, signed: bool, from: Size, to: Size, dst: Gpr, src: Gpr) {
        let w = to == Size::S64;
        match (signed, from) {
            (false, Size::S8) => self.op(None, false, &[0x0f, 0xb6], dst.0, Rm::Reg(src.0), true),
            (false, Size::S16) => self.op(None, false, &[0x0f, 0xb7], dst.0, Rm::Reg(src.0), false),
            (false, _) => self.mov_rr(Size::S32, dst, src),
            (true, Size::S8) => self.op(None, w, &[0x0f, 0xbe], dst.0, Rm::Reg(src.0), true),
            (true, Size::S16) => self.op(None, w, &[0x0f, 0xbf], dst.0, Rm::Reg(src.0), false),
            (true, _) => self.op(None, true, &[0x63], dst.0, Rm::Reg(src.0), false),
        }
    }

    /// `lea dst, [mem]`.
    pub(crate) fn lea(&mut self, size: Size, dst: Gpr, mem: Mem) {
        self.op(None, Self::w(size), &[0x8d], dst.0, Rm::Mem(mem), false);
    }

    /// `imul dst, src`.
    pub(crate) fn imul_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(
            None,
            Self::w(size),
            &[0x0f, 0xaf],
            dst.0,
            Rm::Reg(src.0),
            false,
        );
    }

    /// `imul dst, src, imm`.
    pub(crate) fn imul_rri(&mut self, size: Size, dst: Gpr, src: Gpr, imm: i32) {
        if (-128..128).contains(&imm) {
            self.op(None, Self::w(size), &[0x6b], dst.0, Rm::Reg(src.0), false);
            self.byte(imm as i8 as u8);
        } else {
            self.op(None, Self::w(size), &[0x69], dst.0, Rm::Reg(src.0), false);
            self.i32(imm);
        }
    }

    /// `div`/`idiv src` (rdx:rax / src → rax, remainder rdx).
    pub(crate) fn div(&mut self, signed: bool, size: Size, src: Gpr) {
        self.op(
            None,
            Self::w(size),
            &[0xf7],
            if signed { 7 } else { 6 },
            Rm::Reg(src.0),
            false,
        );
    }

    /// `cdq`/`cqo`: sign-extend rax into rdx.
    pub(crate) fn sign_extend_rax(&mut self, size: Size) {
        if size == Size::S64 {
            self.byte(0x48);
        }
        self.byte(0x99);
    }

    /// `neg dst`.
    pub(crate) fn neg(&mut self, size: Size, dst: Gpr) {
        self.op(None, Self::w(size), &[0xf7], 3, Rm::Reg(dst.0), false);
    }

    /// `not dst`.
    pub(crate) fn not(&mut self, size: Size, dst: Gpr) {
        self.op(None, Self::w(size), &[0xf7], 2, Rm::Reg(dst.0), false);
    }

    /// Shift or rotate `dst` by `cl`.
    pub(crate) fn shift_cl(&mut self, op: Shift, size: Size, dst: Gpr) {
        self.op(
            None,
            Self::w(size),
            &[0xd3],
            op as u8,
            Rm::Reg(dst.0),
            false,
        );
    }

    /// Shift or rotate `dst` by an immediate.
    pub(crate) fn shift_ri(&mut self, op: Shift, size: Size, dst: Gpr, amount: u8) {
        self.op(
            None,
            Self::w(size),
            &[0xc1],
            op as u8,
            Rm::Reg(dst.0),
            false,
        );
        self.byte(amount);
    }

    /// `setcc dst8`.
    pub(crate) fn setcc(&mut self, cond: Cond, dst: Gpr) {
        self.op(
            None,
            false,
            &[0x0f, 0x90 + cond as u8],
            0,
            Rm::Reg(dst.0),
            true,
        );
    }

    /// `cmovcc dst, src`.
    pub(crate) fn cmov(&mut self, cond: Cond, size: Size, dst: Gpr, src: Gpr) {
        self.op(
            None,
            Self::w(size),
            &[0x0f, 0x40 + cond as u8],
            dst.0,
            Rm::Reg(src.0),
            false,
        );
    }

    /// `lzcnt`, `tzcnt` (`F3 0F BD`/`BC`), `popcnt` (`F3 0F B8`), `bsr`, `bsf`.
    pub(crate) fn bit_count(&mut self, op: BitOp, size: Size, dst: Gpr, src: Gpr) {
        let (prefix, opc) = match op {
            BitOp::Lzcnt => (Some(0xf3), 0xbd),
            BitOp::Tzcnt => (Some(0xf3), 0xbc),
            BitOp::Popcnt => (Some(0xf3), 0xb8),
            BitOp::Bsr => (None, 0xbd),
            BitOp::Bsf => (None, 0xbc),
        };
        self.op(
            prefix,
            Self::w(size),
            &[0x0f, opc],
            dst.0,
            Rm::Reg(src.0),
            false,
        );
    }

    pub(crate) fn push(&mut self, r: Gpr) {
        if r.0 >= 8 {
            self.byte(0x41);
        }
        self.byte(0x50 + (r.0 & 7));
    }

    pub(crate) fn pop(&mut self, r: Gpr) {
        if r.0 >= 8 {
            self.byte(0x41);
        }
        self.byte(0x58 + (r.0 & 7));
    }

    /// `push qword [mem]`.
    pub(crate) fn push_m(&mut self, mem: Mem) {
        self.op(None, false, &[0xff], 6, Rm::Mem(mem), false);
    }

    /// `pop qword [mem]`.
    pub(crate) fn pop_m(&mut self, mem: Mem) {
        self.op(None, false, &[0x8f], 0, Rm::Mem(mem), false);
    }

    pub(crate) fn ret(&mut self, pop_bytes: u16) {
        if pop_bytes == 0 {
            self.byte(0xc3);
        } else {
            self.byte(0xc2);
            self.bytes(&pop_bytes.to_le_bytes());
        }
    }

    pub(crate) fn ud2(&mut self) {
        self.bytes(&[0x0f, 0x0b]);
    }

    pub(crate) fn int3(&mut self) {
        self.byte(0xcc);
    }

    // ---- control flow ----

    /// `jmp label` (rel32).
    pub(crate) fn jmp(&mut self, l: Label) {
        self.byte(0xe9);
        self.fixups.push((self.pos(), l));
        self.u32(0);
    }

    /// `jcc label` (rel32).
    pub(crate) fn jcc(&mut self, cond: Cond, l: Label) {
        self.bytes(&[0x0f, 0x80 + cond as u8]);
        self.fixups.push((self.pos(), l));
        self.u32(0);
    }

    /// `call rel32` with the displacement left for the caller to patch; returns the
    /// position of the rel32 field.
    pub(crate) fn call_rel32(&mut self) -> u32 {
        self.byte(0xe8);
        let at = self.pos();
        self.u32(0);
        at
    }

    /// `call reg`.
    pub(crate) fn call_r(&mut self, r: Gpr) {
        self.op(None, false, &[0xff], 2, Rm::Reg(r.0), false);
    }

    /// `call qword [mem]`.
    pub(crate) fn call_m(&mut self, mem: Mem) {
        self.op(None, false, &[0xff], 2, Rm::Mem(mem), false);
    }

    /// `jmp reg`.
    pub(crate) fn jmp_r(&mut self, r: Gpr) {
        self.op(None, false, &[0xff], 4, Rm::Reg(r.0), false);
    }

    /// `lea dst, [rip + label]`.
    pub(crate) fn lea_label(&mut self, dst: Gpr, l: Label) {
        self.byte(0x48 | (dst.0 >> 3 & 1) << 2);
        self.byte(0x8d);
        self.byte(((dst.0 & 7) << 3) | 5);
        self.fixups.push((self.pos(), l));
        self.u32(0);
    }

    /// A 32-bit entry of a jump table: `label - table`, patched by `finish_table`.
    pub(crate) fn table_entry(&mut self) -> u32 {
        let at = self.pos();
        self.u32(0);
        at
    }

    /// Writes `label - base` into the 32-bit field at `at` (labels must be bound).
    pub(crate) fn patch_table_entry(&mut self, at: u32, base: u32, l: Label) {
        let target = self.labels[l.0 as usize].expect("bound table target");
        let rel = target as i64 - base as i64;
        self.buf[at as usize..at as usize + 4].copy_from_slice(&(rel as i32).to_le_bytes());
    }

    /// `movsxd dst, dword [mem]`.
    pub(crate) fn movsxd_load(&mut self, dst: Gpr, mem: Mem) {
        self.op(None, true, &[0x63], dst.0, Rm::Mem(mem), false);
    }

    // ---- SSE ----

    fn sse(&mut self, prefix: Option<u8>, w: bool, opc: &[u8], reg: u8, rm: Rm) {
        self.op(prefix, w, opc, reg, rm, false);
    }

    fn scalar_prefix(double: bool) -> u8 {
        if double { 0xf2 } else { 0xf3 }
    }

    /// `addss`/`addsd` and friends: `dst = dst op src`.
    pub(crate) fn sse_op(&mut self, op: SseOp, double: bool, dst: Xmm, src: Xmm) {
        self.sse(
            Some(Self::scalar_prefix(double)),
            false,
            &[0x0f, op as u8],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// Packed bitwise op (`andps`/`andpd`, ...).
    pub(crate) fn sse_bit(&mut self, op: SseBit, double: bool, dst: Xmm, src: Xmm) {
        self.sse(
            double.then_some(0x66),
            false,
            &[0x0f, op as u8],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// `movaps dst, src`.
    pub(crate) fn movaps(&mut self, dst: Xmm, src: Xmm) {
        self.sse(None, false, &[0x0f, 0x28], dst.0, Rm::Reg(src.0));
    }

    /// `movss`/`movsd dst, [mem]`.
    pub(crate) fn sse_load(&mut self, double: bool, dst: Xmm, mem: Mem) {
        self.sse(
            Some(Self::scalar_prefix(double)),
            false,
            &[0x0f, 0x10],
            dst.0,
            Rm::Mem(mem),
        );
    }

    /// `movss`/`movsd [mem], src`.
    pub(crate) fn sse_store(&mut self, double: bool, mem: Mem, src: Xmm) {
        self.sse(
            Some(Self::scalar_prefix(double)),
            false,
            &[0x0f, 0x11],
            src.0,
            Rm::Mem(mem),
        );
    }

    /// `movdqu dst, [mem]` (16 bytes).
    pub(crate) fn movdqu_load(&mut self, dst: Xmm, mem: Mem) {
        self.sse(Some(0xf3), false, &[0x0f, 0x6f], dst.0, Rm::Mem(mem));
    }

    /// `movdqu [mem], src` (16 bytes).
    pub(crate) fn movdqu_store(&mut self, mem: Mem, src: Xmm) {
        self.sse(Some(0xf3), false, &[0x0f, 0x7f], src.0, Rm::Mem(mem));
    }

    /// `ucomiss`/`ucomisd a, b`.
    pub(crate) fn ucomi(&mut self, double: bool, a: Xmm, b: Xmm) {
        self.sse(
            double.then_some(0x66),
            false,
            &[0x0f, 0x2e],
            a.0,
            Rm::Reg(b.0),
        );
    }

    /// `movd`/`movq xmm, gpr`.
    pub(crate) fn gpr_to_xmm(&mut self, size: Size, dst: Xmm, src: Gpr) {
        self.sse(
            Some(0x66),
            size == Size::S64,
            &[0x0f, 0x6e],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// `movd`/`movq gpr, xmm`.
    pub(crate) fn xmm_to_gpr(&mut self, size: Size, dst: Gpr, src: Xmm) {
        self.sse(
            Some(0x66),
            size == Size::S64,
            &[0x0f, 0x7e],
            src.0,
            Rm::Reg(dst.0),
        );
    }

    /// `cvtsi2ss`/`cvtsi2sd dst, src` (`src_size` 32 or 64 bits, signed).
    pub(crate) fn cvt_int_to_float(&mut self, double: bool, src_size: Size, dst: Xmm, src: Gpr) {
        self.sse(
            Some(Self::scalar_prefix(double)),
            src_size == Size::S64,
            &[0x0f, 0x2a],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// `cvttss2si`/`cvttsd2si dst, src` (truncating, `dst_size` 32 or 64 bits).
    pub(crate) fn cvt_float_to_int(&mut self, double: bool, dst_size: Size, dst: Gpr, src: Xmm) {
        self.sse(
            Some(Self::scalar_prefix(double)),
            dst_size == Size::S64,
            &[0x0f, 0x2c],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// `cvtss2sd` (`to_double`) or `cvtsd2ss`.
    pub(crate) fn cvt_float(&mut self, to_double: bool, dst: Xmm, src: Xmm) {
        self.sse(
            Some(Self::scalar_prefix(!to_double)),
            false,
            &[0x0f, 0x5a],
            dst.0,
            Rm::Reg(src.0),
        );
    }

    /// `roundss`/`roundsd dst, src, mode` (SSE4.1; mode 0 nearest, 1 down, 2 up, 3
    /// toward zero; bit 3 suppresses the precision exception).
    pub(crate) fn round(&mut self, double: bool, dst: Xmm, src: Xmm, mode: u8) {
        self.sse(
            Some(0x66),
            false,
            &[0x0f, 0x3a, if double { 0x0b } else { 0x0a }],
            dst.0,
            Rm::Reg(src.0),
        );
        self.byte(mode | 8);
    }
}

/// Packed SSE2–SSE4.1 instructions on whole XMM registers, `dst op= src` or
/// `dst = op(src)` (see [`VecOp::reads_dst`]); encodings from the Intel SDM, volume 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum VecOp {
    Paddb,
    Paddw,
    Paddd,
    Paddq,
    Psubb,
    Psubw,
    Psubd,
    Psubq,
    Paddsb,
    Paddsw,
    Paddusb,
    Paddusw,
    Psubsb,
    Psubsw,
    Psubusb,
    Psubusw,
    Pmullw,
    Pmulld,
    Pmaddwd,
    Pminsb,
    Pminsw,
    Pminsd,
    Pminub,
    Pminuw,
    Pminud,
    Pmaxsb,
    Pmaxsw,
    Pmaxsd,
    Pmaxub,
    Pmaxuw,
    Pmaxud,
    Pavgb,
    Pavgw,
    Pand,
    Pandn,
    Por,
    Pxor,
    Pcmpeqb,
    Pcmpeqw,
    Pcmpeqd,
    Pcmpeqq,
    Pcmpgtb,
    Pcmpgtw,
    Pcmpgtd,
    Packsswb,
    Packuswb,
    Packssdw,
    Packusdw,
    Punpcklqdq,
    Punpcklbw,
    Punpckhbw,
    Punpcklwd,
    Punpckhwd,
    Punpckldq,
    Pmulhw,
    Pmulhuw,
    Pmuldq,
    Pmuludq,
    Pmulhrsw,
    Pmaddubsw,
    Pshufb,
    Psllw,
    Pslld,
    Psllq,
    Psraw,
    Psrad,
    Psrlw,
    Psrld,
    Psrlq,
    Addps,
    Addpd,
    Subps,
    Subpd,
    Mulps,
    Mulpd,
    Divps,
    Divpd,
    Minps,
    Minpd,
    Maxps,
    Maxpd,
    Unpcklpd,
    /// `movsd xmm, xmm`: the low 64 bits of `src`, the upper ones of `dst` kept.
    Movsd,
    // Unary: `dst = op(src)`.
    Pabsb,
    Pabsw,
    Pabsd,
    Pmovsxbw,
    Pmovsxwd,
    Pmovsxdq,
    Pmovzxbw,
    Pmovzxwd,
    Pmovzxdq,
    Sqrtps,
    Sqrtpd,
    Cvtdq2ps,
    Cvtdq2pd,
    Cvtpd2ps,
    Cvtps2pd,
    /// Truncating float-to-int32 conversions (`0x80000000` for NaN and out of range).
    Cvttps2dq,
    Cvttpd2dq,
    /// AVX2 only (VEX-encoded, no SSE form): lane 0's byte / word to every lane.
    Vpbroadcastb,
    Vpbroadcastw,
}

impl VecOp {
    /// Mandatory prefix and opcode bytes.
    fn encoding(self) -> (Option<u8>, &'static [u8]) {
        use VecOp::*;
        const P: Option<u8> = Some(0x66);
        match self {
            Paddb => (P, &[0x0f, 0xfc]),
            Paddw => (P, &[0x0f, 0xfd]),
            Paddd => (P, &[0x0f, 0xfe]),
            Paddq => (P, &[0x0f, 0xd4]),
            Psubb => (P, &[0x0f, 0xf8]),
            Psubw => (P, &[0x0f, 0xf9]),
            Psubd => (P, &[0x0f, 0xfa]),
            Psubq => (P, &[0x0f, 0xfb]),
            Paddsb => (P, &[0x0f, 0xec]),
            Paddsw => (P, &[0x0f, 0xed]),
            Paddusb => (P, &[0x0f, 0xdc]),
            Paddusw => (P, &[0x0f, 0xdd]),
            Psubsb => (P, &[0x0f, 0xe8]),
            Psubsw => (P, &[0x0f, 0xe9]),
            Psubusb => (P, &[0x0f, 0xd8]),
            Psubusw => (P, &[0x0f, 0xd9]),
            Pmullw => (P, &[0x0f, 0xd5]),
            Pmulld => (P, &[0x0f, 0x38, 0x40]),
            Pmaddwd => (P, &[0x0f, 0xf5]),
            Pminsb => (P, &[0x0f, 0x38, 0x38]),
            Pminsw => (P, &[0x0f, 0xea]),
            Pminsd => (P, &[0x0f, 0x38, 0x39]),
            Pminub => (P, &[0x0f, 0xda]),
            Pminuw => (P, &[0x0f, 0x38, 0x3a]),
            Pminud => (P, &[0x0f, 0x38, 0x3b]),
            Pmaxsb => (P, &[0x0f, 0x38, 0x3c]),
            Pmaxsw => (P, &[0x0f, 0xee]),
            Pmaxsd => (P, &[0x0f, 0x38, 0x3d]),
            Pmaxub => (P, &[0x0f, 0xde]),
            Pmaxuw => (P, &[0x0f, 0x38, 0x3e]),
            Pmaxud => (P, &[0x0f, 0x38, 0x3f]),
            Pavgb => (P, &[0x0f, 0xe0]),
            Pavgw => (P, &[0x0f, 0xe3]),
            Pand => (P, &[0x0f, 0xdb]),
            Pandn => (P, &[0x0f, 0xdf]),
            Por => (P, &[0x0f, 0xeb]),
            Pxor => (P, &[0x0f, 0xef]),
            Pcmpeqb => (P, &[0x0f, 0x74]),
            Pcmpeqw => (P, &[0x0f, 0x75]),
            Pcmpeqd => (P, &[0x0f, 0x76]),
            Pcmpeqq => (P, &[0x0f, 0x38, 0x29]),
            Pcmpgtb => (P, &[0x0f, 0x64]),
            Pcmpgtw => (P, &[0x0f, 0x65]),
            Pcmpgtd => (P, &[0x0f, 0x66]),
            Packsswb => (P, &[0x0f, 0x63]),
            Packuswb => (P, &[0x0f, 0x67]),
            Packssdw => (P, &[0x0f, 0x6b]),
            Packusdw => (P, &[0x0f, 0x38, 0x2b]),
            Punpcklqdq => (P, &[0x0f, 0x6c]),
            Punpcklbw => (P, &[0x0f, 0x60]),
            Punpckhbw => (P, &[0x0f, 0x68]),
            Punpcklwd => (P, &[0x0f, 0x61]),
            Punpckhwd => (P, &[0x0f, 0x69]),
            Punpckldq => (P, &[0x0f, 0x62]),
            Pmulhw => (P, &[0x0f, 0xe5]),
            Pmulhuw => (P, &[0x0f, 0xe4]),
            Pmuldq => (P, &[0x0f, 0x38, 0x28]),
            Pmuludq => (P, &[0x0f, 0xf4]),
            Pmulhrsw => (P, &[0x0f, 0x38, 0x0b]),
            Pmaddubsw => (P, &[0x0f, 0x38, 0x04]),
            Pshufb => (P, &[0x0f, 0x38, 0x00]),
            Psllw => (P, &[0x0f, 0xf1]),
            Pslld => (P, &[0x0f, 0xf2]),
            Psllq => (P, &[0x0f, 0xf3]),
            Psraw => (P, &[0x0f, 0xe1]),
            Psrad => (P, &[0x0f, 0xe2]),
            Psrlw => (P, &[0x0f, 0xd1]),
            Psrld => (P, &[0x0f, 0xd2]),
            Psrlq => (P, &[0x0f, 0xd3]),
            Addps => (None, &[0x0f, 0x58]),
            Addpd => (P, &[0x0f, 0x58]),
            Subps => (None, &[0x0f, 0x5c]),
            Subpd => (P, &[0x0f, 0x5c]),
            Mulps => (None, &[0x0f, 0x59]),
            Mulpd => (P, &[0x0f, 0x59]),
            Divps => (None, &[0x0f, 0x5e]),
            Divpd => (P, &[0x0f, 0x5e]),
            Minps => (None, &[0x0f, 0x5d]),
            Minpd => (P, &[0x0f, 0x5d]),
            Maxps => (None, &[0x0f, 0x5f]),
            Maxpd => (P, &[0x0f, 0x5f]),
            Unpcklpd => (P, &[0x0f, 0x14]),
            Movsd => (Some(0xf2), &[0x0f, 0x10]),
            Pabsb => (P, &[0x0f, 0x38, 0x1c]),
            Pabsw => (P, &[0x0f, 0x38, 0x1d]),
            Pabsd => (P, &[0x0f, 0x38, 0x1e]),
            Pmovsxbw => (P, &[0x0f, 0x38, 0x20]),
            Pmovsxwd => (P, &[0x0f, 0x38, 0x23]),
            Pmovsxdq => (P, &[0x0f, 0x38, 0x25]),
            Pmovzxbw => (P, &[0x0f, 0x38, 0x30]),
            Pmovzxwd => (P, &[0x0f, 0x38, 0x33]),
            Pmovzxdq => (P, &[0x0f, 0x38, 0x35]),
            Sqrtps => (None, &[0x0f, 0x51]),
            Sqrtpd => (P, &[0x0f, 0x51]),
            Cvtdq2ps => (None, &[0x0f, 0x5b]),
            Cvtdq2pd => (Some(0xf3), &[0x0f, 0xe6]),
            Cvtpd2ps => (P, &[0x0f, 0x5a]),
            Cvtps2pd => (None, &[0x0f, 0x5a]),
            Cvttps2dq => (Some(0xf3), &[0x0f, 0x5b]),
            Cvttpd2dq => (P, &[0x0f, 0xe6]),
            Vpbroadcastb => (P, &[0x0f, 0x38, 0x78]),
            Vpbroadcastw => (P, &[0x0f, 0x38, 0x79]),
        }
    }

    /// Instructions that exist only VEX-encoded.
    fn vex_only(self) -> bool {
        matches!(self, VecOp::Vpbroadcastb | VecOp::Vpbroadcastw)
    }

    /// Whether the instruction combines `dst` with `src` (else it only writes `dst`).
    pub(crate) fn reads_dst(self) -> bool {
        use VecOp::*;
        !matches!(
            self,
            Pabsb
                | Pabsw
                | Pabsd
                | Pmovsxbw
                | Pmovsxwd
                | Pmovsxdq
                | Pmovzxbw
                | Pmovzxwd
                | Pmovzxdq
                | Sqrtps
                | Sqrtpd
                | Cvtdq2ps
                | Cvtdq2pd
                | Cvtpd2ps
                | Cvtps2pd
                | Cvttps2dq
                | Cvttpd2dq
                | Vpbroadcastb
                | Vpbroadcastw
        )
    }

    /// The immediate form of a shift (`66 0F 71/72/73 /n ib`), for the shifts.
    fn shift_imm(self) -> Option<(u8, u8)> {
        use VecOp::*;
        Some(match self {
            Psrlw => (0x71, 2),
            Psraw => (0x71, 4),
            Psllw => (0x71, 6),
            Psrld => (0x72, 2),
            Psrad => (0x72, 4),
            Pslld => (0x72, 6),
            Psrlq => (0x73, 2),
            Psllq => (0x73, 6),
            _ => return None,
        })
    }
}

/// Packed instructions with an 8-bit immediate, `dst = op(src, imm)` or, where
/// [`VecImmOp::reads_dst`], `dst = op(dst, src, imm)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum VecImmOp {
    Pshufd,
    Pshuflw,
    /// `cmpps`/`cmppd` with predicate `imm` (0 eq, 1 lt, 2 le, 4 neq).
    Cmpps,
    Cmppd,
    Roundps,
    Roundpd,
    Insertps,
    /// `shufps dst, src, imm`: lanes 0-1 from `dst`, 2-3 from `src`.
    Shufps,
}

impl VecImmOp {
    fn encoding(self) -> (Option<u8>, &'static [u8]) {
        use VecImmOp::*;
        match self {
            Pshufd => (Some(0x66), &[0x0f, 0x70]),
            Pshuflw => (Some(0xf2), &[0x0f, 0x70]),
            Cmpps => (None, &[0x0f, 0xc2]),
            Cmppd => (Some(0x66), &[0x0f, 0xc2]),
            Roundps => (Some(0x66), &[0x0f, 0x3a, 0x08]),
            Roundpd => (Some(0x66), &[0x0f, 0x3a, 0x09]),
            Insertps => (Some(0x66), &[0x0f, 0x3a, 0x21]),
            Shufps => (None, &[0x0f, 0xc6]),
        }
    }

    pub(crate) fn reads_dst(self) -> bool {
        matches!(
            self,
            VecImmOp::Cmpps | VecImmOp::Cmppd | VecImmOp::Insertps | VecImmOp::Shufps
        )
    }
}

impl Asm {
    /// A packed operation on registers.
    pub(crate) fn vec_op(&mut self, op: VecOp, dst: Xmm, src: Xmm) {
        let (prefix, opc) = op.encoding();
        if op.vex_only() {
            self.vex(prefix, opc, dst.0, 0, Rm::Reg(src.0));
        } else {
            self.sse(prefix, false, opc, dst.0, Rm::Reg(src.0));
        }
    }

    /// The AVX form of a two-operand packed operation: `dst = a op b` (`op` must
    /// combine its operands: [`VecOp::reads_dst`]).
    pub(crate) fn vec_op3(&mut self, op: VecOp, dst: Xmm, a: Xmm, b: Xmm) {
        debug_assert!(op.reads_dst() && !op.vex_only());
        let (prefix, opc) = op.encoding();
        self.vex(prefix, opc, dst.0, a.0, Rm::Reg(b.0));
    }

    /// The AVX form of an immediate operation that combines two registers
    /// ([`VecImmOp::reads_dst`]): `dst = op(a, b, imm)`.
    pub(crate) fn vec_imm3(&mut self, op: VecImmOp, dst: Xmm, a: Xmm, b: Xmm, imm: u8) {
        debug_assert!(op.reads_dst());
        let (prefix, opc) = op.encoding();
        self.vex(prefix, opc, dst.0, a.0, Rm::Reg(b.0));
        self.byte(imm);
    }

    /// The AVX form of a shift by an immediate: `dst = src shift amount` (the
    /// destination is VEX's extra register; ModRM holds the opcode extension and `src`).
    pub(crate) fn vec_shift_imm3(&mut self, op: VecOp, dst: Xmm, src: Xmm, amount: u8) {
        let (opc, ext) = op.shift_imm().expect("a vector shift");
        self.vex(Some(0x66), &[0x0f, opc], ext, dst.0, Rm::Reg(src.0));
        self.byte(amount);
    }

    /// The AVX form of a scalar float operation: `dst = a op b` in the low lane, the
    /// rest of `a` above it (as `a` copied to `dst`, then the SSE form, leaves it).
    pub(crate) fn sse_op3(&mut self, op: SseOp, double: bool, dst: Xmm, a: Xmm, b: Xmm) {
        self.vex(
            Some(Self::scalar_prefix(double)),
            &[0x0f, op as u8],
            dst.0,
            a.0,
            Rm::Reg(b.0),
        );
    }

    /// A 128-bit VEX-encoded instruction (VEX.L = 0, VEX.W = 0, which every instruction
    /// emitted this way ignores or requires), given as its legacy SSE encoding: the
    /// mandatory prefix becomes VEX.pp and the `0F`, `0F 38` or `0F 3A` escape VEX.mmmmm.
    /// `vvvv` is the extra source (or, for shifts by an immediate, the destination);
    /// 0 when unused, which encodes as the required `1111`. The two-byte form (`C5`)
    /// is used where it can express the instruction (map `0F`, no REX.X or REX.B).
    fn vex(&mut self, prefix: Option<u8>, opcode: &[u8], reg: u8, vvvv: u8, rm: Rm) {
        let pp = match prefix {
            None => 0,
            Some(0x66) => 1,
            Some(0xf3) => 2,
            Some(0xf2) => 3,
            Some(p) => unreachable!("no VEX form has the prefix {p:#04x}"),
        };
        let (map, opc) = match *opcode {
            [0x0f, 0x38, opc] => (2, opc),
            [0x0f, 0x3a, opc] => (3, opc),
            [0x0f, opc] => (1, opc),
            _ => unreachable!("not an SSE opcode: {opcode:02x?}"),
        };
        let r = reg >> 3 & 1;
        let (x, b) = match rm {
            Rm::Reg(n) => (0, n >> 3 & 1),
            Rm::Mem(m) => (
                m.index.map_or(0, |(i, _)| i.0 >> 3 & 1),
                m.base.map_or(0, |b| b.0 >> 3 & 1),
            ),
        };
        // R, X, B and vvvv are stored inverted.
        let v = (!vvvv & 0xf) << 3;
        if map == 1 && x == 0 && b == 0 {
            self.byte(0xc5);
            self.byte((r ^ 1) << 7 | v | pp);
        } else {
            self.byte(0xc4);
            self.byte((r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | map);
            self.byte(v | pp);
        }
        self.byte(opc);
        self.modrm(reg & 7, rm);
    }

    /// A packed operation with a memory source (`pmovsx`/`pmovzx` of 8 bytes).
    pub(crate) fn vec_op_m(&mut self, op: VecOp, dst: Xmm, mem: Mem) {
        let (prefix, opc) = op.encoding();
        self.sse(prefix, false, opc, dst.0, Rm::Mem(mem));
    }

    pub(crate) fn vec_imm(&mut self, op: VecImmOp, dst: Xmm, src: Xmm, imm: u8) {
        let (prefix, opc) = op.encoding();
        self.sse(prefix, false, opc, dst.0, Rm::Reg(src.0));
        self.byte(imm);
    }

    /// A lane shift by an immediate count (`op` is one of the shifts).
    pub(crate) fn vec_shift_imm(&mut self, op: VecOp, dst: Xmm, amount: u8) {
        let (opc, ext) = op.shift_imm().expect("a vector shift");
        self.sse(Some(0x66), false, &[0x0f, opc], ext, Rm::Reg(dst.0));
        self.byte(amount);
    }

    /// `movq xmm, [mem]` (8 bytes, the upper half zeroed).
    pub(crate) fn movq_load(&mut self, dst: Xmm, mem: Mem) {
        self.sse(Some(0xf3), false, &[0x0f, 0x7e], dst.0, Rm::Mem(mem));
    }

    /// `movd xmm, [mem]` (4 bytes, the rest zeroed).
    pub(crate) fn movd_load(&mut self, dst: Xmm, mem: Mem) {
        self.sse(Some(0x66), false, &[0x0f, 0x6e], dst.0, Rm::Mem(mem));
    }

    /// `ptest a, b` (SSE4.1): ZF = (a & b) == 0.
    pub(crate) fn ptest(&mut self, a: Xmm, b: Xmm) {
        self.sse(Some(0x66), false, &[0x0f, 0x38, 0x17], a.0, Rm::Reg(b.0));
    }

    /// `pmovmskb`/`movmskps`/`movmskpd dst, src`: the sign bit of each lane of
    /// `lane_bytes` (1, 4 or 8) bytes.
    pub(crate) fn movmsk(&mut self, lane_bytes: u8, dst: Gpr, src: Xmm) {
        let (prefix, opc): (Option<u8>, &[u8]) = match lane_bytes {
            1 => (Some(0x66), &[0x0f, 0xd7]),
            4 => (None, &[0x0f, 0x50]),
            _ => (Some(0x66), &[0x0f, 0x50]),
        };
        self.sse(prefix, false, opc, dst.0, Rm::Reg(src.0));
    }

    /// `pextrb`/`pextrw`/`pextrd`/`pextrq dst, src, lane` (lanes of `size`), zero
    /// extended.
    pub(crate) fn pextr(&mut self, size: Size, dst: Gpr, src: Xmm, lane: u8) {
        match size {
            Size::S16 => self.sse(Some(0x66), false, &[0x0f, 0xc5], dst.0, Rm::Reg(src.0)),
            Size::S8 => self.sse(
                Some(0x66),
                false,
                &[0x0f, 0x3a, 0x14],
                src.0,
                Rm::Reg(dst.0),
            ),
            _ => self.sse(
                Some(0x66),
                size == Size::S64,
                &[0x0f, 0x3a, 0x16],
                src.0,
                Rm::Reg(dst.0),
            ),
        }
        self.byte(lane);
    }

    /// `pinsrb`/`pinsrw`/`pinsrd`/`pinsrq dst, src, lane`.
    pub(crate) fn pinsr(&mut self, size: Size, dst: Xmm, src: Gpr, lane: u8) {
        match size {
            Size::S16 => self.sse(Some(0x66), false, &[0x0f, 0xc4], dst.0, Rm::Reg(src.0)),
            Size::S8 => self.sse(
                Some(0x66),
                false,
                &[0x0f, 0x3a, 0x20],
                dst.0,
                Rm::Reg(src.0),
            ),
            _ => self.sse(
                Some(0x66),
                size == Size::S64,
                &[0x0f, 0x3a, 0x22],
                dst.0,
                Rm::Reg(src.0),
            ),
        }
        self.byte(lane);
    }
}

/// Bit counting instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BitOp {
    Lzcnt,
    Tzcnt,
    Popcnt,
    Bsr,
    Bsf,
}

#[cfg(test)]
mod tests {
    //! The vector encodings checked against an independent decoder (iced-x86): each
    //! instruction decodes to the mnemonic it is named after, with the registers it was
    //! given (one of them ≥ xmm8, so REX is exercised), in exactly the bytes emitted.
    use super::*;
    use iced_x86::{Decoder, DecoderOptions, Instruction, Register};

    fn decode(bytes: &[u8]) -> Instruction {
        let mut d = Decoder::new(64, bytes, DecoderOptions::NONE);
        let ins = d.decode();
        assert_eq!(ins.len(), bytes.len(), "{bytes:02x?} decodes as {ins}");
        ins
    }

    fn mnemonic(ins: &Instruction) -> String {
        format!("{:?}", ins.mnemonic())
    }

    fn xmm(n: u32) -> Register {
        use Register::*;
        [
            XMM0, XMM1, XMM2, XMM3, XMM4, XMM5, XMM6, XMM7, XMM8, XMM9, XMM10, XMM11, XMM12, XMM13,
            XMM14, XMM15,
        ][n as usize]
    }

    const VEC_OPS: [VecOp; 87] = {
        use VecOp::*;
        [
            Paddb, Paddw, Paddd, Paddq, Psubb, Psubw, Psubd, Psubq, Paddsb, Paddsw, Paddusb,
            Paddusw, Psubsb, Psubsw, Psubusb, Psubusw, Pmullw, Pmulld, Pmaddwd, Pminsb, Pminsw,
            Pminsd, Pminub, Pminuw, Pminud, Pmaxsb, Pmaxsw, Pmaxsd, Pmaxub, Pmaxuw, Pmaxud, Pavgb,
            Pavgw, Pand, Pandn, Por, Pxor, Pcmpeqb, Pcmpeqw, Pcmpeqd, Pcmpeqq, Pcmpgtb, Pcmpgtw,
            Pcmpgtd, Packsswb, Packuswb, Packssdw, Packusdw, Punpcklqdq, Punpcklbw, Punpckhbw,
            Punpcklwd, Punpckhwd, Punpckldq, Pmulhw, Pmulhuw, Pmuldq, Pmuludq, Pmulhrsw, Pmaddubsw,
            Pshufb, Psllw, Pslld, Psllq, Psraw, Psrad, Psrlw, Psrld, Psrlq, Addps, Addpd, Subps,
            Subpd, Mulps, Mulpd, Divps, Divpd, Minps, Minpd, Maxps, Maxpd, Unpcklpd, Movsd, Pabsb,
            Pabsw, Pabsd, Pmovsxbw,
        ]
    };

    const MORE_VEC_OPS: [VecOp; 12] = {
        use VecOp::*;
        [
            Pmovsxwd, Pmovsxdq, Pmovzxbw, Pmovzxwd, Pmovzxdq, Sqrtps, Sqrtpd, Cvtdq2ps, Cvtdq2pd,
            Cvtpd2ps, Cvtps2pd, Cvttps2dq,
        ]
    };

    #[test]
    fn packed_operations() {
        for op in VEC_OPS
            .into_iter()
            .chain(MORE_VEC_OPS)
            .chain([VecOp::Cvttpd2dq])
        {
            for (d, s) in [(1, 9), (10, 2)] {
                let mut a = Asm::new();
                a.vec_op(op, Xmm(d), Xmm(s));
                let ins = decode(&a.buf);
                assert_eq!(mnemonic(&ins), format!("{op:?}"), "{op:?}");
                assert_eq!(ins.op0_register(), xmm(d as u32), "{op:?} destination");
                assert_eq!(ins.op1_register(), xmm(s as u32), "{op:?} source");
            }
        }
    }

    #[test]
    fn immediate_forms() {
        use VecImmOp::*;
        for op in [
            Pshufd, Pshuflw, Cmpps, Cmppd, Roundps, Roundpd, Insertps, Shufps,
        ] {
            let mut a = Asm::new();
            a.vec_imm(op, Xmm(11), Xmm(3), 0x1b);
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), format!("{op:?}"), "{op:?}");
            assert_eq!(ins.op0_register(), xmm(11));
            assert_eq!(ins.op1_register(), xmm(3));
            assert_eq!(ins.immediate8(), 0x1b);
        }
        for op in VEC_SHIFTS {
            let mut a = Asm::new();
            a.vec_shift_imm(op, Xmm(12), 5);
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), format!("{op:?}"), "{op:?} by an immediate");
            assert_eq!(ins.op0_register(), xmm(12));
            assert_eq!(ins.immediate8(), 5);
        }
    }

    /// The vector shifts that also take an immediate count.
    const VEC_SHIFTS: [VecOp; 8] = [
        VecOp::Psllw,
        VecOp::Pslld,
        VecOp::Psllq,
        VecOp::Psraw,
        VecOp::Psrad,
        VecOp::Psrlw,
        VecOp::Psrld,
        VecOp::Psrlq,
    ];

    /// Register triples that need the two-byte VEX form, REX-like R, B and a high vvvv.
    const VEX_REGS: [(u8, u8, u8); 4] = [(1, 2, 3), (9, 10, 11), (2, 12, 3), (13, 5, 14)];

    /// The VEX mnemonic iced-x86 prints for an SSE operation named `op`.
    fn vex_mnemonic(op: impl std::fmt::Debug) -> String {
        format!("V{}", format!("{op:?}").to_lowercase())
    }

    #[test]
    fn three_operand_avx_forms() {
        for op in VEC_OPS
            .into_iter()
            .chain(MORE_VEC_OPS)
            .filter(|op| op.reads_dst())
        {
            for (d, a, b) in VEX_REGS {
                let mut asm = Asm::new();
                asm.vec_op3(op, Xmm(d), Xmm(a), Xmm(b));
                let ins = decode(&asm.buf);
                assert_eq!(mnemonic(&ins), vex_mnemonic(op));
                assert_eq!(ins.op0_register(), xmm(d.into()), "{op:?} destination");
                assert_eq!(ins.op1_register(), xmm(a.into()), "{op:?} first source");
                assert_eq!(ins.op2_register(), xmm(b.into()), "{op:?} second source");
            }
        }
        use VecImmOp::*;
        for op in [Cmpps, Cmppd, Insertps, Shufps] {
            for (d, a, b) in VEX_REGS {
                let mut asm = Asm::new();
                asm.vec_imm3(op, Xmm(d), Xmm(a), Xmm(b), 0x21);
                let ins = decode(&asm.buf);
                assert_eq!(mnemonic(&ins), vex_mnemonic(op));
                assert_eq!(
                    (ins.op0_register(), ins.op1_register(), ins.op2_register()),
                    (xmm(d.into()), xmm(a.into()), xmm(b.into())),
                    "{op:?}"
                );
                assert_eq!(ins.immediate8(), 0x21);
            }
        }
        for op in VEC_SHIFTS {
            for (d, s, _) in VEX_REGS {
                let mut asm = Asm::new();
                asm.vec_shift_imm3(op, Xmm(d), Xmm(s), 7);
                let ins = decode(&asm.buf);
                assert_eq!(mnemonic(&ins), vex_mnemonic(op));
                assert_eq!(ins.op0_register(), xmm(d.into()), "{op:?} destination");
                assert_eq!(ins.op1_register(), xmm(s.into()), "{op:?} source");
                assert_eq!(ins.immediate8(), 7);
            }
        }
        for op in [
            SseOp::Add,
            SseOp::Sub,
            SseOp::Mul,
            SseOp::Div,
            SseOp::Min,
            SseOp::Max,
        ] {
            for double in [false, true] {
                for (d, a, b) in VEX_REGS {
                    let mut asm = Asm::new();
                    asm.sse_op3(op, double, Xmm(d), Xmm(a), Xmm(b));
                    let ins = decode(&asm.buf);
                    let name = format!(
                        "V{}s{}",
                        format!("{op:?}").to_lowercase(),
                        if double { 'd' } else { 's' }
                    );
                    assert_eq!(mnemonic(&ins), name);
                    assert_eq!(
                        (ins.op0_register(), ins.op1_register(), ins.op2_register()),
                        (xmm(d.into()), xmm(a.into()), xmm(b.into())),
                        "{name}"
                    );
                }
            }
        }
        for op in [VecOp::Vpbroadcastb, VecOp::Vpbroadcastw] {
            for (d, s, _) in VEX_REGS {
                let mut asm = Asm::new();
                asm.vec_op(op, Xmm(d), Xmm(s));
                let ins = decode(&asm.buf);
                assert_eq!(mnemonic(&ins), format!("{op:?}"));
                assert_eq!(ins.op0_register(), xmm(d.into()));
                assert_eq!(ins.op1_register(), xmm(s.into()));
            }
        }
    }

    #[test]
    fn lanes_masks_and_moves() {
        let gpr = |n: u8, size: Size| match (n, size) {
            (8, Size::S64) => Register::R8,
            (9, Size::S64) => Register::R9,
            (10, Size::S64) => Register::R10,
            (8, _) => Register::R8D,
            (9, _) => Register::R9D,
            (10, _) => Register::R10D,
            _ => unreachable!("registers of this test"),
        };
        for (size, name) in [
            (Size::S8, ("Pextrb", "Pinsrb")),
            (Size::S16, ("Pextrw", "Pinsrw")),
            (Size::S32, ("Pextrd", "Pinsrd")),
            (Size::S64, ("Pextrq", "Pinsrq")),
        ] {
            let mut a = Asm::new();
            a.pextr(size, Gpr(9), Xmm(13), 1);
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), name.0);
            let wide = if size == Size::S64 {
                Size::S64
            } else {
                Size::S32
            };
            assert_eq!(ins.op0_register(), gpr(9, wide), "{}", name.0);
            assert_eq!(ins.op1_register(), xmm(13));
            let mut a = Asm::new();
            a.pinsr(size, Xmm(14), Gpr(10), 1);
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), name.1);
            assert_eq!(ins.op0_register(), xmm(14));
            assert_eq!(ins.op1_register(), gpr(10, wide), "{}", name.1);
        }
        for (bytes, name) in [(1, "Pmovmskb"), (4, "Movmskps"), (8, "Movmskpd")] {
            let mut a = Asm::new();
            a.movmsk(bytes, Gpr(8), Xmm(15));
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), name);
            assert_eq!(ins.op0_register(), gpr(8, Size::S32));
            assert_eq!(ins.op1_register(), xmm(15));
        }
        let mut a = Asm::new();
        a.ptest(Xmm(1), Xmm(8));
        assert_eq!(mnemonic(&decode(&a.buf)), "Ptest");
        let m = Mem::base(Gpr(13), 0x40);
        for (emit, name) in [
            (Asm::movq_load as fn(&mut Asm, Xmm, Mem), "Movq"),
            (Asm::movd_load, "Movd"),
            (Asm::movdqu_load, "Movdqu"),
        ] {
            let mut a = Asm::new();
            emit(&mut a, Xmm(9), m);
            let ins = decode(&a.buf);
            assert_eq!(mnemonic(&ins), name);
            assert_eq!(ins.op0_register(), xmm(9));
            assert_eq!(ins.memory_base(), Register::R13);
            assert_eq!(ins.memory_displacement64(), 0x40);
        }
        let mut a = Asm::new();
        a.vec_op_m(VecOp::Pmovzxwd, Xmm(2), m);
        assert_eq!(mnemonic(&decode(&a.buf)), "Pmovzxwd");
    }
}
