//! The app's configuration: one JSON schema, the object under `plugins.Liveship` in
//! `capacitor.config` plus the few values native code supplies itself (`appId`, `platform`,
//! `nativeVersion`, `nativeBuild`, `builtinDir`, `dataDir`). The CLI's `device --config` file, `keygen`'s
//! `liveship.config.json` and the uniffi `Config` record are all [`Config`] itself.
//! Documented in `docs/CONFIG.md`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::release::{BundleKey, PinnedKey};

/// When a downloaded release starts serving.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "camelCase")]
pub enum ApplyMode {
    /// At the next cold start (default).
    #[default]
    NextLaunch,
    /// When the app next goes to the background for at least `minBackgroundMs`.
    Background,
    /// As soon as it is installed (the native layer reloads the WebView).
    Immediate,
}

/// What the device may send about itself beyond the update check (docs/PRIVACY.md): `off`
/// (nothing), `anonymous` (events without the install id), `full` (events with it).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    uniffi::Enum,
)]
#[serde(rename_all = "camelCase")]
pub enum Consent {
    #[default]
    Off,
    Anonymous,
    Full,
}

impl Consent {
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Off => "off",
            Consent::Anonymous => "anonymous",
            Consent::Full => "full",
        }
    }

    /// The level named `name` (`off`, `anonymous`, `full`).
    pub fn parse(name: &str) -> Option<Consent> {
        [Consent::Off, Consent::Anonymous, Consent::Full]
            .into_iter()
            .find(|c| c.as_str() == name)
    }
}

/// How `updateUrl` is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "camelCase")]
pub enum UpdateMode {
    /// `updateUrl` is the folder of a static release repository; the device GETs
    /// `<updateUrl>/channels/<channel>.json` with `If-None-Match`.
    #[default]
    Static,
    /// `updateUrl` is an endpoint; the device POSTs its info and gets an envelope or 204.
    Dynamic,
    /// `updateUrl` is a Capgo-compatible `/updates` endpoint: the device sends Capgo's info
    /// object and installs the Capgo v2 bundles it offers, checked against `publicKey`
    /// (docs/CAPGO.md).
    Capgo,
}

// `PathBuf` fields cross the FFI boundary as strings: the crate's one `custom_type!` for it is
// in `boot`.

