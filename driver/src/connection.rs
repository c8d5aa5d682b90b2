//! Connections: opening, executing, pragmas, handlers and hooks.

use crate::cache::StatementCache;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::statement::{Row, Statement};
use crate::types::ToSql;
use crate::uri::{self, Target};
use sandlite_sqlite_wasm::{Config, Db, Sqlite, Strategy, UpdateAction, ffi};
use sandlite_vfs::{SandboxOptions, Vfs};
use std::cell::{Cell, RefCell, RefMut};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How to open a database (`SQLITE_OPEN_*` flags), with the operations of rusqlite's
/// `bitflags` type (`|`, `&`, `^`, `!`, `-`, `contains`, `insert`, ...).
///
/// `SQLITE_OPEN_SHARED_CACHE` on an in-memory database shares it between the connections
/// of the process (see [`Connection::open`]); on a file it changes nothing, since each
/// connection is its own SQLite instance. The mutex flags change nothing either: every
/// connection is used by one thread at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenFlags(i32);

impl OpenFlags {
    /// Read-only.
    pub const SQLITE_OPEN_READ_ONLY: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_READONLY);
    /// Read-write (read-only if the file is write-protected).
    pub const SQLITE_OPEN_READ_WRITE: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_READWRITE);
    /// Create the database if it does not exist.
    pub const SQLITE_OPEN_CREATE: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_CREATE);
    /// Interpret `file:` names as URIs.
    pub const SQLITE_OPEN_URI: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_URI);
    /// An in-memory database (the name only matters for a shared cache).
    pub const SQLITE_OPEN_MEMORY: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_MEMORY);
    /// Multi-thread mode (no effect: a connection is used by one thread at a time).
    pub const SQLITE_OPEN_NO_MUTEX: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_NOMUTEX);
    /// Serialized mode (no effect, as `SQLITE_OPEN_NO_MUTEX`).
    pub const SQLITE_OPEN_FULL_MUTEX: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_FULLMUTEX);
    /// Shared cache: shares an in-memory database between the process's connections.
    pub const SQLITE_OPEN_SHARED_CACHE: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_SHAREDCACHE);
    /// Private cache (overrides `SQLITE_OPEN_SHARED_CACHE`).
    pub const SQLITE_OPEN_PRIVATE_CACHE: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_PRIVATECACHE);
    /// Refuse to open a database through a symbolic link.
    pub const SQLITE_OPEN_NOFOLLOW: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_NOFOLLOW);
    /// Extended result codes (always on in Sandlite).
    pub const SQLITE_OPEN_EXRESCODE: OpenFlags = OpenFlags(ffi::SQLITE_OPEN_EXRESCODE);

    const ALL: i32 = ffi::SQLITE_OPEN_READONLY
        | ffi::SQLITE_OPEN_READWRITE
        | ffi::SQLITE_OPEN_CREATE
        | ffi::SQLITE_OPEN_URI
        | ffi::SQLITE_OPEN_MEMORY
        | ffi::SQLITE_OPEN_NOMUTEX
        | ffi::SQLITE_OPEN_FULLMUTEX
        | ffi::SQLITE_OPEN_SHAREDCACHE
        | ffi::SQLITE_OPEN_PRIVATECACHE
        | ffi::SQLITE_OPEN_NOFOLLOW
        | ffi::SQLITE_OPEN_EXRESCODE;

    /// The raw `SQLITE_OPEN_*` bits.
    pub const fn bits(self) -> i32 {
        self.0
    }

    /// No flags.
    pub const fn empty() -> OpenFlags {
        OpenFlags(0)
    }

    /// Every flag this type knows.
    pub const fn all() -> OpenFlags {
        OpenFlags(Self::ALL)
    }

    /// The flags `bits`, or `None` if it has a bit no flag stands for.
    pub const fn from_bits(bits: i32) -> Option<OpenFlags> {
        if bits & !Self::ALL == 0 {
            Some(OpenFlags(bits))
        } else {
            None
        }
    }

    /// The known flags of `bits`, unknown bits dropped.
    pub const fn from_bits_truncate(bits: i32) -> OpenFlags {
        OpenFlags(bits & Self::ALL)
    }

    /// True if no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if every flag of `other` is set.
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any flag of `other` is set.
    pub const fn intersects(self, other: OpenFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: OpenFlags) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: OpenFlags) {
        self.0 &= !other.0;
    }

    /// Flips the flags of `other`.
    pub fn toggle(&mut self, other: OpenFlags) {
        self.0 ^= other.0;
    }

    /// Sets or clears the flags of `other`.
    pub fn set(&mut self, other: OpenFlags, value: bool) {
        if value {
            self.insert(other);
        } else {
            self.remove(other);
        }
    }
}

macro_rules! open_flags_ops {
    ($($op:ident $f:ident $assign:ident $fa:ident => $e:expr;)*) => {$(
        impl std::ops::$op for OpenFlags {
            type Output = OpenFlags;
            fn $f(self, rhs: OpenFlags) -> OpenFlags {
                let f: fn(i32, i32) -> i32 = $e;
                OpenFlags(f(self.0, rhs.0))
            }
        }
        impl std::ops::$assign for OpenFlags {
            fn $fa(&mut self, rhs: OpenFlags) {
                *self = std::ops::$op::$f(*self, rhs);
            }
        }
    )*};
}

open_flags_ops! {
    BitOr bitor BitOrAssign bitor_assign => |a, b| a | b;
    BitAnd bitand BitAndAssign bitand_assign => |a, b| a & b;
    BitXor bitxor BitXorAssign bitxor_assign => |a, b| a ^ b;
    Sub sub SubAssign sub_assign => |a, b| a & !b;
}

