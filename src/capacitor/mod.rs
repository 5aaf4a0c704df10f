//! The Capacitor plugin's JavaScript contract, once, for both platforms: a plugin method's name
//! and JSON options in, the JSON result (or a rejection with its error code) out, plus the
//! native *effects* the shell must carry out. Kotlin and Swift forward every call here and do
//! only what the platform alone can: the WebView swap and reload, lifecycle observers,
//! WorkManager / BGTaskScheduler, paths, TLS set-up (docs/PLUGIN.md).
//!
//! Decided here: argument checks and their error codes ([`args`]), Capgo-compatible payloads
//! and events ([`payload`]: events leave the core already named and shaped for JavaScript),
//! consent and the data rights (`exportData`, `deleteData`), when automatic updates run (at
//! start, on return to the foreground, every `periodCheckDelay`, after `setChannel` with
//! `triggerAutoUpdate`), when background work is scheduled or cancelled, and which page load
//! completes a swap (`appReloaded`).
//!
//! Effects: those a call causes come back with its [`Reply`], so the shell resolves the call
//! and then acts (the core's `ReloadRequired` events on the calling thread are collected for
//! it); those that happen outside a call (a revert by the app-ready timer, an `immediate` apply
//! at the end of an automatic update) and [`Effect::UpdateRunning`] go to
//! [`PluginListener::perform`] at once.
//!
//! Threads: every method blocks its caller (shells call off the main thread) except
//! [`CapacitorPlugin::page_loaded`] and the lifecycle calls, which are quick. JavaScript events go
//! out on a thread of this module's own, in order, never inside the core's event callback (the
//! payloads read the installed bundles, which needs the store).

pub mod args;
pub mod capgo_api;
mod methods;
mod shell;

pub use methods::{export_data, METHODS};
pub use shell::{BackgroundResult, BackgroundRun, Effect, Reply, Started};
pub mod payload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use serde_json::Value;

use crate::boot::{self, BUILTIN};
use crate::clock::{Clock, SystemClock, Timer};
use crate::config::Config;
use crate::engine::Engine;
use crate::error::LiveshipError;
use crate::events::{Event, EventSink, UpdateOutcome};
use crate::fetch::HttpConfig;
use crate::ffi::{core, guard, panic_message, HostInfo};
use args::{ArgError, Args};

/// This plugin's version (`getPluginVersion`); equal to package.json's (a test checks).
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The plugin methods, for the iOS shell's `pluginMethods`.
#[uniffi::export]
pub fn plugin_methods() -> Vec<String> {
    METHODS.iter().map(|m| m.to_string()).collect()
}

/// The shell's side: Capacitor's `notifyListeners` and the effects that happen outside a call.
/// Called on the core's threads; must return quickly and never throw.
#[uniffi::export(with_foreign)]
pub trait PluginListener: Send + Sync {
    /// `notifyListeners(event, data, retain)`: `data` is a JSON object's text; `retain` keeps
    /// the event until a listener takes it (events that happen before the page can listen).
    fn notify(&self, event: String, data: String, retain: bool);
    /// Carry out `effect` (on the thread the platform requires).
    fn perform(&self, effect: Effect);
}

/// The plugin's core: one per process, shared by the plugin and the background worker.
#[derive(uniffi::Object)]
pub struct CapacitorPlugin {
    /// `Err`: why the core did not start (a configuration it refuses). The app still starts on
    /// its built-in bundle and every call rejects with this reason.
    engine: Result<Arc<Engine>, String>,
    shared: Arc<Shared>,
    builtin_version: String,
    period: Mutex<Option<Timer>>,
    /// `start` ran: later calls (a bridge built again in the same process) get what serves now.
    started: std::sync::atomic::AtomicBool,
    /// Set by the period timer's task to reach the plugin without keeping it alive.
    me: Weak<CapacitorPlugin>,
}

/// What the event sink, the events thread and the plugin share.
struct Shared {
    listener: Arc<dyn PluginListener>,
    state: Mutex<State>,
    /// Update cycles this module started that have not ended. Held while the edge is performed,
    /// so the shell sees `UpdateRunning` true and false in the order they happened.
    running: Mutex<u32>,
    events: Mutex<mpsc::Sender<Message>>,
}

