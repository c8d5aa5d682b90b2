//! Guest paths and their resolution inside a directory descriptor.
//!
//! A guest path is always relative to a directory descriptor it holds (a preopen or a
//! directory opened below one). Every lookup goes through Linux `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so the kernel itself refuses, at the moment
//! of the call, any resolution that leaves that directory: `..` above it, absolute
//! paths, absolute symbolic links and relative ones that climb out. There is no separate
//! check that a concurrent rename or symlink swap could race.
//!
//! Operations on a directory entry itself (mkdir, unlink, rename, link, symlink,
//! readlink) open the entry's parent the same way and then act on the last component
//! with an `*at` call that never follows a final symbolic link. A last component of `.`
//! or `..` never reaches such a call (see [`Split::dots`]).

use super::abi::Errno;
use super::sys;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

const RESOLVE: u64 = sys::RESOLVE_BENEATH | sys::RESOLVE_NO_MAGICLINKS;

/// The error for a path that would leave its directory. `perm`, as wasmtime reports it
/// since WASI dropped `notcapable`.
pub(crate) const ESCAPE: Errno = Errno::Perm;

/// Checks the parts of a guest path every operation refuses: empty (`noent`), absolute
/// (an escape), containing NUL (`inval`: no host path can hold one).
pub(crate) fn check(path: &[u8]) -> Result<(), Errno> {
    match path.first() {
        None => Err(Errno::Noent),
        Some(b'/') => Err(ESCAPE),
        Some(_) if path.contains(&0) => Err(Errno::Inval),
        Some(_) => Ok(()),
    }
}

fn c_string(bytes: &[u8]) -> Result<CString, Errno> {
    CString::new(bytes).map_err(|_| Errno::Inval)
}

/// The kernel's answer to an `openat2` as a WASI error: `EXDEV` is `RESOLVE_BENEATH`
/// refusing an escape.
fn open_error(err: std::io::Error) -> Errno {
    match err.raw_os_error() {
        Some(libc::EXDEV) => ESCAPE,
        _ => Errno::from_io(&err),
    }
}

/// Opens `path` below `dir` with `O_*` `flags` (and `mode` when creating).
pub(crate) fn open_beneath(
    dir: BorrowedFd<'_>,
    path: &[u8],
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    check(path)?;
    let c = c_string(path)?;
    sys::openat2(dir, &c, flags, mode, RESOLVE).map_err(open_error)
}

/// An `O_PATH` descriptor for `path` below `dir`, following a final symbolic link only if
/// `follow` (a symlink that is not followed is opened itself).
pub(crate) fn lookup(dir: BorrowedFd<'_>, path: &[u8], follow: bool) -> Result<OwnedFd, Errno> {
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    open_beneath(dir, path, libc::O_PATH | nofollow, 0)
}

/// A guest path cut before its last component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split<'p> {
    /// Everything before the last component, with its trailing `/` (empty: the starting
    /// directory itself).
    pub dir: &'p [u8],
    /// The last component: non-empty, without `/`.
    pub name: &'p [u8],
    /// The path ended in `/` (it must then name a directory).
    pub trailing_slash: bool,
}

impl<'p> Split<'p> {
    /// Splits a guest path (checked as by [`check`]).
    pub(crate) fn new(path: &'p [u8]) -> Result<Split<'p>, Errno> {
        check(path)?;
        let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        // `check` refused a leading `/`, so at least one byte is not a slash.
        let trimmed = &path[..end];
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&trimmed[..0], trimmed),
        };
        Ok(Split {
            dir,
            name,
            trailing_slash: end < path.len(),
        })
    }

    /// Is the last component `.` or `..`? Such a path names a directory that is not an
    /// entry the operation may create, remove or rename through its parent.
    pub(crate) fn dots(&self) -> bool {
        self.name == b"." || self.name == b".."
    }

    pub(crate) fn name_c(&self) -> Result<CString, Errno> {
        c_string(self.name)
    }
}

/// A directory to act in: the starting descriptor itself or a parent opened below it.
pub(crate) enum Parent<'a> {
    Same(BorrowedFd<'a>),
    Opened(OwnedFd),
}

impl Parent<'_> {
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Parent::Same(fd) => *fd,
            Parent::Opened(fd) => fd.as_fd(),
        }
    }
}

