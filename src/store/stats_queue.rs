//! The `stats_queue` table: telemetry waiting to be sent, oldest first. Two kinds of rows:
//! `event` (an update event, queued only under consent, purged when consent is withdrawn) and
//! `deletion` (the request to erase a rotated install id's data at the collector, sent whatever
//! the consent now is). The queue is bounded: past [`QUEUE_CAP`] events the oldest event is
//! dropped and counted (`stats_dropped` in `meta`), so a device that never reaches its
//! collector never grows its database. Rows are only removed once the collector took them.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::meta::{meta, set_meta};
use super::{StoreError, Tx};

/// The most events the queue keeps.
pub const QUEUE_CAP: u64 = 500;

const DROPPED: &str = "stats_dropped";

/// What a queued row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum QueueKind {
    Event,
    Deletion,
}

impl QueueKind {
    fn as_str(self) -> &'static str {
        match self {
            QueueKind::Event => "event",
            QueueKind::Deletion => "deletion",
        }
    }
}

/// One queued row: `body` is the JSON of one stats event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    pub seq: i64,
    pub kind: QueueKind,
    /// Unix seconds it was queued.
    pub at: u64,
    pub body: String,
}

/// Queues `body` at the transaction's time. An event beyond [`QUEUE_CAP`] drops the oldest
/// events; returns how many it dropped (also added to [`stats_dropped`]).
pub fn enqueue_stat(tx: &Tx<'_>, kind: QueueKind, body: &str) -> Result<u64, StoreError> {
    tx.execute(
        "INSERT INTO stats_queue (kind, at, body) VALUES (?1, ?2, ?3)",
        params![kind.as_str(), tx.now() as i64, body],
    )?;
    let events = tx.query_row(
        "SELECT count(*) FROM stats_queue WHERE kind = 'event'",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let over = events.saturating_sub(QUEUE_CAP);
    if over > 0 {
        tx.execute(
            "DELETE FROM stats_queue WHERE seq IN \
             (SELECT seq FROM stats_queue WHERE kind = 'event' ORDER BY seq LIMIT ?1)",
            [over as i64],
        )?;
        let dropped = stats_dropped(tx)?.saturating_add(over);
        set_meta(tx, DROPPED, &dropped.to_string())?;
    }
    Ok(over)
}

/// Up to `limit` queued rows of `kind`, oldest first.
pub fn queued_stats(
    conn: &Connection,
    kind: QueueKind,
    limit: usize,
) -> Result<Vec<Queued>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT seq, at, body FROM stats_queue WHERE kind = ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt
        .query_map(params![kind.as_str(), limit as i64], |r| {
            Ok(Queued {
                seq: r.get(0)?,
                kind,
                at: r.get::<_, i64>(1)? as u64,
                body: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many rows of `kind` wait.
pub fn queued_count(conn: &Connection, kind: QueueKind) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM stats_queue WHERE kind = ?1",
        [kind.as_str()],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// Removes the rows `seqs` (the collector took them, or refused them for good).
pub fn remove_stats(tx: &Tx<'_>, seqs: &[i64]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare("DELETE FROM stats_queue WHERE seq = ?1")?;
    for s in seqs {
        stmt.execute([s])?;
    }
    Ok(())
}

/// Removes every queued event (consent withdrawn); deletion requests stay. Returns how many.
pub fn purge_stat_events(tx: &Tx<'_>) -> Result<u64, StoreError> {
    Ok(tx.execute("DELETE FROM stats_queue WHERE kind = 'event'", [])? as u64)
}

/// Events dropped because the queue was full, since the counter was last cleared.
pub fn stats_dropped(conn: &Connection) -> Result<u64, StoreError> {
    Ok(meta(conn, DROPPED)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Clears the drop counter (`deleteData`).
pub fn clear_stats_dropped(tx: &Tx<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM meta WHERE key = ?1", [DROPPED])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn the_queue_keeps_the_newest_events_and_counts_what_it_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path()).unwrap();
        store
            .write(|tx| enqueue_stat(tx, QueueKind::Deletion, "{\"d\":1}"))
            .unwrap();
        let mut dropped = 0;
        for i in 0..QUEUE_CAP + 20 {
            dropped += store
                .write(|tx| enqueue_stat(tx, QueueKind::Event, &format!("{{\"i\":{i}}}")))
                .unwrap();
        }
        assert_eq!(dropped, 20);
        assert_eq!(stats_dropped(store.read()).unwrap(), 20);
        assert_eq!(
            queued_count(store.read(), QueueKind::Event).unwrap(),
            QUEUE_CAP
        );
        let oldest = queued_stats(store.read(), QueueKind::Event, 1).unwrap();
        assert_eq!(oldest[0].body, "{\"i\":20}", "the oldest events went first");
        // A deletion request is never dropped to make room.
        assert_eq!(queued_count(store.read(), QueueKind::Deletion).unwrap(), 1);
        assert_eq!(store.write(purge_stat_events).unwrap(), QUEUE_CAP);
        assert_eq!(queued_count(store.read(), QueueKind::Deletion).unwrap(), 1);
    }
}
