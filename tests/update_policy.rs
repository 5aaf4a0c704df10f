//! Device policy over the network: a real loopback repository of releases packed by
//! `liveship::publish`, a real SQLite device, and `Engine::check`/`update`. Every refusal is
//! shown with its own code, and no refused release costs a bundle download.

mod support;

use liveship::engine::{CheckResult, CoreError, UpdateOutcome};
use liveship::events::Event;
use liveship::release::{Incident, NativeRange, ReleaseError};
use support::{count, device, installed, pinned, take_and_confirm, Device, Net, Publisher};

/// The refusal code of a check that found nothing to take.
fn refusal(d: &Device) -> (String, String) {
    match d.updater.check().unwrap() {
        CheckResult::NoUpdate { code, reason } => (code, reason),
        other => panic!("expected no update, got {other:?}"),
    }
}

fn bundle_gets(net: &Net) -> usize {
    count(&net.server, "/bundles/") + count(&net.server, "/files/")
}

// ---------------------------------------------------------------- signature and key scope

#[test]
fn release_signed_by_an_unpinned_key_is_rejected_before_download() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.public_keys = vec![pinned(&support::fresh_signing_key(), &["*"])];
    let d = Device::open(cfg, dir);
    let err = d.updater.update().unwrap_err();
    assert!(
        matches!(err, CoreError::Release(ReleaseError::UnknownKey { .. })),
        "{err}"
    );
    assert_eq!(bundle_gets(&net), 0);
    assert_eq!(d.updater.current().unwrap().id, "builtin");
}

#[test]
fn key_not_allowed_for_the_channel_is_rejected() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.public_keys = vec![pinned(&p.signing, &["beta"])];
    let d = Device::open(cfg, dir);
    let err = d.updater.check().unwrap_err();
    match err {
        CoreError::Release(ReleaseError::KeyNotAllowedForChannel { channel, .. }) => {
            assert_eq!(channel, "production")
        }
        other => panic!("{other}"),
    }
    assert_eq!(bundle_gets(&net), 0);
}

// ---------------------------------------------------------------- manifest fields

#[test]
fn release_for_another_app_is_refused() {
    let mut p = Publisher::new(false);
    p.app_id = "com.example.other".into();
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let (code, reason) = refusal(&d);
    assert_eq!(code, "wrongApp");
    assert!(reason.contains("com.example.other"), "{reason}");
    assert!(matches!(
        d.updater.update().unwrap(),
        UpdateOutcome::NoUpdate { code, .. } if code == "wrongApp"
    ));
    assert_eq!(bundle_gets(&net), 0);
}

#[test]
fn release_of_another_channel_is_refused() {
    let p = Publisher::new(false);
    let packed = p.pack(1, "one");
    // A misconfigured host serves the production envelope as the beta channel.
    std::fs::copy(&packed.channel_path, p.repo().join("channels/beta.json")).unwrap();
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    d.updater.set_channel(Some("beta")).unwrap();
    let (code, reason) = refusal(&d);
    assert_eq!(code, "wrongChannel", "{reason}");
    assert_eq!(count(&net.server, "/channels/beta.json"), 1);
    assert_eq!(bundle_gets(&net), 0);
}

#[test]
fn release_for_another_platform_is_refused() {
    let p = Publisher::new(false);
    p.pack_with("production", 1, "one", |o| o.platforms = vec!["ios".into()]);
    let net = Net::repo(p.repo());
    let (code, reason) = refusal(&device(&p, &net));
    assert_eq!(code, "wrongPlatform");
    assert!(reason.contains("android"), "{reason}");
}

#[test]
fn release_outside_the_native_version_range_is_refused() {
    let p = Publisher::new(false);
    p.pack_with("production", 1, "one", |o| {
        o.native = NativeRange {
            min: Some("2.0".into()),
            max: None,
        }
    });
    let net = Net::repo(p.repo());
    let (code, reason) = refusal(&device(&p, &net));
    assert_eq!(code, "incompatibleNative");
    assert!(reason.contains("1.0.0"), "{reason}");
}

#[test]
fn expired_release_is_refused_beyond_the_clock_skew_allowance() {
    let p = Publisher::new(false);
    // Expired ten minutes ago: past the five-minute allowance.
    p.pack_with("production", 1, "one", |o| {
        o.now = support::now() - 3600;
        o.expires_in = 3600 - 600;
    });
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let (code, _) = refusal(&d);
    assert_eq!(code, "expired");
    assert_eq!(bundle_gets(&net), 0);
}

