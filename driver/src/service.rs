//! A service pool: one writer and several readers on one database in WAL mode, with
//! each statement routed on the host before a connection is chosen.
//!
//! Routing parses the SQL with `sqlparser` (SQLite dialect): plain queries go to a
//! reader; everything else — writes, DDL, pragmas, transactions, and anything that does
//! not parse — goes to the writer. A query that parses as one but writes (`WITH … INSERT
//! …`) is classified by what it does. A reader double-checks with SQLite
//! (`sqlite3_stmt_readonly`) after preparing and hands anything that would write to the
//! writer. Readers refuse writes (`PRAGMA query_only`), so a routing mistake can never
//! write through a reader.

use crate::connection::{Connection, OpenOptions};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::pool::SandliteConnectionManager;
use crate::statement::Row;
use crate::transaction::{Transaction, TransactionBehavior};
use sqlparser::ast::{Query, SetExpr, Statement};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a statement runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Reader,
    Writer,
}

/// Classifies SQL text: [`Route::Reader`] only if every statement is a query that reads.
pub fn classify(sql: &str) -> Route {
    match Parser::parse_sql(&SQLiteDialect {}, sql) {
        Ok(statements) if !statements.is_empty() && statements.iter().all(reads_only) => {
            Route::Reader
        }
        _ => Route::Writer,
    }
}

fn reads_only(statement: &Statement) -> bool {
    match statement {
        Statement::Query(q) => query_reads_only(q),
        _ => false,
    }
}

fn query_reads_only(q: &Query) -> bool {
    let ctes_read = q
        .with
        .as_ref()
        .is_none_or(|w| w.cte_tables.iter().all(|c| query_reads_only(&c.query)));
    ctes_read && set_expr_reads_only(&q.body)
}

fn set_expr_reads_only(e: &SetExpr) -> bool {
    match e {
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => true,
        SetExpr::Query(q) => query_reads_only(q),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_reads_only(left) && set_expr_reads_only(right)
        }
        // INSERT/UPDATE/DELETE/MERGE bodies (e.g. after a WITH clause) and anything new.
        _ => false,
    }
}

/// Counts of where statements went.
#[derive(Debug, Default)]
pub struct RouteStats {
    pub reader: AtomicU64,
    pub writer: AtomicU64,
    /// Classified as reads, but SQLite said they write: re-run on the writer.
    pub misrouted: AtomicU64,
}

/// Routes remembered per SQL text (services run the same statements over and over).
const ROUTE_CACHE_SIZE: usize = 1024;

/// One writer and `readers` readers over a database in WAL mode.
pub struct ServicePool {
    writer: r2d2::Pool<SandliteConnectionManager>,
    readers: r2d2::Pool<SandliteConnectionManager>,
    stats: RouteStats,
    routes: std::sync::Mutex<std::collections::HashMap<String, Route>>,
}

impl std::fmt::Debug for ServicePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicePool")
            .field("stats", &self.stats)
            .finish()
    }
}

fn pool_error(e: r2d2::Error) -> Error {
    Error::Misuse(format!("connection pool: {e}"))
}

impl ServicePool {
    /// Opens (creating if needed) the database at `path` in WAL mode with one writer and
    /// `readers` readers.
    ///
    /// # Errors
    /// If the database cannot be opened or put in WAL mode.
    pub fn open(path: impl AsRef<Path>, readers: u32) -> Result<ServicePool> {
        ServicePool::open_with(path, readers, OpenOptions::default())
    }

    /// [`ServicePool::open`] with open options for every connection.
    ///
    /// # Errors
    /// As [`ServicePool::open`].
    pub fn open_with(
        path: impl AsRef<Path>,
        readers: u32,
        options: OpenOptions,
    ) -> Result<ServicePool> {
        let path = path.as_ref().to_owned();
        // The writer sets WAL mode once; it is persistent in the file.
        let setup = options.open(&path)?;
        setup.pragma_update(None, "journal_mode", "WAL")?;
        drop(setup);
        let writer = SandliteConnectionManager::file(&path)
            .with_options(options.clone())
            .with_init(|c| c.execute_batch("PRAGMA synchronous = NORMAL"));
        let reader = SandliteConnectionManager::file(&path)
            .with_options(options)
            .with_init(|c| c.execute_batch("PRAGMA query_only = ON"));
        Ok(ServicePool {
            writer: r2d2::Pool::builder()
                .max_size(1)
                .build(writer)
                .map_err(pool_error)?,
            readers: r2d2::Pool::builder()
                .max_size(readers.max(1))
                .build(reader)
                .map_err(pool_error)?,
            stats: RouteStats::default(),
            routes: Default::default(),
        })
    }

