//! Virtual tables from Rust, in rusqlite's shapes: implement [`VTab`] (and
//! [`CreateVTab`] for tables made with `CREATE VIRTUAL TABLE`) and [`VTabCursor`], then
//! register the module with [`Connection::create_module`].
//!
//! SQLite runs inside the sandbox, so the `sqlite3_module` is the shim's: each of its
//! methods calls the host with a handle, and the host calls your table or cursor (see
//! ARCHITECTURE.md). Tables of an [`update_module`] are writable ([`UpdateVTab`]), and
//! those of an [`update_module_with_tx`] also see the transaction ([`TransactionVTab`]);
//! [`array`] (`rarray(?)`) and [`csvtab`] (`USING csv(...)`) are built on this module.
//!
//! ```
//! use sandlite_driver::vtab::{
//!     eponymous_only_module, Context, Filters, IndexInfo, VTab, VTabConnection, VTabCursor,
//! };
//! use sandlite_driver::{ffi, Connection, Result};
//! use std::marker::PhantomData;
//!
//! #[repr(C)]
//! struct Digits {
//!     base: ffi::sqlite3_vtab,
//! }
//!
//! // SAFETY: the cursor does not keep the borrow of the table.
//! unsafe impl<'vtab> VTab<'vtab> for Digits {
//!     type Aux = ();
//!     type Cursor = DigitsCursor<'vtab>;
//!     fn connect(_: &mut VTabConnection, _: Option<&()>, _: &[&[u8]]) -> Result<(String, Self)> {
//!         Ok(("CREATE TABLE x(d)".to_owned(), Digits { base: ffi::sqlite3_vtab::default() }))
//!     }
//!     fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
//!         info.set_estimated_cost(10.0);
//!         Ok(())
//!     }
//!     fn open(&mut self) -> Result<DigitsCursor<'_>> {
//!         Ok(DigitsCursor { base: ffi::sqlite3_vtab_cursor::default(), d: 0, phantom: PhantomData })
//!     }
//! }
//!
//! #[repr(C)]
//! struct DigitsCursor<'vtab> {
//!     base: ffi::sqlite3_vtab_cursor,
//!     d: i64,
//!     phantom: PhantomData<&'vtab Digits>,
//! }
//!
//! // SAFETY: nothing to uphold beyond the trait's rules.
//! unsafe impl VTabCursor for DigitsCursor<'_> {
//!     fn filter(&mut self, _: std::os::raw::c_int, _: Option<&str>, _: &Filters<'_>) -> Result<()> {
//!         self.d = 0;
//!         Ok(())
//!     }
//!     fn next(&mut self) -> Result<()> {
//!         self.d += 1;
//!         Ok(())
//!     }
//!     fn eof(&self) -> bool {
//!         self.d > 9
//!     }
//!     fn column(&self, ctx: &mut Context, _: std::os::raw::c_int) -> Result<()> {
//!         ctx.set_result(&self.d)
//!     }
//!     fn rowid(&self) -> Result<i64> {
//!         Ok(self.d)
//!     }
//! }
//!
//! let conn = Connection::open_in_memory()?;
//! conn.create_module("digits", eponymous_only_module::<Digits>(), None)?;
//! let sum: i64 = conn.query_row("SELECT sum(d) FROM digits", [], |r| r.get(0))?;
//! assert_eq!(sum, 45);
//! # Ok::<(), sandlite_driver::Error>(())
//! ```

pub mod array;
pub mod csvtab;
mod table;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::ffi;
use crate::types::{FromSql, FromSqlError, ToSql, ValueRef};
use sandlite_sqlite_wasm::{
    self as sys, FilterArg, FunctionCall, ModuleKind, ModuleWrites, TransactionOp,
};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::os::raw::c_int;
use table::{CursorToken, TableBox};

/// How a module's tables come to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VTabKind {
    /// Only with `CREATE VIRTUAL TABLE` (`xCreate` and `xConnect` differ).
    Default,
    /// With `CREATE VIRTUAL TABLE` and by the module's own name (`xCreate == xConnect`).
    Eponymous,
    /// Only by the module's own name, as a table-valued function (no `xCreate`).
    EponymousOnly,
}

/// `connect` or `create` of a table type.
type MakeTable<'vtab, T> =
    fn(&mut VTabConnection<'_>, Option<&<T as VTab<'vtab>>::Aux>, &[&[u8]]) -> Result<(String, T)>;

/// `xUpdate` of a table type: the new rowid for an insert.
type UpdateTable<T> = fn(&mut T, &[FilterArg]) -> Result<Option<i64>>;

/// `xBegin`/`xSync`/`xCommit`/`xRollback` of a table type.
type TransactTable<T> = fn(&mut T, TransactionOp) -> Result<()>;

/// A virtual-table module for tables of type `T`: [`read_only_module`],
/// [`eponymous_only_module`], [`update_module`] or [`update_module_with_tx`].
pub struct Module<'vtab, T: VTab<'vtab>> {
    kind: VTabKind,
    create: MakeTable<'vtab, T>,
    destroy: fn(&T) -> Result<()>,
    update: Option<UpdateTable<T>>,
    transaction: Option<TransactTable<T>>,
    phantom: PhantomData<fn() -> &'vtab T>,
}

