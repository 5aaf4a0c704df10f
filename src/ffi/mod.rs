//! The public face for Kotlin, Swift and Python (uniffi proc-macros, bindings generated in
//! library mode from the built library; see `docs/API.md`).
//!
//! One object, [`Updater`], holds an `Arc` of the plain-Rust [`crate::Engine`] and
//! forwards to it; this module owns only the translation at the edge:
//! - records and enums for what has no core type of its own (`Config`, `Event`, ...); the boot
//!   protocol's types (`LaunchResult`, `BundleInfo`, ...) are exported as they are;
//! - [`LiveshipError`], the one public error, mapped from every internal error in
//!   [`LiveshipError::from_core`] (the only place that decides which variant a failure is);
//! - the foreign [`EventListener`] and [`Logger`] traits, and the `log` bridge to the latter.
//!
//! Guarantees: every exported method is synchronous and runs its body under `catch_unwind`, so a
//! panic inside becomes [`LiveshipError::Internal`] (and is logged) instead of crossing the
//! boundary; a listener or logger that throws cannot take a core thread down with it.

mod error;
mod listener;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use error::LiveshipError;
use error::{core, guard};
use listener::ListenerSink;
pub use listener::{set_logger, EventListener, LogLevel, Logger};

use crate::boot;
// The boot protocol's own types cross the edge as they are (no mirrors).
pub use crate::boot::{
    BundleInfo, BundleStatus, Confirmed as ReadyOutcome, DelayCondition, LaunchResult, ResetTarget,
    Reverted,
};
use crate::config::{self, Config as CoreConfig};
use crate::engine::Engine;
pub use crate::engine::{CheckResult, InstalledBundle, Status, UpdateOutcome};
use crate::release;
pub use crate::store::HistoryEntry;

// ---------------------------------------------------------------------------------------------
// Configuration

/// When a downloaded release starts serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ApplyMode {
    /// At the next cold start (the default).
    NextLaunch,
    /// When the app returns from at least `minBackgroundMs` in the background.
    Background,
    /// As soon as it is installed (`ReloadRequired` tells the native layer to reload).
    Immediate,
}

/// How `updateUrl` is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UpdateMode {
    /// `updateUrl` is a static release repository folder (GET `channels/<channel>.json`).
    Static,
    /// `updateUrl` is an endpoint that receives the device's info by POST.
    Dynamic,
}

/// A pinned Ed25519 signing key and the channels it may sign for (`*` = every channel).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublicKey {
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    #[uniffi(default = [])]
    pub channels: Vec<String>,
}

/// An AES-256 bundle key that unwraps release content keys.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BundleKey {
    pub key_id: String,
    /// Base64 of the 32-byte key.
    pub key: String,
}

/// The app's configuration: the `plugins.Liveship` JSON schema (docs/CONFIG.md) as a record.
/// Optional fields left `null` take the same defaults as in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Config {
    pub app_id: String,
    /// `android`, `ios`, or anything else for desktop harnesses.
    pub platform: String,
    /// The native app's version (`versionName` / `CFBundleShortVersionString`).
    pub native_version: String,
    /// Where state and bundles live (app-private storage).
    pub data_dir: String,
    /// Folder of the web bundle shipped inside the app.
    pub builtin_dir: String,
    #[uniffi(default = None)]
    pub builtin_version: Option<String>,
    #[uniffi(default = None)]
    pub default_channel: Option<String>,
    #[uniffi(default = None)]
    pub update_url: Option<String>,
    #[uniffi(default = None)]
    pub update_mode: Option<UpdateMode>,
    #[uniffi(default = [])]
    pub public_keys: Vec<PublicKey>,
    #[uniffi(default = [])]
    pub bundle_keys: Vec<BundleKey>,
    /// JSON `appReadyTimeout`.
    #[uniffi(default = None)]
    pub app_ready_timeout_ms: Option<u64>,
    #[uniffi(default = None)]
    pub auto_update: Option<bool>,
    #[uniffi(default = None)]
    pub reset_when_update: Option<bool>,
    /// Seconds between checks while the app runs.
    #[uniffi(default = None)]
    pub period_check_delay: Option<u64>,
    /// Seconds before an HTTP request without progress is abandoned.
    #[uniffi(default = None)]
    pub response_timeout: Option<u64>,
    #[uniffi(default = None)]
    pub apply_mode: Option<ApplyMode>,
    #[uniffi(default = None)]
    pub min_background_ms: Option<u64>,
    /// Permit `http://` to loopback (development and tests only).
    #[uniffi(default = None)]
    pub allow_insecure_loopback: Option<bool>,
    /// Extra PEM CA certificate (text or file path), in addition to the system store.
    #[uniffi(default = None)]
    pub extra_ca_cert: Option<String>,
    #[uniffi(default = None)]
    pub development: Option<bool>,
}