/// The app's configuration, exported to the bindings as the `Config` record.
///
/// Every default is written twice, as a serde default (JSON) and as a `#[uniffi(default)]`
/// literal (Kotlin, Swift, Python constructors); the test
/// `record_defaults_are_the_json_defaults` reads the exported record's metadata and fails when
/// the two disagree. `updateMode` and `applyMode` have no record default (uniffi's macros take
/// no enum literal): the bindings pass them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub app_id: String,
    /// `android`, `ios`, or anything else for desktop harnesses.
    pub platform: String,
    /// The native app's version (`versionName` / `CFBundleShortVersionString`).
    pub native_version: String,
    /// The native app's build (Android `versionCode`, iOS `CFBundleVersion`), as a string.
    /// A change of (`nativeVersion`, `nativeBuild`) is a new native build, as Capacitor's
    /// `isNewBinary()` decides; `None` (an older shell) compares the version alone.
    #[serde(default)]
    #[uniffi(default = None)]
    pub native_build: Option<String>,
    /// Where state and bundles live (app-private storage); the CLI's `--data-dir` overrides
    /// it. The `Updater` constructors require it.
    #[serde(default)]
    #[uniffi(default = None)]
    pub data_dir: Option<PathBuf>,
    /// Folder of the web bundle shipped inside the app (JSON default: empty).
    #[serde(default)]
    pub builtin_dir: PathBuf,
    /// Version label of the built-in bundle (shown by `current()`).
    #[serde(default = "default_builtin_version")]
    #[uniffi(default = "builtin")]
    pub builtin_version: String,
    #[serde(default = "default_channel")]
    #[uniffi(default = "production")]
    pub default_channel: String,
    /// Static mode: the folder URL that holds `channels/`; dynamic mode: the endpoint URL.
    #[serde(default)]
    #[uniffi(default = None)]
    pub update_url: Option<String>,
    #[serde(default)]
    pub update_mode: UpdateMode,
    /// Where update events are sent (Capgo's option and format; docs/PRIVACY.md). `None` or
    /// empty: nothing is queued or sent, whatever the consent.
    #[serde(default)]
    #[uniffi(default = None)]
    pub stats_url: Option<String>,
    /// The consent level before the app calls `setConsent`: `off` (the default) or, for an app
    /// with another lawful basis for anonymous statistics, `anonymous`. `full` (with the install
    /// id) is only ever the user's own choice, so it is refused here. `None` is `off`.
    #[serde(default)]
    #[uniffi(default = None)]
    pub default_consent: Option<Consent>,
    /// The operating system's version, sent as `version_os` in events (the shell supplies it).
    #[serde(default)]
    #[uniffi(default = None)]
    pub os_version: Option<String>,
    /// Whether the app runs in an emulator or simulator, sent as `is_emulator` (the shell
    /// supplies it).
    #[serde(default)]
    #[uniffi(default = false)]
    pub is_emulator: bool,
    #[serde(default)]
    #[uniffi(default = [])]
    pub public_keys: Vec<PinnedKey>,
    #[serde(default)]
    #[uniffi(default = [])]
    pub bundle_keys: Vec<BundleKey>,
    /// Milliseconds the page has to call `notifyAppReady` before the trial bundle is reverted
    /// (`appReadyTimeout` in JSON, `appReadyTimeoutMs` in the record).
    #[serde(default = "default_app_ready_timeout")]
    #[uniffi(default = 10000, name = "app_ready_timeout_ms")]
    pub app_ready_timeout: u64,
    #[serde(default = "yes")]
    #[uniffi(default = true)]
    pub auto_update: bool,
    /// Drop downloaded bundles when the native version changes (Capgo's option). Bundles whose
    /// signed native range excludes the new version are dropped regardless.
    #[serde(default = "yes")]
    #[uniffi(default = true)]
    pub reset_when_update: bool,
    /// Seconds between background checks while the app runs (0 = only on start/foreground).
    #[serde(default)]
    #[uniffi(default = 0)]
    pub period_check_delay: u64,
    /// Seconds before an HTTP request without progress is abandoned.
    #[serde(default = "default_response_timeout")]
    #[uniffi(default = 20)]
    pub response_timeout: u64,
    /// Seconds one whole update may take: the manifest, the bundle or every delta object,
    /// retries and waits included (a slow or stalled server cannot hold the single update in
    /// flight, and with it a revocation behind it, for longer). 1 to 86400.
    #[serde(default = "default_update_timeout")]
    #[uniffi(default = 900)]
    pub update_timeout: u64,
    /// Slowest transfer accepted, in bytes per second, averaged over `transferRateWindow`: a
    /// manifest, bundle or delta object that brings fewer bytes in a window fails as too slow.
    /// 1 to 104857600 (100 MiB/s).
    #[serde(default = "default_min_transfer_rate")]
    #[uniffi(default = 1024)]
    pub min_transfer_rate: u64,
    /// Seconds of the sliding window `minTransferRate` is measured over; a stall shorter than
    /// it does not fail. 1 to 600, and at most `updateTimeout`.
    #[serde(default = "default_transfer_rate_window")]
    #[uniffi(default = 30)]
    pub transfer_rate_window: u64,
    #[serde(default)]
    pub apply_mode: ApplyMode,
    /// Minimum time in the background before a `background` apply happens.
    #[serde(default)]
    #[uniffi(default = 0)]
    pub min_background_ms: u64,
    /// Permit `http://` to 127.0.0.1, [::1] and localhost (development and tests only).
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_insecure_loopback: bool,
    /// Extra PEM CA certificate(s) to trust, in addition to the system store (development).
    #[serde(default)]
    #[uniffi(default = None)]
    pub extra_ca_cert: Option<String>,
    /// Development mode: verbose logs.
    #[serde(default)]
    #[uniffi(default = false)]
    pub development: bool,
    /// Minutes between background update runs (Android WorkManager, iOS BGTaskScheduler);
    /// 0 = no background runs. Android runs them at most every 15 minutes.
    #[serde(default = "default_background_interval_minutes")]
    #[uniffi(default = 360)]
    pub background_interval_minutes: u64,
    /// Background runs wait for an unmetered network (Android).
    #[serde(default)]
    #[uniffi(default = false)]
    pub background_unmetered_only: bool,
    /// Background runs wait for the device to charge (Android).
    #[serde(default)]
    #[uniffi(default = false)]
    pub background_charging_only: bool,
    /// Capgo mode: the RSA public key in PEM, as `@capgo/cli key create` writes it (Capgo's
    /// `publicKey`). Session keys are unwrapped and checksums verified with it.
    #[serde(default)]
    #[uniffi(default = None)]
    pub public_key: Option<String>,
    /// Capgo mode, **unsafe**: accept bundles whose checksum is a plain SHA-256 (anyone who can
    /// change the bundle can change it; integrity then rests on TLS and the server alone).
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_unsigned_capgo_bundles: bool,
    /// Capgo mode: the channel endpoint (`channel_self`: set, get, unset, list).
    #[serde(default)]
    #[uniffi(default = None)]
    pub channel_url: Option<String>,
    /// Capgo's option: JavaScript may change `updateUrl`, `statsUrl` and `channelUrl`
    /// (`setUpdateUrl`, ...). Releases are still verified against the pinned keys, so a new URL
    /// can only serve what the app's keys signed.
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_modify_url: bool,
    /// Capgo's option: URLs set from JavaScript survive a restart (else they last until it).
    #[serde(default)]
    #[uniffi(default = false)]
    pub persist_modify_url: bool,
    /// Capgo's option: JavaScript may change the app id (`setAppId`), for container apps that
    /// preview other apps. The signed manifests must then name the new id.
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_modify_app_id: bool,
    /// Capgo's option: the `setCustomId` id survives a restart (else it lasts until it).
    #[serde(default)]
    #[uniffi(default = false)]
    pub persist_custom_id: bool,
    /// Capgo's option: JavaScript may declare a bundle broken (`setBundleError`).
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_manual_bundle_error: bool,
    /// Capgo's option: JavaScript may start previews of other channels (`startPreviewSession`).
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_preview: bool,
    /// Capgo's option: the debug menu opens on a shake (`setShakeMenu` changes it at run time).
    #[serde(default)]
    #[uniffi(default = false)]
    pub shake_menu: bool,
    /// Capgo's option: the debug menu offers the channels a device may switch to.
    #[serde(default)]
    #[uniffi(default = false)]
    pub allow_shake_channel_selector: bool,
}

