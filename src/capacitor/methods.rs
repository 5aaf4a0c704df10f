//! The plugin methods, one arm each: what [`CapacitorPlugin::call`] does with a method name and
//! its checked options, on the engine.

use std::sync::Arc;

use serde_json::{json, Value};

use super::args::{self, ArgError, Args};
use super::{
    auto_update_enabled, capgo_api, payload, CapacitorPlugin, Effect, Failure, Outcome,
    PLUGIN_VERSION,
};
use crate::boot::{ResetTarget, BUILTIN};
use crate::config::{Consent, UpdateMode};
use crate::engine::{CheckResult, Engine};
use crate::error::LiveshipError;
use crate::events::UpdateOutcome;
use crate::ffi::core;

/// Every plugin method, as `plugin/src/definitions.ts` names them. The iOS shell registers
/// these; the Android shell has one `@PluginMethod` each (a test compares both lists).
pub const METHODS: &[&str] = &[
    "notifyAppReady",
    "download",
    "next",
    "set",
    "reload",
    "reset",
    "current",
    "list",
    "delete",
    "getLatest",
    "setChannel",
    "unsetChannel",
    "getChannel",
    "getDeviceId",
    "getPluginVersion",
    "getBuiltinVersion",
    "isAutoUpdateEnabled",
    "getNextBundle",
    "getFailedUpdate",
    "setMultiDelay",
    "cancelDelay",
    "triggerUpdateCheck",
    "getHistory",
    "exportData",
    "deleteData",
    "setConsent",
    "getConsent",
    // Capgo 8's methods beyond the update cycle (`capgo_api`).
    "setUpdateUrl",
    "setStatsUrl",
    "setChannelUrl",
    "getAppId",
    "setAppId",
    "setCustomId",
    "isAutoUpdateAvailable",
    "setBundleError",
    "getMissingBundleFiles",
    "getBundleDownloadSize",
    "listChannels",
    "setShakeMenu",
    "isShakeMenuEnabled",
    "setShakeChannelSelector",
    "isShakeChannelSelectorEnabled",
    "startPreviewSession",
    "listPreviews",
    "setPreview",
    "resetPreview",
    "deletePreview",
    "checkPreviewUpdate",
    "updatePreview",
    "getAppUpdateInfo",
    "openAppStore",
    "performImmediateUpdate",
    "startFlexibleUpdate",
    "completeFlexibleUpdate",
];

