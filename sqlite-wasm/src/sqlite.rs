//! One SQLite instance in its sandbox, and typed wrappers over its C API.

use crate::callbacks::{
    AggregateFunction, BusyHandler, Callback, Collation, CommitHook, ProgressHandler, RollbackHook,
    ScalarFunction, TraceHook, UpdateHook, ValueType,
};
use crate::error::{Error, Result};
use crate::exports::Exports;
use crate::ffi;
use crate::guest;
use crate::host::{self, HostState};
use sandlite_vfs::Vfs;
use sandlite_vm::{
    Config as VmConfig, Engine, Instance, Linker, Memory, Module, Store, StoreLimits, Strategy,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// The committed SQLite module.
pub const SQLITE_WASM: &[u8] = include_bytes!("../sqlite3.wasm");

/// The ABI version of the shim this binding speaks.
const ABI_VERSION: i32 = 5;

/// Columns of a row [`Sqlite::step_row`] reads in its one call (wider rows read the
/// rest column by column).
pub const ROW_CAPACITY: usize = 256;

/// Bytes of one `SandliteColumn` (sandlite_shim.h): type, length, value.
const COLUMN_BYTES: usize = 16;

/// Default guest memory limit per instance.
pub const DEFAULT_MEMORY_LIMIT: u64 = 256 << 20;

struct Loaded {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
}

/// The code cache directory for `sqlite3.wasm` (see [`set_code_cache_dir`]), and
/// whether the module has been loaded (after which the setting no longer applies).
static CODE_CACHE: Mutex<(Option<PathBuf>, bool)> = Mutex::new((None, false));

/// Keeps the machine code the compiler makes of `sqlite3.wasm` in `dir` (see
/// `sandlite_vm::Config::cache_dir`), so that later processes load it instead of
/// compiling it again; `None` (the default) compiles in every process. Applies to the
/// module's first load in this process: returns `false` (and changes nothing) if
/// SQLite has already been loaded.
pub fn set_code_cache_dir(dir: Option<PathBuf>) -> bool {
    let mut cache = CODE_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.1 {
        return false;
    }
    cache.0 = dir;
    true
}

/// Compiles `sqlite3.wasm` once per process and strategy.
/// `sqlite3.wasm` loaded for `Auto`, `Interpreter` and `Compiler`, each on first use.
static LOADED: [OnceLock<Result<Loaded, String>>; 3] =
    [OnceLock::new(), OnceLock::new(), OnceLock::new()];

fn loaded(strategy: Strategy) -> Result<&'static Loaded> {
    let slot = match strategy {
        Strategy::Interpreter => &LOADED[1],
        Strategy::Compiler => &LOADED[2],
        _ => &LOADED[0],
    };
    let loaded = slot.get_or_init(|| {
        let mut config = VmConfig::default().strategy(strategy);
        {
            let mut cache = CODE_CACHE.lock().unwrap_or_else(|e| e.into_inner());
            cache.1 = true;
            if let Some(dir) = &cache.0 {
                config = config.cache_dir(dir);
            }
        }
        let engine = Engine::new(config);
        let module = Module::new(&engine, SQLITE_WASM).map_err(|e| e.to_string())?;
        let linker = host::linker(&engine).map_err(|e| e.to_string())?;
        Ok(Loaded {
            engine,
            module,
            linker,
        })
    });
    loaded
        .as_ref()
        .map_err(|e| Error::Misuse(format!("cannot load sqlite3.wasm: {e}")))
}

/// Waits until the background compile of `sqlite3.wasm` for `Strategy::Auto` (see
/// `sandlite_vm::Config::background_compile`) has finished, if SQLite was loaded; then
/// whether machine code exists. A short-lived program with a code cache calls this
/// before it exits, so that the next run loads the code instead of interpreting.
pub fn wait_for_compiler() -> bool {
    LOADED[0]
        .get()
        .and_then(|l| l.as_ref().ok())
        .is_some_and(|l| l.module.wait_for_compiler())
}

/// Loads the module now for `Strategy::Auto` (it is otherwise loaded on first use).
///
/// # Errors
/// If the module does not load.
pub fn preload() -> Result<()> {
    loaded(Strategy::Auto).map(|_| ())
}

/// How to set up an instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where its files live: a sandbox directory or a memdb namespace.
    pub vfs: Vfs,
    /// Most guest memory the instance may use, in bytes. Past it SQLite gets
    /// `SQLITE_NOMEM` and the connection survives.
    pub memory_limit: u64,
    /// Which engine runs SQLite (see [`Strategy`]); `Auto` compiles where it can.
    pub strategy: Strategy,
}

impl Config {
    pub fn new(vfs: Vfs) -> Config {
        Config {
            vfs,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            strategy: Strategy::Auto,
        }
    }
}

/// A database connection handle (`sqlite3 *` in the guest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Db(i32);

/// Where a text or blob value lies in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestBytes {
    ptr: u32,
    len: u32,
}

/// A column of the current row as [`Sqlite::step_row`] read it: numbers by value,
/// text and blobs where they lie in guest memory (read them with
/// [`Sqlite::guest_bytes`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawColumn {
    Null,
    Integer(i64),
    Real(f64),
    Text(GuestBytes),
    Blob(GuestBytes),
}

impl RawColumn {
    /// One `SandliteColumn` (type, length, value; little-endian).
    fn decode(bytes: &[u8]) -> RawColumn {
        let word = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let value = i64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let slice = || GuestBytes {
            ptr: value as u32,
            len: word(4).max(0) as u32,
        };
        match word(0) {
            ffi::SQLITE_INTEGER => RawColumn::Integer(value),
            ffi::SQLITE_FLOAT => RawColumn::Real(f64::from_bits(value as u64)),
            ffi::SQLITE_TEXT => RawColumn::Text(slice()),
            ffi::SQLITE_BLOB => RawColumn::Blob(slice()),
            _ => RawColumn::Null,
        }
    }
}

/// A prepared statement handle (`sqlite3_stmt *`), with its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stmt {
    ptr: i32,
    db: Db,
}

