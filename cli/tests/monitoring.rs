//! Monitoring end to end, as a team runs it: the real `liveship serve REPO --stats DB` serves the
//! releases and collects the events; devices are the real core driven by `liveship device`
//! (consent, update, launch, ready, flush); `liveship stats` reads the figures; `liveship guard`
//! revokes the failing release and a device running it obeys the incident.

mod support;

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use serde_json::{json, Value};
use support::cli::{assert_ok, liveship, p};
use support::server::Server;
use tempfile::TempDir;

const APP: &str = "com.example.app";

struct Team {
    dir: TempDir,
    server: Server,
}

fn out(args: &[&str]) -> Output {
    liveship().args(args).output().expect("run liveship")
}

impl Team {
    fn new() -> Team {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let repo = dir.path().join("repo");
        fs::create_dir_all(&repo).unwrap();
        assert_ok(&out(&["keygen", "--out", p(&keys)]));
        let db = dir.path().join("stats.db");
        let server = Server::start(&repo, &["--stats", p(&db)]);
        let t = Team { dir, server };
        t.publish(1, "1.0.1", "<p>one</p>");
        t
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn publish(&self, seq: u64, version: &str, body: &str) {
        let web = self.path(&format!("web{seq}"));
        fs::create_dir_all(&web).unwrap();
        fs::write(web.join("index.html"), body).unwrap();
        let seq = seq.to_string();
        assert_ok(&out(&[
            "pack",
            p(&web),
            "--app-id",
            APP,
            "--channel",
            "production",
            "--sequence",
            &seq,
            "--version",
            version,
            "--signing-key",
            p(&self.path("keys/signing.key")),
            "--bundle-key",
            p(&self.path("keys/bundle.key")),
            "--out",
            p(&self.path("repo")),
        ]));
    }

    /// A device of its own (data folder `name`) with `statsUrl` pointing at the collector.
    fn device(&self, name: &str) -> Device<'_> {
        let fragment: Value =
            serde_json::from_slice(&fs::read(self.path("keys/liveship.config.json")).unwrap())
                .unwrap();
        let mut cfg = fragment.as_object().unwrap().clone();
        let builtin = self.path(&format!("{name}-builtin"));
        fs::create_dir_all(&builtin).unwrap();
        fs::write(builtin.join("index.html"), "built-in").unwrap();
        for (k, v) in [
            ("appId", json!(APP)),
            ("platform", json!("android")),
            ("nativeVersion", json!("1.0.0")),
            ("builtinDir", json!(builtin)),
            ("updateUrl", json!(self.server.url("/"))),
            ("statsUrl", json!(self.server.url("/stats"))),
            ("allowInsecureLoopback", json!(true)),
        ] {
            cfg.insert(k.into(), v);
        }
        let config = self.path(&format!("{name}.json"));
        fs::write(&config, serde_json::to_vec(&cfg).unwrap()).unwrap();
        Device {
            data: self.path(name),
            config,
            _team: self,
        }
    }

    fn stats(&self) -> Vec<Value> {
        let o = out(&["stats", "--db", p(&self.path("stats.db")), "--json"]);
        serde_json::from_str(&assert_ok(&o)).unwrap()
    }

    fn release(&self, seq: u64) -> Value {
        self.stats()
            .into_iter()
            .find(|r| r["sequence"] == seq)
            .unwrap_or_else(|| panic!("no figures for release {seq}: {:?}", self.stats()))
    }

    fn guard(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "guard",
            "--db",
            p(&self.path("stats.db")),
            "--repo",
            p(&self.path("repo")),
            "--channel",
            "production",
            "--signing-key",
            p(&self.path("keys/signing.key")),
            "--max-failure-rate",
            "5%",
            "--min-devices",
            "1",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        liveship().args(&args).output().unwrap()
    }
}

struct Device<'a> {
    data: PathBuf,
    config: PathBuf,
    _team: &'a Team,
}

impl Device<'_> {
    fn run(&self, args: &[&str]) -> Value {
        let mut all = vec![
            "device",
            "--data-dir",
            p(&self.data),
            "--config",
            p(&self.config),
        ];
        all.extend_from_slice(args);
        serde_json::from_str(&assert_ok(&out(&all))).unwrap()
    }

    /// Update, launch on trial, and (`confirm`) call notifyAppReady; returns the bundle id.
    fn take(&self, confirm: bool) -> String {
        self.run(&["update"]);
        let launched = self.run(&["launch"]);
        assert_eq!(launched["trial"], true, "{launched}");
        let id = launched["id"].as_str().unwrap().to_string();
        if confirm {
            self.run(&["ready", "--bundle", &id]);
        }
        id
    }
}

