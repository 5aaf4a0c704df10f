//! `Engine::update` over real loopback servers (plain and TLS with a CA made in the test):
//! conditional static checks, the dynamic endpoint, server faults mid-download, single flight,
//! progress, apply modes and background deadlines. In every fault the device keeps serving the
//! bundle it had, the error names the fault, and a later good attempt completes (with `Range`
//! where bytes were already on disk).

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use liveship::clock::ManualClock;
use liveship::engine::{CheckResult, CoreError, Engine, NetError, UpdateOutcome};
use liveship::events::Event;
use liveship::fetch::{FetchError, HttpConfig, TimeoutPhase};
use support::{
    fast_http, head, respond, serve_file, test_ca, Device, Net, Publisher, Recorder, Request, Step,
};

const CUT: usize = 100_000;

fn installed(out: UpdateOutcome) -> (String, u64) {
    match out {
        UpdateOutcome::Installed { id, sequence, .. } => (id, sequence),
        other => panic!("expected an install, got {other:?}"),
    }
}

fn take_and_confirm(d: &Device) -> String {
    let (id, _) = installed(d.updater.update().unwrap());
    assert_eq!(d.updater.launch().id, id);
    d.updater.notify_app_ready(&id).unwrap();
    id
}

/// The fetch error inside an update error, unwrapped from "gave up after n attempts".
fn fetch_error(e: &CoreError) -> &FetchError {
    match e {
        CoreError::Net(NetError::Fetch(FetchError::RetriesExhausted { last, .. })) => last,
        CoreError::Net(NetError::Fetch(f)) => f,
        other => panic!("expected a network error, got {other}"),
    }
}

type Fault = dyn Fn(usize, &Request, &[u8]) -> Option<Vec<Step>> + Send + Sync;

/// A device that runs release 1 (confirmed) while release 2 is published; the `fault` scripts
/// the answers to release 2's bundle requests (`n` counts them) until it returns `None`.
struct Scene {
    net: Net,
    _p: Publisher,
    d: Device,
    previous: String,
    bundle: String,
}

fn scene(
    http: HttpConfig,
    fault: impl Fn(usize, &Request, &[u8]) -> Option<Vec<Step>> + Send + Sync + 'static,
) -> Scene {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let root = p.repo();
    let armed = Arc::new(AtomicBool::new(false));
    let n = Arc::new(AtomicUsize::new(0));
    let fault: Arc<Fault> = Arc::new(fault);
    let (a, r) = (armed.clone(), root.clone());
    let net = Net::scripted(move |_, req| {
        if a.load(Ordering::SeqCst) && req.path.contains("/bundles/") {
            let rel = req.path.trim_start_matches("/repo/");
            let body = std::fs::read(r.join(rel)).unwrap_or_default();
            if let Some(steps) = fault(n.fetch_add(1, Ordering::SeqCst), req, &body) {
                return steps;
            }
        }
        serve_file(&r, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open_with(p.config(&net.update_url(), dir.path()), dir, http);
    let previous = take_and_confirm(&d);
    let two = p.pack_fresh(2, "two");
    armed.store(true, Ordering::SeqCst);
    let bundle = two
        .bundle_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    Scene {
        net,
        _p: p,
        d,
        previous,
        bundle,
    }
}

impl Scene {
    fn bundle_requests(&self) -> Vec<Request> {
        self.net
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&self.bundle))
            .collect()
    }

    /// The failed update left the device as it was.
    fn assert_previous_serves(&self) {
        let status = self.d.updater.status().unwrap();
        assert_eq!(status.serving.id, self.previous);
        assert!(status.next.is_none());
        assert_eq!(self.d.updater.launch().id, self.previous);
        assert!(self
            .d
            .events
            .events()
            .iter()
            .any(|e| matches!(e, Event::DownloadFailed { .. })));
    }

    /// A later good attempt installs release 2.
    fn assert_recovers(&self) {
        let (_, seq) = installed(self.d.updater.update().unwrap());
        assert_eq!(seq, 2);
        assert_eq!(self.d.updater.launch().version, "1.0.2");
    }
}

/// Two attempts per call, so a fault that lasts two requests fails one `update()`.
fn two_attempts() -> HttpConfig {
    HttpConfig {
        max_attempts: 2,
        ..fast_http()
    }
}

/// `200` announcing the whole body, `upto` bytes of it, then a close (or a reset).
fn cut_at(body: &[u8], upto: usize, reset: bool) -> Vec<Step> {
    let mut bytes = head("200 OK", &[("Content-Length", body.len().to_string())]);
    bytes.extend_from_slice(&body[..upto]);
    let mut steps = vec![Step::Send(bytes), Step::Sleep(Duration::from_millis(50))];
    if reset {
        steps.push(Step::Reset);
    }
    steps
}

// ---------------------------------------------------------------- checks

#[test]
fn unchanged_channel_costs_a_304_and_is_still_up_to_date() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open(p.config(&net.update_url(), dir.path()), dir);
    take_and_confirm(&d);
    for _ in 0..2 {
        assert!(matches!(
            d.updater.check().unwrap(),
            CheckResult::NoUpdate { code, .. } if code == "upToDate"
        ));
    }
    let channel: Vec<Request> = net
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repo/channels/production.json")
        .collect();
    assert_eq!(channel.len(), 3);
    assert_eq!(channel[0].header("if-none-match"), None);
    let etag = format!(
        "\"{}\"",
        liveship::crypto::sha256_hex(
            &std::fs::read(p.repo().join("channels/production.json")).unwrap()
        )
    );
    // Both later checks were conditional, and serve_file answered them 304.
    for r in &channel[1..] {
        assert_eq!(r.header("if-none-match"), Some(etag.as_str()));
    }
    // A new release changes the ETag: the next check gets it in full.
    p.pack(2, "two");
    assert!(matches!(
        d.updater.check().unwrap(),
        CheckResult::UpdateAvailable { sequence: 2, .. }
    ));
}

