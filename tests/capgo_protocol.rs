//! Capgo's update check over loopback HTTP, against a Capgo-style backend of our own that
//! answers like Capgo's `/updates`: it decides from the info object the device sends (app,
//! device, serving version) and gives each response form and error kind: a release, a reset to
//! built-in, `up_to_date`, `blocked`, `failed` on a 4xx, a 429 with Retry-After, a 5xx without a
//! body. The device side is `liveship::capgo::protocol::check` over the real fetch layer.

mod support;

use liveship::capgo::protocol::{self, Answer, CheckRequest, RefusalKind};
use serde_json::{json, Value};
use support::fetching::fetcher;
use support::{respond, Server};

const NOW_MS: u64 = 1_700_000_000_000;

fn json_reply(status: &str, headers: &[(&str, String)], body: Value) -> Vec<support::Step> {
    let mut all = headers.to_vec();
    all.push(("Content-Type", "application/json".into()));
    respond(status, &all, body.to_string().as_bytes())
}

/// The backend: one app (`com.example.app`), latest release 1.2.0; 1.1.9 was withdrawn (its
/// devices go back to built-in); device `blocked-device` may not take breaking releases;
/// device `busy-device` is rate-limited; device `broken-device` meets a failing server.
async fn capgo_backend() -> Server {
    Server::http(|_, req| {
        let info: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return json_reply(
                    "400 Bad Request",
                    &[],
                    json!({"error": "invalid_json_body", "kind": "failed", "message": "Invalid body"}),
                )
            }
        };
        let field = |k: &str| info[k].as_str().unwrap_or("").to_string();
        if field("app_id") != "com.example.app" {
            return json_reply(
                "400 Bad Request",
                &[],
                json!({"error": "app_not_found", "kind": "failed", "message": "App not found"}),
            );
        }
        match (field("device_id").as_str(), field("version_name").as_str()) {
            ("busy-device", _) => json_reply(
                "429 Too Many Requests",
                &[("Retry-After", "30".into())],
                json!({"error": "too_many_requests", "message": "Slow down"}),
            ),
            ("broken-device", _) => respond("503 Service Unavailable", &[], b""),
            ("blocked-device", _) => json_reply(
                "200 OK",
                &[],
                json!({"error": "disable_auto_update_to_major", "kind": "blocked", "message": "Cannot upgrade major version"}),
            ),
            (_, "1.2.0") => json_reply(
                "200 OK",
                &[],
                json!({"error": "no_new_version_available", "kind": "up_to_date", "message": "No new version available"}),
            ),
            (_, "1.1.9") => json_reply("200 OK", &[], json!({"version": "builtin"})),
            _ => json_reply(
                "200 OK",
                &[],
                json!({
                    "version": "1.2.0",
                    "url": "https://cdn.example.com/com.example.app/1.2.0.zip",
                    "checksum": "5f3a",
                    "session_key": "aXY=:d3JhcHBlZA==",
                    "breaking": false,
                }),
            ),
        }
    })
    .await
}

fn request(device: &str, version_name: &str) -> CheckRequest {
    CheckRequest {
        platform: "android".into(),
        device_id: device.into(),
        app_id: "com.example.app".into(),
        version_build: "2.0.0".into(),
        version_code: "20".into(),
        version_os: "14".into(),
        version_name: version_name.into(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        is_prod: true,
        default_channel: "production".into(),
        key_id: Some("0011223344556677".into()),
        ..CheckRequest::default()
    }
}

async fn check(server: &Server, req: &CheckRequest) -> Answer {
    protocol::check(&fetcher(), &server.url("/updates"), req, NOW_MS)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_device_on_the_built_in_bundle_is_offered_the_release_and_sent_capgos_info_object() {
    let server = capgo_backend().await;
    let a = check(&server, &request("d1", "builtin")).await;
    let Answer::Release(r) = a else {
        panic!("{a:?}")
    };
    assert_eq!(r.version, "1.2.0");
    assert_eq!(r.url, "https://cdn.example.com/com.example.app/1.2.0.zip");
    assert_eq!(r.session_key.as_deref(), Some("aXY=:d3JhcHBlZA=="));
    // What the backend received is Capgo's info object, field by field.
    let got = server.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "platform": "android", "device_id": "d1", "app_id": "com.example.app",
            "custom_id": "", "version_build": "2.0.0", "version_code": "20", "version_os": "14",
            "version_name": "builtin", "plugin_version": env!("CARGO_PKG_VERSION"),
            "is_emulator": false, "is_prod": true, "defaultChannel": "production",
            "key_id": "0011223344556677",
        })
    );
}

#[tokio::test]
async fn every_refusal_form_of_the_backend_is_classified() {
    let server = capgo_backend().await;
    let refused = |a: Answer| match a {
        Answer::Refused {
            kind,
            error,
            status,
            ..
        } => (kind, error, status),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(check(&server, &request("d1", "1.2.0")).await),
        (
            RefusalKind::UpToDate,
            "no_new_version_available".into(),
            200
        )
    );
    assert_eq!(
        refused(check(&server, &request("blocked-device", "builtin")).await),
        (
            RefusalKind::Blocked,
            "disable_auto_update_to_major".into(),
            200
        )
    );
    let mut other_app = request("d1", "builtin");
    other_app.app_id = "com.example.other".into();
    assert_eq!(
        refused(check(&server, &other_app).await),
        (RefusalKind::Failed, "app_not_found".into(), 400)
    );
    assert_eq!(
        refused(check(&server, &request("broken-device", "builtin")).await),
        (RefusalKind::Failed, "response_error".into(), 503)
    );
}

#[tokio::test]
async fn a_withdrawn_release_sends_its_devices_back_to_built_in() {
    let server = capgo_backend().await;
    assert_eq!(
        check(&server, &request("d1", "1.1.9")).await,
        Answer::Builtin
    );
}

#[tokio::test]
async fn a_rate_limited_device_is_told_how_long_to_wait() {
    let server = capgo_backend().await;
    assert_eq!(
        check(&server, &request("busy-device", "builtin")).await,
        Answer::RateLimited {
            error: "too_many_requests".into(),
            message: "Slow down".into(),
            retry_after_secs: Some(30),
        }
    );
    assert_eq!(
        server.requests().len(),
        1,
        "a 429 is not retried by the fetch layer"
    );
}
