//! `CREATE VIRTUAL TABLE x USING csv(...)`: a read-only table over a CSV file, as
//! rusqlite's `vtab::csvtab` (and SQLite's `csv.c`).
//!
//! Arguments: `filename=FILE` (read through the connection's sandbox: a path inside the
//! database's directory, or the `OpenOptions::sandbox_root`; nothing outside it) or
//! `data=TEXT` (the CSV itself); `header=yes|no` (the first row names the columns);
//! `columns=N`; `schema='CREATE TABLE x(...)'`; `delimiter=C` and `quote=C` (one ASCII
//! character each; `,` and `"` by default). Without a header, columns are `c0`, `c1`, ...
//! Values are text; the rowid is the record's number, from 1.
//!
//! ```
//! use sandlite_driver::{Connection, vtab::csvtab};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("people.csv"), "name,age\nAda,36\n\"Hopper, Grace\",85\n")?;
//! let conn = Connection::open(dir.path().join("app.db"))?;
//! csvtab::load_module(&conn)?;
//! conn.execute_batch("CREATE VIRTUAL TABLE people USING csv(filename='people.csv', header=yes)")?;
//! let oldest: String = conn.query_row(
//!     "SELECT name FROM people ORDER BY CAST(age AS INTEGER) DESC LIMIT 1", [], |r| r.get(0))?;
//! assert_eq!(oldest, "Hopper, Grace");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{
    Context, CreateVTab, Filters, IndexInfo, VTab, VTabConnection, VTabCursor, VTabKind,
    escape_double_quote, parameter, parse_boolean,
};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::ffi;
use crate::types::ValueRef;
use sandlite_vfs::{OpenFlags, Vfs, VfsFile};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::sync::Arc;

/// The most bytes one CSV record may hold.
const MAX_RECORD: usize = 64 << 20;
/// Bytes read from the file at a time.
const CHUNK: usize = 64 << 10;

/// Registers the module `csv` on `conn`; its files are read through `conn`'s sandbox.
///
/// # Errors
/// SQLite's error.
pub fn load_module(conn: &Connection) -> Result<()> {
    let vfs = conn.inner()?.sqlite.vfs().clone();
    conn.create_module("csv", super::read_only_module::<CsvTab>(), Some(vfs))
}

/// Where the CSV comes from.
#[derive(Clone)]
enum Origin {
    File { vfs: Vfs, path: String },
    Data(Arc<Vec<u8>>),
}

impl Origin {
    fn open(&self) -> Result<Source> {
        match self {
            Origin::File { vfs, path } => {
                let fail = |e: sandlite_vfs::VfsError| {
                    Error::ModuleError(format!("cannot open CSV file {path}: {}", e.message()))
                };
                let full = vfs.full_pathname(path).map_err(fail)?;
                let file = vfs
                    .open(Some(&full.path), OpenFlags::READONLY)
                    .map_err(fail)?;
                let size = file.file_size().map_err(fail)?;
                Ok(Source::File { file, size })
            }
            Origin::Data(data) => Ok(Source::Data(data.clone())),
        }
    }
}

enum Source {
    File { file: VfsFile, size: u64 },
    Data(Arc<Vec<u8>>),
}

impl Source {
    /// Reads at `offset` into `buf`; the number of bytes read (0 at the end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        match self {
            Source::File { file, size } => {
                let n = size.saturating_sub(offset).min(buf.len() as u64) as usize;
                file.read(&mut buf[..n], offset).map_err(|e| {
                    Error::ModuleError(format!("cannot read CSV file: {}", e.message()))
                })?;
                Ok(n)
            }
            Source::Data(data) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let n = (data.len() - start).min(buf.len());
                buf[..n].copy_from_slice(&data[start..start + n]);
                Ok(n)
            }
        }
    }
}

/// Reads RFC 4180 records (quoted fields with doubled quotes and line breaks; LF or
/// CRLF line ends), skipping empty lines.
struct Reader {
    source: Source,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    buf: Vec<u8>,
    at: usize,
    delimiter: u8,
    quote: u8,
}

impl Reader {
    fn new(source: Source, delimiter: u8, quote: u8) -> Reader {
        Reader {
            source,
            buf_offset: 0,
            buf: Vec::new(),
            at: 0,
            delimiter,
            quote,
        }
    }

