//! `liveship serve`: a read-only static file server for a release repository, for development
//! and for the desktop device harness.
//!
//! It owns the HTTP(S) face of the static layout that `pack` writes (`channels/<channel>.json`,
//! `releases/<seq>.json`, `bundles/<sha256>.<ext>`, `files/...`) and guarantees:
//!
//! - **Read-only, inside the repository.** Files are served by tower-http's `ServeDir`: only
//!   `GET` and `HEAD` (anything else is `405`), no path that leaves the root (`..`, absolute or
//!   drive-prefixed components are refused with `404`), no directory listings (a directory is a
//!   `404`, never an index or a redirect), `404` for anything missing. Symbolic links are
//!   followed only when the fully resolved path (every link along it, a linked directory in the
//!   middle included) stays inside the resolved repository root: a link to another file of the
//!   repository is served, a link that leads out of it is a `404`, exactly like a missing file,
//!   and is checked before any validator is computed (no `ETag` or `304` reveals its target).
//!   The check resolves the path just before `ServeDir` opens it; someone who can swap links in
//!   the repository while it is served can race it, which is outside this development server's
//!   threat model (they could edit the releases anyway).
//! - **Bounded connections.** A client gets [`ServeArgs::header_timeout`] (default 10 s) to
//!   finish the TLS handshake, and again to send each request's headers, the first one and
//!   every next one on a kept-alive connection (an idle connection is closed when it runs out);
//!   at most [`ServeArgs::max_connections`] (default 256) connections are open at once, and one
//!   more is closed as soon as it is accepted, without an answer (logged on stderr). An idle
//!   HTTP/2 connection (TLS only) is not timed out, but it counts against the cap.
//! - **Byte ranges.** `Range: bytes=a-b` answers `206` with `Content-Range` (single ranges;
//!   `ServeDir` refuses multipart ranges), so a device can resume a bundle download.
//! - **Content validators.** Every file answer carries a strong `ETag`: the SHA-256 of the bytes
//!   on disk, cached per file while its (size, mtime, ctime, inode) stay the same. A file whose
//!   mtime is within [`RACY_WINDOW`] of the moment it was hashed is never cached (the "racy git"
//!   rule), because a second write inside the same timestamp tick would leave the stamp unchanged;
//!   so a channel file that `pack` rewrites, even with the same size and in the same instant,
//!   gets a new ETag. A matching `If-None-Match` answers `304`. `If-Range` with anything but the
//!   current ETag drops the `Range` (full `200`), so a resumed download never splices two
//!   versions. Time-based validators are not honoured: `If-Modified-Since` is removed before
//!   `ServeDir` sees it and `Last-Modified` is not sent, because their one-second resolution can
//!   hide a re-pack made within the same second.
//! - **Cache-Control.** `channels/` and `releases/` (and anything else that is not
//!   content-addressed) get `no-cache`: caches may store them but must revalidate every time,
//!   which with the ETag costs a `304` when nothing changed, and a device never sees a stale
//!   channel. `bundles/` and `files/` are named by their content hash, so they get
//!   `public, max-age=31536000, immutable`: a changed file is a new name.
//! - **TLS** (`--tls-cert` and `--tls-key`, PEM) with rustls on the *ring* provider only.
//! - **Observable.** On start it prints exactly one line to stdout, `listening on
//!   http(s)://HOST:PORT`, and flushes it; everything else (one line per request: peer, method,
//!   path, status, Content-Length, time) goes to stderr. `SIGINT`/`SIGTERM` stop accepting and
//!   let in-flight requests finish (up to [`GRACE`]); their handlers are installed before the
//!   `listening on` line, so a signal sent as soon as it is read is honoured, not fatal.
//!
//! - **Stats collector** (`--stats DB`): `POST /stats` and `GET /dashboard` are mounted next to
//!   the files ([`crate::collector`], docs/COLLECTOR.md); every other path stays read-only as
//!   above (a `POST` elsewhere is still `405`). The database is opened, and its table created,
//!   before the `listening on` line.
//!
//! The ETag is computed from the file before `ServeDir` opens it again; a write landing between
//! the two can pair a fresh body with the previous ETag. That window is a development-server
//! trade-off; the core verifies every byte it downloads against the signed manifest anyway.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::accept::Accept;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::services::ServeDir;

