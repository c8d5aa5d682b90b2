//! Transactions: commit, rollback on drop, a nested savepoint rolled back on its own,
//! `BEGIN IMMEDIATE` holding off another writer, and a UNIQUE violation handled as an
//! ordinary outcome.
//!
//! ```text
//! cargo run --release --example transactions
//! ```

use sandlite::{Connection, Result, TransactionBehavior, params};
use std::path::Path;
use std::time::Duration;

/// What each step left behind, so that `main` can print it and a test can check it.
#[derive(Debug)]
pub struct Report {
    /// Balances (alice, bob) after a committed transfer of 30.
    pub after_commit: (i64, i64),
    /// Balances after a transfer whose transaction was dropped without commit.
    pub after_drop: (i64, i64),
    /// Ledger notes kept after the savepoint holding the second note was rolled back.
    pub notes: Vec<String>,
    /// Whether a second connection got `SQLITE_BUSY` while an IMMEDIATE transaction held
    /// the write lock.
    pub other_writer_was_busy: bool,
    /// Whether the second connection could write once that transaction committed.
    pub other_writer_after_commit: bool,
    /// Whether opening a new account (carol) succeeded.
    pub new_account_opened: bool,
    /// Whether inserting a duplicate account name was reported as a UNIQUE violation.
    pub duplicate_rejected: bool,
    /// Accounts at the end.
    pub accounts: Vec<(String, i64)>,
}

fn balances(conn: &Connection) -> Result<(i64, i64)> {
    let balance = |name: &str| -> Result<i64> {
        conn.query_row("SELECT balance FROM account WHERE name = ?1", [name], |r| {
            r.get(0)
        })
    };
    Ok((balance("alice")?, balance("bob")?))
}

/// Moves `amount` from alice to bob inside whatever transaction `conn` is in.
fn transfer(conn: &Connection, amount: i64) -> Result<()> {
    conn.execute(
        "UPDATE account SET balance = balance - ?1 WHERE name = 'alice'",
        [amount],
    )?;
    conn.execute(
        "UPDATE account SET balance = balance + ?1 WHERE name = 'bob'",
        [amount],
    )?;
    Ok(())
}

/// Opens a new account; a name that exists already is reported as `Ok(false)`.
fn open_account(conn: &Connection, name: &str, balance: i64) -> Result<bool> {
    match conn.execute(
        "INSERT INTO account(name, balance) VALUES (?1, ?2)",
        params![name, balance],
    ) {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs every step on a database file in `dir`.
///
/// # Errors
/// Any SQLite error other than the ones the steps expect.
pub fn run(dir: &Path) -> Result<Report> {
    let path = dir.join("bank.db");
    let mut conn = Connection::open(&path)?;
    conn.execute_batch(
        "CREATE TABLE account(name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
         CREATE TABLE ledger(note TEXT NOT NULL);
         INSERT INTO account VALUES ('alice', 100), ('bob', 50);",
    )?;

    // 1. Commit: both updates land together.
    let tx = conn.transaction()?;
    transfer(&tx, 30)?;
    tx.commit()?;
    let after_commit = balances(&conn)?;

    // 2. Rollback on drop: an early return or a `?` leaves nothing half-done.
    {
        let tx = conn.transaction()?;
        transfer(&tx, 1_000)?;
        // No commit: dropping `tx` rolls back.
    }
    let after_drop = balances(&conn)?;

    // 3. A savepoint inside a transaction undoes part of it.
    let mut tx = conn.transaction()?;
    tx.execute("INSERT INTO ledger VALUES ('kept: opening balances')", [])?;
    {
        let mut sp = tx.savepoint()?;
        sp.execute("INSERT INTO ledger VALUES ('discarded: draft entry')", [])?;
        sp.rollback()?;
        // Dropping `sp` releases it; its insert is gone, the outer one stays.
    }
    tx.execute(
        "INSERT INTO ledger VALUES ('kept: after the savepoint')",
        [],
    )?;
    tx.commit()?;
    let mut stmt = conn.prepare("SELECT note FROM ledger ORDER BY rowid")?;
    let notes = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>>>()?;
    drop(stmt);

    // 4. IMMEDIATE takes the write lock at BEGIN: another writer waits out its busy
    //    timeout and gets SQLITE_BUSY instead of failing halfway through its work.
    let other = Connection::open(&path)?;
    other.busy_timeout(Duration::from_millis(50))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transfer(&tx, 5)?;
    let other_writer_was_busy = match other.execute("INSERT INTO ledger VALUES ('other')", []) {
        Err(e) if e.is_busy() => true,
        Err(e) => return Err(e),
        Ok(_) => false,
    };
    tx.commit()?;
    let other_writer_after_commit = other
        .execute("INSERT INTO ledger VALUES ('other, after commit')", [])
        .is_ok();

    // 5. A constraint violation is a value to match on, not a crash.
    let new_account_opened = open_account(&conn, "carol", 10)?;
    let duplicate_rejected = !open_account(&conn, "alice", 999)?;

    let mut stmt = conn.prepare("SELECT name, balance FROM account ORDER BY name")?;
    let accounts = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(String, i64)>>>()?;

    Ok(Report {
        after_commit,
        after_drop,
        notes,
        other_writer_was_busy,
        other_writer_after_commit,
        new_account_opened,
        duplicate_rejected,
        accounts,
    })
}

#[allow(dead_code)] // the tests include this file as a module and call `run`
fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let r = run(dir.path())?;
    println!(
        "after a committed transfer of 30:  alice={}, bob={}",
        r.after_commit.0, r.after_commit.1
    );
    println!(
        "after a dropped transfer of 1000: alice={}, bob={}",
        r.after_drop.0, r.after_drop.1
    );
    println!("ledger after a savepoint rollback: {:?}", r.notes);
    println!(
        "other writer busy during IMMEDIATE: {}",
        r.other_writer_was_busy
    );
    println!(
        "other writer succeeds after commit: {}",
        r.other_writer_after_commit
    );
    println!("new account opened: {}", r.new_account_opened);
    println!(
        "duplicate account rejected as a UNIQUE violation: {}",
        r.duplicate_rejected
    );
    println!("accounts: {:?}", r.accounts);
    Ok(())
}
