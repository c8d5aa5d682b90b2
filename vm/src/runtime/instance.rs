//! Instances, instantiation (§4.5.4 "Instantiation") and the linker.

use super::backend;
use super::func::{Func, FuncEntity, HostFn, IntoFunc, TypedFunc, WasmParams, WasmResults};
use super::global::Global;
use super::memory::{Memory, MemoryEntity};
use super::module::{Engine, Module, Strategy};
use super::store::{AsContext, AsContextMut, Store};
use super::table::{Table, TableEntity};
use super::value::Val;
use super::vmctx::{VMContextBox, VMOffsets};
use crate::decode::{ConstExpr, ConstOp, DataMode, ElemMode, ExternKind, ImportDesc};
use crate::error::{Error, Result, Trap, TrapCode};
use crate::types::{ExternType, FuncType, Limits, MemoryType, TableType};
use std::collections::HashMap;
use std::sync::Arc;

/// Something an instance exports or a module imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
}

impl Extern {
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }

    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }

    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }

    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }

    /// The type this value has in `store`, as import matching sees it (current sizes).
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        let store = store.as_context();
        match *self {
            Extern::Func(f) => ExternType::Func(f.ty(store)),
            Extern::Global(g) => ExternType::Global(g.ty(store)),
            Extern::Table(t) => {
                let e = &store.inner.tables[t.index as usize];
                ExternType::Table(TableType {
                    element: e.ty.element,
                    limits: Limits {
                        min: e.elements.len() as u32,
                        max: e.ty.limits.max,
                    },
                })
            }
            Extern::Memory(m) => {
                let e = &store.inner.memories[m.index as usize];
                ExternType::Memory(MemoryType {
                    limits: Limits {
                        min: e.pages(),
                        max: e.ty.limits.max,
                    },
                })
            }
        }
    }

    fn store_id(&self) -> super::store::StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            Extern::Global(g) => g.store,
        }
    }
}

pub(crate) struct InstanceData {
    pub module: Module,
    /// Store indices of the module's functions, tables, memories and globals.
    pub funcs: Box<[u32]>,
    pub tables: Box<[u32]>,
    pub memories: Box<[u32]>,
    pub globals: Box<[u32]>,
    /// The context both engines run this instance with (see [`super::vmctx`]).
    pub vmctx: VMContextBox,
    /// Element segments as raw references; emptied by `elem.drop`.
    pub elems: Vec<Box<[u64]>>,
    pub data_dropped: Vec<bool>,
    pub exports: HashMap<String, Extern>,
    /// The instance runs its module's machine code (else the interpreter's code; see
    /// `backend::attach_engine`).
    pub runs_native: bool,
}

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    store: super::store::StoreId,
    index: u32,
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order.
    ///
    /// # Errors
    /// A link error when an import has the wrong kind or type, or a trap raised while
    /// initializing segments or running the start function.
    pub fn new<T>(
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        instantiate(store.as_context_mut().0, module, imports)
    }

    fn data<'s, T>(&self, store: &'s Store<T>) -> &'s InstanceData {
        assert_eq!(store.id(), self.store, "instance used with another store");
        &store.inner.instances[self.index as usize]
    }

    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        self.data(store.as_context()).exports.get(name).copied()
    }

    /// The engine this instance runs on now: [`Strategy::Compiler`] (its module's
    /// machine code) or [`Strategy::Interpreter`]. An instance of a module compiling in
    /// the background changes to `Compiler` at a call from the host after the compiler
    /// has finished (see [`Config::background_compile`](crate::Config::background_compile)).
    pub fn strategy(&self, store: impl AsContext) -> Strategy {
        if self.data(store.as_context()).runs_native {
            Strategy::Compiler
        } else {
            Strategy::Interpreter
        }
    }

    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// A typed exported function.
    ///
    /// # Errors
    /// If there is no such function export or its type differs.
    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let store = store.as_context();
        let f = self
            .get_func(store, name)
            .ok_or_else(|| Error::link(format!("no exported function `{name}`")))?;
        f.typed(store)
    }

    /// All exports, in the module's order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let store = store.as_context();
        let data = self.data(store);
        data.module
            .inner
            .info
            .exports
            .iter()
            .map(|e| (e.name.clone(), data.exports[&e.name]))
            .collect()
    }

    pub fn module<'s, T>(&self, store: &'s Store<T>) -> &'s Module {
        &self.data(store).module
    }
}

