//! Hardware faults in compiled code become Wasm traps.
//!
//! A load or store past a memory's accessible size faults in its guard region
//! (SIGSEGV); a trap site (`ud2`) raises SIGILL. One process-wide handler, installed
//! with `SA_SIGINFO | SA_ONSTACK | SA_NODEFER` on a per-thread alternate stack, decides:
//! a fault is a trap only when the thread is inside a native call (an [`EntryRecord`]
//! is current), its PC lies in the code of a module of that call's store, the module's
//! trap table lists that PC, and — for memory faults — the faulting address lies in the
//! memory's guard region (a SIGBUS on a file mapped into the accessible part, such as
//! SQLite's WAL index, is not a Wasm trap). The handler then records the trap in the
//! entry record and rewrites the saved context so the thread resumes in the module's
//! trap-return code with the stack pointer the entry trampoline recorded: every Wasm
//! frame is discarded at once, no `setjmp`/`longjmp`. Every other fault goes to the
//! handler installed before ours (or the default action), so a real bug still crashes
//! loudly, and a program's own handlers keep working.
//!
//! Entry records form a per-thread list: a host function called from Wasm may call
//! Wasm again, and a trap there unwinds only to the innermost entry.

use super::NativeModule;
use super::x64::inst::TrapKind;
use crate::error::{Error, TrapCode};
use crate::runtime::memory::RESERVATION;
use crate::runtime::vmctx::{VMMemory, VMOffsets};
use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

/// One native call in progress on this thread. `saved_rsp` is written by the entry
/// trampoline; the rest by the runtime and the signal handler.
#[repr(C)]
pub(crate) struct EntryRecord {
    /// Stack pointer to resume a trapped call with (offset 0: the trampoline writes it).
    pub saved_rsp: usize,
    /// The module's trap-return code.
    pub resume_pc: usize,
    /// Set by the handler: the trap, and the PC to name the function by.
    pub trap: Option<(TrapKind, usize)>,
    /// The native modules of the call's store.
    pub modules: *const Vec<*const NativeModule>,
    pub prev: *const EntryRecord,
}

thread_local! {
    /// The innermost native call of this thread (null when none).
    static CURRENT: Cell<*const EntryRecord> = const { Cell::new(std::ptr::null()) };
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

/// Makes `record` the innermost entry; returns the previous one.
pub(crate) fn push_entry(record: *const EntryRecord) -> *const EntryRecord {
    CURRENT.with(|c| c.replace(record))
}

pub(crate) fn pop_entry(prev: *const EntryRecord) {
    CURRENT.with(|c| c.set(prev));
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers in place before ours, by index in `SIGNALS`.
struct Previous([libc::sigaction; 4]);

// SAFETY: the saved actions are plain data (function addresses, masks, flags), written
// once before any handler can read them and never changed.
unsafe impl Sync for Previous {}
// SAFETY: as above.
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Result<Previous, String>> = OnceLock::new();

/// Installs the handler (once per process) and this thread's alternate signal stack.
///
/// # Errors
/// If the OS refuses either.
pub(crate) fn init() -> Result<(), Error> {
    let installed = PREVIOUS.get_or_init(install);
    if let Err(e) = installed {
        return Err(Error::resource(format!(
            "cannot install signal handlers: {e}"
        )));
    }
    ensure_alt_stack()
}

fn install() -> Result<Previous, String> {
    // SAFETY: zeroed `sigaction` structs are valid (no handler, empty mask, no flags).
    let mut prev: [libc::sigaction; 4] = unsafe { std::mem::zeroed() };
    for (i, &sig) in SIGNALS.iter().enumerate() {
        // SAFETY: as above.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_sigaction = handler as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        // SAFETY: `act.sa_mask` is a valid sigset to initialize; `act` and `prev[i]` are
        // valid for reads and writes; the handler is an `extern "C"` function of the
        // SA_SIGINFO signature.
        let rc = unsafe {
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, &mut prev[i])
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
    }
    Ok(Previous(prev))
}

/// Size of the alternate signal stack we install (std's is a few KiB).
const ALT_STACK_SIZE: usize = 64 * 1024;

struct AltStack {
    map: *mut libc::c_void,
    len: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disabling the alternate stack first means no handler runs on the
        // memory we unmap; `map`/`len` are the mapping made in `ensure_alt_stack`.
        unsafe {
            let disable = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&disable, std::ptr::null_mut());
            libc::munmap(self.map, self.len);
        }
    }
}

