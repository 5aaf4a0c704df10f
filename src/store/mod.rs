//! Durable device state: one SQLite database (WAL, `synchronous=FULL`) that decides what boots,
//! and the immutable bundle directories it points at.
//!
//! The store owns the data directory's layout: every folder and file under it is named here
//! and nowhere else. docs/DEVICE.md ("Data directory") is the one table of what each holds.
//! Submodules: [`meta`] (small device facts behind typed accessors), [`downloads`] (partial
//! downloads and delta work folders), [`builtin`] (the built-in tree's index for deltas),
//! [`history`] (the transition history).
//!
//! Guarantees: every state change that decides what boots is one IMMEDIATE transaction committed
//! with a full sync before the call returns; a database that cannot be read is moved aside and
//! rebuilt from the envelopes next to the bundles (so anti-rollback survives), never a crash loop;
//! leftovers of interrupted installs (staging entries, bundle directories the database does not
//! know) are removed at open, but only by the process that holds the install lock.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::fs::{io, remove_any, sync_dir};
use crate::release::{self, Manifest};

pub mod builtin;
pub mod downloads;
pub mod history;
pub mod meta;
mod recovery;
pub mod stats_queue;

pub use builtin::BuiltinFile;
pub use history::{add_history, clear_history, history, HistoryEntry};

pub use meta::{
    add_preview_bundle, cache_envelope, cached_envelope, capgo_wait_until, channel, clear_channel,
    consent, delay_conditions, device_id, freshness, previews, set_capgo_wait_until, set_channel,
    set_consent, set_delay_conditions, set_device_id, set_freshness, set_previews, set_setting,
    set_telemetry_secret, setting, telemetry_secret, CachedEnvelope, Freshness, PreviewRecord,
    Previews,
};
pub use stats_queue::{
    clear_stats_dropped, enqueue_stat, purge_stat_events, queued_count, queued_stats, remove_stats,
    stats_dropped, QueueKind, Queued, QUEUE_CAP,
};

/// Current schema version (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

const MIGRATIONS: &[&str] = &[
    // v1
    "CREATE TABLE bundles (
        id TEXT PRIMARY KEY,
        content_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        version TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ready', 'failed')),
        failed_reason TEXT,
        installed_at INTEGER NOT NULL,
        manifest BLOB NOT NULL
    );
    CREATE TABLE state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        current TEXT,
        fallback TEXT,
        trial TEXT,
        next TEXT,
        native_version TEXT
    );
    INSERT INTO state (id) VALUES (1);
    CREATE TABLE high_water (channel TEXT PRIMARY KEY, sequence INTEGER NOT NULL);
    CREATE TABLE blocklist (content_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        bundle TEXT,
        detail TEXT NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v2: the built-in tree index (builtin.rs), a cache a rebuilt database simply lacks.
    "CREATE TABLE builtin_index (
        native_version TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (native_version, path)
    );",
    // v3: telemetry waiting to be sent (stats_queue.rs).
    "CREATE TABLE stats_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('event', 'deletion')),
        at INTEGER NOT NULL,
        body TEXT NOT NULL
    );",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file operation failed; the error names the operation and the path and prints its
    /// cause once.
    #[error(transparent)]
    Io(#[from] crate::fs::IoError),
    #[error(
        "database schema version {found} is newer than this build supports ({SCHEMA_VERSION})"
    )]
    SchemaTooNew { found: i64 },
    #[error("stored manifest of bundle {id} is unreadable: {reason}")]
    CorruptRow { id: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    Ready,
    Failed,
}

/// One installed bundle, as the database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    pub id: String,
    pub content_id: String,
    pub channel: String,
    pub sequence: u64,
    pub version: String,
    pub status: BundleStatus,
    pub failed_reason: Option<String>,
    pub installed_at: u64,
    /// The verified manifest payload (JSON bytes).
    pub manifest: Vec<u8>,
}

impl BundleRow {
    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        serde_json::from_slice(&self.manifest).map_err(|e| StoreError::CorruptRow {
            id: self.id.clone(),
            reason: e.to_string(),
        })
    }
}

