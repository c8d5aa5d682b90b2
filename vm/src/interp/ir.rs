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
//! Every op is 16 bytes (checked by a test): a 2-byte tag and up to three 32-bit fields,
//! plus one byte (a lane index) in the space after the tag; the joined pairs
//! (`translate::join_pairs`) pack two ops' registers as six 16-bit fields instead. Immediates that do not fit,
//! the 16 bytes of a `v128.const` and of an `i8x16.shuffle` mask, live in the function's
//! constant pool (`CompiledFunc::consts`, a `Box<[u128]>` with equal values shared) and
//! ops name them by index. Vector ops that need more registers than fit take their
//! operands side by side at a `base` slot, as the bulk memory ops do: `v128.bitselect`
//! (three vectors), `i8x16.shuffle` (two vectors) and the lane loads (address and
//! vector). Float `splat`, `extract_lane` and `replace_lane` use the integer op of the
//! same width, since they only move bits.
//!
//! Multi-memory: the memory ops without a memory index always mean memory 0, whose base
//! and size the interpreter caches. Other memories have their own ops, so memory 0 pays
//! nothing for them: `MemoryAccessN` (every load and store, with a one-byte
//! [`MemAccess`] saying which, its operands side by side at `base` and its result at
//! `base`, because a destination would not fit beside the memory index) and
//! `MemorySizeN`, `MemoryGrowN`, `MemoryInitN`, `MemoryCopyN`, `MemoryFillN`. See
//! docs/multi-memory.md.

/// A frame slot index.
pub(crate) type Reg = u32;

/// What [`Op::MemoryAccessN`] does: every load and store, scalar and vector, by its
/// access. One byte, so it fits beside the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum MemAccess {
    I32Load,
    I64Load,
    I32Load8S,
    I32Load8U,
    I32Load16S,
    I32Load16U,
    I64Load8S,
    I64Load8U,
    I64Load16S,
    I64Load16U,
    I64Load32S,
    I64Load32U,
    Store8,
    Store16,
    Store32,
    Store64,
    V128Load,
    V128Load8x8S,
    V128Load8x8U,
    V128Load16x4S,
    V128Load16x4U,
    V128Load32x2S,
    V128Load32x2U,
    V128Load8Splat,
    V128Load16Splat,
    V128Load32Splat,
    V128Load64Splat,
    V128Load32Zero,
    V128Load64Zero,
    V128Store,
    V128Load8Lane,
    V128Load16Lane,
    V128Load32Lane,
    V128Load64Lane,
    V128Store8Lane,
    V128Store16Lane,
    V128Store32Lane,
    V128Store64Lane,
}

