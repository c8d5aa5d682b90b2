//! One result value as the shell reads it, and every way the shell writes values out:
//! display text (like SQLite's own `%!.15g` for reals), SQL literals that reproduce the
//! value exactly, JSON.

use sandlite::types::{FromSqlError, FromSqlResult};
use sandlite::{FromSql, ValueRef};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// A result value with its exact bytes. The driver's own `Value` turns text that is not
/// UTF-8 into U+FFFD; a dump must reproduce the bytes, so the shell keeps them.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl FromSql for Cell {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            ValueRef::Text(t) => Cell::Text(try_copy(t)?),
            ValueRef::Blob(b) => Cell::Blob(try_copy(b)?),
        })
    }
}

/// A copy of a value's bytes (as large as SQLite's memory allows): an error, not an
/// abort, when the host cannot allocate it.
fn try_copy(bytes: &[u8]) -> FromSqlResult<Vec<u8>> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(bytes.len()).map_err(|_| {
        FromSqlError::Other(
            format!("out of memory copying a value of {} bytes", bytes.len()).into(),
        )
    })?;
    copy.extend_from_slice(bytes);
    Ok(copy)
}

impl Cell {
    /// Bytes this value holds on the heap (its text or blob).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Cell::Text(b) | Cell::Blob(b) => b.len(),
            _ => 0,
        }
    }

    /// The bytes `sqlite3` prints for this value in list, csv, column and table modes:
    /// text and blobs raw, reals with 15 significant digits, NULL as `null_text`.
    pub fn display_bytes<'a>(&'a self, null_text: &'a str) -> Cow<'a, [u8]> {
        match self {
            Cell::Null => Cow::Borrowed(null_text.as_bytes()),
            Cell::Integer(i) => Cow::Owned(i.to_string().into_bytes()),
            Cell::Real(r) => Cow::Owned(format_real(*r).into_bytes()),
            Cell::Text(t) | Cell::Blob(t) => Cow::Borrowed(t),
        }
    }

    /// An SQL literal that evaluates to exactly this value (type and bytes), for `.dump`.
    #[cfg(test)]
    pub fn sql_literal(&self) -> String {
        let mut out = Vec::new();
        self.write_sql_literal(&mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("literals are UTF-8")
    }

    /// Writes [`sql_literal`](Self::sql_literal) to `out`, piece by piece: a value of any
    /// size needs no copy.
    ///
    /// # Errors
    /// Failure to write `out`.
    pub fn write_sql_literal(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Cell::Null => out.write_all(b"NULL"),
            Cell::Integer(i) => write!(out, "{i}"),
            Cell::Real(r) => out.write_all(real_literal(*r).as_bytes()),
            Cell::Text(t) => write_text_literal(t, out),
            Cell::Blob(b) => {
                out.write_all(b"X'")?;
                write_hex(b, out)?;
                out.write_all(b"'")
            }
        }
    }

    /// The value as JSON: numbers as numbers, NULL as `null`, text as a string, blobs as
    /// a string of lower-case hex digits.
    ///
    /// # Errors
    /// Failure to write `out`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Cell::Null => out.write_all(b"null"),
            Cell::Integer(i) => write!(out, "{i}"),
            Cell::Real(r) if r.is_nan() => out.write_all(b"null"),
            // The JSON grammar accepts 1e999; parsers read it as infinity (as sqlite3's
            // json mode writes it).
            Cell::Real(r) if r.is_infinite() => {
                out.write_all(if *r > 0.0 { b"1e999" } else { b"-1e999" })
            }
            Cell::Real(r) => write!(out, "{r:?}"),
            Cell::Text(t) => {
                // Invalid UTF-8 becomes U+FFFD, chunk by chunk, without a copy.
                out.write_all(b"\"")?;
                for chunk in t.utf8_chunks() {
                    write_json_chars(chunk.valid(), out)?;
                    if !chunk.invalid().is_empty() {
                        out.write_all("\u{fffd}".as_bytes())?;
                    }
                }
                out.write_all(b"\"")
            }
            Cell::Blob(b) => {
                out.write_all(b"\"")?;
                write_hex(b, out)?;
                out.write_all(b"\"")
            }
        }
    }
}

/// Writes the lower-case hex digits of `bytes`, through a small buffer.
pub fn write_hex(bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 4096];
    for chunk in bytes.chunks(buf.len() / 2) {
        for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
        out.write_all(&buf[..2 * chunk.len()])?;
    }
    Ok(())
}

