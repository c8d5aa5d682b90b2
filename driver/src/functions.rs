//! User-defined SQL functions (scalar, aggregate, window) and collations from Rust.
//!
//! ```
//! # use sandlite_driver::{Connection, functions::FunctionFlags};
//! let conn = Connection::open_in_memory()?;
//! conn.create_scalar_function("halve", 1, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
//!     Ok(ctx.get::<f64>(0)? / 2.0)
//! })?;
//! let v: f64 = conn.query_row("SELECT halve(5)", [], |r| r.get(0))?;
//! assert_eq!(v, 2.5);
//! # Ok::<(), sandlite_driver::Error>(())
//! ```

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::types::{FromSql, FromSqlError, ToSql, ToSqlOutput, ValueRef};
use sandlite_sqlite_wasm::{
    AggregateFunction, AggregateState, Function, FunctionCall, HostValue, ValueType, ffi,
};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::os::raw::c_int;
use std::sync::Arc;

/// Function flags (`SQLITE_UTF8` is always added).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionFlags(i32);

impl FunctionFlags {
    pub const SQLITE_UTF8: FunctionFlags = FunctionFlags(ffi::SQLITE_UTF8);
    /// Same arguments, same result: lets SQLite use it in indexes and factor it out.
    pub const SQLITE_DETERMINISTIC: FunctionFlags = FunctionFlags(ffi::SQLITE_DETERMINISTIC);
    /// Only callable from top-level SQL, not from triggers or views.
    pub const SQLITE_DIRECTONLY: FunctionFlags = FunctionFlags(ffi::SQLITE_DIRECTONLY);
    /// No side effects and no information leaks.
    pub const SQLITE_INNOCUOUS: FunctionFlags = FunctionFlags(ffi::SQLITE_INNOCUOUS);

    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl std::ops::BitOr for FunctionFlags {
    type Output = FunctionFlags;
    fn bitor(self, rhs: FunctionFlags) -> FunctionFlags {
        FunctionFlags(self.0 | rhs.0)
    }
}

/// What a user function sees: its arguments.
pub struct Context<'a> {
    call: RefCell<&'a mut dyn Args>,
    /// Host copies of the arguments [`Context::get_ref`] has handed out.
    copies: std::cell::OnceCell<Vec<std::cell::OnceCell<RawArg>>>,
}

