//! The public face for Kotlin, Swift and Python (uniffi proc-macros, bindings generated in
//! library mode from the built library; see `docs/API.md`).
//!
//! One object, [`Updater`], holds an `Arc` of the plain-Rust [`crate::engine::Engine`] and
//! forwards to it; this module owns only the translation at the edge:
//! - the core's `Config` (with `PinnedKey`/`BundleKey`), `Event` and the boot protocol's types
//!   (`LaunchResult`, `BundleInfo`, ...) are exported as they are; records and enums remain for
//!   what has no core type of its own yet (`Status`, `CheckResult`, `UpdateOutcome`, ...);
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
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use error::LiveshipError;
pub(crate) use error::{core, guard, panic_message};
use listener::ListenerSink;
pub use listener::{set_logger, EventListener, LogLevel, Logger};

use crate::boot;
// The boot protocol's own types cross the edge as they are (no mirrors).
pub use crate::boot::{
    BundleInfo, BundleStatus, Confirmed as ReadyOutcome, DelayCondition, LaunchResult, ResetTarget,
    Reverted,
};
use crate::config::{Config, Consent};
pub use crate::engine::{CheckResult, InstalledBundle, Status, UpdateOutcome};
use crate::engine::{DeletedData, Engine, FlushReport};
use crate::events::Event;
pub use crate::store::HistoryEntry;

// ---------------------------------------------------------------------------------------------
// Configuration: the core's own `Config` record (crate::config), plus what native code knows

/// What native code supplies itself when the rest of the configuration comes as JSON.
/// These values override the same fields in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostInfo {
    pub app_id: String,
    pub platform: String,
    pub native_version: String,
    /// Android `versionCode` / iOS `CFBundleVersion` (config `nativeBuild`).
    #[uniffi(default = None)]
    pub native_build: Option<String>,
    pub data_dir: String,
    pub builtin_dir: String,
    /// The OS version (config `osVersion`, sent in update events only with consent).
    #[uniffi(default = None)]
    pub os_version: Option<String>,
    /// Running in an emulator or simulator (config `isEmulator`).
    #[uniffi(default = false)]
    pub is_emulator: bool,
}

impl HostInfo {
    /// The `plugins.Liveship` JSON (docs/CONFIG.md) with what native code knows put in (it wins
    /// over the same fields in the JSON), parsed into the core's configuration.
    pub fn config_from_json(&self, json: &str) -> Result<Config, LiveshipError> {
        let invalid = |reason: String| LiveshipError::InvalidArgument { reason };
        let mut value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| invalid(format!("config JSON does not parse: {e}")))?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| invalid("config JSON is not an object".into()))?;
        obj.insert("appId".into(), self.app_id.clone().into());
        obj.insert("platform".into(), self.platform.clone().into());
        obj.insert("nativeVersion".into(), self.native_version.clone().into());
        if let Some(build) = &self.native_build {
            obj.insert("nativeBuild".into(), build.clone().into());
        }
        obj.insert("dataDir".into(), self.data_dir.clone().into());
        obj.insert("builtinDir".into(), self.builtin_dir.clone().into());
        if let Some(os) = &self.os_version {
            obj.insert("osVersion".into(), os.clone().into());
        }
        obj.insert("isEmulator".into(), self.is_emulator.into());
        serde_json::from_value(value).map_err(|e| invalid(format!("config JSON is not valid: {e}")))
    }
}

// ---------------------------------------------------------------------------------------------
// Records and enums returned to the app

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
        guard("open", || {
            Self::open(config.with_record_defaults(), listener)
        })
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
            Self::open(host.config_from_json(&json)?, listener)
        })
    }

    /// The configuration in force: the JSON or record as the core parsed and checked it, every
    /// default applied. The native shells read their own settings (background schedule,
    /// periodic checks) from it instead of parsing the JSON themselves.
    pub fn config(&self) -> Config {
        self.inner.config().clone()
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

    /// The OS ended the background budget early (BGTask expiration, WorkManager `onStopped`):
    /// the running `runBackgroundUpdate` stops now as at its deadline, its partial download kept.
    pub fn end_background_run(&self) {
        self.inner.end_background_run()
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

    /// The random per-install id (rollout buckets); no personal data. `delete_data` replaces it.
    pub fn device_id(&self) -> String {
        self.inner.device_id()
    }

    /// The consent level in force for update events (docs/PRIVACY.md).
    pub fn consent(&self) -> Consent {
        self.inner.consent()
    }

    /// Sets the user's consent level; lowering it deletes the events queued under the higher
    /// level. Returns how many.
    pub fn set_consent(&self, level: Consent) -> Result<u64, LiveshipError> {
        core("setConsent", || self.inner.set_consent(level))
    }

    /// Sends the queued update events to `statsUrl` now (blocking; call it off the main thread).
    pub fn flush_stats(&self) -> Result<FlushReport, LiveshipError> {
        core("flushStats", || self.inner.flush_stats(true))
    }

    /// Erases this install's data and rotates its id (`deleteData`, docs/PRIVACY.md). The
    /// native layer reloads the WebView (`ReloadRequired`).
    pub fn delete_data(&self) -> Result<DeletedData, LiveshipError> {
        core("deleteData", || self.inner.delete_data())
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
        config: Config,
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
            data_dir: Some(dir.join("data")),
            builtin_dir: dir.join("builtin"),
            ..serde_json::from_value(serde_json::json!({
                "appId": "com.example.app", "platform": "android", "nativeVersion": "1.0.0",
            }))
            .unwrap()
        }
    }

    #[test]
    fn host_info_overrides_the_json_and_bad_json_is_an_invalid_argument() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostInfo {
            app_id: "com.example.app".into(),
            platform: "ios".into(),
            native_version: "2.0".into(),
            native_build: None,
            data_dir: dir.path().join("data").to_string_lossy().into_owned(),
            builtin_dir: dir.path().join("builtin").to_string_lossy().into_owned(),
            os_version: None,
            is_emulator: false,
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
    fn the_listener_receives_the_core_events_as_they_are() {
        use std::sync::Mutex;
        struct Records(Mutex<Vec<Event>>);
        impl EventListener for Records {
            fn on_event(&self, event: Event) {
                self.0.lock().unwrap().push(event);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let listener = Arc::new(Records(Mutex::new(vec![])));
        let u = Updater::new(record(dir.path()), Some(listener.clone())).unwrap();
        u.reset(ResetTarget::Builtin).unwrap();
        assert_eq!(
            *listener.0.lock().unwrap(),
            [Event::ReloadRequired {
                bundle_id: boot::BUILTIN.into(),
                path: None,
                reason: "reset".into(),
            }]
        );
        // The result of `startDownloadAndInstall` comes through the same listener: without an
        // `updateUrl` the update fails, as a public error.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        struct Done(Mutex<std::sync::mpsc::Sender<Event>>);
        impl EventListener for Done {
            fn on_event(&self, event: Event) {
                let _ = self.0.lock().unwrap().send(event);
            }
        }
        drop(u);
        let u = Updater::new(
            record(dir.path()),
            Some(Arc::new(Done(Mutex::new(done_tx)))),
        )
        .unwrap();
        u.start_download_and_install().unwrap();
        let event = done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap();
        assert!(matches!(event, Event::UpdateError { .. }), "{event:?}");
        // These two have no JSON form (the Rust sinks never see them).
        assert!(serde_json::to_string(&event).is_err());
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