/// What native code supplies itself when the rest of the configuration comes as JSON.
/// These values override the same fields in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostInfo {
    pub app_id: String,
    pub platform: String,
    pub native_version: String,
    pub data_dir: String,
    pub builtin_dir: String,
}

impl Config {
    /// Maps onto the core's configuration. Defaults come from the JSON schema's own defaults
    /// (deserialising the required fields alone), so they are defined once, in `config.rs`.
    fn into_core(self) -> Result<CoreConfig, LiveshipError> {
        let mut c: CoreConfig = serde_json::from_value(serde_json::json!({
            "appId": self.app_id,
            "platform": self.platform,
            "nativeVersion": self.native_version,
        }))
        .map_err(|e| LiveshipError::InvalidArgument {
            reason: format!("config: {e}"),
        })?;
        c.data_dir = Some(PathBuf::from(self.data_dir));
        c.builtin_dir = PathBuf::from(self.builtin_dir);
        if let Some(v) = self.builtin_version {
            c.builtin_version = v;
        }
        if let Some(v) = self.default_channel {
            c.default_channel = v;
        }
        c.update_url = self.update_url;
        if let Some(v) = self.update_mode {
            c.update_mode = match v {
                UpdateMode::Static => config::UpdateMode::Static,
                UpdateMode::Dynamic => config::UpdateMode::Dynamic,
            };
        }
        c.public_keys = self
            .public_keys
            .into_iter()
            .map(|k| release::PinnedKey {
                key_id: k.key_id,
                public_key: k.public_key,
                channels: if k.channels.is_empty() {
                    vec!["*".into()]
                } else {
                    k.channels
                },
            })
            .collect();
        c.bundle_keys = self
            .bundle_keys
            .into_iter()
            .map(|k| release::BundleKey {
                key_id: k.key_id,
                key: k.key,
            })
            .collect();
        if let Some(v) = self.app_ready_timeout_ms {
            c.app_ready_timeout = v;
        }
        if let Some(v) = self.auto_update {
            c.auto_update = v;
        }
        if let Some(v) = self.reset_when_update {
            c.reset_when_update = v;
        }
        if let Some(v) = self.period_check_delay {
            c.period_check_delay = v;
        }
        if let Some(v) = self.response_timeout {
            c.response_timeout = v;
        }
        if let Some(v) = self.apply_mode {
            c.apply_mode = match v {
                ApplyMode::NextLaunch => config::ApplyMode::NextLaunch,
                ApplyMode::Background => config::ApplyMode::Background,
                ApplyMode::Immediate => config::ApplyMode::Immediate,
            };
        }
        if let Some(v) = self.min_background_ms {
            c.min_background_ms = v;
        }
        if let Some(v) = self.allow_insecure_loopback {
            c.allow_insecure_loopback = v;
        }
        c.extra_ca_cert = self.extra_ca_cert;
        if let Some(v) = self.development {
            c.development = v;
        }
        Ok(c)
    }
}

// ---------------------------------------------------------------------------------------------
// Records and enums returned to the app

/// Everything the core reports as it happens (mapped to Capgo's JS event names by the plugin).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Event {
    Download {
        version: String,
        percent: u8,
        downloaded: u64,
        total: u64,
    },
    NoNeedUpdate {
        reason: String,
    },
    UpdateAvailable {
        sequence: u64,
        version: String,
    },
    DownloadComplete {
        bundle_id: String,
        version: String,
    },
    DownloadFailed {
        version: String,
        error: String,
    },
    /// A bundle was reverted (never confirmed, timed out, revoked).
    UpdateFailed {
        bundle_id: String,
        version: String,
        reason: String,
    },
    Set {
        bundle_id: String,
    },
    SetNext {
        bundle_id: String,
    },
    AppReady {
        bundle_id: String,
    },
    /// The native layer must reload the WebView from `path` (`null` = built-in bundle).
    ReloadRequired {
        bundle_id: String,
        path: Option<String>,
        reason: String,
    },
    DeltaFallback {
        reason: String,
    },
    StateReset {
        reason: String,
    },
    /// `startDownloadAndInstall` finished.
    UpdateFinished {
        outcome: UpdateOutcome,
    },
    /// `startDownloadAndInstall` failed.
    UpdateError {
        error: LiveshipError,
    },
}

