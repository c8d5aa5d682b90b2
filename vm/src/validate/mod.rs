//! Validation (§3 "Validation"): module-level rules here, function bodies in [`func`].
//!
//! Constant expressions follow WebAssembly 2.0: `global.get` may read only imported,
//! immutable globals. A module may have at most one memory unless multi-memory is
//! enabled ([`crate::decode::Features`]).

#![forbid(unsafe_code)]

pub(crate) mod func;

use crate::decode::{ConstExpr, ConstOp, DataMode, ElemMode, ExternKind, ImportDesc, ModuleInfo};
use crate::error::{Error, Result};
use crate::types::{FuncType, Limits, MAX_PAGES, Mutability, ValType};
use std::collections::HashSet;

/// What function validation needs to know about the module.
pub(crate) struct Context<'a> {
    pub module: &'a ModuleInfo,
    /// Functions that `ref.func` may name: those referenced outside function bodies.
    pub declared_refs: HashSet<u32>,
}

impl Context<'_> {
    /// The type of function `index`, if it exists.
    pub(crate) fn func_type(&self, index: u32) -> Option<&FuncType> {
        let t = *self.module.funcs.get(index as usize)?;
        self.module.types.get(t as usize)
    }
}

/// Validates everything but function bodies.
pub(crate) fn validate_module(m: &ModuleInfo) -> Result<Context<'_>> {
    let mut cx = Context {
        module: m,
        declared_refs: HashSet::new(),
    };
    for (i, &t) in m.funcs.iter().enumerate() {
        if t as usize >= m.types.len() {
            let at = m
                .bodies
                .get(i.wrapping_sub(m.num_imported_funcs as usize))
                .map_or(0, |b| b.code_start);
            return Err(Error::invalid(at, "unknown type"));
        }
    }
    for t in &m.tables {
        check_limits(&t.limits, u32::MAX, "table")?;
    }
    if m.memories.len() > 1 && !m.features.multi_memory {
        return Err(Error::invalid(0, "multiple memories"));
    }
    for mem in &m.memories {
        check_limits(&mem.limits, MAX_PAGES, "memory")?;
    }
    for imp in &m.imports {
        if let ImportDesc::Func(t) = imp.desc
            && t as usize >= m.types.len()
        {
            return Err(Error::invalid(0, "unknown type"));
        }
    }

    // Function references made outside function bodies declare those functions for
    // `ref.func` inside them.
    for e in &m.exports {
        if e.kind == ExternKind::Func {
            cx.declared_refs.insert(e.index);
        }
    }
    let exprs = m
        .global_inits
        .iter()
        .chain(m.elems.iter().flat_map(|e| e.items.iter()));
    for expr in exprs {
        for op in expr.ops.iter() {
            if let ConstOp::RefFunc(f) = op {
                cx.declared_refs.insert(*f);
            }
        }
    }

    let defined_globals = m.global_types[m.num_imported_globals as usize..].iter();
    for (ty, init) in defined_globals.zip(&m.global_inits) {
        check_const(&cx, init, ty.content)?;
    }

    let mut names = HashSet::new();
    for e in &m.exports {
        let exists = match e.kind {
            ExternKind::Func => (e.index as usize) < m.funcs.len(),
            ExternKind::Table => (e.index as usize) < m.tables.len(),
            ExternKind::Memory => (e.index as usize) < m.memories.len(),
            ExternKind::Global => (e.index as usize) < m.global_types.len(),
        };
        if !exists {
            let what = match e.kind {
                ExternKind::Func => "unknown function",
                ExternKind::Table => "unknown table",
                ExternKind::Memory => "unknown memory",
                ExternKind::Global => "unknown global",
            };
            return Err(Error::invalid(0, format!("{what} {}", e.index)));
        }
        if !names.insert(e.name.as_str()) {
            return Err(Error::invalid(0, "duplicate export name"));
        }
    }

    if let Some(start) = m.start {
        let ty = cx
            .func_type(start)
            .ok_or_else(|| Error::invalid(m.start_offset, "unknown function"))?;
        if !ty.params().is_empty() || !ty.results().is_empty() {
            return Err(Error::invalid(m.start_offset, "start function"));
        }
    }

    for seg in &m.elems {
        for item in &seg.items {
            check_const(&cx, item, seg.ty.into())?;
        }
        if let ElemMode::Active { table, offset } = &seg.mode {
            let t = m
                .tables
                .get(*table as usize)
                .ok_or_else(|| Error::invalid(offset.offset, format!("unknown table {table}")))?;
            if t.element != seg.ty {
                return Err(Error::invalid(offset.offset, "type mismatch"));
            }
            check_const(&cx, offset, ValType::I32)?;
        }
    }

    for seg in &m.datas {
        if let DataMode::Active { memory, offset } = &seg.mode {
            if *memory as usize >= m.memories.len() {
                return Err(Error::invalid(
                    offset.offset,
                    format!("unknown memory {memory}"),
                ));
            }
            check_const(&cx, offset, ValType::I32)?;
        }
    }
    Ok(cx)
}

fn check_limits(l: &Limits, bound: u32, what: &str) -> Result<()> {
    if what == "memory" && (l.min > bound || l.max.is_some_and(|m| m > bound)) {
        return Err(Error::invalid(
            0,
            "memory size must be at most 65536 pages (4GiB)",
        ));
    }
    if l.max.is_some_and(|max| l.min > max) {
        return Err(Error::invalid(
            0,
            "size minimum must not be greater than maximum",
        ));
    }
    Ok(())
}

/// Checks a constant expression produces exactly one value of type `expected`.
fn check_const(cx: &Context<'_>, expr: &ConstExpr, expected: ValType) -> Result<()> {
    let m = cx.module;
    let err = |msg: &str| Error::invalid(expr.offset, msg);
    let mut stack: Vec<ValType> = Vec::with_capacity(1);
    for op in expr.ops.iter() {
        let t = match *op {
            ConstOp::I32(_) => ValType::I32,
            ConstOp::I64(_) => ValType::I64,
            ConstOp::F32(_) => ValType::F32,
            ConstOp::F64(_) => ValType::F64,
            ConstOp::V128(_) => ValType::V128,
            ConstOp::RefNull(t) => t.into(),
            ConstOp::RefFunc(f) => {
                if f as usize >= m.funcs.len() {
                    return Err(err(&format!("unknown function {f}")));
                }
                ValType::FuncRef
            }
            ConstOp::GlobalGet(g) => {
                if g >= m.num_imported_globals {
                    return Err(err(&format!("unknown global {g}")));
                }
                let gt = m.global_types[g as usize];
                if gt.mutability != Mutability::Const {
                    return Err(err("constant expression required"));
                }
                gt.content
            }
        };
        stack.push(t);
    }
    if stack.as_slice() != [expected] {
        return Err(err("type mismatch"));
    }
    Ok(())
}
