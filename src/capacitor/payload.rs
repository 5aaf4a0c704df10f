//! The JavaScript payloads of `plugin/src/definitions.ts` (Capgo's shapes plus Liveship's
//! fields), and the core's events as the JavaScript events they become. The one place where
//! these names and shapes are decided.

use serde_json::{json, Map, Value};

use super::args::iso8601;
use crate::boot::{BundleInfo, BundleStatus, DelayCondition, LaunchResult, BUILTIN};
use crate::engine::CheckResult;
use crate::error::LiveshipError;
use crate::events::{Event, UpdateOutcome};
use crate::store::HistoryEntry;

/// Events delivered to the first listener even when they happened before it was added: they
/// happen at start-up, before the page can listen.
pub const RETAINED: &[&str] = &["updateFailed", "appReady", "appReloaded"];

/// Every event name the plugin sends (definitions.ts `addListener` overloads).
pub const EVENTS: &[&str] = &[
    "download",
    "noNeedUpdate",
    "updateAvailable",
    "downloadComplete",
    "downloadFailed",
    "updateFailed",
    "set",
    "setNext",
    "appReloaded",
    "appReady",
    "updateCheckResult",
    "deltaFallback",
    "stateReset",
    "updatesStale",
    "breakingAvailable",
    "majorAvailable",
    "channelPrivate",
];

/// Events sent again under another name: Capgo renamed `majorAvailable` to `breakingAvailable`
/// and its apps listen for either.
pub const ALIASES: &[(&str, &str)] = &[("breakingAvailable", "majorAvailable")];

pub fn bundle(b: &BundleInfo) -> Value {
    let mut m = json!({
        "id": b.id,
        "version": b.version,
        "downloaded": iso8601(b.installed_at),
        "checksum": b.id,
        "status": if b.status == BundleStatus::Failed { "error" } else { "success" },
        "role": b.status.as_str(),
        "channel": b.channel,
        "sequence": b.sequence,
    });
    if let Some(r) = &b.failed_reason {
        m["failedReason"] = r.as_str().into();
    }
    m
}

pub fn builtin(version: &str) -> Value {
    json!({
        "id": BUILTIN, "version": version, "downloaded": "", "checksum": "",
        "status": "success", "role": "builtin", "channel": "", "sequence": 0,
    })
}

/// A bundle known only by what an event or a launch says (offered, downloading, or gone from
/// the list); `status` is Capgo's.
pub fn partial(id: &str, version: &str, status: &str, role: &str) -> Value {
    json!({
        "id": id, "version": version, "downloaded": "", "checksum": id,
        "status": status, "role": role, "channel": "", "sequence": 0,
    })
}

/// Bundle `id` as listed in `installed`; the built-in bundle by its version.
pub fn by_id(id: &str, installed: &[BundleInfo], builtin_version: &str, version: &str) -> Value {
    if id == BUILTIN {
        return builtin(builtin_version);
    }
    installed
        .iter()
        .find(|b| b.id == id)
        .map(bundle)
        .unwrap_or_else(|| partial(id, version, "success", "ready"))
}

pub fn launch(l: &LaunchResult, installed: &[BundleInfo], builtin_version: &str) -> Value {
    by_id(&l.id, installed, builtin_version, &l.version)
}

/// The trial if there is one (it serves), else the current bundle, else the built-in one.
pub fn serving(installed: &[BundleInfo], builtin_version: &str) -> Value {
    let role = |s| installed.iter().find(|b| b.status == s);
    role(BundleStatus::Trial)
        .or_else(|| role(BundleStatus::Current))
        .map(bundle)
        .unwrap_or_else(|| builtin(builtin_version))
}

/// A pending delay condition in `setMultiDelay`'s shape `{kind, value?}`.
pub fn delay_condition(c: &DelayCondition) -> Value {
    match c {
        DelayCondition::Background { ms } => json!({"kind": "background", "value": ms.to_string()}),
        DelayCondition::Kill => json!({"kind": "kill"}),
        DelayCondition::Date { not_before } => {
            json!({"kind": "date", "value": iso8601(*not_before)})
        }
        DelayCondition::NativeVersion { at_least } => {
            json!({"kind": "nativeVersion", "value": at_least})
        }
    }
}

