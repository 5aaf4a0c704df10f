//! Fixtures for the device-core tests: deterministic test keys (parent and child processes of
//! the crash harness agree on them), a device `Config`, web folders to publish (a good app and a
//! "broken" one that never confirms), real releases made by `publish::pack`, and hand-made
//! releases re-signed with the test key (for rejection tests), and `LocalDevice`, a device fed
//! those release files on a manual clock.

#[allow(unused_imports)] // each test binary uses a different part
pub use super::{pinned, Recorder, APP_ID};

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use liveship::clock::ManualClock;
use liveship::config::Config;
use liveship::crypto::{self, Key};
use liveship::engine::Engine;
use liveship::events::Event;
use liveship::fetch::HttpConfig;
use liveship::publish::{self, PackOptions, Packed};
use liveship::release::{self, BundleKey, Manifest, NativeRange, PinnedKey};
use tempfile::TempDir;

pub const CHANNEL: &str = "production";
pub const PLATFORM: &str = "android";
pub const NATIVE: &str = "1.0.0";

/// The test publisher's signing key (deterministic, so parent and child processes agree).
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// The app's bundle key.
pub fn bundle_key_bytes() -> Key {
    [9; 32]
}

pub fn bundle_key() -> BundleKey {
    BundleKey::new(&bundle_key_bytes())
}

/// The pinned form of [`signing_key`], allowed on every channel.
pub fn pinned_key() -> PinnedKey {
    pinned(&signing_key(), &["*"])
}

/// A device configuration trusting the test keys; the app-ready timer is off (0) so tests
/// decide when a trial fails. Built from JSON so every other field takes its documented default.
pub fn config(builtin_dir: &Path) -> Config {
    let v = serde_json::json!({
        "appId": APP_ID,
        "platform": PLATFORM,
        "nativeVersion": NATIVE,
        "builtinDir": builtin_dir,
        "builtinVersion": "1.0.0-builtin",
        "publicKeys": [pinned_key()],
        "bundleKeys": [bundle_key()],
        "appReadyTimeout": 0,
    });
    let cfg: Config = serde_json::from_value(v).expect("test config parses");
    cfg.validate().expect("test config is valid");
    cfg
}

