//! The one helper module of the device-core tests (each test file says `mod support;`).
//! Here: raw loopback HTTP/1.1 servers for fault tests (each response is a script of exact
//! writes, pauses, closes and resets, so a fault happens at a known byte), a test CA, a static
//! release repository served like any host, a `Publisher` with its own random keys, a networked
//! `Device` with its event `Recorder`, and the outcome helpers of the update tests. Beside it:
//! `fixtures` (deterministic keys, releases, the file-fed `LocalDevice`), `fetching` (fetch
//! fault scripts), `zips` (zips made by other tools) and `crash` (the kill harness).
#![allow(dead_code)]

pub mod crash;
pub mod fetching;
pub mod fixtures;
#[macro_use]
pub mod zips;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// One step of a scripted response.
pub enum Step {
    Send(Vec<u8>),
    Sleep(Duration),
    /// Abort the connection with a TCP RST (SO_LINGER 0, then close).
    Reset,
}

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(usize, &Request) -> Vec<Step> + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    scheme: &'static str,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A plain HTTP server; `handler(n, request)` scripts the response to the n-th request
    /// (0-based). Every connection carries one request.
    pub async fn http(
        handler: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static,
    ) -> Server {
        Self::start(handler, None).await
    }

    /// The same over TLS with the given acceptor.
    pub async fn https(
        acceptor: TlsAcceptor,
        handler: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static,
    ) -> Server {
        Self::start(handler, Some(acceptor)).await
    }

    async fn start(
        handler: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static,
        tls: Option<TlsAcceptor>,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let scheme = if tls.is_some() { "https" } else { "http" };
        let log = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (handler, log, tls) = (handler.clone(), log.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(tcp, handler, log, |s| s).await,
                        Some(acceptor) => {
                            // A failed handshake (the client refusing our certificate) just ends.
                            if let Ok(s) = acceptor.accept(tcp).await {
                                serve(s, handler, log, |s| s.get_ref().0).await
                            }
                        }
                    }
                });
            }
        });
        Server {
            addr,
            scheme,
            requests,
            task,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}://{}{}", self.scheme, self.addr, path)).unwrap()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Request>>>,
    tcp: impl Fn(&S) -> &TcpStream,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let n = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    for step in handler(n, &request) {
        match step {
            Step::Send(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Reset => {
                let _ = tcp(&stream).set_zero_linger();
                return;
            }
        }
    }
    let _ = stream.shutdown().await;
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if let Some(len) = request.header("content-length") {
        let mut body = vec![0u8; len.parse().ok()?];
        stream.read_exact(&mut body).await.ok()?;
        request.body = body;
    }
    Some(request)
}

