//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` done in user space, for systems
//! whose kernel or emulator has no `openat2` (it answers `ENOSYS`): Linux before 5.6,
//! and `qemu-user` before 9.1, which CI uses to run the aarch64 tests.
//!
//! The path is walked one component at a time from the starting directory, each
//! directory opened `O_PATH | O_NOFOLLOW` relative to the previous one, so the kernel
//! never follows a symbolic link or `..` on our behalf:
//!
//! - an absolute path, or a symbolic link whose target is absolute, is `EXDEV`, as
//!   `RESOLVE_BENEATH` answers;
//! - `..` pops the stack of directories walked so far, never opens `..`: popping past
//!   the start is `EXDEV`. (The kernel resolves `..` physically; the two agree because
//!   symbolic links are expanded into the same walk, so the stack always holds the
//!   directories actually traversed.)
//! - a symbolic link is read (`readlinkat`) and its target's components take its place,
//!   at most [`MAX_SYMLINKS`] times per lookup (then `ELOOP`, like the kernel's 40);
//! - "magic links" (`/proc/<pid>/fd/*`) are never followed by the kernel (every open
//!   has `O_NOFOLLOW`); their text is absolute or names no entry.
//!
//! A directory renamed out of the tree while a lookup walks beneath it can lead the
//! rest of that lookup outside, as it can with the kernel's `RESOLVE_BENEATH` (which
//! checks only at `..`); `..` here cannot climb out of it, since it is never opened.
//!
//! It serves both the VFS and `sandlite-vm`'s WASI, which reaches it through
//! [`sys::openat2`](crate::sys::openat2).
#![forbid(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The system calls the walk needs, implemented by the crate's `sys` module.
pub(crate) trait Lookup {
    /// `openat(dir, name, flags | O_CLOEXEC, mode)`, retrying `EINTR`.
    fn openat(
        &self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd>;
    /// `readlinkat(dir, name)`: the target of a symbolic link (`EINVAL` if `name` is not
    /// one).
    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>>;
}

/// Symbolic links expanded in one lookup before it fails with `ELOOP` (Linux: 40).
pub(crate) const MAX_SYMLINKS: u32 = 40;

fn os_error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// Pushes the components of `path` onto `todo` so that the first is popped first.
fn push_components(todo: &mut Vec<Vec<u8>>, path: &[u8]) {
    let start = todo.len();
    todo.extend(
        path.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec),
    );
    todo[start..].reverse();
}

