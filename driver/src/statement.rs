//! Prepared statements, streaming rows, and typed access to columns.

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::params::{Params, count_mismatch};
use crate::types::{FromSql, FromSqlError, ToSql, ToSqlOutput, ValueRef};
use sandlite_sqlite_wasm::{RawColumn, Stmt, ValueType, ffi};
use std::cell::{Cell, OnceCell, RefCell};

/// The counters of [`Statement::get_status`] (`SQLITE_STMTSTATUS_*`), as rusqlite's
/// `StatementStatus`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementStatus {
    /// Steps forward in a table as part of a full table scan.
    FullscanStep = ffi::SQLITE_STMTSTATUS_FULLSCAN_STEP,
    /// Sort operations.
    Sort = ffi::SQLITE_STMTSTATUS_SORT,
    /// Rows inserted into transient automatic indexes.
    AutoIndex = ffi::SQLITE_STMTSTATUS_AUTOINDEX,
    /// Virtual-machine operations run.
    VmStep = ffi::SQLITE_STMTSTATUS_VM_STEP,
    /// Times the statement was prepared again after a schema change.
    RePrepare = ffi::SQLITE_STMTSTATUS_REPREPARE,
    /// Times the statement ran (stepped after a reset).
    Run = ffi::SQLITE_STMTSTATUS_RUN,
    /// Rows a Bloom filter let through that matched nothing.
    FilterMiss = ffi::SQLITE_STMTSTATUS_FILTER_MISS,
    /// Rows a Bloom filter rejected.
    FilterHit = ffi::SQLITE_STMTSTATUS_FILTER_HIT,
    /// Bytes of memory the statement uses (not a counter: resetting leaves it).
    MemUsed = ffi::SQLITE_STMTSTATUS_MEMUSED,
}

/// A prepared statement. Dropping it finalizes it (or returns it to the cache, for
/// [`CachedStatement`](crate::CachedStatement)).
pub struct Statement<'conn> {
    pub(crate) conn: &'conn Connection,
    pub(crate) stmt: Stmt,
    /// Present until the statement is finalized or handed back to the cache.
    state: Option<RawStatement>,
    finalize_on_drop: bool,
}

/// What a statement learned about itself and where it is, boxed so the statement cache
/// moves a pointer when it hands a statement out and takes it back.
pub(crate) type RawStatement = Box<StatementState>;

pub(crate) struct StatementState {
    pub(crate) stmt: Stmt,
    column_names: OnceCell<Vec<String>>,
    parameter_count: OnceCell<usize>,
    /// Between a step and the statement's end or reset (counted as running for
    /// interrupts).
    running: Cell<bool>,
    /// Stepped since the last reset: needs a reset before new bindings.
    dirty: Cell<bool>,
    /// Has bindings.
    bound: Cell<bool>,
    /// The bindings are a previous user's (left by the statement cache): cleared before
    /// anything could see them, unless a full positional binding replaces them all.
    stale: Cell<bool>,
    /// The current row's columns, read by the step that produced it.
    row: RefCell<Vec<RawColumn>>,
}

impl StatementState {
    pub(crate) fn new(stmt: Stmt) -> RawStatement {
        Box::new(StatementState {
            stmt,
            column_names: OnceCell::new(),
            parameter_count: OnceCell::new(),
            running: Cell::new(false),
            dirty: Cell::new(false),
            bound: Cell::new(false),
            stale: Cell::new(false),
            row: RefCell::new(Vec::new()),
        })
    }
}

impl std::fmt::Debug for Statement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("stmt", &self.stmt)
            .finish()
    }
}

