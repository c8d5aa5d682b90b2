//! x86-64 machine instructions over virtual registers ("VCode"), as instruction
//! selection produces them and the register allocator sees them.
//!
//! Each instruction reports its register operands through [`MInst::map_regs`], in a
//! fixed order, with how it uses them: read, written, read-and-written (x86's two-address
//! form), or written early (a temporary, or a result written before the last input is
//! read). Physical registers appear where the ABI or the instruction fixes them (call
//! arguments, `div`'s rax/rdx, shift counts in cl). The allocator reads the operands
//! with the same visitor it later uses to replace virtual registers.

#![forbid(unsafe_code)]

use super::asm::{Alu, BitOp, Cond, Gpr, Shift, Size, SseOp, VecImmOp, VecOp, Xmm};
use crate::compile::ir::Libcall;
use crate::error::TrapCode;

/// A register: physical (0–15 general-purpose, 16–31 SSE) or virtual (32 and up).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Reg(pub u32);

pub(crate) const FIRST_VIRTUAL: u32 = 32;

impl Reg {
    pub(crate) fn gpr(g: Gpr) -> Reg {
        Reg(u32::from(g.0))
    }

    pub(crate) fn xmm(x: Xmm) -> Reg {
        Reg(16 + u32::from(x.0))
    }

    pub(crate) fn is_virtual(self) -> bool {
        self.0 >= FIRST_VIRTUAL
    }

    pub(crate) fn vindex(self) -> usize {
        debug_assert!(self.is_virtual());
        (self.0 - FIRST_VIRTUAL) as usize
    }

    pub(crate) fn as_gpr(self) -> Gpr {
        debug_assert!(
            self.0 < 16,
            "not an allocated general-purpose register: {self:?}"
        );
        Gpr(self.0 as u8)
    }

    pub(crate) fn as_xmm(self) -> Xmm {
        debug_assert!(
            (16..32).contains(&self.0),
            "not an allocated SSE register: {self:?}"
        );
        Xmm((self.0 - 16) as u8)
    }
}

impl std::fmt::Debug for Reg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const GPR: [&str; 16] = [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ];
        if self.0 < 16 {
            f.write_str(GPR[self.0 as usize])
        } else if self.0 < 32 {
            write!(f, "xmm{}", self.0 - 16)
        } else {
            write!(f, "%{}", self.0 - FIRST_VIRTUAL)
        }
    }
}

/// Register classes. `Vector` values live in the SSE registers as floats do (the
/// allocator gives both the same register file) but move and spill 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Int,
    Float,
    Vector,
}

impl Class {
    /// The register file: `Int` or `Float`.
    pub(crate) fn file(self) -> Class {
        match self {
            Class::Vector => Class::Float,
            c => c,
        }
    }
}

/// How a vector load reads memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VecLoadKind {
    /// 16 bytes (`movdqu`).
    Full,
    /// 8 bytes into the low half, the upper half zeroed (`movq`).
    Low64,
    /// 4 bytes into lane 0, the rest zeroed (`movd`).
    Low32,
    /// 8 bytes, each lane widened (`pmovsx*`/`pmovzx*`).
    Extend(VecOp),
}

/// How an instruction uses an operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// Read at the instruction's start.
    Read,
    /// Written at its end.
    Write,
    /// Read, then written (the x86 destination of two-address forms).
    Modify,
    /// Written before the inputs are done with: must not share a register with any
    /// input or output (temporaries, early-clobbered results).
    Early,
}

/// The base of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// Memory 0 (the pinned heap-base register, r15).
    Heap,
    /// The instance context (pinned, r14).
    Vmctx,
    /// The frame (rbp): spill slots, incoming stack arguments.
    Frame,
    /// The stack pointer: outgoing arguments.
    Sp,
    Reg(Reg),
}

/// An address: `base + index << scale + disp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Amode {
    pub base: Base,
    pub index: Option<Reg>,
    pub scale: u8,
    pub disp: i32,
}

