//! Output modes: how the rows of one statement are written.

use super::csv::write_csv_field;
use super::values::{Cell, json_string, quote_identifier, write_hex};
use std::borrow::Cow;
use std::io::{self, Write};

/// The output modes of `.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Values separated by the column separator (`|`), one row per line (sqlite3's
    /// default). `.mode tabs` is list mode with a tab as the separator.
    List,
    /// RFC 4180 CSV.
    Csv,
    /// Left-aligned columns, two spaces apart, header underlined with dashes.
    Column,
    /// An ASCII box (`+---+`), header centred.
    Table,
    /// A box drawn with Unicode line characters, header centred.
    Box,
    /// A Markdown table.
    Markdown,
    /// An array of objects, one per row.
    Json,
    /// One `name = value` line per value, a blank line between rows.
    Line,
    /// SQL `INSERT` statements into a table.
    Insert,
    /// Values as SQL literals, separated by commas.
    Quote,
    /// HTML table rows.
    Html,
}

impl Mode {
    pub const NAMES: &str =
        "box, column, csv, html, insert, json, line, list, markdown, quote, table, tabs";

    /// The mode named `name`; `tabs` is list mode (its separator is set by the caller).
    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name.to_ascii_lowercase().as_str() {
            "list" | "tabs" => Mode::List,
            "csv" => Mode::Csv,
            "column" => Mode::Column,
            "table" => Mode::Table,
            "box" => Mode::Box,
            "markdown" => Mode::Markdown,
            "json" => Mode::Json,
            "line" => Mode::Line,
            "insert" => Mode::Insert,
            "quote" => Mode::Quote,
            "html" => Mode::Html,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::List => "list",
            Mode::Csv => "csv",
            Mode::Column => "column",
            Mode::Table => "table",
            Mode::Box => "box",
            Mode::Markdown => "markdown",
            Mode::Json => "json",
            Mode::Line => "line",
            Mode::Insert => "insert",
            Mode::Quote => "quote",
            Mode::Html => "html",
        }
    }

    /// Modes that must see every row before writing (widths depend on all of them).
    pub fn is_columnar(self) -> bool {
        matches!(
            self,
            Mode::Column | Mode::Table | Mode::Box | Mode::Markdown
        )
    }
}

/// Everything that decides how rows look: the mode and the settings of `.headers`,
/// `.separator`, `.nullvalue`, `.width` and `.mode insert TABLE`.
#[derive(Clone, Debug)]
pub struct Style {
    pub mode: Mode,
    pub headers: bool,
    /// Between values in list, csv and quote modes.
    pub column_separator: String,
    /// After each row in list, csv and quote modes.
    pub row_separator: String,
    /// How NULL shows in the modes that do not spell it as SQL or JSON.
    pub null_value: String,
    /// `.width`: per column, 0 for automatic, negative for right-aligned.
    pub widths: Vec<i64>,
    /// The table name of insert mode, as given (quoted when written if it must be).
    pub insert_table: String,
    /// Columnar modes cut longer lines of a value into lines of this many characters
    /// (0: never); `.mode column` (table, box, markdown) sets 60 as sqlite3 does.
    pub wrap: usize,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            mode: Mode::List,
            headers: false,
            column_separator: "|".into(),
            row_separator: "\n".into(),
            null_value: String::new(),
            widths: Vec::new(),
            insert_table: "table".into(),
            wrap: 0,
        }
    }
}

/// The most bytes column and table modes keep to lay out one statement's rows: the
/// cells' display text plus 8 bytes per cell (128 MiB). A result beyond it is shown up
/// to that point and then fails with [`RowError::TooLarge`]; the other modes stream
/// rows and have no such limit.
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

/// Writes the rows of one statement. The streaming modes write each row; the columnar
/// ones keep the rows until [`finish`](Self::finish) because widths depend on all of
/// them. Nothing is written for a statement without rows.
pub struct Renderer {
    style: Style,
    columns: Vec<String>,
    rows_written: usize,
    /// Columnar modes: every held cell's display text, back to back...
    held_text: String,
    /// ... and where each cell ends in `held_text`, row after row.
    held_ends: Vec<usize>,
}