impl<'conn> Statement<'conn> {
    pub(crate) fn new(conn: &'conn Connection, stmt: Stmt) -> Statement<'conn> {
        Statement::from_raw(conn, StatementState::new(stmt))
    }

    /// A statement from the cache: bindings it carries are the previous user's.
    pub(crate) fn from_raw(conn: &'conn Connection, raw: RawStatement) -> Statement<'conn> {
        raw.stale.set(raw.bound.get());
        Statement {
            conn,
            stmt: raw.stmt,
            state: Some(raw),
            finalize_on_drop: true,
        }
    }

    /// Gives up the handle (reset) without finalizing it, with what it learned.
    pub(crate) fn into_raw(mut self) -> RawStatement {
        let _ = self.reset();
        self.finalize_on_drop = false;
        self.state.take().expect("present until finalized")
    }

    fn st(&self) -> &StatementState {
        self.state.as_deref().expect("present until finalized")
    }

    fn set_running(&self, running: bool) {
        if self.st().running.get() == running {
            return;
        }
        self.st().running.set(running);
        if running {
            self.conn.begin_running();
        } else {
            self.conn.end_running();
        }
    }

    /// One step: `true` when a row is ready. With `read_row`, the row's columns are
    /// read in the same guest call (for [`with_column`](Self::with_column)).
    pub(crate) fn step(&self, read_row: bool) -> Result<bool> {
        self.clear_stale_bindings()?;
        self.set_running(true);
        self.st().dirty.set(true);
        let r = if read_row {
            let columns = self.column_count();
            let mut row = self
                .st()
                .row
                .try_borrow_mut()
                .map_err(|_| Error::ReentrantUse)?;
            self.conn
                .inner()?
                .sqlite
                .step_row(self.stmt, columns, &mut row)
        } else {
            self.conn.inner()?.sqlite.step(self.stmt)
        };
        if !matches!(r, Ok(true)) {
            self.set_running(false);
        }
        Ok(r?)
    }

    /// Resets the statement if it has been stepped since the last reset.
    pub(crate) fn reset(&self) -> Result<()> {
        self.set_running(false);
        if self.st().dirty.replace(false) {
            if let Ok(mut row) = self.st().row.try_borrow_mut() {
                row.clear();
            }
            self.conn.inner()?.sqlite.reset(self.stmt)?;
        }
        Ok(())
    }

    /// Clears bindings a previous user of the cached statement left, before they could
    /// be seen.
    fn clear_stale_bindings(&self) -> Result<()> {
        if self.st().stale.get() {
            self.conn.inner()?.sqlite.clear_bindings(self.stmt)?;
            self.st().stale.set(false);
            self.st().bound.set(false);
        }
        Ok(())
    }

    pub(crate) fn bind_positional<'a>(
        &mut self,
        values: impl Iterator<Item = &'a dyn ToSql>,
        given: usize,
    ) -> Result<()> {
        let expected = self.parameter_count();
        if given != expected {
            return Err(count_mismatch(given, expected));
        }
        for (i, v) in values.enumerate() {
            self.bind_value(i + 1, v)?;
        }
        // Every parameter now has this call's value: nothing stale is left.
        self.st().stale.set(false);
        Ok(())
    }

    pub(crate) fn bind_named(&mut self, values: &[(&str, &dyn ToSql)]) -> Result<()> {
        for (name, v) in values {
            let i = self
                .parameter_index(name)?
                .ok_or_else(|| Error::InvalidParameterName((*name).to_owned()))?;
            self.raw_bind_parameter(i, *v)?;
        }
        Ok(())
    }

    /// Binds one parameter by 1-based index.
    ///
    /// # Errors
    /// A conversion error, or SQLite's (`SQLITE_RANGE` for a bad index).
    pub fn raw_bind_parameter(&mut self, index: usize, value: &dyn ToSql) -> Result<()> {
        self.clear_stale_bindings()?;
        self.bind_value(index, value)
    }

    fn bind_value(&mut self, index: usize, value: &dyn ToSql) -> Result<()> {
        let out = value.to_sql()?;
        let i = i32::try_from(index).map_err(|_| Error::InvalidParameterName(index.to_string()))?;
        self.st().bound.set(true);
        let mut inner = self.conn.inner()?;
        let s = &mut inner.sqlite;
        match out {
            ToSqlOutput::ZeroBlob(n) => s.bind_zeroblob(self.stmt, i, n)?,
            // The guest keeps a handle; the host keeps a copy (an `Rc` cannot cross
            // threads with the connection).
            ToSqlOutput::Array(a) => {
                let copy = sandlite_sqlite_wasm::alloc::vec_with_capacity(a.len())
                    .map(|mut v| {
                        v.extend(a.iter().cloned());
                        v
                    })
                    .map_err(|e| Error::ToSqlConversionFailure(Box::new(e)))?;
                s.bind_pointer(self.stmt, i, std::sync::Arc::new(copy))?
            }
            ref o => match o.value_ref().expect("not a zeroblob or an array") {
                ValueRef::Null => s.bind_null(self.stmt, i)?,
                ValueRef::Integer(v) => s.bind_int64(self.stmt, i, v)?,
                ValueRef::Real(v) => s.bind_double(self.stmt, i, v)?,
                ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(text) => s.bind_text(self.stmt, i, text)?,
                    Err(_) => s.bind_text(self.stmt, i, &String::from_utf8_lossy(t))?,
                },
                ValueRef::Blob(b) => s.bind_blob(self.stmt, i, b)?,
            },
        }
        Ok(())
    }

