//! The checks that run before a byte is written: the raw central directory (every record
//! where the end record says, duplicates the zip crate would hide, over-long names), each
//! entry's name, type, encryption, compression and declared size against the budgets, the
//! layout (no entry's bytes overlap another's or the central directory), and the set of file
//! entries against the signed list.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use super::directory::{Directory, CDFH_LEN};
use super::names::{check_path, Kind, NameTable};
use super::{signed_index, Budgets, UnpackError};
use crate::fs::io;
use crate::release::FileEntry;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Signature of a central directory file header.
const CDFH_SIGNATURE: u32 = 0x0201_4b50;
/// Signature and fixed part of a local file header.
const LFH_SIGNATURE: u32 = 0x0403_4b50;
const LFH_LEN: usize = 30;

/// The raw central directory records, read before the zip reader parses them.
pub(super) struct RawDirectory {
    names: Vec<Vec<u8>>,
}

/// One file entry of the zip, checked and matched to its signed entry.
pub(super) struct PlannedFile<'a> {
    pub(super) index: usize,
    pub(super) signed: &'a FileEntry,
}

/// Runs every check that needs no writing and returns the file entries to extract, in zip order.
pub(super) fn plan<'a, R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    zip_path: &Path,
    raw: &RawDirectory,
    directory: &Directory,
    files: &'a [FileEntry],
    budgets: &Budgets,
) -> Result<Vec<PlannedFile<'a>>, UnpackError> {
    // The zip reader retries earlier end records when it rejects one: it must have read the
    // directory that was checked, not another.
    if archive.central_directory_start() != directory.start {
        return Err(UnpackError::MalformedDirectory {
            reason: "the zip reader found a different central directory than its end record names",
        });
    }
    // `directory.entries` records, at most `max_entries` (checked from the end record).
    let raw_names = &raw.names;
    let mut seen_raw = HashSet::new();
    for name in raw_names {
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
    // (local header offset, compressed size, name) of every entry, for the layout check.
    let mut spans: Vec<(u64, u64, String)> = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index)?;
        let name = entry.name().to_string();
        spans.push((entry.header_start(), entry.compressed_size(), name.clone()));
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
    check_layout(zip_path, spans, directory)?;
    // Report the first missing file in signed-list order, so the error is deterministic.
    if let Some(missing) = files.iter().find(|f| signed.contains_key(f.path.as_str())) {
        return Err(UnpackError::MissingFile {
            path: missing.path.clone(),
        });
    }
    Ok(planned)
}

/// Reads the `directory.entries` raw records of the checked central directory: each must start
/// with its signature and lie inside the directory, and together they must fill it exactly. A
/// name longer than `max_path_len` (plus a directory's trailing `/`) is rejected here already.
/// Holds at most `max_entries` names of at most `max_path_len + 1` bytes.
pub(super) fn scan_directory(
    file: &File,
    zip_path: &Path,
    directory: &Directory,
    budgets: &Budgets,
) -> Result<RawDirectory, UnpackError> {
    let op = "reading central directory of";
    let malformed = |reason| UnpackError::MalformedDirectory { reason };
    let mut r = BufReader::new(file);
    r.seek(SeekFrom::Start(directory.start))
        .map_err(io(op, zip_path))?;
    // Grown as records are actually read: the count is only a claim until then.
    let mut names = Vec::with_capacity(directory.entries.min(4096) as usize);
    let mut header = [0u8; CDFH_LEN as usize];
    let mut consumed: u64 = 0;
    for _ in 0..directory.entries {
        if consumed + CDFH_LEN > directory.size {
            return Err(malformed(
                "central directory records overrun its recorded size",
            ));
        }
        r.read_exact(&mut header).map_err(io(op, zip_path))?;
        if u32::from_le_bytes([header[0], header[1], header[2], header[3]]) != CDFH_SIGNATURE {
            return Err(malformed("central directory record without its signature"));
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        consumed += CDFH_LEN + (name_len + extra_len + comment_len) as u64;
        if consumed > directory.size {
            return Err(malformed(
                "central directory records overrun its recorded size",
            ));
        }
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name).map_err(io(op, zip_path))?;
        // Decoding never makes a name shorter, so this is the same verdict the per-entry check
        // would give.
        if name_len > budgets.max_path_len + 1 {
            return Err(UnpackError::PathTooLong {
                name: String::from_utf8_lossy(&name).into_owned(),
                len: name_len,
                limit: budgets.max_path_len,
            });
        }
        r.seek_relative((extra_len + comment_len) as i64)
            .map_err(io(op, zip_path))?;
        names.push(name);
    }
    if consumed != directory.size {
        return Err(malformed(
            "central directory records do not fill its recorded size",
        ));
    }
    Ok(RawDirectory { names })
}

/// Refuses overlapping entries: each entry's local header and data (`compressed_size` bytes
/// after the local header's name and extra field) must end before the next entry's local
/// header starts, and the last before the central directory. Many directory records pointing at
/// one stored copy would otherwise extract it many times (100 records sharing one entry turned
/// 39 KiB into 500 MiB), and data overlapping the directory would be parsed as both.
fn check_layout(
    zip_path: &Path,
    mut spans: Vec<(u64, u64, String)>,
    directory: &Directory,
) -> Result<(), UnpackError> {
    spans.sort_by_key(|(header, _, _)| *header);
    let malformed = |reason| UnpackError::MalformedDirectory { reason };
    let mut reader = File::open(zip_path).map_err(io("opening zip", zip_path))?;
    let mut previous: Option<(u64, &str)> = None;
    for (header, compressed, name) in &spans {
        if let Some((end, prev)) = previous {
            if *header < end {
                return Err(UnpackError::Overlap {
                    a: prev.to_string(),
                    b: name.clone(),
                });
            }
        }
        let mut lfh = [0u8; LFH_LEN];
        reader
            .seek(SeekFrom::Start(*header))
            .and_then(|_| reader.read_exact(&mut lfh))
            .map_err(|source| UnpackError::EntryCorrupt {
                name: name.clone(),
                source,
            })?;
        if u32::from_le_bytes([lfh[0], lfh[1], lfh[2], lfh[3]]) != LFH_SIGNATURE {
            return Err(malformed(
                "central directory record points at no local header",
            ));
        }
        let field = |at: usize| u64::from(u16::from_le_bytes([lfh[at], lfh[at + 1]]));
        let end = header
            .checked_add(LFH_LEN as u64 + field(26) + field(28))
            .and_then(|data| data.checked_add(*compressed))
            .ok_or(malformed("entry extends past any file size"))?;
        if end > directory.start {
            return Err(UnpackError::OverlapsDirectory { name: name.clone() });
        }
        previous = Some((end, name));
    }
    Ok(())
}
