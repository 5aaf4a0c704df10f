//! Orchestration: the one object the outside world drives. It owns the configuration, the
//! store, the event sink and the app-ready timer, and sequences the lower layers
//! (verify -> policy -> install -> boot). Plain Rust; the FFI wrapper forwards to it.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use crate::boot::{self, BootError, BundleInfo, Confirmed, LaunchResult, ResetTarget};
use crate::config::{Config, ConfigError};
use crate::events::{Event, EventSink};
use crate::install::{self, InstallError};
use crate::policy::{self, DeviceFacts, Refusal};
use crate::release::{self, ReleaseError};
use crate::store::{self, HistoryEntry, Store, StoreError};
use crate::unpack::Budgets;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("release rejected: {0}")]
    Release(#[from] ReleaseError),
    #[error("release not taken: {0}")]
    Refused(#[from] Refusal),
    #[error("install failed: {0}")]
    Install(#[from] InstallError),
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    ReadInput {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Current state, for `status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub serving: LaunchResult,
    pub current: Option<BundleInfo>,
    pub fallback: Option<BundleInfo>,
    pub trial: Option<BundleInfo>,
    pub next: Option<BundleInfo>,
    pub channel: String,
    pub high_water: Option<u64>,
    pub device_id: String,
    pub native_version: String,
}

/// What an install did.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub id: String,
    pub version: String,
    pub sequence: u64,
}

pub struct Updater {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Mutex<Store>,
    events: Arc<dyn EventSink>,
    device_id: String,
    /// Cancels the running app-ready timer when the trial is confirmed.
    timer: Mutex<Option<mpsc::Sender<()>>>,
}

impl Updater {
    /// Opens the device state under `data_dir` (created if needed). A corrupt state database is
    /// rebuilt, never fatal; the `StateReset` event reports it.
    pub fn open(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
    ) -> Result<Updater, CoreError> {
        config.validate()?;
        let (mut store, report) = Store::open(data_dir)?;
        if let Some(reason) = report.reset {
            events.on_event(Event::StateReset { reason });
        }
        let device_id = match store::meta(store.read(), "device_id")? {
            Some(id) => id,
            None => {
                let id = hex::encode(crate::crypto::random_bytes::<16>());
                store.write(|tx| store::set_meta(tx, "device_id", &id))?;
                id
            }
        };
        Ok(Updater {
            inner: Arc::new(Inner {
                config,
                store: Mutex::new(store),
                events,
                device_id,
                timer: Mutex::new(None),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn device_id(&self) -> &str {
        &self.inner.device_id
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store usable: every change is a transaction.
        self.inner.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The channel this device follows (`setChannel` overrides the configured default).
    pub fn channel(&self) -> Result<String, CoreError> {
        Ok(store::meta(self.store().read(), "channel")?
            .unwrap_or_else(|| self.inner.config.default_channel.clone()))
    }

    pub fn set_channel(&self, channel: Option<&str>) -> Result<(), CoreError> {
        self.store().write(|tx| -> Result<(), StoreError> {
            match channel {
                Some(c) => store::set_meta(tx, "channel", c),
                None => {
                    tx.execute("DELETE FROM meta WHERE key = 'channel'", [])?;
                    Ok(())
                }
            }
        })?;
        Ok(())
    }

    /// Native start-up: which bundle to load. Starts the app-ready timer for a trial.
    pub fn launch(&self) -> LaunchResult {
        let result = boot::launch(&mut self.store(), &self.inner.config);
        if let Some(r) = &result.reverted {
            self.emit(Event::UpdateFailed {
                bundle_id: r.id.clone(),
                version: r.version.clone(),
                reason: r.reason.clone(),
            });
        }
        if result.trial {
            self.start_ready_timer(result.id.clone());
        }
        result
    }

    /// `notifyAppReady` from the page of bundle `id`.
    pub fn notify_app_ready(&self, id: &str) -> Result<Confirmed, CoreError> {
        let out = boot::confirm(&mut self.store(), id)?;
        if let Confirmed::Promoted { .. } = out {
            if let Some(cancel) = self
                .inner
                .timer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                let _ = cancel.send(());
            }
        }
        self.emit(Event::AppReady {
            bundle_id: id.to_string(),
        });
        Ok(out)
    }

    fn start_ready_timer(&self, id: String) {
        let timeout = Duration::from_millis(self.inner.config.app_ready_timeout);
        if timeout.is_zero() {
            return;
        }
        let (tx, rx) = mpsc::channel::<()>();
        *self.inner.timer.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        let inner = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name("liveship-ready-timer".into())
            .spawn(move || {
                // Confirmation (a message) or the updater going away (disconnect) cancels.
                if rx.recv_timeout(timeout) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
                let Some(inner) = inner.upgrade() else { return };
                let updater = Updater { inner };
                let reason = format!(
                    "not confirmed by notifyAppReady within {} ms",
                    timeout.as_millis()
                );
                updater.revert_and_reload(&id, &reason);
            })
            .expect("spawning the app-ready timer thread");
    }

    /// Reverts a trial bundle and tells the native layer to reload what serves now.
    fn revert_and_reload(&self, id: &str, reason: &str) {
        let reverted = boot::revert_trial(&mut self.store(), id, reason);
        match reverted {
            Ok(Some(r)) => {
                self.emit(Event::UpdateFailed {
                    bundle_id: r.id,
                    version: r.version,
                    reason: reason.to_string(),
                });
                match boot::serving(&self.store(), &self.inner.config) {
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

    /// Verifies a signed envelope read from `channel_json`, applies device policy, and installs
    /// the bundle found next to it (static layout) as `next`.
    pub fn install_from_file(&self, channel_json: &Path) -> Result<Installed, CoreError> {
        let envelope = std::fs::read(channel_json).map_err(|source| CoreError::ReadInput {
            path: channel_json.into(),
            source,
        })?;
        let verified = release::verify_envelope(&envelope, &self.inner.config.public_keys)?;
        self.check_policy(&verified.manifest)?;
        let base = channel_json.parent().unwrap_or(Path::new("."));
        let object = base.join(&verified.manifest.bundle.url);
        let id = install::install(
            &mut self.store(),
            &verified,
            &envelope,
            &object,
            &self.inner.config.bundle_keys,
            &Budgets::default(),
        )?;
        let m = &verified.manifest;
        self.emit(Event::SetNext {
            bundle_id: id.clone(),
        });
        Ok(Installed {
            id,
            version: m.version.clone(),
            sequence: m.sequence,
        })
    }

    /// Device policy for a verified manifest.
    pub fn check_policy(&self, m: &release::Manifest) -> Result<(), Refusal> {
        let channel = self
            .channel()
            .unwrap_or_else(|_| self.inner.config.default_channel.clone());
        let store = self.store();
        let facts = DeviceFacts {
            config: &self.inner.config,
            channel: &channel,
            device_id: &self.inner.device_id,
            high_water: store::high_water(store.read(), &m.channel).ok().flatten(),
            blocked: store::blocked(store.read(), &m.content_id()).ok().flatten(),
            now: store::now(),
        };
        policy::evaluate(m, &facts)
    }

    pub fn status(&self) -> Result<Status, CoreError> {
        let store = self.store();
        let roles = store::roles(store.read())?;
        let find = |id: &Option<String>| -> Result<Option<BundleInfo>, StoreError> {
            Ok(match id {
                Some(id) => store::bundle(store.read(), id)?.map(|b| boot::info(&roles, &b)),
                None => None,
            })
        };
        let channel = store::meta(store.read(), "channel")?
            .unwrap_or_else(|| self.inner.config.default_channel.clone());
        Ok(Status {
            serving: boot::serving(&store, &self.inner.config)?,
            current: find(&roles.current)?,
            fallback: find(&roles.fallback)?,
            trial: find(&roles.trial)?,
            next: find(&roles.next)?,
            high_water: store::high_water(store.read(), &channel)?,
            channel,
            device_id: self.inner.device_id.clone(),
            native_version: self.inner.config.native_version.clone(),
        })
    }

    pub fn current(&self) -> Result<LaunchResult, CoreError> {
        Ok(boot::serving(&self.store(), &self.inner.config)?)
    }

    pub fn list(&self) -> Result<Vec<BundleInfo>, CoreError> {
        Ok(boot::list(&self.store())?)
    }

    pub fn history(&self) -> Result<Vec<HistoryEntry>, CoreError> {
        Ok(store::history(self.store().read())?)
    }

    pub fn set_next(&self, id: &str) -> Result<(), CoreError> {
        boot::set_next(&mut self.store(), &self.inner.config, id)?;
        self.emit(Event::SetNext {
            bundle_id: id.to_string(),
        });
        Ok(())
    }

    pub fn reset(&self, to: ResetTarget) -> Result<LaunchResult, CoreError> {
        boot::reset(&mut self.store(), to)?;
        let now = self.current()?;
        self.emit(Event::ReloadRequired {
            bundle_id: now.id.clone(),
            path: now.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            reason: "reset".into(),
        });
        Ok(now)
    }

    pub fn delete(&self, id: &str) -> Result<(), CoreError> {
        Ok(boot::delete(&mut self.store(), id)?)
    }

    fn emit(&self, event: Event) {
        log::debug!("event: {event:?}");
        self.inner.events.on_event(event);
    }
}
