//! Safe extraction of a bundle zip into a fresh directory, with budgets, checked against the
//! signed file list.
//!
//! The zip is untrusted even when the manifest that names it is authentic, so everything about
//! it is checked before a byte is written. First the end of the central directory alone: an
//! entry count over the budget or a directory larger than [`max_directory_size`] is refused
//! before the zip reader parses a record (it keeps every record in memory). Then the records:
//! entry count, names (no absolute paths, `..`, `.`, empty components, backslashes, control
//! characters, drive letters), path length and depth, entry types (regular files and
//! consistent directory entries only: no symlinks, no special files), encryption, compression
//! (stored or deflate), duplicate names and names that would be one file on a case-insensitive,
//! normalization-insensitive file system (APFS, the default on iOS; compared by
//! [`name_key`]: NFC, then lowercase), the layout (every entry's local header and data in its
//! own byte range, none overlapping another or the central directory: one stored copy
//! cannot be extracted as many files), declared sizes against the total budget, and the set of
//! file entries against the signed list. While streaming each file to disk, its actual bytes
//! are counted (a zip that lies about sizes is stopped as soon as it exceeds the signed size)
//! and hashed. There is no compression-ratio rule: each file is bounded by its signed size and
//! the sum by the total budget, which bound the work whatever the ratio.
//!
//! [`check_file_list`] applies the same budgets and name rules to a plain list of paths and
//! sizes, so the publisher refuses what devices would refuse, with the same error.
//!
//! Guarantees of [`extract_verified`]: on `Ok`, `dest` holds exactly the signed files, each with
//! its signed size and SHA-256, and the tree is durable (every file and directory fsynced,
//! children before parents, and `dest`'s parent). On `Err`, whatever was written under `dest`
//! has been removed (best effort: a crash mid-way can leave a partial `dest`, which the caller
//! treats as staging garbage). Memory stays bounded: the central directory is bounded before
//! it is parsed, and each file is streamed through one buffer.
mod directory;
mod error;
mod extract;
mod names;
mod plan;
mod verify;

pub use directory::{max_directory_size, DIRECTORY_EXTRA_PER_ENTRY};
pub use error::UnpackError;
pub use names::{check_file_list, name_key};
pub use verify::{check_dir, check_listing};

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::Path;

use zip::ZipArchive;

use crate::fs::io;
use crate::release::FileEntry;

/// Limits that bound the work, memory and disk an untrusted zip can cause. The default is the
/// one definition devices, `verify` and `pack` use (docs/FORMAT.md section 4.4).
#[derive(Debug, Clone)]
pub struct Budgets {
    /// Total uncompressed bytes across all entries.
    pub max_total_bytes: u64,
    pub max_entries: usize,
    /// Longest entry path, in bytes.
    pub max_path_len: usize,
    /// Most path components in one entry.
    pub max_depth: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_total_bytes: 512 * 1024 * 1024,
            max_entries: 20_000,
            max_path_len: 512,
            max_depth: 32,
        }
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub files: usize,
    pub bytes: u64,
}

/// Size of the one buffer each file is streamed through.
const COPY_BUFFER: usize = 64 * 1024;

/// Extracts `zip_path` into `dest` (created; must not exist, its parent must) and checks it
/// against `files`.
///
/// Every check in the module docs runs before anything is written; sizes and hashes are checked
/// again on the actual bytes while streaming. On `Ok` the tree is durable; on `Err` nothing
/// written under `dest` remains (best effort) and `dest` does not exist, unless the error is
/// [`UnpackError::DestinationExists`], in which case `dest` is left untouched.
pub fn extract_verified(
    zip_path: &Path,
    files: &[FileEntry],
    dest: &Path,
    budgets: &Budgets,
) -> Result<Extracted, UnpackError> {
    if fs::symlink_metadata(dest).is_ok() {
        return Err(UnpackError::DestinationExists {
            path: dest.to_path_buf(),
        });
    }
    let Opened {
        mut archive,
        directory,
        raw,
    } = open_bounded(zip_path, budgets)?;
    let plan = plan::plan(&mut archive, zip_path, &raw, &directory, files, budgets)?;

    fs::create_dir(dest).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            UnpackError::DestinationExists {
                path: dest.to_path_buf(),
            }
        } else {
            io("creating directory", dest)(source).into()
        }
    })?;
    match extract::write_tree(&mut archive, &plan, dest, budgets) {
        Ok(extracted) => Ok(extracted),
        Err(e) => {
            // Best effort: the error being returned is the one that matters.
            let _ = fs::remove_dir_all(dest);
            Err(e)
        }
    }
}

