//! What the HTTP layer accepts: manifest polling (`ETag`, caps), the update endpoint, the URL
//! policy (https, loopback http only when allowed, redaction), redirects, and TLS (the
//! configured test CA, unknown CAs, bad extra CA input), and the minimum transfer rate
//! (servers that drip bytes just fast enough to keep the idle timer alive).

mod support;

use liveship::fetch::{check_url, redact, FetchError, Fetcher, HttpConfig, ManifestFetch};
use std::time::{Duration, Instant};

use support::fetching::{cfg, cfg_min_rate, download, dripping, fetcher, full, staging, url, SIZE};
use support::{data, head, respond, test_ca, Server, Step};

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

// ---------------------------------------------------------------- slow retrieval

/// 10 bytes every 100 ms: the 300 ms idle timeout of [`cfg`] never trips.
const DRIP: (usize, Duration) = (10, Duration::from_millis(100));
const WINDOW: Duration = Duration::from_secs(1);

fn too_slow(e: &FetchError) -> (u64, u64, Duration) {
    match e {
        FetchError::TooSlow {
            bytes,
            min_bytes,
            window,
            ..
        } => (*bytes, *min_bytes, *window),
        other => panic!("expected TooSlow, got {other:?}"),
    }
}

#[tokio::test]
async fn a_manifest_dripped_below_the_minimum_rate_fails_as_too_slow_after_one_window() {
    let body = data(8 * 1024);
    let b = body.clone();
    let server = Server::http(move |_, _| dripping("200 OK", &b, DRIP.0, DRIP.1, 200)).await;
    let f = Fetcher::new(cfg_min_rate(1024, WINDOW)).unwrap();
    let started = Instant::now();
    let err = f
        .get_manifest(&server.url("/channels/production.json"), None, 64 * 1024)
        .await
        .unwrap_err();
    let took = started.elapsed();
    let (bytes, min_bytes, window) = too_slow(&err);
    assert!(
        bytes < 1024 && min_bytes == 1024 && window == WINDOW,
        "{err}"
    );
    assert!(err.to_string().contains("too slow"), "{err}");
    assert!(took >= WINDOW && took < 3 * WINDOW, "took {took:?}");
    // Final for the call: retrying the same slow server would only spend the update's deadline.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_download_dripped_below_the_minimum_rate_fails_as_too_slow_and_keeps_its_bytes() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| dripping("200 OK", &b, DRIP.0, DRIP.1, 200)).await;
    let f = Fetcher::new(cfg_min_rate(1024, WINDOW)).unwrap();
    let (_dir, dest) = staging();
    let started = Instant::now();
    let got = download(&f, &server.url("/bundles/b.zip"), &dest, &body).await;
    let err = got.result.unwrap_err();
    too_slow(&err);
    assert!(
        started.elapsed() < 3 * WINDOW,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 1);
    // The bytes that did arrive stay for the next update to resume from.
    let kept = std::fs::metadata(&dest).unwrap().len();
    assert!(kept > 0 && kept < 1024, "{kept} bytes kept");
}

#[tokio::test]
async fn a_quick_start_then_a_stall_shorter_than_the_window_is_not_too_slow() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| {
        let mut steps = vec![Step::Send(head(
            "200 OK",
            &[("Content-Length", b.len().to_string())],
        ))];
        steps.push(Step::Send(b[..SIZE / 2].to_vec()));
        steps.push(Step::Sleep(Duration::from_millis(700)));
        steps.push(Step::Send(b[SIZE / 2..].to_vec()));
        steps
    })
    .await;
    let f = Fetcher::new(HttpConfig {
        idle_timeout: Duration::from_secs(5),
        ..cfg_min_rate(64 * 1024, WINDOW)
    })
    .unwrap();
    let (_dir, dest) = staging();
    let got = download(&f, &server.url("/bundles/b.zip"), &dest, &body).await;
    assert_eq!(got.result.unwrap().size(), SIZE as u64);
}
