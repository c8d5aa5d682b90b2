//! Register allocation: linear scan with live-range splitting, after Wimmer and Franz,
//! "Linear Scan Register Allocation on SSA Form" (CGO 2010), and Wimmer and
//! Mössenböck, "Optimized Interval Splitting in a Linear Scan Register Allocator"
//! (VEE 2005).
//!
//! 1. **Liveness** by path exploration per virtual register (Brandner et al., "Computing
//!    Liveness Sets for SSA-Form Programs", 2011): from each use, walk predecessors up to
//!    the definition. The cost is the size of the result, not blocks × registers, so a
//!    function with thousands of blocks and tens of thousands of values (SQLite's
//!    `sqlite3VdbeExec`) stays linear.
//! 2. **Intervals**: each virtual register gets a list of live ranges (with holes) and
//!    use positions; each physical register a *fixed* interval where the code pins it
//!    (call clobbers, argument registers, `div`'s rax/rdx).
//! 3. **Linear scan** over intervals by start: a free register if one stays free long
//!    enough (preferring the hinted one, so copies coalesce), else the register whose
//!    next use is furthest, splitting and spilling intervals at block boundaries of the
//!    lowest loop depth in between.
//! 4. **Resolution**: moves where an interval was split inside a block, and on each CFG
//!    edge where a value's location differs or a block parameter receives its argument,
//!    sequentialized as parallel moves. A spilled value is stored to its slot right after
//!    its definition, once; afterwards only reloads are needed.
//!
//! Positions: instruction `i` reads its operands at `2i` and writes results at `2i + 1`;
//! ranges are half-open. A value dying at an instruction and a result of it may share a
//! register; a temporary (`Use::Early`) covers both.

#![forbid(unsafe_code)]

use super::x64::inst::{Class, FIRST_VIRTUAL, MInst, Reg, Use};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A block of the code being allocated.
#[derive(Clone, Debug, Default)]
pub(crate) struct VBlock {
    /// Instruction range `[start, end)`; the last is the terminator.
    pub start: u32,
    pub end: u32,
    /// Virtual registers defined at the block's start.
    pub params: Vec<Reg>,
    /// Successors with the arguments for their parameters (read by the terminator).
    pub succs: Vec<(u32, Vec<Reg>)>,
    pub preds: Vec<u32>,
    pub loop_depth: u32,
}

/// Code to allocate: instructions over virtual registers, in layout order.
#[derive(Clone, Debug, Default)]
pub(crate) struct VCode {
    pub insts: Vec<MInst>,
    pub blocks: Vec<VBlock>,
    /// Class of each virtual register.
    pub vregs: Vec<Class>,
}

impl VCode {
    pub(crate) fn new_vreg(&mut self, class: Class) -> Reg {
        self.vregs.push(class);
        Reg(FIRST_VIRTUAL + self.vregs.len() as u32 - 1)
    }
}

/// Where a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Loc {
    Reg(Reg),
    /// Spill slot number: 8 bytes each; a vector takes slots `k` and `k + 1`.
    Stack(u32),
}

/// A move the allocator inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Move {
    pub class: Class,
    pub src: Loc,
    pub dst: Loc,
}

/// What the allocator produced: code with physical registers and the moves around it.
pub(crate) struct Allocation {
    /// Per instruction: moves before it, in order (already sequentialized; may use the
    /// scratch register of each class).
    pub before: Vec<Vec<Move>>,
    /// Per instruction: spill stores after it.
    pub after: Vec<Vec<Move>>,
    pub num_slots: u32,
    /// Callee-saved registers the code uses.
    pub used_callee_saved: Vec<Reg>,
}

/// Register sets of the target.
pub(crate) struct RegInfo {
    pub int_regs: &'static [u32],
    pub float_regs: &'static [u32],
    pub callee_saved: &'static [u32],
    pub int_scratch: Reg,
    pub float_scratch: Reg,
}

fn class_of_preg(r: u32) -> Class {
    if r < 16 { Class::Int } else { Class::Float }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy, Debug)]
struct UsePos {
    pos: u32,
    /// Needs a register (every use does, for now).
    must_reg: bool,
}

/// A register's intervals, ordered by start. Most registers are never split: their one
/// interval is kept inline, and a vector is made at the first split (a vector per
/// register was 6% of the compiler's allocations).
#[derive(Clone, Debug)]
enum Children {
    None,
    One(Id),
    Many(Vec<Id>),
}

impl std::ops::Deref for Children {
    type Target = [Id];
    fn deref(&self) -> &[Id] {
        match self {
            Children::None => &[],
            Children::One(id) => std::slice::from_ref(id),
            Children::Many(ids) => ids,
        }
    }
}

impl Children {
    fn push(&mut self, id: Id) {
        let at = self.len();
        self.insert(at, id);
    }

    fn insert(&mut self, at: usize, id: Id) {
        match self {
            Children::None => *self = Children::One(id),
            Children::One(first) => {
                let mut ids = vec![*first];
                ids.insert(at, id);
                *self = Children::Many(ids);
            }
            Children::Many(ids) => ids.insert(at, id),
        }
    }
}

/// [`Allocator::loc_at`] as a table (see [`Allocator::loc_table`]).
struct LocTable {
    starts: Vec<u32>,
    spans: Vec<(u32, u32, Loc)>,
}

impl LocTable {
    fn loc_at(&self, v: u32, pos: u32) -> Option<Loc> {
        let list =
            &self.spans[self.starts[v as usize] as usize..self.starts[v as usize + 1] as usize];
        let i = list.partition_point(|s| s.0 <= pos);
        let &(_, end, loc) = list.get(i.checked_sub(1)?)?;
        (pos < end).then_some(loc)
    }
}

/// A use of virtual register `v` at `pos` that needs a register.
fn in_reg(v: usize, pos: u32) -> (u32, UsePos) {
    (
        v as u32,
        UsePos {
            pos,
            must_reg: true,
        },
    )
}

