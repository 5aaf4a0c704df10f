//! The minimum transfer rate: a body that brings fewer than [`MinRate::bytes`] within any
//! [`MinRate::window`] (sliding, measured from the first byte of the body on) fails with
//! [`FetchError::TooSlow`]. It is independent of the idle timeout, so a server that drips a byte
//! just often enough to keep a connection alive is still cut off one window after it started.
//! A quick start followed by a stall shorter than the window passes: the bytes of the start are
//! still in the window.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::FetchError;

/// The slowest transfer accepted: at least `bytes` body bytes in every `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    pub bytes: u64,
    pub window: Duration,
}

impl Default for MinRate {
    /// 1 KiB/s over 30 s.
    fn default() -> Self {
        MinRate {
            bytes: 30 * 1024,
            window: Duration::from_secs(30),
        }
    }
}

/// Bytes are counted in buckets of a sixteenth of the window (memory stays flat however small
/// the chunks); a bucket leaves the window when its *last* byte is older than the window, so
/// the count errs on the generous side, by at most one bucket.
const BUCKETS_PER_WINDOW: u32 = 16;

/// Measures one response body against a [`MinRate`].
pub(super) struct RateMeter {
    min: Option<MinRate>,
    start: Instant,
    /// `(first, last, bytes)` of each bucket, oldest first.
    buckets: VecDeque<(Instant, Instant, u64)>,
    in_window: u64,
}

impl RateMeter {
    /// A meter whose first window starts now (the response head has arrived).
    pub(super) fn start(min: Option<MinRate>) -> RateMeter {
        RateMeter {
            min,
            start: Instant::now(),
            buckets: VecDeque::new(),
            in_window: 0,
        }
    }

    pub(super) fn record(&mut self, now: Instant, bytes: usize) {
        let Some(min) = self.min else { return };
        let bucket = min.window / BUCKETS_PER_WINDOW;
        let bytes = bytes as u64;
        match self.buckets.back_mut() {
            Some((first, last, n)) if now.saturating_duration_since(*first) < bucket => {
                *last = now;
                *n += bytes;
            }
            _ => self.buckets.push_back((now, now, bytes)),
        }
        self.in_window += bytes;
    }

    /// Fails when a whole window has passed since the body started and the last window brought
    /// fewer than the minimum.
    pub(super) fn check(&mut self, now: Instant, url: &str) -> Result<(), FetchError> {
        let Some(min) = self.min else { return Ok(()) };
        while let Some(&(_, last, n)) = self.buckets.front() {
            if now.saturating_duration_since(last) < min.window {
                break;
            }
            self.in_window -= n;
            self.buckets.pop_front();
        }
        if now.saturating_duration_since(self.start) >= min.window && self.in_window < min.bytes {
            return Err(FetchError::TooSlow {
                url: url.to_owned(),
                bytes: self.in_window,
                min_bytes: min.bytes,
                window: min.window,
            });
        }
        Ok(())
    }

    /// The earliest moment [`RateMeter::check`] could fail if no byte arrives before it.
    pub(super) fn next_check(&self) -> Option<Instant> {
        let min = self.min?;
        let first_full = self.start + min.window;
        Some(match self.buckets.front() {
            Some(&(_, last, _)) => first_full.max(last + min.window),
            None => first_full,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn meter(bytes: u64) -> RateMeter {
        RateMeter::start(Some(MinRate { bytes, window: S }))
    }

    #[test]
    fn a_body_under_the_minimum_fails_once_a_whole_window_has_passed() {
        let mut m = meter(100);
        let t0 = m.start;
        for i in 1..=9u32 {
            m.record(t0 + S * i / 10, 5);
            assert!(
                m.check(t0 + S * i / 10, "u").is_ok(),
                "before a whole window"
            );
        }
        match m.check(t0 + S, "u") {
            Err(FetchError::TooSlow {
                bytes,
                min_bytes,
                window,
                ..
            }) => {
                assert_eq!((bytes, min_bytes, window), (45, 100, S))
            }
            other => panic!("expected TooSlow, got {other:?}"),
        }
    }

    #[test]
    fn a_quick_start_then_a_stall_shorter_than_the_window_passes() {
        let mut m = meter(100);
        let t0 = m.start;
        m.record(t0 + S / 10, 1000);
        // A whole window has passed, most of it stalled: the start's bytes still count.
        assert!(m.check(t0 + S, "u").is_ok());
        assert!(m.check(t0 + S + S / 20, "u").is_ok());
        // The next check is due when the start's bytes leave the window.
        assert_eq!(m.next_check(), Some(t0 + S / 10 + S));
        assert!(
            m.check(t0 + S / 10 + S, "u").is_err(),
            "stalled a whole window"
        );
    }

    #[test]
    fn dripping_bytes_below_the_minimum_fail_however_regular() {
        // One byte every 10 ms keeps any idle timer alive: 100 bytes a second.
        let mut m = meter(1024);
        let t0 = m.start;
        let mut failed = None;
        for i in 1..=300u32 {
            let now = t0 + Duration::from_millis(10) * i;
            m.record(now, 1);
            if m.check(now, "u").is_err() {
                failed = Some(i);
                break;
            }
        }
        assert_eq!(
            failed,
            Some(100),
            "fails exactly one window after the start"
        );
    }

    #[test]
    fn bytes_at_the_minimum_rate_pass_and_memory_stays_flat() {
        let mut m = meter(100);
        let t0 = m.start;
        for i in 1..=10_000u32 {
            let now = t0 + Duration::from_millis(1) * i;
            m.record(now, 1);
            assert!(m.check(now, "u").is_ok(), "at {i} ms");
        }
        assert!(m.buckets.len() <= BUCKETS_PER_WINDOW as usize + 1);
    }

    #[test]
    fn no_minimum_never_fails() {
        let mut m = RateMeter::start(None);
        assert!(m.check(m.start + S * 1000, "u").is_ok());
        assert_eq!(m.next_check(), None);
    }
}