pub fn latest(c: &CheckResult, serving_version: &str) -> Value {
    match c {
        CheckResult::UpdateAvailable {
            channel,
            sequence,
            version,
            bundle_size,
        } => json!({
            "version": version, "available": true, "sequence": sequence,
            "channel": channel, "bundleSize": bundle_size,
        }),
        CheckResult::NoUpdate { code, reason } => json!({
            "version": serving_version, "available": false, "error": code, "message": reason,
        }),
    }
}

pub fn history(h: &HistoryEntry) -> Value {
    let mut m = json!({"seq": h.seq, "at": iso8601(h.at), "event": h.event, "detail": h.detail});
    if let Some(b) = &h.bundle {
        m["bundle"] = b.as_str().into();
    }
    m
}

/// The rejection JavaScript sees for a core error: `(code, message, check)`.
pub fn error(e: &LiveshipError) -> (&'static str, String, Option<String>) {
    use LiveshipError as L;
    match e {
        L::Network { reason, check } => ("network", reason.clone(), check.clone()),
        L::Verification { check, reason } => ("verification", reason.clone(), Some(check.clone())),
        L::Incompatible { reason } => ("incompatible", reason.clone(), None),
        L::Storage { reason } => ("storage", reason.clone(), None),
        L::Busy { reason } => ("busy", reason.clone(), None),
        L::InvalidArgument { reason } => ("invalidArgument", reason.clone(), None),
        L::Internal { reason } => ("internal", reason.clone(), None),
    }
}

/// The `updateCheckResult` event of a finished update cycle.
pub fn outcome(
    o: &Result<UpdateOutcome, LiveshipError>,
    installed: &[BundleInfo],
    builtin_version: &str,
    serving: Value,
) -> Value {
    match o {
        Ok(UpdateOutcome::Installed {
            id,
            version,
            downloaded_bytes,
            delta,
            delta_fallback,
            ..
        }) => {
            let mut m = json!({
                "outcome": "installed",
                // Capgo's kind: nothing more to download.
                "kind": "up_to_date",
                "bundle": by_id(id, installed, builtin_version, version),
                "downloadedBytes": downloaded_bytes,
                "delta": delta,
            });
            if let Some(r) = delta_fallback {
                m["reason"] = r.as_str().into();
            }
            m
        }
        Ok(UpdateOutcome::NoUpdate { code, reason }) => {
            // Capgo's kinds: nothing newer, or a release this device must not take.
            let kind = if code == "upToDate" || code == "noUpdate" {
                "up_to_date"
            } else {
                "blocked"
            };
            json!({"outcome": "noUpdate", "kind": kind, "bundle": serving, "code": code, "reason": reason})
        }
        Err(e) => {
            let (code, reason, check) = error(e);
            let mut m = json!({
                "outcome": "error", "kind": "failed", "bundle": serving,
                "error": code, "reason": reason, "message": reason,
            });
            if let Some(c) = check {
                m["code"] = c.into();
            }
            m
        }
    }
}

