//! Telemetry with consent: what reaches a collector at each consent level, the queue's bounds and
//! durability, batching and retry against a failing collector, and the user's data rights
//! (export, delete with a deletion request). The collector here is a scripted loopback server
//! that records every request; the device is the real engine on a manual clock (the flush
//! backoff is waited out by moving the clock).

mod support;

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use liveship::clock::ManualClock;
use liveship::config::Consent;
use liveship::store::QUEUE_CAP;
use liveship::telemetry::{StatsBody, StatsEvent, DELETE_ACTION};
use serde_json::Value;
use support::{fast_http, respond, serve_file, take_and_confirm, Device, Net, Publisher, Request};

/// A publisher with release 1 on `production`, a loopback host serving it at `/repo/` and a
/// collector at `/stats` answering `status` (200 unless a test changes it), and a device on a
/// manual clock with `statsUrl` set.
struct Scene {
    p: Publisher,
    net: Net,
    d: Device,
    clock: Arc<ManualClock>,
    status: Arc<AtomicU16>,
    /// The collector answers 400 to deletion requests (and counts those it takes).
    refuse_deletions: Arc<AtomicBool>,
    deletions_taken: Arc<AtomicUsize>,
}

fn scene_with(tweak: impl FnOnce(&mut liveship::config::Config)) -> Scene {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let root = p.repo();
    let status = Arc::new(AtomicU16::new(200));
    let s = status.clone();
    let refuse_deletions = Arc::new(AtomicBool::new(false));
    let deletions_taken = Arc::new(AtomicUsize::new(0));
    let (refuse, taken) = (refuse_deletions.clone(), deletions_taken.clone());
    let net = Net::scripted(move |_, req| {
        if req.path == "/stats" {
            if String::from_utf8_lossy(&req.body).contains(DELETE_ACTION) {
                if refuse.load(Ordering::SeqCst) {
                    return respond("400 Bad Request", &[], b"{\"error\":\"unknown action\"}");
                }
                taken.fetch_add(1, Ordering::SeqCst);
            }
            let code = s.load(Ordering::SeqCst);
            let line = match code {
                200 => "200 OK",
                400 => "400 Bad Request",
                503 => "503 Service Unavailable",
                other => panic!("no status line for {other}"),
            };
            return respond(line, &[], b"{\"status\":\"ok\"}");
        }
        serve_file(&root, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = p.config(&net.update_url(), dir.path());
    config.stats_url = Some(net.server.url("/stats").to_string());
    tweak(&mut config);
    let clock = Arc::new(ManualClock::new());
    let d = Device::open_on(config, dir, fast_http(), clock.clone());
    Scene {
        p,
        net,
        d,
        clock,
        status,
        refuse_deletions,
        deletions_taken,
    }
}

fn scene() -> Scene {
    scene_with(|_| {})
}

impl Scene {
    fn stats_requests(&self) -> Vec<Request> {
        self.net
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/stats")
            .collect()
    }

    /// Every event the collector received, in order.
    fn received(&self) -> Vec<StatsEvent> {
        self.stats_requests()
            .iter()
            .flat_map(|r| {
                serde_json::from_slice::<StatsBody>(&r.body)
                    .unwrap_or_else(|e| panic!("not a stats body ({e}): {:?}", r.body))
                    .into_events()
            })
            .collect()
    }

    fn actions(&self) -> Vec<String> {
        self.received().into_iter().map(|e| e.action).collect()
    }

    fn queued(&self) -> usize {
        self.d.updater.queued_stats().unwrap().len()
    }

    /// The demo's flow: release 1 installed and confirmed, then a broken release 2 that never
    /// confirms and is reverted at the next launch.
    fn update_confirm_and_revert(&self) {
        take_and_confirm(&self.d);
        self.p.pack(2, "two");
        let (id, _) = support::installed(self.d.updater.update().unwrap());
        assert_eq!(self.d.updater.launch().id, id);
        // The app restarts without notifyAppReady: reverted.
        let after = self.d.updater.launch();
        assert_ne!(after.id, id);
        self.d.updater.app_moved_to_background();
        self.d.updater.app_moved_to_foreground().unwrap();
    }
}

#[test]
fn with_consent_off_the_collector_sees_no_request_at_all() {
    let s = scene();
    assert_eq!(
        s.d.updater.consent(),
        Consent::Off,
        "off until the app asks"
    );
    s.update_confirm_and_revert();
    let flushed = s.d.updater.flush_stats(true).unwrap();
    assert_eq!((flushed.sent, flushed.remaining), (0, 0));
    assert_eq!(s.queued(), 0, "nothing is even queued");
    assert!(s.stats_requests().is_empty(), "{:?}", s.stats_requests());
    // The update check itself did happen.
    assert!(support::count(&s.net.server, "/channels/") > 0);
}

#[test]
fn with_consent_full_the_demo_flow_reaches_the_collector_in_capgos_format() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    s.update_confirm_and_revert();
    s.d.updater.flush_stats(true).unwrap();
    let got = s.received();
    let actions = s.actions();
    for want in [
        "update_available",
        "download_zip_start",
        "download_complete",
        "set_next",
        "trial_start",
        "app_ready",
        "update_fail",
    ] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} missing from {actions:?}"
        );
    }
    let install_id = s.d.updater.device_id();
    let revert = got.iter().find(|e| e.action == "update_fail").unwrap();
    assert_eq!(revert.device_id, install_id);
    assert_eq!(revert.app_id, support::APP_ID);
    assert_eq!(revert.platform, "android");
    assert_eq!(revert.version_build, "1.0.0");
    assert_eq!(
        (revert.channel.as_str(), revert.sequence),
        ("production", Some(2))
    );
    assert_eq!(revert.version_name, "1.0.2");
    assert_eq!(revert.reason.as_deref(), Some("notConfirmed"));
    assert_eq!(revert.consent, "full");
    let done = got
        .iter()
        .find(|e| e.action == "download_complete" && e.sequence == Some(1))
        .unwrap();
    assert!(done.bytes.unwrap() > 0);
    assert_eq!(done.delta, Some(false));
    // Events go as arrays, in the order they happened.
    let first: Value = serde_json::from_slice(&s.stats_requests()[0].body).unwrap();
    assert!(first.is_array(), "{first}");
    assert_eq!(
        s.queued(),
        0,
        "what the collector took is gone from the queue"
    );
}

