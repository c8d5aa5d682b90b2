//! The `wasi_snapshot_preview1` functions, on a [`WasiCtx`] and the caller's memory.
//!
//! Each function checks the descriptor, its rights and every guest pointer before acting,
//! and reports failure as an [`Errno`]; only `proc_exit` (in the linker glue) ends a run.
//! The functions take the ABI's parameters one by one, as the spec lists them.
#![allow(clippy::too_many_arguments)]

use super::abi::{
    self, Errno, advice, clock, dirent, fdflags, filestat, filetype, fstflags, lookupflags, oflags,
    prestat, rights, whence,
};
use super::ctx::{Dir, DirEntry, Entry, Handle, Input, Output, WasiCtx, filetype_of_mode};
use super::mem::GuestMemory;
use super::path::{self, Split};
use super::sys::{self, SetTime};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::FileExt;

type WasiResult<T = ()> = Result<T, Errno>;

/// `filestat`, as the host fills it in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// Widens a `libc` field whose type differs between targets (`nlink_t` is `u64` on
/// x86-64 Linux and `u32` on aarch64 Linux) with no cast or conversion that is a no-op,
/// and so a lint, on one of them.
fn widen<T: Into<u64>>(v: T) -> u64 {
    v.into()
}

fn ns(sec: i64, nsec: i64) -> u64 {
    (sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec.max(0) as u64)
}

impl Filestat {
    fn from_stat(st: &libc::stat) -> Filestat {
        Filestat {
            dev: st.st_dev,
            ino: st.st_ino,
            filetype: filetype_of_mode(st.st_mode),
            nlink: widen(st.st_nlink),
            size: st.st_size.max(0) as u64,
            atim: ns(st.st_atime, st.st_atime_nsec),
            mtim: ns(st.st_mtime, st.st_mtime_nsec),
            ctim: ns(st.st_ctime, st.st_ctime_nsec),
        }
    }

    fn of_fd(fd: BorrowedFd<'_>) -> WasiResult<Filestat> {
        Ok(Filestat::from_stat(&sys::fstat(fd)?))
    }

    fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> WasiResult {
        let mut b = [0u8; filestat::SIZE as usize];
        let mut put = |at: u32, v: u64| {
            b[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes());
        };
        put(filestat::DEV, self.dev);
        put(filestat::INO, self.ino);
        put(filestat::NLINK, self.nlink);
        put(filestat::SIZE_FIELD, self.size);
        put(filestat::ATIM, self.atim);
        put(filestat::MTIM, self.mtim);
        put(filestat::CTIM, self.ctim);
        b[filestat::FILETYPE as usize] = self.filetype;
        mem.write(ptr, &b)
    }
}

/// The file type of a stream handle that is not a host descriptor.
fn stream_filetype(handle: &Handle) -> u8 {
    match handle {
        // Like /dev/null.
        Handle::Stdin(Input::Empty) | Handle::Output(Output::Discard) => filetype::CHARACTER_DEVICE,
        // Like a pipe, which WASI has no type for.
        _ => filetype::UNKNOWN,
    }
}

/// The host descriptor behind a handle, if there is one.
fn host_fd(handle: &Handle) -> Option<BorrowedFd<'_>> {
    match handle {
        Handle::File(f) | Handle::Stdin(Input::Host(f)) | Handle::Output(Output::Host(f)) => {
            Some(f.as_fd())
        }
        Handle::Dir(d) => Some(d.file.as_fd()),
        _ => None,
    }
}

/// A `*_set_times` time from `fstflags`.
fn set_time(flags: u16, value: u64, set: u16, now: u16) -> WasiResult<SetTime> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(SetTime::At(value)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Omit),
    }
}

