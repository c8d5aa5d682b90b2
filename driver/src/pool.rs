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

use crate::connection::{Connection, OpenFlags, OpenOptions};
use crate::error::{Error, Result};
use sandlite_vfs::Vfs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

type InitFn = dyn Fn(&mut Connection) -> Result<()> + Send + Sync + 'static;

#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Memory(String),
}

static POOL_MEMORY_IDS: AtomicU64 = AtomicU64::new(1);

/// Opens Sandlite connections for an r2d2 pool (`r2d2_sqlite::SqliteConnectionManager`'s
/// shapes: [`file`](Self::file), [`memory`](Self::memory), [`with_flags`](Self::with_flags),
/// [`with_init`](Self::with_init)).
///
/// A manager over a shared in-memory database (from [`memory`](Self::memory),
/// [`shared_memory`](Self::shared_memory) or a `file:NAME?mode=memory&cache=shared` URI)
/// keeps that database alive as long as the manager, and so the pool, lives: its
/// contents survive even when every connection has been closed or discarded.
#[derive(Clone)]
pub struct SandliteConnectionManager {
    source: Source,
    options: OpenOptions,
    init: Option<Arc<InitFn>>,
    /// Holds the namespace of a shared in-memory database once a connection opened it.
    keep_alive: Arc<OnceLock<Vfs>>,
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
    fn new(source: Source) -> SandliteConnectionManager {
        SandliteConnectionManager {
            source,
            options: OpenOptions::default(),
            init: None,
            keep_alive: Arc::new(OnceLock::new()),
        }
    }

    /// Connections to the database at `path` (a file, or any name
    /// [`Connection::open`] takes, `file:` URIs included).
    pub fn file(path: impl Into<PathBuf>) -> SandliteConnectionManager {
        SandliteConnectionManager::new(Source::File(path.into()))
    }

    /// Connections to a fresh in-memory database of their own, shared by all of them
    /// (as `r2d2_sqlite`'s `memory()` does), and alive while the manager lives.
    pub fn memory() -> SandliteConnectionManager {
        let id = POOL_MEMORY_IDS.fetch_add(1, Ordering::Relaxed);
        let name = format!("sandlite pool memory database {}-{id}", std::process::id());
        SandliteConnectionManager::shared_memory(name)
    }

    /// Connections to the in-memory database `name`, shared by all of them and by every
    /// [`Connection::open_shared_memory`] of that name.
    pub fn shared_memory(name: impl Into<String>) -> SandliteConnectionManager {
        let name = name.into();
        let manager = SandliteConnectionManager::new(Source::Memory(name.clone()));
        let _ = manager.keep_alive.set(Vfs::memory(&name));
        manager
    }

    /// Open options (flags, sandbox root, memory limit, busy timeout).
    pub fn with_options(mut self, options: OpenOptions) -> Self {
        self.options = options;
        self
    }

    /// The `SQLITE_OPEN_*` flags connections open with.
    pub fn with_flags(mut self, flags: OpenFlags) -> Self {
        self.options = self.options.flags(flags);
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
        if let Some(vfs) = conn.shared_memory_vfs() {
            let _ = self.keep_alive.get_or_init(|| vfs);
        }
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
