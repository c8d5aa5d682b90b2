//! Every raw system call of the crate, each behind a safe wrapper.
//!
//! This is the only module with `unsafe` besides the shared-memory view in `shm`. The
//! wrappers retry `EINTR` and return `std::io::Result`; callers turn errors into
//! [`VfsError`](crate::VfsError)s with the SQLite code that fits the operation.
//!
//! Not part of the crate's API (hidden from its docs): the lookup beneath a root
//! ([`openat2`] with its user-space fallback) and the few wrappers both need are public
//! so that `sandlite-vm`'s WASI uses this one implementation rather than a copy. Their
//! signatures may change with any release.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::beneath::{self, Lookup};

/// `struct open_how` of `<linux/openat2.h>`. Declared here because the `libc` crate marks
/// its copy `#[non_exhaustive]`, which forbids building one.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Reject resolution that leaves the starting directory (`..`, absolute symlinks, and
/// symlinks whose target climbs out).
pub const RESOLVE_BENEATH: u64 = 0x08;
/// Reject `/proc/<pid>/fd/*`-style "magic links".
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;

/// How many times `openat2` is retried when the kernel reports a concurrent rename
/// (`EAGAIN` under `RESOLVE_BENEATH`) before giving up.
const OPENAT2_RETRIES: u32 = 64;

/// Set once `openat2` has answered `ENOSYS` (Linux before 5.6, `qemu-user` before 9.1):
/// from then on every lookup takes [`beneath::open_beneath`], the same walk in user space.
static OPENAT2_MISSING: AtomicBool = AtomicBool::new(false);

/// `openat2(2)`: open `path` relative to `dir` with the given `O_*` flags, creation mode
/// and `RESOLVE_*` restrictions (`RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` or none).
/// `O_CLOEXEC` is always added. Where the kernel has no `openat2`, the lookup is done
/// in user space with the same refusals (the crate's `beneath` walk).
///
/// # Errors
/// The system call's error; `EXDEV` for a path that leaves `dir` under `RESOLVE_BENEATH`.
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    if !OPENAT2_MISSING.load(Ordering::Relaxed) {
        if let Some(result) = kernel_openat2(dir, path, flags, mode, resolve) {
            return result;
        }
        OPENAT2_MISSING.store(true, Ordering::Relaxed);
    }
    match resolve {
        0 => SysLookup.openat(dir, path, flags, mode),
        r if r == RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS => {
            beneath::open_beneath(&SysLookup, dir, path.to_bytes(), flags, mode)
        }
        _ => Err(io::Error::from_raw_os_error(libc::ENOSYS)),
    }
}

/// The kernel's `openat2`, or `None` if it has none (`ENOSYS`).
pub(crate) fn kernel_openat2(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Option<io::Result<OwnedFd>> {
    let creates = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
    let how = OpenHow {
        flags: u64::from((flags | libc::O_CLOEXEC) as u32),
        // The kernel rejects a mode unless the call may create a file.
        mode: if creates { u64::from(mode) } else { 0 },
        resolve,
    };
    let mut retries = 0;
    loop {
        // SAFETY: `path` is a NUL-terminated string and `how` a live `open_how` whose size
        // we pass; both outlive the call. The kernel only reads them.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if ret >= 0 {
            let fd = match RawFd::try_from(ret) {
                Ok(fd) => fd,
                Err(_) => return Some(Err(io::Error::other("fd out of range"))),
            };
            // SAFETY: the kernel just returned this descriptor; nothing else owns it.
            return Some(Ok(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) if retries < OPENAT2_RETRIES => retries += 1,
            Some(libc::ENOSYS) => return None,
            _ => return Some(Err(err)),
        }
    }
}

/// `openat(2)` and `readlinkat(2)` for [`beneath::open_beneath`].
pub(crate) struct SysLookup;

impl Lookup for SysLookup {
    fn openat(
        &self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd> {
        loop {
            // SAFETY: `name` is NUL-terminated and outlives the call; `mode` is passed as
            // the variadic `mode_t` argument `openat` reads when it may create a file.
            let fd = unsafe {
                libc::openat(
                    dir.as_raw_fd(),
                    name.as_ptr(),
                    flags | libc::O_CLOEXEC,
                    mode,
                )
            };
            if fd >= 0 {
                // SAFETY: the kernel just returned this descriptor; nothing else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(err);
            }
        }
    }

    fn readlinkat(&self, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
        readlinkat(dir, name)
    }
}

/// `readlinkat(2)`: the contents of the symbolic link `name` in `dir` (`EINVAL` if
/// `name` is not one).
///
/// # Errors
/// The system call's error; `ENAMETOOLONG` for a target longer than `PATH_MAX`.
pub fn readlinkat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: `name` is NUL-terminated; `buf` is writable for `buf.len()` bytes;
        // both outlive the call.
        let n = unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        let n = n.unsigned_abs();
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        // Possibly truncated: try again with room to spare (a target is at most
        // PATH_MAX bytes).
        if buf.len() > 4096 {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        buf.resize(buf.len() * 2 + 4096, 0);
    }
}

/// `unlinkat(2)` of the entry `name` in directory `dir`; `remove_dir` selects
/// `AT_REMOVEDIR`. Never follows a final symlink.
///
/// # Errors
/// The system call's error.
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, remove_dir: bool) -> io::Result<()> {
    let flags = if remove_dir { libc::AT_REMOVEDIR } else { 0 };
    loop {
        // SAFETY: `name` is NUL-terminated and outlives the call.
        let ret = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if ret == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// `faccessat2(fd, "", mode, AT_EMPTY_PATH)`: may the real user access the file that `fd`
/// (possibly an `O_PATH` descriptor) refers to with `mode` (`R_OK | W_OK` ...)?
pub(crate) fn access_fd(fd: BorrowedFd<'_>, mode: i32) -> io::Result<bool> {
    loop {
        // SAFETY: the path is the empty NUL-terminated string literal; with AT_EMPTY_PATH
        // the kernel checks `fd` itself.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_faccessat2,
                fd.as_raw_fd(),
                c"".as_ptr(),
                mode,
                libc::AT_EMPTY_PATH,
            )
        };
        if ret == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EACCES | libc::EROFS | libc::EPERM | libc::ETXTBSY) => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// The type of a byte-range lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockType {
    /// A read (shared) lock.
    Read,
    /// A write (exclusive) lock.
    Write,
    /// No lock: releases the range.
    Unlock,
}