fn set_times_args(atim: u64, mtim: u64, flags: u16) -> WasiResult<(SetTime, SetTime)> {
    if flags & !fstflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    Ok((
        set_time(flags, atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        set_time(flags, mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

/// Fills the iovecs at `iovs` with `read` until it returns less than asked. Returns the
/// bytes read; an error after some bytes were read ends the transfer early instead.
fn read_into(
    mem: &mut GuestMemory<'_>,
    iovs: u32,
    count: u32,
    mut read: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
) -> WasiResult<u32> {
    mem.iovecs_total(iovs, count)?;
    let mut total: u32 = 0;
    for i in 0..count {
        let (buf, len) = mem.iovec(iovs, i)?;
        let slice = mem.slice_mut(buf, len)?;
        match read(slice, u64::from(total)) {
            Ok(n) => {
                let n = n.min(slice.len()) as u32;
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(Errno::from_io(&e)),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// Writes the ciovecs at `iovs` with `write` until it takes less than offered.
fn write_from(
    mem: &GuestMemory<'_>,
    iovs: u32,
    count: u32,
    mut write: impl FnMut(&[u8], u64) -> WasiResult<usize>,
) -> WasiResult<u32> {
    mem.iovecs_total(iovs, count)?;
    let mut total: u32 = 0;
    for i in 0..count {
        let (buf, len) = mem.iovec(iovs, i)?;
        let slice = mem.slice(buf, len)?;
        match write(slice, u64::from(total)) {
            Ok(n) => {
                let n = n.min(slice.len()) as u32;
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

fn io<T>(r: std::io::Result<T>) -> WasiResult<T> {
    r.map_err(|e| Errno::from_io(&e))
}

fn clock_id(id: u32) -> WasiResult<libc::clockid_t> {
    Ok(match id {
        clock::REALTIME => libc::CLOCK_REALTIME,
        clock::MONOTONIC => libc::CLOCK_MONOTONIC,
        clock::PROCESS_CPUTIME_ID => libc::CLOCK_PROCESS_CPUTIME_ID,
        clock::THREAD_CPUTIME_ID => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::Inval),
    })
}

/// Current time of a WASI clock, in nanoseconds.
pub(crate) fn now(id: u32) -> WasiResult<u64> {
    io(sys::clock_time(clock_id(id)?))
}

/// Writes a list of NUL-terminated strings: pointers at `ptrs`, bytes at `buf`.
fn write_strings(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        let slot = u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(4))
            .and_then(|o| ptrs.checked_add(o))
            .ok_or(Errno::Fault)?;
        mem.write_u32(slot, at)?;
        mem.write(at, s)?;
        let end = u32::try_from(s.len())
            .ok()
            .and_then(|n| at.checked_add(n))
            .ok_or(Errno::Fault)?;
        mem.write_u8(end, 0)?;
        // The next string starts after the NUL (wrapping past 4 GiB is a fault only if
        // another string follows).
        at = end.wrapping_add(1);
        if at == 0 && i + 1 < list.len() {
            return Err(Errno::Fault);
        }
    }
    Ok(())
}

fn write_sizes(mem: &mut GuestMemory<'_>, list: &[Vec<u8>], count: u32, size: u32) -> WasiResult {
    let bytes: usize = list.iter().map(|s| s.len() + 1).sum();
    mem.write_u32(count, list.len() as u32)?;
    mem.write_u32(size, u32::try_from(bytes).map_err(|_| Errno::Overflow)?)
}

/// A guest path, copied out of its memory.
fn guest_path(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> WasiResult<Vec<u8>> {
    let bytes = mem.slice(ptr, len)?;
    // No host path (or symlink target) can be this long; refusing it here also keeps
    // the guest from sizing a host allocation.
    if bytes.len() >= path::PATH_MAX {
        return Err(Errno::Nametoolong);
    }
    Ok(bytes.to_vec())
}

impl WasiCtx {
    fn dir(&self, fd: u32, needed: u64) -> WasiResult<(&Entry, BorrowedFd<'_>)> {
        let entry = self.table.get(fd)?;
        let Handle::Dir(dir) = &entry.handle else {
            return Err(Errno::Notdir);
        };
        entry.require(needed)?;
        Ok((entry, dir.file.as_fd()))
    }

    /// `perm` for a regular file with several hard links (it may be a file outside the
    /// preopen), unless allowed. Checked on the opened descriptor, so no race can swap
    /// the file.
    fn check_links(&self, st: &libc::stat) -> WasiResult {
        if st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_nlink > 1 && !self.allow_hard_links {
            return Err(Errno::Perm);
        }
        Ok(())
    }

    /// The preopen identity of directory descriptor `fd` (see [`Dir::root`]).
    fn dir_root(&self, fd: u32) -> WasiResult<(u64, u64)> {
        match &self.table.get(fd)?.handle {
            Handle::Dir(dir) => Ok(dir.root),
            _ => Err(Errno::Notdir),
        }
    }

    pub(crate) fn args_get(&self, mem: &mut GuestMemory<'_>, argv: u32, buf: u32) -> WasiResult {
        write_strings(mem, &self.args, argv, buf)
    }

    pub(crate) fn args_sizes_get(
        &self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult {
        write_sizes(mem, &self.args, count, size)
    }

    pub(crate) fn environ_get(
        &self,
        mem: &mut GuestMemory<'_>,
        environ: u32,
        buf: u32,
    ) -> WasiResult {
        write_strings(mem, &self.env, environ, buf)
    }

    pub(crate) fn environ_sizes_get(
        &self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult {
        write_sizes(mem, &self.env, count, size)
    }

    pub(crate) fn clock_res_get(&self, mem: &mut GuestMemory<'_>, id: u32, ret: u32) -> WasiResult {
        let res = io(sys::clock_resolution(clock_id(id)?))?;
        mem.write_u64(ret, res)
    }

    pub(crate) fn clock_time_get(
        &self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        _precision: u64,
        ret: u32,
    ) -> WasiResult {
        mem.write_u64(ret, now(id)?)
    }

    pub(crate) fn random_get(&self, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> WasiResult {
        io(sys::getrandom(mem.slice_mut(buf, len)?))
    }

    pub(crate) fn fd_advise(&self, fd: u32, offset: u64, len: u64, advice: u8) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_ADVISE)?;
        let posix = match advice {
            advice::NORMAL => libc::POSIX_FADV_NORMAL,
            advice::SEQUENTIAL => libc::POSIX_FADV_SEQUENTIAL,
            advice::RANDOM => libc::POSIX_FADV_RANDOM,
            advice::WILLNEED => libc::POSIX_FADV_WILLNEED,
            advice::DONTNEED => libc::POSIX_FADV_DONTNEED,
            advice::NOREUSE => libc::POSIX_FADV_NOREUSE,
            _ => return Err(Errno::Inval),
        };
        let offset = i64::try_from(offset).map_err(|_| Errno::Inval)?;
        let len = i64::try_from(len).map_err(|_| Errno::Inval)?;
        match &entry.handle {
            Handle::File(f) => io(sys::fadvise(f.as_fd(), offset, len, posix)),
            Handle::Dir(_) => Err(Errno::Badf),
            _ => Err(Errno::Spipe),
        }
    }

    pub(crate) fn fd_allocate(&self, fd: u32, offset: u64, len: u64) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_ALLOCATE)?;
        let Handle::File(f) = &entry.handle else {
            return Err(Errno::Badf);
        };
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or(Errno::Fbig)?;
        // Only the size is observable through WASI: grow the file if it is shorter.
        let size = io(f.metadata())?.len();
        if size < end {
            io(f.set_len(end))?;
        }
        Ok(())
    }

    pub(crate) fn fd_close(&mut self, fd: u32) -> WasiResult {
        self.table.remove(fd).map(drop)
    }

    fn sync(&self, fd: u32, needed: u64, data_only: bool) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(needed)?;
        let file = match &entry.handle {
            Handle::File(f) => f,
            Handle::Dir(d) => &d.file,
            // fsync of a pipe or terminal is EINVAL on Linux too.
            _ => return Err(Errno::Inval),
        };
        io(if data_only {
            file.sync_data()
        } else {
            file.sync_all()
        })
    }

    pub(crate) fn fd_datasync(&self, fd: u32) -> WasiResult {
        self.sync(fd, rights::FD_DATASYNC, true)
    }

    pub(crate) fn fd_sync(&self, fd: u32) -> WasiResult {
        self.sync(fd, rights::FD_SYNC, false)
    }

    pub(crate) fn fd_fdstat_get(&self, mem: &mut GuestMemory<'_>, fd: u32, ret: u32) -> WasiResult {
        let entry = self.table.get(fd)?;
        let (filetype, flags) = match host_fd(&entry.handle) {
            Some(hfd) => {
                let st = sys::fstat(hfd)?;
                let fl = sys::get_status_flags(hfd)?;
                let mut flags = 0;
                if fl & libc::O_APPEND != 0 {
                    flags |= fdflags::APPEND;
                }
                if fl & libc::O_NONBLOCK != 0 {
                    flags |= fdflags::NONBLOCK;
                }
                if fl & libc::O_SYNC == libc::O_SYNC {
                    flags |= fdflags::SYNC;
                } else if fl & libc::O_DSYNC != 0 {
                    flags |= fdflags::DSYNC;
                }
                (filetype_of_mode(st.st_mode), flags)
            }
            None => (stream_filetype(&entry.handle), 0),
        };
        // A directory reports the file-modifying rights as inheritable even when it
        // cannot grant them: wasi-libc masks the rights it asks `path_open` for with this
        // set, so an honest answer would make `open(O_WRONLY)` below a read-only preopen
        // silently return a read-only descriptor. This way the request reaches
        // `path_open`, which refuses it with `perm`, as POSIX `open` fails with `EROFS`.
        let inheriting = match entry.handle {
            Handle::Dir(_) => entry.inheriting | rights::FILE_MODIFY,
            _ => entry.inheriting,
        };
        let mut b = [0u8; abi::fdstat::SIZE as usize];
        b[abi::fdstat::FILETYPE as usize] = filetype;
        b[2..4].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&entry.base.to_le_bytes());
        b[16..24].copy_from_slice(&inheriting.to_le_bytes());
        mem.write(ret, &b)
    }

    pub(crate) fn fd_fdstat_set_flags(&self, fd: u32, flags: u16) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_FDSTAT_SET_FLAGS)?;
        if flags & !fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        let changeable = fdflags::APPEND | fdflags::NONBLOCK;
        let fd = match &entry.handle {
            Handle::File(f) => f.as_fd(),
            Handle::Dir(d) => d.file.as_fd(),
            // Flags of a shared host stream would change the host's own stream too.
            Handle::Stdin(Input::Host(_)) | Handle::Output(Output::Host(_)) => {
                return Err(Errno::Notsup);
            }
            _ if flags & !changeable == 0 => return Ok(()),
            _ => return Err(Errno::Notsup),
        };
        let current = sys::get_status_flags(fd)?;
        let sync_bits = libc::O_SYNC | libc::O_DSYNC;
        let wanted_sync = if flags & fdflags::SYNC != 0 {
            libc::O_SYNC
        } else if flags & (fdflags::DSYNC | fdflags::RSYNC) != 0 {
            libc::O_DSYNC
        } else {
            0
        };
        // Linux cannot change the synchronisation flags of an open file.
        if current & sync_bits != wanted_sync {
            return Err(Errno::Notsup);
        }
        let mut new = current & !(libc::O_APPEND | libc::O_NONBLOCK);
        if flags & fdflags::APPEND != 0 {
            new |= libc::O_APPEND;
        }
        if flags & fdflags::NONBLOCK != 0 {
            new |= libc::O_NONBLOCK;
        }
        io(sys::set_status_flags(fd, new))
    }

    pub(crate) fn fd_fdstat_set_rights(
        &mut self,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> WasiResult {
        let entry = self.table.get_mut(fd)?;
        // What fd_fdstat_get reported for a directory may be handed back (see there).
        let reported = match entry.handle {
            Handle::Dir(_) => entry.inheriting | rights::FILE_MODIFY,
            _ => entry.inheriting,
        };
        // Rights can only be dropped, never gained.
        if base & !entry.base != 0 || inheriting & !reported != 0 {
            return Err(Errno::Perm);
        }
        entry.base = base;
        entry.inheriting &= inheriting;
        Ok(())
    }

    pub(crate) fn fd_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_FILESTAT_GET)?;
        let st = match host_fd(&entry.handle) {
            Some(hfd) => Filestat::of_fd(hfd)?,
            None => Filestat {
                filetype: stream_filetype(&entry.handle),
                ..Filestat::default()
            },
        };
        st.write(mem, ret)
    }

    pub(crate) fn fd_filestat_set_size(&self, fd: u32, size: u64) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_FILESTAT_SET_SIZE)?;
        match &entry.handle {
            Handle::File(f) => {
                let size = i64::try_from(size).map_err(|_| Errno::Fbig)?;
                io(f.set_len(size as u64))
            }
            Handle::Dir(_) => Err(Errno::Isdir),
            _ => Err(Errno::Inval),
        }
    }

    pub(crate) fn fd_filestat_set_times(
        &self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        entry.require(rights::FD_FILESTAT_SET_TIMES)?;
        let (a, m) = set_times_args(atim, mtim, flags)?;
        match &entry.handle {
            Handle::File(f) => io(sys::set_times(f.as_fd(), a, m)),
            Handle::Dir(d) => io(sys::set_times(d.file.as_fd(), a, m)),
            // The host's terminal or pipe is not the guest's to touch.
            _ => Err(Errno::Badf),
        }
    }

    pub(crate) fn fd_pread(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        if entry.base & rights::FD_READ == 0 {
            return Err(Errno::Badf);
        }
        entry.require(rights::FD_SEEK)?;
        let n = match &entry.handle {
            Handle::File(f) => read_into(mem, iovs, count, |buf, done| {
                let at = offset
                    .checked_add(done)
                    .ok_or(std::io::ErrorKind::InvalidInput)?;
                f.read_at(buf, at)
            })?,
            Handle::Dir(_) => return Err(Errno::Isdir),
            _ => return Err(Errno::Spipe),
        };
        mem.write_u32(ret, n)
    }

    pub(crate) fn fd_pwrite(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        if entry.base & rights::FD_WRITE == 0 {
            return Err(Errno::Badf);
        }
        entry.require(rights::FD_SEEK)?;
        let n = match &entry.handle {
            Handle::File(f) => write_from(mem, iovs, count, |buf, done| {
                let at = offset.checked_add(done).ok_or(Errno::Inval)?;
                io(f.write_at(buf, at))
            })?,
            Handle::Dir(_) => return Err(Errno::Isdir),
            _ => return Err(Errno::Spipe),
        };
        mem.write_u32(ret, n)
    }

    pub(crate) fn fd_prestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        let name = entry.preopen.as_ref().ok_or(Errno::Badf)?;
        let mut b = [0u8; prestat::SIZE as usize];
        b[prestat::TAG as usize] = abi::PREOPENTYPE_DIR;
        b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
        mem.write(ret, &b)
    }

    pub(crate) fn fd_prestat_dir_name(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        len: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        let name = entry.preopen.as_ref().ok_or(Errno::Badf)?;
        if (len as usize) < name.len() {
            return Err(Errno::Nametoolong);
        }
        mem.write(buf, name)
    }

    pub(crate) fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get_mut(fd)?;
        if entry.base & rights::FD_READ == 0 {
            return Err(Errno::Badf);
        }
        let n = match &mut entry.handle {
            Handle::File(f) | Handle::Stdin(Input::Host(f)) => {
                read_into(mem, iovs, count, |buf, _| f.read(buf))?
            }
            Handle::Stdin(Input::Bytes { data, pos }) => read_into(mem, iovs, count, |buf, _| {
                let rest = &data[(*pos).min(data.len())..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                Ok(n)
            })?,
            Handle::Stdin(Input::Empty) => 0,
            Handle::Dir(_) => return Err(Errno::Isdir),
            Handle::Output(_) => return Err(Errno::Badf),
        };
        mem.write_u32(ret, n)
    }

    pub(crate) fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get_mut(fd)?;
        if entry.base & rights::FD_WRITE == 0 {
            return Err(Errno::Badf);
        }
        let n = match &mut entry.handle {
            Handle::File(f) | Handle::Output(Output::Host(f)) => {
                write_from(mem, iovs, count, |buf, _| io(f.write(buf)))?
            }
            Handle::Output(Output::Buffer(b)) => {
                write_from(mem, iovs, count, |buf, _| b.append(buf))?
            }
            Handle::Output(Output::Discard) => mem.iovecs_total(iovs, count)?,
            Handle::Dir(_) => return Err(Errno::Isdir),
            Handle::Stdin(_) => return Err(Errno::Badf),
        };
        mem.write_u32(ret, n)
    }

    pub(crate) fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        len: u32,
        cookie: u64,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get_mut(fd)?;
        let Handle::Dir(dir) = &mut entry.handle else {
            return Err(Errno::Notdir);
        };
        if entry.base & rights::FD_READDIR == 0 {
            return Err(Errno::Perm);
        }
        mem.slice(buf, len)?;
        if cookie == 0 || dir.listing.is_none() {
            dir.listing = Some(list(dir)?);
        }
        let listing = dir.listing.as_deref().unwrap_or_default();
        // Serialise entries from `cookie` on until the buffer is full; the last one may be
        // cut short, which tells the guest to call again (spec: "truncated").
        let mut out = Vec::with_capacity((len as usize).min(64 * 1024));
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (i, e) in listing.iter().enumerate().skip(start) {
            if out.len() >= len as usize {
                break;
            }
            let mut head = [0u8; dirent::SIZE as usize];
            head[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            head[8..16].copy_from_slice(&e.ino.to_le_bytes());
            head[16..20].copy_from_slice(&(e.name.len() as u32).to_le_bytes());
            head[dirent::D_TYPE as usize] = e.filetype;
            out.extend_from_slice(&head);
            out.extend_from_slice(&e.name);
        }
        out.truncate(len as usize);
        mem.write(buf, &out)?;
        mem.write_u32(ret, out.len() as u32)
    }

    pub(crate) fn fd_renumber(&mut self, from: u32, to: u32) -> WasiResult {
        self.table.renumber(from, to)
    }

    pub(crate) fn fd_seek(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        offset: i64,
        whence: u8,
        ret: u32,
    ) -> WasiResult {
        let entry = self.table.get(fd)?;
        let pos = match whence {
            whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
            whence::CUR => SeekFrom::Current(offset),
            whence::END => SeekFrom::End(offset),
            _ => return Err(Errno::Inval),
        };
        let file = match &entry.handle {
            Handle::File(f) => f,
            Handle::Dir(_) => return Err(Errno::Badf),
            _ => return Err(Errno::Spipe),
        };
        let needed = if pos == SeekFrom::Current(0) {
            rights::FD_TELL
        } else {
            rights::FD_SEEK
        };
        if entry.base & (needed | rights::FD_SEEK) == 0 {
            return Err(Errno::Perm);
        }
        let new = io((&*file).seek(pos))?;
        mem.write_u64(ret, new)
    }

    pub(crate) fn fd_tell(&mut self, mem: &mut GuestMemory<'_>, fd: u32, ret: u32) -> WasiResult {
        self.fd_seek(mem, fd, 0, whence::CUR, ret)
    }

    pub(crate) fn path_create_directory(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_CREATE_DIRECTORY)?;
        let path = guest_path(mem, ptr, len)?;
        let split = Split::new(&path)?;
        if split.dots() {
            return Err(path::dots_error(dir, &path, Errno::Exist));
        }
        let parent = path::parent(dir, &split)?;
        io(sys::mkdirat(parent.fd(), &split.name_c()?, 0o777))
    }

    pub(crate) fn path_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        ptr: u32,
        len: u32,
        ret: u32,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_FILESTAT_GET)?;
        let path = guest_path(mem, ptr, len)?;
        let target = path::lookup(dir, &path, flags & lookupflags::SYMLINK_FOLLOW != 0)?;
        Filestat::of_fd(target.as_fd())?.write(mem, ret)
    }

    pub(crate) fn path_filestat_set_times(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        flags: u32,
        ptr: u32,
        len: u32,
        atim: u64,
        mtim: u64,
        fst: u16,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_FILESTAT_SET_TIMES)?;
        let (a, m) = set_times_args(atim, mtim, fst)?;
        let path = guest_path(mem, ptr, len)?;
        let target = path::lookup(dir, &path, flags & lookupflags::SYMLINK_FOLLOW != 0)?;
        self.check_links(&sys::fstat(target.as_fd())?)?;
        io(sys::set_times(target.as_fd(), a, m))
    }

    pub(crate) fn path_link(
        &self,
        mem: &GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old_ptr: u32,
        old_len: u32,
        new_fd: u32,
        new_ptr: u32,
        new_len: u32,
    ) -> WasiResult {
        let new_root = self.dir_root(new_fd)?;
        let (_, old_dir) = self.dir(old_fd, rights::PATH_LINK_SOURCE)?;
        let (_, new_dir) = self.dir(new_fd, rights::PATH_LINK_TARGET)?;
        // Following a final symlink would need linkat(AT_EMPTY_PATH), a privileged call.
        if old_flags & lookupflags::SYMLINK_FOLLOW != 0 {
            return Err(Errno::Inval);
        }
        let old_path = guest_path(mem, old_ptr, old_len)?;
        let new_path = guest_path(mem, new_ptr, new_len)?;
        let old = Split::new(&old_path)?;
        let new = Split::new(&new_path)?;
        if old.dots() {
            // Directories cannot be hard-linked.
            return Err(path::dots_error(old_dir, &old_path, Errno::Perm));
        }
        if new.dots() {
            return Err(path::dots_error(new_dir, &new_path, Errno::Exist));
        }
        let old_parent = path::parent(old_dir, &old)?;
        let new_parent = path::parent(new_dir, &new)?;
        if old.trailing_slash || new.trailing_slash {
            return Err(trailing_slash_error(old_parent.fd(), &old, Errno::Perm));
        }
        // A hard link to a symbolic link is that link at a new place.
        path::check_moved_link(old_parent.fd(), &old.name_c()?, new_parent.fd(), new_root)?;
        io(sys::linkat(
            old_parent.fd(),
            &old.name_c()?,
            new_parent.fd(),
            &new.name_c()?,
        ))
    }

    pub(crate) fn path_open(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        ptr: u32,
        len: u32,
        oflags: u16,
        base: u64,
        inheriting: u64,
        fdflags: u16,
        ret: u32,
    ) -> WasiResult {
        let root = self.dir_root(fd)?;
        let (entry, dir) = self.dir(fd, rights::PATH_OPEN)?;
        if oflags & !oflags::ALL != 0 || fdflags & !fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        if oflags & oflags::CREAT != 0 {
            entry.require(rights::PATH_CREATE_FILE)?;
        }
        if oflags & oflags::TRUNC != 0 {
            entry.require(rights::PATH_FILESTAT_SET_SIZE)?;
        }
        // Asking to modify below a directory that may not: refuse rather than open
        // read-only. Other rights beyond the directory's are silently dropped, since C
        // and Rust libraries ask for more than they need.
        if base & rights::FILE_MODIFY & !entry.inheriting != 0 {
            return Err(Errno::Perm);
        }
        if fdflags & fdflags::APPEND != 0 && entry.inheriting & rights::FD_WRITE == 0 {
            return Err(Errno::Perm);
        }
        let new_base = base & entry.inheriting;
        let new_inheriting = inheriting & entry.inheriting;

        let read = new_base & (rights::FD_READ | rights::FD_READDIR) != 0;
        let write = new_base & rights::FILE_MODIFY != 0;
        let mut flags = if oflags & oflags::DIRECTORY != 0 {
            libc::O_RDONLY | libc::O_DIRECTORY
        } else {
            match (read, write) {
                (_, false) => libc::O_RDONLY,
                (false, true) => libc::O_WRONLY,
                (true, true) => libc::O_RDWR,
            }
        };
        if dirflags & lookupflags::SYMLINK_FOLLOW == 0 {
            flags |= libc::O_NOFOLLOW;
        }
        for (wasi, host) in [
            (oflags::CREAT, libc::O_CREAT),
            (oflags::EXCL, libc::O_EXCL),
            (oflags::TRUNC, libc::O_TRUNC),
        ] {
            if oflags & wasi != 0 {
                flags |= host;
            }
        }
        for (wasi, host) in [
            (fdflags::APPEND, libc::O_APPEND),
            (fdflags::NONBLOCK, libc::O_NONBLOCK),
            (fdflags::DSYNC, libc::O_DSYNC),
            (fdflags::RSYNC, libc::O_RSYNC),
            (fdflags::SYNC, libc::O_SYNC),
        ] {
            if fdflags & wasi != 0 {
                flags |= host;
            }
        }
        let path = guest_path(mem, ptr, len)?;
        let opened = path::open_beneath(dir, &path, flags, 0o666)?;
        let st = sys::fstat(opened.as_fd())?;
        self.check_links(&st)?;
        let handle = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            Handle::Dir(Dir {
                file: File::from(opened),
                listing: None,
                root,
            })
        } else {
            Handle::File(File::from(opened))
        };
        let new_fd = self.table.insert(Entry {
            handle,
            base: new_base,
            inheriting: new_inheriting,
            preopen: None,
        })?;
        if let Err(e) = mem.write_u32(ret, new_fd) {
            self.table.remove(new_fd).ok();
            return Err(e);
        }
        Ok(())
    }

    pub(crate) fn path_readlink(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
        buf: u32,
        buf_len: u32,
        ret: u32,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_READLINK)?;
        let path = guest_path(mem, ptr, len)?;
        let split = Split::new(&path)?;
        if split.dots() {
            return Err(path::dots_error(dir, &path, Errno::Inval));
        }
        let parent = path::parent(dir, &split)?;
        if split.trailing_slash {
            return Err(trailing_slash_error(parent.fd(), &split, Errno::Inval));
        }
        let target = io(sys::readlinkat(parent.fd(), &split.name_c()?))?;
        // A target longer than the buffer is cut to fit, as POSIX readlink does.
        let n = target.len().min(buf_len as usize);
        mem.write(buf, &target[..n])?;
        mem.write_u32(ret, n as u32)
    }

    pub(crate) fn path_remove_directory(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_REMOVE_DIRECTORY)?;
        let path = guest_path(mem, ptr, len)?;
        let split = Split::new(&path)?;
        if split.dots() {
            let error = if split.name == b"." {
                Errno::Inval
            } else {
                Errno::Notempty
            };
            return Err(path::dots_error(dir, &path, error));
        }
        let parent = path::parent(dir, &split)?;
        io(sys::unlinkat(parent.fd(), &split.name_c()?, true))
    }

    pub(crate) fn path_rename(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        old_ptr: u32,
        old_len: u32,
        new_fd: u32,
        new_ptr: u32,
        new_len: u32,
    ) -> WasiResult {
        let new_root = self.dir_root(new_fd)?;
        let (_, old_dir) = self.dir(fd, rights::PATH_RENAME_SOURCE)?;
        let (_, new_dir) = self.dir(new_fd, rights::PATH_RENAME_TARGET)?;
        let old_path = guest_path(mem, old_ptr, old_len)?;
        let new_path = guest_path(mem, new_ptr, new_len)?;
        let old = Split::new(&old_path)?;
        let new = Split::new(&new_path)?;
        if old.dots() {
            return Err(path::dots_error(old_dir, &old_path, Errno::Busy));
        }
        if new.dots() {
            return Err(path::dots_error(new_dir, &new_path, Errno::Busy));
        }
        let old_parent = path::parent(old_dir, &old)?;
        let new_parent = path::parent(new_dir, &new)?;
        if old.trailing_slash || new.trailing_slash {
            // A trailing slash is allowed only when renaming a directory.
            let st = io(sys::lstatat(old_parent.fd(), &old.name_c()?))?;
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::Notdir);
            }
        }
        path::check_moved_link(old_parent.fd(), &old.name_c()?, new_parent.fd(), new_root)?;
        io(sys::renameat(
            old_parent.fd(),
            &old.name_c()?,
            new_parent.fd(),
            &new.name_c()?,
        ))
    }

    pub(crate) fn path_symlink(
        &self,
        mem: &GuestMemory<'_>,
        old_ptr: u32,
        old_len: u32,
        fd: u32,
        new_ptr: u32,
        new_len: u32,
    ) -> WasiResult {
        let root = self.dir_root(fd)?;
        let (_, dir) = self.dir(fd, rights::PATH_SYMLINK)?;
        let target = guest_path(mem, old_ptr, old_len)?;
        // A link is only text and following it is confined anyway; still, the guest
        // may not plant one that points outside (the host might follow it): absolute
        // targets are refused, and relative ones that climb above the preopen from
        // where the link is (see `path::check_link_target`).
        path::check(&target)?;
        let target_c = std::ffi::CString::new(target.clone()).map_err(|_| Errno::Inval)?;
        let path = guest_path(mem, new_ptr, new_len)?;
        let split = Split::new(&path)?;
        if split.dots() {
            return Err(path::dots_error(dir, &path, Errno::Exist));
        }
        let parent = path::parent(dir, &split)?;
        if split.trailing_slash {
            return Err(trailing_slash_error(parent.fd(), &split, Errno::Exist));
        }
        path::check_link_target(&target, path::depth_below(parent.fd(), root)?)?;
        io(sys::symlinkat(&target_c, parent.fd(), &split.name_c()?))
    }

    pub(crate) fn path_unlink_file(
        &self,
        mem: &GuestMemory<'_>,
        fd: u32,
        ptr: u32,
        len: u32,
    ) -> WasiResult {
        let (_, dir) = self.dir(fd, rights::PATH_UNLINK_FILE)?;
        let path = guest_path(mem, ptr, len)?;
        let split = Split::new(&path)?;
        if split.dots() {
            return Err(path::dots_error(dir, &path, Errno::Isdir));
        }
        let parent = path::parent(dir, &split)?;
        if split.trailing_slash {
            return Err(trailing_slash_error(parent.fd(), &split, Errno::Isdir));
        }
        io(sys::unlinkat(parent.fd(), &split.name_c()?, false))
    }

    pub(crate) fn sock(&self, fd: u32) -> WasiResult {
        // No socket is ever granted, so every descriptor is something else.
        self.table.get(fd)?;
        Err(Errno::Notsock)
    }
}

