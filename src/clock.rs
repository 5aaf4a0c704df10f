//! Time as a parameter: wall-clock seconds (expiry, timestamps, dated delay conditions),
//! monotonic time (how long the app stayed in the background) and one-shot timers (the app-ready
//! timer), behind one [`Clock`] trait that the engine is given. [`SystemClock`] is the real
//! thing; [`ManualClock`] moves only when a test says so and runs due timers on the caller's
//! thread, so timer behaviour is tested without sleeping.
//!
//! Guarantee of both: a [`Timer`] cancelled (or dropped) before it is due never runs its task.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A task a timer runs once when it is due.
pub type Task = Box<dyn FnOnce() + Send>;

/// A wait on the async runtime (see [`Clock::pause`]).
pub type Pause = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync {
    /// Wall-clock seconds since the Unix epoch (0 if the clock is before it).
    fn now(&self) -> u64;
    /// Monotonic time since an arbitrary fixed origin: only differences mean something.
    fn monotonic(&self) -> Duration;
    /// Runs `task` once, `after` from now, unless the returned [`Timer`] is cancelled or dropped
    /// first.
    fn schedule(&self, after: Duration, task: Task) -> Timer;
    /// Waits `d` inside async network work (retry backoff, `Retry-After`). The system clock
    /// sleeps on the runtime; the manual clock moves itself forward by `d` at once (running the
    /// timers that fall due), so retry waits are tested without sleeping.
    fn pause(&self, d: Duration) -> Pause;
}

/// A scheduled task. Cancelling or dropping it before it is due means the task never runs.
pub struct Timer {
    cancelled: Arc<AtomicBool>,
    /// Wakes a sleeping system timer thread so that it ends at once.
    wake: Option<mpsc::Sender<()>>,
}

impl Timer {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(w) = &self.wake {
            let _ = w.send(());
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The device's clocks; timers are threads waiting on a channel with a timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

fn origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn monotonic(&self) -> Duration {
        origin().elapsed()
    }

    fn schedule(&self, after: Duration, task: Task) -> Timer {
        let cancelled = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<()>();
        let flag = cancelled.clone();
        std::thread::Builder::new()
            .name("liveship-timer".into())
            .spawn(move || {
                // A message or the Timer going away (disconnect) cancels.
                if rx.recv_timeout(after) == Err(mpsc::RecvTimeoutError::Timeout)
                    && !flag.load(Ordering::SeqCst)
                {
                    task();
                }
            })
            .expect("spawning a timer thread");
        Timer {
            cancelled,
            wake: Some(tx),
        }
    }

    fn pause(&self, d: Duration) -> Pause {
        Box::pin(tokio::time::sleep(d))
    }
}

struct Pending {
    due: Duration,
    seq: u64,
    cancelled: Arc<AtomicBool>,
    task: Task,
}

#[derive(Default)]
struct ManualState {
    elapsed: Duration,
    next_seq: u64,
    pending: Vec<Pending>,
}

/// A clock that only moves with [`ManualClock::advance`], for tests.
pub struct ManualClock {
    start_secs: u64,
    state: Mutex<ManualState>,
}

impl ManualClock {
    /// A manual clock whose wall time starts at the system's current time.
    pub fn new() -> ManualClock {
        ManualClock::at(SystemClock.now())
    }

