//! Online backup to a file: a consistent copy while other connections keep writing.

use crate::connection::{Connection, Name};
use crate::error::{Error, Result};
use sandlite_sqlite_wasm::ffi;
use sandlite_vfs::Vfs;
use std::path::Path;
use std::time::Duration;

/// How far a backup has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Pages still to copy.
    pub remaining: i32,
    /// Pages in the source database.
    pub pagecount: i32,
}

/// Which way [`Connection::copy_pages`] copies.
#[derive(Clone, Copy)]
enum Direction {
    ToFile,
    FromFile,
}

/// Pages copied per step; between steps other connections may write (the copy then
/// restarts from the changed pages, as SQLite's backup API does).
const PAGES_PER_STEP: i32 = 64;

impl Connection {
    /// Copies database `name` of this connection into the file `dst` (created or
    /// replaced), page by page with SQLite's online backup. Other connections may keep
    /// writing: the result is a consistent snapshot. `dst`'s directory is made reachable
    /// to this connection's sandbox only for the duration of the call.
    ///
    /// # Errors
    /// SQLite's error, or a destination that cannot be opened.
    pub fn backup<P: AsRef<Path>>(
        &self,
        name: impl Name,
        dst: P,
        progress: Option<&mut dyn FnMut(Progress)>,
    ) -> Result<()> {
        self.copy_pages(
            &name.schema_name(),
            dst.as_ref(),
            Direction::ToFile,
            progress,
        )
    }

    /// Replaces database `name` of this connection with a copy of the database file
    /// `src` (rusqlite's `restore`), page by page with SQLite's online backup, like
    /// [`backup`](Self::backup) the other way round. `src` is opened read-only; its
    /// directory is reachable to this connection's sandbox only for the duration of the
    /// call.
    ///
    /// # Errors
    /// SQLite's error, or a source that cannot be opened.
    pub fn restore<P: AsRef<Path>>(
        &mut self,
        name: impl Name,
        src: P,
        progress: Option<&mut dyn FnMut(Progress)>,
    ) -> Result<()> {
        self.copy_pages(
            &name.schema_name(),
            src.as_ref(),
            Direction::FromFile,
            progress,
        )
    }

    fn copy_pages(
        &self,
        name: &str,
        dst: &Path,
        direction: Direction,
        mut progress: Option<&mut dyn FnMut(Progress)>,
    ) -> Result<()> {
        let bad = |why: &str| {
            Error::sqlite(
                sandlite_sqlite_wasm::ffi::SQLITE_CANTOPEN,
                format!("unable to open backup file {}: {why}", dst.display()),
            )
        };
        let file = dst
            .file_name()
            .and_then(|f| f.to_str())
            .ok_or_else(|| bad("no file name"))?;
        let dir = match dst.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => std::env::current_dir().map_err(|e| bad(&e.to_string()))?,
        };
        let vfs = Vfs::new(&dir).map_err(|e| {
            Error::sqlite(
                e.code(),
                format!("unable to open backup file: {}", e.message()),
            )
        })?;
        let root = vfs.root().ok_or_else(|| bad("not a directory"))?.to_owned();
        let target = format!("{root}/{file}");

        let mut inner = self.inner()?;
        let src = inner.db;
        inner.sqlite.grant_root(vfs);
        let result = (|| -> Result<()> {
            let flags = match direction {
                Direction::ToFile => ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                Direction::FromFile => ffi::SQLITE_OPEN_READONLY,
            };
            let file_db = inner.sqlite.open(&target, flags)?;
            let copied = (|| -> Result<()> {
                let b = match direction {
                    Direction::ToFile => inner.sqlite.backup_init(file_db, "main", src, name)?,
                    Direction::FromFile => inner.sqlite.backup_init(src, name, file_db, "main")?,
                };
                let stepped = loop {
                    match inner.sqlite.backup_step(b, PAGES_PER_STEP) {
                        Ok(true) => break Ok(()),
                        Ok(false) => {}
                        Err(e)
                            if matches!(
                                e.primary_code(),
                                Some(ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED)
                            ) =>
                        {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) => break Err(Error::from(e)),
                    }
                    if let Some(p) = progress.as_deref_mut() {
                        let (remaining, pagecount) = inner.sqlite.backup_progress(b)?;
                        p(Progress {
                            remaining,
                            pagecount,
                        });
                    }
                };
                let finished = inner.sqlite.backup_finish(b);
                stepped?;
                Ok(finished?)
            })();
            let closed = inner.sqlite.close(file_db);
            copied?;
            Ok(closed?)
        })();
        inner.sqlite.revoke_extra_roots();
        result
    }
}