    /// Runs the statement with `params`; returns the number of rows changed.
    ///
    /// # Errors
    /// SQLite's error, parameter errors, [`Error::ExecuteReturnedResults`] if it returns
    /// rows.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.reset()?;
        params.bind_in(self)?;
        self.raw_execute()
    }

    /// Runs the statement with the parameters bound so far.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub fn raw_execute(&mut self) -> Result<usize> {
        let has_row = self.step(false);
        let reset = self.reset();
        if has_row? {
            return Err(Error::ExecuteReturnedResults);
        }
        reset?;
        Ok(self.conn.changes() as usize)
    }

    /// Runs an INSERT and returns the new rowid.
    ///
    /// # Errors
    /// As [`execute`](Self::execute); a misuse error if it did not change exactly one row.
    pub fn insert<P: Params>(&mut self, params: P) -> Result<i64> {
        let changed = self.execute(params)?;
        if changed != 1 {
            return Err(Error::StatementChangedRows(changed));
        }
        Ok(self.conn.last_insert_rowid())
    }

    /// Binds `params` and returns the rows, streamed one at a time.
    ///
    /// # Errors
    /// Parameter errors.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        self.reset()?;
        params.bind_in(self)?;
        Ok(Rows::new(self))
    }

    /// The rows with the parameters bound so far.
    pub fn raw_query(&mut self) -> Rows<'_> {
        Rows::new(self)
    }

    /// An iterator of `f(row)` over the rows.
    ///
    /// # Errors
    /// Parameter errors (row errors come from the iterator).
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            map: f,
        })
    }

    /// An iterator of `f(row)` where `f` returns its own error type.
    ///
    /// # Errors
    /// Parameter errors.
    pub fn query_and_then<T, E, P, F>(&mut self, params: P, f: F) -> Result<AndThenRows<'_, F>>
    where
        P: Params,
        E: From<Error>,
        F: FnMut(&Row<'_>) -> Result<T, E>,
    {
        Ok(AndThenRows {
            rows: self.query(params)?,
            map: f,
        })
    }

    /// The first row mapped by `f`.
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`] without rows; others as `query`.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        let row = rows.next()?.ok_or(Error::QueryReturnedNoRows)?;
        f(row)
    }

    /// The only row, mapped by `f` (rusqlite's `query_one`).
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`] without rows,
    /// [`Error::QueryReturnedMoreThanOneRow`] with more than one; others as `query`.
    pub fn query_one<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        let row = rows.next()?.ok_or(Error::QueryReturnedNoRows)?;
        let value = f(row)?;
        if rows.next()?.is_some() {
            return Err(Error::QueryReturnedMoreThanOneRow);
        }
        Ok(value)
    }

    /// The result columns, with their names and declared types.
    pub fn columns(&self) -> Vec<Column<'_>> {
        (0..self.column_count())
            .map(|i| Column {
                name: self.column_names_owned()[i].as_str(),
                decl_type: self.column_decltype(i).ok().flatten(),
            })
            .collect()
    }

    /// True if the query returns at least one row.
    ///
    /// # Errors
    /// As `query`.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut rows = self.query(params)?;
        Ok(rows.next()?.is_some())
    }

    pub fn column_count(&self) -> usize {
        self.column_names_owned().len()
    }

    fn column_names_owned(&self) -> &Vec<String> {
        self.st().column_names.get_or_init(|| {
            let Ok(mut inner) = self.conn.inner() else {
                return Vec::new();
            };
            let n = inner.sqlite.column_count(self.stmt).unwrap_or(0);
            (0..n)
                .map(|i| {
                    inner
                        .sqlite
                        .column_name(self.stmt, i)
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                })
                .collect()
        })
    }

    /// The names of the result columns.
    pub fn column_names(&self) -> Vec<&str> {
        self.column_names_owned()
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// The name of column `i`.
    ///
    /// # Errors
    /// [`Error::InvalidColumnIndex`].
    pub fn column_name(&self, i: usize) -> Result<&str> {
        self.column_names_owned()
            .get(i)
            .map(String::as_str)
            .ok_or(Error::InvalidColumnIndex(i))
    }

    /// The index of the column called `name` (ASCII case-insensitive).
    ///
    /// # Errors
    /// [`Error::InvalidColumnName`].
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.column_names_owned()
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::InvalidColumnName(name.to_owned()))
    }

    /// The declared type of column `i`, if it comes straight from a table column.
    ///
    /// # Errors
    /// [`Error::InvalidColumnIndex`], or the connection is broken.
    pub fn column_decltype(&self, i: usize) -> Result<Option<String>> {
        if i >= self.column_count() {
            return Err(Error::InvalidColumnIndex(i));
        }
        Ok(self
            .conn
            .inner()?
            .sqlite
            .column_decltype(self.stmt, i as i32)?)
    }

    /// How many parameters the statement takes.
    pub fn parameter_count(&self) -> usize {
        *self.st().parameter_count.get_or_init(|| {
            self.conn
                .inner()
                .ok()
                .and_then(|mut i| i.sqlite.bind_parameter_count(self.stmt).ok())
                .unwrap_or(0)
                .max(0) as usize
        })
    }

    /// The 1-based index of parameter `name` (with its prefix: `:a`, `@a`, `$a`).
    ///
    /// # Errors
    /// A NUL in `name`, or the connection is broken.
    pub fn parameter_index(&self, name: &str) -> Result<Option<usize>> {
        let i = self
            .conn
            .inner()?
            .sqlite
            .bind_parameter_index(self.stmt, name)?;
        Ok((i > 0).then_some(i as usize))
    }

    /// The name of 1-based parameter `i`, if it has one.
    pub fn parameter_name(&self, i: usize) -> Option<String> {
        let mut inner = self.conn.inner().ok()?;
        inner
            .sqlite
            .bind_parameter_name(self.stmt, i32::try_from(i).ok()?)
            .ok()
            .flatten()
    }

    /// Clears all bound parameters to NULL.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn clear_bindings(&mut self) -> Result<()> {
        self.st().bound.set(false);
        self.st().stale.set(false);
        Ok(self.conn.inner()?.sqlite.clear_bindings(self.stmt)?)
    }

    /// True if the statement does not write the database.
    pub fn readonly(&self) -> bool {
        self.conn
            .inner()
            .ok()
            .and_then(|mut i| i.sqlite.stmt_readonly(self.stmt).ok())
            .unwrap_or(false)
    }

    /// The SQL text with bound parameters written in.
    pub fn expanded_sql(&self) -> Option<String> {
        self.clear_stale_bindings().ok()?;
        self.conn
            .inner()
            .ok()
            .and_then(|mut i| i.sqlite.expanded_sql(self.stmt).ok().flatten())
    }

    /// A counter SQLite keeps for this statement (`sqlite3_stmt_status`): how many
    /// full-scan steps, sorts, automatic indexes, VM steps, re-prepares, runs, Bloom
    /// filter hits and misses it made, or the bytes of memory it uses. 0 if the
    /// connection is broken.
    ///
    /// # Examples
    /// ```
    /// use sandlite_driver::{Connection, StatementStatus};
    ///
    /// # fn main() -> sandlite_driver::Result<()> {
    /// let conn = Connection::open_in_memory()?;
    /// let mut stmt = conn.prepare("SELECT column1 FROM (VALUES (3), (1), (2)) ORDER BY 1")?;
    /// let sorted = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
    /// assert_eq!(sorted, [1, 2, 3]);
    /// assert_eq!(stmt.get_status(StatementStatus::Run), 1);
    /// assert_eq!(stmt.get_status(StatementStatus::Sort), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_status(&self, status: StatementStatus) -> i32 {
        self.stmt_status(status, false)
    }

    /// Like [`get_status`](Self::get_status), and sets the counter back to 0 (the
    /// memory figure, [`StatementStatus::MemUsed`], is not a counter and stays).
    pub fn reset_status(&self, status: StatementStatus) -> i32 {
        self.stmt_status(status, true)
    }

    fn stmt_status(&self, status: StatementStatus, reset: bool) -> i32 {
        self.conn
            .inner()
            .ok()
            .and_then(|mut i| i.sqlite.stmt_status(self.stmt, status as i32, reset).ok())
            .unwrap_or(0)
    }

    /// The SQL text of the statement.
    pub fn sql(&self) -> String {
        self.conn
            .inner()
            .ok()
            .and_then(|mut i| i.sqlite.sql(self.stmt).ok())
            .unwrap_or_default()
    }

    /// Finalizes now, reporting errors.
    ///
    /// # Errors
    /// The error of the last step, if any.
    pub fn finalize(mut self) -> Result<()> {
        self.finalize_on_drop = false;
        self.set_running(false);
        Ok(self.conn.inner()?.sqlite.finalize(self.stmt)?)
    }

    /// Reads column `i` of the current row as a [`ValueRef`] and passes it to `f`.
    pub(crate) fn with_column<R>(&self, i: usize, f: impl FnOnce(ValueRef<'_>) -> R) -> Result<R> {
        if i >= self.column_count() {
            return Err(Error::InvalidColumnIndex(i));
        }
        let mut inner = self.conn.inner()?;
        if let Some(&column) = self
            .st()
            .row
            .try_borrow()
            .ok()
            .as_deref()
            .and_then(|r| r.get(i))
        {
            let s = &inner.sqlite;
            let v = match column {
                RawColumn::Null => ValueRef::Null,
                RawColumn::Integer(v) => ValueRef::Integer(v),
                RawColumn::Real(v) => ValueRef::Real(v),
                RawColumn::Text(bytes) => ValueRef::Text(s.guest_bytes(bytes)?),
                RawColumn::Blob(bytes) => ValueRef::Blob(s.guest_bytes(bytes)?),
            };
            return Ok(f(v));
        }
        // Columns the step did not read (rows wider than the binding's buffer).
        let col = i as i32;
        let s = &mut inner.sqlite;
        let v = match s.column_type(self.stmt, col)? {
            ValueType::Null => ValueRef::Null,
            ValueType::Integer => ValueRef::Integer(s.column_int64(self.stmt, col)?),
            ValueType::Real => ValueRef::Real(s.column_double(self.stmt, col)?),
            ValueType::Text => ValueRef::Text(s.column_text(self.stmt, col)?),
            ValueType::Blob => ValueRef::Blob(s.column_blob(self.stmt, col)?),
        };
        Ok(f(v))
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        if self.state.is_none() {
            return; // handed back to the cache
        }
        self.set_running(false);
        if self.finalize_on_drop
            && let Ok(mut inner) = self.conn.inner()
        {
            let _ = inner.sqlite.finalize(self.stmt);
        }
    }
}

