//! The publisher CLI end to end: the real `liveship` binary generates keys, packs web folders
//! into a repository and verifies them, and `verify` rejects every tampered artifact with a
//! message naming the failed check.

mod support;

use std::fs;
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use liveship::release::{self};
use support::cli::*;
use tempfile::TempDir;

mod keygen {
    use super::*;

    #[test]
    fn keygen_writes_secrets_0600_and_public_files_whose_ids_match_the_keys() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("k");
        let out = assert_ok(&run(&["keygen", "--out", p(&dir)]));
        assert_eq!(mode(&dir.join("signing.key")), 0o600);
        assert_eq!(mode(&dir.join("bundle.key")), 0o600);
        assert_eq!(mode(&dir.join("signing.pub")) & 0o077, 0o044);

        let sk = signing_key_from(&dir.join("signing.key"));
        let id = liveship::crypto::public_key_id(sk.verifying_key().as_bytes());
        let pubk: release::PinnedKey =
            serde_json::from_slice(&fs::read(dir.join("signing.pub")).unwrap()).unwrap();
        assert_eq!(pubk.key_id, id);
        assert_eq!(pubk.public_key, B64.encode(sk.verifying_key().as_bytes()));
        assert_eq!(pubk.channels, vec!["*"]);
        let bk: release::BundleKey =
            serde_json::from_slice(&fs::read(dir.join("bundle.key")).unwrap()).unwrap();
        assert_eq!(
            bk.key_id,
            liveship::crypto::bundle_key_id(&bk.bytes().unwrap())
        );

        let config: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("liveship.config.json")).unwrap()).unwrap();
        assert_eq!(config["publicKeys"][0]["keyId"], id.as_str());
        assert_eq!(config["bundleKeys"][0]["keyId"], bk.key_id.as_str());
        assert!(out.contains(&id) && out.contains(&bk.key_id), "{out}");
        assert!(out.contains("LIVESHIP_SIGNING_KEY"), "{out}");
    }

    #[test]
    fn keygen_refuses_to_overwrite_keys_without_force() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("k");
        assert_ok(&run(&["keygen", "--out", p(&dir)]));
        let before = fs::read(dir.join("signing.key")).unwrap();
        assert_fails_with(
            &run(&["keygen", "--out", p(&dir)]),
            &["refusing to overwrite", "signing.key", "--force"],
        );
        assert_eq!(fs::read(dir.join("signing.key")).unwrap(), before);

        assert_ok(&run(&["keygen", "--out", p(&dir), "--force"]));
        assert_ne!(fs::read(dir.join("signing.key")).unwrap(), before);
        assert_eq!(mode(&dir.join("signing.key")), 0o600);
    }

    #[test]
    fn keygen_rejects_invalid_channel_names() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("k");
        assert_fails_with(
            &run(&["keygen", "--out", p(&dir), "--channels", "beta,Prod"]),
            &["invalid channel name \"Prod\""],
        );
        assert!(!dir.join("signing.key").exists());
    }
}

mod round_trip {
    use super::*;

    #[test]
    fn encrypted_release_packs_and_verifies() {
        let f = Fixture::new();
        let out = assert_ok(&f.pack("production", 1, true));
        assert!(out.contains("production#1 (1.2.0)"), "{out}");
        assert!(out.contains("encrypted with bundle key"), "{out}");
        let m = f.manifest("production");
        assert!(m.bundle.url.ends_with(".zip.sealed"));
        assert_eq!(m.delta.as_ref().unwrap().url, "../files/production/1/");
        assert_eq!(
            fs::read(f.repo.join("releases/production.1.json")).unwrap(),
            fs::read(f.channel_file("production")).unwrap()
        );
        let sealed_len = fs::metadata(f.bundle_path("production")).unwrap().len() as usize;
        assert!(sealed_len > 4 * SEALED_SEGMENT, "{sealed_len}");

        let out = assert_ok(&f.verify_with_bundle_key("production"));
        assert!(out.contains("verified production#1 (1.2.0)"), "{out}");
        assert!(out.contains("unpacked 5 files"), "{out}");
        assert!(out.contains("delta objects: 4"), "{out}");
    }

