//! The compiler's intermediate representation: SSA with block parameters.
//!
//! A [`Function`] is a list of [`Block`]s. A block has parameters (the SSA "phis"), a
//! list of instructions and one [`Terminator`]; a jump passes arguments for the target's
//! parameters. Every [`Value`] is defined once: by an instruction or as a block
//! parameter. Instructions are kept in order inside their block; those with side
//! effects (memory, globals, calls, traps) never move, pure ones may be removed or
//! shared by the passes.
//!
//! Values can be *aliased* to others (copy propagation, removed phis): every reader
//! goes through [`Function::resolve`], and [`Function::resolve_all`] rewrites all
//! operands once the passes are done.

use crate::decode::ops::{LaneOp, SimdOp, V128LoadKind};
use crate::error::TrapCode;
use std::fmt;

/// A value's machine type. References are `I64` (a `funcref` is an address, an
/// `externref` the host's number + 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Type {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl Type {
    pub(crate) fn is_float(self) -> bool {
        matches!(self, Type::F32 | Type::F64)
    }

    /// Lives in an SSE register: floats and vectors.
    pub(crate) fn is_sse(self) -> bool {
        matches!(self, Type::F32 | Type::F64 | Type::V128)
    }

    pub(crate) fn is_64(self) -> bool {
        matches!(self, Type::I64 | Type::F64)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::V128 => "v128",
        })
    }
}

