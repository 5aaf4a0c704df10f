//! The boot protocol through `Engine`, on a real SQLite store and real signed releases: trial,
//! confirmation bound to the bundle that runs, automatic revert (next launch and timer),
//! anti-rollback that survives reverts and a lost database, native updates, retention, the
//! manual controls, the history and the install lock.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use liveship::boot::{
    BootError, BundleStatus, Confirmed, ResetTarget, BUILTIN, REASON_NOT_CONFIRMED,
};
use liveship::engine::{CoreError, Engine};
use liveship::events::Event;
use liveship::install::InstallError;
use liveship::policy::Refusal;
use liveship::release::NativeRange;
use liveship::store::{self, Store};
use support::fixtures::*;

impl LocalDevice {
    fn release(&self, seq: u64, webdir: &Path, rel: &Rel) -> PathBuf {
        make_release(self.repo.path(), webdir, seq, rel).release_path
    }
    /// Installs, launches and confirms a good release `seq`; returns its bundle id.
    fn confirmed(&self, u: &Engine, seq: u64) -> String {
        self.confirmed_file(u, &self.good(seq))
    }
    fn confirmed_file(&self, u: &Engine, release: &Path) -> String {
        let id = u.install_from_file(release).unwrap().id;
        let r = u.launch();
        assert_eq!((r.id.as_str(), r.trial), (id.as_str(), true));
        assert!(matches!(
            u.notify_app_ready(&id).unwrap(),
            Confirmed::Promoted { .. }
        ));
        id
    }
}

fn status_of(u: &Engine, id: &str) -> Option<BundleStatus> {
    u.list()
        .unwrap()
        .into_iter()
        .find(|b| b.id == id)
        .map(|b| b.status)
}

#[test]
fn unconfirmed_trial_is_reverted_on_next_launch() {
    let d = LocalDevice::new();
    let web = d.repo.path().join("web-broken");
    broken_app(&web, "broken");
    let u = d.open();
    let id = u
        .install_from_file(&d.release(1, &web, &Rel::default()))
        .unwrap()
        .id;
    let first = u.launch();
    assert_eq!((first.id.as_str(), first.trial), (id.as_str(), true));
    drop(u); // the app dies without calling notifyAppReady

    let u = d.open();
    let second = u.launch();
    assert_eq!(second.id, BUILTIN);
    assert!(!second.trial);
    assert_eq!(second.path, None);
    let rev = second.reverted.expect("revert reported");
    assert_eq!(rev.id, id);
    assert_eq!(rev.reason, REASON_NOT_CONFIRMED);
    let info = u.list().unwrap().into_iter().find(|b| b.id == id).unwrap();
    assert_eq!(info.status, BundleStatus::Failed);
    assert_eq!(info.failed_reason.as_deref(), Some(REASON_NOT_CONFIRMED));
    assert!(d.events().iter().any(|e| matches!(e,
        Event::UpdateFailed { bundle_id, reason, .. } if *bundle_id == id && reason == REASON_NOT_CONFIRMED)));
    // A third launch does not revert again.
    assert_eq!(u.launch().reverted, None);

    // Blocklisted by content: the same files under a newer sequence are refused.
    let again = d.release(2, &web, &Rel::default());
    let err = u.install_from_file(&again).unwrap_err();
    assert!(
        matches!(err, CoreError::Refused(Refusal::Blocklisted { .. })),
        "{err}"
    );
    assert_eq!(u.launch().id, BUILTIN);
}

#[test]
fn confirm_from_outgoing_page_does_not_confirm_incoming_bundle() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    let r = u.launch();
    assert_eq!((r.id.as_str(), r.trial), (id2.as_str(), true));
    // The page of bundle 1, still running while the swap happens, calls notifyAppReady.
    let err = u.notify_app_ready(&id1).unwrap_err();
    assert!(
        matches!(&err, CoreError::Boot(BootError::NotOnTrial { id, trial }) if *id == id1 && trial.as_deref() == Some(id2.as_str())),
        "{err}"
    );
    // Nor can the built-in page.
    assert!(u.notify_app_ready(BUILTIN).is_err());
    let s = u.status().unwrap();
    assert_eq!(s.trial.unwrap().id, id2);
    assert_eq!(s.current.unwrap().id, id1);
    // Bundle 2 never confirmed itself: the next launch reverts it.
    drop(u);
    let r = d.open().launch();
    assert_eq!(r.reverted.unwrap().id, id2);
    assert_eq!(r.id, id1);
}