/// How long in-flight requests may run after a shutdown signal.
pub const GRACE: Duration = Duration::from_secs(10);

/// A file modified this recently before it was hashed may still change without its stamp
/// changing (coarse filesystem timestamps), so its hash is not cached.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Arguments of `liveship serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Release repository folder (the output folder of `pack`).
    pub repo: PathBuf,

    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,

    /// PEM certificate chain for HTTPS (leaf first); requires --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for HTTPS; requires --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Seconds a client gets for the TLS handshake and for each request's headers (an idle
    /// kept-alive connection is closed after as long).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,

    /// Connections open at once; one more is closed as soon as it is accepted.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Collect the devices' stats events at POST /stats and show them at GET /dashboard:
    /// a SQLite file (created if missing) or a postgres:// URL (docs/COLLECTOR.md).
    #[arg(long, value_name = "DB")]
    pub stats: Option<String>,
}

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open repository {path}: {source}")]
    RepoUnreadable { path: PathBuf, source: io::Error },
    #[error("repository {path} is not a directory")]
    RepoNotADirectory { path: PathBuf },
    #[error("cannot read TLS {what} file {path}: {source}")]
    PemUnreadable {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("TLS {what} file {path} is not valid PEM: {source}")]
    PemInvalid {
        what: &'static str,
        path: PathBuf,
        source: pem::Error,
    },
    #[error("TLS certificate file {path} holds no CERTIFICATE section")]
    NoCertificate { path: PathBuf },
    #[error("TLS key file {path} holds no private key (PKCS#8, PKCS#1 or SEC1 PEM)")]
    NoPrivateKey { path: PathBuf },
    #[error("TLS certificate {cert} and key {key} were rejected: {source}")]
    TlsConfigRejected {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot start the async runtime: {source}")]
    Runtime { source: io::Error },
    #[error("cannot install the SIGINT/SIGTERM handlers: {source}")]
    Signals { source: io::Error },
    #[error("cannot open the stats store: {cause:#}")]
    Stats { cause: anyhow::Error },
    #[error("server stopped with an error: {source}")]
    Serve { source: io::Error },
}

/// Runs the server until SIGINT/SIGTERM, on a runtime of its own (call it from sync code; from
/// async code use [`serve`]).
pub fn run(args: ServeArgs) -> Result<(), ServeError> {
    tokio::runtime::Runtime::new()
        .map_err(|source| ServeError::Runtime { source })?
        .block_on(serve(args))
}

/// Checks the repository and TLS files, binds, prints the `listening on` line, then serves
/// until SIGINT/SIGTERM and returns once in-flight requests are done (or [`GRACE`] passed).
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let root = &args.repo;
    let meta = std::fs::metadata(root).map_err(|source| ServeError::RepoUnreadable {
        path: root.clone(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(ServeError::RepoNotADirectory { path: root.clone() });
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        // clap's `requires` makes one flag without the other a usage error.
        _ => None,
    };

    let collector = match &args.stats {
        Some(db) => {
            let db = db.clone();
            let store = tokio::task::spawn_blocking(move || crate::collector::Store::open(&db))
                .await
                .map_err(|e| ServeError::Stats { cause: e.into() })?
                .map_err(|cause| ServeError::Stats { cause })?;
            Some(crate::collector::router(store))
        }
        None => None,
    };

    let bind_err = |source| ServeError::Bind {
        addr: args.addr,
        source,
    };
    let listener = TcpListener::bind(args.addr).map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;

    let handle = axum_server::Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone())?);
    let service = app(root.clone(), collector).into_make_service_with_connect_info::<SocketAddr>();

    let scheme = if tls.is_some() { "https" } else { "http" };
    // The one machine-readable line: tests and the demo read the port from it.
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {scheme}://{local}");
    let _ = stdout.flush();
    drop(stdout);
    eprintln!(
        "liveship serve: serving {} read-only on {scheme}://{local}",
        root.display()
    );
    if let Some(db) = &args.stats {
        eprintln!(
            "liveship serve: collecting stats at {scheme}://{local}/stats into {}, dashboard at /dashboard",
            crate::collector::store::display_db(db)
        );
    }

    let timeout = Duration::from_secs(args.header_timeout);
    let cap = ConnectionCap::new(args.max_connections as usize);
    let served = match tls {
        Some(config) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(bind_err)?
                .map(|tls| tls.handshake_timeout(timeout).acceptor(cap));
            bounded(server, timeout).handle(handle).serve(service).await
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(bind_err)?
                .acceptor(cap);
            bounded(server, timeout).handle(handle).serve(service).await
        }
    };
    served.map_err(|source| ServeError::Serve { source })?;
    eprintln!("liveship serve: stopped");
    Ok(())
}