/// What one [`Backup::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepResult {
    /// Every page is copied.
    Done,
    /// Pages remain.
    More,
    /// The source or destination was busy; try again later.
    Busy,
    /// The source or destination was locked; try again later.
    Locked,
}

/// A step-wise online backup from one connection's database to another's (rusqlite's
/// `backup::Backup`).
///
/// Two Sandlite connections are two SQLite instances, and SQLite's backup needs both
/// databases in one. So when one side is a database file, the backup runs inside the
/// other connection's instance, which opens that file (its directory granted for the
/// backup's life). Between two in-memory databases, [`Backup::new`] takes a copy of the
/// source (`sqlite3_serialize`) into the destination's instance and the steps copy from
/// it: the backup is of the source as it was when the backup began.
///
/// ```
/// # use sandlite_driver::Connection;
/// # use sandlite_driver::backup::{Backup, StepResult};
/// # let dir = tempfile::tempdir()?;
/// let memory = Connection::open_in_memory()?;
/// memory.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (42)")?;
/// let mut file = Connection::open(dir.path().join("copy.db"))?;
/// Backup::new(&memory, &mut file)?.run_to_completion(5, std::time::Duration::ZERO, None)?;
/// assert_eq!(file.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))?, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Backup<'a, 'b> {
    from: &'a Connection,
    /// Borrowed mutably by [`Backup::new`] for the backup's life.
    to: &'b Connection,
    /// The backup runs in `from`'s instance (else in `to`'s).
    in_from: bool,
    /// The other side's database file, opened in the host's instance.
    file_db: sandlite_sqlite_wasm::Db,
    handle: Option<sandlite_sqlite_wasm::Backup>,
}

impl std::fmt::Debug for Backup<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backup").finish_non_exhaustive()
    }
}

impl<'a, 'b> Backup<'a, 'b> {
    /// A backup of `from`'s main database into `to`'s.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn new(from: &'a Connection, to: &'b mut Connection) -> Result<Backup<'a, 'b>> {
        Backup::new_with_names(from, crate::MAIN_DB, to, crate::MAIN_DB)
    }

    /// A backup of database `from_name` of `from` into database `to_name` of `to`.
    ///
    /// # Errors
    /// As [`Backup::new`].
    pub fn new_with_names(
        from: &'a Connection,
        from_name: impl Name,
        to: &'b mut Connection,
        to_name: impl Name,
    ) -> Result<Backup<'a, 'b>> {
        let (from_name, to_name) = (from_name.schema_name(), to_name.schema_name());
        let to: &'b Connection = to;
        // Prefer running in the source's instance (it may be in memory); the other
        // side's file is then the destination.
        let started = if let Some(file) = database_file(to, &to_name)? {
            (
                true,
                from.open_backup(&from_name, &file, Direction::ToFile)?,
            )
        } else if let Some(file) = database_file(from, &from_name)? {
            (false, to.open_backup(&to_name, &file, Direction::FromFile)?)
        } else {
            // Both in memory: the source's image (`sqlite3_serialize`, taken now) goes
            // into a fresh in-memory database of the destination's instance, and the
            // backup runs there, step by step, from that copy.
            let image = from.serialize(&from_name)?;
            (false, to.open_image_backup(&to_name, &image)?)
        };
        let (in_from, (file_db, handle)) = started;
        Ok(Backup {
            from,
            to,
            in_from,
            file_db,
            handle: Some(handle),
        })
    }

    fn host(&self) -> &Connection {
        if self.in_from { self.from } else { self.to }
    }

    /// How far the backup has come (after the last step).
    pub fn progress(&self) -> Progress {
        let (remaining, pagecount) = match (self.host().inner(), self.handle) {
            (Ok(mut inner), Some(b)) => inner.sqlite.backup_progress(b).unwrap_or((0, 0)),
            _ => (0, 0),
        };
        Progress {
            remaining,
            pagecount,
        }
    }

    /// Copies up to `num_pages` pages (all of them if negative).
    ///
    /// # Errors
    /// SQLite's error other than busy or locked (those are [`StepResult`]s).
    pub fn step(&self, num_pages: i32) -> Result<StepResult> {
        let Some(b) = self.handle else {
            return Ok(StepResult::Done);
        };
        let mut inner = self.host().inner()?;
        match inner.sqlite.backup_step(b, num_pages) {
            Ok(true) => Ok(StepResult::Done),
            Ok(false) => Ok(StepResult::More),
            Err(e) if e.primary_code() == Some(ffi::SQLITE_BUSY) => Ok(StepResult::Busy),
            Err(e) if e.primary_code() == Some(ffi::SQLITE_LOCKED) => Ok(StepResult::Locked),
            Err(e) => Err(e.into()),
        }
    }

    /// Steps `pages_per_step` pages at a time until done, sleeping
    /// `pause_between_pages` between steps (and when busy), calling `progress` after
    /// each step.
    ///
    /// # Errors
    /// As [`step`](Self::step).
    pub fn run_to_completion(
        &self,
        pages_per_step: i32,
        pause_between_pages: Duration,
        progress: Option<fn(Progress)>,
    ) -> Result<()> {
        loop {
            let r = self.step(pages_per_step)?;
            if let Some(p) = progress {
                p(self.progress());
            }
            match r {
                StepResult::Done => return Ok(()),
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(pause_between_pages.max(Duration::from_millis(1)));
                    continue;
                }
            }
            if !pause_between_pages.is_zero() {
                std::thread::sleep(pause_between_pages);
            }
        }
    }
}