/// Which bundle holds which role. `None` means the built-in bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// The last confirmed bundle: what boots when nothing is pending.
    pub current: Option<String>,
    /// The bundle that was current before `current` was confirmed.
    pub fallback: Option<String>,
    /// Launched but not yet confirmed.
    pub trial: Option<String>,
    /// Installed, to be tried at the next launch.
    pub next: Option<String>,
    /// Native version seen at the last launch.
    pub native_version: Option<String>,
}

impl Roles {
    pub fn holds(&self, id: &str) -> bool {
        [&self.current, &self.fallback, &self.trial, &self.next]
            .iter()
            .any(|r| r.as_deref() == Some(id))
    }
}

pub struct Store {
    root: PathBuf,
    conn: Connection,
    /// Stamps every row a write transaction adds (history, blocklist, `installed_at`).
    clock: Arc<dyn Clock>,
}

/// One write transaction of [`Store::write`]; it reads and writes as the [`Connection`] it
/// derefs to. Rows that record a time take it from [`Tx::now`], never from the system: the
/// store's clock, read once when the transaction took the write lock, so every row of one
/// transition carries the same second and a test's manual clock decides what is stored.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    now: u64,
}

impl Tx<'_> {
    /// Unix seconds on the store's clock when this transaction began.
    pub fn now(&self) -> u64 {
        self.now
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

/// What `Store::open` had to do beyond opening.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// Set when the database was unreadable and rebuilt; the reason.
    pub reset: Option<String>,
    /// Leftovers of interrupted work removed at open.
    pub cleaned: Vec<String>,
    /// Bundles re-adopted by a rebuild (their ids).
    pub adopted: Vec<String>,
}

/// Verifies an installed bundle for re-adoption after a lost database: given its folder and its
/// stored envelope, the verified manifest payload, or why it cannot be adopted.
pub type Adopt<'a> = dyn Fn(&Path, &[u8]) -> Result<Vec<u8>, String> + 'a;

impl Store {
    /// Opens (creating if needed) the store under `root`, on the system clock. Never fails on a
    /// corrupt database: that is moved aside and rebuilt, and the report says so.
    pub fn open(root: &Path) -> Result<(Store, OpenReport), StoreError> {
        Self::open_with_clock(root, Arc::new(SystemClock))
    }