/// The characters that draw a table: corners and joints of the top, middle and bottom
/// rules, the line itself, and the vertical bar.
struct Frame {
    top: Option<[&'static str; 3]>,
    middle: [&'static str; 3],
    bottom: Option<[&'static str; 3]>,
    line: &'static str,
    bar: &'static str,
}

const TABLE_FRAME: Frame = Frame {
    top: Some(["+", "+", "+"]),
    middle: ["+", "+", "+"],
    bottom: Some(["+", "+", "+"]),
    line: "-",
    bar: "|",
};

const BOX_FRAME: Frame = Frame {
    top: Some(["\u{250c}", "\u{252c}", "\u{2510}"]),
    middle: ["\u{251c}", "\u{253c}", "\u{2524}"],
    bottom: Some(["\u{2514}", "\u{2534}", "\u{2518}"]),
    line: "\u{2500}",
    bar: "\u{2502}",
};

const MARKDOWN_FRAME: Frame = Frame {
    top: None,
    middle: ["|", "|", "|"],
    bottom: None,
    line: "-",
    bar: "|",
};

impl Renderer {
    pub fn new(style: &Style, columns: Vec<String>) -> Renderer {
        Renderer {
            style: style.clone(),
            columns,
            rows_written: 0,
            held_text: String::new(),
            held_ends: Vec::new(),
        }
    }

    /// Writes (or keeps) one row.
    ///
    /// # Errors
    /// Failure to write `out`; [`RowError::TooLarge`] when a columnar mode cannot keep
    /// another row (after writing the rows it holds).
    pub fn row(&mut self, out: &mut dyn Write, cells: &[Cell]) -> Result<(), RowError> {
        let first = self.rows_written == 0;
        let style = &self.style;
        let col_sep = style.column_separator.as_bytes();
        let row_sep = style.row_separator.as_bytes();
        match style.mode {
            Mode::List | Mode::Csv => {
                let csv = style.mode == Mode::Csv;
                if first && style.headers {
                    let names = self.columns.iter().map(|c| (c.as_bytes().into(), csv));
                    write_joined(out, names, col_sep, row_sep)?;
                }
                // NULL is the null value as it is; an empty string is `""` in csv mode.
                let fields = cells
                    .iter()
                    .map(|c| (c.display_bytes(&style.null_value), csv && *c != Cell::Null));
                write_joined(out, fields, col_sep, row_sep)?;
            }
            Mode::Quote => {
                if first && style.headers {
                    for (i, name) in self.columns.iter().enumerate() {
                        if i > 0 {
                            out.write_all(col_sep)?;
                        }
                        super::values::write_quoted(name.as_bytes(), b'\'', out)?;
                    }
                    out.write_all(row_sep)?;
                }
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        out.write_all(col_sep)?;
                    }
                    write_quote_value(cell, false, out)?;
                }
                out.write_all(row_sep)?;
            }
            Mode::Insert => {
                write!(out, "INSERT INTO {}", quote_identifier(&style.insert_table))?;
                if style.headers {
                    let names: Vec<String> =
                        self.columns.iter().map(|c| quote_identifier(c)).collect();
                    write!(out, "({})", names.join(","))?;
                }
                out.write_all(b" VALUES(")?;
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    write_quote_value(cell, true, out)?;
                }
                out.write_all(b");\n")?;
            }
            Mode::Line => {
                let width = self
                    .columns
                    .iter()
                    .map(String::len)
                    .max()
                    .unwrap_or(0)
                    .max(5);
                if !first {
                    out.write_all(b"\n")?;
                }
                for (name, cell) in self.columns.iter().zip(cells) {
                    write!(out, "{name:>width$} = ")?;
                    out.write_all(&cell.display_bytes(&style.null_value))?;
                    out.write_all(b"\n")?;
                }
            }
            Mode::Html => {
                if first && style.headers {
                    out.write_all(b"<TR>")?;
                    for name in &self.columns {
                        out.write_all(b"<TH>")?;
                        write_html(name.as_bytes(), out)?;
                        out.write_all(b"</TH>\n")?;
                    }
                    out.write_all(b"</TR>\n")?;
                }
                out.write_all(b"<TR>")?;
                for cell in cells {
                    out.write_all(b"<TD>")?;
                    write_html(&cell.display_bytes(&style.null_value), out)?;
                    out.write_all(b"</TD>\n")?;
                }
                out.write_all(b"</TR>\n")?;
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
            Mode::Column | Mode::Table | Mode::Box | Mode::Markdown => {
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
        let null = std::mem::take(&mut self.style.null_value);
        let held = self.hold_cells(cells, &null);
        self.style.null_value = null;
        held
    }

    fn hold_cells(&mut self, cells: &[Cell], null: &str) -> bool {
        let (text_len, ends_len) = (self.held_text.len(), self.held_ends.len());
        let fits = |held: &mut Renderer, piece: &str| {
            let used = held.held_text.len() + held.held_ends.len() * size_of::<usize>();
            used + piece.len() + size_of::<usize>() <= MAX_LAYOUT_BYTES
                && held.held_text.try_reserve(piece.len()).is_ok()
        };
        for cell in cells {
            let bytes = cell.display_bytes(null);
            // Characters since the last line break, for tab stops.
            let mut column = 0;
            // Invalid UTF-8 shows as U+FFFD; appended chunk by chunk.
            for chunk in bytes.utf8_chunks() {
                let invalid = !chunk.invalid().is_empty();
                let shown = for_display(chunk.valid(), &mut column);
                if !fits(self, &shown) || (invalid && !fits(self, "\u{fffd}")) {
                    self.held_text.truncate(text_len);
                    self.held_ends.truncate(ends_len);
                    return false;
                }
                self.held_text.push_str(&shown);
                if invalid {
                    self.held_text.push(char::REPLACEMENT_CHARACTER);
                    column += 1;
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
        let result = match self.style.mode {
            Mode::Json if self.rows_written > 0 => out.write_all(b"]\n"),
            Mode::Column if !self.held_ends.is_empty() => self.write_columns(out),
            Mode::Table if !self.held_ends.is_empty() => self.write_framed(out, &TABLE_FRAME),
            Mode::Box if !self.held_ends.is_empty() => self.write_framed(out, &BOX_FRAME),
            Mode::Markdown if !self.held_ends.is_empty() => self.write_framed(out, &MARKDOWN_FRAME),
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

    /// The `.width` of column `i`: characters (0: automatic) and right alignment.
    fn set_width(&self, i: usize) -> (usize, bool) {
        let w = self.style.widths.get(i).copied().unwrap_or(0);
        (
            usize::try_from(w.unsigned_abs()).unwrap_or(usize::MAX),
            w < 0,
        )
    }

    /// How many characters a line of column `i` may hold: its `.width`, else the wrap
    /// (0: any number).
    fn line_limit(&self, i: usize) -> usize {
        match self.set_width(i).0 {
            0 => self.style.wrap,
            w => w,
        }
    }

    /// The lines a cell shows as: its own lines, each cut into pieces of the column's
    /// line limit when it has one.
    fn cell_lines<'a>(&self, i: usize, cell: &'a str) -> Vec<&'a str> {
        let w = self.line_limit(i);
        let mut lines = Vec::new();
        for line in cell.split('\n') {
            if w == 0 {
                lines.push(line);
                continue;
            }
            let mut rest = line;
            loop {
                let cut = rest.char_indices().nth(w).map_or(rest.len(), |(at, _)| at);
                lines.push(&rest[..cut]);
                rest = &rest[cut..];
                if rest.is_empty() {
                    break;
                }
            }
        }
        lines
    }

    /// Column `i`'s name as shown: cut to the column's `.width` when one is set.
    fn header<'a>(&self, i: usize, name: &'a str) -> &'a str {
        let w = self.line_limit(i);
        if w == 0 {
            return name;
        }
        let cut = name.char_indices().nth(w).map_or(name.len(), |(at, _)| at);
        &name[..cut]
    }

    /// Each column's width in characters, and whether any row spans several lines.
    fn layout(&self) -> (Vec<usize>, bool) {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| width(self.header(i, c)).max(self.set_width(i).0))
            .collect();
        let mut multi_line = false;
        for row in self.held_rows() {
            for (i, cell) in row.iter().enumerate() {
                let lines = self.cell_lines(i, cell);
                multi_line |= lines.len() > 1;
                for line in lines {
                    widths[i] = widths[i].max(width(line));
                }
            }
        }
        (widths, multi_line)
    }

    /// `s` aligned in column `i` of width `w`.
    fn align(&self, i: usize, s: &str, w: usize) -> String {
        let room = " ".repeat(w.saturating_sub(width(s)));
        if self.set_width(i).1 {
            format!("{room}{s}")
        } else {
            format!("{s}{room}")
        }
    }

    /// Each row as its lines, each line as one piece of text per column.
    fn row_lines<'a>(&self, row: &[&'a str]) -> Vec<Vec<&'a str>> {
        let cells: Vec<Vec<&str>> = row
            .iter()
            .enumerate()
            .map(|(i, c)| self.cell_lines(i, c))
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        (0..height)
            .map(|l| {
                cells
                    .iter()
                    .map(|lines| lines.get(l).copied().unwrap_or(""))
                    .collect()
            })
            .collect()
    }