/// Applies the header timeout to the first request (hyper's HTTP/1-or-2 detection before it is
/// not timed otherwise) and to every next request's headers, and logs refused connections.
fn bounded<A>(
    mut server: axum_server::Server<SocketAddr, A>,
    timeout: Duration,
) -> axum_server::Server<SocketAddr, A> {
    server.http_builder().http1().header_read_timeout(timeout);
    server
        .first_request_timeout(timeout)
        .accept_error_handler(|peer, e| match peer {
            Some(peer) => eprintln!("{peer} connection refused: {e}"),
            None => eprintln!("connection refused: {e}"),
        })
}

/// The acceptor that holds a slot of the connection cap for each connection's lifetime.
#[derive(Clone)]
struct ConnectionCap {
    slots: Arc<Semaphore>,
    max: usize,
}

impl ConnectionCap {
    fn new(max: usize) -> Self {
        ConnectionCap {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

impl<I, S> Accept<I, S> for ConnectionCap {
    type Stream = Capped<I>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Capped<I>, S)>>;

    /// A free slot admits the stream; none closes it at once (dropping it), so a flood of idle
    /// connections costs at most `max` file descriptors and tasks.
    fn accept(&self, stream: I, service: S) -> Self::Future {
        std::future::ready(match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Ok((
                Capped {
                    _slot: permit,
                    inner: stream,
                },
                service,
            )),
            Err(_) => Err(io::Error::other(format!(
                "{} connections are open, the --max-connections cap",
                self.max
            ))),
        })
    }
}

/// A connection's stream with its slot; the slot is given back when the connection is dropped.
struct Capped<I> {
    _slot: OwnedSemaphorePermit,
    inner: I,
}

impl<I: AsyncRead + Unpin> AsyncRead for Capped<I> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Capped<I> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The request pipeline: request log, then the confinement check, then validators and caching
/// headers, then `ServeDir`.
pub fn router(root: PathBuf) -> Router {
    app(root, None)
}

/// [`router`], with the collector's routes (`collector`) in front of the files when given: the
/// request log covers both, the file layers only the files.
pub fn app(root: PathBuf, collector: Option<Router>) -> Router {
    let files = ServeDir::new(&root).append_index_html_on_directories(false);
    let validators = Arc::new(Validators {
        root: root.clone(),
        cache: Mutex::new(HashMap::new()),
    });
    let files = Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(validators, revalidate))
        .layer(middleware::from_fn_with_state(Arc::new(root), confine));
    match collector {
        Some(collector) => collector.fallback_service(files),
        None => files,
    }
    .layer(middleware::from_fn(log_request))
}