/// Opens the directory that holds the last component of `split`, below `dir`.
pub(crate) fn parent<'a>(dir: BorrowedFd<'a>, split: &Split<'_>) -> Result<Parent<'a>, Errno> {
    if split.dir.is_empty() {
        return Ok(Parent::Same(dir));
    }
    let fd = open_beneath(dir, split.dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    Ok(Parent::Opened(fd))
}

/// Linux's `PATH_MAX`: no path (with its NUL) or symlink target is longer.
pub(crate) const PATH_MAX: usize = 4096;

/// Deepest directory nesting [`depth_below`] walks before giving up.
const MAX_DEPTH: usize = PATH_MAX / 2;

/// How many directories `dir` lies below the directory with device and inode `root`
/// (0 for `root` itself), found by walking `..` up from `dir` until `root` is reached:
/// what the kernel will resolve, whatever symbolic links led to `dir`. `ESCAPE` if
/// `root` is never reached (`dir` was moved out from under it meanwhile).
pub(crate) fn depth_below(dir: BorrowedFd<'_>, root: (u64, u64)) -> Result<usize, Errno> {
    let id = |st: &libc::stat| (st.st_dev, st.st_ino);
    let mut current = sys::fstat(dir)?;
    let mut up: Option<OwnedFd> = None;
    for depth in 0..MAX_DEPTH {
        if id(&current) == root {
            return Ok(depth);
        }
        let from = up.as_ref().map_or(dir, AsFd::as_fd);
        // Deliberately not confined: the walk goes up towards `root`, and stops there.
        let parent = sys::openat2(from, c"..", libc::O_PATH | libc::O_DIRECTORY, 0, 0)
            .map_err(|e| Errno::from_io(&e))?;
        let st = sys::fstat(parent.as_fd())?;
        if id(&st) == id(&current) {
            // `/`: its parent is itself, and `root` was not on the way.
            return Err(ESCAPE);
        }
        current = st;
        up = Some(parent);
    }
    Err(ESCAPE)
}

/// Refuses (with `ESCAPE`) a relative symbolic-link target that could resolve outside
/// the preopen from a link `depth` directories below it. Checked lexically, at creation:
/// leading `..` components may climb at most `depth` levels; a `..` after a name
/// (`a/../b`) is refused too, since `a` may itself be a symbolic link and `..` would then
/// climb from wherever it leads. `.` and empty components are ignored.
pub(crate) fn check_link_target(target: &[u8], depth: usize) -> Result<(), Errno> {
    let mut room = depth;
    let mut named = false;
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if named => return Err(ESCAPE),
            b".." => room = room.checked_sub(1).ok_or(ESCAPE)?,
            _ => named = true,
        }
    }
    Ok(())
}

/// When the entry `name` in `from` is a symbolic link about to be renamed or linked into
/// `to` (beneath the preopen `root`), its target is checked as if created there.
pub(crate) fn check_moved_link(
    from: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    to: BorrowedFd<'_>,
    root: (u64, u64),
) -> Result<(), Errno> {
    let st = match sys::lstatat(from, name) {
        Ok(st) => st,
        // Missing and the like: the rename or link itself reports it.
        Err(_) => return Ok(()),
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
        return Ok(());
    }
    let target = sys::readlinkat(from, name).map_err(|e| Errno::from_io(&e))?;
    if target.first() == Some(&b'/') {
        return Err(ESCAPE);
    }
    check_link_target(&target, depth_below(to, root)?)
}