/// For a path ending in `/` where the operation needs a non-directory: `when_dir` if
/// the entry is a directory, `notdir` if it is something else, the lookup's error if
/// it does not exist.
fn trailing_slash_error(parent: BorrowedFd<'_>, split: &Split<'_>, when_dir: Errno) -> Errno {
    let name = match split.name_c() {
        Ok(n) => n,
        Err(e) => return e,
    };
    match sys::lstatat(parent, &name) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => when_dir,
        Ok(_) => Errno::Notdir,
        Err(e) => Errno::from_io(&e),
    }
}

/// A fresh listing of a directory, `.` and `..` included.
fn list(dir: &Dir) -> WasiResult<Vec<DirEntry>> {
    let fd = dir.file.as_fd();
    let raw = io(sys::read_dir(fd))?;
    let mut out = Vec::with_capacity(raw.len());
    for e in raw {
        let filetype = match e.kind {
            libc::DT_BLK => filetype::BLOCK_DEVICE,
            libc::DT_CHR => filetype::CHARACTER_DEVICE,
            libc::DT_DIR => filetype::DIRECTORY,
            libc::DT_REG => filetype::REGULAR_FILE,
            libc::DT_SOCK => filetype::SOCKET_STREAM,
            libc::DT_LNK => filetype::SYMBOLIC_LINK,
            libc::DT_UNKNOWN => std::ffi::CString::new(e.name.clone())
                .ok()
                .and_then(|n| sys::lstatat(fd, &n).ok())
                .map_or(filetype::UNKNOWN, |st| filetype_of_mode(st.st_mode)),
            _ => filetype::UNKNOWN,
        };
        out.push(DirEntry {
            ino: e.ino,
            filetype,
            name: e.name,
        });
    }
    Ok(out)
}
