//! The plugin's JavaScript contract (src/capacitor), method by method, as the Android and iOS
//! shells drive it: a method name and JSON options in, a JSON result or a coded rejection out,
//! with the native effects to carry out. Releases are published with the real packer and served
//! on loopback; time is a manual clock.

#[path = "capacitor_contract/capgo.rs"]
mod capgo;
mod support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use liveship::capacitor::{
    BackgroundResult, CapacitorPlugin, Effect, PluginListener, Reply, METHODS, PLUGIN_VERSION,
};
use liveship::clock::ManualClock;
use liveship::config::{ApplyMode, Config};
use serde_json::{json, Value};
use support::{fast_http, Net, Publisher};

// ---------------------------------------------------------------------------------------------
// The shell: records what the core asks of it

#[derive(Default)]
struct Shell {
    seen: Mutex<Seen>,
    changed: Condvar,
}

#[derive(Default)]
struct Seen {
    events: Vec<(String, Value, bool)>,
    effects: Vec<Effect>,
}

impl PluginListener for Shell {
    fn notify(&self, event: String, data: String, retain: bool) {
        let data = serde_json::from_str(&data).expect("event data is JSON");
        self.seen.lock().unwrap().events.push((event, data, retain));
        self.changed.notify_all();
    }
    fn perform(&self, effect: Effect) {
        self.seen.lock().unwrap().effects.push(effect);
        self.changed.notify_all();
    }
}

impl Shell {
    /// Waits (on the condition variable, not a sleep) until `done` holds for what was seen.
    fn wait<T>(&self, what: &str, done: impl Fn(&Seen) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut seen = self.seen.lock().unwrap();
        loop {
            if let Some(v) = done(&seen) {
                return v;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; seen {:?}",
                seen.events
            );
            seen = self.changed.wait_timeout(seen, left).unwrap().0;
        }
    }

    /// The first `name` event not taken yet (taken events are removed).
    fn event(&self, name: &str) -> (Value, bool) {
        let (data, retain) = self.wait(name, |s| {
            s.events
                .iter()
                .find(|e| e.0 == name)
                .map(|e| (e.1.clone(), e.2))
        });
        let mut seen = self.seen.lock().unwrap();
        let i = seen.events.iter().position(|e| e.0 == name).unwrap();
        seen.events.remove(i);
        (data, retain)
    }

    fn names(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .events
            .iter()
            .map(|e| e.0.clone())
            .collect()
    }

    fn effects(&self) -> Vec<Effect> {
        self.seen.lock().unwrap().effects.clone()
    }

    fn clear(&self) {
        let mut s = self.seen.lock().unwrap();
        s.events.clear();
        s.effects.clear();
    }
}

// ---------------------------------------------------------------------------------------------
// An app: a publisher, its served repository, a device folder, the plugin

struct App {
    p: Publisher,
    net: Net,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    shell: Arc<Shell>,
    plugin: Arc<CapacitorPlugin>,
    /// The configuration it was opened with (a restart opens it again).
    cfg: Config,
}

fn app() -> App {
    app_with(|_| {})
}

/// An app whose automatic updates are off unless `tweak` turns them on (so each test decides
/// when something is downloaded).
fn app_with(tweak: impl Fn(&mut Config)) -> App {
    let p = Publisher::new(true);
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let shell = Arc::new(Shell::default());
    let mut cfg = config(&p, &net, &dir);
    tweak(&mut cfg);
    let plugin = CapacitorPlugin::open_with(cfg.clone(), shell.clone(), fast_http(), clock.clone());
    App {
        p,
        net,
        dir,
        clock,
        shell,
        plugin,
        cfg,
    }
}

fn config(p: &Publisher, net: &Net, dir: &tempfile::TempDir) -> Config {
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.data_dir = Some(dir.path().join("data"));
    cfg.auto_update = false;
    cfg.builtin_version = "1.0.0-builtin".into();
    cfg
}

impl App {
    fn call(&self, method: &str, options: Value) -> Reply {
        self.plugin.call(method.into(), options.to_string())
    }

    /// The resolved data (`Value::Null` for `resolve()`) and the effects.
    fn ok_with(&self, method: &str, options: Value) -> (Value, Vec<Effect>) {
        match self.call(method, options) {
            Reply::Resolve { data, effects } => (
                data.map(|d| serde_json::from_str(&d).expect("result is JSON"))
                    .unwrap_or(Value::Null),
                effects,
            ),
            other => panic!("{method} was rejected: {other:?}"),
        }
    }

    fn ok(&self, method: &str, options: Value) -> Value {
        self.ok_with(method, options).0
    }

    /// `(code, message, check)` of a rejection.
    fn rejected(&self, method: &str, options: Value) -> (String, String, Option<String>) {
        match self.call(method, options) {
            Reply::Reject {
                code,
                message,
                check,
            } => (code, message, check),
            other => panic!("{method} resolved: {other:?}"),
        }
    }

    /// Rejected as `invalidArgument` naming `field`.
    fn refused(&self, method: &str, options: Value, field: &str) -> String {
        let (code, message, _) = self.rejected(method, options);
        assert_eq!(code, "invalidArgument", "{method}: {message}");
        assert!(
            message.starts_with(&format!("invalid argument {field}: ")),
            "{method}: expected field {field}: {message}"
        );
        message
    }

    /// Publishes release `seq` and downloads it through the plugin; returns its id.
    fn downloaded(&self, seq: u64) -> String {
        self.p.pack(seq, &format!("release {seq}"));
        let b = self.ok("download", json!({}));
        b["id"].as_str().unwrap().to_string()
    }

    /// The same device folder opened again, as after the app was killed.
    fn restart(self) -> App {
        let App {
            p,
            net,
            dir,
            clock,
            shell,
            plugin,
            cfg,
        } = self;
        drop(plugin);
        shell.clear();
        let plugin =
            CapacitorPlugin::open_with(cfg.clone(), shell.clone(), fast_http(), clock.clone());
        App {
            p,
            net,
            dir,
            clock,
            shell,
            plugin,
            cfg,
        }
    }
}

fn serve(id: &str, app: &App) -> Effect {
    Effect::Serve {
        bundle_id: id.into(),
        path: Some(app.dir.path().join("data").join("bundles").join(id)),
    }
}