impl Amode {
    pub(crate) fn heap(index: Reg, disp: i32) -> Amode {
        Amode {
            base: Base::Heap,
            index: Some(index),
            scale: 0,
            disp,
        }
    }

    pub(crate) fn vmctx(disp: u32) -> Amode {
        Amode {
            base: Base::Vmctx,
            index: None,
            scale: 0,
            disp: disp as i32,
        }
    }

    pub(crate) fn reg(base: Reg, disp: i32) -> Amode {
        Amode {
            base: Base::Reg(base),
            index: None,
            scale: 0,
            disp,
        }
    }

    pub(crate) fn sp(disp: i32) -> Amode {
        Amode {
            base: Base::Sp,
            index: None,
            scale: 0,
            disp,
        }
    }
}

/// A second ALU operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegMemImm {
    Reg(Reg),
    Mem(Amode),
    Imm(i32),
}

/// Loads into general-purpose registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoadOp {
    /// Zero-extending loads of 1, 2, 4 or 8 bytes.
    Zx(Size),
    /// Sign-extending loads of `from` bytes into a register of `to`.
    Sx { from: Size, to: Size },
}

/// A condition that may need two flags (floating-point equality).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CC {
    Int(Cond),
    /// Equal and ordered: ZF=1 and PF=0.
    FloatEq,
    /// Unequal or unordered: ZF=0 or PF=1.
    FloatNe,
}

impl CC {
    pub(crate) fn invert(self) -> CC {
        match self {
            CC::Int(c) => CC::Int(c.invert()),
            CC::FloatEq => CC::FloatNe,
            CC::FloatNe => CC::FloatEq,
        }
    }
}

/// What a trap stub reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TrapKind {
    Wasm(TrapCode),
    /// The runtime already stored the trap (host error, library call).
    Pending,
}

/// Who a call calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallTarget {
    /// Defined function `def` of this module, directly.
    Defined(u32),
    /// Through the `funcref` in r10; `type_index` picks the host adapter.
    Ref {
        type_index: u32,
    },
    Lib(Libcall),
}

/// Float-to-integer truncation flavours (expanded by the emitter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TruncKind {
    pub signed: bool,
    pub saturating: bool,
    /// Source is f64.
    pub double: bool,
    pub dst: Size,
}

/// Division flavours (operands in rax and a register; rdx is clobbered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DivKind {
    DivS,
    DivU,
    RemS,
    RemU,
}