impl Stmt {
    pub fn db(&self) -> Db {
        self.db
    }
}

/// An open BLOB handle (`sqlite3_blob *`), with its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Blob {
    ptr: i32,
    db: Db,
}

/// An online backup (`sqlite3_backup *`), with its destination connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Backup {
    ptr: i32,
    dest: Db,
}

/// What `prepare` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// `None` for text holding no statement (only whitespace or comments).
    pub stmt: Option<Stmt>,
    /// Byte offset of the text after the first statement.
    pub tail: usize,
}

/// Kinds of user functions.
pub enum Function {
    Scalar(Box<dyn ScalarFunction>),
    Aggregate(Box<dyn AggregateFunction>),
    /// An aggregate that also implements `value` and `inverse`.
    Window(Box<dyn AggregateFunction>),
}

/// Which hook or handler a handle belongs to, so re-registering replaces it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum HookKind {
    Busy,
    Progress,
    Commit,
    Rollback,
    Update,
    Trace,
}

/// SQLite running on Sandlite's VM: one guest instance with its own memory and VFS.
/// It may hold several connections (`Db`s), which share its VFS.
pub struct Sqlite {
    /// SQLite's instance in `store`.
    instance: Instance,
    store: Store<HostState>,
    exports: Arc<Exports>,
    memory: Memory,
    /// 32 bytes of guest memory for out-parameters.
    scratch: i32,
    /// Guest memory for [`ROW_CAPACITY`] columns of a row (`step_row`).
    row_buffer: i32,
    broken: Option<String>,
    hooks: std::collections::HashMap<(Db, HookKind), i32>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Sqlite {
    /// The engine this instance runs on now: `Strategy::Interpreter` or
    /// `Strategy::Compiler` (with `Strategy::Auto`, `Interpreter` until the background
    /// compile of `sqlite3.wasm` has finished: see [`wait_for_compiler`]).
    pub fn strategy(&self) -> Strategy {
        self.instance.strategy(&self.store)
    }

    /// Instantiates SQLite in a new sandbox.
    ///
    /// # Errors
    /// If the module does not load or SQLite fails to initialize.
    pub fn new(config: Config) -> Result<Sqlite> {
        let loaded = loaded(config.strategy)?;
        let mut store = Store::new(&loaded.engine, HostState::new(config.vfs));
        store.set_limits(StoreLimits {
            max_memory_bytes: config.memory_limit,
            ..StoreLimits::default()
        });
        let instance = loaded.linker.instantiate(&mut store, &loaded.module)?;
        let exports = Arc::new(Exports::resolve(&instance, &store).map_err(Error::Load)?);
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or_else(|| Error::Misuse("sqlite3.wasm exports no memory".into()))?;
        store.data_mut().memory = Some(memory);
        store.data_mut().exports = Some(exports.clone());
        exports._initialize.call(&mut store, ())?;
        let abi = exports.sandlite_abi_version.call(&mut store, ())?;
        if abi != ABI_VERSION {
            return Err(Error::Misuse(format!(
                "sqlite3.wasm speaks shim ABI {abi}, this binding {ABI_VERSION}"
            )));
        }
        let rc = exports.sqlite3_initialize.call(&mut store, ())?;
        if rc != ffi::SQLITE_OK {
            return Err(Error::from_code(rc));
        }
        store.data_mut().free_destructor = exports.sandlite_free_destructor.call(&mut store, ())?;
        let scratch = exports.malloc.call(&mut store, 32)?;
        let row_buffer = exports
            .malloc
            .call(&mut store, (ROW_CAPACITY * COLUMN_BYTES) as i32)?;
        if scratch == 0 || row_buffer == 0 {
            return Err(Error::from_code(ffi::SQLITE_NOMEM));
        }
        Ok(Sqlite {
            instance,
            store,
            exports,
            memory,
            scratch,
            row_buffer,
            broken: None,
            hooks: Default::default(),
        })
    }

    /// A handle that stops SQLite at once from any thread by trapping the VM; the
    /// instance is broken afterwards. For runaway work that SQLite's own interrupt
    /// (checked between virtual-machine steps) does not reach.
    pub fn abort_handle(&self) -> sandlite_vm::InterruptHandle {
        self.store.interrupt_handle()
    }

    /// True once a trap has made this instance unusable.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// The VFS this instance's files go through.
    pub fn vfs(&self) -> &Vfs {
        &self.store.data().vfs
    }

    /// Lets SQLite also open files inside `vfs`'s root, by absolute path (for a backup
    /// into another directory). Undo with [`revoke_extra_roots`](Self::revoke_extra_roots).
    pub fn grant_root(&mut self, vfs: Vfs) {
        self.store.data_mut().extra_vfs.push(vfs);
    }

    /// Withdraws every root granted with [`grant_root`](Self::grant_root).
    pub fn revoke_extra_roots(&mut self) {
        self.store.data_mut().extra_vfs.clear();
    }

    /// Guest memory in use, in bytes (its current size).
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// Runs a guest call, turning traps into a broken instance.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&Exports, &mut Store<HostState>) -> sandlite_vm::Result<R>,
    ) -> Result<R> {
        if let Some(why) = &self.broken {
            return Err(Error::Broken(why.clone()));
        }
        match f(&self.exports, &mut self.store) {
            Ok(r) => Ok(r),
            Err(e) => {
                let err = Error::from(e);
                self.broken = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn mem(&self) -> &[u8] {
        self.memory.data(&self.store)
    }

    fn read_i32(&self, ptr: i32) -> Result<i32> {
        guest::read_i32(self.mem(), ptr as u32).map_err(Error::Trap)
    }

    /// The NUL-terminated string at `ptr` (`None` for NULL).
    fn string_at(&self, ptr: i32) -> Result<Option<String>> {
        guest::opt_str(self.mem(), ptr as u32).map_err(Error::Trap)
    }

    /// Copies `bytes` plus a NUL into fresh guest memory (free it with `free`).
    fn alloc(&mut self, bytes: &[u8]) -> Result<i32> {
        let n = i32::try_from(bytes.len() + 1).map_err(|_| Error::from_code(ffi::SQLITE_TOOBIG))?;
        let ptr = self.call(|e, s| e.malloc.call(s, n))?;
        if ptr == 0 {
            return Err(Error::from_code(ffi::SQLITE_NOMEM));
        }
        let mem = self.memory.data_mut(&mut self.store);
        let dst = guest::bytes_mut(mem, ptr as u32, bytes.len() + 1).map_err(Error::Trap)?;
        dst[..bytes.len()].copy_from_slice(bytes);
        dst[bytes.len()] = 0;
        Ok(ptr)
    }

    fn alloc_str(&mut self, s: &str) -> Result<i32> {
        if s.as_bytes().contains(&0) {
            return Err(Error::Misuse(format!("string contains a NUL byte: {s:?}")));
        }
        self.alloc(s.as_bytes())
    }

    fn free(&mut self, ptr: i32) -> Result<()> {
        self.call(|e, s| e.free.call(s, ptr))
    }

    /// Runs `f` with `s` as a guest C string, freeing it afterwards.
    fn with_str<R>(&mut self, s: &str, f: impl FnOnce(&mut Self, i32) -> Result<R>) -> Result<R> {
        let ptr = self.alloc_str(s)?;
        let r = f(self, ptr);
        self.free(ptr)?;
        r
    }

    /// The error SQLite reports on `db` after `rc`.
    fn db_error(&mut self, db: Db, rc: i32) -> Error {
        if db.0 == 0 {
            return Error::from_code(rc);
        }
        let details = (|| -> Result<(i32, String, i32)> {
            let code = self.call(|e, s| e.sqlite3_extended_errcode.call(s, db.0))?;
            let msg = self.call(|e, s| e.sqlite3_errmsg.call(s, db.0))?;
            let msg = self.string_at(msg)?.unwrap_or_default();
            let offset = self.call(|e, s| e.sqlite3_error_offset.call(s, db.0))?;
            Ok((code, msg, offset))
        })();
        match details {
            Ok((code, mut message, offset)) => {
                let code = if code & 0xff == rc & 0xff { code } else { rc };
                if let Some((vfs_code, reason)) = self.store.data_mut().last_vfs_error.take()
                    && vfs_code & 0xff == code & 0xff
                {
                    message = format!("{message}: {reason}");
                }
                Error::Sqlite {
                    code,
                    message,
                    offset: usize::try_from(offset).ok(),
                }
            }
            Err(e) => e,
        }
    }

    fn check(&mut self, db: Db, rc: i32) -> Result<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.db_error(db, rc))
        }
    }

