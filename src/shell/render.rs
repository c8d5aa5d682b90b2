//! Output modes: how the rows of one statement are written.

use super::csv::write_csv_field;
use super::values::{Cell, json_string};
use std::io::{self, Write};

/// The output modes of `.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Values separated by `|`, one row per line (sqlite3's default).
    List,
    /// RFC 4180 CSV.
    Csv,
    /// Left-aligned columns, two spaces apart, header underlined with dashes.
    Column,
    /// An ASCII box (`+---+`), header centred.
    Table,
    /// An array of objects, one per row.
    Json,
}

impl Mode {
    pub const NAMES: &str = "list, csv, column, table, json";

    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name.to_ascii_lowercase().as_str() {
            "list" => Mode::List,
            "csv" => Mode::Csv,
            "column" => Mode::Column,
            "table" => Mode::Table,
            "json" => Mode::Json,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::List => "list",
            Mode::Csv => "csv",
            Mode::Column => "column",
            Mode::Table => "table",
            Mode::Json => "json",
        }
    }
}

/// The most bytes column and table modes keep to lay out one statement's rows: the
/// cells' display text plus 8 bytes per cell (128 MiB). A result beyond it is shown up
/// to that point and then fails with [`RowError::TooLarge`]; list, csv and json modes
/// stream rows and have no such limit.
pub const MAX_LAYOUT_BYTES: usize = 128 << 20;

/// Why a row could not be written.
#[derive(Debug)]
pub enum RowError {
    /// Writing the output failed.
    Output(io::Error),
    /// Column or table mode holds [`MAX_LAYOUT_BYTES`] already (or memory ran out):
    /// the rows held were written, the rest cannot be.
    TooLarge { rows: usize },
}

impl From<io::Error> for RowError {
    fn from(e: io::Error) -> RowError {
        RowError::Output(e)
    }
}

/// Writes the rows of one statement. List, csv and json stream each row; column and
/// table keep the rows until [`finish`](Self::finish) because widths depend on all of
/// them. Nothing is written for a statement without rows.
pub struct Renderer {
    mode: Mode,
    headers: bool,
    columns: Vec<String>,
    rows_written: usize,
    /// Column and table modes: every held cell's display text, back to back...
    held_text: String,
    /// ... and where each cell ends in `held_text`, row after row.
    held_ends: Vec<usize>,
}

impl Renderer {
    pub fn new(mode: Mode, headers: bool, columns: Vec<String>) -> Renderer {
        Renderer {
            mode,
            headers,
            columns,
            rows_written: 0,
            held_text: String::new(),
            held_ends: Vec::new(),
        }
    }

    /// Writes (or keeps) one row.
    ///
    /// # Errors
    /// Failure to write `out`; [`RowError::TooLarge`] when column or table mode cannot
    /// keep another row (after writing the rows it holds).
    pub fn row(&mut self, out: &mut dyn Write, cells: &[Cell]) -> Result<(), RowError> {
        let first = self.rows_written == 0;
        match self.mode {
            Mode::List | Mode::Csv => {
                let csv = self.mode == Mode::Csv;
                let separator: &[u8] = if csv { b"," } else { b"|" };
                if first && self.headers {
                    let names = self.columns.iter().map(|c| Some(c.as_bytes()));
                    write_joined(out, names, separator, csv)?;
                }
                // NULL is an empty field; an empty string is `""` in csv mode.
                let fields = cells
                    .iter()
                    .map(|c| (*c != Cell::Null).then(|| c.display_bytes("")));
                write_joined(out, fields, separator, csv)?;
            }
            Mode::Json => {
                out.write_all(if first { b"[{" } else { b",\n{" })?;
                for (i, (name, cell)) in self.columns.iter().zip(cells).enumerate() {
                    let mut key = String::from(if i > 0 { "," } else { "" });
                    json_string(name, &mut key);
                    key.push(':');
                    out.write_all(key.as_bytes())?;
                    cell.write_json(out)?;
                }
                out.write_all(b"}")?;
            }
            Mode::Column | Mode::Table => {
                if !self.hold(cells) {
                    let rows = self.rows_written;
                    self.finish(out)?;
                    return Err(RowError::TooLarge { rows });
                }
            }
        }
        self.rows_written += 1;
        Ok(())
    }

