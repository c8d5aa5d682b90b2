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
