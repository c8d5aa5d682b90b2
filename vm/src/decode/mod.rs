//! The binary format decoder (§5 "Binary Format").
//!
//! `decode` turns bytes into a [`ModuleInfo`]: every section parsed, function bodies kept
//! as byte ranges (their instructions are decoded once, by the translator, while it
//! validates them). Errors that make a module *invalid* rather than *malformed* (a
//! non-constant instruction in an initializer) are deferred until the whole binary has
//! been read, so a malformed module is always reported as malformed.

#![forbid(unsafe_code)]

pub(crate) mod ops;
pub(crate) mod reader;

use crate::error::{Error, Result};
use crate::types::{FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, ValType};
use ops::Operator;
use reader::Reader;
use std::collections::HashMap;

/// Proposals beyond WebAssembly 2.0 that decoding and validation accept (from the
/// engine's [`Config`](crate::Config)). With none enabled, modules follow 2.0 exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Features {
    /// Multi-memory (WebAssembly 3.0): several memories, memory indices on memory
    /// instructions.
    pub multi_memory: bool,
}

/// The kind of an import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Clone, Debug)]
pub(crate) enum ImportDesc {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

#[derive(Clone, Debug)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub desc: ImportDesc,
}

#[derive(Clone, Debug)]
pub(crate) struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
}

/// One instruction of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull(RefType),
    RefFunc(u32),
    GlobalGet(u32),
}

/// A constant expression (initializers and segment offsets).
#[derive(Clone, Debug)]
pub(crate) struct ConstExpr {
    pub ops: Box<[ConstOp]>,
    /// Where it starts, for error messages.
    pub offset: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum ElemMode {
    Passive,
    Declarative,
    Active { table: u32, offset: ConstExpr },
}

#[derive(Clone, Debug)]
pub(crate) struct ElemSegment {
    pub ty: RefType,
    pub mode: ElemMode,
    pub items: Vec<ConstExpr>,
}

#[derive(Clone, Debug)]
pub(crate) enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

#[derive(Clone, Debug)]
pub(crate) struct DataSegment {
    pub mode: DataMode,
    pub bytes: Box<[u8]>,
}

/// A function body: its declared locals and where its instructions are.
#[derive(Clone, Debug)]
pub(crate) struct FuncBody {
    /// Runs of locals: (count, type).
    pub locals: Vec<(u32, ValType)>,
    pub num_locals: u32,
    /// Byte range of the instruction sequence, ending after the final `end`.
    pub code_start: usize,
    pub code_end: usize,
}

/// Everything in a module's binary, decoded.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModuleInfo {
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// Types of every global, imported ones first.
    pub global_types: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initializers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data_count: Option<u32>,
    pub datas: Vec<DataSegment>,
    pub bodies: Vec<FuncBody>,
    /// Function names from the `name` custom section.
    pub func_names: HashMap<u32, String>,
    /// Where the start section is, for error messages.
    pub start_offset: usize,
    /// The proposals the module was decoded with; validation and translation follow them.
    pub features: Features,
}

/// Most locals a function may declare; more is "too many locals" (as other engines agree).
pub(crate) const MAX_LOCALS: u64 = 50_000;

const MAGIC: &[u8; 4] = b"\0asm";
const VERSION: &[u8; 4] = &[1, 0, 0, 0];

/// The position of each known section in the required order.
fn section_rank(id: u8) -> Option<u8> {
    Some(match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        6 => 6,   // global
        7 => 7,   // export
        8 => 8,   // start
        9 => 9,   // element
        12 => 10, // data count
        10 => 11, // code
        11 => 12, // data
        _ => return None,
    })
}

struct Decoder<'a> {
    bytes: &'a [u8],
    info: ModuleInfo,
    /// The first validation error met while decoding; reported only if the binary is
    /// well formed.
    deferred: Option<Error>,
    num_declared_funcs: Option<u32>,
}

/// Decodes a module binary with the given proposals enabled. The second value is a
/// validation error found while decoding, which the caller reports after confirming the
/// rest of the binary is well formed.
pub(crate) fn decode(bytes: &[u8], features: Features) -> Result<(ModuleInfo, Option<Error>)> {
    let mut d = Decoder {
        bytes,
        info: ModuleInfo {
            features,
            ..ModuleInfo::default()
        },
        deferred: None,
        num_declared_funcs: None,
    };
    d.module()?;
    Ok((d.info, d.deferred))
}

