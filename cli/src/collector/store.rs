//! The collector's store: one `events` table, in SQLite (a file path) or PostgreSQL (a
//! `postgres://` or `postgresql://` URL), behind one [`Store`] with typed methods. This module
//! holds the SQL that both back ends run (the same text: SQLite accepts `$1` parameters too);
//! [`super::sqlite`] and [`super::postgres`] hold the schema and the driver calls.
//!
//! A body is applied in one transaction, in order: an event becomes one row, a deletion request
//! ([`DELETE_ACTION`]) deletes every row of its (app_id, device_id) and leaves no row of its own.

use anyhow::Result;
use liveship::telemetry::wire::actions;
use liveship::telemetry::{StatsEvent, DELETE_ACTION};

use super::{postgres::Postgres, sqlite::Sqlite};

/// Columns written for each event, in the order of [`INSERT`]'s parameters after `received_at`.
pub(super) const INSERT: &str = "INSERT INTO events (received_at, app_id, device_id, consent, \
    platform, channel, sequence, version_name, old_version_name, action, reason, bytes, delta, \
    at, version_build, version_code, version_os, plugin_version, is_emulator, is_prod, \
    default_channel) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
    $16, $17, $18, $19, $20, $21)";

pub(super) const DELETE: &str = "DELETE FROM events WHERE app_id = $1 AND device_id = $2";

/// When an event happened: the device's time when it is plausible (set, and not after the
/// collector received it), else the time it was received.
const WHEN: &str = "CASE WHEN at > 0 AND at <= received_at THEN at ELSE received_at END";

/// Every figure counts distinct devices (`device_id` is a per-release pseudonym under
/// `anonymous` consent, still one per device within a release).
fn release_counts_sql(channel_filter: bool) -> String {
    let failure_list = sql_list(
        actions::FAILURES
            .iter()
            .copied()
            .chain([actions::UPDATE_FAIL]),
    );
    let distinct_with =
        |action: &str| format!("COUNT(DISTINCT CASE WHEN action = '{action}' THEN device_id END)");
    // A trial started at a launch, or made current at once (`set`, immediate apply).
    let installs = format!(
        "COUNT(DISTINCT CASE WHEN action IN ({}) THEN device_id END)",
        sql_list([actions::TRIAL_START, actions::SET].into_iter())
    );
    format!(
        "SELECT channel, sequence, version_name, COUNT(DISTINCT device_id), {downloads}, \
         {installs}, {confirmed}, {reverted}, \
         COUNT(DISTINCT CASE WHEN action IN ({failure_list}) THEN device_id END) \
         FROM events WHERE sequence IS NOT NULL{filter} \
         GROUP BY channel, sequence, version_name ORDER BY channel, sequence, version_name",
        downloads = distinct_with(actions::DOWNLOAD_COMPLETE),
        installs = installs,
        confirmed = distinct_with(actions::APP_READY),
        reverted = distinct_with(actions::UPDATE_FAIL),
        filter = if channel_filter {
            " AND channel = $1"
        } else {
            ""
        },
    )
}

fn failures_sql(channel_filter: bool) -> String {
    let failure_list = sql_list(
        actions::FAILURES
            .iter()
            .copied()
            .chain([actions::UPDATE_FAIL]),
    );
    format!(
        "SELECT channel, sequence, version_name, action, COALESCE(reason, ''), \
         COUNT(DISTINCT device_id) FROM events \
         WHERE sequence IS NOT NULL AND action IN ({failure_list}){filter} \
         GROUP BY channel, sequence, version_name, action, COALESCE(reason, '') \
         ORDER BY channel, sequence, version_name, COUNT(DISTINCT device_id) DESC, action, \
         COALESCE(reason, '')",
        filter = if channel_filter {
            " AND channel = $1"
        } else {
            ""
        },
    )
}

/// The first time each device downloaded or confirmed each release, as `first` (`bucketed`:
/// divided by the bucket width `$1`).
fn firsts_sql(bucketed: bool) -> String {
    let width = if bucketed { " / $1" } else { "" };
    format!(
        "SELECT channel, sequence, version_name, action, MIN({WHEN}){width} AS first \
         FROM events WHERE sequence IS NOT NULL AND action IN ('{download}', '{ready}') \
         GROUP BY channel, sequence, version_name, action, device_id",
        download = actions::DOWNLOAD_COMPLETE,
        ready = actions::APP_READY,
    )
}

pub(super) fn adoption_span_sql() -> String {
    format!(
        "SELECT MIN(first), MAX(first) FROM ({}) f",
        firsts_sql(false)
    )
}

/// Devices per bucket of `$1` seconds, by the bucket of their first time.
pub(super) fn adoption_sql() -> String {
    format!(
        "SELECT channel, sequence, version_name, action, first, COUNT(*) FROM ({}) f \
         GROUP BY channel, sequence, version_name, action, first \
         ORDER BY channel, sequence, version_name, action, first",
        firsts_sql(true)
    )
}

fn sql_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn release_counts_query(channel: Option<&str>) -> String {
    release_counts_sql(channel.is_some())
}

pub(super) fn failures_query(channel: Option<&str>) -> String {
    failures_sql(channel.is_some())
}

