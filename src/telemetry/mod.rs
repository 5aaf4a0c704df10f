//! Telemetry: what the device may tell a collector about its updates, decided here once.
//!
//! The engine reports each outcome it knows as a typed [`Report`]; [`event`] turns it into one
//! [`StatsEvent`] in Capgo's stats format, or into nothing when the consent level is `off`.
//! Consent levels (docs/PRIVACY.md): `off` sends nothing but the update check itself;
//! `anonymous` sends events whose `device_id` is a pseudonym derived from a device-local secret
//! and the release the event is about ([`anonymous_id`]), never the install id; `full` sends the
//! install id. The queue they wait in is the store's (`store::stats_queue`); sending is the
//! engine's (`engine::stats`), with the rules of [`Delivery`].

pub mod wire;

pub use wire::{StatsBody, StatsEvent, DELETE_ACTION, MAX_BATCH, MAX_BODY_BYTES};

use sha2::{Digest, Sha256};

use crate::check::Check;
use crate::config::{Config, Consent};
use crate::error::ErrorKind;

/// A release an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRef {
    pub channel: String,
    pub sequence: u64,
    pub version: String,
}

impl ReleaseRef {
    pub fn of(m: &crate::release::Manifest) -> ReleaseRef {
        ReleaseRef {
            channel: m.channel.clone(),
            sequence: m.sequence,
            version: m.version.clone(),
        }
    }
}

/// Why a bundle was reverted, as a code (`reason` of `update_fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertCause {
    /// The app restarted before the page called `notifyAppReady`.
    NotConfirmed,
    /// `appReadyTimeout` ran out while the app ran.
    AppReadyTimeout,
    /// A signed incident revoked it.
    Revoked,
    /// The app declared it broken (`setBundleError`).
    Declared,
}

impl RevertCause {
    pub fn as_str(self) -> &'static str {
        match self {
            RevertCause::NotConfirmed => "notConfirmed",
            RevertCause::AppReadyTimeout => "appReadyTimeout",
            RevertCause::Revoked => "revoked",
            RevertCause::Declared => "bundleError",
        }
    }
}

/// A failed check, download or install, classified: the action it is sent as and the typed
/// reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub action: &'static str,
    pub reason: String,
}

impl Failure {
    /// The failure of an error of public kind `kind`; `no_space` when the device lacked the
    /// room to install.
    pub fn of(kind: ErrorKind, check: Option<Check>, no_space: bool) -> Failure {
        if no_space {
            return Failure {
                action: "insufficient_disk_space",
                reason: "install.insufficientSpace".into(),
            };
        }
        let (action, reason) = match (kind, check) {
            (_, Some(c)) => (check_action(c), c.as_str()),
            (ErrorKind::Network, None) => ("download_fail", "network"),
            (ErrorKind::Storage, None) => ("download_fail", "storage"),
            (ErrorKind::Incompatible, None) => ("download_fail", "incompatible"),
            (ErrorKind::Busy, None) => ("download_fail", "busy"),
            (ErrorKind::InvalidArgument, None) => ("download_fail", "invalidArgument"),
            (ErrorKind::Internal, None) | (ErrorKind::Verification, None) => {
                ("download_fail", "internal")
            }
        };
        Failure {
            action,
            reason: reason.into(),
        }
    }
}