struct Modules<'vtab, T>(PhantomData<fn() -> &'vtab T>);

fn no_destroy<T>(_: &T) -> Result<()> {
    Ok(())
}

impl<'vtab, T: CreateVTab<'vtab>> Modules<'vtab, T> {
    const READ_ONLY: Module<'vtab, T> = Module {
        kind: T::KIND,
        create: T::create,
        destroy: T::destroy,
        update: None,
        transaction: None,
        phantom: PhantomData,
    };
}

impl<'vtab, T: VTab<'vtab>> Modules<'vtab, T> {
    const EPONYMOUS_ONLY: Module<'vtab, T> = Module {
        kind: VTabKind::EponymousOnly,
        create: T::connect,
        destroy: no_destroy::<T>,
        update: None,
        transaction: None,
        phantom: PhantomData,
    };
}

impl<'vtab, T: UpdateVTab<'vtab>> Modules<'vtab, T> {
    const UPDATE: Module<'vtab, T> = Module {
        update: Some(update_table::<T>),
        ..Self::READ_ONLY
    };
}

impl<'vtab, T: TransactionVTab<'vtab>> Modules<'vtab, T> {
    const UPDATE_WITH_TX: Module<'vtab, T> = Module {
        transaction: Some(transact_table::<T>),
        ..Self::UPDATE
    };
}

/// Calls `delete`, `insert` or `update` as the arguments of `xUpdate` say (see
/// [`UpdateVTab`]).
fn update_table<'vtab, T: UpdateVTab<'vtab>>(
    table: &mut T,
    args: &[FilterArg],
) -> Result<Option<i64>> {
    match args {
        [] => Err(Error::ModuleError("xUpdate without arguments".into())),
        [old] => table.delete(value_ref(old)).map(|()| None),
        [FilterArg::Null, ..] => table.insert(&Values { args }).map(Some),
        _ => table.update(&Values { args }).map(|()| None),
    }
}

fn transact_table<'vtab, T: TransactionVTab<'vtab>>(
    table: &mut T,
    op: TransactionOp,
) -> Result<()> {
    match op {
        TransactionOp::Begin => table.begin(),
        TransactionOp::Sync => table.sync(),
        TransactionOp::Commit => table.commit(),
        TransactionOp::Rollback => table.rollback(),
    }
}

/// A read-only module whose tables are made as `T::KIND` says.
pub fn read_only_module<'vtab, T: CreateVTab<'vtab>>() -> &'static Module<'vtab, T> {
    &Modules::<'vtab, T>::READ_ONLY
}

/// A module usable only by its own name (a table-valued function such as `rarray`).
pub fn eponymous_only_module<'vtab, T: VTab<'vtab>>() -> &'static Module<'vtab, T> {
    &Modules::<'vtab, T>::EPONYMOUS_ONLY
}

