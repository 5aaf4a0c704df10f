//! Freshness (TUF's freeze attack): a host can replay an old, still unexpired release for its
//! whole validity. The publisher answers with short expiries renewed by `publish::refresh`
//! (same release, new times); the device takes a refreshed envelope of the sequence it runs
//! without reinstalling, and reports `updatesStale` once when the newest envelope it verified
//! has expired without a fresher one: whether the host replays the old one or is unreachable.
//! Time moves on a manual clock; the publisher signs at the same clock's times.

mod support;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use liveship::clock::{Clock, ManualClock};
use liveship::engine::CheckResult;
use liveship::events::{Event, UpdateOutcome};
use liveship::policy::CLOCK_SKEW_SECS;
use liveship::publish::{self, RefreshOptions};
use support::{count, fast_http, respond, serve_file, take_and_confirm, Device, Net, Publisher};

const DAY: u64 = 86_400;

/// What the host serves for the channel file.
const SERVE_REPO: u8 = 0;
/// The channel file as it was before the last refresh (a replay).
const SERVE_OLD: u8 = 1;
/// Nothing (the host is down: 503 for everything).
const SERVE_NOTHING: u8 = 2;

/// A device on a manual clock running release 1 (confirmed), published at the clock's start
/// with a 2-day expiry, and a host whose channel answer the test switches.
struct Scene {
    p: Publisher,
    net: Net,
    d: Device,
    clock: Arc<ManualClock>,
    mode: Arc<AtomicU8>,
    /// The channel file as first published (what a replaying host serves).
    old: Arc<std::sync::Mutex<Vec<u8>>>,
}

fn scene() -> Scene {
    let clock = Arc::new(ManualClock::new());
    let p = Publisher::new(true);
    let start = clock.now();
    p.pack_with("production", 1, "one", |o| {
        o.now = start;
        o.expires_in = 2 * DAY;
    });
    let root = p.repo();
    let mode = Arc::new(AtomicU8::new(SERVE_REPO));
    let old = Arc::new(std::sync::Mutex::new(
        std::fs::read(root.join("channels/production.json")).unwrap(),
    ));
    let (m, o) = (mode.clone(), old.clone());
    let net = Net::scripted(move |_, req| match m.load(Ordering::SeqCst) {
        SERVE_OLD if req.path.ends_with("/channels/production.json") => {
            respond("200 OK", &[], &o.lock().unwrap())
        }
        SERVE_NOTHING => respond("503 Service Unavailable", &[], b""),
        _ => serve_file(&root, "/repo", req),
    });
    let dir = tempfile::tempdir().unwrap();
    let config = p.config(&net.update_url(), dir.path());
    let d = Device::open_on(config, dir, fast_http(), clock.clone());
    take_and_confirm(&d);
    Scene {
        p,
        net,
        d,
        clock,
        mode,
        old,
    }
}

