//! The methods of Capgo 8's plugin beyond the update cycle (docs/CAPGO.md, "JavaScript API"):
//! run-time configuration, `setBundleError`, the file-list queries, and the features this
//! version cannot offer yet, which reject with `unavailable` and say why (never a silent
//! success).

use std::sync::Arc;

use serde_json::{json, Value};

use super::args::{iso8601, ArgError, Args};
use super::{payload, CapacitorPlugin, Effect, Failure, Outcome, Reply};
use crate::config::{Config, UpdateMode};
use crate::engine::{Engine, Offered, Preview, Setting};
use crate::ffi::core;

const NO_CHANNEL_LIST: &str = "outside Capgo mode there is no channel list to ask (Liveship's \
     static repositories publish none yet): the channel a device follows is set with setChannel()";

/// The debug menu's switches: the menu itself (`shakeMenu`) and its channel choices
/// (`allowShakeChannelSelector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shake {
    pub menu: bool,
    pub channels: bool,
}

impl Shake {
    /// Whether the shell watches for the gesture.
    pub fn watching(self) -> bool {
        self.menu || self.channels
    }
}

/// What the debug menu shows: a title and the choices, in order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShakeMenu {
    pub title: String,
    pub items: Vec<ShakeMenuItem>,
}

/// One choice: `id` goes back to [`CapacitorPlugin::shake_choice`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShakeMenuItem {
    pub id: String,
    pub label: String,
}

fn item(id: &str, label: &str) -> ShakeMenuItem {
    ShakeMenuItem {
        id: id.into(),
        label: label.into(),
    }
}

/// The debug menu, for `ShakeMenu.kt` / `ShakeMenu.swift`: they detect the gesture and show
/// what this returns; every choice is carried out here.
#[uniffi::export]
impl CapacitorPlugin {
    /// The gesture happened: what to show (`None`: the menu is off). Blocks on the channel
    /// endpoint in Capgo mode when channels are offered: call it off the main thread.
    pub fn shake_menu(&self) -> Option<ShakeMenu> {
        let e = self.engine.as_ref().ok()?;
        let shake = self.shake(e);
        if !shake.watching() {
            return None;
        }
        let channel = e.channel().unwrap_or_default();
        let serving = e.current().map(|l| l.version).unwrap_or_default();
        let mut items = vec![
            item("reload", "Reload"),
            item("reset", "Reset to the built-in bundle"),
        ];
        if shake.channels {
            for c in self
                .selectable_channels(e)
                .into_iter()
                .filter(|c| *c != channel)
            {
                items.push(item(
                    &format!("channel:{c}"),
                    &format!("Switch to channel {c}"),
                ));
            }
        }
        items.push(item("close", "Close"));
        Some(ShakeMenu {
            title: format!("Liveship {serving} on {channel}"),
            items,
        })
    }

    /// The user chose `id` in the menu: what the shell carries out (reload, reset to the
    /// built-in bundle, or follow a channel and update now). Nothing for `close` or an unknown id.
    pub fn shake_choice(&self, id: String) -> Vec<Effect> {
        let (method, options) = match id.as_str() {
            "reload" => ("reload", json!({})),
            "reset" => ("reset", json!({})),
            other => match other.strip_prefix("channel:") {
                Some(c) => (
                    "setChannel",
                    json!({ "channel": c, "triggerAutoUpdate": true }),
                ),
                None => return vec![],
            },
        };
        match self.call(method.into(), options.to_string()) {
            Reply::Resolve { effects, .. } => effects,
            other => {
                log::warn!("shake menu: {id} was not carried out: {other:?}");
                vec![]
            }
        }
    }
}

impl CapacitorPlugin {
    /// The switches in force: the configuration's until JavaScript changed them.
    pub(super) fn shake(&self, e: &Engine) -> Shake {
        let c = e.config();
        self.shared.state().shake.unwrap_or(Shake {
            menu: c.shake_menu,
            channels: c.allow_shake_channel_selector,
        })
    }

