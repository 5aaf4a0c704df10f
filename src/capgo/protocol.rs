//! Capgo's update check, as `@capgo/capacitor-updater` 8 speaks it to a Capgo-compatible
//! `/updates` endpoint (Capgo mode, docs/CAPGO.md): the info object the device POSTs, and every
//! answer the backend gives, read into one typed [`Answer`]. Decisions only: no I/O, no clock
//! (the caller passes the time), so every response form is tested as plain Rust.
//!
//! Answers, as Capgo's backend sends them and its plugin reads them:
//! - a release: `version`, `url`, `checksum`, `session_key` (encrypted bundles), optional delta
//!   `manifest` of `{file_name, file_hash, download_url}`, `breaking` (older: `major`);
//! - `version: "builtin"`: go back to the built-in bundle;
//! - a classified refusal: `error`, `message` and `kind` (`up_to_date`, `blocked`, `failed`;
//!   any other kind is `failed`, as the plugin normalizes it), with any HTTP status;
//! - HTTP 429: wait as `Retry-After` (seconds) says, else the body's
//!   `retryAfterSeconds` / `rateLimitResetAt` (Unix ms), top level or under `moreInfo`, capped at
//!   24 hours so a bogus value cannot stop updates for days; no hint means no wait.
//!
//! A body that is not a JSON object, a non-2xx status without a classification, or a release
//! without the fields to fetch it is a `failed` refusal with Capgo's codes (`parse_error`,
//! `response_error`), never a release.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest wait a 429 can impose, in seconds (Capgo's plugin caps it the same).
pub const MAX_RATE_LIMIT_WAIT_SECS: u64 = 24 * 60 * 60;

/// The info object the device sends with each check (field names are Capgo's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CheckRequest {
    pub platform: String,
    pub device_id: String,
    pub app_id: String,
    pub custom_id: String,
    /// The native app's version.
    pub version_build: String,
    /// The native build (`versionCode` / `CFBundleVersion`).
    pub version_code: String,
    pub version_os: String,
    /// The bundle version serving now (`builtin` for the built-in bundle).
    pub version_name: String,
    pub plugin_version: String,
    pub is_emulator: bool,
    pub is_prod: bool,
    #[serde(rename = "defaultChannel")]
    pub default_channel: String,
    /// The id of the app's `publicKey`, when bundles are encrypted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
}

/// Why the backend sent no release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    UpToDate,
    Blocked,
    Failed,
}

impl RefusalKind {
    fn of(kind: Option<&str>) -> RefusalKind {
        match kind {
            Some("up_to_date") => RefusalKind::UpToDate,
            Some("blocked") => RefusalKind::Blocked,
            _ => RefusalKind::Failed,
        }
    }
}

/// One file of a delta release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManifestEntry {
    pub file_name: String,
    pub file_hash: String,
    pub download_url: String,
}

/// A release on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: String,
    /// The zip's URL; empty when the release is a delta `manifest` only.
    pub url: String,
    /// The RSA-signed checksum (or, unsafely, a plain one: `capgo::CapgoKey::verify_checksum`).
    pub checksum: String,
    /// `base64(iv):base64(wrapped key)` for an encrypted bundle.
    pub session_key: Option<String>,
    pub manifest: Vec<ManifestEntry>,
    /// The backend flagged it as breaking (`breaking`, or the older `major`).
    pub breaking: bool,
}

/// What a check's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Release(Release),
    /// `version: "builtin"`: serve the built-in bundle.
    Builtin,
    /// No release: `kind` classifies it, `error` is the backend's code.
    Refused {
        kind: RefusalKind,
        error: String,
        message: String,
        status: u16,
    },
    /// HTTP 429: check again after `retry_after_secs` (none: no hint, retry when due).
    RateLimited {
        error: String,
        message: String,
        retry_after_secs: Option<u64>,
    },
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

fn failed(error: &str, message: impl Into<String>, status: u16) -> Answer {
    Answer::Refused {
        kind: RefusalKind::Failed,
        error: error.into(),
        message: message.into(),
        status,
    }
}

