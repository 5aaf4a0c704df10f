//! How a device asks for updates, over a real loopback server: a static channel file is
//! fetched conditionally (an unchanged channel costs a `304`), and a dynamic endpoint gets the
//! device's info (never key material) and answers `204` or an envelope.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use liveship::engine::CheckResult;
use support::{
    device, installed, respond, serve_file, take_and_confirm, Device, Net, Publisher, Request,
};

#[test]
fn unchanged_channel_costs_a_304_and_is_still_up_to_date() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    take_and_confirm(&d);
    for _ in 0..2 {
        assert!(matches!(
            d.updater.check().unwrap(),
            CheckResult::NoUpdate { code, .. } if code == "upToDate"
        ));
    }
    let channel: Vec<Request> = net
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repo/channels/production.json")
        .collect();
    assert_eq!(channel.len(), 3);
    assert_eq!(channel[0].header("if-none-match"), None);
    let etag = format!(
        "\"{}\"",
        liveship::crypto::sha256_hex(
            &std::fs::read(p.repo().join("channels/production.json")).unwrap()
        )
    );
    // Both later checks were conditional, and serve_file answered them 304.
    for r in &channel[1..] {
        assert_eq!(r.header("if-none-match"), Some(etag.as_str()));
    }
    // A new release changes the ETag: the next check gets it in full.
    p.pack(2, "two");
    assert!(matches!(
        d.updater.check().unwrap(),
        CheckResult::UpdateAvailable { sequence: 2, .. }
    ));
}

#[test]
fn dynamic_endpoint_gets_device_info_and_answers_204_or_an_envelope() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let root = p.repo();
    let posts = Arc::new(AtomicUsize::new(0));
    let seen = posts.clone();
    let net = Net::scripted(move |_, req| {
        if req.method == "POST" && req.path == "/repo/channels/check" {
            return match seen.fetch_add(1, Ordering::SeqCst) {
                0 => respond("204 No Content", &[], b""),
                _ => respond(
                    "200 OK",
                    &[("Content-Type", "application/json".into())],
                    &std::fs::read(root.join("channels/production.json")).unwrap(),
                ),
            };
        }
        serve_file(&root, "/repo", req)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(net.server.url("/repo/channels/check").as_ref(), dir.path());
    cfg.update_mode = liveship::config::UpdateMode::Dynamic;
    let d = Device::open(cfg, dir);

    assert_eq!(
        d.updater.check().unwrap(),
        CheckResult::NoUpdate {
            code: "noUpdate".into(),
            reason: "the update endpoint has no update for this device".into()
        }
    );
    // The install id goes with the check only under consent `full` (docs/PRIVACY.md).
    d.updater
        .set_consent(liveship::config::Consent::Full)
        .unwrap();
    let (id, seq) = installed(d.updater.update().unwrap());
    assert_eq!(seq, 1);

    let reqs = net.server.requests();
    let first = reqs.iter().find(|r| r.method == "POST").unwrap();
    let first: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(first.get("deviceId"), None, "consent off: {first}");
    let post = reqs.iter().rfind(|r| r.method == "POST").unwrap();
    assert_eq!(post.header("content-type"), Some("application/json"));
    let info: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    let mut keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "appId",
            "bundleId",
            "bundleVersion",
            "channel",
            "deviceId",
            "nativeVersion",
            "platform",
            "sequence"
        ]
    );
    assert_eq!(info["appId"], support::APP_ID);
    assert_eq!(info["platform"], "android");
    assert_eq!(info["nativeVersion"], "1.0.0");
    assert_eq!(info["channel"], "production");
    assert_eq!(info["deviceId"], d.updater.device_id());
    assert_eq!(info["bundleId"], "builtin");
    assert_eq!(info["sequence"], serde_json::Value::Null);
    // No key material of any kind travels.
    let text = String::from_utf8_lossy(&post.body);
    let cfg = d.updater.config();
    for secret in cfg
        .bundle_keys
        .iter()
        .flat_map(|k| [k.key.clone(), k.key_id.clone()])
        .chain(
            cfg.public_keys
                .iter()
                .flat_map(|k| [k.public_key.clone(), k.key_id.clone()]),
        )
    {
        assert!(!text.contains(&secret), "device info leaks {secret}");
    }

    // After the install the endpoint learns the sequence and bundle on the next check.
    d.updater.launch();
    d.updater.notify_app_ready(&id).unwrap();
    assert!(
        matches!(d.updater.check().unwrap(), CheckResult::NoUpdate { code, .. } if code == "upToDate")
    );
    let last = net
        .server
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(info["sequence"], 1);
    assert_eq!(info["bundleId"], id.as_str());
    assert_eq!(info["bundleVersion"], "1.0.1");
}
