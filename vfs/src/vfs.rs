//! [`Vfs`]: the methods of `sqlite3_vfs` (<https://www.sqlite.org/c3ref/vfs.html>) for
//! one sandbox root or one memdb namespace.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::codes::{
    SQLITE_IOERR_ACCESS, SQLITE_IOERR_DELETE, SQLITE_IOERR_DELETE_NOENT, SQLITE_IOERR_DIR_FSYNC,
};
use crate::disk::DiskFile;
use crate::error::VfsError;
use crate::file::{VfsFile, validate_open_flags};
use crate::flags::{AccessCheck, OpenFlags};
use crate::memdb::{self, Namespace};
use crate::os;
use crate::sandbox::{Sandbox, SandboxOptions, escape_error, is_escape};
use crate::sys;

/// A VFS instance: either a sandbox rooted at a directory, or a named in-memory
/// namespace. Cheap to clone; clones share the root (or namespace).
#[derive(Debug, Clone)]
pub struct Vfs {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Disk(Arc<Sandbox>),
    Memory(Arc<Namespace>),
}

/// The result of [`Vfs::full_pathname`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullPathname {
    /// The canonical name to open the file by (and to append `-journal`, `-wal`, `-shm`
    /// to).
    pub path: String,
    /// A symbolic link was followed to get there (SQLite's `SQLITE_OK_SYMLINK`, which
    /// makes `SQLITE_OPEN_NOFOLLOW` opens fail).
    pub followed_symlink: bool,
}

fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOENT | libc::ENOTDIR | libc::EACCES)
    )
}

impl Vfs {
    /// A VFS whose files all live inside the directory `root`.
    ///
    /// # Errors
    ///
    /// `SQLITE_CANTOPEN` if `root` is not an accessible directory or its path is not
    /// UTF-8.
    pub fn new(root: impl AsRef<Path>) -> Result<Vfs, VfsError> {
        Vfs::with_options(root, &SandboxOptions::default())
    }

    /// [`Vfs::new`] with [`SandboxOptions`] (whether files with several hard links may
    /// be opened).
    ///
    /// # Errors
    ///
    /// As [`Vfs::new`].
    pub fn with_options(root: impl AsRef<Path>, options: &SandboxOptions) -> Result<Vfs, VfsError> {
        Ok(Vfs {
            backend: Backend::Disk(Arc::new(Sandbox::open(root.as_ref(), options)?)),
        })
    }

    /// A VFS over the process-wide in-memory namespace `name`: every `Vfs::memory` with
    /// the same name sees the same files. The namespace lives while any `Vfs` or open
    /// file of it exists; after that, the name starts over empty.
    pub fn memory(name: &str) -> Vfs {
        Vfs {
            backend: Backend::Memory(memdb::namespace(name)),
        }
    }

    /// The canonical path of the sandbox root, or `None` for a memdb VFS.
    pub fn root(&self) -> Option<&str> {
        match &self.backend {
            Backend::Disk(sandbox) => Some(sandbox.root_path()),
            Backend::Memory(_) => None,
        }
    }

    /// The namespace name of a memdb VFS, or `None` for a disk VFS.
    pub fn memory_name(&self) -> Option<&str> {
        match &self.backend {
            Backend::Disk(_) => None,
            Backend::Memory(ns) => Some(ns.name()),
        }
    }

    /// Open a file ([`xOpen`](https://www.sqlite.org/c3ref/vfs.html)).
    ///
    /// `path` is a name from [`full_pathname`](Self::full_pathname) (or any name inside
    /// the root); `None` opens an anonymous temporary file, deleted on close (on disk: an
    /// `O_TMPFILE` inside the root). `flags` are `SQLITE_OPEN_*` bits. If a `READWRITE`
    /// open fails because the file is read-only, the file is opened read-only and
    /// [`VfsFile::open_flags`] says `READONLY`.
    ///
    /// # Errors
    ///
    /// `SQLITE_CANTOPEN` with the reason if the path leaves the sandbox, does not exist
    /// (without `CREATE`), exists (with `EXCLUSIVE`), has more than one hard link
    /// (unless [`SandboxOptions::allow_hard_links`]), or cannot be opened;
    /// `SQLITE_CANTOPEN_ISDIR` for a directory; `SQLITE_READONLY_DIRECTORY` when a new
    /// journal cannot be created in a read-only directory.
    pub fn open(&self, path: Option<&str>, flags: OpenFlags) -> Result<VfsFile, VfsError> {
        validate_open_flags(flags, path.is_some())?;
        match &self.backend {
            Backend::Disk(sandbox) => {
                let (file, out_flags) = DiskFile::open(sandbox, path, flags)?;
                Ok(VfsFile::disk(file, out_flags))
            }
            Backend::Memory(ns) => Ok(VfsFile::memory(ns.open(path, flags)?, flags)),
        }
    }

