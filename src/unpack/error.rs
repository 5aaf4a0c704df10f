//! Which check an extraction (or a re-verification) failed: one variant per rule.

use std::io;
use std::path::PathBuf;

use crate::fs::IoError;

/// Which check an extraction (or a re-verification) failed.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("destination {} already exists", path.display())]
    DestinationExists { path: PathBuf },
    #[error("zip has {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    #[error(
        "zip central directory is {size} bytes, more than the limit of {limit} \
         (the entry budget times the largest record it allows)"
    )]
    DirectoryTooLarge { size: u64, limit: u64 },
    #[error("zip central directory is malformed: {reason}")]
    MalformedDirectory { reason: &'static str },
    #[error("zip entry {name:?} has an unsafe path: {reason}")]
    UnsafePath { name: String, reason: &'static str },
    #[error("zip entry {name:?} has a path of {len} bytes, longer than the limit of {limit}")]
    PathTooLong {
        name: String,
        len: usize,
        limit: usize,
    },
    #[error("zip entry {name:?} is {depth} levels deep, deeper than the limit of {limit}")]
    TooDeep {
        name: String,
        depth: usize,
        limit: usize,
    },
    #[error("zip entry {name:?} is a symbolic link")]
    Symlink { name: String },
    #[error("zip entry {name:?} is a special file (mode {mode:o}), not a regular file")]
    SpecialFile { name: String, mode: u32 },
    #[error("zip entry {name:?} is an inconsistent directory entry ({reason})")]
    BadDirectoryEntry { name: String, reason: &'static str },
    #[error("zip entry {name:?} is encrypted")]
    Encrypted { name: String },
    #[error("zip entry {name:?} uses compression {method}; only stored and deflate are allowed")]
    UnsupportedCompression { name: String, method: String },
    #[error("zip entries total more than the limit of {limit} uncompressed bytes")]
    TotalSizeExceeded { limit: u64 },
    #[error("zip entries {a:?} and {b:?} overlap: their bytes share a range of the zip")]
    Overlap { a: String, b: String },
    #[error("zip entry {name:?} overlaps the central directory")]
    OverlapsDirectory { name: String },
    #[error("zip entry {name:?} appears more than once")]
    Duplicate { name: String },
    /// The two names are one file on a case-insensitive or normalization-insensitive file
    /// system (APFS on iOS): equal after Unicode NFC and lowercasing ([`super::name_key`]).
    #[error("zip entries {a:?} and {b:?} differ only in case or Unicode normalization")]
    CaseCollision { a: String, b: String },
    #[error("zip entry {name:?} is both a file and a directory")]
    FileDirConflict { name: String },
    #[error("signed file list names {path:?} more than once")]
    DuplicateInList { path: String },
    #[error("{name:?} is not in the signed file list")]
    UnexpectedFile { name: String },
    #[error("signed file {path:?} is missing")]
    MissingFile { path: String },
    #[error("file {path:?} is {got} bytes, the signed size is {expected}")]
    SizeMismatch {
        path: String,
        expected: u64,
        got: u64,
    },
    #[error("zip entry {path:?} decompresses to more than its signed size of {limit} bytes")]
    SizeExceeded { path: String, limit: u64 },
    #[error("file {path:?} does not match its signed SHA-256")]
    HashMismatch { path: String },
    #[error("zip entry {name:?} is corrupt: {source}")]
    EntryCorrupt {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("zip archive is malformed: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Reading the zip or writing the tree failed; the path, operation and hint are in the
    /// [`IoError`], printed once.
    #[error(transparent)]
    Io(#[from] IoError),
}
