//! Timeouts and retries against scripted loopback servers: idle, response and overall timeouts,
//! 5xx retried with backoff until success or the attempt limit, `Retry-After` honoured, client
//! errors final, refused connections transient.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use liveship::clock::{Clock, ManualClock};
use liveship::fetch::{FetchError, Fetcher, HttpConfig, TimeoutPhase};
use support::fetching::{cfg, download, fetcher, full, staging, url, SIZE};
use support::{data, head, respond, Server, Step};

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
    // The wait between the attempts passes on a manual clock: no sleeping, and it is exact.
    let clock = Arc::new(ManualClock::new());
    let f = Fetcher::with_clock(cfg(), clock.clone()).unwrap();
    let d = download(&f, &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    // The one wait was the server's Retry-After; backoff alone would have waited at most 20 ms.
    assert_eq!(clock.monotonic(), Duration::from_secs(1));
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