impl<'a> Decoder<'a> {
    fn defer(&mut self, e: Error) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    fn module(&mut self) -> Result<()> {
        let bytes = self.bytes;
        let mut r = Reader::new(bytes, 0, bytes.len());
        if r.remaining() < 4 || r.bytes(4)? != MAGIC {
            return Err(Error::malformed(0, "magic header not detected"));
        }
        if r.remaining() < 4 || r.bytes(4)? != VERSION {
            return Err(Error::malformed(4, "unknown binary version"));
        }
        let mut last_rank = 0u8;
        while !r.is_empty() {
            let id_at = r.pos();
            let id = r.u8()?;
            let size = r.u32()? as usize;
            if size > r.remaining() {
                return Err(r.malformed("length out of bounds"));
            }
            let start = r.pos();
            let end = start + size;
            let mut s = Reader::new(bytes, start, end);
            if id == 0 {
                self.custom_section(&mut s)?;
            } else {
                let rank = section_rank(id)
                    .ok_or_else(|| Error::malformed(id_at, "malformed section id"))?;
                if rank <= last_rank {
                    return Err(Error::malformed(
                        id_at,
                        "unexpected content after last section",
                    ));
                }
                last_rank = rank;
                match id {
                    1 => self.type_section(&mut s)?,
                    2 => self.import_section(&mut s)?,
                    3 => self.function_section(&mut s)?,
                    4 => self.table_section(&mut s)?,
                    5 => self.memory_section(&mut s)?,
                    6 => self.global_section(&mut s)?,
                    7 => self.export_section(&mut s)?,
                    8 => {
                        self.info.start_offset = s.pos();
                        self.info.start = Some(s.u32()?);
                    }
                    9 => self.element_section(&mut s)?,
                    12 => self.info.data_count = Some(s.u32()?),
                    10 => self.code_section(&mut s)?,
                    11 => self.data_section(&mut s)?,
                    _ => unreachable!("ranked above"),
                }
                if !s.is_empty() {
                    return Err(s.malformed("section size mismatch"));
                }
            }
            r.skip_to(end);
        }
        let declared = self.num_declared_funcs.unwrap_or(0);
        if declared as usize != self.info.bodies.len() {
            return Err(Error::malformed(
                bytes.len(),
                "function and code section have inconsistent lengths",
            ));
        }
        if let Some(n) = self.info.data_count
            && n as usize != self.info.datas.len()
        {
            return Err(Error::malformed(
                bytes.len(),
                "data count and data section have inconsistent lengths",
            ));
        }
        Ok(())
    }