fn serve_builtin() -> Effect {
    Effect::Serve {
        bundle_id: "builtin".into(),
        path: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The method list

/// The method names inside `export interface LiveshipPlugin { ... }` of definitions.ts.
fn typescript_methods() -> Vec<String> {
    let ts = std::fs::read_to_string("plugin/src/definitions.ts").unwrap();
    let start = ts.find("export interface LiveshipPlugin {").unwrap();
    let body = &ts[start..ts[start..].find("\n}\n").unwrap() + start];
    let mut names: Vec<String> = body
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' ') && !l.starts_with('*') && !l.starts_with('/'))
        .filter_map(|l| l.split('(').next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(String::from)
        .filter(|n| n != "addListener" && n != "removeAllListeners")
        .collect();
    names.dedup();
    names
}

/// The Android shell's one `@PluginMethod` per method, written from [`METHODS`] by
/// [`the_android_method_list_is_generated_from_the_cores`].
const ANDROID_METHODS: &str = "android/src/main/java/io/liveship/capacitor/LiveshipMethods.kt";

/// What `LiveshipMethods.kt` must hold: one forwarding `@PluginMethod` per core method.
fn android_methods_source() -> String {
    let mut out = String::from(
        "// Generated from the core's METHODS (src/capacitor/methods.rs) by tests/capacitor_contract.rs; do not\n\
         // edit. After changing METHODS: LIVESHIP_BLESS=1 cargo test --test capacitor_contract android_method\n\
         package io.liveship.capacitor\n\n\
         import com.getcapacitor.Plugin\n\
         import com.getcapacitor.PluginCall\n\
         import com.getcapacitor.PluginMethod\n\n\
         /** Every plugin method, forwarded to the core. Capacitor finds them by annotation, inherited ones included\n\
         \x20*  (PluginHandle reads `getMethods()`), so [LiveshipPlugin] extends this class. */\n\
         abstract class LiveshipMethods : Plugin() {\n\
         \x20   protected abstract fun forward(call: PluginCall)\n\n",
    );
    for m in METHODS {
        out.push_str(&format!(
            "    @PluginMethod fun {m}(call: PluginCall) = forward(call)\n"
        ));
    }
    out.push_str("}\n");
    out
}

#[test]
fn the_android_method_list_is_generated_from_the_cores() {
    let want = android_methods_source();
    if std::env::var_os("LIVESHIP_BLESS").is_some() {
        std::fs::write(ANDROID_METHODS, &want).unwrap();
    }
    let have = std::fs::read_to_string(ANDROID_METHODS).unwrap_or_default();
    assert!(
        have == want,
        "{ANDROID_METHODS} is not what METHODS makes: run \
         LIVESHIP_BLESS=1 cargo test --test capacitor_contract android_method"
    );
}

#[test]
fn the_core_serves_every_method_of_definitions_ts_and_the_android_shell_forwards_each() {
    let mut ts = typescript_methods();
    let mut core: Vec<String> = METHODS.iter().map(|m| m.to_string()).collect();
    ts.sort();
    core.sort();
    assert_eq!(ts, core, "definitions.ts and src/capacitor METHODS differ");

    // Android finds plugin methods by their @PluginMethod annotation, one per method: the
    // generated LiveshipMethods.kt (below) has exactly the core's.
    let kt = std::fs::read_to_string(ANDROID_METHODS).unwrap();
    let mut android: Vec<String> = kt
        .split("@PluginMethod")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix("fun "))
        .map(|rest| rest.split('(').next().unwrap().trim().to_string())
        .collect();
    android.sort();
    assert_eq!(
        android, core,
        "LiveshipMethods.kt's @PluginMethods differ from the core's"
    );

    // Every name reaches the dispatcher: none answers "unimplemented".
    let a = app();
    for m in METHODS {
        if let Reply::Reject { code, message, .. } = a.call(m, json!({})) {
            assert_ne!(code, "unimplemented", "{m}: {message}");
        }
    }
    assert_eq!(liveship::capacitor::plugin_methods().len(), METHODS.len());
}

/// Events a platform file sends itself, not the core (`AppUpdate.kt`'s Play update progress).
const NEVER_SENT: &[&str] = &["onFlexibleUpdateStateChange"];

#[test]
fn every_event_name_is_one_definitions_ts_declares() {
    let ts = std::fs::read_to_string("plugin/src/definitions.ts").unwrap();
    let declared: std::collections::BTreeSet<&str> = ts
        .split("eventName: '")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap())
        .collect();
    let ours: std::collections::BTreeSet<&str> = liveship::capacitor::payload::EVENTS
        .iter()
        .copied()
        .chain(NEVER_SENT.iter().copied())
        .collect();
    assert_eq!(declared, ours);
}

#[test]
fn an_unknown_method_is_unimplemented_and_options_must_be_an_object() {
    let a = app();
    let (code, message, _) = a.rejected("installEverything", json!({}));
    assert_eq!(code, "unimplemented", "{message}");
    assert!(message.contains("installEverything"), "{message}");
    a.refused("current", json!([1, 2]), "options");
    let Reply::Reject { code, .. } = a.plugin.call("current".into(), "{not json".into()) else {
        panic!("bad JSON was accepted")
    };
    assert_eq!(code, "invalidArgument");
    // No options at all (Capacitor sends `{}`, a direct bridge call may send nothing).
    assert!(matches!(
        a.plugin.call("current".into(), "".into()),
        Reply::Resolve { .. }
    ));
}