// ---------------------------------------------------------------------------------------------
// The object

/// The live-update agent of one app. Thread-safe; every method blocks its calling thread (call
/// it off the main thread) except `launch`, `notifyAppReady` and the getters, which are quick.
#[derive(uniffi::Object)]
pub struct Updater {
    inner: Arc<Engine>,
    /// Also held here for the events only this layer emits (`UpdateFinished`, `UpdateError`).
    listener: Option<Arc<dyn EventListener>>,
}

#[uniffi::export]
impl Updater {
    /// Opens (or creates) the device state in `config.dataDir`. `listener` receives events.
    #[uniffi::constructor]
    pub fn new(
        config: Config,
        listener: Option<Arc<dyn EventListener>>,
    ) -> Result<Arc<Self>, LiveshipError> {
        guard("open", || Self::open(config.into_core()?, listener))
    }

    /// Like `new`, from the `plugins.Liveship` JSON (docs/CONFIG.md); `host` supplies (and
    /// overrides) what native code knows itself.
    #[uniffi::constructor]
    pub fn from_json(
        json: String,
        host: HostInfo,
        listener: Option<Arc<dyn EventListener>>,
    ) -> Result<Arc<Self>, LiveshipError> {
        guard("open", || {
            let invalid = |reason: String| LiveshipError::InvalidArgument { reason };
            let mut value: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| invalid(format!("config JSON does not parse: {e}")))?;
            let obj = value
                .as_object_mut()
                .ok_or_else(|| invalid("config JSON is not an object".into()))?;
            obj.insert("appId".into(), host.app_id.into());
            obj.insert("platform".into(), host.platform.into());
            obj.insert("nativeVersion".into(), host.native_version.into());
            obj.insert("dataDir".into(), host.data_dir.into());
            obj.insert("builtinDir".into(), host.builtin_dir.into());
            let config: CoreConfig = serde_json::from_value(value)
                .map_err(|e| invalid(format!("config JSON is not valid: {e}")))?;
            Self::open(config, listener)
        })
    }

    /// Native start-up: which bundle to load now. Never fails: on any problem it serves the
    /// built-in bundle (and logs why), so the app always starts.
    pub fn launch(&self) -> LaunchResult {
        guard("launch", || Ok(self.inner.launch())).unwrap_or_else(|_| LaunchResult {
            id: boot::BUILTIN.into(),
            version: self.inner.config().builtin_version.clone(),
            path: None,
            trial: false,
            reverted: None,
        })
    }

    /// `notifyAppReady` from the page of bundle `bundle_id` (captured when the page started).
    pub fn notify_app_ready(&self, bundle_id: String) -> Result<ReadyOutcome, LiveshipError> {
        core("notifyAppReady", || self.inner.notify_app_ready(&bundle_id))
    }

    /// Asks the update server whether a release this device may take exists (no download).
    pub fn check(&self) -> Result<CheckResult, LiveshipError> {
        core("check", || self.inner.check())
    }

    /// Checks, downloads (delta or full, resumable), verifies and installs the release as the
    /// next bundle; with apply mode `immediate` also switches to it. Blocks until done.
    pub fn download_and_install(&self) -> Result<UpdateOutcome, LiveshipError> {
        core("downloadAndInstall", || self.inner.update())
    }

    /// `downloadAndInstall` on a background thread; progress and the result (`UpdateFinished`
    /// or `UpdateError`) arrive through the listener. Returns at once.
    pub fn start_download_and_install(&self) -> Result<(), LiveshipError> {
        let inner = self.inner.clone();
        let listener = self.listener.clone();
        guard("startDownloadAndInstall", || {
            std::thread::Builder::new()
                .name("liveship-update".into())
                .spawn(move || {
                    let event = match core("downloadAndInstall", || inner.update()) {
                        Ok(outcome) => Event::UpdateFinished { outcome },
                        Err(error) => Event::UpdateError { error },
                    };
                    if let Some(l) = listener {
                        let _ = catch_unwind(AssertUnwindSafe(|| l.on_event(event)));
                    }
                })
                .map_err(|e| LiveshipError::Internal {
                    reason: format!("cannot start the update thread: {e}"),
                })?;
            Ok(())
        })
    }

    /// For WorkManager / BGTaskScheduler: check, download and install within the deadline.
    /// A deadline that runs out is a `Network` error; the partial download resumes next time.
    pub fn run_background_update(
        &self,
        deadline_seconds: u64,
    ) -> Result<UpdateOutcome, LiveshipError> {
        core("runBackgroundUpdate", || {
            self.inner
                .run_background_update(Duration::from_secs(deadline_seconds))
        })
    }

    /// Installs the release whose signed channel file (`channels/<channel>.json` of a release
    /// repository on disk) is at `path`, as the next bundle.
    pub fn install_from_file(&self, path: String) -> Result<InstalledBundle, LiveshipError> {
        core("installFromFile", || {
            self.inner.install_from_file(Path::new(&path))
        })
    }

    /// Switches to the installed next bundle now (it becomes the trial; `ReloadRequired`
    /// follows). `null` when there is no next bundle.
    pub fn apply_next(&self) -> Result<Option<LaunchResult>, LiveshipError> {
        core("applyNext", || self.inner.apply_now())
    }

    /// Makes an installed bundle the next one.
    pub fn set_next(&self, bundle_id: String) -> Result<(), LiveshipError> {
        core("setNext", || self.inner.set_next(&bundle_id))
    }

    /// Goes back to the built-in or last confirmed bundle; returns what serves now.
    pub fn reset(&self, to: ResetTarget) -> Result<LaunchResult, LiveshipError> {
        core("reset", || self.inner.reset(to))
    }

    /// What serves now.
    pub fn current(&self) -> Result<LaunchResult, LiveshipError> {
        core("current", || self.inner.current())
    }

    pub fn status(&self) -> Result<Status, LiveshipError> {
        core("status", || self.inner.status())
    }

    /// Installed bundles with their roles.
    pub fn list(&self) -> Result<Vec<BundleInfo>, LiveshipError> {
        core("list", || self.inner.list())
    }

    /// Deletes an installed bundle that has no role.
    pub fn delete(&self, bundle_id: String) -> Result<(), LiveshipError> {
        core("delete", || self.inner.delete(&bundle_id))
    }

    /// Transitions, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, LiveshipError> {
        core("history", || self.inner.history())
    }

    /// The channel this device follows.
    pub fn get_channel(&self) -> Result<String, LiveshipError> {
        core("getChannel", || self.inner.channel())
    }

    /// Follows `channel` from now on (overrides `defaultChannel`).
    pub fn set_channel(&self, channel: String) -> Result<(), LiveshipError> {
        guard("setChannel", || {
            if channel.is_empty() {
                return Err(LiveshipError::InvalidArgument {
                    reason: "channel must not be empty".into(),
                });
            }
            self.inner
                .set_channel(Some(&channel))
                .map_err(LiveshipError::from_core)
        })
    }

    /// Goes back to the configured `defaultChannel`.
    pub fn unset_channel(&self) -> Result<(), LiveshipError> {
        core("unsetChannel", || self.inner.set_channel(None))
    }

    /// The random per-install id (rollout buckets); no personal data.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_string()
    }

    pub fn app_moved_to_background(&self) {
        let _ = guard("appMovedToBackground", || {
            self.inner.app_moved_to_background();
            Ok(())
        });
    }

    /// Applies a pending next bundle in apply mode `background`; returns what serves if it
    /// changed (the native layer reloads, `ReloadRequired` says so too).
    pub fn app_moved_to_foreground(&self) -> Result<Option<LaunchResult>, LiveshipError> {
        core("appMovedToForeground", || {
            self.inner.app_moved_to_foreground()
        })
    }

    /// Capgo's `setMultiDelay`: the downloaded `next` bundle waits until every condition has
    /// been met (replaces earlier conditions).
    pub fn set_multi_delay(&self, conditions: Vec<DelayCondition>) -> Result<(), LiveshipError> {
        core("setMultiDelay", || self.inner.set_delay(&conditions))
    }

    /// Capgo's `cancelDelay`: `next` applies at the next opportunity again.
    pub fn cancel_delay(&self) -> Result<(), LiveshipError> {
        core("cancelDelay", || self.inner.set_delay(&[]))
    }

    /// The delay conditions still pending.
    pub fn delay_conditions(&self) -> Result<Vec<DelayCondition>, LiveshipError> {
        core("delayConditions", || self.inner.delay())
    }
}