/// A response head; `Connection: close` is always added.
pub fn head(status: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// A complete response with a correct `Content-Length`.
pub fn respond(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<Step> {
    let mut all = headers.to_vec();
    all.push(("Content-Length", body.len().to_string()));
    let mut bytes = head(status, &all);
    bytes.extend_from_slice(body);
    vec![Step::Send(bytes)]
}

/// Deterministic, incompressible-looking test data.
pub fn data(len: usize) -> Vec<u8> {
    noise(len, 0x9E37_79B9_7F4A_7C15)
}

/// Deterministic incompressible bytes, one sequence per seed (xorshift).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A CA made for the test, and a TLS acceptor serving a leaf for 127.0.0.1 signed by it.
pub struct TestCa {
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

pub fn test_ca() -> TestCa {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Liveship test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    TestCa {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

// ------------------------------------------------------------------ release repositories

/// Answers `req` from the static repository folder `root` served at `prefix` (e.g. `/repo`),
/// like any static host: `ETag` (the file's SHA-256) with `If-None-Match` -> `304`, and
/// `Range: bytes=N-` -> `206` with `Content-Range`. Unknown paths are `404`.
pub fn serve_file(root: &std::path::Path, prefix: &str, req: &Request) -> Vec<Step> {
    let Some(rel) = req.path.strip_prefix(prefix) else {
        return respond("404 Not Found", &[], b"");
    };
    let rel = rel.trim_start_matches('/');
    if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return respond("404 Not Found", &[], b"");
    }
    let Ok(body) = std::fs::read(root.join(rel)) else {
        return respond("404 Not Found", &[], b"");
    };
    let etag = format!("\"{}\"", liveship::crypto::sha256_hex(&body));
    if req.header("if-none-match") == Some(etag.as_str()) {
        return vec![Step::Send(head(
            "304 Not Modified",
            &[("ETag", etag), ("Content-Length", "0".into())],
        ))];
    }
    let from = req
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match from {
        Some(from) if from < body.len() => {
            let range = format!("bytes {from}-{}/{}", body.len() - 1, body.len());
            respond(
                "206 Partial Content",
                &[("ETag", etag), ("Content-Range", range)],
                &body[from..],
            )
        }
        _ => respond("200 OK", &[("ETag", etag)], &body),
    }
}

/// A multi-threaded runtime that keeps loopback servers running while the (synchronous)
/// device API is called from the test thread.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A publisher: keys, a web folder and a repository folder, packing with `liveship::publish`.
pub struct Publisher {
    pub dir: tempfile::TempDir,
    pub signing: ed25519_dalek::SigningKey,
    pub bundle_key: liveship::release::BundleKey,
    pub encrypt: bool,
    pub app_id: String,
}

pub const APP_ID: &str = "com.example.app";

/// A new random signing key (each publisher its own; see [`fixtures::signing_key`] for the
/// deterministic one).
pub fn fresh_signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&liveship::crypto::random_bytes::<32>())
}

/// The pinned form of `key`, allowed for `channels`.
pub fn pinned(key: &ed25519_dalek::SigningKey, channels: &[&str]) -> liveship::release::PinnedKey {
    use base64::Engine;
    let vk = key.verifying_key();
    liveship::release::PinnedKey {
        key_id: liveship::crypto::public_key_id(vk.as_bytes()),
        public_key: base64::engine::general_purpose::STANDARD.encode(vk.as_bytes()),
        channels: channels.iter().map(|c| c.to_string()).collect(),
    }
}

/// The system's wall-clock seconds (releases "issued now").
pub fn now() -> u64 {
    liveship::clock::Clock::now(&liveship::clock::SystemClock)
}

impl Publisher {
    pub fn new(encrypt: bool) -> Publisher {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo")).unwrap();
        Publisher {
            dir,
            signing: fresh_signing_key(),
            bundle_key: liveship::release::BundleKey::new(&liveship::crypto::random_bytes()),
            encrypt,
            app_id: APP_ID.into(),
        }
    }

    pub fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    /// A web folder of about 400 KB: `index.html`, `main.js` (small, carries `marker`) and
    /// eight 50 KB assets (incompressible, so the zip is about as large).
    pub fn webdir(&self, name: &str, marker: &str) -> std::path::PathBuf {
        let web = self.dir.path().join("web").join(name);
        std::fs::create_dir_all(web.join("assets")).unwrap();
        std::fs::write(
            web.join("index.html"),
            "<!doctype html><script src=main.js></script>",
        )
        .unwrap();
        std::fs::write(
            web.join("main.js"),
            format!("console.log({marker:?});\n").repeat(200),
        )
        .unwrap();
        let blob = data(8 * 50 * 1024);
        for (i, chunk) in blob.chunks(50 * 1024).enumerate() {
            std::fs::write(web.join("assets").join(format!("a{i}.bin")), chunk).unwrap();
        }
        web
    }

    /// Packs `channel#sequence` whose assets all differ from every other release's (no file
    /// in common: a delta would cost as much as the full bundle, so the full one is fetched).
    pub fn pack_fresh(&self, sequence: u64, marker: &str) -> liveship::publish::Packed {
        let web = self.webdir(&format!("fresh-{sequence}"), marker);
        for i in 0..8 {
            let path = web.join("assets").join(format!("a{i}.bin"));
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[..marker.len()].copy_from_slice(marker.as_bytes());
            std::fs::write(&path, bytes).unwrap();
        }
        self.pack_dir(&web, "production", sequence, |_| {})
    }

    /// Packs `marker`'s web folder as `channel#sequence`, with `tweak` applied to the options.
    pub fn pack_with(
        &self,
        channel: &str,
        sequence: u64,
        marker: &str,
        tweak: impl FnOnce(&mut liveship::publish::PackOptions<'_>),
    ) -> liveship::publish::Packed {
        let web = self.webdir(&format!("{channel}-{sequence}"), marker);
        self.pack_dir(&web, channel, sequence, tweak)
    }

    /// Packs the web folder `web` as `channel#sequence` (version `1.0.<sequence>`, valid for a
    /// week), with `tweak` applied to the options.
    fn pack_dir(
        &self,
        web: &std::path::Path,
        channel: &str,
        sequence: u64,
        tweak: impl FnOnce(&mut liveship::publish::PackOptions<'_>),
    ) -> liveship::publish::Packed {
        let repo = self.repo();
        let version = format!("1.0.{sequence}");
        let mut opts = liveship::publish::PackOptions {
            webdir: web,
            repo: &repo,
            app_id: &self.app_id,
            channel,
            sequence,
            version: &version,
            signing_key: &self.signing,
            bundle_key: self.encrypt.then_some(&self.bundle_key),
            expires_in: 7 * 24 * 3600,
            native: Default::default(),
            platforms: vec![],
            rollout: None,
            incident: None,
            now: now(),
        };
        tweak(&mut opts);
        liveship::publish::pack(&opts, &liveship::publish::Silent).unwrap()
    }

    pub fn pack(&self, sequence: u64, marker: &str) -> liveship::publish::Packed {
        self.pack_with("production", sequence, marker, |_| {})
    }

    /// A device configuration trusting this publisher, with a built-in bundle under `device`.
    pub fn config(&self, update_url: &str, device: &std::path::Path) -> liveship::config::Config {
        let builtin = device.join("builtin");
        std::fs::create_dir_all(&builtin).unwrap();
        std::fs::write(builtin.join("index.html"), "built-in").unwrap();
        serde_json::from_value(serde_json::json!({
            "appId": APP_ID,
            "platform": "android",
            "nativeVersion": "1.0.0",
            "builtinDir": builtin,
            "updateUrl": update_url,
            "allowInsecureLoopback": true,
            "publicKeys": [pinned(&self.signing, &["*"])],
            "bundleKeys": [self.bundle_key],
            "appReadyTimeout": 0,
            "responseTimeout": 1,
        }))
        .unwrap()
    }
}

/// HTTP limits that resolve faults in well under a second (the product defaults are 5 attempts
/// from 500 ms backoff): same code path, smaller numbers.
pub fn fast_http() -> liveship::fetch::HttpConfig {
    liveship::fetch::HttpConfig {
        connect_timeout: Duration::from_secs(2),
        overall_timeout: Duration::from_secs(20),
        max_attempts: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(3),
        ..Default::default()
    }
}

/// Events a device emitted, in order.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<liveship::events::Event>>>);

impl Recorder {
    pub fn sink(&self) -> Arc<dyn liveship::events::EventSink> {
        let log = self.0.clone();
        Arc::new(move |e| log.lock().unwrap().push(e))
    }
    pub fn events(&self) -> Vec<liveship::events::Event> {
        self.0.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear()
    }
}

/// A device: its data folder and its updater.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub updater: liveship::engine::Engine,
    pub events: Recorder,
}

impl Device {
    pub fn open(config: liveship::config::Config, dir: tempfile::TempDir) -> Device {
        Self::open_with(config, dir, fast_http())
    }

    pub fn open_with(
        config: liveship::config::Config,
        dir: tempfile::TempDir,
        http: liveship::fetch::HttpConfig,
    ) -> Device {
        Self::open_on(config, dir, http, Arc::new(liveship::clock::SystemClock))
    }

    /// [`Device::open_with`] on `clock` (a manual clock: waits between attempts pass on it).
    pub fn open_on(
        config: liveship::config::Config,
        dir: tempfile::TempDir,
        http: liveship::fetch::HttpConfig,
        clock: Arc<dyn liveship::clock::Clock>,
    ) -> Device {
        let events = Recorder::default();
        let updater = liveship::engine::Engine::open_with_clock(
            config,
            &dir.path().join("data"),
            events.sink(),
            http,
            clock,
        )
        .unwrap();
        Device {
            dir,
            updater,
            events,
        }
    }
}

/// A device (in a new temporary folder) trusting `p` and updating from the repository `net`
/// serves.
pub fn device(p: &Publisher, net: &Net) -> Device {
    let dir = tempfile::tempdir().unwrap();
    Device::open(p.config(&net.update_url(), dir.path()), dir)
}

/// The bundle id and sequence of an update that installed something.
pub fn installed(out: liveship::engine::UpdateOutcome) -> (String, u64) {
    match out {
        liveship::engine::UpdateOutcome::Installed { id, sequence, .. } => (id, sequence),
        other => panic!("expected an install, got {other:?}"),
    }
}

/// Installs, launches and confirms what the channel offers; returns its id.
pub fn take_and_confirm(d: &Device) -> String {
    let (id, _) = installed(d.updater.update().unwrap());
    assert_eq!(d.updater.launch().id, id);
    d.updater.notify_app_ready(&id).unwrap();
    id
}

/// The fetch error inside an update error, unwrapped from "gave up after n attempts".
pub fn fetch_error(e: &liveship::engine::CoreError) -> &liveship::fetch::FetchError {
    use liveship::engine::{CoreError, NetError};
    use liveship::fetch::FetchError;
    match e {
        CoreError::Net(NetError::Fetch(FetchError::RetriesExhausted { last, .. })) => last,
        CoreError::Net(NetError::Fetch(f)) => f,
        other => panic!("expected a network error, got {other}"),
    }
}

/// How many requests went to paths containing `part`.
pub fn count(server: &Server, part: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path.contains(part))
        .count()
}

/// A loopback server and the runtime it runs on (the server field drops first).
pub struct Net {
    pub server: Server,
    pub rt: tokio::runtime::Runtime,
}

impl Net {
    /// Serves with a scripted handler.
    pub fn scripted(handler: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static) -> Net {
        let rt = server_runtime();
        let server = rt.block_on(Server::http(handler));
        Net { server, rt }
    }

    /// The same over TLS.
    pub fn https(
        acceptor: TlsAcceptor,
        handler: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static,
    ) -> Net {
        let rt = server_runtime();
        let server = rt.block_on(Server::https(acceptor, handler));
        Net { server, rt }
    }

    /// Serves the repository folder `root` at `/repo/` like a static host.
    pub fn repo(root: std::path::PathBuf) -> Net {
        Self::scripted(move |_, req| serve_file(&root, "/repo", req))
    }

    /// The `updateUrl` of the served repository.
    pub fn update_url(&self) -> String {
        self.server.url("/repo/").to_string()
    }
}