    // ---- library ----

    /// `sqlite3_libversion`.
    ///
    /// # Errors
    /// A trap.
    pub fn libversion(&mut self) -> Result<String> {
        let p = self.call(|e, s| e.sqlite3_libversion.call(s, ()))?;
        Ok(self.string_at(p)?.unwrap_or_default())
    }

    /// `sqlite3_libversion_number`.
    ///
    /// # Errors
    /// A trap.
    pub fn libversion_number(&mut self) -> Result<i32> {
        self.call(|e, s| e.sqlite3_libversion_number.call(s, ()))
    }

    /// `sqlite3_complete`: does `sql` end with a complete statement?
    ///
    /// # Errors
    /// A trap, or a NUL in `sql`.
    pub fn complete(&mut self, sql: &str) -> Result<bool> {
        self.with_str(sql, |me, p| {
            Ok(me.call(|e, s| e.sqlite3_complete.call(s, p))? != 0)
        })
    }

    // ---- connections ----

    /// `sqlite3_open_v2` with this instance's VFS. Extended result codes are on.
    ///
    /// # Errors
    /// SQLite's error (with the VFS's reason for `SQLITE_CANTOPEN`), or a trap.
    pub fn open(&mut self, filename: &str, flags: i32) -> Result<Db> {
        self.store.data_mut().last_vfs_error = None;
        let scratch = self.scratch;
        let (rc, db) = self.with_str(filename, |me, name| {
            let rc = me.call(|e, s| e.sqlite3_open_v2.call(s, (name, scratch, flags, 0)))?;
            Ok((rc, me.read_i32(scratch)?))
        })?;
        let db = Db(db);
        if rc != ffi::SQLITE_OK {
            let err = self.db_error(db, rc);
            if db.0 != 0 {
                let _ = self.call(|e, s| e.sqlite3_close_v2.call(s, db.0));
            }
            return Err(err);
        }
        self.call(|e, s| e.sqlite3_extended_result_codes.call(s, (db.0, 1)))?;
        Ok(db)
    }

    /// `sqlite3_serialize`: a copy of database `name` of `db` as the bytes of its file
    /// (`None` if there is no such database).
    ///
    /// # Errors
    /// `SQLITE_NOMEM` if SQLite cannot make the copy, or a trap.
    pub fn serialize(&mut self, db: Db, name: &str) -> Result<Option<Vec<u8>>> {
        let scratch = self.scratch;
        let ptr = self.with_str(name, |me, schema| {
            me.call(|e, s| e.sqlite3_serialize.call(s, (db.0, schema, scratch, 0)))
        })?;
        if ptr == 0 {
            return Ok(None);
        }
        let size = guest::read_i64(self.mem(), scratch as u32).map_err(Error::Trap);
        let bytes = size.and_then(|size| {
            let len = usize::try_from(size).map_err(|_| Error::from_code(ffi::SQLITE_TOOBIG))?;
            let src = guest::bytes(self.mem(), ptr as u32, len).map_err(Error::Trap)?;
            let mut copy = Vec::new();
            copy.try_reserve_exact(len)
                .map_err(|_| Error::from_code(ffi::SQLITE_NOMEM))?;
            copy.extend_from_slice(src);
            Ok(copy)
        });
        self.call(|e, s| e.sqlite3_free.call(s, ptr))?;
        bytes.map(Some)
    }

