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

/// The widest source excerpt shown under an error, in characters.
const EXCERPT_WIDTH: usize = 78;
/// How far into the excerpt the error may sit before the excerpt scrolls right.
const EXCERPT_LEAD: usize = 50;

/// The line of `sql` holding byte `offset`, and a caret line pointing at it:
///
/// ```text
/// SELEC * FROM t
/// ^--- error here
/// ```
///
/// Long lines are cut to a window around the error; control characters show as spaces
/// so that the caret lines up.
pub fn error_excerpt(sql: &str, offset: usize) -> (String, String) {
    let mut offset = offset.min(sql.len());
    while !sql.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = sql[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line_end = sql[offset..].find('\n').map_or(sql.len(), |p| offset + p);
    let line: Vec<char> = sql[line_start..line_end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut column = sql[line_start..offset].chars().count();
    let skip = column.saturating_sub(EXCERPT_LEAD);
    column -= skip;
    let excerpt: String = line.iter().skip(skip).take(EXCERPT_WIDTH).collect();
    let excerpt = excerpt.trim_end().to_owned();
    // "error here ---" is 14 characters: the caret still lands on the column.
    let caret = if column < 25 {
        format!("{}^--- error here", " ".repeat(column))
    } else {
        format!("{}error here ---^", " ".repeat(column - 14))
    };
    (excerpt, caret)
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
    fn excerpt_points_at_the_offset() {
        assert_eq!(
            error_excerpt("SELEC * FROM t", 0),
            ("SELEC * FROM t".to_owned(), "^--- error here".to_owned())
        );
        let (line, caret) = error_excerpt("select 1,\n  é, from t", 16);
        assert_eq!(line, "  é, from t");
        assert_eq!(caret, "     ^--- error here");
        let sql = format!("select {} from", "x, ".repeat(40));
        let (line, caret) = error_excerpt(&sql, sql.len());
        assert_eq!(caret.find('^'), Some(EXCERPT_LEAD));
        assert!(line.ends_with("from"));
        assert!(caret.ends_with("error here ---^"));
    }
}
