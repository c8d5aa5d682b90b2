//! One in-memory database shared by a pool: an r2d2 pool of Sandlite connections over
//! the named in-memory database, written and read by several threads at once. Every
//! connection sees the same database, as with a file, but nothing touches the disk.
//!
//! ```text
//! cargo run --release --example shared_memory_db
//! ```

use sandlite::Connection;
use sandlite::pool::SandliteConnectionManager;
use std::sync::{Arc, Barrier};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the threads saw, so that `main` can print it and a test can check it.
#[derive(Debug)]
pub struct Report {
    /// Rows each thread counted after every thread had finished writing.
    pub seen_by_each_thread: Vec<i64>,
    /// (worker, rows) as counted afterwards through the pool.
    pub rows_per_worker: Vec<(i64, i64)>,
    /// Rows counted by a connection opened outside the pool on the same name.
    pub seen_outside_pool: i64,
    /// What a connection to a different name says about the table: it is another
    /// database.
    pub other_name_error: String,
}

/// Runs `threads` threads, each inserting `rows_per_thread` rows into the in-memory
/// database `name` through one pool.
///
/// # Errors
/// Pool, SQLite or thread errors.
pub fn run(name: &str, threads: usize, rows_per_thread: usize) -> Result<Report, BoxError> {
    let manager = SandliteConnectionManager::shared_memory(name).with_init(|conn| {
        // Writers on one database take turns; wait for the lock instead of failing.
        conn.busy_timeout(Duration::from_secs(10))
    });
    let pool = r2d2::Pool::builder()
        .max_size(u32::try_from(threads)?.max(1))
        .build(manager)?;
    pool.get()?.execute_batch(
        "CREATE TABLE event(worker INTEGER, seq INTEGER, PRIMARY KEY (worker, seq))",
    )?;

    // Every thread writes, then waits for the others, then reads: each must see all rows.
    let all_written = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|worker| {
            let pool = pool.clone();
            let all_written = all_written.clone();
            std::thread::spawn(move || -> Result<i64, BoxError> {
                let conn = pool.get()?;
                let mut insert = conn.prepare("INSERT INTO event(worker, seq) VALUES (?1, ?2)")?;
                for seq in 0..rows_per_thread {
                    insert.execute([worker, seq])?;
                }
                drop(insert);
                all_written.wait();
                Ok(conn.query_row("SELECT count(*) FROM event", [], |r| r.get(0))?)
            })
        })
        .collect();
    let mut seen_by_each_thread = Vec::new();
    for worker in workers {
        let seen = worker.join().map_err(|_| "a worker thread panicked")??;
        seen_by_each_thread.push(seen);
    }

    let conn = pool.get()?;
    let mut stmt =
        conn.prepare("SELECT worker, count(*) FROM event GROUP BY worker ORDER BY worker")?;
    let rows_per_worker = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(i64, i64)>, _>>()?;

    // Any connection opened on the same name joins the same database...
    let outside = Connection::open_shared_memory(name)?;
    let seen_outside_pool = outside.query_row("SELECT count(*) FROM event", [], |r| r.get(0))?;
    // ...and a different name is a different database.
    let other = Connection::open_shared_memory(&format!("{name} (another one)"))?;
    let other_name_error =
        match other.query_row("SELECT count(*) FROM event", [], |r| r.get::<_, i64>(0)) {
            Ok(n) => format!("unexpectedly found {n} rows"),
            Err(e) => e.to_string(),
        };

    Ok(Report {
        seen_by_each_thread,
        rows_per_worker,
        seen_outside_pool,
        other_name_error,
    })
}

#[allow(dead_code)] // the tests include this file as a module and call `run`
fn main() -> Result<(), BoxError> {
    let report = run("shared-memory-example", 4, 250)?;
    println!(
        "rows each thread saw after all wrote: {:?}",
        report.seen_by_each_thread
    );
    for (worker, rows) in &report.rows_per_worker {
        println!("worker {worker} wrote {rows} rows");
    }
    println!(
        "a connection outside the pool sees {} rows",
        report.seen_outside_pool
    );
    println!(
        "another name is another database: {}",
        report.other_name_error
    );
    Ok(())
}
