//! Every host function `sqlite3.wasm` imports (`env.sl_*`), in one place.
//!
//! Each turns the guest's call into a call of the Rust VFS ([`sandlite_vfs`]) or of a
//! registered callback, and turns the outcome into the SQLite result code the C shim
//! expects. VFS failures are result codes (SQLite handles them); only a broken contract
//! (a bad pointer or file id from the guest) becomes a trap.

use crate::callbacks::{
    AggregateState, Callback, FunctionCall, TraceEvent, TraceQuery, UpdateAction,
};
use crate::exports::Exports;
use crate::ffi;
use crate::guest;
use sandlite_vfs::{
    AccessCheck, FileControlOutcome, LockLevel, OpenFlags, ShmLockFlags, SyncFlags,
};
use sandlite_vfs::{Vfs, VfsError, VfsFile, codes};
use sandlite_vm::{Caller, Linker, Memory, Result as VmResult, Trap};
use std::collections::{HashMap, HashSet};
use std::os::fd::AsFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

/// A file the guest has open, and the shared-memory regions mapped for it.
struct OpenFile {
    file: VfsFile,
    /// (guest address, length, file offset) of each mapping of the `-shm` file: one per
    /// region, or one per page shared by several regions where host pages are larger
    /// than regions.
    regions: Vec<(u32, u32, u64)>,
}

/// The host side of one SQLite instance.
pub(crate) struct HostState {
    pub vfs: Vfs,
    /// Further sandboxes the host granted (a backup destination's directory); a path
    /// goes to the one whose root contains it, else to `vfs`.
    pub extra_vfs: Vec<Vfs>,
    files: Vec<Option<OpenFile>>,
    pub memory: Option<Memory>,
    pub exports: Option<Arc<Exports>>,
    /// Table index of `sqlite3_free`, the destructor that hands buffers to SQLite.
    pub free_destructor: i32,
    /// The last VFS failure, to explain SQLite's terse messages (e.g. why a path was
    /// refused).
    pub last_vfs_error: Option<(i32, String)>,
    pub callbacks: HashMap<i32, Callback>,
    next_handle: i32,
    /// Callbacks destroyed while they were running (and so out of the map).
    destroyed_in_flight: HashSet<i32>,
    aggregates: HashMap<u32, AggregateState>,
    next_aggregate: u32,
    /// A nested call into the guest trapped inside a callback; the outer call must trap.
    pub nested_trap: Option<String>,
}

impl HostState {
    pub(crate) fn new(vfs: Vfs) -> HostState {
        HostState {
            vfs,
            extra_vfs: Vec::new(),
            files: Vec::new(),
            memory: None,
            exports: None,
            free_destructor: ffi::SQLITE_TRANSIENT,
            last_vfs_error: None,
            callbacks: HashMap::new(),
            next_handle: 1,
            destroyed_in_flight: HashSet::new(),
            aggregates: HashMap::new(),
            next_aggregate: 1,
            nested_trap: None,
        }
    }

    /// Registers a callback and returns its handle.
    pub(crate) fn add_callback(&mut self, cb: Callback) -> i32 {
        let h = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        self.callbacks.insert(h, cb);
        h
    }

    pub(crate) fn remove_callback(&mut self, handle: i32) {
        if self.callbacks.remove(&handle).is_none() {
            self.destroyed_in_flight.insert(handle);
        }
    }

