//! Capgo's channel endpoint (`channelUrl`, Capgo's `channel_self`), called as Capgo 8's plugin
//! calls it: *set* POSTs the info object with `channel`, *get* PUTs the info object, *list* GETs
//! with the info object's fields as query parameters. *Unset* is the device's alone in Capgo 8
//! (it forgets its override; nothing is sent). Every answer is read here; the engine decides
//! what it changes on the device.

use serde::Serialize;
use serde_json::Value;

use super::protocol::CheckRequest;
use crate::fetch::{FetchError, Fetcher};

/// The largest answer read (a channel list of a few thousand channels).
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

/// A channel the backend lists (Capgo's `ChannelInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    pub id: i64,
    pub name: String,
    pub public: bool,
    pub allow_self_set: bool,
}

/// The backend refused: its `error` code and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error: String,
    pub message: String,
}

impl Refusal {
    /// The channel does not let devices choose it (Capgo's `channelPrivate` event).
    pub fn is_private(&self) -> bool {
        self.error.contains("cannot_update_via_private_channel")
            || self.error.contains("channel_self_set_not_allowed")
    }
}

/// What a successful *set* asks of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOutcome {
    /// Follow the channel.
    Set,
    /// The channel is the public default: forget the override (`unset: true`).
    Unset,
}

/// The channel the backend has for this device (*get*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub channel: String,
    pub status: String,
    pub allow_set: bool,
}

/// A body's JSON, or the refusal an answer without one is.
fn read(status: u16, body: &[u8]) -> Result<Value, Refusal> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(error) = json.as_ref().and_then(|v| text(v, "error")) {
        let message = json
            .as_ref()
            .and_then(|v| text(v, "message"))
            .unwrap_or_else(|| "the server gave no message".into());
        return Err(Refusal { error, message });
    }
    match json {
        _ if status == 429 => Err(Refusal {
            error: "too_many_requests".into(),
            message: "the server asks to wait".into(),
        }),
        Some(v) if (200..300).contains(&status) => Ok(v),
        Some(_) => Err(Refusal {
            error: "response_error".into(),
            message: format!("server error: HTTP {status}"),
        }),
        None => Err(Refusal {
            error: "parse_error".into(),
            message: format!("the answer (HTTP {status}) is not JSON"),
        }),
    }
}

fn with_channel(info: &CheckRequest, channel: &str) -> Vec<u8> {
    let mut v = serde_json::to_value(info).expect("an info object serialises");
    v["channel"] = channel.into();
    v.to_string().into_bytes()
}

/// *Set*: asks the backend to let this device follow `channel`.
pub async fn set(
    fetcher: &Fetcher,
    url: &reqwest::Url,
    info: &CheckRequest,
    channel: &str,
) -> Result<Result<SetOutcome, Refusal>, FetchError> {
    let got = fetcher
        .post_for_answer(url, &with_channel(info, channel), MAX_ANSWER_BYTES)
        .await?;
    Ok(read(got.status, &got.body).map(|v| {
        if v.get("unset").and_then(Value::as_bool) == Some(true) {
            SetOutcome::Unset
        } else {
            SetOutcome::Set
        }
    }))
}

/// *Get*: the channel the backend has for this device. `None` when it has none
/// (`channel_not_found`: the device follows its default).
pub async fn get(
    fetcher: &Fetcher,
    url: &reqwest::Url,
    info: &CheckRequest,
) -> Result<Result<Option<Current>, Refusal>, FetchError> {
    let body = serde_json::to_vec(info).expect("an info object serialises");
    let got = fetcher
        .request_for_answer(reqwest::Method::PUT, url, Some(&body), MAX_ANSWER_BYTES)
        .await?;
    Ok(match read(got.status, &got.body) {
        Err(r) if r.error.contains("channel_not_found") => Ok(None),
        Err(r) => Err(r),
        Ok(v) => match v.get("channel").and_then(Value::as_str) {
            Some(channel) if !channel.trim().is_empty() => Ok(Some(Current {
                channel: channel.trim().to_string(),
                status: v
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("ok")
                    .to_string(),
                allow_set: v.get("allowSet").and_then(Value::as_bool).unwrap_or(true),
            })),
            _ => Err(Refusal {
                error: "parse_error".into(),
                message: "the answer names no channel".into(),
            }),
        },
    })
}

/// *List*: the channels the backend offers this app.
pub async fn list(
    fetcher: &Fetcher,
    url: &reqwest::Url,
    info: &CheckRequest,
) -> Result<Result<Vec<ChannelInfo>, Refusal>, FetchError> {
    let mut url = url.clone();
    if let Value::Object(fields) = serde_json::to_value(info).expect("an info object serialises") {
        let mut query = url.query_pairs_mut();
        for (k, v) in fields {
            match v {
                Value::String(s) => query.append_pair(&k, &s),
                Value::Null => continue,
                other => query.append_pair(&k, &other.to_string()),
            };
        }
    }
    let got = fetcher
        .request_for_answer(reqwest::Method::GET, &url, None, MAX_ANSWER_BYTES)
        .await?;
    Ok(read(got.status, &got.body).and_then(|v| {
        let items = v.as_array().ok_or_else(|| Refusal {
            error: "parse_error".into(),
            message: "the channel list is not a JSON array".into(),
        })?;
        Ok(items
            .iter()
            .filter_map(|c| {
                Some(ChannelInfo {
                    id: c.get("id")?.as_i64()?,
                    name: c.get("name")?.as_str()?.to_string(),
                    public: c.get("public").and_then(Value::as_bool).unwrap_or(false),
                    allow_self_set: c
                        .get("allow_self_set")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            })
            .collect())
    }))
}
