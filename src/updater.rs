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
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("delta update: {0}")]
    Delta(#[from] delta::DeltaError),
    #[error("background update did not finish within {millis} ms; it resumes next time")]
    DeadlineExceeded { millis: u64 },
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
    /// The running app-ready timer: the trial it watches, and the channel that cancels it.
    timer: Mutex<Option<(String, mpsc::Sender<()>)>>,
    runtime: std::sync::OnceLock<tokio::runtime::Runtime>,
    fetcher: std::sync::OnceLock<Fetcher>,
    /// Held by the one check-download-install in flight.
    flight: Mutex<()>,
    backgrounded_at: Mutex<Option<std::time::Instant>>,
    /// Retry, backoff and timeout limits the configuration's network fields are applied onto.
    http_base: HttpConfig,
}

impl Updater {
    /// Opens the device state under `data_dir` (created if needed). A corrupt state database is
    /// rebuilt, never fatal; the `StateReset` event reports it.
    pub fn open(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
    ) -> Result<Updater, CoreError> {
        Self::open_with_http(config, data_dir, events, HttpConfig::default())
    }

    /// [`Updater::open`] with other HTTP limits (attempts, backoff, connect and overall
    /// timeouts) than [`HttpConfig::default`], for hosts with unusual networks and for tests.
    /// The configuration still decides `allowInsecureLoopback`, `extraCaCert` and
    /// `responseTimeout` (the idle timeout): those fields of `http` are overwritten.
    pub fn open_with_http(
        config: Config,
        data_dir: &Path,
        events: Arc<dyn EventSink>,
        http: HttpConfig,
    ) -> Result<Updater, CoreError> {
        config.validate()?;
        let (mut store, report) = Store::open(data_dir)?;
        if let Some(reason) = report.reset {
            events.on_event(Event::StateReset { reason });
        }
        // A new native version is settled before anything can be installed for it (a
        // background run may install before the first launch of the updated app).
        boot::reconcile_native(&mut store, &config)?;
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
                runtime: Default::default(),
                fetcher: Default::default(),
                flight: Mutex::new(()),
                backgrounded_at: Mutex::new(None),
                http_base: http,
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
        if let Some(c) = channel.filter(|c| !release::is_valid_channel(c)) {
            return Err(ConfigError::Invalid {
                field: "channel",
                reason: format!("{c:?}: use 1-64 characters from a-z, 0-9, '.', '_', '-'"),
            }
            .into());
        }
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
        let result = boot::launch(&mut self.store(), &self.inner.config, store::now());
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
        // Cancel the timer watching this bundle before waiting for the store: a confirmation
        // that arrives in time must win over the timer even if the store is busy.
        let cancel = {
            let mut timer = self.inner.timer.lock().unwrap_or_else(|p| p.into_inner());
            match timer.take() {
                Some((watched, tx)) if watched == id => Some(tx),
                other => {
                    *timer = other;
                    None
                }
            }
        };
        if let Some(tx) = cancel {
            let _ = tx.send(());
        }
        let out = boot::confirm(&mut self.store(), id)?;
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
                let updater = Updater { inner };
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
        Ok(Installed {
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
        let staging = install::begin(&mut self.store(), &release.manifest)?;
        build(&staging.dir, &staging.tree)?;
        install::finish(&mut self.store(), staging, release, envelope)
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

// ---- over the network ----

use crate::config::{ApplyMode, UpdateMode};
use crate::delta;
use crate::fetch::{FetchError, Fetcher, HttpConfig, ManifestFetch};
use reqwest::Url;

/// Why a check found nothing to take (or what it found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum CheckResult {
    #[serde(rename_all = "camelCase")]
    UpdateAvailable {
        channel: String,
        sequence: u64,
        version: String,
        bundle_size: u64,
    },
    #[serde(rename_all = "camelCase")]
    NoUpdate { code: String, reason: String },
}

/// What `update` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum UpdateOutcome {
    #[serde(rename_all = "camelCase")]
    NoUpdate { code: String, reason: String },
    #[serde(rename_all = "camelCase")]
    Installed {
        id: String,
        version: String,
        sequence: u64,
        /// Bytes fetched for the bundle (delta objects or the full bundle).
        downloaded_bytes: u64,
        /// Size of the full bundle object, for comparison.
        full_bytes: u64,
        delta: bool,
        /// Set when a delta was tried and the full bundle was fetched instead.
        delta_fallback: Option<String>,
        /// True when the bundle already serves (apply mode `immediate`).
        applied: bool,
    },
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

/// A verified release this device may take.
struct Candidate {
    verified: release::VerifiedRelease,
    envelope: Vec<u8>,
    url: Url,
}

fn no_update(r: &Refusal) -> (String, String) {
    let code = serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "refused".into());
    (code, r.to_string())
}

impl Updater {
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
            ..self.inner.http_base.clone()
        };
        let f = Fetcher::new(cfg).map_err(NetError::from)?;
        Ok(self.inner.fetcher.get_or_init(|| f).clone())
    }

