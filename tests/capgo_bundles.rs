//! Capgo v2 bundles made by the real `@capgo/cli` (keys, zip, encryption), opened by the core:
//! decrypted in a stream, the RSA-signed checksum verified before anything could be extracted,
//! and every kind of tampering refused with its own error. The fixtures are made fresh by
//! scripts/capgo-test.sh (part of scripts/test.sh), which runs these ignored tests with
//! LIVESHIP_CAPGO_FIXTURES set; they are never committed.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use liveship::capgo::{self, CapgoError, CapgoKey, ChecksumKind};
use liveship::unpack::{self, Budgets, UnpackError};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Encrypted {
    encrypted: PathBuf,
    session_key: String,
    checksum: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixtures {
    public_key: String,
    public_key_spki: String,
    other_public_key: String,
    zip: PathBuf,
    web_dir: PathBuf,
    sha256: String,
    app: Encrypted,
    wrong_padding_session_key: String,
    other: Encrypted,
}

fn fixtures() -> Fixtures {
    let path = std::env::var("LIVESHIP_CAPGO_FIXTURES").unwrap_or_else(|_| {
        panic!("LIVESHIP_CAPGO_FIXTURES is not set: run scripts/capgo-test.sh, which makes them")
    });
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn key(pem: &str) -> CapgoKey {
    CapgoKey::from_pem(pem).unwrap()
}

/// Decrypts `encrypted` with `session_key` and checks `checksum` under the app's key, into a
/// fresh staging file; returns the result and where the plaintext would be.
fn open(
    f: &Fixtures,
    encrypted: &Path,
    session_key: &str,
    checksum: &str,
    allow_unsigned: bool,
) -> (
    Result<capgo::Decrypted, CapgoError>,
    PathBuf,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("bundle.zip");
    let r = capgo::decrypt_verified(
        &key(&f.public_key),
        session_key,
        checksum,
        encrypted,
        &plain,
        allow_unsigned,
    );
    (r, plain, dir)
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_bundle_encrypted_by_capgo_cli_decrypts_byte_for_byte_and_its_checksum_verifies() {
    let f = fixtures();
    let (r, plain, _dir) = open(
        &f,
        &f.app.encrypted,
        &f.app.session_key,
        &f.app.checksum,
        false,
    );
    let done = r.unwrap();
    let original = std::fs::read(&f.zip).unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), original, "byte for byte");
    assert_eq!(done.bytes, original.len() as u64);
    assert_eq!(
        hex::encode(done.sha256),
        f.sha256,
        "what `bundle zip` printed"
    );
    // The verified zip is the CLI's: its files are the web folder's.
    let zip = zip::ZipArchive::new(std::fs::File::open(&plain).unwrap()).unwrap();
    let mut names: Vec<&str> = zip.file_names().collect();
    names.sort();
    assert!(names.iter().any(|n| n.ends_with("index.html")), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with("assets/blob.bin")),
        "{names:?}"
    );
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_verified_capgo_bundle_extracts_under_liveships_budgets_to_the_web_folder() {
    let f = fixtures();
    let (r, plain, dir) = open(
        &f,
        &f.app.encrypted,
        &f.app.session_key,
        &f.app.checksum,
        false,
    );
    r.unwrap();
    let files = unpack::list_zip(&plain, &Budgets::default()).unwrap();
    let dest = dir.path().join("bundle");
    let done = unpack::extract_verified(&plain, &files, &dest, &Budgets::default()).unwrap();
    assert_eq!(done.files, 3, "{files:?}");
    unpack::check_dir(&dest, &files).unwrap();
    for rel in ["index.html", "assets/app.js", "assets/blob.bin"] {
        assert_eq!(
            std::fs::read(dest.join(rel)).unwrap(),
            std::fs::read(f.web_dir.join(rel)).unwrap(),
            "{rel}"
        );
    }
    // The budgets hold for Capgo bundles too: a total budget below the bundle's size refuses it
    // before a byte is written.
    let small = Budgets {
        max_total_bytes: 100_000,
        ..Budgets::default()
    };
    let err = unpack::list_zip(&plain, &small).unwrap_err();
    assert!(
        matches!(err, UnpackError::TotalSizeExceeded { .. }),
        "{err}"
    );
    let few = Budgets {
        max_entries: 2,
        ..Budgets::default()
    };
    let err = unpack::list_zip(&plain, &few).unwrap_err();
    assert!(matches!(err, UnpackError::TooManyEntries { .. }), "{err}");
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn both_pem_forms_of_the_public_key_are_the_same_key() {
    let f = fixtures();
    assert_eq!(
        key(&f.public_key).key_id(),
        key(&f.public_key_spki).key_id()
    );
    assert_ne!(
        key(&f.public_key).key_id(),
        key(&f.other_public_key).key_id()
    );
    // As a JSON config carries it: newlines escaped.
    let escaped = f.public_key.replace('\n', "\\n");
    assert_eq!(key(&escaped).key_id(), key(&f.public_key).key_id());
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_flipped_byte_of_the_encrypted_zip_is_refused_and_nothing_is_left_to_extract() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(&f.app.encrypted).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let tampered = dir.path().join("tampered.zip");
    std::fs::write(&tampered, &bytes).unwrap();
    let (r, plain, _d) = open(&f, &tampered, &f.app.session_key, &f.app.checksum, false);
    let err = r.unwrap_err();
    assert!(
        matches!(err, CapgoError::ChecksumSignatureInvalid { .. }),
        "{err}"
    );
    assert!(
        !plain.exists(),
        "the decrypted bytes of a refused bundle are removed"
    );
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_session_key_wrapped_by_another_key_pair_is_refused() {
    let f = fixtures();
    let (r, plain, _d) = open(
        &f,
        &f.other.encrypted,
        &f.other.session_key,
        &f.app.checksum,
        false,
    );
    let err = r.unwrap_err();
    assert!(
        matches!(err, CapgoError::SessionKeyNotForThisKey { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(key(&f.public_key).key_id()),
        "{err}"
    );
    assert!(!plain.exists());
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_session_key_block_in_another_padding_is_refused_even_from_the_right_key() {
    let f = fixtures();
    let err = key(&f.public_key)
        .unwrap_session(&f.wrong_padding_session_key)
        .unwrap_err();
    assert!(
        matches!(err, CapgoError::SessionKeyNotForThisKey { .. }),
        "{err}"
    );
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn a_checksum_signed_by_another_key_is_refused() {
    let f = fixtures();
    // The same plaintext, its SHA-256 signed by the other key pair's private key.
    let (r, plain, _d) = open(
        &f,
        &f.app.encrypted,
        &f.app.session_key,
        &f.other.checksum,
        false,
    );
    let err = r.unwrap_err();
    assert!(
        matches!(err, CapgoError::ChecksumSignatureInvalid { .. }),
        "{err}"
    );
    assert!(!plain.exists());
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn unsigned_checksums_are_refused_unless_allowed_and_crc32_always() {
    let f = fixtures();
    let (r, _, _d) = open(&f, &f.app.encrypted, &f.app.session_key, "1a2b3c4d", false);
    let err = r.unwrap_err();
    assert!(
        matches!(
            err,
            CapgoError::UnsignedChecksum {
                kind: ChecksumKind::Crc32
            }
        ),
        "{err}"
    );
    let (r, _, _d) = open(&f, &f.app.encrypted, &f.app.session_key, "1a2b3c4d", true);
    assert!(matches!(
        r.unwrap_err(),
        CapgoError::UnsignedChecksum {
            kind: ChecksumKind::Crc32
        }
    ));
    let (r, _, _d) = open(&f, &f.app.encrypted, &f.app.session_key, &f.sha256, false);
    assert!(matches!(
        r.unwrap_err(),
        CapgoError::UnsignedChecksum {
            kind: ChecksumKind::Sha256
        }
    ));
    // Allowed (documented as unsafe): a plain SHA-256 is compared, and must still match.
    let (r, plain, _d) = open(&f, &f.app.encrypted, &f.app.session_key, &f.sha256, true);
    r.unwrap();
    assert!(plain.exists());
    let wrong = "0".repeat(64);
    let (r, _, _d) = open(&f, &f.app.encrypted, &f.app.session_key, &wrong, true);
    assert!(matches!(
        r.unwrap_err(),
        CapgoError::ChecksumMismatch { .. }
    ));
}

#[test]
#[ignore = "needs fixtures from @capgo/cli: scripts/capgo-test.sh"]
fn an_older_clis_base64_checksum_verifies_too() {
    let f = fixtures();
    let raw = hex::decode(&f.app.checksum).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let (r, _, _d) = open(&f, &f.app.encrypted, &f.app.session_key, &b64, false);
    r.unwrap();
}