#[test]
fn confirm_promotes_trial_and_previous_becomes_fallback() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    assert_eq!(u.launch().id, id2);
    assert_eq!(
        u.notify_app_ready(&id2).unwrap(),
        Confirmed::Promoted {
            previous: Some(id1.clone())
        }
    );
    let s = u.status().unwrap();
    assert_eq!(s.current.unwrap().id, id2);
    let fb = s.fallback.unwrap();
    assert_eq!(
        (fb.id.as_str(), fb.status.as_str()),
        (id1.as_str(), "fallback")
    );
    assert!(s.trial.is_none() && s.next.is_none());
    // A second call (page reload) changes nothing.
    assert_eq!(u.notify_app_ready(&id2).unwrap(), Confirmed::AlreadyCurrent);
    // Confirmed: later launches serve it, not on trial, never reverted.
    drop(u);
    let r = d.open().launch();
    assert_eq!(
        (r.id.as_str(), r.trial, r.reverted),
        (id2.as_str(), false, None)
    );
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::AppReady { bundle_id } if *bundle_id == id2)));
}

#[test]
fn ready_timer_reverts_and_asks_for_reload() {
    let mut d = LocalDevice::new();
    d.config.app_ready_timeout = 300;
    let u = d.open();
    let id = u.install_from_file(&d.broken(1)).unwrap().id;
    assert!(u.launch().trial);
    let reload_requested =
        |ev: &[Event]| ev.iter().any(|e| matches!(e, Event::ReloadRequired { .. }));
    // Not before the timeout...
    d.clock.advance(Duration::from_millis(299));
    assert!(!reload_requested(&d.events()), "early: {:?}", d.events());
    // ...and at it.
    d.clock.advance(Duration::from_millis(1));
    assert!(
        reload_requested(&d.events()),
        "no reload requested: {:?}",
        d.events()
    );
    let ev = d.events();
    let failed = ev
        .iter()
        .position(|e| matches!(e, Event::UpdateFailed { bundle_id, reason, .. } if *bundle_id == id && reason.contains("300 ms")))
        .expect("UpdateFailed for the trial");
    let reload = ev
        .iter()
        .position(|e| matches!(e, Event::ReloadRequired { bundle_id, path: None, .. } if bundle_id == BUILTIN))
        .expect("ReloadRequired to the built-in bundle");
    assert!(failed < reload);
    assert_eq!(status_of(&u, &id), Some(BundleStatus::Failed));
    assert!(u.status().unwrap().trial.is_none());
    // The next launch has nothing left to revert.
    assert_eq!(u.launch().reverted, None);
}

#[test]
fn confirmed_bundle_is_not_reverted_by_timer() {
    let mut d = LocalDevice::new();
    d.config.app_ready_timeout = 200;
    let u = d.open();
    let id = u.install_from_file(&d.good(1)).unwrap().id;
    assert!(u.launch().trial);
    u.notify_app_ready(&id).unwrap();
    d.clock.advance(Duration::from_millis(700));
    assert!(
        !d.events()
            .iter()
            .any(|e| matches!(e, Event::UpdateFailed { .. } | Event::ReloadRequired { .. })),
        "{:?}",
        d.events()
    );
    assert_eq!(u.status().unwrap().current.unwrap().id, id);
}

#[test]
fn high_water_mark_never_decreases_after_revert() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    d.confirmed_file(&u, &r1);
    let id2 = u.install_from_file(&d.broken(2)).unwrap().id;
    u.launch();
    let r = u.launch();
    assert_eq!(r.reverted.unwrap().id, id2);
    let s = u.status().unwrap();
    assert_eq!(s.high_water, Some(2), "a local revert keeps the mark");
    // Release 1 again (signed, valid) is a rollback now.
    let err = u.install_from_file(&r1).unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::Refused(Refusal::Rollback { got: 1, have: 2 })
        ),
        "{err}"
    );
    // Below the policy layer, the install step refuses it on its own.
    let bytes = fs::read(&r1).unwrap();
    let v = liveship::release::verify_envelope(&bytes, &[pinned_key()]).unwrap();
    let m = &v.manifest;
    let object = r1.parent().unwrap().join(&m.bundle.url);
    let (mut st, _) = Store::open(d.data.path()).unwrap();
    let err = liveship::install::begin(&mut st, m)
        .and_then(|staging| {
            let keys = [bundle_key()];
            liveship::install::build_from_object(
                &staging.dir,
                &staging.tree,
                &object,
                m,
                &keys,
                &Default::default(),
            )?;
            liveship::install::finish(&mut st, staging, &v, &bytes)
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            InstallError::NotNewer {
                got: 1,
                have: 2,
                ..
            }
        ),
        "{err}"
    );
}

