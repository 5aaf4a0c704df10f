//! The events table in a SQLite file: WAL mode (the dashboard and `liveship stats` read while
//! the collector writes), one connection, one transaction per body.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use liveship::telemetry::StatsEvent;
use rusqlite::{params, Connection, OptionalExtension};

use super::store::{self, AdoptionRow, Applied, FailureRow, ReleaseCounts, Step};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    app_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    consent TEXT NOT NULL,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    sequence INTEGER,
    version_name TEXT NOT NULL,
    old_version_name TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    bytes INTEGER,
    delta INTEGER,
    at INTEGER NOT NULL,
    version_build TEXT NOT NULL,
    version_code TEXT NOT NULL,
    version_os TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    is_emulator INTEGER NOT NULL,
    is_prod INTEGER NOT NULL,
    default_channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_install ON events (app_id, device_id);
CREATE INDEX IF NOT EXISTS events_release ON events (channel, sequence);
";

pub struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Opens (with `create`, creating it if missing) the database file at `path`.
    pub fn open(path: &str, create: bool) -> Result<Sqlite> {
        if !create && !Path::new(path).is_file() {
            bail!("stats database {path} does not exist");
        }
        let conn =
            Connection::open(path).with_context(|| format!("cannot open stats database {path}"))?;
        // Another process (`liveship stats`) may hold the lock for a moment.
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .with_context(|| format!("cannot switch {path} to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            bail!("stats database {path} stays in journal mode {mode}, not WAL");
        }
        // Stats may lose the last transactions on power loss, never become corrupt (WAL).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("cannot create the events table in {path}"))?;
        Ok(Sqlite { conn })
    }

    pub fn apply(&mut self, received_at: i64, events: &[StatsEvent]) -> Result<Applied> {
        let tx = self.conn.transaction()?;
        let mut applied = Applied::default();
        {
            let mut insert = tx.prepare_cached(store::INSERT)?;
            let mut delete = tx.prepare_cached(store::DELETE)?;
            for step in store::steps(events) {
                match step {
                    Step::Insert(v) => {
                        let e = v.e;
                        insert.execute(params![
                            received_at,
                            e.app_id,
                            e.device_id,
                            e.consent,
                            e.platform,
                            e.channel,
                            v.sequence,
                            e.version_name,
                            e.old_version_name,
                            e.action,
                            e.reason,
                            v.bytes,
                            e.delta,
                            v.at,
                            e.version_build,
                            e.version_code,
                            e.version_os,
                            e.plugin_version,
                            e.is_emulator,
                            e.is_prod,
                            e.default_channel,
                        ])?;
                        applied.stored += 1;
                    }
                    Step::Delete { app_id, device_id } => {
                        applied.deletion = true;
                        applied.deleted += delete.execute(params![app_id, device_id])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    pub fn release_counts(&mut self, channel: Option<&str>) -> Result<Vec<ReleaseCounts>> {
        let mut stmt = self.conn.prepare(&store::release_counts_query(channel))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(channel), |r| {
            Ok(ReleaseCounts {
                channel: r.get(0)?,
                sequence: store::count(r.get(1)?),
                version: r.get(2)?,
                devices: store::count(r.get(3)?),
                downloads: store::count(r.get(4)?),
                installs: store::count(r.get(5)?),
                confirmed: store::count(r.get(6)?),
                reverted: store::count(r.get(7)?),
                failed: store::count(r.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn failures(&mut self, channel: Option<&str>) -> Result<Vec<FailureRow>> {
        let mut stmt = self.conn.prepare(&store::failures_query(channel))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(channel), |r| {
            Ok(FailureRow {
                channel: r.get(0)?,
                sequence: store::count(r.get(1)?),
                version: r.get(2)?,
                action: r.get(3)?,
                reason: r.get(4)?,
                devices: store::count(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn adoption_span(&mut self) -> Result<Option<(i64, i64)>> {
        let span: Option<(Option<i64>, Option<i64>)> = self
            .conn
            .query_row(&store::adoption_span_sql(), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match span {
            Some((Some(a), Some(b))) => Some((a, b)),
            _ => None,
        })
    }

    pub fn adoption(&mut self, width: i64) -> Result<Vec<AdoptionRow>> {
        let mut stmt = self.conn.prepare(&store::adoption_sql())?;
        let rows = stmt.query_map([width], |r| {
            Ok(AdoptionRow {
                channel: r.get(0)?,
                sequence: store::count(r.get(1)?),
                version: r.get(2)?,
                action: r.get(3)?,
                bucket: r.get(4)?,
                devices: store::count(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
