//! The stats wire format: one [`StatsEvent`] per outcome, in Capgo's stats format (the device
//! info object of `@capgo/capacitor-updater` plus `action`, `version_name` and
//! `old_version_name`), so a Capgo-compatible backend ingests Liveship's events unchanged. A
//! POST to `statsUrl` carries one event or a JSON array of them. Liveship's own fields
//! (`sequence`, `reason`, `bytes`, `delta`, `at`, `consent`) come after Capgo's; a backend that
//! does not know them ignores them. The collector (`liveship serve --stats`) parses this same
//! type. docs/PRIVACY.md lists every field.

use serde::{Deserialize, Serialize};

/// The action of a deletion request: erase every row stored for `device_id` of `app_id`.
/// Sent once after `deleteData` when consent had been `full`; Liveship's collector honours it.
pub const DELETE_ACTION: &str = "delete_data";

/// The largest body a device sends and the collector accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The most events one POST carries.
pub const MAX_BATCH: usize = 50;

/// One event as it is sent (field names are Capgo's: snake_case, and `defaultChannel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StatsEvent {
    /// `android`, `ios` or the desktop harness's name.
    pub platform: String,
    /// `full`: the install id. `anonymous`: an id derived from a secret that never leaves the
    /// device and the release the event is about, so events about one release from one device
    /// can be counted once but cannot be linked to the install or to other releases.
    pub device_id: String,
    pub app_id: String,
    /// The id the app set with `setCustomId`, under consent `full` only; else empty.
    #[serde(default)]
    pub custom_id: String,
    /// The native app's version.
    pub version_build: String,
    /// The native app's build (`versionCode` / `CFBundleVersion`), or empty.
    #[serde(default)]
    pub version_code: String,
    /// The operating system's version, when the shell supplies it.
    #[serde(default)]
    pub version_os: String,
    /// The bundle version the event is about (`builtin` for the built-in bundle).
    pub version_name: String,
    /// The bundle version served before, for transitions; else empty.
    #[serde(default)]
    pub old_version_name: String,
    pub plugin_version: String,
    #[serde(default)]
    pub is_emulator: bool,
    #[serde(default)]
    pub is_prod: bool,
    #[serde(rename = "defaultChannel", default)]
    pub default_channel: String,
    /// The channel the device follows.
    #[serde(default)]
    pub channel: String,
    /// What happened: Capgo's action name where the meaning is the same (docs/PRIVACY.md).
    pub action: String,
    /// Liveship: the release's sequence on `channel`, when the event is about a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Liveship: why it failed or was refused, a typed code (`release.signatureInvalid`,
    /// `fetch.tooSlow`, `policy.rollback`, `neverConfirmed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Liveship: bytes downloaded (`download_complete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Liveship: whether the download was a delta (`download_complete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<bool>,
    /// Liveship: how old the newest verified envelope is, in seconds (`updates_stale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    /// Liveship: when it happened on the device, Unix seconds (events are sent in batches,
    /// later than they happen).
    #[serde(default)]
    pub at: u64,
    /// Liveship: the consent level the event was recorded under (`anonymous` or `full`).
    #[serde(default)]
    pub consent: String,
}

/// A stats POST body: one event or an array of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StatsBody {
    One(Box<StatsEvent>),
    Batch(Vec<StatsEvent>),
}

impl StatsBody {
    pub fn into_events(self) -> Vec<StatsEvent> {
        match self {
            StatsBody::One(e) => vec![*e],
            StatsBody::Batch(v) => v,
        }
    }
}

/// The action names a device sends, in Capgo's spelling where the meaning is the same
/// (docs/PRIVACY.md lists them with their fields). The collector counts releases by them.
pub mod actions {
    /// Check: nothing new (`reason` = the refusal code, e.g. `upToDate`).
    pub const NO_NEW: &str = "noNew";
    /// Check: a release is on offer.
    pub const UPDATE_AVAILABLE: &str = "update_available";
    /// A full download started.
    pub const DOWNLOAD_ZIP_START: &str = "download_zip_start";
    /// A delta download started.
    pub const DOWNLOAD_MANIFEST_START: &str = "download_manifest_start";
    /// A download finished and verified (`bytes`, `delta`).
    pub const DOWNLOAD_COMPLETE: &str = "download_complete";
    pub const SIGNATURE_FAIL: &str = "signature_fail";
    pub const ROLLBACK_FAIL: &str = "rollback_fail";
    pub const EXPIRED_FAIL: &str = "expired_fail";
    pub const SIZE_FAIL: &str = "size_fail";
    pub const CHECKSUM_FAIL: &str = "checksum_fail";
    pub const DECRYPT_FAIL: &str = "decrypt_fail";
    pub const UNZIP_FAIL: &str = "unzip_fail";
    pub const INSUFFICIENT_DISK_SPACE: &str = "insufficient_disk_space";
    pub const DOWNLOAD_FAIL: &str = "download_fail";
    pub const SET_FAIL: &str = "set_fail";
    pub const SET: &str = "set";
    pub const SET_NEXT: &str = "set_next";
    /// The bundle started its trial: an install.
    pub const TRIAL_START: &str = "trial_start";
    /// The bundle confirmed (`notifyAppReady`).
    pub const APP_READY: &str = "app_ready";
    /// The bundle was reverted (`reason`: `neverConfirmed`, `appReadyTimeout`, `revoked`, ...).
    pub const UPDATE_FAIL: &str = "update_fail";
    pub const RESET: &str = "reset";
    pub const NATIVE_UPDATE_DETECTED: &str = "native_update_detected";
    pub const UPDATES_STALE: &str = "updates_stale";

    /// The failures before a bundle runs, each with a typed `reason`.
    pub const FAILURES: &[&str] = &[
        SIGNATURE_FAIL,
        ROLLBACK_FAIL,
        EXPIRED_FAIL,
        SIZE_FAIL,
        CHECKSUM_FAIL,
        DECRYPT_FAIL,
        UNZIP_FAIL,
        INSUFFICIENT_DISK_SPACE,
        DOWNLOAD_FAIL,
        SET_FAIL,
    ];

    /// Whether `action` counts a device as failed for its release: a failure before the bundle
    /// ran, or a revert.
    pub fn is_failure(action: &str) -> bool {
        action == UPDATE_FAIL || FAILURES.contains(&action)
    }
}

#[cfg(test)]
mod tests {
    use super::actions;

    #[test]
    fn every_failure_action_and_a_revert_count_as_failed_and_nothing_else_does() {
        for a in actions::FAILURES {
            assert!(actions::is_failure(a), "{a}");
        }
        assert!(actions::is_failure(actions::UPDATE_FAIL));
        for a in [
            actions::APP_READY,
            actions::DOWNLOAD_COMPLETE,
            actions::TRIAL_START,
            actions::NO_NEW,
            super::DELETE_ACTION,
        ] {
            assert!(!actions::is_failure(a), "{a}");
        }
    }
}