/// Writes `text` as a JSON string literal.
pub fn json_string(text: &str, out: &mut String) {
    let mut bytes = Vec::new();
    bytes.push(b'"');
    // Writing to a Vec cannot fail.
    let _ = write_json_chars(text, &mut bytes);
    bytes.push(b'"');
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// Writes `text` escaped for the inside of a JSON string: runs of plain characters as
/// they are, escapes between them.
fn write_json_chars(text: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut plain = 0;
    for (at, c) in text.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            c if u32::from(c) < 0x20 => Some(""),
            _ => None,
        };
        if let Some(escape) = escape {
            out.write_all(&text.as_bytes()[plain..at])?;
            if escape.is_empty() {
                write!(out, "\\u{:04x}", u32::from(c))?;
            } else {
                out.write_all(escape.as_bytes())?;
            }
            plain = at + c.len_utf8();
        }
    }
    out.write_all(&text.as_bytes()[plain..])
}

/// A real as SQLite prints it (`printf("%!.15g")`): 15 significant digits, trailing
/// zeros dropped, always a decimal point (`1.0`, `1.0e+20`), `Inf` for infinities.
pub fn format_real(r: f64) -> String {
    if r.is_nan() {
        return "NaN".to_owned();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Inf" } else { "-Inf" }.to_owned();
    }
    if r == 0.0 {
        return "0.0".to_owned();
    }
    format_significant(r, 15)
}

/// A finite, nonzero `r` as `printf("%!.Ng")` writes it with `significant` digits: trailing
/// zeros dropped, always a decimal point, exponent form outside `1e-4..1e<significant>`.
pub fn format_significant(r: f64, significant: usize) -> String {
    // `{:.Pe}` rounds the exact binary value to P + 1 significant digits.
    let sci = format!("{:.*e}", significant - 1, r.abs());
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        return sci;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if r < 0.0 { "-" } else { "" };
    if !(-4..significant as i32).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}.{rest}e{exp_sign}{:02}", exponent.abs());
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int_part, frac) = digits.split_at(int_len);
        format!("{sign}{int_part}.{frac}")
    }
}

/// A real literal: the shortest decimal that denotes the double (`0.1`, `1e300`,
/// `1.0`), infinities as `9.0e+999`. SQLite's decimal parser is not correctly rounded
/// for every input, so `.dump` checks these (see [`real_is_plain`]) and falls back to
/// [`exact_real_expression`].
pub fn real_literal(r: f64) -> String {
    if r.is_nan() {
        // SQLite stores NaN as NULL; nothing else reproduces it.
        return "NULL".to_owned();
    }
    if r.is_infinite() {
        return if r > 0.0 { "9.0e+999" } else { "-9.0e+999" }.to_owned();
    }
    // `{:?}` keeps a decimal point or an exponent, so SQLite reads a REAL, not an
    // INTEGER: "1.0", "0.30000000000000004", "1e300".
    format!("{r:?}")
}

/// True for reals whose literal every parser reads exactly: zeros, infinities and
/// integers below 2^53 (written `N.0`, digits only).
pub fn real_is_plain(r: f64) -> bool {
    r == 0.0 || r.is_infinite() || r.is_nan() || (r.fract() == 0.0 && r.abs() < 9007199254740992.0)
}

/// An SQL expression that evaluates to exactly `r` (finite) with nothing but exact
/// IEEE operations: an integer significand below 2^53 scaled by integer powers of two,
/// e.g. `(5*1.0/4611686018427387904/...)`. Each step keeps the significand, so no
/// step rounds.
pub fn exact_real_expression(r: f64) -> String {
    let bits = r.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut significand, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if significand == 0 {
        return real_literal(r);
    }
    while significand % 2 == 0 {
        significand /= 2;
        exponent += 1;
    }
    let sign = if r.is_sign_negative() { "-" } else { "" };
    let mut text = format!("({sign}{significand}*1.0");
    while exponent != 0 {
        let step = exponent.abs().min(62);
        let operator = if exponent < 0 { '/' } else { '*' };
        let _ = write!(text, "{operator}{}", 1u64 << step);
        exponent -= step * exponent.signum();
    }
    text.push(')');
    text
}

/// Writes a text literal: `'...'` with quotes doubled; line breaks written as
/// `char(10)` and `char(13)` so that line-oriented readers keep them; text that is not
/// UTF-8 or holds NUL as `CAST(X'..' AS TEXT)`, which restores the bytes exactly.
pub fn write_text_literal(bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        _ => {
            out.write_all(b"CAST(X'")?;
            write_hex(bytes, out)?;
            return out.write_all(b"' AS TEXT)");
        }
    };
    // Pieces between line breaks, quoted, joined with `||` to `char(N)` for each break.
    let mut first = true;
    let mut rest = text;
    loop {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let piece = &rest[..end];
        if !piece.is_empty() || (first && end == rest.len()) {
            if !first {
                out.write_all(b"||")?;
            }
            write_quoted(piece.as_bytes(), b'\'', out)?;
            first = false;
        }
        let Some(c) = rest[end..].chars().next() else {
            return Ok(());
        };
        if !first {
            out.write_all(b"||")?;
        }
        write!(out, "char({})", u32::from(c))?;
        first = false;
        rest = &rest[end + 1..];
    }
}

