//! CSV as RFC 4180 writes it: comma-separated fields, fields in double quotes may hold
//! commas, line breaks and doubled quotes; lines end with LF or CRLF.

use std::fmt;

/// One record and the line it starts on (1-based), for messages.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub fields: Vec<String>,
    pub line: usize,
}

/// Why a CSV text could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads every record of `text`. Empty lines are skipped. Parsing is lenient where
/// RFC 4180 is silent: a quote inside an unquoted field, or text after a closing
/// quote, is kept as it stands.
///
/// # Errors
/// A quoted field that is never closed.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut chars = text.chars().peekable();
    let mut records = Vec::new();
    let mut line = 1;
    loop {
        // Skip empty lines between records.
        loop {
            match chars.peek() {
                Some('\n') => {
                    chars.next();
                    line += 1;
                }
                Some('\r') => {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.peek() == Some(&'\n') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        if chars.peek().is_none() {
            return Ok(records);
        }
        let record_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let quote_line = line;
                loop {
                    match chars.next() {
                        None => {
                            return Err(CsvError {
                                line: quote_line,
                                message: "unterminated quoted field".to_owned(),
                            });
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
            }
            // The unquoted field, or whatever follows a closing quote, up to the
            // separator or the end of the line.
            let end = loop {
                match chars.next() {
                    None => break FieldEnd::Record,
                    Some(',') => break FieldEnd::Field,
                    Some('\n') => {
                        line += 1;
                        break FieldEnd::Record;
                    }
                    Some('\r') if chars.peek() == Some(&'\n') => {
                        chars.next();
                        line += 1;
                        break FieldEnd::Record;
                    }
                    Some(c) => field.push(c),
                }
            };
            fields.push(field);
            if end == FieldEnd::Record {
                break;
            }
        }
        records.push(Record {
            fields,
            line: record_line,
        });
    }
}

/// Where a record stands at the end of a line, as [`parse`] reads it: only a line break
/// inside a quoted field continues the record on the next line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field, or after the closing quote of a quoted one.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the closing quote, or the first half
    /// of `""`.
    QuoteInQuoted,
}

impl Scan {
    fn feed(mut self, text: &str) -> Scan {
        for c in text.chars() {
            self = match (self, c) {
                (Scan::Quoted, '"') => Scan::QuoteInQuoted,
                (Scan::Quoted, _) => Scan::Quoted,
                (Scan::QuoteInQuoted, '"') | (Scan::FieldStart, '"') => Scan::Quoted,
                (_, ',') => Scan::FieldStart,
                (_, '\n') => Scan::FieldStart,
                _ => Scan::Unquoted,
            };
        }
        self
    }
}

/// Reads CSV records one at a time from a stream, buffering at most `max_record`
/// bytes of one record (so a huge or endless file costs no more memory than its
/// longest record).
pub struct Reader<R> {
    input: R,
    max_record: usize,
    /// The line the next record starts on (1-based).
    line: usize,
    first: bool,
}

impl<R: std::io::BufRead> Reader<R> {
    pub fn new(input: R, max_record: usize) -> Reader<R> {
        Reader {
            input,
            max_record,
            line: 1,
            first: true,
        }
    }

    /// The next record; `None` at the end of the input. Empty lines are skipped.
    ///
    /// # Errors
    /// A read error, text that is not UTF-8, a record longer than `max_record`
    /// bytes, a quoted field that is never closed, Ctrl-C.
    pub fn next_record(&mut self) -> Result<Option<Record>, CsvError> {
        use super::input::{Line, read_line};
        let error = |line: usize, message: String| CsvError { line, message };
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let start = self.line;
            let mut lines = 0;
            let mut scan = Scan::FieldStart;
            loop {
                let room = self.max_record - raw.len();
                let before = raw.len();
                let outcome = read_line(&mut self.input, &mut raw, room)
                    .map_err(|e| error(start + lines, format!("cannot read: {e}")))?;
                match outcome {
                    Line::Eof => break,
                    Line::Read => lines += 1,
                    Line::TooLong => {
                        let max = self.max_record;
                        return Err(error(start, format!("record longer than {max} bytes")));
                    }
                    Line::Interrupted => {
                        return Err(error(start + lines, "interrupted".into()));
                    }
                }
                let text = std::str::from_utf8(&raw[before..])
                    .map_err(|_| error(start + lines - 1, "not UTF-8 text".into()))?;
                scan = scan.feed(text);
                // Only a line break inside quotes continues the record.
                if scan != Scan::Quoted || !text.ends_with('\n') {
                    break;
                }
            }
            self.line = start + lines;
            if lines == 0 {
                return Ok(None);
            }
            // Checked line by line above.
            let mut text = std::str::from_utf8(&raw).unwrap_or_default();
            if std::mem::take(&mut self.first) {
                text = text.strip_prefix('\u{feff}').unwrap_or(text);
            }
            let records = parse(text).map_err(|e| error(start + e.line - 1, e.message))?;
            // No record: an empty line, skipped.
            if let Some(mut record) = records.into_iter().next() {
                record.line += start - 1;
                return Ok(Some(record));
            }
        }
    }
}

#[derive(PartialEq, Eq)]
enum FieldEnd {
    Field,
    Record,
}

/// Writes `field` as a CSV field: quoted when it is empty (so that it differs from
/// NULL), holds a quote, a space, a control character, a byte above ASCII or the
/// column separator `separator`, like sqlite3's csv mode; piece by piece, without a
/// copy.
pub fn write_csv_field(
    field: &[u8],
    separator: &[u8],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let needs_quotes = field.is_empty()
        || field.iter().any(|&b| b <= b' ' || b == b'"' || b >= 0x7f)
        || (!separator.is_empty() && field.windows(separator.len()).any(|w| w == separator));
    if !needs_quotes {
        return out.write_all(field);
    }
    super::values::write_quoted(field, b'"', out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let text = "name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\r\nplain,\n\n,\"\"\n";
        let records = parse(text).unwrap();
        assert_eq!(
            records,
            vec![
                Record {
                    fields: vec!["name".into(), "note".into()],
                    line: 1
                },
                Record {
                    fields: vec!["Smith, J".into(), "said \"hi\"\nthen left".into()],
                    line: 2
                },
                Record {
                    fields: vec!["plain".into(), "".into()],
                    line: 4
                },
                Record {
                    fields: vec!["".into(), "".into()],
                    line: 6
                },
            ]
        );
    }

    #[test]
    fn last_line_without_newline_and_bom() {
        assert_eq!(
            fields("\u{feff}a,b\n1,2"),
            vec![vec!["a", "b"], vec!["1", "2"]]
        );
        assert_eq!(fields("x\r"), vec![vec!["x\r"]]);
        assert_eq!(fields("a\"b,\"c\"d"), vec![vec!["a\"b", "cd"]]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(
            parse("a,b\n1,\"open\n2,3\n"),
            Err(CsvError {
                line: 2,
                message: "unterminated quoted field".into()
            })
        );
    }

    fn read_all(text: &str, max: usize) -> Result<Vec<Record>, CsvError> {
        let mut reader = Reader::new(text.as_bytes(), max);
        let mut records = Vec::new();
        while let Some(r) = reader.next_record()? {
            records.push(r);
        }
        Ok(records)
    }

    #[test]
    fn the_stream_reader_agrees_with_parse() {
        for text in [
            "name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\r\nplain,\n\n,\"\"\n",
            "\u{feff}a,b\n1,2",
            "x\r",
            "a\"b,\"c\"d\ne,\"f\ng\"\"\"\n\n\n\"h\"\n",
            "\n\n\n",
            "",
        ] {
            assert_eq!(read_all(text, 1000), parse(text), "{text:?}");
        }
        assert_eq!(
            read_all("a,b\n1,\"open\n2,3\n", 1000),
            parse("a,b\n1,\"open\n2,3\n")
        );
    }

    #[test]
    fn the_stream_reader_bounds_a_record() {
        let e = read_all("short\n\"a quoted field\nover lines\nthat goes on\"\n", 20).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "record longer than 20 bytes")
        );
        let mut zeros = Reader::new(std::io::BufReader::new(std::io::repeat(b'x')), 1 << 16);
        assert!(zeros.next_record().is_err());
        let e = read_all("ok\n\u{ff}\n", 100);
        assert!(e.is_ok(), "U+00FF is UTF-8");
        let mut bad = Reader::new(&b"ok\n\xff\n"[..], 100);
        assert!(bad.next_record().unwrap().is_some());
        let e = bad.next_record().unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "not UTF-8 text"));
    }

    #[test]
    fn quoting_for_output() {
        let quote_field = |field: &[u8]| {
            let mut out = Vec::new();
            write_csv_field(field, b",", &mut out).unwrap();
            out
        };
        assert_eq!(quote_field(b"plain"), b"plain");
        assert_eq!(quote_field(b""), b"\"\"");
        assert_eq!(quote_field(b"a,b"), b"\"a,b\"");
        assert_eq!(quote_field(b"say \"x\""), b"\"say \"\"x\"\"\"");
        assert_eq!(quote_field(b"two\nlines"), b"\"two\nlines\"");
        assert_eq!(quote_field(b"\"\""), b"\"\"\"\"\"\"");
    }
}
