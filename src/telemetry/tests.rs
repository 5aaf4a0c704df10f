use serde_json::{json, Value};

use super::*;
use crate::config::Config;

const INSTALL_ID: &str = "0123456789abcdef0123456789abcdef";

fn config() -> Config {
    let mut c: Config = serde_json::from_value(json!({
        "appId": "com.example.app",
        "platform": "android",
        "nativeVersion": "2.1.0",
        "nativeBuild": "210",
        "osVersion": "14",
        "statsUrl": "https://stats.example.com/stats",
    }))
    .unwrap();
    c.builtin_version = "builtin".into();
    c
}

fn release(seq: u64) -> ReleaseRef {
    ReleaseRef {
        channel: "production".into(),
        sequence: seq,
        version: format!("1.{seq}.0"),
    }
}

fn event_at(report: &Report, consent: Consent) -> Option<StatsEvent> {
    let c = config();
    let d = Device {
        config: &c,
        custom_id: "user-42",
        install_id: INSTALL_ID,
        channel: "production",
        serving_version: "1.1.0",
        consent,
        secret: "local secret",
        now: 1_700_000_000,
    };
    event(report, &d)
}

#[test]
fn consent_off_makes_no_event_at_all() {
    let r = Report::Confirmed {
        release: release(2),
    };
    assert_eq!(event_at(&r, Consent::Off), None);
    assert!(event_at(&r, Consent::Anonymous).is_some());
}

#[test]
fn the_custom_id_leaves_the_device_under_consent_full_only() {
    let r = Report::Confirmed {
        release: release(2),
    };
    assert_eq!(event_at(&r, Consent::Full).unwrap().custom_id, "user-42");
    assert_eq!(event_at(&r, Consent::Anonymous).unwrap().custom_id, "");
}

#[test]
fn a_full_event_is_capgos_info_object_plus_action_field_by_field() {
    let r = Report::DownloadComplete {
        release: release(3),
        bytes: 4096,
        delta: true,
    };
    let body = serde_json::to_value(event_at(&r, Consent::Full).unwrap()).unwrap();
    let expected = json!({
        "platform": "android",
        "device_id": INSTALL_ID,
        "app_id": "com.example.app",
        "custom_id": "user-42",
        "version_build": "2.1.0",
        "version_code": "210",
        "version_os": "14",
        "version_name": "1.3.0",
        "old_version_name": "",
        "plugin_version": env!("CARGO_PKG_VERSION"),
        "is_emulator": false,
        "is_prod": true,
        "defaultChannel": "production",
        "channel": "production",
        "action": "download_complete",
        "sequence": 3,
        "bytes": 4096,
        "delta": true,
        "at": 1_700_000_000u64,
        "consent": "full",
    });
    assert_eq!(body, expected);
    // A Capgo body parses back into the same type (what the collector does).
    let back: StatsBody = serde_json::from_value(json!([body])).unwrap();
    assert_eq!(back.into_events().len(), 1);
}

#[test]
fn an_anonymous_event_never_carries_the_install_id_and_its_id_is_per_release() {
    let first = event_at(
        &Report::Confirmed {
            release: release(2),
        },
        Consent::Anonymous,
    )
    .unwrap();
    let again = event_at(
        &Report::DownloadComplete {
            release: release(2),
            bytes: 1,
            delta: false,
        },
        Consent::Anonymous,
    )
    .unwrap();
    let other = event_at(
        &Report::Confirmed {
            release: release(3),
        },
        Consent::Anonymous,
    )
    .unwrap();
    let text = serde_json::to_string(&first).unwrap();
    assert!(!text.contains(INSTALL_ID), "{text}");
    assert_eq!(first.consent, "anonymous");
    assert_eq!(
        first.device_id, again.device_id,
        "one release, one pseudonym"
    );
    assert_ne!(
        first.device_id, other.device_id,
        "releases cannot be linked"
    );
    assert_eq!(
        first.device_id.len(),
        36,
        "UUID-shaped: {}",
        first.device_id
    );
    // Another secret (after deleteData) gives an unrelated id for the same release.
    assert_ne!(
        anonymous_id("local secret", "production", 2),
        anonymous_id("new secret", "production", 2)
    );
}

#[test]
fn anonymous_events_about_no_release_cannot_be_linked_to_each_other() {
    let reports = [
        Report::NoUpdate {
            code: "upToDate".into(),
        },
        Report::NoUpdate {
            code: "upToDate".into(),
        },
        Report::NativeUpdateDetected {
            old: "2.0.0".into(),
        },
    ];
    let ids: Vec<String> = reports
        .iter()
        .map(|r| event_at(r, Consent::Anonymous).unwrap().device_id)
        .collect();
    assert_ne!(
        ids[0], ids[1],
        "two checks a day apart must not share an id"
    );
    assert_ne!(ids[1], ids[2]);
    assert!(ids.iter().all(|id| id.len() == 36 && id != INSTALL_ID));
    // Under `full` they all carry the install id.
    let full = event_at(&reports[2], Consent::Full).unwrap();
    assert_eq!(full.device_id, INSTALL_ID);
    assert_eq!(
        (full.old_version_name.as_str(), full.reason),
        ("2.0.0", None),
        "the native versions are fields, not text in `reason`"
    );
}