    fn custom_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let name = s.name()?;
        if name == "name" {
            // A malformed name section is ignored, as the spec's appendix allows.
            let mut names = HashMap::new();
            if parse_function_names(s.clone(), &mut names).is_ok() {
                self.info.func_names = names;
            }
        }
        s.skip_to(s.end());
        Ok(())
    }

    fn type_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        self.info.types.reserve(n as usize);
        for _ in 0..n {
            let at = s.pos();
            if s.u8()? != 0x60 {
                return Err(Error::malformed(at, "integer representation too long"));
            }
            let np = s.len()?;
            let mut params = Vec::with_capacity(np as usize);
            for _ in 0..np {
                params.push(s.val_type()?);
            }
            let nr = s.len()?;
            let mut results = Vec::with_capacity(nr as usize);
            for _ in 0..nr {
                results.push(s.val_type()?);
            }
            self.info.types.push(FuncType::new(params, results));
        }
        Ok(())
    }

    fn table_type(s: &mut Reader<'a>) -> Result<TableType> {
        let element = s.ref_type()?;
        let limits = s.limits()?;
        Ok(TableType { element, limits })
    }

    fn global_type(s: &mut Reader<'a>) -> Result<GlobalType> {
        let content = s.val_type()?;
        let at = s.pos();
        let mutability = match s.u8()? {
            0 => Mutability::Const,
            1 => Mutability::Var,
            _ => return Err(Error::malformed(at, "malformed mutability")),
        };
        Ok(GlobalType {
            content,
            mutability,
        })
    }

    fn import_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let module = s.name()?.to_owned();
            let name = s.name()?.to_owned();
            let at = s.pos();
            let desc = match s.u8()? {
                0x00 => {
                    let t = s.u32()?;
                    self.info.funcs.push(t);
                    self.info.num_imported_funcs += 1;
                    ImportDesc::Func(t)
                }
                0x01 => {
                    let t = Self::table_type(s)?;
                    self.info.tables.push(t);
                    self.info.num_imported_tables += 1;
                    ImportDesc::Table(t)
                }
                0x02 => {
                    let m = MemoryType {
                        limits: s.limits()?,
                    };
                    self.info.memories.push(m);
                    self.info.num_imported_memories += 1;
                    ImportDesc::Memory(m)
                }
                0x03 => {
                    let g = Self::global_type(s)?;
                    self.info.global_types.push(g);
                    self.info.num_imported_globals += 1;
                    ImportDesc::Global(g)
                }
                _ => return Err(Error::malformed(at, "malformed import kind")),
            };
            self.info.imports.push(Import { module, name, desc });
        }
        Ok(())
    }

    fn function_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let t = s.u32()?;
            self.info.funcs.push(t);
        }
        self.num_declared_funcs = Some(n);
        Ok(())
    }

    fn table_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let t = Self::table_type(s)?;
            self.info.tables.push(t);
        }
        Ok(())
    }

    fn memory_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let limits = s.limits()?;
            self.info.memories.push(MemoryType { limits });
        }
        Ok(())
    }

    fn global_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let ty = Self::global_type(s)?;
            let init = self.const_expr(s)?;
            self.info.global_types.push(ty);
            self.info.global_inits.push(init);
        }
        Ok(())
    }

    fn export_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let name = s.name()?.to_owned();
            let at = s.pos();
            let kind = match s.u8()? {
                0 => ExternKind::Func,
                1 => ExternKind::Table,
                2 => ExternKind::Memory,
                3 => ExternKind::Global,
                _ => return Err(Error::malformed(at, "malformed export kind")),
            };
            let index = s.u32()?;
            self.info.exports.push(Export { name, kind, index });
        }
        Ok(())
    }

    fn elem_kind(s: &mut Reader<'a>) -> Result<RefType> {
        let at = s.pos();
        match s.u8()? {
            0x00 => Ok(RefType::FuncRef),
            _ => Err(Error::malformed(at, "malformed element kind")),
        }
    }

    fn func_indices(s: &mut Reader<'a>) -> Result<Vec<ConstExpr>> {
        let n = s.len()?;
        let mut items = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let offset = s.pos();
            let f = s.u32()?;
            items.push(ConstExpr {
                ops: Box::new([ConstOp::RefFunc(f)]),
                offset,
            });
        }
        Ok(items)
    }

    fn expressions(&mut self, s: &mut Reader<'a>) -> Result<Vec<ConstExpr>> {
        let n = s.len()?;
        let mut items = Vec::with_capacity(n as usize);
        for _ in 0..n {
            items.push(self.const_expr(s)?);
        }
        Ok(items)
    }

    fn element_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let at = s.pos();
            let flags = s.u32()?;
            let seg = match flags {
                0 => {
                    let offset = self.const_expr(s)?;
                    ElemSegment {
                        ty: RefType::FuncRef,
                        mode: ElemMode::Active { table: 0, offset },
                        items: Self::func_indices(s)?,
                    }
                }
                1 | 3 => ElemSegment {
                    ty: Self::elem_kind(s)?,
                    mode: if flags == 1 {
                        ElemMode::Passive
                    } else {
                        ElemMode::Declarative
                    },
                    items: Self::func_indices(s)?,
                },
                2 => {
                    let table = s.u32()?;
                    let offset = self.const_expr(s)?;
                    ElemSegment {
                        ty: Self::elem_kind(s)?,
                        mode: ElemMode::Active { table, offset },
                        items: Self::func_indices(s)?,
                    }
                }
                4 => {
                    let offset = self.const_expr(s)?;
                    ElemSegment {
                        ty: RefType::FuncRef,
                        mode: ElemMode::Active { table: 0, offset },
                        items: self.expressions(s)?,
                    }
                }
                5 | 7 => {
                    let ty = s.ref_type()?;
                    ElemSegment {
                        ty,
                        mode: if flags == 5 {
                            ElemMode::Passive
                        } else {
                            ElemMode::Declarative
                        },
                        items: self.expressions(s)?,
                    }
                }
                6 => {
                    let table = s.u32()?;
                    let offset = self.const_expr(s)?;
                    let ty = s.ref_type()?;
                    ElemSegment {
                        ty,
                        mode: ElemMode::Active { table, offset },
                        items: self.expressions(s)?,
                    }
                }
                _ => return Err(Error::malformed(at, "malformed elements segment kind")),
            };
            self.info.elems.push(seg);
        }
        Ok(())
    }

    fn code_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        let declared = self.num_declared_funcs.unwrap_or(0);
        if n != declared {
            return Err(s.malformed("function and code section have inconsistent lengths"));
        }
        self.info.bodies.reserve(n as usize);
        for _ in 0..n {
            let size = s.u32()? as usize;
            if size > s.remaining() {
                return Err(s.malformed("length out of bounds"));
            }
            let body_end = s.pos() + size;
            let mut b = Reader::new(self.bytes, s.pos(), body_end);
            let groups = b.u32()?;
            let mut locals = Vec::new();
            let mut total: u64 = 0;
            for _ in 0..groups {
                let count = b.u32()?;
                total += u64::from(count);
                if total > MAX_LOCALS {
                    return Err(b.malformed("too many locals"));
                }
                let ty = b.val_type()?;
                if count > 0 {
                    locals.push((count, ty));
                }
            }
            self.info.bodies.push(FuncBody {
                locals,
                num_locals: total as u32,
                code_start: b.pos(),
                code_end: body_end,
            });
            s.skip_to(body_end);
        }
        Ok(())
    }

    fn data_section(&mut self, s: &mut Reader<'a>) -> Result<()> {
        let n = s.len()?;
        for _ in 0..n {
            let at = s.pos();
            let flags = s.u32()?;
            let mode = match flags {
                0 => DataMode::Active {
                    memory: 0,
                    offset: self.const_expr(s)?,
                },
                1 => DataMode::Passive,
                2 => {
                    let memory = s.u32()?;
                    DataMode::Active {
                        memory,
                        offset: self.const_expr(s)?,
                    }
                }
                _ => return Err(Error::malformed(at, "malformed data segment kind")),
            };
            let len = s.len()? as usize;
            let bytes = s.bytes(len)?.into();
            self.info.datas.push(DataSegment { mode, bytes });
        }
        Ok(())
    }

    /// A constant expression up to its `end`. Non-constant instructions make the module
    /// invalid; that error is deferred.
    fn const_expr(&mut self, s: &mut Reader<'a>) -> Result<ConstExpr> {
        let offset = s.pos();
        let mut ops = Vec::with_capacity(1);
        let mut depth = 0u32;
        let has_data_count = self.info.data_count.is_some();
        let features = self.info.features;
        loop {
            let at = s.pos();
            let op = s.operator(features, has_data_count)?;
            let c = match op {
                Operator::End if depth == 0 => break,
                Operator::End => {
                    depth -= 1;
                    None
                }
                Operator::Block(_) | Operator::Loop(_) | Operator::If(_) => {
                    depth += 1;
                    None
                }
                Operator::I32Const(v) => Some(ConstOp::I32(v)),
                Operator::I64Const(v) => Some(ConstOp::I64(v)),
                Operator::F32Const(v) => Some(ConstOp::F32(v)),
                Operator::F64Const(v) => Some(ConstOp::F64(v)),
                Operator::V128Const(v) => Some(ConstOp::V128(v)),
                Operator::RefNull(t) => Some(ConstOp::RefNull(t)),
                Operator::RefFunc(f) => Some(ConstOp::RefFunc(f)),
                Operator::GlobalGet(g) => Some(ConstOp::GlobalGet(g)),
                _ => None,
            };
            match c {
                Some(c) if depth == 0 => ops.push(c),
                _ => self.defer(Error::invalid(at, "constant expression required")),
            }
        }
        Ok(ConstExpr {
            ops: ops.into_boxed_slice(),
            offset,
        })
    }
}

/// Reads the function-names subsection (id 1) of a `name` section.
fn parse_function_names(mut s: Reader<'_>, names: &mut HashMap<u32, String>) -> Result<()> {
    while !s.is_empty() {
        let id = s.u8()?;
        let size = s.u32()? as usize;
        if size > s.remaining() {
            return Err(s.malformed("length out of bounds"));
        }
        let end = s.pos() + size;
        if id == 1 {
            let mut sub = Reader::new_within(&s, end);
            let n = sub.len()?;
            for _ in 0..n {
                let index = sub.u32()?;
                let name = sub.name()?;
                names.insert(index, name.to_owned());
            }
        }
        s.skip_to(end);
    }
    Ok(())
}

impl<'a> Reader<'a> {
    /// A reader from this one's position up to `end`.
    fn new_within(parent: &Reader<'a>, end: usize) -> Reader<'a> {
        let mut r = parent.clone();
        r.truncate(end);
        r
    }
}
