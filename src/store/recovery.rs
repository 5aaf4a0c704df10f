//! The recovery record, `recovery.json`: the part of the device state that must outlive the
//! state database. A lost or corrupt database is rebuilt from it (with the envelopes next to the
//! bundles and in `floors/`), so losing SQLite can neither undo a revocation nor strand the
//! device on the built-in bundle.
//!
//! It holds the install id (the rollout bucket), the native version and build the last launch
//! saw, the `current`, `fallback` and `next` roles (not `trial`: a bundle on trial was never
//! confirmed, so a rebuild does not serve it), every channel's high-water mark (install floors
//! and the floors an incident raised) and the whole blocklist (reverted trials, revoked content,
//! releases that failed extraction).
//!
//! Guarantee: [`super::Store::write`] brings the record up to date inside the transaction, before
//! it commits, whenever the transaction changed anything it holds. The record is compared with
//! the file on disk, not with a cache, so writers in two processes cannot leave it behind. A
//! record that cannot be written is logged and retried at the next write: the state change itself
//! still commits, because refusing it (a revocation, a revert) would be the less safe outcome.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{Blocked, StoreError};

/// File name under the data directory.
pub(super) const FILE: &str = "recovery.json";
/// Longest blocklist reason the record keeps (the database keeps the whole text).
const MAX_REASON: usize = 512;
/// The record is small (a few ids, one mark per channel, one line per blocklisted release);
/// anything larger than this is not one of ours and is ignored.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Record {
    pub install_id: Option<String>,
    pub native_version: Option<String>,
    pub native_build: Option<String>,
    pub current: Option<String>,
    pub fallback: Option<String>,
    pub next: Option<String>,
    pub high_water: BTreeMap<String, u64>,
    pub blocklist: Vec<Blocked>,
}

pub(super) fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// The record as the database holds it now.
pub(super) fn snapshot(conn: &Connection) -> Result<Record, StoreError> {
    let roles = super::roles(conn)?;
    let mut high_water = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT channel, sequence FROM high_water ORDER BY channel")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (channel, seq) = row?;
        high_water.insert(channel, seq as u64);
    }
    let blocklist = super::blocklisted(conn)?
        .into_iter()
        .map(|mut b| {
            if b.reason.len() > MAX_REASON {
                let mut end = MAX_REASON;
                while !b.reason.is_char_boundary(end) {
                    end -= 1;
                }
                b.reason.truncate(end);
            }
            b
        })
        .collect();
    Ok(Record {
        install_id: super::device_id(conn)?,
        native_version: roles.native_version,
        native_build: super::meta::native_build(conn)?,
        current: roles.current,
        fallback: roles.fallback,
        next: roles.next,
        high_water,
        blocklist,
    })
}

/// Rewrites the file (temp, fsync, rename, fsync) if it differs from what `conn` holds.
pub(super) fn save_if_changed(conn: &Connection, root: &Path) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(&snapshot(conn)?).expect("record serializes");
    let path = path(root);
    if fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
        return Ok(());
    }
    fail::fail_point!("recovery.before_write");
    Ok(crate::fs::write_atomic(&path, &bytes, 0o600)?)
}

/// The record left by the last write, if there is a readable one.
pub(super) fn load(root: &Path) -> Option<Record> {
    let path = path(root);
    let len = fs::metadata(&path).ok()?.len();
    if len > MAX_FILE_BYTES {
        log::warn!("{} is {len} bytes; ignored", path.display());
        return None;
    }
    let bytes = fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(record) => Some(record),
        Err(e) => {
            log::warn!("{} is unreadable ({e}); ignored", path.display());
            None
        }
    }
}
