//! `poll_oneoff`: wait for clock timeouts and descriptor readiness.
//!
//! Files, directories and in-memory streams are always ready (reads and writes on them
//! never block), so a subscription on one completes at once. Streams shared with the
//! host (an inherited stdin, stdout or stderr) are polled with `poll(2)`. Clock
//! subscriptions sleep until the earliest deadline when nothing else is ready.

use super::abi::{
    EVENT_FD_READWRITE_HANGUP, Errno, SUBSCRIPTION_CLOCK_ABSTIME, clock, event, eventtype, rights,
    subscription,
};
use super::ctx::{Handle, Input, Output, WasiCtx};
use super::mem::GuestMemory;
use super::ops::now;
use super::sys;
use std::io::Seek;
use std::os::fd::{AsFd, BorrowedFd};

use std::time::{Duration, Instant};

/// Longest wait between two looks at the interrupt flag.
pub(crate) const WAIT_SLICE: Duration = Duration::from_millis(10);

/// Why `poll_oneoff` did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollError {
    /// A WASI error for the guest.
    Errno(Errno),
    /// The store's interrupt was requested while waiting: the call must trap.
    Interrupted,
}

impl From<Errno> for PollError {
    fn from(e: Errno) -> PollError {
        PollError::Errno(e)
    }
}

/// One event to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    hangup: bool,
}

impl Event {
    fn new(userdata: u64, kind: u8) -> Event {
        Event {
            userdata,
            error: Errno::Success,
            kind,
            nbytes: 0,
            hangup: false,
        }
    }

    fn failed(userdata: u64, kind: u8, error: Errno) -> Event {
        Event {
            error,
            ..Event::new(userdata, kind)
        }
    }

    fn bytes(&self) -> [u8; event::SIZE as usize] {
        let mut b = [0u8; event::SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&(self.error as u16).to_le_bytes());
        b[event::TYPE as usize] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        let flags = if self.hangup {
            EVENT_FD_READWRITE_HANGUP
        } else {
            0
        };
        b[24..26].copy_from_slice(&flags.to_le_bytes());
        b
    }
}

/// A subscription that has to wait for the host.
struct HostWait {
    userdata: u64,
    kind: u8,
    fd: u32,
}

/// Bytes left to read in a file (its size minus its position).
fn file_remaining(f: &std::fs::File) -> u64 {
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let pos = (&*f).stream_position().unwrap_or(size);
    size.saturating_sub(pos)
}

impl WasiCtx {
    /// What an fd subscription reports without waiting: `Ok(Some(event))` if ready now,
    /// `Ok(None)` if the host must be asked.
    fn fd_readiness(&self, userdata: u64, kind: u8, fd: u32) -> Option<Event> {
        let entry = match self.table.get(fd) {
            Ok(e) => e,
            Err(e) => return Some(Event::failed(userdata, kind, e)),
        };
        let needed = if kind == eventtype::FD_READ {
            rights::FD_READ
        } else {
            rights::FD_WRITE
        };
        if entry.base & needed == 0 {
            return Some(Event::failed(userdata, kind, Errno::Badf));
        }
        let mut ev = Event::new(userdata, kind);
        match &entry.handle {
            Handle::Stdin(Input::Host(_)) | Handle::Output(Output::Host(_)) => return None,
            Handle::File(f) if kind == eventtype::FD_READ => ev.nbytes = file_remaining(f),
            Handle::Stdin(Input::Bytes { data, pos }) => {
                ev.nbytes = data.len().saturating_sub(*pos) as u64;
                ev.hangup = ev.nbytes == 0;
            }
            Handle::Stdin(Input::Empty) => ev.hangup = true,
            _ => {}
        }
        Some(ev)
    }