fn import_matches(have: &ExternType, want: &ExternType) -> bool {
    match (have, want) {
        (ExternType::Func(a), ExternType::Func(b)) => a == b,
        (ExternType::Global(a), ExternType::Global(b)) => a == b,
        (ExternType::Table(a), ExternType::Table(b)) => {
            a.element == b.element && a.limits.matches(&b.limits)
        }
        (ExternType::Memory(a), ExternType::Memory(b)) => a.limits.matches(&b.limits),
        _ => false,
    }
}

fn eval_const<T>(store: &Store<T>, globals: &[u32], funcs: &[u32], expr: &ConstExpr) -> [u64; 2] {
    let mut stack: Vec<[u64; 2]> = Vec::with_capacity(1);
    for op in expr.ops.iter() {
        let v = match *op {
            ConstOp::I32(v) => [v as u32 as u64, 0],
            ConstOp::I64(v) => [v as u64, 0],
            ConstOp::F32(v) => [u64::from(v), 0],
            ConstOp::F64(v) => [v, 0],
            ConstOp::V128(v) => [v as u64, (v >> 64) as u64],
            ConstOp::RefNull(_) => [0, 0],
            ConstOp::RefFunc(f) => [store.inner.funcrefs.get(funcs[f as usize]) as u64, 0],
            ConstOp::GlobalGet(g) => store.inner.globals[globals[g as usize] as usize].cell.get(),
        };
        stack.push(v);
    }
    stack.pop().unwrap_or([0, 0])
}