    /// The offset of the next unread byte.
    fn position(&self) -> u64 {
        self.buf_offset + self.at as u64
    }

    fn seek(&mut self, offset: u64) {
        self.buf_offset = offset;
        self.buf.clear();
        self.at = 0;
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        if self.at == self.buf.len() {
            let next = self.position();
            self.buf.resize(CHUNK, 0);
            let n = self.source.read_at(&mut self.buf, next)?;
            self.buf.truncate(n);
            self.buf_offset = next;
            self.at = 0;
            if n == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.at]))
    }

    fn bump(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.at += 1;
        }
        Ok(b)
    }

    /// Reads the next record into `fields`; false at the end of the input.
    fn read_record(&mut self, fields: &mut Vec<Vec<u8>>) -> Result<bool> {
        loop {
            fields.clear();
            let mut field = Vec::new();
            let mut size = 0usize;
            let mut in_quotes = false;
            let mut quoted = false;
            let mut empty_line = true;
            loop {
                let Some(b) = self.bump()? else {
                    if empty_line {
                        return Ok(false);
                    }
                    fields.push(field);
                    return Ok(true);
                };
                size += 1;
                if size > MAX_RECORD {
                    return Err(Error::ModuleError(format!(
                        "CSV record longer than {MAX_RECORD} bytes"
                    )));
                }
                if in_quotes {
                    if b == self.quote {
                        if self.peek()? == Some(self.quote) {
                            self.bump()?;
                            field.push(b);
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        field.push(b);
                    }
                    continue;
                }
                match b {
                    b'\n' | b'\r' => {
                        if b == b'\r' && self.peek()? == Some(b'\n') {
                            self.bump()?;
                        }
                        if empty_line {
                            break; // skip an empty line
                        }
                        fields.push(field);
                        return Ok(true);
                    }
                    _ if b == self.quote && field.is_empty() && !quoted => {
                        in_quotes = true;
                        quoted = true;
                    }
                    _ if b == self.delimiter => {
                        fields.push(std::mem::take(&mut field));
                        quoted = false;
                    }
                    _ => field.push(b),
                }
                empty_line = false;
            }
        }
    }
}

/// One-character argument (`delimiter`, `quote`).
fn single_char(name: &str, value: &str) -> Result<u8> {
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(Error::ModuleError(format!(
            "{name} must be one ASCII character, not '{value}'"
        ))),
    }
}

/// A CSV virtual table.
#[repr(C)]
pub struct CsvTab {
    base: ffi::sqlite3_vtab,
    origin: Origin,
    delimiter: u8,
    quote: u8,
    /// Offset of the first data record (past the header).
    data_offset: u64,
}

// SAFETY: cursors keep no borrow of the table.
unsafe impl<'vtab> VTab<'vtab> for CsvTab {
    type Aux = Vfs;
    type Cursor = CsvTabCursor<'vtab>;

