//! Registers the `wasi_snapshot_preview1` functions with a [`Linker`].

use super::abi::{Errno, MODULE};
use super::ctx::WasiCtx;
use super::mem::GuestMemory;
use super::poll::PollError;
use crate::error::{Result, Trap, TrapCode};
use crate::runtime::func::Caller;
use crate::runtime::instance::{Extern, Linker};

/// The guest called `proc_exit`: the run ended with this exit code. It arrives as the
/// host error of a [`Trap`]; recognise it with `trap.downcast_ref::<I32Exit>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("exited with code {0}")]
pub struct I32Exit(pub i32);

/// Runs a WASI function that needs the caller's memory and returns its errno.
fn with_memory<T>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    name: &str,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<(), Errno>,
) -> Result<i32, Trap> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| {
            Trap::host_message(format!(
                "WASI function `{name}` needs the caller to export its memory as `memory`"
            ))
        })?;
    let (bytes, data) = memory.data_and_store_mut(caller);
    let mut mem = GuestMemory::new(bytes);
    Ok(errno(f(get(data), &mut mem)))
}

fn errno(r: Result<(), Errno>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => i32::from(e as u16),
    }
}

/// Defines a WASI function whose body sees `ctx` and `mem`; every parameter is given
/// with its Wasm type and converted to the unsigned type the body expects.
macro_rules! wasi {
    ($linker:ident, $get:ident, $name:literal, |$ctx:ident, $mem:ident $(, $arg:ident : $wasm:ty => $host:ty)*| $body:expr) => {
        $linker.func_wrap(
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $wasm),*| -> Result<i32, Trap> {
                $(let $arg = $arg as $host;)*
                with_memory(&mut caller, $get, $name, |$ctx, $mem| $body)
            },
        )?;
    };
}

/// Defines a WASI function that does not touch memory.
macro_rules! wasi_no_mem {
    ($linker:ident, $get:ident, $name:literal, |$ctx:ident $(, $arg:ident : $wasm:ty => $host:ty)*| $body:expr) => {
        $linker.func_wrap(
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $wasm),*| -> i32 {
                $(let $arg = $arg as $host;)*
                let $ctx = $get(caller.data_mut());
                errno($body)
            },
        )?;
    };
}

