//! The device's HTTP layer: manifest polling, the dynamic update endpoint, and resumable,
//! bounded, hash-checked bundle downloads. It knows nothing of manifests beyond bytes.
//!
//! Guarantees:
//! - Only `https` URLs are fetched or followed through a redirect; plain `http` only to
//!   `127.0.0.1`, `[::1]` or `localhost` and only when [`HttpConfig::allow_insecure_loopback`]
//!   is set ([`check_url`]). At most [`MAX_REDIRECTS`] redirects are followed.
//! - TLS is rustls on the `ring` provider with the platform verifier (the OS trust store on
//!   Android and iOS), plus an optional extra CA for development servers.
//! - No response is buffered past its cap: an announced `Content-Length` over the cap is refused
//!   before the body is read, and a body that grows past it is cut off at the first chunk over.
//! - [`Fetcher::download`] streams to disk with flat memory, resumes from the bytes already on
//!   disk (`Range`), and returns a [`VerifiedObject`] only when the file has exactly the expected
//!   size and SHA-256 and has been fsynced; the digest is computed once, while streaming, and is
//!   what the install checks. A file that fails the hash check is deleted.
//! - A body slower than [`HttpConfig::min_rate`] (fewer bytes than its minimum within a sliding
//!   window, 1 KiB/s over 30 s by default) fails with [`FetchError::TooSlow`], whatever the idle
//!   timeout: a server dripping bytes just often enough to keep the connection alive is cut
//!   off. `TooSlow` is final for the call (a retry would meet the same slow path and only spend
//!   the update's deadline); a partial download stays on disk and the next update resumes it.
//! - Transient failures (connection, timeouts, 5xx, 408, 429, truncated bodies) are retried
//!   with exponential backoff and full jitter; `Retry-After` is honoured on 429 and 503.
//! - URLs are logged and reported only through [`redact`]: no query string, no userinfo.

mod download;
mod error;
mod rate;
mod tls;

pub use download::VerifiedObject;
pub use error::{FetchError, TimeoutPhase};
pub use rate::MinRate;
use rate::RateMeter;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode, Url};

use crate::clock::{Clock, SystemClock};

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;
/// Shortest interval between two progress reports of one download.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// How the device talks HTTP. `Default` is what an app gets without configuring anything.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Allow plain `http` to `127.0.0.1`, `[::1]` and `localhost` (development servers).
    pub allow_insecure_loopback: bool,
    /// PEM certificates trusted in addition to the system's roots (development CAs). Not
    /// supported on Android, where the app's `network_security_config` does this instead.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Limit for establishing the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Limit for waiting on the response head and for each read of the body.
    pub idle_timeout: Duration,
    /// Limit for one whole call, retries and backoff included.
    pub overall_timeout: Duration,
    /// Slowest body accepted ([`FetchError::TooSlow`] below it); `None` accepts any rate.
    pub min_rate: Option<MinRate>,
    /// Attempts per call, the first included (0 counts as 1).
    pub max_attempts: u32,
    /// Backoff before retry `n` is drawn uniformly from `[0, min(backoff_max, base * 2^(n-1))]`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Longest `Retry-After` wait honoured; a longer one is shortened to this.
    pub max_retry_after: Duration,
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allow_insecure_loopback: false,
            extra_ca_pem: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            overall_timeout: Duration::from_secs(10 * 60),
            min_rate: Some(MinRate::default()),
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            user_agent: concat!("liveship/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Result of polling a manifest URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestFetch {
    /// `304`: the `ETag` sent is still current.
    NotModified,
    /// `200`: the body, and the `ETag` to send next time.
    Fresh { body: Vec<u8>, etag: Option<String> },
}

/// Refuses every URL but `https`, and `http` to loopback when `allow_insecure_loopback`.
pub fn check_url(url: &Url, allow_insecure_loopback: bool) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => Ok(()),
        // `Url` normalises hosts (lowercase names, canonical IP forms), so exact matches suffice.
        "http"
            if allow_insecure_loopback
                && matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")) =>
        {
            Ok(())
        }
        _ => Err(FetchError::InsecureUrl { url: redact(url) }),
    }
}

