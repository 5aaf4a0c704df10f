//! `liveship dev`: the app in a desktop browser on Capacitor's own bridge, with the real device
//! core behind it. A loopback server runs a [`CapacitorPlugin`] (the same Rust contract the
//! Android and iOS shells call) with `--web` as the built-in bundle and `--repo` as the update
//! source, serves the bundle the core chose at `/`, and injects into every HTML page what the
//! Android shell provides: Capacitor's real `native-bridge.js`, the plugin headers, the page's
//! bundle id and a `window.androidBridge` whose calls come here. Effects are carried out as a
//! WebView would: `Serve` switches the served folder and reloads the page.
//!
//! Endpoints under `/__liveship/` (docs/CLI.md): `call` (one bridge message), `events` (SSE:
//! results for saved listener calls, `reload`), `page-loaded`, `restart` (a new core on the same
//! data folder: a cold start), `state`, `log` (SSE for the control page), `repo/` (the release
//! repository, the device's `updateUrl`), and the control page itself. Nothing is served from
//! outside `--web`, `--repo` and the core's own copies of downloaded bundles.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{bail, Context, Result};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use liveship::capacitor::{CapacitorPlugin, Effect, PluginListener, Reply, METHODS};
use liveship::ffi::HostInfo;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, mpsc};

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// The app's web folder: the built-in bundle (what `npx cap sync` would copy in).
    #[arg(long, value_name = "DIR")]
    pub web: PathBuf,
    /// Release repository folder (the output of `pack`): served as the device's updateUrl.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// The `plugins.Liveship` JSON object (docs/CONFIG.md); dev fills in what native code would.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A `liveship keygen` folder: its liveship.config.json supplies publicKeys and bundleKeys.
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Device state folder (kept between runs); default: a new temporary folder.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Port on 127.0.0.1; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The app id the releases were packed for (`pack --app-id`).
    #[arg(long, default_value = "com.example.app")]
    pub app_id: String,
    /// The native app version the device reports.
    #[arg(long, default_value = "1.0.0")]
    pub native_version: String,
    /// Capacitor's native-bridge.js, from the `@capacitor/android` package the app uses.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "node_modules/@capacitor/android/capacitor/src/main/assets/native-bridge.js"
    )]
    pub native_bridge: PathBuf,
}

pub fn run(args: DevArgs) -> Result<()> {
    tokio::runtime::Runtime::new()
        .context("starting the async runtime")?
        .block_on(serve(args))
}

/// What the browser page is told.
#[derive(Clone, Debug)]
enum ToPage {
    /// A `fromNative` result (a saved listener call's event).
    Result(String),
    /// The served folder changed: load `/` again.
    Reload,
}

/// The page that runs now: its messages and its listeners. A new HTML page replaces it, as a
/// navigation resets Capacitor's listeners in a WebView.
#[derive(Default)]
struct Page {
    id: u64,
    tx: Option<mpsc::UnboundedSender<ToPage>>,
    /// event name → callback ids of `addListener` calls.
    listeners: HashMap<String, Vec<String>>,
}

struct Host {
    web: PathBuf,
    repo: PathBuf,
    config_json: String,
    host: HostInfo,
    native_bridge: String,
    plugin: Mutex<Option<Arc<CapacitorPlugin>>>,
    /// The bundle served now: its id and folder.
    serving: Mutex<(String, PathBuf)>,
    page: Mutex<Page>,
    /// Pages not yet connected to `events`, by id (their receivers).
    waiting: Mutex<HashMap<u64, mpsc::UnboundedReceiver<ToPage>>>,
    /// Retained events nobody listened to yet: (event, data).
    retained: Mutex<Vec<(String, String)>>,
    log: broadcast::Sender<String>,
    /// The last lines of the log, replayed to a control page that connects late.
    recent: Mutex<std::collections::VecDeque<String>>,
}

/// How many log lines a control page gets when it connects.
const REPLAY: usize = 200;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The core's listener: events to the page's listeners, effects carried out here.
struct Listener(std::sync::Weak<Host>);

impl PluginListener for Listener {
    fn notify(&self, event: String, data: String, retain: bool) {
        if let Some(h) = self.0.upgrade() {
            h.event(event, data, retain);
        }
    }
    fn perform(&self, effect: Effect) {
        if let Some(h) = self.0.upgrade() {
            h.effect(effect);
        }
    }
}