#[derive(Default)]
struct State {
    /// Effects of the calls running now, by calling thread.
    collecting: HashMap<ThreadId, Vec<Effect>>,
    /// The bundle whose page completes the last swap (`appReloaded` once it has loaded).
    swap_to: Option<String>,
    /// The last revert since start, for `getFailedUpdate` (cleared once read).
    failed: Option<Value>,
    /// The app went to the background since it started.
    was_in_background: bool,
    /// The debug menu (`shakeMenu`) and its channel choices (`allowShakeChannelSelector`), as
    /// configured until `setShakeMenu` / `setShakeChannelSelector` change them.
    shake: Option<capgo_api::Shake>,
}

enum Message {
    Core(Event),
    Outcome(Result<UpdateOutcome, LiveshipError>),
    Js(&'static str, Value),
}

impl Shared {
    fn new(listener: Arc<dyn PluginListener>, events: mpsc::Sender<Message>) -> Arc<Shared> {
        Arc::new(Shared {
            listener,
            state: Mutex::new(State::default()),
            running: Mutex::new(0),
            events: Mutex::new(events),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn running(&self) -> MutexGuard<'_, u32> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, m: Message) {
        let _ = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(m);
    }

    /// To the running call on this thread if there is one, else to the shell now.
    fn effect(&self, effect: Effect) {
        let mut s = self.state();
        if let Effect::Serve { bundle_id, .. } = &effect {
            s.swap_to = Some(bundle_id.clone());
        }
        if let Some(list) = s.collecting.get_mut(&std::thread::current().id()) {
            list.push(effect);
            return;
        }
        drop(s);
        self.perform(effect);
    }

    fn perform(&self, effect: Effect) {
        let l = self.listener.clone();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.perform(effect)));
    }

    /// Runs `f` collecting the effects it causes on this thread.
    fn collect<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<Effect>) {
        let me = std::thread::current().id();
        self.state().collecting.insert(me, Vec::new());
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let effects = self.state().collecting.remove(&me).unwrap_or_default();
        match out {
            Ok(v) => (v, effects),
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

/// The engine's sink: `ReloadRequired` is an effect, everything else a JavaScript event.
struct Sink(Arc<Shared>);

impl EventSink for Sink {
    fn on_event(&self, event: Event) {
        match event {
            Event::ReloadRequired {
                bundle_id, path, ..
            } => self.0.effect(Effect::Serve {
                bundle_id,
                path: path.map(PathBuf::from),
            }),
            other => self.0.send(Message::Core(other)),
        }
    }
}

/// The events thread: maps and delivers in order until the plugin is gone.
fn deliver(
    rx: mpsc::Receiver<Message>,
    shared: Weak<Shared>,
    engine: Weak<Engine>,
    builtin: String,
) {
    for m in rx {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let installed = || {
            engine
                .upgrade()
                .and_then(|e| e.list().ok())
                .unwrap_or_default()
        };
        let (name, data) = match m {
            Message::Core(e) => match payload::event(&e, &installed, &builtin) {
                Some(out) => out,
                None => continue,
            },
            Message::Outcome(o) => {
                let installed = installed();
                let serving = engine
                    .upgrade()
                    .and_then(|e| e.current().ok())
                    .map(|l| payload::launch(&l, &installed, &builtin))
                    .unwrap_or_else(|| payload::builtin(&builtin));
                let data = payload::outcome(&o, &installed, &builtin, serving);
                ("updateCheckResult", data)
            }
            Message::Js(name, data) => (name, data),
        };
        if name == "updateFailed" {
            shared.state().failed = Some(data.clone());
        }
        let retain = payload::RETAINED.contains(&name);
        let aliases = payload::ALIASES.iter().filter(|(n, _)| *n == name);
        for name in std::iter::once(name).chain(aliases.map(|(_, alias)| *alias)) {
            let l = shared.listener.clone();
            let text = data.to_string();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                l.notify(name.to_string(), text, retain)
            }));
        }
    }
}

