//! An r2d2 connection manager for file and shared in-memory databases.
//!
//! ```
//! # use sandlite_driver::pool::SandliteConnectionManager;
//! # let dir = tempfile::tempdir()?;
//! let manager = SandliteConnectionManager::file(dir.path().join("app.db"))
//!     .with_init(|c| c.execute_batch("PRAGMA foreign_keys = ON"));
//! let pool = r2d2::Pool::builder().max_size(4).build(manager).unwrap();
//! let conn = pool.get().unwrap();
//! conn.execute_batch("CREATE TABLE t(x)")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::connection::{Connection, OpenOptions};
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;

type InitFn = dyn Fn(&mut Connection) -> Result<()> + Send + Sync + 'static;

#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Memory(String),
}

/// Opens Sandlite connections for an r2d2 pool.
#[derive(Clone)]
pub struct SandliteConnectionManager {
    source: Source,
    options: OpenOptions,
    init: Option<Arc<InitFn>>,
}

impl std::fmt::Debug for SandliteConnectionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandliteConnectionManager")
            .field("source", &self.source)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SandliteConnectionManager {
    /// Connections to the database file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> SandliteConnectionManager {
        SandliteConnectionManager {
            source: Source::File(path.into()),
            options: OpenOptions::default(),
            init: None,
        }
    }

    /// Connections to the in-memory database `name`, shared by all of them.
    pub fn memory(name: impl Into<String>) -> SandliteConnectionManager {
        SandliteConnectionManager {
            source: Source::Memory(name.into()),
            options: OpenOptions::default(),
            init: None,
        }
    }

    /// Open options (flags, sandbox root, memory limit, busy timeout).
    pub fn with_options(mut self, options: OpenOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs `init` on every new connection (pragmas, functions).
    pub fn with_init<F>(mut self, init: F) -> Self
    where
        F: Fn(&mut Connection) -> Result<()> + Send + Sync + 'static,
    {
        self.init = Some(Arc::new(init));
        self
    }
}

impl r2d2::ManageConnection for SandliteConnectionManager {
    type Connection = Connection;
    type Error = Error;

    fn connect(&self) -> Result<Connection> {
        let mut conn = match &self.source {
            Source::File(p) => self.options.open(p)?,
            Source::Memory(name) => Connection::open_shared_memory_with(name, &self.options)?,
        };
        if let Some(init) = &self.init {
            init(&mut conn)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<()> {
        conn.execute_batch("")
    }

    /// A connection is broken after a trap, or when it comes back inside a transaction
    /// (someone forgot to commit: its locks would block everyone).
    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.is_broken() || !conn.is_autocommit()
    }
}
