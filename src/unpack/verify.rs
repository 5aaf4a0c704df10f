//! Re-verification of an installed or assembled tree against the signed file list.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{signed_index, UnpackError};
use crate::fs::io;
use crate::release::FileEntry;

/// Re-verifies that `dir` holds exactly the files of `files`: no extra file, none missing, no
/// symlink or special file, and every file with its signed size and SHA-256. Empty directories
/// are ignored (extraction never creates them). Files are hashed in a stream.
pub fn check_dir(dir: &Path, files: &[FileEntry]) -> Result<(), UnpackError> {
    let found = listing(dir, files)?;
    for f in files {
        let abs = &found[&f.path];
        let file = File::open(abs).map_err(io("opening file", abs))?;
        // One byte past the signed size is enough to know it is too long.
        let (size, sha256) = crate::crypto::sha256_reader(file.take(f.size.saturating_add(1)))
            .map_err(io("reading file", abs))?;
        if size != f.size {
            let got = fs::metadata(abs).map(|m| m.len()).unwrap_or(size);
            return Err(UnpackError::SizeMismatch {
                path: f.path.clone(),
                expected: f.size,
                got,
            });
        }
        if !sha256.eq_ignore_ascii_case(&f.sha256) {
            return Err(UnpackError::HashMismatch {
                path: f.path.clone(),
            });
        }
    }
    Ok(())
}

/// Checks that `dir` holds exactly the paths of `files` (no extra file, none missing, no symlink
/// or special file) without reading any file: for a tree whose files were each hashed as they
/// were written (a delta's [`Assembled`](crate::delta::Assembled) tree). Returns the files found.
pub fn check_listing(dir: &Path, files: &[FileEntry]) -> Result<(), UnpackError> {
    listing(dir, files).map(drop)
}

fn listing(dir: &Path, files: &[FileEntry]) -> Result<BTreeMap<String, PathBuf>, UnpackError> {
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        let entries = fs::read_dir(&abs).map_err(io("reading directory", &abs))?;
        for entry in entries {
            let entry = entry.map_err(io("reading directory", &abs))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let child_abs = entry.path();
            let meta = fs::symlink_metadata(&child_abs).map_err(io("inspecting", &child_abs))?;
            let ft = meta.file_type();
            if ft.is_symlink() {
                return Err(UnpackError::Symlink { name: child_rel });
            } else if ft.is_dir() {
                stack.push((child_abs, child_rel));
            } else if ft.is_file() {
                found.insert(child_rel, child_abs);
            } else {
                return Err(UnpackError::SpecialFile {
                    name: child_rel,
                    mode: file_mode(&meta),
                });
            }
        }
    }

    let signed = signed_index(files)?;
    if let Some(extra) = found.keys().find(|k| !signed.contains_key(k.as_str())) {
        return Err(UnpackError::UnexpectedFile {
            name: extra.clone(),
        });
    }
    if let Some(missing) = files.iter().find(|f| !found.contains_key(&f.path)) {
        return Err(UnpackError::MissingFile {
            path: missing.path.clone(),
        });
    }
    Ok(found)
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode()
}

#[cfg(not(unix))]
fn file_mode(_meta: &fs::Metadata) -> u32 {
    0
}