impl std::ops::Not for OpenFlags {
    type Output = OpenFlags;
    /// The known flags not in `self` (as `bitflags` does).
    fn not(self) -> OpenFlags {
        OpenFlags(!self.0 & Self::ALL)
    }
}

impl Default for OpenFlags {
    /// Read-write, create, URI filenames (rusqlite's default).
    fn default() -> OpenFlags {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    }
}

/// Every way to open a connection: flags, the sandbox root, the memory limit, the busy
/// timeout.
///
/// ```
/// # use sandlite_driver::OpenOptions;
/// # let dir = tempfile::tempdir()?;
/// let conn = OpenOptions::new()
///     .memory_limit(64 << 20)
///     .busy_timeout(std::time::Duration::from_secs(1))
///     .open(dir.path().join("app.db"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    flags: OpenFlags,
    sandbox_root: Option<PathBuf>,
    memory_limit: u64,
    busy_timeout: Duration,
    allow_hard_links: bool,
    strategy: Strategy,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            flags: OpenFlags::default(),
            sandbox_root: None,
            memory_limit: sandlite_sqlite_wasm::DEFAULT_MEMORY_LIMIT,
            busy_timeout: Connection::DEFAULT_BUSY_TIMEOUT,
            allow_hard_links: false,
            strategy: Strategy::Auto,
        }
    }
}

impl OpenOptions {
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Which engine runs SQLite for this connection: `Strategy::Auto` (the default:
    /// the native compiler on x86-64 Linux, the interpreter elsewhere),
    /// `Strategy::Compiler` or `Strategy::Interpreter`. The environment variable
    /// `SANDLITE_STRATEGY` replaces `Auto` process-wide. [`Connection::strategy`] says
    /// which one a connection got.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Replaces the `SQLITE_OPEN_*` flags.
    pub fn flags(mut self, flags: OpenFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Opens read-only (no create).
    pub fn read_only(mut self, read_only: bool) -> Self {
        let base = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let keep = self.flags.0
            & !(ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE);
        self.flags = OpenFlags(base.0 | keep);
        self
    }

    /// Creates the file if missing (default `true` unless read-only).
    pub fn create(mut self, create: bool) -> Self {
        if create {
            self.flags.0 |= ffi::SQLITE_OPEN_CREATE;
        } else {
            self.flags.0 &= !ffi::SQLITE_OPEN_CREATE;
        }
        self
    }

    /// Interprets `file:` URIs (default `true`).
    pub fn uri(mut self, uri: bool) -> Self {
        if uri {
            self.flags.0 |= ffi::SQLITE_OPEN_URI;
        } else {
            self.flags.0 &= !ffi::SQLITE_OPEN_URI;
        }
        self
    }

    /// The directory SQLite may touch; every file it opens (database, journals, WAL,
    /// ATTACH targets) must be inside. Default: the database file's directory.
    ///
    /// # Untrusted names: always set a root
    ///
    /// Without this option the sandbox is *the directory of the path given*, whatever
    /// that path is. A name built from untrusted input therefore chooses its own
    /// sandbox: with `name = "../../home/alice/victim.db"`,
    /// `Connection::open(format!("data/{name}"))` is confined to `data/../../home/alice`
    /// (that is, `home/alice`), which the attacker picked, not to `data`. Only with an
    /// explicit root is the name checked against a directory *you* chose: then `..` past
    /// the root, absolute paths elsewhere and symbolic links leading out all fail with
    /// `SQLITE_CANTOPEN`, and so does every `ATTACH` outside it.
    ///
    /// ```
    /// # use sandlite_driver::OpenOptions;
    /// # let dir = tempfile::tempdir()?;
    /// # let data = dir.path().join("data");
    /// # std::fs::create_dir(&data)?;
    /// // `name` comes from a request: confine it to `data`, not to its own parent.
    /// let open = |name: &str| OpenOptions::new().sandbox_root(&data).open(data.join(name));
    /// assert!(open("tenant-1.db").is_ok());
    /// let escape = open("../victim.db").unwrap_err();
    /// assert_eq!(escape.sqlite_code(), Some(sandlite_driver::ffi::SQLITE_CANTOPEN));
    /// assert!(!dir.path().join("victim.db").exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// What the sandbox does not defend: a file that already has a *hard link* inside
    /// the root is inside as far as any path lookup can tell, even if its other name is
    /// outside; such files are refused by default (see
    /// [`allow_hard_links`](Self::allow_hard_links)). Anyone who can write the root
    /// directory itself (rename files, replace the database) can of course change what
    /// SQLite reads there.
    pub fn sandbox_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.sandbox_root = Some(root.into());
        self
    }

    /// Opens database, journal, WAL and `-shm` files that have more than one hard link
    /// (default `false`: they fail with `SQLITE_CANTOPEN` and the reason). A hard link
    /// placed in the sandbox root may be another name of a file outside it, and nothing
    /// about its path shows it, so by default a file with several names is not trusted
    /// to be the sandbox's own. Allow it only when nobody untrusted can create links in
    /// the root.
    pub fn allow_hard_links(mut self, allow: bool) -> Self {
        self.allow_hard_links = allow;
        self
    }

    /// Most guest memory SQLite may use, in bytes (default 256 MiB). Beyond it queries
    /// fail with `SQLITE_NOMEM` and the connection survives.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// How long to wait for a lock before `SQLITE_BUSY` (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Opens `path` (or `:memory:`).
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Connection> {
        Connection::open_with_options(path.as_ref(), self)
    }
}

/// Which attached database a call refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseName<'a> {
    /// `main`, the database the connection opened.
    Main,
    /// `temp`, the temporary database.
    Temp,
    /// A database attached under this name.
    Attached(&'a str),
}

/// The main database (rusqlite's `MAIN_DB`).
pub const MAIN_DB: DatabaseName<'static> = DatabaseName::Main;
/// The temporary database (rusqlite's `TEMP_DB`).
pub const TEMP_DB: DatabaseName<'static> = DatabaseName::Temp;

/// A schema (database) name: [`DatabaseName`], [`MAIN_DB`], `&str`, `String` or
/// `&CStr`, wherever a method takes one by value (`blob_open`, `backup`,
/// `is_readonly`, ...). Methods taking an `Option` of a name (the pragma helpers) take
/// `Option<DatabaseName>` so that a plain `None` compiles.
pub trait Name {
    /// The name as SQL sees it.
    fn schema_name(&self) -> std::borrow::Cow<'_, str>;
}

impl Name for DatabaseName<'_> {
    fn schema_name(&self) -> std::borrow::Cow<'_, str> {
        self.as_str().into()
    }
}