/// A module whose tables (made as `T::KIND` says) take `INSERT`, `UPDATE` and `DELETE`
/// ([`UpdateVTab`]).
///
/// ```
/// use sandlite_driver::types::ValueRef;
/// use sandlite_driver::vtab::{
///     update_module, Context, CreateVTab, Filters, IndexInfo, UpdateVTab, VTab,
///     VTabConnection, VTabCursor, VTabKind, Values,
/// };
/// use sandlite_driver::{ffi, Connection, Error, Result};
/// use std::collections::BTreeMap;
/// use std::marker::PhantomData;
/// use std::sync::{Arc, Mutex};
///
/// /// `CREATE VIRTUAL TABLE t USING notes`: one text column, rows shared with cursors.
/// #[repr(C)]
/// struct Notes {
///     base: ffi::sqlite3_vtab,
///     rows: Arc<Mutex<BTreeMap<i64, String>>>,
/// }
///
/// // SAFETY: the cursor holds the rows' `Arc`, not a borrow of the table.
/// unsafe impl<'vtab> VTab<'vtab> for Notes {
///     type Aux = ();
///     type Cursor = NotesCursor<'vtab>;
///     fn connect(_: &mut VTabConnection, _: Option<&()>, _: &[&[u8]]) -> Result<(String, Self)> {
///         let rows = Arc::default();
///         Ok(("CREATE TABLE x(note)".to_owned(), Notes { base: Default::default(), rows }))
///     }
///     fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
///         info.set_estimated_cost(100.0);
///         Ok(())
///     }
///     fn open(&mut self) -> Result<NotesCursor<'_>> {
///         let rows: Vec<_> = self.rows.lock().unwrap().clone().into_iter().collect();
///         Ok(NotesCursor { base: Default::default(), rows, i: 0, phantom: PhantomData })
///     }
/// }
///
/// impl CreateVTab<'_> for Notes {
///     const KIND: VTabKind = VTabKind::Default;
/// }
///
/// impl UpdateVTab<'_> for Notes {
///     fn delete(&mut self, arg: ValueRef<'_>) -> Result<()> {
///         let rowid = arg.as_i64().map_err(|e| Error::ModuleError(e.to_string()))?;
///         self.rows.lock().unwrap().remove(&rowid);
///         Ok(())
///     }
///     fn insert(&mut self, args: &Values<'_>) -> Result<i64> {
///         let mut rows = self.rows.lock().unwrap();
///         let next = rows.keys().next_back().map_or(1, |last| last + 1);
///         let rowid = args.get::<Option<i64>>(1)?.unwrap_or(next);
///         rows.insert(rowid, args.get(2)?);
///         Ok(rowid)
///     }
///     fn update(&mut self, args: &Values<'_>) -> Result<()> {
///         let mut rows = self.rows.lock().unwrap();
///         rows.remove(&args.get::<i64>(0)?);
///         rows.insert(args.get(1)?, args.get(2)?);
///         Ok(())
///     }
/// }
///
/// /// A snapshot of the rows taken by `open`.
/// #[repr(C)]
/// struct NotesCursor<'vtab> {
///     base: ffi::sqlite3_vtab_cursor,
///     rows: Vec<(i64, String)>,
///     i: usize,
///     phantom: PhantomData<&'vtab Notes>,
/// }
///
/// // SAFETY: nothing beyond the trait's rules.
/// unsafe impl VTabCursor for NotesCursor<'_> {
///     fn filter(&mut self, _: std::os::raw::c_int, _: Option<&str>, _: &Filters<'_>) -> Result<()> {
///         self.i = 0;
///         Ok(())
///     }
///     fn next(&mut self) -> Result<()> {
///         self.i += 1;
///         Ok(())
///     }
///     fn eof(&self) -> bool {
///         self.i >= self.rows.len()
///     }
///     fn column(&self, ctx: &mut Context, _: std::os::raw::c_int) -> Result<()> {
///         ctx.set_result(&self.rows[self.i].1)
///     }
///     fn rowid(&self) -> Result<i64> {
///         Ok(self.rows[self.i].0)
///     }
/// }
///
/// let conn = Connection::open_in_memory()?;
/// conn.create_module("notes", update_module::<Notes>(), None)?;
/// conn.execute_batch(
///     "CREATE VIRTUAL TABLE t USING notes;
///      INSERT INTO t VALUES ('milk'), ('eggs');
///      UPDATE t SET note = 'bread', rowid = 10 WHERE note = 'eggs';
///      DELETE FROM t WHERE note = 'milk';",
/// )?;
/// let (rowid, note): (i64, String) =
///     conn.query_row("SELECT rowid, note FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
/// assert_eq!((rowid, note.as_str()), (10, "bread"));
/// # Ok::<(), sandlite_driver::Error>(())
/// ```
pub fn update_module<'vtab, T: UpdateVTab<'vtab>>() -> &'static Module<'vtab, T> {
    &Modules::<'vtab, T>::UPDATE
}

/// Like [`update_module`], with the transaction methods of [`TransactionVTab`].
pub fn update_module_with_tx<'vtab, T: TransactionVTab<'vtab>>() -> &'static Module<'vtab, T> {
    &Modules::<'vtab, T>::UPDATE_WITH_TX
}

/// Options for [`VTabConnection::config`] (`sqlite3_vtab_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VTabConfig {
    /// `SQLITE_VTAB_CONSTRAINT_SUPPORT`.
    ConstraintSupport,
    /// `SQLITE_VTAB_INNOCUOUS`.
    Innocuous,
    /// `SQLITE_VTAB_DIRECTONLY`.
    DirectOnly,
    /// `SQLITE_VTAB_USES_ALL_SCHEMAS`.
    UsesAllSchemas,
}

/// The connection as `connect`/`create` see it.
pub struct VTabConnection<'a> {
    inner: &'a mut dyn Configure,
}

trait Configure {
    fn configure(&mut self, op: i32, arg: i32) -> sys::Result<()>;
}

impl Configure for sys::VtabConnect<'_, '_> {
    fn configure(&mut self, op: i32, arg: i32) -> sys::Result<()> {
        self.config(op, arg)
    }
}

impl VTabConnection<'_> {
    /// `sqlite3_vtab_config`: declares how the table behaves.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn config(&mut self, config: VTabConfig) -> Result<()> {
        let (op, arg) = match config {
            VTabConfig::ConstraintSupport => (1, 1),
            VTabConfig::Innocuous => (2, 0),
            VTabConfig::DirectOnly => (3, 0),
            VTabConfig::UsesAllSchemas => (4, 0),
        };
        Ok(self.inner.configure(op, arg)?)
    }
}