impl Host {
    fn say(&self, kind: &str, text: String) {
        eprintln!("liveship dev: {kind}: {text}");
        let line = json!({"at": now_iso(), "kind": kind, "text": text}).to_string();
        let mut recent = lock(&self.recent);
        if recent.len() == REPLAY {
            recent.pop_front();
        }
        recent.push_back(line.clone());
        // Sent under the lock: a page that subscribes meanwhile gets each line once.
        let _ = self.log.send(line);
    }

    fn plugin(&self) -> Arc<CapacitorPlugin> {
        lock(&self.plugin).clone().expect("the core is open")
    }

    /// Opens a core on the data folder and launches it: the app's cold start.
    fn start(self: &Arc<Self>) {
        let listener = Arc::new(Listener(Arc::downgrade(self)));
        // The previous core goes first: this is a new process for the app.
        drop(lock(&self.plugin).take());
        let plugin = CapacitorPlugin::open(self.config_json.clone(), self.host.clone(), listener);
        let started = plugin.start();
        *lock(&self.plugin) = Some(plugin);
        self.say(
            "effect",
            format!(
                "launch: {} {}{}",
                started.bundle_id,
                started.version,
                if started.trial { " (trial)" } else { "" }
            ),
        );
        *lock(&self.serving) = (
            started.bundle_id,
            started.path.unwrap_or_else(|| self.web.clone()),
        );
        for e in started.effects {
            self.effect(e);
        }
    }

    fn to_page(&self, m: ToPage) {
        if let Some(tx) = &lock(&self.page).tx {
            let _ = tx.send(m);
        }
    }

    fn effect(&self, effect: Effect) {
        self.say("effect", format!("{effect:?}"));
        if let Effect::Serve { bundle_id, path } = effect {
            *lock(&self.serving) = (bundle_id, path.unwrap_or_else(|| self.web.clone()));
            self.to_page(ToPage::Reload);
        }
    }

    fn event(&self, event: String, data: String, retain: bool) {
        self.say("event", format!("{event} {data}"));
        let page = lock(&self.page);
        let ids = page.listeners.get(&event).cloned().unwrap_or_default();
        if ids.is_empty() {
            drop(page);
            if retain {
                lock(&self.retained).push((event, data));
            }
            return;
        }
        if let Some(tx) = &page.tx {
            for id in ids {
                let _ = tx.send(ToPage::Result(listener_result(&id, &event, &data)));
            }
        }
    }

    /// A new HTML page: it replaces the one before (listeners gone, as after a navigation).
    fn new_page(&self) -> u64 {
        let mut page = lock(&self.page);
        let id = page.id + 1;
        let (tx, rx) = mpsc::unbounded_channel();
        *page = Page {
            id,
            tx: Some(tx),
            listeners: HashMap::new(),
        };
        lock(&self.waiting).insert(id, rx);
        id
    }