#[test]
fn release_expired_within_the_clock_skew_allowance_is_taken() {
    let p = Publisher::new(false);
    // Expired one minute ago by this clock: within the allowance for a device clock that lags.
    p.pack_with("production", 1, "one", |o| {
        o.now = support::now() - 3600;
        o.expires_in = 3600 - 60;
    });
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    assert!(matches!(
        d.updater.check().unwrap(),
        CheckResult::UpdateAvailable { sequence: 1, .. }
    ));
}

// ---------------------------------------------------------------- sequence and blocklist

#[test]
fn older_sequence_is_a_rollback_and_equal_sequence_is_up_to_date() {
    let p = Publisher::new(true);
    let one = p.pack(1, "one");
    let two = p.pack(2, "two");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let id = take_and_confirm(&d);

    let (code, _) = refusal(&d);
    assert_eq!(code, "upToDate");
    // The host (or an attacker on it) serves the older, validly signed release again.
    std::fs::copy(&one.release_path, &two.channel_path).unwrap();
    let gets = bundle_gets(&net);
    let (code, reason) = refusal(&d);
    assert_eq!(code, "rollback");
    assert!(reason.contains("1") && reason.contains("2"), "{reason}");
    assert!(matches!(
        d.updater.update().unwrap(),
        UpdateOutcome::NoUpdate { code, .. } if code == "rollback"
    ));
    assert_eq!(bundle_gets(&net), gets);
    assert_eq!(d.updater.current().unwrap().id, id);
}

#[test]
fn reverted_content_is_blocklisted_and_never_downloaded_again() {
    let p = Publisher::new(true);
    p.pack(1, "broken");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let (id, _) = installed(d.updater.update().unwrap());
    assert!(d.updater.launch().trial);
    // The page never calls notifyAppReady: the next launch reverts and blocklists it.
    let relaunch = d.updater.launch();
    assert_eq!(relaunch.id, "builtin");
    assert_eq!(relaunch.reverted.as_ref().unwrap().id, id);

    // The publisher re-publishes the same content under a new sequence.
    p.pack(2, "broken");
    let gets = bundle_gets(&net);
    let (code, reason) = refusal(&d);
    assert_eq!(code, "blocklisted", "{reason}");
    assert!(matches!(
        d.updater.update().unwrap(),
        UpdateOutcome::NoUpdate { code, .. } if code == "blocklisted"
    ));
    assert_eq!(
        bundle_gets(&net),
        gets,
        "a blocklisted release was downloaded"
    );
}

// ---------------------------------------------------------------- rollout

#[test]
fn zero_percent_rollout_is_refused_and_hundred_percent_taken() {
    let p = Publisher::new(false);
    p.pack_with("production", 1, "one", |o| o.rollout = Some(0));
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let (code, _) = refusal(&d);
    assert_eq!(code, "notInRollout");
    assert_eq!(bundle_gets(&net), 0);

    p.pack_with("production", 2, "two", |o| o.rollout = Some(100));
    let (_, seq) = installed(d.updater.update().unwrap());
    assert_eq!(seq, 2);
}

#[test]
fn rollout_bucket_is_stable_for_one_device() {
    let p = Publisher::new(false);
    let packed = p.pack_with("production", 1, "one", |o| o.rollout = Some(50));
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let cfg = p.config(&net.update_url(), dir.path());
    let d = Device::open(cfg.clone(), dir);
    let bucket = liveship::policy::rollout_bucket(&d.updater.device_id(), &packed.manifest);
    let expected_in = bucket < 50;
    let first = d.updater.check().unwrap();
    assert_eq!(
        matches!(first, CheckResult::UpdateAvailable { .. }),
        expected_in,
        "{first:?} for bucket {bucket}"
    );
    if let CheckResult::NoUpdate { reason, .. } = &first {
        assert!(reason.contains(&format!("bucket {bucket}")), "{reason}");
    }
    // The same answer on every check and after the app restarts (same device id).
    assert_eq!(d.updater.check().unwrap(), first);
    let id = d.updater.device_id().to_owned();
    let Device { dir, updater, .. } = d;
    drop(updater);
    let again = Device::open(cfg, dir);
    assert_eq!(again.updater.device_id(), id);
    assert_eq!(again.updater.check().unwrap(), first);
}

// ---------------------------------------------------------------- incidents

