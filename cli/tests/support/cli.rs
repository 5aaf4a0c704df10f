//! Runs the real `liveship` binary and builds publisher fixtures (keys, a web folder, a
//! repository) for the CLI's test binaries.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::crypto::{SEGMENT_SIZE, TAG_SIZE};
use liveship::release::{self, Envelope, Manifest};
use tempfile::TempDir;

pub const SEALED_SEGMENT: usize = SEGMENT_SIZE + TAG_SIZE;

pub fn liveship() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_liveship"));
    c.env_remove("LIVESHIP_SIGNING_KEY")
        .env_remove("LIVESHIP_BUNDLE_KEY");
    c
}

pub fn run(args: &[&str]) -> Output {
    liveship().args(args).output().expect("run liveship")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) -> String {
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
pub fn assert_fails_with(o: &Output, needles: &[&str]) {
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

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Deterministic incompressible bytes (xorshift), so the sealed bundle spans several segments.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
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
pub fn make_web(dir: &Path) {
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

pub struct Fixture {
    pub _tmp: TempDir,
    pub root: PathBuf,
    pub keys: PathBuf,
    pub web: PathBuf,
    pub repo: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_channels("*")
    }

    pub fn with_channels(channels: &str) -> Self {
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

    pub fn key(&self, name: &str) -> PathBuf {
        self.keys.join(name)
    }

    pub fn pack(&self, channel: &str, seq: u64, encrypt: bool) -> Output {
        let bk = self.key("bundle.key");
        if encrypt {
            self.pack_extra(channel, seq, &["--bundle-key", p(&bk)])
        } else {
            self.pack_extra(channel, seq, &["--no-encrypt"])
        }
    }

    /// `pack` of the fixture's web folder as version 1.2.0 with the fixture's signing key,
    /// plus `extra` (which must make the encryption choice).
    pub fn pack_extra(&self, channel: &str, seq: u64, extra: &[&str]) -> Output {
        let seq = seq.to_string();
        let sk = self.key("signing.key");
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
        args.extend_from_slice(extra);
        run(&args)
    }

    pub fn channel_file(&self, channel: &str) -> PathBuf {
        self.repo.join("channels").join(format!("{channel}.json"))
    }

    pub fn verify(&self, channel: &str, extra: &[&str]) -> Output {
        let manifest = self.channel_file(channel);
        let pubk = self.key("signing.pub");
        let mut args = vec!["verify", p(&manifest), "--public-key", p(&pubk)];
        args.extend_from_slice(extra);
        run(&args)
    }

    pub fn verify_with_bundle_key(&self, channel: &str) -> Output {
        let bk = self.key("bundle.key");
        self.verify(channel, &["--bundle-key", p(&bk)])
    }

    pub fn envelope(&self, channel: &str) -> Envelope {
        serde_json::from_slice(&fs::read(self.channel_file(channel)).unwrap()).unwrap()
    }

    pub fn manifest(&self, channel: &str) -> Manifest {
        let payload = B64.decode(self.envelope(channel).payload).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }

    pub fn write_envelope(&self, channel: &str, env: &Envelope) {
        fs::write(
            self.channel_file(channel),
            serde_json::to_vec_pretty(env).unwrap(),
        )
        .unwrap();
    }

    pub fn signing_key(&self) -> SigningKey {
        signing_key_from(&self.key("signing.key"))
    }

    /// Rewrites the channel's manifest with `edit` and signs it again with the real key, so a
    /// check after the signature is what must catch the change.
    pub fn resign(&self, channel: &str, edit: impl FnOnce(&mut Manifest)) {
        let mut m = self.manifest(channel);
        edit(&mut m);
        let env = release::sign_envelope(&release::manifest_bytes(&m), &self.signing_key());
        self.write_envelope(channel, &env);
    }

    pub fn bundle_path(&self, channel: &str) -> PathBuf {
        let url = self.manifest(channel).bundle.url;
        self.repo.join(url.trim_start_matches("../"))
    }

    /// Replaces the bundle object's bytes and re-signs a manifest that matches them, so that only
    /// decryption can notice.
    pub fn tamper_sealed_bundle(&self, channel: &str, edit: impl FnOnce(&mut Vec<u8>)) {
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

pub fn signing_key_from(path: &Path) -> SigningKey {
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let seed: [u8; 32] = B64
        .decode(v["secretKey"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    SigningKey::from_bytes(&seed)
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Asserts that no sentence of an error message is repeated: split at `": "`, every part of
/// every line is different from the others (a cause printed both in its parent's message and
/// as the next link of the chain shows up as a repeated part).
#[track_caller]
pub fn assert_each_cause_once(text: &str) {
    for line in text.lines().filter(|l| !l.starts_with("event: ")) {
        let parts: Vec<&str> = line.split(": ").map(str::trim).collect();
        for (i, part) in parts.iter().enumerate() {
            assert!(
                !parts[i + 1..].contains(part),
                "{part:?} is printed more than once in:\n{line}"
            );
        }
    }
}