    fn update_url(&self) -> Result<Url, NetError> {
        let raw = self
            .inner
            .config
            .update_url
            .as_deref()
            .ok_or(NetError::NoUpdateUrl)?;
        Url::parse(raw).map_err(|_| NetError::BadUrl { url: raw.into() })
    }

    /// What the dynamic endpoint receives. Nothing personal: ids of the app, the bundle and a
    /// random per-install device id (used for rollout buckets), never user data.
    pub fn device_info(&self) -> Result<serde_json::Value, CoreError> {
        let channel = self.channel()?;
        let status = self.status()?;
        Ok(serde_json::json!({
            "appId": self.inner.config.app_id,
            "platform": self.inner.config.platform,
            "nativeVersion": self.inner.config.native_version,
            "channel": channel,
            "deviceId": self.inner.device_id,
            "sequence": status.high_water,
            "bundleId": status.serving.id,
            "bundleVersion": status.serving.version,
        }))
    }

    /// Fetches the channel's envelope (static or dynamic), verifies it, obeys its incident
    /// fields, and applies device policy. `Ok(Err(refusal))` is "no update" with its reason.
    async fn find_candidate(&self) -> Result<Result<Candidate, (String, String)>, CoreError> {
        let fetcher = self.fetcher()?;
        let channel = self.channel()?;
        let base = self.update_url()?;
        let cache_key = format!("envelope:{channel}");
        let (url, envelope) = match self.inner.config.update_mode {
            UpdateMode::Static => {
                let mut folder = base.clone();
                if !folder.path().ends_with('/') {
                    folder.set_path(&format!("{}/", folder.path()));
                }
                let url = folder
                    .join(&format!("channels/{channel}.json"))
                    .map_err(|_| NetError::BadUrl {
                        url: base.to_string(),
                    })?;
                let etag = store::meta(self.store().read(), &format!("etag:{channel}"))?;
                let cached = store::meta(self.store().read(), &cache_key)?;
                let etag = if cached.is_some() { etag } else { None };
                match fetcher
                    .get_manifest(&url, etag.as_deref(), release::MAX_ENVELOPE_BYTES as u64)
                    .await
                    .map_err(NetError::from)?
                {
                    ManifestFetch::NotModified => (url, cached.unwrap_or_default().into_bytes()),
                    ManifestFetch::Fresh { body, etag } => {
                        // Cache only what verifies, so a 304 never resurrects a bad envelope.
                        if release::verify_envelope(&body, &self.inner.config.public_keys).is_ok() {
                            let text = String::from_utf8_lossy(&body).into_owned();
                            self.store().write(|tx| -> Result<(), StoreError> {
                                store::set_meta(tx, &cache_key, &text)?;
                                if let Some(tag) = &etag {
                                    store::set_meta(tx, &format!("etag:{channel}"), tag)?;
                                }
                                Ok(())
                            })?;
                        }
                        (url, body)
                    }
                }
            }
            UpdateMode::Dynamic => {
                let body = serde_json::to_vec(&self.device_info()?).expect("json");
                match fetcher
                    .post_json(&base, &body, release::MAX_ENVELOPE_BYTES as u64)
                    .await
                    .map_err(NetError::from)?
                {
                    None => {
                        return Ok(Err((
                            "noUpdate".into(),
                            "the update endpoint has no update for this device".into(),
                        )))
                    }
                    Some(body) => (base.clone(), body),
                }
            }
        };
        let verified = release::verify_envelope(&envelope, &self.inner.config.public_keys)?;
        if let Some(reason) = self.obey_incident(&verified.manifest)? {
            return Ok(Err(("incident".into(), reason)));
        }
        match self.check_policy(&verified.manifest) {
            Ok(()) => Ok(Ok(Candidate {
                verified,
                envelope,
                url,
            })),
            Err(r) => Ok(Err(no_update(&r))),
        }
    }

