//! Attacks on the signed release (FORMAT.md, "Verification"): every change to a signed
//! envelope, every key that is not allowed to sign, and every malformed input is rejected with
//! the error variant that names the failed check; wrapped content keys do not open when altered
//! or under another bundle key.

mod support;

use base64::engine::general_purpose::{STANDARD as B64, STANDARD_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;

use liveship::crypto::{self, CryptoError, WRAPPED_KEY_SIZE};
use liveship::policy::{check_expiry, Refusal, CLOCK_SKEW_SECS};
use liveship::release::{
    self, manifest_bytes, sign_envelope, verify_envelope, BundleObject, Delta, Encryption,
    Envelope, EnvelopeDefect, FileEntry, Incident, Manifest, NativeRange, PinnedKey, ReleaseError,
    MAX_ENVELOPE_BYTES, PAYLOAD_TYPE,
};
use support::pinned;

fn signing_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// A manifest with every optional field present, so that every field is attacked.
fn full_manifest() -> Manifest {
    let wrapped = crypto::wrap_content_key(&[0x42; 32], &[0x11; 32], &[3; 12]);
    Manifest {
        format: release::FORMAT_VERSION,
        app_id: "com.example.app".into(),
        channel: "production".into(),
        sequence: 7,
        version: "2.0.1".into(),
        issued_at: 1_767_225_600,
        expires_at: 1_769_817_600,
        native: NativeRange {
            min: Some("1.0.0".into()),
            max: Some("2.9.9".into()),
        },
        platforms: vec!["android".into(), "ios".into()],
        bundle: BundleObject {
            url: "../bundles/aa.zip.sealed".into(),
            size: 1234,
            sha256: "aa".repeat(32),
            encryption: Some(Encryption {
                alg: crypto::STREAM_ALG.into(),
                key_id: crypto::bundle_key_id(&[0x42; 32]),
                wrapped_key: B64.encode(wrapped),
                nonce_prefix: "00010203040506".into(),
            }),
        },
        files: vec![
            FileEntry {
                path: "index.html".into(),
                size: 10,
                sha256: "bb".repeat(32),
            },
            FileEntry {
                path: "assets/app.js".into(),
                size: 20,
                sha256: "cc".repeat(32),
            },
        ],
        delta: Some(Delta {
            url: "../files/production/7/".into(),
        }),
        rollout: Some(50),
        incident: Some(Incident {
            revoked_sequences: vec![5],
            revoked_sha256: vec!["dd".repeat(32)],
            revert_to_builtin: false,
        }),
    }
}

fn envelope_bytes(env: &Envelope) -> Vec<u8> {
    serde_json::to_vec(env).unwrap()
}

fn signed(manifest: &Manifest, key: &SigningKey) -> Envelope {
    sign_envelope(&manifest_bytes(manifest), key)
}

#[test]
fn untampered_envelope_verifies() {
    let key = signing_key(1);
    let env = signed(&full_manifest(), &key);
    let v = verify_envelope(&envelope_bytes(&env), &[pinned(&key, &["*"])]).unwrap();
    assert_eq!(v.manifest, full_manifest());
    assert_eq!(v.key_id, pinned(&key, &[]).key_id);
}

/// Every leaf of the manifest JSON (and every array element), as a JSON pointer.
fn leaf_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| leaf_pointers(v, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaf_pointers(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

/// The same value with a minimal change that keeps it well-typed.
fn altered(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::from(n.as_u64().unwrap() ^ 1),
        Value::String(s) if s.is_empty() => Value::from("x"),
        Value::String(s) => {
            // Change the last character, keeping hex hex and lengths equal.
            let mut c: Vec<char> = s.chars().collect();
            let last = c.last_mut().unwrap();
            *last = if *last == '0' { '1' } else { '0' };
            Value::from(c.into_iter().collect::<String>())
        }
        other => panic!("unexpected leaf {other}"),
    }
}

#[test]
fn every_manifest_field_changed_under_the_original_signature_is_rejected() {
    let key = signing_key(1);
    let keys = [pinned(&key, &["*"])];
    let env = signed(&full_manifest(), &key);
    let original: Value = serde_json::to_value(full_manifest()).unwrap();
    let mut pointers = Vec::new();
    leaf_pointers(&original, String::new(), &mut pointers);
    // Every top-level field of the manifest has at least one leaf attacked.
    for field in original.as_object().unwrap().keys() {
        assert!(
            pointers.iter().any(|p| p.starts_with(&format!("/{field}"))),
            "field {field} not covered"
        );
    }
    assert!(pointers.len() >= 25, "only {} leaves", pointers.len());

    for p in &pointers {
        let mut m = original.clone();
        let leaf = m.pointer_mut(p).unwrap();
        *leaf = altered(leaf);
        let changed: Manifest = serde_json::from_value(m).expect("altered manifest still parses");
        assert_ne!(changed, full_manifest(), "{p} was not changed");
        let forged = Envelope {
            payload: B64.encode(manifest_bytes(&changed)),
            ..env.clone()
        };
        match verify_envelope(&envelope_bytes(&forged), &keys) {
            Err(ReleaseError::SignatureInvalid { key_id }) => assert_eq!(key_id, keys[0].key_id),
            other => panic!("{p} changed: expected SignatureInvalid, got {other:?}"),
        }
    }
}

#[test]
fn reencoding_the_same_manifest_differently_is_rejected() {
    // The signature covers bytes, not meaning: pretty-printed JSON of the same manifest fails.
    let key = signing_key(1);
    let env = signed(&full_manifest(), &key);
    let forged = Envelope {
        payload: B64.encode(serde_json::to_vec_pretty(&full_manifest()).unwrap()),
        ..env
    };
    assert!(matches!(
        verify_envelope(&envelope_bytes(&forged), &[pinned(&key, &["*"])]),
        Err(ReleaseError::SignatureInvalid { .. })
    ));
}

#[test]
fn altered_signature_bytes_are_rejected() {
    let key = signing_key(1);
    let keys = [pinned(&key, &["*"])];
    let env = signed(&full_manifest(), &key);
    let sig = B64.decode(&env.signatures[0].sig).unwrap();
    for i in [0, 17, 31, 32, 50, 63] {
        let mut bad = sig.clone();
        bad[i] ^= 0x80;
        let mut forged = env.clone();
        forged.signatures[0].sig = B64.encode(bad);
        assert!(
            matches!(
                verify_envelope(&envelope_bytes(&forged), &keys),
                Err(ReleaseError::SignatureInvalid { .. })
            ),
            "byte {i}"
        );
    }
    // Truncated and not-base64 signatures.
    for sig in [B64.encode(&sig[..63]), "!!!!".to_string(), String::new()] {
        let mut forged = env.clone();
        forged.signatures[0].sig = sig;
        assert!(matches!(
            verify_envelope(&envelope_bytes(&forged), &keys),
            Err(ReleaseError::SignatureInvalid { .. })
        ));
    }
}

#[test]
fn malleated_signature_with_s_plus_group_order_is_rejected() {
    // S + L is the same scalar modulo L: accepting it would make signatures malleable.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let key = signing_key(1);
    let env = signed(&full_manifest(), &key);
    let mut sig = B64.decode(&env.signatures[0].sig).unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let t = sig[32 + i] as u16 + L[i] as u16 + carry;
        sig[32 + i] = t as u8;
        carry = t >> 8;
    }
    assert_eq!(carry, 0);
    let mut forged = env.clone();
    forged.signatures[0].sig = B64.encode(&sig);
    assert!(matches!(
        verify_envelope(&envelope_bytes(&forged), &[pinned(&key, &["*"])]),
        Err(ReleaseError::SignatureInvalid { .. })
    ));
}

#[test]
fn small_order_public_key_cannot_be_used_to_forge() {
    // With the identity point as public key, R = identity and S = 0 satisfy the cofactorless
    // equation for every message: a lax `verify` accepts it, `verify_strict` must not.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = PinnedKey {
        key_id: crypto::public_key_id(&identity),
        public_key: B64.encode(identity),
        channels: vec!["*".into()],
    };
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&identity);
    let payload = manifest_bytes(&full_manifest());
    let lax = VerifyingKey::from_bytes(&identity).unwrap().verify(
        &release::pae(PAYLOAD_TYPE, &payload),
        &Signature::from_bytes(&sig),
    );
    assert!(lax.is_ok(), "the forgery works against a lax check");
    let forged = Envelope {
        payload_type: PAYLOAD_TYPE.into(),
        payload: B64.encode(&payload),
        signatures: vec![release::EnvelopeSignature {
            keyid: weak.key_id.clone(),
            sig: B64.encode(sig),
        }],
    };
    assert!(matches!(
        verify_envelope(&envelope_bytes(&forged), &[weak]),
        Err(ReleaseError::SignatureInvalid { .. })
    ));
}