impl Updater {
    fn open(
        config: CoreConfig,
        listener: Option<Arc<dyn EventListener>>,
    ) -> Result<Arc<Self>, LiveshipError> {
        let data_dir = config
            .data_dir
            .clone()
            .filter(|d| !d.as_os_str().is_empty())
            .ok_or_else(|| LiveshipError::InvalidArgument {
                reason: "dataDir must be set".into(),
            })?;
        let sink = Arc::new(ListenerSink(listener.clone()));
        let inner = Engine::open(config, &data_dir, sink).map_err(LiveshipError::from_core)?;
        Ok(Arc::new(Updater {
            inner: Arc::new(inner),
            listener,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(dir: &Path) -> Config {
        Config {
            app_id: "com.example.app".into(),
            platform: "android".into(),
            native_version: "1.0.0".into(),
            data_dir: dir.join("data").to_string_lossy().into_owned(),
            builtin_dir: dir.join("builtin").to_string_lossy().into_owned(),
            builtin_version: None,
            default_channel: None,
            update_url: None,
            update_mode: None,
            public_keys: vec![],
            bundle_keys: vec![],
            app_ready_timeout_ms: None,
            auto_update: None,
            reset_when_update: None,
            period_check_delay: None,
            response_timeout: None,
            apply_mode: None,
            min_background_ms: None,
            allow_insecure_loopback: None,
            extra_ca_cert: None,
            development: None,
        }
    }

    #[test]
    fn unset_record_fields_take_the_json_schema_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let from_record = record(dir.path()).into_core().unwrap();
        let from_json: CoreConfig = serde_json::from_value(serde_json::json!({
            "appId": "com.example.app", "platform": "android", "nativeVersion": "1.0.0",
            "dataDir": dir.path().join("data"), "builtinDir": dir.path().join("builtin"),
        }))
        .unwrap();
        assert_eq!(from_record, from_json);
    }

    #[test]
    fn host_info_overrides_the_json_and_bad_json_is_an_invalid_argument() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostInfo {
            app_id: "com.example.app".into(),
            platform: "ios".into(),
            native_version: "2.0".into(),
            data_dir: dir.path().join("data").to_string_lossy().into_owned(),
            builtin_dir: dir.path().join("builtin").to_string_lossy().into_owned(),
        };
        let json = r#"{"appId": "other.app", "defaultChannel": "beta"}"#;
        let u = Updater::from_json(json.into(), host.clone(), None).unwrap();
        assert_eq!(u.inner.config().app_id, "com.example.app");
        assert_eq!(u.get_channel().unwrap(), "beta");
        drop(u);
        let err = Updater::from_json("{\"appReadyTimeout\": \"soon\"}".into(), host, None)
            .err()
            .unwrap();
        assert!(
            matches!(err, LiveshipError::InvalidArgument { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_listener_that_panics_does_not_take_the_core_down() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Panics(AtomicUsize);
        impl EventListener for Panics {
            fn on_event(&self, _event: Event) {
                self.0.fetch_add(1, Ordering::SeqCst);
                panic!("listener bug");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let listener = Arc::new(Panics(AtomicUsize::new(0)));
        let u = Updater::new(record(dir.path()), Some(listener.clone())).unwrap();
        // `reset` emits `ReloadRequired`; the listener panics on it.
        let served = u.reset(ResetTarget::Builtin).unwrap();
        assert!(
            listener.0.load(Ordering::SeqCst) >= 1,
            "the listener was not called"
        );
        assert_eq!(served.id, boot::BUILTIN);
        // The core still answers.
        let now = u.current().unwrap();
        assert_eq!(now.id, boot::BUILTIN);
        assert_eq!(now.version, "builtin");
        assert!(!now.trial);
        assert_eq!(u.launch().id, boot::BUILTIN);
        assert_eq!(u.get_channel().unwrap(), "production");
        u.set_channel("beta".into()).unwrap();
        assert_eq!(u.get_channel().unwrap(), "beta");
        assert!(u.list().unwrap().is_empty());
        let calls = listener.0.load(Ordering::SeqCst);
        assert_eq!(u.reset(ResetTarget::Builtin).unwrap().id, boot::BUILTIN);
        assert!(
            listener.0.load(Ordering::SeqCst) > calls,
            "later events still reach it"
        );
    }
}