/// A host copy of one argument, as SQLite stores it.
enum RawArg {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl RawArg {
    fn value_ref(&self) -> ValueRef<'_> {
        match self {
            RawArg::Null => ValueRef::Null,
            RawArg::Integer(i) => ValueRef::Integer(*i),
            RawArg::Real(r) => ValueRef::Real(*r),
            RawArg::Text(t) => ValueRef::Text(t),
            RawArg::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// The binding's call, with its lifetimes hidden.
trait Args {
    fn count(&self) -> usize;
    fn with_arg(&mut self, i: usize, f: &mut dyn FnMut(ValueRef<'_>)) -> Result<()>;
    fn set_result(&mut self, out: ToSqlOutput<'_>) -> Result<()>;
    fn get_aux(&mut self, arg: i32) -> Result<Option<HostValue>>;
    fn set_aux(&mut self, arg: i32, value: HostValue) -> Result<()>;
}

impl Args for FunctionCall<'_, '_> {
    fn count(&self) -> usize {
        self.len()
    }

    fn with_arg(&mut self, i: usize, f: &mut dyn FnMut(ValueRef<'_>)) -> Result<()> {
        let v = match self.value_type(i)? {
            ValueType::Null => ValueRef::Null,
            ValueType::Integer => ValueRef::Integer(self.int64(i)?),
            ValueType::Real => ValueRef::Real(self.double(i)?),
            ValueType::Text => ValueRef::Text(self.text(i)?),
            ValueType::Blob => ValueRef::Blob(self.blob(i)?),
        };
        f(v);
        Ok(())
    }

    fn set_result(&mut self, out: ToSqlOutput<'_>) -> Result<()> {
        set_result(self, out)
    }

    fn get_aux(&mut self, arg: i32) -> Result<Option<HostValue>> {
        Ok(self.aux(arg)?)
    }

    fn set_aux(&mut self, arg: i32, value: HostValue) -> Result<()> {
        Ok(FunctionCall::set_aux(self, arg, value)?)
    }
}

/// Sets the result of a function call (or a virtual table's column) to `out`.
pub(crate) fn set_result(call: &mut FunctionCall<'_, '_>, out: ToSqlOutput<'_>) -> Result<()> {
    match out {
        ToSqlOutput::ZeroBlob(n) => call.set_zeroblob(n)?,
        // A result cannot carry a host pointer.
        ToSqlOutput::Array(_) => call.set_null()?,
        ref o => match o.value_ref().expect("not a zeroblob or an array") {
            ValueRef::Null => call.set_null()?,
            ValueRef::Integer(i) => call.set_int64(i)?,
            ValueRef::Real(r) => call.set_double(r)?,
            ValueRef::Text(t) => call.set_text(t)?,
            ValueRef::Blob(b) => call.set_blob(b)?,
        },
    }
    Ok(())
}

impl<'a> Context<'a> {
    fn new(call: &'a mut dyn Args) -> Context<'a> {
        Context {
            call: RefCell::new(call),
            copies: std::cell::OnceCell::new(),
        }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.call.borrow().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `idx` as `T`.
    ///
    /// # Errors
    /// An out-of-range index or a value that does not convert.
    pub fn get<T: FromSql>(&self, idx: usize) -> Result<T> {
        if idx >= self.len() {
            return Err(Error::InvalidColumnIndex(idx));
        }
        let mut out = None;
        self.call.borrow_mut().with_arg(idx, &mut |v| {
            out = Some((v.data_type(), T::column_result(v)));
        })?;
        match out.expect("set by with_arg") {
            (_, Ok(v)) => Ok(v),
            (found, Err(FromSqlError::InvalidType)) => {
                Err(Error::InvalidFunctionParameterType(idx, found))
            }
            (_, Err(FromSqlError::OutOfRange(value))) => {
                Err(Error::IntegralValueOutOfRange(idx, value))
            }
            (found, Err(FromSqlError::Other(source))) => {
                Err(Error::FromSqlConversionFailure(idx, found, source))
            }
            (found, Err(e)) => Err(Error::FromSqlConversionFailure(idx, found, Box::new(e))),
        }
    }

    /// Argument `idx` as SQLite stores it (text exactly as stored, even if not UTF-8).
    /// The value is copied to the host once per call and argument.
    ///
    /// # Errors
    /// [`Error::InvalidColumnIndex`] for an index past the last argument; a failed host
    /// allocation for a huge value.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        let len = self.len();
        if idx >= len {
            return Err(Error::InvalidColumnIndex(idx));
        }
        let copies = self
            .copies
            .get_or_init(|| (0..len).map(|_| std::cell::OnceCell::new()).collect());
        if let Some(copy) = copies[idx].get() {
            return Ok(copy.value_ref());
        }
        let mut copied = None;
        self.call.borrow_mut().with_arg(idx, &mut |v| {
            use sandlite_sqlite_wasm::alloc;
            copied = Some(match v {
                ValueRef::Null => Ok(RawArg::Null),
                ValueRef::Integer(i) => Ok(RawArg::Integer(i)),
                ValueRef::Real(r) => Ok(RawArg::Real(r)),
                ValueRef::Text(t) => alloc::copy(t).map(RawArg::Text),
                ValueRef::Blob(b) => alloc::copy(b).map(RawArg::Blob),
            });
        })?;
        let copy = copied
            .expect("set by with_arg")
            .map_err(|e| Error::UserFunctionError(Box::new(e)))?;
        Ok(copies[idx].get_or_init(|| copy).value_ref())
    }

    /// Argument `idx` as SQLite stores it (rusqlite's `get_raw`).
    ///
    /// # Panics
    /// If `idx` is past the last argument or the host cannot copy the value (use
    /// [`get_ref`](Self::get_ref) to get an error instead).
    pub fn get_raw(&self, idx: usize) -> ValueRef<'_> {
        match self.get_ref(idx) {
            Ok(v) => v,
            Err(e) => panic!("Context::get_raw({idx}): {e}"),
        }
    }

    /// Argument `idx` as an owned [`Value`](crate::types::Value).
    ///
    /// # Errors
    /// An out-of-range index.
    pub fn get_value(&self, idx: usize) -> Result<crate::types::Value> {
        self.get(idx)
    }

    /// The auxiliary data SQLite keeps for argument `arg` (`sqlite3_get_auxdata`): set
    /// by an earlier call of this function in the same statement while the argument
    /// stayed the same (a constant pattern, say), else `None`.
    ///
    /// # Errors
    /// [`Error::GetAuxWrongType`] when the data is not a `T`.
    pub fn get_aux<T: Send + Sync + 'static>(&self, arg: c_int) -> Result<Option<Arc<T>>> {
        match self.call.borrow_mut().get_aux(arg)? {
            None => Ok(None),
            Some(v) => v
                .downcast::<T>()
                .map(Some)
                .map_err(|_| Error::GetAuxWrongType),
        }
    }

    /// Keeps `value` as the auxiliary data of argument `arg` (`sqlite3_set_auxdata`);
    /// SQLite drops it when the argument changes or the statement ends.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_aux<T: Send + Sync + 'static>(&self, arg: c_int, value: T) -> Result<Arc<T>> {
        let value = Arc::new(value);
        let host: HostValue = value.clone();
        self.call.borrow_mut().set_aux(arg, host)?;
        Ok(value)
    }

    /// The auxiliary data of argument `arg`, made by `func` from the argument's value
    /// if there is none yet (rusqlite's `get_or_create_aux`): compile a pattern once
    /// per statement rather than once per row.
    ///
    /// # Errors
    /// [`Error::GetAuxWrongType`], or `func`'s error as [`Error::UserFunctionError`].
    pub fn get_or_create_aux<T, E, F>(&self, arg: c_int, func: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
        F: FnOnce(ValueRef<'_>) -> Result<T, E>,
    {
        if let Some(v) = self.get_aux(arg)? {
            return Ok(v);
        }
        let idx = usize::try_from(arg).map_err(|_| Error::InvalidColumnIndex(0))?;
        let value = func(self.get_ref(idx)?).map_err(|e| Error::UserFunctionError(e.into()))?;
        self.set_aux(arg, value)
    }

    fn set<T: ToSql>(&self, value: &T) -> Result<()> {
        let out = value.to_sql()?;
        self.call.borrow_mut().set_result(out)
    }
}

/// Runs user code; its errors and panics become the SQL error message.
fn guard<R>(f: impl FnOnce() -> Result<R>) -> Result<R, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(Error::UserFunctionError(e))) => Err(e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("user function panicked".into()),
    }
}

/// An aggregate function: `init` a state per group, `step` each row, `finalize`.
pub trait Aggregate<A, T>: Send + 'static
where
    A: Send + 'static,
    T: ToSql,
{
    /// A new state for a group (called before its first `step`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn init(&self, ctx: &mut Context<'_>) -> Result<A>;
    /// Adds one row.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn step(&self, ctx: &mut Context<'_>, acc: &mut A) -> Result<()>;
    /// The group's result; `acc` is `None` for an empty group.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn finalize(&self, ctx: &mut Context<'_>, acc: Option<A>) -> Result<T>;
}

/// A window function: an aggregate that can also report its current value and remove
/// rows leaving the window.
pub trait WindowAggregate<A, T>: Aggregate<A, T>
where
    A: Send + 'static,
    T: ToSql,
{
    /// The current result.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn value(&self, acc: Option<&mut A>) -> Result<T>;
    /// Removes the oldest row.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut A) -> Result<()>;
}

/// The window operations of a [`WindowAggregate`], as plain functions.
struct WindowOps<D, A, T> {
    value: fn(&D, Option<&mut A>) -> Result<T>,
    inverse: fn(&D, &mut Context<'_>, &mut A) -> Result<()>,
}

/// Adapts a typed [`Aggregate`] to the binding's state-per-group interface. The state is
/// `Option<A>`: created empty, filled by `init` on the first step.
struct AggregateAdapter<D, A, T> {
    agg: D,
    /// Present for window functions.
    window: Option<WindowOps<D, A, T>>,
}

fn state_of<A: 'static>(state: &mut AggregateState) -> Result<&mut Option<A>, String> {
    state
        .downcast_mut::<Option<A>>()
        .ok_or_else(|| "aggregate state of the wrong type".to_owned())
}

impl<D, A, T> AggregateFunction for AggregateAdapter<D, A, T>
where
    D: Aggregate<A, T>,
    A: Send + 'static,
    T: ToSql,
{
    fn init(&mut self) -> AggregateState {
        Box::new(None::<A>)
    }

    fn step(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let acc = state_of::<A>(state)?;
        let mut ctx = Context::new(call);
        guard(|| {
            if acc.is_none() {
                *acc = Some(self.agg.init(&mut ctx)?);
            }
            self.agg.step(&mut ctx, acc.as_mut().expect("initialized"))
        })
    }

    fn finalize(
        &mut self,
        state: Option<AggregateState>,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let acc = match state {
            Some(s) => *s
                .downcast::<Option<A>>()
                .map_err(|_| "aggregate state of the wrong type".to_owned())?,
            None => None,
        };
        let mut ctx = Context::new(call);
        let v = guard(|| self.agg.finalize(&mut ctx, acc))?;
        ctx.set(&v).map_err(|e| e.to_string())
    }

    fn value(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let Some(window) = &self.window else {
            return Err("not a window function".into());
        };
        let acc = state_of::<A>(state)?;
        let ctx = Context::new(call);
        let v = guard(|| (window.value)(&self.agg, acc.as_mut()))?;
        ctx.set(&v).map_err(|e| e.to_string())
    }

    fn inverse(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        let Some(window) = &self.window else {
            return Err("not a window function".into());
        };
        let acc = state_of::<A>(state)?;
        let mut ctx = Context::new(call);
        guard(|| match acc.as_mut() {
            Some(acc) => (window.inverse)(&self.agg, &mut ctx, acc),
            None => Ok(()),
        })
    }
}

impl Connection {
    fn register_function(
        &self,
        name: &str,
        n_arg: i32,
        flags: FunctionFlags,
        f: Function,
    ) -> Result<()> {
        let mut inner = self.inner()?;
        let db = inner.db;
        let flags = (flags | FunctionFlags::SQLITE_UTF8).bits();
        inner.sqlite.create_function(db, name, n_arg, flags, f)?;
        Ok(())
    }

    /// Registers a scalar function taking `n_arg` arguments (-1: any number).
    ///
    /// # Errors
    /// SQLite's error (bad name or argument count).
    pub fn create_scalar_function<F, T>(
        &self,
        name: &str,
        n_arg: i32,
        flags: FunctionFlags,
        mut f: F,
    ) -> Result<()>
    where
        F: FnMut(&Context<'_>) -> Result<T> + Send + 'static,
        T: ToSql,
    {
        let body = move |call: &mut FunctionCall<'_, '_>| {
            let ctx = Context::new(call);
            let v = guard(|| f(&ctx))?;
            ctx.set(&v).map_err(|e| e.to_string())
        };
        self.register_function(name, n_arg, flags, Function::Scalar(Box::new(body)))
    }

    /// Registers an aggregate function.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn create_aggregate_function<A, D, T>(
        &self,
        name: &str,
        n_arg: i32,
        flags: FunctionFlags,
        aggr: D,
    ) -> Result<()>
    where
        A: Send + 'static,
        D: Aggregate<A, T>,
        T: ToSql + 'static,
    {
        let adapter = AggregateAdapter {
            agg: aggr,
            window: None,
        };
        self.register_function(name, n_arg, flags, Function::Aggregate(Box::new(adapter)))
    }

    /// Registers a window function (usable as an aggregate too).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn create_window_function<A, W, T>(
        &self,
        name: &str,
        n_arg: i32,
        flags: FunctionFlags,
        aggr: W,
    ) -> Result<()>
    where
        A: Send + 'static,
        W: WindowAggregate<A, T>,
        T: ToSql + 'static,
    {
        let adapter = AggregateAdapter {
            agg: aggr,
            window: Some(WindowOps {
                value: |w: &W, acc| w.value(acc),
                inverse: |w: &W, ctx, acc| w.inverse(ctx, acc),
            }),
        };
        self.register_function(name, n_arg, flags, Function::Window(Box::new(adapter)))
    }

    /// Removes a function registered with the same name and argument count.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn remove_function(&self, name: &str, n_arg: i32) -> Result<()> {
        let mut inner = self.inner()?;
        let db = inner.db;
        inner
            .sqlite
            .remove_function(db, name, n_arg, ffi::SQLITE_UTF8)?;
        Ok(())
    }

    /// Registers a collation (`ORDER BY x COLLATE name`).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn create_collation<C>(&self, name: &str, compare: C) -> Result<()>
    where
        C: Fn(&str, &str) -> Ordering + Send + 'static,
    {
        let f = move |a: &[u8], b: &[u8]| match (std::str::from_utf8(a), std::str::from_utf8(b)) {
            (Ok(a), Ok(b)) => compare(a, b),
            _ => {
                use sandlite_sqlite_wasm::alloc::string_lossy;
                match (string_lossy(a), string_lossy(b)) {
                    (Ok(a), Ok(b)) => compare(&a, &b),
                    // The host cannot hold the copies: byte order rather than an abort.
                    _ => a.cmp(b),
                }
            }
        };
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.create_collation(db, name, Box::new(f))?;
        Ok(())
    }

    /// Removes a collation.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn remove_collation(&self, name: &str) -> Result<()> {
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.remove_collation(db, name)?;
        Ok(())
    }
}
