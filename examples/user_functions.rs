//! SQL functions written in Rust: a scalar function, an aggregate, a window function
//! with an inverse (so sliding frames cost O(1) per row), and a collation, all used from
//! plain SQL.
//!
//! ```text
//! cargo run --release --example user_functions
//! ```

use sandlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use sandlite::{Connection, Result};
use std::cmp::Ordering;

/// `slugify(text)`: lower-case letters and digits joined by single dashes, for URLs.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.extend(word.chars().flat_map(char::to_lowercase));
    }
    slug
}

/// `median(x)`: the middle value of a group (the mean of the two middle ones for an even
/// count); NULLs are skipped, an empty group gives NULL.
struct Median;

impl Aggregate<Vec<f64>, Option<f64>> for Median {
    fn init(&self, _: &mut Context<'_>) -> Result<Vec<f64>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, values: &mut Vec<f64>) -> Result<()> {
        if let Some(v) = ctx.get::<Option<f64>>(0)? {
            values.push(v);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, values: Option<Vec<f64>>) -> Result<Option<f64>> {
        let mut values = values.unwrap_or_default();
        if values.is_empty() {
            return Ok(None);
        }
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        Ok(Some(if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        }))
    }
}

/// `moving_sum(x) OVER (... ROWS BETWEEN n PRECEDING AND CURRENT ROW)`: SQLite adds each
/// row entering the frame with `step` and removes each row leaving it with `inverse`.
struct MovingSum;

impl Aggregate<i64, i64> for MovingSum {
    fn init(&self, _: &mut Context<'_>) -> Result<i64> {
        Ok(0)
    }

    fn step(&self, ctx: &mut Context<'_>, sum: &mut i64) -> Result<()> {
        *sum += ctx.get::<Option<i64>>(0)?.unwrap_or(0);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, sum: Option<i64>) -> Result<i64> {
        Ok(sum.unwrap_or(0))
    }
}

impl WindowAggregate<i64, i64> for MovingSum {
    fn value(&self, sum: Option<&mut i64>) -> Result<i64> {
        Ok(sum.map_or(0, |s| *s))
    }

    fn inverse(&self, ctx: &mut Context<'_>, sum: &mut i64) -> Result<()> {
        *sum -= ctx.get::<Option<i64>>(0)?.unwrap_or(0);
        Ok(())
    }
}

/// Natural order, ignoring case: `chapter2` < `Chapter10`, because runs of digits compare
/// as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn leading_digits(s: &str) -> (&str, &str) {
        s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
    }
    let (mut a, mut b) = (a, b);
    loop {
        let (Some(x), Some(y)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len()); // one is a prefix of the other
        };
        let order = if x.is_ascii_digit() && y.is_ascii_digit() {
            let (da, rest_a) = leading_digits(a);
            let (db, rest_b) = leading_digits(b);
            (a, b) = (rest_a, rest_b);
            let (da, db) = (da.trim_start_matches('0'), db.trim_start_matches('0'));
            // Without leading zeros, a longer run of digits is a larger number.
            da.len().cmp(&db.len()).then_with(|| da.cmp(db))
        } else {
            (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            x.to_lowercase().cmp(y.to_lowercase())
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// Registers the functions and the collation on `conn`.
///
/// # Errors
/// SQLite's error.
pub fn register(conn: &Connection) -> Result<()> {
    let pure = FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("slugify", 1, pure, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| slugify(&s)))
    })?;
    conn.create_aggregate_function("median", 1, pure, Median)?;
    conn.create_window_function("moving_sum", 1, pure, MovingSum)?;
    conn.create_collation("natural_nocase", natural_cmp)?;
    Ok(())
}

/// What the queries returned, so that `main` can print it and a test can check it.
#[derive(Debug)]
pub struct Report {
    /// `slugify(title)` for every chapter, in chapter order.
    pub slugs: Vec<String>,
    /// `median(words)` over all chapters.
    pub median_words: Option<f64>,
    /// `median(words)` of no rows.
    pub median_of_nothing: Option<f64>,
    /// (day, `moving_sum(words)` over 3 rows, SQLite's own `sum(words)` over the same frame).
    pub moving: Vec<(i64, i64, i64)>,
    /// File names `ORDER BY file COLLATE natural_nocase`.
    pub natural_order: Vec<String>,
    /// The error a user function reports for a value it cannot take.
    pub bad_input_error: String,
}

/// Registers everything on an in-memory database and runs the queries.
///
/// # Errors
/// Any SQLite error.
pub fn run() -> Result<Report> {
    let conn = Connection::open_in_memory()?;
    register(&conn)?;
    conn.execute_batch(
        "CREATE TABLE chapter(day INTEGER, title TEXT, file TEXT, words INTEGER);
         INSERT INTO chapter VALUES
             (1, 'Hello, World!',        'chapter1.txt',  1200),
             (2, 'Rust & WebAssembly',   'Chapter10.txt', 3400),
             (3, '  SQLite:  the VFS ',  'chapter2.txt',   800),
             (4, 'Pools and Services',   'appendix.txt',  2000),
             (5, 'Die Straße',           'Chapter3.txt',   600);",
    )?;

    let mut stmt = conn.prepare("SELECT slugify(title) FROM chapter ORDER BY day")?;
    let slugs = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>>>()?;

    let median_words = conn.query_row("SELECT median(words) FROM chapter", [], |r| r.get(0))?;
    let median_of_nothing =
        conn.query_row("SELECT median(words) FROM chapter WHERE 0", [], |r| {
            r.get(0)
        })?;

    let mut stmt = conn.prepare(
        "SELECT day,
                moving_sum(words) OVER last3,
                sum(words) OVER last3
         FROM chapter
         WINDOW last3 AS (ORDER BY day ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
         ORDER BY day",
    )?;
    let moving = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<(i64, i64, i64)>>>()?;

    let mut stmt = conn.prepare("SELECT file FROM chapter ORDER BY file COLLATE natural_nocase")?;
    let natural_order = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>>>()?;

    // An error inside a user function fails the statement with the function's message.
    let bad_input_error =
        match conn.query_row("SELECT median('many')", [], |r| r.get::<_, Option<f64>>(0)) {
            Ok(v) => format!("unexpectedly succeeded with {v:?}"),
            Err(e) => e.to_string(),
        };

    Ok(Report {
        slugs,
        median_words,
        median_of_nothing,
        moving,
        natural_order,
        bad_input_error,
    })
}

#[allow(dead_code)] // the tests include this file as a module and call `run`
fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let r = run()?;
    println!("slugify(title):        {:?}", r.slugs);
    println!("median(words):         {:?}", r.median_words);
    println!("median of no rows:     {:?}", r.median_of_nothing);
    println!("day  moving_sum  sum (3-row frame)");
    for (day, moving, builtin) in &r.moving {
        println!("{day:>3}  {moving:>10}  {builtin:>4}");
    }
    println!(
        "ORDER BY file COLLATE natural_nocase: {:?}",
        r.natural_order
    );
    println!("median('many') fails: {}", r.bad_input_error);
    Ok(())
}
