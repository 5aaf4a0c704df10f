//! Test vectors of the release format: the code must reproduce every value frozen in
//! `docs/test-vectors.json`, and every value must appear verbatim in `docs/FORMAT.md`, so neither
//! the implementation nor the specification can drift from the other.
//!
//! The STREAM values are also recomputed here by a reference implementation written from the
//! text of FORMAT.md with plain AES-256-GCM (nonce built by hand), independent of `aead-stream`.
//!
//! To regenerate after a deliberate format change (never to make a failing test pass):
//! `LIVESHIP_WRITE_VECTORS=1 cargo test -p liveship --test format_vectors`, then update FORMAT.md.

use std::path::PathBuf;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use liveship::crypto::{self, SEGMENT_SIZE};
use liveship::release::{
    self, BundleObject, Delta, Encryption, FileEntry, Manifest, NativeRange, PinnedKey,
};

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs")
}

/// Fixed inputs, as stated in FORMAT.md.
fn signing_seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8 + 1) // 0x01, 0x02, ..., 0x20
}
fn bundle_key() -> [u8; 32] {
    [0x42; 32]
}
fn content_key() -> [u8; 32] {
    std::array::from_fn(|i| 0xa0 + i as u8) // 0xa0 ..= 0xbf
}
fn wrap_nonce() -> [u8; 12] {
    std::array::from_fn(|i| i as u8) // 0x00 ..= 0x0b
}
fn nonce_prefix() -> [u8; 7] {
    std::array::from_fn(|i| 0x70 + i as u8) // 0x70 ..= 0x76
}
/// `len` bytes where byte `i` is `i mod 251`.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
const INDEX_HTML: &[u8] = b"<!doctype html><title>liveship</title>\n";
const APP_JS: &[u8] = b"console.log(\"liveship\");\n";

fn seal(key: &[u8; 32], prefix: &[u8; 7], pt: &[u8]) -> Vec<u8> {
    let mut ct = Vec::new();
    crypto::seal_stream(key, prefix, pt, &mut ct).unwrap();
    ct
}

