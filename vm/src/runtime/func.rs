//! Functions: handles, host functions, typed and untyped calls.

use super::backend;
use super::instance::Extern;
use super::registry;
use super::store::{AsContext, AsContextMut, Store, StoreId, StoreInner};
use super::value::{ExternRef, V128, Val};
use crate::error::{Error, Result, Trap};
use crate::types::{FuncType, ValType};
use std::marker::PhantomData;
use std::sync::Arc;

/// A host function as the VM calls it: arguments in the slots on entry, results written
/// to the same slots. The slice holds `max(param slots, result slots)` entries.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [u64]) -> Result<(), Trap> + Send + Sync;

pub(crate) enum FuncEntity {
    /// Defined function `def` of instance `instance`. `type_id` is process-wide (see
    /// [`registry`]).
    Wasm {
        instance: u32,
        def: u32,
        type_id: u32,
        slots: u32,
    },
    /// Host function number `host` of the store. In both variants `slots` is the
    /// argument/result area a call needs, `max(param slots, result slots)`.
    Host { host: u32, type_id: u32, slots: u32 },
}

impl FuncEntity {
    pub(crate) fn type_id(&self) -> u32 {
        match *self {
            FuncEntity::Wasm { type_id, .. } | FuncEntity::Host { type_id, .. } => type_id,
        }
    }

    pub(crate) fn slots(&self) -> u32 {
        match *self {
            FuncEntity::Wasm { slots, .. } | FuncEntity::Host { slots, .. } => slots,
        }
    }
}

/// A function in a store: defined by a module instance or by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What a host function sees: the store (its data, memories, other functions) and the
/// instance that called it.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<u32>,
}

impl<T> Caller<'_, T> {
    pub fn data(&self) -> &T {
        self.store.data()
    }

    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// An export of the calling instance (typically its `memory`).
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        self.store.inner.instances[instance as usize]
            .exports
            .get(name)
            .copied()
    }
}

impl Func {
    /// The raw reference value: the address of the function's [`VMFuncRef`].
    pub(crate) fn to_raw(self, store: &StoreInner) -> u64 {
        // The API checks store ids before values enter a store; a foreign function that
        // slipped through becomes null rather than another store's reference.
        debug_assert_eq!(store.id, self.store);
        if store.id != self.store {
            return 0;
        }
        store.funcrefs.get(self.index) as u64
    }

    /// The function a raw reference value (0 for null) refers to.
    pub(crate) fn from_raw(store: &StoreInner, raw: u64) -> Option<Func> {
        if raw == 0 {
            return None;
        }
        let index = store.funcrefs.index_of(raw)?;
        Some(Func {
            store: store.id,
            index,
        })
    }

    fn push_host<T>(store: &mut Store<T>, ty: &FuncType, f: Arc<HostFn<T>>) -> Func {
        let type_id = registry::intern(ty);
        store.host_funcs.push(f);
        store.inner.push_func(
            FuncEntity::Host {
                host: (store.host_funcs.len() - 1) as u32,
                type_id,
                slots: ty.param_slots().max(ty.result_slots()),
            },
            std::ptr::null(),
            std::ptr::null_mut(),
        );
        Func {
            store: store.id(),
            index: (store.inner.funcs.len() - 1) as u32,
        }
    }

    pub(crate) fn from_host<T>(store: &mut Store<T>, ty: &FuncType, f: Arc<HostFn<T>>) -> Func {
        Func::push_host(store, ty, f)
    }

    /// A host function from a closure with typed parameters and results, e.g.
    /// `|caller: Caller<'_, T>, a: i32, b: i64| -> Result<i32, Trap>`.
    pub fn wrap<T: 'static, P, R>(
        mut store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, P, R>,
    ) -> Func {
        let (ty, host) = f.into_host();
        Func::push_host(store.as_context_mut().0, &ty, host)
    }

    /// A host function of type `ty` taking and returning [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Func {
        let host = untyped_host(ty.clone(), f);
        Func::push_host(store.as_context_mut().0, &ty, host)
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context();
        assert_eq!(store.id(), self.store, "function used with another store");
        let id = store.inner.funcs[self.index as usize].type_id();
        FuncType::clone(&registry::get(id))
    }

    /// Calls the function with `params`, writing its results into `results`.
    ///
    /// # Errors
    /// A trap, or a usage error when the arguments do not match the function's type.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        store.check_id(self.store)?;
        let ty = self.ty(&*store);
        if params.len() != ty.params().len()
            || params.iter().zip(ty.params()).any(|(v, t)| v.ty() != *t)
        {
            return Err(Error::usage(format!(
                "arguments do not match the function type {ty}"
            )));
        }
        if results.len() != ty.results().len() {
            return Err(Error::usage(format!(
                "expected room for {} results",
                ty.results().len()
            )));
        }
        for v in params {
            store.check_val(v)?;
        }
        let n = ty.param_slots().max(ty.result_slots()) as usize;
        backend::call_with_slots(
            store,
            self.index,
            n,
            backend::ResolvedEntry::default(),
            |slots, store| {
                let mut i = 0;
                for v in params {
                    v.to_slots(store, &mut slots[i..]);
                    i += v.ty().slots() as usize;
                }
            },
            |slots, store| {
                let mut i = 0;
                for (r, t) in results.iter_mut().zip(ty.results()) {
                    *r = Val::from_slots(*t, store, &slots[i..]);
                    i += t.slots() as usize;
                }
            },
        )?;
        Ok(())
    }

    /// A typed view of this function.
    ///
    /// # Errors
    /// If `P` and `R` do not match the function's type.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let store = store.as_context();
        store.check_id(self.store)?;
        let ty = self.ty(store);
        if ty.params() != P::valtypes().as_slice() || ty.results() != R::valtypes().as_slice() {
            return Err(Error::link(format!(
                "function type {ty} does not match the requested signature {}",
                FuncType::new(P::valtypes(), R::valtypes())
            )));
        }
        Ok(TypedFunc {
            func: *self,
            slots: ty.param_slots().max(ty.result_slots()) as usize,
            entry: backend::resolve_entry(&store.inner, self.index),
            _marker: PhantomData,
        })
    }
}