/// Release 1 runs only on native 1.0.x and is the fallback; release 2 runs anywhere and is current.
fn native_setup(d: &LocalDevice) -> (String, String) {
    let u = d.open();
    let web = d.repo.path().join("web-old-native");
    good_app(&web, "old native");
    let rel = Rel {
        native: NativeRange {
            min: None,
            max: Some("1.0.9".into()),
        },
        ..Rel::default()
    };
    let id1 = u.install_from_file(&d.release(1, &web, &rel)).unwrap().id;
    u.launch();
    u.notify_app_ready(&id1).unwrap();
    let id2 = d.confirmed(&u, 2);
    (id1, id2)
}

#[test]
fn new_native_version_drops_incompatible_bundles() {
    // resetWhenUpdate false: only bundles outside the new native version's range go.
    let mut d = LocalDevice::new();
    d.config.reset_when_update = false;
    let (id1, id2) = native_setup(&d);
    d.config.native_version = "1.1.0".into();
    let u = d.open();
    let r = u.launch();
    assert_eq!((r.id.as_str(), r.trial), (id2.as_str(), false));
    let ids: Vec<String> = u.list().unwrap().into_iter().map(|b| b.id).collect();
    assert_eq!(ids, vec![id2.clone()], "{id1} should be dropped");
    assert!(u.status().unwrap().fallback.is_none());
    assert!(u
        .history()
        .unwrap()
        .iter()
        .any(|h| h.event == "native_update" && h.detail.contains(&id1)));
    assert_eq!(u.status().unwrap().high_water, Some(2));
    // The dropped bundle's files go at the next open.
    drop(u);
    let _u = d.open();
    assert!(!d.data.path().join("bundles").join(&id1).exists());

    // resetWhenUpdate true (the default): every downloaded bundle goes, built-in serves.
    let mut d = LocalDevice::new();
    let (_, id2) = native_setup(&d);
    d.config.native_version = "1.1.0".into();
    let u = d.open();
    let r = u.launch();
    assert_eq!(r.id, BUILTIN);
    assert!(u.list().unwrap().is_empty());
    assert_eq!(u.status().unwrap().high_water, Some(2));
    drop(u);
    d.open();
    assert!(!d.data.path().join("bundles").join(&id2).exists());

    // Same native version again: nothing is dropped.
    let mut d = LocalDevice::new();
    d.config.reset_when_update = true;
    let (_, id2) = native_setup(&d);
    assert_eq!(d.open().launch().id, id2);
}

#[test]
fn corrupt_database_is_rebuilt_and_readopts_what_verifies() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    let id1 = d.confirmed_file(&u, &r1);
    let r2 = d.good(2);
    let id2 = u.install_from_file(&r2).unwrap().id;
    drop(u);
    let db = d.data.path().join("liveship.db");
    fs::write(&db, vec![0x5a; 8192]).unwrap();

    let u = d.open();
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::StateReset { .. })));
    // The recovery record brought back the roles: 2 is still the next to try, over 1.
    let r = u.launch();
    assert_eq!((r.id.as_str(), r.trial), (id2.as_str(), true));
    assert_eq!(u.status().unwrap().current.map(|b| b.id), Some(id1));
    assert!(u
        .history()
        .unwrap()
        .iter()
        .any(|h| h.event == "state_reset"));
    // The high-water mark came back from the envelopes next to the bundles.
    assert_eq!(u.status().unwrap().high_water, Some(2));
    for old in [&r1, &r2] {
        let err = u.install_from_file(old).unwrap_err();
        assert!(matches!(err, CoreError::Refused(_)), "{err}");
    }
    // The damaged file is kept aside for diagnosis.
    assert!(d.data.path().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("liveship.db.corrupt-")));
    // A newer release installs and runs.
    u.notify_app_ready(&id2).unwrap();
    let id3 = d.confirmed(&u, 3);
    assert_eq!(u.launch().id, id3);
}

#[test]
fn emptied_database_keeps_high_water_and_the_running_bundle() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    let id1 = d.confirmed_file(&u, &r1);
    drop(u);
    // A database file truncated to nothing opens as a valid, empty SQLite database.
    let db = d.data.path().join("liveship.db");
    for f in ["liveship.db-wal", "liveship.db-shm"] {
        let _ = fs::remove_file(d.data.path().join(f));
    }
    fs::write(&db, b"").unwrap();
    let u = d.open();
    assert_eq!(u.launch().id, id1);
    assert_eq!(u.status().unwrap().high_water, Some(1));
    assert!(
        u.install_from_file(&r1).is_err(),
        "rollback after state loss"
    );
}