    fn write_columns(&self, out: &mut dyn Write) -> io::Result<()> {
        let (widths, multi_line) = self.layout();
        if self.style.headers {
            let header: Vec<String> = self
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| self.align(i, self.header(i, c), widths[i]))
                .collect();
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            writeln!(out, "{}\n{}", header.join("  "), rule.join("  "))?;
        }
        for (r, row) in self.held_rows().enumerate() {
            if r > 0 && multi_line {
                writeln!(out)?;
            }
            for line in self.row_lines(&row) {
                let cells: Vec<String> = line
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.align(i, s, widths[i]))
                    .collect();
                writeln!(out, "{}", cells.join("  "))?;
            }
        }
        Ok(())
    }

    /// Table, box and markdown modes: the header always shows, centred.
    fn write_framed(&self, out: &mut dyn Write, frame: &Frame) -> io::Result<()> {
        let (widths, multi_line) = self.layout();
        let rule = |[left, joint, right]: [&str; 3]| {
            let lines: Vec<String> = widths.iter().map(|w| frame.line.repeat(w + 2)).collect();
            format!("{left}{}{right}\n", lines.join(joint))
        };
        let bar = frame.bar;
        if let Some(top) = frame.top {
            out.write_all(rule(top).as_bytes())?;
        }
        let header: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = self.header(i, name);
                let room = widths[i] - width(name);
                format!(
                    "{}{name}{}",
                    " ".repeat(room / 2),
                    " ".repeat(room.div_ceil(2))
                )
            })
            .collect();
        writeln!(out, "{bar} {} {bar}", header.join(&format!(" {bar} ")))?;
        out.write_all(rule(frame.middle).as_bytes())?;
        for (r, row) in self.held_rows().enumerate() {
            if r > 0 && multi_line && frame.top.is_some() {
                out.write_all(rule(frame.middle).as_bytes())?;
            }
            for line in self.row_lines(&row) {
                let cells: Vec<String> = line
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.align(i, s, widths[i]))
                    .collect();
                writeln!(out, "{bar} {} {bar}", cells.join(&format!(" {bar} ")))?;
            }
        }
        if let Some(bottom) = frame.bottom {
            out.write_all(rule(bottom).as_bytes())?;
        }
        Ok(())
    }
}