/// The Capgo action a failed check is sent as (the table in docs/PRIVACY.md).
fn check_action(c: Check) -> &'static str {
    use Check as C;
    match c {
        C::ReleaseEnvelopeMalformed
        | C::ReleaseEnvelopeTooLarge
        | C::ReleasePayloadType
        | C::ReleaseNoSignatures
        | C::ReleaseUnknownKey
        | C::ReleaseSignatureInvalid
        | C::ReleaseKeyNotAllowedForChannel
        | C::ReleaseManifestMalformed
        | C::ReleaseFieldInvalid
        | C::ReleaseInvalidKey
        | C::PolicyWrongApp
        | C::PolicyWrongChannel
        | C::DeltaBadUrl => "signature_fail",
        C::PolicyRollback | C::InstallNotNewer => "rollback_fail",
        C::PolicyExpired => "expired_fail",
        C::PolicyUpToDate
        | C::PolicyNotInRollout
        | C::PolicyBlocklisted
        | C::InstallBlocklisted => "noNew",
        C::InstallObjectSize
        | C::UnpackTooManyEntries
        | C::UnpackTotalSizeExceeded
        | C::UnpackSizeMismatch
        | C::UnpackSizeExceeded
        | C::CryptoTooLong
        | C::CapgoTooLarge => "size_fail",
        C::InstallObjectHash
        | C::FetchHashMismatch
        | C::UnpackHashMismatch
        | C::DeltaMismatch
        | C::CapgoUnsignedChecksum
        | C::CapgoMalformedChecksum
        | C::CapgoChecksumSignatureInvalid
        | C::CapgoChecksumMismatch => "checksum_fail",
        C::InstallMissingBundleKey
        | C::InstallUnsupportedEncryption
        | C::InstallMalformedEncryption
        | C::CryptoSegmentAuth
        | C::CryptoTruncated
        | C::CryptoUnwrapFailed
        | C::CryptoWrappedKeyLength
        | C::CapgoMalformedSessionKey
        | C::CapgoSessionKeyNotForThisKey
        | C::CapgoDecryptFailed => "decrypt_fail",
        C::UnpackDestinationExists
        | C::UnpackUnsafePath
        | C::UnpackPathTooLong
        | C::UnpackTooDeep
        | C::UnpackSymlink
        | C::UnpackSpecialFile
        | C::UnpackBadDirectoryEntry
        | C::UnpackEncrypted
        | C::UnpackUnsupportedCompression
        | C::UnpackOverlap
        | C::UnpackDuplicate
        | C::UnpackCaseCollision
        | C::UnpackFileDirConflict
        | C::UnpackDuplicateInList
        | C::UnpackUnexpectedFile
        | C::UnpackMissingFile
        | C::UnpackEntryCorrupt
        | C::UnpackZip
        | C::CapgoNoIndexHtml
        | C::CapgoBrotliFailed => "unzip_fail",
        C::FetchTooSlow | C::UpdateDeadlineExceeded => "download_fail",
    }
}

/// An outcome the engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A check found nothing to take; `code` says why (`upToDate`, `notInRollout`, ...). A
    /// refusal for rollback or expiry is sent as its failure instead.
    NoUpdate {
        code: String,
    },
    UpdateAvailable {
        release: ReleaseRef,
    },
    DownloadStarted {
        release: ReleaseRef,
        delta: bool,
    },
    DownloadComplete {
        release: ReleaseRef,
        bytes: u64,
        delta: bool,
    },
    /// A check, download or install failed.
    Failed {
        release: Option<ReleaseRef>,
        failure: Failure,
    },
    /// The bundle was made `next`.
    SetNext {
        release: ReleaseRef,
    },
    /// The bundle serves now (`set`, an immediate apply); `None` = the built-in bundle.
    Set {
        release: Option<ReleaseRef>,
        old_version: String,
    },
    /// The bundle started its trial at a launch (an install, in the fleet's figures).
    TrialStarted {
        release: ReleaseRef,
        old_version: String,
    },
    /// The page confirmed the bundle.
    Confirmed {
        release: ReleaseRef,
    },
    Reverted {
        release: ReleaseRef,
        cause: RevertCause,
    },
    /// A reset on request, to the last confirmed bundle (`to`) or the built-in one (`None`).
    Reset {
        old_version: String,
        to: Option<ReleaseRef>,
    },
    /// The native version changed since the last start (`old`: the one before).
    NativeUpdateDetected {
        old: String,
    },
    UpdatesStale {
        channel: String,
        sequence: u64,
        age_seconds: u64,
    },
}

/// What an event needs to know about the device.
pub struct Device<'a> {
    pub config: &'a Config,
    /// The id `setCustomId` set (empty: none); sent under consent `full` only.
    pub custom_id: &'a str,
    pub install_id: &'a str,
    /// The channel followed.
    pub channel: &'a str,
    /// The version serving now (`builtin` for the built-in bundle).
    pub serving_version: &'a str,
    pub consent: Consent,
    /// The device-local secret anonymous ids are derived from.
    pub secret: &'a str,
    pub now: u64,
}

