//! The app's configuration: one JSON schema, the object under `plugins.Liveship` in
//! `capacitor.config` plus the few values native code supplies itself (`appId`, `platform`,
//! `nativeVersion`, `builtinDir`, `dataDir`). The CLI's `device --config` file, `keygen`'s
//! `liveship.config.json` and the uniffi `Config` record all map onto [`Config`].
//! Documented in `docs/CONFIG.md`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::release::{BundleKey, PinnedKey};

/// When a downloaded release starts serving.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// How `updateUrl` is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UpdateMode {
    /// `updateUrl` is the folder of a static release repository; the device GETs
    /// `<updateUrl>/channels/<channel>.json` with `If-None-Match`.
    #[default]
    Static,
    /// `updateUrl` is an endpoint; the device POSTs its info and gets an envelope or 204.
    Dynamic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub app_id: String,
    /// `android`, `ios`, or anything else for desktop harnesses.
    pub platform: String,
    /// The native app's version (`versionName` / `CFBundleShortVersionString`).
    pub native_version: String,
    /// Folder of the web bundle shipped inside the app.
    #[serde(default)]
    pub builtin_dir: PathBuf,
    /// Version label of the built-in bundle (shown by `current()`).
    #[serde(default = "default_builtin_version")]
    pub builtin_version: String,
    /// Where state and bundles live; the CLI's `--data-dir` overrides it.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    #[serde(default = "default_channel")]
    pub default_channel: String,
    /// Static mode: the folder URL that holds `channels/`; dynamic mode: the endpoint URL.
    #[serde(default)]
    pub update_url: Option<String>,
    #[serde(default)]
    pub update_mode: UpdateMode,
    #[serde(default)]
    pub public_keys: Vec<PinnedKey>,
    #[serde(default)]
    pub bundle_keys: Vec<BundleKey>,
    /// Milliseconds the page has to call `notifyAppReady` before the trial bundle is reverted.
    #[serde(default = "default_app_ready_timeout")]
    pub app_ready_timeout: u64,
    #[serde(default = "yes")]
    pub auto_update: bool,
    /// Drop downloaded bundles when the native version changes (Capgo's option). Bundles whose
    /// signed native range excludes the new version are dropped regardless.
    #[serde(default = "yes")]
    pub reset_when_update: bool,
    /// Seconds between background checks while the app runs (0 = only on start/foreground).
    #[serde(default)]
    pub period_check_delay: u64,
    /// Seconds before an HTTP request without progress is abandoned.
    #[serde(default = "default_response_timeout")]
    pub response_timeout: u64,
    #[serde(default)]
    pub apply_mode: ApplyMode,
    /// Minimum time in the background before a `background` apply happens.
    #[serde(default)]
    pub min_background_ms: u64,
    /// Permit `http://` to 127.0.0.1, [::1] and localhost (development and tests only).
    #[serde(default)]
    pub allow_insecure_loopback: bool,
    /// Extra PEM CA certificate(s) to trust, in addition to the system store (development).
    #[serde(default)]
    pub extra_ca_cert: Option<String>,
    /// Development mode: verbose logs.
    #[serde(default)]
    pub development: bool,
}

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
fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
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

    /// Checks what serde cannot: non-empty ids, key ids that match their keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
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
        Ok(())
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