#[test]
fn with_anonymous_consent_no_body_carries_the_install_id() {
    let s = scene();
    s.d.updater.set_consent(Consent::Anonymous).unwrap();
    s.update_confirm_and_revert();
    s.d.updater.flush_stats(true).unwrap();
    let install_id = s.d.updater.device_id();
    let requests = s.stats_requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains(&install_id), "install id in {body}");
    }
    let got = s.received();
    assert!(got.iter().all(|e| e.consent == "anonymous"));
    // One pseudonym per release: release 1's events share one, release 2's another.
    let ids = |seq| {
        let mut v: Vec<String> = got
            .iter()
            .filter(|e| e.sequence == Some(seq))
            .map(|e| e.device_id.clone())
            .collect();
        v.dedup();
        v
    };
    assert_eq!(ids(1).len(), 1, "{:?}", ids(1));
    assert_eq!(ids(2).len(), 1, "{:?}", ids(2));
    assert_ne!(ids(1), ids(2));
}

#[test]
fn a_failing_collector_keeps_the_events_and_gets_them_in_batches_after_the_backoff() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    take_and_confirm(&s.d);
    // 120 up-to-date checks: 120 `noNew` events besides the first update's.
    for _ in 0..120 {
        s.d.updater.check().unwrap();
    }
    let queued = s.queued();
    assert!(queued >= 120, "{queued}");
    s.status.store(503, Ordering::SeqCst);
    let failed = s.d.updater.flush_stats(false).unwrap();
    assert!(failed.error.is_some(), "{failed:?}");
    assert_eq!((failed.sent, failed.remaining), (0, queued as u64));
    let attempts = s.stats_requests().len();
    assert!(
        attempts >= 2,
        "the fetch layer retried: {attempts} request(s)"
    );
    // The collector is back, but the automatic flush waits out the backoff first.
    s.status.store(200, Ordering::SeqCst);
    let deferred = s.d.updater.flush_stats(false).unwrap();
    assert!(deferred.deferred, "{deferred:?}");
    assert_eq!(
        s.stats_requests().len(),
        attempts,
        "no request while deferred"
    );
    s.clock.advance(Duration::from_secs(61));
    let sent = s.d.updater.flush_stats(false).unwrap();
    assert_eq!((sent.sent, sent.remaining), (queued as u64, 0), "{sent:?}");
    let batches: Vec<usize> = s.stats_requests()[attempts..]
        .iter()
        .map(|r| serde_json::from_slice::<Vec<Value>>(&r.body).unwrap().len())
        .collect();
    assert!(batches.iter().all(|n| *n <= 50), "{batches:?}");
    assert_eq!(batches.iter().sum::<usize>(), queued);
    assert_eq!(batches.len(), queued.div_ceil(50));
}

#[test]
fn a_collector_that_refuses_the_body_gets_it_once_not_forever() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    s.d.updater.check().unwrap();
    s.status.store(400, Ordering::SeqCst);
    let r = s.d.updater.flush_stats(false).unwrap();
    assert_eq!(
        (r.refused, r.remaining, r.error.clone()),
        (1, 0, None),
        "{r:?}"
    );
    assert_eq!(s.stats_requests().len(), 1, "a 400 is not retried");
}