#[test]
fn high_water_survives_lost_database_after_retention_removed_the_newest_bundle() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    d.confirmed_file(&u, &r1);
    d.confirmed(&u, 2);
    // Release 3 fails and is reverted; retention then deletes it with its envelope.
    let r3 = d.broken(3);
    let id3 = u.install_from_file(&r3).unwrap().id;
    u.launch();
    assert_eq!(u.launch().reverted.unwrap().id, id3);
    u.reset(ResetTarget::LastGood).unwrap();
    assert!(!d.data.path().join("bundles").join(&id3).exists());
    drop(u);
    // The database is lost: the blocklist goes with it, the floor must not.
    fs::write(d.data.path().join("liveship.db"), vec![0x5a; 4096]).unwrap();
    let u = d.open();
    assert_eq!(u.status().unwrap().high_water, Some(3));
    let err = u.install_from_file(&r3).unwrap_err();
    assert!(
        matches!(err, CoreError::Refused(Refusal::UpToDate { sequence: 3 })),
        "{err}"
    );
    drop(u);
    // Lost again, before anything new was installed: still no way back.
    fs::write(d.data.path().join("liveship.db"), vec![0x5a; 4096]).unwrap();
    let u = d.open();
    assert_eq!(u.status().unwrap().high_water, Some(3));
    assert!(u.install_from_file(&r1).is_err());
}

#[test]
fn delete_refuses_bundles_in_use() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = d.confirmed(&u, 2);
    let id3 = u.install_from_file(&d.good(3)).unwrap().id;
    assert!(u.launch().trial);
    let id4 = u.install_from_file(&d.good(4)).unwrap().id;
    for (id, role) in [
        (&id1, BundleStatus::Fallback),
        (&id2, BundleStatus::Current),
        (&id3, BundleStatus::Trial),
        (&id4, BundleStatus::Next),
    ] {
        let err = u.delete(id).unwrap_err();
        assert!(
            matches!(&err, CoreError::Boot(BootError::InUse { role: r, .. }) if *r == role),
            "{id}: {err}"
        );
        assert!(d.data.path().join("bundles").join(id).is_dir());
    }
    assert!(matches!(
        u.delete("0123456789abcdef").unwrap_err(),
        CoreError::Boot(BootError::UnknownBundle { .. })
    ));
    // Choosing another next leaves 4 without a role: now it can go.
    u.set_next(&id1).unwrap();
    assert_eq!(status_of(&u, &id4), Some(BundleStatus::Ready));
    u.delete(&id4).unwrap();
    assert_eq!(status_of(&u, &id4), None);
    assert!(!d.data.path().join("bundles").join(&id4).exists());
    assert!(!d
        .data
        .path()
        .join("bundles")
        .join(format!("{id4}.envelope.json"))
        .exists());
}

#[test]
fn retention_keeps_only_current_fallback_next() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = d.confirmed(&u, 2);
    let id3 = d.confirmed(&u, 3);
    // A failed bundle is deleted by retention too, but stays blocklisted.
    let id4 = u.install_from_file(&d.broken(4)).unwrap().id;
    u.launch();
    assert_eq!(u.launch().reverted.unwrap().id, id4);
    let id5 = u.install_from_file(&d.good(5)).unwrap().id;
    let id6 = d.confirmed(&u, 6);
    let _ = id5; // replaced as next by 6 before it ever ran, then removed by retention
    let mut ids: Vec<String> = u.list().unwrap().into_iter().map(|b| b.id).collect();
    ids.sort();
    let mut want = vec![id3.clone(), id6.clone()];
    want.sort();
    assert_eq!(ids, want);
    let mut dirs = vec![
        id3.clone(),
        format!("{id3}.envelope.json"),
        id6.clone(),
        format!("{id6}.envelope.json"),
    ];
    dirs.sort();
    assert_eq!(entries(&d.data.path().join("bundles")), dirs);
    for gone in [&id1, &id2, &id4] {
        assert!(!d.data.path().join("bundles").join(gone).exists());
    }
    let (st, _) = Store::open(d.data.path()).unwrap();
    let m4 = manifest_of(&d.repo.path().join("releases/production.4.json"));
    assert!(store::blocked(st.read(), &m4.content_id())
        .unwrap()
        .is_some());
}