    /// The VFS responsible for `path` (absolute paths may belong to a granted root).
    fn vfs_for(&self, path: &str) -> &Vfs {
        self.extra_vfs
            .iter()
            .find(|v| {
                v.root().is_some_and(|root| {
                    path.strip_prefix(root)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
            })
            .unwrap_or(&self.vfs)
    }

    fn record(&mut self, e: VfsError) -> i32 {
        let code = e.code();
        self.last_vfs_error = Some((code, e.message().to_owned()));
        code
    }

    fn add_file(&mut self, file: VfsFile) -> i32 {
        let entry = Some(OpenFile {
            file,
            regions: Vec::new(),
        });
        match self.files.iter().position(Option::is_none) {
            Some(i) => {
                self.files[i] = entry;
                i as i32
            }
            None => {
                self.files.push(entry);
                (self.files.len() - 1) as i32
            }
        }
    }

    fn file(&mut self, id: i32) -> Result<&mut OpenFile, Trap> {
        self.files
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| Trap::host_message(format!("guest used unknown file id {id}")))
    }
}

pub(crate) fn memory(caller: &Caller<'_, HostState>) -> Result<Memory, Trap> {
    caller
        .data()
        .memory
        .ok_or_else(|| Trap::host_message("guest memory not yet known"))
}

pub(crate) fn exports(caller: &Caller<'_, HostState>) -> Result<Arc<Exports>, Trap> {
    caller
        .data()
        .exports
        .clone()
        .ok_or_else(|| Trap::host_message("guest exports not yet known"))
}

/// Runs a VFS operation on file `id` with guest memory at hand.
fn with_file<R>(
    caller: &mut Caller<'_, HostState>,
    id: i32,
    f: impl FnOnce(&mut [u8], &mut VfsFile) -> Result<Result<R, VfsError>, Trap>,
) -> Result<Result<R, i32>, Trap> {
    let memory = memory(caller)?;
    let (mem, st) = memory.data_and_store_mut(caller);
    let file = &mut st.file(id)?.file;
    match f(mem, file)? {
        Ok(r) => Ok(Ok(r)),
        Err(e) => Ok(Err(st.record(e))),
    }
}

/// The result code of a VFS operation that returns nothing.
fn code(r: Result<(), i32>) -> i32 {
    r.err().unwrap_or(ffi::SQLITE_OK)
}

fn name_arg(mem: &[u8], ptr: i32) -> Result<String, Trap> {
    guest::lossy(guest::c_str(mem, ptr as u32)?)
}

/// Seconds east of UTC of local time at `unix_seconds`.
fn local_offset(unix_seconds: i64) -> Option<i32> {
    // The type is inferred from localtime_r (naming `libc::time_t` warns on musl); it is
    // i64 here but narrower on some targets, hence a conversion clippy sees as useless.
    #[allow(clippy::useless_conversion)]
    let t = unix_seconds.try_into().ok()?;
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: localtime_r only writes the `tm` we own, and reads `t`.
    let r = unsafe { libc::localtime_r(&t, tm.as_mut_ptr()) };
    if r.is_null() {
        return None;
    }
    // SAFETY: localtime_r succeeded, so it initialized `tm`.
    let tm = unsafe { tm.assume_init() };
    i32::try_from(tm.tm_gmtoff).ok()
}

/// Takes callback `handle` out of the map for the duration of `f` (so `f` may call back
/// into the guest, which may call other callbacks), then puts it back unless it was
/// destroyed meanwhile. A trap of a nested guest call makes this call trap.
pub(crate) fn with_callback<R>(
    caller: &mut Caller<'_, HostState>,
    handle: i32,
    f: impl FnOnce(&mut Caller<'_, HostState>, &mut Callback) -> Result<R, Trap>,
) -> Result<R, Trap> {
    let Some(mut cb) = caller.data_mut().callbacks.remove(&handle) else {
        return Err(Trap::host_message(format!(
            "callback {handle} called while already running or after removal"
        )));
    };
    let result = f(caller, &mut cb);
    let st = caller.data_mut();
    if !st.destroyed_in_flight.remove(&handle) {
        st.callbacks.insert(handle, cb);
    }
    if let Some(t) = st.nested_trap.take() {
        return Err(Trap::host_message(format!(
            "nested guest call trapped: {t}"
        )));
    }
    result
}

pub(crate) fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    format!("user code panicked: {what}")
}

/// Which step of a user function SQLite is calling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Call,
    Step,
    Inverse,
    Value,
    Final,
}

/// The `argc` value pointers at `argv` of a user-function call. The guest chose
/// `argc`: the array must lie inside its memory before the host allocates for it.
pub(crate) fn read_args(mem: &[u8], argc: i32, argv: i32) -> Result<Vec<i32>, Trap> {
    let argc = argc.max(0) as usize;
    let array = guest::bytes(mem, argv as u32, argc.saturating_mul(4))?;
    let mut args =
        crate::alloc::vec_with_capacity(argc).map_err(|e| Trap::host_message(e.to_string()))?;
    args.extend(
        array
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    );
    Ok(args)
}

/// Dispatches one call of a user function.
fn user_function(
    caller: &mut Caller<'_, HostState>,
    handle: i32,
    ctx: i32,
    argc: i32,
    argv: i32,
    phase: Phase,
) -> Result<(), Trap> {
    let memory = memory(caller)?;
    let exports = exports(caller)?;
    let args = read_args(memory.data(&*caller), argc, argv)?;
    with_callback(caller, handle, |caller, cb| {
        let mut call = FunctionCall {
            caller,
            exports: &exports,
            memory,
            ctx,
            args,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| run_function(cb, &mut call, phase)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(message),
            Err(panic) => Some(panic_message(panic)),
        };
        if let Some(message) = failure {
            // A trap here is noted in `nested_trap` and reported by `with_callback`.
            let _ = call.set_error(&message);
        }
        Ok(())
    })
}

