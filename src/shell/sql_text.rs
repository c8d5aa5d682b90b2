//! SQL text as the shell handles it before SQLite sees it: splitting input into
//! statements, recognising empty ones, and pointing at the place an error refers to.

use std::ops::Range;

/// Byte positions of every `;` that is outside string literals, quoted identifiers and
/// comments: the only places a statement can end. Found one at a time, so a text of
/// any number of `;` needs no list of them.
fn semicolons(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Skips to just past the next `close` at or after `from` (or to the end).
    let skip_past = move |from: usize, close: &[u8]| -> usize {
        bytes[from..]
            .windows(close.len())
            .position(|w| w == close)
            .map_or(bytes.len(), |p| from + p + close.len())
    };
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            i = match bytes[i] {
                b'\'' => skip_past(i + 1, b"'"),
                b'"' => skip_past(i + 1, b"\""),
                b'`' => skip_past(i + 1, b"`"),
                b'[' => skip_past(i + 1, b"]"),
                b'-' if bytes.get(i + 1) == Some(&b'-') => skip_past(i + 2, b"\n"),
                b'/' if bytes.get(i + 1) == Some(&b'*') => skip_past(i + 2, b"*/"),
                b';' => {
                    i += 1;
                    return Some(at);
                }
                _ => i + 1,
            };
        }
        None
    })
}

/// The first statement of `text` (a byte range, ending after its `;` when it has one),
/// skipping empty ones; `None` when only whitespace, `;` and comments are left.
/// `is_complete` is SQLite's `sqlite3_complete`: it decides which `;` really ends a
/// statement (one inside a trigger body does not). Called again on the rest of the text,
/// it walks every statement without a list of them, whatever the text holds.
///
/// # Errors
/// What `is_complete` returns.
pub fn first_statement<E>(
    text: &str,
    mut is_complete: impl FnMut(&str) -> Result<bool, E>,
) -> Result<Option<Range<usize>>, E> {
    let mut start = 0;
    for end in semicolons(text) {
        if is_complete(&text[start..=end])? {
            if !only_comments(&text[start..=end]) {
                return Ok(Some(start..end + 1));
            }
            start = end + 1;
        }
    }
    Ok((!only_comments(&text[start..])).then_some(start..text.len()))
}

/// True for text holding nothing but whitespace, `;` and comments.
pub fn only_comments(mut text: &str) -> bool {
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if text.is_empty() {
            return true;
        }
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return false;
        }
    }
}

/// The widest source excerpt shown under an error, in bytes.
const EXCERPT_WIDTH: usize = 78;
/// How far into the excerpt the error may sit before the excerpt scrolls right, in bytes.
const EXCERPT_LEAD: usize = 50;

/// `isspace` in the C locale, which sqlite3 uses: also vertical tab and form feed.
pub fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// The lines sqlite3 shows under an error at byte `offset` of `sql` (the text from the
/// failing statement to the end of what was run), `None` when the offset is not inside
/// it:
///
/// ```text
///   SELEC * FROM t
///   ^--- error here
/// ```
///
/// As sqlite3's `shell_error_context`, byte for byte: the excerpt starts at most 50
/// bytes before the error and holds at most 78 bytes (cut at character boundaries),
/// every white-space byte shows as a space (line breaks included), and the caret is
/// placed by bytes.
pub fn error_context(sql: &str, offset: usize) -> Option<String> {
    let bytes = sql.as_bytes();
    if offset >= bytes.len() {
        return None;
    }
    let (mut start, mut column) = (0, offset);
    while column > EXCERPT_LEAD {
        column -= 1;
        start += 1;
        while start < bytes.len() && bytes[start] & 0xc0 == 0x80 {
            start += 1;
            column = column.saturating_sub(1);
        }
    }
    let rest = &bytes[start..];
    let mut len = rest.len();
    if len > EXCERPT_WIDTH {
        len = EXCERPT_WIDTH;
        while len > 0 && rest[len] & 0xc0 == 0x80 {
            len -= 1;
        }
    }
    let code: Vec<u8> = rest[..len]
        .iter()
        .map(|&b| if is_c_space(char::from(b)) { b' ' } else { b })
        .collect();
    // `start` and `start + len` are character boundaries (not continuation bytes).
    let code = String::from_utf8_lossy(&code);
    // "error here ---" is 14 bytes: the caret still lands on the column.
    let caret = if column < 25 {
        format!("{}^--- error here", " ".repeat(column))
    } else {
        format!("{}error here ---^", " ".repeat(column - 14))
    };
    Some(format!("\n  {code}\n  {caret}"))
}

