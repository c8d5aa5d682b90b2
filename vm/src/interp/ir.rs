//! The interpreter's internal form: a register machine.
//!
//! Every function runs in a *frame* of 64-bit slots: its parameters and locals first,
//! then one slot per operand-stack position (two for `v128`). The operand stack's shape
//! is static in WebAssembly, so each Wasm operand maps to a fixed slot, and an
//! instruction such as `i32.add` becomes one op naming its two source slots and its
//! destination slot. `local.get` emits nothing (the op reads the local's slot directly),
//! constants are folded into immediates where an op has an immediate form, and a result
//! followed by `local.set` is written straight into the local.
//!
//! Conventions: `Reg` is a slot index relative to the frame. Tuple variants list the
//! destination first, then sources: `(dst, lhs, rhs)`, `(dst, src)`, `(dst, lhs, imm)`.
//! Branch targets are absolute indices into the function's op array.
//!
//! A call places the callee's frame at the caller's slot `base`, where the arguments
//! already are; the callee leaves its results in its first slots, which are the caller's
//! `base..`. Nothing is copied on call or return.
//!
//! Every op is 16 bytes (checked by a test).

/// A frame slot index.
pub(crate) type Reg = u32;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    // ---- control ----
    /// Traps with `unreachable`.
    Unreachable,
    Br {
        target: u32,
    },
    BrIfNez {
        cond: Reg,
        target: u32,
    },
    BrIfEqz {
        cond: Reg,
        target: u32,
    },
    /// Followed by `len + 1` `Br` ops; the last is the default.
    BrTable {
        index: Reg,
        len: u32,
    },
    /// Results are already in slots `0..`.
    Return,
    /// Copies one slot to slot 0 and returns.
    Return1 {
        src: Reg,
    },
    /// Calls function `func` of this module's *defined* functions, frame at `base`.
    Call {
        func: u32,
        base: Reg,
    },
    /// Calls imported function `func` (index in the function index space).
    CallImport {
        func: u32,
        base: Reg,
    },
    /// The table index operand is in the slot right after the arguments.
    CallIndirect {
        type_index: u32,
        table: u32,
        base: Reg,
    },

    // ---- fused compare-and-branch: branch to `target` when `lhs <cmp> rhs` ----
    BrI32Eq(Reg, Reg, u32),
    BrI32Ne(Reg, Reg, u32),
    BrI32LtS(Reg, Reg, u32),
    BrI32LtU(Reg, Reg, u32),
    BrI32GtS(Reg, Reg, u32),
    BrI32GtU(Reg, Reg, u32),
    BrI32LeS(Reg, Reg, u32),
    BrI32LeU(Reg, Reg, u32),
    BrI32GeS(Reg, Reg, u32),
    BrI32GeU(Reg, Reg, u32),
    BrI32EqImm(Reg, i32, u32),
    BrI32NeImm(Reg, i32, u32),
    BrI32LtSImm(Reg, i32, u32),
    BrI32LtUImm(Reg, i32, u32),
    BrI32GtSImm(Reg, i32, u32),
    BrI32GtUImm(Reg, i32, u32),
    BrI32LeSImm(Reg, i32, u32),
    BrI32LeUImm(Reg, i32, u32),
    BrI32GeSImm(Reg, i32, u32),
    BrI32GeUImm(Reg, i32, u32),
    BrI64Eq(Reg, Reg, u32),
    BrI64Ne(Reg, Reg, u32),
    BrI64LtS(Reg, Reg, u32),
    BrI64LtU(Reg, Reg, u32),
    BrI64GtS(Reg, Reg, u32),
    BrI64GtU(Reg, Reg, u32),
    BrI64LeS(Reg, Reg, u32),
    BrI64LeU(Reg, Reg, u32),
    BrI64GeS(Reg, Reg, u32),
    BrI64GeU(Reg, Reg, u32),
    BrI64EqImm(Reg, i32, u32),
    BrI64NeImm(Reg, i32, u32),
    BrI64LtSImm(Reg, i32, u32),
    BrI64LtUImm(Reg, i32, u32),
    BrI64GtSImm(Reg, i32, u32),
    BrI64GtUImm(Reg, i32, u32),
    BrI64LeSImm(Reg, i32, u32),
    BrI64LeUImm(Reg, i32, u32),
    BrI64GeSImm(Reg, i32, u32),
    BrI64GeUImm(Reg, i32, u32),
    BrI64Eqz(Reg, u32),
    BrI64Nez(Reg, u32),

    // ---- moves ----
    Copy {
        dst: Reg,
        src: Reg,
    },
    /// Copies two slots (a `v128`).
    Copy2 {
        dst: Reg,
        src: Reg,
    },
    /// `if cond == 0 { dst = src }`: the second half of `select`.
    CopyIfEqz {
        dst: Reg,
        src: Reg,
        cond: Reg,
    },
    CopyIfEqz2 {
        dst: Reg,
        src: Reg,
        cond: Reg,
    },
    Const32 {
        dst: Reg,
        value: u32,
    },
    Const64 {
        dst: Reg,
        value: u64,
    },

    // ---- variables ----
    GlobalGet {
        dst: Reg,
        global: u32,
    },
    GlobalSet {
        src: Reg,
        global: u32,
    },
    GlobalGet2 {
        dst: Reg,
        global: u32,
    },
    GlobalSet2 {
        src: Reg,
        global: u32,
    },

    // ---- memory: (dst, addr, offset) and (addr, src, offset) ----
    I32Load(Reg, Reg, u32),
    I64Load(Reg, Reg, u32),
    I32Load8S(Reg, Reg, u32),
    I32Load8U(Reg, Reg, u32),
    I32Load16S(Reg, Reg, u32),
    I32Load16U(Reg, Reg, u32),
    I64Load8S(Reg, Reg, u32),
    I64Load8U(Reg, Reg, u32),
    I64Load16S(Reg, Reg, u32),
    I64Load16U(Reg, Reg, u32),
    I64Load32S(Reg, Reg, u32),
    I64Load32U(Reg, Reg, u32),
    Store8(Reg, Reg, u32),
    Store16(Reg, Reg, u32),
    Store32(Reg, Reg, u32),
    Store64(Reg, Reg, u32),
    /// Stores of a constant: (addr, value, offset).
    Store8Imm(Reg, i32, u32),
    Store16Imm(Reg, i32, u32),
    Store32Imm(Reg, i32, u32),
    /// Stores an i64 constant that fits in 32 bits, sign-extended.
    Store64Imm(Reg, i32, u32),
    MemorySize {
        dst: Reg,
    },
    MemoryGrow {
        dst: Reg,
        delta: Reg,
    },
    /// Operands (destination, source, length) at `base..base + 3`.
    MemoryInit {
        data: u32,
        base: Reg,
    },
    DataDrop {
        data: u32,
    },
    /// Operands (destination, source, length) at `base..base + 3`.
    MemoryCopy {
        base: Reg,
    },
    /// Operands (destination, value, length) at `base..base + 3`.
    MemoryFill {
        base: Reg,
    },

    // ---- tables ----
    TableGet {
        dst: Reg,
        table: u32,
        index: Reg,
    },
    TableSet {
        table: u32,
        index: Reg,
        value: Reg,
    },
    TableSize {
        dst: Reg,
        table: u32,
    },
    /// Operands (init value, delta) at `base..base + 2`; result to `base`.
    TableGrow {
        table: u32,
        base: Reg,
    },
    /// Operands (index, value, length) at `base..base + 3`.
    TableFill {
        table: u32,
        base: Reg,
    },
    /// Operands (destination, source, length) at `base..base + 3`.
    TableCopy {
        dst_table: u32,
        src_table: u32,
        base: Reg,
    },
    /// Operands (destination, source, length) at `base..base + 3`.
    TableInit {
        elem: u32,
        table: u32,
        base: Reg,
    },
    ElemDrop {
        elem: u32,
    },
    RefFunc {
        dst: Reg,
        func: u32,
    },

    // ---- i32 ----
    I32Eqz(Reg, Reg),
    I32Eq(Reg, Reg, Reg),
    I32Ne(Reg, Reg, Reg),
    I32LtS(Reg, Reg, Reg),
    I32LtU(Reg, Reg, Reg),
    I32GtS(Reg, Reg, Reg),
    I32GtU(Reg, Reg, Reg),
    I32LeS(Reg, Reg, Reg),
    I32LeU(Reg, Reg, Reg),
    I32GeS(Reg, Reg, Reg),
    I32GeU(Reg, Reg, Reg),
    I32Clz(Reg, Reg),
    I32Ctz(Reg, Reg),
    I32Popcnt(Reg, Reg),
    I32Add(Reg, Reg, Reg),
    I32Sub(Reg, Reg, Reg),
    I32Mul(Reg, Reg, Reg),
    I32DivS(Reg, Reg, Reg),
    I32DivU(Reg, Reg, Reg),
    I32RemS(Reg, Reg, Reg),
    I32RemU(Reg, Reg, Reg),
    I32And(Reg, Reg, Reg),
    I32Or(Reg, Reg, Reg),
    I32Xor(Reg, Reg, Reg),
    I32Shl(Reg, Reg, Reg),
    I32ShrS(Reg, Reg, Reg),
    I32ShrU(Reg, Reg, Reg),
    I32Rotl(Reg, Reg, Reg),
    I32Rotr(Reg, Reg, Reg),
    I32EqImm(Reg, Reg, i32),
    I32NeImm(Reg, Reg, i32),
    I32LtSImm(Reg, Reg, i32),
    I32LtUImm(Reg, Reg, i32),
    I32GtSImm(Reg, Reg, i32),
    I32GtUImm(Reg, Reg, i32),
    I32LeSImm(Reg, Reg, i32),
    I32LeUImm(Reg, Reg, i32),
    I32GeSImm(Reg, Reg, i32),
    I32GeUImm(Reg, Reg, i32),
    I32AddImm(Reg, Reg, i32),
    I32MulImm(Reg, Reg, i32),
    /// Immediate divisors are never 0 or -1, so these cannot trap.
    I32DivSImm(Reg, Reg, i32),
    I32DivUImm(Reg, Reg, i32),
    I32RemSImm(Reg, Reg, i32),
    I32RemUImm(Reg, Reg, i32),
    I32AndImm(Reg, Reg, i32),
    I32OrImm(Reg, Reg, i32),
    I32XorImm(Reg, Reg, i32),
    I32ShlImm(Reg, Reg, i32),
    I32ShrSImm(Reg, Reg, i32),
    I32ShrUImm(Reg, Reg, i32),
    I32RotlImm(Reg, Reg, i32),
    I32RotrImm(Reg, Reg, i32),
    /// `imm - src`.
    I32SubImmRev(Reg, Reg, i32),

    // ---- i64 (immediates are sign-extended i32) ----
    I64Eqz(Reg, Reg),
    I64Eq(Reg, Reg, Reg),
    I64Ne(Reg, Reg, Reg),
    I64LtS(Reg, Reg, Reg),
    I64LtU(Reg, Reg, Reg),
    I64GtS(Reg, Reg, Reg),
    I64GtU(Reg, Reg, Reg),
    I64LeS(Reg, Reg, Reg),
    I64LeU(Reg, Reg, Reg),
    I64GeS(Reg, Reg, Reg),
    I64GeU(Reg, Reg, Reg),
    I64Clz(Reg, Reg),
    I64Ctz(Reg, Reg),
    I64Popcnt(Reg, Reg),
    I64Add(Reg, Reg, Reg),
    I64Sub(Reg, Reg, Reg),
    I64Mul(Reg, Reg, Reg),
    I64DivS(Reg, Reg, Reg),
    I64DivU(Reg, Reg, Reg),
    I64RemS(Reg, Reg, Reg),
    I64RemU(Reg, Reg, Reg),
    I64And(Reg, Reg, Reg),
    I64Or(Reg, Reg, Reg),
    I64Xor(Reg, Reg, Reg),
    I64Shl(Reg, Reg, Reg),
    I64ShrS(Reg, Reg, Reg),
    I64ShrU(Reg, Reg, Reg),
    I64Rotl(Reg, Reg, Reg),
    I64Rotr(Reg, Reg, Reg),
    I64EqImm(Reg, Reg, i32),
    I64NeImm(Reg, Reg, i32),
    I64LtSImm(Reg, Reg, i32),
    I64LtUImm(Reg, Reg, i32),
    I64GtSImm(Reg, Reg, i32),
    I64GtUImm(Reg, Reg, i32),
    I64LeSImm(Reg, Reg, i32),
    I64LeUImm(Reg, Reg, i32),
    I64GeSImm(Reg, Reg, i32),
    I64GeUImm(Reg, Reg, i32),
    I64AddImm(Reg, Reg, i32),
    I64MulImm(Reg, Reg, i32),
    I64DivSImm(Reg, Reg, i32),
    I64DivUImm(Reg, Reg, i32),
    I64RemSImm(Reg, Reg, i32),
    I64RemUImm(Reg, Reg, i32),
    I64AndImm(Reg, Reg, i32),
    I64OrImm(Reg, Reg, i32),
    I64XorImm(Reg, Reg, i32),
    I64ShlImm(Reg, Reg, i32),
    I64ShrSImm(Reg, Reg, i32),
    I64ShrUImm(Reg, Reg, i32),
    I64RotlImm(Reg, Reg, i32),
    I64RotrImm(Reg, Reg, i32),
    I64SubImmRev(Reg, Reg, i32),

    // ---- f32 ----
    F32Eq(Reg, Reg, Reg),
    F32Ne(Reg, Reg, Reg),
    F32Lt(Reg, Reg, Reg),
    F32Gt(Reg, Reg, Reg),
    F32Le(Reg, Reg, Reg),
    F32Ge(Reg, Reg, Reg),
    F32Abs(Reg, Reg),
    F32Neg(Reg, Reg),
    F32Ceil(Reg, Reg),
    F32Floor(Reg, Reg),
    F32Trunc(Reg, Reg),
    F32Nearest(Reg, Reg),
    F32Sqrt(Reg, Reg),
    F32Add(Reg, Reg, Reg),
    F32Sub(Reg, Reg, Reg),
    F32Mul(Reg, Reg, Reg),
    F32Div(Reg, Reg, Reg),
    F32Min(Reg, Reg, Reg),
    F32Max(Reg, Reg, Reg),
    F32Copysign(Reg, Reg, Reg),

    // ---- f64 ----
    F64Eq(Reg, Reg, Reg),
    F64Ne(Reg, Reg, Reg),
    F64Lt(Reg, Reg, Reg),
    F64Gt(Reg, Reg, Reg),
    F64Le(Reg, Reg, Reg),
    F64Ge(Reg, Reg, Reg),
    F64Abs(Reg, Reg),
    F64Neg(Reg, Reg),
    F64Ceil(Reg, Reg),
    F64Floor(Reg, Reg),
    F64Trunc(Reg, Reg),
    F64Nearest(Reg, Reg),
    F64Sqrt(Reg, Reg),
    F64Add(Reg, Reg, Reg),
    F64Sub(Reg, Reg, Reg),
    F64Mul(Reg, Reg, Reg),
    F64Div(Reg, Reg, Reg),
    F64Min(Reg, Reg, Reg),
    F64Max(Reg, Reg, Reg),
    F64Copysign(Reg, Reg, Reg),

    // ---- conversions ----
    I32WrapI64(Reg, Reg),
    I32TruncF32S(Reg, Reg),
    I32TruncF32U(Reg, Reg),
    I32TruncF64S(Reg, Reg),
    I32TruncF64U(Reg, Reg),
    I64ExtendI32S(Reg, Reg),
    I64ExtendI32U(Reg, Reg),
    I64TruncF32S(Reg, Reg),
    I64TruncF32U(Reg, Reg),
    I64TruncF64S(Reg, Reg),
    I64TruncF64U(Reg, Reg),
    F32ConvertI32S(Reg, Reg),
    F32ConvertI32U(Reg, Reg),
    F32ConvertI64S(Reg, Reg),
    F32ConvertI64U(Reg, Reg),
    F32DemoteF64(Reg, Reg),
    F64ConvertI32S(Reg, Reg),
    F64ConvertI32U(Reg, Reg),
    F64ConvertI64S(Reg, Reg),
    F64ConvertI64U(Reg, Reg),
    F64PromoteF32(Reg, Reg),
    I32Extend8S(Reg, Reg),
    I32Extend16S(Reg, Reg),
    I64Extend8S(Reg, Reg),
    I64Extend16S(Reg, Reg),
    I64Extend32S(Reg, Reg),
    I32TruncSatF32S(Reg, Reg),
    I32TruncSatF32U(Reg, Reg),
    I32TruncSatF64S(Reg, Reg),
    I32TruncSatF64U(Reg, Reg),
    I64TruncSatF32S(Reg, Reg),
    I64TruncSatF32U(Reg, Reg),
    I64TruncSatF64S(Reg, Reg),
    I64TruncSatF64U(Reg, Reg),
}

