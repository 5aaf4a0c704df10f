//! `liveship device` through the real binary: the shell walkthrough (keygen, pack, a
//! release that never confirms and is reverted, a fixed release confirmed with `ready`) and the
//! documented JSON of every command; errors exit non-zero with a message on stderr.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use tempfile::TempDir;

fn liveship(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liveship"))
        .env_remove("LIVESHIP_SIGNING_KEY")
        .env_remove("LIVESHIP_BUNDLE_KEY")
        .args(args)
        .output()
        .expect("run liveship")
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn fails_with(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "expected failure; stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(o.stdout.is_empty(), "nothing on stdout on error");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

struct Shell {
    dir: TempDir,
}

impl Shell {
    fn new() -> Shell {
        let s = Shell {
            dir: tempfile::tempdir().unwrap(),
        };
        let keys = s.path("keys");
        ok(&liveship(&["keygen", "--out", keys.to_str().unwrap()]));
        // The app's config: keygen's fragment merged with what native code supplies.
        let fragment: Value =
            serde_json::from_slice(&fs::read(keys.join("liveship.config.json")).unwrap()).unwrap();
        let mut cfg = fragment.as_object().unwrap().clone();
        cfg.insert("appId".into(), json!("com.example.app"));
        cfg.insert("platform".into(), json!("android"));
        cfg.insert("nativeVersion".into(), json!("1.0.0"));
        cfg.insert("builtinDir".into(), json!(s.path("builtin")));
        cfg.insert("defaultChannel".into(), json!("production"));
        fs::write(s.path("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
        s
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn s(&self, rel: &str) -> String {
        self.path(rel).to_str().unwrap().to_string()
    }
    fn web(&self, name: &str, body: &str) -> String {
        let d = self.path(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("index.html"), body).unwrap();
        fs::write(d.join("app.js"), format!("// {name}\n")).unwrap();
        d.to_str().unwrap().to_string()
    }
    fn pack(&self, web: &str, seq: u64) {
        let seq = seq.to_string();
        let version = format!("1.0.{seq}");
        ok(&liveship(&[
            "pack",
            web,
            "--app-id",
            "com.example.app",
            "--channel",
            "production",
            "--sequence",
            &seq,
            "--version",
            &version,
            "--out",
            &self.s("repo"),
            "--bundle-key",
            &self.s("keys/bundle.key"),
            "--signing-key",
            &self.s("keys/signing.key"),
        ]));
    }
    fn device_raw(&self, args: &[&str]) -> Output {
        let mut all = vec![
            "device".to_string(),
            "--data-dir".into(),
            self.s("data"),
            "--config".into(),
            self.s("config.json"),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        liveship(&refs)
    }
    #[track_caller]
    fn device(&self, args: &[&str]) -> Value {
        serde_json::from_str(&ok(&self.device_raw(args))).expect("stdout is JSON")
    }
    fn install_channel(&self) -> Value {
        let release = self.s("repo/channels/production.json");
        self.device(&["install", "--release", &release])
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[track_caller]
fn assert_bundle_object(b: &Value) {
    for k in ["id", "version", "sequence", "status"] {
        assert!(b.get(k).is_some(), "bundle object lacks {k}: {b}");
    }
}

#[test]
fn shell_walkthrough_reverts_unconfirmed_release_and_confirms_fixed_one() {
    let sh = Shell::new();
    let builtin = sh.s("builtin");

    // Release 1: installed, launched on trial, never confirmed.
    let web1 = sh.web("web1", "<h1>one (broken)</h1>");
    sh.pack(&web1, 1);
    let inst = sh.install_channel();
    assert_eq!(keys(&inst), ["id", "sequence", "version"]);
    let id1 = inst["id"].as_str().unwrap().to_string();
    assert_eq!(inst["sequence"], 1);
    assert_eq!(inst["version"], "1.0.1");

    let l = sh.device(&["launch"]);
    assert_eq!(keys(&l), ["id", "path", "reverted", "trial", "version"]);
    assert_eq!(l["id"], id1.as_str());
    assert_eq!(l["trial"], true);
    assert_eq!(l["reverted"], Value::Null);
    let path = PathBuf::from(l["path"].as_str().unwrap());
    assert_eq!(path, sh.path("data/bundles").join(&id1));
    assert_eq!(
        fs::read_to_string(path.join("index.html")).unwrap(),
        "<h1>one (broken)</h1>"
    );

    // Second launch without `ready`: reverted, reason printed, built-in serves.
    let l = sh.device(&["launch"]);
    assert_eq!(l["id"], "builtin");
    assert_eq!(l["path"], builtin.as_str());
    assert_eq!(l["trial"], false);
    assert_eq!(l["reverted"]["id"], id1.as_str());
    assert!(l["reverted"]["reason"]
        .as_str()
        .unwrap()
        .contains("not confirmed"));
    let list = sh.device(&["list"]);
    let b1 = &list.as_array().unwrap()[0];
    assert_bundle_object(b1);
    assert_eq!(
        (b1["id"].as_str(), b1["status"].as_str()),
        (Some(id1.as_str()), Some("failed"))
    );
    // Blocklisted: the same content republished is refused.
    fs::remove_dir_all(sh.path("repo")).unwrap();
    sh.pack(&web1, 2);
    fails_with(
        &sh.device_raw(&[
            "install",
            "--release",
            &sh.s("repo/channels/production.json"),
        ]),
        "blocklisted",
    );

    // Release 3 fixes it: launch (trial), ready, launch (now current).
    let web3 = sh.web("web3", "<h1>three (fixed)</h1>");
    sh.pack(&web3, 3);
    let id3 = sh.install_channel()["id"].as_str().unwrap().to_string();
    let l = sh.device(&["launch"]);
    assert_eq!(
        (l["id"].as_str(), l["trial"].as_bool()),
        (Some(id3.as_str()), Some(true))
    );
    let r = sh.device(&["ready", "--bundle", &id3]);
    assert_eq!(
        r,
        json!({"id": id3, "confirmed": "promoted", "previous": null})
    );
    let l = sh.device(&["launch"]);
    assert_eq!(l["id"], id3.as_str());
    assert_eq!(l["trial"], false);
    assert_eq!(l["reverted"], Value::Null);
    assert_eq!(
        sh.device(&["ready", "--bundle", &id3])["confirmed"],
        "alreadyCurrent"
    );

    // status
    let st = sh.device(&["status"]);
    assert_eq!(st["serving"]["id"], id3.as_str());
    assert_bundle_object(&st["current"]);
    assert_eq!(st["current"]["id"], id3.as_str());
    assert_eq!(st["current"]["status"], "current");
    assert_eq!(st["current"]["sequence"], 3);
    assert_eq!(st["trial"], Value::Null);
    assert_eq!(st["next"], Value::Null);
    assert_eq!(st["channel"], "production");
    assert_eq!(st["high_water"], 3);
    assert_eq!(st["native_version"], "1.0.0");
    assert!(st["device_id"].as_str().unwrap().len() >= 16);

    // history: every transition, in order, with time and reason.
    let h = sh.device(&["history"]);
    let events: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "installed",
            "trial",
            "reverted",
            "installed",
            "trial",
            "confirmed",
            "retention"
        ]
    );
    for e in h.as_array().unwrap() {
        assert_eq!(keys(e), ["at", "bundle", "detail", "event", "seq"]);
    }
}

#[test]
fn shell_errors_exit_nonzero_with_a_message() {
    let sh = Shell::new();
    let web = sh.web("web", "<h1>one</h1>");
    sh.pack(&web, 1);
    let id = sh.install_channel()["id"].as_str().unwrap().to_string();
    sh.device(&["launch"]);
    // The outgoing (built-in) page cannot confirm the trial.
    fails_with(
        &sh.device_raw(&["ready", "--bundle", "builtin"]),
        "not on trial",
    );
    fails_with(&sh.device_raw(&["delete", &id]), "trial");
    fails_with(
        &sh.device_raw(&["delete", "0000000000000000"]),
        "not installed",
    );
    fails_with(
        &sh.device_raw(&["install", "--release", &sh.s("repo/nope.json")]),
        "nope.json",
    );
    // Already installed at this sequence.
    fails_with(
        &sh.device_raw(&[
            "install",
            "--release",
            &sh.s("repo/channels/production.json"),
        ]),
        "up to date",
    );
    // A release signed by a key the app does not pin.
    let other = sh.path("other-keys");
    ok(&liveship(&["keygen", "--out", other.to_str().unwrap()]));
    let mut cfg: Value =
        serde_json::from_slice(&fs::read(sh.path("config.json")).unwrap()).unwrap();
    let other_cfg: Value =
        serde_json::from_slice(&fs::read(other.join("liveship.config.json")).unwrap()).unwrap();
    cfg["publicKeys"] = other_cfg["publicKeys"].clone();
    fs::write(sh.path("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
    fs::remove_dir_all(sh.path("repo")).unwrap();
    let web2 = sh.web("web2", "<h1>two</h1>");
    sh.pack(&web2, 2);
    let o = sh.device_raw(&[
        "install",
        "--release",
        &sh.s("repo/channels/production.json"),
    ]);
    assert!(!o.status.success());
    assert!(!o.stderr.is_empty());
    // A config that is not valid.
    fs::write(sh.path("config.json"), b"{\"appId\": \"\"}").unwrap();
    fails_with(&sh.device_raw(&["status"]), "config");
}

#[test]
fn shell_reset_set_next_and_delete() {
    let sh = Shell::new();
    let mut ids = vec![];
    for seq in 1..=2 {
        let web = sh.web(&format!("web{seq}"), &format!("<h1>{seq}</h1>"));
        sh.pack(&web, seq);
        let id = sh.install_channel()["id"].as_str().unwrap().to_string();
        sh.device(&["launch"]);
        sh.device(&["ready", "--bundle", &id]);
        ids.push(id);
    }
    let (id1, id2) = (&ids[0], &ids[1]);
    let list = sh.device(&["list"]);
    let roles: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_bundle_object(b);
            (b["id"].as_str().unwrap(), b["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        roles,
        [(id1.as_str(), "fallback"), (id2.as_str(), "current")]
    );

    assert_eq!(sh.device(&["set-next", id1]), json!({"next": id1}));
    fails_with(&sh.device_raw(&["delete", id1]), "next");
    let r = sh.device(&["reset", "--to", "last-good"]);
    assert_eq!(keys(&r), ["id", "path", "reverted", "trial", "version"]);
    assert_eq!(r["id"], id2.as_str());
    let r = sh.device(&["reset"]);
    assert_eq!(r["id"], "builtin");
    assert_eq!(r["path"], sh.s("builtin").as_str());
    assert_eq!(sh.device(&["launch"])["id"], "builtin");
    // After a reset to built-in, the last current is the fallback; the older one lost its role
    // and retention removed it.
    let st = sh.device(&["status"]);
    assert_eq!(st["fallback"]["id"], id2.as_str());
    assert_eq!(st["current"], Value::Null);
    let list = sh.device(&["list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert!(!Path::new(&sh.path("data/bundles").join(id1)).exists());
    fails_with(&sh.device_raw(&["delete", id2]), "fallback");
    fails_with(&sh.device_raw(&["delete", id1]), "not installed");
}

/// A hostile `--release` file far over the 4 MiB envelope limit is refused with the envelope
/// check's message after reading one byte over the limit, not the whole file: the size the
/// message reports is the number of bytes read.
#[test]
fn install_reads_no_more_than_the_envelope_limit_of_a_huge_release_file() {
    let sh = Shell::new();
    let huge = sh.path("huge.json");
    // Sparse: 200 MB on paper, nothing on disk, so the test is fast.
    fs::File::create(&huge)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let limit = liveship::release::MAX_ENVELOPE_BYTES;
    let o = sh.device_raw(&["install", "--release", huge.to_str().unwrap()]);
    fails_with(
        &o,
        &format!(
            "envelope is {} bytes or more, larger than the {limit}-byte limit",
            limit + 1
        ),
    );
}
