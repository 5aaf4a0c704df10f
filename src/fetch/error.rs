//! What a fetch can fail with: one variant per check or failure mode, each naming the URL
//! (always through [`super::redact`]), and the transient/final split the retry loop uses.

use std::fmt;
use std::time::Duration;

use crate::fs::IoError;

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Establishing TCP and TLS.
    Connect,
    /// Waiting for the response head.
    Response,
    /// Waiting for the next piece of the body.
    Idle,
    /// The whole call, retries included.
    Overall,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::Response => "waiting for the response",
            TimeoutPhase::Idle => "waiting for more of the body",
            TimeoutPhase::Overall => "overall",
        })
    }
}

/// What went wrong with a fetch. Every URL in here went through [`redact`](super::redact).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused to fetch {url}: only https, or http to loopback when allowed")]
    InsecureUrl { url: String },
    #[error("refused redirect to {to}: only https, or http to loopback when allowed")]
    InsecureRedirect { to: String },
    #[error("more than {limit} redirects fetching {url}")]
    TooManyRedirects { limit: usize, url: String },
    /// No response arrived: refused, reset or closed connection, name resolution failure.
    #[error("no response from {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The TLS handshake failed (unknown CA, bad certificate, protocol error).
    #[error("TLS failure with {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("timed out ({phase}) fetching {url}")]
    Timeout { phase: TimeoutPhase, url: String },
    /// The body brought fewer than `min_bytes` within the last `window` (the minimum transfer
    /// rate, [`super::MinRate`]). Not retried: the call ends, a partial download stays on disk
    /// for the next update to resume.
    #[error(
        "transfer from {url} too slow: {bytes} bytes in the last {}, the minimum is {min_bytes}",
        seconds(*.window)
    )]
    TooSlow {
        url: String,
        bytes: u64,
        min_bytes: u64,
        window: Duration,
    },
    #[error("{url} answered HTTP {status}")]
    Status { status: u16, url: String },
    /// A manifest or endpoint response over its cap.
    #[error("response from {url} is larger than the {limit}-byte limit")]
    TooLarge { limit: u64, url: String },
    /// A download that went (or announced it would go) past its expected size.
    #[error("download from {url} is longer than the expected {limit} bytes")]
    TooLong { limit: u64, url: String },
    /// A download whose announced `Content-Length` differs from the expected size.
    #[error("{url} announced {announced} bytes, expected {expected}")]
    WrongLength {
        announced: u64,
        expected: u64,
        url: String,
    },
    /// The body stopped (closed or reset) before its end.
    #[error("body from {url} stopped after {got} bytes{}", expected_suffix(*.expected))]
    Truncated {
        got: u64,
        expected: Option<u64>,
        url: String,
    },
    /// A `206` whose `Content-Range` does not continue the bytes on disk.
    #[error("{url} answered a range from byte {from} with Content-Range {got:?}")]
    BadContentRange {
        from: u64,
        got: Option<String>,
        url: String,
    },
    #[error("downloaded file has SHA-256 {got}, expected {expected}")]
    HashMismatch { expected: String, got: String },
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        attempts: u32,
        last: Box<FetchError>,
    },
    #[error(transparent)]
    Io(#[from] IoError),
    /// The HTTP client could not be built (bad extra CA, no trust store).
    #[error("HTTP client setup failed: {0}")]
    Setup(String),
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn expected_suffix(expected: Option<u64>) -> String {
    expected.map(|n| format!(" of {n}")).unwrap_or_default()
}

impl FetchError {
    /// Whether trying again later could succeed (the retry loop's criterion).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Connect { .. } | FetchError::Truncated { .. } => true,
            FetchError::Timeout { phase, .. } => *phase != TimeoutPhase::Overall,
            FetchError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            _ => false,
        }
    }
}
