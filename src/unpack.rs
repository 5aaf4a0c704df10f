//! Safe extraction of a bundle zip into a fresh directory, with budgets, checked against the
//! signed file list.
//!
//! The zip is untrusted even when the manifest that names it is authentic, so everything about
//! it is checked before a byte is written: entry count, names (no absolute paths, `..`, `.`,
//! empty components, backslashes, control characters, drive letters), path length and depth,
//! entry types (regular files and consistent directory entries only: no symlinks, no special
//! files), encryption, compression (stored or deflate), duplicate and case-colliding names
//! (compared with [`str::to_lowercase`]; Unicode normalization is not folded), declared sizes
//! against the total budget and the per-entry ratio, and the set of file entries against the
//! signed list. While streaming each file to disk, its actual bytes are counted (a zip that lies
//! about sizes is stopped as soon as it exceeds the signed size) and hashed.
//!
//! Guarantees of [`extract_verified`]: on `Ok`, `dest` holds exactly the signed files, each with
//! its signed size and SHA-256, and the tree is durable (every file and directory fsynced,
//! children before parents, and `dest`'s parent). On `Err`, whatever was written under `dest`
//! has been removed (best effort: a crash mid-way can leave a partial `dest`, which the caller
//! treats as staging garbage). Memory stays bounded: each file is streamed through one buffer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipArchive};

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
    /// Largest uncompressed/compressed ratio of one entry (declared sizes). Entries of at most
    /// [`RATIO_EXEMPT_BYTES`] are exempt.
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

/// Entries whose declared uncompressed size is at most this are exempt from the ratio check:
/// small text files of repeated characters legitimately compress beyond any sane ratio, and the
/// damage such an entry can do is bounded by this size (and by the total budget).
pub const RATIO_EXEMPT_BYTES: u64 = 64 * 1024;

/// Size of the one buffer each file is streamed through.
const COPY_BUFFER: usize = 64 * 1024;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Signature of a central directory file header.
const CDFH_SIGNATURE: u32 = 0x0201_4b50;
/// Fixed part of a central directory file header.
const CDFH_LEN: usize = 46;

/// Which check an extraction (or a re-verification) failed.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("destination {} already exists", path.display())]
    DestinationExists { path: PathBuf },
    #[error("zip has {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
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
    #[error("zip entry {name:?} has a compression ratio of {ratio}, above the limit of {limit}")]
    RatioExceeded {
        name: String,
        ratio: u64,
        limit: u64,
    },
    #[error("zip entry {name:?} appears more than once")]
    Duplicate { name: String },
    #[error("zip entries {a:?} and {b:?} differ only in case")]
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
    #[error("cannot {op} {}: {source}{}", path.display(), crate::fs::hint(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> UnpackError + 'a {
    move |source| UnpackError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// One file entry of the zip, checked and matched to its signed entry.
struct PlannedFile<'a> {
    index: usize,
    signed: &'a FileEntry,
}

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
    let file = File::open(zip_path).map_err(io_err("open zip", zip_path))?;
    let mut archive = ZipArchive::new(BufReader::new(file))?;
    let plan = plan(&mut archive, zip_path, files, budgets)?;

    fs::create_dir(dest).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            UnpackError::DestinationExists {
                path: dest.to_path_buf(),
            }
        } else {
            io_err("create directory", dest)(source)
        }
    })?;
    match write_tree(&mut archive, &plan, dest, budgets) {
        Ok(extracted) => Ok(extracted),
        Err(e) => {
            // Best effort: the error being returned is the one that matters.
            let _ = fs::remove_dir_all(dest);
            Err(e)
        }
    }
}

/// Runs every check that needs no writing and returns the file entries to extract, in zip order.
fn plan<'a, R: Read + Seek>(
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

    let mut signed: HashMap<&str, &FileEntry> = HashMap::with_capacity(files.len());
    for f in files {
        if signed.insert(f.path.as_str(), f).is_some() {
            return Err(UnpackError::DuplicateInList {
                path: f.path.clone(),
            });
        }
    }

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
    let file = File::open(zip_path).map_err(io_err("open zip", zip_path))?;
    let mut r = BufReader::new(file);
    r.seek(SeekFrom::Start(archive.central_directory_start()))
        .map_err(io_err("read central directory of", zip_path))?;
    let mut names = Vec::new();
    let mut header = [0u8; CDFH_LEN];
    while names.len() <= limit {
        match r.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io_err("read central directory of", zip_path)(e)),
        }
        if u32::from_le_bytes([header[0], header[1], header[2], header[3]]) != CDFH_SIGNATURE {
            break;
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name)
            .map_err(io_err("read central directory of", zip_path))?;
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
            .map_err(io_err("read central directory of", zip_path))?;
        names.push(name);
    }
    Ok(names)
}

