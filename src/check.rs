//! The names of the verification checks a release can fail: the `check` of
//! `LiveshipError::Verification`; and of the limits that end a retrieval (`fetch.tooSlow`,
//! `update.deadlineExceeded`): the `check` of `LiveshipError::Network`. Each internal error variant that is a verification failure maps
//! to one [`Check`] in an exhaustive `match` (`ffi/error.rs`), so a new variant does not compile
//! until it is named here. The strings are public API (apps match on them): never rename one.

/// A verification check, named `<layer>.<variant in lowerCamel>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// `release.envelopeMalformed`
    ReleaseEnvelopeMalformed,
    /// `release.envelopeTooLarge`
    ReleaseEnvelopeTooLarge,
    /// `release.payloadType`
    ReleasePayloadType,
    /// `release.noSignatures`
    ReleaseNoSignatures,
    /// `release.unknownKey`
    ReleaseUnknownKey,
    /// `release.signatureInvalid`
    ReleaseSignatureInvalid,
    /// `release.keyNotAllowedForChannel`
    ReleaseKeyNotAllowedForChannel,
    /// `release.manifestMalformed`
    ReleaseManifestMalformed,
    /// `release.fieldInvalid`
    ReleaseFieldInvalid,
    /// `release.invalidKey`
    ReleaseInvalidKey,
    /// `policy.wrongApp`
    PolicyWrongApp,
    /// `policy.wrongChannel`
    PolicyWrongChannel,
    /// `policy.expired`
    PolicyExpired,
    /// `policy.rollback`
    PolicyRollback,
    /// `policy.upToDate`
    PolicyUpToDate,
    /// `policy.blocklisted`
    PolicyBlocklisted,
    /// `policy.notInRollout`
    PolicyNotInRollout,
    /// `install.objectSize`
    InstallObjectSize,
    /// `install.objectHash`
    InstallObjectHash,
    /// `install.missingBundleKey`
    InstallMissingBundleKey,
    /// `install.unsupportedEncryption`
    InstallUnsupportedEncryption,
    /// `install.malformedEncryption`
    InstallMalformedEncryption,
    /// `install.notNewer`
    InstallNotNewer,
    /// `install.blocklisted`
    InstallBlocklisted,
    /// `crypto.segmentAuth`
    CryptoSegmentAuth,
    /// `crypto.truncated`
    CryptoTruncated,
    /// `crypto.tooLong`
    CryptoTooLong,
    /// `crypto.unwrapFailed`
    CryptoUnwrapFailed,
    /// `crypto.wrappedKeyLength`
    CryptoWrappedKeyLength,
    /// `unpack.destinationExists`
    UnpackDestinationExists,
    /// `unpack.tooManyEntries`
    UnpackTooManyEntries,
    /// `unpack.unsafePath`
    UnpackUnsafePath,
    /// `unpack.pathTooLong`
    UnpackPathTooLong,
    /// `unpack.tooDeep`
    UnpackTooDeep,
    /// `unpack.symlink`
    UnpackSymlink,
    /// `unpack.specialFile`
    UnpackSpecialFile,
    /// `unpack.badDirectoryEntry`
    UnpackBadDirectoryEntry,
    /// `unpack.encrypted`
    UnpackEncrypted,
    /// `unpack.unsupportedCompression`
    UnpackUnsupportedCompression,
    /// `unpack.totalSizeExceeded`
    UnpackTotalSizeExceeded,
    /// `unpack.overlap`
    UnpackOverlap,
    /// `unpack.duplicate`
    UnpackDuplicate,
    /// `unpack.caseCollision`
    UnpackCaseCollision,
    /// `unpack.fileDirConflict`
    UnpackFileDirConflict,
    /// `unpack.duplicateInList`
    UnpackDuplicateInList,
    /// `unpack.unexpectedFile`
    UnpackUnexpectedFile,
    /// `unpack.missingFile`
    UnpackMissingFile,
    /// `unpack.sizeMismatch`
    UnpackSizeMismatch,
    /// `unpack.sizeExceeded`
    UnpackSizeExceeded,
    /// `unpack.hashMismatch`
    UnpackHashMismatch,
    /// `unpack.entryCorrupt`
    UnpackEntryCorrupt,
    /// `unpack.zip`
    UnpackZip,
    /// `fetch.hashMismatch`
    FetchHashMismatch,
    /// `fetch.tooSlow` (a `Network` error: below the minimum transfer rate)
    FetchTooSlow,
    /// `update.deadlineExceeded` (a `Network` error: `updateTimeout` passed)
    UpdateDeadlineExceeded,
    /// `delta.mismatch`
    DeltaMismatch,
    /// `delta.badUrl`
    DeltaBadUrl,
    /// `capgo.malformedSessionKey`
    CapgoMalformedSessionKey,
    /// `capgo.sessionKeyNotForThisKey`
    CapgoSessionKeyNotForThisKey,
    /// `capgo.unsignedChecksum`
    CapgoUnsignedChecksum,
    /// `capgo.malformedChecksum`
    CapgoMalformedChecksum,
    /// `capgo.checksumSignatureInvalid`
    CapgoChecksumSignatureInvalid,
    /// `capgo.checksumMismatch`
    CapgoChecksumMismatch,
    /// `capgo.decryptFailed`
    CapgoDecryptFailed,
    /// `capgo.noIndexHtml`
    CapgoNoIndexHtml,
    /// `capgo.brotliFailed`
    CapgoBrotliFailed,
    /// `capgo.tooLarge`
    CapgoTooLarge,
}