/// The JavaScript event of a core event, `(name, payload)`; `None` for the events that are not
/// JavaScript's (`ReloadRequired` is an effect, the update results come through [`outcome`]).
/// `installed` is read only for events that name an installed bundle.
pub fn event(
    e: &Event,
    installed: &dyn Fn() -> Vec<BundleInfo>,
    builtin_version: &str,
) -> Option<(&'static str, Value)> {
    let bundle = |id: &str, version: &str| by_id(id, &installed(), builtin_version, version);
    Some(match e {
        Event::Download {
            version,
            percent,
            downloaded,
            total,
        } => (
            "download",
            json!({
                "percent": percent,
                "bundle": partial("", version, "downloading", "offered"),
                "downloadedBytes": downloaded,
                "totalBytes": total,
            }),
        ),
        Event::ChannelPrivate { channel, message } => (
            "channelPrivate",
            json!({ "channel": channel, "message": message }),
        ),
        Event::NativeUpdateRequired { version } => {
            ("breakingAvailable", json!({ "version": version }))
        }
        Event::NoNeedUpdate { reason } => (
            "noNeedUpdate",
            json!({"bundle": serving(&installed(), builtin_version), "reason": reason}),
        ),
        Event::UpdateAvailable { sequence, version } => {
            let mut b = partial("", version, "pending", "offered");
            b["sequence"] = (*sequence).into();
            ("updateAvailable", json!({ "bundle": b }))
        }
        Event::DownloadComplete { bundle_id, version } => (
            "downloadComplete",
            json!({"bundle": bundle(bundle_id, version)}),
        ),
        Event::DownloadFailed { version, error } => (
            "downloadFailed",
            json!({"version": version, "error": error}),
        ),
        Event::UpdateFailed {
            bundle_id,
            version,
            reason,
        } => ("updateFailed", failed(bundle(bundle_id, version), reason)),
        Event::Set { bundle_id } => ("set", json!({"bundle": bundle(bundle_id, "")})),
        Event::SetNext { bundle_id } => ("setNext", json!({"bundle": bundle(bundle_id, "")})),
        Event::AppReady { bundle_id } => (
            "appReady",
            json!({"bundle": bundle(bundle_id, ""), "status": "ok"}),
        ),
        Event::DeltaFallback { reason } => ("deltaFallback", json!({ "reason": reason })),
        Event::StateReset { reason } => ("stateReset", json!({ "reason": reason })),
        Event::UpdatesStale {
            channel,
            sequence,
            issued_at,
            expires_at,
            age_seconds,
        } => (
            "updatesStale",
            json!({
                "channel": channel,
                "sequence": sequence,
                "issuedAt": iso8601(*issued_at),
                "expiresAt": iso8601(*expires_at),
                "ageSeconds": age_seconds,
            }),
        ),
        Event::ReloadRequired { .. } | Event::UpdateFinished { .. } | Event::UpdateError { .. } => {
            return None
        }
    })
}

/// `updateFailed`'s payload (also what `getFailedUpdate` returns): the bundle, marked failed.
pub fn failed(mut bundle: Value, reason: &str) -> Value {
    if let Some(b) = bundle.as_object_mut() {
        b.insert("status".into(), "error".into());
        b.insert("role".into(), "failed".into());
    }
    json!({"bundle": bundle, "reason": reason})
}