    /// Signed incident instructions of an unexpired manifest for this app and channel, no older
    /// than the high-water mark (an old, replayed one is ignored). Returns a reason when nothing else is to be done.
    fn obey_incident(&self, m: &release::Manifest) -> Result<Option<String>, CoreError> {
        let Some(incident) = &m.incident else {
            return Ok(None);
        };
        let hwm = store::high_water(self.store().read(), &m.channel)?.unwrap_or(0);
        // FORMAT.md 4.3: no manifest field is acted on unless the manifest is unexpired; an
        // expired incident is then refused by the policy like any expired release.
        if m.sequence < hwm
            || m.channel != self.channel()?
            || m.app_id != self.inner.config.app_id
            || m.check_expiry(store::now()).is_err()
        {
            return Ok(None);
        }
        let reverted = boot::revoke(&mut self.store(), m, incident)?;
        for r in &reverted {
            self.emit(Event::UpdateFailed {
                bundle_id: r.id.clone(),
                version: r.version.clone(),
                reason: r.reason.clone(),
            });
        }
        if incident.revert_to_builtin || !reverted.is_empty() {
            let now = self.current()?;
            self.emit(Event::ReloadRequired {
                bundle_id: now.id,
                path: now.path.map(|p| p.to_string_lossy().into_owned()),
                reason: "incident instruction from the publisher".into(),
            });
        }
        if incident.revert_to_builtin {
            return Ok(Some(format!(
                "{}: publisher instructed a revert to the built-in bundle",
                m.label()
            )));
        }
        Ok(None)
    }

    /// Checks for an update without downloading anything.
    pub fn check(&self) -> Result<CheckResult, CoreError> {
        let found = self.runtime().block_on(self.find_candidate())?;
        let result = match found {
            Ok(c) => {
                let m = &c.verified.manifest;
                self.emit(Event::UpdateAvailable {
                    sequence: m.sequence,
                    version: m.version.clone(),
                });
                CheckResult::UpdateAvailable {
                    channel: m.channel.clone(),
                    sequence: m.sequence,
                    version: m.version.clone(),
                    bundle_size: m.bundle.size,
                }
            }
            Err((code, reason)) => {
                self.emit(Event::NoNeedUpdate {
                    reason: reason.clone(),
                });
                CheckResult::NoUpdate { code, reason }
            }
        };
        Ok(result)
    }

    /// Check, download (delta when cheaper, else full; resumable) and install as `next`; with
    /// apply mode `immediate`, also switch to it now. Concurrent callers are serialised: one
    /// download at a time, and a caller that waited finds the work done ("up to date").
    pub fn update(&self) -> Result<UpdateOutcome, CoreError> {
        self.update_until(None)
    }

    /// Runs `fut` on the network runtime; past `deadline` it is dropped (a download stops where
    /// it is, its bytes kept for resuming) and the call fails with `DeadlineExceeded`.
    fn run<F: std::future::Future>(
        &self,
        fut: F,
        deadline: Option<Deadline>,
    ) -> Result<F::Output, CoreError> {
        match deadline {
            None => Ok(self.runtime().block_on(fut)),
            Some(d) => self
                .runtime()
                .block_on(async { tokio::time::timeout_at(d.at.into(), fut).await })
                .map_err(|_| d.exceeded()),
        }
    }