/// Whether an input line between statements is no SQL at all: only white space, `;`
/// and comments that end on it. sqlite3 starts no statement with such a line (so
/// errors count lines from the next one), echoing it as it is.
pub fn plain_white(line: &str) -> bool {
    let mut rest = line.as_bytes();
    loop {
        while let [b, tail @ ..] = rest
            && (is_c_space(char::from(*b)) || *b == b';')
        {
            rest = tail;
        }
        match rest {
            [] | [b'-', b'-', ..] => return true,
            [b'/', b'*', tail @ ..] => match tail.windows(2).position(|w| w == b"*/") {
                Some(end) => rest = &tail[end + 2..],
                None => return false,
            },
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `sqlite3_complete` that knows no triggers.
    fn ends_with_semicolon(s: &str) -> Result<bool, ()> {
        Ok(s.trim_end().ends_with(';'))
    }

    fn split_statements<E>(
        text: &str,
        mut is_complete: impl FnMut(&str) -> Result<bool, E>,
    ) -> Result<Vec<Range<usize>>, E> {
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(r) = first_statement(&text[at..], &mut is_complete)? {
            found.push(at + r.start..at + r.end);
            at += r.end;
        }
        Ok(found)
    }

    fn split(text: &str) -> Vec<&str> {
        split_statements(text, ends_with_semicolon)
            .unwrap()
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        assert_eq!(
            split("select 1; select ';' -- a;b\n; select \"x;\" /* ; */;"),
            vec![
                "select 1;",
                " select ';' -- a;b\n;",
                " select \"x;\" /* ; */;"
            ]
        );
        assert_eq!(split("select 1;;  ; -- end"), vec!["select 1;"]);
        assert_eq!(split("select 1; select 2"), vec!["select 1;", " select 2"]);
        assert_eq!(split("select [a;b] from t"), vec!["select [a;b] from t"]);
        assert!(split("  -- nothing\n /* here */ ").is_empty());
    }

    #[test]
    fn is_complete_decides() {
        // A trigger body: only the `;` after END ends the statement.
        let text = "create trigger x after insert on t begin select 1; end; select 2;";
        let complete = |s: &str| -> Result<bool, ()> {
            Ok(!s.contains("begin") || s.trim_end().ends_with("end;"))
        };
        let parts: Vec<&str> = split_statements(text, complete)
            .unwrap()
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            parts,
            vec![
                "create trigger x after insert on t begin select 1; end;",
                " select 2;"
            ]
        );
    }

    #[test]
    fn context_is_sqlite3s() {
        assert_eq!(
            error_context("SELEC * FROM t", 0).unwrap(),
            "\n  SELEC * FROM t\n  ^--- error here"
        );
        // Line breaks and tabs are spaces; the caret is placed by bytes (as sqlite3
        // does, so it sits one column late after a two-byte character).
        assert_eq!(
            error_context("select 1,\n\té, from t", 15).unwrap(),
            "\n  select 1,  é, from t\n                 ^--- error here"
        );
        // Far from the start, the excerpt scrolls: the error stays 50 bytes in.
        let sql = format!("select {} nope, {}1", "x, ".repeat(40), "y, ".repeat(30));
        let offset = sql.find("nope").unwrap();
        let context = error_context(&sql, offset).unwrap();
        let lines: Vec<&str> = context.lines().collect();
        assert_eq!(lines[1].len(), 2 + EXCERPT_WIDTH);
        assert_eq!(&lines[1][2 + EXCERPT_LEAD..2 + EXCERPT_LEAD + 4], "nope");
        assert_eq!(
            lines[2],
            format!("  {}error here ---^", " ".repeat(EXCERPT_LEAD - 14))
        );
        // An excerpt never cuts a character in two.
        let wide = format!("{}x", "é".repeat(60));
        let context = error_context(&wide, wide.len() - 1).unwrap();
        assert!(context.contains('é'));
        assert_eq!(error_context("select 1", 8), None);
    }

    #[test]
    fn plain_white_lines_hold_no_sql() {
        for line in [
            "",
            "  \n",
            ";",
            " ; ;\r\n",
            "-- note",
            "/* a */ -- b",
            "/* a */;",
        ] {
            assert!(plain_white(line), "{line:?}");
        }
        for line in ["select 1;", "/* open", "x -- y", "/* a */ b", "'--'"] {
            assert!(!plain_white(line), "{line:?}");
        }
    }
}