/// A failed call, before it becomes a [`Reply::Reject`].
enum Failure {
    Arg(ArgError),
    Core(LiveshipError),
    Plugin(&'static str, String),
}

impl From<ArgError> for Failure {
    fn from(e: ArgError) -> Self {
        Failure::Arg(e)
    }
}

impl From<LiveshipError> for Failure {
    fn from(e: LiveshipError) -> Self {
        Failure::Core(e)
    }
}

type Outcome = Result<Option<Value>, Failure>;

/// What a call answers when it does not fail: its data, or a hand-off to a platform file.
enum Answer {
    Data(Option<Value>),
    Native(capgo_api::NativeCall),
}

/// The rejection of a failed call, logged.
fn rejection(method: &str, f: Failure) -> Reply {
    let (code, message, check) = match f {
        Failure::Arg(e) => ("invalidArgument", e.to_string(), None),
        Failure::Core(e) => payload::error(&e),
        Failure::Plugin(code, message) => (code, message, None),
    };
    log::info!("{method} rejected: {code}: {message}");
    Reply::Reject {
        code: code.into(),
        message,
        check,
    }
}

#[uniffi::export]
impl CapacitorPlugin {
    /// Opens the core from the `plugins.Liveship` JSON (docs/CONFIG.md), with what native code
    /// knows in `host` (it wins over the JSON; `builtinVersion` defaults to the native version).
    /// Never fails: a configuration the core refuses gives a plugin that serves the built-in
    /// bundle and rejects every call with the reason.
    #[uniffi::constructor]
    pub fn open(
        config_json: String,
        host: HostInfo,
        listener: Arc<dyn PluginListener>,
    ) -> Arc<Self> {
        let native_version = host.native_version.clone();
        let config = guard("open", || {
            match serde_json::from_str::<Value>(&config_json) {
                Ok(Value::Object(mut o)) => {
                    o.entry("builtinVersion")
                        .or_insert(native_version.clone().into());
                    host.config_from_json(&Value::Object(o).to_string())
                }
                // The same refusal as any other configuration error, with the parser's words.
                _ => host.config_from_json(&config_json),
            }
        });
        match config {
            Ok(c) => Self::open_with(c, listener, HttpConfig::default(), Arc::new(SystemClock)),
            Err(e) => Self::not_started(e.to_string(), native_version, listener),
        }
    }

    /// Native start-up, before the first page: which bundle to serve (a trial that never
    /// confirmed is reverted here), the background schedule, the periodic checks, and the
    /// first automatic update. The launch happens once per process: a later call (Android
    /// builds a Bridge per Activity, an iOS host may build a bridge again) gets what serves now,
    /// since launching again would take this run's own unconfirmed trial for a crashed one and
    /// revert it.
    pub fn start(&self) -> Started {
        let Ok(engine) = &self.engine else {
            return Started {
                bundle_id: BUILTIN.into(),
                version: self.builtin_version.clone(),
                path: None,
                trial: false,
                effects: vec![],
            };
        };
        let again = self.started.swap(true, std::sync::atomic::Ordering::SeqCst);
        let launch = guard("launch", || {
            if again {
                core("current", || engine.current())
            } else {
                Ok(engine.launch())
            }
        })
        .unwrap_or_else(|_| boot::LaunchResult {
            id: BUILTIN.into(),
            version: self.builtin_version.clone(),
            path: None,
            trial: false,
            reverted: None,
        });
        // A swap announced before this start (a Serve no WebView carried out, say from a
        // background run) is not completed by the first page of this start.
        self.shared.state().swap_to = None;
        if let Some(r) = &launch.reverted {
            let failed = payload::failed(
                payload::partial(&r.id, &r.version, "error", "failed"),
                &r.reason,
            );
            self.shared.state().failed = Some(failed);
        }
        log::info!(
            "launch: {} {}{}",
            launch.id,
            launch.version,
            if launch.trial { " (trial)" } else { "" }
        );
        let c = engine.config();
        if c.period_check_delay > 0 {
            self.schedule_period(Duration::from_secs(c.period_check_delay));
        }
        self.auto_update();
        let mut effects = vec![self.background_schedule()];
        if self.shake(engine).watching() {
            effects.push(Effect::ShakeMenu { enabled: true });
        }
        Started {
            bundle_id: launch.id,
            version: launch.version,
            path: launch.path,
            trial: launch.trial,
            effects,
        }
    }

    /// One plugin method: `method` as JavaScript names it, `options` its JSON object.
    pub fn call(&self, method: String, options: String) -> Reply {
        let (outcome, effects) = self.shared.collect(|| {
            let run = || -> Result<Answer, Failure> {
                let engine = match &self.engine {
                    Ok(e) => e,
                    Err(why) => {
                        return Err(Failure::Plugin(
                            "internal",
                            format!("Liveship did not start: {why}"),
                        ))
                    }
                };
                let args = Args::parse(&options)?;
                if let Some(native) = capgo_api::native_call(engine.config(), &method, &args) {
                    return native.map(Answer::Native);
                }
                self.dispatch(engine, &method, &args).map(Answer::Data)
            };
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|p| {
                let what = panic_message(p.as_ref());
                log::error!("{method} panicked: {what}");
                Err(Failure::Plugin(
                    "internal",
                    format!("{method} panicked: {what}"),
                ))
            })
        });
        match outcome {
            Ok(Answer::Data(data)) => Reply::Resolve {
                data: data.map(|v| v.to_string()),
                effects,
            },
            Ok(Answer::Native(n)) => Reply::Native {
                feature: n.feature.into(),
                action: n.action.into(),
                options: n.options.to_string(),
            },
            Err(f) => rejection(&method, f),
        }
    }