/// Records a write of `v` at `at`, keeping the earlier write of a register written twice.
fn note_def(last_def: &mut [u32], earlier_defs: &mut Vec<(u32, u32)>, v: usize, at: u32) {
    if last_def[v] != u32::MAX {
        earlier_defs.push((v as u32, last_def[v]));
    }
    last_def[v] = at;
}

/// Groups `(index, item)` pairs by index (a vreg or a block), keeping their order: `v`'s
/// items are `items[starts[v]..starts[v + 1]]`.
fn group_by_vreg<T: Copy>(n: usize, pairs: Vec<(u32, T)>) -> (Vec<u32>, Vec<T>) {
    super::ir::group(n, &pairs, |&(v, item)| (v as usize, item))
}

#[derive(Clone, Debug)]
struct Interval {
    /// Virtual register index, or `u32::MAX` for a fixed interval.
    vreg: u32,
    class: Class,
    ranges: Vec<Range>,
    /// Its uses, by position: a span of `Allocator::use_pos` (a split divides the span,
    /// so no interval owns a vector of uses).
    uses: std::ops::Range<u32>,
    /// Assigned register (physical number) or stack.
    reg: Option<u32>,
    spilled: bool,
    /// Preferred physical register.
    hint: Option<u32>,
    /// Virtual register whose register is preferred (a copy's source).
    hint_vreg: Option<u32>,
}

impl Interval {
    fn start(&self) -> u32 {
        self.ranges[0].start
    }

    fn end(&self) -> u32 {
        self.ranges.last().expect("non-empty").end
    }

    fn covers(&self, pos: u32) -> bool {
        // Ranges are sorted: binary search for the last range starting at or before pos.
        let i = self.ranges.partition_point(|r| r.start <= pos);
        i > 0 && self.ranges[i - 1].end > pos
    }

    /// The first position at or after `from` that both intervals cover.
    fn next_intersection(&self, other: &Interval, from: u32) -> Option<u32> {
        let mut i = self.ranges.partition_point(|r| r.end <= from);
        let mut j = other.ranges.partition_point(|r| r.end <= from);
        while i < self.ranges.len() && j < other.ranges.len() {
            let a = self.ranges[i];
            let b = other.ranges[j];
            let start = a.start.max(b.start).max(from);
            if start < a.end.min(b.end) {
                return Some(start);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        None
    }

    /// The first use at or after `pos` that needs a register.
    fn next_reg_use(&self, all: &[UsePos], pos: u32) -> Option<u32> {
        let uses = self.uses_in(all);
        let i = uses.partition_point(|u| u.pos < pos);
        uses[i..].iter().find(|u| u.must_reg).map(|u| u.pos)
    }

    fn uses_in<'u>(&self, all: &'u [UsePos]) -> &'u [UsePos] {
        &all[self.uses.start as usize..self.uses.end as usize]
    }

    /// Splits at `pos` (start of the new child); returns the child.
    fn split(&mut self, all: &[UsePos], pos: u32) -> Interval {
        debug_assert!(pos > self.start() && pos < self.end());
        let i = self.ranges.partition_point(|r| r.end <= pos);
        let mut tail = self.ranges.split_off(i);
        if tail[0].start < pos {
            self.ranges.push(Range {
                start: tail[0].start,
                end: pos,
            });
            tail[0].start = pos;
        }
        let u = self.uses.start + self.uses_in(all).partition_point(|u| u.pos < pos) as u32;
        let uses = u..self.uses.end;
        self.uses.end = u;
        Interval {
            vreg: self.vreg,
            class: self.class,
            ranges: tail,
            uses,
            reg: None,
            spilled: false,
            hint: self.reg.or(self.hint),
            hint_vreg: None,
        }
    }
}

type Id = usize;

struct Allocator<'a> {
    code: &'a VCode,
    info: &'a RegInfo,
    intervals: Vec<Interval>,
    /// Children of each virtual register, in order of start.
    children: Vec<Children>,
    /// Fixed interval of each physical register (index = register number).
    fixed: Vec<Option<Id>>,
    unhandled: BinaryHeap<Reverse<(u32, Id)>>,
    active: Vec<Id>,
    inactive: Vec<Id>,
    /// Loop depth of the block containing each position / 2.
    block_of_inst: Vec<u32>,
    /// Live-in virtual registers of each block.
    /// Per block, the virtual registers live into it (see `build`).
    live_in: Vec<u32>,
    live_in_starts: Vec<u32>,
    /// Position of each virtual register's last write (`u32::MAX` for block
    /// parameters, which instructions never write).
    last_def: Vec<u32>,
    /// The writes before the last of registers written more than once (two-address
    /// forms, sequences updating a temporary in place), as (register, position).
    earlier_defs: Vec<(u32, u32)>,
    /// Every interval's uses, grouped by register and sorted by position.
    use_pos: Vec<UsePos>,
}

/// Allocates registers for `code`, rewriting its instructions in place.
pub(crate) fn allocate(code: &mut VCode, info: &RegInfo) -> Allocation {
    let mut a = Allocator {
        code,
        info,
        intervals: Vec::new(),
        children: vec![Children::None; code.vregs.len()],
        fixed: vec![None; 32],
        unhandled: BinaryHeap::new(),
        active: Vec::new(),
        inactive: Vec::new(),
        block_of_inst: Vec::new(),
        live_in: Vec::new(),
        live_in_starts: Vec::new(),
        last_def: vec![u32::MAX; code.vregs.len()],
        earlier_defs: Vec::new(),
        use_pos: Vec::new(),
    };
    let mut insts = code.insts.clone();
    a.build(&mut insts);
    a.scan();
    if super::debug_flags().regalloc_debug {
        for (i, inst) in code.insts.iter().enumerate() {
            eprintln!("{:4} {inst:?}", 2 * i);
        }
        for b in &code.blocks {
            eprintln!(
                "block {}..{} params {:?} succs {:?} preds {:?}",
                b.start, b.end, b.params, b.succs, b.preds
            );
        }
        for it in &a.intervals {
            eprintln!(
                "v{} {:?} reg {:?} spilled {} uses {:?}",
                it.vreg as i64,
                it.ranges
                    .iter()
                    .map(|r| (r.start, r.end))
                    .collect::<Vec<_>>(),
                it.reg,
                it.spilled,
                it.uses_in(&a.use_pos)
                    .iter()
                    .map(|u| u.pos)
                    .collect::<Vec<_>>()
            );
        }
    }
    let (alloc, table) = a.resolve();
    rewrite(&mut insts, &table);
    drop(a);
    code.insts = insts;
    alloc
}