impl Name for &str {
    fn schema_name(&self) -> std::borrow::Cow<'_, str> {
        (*self).into()
    }
}

impl Name for String {
    fn schema_name(&self) -> std::borrow::Cow<'_, str> {
        self.as_str().into()
    }
}

impl Name for &String {
    fn schema_name(&self) -> std::borrow::Cow<'_, str> {
        self.as_str().into()
    }
}

impl Name for &std::ffi::CStr {
    fn schema_name(&self) -> std::borrow::Cow<'_, str> {
        self.to_string_lossy()
    }
}

impl DatabaseName<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            DatabaseName::Main => "main",
            DatabaseName::Temp => "temp",
            DatabaseName::Attached(s) => s,
        }
    }
}

/// Shared between a connection, its interrupt handles and its busy handler.
#[derive(Debug, Default)]
pub(crate) struct InterruptState {
    pub(crate) requested: AtomicBool,
    /// Some statement has started stepping and not been reset (the count is the
    /// connection's own, [`Connection::running`]: only the connection's thread changes
    /// it, so these are plain stores, not read-modify-writes).
    pub(crate) running: AtomicBool,
}

/// Stops a query running on another thread: it fails with `SQLITE_INTERRUPT` and the
/// connection stays usable. `Send + Sync`; an interrupt requested while nothing runs is
/// ignored.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    state: Arc<InterruptState>,
}

impl InterruptHandle {
    pub fn interrupt(&self) {
        if self.state.running.load(Ordering::SeqCst) {
            self.state.requested.store(true, Ordering::SeqCst);
        }
    }
}

/// Stops a connection's SQLite by trapping the VM (see [`Connection::abort_handle`]).
#[derive(Clone, Debug)]
pub struct AbortHandle(sandlite_vm::InterruptHandle);

impl AbortHandle {
    pub fn abort(&self) {
        self.0.interrupt();
    }
}

/// How often (in SQLite virtual-machine steps) interrupts are checked.
const INTERRUPT_CHECK_OPS: i32 = 1000;

pub(crate) struct Inner {
    /// Boxed: a store is large, and connections move in and out of pools.
    pub(crate) sqlite: Box<Sqlite>,
    pub(crate) db: Db,
    /// `close` succeeded: the handle is gone.
    closed: bool,
}

type UserProgress = Box<dyn FnMut() -> bool + Send>;

/// A database connection: SQLite running in its own sandbox.
///
/// `Send` but not `Sync`: move it between threads, share it through a pool.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<sandlite_driver::Connection>();
/// ```
pub struct Connection {
    inner: RefCell<Inner>,
    pub(crate) cache: StatementCache,
    interrupt: Arc<InterruptState>,
    /// Statements of this connection that have started stepping and not been reset.
    running: Cell<usize>,
    busy_timeout: Arc<AtomicU64>,
    progress_installed: Cell<bool>,
    transaction_behavior: Cell<crate::TransactionBehavior>,
    user_progress: Arc<std::sync::Mutex<Option<(i32, UserProgress)>>>,
    /// `sqlite3_db_filename` of `main` (empty in memory).
    filename: String,
    /// The namespace name, for a shared in-memory database.
    shared_memory: Option<String>,
    trace: Arc<std::sync::Mutex<crate::trace::TraceState>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("path", &self.filename)
            .finish_non_exhaustive()
    }
}

/// Splits a path into the sandbox root and the name SQLite opens inside it.
fn sandbox_parts(path: &Path, root: Option<&Path>) -> Result<(PathBuf, String)> {
    let text = path
        .to_str()
        .ok_or_else(|| Error::InvalidPath(path.to_owned()))?;
    let bad = |why: &str| {
        Error::sqlite(
            ffi::SQLITE_CANTOPEN,
            format!("unable to open database file {}: {why}", path.display()),
        )
    };
    if let Some(rest) = text.strip_prefix("file:") {
        // A URI: sandbox its path, keep its query.
        let (file, query) = match rest.split_once('?') {
            Some((f, q)) => (f, Some(q)),
            None => (rest, None),
        };
        let file_path = Path::new(file);
        let (root, name) = sandbox_parts(file_path, root)?;
        let uri = match query {
            Some(q) => format!("file:{name}?{q}"),
            None => format!("file:{name}"),
        };
        return Ok((root, uri));
    }
    match root {
        Some(root) => Ok((root.to_owned(), text.to_owned())),
        None => {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| bad("no file name"))?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            Ok((parent, name.to_owned()))
        }
    }
}