    /// [`Store::open`] with the clock that stamps what the store records (the engine's). A
    /// rebuilt database re-adopts no bundle: see [`Store::open_recovering`].
    pub fn open_with_clock(
        root: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<(Store, OpenReport), StoreError> {
        Self::open_recovering(root, clock, &|_, _| Err("no verifier at this open".into()))
    }

    /// [`Store::open_with_clock`] that, if the database has to be rebuilt, re-adopts every
    /// installed bundle that `adopt` accepts: it is given the bundle's folder and its stored
    /// envelope and returns the verified manifest payload (signature, app, every file against the
    /// signed list), or why not. Adopted bundles come back `ready`, in the roles the recovery
    /// record names; the others are removed as leftovers.
    pub fn open_recovering(
        root: &Path,
        clock: Arc<dyn Clock>,
        adopt: &Adopt<'_>,
    ) -> Result<(Store, OpenReport), StoreError> {
        for dir in [
            root.to_path_buf(),
            root.join("bundles"),
            root.join("staging"),
        ] {
            fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
        }
        let mut report = OpenReport::default();
        let db = root.join("liveship.db");
        let conn = match Self::open_db(&db) {
            // A database with no schema yet, next to stored envelopes, is a lost one (emptied or
            // deleted), not a first start: rebuild the floors from the envelopes like a corrupt one.
            Ok((conn, true))
                if has_envelopes(&root.join("bundles"))?
                    || has_envelopes(&root.join("floors"))? =>
            {
                let reason =
                    "state database missing or empty; rebuilt from installed bundles".to_string();
                log::error!("{reason}");
                report.reset = Some(reason);
                conn
            }
            Ok((conn, _)) => conn,
            Err(StoreError::Db(e)) if is_corruption(&e) => {
                let reason =
                    format!("state database unreadable ({e}); rebuilt from installed bundles");
                log::error!("{reason}");
                // Named by the same clock as the history row of the reset, so the two match.
                let aside = root.join(format!("liveship.db.corrupt-{}", clock.now()));
                fs::rename(&db, &aside).map_err(io("moving aside", &db))?;
                for ext in ["-wal", "-shm"] {
                    let _ = fs::remove_file(root.join(format!("liveship.db{ext}")));
                }
                report.reset = Some(reason);
                Self::open_db(&db)?.0
            }
            Err(e) => return Err(e),
        };
        let mut store = Store {
            root: root.to_path_buf(),
            conn,
            clock,
        };
        if let Some(reason) = &report.reset {
            report.adopted = store.rebuild(reason, adopt)?;
        }
        // Leftovers are only safe to delete when no install runs in another process.
        if let Some(_guard) = store.try_install_lock()? {
            report.cleaned = store.clean_leftovers()?;
        }
        Ok((store, report))
    }

    /// Opens and migrates the database; the flag says whether it had no schema at all.
    fn open_db(path: &Path) -> Result<(Connection, bool), StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL keeps readers from blocking the writer; FULL syncs the WAL on every commit, so a
        // committed state change survives power loss, not just a process kill.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found: version });
        }
        let created = version == 0;
        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            // Re-read inside the lock: another process may have migrated meanwhile.
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            }
            tx.commit()?;
        }
        // Reading the state row proves the file is a usable database.
        conn.query_row("SELECT id FROM state WHERE id = 1", [], |_| Ok(()))?;
        Ok((conn, created))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn bundles_dir(&self) -> PathBuf {
        self.root.join("bundles")
    }
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }
    pub fn bundle_dir(&self, id: &str) -> PathBuf {
        self.bundles_dir().join(id)
    }
    pub fn envelope_path(&self, id: &str) -> PathBuf {
        self.bundles_dir().join(format!("{id}.envelope.json"))
    }
    /// Where the envelope of the newest release installed on `channel` is kept, whatever
    /// retention later deletes: the anti-rollback floor a lost database is rebuilt from.
    pub fn floor_path(&self, channel: &str) -> PathBuf {
        self.root
            .join("floors")
            .join(format!("{channel}.envelope.json"))
    }

    /// Durably records `envelope` as the floor of `channel` (temp file, fsync, rename, fsync).
    pub fn record_floor(&self, channel: &str, envelope: &[u8]) -> Result<(), StoreError> {
        let path = self.floor_path(channel);
        let dir = path.parent().expect("floors dir").to_path_buf();
        fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
        Ok(crate::fs::write_atomic(&path, envelope, 0o644)?)
    }

    /// Takes the install lock if it is free. Held for a whole install, it keeps two processes
    /// from installing at once and from cleaning each other's staging.
    pub fn try_install_lock(&self) -> Result<Option<InstallLock>, StoreError> {
        let path = self.root.join("install.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("opening", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(InstallLock { file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(io("locking", &path)(e).into()),
        }
    }

    /// Runs `f` in one IMMEDIATE transaction (serialised with every other writer, in any process)
    /// and commits it durably. The transaction's time is read once the write lock is held.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| E::from(e.into()))?;
        let tx = Tx {
            tx,
            now: self.clock.now(),
        };
        let out = f(&tx)?;
        // Before the commit, so that once a change is committed its record is on disk too (see
        // `recovery` for why a failure here does not stop the change).
        if let Err(e) = recovery::save_if_changed(&tx, &self.root) {
            log::error!("writing the recovery record: {e}");
        }
        tx.tx.commit().map_err(|e| E::from(e.into()))?;
        Ok(out)
    }

    /// Read-only access.
    pub fn read(&self) -> &Connection {
        &self.conn
    }

    fn clean_leftovers(&mut self) -> Result<Vec<String>, StoreError> {
        let mut cleaned = Vec::new();
        let staging = self.staging_dir();
        for entry in fs::read_dir(&staging).map_err(io("listing", &staging))? {
            let path = entry.map_err(io("listing", &staging))?.path();
            remove_any(&path)?;
            fail::fail_point!("open.leftover_removed");
            cleaned.push(format!("staging/{}", file_name(&path)));
        }
        let known: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT id FROM bundles")?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            rows
        };
        let bundles = self.bundles_dir();
        for entry in fs::read_dir(&bundles).map_err(io("listing", &bundles))? {
            let path = entry.map_err(io("listing", &bundles))?.path();
            let name = file_name(&path);
            let id = name.strip_suffix(".envelope.json").unwrap_or(&name);
            if !known.iter().any(|k| k == id) {
                remove_any(&path)?;
                fail::fail_point!("open.leftover_removed");
                cleaned.push(format!("bundles/{name}"));
            }
        }
        // Floors and the recovery record are written through temp files next to them; a kill
        // before the rename leaves the temp file, which nothing else would ever remove.
        let floors = self.root.join("floors");
        let recovery_temp = format!(".{}.", recovery::FILE);
        for (dir, label, ours) in [
            (&floors, "floors/", None),
            (&self.root, "", Some(recovery_temp.as_str())),
        ] {
            let Ok(rd) = fs::read_dir(dir) else { continue };
            let mut removed = false;
            for entry in rd {
                let path = entry.map_err(io("listing", dir))?.path();
                let name = file_name(&path);
                if crate::fs::is_atomic_temp(&name) && ours.is_none_or(|p| name.starts_with(p)) {
                    remove_any(&path)?;
                    cleaned.push(format!("{label}{name}"));
                    removed = true;
                }
            }
            if removed {
                sync_dir(dir)?;
            }
        }
        if !cleaned.is_empty() {
            sync_dir(&bundles)?;
            sync_dir(&staging)?;
            log::info!("removed leftovers of interrupted work: {cleaned:?}");
        }
        Ok(cleaned)
    }

    /// After a database reset: restore what must outlive the database from the recovery record
    /// and the stored envelopes (high-water marks, blocklist, install id, native version), then
    /// re-adopt the installed bundles `adopt` verifies and give them back the roles the record
    /// names. A lost database can thus neither roll the device back, nor bring back a revoked
    /// or failed release, nor forget what it was running. Returns the adopted ids.
    fn rebuild(&mut self, reason: &str, adopt: &Adopt<'_>) -> Result<Vec<String>, StoreError> {
        let record = recovery::load(&self.root).unwrap_or_default();
        let mut marks: Vec<(String, u64)> = record
            .high_water
            .iter()
            .map(|(c, s)| (c.clone(), *s))
            .collect();
        let floors = self.root.join("floors");
        let mut paths = Vec::new();
        for dir in [self.bundles_dir(), floors] {
            let Ok(rd) = fs::read_dir(&dir) else { continue };
            for entry in rd {
                paths.push(entry.map_err(io("listing", &dir))?.path());
            }
        }
        let blocked: std::collections::HashSet<&str> = record
            .blocklist
            .iter()
            .map(|b| b.content_id.as_str())
            .collect();
        let mut adopted: Vec<(BundleRow, String)> = Vec::new();
        for path in paths {
            let name = file_name(&path);
            let Some(id) = name.strip_suffix(".envelope.json") else {
                continue;
            };
            // The envelope was verified before it was stored; its sequence alone may raise a
            // floor (an attacker with disk access gains nothing from that).
            let Ok(bytes) = read_bounded(&path, release::MAX_ENVELOPE_BYTES as u64) else {
                continue;
            };
            let Some(m) = decode_unverified(&bytes) else {
                continue;
            };
            marks.push((m.channel.clone(), m.sequence));
            if path.parent() != Some(self.bundles_dir().as_path()) {
                continue;
            }
            // Serving it again is another matter: only what verifies now comes back.
            let dir = self.bundle_dir(id);
            let content_id = m.content_id();
            let verdict = if !content_id.starts_with(id) || id.len() != 16 {
                Err("its folder name is not its content id".to_string())
            } else if blocked.contains(content_id.as_str()) {
                Err("its content is blocklisted".to_string())
            } else if !dir.is_dir() {
                Err("its folder is missing".to_string())
            } else {
                adopt(&dir, &bytes)
            };
            match verdict.and_then(|payload| {
                let m: Manifest = serde_json::from_slice(&payload)
                    .map_err(|e| format!("verified payload does not parse: {e}"))?;
                Ok((m, payload))
            }) {
                Ok((m, payload)) if m.content_id() == content_id => adopted.push((
                    BundleRow {
                        id: id.to_string(),
                        content_id,
                        channel: m.channel.clone(),
                        sequence: m.sequence,
                        version: m.version.clone(),
                        status: BundleStatus::Ready,
                        failed_reason: None,
                        installed_at: 0,
                        manifest: payload,
                    },
                    format!("re-adopted after a state reset: {}", m.label()),
                )),
                Ok(_) => log::warn!("bundle {id} not re-adopted: its envelope changed"),
                Err(why) => log::warn!("bundle {id} not re-adopted: {why}"),
            }
        }
        let reason = reason.to_string();
        let ids = self.write(|tx| -> Result<_, StoreError> {
            for (channel, seq) in &marks {
                raise_high_water(tx, channel, *seq)?;
            }
            for b in &record.blocklist {
                tx.execute(
                    "INSERT OR IGNORE INTO blocklist (content_id, reason, at) VALUES (?1, ?2, ?3)",
                    params![b.content_id, b.reason, b.at as i64],
                )?;
            }
            if let Some(id) = &record.install_id {
                set_device_id(tx, id)?;
            }
            if let Some(build) = &record.native_build {
                meta::set_native_build(tx, build)?;
            }
            add_history(tx, "state_reset", None, &reason)?;
            let mut ids = Vec::new();
            for (row, detail) in &adopted {
                insert_bundle(
                    tx,
                    &BundleRow {
                        installed_at: tx.now(),
                        ..row.clone()
                    },
                )?;
                add_history(tx, "adopted", Some(&row.id), detail)?;
                ids.push(row.id.clone());
            }
            let keep = |role: &Option<String>| role.clone().filter(|id| ids.contains(id));
            set_roles(
                tx,
                &Roles {
                    current: keep(&record.current),
                    fallback: keep(&record.fallback),
                    trial: None,
                    next: keep(&record.next),
                    native_version: record.native_version.clone(),
                },
            )?;
            Ok(ids)
        })?;
        Ok(ids)
    }
}

