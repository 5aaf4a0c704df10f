//! The events table in PostgreSQL, for fleets that outgrow one file: the synchronous `postgres`
//! client (the collector calls it off the async runtime, as it does SQLite), without TLS (meant
//! for a server on loopback or a private network), one transaction per body.

use anyhow::{Context, Result};
use liveship::telemetry::StatsEvent;
use postgres::{Client, NoTls};

use super::store::{self, AdoptionRow, Applied, FailureRow, ReleaseCounts, Step};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at BIGINT NOT NULL,
    app_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    consent TEXT NOT NULL,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    sequence BIGINT,
    version_name TEXT NOT NULL,
    old_version_name TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    bytes BIGINT,
    delta BOOLEAN,
    at BIGINT NOT NULL,
    version_build TEXT NOT NULL,
    version_code TEXT NOT NULL,
    version_os TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    is_emulator BOOLEAN NOT NULL,
    is_prod BOOLEAN NOT NULL,
    default_channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_install ON events (app_id, device_id);
CREATE INDEX IF NOT EXISTS events_release ON events (channel, sequence);
";

pub struct Postgres {
    client: Client,
}

impl Postgres {
    /// Connects to `url` and creates the table and its indexes if they are missing.
    pub fn open(url: &str) -> Result<Postgres> {
        let shown = store::display_db(url);
        let mut client = Client::connect(url, NoTls)
            .with_context(|| format!("cannot connect to stats database {shown}"))?;
        client
            .batch_execute(SCHEMA)
            .with_context(|| format!("cannot create the events table in {shown}"))?;
        Ok(Postgres { client })
    }

    pub fn apply(&mut self, received_at: i64, events: &[StatsEvent]) -> Result<Applied> {
        let mut tx = self.client.transaction()?;
        let insert = tx.prepare(store::INSERT)?;
        let delete = tx.prepare(store::DELETE)?;
        let mut applied = Applied::default();
        for step in store::steps(events) {
            match step {
                Step::Insert(v) => {
                    let e = v.e;
                    tx.execute(
                        &insert,
                        &[
                            &received_at,
                            &e.app_id,
                            &e.device_id,
                            &e.consent,
                            &e.platform,
                            &e.channel,
                            &v.sequence,
                            &e.version_name,
                            &e.old_version_name,
                            &e.action,
                            &e.reason,
                            &v.bytes,
                            &e.delta,
                            &v.at,
                            &e.version_build,
                            &e.version_code,
                            &e.version_os,
                            &e.plugin_version,
                            &e.is_emulator,
                            &e.is_prod,
                            &e.default_channel,
                        ],
                    )?;
                    applied.stored += 1;
                }
                Step::Delete { app_id, device_id } => {
                    applied.deletion = true;
                    let n = tx.execute(&delete, &[&app_id, &device_id])?;
                    applied.deleted += usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    fn query(
        &mut self,
        sql: &str,
        channel: Option<&str>,
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        match channel {
            Some(ch) => self.client.query(sql, &[&ch]),
            None => self.client.query(sql, &[]),
        }
    }

    pub fn release_counts(&mut self, channel: Option<&str>) -> Result<Vec<ReleaseCounts>> {
        let rows = self.query(&store::release_counts_query(channel), channel)?;
        rows.iter()
            .map(|r| {
                Ok(ReleaseCounts {
                    channel: r.try_get(0)?,
                    sequence: store::count(r.try_get(1)?),
                    version: r.try_get(2)?,
                    devices: store::count(r.try_get(3)?),
                    downloads: store::count(r.try_get(4)?),
                    installs: store::count(r.try_get(5)?),
                    confirmed: store::count(r.try_get(6)?),
                    reverted: store::count(r.try_get(7)?),
                    failed: store::count(r.try_get(8)?),
                })
            })
            .collect()
    }

    pub fn failures(&mut self, channel: Option<&str>) -> Result<Vec<FailureRow>> {
        let rows = self.query(&store::failures_query(channel), channel)?;
        rows.iter()
            .map(|r| {
                Ok(FailureRow {
                    channel: r.try_get(0)?,
                    sequence: store::count(r.try_get(1)?),
                    version: r.try_get(2)?,
                    action: r.try_get(3)?,
                    reason: r.try_get(4)?,
                    devices: store::count(r.try_get(5)?),
                })
            })
            .collect()
    }

    pub fn adoption_span(&mut self) -> Result<Option<(i64, i64)>> {
        let row = self.client.query_one(&store::adoption_span_sql(), &[])?;
        let (a, b): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
        Ok(a.zip(b))
    }

    pub fn adoption(&mut self, width: i64) -> Result<Vec<AdoptionRow>> {
        let rows = self.client.query(&store::adoption_sql(), &[&width])?;
        rows.iter()
            .map(|r| {
                Ok(AdoptionRow {
                    channel: r.try_get(0)?,
                    sequence: store::count(r.try_get(1)?),
                    version: r.try_get(2)?,
                    action: r.try_get(3)?,
                    bucket: r.try_get(4)?,
                    devices: store::count(r.try_get(5)?),
                })
            })
            .collect()
    }
}