static MEMORY_IDS: AtomicU64 = AtomicU64::new(1);

impl Connection {
    /// Default busy timeout of a new connection.
    pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

    /// Opens (creating if needed) the database at `path`, sandboxed to its directory.
    /// `":memory:"` opens a private in-memory database.
    ///
    /// `file:` URIs work as in SQLite. In-memory URIs are opened by Sandlite itself,
    /// since every connection is its own SQLite instance:
    /// `file:NAME?mode=memory&cache=shared`, `file::memory:?cache=shared`,
    /// `file:/NAME?vfs=memdb` and `mode=memory` with [`OpenFlags::SQLITE_OPEN_SHARED_CACHE`]
    /// share one database between every connection of the process that opens the same
    /// name (the database of [`Connection::open_shared_memory`]`(NAME)`), alive while
    /// one of them is open; `mode=memory` alone and `file::memory:` are private. An
    /// in-memory URI that cannot be honoured (an authority other than `localhost`, an
    /// unknown `cache=` value, another `vfs=`) is an `SQLITE_ERROR`, never a silently
    /// private database.
    ///
    /// ```
    /// # use sandlite_driver::Connection;
    /// let a = Connection::open("file:app?mode=memory&cache=shared")?;
    /// let b = Connection::open("file:app?mode=memory&cache=shared")?;
    /// a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")?;
    /// assert_eq!(b.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))?, 1);
    /// # Ok::<(), sandlite_driver::Error>(())
    /// ```
    ///
    /// The sandbox is the directory of `path` *as given*: a path from an untrusted
    /// source picks its own sandbox (`root/../outside/victim.db` is confined to
    /// `root/../outside`). To confine untrusted names to a directory of your choice, use
    /// [`OpenOptions::sandbox_root`].
    ///
    /// # Errors
    /// `SQLITE_CANTOPEN` with the reason (missing directory, path outside the sandbox,
    /// ...), or a load failure of the SQLite module.
    pub fn open(path: impl AsRef<Path>) -> Result<Connection> {
        Connection::open_with_options(path.as_ref(), &OpenOptions::default())
    }

    /// A private in-memory database.
    ///
    /// # Errors
    /// If the SQLite module cannot load.
    pub fn open_in_memory() -> Result<Connection> {
        Connection::open_with_options(Path::new(":memory:"), &OpenOptions::default())
    }

    /// A private in-memory database opened with `flags` (e.g. read-only).
    ///
    /// # Errors
    /// If the SQLite module cannot load.
    pub fn open_in_memory_with_flags(flags: OpenFlags) -> Result<Connection> {
        Connection::open_with_flags(":memory:", flags)
    }

