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

/// The kind of a failure without its text: the variant of [`LiveshipError`]. Telemetry
/// classifies failures with it (and the failed check) without formatting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Network,
    Verification,
    Incompatible,
    Storage,
    Busy,
    InvalidArgument,
    Internal,
}

/// An error and its causes as one line, each cause printed once: `outer: cause: root cause`.
///
/// Walks the `source()` chain and appends a link only when its text is not already in the line.
/// Most of the core's errors embed their cause in their own message (so that the message alone,
/// what the FFI reports, says everything) and also expose it as `source()` (thiserror's `#[from]`
/// and `source` fields do both); printing such a chain link by link, as anyhow's `{:#}` does,
/// repeats every cause. A link whose text is already there adds nothing, so skipping it loses
/// nothing, and a cause that no message embedded is still printed.
pub fn chain_text<'a>(
    links: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut line = String::new();
    for link in links {
        let text = link.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// [`chain_text`] of `error` and its `source()` chain.
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    chain_text(std::iter::successors(Some(error), |e| e.source()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot read key {path}: {source}")]
        Embeds {
            path: &'static str,
            source: std::io::Error,
        },
        #[error("cannot read key {path}")]
        Chains {
            path: &'static str,
            source: std::io::Error,
        },
        #[error("install failed: {0}")]
        Nested(#[from] Middle),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("bundle content rejected: {0}")]
    struct Middle(#[from] Leaf);

    #[derive(Debug, thiserror::Error)]
    #[error("file a.js does not match its signed hash")]
    struct Leaf;

    fn enoent() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::NotFound)
    }

    #[test]
    fn an_embedded_cause_is_printed_once_and_a_chained_one_is_printed() {
        let embeds = Outer::Embeds {
            path: "nokey",
            source: enoent(),
        };
        assert_eq!(report(&embeds), "cannot read key nokey: entity not found");
        let chains = Outer::Chains {
            path: "nokey",
            source: enoent(),
        };
        assert_eq!(report(&chains), "cannot read key nokey: entity not found");
        let nested = Outer::from(Middle(Leaf));
        assert_eq!(
            report(&nested),
            "install failed: bundle content rejected: file a.js does not match its signed hash"
        );
    }
}