/// A virtual table.
///
/// # Safety
/// Sandlite calls [`best_index`](Self::best_index) and [`open`](Self::open) again
/// while cursors are open, so a cursor must not keep the `&'vtab mut self` borrow that
/// `open` receives (hold a `PhantomData<&'vtab Self>`, as rusqlite's examples do, or
/// owned data). The trait is `unsafe` as rusqlite's is, so that `unsafe impl` code
/// ports; the `#[repr(C)]` and `base` field rusqlite requires are accepted and unused.
pub unsafe trait VTab<'vtab>: Sized {
    /// Data given to [`Connection::create_module`], passed to every `connect`.
    type Aux;
    /// The table's cursor.
    type Cursor: VTabCursor;

    /// Makes the table (`xConnect`): returns the `CREATE TABLE` statement that declares
    /// its columns, and the table. `args` are the module name, the database name, the
    /// table name and the arguments of `CREATE VIRTUAL TABLE`.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn connect(
        db: &mut VTabConnection<'_>,
        aux: Option<&Self::Aux>,
        args: &[&[u8]],
    ) -> Result<(String, Self)>;

    /// Chooses a plan for the constraints and order of a query (`xBestIndex`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn best_index(&self, info: &mut IndexInfo) -> Result<()>;

    /// Opens a cursor (`xOpen`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn open(&'vtab mut self) -> Result<Self::Cursor>;
}

/// A virtual table that `CREATE VIRTUAL TABLE` can make.
pub trait CreateVTab<'vtab>: VTab<'vtab> {
    /// Whether the module is also eponymous.
    const KIND: VTabKind;

    /// `xCreate`: like [`VTab::connect`], when the table is first created.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn create(
        db: &mut VTabConnection<'_>,
        aux: Option<&Self::Aux>,
        args: &[&[u8]],
    ) -> Result<(String, Self)> {
        Self::connect(db, aux, args)
    }

    /// `xDestroy` (`DROP TABLE`); an error keeps the table.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn destroy(&self) -> Result<()> {
        Ok(())
    }
}

/// A virtual table that `INSERT`, `UPDATE` and `DELETE` change
/// ([`xUpdate`](https://sqlite.org/vtab.html#xupdate)); register it with
/// [`update_module`].
///
/// The arguments are SQLite's: for `insert` and `update`, `args[0]` is the old rowid
/// (NULL for an insert), `args[1]` the new rowid (NULL for an insert that lets the table
/// choose; for an update it differs from `args[0]` when the statement changes the
/// rowid), then one value per declared column.
///
/// An error becomes the statement's error with its message; return
/// `Error::SqliteFailure` to choose the code (`SQLITE_CONSTRAINT` lets `INSERT OR IGNORE`
/// skip the row when `connect` declared [`VTabConfig::ConstraintSupport`]). A panic
/// becomes an error too. Cursors may be open while these run (a `DELETE ... WHERE`
/// scans the table): as they do not borrow the table, share the rows through an `Arc`
/// where both need them.
pub trait UpdateVTab<'vtab>: CreateVTab<'vtab> {
    /// Deletes the row with rowid `arg`.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn delete(&mut self, arg: ValueRef<'_>) -> Result<()>;
    /// Inserts a row (`args[0]` NULL, `args[1]` the rowid or NULL, then the columns);
    /// returns its rowid, which `last_insert_rowid` then reports.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn insert(&mut self, args: &Values<'_>) -> Result<i64>;
    /// Updates the row with rowid `args[0]` (`args[1]` its new rowid, then the columns).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn update(&mut self, args: &Values<'_>) -> Result<()>;
}

/// A writable virtual table that takes part in transactions
/// ([`xBegin`](https://sqlite.org/vtab.html#the_xbegin_method) and after); register it
/// with [`update_module_with_tx`].
///
/// SQLite calls `begin` before the first change a transaction makes to the table, then
/// `sync` and `commit`, or `rollback` (also when a statement in autocommit mode fails).
/// A failing `begin` fails the statement and a failing `sync` rolls the transaction
/// back; SQLite ignores errors of `commit` and `rollback`. The transaction of
/// `CREATE VIRTUAL TABLE` ends with `sync` and `commit` (or `rollback`) on the new table
/// without a `begin`. Statement rollbacks inside a transaction (savepoints) are not
/// reported.
pub trait TransactionVTab<'vtab>: UpdateVTab<'vtab> {
    /// Starts a transaction.
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn begin(&mut self) -> Result<()> {
        Ok(())
    }
    /// Prepares to commit (the first phase of a two-phase commit).
    ///
    /// # Errors
    /// Rolls the transaction back.
    fn sync(&mut self) -> Result<()> {
        Ok(())
    }
    /// Commits the transaction.
    ///
    /// # Errors
    /// Ignored by SQLite.
    fn commit(&mut self) -> Result<()> {
        Ok(())
    }
    /// Abandons the transaction.
    ///
    /// # Errors
    /// Ignored by SQLite.
    fn rollback(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A cursor over a virtual table.
///
/// # Safety
/// Nothing beyond the trait's contract; `unsafe` as in rusqlite, so its code ports.
pub unsafe trait VTabCursor: Sized {
    /// Starts a scan (`xFilter`) with the plan `best_index` chose and the values of the
    /// constraints it asked for (in `argv_index` order).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn filter(&mut self, idx_num: c_int, idx_str: Option<&str>, args: &Filters<'_>) -> Result<()>;
    /// Moves to the next row (`xNext`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn next(&mut self) -> Result<()>;
    /// True past the last row (`xEof`).
    fn eof(&self) -> bool;
    /// Sets column `i` of the current row on `ctx` (`xColumn`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()>;
    /// The current row's rowid (`xRowid`).
    ///
    /// # Errors
    /// Becomes the SQL error.
    fn rowid(&self) -> Result<i64>;
}

/// Where a cursor's column value goes.
pub struct Context<'a, 'b, 'c> {
    call: &'a mut FunctionCall<'b, 'c>,
}

impl Context<'_, '_, '_> {
    /// Sets the column's value.
    ///
    /// # Errors
    /// A conversion error of `value`.
    pub fn set_result<T: ToSql + ?Sized>(&mut self, value: &T) -> Result<()> {
        let out = value.to_sql()?;
        crate::functions::set_result(self.call, out)
    }
}

