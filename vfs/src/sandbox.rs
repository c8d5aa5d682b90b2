//! The sandbox: a root directory and the mapping of SQLite's path names into it.
//!
//! Every file operation goes through the root's directory descriptor with Linux
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`, so the kernel itself refuses any
//! resolution that leaves the root, at the moment of the call. A symlink swapped into a
//! path component between a check and the use cannot win a race, because there is no
//! separate check: the lexical mapping below only turns names into root-relative paths
//! and gives clear messages; the kernel enforces.
//!
//! Path format: names are host paths. A relative name is relative to the root (not the
//! process's working directory); an absolute name is accepted only if it lies inside the
//! root (given either as the canonical root or as the path the root was opened with).
//! [`Sandbox::full_path`] returns the canonical absolute host path, with symbolic links
//! inside the root resolved, so that `-journal`, `-wal` and `-shm` land beside the real
//! database file and super-journal names stored in journals mean the same file to every
//! process, including a native `sqlite3`.
#![forbid(unsafe_code)]

use std::ffi::CString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::codes::{SQLITE_CANTOPEN, SQLITE_CANTOPEN_FULLPATH};
use crate::error::VfsError;
use crate::sys;

/// The longest full pathname produced (SQLite's `mxPathname` for this VFS).
pub const MAX_PATHNAME: usize = 4096;

const RESOLVE: u64 = sys::RESOLVE_BENEATH | sys::RESOLVE_NO_MAGICLINKS;

/// A root directory that every path of one [`Vfs`](crate::Vfs) must stay inside.
pub(crate) struct Sandbox {
    /// `O_PATH` descriptor of the root: the authority for every lookup.
    root: OwnedFd,
    /// Canonical absolute path of the root, used only to name files.
    root_path: String,
    /// The root as the caller named it, made absolute, when it differs from `root_path`
    /// (for instance through a symlink); absolute names under it are accepted too.
    alias: Option<String>,
    /// Open files that have more than one name (see [`SandboxOptions`]).
    allow_hard_links: bool,
}

/// How a disk [`Vfs`](crate::Vfs) guards its root, beyond what `openat2` enforces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxOptions {
    /// Open database, journal, WAL and `-shm` files whose link count is above 1
    /// (default `false`). A hard link inside the root may name a file that also lives
    /// outside it, and no path resolution (not even `RESOLVE_BENEATH`) can tell: the
    /// file *is* inside. Refusing every file with more than one name closes that hole;
    /// allow it only when nobody untrusted can create links in the root.
    pub allow_hard_links: bool,
}

impl SandboxOptions {
    /// The defaults: hard links refused.
    pub fn new() -> SandboxOptions {
        SandboxOptions::default()
    }

    /// See [`SandboxOptions::allow_hard_links`].
    pub fn allow_hard_links(mut self, allow: bool) -> SandboxOptions {
        self.allow_hard_links = allow;
        self
    }
}

/// The `SQLITE_CANTOPEN` error for a file with `links` names, unless allowed.
pub(crate) fn check_links(sandbox: &Sandbox, name: &str, links: u64) -> Result<(), VfsError> {
    if links <= 1 || sandbox.allow_hard_links {
        return Ok(());
    }
    Err(VfsError::new(
        SQLITE_CANTOPEN,
        format!(
            "refusing to open {name}: it has {links} hard links, so it may be a file \
             outside the sandbox root (allow_hard_links permits it)"
        ),
    ))
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("root", &self.root_path)
            .field("fd", &self.root.as_raw_fd())
            .finish()
    }
}

/// A path relative to the sandbox root: non-empty, `/`-separated, without `.`, `..` or
/// empty components, without NUL bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelPath(String);

impl RelPath {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The same path with `suffix` (such as `-shm`) appended to the last component.
    pub(crate) fn with_suffix(&self, suffix: &str) -> RelPath {
        debug_assert!(!suffix.contains('/') && !suffix.contains('\0'));
        RelPath(format!("{}{suffix}", self.0))
    }

    /// `name` (one component) inside this directory.
    fn join(&self, name: &str) -> RelPath {
        RelPath(format!("{}/{name}", self.0))
    }

    /// The path with its last component cut before its last `-` (`db` for `db-wal`), or
    /// `None` if that leaves nothing.
    pub(crate) fn before_last_dash(&self) -> Option<RelPath> {
        let (dir, name) = self.split();
        let (stem, _) = name.rsplit_once('-')?;
        if stem.is_empty() {
            return None;
        }
        Some(RelPath(match dir {
            Some(dir) => format!("{dir}/{stem}"),
            None => stem.to_owned(),
        }))
    }

    /// The directory part (if any) and the last component.
    pub(crate) fn split(&self) -> (Option<&str>, &str) {
        match self.0.rsplit_once('/') {
            Some((dir, name)) => (Some(dir), name),
            None => (None, &self.0),
        }
    }

    fn c_string(s: &str) -> CString {
        // Construction rejects NUL bytes, so this cannot fail.
        CString::new(s).unwrap_or_default()
    }
}

/// Split `path` into components, resolving `.` and `..` lexically. Returns `None` when a
/// `..` would climb above the start.
pub(crate) fn normalize(path: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts)
}

/// Lexically normalise an absolute path: `..` at the top stays at `/`, as the kernel does.
fn normalize_absolute(path: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    parts
}

fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|p| !p.is_empty()).collect()
}

/// Is this error the kernel refusing a resolution that leaves the root?
pub(crate) fn is_escape(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EXDEV | libc::ELOOP))
}

/// The `SQLITE_CANTOPEN` error for a resolution the kernel refused.
pub(crate) fn escape_error(path: &str, err: &io::Error) -> VfsError {
    let message = if err.raw_os_error() == Some(libc::EXDEV) {
        format!("path escapes the sandbox root through a symbolic link: {path}")
    } else {
        format!("path has too many symbolic links or crosses a /proc magic link: {path}")
    };
    VfsError::new(SQLITE_CANTOPEN, message)
}

impl Sandbox {
    /// Open `root` (which must be an existing directory) as a sandbox.
    pub(crate) fn open(root: &Path, options: &SandboxOptions) -> Result<Sandbox, VfsError> {
        let shown = root.display();
        let dir = File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(root)
            .map_err(|e| {
                VfsError::os(
                    SQLITE_CANTOPEN,
                    format!("cannot open sandbox root {shown}"),
                    &e,
                )
            })?;
        let root_fd = OwnedFd::from(dir);
        let canonical = std::fs::read_link(format!("/proc/self/fd/{}", root_fd.as_raw_fd()))
            .or_else(|_| std::fs::canonicalize(root))
            .map_err(|e| {
                VfsError::os(
                    SQLITE_CANTOPEN,
                    format!("cannot resolve sandbox root {shown}"),
                    &e,
                )
            })?;
        let root_path = canonical
            .to_str()
            .ok_or_else(|| {
                VfsError::new(
                    SQLITE_CANTOPEN,
                    format!("sandbox root is not UTF-8: {shown}"),
                )
            })?
            .to_owned();
        let alias = std::path::absolute(root)
            .ok()
            .and_then(|p| {
                p.to_str()
                    .map(|s| format!("/{}", normalize_absolute(s).join("/")))
            })
            .filter(|a| *a != root_path);
        Ok(Sandbox {
            root: root_fd,
            root_path,
            alias,
            allow_hard_links: options.allow_hard_links,
        })
    }

    /// The canonical absolute path of the root.
    pub(crate) fn root_path(&self) -> &str {
        &self.root_path
    }

    /// Map a name SQLite gave into a path relative to the root, or refuse it with
    /// `SQLITE_CANTOPEN` and the reason.
    pub(crate) fn resolve(&self, path: &str) -> Result<RelPath, VfsError> {
        let cantopen = |why: &str| VfsError::new(SQLITE_CANTOPEN, format!("{why}: {path:?}"));
        if path.is_empty() {
            return Err(cantopen("empty path"));
        }
        if path.contains('\0') {
            return Err(cantopen("path contains a NUL byte"));
        }
        let rest: Vec<&str> = if path.starts_with('/') {
            let parts = normalize_absolute(path);
            let under = |root: &str| {
                let root = components(root);
                parts
                    .starts_with(&root)
                    .then(|| parts[root.len()..].to_vec())
            };
            match under(&self.root_path).or_else(|| self.alias.as_deref().and_then(under)) {
                Some(rest) => rest,
                None => {
                    return Err(VfsError::new(
                        SQLITE_CANTOPEN,
                        format!(
                            "absolute path outside the sandbox root {}: {path}",
                            self.root_path
                        ),
                    ));
                }
            }
        } else {
            normalize(path).ok_or_else(|| {
                VfsError::new(
                    SQLITE_CANTOPEN,
                    format!("path escapes the sandbox root: {path}"),
                )
            })?
        };
        if rest.is_empty() {
            return Err(cantopen("path names the sandbox root directory itself"));
        }
        Ok(RelPath(rest.join("/")))
    }

    /// The absolute host path of `rel` (lexical: symlinks are not resolved).
    pub(crate) fn host_path(&self, rel: &RelPath) -> String {
        if self.root_path == "/" {
            format!("/{}", rel.0)
        } else {
            format!("{}/{}", self.root_path, rel.0)
        }
    }

    /// The full pathname of `rel`: its canonical host path with symlinks inside the root
    /// resolved, and whether resolving changed it (a symlink was followed).
    pub(crate) fn full_path(&self, rel: &RelPath) -> Result<(String, bool), VfsError> {
        let lexical = self.host_path(rel);
        let real = match self.real_path(rel.as_str()) {
            Ok(real) => real,
            Err(e) if is_escape(&e) => return Err(escape_error(&lexical, &e)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                // The file does not exist (yet): resolve its directory instead.
                match rel.split() {
                    (Some(dir), name) => match self.real_path(dir) {
                        Ok(real_dir) => real_dir.map(|d| d.join(name)),
                        Err(e) if is_escape(&e) => return Err(escape_error(&lexical, &e)),
                        Err(_) => None,
                    },
                    (None, _) => None,
                }
            }
            Err(_) => None,
        };
        let full = real.map_or(lexical.clone(), |r| self.host_path(&r));
        if full.len() >= MAX_PATHNAME {
            return Err(VfsError::new(
                SQLITE_CANTOPEN_FULLPATH,
                format!("full pathname longer than {MAX_PATHNAME} bytes: {full}"),
            ));
        }
        let followed = full != lexical;
        Ok((full, followed))
    }

    /// Where `rel` really is, relative to the root, as the kernel resolves it. `Ok(None)`
    /// when that cannot be told (no `/proc`, the root was moved, a non-UTF-8 name).
    fn real_path(&self, rel: &str) -> io::Result<Option<RelPath>> {
        let fd = self.open_raw(rel, libc::O_PATH, 0)?;
        let Ok(link) = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())) else {
            return Ok(None);
        };
        let Some(link) = link.to_str() else {
            return Ok(None);
        };
        let link = components(link);
        let root = components(&self.root_path);
        Ok(link
            .strip_prefix(root.as_slice())
            .filter(|rest| !rest.is_empty())
            .map(|rest| RelPath(rest.join("/"))))
    }

    fn open_raw(&self, rel: &str, flags: i32, mode: u32) -> io::Result<OwnedFd> {
        sys::openat2(
            self.root.as_fd(),
            &RelPath::c_string(rel),
            flags,
            mode,
            RESOLVE,
        )
    }

    /// Open `rel` with `O_*` flags, creating it with `mode` if `O_CREAT` is given.
    pub(crate) fn open_file(&self, rel: &RelPath, flags: i32, mode: u32) -> io::Result<OwnedFd> {
        self.open_raw(rel.as_str(), flags, mode)
    }

    /// `fstat` of what `rel` names (following symlinks inside the root).
    pub(crate) fn stat(&self, rel: &RelPath) -> io::Result<Metadata> {
        File::from(self.open_raw(rel.as_str(), libc::O_PATH, 0)?).metadata()
    }

    /// An `O_PATH` descriptor for what `rel` names.
    pub(crate) fn open_path(&self, rel: &RelPath) -> io::Result<OwnedFd> {
        self.open_raw(rel.as_str(), libc::O_PATH, 0)
    }

    /// The directory holding `rel`, opened for `fsync` (or, if it is not readable, as
    /// `O_PATH`, which still serves `unlinkat`), and the name of `rel` inside it.
    pub(crate) fn parent_dir(&self, rel: &RelPath) -> io::Result<(OwnedFd, CString)> {
        let (dir, name) = rel.split();
        let dir = dir.unwrap_or(".");
        let fd = match self.open_raw(dir, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                self.open_raw(dir, libc::O_PATH | libc::O_DIRECTORY, 0)?
            }
            other => other?,
        };
        Ok((fd, RelPath::c_string(name)))
    }

    /// Remove the directory entry `rel` (a final symlink is removed, not followed).
    pub(crate) fn unlink(&self, rel: &RelPath) -> io::Result<OwnedFd> {
        let (dir, name) = self.parent_dir(rel)?;
        sys::unlinkat(dir.as_fd(), &name, false)?;
        Ok(dir)
    }

    /// An anonymous read-write file inside the root that disappears when closed:
    /// `O_TMPFILE` where the file system supports it, else a random name unlinked at once.
    pub(crate) fn open_anonymous(&self) -> io::Result<OwnedFd> {
        match self.open_raw(".", libc::O_TMPFILE | libc::O_RDWR, 0o600) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)
                ) => {}
            other => return other,
        }
        let mut last_err = io::Error::from_raw_os_error(libc::EEXIST);
        for _ in 0..100 {
            let mut random = [0u8; 8];
            sys::getrandom(&mut random)?;
            let name = format!(".sandlite-tmp-{:016x}", u64::from_le_bytes(random));
            let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
            match self.open_raw(&name, flags, 0o600) {
                Ok(fd) => {
                    sys::unlinkat(self.root.as_fd(), &RelPath::c_string(&name), false)?;
                    return Ok(fd);
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last_err = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_detects_escape() {
        assert_eq!(normalize("a/./b/../c"), Some(vec!["a", "c"]));
        assert_eq!(normalize("a//b/"), Some(vec!["a", "b"]));
        assert_eq!(normalize("../x"), None);
        assert_eq!(normalize("a/../../x"), None);
        assert_eq!(normalize_absolute("/../a/../../b"), vec!["b"]);
    }

    #[test]
    fn relpath_split_and_suffix() {
        let p = RelPath("sub/demo.db".into());
        assert_eq!(p.split(), (Some("sub"), "demo.db"));
        assert_eq!(p.with_suffix("-wal").as_str(), "sub/demo.db-wal");
        assert_eq!(RelPath("x".into()).split(), (None, "x"));
        let journal = RelPath("a-b/demo.db-journal".into());
        assert_eq!(journal.before_last_dash().unwrap().as_str(), "a-b/demo.db");
        assert_eq!(RelPath("a-b/-wal".into()).before_last_dash(), None);
    }
}