impl Allocator<'_> {
    // ---- building intervals ----

    fn build(&mut self, insts: &mut [MInst]) {
        let code = self.code;
        let nv = code.vregs.len();
        self.block_of_inst = vec![0; insts.len()];
        for (b, blk) in code.blocks.iter().enumerate() {
            for i in blk.start..blk.end {
                self.block_of_inst[i as usize] = b as u32;
            }
        }
        // Per virtual register: defining block and position; uses (position, block).
        let mut def_pos = vec![u32::MAX; nv];
        let mut def_block = vec![u32::MAX; nv];
        // Collected flat as (vreg, ...) and grouped by vreg below: one vector per vreg
        // would be two allocations per value, and `malloc` was a fifth of compile time.
        let mut flat_uses: Vec<(u32, (u32, u32))> = Vec::new();
        let mut flat_use_pos: Vec<(u32, UsePos)> = Vec::new();
        let mut hints: Vec<Option<u32>> = vec![None; nv];
        let mut hint_vregs: Vec<Option<u32>> = vec![None; nv];
        let last_def = &mut self.last_def;
        let earlier_defs = &mut self.earlier_defs;
        // Fixed ranges per physical register, collected per block backwards.
        let mut fixed_ranges: Vec<Vec<Range>> = vec![Vec::new(); 32];

        for (b, blk) in code.blocks.iter().enumerate() {
            let b = b as u32;
            for &p in &blk.params {
                let v = p.vindex();
                def_pos[v] = 2 * blk.start;
                def_block[v] = b;
            }
            for i in blk.start..blk.end {
                let inst = &mut insts[i as usize];
                let (p_use, p_def) = (2 * i, 2 * i + 1);
                if let Some((dst, src)) = inst.as_move() {
                    if dst.is_virtual() && !src.is_virtual() {
                        hints[dst.vindex()] = Some(src.0);
                    } else if dst.is_virtual() && src.is_virtual() {
                        hint_vregs[dst.vindex()] = Some(src.vindex() as u32);
                    } else if !dst.is_virtual() && src.is_virtual() && hints[src.vindex()].is_none()
                    {
                        hints[src.vindex()] = Some(dst.0);
                    }
                }
                inst.map_regs(&mut |r, u| {
                    if !r.is_virtual() {
                        return;
                    }
                    let v = r.vindex();
                    match u {
                        Use::Read => {
                            flat_uses.push((v as u32, (p_use, b)));
                            flat_use_pos.push(in_reg(v, p_use));
                        }
                        Use::Write | Use::Early => {
                            let at = if u == Use::Early { p_use } else { p_def };
                            note_def(last_def, earlier_defs, v, at);
                            if def_pos[v] == u32::MAX {
                                def_pos[v] = at;
                                def_block[v] = b;
                            }
                            flat_use_pos.push(in_reg(v, at));
                            if u == Use::Early {
                                // Keep it alive through the outputs.
                                flat_uses.push((v as u32, (p_def, b)));
                            }
                        }
                        Use::Modify => {
                            note_def(last_def, earlier_defs, v, p_def);
                            flat_uses.push((v as u32, (p_use, b)));
                            flat_use_pos.push(in_reg(v, p_use));
                            flat_use_pos.push(in_reg(v, p_def));
                        }
                    }
                });
            }
            // Jump arguments are read by the terminator; a parameter and its arguments
            // prefer one register, so the edge needs no move.
            let t = 2 * (blk.end - 1);
            for (succ, args) in &blk.succs {
                for (p, a) in code.blocks[*succ as usize].params.iter().zip(args) {
                    let (pv, av) = (p.vindex(), a.vindex());
                    if hint_vregs[av].is_none() {
                        hint_vregs[av] = Some(pv as u32);
                    }
                    if hint_vregs[pv].is_none() {
                        hint_vregs[pv] = Some(av as u32);
                    }
                }
                for a in args {
                    flat_uses.push((a.vindex() as u32, (t, b)));
                    flat_use_pos.push((
                        a.vindex() as u32,
                        UsePos {
                            pos: t,
                            must_reg: false,
                        },
                    ));
                }
            }
            // Physical registers: block-local, scanned backwards.
            let mut live_until = [u32::MAX; 32];
            for i in (blk.start..blk.end).rev() {
                let inst = &mut insts[i as usize];
                let (p_use, p_def) = (2 * i, 2 * i + 1);
                for &c in inst.clobbers() {
                    let c = c as usize;
                    let end = if live_until[c] != u32::MAX {
                        live_until[c]
                    } else {
                        p_def + 1
                    };
                    fixed_ranges[c].push(Range {
                        start: p_def,
                        end: end.max(p_def + 1),
                    });
                    live_until[c] = u32::MAX;
                }
                let mut reads = Vec::new();
                let mut writes = Vec::new();
                inst.map_regs(&mut |r, u| {
                    if r.is_virtual() {
                        return;
                    }
                    match u {
                        Use::Read => reads.push(r.0 as usize),
                        Use::Write => writes.push((r.0 as usize, p_def)),
                        Use::Early => writes.push((r.0 as usize, p_use)),
                        Use::Modify => {
                            reads.push(r.0 as usize);
                            writes.push((r.0 as usize, p_def));
                        }
                    }
                });
                for (r, at) in writes {
                    let end = if live_until[r] != u32::MAX {
                        live_until[r]
                    } else {
                        p_def + 1
                    };
                    fixed_ranges[r].push(Range {
                        start: at,
                        end: end.max(at + 1),
                    });
                    live_until[r] = u32::MAX;
                }
                for r in reads {
                    if live_until[r] == u32::MAX {
                        live_until[r] = p_use + 1;
                    }
                }
            }
            // A physical register read before any write in the block is an error of
            // instruction selection; give it a range from the block start anyway.
            for (r, &until) in live_until.iter().enumerate() {
                if until != u32::MAX {
                    fixed_ranges[r].push(Range {
                        start: 2 * blk.start,
                        end: until,
                    });
                }
            }
        }

        let (use_starts, uses) = group_by_vreg(nv, flat_uses);
        let (use_pos_starts, mut use_pos) = group_by_vreg(nv, flat_use_pos);

        // Liveness by path exploration, virtual register by virtual register: a use in
        // another block makes the value live into that block, hence live out of each
        // predecessor, and so on up to the definition.
        let mut live_in_mark = vec![u32::MAX; code.blocks.len()];
        let mut live_in: Vec<(u32, u32)> = Vec::new();
        let mut live_out_mark = vec![u32::MAX; code.blocks.len()];
        let mut ranges: Vec<Range> = Vec::new();
        let mut work: Vec<u32> = Vec::new();
        for v in 0..nv {
            if def_pos[v] == u32::MAX {
                continue;
            }
            ranges.clear();
            let vm = v as u32;
            let db = def_block[v];
            let dp = def_pos[v];
            let mut local_end = dp + 1;
            let mut live_out_of_def = false;
            for &(pos, b) in &uses[use_starts[v] as usize..use_starts[v + 1] as usize] {
                if b == db && pos >= dp {
                    local_end = local_end.max(pos + 1);
                    continue;
                }
                let blk = &code.blocks[b as usize];
                ranges.push(Range {
                    start: 2 * blk.start,
                    end: pos + 1,
                });
                if live_in_mark[b as usize] != vm {
                    live_in_mark[b as usize] = vm;
                    live_in.push((b, vm));
                    work.push(b);
                }
            }
            // `work` holds blocks the value is live into; their predecessors have it
            // live out.
            while let Some(b) = work.pop() {
                for &p in &code.blocks[b as usize].preds {
                    if live_out_mark[p as usize] == vm {
                        continue;
                    }
                    live_out_mark[p as usize] = vm;
                    if p == db {
                        live_out_of_def = true;
                        continue;
                    }
                    let blk = &code.blocks[p as usize];
                    ranges.push(Range {
                        start: 2 * blk.start,
                        end: 2 * blk.end,
                    });
                    if live_in_mark[p as usize] != vm {
                        live_in_mark[p as usize] = vm;
                        live_in.push((p, vm));
                        work.push(p);
                    }
                }
            }
            let dblk = &code.blocks[db as usize];
            let end = if live_out_of_def {
                2 * dblk.end
            } else {
                local_end
            };
            ranges.push(Range { start: dp, end });
            ranges.sort_unstable_by_key(|r| r.start);
            let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
            for r in ranges.drain(..) {
                match merged.last_mut() {
                    Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                    _ => merged.push(r),
                }
            }
            let up = use_pos_starts[v]..use_pos_starts[v + 1];
            use_pos[up.start as usize..up.end as usize].sort_by_key(|u| u.pos);
            let id = self.intervals.len();
            self.intervals.push(Interval {
                vreg: v as u32,
                class: code.vregs[v].file(),
                ranges: merged,
                uses: up,
                reg: None,
                spilled: false,
                hint: hints[v],
                hint_vreg: hint_vregs[v],
            });
            self.children[v].push(id);
            self.unhandled
                .push(Reverse((self.intervals[id].start(), id)));
        }
        (self.live_in_starts, self.live_in) = group_by_vreg(code.blocks.len(), live_in);
        self.use_pos = use_pos;
        for (r, mut rs) in fixed_ranges.into_iter().enumerate() {
            if rs.is_empty() {
                continue;
            }
            rs.sort_unstable_by_key(|x| x.start);
            let mut merged: Vec<Range> = Vec::with_capacity(rs.len());
            for x in rs {
                match merged.last_mut() {
                    Some(last) if x.start <= last.end => last.end = last.end.max(x.end),
                    _ => merged.push(x),
                }
            }
            let id = self.intervals.len();
            self.intervals.push(Interval {
                vreg: u32::MAX,
                class: class_of_preg(r as u32),
                ranges: merged,
                uses: 0..0,
                reg: Some(r as u32),
                spilled: false,
                hint: None,
                hint_vreg: None,
            });
            self.fixed[r] = Some(id);
        }
    }

    // ---- linear scan ----

    fn regs_of(&self, class: Class) -> &'static [u32] {
        match class {
            Class::Int => self.info.int_regs,
            Class::Float | Class::Vector => self.info.float_regs,
        }
    }

    fn scan(&mut self) {
        while let Some(Reverse((pos, cur))) = self.unhandled.pop() {
            // Retire or park intervals that no longer cover `pos`.
            let mut k = 0;
            while k < self.active.len() {
                let it = &self.intervals[self.active[k]];
                if it.end() <= pos {
                    self.active.swap_remove(k);
                } else if !it.covers(pos) {
                    let id = self.active.swap_remove(k);
                    self.inactive.push(id);
                } else {
                    k += 1;
                }
            }
            let mut k = 0;
            while k < self.inactive.len() {
                let it = &self.intervals[self.inactive[k]];
                if it.end() <= pos {
                    self.inactive.swap_remove(k);
                } else if it.covers(pos) {
                    let id = self.inactive.swap_remove(k);
                    self.active.push(id);
                } else {
                    k += 1;
                }
            }
            if self.intervals[cur].spilled {
                continue;
            }
            if !self.try_free_reg(cur) {
                self.alloc_blocked_reg(cur);
            }
            if self.intervals[cur].reg.is_some() {
                self.active.push(cur);
            }
        }
    }

    fn hint_reg(&self, cur: Id) -> Option<u32> {
        let it = &self.intervals[cur];
        if let Some(h) = it.hint {
            return Some(h);
        }
        let v = it.hint_vreg?;
        // The register the copy's source has where it is read.
        match self.loc_at(v, it.start().checked_sub(1)?) {
            Some(Loc::Reg(r)) => Some(r.0),
            _ => None,
        }
    }

    fn try_free_reg(&mut self, cur: Id) -> bool {
        let class = self.intervals[cur].class;
        let start = self.intervals[cur].start();
        let mut free_until = [u32::MAX; 32];
        for &id in &self.active {
            let it = &self.intervals[id];
            if it.class == class
                && let Some(r) = it.reg
            {
                free_until[r as usize] = 0;
            }
        }
        for &id in &self.inactive {
            let it = &self.intervals[id];
            if it.class != class {
                continue;
            }
            if let Some(r) = it.reg
                && free_until[r as usize] > 0
                && let Some(x) = it.next_intersection(&self.intervals[cur], start)
            {
                free_until[r as usize] = free_until[r as usize].min(x);
            }
        }
        for &r in self.regs_of(class) {
            if let Some(f) = self.fixed[r as usize]
                && free_until[r as usize] > 0
                && let Some(x) = self.intervals[f].next_intersection(&self.intervals[cur], start)
            {
                free_until[r as usize] = free_until[r as usize].min(x);
            }
        }
        let end = self.intervals[cur].end();
        let regs = self.regs_of(class);
        let mut best = regs[0];
        if let Some(h) = self.hint_reg(cur)
            && regs.contains(&h)
            && free_until[h as usize] >= end
        {
            best = h;
        } else {
            // A register free for the whole interval, preferring the first in order
            // (caller-saved first); else the one free the longest.
            let mut found = false;
            for &r in regs {
                if free_until[r as usize] >= end {
                    best = r;
                    found = true;
                    break;
                }
            }
            if !found {
                for &r in regs {
                    if free_until[r as usize] > free_until[best as usize] {
                        best = r;
                    }
                }
            }
        }
        let fu = free_until[best as usize];
        if fu <= start + 1 {
            return false;
        }
        // A register lost (to a call, say) before the interval's next use buys nothing:
        // it would only be stored and reloaded. Stay in memory up to that use.
        let next_use = self.intervals[cur].next_reg_use(&self.use_pos, start);
        if fu < end && next_use.is_none_or(|u| u >= fu) && self.spill_until_use(cur, next_use) {
            return true;
        }
        self.intervals[cur].reg = Some(best);
        if fu < end {
            // Free only for a while: keep the register up to there, the rest later.
            let pos = self.split_pos(start + 1, fu);
            self.split_to_unhandled(cur, pos);
        }
        true
    }

    /// Leaves `cur` in memory up to its next use needing a register (if any), from
    /// where the rest is allocated again. False if `cur` needs a register at its start.
    fn spill_until_use(&mut self, cur: Id, next_use: Option<u32>) -> bool {
        let start = self.intervals[cur].start();
        match next_use {
            None => {
                self.intervals[cur].spilled = true;
                true
            }
            Some(u) if u > start + 1 => {
                let pos = self.split_pos(start + 1, u);
                if pos <= start || pos >= self.intervals[cur].end() {
                    return false;
                }
                self.intervals[cur].spilled = true;
                self.split_to_unhandled(cur, pos);
                true
            }
            Some(_) => false,
        }
    }

    fn alloc_blocked_reg(&mut self, cur: Id) {
        let class = self.intervals[cur].class;
        let start = self.intervals[cur].start();
        let mut use_pos = [u32::MAX; 32];
        let mut block_pos = [u32::MAX; 32];
        for &id in &self.active {
            let it = &self.intervals[id];
            if it.class != class {
                continue;
            }
            let r = it.reg.expect("active intervals have registers") as usize;
            // A use by the instruction that defines `cur` pins the register too: it
            // cannot change hands inside an instruction.
            let next = it
                .next_reg_use(&self.use_pos, start & !1)
                .unwrap_or(u32::MAX);
            use_pos[r] = use_pos[r].min(next);
        }
        for &id in &self.inactive {
            let it = &self.intervals[id];
            if it.class != class {
                continue;
            }
            let r = it.reg.expect("inactive intervals have registers") as usize;
            if it.next_intersection(&self.intervals[cur], start).is_some() {
                let next = it.next_reg_use(&self.use_pos, start).unwrap_or(u32::MAX);
                use_pos[r] = use_pos[r].min(next);
            }
        }
        for &r in self.regs_of(class) {
            if let Some(f) = self.fixed[r as usize]
                && let Some(x) = self.intervals[f].next_intersection(&self.intervals[cur], start)
            {
                block_pos[r as usize] = block_pos[r as usize].min(x);
                use_pos[r as usize] = use_pos[r as usize].min(x);
            }
        }
        let regs = self.regs_of(class);
        let mut best = regs[0];
        for &r in regs {
            if use_pos[r as usize] > use_pos[best as usize] {
                best = r;
            }
        }
        let first_use = self.intervals[cur]
            .next_reg_use(&self.use_pos, start)
            .unwrap_or(u32::MAX);
        if use_pos[best as usize] < first_use {
            // Every register is needed before `cur` needs one: spill `cur` up to its
            // first use needing a register.
            self.intervals[cur].spilled = true;
            if first_use != u32::MAX {
                let end = self.intervals[cur].end();
                if first_use < end {
                    let pos = self.split_pos(start + 1, first_use);
                    self.split_to_unhandled(cur, pos.max(start + 1));
                }
            }
            return;
        }
        self.intervals[cur].reg = Some(best);
        let end = self.intervals[cur].end();
        if block_pos[best as usize] < end {
            let pos = self.split_pos(start + 1, block_pos[best as usize]);
            self.split_to_unhandled(cur, pos);
        }
        // Evict the intervals holding `best` where they meet `cur`.
        let holders: Vec<Id> = self
            .active
            .iter()
            .chain(self.inactive.iter())
            .copied()
            .filter(|&id| {
                let it = &self.intervals[id];
                it.class == class && it.reg == Some(best) && id != cur
            })
            .collect();
        for id in holders {
            let at = if self.active.contains(&id) {
                start
            } else {
                match self.intervals[id].next_intersection(&self.intervals[cur], start) {
                    Some(x) => x,
                    None => continue,
                }
            };
            self.evict(id, at);
        }
    }

    /// Takes `id`'s register from `at` on: the part from `at` is spilled until its next
    /// use that needs a register, from where it is allocated again.
    fn evict(&mut self, id: Id, at: u32) {
        let it_start = self.intervals[id].start();
        // Split after the holder's last use before `at`, at an instruction boundary.
        let last_use = {
            let it = &self.intervals[id];
            let uses = it.uses_in(&self.use_pos);
            let k = uses.partition_point(|u| u.pos < at);
            if k > 0 {
                uses[k - 1].pos + 1
            } else {
                it_start + 1
            }
        };
        let min = (last_use.max(it_start + 1) + 1) & !1;
        let pos = if min >= at {
            at & !1
        } else {
            self.split_pos(min, at)
        };
        let tail = if pos <= it_start || (at <= it_start) {
            // The whole interval: spill it entirely.
            self.active.retain(|&x| x != id);
            self.inactive.retain(|&x| x != id);
            self.intervals[id].reg = None;
            id
        } else if pos >= self.intervals[id].end() {
            return;
        } else {
            self.split(id, pos)
        };
        self.intervals[tail].reg = None;
        self.intervals[tail].spilled = true;
        let tstart = self.intervals[tail].start();
        if let Some(u) = self.intervals[tail].next_reg_use(&self.use_pos, tstart.max(at)) {
            let end = self.intervals[tail].end();
            if u < end && u > tstart {
                let pos = self.split_pos(tstart.max(at) + 1, u).max(tstart + 1);
                let again = self.split(tail, pos);
                self.unhandled
                    .push(Reverse((self.intervals[again].start(), again)));
            } else if u == tstart {
                // Needs a register right at its start: allocate it normally.
                self.intervals[tail].spilled = false;
                self.unhandled.push(Reverse((tstart, tail)));
            }
        }
    }

    /// Splits interval `id` at `pos`, registering the child; returns the child.
    fn split(&mut self, id: Id, pos: u32) -> Id {
        let child = self.intervals[id].split(&self.use_pos, pos);
        let v = child.vreg as usize;
        let cid = self.intervals.len();
        self.intervals.push(child);
        let list = &mut self.children[v];
        let at = list.partition_point(|&c| self.intervals[c].start() < pos);
        list.insert(at, cid);
        cid
    }

    fn split_to_unhandled(&mut self, id: Id, pos: u32) {
        if pos <= self.intervals[id].start() || pos >= self.intervals[id].end() {
            return;
        }
        let child = self.split(id, pos);
        self.unhandled
            .push(Reverse((self.intervals[child].start(), child)));
    }

    /// Where to split between `min` and `max` (exclusive): at `max`, or at the start of
    /// a block with a lower loop depth in between, so reloads and spills leave loops.
    fn split_pos(&self, min: u32, max: u32) -> u32 {
        let max = max & !1; // split at instruction boundaries
        if max <= min {
            return max.max(min & !1).max(2);
        }
        let bmin = self.block_of_inst[(min / 2) as usize];
        let bmax = self.block_of_inst[((max - 1) / 2) as usize];
        if bmin == bmax {
            return max;
        }
        let blocks = &self.code.blocks;
        let mut best = max;
        let mut best_depth = blocks[bmax as usize].loop_depth;
        let mut b = bmax;
        while b > bmin {
            let d = blocks[b as usize].loop_depth;
            if d < best_depth {
                best_depth = d;
                best = 2 * blocks[b as usize].start;
            }
            b -= 1;
        }
        best.max(min & !1).max(2)
    }

    // ---- resolution ----

    /// The location of virtual register `v` at `pos` (the child covering it).
    fn loc_at(&self, v: u32, pos: u32) -> Option<Loc> {
        let list = &self.children[v as usize];
        let i = list.partition_point(|&c| self.intervals[c].start() <= pos);
        if i == 0 {
            return None;
        }
        let it = &self.intervals[list[i - 1]];
        if it.end() <= pos {
            return None;
        }
        Some(self.loc_of(list[i - 1]))
    }

    /// Every register's children as `(start, end, location)`, contiguous per register,
    /// for the many [`Allocator::loc_at`] questions of resolution (asked through
    /// `children` and `intervals`, each step of the search is three dependent loads;
    /// this was 7% of all compile instructions).
    fn loc_table(&self) -> LocTable {
        let mut starts = Vec::with_capacity(self.children.len() + 1);
        let mut spans = Vec::with_capacity(self.intervals.len());
        starts.push(0);
        for list in &self.children {
            for &c in list.iter() {
                let it = &self.intervals[c];
                spans.push((it.start(), it.end(), self.loc_of(c)));
            }
            starts.push(spans.len() as u32);
        }
        LocTable { starts, spans }
    }

    fn loc_of(&self, id: Id) -> Loc {
        let it = &self.intervals[id];
        match it.reg {
            Some(r) if !it.spilled => Loc::Reg(Reg(r)),
            _ => Loc::Stack(u32::MAX),
        }
    }

    /// Groups of virtual registers that may share a spill slot: block parameters with
    /// their arguments, where no two members are live at once. Returns each register's
    /// group representative.
    fn slot_groups(&self) -> Vec<u32> {
        let nv = self.code.vregs.len();
        let mut parent: Vec<u32> = (0..nv as u32).collect();
        fn find(parent: &mut [u32], mut v: u32) -> u32 {
            while parent[v as usize] != v {
                let up = parent[parent[v as usize] as usize];
                parent[v as usize] = up;
                v = up;
            }
            v
        }
        // Live ranges of each group (only built for registers that take part).
        let mut ranges: std::collections::HashMap<u32, Vec<Range>> = Default::default();
        let ranges_of = |v: usize| -> Vec<Range> {
            let mut r: Vec<Range> = self.children[v]
                .iter()
                .flat_map(|&c| self.intervals[c].ranges.iter().copied())
                .collect();
            r.sort_unstable_by_key(|x| x.start);
            r
        };
        let overlap = |a: &[Range], b: &[Range]| {
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                if a[i].start < b[j].end && b[j].start < a[i].end {
                    return true;
                }
                if a[i].end <= b[j].end {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            false
        };
        for blk in &self.code.blocks {
            for (succ, args) in &blk.succs {
                for (p, a) in self.code.blocks[*succ as usize].params.iter().zip(args) {
                    let (gp, ga) = (
                        find(&mut parent, p.vindex() as u32),
                        find(&mut parent, a.vindex() as u32),
                    );
                    if gp == ga || self.code.vregs[p.vindex()] != self.code.vregs[a.vindex()] {
                        continue;
                    }
                    let rp = ranges.remove(&gp).unwrap_or_else(|| ranges_of(gp as usize));
                    let ra = ranges.remove(&ga).unwrap_or_else(|| ranges_of(ga as usize));
                    if overlap(&rp, &ra) {
                        ranges.insert(gp, rp);
                        ranges.insert(ga, ra);
                        continue;
                    }
                    let mut merged: Vec<Range> = rp.into_iter().chain(ra).collect();
                    merged.sort_unstable_by_key(|x| x.start);
                    parent[ga as usize] = gp;
                    ranges.insert(gp, merged);
                }
            }
        }
        (0..nv as u32).map(|v| find(&mut parent, v)).collect()
    }

    /// The moves and frame facts, and where each register is at each position (which
    /// `rewrite` applies to the instructions).
    fn resolve(&mut self) -> (Allocation, LocTable) {
        let code = self.code;
        let n = code.insts.len();
        let nv = code.vregs.len();
        // Spill slots: one per virtual register that is ever on the stack, shared by a
        // block parameter and its arguments when their lifetimes do not overlap (then a
        // phi between spilled values needs no move).
        let group = self.slot_groups();
        let mut group_slot = vec![u32::MAX; nv];
        let mut slot = vec![u32::MAX; nv];
        let mut num_slots = 0;
        for (v, list) in self.children.iter().enumerate() {
            if list.iter().any(|&c| {
                let it = &self.intervals[c];
                it.spilled || it.reg.is_none()
            }) {
                let g = group[v] as usize;
                if group_slot[g] == u32::MAX {
                    group_slot[g] = num_slots;
                    num_slots += if self.code.vregs[v] == Class::Vector {
                        2
                    } else {
                        1
                    };
                }
                slot[v] = group_slot[g];
            }
        }
        let fix = |l: Loc, v: u32| match l {
            Loc::Stack(_) => Loc::Stack(slot[v as usize]),
            r => r,
        };
        let mut before: Vec<Vec<Move>> = vec![Vec::new(); n];
        let mut after: Vec<Vec<Move>> = vec![Vec::new(); n];
        let table = self.loc_table();

        // Spill stores right after each definition (after the last write of a register
        // that a two-address instruction updates in place).
        for (v, list) in self.children.iter().enumerate() {
            if slot[v] == u32::MAX {
                continue;
            }
            let class = code.vregs[v];
            let (at, param) = match self.last_def[v] {
                u32::MAX => (self.intervals[list[0]].start(), true),
                d => (d, false),
            };
            if let Some(Loc::Reg(r)) = table.loc_at(v as u32, at) {
                let store = Move {
                    class,
                    src: Loc::Reg(r),
                    dst: Loc::Stack(slot[v]),
                };
                if param {
                    // A block parameter: stored after the incoming moves.
                    before[(at / 2) as usize].push(store);
                } else {
                    after[(at / 2) as usize].push(store);
                }
            }
        }
        // A register written again later may be spilled between two writes: the value
        // a reload there reads is that of the earlier write, so it is stored too.
        // (Registers written consecutively, as by `mov` + two-address op, never are.)
        self.earlier_defs.sort_unstable();
        for (k, &(v, d)) in self.earlier_defs.iter().enumerate() {
            let v = v as usize;
            if slot[v] == u32::MAX {
                continue;
            }
            let next = match self.earlier_defs.get(k + 1) {
                Some(&(w, e)) if w as usize == v => e,
                _ => self.last_def[v],
            };
            let reloaded = self.children[v].iter().any(|&c| {
                let it = &self.intervals[c];
                (it.spilled || it.reg.is_none()) && it.start() > d && it.start() <= next
            });
            if reloaded && let Some(Loc::Reg(r)) = table.loc_at(v as u32, d) {
                after[(d / 2) as usize].push(Move {
                    class: code.vregs[v],
                    src: Loc::Reg(r),
                    dst: Loc::Stack(slot[v]),
                });
            }
        }
        // Group moves per position: [edge-in moves][param stores][split moves][edge-out].
        let mut edge_in: Vec<Vec<Move>> = vec![Vec::new(); n];
        let mut splits: Vec<Vec<Move>> = vec![Vec::new(); n];
        let mut edge_out: Vec<Vec<Move>> = vec![Vec::new(); n];

        // Moves between the children of one register inside a block.
        for (v, list) in self.children.iter().enumerate() {
            for w in list.windows(2) {
                let (a, b) = (&self.intervals[w[0]], &self.intervals[w[1]]);
                let pos = b.start();
                if a.end() != pos {
                    continue;
                }
                let i = (pos / 2) as usize;
                if pos % 2 == 0 && code.blocks[self.block_of_inst[i] as usize].start as usize == i {
                    continue; // a block boundary: resolved per edge
                }
                let src = fix(self.loc_of(w[0]), v as u32);
                let dst = fix(self.loc_of(w[1]), v as u32);
                if src == dst || matches!(dst, Loc::Stack(_)) {
                    continue;
                }
                let mv = Move {
                    class: code.vregs[v],
                    src,
                    dst,
                };
                if pos % 2 == 0 {
                    splits[i].push(mv);
                } else {
                    // Split at a definition point: the value moves right after it.
                    after[i].push(mv);
                }
            }
        }
        // Moves on edges.
        for (b, blk) in code.blocks.iter().enumerate() {
            let single_succ = blk.succs.len() == 1;
            let pred_end = 2 * (blk.end - 1);
            for (s, args) in &blk.succs {
                let sblk = &code.blocks[*s as usize];
                let succ_start = 2 * sblk.start;
                let mut moves = Vec::new();
                let s_live = self.live_in_starts[*s as usize] as usize
                    ..self.live_in_starts[*s as usize + 1] as usize;
                for &v in &self.live_in[s_live] {
                    let (Some(src), Some(dst)) =
                        (table.loc_at(v, pred_end), table.loc_at(v, succ_start))
                    else {
                        continue;
                    };
                    let (src, dst) = (fix(src, v), fix(dst, v));
                    if src != dst && !matches!(dst, Loc::Stack(_)) {
                        moves.push(Move {
                            class: code.vregs[v as usize],
                            src,
                            dst,
                        });
                    }
                }
                for (p, a) in sblk.params.iter().zip(args) {
                    let (pv, av) = (p.vindex() as u32, a.vindex() as u32);
                    let (Some(src), Some(dst)) =
                        (table.loc_at(av, pred_end), table.loc_at(pv, succ_start))
                    else {
                        continue;
                    };
                    let (src, dst) = (fix(src, av), fix(dst, pv));
                    if src != dst {
                        moves.push(Move {
                            class: code.vregs[pv as usize],
                            src,
                            dst,
                        });
                    }
                }
                if moves.is_empty() {
                    continue;
                }
                if single_succ {
                    edge_out[(blk.end - 1) as usize].extend(moves);
                } else {
                    debug_assert_eq!(sblk.preds.len(), 1, "critical edge b{b} -> b{s}");
                    edge_in[sblk.start as usize].extend(moves);
                }
            }
        }
        for i in 0..n {
            let mut seq = Vec::new();
            sequentialize(&edge_in[i], self.info, &mut seq);
            seq.append(&mut before[i]);
            sequentialize(&splits[i], self.info, &mut seq);
            sequentialize(&edge_out[i], self.info, &mut seq);
            before[i] = seq;
        }
        // A callee-saved register the function writes needs saving whether a value lives
        // in it or the code clobbers it (a System V call clobbers r8 and r9, which the
        // Wasm convention preserves; a runtime call passes arguments in them).
        let mut used = Vec::new();
        for it in &self.intervals {
            if let Some(r) = it.reg
                && !it.spilled
                && self.info.callee_saved.contains(&r)
                && !used.contains(&Reg(r))
            {
                used.push(Reg(r));
            }
        }
        used.sort();
        (
            Allocation {
                before,
                after,
                num_slots,
                used_callee_saved: used,
            },
            table,
        )
    }
}