/// Rows of a query, read one at a time: `while let Some(row) = rows.next()? { ... }`.
pub struct Rows<'stmt> {
    stmt: Option<&'stmt Statement<'stmt>>,
    row: Option<Row<'stmt>>,
}

impl<'stmt> Rows<'stmt> {
    fn new(stmt: &'stmt Statement<'_>) -> Rows<'stmt> {
        Rows {
            stmt: Some(stmt),
            row: None,
        }
    }

    /// The next row, or `None` after the last.
    ///
    /// # Errors
    /// SQLite's error while stepping.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<&Row<'stmt>>> {
        let Some(stmt) = self.stmt else {
            return Ok(None);
        };
        match stmt.step(true) {
            Ok(true) => {
                self.row = Some(Row {
                    stmt,
                    cache: OnceCell::new(),
                });
                Ok(self.row.as_ref())
            }
            Ok(false) => {
                self.finish();
                Ok(None)
            }
            Err(e) => {
                self.finish();
                Err(e)
            }
        }
    }

    fn finish(&mut self) {
        if let Some(stmt) = self.stmt.take() {
            let _ = stmt.reset();
        }
        self.row = None;
    }

    /// Maps every row: an iterator of `Result<T>`.
    pub fn mapped<T, F>(self, f: F) -> MappedRows<'stmt, F>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        MappedRows { rows: self, map: f }
    }

    /// Maps every row (rusqlite's `Rows::map`). Unlike rusqlite's, which is a
    /// `FallibleIterator`, this is a std `Iterator` of `Result<T>`: collect it into a
    /// `Result<Vec<T>>`.
    #[allow(clippy::should_implement_trait)]
    pub fn map<T, F>(self, f: F) -> MappedRows<'stmt, F>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        self.mapped(f)
    }

    /// Maps every row with a closure of its own error type.
    pub fn and_then<T, E, F>(self, f: F) -> AndThenRows<'stmt, F>
    where
        E: From<Error>,
        F: FnMut(&Row<'_>) -> Result<T, E>,
    {
        AndThenRows { rows: self, map: f }
    }

    /// The statement these rows come from.
    pub fn as_ref(&self) -> Option<&Statement<'stmt>> {
        self.stmt
    }
}

