//! Every rejection of the install step, each shown with its error, and in every case the
//! previous bundle still serves: no `next` appears, staging is empty, no stray bundle directory
//! remains. Bad zips are made by python3's `zipfile`, sealed and signed by the test.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use liveship::clock::{Clock, SystemClock};
use liveship::crypto::{self, CryptoError};
use liveship::engine::{CoreError, Engine};
use liveship::install::{self, InstallError};
use liveship::policy::Refusal;
use liveship::release::{FileEntry, Manifest, NativeRange};
use liveship::store::Store;
use liveship::unpack::UnpackError;
use support::fixtures::*;
use support::zips::{entry, python};
use tempfile::TempDir;

/// A device running release 1 (confirmed), and a repository to publish release 2 into.
struct Fixture {
    data: TempDir,
    repo: TempDir,
    u: Engine,
    id1: String,
}

impl Fixture {
    fn new() -> Fixture {
        Self::in_dir(tempfile::tempdir().unwrap())
    }
    fn in_dir(data: TempDir) -> Fixture {
        let repo = tempfile::tempdir().unwrap();
        let u = Engine::open(
            config(&data.path().join("builtin-web")),
            data.path(),
            liveship::events::discard(),
        )
        .unwrap();
        let r1 = good_release(repo.path(), 1);
        let id1 = u.install_from_file(&r1).unwrap().id;
        u.launch();
        u.notify_app_ready(&id1).unwrap();
        Fixture { data, repo, u, id1 }
    }

    /// A good release 2 made by `publish::pack`; returns its file and manifest.
    fn release2(&self) -> (PathBuf, Manifest) {
        let path = good_release(self.repo.path(), 2);
        let m = manifest_of(&path);
        (path, m)
    }

    /// After a failed install: release 1 still serves, nothing else was kept.
    #[track_caller]
    fn assert_previous_still_serves(&self) {
        let s = self.u.status().unwrap();
        assert!(s.next.is_none() && s.trial.is_none(), "{s:?}");
        let r = self.u.launch();
        assert_eq!(
            (r.id.as_str(), r.trial, r.reverted),
            (self.id1.as_str(), false, None)
        );
        assert_eq!(
            entries(&self.data.path().join("staging")),
            Vec::<String>::new()
        );
        let mut want = vec![self.id1.clone(), format!("{}.envelope.json", self.id1)];
        want.sort();
        assert_eq!(entries(&self.data.path().join("bundles")), want);
        assert_eq!(self.u.status().unwrap().high_water, Some(1));
    }
}

fn install_err(f: &Fixture, release: &Path) -> CoreError {
    let err = f.u.install_from_file(release).unwrap_err();
    eprintln!("rejected as expected: {err}");
    err
}

fn object_of(release: &Path, m: &Manifest) -> PathBuf {
    release.parent().unwrap().join(&m.bundle.url)
}

#[test]
fn object_of_wrong_size_is_rejected() {
    let f = Fixture::new();
    let (rel, m) = f.release2();
    let obj = object_of(&rel, &m);
    let mut bytes = fs::read(&obj).unwrap();
    bytes.push(0);
    fs::write(&obj, bytes).unwrap();
    let err = install_err(&f, &rel);
    assert!(
        matches!(err, CoreError::Install(InstallError::ObjectSize { expected, got }) if got == expected + 1),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn object_with_wrong_hash_is_rejected() {
    let f = Fixture::new();
    let (rel, m) = f.release2();
    let obj = object_of(&rel, &m);
    let mut bytes = fs::read(&obj).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    fs::write(&obj, bytes).unwrap();
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::ObjectHash { expected, .. }) if *expected == m.bundle.sha256),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn bundle_key_the_app_lacks_is_rejected() {
    let f = Fixture::new();
    let (_, mut m) = f.release2();
    let zip = plain_zip_of(&f, &m);
    let other: crypto::Key = [10; 32];
    seal_into(f.repo.path(), &zip, &other, &mut m);
    let rel = write_signed(f.repo.path(), "production.2-otherkey", &m);
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::MissingBundleKey { key_id }) if *key_id == crypto::bundle_key_id(&other)),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn app_without_bundle_keys_rejects_encrypted_release() {
    let data = tempfile::tempdir().unwrap();
    let f = Fixture::in_dir(data);
    let (rel, _) = f.release2();
    drop(f.u);
    let mut cfg = config(&f.data.path().join("builtin-web"));
    cfg.bundle_keys.clear();
    let u = Engine::open(cfg, f.data.path(), liveship::events::discard()).unwrap();
    let err = u.install_from_file(&rel).unwrap_err();
    assert!(
        matches!(&err, CoreError::Install(InstallError::MissingBundleKey { key_id }) if *key_id == bundle_key().key_id),
        "{err}"
    );
    let r = u.launch();
    assert_eq!((r.id.as_str(), r.trial), (f.id1.as_str(), false));
}