fn run_function(
    cb: &mut Callback,
    call: &mut FunctionCall<'_, '_>,
    phase: Phase,
) -> Result<(), String> {
    match (cb, phase) {
        (Callback::Scalar(f), Phase::Call) => f.call(call),
        (Callback::Aggregate(f), Phase::Final) => {
            let state = take_aggregate(call).map_err(|e| e.to_string())?;
            f.finalize(state, call)
        }
        (Callback::Aggregate(f), _) => {
            let key = aggregate_key(call).map_err(|e| e.to_string())?;
            let Some(key) = key else {
                return Err("out of memory".into());
            };
            let mut state = match call.caller.data_mut().aggregates.remove(&key.1) {
                Some(s) => s,
                None => f.init(),
            };
            let r = match phase {
                Phase::Step => f.step(&mut state, call),
                Phase::Inverse => f.inverse(&mut state, call),
                _ => f.value(&mut state, call),
            };
            call.caller.data_mut().aggregates.insert(key.1, state);
            r
        }
        _ => Err("function called with the wrong kind of callback".into()),
    }
}

/// The (guest address, host id) of this group's aggregate state, creating the id.
fn aggregate_key(call: &mut FunctionCall<'_, '_>) -> crate::Result<Option<(u32, u32)>> {
    let r = call
        .exports
        .sqlite3_aggregate_context
        .call(&mut *call.caller, (call.ctx, 8));
    let ptr = r.map_err(crate::Error::from)? as u32;
    if ptr == 0 {
        return Ok(None);
    }
    let memory = call.memory;
    let (mem, st) = memory.data_and_store_mut(call.caller);
    let id = guest::read_i32(mem, ptr).map_err(crate::Error::Trap)? as u32;
    if id != 0 {
        return Ok(Some((ptr, id)));
    }
    let id = st.next_aggregate;
    st.next_aggregate = st.next_aggregate.wrapping_add(1).max(1);
    guest::write_i32(mem, ptr, id as i32).map_err(crate::Error::Trap)?;
    Ok(Some((ptr, id)))
}

/// This group's state, removed (at `xFinal`); `None` if no row was stepped.
fn take_aggregate(call: &mut FunctionCall<'_, '_>) -> crate::Result<Option<AggregateState>> {
    let r = call
        .exports
        .sqlite3_aggregate_context
        .call(&mut *call.caller, (call.ctx, 0));
    let ptr = r.map_err(crate::Error::from)? as u32;
    if ptr == 0 {
        return Ok(None);
    }
    let memory = call.memory;
    let (mem, st) = memory.data_and_store_mut(call.caller);
    let id = guest::read_i32(mem, ptr).map_err(crate::Error::Trap)? as u32;
    Ok(st.aggregates.remove(&id))
}

/// Runs a hook or handler callback, which must not call back into the guest. A panic
/// counts as `default`.
fn hook<R>(
    caller: &mut Caller<'_, HostState>,
    handle: i32,
    default: R,
    f: impl FnOnce(&mut Callback) -> Option<R>,
) -> R {
    let Some(cb) = caller.data_mut().callbacks.get_mut(&handle) else {
        return default;
    };
    catch_unwind(AssertUnwindSafe(|| f(cb)))
        .ok()
        .flatten()
        .unwrap_or(default)
}

/// [`TraceQuery`] inside a trace callback: each question is a call into the guest. A
/// trap there is noted in `nested_trap` (the outer call then traps) and answered as
/// "nothing".
struct GuestTraceQuery<'a, 'c> {
    caller: std::cell::RefCell<&'a mut Caller<'c, HostState>>,
    exports: &'a Exports,
    memory: Memory,
    /// The connection, for a `Close` event (else 0).
    db: i32,
}

impl GuestTraceQuery<'_, '_> {
    fn call(
        &self,
        f: impl FnOnce(&Exports, &mut Caller<'_, HostState>) -> VmResult<i32>,
    ) -> Option<i32> {
        let mut caller = self.caller.borrow_mut();
        match f(self.exports, &mut caller) {
            Ok(v) => Some(v),
            Err(e) => {
                caller.data_mut().nested_trap.get_or_insert(e.to_string());
                None
            }
        }
    }

    fn string_at(&self, ptr: i32) -> Option<String> {
        let caller = self.caller.borrow();
        guest::opt_str(self.memory.data(&**caller), ptr as u32)
            .ok()
            .flatten()
    }
}

impl TraceQuery for GuestTraceQuery<'_, '_> {
    fn sql(&self, stmt: i32) -> Option<String> {
        let ptr = self.call(|e, c| e.sqlite3_sql.call(c, stmt))?;
        self.string_at(ptr)
    }

