//! The app-ready timer: a trial bundle that the page does not confirm with `notifyAppReady`
//! within `appReadyTimeout` is reverted, and the native layer is asked to reload.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use crate::boot;
use crate::events::Event;

impl Engine {
    pub(super) fn start_ready_timer(&self, id: String) {
        let timeout = Duration::from_millis(self.inner.config.app_ready_timeout);
        if timeout.is_zero() {
            return;
        }
        let (tx, rx) = mpsc::channel::<()>();
        *self.inner.timer.lock().unwrap_or_else(|p| p.into_inner()) = Some((id.clone(), tx));
        let inner = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name("liveship-ready-timer".into())
            .spawn(move || {
                // Confirmation (a message) or the updater going away (disconnect) cancels.
                if rx.recv_timeout(timeout) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
                let Some(inner) = inner.upgrade() else { return };
                let updater = Engine { inner };
                let reason = format!(
                    "not confirmed by notifyAppReady within {} ms",
                    timeout.as_millis()
                );
                updater.revert_and_reload(&id, &reason, &rx);
            })
            .expect("spawning the app-ready timer thread");
    }

    /// Reverts a trial bundle and tells the native layer to reload what serves now, unless the
    /// confirmation (`cancelled`) arrived while this waited for the store.
    fn revert_and_reload(&self, id: &str, reason: &str, cancelled: &mpsc::Receiver<()>) {
        let reverted = {
            let mut store = self.store();
            if cancelled.try_recv().is_ok() {
                return;
            }
            boot::revert_trial(&mut store, id, reason)
        };
        match reverted {
            Ok(Some(r)) => {
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
