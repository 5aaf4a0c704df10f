//! Capgo mode end to end (docs/CAPGO.md §6): the engine checks a Capgo-style `/updates`
//! backend of our own on loopback, downloads the Capgo v2 bundles made by the real `@capgo/cli`
//! (scripts/capgo-test.sh makes them and runs these ignored tests with LIVESHIP_CAPGO_FIXTURES
//! set), verifies them against the app's RSA key before extracting, installs them crash-proof
//! as `next`, confirms one, reverts a broken one and never takes it again; tampered bundles are
//! refused with their own check and leave nothing installed.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveship::clock::ManualClock;
use liveship::config::{Config, UpdateMode};
use liveship::engine::{CheckResult, CoreError, Engine};
use liveship::error::LiveshipError;
use liveship::events::UpdateOutcome;
use serde::Deserialize;
use serde_json::{json, Value};
use support::{fast_http, respond, Net, Recorder, Request, Step};

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Encrypted {
    encrypted: PathBuf,
    session_key: String,
    checksum: String,
}

#[derive(Deserialize, Clone)]
struct DeltaEntry {
    file_name: String,
    file_hash: String,
    object: PathBuf,
}

/// A delta release (made by scripts/capgo-test.sh as Capgo's upload makes one).
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Delta {
    version: String,
    session_key: String,
    web_dir: PathBuf,
    entries: Vec<DeltaEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixtures {
    public_key: String,
    web_dir: PathBuf,
    /// The CLI's plain zip and its SHA-256 (hex), as an unsigned release carries it.
    zip: PathBuf,
    sha256: String,
    app: Encrypted,
    other: Encrypted,
    second: Encrypted,
    delta: Delta,
}

fn fixtures() -> Fixtures {
    let path = std::env::var("LIVESHIP_CAPGO_FIXTURES").unwrap_or_else(|_| {
        panic!("LIVESHIP_CAPGO_FIXTURES is not set: run scripts/capgo-test.sh, which makes them")
    });
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// What the backend answers next: a release (version, the bytes it serves, the session key and
/// checksum it announces), or any JSON with a status and headers.
#[derive(Clone)]
enum Offer {
    Release {
        version: String,
        zip: Vec<u8>,
        session_key: String,
        checksum: String,
    },
    Raw(&'static str, Vec<(&'static str, String)>, Value),
    /// A release with both a zip and a manifest under one session key (the zip's).
    Both {
        version: String,
        zip: Vec<u8>,
        session_key: String,
        checksum: String,
        entries: Vec<(String, String, Vec<u8>)>,
    },
    /// A delta manifest: entries (name, hash, object bytes) served at `/objects/<i>`.
    Manifest {
        version: String,
        session_key: String,
        entries: Vec<(String, String, Vec<u8>)>,
    },
}

fn manifest(d: &Delta) -> Offer {
    Offer::Manifest {
        version: d.version.clone(),
        session_key: d.session_key.clone(),
        entries: d
            .entries
            .iter()
            .map(|e| {
                (
                    e.file_name.clone(),
                    e.file_hash.clone(),
                    std::fs::read(&e.object).unwrap(),
                )
            })
            .collect(),
    }
}

fn release(version: &str, e: &Encrypted) -> Offer {
    Offer::Release {
        version: version.into(),
        zip: std::fs::read(&e.encrypted).unwrap(),
        session_key: e.session_key.clone(),
        checksum: e.checksum.clone(),
    }
}

/// A Capgo-style backend: `POST /updates` answers the current [`Offer`] (a release names its
/// zip at `/bundles/<version>.zip`, served from memory); every request is recorded.
struct Backend {
    net: Net,
    offer: Arc<Mutex<Offer>>,
}

/// A release as Capgo's `/updates` offers it: a zip at `/bundles/<version>.zip` with its
/// `checksum` (when `checksum` is given), a `manifest` of objects at `/objects/<i>` (when there
/// are entries), and the session key (none when empty: an unencrypted bundle).
fn release_answer(
    req: &Request,
    version: &str,
    session_key: &str,
    checksum: Option<&str>,
    entries: &[(String, String, Vec<u8>)],
) -> Value {
    let host = req.header("host").unwrap();
    let mut v = json!({ "version": version, "checksum": checksum.unwrap_or("") });
    if !session_key.is_empty() {
        v["session_key"] = session_key.into();
    }
    if checksum.is_some() {
        v["url"] = format!("http://{host}/bundles/{version}.zip").into();
    }
    if !entries.is_empty() {
        let manifest: Vec<Value> = entries
            .iter()
            .enumerate()
            .map(|(i, (name, hash, _))| {
                json!({"file_name": name, "file_hash": hash, "download_url": format!("http://{host}/objects/{i}")})
            })
            .collect();
        v["manifest"] = manifest.into();
    }
    v
}

impl Backend {
    fn new(offer: Offer) -> Backend {
        let offer = Arc::new(Mutex::new(offer));
        let shared = offer.clone();
        let net = Net::scripted(move |_, req: &Request| -> Vec<Step> {
            let offer = shared.lock().unwrap().clone();
            let json = |status: &str, headers: &[(&str, String)], body: &Value| {
                let mut h = headers.to_vec();
                h.push(("Content-Type", "application/json".into()));
                respond(status, &h, body.to_string().as_bytes())
            };
            match (req.method.as_str(), req.path.as_str(), &offer) {
                (
                    "POST",
                    "/updates",
                    Offer::Release {
                        version,
                        session_key,
                        checksum,
                        ..
                    },
                ) => json(
                    "200 OK",
                    &[],
                    &release_answer(req, version, session_key, Some(checksum), &[]),
                ),
                ("POST", "/updates", Offer::Raw(status, headers, body)) => {
                    json(status, headers, body)
                }
                (
                    "POST",
                    "/updates",
                    Offer::Manifest {
                        version,
                        session_key,
                        entries,
                    },
                ) => json(
                    "200 OK",
                    &[],
                    &release_answer(req, version, session_key, None, entries),
                ),
                (
                    "POST",
                    "/updates",
                    Offer::Both {
                        version,
                        session_key,
                        checksum,
                        entries,
                        ..
                    },
                ) => json(
                    "200 OK",
                    &[],
                    &release_answer(req, version, session_key, Some(checksum), entries),
                ),
                ("GET", path, Offer::Both { version, zip, .. })
                    if path == format!("/bundles/{version}.zip") =>
                {
                    respond("200 OK", &[], zip)
                }
                ("GET", path, Offer::Manifest { entries, .. } | Offer::Both { entries, .. })
                    if path.starts_with("/objects/") =>
                {
                    match path["/objects/".len()..]
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| entries.get(i))
                    {
                        Some((_, _, bytes)) => respond("200 OK", &[], bytes),
                        None => respond("404 Not Found", &[], b""),
                    }
                }
                ("GET", path, Offer::Release { version, zip, .. })
                    if path == format!("/bundles/{version}.zip") =>
                {
                    respond("200 OK", &[], zip)
                }
                _ => respond("404 Not Found", &[], b""),
            }
        });
        Backend { net, offer }
    }

    fn offer(&self, o: Offer) {
        *self.offer.lock().unwrap() = o;
    }

    fn requests(&self, method: &str) -> Vec<Request> {
        self.net
            .server
            .requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }
}