    /// Opens with explicit `SQLITE_OPEN_*` flags.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn open_with_flags(path: impl AsRef<Path>, flags: OpenFlags) -> Result<Connection> {
        Connection::open_with_options(path.as_ref(), &OpenOptions::default().flags(flags))
    }

    /// Opens the in-memory database `name` shared by every connection of this process
    /// that opens the same name (what a pool over an in-memory database needs). It lives
    /// while any connection to it is open.
    ///
    /// The same database as the URI `file:NAME?mode=memory&cache=shared` opened with
    /// [`Connection::open`] (native SQLite's spelling, which Sandlite honours too).
    ///
    /// # Errors
    /// If the SQLite module cannot load.
    pub fn open_shared_memory(name: &str) -> Result<Connection> {
        Connection::open_shared_memory_with(name, &OpenOptions::default())
    }

    /// [`Connection::open_shared_memory`] with options (flags, memory limit, timeout).
    ///
    /// # Errors
    /// If the SQLite module cannot load.
    pub fn open_shared_memory_with(name: &str, options: &OpenOptions) -> Result<Connection> {
        Connection::open_shared_memory_inner(name, uri::SHARED_MEMORY_FILE, options)
    }

    /// Opens `file` (a name or a `file:` URI) in the memdb namespace `name`.
    fn open_shared_memory_inner(
        name: &str,
        file: &str,
        options: &OpenOptions,
    ) -> Result<Connection> {
        // The database is a memdb *file*: SQLite must not make it a private in-memory
        // database of its own instance, and must read the URI's remaining parameters.
        let flags = (options.flags.0 & !(ffi::SQLITE_OPEN_MEMORY | ffi::SQLITE_OPEN_SHAREDCACHE))
            | ffi::SQLITE_OPEN_URI;
        let options = options.clone().flags(OpenFlags(flags));
        let mut conn = Connection::open_inner(Vfs::memory(name), file, &options, None)?;
        conn.shared_memory = Some(name.to_owned());
        Ok(conn)
    }

    /// The memdb namespace of a shared in-memory database (what keeps it alive).
    pub(crate) fn shared_memory_vfs(&self) -> Option<Vfs> {
        self.shared_memory.as_ref()?;
        Some(self.inner.try_borrow().ok()?.sqlite.vfs().clone())
    }

    /// Opens with [`OpenOptions`].
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub fn open_with_options(path: &Path, options: &OpenOptions) -> Result<Connection> {
        match uri::classify(path, options.flags.bits())? {
            Target::PrivateMemory => {
                let id = MEMORY_IDS.fetch_add(1, Ordering::Relaxed);
                let vfs = Vfs::memory(&format!("private memory database {id}"));
                return Connection::open_inner(vfs, ":memory:", options, None);
            }
            Target::SharedMemory { name, uri } => {
                return Connection::open_shared_memory_inner(&name, &uri, options);
            }
            Target::File => {}
        }
        let (root, name) = sandbox_parts(path, options.sandbox_root.as_deref())?;
        let sandbox = SandboxOptions::new().allow_hard_links(options.allow_hard_links);
        let vfs = Vfs::with_options(&root, &sandbox).map_err(|e| {
            Error::sqlite(
                e.code(),
                format!("unable to open database file: {}", e.message()),
            )
        })?;
        Connection::open_inner(vfs, &name, options, Some(path.to_owned()))
    }

    fn open_inner(
        vfs: Vfs,
        name: &str,
        options: &OpenOptions,
        path: Option<PathBuf>,
    ) -> Result<Connection> {
        let mut sqlite = Sqlite::new(Config {
            vfs,
            memory_limit: options.memory_limit,
            strategy: options.strategy,
        })?;
        let db = sqlite.open(name, options.flags.bits())?;
        let filename = match path {
            Some(_) => sqlite.db_filename(db, "main")?.unwrap_or_default(),
            None => String::new(),
        };
        let conn = Connection {
            inner: RefCell::new(Inner {
                sqlite: Box::new(sqlite),
                db,
                closed: false,
            }),
            cache: StatementCache::new(StatementCache::DEFAULT_CAPACITY),
            interrupt: Arc::new(InterruptState::default()),
            running: Cell::new(0),
            busy_timeout: Arc::new(AtomicU64::new(0)),
            progress_installed: Cell::new(false),
            transaction_behavior: Cell::new(crate::TransactionBehavior::Deferred),
            user_progress: Arc::new(std::sync::Mutex::new(None)),
            filename,
            shared_memory: None,
            trace: Arc::default(),
        };
        conn.busy_timeout(options.busy_timeout)?;
        Ok(conn)
    }

    pub(crate) fn trace_state(&self) -> &Arc<std::sync::Mutex<crate::trace::TraceState>> {
        &self.trace
    }

    pub(crate) fn transaction_behavior(&self) -> crate::TransactionBehavior {
        self.transaction_behavior.get()
    }

    pub(crate) fn set_default_transaction_behavior(&self, b: crate::TransactionBehavior) {
        self.transaction_behavior.set(b);
    }

    pub(crate) fn inner(&self) -> Result<RefMut<'_, Inner>> {
        self.inner.try_borrow_mut().map_err(|_| Error::ReentrantUse)
    }

    /// The main database's file as SQLite names it (its full host path), `Some("")` for
    /// an in-memory database, as in rusqlite.
    pub fn path(&self) -> Option<&str> {
        Some(&self.filename)
    }

    /// The engine running this connection's SQLite: `Strategy::Compiler` (native code)
    /// or `Strategy::Interpreter`.
    pub fn strategy(&self) -> Strategy {
        self.inner
            .try_borrow()
            .map_or(Strategy::Auto, |i| i.sqlite.strategy())
    }

    /// True when a trap inside SQLite has made this connection unusable.
    pub fn is_broken(&self) -> bool {
        self.inner
            .try_borrow()
            .map(|i| i.sqlite.is_broken())
            .unwrap_or(false)
    }

    /// Runs `sql` (one or more statements, no parameters), discarding any rows.
    ///
    /// # Errors
    /// The first statement's error, with its offset in `sql`.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        uri::refuse_shared_memory_attach(sql)?;
        let mut rest = sql;
        let mut consumed = 0;
        while !rest.is_empty() {
            let prepared = {
                let mut inner = self.inner()?;
                let db = inner.db;
                inner.sqlite.prepare(db, rest, 0)
            }
            .map_err(|e| Error::in_sql(e, sql, consumed))?;
            if let Some(stmt) = prepared.stmt {
                // Stepped like any statement (interrupt accounting included); finalized on
                // drop if a step fails.
                let stmt = Statement::new(self, stmt);
                while stmt.step(false)? {}
                stmt.finalize()?;
            }
            if prepared.tail == 0 {
                break;
            }
            consumed += prepared.tail;
            rest = &rest[prepared.tail..];
        }
        Ok(())
    }

    /// A statement starts stepping. When it is the only one, an interrupt requested
    /// while nothing ran (or racing with the end of the last statement) is dropped, as
    /// SQLite drops it when its count of running statements is zero.
    pub(crate) fn begin_running(&self) {
        let n = self.running.get();
        self.running.set(n + 1);
        if n == 0 {
            self.interrupt.requested.store(false, Ordering::Release);
            self.interrupt.running.store(true, Ordering::Release);
        }
    }

    /// A statement stopped stepping (done, failed or reset).
    pub(crate) fn end_running(&self) {
        let n = self.running.get().saturating_sub(1);
        self.running.set(n);
        if n == 0 {
            self.interrupt.running.store(false, Ordering::Release);
        }
    }

    /// Prepares and runs one statement; returns the number of rows changed.
    ///
    /// # Errors
    /// SQLite's error, [`Error::ExecuteReturnedResults`] for statements that return rows,
    /// parameter errors.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Prepares a statement.
    ///
    /// # Errors
    /// SQLite's error with its offset; [`Error::MultipleStatement`] if `sql` holds more
    /// than one statement.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        let mut inner = self.inner()?;
        let db = inner.db;
        uri::refuse_shared_memory_attach(sql)?;
        let prepared = inner
            .sqlite
            .prepare(db, sql, 0)
            .map_err(|e| Error::in_sql(e, sql, 0))?;
        let Some(stmt) = prepared.stmt else {
            return Err(Error::Misuse(format!("no SQL statement in {sql:?}")));
        };
        if !sql[prepared.tail..].trim().is_empty() && !only_comments(&sql[prepared.tail..]) {
            let _ = inner.sqlite.finalize(stmt);
            return Err(Error::MultipleStatement);
        }
        drop(inner);
        Ok(Statement::new(self, stmt))
    }

    /// Runs a query expected to return exactly one row, mapping it (rusqlite's
    /// `query_one`).
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`] without rows,
    /// [`Error::QueryReturnedMoreThanOneRow`] with several; others as `prepare`.
    pub fn query_one<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_one(params, f)
    }

    /// Runs a query expected to return at least one row, mapping the first row.
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`] when there is no row; others as `prepare`.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Like [`query_row`](Self::query_row) with a closure returning its own error type.
    ///
    /// # Errors
    /// The closure's error, or [`Error::QueryReturnedNoRows`] converted.
    pub fn query_row_and_then<T, E, P, F>(&self, sql: &str, params: P, f: F) -> Result<T, E>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T, E>,
        E: From<Error>,
    {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let row = rows.next()?.ok_or(Error::QueryReturnedNoRows)?;
        f(row)
    }

    /// Rowid of the last successful INSERT.
    pub fn last_insert_rowid(&self) -> i64 {
        self.inner()
            .ok()
            .and_then(|mut i| {
                let db = i.db;
                i.sqlite.last_insert_rowid(db).ok()
            })
            .unwrap_or(0)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    pub fn changes(&self) -> u64 {
        self.inner()
            .ok()
            .and_then(|mut i| {
                let db = i.db;
                i.sqlite.changes(db).ok()
            })
            .unwrap_or(0) as u64
    }

    /// Rows changed since the connection opened.
    pub fn total_changes(&self) -> u64 {
        self.inner()
            .ok()
            .and_then(|mut i| {
                let db = i.db;
                i.sqlite.total_changes(db).ok()
            })
            .unwrap_or(0) as u64
    }

    /// True outside an explicit transaction.
    pub fn is_autocommit(&self) -> bool {
        self.inner()
            .ok()
            .and_then(|mut i| {
                let db = i.db;
                i.sqlite.get_autocommit(db).ok()
            })
            .unwrap_or(true)
    }

    /// True if the named database is read-only.
    ///
    /// # Errors
    /// If there is no such database.
    pub fn is_readonly<N: Name>(&self, name: N) -> Result<bool> {
        let name = name.schema_name();
        let mut inner = self.inner()?;
        let db = inner.db;
        inner
            .sqlite
            .db_readonly(db, &name)?
            .ok_or_else(|| Error::Misuse(format!("no database named {name}")))
    }

    /// How long statements wait for a lock before failing with `SQLITE_BUSY` (0 fails
    /// at once). An interrupt also ends the wait.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.busy_timeout.store(
            timeout.as_millis().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
        let limit = self.busy_timeout.clone();
        let interrupt = self.interrupt.clone();
        let mut started = Instant::now();
        let handler = move |count: i32| -> bool {
            if count == 0 {
                started = Instant::now();
            }
            let limit = Duration::from_millis(limit.load(Ordering::Relaxed));
            let waited = started.elapsed();
            if waited >= limit || interrupt.requested.load(Ordering::SeqCst) {
                return false;
            }
            // Back off from 1 ms up to 25 ms, never past the deadline.
            let step =
                Duration::from_millis([1u64, 2, 5, 10, 15, 20, 25][count.clamp(0, 6) as usize]);
            std::thread::sleep(step.min(limit - waited));
            true
        };
        let mut inner = self.inner()?;
        let db = inner.db;
        if timeout.is_zero() {
            inner.sqlite.set_busy_handler(db, None)?;
        } else {
            inner.sqlite.set_busy_handler(db, Some(Box::new(handler)))?;
        }
        Ok(())
    }

    /// Installs a busy handler instead of the timeout: called with the number of earlier
    /// calls, it returns `true` to wait again. `None` removes it.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn busy_handler(&self, handler: Option<fn(i32) -> bool>) -> Result<()> {
        let mut inner = self.inner()?;
        let db = inner.db;
        let h = handler.map(|f| Box::new(move |n: i32| f(n)) as sandlite_sqlite_wasm::BusyHandler);
        inner.sqlite.set_busy_handler(db, h)?;
        Ok(())
    }

    /// A handle that stops this connection's SQLite at once, from any thread, by trapping
    /// the VM. Unlike [`get_interrupt_handle`](Self::get_interrupt_handle) it leaves the
    /// connection broken ([`is_broken`](Self::is_broken)): a last resort for runaway work.
    ///
    /// # Errors
    /// If the connection is in use by a callback.
    pub fn abort_handle(&self) -> Result<AbortHandle> {
        Ok(AbortHandle(self.inner()?.sqlite.abort_handle()))
    }

    /// A handle that interrupts this connection's running query from any thread.
    pub fn get_interrupt_handle(&self) -> InterruptHandle {
        if !self.progress_installed.get() {
            // Best effort: if the connection is busy this is retried next time.
            if self.install_progress().is_ok() {
                self.progress_installed.set(true);
            }
        }
        InterruptHandle {
            state: self.interrupt.clone(),
        }
    }

    /// One progress handler serves both interrupts and the user's handler.
    fn install_progress(&self) -> Result<()> {
        let interrupt = self.interrupt.clone();
        let user = self.user_progress.clone();
        let period = user
            .lock()
            .ok()
            .and_then(|u| u.as_ref().map(|(n, _)| *n))
            .unwrap_or(INTERRUPT_CHECK_OPS)
            .min(INTERRUPT_CHECK_OPS);
        let handler = move || -> bool {
            if interrupt.requested.swap(false, Ordering::SeqCst) {
                return true;
            }
            match user.lock() {
                Ok(mut u) => u.as_mut().is_some_and(|(_, f)| f()),
                Err(_) => false,
            }
        };
        let mut inner = self.inner()?;
        let db = inner.db;
        inner
            .sqlite
            .set_progress_handler(db, period, Some(Box::new(handler)))?;
        Ok(())
    }

    /// Calls `handler` every `n_ops` SQLite virtual-machine steps; returning `true`
    /// interrupts the statement. `None` removes it.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn progress_handler<F>(&self, n_ops: i32, handler: Option<F>) -> Result<()>
    where
        F: FnMut() -> bool + Send + 'static,
    {
        if let Ok(mut u) = self.user_progress.lock() {
            *u = handler.map(|f| (n_ops.max(1), Box::new(f) as UserProgress));
        }
        let wanted = self.progress_installed.get()
            || self
                .user_progress
                .lock()
                .map(|u| u.is_some())
                .unwrap_or(false);
        if wanted {
            self.install_progress()?;
        } else {
            let mut inner = self.inner()?;
            let db = inner.db;
            inner.sqlite.set_progress_handler(db, 0, None)?;
        }
        Ok(())
    }

    /// Calls `hook` before each commit; returning `true` turns the commit into a
    /// rollback. `None` removes it.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn commit_hook<F>(&self, hook: Option<F>) -> Result<()>
    where
        F: FnMut() -> bool + Send + 'static,
    {
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.set_commit_hook(
            db,
            hook.map(|f| Box::new(f) as sandlite_sqlite_wasm::CommitHook),
        )?;
        Ok(())
    }

    /// Calls `hook` after each rollback. `None` removes it.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn rollback_hook<F>(&self, hook: Option<F>) -> Result<()>
    where
        F: FnMut() + Send + 'static,
    {
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.set_rollback_hook(
            db,
            hook.map(|f| Box::new(f) as sandlite_sqlite_wasm::RollbackHook),
        )?;
        Ok(())
    }

    /// Calls `hook(action, database, table, rowid)` for each row inserted, updated or
    /// deleted. `None` removes it.
    ///
    /// # Errors
    /// If the connection is broken or in use by a callback.
    pub fn update_hook<F>(&self, hook: Option<F>) -> Result<()>
    where
        F: FnMut(Action, &str, &str, i64) + Send + 'static,
    {
        let mut inner = self.inner()?;
        let db = inner.db;
        let hook = hook.map(|mut f| {
            Box::new(move |a: UpdateAction, d: &str, t: &str, r: i64| f(a.into(), d, t, r))
                as sandlite_sqlite_wasm::UpdateHook
        });
        inner.sqlite.set_update_hook(db, hook)?;
        Ok(())
    }

    /// `PRAGMA schema.name` returning one value.
    ///
    /// # Errors
    /// SQLite's error, or no row.
    pub fn pragma_query_value<T, F>(
        &self,
        schema: Option<DatabaseName<'_>>,
        name: &str,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let sql = format!(
            "PRAGMA {}{}",
            schema_prefix(schema),
            quote_identifier_if_needed(name)
        );
        self.query_row(&sql, [], f)
    }

    /// `PRAGMA schema.name`, calling `f` for every row.
    ///
    /// # Errors
    /// SQLite's error or the closure's.
    pub fn pragma_query<F>(&self, schema: Option<DatabaseName<'_>>, name: &str, f: F) -> Result<()>
    where
        F: FnMut(&Row<'_>) -> Result<()>,
    {
        let sql = format!(
            "PRAGMA {}{}",
            schema_prefix(schema),
            quote_identifier_if_needed(name)
        );
        self.for_each_row(&sql, f)
    }

    /// Runs `sql` (one statement without parameters), calling `f` for every row.
    fn for_each_row(&self, sql: &str, mut f: impl FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let mut stmt = self.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(row)?;
        }
        Ok(())
    }

    /// `PRAGMA schema.name(value)`, calling `f` for every row it returns (e.g.
    /// `table_info`).
    ///
    /// # Errors
    /// SQLite's error, the closure's, or a value that cannot be written as a literal.
    pub fn pragma<F, V>(
        &self,
        schema: Option<DatabaseName<'_>>,
        name: &str,
        value: V,
        f: F,
    ) -> Result<()>
    where
        F: FnMut(&Row<'_>) -> Result<()>,
        V: ToSql,
    {
        let literal = sql_literal(&value)?;
        let sql = format!(
            "PRAGMA {}{}({literal})",
            schema_prefix(schema),
            quote_identifier_if_needed(name)
        );
        self.for_each_row(&sql, f)
    }

    /// `PRAGMA schema.name = value`, with the value by value as in rusqlite
    /// (`pragma_update(None, "journal_mode", "WAL")`, `(None, "foreign_keys", true)`).
    /// Rows the pragma returns are discarded.
    ///
    /// # Errors
    /// SQLite's error, or a value that cannot be written as a literal.
    pub fn pragma_update<V: ToSql>(
        &self,
        schema: Option<DatabaseName<'_>>,
        name: &str,
        value: V,
    ) -> Result<()> {
        let literal = sql_literal(&value)?;
        let sql = format!(
            "PRAGMA {}{} = {literal}",
            schema_prefix(schema),
            quote_identifier_if_needed(name)
        );
        self.execute_batch(&sql)
    }

    /// `PRAGMA schema.name = value` returning the pragma's new value.
    ///
    /// # Errors
    /// SQLite's error, or no row.
    pub fn pragma_update_and_check<T, F, V>(
        &self,
        schema: Option<DatabaseName<'_>>,
        name: &str,
        value: V,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
        V: ToSql,
    {
        let literal = sql_literal(&value)?;
        let sql = format!(
            "PRAGMA {}{} = {literal}",
            schema_prefix(schema),
            quote_identifier_if_needed(name)
        );
        self.query_row(&sql, [], f)
    }

    /// Sets how many prepared statements [`prepare_cached`](Self::prepare_cached) keeps.
    pub fn set_prepared_statement_cache_capacity(&self, capacity: usize) {
        self.cache.set_capacity(self, capacity);
    }

    /// Finalizes every cached statement.
    pub fn flush_prepared_statement_cache(&self) {
        self.cache.flush(self);
    }

    /// Closes the connection. On failure the connection is returned with the error.
    ///
    /// # Errors
    /// SQLite's error (for example unfinalized statements), with the connection.
    // rusqlite's signature: the connection comes back so the caller can retry.
    #[allow(clippy::result_large_err)]
    pub fn close(self) -> Result<(), (Connection, Error)> {
        self.cache.flush(&self);
        let result = match self.inner() {
            Ok(mut inner) => {
                let db = inner.db;
                let r = inner.sqlite.close(db);
                inner.closed = r.is_ok();
                r.map_err(Error::from)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err((self, e)),
        }
    }

    /// The SQLite library version, e.g. `3.49.1`.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn sqlite_version(&self) -> Result<String> {
        Ok(self.inner()?.sqlite.libversion()?)
    }

    /// Checkpoints the WAL (`mode`: `SQLITE_CHECKPOINT_PASSIVE`, `FULL`, `RESTART`,
    /// `TRUNCATE`); returns (frames in the WAL, frames checkpointed).
    ///
    /// # Errors
    /// SQLite's error, `SQLITE_BUSY` if readers kept it from completing.
    pub fn wal_checkpoint(&self, mode: i32) -> Result<(i32, i32)> {
        let mut inner = self.inner()?;
        let db = inner.db;
        Ok(inner.sqlite.wal_checkpoint(db, None, mode)?)
    }

    /// Guest memory in use by this connection's SQLite, in bytes.
    pub fn memory_used(&self) -> usize {
        self.inner().map(|i| i.sqlite.memory_size()).unwrap_or(0)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.cache.flush(self);
        if let Ok(mut inner) = self.inner.try_borrow_mut()
            && !inner.closed
        {
            let db = inner.db;
            let _ = inner.sqlite.close(db);
        }
    }
}

/// What an update hook reports (named like SQLite's constants, as rusqlite does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum Action {
    SQLITE_INSERT,
    SQLITE_UPDATE,
    SQLITE_DELETE,
}

impl From<UpdateAction> for Action {
    fn from(a: UpdateAction) -> Action {
        match a {
            UpdateAction::Insert => Action::SQLITE_INSERT,
            UpdateAction::Update => Action::SQLITE_UPDATE,
            UpdateAction::Delete => Action::SQLITE_DELETE,
        }
    }
}

/// True for text that holds nothing but whitespace, `;` and comments.
pub(crate) fn only_comments(mut s: &str) -> bool {
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if s.is_empty() {
            return true;
        }
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return false;
        }
    }
}

