//! What a lost or corrupt state database must not undo (issue 12, findings 1 and 2): a
//! revocation (its floor and its blocklisted content), a reverted trial's blocklist entry, the
//! bundle the device was running, its pending next, and the install id (the rollout bucket).
//! Bundles come back only when they verify against their stored envelopes.

mod support;

use std::fs;
use std::path::Path;

use liveship::boot;
use liveship::engine::{CoreError, Engine};
use liveship::events::Event;
use liveship::policy::Refusal;
use liveship::release::Incident;
use liveship::store::Store;
use support::fixtures::*;

const BUILTIN: &str = "builtin";

/// Installs, launches and confirms `release`; returns its bundle id.
fn confirm(u: &Engine, release: &Path) -> String {
    let id = u.install_from_file(release).unwrap().id;
    let l = u.launch();
    assert!(l.trial && l.id == id, "{l:?}");
    u.notify_app_ready(&id).unwrap();
    id
}

/// Destroys the state database the way a corrupt flash page would.
fn lose_database(d: &LocalDevice) {
    for f in ["liveship.db-wal", "liveship.db-shm"] {
        let _ = fs::remove_file(d.data.path().join(f));
    }
    fs::write(d.data.path().join("liveship.db"), vec![0x5a; 8192]).unwrap();
}

fn revoke(d: &LocalDevice, by: &Path, incident: Incident) {
    let mut store = Store::open(d.data.path()).unwrap().0;
    boot::revoke(&mut store, &manifest_of(by), &incident).unwrap();
}

#[test]
fn a_revoked_sequence_stays_refused_after_the_database_is_lost() {
    let d = LocalDevice::new();
    let u = d.open();
    confirm(&u, &d.good(1));
    let (r2, r3) = (d.good(2), d.good(3));
    drop(u);
    // Release 3 revokes release 2, which this device never installed: only the floor holds it.
    revoke(
        &d,
        &r3,
        Incident {
            revoked_sequences: vec![2],
            revoked_sha256: vec![],
            revert_to_builtin: false,
        },
    );
    lose_database(&d);
    let u = d.open();
    assert_eq!(u.status().unwrap().high_water, Some(2));
    let err = u.install_from_file(&r2).unwrap_err();
    assert!(
        matches!(err, CoreError::Refused(Refusal::UpToDate { sequence: 2 })),
        "{err}"
    );
}

#[test]
fn revoked_content_stays_blocklisted_after_the_database_is_lost() {
    let d = LocalDevice::new();
    let u = d.open();
    confirm(&u, &d.good(1));
    let (r2, r3) = (d.good(2), d.good(3));
    drop(u);
    // Revoked by content only: its sequence is above every floor, so only the blocklist holds.
    revoke(
        &d,
        &r3,
        Incident {
            revoked_sequences: vec![],
            revoked_sha256: vec![manifest_of(&r2).content_id()],
            revert_to_builtin: false,
        },
    );
    lose_database(&d);
    let u = d.open();
    let err = u.install_from_file(&r2).unwrap_err();
    assert!(err.to_string().contains("blocklisted"), "{err}");
}

#[test]
fn a_reverted_trial_stays_blocklisted_after_the_database_is_lost() {
    let d = LocalDevice::new();
    let u = d.open();
    confirm(&u, &d.good(1));
    let broken = d.broken(2);
    let id2 = u.install_from_file(&broken).unwrap().id;
    assert!(u.launch().trial);
    assert_eq!(u.launch().reverted.unwrap().id, id2);
    drop(u);
    lose_database(&d);
    let u = d.open();
    // The same content published again under a newer sequence.
    let again = make_release(
        d.repo.path(),
        &d.repo.path().join("web").join("2"),
        3,
        &Rel::default(),
    )
    .release_path;
    let err = u.install_from_file(&again).unwrap_err();
    assert!(err.to_string().contains("blocklisted"), "{err}");
}

#[test]
fn a_lost_database_serves_the_last_confirmed_bundle_again() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = confirm(&u, &d.good(1));
    let r2 = d.good(2);
    let id2 = confirm(&u, &r2);
    drop(u);
    lose_database(&d);
    let u = d.open();
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::StateReset { .. })));
    let l = u.launch();
    assert_eq!((l.id.as_str(), l.trial), (id2.as_str(), false));
    let s = u.status().unwrap();
    assert_eq!(s.fallback.map(|b| b.id), Some(id1));
    assert_eq!(s.high_water, Some(2));
    assert!(u
        .history()
        .unwrap()
        .iter()
        .any(|h| h.event == "adopted" && h.bundle.as_deref() == Some(id2.as_str())));
    // And the release it runs is still "up to date", not offered again.
    let err = u.install_from_file(&r2).unwrap_err();
    assert!(matches!(err, CoreError::Refused(_)), "{err}");
}

#[test]
fn a_pending_next_is_still_tried_after_the_database_is_lost() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = confirm(&u, &d.good(1));
    let id2 = u.install_from_file(&d.good(2)).unwrap().id;
    drop(u);
    lose_database(&d);
    let u = d.open();
    let l = u.launch();
    assert_eq!((l.id.as_str(), l.trial), (id2.as_str(), true));
    assert_eq!(u.status().unwrap().current.map(|b| b.id), Some(id1));
}

#[test]
fn a_tampered_bundle_is_not_readopted() {
    let d = LocalDevice::new();
    let u = d.open();
    let id1 = confirm(&u, &d.good(1));
    drop(u);
    let bundle = d.data.path().join("bundles").join(&id1);
    fs::write(bundle.join("index.html"), "<h1>not what was signed</h1>").unwrap();
    lose_database(&d);
    let u = d.open();
    assert_eq!(u.launch().id, BUILTIN);
    assert!(u.list().unwrap().is_empty());
    assert!(!bundle.exists(), "an unverifiable bundle is removed");
    assert_eq!(u.status().unwrap().high_water, Some(1));
}

#[test]
fn a_bundle_signed_by_a_key_no_longer_pinned_is_not_readopted() {
    let mut d = LocalDevice::new();
    let u = d.open();
    confirm(&u, &d.good(1));
    drop(u);
    lose_database(&d);
    let mut other = pinned_key();
    other.public_key = {
        use base64::Engine as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
        other.key_id = liveship::crypto::public_key_id(key.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(key.to_bytes())
    };
    d.config.public_keys = vec![other];
    let u = d.open();
    assert_eq!(u.launch().id, BUILTIN);
    assert!(u.list().unwrap().is_empty());
}

#[test]
fn the_install_id_survives_a_rebuild() {
    let d = LocalDevice::new();
    let u = d.open();
    confirm(&u, &d.good(1));
    let id = u.device_id().to_string();
    drop(u);
    lose_database(&d);
    let u = d.open();
    assert_eq!(u.device_id(), id, "the rollout bucket must not change");
    drop(u);
    // Even with the database deleted outright.
    fs::remove_file(d.data.path().join("liveship.db")).unwrap();
    assert_eq!(d.open().device_id(), id);
}
