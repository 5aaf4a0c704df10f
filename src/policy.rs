//! Whether this device may take a verified release, decided before any download.
//!
//! Each refusal is its own [`Refusal`] variant, so a check result can say exactly why there is
//! no update. The signature and key scope are already checked by `release::verify_envelope`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{self, Config};
use crate::release::Manifest;

/// Why a verified release is not taken. `UpToDate` is not an error: the device has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "camelCase")]
pub enum Refusal {
    #[error("release is for app {got:?}, this app is {expected:?}")]
    WrongApp { expected: String, got: String },
    #[error("release is for channel {got:?}, this device follows {expected:?}")]
    WrongChannel { expected: String, got: String },
    #[error("release is for platforms {platforms:?}, this device is {platform:?}")]
    WrongPlatform {
        platform: String,
        platforms: Vec<String>,
    },
    #[error("native version {native} is outside the release's range {min:?}..={max:?}")]
    IncompatibleNative {
        native: String,
        min: Option<String>,
        max: Option<String>,
    },
    #[error(
        "release {channel}#{sequence} expired at {expires_at} (now {now}, skew allowance {skew}s)"
    )]
    Expired {
        channel: String,
        sequence: u64,
        expires_at: u64,
        now: u64,
        skew: u64,
    },
    #[error("release sequence {got} is older than the newest this device accepted ({have}): rollback refused")]
    Rollback { got: u64, have: u64 },
    #[error("already up to date at sequence {sequence}")]
    UpToDate { sequence: u64 },
    #[error("release content {content_id} is blocklisted on this device: {reason}")]
    Blocklisted { content_id: String, reason: String },
    #[error("device is outside the {percent}% rollout (bucket {bucket})")]
    NotInRollout { percent: u8, bucket: u8 },
}

/// The stable name of a [`Refusal`], as a check result's `code` (public API: never rename one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCode {
    WrongApp,
    WrongChannel,
    WrongPlatform,
    IncompatibleNative,
    Expired,
    Rollback,
    UpToDate,
    Blocklisted,
    NotInRollout,
}

impl RefusalCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::WrongApp => "wrongApp",
            RefusalCode::WrongChannel => "wrongChannel",
            RefusalCode::WrongPlatform => "wrongPlatform",
            RefusalCode::IncompatibleNative => "incompatibleNative",
            RefusalCode::Expired => "expired",
            RefusalCode::Rollback => "rollback",
            RefusalCode::UpToDate => "upToDate",
            RefusalCode::Blocklisted => "blocklisted",
            RefusalCode::NotInRollout => "notInRollout",
        }
    }
}

impl Refusal {
    pub fn code(&self) -> RefusalCode {
        match self {
            Refusal::WrongApp { .. } => RefusalCode::WrongApp,
            Refusal::WrongChannel { .. } => RefusalCode::WrongChannel,
            Refusal::WrongPlatform { .. } => RefusalCode::WrongPlatform,
            Refusal::IncompatibleNative { .. } => RefusalCode::IncompatibleNative,
            Refusal::Expired { .. } => RefusalCode::Expired,
            Refusal::Rollback { .. } => RefusalCode::Rollback,
            Refusal::UpToDate { .. } => RefusalCode::UpToDate,
            Refusal::Blocklisted { .. } => RefusalCode::Blocklisted,
            Refusal::NotInRollout { .. } => RefusalCode::NotInRollout,
        }
    }
}

/// Allowance for device clocks that run behind or ahead when checking `expires_at`.
pub const CLOCK_SKEW_SECS: u64 = 5 * 60;

/// The one expiry rule: a manifest is refused once it expired more than [`CLOCK_SKEW_SECS`]
/// before `now`. The CLI's `verify` and the incident check use it too.
pub fn check_expiry(m: &Manifest, now: u64) -> Result<(), Refusal> {
    if now > m.expires_at.saturating_add(CLOCK_SKEW_SECS) {
        return Err(Refusal::Expired {
            channel: m.channel.clone(),
            sequence: m.sequence,
            expires_at: m.expires_at,
            now,
            skew: CLOCK_SKEW_SECS,
        });
    }
    Ok(())
}