/// Every vector, computed by the library.
fn compute() -> Value {
    let sk = SigningKey::from_bytes(&signing_seed());
    let pk = sk.verifying_key().to_bytes();
    let key_id = crypto::public_key_id(&pk);

    let wrapped = crypto::wrap_content_key(&bundle_key(), &content_key(), &wrap_nonce());

    let big = pattern(70_000);
    let big_ct = seal(&content_key(), &nonce_prefix(), &big);
    let exact = pattern(SEGMENT_SIZE);
    let exact_ct = seal(&content_key(), &nonce_prefix(), &exact);
    let tiny_ct = seal(&content_key(), &nonce_prefix(), b"liveship");
    let empty_ct = seal(&content_key(), &nonce_prefix(), b"");

    let index_sha: [u8; 32] = Sha256::digest(INDEX_HTML).into();
    let fkey = crypto::file_key(&content_key(), &index_sha);
    let file_obj = seal(&fkey, &crypto::FILE_NONCE_PREFIX, INDEX_HTML);

    let files = vec![
        FileEntry {
            path: "assets/app.js".into(),
            size: APP_JS.len() as u64,
            sha256: crypto::sha256_hex(APP_JS),
        },
        FileEntry {
            path: "index.html".into(),
            size: INDEX_HTML.len() as u64,
            sha256: crypto::sha256_hex(INDEX_HTML),
        },
    ];
    let bundle_sha = crypto::sha256_hex(&big_ct);
    let manifest = Manifest {
        format: release::FORMAT_VERSION,
        app_id: "com.example.app".into(),
        channel: "production".into(),
        sequence: 42,
        version: "1.4.2".into(),
        issued_at: 1_767_225_600,  // 2026-01-01T00:00:00Z
        expires_at: 1_769_817_600, // 30 days later
        native: NativeRange {
            min: Some("1.0.0".into()),
            max: None,
        },
        platforms: vec!["android".into(), "ios".into()],
        bundle: BundleObject {
            url: format!("../bundles/{bundle_sha}.zip.sealed"),
            size: big_ct.len() as u64,
            sha256: bundle_sha,
            encryption: Some(Encryption {
                alg: crypto::STREAM_ALG.into(),
                key_id: crypto::bundle_key_id(&bundle_key()),
                wrapped_key: B64.encode(&wrapped),
                nonce_prefix: hex::encode(nonce_prefix()),
            }),
        },
        files,
        delta: Some(Delta {
            url: "../files/production/42/".into(),
        }),
        rollout: None,
        incident: None,
    };
    let payload = release::manifest_bytes(&manifest);
    let pae = release::pae(release::PAYLOAD_TYPE, &payload);
    let env = release::sign_envelope(&payload, &sk);
    let env_json = serde_json::to_string(&env).unwrap();

    json!({
        "signing_key": {
            "seed_hex": hex::encode(signing_seed()),
            "public_key_hex": hex::encode(pk),
            "public_key_base64": B64.encode(pk),
            "key_id": key_id,
        },
        "key_wrap": {
            "bundle_key_hex": hex::encode(bundle_key()),
            "bundle_key_id": crypto::bundle_key_id(&bundle_key()),
            "content_key_hex": hex::encode(content_key()),
            "wrap_nonce_hex": hex::encode(wrap_nonce()),
            "wrapped_key_hex": hex::encode(&wrapped),
            "wrapped_key_base64": B64.encode(&wrapped),
        },
        "stream": {
            "key_hex": hex::encode(content_key()),
            "nonce_prefix_hex": hex::encode(nonce_prefix()),
            "empty_ciphertext_hex": hex::encode(&empty_ct),
            "tiny_plaintext": "liveship",
            "tiny_ciphertext_hex": hex::encode(&tiny_ct),
            "exact_segment_plaintext_len": SEGMENT_SIZE.to_string(),
            "exact_segment_ciphertext_len": exact_ct.len().to_string(),
            "exact_segment_ciphertext_sha256": crypto::sha256_hex(&exact_ct),
            "two_segment_plaintext_len": big.len().to_string(),
            "two_segment_ciphertext_len": big_ct.len().to_string(),
            "two_segment_ciphertext_sha256": crypto::sha256_hex(&big_ct),
        },
        "file_key": {
            "content_key_hex": hex::encode(content_key()),
            "file_sha256": hex::encode(index_sha),
            "file_key_hex": hex::encode(fkey),
            "file_object_hex": hex::encode(&file_obj),
        },
        "manifest": {
            "content_id": manifest.content_id(),
            "payload": String::from_utf8(payload.clone()).unwrap(),
            "payload_base64": B64.encode(&payload),
            "pae": String::from_utf8(pae).unwrap(),
            "signature_base64": env.signatures[0].sig,
            "envelope": env_json,
        },
    })
}

fn frozen() -> Value {
    let text = std::fs::read_to_string(docs().join("test-vectors.json"))
        .expect("docs/test-vectors.json is readable");
    serde_json::from_str(&text).expect("docs/test-vectors.json is JSON")
}

/// Every (dotted name, string value) leaf of the vectors.
fn leaves(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    walk(&format!("{prefix}{k}."), v, out)
                }
            }
            Value::String(s) => out.push((prefix.trim_end_matches('.').to_string(), s.clone())),
            other => panic!("vector {prefix} is not a string: {other}"),
        }
    }
    walk("", v, &mut out);
    out
}

#[test]
fn code_reproduces_every_frozen_vector() {
    let computed = compute();
    if std::env::var_os("LIVESHIP_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        std::fs::write(docs().join("test-vectors.json"), text).unwrap();
    }
    let frozen = frozen();
    let computed_leaves = leaves(&computed);
    let frozen_leaves = leaves(&frozen);
    for (name, value) in &computed_leaves {
        let got = frozen_leaves.iter().find(|(n, _)| n == name);
        assert_eq!(
            got.map(|(_, v)| v),
            Some(value),
            "vector {name} differs from the code"
        );
    }
    assert_eq!(
        computed_leaves.len(),
        frozen_leaves.len(),
        "test-vectors.json has vectors the code does not compute"
    );
}

#[test]
fn every_vector_appears_verbatim_in_format_md() {
    let doc = std::fs::read_to_string(docs().join("FORMAT.md")).expect("docs/FORMAT.md");
    let missing: Vec<String> = leaves(&frozen())
        .into_iter()
        .filter(|(_, v)| !doc.contains(v.as_str()))
        .map(|(n, _)| n)
        .collect();
    assert!(missing.is_empty(), "FORMAT.md lacks vectors {missing:?}");
}