#[test]
fn content_key_wrapped_under_another_key_is_rejected() {
    let f = Fixture::new();
    let (_, mut m) = f.release2();
    let zip = plain_zip_of(&f, &m);
    // Wrapped under another key but labelled with the app's key id: the unwrap must fail.
    seal_into(f.repo.path(), &zip, &[11; 32], &mut m);
    m.bundle.encryption.as_mut().unwrap().key_id = bundle_key().key_id;
    let rel = write_signed(f.repo.path(), "production.2-wrongkey", &m);
    let err = install_err(&f, &rel);
    assert!(
        matches!(
            err,
            CoreError::Install(InstallError::Decrypt(CryptoError::UnwrapFailed { .. }))
        ),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn altered_ciphertext_with_matching_signed_hash_fails_authentication() {
    let f = Fixture::new();
    let (rel, mut m) = f.release2();
    let obj = object_of(&rel, &m);
    let mut bytes = fs::read(&obj).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x80;
    // The publisher's key signs the altered object's size and hash: only the AEAD catches it.
    let sha = crypto::sha256_hex(&bytes);
    let dir = f.repo.path().join("bundles");
    fs::write(dir.join(format!("{sha}.lsb")), &bytes).unwrap();
    m.bundle.url = format!("../bundles/{sha}.lsb");
    m.bundle.sha256 = sha;
    let rel = write_signed(f.repo.path(), "production.2-flipped", &m);
    let err = install_err(&f, &rel);
    assert!(
        matches!(
            err,
            CoreError::Install(InstallError::Decrypt(CryptoError::SegmentAuth {
                segment: 0
            }))
        ),
        "{err}"
    );
    f.assert_previous_still_serves();
}

// ---- zips made by python3's zipfile ----

const MAKE_ZIP: &str = r#"
import sys, json, zipfile
out, entries = sys.argv[1], json.loads(sys.argv[2])
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for e in entries:
        if e.get('symlink'):
            info = zipfile.ZipInfo(e['name'])
            info.create_system = 3
            info.external_attr = 0o120777 << 16
            z.writestr(info, e['data'])
        else:
            z.writestr(e['name'], e['data'])
"#;

struct Entry<'a> {
    name: &'a str,
    data: &'a str,
    symlink: bool,
}

fn file<'a>(name: &'a str, data: &'a str) -> Entry<'a> {
    Entry {
        name,
        data,
        symlink: false,
    }
}

fn python_zip(dir: &Path, entries: &[Entry<'_>]) -> Vec<u8> {
    let out = dir.join(format!(
        "made-by-python-{}.zip",
        crypto::sha256_hex(
            entries
                .iter()
                .map(|e| e.name)
                .collect::<String>()
                .as_bytes()
        )
    ));
    let list: Vec<_> = entries
        .iter()
        .map(|e| serde_json::json!({"name": e.name, "data": e.data, "symlink": e.symlink}))
        .collect();
    python(
        MAKE_ZIP,
        &[
            out.to_str().unwrap(),
            &serde_json::to_string(&list).unwrap(),
        ],
    );
    fs::read(out).unwrap()
}

/// The zip of release 2's own files, remade by python (for the key tests).
fn plain_zip_of(f: &Fixture, m: &Manifest) -> Vec<u8> {
    let web = f.repo.path().join("web").join("2");
    let contents: Vec<(String, String)> = m
        .files
        .iter()
        .map(|e| {
            (
                e.path.clone(),
                fs::read_to_string(web.join(&e.path)).unwrap(),
            )
        })
        .collect();
    let entries: Vec<Entry<'_>> = contents.iter().map(|(p, d)| file(p, d)).collect();
    python_zip(f.repo.path(), &entries)
}

/// Release 2 whose zip holds `zip_entries` while the signed list is `signed`.
fn zip_release(
    f: &Fixture,
    name: &str,
    zip_entries: &[Entry<'_>],
    signed: Vec<FileEntry>,
) -> PathBuf {
    let (_, mut m) = f.release2();
    let zip = python_zip(f.repo.path(), zip_entries);
    m.files = signed;
    seal_into(f.repo.path(), &zip, &bundle_key_bytes(), &mut m);
    write_signed(f.repo.path(), name, &m)
}

const INDEX: &str = "<!doctype html><h1>two</h1>";
const APP: &str = "console.log('two')";

#[test]
fn python_zip_matching_the_signed_list_installs() {
    // The control for the zip tests below: the same construction, untampered, is accepted.
    let f = Fixture::new();
    let rel = zip_release(
        &f,
        "production.2-ok",
        &[file("index.html", INDEX), file("assets/app.js", APP)],
        vec![
            entry("index.html", INDEX.as_bytes()),
            entry("assets/app.js", APP.as_bytes()),
        ],
    );
    let id = f.u.install_from_file(&rel).unwrap().id;
    assert_eq!(f.u.launch().id, id);
}

#[test]
fn zip_with_a_file_not_in_the_signed_list_is_rejected() {
    let f = Fixture::new();
    let rel = zip_release(
        &f,
        "production.2-extra",
        &[
            file("index.html", INDEX),
            file("assets/app.js", APP),
            file("assets/extra.js", "steal()"),
        ],
        vec![
            entry("index.html", INDEX.as_bytes()),
            entry("assets/app.js", APP.as_bytes()),
        ],
    );
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::Unpack(UnpackError::UnexpectedFile { name })) if name == "assets/extra.js"),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn zip_missing_a_signed_file_is_rejected() {
    let f = Fixture::new();
    let rel = zip_release(
        &f,
        "production.2-missing",
        &[file("index.html", INDEX)],
        vec![
            entry("index.html", INDEX.as_bytes()),
            entry("assets/app.js", APP.as_bytes()),
        ],
    );
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::Unpack(UnpackError::MissingFile { path })) if path == "assets/app.js"),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn zip_with_an_altered_file_is_rejected() {
    let f = Fixture::new();
    let altered = "console.log('TWO')"; // same size, other bytes
    let rel = zip_release(
        &f,
        "production.2-altered",
        &[file("index.html", INDEX), file("assets/app.js", altered)],
        vec![
            entry("index.html", INDEX.as_bytes()),
            entry("assets/app.js", APP.as_bytes()),
        ],
    );
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::Unpack(UnpackError::HashMismatch { path })) if path == "assets/app.js"),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn zip_slip_entry_is_rejected() {
    let f = Fixture::new();
    let rel = zip_release(
        &f,
        "production.2-slip",
        &[file("index.html", INDEX), file("../../evil.js", APP)],
        vec![entry("index.html", INDEX.as_bytes())],
    );
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::Unpack(UnpackError::UnsafePath { name, .. })) if name == "../../evil.js"),
        "{err}"
    );
    f.assert_previous_still_serves();
    assert!(!f.data.path().join("evil.js").exists());
    assert!(!f.data.path().parent().unwrap().join("evil.js").exists());
}

