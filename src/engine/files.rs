//! What the release on offer would download (Capgo's `getMissingBundleFiles` and
//! `getBundleDownloadSize`), from its signed file list: the files this device already has (by
//! SHA-256, in installed bundles or the built-in bundle) are reused by a delta, the rest are
//! fetched. A query: nothing is downloaded, reported or announced.

use std::collections::HashSet;

use super::update::UpdatePhase;
use super::{CoreError, Engine};
use crate::delta;

/// One file of the release on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedFile {
    pub path: String,
    /// Lowercase hex SHA-256 of its content, as signed.
    pub sha256: String,
    /// Bytes its object weighs on the wire.
    pub size: u64,
    /// Where its object is fetched from (`None`: the release offers no per-file objects).
    pub url: Option<String>,
    /// The device has a file with this content: a delta reuses it.
    pub local: bool,
}

/// The release on offer and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub version: String,
    /// The whole bundle's size: what a full download fetches.
    pub bundle_size: u64,
    pub files: Vec<OfferedFile>,
}

impl Engine {
    /// The SHA-256 of every file this device holds (installed bundles, the built-in bundle).
    pub fn local_file_hashes(&self) -> Result<HashSet<String>, CoreError> {
        let cfg = &self.inner.config;
        let index = delta::local_index(&mut self.store(), &cfg.builtin_dir, &cfg.native_version)?;
        Ok(index.into_keys().collect())
    }

    /// The release a check finds on offer now, file by file; `None` when there is none (the
    /// check's reason is not needed here: `getLatest` gives it).
    pub fn offered_files(&self) -> Result<Option<Offered>, CoreError> {
        let limits = self.update_limits(None);
        let found = self.run(self.find_candidate(), &limits, UpdatePhase::Manifest)??;
        let Ok(c) = found.into_candidate() else {
            return Ok(None);
        };
        let m = &c.verified.manifest;
        let local = self.local_file_hashes()?;
        let encrypted = m.bundle.encryption.is_some();
        let base = m.delta.as_ref().and_then(|d| c.url.join(&d.url).ok());
        let files = m
            .files
            .iter()
            .map(|f| OfferedFile {
                path: f.path.clone(),
                sha256: f.sha256.clone(),
                size: delta::object_size(f, encrypted),
                url: base
                    .as_ref()
                    .and_then(|b| b.join(&f.sha256).ok())
                    .map(|u| u.to_string()),
                local: local.contains(&f.sha256),
            })
            .collect();
        Ok(Some(Offered {
            version: m.version.clone(),
            bundle_size: m.bundle.size,
            files,
        }))
    }
}
