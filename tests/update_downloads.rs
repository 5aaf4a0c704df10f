//! Bundle downloads inside `Engine::update` over a real loopback server: server faults
//! mid-download, a background run stopped at its deadline, and concurrent updates. In every
//! fault the device keeps serving the bundle it had, the error names the fault, and a later good
//! attempt completes (with `Range` where bytes were already on disk); concurrent callers share
//! one download whose progress rises to 100.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use liveship::clock::{Clock, ManualClock, SystemClock};
use liveship::config::Config;
use liveship::engine::UpdatePhase;
use liveship::engine::{CoreError, UpdateOutcome};
use liveship::error::LiveshipError;
use liveship::events::Event;
use liveship::fetch::{FetchError, HttpConfig, TimeoutPhase};
use support::fetching::{cut_at, dripping, CUT};
use support::{
    device, fast_http, fetch_error, head, installed, respond, serve_file, take_and_confirm, Device,
    Net, Publisher, Request, Step,
};

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
    scene_on(http, Arc::new(SystemClock), fault)
}

/// [`scene`] on `clock`.
fn scene_on(
    http: HttpConfig,
    clock: Arc<dyn Clock>,
    fault: impl Fn(usize, &Request, &[u8]) -> Option<Vec<Step>> + Send + Sync + 'static,
) -> Scene {
    scene_full(http, clock, |_| {}, "/bundles/", fault)
}

/// [`scene_on`] whose device configuration `tweak` adjusts, and whose `fault` scripts the
/// answers to release 2's requests whose path contains `faulty` (`/bundles/`, `/channels/`).
fn scene_full(
    http: HttpConfig,
    clock: Arc<dyn Clock>,
    tweak: impl FnOnce(&mut Config),
    faulty: &'static str,
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
        if a.load(Ordering::SeqCst) && req.path.contains(faulty) {
            let rel = req.path.trim_start_matches("/repo/");
            let body = std::fs::read(r.join(rel)).unwrap_or_default();
            if let Some(steps) = fault(n.fetch_add(1, Ordering::SeqCst), req, &body) {
                return steps;
            }
        }
        serve_file(&r, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = p.config(&net.update_url(), dir.path());
    tweak(&mut config);
    let d = Device::open_on(config, dir, http, clock);
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
    // The waits between attempts pass on a manual clock: exact, and without sleeping.
    let clock = Arc::new(ManualClock::new());
    let s = scene_on(two_attempts(), clock.clone(), |n, _, _| {
        (n < 3).then(|| respond("429 Too Many Requests", &[("Retry-After", "1".into())], b""))
    });
    let err = s.d.updater.update().unwrap_err();
    // Two attempts, one wait between them: the server's Retry-After, not the backoff (at most
    // 50 ms).
    assert_eq!(clock.monotonic(), Duration::from_secs(1));
    assert!(
        matches!(fetch_error(&err), FetchError::Status { status: 429, .. }),
        "{err}"
    );
    s.assert_previous_serves();
    s.assert_recovers();
    assert_eq!(clock.monotonic(), Duration::from_secs(2));
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

/// The OS may end a background budget before the deadline the run was given (BGTask's
/// expiration handler, WorkManager's `onStopped`): the run stops at once as at its deadline,
/// and the next run is not affected.
#[test]
fn ending_the_background_run_stops_it_now_and_the_next_run_installs() {
    let (arrived_tx, arrived) = mpsc::channel();
    let arrived_tx = Mutex::new(arrived_tx);
    let s = scene(fast_http(), move |n, _, body| {
        // First request: CUT bytes, then a stall far longer than the test: only the end can
        // stop it (the run's own deadline is a minute away).
        (n < 1).then(|| {
            let _ = arrived_tx.lock().unwrap().send(());
            let mut steps = cut_at(body, CUT, false);
            steps.insert(1, Step::Sleep(Duration::from_secs(20)));
            steps
        })
    });
    let err = std::thread::scope(|scope| {
        let run = scope.spawn(|| s.d.updater.run_background_update(Duration::from_secs(60)));
        arrived
            .recv_timeout(Duration::from_secs(30))
            .expect("the bundle request reached the server");
        s.d.updater.end_background_run();
        run.join().unwrap().unwrap_err()
    });
    assert!(
        matches!(err, CoreError::DeadlineExceeded { millis: 60_000 }),
        "{err}"
    );
    assert_eq!(s.d.updater.current().unwrap().id, s.previous);
    assert!(s.d.updater.status().unwrap().next.is_none());

    // The end applied to that run only: the next one is not stopped by it and installs.
    // (Whether the bytes already received are resumed is the deadline test's guarantee above;
    // here the end may come before any byte was written.)
    let out =
        s.d.updater
            .run_background_update(Duration::from_secs(10))
            .unwrap();
    assert_eq!(installed(out).1, 2);
    assert_eq!(s.bundle_requests().len(), 2);
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
    let d = device(&p, &net);
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

// ---------------------------------------------------------------- slow retrieval

/// 1 s windows and a short update deadline, so that each limit trips within seconds.
fn limits(update_timeout: u64, min_rate: u64) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.update_timeout = update_timeout;
        c.min_transfer_rate = min_rate;
        c.transfer_rate_window = 1;
    }
}

/// The public error's kind and check, as an app sees them.
fn public(e: CoreError) -> (String, Option<String>) {
    match liveship::ffi::LiveshipError::from_core(e) {
        LiveshipError::Network { check, reason } => (reason, check),
        other => panic!("expected a network error, got {other:?}"),
    }
}

fn download_failed(s: &Scene) -> String {
    s.d.events
        .events()
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::DownloadFailed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("a downloadFailed event")
}

#[test]
fn a_manifest_dripped_below_the_minimum_rate_fails_the_update_as_too_slow() {
    let s = scene_full(
        fast_http(),
        Arc::new(SystemClock),
        limits(60, 1024),
        "/channels/",
        |n, _, body| {
            (n == 0).then(|| dripping("200 OK", body, 10, Duration::from_millis(100), 300))
        },
    );
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(fetch_error(&err), FetchError::TooSlow { .. }),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let (reason, check) = public(err);
    assert_eq!(check.as_deref(), Some("fetch.tooSlow"), "{reason}");
    assert_eq!(s.d.updater.current().unwrap().id, s.previous);
    s.assert_recovers();
}

#[test]
fn a_bundle_dripped_below_the_minimum_rate_fails_as_too_slow_and_the_next_update_resumes() {
    let s = scene_full(
        fast_http(),
        Arc::new(SystemClock),
        limits(60, 1024),
        "/bundles/",
        |n, _, body| {
            (n == 0).then(|| dripping("200 OK", body, 10, Duration::from_millis(100), 300))
        },
    );
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(fetch_error(&err), FetchError::TooSlow { .. }),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    // Not retried: one request, and the event names the cause.
    assert_eq!(s.bundle_requests().len(), 1);
    let event = download_failed(&s);
    assert!(event.contains("too slow"), "{event}");
    let (reason, check) = public(err);
    assert_eq!(check.as_deref(), Some("fetch.tooSlow"), "{reason}");
    s.assert_previous_serves();
    s.assert_recovers();
    let resumed = s
        .bundle_requests()
        .last()
        .unwrap()
        .header("range")
        .map(str::to_owned);
    assert!(
        resumed.as_deref().is_some_and(|r| r.starts_with("bytes=")),
        "{resumed:?}"
    );
}

#[test]
fn a_bundle_dripped_above_the_minimum_rate_stops_at_the_update_deadline() {
    // 500 bytes a second passes a 1 byte-per-second minimum; only the deadline can end it.
    let s = scene_full(
        fast_http(),
        Arc::new(SystemClock),
        limits(2, 1),
        "/bundles/",
        |n, _, body| {
            (n == 0).then(|| dripping("200 OK", body, 50, Duration::from_millis(100), 600))
        },
    );
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            CoreError::UpdateDeadlineExceeded {
                seconds: 2,
                phase: UpdatePhase::Bundle
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("stopped fetching the bundle"),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let (reason, check) = public(err);
    assert_eq!(
        check.as_deref(),
        Some("update.deadlineExceeded"),
        "{reason}"
    );
    s.assert_previous_serves();
    s.assert_recovers();
}

#[test]
fn a_manifest_dripped_above_the_minimum_rate_stops_at_the_update_deadline() {
    let s = scene_full(
        fast_http(),
        Arc::new(SystemClock),
        limits(1, 1),
        "/channels/",
        |n, _, body| (n < 2).then(|| dripping("200 OK", body, 10, Duration::from_millis(100), 300)),
    );
    // A check alone is bounded the same way.
    let err = s.d.updater.check().unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::UpdateDeadlineExceeded {
                phase: UpdatePhase::Manifest,
                ..
            }
        ),
        "{err}"
    );
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::UpdateDeadlineExceeded {
                seconds: 1,
                phase: UpdatePhase::Manifest
            }
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.d.updater.current().unwrap().id, s.previous);
}