#[test]
fn every_manifest_field_is_specified_in_format_md() {
    let doc = std::fs::read_to_string(docs().join("FORMAT.md")).expect("docs/FORMAT.md");
    let mut m: Value = serde_json::from_str(
        leaves(&frozen())
            .iter()
            .find(|(n, _)| n == "manifest.payload")
            .unwrap()
            .1
            .as_str(),
    )
    .unwrap();
    // The vector omits the optional fields; add them so their names are checked too.
    m["rollout"] = json!(50);
    m["incident"] =
        json!({"revoked_sequences": [], "revoked_sha256": [], "revert_to_builtin": false});
    m["native"]["max"] = json!("2");
    let mut names = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&m, &mut names);
    // Parse back so the names above are exactly what the code accepts.
    serde_json::from_value::<Manifest>(m).expect("completed manifest parses");
    for n in names {
        assert!(
            doc.contains(&format!("`{n}`")),
            "FORMAT.md does not specify manifest field `{n}`"
        );
    }
}

#[test]
fn frozen_envelope_verifies_with_the_frozen_public_key() {
    let v = frozen();
    let keys = [PinnedKey {
        key_id: v["signing_key"]["key_id"].as_str().unwrap().into(),
        public_key: v["signing_key"]["public_key_base64"]
            .as_str()
            .unwrap()
            .into(),
        channels: vec!["production".into()],
    }];
    let env = v["manifest"]["envelope"].as_str().unwrap();
    let verified = release::verify_envelope(env.as_bytes(), &keys).unwrap();
    assert_eq!(
        verified.payload,
        v["manifest"]["payload"].as_str().unwrap().as_bytes()
    );
    assert_eq!(verified.manifest.sequence, 42);
    // The wrapped key in the signed manifest opens to the stated content key.
    let enc = verified.manifest.bundle.encryption.unwrap();
    let wrapped = B64.decode(enc.wrapped_key).unwrap();
    assert_eq!(
        crypto::unwrap_content_key(&bundle_key(), &wrapped).unwrap(),
        content_key()
    );
}

/// STREAM as FORMAT.md describes it, with the nonce assembled by hand.
fn reference_seal(key: &[u8; 32], prefix: &[u8; 7], pt: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let chunks: Vec<&[u8]> = if pt.is_empty() {
        vec![&[][..]]
    } else {
        pt.chunks(SEGMENT_SIZE).collect()
    };
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(prefix);
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        nonce[11] = u8::from(i + 1 == chunks.len());
        let ct = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: chunk,
                    aad: b"liveship/bundle/v1",
                },
            )
            .unwrap();
        out.extend_from_slice(&ct);
    }
    out
}

#[test]
fn stream_matches_a_reference_written_from_the_spec() {
    for len in [
        0,
        8,
        SEGMENT_SIZE - 1,
        SEGMENT_SIZE,
        SEGMENT_SIZE + 1,
        70_000,
        3 * SEGMENT_SIZE,
    ] {
        let pt = pattern(len);
        assert_eq!(
            seal(&content_key(), &nonce_prefix(), &pt),
            reference_seal(&content_key(), &nonce_prefix(), &pt),
            "plaintext of {len} bytes"
        );
    }
}

#[test]
fn key_wrap_and_file_key_match_references_written_from_the_spec() {
    // Wrap: AES-256-GCM(bundle key, nonce, content key, AAD), prefixed by the nonce.
    let ct = Aes256Gcm::new(&bundle_key().into())
        .encrypt(
            &wrap_nonce().into(),
            Payload {
                msg: &content_key(),
                aad: b"liveship/content-key/v1",
            },
        )
        .unwrap();
    let mut expected = wrap_nonce().to_vec();
    expected.extend_from_slice(&ct);
    assert_eq!(
        crypto::wrap_content_key(&bundle_key(), &content_key(), &wrap_nonce()),
        expected
    );
    // Key ids.
    let pk = SigningKey::from_bytes(&signing_seed())
        .verifying_key()
        .to_bytes();
    assert_eq!(
        crypto::public_key_id(&pk),
        hex::encode(&Sha256::digest(pk)[..8])
    );
    let mut h = Sha256::new();
    h.update(b"liveship bundle key");
    h.update(bundle_key());
    assert_eq!(
        crypto::bundle_key_id(&bundle_key()),
        hex::encode(&h.finalize()[..8])
    );
    // PAE of a known pair, from the DSSE specification's definition.
    assert_eq!(release::pae("a/b", b"hi"), b"DSSEv1 3 a/b 2 hi".to_vec());
}