/// An empty object (for events without a payload).
pub fn empty() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed() -> Vec<BundleInfo> {
        vec![BundleInfo {
            id: "ab".repeat(8),
            version: "1.0.1".into(),
            channel: "production".into(),
            sequence: 1,
            status: BundleStatus::Trial,
            failed_reason: None,
            installed_at: 1_893_456_000,
        }]
    }

    fn name_of(e: Event) -> Option<(&'static str, Value)> {
        event(&e, &installed, "1.0.0")
    }

    #[test]
    fn every_core_event_maps_to_its_capgo_name_and_shape() {
        let id = "ab".repeat(8);
        let listed = json!({
            "id": id, "version": "1.0.1", "downloaded": "2030-01-01T00:00:00Z", "checksum": id,
            "status": "success", "role": "trial", "channel": "production", "sequence": 1,
        });
        let cases = [
            (
                Event::Download {
                    version: "1.0.2".into(),
                    percent: 40,
                    downloaded: 4,
                    total: 10,
                },
                "download",
                json!({"percent": 40, "bundle": partial("", "1.0.2", "downloading", "offered"),
                       "downloadedBytes": 4, "totalBytes": 10}),
            ),
            (
                Event::NoNeedUpdate {
                    reason: "up to date".into(),
                },
                "noNeedUpdate",
                json!({"bundle": listed, "reason": "up to date"}),
            ),
            (
                Event::UpdateAvailable {
                    sequence: 2,
                    version: "1.0.2".into(),
                },
                "updateAvailable",
                json!({"bundle": {"id": "", "version": "1.0.2", "downloaded": "", "checksum": "",
                                  "status": "pending", "role": "offered", "channel": "", "sequence": 2}}),
            ),
            (
                Event::DownloadComplete {
                    bundle_id: id.clone(),
                    version: "1.0.1".into(),
                },
                "downloadComplete",
                json!({"bundle": listed}),
            ),
            (
                Event::DownloadFailed {
                    version: "1.0.2".into(),
                    error: "hash".into(),
                },
                "downloadFailed",
                json!({"version": "1.0.2", "error": "hash"}),
            ),
            (
                Event::UpdateFailed {
                    bundle_id: id.clone(),
                    version: "1.0.1".into(),
                    reason: "timeout".into(),
                },
                "updateFailed",
                {
                    let mut b = listed.clone();
                    b["status"] = "error".into();
                    b["role"] = "failed".into();
                    json!({"bundle": b, "reason": "timeout"})
                },
            ),
            (
                Event::Set {
                    bundle_id: id.clone(),
                },
                "set",
                json!({"bundle": listed}),
            ),
            (
                Event::SetNext {
                    bundle_id: id.clone(),
                },
                "setNext",
                json!({"bundle": listed}),
            ),
            (
                Event::AppReady {
                    bundle_id: "builtin".into(),
                },
                "appReady",
                json!({"bundle": builtin("1.0.0"), "status": "ok"}),
            ),
            (
                Event::DeltaFallback { reason: "r".into() },
                "deltaFallback",
                json!({"reason": "r"}),
            ),
            (
                Event::StateReset { reason: "r".into() },
                "stateReset",
                json!({"reason": "r"}),
            ),
            (
                Event::UpdatesStale {
                    channel: "production".into(),
                    sequence: 3,
                    issued_at: 1_893_456_000,
                    expires_at: 1_894_060_800,
                    age_seconds: 700_000,
                },
                "updatesStale",
                json!({"channel": "production", "sequence": 3,
                       "issuedAt": "2030-01-01T00:00:00Z", "expiresAt": "2030-01-08T00:00:00Z",
                       "ageSeconds": 700_000}),
            ),
        ];
        for (e, name, data) in cases {
            assert_eq!(name_of(e), Some((name, data.clone())), "{name}");
            assert!(EVENTS.contains(&name));
        }
        // A bundle gone from the list is described by what the event says.
        let gone = name_of(Event::DownloadComplete {
            bundle_id: "cd".repeat(8),
            version: "9".into(),
        });
        assert_eq!(
            gone.unwrap().1["bundle"],
            partial(&"cd".repeat(8), "9", "success", "ready")
        );
        // Effects and update results are not JavaScript events of their own.
        let reload = Event::ReloadRequired {
            bundle_id: id,
            path: None,
            reason: "r".into(),
        };
        assert_eq!(name_of(reload), None);
    }

    #[test]
    fn update_results_carry_the_outcome_or_the_error_kind_and_check() {
        let ok = Ok(UpdateOutcome::Installed {
            id: "ab".repeat(8),
            version: "1.0.1".into(),
            sequence: 1,
            downloaded_bytes: 5,
            full_bytes: 9,
            delta: true,
            delta_fallback: None,
            applied: false,
        });
        let serving = || builtin("1");
        let v = outcome(&ok, &installed(), "1.0.0", serving());
        assert_eq!(
            (v["outcome"].as_str(), v["delta"].as_bool()),
            (Some("installed"), Some(true))
        );
        assert_eq!(v["bundle"]["role"], "trial");
        assert_eq!(v["kind"], "up_to_date");
        let none = Ok(UpdateOutcome::NoUpdate {
            code: "upToDate".into(),
            reason: "r".into(),
        });
        assert_eq!(
            outcome(&none, &[], "1", serving()),
            json!({"outcome": "noUpdate", "kind": "up_to_date", "bundle": serving(),
                   "code": "upToDate", "reason": "r"})
        );
        let refused = Ok(UpdateOutcome::NoUpdate {
            code: "rollback".into(),
            reason: "r".into(),
        });
        assert_eq!(outcome(&refused, &[], "1", serving())["kind"], "blocked");
        let err = Err(LiveshipError::Verification {
            check: "install.objectHash".into(),
            reason: "r".into(),
        });
        assert_eq!(
            outcome(&err, &[], "1", serving()),
            json!({"outcome": "error", "kind": "failed", "bundle": serving(), "error": "verification",
                   "reason": "r", "message": "r", "code": "install.objectHash"})
        );
        let slow = Err(LiveshipError::Network {
            reason: "r".into(),
            check: Some("fetch.tooSlow".into()),
        });
        assert_eq!(
            outcome(&slow, &[], "1", serving()),
            json!({"outcome": "error", "kind": "failed", "bundle": serving(), "error": "network",
                   "reason": "r", "message": "r", "code": "fetch.tooSlow"})
        );
    }
}
