//! Fault tests for `liveship::fetch` against real loopback servers (plain and TLS) whose
//! responses are scripted byte by byte: resets, truncation, stalls, lies about lengths and
//! ranges, retries, redirects, certificates.

mod support;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use liveship::crypto::sha256_hex;
use liveship::fetch::{
    check_url, redact, FetchError, Fetcher, HttpConfig, ManifestFetch, TimeoutPhase,
};
use reqwest::Url;
use support::{data, head, respond, test_ca, Server, Step};

const SIZE: usize = 256 * 1024;
const CUT: usize = 100_000;

/// Short timeouts and backoff so faults resolve in milliseconds.
fn cfg() -> HttpConfig {
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

fn fetcher() -> Fetcher {
    Fetcher::new(cfg()).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// `200` with the whole body.
fn full(body: &[u8]) -> Vec<Step> {
    respond("200 OK", &[], body)
}

/// `206` with the part from `from` and a correct `Content-Range`.
fn partial(body: &[u8], from: usize) -> Vec<Step> {
    let range = format!("bytes {from}-{}/{}", body.len() - 1, body.len());
    respond(
        "206 Partial Content",
        &[("Content-Range", range)],
        &body[from..],
    )
}

/// Announces the whole body, sends `upto` bytes, then `end` (a close or a reset).
fn cut_at(body: &[u8], upto: usize, reset: bool) -> Vec<Step> {
    let mut bytes = head("200 OK", &[("Content-Length", body.len().to_string())]);
    bytes.extend_from_slice(&body[..upto]);
    let mut steps = vec![Step::Send(bytes), Step::Sleep(Duration::from_millis(50))];
    if reset {
        steps.push(Step::Reset);
    }
    steps
}

struct Download {
    result: Result<(), FetchError>,
    calls: Vec<(u64, u64)>,
}

async fn download(f: &Fetcher, url: &Url, dest: &Path, body: &[u8]) -> Download {
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

fn staging() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("bundle.part");
    (dir, dest)
}

// ---------------------------------------------------------------- resume

#[tokio::test]
async fn connection_reset_mid_body_resumes_with_range_and_completes() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |n, _| match n {
        0 => cut_at(&b, CUT, true),
        _ => partial(&b, CUT),
    })
    .await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("range"), None);
    assert_eq!(
        reqs[1].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
    // Progress ends with (total, total) and never goes backwards.
    assert_eq!(d.calls.last(), Some(&(SIZE as u64, SIZE as u64)));
    assert!(d.calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[tokio::test]
async fn truncated_body_is_kept_for_resume_when_retries_run_out() {
    let body = data(SIZE);
    let b = body.clone();
    // Content-Length announces everything, the server closes after CUT bytes, every time.
    let server = Server::http(move |_, _| cut_at(&b, CUT, false)).await;
    let (_dir, dest) = staging();
    let f = Fetcher::new(HttpConfig {
        max_attempts: 2,
        ..cfg()
    })
    .unwrap();
    let d = download(&f, &server.url("/b.zip"), &dest, &body).await;
    match d.result {
        Err(FetchError::RetriesExhausted { attempts: 2, last }) => assert!(
            matches!(*last, FetchError::Truncated { got, expected: Some(e), .. }
                if got == CUT as u64 && e == SIZE as u64),
            "{last:?}"
        ),
        other => panic!("expected RetriesExhausted(Truncated), got {other:?}"),
    }
    // The second attempt asked to resume; the prefix stays on disk for the next call.
    assert_eq!(
        server.requests()[1].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
    assert_eq!(std::fs::read(&dest).unwrap(), &body[..CUT]);
}

#[tokio::test]
async fn prefix_left_by_an_interrupted_run_is_resumed_with_range() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| partial(&b, CUT)).await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body[..CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[tokio::test]
async fn server_ignoring_range_restarts_cleanly_from_zero() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| full(&b)).await;
    let (_dir, dest) = staging();
    // A prefix that is not even right: appending to it would fail the hash.
    std::fs::write(&dest, vec![0xAA; CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[tokio::test]
async fn partial_response_with_wrong_content_range_restarts_without_range() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |n, _| match n {
        // Claims to start at byte 0 although byte CUT was asked for.
        0 => {
            let range = format!("bytes 0-{}/{}", b.len() - 1, b.len());
            respond("206 Partial Content", &[("Content-Range", range)], &b)
        }
        _ => full(&b),
    })
    .await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body[..CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("range"), None);
}

#[tokio::test]
async fn complete_file_on_disk_is_verified_without_a_request() {
    let body = data(SIZE);
    let server = Server::http(|_, _| respond("500 Internal Server Error", &[], b"")).await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert!(server.requests().is_empty());
    assert_eq!(d.calls, vec![(SIZE as u64, SIZE as u64)]);
}

// ---------------------------------------------------------------- length and hash

#[tokio::test]
async fn body_longer_than_expected_is_cut_off_as_too_long() {
    let body = data(SIZE);
    let b = body.clone();
    // No Content-Length: the body runs to the close, far past the expected size.
    let server = Server::http(move |_, _| {
        let mut bytes = head("200 OK", &[]);
        bytes.extend_from_slice(&b);
        bytes.extend_from_slice(&data(4 * SIZE));
        vec![Step::Send(bytes)]
    })
    .await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::TooLong { limit, .. }) if limit == SIZE as u64),
        "{:?}",
        d.result
    );
    assert_eq!(server.requests().len(), 1, "TooLong is not retried");
    assert!(!dest.exists(), "an overlong download leaves no file");
}

