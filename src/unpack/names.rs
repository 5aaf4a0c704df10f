//! Entry name rules (no absolute paths, `..`, `.`, empty components, backslashes, control
//! characters, drive letters; length and depth budgets) and the table of every implied path
//! that finds duplicates, case collisions and file/directory conflicts before writing.

use std::collections::HashMap;

use super::{Budgets, UnpackError};

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
/// lowercase, so that case collisions and file/directory conflicts are found before writing.
/// Paths are compared with `to_lowercase()` only; Unicode normalization is not folded.
#[derive(Default)]
pub(super) struct NameTable {
    by_lower: HashMap<String, (String, Kind)>,
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