/// The arguments of `xFilter` or `xUpdate`.
pub struct Values<'a> {
    args: &'a [FilterArg],
}

/// rusqlite's name for the arguments of [`VTabCursor::filter`].
pub type Filters<'a> = Values<'a>;

fn value_ref(arg: &FilterArg) -> ValueRef<'_> {
    match arg {
        FilterArg::Null | FilterArg::Pointer(_) => ValueRef::Null,
        FilterArg::Integer(i) => ValueRef::Integer(*i),
        FilterArg::Real(r) => ValueRef::Real(*r),
        FilterArg::Text(t) => ValueRef::Text(t),
        FilterArg::Blob(b) => ValueRef::Blob(b),
    }
}

impl<'a> Values<'a> {
    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// True without arguments.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `idx` as `T`.
    ///
    /// # Errors
    /// An index past the last argument, or a value that does not convert.
    pub fn get<T: FromSql>(&self, idx: usize) -> Result<T> {
        let arg = self.args.get(idx).ok_or(Error::InvalidColumnIndex(idx))?;
        let v = value_ref(arg);
        T::column_result(v).map_err(|e| match e {
            FromSqlError::InvalidType => Error::InvalidFilterParameterType(idx, v.data_type()),
            FromSqlError::OutOfRange(i) => Error::IntegralValueOutOfRange(idx, i),
            FromSqlError::Other(source) => {
                Error::FromSqlConversionFailure(idx, v.data_type(), source)
            }
            e => Error::FromSqlConversionFailure(idx, v.data_type(), Box::new(e)),
        })
    }

    /// The arguments as SQLite values.
    pub fn iter(&self) -> ValueIter<'a> {
        ValueIter {
            iter: self.args.iter(),
        }
    }

    /// An array bound with `ToSqlOutput::Array` (for `rarray`).
    pub(crate) fn array(&self, idx: usize) -> Option<array::SharedArray> {
        match self.args.get(idx)? {
            FilterArg::Pointer(p) => p.clone().downcast::<Vec<crate::types::Value>>().ok(),
            _ => None,
        }
    }
}

impl<'a> IntoIterator for &Values<'a> {
    type Item = ValueRef<'a>;
    type IntoIter = ValueIter<'a>;
    fn into_iter(self) -> ValueIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Values`].
pub struct ValueIter<'a> {
    iter: std::slice::Iter<'a, FilterArg>,
}

impl<'a> Iterator for ValueIter<'a> {
    type Item = ValueRef<'a>;
    fn next(&mut self) -> Option<ValueRef<'a>> {
        self.iter.next().map(value_ref)
    }
}

/// The operator of a constraint `xBestIndex` sees.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexConstraintOp {
    SQLITE_INDEX_CONSTRAINT_EQ,
    SQLITE_INDEX_CONSTRAINT_GT,
    SQLITE_INDEX_CONSTRAINT_LE,
    SQLITE_INDEX_CONSTRAINT_LT,
    SQLITE_INDEX_CONSTRAINT_GE,
    SQLITE_INDEX_CONSTRAINT_MATCH,
    SQLITE_INDEX_CONSTRAINT_LIKE,
    SQLITE_INDEX_CONSTRAINT_GLOB,
    SQLITE_INDEX_CONSTRAINT_REGEXP,
    SQLITE_INDEX_CONSTRAINT_NE,
    SQLITE_INDEX_CONSTRAINT_ISNOT,
    SQLITE_INDEX_CONSTRAINT_ISNOTNULL,
    SQLITE_INDEX_CONSTRAINT_ISNULL,
    SQLITE_INDEX_CONSTRAINT_IS,
    SQLITE_INDEX_CONSTRAINT_LIMIT,
    SQLITE_INDEX_CONSTRAINT_OFFSET,
    /// An overloaded function (`xFindFunction`), with its code (150 and above).
    SQLITE_INDEX_CONSTRAINT_FUNCTION(u8),
}

impl From<u8> for IndexConstraintOp {
    fn from(code: u8) -> IndexConstraintOp {
        use IndexConstraintOp::*;
        match code {
            2 => SQLITE_INDEX_CONSTRAINT_EQ,
            4 => SQLITE_INDEX_CONSTRAINT_GT,
            8 => SQLITE_INDEX_CONSTRAINT_LE,
            16 => SQLITE_INDEX_CONSTRAINT_LT,
            32 => SQLITE_INDEX_CONSTRAINT_GE,
            64 => SQLITE_INDEX_CONSTRAINT_MATCH,
            65 => SQLITE_INDEX_CONSTRAINT_LIKE,
            66 => SQLITE_INDEX_CONSTRAINT_GLOB,
            67 => SQLITE_INDEX_CONSTRAINT_REGEXP,
            68 => SQLITE_INDEX_CONSTRAINT_NE,
            69 => SQLITE_INDEX_CONSTRAINT_ISNOT,
            70 => SQLITE_INDEX_CONSTRAINT_ISNOTNULL,
            71 => SQLITE_INDEX_CONSTRAINT_ISNULL,
            72 => SQLITE_INDEX_CONSTRAINT_IS,
            73 => SQLITE_INDEX_CONSTRAINT_LIMIT,
            74 => SQLITE_INDEX_CONSTRAINT_OFFSET,
            other => SQLITE_INDEX_CONSTRAINT_FUNCTION(other),
        }
    }
}

/// Flags for [`IndexInfo::set_idx_flags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IndexFlags(i32);

impl IndexFlags {
    /// The scan visits at most one row.
    pub const SQLITE_INDEX_SCAN_UNIQUE: IndexFlags = IndexFlags(1);
    /// Show `idxNum` in hex in `EXPLAIN QUERY PLAN`.
    pub const SQLITE_INDEX_SCAN_HEX: IndexFlags = IndexFlags(2);

