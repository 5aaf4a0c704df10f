//! The app-ready timer: a trial bundle that the page does not confirm with `notifyAppReady`
//! within `appReadyTimeout` is reverted, and the native layer is asked to reload.

use crate::telemetry::{Report, RevertCause};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use crate::boot;
use crate::clock::Timer;
use crate::events::Event;

/// The running app-ready timer: the trial it watches and how to call it off.
pub(super) struct ReadyTimer {
    id: String,
    /// Set by the confirmation; the timer's task checks it again once it holds the store.
    confirmed: Arc<AtomicBool>,
    /// Dropping it (a newer timer, the engine going away) cancels the task too.
    timer: Timer,
}

impl Engine {
    pub(super) fn start_ready_timer(&self, id: String) {
        let timeout = Duration::from_millis(self.inner.config.app_ready_timeout);
        if timeout.is_zero() {
            return;
        }
        let confirmed = Arc::new(AtomicBool::new(false));
        let inner = Arc::downgrade(&self.inner);
        let task = {
            let id = id.clone();
            let confirmed = confirmed.clone();
            Box::new(move || {
                let Some(inner) = inner.upgrade() else { return };
                let engine = Engine { inner };
                let reason = format!(
                    "not confirmed by notifyAppReady within {} ms",
                    timeout.as_millis()
                );
                engine.revert_and_reload(&id, &reason, &confirmed);
            })
        };
        let timer = self.inner.clock.schedule(timeout, task);
        *self.inner.timer.lock().unwrap_or_else(|p| p.into_inner()) = Some(ReadyTimer {
            id,
            confirmed,
            timer,
        });
    }

    /// Calls off the timer watching bundle `id`, if one does. Runs before the confirmation
    /// waits for the store: a confirmation that arrives in time must win over the timer even if
    /// the store is busy.
    pub(super) fn cancel_ready_timer(&self, id: &str) {
        let mut slot = self.inner.timer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|t| t.id == id) {
            if let Some(t) = slot.take() {
                t.confirmed.store(true, Ordering::SeqCst);
                t.timer.cancel();
            }
        }
    }

    /// Reverts a trial bundle and tells the native layer to reload what serves now, unless the
    /// confirmation arrived while this waited for the store.
    fn revert_and_reload(&self, id: &str, reason: &str, confirmed: &AtomicBool) {
        let reverted = {
            let mut store = self.store();
            if confirmed.load(Ordering::SeqCst) {
                return;
            }
            boot::revert_trial(&mut store, id, reason)
        };
        match reverted {
            Ok(Some(r)) => {
                if let Some(release) = self.release_of(&r.id) {
                    self.report(Report::Reverted {
                        release,
                        cause: RevertCause::AppReadyTimeout,
                    });
                }
                self.emit(Event::UpdateFailed {
                    bundle_id: r.id,
                    version: r.version,
                    reason: reason.to_string(),
                });
                // Read first, emit after: the listener must never run while the store is locked.
                let now = boot::serving(&self.store(), &self.inner.config);
                match now {
                    Ok(now) => self.emit(Event::ReloadRequired {
                        bundle_id: now.id,
                        path: now.path.map(|p| p.to_string_lossy().into_owned()),
                        reason: reason.to_string(),
                    }),
                    Err(e) => log::error!("after revert: cannot read what serves: {e}"),
                }
            }
            Ok(None) => {}
            Err(e) => log::error!("reverting trial {id}: {e}"),
        }
    }
}