    #[test]
    fn unencrypted_release_packs_and_verifies_with_the_app_config() {
        let f = Fixture::new();
        let out = assert_ok(&f.pack("beta", 1, false));
        assert!(out.contains("NOT encrypted"), "{out}");
        let m = f.manifest("beta");
        assert!(m.bundle.encryption.is_none());
        assert!(m.bundle.url.ends_with(".zip"));
        let paths: Vec<&str> = m.files.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.js",
                "assets/copy.css",
                "assets/img/photo.bin",
                "assets/style.css",
                "index.html"
            ]
        );
        let config = f.key("liveship.config.json");
        let out = assert_ok(&run(&[
            "verify",
            p(&f.channel_file("beta")),
            "--config",
            p(&config),
        ]));
        assert!(out.contains("bundle is not encrypted"), "{out}");
    }

    #[test]
    fn packing_the_same_folder_twice_unencrypted_gives_identical_bundle_bytes() {
        let f = Fixture::new();
        assert_ok(&f.pack("a", 1, false));
        assert_ok(&f.pack("b", 1, false));
        let a = fs::read(f.bundle_path("a")).unwrap();
        let b = fs::read(f.bundle_path("b")).unwrap();
        assert!(a == b, "bundle bytes differ between two packs");
        assert_eq!(f.bundle_path("a"), f.bundle_path("b"));

        // Another tool reads the zip: files only, sorted, fixed timestamp and permissions.
        let script = "import sys, zipfile\n\
            z = zipfile.ZipFile(sys.argv[1])\n\
            for i in z.infolist():\n\
            \x20   print(i.filename, i.date_time, oct(i.external_attr >> 16), i.compress_type)\n";
        let out = Command::new("python3")
            .args(["-c", script, p(&f.bundle_path("a"))])
            .output()
            .expect("python3 is required by the tests");
        let listing = assert_ok(&out);
        let expected = [
            "app.js",
            "assets/copy.css",
            "assets/img/photo.bin",
            "assets/style.css",
            "index.html",
        ]
        .map(|n| format!("{n} (1980, 1, 1, 0, 0, 0) 0o100644 8"))
        .join("\n");
        assert_eq!(listing.trim_end(), expected);
    }

    #[test]
    fn encrypted_packs_of_the_same_folder_use_fresh_keys() {
        let f = Fixture::new();
        assert_ok(&f.pack("a", 1, true));
        assert_ok(&f.pack("b", 1, true));
        let (a, b) = (f.manifest("a"), f.manifest("b"));
        assert_ne!(a.bundle.sha256, b.bundle.sha256);
        assert_ne!(
            a.bundle.encryption.unwrap().wrapped_key,
            b.bundle.encryption.unwrap().wrapped_key
        );
        assert_eq!(a.files, b.files);
    }
}

mod pack_inputs {
    use super::*;