/// Reads a check's answer: the HTTP `status`, the `Retry-After` header if any, the body, and
/// the time now (Unix milliseconds, for `rateLimitResetAt`).
pub fn answer(status: u16, retry_after: Option<&str>, body: &[u8], now_ms: u64) -> Answer {
    let json: Option<Value> = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object);
    if status == 429 {
        let body = json.as_ref();
        return Answer::RateLimited {
            error: body
                .and_then(|b| text(b, "error"))
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "too_many_requests".into()),
            message: body
                .and_then(|b| text(b, "message"))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "Too many requests".into()),
            retry_after_secs: rate_limit_wait(retry_after, body, now_ms),
        };
    }
    let Some(json) = json else {
        return if (200..300).contains(&status) {
            failed("parse_error", "the answer is not a JSON object", status)
        } else {
            failed("response_error", format!("Server error: {status}"), status)
        };
    };
    if json.get("error").is_some_and(|e| !e.is_null())
        || json.get("kind").is_some_and(|k| !k.is_null())
    {
        return Answer::Refused {
            kind: RefusalKind::of(json.get("kind").and_then(Value::as_str)),
            error: text(&json, "error").unwrap_or_default(),
            message: text(&json, "message")
                .unwrap_or_else(|| "server did not provide a message".into()),
            status,
        };
    }
    if !(200..300).contains(&status) {
        return failed("response_error", format!("Server error: {status}"), status);
    }
    let version = text(&json, "version").unwrap_or_default();
    if version == "builtin" {
        return Answer::Builtin;
    }
    let manifest: Vec<ManifestEntry> = match json.get("manifest") {
        None | Some(Value::Null) => Vec::new(),
        Some(m) => match serde_json::from_value(m.clone()) {
            Ok(m) => m,
            Err(e) => return failed("parse_error", format!("manifest: {e}"), status),
        },
    };
    let url = text(&json, "url").unwrap_or_default();
    if version.is_empty() || (url.is_empty() && manifest.is_empty()) {
        return failed(
            "parse_error",
            "a release needs a version and a url or a manifest",
            status,
        );
    }
    let flag = |key| json.get(key).and_then(Value::as_bool).unwrap_or(false);
    Answer::Release(Release {
        version,
        url,
        checksum: text(&json, "checksum").unwrap_or_default(),
        session_key: text(&json, "session_key").filter(|s| !s.is_empty()),
        manifest,
        breaking: flag("breaking") || flag("major"),
    })
}

/// The largest answer read (a delta manifest of 20,000 files is about 4 MB).
pub const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;

/// Sends `request` to a Capgo-compatible `/updates` endpoint and reads the answer (the fetch
/// layer's TLS rules, timeouts and retries of transport failures apply). `Err` only when no
/// answer came at all.
pub async fn check(
    fetcher: &crate::fetch::Fetcher,
    url: &reqwest::Url,
    request: &CheckRequest,
    now_ms: u64,
) -> Result<Answer, crate::fetch::FetchError> {
    let body = serde_json::to_vec(request).expect("a check request serializes");
    let got = fetcher
        .post_for_answer(url, &body, MAX_ANSWER_BYTES)
        .await?;
    Ok(answer(
        got.status,
        got.retry_after.as_deref(),
        &got.body,
        now_ms,
    ))
}