    /// No flags.
    pub const fn empty() -> IndexFlags {
        IndexFlags(0)
    }

    /// The flags as SQLite's bits.
    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl std::ops::BitOr for IndexFlags {
    type Output = IndexFlags;
    fn bitor(self, rhs: IndexFlags) -> IndexFlags {
        IndexFlags(self.0 | rhs.0)
    }
}

/// What [`VTab::best_index`] reads (constraints, order) and decides (which constraint
/// values `filter` gets, the plan's number and cost).
pub struct IndexInfo(sys::IndexInfo);

impl IndexInfo {
    /// The `WHERE` constraints on the table.
    pub fn constraints(&self) -> IndexConstraintIter<'_> {
        IndexConstraintIter {
            iter: self.0.constraints.iter(),
        }
    }

    /// The number of constraints.
    pub fn num_of_constraint(&self) -> usize {
        self.0.constraints.len()
    }

    /// Each constraint with the usage that asks for its value in `filter`.
    pub fn constraints_and_usages(&mut self) -> IndexConstraintAndUsageIter<'_> {
        IndexConstraintAndUsageIter {
            iter: self.0.constraints.iter().zip(self.0.usages.iter_mut()),
        }
    }

    /// The usage of constraint `constraint_idx`.
    ///
    /// # Panics
    /// If `constraint_idx` is not below [`num_of_constraint`](Self::num_of_constraint).
    pub fn constraint_usage(&mut self, constraint_idx: usize) -> IndexConstraintUsage<'_> {
        IndexConstraintUsage(&mut self.0.usages[constraint_idx])
    }

    /// The `ORDER BY` terms.
    pub fn order_bys(&self) -> OrderByIter<'_> {
        OrderByIter {
            iter: self.0.order_bys.iter(),
        }
    }

    /// The number of `ORDER BY` terms.
    pub fn num_of_order_by(&self) -> usize {
        self.0.order_bys.len()
    }

    /// The plan's number, passed to `filter`.
    pub fn set_idx_num(&mut self, idx_num: c_int) {
        self.0.idx_num = idx_num;
    }

    /// The plan's string, passed to `filter`.
    pub fn set_idx_str(&mut self, idx_str: &str) {
        self.0.idx_str = Some(idx_str.to_owned());
    }

    /// The rows come out in the `ORDER BY` order already.
    pub fn set_order_by_consumed(&mut self, order_by_consumed: bool) {
        self.0.order_by_consumed = order_by_consumed;
    }

    /// The plan's cost (disk reads, roughly).
    pub fn set_estimated_cost(&mut self, estimated_cost: f64) {
        self.0.estimated_cost = estimated_cost;
    }

    /// The number of rows the plan returns.
    pub fn set_estimated_rows(&mut self, estimated_rows: i64) {
        self.0.estimated_rows = estimated_rows;
    }

    /// Flags of the plan.
    pub fn set_idx_flags(&mut self, flags: IndexFlags) {
        self.0.idx_flags = flags.bits();
    }

    /// The columns the statement uses (bit N for column N; bit 63 for any above 62).
    pub fn col_used(&self) -> u64 {
        self.0.col_used
    }
}

/// One constraint.
pub struct IndexConstraint<'a>(&'a sys::Constraint);

