//! Which database a name opens: a file in a sandbox, a private in-memory database, or
//! an in-memory database shared by the connections of the process.
//!
//! Each Sandlite connection is its own SQLite instance, so SQLite's own ways of sharing
//! an in-memory database (shared cache, `mode=memory&cache=shared`, the `memdb` VFS
//! with a `/name`) would share nothing: every connection would silently get a private
//! database. Those forms are therefore recognised here, on the host, and opened on a
//! process-wide memdb namespace ([`sandlite_vfs::Vfs::memory`]) instead, the same one
//! [`Connection::open_shared_memory`](crate::Connection::open_shared_memory) uses.
//! A form that cannot be honoured is an error at open time. The rules follow
//! <https://www.sqlite.org/uri.html> and <https://www.sqlite.org/inmemorydb.html>.

use crate::error::{Error, Result};
use sandlite_sqlite_wasm::ffi;
use std::path::Path;

/// Where a name leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A database file (or a URI naming one): sandboxed by its directory.
    File,
    /// An in-memory database no other connection sees.
    PrivateMemory,
    /// The in-memory database `name`, shared by every connection of the process that
    /// opens the same name. `uri` is what SQLite opens inside the namespace: the
    /// database file plus the URI parameters SQLite must still see.
    SharedMemory { name: String, uri: String },
}

/// The database file inside a shared in-memory namespace.
pub(crate) const SHARED_MEMORY_FILE: &str = "shared.db";

/// Classifies `path` opened with `flags` (`SQLITE_OPEN_*`).
///
/// # Errors
/// An `SQLITE_ERROR` [`Error::SqliteFailure`] (as SQLite's own URI errors are) for a URI
/// that is malformed (a bad authority, `%00`) or that asks for something Sandlite cannot
/// honour (an in-memory database on another VFS).
pub(crate) fn classify(path: &Path, flags: i32) -> Result<Target> {
    let bad = |why: String| Error::sqlite(ffi::SQLITE_ERROR, why);
    let Some(text) = path.to_str() else {
        return Ok(Target::File);
    };
    let shared_cache_flag =
        flags & ffi::SQLITE_OPEN_SHAREDCACHE != 0 && flags & ffi::SQLITE_OPEN_PRIVATECACHE == 0;
    let uri_text = match text.strip_prefix("file:") {
        Some(rest) if flags & ffi::SQLITE_OPEN_URI != 0 => rest,
        _ => {
            if text.is_empty() {
                return Ok(Target::PrivateMemory);
            }
            if text == ":memory:" || flags & ffi::SQLITE_OPEN_MEMORY != 0 {
                return Ok(memory(text, shared_cache_flag, &[]));
            }
            return Ok(Target::File);
        }
    };
    let uri = parse(uri_text).map_err(bad)?;
    let mode = uri.last("mode");
    let cache = uri.last("cache");
    if let Some(c) = cache
        && c != "shared"
        && c != "private"
    {
        return Err(bad(format!("no such cache mode: {c}")));
    }
    let shared = match cache {
        Some(c) => c == "shared",
        None => shared_cache_flag,
    };
    let passed_on: Vec<(String, String)> = uri
        .params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "mode" | "cache" | "vfs"))
        .cloned()
        .collect();
    match uri.last("vfs") {
        Some("memdb") => {
            // SQLite's memdb VFS: "/name" is shared by the process, anything else private.
            if mode.is_some_and(|m| m != "memory" && m != "rw" && m != "rwc" && m != "ro") {
                return Err(bad(format!("no such access mode: {}", mode.unwrap_or(""))));
            }
            let shared = uri.path.starts_with('/') && uri.path.len() > 1;
            Ok(memory(&uri.path, shared, &passed_on))
        }
        Some(other) if mode == Some("memory") || uri.path == ":memory:" => Err(bad(format!(
            "an in-memory database cannot use the VFS {other:?}: Sandlite keeps it in its own memdb"
        ))),
        _ if mode == Some("memory") || uri.path == ":memory:" => {
            Ok(memory(&uri.path, shared, &passed_on))
        }
        // A file: SQLite (with the sandbox's VFS) reads the URI itself. Its shared-cache
        // request cannot share anything across instances, but every connection sees the
        // same file, so the data is the same (see RATIONALE.md).
        _ => Ok(Target::File),
    }
}