    /// A manual clock whose wall time starts at `secs` since the Unix epoch.
    pub fn at(secs: u64) -> ManualClock {
        ManualClock {
            start_secs: secs,
            state: Mutex::new(ManualState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves time forward by `d` and runs, on this thread and in due order, every task that
    /// became due (also those scheduled by a task run here, if due by then).
    pub fn advance(&self, d: Duration) {
        let target = self.lock().elapsed + d;
        loop {
            let next = {
                let mut s = self.lock();
                let due = s
                    .pending
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.due <= target)
                    .min_by_key(|(_, p)| (p.due, p.seq))
                    .map(|(i, _)| i);
                match due {
                    Some(i) => {
                        let p = s.pending.remove(i);
                        s.elapsed = s.elapsed.max(p.due);
                        Some(p)
                    }
                    None => {
                        s.elapsed = target;
                        None
                    }
                }
            };
            // The task runs without the lock: it may read the clock or schedule again.
            match next {
                Some(p) if !p.cancelled.load(Ordering::SeqCst) => (p.task)(),
                Some(_) => {}
                None => return,
            }
        }
    }

    /// Tasks scheduled and neither run nor cancelled.
    pub fn pending(&self) -> usize {
        self.lock()
            .pending
            .iter()
            .filter(|p| !p.cancelled.load(Ordering::SeqCst))
            .count()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.start_secs + self.lock().elapsed.as_secs()
    }

    fn monotonic(&self) -> Duration {
        self.lock().elapsed
    }

    fn schedule(&self, after: Duration, task: Task) -> Timer {
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut s = self.lock();
        let seq = s.next_seq;
        s.next_seq += 1;
        let due = s.elapsed + after;
        s.pending.push(Pending {
            due,
            seq,
            cancelled: cancelled.clone(),
            task,
        });
        Timer {
            cancelled,
            wake: None,
        }
    }

    fn pause(&self, d: Duration) -> Pause {
        self.advance(d);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> (Arc<Mutex<Vec<&'static str>>>, impl Fn(&'static str) -> Task) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        (log, move |name| {
            let l = l.clone();
            Box::new(move || l.lock().unwrap().push(name)) as Task
        })
    }

    #[test]
    fn manual_clock_runs_due_tasks_in_order_on_advance() {
        let clock = ManualClock::at(1_000);
        let (log, task) = recorder();
        let _b = clock.schedule(Duration::from_millis(200), task("b"));
        let _a = clock.schedule(Duration::from_millis(100), task("a"));
        let _c = clock.schedule(Duration::from_secs(5), task("c"));
        clock.advance(Duration::from_millis(99));
        assert!(log.lock().unwrap().is_empty());
        clock.advance(Duration::from_millis(150));
        assert_eq!(*log.lock().unwrap(), ["a", "b"]);
        assert_eq!(clock.monotonic(), Duration::from_millis(249));
        assert_eq!(clock.now(), 1_000);
        clock.advance(Duration::from_secs(5));
        assert_eq!(*log.lock().unwrap(), ["a", "b", "c"]);
        assert_eq!(clock.now(), 1_005);
        assert_eq!(clock.pending(), 0);
    }

    #[test]
    fn a_manual_pause_moves_time_at_once_and_runs_the_timers_it_passes() {
        let clock = ManualClock::at(50);
        let (log, task) = recorder();
        let _t = clock.schedule(Duration::from_millis(500), task("timer"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(clock.pause(Duration::from_millis(400)));
        assert!(log.lock().unwrap().is_empty());
        rt.block_on(clock.pause(Duration::from_secs(1)));
        assert_eq!(*log.lock().unwrap(), ["timer"]);
        assert_eq!(clock.monotonic(), Duration::from_millis(1_400));
        assert_eq!(clock.now(), 51);
    }

    #[test]
    fn manual_timer_cancelled_or_dropped_before_due_never_runs() {
        let clock = ManualClock::new();
        let (log, task) = recorder();
        let a = clock.schedule(Duration::from_millis(10), task("a"));
        let b = clock.schedule(Duration::from_millis(10), task("b"));
        a.cancel();
        drop(b);
        assert_eq!(clock.pending(), 0);
        clock.advance(Duration::from_secs(1));
        assert!(log.lock().unwrap().is_empty());
    }

    #[test]
    fn system_timer_runs_when_due_and_never_after_cancel() {
        let (log, task) = recorder();
        let (done_tx, done_rx) = mpsc::channel();
        let fired = SystemClock.schedule(
            Duration::from_millis(1),
            Box::new(move || {
                task("fired")();
                let _ = done_tx.send(());
            }),
        );
        // Waits for the task itself, not for a span of time.
        done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        drop(fired);
        let (cancel_tx, cancel_rx) = mpsc::channel::<()>();
        // Due far later than the cancel below, however loaded the machine is.
        let cancelled = SystemClock.schedule(
            Duration::from_secs(60),
            Box::new(move || {
                let _ = cancel_tx.send(());
            }),
        );
        cancelled.cancel();
        // The task is dropped unrun: its sender disconnects instead of sending.
        assert_eq!(
            cancel_rx.recv_timeout(Duration::from_secs(30)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
        assert_eq!(*log.lock().unwrap(), ["fired"]);
    }

    #[test]
    fn system_clocks_move_forward() {
        let a = SystemClock.monotonic();
        assert!(SystemClock.monotonic() >= a);
        assert!(SystemClock.now() > 1_600_000_000);
    }
}