#[test]
fn the_queue_keeps_the_newest_500_events_and_counts_the_dropped() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    let total = QUEUE_CAP as usize + 7;
    for _ in 0..total {
        s.d.updater.check().unwrap();
    }
    assert_eq!(s.queued(), QUEUE_CAP as usize);
    let export = liveship::capacitor::export_data(&s.d.updater).unwrap();
    assert_eq!(export["telemetry"]["dropped"], 7);
    assert_eq!(
        export["telemetry"]["queued"].as_array().unwrap().len(),
        QUEUE_CAP as usize
    );
}

#[test]
fn withdrawing_consent_purges_the_queue_and_nothing_is_sent() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    take_and_confirm(&s.d);
    assert!(s.queued() > 0);
    let purged = s.d.updater.set_consent(Consent::Off).unwrap();
    assert!(purged > 0);
    assert_eq!(s.queued(), 0);
    s.d.updater.check().unwrap();
    s.d.updater.flush_stats(true).unwrap();
    assert!(s.stats_requests().is_empty());
}

#[test]
fn lowering_full_to_anonymous_drops_what_carried_the_install_id() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    s.d.updater.check().unwrap();
    s.d.updater.set_consent(Consent::Anonymous).unwrap();
    s.d.updater.check().unwrap();
    s.d.updater.flush_stats(true).unwrap();
    let got = s.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].consent, "anonymous");
}

#[test]
fn a_default_consent_of_anonymous_applies_until_the_user_chooses() {
    let s = scene_with(|c| c.default_consent = Some(Consent::Anonymous));
    assert_eq!(s.d.updater.consent(), Consent::Anonymous);
    s.d.updater.check().unwrap();
    s.d.updater.flush_stats(true).unwrap();
    assert_eq!(s.received().len(), 1);
    // `full` as a default is refused: only the user may send the install id.
    let mut c = s.p.config("http://127.0.0.1:1/", s.d.dir.path());
    c.default_consent = Some(Consent::Full);
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("defaultConsent"), "{err}");
}

#[test]
fn delete_data_erases_rotates_the_id_and_asks_the_collector_to_erase_the_old_one() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    take_and_confirm(&s.d);
    let old_id = s.d.updater.device_id();
    let deleted = s.d.updater.delete_data().unwrap();
    assert!(deleted.deletion_requested);
    assert_ne!(deleted.device_id, old_id);
    assert_eq!(s.d.updater.device_id(), deleted.device_id);
    // The deletion request goes out even though consent is now back to off.
    s.d.updater.flush_stats(true).unwrap();
    assert_eq!(s.d.updater.consent(), Consent::Off);
    let got = s.received();
    let deletion: Vec<&StatsEvent> = got.iter().filter(|e| e.action == DELETE_ACTION).collect();
    assert_eq!(deletion.len(), 1, "{got:?}");
    assert_eq!(deletion[0].device_id, old_id);
    assert_eq!(s.queued(), 0);
    // Nothing about the old install stays: no bundles, no history, the id rotated.
    let export = liveship::capacitor::export_data(&s.d.updater).unwrap();
    assert_eq!(export["deviceId"], deleted.device_id);
    assert_eq!(export["bundles"].as_array().unwrap().len(), 0);
    assert_eq!(export["history"].as_array().unwrap().len(), 0);
    assert_eq!(export["consent"]["level"], "off");
    assert!(!export.to_string().contains(&old_id));
}

#[test]
fn a_refused_deletion_request_stays_queued_while_the_events_behind_it_go() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    s.d.updater.check().unwrap();
    s.refuse_deletions.store(true, Ordering::SeqCst);
    assert!(s.d.updater.delete_data().unwrap().deletion_requested);
    s.d.updater.set_consent(Consent::Anonymous).unwrap();
    s.d.updater.check().unwrap();
    let r = s.d.updater.flush_stats(true).unwrap();
    assert_eq!((r.sent, r.deletions_sent, r.refused), (1, 0, 0), "{r:?}");
    assert!(r.error.unwrap().contains("deletion request"));
    let queued = s.d.updater.queued_stats().unwrap();
    assert_eq!(queued.len(), 1, "the deletion request is kept: {queued:?}");
    assert!(queued[0].body.contains(DELETE_ACTION));
    // The collector is fixed: the request goes at the next flush.
    s.refuse_deletions.store(false, Ordering::SeqCst);
    s.d.updater.flush_stats(true).unwrap();
    assert_eq!(s.queued(), 0);
    assert_eq!(s.deletions_taken.load(Ordering::SeqCst), 1);
}

