//! Host callbacks SQLite calls: user functions, collations, handlers and hooks.
//!
//! SQLite calls them through imported host functions with the handle the host chose at
//! registration. Inside a user function the host calls back into the guest (to read the
//! arguments with `sqlite3_value_*` and set the result with `sqlite3_result_*`): that is
//! a reentrant call into the same instance, which [`FunctionCall`] wraps.

use crate::error::{Error, Result};
use crate::exports::Exports;
use crate::ffi;
use crate::guest;
use crate::host::HostState;
use sandlite_vm::{Caller, Memory};
use std::any::Any;
use std::cmp::Ordering;

/// Per-group state of an aggregate or window function.
pub type AggregateState = Box<dyn Any + Send>;

/// A scalar SQL function.
pub trait ScalarFunction: Send {
    /// Computes the result from the call's arguments and sets it on the call. An `Err`
    /// becomes the SQL error message.
    fn call(&mut self, call: &mut FunctionCall<'_, '_>) -> Result<(), String>;
}

impl<F> ScalarFunction for F
where
    F: FnMut(&mut FunctionCall<'_, '_>) -> Result<(), String> + Send,
{
    fn call(&mut self, call: &mut FunctionCall<'_, '_>) -> Result<(), String> {
        self(call)
    }
}

/// An aggregate SQL function, and optionally a window function.
pub trait AggregateFunction: Send {
    /// A fresh state for a group.
    fn init(&mut self) -> AggregateState;
    /// Adds one row to a group.
    fn step(
        &mut self,
        state: &mut AggregateState,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String>;
    /// Sets the group's result. `state` is `None` when no row was stepped.
    fn finalize(
        &mut self,
        state: Option<AggregateState>,
        call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String>;
    /// Window functions: sets the current result, keeping the state.
    fn value(
        &mut self,
        _state: &mut AggregateState,
        _call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        Err("not a window function".into())
    }
    /// Window functions: removes the oldest row from the state.
    fn inverse(
        &mut self,
        _state: &mut AggregateState,
        _call: &mut FunctionCall<'_, '_>,
    ) -> Result<(), String> {
        Err("not a window function".into())
    }
}

/// Compares two strings of a collation (UTF-8 bytes).
pub type Collation = Box<dyn FnMut(&[u8], &[u8]) -> Ordering + Send>;
/// Called when a lock is busy with the number of earlier calls; `true` retries.
pub type BusyHandler = Box<dyn FnMut(i32) -> bool + Send>;
/// Called every N virtual-machine steps; `true` interrupts the statement.
pub type ProgressHandler = Box<dyn FnMut() -> bool + Send>;
/// Called before a commit; `true` turns it into a rollback.
pub type CommitHook = Box<dyn FnMut() -> bool + Send>;
/// Called after a rollback.
pub type RollbackHook = Box<dyn FnMut() + Send>;
/// Called for each row changed: action, database name, table name, rowid.
pub type UpdateHook = Box<dyn FnMut(UpdateAction, &str, &str, i64) + Send>;

/// What a trace callback ([`sqlite3_trace_v2`](https://www.sqlite.org/c3ref/trace_v2.html))
/// reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent<'a> {
    /// `SQLITE_TRACE_STMT`: a statement (guest address `stmt`) starts running `sql` (its
    /// text as prepared, or a `-- TRIGGER name` comment).
    Stmt { stmt: i32, sql: &'a str },
    /// `SQLITE_TRACE_PROFILE`: statement `stmt` finished after `nanos` nanoseconds.
    Profile { stmt: i32, nanos: i64 },
    /// `SQLITE_TRACE_ROW`: statement `stmt` produced a row.
    Row { stmt: i32 },
    /// `SQLITE_TRACE_CLOSE`: the connection is closing.
    Close,
}

/// What a trace callback may ask SQLite about the statement or connection of an event
/// (calls into the guest made while the callback runs).
pub trait TraceQuery {
    /// `sqlite3_sql(stmt)`: the statement's text as prepared.
    fn sql(&self, stmt: i32) -> Option<String>;
    /// `sqlite3_expanded_sql(stmt)`: the text with bound parameters substituted.
    fn expanded_sql(&self, stmt: i32) -> Option<String>;
    /// `sqlite3_stmt_status(stmt, op, 0)`: a counter of the statement (0 if the
    /// guest call failed).
    fn stmt_status(&self, stmt: i32, op: i32) -> i32;
    /// `sqlite3_get_autocommit` of the closing connection (a `Close` event; true for
    /// other events).
    fn autocommit(&self) -> bool;
}

/// Called for the events of the trace mask.
pub type TraceHook = Box<dyn FnMut(TraceEvent<'_>, &dyn TraceQuery) + Send>;

/// What an update hook reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateAction {
    Insert,
    Update,
    Delete,
}

impl UpdateAction {
    pub(crate) fn from_code(op: i32) -> UpdateAction {
        match op {
            ffi::SQLITE_INSERT => UpdateAction::Insert,
            ffi::SQLITE_DELETE => UpdateAction::Delete,
            _ => UpdateAction::Update,
        }
    }
}

/// A registered callback, by handle.
pub(crate) enum Callback {
    Scalar(Box<dyn ScalarFunction>),
    Aggregate(Box<dyn AggregateFunction>),
    Collation(Collation),
    Busy(BusyHandler),
    Progress(ProgressHandler),
    Commit(CommitHook),
    Rollback(RollbackHook),
    Update(UpdateHook),
    Trace(TraceHook),
    Module(Box<dyn crate::vtab::VtabModule>),
    Table(Box<dyn crate::vtab::VtabTable>),
    Cursor(Box<dyn crate::vtab::VtabCursor>),
    /// A host value SQLite holds by handle (a bound pointer, auxiliary data).
    Value(crate::vtab::HostValue),
}

/// The dynamic type of an SQL value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Integer,
    Real,
    Text,
    Blob,
    Null,
}

impl ValueType {
    pub(crate) fn from_code(code: i32) -> ValueType {
        match code {
            ffi::SQLITE_INTEGER => ValueType::Integer,
            ffi::SQLITE_FLOAT => ValueType::Real,
            ffi::SQLITE_TEXT => ValueType::Text,
            ffi::SQLITE_BLOB => ValueType::Blob,
            _ => ValueType::Null,
        }
    }
}

/// One call of a user function: its arguments and its result.
pub struct FunctionCall<'a, 'c> {
    pub(crate) caller: &'a mut Caller<'c, HostState>,
    pub(crate) exports: &'a Exports,
    pub(crate) memory: Memory,
    pub(crate) ctx: i32,
    pub(crate) args: Vec<i32>,
}

impl FunctionCall<'_, '_> {
    /// Notes a trap of a nested guest call, so the outer call traps too (the guest may be
    /// in an inconsistent state).
    fn nested<T>(&mut self, r: sandlite_vm::Result<T>) -> Result<T> {
        r.map_err(|e| {
            let text = e.to_string();
            self.caller.data_mut().nested_trap.get_or_insert(text);
            Error::from(e)
        })
    }