    /// `sqlite3_deserialize`: database `name` of `db` becomes an in-memory database
    /// holding `bytes` (a database file's image), growable, freed by SQLite.
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_NOMEM` if the guest cannot hold the copy), or a trap.
    pub fn deserialize(&mut self, db: Db, name: &str, bytes: &[u8]) -> Result<()> {
        let len = bytes.len() as i64;
        let flags = ffi::SQLITE_DESERIALIZE_FREEONCLOSE | ffi::SQLITE_DESERIALIZE_RESIZEABLE;
        let rc = self.with_str(name, |me, schema| {
            let ptr = me.give(bytes)?;
            // SQLite owns `ptr` from here, and frees it even when it fails.
            me.call(|e, s| {
                e.sqlite3_deserialize
                    .call(s, (db.0, schema, ptr, len, len, flags))
            })
        })?;
        self.check(db, rc)
    }

    /// `sqlite3_close_v2`.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn close(&mut self, db: Db) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_close_v2.call(s, db.0))?;
        // Drop the connection's hook callbacks too, not only their handles.
        let mut closed = Vec::new();
        self.hooks.retain(|(d, _), handle| {
            if *d == db {
                closed.push(*handle);
            }
            *d != db
        });
        for handle in closed {
            self.store.data_mut().remove_callback(handle);
        }
        if rc != ffi::SQLITE_OK {
            return Err(Error::from_code(rc));
        }
        Ok(())
    }

    pub fn errmsg(&mut self, db: Db) -> Result<String> {
        let p = self.call(|e, s| e.sqlite3_errmsg.call(s, db.0))?;
        Ok(self.string_at(p)?.unwrap_or_default())
    }

    pub fn errcode(&mut self, db: Db) -> Result<i32> {
        self.call(|e, s| e.sqlite3_errcode.call(s, db.0))
    }

    pub fn extended_errcode(&mut self, db: Db) -> Result<i32> {
        self.call(|e, s| e.sqlite3_extended_errcode.call(s, db.0))
    }

    /// `sqlite3_error_offset`: where in the SQL the last error is, if known.
    pub fn error_offset(&mut self, db: Db) -> Result<Option<usize>> {
        let o = self.call(|e, s| e.sqlite3_error_offset.call(s, db.0))?;
        Ok(usize::try_from(o).ok())
    }

    pub fn changes(&mut self, db: Db) -> Result<i64> {
        self.call(|e, s| e.sqlite3_changes64.call(s, db.0))
    }

    pub fn total_changes(&mut self, db: Db) -> Result<i64> {
        self.call(|e, s| e.sqlite3_total_changes64.call(s, db.0))
    }

    pub fn last_insert_rowid(&mut self, db: Db) -> Result<i64> {
        self.call(|e, s| e.sqlite3_last_insert_rowid.call(s, db.0))
    }

    /// `sqlite3_get_autocommit`: true outside an explicit transaction.
    pub fn get_autocommit(&mut self, db: Db) -> Result<bool> {
        Ok(self.call(|e, s| e.sqlite3_get_autocommit.call(s, db.0))? != 0)
    }

    /// `sqlite3_busy_timeout`.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn busy_timeout(&mut self, db: Db, ms: i32) -> Result<()> {
        // The timeout replaces any busy handler: drop its callback.
        self.set_hook(db, HookKind::Busy, None);
        let rc = self.call(|e, s| e.sqlite3_busy_timeout.call(s, (db.0, ms)))?;
        self.check(db, rc)
    }

    /// `sqlite3_interrupt` (from the thread running this instance, e.g. in a callback).
    pub fn interrupt(&mut self, db: Db) -> Result<()> {
        self.call(|e, s| e.sqlite3_interrupt.call(s, db.0))
    }

    /// `sqlite3_db_readonly`: `None` if there is no such database.
    pub fn db_readonly(&mut self, db: Db, name: &str) -> Result<Option<bool>> {
        let r = self.with_str(name, |me, p| {
            me.call(|e, s| e.sqlite3_db_readonly.call(s, (db.0, p)))
        })?;
        Ok(match r {
            -1 => None,
            r => Some(r != 0),
        })
    }

    /// `sqlite3_db_filename`: `None` for in-memory and temporary databases.
    pub fn db_filename(&mut self, db: Db, name: &str) -> Result<Option<String>> {
        let p = self.with_str(name, |me, p| {
            me.call(|e, s| e.sqlite3_db_filename.call(s, (db.0, p)))
        })?;
        Ok(self.string_at(p)?.filter(|s| !s.is_empty()))
    }

    /// `sqlite3_txn_state` for schema `name` (or all with `None`): 0 none, 1 read, 2 write.
    pub fn txn_state(&mut self, db: Db, name: Option<&str>) -> Result<i32> {
        match name {
            Some(n) => self.with_str(n, |me, p| {
                me.call(|e, s| e.sqlite3_txn_state.call(s, (db.0, p)))
            }),
            None => self.call(|e, s| e.sqlite3_txn_state.call(s, (db.0, 0))),
        }
    }

    /// `sqlite3_limit`: sets limit `id` (unless `value` < 0) and returns the old one.
    pub fn limit(&mut self, db: Db, id: i32, value: i32) -> Result<i32> {
        self.call(|e, s| e.sqlite3_limit.call(s, (db.0, id, value)))
    }

    /// `sqlite3_db_config` for the integer options (`SQLITE_DBCONFIG_ENABLE_FKEY` ...):
    /// sets it (unless `value` < 0) and returns the current setting.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn db_config(&mut self, db: Db, op: i32, value: i32) -> Result<bool> {
        let out = self.scratch;
        let rc = self.call(|e, s| e.sandlite_db_config_int.call(s, (db.0, op, value, out)))?;
        self.check(db, rc)?;
        Ok(self.read_i32(out)? != 0)
    }

    /// `sqlite3_wal_checkpoint_v2`: (frames in the WAL, frames checkpointed).
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_BUSY` if it could not complete), or a trap.
    pub fn wal_checkpoint(&mut self, db: Db, name: Option<&str>, mode: i32) -> Result<(i32, i32)> {
        let (log, ckpt) = (self.scratch, self.scratch + 4);
        let rc = match name {
            Some(n) => self.with_str(n, |me, p| {
                me.call(|e, s| {
                    e.sqlite3_wal_checkpoint_v2
                        .call(s, (db.0, p, mode, log, ckpt))
                })
            })?,
            None => self.call(|e, s| {
                e.sqlite3_wal_checkpoint_v2
                    .call(s, (db.0, 0, mode, log, ckpt))
            })?,
        };
        self.check(db, rc)?;
        Ok((self.read_i32(log)?, self.read_i32(ckpt)?))
    }

    // ---- statements ----

    /// `sqlite3_prepare_v3` of the first statement in `sql`.
    ///
    /// # Errors
    /// SQLite's error with the offset of the problem in `sql`, or a trap.
    pub fn prepare(&mut self, db: Db, sql: &str, flags: i32) -> Result<Prepared> {
        self.store.data_mut().last_vfs_error = None;
        let len = i32::try_from(sql.len() + 1).map_err(|_| Error::from_code(ffi::SQLITE_TOOBIG))?;
        let text = self.alloc(sql.as_bytes())?;
        let (out, tail_out) = (self.scratch, self.scratch + 4);
        let rc = self.call(|e, s| {
            e.sqlite3_prepare_v3
                .call(s, (db.0, text, len, flags, out, tail_out))
        });
        let result = rc.and_then(|rc| {
            let stmt = self.read_i32(out)?;
            let tail = self.read_i32(tail_out)?;
            Ok((rc, stmt, tail))
        });
        self.free(text)?;
        let (rc, stmt, tail) = result?;
        if rc != ffi::SQLITE_OK {
            return Err(self.db_error(db, rc));
        }
        let tail = usize::try_from(tail - text)
            .unwrap_or(sql.len())
            .min(sql.len());
        Ok(Prepared {
            stmt: (stmt != 0).then_some(Stmt { ptr: stmt, db }),
            tail,
        })
    }

    /// `sqlite3_step`: `true` when a row is ready, `false` when done.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn step(&mut self, stmt: Stmt) -> Result<bool> {
        // A VFS failure SQLite handled earlier must not explain a later error.
        self.store.data_mut().last_vfs_error = None;
        match self.call(|e, s| e.sqlite3_step.call(s, stmt.ptr))? {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.db_error(stmt.db, rc)),
        }
    }

    /// `sqlite3_step`, reading the row's first `columns` columns (at most
    /// [`ROW_CAPACITY`]) into `row` in the same guest call when a row is ready. `row`
    /// is left empty when the statement is done or fails.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn step_row(
        &mut self,
        stmt: Stmt,
        columns: usize,
        row: &mut Vec<RawColumn>,
    ) -> Result<bool> {
        row.clear();
        self.store.data_mut().last_vfs_error = None;
        let n = columns.min(ROW_CAPACITY);
        let buffer = self.row_buffer;
        match self.call(|e, s| e.sandlite_step_row.call(s, (stmt.ptr, buffer, n as i32)))? {
            ffi::SQLITE_ROW => {
                let bytes = guest::bytes(self.mem(), buffer as u32, n * COLUMN_BYTES)
                    .map_err(Error::Trap)?;
                row.extend(bytes.chunks_exact(COLUMN_BYTES).map(RawColumn::decode));
                Ok(true)
            }
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.db_error(stmt.db, rc)),
        }
    }

    /// The bytes of a text or blob column read by [`step_row`](Self::step_row), in
    /// place in guest memory (valid until the statement is stepped, reset or
    /// finalized).
    ///
    /// # Errors
    /// A trap if the guest gave bytes outside its memory.
    pub fn guest_bytes(&self, bytes: GuestBytes) -> Result<&[u8]> {
        if bytes.ptr == 0 {
            return Ok(&[]);
        }
        guest::bytes(self.mem(), bytes.ptr, bytes.len as usize).map_err(Error::Trap)
    }

    /// `sqlite3_reset`.
    ///
    /// # Errors
    /// The error of the last step, or a trap.
    pub fn reset(&mut self, stmt: Stmt) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_reset.call(s, stmt.ptr))?;
        self.check(stmt.db, rc)
    }

    /// `sqlite3_finalize`.
    ///
    /// # Errors
    /// The error of the last step, or a trap.
    pub fn finalize(&mut self, stmt: Stmt) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_finalize.call(s, stmt.ptr))?;
        self.check(stmt.db, rc)
    }

    pub fn clear_bindings(&mut self, stmt: Stmt) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_clear_bindings.call(s, stmt.ptr))?;
        self.check(stmt.db, rc)
    }

    /// `sqlite3_stmt_readonly`.
    pub fn stmt_readonly(&mut self, stmt: Stmt) -> Result<bool> {
        Ok(self.call(|e, s| e.sqlite3_stmt_readonly.call(s, stmt.ptr))? != 0)
    }

    /// `sqlite3_stmt_busy`.
    pub fn stmt_busy(&mut self, stmt: Stmt) -> Result<bool> {
        Ok(self.call(|e, s| e.sqlite3_stmt_busy.call(s, stmt.ptr))? != 0)
    }

    /// `sqlite3_stmt_status(stmt, op, reset)`: the counter `op`
    /// (`ffi::SQLITE_STMTSTATUS_*`), zeroed afterwards with `reset`. SQLite answers 0
    /// for an unknown `op`.
    pub fn stmt_status(&mut self, stmt: Stmt, op: i32, reset: bool) -> Result<i32> {
        self.call(|e, s| {
            e.sqlite3_stmt_status
                .call(s, (stmt.ptr, op, i32::from(reset)))
        })
    }

    /// `sqlite3_sql`: the statement's text.
    pub fn sql(&mut self, stmt: Stmt) -> Result<String> {
        let p = self.call(|e, s| e.sqlite3_sql.call(s, stmt.ptr))?;
        Ok(self.string_at(p)?.unwrap_or_default())
    }

    /// `sqlite3_expanded_sql`: the text with bound parameters substituted.
    pub fn expanded_sql(&mut self, stmt: Stmt) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_expanded_sql.call(s, stmt.ptr))?;
        let text = self.string_at(p)?;
        if p != 0 {
            self.call(|e, s| e.sqlite3_free.call(s, p))?;
        }
        Ok(text)
    }

    pub fn bind_parameter_count(&mut self, stmt: Stmt) -> Result<i32> {
        self.call(|e, s| e.sqlite3_bind_parameter_count.call(s, stmt.ptr))
    }

    /// `sqlite3_bind_parameter_name` (1-based), e.g. `:name`.
    pub fn bind_parameter_name(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_bind_parameter_name.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    /// `sqlite3_bind_parameter_index`: 0 if there is no such parameter.
    pub fn bind_parameter_index(&mut self, stmt: Stmt, name: &str) -> Result<i32> {
        self.with_str(name, |me, p| {
            me.call(|e, s| e.sqlite3_bind_parameter_index.call(s, (stmt.ptr, p)))
        })
    }

    pub fn bind_null(&mut self, stmt: Stmt, i: i32) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_bind_null.call(s, (stmt.ptr, i)))?;
        self.check(stmt.db, rc)
    }

    pub fn bind_int64(&mut self, stmt: Stmt, i: i32, v: i64) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_bind_int64.call(s, (stmt.ptr, i, v)))?;
        self.check(stmt.db, rc)
    }

    pub fn bind_double(&mut self, stmt: Stmt, i: i32, v: f64) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_bind_double.call(s, (stmt.ptr, i, v)))?;
        self.check(stmt.db, rc)
    }

    /// Copies `bytes` into a buffer handed to SQLite (freed by SQLite).
    fn give(&mut self, bytes: &[u8]) -> Result<i32> {
        let ptr = self.call(|e, s| e.sqlite3_malloc64.call(s, bytes.len().max(1) as i64))?;
        if ptr == 0 {
            return Err(Error::from_code(ffi::SQLITE_NOMEM));
        }
        self.memory
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .map_err(|e| Error::Trap(sandlite_vm::Trap::host(e)))?;
        Ok(ptr)
    }

    /// Binds UTF-8 text (SQLite takes the copy; no second copy inside SQLite).
    pub fn bind_text(&mut self, stmt: Stmt, i: i32, text: &str) -> Result<()> {
        let ptr = self.give(text.as_bytes())?;
        let free = self.store.data().free_destructor;
        let n = text.len() as i64;
        let rc = self.call(|e, s| {
            e.sqlite3_bind_text64
                .call(s, (stmt.ptr, i, ptr, n, free, ffi::SQLITE_UTF8))
        })?;
        self.check(stmt.db, rc)
    }

    pub fn bind_blob(&mut self, stmt: Stmt, i: i32, blob: &[u8]) -> Result<()> {
        let ptr = self.give(blob)?;
        let free = self.store.data().free_destructor;
        let n = blob.len() as i64;
        let rc = self.call(|e, s| e.sqlite3_bind_blob64.call(s, (stmt.ptr, i, ptr, n, free)))?;
        self.check(stmt.db, rc)
    }

    pub fn bind_zeroblob(&mut self, stmt: Stmt, i: i32, n: u64) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_bind_zeroblob64.call(s, (stmt.ptr, i, n as i64)))?;
        self.check(stmt.db, rc)
    }

    pub fn column_count(&mut self, stmt: Stmt) -> Result<i32> {
        self.call(|e, s| e.sqlite3_column_count.call(s, stmt.ptr))
    }

    pub fn data_count(&mut self, stmt: Stmt) -> Result<i32> {
        self.call(|e, s| e.sqlite3_data_count.call(s, stmt.ptr))
    }

    pub fn column_type(&mut self, stmt: Stmt, i: i32) -> Result<ValueType> {
        let t = self.call(|e, s| e.sqlite3_column_type.call(s, (stmt.ptr, i)))?;
        Ok(ValueType::from_code(t))
    }

    pub fn column_int64(&mut self, stmt: Stmt, i: i32) -> Result<i64> {
        self.call(|e, s| e.sqlite3_column_int64.call(s, (stmt.ptr, i)))
    }

    pub fn column_double(&mut self, stmt: Stmt, i: i32) -> Result<f64> {
        self.call(|e, s| e.sqlite3_column_double.call(s, (stmt.ptr, i)))
    }

    pub fn column_bytes(&mut self, stmt: Stmt, i: i32) -> Result<usize> {
        Ok(self
            .call(|e, s| e.sqlite3_column_bytes.call(s, (stmt.ptr, i)))?
            .max(0) as usize)
    }

    /// Column `i` as UTF-8 text, read in place in guest memory (valid until the next
    /// call on this instance).
    pub fn column_text(&mut self, stmt: Stmt, i: i32) -> Result<&[u8]> {
        let p = self.call(|e, s| e.sqlite3_column_text.call(s, (stmt.ptr, i)))?;
        let n = self.column_bytes(stmt, i)?;
        if p == 0 {
            return Ok(&[]);
        }
        guest::bytes(self.mem(), p as u32, n).map_err(Error::Trap)
    }

    /// Column `i` as a blob, read in place in guest memory.
    pub fn column_blob(&mut self, stmt: Stmt, i: i32) -> Result<&[u8]> {
        let p = self.call(|e, s| e.sqlite3_column_blob.call(s, (stmt.ptr, i)))?;
        let n = self.column_bytes(stmt, i)?;
        if p == 0 {
            return Ok(&[]);
        }
        guest::bytes(self.mem(), p as u32, n).map_err(Error::Trap)
    }

    pub fn column_name(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_column_name.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    pub fn column_decltype(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_column_decltype.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    pub fn column_table_name(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_column_table_name.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    pub fn column_origin_name(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_column_origin_name.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    pub fn column_database_name(&mut self, stmt: Stmt, i: i32) -> Result<Option<String>> {
        let p = self.call(|e, s| e.sqlite3_column_database_name.call(s, (stmt.ptr, i)))?;
        self.string_at(p)
    }

    // ---- callbacks ----

    /// Registers a user function (`flags`: `SQLITE_UTF8 | SQLITE_DETERMINISTIC | ...`).
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn create_function(
        &mut self,
        db: Db,
        name: &str,
        n_arg: i32,
        flags: i32,
        f: Function,
    ) -> Result<()> {
        let (cb, kind) = match f {
            Function::Scalar(f) => (Callback::Scalar(f), 0),
            Function::Aggregate(f) => (Callback::Aggregate(f), 1),
            Function::Window(f) => (Callback::Aggregate(f), 2),
        };
        let handle = self.store.data_mut().add_callback(cb);
        let rc = self.with_str(name, |me, p| {
            me.call(|e, s| {
                e.sandlite_create_function
                    .call(s, (db.0, p, n_arg, flags, handle, kind))
            })
        })?;
        self.check(db, rc)
    }

    /// Registers a virtual-table module whose tables have the write methods `writes`.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn create_module(
        &mut self,
        db: Db,
        name: &str,
        kind: crate::vtab::ModuleKind,
        writes: crate::vtab::ModuleWrites,
        module: Box<dyn crate::vtab::VtabModule>,
    ) -> Result<()> {
        let handle = self.store.data_mut().add_callback(Callback::Module(module));
        let kind = crate::vtab::module_kind_code(kind, writes);
        let rc = self.with_str(name, |me, p| {
            me.call(|e, s| e.sandlite_create_module.call(s, (db.0, p, handle, kind)))
        })?;
        self.check(db, rc)
    }

    /// Binds a host value to parameter `i` as an SQLite pointer value, which only
    /// host code (a virtual table's `xFilter`) can see; SQL sees NULL.
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_RANGE`), or a trap.
    pub fn bind_pointer(
        &mut self,
        stmt: Stmt,
        i: i32,
        value: crate::vtab::HostValue,
    ) -> Result<()> {
        let handle = self.store.data_mut().add_callback(Callback::Value(value));
        let rc = self.call(|e, s| e.sandlite_bind_pointer.call(s, (stmt.ptr, i, handle)))?;
        self.check(stmt.db, rc)
    }

    /// Removes a user function.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn remove_function(&mut self, db: Db, name: &str, n_arg: i32, flags: i32) -> Result<()> {
        let rc = self.with_str(name, |me, p| {
            me.call(|e, s| e.sandlite_remove_function.call(s, (db.0, p, n_arg, flags)))
        })?;
        self.check(db, rc)
    }

    /// Registers a collation over UTF-8 text.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn create_collation(&mut self, db: Db, name: &str, f: Collation) -> Result<()> {
        let handle = self.store.data_mut().add_callback(Callback::Collation(f));
        let rc = self.with_str(name, |me, p| {
            me.call(|e, s| {
                e.sandlite_create_collation
                    .call(s, (db.0, p, ffi::SQLITE_UTF8, handle))
            })
        })?;
        self.check(db, rc)
    }

    /// Removes a collation.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn remove_collation(&mut self, db: Db, name: &str) -> Result<()> {
        let rc = self.with_str(name, |me, p| {
            me.call(|e, s| {
                e.sandlite_remove_collation
                    .call(s, (db.0, p, ffi::SQLITE_UTF8))
            })
        })?;
        self.check(db, rc)
    }

    /// Replaces the handle of hook `kind`, dropping the old callback.
    fn set_hook(&mut self, db: Db, kind: HookKind, cb: Option<Callback>) -> i32 {
        let st = self.store.data_mut();
        let handle = cb.map_or(0, |cb| st.add_callback(cb));
        let old = if handle != 0 {
            self.hooks.insert((db, kind), handle)
        } else {
            self.hooks.remove(&(db, kind))
        };
        if let Some(old) = old {
            self.store.data_mut().remove_callback(old);
        }
        handle
    }

    /// Installs (or with `None` removes) the busy handler; it replaces a busy timeout.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn set_busy_handler(&mut self, db: Db, f: Option<BusyHandler>) -> Result<()> {
        let enable = i32::from(f.is_some());
        let handle = self.set_hook(db, HookKind::Busy, f.map(Callback::Busy));
        let rc = self.call(|e, s| e.sandlite_busy_handler.call(s, (db.0, enable, handle)))?;
        self.check(db, rc)
    }

    /// Installs (or removes) the progress handler, called every `n_ops` VM steps.
    ///
    /// # Errors
    /// A trap.
    pub fn set_progress_handler(
        &mut self,
        db: Db,
        n_ops: i32,
        f: Option<ProgressHandler>,
    ) -> Result<()> {
        let enable = i32::from(f.is_some());
        let handle = self.set_hook(db, HookKind::Progress, f.map(Callback::Progress));
        self.call(|e, s| {
            e.sandlite_progress_handler
                .call(s, (db.0, n_ops, enable, handle))
        })
    }

    /// Installs (or removes) the commit hook.
    ///
    /// # Errors
    /// A trap.
    pub fn set_commit_hook(&mut self, db: Db, f: Option<CommitHook>) -> Result<()> {
        let enable = i32::from(f.is_some());
        let handle = self.set_hook(db, HookKind::Commit, f.map(Callback::Commit));
        self.call(|e, s| e.sandlite_commit_hook.call(s, (db.0, enable, handle)))
    }

    /// Installs (or removes) the rollback hook.
    ///
    /// # Errors
    /// A trap.
    pub fn set_rollback_hook(&mut self, db: Db, f: Option<RollbackHook>) -> Result<()> {
        let enable = i32::from(f.is_some());
        let handle = self.set_hook(db, HookKind::Rollback, f.map(Callback::Rollback));
        self.call(|e, s| e.sandlite_rollback_hook.call(s, (db.0, enable, handle)))
    }

    /// Installs (or removes) the update hook.
    ///
    /// # Errors
    /// A trap.
    pub fn set_update_hook(&mut self, db: Db, f: Option<UpdateHook>) -> Result<()> {
        let enable = i32::from(f.is_some());
        let handle = self.set_hook(db, HookKind::Update, f.map(Callback::Update));
        self.call(|e, s| e.sandlite_update_hook.call(s, (db.0, enable, handle)))
    }

    /// Installs (or with `None` removes) a trace callback for the `SQLITE_TRACE_*`
    /// events in `mask` (`sqlite3_trace_v2`).
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn set_trace(&mut self, db: Db, mask: i32, f: Option<TraceHook>) -> Result<()> {
        let mask = if f.is_some() { mask } else { 0 };
        let handle = self.set_hook(db, HookKind::Trace, f.map(Callback::Trace));
        let rc = self.call(|e, s| e.sandlite_trace.call(s, (db.0, mask, handle)))?;
        self.check(db, rc)
    }

    // ---- incremental BLOB I/O ----

    /// `sqlite3_blob_open`.
    ///
    /// # Errors
    /// SQLite's error, or a trap.
    pub fn blob_open(
        &mut self,
        db: Db,
        schema: &str,
        table: &str,
        column: &str,
        rowid: i64,
        writable: bool,
    ) -> Result<Blob> {
        let names = [
            self.alloc_str(schema)?,
            self.alloc_str(table)?,
            self.alloc_str(column)?,
        ];
        let out = self.scratch;
        let rc = self.call(|e, s| {
            e.sqlite3_blob_open.call(
                s,
                (
                    db.0,
                    names[0],
                    names[1],
                    names[2],
                    rowid,
                    i32::from(writable),
                    out,
                ),
            )
        });
        for p in names {
            self.free(p)?;
        }
        let rc = rc?;
        let ptr = self.read_i32(out)?;
        if rc != ffi::SQLITE_OK {
            let err = self.db_error(db, rc);
            if ptr != 0 {
                let _ = self.call(|e, s| e.sqlite3_blob_close.call(s, ptr));
            }
            return Err(err);
        }
        Ok(Blob { ptr, db })
    }

    pub fn blob_bytes(&mut self, blob: Blob) -> Result<usize> {
        Ok(self
            .call(|e, s| e.sqlite3_blob_bytes.call(s, blob.ptr))?
            .max(0) as usize)
    }

    /// Reads `buf.len()` bytes at `offset` of the blob.
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_ERROR` past the end, `SQLITE_ABORT` if the row changed).
    pub fn blob_read(&mut self, blob: Blob, buf: &mut [u8], offset: usize) -> Result<()> {
        let n = i32::try_from(buf.len()).map_err(|_| Error::from_code(ffi::SQLITE_TOOBIG))?;
        let off = i32::try_from(offset).map_err(|_| Error::from_code(ffi::SQLITE_ERROR))?;
        let tmp = self.call(|e, s| e.malloc.call(s, n.max(1)))?;
        if tmp == 0 {
            return Err(Error::from_code(ffi::SQLITE_NOMEM));
        }
        let rc = self.call(|e, s| e.sqlite3_blob_read.call(s, (blob.ptr, tmp, n, off)));
        let copied = rc.and_then(|rc| {
            if rc == ffi::SQLITE_OK {
                let src = guest::bytes(self.mem(), tmp as u32, buf.len()).map_err(Error::Trap)?;
                buf.copy_from_slice(src);
            }
            Ok(rc)
        });
        self.free(tmp)?;
        let rc = copied?;
        self.check(blob.db, rc)
    }

    /// Writes `data` at `offset` of the blob (which cannot grow).
    ///
    /// # Errors
    /// SQLite's error.
    pub fn blob_write(&mut self, blob: Blob, data: &[u8], offset: usize) -> Result<()> {
        let n = i32::try_from(data.len()).map_err(|_| Error::from_code(ffi::SQLITE_TOOBIG))?;
        let off = i32::try_from(offset).map_err(|_| Error::from_code(ffi::SQLITE_ERROR))?;
        let tmp = self.alloc(data)?;
        let rc = self.call(|e, s| e.sqlite3_blob_write.call(s, (blob.ptr, tmp, n, off)));
        self.free(tmp)?;
        let rc = rc?;
        self.check(blob.db, rc)
    }

    /// Moves the handle to another row of the same table and column.
    pub fn blob_reopen(&mut self, blob: Blob, rowid: i64) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_blob_reopen.call(s, (blob.ptr, rowid)))?;
        self.check(blob.db, rc)
    }

    pub fn blob_close(&mut self, blob: Blob) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_blob_close.call(s, blob.ptr))?;
        self.check(blob.db, rc)
    }

    // ---- online backup (both databases in this instance) ----

    /// `sqlite3_backup_init` from `src`/`src_name` into `dest`/`dest_name`.
    ///
    /// # Errors
    /// SQLite's error on the destination.
    pub fn backup_init(
        &mut self,
        dest: Db,
        dest_name: &str,
        src: Db,
        src_name: &str,
    ) -> Result<Backup> {
        let (d, s_) = (self.alloc_str(dest_name)?, self.alloc_str(src_name)?);
        let p = self.call(|e, s| e.sqlite3_backup_init.call(s, (dest.0, d, src.0, s_)));
        self.free(d)?;
        self.free(s_)?;
        let p = p?;
        if p == 0 {
            let rc = self.extended_errcode(dest)?;
            return Err(self.db_error(dest, rc));
        }
        Ok(Backup { ptr: p, dest })
    }

    /// `sqlite3_backup_step`: `true` when done.
    ///
    /// # Errors
    /// SQLite's error (`SQLITE_BUSY`/`SQLITE_LOCKED` are retryable).
    pub fn backup_step(&mut self, b: Backup, pages: i32) -> Result<bool> {
        match self.call(|e, s| e.sqlite3_backup_step.call(s, (b.ptr, pages)))? {
            ffi::SQLITE_OK => Ok(false),
            ffi::SQLITE_DONE => Ok(true),
            rc => Err(Error::from_code(rc)),
        }
    }

    /// (remaining, total) pages.
    pub fn backup_progress(&mut self, b: Backup) -> Result<(i32, i32)> {
        let remaining = self.call(|e, s| e.sqlite3_backup_remaining.call(s, b.ptr))?;
        let total = self.call(|e, s| e.sqlite3_backup_pagecount.call(s, b.ptr))?;
        Ok((remaining, total))
    }

    pub fn backup_finish(&mut self, b: Backup) -> Result<()> {
        let rc = self.call(|e, s| e.sqlite3_backup_finish.call(s, b.ptr))?;
        self.check(b.dest, rc)
    }
}
