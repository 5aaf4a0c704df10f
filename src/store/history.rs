//! The transition history: one row per state change (installed, trial, confirmed, reverted,
//! reset, ...), for debugging, not an audit log. Rows are written inside the transition's own
//! write transaction, so a change and its row commit together, stamped with the transaction's
//! time ([`Tx::now`]); the table keeps the last 1,000 rows.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::{StoreError, Tx};

/// One row of the transition history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct HistoryEntry {
    pub seq: i64,
    /// Unix seconds.
    pub at: u64,
    pub event: String,
    pub bundle: Option<String>,
    pub detail: String,
}

/// Adds a history row at the transaction's time.
pub fn add_history(
    tx: &Tx<'_>,
    event: &str,
    bundle: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO history (at, event, bundle, detail) VALUES (?1, ?2, ?3, ?4)",
        params![tx.now() as i64, event, bundle, detail],
    )?;
    // History is for debugging, not an audit log: keep it bounded.
    tx.execute(
        "DELETE FROM history WHERE seq <= (SELECT max(seq) FROM history) - 1000",
        [],
    )?;
    Ok(())
}

/// The rows kept, oldest first.
pub fn history(conn: &Connection) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT seq, at, event, bundle, detail FROM history ORDER BY seq")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(HistoryEntry {
                seq: r.get(0)?,
                at: r.get::<_, i64>(1)? as u64,
                event: r.get(2)?,
                bundle: r.get(3)?,
                detail: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Erases the whole history (`deleteData`).
pub fn clear_history(tx: &Tx<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM history", [])?;
    Ok(())
}
