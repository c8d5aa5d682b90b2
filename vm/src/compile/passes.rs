//! Optimization passes over the SSA IR, in the order [`optimize`] runs them:
//!
//! 1. **Simplification** while building ([`simplify`]): constant folding, algebraic
//!    identities (`x + 0`, `x & x`, `x - x`, ...), constants moved to the right.
//! 2. **Branch folding**: branches on constants become jumps.
//! 3. **Dead blocks**: blocks unreachable from the entry are dropped.
//! 4. **Redundant phi elimination**: block parameters that always receive the same
//!    value, including whole cycles of parameters that only pass one outside value
//!    around (Braun et al. 2013, §3.2, over strongly connected components).
//! 5. **Block merging and jump threading**: a block whose only predecessor jumps to it
//!    joins that predecessor; an empty block that only jumps elsewhere is bypassed.
//! 6. **Global value numbering** of pure instructions, scoped by the dominator tree:
//!    repeated address arithmetic and constants are computed once.
//! 7. **Dead code elimination**: pure instructions and block parameters nobody uses.
//! 8. **Cold paths and critical edges**: blocks ending in a trap are marked cold (laid
//!    out last); edges from a branching block into a join block get their own block,
//!    where the register allocator can put moves.

#![forbid(unsafe_code)]

use super::frontend::FastMap;
use super::ir::*;

/// A simplified instruction: an existing value, or a constant to create.
pub(crate) enum Simple {
    Value(Value),
    Const(u64),
}

fn mask(ty: Type, v: u64) -> u64 {
    if ty == Type::I32 { v & 0xffff_ffff } else { v }
}

fn all_ones(ty: Type) -> u64 {
    mask(ty, u64::MAX)
}