    #[test]
    fn pack_refuses_a_sequence_not_greater_than_the_published_one() {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 3, true));
        for seq in [3, 2] {
            assert_fails_with(
                &f.pack("production", seq, true),
                &[
                    &format!("sequence {seq} is not greater"),
                    "already published",
                    "(3,",
                ],
            );
        }
        assert_eq!(f.manifest("production").sequence, 3);
        assert_ok(&f.pack("production", 4, true));
        assert_eq!(f.manifest("production").sequence, 4);
        assert!(f.repo.join("releases/production.3.json").exists());
    }

    #[test]
    fn pack_never_reuses_a_sequence_recorded_in_releases() {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 1, true));
        // The channel file is lost, but the immutable release record is still there.
        fs::remove_file(f.channel_file("production")).unwrap();
        assert_fails_with(
            &f.pack("production", 1, true),
            &["production.1.json already exists", "never reused"],
        );
    }

    #[test]
    fn pack_reads_secrets_from_the_environment_and_a_flag_wins() {
        let f = Fixture::new();
        let sk = fs::read_to_string(f.key("signing.key")).unwrap();
        let bk = fs::read_to_string(f.key("bundle.key")).unwrap();
        let web = p(&f.web).to_string();
        let repo = p(&f.repo).to_string();
        let base = |seq: &'static str| {
            let mut c = liveship();
            c.args([
                "pack",
                &web,
                "--app-id",
                "com.example.app",
                "--channel",
                "production",
                "--sequence",
                seq,
                "--version",
                "1.0.0",
                "--out",
                &repo,
            ]);
            c
        };
        let out = base("1")
            .env("LIVESHIP_SIGNING_KEY", &sk)
            .env("LIVESHIP_BUNDLE_KEY", &bk)
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(f.manifest("production").bundle.encryption.is_some());
        assert_ok(&f.verify_with_bundle_key("production"));

        // A flag wins over a broken environment variable.
        let sk_path = f.key("signing.key");
        let out = base("2")
            .env("LIVESHIP_SIGNING_KEY", "not json")
            .env("LIVESHIP_BUNDLE_KEY", &bk)
            .args(["--signing-key", p(&sk_path)])
            .output()
            .unwrap();
        assert_ok(&out);

        // The environment variable is read when no flag is given.
        let out = base("3")
            .env("LIVESHIP_SIGNING_KEY", "not json")
            .env("LIVESHIP_BUNDLE_KEY", &bk)
            .output()
            .unwrap();
        assert_fails_with(&out, &["signing key from $LIVESHIP_SIGNING_KEY"]);
    }

    #[test]
    fn pack_without_a_signing_key_names_the_flag_and_the_variable() {
        let f = Fixture::new();
        let out = run(&[
            "pack",
            p(&f.web),
            "--app-id",
            "a",
            "--channel",
            "c",
            "--sequence",
            "1",
            "--version",
            "1",
            "--no-encrypt",
            "--out",
            p(&f.repo),
        ]);
        assert_fails_with(&out, &["--signing-key", "LIVESHIP_SIGNING_KEY"]);
    }

    #[test]
    fn pack_requires_an_explicit_encryption_choice() {
        let f = Fixture::new();
        let sk = f.key("signing.key");
        let out = run(&[
            "pack",
            p(&f.web),
            "--app-id",
            "a",
            "--channel",
            "c",
            "--sequence",
            "1",
            "--version",
            "1",
            "--signing-key",
            p(&sk),
            "--out",
            p(&f.repo),
        ]);
        assert_fails_with(&out, &["--bundle-key", "--no-encrypt"]);
        assert!(!f.repo.join("channels").exists());
    }

    #[test]
    fn pack_validates_channel_sequence_and_rollout() {
        let f = Fixture::new();
        let sk = f.key("signing.key");
        let with = |channel: &str, seq: &str, rollout: &str| {
            run(&[
                "pack",
                p(&f.web),
                "--app-id",
                "a",
                "--channel",
                channel,
                "--sequence",
                seq,
                "--version",
                "1",
                "--signing-key",
                p(&sk),
                "--no-encrypt",
                "--rollout",
                rollout,
                "--out",
                p(&f.repo),
            ])
        };
        assert_fails_with(&with("Prod", "1", "10"), &["invalid channel name"]);
        assert_fails_with(&with("a/b", "1", "10"), &["invalid channel name"]);
        assert_fails_with(&with("prod", "0", "10"), &["--sequence must be at least 1"]);
        assert_fails_with(
            &with("prod", "1", "101"),
            &["--rollout 101 is out of range"],
        );
        assert_ok(&with("prod", "1", "100"));
        assert_eq!(f.manifest("prod").rollout, Some(100));
    }

    #[test]
    fn pack_records_expiry_native_range_and_platforms_in_the_signed_manifest() {
        let f = Fixture::new();
        let sk = f.key("signing.key");
        let with = |expires: &str, seq: &str| {
            run(&[
                "pack",
                p(&f.web),
                "--app-id",
                "com.example.app",
                "--channel",
                "production",
                "--sequence",
                seq,
                "--version",
                "2.0.0",
                "--signing-key",
                p(&sk),
                "--no-encrypt",
                "--expires-in",
                expires,
                "--native-min",
                "3.1.0",
                "--native-max",
                "3.9.9",
                "--platforms",
                "android,ios",
                "--out",
                p(&f.repo),
            ])
        };
        assert_fails_with(&with("90x", "1"), &["invalid duration \"90x\""]);
        assert_fails_with(&with("0d", "1"), &["invalid duration \"0d\""]);
        assert_ok(&with("12h", "1"));
        let m = f.manifest("production");
        assert_eq!(m.expires_at - m.issued_at, 12 * 3600);
        assert_eq!(m.native.min.as_deref(), Some("3.1.0"));
        assert_eq!(m.native.max.as_deref(), Some("3.9.9"));
        assert_eq!(m.platforms, ["android", "ios"]);
        assert_eq!(m.app_id, "com.example.app");
    }

    #[test]
    fn pack_refuses_symlinks_and_folders_without_index_html() {
        let f = Fixture::new();
        std::os::unix::fs::symlink("/etc/passwd", f.web.join("assets/link")).unwrap();
        assert_fails_with(
            &f.pack("production", 1, false),
            &["assets/link is a symbolic link"],
        );
        fs::remove_file(f.web.join("assets/link")).unwrap();

        fs::remove_file(f.web.join("index.html")).unwrap();
        assert_fails_with(&f.pack("production", 1, false), &["no index.html"]);
        assert!(!f.channel_file("production").exists());
    }

    #[test]
    fn pack_refuses_special_files() {
        let f = Fixture::new();
        let fifo = f.web.join("pipe");
        let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(st.success());
        assert_fails_with(
            &f.pack("production", 1, false),
            &["pipe is not a regular file"],
        );
    }
}