    /// Keeps one row for the layout; false (keeping nothing of it) if it does not fit
    /// in [`MAX_LAYOUT_BYTES`] or memory runs out.
    fn hold(&mut self, cells: &[Cell]) -> bool {
        let (text_len, ends_len) = (self.held_text.len(), self.held_ends.len());
        let fits = |held: &mut Renderer, piece: &str| {
            let used = held.held_text.len() + held.held_ends.len() * size_of::<usize>();
            used + piece.len() + size_of::<usize>() <= MAX_LAYOUT_BYTES
                && held.held_text.try_reserve(piece.len()).is_ok()
        };
        for cell in cells {
            let bytes = cell.display_bytes("");
            // Invalid UTF-8 shows as U+FFFD; appended chunk by chunk, never copied whole.
            for chunk in bytes.utf8_chunks() {
                let invalid = !chunk.invalid().is_empty();
                if !fits(self, chunk.valid()) || (invalid && !fits(self, "\u{fffd}")) {
                    self.held_text.truncate(text_len);
                    self.held_ends.truncate(ends_len);
                    return false;
                }
                self.held_text.push_str(chunk.valid());
                if invalid {
                    self.held_text.push(char::REPLACEMENT_CHARACTER);
                }
            }
            if !fits(self, "") || self.held_ends.try_reserve(1).is_err() {
                self.held_text.truncate(text_len);
                self.held_ends.truncate(ends_len);
                return false;
            }
            self.held_ends.push(self.held_text.len());
        }
        true
    }

