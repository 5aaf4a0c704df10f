//! The stats collector of `liveship serve --stats DB`: `POST /stats` ingests the devices'
//! events (docs/COLLECTOR.md) and `GET /dashboard` shows what they say.
//!
//! Guarantees of `POST /stats`:
//! - **Bounded.** A body over [`MAX_BODY_BYTES`] is refused with `413` without reading past the
//!   limit (axum's `DefaultBodyLimit` for a chunked body; a larger `Content-Length` is refused
//!   before any byte of the body is read), more than [`MAX_BATCH`] events with `413`.
//! - **Validated.** The body must parse as [`StatsBody`] (one event or an array), else `400`;
//!   `app_id`, `device_id` and `action` must not be empty, no text field may be over
//!   [`MAX_FIELD_BYTES`] bytes, and no number over `i64::MAX` (the stores' integer), else
//!   `400`. A refused body stores nothing. Every refusal is `{"error": code, "message": text}`.
//! - **All or nothing.** A body is applied in one transaction: `200 {"status":"ok","stored":n}`
//!   means its `n` events are stored; a deletion request
//!   ([`liveship::telemetry::DELETE_ACTION`]) deletes every row of
//!   its (app_id, device_id) and answers with `"deleted": n`, and nothing about it is stored or
//!   logged (the request log carries no body).
//! - **Off the runtime.** Database calls run on tokio's blocking pool, one at a time (one
//!   connection), so a slow disk or database never stalls the static file server.

pub mod dashboard;
pub mod figures;
mod postgres;
mod sqlite;
pub mod store;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use liveship::clock::{Clock, SystemClock};
use liveship::telemetry::{StatsBody, StatsEvent, MAX_BATCH, MAX_BODY_BYTES};
use serde_json::json;

pub use store::Store;

/// The longest text field the collector stores, in bytes.
pub const MAX_FIELD_BYTES: usize = 256;

type Shared = Arc<Mutex<Store>>;

/// `POST /stats` and `GET /dashboard` over `store` (every other method on them is `405`).
pub fn router(store: Store) -> Router {
    let shared: Shared = Arc::new(Mutex::new(store));
    Router::new()
        .route(
            "/stats",
            post(ingest).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/dashboard", get(dashboard))
        .with_state(shared)
}

/// Why a body was refused; each maps to a status and a stable `error` code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the body is over {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("the body could not be read: {0}")]
    BodyUnreadable(String),
    #[error("the body is not JSON: {0}")]
    MalformedJson(serde_json::Error),
    #[error("the body is not a stats event or an array of them: {0}")]
    NotEvents(serde_json::Error),
    #[error("the body holds no event")]
    NoEvents,
    #[error("the body holds {count} events, more than {MAX_BATCH}")]
    BatchTooLarge { count: usize },
    #[error("event {index}: {field} is empty")]
    EmptyField { index: usize, field: &'static str },
    #[error("event {index}: {field} is over {MAX_FIELD_BYTES} bytes")]
    FieldTooLong { index: usize, field: &'static str },
    #[error("event {index}: {field} is over {}", i64::MAX)]
    NumberTooLarge { index: usize, field: &'static str },
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::BodyTooLarge | Refusal::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Refusal::BodyTooLarge => "bodyTooLarge",
            Refusal::BodyUnreadable(_) => "bodyUnreadable",
            Refusal::MalformedJson(_) => "malformedJson",
            Refusal::NotEvents(_) => "notEvents",
            Refusal::NoEvents => "noEvents",
            Refusal::BatchTooLarge { .. } => "batchTooLarge",
            Refusal::EmptyField { .. } => "emptyField",
            Refusal::FieldTooLong { .. } => "fieldTooLong",
            Refusal::NumberTooLarge { .. } => "numberTooLarge",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code(), "message": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}

/// Parses and checks a body (see the module doc); the events in their order.
pub fn parse_body(bytes: &[u8]) -> Result<Vec<StatsEvent>, Refusal> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Refusal::BodyTooLarge);
    }
    let events = match serde_json::from_slice::<StatsBody>(bytes) {
        Ok(body) => body.into_events(),
        Err(e) => return Err(explain(bytes, e)),
    };
    if events.is_empty() {
        return Err(Refusal::NoEvents);
    }
    if events.len() > MAX_BATCH {
        return Err(Refusal::BatchTooLarge {
            count: events.len(),
        });
    }
    for (index, e) in events.iter().enumerate() {
        check_event(index, e)?;
    }
    Ok(events)
}

/// The refusal for a body that is not a [`StatsBody`]: not JSON at all, or JSON of another
/// shape (then serde's message for the variant the body looks like, not "did not match any
/// variant").
fn explain(bytes: &[u8], untagged: serde_json::Error) -> Refusal {
    let value = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => v,
        Err(e) => return Refusal::MalformedJson(e),
    };
    let specific = match &value {
        serde_json::Value::Array(items) if items.len() > MAX_BATCH => {
            return Refusal::BatchTooLarge { count: items.len() }
        }
        serde_json::Value::Array(_) => serde_json::from_value::<Vec<StatsEvent>>(value).err(),
        _ => serde_json::from_value::<StatsEvent>(value).err(),
    };
    Refusal::NotEvents(specific.unwrap_or(untagged))
}