/// A machine instruction.
#[derive(Clone, Debug)]
pub(crate) enum MInst {
    /// The incoming argument registers, defined at function entry.
    Args {
        regs: Vec<Reg>,
    },
    /// `dst = src` within a class (`size` 64 moves the whole register).
    Mov {
        dst: Reg,
        src: Reg,
    },
    MovImm {
        size: Size,
        dst: Reg,
        imm: u64,
    },
    /// `dst op= src`.
    Alu {
        op: Alu,
        size: Size,
        dst: Reg,
        src: RegMemImm,
    },
    Cmp {
        size: Size,
        a: Reg,
        b: RegMemImm,
    },
    /// `cmp a32, <process-wide id of type type_index>`: the id is patched in at link
    /// time (and again when the code loads from the code cache in another process).
    CmpTypeId {
        a: Reg,
        type_index: u32,
    },
    /// `cmp [a], imm` (a folded load compared with a constant).
    CmpMemImm {
        size: Size,
        a: Amode,
        imm: i32,
    },
    Test {
        size: Size,
        a: Reg,
        b: Reg,
    },
    /// `test [a], imm` on `size` bytes (a folded load tested against a mask).
    TestMemImm {
        size: Size,
        a: Amode,
        imm: i32,
    },
    TestImm {
        size: Size,
        a: Reg,
        imm: i32,
    },
    Imul {
        size: Size,
        dst: Reg,
        src: Reg,
    },
    ImulImm {
        size: Size,
        dst: Reg,
        src: Reg,
        imm: i32,
    },
    /// Shift `dst` by `amount`, or by cl (which must hold the count) when `None`.
    Shift {
        op: Shift,
        size: Size,
        dst: Reg,
        amount: Option<u8>,
    },
    Neg {
        size: Size,
        dst: Reg,
    },
    Not {
        size: Size,
        dst: Reg,
    },
    /// Divide rdx:rax (prepared by the instruction) by `divisor`: quotient in rax,
    /// remainder in rdx.
    Div {
        kind: DivKind,
        size: Size,
        divisor: Reg,
    },
    /// Traps `IntegerOverflow` when `a` is the minimum value and `b` is -1.
    CheckOverflow {
        size: Size,
        a: Reg,
        b: Reg,
    },
    Load {
        op: LoadOp,
        dst: Reg,
        addr: Amode,
    },
    Store {
        size: Size,
        src: Reg,
        addr: Amode,
    },
    StoreImm {
        size: Size,
        imm: i32,
        addr: Amode,
    },
    Lea {
        size: Size,
        dst: Reg,
        addr: Amode,
    },
    /// `dst = cc ? 1 : 0` (from the flags).
    Setcc {
        cc: CC,
        dst: Reg,
    },
    Cmov {
        cc: Cond,
        size: Size,
        dst: Reg,
        src: Reg,
    },
    /// `movzx`/`movsx`/`movsxd`; a 32→64 zero extension is `mov r32, r32`.
    Extend {
        signed: bool,
        from: Size,
        to: Size,
        dst: Reg,
        src: Reg,
    },
    BitCount {
        op: BitOp,
        size: Size,
        dst: Reg,
        src: Reg,
    },
    /// Count leading/trailing zeros without lzcnt/tzcnt (bsr/bsf + cmov).
    BitScanCount {
        leading: bool,
        size: Size,
        dst: Reg,
        src: Reg,
    },
    /// Population count without POPCNT (the SWAR sum of bits; `tmp` is scratch).
    PopcntSoft {
        size: Size,
        dst: Reg,
        src: Reg,
        tmp: Reg,
    },

    XmmMov {
        dst: Reg,
        src: Reg,
    },
    XmmLoad {
        double: bool,
        dst: Reg,
        addr: Amode,
    },
    XmmStore {
        double: bool,
        src: Reg,
        addr: Amode,
    },
    XmmOp {
        op: SseOp,
        double: bool,
        dst: Reg,
        src: Reg,
    },
    /// `dst = min/max(dst, src)` with Wasm's NaN and signed-zero rules.
    XmmMinMax {
        max: bool,
        double: bool,
        dst: Reg,
        src: Reg,
    },
    Ucomi {
        double: bool,
        a: Reg,
        b: Reg,
    },
    GprToXmm {
        size: Size,
        dst: Reg,
        src: Reg,
    },
    XmmToGpr {
        size: Size,
        dst: Reg,
        src: Reg,
    },
    CvtIntToFloat {
        double: bool,
        src_size: Size,
        dst: Reg,
        src: Reg,
    },
    /// Unsigned 64-bit integer to float (`tmp` is a scratch register).
    CvtU64ToFloat {
        double: bool,
        dst: Reg,
        src: Reg,
        tmp: Reg,
    },
    CvtFloat {
        to_double: bool,
        dst: Reg,
        src: Reg,
    },
    Round {
        double: bool,
        mode: u8,
        dst: Reg,
        src: Reg,
    },
    /// Float to integer with Wasm's trapping or saturating rules.
    Trunc {
        kind: TruncKind,
        dst: Reg,
        src: Reg,
        tmp: Reg,
    },
    /// A packed operation: `dst op= src`, or `dst = op(src)` (see `VecOp::reads_dst`).
    Vec {
        op: VecOp,
        dst: Reg,
        src: Reg,
    },
    VecImm {
        op: VecImmOp,
        dst: Reg,
        src: Reg,
        imm: u8,
    },
    /// `dst = dst shift amount` lane-wise (`op` is one of the shifts).
    VecShiftImm {
        op: VecOp,
        dst: Reg,
        amount: u8,
    },
    /// All bits of `dst` zero (`pxor`) or one (`pcmpeqd`).
    VecFill {
        ones: bool,
        dst: Reg,
    },
    /// A `v128` constant (low, high): built through the scratch register.
    VecConst {
        dst: Reg,
        bits: [u64; 2],
    },
    VecLoad {
        kind: VecLoadKind,
        dst: Reg,
        addr: Amode,
    },
    /// 16 bytes (`movdqu`).
    VecStore {
        src: Reg,
        addr: Amode,
    },
    /// `pextr*`: lane `lane` (of `size`) of `src` into general-purpose `dst`, zero
    /// extended.
    VecExtract {
        size: Size,
        dst: Reg,
        src: Reg,
        lane: u8,
    },
    /// `pinsr*`: lane `lane` (of `size`) of `dst` replaced by general-purpose `src`.
    VecInsert {
        size: Size,
        dst: Reg,
        src: Reg,
        lane: u8,
    },
    /// The sign bits of `src`'s lanes of `lane_bytes` (1, 4, 8) into `dst`.
    VecMask {
        lane_bytes: u8,
        dst: Reg,
        src: Reg,
    },
    /// `ptest a, b`: ZF set when `a & b` is zero.
    Ptest {
        a: Reg,
        b: Reg,
    },
    /// `dst = cond != 0 ? a : dst` for SSE registers (a branch; no cmov there).
    XmmSelect {
        cond: Reg,
        dst: Reg,
        a: Reg,
    },

