//! Randomness, time and sleep: the VFS methods that touch no file.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::codes::SQLITE_ERROR;
use crate::error::VfsError;
use crate::sys;

/// Milliseconds from the Julian-day epoch (noon UTC, 24 November 4714 BC, proleptic
/// Gregorian) to the Unix epoch: Julian day 2440587.5 × 86 400 000.
pub const UNIX_EPOCH_JULIAN_MS: i64 = 210_866_760_000_000;

/// Fill `buf` with random bytes from the operating system (`getrandom`).
pub(crate) fn randomness(buf: &mut [u8]) -> Result<(), VfsError> {
    sys::getrandom(buf).map_err(|e| VfsError::os(SQLITE_ERROR, "getrandom", &e))
}

/// The current time in milliseconds since the Julian epoch (`xCurrentTimeInt64`).
pub(crate) fn current_time_ms() -> i64 {
    let since_unix = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    UNIX_EPOCH_JULIAN_MS.saturating_add(since_unix)
}

/// Sleep for at least `duration`; returns how long the thread actually slept.
pub(crate) fn sleep(duration: Duration) -> Duration {
    let start = Instant::now();
    std::thread::sleep(duration);
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_epoch_constant_matches_sqlite() {
        // SQLite's unixCurrentTimeInt64 adds 24405875 * 8640000 to Unix milliseconds.
        assert_eq!(UNIX_EPOCH_JULIAN_MS, 24_405_875 * 8_640_000);
        let now = current_time_ms();
        // Julian day of 2020-01-01 is 2458849.5; later than that and before 2200.
        assert!(
            now > 2_458_849 * 86_400_000 && now < 2_524_594 * 86_400_000,
            "{now}"
        );
    }

    #[test]
    fn randomness_fills_the_buffer() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        randomness(&mut a).unwrap();
        randomness(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 64]);
    }

    #[test]
    fn sleep_reports_at_least_the_requested_time() {
        let slept = sleep(Duration::from_millis(5));
        assert!(slept >= Duration::from_millis(5), "{slept:?}");
    }
}