impl Drop for Backup<'_, '_> {
    fn drop(&mut self) {
        let handle = self.handle.take();
        let host = if self.in_from { self.from } else { self.to };
        if let Ok(mut inner) = host.inner() {
            if let Some(b) = handle {
                let _ = inner.sqlite.backup_finish(b);
            }
            let _ = inner.sqlite.close(self.file_db);
            inner.sqlite.revoke_extra_roots();
        }
    }
}

/// The host file of database `name` of `conn`, or `None` in memory (a memdb
/// namespace's names are not host paths and must never be granted as directories).
fn database_file(conn: &Connection, name: &str) -> Result<Option<String>> {
    let mut inner = conn.inner()?;
    if inner.sqlite.vfs().root().is_none() {
        return Ok(None);
    }
    let db = inner.db;
    Ok(inner
        .sqlite
        .db_filename(db, name)?
        .filter(|f| f.starts_with('/')))
}

impl Connection {
    /// The image of database `name` as its file's bytes (`sqlite3_serialize`).
    fn serialize(&self, name: &str) -> Result<Vec<u8>> {
        let mut inner = self.inner()?;
        let db = inner.db;
        match inner.sqlite.serialize(db, name)? {
            Some(image) => Ok(image),
            // An empty database (no page yet) has an empty image.
            None if inner.sqlite.db_filename(db, name)?.is_some() => Ok(Vec::new()),
            None => Err(Error::sqlite(
                ffi::SQLITE_ERROR,
                format!("unknown database {name}"),
            )),
        }
    }

    /// Opens a fresh in-memory database holding `image` in this connection's instance
    /// and starts a backup from it into database `name`.
    fn open_image_backup(
        &self,
        name: &str,
        image: &[u8],
    ) -> Result<(sandlite_sqlite_wasm::Db, sandlite_sqlite_wasm::Backup)> {
        let mut inner = self.inner()?;
        let own = inner.db;
        let copy = inner.sqlite.open(
            ":memory:",
            ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
        )?;
        let started = inner
            .sqlite
            .deserialize(copy, "main", image)
            .and_then(|()| inner.sqlite.backup_init(own, name, copy, "main"));
        match started {
            Ok(b) => Ok((copy, b)),
            Err(e) => {
                let _ = inner.sqlite.close(copy);
                Err(e.into())
            }
        }
    }

    /// Opens `file` in this connection's instance and starts a backup between it and
    /// database `name` (the grant of `file`'s directory lasts until the backup ends).
    fn open_backup(
        &self,
        name: &str,
        file: &str,
        direction: Direction,
    ) -> Result<(sandlite_sqlite_wasm::Db, sandlite_sqlite_wasm::Backup)> {
        let path = Path::new(file);
        let dir = path.parent().unwrap_or(Path::new("/"));
        let vfs = Vfs::new(dir).map_err(|e| {
            Error::sqlite(
                e.code(),
                format!("unable to open backup file: {}", e.message()),
            )
        })?;
        let mut inner = self.inner()?;
        let own = inner.db;
        inner.sqlite.grant_root(vfs);
        let flags = match direction {
            Direction::ToFile => ffi::SQLITE_OPEN_READWRITE,
            Direction::FromFile => ffi::SQLITE_OPEN_READONLY,
        };
        let file_db = match inner.sqlite.open(file, flags) {
            Ok(db) => db,
            Err(e) => {
                inner.sqlite.revoke_extra_roots();
                return Err(e.into());
            }
        };
        let started = match direction {
            Direction::ToFile => inner.sqlite.backup_init(file_db, "main", own, name),
            Direction::FromFile => inner.sqlite.backup_init(own, name, file_db, "main"),
        };
        match started {
            Ok(b) => Ok((file_db, b)),
            Err(e) => {
                let _ = inner.sqlite.close(file_db);
                inner.sqlite.revoke_extra_roots();
                Err(e.into())
            }
        }
    }
}