/// Folds or simplifies a pure instruction about to be created (operands resolved).
/// May swap the operands of commutative operations so a constant is on the right.
pub(crate) fn simplify(f: &Function, d: &mut InstData) -> Option<Simple> {
    use Opcode as O;
    let ty = d.ty;
    let [a, b, c] = d.args;
    let ca = (!a.is_none()).then(|| f.const_of(a)).flatten();
    let cb = (!b.is_none()).then(|| f.const_of(b)).flatten();
    let bits = if ty == Type::I32 { 32 } else { 64 };
    let commutative = matches!(
        d.op,
        O::Add | O::Mul | O::And | O::Or | O::Xor | O::Icmp(IntCC::Eq) | O::Icmp(IntCC::Ne)
    );
    if commutative && ca.is_some() && cb.is_none() {
        d.args.swap(0, 1);
        return simplify(f, d);
    }
    if let O::Icmp(cc) = d.op
        && ca.is_some()
        && cb.is_none()
    {
        d.op = O::Icmp(cc.swap());
        d.args.swap(0, 1);
        return simplify(f, d);
    }
    let k = Simple::Const;
    Some(match d.op {
        O::Add => match (ca, cb) {
            (Some(x), Some(y)) => k(mask(ty, x.wrapping_add(y))),
            (_, Some(0)) => Simple::Value(a),
            _ => return None,
        },
        O::Sub => match (ca, cb) {
            (Some(x), Some(y)) => k(mask(ty, x.wrapping_sub(y))),
            (_, Some(0)) => Simple::Value(a),
            _ if a == b => k(0),
            _ => return None,
        },
        O::Mul => match (ca, cb) {
            (Some(x), Some(y)) => k(mask(ty, x.wrapping_mul(y))),
            (_, Some(1)) => Simple::Value(a),
            (_, Some(0)) => k(0),
            _ => return None,
        },
        O::And => match (ca, cb) {
            (Some(x), Some(y)) => k(x & y),
            (_, Some(0)) => k(0),
            (_, Some(m)) if m == all_ones(ty) => Simple::Value(a),
            // Clearing bits that are zero anyway (`load8_u(p) & 0xff`).
            (_, Some(m)) if m | known_zero(f, a) == all_ones(ty) => Simple::Value(a),
            _ if a == b => Simple::Value(a),
            _ => return None,
        },
        O::Or => match (ca, cb) {
            (Some(x), Some(y)) => k(x | y),
            (_, Some(0)) => Simple::Value(a),
            (_, Some(m)) if m == all_ones(ty) => k(m),
            _ if a == b => Simple::Value(a),
            _ => return None,
        },
        O::Xor => match (ca, cb) {
            (Some(x), Some(y)) => k(x ^ y),
            (_, Some(0)) => Simple::Value(a),
            _ if a == b => k(0),
            _ => return None,
        },
        O::Shl | O::ShrS | O::ShrU | O::Rotl | O::Rotr => {
            let s = cb?;
            let s = (s % bits) as u32;
            if s == 0 {
                return Some(Simple::Value(a));
            }
            let x = ca?;
            k(match (d.op, ty) {
                (O::Shl, _) => mask(ty, x << s),
                (O::ShrU, _) => x >> s,
                (O::ShrS, Type::I32) => ((x as u32 as i32) >> s) as u32 as u64,
                (O::ShrS, _) => ((x as i64) >> s) as u64,
                (O::Rotl, Type::I32) => u64::from((x as u32).rotate_left(s)),
                (O::Rotl, _) => x.rotate_left(s),
                (O::Rotr, Type::I32) => u64::from((x as u32).rotate_right(s)),
                _ => x.rotate_right(s),
            })
        }
        O::DivU | O::RemU | O::DivS | O::RemS => {
            let (Some(x), Some(y)) = (ca, cb) else {
                if d.op == O::DivU && cb == Some(1) || d.op == O::DivS && cb == Some(1) {
                    return Some(Simple::Value(a));
                }
                return None;
            };
            if y == 0 {
                return None;
            }
            k(match (d.op, ty) {
                (O::DivU, _) => x / y,
                (O::RemU, _) => x % y,
                (O::DivS, Type::I32) => {
                    let (x, y) = (x as u32 as i32, y as u32 as i32);
                    if x == i32::MIN && y == -1 {
                        return None;
                    }
                    (x / y) as u32 as u64
                }
                (O::RemS, Type::I32) => {
                    (x as u32 as i32).wrapping_rem(y as u32 as i32) as u32 as u64
                }
                (O::DivS, _) => {
                    if x as i64 == i64::MIN && y as i64 == -1 {
                        return None;
                    }
                    ((x as i64) / (y as i64)) as u64
                }
                _ => (x as i64).wrapping_rem(y as i64) as u64,
            })
        }
        O::Clz | O::Ctz | O::Popcnt => {
            let x = ca?;
            k(u64::from(match (d.op, ty) {
                (O::Clz, Type::I32) => (x as u32).leading_zeros(),
                (O::Clz, _) => x.leading_zeros(),
                (O::Ctz, Type::I32) => (x as u32).trailing_zeros(),
                (O::Ctz, _) => x.trailing_zeros(),
                _ => x.count_ones(),
            }))
        }
        O::Extend8S | O::Extend16S | O::Extend32S => {
            let x = ca?;
            let v = match d.op {
                O::Extend8S => x as u8 as i8 as i64,
                O::Extend16S => x as u16 as i16 as i64,
                _ => x as u32 as i32 as i64,
            };
            k(mask(ty, v as u64))
        }
        O::Wrap => match ca {
            Some(x) => k(x & 0xffff_ffff),
            None => match f.def_inst(a).map(|i| f.insts[i.index()]) {
                Some(InstData {
                    op: O::ExtendU | O::ExtendS,
                    args,
                    ..
                }) => Simple::Value(args[0]),
                _ => return None,
            },
        },
        O::ExtendU => match ca {
            Some(x) => k(x & 0xffff_ffff),
            None => return None,
        },
        O::ExtendS => match ca {
            Some(x) => k(x as u32 as i32 as i64 as u64),
            None => return None,
        },
        O::Icmp(cc) => match (ca, cb) {
            (Some(x), Some(y)) => k(u64::from(cc.eval(x, y, ty))),
            _ if a == b => k(u64::from(matches!(
                cc,
                IntCC::Eq | IntCC::LeS | IntCC::LeU | IntCC::GeS | IntCC::GeU
            ))),
            (_, Some(0)) if matches!(cc, IntCC::LtU) => k(0),
            (_, Some(0)) if matches!(cc, IntCC::GeU) => k(1),
            _ => return None,
        },
        O::Select => {
            if b == c {
                return Some(Simple::Value(b));
            }
            match ca {
                Some(x) => Simple::Value(if x & 0xffff_ffff != 0 { b } else { c }),
                None => return None,
            }
        }
        O::Bitcast => match ca {
            Some(x) => k(x),
            None => return None,
        },
        _ => return None,
    })
}

