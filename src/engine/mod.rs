//! The engine: the one object the outside world drives. It owns the configuration, the store,
//! the event sink, the network runtime and the app-ready timer, and sequences the lower layers
//! (verify -> policy -> install -> boot). Plain Rust; the FFI `Engine` holds an `Arc<Engine>`
//! and forwards to it. Split by concern: [`check`] finds a candidate, [`update`] downloads and
//! builds it into staging, [`timer`] is the app-ready timer, [`background`] the moments the app
//! leaves and comes back and background runs.

mod background;
mod capgo;
mod check;
mod files;
mod preview;
mod settings;
mod stats;
mod timer;
mod update;

pub use crate::events::UpdateOutcome;
pub use check::CheckResult;
pub use files::{Offered, OfferedFile};
pub use preview::{Preview, PreviewUpdate};
pub use settings::Setting;
pub use stats::{DeletedData, FlushReport};
pub use update::UpdatePhase;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use crate::boot::{self, BootError, BundleInfo, Confirmed, LaunchResult, ResetTarget};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError, UpdateMode};
use crate::delta;
use crate::events::{Event, EventSink};
use crate::fetch::{FetchError, Fetcher, HttpConfig};
use crate::install::{self, InstallError};
use crate::policy::{self, DeviceFacts, Refusal};
use crate::release::{self, ReleaseError};
use crate::store::{self, HistoryEntry, Store, StoreError};
use crate::telemetry::{Report, RevertCause};
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
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("delta update: {0}")]
    Delta(#[from] delta::DeltaError),
    #[error("Capgo bundle refused: {0}")]
    Capgo(#[from] crate::capgo::CapgoError),
    /// Capgo's channel endpoint refused (`channel_not_found`, `channel_self_set_not_allowed`, ...).
    #[error("the channel endpoint refused ({error}): {message}")]
    ChannelRefused { error: String, message: String },
    #[error("background update did not finish within {millis} ms; it resumes next time")]
    DeadlineExceeded { millis: u64 },
    /// The update's own deadline (`updateTimeout`) passed; `phase` is what it was fetching.
    #[error(
        "update did not finish within {seconds} s (updateTimeout): stopped fetching the {phase}; \
         it resumes next time"
    )]
    UpdateDeadlineExceeded { seconds: u64, phase: UpdatePhase },
}

/// The whole device state at a glance (`status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct Status {
    pub serving: LaunchResult,
    pub current: Option<BundleInfo>,
    pub fallback: Option<BundleInfo>,
    pub trial: Option<BundleInfo>,
    pub next: Option<BundleInfo>,
    pub channel: String,
    /// Newest sequence accepted on the channel (the anti-rollback counter).
    pub high_water: Option<u64>,
    pub device_id: String,
    pub native_version: String,
}

/// A bundle installed from a local release file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct InstalledBundle {
    pub id: String,
    pub version: String,
    pub sequence: u64,
}

pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Mutex<Store>,
    events: Arc<dyn EventSink>,
    /// The install id; `deleteData` rotates it.
    device_id: Mutex<String>,
    /// The consent level in force (the stored choice, else the configured default).
    consent: Mutex<crate::config::Consent>,
    /// One stats flush at a time; what the last failed one asks the next to wait for.
    flush: Mutex<stats::Backoff>,
    /// Wall and monotonic time, and the timers.
    clock: Arc<dyn Clock>,
    /// The running app-ready timer.
    timer: Mutex<Option<timer::ReadyTimer>>,
    runtime: std::sync::OnceLock<tokio::runtime::Runtime>,
    fetcher: std::sync::OnceLock<Fetcher>,
    /// Held by the one check-download-install in flight.
    flight: Mutex<()>,
    /// Set by `end_background_run`: the running background run stops as at its deadline.
    background_ended: std::sync::atomic::AtomicBool,
    /// Wakes the background run's network work when `end_background_run` is called.
    background_end: tokio::sync::Notify,
    /// When the app went to the background, on the clock's monotonic time.
    backgrounded_at: Mutex<Option<Duration>>,
    /// Retry, backoff and timeout limits the configuration's network fields are applied onto.
    http_base: HttpConfig,
    /// What JavaScript set at run time over the configuration (`settings`).
    overrides: Mutex<settings::Overrides>,
}

impl Engine {
    /// Opens the device state under `data_dir` (created if needed). A corrupt state database is
    /// rebuilt, never fatal; the `StateReset` event reports it.
    pub fn open(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
    ) -> Result<Engine, CoreError> {
        Self::open_with_http(config, data_dir, events, HttpConfig::default())
    }