fn ensure_alt_stack() -> Result<(), Error> {
    ALT_STACK.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_some() {
            return Ok(());
        }
        // SAFETY: querying the current alternate stack only writes `old`.
        let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
        // SAFETY: `old` is valid for writes.
        unsafe { libc::sigaltstack(std::ptr::null(), &mut old) };
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
            return Ok(());
        }
        let page = crate::runtime::sys::host_page_size();
        let len = ALT_STACK_SIZE + page;
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; the result is checked.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(Error::resource("cannot map an alternate signal stack"));
        }
        // SAFETY: the first page of our own mapping becomes a guard; the stack above it
        // is ours for the thread's lifetime (unmapped only after disabling it).
        let rc = unsafe {
            libc::mprotect(map, page, libc::PROT_NONE);
            let st = libc::stack_t {
                ss_sp: map.cast::<u8>().add(page).cast(),
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            libc::sigaltstack(&st, std::ptr::null_mut())
        };
        if rc != 0 {
            // SAFETY: our own mapping, not in use.
            unsafe { libc::munmap(map, len) };
            return Err(Error::resource("cannot install an alternate signal stack"));
        }
        *slot = Some(AltStack { map, len });
        Ok(())
    })
}

/// The handler for SIGSEGV, SIGBUS, SIGILL and SIGFPE.
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext for SA_SIGINFO handlers.
    if unsafe { trap_here(sig, info, ctx) } {
        return;
    }
    // SAFETY: forwarding the kernel's arguments to the previous handler.
    unsafe { chain(sig, info, ctx) };
}

/// Turns the fault into a trap if it is one; false otherwise.
///
/// # Safety
/// `info` and `ctx` must be the kernel's arguments to an SA_SIGINFO handler.
unsafe fn trap_here(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) -> bool {
    let record = CURRENT.with(|c| c.get()).cast_mut();
    if record.is_null() {
        return false;
    }
    // SAFETY: a non-null current record is a live `EntryRecord` on this thread's stack
    // (set by `push_entry` for the duration of the call); its module list belongs to
    // the store running the call and outlives it; `ctx` is the interrupted context.
    unsafe {
        let uc = ctx.cast::<libc::ucontext_t>();
        let gregs = &mut (*uc).uc_mcontext.gregs;
        let pc = gregs[libc::REG_RIP as usize] as usize;
        let modules = &*(*record).modules;
        let Some(m) = modules.iter().map(|m| &**m).find(|m| m.code.contains(pc)) else {
            return false;
        };
        let offset = (pc - m.code.base() as usize) as u32;
        let Some(kind) = m.trap_at(offset) else {
            return false;
        };
        match sig {
            libc::SIGSEGV | libc::SIGBUS => {
                if kind != TrapKind::Wasm(TrapCode::MemoryOutOfBounds) {
                    return false;
                }
                // Only a fault in memory 0's guard region is an out-of-bounds access.
                let addr = (*info).si_addr() as usize;
                let heap = gregs[libc::REG_R15 as usize] as usize;
                let vmctx = gregs[libc::REG_R14 as usize] as usize as *const u8;
                let mem = *vmctx
                    .add(VMOffsets::MEMORY0 as usize)
                    .cast::<*const VMMemory>();
                if mem.is_null() {
                    return false;
                }
                let len = (*mem).len as usize;
                if addr < heap.wrapping_add(len) || addr >= heap.wrapping_add(RESERVATION) {
                    return false;
                }
            }
            libc::SIGILL => {}
            _ => return false,
        }
        // Traps in the module's stubs (adapters, stack check) are named after the
        // function that called the stub: the return address of the stub's frame.
        let name_pc = if offset < m.stubs_end() {
            let rbp = gregs[libc::REG_RBP as usize] as usize as *const usize;
            *rbp.add(1)
        } else {
            pc
        };
        (*record).trap = Some((kind, name_pc));
        gregs[libc::REG_RSP as usize] = (*record).saved_rsp as i64;
        gregs[libc::REG_RIP as usize] = (*record).resume_pc as i64;
        true
    }
}

/// Passes a fault that is not a trap to whoever handled it before us.
///
/// # Safety
/// The kernel's handler arguments.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(Ok(prev)) = PREVIOUS.get() else {
        return;
    };
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    let action = &prev.0[i];
    // SAFETY: the previous action was valid for this signal; calling it with the
    // kernel's arguments is what the kernel would have done. For the default action (or
    // ignore, which cannot work for a fault), reinstalling it and returning re-executes
    // the faulting instruction under it.
    unsafe {
        if action.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(action.sa_sigaction);
            f(sig, info, ctx);
        } else if action.sa_sigaction == libc::SIG_DFL || action.sa_sigaction == libc::SIG_IGN {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action.sa_sigaction);
            f(sig);
        }
    }
}