pub(crate) fn instantiate<T>(
    store: &mut Store<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    let info = &module.inner.info;
    if imports.len() != info.imports.len() {
        return Err(Error::link(format!(
            "module needs {} imports, {} given",
            info.imports.len(),
            imports.len()
        )));
    }
    let mut funcs = Vec::with_capacity(info.funcs.len());
    let mut tables = Vec::with_capacity(info.tables.len());
    let mut memories = Vec::with_capacity(info.memories.len());
    let mut globals = Vec::with_capacity(info.global_types.len());
    for (imp, ext) in info.imports.iter().zip(imports) {
        store.check_id(ext.store_id())?;
        let want = match imp.desc {
            ImportDesc::Func(t) => ExternType::Func(info.types[t as usize].clone()),
            ImportDesc::Table(t) => ExternType::Table(t),
            ImportDesc::Memory(m) => ExternType::Memory(m),
            ImportDesc::Global(g) => ExternType::Global(g),
        };
        let have = ext.ty(&*store);
        if !import_matches(&have, &want) {
            return Err(Error::link(format!(
                "incompatible import type for `{}::{}`: expected {} {:?}, found {} {:?}",
                imp.module,
                imp.name,
                want.kind_name(),
                want,
                have.kind_name(),
                have
            )));
        }
        match *ext {
            Extern::Func(f) => funcs.push(f.index),
            Extern::Table(t) => tables.push(t.index),
            Extern::Memory(m) => memories.push(m.index),
            Extern::Global(g) => globals.push(g.index),
        }
    }

    let instance_index = store.inner.instances.len() as u32;
    let type_ids = &module.inner.type_ids;
    let first_defined = store.inner.funcs.len() as u32;
    for (def, &t) in info.funcs[info.num_imported_funcs as usize..]
        .iter()
        .enumerate()
    {
        store.inner.push_func(
            FuncEntity::Wasm {
                instance: instance_index,
                def: def as u32,
                type_id: type_ids[t as usize],
                slots: {
                    let ty = &info.types[t as usize];
                    ty.param_slots().max(ty.result_slots())
                },
            },
            std::ptr::null(),
            std::ptr::null_mut(),
        );
        funcs.push((store.inner.funcs.len() - 1) as u32);
    }
    let limits = store.inner.limits.clone();
    for t in &info.tables[info.num_imported_tables as usize..] {
        store
            .inner
            .tables
            .push(TableEntity::new(*t, 0, limits.max_table_elements)?);
        tables.push((store.inner.tables.len() - 1) as u32);
    }
    for m in &info.memories[info.num_imported_memories as usize..] {
        store
            .inner
            .memories
            .push(MemoryEntity::new(*m, limits.max_memory_bytes)?);
        memories.push((store.inner.memories.len() - 1) as u32);
    }

    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    // (A module compiling in the background just stays interpreted in that case.)
    if let backend::ModuleCode::Native(m) = &module.inner.code
        && m.memory0_guarded
        && let Some(&mem) = memories.first()
        && !store.inner.memories[mem as usize].is_guarded()
    {
        return Err(Error::resource(
            "this module was compiled for memories with guard pages, but its memory 0 \
             is bounds-checked (the address space is limited); compile the module again \
             under the same limits, or use Strategy::Interpreter",
        ));
    }
    let vmctx = VMContextBox::new(module.inner.offsets);
    if let Some(&m) = memories.first() {
        let mem = &store.inner.memories[m as usize];
        vmctx.set_header(VMOffsets::HEAP_BASE, mem.base() as usize);
        vmctx.set_header(VMOffsets::MEMORY0, mem.vm() as usize);
    }
    vmctx.set_header(VMOffsets::STORE, &*store.inner.vmstore as *const _ as usize);
    vmctx.set_header(
        VMOffsets::INTERRUPTS,
        Arc::as_ptr(&store.inner.interrupts) as usize,
    );
    vmctx.set_header(VMOffsets::LIBCALLS, backend::libcalls() as usize);
    vmctx.set_header(VMOffsets::INSTANCE, instance_index as usize);
    store.inner.interrupts.add_context(vmctx.as_ptr());
    for (i, &f) in funcs.iter().enumerate() {
        vmctx.set_func(i as u32, store.inner.funcrefs.get(f));
    }
    // Interpreted until `backend::attach_engine` gives them machine code.
    for index in first_defined..store.inner.funcs.len() as u32 {
        store
            .inner
            .funcrefs
            .set_code(index, std::ptr::null(), vmctx.as_ptr());
    }
    for (i, &g) in globals.iter().enumerate() {
        vmctx.set_global(i as u32, store.inner.globals[g as usize].cell);
    }
    let defined_globals = &info.global_types[info.num_imported_globals as usize..];
    for (d, (ty, init)) in defined_globals.iter().zip(&info.global_inits).enumerate() {
        let raw = eval_const(store, &globals, &funcs, init);
        let index = info.num_imported_globals + d as u32;
        let cell = vmctx.defined_global_cell(index);
        cell.set(raw);
        vmctx.set_global(index, cell);
        globals.push(Global::push(store, *ty, cell).index);
    }
    for (i, &t) in tables.iter().enumerate() {
        vmctx.set_table(i as u32, store.inner.tables[t as usize].vm());
    }
    for (i, &m) in memories.iter().enumerate() {
        vmctx.set_memory(i as u32, store.inner.memories[m as usize].vm());
    }
    let id = store.id();
    let exports = info
        .exports
        .iter()
        .map(|e| {
            let index = e.index as usize;
            let ext = match e.kind {
                ExternKind::Func => Extern::Func(Func {
                    store: id,
                    index: funcs[index],
                }),
                ExternKind::Table => Extern::Table(Table {
                    store: id,
                    index: tables[index],
                }),
                ExternKind::Memory => Extern::Memory(Memory {
                    store: id,
                    index: memories[index],
                }),
                ExternKind::Global => Extern::Global(Global {
                    store: id,
                    index: globals[index],
                }),
            };
            (e.name.clone(), ext)
        })
        .collect();
    let elems = info
        .elems
        .iter()
        .map(|seg| {
            seg.items
                .iter()
                .map(|item| eval_const(store, &globals, &funcs, item)[0])
                .collect()
        })
        .collect();
    store.inner.instances.push(InstanceData {
        module: module.clone(),
        funcs: funcs.into(),
        tables: tables.into(),
        memories: memories.into(),
        globals: globals.into(),
        vmctx,
        elems,
        data_dropped: vec![false; info.datas.len()],
        exports,
        runs_native: false,
    });
    backend::attach_engine(&mut store.inner, instance_index);
    let instance = Instance {
        store: id,
        index: instance_index,
    };
    initialize_segments(store, instance_index)?;
    if let Some(start) = info.start {
        let f = store.inner.instances[instance_index as usize].funcs[start as usize];
        backend::call_with_slots(store, f, 0, Default::default(), |_, _| {}, |_, _| {})?;
    }
    Ok(instance)
}