#[test]
fn events_recorded_under_a_higher_level_than_the_one_in_force_are_removed_not_sent() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    s.d.updater.check().unwrap();
    assert_eq!(s.queued(), 1);
    // What a lowering racing an event could leave behind: an event carrying the install id
    // queued while the level in force is `anonymous` (written here behind the engine's back,
    // then the app restarts).
    let data = s.d.dir.path().join("data");
    let (mut store, _) = liveship::store::Store::open(&data).unwrap();
    store
        .write(|tx| liveship::store::set_consent(tx, Some(Consent::Anonymous)))
        .unwrap();
    drop(store);
    let again = liveship::engine::Engine::open_with_clock(
        s.d.updater.config().clone(),
        &data,
        support::Recorder::default().sink(),
        fast_http(),
        s.clock.clone(),
    )
    .unwrap();
    assert_eq!(again.consent(), Consent::Anonymous);
    again.check().unwrap();
    let r = again.flush_stats(true).unwrap();
    assert_eq!((r.sent, r.remaining), (1, 0), "{r:?}");
    let got = s.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].consent, "anonymous");
    assert!(!got.iter().any(|e| e.device_id == s.d.updater.device_id()));
}

#[test]
fn delete_data_after_anonymous_consent_sends_no_deletion_request() {
    let s = scene();
    s.d.updater.set_consent(Consent::Anonymous).unwrap();
    s.d.updater.check().unwrap();
    s.d.updater.flush_stats(true).unwrap();
    let before = s.stats_requests().len();
    let deleted = s.d.updater.delete_data().unwrap();
    assert!(!deleted.deletion_requested, "the install id was never sent");
    s.d.updater.flush_stats(true).unwrap();
    assert_eq!(s.stats_requests().len(), before);
}

#[test]
fn export_data_holds_the_id_channel_consent_history_and_queue() {
    let s = scene();
    s.d.updater.set_consent(Consent::Full).unwrap();
    take_and_confirm(&s.d);
    let export = liveship::capacitor::export_data(&s.d.updater).unwrap();
    assert_eq!(export["deviceId"], s.d.updater.device_id());
    assert_eq!(export["channel"], "production");
    assert_eq!(export["consent"]["level"], "full");
    assert!(export["history"].as_array().unwrap().len() >= 3);
    let queued = export["telemetry"]["queued"].as_array().unwrap();
    assert_eq!(queued.len(), s.queued());
    assert!(queued.iter().any(|q| q["event"]["action"] == "app_ready"));
    let text = export.to_string();
    assert!(
        !text.contains("BEGIN") && !text.contains("/repo/"),
        "no keys, no URLs"
    );
}

// ---------------------------------------------------------------------------------------------
// Durability across SIGKILL: a child process queues events (consent full, one `reset` report
// per step) and prints how many are committed; the parent kills it mid-way and reopens.

const CHILD_ENV: &str = "LIVESHIP_TELEMETRY_CHILD";

#[test]
#[ignore = "entry point of the SIGKILL test's child process; the parent test runs it"]
fn telemetry_child_entry_point() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let config: liveship::config::Config = serde_json::from_value(spec["config"].clone()).unwrap();
    let data = std::path::PathBuf::from(spec["data"].as_str().unwrap());
    let e = liveship::engine::Engine::open(config, &data, liveship::events::discard()).unwrap();
    e.set_consent(Consent::Full).unwrap();
    for n in 1.. {
        e.reset(liveship::boot::ResetTarget::Builtin).unwrap();
        println!("QUEUED {n}");
    }
}

#[test]
fn queued_events_survive_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let p = Publisher::new(false);
    let mut config = p.config("http://127.0.0.1:9/repo/", dir.path());
    // Never flushed here: nothing listens on port 9.
    config.stats_url = Some("http://127.0.0.1:9/stats".into());
    let data = dir.path().join("data");
    let spec = serde_json::json!({ "config": config, "data": data });
    let mut child = support::crash::child_command()
        .args([
            "--exact",
            "telemetry_child_entry_point",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut committed = 0;
    for line in std::io::BufRead::lines(out) {
        if let Some(n) = line.unwrap().strip_prefix("QUEUED ") {
            committed = n.parse().unwrap();
            if committed >= 40 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let e = liveship::engine::Engine::open(config, &data, liveship::events::discard()).unwrap();
    let rows = e.queued_stats().unwrap();
    assert!(rows.len() >= committed, "{} < {committed}", rows.len());
    assert!(rows.len() <= QUEUE_CAP as usize);
    for r in rows {
        let ev: StatsEvent = serde_json::from_str(&r.body).unwrap();
        assert_eq!(ev.action, "reset");
    }
    assert_eq!(e.consent(), Consent::Full, "the choice survived too");
}