/// A device in Capgo mode against `backend`, with the app's public key.
struct Device {
    dir: tempfile::TempDir,
    config: Config,
    clock: Arc<ManualClock>,
    events: Recorder,
}

impl Device {
    fn new(backend: &Backend, public_key: &str) -> Device {
        Self::with_key(backend, Some(public_key))
    }

    /// A device with `publicKey` (`None`: without one, accepting unsigned bundles, unsafely).
    fn with_key(backend: &Backend, public_key: Option<&str>) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let builtin = dir.path().join("builtin");
        std::fs::create_dir_all(&builtin).unwrap();
        std::fs::write(builtin.join("index.html"), "built-in").unwrap();
        let mut config = support::fixtures::config(&builtin);
        config.update_mode = UpdateMode::Capgo;
        config.update_url = Some(backend.net.server.url("/updates").to_string());
        config.public_key = public_key.map(str::to_string);
        config.allow_unsigned_capgo_bundles = public_key.is_none();
        config.allow_insecure_loopback = true;
        config.validate().unwrap();
        Device {
            dir,
            config,
            clock: Arc::new(ManualClock::new()),
            events: Recorder::default(),
        }
    }

    /// The engine, opened again on the same folder (as after the app was killed).
    fn open(&self) -> Engine {
        Engine::open_with_clock(
            self.config.clone(),
            &self.dir.path().join("data"),
            self.events.sink(),
            fast_http(),
            self.clock.clone(),
        )
        .unwrap()
    }
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn installed(o: UpdateOutcome) -> String {
    match o {
        UpdateOutcome::Installed { id, .. } => id,
        other => panic!("not installed: {other:?}"),
    }
}

