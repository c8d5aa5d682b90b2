//! Every raw system call of the WASI implementation, each behind a safe wrapper.
//!
//! This is the only module of `wasi` with `unsafe`. The wrappers retry `EINTR` and return
//! `std::io::Result`; the callers turn errors into WASI error numbers.
//!
//! The lookup beneath a directory (`openat2`, with the user-space walk where the kernel
//! has none) and the wrappers it shares with the VFS are `sandlite-vfs`'s, re-exported
//! here: one implementation serves both sandboxes.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

pub(crate) use sandlite_vfs::sys::{
    RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, getrandom, openat2, readlinkat, unlinkat,
};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Run `f` until it fails with something other than `EINTR`.
fn retry(mut f: impl FnMut() -> libc::c_int) -> io::Result<libc::c_int> {
    loop {
        match check(f()) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            other => return other,
        }
    }
}

/// `fstatat(fd, "", AT_EMPTY_PATH)`: the status of the file `fd` refers to (works for
/// `O_PATH` descriptors, including ones that refer to a symbolic link).
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: `stat` is a C struct of plain integers; all-zero bytes are a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the path is a NUL-terminated literal and `st` a writable `stat` that
    // outlives the call.
    retry(|| unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) })?;
    Ok(st)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the status of the entry `name` of `dir`
/// itself (a symbolic link is not followed).
pub(crate) fn lstatat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: as in `fstat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated and `st` a writable `stat`; both outlive the call.
    retry(|| unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(st)
}

/// `mkdirat(2)`.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t) })?;
    Ok(())
}

/// `renameat(2)` of entries (final symlinks are renamed, not followed).
pub(crate) fn renameat(
    old_dir: BorrowedFd<'_>,
    old_name: &CStr,
    new_dir: BorrowedFd<'_>,
    new_name: &CStr,
) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated and outlive the call.
    retry(|| unsafe {
        libc::renameat(
            old_dir.as_raw_fd(),
            old_name.as_ptr(),
            new_dir.as_raw_fd(),
            new_name.as_ptr(),
        )
    })?;
    Ok(())
}

/// `linkat(2)` without `AT_SYMLINK_FOLLOW`: a final symlink is linked itself.
pub(crate) fn linkat(
    old_dir: BorrowedFd<'_>,
    old_name: &CStr,
    new_dir: BorrowedFd<'_>,
    new_name: &CStr,
) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated and outlive the call.
    retry(|| unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            old_name.as_ptr(),
            new_dir.as_raw_fd(),
            new_name.as_ptr(),
            0,
        )
    })?;
    Ok(())
}

/// `symlinkat(2)`: a symbolic link `name` in `dir` whose contents are `target`.
pub(crate) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated and outlive the call.
    retry(|| unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

/// A time for `utimensat`: a value, the current time, or "leave unchanged".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetTime {
    At(u64),
    Now,
    Omit,
}

impl SetTime {
    fn timespec(self) -> libc::timespec {
        // SAFETY: `timespec` is a C struct of plain integers; all-zero bytes are valid.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        match self {
            SetTime::At(ns) => {
                ts.tv_sec = (ns / 1_000_000_000) as _;
                ts.tv_nsec = (ns % 1_000_000_000) as _;
            }
            SetTime::Now => ts.tv_nsec = libc::UTIME_NOW,
            SetTime::Omit => ts.tv_nsec = libc::UTIME_OMIT,
        }
        ts
    }
}

/// `utimensat(fd, "", times, AT_EMPTY_PATH)`: set the access and modification times of
/// the file `fd` refers to (an `O_PATH` descriptor works, also for a symbolic link).
pub(crate) fn set_times(fd: BorrowedFd<'_>, atime: SetTime, mtime: SetTime) -> io::Result<()> {
    let times = [atime.timespec(), mtime.timespec()];
    // SAFETY: the path is a NUL-terminated literal and `times` an array of two timespecs,
    // as the call requires; both outlive it.
    retry(|| unsafe {
        libc::utimensat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            times.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    })?;
    Ok(())
}

/// `fcntl(fd, F_GETFL)`: the file status flags (`O_APPEND`, `O_NONBLOCK`, ...).
pub(crate) fn get_status_flags(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    retry(|| unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })
}

/// `fcntl(fd, F_SETFL, flags)`.
pub(crate) fn set_status_flags(fd: BorrowedFd<'_>, flags: i32) -> io::Result<()> {
    // SAFETY: F_SETFL takes an int argument and changes only the descriptor's flags.
    retry(|| unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) })?;
    Ok(())
}

/// `posix_fadvise(2)`.
pub(crate) fn fadvise(fd: BorrowedFd<'_>, offset: i64, len: i64, advice: i32) -> io::Result<()> {
    // SAFETY: plain integer arguments; the call only records a hint.
    let ret = unsafe { libc::posix_fadvise(fd.as_raw_fd(), offset, len, advice) };
    // posix_fadvise returns the error number instead of setting errno.
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// One raw entry of `getdents64(2)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawDirEntry {
    pub ino: u64,
    /// `DT_*` type; `DT_UNKNOWN` when the file system does not say.
    pub kind: u8,
    pub name: Vec<u8>,
}

