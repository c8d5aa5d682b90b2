//! How sqlite3 reads a dot-command's name and arguments: abbreviated names, its
//! boolean and integer arguments, mode names, and the help entries its usage errors
//! print.

/// How much of a command's name sqlite3 accepts.
#[derive(Clone, Copy)]
enum Abbrev {
    /// Any prefix of at least this many characters.
    Prefix(usize),
    /// Only the whole name.
    Exact,
}

use Abbrev::{Exact, Prefix};

/// Every dot-command of sqlite3 (3.49) in the order its shell tries them, with the
/// shortest abbreviation it takes: the first one an abbreviation fits is the command
/// (`.s` is `.scanstats`, `.sch` is `.schema`, `.o` is `.once`). Commands Sandlite
/// lacks are listed too, so that an abbreviation never means something else here than
/// there (3.49's `.intck` is left out: it would take `.in`, which the installed 3.40
/// and earlier give to `.indexes`).
const COMMANDS: &[(&str, Abbrev)] = &[
    ("auth", Prefix(1)),
    ("archive", Prefix(1)),
    ("backup", Prefix(3)),
    ("save", Prefix(3)),
    ("bail", Prefix(3)),
    ("binary", Prefix(3)),
    ("breakpoint", Prefix(3)),
    ("cd", Exact),
    ("changes", Prefix(3)),
    ("check", Prefix(3)),
    ("clone", Prefix(1)),
    ("connection", Prefix(1)),
    ("crlf", Exact),
    ("crnl", Exact),
    ("databases", Prefix(2)),
    ("dbconfig", Prefix(3)),
    ("dbinfo", Prefix(3)),
    ("recover", Prefix(1)),
    ("dump", Prefix(1)),
    ("echo", Prefix(1)),
    ("dbtotxt", Prefix(3)),
    ("eqp", Prefix(1)),
    ("exit", Prefix(1)),
    ("explain", Prefix(1)),
    ("expert", Prefix(1)),
    ("filectrl", Prefix(1)),
    ("fullschema", Prefix(1)),
    ("headers", Prefix(1)),
    ("help", Prefix(1)),
    ("import", Prefix(1)),
    ("imposter", Prefix(1)),
    ("iotrace", Prefix(1)),
    ("limits", Prefix(5)),
    ("lint", Prefix(3)),
    ("load", Prefix(1)),
    ("log", Prefix(1)),
    ("mode", Prefix(1)),
    ("nonce", Exact),
    ("nullvalue", Prefix(1)),
    ("open", Prefix(2)),
    // One branch in sqlite3: a prefix of both names is `.once`.
    ("once", Prefix(1)),
    ("output", Prefix(1)),
    ("excel", Exact),
    ("www", Exact),
    ("parameter", Prefix(3)),
    ("print", Prefix(3)),
    ("progress", Prefix(3)),
    ("prompt", Prefix(1)),
    ("quit", Prefix(1)),
    ("read", Prefix(3)),
    ("restore", Prefix(3)),
    ("scanstats", Prefix(1)),
    ("scanstatus", Prefix(1)),
    ("schema", Prefix(1)),
    ("selecttrace", Exact),
    ("treetrace", Exact),
    ("session", Prefix(3)),
    ("selftest", Prefix(4)),
    ("separator", Prefix(1)),
    ("sha3sum", Prefix(4)),
    ("shell", Prefix(1)),
    ("system", Prefix(1)),
    ("show", Prefix(1)),
    ("stats", Prefix(1)),
    ("tables", Prefix(2)),
    ("indices", Prefix(1)),
    ("indexes", Prefix(1)),
    ("testcase", Exact),
    ("testctrl", Prefix(8)),
    ("timeout", Prefix(5)),
    ("timer", Prefix(5)),
    ("trace", Prefix(1)),
    ("unmodule", Prefix(1)),
    ("version", Prefix(1)),
    ("vfsinfo", Prefix(1)),
    ("vfslist", Prefix(1)),
    ("vfsname", Prefix(1)),
    ("wheretrace", Prefix(1)),
    ("width", Prefix(1)),
];

