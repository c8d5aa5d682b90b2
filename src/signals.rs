//! Ctrl-C (SIGINT) for the `sandlite` binary: the shell and `sandlite run` interrupt
//! the running statement or guest instead of dying, as `sqlite3` does.
//!
//! The handler only counts the signal and calls the action set with [`set_action`]
//! (which must do nothing but atomic stores: an interrupt handle's `interrupt`). It is
//! installed without `SA_RESTART`, so a blocking read of standard input returns
//! `ErrorKind::Interrupted` and the reader can tell that Ctrl-C was pressed at an idle
//! prompt. If the work in progress ignores the interrupt, a third Ctrl-C while it runs
//! ends the process at once with status [`FORCED_EXIT_STATUS`].

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Exit status when repeated Ctrl-C ends the process at once (128 + SIGINT, as a shell
/// reports a process killed by SIGINT).
pub const FORCED_EXIT_STATUS: i32 = 130;

/// Ctrl-C presses, while one piece of work runs, that end the process at once.
const FORCE_AFTER: usize = 3;

/// SIGINTs received since the last [`take`].
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Work that Ctrl-C should interrupt is running (see [`busy`]).
static BUSY: AtomicBool = AtomicBool::new(false);
/// The handler is installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// What a SIGINT does besides being counted: interrupts the current work.
static ACTION: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// The signal [`interrupt_thread`] sends: its handler does nothing, it only makes a
/// blocking system call in that thread return `EINTR`. SIGURG, because its default
/// action is to ignore it (so a stray one harms nothing), as Go's runtime does.
const WAKE_SIGNAL: libc::c_int = libc::SIGURG;

extern "C" fn on_wake(_signal: libc::c_int) {}

extern "C" fn on_sigint(_signal: libc::c_int) {
    // Only atomics and the action (itself atomic stores): async-signal-safe.
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(action) = ACTION.get() {
        action();
    }
    if n >= FORCE_AFTER && BUSY.load(Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe and takes any status.
        unsafe { libc::_exit(FORCED_EXIT_STATUS) };
    }
}

/// Installs the SIGINT handler (once; later calls do nothing), and the wake-up handler
/// [`interrupt_thread`] needs. A SIGINT that was ignored when the process started (a
/// job run in the background with `&`) stays ignored, as POSIX asks of interactive
/// programs.
///
/// # Errors
/// If `sigaction` fails.
pub fn install() -> io::Result<()> {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let result = set_handler(WAKE_SIGNAL, on_wake).and_then(|_| {
        let old = set_handler(libc::SIGINT, on_sigint)?;
        if old.sa_sigaction == libc::SIG_IGN {
            // SAFETY: `old` is the action sigaction returned; this puts it back.
            unsafe { libc::sigaction(libc::SIGINT, &old, std::ptr::null_mut()) };
        }
        Ok(())
    });
    if result.is_err() {
        INSTALLED.store(false, Ordering::SeqCst);
    }
    result
}

/// Sets `handler` for `signal` without `SA_RESTART` (a blocked read returns `EINTR`);
/// returns the previous action.
fn set_handler(
    signal: libc::c_int,
    handler: extern "C" fn(libc::c_int),
) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value (no handler, empty mask, no
    // flags); the fields that matter are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = 0;
    // SAFETY: as above, for the previous action sigaction writes back.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `action.sa_mask` is a valid sigset_t we own; sigemptyset only writes it.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: both pointers are to valid `sigaction` values we own; the handlers only
    // perform async-signal-safe operations.
    if unsafe { libc::sigaction(signal, &action, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// True once [`install`] has put the handler in place.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::SeqCst)
}

/// Sets what a SIGINT does besides being counted (once per process; later calls are
/// ignored and return `false`). `action` runs inside the signal handler: it must only
/// store to atomics, as `InterruptHandle::interrupt` does.
pub fn set_action(action: impl Fn() + Send + Sync + 'static) -> bool {
    ACTION.set(Box::new(action)).is_ok()
}

/// Counts a Ctrl-C that arrived as a key rather than as SIGINT: a line editor reads
/// the terminal with signals off, and reports Ctrl-C itself.
pub fn count_key_interrupt() {
    COUNT.fetch_add(1, Ordering::SeqCst);
}

/// SIGINTs received since the last [`take`].
pub fn pending() -> usize {
    COUNT.load(Ordering::SeqCst)
}

/// Returns and clears the count of SIGINTs received.
pub fn take() -> usize {
    COUNT.swap(0, Ordering::SeqCst)
}

/// Marks work that Ctrl-C interrupts as running until the guard is dropped (a third
/// Ctrl-C during it ends the process).
pub fn busy() -> BusyGuard {
    BUSY.store(true, Ordering::SeqCst);
    BusyGuard(())
}

/// See [`busy`].
pub struct BusyGuard(());

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::SeqCst);
    }
}

/// Wakes `thread` from a blocking system call (which returns `EINTR`), once
/// [`install`] has set up the wake-up signal's handler; does nothing otherwise.
pub fn interrupt_thread(thread: ThreadHandle) {
    if installed() {
        // SAFETY: `thread` is a live thread of this process (the caller guarantees it
        // outlives this call) and the wake-up signal has a handler that does nothing.
        unsafe { libc::pthread_kill(thread.0, WAKE_SIGNAL) };
    }
}

/// A thread to wake with [`interrupt_thread`] (a `pthread_t`, which is a pointer on musl).
#[derive(Clone, Copy)]
pub struct ThreadHandle(libc::pthread_t);

// SAFETY: a `pthread_t` is an opaque identifier; another thread may hold it and pass it
// to `pthread_kill` (what `interrupt_thread` does) as long as the thread is alive.
unsafe impl Send for ThreadHandle {}

/// The calling thread, for [`interrupt_thread`].
pub fn current_thread() -> ThreadHandle {
    // SAFETY: pthread_self has no preconditions.
    ThreadHandle(unsafe { libc::pthread_self() })
}