impl IndexConstraint<'_> {
    /// The constrained column (-1 for the rowid).
    pub fn column(&self) -> c_int {
        self.0.column
    }

    /// The operator.
    pub fn operator(&self) -> IndexConstraintOp {
        IndexConstraintOp::from(self.0.op)
    }

    /// False when the plan may not use it (it depends on a table scanned later).
    pub fn is_usable(&self) -> bool {
        self.0.usable
    }
}

/// What `filter` gets of one constraint.
pub struct IndexConstraintUsage<'a>(&'a mut (i32, bool));

impl IndexConstraintUsage<'_> {
    /// Pass the constraint's value to `filter` as argument `argv_index - 1` (1-based; 0
    /// passes nothing).
    pub fn set_argv_index(&mut self, argv_index: c_int) {
        self.0.0 = argv_index;
    }

    /// SQLite need not check the constraint again.
    pub fn set_omit(&mut self, omit: bool) {
        self.0.1 = omit;
    }
}

/// One `ORDER BY` term.
pub struct OrderBy<'a>(&'a (i32, bool));

impl OrderBy<'_> {
    /// The column.
    pub fn column(&self) -> c_int {
        self.0.0
    }

    /// True for `DESC`.
    pub fn is_order_by_desc(&self) -> bool {
        self.0.1
    }
}

/// Iterator over the constraints.
pub struct IndexConstraintIter<'a> {
    iter: std::slice::Iter<'a, sys::Constraint>,
}

impl<'a> Iterator for IndexConstraintIter<'a> {
    type Item = IndexConstraint<'a>;
    fn next(&mut self) -> Option<IndexConstraint<'a>> {
        self.iter.next().map(IndexConstraint)
    }
}

/// Iterator over the constraints with their usages.
pub struct IndexConstraintAndUsageIter<'a> {
    iter:
        std::iter::Zip<std::slice::Iter<'a, sys::Constraint>, std::slice::IterMut<'a, (i32, bool)>>,
}

impl<'a> Iterator for IndexConstraintAndUsageIter<'a> {
    type Item = (IndexConstraint<'a>, IndexConstraintUsage<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        self.iter
            .next()
            .map(|(c, u)| (IndexConstraint(c), IndexConstraintUsage(u)))
    }
}

/// Iterator over the `ORDER BY` terms.
pub struct OrderByIter<'a> {
    iter: std::slice::Iter<'a, (i32, bool)>,
}

impl<'a> Iterator for OrderByIter<'a> {
    type Item = OrderBy<'a>;
    fn next(&mut self) -> Option<OrderBy<'a>> {
        self.iter.next().map(OrderBy)
    }
}

/// `identifier` with its double quotes doubled, for a `CREATE TABLE` declaration.
pub fn escape_double_quote(identifier: &str) -> Cow<'_, str> {
    if identifier.contains('"') {
        Cow::Owned(identifier.replace('"', "\"\""))
    } else {
        Cow::Borrowed(identifier)
    }
}

/// `s` without one pair of surrounding quotes (`'`, `"`, `` ` `` or `[...]`).
pub fn dequote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() < 2 {
        return s;
    }
    match (b[0], b[b.len() - 1]) {
        (b'\'', b'\'') | (b'"', b'"') | (b'`', b'`') | (b'[', b']') => &s[1..s.len() - 1],
        _ => s,
    }
}

/// `yes`/`on`/`true`/`1` or `no`/`off`/`false`/`0` (any case), else `None`.
pub fn parse_boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" => Some(true),
        "no" | "off" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// A `key=value` argument of `CREATE VIRTUAL TABLE`, both trimmed (the value dequoted).
///
/// # Errors
/// [`Error::ModuleError`] when `c_slice` is not UTF-8 or has no `=`.
pub fn parameter(c_slice: &[u8]) -> Result<(&str, &str)> {
    let arg = std::str::from_utf8(c_slice)
        .map_err(|_| Error::ModuleError("virtual table argument is not UTF-8".into()))?
        .trim();
    match arg.split_once('=') {
        Some((key, value)) => Ok((key.trim(), dequote(value.trim()))),
        None => Err(Error::ModuleError(format!("illegal argument: '{arg}'"))),
    }
}

/// A driver error as the message SQLite reports.
fn message(e: Error) -> String {
    match e {
        Error::ModuleError(m) => m,
        e => e.to_string(),
    }
}

/// A driver error as the code and message SQLite reports from a write method: an
/// `Error::SqliteFailure` keeps its (extended) code, anything else is `SQLITE_ERROR`.
fn write_error(e: Error) -> sys::VtabError {
    match e {
        Error::SqliteFailure(err, msg) if err.extended_code != ffi::SQLITE_OK => sys::VtabError {
            code: err.extended_code,
            message: msg.unwrap_or_else(|| err.to_string()),
        },
        e => sys::VtabError::from(message(e)),
    }
}

/// Adapts a [`Module`] to the binding's module interface.
struct ModuleAdapter<T: VTab<'static> + 'static> {
    module: &'static Module<'static, T>,
    aux: Option<T::Aux>,
}