impl LockType {
    fn to_raw(self) -> libc::c_short {
        let raw = match self {
            Self::Read => libc::F_RDLCK,
            Self::Write => libc::F_WRLCK,
            Self::Unlock => libc::F_UNLCK,
        };
        raw as libc::c_short
    }
}

fn flock(kind: LockType, start: u64, len: u64) -> io::Result<libc::flock> {
    let too_far = || io::Error::from_raw_os_error(libc::EOVERFLOW);
    // SAFETY: `flock` is a C struct of plain integers, for which all-zero bytes are a
    // valid value (and OFD locks require `l_pid == 0`).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind.to_raw();
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = libc::off_t::try_from(start).map_err(|_| too_far())?;
    lock.l_len = libc::off_t::try_from(len).map_err(|_| too_far())?;
    Ok(lock)
}

/// Set (or release) an open-file-description lock on `len` bytes at `start` (`len == 0`
/// means "to the end of the file"), without waiting. Returns `Ok(false)` when another
/// open file description holds a conflicting lock.
pub(crate) fn ofd_set_lock(
    fd: BorrowedFd<'_>,
    kind: LockType,
    start: u64,
    len: u64,
) -> io::Result<bool> {
    let lock = flock(kind, start, len)?;
    loop {
        // SAFETY: `lock` is a valid, initialised `flock` that lives across the call.
        let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &lock) };
        if ret == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN | libc::EACCES) => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// `F_OFD_GETLK`: would a `kind` lock on the range conflict with a lock held through
/// another open file description (or by a process using classic POSIX locks)? Returns the
/// type of the first conflicting lock, or `None` when the range is free.
pub(crate) fn ofd_probe_lock(
    fd: BorrowedFd<'_>,
    kind: LockType,
    start: u64,
    len: u64,
) -> io::Result<Option<LockType>> {
    let mut lock = flock(kind, start, len)?;
    loop {
        // SAFETY: `lock` is a valid `flock` the kernel overwrites in place; it lives
        // across the call and we hold the only reference.
        let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_GETLK, &mut lock) };
        if ret == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
    Ok(match i32::from(lock.l_type) {
        libc::F_RDLCK => Some(LockType::Read),
        libc::F_WRLCK => Some(LockType::Write),
        _ => None,
    })
}

/// Fill `buf` from the kernel's random number generator (`getrandom(2)`).
///
/// # Errors
/// The system call's error.
pub fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is a valid, writable buffer of exactly `rest.len()` bytes.
        let ret = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        filled += ret.unsigned_abs();
    }
    Ok(())
}

/// The size of a memory page of this machine.
pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a system value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}