impl Drop for Rows<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// An iterator of `f(row)` over query rows.
pub struct MappedRows<'stmt, F> {
    rows: Rows<'stmt>,
    map: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.map)(row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// An iterator of `f(row)` where `f` has its own error type.
pub struct AndThenRows<'stmt, F> {
    rows: Rows<'stmt>,
    map: F,
}

impl<T, E, F> Iterator for AndThenRows<'_, F>
where
    E: From<Error>,
    F: FnMut(&Row<'_>) -> Result<T, E>,
{
    type Item = Result<T, E>;

    fn next(&mut self) -> Option<Result<T, E>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.map)(row)),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    }
}

/// A result column: its name and, when it comes straight from a table column, its
/// declared type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column<'stmt> {
    name: &'stmt str,
    decl_type: Option<String>,
}

impl Column<'_> {
    /// The column's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The declared type (`"INTEGER"`, ...), `None` for expressions.
    pub fn decl_type(&self) -> Option<&str> {
        self.decl_type.as_deref()
    }
}

/// Column access by position or by name.
pub trait RowIndex {
    /// # Errors
    /// An unknown index or name.
    fn idx(&self, stmt: &Statement<'_>) -> Result<usize>;
}

impl RowIndex for usize {
    fn idx(&self, stmt: &Statement<'_>) -> Result<usize> {
        if *self >= stmt.column_count() {
            return Err(Error::InvalidColumnIndex(*self));
        }
        Ok(*self)
    }
}

impl RowIndex for &str {
    fn idx(&self, stmt: &Statement<'_>) -> Result<usize> {
        stmt.column_index(self)
    }
}

impl RowIndex for String {
    fn idx(&self, stmt: &Statement<'_>) -> Result<usize> {
        stmt.column_index(self)
    }
}

/// One row of a query.
pub struct Row<'stmt> {
    stmt: &'stmt Statement<'stmt>,
    /// Owned copies made by `get_ref`, so it can hand out references (allocated on the
    /// first `get_ref`).
    cache: OnceCell<Box<[OnceCell<OwnedValue>]>>,
}

