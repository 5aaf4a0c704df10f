//! Helpers of the fetch fault tests: an HTTP config with short timeouts, scripted full, partial
//! and cut responses, and a download that records its progress calls.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use liveship::crypto::sha256_hex;
use liveship::fetch::{FetchError, Fetcher, HttpConfig, VerifiedObject};
use reqwest::Url;

use super::{head, respond, Server, Step};

pub const SIZE: usize = 256 * 1024;
pub const CUT: usize = 100_000;

/// Short timeouts and backoff so faults resolve in milliseconds.
pub fn cfg() -> HttpConfig {
    HttpConfig {
        allow_insecure_loopback: true,
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_millis(300),
        overall_timeout: Duration::from_secs(10),
        max_attempts: 3,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..HttpConfig::default()
    }
}

pub fn fetcher() -> Fetcher {
    Fetcher::new(cfg()).unwrap()
}

pub fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// `200` with the whole body.
pub fn full(body: &[u8]) -> Vec<Step> {
    respond("200 OK", &[], body)
}

/// `206` with the part from `from` and a correct `Content-Range`.
pub fn partial(body: &[u8], from: usize) -> Vec<Step> {
    let range = format!("bytes {from}-{}/{}", body.len() - 1, body.len());
    respond(
        "206 Partial Content",
        &[("Content-Range", range)],
        &body[from..],
    )
}

/// Announces the whole body, sends `upto` bytes, then `end` (a close or a reset).
pub fn cut_at(body: &[u8], upto: usize, reset: bool) -> Vec<Step> {
    let mut bytes = head("200 OK", &[("Content-Length", body.len().to_string())]);
    bytes.extend_from_slice(&body[..upto]);
    let mut steps = vec![Step::Send(bytes), Step::Sleep(Duration::from_millis(50))];
    if reset {
        steps.push(Step::Reset);
    }
    steps
}

/// A server that resets the first request after [`CUT`] bytes and answers the next with the
/// rest (`206`).
pub async fn reset_then_resumed(body: &[u8]) -> Server {
    let b = body.to_vec();
    Server::http(move |n, _| match n {
        0 => cut_at(&b, CUT, true),
        _ => partial(&b, CUT),
    })
    .await
}

pub struct Download {
    pub result: Result<VerifiedObject, FetchError>,
    pub calls: Vec<(u64, u64)>,
}

pub async fn download(f: &Fetcher, url: &Url, dest: &Path, body: &[u8]) -> Download {
    let calls = Mutex::new(Vec::new());
    let record = |done: u64, total: u64| calls.lock().unwrap().push((done, total));
    let result = f
        .download(
            url,
            dest,
            body.len() as u64,
            Some(&sha256_hex(body)),
            &record,
        )
        .await;
    Download {
        result,
        calls: calls.into_inner().unwrap(),
    }
}

pub fn staging() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("bundle.part");
    (dir, dest)
}

/// Sends the head `status` with `Content-Length` of `body`, then `per` bytes of it every `every`
/// (at most `drips` times, then closes): a server that keeps any idle timer alive while
/// delivering far below a useful rate.
pub fn dripping(status: &str, body: &[u8], per: usize, every: Duration, drips: usize) -> Vec<Step> {
    let mut steps = vec![Step::Send(head(
        status,
        &[("Content-Length", body.len().to_string())],
    ))];
    for piece in body.chunks(per.max(1)).take(drips) {
        steps.push(Step::Sleep(every));
        steps.push(Step::Send(piece.to_vec()));
    }
    steps
}

/// [`cfg`] with a minimum rate of `bytes` per `window` (1 s windows keep the tests short).
pub fn cfg_min_rate(bytes: u64, window: Duration) -> HttpConfig {
    HttpConfig {
        min_rate: Some(liveship::fetch::MinRate { bytes, window }),
        ..cfg()
    }
}
