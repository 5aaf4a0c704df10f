//! The checks that run before a byte is written: the raw central directory (entry count,
//! duplicates the zip crate would hide, over-long names), each entry's name, type, encryption,
//! compression, declared size against the budgets and the per-entry ratio, and the set of file
//! entries against the signed list.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use super::names::{check_path, Kind, NameTable};
use super::{signed_index, Budgets, UnpackError, RATIO_EXEMPT_BYTES};
use crate::fs::io;
use crate::release::FileEntry;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Signature of a central directory file header.
const CDFH_SIGNATURE: u32 = 0x0201_4b50;
/// Fixed part of a central directory file header.
const CDFH_LEN: usize = 46;

/// One file entry of the zip, checked and matched to its signed entry.
pub(super) struct PlannedFile<'a> {
    pub(super) index: usize,
    pub(super) signed: &'a FileEntry,
}

/// Runs every check that needs no writing and returns the file entries to extract, in zip order.
pub(super) fn plan<'a, R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    zip_path: &Path,
    files: &'a [FileEntry],
    budgets: &Budgets,
) -> Result<Vec<PlannedFile<'a>>, UnpackError> {
    // The zip crate keys entries by name and silently keeps one of several with the same name,
    // so count and compare the raw central directory records ourselves.
    let raw_names =
        raw_central_names(archive, zip_path, budgets.max_entries, budgets.max_path_len)?;
    if raw_names.len() > budgets.max_entries {
        return Err(UnpackError::TooManyEntries {
            count: raw_names.len().max(archive.len()),
            limit: budgets.max_entries,
        });
    }
    let mut seen_raw = HashSet::new();
    for name in &raw_names {
        if !seen_raw.insert(name.as_slice()) {
            return Err(UnpackError::Duplicate {
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
    }
    if raw_names.len() != archive.len() {
        // Distinct raw names that decode to the same text (e.g. CP437 and UTF-8 spellings).
        return Err(UnpackError::Duplicate {
            name: format!(
                "({} central directory records, {} distinct decoded names)",
                raw_names.len(),
                archive.len()
            ),
        });
    }

    let mut signed = signed_index(files)?;

    let mut names = NameTable::default();
    let mut planned = Vec::new();
    let mut declared_total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index)?;
        let name = entry.name().to_string();
        let is_dir_name = name.ends_with('/');
        let path = if is_dir_name {
            &name[..name.len() - 1]
        } else {
            name.as_str()
        };
        check_path(&name, path, budgets)?;

        let mode = entry.unix_mode().unwrap_or(0);
        let kind = mode & S_IFMT;
        match kind {
            S_IFLNK => return Err(UnpackError::Symlink { name }),
            0 | S_IFREG | S_IFDIR => {}
            _ => return Err(UnpackError::SpecialFile { name, mode }),
        }
        if entry.encrypted() {
            return Err(UnpackError::Encrypted { name });
        }
        let method = entry.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(UnpackError::UnsupportedCompression {
                name,
                method: format!("{method:?}"),
            });
        }

        let size = entry.size();
        if is_dir_name || kind == S_IFDIR {
            if !is_dir_name {
                return Err(UnpackError::BadDirectoryEntry {
                    name,
                    reason: "directory mode on a name without a trailing '/'",
                });
            }
            if kind == S_IFREG {
                return Err(UnpackError::BadDirectoryEntry {
                    name,
                    reason: "regular-file mode on a name with a trailing '/'",
                });
            }
            if size != 0 {
                return Err(UnpackError::BadDirectoryEntry {
                    name,
                    reason: "directory entry with content",
                });
            }
            names.add(path, Kind::Dir)?;
            continue;
        }

        declared_total =
            declared_total
                .checked_add(size)
                .ok_or(UnpackError::TotalSizeExceeded {
                    limit: budgets.max_total_bytes,
                })?;
        if declared_total > budgets.max_total_bytes {
            return Err(UnpackError::TotalSizeExceeded {
                limit: budgets.max_total_bytes,
            });
        }
        if size > RATIO_EXEMPT_BYTES {
            let ratio = size / entry.compressed_size().max(1);
            if ratio > budgets.max_ratio {
                return Err(UnpackError::RatioExceeded {
                    name,
                    ratio,
                    limit: budgets.max_ratio,
                });
            }
        }
        names.add(path, Kind::File)?;

        let Some(signed_entry) = signed.remove(path) else {
            return Err(UnpackError::UnexpectedFile { name });
        };
        if signed_entry.size != size {
            return Err(UnpackError::SizeMismatch {
                path: name,
                expected: signed_entry.size,
                got: size,
            });
        }
        planned.push(PlannedFile {
            index,
            signed: signed_entry,
        });
    }
    // Report the first missing file in signed-list order, so the error is deterministic.
    if let Some(missing) = files.iter().find(|f| signed.contains_key(f.path.as_str())) {
        return Err(UnpackError::MissingFile {
            path: missing.path.clone(),
        });
    }
    Ok(planned)
}

/// Raw names of the central directory records, at most `limit + 1` of them; a name longer than
/// `max_path_len` (plus a directory's trailing `/`) is rejected here already.
fn raw_central_names<R: Read + Seek>(
    archive: &ZipArchive<R>,
    zip_path: &Path,
    limit: usize,
    max_path_len: usize,
) -> Result<Vec<Vec<u8>>, UnpackError> {
    let file = File::open(zip_path).map_err(io("opening zip", zip_path))?;
    let mut r = BufReader::new(file);
    r.seek(SeekFrom::Start(archive.central_directory_start()))
        .map_err(io("reading central directory of", zip_path))?;
    let mut names = Vec::new();
    let mut header = [0u8; CDFH_LEN];
    while names.len() <= limit {
        match r.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io("reading central directory of", zip_path)(e).into()),
        }
        if u32::from_le_bytes([header[0], header[1], header[2], header[3]]) != CDFH_SIGNATURE {
            break;
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name)
            .map_err(io("reading central directory of", zip_path))?;
        // Decoding never makes a name shorter, so this is the same verdict the per-entry check
        // would give, and it bounds what this scan holds to `limit + 1` short names.
        if name_len > max_path_len + 1 {
            return Err(UnpackError::PathTooLong {
                name: String::from_utf8_lossy(&name).into_owned(),
                len: name_len,
                limit: max_path_len,
            });
        }
        r.seek_relative((extra_len + comment_len) as i64)
            .map_err(io("reading central directory of", zip_path))?;
        names.push(name);
    }
    Ok(names)
}