impl<'stmt> Row<'stmt> {
    /// Column `idx` (position or name) as `T`.
    ///
    /// # Errors
    /// An unknown column, or a value that does not convert ([`Error::InvalidColumnType`],
    /// [`Error::IntegralValueOutOfRange`], [`Error::FromSqlConversionFailure`]).
    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let i = idx.idx(self.stmt)?;
        let converted = self
            .stmt
            .with_column(i, |v| (v.data_type(), T::column_result(v)))?;
        match converted {
            (_, Ok(t)) => Ok(t),
            (found, Err(FromSqlError::InvalidType)) => Err(Error::InvalidColumnType(
                i,
                self.stmt.column_name(i).unwrap_or_default().to_owned(),
                found,
            )),
            (_, Err(FromSqlError::OutOfRange(value))) => {
                Err(Error::IntegralValueOutOfRange(i, value))
            }
            (found, Err(FromSqlError::Other(source))) => {
                Err(Error::FromSqlConversionFailure(i, found, source))
            }
            (found, Err(e)) => Err(Error::FromSqlConversionFailure(i, found, Box::new(e))),
        }
    }

    /// Like [`get`](Self::get), panicking on error.
    ///
    /// # Panics
    /// If the column does not exist or does not convert.
    pub fn get_unwrap<I: RowIndex, T: FromSql>(&self, idx: I) -> T {
        match self.get(idx) {
            Ok(v) => v,
            Err(e) => panic!("Row::get_unwrap failed: {e}"),
        }
    }

    /// Column `idx` as a borrowed value.
    ///
    /// # Errors
    /// An unknown column.
    pub fn get_ref<I: RowIndex>(&self, idx: I) -> Result<ValueRef<'_>> {
        let i = idx.idx(self.stmt)?;
        let cache = self.cache.get_or_init(|| {
            (0..self.stmt.column_count())
                .map(|_| OnceCell::new())
                .collect()
        });
        if let Some(v) = cache[i].get() {
            return Ok(v.as_ref());
        }
        let v = self.stmt.with_column(i, OwnedValue::copy)??;
        Ok(cache[i].get_or_init(|| v).as_ref())
    }

    /// Like [`get_ref`](Self::get_ref), panicking on error.
    ///
    /// # Panics
    /// If the column does not exist.
    pub fn get_ref_unwrap<I: RowIndex>(&self, idx: I) -> ValueRef<'_> {
        match self.get_ref(idx) {
            Ok(v) => v,
            Err(e) => panic!("Row::get_ref_unwrap failed: {e}"),
        }
    }
}

