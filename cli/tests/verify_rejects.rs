//! `liveship verify` rejects every tampered artifact with a message naming the failed check.

mod support;

use std::fs;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::policy;
use liveship::release::{self};
use support::cli::*;

mod verify_rejects {
    use super::*;

    fn packed(encrypt: bool) -> Fixture {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 3, encrypt));
        f
    }

    const LABEL: &str = "verify failed: production#3 (1.2.0)";

    #[test]
    fn a_changed_manifest_field_under_the_original_signature() {
        let f = packed(false);
        let mut env = f.envelope("production");
        let mut m = f.manifest("production");
        m.version = "6.6.6".into();
        env.payload = B64.encode(release::manifest_bytes(&m));
        f.write_envelope("production", &env);
        assert_fails_with(
            &f.verify("production", &[]),
            &["envelope check", "does not verify"],
        );
    }

    /// A channel file far over the 4 MiB limit is refused after reading one byte over it (the
    /// size in the message is what was read), not read whole.
    #[test]
    fn a_huge_channel_file_is_refused_without_being_read_whole() {
        let f = packed(false);
        // Sparse: 200 MB on paper, nothing on disk.
        fs::OpenOptions::new()
            .write(true)
            .open(f.channel_file("production"))
            .unwrap()
            .set_len(200 * 1024 * 1024)
            .unwrap();
        let limit = release::MAX_ENVELOPE_BYTES;
        assert_fails_with(
            &f.verify("production", &[]),
            &[
                "envelope check",
                &format!(
                    "envelope is {} bytes or more, larger than the {limit}-byte limit",
                    limit + 1
                ),
            ],
        );
    }

    #[test]
    fn changed_signature_bytes() {
        let f = packed(false);
        let mut env = f.envelope("production");
        let mut sig = B64.decode(&env.signatures[0].sig).unwrap();
        sig[10] ^= 1;
        env.signatures[0].sig = B64.encode(sig);
        f.write_envelope("production", &env);
        assert_fails_with(
            &f.verify("production", &[]),
            &["envelope check", "does not verify"],
        );
    }

    #[test]
    fn a_signature_by_another_key_under_the_pinned_key_id() {
        let f = packed(false);
        let other = SigningKey::from_bytes(&[7; 32]);
        let payload = B64.decode(f.envelope("production").payload).unwrap();
        let mut env = release::sign_envelope(&payload, &other);
        env.signatures[0].keyid = f.envelope("production").signatures[0].keyid.clone();
        f.write_envelope("production", &env);
        assert_fails_with(
            &f.verify("production", &[]),
            &["envelope check", "does not verify"],
        );
    }

    #[test]
    fn an_unknown_key_id() {
        let f = packed(false);
        let other = f.root.join("other");
        assert_ok(&run(&["keygen", "--out", p(&other)]));
        let other_pub = other.join("signing.pub");
        let out = run(&[
            "verify",
            p(&f.channel_file("production")),
            "--public-key",
            p(&other_pub),
        ]);
        assert_fails_with(&out, &["envelope check", "no signature by a pinned key"]);
    }

    #[test]
    fn a_key_not_allowed_for_the_channel() {
        let f = Fixture::with_channels("beta");
        assert_ok(&f.pack("production", 1, false));
        assert_fails_with(
            &f.verify("production", &[]),
            &["not allowed to sign for channel \"production\""],
        );
        // The same key is fine where it is pinned.
        assert_ok(&f.pack("beta", 1, false));
        assert_ok(&f.verify("beta", &[]));
    }

    #[test]
    fn an_expired_manifest() {
        let f = packed(false);
        let m = f.manifest("production");
        let after = (m.expires_at + policy::CLOCK_SKEW_SECS + 1).to_string();
        assert_fails_with(
            &f.verify("production", &["--now", &after]),
            &[LABEL, "expiry check", "expired"],
        );
        let within = (m.expires_at + policy::CLOCK_SKEW_SECS).to_string();
        assert_ok(&f.verify("production", &["--now", &within]));
    }

    #[test]
    fn a_flipped_ciphertext_byte_in_the_first_middle_or_last_segment() {
        let f = packed(true);
        let len = fs::metadata(f.bundle_path("production")).unwrap().len() as usize;
        let segments = len.div_ceil(SEALED_SEGMENT);
        assert!(segments >= 3, "{segments}");
        for (segment, offset) in [
            (0, 5),
            (2, 2 * SEALED_SEGMENT + 100),
            (segments - 1, len - 1),
        ] {
            let f = packed(true);
            f.tamper_sealed_bundle("production", |b| b[offset] ^= 0x01);
            assert_fails_with(
                &f.verify_with_bundle_key("production"),
                &[
                    LABEL,
                    "bundle decryption failed",
                    &format!("segment {segment} failed authentication"),
                ],
            );
        }
    }

    #[test]
    fn a_truncated_ciphertext_at_a_segment_boundary_or_inside_a_segment() {
        // At a boundary the last full segment is taken as the final one and fails its flag;
        // inside a segment the partial segment fails.
        for (cut, segment) in [(2 * SEALED_SEGMENT, 1), (2 * SEALED_SEGMENT + 1000, 2)] {
            let f = packed(true);
            f.tamper_sealed_bundle("production", |b| b.truncate(cut));
            assert_fails_with(
                &f.verify_with_bundle_key("production"),
                &[
                    LABEL,
                    "bundle decryption failed",
                    &format!("segment {segment} failed authentication"),
                ],
            );
        }
    }

    #[test]
    fn swapped_ciphertext_segments() {
        let f = packed(true);
        f.tamper_sealed_bundle("production", |b| {
            let (first, rest) = b.split_at_mut(SEALED_SEGMENT);
            first.swap_with_slice(&mut rest[..SEALED_SEGMENT]);
        });
        assert_fails_with(
            &f.verify_with_bundle_key("production"),
            &[
                LABEL,
                "bundle decryption failed",
                "segment 0 failed authentication",
            ],
        );
    }

    #[test]
    fn a_bundle_whose_size_differs_from_the_manifest() {
        let f = packed(true);
        let path = f.bundle_path("production");
        let mut b = fs::read(&path).unwrap();
        b.push(0);
        fs::write(&path, b).unwrap();
        assert_fails_with(
            &f.verify_with_bundle_key("production"),
            &[LABEL, "bundle size mismatch"],
        );
    }

    #[test]
    fn a_bundle_whose_hash_differs_from_the_manifest() {
        for encrypt in [true, false] {
            let f = packed(encrypt);
            let path = f.bundle_path("production");
            let mut b = fs::read(&path).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0x80;
            fs::write(&path, b).unwrap();
            assert_fails_with(
                &f.verify_with_bundle_key("production"),
                &[LABEL, "bundle sha256 mismatch"],
            );
        }
    }

    #[test]
    fn a_missing_bundle() {
        let f = packed(false);
        fs::remove_file(f.bundle_path("production")).unwrap();
        assert_fails_with(&f.verify("production", &[]), &[LABEL, "bundle missing"]);
    }

    #[test]
    fn a_wrong_bundle_key() {
        let f = packed(true);
        let other = f.root.join("other");
        assert_ok(&run(&["keygen", "--out", p(&other)]));
        let other_bk = other.join("bundle.key");
        assert_fails_with(
            &f.verify("production", &["--bundle-key", p(&other_bk)]),
            &[LABEL, "wrong bundle key"],
        );

        // A manifest that names the other key's id: the unwrap itself must fail.
        let other_id: release::BundleKey =
            serde_json::from_slice(&fs::read(&other_bk).unwrap()).unwrap();
        f.resign("production", |m| {
            m.bundle.encryption.as_mut().unwrap().key_id = other_id.key_id.clone()
        });
        assert_fails_with(
            &f.verify("production", &["--bundle-key", p(&other_bk)]),
            &[LABEL, "content key unwrap failed"],
        );
    }

    #[test]
    fn a_missing_bundle_key() {
        let f = packed(true);
        assert_fails_with(
            &f.verify("production", &[]),
            &[LABEL, "missing bundle key", "--bundle-key"],
        );
    }

    #[test]
    fn a_file_list_that_does_not_match_the_bundle() {
        let f = packed(true);
        f.resign("production", |m| m.files[1].size += 1);
        assert_fails_with(
            &f.verify_with_bundle_key("production"),
            &[LABEL, "bundle contents check failed"],
        );
    }

    #[test]
    fn a_tampered_or_missing_delta_object() {
        for encrypt in [true, false] {
            let f = packed(encrypt);
            let m = f.manifest("production");
            let dir = f.repo.join("files/production/3");
            let photo = m
                .files
                .iter()
                .find(|e| e.path.ends_with("photo.bin"))
                .unwrap();
            let obj = dir.join(&photo.sha256);
            let mut b = fs::read(&obj).unwrap();
            b[100] ^= 1;
            fs::write(&obj, b).unwrap();
            let expected = if encrypt {
                "does not open"
            } else {
                "delta object mismatch"
            };
            assert_fails_with(&f.verify_with_bundle_key("production"), &[LABEL, expected]);

            fs::remove_file(&obj).unwrap();
            assert_fails_with(
                &f.verify_with_bundle_key("production"),
                &[LABEL, "delta object missing"],
            );
        }
    }
}
