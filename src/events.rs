//! Events the core emits to the native layer (which maps them to Capgo-compatible JS event
//! names in one place), and the listener they go through. [`Event`] is exported to Kotlin,
//! Swift and Python as it is (no mirror): the foreign `EventListener` receives this type. The
//! outcome of an update ([`UpdateOutcome`]) lives here too: `update` returns it and
//! `UpdateFinished` carries it.

use std::sync::Arc;

use serde::Serialize;

/// Everything the core tells the outside world about, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Enum)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// Download progress of a release.
    #[serde(rename_all = "camelCase")]
    Download {
        version: String,
        percent: u8,
        downloaded: u64,
        total: u64,
    },
    /// A check found nothing to take, with the reason.
    NoNeedUpdate {
        reason: String,
    },
    /// A check found a release whose native range excludes this app build: it needs a native
    /// update first (Capgo's `breakingAvailable` / `majorAvailable`).
    NativeUpdateRequired {
        version: String,
    },
    /// Capgo mode: the channel endpoint refused `channel` because devices may not choose it
    /// (Capgo's `channelPrivate`).
    ChannelPrivate {
        channel: String,
        message: String,
    },
    /// A check found a release this device may take.
    UpdateAvailable {
        sequence: u64,
        version: String,
    },
    /// A release is downloaded, verified and installed as `next`.
    #[serde(rename_all = "camelCase")]
    DownloadComplete {
        bundle_id: String,
        version: String,
    },
    DownloadFailed {
        version: String,
        error: String,
    },
    /// A bundle was reverted (never confirmed, timed out, revoked); `reason` says which.
    #[serde(rename_all = "camelCase")]
    UpdateFailed {
        bundle_id: String,
        version: String,
        reason: String,
    },
    /// A bundle was made the one to serve now.
    #[serde(rename_all = "camelCase")]
    Set {
        bundle_id: String,
    },
    /// A bundle was made `next`.
    #[serde(rename_all = "camelCase")]
    SetNext {
        bundle_id: String,
    },
    /// The page confirmed the bundle it runs on.
    #[serde(rename_all = "camelCase")]
    AppReady {
        bundle_id: String,
    },
    /// The native layer must reload the WebView from `path` (`None` = built-in bundle).
    #[serde(rename_all = "camelCase")]
    ReloadRequired {
        bundle_id: String,
        path: Option<String>,
        reason: String,
    },
    /// A delta update failed and the full bundle is fetched instead.
    DeltaFallback {
        reason: String,
    },
    /// The newest envelope of the channel that verified on this device expired and no fresher
    /// one came: the host serves an old release (a freeze) or nothing. Emitted once per such
    /// envelope, at the end of the check that found it stale (also when the check failed).
    /// `age_seconds` is the time since that envelope's `issued_at`.
    #[serde(rename_all = "camelCase")]
    UpdatesStale {
        channel: String,
        sequence: u64,
        issued_at: u64,
        expires_at: u64,
        age_seconds: u64,
    },
    /// The state database was unreadable and was rebuilt.
    StateReset {
        reason: String,
    },
    /// `startDownloadAndInstall` finished. Emitted by the public face only (its background
    /// thread), to the foreign listener; the Rust sinks never see it, so it has no JSON form.
    #[serde(skip)]
    UpdateFinished {
        outcome: UpdateOutcome,
    },
    /// `startDownloadAndInstall` failed, with the public error. Public face only, like
    /// `UpdateFinished`.
    #[serde(skip)]
    UpdateError {
        error: crate::error::LiveshipError,
    },
}

/// Receives events; must return quickly (it is called on the core's threads).
pub trait EventSink: Send + Sync {
    fn on_event(&self, event: Event);
}

impl<F: Fn(Event) + Send + Sync> EventSink for F {
    fn on_event(&self, event: Event) {
        self(event)
    }
}

/// A sink that drops everything.
pub fn discard() -> Arc<dyn EventSink> {
    Arc::new(|_e: Event| {})
}

/// What a check-download-install did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum UpdateOutcome {
    #[serde(rename_all = "camelCase")]
    NoUpdate { code: String, reason: String },
    #[serde(rename_all = "camelCase")]
    Installed {
        id: String,
        version: String,
        sequence: u64,
        /// Bytes fetched for the bundle (delta objects or the full bundle).
        downloaded_bytes: u64,
        /// Size of the full bundle object.
        full_bytes: u64,
        delta: bool,
        /// Why a delta was abandoned for the full bundle.
        delta_fallback: Option<String>,
        /// The bundle already serves (apply mode `immediate`).
        applied: bool,
    },
}