    fn connect(
        _: &mut VTabConnection<'_>,
        aux: Option<&Vfs>,
        args: &[&[u8]],
    ) -> Result<(String, CsvTab)> {
        let mut filename = None;
        let mut data = None;
        let mut schema = None;
        let mut n_columns: Option<usize> = None;
        let mut header = false;
        let mut delimiter = b',';
        let mut quote = b'"';
        for arg in args.iter().skip(3) {
            let (key, value) = parameter(arg)?;
            match key {
                "filename" => filename = Some(value.to_owned()),
                "data" => data = Some(value.to_owned()),
                "schema" => schema = Some(value.to_owned()),
                "columns" => {
                    n_columns = match value.parse::<usize>() {
                        Ok(n) if n > 0 => Some(n),
                        _ => {
                            return Err(Error::ModuleError(format!(
                                "columns must be a positive integer, not '{value}'"
                            )));
                        }
                    }
                }
                "header" => {
                    header = parse_boolean(value).ok_or_else(|| {
                        Error::ModuleError(format!("header must be yes or no, not '{value}'"))
                    })?;
                }
                "delimiter" => delimiter = single_char("delimiter", value)?,
                "quote" => quote = single_char("quote", value)?,
                _ => {
                    return Err(Error::ModuleError(format!(
                        "unrecognized parameter '{key}'"
                    )));
                }
            }
        }
        let origin = match (filename, data) {
            (Some(path), None) => {
                let vfs = aux
                    .cloned()
                    .ok_or_else(|| Error::ModuleError("csv module has no sandbox".into()))?;
                Origin::File { vfs, path }
            }
            (None, Some(text)) => Origin::Data(Arc::new(text.into_bytes())),
            (None, None) => return Err(Error::ModuleError("no CSV file specified".into())),
            (Some(_), Some(_)) => {
                return Err(Error::ModuleError(
                    "only one of filename= and data= may be given".into(),
                ));
            }
        };
        let mut reader = Reader::new(origin.open()?, delimiter, quote);
        let mut first = Vec::new();
        let has_first = reader.read_record(&mut first)?;
        let data_offset = if header { reader.position() } else { 0 };
        let schema = match schema {
            Some(s) => s,
            None => {
                let n = n_columns.unwrap_or(if has_first { first.len() } else { 1 });
                let columns: Vec<String> = (0..n)
                    .map(|i| match first.get(i) {
                        Some(name) if header => {
                            let name = String::from_utf8_lossy(name);
                            format!("\"{}\" TEXT", escape_double_quote(&name))
                        }
                        _ => format!("c{i} TEXT"),
                    })
                    .collect();
                format!("CREATE TABLE x({})", columns.join(", "))
            }
        };
        Ok((
            schema,
            CsvTab {
                base: ffi::sqlite3_vtab::default(),
                origin,
                delimiter,
                quote,
                data_offset,
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
        info.set_estimated_cost(1_000_000.0);
        Ok(())
    }

    fn open(&mut self) -> Result<CsvTabCursor<'_>> {
        Ok(CsvTabCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            reader: Reader::new(self.origin.open()?, self.delimiter, self.quote),
            data_offset: self.data_offset,
            row_number: 0,
            fields: Vec::new(),
            eof: false,
            phantom: PhantomData,
        })
    }
}

impl CreateVTab<'_> for CsvTab {
    const KIND: VTabKind = VTabKind::Default;
}

/// A cursor over a [`CsvTab`].
#[repr(C)]
pub struct CsvTabCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    reader: Reader,
    data_offset: u64,
    row_number: i64,
    fields: Vec<Vec<u8>>,
    eof: bool,
    phantom: PhantomData<&'vtab CsvTab>,
}

// SAFETY: nothing beyond the trait's rules.
unsafe impl VTabCursor for CsvTabCursor<'_> {
    fn filter(&mut self, _: c_int, _: Option<&str>, _: &Filters<'_>) -> Result<()> {
        self.reader.seek(self.data_offset);
        self.row_number = 0;
        self.eof = false;
        self.next()
    }

    fn next(&mut self) -> Result<()> {
        if self.reader.read_record(&mut self.fields)? {
            self.row_number += 1;
        } else {
            self.eof = true;
        }
        Ok(())
    }

    fn eof(&self) -> bool {
        self.eof
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        match usize::try_from(i).ok().and_then(|i| self.fields.get(i)) {
            Some(field) => ctx.set_result(&ValueRef::Text(field)),
            None => ctx.set_result(&crate::types::Null),
        }
    }

    fn rowid(&self) -> Result<i64> {
        Ok(self.row_number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<Vec<String>> {
        let mut r = Reader::new(Source::Data(Arc::new(text.as_bytes().to_vec())), b',', b'"');
        let mut out = Vec::new();
        let mut fields = Vec::new();
        while r.read_record(&mut fields).unwrap() {
            out.push(
                fields
                    .iter()
                    .map(|f| String::from_utf8(f.clone()).unwrap())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn parses_rfc4180() {
        assert_eq!(
            records("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",\n"),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["x, y".to_owned(), "say \"hi\"".to_owned()],
                vec!["two\nlines".to_owned(), String::new()],
            ]
        );
        assert_eq!(records(""), Vec::<Vec<String>>::new());
        assert_eq!(records("last"), vec![vec!["last".to_owned()]]);
        // An unterminated quote takes the rest of the input as its field.
        assert_eq!(records("\"open,end"), vec![vec!["open,end".to_owned()]]);
    }
}
