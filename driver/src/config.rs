//! Per-connection switches ([`sqlite3_db_config`](https://www.sqlite.org/c3ref/db_config.html)),
//! as rusqlite's `config` module has them.

use crate::connection::Connection;
use crate::error::Result;

/// A boolean `SQLITE_DBCONFIG_*` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
#[non_exhaustive]
#[allow(non_camel_case_types)]
pub enum DbConfig {
    /// Enforce foreign keys.
    SQLITE_DBCONFIG_ENABLE_FKEY = 1002,
    /// Run triggers.
    SQLITE_DBCONFIG_ENABLE_TRIGGER = 1003,
    /// The two-argument `fts3_tokenizer()`.
    SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER = 1004,
    /// No checkpoint when the last connection closes a WAL database.
    SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE = 1006,
    /// The query planner stability guarantee.
    SQLITE_DBCONFIG_ENABLE_QPSG = 1007,
    /// `EXPLAIN QUERY PLAN` shows triggers.
    SQLITE_DBCONFIG_TRIGGER_EQP = 1008,
    /// Lets `VACUUM` reset the database.
    SQLITE_DBCONFIG_RESET_DATABASE = 1009,
    /// Defensive mode: no SQL that can corrupt the database file.
    SQLITE_DBCONFIG_DEFENSIVE = 1010,
    /// `sqlite_schema` is writable.
    SQLITE_DBCONFIG_WRITABLE_SCHEMA = 1011,
    /// Legacy `ALTER TABLE ... RENAME` behaviour.
    SQLITE_DBCONFIG_LEGACY_ALTER_TABLE = 1012,
    /// Double-quoted string literals in DML.
    SQLITE_DBCONFIG_DQS_DML = 1013,
    /// Double-quoted string literals in DDL.
    SQLITE_DBCONFIG_DQS_DDL = 1014,
    /// Views.
    SQLITE_DBCONFIG_ENABLE_VIEW = 1015,
    /// The legacy file format.
    SQLITE_DBCONFIG_LEGACY_FILE_FORMAT = 1016,
    /// Trust schema-defined functions and virtual tables.
    SQLITE_DBCONFIG_TRUSTED_SCHEMA = 1017,
    /// `sqlite3_stmt_scanstatus` data.
    SQLITE_DBCONFIG_STMT_SCANSTATUS = 1018,
    /// Reverse the order of unordered scans.
    SQLITE_DBCONFIG_REVERSE_SCANORDER = 1019,
}

impl Connection {
    /// The current setting of `config`.
    ///
    /// # Errors
    /// SQLite's error, or the connection is broken.
    pub fn db_config(&self, config: DbConfig) -> Result<bool> {
        let mut inner = self.inner()?;
        let db = inner.db;
        Ok(inner.sqlite.db_config(db, config as i32, -1)?)
    }

    /// Sets `config` to `new_val`; returns the setting now in force.
    ///
    /// # Errors
    /// SQLite's error, or the connection is broken.
    pub fn set_db_config(&self, config: DbConfig, new_val: bool) -> Result<bool> {
        let mut inner = self.inner()?;
        let db = inner.db;
        Ok(inner
            .sqlite
            .db_config(db, config as i32, i32::from(new_val))?)
    }

    /// True if the table (or view) `table` exists in `schema` (any attached database
    /// with `None`, searched as SQL would).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn table_exists(
        &self,
        schema: Option<crate::DatabaseName<'_>>,
        table: &str,
    ) -> Result<bool> {
        self.column_exists(schema, table, None)
    }

    /// True if `table` has the column `column` (ASCII case-insensitive, as SQL names
    /// are; `rowid` and its aliases count for tables that have one).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn column_exists<'c>(
        &self,
        schema: Option<crate::DatabaseName<'_>>,
        table: &str,
        column: impl Into<Option<&'c str>>,
    ) -> Result<bool> {
        let schema = schema.map(|s| s.as_str().to_owned());
        let schemas: Vec<String> = match schema {
            Some(s) => vec![s],
            None => {
                let mut stmt =
                    self.prepare("SELECT name FROM pragma_database_list ORDER BY seq")?;
                let names = stmt.query_map([], |r| r.get(0))?;
                let mut all: Vec<String> = names.collect::<Result<_>>()?;
                // SQL resolves an unqualified name in temp first.
                all.sort_by_key(|n| n != "temp");
                all
            }
        };
        let column = column.into();
        for s in schemas {
            let mut stmt = self.prepare("SELECT name, pk FROM pragma_table_xinfo(?1, ?2)")?;
            let cols: Vec<(String, i64)> = stmt
                .query_map((table, &s), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_>>()?;
            if cols.is_empty() {
                continue;
            }
            let Some(column) = column else {
                return Ok(true);
            };
            if cols.iter().any(|(c, _)| c.eq_ignore_ascii_case(column)) {
                return Ok(true);
            }
            let is_rowid_name = ["rowid", "oid", "_rowid_"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(column));
            if is_rowid_name {
                let quoted_schema = s.replace('"', "\"\"");
                let without_rowid: i64 = self.query_row(
                    &format!(
                        "SELECT count(*) FROM \"{quoted_schema}\".sqlite_schema \
                         WHERE type = 'table' AND name = ?1 COLLATE NOCASE \
                         AND sql LIKE '%WITHOUT ROWID%'"
                    ),
                    [table],
                    |r| r.get(0),
                )?;
                let is_table: i64 = self.query_row(
                    &format!(
                        "SELECT count(*) FROM \"{quoted_schema}\".sqlite_schema \
                         WHERE type = 'table' AND name = ?1 COLLATE NOCASE"
                    ),
                    [table],
                    |r| r.get(0),
                )?;
                return Ok(is_table > 0 && without_rowid == 0);
            }
            return Ok(false);
        }
        Ok(false)
    }
}
