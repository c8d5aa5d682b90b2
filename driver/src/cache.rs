//! The prepared-statement cache behind `prepare_cached` (least recently used first out).

use crate::connection::Connection;
use crate::error::Result;
use crate::statement::{RawStatement, Statement};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};

pub(crate) struct StatementCache {
    /// Most recently used first.
    entries: RefCell<VecDeque<(String, RawStatement)>>,
    capacity: std::cell::Cell<usize>,
}

impl StatementCache {
    pub(crate) const DEFAULT_CAPACITY: usize = 16;

    pub(crate) fn new(capacity: usize) -> StatementCache {
        StatementCache {
            entries: RefCell::new(VecDeque::new()),
            capacity: std::cell::Cell::new(capacity),
        }
    }

    /// Takes the statement cached for `sql`, with its key (reused when it goes back).
    fn take(&self, sql: &str) -> Option<(String, RawStatement)> {
        let mut entries = self.entries.borrow_mut();
        let i = entries.iter().position(|(s, _)| s == sql)?;
        entries.remove(i)
    }

    fn put(&self, conn: &Connection, sql: String, stmt: RawStatement) {
        let evicted = {
            let mut entries = self.entries.borrow_mut();
            entries.push_front((sql, stmt));
            let mut out = Vec::new();
            while entries.len() > self.capacity.get() {
                out.extend(entries.pop_back());
            }
            out
        };
        finalize_all(conn, evicted);
    }

    pub(crate) fn set_capacity(&self, conn: &Connection, capacity: usize) {
        self.capacity.set(capacity);
        let evicted: Vec<_> = {
            let mut entries = self.entries.borrow_mut();
            let keep = entries.len().min(capacity);
            entries.drain(keep..).collect()
        };
        finalize_all(conn, evicted);
    }

    pub(crate) fn flush(&self, conn: &Connection) {
        let all: Vec<_> = self.entries.borrow_mut().drain(..).collect();
        finalize_all(conn, all);
    }
}

fn finalize_all(conn: &Connection, entries: Vec<(String, RawStatement)>) {
    if entries.is_empty() {
        return;
    }
    if let Ok(mut inner) = conn.inner() {
        for (_, raw) in entries {
            let _ = inner.sqlite.finalize(raw.stmt);
        }
    }
}

/// A statement from the cache; dropping it resets it and puts it back.
pub struct CachedStatement<'conn> {
    stmt: Option<Statement<'conn>>,
    sql: String,
}

impl<'conn> Deref for CachedStatement<'conn> {
    type Target = Statement<'conn>;
    fn deref(&self) -> &Statement<'conn> {
        self.stmt.as_ref().expect("present until drop")
    }
}

impl DerefMut for CachedStatement<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.stmt.as_mut().expect("present until drop")
    }
}

impl CachedStatement<'_> {
    /// Finalizes the statement instead of returning it to the cache.
    pub fn discard(mut self) {
        self.stmt = None;
    }
}

impl Drop for CachedStatement<'_> {
    fn drop(&mut self) {
        if let Some(stmt) = self.stmt.take() {
            let conn = stmt.conn;
            if conn.is_broken() || conn.inner().is_err() {
                return;
            }
            // Its bindings stay until the next user binds all parameters or clears them
            // (`Statement::clear_stale_bindings`): no guest call here.
            let raw = stmt.into_raw();
            conn.cache.put(conn, std::mem::take(&mut self.sql), raw);
        }
    }
}

impl Connection {
    /// Prepares `sql`, reusing a cached statement when there is one (up to 16 are kept,
    /// least recently used out first).
    ///
    /// # Errors
    /// As [`Connection::prepare`].
    pub fn prepare_cached(&self, sql: &str) -> Result<CachedStatement<'_>> {
        let (sql, stmt) = match self.cache.take(sql) {
            Some((key, raw)) => (key, Statement::from_raw(self, raw)),
            None => (sql.to_owned(), self.prepare(sql)?),
        };
        Ok(CachedStatement {
            stmt: Some(stmt),
            sql,
        })
    }
}
