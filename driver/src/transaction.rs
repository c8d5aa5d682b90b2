//! Transactions and savepoints: rolled back when dropped unless committed.

use crate::connection::Connection;
use crate::error::Result;
use std::ops::Deref;

/// How a transaction takes its locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionBehavior {
    /// Locks are taken when first needed (`BEGIN DEFERRED`).
    Deferred,
    /// The write lock is taken at once (`BEGIN IMMEDIATE`): writers wait at `BEGIN`, not
    /// in the middle of the transaction.
    Immediate,
    /// No other connection may even read (`BEGIN EXCLUSIVE`, rollback-journal mode).
    Exclusive,
}

/// What dropping an unfinished transaction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropBehavior {
    Rollback,
    Commit,
    /// Leave it open.
    Ignore,
    /// Panic (for code that must always finish its transactions explicitly).
    Panic,
}

/// A transaction. Dereferences to the [`Connection`]; rolls back on drop unless
/// committed.
pub struct Transaction<'conn> {
    conn: &'conn Connection,
    drop_behavior: DropBehavior,
    done: bool,
}

impl<'conn> Transaction<'conn> {
    /// Begins a transaction on `conn` (rusqlite's `Transaction::new`).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn new(
        conn: &'conn mut Connection,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'conn>> {
        Transaction::new_unchecked(conn, behavior)
    }

    /// Begins a transaction on `conn` without requiring `&mut` (the caller makes sure no
    /// other transaction is open on it).
    ///
    /// # Errors
    /// SQLite's error, e.g. a transaction is already open.
    pub fn new_unchecked(
        conn: &'conn Connection,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'conn>> {
        let sql = match behavior {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
        };
        conn.execute_batch(sql)?;
        Ok(Transaction {
            conn,
            drop_behavior: DropBehavior::Rollback,
            done: false,
        })
    }

    /// A savepoint nested in this transaction.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::nested(self.conn, 1)
    }

    /// A named savepoint nested in this transaction.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn savepoint_with_name(&mut self, name: &str) -> Result<Savepoint<'_>> {
        Savepoint::with_name(self.conn, name.to_owned())
    }

    pub fn drop_behavior(&self) -> DropBehavior {
        self.drop_behavior
    }

    pub fn set_drop_behavior(&mut self, b: DropBehavior) {
        self.drop_behavior = b;
    }

    /// Commits.
    ///
    /// # Errors
    /// SQLite's error (e.g. `SQLITE_BUSY`); the transaction is then rolled back on drop.
    pub fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }

    /// Rolls back.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")
    }

    /// Ends the transaction as its drop behavior says, reporting errors.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        if self.done || self.conn.is_autocommit() {
            self.done = true;
            return Ok(());
        }
        self.done = true;
        match self.drop_behavior {
            DropBehavior::Commit => self
                .conn
                .execute_batch("COMMIT")
                .or_else(|_| self.conn.execute_batch("ROLLBACK")),
            DropBehavior::Rollback => self.conn.execute_batch("ROLLBACK"),
            DropBehavior::Ignore => Ok(()),
            DropBehavior::Panic => panic!("transaction dropped unfinished"),
        }
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        let _ = self.finish_inner();
    }
}

/// A savepoint: a nestable transaction. Rolls back to its start and releases on drop
/// unless committed.
pub struct Savepoint<'conn> {
    conn: &'conn Connection,
    name: String,
    drop_behavior: DropBehavior,
    done: bool,
}

impl<'conn> Savepoint<'conn> {
    /// Begins a savepoint on `conn` (rusqlite's `Savepoint::new`).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn new(conn: &'conn mut Connection) -> Result<Savepoint<'conn>> {
        Savepoint::nested(conn, 1)
    }

    fn nested(conn: &'conn Connection, depth: u32) -> Result<Savepoint<'conn>> {
        Savepoint::with_name(conn, format!("_sandlite_sp_{depth}"))
    }

    fn with_name(conn: &'conn Connection, name: String) -> Result<Savepoint<'conn>> {
        conn.execute_batch(&format!("SAVEPOINT \"{}\"", name.replace('"', "\"\"")))?;
        Ok(Savepoint {
            conn,
            name,
            drop_behavior: DropBehavior::Rollback,
            done: false,
        })
    }

    fn quoted(&self) -> String {
        format!("\"{}\"", self.name.replace('"', "\"\""))
    }

    /// A savepoint nested in this one.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        let depth = self
            .name
            .rsplit('_')
            .next()
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0);
        Savepoint::nested(self.conn, depth + 1)
    }

    pub fn set_drop_behavior(&mut self, b: DropBehavior) {
        self.drop_behavior = b;
    }

    /// Keeps the changes (`RELEASE`).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn commit(mut self) -> Result<()> {
        self.conn
            .execute_batch(&format!("RELEASE {}", self.quoted()))?;
        self.done = true;
        Ok(())
    }

    /// Undoes the changes since the savepoint began; it stays active.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn rollback(&mut self) -> Result<()> {
        self.conn
            .execute_batch(&format!("ROLLBACK TO {}", self.quoted()))
    }

    /// Ends the savepoint as its drop behavior says, reporting errors.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let name = self.quoted();
        match self.drop_behavior {
            DropBehavior::Commit => self.conn.execute_batch(&format!("RELEASE {name}")),
            DropBehavior::Rollback => self
                .conn
                .execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}")),
            DropBehavior::Ignore => Ok(()),
            DropBehavior::Panic => panic!("savepoint dropped unfinished"),
        }
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        let _ = self.finish_inner();
    }
}

impl Connection {
    /// Begins a transaction (deferred unless
    /// [`set_transaction_behavior`](Self::set_transaction_behavior) said otherwise).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        Transaction::new_unchecked(self, self.transaction_behavior())
    }

    /// Sets what [`transaction`](Self::transaction) and
    /// [`unchecked_transaction`](Self::unchecked_transaction) begin (default
    /// `Deferred`).
    pub fn set_transaction_behavior(&mut self, behavior: TransactionBehavior) {
        self.set_default_transaction_behavior(behavior);
    }

    /// Begins a transaction with the given locking behavior.
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_BUSY` after the busy timeout for `Immediate`).
    pub fn transaction_with_behavior(
        &mut self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'_>> {
        Transaction::new_unchecked(self, behavior)
    }

    /// Begins a deferred transaction through a shared reference; the caller makes sure
    /// no other transaction is open.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn unchecked_transaction(&self) -> Result<Transaction<'_>> {
        Transaction::new_unchecked(self, self.transaction_behavior())
    }

    /// Begins a savepoint (usable inside or outside a transaction).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::nested(self, 1)
    }

    /// Begins a named savepoint.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn savepoint_with_name(&mut self, name: &str) -> Result<Savepoint<'_>> {
        Savepoint::with_name(self, name.to_owned())
    }
}
