//! Quickstart: open a database file, create a table, insert with positional and named
//! parameters, read rows into structs, look up one row that may not exist.
//!
//! ```text
//! cargo run --release --example quickstart              # in a temporary directory
//! cargo run --release --example quickstart -- app.db    # in a file of your choice
//! ```

use sandlite::{Connection, OptionalExtension, Result, named_params, params};
use std::path::Path;

/// One row of the `person` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub born: i64,
    /// `NULL` in SQL becomes `None`.
    pub email: Option<String>,
}

/// What the quickstart found, so that `main` can print it and a test can check it.
#[derive(Debug)]
pub struct Summary {
    /// Everyone born before 1900, oldest first.
    pub pioneers: Vec<Person>,
    /// The row with Grace's email, looked up with `query_row(...).optional()`.
    pub grace: Option<Person>,
    /// The same lookup for an email nobody has.
    pub nobody: Option<Person>,
    /// `last_insert_rowid()` after the final insert.
    pub last_id: i64,
    /// Rows counted by a second connection opened on the same file.
    pub rows_in_file: i64,
}

/// Maps a `SELECT id, name, born, email` row to a [`Person`].
fn person(row: &sandlite::Row<'_>) -> Result<Person> {
    Ok(Person {
        id: row.get(0)?,
        name: row.get("name")?,
        born: row.get("born")?,
        email: row.get("email")?,
    })
}

/// Runs the quickstart on the database file at `path` (created if missing).
///
/// # Errors
/// Any SQLite error.
pub fn run(path: &Path) -> Result<Summary> {
    let conn = Connection::open(path)?;
    // Start from an empty table so the example can be re-run on the same file.
    conn.execute_batch(
        "DROP TABLE IF EXISTS person;
         CREATE TABLE person(
             id    INTEGER PRIMARY KEY,
             name  TEXT NOT NULL,
             born  INTEGER NOT NULL,
             email TEXT UNIQUE
         );",
    )?;

    // Positional parameters: `params!` takes values of any `ToSql` type.
    conn.execute(
        "INSERT INTO person(name, born, email) VALUES (?1, ?2, ?3)",
        params!["Ada Lovelace", 1815, "ada@example.org"],
    )?;
    // `None` is written as NULL.
    conn.execute(
        "INSERT INTO person(name, born, email) VALUES (?1, ?2, ?3)",
        params!["Charles Babbage", 1791, None::<String>],
    )?;

    // Named parameters, with a prepared statement reused for several rows.
    let mut insert =
        conn.prepare("INSERT INTO person(name, born, email) VALUES (:name, :born, :email)")?;
    for (name, born, email) in [
        ("Grace Hopper", 1906, "grace@example.org"),
        ("Alan Turing", 1912, "alan@example.org"),
    ] {
        insert.execute(named_params! { ":name": name, ":born": born, ":email": email })?;
    }
    let last_id = conn.last_insert_rowid();

    // Many rows into structs.
    let mut stmt =
        conn.prepare("SELECT id, name, born, email FROM person WHERE born < ?1 ORDER BY born")?;
    let pioneers = stmt
        .query_map([1900], person)?
        .collect::<Result<Vec<Person>>>()?;

    // One row that may be missing: `optional()` turns "no rows" into `None`.
    let by_email = "SELECT id, name, born, email FROM person WHERE email = ?1";
    let grace = conn
        .query_row(by_email, ["grace@example.org"], person)
        .optional()?;
    let nobody = conn
        .query_row(by_email, ["nobody@example.org"], person)
        .optional()?;

    // The data is in the file: a second connection sees it.
    let reader = Connection::open(path)?;
    let rows_in_file = reader.query_row("SELECT count(*) FROM person", [], |r| r.get(0))?;

    Ok(Summary {
        pioneers,
        grace,
        nobody,
        last_id,
        rows_in_file,
    })
}

#[allow(dead_code)] // the tests include this file as a module and call `run`
fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let temp;
    let path = match std::env::args_os().nth(1) {
        Some(arg) => arg.into(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().join("quickstart.db")
        }
    };
    let summary = run(&path)?;
    println!("database: {}", path.display());
    println!("born before 1900:");
    for p in &summary.pioneers {
        let email = p.email.as_deref().unwrap_or("(no email)");
        println!("  #{} {} ({}) {email}", p.id, p.name, p.born);
    }
    match &summary.grace {
        Some(p) => println!("grace@example.org is {} (#{})", p.name, p.id),
        None => println!("grace@example.org not found"),
    }
    if summary.nobody.is_none() {
        println!("nobody@example.org: no such person");
    }
    println!("last inserted rowid: {}", summary.last_id);
    println!("rows in the file: {}", summary.rows_in_file);
    Ok(())
}