fn schema_prefix(schema: Option<DatabaseName<'_>>) -> String {
    match schema {
        Some(s) => format!("{}.", quote_identifier_if_needed(s.as_str())),
        None => String::new(),
    }
}

fn quote_identifier_if_needed(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A value written as an SQL literal (pragmas take no bound parameters).
fn sql_literal(value: &dyn ToSql) -> Result<String> {
    use crate::types::ValueRef;
    let out = value.to_sql()?;
    let v = out
        .value_ref()
        .ok_or_else(|| Error::Misuse("a zeroblob or an array cannot be a pragma value".into()))?;
    Ok(match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => format!("{r:?}"),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("x'{hex}'")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_only_tails() {
        assert!(only_comments("  ; -- done\n /* x */ "));
        assert!(!only_comments("; select 1"));
    }

    #[test]
    fn sandbox_parts_split_paths() {
        let (root, name) = sandbox_parts(Path::new("/tmp/a/b.db"), None).unwrap();
        assert_eq!((root, name.as_str()), (PathBuf::from("/tmp/a"), "b.db"));
        let (root, name) = sandbox_parts(Path::new("b.db"), None).unwrap();
        assert_eq!((root, name.as_str()), (PathBuf::from("."), "b.db"));
        let (root, name) = sandbox_parts(Path::new("file:/tmp/a/b.db?mode=ro"), None).unwrap();
        assert_eq!(
            (root, name.as_str()),
            (PathBuf::from("/tmp/a"), "file:b.db?mode=ro")
        );
        let (root, name) = sandbox_parts(Path::new("sub/b.db"), Some(Path::new("/srv"))).unwrap();
        assert_eq!((root, name.as_str()), (PathBuf::from("/srv"), "sub/b.db"));
    }

    #[test]
    fn literals() {
        assert_eq!(sql_literal(&"it's").unwrap(), "'it''s'");
        assert_eq!(sql_literal(&5).unwrap(), "5");
        assert_eq!(sql_literal(&vec![1u8, 255]).unwrap(), "x'01ff'");
    }
}