/// Answers `404` for a path that exists but resolves (through symbolic links) outside the
/// repository root; everything else goes on (a missing or refused path is `ServeDir`'s `404`).
async fn confine(State(root): State<Arc<PathBuf>>, req: Request, next: Next) -> Response {
    if let Some(rel) = relative_path(req.uri().path()) {
        if !resolves_inside(&root, &rel).await {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    next.run(req).await
}

/// Whether `root/rel`, all links resolved, is inside `root`, all links resolved; `true` when
/// it does not exist (nothing can be served from it).
async fn resolves_inside(root: &Path, rel: &Path) -> bool {
    let target = match tokio::fs::canonicalize(root.join(rel)).await {
        Ok(target) => target,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return true,
        Err(_) => return false,
    };
    match tokio::fs::canonicalize(root).await {
        Ok(root) => target.starts_with(root),
        Err(_) => false,
    }
}

/// Builds a rustls server config on the ring provider from PEM files.
fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let cert_pem = std::fs::read(cert).map_err(|source| ServeError::PemUnreadable {
        what: "certificate",
        path: cert.to_path_buf(),
        source,
    })?;
    let key_pem = std::fs::read(key).map_err(|source| ServeError::PemUnreadable {
        what: "key",
        path: key.to_path_buf(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| ServeError::PemInvalid {
            what: "certificate",
            path: cert.to_path_buf(),
            source,
        })?;
    if chain.is_empty() {
        return Err(ServeError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| match source {
        pem::Error::NoItemsFound => ServeError::NoPrivateKey {
            path: key.to_path_buf(),
        },
        source => ServeError::PemInvalid {
            what: "key",
            path: key.to_path_buf(),
            source,
        },
    })?;
    let rejected = |source| ServeError::TlsConfigRejected {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(rejected)?
    .with_no_client_auth()
    .with_single_cert(chain, private_key)
    .map_err(rejected)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Installs the SIGINT/SIGTERM handlers now (so a signal sent right after the `listening on`
/// line is not lost) and returns a future that starts a graceful shutdown when one arrives.
fn shutdown_on_signal(
    handle: axum_server::Handle<SocketAddr>,
) -> Result<impl std::future::Future<Output = ()>, ServeError> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        let install = |kind| signal(kind).map_err(|source| ServeError::Signals { source });
        let (mut interrupt, mut terminate) = (
            install(SignalKind::interrupt())?,
            install(SignalKind::terminate())?,
        );
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    };
    #[cfg(not(unix))]
    let signals = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(async move {
        signals.await;
        eprintln!("liveship serve: shutting down");
        handle.graceful_shutdown(Some(GRACE));
    })
}

/// One stderr line per request: peer, method, path, Range if any, status, Content-Length, time.
async fn log_request(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| format!(" range={r}"))
        .unwrap_or_default();
    let res = next.run(req).await;
    // Content-Length when set (file answers), else the body's exact size when known.
    let bytes = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| res.body().size_hint().exact().map(|n| n.to_string()))
        .unwrap_or_else(|| "-".to_owned());
    eprintln!(
        "{peer} {method} {path}{range} {} {bytes} {:.1?}",
        res.status().as_u16(),
        started.elapsed()
    );
    res
}

/// Content hashes of served files, keyed by path and stamped with the metadata they were
/// computed from.
struct Validators {
    root: PathBuf,
    cache: Mutex<HashMap<PathBuf, (Stamp, HeaderValue)>>,
}

/// What must stay equal for a cached hash to still describe the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    ctime: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            ctime: (meta.ctime(), meta.ctime_nsec()),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }
}

impl Validators {
    /// The strong ETag of the regular file at `rel`, or `None` when there is no such file or
    /// it changed while being hashed (then the answer simply carries no ETag).
    async fn etag(&self, rel: &Path) -> Option<HeaderValue> {
        let path = self.root.join(rel);
        let meta = tokio::fs::metadata(&path).await.ok()?;
        if !meta.is_file() {
            return None;
        }
        let stamp = Stamp::of(&meta);
        if let Some((cached, tag)) = self.cache.lock().ok()?.get(rel) {
            if *cached == stamp {
                return Some(tag.clone());
            }
        }
        let hashed_at = SystemTime::now();
        let (after, digest) = tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .ok()?
            .ok()?;
        if after != stamp {
            return None;
        }
        let tag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(digest))).ok()?;
        let settled = stamp.modified.is_some_and(|m| m + RACY_WINDOW < hashed_at);
        if settled {
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(rel.to_path_buf(), (stamp, tag.clone()));
            }
        }
        Some(tag)
    }
}