#[test]
fn signed_revocation_of_the_installed_release_reverts_it() {
    let p = Publisher::new(true);
    p.pack(1, "bad");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let id = take_and_confirm(&d);
    assert_eq!(d.updater.current().unwrap().id, id);

    p.pack_with("production", 2, "fixed", |o| {
        o.incident = Some(Incident {
            revoked_sequences: vec![1],
            ..Default::default()
        })
    });
    d.events.clear();
    let result = d.updater.check().unwrap();
    assert!(matches!(
        result,
        CheckResult::UpdateAvailable { sequence: 2, .. }
    ));
    let events = d.events.events();
    assert!(events.iter().any(|e| matches!(e,
        Event::UpdateFailed { bundle_id, reason, .. } if *bundle_id == id && reason.contains("revoked"))));
    assert!(events.iter().any(|e| matches!(e,
        Event::ReloadRequired { bundle_id, path: None, .. } if bundle_id == "builtin")));
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    assert_eq!(d.updater.launch().id, "builtin");
}

#[test]
fn signed_revert_to_builtin_is_obeyed() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let id = take_and_confirm(&d);
    p.pack_with("production", 2, "two", |o| {
        o.incident = Some(Incident {
            revert_to_builtin: true,
            ..Default::default()
        })
    });
    d.events.clear();
    let gets = bundle_gets(&net);
    let (code, reason) = refusal(&d);
    assert_eq!(code, "incident");
    assert!(reason.contains("built-in"), "{reason}");
    assert!(d.events.events().iter().any(|e| matches!(e,
        Event::ReloadRequired { bundle_id, .. } if bundle_id == "builtin")));
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    assert_eq!(d.updater.launch().id, "builtin");
    assert_eq!(bundle_gets(&net), gets);
    // The bundle was not blamed: only its role was dropped.
    assert!(d.updater.list().unwrap().iter().any(|b| b.id == id));
}

#[test]
fn replayed_old_incident_is_ignored() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let two = p.pack_with("production", 2, "two", |o| {
        o.incident = Some(Incident {
            revoked_sequences: vec![3],
            revert_to_builtin: true,
            ..Default::default()
        })
    });
    let three = p.pack(3, "three");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let id = take_and_confirm(&d);
    assert_eq!(d.updater.status().unwrap().high_water, Some(3));

    // Someone replays the old, validly signed release 2 with its incident fields.
    std::fs::copy(&two.release_path, &three.channel_path).unwrap();
    d.events.clear();
    let (code, _) = refusal(&d);
    assert_eq!(code, "rollback");
    assert!(!d
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::UpdateFailed { .. } | Event::ReloadRequired { .. })));
    assert_eq!(d.updater.current().unwrap().id, id);
    assert_eq!(d.updater.launch().id, id);
}

#[test]
fn expired_incident_is_not_obeyed() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let id = take_and_confirm(&d);
    // A newer, validly signed instruction that expired before this device saw it.
    p.pack_with("production", 2, "two", |o| {
        o.now = support::now() - 3600;
        o.expires_in = 600;
        o.incident = Some(Incident {
            revoked_sequences: vec![1],
            revert_to_builtin: true,
            ..Default::default()
        })
    });
    d.events.clear();
    let (code, _) = refusal(&d);
    assert_eq!(code, "expired");
    assert!(!d
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::UpdateFailed { .. } | Event::ReloadRequired { .. })));
    assert_eq!(d.updater.current().unwrap().id, id);
}

// ---------------------------------------------------------------- publish::revoke (the guard's)

fn revoke(p: &Publisher, sequences: &[u64]) -> liveship::publish::Revoked {
    liveship::publish::revoke(&liveship::publish::RevokeOptions {
        repo: &p.repo(),
        channel: "production",
        sequences,
        signing_key: &p.signing,
        expires_in: 7 * 86_400,
        now: support::now(),
    })
    .unwrap()
}

#[test]
fn a_revoked_release_is_reverted_on_devices_and_the_last_good_one_serves() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let running = device(&p, &net);
    let first = take_and_confirm(&running);
    p.pack(2, "two");
    let bad = take_and_confirm(&running);
    assert_ne!(bad, first);
    let fresh = device(&p, &net);

    let r = revoke(&p, &[2]);
    assert_eq!((r.manifest.sequence, r.base), (3, Some(1)));
    let incident = r.manifest.incident.clone().unwrap();
    assert_eq!(incident.revoked_sequences, [2]);
    assert!(!incident.revert_to_builtin);
    assert_eq!(
        r.manifest.bundle,
        p_manifest(&p, 1).bundle,
        "release 1's content"
    );

    // The device running 2 reverts to 1 at its next check.
    let _ = running.updater.update().unwrap();
    let now = running.updater.launch();
    assert_eq!(running.updater.current().unwrap().version, "1.0.1");
    assert_ne!(now.id, bad);
    assert!(running
        .updater
        .list()
        .unwrap()
        .iter()
        .any(|b| b.id == bad && b.failed_reason.is_some()));
    // A device that never had 2 never takes it: it gets release 1's content.
    let _ = fresh.updater.update().unwrap();
    let served = fresh.updater.launch();
    assert_eq!(served.version, "1.0.1");
}