    /// One message of `androidBridge.postMessage`; the answer is a `fromNative` result, or
    /// nothing for `addListener` (its results are the events).
    fn call(&self, page: u64, message: &Value) -> Option<String> {
        let callback_id = message["callbackId"].as_str().unwrap_or("-1").to_string();
        let plugin_id = message["pluginId"].as_str().unwrap_or("");
        let method = message["methodName"].as_str().unwrap_or("").to_string();
        let options = message.get("options").cloned().unwrap_or(json!({}));
        let reply = |success: bool, body: (&str, Value)| {
            let mut r = json!({"callbackId": callback_id, "pluginId": plugin_id, "methodName": method, "success": success});
            r[body.0] = body.1;
            Some(r.to_string())
        };
        if plugin_id != "Liveship" {
            self.say(
                "call",
                format!("{plugin_id}.{method}: not available in liveship dev"),
            );
            let error = json!({"message": format!("{plugin_id} is not available in liveship dev"), "code": "UNIMPLEMENTED"});
            return reply(false, ("error", error));
        }
        self.say("call", format!("{method} {options}"));
        let current = lock(&self.page).id == page;
        match method.as_str() {
            "addListener" => {
                let event = options["eventName"].as_str().unwrap_or("").to_string();
                if !current {
                    return None;
                }
                lock(&self.page)
                    .listeners
                    .entry(event.clone())
                    .or_default()
                    .push(callback_id.clone());
                let mut retained = lock(&self.retained);
                let (take, keep): (Vec<_>, Vec<_>) =
                    retained.drain(..).partition(|(e, _)| *e == event);
                *retained = keep;
                drop(retained);
                for (e, data) in take {
                    self.to_page(ToPage::Result(listener_result(&callback_id, &e, &data)));
                }
                None
            }
            "removeListener" => {
                let id = options["callbackId"].as_str().unwrap_or("");
                for ids in lock(&self.page).listeners.values_mut() {
                    ids.retain(|x| x != id);
                }
                reply(true, ("data", json!({})))
            }
            "removeAllListeners" => {
                lock(&self.page).listeners.clear();
                reply(true, ("data", json!({})))
            }
            _ => match self.plugin().call(method.clone(), options.to_string()) {
                Reply::Resolve { data, effects } => {
                    let data: Value = data
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or(json!({}));
                    self.say("result", format!("{method} resolved {data}"));
                    for e in effects {
                        self.effect(e);
                    }
                    reply(true, ("data", data))
                }
                Reply::Reject {
                    code,
                    message,
                    check,
                } => {
                    self.say("result", format!("{method} rejected {code}: {message}"));
                    let mut data = Map::new();
                    if let Some(c) = check {
                        data.insert("check".into(), c.into());
                    }
                    reply(
                        false,
                        (
                            "error",
                            json!({"message": message, "code": code, "data": data}),
                        ),
                    )
                }
                // A platform file's call (the store methods): a browser has no store.
                Reply::Native { feature, .. } => {
                    let message = format!(
                        "{method}: liveship dev has no {feature} (it runs in the app on a device)"
                    );
                    self.say(
                        "result",
                        format!("{method} rejected unavailable: {message}"),
                    );
                    reply(
                        false,
                        (
                            "error",
                            json!({"message": message, "code": "unavailable", "data": {}}),
                        ),
                    )
                }
            },
        }
    }

    /// The page's script and the bridge, injected right after `<head>` (where Capacitor's
    /// Android `JSInjector` puts its own), so they run before the page's scripts.
    fn inject(&self, html: &str, bundle_id: &str, page: u64) -> String {
        // As Android's PluginHandle lists them: the plugin's methods, then the listener methods
        // every Plugin has (addListener and removeListener return nothing: RETURN_NONE).
        let listener_methods = [
            ("addListener", "none"),
            ("removeListener", "none"),
            ("removeAllListeners", "promise"),
        ];
        let methods: Vec<Value> = METHODS
            .iter()
            .map(|m| json!({"name": m, "rtype": "promise"}))
            .chain(
                listener_methods
                    .iter()
                    .map(|(m, r)| json!({"name": m, "rtype": r})),
            )
            .collect();
        let headers = json!([{ "name": "Liveship", "methods": methods }]);
        let script = format!(
            "<script>{shim}</script>\n<script>{bridge}</script>\n<script>window.Capacitor.PluginHeaders = {headers};</script>\n",
            shim = SHIM
                .replace("__BUNDLE__", &json!(bundle_id).to_string())
                .replace("__PAGE__", &page.to_string()),
            bridge = self.native_bridge,
        );
        match html.find("<head>") {
            Some(i) => format!("{}\n{script}{}", &html[..i + 6], &html[i + 6..]),
            None => format!("{script}{html}"),
        }
    }
}

/// Android's `window.androidBridge` (a `@JavascriptInterface` object with `postMessage`),
/// posting to this host; results come back as `androidBridge.onmessage({data})`, which
/// native-bridge.js installs. Then what the Android shell's document-start script sets.
const SHIM: &str = r#"
window.Capacitor = { DEBUG: true, isLoggingEnabled: false, Plugins: {} };
window.__LIVESHIP_BUNDLE_ID__ = __BUNDLE__;
(function () {
  var page = __PAGE__;
  function post(path, body) {
    return fetch(path + '?page=' + page, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body });
  }
  function deliver(text) { if (text && window.androidBridge.onmessage) window.androidBridge.onmessage({ data: text }); }
  window.androidBridge = {
    postMessage: function (json) { post('/__liveship/call', json).then(function (r) { return r.text(); }).then(deliver); }
  };
  var events = new EventSource('/__liveship/events?page=' + page);
  events.addEventListener('result', function (e) { deliver(e.data); });
  events.addEventListener('reload', function () { events.close(); location.replace('/'); });
  window.addEventListener('load', function () {
    post('/__liveship/page-loaded', JSON.stringify({ bundleId: window.__LIVESHIP_BUNDLE_ID__ }));
  });
})();
"#;