    fn update_until(&self, deadline: Option<Deadline>) -> Result<UpdateOutcome, CoreError> {
        let _flight = match deadline {
            None => self.inner.flight.lock().unwrap_or_else(|p| p.into_inner()),
            // Another update in flight: wait for it, but not past the deadline.
            Some(d) => loop {
                match self.inner.flight.try_lock() {
                    Ok(g) => break g,
                    Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock)
                        if std::time::Instant::now() >= d.at =>
                    {
                        return Err(d.exceeded())
                    }
                    Err(std::sync::TryLockError::WouldBlock) => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                }
            },
        };
        let candidate = match self.run(self.find_candidate(), deadline)?? {
            Ok(c) => c,
            Err((code, reason)) => {
                self.emit(Event::NoNeedUpdate {
                    reason: reason.clone(),
                });
                return Ok(UpdateOutcome::NoUpdate { code, reason });
            }
        };
        let m = candidate.verified.manifest.clone();
        self.emit(Event::UpdateAvailable {
            sequence: m.sequence,
            version: m.version.clone(),
        });
        let result = self.fetch_and_install(&candidate, deadline);
        let (id, downloaded, delta_used, delta_fallback) = match result {
            Ok(v) => v,
            Err(e) => {
                self.emit(Event::DownloadFailed {
                    version: m.version.clone(),
                    error: e.to_string(),
                });
                return Err(e);
            }
        };
        self.emit(Event::DownloadComplete {
            bundle_id: id.clone(),
            version: m.version.clone(),
        });
        self.emit(Event::SetNext {
            bundle_id: id.clone(),
        });
        // A background run has no WebView to load the bundle: it only installs it as next
        // (applying there would put it on trial with nothing running it, and blame it).
        let applied = deadline.is_none()
            && self.inner.config.apply_mode == ApplyMode::Immediate
            && self.apply_now()?.is_some();
        Ok(UpdateOutcome::Installed {
            id,
            version: m.version.clone(),
            sequence: m.sequence,
            downloaded_bytes: downloaded,
            full_bytes: m.bundle.size,
            delta: delta_used,
            delta_fallback,
            applied,
        })
    }

    fn progress_reporter(&self, version: String) -> impl Fn(u64, u64) + Send + Sync {
        let inner = Arc::downgrade(&self.inner);
        let last = Mutex::new(None::<u8>);
        move |done: u64, total: u64| {
            let percent = done
                .saturating_mul(100)
                .checked_div(total)
                .map_or(100, |p| p.min(100) as u8);
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if *last == Some(percent) {
                return;
            }
            *last = Some(percent);
            if let Some(inner) = inner.upgrade() {
                inner.events.on_event(Event::Download {
                    version: version.clone(),
                    percent,
                    downloaded: done,
                    total,
                });
            }
        }
    }

    /// Returns (bundle id, bytes downloaded, delta used, delta fallback reason).
    fn fetch_and_install(
        &self,
        c: &Candidate,
        deadline: Option<Deadline>,
    ) -> Result<(String, u64, bool, Option<String>), CoreError> {
        let m = &c.verified.manifest;
        let downloads = self.store().root().join("downloads");
        std::fs::create_dir_all(&downloads).map_err(|source| CoreError::ReadInput {
            path: downloads.clone(),
            source,
        })?;
        let mut fallback = None;
        if m.delta.is_some() {
            match self.try_delta(c, &downloads, deadline) {
                Ok((id, bytes)) => return Ok((id, bytes, true, None)),
                // Out of time is not a reason to start the full bundle.
                Err(e @ CoreError::DeadlineExceeded { .. }) => return Err(e),
                // Failures the full bundle would meet too (busy, not newer, blocklisted, no
                // space, storage) are returned as they are, not paid for with a full download.
                Err(e) if !delta_failure(&e) => return Err(e),
                Err(e) => {
                    let reason = e.to_string();
                    // "Not worth it" is a plan, not a failure worth an event.
                    if !matches!(e, CoreError::Delta(delta::DeltaError::NotWorthIt { .. })) {
                        log::warn!(
                            "delta update of {} failed, fetching the full bundle: {reason}",
                            m.label()
                        );
                        self.emit(Event::DeltaFallback {
                            reason: reason.clone(),
                        });
                        fallback = Some(reason);
                    }
                }
            }
        }
        let url = c.url.join(&m.bundle.url).map_err(|_| NetError::BadUrl {
            url: m.bundle.url.clone(),
        })?;
        let part = downloads.join(format!("{}.part", m.bundle.sha256));
        prune_downloads(&downloads, &part);
        let fetcher = self.fetcher()?;
        let report = self.progress_reporter(m.version.clone());
        let object = self
            .run(
                fetcher.download(&url, &part, m.bundle.size, Some(&m.bundle.sha256), &report),
                deadline,
            )?
            .map_err(NetError::from)?;
        let keys = &self.inner.config.bundle_keys;
        let id = self.install_unlocked(&c.verified, &c.envelope, |staging, tree| {
            install::build_from_download(staging, tree, &object, m, keys, &Budgets::default())
        })?;
        let _ = std::fs::remove_file(&part);
        Ok((id, m.bundle.size, false, fallback))
    }

    fn try_delta(
        &self,
        c: &Candidate,
        downloads: &Path,
        deadline: Option<Deadline>,
    ) -> Result<(String, u64), CoreError> {
        let m = &c.verified.manifest;
        let cfg = &self.inner.config;
        let plan = delta::plan(&mut self.store(), &cfg.builtin_dir, &cfg.native_version, m)?;
        // A delta only pays off when it saves a good share of the bytes.
        if plan.remote_bytes * 10 > m.bundle.size * 7 {
            return Err(delta::DeltaError::NotWorthIt {
                delta: plan.remote_bytes,
                full: m.bundle.size,
            }
            .into());
        }
        let key = install::content_key(m, &self.inner.config.bundle_keys)?;
        let work = downloads.join(format!("{}.delta", install::bundle_id(m)));
        let tree = work.join("tree");
        let _ = crate::fs::remove_any(&tree);
        let fetcher = self.fetcher()?;
        let report = self.progress_reporter(m.version.clone());
        let assembled = self.run(
            delta::assemble(
                &fetcher,
                &c.url,
                m,
                &plan,
                key.as_ref(),
                &work.join("objects"),
                &tree,
                &report,
            ),
            deadline,
        )??;
        let id = self.install_unlocked(&c.verified, &c.envelope, |_staging, staged_tree| {
            install::adopt_assembled(&assembled, staged_tree, m)
        })?;
        let _ = crate::fs::remove_any(&work);
        Ok((id, assembled.bytes()))
    }

    /// Switches to the installed `next` bundle now (apply mode `immediate`, Capgo's `set`): it
    /// becomes the trial, the timer starts, and `ReloadRequired` tells the native layer to load
    /// it. Returns `None` when there is no `next`.
    pub fn apply_now(&self) -> Result<Option<LaunchResult>, CoreError> {
        let Some(result) = boot::apply_next(&mut self.store(), &self.inner.config, store::now())?
        else {
            return Ok(None);
        };
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

    /// The app went to the background.
    pub fn app_moved_to_background(&self) {
        *self
            .inner
            .backgrounded_at
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
    }

    /// The app came to the foreground: applies a pending `next` in apply mode `background` when
    /// the app stayed away at least `minBackgroundMs`. Returns what now serves, if it changed.
    pub fn app_moved_to_foreground(&self) -> Result<Option<LaunchResult>, CoreError> {
        let since = self
            .inner
            .backgrounded_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(since) = since else { return Ok(None) };
        let away = since.elapsed();
        let delayed = !boot::delay(self.store().read())?.is_empty();
        let moment = boot::Moment::Foreground {
            background_ms: away.as_millis() as u64,
        };
        let clear = boot::settle(&mut self.store(), &self.inner.config, moment, store::now())?;
        // Delay conditions that have just all been met apply `next` now; otherwise the apply
        // mode decides.
        let background_apply = self.inner.config.apply_mode == ApplyMode::Background
            && away >= Duration::from_millis(self.inner.config.min_background_ms);
        if clear && (delayed || background_apply) {
            return self.apply_now();
        }
        Ok(None)
    }

    /// Capgo's `setMultiDelay`: `next` waits until every condition has been met.
    pub fn set_delay(&self, conditions: &[boot::DelayCondition]) -> Result<(), CoreError> {
        Ok(boot::set_delay(&mut self.store(), conditions)?)
    }

    /// The pending delay conditions.
    pub fn delay(&self) -> Result<Vec<boot::DelayCondition>, CoreError> {
        Ok(boot::delay(self.store().read())?)
    }

    /// For WorkManager / BGTaskScheduler: check, download and install within `deadline`.
    /// Returns what it did. When the deadline runs out the network work stops (nothing keeps
    /// running after the OS's budget), the call fails with `DeadlineExceeded`, and the partial
    /// download stays for the next run to resume. Local work already started (verifying,
    /// extracting, installing) finishes first: it is bounded and leaves no half state.
    pub fn run_background_update(&self, deadline: Duration) -> Result<UpdateOutcome, CoreError> {
        self.update_until(Some(Deadline {
            at: std::time::Instant::now() + deadline,
            budget: deadline,
        }))
    }
}

/// When a background update must stop.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: std::time::Instant,
    budget: Duration,
}

impl Deadline {
    fn exceeded(&self) -> CoreError {
        CoreError::DeadlineExceeded {
            millis: self.budget.as_millis() as u64,
        }
    }
}

/// Whether an error from a delta attempt is the delta's own (a bad or missing object, a tree
/// that does not match), so that the full bundle is worth fetching instead.
fn delta_failure(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Delta(_)
            | CoreError::Net(_)
            | CoreError::Install(InstallError::Unpack(_) | InstallError::Decrypt(_))
    )
}

/// Removes partial downloads and delta work folders other than `keep` (a newer release
/// replaced them).
fn prune_downloads(dir: &Path, keep: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let stale_part = p.extension().is_some_and(|x| x == "part");
            let stale_delta = p.extension().is_some_and(|x| x == "delta");
            if p != keep && (stale_part || stale_delta) {
                let _ = crate::fs::remove_any(&p);
            }
        }
    }
}