#[test]
fn the_demo_flow_with_consent_shows_up_in_stats_and_without_consent_sends_nothing() {
    let team = Team::new();
    let agreed = team.device("agreed");
    assert_eq!(agreed.run(&["consent", "full"])["level"], "full");
    agreed.take(true);
    team.publish(2, "1.0.2", "<p>two, broken</p>");
    agreed.take(false);
    // The app restarts without notifyAppReady: reverted at launch.
    let after = agreed.run(&["launch"]);
    assert_eq!(after["version"], "1.0.1", "{after}");
    let flushed = agreed.run(&["flush"]);
    assert!(flushed["sent"].as_u64().unwrap() >= 8, "{flushed}");
    assert_eq!(flushed["remaining"], 0);

    let one = team.release(1);
    let two = team.release(2);
    let figures = |r: &Value| {
        [
            "devices",
            "downloads",
            "installs",
            "confirmed",
            "reverted",
            "failed",
        ]
        .map(|k| r[k].as_u64().unwrap())
    };
    assert_eq!(figures(&one), [1, 1, 1, 1, 0, 0], "{one}");
    assert_eq!(figures(&two), [1, 1, 1, 0, 1, 1], "{two}");
    assert_eq!(two["version"], "1.0.2");
    assert_eq!(two["failures"][0]["reason"], "notConfirmed", "{two}");

    // A device whose user said no: the same flow reaches the collector not at all.
    let refused = team.device("refused");
    refused.take(true);
    refused.run(&["launch"]);
    let flushed = refused.run(&["flush"]);
    assert_eq!(
        (flushed["sent"].clone(), flushed["remaining"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(figures(&team.release(2))[0], 1, "still one device");
    let posts = team.server.stderr().matches("POST /stats").count();
    let before = posts;
    refused.run(&["check"]);
    refused.run(&["flush"]);
    assert_eq!(team.server.stderr().matches("POST /stats").count(), before);
}

#[test]
fn the_guard_revokes_the_failing_release_leaves_the_healthy_one_and_devices_obey() {
    let team = Team::new();
    let good = team.device("good");
    good.run(&["consent", "anonymous"]);
    good.take(true);
    team.publish(2, "1.0.2", "<p>two, broken</p>");
    // A device, new since 2 came out, on which 2 was confirmed (and keeps running it).
    let running = team.device("running");
    running.take(true);
    assert_eq!(running.run(&["launch"])["version"], "1.0.2");
    // Reporting devices: the one with consent sees 2 fail.
    good.take(false);
    good.run(&["launch"]);
    good.run(&["flush"]);

    let dry = team.guard(&[]);
    assert_eq!(
        dry.status.code(),
        Some(2),
        "a dry run that found work exits 2"
    );
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains("WOULD REVOKE"), "{text}");
    assert!(text.contains("#1") && text.contains("healthy"), "{text}");
    assert!(
        !team.path("repo/releases/production.3.json").exists(),
        "dry run"
    );

    let applied = team.guard(&["--apply", "--json"]);
    let decisions: Value = serde_json::from_str(&assert_ok(&applied)).unwrap();
    let by_seq = |s: u64| {
        decisions
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["sequence"] == s)
            .unwrap()
            .clone()
    };
    assert_eq!(by_seq(1)["verdict"], "healthy");
    assert_eq!(by_seq(2)["verdict"], "revoke");
    assert_eq!(by_seq(2)["incidentSequence"], 3);
    // Applied once: the next run finds it revoked and has nothing to do.
    let again: Value = serde_json::from_str(&assert_ok(&team.guard(&["--json"]))).unwrap();
    assert!(again
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["sequence"] == 2 && d["verdict"] == "alreadyRevoked"));

    // The device running 2 obeys the incident: 2 is failed, the last good content serves.
    running.run(&["update"]);
    let now = running.run(&["launch"]);
    assert_ne!(now["version"], "1.0.2", "{now}");
    let list = running.run(&["list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|b| b["sequence"] == 2 && b["status"] == "failed"),
        "{list}"
    );
    // A new device never takes 2.
    let fresh = team.device("fresh");
    fresh.run(&["update"]);
    assert_eq!(fresh.run(&["launch"])["version"], "1.0.1");
}