fn check_event(index: usize, e: &StatsEvent) -> Result<(), Refusal> {
    for (field, value) in [
        ("app_id", &e.app_id),
        ("device_id", &e.device_id),
        ("action", &e.action),
    ] {
        if value.trim().is_empty() {
            return Err(Refusal::EmptyField { index, field });
        }
    }
    let texts: [(&'static str, &str); 15] = [
        ("platform", &e.platform),
        ("device_id", &e.device_id),
        ("app_id", &e.app_id),
        ("custom_id", &e.custom_id),
        ("version_build", &e.version_build),
        ("version_code", &e.version_code),
        ("version_os", &e.version_os),
        ("version_name", &e.version_name),
        ("old_version_name", &e.old_version_name),
        ("plugin_version", &e.plugin_version),
        ("defaultChannel", &e.default_channel),
        ("channel", &e.channel),
        ("action", &e.action),
        ("reason", e.reason.as_deref().unwrap_or("")),
        ("consent", &e.consent),
    ];
    if let Some((field, _)) = texts.iter().find(|(_, v)| v.len() > MAX_FIELD_BYTES) {
        return Err(Refusal::FieldTooLong { index, field });
    }
    let numbers = [
        ("sequence", e.sequence),
        ("bytes", e.bytes),
        ("at", Some(e.at)),
    ];
    if let Some((field, _)) = numbers
        .iter()
        .find(|(_, v)| v.is_some_and(|v| i64::try_from(v).is_err()))
    {
        return Err(Refusal::NumberTooLarge { index, field });
    }
    Ok(())
}

async fn ingest(State(store): State<Shared>, req: Request) -> Response {
    // `DefaultBodyLimit` stops reading at the limit but still waits for the bytes up to it; an
    // announced length over the limit is refused before any of the body is read (so the body
    // is extracted here, after this check, not by an extractor before the handler runs).
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Refusal::BodyTooLarge.into_response();
    }
    let bytes = match Bytes::from_request(req, &()).await {
        Ok(bytes) => bytes,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Refusal::BodyTooLarge.into_response()
        }
        Err(e) => return Refusal::BodyUnreadable(e.body_text()).into_response(),
    };
    let events = match parse_body(&bytes) {
        Ok(events) => events,
        Err(refusal) => return refusal.into_response(),
    };
    let received_at = SystemClock.now();
    let applied = tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        store.apply(received_at, &events)
    })
    .await;
    match applied {
        Ok(Ok(applied)) => {
            let mut answer = json!({ "status": "ok" });
            if applied.stored > 0 || !applied.deletion {
                answer["stored"] = applied.stored.into();
            }
            if applied.deletion {
                answer["deleted"] = applied.deleted.into();
            }
            (StatusCode::OK, Json(answer)).into_response()
        }
        Ok(Err(e)) => store_failed(&e.to_string()),
        Err(e) => store_failed(&e.to_string()),
    }
}

fn store_failed(cause: &str) -> Response {
    eprintln!("liveship serve: stats store failed: {cause}");
    let body =
        json!({ "error": "storeFailed", "message": "the stats store failed; see the server log" });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

async fn dashboard(State(store): State<Shared>) -> Response {
    let page = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let mut store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stats = figures::compute(&mut store, None)?;
        let width = dashboard::bucket_width(store.adoption_span()?);
        let adoption = store.adoption(width)?;
        Ok(dashboard::page(&stats, &adoption, width, SystemClock.now()))
    })
    .await;
    match page {
        Ok(Ok(page)) => ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response(),
        Ok(Err(e)) => store_failed(&e.to_string()),
        Err(e) => store_failed(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> serde_json::Value {
        json!({
            "platform": "android", "device_id": "d1", "app_id": "com.example.app",
            "version_build": "1.0.0", "version_name": "1.0.1", "plugin_version": "0.1.0",
            "action": "app_ready", "channel": "production", "sequence": 2
        })
    }

    fn refusal(body: &serde_json::Value) -> Refusal {
        parse_body(&serde_json::to_vec(body).unwrap()).unwrap_err()
    }

    #[test]
    fn one_event_and_a_batch_parse() {
        assert_eq!(
            parse_body(&serde_json::to_vec(&event()).unwrap())
                .unwrap()
                .len(),
            1
        );
        let batch = json!([event(), event()]);
        assert_eq!(
            parse_body(&serde_json::to_vec(&batch).unwrap())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn empty_long_and_huge_fields_are_refused_naming_the_field() {
        let mut e = event();
        e["app_id"] = json!("");
        assert!(matches!(
            refusal(&e),
            Refusal::EmptyField {
                field: "app_id",
                ..
            }
        ));
        let mut e = event();
        e["reason"] = json!("x".repeat(MAX_FIELD_BYTES + 1));
        assert!(matches!(
            refusal(&e),
            Refusal::FieldTooLong {
                field: "reason",
                ..
            }
        ));
        let mut e = event();
        e["sequence"] = json!(u64::MAX);
        assert!(matches!(
            refusal(&e),
            Refusal::NumberTooLarge {
                field: "sequence",
                ..
            }
        ));
        assert!(matches!(refusal(&json!([])), Refusal::NoEvents));
    }

    #[test]
    fn a_wrong_shape_names_what_is_missing() {
        let r = refusal(&json!({ "action": "set" }));
        assert_eq!(r.code(), "notEvents");
        assert!(r.to_string().contains("missing field"), "{r}");
    }
}