    /// `dst = [vmctx + offset]` and a bounds check of `addr + offset + bytes` against
    /// memory `memory`'s length, for memories accessed with explicit checks: on return
    /// `base` holds the memory's base and `index` the address plus offset.
    CheckedAddr {
        memory_offset: u32,
        addr: Reg,
        offset: u32,
        bytes: u32,
        base: Reg,
        index: Reg,
    },
    /// Traps `MemoryOutOfBounds` unless `addr + len` is within memory 0's length.
    CheckRange {
        addr: Reg,
        len: Reg,
        tmp: Reg,
    },
    /// Traps `Interrupted` if the store's interrupt flag is set.
    InterruptCheck,

    Jmp {
        target: u32,
    },
    Jcc {
        cc: CC,
        taken: u32,
        not_taken: u32,
    },
    /// Traps with `kind` when `cc` holds.
    TrapIf {
        cc: CC,
        kind: TrapKind,
    },
    Trap {
        kind: TrapKind,
    },
    /// Jumps to `targets[min(index, len - 1)]`.
    JumpTable {
        index: Reg,
        tmp: Reg,
        targets: Vec<u32>,
    },
    /// Returns; `regs` are the result registers it reads; pops `stack_args` bytes.
    Ret {
        regs: Vec<Reg>,
    },
    /// A call: reads `uses` (argument registers), defines `defs` (result registers),
    /// clobbers every other caller-saved register.
    Call {
        target: CallTarget,
        uses: Vec<Reg>,
        defs: Vec<Reg>,
        stack_bytes: u32,
    },
}

/// General-purpose registers the allocator may assign, in order of preference
/// (caller-saved first, so leaf code needs no saves).
pub(crate) const ALLOCATABLE_GPRS: [u32; 11] = [0, 1, 2, 6, 7, 10, 3, 12, 13, 8, 9];
/// SSE registers the allocator may assign (xmm15 is the scratch register).
pub(crate) const ALLOCATABLE_XMMS: [u32; 15] =
    [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];
/// Registers a call to Wasm code preserves: rbx, r12, r13, r8, r9 (rbp, rsp, r14, r15
/// are never allocated). Calls into the runtime follow System V, which does not keep r8
/// and r9; host adapters save those themselves.
pub(crate) const CALLEE_SAVED: [u32; 5] = [3, 12, 13, 8, 9];
/// Registers a call to Wasm code clobbers.
pub(crate) const CALLER_SAVED: [u32; 22] = [
    0, 1, 2, 6, 7, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
];
/// Registers a System V call (into the runtime) clobbers.
pub(crate) const SYSV_CALLER_SAVED: [u32; 24] = [
    0, 1, 2, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
];