/// Opens `path` beneath `root` as `openat2(root, path, {flags, mode, RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS})` would, with the same `errno` for the same refusals
/// (`EXDEV` for a way out, `ELOOP` for too many links or a final link under
/// `O_NOFOLLOW`).
///
/// # Errors
/// The failing system call's error, or the refusals above.
pub(crate) fn open_beneath(
    sys: &impl Lookup,
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: i32,
    mode: u32,
) -> io::Result<OwnedFd> {
    if path.is_empty() {
        return Err(os_error(libc::ENOENT));
    }
    if path[0] == b'/' {
        return Err(os_error(libc::EXDEV));
    }
    // `O_CREAT | O_EXCL` never follows a final link (it fails with EEXIST instead).
    let exclusive = flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0;
    let follow_final = flags & libc::O_NOFOLLOW == 0 && !exclusive;
    // A trailing slash: the final component must be a directory.
    let must_be_dir = path.ends_with(b"/");
    if must_be_dir && flags & libc::O_CREAT != 0 {
        return Err(os_error(libc::EISDIR));
    }
    let final_flags = flags | libc::O_NOFOLLOW | if must_be_dir { libc::O_DIRECTORY } else { 0 };
    let mut dirs: Vec<OwnedFd> = Vec::new();
    let mut todo: Vec<Vec<u8>> = Vec::new();
    push_components(&mut todo, path);
    if todo.is_empty() {
        todo.push(b".".to_vec());
    }
    let mut links = 0u32;
    while let Some(comp) = todo.pop() {
        let last = todo.is_empty();
        if comp == b"." || comp == b".." {
            if comp == b".." && dirs.pop().is_none() {
                return Err(os_error(libc::EXDEV));
            }
            if last {
                let cur = dirs.last().map_or(root, AsFd::as_fd);
                return sys.openat(cur, c".", final_flags, mode);
            }
            continue;
        }
        let name = CString::new(comp).map_err(|_| os_error(libc::EINVAL))?;
        let cur = dirs.last().map_or(root, AsFd::as_fd);
        if !last || follow_final {
            match sys.readlinkat(cur, &name) {
                Ok(target) => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(os_error(libc::ELOOP));
                    }
                    if target.is_empty() {
                        return Err(os_error(libc::ENOENT));
                    }
                    if target[0] == b'/' {
                        return Err(os_error(libc::EXDEV));
                    }
                    push_components(&mut todo, &target);
                    if todo.is_empty() {
                        todo.push(b".".to_vec());
                    }
                    continue;
                }
                // Not a link; or (for a final name that may be created) not there yet.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                Err(e) if last && e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(e),
            }
        }
        if last {
            // O_NOFOLLOW: a link swapped in since `readlinkat` is refused (ELOOP), not
            // followed by the kernel.
            return sys.openat(cur, &name, final_flags, mode);
        }
        let dir = sys.openat(
            cur,
            &name,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?;
        dirs.push(dir);
    }
    Err(os_error(libc::ENOENT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// Every case: the path, the flags, and the expected outcome (`Ok(())` or the errno).
    fn cases() -> Vec<(&'static str, i32, Result<(), i32>)> {
        let r = libc::O_RDONLY;
        vec![
            ("a/b/file", r, Ok(())),
            ("./a/./b//file", r, Ok(())),
            ("a/../a/b/file", r, Ok(())),
            ("in/file", r, Ok(())),
            ("a/ok", r, Ok(())),
            (".", libc::O_PATH | libc::O_DIRECTORY, Ok(())),
            ("a/..", libc::O_PATH | libc::O_DIRECTORY, Ok(())),
            ("in/", libc::O_PATH | libc::O_DIRECTORY, Ok(())),
            ("in", libc::O_PATH | libc::O_NOFOLLOW, Ok(())),
            ("..", r, Err(libc::EXDEV)),
            ("../x", r, Err(libc::EXDEV)),
            ("a/b/../../..", r, Err(libc::EXDEV)),
            ("/etc/passwd", r, Err(libc::EXDEV)),
            ("up/x", r, Err(libc::EXDEV)),
            ("a/up2", r, Err(libc::EXDEV)),
            ("a/up2/x", r, Err(libc::EXDEV)),
            ("abs", r, Err(libc::EXDEV)),
            ("abs/passwd", r, Err(libc::EXDEV)),
            ("loop1", r, Err(libc::ELOOP)),
            ("in", r | libc::O_NOFOLLOW, Err(libc::ELOOP)),
            ("a/b/file/", r, Err(libc::ENOTDIR)),
            ("a/b/file/x", r, Err(libc::ENOTDIR)),
            ("a/missing", r, Err(libc::ENOENT)),
            ("missing/x", r, Err(libc::ENOENT)),
            ("dangling", r, Err(libc::ENOENT)),
            (
                "dangling",
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
                Err(libc::EEXIST),
            ),
            ("a/new/", libc::O_RDWR | libc::O_CREAT, Err(libc::EISDIR)),
        ]
    }

    fn tree() -> (tempfile::TempDir, std::fs::File) {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/file"), b"inside").unwrap();
        std::fs::write(top.path().join("x"), b"outside").unwrap();
        symlink("a/b", root.join("in")).unwrap();
        symlink("..", root.join("up")).unwrap();
        symlink("../..", root.join("a/up2")).unwrap();
        symlink("../a/b/file", root.join("a/ok")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        symlink("created", root.join("dangling")).unwrap();
        let dir = std::fs::File::open(&root).unwrap();
        (top, dir)
    }

    fn outcome(r: io::Result<OwnedFd>) -> Result<(), i32> {
        r.map(drop).map_err(|e| e.raw_os_error().unwrap_or(-1))
    }

    #[test]
    fn refuses_every_way_out_and_allows_links_that_stay() {
        let (_top, root) = tree();
        for (path, flags, want) in cases() {
            let got = outcome(open_beneath(
                &crate::sys::SysLookup,
                root.as_fd(),
                path.as_bytes(),
                flags,
                0o644,
            ));
            assert_eq!(got, want, "{path:?} flags {flags:#x}");
        }
        // What it opened is the file beneath the root, through the links.
        let fd = open_beneath(
            &crate::sys::SysLookup,
            root.as_fd(),
            b"a/ok",
            libc::O_RDONLY,
            0,
        )
        .unwrap();
        let mut text = String::new();
        std::fs::File::from(fd).read_to_string(&mut text).unwrap();
        assert_eq!(text, "inside");
    }

    #[test]
    fn creates_through_a_link_beneath_the_root() {
        let (top, root) = tree();
        let fd = open_beneath(
            &crate::sys::SysLookup,
            root.as_fd(),
            b"dangling",
            libc::O_RDWR | libc::O_CREAT,
            0o600,
        )
        .unwrap();
        drop(fd);
        assert!(top.path().join("root/created").is_file());
    }

    /// Where the kernel has `openat2`, it gives the same answer for every case.
    #[test]
    fn agrees_with_the_kernel() {
        let (_top, root) = tree();
        let resolve = crate::sys::RESOLVE_BENEATH | crate::sys::RESOLVE_NO_MAGICLINKS;
        for (path, flags, _) in cases() {
            let c = CString::new(path).unwrap();
            let Some(kernel) = crate::sys::kernel_openat2(root.as_fd(), &c, flags, 0o644, resolve)
            else {
                eprintln!("no openat2 here: nothing to compare");
                return;
            };
            let ours = open_beneath(
                &crate::sys::SysLookup,
                root.as_fd(),
                path.as_bytes(),
                flags,
                0o644,
            );
            assert_eq!(outcome(ours), outcome(kernel), "{path:?} flags {flags:#x}");
        }
    }
}