#[test]
fn a_configuration_the_core_refuses_serves_the_built_in_bundle_and_every_call_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let host = liveship::ffi::HostInfo {
        app_id: "com.example.app".into(),
        platform: "android".into(),
        native_version: "3.1.0".into(),
        native_build: Some("31".into()),
        data_dir: dir.path().join("data").to_string_lossy().into_owned(),
        builtin_dir: dir.path().join("builtin").to_string_lossy().into_owned(),
        os_version: None,
        is_emulator: false,
    };
    let shell = Arc::new(Shell::default());
    let plugin = CapacitorPlugin::open(
        r#"{"appReadyTimeout": "soon"}"#.into(),
        host.clone(),
        shell.clone(),
    );
    let started = plugin.start();
    assert_eq!(
        (started.bundle_id.as_str(), started.path),
        ("builtin", None)
    );
    assert_eq!(started.version, "3.1.0");
    assert!(started.effects.is_empty());
    let Reply::Reject { code, message, .. } = plugin.call("current".into(), "{}".into()) else {
        panic!("a call resolved on a core that did not start")
    };
    assert_eq!(code, "internal");
    assert!(message.starts_with("Liveship did not start: "), "{message}");
    assert!(message.contains("\"soon\""), "{message}");
    let run = plugin.run_background(10);
    assert_eq!(run.result, BackgroundResult::Failure);
    // Not JSON at all: the parser's words.
    let plugin = CapacitorPlugin::open("{".into(), host.clone(), shell.clone());
    let Reply::Reject { message, .. } = plugin.call("list".into(), "{}".into()) else {
        panic!()
    };
    assert!(message.contains("does not parse"), "{message}");
    // A good configuration through the same door: builtinVersion defaults to the native
    // version, the host's facts win over the JSON's.
    let plugin = CapacitorPlugin::open(
        r#"{"appId": "other", "autoUpdate": false}"#.into(),
        host,
        shell,
    );
    assert_eq!(plugin.start().bundle_id, "builtin");
    let Reply::Resolve { data: Some(d), .. } = plugin.call("getBuiltinVersion".into(), "{}".into())
    else {
        panic!()
    };
    assert_eq!(d, r#"{"version":"3.1.0"}"#);
    assert_eq!(plugin.engine().unwrap().config().app_id, "com.example.app");
}

// ---------------------------------------------------------------------------------------------
// Start, getters

#[test]
fn the_first_start_serves_the_built_in_bundle_and_the_getters_describe_the_device() {
    let a = app();
    let s = a.plugin.start();
    assert_eq!(
        (s.bundle_id.as_str(), s.path.as_ref(), s.trial),
        ("builtin", None, false)
    );
    let cur = a.ok("current", json!({}));
    assert_eq!(
        cur,
        json!({
            "bundle": {"id": "builtin", "version": "1.0.0-builtin", "downloaded": "", "checksum": "",
                       "status": "success", "role": "builtin", "channel": "", "sequence": 0},
            "native": "1.0.0",
        })
    );
    assert_eq!(
        a.ok("getBuiltinVersion", json!({})),
        json!({"version": "1.0.0-builtin"})
    );
    assert_eq!(
        a.ok("getPluginVersion", json!({})),
        json!({"version": PLUGIN_VERSION})
    );
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string("package.json").unwrap()).unwrap();
    assert_eq!(
        package["version"], PLUGIN_VERSION,
        "package.json and the crate disagree"
    );
    let id = a.ok("getDeviceId", json!({}))["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(a.ok("getDeviceId", json!({}))["deviceId"], id.as_str());
    assert_eq!(
        a.ok("getChannel", json!({})),
        json!({"channel": "production", "status": "ok", "allowSet": true})
    );
    assert_eq!(a.ok("list", json!({})), json!({"bundles": []}));
    assert_eq!(a.ok("getNextBundle", json!({})), Value::Null);
    assert_eq!(a.ok("getFailedUpdate", json!({})), Value::Null);
    // autoUpdate is off in these tests; with it on and an updateUrl it is enabled.
    assert_eq!(
        a.ok("isAutoUpdateEnabled", json!({})),
        json!({"enabled": false})
    );
    let on = app_with(|c| c.auto_update = true);
    assert_eq!(
        on.ok("isAutoUpdateEnabled", json!({})),
        json!({"enabled": true})
    );
    let no_url = app_with(|c| {
        c.auto_update = true;
        c.update_url = None;
    });
    assert_eq!(
        no_url.ok("isAutoUpdateEnabled", json!({})),
        json!({"enabled": false})
    );
}

#[test]
fn start_schedules_background_work_only_when_automatic_updates_can_run() {
    let a = app_with(|c| {
        c.auto_update = true;
        c.background_interval_minutes = 90;
        c.background_unmetered_only = true;
    });
    assert_eq!(
        a.plugin.start().effects,
        [Effect::ScheduleBackground {
            interval_minutes: 90,
            unmetered_only: true,
            charging_only: false,
        }]
    );
    assert_eq!(app().plugin.start().effects, [Effect::CancelBackground]);
    let none = app_with(|c| {
        c.auto_update = true;
        c.background_interval_minutes = 0;
    });
    assert_eq!(none.plugin.start().effects, [Effect::CancelBackground]);
}

// ---------------------------------------------------------------------------------------------
// download, next, set, reload, reset, delete

#[test]
fn download_refuses_what_liveship_does_not_take_before_anything_is_fetched() {
    let a = app();
    a.p.pack(1, "one");
    a.refused("download", json!({"sessionKey": "k"}), "sessionKey");
    a.refused("download", json!({"checksum": "abc"}), "checksum");
    a.refused(
        "download",
        json!({"url": "https://elsewhere.example/"}),
        "url",
    );
    a.refused("download", json!({"url": ""}), "url");
    assert_eq!(
        a.net.server.requests().len(),
        0,
        "a refused call fetched something"
    );
    let m = a.refused("download", json!({"version": "9.9.9"}), "version");
    assert!(m.contains("the server offers 1.0.1, not 9.9.9"), "{m}");
    assert_eq!(a.ok("list", json!({})), json!({"bundles": []}));
    // The configured URL with or without its slash, and the offered version, are accepted.
    let url = a.net.update_url();
    let b = a.ok(
        "download",
        json!({"url": url.trim_end_matches('/'), "version": "1.0.1"}),
    );
    assert_eq!(
        (b["version"].as_str(), b["role"].as_str()),
        (Some("1.0.1"), Some("next"))
    );
}