#[test]
fn symlink_entry_is_rejected() {
    let f = Fixture::new();
    let rel = zip_release(
        &f,
        "production.2-symlink",
        &[
            file("index.html", INDEX),
            Entry {
                name: "assets/app.js",
                data: "/etc/passwd",
                symlink: true,
            },
        ],
        vec![
            entry("index.html", INDEX.as_bytes()),
            entry("assets/app.js", b"/etc/passwd"),
        ],
    );
    let err = install_err(&f, &rel);
    assert!(
        matches!(&err, CoreError::Install(InstallError::Unpack(UnpackError::Symlink { name })) if name == "assets/app.js"),
        "{err}"
    );
    f.assert_previous_still_serves();
}

// ---- invariants of the install step itself (below device policy) ----

/// Runs the install steps the updater runs (`begin`, `build_from_object`, `finish`) directly,
/// as a caller that skipped the policy checks would.
fn install_below_policy(f: &Fixture, release: &Path) -> Result<String, InstallError> {
    let bytes = fs::read(release).unwrap();
    let v = liveship::release::verify_envelope(&bytes, &[pinned_key()]).unwrap();
    let obj = object_of(release, &v.manifest);
    // The updater holds the store; a second Store on the same directory is what another
    // process would have.
    let (mut st, _) = Store::open(f.data.path()).unwrap();
    let staging = install::begin(&mut st, &v.manifest)?;
    install::build_from_object(
        &staging.dir,
        &staging.tree,
        &obj,
        &v.manifest,
        &[bundle_key()],
        &Default::default(),
    )?;
    install::finish(&mut st, staging, &v, &bytes)
}