/// One release as the store counts it (all figures are distinct devices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCounts {
    pub channel: String,
    pub sequence: u64,
    pub version: String,
    pub devices: u64,
    pub downloads: u64,
    pub installs: u64,
    pub confirmed: u64,
    pub reverted: u64,
    pub failed: u64,
}

/// Devices that reported `action` with `reason` about one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRow {
    pub channel: String,
    pub sequence: u64,
    pub version: String,
    pub action: String,
    pub reason: String,
    pub devices: u64,
}

/// Devices whose first `action` (download_complete or app_ready) about a release fell in
/// bucket `bucket` (Unix time / bucket width).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptionRow {
    pub channel: String,
    pub sequence: u64,
    pub version: String,
    pub action: String,
    pub bucket: i64,
    pub devices: u64,
}

/// What one body did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub stored: usize,
    pub deleted: usize,
    /// The body held at least one deletion request.
    pub deletion: bool,
}

/// One event's values in the order of [`INSERT`]'s parameters `$2..$21`.
pub(super) struct Values<'a> {
    pub e: &'a StatsEvent,
    pub sequence: Option<i64>,
    pub bytes: Option<i64>,
    pub at: i64,
}

impl<'a> Values<'a> {
    pub fn of(e: &'a StatsEvent) -> Self {
        // The collector refuses values above i64::MAX before they get here; saturate anyway.
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Values {
            e,
            sequence: e.sequence.map(int),
            bytes: e.bytes.map(int),
            at: int(e.at),
        }
    }
}

/// What a body asks of the store, one step per event, in order.
pub(super) enum Step<'a> {
    Insert(Values<'a>),
    Delete { app_id: &'a str, device_id: &'a str },
}

pub(super) fn steps(events: &[StatsEvent]) -> impl Iterator<Item = Step<'_>> {
    events.iter().map(|e| {
        if e.action == DELETE_ACTION {
            Step::Delete {
                app_id: &e.app_id,
                device_id: &e.device_id,
            }
        } else {
            Step::Insert(Values::of(e))
        }
    })
}

/// The events table in SQLite or PostgreSQL.
pub enum Store {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

impl Store {
    /// Opens the store named by `db` (a `postgres://` or `postgresql://` URL, else a SQLite file
    /// path, created if missing) and creates the table and its indexes if they are missing.
    pub fn open(db: &str) -> Result<Store> {
        if is_postgres(db) {
            Ok(Store::Postgres(Postgres::open(db)?))
        } else {
            Ok(Store::Sqlite(Sqlite::open(db, true)?))
        }
    }

    /// Like [`Store::open`], but a SQLite file must already exist (reading figures from a
    /// mistyped path is an error, not an empty report).
    pub fn open_existing(db: &str) -> Result<Store> {
        if is_postgres(db) {
            Ok(Store::Postgres(Postgres::open(db)?))
        } else {
            Ok(Store::Sqlite(Sqlite::open(db, false)?))
        }
    }

    /// Applies one body's events in one transaction (see the module doc).
    pub fn apply(&mut self, received_at: u64, events: &[StatsEvent]) -> Result<Applied> {
        let received_at = i64::try_from(received_at).unwrap_or(i64::MAX);
        match self {
            Store::Sqlite(s) => s.apply(received_at, events),
            Store::Postgres(s) => s.apply(received_at, events),
        }
    }

    /// Per-release device counts, optionally of one channel, ordered by channel and sequence.
    pub fn release_counts(&mut self, channel: Option<&str>) -> Result<Vec<ReleaseCounts>> {
        match self {
            Store::Sqlite(s) => s.release_counts(channel),
            Store::Postgres(s) => s.release_counts(channel),
        }
    }

    /// Devices per (release, failure action, reason), most frequent first within a release.
    pub fn failures(&mut self, channel: Option<&str>) -> Result<Vec<FailureRow>> {
        match self {
            Store::Sqlite(s) => s.failures(channel),
            Store::Postgres(s) => s.failures(channel),
        }
    }

    /// The first and last time a device first downloaded or confirmed a release, if any did.
    pub fn adoption_span(&mut self) -> Result<Option<(i64, i64)>> {
        match self {
            Store::Sqlite(s) => s.adoption_span(),
            Store::Postgres(s) => s.adoption_span(),
        }
    }

    /// New downloading and confirming devices per release and bucket of `width` seconds.
    pub fn adoption(&mut self, width: i64) -> Result<Vec<AdoptionRow>> {
        match self {
            Store::Sqlite(s) => s.adoption(width),
            Store::Postgres(s) => s.adoption(width),
        }
    }
}

pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `db` for messages: a URL without its user and password.
pub fn display_db(db: &str) -> String {
    if !is_postgres(db) {
        return db.to_owned();
    }
    let (scheme, rest) = db.split_once("://").unwrap_or(("postgres", db));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{rest}")
}

pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_in_messages() {
        assert_eq!(
            display_db("postgres://me:secret@127.0.0.1:5432/stats"),
            "postgres://127.0.0.1:5432/stats"
        );
        assert_eq!(display_db("/var/stats.db"), "/var/stats.db");
    }
}
