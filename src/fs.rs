//! File I/O with context: the one home of directory fsync, durable atomic file writes, tree
//! removal and the hints an I/O error gives the user.
//!
//! Every operation here fails with an [`IoError`] naming the path and what was being done to it,
//! plus a hint for the errors a user can act on (no space left, read-only file system,
//! permission denied), as Shorebird's updater does in `file_errors.rs`. The error types of the
//! layers above (store, unpack, publish) wrap it with `From`, keeping their own message shape.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An I/O error with the file it concerns and the operation that failed.
///
/// `Display` embeds the source error, so `source()` is not exposed (each cause printed once).
#[derive(Debug, thiserror::Error)]
#[error("i/o error while {op} {}: {error}{}", path.display(), hint(error))]
pub struct IoError {
    /// What was being done, as a gerund phrase: "creating", "syncing directory".
    pub op: &'static str,
    pub path: PathBuf,
    pub error: io::Error,
}

/// Adapter for `map_err`: `File::open(p).map_err(fs::io("opening", p))?`.
pub fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> IoError + 'a {
    move |error| IoError {
        op,
        path: path.to_path_buf(),
        error,
    }
}

/// A hint for the errors a user can act on, with a leading space; empty for the others.
pub fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull => " (no space left on device: free some storage and retry)",
        io::ErrorKind::QuotaExceeded => " (disk quota exceeded: free some storage and retry)",
        io::ErrorKind::ReadOnlyFilesystem => " (read-only file system)",
        io::ErrorKind::PermissionDenied => {
            " (permission denied: check the data directory's owner and mode)"
        }
        _ => "",
    }
}

/// fsync of a directory, so the entries created or renamed in it survive a crash.
///
/// Directories cannot be opened as files on Windows (a desktop development target only): there
/// it does nothing.
pub fn sync_dir(dir: &Path) -> Result<(), IoError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing directory", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// How [`write_atomic`]'s temp files end (`.<name>.<12 hex>.tmp`).
const ATOMIC_TEMP_SUFFIX: &str = ".tmp";

/// Whether a file name is one of [`write_atomic`]'s temp files, which a kill before its rename
/// leaves behind for whoever owns the folder to remove.
pub fn is_atomic_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(ATOMIC_TEMP_SUFFIX)
}

/// Durably writes `bytes` to `path`, atomically: a new temp file next to it, created with `mode`
/// on Unix (so a secret is never readable by others, even briefly), written and fsynced, renamed
/// over `path`, and the folder fsynced. When it returns `Ok`, a crash leaves either the old file
/// or the new one, never a mix; on `Err` the temp file is removed (best effort).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}{ATOMIC_TEMP_SUFFIX}",
        hex::encode(crate::crypto::random_bytes::<6>())
    ));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| -> Result<(), IoError> {
        let mut f = opts.open(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(io("writing", &tmp))?;
        // Named per file (`fs.atomic_temp_written:<file name>`) so a test can stop one write.
        fail::fail_point!(&format!("fs.atomic_temp_written:{name}"));
        fs::rename(&tmp, path).map_err(io("renaming into place", path))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to a new file at `path` (truncating one that exists) and fsyncs it. The
/// caller renames it into place and syncs the folder.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut f = File::create(path).map_err(io("creating", path))?;
    f.write_all(bytes).map_err(io("writing", path))?;
    f.sync_all().map_err(io("syncing", path))
}

/// Removes a file or a directory tree; a path that does not exist is not an error.
pub fn remove_any(path: &Path) -> Result<(), IoError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("inspecting", path)(e)),
    };
    if meta.is_dir() {
        fs::remove_dir_all(path).map_err(io("removing", path))
    } else {
        fs::remove_file(path).map_err(io("removing", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_names_the_actionable_errors() {
        let full = io::Error::from_raw_os_error(28);
        assert!(hint(&full).contains("no space left on device"));
        let ro = io::Error::from_raw_os_error(30);
        assert!(hint(&ro).contains("read-only"));
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(hint(&denied).contains("permission denied"));
        assert_eq!(hint(&io::Error::other("x")), "");
    }

    #[test]
    fn error_names_path_and_operation_and_prints_its_cause_once() {
        let e = io("syncing", Path::new("/x/y"))(io::Error::from_raw_os_error(28));
        let text = e.to_string();
        assert!(text.starts_with("i/o error while syncing /x/y: "), "{text}");
        assert!(text.contains("no space left on device"), "{text}");
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one", 0o644).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn remove_any_removes_trees_and_files_and_ignores_missing() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t");
        fs::create_dir_all(t.join("a")).unwrap();
        fs::write(t.join("a/b"), b"x").unwrap();
        remove_any(&t).unwrap();
        assert!(!t.exists());
        remove_any(&t).unwrap();
        let f = dir.path().join("f");
        fs::write(&f, b"x").unwrap();
        remove_any(&f).unwrap();
        assert!(!f.exists());
    }
}
