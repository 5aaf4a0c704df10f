//! Capgo's `setMultiDelay` semantics, decided in the core: a downloaded `next` bundle waits until
//! every delay condition has been met; each condition is met at its own moment (a cold start for
//! `kill`, a return from the background for `background`, the clock for `date`, the native
//! version for `nativeVersion`).

mod support;

use std::time::Duration;

use liveship::boot::DelayCondition;
use liveship::clock::Clock;
use liveship::engine::Engine;
use support::fixtures::*;

impl LocalDevice {
    /// Installs good release `seq` as `next`; returns its bundle id.
    fn next(&self, u: &Engine, seq: u64) -> String {
        u.install_from_file(&self.good(seq)).unwrap().id
    }
}

#[test]
fn future_date_keeps_next_waiting_across_launches() {
    let d = LocalDevice::new();
    let u = d.open();
    let id = d.next(&u, 1);
    // An hour ahead of the engine's clock, which never moves on its own here.
    let far = d.clock.now() + 3600;
    u.set_delay(&[DelayCondition::Date { not_before: far }])
        .unwrap();
    let l = u.launch();
    assert_eq!(l.id, "builtin", "a date in the future must hold next back");
    assert_eq!(
        u.status().unwrap().next.map(|b| b.id),
        Some(id.clone()),
        "next stays pending"
    );
    // The publisher's app cancels the delay: the next cold start takes the bundle.
    u.set_delay(&[]).unwrap();
    let l = u.launch();
    assert!(l.trial && l.id == id, "{l:?}");
}

#[test]
fn past_date_and_met_native_version_do_not_delay() {
    let d = LocalDevice::new();
    let u = d.open();
    let id = d.next(&u, 1);
    u.set_delay(&[
        DelayCondition::Date { not_before: 1 },
        DelayCondition::NativeVersion {
            at_least: d.config.native_version.clone(),
        },
    ])
    .unwrap();
    let l = u.launch();
    assert!(l.trial && l.id == id, "{l:?}");
    assert!(u.delay().unwrap().is_empty());
}

#[test]
fn native_version_condition_waits_for_a_newer_app() {
    let d = LocalDevice::new();
    let u = d.open();
    d.next(&u, 1);
    u.set_delay(&[DelayCondition::NativeVersion {
        at_least: "99.0".into(),
    }])
    .unwrap();
    assert_eq!(u.launch().id, "builtin");
    assert_eq!(u.delay().unwrap().len(), 1, "an unmet condition stays");
}

#[test]
fn kill_then_background_applies_on_foreground_after_the_time_away() {
    let d = LocalDevice::new();
    let u = d.open();
    let id = d.next(&u, 1);
    u.set_delay(&[DelayCondition::Kill, DelayCondition::Background { ms: 200 }])
        .unwrap();

    // A foreground return before any restart meets neither condition.
    u.app_moved_to_background();
    d.clock.advance(Duration::from_millis(199));
    assert_eq!(u.app_moved_to_foreground().unwrap(), None);
    assert_eq!(
        u.delay().unwrap().len(),
        2,
        "background met before the kill still counts once"
    );
    drop(u);

    // Cold start: `kill` is met, `background` still holds next back.
    let u = d.open();
    assert_eq!(u.launch().id, "builtin");
    assert_eq!(
        u.delay().unwrap(),
        vec![DelayCondition::Background { ms: 200 }]
    );

    // Too short a time away: nothing happens.
    u.app_moved_to_background();
    d.clock.advance(Duration::from_millis(199));
    assert_eq!(u.app_moved_to_foreground().unwrap(), None);

    // Long enough: the last condition is met and next applies now, on trial.
    u.app_moved_to_background();
    d.clock.advance(Duration::from_millis(250));
    let applied = u.app_moved_to_foreground().unwrap().expect("next applies");
    assert!(applied.trial && applied.id == id, "{applied:?}");
    assert!(u.delay().unwrap().is_empty());
}

#[test]
fn immediate_apply_does_not_count_as_a_kill() {
    let d = LocalDevice::new();
    let u = d.open();
    d.next(&u, 1);
    u.set_delay(&[DelayCondition::Kill]).unwrap();
    assert_eq!(
        u.apply_now().unwrap(),
        None,
        "an in-process apply is not a restart"
    );
    assert_eq!(u.delay().unwrap(), vec![DelayCondition::Kill]);
}