impl<T> sys::VtabModule for ModuleAdapter<T>
where
    T: VTab<'static> + Send + 'static,
    T::Aux: Send,
    T::Cursor: Send + 'static,
{
    fn connect(
        &mut self,
        conn: &mut sys::VtabConnect<'_, '_>,
        create: bool,
        args: &[&[u8]],
    ) -> Result<(String, Box<dyn sys::VtabTable>), String> {
        let mut db = VTabConnection { inner: conn };
        let make: MakeTable<'static, T> = if create {
            self.module.create
        } else {
            T::connect
        };
        let (sql, table) = make(&mut db, self.aux.as_ref(), args).map_err(message)?;
        let table: Box<dyn sys::VtabTable> = Box::new(TableAdapter {
            table: TableBox::new(table),
            destroy: self.module.destroy,
            update: self.module.update,
            transaction: self.module.transaction,
        });
        Ok((sql, table))
    }
}

struct TableAdapter<T> {
    table: TableBox<T>,
    destroy: fn(&T) -> Result<()>,
    update: Option<UpdateTable<T>>,
    transaction: Option<TransactTable<T>>,
}

impl<T> sys::VtabTable for TableAdapter<T>
where
    T: VTab<'static> + Send + 'static,
    T::Cursor: Send + 'static,
{
    fn best_index(&mut self, info: &mut sys::IndexInfo) -> Result<(), String> {
        let mut wrapped = IndexInfo(std::mem::take(info));
        let r = self.table.get().best_index(&mut wrapped);
        *info = wrapped.0;
        r.map_err(message)
    }

    fn open(&mut self) -> Result<Box<dyn sys::VtabCursor>, String> {
        let token = self.table.token();
        let cursor = T::open(self.table.open_borrow()).map_err(message)?;
        Ok(Box::new(CursorAdapter {
            cursor,
            _token: token,
        }))
    }

    fn destroy(&mut self) -> Result<(), String> {
        (self.destroy)(self.table.get()).map_err(message)
    }

    fn update(&mut self, args: Vec<FilterArg>) -> Result<Option<i64>, sys::VtabError> {
        let Some(update) = self.update else {
            return Err(sys::VtabError::from("the table is read-only".to_owned()));
        };
        update(self.table.get_mut(), &args).map_err(write_error)
    }

    fn transaction(&mut self, op: TransactionOp) -> Result<(), sys::VtabError> {
        match self.transaction {
            Some(transact) => transact(self.table.get_mut(), op).map_err(write_error),
            None => Ok(()),
        }
    }
}

/// A cursor and the token that keeps its table allocated.
struct CursorAdapter<C> {
    // Dropped before the token (fields drop in order).
    cursor: C,
    _token: CursorToken,
}

impl<C: VTabCursor + Send> sys::VtabCursor for CursorAdapter<C> {
    fn filter(
        &mut self,
        idx_num: i32,
        idx_str: Option<&str>,
        args: Vec<FilterArg>,
    ) -> Result<(), String> {
        let values = Values { args: &args };
        self.cursor
            .filter(idx_num, idx_str, &values)
            .map_err(message)
    }

    fn next(&mut self) -> Result<(), String> {
        self.cursor.next().map_err(message)
    }

    fn eof(&self) -> bool {
        self.cursor.eof()
    }

    fn column(&mut self, call: &mut FunctionCall<'_, '_>, column: i32) -> Result<(), String> {
        let mut ctx = Context { call };
        self.cursor.column(&mut ctx, column).map_err(message)
    }

    fn rowid(&mut self) -> Result<i64, String> {
        self.cursor.rowid().map_err(message)
    }
}

impl Connection {
    /// Registers the virtual-table module `module_name` (rusqlite's `create_module`).
    /// Tables, cursors and `aux` live in the connection, which is `Send`: they must be
    /// `Send` too.
    ///
    /// # Errors
    /// SQLite's error (e.g. a name with a NUL byte).
    pub fn create_module<T>(
        &self,
        module_name: &str,
        module: &'static Module<'static, T>,
        aux: Option<T::Aux>,
    ) -> Result<()>
    where
        T: VTab<'static> + Send + 'static,
        T::Aux: Send + 'static,
        T::Cursor: Send + 'static,
    {
        let kind = match module.kind {
            VTabKind::Default => ModuleKind::Default,
            VTabKind::Eponymous => ModuleKind::Eponymous,
            VTabKind::EponymousOnly => ModuleKind::EponymousOnly,
        };
        let writes = match (module.update.is_some(), module.transaction.is_some()) {
            (false, _) => ModuleWrites::ReadOnly,
            (true, false) => ModuleWrites::Update,
            (true, true) => ModuleWrites::UpdateAndTransactions,
        };
        let adapter = Box::new(ModuleAdapter { module, aux });
        let mut inner = self.inner()?;
        let db = inner.db;
        inner
            .sqlite
            .create_module(db, module_name, kind, writes, adapter)?;
        Ok(())
    }
}