/// The device facts a decision needs.
pub struct DeviceFacts<'a> {
    pub config: &'a Config,
    pub channel: &'a str,
    pub device_id: &'a str,
    pub high_water: Option<u64>,
    /// Reason the release's content is blocklisted, if it is.
    pub blocked: Option<String>,
    pub now: u64,
}

/// Stable rollout bucket 0..=99 of a device for a release: the same device gets the same answer
/// for the same release every time, and different releases sample different devices.
pub fn rollout_bucket(device_id: &str, manifest: &Manifest) -> u8 {
    let mut h = Sha256::new();
    h.update(device_id.as_bytes());
    h.update([0]);
    h.update(manifest.channel.as_bytes());
    h.update([0]);
    h.update(manifest.sequence.to_be_bytes());
    let d = h.finalize();
    (u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 100) as u8
}

/// Runs every check in a fixed order and returns the first refusal.
pub fn evaluate(m: &Manifest, f: &DeviceFacts<'_>) -> Result<(), Refusal> {
    if m.app_id != f.config.app_id {
        return Err(Refusal::WrongApp {
            expected: f.config.app_id.clone(),
            got: m.app_id.clone(),
        });
    }
    if m.channel != f.channel {
        return Err(Refusal::WrongChannel {
            expected: f.channel.into(),
            got: m.channel.clone(),
        });
    }
    if !m.platforms.is_empty() && !m.platforms.iter().any(|p| p == &f.config.platform) {
        return Err(Refusal::WrongPlatform {
            platform: f.config.platform.clone(),
            platforms: m.platforms.clone(),
        });
    }
    if !config::native_in_range(&f.config.native_version, &m.native) {
        return Err(Refusal::IncompatibleNative {
            native: f.config.native_version.clone(),
            min: m.native.min.clone(),
            max: m.native.max.clone(),
        });
    }
    check_expiry(m, f.now)?;
    match f.high_water {
        Some(have) if m.sequence < have => {
            return Err(Refusal::Rollback {
                got: m.sequence,
                have,
            })
        }
        Some(have) if m.sequence == have => return Err(Refusal::UpToDate { sequence: have }),
        _ => {}
    }
    if let Some(reason) = &f.blocked {
        return Err(Refusal::Blocklisted {
            content_id: m.content_id(),
            reason: reason.clone(),
        });
    }
    if let Some(percent) = m.rollout {
        let bucket = rollout_bucket(f.device_id, m);
        if bucket >= percent {
            return Err(Refusal::NotInRollout { percent, bucket });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed code is the name the serialized refusal has always carried.
    #[test]
    fn each_refusal_code_is_its_serialized_tag() {
        let all = [
            Refusal::WrongApp {
                expected: "a".into(),
                got: "b".into(),
            },
            Refusal::WrongChannel {
                expected: "a".into(),
                got: "b".into(),
            },
            Refusal::WrongPlatform {
                platform: "ios".into(),
                platforms: vec!["android".into()],
            },
            Refusal::IncompatibleNative {
                native: "1".into(),
                min: None,
                max: None,
            },
            Refusal::Expired {
                channel: "production".into(),
                sequence: 7,
                expires_at: 1,
                now: 2,
                skew: 3,
            },
            Refusal::Rollback { got: 1, have: 2 },
            Refusal::UpToDate { sequence: 1 },
            Refusal::Blocklisted {
                content_id: "c".into(),
                reason: "r".into(),
            },
            Refusal::NotInRollout {
                percent: 1,
                bucket: 2,
            },
        ];
        for r in all {
            let tag = serde_json::to_value(&r).unwrap()["code"].clone();
            assert_eq!(tag, r.code().as_str(), "{r:?}");
        }
    }
}