/// The event to queue for `report`, or `None` under consent `off`.
pub fn event(report: &Report, d: &Device<'_>) -> Option<StatsEvent> {
    if d.consent == Consent::Off {
        return None;
    }
    let mut e = StatsEvent {
        platform: d.config.platform.clone(),
        app_id: d.config.app_id.clone(),
        version_build: d.config.native_version.clone(),
        version_code: d.config.native_build.clone().unwrap_or_default(),
        version_os: d.config.os_version.clone().unwrap_or_default(),
        version_name: d.serving_version.to_string(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        is_emulator: d.config.is_emulator,
        is_prod: !d.config.development,
        default_channel: d.config.default_channel.clone(),
        channel: d.channel.to_string(),
        at: d.now,
        consent: d.consent.as_str().into(),
        ..StatsEvent::default()
    };
    let about = |e: &mut StatsEvent, r: &ReleaseRef| {
        e.channel = r.channel.clone();
        e.sequence = Some(r.sequence);
        e.version_name = r.version.clone();
    };
    let (action, release) = match report {
        Report::NoUpdate { code } => {
            e.reason = Some(code.clone());
            ("noNew", None)
        }
        Report::UpdateAvailable { release } => ("update_available", Some(release)),
        Report::DownloadStarted { release, delta } => (
            if *delta {
                "download_manifest_start"
            } else {
                "download_zip_start"
            },
            Some(release),
        ),
        Report::DownloadComplete {
            release,
            bytes,
            delta,
        } => {
            e.bytes = Some(*bytes);
            e.delta = Some(*delta);
            ("download_complete", Some(release))
        }
        Report::Failed { release, failure } => {
            e.reason = Some(failure.reason.clone());
            (failure.action, release.as_ref())
        }
        Report::SetNext { release } => ("set_next", Some(release)),
        Report::Set {
            release,
            old_version,
        } => {
            e.old_version_name = old_version.clone();
            if release.is_none() {
                e.version_name = d.config.builtin_version.clone();
            }
            ("set", release.as_ref())
        }
        Report::TrialStarted {
            release,
            old_version,
        } => {
            e.old_version_name = old_version.clone();
            ("trial_start", Some(release))
        }
        Report::Confirmed { release } => ("app_ready", Some(release)),
        Report::Reverted { release, cause } => {
            e.reason = Some(cause.as_str().into());
            ("update_fail", Some(release))
        }
        Report::Reset { old_version, to } => {
            e.old_version_name = old_version.clone();
            if to.is_none() {
                e.version_name = d.config.builtin_version.clone();
            }
            ("reset", to.as_ref())
        }
        Report::NativeUpdateDetected { old } => {
            // The new native version is `version_build`, like every event's.
            e.old_version_name = old.clone();
            ("native_update_detected", None)
        }
        Report::UpdatesStale {
            channel,
            sequence,
            age_seconds,
        } => {
            e.channel = channel.clone();
            e.sequence = Some(*sequence);
            e.age_seconds = Some(*age_seconds);
            ("updates_stale", None)
        }
    };
    e.action = action.into();
    if let Some(r) = release {
        about(&mut e, r);
    }
    if d.consent == Consent::Full {
        e.custom_id = d.custom_id.to_string();
    }
    e.device_id = match (d.consent, e.sequence) {
        (Consent::Full, _) => d.install_id.to_string(),
        (_, Some(sequence)) => anonymous_id(d.secret, &e.channel, sequence),
        // An event about no release (a check that found nothing, a native update) gets a
        // pseudonym of its own: one shared by all of them would link them over the years.
        (_, None) => uuid_shaped(&crate::crypto::random_bytes::<16>()),
    };
    Some(e)
}

/// The pseudonym an anonymous event about a release carries: a UUID-shaped digest of the
/// device-local `secret` (never sent), the channel and the release sequence. Events of one
/// device about one release share it (so a collector counts that device once for that
/// release); it is unrelated to the install id, and ids of different releases cannot be linked
/// without the secret. Events about no release carry a random one each.
pub fn anonymous_id(secret: &str, channel: &str, sequence: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"liveship anonymous id\n");
    h.update(secret.as_bytes());
    h.update(b"\n");
    h.update(channel.as_bytes());
    h.update(b"\n");
    h.update(sequence.to_string().as_bytes());
    uuid_shaped(&h.finalize()[..16])
}

fn uuid_shaped(bytes: &[u8]) -> String {
    let d = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &d[..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..]
    )
}

/// The request that asks the collector to erase everything stored for `install_id`.
pub fn deletion_request(config: &Config, install_id: &str, now: u64) -> StatsEvent {
    StatsEvent {
        platform: config.platform.clone(),
        device_id: install_id.to_string(),
        app_id: config.app_id.clone(),
        version_build: config.native_version.clone(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        action: DELETE_ACTION.into(),
        at: now,
        consent: Consent::Full.as_str().into(),
        ..StatsEvent::default()
    }
}

/// What a collector's answer to a POST means for the rows it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// 2xx: taken; remove the rows.
    Taken,
    /// A 4xx other than 408 and 429: the collector will never take these rows; remove them
    /// (and count them) rather than send them forever.
    Refused,
    /// Anything else (5xx, 408, 429, no answer): keep the rows and try again later.
    Retry,
}

impl Delivery {
    /// The delivery an HTTP status means (`None`: no answer came).
    pub fn of_status(status: Option<u16>) -> Delivery {
        match status {
            Some(200..=299) => Delivery::Taken,
            Some(408) | Some(429) => Delivery::Retry,
            Some(400..=499) => Delivery::Refused,
            _ => Delivery::Retry,
        }
    }
}

#[cfg(test)]
mod tests;