impl Scene {
    fn refresh(&self, expires_in: u64) -> publish::Refreshed {
        publish::refresh(&RefreshOptions {
            repo: &self.p.repo(),
            channel: "production",
            signing_key: &self.p.signing,
            expires_in: Some(expires_in),
            now: self.clock.now(),
        })
        .unwrap()
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    fn stale_events(&self) -> Vec<Event> {
        self.d
            .events
            .events()
            .into_iter()
            .filter(|e| matches!(e, Event::UpdatesStale { .. }))
            .collect()
    }

    fn check_code(&self) -> String {
        match self.d.updater.check().unwrap() {
            CheckResult::NoUpdate { code, .. } => code,
            other => panic!("expected no update, got {other:?}"),
        }
    }
}

/// Just past `expires_at` as devices count it (the clock-skew allowance).
fn past(expires_at: u64) -> u64 {
    expires_at + CLOCK_SKEW_SECS + 1
}

#[test]
fn a_refreshed_envelope_of_the_running_release_is_taken_without_reinstalling() {
    let s = scene();
    let running = s.d.updater.current().unwrap().id;
    let bundles_before = count(&s.net.server, "/bundles/") + count(&s.net.server, "/files/");
    let first_expiry = s.clock.now() + 2 * DAY;

    s.advance(DAY);
    let refreshed = s.refresh(2 * DAY);
    assert_eq!(refreshed.manifest.sequence, 1);
    assert_eq!(s.check_code(), "upToDate");

    // Past the first envelope's expiry the refreshed one holds: up to date, not stale.
    s.advance(past(first_expiry) - s.clock.now());
    assert_eq!(s.check_code(), "upToDate");
    assert!(
        matches!(s.d.updater.update().unwrap(), UpdateOutcome::NoUpdate { ref code, .. } if code == "upToDate")
    );
    assert_eq!(s.stale_events(), vec![]);
    // Nothing was downloaded again, nothing reinstalled: the same bundle serves.
    assert_eq!(
        count(&s.net.server, "/bundles/") + count(&s.net.server, "/files/"),
        bundles_before
    );
    assert_eq!(s.d.updater.current().unwrap().id, running);
    assert_eq!(s.d.updater.list().unwrap().len(), 1);
}

/// The freeze: after the refresh the host serves the older envelope again. It still verifies
/// and is unexpired for a while, so it is no reason to worry yet; but it never replaces the
/// newer one the device saw, so once that one expires the device reports stale, once.
#[test]
fn a_host_replaying_an_older_envelope_is_reported_stale_once_the_newest_expires() {
    let s = scene();
    s.advance(DAY / 2);
    let refreshed = s.refresh(2 * DAY);
    assert_eq!(s.check_code(), "upToDate");
    s.mode.store(SERVE_OLD, Ordering::SeqCst);

    // The replayed envelope expires first: refused as expired, but the newest one the device
    // verified is still valid, so nothing is stale.
    let old_expiry = refreshed.previous.expires_at;
    s.advance(past(old_expiry) - s.clock.now());
    assert_eq!(s.check_code(), "expired");
    assert_eq!(s.stale_events(), vec![]);

    s.advance(past(refreshed.manifest.expires_at) - s.clock.now());
    assert_eq!(s.check_code(), "expired");
    let now = s.clock.now();
    assert_eq!(
        s.stale_events(),
        vec![Event::UpdatesStale {
            channel: "production".into(),
            sequence: 1,
            issued_at: refreshed.manifest.issued_at,
            expires_at: refreshed.manifest.expires_at,
            age_seconds: now - refreshed.manifest.issued_at,
        }]
    );
    // Once per stale envelope: later checks do not repeat it.
    s.advance(DAY);
    assert_eq!(s.check_code(), "expired");
    s.d.updater.update().unwrap();
    assert_eq!(s.stale_events().len(), 1);

    // A fresh envelope ends the episode; the next one to expire is reported again.
    s.mode.store(SERVE_REPO, Ordering::SeqCst);
    let again = s.refresh(DAY);
    assert_eq!(s.check_code(), "upToDate");
    assert_eq!(s.stale_events().len(), 1);
    s.advance(past(again.manifest.expires_at) - s.clock.now());
    *s.old.lock().unwrap() = std::fs::read(s.p.repo().join("channels/production.json")).unwrap();
    s.mode.store(SERVE_OLD, Ordering::SeqCst);
    assert_eq!(s.check_code(), "expired");
    assert_eq!(s.stale_events().len(), 2);
}

/// A host that stops answering is no excuse either: the check fails, and the stale report
/// still goes out at its end.
#[test]
fn an_unreachable_host_is_reported_stale_when_the_newest_envelope_expires() {
    let s = scene();
    let expiry = s.clock.now() + 2 * DAY;
    s.mode.store(SERVE_NOTHING, Ordering::SeqCst);
    s.advance(DAY);
    s.d.updater.check().unwrap_err();
    assert_eq!(s.stale_events(), vec![]);

    s.advance(past(expiry) - s.clock.now());
    s.d.updater.update().unwrap_err();
    match s.stale_events().as_slice() {
        [Event::UpdatesStale {
            sequence: 1,
            expires_at,
            age_seconds,
            ..
        }] => {
            assert_eq!(*expires_at, expiry);
            assert_eq!(*age_seconds, 2 * DAY + CLOCK_SKEW_SECS + 1);
        }
        other => panic!("expected one updatesStale, got {other:?}"),
    }
    s.d.updater.check().unwrap_err();
    assert_eq!(s.stale_events().len(), 1);
}