#[test]
fn sequence_not_newer_is_rejected() {
    let f = Fixture::new();
    let (_, mut m) = f.release2();
    m.sequence = 1;
    let rel = write_signed(f.repo.path(), "production.1-again", &m);
    let err = install_err(&f, &rel);
    assert!(
        matches!(err, CoreError::Refused(Refusal::UpToDate { sequence: 1 })),
        "{err}"
    );
    let err = install_below_policy(&f, &rel).unwrap_err();
    assert!(
        matches!(&err, InstallError::NotNewer { got: 1, have: 1, channel } if channel == CHANNEL),
        "{err}"
    );
    f.assert_previous_still_serves();
}

#[test]
fn blocklisted_content_is_rejected() {
    let f = Fixture::new();
    let web = f.repo.path().join("web-broken");
    broken_app(&web, "broken");
    let rel2 = make_release(f.repo.path(), &web, 2, &Rel::default()).release_path;
    let id2 = f.u.install_from_file(&rel2).unwrap().id;
    assert_eq!(f.u.launch().id, id2);
    assert_eq!(f.u.launch().reverted.unwrap().id, id2);
    // The same content published again as sequence 3.
    let rel3 = make_release(f.repo.path(), &web, 3, &Rel::default()).release_path;
    let err = install_err(&f, &rel3);
    assert!(
        matches!(err, CoreError::Refused(Refusal::Blocklisted { .. })),
        "{err}"
    );
    let err = install_below_policy(&f, &rel3).unwrap_err();
    assert!(matches!(err, InstallError::Blocklisted { .. }), "{err}");
    let r = f.u.launch();
    assert_eq!((r.id.as_str(), r.trial), (f.id1.as_str(), false));
}

#[test]
fn release_needing_more_space_than_free_is_rejected_before_any_write() {
    let f = Fixture::new();
    let (_, mut m) = f.release2();
    // A signed list whose total size exceeds any disk: refused by the up-front space check.
    m.files[0].size = 1 << 60;
    let rel = write_signed(f.repo.path(), "production.2-huge", &m);
    let err = install_err(&f, &rel);
    assert!(
        matches!(err, CoreError::Install(InstallError::InsufficientSpace { needed, available }) if needed > 1 << 60 && available < needed),
        "{err}"
    );
    f.assert_previous_still_serves();
    assert!(install::space_needed(&m) >= m.files.iter().map(|e| e.size).sum::<u64>());
}

// ---- running out of space mid-install, on a real small file system ----

thread_local! {
    /// Set by the one test that fills the disk at `install.staging_created`.
    static FILL_DISK: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}
static FAILPOINT: Mutex<()> = Mutex::new(());

struct Tmpfs(PathBuf);
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = fs::remove_dir(&self.0);
    }
}