/// Reads at most `limit` bytes of `path`; a longer file is refused.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other("over the envelope limit"));
    }
    Ok(bytes)
}

/// Held while an install runs; released on drop.
pub struct InstallLock {
    file: File,
}

impl Drop for InstallLock {
    /// Unlocks explicitly before the file closes. The lock belongs to the open file description,
    /// which a child forked by another thread of the app shares until it execs: closing our
    /// descriptor alone would leave the lock held by the child for that moment, and the next
    /// install would be refused as busy.
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    match e {
        rusqlite::Error::SqliteFailure(f, _) => matches!(f.code, DatabaseCorrupt | NotADatabase),
        // A file that opens but lacks our tables (or has mangled ones) is not our database.
        rusqlite::Error::QueryReturnedNoRows | rusqlite::Error::InvalidColumnType(..) => true,
        _ => false,
    }
}

fn has_envelopes(dir: &Path) -> Result<bool, StoreError> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(false);
    };
    for entry in rd {
        let path = entry.map_err(io("listing", dir))?.path();
        if file_name(&path).ends_with(".envelope.json") {
            return Ok(true);
        }
    }
    Ok(false)
}

fn decode_unverified(envelope: &[u8]) -> Option<Manifest> {
    use base64::Engine;
    let env: release::Envelope = serde_json::from_slice(envelope).ok()?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env.payload)
        .ok()?;
    serde_json::from_slice(&payload).ok()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ---- row access, used inside `Store::write` transactions or on `Store::read` ----