    fn arg(&self, i: usize) -> Result<i32> {
        self.args
            .get(i)
            .copied()
            .ok_or_else(|| Error::Misuse(format!("argument {i} out of range")))
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// True when the function was called without arguments.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The type of argument `i`.
    ///
    /// # Errors
    /// A trap of the guest, or `i` out of range.
    pub fn value_type(&mut self, i: usize) -> Result<ValueType> {
        let v = self.arg(i)?;
        let r = self.exports.sqlite3_value_type.call(&mut *self.caller, v);
        Ok(ValueType::from_code(self.nested(r)?))
    }

    /// Argument `i` as an integer (SQLite's conversion rules).
    ///
    /// # Errors
    /// A trap of the guest, or `i` out of range.
    pub fn int64(&mut self, i: usize) -> Result<i64> {
        let v = self.arg(i)?;
        let r = self.exports.sqlite3_value_int64.call(&mut *self.caller, v);
        self.nested(r)
    }

    /// Argument `i` as a float (SQLite's conversion rules).
    ///
    /// # Errors
    /// A trap of the guest, or `i` out of range.
    pub fn double(&mut self, i: usize) -> Result<f64> {
        let v = self.arg(i)?;
        let r = self.exports.sqlite3_value_double.call(&mut *self.caller, v);
        self.nested(r)
    }

    /// Argument `i` as text (UTF-8 bytes), read in place in guest memory.
    ///
    /// # Errors
    /// A trap of the guest, or `i` out of range.
    pub fn text(&mut self, i: usize) -> Result<&[u8]> {
        self.bytes_of(i, true)
    }

    /// Argument `i` as a blob, read in place in guest memory.
    ///
    /// # Errors
    /// A trap of the guest, or `i` out of range.
    pub fn blob(&mut self, i: usize) -> Result<&[u8]> {
        self.bytes_of(i, false)
    }

    /// The bytes of argument `i` as text (`sqlite3_value_text`) or as a blob.
    fn bytes_of(&mut self, i: usize, text: bool) -> Result<&[u8]> {
        let v = self.arg(i)?;
        let r = if text {
            self.exports.sqlite3_value_text.call(&mut *self.caller, v)
        } else {
            self.exports.sqlite3_value_blob.call(&mut *self.caller, v)
        };
        let ptr = self.nested(r)?;
        let r = self.exports.sqlite3_value_bytes.call(&mut *self.caller, v);
        let len = self.nested(r)?;
        if ptr == 0 {
            return Ok(&[]);
        }
        let mem = self.memory.data(&*self.caller);
        guest::bytes(mem, ptr as u32, len.max(0) as usize).map_err(Error::Trap)
    }

    /// Sets a NULL result.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_null(&mut self) -> Result<()> {
        let r = self
            .exports
            .sqlite3_result_null
            .call(&mut *self.caller, self.ctx);
        self.nested(r)
    }