/// Writes `text` between two `quote` bytes, each `quote` inside doubled (SQL's `'..'`,
/// CSV's `".."`).
pub fn write_quoted(text: &[u8], quote: u8, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&[quote])?;
    for (i, part) in text.split(|&b| b == quote).enumerate() {
        if i > 0 {
            out.write_all(&[quote, quote])?;
        }
        out.write_all(part)?;
    }
    out.write_all(&[quote])
}

/// SQLite's keywords (<https://sqlite.org/lang_keywords.html>): names that must be
/// quoted to be used as identifiers.
const KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// `name` as an SQL identifier: bare when it is a plain name that is not a keyword,
/// otherwise in double quotes with embedded quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_print_like_sqlite() {
        // Each expected string is what SQLite 3.49.1's CAST(x AS TEXT) gives.
        let cases = [
            (0.1, "0.1"),
            (0.1 + 0.2, "0.3"),
            (1e20, "1.0e+20"),
            (1.5e-7, "1.5e-07"),
            (123456789012345678.0, "1.23456789012346e+17"),
            (1e15, "1.0e+15"),
            (1e14, "100000000000000.0"),
            (2e-5, "2.0e-05"),
            (1.23456, "1.23456"),
            (f64::INFINITY, "Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1.0, "1.0"),
            (-0.0, "0.0"),
            (1e-320, "9.99988867182683e-321"),
            (4.35, "4.35"),
            (1.0 / 3.0, "0.333333333333333"),
            (-2.5, "-2.5"),
            (0.0001, "0.0001"),
            (100.0, "100.0"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_real(value), expected, "{value:e}");
        }
    }

    #[test]
    fn literals_are_exact_sql() {
        assert_eq!(Cell::Text(b"it's".to_vec()).sql_literal(), "'it''s'");
        assert_eq!(
            Cell::Text(b"a\nb\r".to_vec()).sql_literal(),
            "'a'||char(10)||'b'||char(13)"
        );
        assert_eq!(
            Cell::Text(vec![b'a', 0, 0xff]).sql_literal(),
            "CAST(X'6100ff' AS TEXT)"
        );
        assert_eq!(Cell::Blob(vec![0, 0xab]).sql_literal(), "X'00ab'");
        assert_eq!(Cell::Real(1.0).sql_literal(), "1.0");
        assert_eq!(Cell::Real(0.1 + 0.2).sql_literal(), "0.30000000000000004");
        assert_eq!(Cell::Real(f64::NEG_INFINITY).sql_literal(), "-9.0e+999");
        assert_eq!(
            Cell::Integer(i64::MIN).sql_literal(),
            "-9223372036854775808"
        );
        assert_eq!(Cell::Null.sql_literal(), "NULL");
    }

    #[test]
    fn exact_expressions() {
        assert_eq!(exact_real_expression(0.75), "(3*1.0/4)");
        assert_eq!(exact_real_expression(-6.0), "(-3*1.0*2)");
        assert_eq!(
            exact_real_expression(5e-324),
            "(1*1.0/4611686018427387904/4611686018427387904/4611686018427387904\
             /4611686018427387904/4611686018427387904/4611686018427387904\
             /4611686018427387904/4611686018427387904/4611686018427387904\
             /4611686018427387904/4611686018427387904/4611686018427387904\
             /4611686018427387904/4611686018427387904/4611686018427387904\
             /4611686018427387904/4611686018427387904/1048576)"
        );
        assert!(real_is_plain(3.0) && real_is_plain(-0.0) && real_is_plain(f64::INFINITY));
        assert!(!real_is_plain(0.5) && !real_is_plain(1e300));
    }

    #[test]
    fn json_escapes() {
        let json = |cells: &[Cell]| {
            let mut out = Vec::new();
            for c in cells {
                c.write_json(&mut out).unwrap();
            }
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            json(&[Cell::Text("a\"b\\c\n\u{1}é".as_bytes().to_vec())]),
            r#""a\"b\\c\n\u0001é""#
        );
        assert_eq!(
            json(&[
                Cell::Real(f64::INFINITY),
                Cell::Blob(vec![1, 2]),
                Cell::Real(2.0)
            ]),
            "1e999\"0102\"2.0"
        );
        assert_eq!(json(&[Cell::Text(b"x\xffy".to_vec())]), "\"x\u{fffd}y\"");
        let mut name = String::new();
        json_string("k\"\t", &mut name);
        assert_eq!(name, r#""k\"\t""#);
    }

    #[test]
    fn identifiers_quote_only_when_needed() {
        assert_eq!(quote_identifier("people"), "people");
        assert_eq!(quote_identifier("order"), "\"order\"");
        assert_eq!(quote_identifier("my table"), "\"my table\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier("1abc"), "\"1abc\"");
        assert_eq!(quote_identifier(""), "\"\"");
    }
}