/// An event as the result of the saved `addListener` call `callback_id` (Capacitor's
/// `MessageHandler` sends events this way, with `save: true`).
fn listener_result(callback_id: &str, event: &str, data: &str) -> String {
    let data: Value = serde_json::from_str(data).unwrap_or(json!({}));
    json!({
        "callbackId": callback_id, "pluginId": "Liveship", "methodName": "addListener",
        "success": true, "save": true, "data": data, "eventName": event,
    })
    .to_string()
}

fn now_iso() -> String {
    use liveship::clock::Clock;
    liveship::capacitor::args::iso8601(liveship::clock::SystemClock.now())
}

/// The configuration native code would give the core: the user's `plugins.Liveship`, the keys,
/// and what only the host knows.
fn config_json(args: &DevArgs, update_url: &str) -> Result<String> {
    let mut config = match &args.config {
        Some(f) => read_object(f)?,
        None => Map::new(),
    };
    if let Some(keys) = &args.keys {
        let file = keys.join(crate::keygen::CONFIG_FILE);
        for (k, v) in read_object(&file)? {
            config.entry(k).or_insert(v);
        }
    }
    config.insert("updateUrl".into(), update_url.into());
    config.insert("allowInsecureLoopback".into(), true.into());
    Ok(Value::Object(config).to_string())
}

fn read_object(path: &Path) -> Result<Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => bail!("{} is not a JSON object", path.display()),
        Err(e) => bail!("{} is not JSON: {e}", path.display()),
    }
}