impl CapacitorPlugin {
    pub(super) fn dispatch(&self, e: &Arc<Engine>, method: &str, a: &Args) -> Outcome {
        let c = e.config();
        let run = |op: &str, f: &dyn Fn() -> Result<(), crate::engine::CoreError>| core(op, f);
        let bundle = |id: &str, version: &str| -> Result<Value, LiveshipError> {
            Ok(payload::by_id(
                id,
                &core("list", || e.list())?,
                &c.builtin_version,
                version,
            ))
        };
        let done = || Ok(None);
        let v = match method {
            "notifyAppReady" => {
                let id = a.bundle_id("bundleId")?;
                core("notifyAppReady", || e.notify_app_ready(&id))?;
                json!({ "bundle": bundle(&id, "")? })
            }
            "download" => return self.download(e, a),
            "next" => {
                let id =
                    a.installed_bundle_id("id", "the built-in bundle cannot be next; use reset()")?;
                run("setNext", &|| e.set_next(&id))?;
                bundle(&id, "")?
            }
            "set" => {
                let id = a.bundle_id("id")?;
                if id == BUILTIN {
                    core("reset", || e.reset(ResetTarget::Builtin))?;
                    return done();
                }
                run("setNext", &|| e.set_next(&id))?;
                if core("applyNext", || e.apply_now())?.is_some() {
                    return done();
                }
                if !core("delayConditions", || e.delay())?.is_empty() {
                    return Err(Failure::Plugin(
                        "invalidArgument",
                        format!(
                            "bundle {id} is next and applies once its delay conditions are met; \
                             call cancelDelay() first to switch now"
                        ),
                    ));
                }
                return Err(Failure::Plugin(
                    "internal",
                    format!("bundle {id} was set as next but did not apply"),
                ));
            }
            "reload" => {
                // A pending next bundle applies (its Serve comes from the core); else what
                // serves is loaded again.
                if core("applyNext", || e.apply_now())?.is_none() {
                    let l = core("current", || e.current())?;
                    self.shared.effect(Effect::Serve {
                        bundle_id: l.id,
                        path: l.path,
                    });
                }
                return done();
            }
            "reset" => {
                let to = if a.optional_boolean("toLastSuccessful", false)? {
                    ResetTarget::LastGood
                } else {
                    ResetTarget::Builtin
                };
                core("reset", || e.reset(to))?;
                return done();
            }
            "current" => {
                let l = core("current", || e.current())?;
                let installed = core("list", || e.list())?;
                json!({
                    "bundle": payload::launch(&l, &installed, &c.builtin_version),
                    "native": c.native_version,
                })
            }
            "list" => {
                let installed = core("list", || e.list())?;
                json!({ "bundles": installed.iter().map(payload::bundle).collect::<Vec<_>>() })
            }
            "delete" => {
                let id = a.installed_bundle_id("id", "the built-in bundle cannot be deleted")?;
                run("delete", &|| e.delete(&id))?;
                return done();
            }
            "getLatest" => {
                if let Some(wanted) = a.optional_channel("channel")? {
                    let mine = core("getChannel", || e.channel())?;
                    if wanted != mine {
                        return Err(Failure::Arg(ArgError {
                            field: "channel".into(),
                            reason: format!(
                                "this device follows \"{mine}\"; call setChannel() to change it"
                            ),
                        }));
                    }
                }
                let check = core("check", || e.check())?;
                payload::latest(&check, &core("current", || e.current())?.version)
            }
            "setChannel" => {
                let channel = a.channel("channel")?;
                let trigger = a.optional_boolean("triggerAutoUpdate", false)?;
                run("setChannel", &|| e.set_channel(Some(&channel)))?;
                if trigger {
                    self.auto_update();
                }
                json!({ "status": "ok" })
            }
            "unsetChannel" => {
                let trigger = a.optional_boolean("triggerAutoUpdate", false)?;
                run("unsetChannel", &|| e.set_channel(None))?;
                if trigger {
                    self.auto_update();
                }
                return done();
            }
            "getChannel" => match e.config().update_mode {
                // Capgo mode: what the channel endpoint has for this device.
                UpdateMode::Capgo => match core("getChannel", || e.capgo_channel())? {
                    Some(c) => {
                        json!({"channel": c.channel, "status": c.status, "allowSet": c.allow_set})
                    }
                    None => json!({
                        "channel": core("getChannel", || e.channel())?, "status": "default", "allowSet": true,
                    }),
                },
                _ => json!({
                    "channel": core("getChannel", || e.channel())?, "status": "ok", "allowSet": true,
                }),
            },
            "getDeviceId" => json!({ "deviceId": e.device_id() }),
            "getPluginVersion" => json!({ "version": PLUGIN_VERSION }),
            "getBuiltinVersion" => json!({ "version": c.builtin_version }),
            "isAutoUpdateEnabled" => {
                json!({ "enabled": auto_update_enabled(&e.effective_config()) })
            }
            "getNextBundle" => match core("status", || e.status())?.next {
                Some(b) => payload::bundle(&b),
                None => return done(),
            },
            "getFailedUpdate" => match self.shared.state().failed.take() {
                Some(f) => f,
                None => return done(),
            },
            "setMultiDelay" => {
                let conditions = a.delay_conditions()?;
                run("setMultiDelay", &|| e.set_delay(&conditions))?;
                return done();
            }
            "cancelDelay" => {
                run("cancelDelay", &|| e.set_delay(&[]))?;
                return done();
            }
            // Capgo's answer: the cycle is queued (its end arrives as events), a cycle is
            // running already, or no updateUrl is set. Unlike Capgo's, it also runs with
            // autoUpdate off: it is the app's own request.
            "triggerUpdateCheck" => {
                let status = if !capgo_api::update_url_set(e) {
                    "unavailable"
                } else if self.start_update(e) {
                    "queued"
                } else {
                    "already_running"
                };
                json!({ "status": status, "queued": status == "queued" })
            }
            "getHistory" => {
                let h = core("history", || e.history())?;
                json!({ "history": h.iter().map(payload::history).collect::<Vec<_>>() })
            }
            "exportData" => json!({ "json": export_data(e)?.to_string() }),
            "deleteData" => self.delete_data(e)?,
            "setConsent" => {
                let level = a.consent()?;
                let purged = core("setConsent", || e.set_consent(level))?;
                json!({ "level": level.as_str(), "telemetry": level != Consent::Off, "purged": purged })
            }
            "getConsent" => {
                let level = e.consent();
                json!({ "level": level.as_str(), "telemetry": level != Consent::Off })
            }
            other => {
                return self.dispatch_capgo(e, other, a).unwrap_or_else(|| {
                    Err(Failure::Plugin(
                        "unimplemented",
                        format!("Liveship has no method {other:?}"),
                    ))
                })
            }
        };
        Ok(Some(v))
    }