#[test]
fn download_installs_the_signed_release_as_next_with_capgos_events() {
    let a = app();
    a.p.pack(1, "one");
    let b = a.ok("download", json!({}));
    let id = b["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(b["checksum"], id);
    assert_eq!(
        (b["status"].as_str(), b["role"].as_str()),
        (Some("success"), Some("next"))
    );
    assert_eq!(
        (b["channel"].as_str(), b["sequence"].as_u64()),
        (Some("production"), Some(1))
    );
    assert!(b["downloaded"].as_str().unwrap().ends_with('Z'), "{b}");
    assert_eq!(a.ok("getNextBundle", json!({})), b);
    assert_eq!(a.ok("list", json!({})), json!({"bundles": [b.clone()]}));

    let (available, _) = a.shell.event("updateAvailable");
    assert_eq!(available["bundle"]["version"], "1.0.1");
    assert_eq!(available["bundle"]["status"], "pending");
    let (progress, retain) = a.shell.event("download");
    assert!(!retain);
    assert!(progress["percent"].as_u64().unwrap() <= 100);
    assert_eq!(progress["bundle"]["status"], "downloading");
    assert!(progress["totalBytes"].as_u64().unwrap() > 0);
    let (complete, _) = a.shell.event("downloadComplete");
    assert_eq!(complete["bundle"], b);
    let (next, _) = a.shell.event("setNext");
    assert_eq!(next["bundle"]["id"], id);
    // iOS keeps a background task while a download runs.
    assert_eq!(
        a.shell.effects(),
        [
            Effect::UpdateRunning { running: true },
            Effect::UpdateRunning { running: false }
        ]
    );
}

#[test]
fn download_with_nothing_on_offer_says_why() {
    let a = app();
    a.downloaded(1);
    let (code, message, _) = a.rejected("download", json!({}));
    assert_eq!(code, "invalidArgument");
    assert!(
        message.starts_with("no update to download (upToDate)"),
        "{message}"
    );
    let (code, message, _) = a.rejected("download", json!({"version": "1.0.1"}));
    assert_eq!(code, "invalidArgument");
    assert!(
        message.starts_with("no update to download (upToDate)"),
        "{message}"
    );
}

#[test]
fn failures_reject_with_their_kind_and_the_failed_check() {
    // A release signed with a key the app does not pin: verification, naming the check.
    let a = app_with(|c| {
        c.public_keys = vec![support::pinned(&support::fresh_signing_key(), &["*"])];
    });
    a.p.pack(1, "signed by a key the app does not pin");
    let (code, message, check) = a.rejected("download", json!({}));
    assert_eq!(code, "verification", "{message}");
    assert!(
        check.as_deref().is_some_and(|c| c.starts_with("release.")),
        "{check:?}"
    );
    let (code, _, _) = a.rejected("getLatest", json!({}));
    assert_eq!(code, "verification");

    // Nothing listening: network.
    let dead = app_with(|c| c.update_url = Some("http://127.0.0.1:9/repo/".into()));
    let (code, message, check) = dead.rejected("download", json!({}));
    assert_eq!((code.as_str(), check), ("network", None), "{message}");
    // triggerUpdateCheck queues: the failure arrives as the cycle's result.
    dead.ok("triggerUpdateCheck", json!({}));
    let (result, _) = dead.shell.event("updateCheckResult");
    assert_eq!(result["outcome"], "error", "{result}");
    assert_eq!(result["kind"], "failed", "{result}");
    assert_eq!(result["error"], "network", "{result}");
}

#[test]
fn the_error_kinds_are_the_codes_definitions_ts_documents() {
    use liveship::error::LiveshipError as L;
    let r = || "why".to_string();
    let cases = [
        (
            L::Network {
                reason: r(),
                check: None,
            },
            "network",
        ),
        (
            L::Verification {
                check: "release.signatureInvalid".into(),
                reason: r(),
            },
            "verification",
        ),
        (L::Incompatible { reason: r() }, "incompatible"),
        (L::Storage { reason: r() }, "storage"),
        (L::Busy { reason: r() }, "busy"),
        (L::InvalidArgument { reason: r() }, "invalidArgument"),
        (L::Internal { reason: r() }, "internal"),
    ];
    let ts = std::fs::read_to_string("plugin/src/definitions.ts").unwrap();
    for (e, want) in cases {
        let (code, message, check) = liveship::capacitor::payload::error(&e);
        assert_eq!((code, message.as_str()), (want, "why"));
        assert_eq!(check.is_some(), want == "verification");
        assert!(
            ts.contains(&format!("`{want}`")),
            "definitions.ts does not document {want}"
        );
    }
    assert!(ts.contains("`unimplemented`"));
}

#[test]
fn next_set_and_the_outgoing_page_cannot_confirm_the_incoming_bundle() {
    let a = app();
    a.refused("next", json!({"id": "builtin"}), "id");
    a.refused("next", json!({"id": "../x"}), "id");
    a.refused("set", json!({}), "id");
    let id = a.downloaded(1);
    assert_eq!(a.ok("next", json!({"id": id}))["role"], "next");

    let (data, effects) = a.ok_with("set", json!({"id": id}));
    assert_eq!(data, Value::Null);
    assert_eq!(
        effects,
        [serve(&id, &a)],
        "set must reload the WebView from the bundle"
    );
    let (set, _) = a.shell.event("set");
    assert_eq!(set["bundle"]["id"], id.as_str());
    assert_eq!(a.ok("current", json!({}))["bundle"]["role"], "trial");

    // The built-in page (still loaded while the new one starts) cannot confirm the trial.
    let (code, message, _) = a.rejected("notifyAppReady", json!({"bundleId": "builtin"}));
    assert_eq!(code, "invalidArgument", "{message}");
    a.refused("notifyAppReady", json!({}), "bundleId");
    assert_eq!(a.ok("current", json!({}))["bundle"]["role"], "trial");
    // The new page confirms its own bundle.
    let ready = a.ok("notifyAppReady", json!({"bundleId": id}));
    assert_eq!(
        (
            ready["bundle"]["id"].as_str(),
            ready["bundle"]["role"].as_str()
        ),
        (Some(id.as_str()), Some("current"))
    );
    let (event, retain) = a.shell.event("appReady");
    assert!(
        retain,
        "appReady happens before the page can listen: it is retained"
    );
    assert_eq!(event["status"], "ok");
    // A reload of the same page confirms again without harm.
    assert_eq!(
        a.ok("notifyAppReady", json!({"bundleId": id}))["bundle"]["role"],
        "current"
    );

    // Back to the built-in bundle with set("builtin").
    let (_, effects) = a.ok_with("set", json!({"id": "builtin"}));
    assert_eq!(effects, [serve_builtin()]);
}

#[test]
fn the_page_of_the_new_bundle_gets_app_reloaded_once_it_has_loaded() {
    let a = app();
    let id = a.downloaded(1);
    // No swap yet: a page load is just a page load.
    assert!(!a.plugin.page_loaded("builtin".into()));
    let (_, effects) = a.ok_with("set", json!({"id": id}));
    assert_eq!(effects.len(), 1);
    // The old page finishing a load in between is not the swap.
    assert!(!a.plugin.page_loaded("builtin".into()));
    assert!(!a.shell.names().contains(&"appReloaded".to_string()));
    assert!(
        a.plugin.page_loaded(id.clone()),
        "the new bundle's page completes the swap"
    );
    let (data, retain) = a.shell.event("appReloaded");
    assert_eq!((data, retain), (json!({}), true));
    // Once only.
    assert!(!a.plugin.page_loaded(id.clone()));
    // A swap no WebView carried out (no plugin was loaded) is not completed by the first page
    // of the next start: that page is a start, not a reload.
    a.ok("set", json!({"id": "builtin"}));
    a.plugin.start();
    assert!(!a.plugin.page_loaded("builtin".into()));
    assert!(!a.shell.names().contains(&"appReloaded".to_string()));
}

#[test]
fn set_does_not_jump_a_delay_and_says_how_to_apply_now() {
    let a = app();
    let id = a.downloaded(1);
    a.ok(
        "setMultiDelay",
        json!({"delayConditions": [{"kind": "date", "value": "2999-01-01T00:00:00Z"}]}),
    );
    let (code, message, _) = a.rejected("set", json!({"id": id}));
    assert_eq!(code, "invalidArgument");
    assert!(message.contains("call cancelDelay() first"), "{message}");
    assert_eq!(a.ok("getNextBundle", json!({}))["id"], id.as_str());
    a.ok("cancelDelay", json!({}));
    let (_, effects) = a.ok_with("set", json!({"id": id}));
    assert_eq!(effects, [serve(&id, &a)]);
}

#[test]
fn reload_applies_a_pending_bundle_or_reloads_what_serves() {
    let a = app();
    let (_, effects) = a.ok_with("reload", json!({}));
    assert_eq!(
        effects,
        [serve_builtin()],
        "reload with nothing next reloads the built-in page"
    );
    let id = a.downloaded(1);
    let (_, effects) = a.ok_with("reload", json!({}));
    assert_eq!(effects, [serve(&id, &a)], "reload applies the next bundle");
    assert_eq!(a.ok("current", json!({}))["bundle"]["role"], "trial");
}

#[test]
fn reset_goes_back_to_the_last_confirmed_bundle_or_the_built_in_one() {
    let a = app();
    let first = a.downloaded(1);
    a.ok("set", json!({"id": first}));
    a.ok("notifyAppReady", json!({"bundleId": first}));
    let second = a.downloaded(2);
    a.ok("set", json!({"id": second}));
    a.refused(
        "reset",
        json!({"toLastSuccessful": "yes"}),
        "toLastSuccessful",
    );
    let (_, effects) = a.ok_with("reset", json!({"toLastSuccessful": true}));
    assert_eq!(effects, [serve(&first, &a)]);
    let (_, effects) = a.ok_with("reset", json!({}));
    assert_eq!(effects, [serve_builtin()]);
    assert_eq!(a.ok("current", json!({}))["bundle"]["id"], "builtin");
}

#[test]
fn delete_removes_a_bundle_without_a_role_only() {
    let a = app();
    a.refused("delete", json!({"id": "builtin"}), "id");
    a.refused("delete", json!({"id": 7}), "id");
    let first = a.downloaded(1);
    let (code, message, _) = a.rejected("delete", json!({"id": first}));
    assert_eq!(
        code, "invalidArgument",
        "the next bundle has a role: {message}"
    );
    let second = a.downloaded(2);
    // The first lost its role to the second.
    assert_eq!(a.ok("delete", json!({"id": first})), Value::Null);
    let ids: Vec<Value> = a.ok("list", json!({}))["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].clone())
        .collect();
    assert_eq!(ids, [json!(second)]);
}

// ---------------------------------------------------------------------------------------------
// Checking, channels

#[test]
fn get_latest_reports_the_offer_or_why_there_is_none_and_refuses_another_channel() {
    let a = app();
    // Nothing published yet: the channel file is missing, which is the server's fault.
    assert_eq!(a.rejected("getLatest", json!({})).0, "network");
    a.p.pack(1, "one");
    let offer = a.ok("getLatest", json!({"channel": "production"}));
    assert_eq!(offer["available"], true);
    assert_eq!(
        (offer["version"].as_str(), offer["sequence"].as_u64()),
        (Some("1.0.1"), Some(1))
    );
    assert!(offer["bundleSize"].as_u64().unwrap() > 0);
    let m = a.refused("getLatest", json!({"channel": "beta"}), "channel");
    assert!(m.contains("this device follows \"production\""), "{m}");
    a.refused("getLatest", json!({"channel": "Beta!"}), "channel");
    a.ok("download", json!({}));
    let none = a.ok("getLatest", json!({}));
    assert_eq!(none["available"], false);
    assert_eq!(
        none["version"], "1.0.0-builtin",
        "the serving version, not the offered one"
    );
    assert_eq!(none["error"], "upToDate");
    assert!(none["message"].is_string(), "{none}");
}

#[test]
fn the_channel_is_set_read_and_unset_and_can_trigger_an_update() {
    let a = app_with(|c| c.auto_update = true);
    a.refused("setChannel", json!({}), "channel");
    a.refused("setChannel", json!({"channel": "Beta"}), "channel");
    a.refused(
        "setChannel",
        json!({"channel": "beta", "triggerAutoUpdate": 1}),
        "triggerAutoUpdate",
    );
    assert_eq!(
        a.ok("setChannel", json!({"channel": "beta"})),
        json!({"status": "ok"})
    );
    assert_eq!(a.ok("getChannel", json!({}))["channel"], "beta");
    assert!(
        a.shell.names().is_empty(),
        "no update without triggerAutoUpdate"
    );
    a.p.pack_with("beta", 1, "beta one", |_| {});
    a.ok(
        "setChannel",
        json!({"channel": "beta", "triggerAutoUpdate": true}),
    );
    let (result, _) = a.shell.event("updateCheckResult");
    assert_eq!(result["outcome"], "installed", "{result}");
    assert_eq!(result["bundle"]["channel"], "beta");
    assert_eq!(a.ok("unsetChannel", json!({})), Value::Null);
    assert_eq!(a.ok("getChannel", json!({}))["channel"], "production");
    a.p.pack(1, "production one");
    a.shell.wait("the first cycle's end", |s| {
        s.effects
            .contains(&Effect::UpdateRunning { running: false })
            .then_some(())
    });
    a.ok("unsetChannel", json!({"triggerAutoUpdate": true}));
    let (result, _) = a.shell.event("updateCheckResult");
    assert_eq!(result["outcome"], "installed", "{result}");
    assert_eq!(result["bundle"]["channel"], "production");
}

#[test]
fn trigger_update_check_starts_the_download_and_reports_its_end() {
    let a = app();
    a.downloaded(1);
    a.p.pack(2, "two");
    let started = a.ok("triggerUpdateCheck", json!({}));
    assert_eq!(started, json!({"status": "queued", "queued": true}));
    let (result, retain) = a.shell.event("updateCheckResult");
    assert!(!retain);
    assert_eq!(result["outcome"], "installed", "{result}");
    assert_eq!(result["bundle"]["role"], "next");
    assert!(result["delta"].is_boolean(), "{result}");
    assert!(result["downloadedBytes"].as_u64().unwrap() > 0);
    a.shell.wait("the end of the update", |s| {
        s.effects
            .contains(&Effect::UpdateRunning { running: false })
            .then_some(())
    });
    assert_eq!(
        a.shell.effects()[0],
        Effect::UpdateRunning { running: true }
    );
}

#[test]
fn an_automatic_update_that_fails_reports_the_error_kind() {
    let a = app_with(|c| {
        c.auto_update = true;
        c.update_url = Some("http://127.0.0.1:9/repo/".into());
    });
    a.plugin.start();
    let (result, _) = a.shell.event("updateCheckResult");
    assert_eq!(
        (result["outcome"].as_str(), result["error"].as_str()),
        (Some("error"), Some("network"))
    );
    assert!(result["reason"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Delays

#[test]
fn delay_conditions_are_kept_by_the_core_and_reported_in_capgos_shape() {
    let a = app();
    a.refused(
        "setMultiDelay",
        json!({"delayConditions": []}),
        "delayConditions",
    );
    a.refused(
        "setMultiDelay",
        json!({"delayConditions": [{"kind": "date", "value": "soon"}]}),
        "delayConditions[0].value",
    );
    let id = a.downloaded(1);
    a.ok(
        "setMultiDelay",
        json!({"delayConditions": [
            {"kind": "background", "value": "60000"},
            {"kind": "date", "value": "2999-01-01T00:00:00.500+00:00"},
            {"kind": "nativeVersion", "value": "2.0.0"},
        ]}),
    );
    let export: Value =
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap();
    assert_eq!(
        export["delayConditions"],
        json!([
            {"kind": "background", "value": "60000"},
            {"kind": "date", "value": "2999-01-01T00:00:01Z"},
            {"kind": "nativeVersion", "value": "2.0.0"},
        ])
    );
    // The next launch does not take the delayed bundle.
    let a = a.restart();
    assert_eq!(a.plugin.start().bundle_id, "builtin");
    assert_eq!(a.ok("getNextBundle", json!({}))["id"], id.as_str());
    a.ok("cancelDelay", json!({}));
    let a = a.restart();
    assert_eq!(a.plugin.start().bundle_id, id);
}

#[test]
fn a_background_delay_applies_on_the_return_to_the_foreground_decided_by_the_core() {
    let a = app_with(|c| {
        c.apply_mode = ApplyMode::Background;
        c.min_background_ms = 30_000;
    });
    a.plugin.start();
    // The first start is not a return.
    assert_eq!(a.plugin.app_moved_to_foreground(), []);
    let id = a.downloaded(1);
    a.plugin.app_moved_to_background();
    a.clock.advance(Duration::from_secs(5));
    assert_eq!(
        a.plugin.app_moved_to_foreground(),
        [],
        "too short a time away"
    );
    a.plugin.app_moved_to_background();
    a.clock.advance(Duration::from_secs(31));
    assert_eq!(a.plugin.app_moved_to_foreground(), [serve(&id, &a)]);
    assert_eq!(a.ok("current", json!({}))["bundle"]["role"], "trial");
}

// ---------------------------------------------------------------------------------------------
// Reverts

#[test]
fn a_trial_that_is_never_confirmed_is_reverted_and_reported_once() {
    let a = app_with(|c| c.app_ready_timeout = 10_000);
    let id = a.downloaded(1);
    a.ok("set", json!({"id": id}));
    a.shell.clear();
    // The app-ready timer runs out: outside any call, so the reload goes to the shell now.
    a.clock.advance(Duration::from_secs(11));
    a.shell.wait("the revert's reload", |s| {
        s.effects.contains(&serve_builtin()).then_some(())
    });
    let (event, retain) = a.shell.event("updateFailed");
    assert!(
        retain,
        "a revert at start-up happens before the page listens: retained"
    );
    assert_eq!(event["bundle"]["id"], id.as_str());
    assert_eq!(
        (
            event["bundle"]["status"].as_str(),
            event["bundle"]["role"].as_str()
        ),
        (Some("error"), Some("failed"))
    );
    assert!(
        event["reason"].as_str().unwrap().contains("notifyAppReady"),
        "{event}"
    );
    assert_eq!(a.ok("getFailedUpdate", json!({})), event);
    assert_eq!(
        a.ok("getFailedUpdate", json!({})),
        Value::Null,
        "reported once"
    );
    let listed = a.ok("list", json!({}));
    assert_eq!(listed["bundles"][0]["role"], "failed");
    assert!(listed["bundles"][0]["failedReason"].is_string());
}

#[test]
fn a_trial_killed_before_it_confirmed_is_reverted_at_the_next_start() {
    let a = app();
    let id = a.downloaded(1);
    a.ok("set", json!({"id": id}));
    let a = a.restart();
    let started = a.plugin.start();
    assert_eq!(started.bundle_id, "builtin");
    let failed = a.ok("getFailedUpdate", json!({}));
    assert_eq!(failed["bundle"]["id"], id.as_str());
    assert_eq!(failed["bundle"]["role"], "failed");
    // The same revert also arrives as the retained event, for a page that listens.
    let (event, retain) = a.shell.event("updateFailed");
    assert!(retain);
    assert_eq!(event["bundle"]["id"], id.as_str());
}

// ---------------------------------------------------------------------------------------------
// History, consent, data rights

#[test]
fn history_lists_the_transitions_with_iso_times() {
    let a = app();
    let id = a.downloaded(1);
    a.ok("set", json!({"id": id}));
    a.ok("notifyAppReady", json!({"bundleId": id}));
    let h = a.ok("getHistory", json!({}));
    let events: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(events.len() >= 3, "{h}");
    let first = &h["history"][0];
    assert!(first["at"].as_str().unwrap().ends_with('Z'), "{first}");
    assert!(
        first["seq"].is_i64() && first["detail"].is_string(),
        "{first}"
    );
    assert!(h["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["bundle"] == id.as_str()));
}

#[test]
fn consent_is_a_level_the_core_keeps_across_restarts() {
    let a = app();
    a.refused("setConsent", json!({}), "level");
    a.refused("setConsent", json!({"level": "some"}), "level");
    a.refused("setConsent", json!({"telemetry": "yes"}), "telemetry");
    a.refused(
        "setConsent",
        json!({"level": "anonymous", "telemetry": true}),
        "telemetry",
    );
    let export = |a: &App| -> Value {
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        export(&a)["consent"],
        json!({"level": "off", "telemetry": false}),
        "no consent until given"
    );
    assert_eq!(
        a.ok("setConsent", json!({"level": "anonymous"})),
        json!({"level": "anonymous", "telemetry": true, "purged": 0})
    );
    // The older yes/no form still works.
    assert_eq!(
        a.ok("setConsent", json!({"telemetry": true}))["level"],
        "full"
    );
    let a = a.restart();
    assert_eq!(
        export(&a)["consent"],
        json!({"level": "full", "telemetry": true})
    );
    assert_eq!(
        a.ok("getConsent", json!({})),
        json!({"level": "full", "telemetry": true})
    );
}

#[test]
fn export_data_holds_the_devices_state_and_no_keys_or_urls() {
    let a = app();
    let id = a.downloaded(1);
    let text = a.ok("exportData", json!({}))["json"]
        .as_str()
        .unwrap()
        .to_string();
    let data: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "bundles",
            "channel",
            "consent",
            "customId",
            "delayConditions",
            "deviceId",
            "history",
            "nativeVersion",
            "serving",
            "telemetry"
        ]
    );
    assert_eq!(data["deviceId"], a.ok("getDeviceId", json!({}))["deviceId"]);
    assert_eq!(data["bundles"][0]["id"], id.as_str());
    assert_eq!(data["serving"]["id"], "builtin");
    assert!(!text.contains("127.0.0.1"), "the update URL leaked: {text}");
    let cfg = a.plugin.engine().unwrap().config().clone();
    for k in &cfg.public_keys {
        let pk = serde_json::to_value(k).unwrap();
        assert!(
            !text.contains(pk["publicKey"].as_str().unwrap()),
            "a public key leaked"
        );
    }
    let bk = serde_json::to_value(&cfg.bundle_keys[0]).unwrap();
    assert!(
        !text.contains(bk["key"].as_str().unwrap()),
        "the bundle key leaked"
    );
}

#[test]
fn delete_data_serves_the_built_in_bundle_and_forgets_downloads_delays_consent_and_failures() {
    let a = app();
    let first = a.downloaded(1);
    a.ok("set", json!({"id": first}));
    let a = a.restart();
    a.plugin.start(); // reverts the unconfirmed trial
    let second = a.downloaded(2);
    a.ok(
        "setMultiDelay",
        json!({"delayConditions": [{"kind": "kill"}]}),
    );
    a.ok("setConsent", json!({"telemetry": true}));
    let old_id = a.ok("getDeviceId", json!({}))["deviceId"].clone();
    let (data, effects) = a.ok_with("deleteData", json!({}));
    assert_ne!(data["deviceId"], old_id, "the install id is rotated");
    assert_eq!(a.ok("getDeviceId", json!({}))["deviceId"], data["deviceId"]);
    assert_eq!(
        data["deletionRequested"], false,
        "no statsUrl: nothing to ask"
    );
    assert_eq!(effects, [serve_builtin()]);
    assert_eq!(a.ok("list", json!({})), json!({"bundles": []}));
    assert!(!a.dir.path().join("data/bundles").join(&second).exists());
    assert_eq!(a.ok("getFailedUpdate", json!({})), Value::Null);
    let export: Value =
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap();
    assert_eq!(
        export["consent"],
        json!({"level": "off", "telemetry": false})
    );
    assert_eq!(export["delayConditions"], json!([]));
    assert_eq!(export["history"], json!([]), "the history is erased too");
}

// ---------------------------------------------------------------------------------------------
// Periodic checks, background runs

#[test]
fn period_check_delay_runs_an_automatic_update_on_the_clock() {
    let a = app_with(|c| {
        c.auto_update = true;
        c.period_check_delay = 600;
    });
    a.p.pack(1, "one");
    a.plugin.start();
    let (first, _) = a.shell.event("updateCheckResult");
    assert_eq!(
        first["outcome"], "installed",
        "the start's own check: {first}"
    );
    a.shell.wait("the first cycle's end", |s| {
        s.effects
            .contains(&Effect::UpdateRunning { running: false })
            .then_some(())
    });
    a.shell.clear();
    a.clock.advance(Duration::from_secs(600));
    let (again, _) = a.shell.event("updateCheckResult");
    assert_eq!(again["outcome"], "noUpdate", "{again}");
    a.shell.wait("the second cycle's end", |s| {
        s.effects
            .contains(&Effect::UpdateRunning { running: false })
            .then_some(())
    });
    a.shell.clear();
    a.p.pack(2, "two");
    a.clock.advance(Duration::from_secs(599));
    assert!(
        !a.shell.names().contains(&"updateCheckResult".to_string()),
        "checked early"
    );
    a.clock.advance(Duration::from_secs(1));
    let (second, _) = a.shell.event("updateCheckResult");
    assert_eq!(second["outcome"], "installed", "{second}");
}

#[test]
fn a_background_run_installs_and_keeps_its_schedule_or_asks_to_retry() {
    let a = app_with(|c| c.auto_update = true);
    a.p.pack(1, "one");
    let run = a.plugin.run_background(60);
    assert_eq!(run.result, BackgroundResult::Success, "{}", run.message);
    assert!(
        run.message.starts_with("installed 1.0.1"),
        "{}",
        run.message
    );
    assert!(
        matches!(run.effects[..], [Effect::ScheduleBackground { .. }]),
        "{:?}",
        run.effects
    );
    assert_eq!(a.ok("getNextBundle", json!({}))["version"], "1.0.1");

    let off = app();
    let run = off.plugin.run_background(60);
    assert_eq!(
        (run.result, run.effects),
        (BackgroundResult::Success, vec![Effect::CancelBackground])
    );

    let dead = app_with(|c| {
        c.auto_update = true;
        c.update_url = Some("http://127.0.0.1:9/repo/".into());
    });
    let run = dead.plugin.run_background(60);
    assert_eq!(run.result, BackgroundResult::Retry, "{}", run.message);
}

// ---------------------------------------------------------------------------------------------
// Robustness

#[test]
fn a_shell_that_panics_in_its_listener_does_not_take_the_plugin_down() {
    struct Broken;
    impl PluginListener for Broken {
        fn notify(&self, _: String, _: String, _: bool) {
            panic!("listener bug")
        }
        fn perform(&self, _: Effect) {
            panic!("listener bug")
        }
    }
    let p = Publisher::new(false);
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&p, &net, &dir);
    cfg.app_ready_timeout = 1000;
    let clock = Arc::new(ManualClock::new());
    let plugin = CapacitorPlugin::open_with(cfg, Arc::new(Broken), fast_http(), clock.clone());
    p.pack(1, "one");
    let Reply::Resolve { data: Some(b), .. } = plugin.call("download".into(), "{}".into()) else {
        panic!("download failed")
    };
    let id = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    plugin.call("set".into(), json!({"id": id}).to_string());
    clock.advance(Duration::from_secs(2)); // the revert performs an effect: the listener panics
    let Reply::Resolve {
        data: Some(cur), ..
    } = plugin.call("current".into(), "{}".into())
    else {
        panic!("the plugin stopped answering")
    };
    assert!(cur.contains("\"builtin\""), "{cur}");
}

#[test]
fn a_second_start_in_the_same_process_serves_what_serves_now_and_keeps_the_trial() {
    // Android builds a Bridge (and calls start) per Activity; a second launch in the same
    // process would take this run's own unconfirmed trial for a crashed one and revert it.
    let a = app();
    assert_eq!(a.plugin.start().bundle_id, "builtin");
    let id = a.downloaded(1);
    a.ok("set", json!({"id": id}));
    let again = a.plugin.start();
    assert_eq!((again.bundle_id.as_str(), again.trial), (id.as_str(), true));
    assert_eq!(
        again.path,
        Some(a.dir.path().join("data").join("bundles").join(&id))
    );
    assert_eq!(a.ok("getFailedUpdate", json!({})), Value::Null);
    assert_eq!(
        a.ok("notifyAppReady", json!({"bundleId": id}))["bundle"]["role"],
        "current"
    );
}

#[test]
fn a_page_confirms_its_bundle_while_a_download_is_under_way() {
    // The shells run calls concurrently, so that a long download() cannot hold notifyAppReady
    // back past appReadyTimeout; this is the core's half: a confirmation does not wait for an
    // update in flight. The bundle request is held by the server until the test lets it go.
    let p = Publisher::new(false);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let (asked_tx, asked_rx) = std::sync::mpsc::channel();
    let asked_tx = Mutex::new(asked_tx);
    let root = p.repo();
    let held = gate.clone();
    let net = Net::scripted(move |_, req| {
        if !req.path.contains("/channels/") {
            let _ = asked_tx.lock().unwrap().send(());
            // Bounded, so that a broken core fails the test instead of hanging it.
            let (open, cv) = &*held;
            let o = open.lock().unwrap();
            drop(
                cv.wait_timeout_while(o, Duration::from_secs(90), |open| !*open)
                    .unwrap(),
            );
        }
        support::serve_file(&root, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&p, &net, &dir);
    cfg.response_timeout = 120;
    let shell = Arc::new(Shell::default());
    let plugin = CapacitorPlugin::open_with(cfg, shell, fast_http(), Arc::new(ManualClock::new()));
    // Bundle 1 on trial: its page has not confirmed yet.
    p.pack(1, "one");
    let opened = gate.clone();
    let release = move || {
        *opened.0.lock().unwrap() = true;
        opened.1.notify_all();
    };
    let first = std::thread::scope(|s| {
        let d = s.spawn(|| plugin.call("download".into(), "{}".into()));
        asked_rx.recv().unwrap();
        release();
        d.join().unwrap()
    });
    let Reply::Resolve { data: Some(b), .. } = first else {
        panic!("{first:?}")
    };
    let id = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    plugin.call("set".into(), json!({"id": id}).to_string());
    *gate.0.lock().unwrap() = false;
    while asked_rx.try_recv().is_ok() {} // the first download's requests
    p.pack(2, "two");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let d = s.spawn(|| plugin.call("download".into(), "{}".into()));
        asked_rx.recv().unwrap(); // the download is waiting on the server now
        s.spawn(|| {
            let r = plugin.call("notifyAppReady".into(), json!({"bundleId": id}).to_string());
            let _ = done_tx.send(r);
        });
        // A confirmation that waited for the update would wait for ever (the gate is closed).
        let ready = done_rx.recv_timeout(Duration::from_secs(60));
        let waited = ready.is_err();
        if waited {
            *gate.0.lock().unwrap() = true;
            gate.1.notify_all();
        }
        assert!(!waited, "notifyAppReady waited for the download");
        let Ok(Reply::Resolve { data: Some(r), .. }) = ready else {
            panic!("{ready:?}")
        };
        assert!(r.contains("\"current\""), "{r}");
        assert!(
            !d.is_finished(),
            "notifyAppReady answered only once the download had ended"
        );
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert!(matches!(d.join().unwrap(), Reply::Resolve { .. }));
    });
}