/// Adds every `wasi_snapshot_preview1` function to `linker`. `get` finds the
/// [`WasiCtx`] in the store's data (`|ctx| ctx` when the data is the context itself).
///
/// # Errors
/// If one of the names is already defined in `linker` (and shadowing is off).
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
) -> Result<()> {
    wasi!(linker, get, "args_get", |c, m, argv: i32 => u32, buf: i32 => u32| c.args_get(m, argv, buf));
    wasi!(linker, get, "args_sizes_get", |c, m, n: i32 => u32, size: i32 => u32| c.args_sizes_get(m, n, size));
    wasi!(linker, get, "environ_get", |c, m, env: i32 => u32, buf: i32 => u32| c.environ_get(m, env, buf));
    wasi!(linker, get, "environ_sizes_get", |c, m, n: i32 => u32, size: i32 => u32| c.environ_sizes_get(m, n, size));
    wasi!(linker, get, "clock_res_get", |c, m, id: i32 => u32, ret: i32 => u32| c.clock_res_get(m, id, ret));
    wasi!(linker, get, "clock_time_get", |c, m, id: i32 => u32, precision: i64 => u64, ret: i32 => u32| c.clock_time_get(m, id, precision, ret));
    wasi!(linker, get, "random_get", |c, m, buf: i32 => u32, len: i32 => u32| c.random_get(m, buf, len));
    wasi_no_mem!(linker, get, "fd_advise", |c, fd: i32 => u32, offset: i64 => u64, len: i64 => u64, advice: i32 => u8| c.fd_advise(fd, offset, len, advice));
    wasi_no_mem!(linker, get, "fd_allocate", |c, fd: i32 => u32, offset: i64 => u64, len: i64 => u64| c.fd_allocate(fd, offset, len));
    wasi_no_mem!(linker, get, "fd_close", |c, fd: i32 => u32| c.fd_close(fd));
    wasi_no_mem!(linker, get, "fd_datasync", |c, fd: i32 => u32| c.fd_datasync(fd));
    wasi!(linker, get, "fd_fdstat_get", |c, m, fd: i32 => u32, ret: i32 => u32| c.fd_fdstat_get(m, fd, ret));
    wasi_no_mem!(linker, get, "fd_fdstat_set_flags", |c, fd: i32 => u32, flags: i32 => u16| c.fd_fdstat_set_flags(fd, flags));
    wasi_no_mem!(linker, get, "fd_fdstat_set_rights", |c, fd: i32 => u32, base: i64 => u64, inheriting: i64 => u64| c.fd_fdstat_set_rights(fd, base, inheriting));
    wasi!(linker, get, "fd_filestat_get", |c, m, fd: i32 => u32, ret: i32 => u32| c.fd_filestat_get(m, fd, ret));
    wasi_no_mem!(linker, get, "fd_filestat_set_size", |c, fd: i32 => u32, size: i64 => u64| c.fd_filestat_set_size(fd, size));
    wasi_no_mem!(linker, get, "fd_filestat_set_times", |c, fd: i32 => u32, atim: i64 => u64, mtim: i64 => u64, flags: i32 => u16| c.fd_filestat_set_times(fd, atim, mtim, flags));
    wasi!(linker, get, "fd_pread", |c, m, fd: i32 => u32, iovs: i32 => u32, n: i32 => u32, offset: i64 => u64, ret: i32 => u32| c.fd_pread(m, fd, iovs, n, offset, ret));
    wasi!(linker, get, "fd_prestat_get", |c, m, fd: i32 => u32, ret: i32 => u32| c.fd_prestat_get(m, fd, ret));
    wasi!(linker, get, "fd_prestat_dir_name", |c, m, fd: i32 => u32, buf: i32 => u32, len: i32 => u32| c.fd_prestat_dir_name(m, fd, buf, len));
    wasi!(linker, get, "fd_pwrite", |c, m, fd: i32 => u32, iovs: i32 => u32, n: i32 => u32, offset: i64 => u64, ret: i32 => u32| c.fd_pwrite(m, fd, iovs, n, offset, ret));
    wasi!(linker, get, "fd_read", |c, m, fd: i32 => u32, iovs: i32 => u32, n: i32 => u32, ret: i32 => u32| c.fd_read(m, fd, iovs, n, ret));
    wasi!(linker, get, "fd_readdir", |c, m, fd: i32 => u32, buf: i32 => u32, len: i32 => u32, cookie: i64 => u64, ret: i32 => u32| c.fd_readdir(m, fd, buf, len, cookie, ret));
    wasi_no_mem!(linker, get, "fd_renumber", |c, from: i32 => u32, to: i32 => u32| c.fd_renumber(from, to));
    wasi!(linker, get, "fd_seek", |c, m, fd: i32 => u32, offset: i64 => i64, whence: i32 => u8, ret: i32 => u32| c.fd_seek(m, fd, offset, whence, ret));
    wasi_no_mem!(linker, get, "fd_sync", |c, fd: i32 => u32| c.fd_sync(fd));
    wasi!(linker, get, "fd_tell", |c, m, fd: i32 => u32, ret: i32 => u32| c.fd_tell(m, fd, ret));
    wasi!(linker, get, "fd_write", |c, m, fd: i32 => u32, iovs: i32 => u32, n: i32 => u32, ret: i32 => u32| c.fd_write(m, fd, iovs, n, ret));
    wasi!(linker, get, "path_create_directory", |c, m, fd: i32 => u32, path: i32 => u32, len: i32 => u32| c.path_create_directory(m, fd, path, len));
    wasi!(linker, get, "path_filestat_get", |c, m, fd: i32 => u32, flags: i32 => u32, path: i32 => u32, len: i32 => u32, ret: i32 => u32| c.path_filestat_get(m, fd, flags, path, len, ret));
    wasi!(linker, get, "path_filestat_set_times", |c, m, fd: i32 => u32, flags: i32 => u32, path: i32 => u32, len: i32 => u32, atim: i64 => u64, mtim: i64 => u64, fst: i32 => u16| c.path_filestat_set_times(m, fd, flags, path, len, atim, mtim, fst));
    wasi!(linker, get, "path_link", |c, m, old_fd: i32 => u32, old_flags: i32 => u32, old: i32 => u32, old_len: i32 => u32, new_fd: i32 => u32, new: i32 => u32, new_len: i32 => u32| c.path_link(m, old_fd, old_flags, old, old_len, new_fd, new, new_len));
    wasi!(linker, get, "path_open", |c, m, fd: i32 => u32, dirflags: i32 => u32, path: i32 => u32, len: i32 => u32, oflags: i32 => u16, base: i64 => u64, inheriting: i64 => u64, fdflags: i32 => u16, ret: i32 => u32| c.path_open(m, fd, dirflags, path, len, oflags, base, inheriting, fdflags, ret));
    wasi!(linker, get, "path_readlink", |c, m, fd: i32 => u32, path: i32 => u32, len: i32 => u32, buf: i32 => u32, buf_len: i32 => u32, ret: i32 => u32| c.path_readlink(m, fd, path, len, buf, buf_len, ret));
    wasi!(linker, get, "path_remove_directory", |c, m, fd: i32 => u32, path: i32 => u32, len: i32 => u32| c.path_remove_directory(m, fd, path, len));
    wasi!(linker, get, "path_rename", |c, m, fd: i32 => u32, old: i32 => u32, old_len: i32 => u32, new_fd: i32 => u32, new: i32 => u32, new_len: i32 => u32| c.path_rename(m, fd, old, old_len, new_fd, new, new_len));
    wasi!(linker, get, "path_symlink", |c, m, old: i32 => u32, old_len: i32 => u32, fd: i32 => u32, new: i32 => u32, new_len: i32 => u32| c.path_symlink(m, old, old_len, fd, new, new_len));
    wasi!(linker, get, "path_unlink_file", |c, m, fd: i32 => u32, path: i32 => u32, len: i32 => u32| c.path_unlink_file(m, fd, path, len));
    linker.func_wrap(
        MODULE,
        "poll_oneoff",
        move |mut caller: Caller<'_, T>, subs: i32, events: i32, n: i32, ret: i32| {
            let interrupts = caller.store.inner.interrupts.clone();
            let mut interrupted = false;
            let errno = with_memory(&mut caller, get, "poll_oneoff", |c, m| {
                match c.poll_oneoff(
                    m,
                    subs as u32,
                    events as u32,
                    n as u32,
                    ret as u32,
                    &interrupts,
                ) {
                    Ok(()) => Ok(()),
                    Err(PollError::Errno(e)) => Err(e),
                    Err(PollError::Interrupted) => {
                        interrupted = true;
                        Ok(())
                    }
                }
            })?;
            if interrupted {
                return Err(Trap::new(TrapCode::Interrupted));
            }
            Ok(errno)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Caller<'_, T>, code: i32| -> Result<(), Trap> { Err(Trap::host(I32Exit(code))) },
    )?;
    linker.func_wrap(
        MODULE,
        "proc_raise",
        |_: Caller<'_, T>, _signal: i32| -> i32 { i32::from(Errno::Nosys as u16) },
    )?;
    linker.func_wrap(MODULE, "sched_yield", |_: Caller<'_, T>| -> i32 {
        std::thread::yield_now();
        0
    })?;
    wasi_no_mem!(linker, get, "sock_accept", |c, fd: i32 => u32, _flags: i32 => u16, _ret: i32 => u32| c.sock(fd));
    wasi_no_mem!(linker, get, "sock_recv", |c, fd: i32 => u32, _iovs: i32 => u32, _n: i32 => u32, _flags: i32 => u16, _ret: i32 => u32, _ret_flags: i32 => u32| c.sock(fd));
    wasi_no_mem!(linker, get, "sock_send", |c, fd: i32 => u32, _iovs: i32 => u32, _n: i32 => u32, _flags: i32 => u16, _ret: i32 => u32| c.sock(fd));
    wasi_no_mem!(linker, get, "sock_shutdown", |c, fd: i32 => u32, _how: i32 => u8| c.sock(fd));
    Ok(())
}