macro_rules! entity {
    ($name:ident, $prefix:literal) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) struct $name(pub u32);

        impl $name {
            pub(crate) const NONE: $name = $name(u32::MAX);

            pub(crate) fn index(self) -> usize {
                self.0 as usize
            }

            pub(crate) fn is_none(self) -> bool {
                self.0 == u32::MAX
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::NONE
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_none() {
                    write!(f, "{}-", $prefix)
                } else {
                    write!(f, "{}{}", $prefix, self.0)
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

entity!(Value, "v");
entity!(Block, "b");
entity!(Inst, "i");

/// Integer comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IntCC {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl IntCC {
    /// The condition with its operands swapped (`a < b` is `b > a`).
    pub(crate) fn swap(self) -> IntCC {
        use IntCC::*;
        match self {
            Eq => Eq,
            Ne => Ne,
            LtS => GtS,
            LtU => GtU,
            GtS => LtS,
            GtU => LtU,
            LeS => GeS,
            LeU => GeU,
            GeS => LeS,
            GeU => LeU,
        }
    }

    pub(crate) fn eval(self, a: u64, b: u64, ty: Type) -> bool {
        let (sa, sb) = if ty == Type::I32 {
            (a as u32 as i32 as i64, b as u32 as i32 as i64)
        } else {
            (a as i64, b as i64)
        };
        let (ua, ub) = if ty == Type::I32 {
            (a as u32 as u64, b as u32 as u64)
        } else {
            (a, b)
        };
        use IntCC::*;
        match self {
            Eq => ua == ub,
            Ne => ua != ub,
            LtS => sa < sb,
            LtU => ua < ub,
            GtS => sa > sb,
            GtU => ua > ub,
            LeS => sa <= sb,
            LeU => ua <= ub,
            GeS => sa >= sb,
            GeU => ua >= ub,
        }
    }
}

/// Float comparisons (ordered, except `Ne`, which is true for NaN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FloatCC {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// Memory access widths and extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MemKind {
    /// Full width of the instruction's type.
    Full,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

impl MemKind {
    /// Bytes accessed by a load or store of this kind and type.
    pub(crate) fn bytes(self, ty: Type) -> u32 {
        match self {
            MemKind::Full => match ty {
                Type::V128 => 16,
                t if t.is_64() => 8,
                _ => 4,
            },
            MemKind::S8 | MemKind::U8 => 1,
            MemKind::S16 | MemKind::U16 => 2,
            MemKind::S32 | MemKind::U32 => 4,
        }
    }
}

/// Functions of the runtime that compiled code calls for operations too large to
/// inline (see `compile::libcalls`). Each takes the instance's context first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum Libcall {
    /// `(memory, delta) -> old pages or -1`
    MemoryGrow,
    /// `(memory) -> pages` (for memories other than 0)
    MemorySize,
    /// `(dst_memory, src_memory, dst, src, len)`, traps
    MemoryCopy,
    /// `(memory, dst, value, len)`, traps
    MemoryFill,
    /// `(memory, data, dst, src, len)`, traps
    MemoryInit,
    /// `(data)`
    DataDrop,
    /// `(table, index) -> raw`, traps
    TableGet,
    /// `(table, index, raw)`, traps
    TableSet,
    /// `(table) -> size`
    TableSize,
    /// `(table, init, delta) -> old size or -1`
    TableGrow,
    /// `(table, index, raw, len)`, traps
    TableFill,
    /// `(dst_table, src_table, dst, src, len)`, traps
    TableCopy,
    /// `(table, elem, dst, src, len)`, traps
    TableInit,
    /// `(elem)`
    ElemDrop,
    /// `f32`/`f64` rounding without SSE4.1: `(bits) -> bits`
    FloorF32,
    CeilF32,
    TruncF32,
    NearestF32,
    FloorF64,
    CeilF64,
    TruncF64,
    NearestF64,
    /// The slow path of a function's stack check: `() -> status` (see
    /// `compile::entry::stack_check`).
    StackCheck,
    /// `memmove(dst, src, len)` on host addresses (bounds checked inline); no context.
    Memmove,
    /// `memset(dst, byte, len)` on host addresses (bounds checked inline); no context.
    Memset,
    /// `(opcode, area)`: a vector instruction on the operands in `area` (16 bytes
    /// each), the result written over the first; no context.
    Simd,
}

impl Libcall {
    pub(crate) const COUNT: usize = Libcall::Simd as usize + 1;

    /// Whether the first argument is the instance's context.
    pub(crate) fn takes_vmctx(self) -> bool {
        !matches!(self, Libcall::Memmove | Libcall::Memset | Libcall::Simd)
    }

    /// Whether the call may trap (the runtime stores the trap; code checks a flag).
    pub(crate) fn can_trap(self) -> bool {
        use Libcall::*;
        matches!(
            self,
            MemoryCopy
                | MemoryFill
                | MemoryInit
                | TableGet
                | TableSet
                | TableFill
                | TableCopy
                | TableInit
                | StackCheck
        )
    }

    /// Whether the call returns a value.
    pub(crate) fn has_result(self) -> bool {
        use Libcall::*;
        matches!(
            self,
            MemoryGrow
                | MemorySize
                | TableGet
                | TableSize
                | TableGrow
                | FloorF32
                | CeilF32
                | TruncF32
                | NearestF32
                | FloorF64
                | CeilF64
                | TruncF64
                | NearestF64
        )
    }
}

/// What an instruction does. Operands are in [`InstData::args`]; the immediate, when
/// there is one, in [`InstData::imm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Opcode {
    // Constants: bits in `imm`.
    Const,
    // Integer arithmetic on `ty` (I32 or I64).
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
    /// Trap on a zero divisor, and on signed overflow for `DivS`.
    DivS,
    DivU,
    RemS,
    RemU,
    Clz,
    Ctz,
    Popcnt,
    /// Sign-extend the low 8/16/32 bits within `ty`.
    Extend8S,
    Extend16S,
    Extend32S,
    /// i64 → i32.
    Wrap,
    /// i32 → i64.
    ExtendS,
    ExtendU,
    /// `args[0] cc args[1]` on operands of type `ty`; the result is an i32 0 or 1.
    Icmp(IntCC),
    /// As `Icmp`, for floats.
    Fcmp(FloatCC),
    // Float arithmetic on `ty` (F32 or F64).
    Fadd,
    Fsub,
    Fmul,
    Fdiv,
    Fmin,
    Fmax,
    Fcopysign,
    Fabs,
    Fneg,
    Fsqrt,
    Fceil,
    Ffloor,
    Ftrunc,
    Fnearest,
    /// Float `args[0]` (of the type in `imm`: 0 = f32, 1 = f64) to integer `ty`; traps on
    /// NaN and out of range.
    TruncS,
    TruncU,
    /// As `TruncS`/`TruncU`, saturating instead of trapping.
    TruncSatS,
    TruncSatU,
    /// Integer `args[0]` (I64 when `imm` is 1, else I32) to float `ty`.
    ConvertS,
    ConvertU,
    /// f64 → f32 and f32 → f64.
    Demote,
    Promote,
    /// Same bits, other type (i32 ↔ f32, i64 ↔ f64).
    Bitcast,
    /// `args[0] != 0 ? args[1] : args[2]`.
    Select,
    /// `[heap + addr + offset]`: `imm` = offset, `args[0]` = address; memory index in
    /// `aux`.
    Load(MemKind),
    /// `args[0]` = address, `args[1]` = value; `imm` = offset; memory index in `aux`.
    Store(MemKind),
    /// Global `imm`.
    GlobalGet,
    /// Global `imm` := `args[0]`.
    GlobalSet,
    /// Memory 0's size in pages (other memories use a library call).
    MemorySize,
    /// The `funcref` of function `imm` (module index space).
    FuncRef,
    /// A call; `imm` indexes [`Function::calls`].
    Call,
    /// A call to the runtime: args in [`Function::calls`] entry `imm`.
    Libcall(Libcall),
    /// Trap with `Interrupted` if the store's interrupt flag is set (loop headers).
    InterruptCheck,
    // Vectors. `v128.load`/`v128.store` are `Load(Full)`/`Store(Full)` of type V128.
    /// A `v128` constant: [`Function::v128_consts`] entry `imm`.
    V128Const,
    /// A vector instruction without immediates on `args` (its types from
    /// [`SimdOp::signature`]); the result has type `ty`.
    Simd(SimdOp),
    /// `i8x16.shuffle` of `args[0]` and `args[1]`; the lane indices are the bytes of
    /// [`Function::v128_consts`] entry `imm`.
    Shuffle,
    /// `extract_lane` (of `args[0]`) or `replace_lane` (in `args[0]`, with `args[1]`).
    Lane(LaneOp, u8),
    /// A vector load other than `v128.load`: as `Load`, from `args[0]`.
    VLoad(V128LoadKind),
    /// `v128.loadN_lane`: lane `lane` (of `1 << width_log2` bytes) of `args[1]` replaced
    /// by the value at `args[0]`; offset and memory as for `Load`.
    LoadLane {
        width_log2: u8,
        lane: u8,
    },
    /// `v128.storeN_lane`: stores lane `lane` of `args[1]` at `args[0]`.
    StoreLane {
        width_log2: u8,
        lane: u8,
    },
}