/// The longest `updateTimeout` accepted, in seconds: a day.
pub const MAX_UPDATE_TIMEOUT: u64 = 24 * 60 * 60;
/// The highest `minTransferRate` accepted, in bytes per second: 100 MiB/s.
pub const MAX_MIN_TRANSFER_RATE: u64 = 100 * 1024 * 1024;
/// The longest `transferRateWindow` accepted, in seconds.
pub const MAX_TRANSFER_RATE_WINDOW: u64 = 600;

/// The longest `backgroundIntervalMinutes` accepted: a year.
pub const MAX_BACKGROUND_INTERVAL_MINUTES: u64 = 365 * 24 * 60;

fn default_builtin_version() -> String {
    "builtin".into()
}
fn default_channel() -> String {
    "production".into()
}
fn default_app_ready_timeout() -> u64 {
    10_000
}
fn default_response_timeout() -> u64 {
    20
}
fn default_update_timeout() -> u64 {
    900
}
fn default_min_transfer_rate() -> u64 {
    1024
}
fn default_transfer_rate_window() -> u64 {
    30
}
fn default_background_interval_minutes() -> u64 {
    360
}
fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A run-time change the configuration does not permit (Capgo's `allowModify…` gates).
    #[error("{what} is not allowed: the plugin configuration must set {option}: true")]
    NotAllowed {
        what: &'static str,
        option: &'static str,
    },
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("config field {field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let cfg: Config = serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what serde cannot: non-empty ids, key ids that match their keys, a background
    /// interval of at most a year, an update deadline and a minimum transfer rate in range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let range = |field, value: u64, max: u64, unit: &str| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    field,
                    reason: format!("{value} is outside 1 to {max} {unit}"),
                })
            }
        };
        range(
            "updateTimeout",
            self.update_timeout,
            MAX_UPDATE_TIMEOUT,
            "seconds",
        )?;
        range(
            "minTransferRate",
            self.min_transfer_rate,
            MAX_MIN_TRANSFER_RATE,
            "bytes per second",
        )?;
        range(
            "transferRateWindow",
            self.transfer_rate_window,
            MAX_TRANSFER_RATE_WINDOW,
            "seconds",
        )?;
        if self.transfer_rate_window > self.update_timeout {
            return Err(ConfigError::Invalid {
                field: "transferRateWindow",
                reason: format!(
                    "{} s is longer than updateTimeout ({} s): the rate would never be checked",
                    self.transfer_rate_window, self.update_timeout
                ),
            });
        }
        if self.app_id.is_empty() {
            return Err(ConfigError::Invalid {
                field: "appId",
                reason: "must not be empty".into(),
            });
        }
        if self.native_version.is_empty() {
            return Err(ConfigError::Invalid {
                field: "nativeVersion",
                reason: "must not be empty".into(),
            });
        }
        if self.background_interval_minutes > MAX_BACKGROUND_INTERVAL_MINUTES {
            return Err(ConfigError::Invalid {
                field: "backgroundIntervalMinutes",
                reason: format!(
                    "{} is more than a year ({MAX_BACKGROUND_INTERVAL_MINUTES} minutes); 0 turns \
                     background runs off",
                    self.background_interval_minutes
                ),
            });
        }
        if self.default_consent == Some(Consent::Full) {
            return Err(ConfigError::Invalid {
                field: "defaultConsent",
                reason: "full sends the install id, which only the user's own setConsent may \
                         allow: use off or anonymous"
                    .into(),
            });
        }
        for k in &self.bundle_keys {
            let bytes = k.bytes().map_err(|e| ConfigError::Invalid {
                field: "bundleKeys",
                reason: e.to_string(),
            })?;
            if crate::crypto::bundle_key_id(&bytes) != k.key_id {
                return Err(ConfigError::Invalid {
                    field: "bundleKeys",
                    reason: format!("keyId {} does not match its key", k.key_id),
                });
            }
        }
        for k in &self.public_keys {
            k.check_key_id().map_err(|e| ConfigError::Invalid {
                field: "publicKeys",
                reason: e.to_string(),
            })?;
        }
        self.capgo_key()?;
        if self.update_mode == UpdateMode::Capgo
            && self.public_key.is_none()
            && !self.allow_unsigned_capgo_bundles
        {
            return Err(ConfigError::Invalid {
                field: "publicKey",
                reason: "Capgo mode needs the app's RSA public key (`npx @capgo/cli key create` \
                         writes it) to verify bundles; allowUnsignedCapgoBundles accepts \
                         unsigned ones instead, unsafely"
                    .into(),
            });
        }
        Ok(())
    }

    /// Capgo mode's `publicKey`, read (`None`: not configured).
    pub fn capgo_key(&self) -> Result<Option<crate::capgo::CapgoKey>, ConfigError> {
        self.public_key
            .as_deref()
            .map(crate::capgo::CapgoKey::from_pem)
            .transpose()
            .map_err(|e| ConfigError::Invalid {
                field: "publicKey",
                reason: e.to_string(),
            })
    }

    /// The configuration as the record constructor gives it: a pinned key whose record left
    /// `channels` at its default `[]` may sign for every channel, as a JSON key without
    /// `channels` does.
    pub fn with_record_defaults(mut self) -> Config {
        for k in &mut self.public_keys {
            if k.channels.is_empty() {
                k.channels = crate::release::all_channels();
            }
        }
        self
    }

    /// The minimum transfer rate as the fetch layer applies it: `minTransferRate` bytes per
    /// second times the window, within every `transferRateWindow`.
    pub fn min_rate(&self) -> crate::fetch::MinRate {
        crate::fetch::MinRate {
            bytes: self
                .min_transfer_rate
                .saturating_mul(self.transfer_rate_window),
            window: std::time::Duration::from_secs(self.transfer_rate_window),
        }
    }

    pub fn bundle_key(&self, key_id: &str) -> Option<&BundleKey> {
        self.bundle_keys.iter().find(|k| k.key_id == key_id)
    }
}

