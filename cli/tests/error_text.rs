//! Error messages print each cause once, in the CLI (the real binary's stderr) and in the FFI
//! error text (`LiveshipError`'s reason), for failures with nested causes: a missing key file,
//! an install that fails inside decryption or the file check, a start-up failure of `serve`.

mod support;

use std::path::Path;
use std::process::Output;

use liveship::ffi::{HostInfo, Updater};
use serde_json::{json, Value};
use support::cli::*;

/// The app's config for `liveship device` and the FFI: keygen's keys plus what native code knows.
fn device_config(f: &Fixture) -> std::path::PathBuf {
    let mut cfg: Value = serde_json::from_slice(
        &std::fs::read(f.key("liveship.config.json")).expect("keygen's config"),
    )
    .unwrap();
    let extra = json!({
        "appId": "com.example.app",
        "platform": "android",
        "nativeVersion": "1.0.0",
        "builtinDir": f.root.join("builtin"),
        "defaultChannel": "production",
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let path = f.root.join("device.json");
    std::fs::write(&path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    path
}

fn device_install(f: &Fixture, data: &str) -> Output {
    let config = device_config(f);
    let data = f.root.join(data);
    let release = f.channel_file("production");
    run(&[
        "device",
        "--data-dir",
        p(&data),
        "--config",
        p(&config),
        "install",
        "--release",
        p(&release),
    ])
}

/// The FFI's error text for installing the channel file, through the exported `Updater`.
fn ffi_install_error(f: &Fixture) -> String {
    let config = std::fs::read_to_string(device_config(f)).unwrap();
    let host = HostInfo {
        app_id: "com.example.app".into(),
        platform: "android".into(),
        native_version: "1.0.0".into(),
        native_build: None,
        data_dir: p(&f.root.join("ffi-data")).into(),
        builtin_dir: p(&f.root.join("builtin")).into(),
        os_version: None,
        is_emulator: false,
    };
    let updater = Updater::from_json(config, host, None).expect("open the updater");
    let release = f.channel_file("production");
    updater
        .install_from_file(p(&release).into())
        .expect_err("the install must fail")
        .to_string()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn packed() -> Fixture {
    let f = Fixture::new();
    assert_ok(&f.pack("production", 3, true));
    f
}

#[test]
fn a_missing_signing_key_file_names_its_cause_once() {
    let f = Fixture::new();
    let out = f.root.join("repo");
    let o = run(&[
        "pack",
        p(&f.web),
        "--app-id",
        "com.example.app",
        "--channel",
        "production",
        "--sequence",
        "1",
        "--version",
        "1.0.1",
        "--out",
        p(&out),
        "--signing-key",
        "nokey",
        "--bundle-key",
        p(&f.key("bundle.key")),
    ]);
    assert_fails_with(&o, &["cannot read signing key nokey"]);
    let err = stderr(&o);
    assert_eq!(count(&err, "No such file or directory"), 1, "{err}");
    assert_each_cause_once(&err);
}

/// Decryption fails inside the install: three layers (install, decryption, the segment).
#[test]
fn an_install_that_fails_to_decrypt_says_each_cause_once_in_the_cli_and_the_ffi() {
    let f = packed();
    f.tamper_sealed_bundle("production", |b| b[5] ^= 0x01);
    let o = device_install(&f, "data");
    assert_fails_with(&o, &["install failed", "segment 0 failed authentication"]);
    let err = stderr(&o);
    assert_eq!(count(&err, "failed authentication"), 1, "{err}");
    assert_each_cause_once(&err);

    let ffi = ffi_install_error(&f);
    assert!(ffi.contains("crypto.segmentAuth"), "{ffi}");
    assert_eq!(count(&ffi, "failed authentication"), 1, "{ffi}");
    assert_each_cause_once(&ffi);
}

/// The signed file list does not match the bundle: install, content check, the file.
#[test]
fn an_install_whose_files_do_not_match_says_each_cause_once_in_the_cli_and_the_ffi() {
    let f = packed();
    f.resign("production", |m| m.files[1].size += 1);
    let o = device_install(&f, "data");
    assert_fails_with(&o, &["install failed"]);
    let err = stderr(&o);
    assert_eq!(count(&err, "install failed"), 1, "{err}");
    assert_each_cause_once(&err);

    let ffi = ffi_install_error(&f);
    assert!(ffi.contains("unpack."), "{ffi}");
    assert_each_cause_once(&ffi);
}

/// A release file that is not there: the engine's read error with its OS cause.
#[test]
fn a_missing_release_file_says_its_cause_once() {
    let f = Fixture::new();
    let o = device_install(&f, "data");
    assert_fails_with(&o, &["production.json"]);
    let err = stderr(&o);
    assert_eq!(count(&err, "No such file or directory"), 1, "{err}");
    assert_each_cause_once(&err);
}

/// `serve` start-up failures, whose messages embed their OS error.
#[test]
fn serve_start_up_failures_say_their_cause_once() {
    let f = Fixture::new();
    let missing = f.root.join("nope");
    let (_, err) = support::server::start_fails(&[missing.as_os_str()]);
    assert!(err.contains("cannot open repository"), "{err}");
    assert_eq!(count(&err, "No such file or directory"), 1, "{err}");
    assert_each_cause_once(&err);

    let repo = f.root.join("served");
    std::fs::create_dir_all(&repo).unwrap();
    let nocert = f.root.join("nocert.pem");
    let (_, err) = support::server::start_fails(&[
        repo.as_os_str(),
        "--tls-cert".as_ref(),
        nocert.as_os_str(),
        "--tls-key".as_ref(),
        Path::new("nokey.pem").as_os_str(),
    ]);
    assert!(err.contains("cannot read TLS certificate file"), "{err}");
    assert_each_cause_once(&err);
}