impl Opcode {
    /// Pure: no side effects, no trap; removable when unused, shareable when equal.
    pub(crate) fn is_pure(self) -> bool {
        use Opcode::*;
        !matches!(
            self,
            DivS | DivU
                | RemS
                | RemU
                | TruncS
                | TruncU
                | Load(_)
                | Store(_)
                | GlobalGet
                | GlobalSet
                | MemorySize
                | Call
                | Libcall(_)
                | InterruptCheck
                | VLoad(_)
                | LoadLane { .. }
                | StoreLane { .. }
        )
    }

    /// Must stay even if its result is unused (writes, calls, possible traps).
    pub(crate) fn has_effect(self) -> bool {
        use Opcode::*;
        !self.is_pure() && !matches!(self, GlobalGet | MemorySize)
    }
}

/// One instruction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InstData {
    pub op: Opcode,
    /// The result type, or for compares and stores the operand type.
    pub ty: Type,
    pub args: [Value; 3],
    pub imm: u64,
    /// A second small immediate: memory index, trap code.
    pub aux: u32,
    /// The (first) result, or `Value::NONE`.
    pub result: Value,
}

/// Who a call calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Callee {
    /// A function of this module (module index space): defined or imported.
    Direct(u32),
    /// `call_indirect` through table `table` with the expected type `type_index`; the
    /// element index is the last argument.
    Indirect { type_index: u32, table: u32 },
    /// A runtime library function.
    Lib(Libcall),
}

/// A call's operands and results.
#[derive(Clone, Debug)]
pub(crate) struct CallData {
    pub callee: Callee,
    pub args: Vec<Value>,
    pub results: Vec<Value>,
    /// The Wasm type index of the callee (for calls to functions).
    pub type_index: u32,
}

/// A jump to a block with arguments for its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlockCall {
    pub block: Block,
    pub args: Vec<Value>,
}