    /// [`Engine::open`] with other HTTP limits (attempts, backoff, connect and overall
    /// timeouts) than [`HttpConfig::default`], for hosts with unusual networks and for tests.
    /// The configuration still decides `allowInsecureLoopback`, `extraCaCert` and
    /// `responseTimeout` (the idle timeout): those fields of `http` are overwritten.
    pub fn open_with_http(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
        http: HttpConfig,
    ) -> Result<Engine, CoreError> {
        Self::open_with_clock(config, data_dir, events, http, Arc::new(SystemClock))
    }

    /// [`Engine::open_with_http`] on another clock than the system's: a
    /// [`crate::clock::ManualClock`] lets tests move time (expiry, the app-ready timer, time in
    /// the background) without sleeping. The store is opened on the same clock, so every time it
    /// records (history, blocklist, `installed_at`) is this clock's.
    pub fn open_with_clock(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
        http: HttpConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, CoreError> {
        config.validate()?;
        let adopt = |dir: &Path, envelope: &[u8]| adoptable(&config, dir, envelope);
        let (mut store, report) = Store::open_recovering(data_dir, clock.clone(), &adopt)?;
        if let Some(reason) = report.reset {
            events.on_event(Event::StateReset { reason });
        }
        // A new native version is settled before anything can be installed for it (a
        // background run may install before the first launch of the updated app).
        let native_before = boot::reconcile_native(&mut store, &config)?;
        let device_id = match store::device_id(store.read())? {
            Some(id) => id,
            None => {
                let id = hex::encode(crate::crypto::random_bytes::<16>());
                store.write(|tx| store::set_device_id(tx, &id))?;
                id
            }
        };
        let consent =
            store::consent(store.read())?.unwrap_or(config.default_consent.unwrap_or_default());
        let overrides = settings::Overrides::load(store.read(), &config)?;
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                store: Mutex::new(store),
                events,
                device_id: Mutex::new(device_id),
                consent: Mutex::new(consent),
                flush: Mutex::new(stats::Backoff::default()),
                clock,
                timer: Mutex::new(None),
                runtime: Default::default(),
                fetcher: Default::default(),
                flight: Mutex::new(()),
                background_ended: Default::default(),
                background_end: tokio::sync::Notify::new(),
                backgrounded_at: Mutex::new(None),
                http_base: http,
                overrides: Mutex::new(overrides),
            }),
        };
        if let Some(old) = native_before {
            engine.report(Report::NativeUpdateDetected { old });
        }
        Ok(engine)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The clock the engine runs on (timers, timestamps).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The install id (random per install; `deleteData` rotates it).
    pub fn device_id(&self) -> String {
        self.inner
            .device_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store usable: every change is a transaction.
        self.inner.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The channel this device follows (`setChannel` overrides the configured default).
    pub fn channel(&self) -> Result<String, CoreError> {
        Ok(store::channel(self.store().read())?
            .unwrap_or_else(|| self.inner.config.default_channel.clone()))
    }

    pub fn set_channel(&self, channel: Option<&str>) -> Result<(), CoreError> {
        if let Some(c) = channel.filter(|c| !release::is_valid_channel(c)) {
            return Err(ConfigError::Invalid {
                field: "channel",
                reason: format!("{c:?}: use 1-64 characters from a-z, 0-9, '.', '_', '-'"),
            }
            .into());
        }
        // Capgo mode: the backend decides whether this device may follow the channel.
        if let (Some(c), UpdateMode::Capgo) = (channel, self.inner.config.update_mode) {
            return self.capgo_set_channel(c);
        }
        self.follow(channel)
    }

    /// Records the channel this device follows (`None`: the configured default).
    fn follow(&self, channel: Option<&str>) -> Result<(), CoreError> {
        self.store().write(|tx| match channel {
            Some(c) => store::set_channel(tx, c),
            None => store::clear_channel(tx),
        })?;
        Ok(())
    }

    /// Native start-up: which bundle to load. Starts the app-ready timer for a trial.
    pub fn launch(&self) -> LaunchResult {
        let result = boot::launch(
            &mut self.store(),
            &self.inner.config,
            self.inner.clock.now(),
        );
        if let Some(r) = &result.reverted {
            if let Some(release) = self.release_of(&r.id) {
                self.report(Report::Reverted {
                    release,
                    cause: RevertCause::NotConfirmed,
                });
            }
            self.emit(Event::UpdateFailed {
                bundle_id: r.id.clone(),
                version: r.version.clone(),
                reason: r.reason.clone(),
            });
        }
        if result.trial {
            if let Some(release) = self.release_of(&result.id) {
                let old_version = self.old_version();
                self.report(Report::TrialStarted {
                    release,
                    old_version,
                });
            }
            self.start_ready_timer(result.id.clone());
        }
        result
    }

    /// `notifyAppReady` from the page of bundle `id`.
    pub fn notify_app_ready(&self, id: &str) -> Result<Confirmed, CoreError> {
        self.cancel_ready_timer(id);
        let out = boot::confirm(&mut self.store(), id)?;
        if let (Confirmed::Promoted { .. }, Some(release)) = (&out, self.release_of(id)) {
            self.report(Report::Confirmed { release });
        }
        self.emit(Event::AppReady {
            bundle_id: id.to_string(),
        });
        Ok(out)
    }
    /// Verifies a signed envelope read from `channel_json`, applies device policy, and installs
    /// the bundle found next to it (static layout) as `next`.
    pub fn install_from_file(&self, channel_json: &Path) -> Result<InstalledBundle, CoreError> {
        let read_input = |source| CoreError::ReadInput {
            path: channel_json.into(),
            source,
        };
        let file = std::fs::File::open(channel_json).map_err(read_input)?;
        let envelope = release::read_envelope(file).map_err(read_input)?;
        let verified = release::verify_envelope(&envelope, &self.inner.config.public_keys)?;
        self.check_policy(&verified.manifest)?;
        let base = channel_json.parent().unwrap_or(Path::new("."));
        let object = base.join(&verified.manifest.bundle.url);
        let keys = &self.inner.config.bundle_keys;
        let id = self.install_unlocked(&verified, &envelope, |staging, tree| {
            install::build_from_object(
                staging,
                tree,
                &object,
                &verified.manifest,
                keys,
                &Budgets::default(),
            )
        })?;
        let m = &verified.manifest;
        self.emit(Event::SetNext {
            bundle_id: id.clone(),
        });
        Ok(InstalledBundle {
            id,
            version: m.version.clone(),
            sequence: m.sequence,
        })
    }

    /// Installs with the store locked only to begin (install lock, invariants, space) and to
    /// finish (rename, commit): building the tree (hashing, decrypting, extracting, fsyncing,
    /// seconds for a large bundle) runs while `launch`, `notifyAppReady` and the ready timer can
    /// use the store. The install lock is held throughout.
    fn install_unlocked(
        &self,
        release: &release::VerifiedRelease,
        envelope: &[u8],
        build: impl FnOnce(&Path, &Path) -> Result<(), InstallError>,
    ) -> Result<String, InstallError> {
        self.install_as(install::Role::Next, release, envelope, build)
    }

    /// [`Engine::install_unlocked`] into `role`.
    fn install_as(
        &self,
        role: install::Role,
        release: &release::VerifiedRelease,
        envelope: &[u8],
        build: impl FnOnce(&Path, &Path) -> Result<(), InstallError>,
    ) -> Result<String, InstallError> {
        let mut staging = install::begin(&mut self.store(), &release.manifest)?;
        staging.role = role;
        build(&staging.dir, &staging.tree)?;
        install::finish(&mut self.store(), staging, release, envelope)
    }

    /// Device policy for a verified manifest.
    pub fn check_policy(&self, m: &release::Manifest) -> Result<(), Refusal> {
        let channel = self
            .channel()
            .unwrap_or_else(|_| self.inner.config.default_channel.clone());
        self.check_policy_in(m, &channel)
    }

    /// Device policy for a verified manifest, as a release of `channel`.
    pub(super) fn check_policy_in(
        &self,
        m: &release::Manifest,
        channel: &str,
    ) -> Result<(), Refusal> {
        let device_id = self.device_id();
        let store = self.store();
        let config = self.effective_config();
        let facts = DeviceFacts {
            config: &config,
            channel,
            device_id: &device_id,
            high_water: store::high_water(store.read(), &m.channel).ok().flatten(),
            // By content (a reverted or revoked release) or by its bundle object (one that
            // failed extraction).
            blocked: [m.content_id(), m.bundle.sha256.clone()]
                .iter()
                .find_map(|id| store::blocked(store.read(), id).ok().flatten()),
            now: self.inner.clock.now(),
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
        let channel = store::channel(store.read())?
            .unwrap_or_else(|| self.inner.config.default_channel.clone());
        Ok(Status {
            serving: boot::serving(&store, &self.inner.config)?,
            current: find(&roles.current)?,
            fallback: find(&roles.fallback)?,
            trial: find(&roles.trial)?,
            next: find(&roles.next)?,
            high_water: store::high_water(store.read(), &channel)?,
            channel,
            device_id: self.device_id(),
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
        if let Some(release) = self.release_of(id) {
            self.report(Report::SetNext { release });
        }
        self.emit(Event::SetNext {
            bundle_id: id.to_string(),
        });
        Ok(())
    }

    pub fn reset(&self, to: ResetTarget) -> Result<LaunchResult, CoreError> {
        let old_version = self.serving_version();
        boot::reset(&mut self.store(), to)?;
        let now = self.current()?;
        self.report(Report::Reset {
            old_version,
            to: self.release_of(&now.id),
        });
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

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.inner.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("liveship-net")
                .enable_all()
                .build()
                .expect("building the network runtime")
        })
    }

    fn fetcher(&self) -> Result<Fetcher, CoreError> {
        if let Some(f) = self.inner.fetcher.get() {
            return Ok(f.clone());
        }
        let c = &self.inner.config;
        let extra_ca_pem = match &c.extra_ca_cert {
            Some(pem) if pem.contains("-----BEGIN") => Some(pem.clone().into_bytes()),
            Some(path) => Some(std::fs::read(path).map_err(|source| CoreError::ReadInput {
                path: path.into(),
                source,
            })?),
            None => None,
        };
        let cfg = HttpConfig {
            allow_insecure_loopback: c.allow_insecure_loopback,
            extra_ca_pem,
            idle_timeout: Duration::from_secs(c.response_timeout.max(1)),
            min_rate: Some(c.min_rate()),
            ..self.inner.http_base.clone()
        };
        let f = Fetcher::with_clock(cfg, self.inner.clock.clone()).map_err(NetError::from)?;
        Ok(self.inner.fetcher.get_or_init(|| f).clone())
    }

    /// What the dynamic endpoint receives: ids of the app and the bundle, the channel and the
    /// native version, never user data. The random install id goes with it only under consent
    /// `full` (the device decides rollout buckets itself; a server needs no id for that).
    pub fn device_info(&self) -> Result<serde_json::Value, CoreError> {
        let channel = self.channel()?;
        let status = self.status()?;
        let mut info = serde_json::json!({
            "appId": self.effective_config().app_id,
            "platform": self.inner.config.platform,
            "nativeVersion": self.inner.config.native_version,
            "channel": channel,
            "sequence": status.high_water,
            "bundleId": status.serving.id,
            "bundleVersion": status.serving.version,
        });
        if self.consent() == crate::config::Consent::Full {
            info["deviceId"] = serde_json::Value::String(self.device_id());
        }
        Ok(info)
    }

    /// Switches to the installed `next` bundle now (apply mode `immediate`, Capgo's `set`): it
    /// becomes the trial, the timer starts, and `ReloadRequired` tells the native layer to load
    /// it. Returns `None` when there is no `next`.
    pub fn apply_now(&self) -> Result<Option<LaunchResult>, CoreError> {
        let Some(result) = boot::apply_next(
            &mut self.store(),
            &self.inner.config,
            self.inner.clock.now(),
        )?
        else {
            return Ok(None);
        };
        if let Some(release) = self.release_of(&result.id) {
            let old_version = self.old_version();
            self.report(Report::Set {
                release: Some(release),
                old_version,
            });
        }
        self.emit(Event::Set {
            bundle_id: result.id.clone(),
        });
        self.emit(Event::ReloadRequired {
            bundle_id: result.id.clone(),
            path: result
                .path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            reason: "apply".into(),
        });
        self.start_ready_timer(result.id.clone());
        Ok(Some(result))
    }

    /// Capgo's `setMultiDelay`: `next` waits until every condition has been met.
    pub fn set_delay(&self, conditions: &[boot::DelayCondition]) -> Result<(), CoreError> {
        Ok(boot::set_delay(&mut self.store(), conditions)?)
    }

    /// The pending delay conditions.
    pub fn delay(&self) -> Result<Vec<boot::DelayCondition>, CoreError> {
        Ok(boot::delay(self.store().read())?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("no updateUrl configured")]
    NoUpdateUrl,
    #[error("updateUrl {url:?} is not a valid URL")]
    BadUrl { url: String },
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// Whether an installed bundle may serve again after a lost database: its stored envelope
/// verifies against the pinned keys and is this app's, and every file matches the signed list.
/// Returns the verified payload the new bundle row records.
fn adoptable(config: &Config, dir: &Path, envelope: &[u8]) -> Result<Vec<u8>, String> {
    let verified =
        release::verify_envelope(envelope, &config.public_keys).map_err(|e| e.to_string())?;
    if verified.manifest.app_id != config.app_id {
        return Err(format!(
            "it belongs to app {}, not {}",
            verified.manifest.app_id, config.app_id
        ));
    }
    crate::unpack::check_dir(dir, &verified.manifest.files).map_err(|e| e.to_string())?;
    Ok(verified.payload)
}