/// `scheme://host[:port]/path`: the URL without userinfo, query or fragment, fit for logs
/// (query strings often carry tokens).
pub fn redact(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    out
}

/// Error the redirect policy hands to reqwest, found again in the error's source chain.
#[derive(Debug)]
enum RedirectRefused {
    Insecure { to: String },
    TooMany,
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectRefused::Insecure { to } => write!(f, "insecure redirect to {to}"),
            RedirectRefused::TooMany => write!(f, "more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl StdError for RedirectRefused {}

/// One failed attempt, and how the retry loop should treat it.
/// An HTTP answer of any status ([`Fetcher::post_for_answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

struct Failure {
    error: FetchError,
    retry: bool,
    retry_after: Option<Duration>,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Failure {
            retry: error.is_transient(),
            error,
            retry_after: None,
        }
    }
}

impl From<crate::fs::IoError> for Failure {
    fn from(error: crate::fs::IoError) -> Self {
        FetchError::Io(error).into()
    }
}

impl Failure {
    /// A failure that is retried at once (the attempt already repaired what went wrong).
    fn retry_now(error: FetchError) -> Self {
        Failure {
            error,
            retry: true,
            retry_after: Some(Duration::ZERO),
        }
    }
}

/// The HTTP client. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    cfg: Arc<HttpConfig>,
    /// Waits between attempts (backoff, `Retry-After`).
    clock: Arc<dyn Clock>,
}

impl Fetcher {
    /// Builds the client: rustls on `ring`, the platform verifier (plus `extra_ca_pem`), the
    /// redirect policy of [`check_url`], and the connect timeout.
    pub fn new(cfg: HttpConfig) -> Result<Fetcher, FetchError> {
        Fetcher::with_clock(cfg, Arc::new(SystemClock))
    }

    /// [`Fetcher::new`] whose waits between attempts pass on `clock` (a manual clock in tests).
    pub fn with_clock(cfg: HttpConfig, clock: Arc<dyn Clock>) -> Result<Fetcher, FetchError> {
        let tls = tls::tls_config(cfg.extra_ca_pem.as_deref())?;
        let allow = cfg.allow_insecure_loopback;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(RedirectRefused::TooMany)
            } else if check_url(attempt.url(), allow).is_err() {
                let to = redact(attempt.url());
                attempt.error(RedirectRefused::Insecure { to })
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(policy)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(cfg.user_agent.clone())
            .build()
            .map_err(|e| FetchError::Setup(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            cfg: Arc::new(cfg),
            clock,
        })
    }

    /// Polls a manifest. Sends `If-None-Match` when `etag` is given; a `304` to that is
    /// [`ManifestFetch::NotModified`]. The body is capped at `max_bytes` ([`FetchError::TooLarge`]).
    pub async fn get_manifest(
        &self,
        url: &Url,
        etag: Option<&str>,
        max_bytes: u64,
    ) -> Result<ManifestFetch, FetchError> {
        check_url(url, self.cfg.allow_insecure_loopback)?;
        let if_none_match = etag.and_then(|tag| match HeaderValue::from_str(tag) {
            Ok(v) => Some(v),
            Err(_) => {
                log::warn!(
                    "manifest {}: stored ETag is not a valid header, not sent",
                    redact(url)
                );
                None
            }
        });
        self.with_retries("manifest", url, |_| {
            let if_none_match = if_none_match.clone();
            async move {
                let mut req = self.client.get(url.clone());
                let conditional = if_none_match.is_some();
                if let Some(v) = if_none_match {
                    req = req.header(IF_NONE_MATCH, v);
                }
                let mut resp = self.send(req, url).await?;
                match resp.status() {
                    StatusCode::NOT_MODIFIED if conditional => Ok(ManifestFetch::NotModified),
                    StatusCode::OK => {
                        let etag = resp
                            .headers()
                            .get(ETAG)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = self.read_capped(&mut resp, max_bytes, url).await?;
                        Ok(ManifestFetch::Fresh { body, etag })
                    }
                    _ => Err(status_failure(&resp, url)),
                }
            }
        })
        .await
    }

