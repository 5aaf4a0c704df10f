//! Edge cases of the boot protocol found in review: revocations that must stick for releases the
//! device does not have, a failed bundle that must not come back through a stale `next`, an
//! in-process apply that must not blame a trial whose page is still starting, a native update
//! settled before anything is installed for it, retention that must not delete files another
//! process is installing, sequences too large for the store, and stored times that must come
//! from the engine's clock, not the system's.

mod support;

use std::sync::Arc;
use std::time::Duration;

use liveship::boot::{self, REASON_NOT_CONFIRMED};
use liveship::clock::{Clock, ManualClock, SystemClock};
use liveship::engine::{CoreError, Engine};
use liveship::release::{self, Incident, ReleaseError};
use liveship::store::{self, Blocked, Store};
use support::fixtures::*;

#[test]
fn revoked_release_not_yet_installed_is_refused_later() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    let r2 = d.good(2);
    let r3 = d.good(3);
    let id1 = u.install_from_file(&r1).unwrap().id;
    assert!(u.launch().trial);
    u.notify_app_ready(&id1).unwrap();

    // Release 3 revokes release 2 (never installed here), by sequence and by content.
    let m3 = manifest_of(&r3);
    let m2 = manifest_of(&r2);
    let incident = Incident {
        revoked_sequences: vec![2],
        revoked_sha256: vec![m2.content_id()],
        revert_to_builtin: false,
    };
    drop(u);
    let mut store = Store::open(d.data.path()).unwrap().0;
    boot::revoke(&mut store, &m3, &incident).unwrap();
    drop(store);

    let u = d.open();
    let err = u.install_from_file(&r2).unwrap_err();
    assert!(
        matches!(err, CoreError::Refused(_)),
        "a revoked release must stay refused: {err}"
    );
}

#[test]
fn failed_bundle_does_not_come_back_through_a_stale_next() {
    let d = LocalDevice::new();
    let u = d.open();
    let r1 = d.good(1);
    let id1 = u.install_from_file(&r1).unwrap().id;
    let l = u.launch();
    assert!(l.trial && l.id == id1);
    // The page of the trial asks for itself again as next (or the same content is re-published).
    u.set_next(&id1).ok();
    drop(u);
    // Killed before confirming: reverted at the next launch...
    let u = d.open();
    let l = u.launch();
    assert_eq!(
        l.reverted.map(|r| r.reason),
        Some(REASON_NOT_CONFIRMED.to_string())
    );
    // ...and never tried again.
    let l = u.launch();
    assert!(!l.trial && l.id == "builtin", "{l:?}");
    assert!(u.status().unwrap().next.is_none());
}

#[test]
fn in_process_apply_waits_for_the_pending_trial() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = u.install_from_file(&d.good(1)).unwrap().id;
    assert!(u.launch().trial);
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    assert_eq!(
        u.apply_now().unwrap(),
        None,
        "the trial's page may still be starting"
    );
    let st = u.status().unwrap();
    assert_eq!(
        st.trial.map(|b| b.id),
        Some(id1.clone()),
        "the trial is not blamed"
    );
    assert_eq!(st.next.map(|b| b.id), Some(id2));
    u.notify_app_ready(&id1).unwrap();
}

#[test]
fn native_update_is_settled_at_open_before_a_background_install() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = u.install_from_file(&d.good(1)).unwrap().id;
    assert!(u.launch().trial);
    u.notify_app_ready(&id1).unwrap();
    drop(u);
    // The app is updated from the store; a background run installs release 2 before any launch.
    let mut updated = d.config.clone();
    updated.native_version = "2.0.0".into();
    let u = Engine::open(updated, d.data.path(), liveship::events::discard()).unwrap();
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    let l = u.launch();
    assert!(
        l.trial && l.id == id2,
        "the release installed for the new native version runs: {l:?}"
    );
}

