//! Manifest payload bytes, signed here with a pinned key so that every input reaches the
//! payload's parse and field rules inside `release::verify_envelope`; then the device policy
//! (`policy::evaluate`) on what verified.
//! Defends: serde's decoding of the signed payload (unknown fields, types, ranges), every rule
//! of `Manifest::check_constraints`, the key's channel restriction, and that the manifest the
//! publisher would write back (`manifest_bytes`) reads as the same manifest.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use liveship::config::Config;
use liveship::policy::{self, DeviceFacts};
use liveship::release::{self, Manifest, ReleaseError};

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        serde_json::from_value(serde_json::json!({
            "appId": "com.example.app",
            "platform": "android",
            "nativeVersion": "1.2.0",
        }))
        .expect("the fixed device config parses")
    })
}

fn envelope(payload: &[u8], key: &ed25519_dalek::SigningKey) -> Vec<u8> {
    serde_json::to_vec(&release::sign_envelope(payload, key)).expect("an envelope serializes")
}

fuzz_target!(|data: &[u8]| {
    let keys = liveship_fuzz::pinned_keys();
    let verified = release::verify_envelope(&envelope(data, &liveship_fuzz::signing_key()), &keys);

    // The same decision, taken by hand: verification adds nothing to a well-signed payload but
    // the parse, the format and the field rules.
    let parsed = serde_json::from_slice::<Manifest>(data);
    let expected = match &parsed {
        Ok(m) if m.format != release::FORMAT_VERSION => Err("format"),
        Ok(m) => m.check_constraints().map_err(|_| "constraints"),
        Err(_) => Err("parse"),
    };
    match (&verified, expected) {
        (Ok(v), Ok(())) => assert_eq!(Some(&v.manifest), parsed.as_ref().ok()),
        (Err(ReleaseError::ManifestMalformed(_)), Err("parse")) => {}
        (Err(ReleaseError::UnsupportedFormat { .. }), Err("format")) => {}
        (Err(ReleaseError::FieldInvalid { .. }), Err("constraints")) => {}
        (got, want) => panic!("verify_envelope gave {got:?}, expected {want:?}"),
    }

    // The beta key may sign only for `beta`.
    let beta = release::verify_envelope(&envelope(data, &liveship_fuzz::beta_signing_key()), &keys);
    match (&verified, &beta) {
        (Ok(v), Ok(_)) => assert_eq!(v.manifest.channel, "beta"),
        (Ok(v), Err(ReleaseError::KeyNotAllowedForChannel { .. })) => {
            assert_ne!(v.manifest.channel, "beta")
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("the two keys disagree beyond the channel rule: {a:?} / {b:?}"),
    }

    let Ok(v) = verified else { return };
    let m = v.manifest;

    // What the publisher writes for this manifest reads back as the same manifest, and verifies.
    let canonical = release::manifest_bytes(&m);
    let again: Manifest = serde_json::from_slice(&canonical).expect("canonical bytes parse");
    assert_eq!(again, m);
    release::verify_envelope(&envelope(&canonical, &liveship_fuzz::signing_key()), &keys)
        .expect("the canonical form verifies");

    let _ = m.content_id();
    for now in [0, m.issued_at, m.expires_at, u64::MAX] {
        let facts = DeviceFacts {
            config: config(),
            channel: &m.channel,
            device_id: "device-1",
            high_water: m.sequence.checked_sub(1),
            blocked: None,
            now,
        };
        let _ = policy::evaluate(&m, &facts);
        let _ = policy::check_expiry(&m, now);
    }
});