impl MInst {
    /// Visits every register operand in a fixed order, with how the instruction uses
    /// it; the visitor may replace it (after allocation).
    pub(crate) fn map_regs(&mut self, f: &mut dyn FnMut(&mut Reg, Use)) {
        // A packed operation reads `src` and writes `dst`, reading it too if it
        // combines the two or works in place (`pshufd x, x`).
        fn packed(reads_dst: bool, dst: &mut Reg, src: &mut Reg, f: &mut dyn FnMut(&mut Reg, Use)) {
            let u = if reads_dst || dst == src {
                Use::Modify
            } else {
                Use::Write
            };
            f(src, Use::Read);
            f(dst, u);
        }
        fn amode(a: &mut Amode, f: &mut dyn FnMut(&mut Reg, Use)) {
            if let Base::Reg(r) = &mut a.base {
                f(r, Use::Read);
            }
            if let Some(i) = &mut a.index {
                f(i, Use::Read);
            }
        }
        match self {
            MInst::Args { regs } => regs.iter_mut().for_each(|r| f(r, Use::Write)),
            MInst::Mov { dst, src } | MInst::XmmMov { dst, src } => {
                f(src, Use::Read);
                f(dst, Use::Write);
            }
            MInst::MovImm { dst, .. } => f(dst, Use::Write),
            MInst::Alu { dst, src, .. } => {
                match src {
                    RegMemImm::Reg(r) => f(r, Use::Read),
                    RegMemImm::Mem(a) => amode(a, f),
                    RegMemImm::Imm(_) => {}
                }
                f(dst, Use::Modify);
            }
            MInst::Cmp { a, b, .. } => {
                f(a, Use::Read);
                match b {
                    RegMemImm::Reg(r) => f(r, Use::Read),
                    RegMemImm::Mem(m) => amode(m, f),
                    RegMemImm::Imm(_) => {}
                }
            }
            MInst::CmpTypeId { a, .. } => f(a, Use::Read),
            MInst::CmpMemImm { a, .. } | MInst::TestMemImm { a, .. } => amode(a, f),
            MInst::Test { a, b, .. } => {
                f(a, Use::Read);
                f(b, Use::Read);
            }
            MInst::TestImm { a, .. } => f(a, Use::Read),
            MInst::Imul { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Modify);
            }
            MInst::ImulImm { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Write);
            }
            MInst::Shift { dst, amount, .. } => {
                if amount.is_none() {
                    let mut rcx = Reg::gpr(super::asm::RCX);
                    f(&mut rcx, Use::Read);
                }
                f(dst, Use::Modify);
            }
            MInst::Neg { dst, .. } | MInst::Not { dst, .. } => f(dst, Use::Modify),
            MInst::Div { divisor, .. } => {
                let mut rax = Reg::gpr(super::asm::RAX);
                let mut rdx = Reg::gpr(super::asm::RDX);
                f(&mut rax, Use::Read);
                f(divisor, Use::Read);
                f(&mut rdx, Use::Early);
                f(&mut rax, Use::Write);
            }
            MInst::CheckOverflow { a, b, .. } => {
                f(a, Use::Read);
                f(b, Use::Read);
            }
            MInst::Load { dst, addr, .. } | MInst::XmmLoad { dst, addr, .. } => {
                amode(addr, f);
                f(dst, Use::Write);
            }
            MInst::Lea { dst, addr, .. } => {
                amode(addr, f);
                f(dst, Use::Write);
            }
            MInst::Store { src, addr, .. } | MInst::XmmStore { src, addr, .. } => {
                amode(addr, f);
                f(src, Use::Read);
            }
            MInst::StoreImm { addr, .. } => amode(addr, f),
            MInst::Setcc { dst, .. } => f(dst, Use::Write),
            MInst::Cmov { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Modify);
            }
            MInst::Extend { dst, src, .. }
            | MInst::BitCount { dst, src, .. }
            | MInst::GprToXmm { dst, src, .. }
            | MInst::XmmToGpr { dst, src, .. }
            | MInst::CvtIntToFloat { dst, src, .. }
            | MInst::CvtFloat { dst, src, .. }
            | MInst::Round { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Write);
            }
            MInst::BitScanCount { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Early);
            }
            MInst::PopcntSoft { dst, src, tmp, .. } => {
                f(src, Use::Read);
                f(tmp, Use::Early);
                f(dst, Use::Early);
            }
            MInst::XmmOp { dst, src, .. } | MInst::XmmMinMax { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Modify);
            }
            MInst::Ucomi { a, b, .. } => {
                f(a, Use::Read);
                f(b, Use::Read);
            }
            MInst::CvtU64ToFloat { dst, src, tmp, .. } => {
                f(src, Use::Read);
                f(tmp, Use::Early);
                f(dst, Use::Early);
            }
            MInst::Trunc { dst, src, tmp, .. } => {
                f(src, Use::Read);
                f(tmp, Use::Early);
                f(dst, Use::Early);
            }
            MInst::Vec { op, dst, src } => packed(op.reads_dst(), dst, src, f),
            MInst::VecImm { op, dst, src, .. } => packed(op.reads_dst(), dst, src, f),
            MInst::VecFill { dst, .. } | MInst::VecConst { dst, .. } => f(dst, Use::Write),
            MInst::VecShiftImm { dst, .. } => f(dst, Use::Modify),
            MInst::VecLoad { dst, addr, .. } => {
                amode(addr, f);
                f(dst, Use::Write);
            }
            MInst::VecStore { src, addr } => {
                amode(addr, f);
                f(src, Use::Read);
            }
            MInst::VecExtract { dst, src, .. } | MInst::VecMask { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Write);
            }
            MInst::VecInsert { dst, src, .. } => {
                f(src, Use::Read);
                f(dst, Use::Modify);
            }
            MInst::Ptest { a, b } => {
                f(a, Use::Read);
                f(b, Use::Read);
            }
            MInst::XmmSelect { cond, dst, a } => {
                f(cond, Use::Read);
                f(a, Use::Read);
                f(dst, Use::Modify);
            }
            MInst::CheckedAddr {
                addr, base, index, ..
            } => {
                f(addr, Use::Read);
                f(base, Use::Early);
                f(index, Use::Early);
            }
            MInst::CheckRange { addr, len, tmp } => {
                f(addr, Use::Read);
                f(len, Use::Read);
                f(tmp, Use::Early);
            }
            MInst::InterruptCheck
            | MInst::Jmp { .. }
            | MInst::Jcc { .. }
            | MInst::TrapIf { .. }
            | MInst::Trap { .. } => {}
            MInst::JumpTable { index, tmp, .. } => {
                f(index, Use::Read);
                f(tmp, Use::Early);
            }
            MInst::Ret { regs } => regs.iter_mut().for_each(|r| f(r, Use::Read)),
            MInst::Call { uses, defs, .. } => {
                uses.iter_mut().for_each(|r| f(r, Use::Read));
                defs.iter_mut().for_each(|r| f(r, Use::Write));
            }
        }
    }

    /// Physical registers the instruction destroys beyond its operands.
    pub(crate) fn clobbers(&self) -> &'static [u32] {
        match self {
            MInst::Call {
                target: CallTarget::Lib(_),
                ..
            } => &SYSV_CALLER_SAVED,
            MInst::Call { .. } => &CALLER_SAVED,
            _ => &[],
        }
    }

    /// A register-to-register copy the allocator may coalesce away.
    pub(crate) fn as_move(&self) -> Option<(Reg, Reg)> {
        match *self {
            MInst::Mov { dst, src } | MInst::XmmMov { dst, src } => Some((dst, src)),
            _ => None,
        }
    }
}