async fn serve(args: DevArgs) -> Result<()> {
    for (what, dir) in [("--web", &args.web), ("--repo", &args.repo)] {
        if !dir.is_dir() {
            bail!("{what} {} is not a folder", dir.display());
        }
    }
    let native_bridge = std::fs::read_to_string(&args.native_bridge).with_context(|| {
        format!(
            "reading Capacitor's native-bridge.js at {} (install @capacitor/android, or pass --native-bridge)",
            args.native_bridge.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    let local: SocketAddr = listener.local_addr()?;
    let update_url = format!("http://{local}/__liveship/repo/");
    let (data_dir, _temp) = match &args.data_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::tempdir().context("creating a data folder")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let host = HostInfo {
        app_id: args.app_id.clone(),
        platform: "android".into(),
        native_version: args.native_version.clone(),
        native_build: None,
        data_dir: data_dir.to_string_lossy().into_owned(),
        builtin_dir: args.web.to_string_lossy().into_owned(),
        os_version: None,
        is_emulator: false,
    };
    let (log, _) = broadcast::channel(1024);
    let state = Arc::new(Host {
        web: args.web.clone(),
        repo: args.repo.clone(),
        config_json: config_json(&args, &update_url)?,
        host,
        native_bridge,
        plugin: Mutex::new(None),
        serving: Mutex::new((String::new(), args.web.clone())),
        page: Mutex::new(Page::default()),
        waiting: Mutex::new(HashMap::new()),
        retained: Mutex::new(Vec::new()),
        log,
        recent: Mutex::new(Default::default()),
    });
    let started = state.clone();
    tokio::task::spawn_blocking(move || started.start()).await?;

    let app = Router::new()
        .route("/__liveship/", get(|| async { Html(PANEL) }))
        .route("/__liveship/call", post(call))
        .route("/__liveship/events", get(events))
        .route("/__liveship/page-loaded", post(page_loaded))
        .route("/__liveship/restart", post(restart))
        .route("/__liveship/background", post(background))
        .route("/__liveship/foreground", post(foreground))
        .route("/__liveship/state", get(state_json))
        .route("/__liveship/log", get(log_stream))
        .nest_service("/__liveship/repo", crate::serve::router(state.repo.clone()))
        .fallback(get(bundle_file))
        .with_state(state.clone());

    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{local}/")?;
    out.flush()?;
    drop(out);
    eprintln!(
        "liveship dev: the app at http://{local}/, the control page at http://{local}/__liveship/; \
         data in {} (Ctrl-C stops)",
        data_dir.display()
    );
    // The repository's request log (serve.rs) reads the peer address.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

const PANEL: &str = include_str!("dev/panel.html");

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u64>,
}

async fn call(State(h): State<Arc<Host>>, Query(q): Query<PageQuery>, body: Bytes) -> Response {
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a bridge message").into_response();
    };
    let page = q.page.unwrap_or(0);
    let answer = tokio::task::spawn_blocking(move || h.call(page, &message))
        .await
        .ok()
        .flatten();
    answer.unwrap_or_default().into_response()
}

async fn events(State(h): State<Arc<Host>>, Query(q): Query<PageQuery>) -> Response {
    let Some(rx) = lock(&h.waiting).remove(&q.page.unwrap_or(0)) else {
        return (StatusCode::GONE, "this page was replaced").into_response();
    };
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let m = rx.recv().await?;
        let event = match m {
            ToPage::Result(text) => SseEvent::default().event("result").data(text),
            // Not empty: EventSource dispatches no event whose data is empty (HTML, "dispatch the event").
            ToPage::Reload => SseEvent::default().event("reload").data("reload"),
        };
        Some((Ok::<_, std::convert::Infallible>(event), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize)]
struct Loaded {
    #[serde(rename = "bundleId")]
    bundle_id: String,
}

async fn page_loaded(
    State(h): State<Arc<Host>>,
    Query(q): Query<PageQuery>,
    body: Bytes,
) -> StatusCode {
    let Ok(loaded) = serde_json::from_slice::<Loaded>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if lock(&h.page).id != q.page.unwrap_or(0) {
        return StatusCode::NO_CONTENT; // an old page; the new one reports for itself
    }
    h.say("page", format!("loaded {}", loaded.bundle_id));
    let _ = tokio::task::spawn_blocking(move || h.plugin().page_loaded(loaded.bundle_id)).await;
    StatusCode::NO_CONTENT
}

async fn restart(State(h): State<Arc<Host>>) -> StatusCode {
    h.say(
        "page",
        "restart: the app is killed and started again".into(),
    );
    let s = h.clone();
    let _ = tokio::task::spawn_blocking(move || s.start()).await;
    h.to_page(ToPage::Reload);
    StatusCode::NO_CONTENT
}

/// The app went to the background (as `ProcessLifecycleOwner` `onStop` reports it).
async fn background(State(h): State<Arc<Host>>) -> StatusCode {
    h.say("page", "the app went to the background".into());
    let _ = tokio::task::spawn_blocking(move || h.plugin().app_moved_to_background()).await;
    StatusCode::NO_CONTENT
}

/// The app came back (`onStart`): the core decides delay conditions and apply mode `background`.
async fn foreground(State(h): State<Arc<Host>>) -> StatusCode {
    h.say("page", "the app came back to the foreground".into());
    let _ = tokio::task::spawn_blocking(move || {
        for e in h.plugin().app_moved_to_foreground() {
            h.effect(e);
        }
    })
    .await;
    StatusCode::NO_CONTENT
}

async fn state_json(State(h): State<Arc<Host>>) -> Response {
    let answer = tokio::task::spawn_blocking(move || {
        let p = h.plugin();
        let get = |m: &str| match p.call(m.into(), "{}".into()) {
            Reply::Resolve { data: Some(d), .. } => serde_json::from_str(&d).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let current = get("current");
        json!({
            "serving": {"bundleId": current["bundle"]["id"], "version": current["bundle"]["version"]},
            "channel": get("getChannel")["channel"],
            "bundles": get("list")["bundles"],
            "history": get("getHistory")["history"],
        })
    })
    .await
    .unwrap_or(Value::Null);
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response()
}

async fn log_stream(State(h): State<Arc<Host>>) -> Response {
    let (earlier, rx) = {
        let recent = lock(&h.recent);
        (
            recent.iter().cloned().collect::<Vec<_>>(),
            h.log.subscribe(),
        )
    };
    let replay = futures_util::stream::iter(earlier.into_iter().map(|line| {
        Ok::<_, std::convert::Infallible>(SseEvent::default().event("log").data(line))
    }));
    let live = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(line) => {
                    let e = SseEvent::default().event("log").data(line);
                    return Some((Ok::<_, std::convert::Infallible>(e), rx));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(futures_util::StreamExt::chain(replay, live))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A file of the served bundle; HTML pages get the bridge injected.
async fn bundle_file(State(h): State<Arc<Host>>, uri: axum::http::Uri) -> Response {
    let (bundle_id, root) = lock(&h.serving).clone();
    // Capacitor's html5mode: a route of a single-page app (no file extension) that is no file
    // is the bundle's index.html, so a reload on a deep route works as in the WebView.
    let route = !uri.path().rsplit('/').next().unwrap_or("").contains('.');
    let Some(path) = inside(&root, uri.path()) else {
        return match (route, tokio::fs::read(root.join("index.html")).await) {
            (true, Ok(b)) => page(&h, &bundle_id, uri.path(), &b),
            _ => (StatusCode::NOT_FOUND, "not found").into_response(),
        };
    };
    let path = if path.is_dir() {
        path.join("index.html")
    } else {
        path
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let no_store = (header::CACHE_CONTROL, "no-store");
    if mime.essence_str() == "text/html" {
        let page = h.new_page();
        h.say(
            "page",
            format!("page {page} of bundle {bundle_id}: {}", uri.path()),
        );
        let html = h.inject(&String::from_utf8_lossy(&bytes), &bundle_id, page);
        return ([no_store], Html(html)).into_response();
    }
    (
        [(header::CONTENT_TYPE, mime.as_ref().to_string())],
        [no_store],
        bytes,
    )
        .into_response()
}

/// An HTML page of the served bundle, with the bridge injected: a new page for the host.
fn page(h: &Host, bundle_id: &str, url: &str, bytes: &[u8]) -> Response {
    let page = h.new_page();
    h.say("page", format!("page {page} of bundle {bundle_id}: {url}"));
    let html = h.inject(&String::from_utf8_lossy(bytes), bundle_id, page);
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// `request` (a URL path) as a path under `root`, or `None` when it would leave it (`..`,
/// absolute parts, a symbolic link out of the folder).
fn inside(root: &Path, request: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(request)
        .decode_utf8()
        .ok()?;
    let mut path = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let real = path.canonicalize().ok()?;
    real.starts_with(root.canonicalize().ok()?).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_served_folder_are_served() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("web");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/b.js"), "x").unwrap();
        std::fs::write(dir.path().join("secret.key"), "k").unwrap();
        assert!(inside(&root, "/a/b.js").is_some());
        assert!(inside(&root, "/a/./b.js").is_some());
        assert_eq!(inside(&root, "/../secret.key"), None);
        assert_eq!(inside(&root, "/a/%2e%2e/%2e%2e/secret.key"), None);
        std::os::unix::fs::symlink(dir.path().join("secret.key"), root.join("link")).unwrap();
        assert_eq!(inside(&root, "/link"), None, "a link out of the folder");
    }

    #[test]
    fn the_bridge_goes_right_after_head_before_the_pages_scripts() {
        let (log, _) = broadcast::channel(4);
        let h = Host {
            web: "w".into(),
            repo: "r".into(),
            config_json: "{}".into(),
            host: HostInfo {
                app_id: "a".into(),
                platform: "android".into(),
                native_version: "1".into(),
                native_build: None,
                data_dir: "d".into(),
                builtin_dir: "w".into(),
                os_version: None,
                is_emulator: false,
            },
            native_bridge: "/*native-bridge*/".into(),
            plugin: Mutex::new(None),
            serving: Mutex::new((String::new(), "w".into())),
            page: Mutex::new(Page::default()),
            waiting: Mutex::new(HashMap::new()),
            retained: Mutex::new(Vec::new()),
            log,
            recent: Mutex::new(Default::default()),
        };
        let html = h.inject(
            "<html><head><script src=app.js></script></head></html>",
            "builtin",
            7,
        );
        let shim = html.find("window.androidBridge").unwrap();
        let bridge = html.find("/*native-bridge*/").unwrap();
        let headers = html.find("PluginHeaders").unwrap();
        let app = html.find("app.js").unwrap();
        assert!(shim < bridge && bridge < headers && headers < app, "{html}");
        assert!(html.contains("window.__LIVESHIP_BUNDLE_ID__ = \"builtin\";"));
        assert!(html.contains("var page = 7;"));
        assert!(html.contains("{\"name\":\"notifyAppReady\",\"rtype\":\"promise\"}"));
    }
}