#[test]
fn signature_by_another_key_under_a_pinned_key_id_is_rejected() {
    let pinned_key = signing_key(1);
    let attacker = signing_key(2);
    let mut env = signed(&full_manifest(), &attacker);
    env.signatures[0].keyid = pinned(&pinned_key, &[]).key_id;
    match verify_envelope(&envelope_bytes(&env), &[pinned(&pinned_key, &["*"])]) {
        Err(ReleaseError::SignatureInvalid { key_id }) => {
            assert_eq!(key_id, pinned(&pinned_key, &[]).key_id)
        }
        other => panic!("expected SignatureInvalid, got {other:?}"),
    }
}

#[test]
fn signature_by_an_unpinned_key_is_rejected() {
    let attacker = signing_key(2);
    let env = signed(&full_manifest(), &attacker);
    match verify_envelope(&envelope_bytes(&env), &[pinned(&signing_key(1), &["*"])]) {
        Err(ReleaseError::UnknownKey { key_ids, more }) => {
            assert_eq!(key_ids, vec![pinned(&attacker, &[]).key_id]);
            assert_eq!(more, 0);
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    // No pinned keys at all.
    assert!(matches!(
        verify_envelope(&envelope_bytes(&env), &[]),
        Err(ReleaseError::UnknownKey { .. })
    ));
}

/// The key ids in the error are the attacker's: 1000 signatures with 1000-character ids give a
/// message listing 8 ids of at most 64 characters and the count of the rest.
#[test]
fn unknown_key_error_lists_a_bounded_number_of_cut_key_ids() {
    let attacker = signing_key(2);
    let mut env = signed(&full_manifest(), &attacker);
    let sig = env.signatures[0].sig.clone();
    env.signatures = (0..1000)
        .map(|i| release::EnvelopeSignature {
            keyid: format!("{i:04}{}", "é".repeat(996)),
            sig: sig.clone(),
        })
        .collect();
    let err = verify_envelope(&envelope_bytes(&env), &[pinned(&signing_key(1), &["*"])])
        .expect_err("no pinned key signed");
    let text = err.to_string();
    match err {
        ReleaseError::UnknownKey { key_ids, more } => {
            assert_eq!(key_ids.len(), release::LISTED_KEY_IDS);
            assert_eq!(more, 1000 - release::LISTED_KEY_IDS);
            assert_eq!(
                key_ids[0],
                format!("0000{}…", "é".repeat(release::LISTED_KEY_ID_CHARS - 4))
            );
            assert!(key_ids[7].starts_with("0007"));
        }
        other => panic!("expected UnknownKey, got {other:?}"),
    }
    assert!(text.ends_with("…\"] and 992 more)"), "{text}");
    assert!(!text.contains("0008"), "{text}");
    assert!(text.len() < 1200, "{} bytes: {text}", text.len());
}

#[test]
fn bad_signature_by_a_pinned_key_is_not_bypassed_by_a_second_signature() {
    let key = signing_key(1);
    let mut env = signed(&full_manifest(), &key);
    let good = env.signatures[0].clone();
    let mut bad = good.clone();
    bad.sig = B64.encode([0u8; 64]);
    env.signatures = vec![bad, good];
    assert!(matches!(
        verify_envelope(&envelope_bytes(&env), &[pinned(&key, &["*"])]),
        Err(ReleaseError::SignatureInvalid { .. })
    ));
}

#[test]
fn envelope_without_signatures_is_rejected() {
    let key = signing_key(1);
    let mut env = signed(&full_manifest(), &key);
    env.signatures.clear();
    assert!(matches!(
        verify_envelope(&envelope_bytes(&env), &[pinned(&key, &["*"])]),
        Err(ReleaseError::NoSignatures)
    ));
}

#[test]
fn key_scoped_to_other_channels_cannot_sign_for_this_one() {
    let qa = signing_key(3);
    let env = signed(&full_manifest(), &qa); // channel "production"
    let keys = [pinned(&qa, &["beta", "qa"])];
    match verify_envelope(&envelope_bytes(&env), &keys) {
        Err(ReleaseError::KeyNotAllowedForChannel { key_id, channel }) => {
            assert_eq!(key_id, keys[0].key_id);
            assert_eq!(channel, "production");
        }
        other => panic!("expected KeyNotAllowedForChannel, got {other:?}"),
    }
    // The same key signs for a channel it is scoped to.
    let mut beta = full_manifest();
    beta.channel = "beta".into();
    verify_envelope(&envelope_bytes(&signed(&beta, &qa)), &keys).unwrap();
    // A channel name that merely contains an allowed one is not allowed.
    beta.channel = "beta2".into();
    assert!(matches!(
        verify_envelope(&envelope_bytes(&signed(&beta, &qa)), &keys),
        Err(ReleaseError::KeyNotAllowedForChannel { .. })
    ));
}

#[test]
fn expired_manifest_is_rejected_after_the_clock_skew_allowance() {
    let m = full_manifest();
    check_expiry(&m, m.issued_at).unwrap();
    check_expiry(&m, m.expires_at).unwrap();
    check_expiry(&m, m.expires_at + CLOCK_SKEW_SECS).unwrap();
    assert_eq!(CLOCK_SKEW_SECS, 300);
    match check_expiry(&m, m.expires_at + CLOCK_SKEW_SECS + 1) {
        Err(Refusal::Expired {
            channel,
            sequence,
            expires_at,
            now,
            ..
        }) => {
            assert_eq!((channel.as_str(), sequence), ("production", 7));
            assert_eq!(expires_at, m.expires_at);
            assert_eq!(now, m.expires_at + CLOCK_SKEW_SECS + 1);
        }
        other => panic!("expected Expired, got {other:?}"),
    }
}

#[test]
fn changed_payload_type_is_rejected() {
    let key = signing_key(1);
    let mut env = signed(&full_manifest(), &key);
    for t in ["application/json", "application/vnd.in-toto+json", ""] {
        env.payload_type = t.into();
        match verify_envelope(&envelope_bytes(&env), &[pinned(&key, &["*"])]) {
            Err(ReleaseError::PayloadType { got }) => assert_eq!(got, t),
            other => panic!("expected PayloadType, got {other:?}"),
        }
    }
}

#[test]
fn oversized_envelope_is_rejected_before_parsing() {
    let key = signing_key(1);
    let mut bytes = envelope_bytes(&signed(&full_manifest(), &key));
    // Trailing whitespace is valid JSON: only the size check can reject it.
    bytes.resize(MAX_ENVELOPE_BYTES + 1, b' ');
    match verify_envelope(&bytes, &[pinned(&key, &["*"])]) {
        Err(ReleaseError::EnvelopeTooLarge { size, limit }) => {
            assert_eq!((size, limit), (MAX_ENVELOPE_BYTES + 1, MAX_ENVELOPE_BYTES))
        }
        other => panic!("expected EnvelopeTooLarge, got {other:?}"),
    }
    bytes.truncate(MAX_ENVELOPE_BYTES);
    verify_envelope(&bytes, &[pinned(&key, &["*"])]).unwrap();
}

#[test]
fn malformed_envelopes_are_rejected() {
    let key = signing_key(1);
    let keys = [pinned(&key, &["*"])];
    let env = signed(&full_manifest(), &key);
    let good = String::from_utf8(envelope_bytes(&env)).unwrap();
    let unpadded = Envelope {
        payload: STANDARD_NO_PAD.encode(B64.decode(&env.payload).unwrap()),
        ..env.clone()
    };
    assert_ne!(
        unpadded.payload, env.payload,
        "payload length needs padding"
    );
    let not_json = |d: &EnvelopeDefect| matches!(d, EnvelopeDefect::NotJson { .. });
    let not_dsse = |d: &EnvelopeDefect| matches!(d, EnvelopeDefect::NotDsse { .. });
    let not_b64 = |d: &EnvelopeDefect| *d == EnvelopeDefect::PayloadNotBase64;
    type Expected<'a> = &'a dyn Fn(&EnvelopeDefect) -> bool;
    let cases: [(String, Expected); 6] = [
        (String::new(), &not_json),
        ("[]".into(), &not_dsse),
        (good[..good.len() - 1].to_string(), &not_json),
        (good.replace("\"payload\"", "\"body\""), &not_dsse),
        (
            String::from_utf8(envelope_bytes(&Envelope {
                payload: "not base64!".into(),
                ..env.clone()
            }))
            .unwrap(),
            &not_b64,
        ),
        (
            String::from_utf8(envelope_bytes(&unpadded)).unwrap(),
            &not_b64,
        ),
    ];
    for (c, expected) in cases {
        let got = verify_envelope(c.as_bytes(), &keys);
        assert!(
            matches!(&got, Err(ReleaseError::EnvelopeMalformed(d)) if expected(d)),
            "{c:.80}: {got:?}"
        );
    }
}

#[test]
fn signed_payload_that_is_not_a_manifest_is_rejected() {
    let key = signing_key(1);
    let keys = [pinned(&key, &["*"])];
    let mut unknown_field = serde_json::to_value(full_manifest()).unwrap();
    unknown_field["extra"] = Value::from(1);
    let mut missing_field = serde_json::to_value(full_manifest()).unwrap();
    missing_field.as_object_mut().unwrap().remove("expires_at");
    let mut wrong_type = serde_json::to_value(full_manifest()).unwrap();
    wrong_type["sequence"] = Value::from("7");
    let payloads = [
        b"not json".to_vec(),
        b"{}".to_vec(),
        serde_json::to_vec(&unknown_field).unwrap(),
        serde_json::to_vec(&missing_field).unwrap(),
        serde_json::to_vec(&wrong_type).unwrap(),
    ];
    for p in payloads {
        let env = sign_envelope(&p, &key);
        assert!(
            matches!(
                verify_envelope(&envelope_bytes(&env), &keys),
                Err(ReleaseError::ManifestMalformed(_))
            ),
            "{}",
            String::from_utf8_lossy(&p)
        );
    }
}

#[test]
fn unsupported_format_version_is_rejected() {
    let key = signing_key(1);
    for format in [0, 2, u32::MAX] {
        let mut m = full_manifest();
        m.format = format;
        match verify_envelope(&envelope_bytes(&signed(&m, &key)), &[pinned(&key, &["*"])]) {
            Err(ReleaseError::UnsupportedFormat { got }) => assert_eq!(got, format),
            other => panic!("expected UnsupportedFormat, got {other:?}"),
        }
    }
}

#[test]
fn wrong_bundle_key_does_not_unwrap_the_content_key() {
    let wrapped = crypto::wrap_content_key(&[0x42; 32], &[0x11; 32], &[3; 12]);
    assert_eq!(
        crypto::unwrap_content_key(&[0x42; 32], &wrapped).unwrap(),
        [0x11; 32]
    );
    let mut other = [0x42; 32];
    other[31] ^= 1;
    match crypto::unwrap_content_key(&other, &wrapped) {
        Err(CryptoError::UnwrapFailed { key_id }) => {
            assert_eq!(key_id, crypto::bundle_key_id(&other))
        }
        other => panic!("expected UnwrapFailed, got {other:?}"),
    }
}

#[test]
fn altered_wrapped_key_does_not_unwrap() {
    let bundle_key = [0x42; 32];
    let wrapped = crypto::wrap_content_key(&bundle_key, &[0x11; 32], &[3; 12]);
    assert_eq!(wrapped.len(), WRAPPED_KEY_SIZE);
    // Every byte: nonce, ciphertext and tag.
    for i in 0..wrapped.len() {
        let mut bad = wrapped.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(
                crypto::unwrap_content_key(&bundle_key, &bad),
                Err(CryptoError::UnwrapFailed { .. })
            ),
            "byte {i}"
        );
    }
    for len in [0, WRAPPED_KEY_SIZE - 1, WRAPPED_KEY_SIZE + 1] {
        let mut bad = wrapped.clone();
        bad.resize(len, 0);
        match crypto::unwrap_content_key(&bundle_key, &bad) {
            Err(CryptoError::WrappedKeyLength { got, expected }) => {
                assert_eq!((got, expected), (len, WRAPPED_KEY_SIZE))
            }
            other => panic!("expected WrappedKeyLength, got {other:?}"),
        }
    }
}

#[test]
fn signed_manifest_breaking_a_format_constraint_is_rejected() {
    // Even a pinned key cannot get a manifest past verification that breaks FORMAT.md section 2.
    type Mutation = fn(&mut Manifest);
    let cases: [(&str, Mutation); 18] = [
        ("channel", |m| m.channel = "Production".into()),
        ("channel", |m| m.channel = "".into()),
        ("channel", |m| m.channel = "-beta".into()),
        ("channel", |m| m.channel = "a".repeat(65)),
        ("channel", |m| m.channel = "../prod".into()),
        ("expires_at", |m| m.expires_at = m.issued_at),
        ("bundle.sha256", |m| m.bundle.sha256 = "AA".repeat(32)),
        ("bundle.sha256", |m| m.bundle.sha256 = "aa".repeat(31)),
        ("bundle.encryption.alg", |m| {
            m.bundle.encryption.as_mut().unwrap().alg = "A128CBC".into()
        }),
        ("bundle.encryption.key_id", |m| {
            m.bundle.encryption.as_mut().unwrap().key_id = "xyz".into()
        }),
        ("bundle.encryption.nonce_prefix", |m| {
            m.bundle.encryption.as_mut().unwrap().nonce_prefix = "0001020304050607".into()
        }),
        ("bundle.encryption.wrapped_key", |m| {
            m.bundle.encryption.as_mut().unwrap().wrapped_key = B64.encode([0u8; 59])
        }),
        ("files[1].path", |m| m.files[1].path = "../escape.js".into()),
        ("files[1].path", |m| m.files[1].path = "/etc/passwd".into()),
        ("files[1].path", |m| m.files[1].path = "index.html".into()),
        ("files[0].sha256", |m| m.files[0].sha256 = "zz".repeat(32)),
        ("delta.url", |m| {
            m.delta.as_mut().unwrap().url = "../files/x".into()
        }),
        ("rollout", |m| m.rollout = Some(101)),
    ];
    let key = signing_key(1);
    let keys = [pinned(&key, &["*"])];
    for (expected, mutate) in cases {
        let mut m = full_manifest();
        mutate(&mut m);
        match verify_envelope(&envelope_bytes(&signed(&m, &key)), &keys) {
            Err(ReleaseError::FieldInvalid { field, .. }) => assert_eq!(field, expected),
            other => panic!("{expected}: expected FieldInvalid, got {other:?}"),
        }
    }
    let mut m = full_manifest();
    m.incident
        .as_mut()
        .unwrap()
        .revoked_sha256
        .push("not-hex".into());
    assert!(matches!(
        verify_envelope(&envelope_bytes(&signed(&m, &key)), &keys),
        Err(ReleaseError::FieldInvalid { field, .. }) if field == "incident.revoked_sha256[1]"
    ));
}

#[test]
fn channel_and_path_syntax_accept_what_the_format_allows() {
    for ok in ["production", "beta", "0", "qa-2.rc_1", &"a".repeat(64)] {
        assert!(release::is_valid_channel(ok), "{ok}");
    }
    for ok in [
        "index.html",
        "assets/app.js",
        "a/b/c/.well-known",
        "..x/y..",
    ] {
        assert!(release::is_valid_bundle_path(ok), "{ok}");
    }
    for bad in ["", "a//b", "a/", "./a", "a/../b", "a\\b", "a\0b", "/a"] {
        assert!(!release::is_valid_bundle_path(bad), "{bad:?}");
    }
}