#[tokio::test]
async fn announced_length_over_expected_is_refused_before_the_body() {
    let body = data(SIZE);
    let big = data(SIZE + 1);
    let server = Server::http(move |_, _| full(&big)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::TooLong { limit, .. }) if limit == SIZE as u64),
        "{:?}",
        d.result
    );
}

#[tokio::test]
async fn announced_length_under_expected_is_a_wrong_length() {
    let body = data(SIZE);
    let short = body[..SIZE - 10].to_vec();
    let server = Server::http(move |_, _| full(&short)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::WrongLength { announced, expected, .. })
            if announced == (SIZE - 10) as u64 && expected == SIZE as u64),
        "{:?}",
        d.result
    );
    assert_eq!(server.requests().len(), 1, "WrongLength is not retried");
}

#[tokio::test]
async fn wrong_bytes_fail_the_hash_and_the_file_is_deleted() {
    let body = data(SIZE);
    let mut evil = body.clone();
    evil[SIZE / 2] ^= 1;
    let server = Server::http(move |_, _| full(&evil)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    match d.result {
        Err(FetchError::HashMismatch { expected, got }) => {
            assert_eq!(expected, sha256_hex(&body));
            assert_ne!(got, expected);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(!dest.exists());
    assert_eq!(
        server.requests().len(),
        1,
        "a clean mismatch is not retried"
    );
}

// ---------------------------------------------------------------- timeouts and retries

#[tokio::test]
async fn slow_drip_past_the_idle_timeout_times_out() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| {
        let mut bytes = head("200 OK", &[("Content-Length", b.len().to_string())]);
        bytes.extend_from_slice(&b[..1000]);
        vec![Step::Send(bytes), Step::Sleep(Duration::from_secs(3))]
    })
    .await;
    let (_dir, dest) = staging();
    let f = Fetcher::new(HttpConfig {
        max_attempts: 1,
        ..cfg()
    })
    .unwrap();
    let started = Instant::now();
    let d = download(&f, &server.url("/b.zip"), &dest, &body).await;
    match d.result {
        Err(FetchError::RetriesExhausted { attempts: 1, last }) => assert!(
            matches!(
                *last,
                FetchError::Timeout {
                    phase: TimeoutPhase::Idle,
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("expected an idle timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn server_that_never_answers_times_out_waiting_for_the_response() {
    let server = Server::http(|_, _| vec![Step::Sleep(Duration::from_secs(5))]).await;
    let f = Fetcher::new(HttpConfig {
        connect_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(200),
        max_attempts: 1,
        ..cfg()
    })
    .unwrap();
    let started = Instant::now();
    let r = f.get_manifest(&server.url("/m.json"), None, 1024).await;
    match r {
        Err(FetchError::RetriesExhausted { attempts: 1, last }) => assert!(
            matches!(
                *last,
                FetchError::Timeout {
                    phase: TimeoutPhase::Response,
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("expected a response timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn silent_server_hits_the_overall_timeout() {
    let server = Server::http(|_, _| vec![Step::Sleep(Duration::from_secs(5))]).await;
    let f = Fetcher::new(HttpConfig {
        idle_timeout: Duration::from_secs(5),
        overall_timeout: Duration::from_millis(300),
        ..cfg()
    })
    .unwrap();
    let started = Instant::now();
    let r = f.get_manifest(&server.url("/m.json"), None, 1024).await;
    assert!(
        matches!(
            r,
            Err(FetchError::Timeout {
                phase: TimeoutPhase::Overall,
                ..
            })
        ),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |n, _| match n {
        0 | 1 => respond("500 Internal Server Error", &[], b"oops"),
        _ => full(&b),
    })
    .await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}

#[tokio::test]
async fn server_errors_exhaust_the_attempts() {
    let server = Server::http(|_, _| respond("503 Service Unavailable", &[], b"")).await;
    let r = fetcher()
        .get_manifest(&server.url("/m.json"), None, 1024)
        .await;
    match r {
        Err(FetchError::RetriesExhausted { attempts: 3, last }) => {
            assert!(matches!(*last, FetchError::Status { status: 503, .. }))
        }
        other => panic!("expected RetriesExhausted(503), got {other:?}"),
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |n, _| match n {
        0 => respond(
            "429 Too Many Requests",
            &[("Retry-After", "1".to_owned())],
            b"",
        ),
        _ => full(&b),
    })
    .await;
    let (_dir, dest) = staging();
    // Backoff alone would wait at most 20 ms.
    let started = Instant::now();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = Server::http(|_, _| respond("404 Not Found", &[], b"")).await;
    let body = data(1000);
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::Status { status: 404, .. })),
        "{:?}",
        d.result
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn refused_connection_is_a_transient_connect_error() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = Fetcher::new(HttpConfig {
        max_attempts: 2,
        ..cfg()
    })
    .unwrap();
    let r = f
        .get_manifest(&url(&format!("http://127.0.0.1:{port}/m")), None, 1024)
        .await;
    match r {
        Err(FetchError::RetriesExhausted { attempts: 2, last }) => {
            assert!(matches!(*last, FetchError::Connect { .. }), "{last:?}")
        }
        other => panic!("expected RetriesExhausted(Connect), got {other:?}"),
    }
}

// ---------------------------------------------------------------- manifests and endpoint

#[tokio::test]
async fn etag_is_sent_as_if_none_match_and_304_is_not_modified() {
    let server = Server::http(|_, req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            respond("304 Not Modified", &[("ETag", "\"v1\"".to_owned())], b"")
        } else {
            respond("200 OK", &[("ETag", "\"v1\"".to_owned())], b"{\"m\":1}")
        }
    })
    .await;
    let f = fetcher();
    let u = server.url("/channels/production.json");
    let first = f.get_manifest(&u, None, 1024).await.unwrap();
    assert_eq!(
        first,
        ManifestFetch::Fresh {
            body: b"{\"m\":1}".to_vec(),
            etag: Some("\"v1\"".to_owned())
        }
    );
    let second = f.get_manifest(&u, Some("\"v1\""), 1024).await.unwrap();
    assert_eq!(second, ManifestFetch::NotModified);
    assert_eq!(server.requests()[0].header("if-none-match"), None);
}

#[tokio::test]
async fn manifest_over_the_cap_is_refused_whether_announced_or_not() {
    let announced = Server::http(|_, _| full(&data(5000))).await;
    let r = fetcher()
        .get_manifest(&announced.url("/m.json"), None, 4096)
        .await;
    assert!(
        matches!(r, Err(FetchError::TooLarge { limit: 4096, .. })),
        "{r:?}"
    );

    // No Content-Length: cut off when the streamed body passes the cap.
    let unannounced = Server::http(|_, _| {
        let mut bytes = head("200 OK", &[]);
        bytes.extend_from_slice(&data(1 << 20));
        vec![Step::Send(bytes)]
    })
    .await;
    let r = fetcher()
        .get_manifest(&unannounced.url("/m.json"), None, 4096)
        .await;
    assert!(
        matches!(r, Err(FetchError::TooLarge { limit: 4096, .. })),
        "{r:?}"
    );

    // At the cap exactly is fine.
    let at_cap = Server::http(|_, _| full(&data(4096))).await;
    let r = fetcher()
        .get_manifest(&at_cap.url("/m.json"), None, 4096)
        .await;
    assert!(matches!(r, Ok(ManifestFetch::Fresh { ref body, .. }) if body.len() == 4096));
}

#[tokio::test]
async fn endpoint_post_maps_204_to_none_and_200_to_the_body() {
    let server = Server::http(|n, _| match n {
        0 => respond("204 No Content", &[], b""),
        _ => respond("200 OK", &[], b"envelope"),
    })
    .await;
    let f = fetcher();
    let u = server.url("/updates");
    let device = br#"{"appId":"com.example","sequence":7}"#;
    assert_eq!(f.post_json(&u, device, 1024).await.unwrap(), None);
    assert_eq!(
        f.post_json(&u, device, 1024).await.unwrap(),
        Some(b"envelope".to_vec())
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[0].body, device);
}

// ---------------------------------------------------------------- URL policy and redirects

#[test]
fn url_policy_allows_https_and_only_loopback_http_when_allowed() {
    for ok in ["https://cdn.example.com/a", "https://127.0.0.1/a"] {
        check_url(&url(ok), false).unwrap();
    }
    for loopback in [
        "http://127.0.0.1:8080/a",
        "http://[::1]:9/a",
        "http://localhost/a",
        "http://LOCALHOST:1/a",
    ] {
        check_url(&url(loopback), true).unwrap();
        assert!(matches!(
            check_url(&url(loopback), false),
            Err(FetchError::InsecureUrl { .. })
        ));
    }
    for bad in [
        "http://example.com/a",
        "http://127.0.0.2/a",
        "http://localhost.example.com/a",
        "http://10.0.0.1/a",
        "ftp://127.0.0.1/a",
        "file:///etc/passwd",
    ] {
        assert!(
            matches!(
                check_url(&url(bad), true),
                Err(FetchError::InsecureUrl { .. })
            ),
            "{bad} was allowed"
        );
    }
}

#[test]
fn redact_drops_query_and_userinfo() {
    let u = url("https://user:secret@cdn.example.com:8443/releases/7.json?token=abc#frag");
    assert_eq!(redact(&u), "https://cdn.example.com:8443/releases/7.json");
    let err = check_url(&url("http://example.com/m?token=abc"), true).unwrap_err();
    assert!(!err.to_string().contains("token"), "{err}");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_connecting() {
    let f = fetcher();
    let (_dir, dest) = staging();
    let r = f
        .download(
            &url("http://example.com/b.zip?token=abc"),
            &dest,
            1,
            Some("00"),
            &|_, _| {},
        )
        .await;
    assert!(
        matches!(r, Err(FetchError::InsecureUrl { ref url }) if url == "http://example.com/b.zip")
    );
    let r = f
        .get_manifest(&url("http://example.com/m.json"), None, 1024)
        .await;
    assert!(matches!(r, Err(FetchError::InsecureUrl { .. })), "{r:?}");
}

#[tokio::test]
async fn redirect_from_https_to_http_is_refused() {
    let ca = test_ca();
    let plain = Server::http(|_, _| full(b"{}")).await;
    let target = plain.url("/m.json?token=abc");
    let tls = Server::https(ca.acceptor.clone(), move |_, _| {
        respond("302 Found", &[("Location", target.to_string())], b"")
    })
    .await;
    let f = Fetcher::new(HttpConfig {
        allow_insecure_loopback: false,
        extra_ca_pem: Some(ca.ca_pem.into_bytes()),
        ..cfg()
    })
    .unwrap();
    let r = f.get_manifest(&tls.url("/m.json"), None, 1024).await;
    match r {
        Err(FetchError::InsecureRedirect { to }) => {
            assert_eq!(to, format!("http://{}/m.json", plain.addr))
        }
        other => panic!("expected InsecureRedirect, got {other:?}"),
    }
    assert!(plain.requests().is_empty(), "the redirect was not followed");
}

#[tokio::test]
async fn redirect_from_loopback_to_remote_http_is_refused() {
    let server = Server::http(|_, _| {
        respond(
            "301 Moved Permanently",
            &[("Location", "http://example.com/m.json".to_owned())],
            b"",
        )
    })
    .await;
    let r = fetcher()
        .get_manifest(&server.url("/m.json"), None, 1024)
        .await;
    assert!(
        matches!(r, Err(FetchError::InsecureRedirect { ref to }) if to == "http://example.com/m.json"),
        "{r:?}"
    );
}

#[tokio::test]
async fn redirect_loops_stop_after_the_limit() {
    let server =
        Server::http(|n, _| respond("302 Found", &[("Location", format!("/hop/{}", n + 1))], b""))
            .await;
    let r = fetcher()
        .get_manifest(&server.url("/hop/0"), None, 1024)
        .await;
    assert!(
        matches!(r, Err(FetchError::TooManyRedirects { limit: 5, .. })),
        "{r:?}"
    );
    assert_eq!(server.requests().len(), 6);
}

// ---------------------------------------------------------------- TLS

#[tokio::test]
async fn https_with_the_configured_test_ca_downloads() {
    let ca = test_ca();
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::https(ca.acceptor.clone(), move |_, _| full(&b)).await;
    let f = Fetcher::new(HttpConfig {
        allow_insecure_loopback: false,
        extra_ca_pem: Some(ca.ca_pem.into_bytes()),
        ..cfg()
    })
    .unwrap();
    let (_dir, dest) = staging();
    let d = download(&f, &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}

#[tokio::test]
async fn https_with_an_unknown_ca_fails_with_a_tls_error() {
    let ca = test_ca();
    let server = Server::https(ca.acceptor.clone(), |_, _| full(b"{}")).await;
    let f = Fetcher::new(HttpConfig {
        allow_insecure_loopback: false,
        ..cfg()
    })
    .unwrap();
    let r = f.get_manifest(&server.url("/m.json"), None, 1024).await;
    match r {
        Err(ref e @ FetchError::Tls { ref reason, .. }) => {
            assert!(!e.is_transient());
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[test]
fn extra_ca_without_a_certificate_is_a_setup_error() {
    let r = Fetcher::new(HttpConfig {
        extra_ca_pem: Some(b"not a pem".to_vec()),
        ..cfg()
    });
    assert!(matches!(r, Err(FetchError::Setup(_))));
}