/// Checks an entry name (`path` is `name` without a directory's trailing `/`).
fn check_path(name: &str, path: &str, budgets: &Budgets) -> Result<(), UnpackError> {
    let unsafe_path = |reason| UnpackError::UnsafePath {
        name: name.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(unsafe_path("empty name"));
    }
    if path.chars().any(char::is_control) {
        return Err(unsafe_path("control character in name"));
    }
    if path.contains('\\') {
        return Err(unsafe_path("backslash in name"));
    }
    if path.starts_with('/') {
        return Err(unsafe_path("absolute path"));
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(unsafe_path("drive letter"));
    }
    let mut depth = 0;
    for component in path.split('/') {
        match component {
            "" => return Err(unsafe_path("empty path component")),
            "." => return Err(unsafe_path("'.' path component")),
            ".." => return Err(unsafe_path("'..' path component")),
            _ => depth += 1,
        }
    }
    if path.len() > budgets.max_path_len {
        return Err(UnpackError::PathTooLong {
            name: name.to_string(),
            len: path.len(),
            limit: budgets.max_path_len,
        });
    }
    if depth > budgets.max_depth {
        return Err(UnpackError::TooDeep {
            name: name.to_string(),
            depth,
            limit: budgets.max_depth,
        });
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// Every path the zip implies (files, directory entries, and the ancestors of both), keyed by
/// lowercase, so that case collisions and file/directory conflicts are found before writing.
/// Paths are compared with `to_lowercase()` only; Unicode normalization is not folded.
#[derive(Default)]
struct NameTable {
    by_lower: HashMap<String, (String, Kind)>,
}

impl NameTable {
    fn add(&mut self, path: &str, kind: Kind) -> Result<(), UnpackError> {
        let mut end = 0;
        for (i, component) in path.split('/').enumerate() {
            end += component.len() + usize::from(i > 0);
            let prefix = &path[..end];
            let this_kind = if end == path.len() { kind } else { Kind::Dir };
            self.insert(prefix, this_kind)?;
        }
        Ok(())
    }

    fn insert(&mut self, path: &str, kind: Kind) -> Result<(), UnpackError> {
        let lower = path.to_lowercase();
        match self.by_lower.get(&lower) {
            None => {
                self.by_lower.insert(lower, (path.to_string(), kind));
                Ok(())
            }
            Some((existing, _)) if existing != path => Err(UnpackError::CaseCollision {
                a: existing.clone(),
                b: path.to_string(),
            }),
            Some((_, Kind::File)) if kind == Kind::File => Err(UnpackError::Duplicate {
                name: path.to_string(),
            }),
            Some((_, existing_kind)) if *existing_kind != kind => {
                Err(UnpackError::FileDirConflict {
                    name: path.to_string(),
                })
            }
            Some(_) => Ok(()),
        }
    }
}

/// Writes the planned files under `dest` (already created) and makes the tree durable.
fn write_tree<R: Read + Seek>(
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
                fs::create_dir(&dir).map_err(io_err("create directory", &dir))?;
                created_dirs.push(dir);
            }
        }

        let out_path = dest.join(rel);
        let mut entry = archive.by_index(planned.index)?;
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&out_path)
            .map_err(io_err("create file", &out_path))?;
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
                .map_err(io_err("write file", &out_path))?;
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
        out.sync_all().map_err(io_err("fsync file", &out_path))?;
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

/// [`crate::fs::sync_dir`], named in this module's message shape ("cannot fsync directory …").
fn sync_dir(dir: &Path) -> Result<(), UnpackError> {
    crate::fs::sync_dir(dir).map_err(|e| UnpackError::Io {
        op: "fsync directory",
        path: e.path,
        source: e.error,
    })
}

/// Re-verifies that `dir` holds exactly the files of `files`: no extra file, none missing, no
/// symlink or special file, and every file with its signed size and SHA-256. Empty directories
/// are ignored (extraction never creates them). Files are hashed in a stream.
pub fn check_dir(dir: &Path, files: &[FileEntry]) -> Result<(), UnpackError> {
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        let entries = fs::read_dir(&abs).map_err(io_err("read directory", &abs))?;
        for entry in entries {
            let entry = entry.map_err(io_err("read directory", &abs))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let child_abs = entry.path();
            let meta = fs::symlink_metadata(&child_abs).map_err(io_err("stat", &child_abs))?;
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

    let mut signed: HashMap<&str, &FileEntry> = HashMap::with_capacity(files.len());
    for f in files {
        if signed.insert(f.path.as_str(), f).is_some() {
            return Err(UnpackError::DuplicateInList {
                path: f.path.clone(),
            });
        }
    }
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

    let mut buf = vec![0u8; COPY_BUFFER];
    for f in files {
        let abs = &found[&f.path];
        let mut file = File::open(abs).map_err(io_err("open file", abs))?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err("read file", abs)(e)),
            };
            size += n as u64;
            if size > f.size {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if size != f.size {
            let got = fs::metadata(abs).map(|m| m.len()).unwrap_or(size);
            return Err(UnpackError::SizeMismatch {
                path: f.path.clone(),
                expected: f.size,
                got,
            });
        }
        if !hex::encode(hasher.finalize()).eq_ignore_ascii_case(&f.sha256) {
            return Err(UnpackError::HashMismatch {
                path: f.path.clone(),
            });
        }
    }
    Ok(())
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
