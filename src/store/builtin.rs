//! The built-in tree index: the hashes of the app's built-in bundle files, recorded once per
//! native version so that a delta plan does not re-hash the built-in tree on every update. A
//! cache: the table is schema v2; a database rebuilt without rows costs one more hashing.

use rusqlite::params;

use super::{Store, StoreError};

/// One file of the built-in bundle, as indexed for delta updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinFile {
    /// Relative to the built-in folder, `/`-separated; `sha256` is lowercase hex.
    pub path: String,
    pub sha256: String,
}

impl Store {
    /// The built-in tree's files as indexed for `native_version`; empty when none were recorded
    /// for it (never built, or a native update since; an empty tree costs nothing to walk).
    pub fn builtin_index(&self, native_version: &str) -> Result<Vec<BuiltinFile>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT path, sha256 FROM builtin_index WHERE native_version = ?1 ORDER BY path",
        )?;
        let rows = stmt.query_map([native_version], |r| {
            let (path, sha256) = (r.get(0)?, r.get(1)?);
            Ok(BuiltinFile { path, sha256 })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Records `files` as the built-in tree's index for native version `v`, replacing the index
    /// of any other version, in one transaction.
    pub fn set_builtin_index(&mut self, v: &str, files: &[BuiltinFile]) -> Result<(), StoreError> {
        self.write(|tx| -> Result<(), StoreError> {
            tx.execute("DELETE FROM builtin_index", [])?;
            let mut insert = tx.prepare("INSERT INTO builtin_index VALUES (?1, ?2, ?3)")?;
            for f in files {
                insert.execute(params![v, f.path, f.sha256])?;
            }
            Ok(())
        })
    }
}