impl MemAccess {
    /// Bytes read or written.
    pub(crate) fn width(self) -> usize {
        use MemAccess::*;
        match self {
            I32Load8S | I32Load8U | I64Load8S | I64Load8U | Store8 | V128Load8Splat
            | V128Load8Lane | V128Store8Lane => 1,
            I32Load16S | I32Load16U | I64Load16S | I64Load16U | Store16 | V128Load16Splat
            | V128Load16Lane | V128Store16Lane => 2,
            I32Load | I64Load32S | I64Load32U | Store32 | V128Load32Splat | V128Load32Zero
            | V128Load32Lane | V128Store32Lane => 4,
            I64Load | Store64 | V128Load8x8S | V128Load8x8U | V128Load16x4S | V128Load16x4U
            | V128Load32x2S | V128Load32x2U | V128Load64Splat | V128Load64Zero | V128Load64Lane
            | V128Store64Lane => 8,
            V128Load | V128Store => 16,
        }
    }
}

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
    /// `BrTable` on the byte at `addr + offset` (`i32.load8_u` feeding `br_table`),
    /// trapping as the load does, after writing the byte to `dst` (a temporary, or the
    /// local a `local.tee` kept it in: the VDBE's opcode switch). Followed by `len + 1`
    /// `Br` ops like `BrTable`.
    BrTableLoad8U {
        dst: u16,
        addr: u16,
        offset: u32,
        len: u32,
    },
    /// Results are already in slots `0..`.
    Return,
    /// Half of a constant-pool entry (`v128.const` values, shuffle masks; low half
    /// first), never executed: the pool follows the function's last op, so an op finds
    /// its entry from the code pointer alone.
    PoolWord(u64),
    /// Copies one slot to slot 0 and returns.
    Return1 {
        src: Reg,
    },
    /// Calls function `func` of this module's *defined* functions, frame at `base`.
    /// The callee's first result lands in `dst`: `base` (where the results are), or
    /// the local a `local.set` of a single one-slot result was folded into (the return
    /// writes it there, saving the caller a `Copy`).
    Call {
        func: u32,
        base: Reg,
        dst: Reg,
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

    // ---- fused test-and-branch: the value tested is a temporary nothing else reads ----
    /// Branch when `lhs & imm != 0` (`i32.and` with a constant feeding `br_if`/`if`).
    BrI32AndImmNez(Reg, i32, u32),
    /// Branch when `lhs & imm == 0`.
    BrI32AndImmEqz(Reg, i32, u32),
    /// Branch when the i32 loaded from memory 0 at `addr + offset` is nonzero:
    /// `(addr, offset, target)`. Traps as `i32.load` does.
    BrI32LoadNez(Reg, u32, u32),
    /// Branch when that i32 is zero.
    BrI32LoadEqz(Reg, u32, u32),
    /// Branch when the byte at `addr + offset` is nonzero (`i32.load8_u` feeding a branch).
    BrI32Load8UNez(Reg, u32, u32),
    /// Branch when that byte is zero.
    BrI32Load8UEqz(Reg, u32, u32),
    /// Branch when the byte at `(a + imm) + offset` is nonzero (an `i32.load8_u` of an
    /// `i32.add` with a constant feeding `br_if`/`if`; the add wraps before the offset).
    BrI32Load8UAddImmNez(u16, i32, u32, u32),
    /// Branch when that byte is zero.
    BrI32Load8UAddImmEqz(u16, i32, u32, u32),
    /// Two `i32.load8_u` (offset 0) and a branch when their bytes differ, as the three
    /// ops did in order (the loop of a byte-wise `memcmp`): `dst_a = mem[addr_a]`, then
    /// `dst_b = mem[addr_b]`, then branch if the two differ. `(dst_a, dst_b, addr_a |
    /// addr_b << 16, target)`: `dst_a` and the addresses are 16 bits wide (the translator
    /// fuses only when they fit; the packing dates from when a new field shape cost
    /// every op in the dispatch, see docs/interpreter.md). Each load traps as it did.
    BrI32Load8UNe(u16, Reg, u32, u32),
    /// The same, branching when the bytes are equal.
    BrI32Load8UEq(u16, Reg, u32, u32),
    /// `reg = reg + imm` (i32), then branch when the result is nonzero: a counter stepped
    /// in place and tested (`local.tee`/`local.set` + `local.get` + `br_if`).
    I32AddImmBrNez(Reg, i32, u32),
    /// `reg = reg + imm`, then branch when the result is zero.
    I32AddImmBrEqz(Reg, i32, u32),

    // ---- fused address arithmetic: the intermediate is a temporary nothing else reads ----
    /// `dst = base + (index << shift)` (i32): `i32.shl` by a constant feeding `i32.add`.
    /// `shift` is already reduced mod 32.
    I32AddShl {
        dst: Reg,
        base: Reg,
        index: Reg,
        shift: u8,
    },
    /// Memory-0 loads from `(addr + add) as u32 + offset`: `i32.add` of a constant
    /// feeding the load's address. `(dst, addr, add, offset)`; the address register is
    /// 16 bits wide so the op stays 16 bytes (the translator fuses only when it fits).
    I32LoadAddImm(Reg, u16, i32, u32),
    I64LoadAddImm(Reg, u16, i32, u32),
    I32Load8UAddImm(Reg, u16, i32, u32),
    I32Load8SAddImm(Reg, u16, i32, u32),
    I32Load16UAddImm(Reg, u16, i32, u32),
    I32Load16SAddImm(Reg, u16, i32, u32),
    /// Memory-0 loads from `(lhs + rhs) as u32 + offset`: `i32.add` feeding the load's
    /// address. `(dst, lhs, rhs, offset)`, 16-bit source registers.
    I32LoadAdd(Reg, u16, u16, u32),
    I64LoadAdd(Reg, u16, u16, u32),
    I32Load8UAdd(Reg, u16, u16, u32),
    I32Load8SAdd(Reg, u16, u16, u32),
    I32Load16UAdd(Reg, u16, u16, u32),
    I32Load16SAdd(Reg, u16, u16, u32),

    // ---- joined pairs: two adjacent ops as one (`translate::join_pairs`) ----
    /// `Copy { dst, src }` then `Call { func, base, dst: ret }` (an argument taken from a
    /// local); the `Call` stays in the code as the frame's return point.
    CopyThenCall {
        func: u32,
        base: u16,
        ret: u16,
        dst: u16,
        src: u16,
    },
    /// `Copy { dst: base + k1, src: s1 }`, `Copy { dst: base + k2, src: s2 }`, then
    /// `Call { func, base, dst: ret }`; the second copy and the `Call` stay in the code.
    CopyPairThenCall {
        func: u32,
        base: u16,
        ret: u16,
        s1: u16,
        s2: u16,
        k1: u8,
        k2: u8,
    },
    /// `Copy { dst: d1, src: s1 }` then `Copy { dst: d2, src: s2 }`, in that order.
    CopyPair {
        d1: u16,
        s1: u16,
        d2: u16,
        s2: u16,
    },
    /// `I32AddImm(d1, a1, i1)` then `I32AddImm(d2, a2, i2)`, in that order (the second
    /// may read the first's result).
    I32AddImmPair {
        d1: u16,
        a1: u16,
        i1: i16,
        d2: u16,
        a2: u16,
        i2: i16,
    },
    /// `I32Load(d1, a1, o1)` then `I32Load(d2, a2, o2)`, in that order: the first load
    /// traps or writes `d1` before the second reads `a2` (which may be `d1`).
    I32LoadPair {
        d1: u16,
        a1: u16,
        o1: u16,
        d2: u16,
        a2: u16,
        o2: u16,
    },
    /// `I32AddImm(d, a, imm)` then `Store8Imm(d, value, offset)`: a byte constant stored
    /// at the address just computed (`p[i] = 1`).
    I32AddImmThenStore8Imm {
        d: u16,
        a: u16,
        imm: i32,
        offset: u32,
        value: u8,
    },
    /// `I32Add(d, a, b)` then `BrI32LeU(x, y, target)`: a loop's stride and its bound
    /// `I32AddImm(d, a, imm)` then `BrI32Ne(x, y, target)` (a counter stepped and
    /// compared with its bound: `for (i = 0; i != n; i++)`, as clang rotates loops).
    I32AddImmThenBrI32Ne {
        d: u16,
        a: u16,
        imm: i16,
        x: u16,
        y: u16,
        target: u32,
    },
    /// (`for (j = ..; j <= n; j += i)`).
    I32AddThenBrI32LeU {
        d: u16,
        a: u16,
        b: u16,
        x: u16,
        y: u16,
        target: u32,
    },
    /// `I64Load(d1, a1, o1)` then `I64Load(d2, a2, o2)`, in that order (f64 operands too).
    I64LoadPair {
        d1: u16,
        a1: u16,
        o1: u16,
        d2: u16,
        a2: u16,
        o2: u16,
    },
    /// `F64Add(d1, a1, b1)` then `F64Add(d2, a2, d1)`, in that order: the second adds
    /// the first's sum, handed over in a register instead of through its slot (a sum of
    /// products, whose chain of additions bounds the loop).
    F64AddThenAdd {
        d1: u16,
        a1: u16,
        b1: u16,
        d2: u16,
        a2: u16,
    },
    /// `I32Add(d, a, b)` then `Return1 { src }` (a function returning a sum).
    I32AddThenReturn1 {
        d: u16,
        a: u16,
        b: u16,
        src: u16,
    },
    /// `GlobalSetAddImm { global, src, imm }` then `Return1 { src: ret }` (the
    /// stack-pointer epilogue of a function returning one value).
    GlobalSetAddImmThenReturn1 {
        global: u16,
        src: u16,
        ret: u16,
        imm: i32,
    },
    /// `I32AddImm(d, a, imm)` then `Br { target }` (a loop's step and back edge).
    I32AddImmThenBr {
        d: u16,
        a: u16,
        imm: i32,
        target: u32,
    },
    /// `I32AddImm(d, a, imm)` then `I32AddImmBrNez(x, c, target)` (two counters stepped,
    /// the second tested).
    I32AddImmThenAddImmBrNez {
        d: u16,
        a: u16,
        imm: i16,
        x: u16,
        c: i16,
        target: u32,
    },
    /// `I32Load(d, a, offset)` then `BrIfEqz { cond: d, target }`: a loaded value kept
    /// in a local (`local.tee`) and tested.
    I32LoadThenBrIfEqz {
        d: u16,
        a: u16,
        offset: u32,
        target: u32,
    },
    /// A whole byte-compare loop (wasi-libc's `memcmp`: `BrI32Load8UNe` on `*a`, `*b`,
    /// then `a += 1`, `b += 1`, then `n -= 1` and back to the compare while `n != 0`),
    /// run inside one op. Each iteration does what the four ops did, in order: both
    /// loads (trapping as they did), the branch to `exit` when the bytes differ, the
    /// three steps, and the back edge's interrupt check. Falls through past the four
    /// ops (the other three stay in the code, stepped over) when `n` reaches zero. The
    /// five registers are distinct.
    ByteCompareLoop {
        dst_a: u16,
        dst_b: u16,
        a: u16,
        b: u16,
        n: u16,
        exit: u32,
    },

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
    /// `select`: `dst = if cond != 0 { a } else { b }` (i32 `cond`; one-slot values).
    Select {
        dst: Reg,
        a: u16,
        b: u16,
        cond: u16,
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
    /// `global = src + imm` (i32): an `i32.add` of a constant feeding `global.set`, the
    /// stack-pointer epilogue (`global.set $sp (i32.add (local.get $fp) (i32.const N))`).
    GlobalSetAddImm {
        global: u32,
        src: Reg,
        imm: i32,
    },
    /// `dst = global + imm; global = dst` (i32): the stack-pointer prologue (`global.get
    /// $sp; i32.const N; i32.sub; local.tee $fp; global.set $sp`).
    GlobalAddImmTee {
        dst: Reg,
        global: u32,
        imm: i32,
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

    // ---- memories other than memory 0 (multi-memory): `memory` indexes the instance's
    // memories. The ops above always use memory 0 through the cached base and length;
    // these resolve their memory on every execution (see docs/multi-memory.md) ----
    /// A load or store: operands side by side at `base` (the address, then the value to
    /// store or the vector a lane load starts from); a load's result goes to `base`.
    /// `lane` is the lane of a lane access, else 0.
    MemoryAccessN {
        access: MemAccess,
        lane: u8,
        base: Reg,
        offset: u32,
        memory: u32,
    },
    MemorySizeN {
        dst: Reg,
        memory: u32,
    },
    MemoryGrowN {
        dst: Reg,
        delta: Reg,
        memory: u32,
    },
    /// Operands (destination, source, length) at `base..base + 3`.
    MemoryInitN {
        data: u32,
        base: Reg,
        memory: u32,
    },
    /// Operands (destination, source, length) at `base..base + 3`; either memory may be 0,
    /// and both may be the same memory.
    MemoryCopyN {
        base: Reg,
        dst_memory: u32,
        src_memory: u32,
    },
    /// Operands (destination, value, length) at `base..base + 3`.
    MemoryFillN {
        base: Reg,
        memory: u32,
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

    // ---- vectors: a v128 register is two slots, low half first ----
    /// `dst` = the constant-pool entry at code position `index` (two `PoolWord`s).
    V128Const {
        dst: Reg,
        index: u32,
    },
    /// Loads: (dst, addr, offset).
    V128Load(Reg, Reg, u32),
    V128Load8x8S(Reg, Reg, u32),
    V128Load8x8U(Reg, Reg, u32),
    V128Load16x4S(Reg, Reg, u32),
    V128Load16x4U(Reg, Reg, u32),
    V128Load32x2S(Reg, Reg, u32),
    V128Load32x2U(Reg, Reg, u32),
    V128Load8Splat(Reg, Reg, u32),
    V128Load16Splat(Reg, Reg, u32),
    V128Load32Splat(Reg, Reg, u32),
    V128Load64Splat(Reg, Reg, u32),
    V128Load32Zero(Reg, Reg, u32),
    V128Load64Zero(Reg, Reg, u32),
    /// (addr, src, offset).
    V128Store(Reg, Reg, u32),
    /// The address at `base`, the vector at `base + 1`; the vector with lane `lane`
    /// loaded goes to `dst`.
    V128Load8Lane {
        dst: Reg,
        base: Reg,
        offset: u32,
        lane: u8,
    },
    V128Load16Lane {
        dst: Reg,
        base: Reg,
        offset: u32,
        lane: u8,
    },
    V128Load32Lane {
        dst: Reg,
        base: Reg,
        offset: u32,
        lane: u8,
    },
    V128Load64Lane {
        dst: Reg,
        base: Reg,
        offset: u32,
        lane: u8,
    },
    /// Stores lane `lane` of the vector `src`.
    V128Store8Lane {
        addr: Reg,
        src: Reg,
        offset: u32,
        lane: u8,
    },
    V128Store16Lane {
        addr: Reg,
        src: Reg,
        offset: u32,
        lane: u8,
    },
    V128Store32Lane {
        addr: Reg,
        src: Reg,
        offset: u32,
        lane: u8,
    },
    V128Store64Lane {
        addr: Reg,
        src: Reg,
        offset: u32,
        lane: u8,
    },
    /// (dst, vector, lane). The float forms use the integer ops of the same width.
    I8x16ExtractLaneS(Reg, Reg, u32),
    I8x16ExtractLaneU(Reg, Reg, u32),
    I16x8ExtractLaneS(Reg, Reg, u32),
    I16x8ExtractLaneU(Reg, Reg, u32),
    I32x4ExtractLane(Reg, Reg, u32),
    I64x2ExtractLane(Reg, Reg, u32),
    /// `dst = src` with lane `lane` set to the scalar in `value`.
    I8x16ReplaceLane {
        dst: Reg,
        src: Reg,
        value: Reg,
        lane: u8,
    },
    I16x8ReplaceLane {
        dst: Reg,
        src: Reg,
        value: Reg,
        lane: u8,
    },
    I32x4ReplaceLane {
        dst: Reg,
        src: Reg,
        value: Reg,
        lane: u8,
    },
    I64x2ReplaceLane {
        dst: Reg,
        src: Reg,
        value: Reg,
        lane: u8,
    },
    /// Operands at `lhs` and `lhs + 2`; the 16 lane indices are the constant-pool entry
    /// at code position `mask`, one byte each, lane 0 in the low byte.
    I8x16Shuffle {
        dst: Reg,
        lhs: Reg,
        mask: u32,
    },
    /// (dst, base): operands at `base`, `base + 2` and the mask at `base + 4`.
    V128Bitselect(Reg, Reg),
    // splats (dst, scalar)
    I8x16Splat(Reg, Reg),
    I16x8Splat(Reg, Reg),
    I32x4Splat(Reg, Reg),
    I64x2Splat(Reg, Reg),
    // lane-wise unary ops and tests (dst, src)
    V128Not(Reg, Reg),
    V128AnyTrue(Reg, Reg),
    F32x4DemoteF64x2Zero(Reg, Reg),
    F64x2PromoteLowF32x4(Reg, Reg),
    I8x16Abs(Reg, Reg),
    I8x16Neg(Reg, Reg),
    I8x16Popcnt(Reg, Reg),
    I8x16AllTrue(Reg, Reg),
    I8x16Bitmask(Reg, Reg),
    F32x4Ceil(Reg, Reg),
    F32x4Floor(Reg, Reg),
    F32x4Trunc(Reg, Reg),
    F32x4Nearest(Reg, Reg),
    F64x2Ceil(Reg, Reg),
    F64x2Floor(Reg, Reg),
    F64x2Trunc(Reg, Reg),
    I16x8ExtaddPairwiseI8x16S(Reg, Reg),
    I16x8ExtaddPairwiseI8x16U(Reg, Reg),
    I32x4ExtaddPairwiseI16x8S(Reg, Reg),
    I32x4ExtaddPairwiseI16x8U(Reg, Reg),
    I16x8Abs(Reg, Reg),
    I16x8Neg(Reg, Reg),
    I16x8AllTrue(Reg, Reg),
    I16x8Bitmask(Reg, Reg),
    I16x8ExtendLowI8x16S(Reg, Reg),
    I16x8ExtendHighI8x16S(Reg, Reg),
    I16x8ExtendLowI8x16U(Reg, Reg),
    I16x8ExtendHighI8x16U(Reg, Reg),
    F64x2Nearest(Reg, Reg),
    I32x4Abs(Reg, Reg),
    I32x4Neg(Reg, Reg),
    I32x4AllTrue(Reg, Reg),
    I32x4Bitmask(Reg, Reg),
    I32x4ExtendLowI16x8S(Reg, Reg),
    I32x4ExtendHighI16x8S(Reg, Reg),
    I32x4ExtendLowI16x8U(Reg, Reg),
    I32x4ExtendHighI16x8U(Reg, Reg),
    I64x2Abs(Reg, Reg),
    I64x2Neg(Reg, Reg),
    I64x2AllTrue(Reg, Reg),
    I64x2Bitmask(Reg, Reg),
    I64x2ExtendLowI32x4S(Reg, Reg),
    I64x2ExtendHighI32x4S(Reg, Reg),
    I64x2ExtendLowI32x4U(Reg, Reg),
    I64x2ExtendHighI32x4U(Reg, Reg),
    F32x4Abs(Reg, Reg),
    F32x4Neg(Reg, Reg),
    F32x4Sqrt(Reg, Reg),
    F64x2Abs(Reg, Reg),
    F64x2Neg(Reg, Reg),
    F64x2Sqrt(Reg, Reg),
    I32x4TruncSatF32x4S(Reg, Reg),
    I32x4TruncSatF32x4U(Reg, Reg),
    F32x4ConvertI32x4S(Reg, Reg),
    F32x4ConvertI32x4U(Reg, Reg),
    I32x4TruncSatF64x2SZero(Reg, Reg),
    I32x4TruncSatF64x2UZero(Reg, Reg),
    F64x2ConvertLowI32x4S(Reg, Reg),
    F64x2ConvertLowI32x4U(Reg, Reg),
    // lane-wise binary ops (dst, lhs, rhs); shifts take an i32 count as `rhs`
    I8x16Swizzle(Reg, Reg, Reg),
    I8x16Eq(Reg, Reg, Reg),
    I8x16Ne(Reg, Reg, Reg),
    I8x16LtS(Reg, Reg, Reg),
    I8x16LtU(Reg, Reg, Reg),
    I8x16GtS(Reg, Reg, Reg),
    I8x16GtU(Reg, Reg, Reg),
    I8x16LeS(Reg, Reg, Reg),
    I8x16LeU(Reg, Reg, Reg),
    I8x16GeS(Reg, Reg, Reg),
    I8x16GeU(Reg, Reg, Reg),
    I16x8Eq(Reg, Reg, Reg),
    I16x8Ne(Reg, Reg, Reg),
    I16x8LtS(Reg, Reg, Reg),
    I16x8LtU(Reg, Reg, Reg),
    I16x8GtS(Reg, Reg, Reg),
    I16x8GtU(Reg, Reg, Reg),
    I16x8LeS(Reg, Reg, Reg),
    I16x8LeU(Reg, Reg, Reg),
    I16x8GeS(Reg, Reg, Reg),
    I16x8GeU(Reg, Reg, Reg),
    I32x4Eq(Reg, Reg, Reg),
    I32x4Ne(Reg, Reg, Reg),
    I32x4LtS(Reg, Reg, Reg),
    I32x4LtU(Reg, Reg, Reg),
    I32x4GtS(Reg, Reg, Reg),
    I32x4GtU(Reg, Reg, Reg),
    I32x4LeS(Reg, Reg, Reg),
    I32x4LeU(Reg, Reg, Reg),
    I32x4GeS(Reg, Reg, Reg),
    I32x4GeU(Reg, Reg, Reg),
    F32x4Eq(Reg, Reg, Reg),
    F32x4Ne(Reg, Reg, Reg),
    F32x4Lt(Reg, Reg, Reg),
    F32x4Gt(Reg, Reg, Reg),
    F32x4Le(Reg, Reg, Reg),
    F32x4Ge(Reg, Reg, Reg),
    F64x2Eq(Reg, Reg, Reg),
    F64x2Ne(Reg, Reg, Reg),
    F64x2Lt(Reg, Reg, Reg),
    F64x2Gt(Reg, Reg, Reg),
    F64x2Le(Reg, Reg, Reg),
    F64x2Ge(Reg, Reg, Reg),
    V128And(Reg, Reg, Reg),
    V128AndNot(Reg, Reg, Reg),
    V128Or(Reg, Reg, Reg),
    V128Xor(Reg, Reg, Reg),
    I8x16NarrowI16x8S(Reg, Reg, Reg),
    I8x16NarrowI16x8U(Reg, Reg, Reg),
    I8x16Shl(Reg, Reg, Reg),
    I8x16ShrS(Reg, Reg, Reg),
    I8x16ShrU(Reg, Reg, Reg),
    I8x16Add(Reg, Reg, Reg),
    I8x16AddSatS(Reg, Reg, Reg),
    I8x16AddSatU(Reg, Reg, Reg),
    I8x16Sub(Reg, Reg, Reg),
    I8x16SubSatS(Reg, Reg, Reg),
    I8x16SubSatU(Reg, Reg, Reg),
    I8x16MinS(Reg, Reg, Reg),
    I8x16MinU(Reg, Reg, Reg),
    I8x16MaxS(Reg, Reg, Reg),
    I8x16MaxU(Reg, Reg, Reg),
    I8x16AvgrU(Reg, Reg, Reg),
    I16x8Q15mulrSatS(Reg, Reg, Reg),
    I16x8NarrowI32x4S(Reg, Reg, Reg),
    I16x8NarrowI32x4U(Reg, Reg, Reg),
    I16x8Shl(Reg, Reg, Reg),
    I16x8ShrS(Reg, Reg, Reg),
    I16x8ShrU(Reg, Reg, Reg),
    I16x8Add(Reg, Reg, Reg),
    I16x8AddSatS(Reg, Reg, Reg),
    I16x8AddSatU(Reg, Reg, Reg),
    I16x8Sub(Reg, Reg, Reg),
    I16x8SubSatS(Reg, Reg, Reg),
    I16x8SubSatU(Reg, Reg, Reg),
    I16x8Mul(Reg, Reg, Reg),
    I16x8MinS(Reg, Reg, Reg),
    I16x8MinU(Reg, Reg, Reg),
    I16x8MaxS(Reg, Reg, Reg),
    I16x8MaxU(Reg, Reg, Reg),
    I16x8AvgrU(Reg, Reg, Reg),
    I16x8ExtmulLowI8x16S(Reg, Reg, Reg),
    I16x8ExtmulHighI8x16S(Reg, Reg, Reg),
    I16x8ExtmulLowI8x16U(Reg, Reg, Reg),
    I16x8ExtmulHighI8x16U(Reg, Reg, Reg),
    I32x4Shl(Reg, Reg, Reg),
    I32x4ShrS(Reg, Reg, Reg),
    I32x4ShrU(Reg, Reg, Reg),
    I32x4Add(Reg, Reg, Reg),
    I32x4Sub(Reg, Reg, Reg),
    I32x4Mul(Reg, Reg, Reg),
    I32x4MinS(Reg, Reg, Reg),
    I32x4MinU(Reg, Reg, Reg),
    I32x4MaxS(Reg, Reg, Reg),
    I32x4MaxU(Reg, Reg, Reg),
    I32x4DotI16x8S(Reg, Reg, Reg),
    I32x4ExtmulLowI16x8S(Reg, Reg, Reg),
    I32x4ExtmulHighI16x8S(Reg, Reg, Reg),
    I32x4ExtmulLowI16x8U(Reg, Reg, Reg),
    I32x4ExtmulHighI16x8U(Reg, Reg, Reg),
    I64x2Shl(Reg, Reg, Reg),
    I64x2ShrS(Reg, Reg, Reg),
    I64x2ShrU(Reg, Reg, Reg),
    I64x2Add(Reg, Reg, Reg),
    I64x2Sub(Reg, Reg, Reg),
    I64x2Mul(Reg, Reg, Reg),
    I64x2Eq(Reg, Reg, Reg),
    I64x2Ne(Reg, Reg, Reg),
    I64x2LtS(Reg, Reg, Reg),
    I64x2GtS(Reg, Reg, Reg),
    I64x2LeS(Reg, Reg, Reg),
    I64x2GeS(Reg, Reg, Reg),
    I64x2ExtmulLowI32x4S(Reg, Reg, Reg),
    I64x2ExtmulHighI32x4S(Reg, Reg, Reg),
    I64x2ExtmulLowI32x4U(Reg, Reg, Reg),
    I64x2ExtmulHighI32x4U(Reg, Reg, Reg),
    F32x4Add(Reg, Reg, Reg),
    F32x4Sub(Reg, Reg, Reg),
    F32x4Mul(Reg, Reg, Reg),
    F32x4Div(Reg, Reg, Reg),
    F32x4Min(Reg, Reg, Reg),
    F32x4Max(Reg, Reg, Reg),
    F32x4Pmin(Reg, Reg, Reg),
    F32x4Pmax(Reg, Reg, Reg),
    F64x2Add(Reg, Reg, Reg),
    F64x2Sub(Reg, Reg, Reg),
    F64x2Mul(Reg, Reg, Reg),
    F64x2Div(Reg, Reg, Reg),
    F64x2Min(Reg, Reg, Reg),
    F64x2Max(Reg, Reg, Reg),
    F64x2Pmin(Reg, Reg, Reg),
    F64x2Pmax(Reg, Reg, Reg),
}

impl Op {
    /// The slot this op writes as its single result, if it is a plain `dst`-first
    /// computation whose destination may be redirected (to fold a following `local.set`).
    pub(crate) fn retargetable_dst(&mut self) -> Option<&mut Reg> {
        use Op::*;
        match self {
            Copy { dst, .. } | Const32 { dst, .. } | Const64 { dst, .. } => Some(dst),
            // Only a call the translator marked as having one one-slot result
            // (`last_result`) reaches here.
            Call { dst, .. } => Some(dst),
            GlobalGet { dst, .. } | MemorySize { dst } | RefFunc { dst, .. } => Some(dst),
            TableGet { dst, .. } | TableSize { dst, .. } | MemoryGrow { dst, .. } => Some(dst),
            MemorySizeN { dst, .. } | MemoryGrowN { dst, .. } => Some(dst),
            I32AddShl { dst, .. } | Select { dst, .. } => Some(dst),
            I32LoadAddImm(d, ..)
            | I64LoadAddImm(d, ..)
            | I32Load8UAddImm(d, ..)
            | I32Load8SAddImm(d, ..)
            | I32Load16UAddImm(d, ..)
            | I32Load16SAddImm(d, ..)
            | I32LoadAdd(d, ..)
            | I64LoadAdd(d, ..)
            | I32Load8UAdd(d, ..)
            | I32Load8SAdd(d, ..)
            | I32Load16UAdd(d, ..)
            | I32Load16SAdd(d, ..) => Some(d),
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
            V128Const { dst, .. }
            | I8x16Shuffle { dst, .. }
            | V128Load8Lane { dst, .. }
            | V128Load16Lane { dst, .. }
            | V128Load32Lane { dst, .. }
            | V128Load64Lane { dst, .. }
            | I8x16ReplaceLane { dst, .. }
            | I16x8ReplaceLane { dst, .. }
            | I32x4ReplaceLane { dst, .. }
            | I64x2ReplaceLane { dst, .. } => Some(dst),
            V128Load(d, ..)
            | V128Load8x8S(d, ..)
            | V128Load8x8U(d, ..)
            | V128Load16x4S(d, ..)
            | V128Load16x4U(d, ..)
            | V128Load32x2S(d, ..)
            | V128Load32x2U(d, ..)
            | V128Load8Splat(d, ..)
            | V128Load16Splat(d, ..)
            | V128Load32Splat(d, ..)
            | V128Load64Splat(d, ..)
            | V128Load32Zero(d, ..)
            | V128Load64Zero(d, ..)
            | I8x16ExtractLaneS(d, ..)
            | I8x16ExtractLaneU(d, ..)
            | I16x8ExtractLaneS(d, ..)
            | I16x8ExtractLaneU(d, ..)
            | I32x4ExtractLane(d, ..)
            | I64x2ExtractLane(d, ..)
            | V128Bitselect(d, _) => Some(d),
            I8x16Splat(d, _)
            | I16x8Splat(d, _)
            | I32x4Splat(d, _)
            | I64x2Splat(d, _)
            | V128Not(d, _)
            | V128AnyTrue(d, _)
            | F32x4DemoteF64x2Zero(d, _)
            | F64x2PromoteLowF32x4(d, _)
            | I8x16Abs(d, _)
            | I8x16Neg(d, _)
            | I8x16Popcnt(d, _)
            | I8x16AllTrue(d, _)
            | I8x16Bitmask(d, _)
            | F32x4Ceil(d, _)
            | F32x4Floor(d, _)
            | F32x4Trunc(d, _)
            | F32x4Nearest(d, _)
            | F64x2Ceil(d, _)
            | F64x2Floor(d, _)
            | F64x2Trunc(d, _)
            | I16x8ExtaddPairwiseI8x16S(d, _)
            | I16x8ExtaddPairwiseI8x16U(d, _)
            | I32x4ExtaddPairwiseI16x8S(d, _)
            | I32x4ExtaddPairwiseI16x8U(d, _)
            | I16x8Abs(d, _)
            | I16x8Neg(d, _)
            | I16x8AllTrue(d, _)
            | I16x8Bitmask(d, _)
            | I16x8ExtendLowI8x16S(d, _)
            | I16x8ExtendHighI8x16S(d, _)
            | I16x8ExtendLowI8x16U(d, _)
            | I16x8ExtendHighI8x16U(d, _)
            | F64x2Nearest(d, _)
            | I32x4Abs(d, _)
            | I32x4Neg(d, _)
            | I32x4AllTrue(d, _)
            | I32x4Bitmask(d, _)
            | I32x4ExtendLowI16x8S(d, _)
            | I32x4ExtendHighI16x8S(d, _)
            | I32x4ExtendLowI16x8U(d, _)
            | I32x4ExtendHighI16x8U(d, _)
            | I64x2Abs(d, _)
            | I64x2Neg(d, _)
            | I64x2AllTrue(d, _)
            | I64x2Bitmask(d, _)
            | I64x2ExtendLowI32x4S(d, _)
            | I64x2ExtendHighI32x4S(d, _)
            | I64x2ExtendLowI32x4U(d, _)
            | I64x2ExtendHighI32x4U(d, _)
            | F32x4Abs(d, _)
            | F32x4Neg(d, _)
            | F32x4Sqrt(d, _)
            | F64x2Abs(d, _)
            | F64x2Neg(d, _)
            | F64x2Sqrt(d, _)
            | I32x4TruncSatF32x4S(d, _)
            | I32x4TruncSatF32x4U(d, _)
            | F32x4ConvertI32x4S(d, _)
            | F32x4ConvertI32x4U(d, _)
            | I32x4TruncSatF64x2SZero(d, _)
            | I32x4TruncSatF64x2UZero(d, _)
            | F64x2ConvertLowI32x4S(d, _)
            | F64x2ConvertLowI32x4U(d, _)
            | I8x16Swizzle(d, ..)
            | I8x16Eq(d, ..)
            | I8x16Ne(d, ..)
            | I8x16LtS(d, ..)
            | I8x16LtU(d, ..)
            | I8x16GtS(d, ..)
            | I8x16GtU(d, ..)
            | I8x16LeS(d, ..)
            | I8x16LeU(d, ..)
            | I8x16GeS(d, ..)
            | I8x16GeU(d, ..)
            | I16x8Eq(d, ..)
            | I16x8Ne(d, ..)
            | I16x8LtS(d, ..)
            | I16x8LtU(d, ..)
            | I16x8GtS(d, ..)
            | I16x8GtU(d, ..)
            | I16x8LeS(d, ..)
            | I16x8LeU(d, ..)
            | I16x8GeS(d, ..)
            | I16x8GeU(d, ..)
            | I32x4Eq(d, ..)
            | I32x4Ne(d, ..)
            | I32x4LtS(d, ..)
            | I32x4LtU(d, ..)
            | I32x4GtS(d, ..)
            | I32x4GtU(d, ..)
            | I32x4LeS(d, ..)
            | I32x4LeU(d, ..)
            | I32x4GeS(d, ..)
            | I32x4GeU(d, ..)
            | F32x4Eq(d, ..)
            | F32x4Ne(d, ..)
            | F32x4Lt(d, ..)
            | F32x4Gt(d, ..)
            | F32x4Le(d, ..)
            | F32x4Ge(d, ..)
            | F64x2Eq(d, ..)
            | F64x2Ne(d, ..)
            | F64x2Lt(d, ..)
            | F64x2Gt(d, ..)
            | F64x2Le(d, ..)
            | F64x2Ge(d, ..)
            | V128And(d, ..)
            | V128AndNot(d, ..)
            | V128Or(d, ..)
            | V128Xor(d, ..)
            | I8x16NarrowI16x8S(d, ..)
            | I8x16NarrowI16x8U(d, ..)
            | I8x16Shl(d, ..)
            | I8x16ShrS(d, ..)
            | I8x16ShrU(d, ..)
            | I8x16Add(d, ..)
            | I8x16AddSatS(d, ..)
            | I8x16AddSatU(d, ..)
            | I8x16Sub(d, ..)
            | I8x16SubSatS(d, ..)
            | I8x16SubSatU(d, ..)
            | I8x16MinS(d, ..)
            | I8x16MinU(d, ..)
            | I8x16MaxS(d, ..)
            | I8x16MaxU(d, ..)
            | I8x16AvgrU(d, ..)
            | I16x8Q15mulrSatS(d, ..)
            | I16x8NarrowI32x4S(d, ..)
            | I16x8NarrowI32x4U(d, ..)
            | I16x8Shl(d, ..)
            | I16x8ShrS(d, ..)
            | I16x8ShrU(d, ..)
            | I16x8Add(d, ..)
            | I16x8AddSatS(d, ..)
            | I16x8AddSatU(d, ..)
            | I16x8Sub(d, ..)
            | I16x8SubSatS(d, ..)
            | I16x8SubSatU(d, ..)
            | I16x8Mul(d, ..)
            | I16x8MinS(d, ..)
            | I16x8MinU(d, ..)
            | I16x8MaxS(d, ..)
            | I16x8MaxU(d, ..)
            | I16x8AvgrU(d, ..)
            | I16x8ExtmulLowI8x16S(d, ..)
            | I16x8ExtmulHighI8x16S(d, ..)
            | I16x8ExtmulLowI8x16U(d, ..)
            | I16x8ExtmulHighI8x16U(d, ..)
            | I32x4Shl(d, ..)
            | I32x4ShrS(d, ..)
            | I32x4ShrU(d, ..)
            | I32x4Add(d, ..)
            | I32x4Sub(d, ..)
            | I32x4Mul(d, ..)
            | I32x4MinS(d, ..)
            | I32x4MinU(d, ..)
            | I32x4MaxS(d, ..)
            | I32x4MaxU(d, ..)
            | I32x4DotI16x8S(d, ..)
            | I32x4ExtmulLowI16x8S(d, ..)
            | I32x4ExtmulHighI16x8S(d, ..)
            | I32x4ExtmulLowI16x8U(d, ..)
            | I32x4ExtmulHighI16x8U(d, ..)
            | I64x2Shl(d, ..)
            | I64x2ShrS(d, ..)
            | I64x2ShrU(d, ..)
            | I64x2Add(d, ..)
            | I64x2Sub(d, ..)
            | I64x2Mul(d, ..)
            | I64x2Eq(d, ..)
            | I64x2Ne(d, ..)
            | I64x2LtS(d, ..)
            | I64x2GtS(d, ..)
            | I64x2LeS(d, ..)
            | I64x2GeS(d, ..)
            | I64x2ExtmulLowI32x4S(d, ..)
            | I64x2ExtmulHighI32x4S(d, ..)
            | I64x2ExtmulLowI32x4U(d, ..)
            | I64x2ExtmulHighI32x4U(d, ..)
            | F32x4Add(d, ..)
            | F32x4Sub(d, ..)
            | F32x4Mul(d, ..)
            | F32x4Div(d, ..)
            | F32x4Min(d, ..)
            | F32x4Max(d, ..)
            | F32x4Pmin(d, ..)
            | F32x4Pmax(d, ..)
            | F64x2Add(d, ..)
            | F64x2Sub(d, ..)
            | F64x2Mul(d, ..)
            | F64x2Div(d, ..)
            | F64x2Min(d, ..)
            | F64x2Max(d, ..)
            | F64x2Pmin(d, ..)
            | F64x2Pmax(d, ..) => Some(d),
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
