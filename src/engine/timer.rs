//! The app-ready timer: a trial bundle that the page does not confirm with `notifyAppReady`
//! within `appReadyTimeout` is reverted, and the native layer is asked to reload.

use crate::telemetry::{Report, RevertCause};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{CoreError, Engine};
use crate::boot;
use crate::clock::Timer;
use crate::config::ConfigError;
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
            Ok(Some(r)) => self.after_revert(r, RevertCause::AppReadyTimeout, true),
            Ok(None) => {}
            Err(e) => log::error!("reverting trial {id}: {e}"),
        }
    }

    /// `setBundleError` (permitted by `allowManualBundleError`): the app declares bundle `id`
    /// broken. It is reverted as a trial the page never confirmed would be (failed,
    /// blocklisted, its roles taken; a current one falls back) and, if it was serving, the
    /// native layer reloads what serves now. Returns the bundle as it is now.
    pub fn set_bundle_error(&self, id: &str) -> Result<boot::BundleInfo, CoreError> {
        if !self.inner.config.allow_manual_bundle_error {
            return Err(ConfigError::NotAllowed {
                what: "setBundleError",
                option: "allowManualBundleError",
            }
            .into());
        }
        self.cancel_ready_timer(id);
        let (reverted, served) = {
            let mut store = self.store();
            let served = boot::serving(&store, &self.inner.config)?.id == id;
            let reason = "declared broken by the app (setBundleError)";
            (boot::declare_failed(&mut store, id, reason)?, served)
        };
        if let Some(r) = reverted {
            self.after_revert(r, RevertCause::Declared, served);
        }
        let list = self.list()?;
        Ok(list
            .into_iter()
            .find(|b| b.id == id)
            .expect("a bundle declared failed stays listed"))
    }

    /// Reports and announces a revert; when the reverted bundle was serving, asks the native
    /// layer to reload what serves now.
    fn after_revert(&self, r: boot::Reverted, cause: RevertCause, served: bool) {
        if let Some(release) = self.release_of(&r.id) {
            self.report(Report::Reverted { release, cause });
        }
        self.emit(Event::UpdateFailed {
            bundle_id: r.id,
            version: r.version,
            reason: r.reason.clone(),
        });
        if !served {
            return;
        }
        // Read first, emit after: the listener must never run while the store is locked.
        let now = boot::serving(&self.store(), &self.inner.config);
        match now {
            Ok(now) => self.emit(Event::ReloadRequired {
                bundle_id: now.id,
                path: now.path.map(|p| p.to_string_lossy().into_owned()),
                reason: r.reason,
            }),
            Err(e) => log::error!("after revert: cannot read what serves: {e}"),
        }
    }
}