    /// The channels the menu offers: Capgo mode, those the endpoint lets devices choose; else
    /// the channels the pinned keys may sign for, with the default one.
    fn selectable_channels(&self, e: &Engine) -> Vec<String> {
        let c = e.config();
        let mut out: Vec<String> = if c.update_mode == UpdateMode::Capgo {
            e.list_channels()
                .map(|l| {
                    l.into_iter()
                        .filter(|c| c.allow_self_set)
                        .map(|c| c.name)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            c.public_keys
                .iter()
                .flat_map(|k| k.channels.iter().filter(|c| c.as_str() != "*").cloned())
                .chain(std::iter::once(c.default_channel.clone()))
                .collect()
        };
        out.sort();
        out.dedup();
        out
    }

    /// The arm of [`CapacitorPlugin::dispatch`] for these methods; `None`: not one of them.
    pub(super) fn dispatch_capgo(
        &self,
        e: &Arc<Engine>,
        method: &str,
        a: &Args,
    ) -> Option<Outcome> {
        let set = |s: Setting, field: &str, allow_empty: bool| -> Outcome {
            let value = a.text(field, allow_empty)?;
            core(method, || e.set_setting(s, &value))?;
            Ok(None)
        };
        let v = match method {
            "setUpdateUrl" => return Some(set(Setting::UpdateUrl, "url", false)),
            "setStatsUrl" => return Some(set(Setting::StatsUrl, "url", false)),
            "setChannelUrl" => return Some(set(Setting::ChannelUrl, "url", false)),
            "setAppId" => return Some(set(Setting::AppId, "appId", false)),
            "setCustomId" => return Some(set(Setting::CustomId, "customId", true)),
            "getAppId" => json!({ "appId": e.effective_config().app_id }),
            "isAutoUpdateAvailable" => json!({ "available": update_url_set(e) }),
            "setBundleError" => return Some(self.set_bundle_error(e, a)),
            "listChannels" if e.config().update_mode == UpdateMode::Capgo => {
                return Some(
                    core("listChannels", || e.list_channels())
                        .map(|c| Some(json!({ "channels": c })))
                        .map_err(Failure::from),
                )
            }
            "listChannels" => return Some(Err(unavailable(method, NO_CHANNEL_LIST))),
            "getMissingBundleFiles" => return Some(missing_files(e, a)),
            "getBundleDownloadSize" => return Some(download_size(e, a)),
            "isShakeMenuEnabled" => json!({ "enabled": self.shake(e).menu, "gesture": "shake" }),
            "isShakeChannelSelectorEnabled" => json!({ "enabled": self.shake(e).channels }),
            "setShakeMenu" | "setShakeChannelSelector" => {
                return Some(a.boolean("enabled").map_err(Failure::from).map(|on| {
                    let mut shake = self.shake(e);
                    if method == "setShakeMenu" {
                        shake.menu = on;
                    } else {
                        shake.channels = on;
                    }
                    self.shared.state().shake = Some(shake);
                    self.shared.effect(Effect::ShakeMenu {
                        enabled: shake.watching(),
                    });
                    None
                }))
            }
            _ => return self.dispatch_preview(e, method, a),
        };
        Some(Ok(Some(v)))
    }

    /// The preview methods (`engine::preview`); `None`: not one of them.
    fn dispatch_preview(&self, e: &Arc<Engine>, method: &str, a: &Args) -> Option<Outcome> {
        let id = || a.installed_bundle_id("id", "the built-in bundle is not a preview");
        let info = |p: &Preview| -> Result<Value, Failure> {
            let installed = core("list", || e.list())?;
            let r = &p.record;
            let mut v = json!({
                "id": r.id,
                "bundle": payload::by_id(&r.id, &installed, &e.config().builtin_version, ""),
                "createdAt": iso8601(r.created_at),
                "updatedAt": iso8601(r.updated_at),
                "lastUsedAt": iso8601(r.last_used_at),
                "isActive": p.active,
                "channel": r.channel,
            });
            if let Some(n) = &r.name {
                v["name"] = n.as_str().into();
            }
            if let Some(s) = &r.source {
                v["source"] = s.as_str().into();
            }
            Ok(v)
        };
        let update = |install: bool| -> Outcome {
            let id = id()?;
            let u = core(method, || e.preview_update(&id, install))?;
            let mut v = json!({
                "preview": info(&u.preview)?, "upToDate": u.up_to_date, "updated": u.updated,
            });
            if let Some(l) = &u.latest {
                v["latestVersion"] = l.as_str().into();
            }
            if u.updated {
                v["bundle"] = v["preview"]["bundle"].clone();
            }
            Ok(Some(v))
        };
        Some(match method {
            "startPreviewSession" => (|| {
                for field in ["appId", "payloadUrl"] {
                    a.refused(field, "is not used: a Liveship preview is a channel of this app's repository, named in `name`")?;
                }
                let channel = a.channel("name")?;
                let source = a.optional_text("source")?;
                core(method, || {
                    e.start_preview(&channel, Some(&channel), source.as_deref())
                })?;
                Ok(None)
            })(),
            "listPreviews" => (|| {
                let previews = core(method, || e.list_previews())?;
                let listed: Vec<Value> = previews.iter().map(&info).collect::<Result<_, _>>()?;
                let installed = core("list", || e.list())?;
                let builtin = &e.config().builtin_version;
                let mut v = json!({
                    "previews": listed,
                    "currentBundle": payload::launch(&core("current", || e.current())?, &installed, builtin),
                });
                if let Some(p) = previews.iter().find(|p| p.active) {
                    v["current"] = info(p)?;
                }
                if let Some(live) = core("status", || e.status())?.current {
                    v["liveBundle"] = payload::bundle(&live);
                }
                Ok(Some(v))
            })(),
            "setPreview" => id().map_err(Failure::from).and_then(|id| {
                core(method, || e.set_preview(&id))?;
                Ok(None)
            }),
            "resetPreview" => core(method, || e.reset_preview())
                .map(|_| None)
                .map_err(Failure::from),
            "deletePreview" => id().map_err(Failure::from).and_then(|id| {
                let gone = core(method, || e.delete_preview(&id))?;
                Ok(Some(json!({ "removed": gone, "deleted": gone })))
            }),
            "checkPreviewUpdate" => update(false),
            "updatePreview" => update(true),
            _ => return None,
        })
    }

    fn set_bundle_error(&self, e: &Arc<Engine>, a: &Args) -> Outcome {
        let id = a.installed_bundle_id("id", "the built-in bundle cannot be declared broken")?;
        let b = core("setBundleError", || e.set_bundle_error(&id))?;
        Ok(Some(payload::bundle(&b)))
    }
}

/// A call the platform answers ([`super::Reply::Native`]).
pub(super) struct NativeCall {
    pub feature: &'static str,
    pub action: &'static str,
    pub options: Value,
}

/// Google Play's in-app update methods and their actions in `AppUpdate.kt`.
const PLAY_UPDATES: &[(&str, &str)] = &[
    ("getAppUpdateInfo", "info"),
    ("performImmediateUpdate", "immediate"),
    ("startFlexibleUpdate", "flexible"),
    ("completeFlexibleUpdate", "complete"),
];

/// The calls a platform file answers, decided here: which file, which action, with options
/// checked and the store addresses made. `None`: not one of them. iOS answers Play's update
/// flows as Capgo does there (only on Android) and `getAppUpdateInfo` from the App Store's
/// lookup (`AppStore.swift`, then [`app_store_info`]); other platforms have no store.
pub(super) fn native_call(
    c: &Config,
    method: &str,
    a: &Args,
) -> Option<Result<NativeCall, Failure>> {
    let play = PLAY_UPDATES.iter().find(|(m, _)| *m == method);
    if play.is_none() && method != "openAppStore" {
        return None;
    }
    let call = |feature, action, options| {
        Ok(NativeCall {
            feature,
            action,
            options,
        })
    };
    Some(match (c.platform.as_str(), method, play) {
        ("android", "openAppStore", _) => a
            .optional_text("packageName")
            .map_err(Failure::from)
            .and_then(|p| {
                let id = p.unwrap_or_else(|| c.app_id.clone());
                call(
                    "appStore",
                    "open",
                    json!({ "urls": [
                        format!("market://details?id={id}"),
                        format!("https://play.google.com/store/apps/details?id={id}"),
                    ]}),
                )
            }),
        ("ios", "openAppStore", _) => match a.optional_text("appId") {
            Ok(Some(id)) if id.bytes().all(|b| b.is_ascii_digit()) => call(
                "appStore",
                "open",
                json!({ "urls": [format!("itms-apps://itunes.apple.com/app/id{id}")] }),
            ),
            Ok(_) => Err(ArgError {
                field: "appId".into(),
                reason: "must be the app's App Store id (digits, from App Store Connect) on iOS"
                    .into(),
            }
            .into()),
            Err(e) => Err(e.into()),
        },
        ("android", _, Some((_, action))) => call(
            "appUpdate",
            action,
            json!({
                "currentVersionName": c.native_version,
                "currentVersionCode": c.native_build.clone().unwrap_or_default(),
            }),
        ),
        ("ios", "getAppUpdateInfo", _) => match a.optional_text("country") {
            Ok(country)
                if country.as_deref().is_none_or(|cc| {
                    cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic())
                }) =>
            {
                let query = country.map_or(String::new(), |cc| {
                    format!("&country={}", cc.to_ascii_lowercase())
                });
                call(
                    "appStore",
                    "info",
                    json!({ "lookupUrl": format!("https://itunes.apple.com/lookup?bundleId={{bundleId}}{query}") }),
                )
            }
            Ok(_) => Err(ArgError {
                field: "country".into(),
                reason: "must be a two-letter country code".into(),
            }
            .into()),
            Err(e) => Err(e.into()),
        },
        ("ios", _, Some(_)) => Err(unavailable(
            method,
            "Google Play's in-app updates are only on Android (as in Capgo)",
        )),
        (platform, ..) => Err(unavailable(
            method,
            &format!("there is no app store on platform {platform:?}"),
        )),
    })
}

/// `getAppUpdateInfo` on iOS: Capgo's `AppUpdateInfo` from the App Store's lookup answer
/// (`lookup`, the JSON `AppStore.swift` fetched) and this build's version and build. An update
/// is available when the store's version is newer than this build's.
#[uniffi::export]
pub fn app_store_info(lookup: String, current_version: String, current_build: String) -> String {
    let v: Value = serde_json::from_str(&lookup).unwrap_or(Value::Null);
    let app = &v["results"][0];
    let store = app["version"].as_str();
    let newer = store.is_some_and(|s| {
        crate::config::compare_versions(s, &current_version) == std::cmp::Ordering::Greater
    });
    let mut info = json!({
        "currentVersionName": current_version,
        "currentVersionCode": current_build,
        // Capgo's AppUpdateAvailability: 0 unknown, 1 not available, 2 available.
        "updateAvailability": match store { None => 0, Some(_) if newer => 2, Some(_) => 1 },
        "immediateUpdateAllowed": false,
        "flexibleUpdateAllowed": false,
    });
    for (from, to) in [
        ("version", "availableVersionName"),
        ("version", "availableVersionCode"),
        ("currentVersionReleaseDate", "availableVersionReleaseDate"),
        ("minimumOsVersion", "minimumOsVersion"),
    ] {
        if let Some(x) = app[from].as_str() {
            info[to] = x.into();
        }
    }
    info.to_string()
}

fn unavailable(method: &str, why: &str) -> Failure {
    Failure::Plugin("unavailable", format!("{method}: {why}"))
}

/// An `updateUrl` is set (configured or set at run time): checks can run.
pub(super) fn update_url_set(e: &Engine) -> bool {
    e.effective_config()
        .update_url
        .as_deref()
        .is_some_and(|u| !u.is_empty())
}

/// One of Capgo's manifest entries (`file_name`, `file_hash`, `download_url`, each may be null).
fn entry(name: Option<&str>, hash: Option<&str>, url: Option<&str>) -> Value {
    json!({ "file_name": name, "file_hash": hash, "download_url": url })
}

/// The entries the call names (`manifest`), else the release on offer's files. `version`, when
/// given with no manifest, must be the version on offer.
fn entries(e: &Engine, a: &Args) -> Result<(Vec<Value>, Option<Offered>), Failure> {
    if let Some(given) = a.manifest_entries("manifest")? {
        return Ok((given, None));
    }
    let offered = core("check", || e.offered_files())?.ok_or_else(|| {
        Failure::Plugin(
            "invalidArgument",
            "no manifest given and no release on offer (getLatest() says why)".into(),
        )
    })?;
    if let Some(v) = a.optional_text("version")? {
        if v != offered.version {
            return Err(ArgError {
                field: "version".into(),
                reason: format!("the release on offer is {}, not {v}", offered.version),
            }
            .into());
        }
    }
    let list = offered
        .files
        .iter()
        .map(|f| entry(Some(&f.path), Some(&f.sha256), f.url.as_deref()))
        .collect();
    Ok((list, Some(offered)))
}

/// `getMissingBundleFiles`: the entries whose content (the SHA-256 in `file_hash`) this device
/// holds nowhere. An entry without a SHA-256 hash (an encrypted Capgo hash) cannot be matched:
/// it is missing.
fn missing_files(e: &Engine, a: &Args) -> Outcome {
    let (list, _) = entries(e, a)?;
    let local = core("getMissingBundleFiles", || e.local_file_hashes())?;
    let total = list.len();
    let missing: Vec<Value> = list
        .into_iter()
        .filter(|v| {
            !v["file_hash"]
                .as_str()
                .is_some_and(|h| local.contains(&h.to_ascii_lowercase()))
        })
        .collect();
    Ok(Some(json!({
        "missingCount": missing.len(),
        "reusableCount": total - missing.len(),
        "total": total,
        "missing": missing,
    })))
}

/// `getBundleDownloadSize`: each entry's size from the signed file list of the release on
/// offer (never from the server's say-so). A release without per-file objects downloads whole:
/// the total is then the bundle's size and each entry says so.
fn download_size(e: &Engine, a: &Args) -> Outcome {
    let (list, offered) = entries(e, a)?;
    let offered = match offered {
        Some(o) => o,
        None => core("check", || e.offered_files())?.ok_or_else(|| {
            Failure::Plugin(
                "invalidArgument",
                "no release on offer to take the sizes from (getLatest() says why)".into(),
            )
        })?,
    };
    let whole = offered.files.iter().all(|f| f.url.is_none());
    let mut total = 0u64;
    let mut known = 0usize;
    let files: Vec<Value> = list
        .into_iter()
        .map(|mut v| {
            let hash = v["file_hash"].as_str().map(str::to_ascii_lowercase);
            let signed = offered
                .files
                .iter()
                .find(|f| Some(&f.sha256) == hash.as_ref());
            match signed {
                _ if whole => {
                    v["error"] = format!(
                        "release {} has no per-file objects: it downloads whole",
                        offered.version
                    )
                    .into()
                }
                Some(f) => {
                    known += 1;
                    total = total.saturating_add(f.size);
                    v["size"] = f.size.into();
                }
                None => {
                    v["error"] =
                        format!("not in the signed file list of release {}", offered.version).into()
                }
            }
            v
        })
        .collect();
    if whole {
        total = offered.bundle_size;
    }
    Ok(Some(json!({
        "totalSize": total,
        "knownFiles": known,
        "unknownFiles": files.len() - known,
        "files": files,
    })))
}