pub fn roles(conn: &Connection) -> Result<Roles, StoreError> {
    Ok(conn.query_row(
        "SELECT current, fallback, trial, next, native_version FROM state WHERE id = 1",
        [],
        |r| {
            Ok(Roles {
                current: r.get(0)?,
                fallback: r.get(1)?,
                trial: r.get(2)?,
                next: r.get(3)?,
                native_version: r.get(4)?,
            })
        },
    )?)
}

pub fn set_roles(conn: &Connection, roles: &Roles) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE state SET current = ?1, fallback = ?2, trial = ?3, next = ?4, native_version = ?5 WHERE id = 1",
        params![roles.current, roles.fallback, roles.trial, roles.next, roles.native_version],
    )?;
    Ok(())
}

fn row_to_bundle(r: &rusqlite::Row<'_>) -> rusqlite::Result<BundleRow> {
    let status: String = r.get(5)?;
    Ok(BundleRow {
        id: r.get(0)?,
        content_id: r.get(1)?,
        channel: r.get(2)?,
        sequence: r.get::<_, i64>(3)? as u64,
        version: r.get(4)?,
        status: if status == "failed" {
            BundleStatus::Failed
        } else {
            BundleStatus::Ready
        },
        failed_reason: r.get(6)?,
        installed_at: r.get::<_, i64>(7)? as u64,
        manifest: r.get(8)?,
    })
}