/// How long a 429 says to wait, in whole seconds (rounded up), at most
/// [`MAX_RATE_LIMIT_WAIT_SECS`]; `None` when it gives no usable hint or one already past.
fn rate_limit_wait(header: Option<&str>, body: Option<&Value>, now_ms: u64) -> Option<u64> {
    let secs = |v: f64| (v.is_finite() && v >= 0.0).then_some(v);
    let deadline_ms: Option<f64> = header
        .and_then(|h| h.trim().parse::<f64>().ok())
        .and_then(secs)
        .map(|s| now_ms as f64 + s * 1000.0)
        .or_else(|| {
            let body = body?;
            let more = body.get("moreInfo").filter(|m| m.is_object());
            let field = |key: &str| {
                more.and_then(|m| m.get(key))
                    .or_else(|| body.get(key))
                    .and_then(Value::as_f64)
            };
            field("retryAfterSeconds")
                .and_then(secs)
                .map(|s| now_ms as f64 + s * 1000.0)
                .or_else(|| field("rateLimitResetAt"))
        });
    let wait_ms = deadline_ms? - now_ms as f64;
    if wait_ms.is_nan() || wait_ms <= 0.0 {
        return None;
    }
    let wait = (wait_ms / 1000.0).ceil() as u64;
    Some(wait.min(MAX_RATE_LIMIT_WAIT_SECS))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn read(status: u16, body: Value) -> Answer {
        answer(status, None, body.to_string().as_bytes(), NOW)
    }

    #[test]
    fn a_release_is_read_with_its_key_checksum_and_delta_manifest() {
        let a = read(
            200,
            json!({
                "version": "1.2.0",
                "url": "https://cdn.example.com/1.2.0.zip",
                "checksum": "ab12",
                "session_key": "aXY=:a2V5",
                "breaking": false,
                "major": true,
                "manifest": [{
                    "file_name": "index.html",
                    "file_hash": "00ff",
                    "download_url": "https://cdn.example.com/index.html.br"
                }],
            }),
        );
        let Answer::Release(r) = a else {
            panic!("{a:?}")
        };
        assert_eq!(r.version, "1.2.0");
        assert_eq!(r.session_key.as_deref(), Some("aXY=:a2V5"));
        assert_eq!(r.manifest.len(), 1);
        assert_eq!(r.manifest[0].file_name, "index.html");
        assert!(r.breaking, "`major` is the older name of `breaking`");
    }

    #[test]
    fn builtin_means_reset_and_every_refusal_kind_is_classified() {
        assert_eq!(read(200, json!({"version": "builtin"})), Answer::Builtin);
        for (kind, want) in [
            ("up_to_date", RefusalKind::UpToDate),
            ("blocked", RefusalKind::Blocked),
            ("failed", RefusalKind::Failed),
            ("something_new", RefusalKind::Failed),
        ] {
            let a = read(
                200,
                json!({"error": "no_new_version_available", "kind": kind, "message": "No new version available"}),
            );
            assert_eq!(
                a,
                Answer::Refused {
                    kind: want,
                    error: "no_new_version_available".into(),
                    message: "No new version available".into(),
                    status: 200,
                },
                "{kind}"
            );
        }
        // An error without a kind, with an HTTP error status: failed, status kept.
        let a = read(400, json!({"error": "invalid_app_id"}));
        assert!(
            matches!(&a, Answer::Refused { kind: RefusalKind::Failed, error, status: 400, .. } if error == "invalid_app_id"),
            "{a:?}"
        );
    }

    #[test]
    fn what_cannot_be_fetched_is_never_a_release() {
        for (status, body) in [
            (200, b"not json".to_vec()),
            (200, b"[1,2]".to_vec()),
            (200, br#"{"version":"1.2.0"}"#.to_vec()),
            (200, br#"{"url":"https://x/y.zip"}"#.to_vec()),
            (
                200,
                br#"{"version":"1.2.0","manifest":[{"file_name":1}]}"#.to_vec(),
            ),
            (502, b"<html>Bad gateway</html>".to_vec()),
            (
                500,
                br#"{"version":"1.2.0","url":"https://x/y.zip"}"#.to_vec(),
            ),
        ] {
            let a = answer(status, None, &body, NOW);
            assert!(
                matches!(&a, Answer::Refused { kind: RefusalKind::Failed, error, .. }
                    if error == "parse_error" || error == "response_error"),
                "{status} {:?}: {a:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[test]
    fn a_429_waits_as_retry_after_or_the_body_says_capped_at_a_day() {
        let wait = |header: Option<&str>, body: Value| match answer(
            429,
            header,
            body.to_string().as_bytes(),
            NOW,
        ) {
            Answer::RateLimited {
                retry_after_secs, ..
            } => retry_after_secs,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(Some("120"), json!({})), Some(120));
        assert_eq!(wait(Some(" 1.2 "), json!({})), Some(2), "rounded up");
        assert_eq!(wait(None, json!({"retryAfterSeconds": 30})), Some(30));
        assert_eq!(
            wait(None, json!({"moreInfo": {"retryAfterSeconds": 45}})),
            Some(45)
        );
        assert_eq!(
            wait(
                None,
                json!({"moreInfo": {"rateLimitResetAt": NOW + 10_000}})
            ),
            Some(10)
        );
        assert_eq!(
            wait(None, json!({"rateLimitResetAt": NOW - 1})),
            None,
            "past"
        );
        assert_eq!(
            wait(Some("999999999"), json!({})),
            Some(MAX_RATE_LIMIT_WAIT_SECS)
        );
        assert_eq!(wait(Some("soon"), json!({})), None);
        assert_eq!(wait(None, json!({})), None);
        match answer(429, None, b"", NOW) {
            Answer::RateLimited { error, message, .. } => {
                assert_eq!(
                    (error.as_str(), message.as_str()),
                    ("too_many_requests", "Too many requests")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_request_is_capgos_info_object_field_by_field() {
        let r = CheckRequest {
            platform: "android".into(),
            device_id: "id".into(),
            app_id: "com.example.app".into(),
            version_build: "2.0.0".into(),
            version_code: "20".into(),
            version_os: "14".into(),
            version_name: "builtin".into(),
            plugin_version: "0.1.0".into(),
            is_prod: true,
            default_channel: "production".into(),
            key_id: Some("abcd".into()),
            ..CheckRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({
                "platform": "android", "device_id": "id", "app_id": "com.example.app",
                "custom_id": "", "version_build": "2.0.0", "version_code": "20",
                "version_os": "14", "version_name": "builtin", "plugin_version": "0.1.0",
                "is_emulator": false, "is_prod": true, "defaultChannel": "production",
                "key_id": "abcd",
            })
        );
    }
}