    fn expanded_sql(&self, stmt: i32) -> Option<String> {
        let ptr = self.call(|e, c| e.sqlite3_expanded_sql.call(c, stmt))?;
        let text = self.string_at(ptr);
        if ptr != 0 {
            self.call(|e, c| e.sqlite3_free.call(c, ptr).map(|()| 0));
        }
        text
    }

    fn stmt_status(&self, stmt: i32, op: i32) -> i32 {
        self.call(|e, c| e.sqlite3_stmt_status.call(c, (stmt, op, 0)))
            .unwrap_or(0)
    }

    fn autocommit(&self) -> bool {
        // The connection is known only for a `Close` event.
        self.db == 0 || self.call(|e, c| e.sqlite3_get_autocommit.call(c, self.db)) != Some(0)
    }
}

/// The linker with every import of `sqlite3.wasm`.
pub(crate) fn linker(engine: &sandlite_vm::Engine) -> VmResult<Linker<HostState>> {
    let mut l = Linker::new(engine);
    type C<'a> = Caller<'a, HostState>;

    l.func_wrap(
        "env",
        "sl_open",
        |mut c: C<'_>, name: i32, flags: i32, out_id: i32, out_flags: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let name = if name == 0 {
                None
            } else {
                Some(name_arg(mem, name)?)
            };
            let vfs = name.as_deref().map_or(&st.vfs, |n| st.vfs_for(n)).clone();
            match vfs.open(name.as_deref(), OpenFlags::from_bits_retain(flags)) {
                Ok(file) => {
                    let used = file.open_flags().bits();
                    let id = st.add_file(file);
                    guest::write_i32(mem, out_id as u32, id)?;
                    guest::write_i32(mem, out_flags as u32, used)?;
                    Ok(ffi::SQLITE_OK)
                }
                Err(e) => Ok(st.record(e)),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "sl_delete",
        |mut c: C<'_>, name: i32, sync_dir: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let name = name_arg(mem, name)?;
            let vfs = st.vfs_for(&name).clone();
            Ok(match vfs.delete(&name, sync_dir != 0) {
                Ok(()) => ffi::SQLITE_OK,
                Err(e) => st.record(e),
            })
        },
    )?;
    l.func_wrap(
        "env",
        "sl_access",
        |mut c: C<'_>, name: i32, flags: i32, out: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let name = name_arg(mem, name)?;
            let Some(check) = AccessCheck::from_raw(flags) else {
                return Ok(ffi::SQLITE_MISUSE);
            };
            let vfs = st.vfs_for(&name).clone();
            match vfs.access(&name, check) {
                Ok(yes) => {
                    guest::write_i32(mem, out as u32, i32::from(yes))?;
                    Ok(ffi::SQLITE_OK)
                }
                Err(e) => Ok(st.record(e)),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "sl_full_pathname",
        |mut c: C<'_>, name: i32, n_out: i32, out: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let name = name_arg(mem, name)?;
            let vfs = st.vfs_for(&name).clone();
            match vfs.full_pathname(&name) {
                Ok(full) => {
                    let bytes = full.path.as_bytes();
                    if bytes.len() + 1 > n_out.max(0) as usize {
                        st.last_vfs_error =
                            Some((ffi::SQLITE_CANTOPEN, format!("path too long: {name}")));
                        return Ok(ffi::SQLITE_CANTOPEN);
                    }
                    let dst = guest::bytes_mut(mem, out as u32, bytes.len() + 1)?;
                    dst[..bytes.len()].copy_from_slice(bytes);
                    dst[bytes.len()] = 0;
                    Ok(if full.followed_symlink {
                        ffi::SQLITE_OK_SYMLINK
                    } else {
                        ffi::SQLITE_OK
                    })
                }
                Err(e) => Ok(st.record(e)),
            }
        },
    )?;
    l.func_wrap(
        "env",
        "sl_randomness",
        |mut c: C<'_>, n: i32, out: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let buf = guest::bytes_mut(mem, out as u32, n.max(0) as usize)?;
            Ok(match st.vfs.randomness(buf) {
                Ok(()) => n,
                Err(_) => 0,
            })
        },
    )?;
    l.func_wrap("env", "sl_sleep", |c: C<'_>, micros: i32| -> i32 {
        let slept = c
            .data()
            .vfs
            .sleep(Duration::from_micros(micros.max(0) as u64));
        i32::try_from(slept.as_micros()).unwrap_or(i32::MAX)
    })?;
    l.func_wrap(
        "env",
        "sl_current_time_int64",
        |mut c: C<'_>, out: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let now = c.data().vfs.current_time_ms();
            guest::write_i64(memory.data_mut(&mut c), out as u32, now)?;
            Ok(ffi::SQLITE_OK)
        },
    )?;
    l.func_wrap(
        "env",
        "sl_get_last_error",
        |mut c: C<'_>, n: i32, buf: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let Some((code, message)) = st.last_vfs_error.clone() else {
                return Ok(0);
            };
            if n > 0 && buf != 0 {
                let text = message.as_bytes();
                let len = text.len().min(n as usize - 1);
                let dst = guest::bytes_mut(mem, buf as u32, len + 1)?;
                dst[..len].copy_from_slice(&text[..len]);
                dst[len] = 0;
            }
            Ok(code)
        },
    )?;
    l.func_wrap(
        "env",
        "sl_localtime_offset",
        |mut c: C<'_>, unix_seconds: i64, out: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            match local_offset(unix_seconds) {
                Some(offset) => {
                    guest::write_i32(memory.data_mut(&mut c), out as u32, offset)?;
                    Ok(0)
                }
                None => Ok(1),
            }
        },
    )?;

    // ---- files ----
    l.func_wrap(
        "env",
        "sl_close",
        |mut c: C<'_>, id: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let slot = c
                .data_mut()
                .files
                .get_mut(id as usize)
                .and_then(Option::take);
            let Some(open) = slot else {
                return Err(Trap::host_message(format!(
                    "guest closed unknown file id {id}"
                )));
            };
            for (addr, len, _) in &open.regions {
                let _ = memory.unmap_shared_file(&mut c, *addr as usize, *len as usize);
            }
            Ok(match open.file.close() {
                Ok(()) => ffi::SQLITE_OK,
                Err(e) => c.data_mut().record(e),
            })
        },
    )?;
    l.func_wrap(
        "env",
        "sl_read",
        |mut c: C<'_>, id: i32, buf: i32, len: i32, offset: i64| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |mem, f| {
                let out = guest::bytes_mut(mem, buf as u32, len.max(0) as usize)?;
                Ok(f.read(out, offset.max(0) as u64))
            })?;
            Ok(match r {
                Ok(outcome) => outcome.code(),
                Err(code) => code,
            })
        },
    )?;
    l.func_wrap(
        "env",
        "sl_write",
        |mut c: C<'_>, id: i32, buf: i32, len: i32, offset: i64| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |mem, f| {
                let data = guest::bytes(mem, buf as u32, len.max(0) as usize)?;
                Ok(f.write(data, offset.max(0) as u64))
            })?;
            Ok(code(r))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_truncate",
        |mut c: C<'_>, id: i32, size: i64| -> Result<i32, Trap> {
            Ok(code(with_file(&mut c, id, |_, f| {
                Ok(f.truncate(size.max(0) as u64))
            })?))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_sync",
        |mut c: C<'_>, id: i32, flags: i32| -> Result<i32, Trap> {
            Ok(code(with_file(&mut c, id, |_, f| {
                Ok(f.sync(SyncFlags::from_bits_retain(flags)))
            })?))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_file_size",
        |mut c: C<'_>, id: i32, out: i32| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |mem, f| {
                let size = f.file_size();
                if let Ok(size) = size {
                    guest::write_i64(mem, out as u32, size as i64)?;
                }
                Ok(size.map(|_| ()))
            })?;
            Ok(code(r))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_lock",
        |mut c: C<'_>, id: i32, level: i32| -> Result<i32, Trap> {
            let level = LockLevel::from_raw(level)
                .ok_or_else(|| Trap::host_message(format!("bad lock level {level}")))?;
            Ok(code(with_file(&mut c, id, |_, f| Ok(f.lock(level)))?))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_unlock",
        |mut c: C<'_>, id: i32, level: i32| -> Result<i32, Trap> {
            let level = LockLevel::from_raw(level)
                .ok_or_else(|| Trap::host_message(format!("bad lock level {level}")))?;
            Ok(code(with_file(&mut c, id, |_, f| Ok(f.unlock(level)))?))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_check_reserved_lock",
        |mut c: C<'_>, id: i32, out: i32| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |mem, f| {
                let held = f.check_reserved_lock();
                if let Ok(held) = held {
                    guest::write_i32(mem, out as u32, i32::from(held))?;
                }
                Ok(held.map(|_| ()))
            })?;
            Ok(code(r))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_file_control",
        |mut c: C<'_>, id: i32, op: i32, arg: i32| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |mem, f| {
                // The argument points at an `sqlite3_int64` for SIZE_HINT, an `int` otherwise.
                let wide = op == codes::SQLITE_FCNTL_SIZE_HINT;
                let value = match (arg, wide) {
                    (0, _) => 0,
                    (p, true) => guest::read_i64(mem, p as u32)?,
                    (p, false) => i64::from(guest::read_i32(mem, p as u32)?),
                };
                let outcome = f.file_control(op, value);
                if let (Ok(FileControlOutcome::Value(v)), true) = (&outcome, arg != 0) {
                    if wide {
                        guest::write_i64(mem, arg as u32, *v)?;
                    } else {
                        guest::write_i32(mem, arg as u32, *v as i32)?;
                    }
                }
                Ok(outcome)
            })?;
            Ok(match r {
                Ok(FileControlOutcome::NotFound) => ffi::SQLITE_NOTFOUND,
                Ok(_) => ffi::SQLITE_OK,
                Err(code) => code,
            })
        },
    )?;
    l.func_wrap(
        "env",
        "sl_sector_size",
        |mut c: C<'_>, id: i32| -> Result<i32, Trap> {
            Ok(c.data_mut().file(id)?.file.sector_size() as i32)
        },
    )?;
    l.func_wrap(
        "env",
        "sl_device_characteristics",
        |mut c: C<'_>, id: i32| -> Result<i32, Trap> {
            Ok(c.data_mut().file(id)?.file.device_characteristics())
        },
    )?;

    // ---- WAL shared memory ----
    l.func_wrap(
        "env",
        "sl_shm_page_size",
        |mut c: C<'_>| -> Result<i32, Trap> {
            // The shim allocates region blocks aligned to 64 KiB (the Wasm page), so only
            // pages of at most that size can be mapped over them whole.
            let limit = ffi::SANDLITE_SHM_ALIGNMENT;
            let page = sandlite_vfs::shm_page_size().and_then(|page| {
                u32::try_from(page)
                    .ok()
                    .filter(|&p| p <= limit)
                    .ok_or_else(|| {
                        VfsError::new(
                            codes::SQLITE_IOERR_SHMMAP,
                            format!("WAL needs host pages of at most {limit} bytes, not {page}"),
                        )
                    })
            });
            match page {
                Ok(page) => Ok(page as i32),
                Err(e) => {
                    // 0 makes the shim refuse every region with SQLITE_IOERR_SHMMAP.
                    c.data_mut().record(e);
                    Ok(0)
                }
            }
        },
    )?;
    l.func_wrap(
        "env",
        "sl_shm_map",
        |mut c: C<'_>,
         id: i32,
         region: i32,
         size: i32,
         extend: i32,
         addr: i32,
         out_mapped: i32|
         -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let st = c.data_mut();
            let open = st.file(id)?;
            let mapping = match open.file.shm_map(region as u32, size as u32, extend != 0) {
                Ok(None) => return Ok(ffi::SQLITE_OK),
                // A read-only mapping would make a stray guest write fault the whole
                // process instead of trapping; read-only WAL databases are not supported.
                Ok(Some(r)) if r.read_only => return Ok(ffi::SQLITE_READONLY_CANTINIT),
                Ok(Some(r)) => (r.fd, r.offset, r.len, r.start),
                Err(e) => return Ok(st.record(e)),
            };
            let (fd, offset, len, start) = mapping;
            // The region is at `addr`; the mapping holding it (its whole page, where pages
            // are larger than regions) starts `start` bytes before, page-aligned.
            let page = sandlite_vfs::shm_page_size().unwrap_or(u64::MAX);
            let start32 = u32::try_from(start).unwrap_or(u32::MAX);
            let base = (addr as u32).checked_sub(start32).filter(|&base| {
                u64::from(base).is_multiple_of(page)
                    && start
                        .checked_add(size as usize)
                        .is_some_and(|end| end <= len)
            });
            let Some(base) = base else {
                return Ok(ffi::SQLITE_IOERR_SHMMAP);
            };
            let mapping = (base, len as u32, offset);
            match open.regions.iter().find(|m| m.0 == base) {
                // A region whose page is already mapped (a neighbour's) needs nothing more.
                Some(m) if *m == mapping => {}
                // The guest reused an address for other bytes of the file.
                Some(_) => return Ok(ffi::SQLITE_IOERR_SHMMAP),
                None => {
                    let Ok(fd) = fd.try_clone_to_owned() else {
                        return Ok(ffi::SQLITE_IOERR_SHMMAP);
                    };
                    if memory
                        .map_shared_file(&mut c, base as usize, len, fd.as_fd(), offset)
                        .is_err()
                    {
                        return Ok(ffi::SQLITE_IOERR_SHMMAP);
                    }
                    c.data_mut().file(id)?.regions.push(mapping);
                }
            }
            guest::write_i32(memory.data_mut(&mut c), out_mapped as u32, 1)?;
            Ok(ffi::SQLITE_OK)
        },
    )?;
    l.func_wrap(
        "env",
        "sl_shm_lock",
        |mut c: C<'_>, id: i32, offset: i32, n: i32, flags: i32| -> Result<i32, Trap> {
            let r = with_file(&mut c, id, |_, f| {
                Ok(f.shm_lock(
                    offset as u32,
                    n as u32,
                    ShmLockFlags::from_bits_retain(flags),
                ))
            })?;
            Ok(code(r))
        },
    )?;
    l.func_wrap(
        "env",
        "sl_shm_barrier",
        |mut c: C<'_>, id: i32| -> Result<(), Trap> {
            c.data_mut().file(id)?.file.shm_barrier();
            Ok(())
        },
    )?;
    l.func_wrap(
        "env",
        "sl_shm_unmap",
        |mut c: C<'_>, id: i32, delete: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let regions = std::mem::take(&mut c.data_mut().file(id)?.regions);
            let mut rc = ffi::SQLITE_OK;
            for (addr, len, _) in regions {
                if memory
                    .unmap_shared_file(&mut c, addr as usize, len as usize)
                    .is_err()
                {
                    rc = ffi::SQLITE_IOERR_SHMMAP;
                }
            }
            c.data_mut().file(id)?.file.shm_unmap(delete != 0);
            Ok(rc)
        },
    )?;

    // ---- callbacks ----
    // User functions: one import per phase, all dispatched by `user_function`.
    for (name, phase) in [
        ("sl_func_call", Phase::Call),
        ("sl_func_step", Phase::Step),
        ("sl_func_inverse", Phase::Inverse),
    ] {
        l.func_wrap(
            "env",
            name,
            move |mut c: C<'_>, h: i32, ctx: i32, argc: i32, argv: i32| -> Result<(), Trap> {
                user_function(&mut c, h, ctx, argc, argv, phase)
            },
        )?;
    }
    for (name, phase) in [
        ("sl_func_final", Phase::Final),
        ("sl_func_value", Phase::Value),
    ] {
        l.func_wrap(
            "env",
            name,
            move |mut c: C<'_>, h: i32, ctx: i32| -> Result<(), Trap> {
                user_function(&mut c, h, ctx, 0, 0, phase)
            },
        )?;
    }
    l.func_wrap("env", "sl_func_destroy", |mut c: C<'_>, h: i32| {
        c.data_mut().remove_callback(h);
    })?;
    l.func_wrap(
        "env",
        "sl_collation_compare",
        |mut c: C<'_>, h: i32, n1: i32, p1: i32, n2: i32, p2: i32| -> Result<i32, Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let a = guest::bytes(mem, p1 as u32, n1.max(0) as usize)?;
            let b = guest::bytes(mem, p2 as u32, n2.max(0) as usize)?;
            let Some(Callback::Collation(f)) = st.callbacks.get_mut(&h) else {
                return Err(Trap::host_message(format!("unknown collation {h}")));
            };
            let ord = catch_unwind(AssertUnwindSafe(|| f(a, b)))
                .map_err(|_| Trap::host_message("collation panicked"))?;
            Ok(ord as i32)
        },
    )?;
    l.func_wrap("env", "sl_release", |mut c: C<'_>, h: i32| {
        c.data_mut().remove_callback(h);
    })?;
    // Virtual tables (see `vtab`): `env.sl_vtab_NAME(args..) -> i32` forwards to
    // `vtab::NAME(caller, args..)`, every argument an `i32` (a handle, id, count, flag or
    // guest pointer).
    macro_rules! vtab_imports {
        ($($name:ident($($arg:ident),*);)*) => {$(
            l.func_wrap(
                "env",
                concat!("sl_vtab_", stringify!($name)),
                |mut c: C<'_>, $($arg: i32),*| -> Result<i32, Trap> {
                    crate::vtab::$name(&mut c, $($arg),*)
                },
            )?;
        )*};
    }
    vtab_imports! {
        connect(module, db, create, argc, argv, out_table, out_message);
        best_index(table, info, out_message);
        disconnect(table, destroy, out_message);
        open(table, out_cursor, out_message);
        close(cursor);
        filter(cursor, idx_num, idx_str, argc, argv, out_message);
        next(cursor, out_message);
        eof(cursor);
        column(cursor, ctx, column);
        rowid(cursor, out_rowid, out_message);
        update(table, argc, argv, out_rowid, out_message);
        transaction(table, op, out_message);
    }
    l.func_wrap("env", "sl_collation_destroy", |mut c: C<'_>, h: i32| {
        c.data_mut().remove_callback(h);
    })?;
    l.func_wrap(
        "env",
        "sl_busy_handler",
        |mut c: C<'_>, h: i32, count: i32| -> i32 {
            hook(&mut c, h, 0, |cb| match cb {
                Callback::Busy(f) => Some(i32::from(f(count))),
                _ => None,
            })
        },
    )?;
    l.func_wrap(
        "env",
        "sl_progress_handler",
        |mut c: C<'_>, h: i32| -> i32 {
            hook(&mut c, h, 0, |cb| match cb {
                Callback::Progress(f) => Some(i32::from(f())),
                _ => None,
            })
        },
    )?;
    l.func_wrap("env", "sl_commit_hook", |mut c: C<'_>, h: i32| -> i32 {
        // A panicking commit hook turns the commit into a rollback.
        hook(&mut c, h, 1, |cb| match cb {
            Callback::Commit(f) => Some(i32::from(f())),
            _ => None,
        })
    })?;
    l.func_wrap("env", "sl_rollback_hook", |mut c: C<'_>, h: i32| {
        hook(&mut c, h, (), |cb| match cb {
            Callback::Rollback(f) => {
                f();
                Some(())
            }
            _ => None,
        })
    })?;
    l.func_wrap(
        "env",
        "sl_update_hook",
        |mut c: C<'_>, h: i32, op: i32, db: i32, table: i32, rowid: i64| -> Result<(), Trap> {
            let memory = memory(&c)?;
            let (mem, st) = memory.data_and_store_mut(&mut c);
            let db = guest::opt_str(mem, db as u32)?.unwrap_or_default();
            let table = guest::opt_str(mem, table as u32)?.unwrap_or_default();
            if let Some(Callback::Update(f)) = st.callbacks.get_mut(&h) {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    f(UpdateAction::from_code(op), &db, &table, rowid)
                }));
            }
            Ok(())
        },
    )?;
    // Not registered by this binding yet; allow everything if ever called.
    l.func_wrap(
        "env",
        "sl_authorizer",
        |_: C<'_>, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 { ffi::SQLITE_OK },
    )?;
    l.func_wrap(
        "env",
        "sl_trace",
        |mut c: C<'_>, h: i32, event: i32, p: i32, x: i32| -> Result<i32, Trap> {
            if !matches!(c.data().callbacks.get(&h), Some(Callback::Trace(_))) {
                return Ok(0);
            }
            let memory = memory(&c)?;
            let exports = exports(&c)?;
            let sql;
            let ev = match event {
                ffi::SQLITE_TRACE_STMT => {
                    sql = guest::opt_str(memory.data(&c), x as u32)?.unwrap_or_default();
                    TraceEvent::Stmt { stmt: p, sql: &sql }
                }
                ffi::SQLITE_TRACE_PROFILE => TraceEvent::Profile {
                    stmt: p,
                    nanos: guest::read_i64(memory.data(&c), x as u32)?,
                },
                ffi::SQLITE_TRACE_ROW => TraceEvent::Row { stmt: p },
                ffi::SQLITE_TRACE_CLOSE => TraceEvent::Close,
                _ => return Ok(0),
            };
            with_callback(&mut c, h, |caller, cb| {
                if let Callback::Trace(f) = cb {
                    let query = GuestTraceQuery {
                        caller: std::cell::RefCell::new(caller),
                        exports: &exports,
                        memory,
                        db: if event == ffi::SQLITE_TRACE_CLOSE {
                            p
                        } else {
                            0
                        },
                    };
                    let _ = catch_unwind(AssertUnwindSafe(|| f(ev, &query)));
                }
                Ok(0)
            })
        },
    )?;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arguments_are_bounds_checked_before_any_allocation() {
        let mut mem = vec![0u8; 64];
        mem[8..12].copy_from_slice(&7i32.to_le_bytes());
        mem[12..16].copy_from_slice(&(-2i32).to_le_bytes());
        assert_eq!(read_args(&mem, 2, 8).unwrap(), [7, -2]);
        assert_eq!(read_args(&mem, -5, 8).unwrap(), Vec::<i32>::new());
        // A guest claiming 2^31 - 1 arguments gets a trap, not an 8 GiB allocation.
        let trap = read_args(&mem, i32::MAX, 8).unwrap_err();
        assert!(trap.to_string().contains("out-of-bounds"), "{trap}");
        assert!(read_args(&mem, 1, 62).is_err());
    }
}