/// `pack` applies the devices' budgets and name rules (`liveship::unpack::check_file_list`)
/// before it writes anything: what it publishes, every device installs.
mod device_budgets {
    use super::*;
    use liveship::unpack::{Budgets, UnpackError};

    /// Packs `f.web` and asserts it fails with exactly the device's message and that the
    /// repository folder was not even created.
    fn assert_refused_like_a_device(f: &Fixture, device: &UnpackError) {
        let out = f.pack("production", 1, false);
        assert_fails_with(&out, &[&device.to_string()]);
        assert!(!f.repo.exists(), "nothing written into the repository");
    }

    fn web_files(f: &Fixture) -> usize {
        walkdir::WalkDir::new(&f.web)
            .into_iter()
            .filter(|e| e.as_ref().unwrap().file_type().is_file())
            .count()
    }

    #[test]
    fn pack_refuses_more_files_than_devices_extract() {
        let f = Fixture::new();
        let dir = f.web.join("many");
        fs::create_dir(&dir).unwrap();
        let limit = Budgets::default().max_entries;
        let existing = web_files(&f);
        for i in 0..=(limit - existing) {
            fs::write(dir.join(format!("{i}.txt")), b"").unwrap();
        }
        assert_eq!(web_files(&f), limit + 1);
        assert_refused_like_a_device(
            &f,
            &UnpackError::TooManyEntries {
                count: limit + 1,
                limit,
            },
        );
    }

    #[test]
    fn pack_refuses_a_folder_over_the_total_size_budget() {
        let f = Fixture::new();
        let limit = Budgets::default().max_total_bytes;
        // Sparse: refused from its size before a byte is read.
        let big = fs::File::create(f.web.join("big.bin")).unwrap();
        big.set_len(limit + 1).unwrap();
        assert_refused_like_a_device(&f, &UnpackError::TotalSizeExceeded { limit });
    }