/// Refuses SQL that attaches a shared in-memory database by a literal URI
/// (`ATTACH 'file:NAME?mode=memory&cache=shared' AS x`): SQLite would resolve it inside
/// this connection's own instance and attach a private database, silently. (A URI bound
/// as a parameter is not seen here; see RATIONALE.md.)
///
/// # Errors
/// An `SQLITE_ERROR` naming the URI.
pub(crate) fn refuse_shared_memory_attach(sql: &str) -> Result<()> {
    let bytes = sql.as_bytes();
    let mut from = 0;
    while let Some(pos) = find_keyword(bytes, from, b"attach") {
        from = pos + 6;
        let mut i = skip_space(bytes, from);
        if let Some(after) = keyword_at(bytes, i, b"database") {
            i = skip_space(bytes, after);
        }
        if bytes.get(i) != Some(&b'\'') {
            continue;
        }
        let mut literal = Vec::new();
        let mut j = i + 1;
        while j < bytes.len() {
            if bytes[j] == b'\'' {
                if bytes.get(j + 1) == Some(&b'\'') {
                    literal.push(b'\'');
                    j += 2;
                    continue;
                }
                break;
            }
            literal.push(bytes[j]);
            j += 1;
        }
        let Ok(name) = String::from_utf8(literal) else {
            continue;
        };
        if let Ok(Target::SharedMemory { .. }) = classify(Path::new(&name), ffi::SQLITE_OPEN_URI) {
            return Err(Error::sqlite(
                ffi::SQLITE_ERROR,
                format!(
                    "cannot ATTACH {name:?}: a shared in-memory database cannot be attached \
                     from SQL (it would be private to this connection); open it with \
                     Connection::open instead"
                ),
            ));
        }
    }
    Ok(())
}

/// The next position at or after `from` where `word` stands as a whole word (ASCII
/// case-insensitive).
fn find_keyword(bytes: &[u8], from: usize, word: &[u8]) -> Option<usize> {
    (from..bytes.len().saturating_sub(word.len() - 1)).find(|&i| {
        let before_ok = i == 0 || !is_ident(bytes[i - 1]);
        before_ok && keyword_at(bytes, i, word).is_some()
    })
}

/// The end of `word` if it stands at `i` as a whole word.
fn keyword_at(bytes: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i.checked_add(word.len())?;
    let candidate = bytes.get(i..end)?;
    let after_ok = bytes.get(end).is_none_or(|&b| !is_ident(b));
    (candidate.eq_ignore_ascii_case(word) && after_ok).then_some(end)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn memory(name: &str, shared: bool, params: &[(String, String)]) -> Target {
    if !shared || name.is_empty() {
        return Target::PrivateMemory;
    }
    let mut uri = format!("file:{SHARED_MEMORY_FILE}");
    for (i, (k, v)) in params.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        uri.push_str(&encode(k));
        uri.push('=');
        uri.push_str(&encode(v));
    }
    Target::SharedMemory {
        name: name.to_owned(),
        uri,
    }
}

/// A parsed `file:` URI (without the scheme).
#[derive(Debug)]
struct Uri {
    path: String,
    params: Vec<(String, String)>,
}