impl<'stmt> AsRef<Statement<'stmt>> for Row<'stmt> {
    /// The statement this row comes from.
    fn as_ref(&self) -> &Statement<'stmt> {
        self.stmt
    }
}

/// A column value copied byte for byte (text is kept as SQLite stored it, even when it
/// is not valid UTF-8, unlike [`Value`]).
enum OwnedValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(Box<[u8]>),
    Blob(Box<[u8]>),
}

impl OwnedValue {
    /// A copy of `v`; `SQLITE_NOMEM` if the host cannot allocate it (its size is the
    /// database's choice, so a failure must not abort).
    fn copy(v: ValueRef<'_>) -> Result<OwnedValue> {
        let copy = |b: &[u8]| {
            sandlite_sqlite_wasm::alloc::copy(b)
                .map(Vec::into_boxed_slice)
                .map_err(|_| Error::from_code(ffi::SQLITE_NOMEM))
        };
        Ok(match v {
            ValueRef::Null => OwnedValue::Null,
            ValueRef::Integer(i) => OwnedValue::Integer(i),
            ValueRef::Real(r) => OwnedValue::Real(r),
            ValueRef::Text(t) => OwnedValue::Text(copy(t)?),
            ValueRef::Blob(b) => OwnedValue::Blob(copy(b)?),
        })
    }
}

impl OwnedValue {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            OwnedValue::Null => ValueRef::Null,
            OwnedValue::Integer(i) => ValueRef::Integer(*i),
            OwnedValue::Real(r) => ValueRef::Real(*r),
            OwnedValue::Text(t) => ValueRef::Text(t),
            OwnedValue::Blob(b) => ValueRef::Blob(b),
        }
    }
}
