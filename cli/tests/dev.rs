//! `liveship dev` as a browser sees it, over raw HTTP (the Chromium scenarios are in
//! scripts/browser-test.sh): what it injects into a page, what it answers on the bridge, and that
//! nothing outside `--web` and `--repo` can be fetched through it.

mod support;

use std::ffi::OsStr;

use support::cli::*;
use support::server::*;

/// A fake native-bridge.js (the real one comes from @capacitor/android in the browser tests).
const BRIDGE: &str = "/* native-bridge.js stand-in */";

fn dev(f: &Fixture) -> Server {
    std::fs::create_dir_all(&f.repo).unwrap();
    let bridge = f.root.join("native-bridge.js");
    std::fs::write(&bridge, BRIDGE).unwrap();
    let config = f.root.join("config.json");
    std::fs::write(&config, r#"{"autoUpdate": false}"#).unwrap();
    let args: Vec<&OsStr> = vec![
        "dev".as_ref(),
        "--web".as_ref(),
        f.web.as_os_str(),
        "--repo".as_ref(),
        f.repo.as_os_str(),
        "--keys".as_ref(),
        f.keys.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--native-bridge".as_ref(),
        bridge.as_os_str(),
    ];
    Server::spawn(&args)
}

#[test]
fn pages_get_the_bridge_before_their_own_scripts_and_other_files_come_as_they_are() {
    let f = Fixture::new();
    let server = dev(&f);
    let (status, page) = raw_get(server.port(), "/");
    assert_eq!(status, 200, "{page}");
    let shim = page
        .find("window.androidBridge")
        .expect("no androidBridge shim");
    let bridge = page.find(BRIDGE).expect("native-bridge.js not injected");
    let headers = page
        .find("window.Capacitor.PluginHeaders")
        .expect("no plugin headers");
    assert!(
        shim < bridge && bridge < headers,
        "injected in the wrong order"
    );
    assert!(page.contains(r#"window.__LIVESHIP_BUNDLE_ID__ = "builtin";"#));
    let index = std::fs::read_to_string(f.web.join("index.html")).unwrap();
    let body_start = index.find("<head>").map(|i| i + 6).unwrap_or(0);
    assert!(
        page.contains(&index[body_start..]),
        "the page's own content changed"
    );
}

#[test]
fn nothing_outside_web_and_repo_is_served() {
    let f = Fixture::new();
    let server = dev(&f);
    let secret = std::fs::read_to_string(f.key("signing.key")).unwrap();
    for target in [
        "/../keys/signing.key",
        "/%2e%2e/keys/signing.key",
        "/..%2fkeys%2fsigning.key",
        "/__liveship/repo/../keys/signing.key",
        "/__liveship/repo/%2e%2e/keys/signing.key",
        "//etc/passwd",
    ] {
        let (status, body) = raw_get(server.port(), target);
        // A route without a file extension may be the app's index (html5 mode), nothing else.
        assert!(
            status != 200 || body.contains("window.androidBridge"),
            "{target} was served: {body}"
        );
        assert!(!body.contains(&secret), "{target} leaked the signing key");
        assert!(!body.contains("root:x:0:0"), "{target} leaked /etc/passwd");
    }
    // A link in the web folder that points out of it is not followed.
    std::os::unix::fs::symlink(f.key("signing.key"), f.web.join("key.txt")).unwrap();
    let (status, body) = raw_get(server.port(), "/key.txt");
    assert_ne!(status, 200);
    assert!(!body.contains(&secret));
}

#[test]
fn a_route_of_a_single_page_app_is_its_index_as_in_capacitors_html5_mode() {
    let f = Fixture::new();
    let server = dev(&f);
    let (status, page) = raw_get(server.port(), "/settings/profile");
    assert_eq!(status, 200);
    assert!(
        page.contains("window.androidBridge"),
        "the route's page has no bridge"
    );
    let (status, _) = raw_get(server.port(), "/missing.js");
    assert_eq!(status, 404, "a missing file is not the index");
}
