//! `.dump`: the database as SQL text that recreates its schema and data exactly.
//!
//! The layout follows sqlite3's `.dump`, so either shell can read the other's output:
//! tables and their rows first (in creation order, `sqlite_sequence` last), then
//! indexes, triggers and views; virtual tables go straight into `sqlite_schema` (their
//! shadow tables are dumped as ordinary tables), so no module code runs on load.

use super::Failure;
use super::values::{
    Cell, exact_real_expression, quote_identifier, real_is_plain, real_literal, write_text_literal,
};
use sandlite::Connection;
use std::io::Write;

/// Writes the dump of the main database, or of the tables whose names match the LIKE
/// `pattern` (with their indexes and triggers).
///
/// # Errors
/// A failing query (the output then ends in `ROLLBACK`) or failure to write `out`.
pub fn dump(conn: &Connection, out: &mut dyn Write, pattern: Option<&str>) -> Result<(), Failure> {
    writeln!(out, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;")?;
    match dump_body(conn, out, pattern) {
        Ok(()) => {
            writeln!(out, "COMMIT;")?;
            Ok(())
        }
        Err(Failure::Db(e)) => {
            writeln!(out, "ROLLBACK; -- due to errors")?;
            Err(Failure::Db(e))
        }
        Err(other) => Err(other),
    }
}

fn dump_body(conn: &Connection, out: &mut dyn Write, pattern: Option<&str>) -> Result<(), Failure> {
    let tables: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_schema \
             WHERE type = 'table' AND sql NOT NULL AND (?1 IS NULL OR tbl_name LIKE ?1) \
             ORDER BY tbl_name = 'sqlite_sequence', rowid",
        )?;
        stmt.query_map([pattern], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut writable_schema = false;
    let mut analyzed = false;
    for (name, sql) in &tables {
        if name == "sqlite_sequence" {
            writeln!(out, "DELETE FROM sqlite_sequence;")?;
        } else if is_stat_table(name) {
            // ANALYZE creates the statistics tables; their rows follow.
            if !analyzed {
                writeln!(out, "ANALYZE sqlite_schema;")?;
                analyzed = true;
            }
        } else if name.starts_with("sqlite_") {
            continue;
        } else if starts_with_ignore_case(sql, "CREATE VIRTUAL TABLE") {
            if !writable_schema {
                writeln!(out, "PRAGMA writable_schema=ON;")?;
                writable_schema = true;
            }
            out.write_all(
                b"INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table',",
            )?;
            write_text_literal(name.as_bytes(), out)?;
            out.write_all(b",")?;
            write_text_literal(name.as_bytes(), out)?;
            out.write_all(b",0,")?;
            write_text_literal(sql.as_bytes(), out)?;
            out.write_all(b");\n")?;
            continue;
        } else if let Some(rest) = sql
            .strip_prefix("CREATE TABLE ")
            .filter(|r| r.starts_with(['\'', '"']))
        {
            // A quoted name is how shadow tables of virtual tables look: their module
            // may already have created them when the dump is loaded.
            writeln!(out, "CREATE TABLE IF NOT EXISTS {rest};")?;
        } else {
            writeln!(out, "{sql};")?;
        }
        dump_rows(conn, out, name)?;
    }
    let mut stmt = conn.prepare(
        "SELECT sql FROM sqlite_schema \
         WHERE sql NOT NULL AND type IN ('index', 'trigger', 'view') \
         AND (?1 IS NULL OR tbl_name LIKE ?1) ORDER BY rowid",
    )?;
    let mut rows = stmt.query([pattern])?;
    while let Some(row) = rows.next()? {
        let sql: String = row.get(0)?;
        writeln!(out, "{sql};")?;
    }
    if writable_schema {
        writeln!(out, "PRAGMA writable_schema=OFF;")?;
    }
    Ok(())
}

/// `sqlite_stat1` .. `sqlite_stat4` (sqlite3's `sqlite_stat?` glob).
fn is_stat_table(name: &str) -> bool {
    name.len() == "sqlite_stat1".len() && name.starts_with("sqlite_stat")
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The columns an INSERT can set, and whether that is fewer than all of them (hidden
/// and generated columns cannot be inserted).
pub fn insertable_columns(conn: &Connection, table: &str) -> Result<(Vec<String>, bool), Failure> {
    let mut stmt = conn.prepare("SELECT name, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")?;
    let all: Vec<(String, i64)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let total = all.len();
    let insertable: Vec<String> = all
        .into_iter()
        .filter(|(_, hidden)| *hidden == 0)
        .map(|(name, _)| name)
        .collect();
    let partial = insertable.len() < total;
    Ok((insertable, partial))
}

/// One `INSERT` per row of `table`.
fn dump_rows(conn: &Connection, out: &mut dyn Write, table: &str) -> Result<(), Failure> {
    let (columns, partial) = insertable_columns(conn, table)?;
    if columns.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let target = if partial {
        format!("{}({})", quote_identifier(table), quoted.join(","))
    } else {
        quote_identifier(table)
    };
    // NOT INDEXED: rows in table order (rowid order), so a reloaded table gets the
    // same rowids, even when a covering index would be quicker to scan.
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {} NOT INDEXED",
        quoted.join(","),
        quote_identifier(table)
    ))?;
    let mut rows = stmt.query([])?;
    let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(CHUNK_ROWS);
    let mut chunk_bytes = 0;
    while let Some(row) = rows.next()? {
        let cells: Vec<Cell> = (0..columns.len())
            .map(|i| row.get::<_, Cell>(i))
            .collect::<Result<_, _>>()?;
        chunk_bytes += cells.iter().map(Cell::heap_bytes).sum::<usize>();
        chunk.push(cells);
        if chunk.len() == CHUNK_ROWS || chunk_bytes >= CHUNK_BYTES {
            chunk_bytes = 0;
            write_inserts(conn, out, &target, &chunk)?;
            chunk.clear();
        }
    }
    write_inserts(conn, out, &target, &chunk)
}

/// Rows are written in chunks so that one query checks all the real literals of a
/// chunk.
const CHUNK_ROWS: usize = 256;
/// ... or fewer, when their text and blobs reach this many bytes (so big values are not
/// held 256 at a time).
const CHUNK_BYTES: usize = 16 << 20;
/// Literals checked per query (SQLite allows 2000 result columns by default).
const CHECKS_PER_QUERY: usize = 500;

fn write_inserts(
    conn: &Connection,
    out: &mut dyn Write,
    target: &str,
    rows: &[Vec<Cell>],
) -> Result<(), Failure> {
    let reals: Vec<f64> = rows
        .iter()
        .flatten()
        .filter_map(|cell| match cell {
            Cell::Real(r) if !real_is_plain(*r) => Some(*r),
            _ => None,
        })
        .collect();
    let mut real_literals = exact_real_literals(conn, &reals)?.into_iter();
    // Written piece by piece: a value of any size is never copied into a line.
    for row in rows {
        write!(out, "INSERT INTO {target} VALUES(")?;
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match cell {
                Cell::Real(r) if !real_is_plain(*r) => {
                    let literal = real_literals.next().unwrap_or_else(|| real_literal(*r));
                    out.write_all(literal.as_bytes())?;
                }
                other => other.write_sql_literal(out)?,
            }
        }
        out.write_all(b");\n")?;
    }
    Ok(())
}

/// A literal for each real that this SQLite reads back as the same double: the
/// shortest decimal where SQLite's parser gets it right (nearly always; not for some
/// very large or small exponents), an exact power-of-two expression otherwise.
fn exact_real_literals(conn: &Connection, reals: &[f64]) -> Result<Vec<String>, Failure> {
    let mut literals: Vec<String> = reals.iter().map(|r| real_literal(*r)).collect();
    for (batch, values) in literals
        .chunks_mut(CHECKS_PER_QUERY)
        .zip(reals.chunks(CHECKS_PER_QUERY))
    {
        let mut stmt = conn.prepare(&format!("SELECT {}", batch.join(",")))?;
        let mut rows = stmt.query([])?;
        let Some(row) = rows.next()? else {
            continue;
        };
        for (i, (literal, value)) in batch.iter_mut().zip(values).enumerate() {
            let parsed = row.get::<_, Cell>(i)?;
            if !matches!(parsed, Cell::Real(p) if p.to_bits() == value.to_bits()) {
                *literal = exact_real_expression(*value);
            }
        }
    }
    Ok(literals)
}