#[test]
fn failures_are_sent_as_capgos_actions_with_the_typed_check() {
    use crate::check::Check as C;
    use ErrorKind as K;
    let cases = [
        (
            K::Verification,
            Some(C::ReleaseSignatureInvalid),
            false,
            "signature_fail",
            "release.signatureInvalid",
        ),
        (
            K::Verification,
            Some(C::PolicyRollback),
            false,
            "rollback_fail",
            "policy.rollback",
        ),
        (
            K::Verification,
            Some(C::PolicyExpired),
            false,
            "expired_fail",
            "policy.expired",
        ),
        (
            K::Verification,
            Some(C::InstallObjectSize),
            false,
            "size_fail",
            "install.objectSize",
        ),
        (
            K::Verification,
            Some(C::InstallObjectHash),
            false,
            "checksum_fail",
            "install.objectHash",
        ),
        (
            K::Verification,
            Some(C::CryptoSegmentAuth),
            false,
            "decrypt_fail",
            "crypto.segmentAuth",
        ),
        (
            K::Verification,
            Some(C::UnpackUnsafePath),
            false,
            "unzip_fail",
            "unpack.unsafePath",
        ),
        (
            K::Storage,
            None,
            true,
            "insufficient_disk_space",
            "install.insufficientSpace",
        ),
        (K::Network, None, false, "download_fail", "network"),
        (
            K::Network,
            Some(C::FetchTooSlow),
            false,
            "download_fail",
            "fetch.tooSlow",
        ),
    ];
    for (kind, check, no_space, action, reason) in cases {
        let f = Failure::of(kind, check, no_space);
        assert_eq!(
            (f.action, f.reason.as_str()),
            (action, reason),
            "{kind:?} {check:?}"
        );
    }
    let r = Report::Failed {
        release: Some(release(4)),
        failure: Failure::of(K::Verification, Some(C::CryptoSegmentAuth), false),
    };
    let e = event_at(&r, Consent::Full).unwrap();
    assert_eq!((e.action.as_str(), e.sequence), ("decrypt_fail", Some(4)));
    assert_eq!(e.reason.as_deref(), Some("crypto.segmentAuth"));
}

#[test]
fn transitions_name_the_release_and_the_version_before() {
    let e = event_at(
        &Report::TrialStarted {
            release: release(5),
            old_version: "1.4.0".into(),
        },
        Consent::Full,
    )
    .unwrap();
    assert_eq!(
        (
            e.action.as_str(),
            e.version_name.as_str(),
            e.old_version_name.as_str()
        ),
        ("trial_start", "1.5.0", "1.4.0")
    );
    let e = event_at(
        &Report::Reverted {
            release: release(5),
            cause: RevertCause::AppReadyTimeout,
        },
        Consent::Full,
    )
    .unwrap();
    assert_eq!(
        (e.action.as_str(), e.reason.as_deref()),
        ("update_fail", Some("appReadyTimeout"))
    );
    let e = event_at(
        &Report::Reset {
            old_version: "1.5.0".into(),
            to: None,
        },
        Consent::Full,
    )
    .unwrap();
    assert_eq!(
        (e.action.as_str(), e.version_name.as_str()),
        ("reset", "builtin")
    );
}

#[test]
fn a_deletion_request_names_the_old_install_id() {
    let r = deletion_request(&config(), INSTALL_ID, 5);
    let v: Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["action"], DELETE_ACTION);
    assert_eq!(v["device_id"], INSTALL_ID);
    assert_eq!(v["app_id"], "com.example.app");
}

#[test]
fn only_a_permanent_refusal_drops_rows_and_only_2xx_counts_as_taken() {
    assert_eq!(Delivery::of_status(Some(200)), Delivery::Taken);
    assert_eq!(Delivery::of_status(Some(204)), Delivery::Taken);
    assert_eq!(Delivery::of_status(Some(400)), Delivery::Refused);
    assert_eq!(Delivery::of_status(Some(413)), Delivery::Refused);
    assert_eq!(Delivery::of_status(Some(429)), Delivery::Retry);
    assert_eq!(Delivery::of_status(Some(408)), Delivery::Retry);
    assert_eq!(Delivery::of_status(Some(503)), Delivery::Retry);
    assert_eq!(Delivery::of_status(None), Delivery::Retry);
}