    /// The WebView finished loading a page of `bundle_id` (the id the shell last served). When it
    /// completes a swap, `appReloaded` goes to that page and the answer is `true` (Android then
    /// clears the WebView's history so that Back cannot return to the old bundle's page).
    pub fn page_loaded(&self, bundle_id: String) -> bool {
        let mut s = self.shared.state();
        if s.swap_to.as_deref() != Some(bundle_id.as_str()) {
            return false;
        }
        s.swap_to = None;
        drop(s);
        self.shared
            .send(Message::Js("appReloaded", payload::empty()));
        true
    }

    /// The app went to the background (the core measures the time away).
    pub fn app_moved_to_background(&self) {
        self.shared.state().was_in_background = true;
        if let Ok(e) = &self.engine {
            let _ = guard("appMovedToBackground", || {
                e.app_moved_to_background();
                Ok(())
            });
        }
    }

    /// The app returned to the foreground: delay conditions and apply mode `background` are
    /// decided (a switch comes back as a `Serve` effect), then an automatic update runs. The
    /// first start is not a return and does nothing.
    pub fn app_moved_to_foreground(&self) -> Vec<Effect> {
        let Ok(e) = &self.engine else { return vec![] };
        if !self.shared.state().was_in_background {
            return vec![];
        }
        let (r, effects) = self
            .shared
            .collect(|| core("appMovedToForeground", || e.app_moved_to_foreground()));
        if let Err(err) = r {
            log::warn!("foreground apply failed: {err}");
        }
        self.auto_update();
        effects
    }

    /// WorkManager / BGTaskScheduler: check, download and install as next within the deadline;
    /// also says whether to keep the work scheduled.
    pub fn run_background(&self, deadline_seconds: u64) -> BackgroundRun {
        let engine = match &self.engine {
            Ok(e) => e,
            Err(why) => {
                return BackgroundRun {
                    result: BackgroundResult::Failure,
                    message: format!("Liveship did not start: {why}"),
                    effects: vec![],
                }
            }
        };
        let schedule = self.background_schedule();
        if schedule == Effect::CancelBackground {
            return BackgroundRun {
                result: BackgroundResult::Success,
                message: "automatic updates are off".into(),
                effects: vec![schedule],
            };
        }
        let (r, mut effects) = self.shared.collect(|| {
            core("runBackgroundUpdate", || {
                engine.run_background_update(Duration::from_secs(deadline_seconds))
            })
        });
        effects.insert(0, schedule);
        let (result, message) = match r {
            Ok(UpdateOutcome::Installed { id, version, .. }) => (
                BackgroundResult::Success,
                format!("installed {version} ({id})"),
            ),
            Ok(UpdateOutcome::NoUpdate { code, reason }) => {
                (BackgroundResult::Success, format!("{code}: {reason}"))
            }
            Err(e @ (LiveshipError::Network { .. } | LiveshipError::Busy { .. })) => {
                (BackgroundResult::Retry, e.to_string())
            }
            Err(e) => (BackgroundResult::Failure, e.to_string()),
        };
        BackgroundRun {
            result,
            message,
            effects,
        }
    }

    /// The OS ended the background budget early (BGTask expiration, WorkManager `onStopped`):
    /// the running background run stops now, its partial download kept.
    pub fn end_background_run(&self) {
        if let Ok(e) = &self.engine {
            e.end_background_run();
        }
    }
}

