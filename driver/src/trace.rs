//! `trace`, `profile` and `trace_v2`, as rusqlite has them, over `sqlite3_trace_v2`.

use crate::connection::Connection;
use crate::error::Result;
use crate::statement::StatementStatus;
use sandlite_sqlite_wasm::{TraceEvent as RawEvent, TraceQuery, ffi};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::{BitAnd, BitOr, BitOrAssign};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// Which events [`Connection::trace_v2`] reports (`SQLITE_TRACE_*`), combined with `|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TraceEventCodes(u32);

impl TraceEventCodes {
    /// A statement starts running (and at the start of each trigger it runs).
    pub const SQLITE_TRACE_STMT: Self = Self(ffi::SQLITE_TRACE_STMT as u32);
    /// A statement finished: its running time.
    pub const SQLITE_TRACE_PROFILE: Self = Self(ffi::SQLITE_TRACE_PROFILE as u32);
    /// A statement produced a row.
    pub const SQLITE_TRACE_ROW: Self = Self(ffi::SQLITE_TRACE_ROW as u32);
    /// The connection closes.
    pub const SQLITE_TRACE_CLOSE: Self = Self(ffi::SQLITE_TRACE_CLOSE as u32);

    /// No event.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every event.
    pub const fn all() -> Self {
        Self(0x0f)
    }

    /// The `SQLITE_TRACE_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The events among `bits` (other bits are dropped).
    pub const fn from_bits_truncate(bits: u32) -> Self {
        Self(bits & 0x0f)
    }

    /// True if every event of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// True for no event.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for TraceEventCodes {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for TraceEventCodes {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

impl BitAnd for TraceEventCodes {
    type Output = Self;
    fn bitand(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

/// An event [`Connection::trace_v2`] reports.
#[non_exhaustive]
pub enum TraceEvent<'s> {
    /// A statement starts running: its text as prepared, or a `-- TRIGGER name`
    /// comment when it starts a trigger.
    Stmt(StmtRef<'s>, &'s str),
    /// A statement finished, after this long.
    Profile(StmtRef<'s>, Duration),
    /// A statement produced a row.
    Row(StmtRef<'s>),
    /// The connection closes.
    Close(ConnRef<'s>),
}

/// The statement of a [`TraceEvent`], valid while the callback runs.
pub struct StmtRef<'s> {
    stmt: i32,
    query: &'s dyn TraceQuery,
}

impl StmtRef<'_> {
    /// The statement's SQL text as prepared (`sqlite3_sql`).
    #[must_use]
    pub fn sql(&self) -> Cow<'_, str> {
        Cow::Owned(self.query.sql(self.stmt).unwrap_or_default())
    }

    /// The text with its bound parameters substituted (`sqlite3_expanded_sql`).
    #[must_use]
    pub fn expanded_sql(&self) -> Option<String> {
        self.query.expanded_sql(self.stmt)
    }

    /// A counter of the statement, as [`Statement::get_status`](crate::Statement::get_status)
    /// gives it (`sqlite3_stmt_status`; 0 if the guest call failed).
    #[must_use]
    pub fn get_status(&self, status: StatementStatus) -> i32 {
        self.query.stmt_status(self.stmt, status as i32)
    }
}

/// The connection of a [`TraceEvent::Close`].
pub struct ConnRef<'s> {
    query: &'s dyn TraceQuery,
    filename: Option<&'s str>,
}

impl ConnRef<'_> {
    /// True outside an explicit transaction (`sqlite3_get_autocommit`).
    #[must_use]
    pub fn is_autocommit(&self) -> bool {
        self.query.autocommit()
    }

    /// The path of the database file, as [`Connection::path`] gives it (`None` in
    /// memory).
    #[must_use]
    pub fn db_filename(&self) -> Option<&str> {
        self.filename
    }
}

