//! [`LiveshipError`], the one public error, and the one mapping onto it from every internal
//! error ([`LiveshipError::from_core`]). Each layer's error is classified by an exhaustive
//! `match` here (`kind`), so a new internal variant does not compile until it is given a public
//! kind (and, for verification failures, a [`Check`]). The text is the error's whole chain with
//! each cause once ([`crate::error::report`]).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::boot::BootError;
use crate::check::Check;
use crate::crypto::CryptoError;
use crate::delta::DeltaError;
use crate::engine::{CoreError, NetError};
pub use crate::error::LiveshipError;
use crate::fetch::FetchError;
use crate::install::InstallError;
use crate::policy::Refusal;
use crate::release::ReleaseError;
use crate::unpack::UnpackError;

/// The public kind of an internal failure (the variant of [`LiveshipError`] without its text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// With the limit that ended the retrieval, when one did.
    Network(Option<Check>),
    Verification(Check),
    Incompatible,
    Storage,
    Busy,
    InvalidArgument,
    Internal,
}

impl ReleaseError {
    fn kind(&self) -> Kind {
        use ReleaseError as E;
        Kind::Verification(match self {
            E::UnsupportedFormat { .. } => return Kind::Incompatible,
            E::EnvelopeMalformed(_) => Check::ReleaseEnvelopeMalformed,
            E::EnvelopeTooLarge { .. } => Check::ReleaseEnvelopeTooLarge,
            E::PayloadType { .. } => Check::ReleasePayloadType,
            E::NoSignatures => Check::ReleaseNoSignatures,
            E::UnknownKey { .. } => Check::ReleaseUnknownKey,
            E::SignatureInvalid { .. } => Check::ReleaseSignatureInvalid,
            E::KeyNotAllowedForChannel { .. } => Check::ReleaseKeyNotAllowedForChannel,
            E::ManifestMalformed(_) => Check::ReleaseManifestMalformed,
            E::FieldInvalid { .. } => Check::ReleaseFieldInvalid,
            E::InvalidKey(_) => Check::ReleaseInvalidKey,
        })
    }
}

impl Refusal {
    fn kind(&self) -> Kind {
        use Refusal as E;
        Kind::Verification(match self {
            E::IncompatibleNative { .. } | E::WrongPlatform { .. } => return Kind::Incompatible,
            E::WrongApp { .. } => Check::PolicyWrongApp,
            E::WrongChannel { .. } => Check::PolicyWrongChannel,
            E::Expired { .. } => Check::PolicyExpired,
            E::Rollback { .. } => Check::PolicyRollback,
            E::UpToDate { .. } => Check::PolicyUpToDate,
            E::Blocklisted { .. } => Check::PolicyBlocklisted,
            E::NotInRollout { .. } => Check::PolicyNotInRollout,
        })
    }
}

impl CryptoError {
    fn kind(&self) -> Kind {
        use CryptoError as E;
        Kind::Verification(match self {
            E::Io { .. } => return Kind::Storage,
            E::SegmentAuth { .. } => Check::CryptoSegmentAuth,
            E::Truncated => Check::CryptoTruncated,
            E::TooLong => Check::CryptoTooLong,
            E::UnwrapFailed { .. } => Check::CryptoUnwrapFailed,
            E::WrappedKeyLength { .. } => Check::CryptoWrappedKeyLength,
        })
    }
}