/// Active segments are copied in, then dropped; declarative ones are dropped.
fn initialize_segments<T>(store: &mut Store<T>, instance: u32) -> Result<()> {
    let module = store.inner.instances[instance as usize].module.clone();
    let info = &module.inner.info;
    for (i, seg) in info.elems.iter().enumerate() {
        match &seg.mode {
            ElemMode::Active { table, offset } => {
                let inst = &store.inner.instances[instance as usize];
                let offset = eval_const(store, &inst.globals, &inst.funcs, offset)[0] as u32;
                let table = inst.tables[*table as usize] as usize;
                let items = std::mem::take(&mut store.inner.instances[instance as usize].elems[i]);
                let t = &mut store.inner.tables[table];
                let start = offset as usize;
                let end = start + items.len();
                if end > t.elements.len() {
                    return Err(Trap::new(TrapCode::TableOutOfBounds).into());
                }
                t.elements[start..end].copy_from_slice(&items);
            }
            ElemMode::Declarative => {
                store.inner.instances[instance as usize].elems[i] = Box::new([]);
            }
            ElemMode::Passive => {}
        }
    }
    for (i, seg) in info.datas.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            let inst = &store.inner.instances[instance as usize];
            let offset = eval_const(store, &inst.globals, &inst.funcs, offset)[0] as u32;
            let memory = inst.memories[*memory as usize] as usize;
            let mem = store.inner.memories[memory].data_mut();
            let start = offset as usize;
            let end = start + seg.bytes.len();
            if end > mem.len() {
                return Err(Trap::new(TrapCode::MemoryOutOfBounds).into());
            }
            mem[start..end].copy_from_slice(&seg.bytes);
            store.inner.instances[instance as usize].data_dropped[i] = true;
        }
    }
    Ok(())
}

enum Definition<T> {
    Extern(Extern),
    Host(FuncType, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Host(t, f) => Definition::Host(t.clone(), f.clone()),
        }
    }
}

/// Resolves imports by (module, name). Host functions defined here can be instantiated
/// into any store; other items belong to one store.
pub struct Linker<T> {
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    pub fn new(_engine: &Engine) -> Linker<T> {
        Linker {
            defs: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// Lets a later definition replace an earlier one of the same name.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        let key = (module.to_owned(), name.to_owned());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            return Err(Error::link(format!(
                "`{module}::{name}` is already defined"
            )));
        }
        self.defs.insert(key, def);
        Ok(self)
    }

    /// Defines a host function from a typed closure.
    ///
    /// # Errors
    /// If the name is taken (and shadowing is off).
    pub fn func_wrap<P, R>(
        &mut self,
        module: &str,
        name: &str,
        f: impl IntoFunc<T, P, R>,
    ) -> Result<&mut Self> {
        let (ty, host) = f.into_host();
        self.insert(module, name, Definition::Host(ty, host))
    }

    /// Defines a host function of type `ty` over [`Val`]s.
    ///
    /// # Errors
    /// If the name is taken (and shadowing is off).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(super::func::Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap>
        + Send
        + Sync
        + 'static,
    ) -> Result<&mut Self> {
        let tmp_ty = ty.clone();
        let host: Arc<HostFn<T>> = Arc::new(move |caller, slots: &mut [u64]| {
            super::func::call_untyped(&tmp_ty, &f, caller, slots)
        });
        self.insert(module, name, Definition::Host(ty, host))
    }

    /// Defines an item of a store.
    ///
    /// # Errors
    /// If the name is taken (and shadowing is off).
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))
    }

    /// Defines every export of `instance` under module name `module`.
    ///
    /// # Errors
    /// If a name is taken (and shadowing is off).
    pub fn instance(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, ext) in instance.exports(&store) {
            self.define(module, &name, ext)?;
        }
        Ok(self)
    }

    /// Looks up a definition as an item of `store` (host functions are created there).
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.defs.get(&(module.to_owned(), name.to_owned()))?;
        Some(match def {
            Definition::Extern(e) => *e,
            Definition::Host(ty, f) => {
                Extern::Func(Func::from_host(store.as_context_mut().0, ty, f.clone()))
            }
        })
    }

    /// Instantiates `module`, resolving its imports here.
    ///
    /// # Errors
    /// A link error naming the first import that is missing or has the wrong type, or an
    /// instantiation trap.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let store = store.as_context_mut().0;
        let mut imports = Vec::with_capacity(module.inner.info.imports.len());
        for imp in &module.inner.info.imports {
            let ext = self
                .get(&mut *store, &imp.module, &imp.name)
                .ok_or_else(|| {
                    Error::link(format!(
                        "unknown import: `{}::{}` has not been defined",
                        imp.module, imp.name
                    ))
                })?;
            imports.push(ext);
        }
        instantiate(store, module, &imports)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