impl Op {
    /// The slot this op writes as its single result, if it is a plain `dst`-first
    /// computation whose destination may be redirected (to fold a following `local.set`).
    pub(crate) fn retargetable_dst(&mut self) -> Option<&mut Reg> {
        use Op::*;
        match self {
            Copy { dst, .. } | Const32 { dst, .. } | Const64 { dst, .. } => Some(dst),
            GlobalGet { dst, .. } | MemorySize { dst } | RefFunc { dst, .. } => Some(dst),
            TableGet { dst, .. } | TableSize { dst, .. } | MemoryGrow { dst, .. } => Some(dst),
            I32Load(d, ..)
            | I64Load(d, ..)
            | I32Load8S(d, ..)
            | I32Load8U(d, ..)
            | I32Load16S(d, ..)
            | I32Load16U(d, ..)
            | I64Load8S(d, ..)
            | I64Load8U(d, ..)
            | I64Load16S(d, ..)
            | I64Load16U(d, ..)
            | I64Load32S(d, ..)
            | I64Load32U(d, ..) => Some(d),
            I32Eqz(d, _)
            | I32Clz(d, _)
            | I32Ctz(d, _)
            | I32Popcnt(d, _)
            | I64Eqz(d, _)
            | I64Clz(d, _)
            | I64Ctz(d, _)
            | I64Popcnt(d, _)
            | F32Abs(d, _)
            | F32Neg(d, _)
            | F32Ceil(d, _)
            | F32Floor(d, _)
            | F32Trunc(d, _)
            | F32Nearest(d, _)
            | F32Sqrt(d, _)
            | F64Abs(d, _)
            | F64Neg(d, _)
            | F64Ceil(d, _)
            | F64Floor(d, _)
            | F64Trunc(d, _)
            | F64Nearest(d, _)
            | F64Sqrt(d, _)
            | I32WrapI64(d, _)
            | I32TruncF32S(d, _)
            | I32TruncF32U(d, _)
            | I32TruncF64S(d, _)
            | I32TruncF64U(d, _)
            | I64ExtendI32S(d, _)
            | I64ExtendI32U(d, _)
            | I64TruncF32S(d, _)
            | I64TruncF32U(d, _)
            | I64TruncF64S(d, _)
            | I64TruncF64U(d, _)
            | F32ConvertI32S(d, _)
            | F32ConvertI32U(d, _)
            | F32ConvertI64S(d, _)
            | F32ConvertI64U(d, _)
            | F32DemoteF64(d, _)
            | F64ConvertI32S(d, _)
            | F64ConvertI32U(d, _)
            | F64ConvertI64S(d, _)
            | F64ConvertI64U(d, _)
            | F64PromoteF32(d, _)
            | I32Extend8S(d, _)
            | I32Extend16S(d, _)
            | I64Extend8S(d, _)
            | I64Extend16S(d, _)
            | I64Extend32S(d, _)
            | I32TruncSatF32S(d, _)
            | I32TruncSatF32U(d, _)
            | I32TruncSatF64S(d, _)
            | I32TruncSatF64U(d, _)
            | I64TruncSatF32S(d, _)
            | I64TruncSatF32U(d, _)
            | I64TruncSatF64S(d, _)
            | I64TruncSatF64U(d, _) => Some(d),
            I32Eq(d, ..)
            | I32Ne(d, ..)
            | I32LtS(d, ..)
            | I32LtU(d, ..)
            | I32GtS(d, ..)
            | I32GtU(d, ..)
            | I32LeS(d, ..)
            | I32LeU(d, ..)
            | I32GeS(d, ..)
            | I32GeU(d, ..)
            | I32Add(d, ..)
            | I32Sub(d, ..)
            | I32Mul(d, ..)
            | I32DivS(d, ..)
            | I32DivU(d, ..)
            | I32RemS(d, ..)
            | I32RemU(d, ..)
            | I32And(d, ..)
            | I32Or(d, ..)
            | I32Xor(d, ..)
            | I32Shl(d, ..)
            | I32ShrS(d, ..)
            | I32ShrU(d, ..)
            | I32Rotl(d, ..)
            | I32Rotr(d, ..)
            | I64Eq(d, ..)
            | I64Ne(d, ..)
            | I64LtS(d, ..)
            | I64LtU(d, ..)
            | I64GtS(d, ..)
            | I64GtU(d, ..)
            | I64LeS(d, ..)
            | I64LeU(d, ..)
            | I64GeS(d, ..)
            | I64GeU(d, ..)
            | I64Add(d, ..)
            | I64Sub(d, ..)
            | I64Mul(d, ..)
            | I64DivS(d, ..)
            | I64DivU(d, ..)
            | I64RemS(d, ..)
            | I64RemU(d, ..)
            | I64And(d, ..)
            | I64Or(d, ..)
            | I64Xor(d, ..)
            | I64Shl(d, ..)
            | I64ShrS(d, ..)
            | I64ShrU(d, ..)
            | I64Rotl(d, ..)
            | I64Rotr(d, ..)
            | F32Eq(d, ..)
            | F32Ne(d, ..)
            | F32Lt(d, ..)
            | F32Gt(d, ..)
            | F32Le(d, ..)
            | F32Ge(d, ..)
            | F32Add(d, ..)
            | F32Sub(d, ..)
            | F32Mul(d, ..)
            | F32Div(d, ..)
            | F32Min(d, ..)
            | F32Max(d, ..)
            | F32Copysign(d, ..)
            | F64Eq(d, ..)
            | F64Ne(d, ..)
            | F64Lt(d, ..)
            | F64Gt(d, ..)
            | F64Le(d, ..)
            | F64Ge(d, ..)
            | F64Add(d, ..)
            | F64Sub(d, ..)
            | F64Mul(d, ..)
            | F64Div(d, ..)
            | F64Min(d, ..)
            | F64Max(d, ..)
            | F64Copysign(d, ..) => Some(d),
            I32EqImm(d, ..)
            | I32NeImm(d, ..)
            | I32LtSImm(d, ..)
            | I32LtUImm(d, ..)
            | I32GtSImm(d, ..)
            | I32GtUImm(d, ..)
            | I32LeSImm(d, ..)
            | I32LeUImm(d, ..)
            | I32GeSImm(d, ..)
            | I32GeUImm(d, ..)
            | I32AddImm(d, ..)
            | I32MulImm(d, ..)
            | I32DivSImm(d, ..)
            | I32DivUImm(d, ..)
            | I32RemSImm(d, ..)
            | I32RemUImm(d, ..)
            | I32AndImm(d, ..)
            | I32OrImm(d, ..)
            | I32XorImm(d, ..)
            | I32ShlImm(d, ..)
            | I32ShrSImm(d, ..)
            | I32ShrUImm(d, ..)
            | I32RotlImm(d, ..)
            | I32RotrImm(d, ..)
            | I32SubImmRev(d, ..)
            | I64EqImm(d, ..)
            | I64NeImm(d, ..)
            | I64LtSImm(d, ..)
            | I64LtUImm(d, ..)
            | I64GtSImm(d, ..)
            | I64GtUImm(d, ..)
            | I64LeSImm(d, ..)
            | I64LeUImm(d, ..)
            | I64GeSImm(d, ..)
            | I64GeUImm(d, ..)
            | I64AddImm(d, ..)
            | I64MulImm(d, ..)
            | I64DivSImm(d, ..)
            | I64DivUImm(d, ..)
            | I64RemSImm(d, ..)
            | I64RemUImm(d, ..)
            | I64AndImm(d, ..)
            | I64OrImm(d, ..)
            | I64XorImm(d, ..)
            | I64ShlImm(d, ..)
            | I64ShrSImm(d, ..)
            | I64ShrUImm(d, ..)
            | I64RotlImm(d, ..)
            | I64RotrImm(d, ..)
            | I64SubImmRev(d, ..) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn op_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 16);
    }
}