impl CapacitorPlugin {
    /// [`CapacitorPlugin::open`] from the core's configuration (every field set, `dataDir`
    /// included), on other HTTP limits and another clock: for tests and for hosts that build
    /// the configuration themselves (`liveship device`).
    pub fn open_with(
        config: Config,
        listener: Arc<dyn PluginListener>,
        http: HttpConfig,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        let builtin_version = config.builtin_version.clone();
        let (tx, rx) = mpsc::channel();
        let shared = Shared::new(listener, tx);
        if config.development && log::max_level() < log::LevelFilter::Debug {
            log::set_max_level(log::LevelFilter::Debug);
        }
        let engine = match config.data_dir.clone() {
            None => Err("dataDir must be set".to_string()),
            Some(dir) => guard("open", || {
                let sink = Arc::new(Sink(shared.clone()));
                Engine::open_with_clock(config, &dir, sink, http, clock)
                    .map_err(LiveshipError::from_core)
            })
            .map(Arc::new)
            .map_err(|e| e.to_string()),
        };
        if let Err(why) = &engine {
            log::error!("Liveship did not start; serving the built-in bundle: {why}");
        }
        let weak_engine = engine.as_ref().map(Arc::downgrade).unwrap_or_default();
        let weak_shared = Arc::downgrade(&shared);
        let builtin = builtin_version.clone();
        let spawned = std::thread::Builder::new()
            .name("liveship-events".into())
            .spawn(move || deliver(rx, weak_shared, weak_engine, builtin));
        if let Err(e) = spawned {
            log::error!("cannot start the events thread: {e}");
        }
        Arc::new_cyclic(|me| CapacitorPlugin {
            engine,
            shared,
            builtin_version,
            period: Mutex::new(None),
            started: Default::default(),
            me: me.clone(),
        })
    }

    fn not_started(
        why: String,
        builtin_version: String,
        listener: Arc<dyn PluginListener>,
    ) -> Arc<Self> {
        log::error!("Liveship did not start; serving the built-in bundle: {why}");
        let (tx, _rx) = mpsc::channel();
        Arc::new_cyclic(|me| CapacitorPlugin {
            engine: Err(why),
            shared: Shared::new(listener, tx),
            builtin_version,
            period: Mutex::new(None),
            started: Default::default(),
            me: me.clone(),
        })
    }

    /// The engine underneath, for hosts that also use the typed API.
    pub fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.as_ref().ok()
    }

    /// The background work as the configuration wants it.
    fn background_schedule(&self) -> Effect {
        match &self.engine {
            Ok(e)
                if auto_update_enabled(&e.effective_config())
                    && e.config().background_interval_minutes > 0 =>
            {
                let c = e.config();
                Effect::ScheduleBackground {
                    interval_minutes: c.background_interval_minutes,
                    unmetered_only: c.background_unmetered_only,
                    charging_only: c.background_charging_only,
                }
            }
            _ => Effect::CancelBackground,
        }
    }

    /// Starts an automatic update cycle when `autoUpdate` is on and none of ours is running.
    fn auto_update(&self) {
        if let Ok(e) = &self.engine {
            if auto_update_enabled(&e.effective_config()) {
                self.start_update(e);
            }
        }
    }

    /// Check-download-install on a thread of its own; the result arrives as `updateCheckResult`.
    /// `false`: a cycle is running already (it reports for this one too).
    fn start_update(&self, e: &Arc<Engine>) -> bool {
        {
            let mut running = self.shared.running();
            if *running > 0 {
                return false;
            }
            *running = 1;
            self.shared.perform(Effect::UpdateRunning { running: true });
        }
        let engine = e.clone();
        let shared = self.shared.clone();
        let me = self.me.clone();
        let spawned = std::thread::Builder::new()
            .name("liveship-update".into())
            .spawn(move || {
                let outcome = core("update", || engine.update());
                shared.send(Message::Outcome(outcome));
                if let Some(p) = me.upgrade() {
                    p.running(false);
                }
            });
        if let Err(err) = spawned {
            log::error!("cannot start the update thread: {err}");
            self.running(false);
        }
        true
    }

    /// Counts our running update cycles; the first start and the last end are effects.
    fn running(&self, started: bool) {
        let mut running = self.shared.running();
        let before = *running;
        *running = if started {
            before + 1
        } else {
            before.saturating_sub(1)
        };
        if (before == 0) != (*running == 0) {
            self.shared
                .perform(Effect::UpdateRunning { running: started });
        }
    }

    /// Every `period`, an automatic update (Capgo's `periodCheckDelay`), on the core's clock.
    fn schedule_period(&self, period: Duration) {
        let Ok(e) = &self.engine else { return };
        let me = self.me.clone();
        let timer = e.clock().schedule(
            period,
            Box::new(move || {
                if let Some(p) = me.upgrade() {
                    p.auto_update();
                    p.schedule_period(period);
                }
            }),
        );
        *self.period.lock().unwrap_or_else(|p| p.into_inner()) = Some(timer);
    }
}

fn auto_update_enabled(c: &Config) -> bool {
    c.auto_update && c.update_url.as_deref().is_some_and(|u| !u.is_empty())
}