/// How a block ends.
#[derive(Clone, Debug)]
pub(crate) enum Terminator {
    /// Not yet terminated (only while building).
    None,
    Jump(BlockCall),
    /// `cond` (i32) non-zero: `then`, else `else_`.
    Branch {
        cond: Value,
        then: BlockCall,
        else_: BlockCall,
    },
    /// `targets[min(index, len - 1)]`: the last target is the default.
    BrTable {
        index: Value,
        targets: Vec<BlockCall>,
    },
    Return(Vec<Value>),
    Trap(TrapCode),
}

impl Terminator {
    /// Calls `f` on each outgoing edge.
    pub(crate) fn for_each_succ(&self, mut f: impl FnMut(&BlockCall)) {
        match self {
            Terminator::Jump(c) => f(c),
            Terminator::Branch { then, else_, .. } => {
                f(then);
                f(else_);
            }
            Terminator::BrTable { targets, .. } => targets.iter().for_each(f),
            _ => {}
        }
    }

    /// Outgoing edge `i` (in `for_each_succ` order), if there is one.
    pub(crate) fn succ(&self, i: usize) -> Option<&BlockCall> {
        match self {
            Terminator::Jump(c) if i == 0 => Some(c),
            Terminator::Branch { then, .. } if i == 0 => Some(then),
            Terminator::Branch { else_, .. } if i == 1 => Some(else_),
            Terminator::BrTable { targets, .. } => targets.get(i),
            _ => None,
        }
    }

    /// Calls `f` on each outgoing edge, mutably.
    pub(crate) fn for_each_succ_mut(&mut self, mut f: impl FnMut(&mut BlockCall)) {
        match self {
            Terminator::Jump(c) => f(c),
            Terminator::Branch { then, else_, .. } => {
                f(then);
                f(else_);
            }
            Terminator::BrTable { targets, .. } => targets.iter_mut().for_each(f),
            _ => {}
        }
    }

    /// The values it reads other than jump arguments.
    pub(crate) fn for_each_operand(&self, mut f: impl FnMut(Value)) {
        match self {
            Terminator::Branch { cond, .. } => f(*cond),
            Terminator::BrTable { index, .. } => f(*index),
            Terminator::Return(vals) => vals.iter().for_each(|&v| f(v)),
            _ => {}
        }
    }

    /// The values it reads other than jump arguments, mutably.
    pub(crate) fn for_each_operand_mut(&mut self, mut f: impl FnMut(&mut Value)) {
        match self {
            Terminator::Branch { cond, .. } => f(cond),
            Terminator::BrTable { index, .. } => f(index),
            Terminator::Return(vals) => vals.iter_mut().for_each(f),
            _ => {}
        }
    }
}