    /// POSTs `json_body` (already serialised JSON) to a dynamic update endpoint: `204` is
    /// `None` (no update), `200` is the body, capped at `max_bytes`.
    pub async fn post_json(
        &self,
        url: &Url,
        json_body: &[u8],
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        check_url(url, self.cfg.allow_insecure_loopback)?;
        self.with_retries("update endpoint", url, |_| async move {
            let mut resp = self.send_json(url, json_body).await?;
            match resp.status() {
                StatusCode::NO_CONTENT => Ok(None),
                StatusCode::OK => Ok(Some(self.read_capped(&mut resp, max_bytes, url).await?)),
                _ => Err(status_failure(&resp, url)),
            }
        })
        .await
    }

    /// POSTs `json_body` to an endpoint that answers in its body whatever the status (Capgo's
    /// `/updates` classifies refusals in 4xx bodies; `crate::capgo::protocol` reads them):
    /// every status is an answer, with its `Retry-After` header and its body capped at
    /// `max_bytes`. Only transport failures are retried here; a 429's wait is the caller's.
    pub async fn post_for_answer(
        &self,
        url: &Url,
        json_body: &[u8],
        max_bytes: u64,
    ) -> Result<HttpAnswer, FetchError> {
        self.request_for_answer(Method::POST, url, Some(json_body), max_bytes)
            .await
    }