    pub(crate) fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs: u32,
        events: u32,
        count: u32,
        ret: u32,
        interrupt: &crate::runtime::vmctx::VMInterrupts,
    ) -> Result<(), PollError> {
        if count == 0 {
            return Err(Errno::Inval.into());
        }
        let out_len = count.checked_mul(event::SIZE).ok_or(Errno::Fault)?;
        mem.slice(events, out_len)?;
        let start = Instant::now();
        let mut ready: Vec<Event> = Vec::new();
        // (userdata, deadline); `None` is a deadline too far away to represent.
        let mut clocks: Vec<(u64, Option<Instant>)> = Vec::new();
        let mut waits: Vec<HostWait> = Vec::new();
        for i in 0..count {
            let at = i
                .checked_mul(subscription::SIZE)
                .and_then(|o| subs.checked_add(o))
                .ok_or(Errno::Fault)?;
            let userdata = mem.read_u64(at + subscription::USERDATA)?;
            let tag = mem.read_u8(at.checked_add(subscription::TAG).ok_or(Errno::Fault)?)?;
            let field = |off: u32| at.checked_add(off).ok_or(Errno::Fault);
            match tag {
                eventtype::CLOCK => {
                    let id = mem.read_u32(field(subscription::CLOCK_ID)?)?;
                    let timeout = mem.read_u64(field(subscription::CLOCK_TIMEOUT)?)?;
                    let flags = mem.read_u16(field(subscription::CLOCK_FLAGS)?)?;
                    if id != clock::REALTIME && id != clock::MONOTONIC {
                        ready.push(Event::failed(userdata, tag, Errno::Inval));
                        continue;
                    }
                    let wait = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                        timeout.saturating_sub(now(id)?)
                    } else {
                        timeout
                    };
                    clocks.push((userdata, start.checked_add(Duration::from_nanos(wait))));
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = mem.read_u32(field(subscription::FD)?)?;
                    match self.fd_readiness(userdata, tag, fd) {
                        Some(ev) => ready.push(ev),
                        None => waits.push(HostWait {
                            userdata,
                            kind: tag,
                            fd,
                        }),
                    }
                }
                _ => return Err(Errno::Inval.into()),
            }
        }

        let expired = |clocks: &[(u64, Option<Instant>)], out: &mut Vec<Event>| {
            let now = Instant::now();
            for &(userdata, deadline) in clocks {
                if deadline.is_some_and(|d| d <= now) {
                    out.push(Event::new(userdata, eventtype::CLOCK));
                }
            }
        };
        expired(&clocks, &mut ready);
        let deadline = clocks.iter().filter_map(|c| c.1).min();
        while ready.is_empty() {
            // Take the request, as the interpreter does when it traps.
            if interrupt.take() {
                return Err(PollError::Interrupted);
            }
            let now = Instant::now();
            let slice = match deadline {
                Some(d) if d <= now => Duration::ZERO,
                Some(d) => (d - now).min(WAIT_SLICE),
                // Only clocks too far away to represent: wait until interrupted.
                None => WAIT_SLICE,
            };
            if waits.is_empty() {
                std::thread::sleep(slice);
            } else {
                ready.extend(self.wait_host(&waits, Some(slice))?);
            }
            expired(&clocks, &mut ready);
        }
        for (i, ev) in ready.iter().enumerate() {
            mem.write(events + i as u32 * event::SIZE, &ev.bytes())?;
        }
        Ok(mem.write_u32(ret, ready.len() as u32)?)
    }

    /// Polls the host streams among the subscriptions.
    fn wait_host(
        &self,
        waits: &[HostWait],
        timeout: Option<Duration>,
    ) -> Result<Vec<Event>, Errno> {
        let mut interests = Vec::with_capacity(waits.len());
        for w in waits {
            let fd: BorrowedFd<'_> = match &self.table.get(w.fd)?.handle {
                Handle::Stdin(Input::Host(f)) | Handle::Output(Output::Host(f)) => f.as_fd(),
                _ => return Err(Errno::Badf),
            };
            interests.push(sys::Interest {
                fd,
                read: w.kind == eventtype::FD_READ,
                write: w.kind == eventtype::FD_WRITE,
            });
        }
        let states = sys::poll(&interests, timeout).map_err(|e| Errno::from_io(&e))?;
        let mut out = Vec::new();
        for (w, s) in waits.iter().zip(states) {
            if s.error {
                out.push(Event::failed(w.userdata, w.kind, Errno::Io));
            } else if s.readable || s.writable || s.hangup {
                let mut ev = Event::new(w.userdata, w.kind);
                ev.hangup = s.hangup;
                out.push(ev);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_layout_matches_the_abi() {
        let ev = Event {
            userdata: 0x0102_0304_0506_0708,
            error: Errno::Badf,
            kind: eventtype::FD_WRITE,
            nbytes: 77,
            hangup: true,
        };
        let b = ev.bytes();
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), ev.userdata);
        assert_eq!(u16::from_le_bytes([b[8], b[9]]), Errno::Badf as u16);
        assert_eq!(b[10], eventtype::FD_WRITE);
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 77);
        assert_eq!(
            u16::from_le_bytes([b[24], b[25]]),
            EVENT_FD_READWRITE_HANGUP
        );
    }
}