/// A zip opened by the zip reader after its end record and raw directory records passed the
/// budgets.
struct Opened {
    archive: ZipArchive<directory::Fence<BufReader<File>>>,
    directory: directory::Directory,
    raw: plan::RawDirectory,
}

/// Opens `zip_path` for reading: the end record and the raw central directory records (names,
/// count, size) are checked against `budgets` before the zip reader parses anything, and the
/// reader is fenced to the checked directory while it does.
fn open_bounded(zip_path: &Path, budgets: &Budgets) -> Result<Opened, UnpackError> {
    let mut file = File::open(zip_path).map_err(io("opening zip", zip_path))?;
    let directory = directory::locate(&mut file, zip_path, budgets)?;
    let raw = plan::scan_directory(&file, zip_path, &directory, budgets)?;
    let (fenced, fence) = directory::Fence::new(BufReader::new(file), directory.start)
        .map_err(io("reading zip", zip_path))?;
    let config = zip::read::Config {
        archive_offset: zip::read::ArchiveOffset::Known(directory.archive_offset),
    };
    let archive = ZipArchive::with_config(config, fenced)?;
    fence.lift();
    Ok(Opened {
        archive,
        directory,
        raw,
    })
}

/// The file list of a zip that was authenticated as a whole (a Capgo bundle whose RSA-signed
/// checksum verified, `crate::capgo`), to extract it with [`extract_verified`]: each file
/// entry's path, size and SHA-256, in zip order. Directory entries are not listed. Read under
/// the same budgets as extraction: the end record and central directory are bounded before the
/// zip reader parses them, and each entry is read through one buffer, at most its recorded size
/// (more is [`UnpackError::SizeExceeded`]) and at most the total budget overall. Names, types
/// and layout are checked by [`extract_verified`] itself.
pub fn list_zip(zip_path: &Path, budgets: &Budgets) -> Result<Vec<FileEntry>, UnpackError> {
    use sha2::{Digest, Sha256};
    let mut archive = open_bounded(zip_path, budgets)?.archive;
    let mut files = Vec::new();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; COPY_BUFFER];
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index)?;
        if entry.is_dir() {
            continue;
        }
        let path = entry.name().to_string();
        let recorded = entry.size();
        let mut hash = Sha256::new();
        let mut size: u64 = 0;
        loop {
            let n = io::Read::read(&mut entry, &mut buf).map_err(|source| {
                UnpackError::EntryCorrupt {
                    name: path.clone(),
                    source,
                }
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > recorded {
                return Err(UnpackError::SizeExceeded {
                    path,
                    limit: recorded,
                });
            }
            if total + size > budgets.max_total_bytes {
                return Err(UnpackError::TotalSizeExceeded {
                    limit: budgets.max_total_bytes,
                });
            }
            hash.update(&buf[..n]);
        }
        total += size;
        files.push(FileEntry {
            path,
            size,
            sha256: hex::encode(hash.finalize()),
        });
    }
    Ok(files)
}

/// The signed list by path; a path listed twice is refused (it could not be told apart).
fn signed_index(files: &[FileEntry]) -> Result<HashMap<&str, &FileEntry>, UnpackError> {
    let mut signed: HashMap<&str, &FileEntry> = HashMap::with_capacity(files.len());
    for f in files {
        if signed.insert(f.path.as_str(), f).is_some() {
            return Err(UnpackError::DuplicateInList {
                path: f.path.clone(),
            });
        }
    }
    Ok(signed)
}