    /// [`Fetcher::post_for_answer`] with another method (Capgo's channel endpoint reads its
    /// channel with `PUT` and lists with `GET`); `json_body` `None` sends no body.
    pub async fn request_for_answer(
        &self,
        method: Method,
        url: &Url,
        json_body: Option<&[u8]>,
        max_bytes: u64,
    ) -> Result<HttpAnswer, FetchError> {
        check_url(url, self.cfg.allow_insecure_loopback)?;
        self.with_retries("endpoint", url, |_| {
            let method = method.clone();
            async move {
                let mut req = self.client.request(method, url.clone());
                if let Some(body) = json_body {
                    req = req
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.to_vec());
                }
                let mut resp = self.send(req, url).await?;
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = self.read_capped(&mut resp, max_bytes, url).await?;
                Ok(HttpAnswer {
                    status,
                    retry_after,
                    body,
                })
            }
        })
        .await
    }

    /// One POST of a JSON body, within the response timeout.
    async fn send_json(&self, url: &Url, json_body: &[u8]) -> Result<Response, FetchError> {
        let req = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(json_body.to_vec());
        self.send(req, url).await
    }

    /// Reads a whole body into memory, refusing anything over `limit`.
    async fn read_capped(
        &self,
        resp: &mut Response,
        limit: u64,
        url: &Url,
    ) -> Result<Vec<u8>, Failure> {
        let too_large = || FetchError::TooLarge {
            limit,
            url: redact(url),
        };
        let announced = resp.content_length();
        if announced.is_some_and(|n| n > limit) {
            return Err(too_large().into());
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
        let mut meter = RateMeter::start(self.cfg.min_rate);
        while let Some(chunk) = self
            .next_chunk(resp, body.len() as u64, announced, url, &mut meter)
            .await?
        {
            let chunk = chunk.as_ref();
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large().into());
            }
            body.extend_from_slice(chunk);
        }
        Ok(body)
    }

    /// The next piece of the body, within the idle timeout and above the minimum rate
    /// (`meter` counts the bytes of the whole body).
    async fn next_chunk(
        &self,
        resp: &mut Response,
        got: u64,
        expected: Option<u64>,
        url: &Url,
        meter: &mut RateMeter,
    ) -> Result<Option<impl AsRef<[u8]>>, FetchError> {
        let idle_at = tokio::time::Instant::now() + self.cfg.idle_timeout;
        let idle = || FetchError::Timeout {
            phase: TimeoutPhase::Idle,
            url: redact(url),
        };
        loop {
            // Wake at the idle limit, or earlier when the rate check is due: a body that keeps
            // the idle timer happy can still be too slow.
            let wake = meter.next_check().map_or(idle_at, |at| at.min(idle_at));
            // `chunk()` only polls the body: dropping it at `wake` loses no bytes.
            match tokio::time::timeout_at(wake, resp.chunk()).await {
                Err(_) => {
                    let now = tokio::time::Instant::now();
                    meter.check(now, &redact(url))?;
                    if now >= idle_at {
                        return Err(idle());
                    }
                }
                Ok(Ok(chunk)) => {
                    if let Some(c) = &chunk {
                        let now = tokio::time::Instant::now();
                        meter.record(now, c.len());
                        meter.check(now, &redact(url))?;
                    }
                    return Ok(chunk);
                }
                Ok(Err(e)) if e.is_timeout() => return Err(idle()),
                Ok(Err(e)) => {
                    log::warn!("{}: body interrupted: {}", redact(url), error_chain(&e));
                    return Err(FetchError::Truncated {
                        got,
                        expected,
                        url: redact(url),
                    });
                }
            }
        }
    }

    /// Sends a request and waits for the response head (connect timeout, then idle timeout).
    async fn send(&self, req: reqwest::RequestBuilder, url: &Url) -> Result<Response, FetchError> {
        let limit = self.cfg.connect_timeout + self.cfg.idle_timeout;
        match tokio::time::timeout(limit, req.send()).await {
            Err(_) => Err(FetchError::Timeout {
                phase: TimeoutPhase::Response,
                url: redact(url),
            }),
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(classify(&e, url)),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, runs out of attempts, or the overall
    /// timeout passes.
    async fn with_retries<'a, T, F, Fut>(
        &'a self,
        what: &str,
        url: &Url,
        mut attempt: F,
    ) -> Result<T, FetchError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure>> + 'a,
    {
        let max_attempts = self.cfg.max_attempts.max(1);
        let run = async {
            let mut n = 0;
            loop {
                n += 1;
                let failure = match attempt(n).await {
                    Ok(v) => return Ok(v),
                    Err(f) => f,
                };
                if !failure.retry {
                    log::warn!("{what} {}: {}", redact(url), failure.error);
                    return Err(failure.error);
                }
                if n >= max_attempts {
                    log::warn!("{what} {}: giving up after {n} attempts", redact(url));
                    return Err(FetchError::RetriesExhausted {
                        attempts: n,
                        last: Box::new(failure.error),
                    });
                }
                let delay = match failure.retry_after {
                    Some(d) => d.min(self.cfg.max_retry_after),
                    None => self.backoff(n),
                };
                log::info!(
                    "{what} {}: attempt {n} failed ({}); retrying in {delay:?}",
                    redact(url),
                    failure.error
                );
                self.clock.pause(delay).await;
            }
        };
        match tokio::time::timeout(self.cfg.overall_timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                phase: TimeoutPhase::Overall,
                url: redact(url),
            }),
        }
    }

    /// Full jitter: uniform in `[0, min(backoff_max, backoff_base * 2^(attempt-1))]` (the
    /// midpoint if the system has no randomness to give).
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = backoff_cap(self.cfg.backoff_base, self.cfg.backoff_max, attempt);
        let midpoint = (cap.as_nanos().min(u64::MAX as u128) as u64) / 2;
        full_jitter(cap, getrandom::u64().unwrap_or(midpoint))
    }
}

/// The longest wait before retry `attempt` (1 after the first failure): `base` doubled per
/// retry, never above `max`, without overflowing however many retries.
fn backoff_cap(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max)
}