#[test]
fn the_update_deadline_bounds_retries_and_their_waits() {
    // Every answer asks for a 3 s wait: three attempts would take over 6 s.
    let s = scene_full(
        fast_http(),
        Arc::new(SystemClock),
        limits(2, 1),
        "/bundles/",
        |n, _, _| {
            (n < 3).then(|| {
                respond(
                    "503 Service Unavailable",
                    &[("Retry-After", "3".to_owned())],
                    b"",
                )
            })
        },
    );
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            CoreError::UpdateDeadlineExceeded {
                phase: UpdatePhase::Bundle,
                ..
            }
        ),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(s.bundle_requests().len(), 1, "the wait was cut short");
}

/// A bundle object that matches its signed hash but does not extract (here: a file the signed
/// list lacks) fails the same way on every attempt: it is blocklisted by its object hash, and
/// the next trigger refuses the release before downloading anything (issue 12, finding 4).
#[test]
fn a_bundle_that_fails_extraction_is_blocklisted_and_not_fetched_again() {
    let p = Publisher::new(false);
    let packed = p.pack(1, "one");
    let mut m = packed.manifest.clone();
    let zip = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("not-signed.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, b"extra").unwrap();
        w.finish().unwrap().into_inner()
    };
    let (_, sha) = liveship::crypto::sha256_reader(&zip[..]).unwrap();
    std::fs::write(p.repo().join("bundles").join(format!("{sha}.zip")), &zip).unwrap();
    m.bundle.url = format!("../bundles/{sha}.zip");
    m.bundle.size = zip.len() as u64;
    m.bundle.sha256 = sha;
    m.delta = None;
    let env = liveship::release::sign_envelope(&liveship::release::manifest_bytes(&m), &p.signing);
    std::fs::write(&packed.channel_path, serde_json::to_vec(&env).unwrap()).unwrap();

    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let err = d.updater.update().unwrap_err();
    assert!(err.to_string().contains("not-signed.txt"), "{err}");
    let fetched = || support::count(&net.server, "/bundles/");
    assert_eq!(fetched(), 1);
    match d.updater.update().unwrap() {
        UpdateOutcome::NoUpdate { code, .. } => assert_eq!(code, "blocklisted"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fetched(), 1, "a refused object is not downloaded again");
}
