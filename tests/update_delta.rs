//! Delta updates over loopback: a release that changes one file of a ~400 KB app costs one
//! small object instead of the bundle, the assembled tree is exactly the signed list, and a
//! tampered object makes the device fall back to the full bundle (and say so). Encrypted and
//! plain releases alike. A delta object dripped below the minimum rate is given up as too slow
//! (and the full bundle fetched), one dripped above it is stopped by the update's deadline.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use liveship::config::Config;
use liveship::engine::{CoreError, UpdateOutcome, UpdatePhase};
use liveship::events::Event;
use liveship::publish::Packed;
use support::fetching::dripping;
use support::{count, device, serve_file, Device, Net, Publisher};

struct Scene {
    p: Publisher,
    net: Net,
    d: Device,
}

/// A device running release 1 (confirmed), and release 2 published: the same app with a
/// different `main.js`.
fn scene(encrypt: bool) -> (Scene, Packed) {
    let p = Publisher::new(encrypt);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let d = device(&p, &net);
    let UpdateOutcome::Installed { id, delta, .. } = d.updater.update().unwrap() else {
        panic!("first install")
    };
    // Nothing in common with the built-in bundle: the first install is the full bundle.
    assert!(!delta);
    d.updater.launch();
    d.updater.notify_app_ready(&id).unwrap();
    let two = p.pack(2, "two");
    (Scene { p, net, d }, two)
}

/// The launched tree holds exactly the signed files, each with its signed size and SHA-256.
fn assert_tree_matches(d: &Device, packed: &Packed) {
    let launch = d.updater.launch();
    assert_eq!(launch.version, packed.manifest.version);
    let root = launch.path.expect("a downloaded bundle");
    let mut on_disk = Vec::new();
    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&root).unwrap();
            on_disk.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    on_disk.sort();
    let mut signed: Vec<String> = packed
        .manifest
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    signed.sort();
    assert_eq!(on_disk, signed);
    for f in &packed.manifest.files {
        let bytes = std::fs::read(root.join(&f.path)).unwrap();
        assert_eq!(bytes.len() as u64, f.size, "{}", f.path);
        assert_eq!(liveship::crypto::sha256_hex(&bytes), f.sha256, "{}", f.path);
    }
}

fn changed_object(packed: &Packed) -> std::path::PathBuf {
    let main = packed
        .manifest
        .files
        .iter()
        .find(|f| f.path == "main.js")
        .unwrap();
    packed.delta_dir.join(&main.sha256)
}

fn one_changed_file_costs_under_a_tenth_of_the_bundle(encrypt: bool) {
    let (s, two) = scene(encrypt);
    let bundle_gets = count(&s.net.server, "/bundles/");
    let out = s.d.updater.update().unwrap();
    let UpdateOutcome::Installed {
        downloaded_bytes,
        full_bytes,
        delta,
        delta_fallback,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(delta && delta_fallback.is_none());
    assert_eq!(full_bytes, two.manifest.bundle.size);
    assert!(
        full_bytes > 350_000,
        "the app is about 400 KB: {full_bytes}"
    );
    assert!(
        downloaded_bytes * 10 < full_bytes,
        "delta fetched {downloaded_bytes} of {full_bytes} bytes"
    );
    assert_eq!(
        downloaded_bytes,
        std::fs::metadata(changed_object(&two)).unwrap().len()
    );
    // One object fetched, and not the bundle.
    assert_eq!(count(&s.net.server, "/bundles/"), bundle_gets);
    assert_eq!(count(&s.net.server, "/files/production/2/"), 1);
    assert!(!s
        .d
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::DeltaFallback { .. })));
    assert_tree_matches(&s.d, &two);
    let _ = &s.p;
}

#[test]
fn one_changed_file_costs_under_a_tenth_of_the_bundle_encrypted() {
    one_changed_file_costs_under_a_tenth_of_the_bundle(true);
}

#[test]
fn one_changed_file_costs_under_a_tenth_of_the_bundle_plain() {
    one_changed_file_costs_under_a_tenth_of_the_bundle(false);
}

fn tampered_object_falls_back_to_the_full_bundle(encrypt: bool) {
    let (s, two) = scene(encrypt);
    let object = changed_object(&two);
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&object, bytes).unwrap();
    let bundle_gets = count(&s.net.server, "/bundles/");

    let out = s.d.updater.update().unwrap();
    let UpdateOutcome::Installed {
        downloaded_bytes,
        full_bytes,
        delta,
        delta_fallback,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(!delta);
    assert_eq!(downloaded_bytes, full_bytes);
    let reason = delta_fallback.expect("the fallback says why");
    assert!(reason.contains("main.js"), "{reason}");
    let expected = if encrypt {
        "does not decrypt"
    } else {
        "SHA-256"
    };
    assert!(reason.contains(expected), "{reason}");
    assert!(s.d.events.events().iter().any(|e| matches!(e,
        Event::DeltaFallback { reason: r } if *r == reason)));
    assert_eq!(count(&s.net.server, "/bundles/"), bundle_gets + 1);
    assert_tree_matches(&s.d, &two);
}