impl UnpackError {
    fn kind(&self) -> Kind {
        use UnpackError as E;
        Kind::Verification(match self {
            E::Io { .. } => return Kind::Storage,
            E::DestinationExists { .. } => Check::UnpackDestinationExists,
            E::TooManyEntries { .. } | E::DirectoryTooLarge { .. } => Check::UnpackTooManyEntries,
            E::UnsafePath { .. } => Check::UnpackUnsafePath,
            E::PathTooLong { .. } => Check::UnpackPathTooLong,
            E::TooDeep { .. } => Check::UnpackTooDeep,
            E::Symlink { .. } => Check::UnpackSymlink,
            E::SpecialFile { .. } => Check::UnpackSpecialFile,
            E::BadDirectoryEntry { .. } => Check::UnpackBadDirectoryEntry,
            E::Encrypted { .. } => Check::UnpackEncrypted,
            E::UnsupportedCompression { .. } => Check::UnpackUnsupportedCompression,
            E::TotalSizeExceeded { .. } => Check::UnpackTotalSizeExceeded,
            E::Overlap { .. } | E::OverlapsDirectory { .. } => Check::UnpackOverlap,
            E::Duplicate { .. } => Check::UnpackDuplicate,
            E::CaseCollision { .. } => Check::UnpackCaseCollision,
            E::FileDirConflict { .. } => Check::UnpackFileDirConflict,
            E::DuplicateInList { .. } => Check::UnpackDuplicateInList,
            E::UnexpectedFile { .. } => Check::UnpackUnexpectedFile,
            E::MissingFile { .. } => Check::UnpackMissingFile,
            E::SizeMismatch { .. } => Check::UnpackSizeMismatch,
            E::SizeExceeded { .. } => Check::UnpackSizeExceeded,
            E::HashMismatch { .. } => Check::UnpackHashMismatch,
            E::EntryCorrupt { .. } => Check::UnpackEntryCorrupt,
            E::Zip(_) | E::MalformedDirectory { .. } => Check::UnpackZip,
        })
    }
}

impl InstallError {
    fn kind(&self) -> Kind {
        use InstallError as E;
        Kind::Verification(match self {
            E::Busy => return Kind::Busy,
            E::InsufficientSpace { .. } | E::Store(_) => return Kind::Storage,
            E::Decrypt(c) => return c.kind(),
            E::Unpack(u) => return u.kind(),
            E::ObjectSize { .. } => Check::InstallObjectSize,
            E::ObjectHash { .. } => Check::InstallObjectHash,
            E::MissingBundleKey { .. } => Check::InstallMissingBundleKey,
            E::UnsupportedEncryption { .. } => Check::InstallUnsupportedEncryption,
            E::MalformedEncryption { .. } => Check::InstallMalformedEncryption,
            E::NotNewer { .. } => Check::InstallNotNewer,
            E::Blocklisted { .. } => Check::InstallBlocklisted,
        })
    }
}

impl FetchError {
    fn kind(&self) -> Kind {
        use FetchError as E;
        match self {
            E::InsecureUrl { .. } | E::Setup(_) => Kind::InvalidArgument,
            E::HashMismatch { .. } => Kind::Verification(Check::FetchHashMismatch),
            E::Io { .. } => Kind::Storage,
            E::TooSlow { .. } => Kind::Network(Some(Check::FetchTooSlow)),
            E::InsecureRedirect { .. }
            | E::TooManyRedirects { .. }
            | E::Connect { .. }
            | E::Tls { .. }
            | E::Timeout { .. }
            | E::Status { .. }
            | E::TooLarge { .. }
            | E::TooLong { .. }
            | E::WrongLength { .. }
            | E::Truncated { .. }
            | E::BadContentRange { .. }
            | E::RetriesExhausted { .. } => Kind::Network(None),
        }
    }
}

impl DeltaError {
    fn kind(&self) -> Kind {
        use DeltaError as E;
        match self {
            E::Fetch { source, .. } => source.kind(),
            E::Decrypt { source, .. } => source.kind(),
            E::Store(_) => Kind::Storage,
            E::Mismatch { .. } => Kind::Verification(Check::DeltaMismatch),
            E::BadUrl { .. } => Kind::Verification(Check::DeltaBadUrl),
            E::NotOffered | E::NotWorthIt { .. } => Kind::Internal,
        }
    }
}

impl crate::capgo::CapgoError {
    fn kind(&self) -> Kind {
        use crate::capgo::CapgoError as E;
        Kind::Verification(match self {
            E::BadPublicKey { .. } => return Kind::InvalidArgument,
            E::Io { .. } => return Kind::Storage,
            E::MalformedSessionKey { .. } => Check::CapgoMalformedSessionKey,
            E::SessionKeyNotForThisKey { .. } => Check::CapgoSessionKeyNotForThisKey,
            E::UnsignedChecksum { .. } => Check::CapgoUnsignedChecksum,
            E::MalformedChecksum { .. } => Check::CapgoMalformedChecksum,
            E::ChecksumSignatureInvalid { .. } => Check::CapgoChecksumSignatureInvalid,
            E::ChecksumMismatch { .. } => Check::CapgoChecksumMismatch,
            E::DecryptFailed { .. } => Check::CapgoDecryptFailed,
            E::NoIndexHtml => Check::CapgoNoIndexHtml,
            E::BrotliFailed { .. } => Check::CapgoBrotliFailed,
            E::TooLarge { .. } => Check::CapgoTooLarge,
        })
    }
}

