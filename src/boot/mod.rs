//! The boot protocol: which bundle serves at launch, the trial of a new bundle, its confirmation
//! by the page that runs it, and the automatic revert of a bundle that never confirmed.
//!
//! This module holds the types every transition shares; each transition lives in its own file:
//! - [`launch`](mod@launch): which bundle serves, the trial marker, the revert of a trial that
//!   never confirmed, an in-process apply of `next`;
//! - [`confirm`](mod@confirm): `notifyAppReady` credits only the named trial; the ready timer's
//!   revert;
//! - [`delay`](mod@delay): delay conditions and when they are met;
//! - [`native`]: what a new native version does to the installed bundles;
//! - [`incident`]: the publisher's revocations;
//! - [`admin`]: `set_next`, `reset`, `delete`, `list`;
//! - [`retention`]: which bundles are kept.
//!
//! Guarantees kept across them:
//! - The trial marker is durable before the trial's path is returned.
//! - A trial still pending at the next launch, or when the ready timer fires, is marked failed,
//!   its content blocklisted, and the last confirmed bundle (else the built-in one) serves.
//! - Only the page of the bundle on trial can confirm it.
//! - The high-water mark is never lowered here; reverts are local and do not re-open old sequences.

mod admin;
mod confirm;
mod delay;
mod incident;
mod launch;
mod native;
mod retention;

#[cfg(test)]
mod fixture;

use std::path::PathBuf;

use serde::Serialize;

use crate::store::StoreError;

pub use admin::{declare_failed, delete, erase_bundles, info, list, reset, role_of, set_next};
pub use confirm::{confirm, revert_trial};
pub use delay::{delay, set_delay, settle, DelayCondition, Moment};
pub use incident::revoke;
pub use launch::{apply_next, launch, serving};
pub use native::reconcile_native;
pub use retention::retain;

/// The id of the bundle shipped inside the app.
pub const BUILTIN: &str = "builtin";

/// Why a trial was reverted at launch.
pub const REASON_NOT_CONFIRMED: &str = "not confirmed by notifyAppReady before the app restarted";

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("bundle {id} is not installed")]
    UnknownBundle { id: String },
    #[error("bundle {id} is not on trial (trial: {trial:?}); only the page of the bundle on trial can confirm it")]
    NotOnTrial { id: String, trial: Option<String> },
    #[error("bundle {id} is {role}; it cannot be deleted")]
    InUse { id: String, role: BundleStatus },
    #[error("bundle {id} failed before ({reason}); it cannot be used again")]
    BundleFailed { id: String, reason: String },
    #[error("bundle {id} requires native version {min:?}..={max:?}, this app is {native}")]
    Incompatible {
        id: String,
        native: String,
        min: Option<String>,
        max: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A revert that happened, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct Reverted {
    pub id: String,
    pub version: String,
    pub reason: String,
}

// Paths cross the FFI edge as strings (Kotlin and Swift see `String`).
uniffi::custom_type!(PathBuf, String, {
    remote,
    lower: |path| path.to_string_lossy().into_owned(),
    try_lift: |text| Ok(PathBuf::from(text)),
});

/// What native start-up must load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct LaunchResult {
    /// Bundle id, or `builtin`.
    pub id: String,
    pub version: String,
    /// Folder to serve; `null` for the built-in bundle.
    pub path: Option<PathBuf>,
    /// This launch is the bundle's trial: its page must call `notifyAppReady(id)`.
    pub trial: bool,
    /// Set when this launch reverted a trial that never confirmed.
    pub reverted: Option<Reverted>,
}

/// Where `reset` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResetTarget {
    /// Serve the built-in bundle; forget current, trial and next.
    Builtin,
    /// Serve the last confirmed bundle; drop a pending trial or next without blaming it.
    LastGood,
}

/// The role a bundle plays (serialized in lowercase: `current`, `fallback`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    Current,
    Fallback,
    Trial,
    Next,
    /// Installed, no role.
    Ready,
    Failed,
}

impl BundleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleStatus::Current => "current",
            BundleStatus::Fallback => "fallback",
            BundleStatus::Trial => "trial",
            BundleStatus::Next => "next",
            BundleStatus::Ready => "ready",
            BundleStatus::Failed => "failed",
        }
    }

    /// True for the roles that keep a bundle from being deleted or removed by retention.
    pub fn holds_role(self) -> bool {
        !matches!(self, BundleStatus::Ready | BundleStatus::Failed)
    }
}

impl std::fmt::Display for BundleStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a bundle stands, for `list` and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct BundleInfo {
    pub id: String,
    pub version: String,
    pub channel: String,
    pub sequence: u64,
    pub status: BundleStatus,
    pub failed_reason: Option<String>,
    /// Unix seconds.
    pub installed_at: u64,
}

/// What `confirm` (`notifyAppReady`) did; `ReadyOutcome` at the FFI edge.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[uniffi(name = "ReadyOutcome")]
pub enum Confirmed {
    /// The trial became current; `previous` is now the fallback.
    Promoted { previous: Option<String> },
    /// The bundle was already current (a page reload, a second call): nothing to do.
    AlreadyCurrent,
}