/// Compares two native version strings component by component (`1.10.0` > `1.9`); numeric
/// components compare as numbers, others as text; missing components count as 0.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| {
        s.split(['.', '-', '+'])
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (pa, pb) = (split(a), split(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).map(String::as_str).unwrap_or("0");
        let y = pb.get(i).map(String::as_str).unwrap_or("0");
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    std::cmp::Ordering::Equal
}

/// Whether `version` lies in the inclusive range given by a manifest's `native` field.
pub fn native_in_range(version: &str, range: &crate::release::NativeRange) -> bool {
    use std::cmp::Ordering::*;
    let above_min = range
        .min
        .as_deref()
        .is_none_or(|min| compare_versions(version, min) != Less);
    let below_max = range
        .max
        .as_deref()
        .is_none_or(|max| compare_versions(version, max) != Greater);
    above_min && below_max
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::NativeRange;
    use serde_json::{json, Map, Value};
    use uniffi_meta::{DefaultValueMetadata, LiteralMetadata, Metadata};

    /// The exported record's fields: JSON (camelCase) name and its `#[uniffi(default)]` as JSON,
    /// `None` for a field the record requires.
    fn record_fields(meta: &[u8]) -> Vec<(String, Option<Value>)> {
        let Metadata::Record(record) = Metadata::read(meta).unwrap() else {
            panic!("not a record's metadata");
        };
        let camel = |snake: &str| {
            let mut out = String::new();
            let mut up = false;
            for c in snake.chars() {
                match c {
                    '_' => up = true,
                    c if up => {
                        out.extend(c.to_uppercase());
                        up = false
                    }
                    c => out.push(c),
                }
            }
            out
        };
        record
            .fields
            .into_iter()
            .map(|f| {
                let value = f.default.map(|d| match d {
                    DefaultValueMetadata::Literal(LiteralMetadata::Boolean(b)) => json!(b),
                    DefaultValueMetadata::Literal(LiteralMetadata::String(s)) => json!(s),
                    DefaultValueMetadata::Literal(LiteralMetadata::UInt(n, ..)) => json!(n),
                    DefaultValueMetadata::Literal(LiteralMetadata::None) => Value::Null,
                    DefaultValueMetadata::Literal(LiteralMetadata::EmptySequence) => json!([]),
                    other => panic!("field {}: unexpected default {other:?}", f.name),
                });
                (camel(f.orig_name.as_deref().unwrap_or(&f.name)), value)
            })
            .collect()
    }

    /// A record built from its required fields alone, as a foreign constructor would build it.
    fn record_with_defaults(meta: &[u8], required: &Value) -> Value {
        let mut obj = Map::new();
        for (name, default) in record_fields(meta) {
            let value = match default {
                Some(v) => v,
                None => required
                    .get(&name)
                    .unwrap_or_else(|| panic!("the record requires {name}: give it in the test"))
                    .clone(),
            };
            obj.insert(name, value);
        }
        Value::Object(obj)
    }

    #[test]
    fn record_defaults_are_the_json_defaults() {
        let meta = &UNIFFI_META_LIVESHIP_RECORD_CONFIG[..];
        let required: Vec<String> = record_fields(meta)
            .into_iter()
            .filter(|(_, d)| d.is_none())
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            required,
            [
                "appId",
                "platform",
                "nativeVersion",
                "builtinDir",
                "updateMode",
                "applyMode"
            ]
        );
        // The fields JSON requires, plus the record-only required ones at their JSON defaults.
        let json_required = json!({"appId": "a.b", "platform": "ios", "nativeVersion": "1.0"});
        let mut record_required = json_required.clone();
        let obj = record_required.as_object_mut().unwrap();
        obj.insert("builtinDir".into(), json!(""));
        obj.insert("updateMode".into(), json!("static"));
        obj.insert("applyMode".into(), json!("nextLaunch"));
        let from_record: Config =
            serde_json::from_value(record_with_defaults(meta, &record_required)).unwrap();
        let from_json: Config = serde_json::from_value(json_required).unwrap();
        assert_eq!(from_record.with_record_defaults(), from_json);
    }

    fn parse(extra: Value) -> Result<Config, String> {
        let mut v = json!({"appId": "a.b", "platform": "android", "nativeVersion": "1.0"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let cfg: Config = serde_json::from_value(v).map_err(|e| e.to_string())?;
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    #[test]
    fn background_options_default_to_every_six_hours_on_any_network() {
        let cfg = parse(json!({})).unwrap();
        assert_eq!(cfg.background_interval_minutes, 360);
        assert!(!cfg.background_unmetered_only);
        assert!(!cfg.background_charging_only);
    }

    #[test]
    fn background_options_are_read_from_the_json() {
        let cfg = parse(json!({
            "backgroundIntervalMinutes": 30,
            "backgroundUnmeteredOnly": true,
            "backgroundChargingOnly": true,
        }))
        .unwrap();
        assert_eq!(cfg.background_interval_minutes, 30);
        assert!(cfg.background_unmetered_only);
        assert!(cfg.background_charging_only);
        let off = parse(json!({"backgroundIntervalMinutes": 0})).unwrap();
        assert_eq!(off.background_interval_minutes, 0);
        let year = parse(json!({"backgroundIntervalMinutes": MAX_BACKGROUND_INTERVAL_MINUTES}));
        assert!(year.is_ok(), "{year:?}");
    }

    #[test]
    fn a_background_option_of_the_wrong_type_or_range_is_a_config_error() {
        let err = parse(json!({"backgroundIntervalMinutes": "hourly"})).unwrap_err();
        assert!(
            err.contains("invalid type: string \"hourly\", expected u64"),
            "{err}"
        );
        let err = parse(json!({"backgroundIntervalMinutes": -5})).unwrap_err();
        assert!(err.contains("invalid value: integer `-5`"), "{err}");
        let err = parse(json!({"backgroundUnmeteredOnly": "yes"})).unwrap_err();
        assert!(err.contains("expected a boolean"), "{err}");
        let err = parse(json!({"backgroundChargingOnly": 1})).unwrap_err();
        assert!(err.contains("expected a boolean"), "{err}");
        let err = parse(json!({
            "backgroundIntervalMinutes": MAX_BACKGROUND_INTERVAL_MINUTES + 1
        }))
        .unwrap_err();
        assert!(
            err.starts_with("config field backgroundIntervalMinutes is invalid: 525601 is more"),
            "{err}"
        );
    }

    #[test]
    fn update_deadline_and_minimum_rate_default_to_15_minutes_and_1_kib_per_second_over_30_s() {
        let cfg = parse(json!({})).unwrap();
        assert_eq!(cfg.update_timeout, 900);
        assert_eq!(
            cfg.min_rate(),
            crate::fetch::MinRate {
                bytes: 30 * 1024,
                window: std::time::Duration::from_secs(30)
            }
        );
        let cfg =
            parse(json!({"updateTimeout": 5, "minTransferRate": 10, "transferRateWindow": 2}))
                .unwrap();
        assert_eq!((cfg.update_timeout, cfg.min_rate().bytes), (5, 20));
    }

    #[test]
    fn a_zero_or_absurd_update_deadline_or_minimum_rate_is_a_config_error() {
        for (extra, want) in [
            (
                json!({"updateTimeout": 0}),
                "updateTimeout is invalid: 0 is outside 1 to 86400 seconds",
            ),
            (
                json!({"updateTimeout": 86401}),
                "updateTimeout is invalid: 86401 is outside",
            ),
            (
                json!({"minTransferRate": 0}),
                "minTransferRate is invalid: 0 is outside 1 to 104857600 bytes per second",
            ),
            (
                json!({"minTransferRate": 104857601}),
                "minTransferRate is invalid: 104857601 is outside",
            ),
            (
                json!({"transferRateWindow": 0}),
                "transferRateWindow is invalid: 0 is outside 1 to 600 seconds",
            ),
            (
                json!({"transferRateWindow": 601}),
                "transferRateWindow is invalid: 601 is outside",
            ),
            (
                json!({"updateTimeout": 10, "transferRateWindow": 11}),
                "transferRateWindow is invalid: 11 s is longer than updateTimeout (10 s)",
            ),
        ] {
            let err = parse(extra.clone()).unwrap_err();
            assert!(err.contains(want), "{extra}: {err}");
        }
    }

    #[test]
    fn a_record_key_without_channels_signs_for_every_channel_as_in_json() {
        let meta = &crate::release::UNIFFI_META_LIVESHIP_RECORD_PUBLICKEY[..];
        let key = json!({"keyId": "k1", "publicKey": "AAAA"});
        let record: PinnedKey = serde_json::from_value(record_with_defaults(meta, &key)).unwrap();
        assert!(record.channels.is_empty(), "the record's default is []");
        let from_json: PinnedKey = serde_json::from_value(key).unwrap();
        assert_eq!(from_json.channels, ["*"]);
        let cfg = |keys: Vec<PinnedKey>| Config {
            public_keys: keys,
            ..serde_json::from_value(json!({"appId": "a", "platform": "p", "nativeVersion": "1"}))
                .unwrap()
        };
        assert_eq!(
            cfg(vec![record]).with_record_defaults(),
            cfg(vec![from_json.clone()])
        );
        // Channels the record names are kept as they are.
        let beta = PinnedKey {
            channels: vec!["beta".into()],
            ..from_json
        };
        assert_eq!(
            cfg(vec![beta.clone()]).with_record_defaults().public_keys,
            [beta]
        );
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(compare_versions("1.10.0", "1.9").is_gt());
        assert!(compare_versions("2", "2.0.0").is_eq());
        let r = NativeRange {
            min: Some("1.2".into()),
            max: Some("1.9.9".into()),
        };
        assert!(native_in_range("1.2.0", &r));
        assert!(!native_in_range("1.1.9", &r));
        assert!(!native_in_range("2.0", &r));
    }
}