#[test]
fn set_next_and_reset_to_builtin_and_last_good() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = d.confirmed(&u, 2);
    // Back to the fallback on purpose: it becomes next, then the trial.
    u.set_next(&id1).unwrap();
    assert_eq!(u.status().unwrap().next.unwrap().id, id1);
    let r = u.launch();
    assert_eq!((r.id.as_str(), r.trial), (id1.as_str(), true));
    // reset to last good: the trial is dropped without blame; current serves.
    let now = u.reset(ResetTarget::LastGood).unwrap();
    assert_eq!((now.id.as_str(), now.trial), (id2.as_str(), false));
    assert_eq!(status_of(&u, &id1), Some(BundleStatus::Fallback));
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::ReloadRequired { bundle_id, .. } if *bundle_id == id2)));
    assert_eq!(u.launch().id, id2);
    // reset to built-in: nothing downloaded serves; the last current is kept as fallback.
    let now = u.reset(ResetTarget::Builtin).unwrap();
    assert_eq!((now.id.as_str(), now.path), (BUILTIN, None));
    assert_eq!(u.launch().id, BUILTIN);
    assert_eq!(u.status().unwrap().fallback.unwrap().id, id2);
    // set_next refuses unknown and failed bundles.
    assert!(matches!(
        u.set_next("ffffffffffffffff").unwrap_err(),
        CoreError::Boot(BootError::UnknownBundle { .. })
    ));
    let id3 = u.install_from_file(&d.broken(3)).unwrap().id;
    u.launch();
    u.launch();
    assert!(matches!(
        u.set_next(&id3).unwrap_err(),
        CoreError::Boot(BootError::BundleFailed { .. })
    ));
    // set_next back to a good one works from built-in.
    u.set_next(&id2).unwrap();
    assert_eq!(u.launch().id, id2);
}

#[test]
fn history_records_every_transition() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    let id2 = u.install_from_file(&d.broken(2)).unwrap().id;
    u.launch();
    u.launch();
    u.reset(ResetTarget::Builtin).unwrap();
    u.set_next(&id1).unwrap();
    let h = u.history().unwrap();
    let got: Vec<(&str, Option<&str>)> = h
        .iter()
        .map(|e| (e.event.as_str(), e.bundle.as_deref()))
        .collect();
    let want: Vec<(&str, Option<&str>)> = vec![
        ("installed", Some(&id1)),
        ("trial", Some(&id1)),
        ("confirmed", Some(&id1)),
        ("installed", Some(&id2)),
        ("trial", Some(&id2)),
        ("reverted", Some(&id2)),
        ("reset", None),
        ("retention", None),
        ("set_next", Some(&id1)),
    ];
    assert_eq!(got, want, "{h:#?}");
    assert!(h
        .windows(2)
        .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at));
    assert!(h.iter().all(|e| !e.detail.is_empty()));
    assert_eq!(h[5].detail, REASON_NOT_CONFIRMED);
}

#[test]
fn second_concurrent_install_gets_busy() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    // Another process (here another Store instance: the lock is per open file) installs.
    let (other, _) = Store::open(d.data.path()).unwrap();
    let lock = other.try_install_lock().unwrap().expect("lock free");
    let err = u.install_from_file(&r1).unwrap_err();
    assert!(
        matches!(err, CoreError::Install(InstallError::Busy)),
        "{err}"
    );
    assert!(u.list().unwrap().is_empty());
    // Its staging is not cleaned by an open while it holds the lock.
    fs::create_dir_all(d.data.path().join("staging/in-progress")).unwrap();
    drop(d.open());
    assert!(d.data.path().join("staging/in-progress").exists());
    drop(lock);
    drop(d.open());
    assert!(!d.data.path().join("staging/in-progress").exists());
    u.install_from_file(&r1).unwrap();
}

#[test]
fn missing_bundle_directory_serves_builtin_instead_of_crashing() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = d.confirmed(&u, 1);
    fs::remove_dir_all(d.data.path().join("bundles").join(&id1)).unwrap();
    let r = u.launch();
    assert_eq!(r.id, BUILTIN);
    assert!(u
        .history()
        .unwrap()
        .iter()
        .any(|h| h.event == "skipped" && h.bundle.as_deref() == Some(&id1)));
}

#[test]
fn events_reach_the_sink_in_order() {
    let d = LocalDevice::new();
    let u = Arc::new(d.open());
    let id = u.install_from_file(&d.good(1)).unwrap().id;
    u.launch();
    u.notify_app_ready(&id).unwrap();
    let ev = d.events();
    assert_eq!(
        ev,
        vec![
            Event::SetNext {
                bundle_id: id.clone()
            },
            Event::AppReady { bundle_id: id }
        ]
    );
}