    /// Delete a file; with `sync_dir`, also sync its directory so the removal is durable
    /// ([`xDelete`](https://www.sqlite.org/c3ref/vfs.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_CANTOPEN` if the path leaves the sandbox; `SQLITE_IOERR_DELETE_NOENT` if
    /// the file does not exist; `SQLITE_IOERR_DELETE` or `SQLITE_IOERR_DIR_FSYNC` if the
    /// system call fails.
    pub fn delete(&self, path: &str, sync_dir: bool) -> Result<(), VfsError> {
        let sandbox = match &self.backend {
            Backend::Disk(sandbox) => sandbox,
            Backend::Memory(ns) => return ns.delete(path),
        };
        let rel = sandbox.resolve(path)?;
        let name = sandbox.host_path(&rel);
        let dir = sandbox.unlink(&rel).map_err(|e| {
            if is_escape(&e) {
                escape_error(&name, &e)
            } else if e.raw_os_error() == Some(libc::ENOENT) {
                VfsError::os(
                    SQLITE_IOERR_DELETE_NOENT,
                    format!("cannot delete {name}"),
                    &e,
                )
            } else {
                VfsError::os(SQLITE_IOERR_DELETE, format!("cannot delete {name}"), &e)
            }
        })?;
        if sync_dir {
            match File::from(dir).sync_all() {
                // An O_PATH directory (not readable) cannot be synced; like the unix VFS
                // when it cannot open the directory, carry on.
                Err(e) if e.raw_os_error() == Some(libc::EBADF) => {}
                Err(e) => {
                    return Err(VfsError::os(
                        SQLITE_IOERR_DIR_FSYNC,
                        format!("cannot sync the directory of {name}"),
                        &e,
                    ));
                }
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// Check a file ([`xAccess`](https://www.sqlite.org/c3ref/vfs.html)).
    /// [`AccessCheck::Exists`] is true for an existing non-empty regular file (an empty
    /// one counts as absent, as in the unix VFS) or any other existing entry.
    ///
    /// # Errors
    ///
    /// `SQLITE_CANTOPEN` if the path leaves the sandbox; `SQLITE_IOERR_ACCESS` if the
    /// check itself fails.
    pub fn access(&self, path: &str, check: AccessCheck) -> Result<bool, VfsError> {
        let sandbox = match &self.backend {
            Backend::Disk(sandbox) => sandbox,
            Backend::Memory(ns) => return ns.access(path, check),
        };
        let rel = sandbox.resolve(path)?;
        let name = sandbox.host_path(&rel);
        let failed = |e: io::Error| {
            if is_escape(&e) {
                escape_error(&name, &e)
            } else {
                VfsError::os(SQLITE_IOERR_ACCESS, format!("cannot check {name}"), &e)
            }
        };
        if check == AccessCheck::Exists {
            return match sandbox.stat(&rel) {
                Ok(meta) => Ok(!meta.is_file() || meta.len() > 0),
                Err(e) if is_missing(&e) => Ok(false),
                Err(e) => Err(failed(e)),
            };
        }
        let fd = match sandbox.open_path(&rel) {
            Ok(fd) => fd,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(failed(e)),
        };
        let mode = if check == AccessCheck::ReadWrite {
            libc::R_OK | libc::W_OK
        } else {
            libc::R_OK
        };
        sys::access_fd(std::os::fd::AsFd::as_fd(&fd), mode).map_err(failed)
    }

    /// The canonical name of a file
    /// ([`xFullPathname`](https://www.sqlite.org/c3ref/vfs.html)).
    ///
    /// Disk: the absolute host path inside the root, with `.`/`..` and symbolic links
    /// inside the root resolved; relative names are taken relative to the root. memdb:
    /// `/` followed by the normalised name.
    ///
    /// # Errors
    ///
    /// `SQLITE_CANTOPEN` if the path leaves the sandbox (by `..`, as an absolute path
    /// outside the root, or through a symbolic link); `SQLITE_CANTOPEN_FULLPATH` if the
    /// result exceeds [`MAX_PATHNAME`](crate::MAX_PATHNAME).
    pub fn full_pathname(&self, path: &str) -> Result<FullPathname, VfsError> {
        match &self.backend {
            Backend::Disk(sandbox) => {
                let rel = sandbox.resolve(path)?;
                let (path, followed_symlink) = sandbox.full_path(&rel)?;
                Ok(FullPathname {
                    path,
                    followed_symlink,
                })
            }
            Backend::Memory(ns) => Ok(FullPathname {
                path: ns.full_pathname(path)?,
                followed_symlink: false,
            }),
        }
    }

    /// Fill `buf` with random bytes from the operating system
    /// ([`xRandomness`](https://www.sqlite.org/c3ref/vfs.html)).
    ///
    /// # Errors
    ///
    /// `SQLITE_ERROR` if the kernel's generator fails.
    pub fn randomness(&self, buf: &mut [u8]) -> Result<(), VfsError> {
        os::randomness(buf)
    }

    /// Sleep at least `duration`; returns the time actually slept
    /// ([`xSleep`](https://www.sqlite.org/c3ref/vfs.html), which counts microseconds).
    pub fn sleep(&self, duration: Duration) -> Duration {
        os::sleep(duration)
    }

    /// Milliseconds since the Julian-day epoch
    /// ([`xCurrentTimeInt64`](https://www.sqlite.org/c3ref/vfs.html)).
    pub fn current_time_ms(&self) -> i64 {
        os::current_time_ms()
    }
}