#[test]
fn tampered_delta_object_falls_back_to_the_full_bundle_encrypted() {
    tampered_object_falls_back_to_the_full_bundle(true);
}

#[test]
fn tampered_delta_object_falls_back_to_the_full_bundle_plain() {
    tampered_object_falls_back_to_the_full_bundle(false);
}

#[test]
fn missing_delta_object_falls_back_to_the_full_bundle() {
    let (s, two) = scene(true);
    std::fs::remove_file(changed_object(&two)).unwrap();
    let out = s.d.updater.update().unwrap();
    let UpdateOutcome::Installed {
        delta,
        delta_fallback,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(!delta);
    let reason = delta_fallback.unwrap();
    assert!(reason.contains("404"), "{reason}");
    assert_tree_matches(&s.d, &two);
}

#[test]
fn rejected_delta_object_is_not_reused_by_the_next_attempt() {
    let (s, two) = scene(true);
    let object = changed_object(&two);
    let good = std::fs::read(&object).unwrap();
    let mut bad = good.clone();
    bad[10] ^= 0x01;
    std::fs::write(&object, &bad).unwrap();
    // The full bundle is unavailable too: this attempt fails as a whole.
    let bundle = two.bundle_path.clone();
    let hidden = bundle.with_extension("hidden");
    std::fs::rename(&bundle, &hidden).unwrap();
    let err = s.d.updater.update().unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    assert_eq!(s.d.updater.current().unwrap().version, "1.0.1");

    // The host repairs the object: the next attempt fetches it again and the delta succeeds.
    std::fs::write(&object, &good).unwrap();
    std::fs::rename(&hidden, &bundle).unwrap();
    let out = s.d.updater.update().unwrap();
    assert!(
        matches!(out, UpdateOutcome::Installed { delta: true, .. }),
        "{out:?}"
    );
    assert_tree_matches(&s.d, &two);
}

// ---------------------------------------------------------------- slow retrieval

/// [`scene`] (encrypted) whose server drips the changed object of release 2, 10 bytes every
/// 100 ms, to a device with 1 s rate windows, `update_timeout` and `min_rate`.
fn dripping_scene(update_timeout: u64, min_rate: u64) -> (Scene, Packed) {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let root = p.repo();
    let slow: Arc<Mutex<Option<String>>> = Arc::default();
    let slow_path = slow.clone();
    let net = Net::scripted(move |_, req| {
        let drip = slow_path.lock().unwrap().clone();
        match drip {
            Some(object) if req.path.ends_with(&object) => {
                let rel = req.path.trim_start_matches("/repo/");
                let body = std::fs::read(root.join(rel)).unwrap();
                dripping("200 OK", &body, 10, Duration::from_millis(100), 600)
            }
            _ => serve_file(&root, "/repo", req),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        update_timeout,
        min_transfer_rate: min_rate,
        transfer_rate_window: 1,
        ..p.config(&net.update_url(), dir.path())
    };
    let d = Device::open(config, dir);
    let UpdateOutcome::Installed { id, .. } = d.updater.update().unwrap() else {
        panic!("first install")
    };
    d.updater.launch();
    d.updater.notify_app_ready(&id).unwrap();
    let two = p.pack(2, "two");
    let object = changed_object(&two);
    let size = std::fs::metadata(&object).unwrap().len();
    assert!(
        size > 400,
        "the object ({size} bytes) outlasts 2 s of dripping"
    );
    *slow.lock().unwrap() = Some(object.file_name().unwrap().to_string_lossy().into_owned());
    (Scene { p, net, d }, two)
}

#[test]
fn a_delta_object_dripped_below_the_minimum_rate_is_too_slow_and_the_full_bundle_is_fetched() {
    let (s, two) = dripping_scene(60, 1024);
    let started = Instant::now();
    let out = s.d.updater.update().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let UpdateOutcome::Installed {
        delta,
        delta_fallback,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(!delta);
    let reason = delta_fallback.unwrap();
    assert!(reason.contains("too slow"), "{reason}");
    assert_tree_matches(&s.d, &two);
}

#[test]
fn a_delta_object_dripped_above_the_minimum_rate_stops_at_the_update_deadline() {
    let (s, two) = dripping_scene(2, 1);
    let started = Instant::now();
    let err = s.d.updater.update().unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            CoreError::UpdateDeadlineExceeded {
                seconds: 2,
                phase: UpdatePhase::DeltaObjects
            }
        ),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    // Out of time is no reason to start the full bundle.
    let bundle = two.bundle_path.file_name().unwrap().to_string_lossy();
    assert_eq!(count(&s.net.server, &bundle), 0);
    assert_eq!(s.d.updater.current().unwrap().version, "1.0.1");
}