/// Bits of `v` known to be zero (a conservative answer: 0 when nothing is known).
fn known_zero(f: &Function, v: Value) -> u64 {
    let ty = f.ty(v);
    let Some(i) = f.def_inst(v) else {
        return 0;
    };
    let d = &f.insts[i.index()];
    let upper = |bits: u32| mask(ty, !0u64 << bits);
    match d.op {
        Opcode::Load(MemKind::U8) => upper(8),
        Opcode::Load(MemKind::U16) => upper(16),
        Opcode::Load(MemKind::U32) => upper(32),
        Opcode::Icmp(_) | Opcode::Fcmp(_) => upper(1),
        Opcode::ExtendU => upper(32),
        Opcode::And => match f.const_of(d.args[1]) {
            Some(c) => mask(ty, !c),
            None => 0,
        },
        Opcode::ShrU => match f.const_of(d.args[1]) {
            Some(s) => {
                let bits = if ty == Type::I32 { 32 } else { 64 };
                let s = (s % bits) as u32;
                if s == 0 {
                    0
                } else {
                    mask(ty, !(all_ones(ty) >> s))
                }
            }
            None => 0,
        },
        _ => 0,
    }
}

/// Runs the passes after construction.
pub(crate) fn optimize(f: &mut Function) {
    let flags = super::debug_flags();
    fold_branches(f);
    remove_unreachable(f);
    if !flags.no_phi {
        remove_redundant_phis(f);
    }
    remove_aliased_params(f);
    f.resolve_all();
    if !flags.no_merge {
        merge_blocks(f);
    }
    f.resolve_all();
    if !flags.no_gvn {
        gvn(f);
    }
    f.resolve_all();
    dce(f);
    mark_cold(f);
    split_critical_edges(f);
}

/// Branches on constants become jumps; a branch with both edges alike becomes a jump.
pub(crate) fn fold_branches(f: &mut Function) {
    for b in 0..f.blocks.len() {
        let term = std::mem::replace(&mut f.blocks[b].term, Terminator::None);
        f.blocks[b].term = match term {
            Terminator::Branch { cond, then, else_ } => match f.const_of(cond) {
                Some(c) => Terminator::Jump(if c & 0xffff_ffff != 0 { then } else { else_ }),
                None if then == else_ => Terminator::Jump(then),
                None => Terminator::Branch { cond, then, else_ },
            },
            Terminator::BrTable { index, mut targets } => match f.const_of(index) {
                Some(i) => {
                    let i = (i as u32 as usize).min(targets.len() - 1);
                    Terminator::Jump(targets.swap_remove(i))
                }
                None if targets.iter().all(|t| *t == targets[0]) => {
                    Terminator::Jump(targets.swap_remove(0))
                }
                None => Terminator::BrTable { index, targets },
            },
            t => t,
        };
    }
}