#[test]
fn revoking_a_release_that_a_good_one_already_followed_carries_the_newer_one() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    p.pack(2, "two");
    p.pack(3, "three");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    take_and_confirm(&d);
    let r = revoke(&p, &[2]);
    assert_eq!(
        (r.manifest.sequence, r.base),
        (4, Some(3)),
        "never back to 1"
    );
    assert_eq!(r.manifest.bundle, p_manifest(&p, 3).bundle);
    let _ = d.updater.update().unwrap();
    assert_eq!(d.updater.launch().version, "1.0.3");
}

#[test]
fn two_bad_releases_revoked_together_send_devices_back_to_the_good_one_and_their_content_stays_out()
{
    let p = Publisher::new(true);
    p.pack(1, "one");
    p.pack(2, "two");
    p.pack(3, "three");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    take_and_confirm(&d);
    let r = revoke(&p, &[2, 3]);
    assert_eq!((r.manifest.sequence, r.base), (4, Some(1)));
    let incident = r.manifest.incident.clone().unwrap();
    assert_eq!(incident.revoked_sequences, [2, 3]);
    let mut bad = vec![
        p_manifest(&p, 2).content_id(),
        p_manifest(&p, 3).content_id(),
    ];
    bad.sort();
    assert_eq!(
        incident.revoked_sha256, bad,
        "the bad content is revoked too"
    );
    let _ = d.updater.update().unwrap();
    assert_eq!(d.updater.launch().version, "1.0.1");
}

#[test]
fn a_second_revocation_never_republishes_bad_content_an_earlier_incident_carried() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    p.pack(2, "two");
    p.pack(3, "three");
    let net = Net::repo(p.repo());
    // 2 is revoked first; its incident (4) carries 3's content. Then 3 turns out bad too: the
    // next incident must carry neither 3 nor 4 (3's content under another sequence), but 1.
    let first = revoke(&p, &[2]);
    assert_eq!(first.base, Some(3));
    let d = device(&p, &net);
    take_and_confirm(&d);
    assert_eq!(d.updater.current().unwrap().version, "1.0.3");
    let r = revoke(&p, &[3]);
    assert_eq!((r.manifest.sequence, r.base), (5, Some(1)));
    let incident = r.manifest.incident.clone().unwrap();
    assert_eq!(incident.revoked_sequences, [2, 3], "cumulative");
    assert_eq!(r.manifest.bundle, p_manifest(&p, 1).bundle);
    let _ = d.updater.update().unwrap();
    assert_eq!(d.updater.launch().version, "1.0.1");
    assert!(d
        .updater
        .list()
        .unwrap()
        .iter()
        .any(|b| b.version == "1.0.3" && b.failed_reason.is_some()));
}

#[test]
fn revoking_the_first_release_of_a_channel_sends_devices_to_the_built_in_bundle() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    take_and_confirm(&d);
    let r = revoke(&p, &[1]);
    assert_eq!(r.base, None);
    assert!(r.manifest.incident.as_ref().unwrap().revert_to_builtin);
    let _ = d.updater.update();
    assert_eq!(d.updater.launch().id, "builtin");
}

#[test]
fn revoke_refuses_a_sequence_the_channel_never_published() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let err = liveship::publish::revoke(&liveship::publish::RevokeOptions {
        repo: &p.repo(),
        channel: "production",
        sequences: &[9],
        signing_key: &p.signing,
        expires_in: 86_400,
        now: support::now(),
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("no release 9"), "{err}");
}

fn p_manifest(p: &Publisher, seq: u64) -> liveship::release::Manifest {
    let path = p.repo().join(format!("releases/production.{seq}.json"));
    let bytes = std::fs::read(path).unwrap();
    liveship::release::verify_envelope(&bytes, &[pinned(&p.signing, &["*"])])
        .unwrap()
        .manifest
}