/// A basic block.
#[derive(Clone, Debug)]
pub(crate) struct BlockData {
    pub params: Vec<Value>,
    pub insts: Vec<Inst>,
    pub term: Terminator,
    /// Wasm loop nesting depth (for spill and split heuristics).
    pub loop_depth: u32,
    /// Rarely executed (leads only to a trap): laid out last.
    pub cold: bool,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueDef {
    Inst(Inst),
    /// Result number `n` (> 0) of a call.
    CallResult(Inst, u32),
    Param(Block, u32),
    /// Replaced by another value.
    Alias(Value),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct ValueData {
    pub ty: Type,
    pub def: ValueDef,
}

/// A function in SSA form.
#[derive(Clone, Debug, Default)]
pub(crate) struct Function {
    pub blocks: Vec<BlockData>,
    pub insts: Vec<InstData>,
    pub values: Vec<ValueData>,
    pub calls: Vec<CallData>,
    /// Types of the parameters (the entry block's parameters) and results.
    pub params: Vec<Type>,
    pub results: Vec<Type>,
    pub entry: Block,
    /// `v128` constants and shuffle masks (see `Opcode::V128Const`, `Opcode::Shuffle`).
    pub v128_consts: Vec<u128>,
}

impl Function {
    pub(crate) fn new_block(&mut self, loop_depth: u32) -> Block {
        self.blocks.push(BlockData {
            params: Vec::new(),
            insts: Vec::new(),
            term: Terminator::None,
            loop_depth,
            cold: false,
        });
        Block(self.blocks.len() as u32 - 1)
    }

    pub(crate) fn new_value(&mut self, ty: Type, def: ValueDef) -> Value {
        self.values.push(ValueData { ty, def });
        Value(self.values.len() as u32 - 1)
    }

    pub(crate) fn add_param(&mut self, block: Block, ty: Type) -> Value {
        let n = self.blocks[block.index()].params.len() as u32;
        let v = self.new_value(ty, ValueDef::Param(block, n));
        self.blocks[block.index()].params.push(v);
        v
    }

    pub(crate) fn ty(&self, v: Value) -> Type {
        self.values[v.index()].ty
    }

    /// The value `v` stands for after aliasing.
    pub(crate) fn resolve(&self, mut v: Value) -> Value {
        while let ValueDef::Alias(to) = self.values[v.index()].def {
            v = to;
        }
        v
    }

    /// Makes `v` stand for `to` from now on.
    pub(crate) fn alias(&mut self, v: Value, to: Value) {
        debug_assert_ne!(v, to);
        self.values[v.index()].def = ValueDef::Alias(to);
    }

    /// The constant bits of `v`, if it is a constant.
    pub(crate) fn const_of(&self, v: Value) -> Option<u64> {
        match self.values[self.resolve(v).index()].def {
            ValueDef::Inst(i) if self.insts[i.index()].op == Opcode::Const => {
                Some(self.insts[i.index()].imm)
            }
            _ => None,
        }
    }

    /// The instruction defining `v` (after aliasing), if any.
    pub(crate) fn def_inst(&self, v: Value) -> Option<Inst> {
        match self.values[self.resolve(v).index()].def {
            ValueDef::Inst(i) => Some(i),
            _ => None,
        }
    }

    /// Appends an instruction to `block`; returns its result (or `Value::NONE`).
    pub(crate) fn push_inst(
        &mut self,
        block: Block,
        mut data: InstData,
        has_result: bool,
    ) -> Value {
        let inst = Inst(self.insts.len() as u32);
        // Compares carry their operand type; their result is an i32.
        let result_ty = match data.op {
            Opcode::Icmp(_) | Opcode::Fcmp(_) => Type::I32,
            _ => data.ty,
        };
        data.result = if has_result {
            self.new_value(result_ty, ValueDef::Inst(inst))
        } else {
            Value::NONE
        };
        let result = data.result;
        self.insts.push(data);
        self.blocks[block.index()].insts.push(inst);
        result
    }

    /// Rewrites every operand and jump argument to its resolved value.
    pub(crate) fn resolve_all(&mut self) {
        let values = std::mem::take(&mut self.values);
        let resolve = |mut v: Value| {
            if v.is_none() {
                return v;
            }
            while let ValueDef::Alias(to) = values[v.index()].def {
                v = to;
            }
            v
        };
        for inst in &mut self.insts {
            for a in &mut inst.args {
                *a = resolve(*a);
            }
        }
        for call in &mut self.calls {
            for a in &mut call.args {
                *a = resolve(*a);
            }
        }
        for b in &mut self.blocks {
            b.term.for_each_operand_mut(|v| *v = resolve(*v));
            b.term.for_each_succ_mut(|c| {
                for a in &mut c.args {
                    *a = resolve(*a);
                }
            });
        }
        self.values = values;
    }

    /// Predecessor lists (one entry per edge, so a block branching twice to the same
    /// target appears twice).
    pub(crate) fn predecessors(&self) -> BlockLists {
        let mut edges = Vec::new();
        for (i, b) in self.blocks.iter().enumerate() {
            b.term
                .for_each_succ(|c| edges.push((c.block, Block(i as u32))));
        }
        BlockLists::new(self.blocks.len(), &edges)
    }
}

/// A list of blocks per block, in two allocations (not one per block: huge functions
/// have thousands of blocks, and compile time went to `malloc`).
pub(crate) struct BlockLists {
    /// `items[starts[b]..starts[b + 1]]` is block `b`'s list.
    starts: Vec<u32>,
    items: Vec<Block>,
}

impl BlockLists {
    /// Lists of `n` blocks from `(owner, item)` pairs; each list keeps the pairs' order.
    pub(crate) fn new(n: usize, pairs: &[(Block, Block)]) -> BlockLists {
        let (starts, items) = group(n, pairs, |&(owner, item)| (owner.index(), item));
        BlockLists { starts, items }
    }
}

/// A counting sort of `pairs` into `n` lists by the key `split` gives each (below `n`):
/// the start of each list (and the end of the last) and the items, list after list,
/// each list in the pairs' order. One flat vector instead of a vector per list.
pub(crate) fn group<P, T: Copy>(
    n: usize,
    pairs: &[P],
    split: impl Fn(&P) -> (usize, T),
) -> (Vec<u32>, Vec<T>) {
    let mut starts = vec![0u32; n + 1];
    for p in pairs {
        starts[split(p).0 + 1] += 1;
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let Some(first) = pairs.first() else {
        return (starts, Vec::new());
    };
    let mut fill = starts.clone();
    let mut items = vec![split(first).1; pairs.len()];
    for p in pairs {
        let (k, item) = split(p);
        items[fill[k] as usize] = item;
        fill[k] += 1;
    }
    (starts, items)
}

impl std::ops::Index<usize> for BlockLists {
    type Output = [Block];
    fn index(&self, b: usize) -> &[Block] {
        &self.items[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

impl fmt::Display for Function {
    /// A readable listing, for tests and debugging.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bi, b) in self.blocks.iter().enumerate() {
            if matches!(b.term, Terminator::None) && b.insts.is_empty() && b.params.is_empty() {
                continue;
            }
            write!(f, "b{bi}(")?;
            for (i, p) in b.params.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{p}: {}", self.ty(*p))?;
            }
            f.write_str("):")?;
            if b.cold {
                f.write_str(" ; cold")?;
            }
            if b.loop_depth > 0 {
                write!(f, " ; loop depth {}", b.loop_depth)?;
            }
            writeln!(f)?;
            for &i in &b.insts {
                let d = &self.insts[i.index()];
                f.write_str("    ")?;
                if !d.result.is_none() {
                    write!(f, "{} = ", d.result)?;
                }
                write!(f, "{:?}.{}", d.op, d.ty)?;
                for a in d.args.iter().take_while(|a| !a.is_none()) {
                    write!(f, " {}", self.resolve(*a))?;
                }
                match d.op {
                    Opcode::Const => write!(f, " {:#x}", d.imm)?,
                    Opcode::Load(_) | Opcode::Store(_) => {
                        write!(f, " +{}", d.imm)?;
                        if d.aux != 0 {
                            write!(f, " mem{}", d.aux)?;
                        }
                    }
                    Opcode::GlobalGet | Opcode::GlobalSet | Opcode::FuncRef => {
                        write!(f, " #{}", d.imm)?
                    }
                    Opcode::Call | Opcode::Libcall(_) => {
                        let c = &self.calls[d.imm as usize];
                        write!(f, " {:?} (", c.callee)?;
                        for (k, a) in c.args.iter().enumerate() {
                            if k > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "{}", self.resolve(*a))?;
                        }
                        f.write_str(")")?;
                        if c.results.len() > 1 {
                            write!(f, " -> {:?}", c.results)?;
                        }
                    }
                    _ => {}
                }
                writeln!(f)?;
            }
            let call = |f: &mut fmt::Formatter<'_>, c: &BlockCall| -> fmt::Result {
                write!(f, "{}(", c.block)?;
                for (k, a) in c.args.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", self.resolve(*a))?;
                }
                f.write_str(")")
            };
            f.write_str("    ")?;
            match &b.term {
                Terminator::None => f.write_str("<unterminated>")?,
                Terminator::Jump(c) => {
                    f.write_str("jump ")?;
                    call(f, c)?;
                }
                Terminator::Branch { cond, then, else_ } => {
                    write!(f, "brif {} ", self.resolve(*cond))?;
                    call(f, then)?;
                    f.write_str(" ")?;
                    call(f, else_)?;
                }
                Terminator::BrTable { index, targets } => {
                    write!(f, "br_table {} [", self.resolve(*index))?;
                    for (k, t) in targets.iter().enumerate() {
                        if k > 0 {
                            f.write_str(", ")?;
                        }
                        call(f, t)?;
                    }
                    f.write_str("]")?;
                }
                Terminator::Return(vals) => {
                    f.write_str("return")?;
                    for v in vals {
                        write!(f, " {}", self.resolve(*v))?;
                    }
                }
                Terminator::Trap(code) => write!(f, "trap {code:?}")?,
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