/// A small web app that calls `notifyAppReady` with the bundle id it was loaded from. `label`
/// makes each release's content (and so its content id) distinct.
pub fn good_app(dir: &Path, label: &str) {
    fs::create_dir_all(dir.join("assets")).unwrap();
    fs::write(
        dir.join("index.html"),
        format!(
            "<!doctype html><title>{label}</title><script src=\"assets/app.js\"></script>\n\
             <h1>{label}</h1>\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join("assets/app.js"),
        format!(
            "// {label}\nconst id = window.LIVESHIP_BUNDLE_ID;\n\
             Liveship.notifyAppReady({{ bundleId: id }});\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join("assets/style.css"),
        format!("/* {label} */ body {{ font-family: sans-serif; }}\n"),
    )
    .unwrap();
}

/// A web app that throws before it can confirm: the device must revert it.
pub fn broken_app(dir: &Path, label: &str) {
    fs::create_dir_all(dir.join("assets")).unwrap();
    fs::write(
        dir.join("index.html"),
        format!("<!doctype html><title>{label}</title><script src=\"assets/app.js\"></script>\n"),
    )
    .unwrap();
    fs::write(
        dir.join("assets/app.js"),
        format!("// {label}\nthrow new Error('boot failure');\n"),
    )
    .unwrap();
}

/// A device that installs release files from a local repository folder (no network): its data
/// folder, the repository, its [`config`], the events it emitted, and its engines' clock (time,
/// and with it the app-ready timer, moves only when a test advances it).
pub struct LocalDevice {
    pub data: TempDir,
    pub repo: TempDir,
    pub events: Recorder,
    pub config: Config,
    pub clock: Arc<ManualClock>,
}

impl LocalDevice {
    pub fn new() -> LocalDevice {
        let data = tempfile::tempdir().unwrap();
        let config = config(&data.path().join("builtin-web"));
        LocalDevice {
            data,
            repo: tempfile::tempdir().unwrap(),
            events: Recorder::default(),
            config,
            clock: Arc::new(ManualClock::new()),
        }
    }

    /// An engine on the device's data folder, configuration and clock.
    pub fn open(&self) -> Engine {
        Engine::open_with_clock(
            self.config.clone(),
            self.data.path(),
            self.events.sink(),
            HttpConfig::default(),
            self.clock.clone(),
        )
        .unwrap()
    }

    /// Publishes good release `seq` into the repository; returns the release file.
    pub fn good(&self, seq: u64) -> PathBuf {
        good_release(self.repo.path(), seq)
    }

    /// Publishes broken release `seq` into the repository; returns the release file.
    pub fn broken(&self, seq: u64) -> PathBuf {
        broken_release(self.repo.path(), seq)
    }

    /// Every event the device emitted so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.events.events()
    }
}

/// What a release differs in; `Default` is an encrypted release of [`APP_ID`] on [`CHANNEL`].
#[derive(Clone, Debug)]
pub struct Rel {
    pub app_id: String,
    pub channel: String,
    pub version: Option<String>,
    pub encrypt: bool,
    pub native: NativeRange,
    pub platforms: Vec<String>,
    pub expires_in: u64,
    /// `issued_at`; defaults to now.
    pub now: Option<u64>,
}

impl Default for Rel {
    fn default() -> Self {
        Rel {
            app_id: APP_ID.into(),
            channel: CHANNEL.into(),
            version: None,
            encrypt: true,
            native: NativeRange::default(),
            platforms: vec![],
            expires_in: 90 * 24 * 3600,
            now: None,
        }
    }
}

/// Publishes `webdir` into the release repository `repo` as sequence `seq` with the real
/// `publish::pack` (zip, seal, sign). The release file is `repo/releases/<ch>.<seq>.json`.
pub fn make_release(repo: &Path, webdir: &Path, seq: u64, rel: &Rel) -> Packed {
    let bk = bundle_key();
    let version = rel.version.clone().unwrap_or_else(|| format!("1.0.{seq}"));
    publish::pack(
        &PackOptions {
            webdir,
            repo,
            app_id: &rel.app_id,
            channel: &rel.channel,
            sequence: seq,
            version: &version,
            signing_key: &signing_key(),
            bundle_key: rel.encrypt.then_some(&bk),
            expires_in: rel.expires_in,
            native: rel.native.clone(),
            platforms: rel.platforms.clone(),
            rollout: None,
            incident: None,
            now: rel
                .now
                .unwrap_or_else(|| liveship::clock::Clock::now(&liveship::clock::SystemClock)),
        },
        &publish::Silent,
    )
    .unwrap_or_else(|e| panic!("packing release {seq}: {e}"))
}

/// Publishes a good app labelled `app-<seq>` as sequence `seq`; returns the release file path.
pub fn good_release(repo: &Path, seq: u64) -> PathBuf {
    let web = repo.join("web").join(seq.to_string());
    good_app(&web, &format!("app-{seq}"));
    make_release(repo, &web, seq, &Rel::default()).release_path
}

/// Publishes a broken app as sequence `seq`; returns the release file path.
pub fn broken_release(repo: &Path, seq: u64) -> PathBuf {
    let web = repo.join("web").join(seq.to_string());
    broken_app(&web, &format!("broken-{seq}"));
    make_release(repo, &web, seq, &Rel::default()).release_path
}

/// The manifest inside a release file (verified with the test key).
pub fn manifest_of(release_file: &Path) -> Manifest {
    let bytes = fs::read(release_file).unwrap();
    release::verify_envelope(&bytes, &[pinned_key()])
        .expect("test release verifies")
        .manifest
}

/// The device's id for the bundle of a release file.
pub fn bundle_id_of(release_file: &Path) -> String {
    liveship::install::bundle_id(&manifest_of(release_file))
}

/// Signs `manifest` with the test key and writes it as `repo/releases/<name>.json`; returns the
/// path. The bundle object URL in the manifest is resolved relative to it, as devices do.
pub fn write_signed(repo: &Path, name: &str, manifest: &Manifest) -> PathBuf {
    let env = release::sign_envelope(&release::manifest_bytes(manifest), &signing_key());
    let dir = repo.join("releases");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, serde_json::to_vec_pretty(&env).unwrap()).unwrap();
    path
}

/// Seals `zip` with a fresh content key wrapped under `key` (the app's bundle key unless a test
/// says otherwise), stores it as `repo/bundles/<sha>.lsb`, and points `manifest.bundle` at it.
pub fn seal_into(repo: &Path, zip: &[u8], key: &Key, manifest: &mut Manifest) {
    let content_key: Key = crypto::random_bytes();
    let prefix: [u8; crypto::NONCE_PREFIX_SIZE] = crypto::random_bytes();
    let mut sealed = Vec::new();
    crypto::seal_stream(&content_key, &prefix, zip, &mut sealed).unwrap();
    let wrapped = crypto::wrap_content_key(key, &content_key, &crypto::random_bytes::<12>());
    let sha = crypto::sha256_hex(&sealed);
    let dir = repo.join("bundles");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("{sha}.lsb")), &sealed).unwrap();
    manifest.bundle.url = format!("../bundles/{sha}.lsb");
    manifest.bundle.size = sealed.len() as u64;
    manifest.bundle.sha256 = sha;
    manifest.bundle.encryption = Some(release::Encryption {
        alg: crypto::STREAM_ALG.into(),
        key_id: crypto::bundle_key_id(key),
        wrapped_key: B64.encode(wrapped),
        nonce_prefix: hex::encode(prefix),
    });
}

/// Names of the entries of a directory, sorted (empty if it does not exist).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}
