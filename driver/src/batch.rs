//! [`Batch`]: the statements of an SQL text, prepared one at a time.

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::statement::Statement;

/// Prepares the statements of `sql` one after the other (rusqlite's `Batch`), skipping
/// empty ones (only whitespace, `;` or comments).
///
/// ```
/// # use sandlite_driver::{Batch, Connection};
/// let conn = Connection::open_in_memory()?;
/// let mut batch = Batch::new(&conn, "CREATE TABLE t(x); INSERT INTO t VALUES (1); ;");
/// let mut n = 0;
/// while let Some(mut stmt) = batch.next()? {
///     stmt.execute([])?;
///     n += 1;
/// }
/// assert_eq!(n, 2);
/// # Ok::<(), sandlite_driver::Error>(())
/// ```
#[derive(Debug)]
pub struct Batch<'conn, 'sql> {
    conn: &'conn Connection,
    sql: &'sql str,
    /// Byte offset of the text not yet prepared.
    at: usize,
}

impl<'conn, 'sql> Batch<'conn, 'sql> {
    /// A batch over `sql`.
    pub fn new(conn: &'conn Connection, sql: &'sql str) -> Batch<'conn, 'sql> {
        Batch { conn, sql, at: 0 }
    }

    /// The next statement, or `None` at the end.
    ///
    /// # Errors
    /// SQLite's error preparing it ([`Error::SqlInputError`] with its offset in the
    /// whole text); the batch then stops.
    #[allow(clippy::should_implement_trait)] // rusqlite's name; `Iterator` is there too
    pub fn next(&mut self) -> Result<Option<Statement<'conn>>> {
        if self.at == 0
            && let Err(e) = crate::uri::refuse_shared_memory_attach(self.sql)
        {
            self.at = self.sql.len();
            return Err(e);
        }
        while self.at < self.sql.len() {
            let rest = &self.sql[self.at..];
            let prepared = {
                let mut inner = self.conn.inner()?;
                let db = inner.db;
                inner.sqlite.prepare(db, rest, 0)
            };
            let prepared = match prepared {
                Ok(p) => p,
                Err(e) => {
                    let start = self.at;
                    self.at = self.sql.len();
                    return Err(Error::in_sql(e, self.sql, start));
                }
            };
            self.at = if prepared.tail == 0 || prepared.tail > rest.len() {
                self.sql.len()
            } else {
                self.at + prepared.tail
            };
            if let Some(stmt) = prepared.stmt {
                return Ok(Some(Statement::new(self.conn, stmt)));
            }
        }
        Ok(None)
    }
}

impl<'conn> Iterator for Batch<'conn, '_> {
    type Item = Result<Statement<'conn>>;

    fn next(&mut self) -> Option<Self::Item> {
        Batch::next(self).transpose()
    }
}