/// For a path whose last component is `.` or `..`: the error the caller's operation
/// gives, unless the path leaves `dir` (an escape) or does not exist.
pub(crate) fn dots_error(dir: BorrowedFd<'_>, path: &[u8], error: Errno) -> Errno {
    match lookup(dir, path, true) {
        Ok(_) => error,
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::fd::AsFd;
    use std::os::unix::fs::{OpenOptionsExt, symlink};

    fn split(path: &str) -> Result<(String, String, bool), Errno> {
        let s = Split::new(path.as_bytes())?;
        Ok((
            String::from_utf8(s.dir.to_vec()).unwrap(),
            String::from_utf8(s.name.to_vec()).unwrap(),
            s.trailing_slash,
        ))
    }

    fn owned(d: &str, n: &str, t: bool) -> Result<(String, String, bool), Errno> {
        Ok((d.to_owned(), n.to_owned(), t))
    }

    #[test]
    fn split_cuts_before_the_last_component() {
        assert_eq!(split("a"), owned("", "a", false));
        assert_eq!(split("a/b/c"), owned("a/b/", "c", false));
        assert_eq!(split("a//b"), owned("a//", "b", false));
        assert_eq!(split("a/b/"), owned("a/", "b", true));
        assert_eq!(split("a///"), owned("", "a", true));
        assert_eq!(split("./.."), owned("./", "..", false));
        assert!(Split::new(b"x/..").unwrap().dots());
        assert!(!Split::new(b"x/...").unwrap().dots());
    }

    #[test]
    fn split_refuses_empty_absolute_and_nul() {
        assert_eq!(split(""), Err(Errno::Noent));
        assert_eq!(split("/"), Err(ESCAPE));
        assert_eq!(split("/etc/passwd"), Err(ESCAPE));
        assert_eq!(split("a\0b"), Err(Errno::Inval));
    }

    struct Fixture {
        _tmp: tempfile::TempDir,
        root: fs::File,
        outside: std::path::PathBuf,
    }

    /// `tmp/root` (the preopen) with `sub/file`, and `tmp/outside/secret` beside it.
    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root_path = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(root_path.join("sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(root_path.join("sub/file"), b"inside").unwrap();
        fs::write(outside.join("secret"), b"outside").unwrap();
        symlink("../outside/secret", root_path.join("up_link")).unwrap();
        symlink(outside.join("secret"), root_path.join("abs_link")).unwrap();
        symlink("sub/file", root_path.join("in_link")).unwrap();
        symlink("../../outside", root_path.join("sub/dir_link")).unwrap();
        let root = fs::File::options()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&root_path)
            .unwrap();
        Fixture {
            _tmp: tmp,
            root,
            outside,
        }
    }

    fn read(fd: OwnedFd) -> String {
        fs::read_to_string(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ))
        .unwrap()
    }

    #[test]
    fn paths_inside_resolve() {
        let f = fixture();
        let dir = f.root.as_fd();
        for path in ["sub/file", "./sub/../sub/file", "in_link", "sub//file"] {
            let fd = open_beneath(dir, path.as_bytes(), libc::O_RDONLY, 0).unwrap();
            assert_eq!(read(fd), "inside", "{path}");
        }
    }

    #[test]
    fn escapes_are_refused() {
        let f = fixture();
        let dir = f.root.as_fd();
        for path in [
            "..",
            "../outside/secret",
            "sub/../../outside/secret",
            "up_link",
            "abs_link",
            "sub/dir_link/secret",
        ] {
            assert_eq!(
                open_beneath(dir, path.as_bytes(), libc::O_RDONLY, 0).err(),
                Some(ESCAPE),
                "{path}"
            );
        }
        assert_eq!(
            open_beneath(
                dir,
                f.outside.join("secret").to_str().unwrap().as_bytes(),
                0,
                0
            )
            .err(),
            Some(ESCAPE)
        );
        // Creating through an escaping parent fails before anything is created.
        let split = Split::new(b"sub/dir_link/new").unwrap();
        assert_eq!(parent(dir, &split).err(), Some(ESCAPE));
        assert!(!f.outside.join("new").exists());
        assert_eq!(dots_error(dir, b"sub/../..", Errno::Exist), ESCAPE);
        assert_eq!(dots_error(dir, b"sub/..", Errno::Exist), Errno::Exist);
    }

    #[test]
    fn link_targets_may_not_climb_above_the_preopen() {
        for (target, depth) in [
            ("file", 0),
            ("./sub/file", 0),
            ("../file", 1),
            ("../../a/b", 2),
            ("sub//./x", 0),
        ] {
            assert_eq!(
                check_link_target(target.as_bytes(), depth),
                Ok(()),
                "{target}"
            );
        }
        for (target, depth) in [
            ("..", 0),
            ("../../../../../../etc/shadow", 0),
            ("../../x", 1),
            ("./../x", 0),
            // `a` could be a link to `.`: `a/..` would then leave.
            ("a/../b", 3),
            ("sub/..", 5),
        ] {
            assert_eq!(
                check_link_target(target.as_bytes(), depth),
                Err(ESCAPE),
                "{target} at depth {depth}"
            );
        }
    }

    #[test]
    fn depth_is_counted_up_to_the_preopen_through_symlinks() {
        let f = fixture();
        let dir = f.root.as_fd();
        let st = sys::fstat(dir).unwrap();
        let root = (st.st_dev, st.st_ino);
        assert_eq!(depth_below(dir, root), Ok(0));
        let sub = open_beneath(dir, b"sub", libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        assert_eq!(depth_below(sub.as_fd(), root), Ok(1));
        fs::create_dir_all(f._tmp.path().join("root/sub/deeper/still")).unwrap();
        symlink("sub/deeper", f._tmp.path().join("root/short")).unwrap();
        // Reached through a link at the top, the directory is still 3 levels down.
        let still = open_beneath(dir, b"short/still", libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        assert_eq!(depth_below(still.as_fd(), root), Ok(3));
        // A directory that is not below the preopen never reaches it.
        let outside = fs::File::open(&f.outside).unwrap();
        assert_eq!(depth_below(outside.as_fd(), root), Err(ESCAPE));
    }

    #[test]
    fn lookup_without_follow_opens_the_link_itself() {
        let f = fixture();
        let dir = f.root.as_fd();
        let st = sys::fstat(lookup(dir, b"up_link", false).unwrap().as_fd()).unwrap();
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
        assert_eq!(lookup(dir, b"up_link", true).err(), Some(ESCAPE));
        let st = sys::fstat(lookup(dir, b"in_link", true).unwrap().as_fd()).unwrap();
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFREG);
    }
}