#[test]
fn running_out_of_space_mid_install_fails_cleanly() {
    let _g = FAILPOINT.lock().unwrap();
    let mnt = tempfile::tempdir().unwrap().keep();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let _ = fs::remove_dir(&mnt);
        // Never a silent skip: this guarantee needs a real full file system, which needs root
        // (scripts/test.sh runs as root in CI).
        panic!(
            "running_out_of_space_mid_install_fails_cleanly needs to mount an 8 MiB tmpfs \
             (`mount -t tmpfs`), which failed: run the tests as root"
        );
    }
    let _mount = Tmpfs(mnt.clone());
    let data = mnt.join("data");
    fs::create_dir(&data).unwrap();
    let f = Fixture::in_dir(tempfile::tempdir_in(&data).unwrap());
    let (rel, _) = f.release2();
    let filler = f.data.path().join("filler");
    FILL_DISK.with(|c| *c.borrow_mut() = Some(filler.clone()));
    fail::cfg_callback("install.staging_created", || {
        if let Some(path) = FILL_DISK.with(|c| c.borrow().clone()) {
            // Use up every free byte: the install's next write hits ENOSPC.
            use std::io::Write;
            let mut out = fs::File::create(&path).unwrap();
            let block = vec![0u8; 64 * 1024];
            while out.write_all(&block).is_ok() {}
            let mut one = [0u8; 1];
            while out.write_all(&one[..]).is_ok() {
                one[0] = 0;
            }
            let _ = out.sync_all();
        }
    })
    .unwrap();
    let err = f.u.install_from_file(&rel).unwrap_err();
    fail::remove("install.staging_created");
    FILL_DISK.with(|c| *c.borrow_mut() = None);
    eprintln!("rejected as expected: {err}");
    let msg = err.to_string();
    assert!(
        matches!(&err, CoreError::Install(InstallError::Store(liveship::store::StoreError::Io(liveship::fs::IoError { path, .. }))) if path.starts_with(f.data.path().join("staging"))),
        "{msg}"
    );
    assert!(
        msg.contains("no space left on device: free some storage"),
        "{msg}"
    );
    // With the disk still full, release 1 serves and nothing is left behind.
    let r = f.u.launch();
    assert_eq!((r.id.as_str(), r.trial), (f.id1.as_str(), false));
    assert_eq!(
        entries(&f.data.path().join("staging")),
        Vec::<String>::new()
    );
    fs::remove_file(&filler).unwrap();
    f.assert_previous_still_serves();
    // Space back: the same release installs.
    let id2 = f.u.install_from_file(&rel).unwrap().id;
    assert_eq!(f.u.launch().id, id2);
    drop(f);
}

// ---- device policy (install_from_file) ----

fn refused(f: &Fixture, web_label: &str, rel: Rel) -> Refusal {
    let web = f.repo.path().join(format!("web-{web_label}"));
    good_app(&web, web_label);
    let path = make_release(f.repo.path(), &web, 2, &rel).release_path;
    let err = install_err(f, &path);
    f.assert_previous_still_serves();
    // The release files of this repository are reused by the next case: start it afresh.
    fs::remove_dir_all(f.repo.path().join("channels")).unwrap();
    fs::remove_dir_all(f.repo.path().join("releases")).unwrap();
    match err {
        CoreError::Refused(r) => r,
        other => panic!("expected a policy refusal, got {other}"),
    }
}

#[test]
fn policy_refusals_keep_the_previous_bundle() {
    let f = Fixture::new();
    // Release 1 is not needed in the repository any more; policy cases reuse sequence 2.
    fs::remove_dir_all(f.repo.path().join("channels")).unwrap();
    fs::remove_dir_all(f.repo.path().join("releases")).unwrap();
    let r = refused(
        &f,
        "app",
        Rel {
            app_id: "com.other.app".into(),
            ..Rel::default()
        },
    );
    assert!(
        matches!(r, Refusal::WrongApp { ref got, .. } if got == "com.other.app"),
        "{r}"
    );
    let r = refused(
        &f,
        "channel",
        Rel {
            channel: "beta".into(),
            ..Rel::default()
        },
    );
    assert!(
        matches!(r, Refusal::WrongChannel { ref got, .. } if got == "beta"),
        "{r}"
    );
    let r = refused(
        &f,
        "platform",
        Rel {
            platforms: vec!["ios".into()],
            ..Rel::default()
        },
    );
    assert!(matches!(r, Refusal::WrongPlatform { .. }), "{r}");
    let r = refused(
        &f,
        "native",
        Rel {
            native: NativeRange {
                min: Some("2.0".into()),
                max: None,
            },
            ..Rel::default()
        },
    );
    assert!(matches!(r, Refusal::IncompatibleNative { .. }), "{r}");
    let day = 24 * 3600;
    let r = refused(
        &f,
        "expired",
        Rel {
            now: Some(SystemClock.now() - 10 * day),
            expires_in: day,
            ..Rel::default()
        },
    );
    assert!(matches!(r, Refusal::Expired { .. }), "{r}");
}