impl BootError {
    fn kind(&self) -> Kind {
        use BootError as E;
        match self {
            E::Incompatible { .. } => Kind::Incompatible,
            E::Store(_) => Kind::Storage,
            E::UnknownBundle { .. }
            | E::NotOnTrial { .. }
            | E::InUse { .. }
            | E::BundleFailed { .. } => Kind::InvalidArgument,
        }
    }
}

impl CoreError {
    fn kind(&self) -> Kind {
        use CoreError as E;
        match self {
            E::Config(_) => Kind::InvalidArgument,
            E::Release(r) => r.kind(),
            E::Refused(r) => r.kind(),
            E::Install(i) => i.kind(),
            E::Boot(b) => b.kind(),
            E::Store(_) | E::ReadInput { .. } => Kind::Storage,
            E::Net(NetError::NoUpdateUrl | NetError::BadUrl { .. }) => Kind::InvalidArgument,
            E::Net(NetError::Fetch(f)) => f.kind(),
            E::Delta(d) => d.kind(),
            E::Capgo(c) => c.kind(),
            E::ChannelRefused { .. } => Kind::InvalidArgument,
            E::DeadlineExceeded { .. } => Kind::Network(None),
            E::UpdateDeadlineExceeded { .. } => Kind::Network(Some(Check::UpdateDeadlineExceeded)),
        }
    }
}

impl CoreError {
    /// The public kind of this error and the check that failed, when one did (telemetry).
    pub(crate) fn classify(&self) -> (crate::error::ErrorKind, Option<Check>) {
        use crate::error::ErrorKind as K;
        match self.kind() {
            Kind::Network(check) => (K::Network, check),
            Kind::Verification(check) => (K::Verification, Some(check)),
            Kind::Incompatible => (K::Incompatible, None),
            Kind::Storage => (K::Storage, None),
            Kind::Busy => (K::Busy, None),
            Kind::InvalidArgument => (K::InvalidArgument, None),
            Kind::Internal => (K::Internal, None),
        }
    }
}

impl LiveshipError {
    /// The one mapping from internal errors to the public kinds.
    pub fn from_core(e: CoreError) -> LiveshipError {
        use LiveshipError as L;
        let kind = e.kind();
        // The whole chain, each cause once: a cause that a message does not embed is kept.
        let reason = crate::error::report(&e);
        match kind {
            Kind::Network(check) => L::Network {
                reason,
                check: check.map(|c| c.as_str().into()),
            },
            Kind::Verification(check) => L::Verification {
                check: check.as_str().into(),
                reason,
            },
            Kind::Incompatible => L::Incompatible { reason },
            Kind::Storage => L::Storage { reason },
            Kind::Busy => L::Busy { reason },
            Kind::InvalidArgument => L::InvalidArgument { reason },
            Kind::Internal => L::Internal { reason },
        }
    }

    /// A fault of the device or a bug, logged as an error; the other kinds are expected
    /// outcomes (a bad release, no network, a wrong call), logged as info.
    pub(crate) fn is_fault(&self) -> bool {
        use LiveshipError as L;
        match self {
            L::Internal { .. } | L::Storage { .. } => true,
            L::Network { .. }
            | L::Verification { .. }
            | L::Incompatible { .. }
            | L::Busy { .. }
            | L::InvalidArgument { .. } => false,
        }
    }
}

