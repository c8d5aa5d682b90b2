//! Incremental BLOB I/O: read and write one blob in place with `io::Read`, `io::Write`
//! and `io::Seek`, without loading it whole.
//!
//! ```
//! # use sandlite_driver::{Connection, DatabaseName, ZeroBlob};
//! use std::io::{Read, Seek, SeekFrom, Write};
//! let conn = Connection::open_in_memory()?;
//! conn.execute_batch("CREATE TABLE files(data BLOB)")?;
//! conn.execute("INSERT INTO files(data) VALUES (?1)", [ZeroBlob(11)])?;
//! let row = conn.last_insert_rowid();
//! let mut blob = conn.blob_open(DatabaseName::Main, "files", "data", row, false)?;
//! blob.write_all(b"hello world").unwrap();
//! blob.seek(SeekFrom::Start(6)).unwrap();
//! let mut word = String::new();
//! blob.read_to_string(&mut word).unwrap();
//! assert_eq!(word, "world");
//! # Ok::<(), sandlite_driver::Error>(())
//! ```

use crate::connection::{Connection, Name};
use crate::error::{Error, Result};
use std::io;

pub use crate::types::ZeroBlob;

/// An open blob. Its size is fixed: writes past the end fail. Closed on drop.
pub struct Blob<'conn> {
    conn: &'conn Connection,
    blob: sandlite_sqlite_wasm::Blob,
    pos: usize,
    size: usize,
}

impl Connection {
    /// Opens the blob in `table.column` of row `row` for incremental I/O.
    ///
    /// # Errors
    /// SQLite's error (no such row, column not a blob, read-only database, ...).
    pub fn blob_open(
        &self,
        db: impl Name,
        table: &str,
        column: &str,
        row: i64,
        read_only: bool,
    ) -> Result<Blob<'_>> {
        let mut inner = self.inner()?;
        let handle = inner.db;
        let blob =
            inner
                .sqlite
                .blob_open(handle, &db.schema_name(), table, column, row, !read_only)?;
        let size = inner.sqlite.blob_bytes(blob)?;
        Ok(Blob {
            conn: self,
            blob,
            pos: 0,
            size,
        })
    }
}

fn io_error(e: Error) -> io::Error {
    io::Error::other(e)
}

impl Blob<'_> {
    /// The blob's size in bytes.
    pub fn len(&self) -> usize {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Moves to the same column of another row.
    ///
    /// # Errors
    /// SQLite's error (no such row).
    pub fn reopen(&mut self, row: i64) -> Result<()> {
        let mut inner = self.conn.inner()?;
        inner.sqlite.blob_reopen(self.blob, row)?;
        self.size = inner.sqlite.blob_bytes(self.blob)?;
        self.pos = 0;
        Ok(())
    }

    /// Closes now, reporting errors.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn close(self) -> Result<()> {
        let mut me = std::mem::ManuallyDrop::new(self);
        let r = me.conn.inner()?.sqlite.blob_close(me.blob);
        me.size = 0;
        Ok(r?)
    }

    /// Reads at `offset` without moving the cursor.
    ///
    /// # Errors
    /// SQLite's error, or a range past the end.
    pub fn read_at(&self, buf: &mut [u8], offset: usize) -> Result<()> {
        Ok(self
            .conn
            .inner()?
            .sqlite
            .blob_read(self.blob, buf, offset)?)
    }

    /// Writes at `offset` without moving the cursor.
    ///
    /// # Errors
    /// SQLite's error, or a range past the end.
    pub fn write_at(&mut self, data: &[u8], offset: usize) -> Result<()> {
        Ok(self
            .conn
            .inner()?
            .sqlite
            .blob_write(self.blob, data, offset)?)
    }
}

impl io::Read for Blob<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.size.saturating_sub(self.pos));
        if n == 0 {
            return Ok(0);
        }
        self.read_at(&mut buf[..n], self.pos).map_err(io_error)?;
        self.pos += n;
        Ok(n)
    }
}

impl io::Write for Blob<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.size.saturating_sub(self.pos));
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "a blob cannot grow: write past its end",
            ));
        }
        let pos = self.pos;
        self.write_at(&buf[..n], pos).map_err(io_error)?;
        self.pos += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for Blob<'_> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let target = match pos {
            io::SeekFrom::Start(p) => i128::from(p),
            io::SeekFrom::End(d) => self.size as i128 + i128::from(d),
            io::SeekFrom::Current(d) => self.pos as i128 + i128::from(d),
        };
        if target < 0 || target > self.size as i128 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the blob",
            ));
        }
        self.pos = target as usize;
        Ok(self.pos as u64)
    }
}

impl Drop for Blob<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.conn.inner() {
            let _ = inner.sqlite.blob_close(self.blob);
        }
    }
}