/// One line of fields, each written to `out` as it is or quoted for CSV (a value of any
/// size is not copied into a line).
fn write_joined<'a>(
    out: &mut dyn Write,
    fields: impl Iterator<Item = (Cow<'a, [u8]>, bool)>,
    separator: &[u8],
    row_separator: &[u8],
) -> io::Result<()> {
    for (i, (field, csv)) in fields.enumerate() {
        if i > 0 {
            out.write_all(separator)?;
        }
        if csv {
            write_csv_field(field.as_ref(), separator, out)?;
        } else {
            out.write_all(field.as_ref())?;
        }
    }
    out.write_all(row_separator)
}

/// A value as quote and insert modes write it: an SQL literal. Insert mode writes line
/// breaks in text through `replace()`, as sqlite3 does, so that each row is one line.
fn write_quote_value(cell: &Cell, insert: bool, out: &mut dyn Write) -> io::Result<()> {
    match cell {
        Cell::Null => out.write_all(b"NULL"),
        Cell::Integer(i) => write!(out, "{i}"),
        Cell::Real(r) => out.write_all(quote_real(*r).as_bytes()),
        Cell::Text(t) if insert => write_escaped_text(t, out),
        Cell::Text(t) => super::values::write_quoted(t, b'\'', out),
        Cell::Blob(b) => {
            out.write_all(b"X'")?;
            write_hex(b, out)?;
            out.write_all(b"'")
        }
    }
}