/// Orders parallel moves so no source is overwritten before it is read, breaking
/// cycles with the scratch register of their class.
fn sequentialize(moves: &[Move], info: &RegInfo, out: &mut Vec<Move>) {
    if moves.is_empty() {
        return;
    }
    if moves.len() == 1 {
        out.push(moves[0]);
        return;
    }
    let mut pending: Vec<Move> = moves.to_vec();
    while !pending.is_empty() {
        // A move whose destination no other pending move reads can go now.
        if let Some(k) = (0..pending.len()).find(|&k| {
            !pending
                .iter()
                .any(|m| m.src == pending[k].dst && *m != pending[k])
        }) {
            out.push(pending.swap_remove(k));
            continue;
        }
        // Only cycles remain: save one source in the scratch register.
        let m = pending[0];
        let scratch = Loc::Reg(match m.class {
            Class::Int => info.int_scratch,
            Class::Float | Class::Vector => info.float_scratch,
        });
        out.push(Move {
            class: m.class,
            src: m.src,
            dst: scratch,
        });
        for p in &mut pending {
            if p.src == m.src {
                p.src = scratch;
            }
        }
    }
}

/// Replaces virtual registers by the registers the allocator chose.
fn rewrite(insts: &mut [MInst], a: &LocTable) {
    for (i, inst) in insts.iter_mut().enumerate() {
        let (p_use, p_def) = (2 * i as u32, 2 * i as u32 + 1);
        inst.map_regs(&mut |r, u| {
            if !r.is_virtual() {
                return;
            }
            let v = r.vindex() as u32;
            let pos = match u {
                Use::Read | Use::Modify => p_use,
                Use::Write => p_def,
                Use::Early => p_use,
            };
            match a.loc_at(v, pos) {
                Some(Loc::Reg(p)) => *r = p,
                other => panic!("register allocation left {r:?} in {other:?} at {pos}"),
            }
        });
    }
}