/// Every entry of the directory `fd` (an open, readable directory), from its start.
/// Moves the descriptor's position.
pub(crate) fn read_dir(fd: BorrowedFd<'_>) -> io::Result<Vec<RawDirEntry>> {
    // SAFETY: lseek on a descriptor we borrow; only its position changes.
    let ret = unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_SET) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: `buf` is writable for `buf.len()` bytes and outlives the call; the
        // kernel writes at most that many bytes of `linux_dirent64` records.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        let filled = usize::try_from(ret).unwrap_or(0).min(buf.len());
        if filled == 0 {
            return Ok(entries);
        }
        parse_dirents(&buf[..filled], &mut entries)?;
    }
}

/// Parse `linux_dirent64` records: `d_ino: u64 @ 0, d_off: i64 @ 8, d_reclen: u16 @ 16,
/// d_type: u8 @ 18, d_name @ 19` (NUL-terminated, padded to `d_reclen`).
fn parse_dirents(mut bytes: &[u8], out: &mut Vec<RawDirEntry>) -> io::Result<()> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed getdents64 record");
    while !bytes.is_empty() {
        if bytes.len() < 19 {
            return Err(bad());
        }
        let ino = u64::from_ne_bytes(bytes[0..8].try_into().map_err(|_| bad())?);
        let reclen = usize::from(u16::from_ne_bytes([bytes[16], bytes[17]]));
        if reclen < 19 || reclen > bytes.len() {
            return Err(bad());
        }
        let kind = bytes[18];
        let name_field = &bytes[19..reclen];
        let len = name_field
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name_field.len());
        out.push(RawDirEntry {
            ino,
            kind,
            name: name_field[..len].to_vec(),
        });
        bytes = &bytes[reclen..];
    }
    Ok(())
}

/// `clock_gettime(2)` in nanoseconds.
pub(crate) fn clock_time(clock: libc::clockid_t) -> io::Result<u64> {
    // SAFETY: all-zero bytes are a valid timespec.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a writable timespec that outlives the call.
    check(unsafe { libc::clock_gettime(clock, &mut ts) })?;
    Ok(timespec_ns(&ts))
}

/// `clock_getres(2)` in nanoseconds.
pub(crate) fn clock_resolution(clock: libc::clockid_t) -> io::Result<u64> {
    // SAFETY: all-zero bytes are a valid timespec.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a writable timespec that outlives the call.
    check(unsafe { libc::clock_getres(clock, &mut ts) })?;
    Ok(timespec_ns(&ts))
}

fn timespec_ns(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Readiness of one descriptor after [`poll`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    pub readable: bool,
    pub writable: bool,
    pub hangup: bool,
    pub error: bool,
}

/// What to wait for on one descriptor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Interest<'a> {
    pub fd: BorrowedFd<'a>,
    pub read: bool,
    pub write: bool,
}

/// `poll(2)`: wait until one of `interests` is ready or `timeout` passes (`None`: no
/// limit). Returns each descriptor's readiness, in order.
pub(crate) fn poll(
    interests: &[Interest<'_>],
    timeout: Option<Duration>,
) -> io::Result<Vec<Ready>> {
    let mut fds: Vec<libc::pollfd> = interests
        .iter()
        .map(|i| libc::pollfd {
            fd: i.fd.as_raw_fd(),
            events: (if i.read { libc::POLLIN } else { 0 })
                | (if i.write { libc::POLLOUT } else { 0 }),
            revents: 0,
        })
        .collect();
    let ms = match timeout {
        // Round up so that the wait is never shorter than asked.
        Some(t) => i32::try_from(t.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX),
        None => -1,
    };
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures that outlives the
    // call; the kernel writes only their `revents`.
    retry(|| unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) })?;
    Ok(fds
        .iter()
        .map(|p| Ready {
            readable: p.revents & libc::POLLIN != 0,
            writable: p.revents & libc::POLLOUT != 0,
            hangup: p.revents & libc::POLLHUP != 0,
            error: p.revents & (libc::POLLERR | libc::POLLNVAL) != 0,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirent_records_parse() {
        let mut bytes = Vec::new();
        for (ino, kind, name) in [
            (7u64, libc::DT_REG, &b"a.txt"[..]),
            (9, libc::DT_DIR, b".."),
        ] {
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            let start = bytes.len();
            bytes.extend_from_slice(&ino.to_ne_bytes());
            bytes.extend_from_slice(&0i64.to_ne_bytes());
            bytes.extend_from_slice(&(reclen as u16).to_ne_bytes());
            bytes.push(kind);
            bytes.extend_from_slice(name);
            bytes.resize(start + reclen, 0);
        }
        let mut out = Vec::new();
        parse_dirents(&bytes, &mut out).unwrap();
        assert_eq!(
            out,
            [
                RawDirEntry {
                    ino: 7,
                    kind: libc::DT_REG,
                    name: b"a.txt".to_vec()
                },
                RawDirEntry {
                    ino: 9,
                    kind: libc::DT_DIR,
                    name: b"..".to_vec()
                },
            ]
        );
        // A record claiming more bytes than there are is refused, not read past.
        let mut short = bytes.clone();
        short.truncate(30);
        assert!(parse_dirents(&short, &mut Vec::new()).is_err());
    }
}
