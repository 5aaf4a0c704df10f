//! What a device's update traffic trusts, over real loopback servers (TLS with a CA made in the
//! test): a redirect to plain http is refused, a plain-http update URL is refused without the
//! loopback exception, a certificate from an unknown CA is refused before any request, and the
//! configured extra CA (inline or as a file) is trusted.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use liveship::engine::Engine;
use liveship::fetch::FetchError;
use support::{
    fast_http, fetch_error, installed, respond, serve_file, test_ca, Device, Net, Publisher,
};

/// An HTTPS repository with the test CA; while `redirect` is set, bundle requests are
/// redirected to plain http.
fn https_repo(root: PathBuf, redirect: Arc<AtomicBool>) -> (Net, String) {
    let ca = test_ca();
    let net = Net::https(ca.acceptor, move |_, req| {
        if redirect.load(Ordering::SeqCst) && req.path.contains("/bundles/") {
            let to = format!("http://127.0.0.1:9{}", req.path);
            return respond("302 Found", &[("Location", to)], b"");
        }
        serve_file(&root, "/repo", req)
    });
    (net, ca.ca_pem)
}

fn https_config(
    p: &Publisher,
    net: &Net,
    device: &std::path::Path,
    ca: &str,
) -> liveship::config::Config {
    let mut cfg = p.config(&net.update_url(), device);
    assert!(cfg.update_url.as_deref().unwrap().starts_with("https://"));
    cfg.allow_insecure_loopback = false;
    cfg.extra_ca_cert = Some(ca.to_owned());
    cfg
}

#[test]
fn redirect_to_plain_http_is_refused_and_https_with_the_extra_ca_succeeds() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let redirect = Arc::new(AtomicBool::new(true));
    let (net, ca) = https_repo(p.repo(), redirect.clone());
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open(https_config(&p, &net, dir.path(), &ca), dir);
    let err = d.updater.update().unwrap_err();
    match fetch_error(&err) {
        FetchError::InsecureRedirect { to } => {
            assert!(to.starts_with("http://127.0.0.1:9/repo/bundles/"))
        }
        other => panic!("{other}"),
    }
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    redirect.store(false, Ordering::SeqCst);
    installed(d.updater.update().unwrap());
}

#[test]
fn plain_http_update_url_is_refused_without_the_loopback_exception() {
    let p = Publisher::new(false);
    p.pack(1, "one");
    let net = Net::repo(p.repo());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = p.config(&net.update_url(), dir.path());
    cfg.allow_insecure_loopback = false;
    let d = Device::open(cfg, dir);
    let err = d.updater.check().unwrap_err();
    assert!(
        matches!(fetch_error(&err), FetchError::InsecureUrl { .. }),
        "{err}"
    );
    assert!(net.server.requests().is_empty());
}

#[test]
fn certificate_from_an_unknown_ca_is_refused_and_the_right_ca_file_works() {
    let p = Publisher::new(true);
    p.pack(1, "one");
    let (net, ca) = https_repo(p.repo(), Arc::new(AtomicBool::new(false)));
    let dir = tempfile::tempdir().unwrap();
    let other_ca = test_ca().ca_pem;
    let d = Device::open(https_config(&p, &net, dir.path(), &other_ca), dir);
    let err = d.updater.update().unwrap_err();
    assert!(matches!(fetch_error(&err), FetchError::Tls { .. }), "{err}");
    assert_eq!(d.updater.current().unwrap().id, "builtin");
    assert!(
        net.server.requests().is_empty(),
        "no request may pass an untrusted handshake"
    );

    // Same device state, now configured with the right CA as a file path.
    let Device { dir, updater, .. } = d;
    drop(updater);
    let pem = dir.path().join("dev-ca.pem");
    std::fs::write(&pem, &ca).unwrap();
    let cfg = https_config(&p, &net, dir.path(), pem.to_str().unwrap());
    let updater = Engine::open_with_http(
        cfg,
        &dir.path().join("data"),
        liveship::events::discard(),
        fast_http(),
    )
    .unwrap();
    installed(updater.update().unwrap());
}
