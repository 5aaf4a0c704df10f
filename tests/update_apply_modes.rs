//! When an installed update starts to serve, by apply mode: `immediate` serves it as the trial
//! at once (and asks for a reload); `background` waits until the app has spent the minimum time
//! in the background (a manual clock: no sleeping).

mod support;

use std::sync::Arc;
use std::time::Duration;

use liveship::clock::ManualClock;
use liveship::engine::{Engine, UpdateOutcome};
use liveship::events::Event;
use support::{fast_http, Device, Net, Publisher, Recorder};

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