impl Check {
    /// Every check, in declaration order.
    pub const ALL: &'static [Check] = &[
        Check::ReleaseEnvelopeMalformed,
        Check::ReleaseEnvelopeTooLarge,
        Check::ReleasePayloadType,
        Check::ReleaseNoSignatures,
        Check::ReleaseUnknownKey,
        Check::ReleaseSignatureInvalid,
        Check::ReleaseKeyNotAllowedForChannel,
        Check::ReleaseManifestMalformed,
        Check::ReleaseFieldInvalid,
        Check::ReleaseInvalidKey,
        Check::PolicyWrongApp,
        Check::PolicyWrongChannel,
        Check::PolicyExpired,
        Check::PolicyRollback,
        Check::PolicyUpToDate,
        Check::PolicyBlocklisted,
        Check::PolicyNotInRollout,
        Check::InstallObjectSize,
        Check::InstallObjectHash,
        Check::InstallMissingBundleKey,
        Check::InstallUnsupportedEncryption,
        Check::InstallMalformedEncryption,
        Check::InstallNotNewer,
        Check::InstallBlocklisted,
        Check::CryptoSegmentAuth,
        Check::CryptoTruncated,
        Check::CryptoTooLong,
        Check::CryptoUnwrapFailed,
        Check::CryptoWrappedKeyLength,
        Check::UnpackDestinationExists,
        Check::UnpackTooManyEntries,
        Check::UnpackUnsafePath,
        Check::UnpackPathTooLong,
        Check::UnpackTooDeep,
        Check::UnpackSymlink,
        Check::UnpackSpecialFile,
        Check::UnpackBadDirectoryEntry,
        Check::UnpackEncrypted,
        Check::UnpackUnsupportedCompression,
        Check::UnpackTotalSizeExceeded,
        Check::UnpackOverlap,
        Check::UnpackDuplicate,
        Check::UnpackCaseCollision,
        Check::UnpackFileDirConflict,
        Check::UnpackDuplicateInList,
        Check::UnpackUnexpectedFile,
        Check::UnpackMissingFile,
        Check::UnpackSizeMismatch,
        Check::UnpackSizeExceeded,
        Check::UnpackHashMismatch,
        Check::UnpackEntryCorrupt,
        Check::UnpackZip,
        Check::FetchHashMismatch,
        Check::FetchTooSlow,
        Check::UpdateDeadlineExceeded,
        Check::DeltaMismatch,
        Check::DeltaBadUrl,
        Check::CapgoMalformedSessionKey,
        Check::CapgoSessionKeyNotForThisKey,
        Check::CapgoUnsignedChecksum,
        Check::CapgoMalformedChecksum,
        Check::CapgoChecksumSignatureInvalid,
        Check::CapgoChecksumMismatch,
        Check::CapgoDecryptFailed,
        Check::CapgoNoIndexHtml,
        Check::CapgoBrotliFailed,
        Check::CapgoTooLarge,
    ];

    /// The public name (`release.signatureInvalid`, `unpack.hashMismatch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Check::ReleaseEnvelopeMalformed => "release.envelopeMalformed",
            Check::ReleaseEnvelopeTooLarge => "release.envelopeTooLarge",
            Check::ReleasePayloadType => "release.payloadType",
            Check::ReleaseNoSignatures => "release.noSignatures",
            Check::ReleaseUnknownKey => "release.unknownKey",
            Check::ReleaseSignatureInvalid => "release.signatureInvalid",
            Check::ReleaseKeyNotAllowedForChannel => "release.keyNotAllowedForChannel",
            Check::ReleaseManifestMalformed => "release.manifestMalformed",
            Check::ReleaseFieldInvalid => "release.fieldInvalid",
            Check::ReleaseInvalidKey => "release.invalidKey",
            Check::PolicyWrongApp => "policy.wrongApp",
            Check::PolicyWrongChannel => "policy.wrongChannel",
            Check::PolicyExpired => "policy.expired",
            Check::PolicyRollback => "policy.rollback",
            Check::PolicyUpToDate => "policy.upToDate",
            Check::PolicyBlocklisted => "policy.blocklisted",
            Check::PolicyNotInRollout => "policy.notInRollout",
            Check::InstallObjectSize => "install.objectSize",
            Check::InstallObjectHash => "install.objectHash",
            Check::InstallMissingBundleKey => "install.missingBundleKey",
            Check::InstallUnsupportedEncryption => "install.unsupportedEncryption",
            Check::InstallMalformedEncryption => "install.malformedEncryption",
            Check::InstallNotNewer => "install.notNewer",
            Check::InstallBlocklisted => "install.blocklisted",
            Check::CryptoSegmentAuth => "crypto.segmentAuth",
            Check::CryptoTruncated => "crypto.truncated",
            Check::CryptoTooLong => "crypto.tooLong",
            Check::CryptoUnwrapFailed => "crypto.unwrapFailed",
            Check::CryptoWrappedKeyLength => "crypto.wrappedKeyLength",
            Check::UnpackDestinationExists => "unpack.destinationExists",
            Check::UnpackTooManyEntries => "unpack.tooManyEntries",
            Check::UnpackUnsafePath => "unpack.unsafePath",
            Check::UnpackPathTooLong => "unpack.pathTooLong",
            Check::UnpackTooDeep => "unpack.tooDeep",
            Check::UnpackSymlink => "unpack.symlink",
            Check::UnpackSpecialFile => "unpack.specialFile",
            Check::UnpackBadDirectoryEntry => "unpack.badDirectoryEntry",
            Check::UnpackEncrypted => "unpack.encrypted",
            Check::UnpackUnsupportedCompression => "unpack.unsupportedCompression",
            Check::UnpackTotalSizeExceeded => "unpack.totalSizeExceeded",
            Check::UnpackOverlap => "unpack.overlap",
            Check::UnpackDuplicate => "unpack.duplicate",
            Check::UnpackCaseCollision => "unpack.caseCollision",
            Check::UnpackFileDirConflict => "unpack.fileDirConflict",
            Check::UnpackDuplicateInList => "unpack.duplicateInList",
            Check::UnpackUnexpectedFile => "unpack.unexpectedFile",
            Check::UnpackMissingFile => "unpack.missingFile",
            Check::UnpackSizeMismatch => "unpack.sizeMismatch",
            Check::UnpackSizeExceeded => "unpack.sizeExceeded",
            Check::UnpackHashMismatch => "unpack.hashMismatch",
            Check::UnpackEntryCorrupt => "unpack.entryCorrupt",
            Check::UnpackZip => "unpack.zip",
            Check::FetchHashMismatch => "fetch.hashMismatch",
            Check::FetchTooSlow => "fetch.tooSlow",
            Check::UpdateDeadlineExceeded => "update.deadlineExceeded",
            Check::DeltaMismatch => "delta.mismatch",
            Check::DeltaBadUrl => "delta.badUrl",
            Check::CapgoMalformedSessionKey => "capgo.malformedSessionKey",
            Check::CapgoSessionKeyNotForThisKey => "capgo.sessionKeyNotForThisKey",
            Check::CapgoUnsignedChecksum => "capgo.unsignedChecksum",
            Check::CapgoMalformedChecksum => "capgo.malformedChecksum",
            Check::CapgoChecksumSignatureInvalid => "capgo.checksumSignatureInvalid",
            Check::CapgoChecksumMismatch => "capgo.checksumMismatch",
            Check::CapgoDecryptFailed => "capgo.decryptFailed",
            Check::CapgoNoIndexHtml => "capgo.noIndexHtml",
            Check::CapgoBrotliFailed => "capgo.brotliFailed",
            Check::CapgoTooLarge => "capgo.tooLarge",
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_name_is_unique_and_lower_camel_after_the_layer() {
        let mut seen = std::collections::HashSet::new();
        for c in Check::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} named twice");
            let (layer, name) = s
                .split_once('.')
                .unwrap_or_else(|| panic!("{s} has no layer"));
            assert!(
                !layer.is_empty() && layer.chars().all(|c| c.is_ascii_lowercase()),
                "{s}"
            );
            let mut chars = name.chars();
            assert!(chars.next().is_some_and(|c| c.is_ascii_lowercase()), "{s}");
            assert!(chars.all(|c| c.is_ascii_alphanumeric()), "{s}");
        }
    }

    /// docs/API.md lists the names an app can see; the list must be `Check::ALL`, no more, no
    /// fewer, so the documentation cannot drift from the code.
    #[test]
    fn the_documented_check_names_are_exactly_the_checks() {
        let doc = include_str!("../docs/API.md");
        let start = doc
            .find("The `check` of `Verification` is one of these names")
            .expect("the check list in docs/API.md");
        let list = &doc[start..];
        let list = &list[..list.find("\n\n").unwrap() + 2];
        let list = &doc[start + list.len()..];
        let list = &list[..list.find("\n\n").expect("end of the check list")];
        let mut documented: Vec<&str> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| n.contains('.'))
            .collect();
        documented.sort_unstable();
        let mut actual: Vec<&str> = Check::ALL.iter().map(|c| c.as_str()).collect();
        actual.sort_unstable();
        assert_eq!(documented, actual);
    }
}