/// SHA-256 of the file, with the metadata of the open file after reading it.
fn hash_file(path: &Path) -> io::Result<(Stamp, [u8; 32])> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let stamp = Stamp::of(&file.metadata()?);
    Ok((stamp, hasher.finalize().into()))
}

/// Maps a request path to a path relative to the root with the same rules as `ServeDir`
/// (percent-decoded, only normal components); `None` for anything `ServeDir` would refuse.
fn relative_path(uri_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(uri_path.trim_start_matches('/'))
        .decode_utf8()
        .ok()?;
    let mut rel = PathBuf::new();
    for component in Path::new(&*decoded).components() {
        match component {
            Component::Normal(part)
                if Path::new(part)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_))) =>
            {
                rel.push(part)
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(rel)
}

/// `immutable` for the content-addressed folders, `no-cache` for everything else.
fn cache_policy(rel: &Path) -> &'static str {
    match rel.components().next() {
        Some(Component::Normal(top)) if top == "bundles" || top == "files" => IMMUTABLE,
        _ => NO_CACHE,
    }
}

/// Does `If-None-Match` list `tag` (weak comparison, as RFC 9110 prescribes for it) or `*`?
fn none_match_hits(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let tag = tag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/").as_bytes() == tag)
}

/// Adds the ETag and Cache-Control, answers `If-None-Match` with `304`, guards `If-Range`, and
/// strips the time-based validators (see the module doc).
async fn revalidate(
    State(validators): State<Arc<Validators>>,
    mut req: Request,
    next: Next,
) -> Response {
    req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    let rel = relative_path(req.uri().path());
    let tag = match (&rel, readable) {
        (Some(rel), true) => validators.etag(rel).await,
        _ => None,
    };
    let (Some(rel), Some(tag)) = (rel, tag) else {
        return next.run(req).await;
    };
    let policy = HeaderValue::from_static(cache_policy(&rel));

    if none_match_hits(req.headers(), &tag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, tag), (header::CACHE_CONTROL, policy)],
        )
            .into_response();
    }
    if req
        .headers()
        .get(header::IF_RANGE)
        .is_some_and(|if_range| if_range != tag)
    {
        req.headers_mut().remove(header::RANGE);
    }

    let mut res = next.run(req).await;
    if matches!(res.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT) {
        let headers = res.headers_mut();
        headers.insert(header::ETAG, tag);
        headers.insert(header::CACHE_CONTROL, policy);
        headers.remove(header::LAST_MODIFIED);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_refuses_what_serve_dir_refuses() {
        assert_eq!(
            relative_path("/channels/production.json"),
            Some(PathBuf::from("channels/production.json"))
        );
        assert_eq!(
            relative_path("/./bundles/a.zip"),
            Some(PathBuf::from("bundles/a.zip"))
        );
        assert_eq!(relative_path("/../secret"), None);
        assert_eq!(relative_path("/%2e%2e/secret"), None);
        assert_eq!(relative_path("/channels/..%2f..%2fsecret"), None);
        assert_eq!(
            relative_path("//etc/passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
    }

    #[test]
    fn only_content_addressed_folders_are_immutable() {
        assert_eq!(cache_policy(Path::new("bundles/ab.zip")), IMMUTABLE);
        assert_eq!(cache_policy(Path::new("files/ab/cd")), IMMUTABLE);
        assert_eq!(
            cache_policy(Path::new("channels/production.json")),
            NO_CACHE
        );
        assert_eq!(cache_policy(Path::new("releases/7.json")), NO_CACHE);
        assert_eq!(cache_policy(Path::new("bundles-old/x")), NO_CACHE);
    }

    #[test]
    fn if_none_match_accepts_lists_weak_forms_and_star() {
        let tag = HeaderValue::from_static("\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            none_match_hits(&h, &tag)
        };
        assert!(with("\"abc\""));
        assert!(with("\"x\", W/\"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!none_match_hits(&HeaderMap::new(), &tag));
    }
}
