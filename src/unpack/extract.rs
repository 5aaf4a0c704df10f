//! The extraction loop: streams each planned entry through one buffer into a new file, stops at
//! the first byte past its signed size, hashes it, fsyncs it, then fsyncs the directories
//! bottom-up and `dest`'s parent.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::ZipArchive;

use super::plan::PlannedFile;
use super::{Budgets, Extracted, UnpackError, COPY_BUFFER};
use crate::fs::{io, sync_dir};

/// Writes the planned files under `dest` (already created) and makes the tree durable.
pub(super) fn write_tree<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    plan: &[PlannedFile<'_>],
    dest: &Path,
    budgets: &Budgets,
) -> Result<Extracted, UnpackError> {
    // Directories in creation order: a parent always precedes its children.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut existing_dirs: HashSet<String> = HashSet::new();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut total: u64 = 0;

    for planned in plan {
        let rel = planned.signed.path.as_str();
        let mut end = 0;
        let components: Vec<&str> = rel.split('/').collect();
        for (i, component) in components[..components.len() - 1].iter().enumerate() {
            end += component.len() + usize::from(i > 0);
            let prefix = &rel[..end];
            if existing_dirs.insert(prefix.to_string()) {
                let dir = dest.join(prefix);
                fs::create_dir(&dir).map_err(io("creating directory", &dir))?;
                created_dirs.push(dir);
            }
        }

        let out_path = dest.join(rel);
        let mut entry = archive.by_index(planned.index)?;
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&out_path)
            .map_err(io("creating file", &out_path))?;
        let limit = planned.signed.size;
        let mut written: u64 = 0;
        let mut hasher = Sha256::new();
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(UnpackError::EntryCorrupt {
                        name: rel.to_string(),
                        source,
                    })
                }
            };
            // Stop at the first byte beyond the signed size: a zip may lie about its sizes.
            if written + n as u64 > limit {
                return Err(UnpackError::SizeExceeded {
                    path: rel.to_string(),
                    limit,
                });
            }
            // Implied by the per-file limits (signed sizes equal declared sizes, whose sum fits
            // the budget); kept so the budget holds on its own if those checks ever change.
            if total + n as u64 > budgets.max_total_bytes {
                return Err(UnpackError::TotalSizeExceeded {
                    limit: budgets.max_total_bytes,
                });
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(io("writing file", &out_path))?;
            written += n as u64;
            total += n as u64;
        }
        if written != limit {
            return Err(UnpackError::SizeMismatch {
                path: rel.to_string(),
                expected: limit,
                got: written,
            });
        }
        if !hex::encode(hasher.finalize()).eq_ignore_ascii_case(&planned.signed.sha256) {
            return Err(UnpackError::HashMismatch {
                path: rel.to_string(),
            });
        }
        // The file's data must be on disk before the directory entry that names it is made
        // durable, or a crash could leave a durable name pointing at missing data.
        out.sync_all().map_err(io("syncing file", &out_path))?;
    }

    // Directories bottom-up, then `dest`, then its parent (which holds `dest`'s own entry).
    for dir in created_dirs.iter().rev() {
        sync_dir(dir)?;
    }
    sync_dir(dest)?;
    if let Some(parent) = dest.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        sync_dir(parent)?;
    }
    Ok(Extracted {
        files: plan.len(),
        bytes: total,
    })
}