fn untyped_host<T: 'static>(
    ty: FuncType,
    f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
) -> Arc<HostFn<T>> {
    Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| call_untyped(&ty, &f, caller, slots))
}

/// Runs a host function over [`Val`]s on raw slots: arguments in, results out.
pub(crate) fn call_untyped<T>(
    ty: &FuncType,
    f: &impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap>,
    caller: Caller<'_, T>,
    slots: &mut [u64],
) -> Result<(), Trap> {
    let mut params = Vec::with_capacity(ty.params().len());
    let mut i = 0;
    for t in ty.params() {
        params.push(Val::from_slots(*t, &caller.store.inner, &slots[i..]));
        i += t.slots() as usize;
    }
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    let instance = caller.instance;
    let store = caller.store;
    f(
        Caller {
            store: &mut *store,
            instance,
        },
        &params,
        &mut results,
    )?;
    let mut i = 0;
    for (v, t) in results.iter().zip(ty.results()) {
        if v.ty() != *t {
            return Err(Trap::host_message(format!(
                "host function returned {} where {t} was expected",
                v.ty()
            )));
        }
        if let Val::FuncRef(Some(func)) = v
            && func.store != store.id()
        {
            return Err(Trap::host_message(
                "host function returned a function of another store",
            ));
        }
        v.to_slots(&store.inner, &mut slots[i..]);
        i += t.slots() as usize;
    }
    Ok(())
}

/// A function with a statically known signature: calls do not allocate or check types.
pub struct TypedFunc<P, R> {
    func: Func,
    slots: usize,
    /// The engine entry, resolved once in the function's store.
    entry: backend::ResolvedEntry,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    /// Calls the function.
    ///
    /// # Errors
    /// A trap, or a usage error when used with another store.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let store = store.as_context_mut().0;
        store.check_id(self.func.store)?;
        let mut out = None;
        backend::call_with_slots(
            store,
            self.func.index,
            self.slots,
            self.entry,
            |slots, store| params.store(slots, store),
            |slots, store| out = Some(R::load(slots, store)),
        )?;
        Ok(out.expect("results read after a successful call"))
    }

    pub fn func(&self) -> Func {
        self.func
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is a WebAssembly value type.
pub trait WasmTy: sealed::Sealed + Sized + Send + 'static {
    #[doc(hidden)]
    const SLOTS: usize;
    #[doc(hidden)]
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn store(self, slots: &mut [u64], store: &StoreInner);
    #[doc(hidden)]
    fn load(slots: &[u64], store: &StoreInner) -> Self;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, |$v:ident| $to:expr, |$s:ident| $from:expr) => {
        impl sealed::Sealed for $t {}
        impl WasmTy for $t {
            const SLOTS: usize = 1;
            fn valtype() -> ValType {
                ValType::$vt
            }
            #[inline]
            fn store(self, slots: &mut [u64], _: &StoreInner) {
                let $v = self;
                slots[0] = $to;
            }
            #[inline]
            fn load(slots: &[u64], _: &StoreInner) -> Self {
                let $s = slots[0];
                $from
            }
        }
    };
}

wasm_ty!(i32, I32, |v| v as u32 as u64, |s| s as u32 as i32);
wasm_ty!(u32, I32, |v| v as u64, |s| s as u32);
wasm_ty!(i64, I64, |v| v as u64, |s| s as i64);
wasm_ty!(u64, I64, |v| v, |s| s);
wasm_ty!(f32, F32, |v| u64::from(v.to_bits()), |s| f32::from_bits(
    s as u32
));
wasm_ty!(f64, F64, |v| v.to_bits(), |s| f64::from_bits(s));
wasm_ty!(
    Option<ExternRef>,
    ExternRef,
    |v| v.map_or(0, |r| u64::from(r.0) + 1),
    |s| (s != 0).then(|| ExternRef((s - 1) as u32))
);