    /// Sets an integer result.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_int64(&mut self, v: i64) -> Result<()> {
        let r = self
            .exports
            .sqlite3_result_int64
            .call(&mut *self.caller, (self.ctx, v));
        self.nested(r)
    }

    /// Sets a float result.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_double(&mut self, v: f64) -> Result<()> {
        let r = self
            .exports
            .sqlite3_result_double
            .call(&mut *self.caller, (self.ctx, v));
        self.nested(r)
    }

    /// Copies `bytes` into a buffer SQLite then owns (freed with `sqlite3_free`).
    fn give(&mut self, bytes: &[u8]) -> Result<Option<i32>> {
        let r = self
            .exports
            .sqlite3_malloc64
            .call(&mut *self.caller, bytes.len().max(1) as i64);
        let ptr = self.nested(r)?;
        if ptr == 0 {
            return Ok(None);
        }
        self.memory
            .write(&mut *self.caller, ptr as u32 as usize, bytes)
            .map_err(|e| Error::Trap(sandlite_vm::Trap::host(e)))?;
        Ok(Some(ptr))
    }

    fn nomem(&mut self) -> Result<()> {
        let r = self
            .exports
            .sqlite3_result_error_code
            .call(&mut *self.caller, (self.ctx, ffi::SQLITE_NOMEM));
        self.nested(r)
    }

    /// Sets a text result (UTF-8).
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_text(&mut self, text: &[u8]) -> Result<()> {
        let Some(ptr) = self.give(text)? else {
            return self.nomem();
        };
        let free = self.caller.data().free_destructor;
        let r = self.exports.sqlite3_result_text64.call(
            &mut *self.caller,
            (self.ctx, ptr, text.len() as i64, free, ffi::SQLITE_UTF8),
        );
        self.nested(r)
    }

    /// Sets a blob result.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_blob(&mut self, blob: &[u8]) -> Result<()> {
        let Some(ptr) = self.give(blob)? else {
            return self.nomem();
        };
        let free = self.caller.data().free_destructor;
        let r = self
            .exports
            .sqlite3_result_blob64
            .call(&mut *self.caller, (self.ctx, ptr, blob.len() as i64, free));
        self.nested(r)
    }

    /// Sets a result of `n` zero bytes.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_zeroblob(&mut self, n: u64) -> Result<()> {
        let r = self
            .exports
            .sqlite3_result_zeroblob64
            .call(&mut *self.caller, (self.ctx, n as i64));
        self.nested(r).map(|_| ())
    }

    /// Makes the call fail with `message`.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_error(&mut self, message: &str) -> Result<()> {
        let r = self
            .exports
            .malloc
            .call(&mut *self.caller, message.len().max(1) as i32);
        let ptr = self.nested(r)?;
        if ptr == 0 {
            return self.nomem();
        }
        self.memory
            .write(&mut *self.caller, ptr as u32 as usize, message.as_bytes())
            .map_err(|e| Error::Trap(sandlite_vm::Trap::host(e)))?;
        let r = self
            .exports
            .sqlite3_result_error
            .call(&mut *self.caller, (self.ctx, ptr, message.len() as i32));
        self.nested(r)?;
        let r = self.exports.free.call(&mut *self.caller, ptr);
        self.nested(r)
    }

    /// The auxiliary data SQLite keeps for argument `arg` of this function
    /// (`sqlite3_get_auxdata`), if set and still valid.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn aux(&mut self, arg: i32) -> Result<Option<crate::vtab::HostValue>> {
        let r = self
            .exports
            .sandlite_get_auxdata
            .call(&mut *self.caller, (self.ctx, arg));
        let handle = self.nested(r)?;
        if handle == 0 {
            return Ok(None);
        }
        match self.caller.data().callbacks.get(&handle) {
            Some(Callback::Value(v)) => Ok(Some(v.clone())),
            _ => Ok(None),
        }
    }

    /// Makes SQLite keep `value` for argument `arg` while the argument stays the same
    /// (`sqlite3_set_auxdata`); it may drop it at any time.
    ///
    /// # Errors
    /// A trap of the guest.
    pub fn set_aux(&mut self, arg: i32, value: crate::vtab::HostValue) -> Result<()> {
        let handle = self.caller.data_mut().add_callback(Callback::Value(value));
        let r = self
            .exports
            .sandlite_set_auxdata
            .call(&mut *self.caller, (self.ctx, arg, handle));
        self.nested(r)
    }
}