/// `random` mapped onto `[0, cap]` (nanoseconds), both ends included.
fn full_jitter(cap: Duration, random: u64) -> Duration {
    let cap_nanos = cap.as_nanos().min(u64::MAX as u128) as u64;
    if cap_nanos == 0 {
        return Duration::ZERO;
    }
    // Saturating: a cap of u64::MAX nanoseconds would otherwise overflow (and divide by zero).
    Duration::from_nanos(random % cap_nanos.saturating_add(1))
}

/// A non-success status as a failure, with the server's `Retry-After` on 429 and 503.
fn status_failure(resp: &Response, url: &Url) -> Failure {
    let status = resp.status();
    let retry_after =
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            // Only the delay-seconds form; an HTTP-date falls back to the backoff schedule.
            resp.headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        } else {
            None
        };
    let mut failure = Failure::from(FetchError::Status {
        status: status.as_u16(),
        url: redact(url),
    });
    failure.retry_after = retry_after;
    failure
}

/// Maps a reqwest error from sending a request to what happened.
fn classify(e: &reqwest::Error, url: &Url) -> FetchError {
    if let Some(refused) = find_in_chain::<RedirectRefused>(e) {
        return match refused {
            RedirectRefused::Insecure { to } => FetchError::InsecureRedirect { to: to.clone() },
            RedirectRefused::TooMany => FetchError::TooManyRedirects {
                limit: MAX_REDIRECTS,
                url: redact(url),
            },
        };
    }
    if let Some(tls) = find_in_chain::<rustls::Error>(e) {
        return FetchError::Tls {
            url: redact(url),
            reason: tls.to_string(),
        };
    }
    if e.is_timeout() {
        let phase = if e.is_connect() {
            TimeoutPhase::Connect
        } else {
            TimeoutPhase::Response
        };
        return FetchError::Timeout {
            phase,
            url: redact(url),
        };
    }
    FetchError::Connect {
        url: redact(url),
        reason: error_chain(e),
    }
}

/// Finds an error of type `E` in a source chain, looking inside `io::Error`s too (whose
/// `source()` skips the error they wrap).
fn find_in_chain<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(found) = find_in_chain::<E>(inner) {
                return Some(found);
            }
        }
        current = e.source();
    }
    None
}

/// The messages of an error and its sources, without any URL (reqwest puts the full URL,
/// query included, in its own message).
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = String::from("request failed");
    let mut current = e.source();
    while let Some(s) = current {
        out.push_str(": ");
        out.push_str(&s.to_string());
        current = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backoff_cap_doubles_per_retry_up_to_the_maximum() {
        let (base, max) = (500 * MS, 30_000 * MS);
        let caps: Vec<Duration> = (1..=8).map(|n| backoff_cap(base, max, n)).collect();
        let want = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
        assert_eq!(caps, want.map(|ms| ms * MS));
        // Attempt 0 is treated as the first; huge counts saturate instead of overflowing.
        assert_eq!(backoff_cap(base, max, 0), base);
        for n in [32, 33, 64, u32::MAX] {
            assert_eq!(backoff_cap(base, max, n), max, "attempt {n}");
        }
        assert_eq!(backoff_cap(Duration::MAX, Duration::MAX, 40), Duration::MAX);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_cap_inclusive() {
        let cap = 1_000 * MS;
        let nanos = cap.as_nanos() as u64;
        assert_eq!(full_jitter(cap, 0), Duration::ZERO);
        assert_eq!(full_jitter(cap, nanos), cap);
        assert_eq!(full_jitter(cap, nanos + 1), Duration::ZERO);
        assert_eq!(full_jitter(cap, nanos / 2), cap / 2);
        assert!(full_jitter(cap, u64::MAX) <= cap);
        assert_eq!(full_jitter(Duration::ZERO, u64::MAX), Duration::ZERO);
        // A cap beyond u64 nanoseconds (about 584 years) still yields a wait within it.
        assert!(full_jitter(Duration::MAX, u64::MAX) <= Duration::MAX);
    }
}