impl sealed::Sealed for V128 {}
impl WasmTy for V128 {
    const SLOTS: usize = 2;
    fn valtype() -> ValType {
        ValType::V128
    }
    fn store(self, slots: &mut [u64], _: &StoreInner) {
        slots[0] = self.0 as u64;
        slots[1] = (self.0 >> 64) as u64;
    }
    fn load(slots: &[u64], _: &StoreInner) -> Self {
        V128(u128::from(slots[0]) | (u128::from(slots[1]) << 64))
    }
}

impl sealed::Sealed for Option<Func> {}
impl WasmTy for Option<Func> {
    const SLOTS: usize = 1;
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn store(self, slots: &mut [u64], store: &StoreInner) {
        slots[0] = self.map_or(0, |f| f.to_raw(store));
    }
    fn load(slots: &[u64], store: &StoreInner) -> Self {
        Func::from_raw(store, slots[0])
    }
}

/// Parameters of a typed call: a [`WasmTy`] or a tuple of them.
pub trait WasmParams: Send {
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn store(self, slots: &mut [u64], store: &StoreInner);
}

/// Results of a typed call: a [`WasmTy`], `()` or a tuple.
pub trait WasmResults: Sized {
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn load(slots: &[u64], store: &StoreInner) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store(self, slots: &mut [u64], store: &StoreInner) {
        WasmTy::store(self, slots, store)
    }
}

impl<A: WasmTy> WasmResults for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn load(slots: &[u64], store: &StoreInner) -> Self {
        WasmTy::load(slots, store)
    }
}

macro_rules! tuples {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<$($a: WasmTy,)*> WasmParams for ($($a,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            fn store(self, slots: &mut [u64], store: &StoreInner) {
                let ($($a,)*) = self;
                let mut i = 0;
                $( $a.store(&mut slots[i..], store); i += $a::SLOTS; )*
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<$($a: WasmTy,)*> WasmResults for ($($a,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            fn load(slots: &[u64], store: &StoreInner) -> Self {
                let mut i = 0;
                $( let $a = $a::load(&slots[i..], store); i += $a::SLOTS; )*
                #[allow(clippy::unused_unit)]
                ($($a,)*)
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<T: 'static, F, R, $($a: WasmTy,)*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_host(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::valtypes());
                let f = move |caller: Caller<'_, T>, slots: &mut [u64]| -> Result<(), Trap> {
                    let mut i = 0;
                    $( let $a = $a::load(&slots[i..], &caller.store.inner); i += $a::SLOTS; )*
                    let instance = caller.instance;
                    let store = caller.store;
                    let results = self(Caller { store: &mut *store, instance }, $($a),*);
                    results.store_results(slots, &store.inner)
                };
                (ty, Arc::new(f))
            }
        }
    };
}

tuples!();
tuples!(A1);
tuples!(A1 A2);
tuples!(A1 A2 A3);
tuples!(A1 A2 A3 A4);
tuples!(A1 A2 A3 A4 A5);
tuples!(A1 A2 A3 A4 A5 A6);
tuples!(A1 A2 A3 A4 A5 A6 A7);
tuples!(A1 A2 A3 A4 A5 A6 A7 A8);
tuples!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
tuples!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);

/// What a host closure may return: results, or results or a trap.
pub trait WasmRet {
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn store_results(self, slots: &mut [u64], store: &StoreInner) -> Result<(), Trap>;
}

impl<R: WasmResults + IntoSlots> WasmRet for R {
    fn valtypes() -> Vec<ValType> {
        R::valtypes()
    }
    fn store_results(self, slots: &mut [u64], store: &StoreInner) -> Result<(), Trap> {
        self.into_slots(slots, store);
        Ok(())
    }
}

impl<R: WasmResults + IntoSlots> WasmRet for Result<R, Trap> {
    fn valtypes() -> Vec<ValType> {
        R::valtypes()
    }
    fn store_results(self, slots: &mut [u64], store: &StoreInner) -> Result<(), Trap> {
        self?.into_slots(slots, store);
        Ok(())
    }
}

/// Results written back into slots (the host-function direction).
#[doc(hidden)]
pub trait IntoSlots {
    fn into_slots(self, slots: &mut [u64], store: &StoreInner);
}

impl<A: WasmTy> IntoSlots for A {
    fn into_slots(self, slots: &mut [u64], store: &StoreInner) {
        self.store(slots, store)
    }
}

macro_rules! into_slots_tuples {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<$($a: WasmTy,)*> IntoSlots for ($($a,)*) {
            fn into_slots(self, slots: &mut [u64], store: &StoreInner) {
                let ($($a,)*) = self;
                let mut i = 0;
                $( $a.store(&mut slots[i..], store); i += $a::SLOTS; )*
            }
        }
    };
}

into_slots_tuples!();
into_slots_tuples!(A1);
into_slots_tuples!(A1 A2);
into_slots_tuples!(A1 A2 A3);
into_slots_tuples!(A1 A2 A3 A4);

/// Closures that can become host functions; implemented for `Fn(Caller<T>, A1, ...) -> R`
/// with up to 10 [`WasmTy`] parameters, where `R` is results or `Result<results, Trap>`.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, Arc<HostFn<T>>);
}