/// A real as sqlite3's quote and insert modes write it: integral values as `N.0`,
/// others with 20 significant digits (`printf("%!.20g")`), infinities as `9.0e+999`.
pub fn quote_real(r: f64) -> String {
    if r.is_infinite() {
        return if r > 0.0 { "9.0e+999" } else { "-9.0e+999" }.to_owned();
    }
    if r.is_nan() {
        return "NULL".to_owned();
    }
    // `(sqlite3_int64)r == r`: integral and within the range of a 64-bit integer.
    if r.fract() == 0.0 && r.abs() < 9_223_372_036_854_775_808.0_f64 {
        return format!("{}.0", r as i64);
    }
    super::values::format_significant(r, 20)
}

/// A marker for a line break inside a quoted text that the text does not hold itself:
/// `\n` (or `\r`), else `\012` (`\015`), else `(1)`, `(2)`, ...
fn unused_marker(text: &[u8], first: &str, second: &str) -> String {
    let holds = |m: &str| text.windows(m.len()).any(|w| w == m.as_bytes());
    if !holds(first) {
        return first.to_owned();
    }
    if !holds(second) {
        return second.to_owned();
    }
    (1u64..)
        .map(|n| format!("({n})"))
        .find(|m| !holds(m))
        .unwrap_or_default()
}

/// Insert mode's text literal: line breaks replaced by markers inside the quotes and
/// restored with `replace(..., 'MARKER', char(10))`, so that the statement is one line.
fn write_escaped_text(text: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let has_nl = text.contains(&b'\n');
    let has_cr = text.contains(&b'\r');
    if !has_nl && !has_cr {
        return super::values::write_quoted(text, b'\'', out);
    }
    let nl = has_nl.then(|| unused_marker(text, "\\n", "\\012"));
    let cr = has_cr.then(|| unused_marker(text, "\\r", "\\015"));
    if nl.is_some() {
        out.write_all(b"replace(")?;
    }
    if cr.is_some() {
        out.write_all(b"replace(")?;
    }
    let mut replaced = Vec::with_capacity(text.len());
    for &b in text {
        match (b, &nl, &cr) {
            (b'\n', Some(m), _) | (b'\r', _, Some(m)) => replaced.extend_from_slice(m.as_bytes()),
            _ => replaced.push(b),
        }
    }
    super::values::write_quoted(&replaced, b'\'', out)?;
    if let Some(m) = &cr {
        write!(out, ",'{m}',char(13))")?;
    }
    if let Some(m) = &nl {
        write!(out, ",'{m}',char(10))")?;
    }
    Ok(())
}