impl Uri {
    /// The last value of `key` (SQLite lets a later parameter override an earlier one).
    fn last(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn parse(rest: &str) -> std::result::Result<Uri, String> {
    let rest = rest.split('#').next().unwrap_or("");
    let (mut path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    if let Some(after) = path.strip_prefix("//") {
        let (authority, tail) = match after.find('/') {
            Some(i) => after.split_at(i),
            None => (after, ""),
        };
        if !authority.is_empty() && authority != "localhost" {
            return Err(format!("invalid uri authority: {authority}"));
        }
        path = tail;
    }
    let path = decode(path)?;
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.push((decode(k)?, decode(v)?));
    }
    Ok(Uri { path, params })
}

/// Percent-decoding as SQLite does it: `%XX` with two hex digits is a byte, anything
/// else is kept as written. A decoded NUL is refused.
fn decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            let byte = (h * 16 + l) as u8;
            if byte == 0 {
                return Err("URI contains %00".to_owned());
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "URI decodes to bytes that are not UTF-8".to_owned())
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: i32 = ffi::SQLITE_OPEN_URI | ffi::SQLITE_OPEN_READWRITE;

    fn shared(name: &str, uri: &str) -> Target {
        Target::SharedMemory {
            name: name.to_owned(),
            uri: uri.to_owned(),
        }
    }

    fn of(text: &str, flags: i32) -> Result<Target> {
        classify(Path::new(text), flags)
    }

    #[test]
    fn shared_memory_uris() {
        let plain = shared("memdb1", "file:shared.db");
        assert_eq!(
            of("file:memdb1?mode=memory&cache=shared", URI).unwrap(),
            plain
        );
        assert_eq!(
            of("file:memdb1?cache=shared&mode=memory", URI).unwrap(),
            plain
        );
        assert_eq!(
            of("file:///memdb1?mode=memory&cache=shared", URI).unwrap(),
            shared("/memdb1", "file:shared.db")
        );
        assert_eq!(
            of("file://localhost/m?mode=memory&cache=shared", URI).unwrap(),
            shared("/m", "file:shared.db")
        );
        assert_eq!(
            of("file::memory:?cache=shared", URI).unwrap(),
            shared(":memory:", "file:shared.db")
        );
        assert_eq!(
            of("file:a%20b?mode=memory&cache=shared#frag", URI).unwrap(),
            shared("a b", "file:shared.db")
        );
        assert_eq!(
            of("file:m?mode=memory&cache=shared&psow=0", URI).unwrap(),
            shared("m", "file:shared.db?psow=0")
        );
        assert_eq!(
            of("file:/m?vfs=memdb", URI).unwrap(),
            shared("/m", "file:shared.db")
        );
        let flag = URI | ffi::SQLITE_OPEN_SHAREDCACHE;
        assert_eq!(
            of("file:m?mode=memory", flag).unwrap(),
            shared("m", "file:shared.db")
        );
        assert_eq!(
            of("m", ffi::SQLITE_OPEN_MEMORY | ffi::SQLITE_OPEN_SHAREDCACHE).unwrap(),
            shared("m", "file:shared.db")
        );
    }

    #[test]
    fn private_memory_and_files() {
        for (text, flags) in [
            ("file:m?mode=memory", URI),
            ("file::memory:", URI),
            (
                "file:m?mode=memory&cache=private",
                URI | ffi::SQLITE_OPEN_SHAREDCACHE,
            ),
            ("file:?mode=memory&cache=shared", URI),
            ("file:m?vfs=memdb", URI),
            (":memory:", 0),
            ("", 0),
            ("m", ffi::SQLITE_OPEN_MEMORY),
        ] {
            assert_eq!(of(text, flags).unwrap(), Target::PrivateMemory, "{text}");
        }
        for (text, flags) in [
            ("file:app.db?mode=ro", URI),
            ("file:app.db?cache=shared", URI),
            (
                "file:m?mode=memory&cache=shared",
                ffi::SQLITE_OPEN_READWRITE,
            ),
            ("app.db", URI),
        ] {
            assert_eq!(of(text, flags).unwrap(), Target::File, "{text}");
        }
    }

    #[test]
    fn refused_forms() {
        for text in [
            "file://example.com/m?mode=memory&cache=shared",
            "file:m?mode=memory&cache=bogus",
            "file:m%00x?mode=memory&cache=shared",
            "file:m?mode=memory&cache=shared&vfs=unix",
            "file:/m?vfs=memdb&mode=bogus",
        ] {
            let err = of(text, URI).unwrap_err();
            assert_eq!(err.sqlite_code(), Some(ffi::SQLITE_ERROR), "{text}");
        }
    }

    #[test]
    fn attaching_shared_memory_from_sql_is_refused() {
        for sql in [
            "ATTACH 'file:m?mode=memory&cache=shared' AS m",
            "attach database\n 'file::memory:?cache=shared' as x",
            "SELECT 1; ATTACH DATABASE 'file:it''s?mode=memory&cache=shared' AS y",
        ] {
            let err = refuse_shared_memory_attach(sql).unwrap_err();
            assert!(err.to_string().contains("cannot ATTACH"), "{sql}: {err}");
        }
        for sql in [
            "ATTACH 'other.db' AS o",
            "ATTACH 'file:m?mode=memory' AS p",
            "ATTACH ?1 AS q",
            "SELECT 'attach', reattach FROM t",
            "ATTACH",
            "ATTACH '",
        ] {
            assert!(refuse_shared_memory_attach(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn percent_coding() {
        assert_eq!(decode("a%2fb%zz%4").unwrap(), "a/b%zz%4");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