/// Runs an exported method's body: a panic becomes `Internal` (logged), an error is logged.
pub(crate) fn guard<T>(
    op: &str,
    f: impl FnOnce() -> Result<T, LiveshipError>,
) -> Result<T, LiveshipError> {
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = panic_message(payload.as_ref());
        log::error!("{op} panicked: {what}");
        Err(LiveshipError::Internal {
            reason: format!("{op} panicked: {what}"),
        })
    });
    if let Err(e) = &result {
        if e.is_fault() {
            log::error!("{op}: {e}")
        } else {
            log::info!("{op}: {e}")
        }
    }
    result
}

/// [`guard`] for a body returning the core's result.
pub(crate) fn core<T>(
    op: &str,
    f: impl FnOnce() -> Result<T, CoreError>,
) -> Result<T, LiveshipError> {
    guard(op, || f().map_err(LiveshipError::from_core))
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot;

    #[test]
    fn a_panic_inside_becomes_an_internal_error() {
        let err = guard::<()>("boom", || panic!("kaboom")).unwrap_err();
        assert_eq!(
            err,
            LiveshipError::Internal {
                reason: "boom panicked: kaboom".into()
            }
        );
    }

    #[test]
    fn internal_errors_map_to_their_public_kind_with_the_check_named() {
        let cases: Vec<(CoreError, LiveshipError)> = vec![
            (
                ReleaseError::SignatureInvalid {
                    key_id: "k1".into(),
                }
                .into(),
                LiveshipError::Verification {
                    check: "release.signatureInvalid".into(),
                    reason: String::new(),
                },
            ),
            (
                InstallError::Unpack(UnpackError::HashMismatch {
                    path: "a.js".into(),
                })
                .into(),
                LiveshipError::Verification {
                    check: "unpack.hashMismatch".into(),
                    reason: String::new(),
                },
            ),
            (
                InstallError::Decrypt(CryptoError::SegmentAuth { segment: 3 }).into(),
                LiveshipError::Verification {
                    check: "crypto.segmentAuth".into(),
                    reason: String::new(),
                },
            ),
            (
                Refusal::Rollback { got: 1, have: 2 }.into(),
                LiveshipError::Verification {
                    check: "policy.rollback".into(),
                    reason: String::new(),
                },
            ),
            (
                Refusal::IncompatibleNative {
                    native: "1".into(),
                    min: Some("2".into()),
                    max: None,
                }
                .into(),
                LiveshipError::Incompatible {
                    reason: String::new(),
                },
            ),
            (
                InstallError::Busy.into(),
                LiveshipError::Busy {
                    reason: String::new(),
                },
            ),
            (
                boot::BootError::NotOnTrial {
                    id: "b".into(),
                    trial: None,
                }
                .into(),
                LiveshipError::InvalidArgument {
                    reason: String::new(),
                },
            ),
            (
                NetError::Fetch(FetchError::Connect {
                    url: "http://127.0.0.1:1/".into(),
                    reason: "refused".into(),
                })
                .into(),
                LiveshipError::Network {
                    reason: String::new(),
                    check: None,
                },
            ),
            (
                NetError::NoUpdateUrl.into(),
                LiveshipError::InvalidArgument {
                    reason: String::new(),
                },
            ),
        ];
        for (core, want) in cases {
            let text = core.to_string();
            let got = LiveshipError::from_core(core);
            let blank = |e: &LiveshipError| match e.clone() {
                LiveshipError::Verification { check, .. } => LiveshipError::Verification {
                    check,
                    reason: String::new(),
                },
                LiveshipError::Network { check, .. } => LiveshipError::Network {
                    reason: String::new(),
                    check,
                },
                LiveshipError::Incompatible { .. } => LiveshipError::Incompatible {
                    reason: String::new(),
                },
                LiveshipError::Storage { .. } => LiveshipError::Storage {
                    reason: String::new(),
                },
                LiveshipError::Busy { .. } => LiveshipError::Busy {
                    reason: String::new(),
                },
                LiveshipError::InvalidArgument { .. } => LiveshipError::InvalidArgument {
                    reason: String::new(),
                },
                LiveshipError::Internal { .. } => LiveshipError::Internal {
                    reason: String::new(),
                },
            };
            assert_eq!(blank(&got), want, "{text}");
            assert!(got.to_string().contains(&text), "{got} should carry {text}");
        }
    }
}
