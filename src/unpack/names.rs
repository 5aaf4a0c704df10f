//! Entry name rules (no absolute paths, `..`, `.`, empty components, backslashes, control
//! characters, drive letters; length and depth budgets), the table of every implied path that
//! finds duplicates, case or normalization collisions and file/directory conflicts before
//! writing, and [`check_file_list`], the same rules and budgets on a plain list of files (what
//! the publisher checks before it writes a release).

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::{Budgets, UnpackError};

/// The key two paths collide under: Unicode NFC, lowercased, NFC again (lowercasing can leave
/// a string unnormalized). Two paths with one key are one file on APFS (iOS: case-insensitive
/// and normalization-insensitive) or on a case-insensitive Android/Windows/macOS volume, so a
/// bundle may not hold both (`café.html` in NFC and NFD, `Index.html` and `index.html`).
pub fn name_key(path: &str) -> String {
    path.nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

/// Checks a list of files `(path, size)` against the budgets and name rules that extraction
/// applies to a zip holding exactly these files (no directory entries): entry count, each path's
/// rules, length and depth, duplicates and collisions under [`name_key`], file/directory
/// conflicts, and the total size. Returns the error a device would give for that zip, so the
/// publisher can refuse a release before writing anything.
pub fn check_file_list<'a>(
    files: impl IntoIterator<Item = (&'a str, u64)>,
    budgets: &Budgets,
) -> Result<(), UnpackError> {
    let files: Vec<(&str, u64)> = files.into_iter().collect();
    if files.len() > budgets.max_entries {
        return Err(UnpackError::TooManyEntries {
            count: files.len(),
            limit: budgets.max_entries,
        });
    }
    let mut names = NameTable::default();
    let mut total: u64 = 0;
    for (path, size) in files {
        check_path(path, path, budgets)?;
        names.add(path, Kind::File)?;
        total = total
            .checked_add(size)
            .filter(|t| *t <= budgets.max_total_bytes)
            .ok_or(UnpackError::TotalSizeExceeded {
                limit: budgets.max_total_bytes,
            })?;
    }
    Ok(())
}

/// Checks an entry name (`path` is `name` without a directory's trailing `/`).
pub(super) fn check_path(name: &str, path: &str, budgets: &Budgets) -> Result<(), UnpackError> {
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
pub(super) enum Kind {
    File,
    Dir,
}

/// Every path the zip implies (files, directory entries, and the ancestors of both), keyed by
/// [`name_key`], so that case and normalization collisions and file/directory conflicts are
/// found before writing.
#[derive(Default)]
pub(super) struct NameTable {
    by_key: HashMap<String, (String, Kind)>,
}

impl NameTable {
    pub(super) fn add(&mut self, path: &str, kind: Kind) -> Result<(), UnpackError> {
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
        let key = name_key(path);
        match self.by_key.get(&key) {
            None => {
                self.by_key.insert(key, (path.to_string(), kind));
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
