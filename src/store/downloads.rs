//! The `downloads/` folder of the data directory: a full bundle's partial download
//! (`<sha256>.part`, resumed by the next attempt) and a delta's work folder
//! (`<bundle id>.delta/`, fetched objects and the tree they build). Nothing here decides what
//! boots; a lost or pruned entry only costs a download.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Store, StoreError};
use crate::fs::{io, remove_any};

impl Store {
    /// The downloads folder, created if needed.
    pub fn downloads_dir(&self) -> Result<PathBuf, StoreError> {
        let dir = self.root().join("downloads");
        fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
        Ok(dir)
    }

    /// Where the full bundle object with digest `sha256` is downloaded (and resumed).
    pub fn partial_download(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        Ok(self.downloads_dir()?.join(format!("{sha256}.part")))
    }

    /// The work folder of a delta build of bundle `id`.
    pub fn delta_work_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.downloads_dir()?.join(format!("{id}.delta")))
    }

    /// Removes partial downloads and delta work folders other than `keep` (a newer release
    /// replaced them). Best effort: what cannot be removed now is removed next time.
    pub fn prune_downloads(&self, keep: &Path) {
        let Ok(dir) = self.downloads_dir() else {
            return;
        };
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                let stale_part = p.extension().is_some_and(|x| x == "part");
                let stale_delta = p.extension().is_some_and(|x| x == "delta");
                if p != keep && (stale_part || stale_delta) {
                    let _ = remove_any(&p);
                }
            }
        }
    }
}
