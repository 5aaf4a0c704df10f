//! The public error: every failure in few actionable kinds, each with text for people and logs
//! (never parsed) and, for a failed security or integrity check, the check's typed name. Only
//! the type lives here, with the shared vocabulary, so that events can carry it; the one
//! mapping from the core's internal errors is the FFI layer's (`ffi/error.rs`).

/// Every failure, in few actionable kinds. `reason` is for people and logs, never parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum LiveshipError {
    /// The server could not be reached or answered wrongly; retry later. `check` names the
    /// limit that ended it when one did (`fetch.tooSlow`, `update.deadlineExceeded`), else `None`.
    #[error("network: {reason}")]
    Network {
        reason: String,
        check: Option<String>,
    },
    /// A release failed a security or integrity check; `check` names it (`release.signatureInvalid`,
    /// `install.objectHash`, `unpack.hashMismatch`, `crypto.segmentAuth`, `policy.rollback`, ...).
    #[error("verification failed ({check}): {reason}")]
    Verification { check: String, reason: String },
    /// The release or bundle does not fit this app build (native range, platform, format).
    #[error("incompatible: {reason}")]
    Incompatible { reason: String },
    /// The device's storage failed (disk full, permissions, database).
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// Another install holds the lock; retry later.
    #[error("busy: {reason}")]
    Busy { reason: String },
    /// The call itself is wrong (bad config, unknown bundle, bundle not on trial, ...).
    #[error("invalid argument: {reason}")]
    InvalidArgument { reason: String },
    /// A bug: a panic or an impossible state. Logged with details.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}