/// The full name of the sqlite3 dot-command `typed` names (whole or abbreviated, case
/// sensitive as in sqlite3); `None` if sqlite3 has no such command.
pub fn resolve(typed: &str) -> Option<&'static str> {
    if typed.is_empty() {
        return None;
    }
    COMMANDS.iter().find_map(|&(name, abbrev)| {
        let fits = match abbrev {
            Exact => typed == name,
            Prefix(min) => typed.len() >= min && name.starts_with(typed),
        };
        fits.then_some(name)
    })
}

/// The mode names of sqlite3's `.mode` in the order it tries them (a prefix picks the
/// first that starts with it: `.mode c` is `column`, `.mode t` is `tcl`).
const MODE_NAMES: &[&str] = &[
    "lines", "columns", "list", "html", "tcl", "csv", "tabs", "insert", "quote", "ascii",
    "markdown", "table", "box", "count", "off", "json",
];

/// The mode `typed` names as sqlite3's `.mode` reads it (`qbox` only whole), in the
/// spelling [`Mode::parse`](super::Mode::parse) and the separators use (`line`,
/// `column`); `None` for no mode of sqlite3's.
pub fn resolve_mode(typed: &str) -> Option<&'static str> {
    if typed == "qbox" {
        return Some("qbox");
    }
    let name = MODE_NAMES.iter().find(|name| name.starts_with(typed))?;
    Some(match *name {
        "lines" => "line",
        "columns" => "column",
        other => other,
    })
}

/// sqlite3's message for a mode it does not know.
pub const MODE_LIST: &str = "mode should be one of: ascii box column csv html insert json line list markdown qbox quote table tabs tcl";

