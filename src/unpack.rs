//! Safe extraction of a bundle zip into a fresh directory, with budgets, checked against the
//! signed file list.
//!
//! (Interface fixed; implementation in progress on a branch.)

use std::path::Path;

use crate::release::FileEntry;

/// Limits that bound the work and disk an untrusted zip can cause.
#[derive(Debug, Clone)]
pub struct Budgets {
    /// Total uncompressed bytes across all entries.
    pub max_total_bytes: u64,
    pub max_entries: usize,
    /// Longest entry path, in bytes.
    pub max_path_len: usize,
    /// Most path components in one entry.
    pub max_depth: usize,
    /// Largest uncompressed/compressed ratio of one entry.
    pub max_ratio: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_total_bytes: 512 * 1024 * 1024,
            max_entries: 20_000,
            max_path_len: 512,
            max_depth: 32,
            max_ratio: 200,
        }
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("placeholder")]
    Placeholder,
}

/// Extracts `zip_path` into `dest` (created; must not exist) and checks it against `files`.
pub fn extract_verified(
    _zip_path: &Path,
    _files: &[FileEntry],
    _dest: &Path,
    _budgets: &Budgets,
) -> Result<Extracted, UnpackError> {
    unimplemented!("unpack branch")
}
