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

#[derive(PartialEq, Eq)]
enum FieldEnd {
    Field,
    Record,
}

/// `field` as a CSV field: quoted when it is empty (so that it differs from NULL) or
/// holds a quote, a comma, a space or a control character, like sqlite3's csv mode.
pub fn quote_field(field: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let needs_quotes =
        field.is_empty() || field.iter().any(|&b| b <= b' ' || b == b'"' || b == b',');
    if !needs_quotes {
        return std::borrow::Cow::Borrowed(field);
    }
    let mut quoted = Vec::with_capacity(field.len() + 2);
    quoted.push(b'"');
    for &b in field {
        if b == b'"' {
            quoted.push(b'"');
        }
        quoted.push(b);
    }
    quoted.push(b'"');
    std::borrow::Cow::Owned(quoted)
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

    #[test]
    fn quoting_for_output() {
        assert_eq!(&*quote_field(b"plain"), b"plain");
        assert_eq!(&*quote_field(b""), b"\"\"");
        assert_eq!(&*quote_field(b"a,b"), b"\"a,b\"");
        assert_eq!(&*quote_field(b"say \"x\""), b"\"say \"\"x\"\"\"");
        assert_eq!(&*quote_field(b"two\nlines"), b"\"two\nlines\"");
    }
}
