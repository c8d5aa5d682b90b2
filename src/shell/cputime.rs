//! CPU time used by this process, for `.timer`.

use std::time::Duration;

/// User and system CPU time consumed by this process so far, if the OS says.
#[cfg(unix)]
pub fn cpu_times() -> Option<(Duration, Duration)> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`, which is all
    // getrusage writes to; RUSAGE_SELF is a valid `who`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage succeeded and filled the struct (it was zeroed before, and
    // all-zero bytes are a valid `rusage` anyway: plain integers).
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Some((time(usage.ru_utime), time(usage.ru_stime)))
}

/// User and system CPU time: not measured on this platform.
#[cfg(not(unix))]
pub fn cpu_times() -> Option<(Duration, Duration)> {
    None
}
