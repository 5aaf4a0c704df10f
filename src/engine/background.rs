//! The moments the app leaves and comes back (apply mode `background`, delay conditions), and
//! background runs for WorkManager / BGTaskScheduler under the OS's deadline.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::update::Deadline;
use super::{CoreError, Engine, UpdateOutcome};
use crate::boot::{self, LaunchResult};
use crate::config::ApplyMode;

impl Engine {
    /// The app went to the background.
    pub fn app_moved_to_background(&self) {
        *self
            .inner
            .backgrounded_at
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(self.inner.clock.monotonic());
    }

    /// The app came to the foreground: applies a pending `next` in apply mode `background` when
    /// the app stayed away at least `minBackgroundMs`. Returns what now serves, if it changed.
    pub fn app_moved_to_foreground(&self) -> Result<Option<LaunchResult>, CoreError> {
        // Queued telemetry goes out on a thread of its own: coming back never waits for it.
        self.flush_in_background();
        let since = self
            .inner
            .backgrounded_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(since) = since else { return Ok(None) };
        let away = self.inner.clock.monotonic().saturating_sub(since);
        let delayed = !boot::delay(self.store().read())?.is_empty();
        let moment = boot::Moment::Foreground {
            background_ms: away.as_millis() as u64,
        };
        let clear = boot::settle(
            &mut self.store(),
            &self.inner.config,
            moment,
            self.inner.clock.now(),
        )?;
        // Delay conditions that have just all been met apply `next` now; otherwise the apply
        // mode decides.
        let background_apply = self.inner.config.apply_mode == ApplyMode::Background
            && away >= Duration::from_millis(self.inner.config.min_background_ms);
        if clear && (delayed || background_apply) {
            return self.apply_now();
        }
        Ok(None)
    }

    /// For WorkManager / BGTaskScheduler: check, download and install within `deadline`.
    /// Returns what it did. When the deadline runs out the network work stops (nothing keeps
    /// running after the OS's budget), the call fails with `DeadlineExceeded`, and the partial
    /// download stays for the next run to resume. Local work already started (verifying,
    /// extracting, installing) finishes first: it is bounded and leaves no half state.
    pub fn run_background_update(&self, deadline: Duration) -> Result<UpdateOutcome, CoreError> {
        self.inner.background_ended.store(false, Ordering::SeqCst);
        let outcome = self.update_until(Some(Deadline {
            at: std::time::Instant::now() + deadline,
            budget: deadline,
            background: true,
        }));
        // What this run reported (and anything older) goes out beside it; rows the OS cuts off
        // stay queued for the next run or foreground.
        self.flush_in_background();
        outcome
    }

    /// The OS ended the background budget early (BGTask's expiration handler, WorkManager's
    /// `onStopped`): the running [`Engine::run_background_update`] stops now exactly as at its
    /// deadline (network work dropped, partial download kept, `DeadlineExceeded`). Local work
    /// already started finishes first. Without a background run in flight it does nothing; a
    /// foreground `update` is never affected.
    pub fn end_background_run(&self) {
        self.inner.background_ended.store(true, Ordering::SeqCst);
        self.inner.background_end.notify_waiters();
    }

    pub(super) fn background_ended(&self) -> bool {
        self.inner.background_ended.load(Ordering::SeqCst)
    }
}