    /// Where `sql` runs: [`classify`], remembered per SQL text.
    pub fn route(&self, sql: &str) -> Route {
        if let Ok(routes) = self.routes.lock()
            && let Some(r) = routes.get(sql)
        {
            return *r;
        }
        let route = classify(sql);
        if let Ok(mut routes) = self.routes.lock() {
            if routes.len() >= ROUTE_CACHE_SIZE {
                routes.clear();
            }
            routes.insert(sql.to_owned(), route);
        }
        route
    }

    pub fn stats(&self) -> &RouteStats {
        &self.stats
    }

    /// Runs `f` with a reader connection.
    ///
    /// # Errors
    /// Pool errors, or `f`'s.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.get().map_err(pool_error)?;
        self.stats.reader.fetch_add(1, Ordering::Relaxed);
        f(&conn)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`: it waits for the write lock
    /// instead of failing halfway), committing if `f` succeeds.
    ///
    /// # Errors
    /// Pool errors, SQLite's, or `f`'s (the transaction is then rolled back).
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let conn = self.writer.get().map_err(pool_error)?;
        self.stats.writer.fetch_add(1, Ordering::Relaxed);
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs one statement that does not return rows, on the writer.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        let conn = self.writer.get().map_err(pool_error)?;
        self.stats.writer.fetch_add(1, Ordering::Relaxed);
        conn.execute(sql, params)
    }

    /// Runs a query (or any statement) and maps every row, routing it: reads to a
    /// reader, the rest to the writer.
    ///
    /// # Errors
    /// SQLite's error or `f`'s.
    pub fn query<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<Vec<T>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        self.query_with_route(self.route(sql), sql, params, f)
    }

    /// Like [`query`](Self::query) with the caller's own routing. A statement sent to a
    /// reader that SQLite says would write still runs on the writer (and is counted in
    /// [`RouteStats::misrouted`]).
    ///
    /// # Errors
    /// SQLite's error or `f`'s.
    pub fn query_with_route<T, P, F>(
        &self,
        route: Route,
        sql: &str,
        params: P,
        mut f: F,
    ) -> Result<Vec<T>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        if route == Route::Reader {
            let conn = self.readers.get().map_err(pool_error)?;
            let mut stmt = conn.prepare_cached(sql)?;
            if stmt.readonly() {
                self.stats.reader.fetch_add(1, Ordering::Relaxed);
                let rows = stmt.query_map(params, &mut f)?;
                return rows.collect();
            }
            self.stats.misrouted.fetch_add(1, Ordering::Relaxed);
        }
        let conn = self.writer.get().map_err(pool_error)?;
        self.stats.writer.fetch_add(1, Ordering::Relaxed);
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, f)?;
        rows.collect()
    }

    /// The first row of a routed query.
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`], SQLite's error or `f`'s.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut f = Some(f);
        let mut out = self.query(sql, params, |row| Ok((f.take().expect("first row"))(row)))?;
        if out.is_empty() {
            return Err(Error::QueryReturnedNoRows);
        }
        out.swap_remove(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify("SELECT * FROM t WHERE a = ?1"), Route::Reader);
        assert_eq!(classify("select 1 union all select 2"), Route::Reader);
        assert_eq!(
            classify("WITH x AS (SELECT 1) SELECT * FROM x"),
            Route::Reader
        );
        assert_eq!(classify("VALUES (1), (2)"), Route::Reader);
        assert_eq!(classify("INSERT INTO t VALUES (1)"), Route::Writer);
        assert_eq!(
            classify("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"),
            Route::Writer
        );
        assert_eq!(classify("UPDATE t SET a = 1"), Route::Writer);
        assert_eq!(classify("DELETE FROM t"), Route::Writer);
        assert_eq!(classify("CREATE TABLE t(a)"), Route::Writer);
        assert_eq!(classify("PRAGMA journal_mode"), Route::Writer);
        assert_eq!(classify("BEGIN"), Route::Writer);
        assert_eq!(classify("SELEC nonsense"), Route::Writer);
        assert_eq!(classify(""), Route::Writer);
        assert_eq!(classify("SELECT 1; DELETE FROM t"), Route::Writer);
    }
}