const BUNDLE_COLUMNS: &str =
    "id, content_id, channel, sequence, version, status, failed_reason, installed_at, manifest";

pub fn bundle(conn: &Connection, id: &str) -> Result<Option<BundleRow>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {BUNDLE_COLUMNS} FROM bundles WHERE id = ?1"),
            [id],
            row_to_bundle,
        )
        .optional()?)
}

pub fn bundles(conn: &Connection) -> Result<Vec<BundleRow>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {BUNDLE_COLUMNS} FROM bundles ORDER BY installed_at, sequence"
    ))?;
    let rows = stmt
        .query_map([], row_to_bundle)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn insert_bundle(conn: &Connection, b: &BundleRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO bundles (id, content_id, channel, sequence, version, status, failed_reason, installed_at, manifest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            b.id,
            b.content_id,
            b.channel,
            b.sequence as i64,
            b.version,
            if b.status == BundleStatus::Failed { "failed" } else { "ready" },
            b.failed_reason,
            b.installed_at as i64,
            b.manifest
        ],
    )?;
    Ok(())
}

pub fn mark_failed(conn: &Connection, id: &str, reason: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE bundles SET status = 'failed', failed_reason = ?2 WHERE id = ?1",
        params![id, reason],
    )?;
    Ok(())
}

pub fn delete_bundle_row(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM bundles WHERE id = ?1", [id])?;
    Ok(())
}

pub fn high_water(conn: &Connection, channel: &str) -> Result<Option<u64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sequence FROM high_water WHERE channel = ?1",
            [channel],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|s| s as u64))
}

/// Raises the channel's high-water mark to `sequence`; never lowers it.
pub fn raise_high_water(conn: &Connection, channel: &str, sequence: u64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO high_water (channel, sequence) VALUES (?1, ?2)
         ON CONFLICT(channel) DO UPDATE SET sequence = max(sequence, excluded.sequence)",
        params![channel, sequence as i64],
    )?;
    Ok(())
}

/// Blocklists `content_id` at the transaction's time; a content id blocklisted before keeps its
/// first reason and time.
pub fn blocklist(tx: &Tx<'_>, content_id: &str, reason: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO blocklist (content_id, reason, at) VALUES (?1, ?2, ?3)",
        params![content_id, reason, tx.now() as i64],
    )?;
    Ok(())
}

/// The reason a content id is blocklisted, if it is.
pub fn blocked(conn: &Connection, content_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT reason FROM blocklist WHERE content_id = ?1",
            [content_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// One blocklisted content id: why, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocked {
    pub content_id: String,
    pub reason: String,
    /// Unix seconds.
    pub at: u64,
}

/// Every blocklisted content id, oldest first.
pub fn blocklisted(conn: &Connection) -> Result<Vec<Blocked>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT content_id, reason, at FROM blocklist ORDER BY at, rowid")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Blocked {
                content_id: r.get(0)?,
                reason: r.get(1)?,
                at: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests;