/// Text for HTML: `<`, `&`, `>`, `"` and `'` as entities.
fn write_html(text: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let mut plain = 0;
    for (at, &b) in text.iter().enumerate() {
        let entity: &[u8] = match b {
            b'<' => b"&lt;",
            b'&' => b"&amp;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.write_all(&text[plain..at])?;
        out.write_all(entity)?;
        plain = at + 1;
    }
    out.write_all(&text[plain..])
}

/// Text as the columnar modes show it, like sqlite3: a tab as spaces up to the next
/// multiple of 8 characters, a carriage return as a line break, other control
/// characters left out.
/// `column` counts the characters since the last line break.
fn for_display<'a>(text: &'a str, column: &mut usize) -> Cow<'a, str> {
    let plain = !text.bytes().any(|b| (b < b' ' && b != b'\n') || b == 0x7f);
    if plain {
        match text.rfind('\n') {
            Some(at) => *column = width(&text[at + 1..]),
            None => *column += width(text),
        }
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A carriage return ends a line too (with a line feed after it, once).
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                out.push('\n');
                *column = 0;
                continue;
            }
            '\t' => loop {
                out.push(' ');
                *column += 1;
                if (*column).is_multiple_of(8) {
                    break;
                }
            },
            // Other control characters are left out, as sqlite3 3.40 does.
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {}
            c => {
                out.push(c);
                *column += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Display width in characters.
fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(mode: Mode, headers: bool) -> Style {
        let column_separator = if mode == Mode::Csv { "," } else { "|" };
        Style {
            mode,
            headers,
            column_separator: column_separator.into(),
            ..Style::default()
        }
    }

    fn render(mode: Mode, headers: bool, rows: &[Vec<Cell>]) -> String {
        let mut r = Renderer::new(&style(mode, headers), vec!["a".into(), "bb".into()]);
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
    fn reals_in_quote_and_insert_modes() {
        assert_eq!(quote_real(0.1), "0.10000000000000000555");
        assert_eq!(quote_real(123.456), "123.45600000000000307");
        assert_eq!(quote_real(0.0001234), "0.00012339999999999999082");
        assert_eq!(quote_real(1e-5), "1.0000000000000000818e-05");
        assert_eq!(quote_real(1e300), "1.0000000000000000525e+300");
        assert_eq!(quote_real(-2.0), "-2.0");
        assert_eq!(quote_real(1e10), "10000000000.0");
        assert_eq!(quote_real(-0.0), "0.0");
        assert_eq!(
            quote_real(1.2345678901234568e22),
            "1.2345678901234567741e+22"
        );
        assert_eq!(quote_real(f64::INFINITY), "9.0e+999");
        assert_eq!(quote_real(f64::NEG_INFINITY), "-9.0e+999");
    }

    #[test]
    fn insert_mode_text_keeps_each_row_on_one_line() {
        let text = |t: &[u8]| {
            let mut out = Vec::new();
            write_escaped_text(t, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(b"it's"), "'it''s'");
        assert_eq!(text(b"a\nb"), "replace('a\\nb','\\n',char(10))");
        assert_eq!(
            text(b"a\r\nb"),
            "replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10))"
        );
        // A text holding the marker itself gets another one.
        assert_eq!(text(b"\\n\n"), "replace('\\n\\012','\\012',char(10))");
    }

    #[test]
    fn html_escapes_markup() {
        let mut out = Vec::new();
        write_html(b"<a href='x'>&\"</a>", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn columnar_text_expands_tabs_and_drops_control_characters() {
        let mut column = 0;
        assert_eq!(for_display("a\tb", &mut column), "a       b");
        assert_eq!(column, 9);
        let mut column = 0;
        assert_eq!(for_display("x\r\ny\rz\u{1}", &mut column), "x\ny\nz");
        assert_eq!(column, 1);
    }

    #[test]
    fn no_rows_no_output() {
        for mode in [
            Mode::List,
            Mode::Csv,
            Mode::Column,
            Mode::Table,
            Mode::Box,
            Mode::Markdown,
            Mode::Json,
            Mode::Line,
            Mode::Insert,
            Mode::Quote,
            Mode::Html,
        ] {
            assert_eq!(render(mode, true, &[]), "", "{mode:?}");
        }
    }

    #[test]
    fn column_modes_stop_at_the_layout_limit_after_showing_what_they_hold() {
        let wide = Cell::Text(vec![b'x'; 1 << 20]);
        let mut r = Renderer::new(&style(Mode::Table, true), vec!["a".into()]);
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