#[test]
fn retention_leaves_files_alone_while_another_process_installs() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = u.install_from_file(&d.good(1)).unwrap().id;
    assert!(u.launch().trial);
    u.notify_app_ready(&id1).unwrap();
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    assert!(u.launch().trial);
    let id3 = u.install_from_file(&d.good(3)).unwrap().id;
    // Another process holds the install lock while this one confirms (retention runs).
    let other = Store::open(d.data.path()).unwrap().0;
    let lock = other.try_install_lock().unwrap().expect("lock free");
    u.notify_app_ready(&id2).unwrap();
    // Release 1 is now the fallback, 3 is next: nothing to delete yet. Confirm 3 to retire 1.
    assert!(u.launch().trial);
    u.notify_app_ready(&id3).unwrap();
    assert!(
        d.data.path().join("bundles").join(&id1).is_dir(),
        "files stay while the lock is held"
    );
    drop(lock);
    drop(other);
    drop(u);
    let _u = d.open();
    assert!(
        !d.data.path().join("bundles").join(&id1).exists(),
        "the next open removes them"
    );
}

#[test]
fn sequence_beyond_the_stores_range_is_refused() {
    let d = LocalDevice::new();
    let mut m = manifest_of(&d.good(1));
    m.sequence = i64::MAX as u64 + 1;
    let path = write_signed(d.repo.path(), "huge", &m);
    let bytes = std::fs::read(path).unwrap();
    let err = release::verify_envelope(&bytes, &[pinned_key()]).unwrap_err();
    assert!(
        matches!(err, ReleaseError::FieldInvalid { ref field, .. } if field == "sequence"),
        "{err}"
    );
}

/// A week behind the system's clock: a row stamped with the system's time cannot match it.
fn a_week_ago() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(SystemClock.now() - 7 * 24 * 3600))
}

#[test]
fn install_and_revert_are_stamped_with_the_engine_clock() {
    let d = LocalDevice {
        clock: a_week_ago(),
        ..LocalDevice::new()
    };
    let clock = &d.clock;
    let t0 = clock.now();
    let r1 = d.good(1);
    let u = d.open();
    let id = u.install_from_file(&r1).unwrap().id;
    assert!(u.launch().trial);
    drop(u); // killed before confirming
    clock.advance(Duration::from_secs(90));
    let u = d.open();
    assert_eq!(u.launch().reverted.map(|r| r.id), Some(id.clone()));

    let stamps: Vec<(String, u64)> = u
        .history()
        .unwrap()
        .into_iter()
        .map(|h| (h.event, h.at))
        .collect();
    let want = [("installed", t0), ("trial", t0), ("reverted", t0 + 90)];
    assert_eq!(stamps, want.map(|(e, at)| (e.to_string(), at)));
    let info = u.list().unwrap().into_iter().find(|b| b.id == id).unwrap();
    assert_eq!(info.installed_at, t0);
    let st = Store::open(d.data.path()).unwrap().0;
    assert_eq!(
        store::blocklisted(st.read()).unwrap(),
        [Blocked {
            content_id: manifest_of(&r1).content_id(),
            reason: REASON_NOT_CONFIRMED.into(),
            at: t0 + 90,
        }]
    );
}

#[test]
fn a_rebuilt_database_is_stamped_with_the_engine_clock() {
    let d = LocalDevice {
        clock: a_week_ago(),
        ..LocalDevice::new()
    };
    let clock = &d.clock;
    let u = d.open();
    u.install_from_file(&d.good(1)).unwrap();
    drop(u);
    std::fs::write(d.data.path().join("liveship.db"), vec![0x5a; 8192]).unwrap();
    clock.advance(Duration::from_secs(30));
    let t = clock.now();

    let u = d.open();
    let reset: Vec<u64> = u
        .history()
        .unwrap()
        .into_iter()
        .filter(|h| h.event == "state_reset")
        .map(|h| h.at)
        .collect();
    assert_eq!(reset, [t]);
    let aside = d.data.path().join(format!("liveship.db.corrupt-{t}"));
    assert!(
        aside.is_file(),
        "the damaged file is named by the same clock"
    );
}