#[test]
fn dynamic_endpoint_gets_device_info_and_answers_204_or_an_envelope() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let root = p.repo();
    let posts = Arc::new(AtomicUsize::new(0));
    let seen = posts.clone();
    let net = Net::scripted(move |_, req| {
        if req.method == "POST" && req.path == "/repo/channels/check" {
            return match seen.fetch_add(1, Ordering::SeqCst) {
                0 => respond("204 No Content", &[], b""),
                _ => respond(
                    "200 OK",
                    &[("Content-Type", "application/json".into())],
                    &std::fs::read(root.join("channels/production.json")).unwrap(),
                ),
            };
        }
        serve_file(&root, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(net.server.url("/repo/channels/check").as_ref(), dir.path());
    cfg.update_mode = liveship::config::UpdateMode::Dynamic;
    let d = Device::open(cfg, dir);

    assert_eq!(
        d.updater.check().unwrap(),
        CheckResult::NoUpdate {
            code: "noUpdate".into(),
            reason: "the update endpoint has no update for this device".into()
        }
    );
    let (id, seq) = installed(d.updater.update().unwrap());
    assert_eq!(seq, 1);

    let reqs = net.server.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.header("content-type"), Some("application/json"));
    let info: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    let mut keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "appId",
            "bundleId",
            "bundleVersion",
            "channel",
            "deviceId",
            "nativeVersion",
            "platform",
            "sequence"
        ]
    );
    assert_eq!(info["appId"], support::APP_ID);
    assert_eq!(info["platform"], "android");
    assert_eq!(info["nativeVersion"], "1.0.0");
    assert_eq!(info["channel"], "production");
    assert_eq!(info["deviceId"], d.updater.device_id());
    assert_eq!(info["bundleId"], "builtin");
    assert_eq!(info["sequence"], serde_json::Value::Null);
    // No key material of any kind travels.
    let text = String::from_utf8_lossy(&post.body);
    let cfg = d.updater.config();
    for secret in cfg
        .bundle_keys
        .iter()
        .flat_map(|k| [k.key.clone(), k.key_id.clone()])
        .chain(
            cfg.public_keys
                .iter()
                .flat_map(|k| [k.public_key.clone(), k.key_id.clone()]),
        )
    {
        assert!(!text.contains(&secret), "device info leaks {secret}");
    }

    // After the install the endpoint learns the sequence and bundle on the next check.
    d.updater.launch();
    d.updater.notify_app_ready(&id).unwrap();
    assert!(
        matches!(d.updater.check().unwrap(), CheckResult::NoUpdate { code, .. } if code == "upToDate")
    );
    let last = net
        .server
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(info["sequence"], 1);
    assert_eq!(info["bundleId"], id.as_str());
    assert_eq!(info["bundleVersion"], "1.0.1");
}