    /// Ends the statement's output.
    ///
    /// # Errors
    /// Failure to write `out`.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let result = match self.mode {
            Mode::Json if self.rows_written > 0 => out.write_all(b"]\n"),
            Mode::Column if !self.held_ends.is_empty() => self.write_columns(out),
            Mode::Table if !self.held_ends.is_empty() => self.write_table(out),
            _ => Ok(()),
        };
        // Written: a second call writes nothing more.
        self.rows_written = 0;
        self.held_text = String::new();
        self.held_ends = Vec::new();
        result
    }

    /// The held rows, each as its cells' text.
    fn held_rows(&self) -> impl Iterator<Item = Vec<&str>> {
        let n = self.columns.len().max(1);
        self.held_ends.chunks(n).enumerate().map(move |(r, ends)| {
            let mut start = if r == 0 { 0 } else { self.held_ends[r * n - 1] };
            ends.iter()
                .map(|&end| {
                    let cell = &self.held_text[start..end];
                    start = end;
                    cell
                })
                .collect()
        })
    }

    /// Each column's width in characters, and whether any cell spans several lines.
    fn layout(&self) -> (Vec<usize>, bool) {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c)).collect();
        let mut multi_line = false;
        for row in self.held_rows() {
            for (i, cell) in row.iter().enumerate() {
                for (k, line) in cell.split('\n').enumerate() {
                    multi_line |= k > 0;
                    widths[i] = widths[i].max(width(line));
                }
            }
        }
        (widths, multi_line)
    }

    fn write_columns(&self, out: &mut dyn Write) -> io::Result<()> {
        let (widths, multi_line) = self.layout();
        let pad_line = |cells: &mut dyn Iterator<Item = (usize, &str)>| -> String {
            cells
                .map(|(i, s)| pad(s, widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
        };
        if self.headers {
            let header = pad_line(&mut self.columns.iter().map(String::as_str).enumerate());
            let rule = widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ");
            writeln!(out, "{header}\n{rule}")?;
        }
        for (r, row) in self.held_rows().enumerate() {
            if r > 0 && multi_line {
                writeln!(out)?;
            }
            let row: Vec<Vec<&str>> = row.iter().map(|c| c.split('\n').collect()).collect();
            let height = row.iter().map(Vec::len).max().unwrap_or(1);
            for l in 0..height {
                let line = pad_line(
                    &mut row
                        .iter()
                        .map(|lines| lines.get(l).copied().unwrap_or(""))
                        .enumerate(),
                );
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }

    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let (widths, multi_line) = self.layout();
        let border = format!(
            "+{}+",
            widths
                .iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("+")
        );
        // Table mode always shows the column names, as sqlite3's does.
        let header: Vec<String> = self
            .columns
            .iter()
            .zip(&widths)
            .map(|(name, &w)| {
                let room = w - width(name);
                format!(
                    "{}{name}{}",
                    " ".repeat(room / 2),
                    " ".repeat(room.div_ceil(2))
                )
            })
            .collect();
        writeln!(out, "{border}\n| {} |\n{border}", header.join(" | "))?;
        for (r, row) in self.held_rows().enumerate() {
            if r > 0 && multi_line {
                writeln!(out, "{border}")?;
            }
            let row: Vec<Vec<&str>> = row.iter().map(|c| c.split('\n').collect()).collect();
            let height = row.iter().map(Vec::len).max().unwrap_or(1);
            for l in 0..height {
                let cells: Vec<String> = row
                    .iter()
                    .zip(&widths)
                    .map(|(lines, &w)| pad(lines.get(l).copied().unwrap_or(""), w))
                    .collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
        }
        writeln!(out, "{border}")
    }
}

/// One line of fields; `None` (NULL) is written as nothing. Fields go to `out` as they
/// are (a value of any size is not copied into a line).
fn write_joined(
    out: &mut dyn Write,
    fields: impl Iterator<Item = Option<impl AsRef<[u8]>>>,
    separator: &[u8],
    csv: bool,
) -> io::Result<()> {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.write_all(separator)?;
        }
        match field {
            Some(field) if csv => write_csv_field(field.as_ref(), out)?,
            Some(field) => out.write_all(field.as_ref())?,
            None => {}
        }
    }
    out.write_all(b"\n")
}

/// Display width in characters.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` left-aligned in `w` characters.
fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(mode: Mode, headers: bool, rows: &[Vec<Cell>]) -> String {
        let mut r = Renderer::new(mode, headers, vec!["a".into(), "bb".into()]);
        let mut out = Vec::new();
        for row in rows {
            r.row(&mut out, row).unwrap();
        }
        r.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn sample() -> Vec<Vec<Cell>> {
        vec![
            vec![Cell::Integer(1), Cell::Text(b"hello".to_vec())],
            vec![Cell::Real(2.5), Cell::Null],
        ]
    }

    #[test]
    fn every_mode() {
        assert_eq!(render(Mode::List, true, &sample()), "a|bb\n1|hello\n2.5|\n");
        assert_eq!(render(Mode::Csv, false, &sample()), "1,hello\n2.5,\n");
        let empty = vec![vec![Cell::Text(Vec::new()), Cell::Text(b"a,b".to_vec())]];
        assert_eq!(render(Mode::Csv, true, &empty), "a,bb\n\"\",\"a,b\"\n");
        assert_eq!(
            render(Mode::Column, true, &sample()),
            "a    bb   \n---  -----\n1    hello\n2.5       \n"
        );
        assert_eq!(
            render(Mode::Table, false, &sample()),
            "+-----+-------+\n|  a  |  bb   |\n+-----+-------+\n| 1   | hello |\n| 2.5 |       |\n+-----+-------+\n"
        );
        assert_eq!(
            render(Mode::Json, false, &sample()),
            "[{\"a\":1,\"bb\":\"hello\"},\n{\"a\":2.5,\"bb\":null}]\n"
        );
    }

    #[test]
    fn no_rows_no_output() {
        for mode in [Mode::List, Mode::Csv, Mode::Column, Mode::Table, Mode::Json] {
            assert_eq!(render(mode, true, &[]), "", "{mode:?}");
        }
    }

    #[test]
    fn column_modes_stop_at_the_layout_limit_after_showing_what_they_hold() {
        let wide = Cell::Text(vec![b'x'; 1 << 20]);
        let mut r = Renderer::new(Mode::Table, true, vec!["a".into()]);
        let mut out = Vec::new();
        let mut held = 0;
        let rows = loop {
            match r.row(&mut out, std::slice::from_ref(&wide)) {
                Ok(()) => held += 1,
                Err(RowError::TooLarge { rows }) => break rows,
                Err(RowError::Output(e)) => panic!("{e}"),
            }
            assert!(held < 1000, "never stopped");
        };
        assert_eq!(rows, held);
        assert_eq!(held, MAX_LAYOUT_BYTES / ((1 << 20) + 8));
        let text = String::from_utf8(out).unwrap();
        // Header (3 lines), the rows, the closing border.
        assert_eq!(text.lines().count(), 3 + held + 1);
        assert!(text.ends_with("-+\n"));
        // Finished: nothing more is written.
        let mut more = Vec::new();
        r.finish(&mut more).unwrap();
        assert!(more.is_empty());
    }

    #[test]
    fn multi_line_cells_in_a_table() {
        let rows = vec![
            vec![Cell::Integer(1), Cell::Text(b"x\ny".to_vec())],
            vec![Cell::Integer(2), Cell::Text(b"z".to_vec())],
        ];
        assert_eq!(
            render(Mode::Table, true, &rows),
            "+---+----+\n| a | bb |\n+---+----+\n| 1 | x  |\n|   | y  |\n+---+----+\n| 2 | z  |\n+---+----+\n"
        );
    }
}
