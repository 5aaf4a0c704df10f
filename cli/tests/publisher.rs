//! The publisher CLI end to end: the real `liveship` binary generates keys, packs web folders
//! into a repository and verifies them, and `verify` rejects every tampered artifact with a
//! message naming the failed check.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::crypto::{SEGMENT_SIZE, TAG_SIZE};
use liveship::policy;
use liveship::release::{self, Envelope, Manifest};
use tempfile::TempDir;

const SEALED_SEGMENT: usize = SEGMENT_SIZE + TAG_SIZE;

fn liveship() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_liveship"));
    c.env_remove("LIVESHIP_SIGNING_KEY")
        .env_remove("LIVESHIP_BUNDLE_KEY");
    c
}

fn run(args: &[&str]) -> Output {
    liveship().args(args).output().expect("run liveship")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Asserts a failure with exit status 1 whose stderr contains every `needle`.
#[track_caller]
fn assert_fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected exit 1, got {:?}\nstdout: {}\nstderr: {err}",
        o.status,
        stdout(o)
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Deterministic incompressible bytes (xorshift), so the sealed bundle spans several segments.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A web folder of about 300 KB: its sealed bundle has 5 segments.
fn make_web(dir: &Path) {
    fs::create_dir_all(dir.join("assets/img")).unwrap();
    fs::write(
        dir.join("index.html"),
        "<!doctype html><title>t</title><script src=app.js></script>",
    )
    .unwrap();
    fs::write(dir.join("app.js"), "console.log('v1');\n").unwrap();
    fs::write(dir.join("assets/style.css"), "body { color: #123; }\n").unwrap();
    // Same content twice: one delta object serves both.
    fs::write(dir.join("assets/copy.css"), "body { color: #123; }\n").unwrap();
    fs::write(
        dir.join("assets/img/photo.bin"),
        noise(300 * 1024, 0x9e3779b97f4a7c15),
    )
    .unwrap();
}

struct Fixture {
    _tmp: TempDir,
    root: PathBuf,
    keys: PathBuf,
    web: PathBuf,
    repo: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        Self::with_channels("*")
    }

    fn with_channels(channels: &str) -> Self {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().to_path_buf();
        let keys = root.join("keys");
        assert_ok(&run(&["keygen", "--out", p(&keys), "--channels", channels]));
        let web = root.join("web");
        make_web(&web);
        Fixture {
            _tmp: tmp,
            repo: root.join("repo"),
            root,
            keys,
            web,
        }
    }

    fn key(&self, name: &str) -> PathBuf {
        self.keys.join(name)
    }

    fn pack(&self, channel: &str, seq: u64, encrypt: bool) -> Output {
        let seq = seq.to_string();
        let sk = self.key("signing.key");
        let bk = self.key("bundle.key");
        let mut args = vec![
            "pack",
            p(&self.web),
            "--app-id",
            "com.example.app",
            "--channel",
            channel,
            "--sequence",
            &seq,
            "--version",
            "1.2.0",
            "--signing-key",
            p(&sk),
            "--out",
            p(&self.repo),
        ];
        if encrypt {
            args.extend(["--bundle-key", p(&bk)]);
        } else {
            args.push("--no-encrypt");
        }
        run(&args)
    }

    fn channel_file(&self, channel: &str) -> PathBuf {
        self.repo.join("channels").join(format!("{channel}.json"))
    }

    fn verify(&self, channel: &str, extra: &[&str]) -> Output {
        let manifest = self.channel_file(channel);
        let pubk = self.key("signing.pub");
        let mut args = vec!["verify", p(&manifest), "--public-key", p(&pubk)];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn verify_with_bundle_key(&self, channel: &str) -> Output {
        let bk = self.key("bundle.key");
        self.verify(channel, &["--bundle-key", p(&bk)])
    }

    fn envelope(&self, channel: &str) -> Envelope {
        serde_json::from_slice(&fs::read(self.channel_file(channel)).unwrap()).unwrap()
    }

    fn manifest(&self, channel: &str) -> Manifest {
        let payload = B64.decode(self.envelope(channel).payload).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }

    fn write_envelope(&self, channel: &str, env: &Envelope) {
        fs::write(
            self.channel_file(channel),
            serde_json::to_vec_pretty(env).unwrap(),
        )
        .unwrap();
    }

    fn signing_key(&self) -> SigningKey {
        signing_key_from(&self.key("signing.key"))
    }

    /// Rewrites the channel's manifest with `edit` and signs it again with the real key, so a
    /// check after the signature is what must catch the change.
    fn resign(&self, channel: &str, edit: impl FnOnce(&mut Manifest)) {
        let mut m = self.manifest(channel);
        edit(&mut m);
        let env = release::sign_envelope(&release::manifest_bytes(&m), &self.signing_key());
        self.write_envelope(channel, &env);
    }

    fn bundle_path(&self, channel: &str) -> PathBuf {
        let url = self.manifest(channel).bundle.url;
        self.repo.join(url.trim_start_matches("../"))
    }

    /// Replaces the bundle object's bytes and re-signs a manifest that matches them, so that only
    /// decryption can notice.
    fn tamper_sealed_bundle(&self, channel: &str, edit: impl FnOnce(&mut Vec<u8>)) {
        let path = self.bundle_path(channel);
        let mut bytes = fs::read(&path).unwrap();
        edit(&mut bytes);
        fs::write(&path, &bytes).unwrap();
        self.resign(channel, |m| {
            m.bundle.size = bytes.len() as u64;
            m.bundle.sha256 = liveship::crypto::sha256_hex(&bytes);
        });
    }
}

fn signing_key_from(path: &Path) -> SigningKey {
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let seed: [u8; 32] = B64
        .decode(v["secretKey"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&seed)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

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

#[test]
fn help_lists_the_commands() {
    let out = assert_ok(&run(&["--help"]));
    for cmd in ["keygen", "pack", "verify"] {
        assert!(out.contains(cmd), "{out}");
    }
    let out = run(&["pack"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}