// ---------------------------------------------------------------- faults mid-download

#[test]
fn connection_reset_mid_body_keeps_the_previous_bundle_and_resumes_with_range() {
    let s = scene(two_attempts(), |n, _, body| {
        (n < 2).then(|| cut_at(body, CUT, true))
    });
    let err = s.d.updater.update().unwrap_err();
    assert!(
        matches!(
            fetch_error(&err),
            FetchError::Truncated { .. } | FetchError::Connect { .. }
        ),
        "{err}"
    );
    s.assert_previous_serves();
    s.assert_recovers();
    let reqs = s.bundle_requests();
    assert_eq!(
        reqs.last().unwrap().header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[test]
fn truncated_body_keeps_the_previous_bundle_and_resumes_with_range() {
    let s = scene(two_attempts(), |n, _, body| {
        (n < 2).then(|| cut_at(body, CUT, false))
    });
    let err = s.d.updater.update().unwrap_err();
    match fetch_error(&err) {
        FetchError::Truncated { got, expected, .. } => {
            assert_eq!(*got, CUT as u64);
            assert!(expected.is_some());
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("stopped after"), "{err}");
    s.assert_previous_serves();
    s.assert_recovers();
    let reqs = s.bundle_requests();
    assert_eq!(
        reqs.last().unwrap().header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[test]
fn slow_drip_past_the_idle_timeout_is_abandoned_and_resumed() {
    // responseTimeout is 1 s in the test config; the server stalls for 2.5 s after CUT bytes.
    let s = scene(two_attempts(), |n, _, body| {
        (n < 2).then(|| {
            let mut steps = cut_at(body, CUT, false);
            steps.insert(1, Step::Sleep(Duration::from_millis(2500)));
            steps
        })
    });
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    assert!(
        matches!(
            fetch_error(&err),
            FetchError::Timeout {
                phase: TimeoutPhase::Idle,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    s.assert_previous_serves();
    s.assert_recovers();
    let reqs = s.bundle_requests();
    assert!(reqs
        .last()
        .unwrap()
        .header("range")
        .is_some_and(|r| r.starts_with("bytes=")));
}

#[test]
fn server_errors_are_retried_with_backoff_then_succeed() {
    // Two 500s exhaust the first call; the second call meets one more 500, then the bundle.
    let s = scene(two_attempts(), |n, _, _| {
        (n < 3).then(|| respond("500 Internal Server Error", &[], b"oops"))
    });
    let err = s.d.updater.update().unwrap_err();
    assert!(
        matches!(fetch_error(&err), FetchError::Status { status: 500, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("500"), "{err}");
    s.assert_previous_serves();
    s.assert_recovers();
    assert_eq!(s.bundle_requests().len(), 4);
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let s = scene(two_attempts(), |n, _, _| {
        (n < 3).then(|| respond("429 Too Many Requests", &[("Retry-After", "1".into())], b""))
    });
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    // The backoff alone is at most 50 ms: the second attempt waited for Retry-After.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(fetch_error(&err), FetchError::Status { status: 429, .. }),
        "{err}"
    );
    s.assert_previous_serves();
    let started = Instant::now();
    s.assert_recovers();
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn body_longer_than_the_signed_size_is_cut_off() {
    // No Content-Length: the server just keeps sending past the signed size, then closes.
    let s = scene(two_attempts(), |n, _, body| {
        (n < 1).then(|| {
            let mut bytes = head("200 OK", &[]);
            bytes.extend_from_slice(body);
            bytes.extend_from_slice(&vec![0u8; 64 * 1024]);
            vec![Step::Send(bytes)]
        })
    });
    let err = s.d.updater.update().unwrap_err();
    assert!(
        matches!(fetch_error(&err), FetchError::TooLong { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("longer than the expected"),
        "{err}"
    );
    s.assert_previous_serves();
    s.assert_recovers();
}

#[test]
fn wrong_content_length_is_refused_before_the_body() {
    let s = scene(two_attempts(), |n, _, body| {
        (n < 1).then(|| {
            let short = &body[..body.len() - 10];
            respond("200 OK", &[], short)
        })
    });
    let err = s.d.updater.update().unwrap_err();
    match fetch_error(&err) {
        FetchError::WrongLength {
            announced,
            expected,
            ..
        } => assert_eq!(announced + 10, *expected),
        other => panic!("{other}"),
    }
    s.assert_previous_serves();
    s.assert_recovers();
    assert_eq!(s.bundle_requests().len(), 2);
}

// ---------------------------------------------------------------- TLS

/// An HTTPS repository with the test CA; while `redirect` is set, bundle requests are
/// redirected to plain http.
fn https_repo(root: PathBuf, redirect: Arc<AtomicBool>) -> (Net, String) {
    let ca = test_ca();
    let net = Net::https(ca.acceptor, move |_, req| {
        if redirect.load(Ordering::SeqCst) && req.path.contains("/bundles/") {
            let to = format!("http://127.0.0.1:9{}", req.path);
            return respond("302 Found", &[("Location", to)], b"");
        }
        serve_file(&root, "/repo", req)
    });
    (net, ca.ca_pem)
}

fn https_config(
    p: &Publisher,
    net: &Net,
    device: &std::path::Path,
    ca: &str,
) -> liveship::config::Config {
    let mut cfg = p.config(&net.update_url(), device);
    assert!(cfg.update_url.as_deref().unwrap().starts_with("https://"));
    cfg.allow_insecure_loopback = false;
    cfg.extra_ca_cert = Some(ca.to_owned());
    cfg
}

#[test]
fn redirect_to_plain_http_is_refused_and_https_with_the_extra_ca_succeeds() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let redirect = Arc::new(AtomicBool::new(true));
    let (net, ca) = https_repo(p.repo(), redirect.clone());
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open(https_config(&p, &net, dir.path(), &ca), dir);
    let err = d.updater.update().unwrap_err();
    match fetch_error(&err) {
        FetchError::InsecureRedirect { to } => {
            assert!(to.starts_with("http://127.0.0.1:9/repo/bundles/"))
        }
        other => panic!("{other}"),
    }
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    redirect.store(false, Ordering::SeqCst);
    installed(d.updater.update().unwrap());
}

#[test]
fn plain_http_update_url_is_refused_without_the_loopback_exception() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.allow_insecure_loopback = false;
    let d = Device::open(cfg, dir);
    let err = d.updater.check().unwrap_err();
    assert!(
        matches!(fetch_error(&err), FetchError::InsecureUrl { .. }),
        "{err}"
    );
    assert!(net.server.requests().is_empty());
}

#[test]
fn certificate_from_an_unknown_ca_is_refused_and_the_right_ca_file_works() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let (net, ca) = https_repo(p.repo(), Arc::new(AtomicBool::new(false)));
    let dir = tempfile::tempdir().unwrap();
    let other_ca = test_ca().ca_pem;
    let d = Device::open(https_config(&p, &net, dir.path(), &other_ca), dir);
    let err = d.updater.update().unwrap_err();
    assert!(matches!(fetch_error(&err), FetchError::Tls { .. }), "{err}");
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    assert!(
        net.server.requests().is_empty(),
        "no request may pass an untrusted handshake"
    );

    // Same device state, now configured with the right CA as a file path.
    let Device { dir, updater, .. } = d;
    drop(updater);
    let pem = dir.path().join("dev-ca.pem");
    std::fs::write(&pem, &ca).unwrap();
    let cfg = https_config(&p, &net, dir.path(), pem.to_str().unwrap());
    let updater = Engine::open_with_http(
        cfg,
        &dir.path().join("data"),
        liveship::events::discard(),
        fast_http(),
    )
    .unwrap();
    installed(updater.update().unwrap());
}

// ---------------------------------------------------------------- single flight, progress

#[test]
fn concurrent_updates_share_one_download_and_progress_rises_to_100() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let root = p.repo();
    // The bundle arrives in 8 pieces over about a second, so both callers overlap it.
    let net = Net::scripted(move |_, req| {
        if !req.path.contains("/bundles/") {
            return serve_file(&root, "/repo", req);
        }
        let body = std::fs::read(root.join(req.path.trim_start_matches("/repo/"))).unwrap();
        let mut steps = vec![Step::Send(head(
            "200 OK",
            &[("Content-Length", body.len().to_string())],
        ))];
        for piece in body.chunks(body.len().div_ceil(8)) {
            steps.push(Step::Sleep(Duration::from_millis(120)));
            steps.push(Step::Send(piece.to_vec()));
        }
        steps
    });
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open(p.config(&net.update_url(), dir.path()), dir);
    let outcomes: Vec<UpdateOutcome> = std::thread::scope(|s| {
        let a = s.spawn(|| d.updater.update().unwrap());
        let b = s.spawn(|| d.updater.update().unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert_eq!(support::count(&net.server, "/bundles/"), 1);
    let installs = outcomes
        .iter()
        .filter(|o| matches!(o, UpdateOutcome::Installed { .. }))
        .count();
    assert_eq!(installs, 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .any(|o| matches!(o, UpdateOutcome::NoUpdate { code, .. } if code == "upToDate")));

    let percents: Vec<u8> = d
        .events
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Download { percent, .. } => Some(*percent),
            _ => None,
        })
        .collect();
    assert!(percents.len() >= 4, "{percents:?}");
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
}

// ---------------------------------------------------------------- apply modes

#[test]
fn immediate_apply_mode_serves_the_update_as_trial_at_once() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.apply_mode = liveship::config::ApplyMode::Immediate;
    let d = Device::open(cfg, dir);
    let out = d.updater.update().unwrap();
    let UpdateOutcome::Installed { id, applied, .. } = out else {
        panic!("{out:?}")
    };
    assert!(applied);
    let now = d.updater.current().unwrap();
    assert_eq!((now.id.as_str(), now.trial), (id.as_str(), true));
    assert!(d.events.events().iter().any(|e| matches!(e,
        Event::ReloadRequired { bundle_id, path: Some(_), .. } if *bundle_id == id)));
    d.updater.notify_app_ready(&id).unwrap();
    assert!(!d.updater.current().unwrap().trial);
}

#[test]
fn background_apply_mode_waits_for_the_minimum_background_time() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.apply_mode = liveship::config::ApplyMode::Background;
    cfg.min_background_ms = 300;
    // Time in the background passes only when the test advances this clock.
    let clock = Arc::new(ManualClock::new());
    let events = Recorder::default();
    let updater = Engine::open_with_clock(
        cfg,
        &dir.path().join("data"),
        events.sink(),
        fast_http(),
        clock.clone(),
    )
    .unwrap();
    let d = Device {
        dir,
        updater,
        events,
    };
    let out = d.updater.update().unwrap();
    let UpdateOutcome::Installed { id, applied, .. } = out else {
        panic!("{out:?}")
    };
    assert!(!applied);
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    // A short trip to the background does not apply it.
    d.updater.app_moved_to_background();
    assert_eq!(d.updater.app_moved_to_foreground().unwrap(), None);
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    // Foreground without a background first does nothing either.
    clock.advance(Duration::from_millis(350));
    assert_eq!(d.updater.app_moved_to_foreground().unwrap(), None);
    d.updater.app_moved_to_background();
    clock.advance(Duration::from_millis(350));
    let now = d
        .updater
        .app_moved_to_foreground()
        .unwrap()
        .expect("applied");
    assert_eq!((now.id.as_str(), now.trial), (id.as_str(), true));
    assert_eq!(d.updater.current().unwrap().id, id);
}

// ---------------------------------------------------------------- background deadline

#[test]
fn background_update_stops_at_its_deadline_and_the_next_run_resumes() {
    let s = scene(fast_http(), |n, _, body| {
        // First request: CUT bytes, then nothing for longer than the deadline (but less than
        // the idle timeout, so only the deadline can stop it).
        (n < 1).then(|| {
            let mut steps = cut_at(body, CUT, false);
            steps.insert(1, Step::Sleep(Duration::from_millis(900)));
            steps
        })
    });
    let started = Instant::now();
    let err =
        s.d.updater
            .run_background_update(Duration::from_millis(400))
            .unwrap_err();
    assert!(
        matches!(err, CoreError::DeadlineExceeded { millis: 400 }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(s.d.updater.current().unwrap().id, s.previous);
    // Nothing keeps downloading after the deadline.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(s.bundle_requests().len(), 1);
    assert!(s.d.updater.status().unwrap().next.is_none());

    let out =
        s.d.updater
            .run_background_update(Duration::from_secs(10))
            .unwrap();
    assert_eq!(installed(out).1, 2);
    let reqs = s.bundle_requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1]
            .header("range")
            .is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "{:?}",
        reqs[1].header("range")
    );
}