fn no_update(o: UpdateOutcome) -> (String, String) {
    match o {
        UpdateOutcome::NoUpdate { code, reason } => (code, reason),
        other => panic!("installed: {other:?}"),
    }
}

/// The `check` of a verification failure.
fn check_of(e: CoreError) -> String {
    match LiveshipError::from_core(e) {
        LiveshipError::Verification { check, .. } => check,
        other => panic!("not a verification failure: {other:?}"),
    }
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn a_capgo_cli_bundle_installs_serves_byte_for_byte_and_a_broken_one_is_reverted_for_good() {
    let f = fixtures();
    let backend = Backend::new(release("1.0.1", &f.app));
    let d = Device::new(&backend, &f.public_key);
    let e = d.open();

    // The check is Capgo's info object.
    match e.check().unwrap() {
        CheckResult::UpdateAvailable { version, .. } => assert_eq!(version, "1.0.1"),
        other => panic!("{other:?}"),
    }
    let info: Value = serde_json::from_slice(&backend.requests("POST")[0].body).unwrap();
    assert_eq!(info["app_id"], "com.example.app");
    assert_eq!(info["device_id"], e.device_id().as_str());
    assert_eq!(info["version_name"], "1.0.0-builtin");
    assert_eq!(info["defaultChannel"], "production");
    assert!(
        info["key_id"].as_str().is_some_and(|k| !k.is_empty()),
        "{info}"
    );
    assert_eq!(info["plugin_version"], env!("CARGO_PKG_VERSION"));

    // Update, launch into it (a trial), confirm: it serves exactly the web folder the CLI zipped.
    let one = installed(e.update().unwrap());
    drop(e);
    let e = d.open();
    let launch = e.launch();
    assert_eq!((launch.id.as_str(), launch.trial), (one.as_str(), true));
    assert_eq!(tree(launch.path.as_ref().unwrap()), tree(&f.web_dir));
    e.notify_app_ready(&one).unwrap();
    assert_eq!(
        no_update(e.update().unwrap()).0,
        "upToDate",
        "1.0.1 serves already"
    );

    // 1.0.2 never confirms: the next launch reverts to 1.0.1, and 1.0.2 is not fetched again.
    backend.offer(release("1.0.2", &f.second));
    let two = installed(e.update().unwrap());
    drop(e);
    let e = d.open();
    assert_eq!(e.launch().id, two, "1.0.2 on trial");
    drop(e); // killed before notifyAppReady
    let e = d.open();
    let back = e.launch();
    assert_eq!(back.id, one, "reverted to the last confirmed bundle");
    assert_eq!(
        back.reverted.as_ref().map(|r| r.id.as_str()),
        Some(two.as_str())
    );
    let gets = backend.requests("GET").len();
    let (code, reason) = no_update(e.update().unwrap());
    assert_eq!(code, "blocked", "{reason}");
    assert_eq!(
        backend.requests("GET").len(),
        gets,
        "the reverted bundle was fetched again"
    );
    let posted: Value =
        serde_json::from_slice(&backend.requests("POST").last().unwrap().body).unwrap();
    assert_eq!(
        posted["version_name"], "1.0.1",
        "the check names what serves"
    );
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn tampered_capgo_bundles_are_refused_before_extraction_with_their_own_check() {
    let f = fixtures();
    let mut flipped = std::fs::read(&f.app.encrypted).unwrap();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let cases = [
        (
            "a flipped byte of the encrypted zip",
            Offer::Release {
                version: "1.0.1".into(),
                zip: flipped,
                session_key: f.app.session_key.clone(),
                checksum: f.app.checksum.clone(),
            },
            &["capgo.checksumSignatureInvalid", "capgo.decryptFailed"][..],
        ),
        (
            "a session key from another key pair",
            release("1.0.1", &f.other),
            &["capgo.sessionKeyNotForThisKey"][..],
        ),
        (
            "a checksum signed by another key",
            Offer::Release {
                version: "1.0.1".into(),
                zip: std::fs::read(&f.app.encrypted).unwrap(),
                session_key: f.app.session_key.clone(),
                checksum: f.other.checksum.clone(),
            },
            &["capgo.checksumSignatureInvalid"][..],
        ),
        (
            "a CRC32 checksum",
            Offer::Release {
                version: "1.0.1".into(),
                zip: std::fs::read(&f.app.encrypted).unwrap(),
                session_key: f.app.session_key.clone(),
                checksum: "deadbeef".into(),
            },
            &["capgo.unsignedChecksum"][..],
        ),
    ];
    for (what, offer, checks) in cases {
        let backend = Backend::new(offer);
        let d = Device::new(&backend, &f.public_key);
        let e = d.open();
        let check = check_of(e.update().unwrap_err());
        assert!(checks.contains(&check.as_str()), "{what}: {check}");
        assert!(
            e.list().unwrap().is_empty(),
            "{what}: something was installed"
        );
        let data = d.dir.path().join("data");
        let leftovers: Vec<_> = ["downloads", "staging"]
            .iter()
            .map(|s| data.join(s))
            .filter(|p| p.is_dir())
            .flat_map(|p| std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()))
            .collect();
        assert!(leftovers.is_empty(), "{what}: left {leftovers:?}");
        assert_eq!(e.launch().id, "builtin", "{what}");
    }
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn capgos_refusals_rate_limits_and_reset_to_builtin_are_obeyed() {
    let f = fixtures();
    let backend = Backend::new(Offer::Raw(
        "200 OK",
        vec![],
        json!({"error": "no_new_version_available", "kind": "up_to_date", "message": "No new version"}),
    ));
    let d = Device::new(&backend, &f.public_key);
    let e = d.open();
    assert_eq!(no_update(e.update().unwrap()).0, "upToDate");
    backend.offer(Offer::Raw(
        "200 OK",
        vec![],
        json!({"error": "disable_auto_update_to_major", "kind": "blocked", "message": "Cannot upgrade major"}),
    ));
    assert_eq!(no_update(e.update().unwrap()).0, "blocked");

    // A 429 with Retry-After: no request until the wait is over, across a restart too.
    backend.offer(Offer::Raw(
        "429 Too Many Requests",
        vec![("Retry-After", "30".into())],
        json!({"error": "too_many_requests", "message": "Slow down"}),
    ));
    assert_eq!(no_update(e.update().unwrap()).0, "rateLimited");
    let posts = backend.requests("POST").len();
    drop(e);
    let e = d.open();
    assert_eq!(no_update(e.update().unwrap()).0, "rateLimited");
    assert_eq!(
        backend.requests("POST").len(),
        posts,
        "checked during the wait"
    );
    d.clock.advance(Duration::from_secs(31));
    backend.offer(release("1.0.1", &f.app));
    let one = installed(e.update().unwrap());
    assert_eq!(backend.requests("POST").len(), posts + 1);

    // `version: "builtin"`: back to the built-in bundle.
    drop(e);
    let e = d.open();
    assert_eq!(e.launch().id, one);
    e.notify_app_ready(&one).unwrap();
    backend.offer(Offer::Raw("200 OK", vec![], json!({"version": "builtin"})));
    assert_eq!(no_update(e.update().unwrap()).0, "builtin");
    assert_eq!(e.current().unwrap().id, "builtin");
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn a_delta_manifest_reuses_local_files_fetches_the_rest_and_refuses_tampering() {
    let f = fixtures();
    let backend = Backend::new(release("1.0.1", &f.app));
    let d = Device::new(&backend, &f.public_key);
    let e = d.open();
    let one = installed(e.update().unwrap());
    drop(e);
    let e = d.open();
    assert_eq!(e.launch().id, one);
    e.notify_app_ready(&one).unwrap();

    // 1.0.3 differs from 1.0.1 in assets/app.js only: that object is the one fetched.
    backend.offer(manifest(&f.delta));
    let gets = backend.requests("GET").len();
    let three = match e.update().unwrap() {
        UpdateOutcome::Installed { id, delta, .. } => {
            assert!(delta, "installed from the manifest");
            id
        }
        other => panic!("{other:?}"),
    };
    let fetched: Vec<String> = backend.requests("GET")[gets..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    let changed = f
        .delta
        .entries
        .iter()
        .position(|x| x.file_name == "assets/app.js.br")
        .unwrap();
    assert_eq!(
        fetched,
        [format!("/objects/{changed}")],
        "only the changed file is fetched"
    );
    drop(e);
    let e = d.open();
    let launch = e.launch();
    assert_eq!(launch.id, three);
    assert_eq!(
        tree(launch.path.as_ref().unwrap()),
        tree(&f.delta.web_dir),
        "byte for byte"
    );

    // On a fresh device: a flipped byte in an object, a hash signed for another file, and a
    // name that climbs out of the bundle are each refused, and nothing is installed.
    let mut flipped = manifest(&f.delta);
    if let Offer::Manifest { entries, .. } = &mut flipped {
        let bytes = &mut entries[changed].2;
        bytes[0] ^= 1;
    }
    let mut swapped = manifest(&f.delta);
    if let Offer::Manifest { entries, .. } = &mut swapped {
        let other = (changed + 1) % entries.len();
        entries[changed].1 = entries[other].1.clone();
    }
    let mut climbing = manifest(&f.delta);
    if let Offer::Manifest { entries, .. } = &mut climbing {
        entries[changed].0 = "../escape.js.br".into();
    }
    for (what, offer, checks) in [
        (
            "flipped",
            flipped,
            &[
                "capgo.decryptFailed",
                "capgo.brotliFailed",
                "capgo.checksumSignatureInvalid",
            ][..],
        ),
        (
            "swapped hash",
            swapped,
            &["capgo.checksumSignatureInvalid"][..],
        ),
        ("climbing name", climbing, &["unpack.unsafePath"][..]),
    ] {
        let backend = Backend::new(offer);
        let d = Device::new(&backend, &f.public_key);
        let e = d.open();
        let check = check_of(e.update().unwrap_err());
        assert!(checks.contains(&check.as_str()), "{what}: {check}");
        assert!(e.list().unwrap().is_empty(), "{what}: installed");
        if what == "climbing name" {
            assert!(
                backend.requests("GET").is_empty(),
                "fetched before the names were checked"
            );
        }
        let downloads = d.dir.path().join("data").join("downloads");
        let left: Vec<_> = std::fs::read_dir(&downloads)
            .map(|r| r.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{what}: left {left:?}");
        assert!(
            !d.dir.path().join("escape.js").exists()
                && !d.dir.path().join("data").join("escape.js").exists()
        );
    }
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn a_delta_that_fails_falls_back_to_the_releases_zip() {
    let f = fixtures();
    // The manifest's objects were sealed under another session key than the one the answer
    // carries (the zip's): every object fails, and the zip installs instead.
    let Offer::Release {
        version,
        zip,
        session_key,
        checksum,
    } = release("1.0.1", &f.app)
    else {
        unreachable!()
    };
    let Offer::Manifest { entries, .. } = manifest(&f.delta) else {
        unreachable!()
    };
    let backend = Backend::new(Offer::Both {
        version,
        zip,
        session_key,
        checksum,
        entries,
    });
    let d = Device::new(&backend, &f.public_key);
    let e = d.open();
    match e.update().unwrap() {
        UpdateOutcome::Installed {
            delta,
            delta_fallback,
            ..
        } => {
            assert!(!delta, "installed from the zip");
            assert!(delta_fallback.is_some(), "the delta's failure is named");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        d.events
            .events()
            .iter()
            .any(|ev| matches!(ev, liveship::events::Event::DeltaFallback { .. })),
        "deltaFallback announced"
    );
    drop(e);
    let e = d.open();
    let launch = e.launch();
    assert_eq!(
        tree(launch.path.as_ref().unwrap()),
        tree(&f.web_dir),
        "the zip's files"
    );
}

#[test]
#[ignore = "needs the @capgo/cli fixtures: run scripts/capgo-test.sh"]
fn an_unencrypted_bundle_is_checked_by_its_download_hash() {
    let f = fixtures();
    let plain = |checksum: &str| Offer::Release {
        version: "1.0.1".into(),
        zip: std::fs::read(&f.zip).unwrap(),
        session_key: String::new(),
        checksum: checksum.into(),
    };
    // With a publicKey, a plain SHA-256 is not a signature: refused.
    let backend = Backend::new(plain(&f.sha256));
    let d = Device::new(&backend, &f.public_key);
    assert_eq!(
        check_of(d.open().update().unwrap_err()),
        "capgo.unsignedChecksum"
    );

    // Without one (allowUnsignedCapgoBundles): the checksum must be the zip's own hash.
    let mut wrong = f.sha256.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let backend = Backend::new(plain(std::str::from_utf8(&wrong).unwrap()));
    let d = Device::with_key(&backend, None);
    let e = d.open();
    assert_eq!(check_of(e.update().unwrap_err()), "capgo.checksumMismatch");
    assert!(e.list().unwrap().is_empty());

    let backend = Backend::new(plain(&f.sha256));
    let d = Device::with_key(&backend, None);
    let one = installed(d.open().update().unwrap());
    let e = d.open();
    let launch = e.launch();
    assert_eq!(launch.id, one);
    assert_eq!(
        tree(launch.path.as_ref().unwrap()),
        tree(&f.web_dir),
        "byte for byte"
    );
}