    /// Check, download, verify and install the offered release as next. `url`, when given,
    /// must be the configured `updateUrl`; `version` what the server offers.
    fn download(&self, e: &Arc<Engine>, a: &Args) -> Outcome {
        const NOT_USED: &str = "is not used: keys and hashes travel in the signed manifest";
        a.refused("sessionKey", NOT_USED)?;
        a.refused("checksum", NOT_USED)?;
        let url = a.optional_text("url")?;
        let version = a.optional_text("version")?;
        let refuse = |field: &str, reason: String| {
            Failure::Arg(ArgError {
                field: field.into(),
                reason,
            })
        };
        let no_update = |code: &str, reason: &str| {
            Failure::Plugin(
                "invalidArgument",
                format!("no update to download ({code}): {reason}"),
            )
        };
        if let Some(url) = url {
            let effective = e.effective_config();
            let configured = effective.update_url.as_deref().filter(|u| !u.is_empty());
            let Some(configured) = configured else {
                return Err(refuse("url", "no updateUrl is configured".into()));
            };
            if url.trim_end_matches('/') != configured.trim_end_matches('/') {
                return Err(refuse(
                    "url",
                    "Liveship installs signed releases from the configured updateUrl only".into(),
                ));
            }
        }
        if let Some(wanted) = version {
            match core("check", || e.check())? {
                CheckResult::UpdateAvailable { version, .. } if version != wanted => {
                    return Err(refuse(
                        "version",
                        format!("the server offers {version}, not {wanted}"),
                    ))
                }
                CheckResult::NoUpdate { code, reason } => return Err(no_update(&code, &reason)),
                CheckResult::UpdateAvailable { .. } => {}
            }
        }
        self.running(true);
        let outcome = core("download", || e.update());
        self.running(false);
        match outcome? {
            UpdateOutcome::Installed { id, version, .. } => {
                let installed = core("list", || e.list())?;
                Ok(Some(payload::by_id(
                    &id,
                    &installed,
                    &e.config().builtin_version,
                    &version,
                )))
            }
            UpdateOutcome::NoUpdate { code, reason } => Err(no_update(&code, &reason)),
        }
    }

    /// Erases this install's data (`Engine::delete_data`) and the plugin's remembered revert.
    fn delete_data(&self, e: &Arc<Engine>) -> Result<Value, Failure> {
        let deleted = core("deleteData", || e.delete_data())?;
        self.shared.state().failed = None;
        Ok(
            json!({ "deviceId": deleted.device_id, "deletionRequested": deleted.deletion_requested }),
        )
    }
}

/// Everything kept about this install, as one JSON document: the install and custom ids, channel,
/// consent, bundles, history, delay conditions and the telemetry queue. No keys, no URLs.
pub fn export_data(e: &Engine) -> Result<Value, LiveshipError> {
    let status = core("status", || e.status())?;
    let installed = core("list", || e.list())?;
    let builtin = &e.config().builtin_version;
    let consent = e.consent();
    let queue = core("queue", || e.queued_stats())?;
    let queued: Vec<Value> = queue
        .iter()
        .map(|q| {
            json!({
                "kind": q.kind,
                "queuedAt": args::iso8601(q.at),
                "event": serde_json::from_str::<Value>(&q.body).unwrap_or(Value::Null),
            })
        })
        .collect();
    let dropped = core("queue", || e.stats_dropped())?;
    Ok(json!({
        "deviceId": status.device_id,
        "customId": e.custom_id(),
        "channel": status.channel,
        "nativeVersion": status.native_version,
        "consent": { "level": consent.as_str(), "telemetry": consent != Consent::Off },
        "serving": payload::launch(&status.serving, &installed, builtin),
        "bundles": installed.iter().map(payload::bundle).collect::<Vec<_>>(),
        "history": core("history", || e.history())?.iter().map(payload::history).collect::<Vec<_>>(),
        "delayConditions": core("delay", || e.delay())?.iter().map(payload::delay_condition).collect::<Vec<_>>(),
        "telemetry": { "queued": queued, "dropped": dropped },
    }))
}