/// A `trace_v2` callback.
type TraceFn = Box<dyn FnMut(TraceEvent<'_>) + Send>;

/// The callbacks a connection traces with, and the SQL of statements running (what the
/// profile callback reports when they finish).
#[derive(Default)]
pub(crate) struct TraceState {
    trace: Option<fn(&str)>,
    profile: Option<fn(&str, Duration)>,
    v2: Option<(TraceEventCodes, TraceFn)>,
    /// The database file, for [`ConnRef::db_filename`].
    filename: Option<String>,
    running: HashMap<i32, String>,
}

impl Connection {
    /// Calls `trace_fn` with the SQL of every statement as it starts running (and with
    /// a `-- TRIGGER name` comment for each trigger); `None` stops it.
    ///
    /// rusqlite's (legacy `sqlite3_trace`) passes the SQL with bound parameters
    /// expanded; here it is the text as prepared.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn trace(&mut self, trace_fn: Option<fn(&str)>) -> Result<()> {
        self.update_trace(|t| t.trace = trace_fn)
    }

    /// Calls `profile_fn` with the SQL and the running time of every statement when it
    /// finishes; `None` stops it.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn profile(&mut self, profile_fn: Option<fn(&str, Duration)>) -> Result<()> {
        self.update_trace(|t| t.profile = profile_fn)
    }

    /// Calls `trace_fn` for the events in `mask` ([`TraceEvent`]), as rusqlite's
    /// `trace_v2` (`sqlite3_trace_v2`); `None` (or an empty mask) stops it. Independent
    /// of [`trace`](Connection::trace) and [`profile`](Connection::profile). A panic in
    /// the callback is caught and ignored.
    ///
    /// # Errors
    /// If the connection is broken.
    ///
    /// # Examples
    /// ```
    /// use sandlite_driver::trace::{TraceEvent, TraceEventCodes};
    /// use std::sync::{Arc, Mutex};
    ///
    /// # fn main() -> sandlite_driver::Result<()> {
    /// let mut conn = sandlite_driver::Connection::open_in_memory()?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&seen);
    /// conn.trace_v2(
    ///     TraceEventCodes::SQLITE_TRACE_STMT | TraceEventCodes::SQLITE_TRACE_ROW,
    ///     Some(move |event: TraceEvent<'_>| match event {
    ///         TraceEvent::Stmt(_, sql) => log.lock().unwrap().push(format!("stmt {sql}")),
    ///         TraceEvent::Row(stmt) => log.lock().unwrap().push(format!("row {}", stmt.sql())),
    ///         _ => {}
    ///     }),
    /// )?;
    /// conn.query_row("SELECT 1", [], |_| Ok(()))?;
    /// assert_eq!(*seen.lock().unwrap(), ["stmt SELECT 1", "row SELECT 1"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn trace_v2<F>(&mut self, mask: TraceEventCodes, trace_fn: Option<F>) -> Result<()>
    where
        F: FnMut(TraceEvent<'_>) + Send + 'static,
    {
        let filename = self.path().filter(|p| !p.is_empty()).map(str::to_owned);
        self.update_trace(|t| {
            t.v2 = trace_fn
                .filter(|_| !mask.is_empty())
                .map(|f| (mask, Box::new(f) as TraceFn));
            t.filename = filename;
        })
    }

    fn update_trace(&self, change: impl FnOnce(&mut TraceState)) -> Result<()> {
        let state = self.trace_state();
        let mask = {
            let mut t = state.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut t);
            t.running.clear();
            let legacy = match (t.trace.is_some(), t.profile.is_some()) {
                (false, false) => 0,
                (true, false) => ffi::SQLITE_TRACE_STMT,
                // The profile callback needs the SQL the statement started with.
                _ => ffi::SQLITE_TRACE_STMT | ffi::SQLITE_TRACE_PROFILE,
            };
            let v2 = t.v2.as_ref().map_or(0, |(mask, _)| mask.bits() as i32);
            legacy | v2
        };
        let hook = (mask != 0).then(|| {
            let state = Arc::clone(state);
            Box::new(move |event: RawEvent<'_>, query: &dyn TraceQuery| {
                let mut guard = state.lock().unwrap_or_else(PoisonError::into_inner);
                let t = &mut *guard;
                match event {
                    RawEvent::Stmt { stmt, sql } => {
                        if let Some(f) = t.trace {
                            f(sql);
                        }
                        if t.profile.is_some() && !sql.starts_with("--") {
                            t.running.insert(stmt, sql.to_owned());
                        }
                        if let Some(f) = v2_for(&mut t.v2, TraceEventCodes::SQLITE_TRACE_STMT) {
                            f(TraceEvent::Stmt(StmtRef { stmt, query }, sql));
                        }
                    }
                    RawEvent::Profile { stmt, nanos } => {
                        let took = Duration::from_nanos(u64::try_from(nanos).unwrap_or(0));
                        if let Some(sql) = t.running.remove(&stmt)
                            && let Some(f) = t.profile
                        {
                            f(&sql, took);
                        }
                        if let Some(f) = v2_for(&mut t.v2, TraceEventCodes::SQLITE_TRACE_PROFILE) {
                            f(TraceEvent::Profile(StmtRef { stmt, query }, took));
                        }
                    }
                    RawEvent::Row { stmt } => {
                        if let Some(f) = v2_for(&mut t.v2, TraceEventCodes::SQLITE_TRACE_ROW) {
                            f(TraceEvent::Row(StmtRef { stmt, query }));
                        }
                    }
                    RawEvent::Close => {
                        let filename = t.filename.as_deref();
                        if let Some(f) = v2_for(&mut t.v2, TraceEventCodes::SQLITE_TRACE_CLOSE) {
                            f(TraceEvent::Close(ConnRef { query, filename }));
                        }
                    }
                }
            }) as sandlite_sqlite_wasm::TraceHook
        });
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.set_trace(db, mask, hook)?;
        Ok(())
    }
}

/// The `trace_v2` callback, if its mask has `code`.
fn v2_for(
    v2: &mut Option<(TraceEventCodes, TraceFn)>,
    code: TraceEventCodes,
) -> Option<&mut TraceFn> {
    v2.as_mut()
        .filter(|(mask, _)| mask.contains(code))
        .map(|(_, f)| f)
}