    #[test]
    fn pack_refuses_names_that_are_one_file_on_ios() {
        let f = Fixture::new();
        let (nfc, nfd) = ("caf\u{e9}.html", "cafe\u{301}.html");
        fs::write(f.web.join(nfc), b"1").unwrap();
        fs::write(f.web.join(nfd), b"2").unwrap();
        // Sorted by bytes, the NFD spelling ("e" + U+0301) comes first.
        assert_refused_like_a_device(
            &f,
            &UnpackError::CaseCollision {
                a: nfd.into(),
                b: nfc.into(),
            },
        );
    }

    #[test]
    fn pack_refuses_a_path_longer_than_devices_allow() {
        let f = Fixture::new();
        let limit = Budgets::default().max_path_len;
        let name = "n".repeat(200);
        let deep = f.web.join(&name).join(&name);
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join(&name), b"x").unwrap();
        let path = format!("{name}/{name}/{name}");
        assert_refused_like_a_device(
            &f,
            &UnpackError::PathTooLong {
                name: path.clone(),
                len: path.len(),
                limit,
            },
        );
    }
}

#[test]
fn help_lists_the_commands() {
    let out = assert_ok(&run(&["--help"]));
    for cmd in ["keygen", "pack", "verify"] {
        assert!(out.contains(cmd), "{out}");
    }
    let out = run(&["pack"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

mod refresh {
    use super::*;

    fn refresh(f: &Fixture, key: &std::path::Path, extra: &[&str]) -> std::process::Output {
        let mut args = vec![
            "refresh",
            p(&f.repo),
            "--channel",
            "production",
            "--signing-key",
            p(key),
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    /// The release stays what it was (sequence, files, objects, incident); only the two times
    /// change, the envelope verifies as a device would, and the archived release is untouched.
    #[test]
    fn refresh_resigns_the_same_release_with_new_times() {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 3, true));
        let before = f.manifest("production");
        let archived = fs::read(f.repo.join("releases/production.3.json")).unwrap();
        let at = before.issued_at + 86_400;
        let out = assert_ok(&refresh(
            &f,
            &f.key("signing.key"),
            &["--expires-in", "2d", "--now", &at.to_string()],
        ));
        assert!(out.contains("Refreshed production#3 (1.2.0)"), "{out}");
        assert!(out.contains("(valid 2d)"), "{out}");
        let after = f.manifest("production");
        assert_eq!((after.issued_at, after.expires_at), (at, at + 2 * 86_400));
        let same_times = release::Manifest {
            issued_at: before.issued_at,
            expires_at: before.expires_at,
            ..after.clone()
        };
        assert_eq!(same_times, before);
        assert_eq!(
            fs::read(f.repo.join("releases/production.3.json")).unwrap(),
            archived
        );
        // A device at that time accepts it: signature, expiry, bundle, files.
        let now = (at + 3600).to_string();
        assert_ok(&f.verify(
            "production",
            &["--now", &now, "--bundle-key", p(&f.key("bundle.key"))],
        ));
        // Without --expires-in the validity period stays (2 days), from the new issue time.
        let later = at + 3600;
        assert_ok(&refresh(
            &f,
            &f.key("signing.key"),
            &["--now", &later.to_string()],
        ));
        let again = f.manifest("production");
        assert_eq!(
            (again.issued_at, again.expires_at),
            (later, later + 2 * 86_400)
        );
        // A refresh at a time not past the current issue time still moves it forward.
        assert_ok(&refresh(
            &f,
            &f.key("signing.key"),
            &["--now", &at.to_string()],
        ));
        assert_eq!(f.manifest("production").issued_at, later + 1);
    }

    /// A channel file the signing key did not sign (replaced on the host, or a wrong key in CI)
    /// is never re-signed: refresh would launder it.
    #[test]
    fn refresh_refuses_an_envelope_its_key_did_not_sign() {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 1, false));
        let other = f.root.join("other");
        assert_ok(&run(&["keygen", "--out", p(&other)]));
        let original = fs::read(f.channel_file("production")).unwrap();
        let out = refresh(&f, &other.join("signing.key"), &[]);
        assert_fails_with(
            &out,
            &["does not verify under signing key", "liveship pack"],
        );
        assert_each_cause_once(&stderr(&out));
        assert_eq!(fs::read(f.channel_file("production")).unwrap(), original);

        // The host replaced the manifest (signed by someone else): refused, left as it is.
        let forged = signing_key_from(&other.join("signing.key"));
        let mut m = f.manifest("production");
        m.version = "evil".into();
        let env = release::sign_envelope(&release::manifest_bytes(&m), &forged);
        f.write_envelope("production", &env);
        assert_fails_with(
            &refresh(&f, &f.key("signing.key"), &[]),
            &[
                "does not verify under signing key",
                "no signature by a pinned key",
            ],
        );
        assert_eq!(f.manifest("production").version, "evil");
    }

    #[test]
    fn refresh_of_an_unpublished_channel_or_a_bad_duration_fails_clearly() {
        let f = Fixture::new();
        assert_fails_with(
            &refresh(&f, &f.key("signing.key"), &[]),
            &[
                "channel \"production\" has not been published",
                "does not exist",
            ],
        );
        assert_ok(&f.pack("production", 1, false));
        assert_fails_with(
            &refresh(&f, &f.key("signing.key"), &["--expires-in", "soon"]),
            &["invalid duration \"soon\""],
        );
    }
}

mod audit_log {
    use super::*;
    use serde_json::Value;

    fn log(f: &Fixture, extra: &[&str]) -> std::process::Output {
        let pubk = f.key("signing.pub");
        let mut args = vec!["log", p(&f.repo), "--public-key", p(&pubk)];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn incident(f: &Fixture, seq: u64, revoke: u64) {
        let revoke = revoke.to_string();
        let extra = [
            "--no-encrypt",
            "--revoke-sequence",
            &revoke,
            "--rollout",
            "50",
        ];
        assert_ok(&f.pack_extra("production", seq, &extra));
    }

    /// The log is the published history: each release and incident with its signed fields,
    /// the current one marked, a refresh shown with its new times.
    #[test]
    fn log_lists_every_release_and_incident_as_published() {
        let f = Fixture::new();
        assert_ok(&f.pack("production", 1, true));
        assert_ok(&f.pack("production", 2, false));
        assert_ok(&f.pack("beta", 1, false));
        incident(&f, 3, 2);
        let at = f.manifest("production").issued_at + 3600;
        let sk = f.key("signing.key");
        assert_ok(&run(&[
            "refresh",
            p(&f.repo),
            "--channel",
            "production",
            "--signing-key",
            p(&sk),
            "--now",
            &at.to_string(),
        ]));
        let key_id = liveship::crypto::public_key_id(f.signing_key().verifying_key().as_bytes());

        let out = assert_ok(&log(&f, &["--json", "--channel", "production"]));
        let entries: Vec<Value> = serde_json::from_str(&out).unwrap();
        let seqs: Vec<u64> = entries
            .iter()
            .map(|e| e["sequence"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        for (e, seq) in entries.iter().zip(1..) {
            let release: release::Envelope = serde_json::from_slice(
                &fs::read(f.repo.join(format!("releases/production.{seq}.json"))).unwrap(),
            )
            .unwrap();
            let m: release::Manifest =
                serde_json::from_slice(&B64.decode(release.payload).unwrap()).unwrap();
            assert_eq!(e["verified"], true, "{e}");
            assert_eq!(e["version"], m.version.as_str());
            assert_eq!(e["keyId"], key_id.as_str());
            assert_eq!(e["issuedAt"], m.issued_at);
            assert_eq!(e["expiresAt"], m.expires_at);
            assert_eq!(e["contentId"], m.content_id().as_str());
            assert_eq!(e["current"], seq == 3);
        }
        assert_eq!(entries[0]["kind"], "release");
        assert_eq!(entries[2]["kind"], "incident");
        assert_eq!(entries[2]["revokedSequences"], serde_json::json!([2]));
        assert_eq!(entries[2]["rollout"], 50);
        assert_eq!(entries[2]["refreshed"]["issuedAt"], at);
        assert!(entries[1].get("refreshed").is_none());

        // Every channel without --channel; the table says the same.
        let all: Vec<Value> = serde_json::from_str(&assert_ok(&log(&f, &["--json"]))).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0]["channel"], "beta");
        let table = assert_ok(&log(&f, &[]));
        let line = table
            .lines()
            .find(|l| l.starts_with("production  3"))
            .unwrap();
        for needle in [
            "incident",
            "1.2.0",
            &key_id,
            "50%",
            "current",
            "refreshed",
            "revokes sequences [2]",
        ] {
            assert!(line.contains(needle), "{needle:?} missing from {line:?}");
        }
    }

    /// A history that was tampered with is flagged, the rest still listed, and the command
    /// fails (so a CI audit notices).
    #[test]
    fn log_flags_envelopes_that_do_not_verify() {
        let f = Fixture::new();
        for seq in 1..=3 {
            assert_ok(&f.pack("production", seq, false));
        }
        // Release 2 re-signed by a key the app does not pin.
        let other = f.root.join("other");
        assert_ok(&run(&["keygen", "--out", p(&other)]));
        let forged = signing_key_from(&other.join("signing.key"));
        let path2 = f.repo.join("releases/production.2.json");
        let env: release::Envelope = serde_json::from_slice(&fs::read(&path2).unwrap()).unwrap();
        let mut m: release::Manifest =
            serde_json::from_slice(&B64.decode(&env.payload).unwrap()).unwrap();
        m.version = "evil".into();
        let env2 = release::sign_envelope(&release::manifest_bytes(&m), &forged);
        fs::write(&path2, serde_json::to_vec(&env2).unwrap()).unwrap();
        // Release 1's file copied under another sequence's name.
        fs::copy(
            f.repo.join("releases/production.1.json"),
            f.repo.join("releases/production.7.json"),
        )
        .unwrap();

        let out = log(&f, &["--json"]);
        assert_fails_with(&out, &["2 of 4 envelopes", "did not verify"]);
        let entries: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
        let by_seq = |s: u64| entries.iter().find(|e| e["sequence"] == s).unwrap();
        assert_eq!(by_seq(1)["verified"], true);
        assert_eq!(by_seq(3)["verified"], true);
        assert_eq!(by_seq(3)["current"], true);
        assert_eq!(by_seq(2)["verified"], false);
        assert!(by_seq(2)["error"]
            .as_str()
            .unwrap()
            .contains("no signature by a pinned key"));
        assert!(
            by_seq(2).get("version").is_none(),
            "nothing unverified is shown"
        );
        assert_eq!(by_seq(7)["verified"], false);
        assert!(by_seq(7)["error"]
            .as_str()
            .unwrap()
            .contains("the file name says production#7"));

        // The table marks them too.
        let table = stdout(&log(&f, &[]));
        assert!(
            table.contains("NOT VERIFIED releases/production.2.json"),
            "{table}"
        );

        // A channel file naming a release missing from the history is flagged.
        fs::remove_file(f.repo.join("releases/production.3.json")).unwrap();
        let entries: Vec<Value> = serde_json::from_str(&stdout(&log(&f, &["--json"]))).unwrap();
        let channel = entries
            .iter()
            .find(|e| e["file"] == "channels/production.json")
            .unwrap();
        assert_eq!(channel["verified"], false);
        assert!(channel["error"]
            .as_str()
            .unwrap()
            .contains("no verified envelope under releases/"));
    }
}