/// An argument read as sqlite3 reads integers: an optional sign, decimal digits or
/// `0x` and hex digits, up to the first other character (so `x` is 0), times a
/// `KiB`/`MiB`/`GiB`/`KB`/`MB`/`GB`/`K`/`M`/`G` suffix if that is all that follows.
pub fn integer_value(arg: &str) -> i64 {
    let (negative, digits) = match arg.as_bytes().first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    let (radix, digits) = match digits.strip_prefix("0x") {
        Some(hex) => (16, hex),
        None => (10, digits),
    };
    let mut value: i64 = 0;
    let mut rest = digits;
    for (i, c) in digits.char_indices() {
        let Some(d) = c.to_digit(radix) else {
            rest = &digits[i..];
            break;
        };
        value = value
            .wrapping_mul(i64::from(radix))
            .wrapping_add(i64::from(d));
        rest = "";
    }
    const SUFFIXES: &[(&str, i64)] = &[
        ("KiB", 1024),
        ("MiB", 1024 * 1024),
        ("GiB", 1024 * 1024 * 1024),
        ("KB", 1000),
        ("MB", 1_000_000),
        ("GB", 1_000_000_000),
        ("K", 1000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    if let Some(&(_, multiple)) = SUFFIXES.iter().find(|(s, _)| s.eq_ignore_ascii_case(rest)) {
        value = value.wrapping_mul(multiple);
    }
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

/// An argument read as sqlite3 reads booleans: a number (non-zero is true), `on`/`yes`
/// or `off`/`no` in any case. Anything else is false, after sqlite3's warning on
/// standard error (not an error: the command goes on).
pub fn bool_value(arg: &str) -> bool {
    let number = match arg.strip_prefix("0x") {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()),
    };
    if number {
        // sqlite3 keeps the low 32 bits.
        return integer_value(arg) as u32 != 0;
    }
    if arg.eq_ignore_ascii_case("on") || arg.eq_ignore_ascii_case("yes") {
        return true;
    }
    if !(arg.eq_ignore_ascii_case("off") || arg.eq_ignore_ascii_case("no")) {
        eprintln!("ERROR: Not a boolean value: \"{arg}\". Assuming \"no\".");
    }
    false
}

/// The `.help` entries, one per command, in sqlite3's layout: the command and its
/// arguments in 25 columns, then what it does, then indented details. `.import`,
/// `.once`, `.output` and `.parameter` print theirs under a usage error, as sqlite3
/// does (those of `.once`, `.output` and `.parameter` read as sqlite3's, whose options
/// they all take).
pub const HELP: &[(&str, &str)] = &[
    (
        "backup",
        ".backup ?DB? FILE        Back up DB (default \"main\") to FILE\n",
    ),
    (
        "bail",
        ".bail on|off             Stop a script at its first error (default off)\n",
    ),
    (
        "changes",
        ".changes on|off          Show the number of rows changed by each SQL text\n",
    ),
    (
        "databases",
        ".databases               List the names and files of the attached databases\n",
    ),
    (
        "dump",
        ".dump ?TABLE?            Render the database (or tables LIKE TABLE) as SQL text\n",
    ),
    (
        "echo",
        ".echo on|off             Print each command before running it\n",
    ),
    (
        "excel",
        ".excel                   Display the output of next command in spreadsheet\n   \
         --bom                   Put a UTF8 byte-order mark on intermediate file\n",
    ),
    (
        "exit",
        ".exit ?CODE?             Exit, with status CODE if given\n",
    ),
    ("headers", ".headers on|off          Show column names\n"),
    (
        "help",
        ".help ?COMMAND?          Show this message, or the entry of COMMAND\n",
    ),
    (
        "import",
        ".import FILE TABLE       Import data from FILE into TABLE\n   \
         Options:\n     \
         --csv                 Read FILE as CSV (RFC 4180; the only format here)\n     \
         --skip N              Skip the first N rows of input\n   \
         Notes:\n     \
         *  If TABLE does not exist, it is created.  The first row of input\n        \
         determines the column names.\n",
    ),
    (
        "indexes",
        ".indexes ?TABLE?         Show the names of the indexes (of tables LIKE TABLE)\n",
    ),
    (
        "mode",
        ".mode MODE ?TABLE? ?OPT? Set the output mode (option --wrap N: columnar modes wrap\n                           \
         values at N characters, 0 for never, 60 by default):\n                           \
         box       Tables drawn with Unicode box characters\n                           \
         column    Left-aligned columns (see .width)\n                           \
         csv       Comma-separated values\n                           \
         html      HTML <table> rows\n                           \
         insert    SQL insert statements into TABLE\n                           \
         json      An array of JSON objects\n                           \
         line      One value per line\n                           \
         list      Values separated by the separator (\"|\")\n                           \
         markdown  A Markdown table\n                           \
         quote     Values as SQL literals\n                           \
         table     An ASCII-art table\n                           \
         tabs      Tab-separated values\n",
    ),
    (
        "nullvalue",
        ".nullvalue STRING        Show NULL values as STRING\n",
    ),
    (
        "once",
        ".once ?OPTIONS? ?FILE?   Output for the next SQL command only to FILE\n     \
         If FILE begins with '|' then open as a pipe\n       \
         --bom  Put a UTF8 byte-order mark at the beginning\n       \
         -e     Send output to the system text editor\n       \
         -x     Send output as CSV to a spreadsheet (same as \".excel\")\n",
    ),
    (
        "open",
        ".open ?OPTIONS? ?FILE?   Close the database and open FILE (in memory if none).\n                           \
         Options: --new (empty FILE first), --readonly\n",
    ),
    (
        "output",
        ".output ?FILE?           Send output to FILE or stdout if FILE is omitted\n   \
         If FILE begins with '|' then open it as a pipe.\n   \
         Options:\n     \
         --bom                 Prefix output with a UTF8 byte-order mark\n     \
         -e                    Send output to the system text editor\n     \
         -x                    Send output as CSV to a spreadsheet\n",
    ),
    (
        "parameter",
        ".parameter CMD ...       Manage SQL parameter bindings\n   \
         clear                   Erase all bindings\n   \
         init                    Initialize the TEMP table that holds bindings\n   \
         list                    List the current parameter bindings\n   \
         set PARAMETER VALUE     Given SQL parameter PARAMETER a value of VALUE\n                           \
         PARAMETER should start with one of: $ : @ ?\n   \
         unset PARAMETER         Remove PARAMETER from the binding table\n",
    ),
    (
        "print",
        ".print STRING...         Print the words, separated by spaces\n",
    ),
    ("quit", ".quit                    Exit\n"),
    (
        "read",
        ".read FILE               Run the SQL and dot-commands in FILE\n",
    ),
    (
        "restore",
        ".restore ?DB? FILE       Replace DB (default \"main\") with the database FILE\n",
    ),
    (
        "schema",
        ".schema ?PATTERN?        Show the CREATE statements of tables LIKE PATTERN\n",
    ),
    (
        "separator",
        ".separator COL ?ROW?     Set the column (and row) separator of list, csv and quote\n                           \
         modes; \\t, \\n, \\r and \\\\ are read as escapes\n",
    ),
    (
        "show",
        ".show                    Show the current settings\n",
    ),
    (
        "tables",
        ".tables ?PATTERN?        List the tables and views LIKE PATTERN\n",
    ),
    (
        "timer",
        ".timer on|off            Print the run time of each statement\n",
    ),
    (
        "width",
        ".width N1 N2 ...         Column widths of column, table, box and markdown modes (0:\n                           \
         automatic, negative: right-aligned)\n",
    ),
];

/// The help entry of `command` (a name in [`HELP`]).
pub fn help_entry(command: &str) -> &'static str {
    HELP.iter()
        .find(|(name, _)| *name == command)
        .map_or("", |(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_as_sqlite3_reads_them() {
        assert_eq!(resolve("schema"), Some("schema"));
        assert_eq!(resolve("s"), Some("scanstats"));
        assert_eq!(resolve("sch"), Some("schema"));
        assert_eq!(resolve("he"), Some("headers"));
        assert_eq!(resolve("hel"), Some("help"));
        assert_eq!(resolve("o"), Some("once"));
        assert_eq!(resolve("ou"), Some("output"));
        assert_eq!(resolve("op"), Some("open"));
        assert_eq!(resolve("ta"), Some("tables"));
        assert_eq!(resolve("in"), Some("indices"));
        assert_eq!(resolve("pa"), None);
        assert_eq!(resolve("par"), Some("parameter"));
        assert_eq!(resolve("tim"), None);
        assert_eq!(resolve("excel"), Some("excel"));
        assert_eq!(resolve("exc"), None);
        assert_eq!(resolve("Schema"), None);
        assert_eq!(resolve("schemas"), None);
        assert_eq!(resolve(""), None);
    }

    #[test]
    fn mode_names() {
        assert_eq!(resolve_mode("c"), Some("column"));
        assert_eq!(resolve_mode("l"), Some("line"));
        assert_eq!(resolve_mode("lis"), Some("list"));
        assert_eq!(resolve_mode("ta"), Some("tabs"));
        assert_eq!(resolve_mode("tab"), Some("tabs"));
        assert_eq!(resolve_mode("tabl"), Some("table"));
        assert_eq!(resolve_mode("qbox"), Some("qbox"));
        assert_eq!(resolve_mode("bogus"), None);
        assert_eq!(resolve_mode("CSV"), None);
    }

    #[test]
    fn integers_as_sqlite3_reads_them() {
        assert_eq!(integer_value("12"), 12);
        assert_eq!(integer_value("-3"), -3);
        assert_eq!(integer_value("+4"), 4);
        assert_eq!(integer_value("0x10"), 16);
        assert_eq!(integer_value("5k"), 5000);
        assert_eq!(integer_value("2KiB"), 2048);
        assert_eq!(integer_value("7abc"), 7);
        assert_eq!(integer_value("x"), 0);
        assert_eq!(integer_value(""), 0);
        // Overflow wraps instead of panicking.
        integer_value("99999999999999999999999999G");
    }

    #[test]
    fn booleans_as_sqlite3_reads_them() {
        assert!(bool_value("on"));
        assert!(bool_value("YES"));
        assert!(bool_value("2"));
        assert!(bool_value("0x1"));
        assert!(!bool_value("0"));
        assert!(!bool_value("Off"));
        assert!(!bool_value("no"));
        // sqlite3 warns and takes these as "no".
        assert!(!bool_value("true"));
        assert!(!bool_value("maybe"));
    }
}