/// Reverse postorder from the entry (then-edges visited first, so the else/fallthrough
/// successor follows its block).
pub(crate) fn reverse_postorder(f: &Function) -> Vec<Block> {
    let n = f.blocks.len();
    let mut visited = vec![false; n];
    let mut post = Vec::with_capacity(n);
    let mut stack: Vec<(Block, usize)> = vec![(f.entry, 0)];
    visited[f.entry.index()] = true;
    while let Some(&mut (b, ref mut next)) = stack.last_mut() {
        // One edge per step, read in place: a `br_table` with many targets is visited
        // in time linear in its size.
        if let Some(c) = f.blocks[b.index()].term.succ(*next) {
            let s = c.block;
            *next += 1;
            if !visited[s.index()] {
                visited[s.index()] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
            stack.pop();
        }
    }
    post.reverse();
    post
}

/// Empties blocks the entry cannot reach.
pub(crate) fn remove_unreachable(f: &mut Function) {
    let mut reachable = vec![false; f.blocks.len()];
    for b in reverse_postorder(f) {
        reachable[b.index()] = true;
    }
    for (i, b) in f.blocks.iter_mut().enumerate() {
        if !reachable[i] {
            b.insts.clear();
            b.params.clear();
            b.term = Terminator::None;
        }
    }
}

/// For each block parameter, the values passed to it (resolved), over every edge.
fn param_operands(f: &Function) -> FastMap<u32, Vec<Value>> {
    let mut ops: FastMap<u32, Vec<Value>> = FastMap::default();
    for b in &f.blocks {
        b.term.for_each_succ(|c| {
            let params = &f.blocks[c.block.index()].params;
            for (p, a) in params.iter().zip(&c.args) {
                if matches!(f.values[p.index()].def, ValueDef::Param(..)) {
                    ops.entry(p.0).or_default().push(f.resolve(*a));
                }
            }
        });
    }
    ops
}

/// Removes block parameters that only ever hold one value (Braun et al. §3.2).
pub(crate) fn remove_redundant_phis(f: &mut Function) {
    let ops = param_operands(f);
    let mut phis: Vec<Value> = Vec::new();
    for b in &f.blocks {
        for &p in &b.params {
            if matches!(f.values[p.index()].def, ValueDef::Param(..)) {
                phis.push(p);
            }
        }
    }
    process_phis(f, &ops, &phis);
}

/// Tarjan's strongly connected components over `phis` (edges: phi → its phi operands),
/// iteratively; each component is handled after the components it depends on.
fn process_phis(f: &mut Function, ops: &FastMap<u32, Vec<Value>>, phis: &[Value]) {
    let mut index_of: FastMap<u32, usize> = FastMap::default();
    for (i, p) in phis.iter().enumerate() {
        index_of.insert(p.0, i);
    }
    let n = phis.len();
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut counter = 0u32;
    let succs = |f: &Function, i: usize| -> Vec<usize> {
        ops.get(&phis[i].0)
            .map(|list| {
                list.iter()
                    .filter_map(|v| index_of.get(&f.resolve(*v).0).copied())
                    .collect()
            })
            .unwrap_or_default()
    };
    for root in 0..n {
        if index[root] != u32::MAX {
            continue;
        }
        let mut call: Vec<(usize, Vec<usize>, usize)> = vec![(root, succs(f, root), 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = call.last_mut() {
            let (v, ref edges, ref mut next) = *top;
            if *next < edges.len() {
                let w = edges[*next];
                *next += 1;
                if index[w] == u32::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    let e = succs(f, w);
                    call.push((w, e, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(parent) = call.last() {
                let p = parent.0;
                low[p] = low[p].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                loop {
                    let w = stack.pop().expect("on the stack");
                    on_stack[w] = false;
                    scc.push(phis[w]);
                    if w == v {
                        break;
                    }
                }
                process_scc(f, ops, &scc);
            }
        }
    }
}

fn process_scc(f: &mut Function, ops: &FastMap<u32, Vec<Value>>, scc: &[Value]) {
    let live: Vec<Value> = scc
        .iter()
        .copied()
        .filter(|p| matches!(f.values[p.index()].def, ValueDef::Param(..)))
        .collect();
    if live.is_empty() {
        return;
    }
    let in_scc = |v: Value| live.contains(&v);
    let mut outer = Value::NONE;
    let mut many = false;
    let mut inner = Vec::new();
    for &p in &live {
        let mut is_inner = true;
        for &o in ops.get(&p.0).map(Vec::as_slice).unwrap_or(&[]) {
            let o = f.resolve(o);
            if in_scc(o) {
                continue;
            }
            is_inner = false;
            if outer.is_none() {
                outer = o;
            } else if outer != o {
                many = true;
            }
        }
        if is_inner {
            inner.push(p);
        }
    }
    if !outer.is_none() && !many {
        for &p in &live {
            f.alias(p, outer);
        }
    } else if many && live.len() > 1 && !inner.is_empty() && inner.len() < live.len() {
        process_phis(f, ops, &inner);
    }
}

/// Drops parameters that were aliased away, and their arguments on every edge.
pub(crate) fn remove_aliased_params(f: &mut Function) {
    let keep: Vec<Vec<bool>> = f
        .blocks
        .iter()
        .map(|b| {
            b.params
                .iter()
                .map(|p| matches!(f.values[p.index()].def, ValueDef::Param(..)))
                .collect()
        })
        .collect();
    drop_params(f, &keep);
}

/// Keeps the block parameters `keep` marks, and the matching arguments on every edge.
fn drop_params(f: &mut Function, keep: &[Vec<bool>]) {
    for block in &mut f.blocks {
        block.term.for_each_succ_mut(|c| {
            let k = &keep[c.block.index()];
            if k.iter().all(|x| *x) {
                return;
            }
            let mut i = 0;
            c.args.retain(|_| {
                let r = k.get(i).copied().unwrap_or(true);
                i += 1;
                r
            });
        });
    }
    for (b, (block, k)) in f.blocks.iter_mut().zip(keep).enumerate() {
        let params = std::mem::take(&mut block.params);
        block.params = params
            .into_iter()
            .zip(k)
            .filter(|(_, k)| **k)
            .map(|(p, _)| p)
            .collect();
        for (n, p) in block.params.iter().enumerate() {
            f.values[p.index()].def = ValueDef::Param(Block(b as u32), n as u32);
        }
    }
}

/// Merges blocks into a sole predecessor that jumps to them, and bypasses empty blocks
/// that only jump on.
pub(crate) fn merge_blocks(f: &mut Function) {
    let n = f.blocks.len();
    let mut npreds = vec![0u32; n];
    for b in &f.blocks {
        b.term.for_each_succ(|c| npreds[c.block.index()] += 1);
    }
    // Forwarding: an edge into an empty, parameterless block that only jumps goes
    // straight to that block's target.
    for b in 0..n {
        let mut term = std::mem::replace(&mut f.blocks[b].term, Terminator::None);
        term.for_each_succ_mut(|c| {
            for _ in 0..8 {
                let t = &f.blocks[c.block.index()];
                if !t.insts.is_empty() || !t.params.is_empty() || c.block.index() == b {
                    break;
                }
                let Terminator::Jump(next) = &t.term else {
                    break;
                };
                if next.block == c.block {
                    break;
                }
                npreds[c.block.index()] -= 1;
                npreds[next.block.index()] += 1;
                *c = next.clone();
            }
        });
        f.blocks[b].term = term;
    }
    // Merging, in reverse postorder so chains collapse into their head.
    for b in reverse_postorder(f) {
        while let Terminator::Jump(c) = &f.blocks[b.index()].term {
            let s = c.block;
            if s == b || s == f.entry || npreds[s.index()] != 1 {
                break;
            }
            let args = c.args.clone();
            let params = std::mem::take(&mut f.blocks[s.index()].params);
            for (p, a) in params.into_iter().zip(args) {
                let a = f.resolve(a);
                if a != p {
                    f.alias(p, a);
                }
            }
            let insts = std::mem::take(&mut f.blocks[s.index()].insts);
            let term = std::mem::replace(&mut f.blocks[s.index()].term, Terminator::None);
            let sd = f.blocks[s.index()].loop_depth;
            let bd = &mut f.blocks[b.index()];
            bd.insts.extend(insts);
            bd.term = term;
            bd.loop_depth = bd.loop_depth.max(sd);
            npreds[s.index()] = 0;
        }
    }
    remove_unreachable(f);
}

/// Immediate dominators (Cooper, Harvey, Kennedy: "A Simple, Fast Dominance
/// Algorithm"), indexed by block; `NONE` for unreachable blocks, the entry for itself.
pub(crate) fn dominators(f: &Function, rpo: &[Block]) -> Vec<Block> {
    let n = f.blocks.len();
    let mut order = vec![u32::MAX; n];
    for (i, b) in rpo.iter().enumerate() {
        order[b.index()] = i as u32;
    }
    let preds = f.predecessors();
    let mut idom = vec![Block::NONE; n];
    idom[f.entry.index()] = f.entry;
    let intersect = |idom: &[Block], mut a: Block, mut b: Block| {
        while a != b {
            while order[a.index()] > order[b.index()] {
                a = idom[a.index()];
            }
            while order[b.index()] > order[a.index()] {
                b = idom[b.index()];
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in rpo.iter().skip(1) {
            let mut new = Block::NONE;
            for &p in &preds[b.index()] {
                if idom[p.index()].is_none() {
                    continue;
                }
                new = if new.is_none() {
                    p
                } else {
                    intersect(&idom, p, new)
                };
            }
            if !new.is_none() && idom[b.index()] != new {
                idom[b.index()] = new;
                changed = true;
            }
        }
    }
    idom
}

/// Global value numbering of pure instructions over the dominator tree: an instruction
/// equal to one in a dominating position is replaced by it.
pub(crate) fn gvn(f: &mut Function) {
    type Key = (Opcode, Type, [Value; 3], u64, u32);
    let rpo = reverse_postorder(f);
    let idom = dominators(f, &rpo);
    let tree: Vec<(Block, Block)> = rpo
        .iter()
        .skip(1)
        .map(|&b| (idom[b.index()], b))
        .filter(|(d, _)| !d.is_none())
        .collect();
    let children = crate::compile::ir::BlockLists::new(f.blocks.len(), &tree);
    let mut table: FastMap<Key, Value> = FastMap::default();
    // Entries to take out again when leaving a block's subtree.
    let mut undo: Vec<Key> = Vec::new();
    let number =
        |f: &mut Function, b: Block, table: &mut FastMap<Key, Value>, undo: &mut Vec<Key>| {
            let insts = std::mem::take(&mut f.blocks[b.index()].insts);
            let mut kept = Vec::with_capacity(insts.len());
            for i in insts {
                let mut d = f.insts[i.index()];
                if !d.op.is_pure() {
                    kept.push(i);
                    continue;
                }
                for a in &mut d.args {
                    if !a.is_none() {
                        *a = f.resolve(*a);
                    }
                }
                let key = (d.op, d.ty, d.args, d.imm, d.aux);
                if let Some(&v) = table.get(&key) {
                    f.alias(d.result, v);
                    continue;
                }
                table.insert(key, d.result);
                undo.push(key);
                kept.push(i);
            }
            f.blocks[b.index()].insts = kept;
        };
    number(f, f.entry, &mut table, &mut undo);
    let mut stack: Vec<(Block, usize, usize)> = vec![(f.entry, 0, 0)];
    while let Some(top) = stack.last_mut() {
        let b = top.0;
        if top.1 < children[b.index()].len() {
            let c = children[b.index()][top.1];
            top.1 += 1;
            let mark = undo.len();
            number(f, c, &mut table, &mut undo);
            stack.push((c, 0, mark));
        } else {
            let (_, _, mark) = stack.pop().expect("non-empty");
            for key in undo.drain(mark..) {
                table.remove(&key);
            }
        }
    }
}

/// Removes pure instructions and block parameters whose values nobody needs.
pub(crate) fn dce(f: &mut Function) {
    let nv = f.values.len();
    let mut live = vec![false; nv];
    let mut inst_live = vec![false; f.insts.len()];
    let mut work: Vec<Value> = Vec::new();
    let mark = |v: Value, live: &mut Vec<bool>, work: &mut Vec<Value>| {
        if !v.is_none() && !live[v.index()] {
            live[v.index()] = true;
            work.push(v);
        }
    };
    let preds = f.predecessors();
    for b in &f.blocks {
        for &i in &b.insts {
            let d = &f.insts[i.index()];
            if d.op.has_effect() {
                inst_live[i.index()] = true;
                d.args.iter().for_each(|a| mark(*a, &mut live, &mut work));
                if matches!(d.op, Opcode::Call | Opcode::Libcall(_)) {
                    for a in &f.calls[d.imm as usize].args {
                        mark(*a, &mut live, &mut work);
                    }
                }
            }
        }
        b.term.for_each_operand(|v| mark(v, &mut live, &mut work));
    }
    while let Some(v) = work.pop() {
        match f.values[v.index()].def {
            ValueDef::Inst(i) | ValueDef::CallResult(i, _) => {
                if !inst_live[i.index()] {
                    inst_live[i.index()] = true;
                    let d = &f.insts[i.index()];
                    d.args.iter().for_each(|a| mark(*a, &mut live, &mut work));
                }
            }
            ValueDef::Param(b, k) => {
                let mut seen: Vec<Block> = Vec::new();
                for &p in &preds[b.index()] {
                    if seen.contains(&p) {
                        continue;
                    }
                    seen.push(p);
                    f.blocks[p.index()].term.for_each_succ(|c| {
                        if c.block == b
                            && let Some(a) = c.args.get(k as usize)
                        {
                            mark(*a, &mut live, &mut work);
                        }
                    });
                }
            }
            ValueDef::Alias(to) => mark(to, &mut live, &mut work),
        }
    }
    for b in &mut f.blocks {
        b.insts.retain(|i| inst_live[i.index()]);
    }
    // Dead parameters go with their arguments; the entry block's are the function's
    // and always stay.
    let entry = f.entry.index();
    let keep: Vec<Vec<bool>> = f
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            b.params
                .iter()
                .map(|p| i == entry || live[p.index()])
                .collect()
        })
        .collect();
    drop_params(f, &keep);
}

/// Blocks that end in a trap are cold.
pub(crate) fn mark_cold(f: &mut Function) {
    for b in &mut f.blocks {
        if matches!(b.term, Terminator::Trap(_)) {
            b.cold = true;
        }
    }
}

/// Gives every edge from a block with several successors into a block with several
/// incoming edges a block of its own.
pub(crate) fn split_critical_edges(f: &mut Function) {
    let mut incoming = vec![0u32; f.blocks.len()];
    for b in &f.blocks {
        b.term.for_each_succ(|c| incoming[c.block.index()] += 1);
    }
    for b in 0..f.blocks.len() {
        let mut count = 0;
        f.blocks[b].term.for_each_succ(|_| count += 1);
        if count < 2 {
            continue;
        }
        let mut term = std::mem::replace(&mut f.blocks[b].term, Terminator::None);
        let mut new_blocks = Vec::new();
        term.for_each_succ_mut(|c| {
            if incoming[c.block.index()] > 1 {
                new_blocks.push(std::mem::replace(
                    c,
                    BlockCall {
                        block: Block::NONE,
                        args: Vec::new(),
                    },
                ));
            }
        });
        let mut made = Vec::new();
        for target in new_blocks {
            let depth = f.blocks[target.block.index()].loop_depth;
            let cold = f.blocks[target.block.index()].cold;
            let nb = f.new_block(depth);
            f.blocks[nb.index()].cold = cold;
            f.blocks[nb.index()].term = Terminator::Jump(target);
            made.push(nb);
        }
        let mut k = 0;
        term.for_each_succ_mut(|c| {
            if c.block.is_none() {
                c.block = made[k];
                k += 1;
            }
        });
        f.blocks[b].term = term;
    }
}

/// The final block order: reverse postorder with cold blocks moved to the end.
pub(crate) fn layout(f: &Function) -> Vec<Block> {
    let rpo = reverse_postorder(f);
    let (mut hot, cold): (Vec<Block>, Vec<Block>) = rpo
        .into_iter()
        .partition(|b| !f.blocks[b.index()].cold || *b == f.entry);
    hot.extend(cold);
    hot
}
