//! The `meta` table: small device facts, each behind a typed accessor so that no other module
//! names a key. Keys: `channel` (the `setChannel` override), `device_id` (random per install),
//! `envelope:<channel>` and `etag:<channel>` (the static mode's conditional-GET cache, per
//! channel), `delay_conditions` (`boot`'s pending delay conditions, as its JSON) and
//! `native_build` (the native build the last reconcile saw), `consent` (the user's consent
//! level, `setConsent`), `telemetry_secret` (what anonymous event ids are derived from),
//! `freshness:<channel>` (the newest envelope that verified, for `updatesStale`) and
//! `setting:<option>` (a value JavaScript set and the configuration persists: `updateUrl`, ...)
//! `capgo_wait_until` (Capgo mode: the end of the wait a 429 asked for) and `preview` (the
//! previews kept and the one serving).

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::config::Consent;

const CHANNEL: &str = "channel";
const DEVICE_ID: &str = "device_id";

fn envelope_key(channel: &str) -> String {
    format!("envelope:{channel}")
}

fn etag_key(channel: &str) -> String {
    format!("etag:{channel}")
}

/// The channel chosen with `setChannel`, if any (else the configured default applies).
pub fn channel(conn: &Connection) -> Result<Option<String>, StoreError> {
    meta(conn, CHANNEL)
}

pub fn set_channel(conn: &Connection, channel: &str) -> Result<(), StoreError> {
    set_meta(conn, CHANNEL, channel)
}

/// Forgets the `setChannel` override: the configured default applies again.
pub fn clear_channel(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [CHANNEL])?;
    Ok(())
}

/// The random per-install device id, once one was stored.
pub fn device_id(conn: &Connection) -> Result<Option<String>, StoreError> {
    meta(conn, DEVICE_ID)
}

pub fn set_device_id(conn: &Connection, id: &str) -> Result<(), StoreError> {
    set_meta(conn, DEVICE_ID, id)
}

/// The last envelope of a channel that verified, and the ETag it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedEnvelope {
    pub envelope: String,
    /// Sent as `If-None-Match`; `None` when the server gave none.
    pub etag: Option<String>,
}

/// The cached envelope of `channel`. An ETag without its envelope is never returned: a 304
/// must always have something to resurrect.
pub fn cached_envelope(
    conn: &Connection,
    channel: &str,
) -> Result<Option<CachedEnvelope>, StoreError> {
    let Some(envelope) = meta(conn, &envelope_key(channel))? else {
        return Ok(None);
    };
    Ok(Some(CachedEnvelope {
        envelope,
        etag: meta(conn, &etag_key(channel))?,
    }))
}

/// Caches a verified envelope of `channel` with its ETag (an earlier ETag stays when there is
/// none).
pub fn cache_envelope(
    conn: &Connection,
    channel: &str,
    envelope: &str,
    etag: Option<&str>,
) -> Result<(), StoreError> {
    set_meta(conn, &envelope_key(channel), envelope)?;
    if let Some(tag) = etag {
        set_meta(conn, &etag_key(channel), tag)?;
    }
    Ok(())
}

const PREVIEW: &str = "preview";

/// The previews installed on this device and the one serving, if any (`startPreviewSession`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Previews {
    /// The preview bundles kept (retention leaves them), oldest first.
    pub bundles: Vec<PreviewRecord>,
    /// The preview serving instead of the production line.
    pub active: Option<String>,
    /// The active preview was launched and its page has not confirmed since: if the app
    /// starts again so, the preview ends (its page never started).
    pub launched: bool,
}

/// One preview: its bundle, the channel it comes from, and the app's labels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviewRecord {
    pub id: String,
    pub channel: String,
    pub name: Option<String>,
    pub source: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    pub last_used_at: u64,
}

/// The preview state (empty when none was ever started, or unreadable).
pub fn previews(conn: &Connection) -> Result<Previews, StoreError> {
    Ok(meta(conn, PREVIEW)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

pub fn set_previews(conn: &Connection, p: &Previews) -> Result<(), StoreError> {
    set_meta(
        conn,
        PREVIEW,
        &serde_json::to_string(p).expect("previews serialise"),
    )
}

/// Keeps bundle `id` of `channel` as a preview, in the install's commit (`now`: Unix seconds);
/// the engine adds the app's labels.
pub fn add_preview_bundle(
    conn: &Connection,
    id: &str,
    channel: &str,
    now: u64,
) -> Result<(), StoreError> {
    let mut p = previews(conn)?;
    if !p.bundles.iter().any(|b| b.id == id) {
        p.bundles.push(PreviewRecord {
            id: id.into(),
            channel: channel.into(),
            name: None,
            source: None,
            created_at: now,
            updated_at: now,
            last_used_at: now,
        });
    }
    set_previews(conn, &p)
}

const CAPGO_WAIT: &str = "capgo_wait_until";

/// Capgo mode: until when (Unix seconds) a 429 asked the device not to check.
pub fn capgo_wait_until(conn: &Connection) -> Result<Option<u64>, StoreError> {
    Ok(meta(conn, CAPGO_WAIT)?.and_then(|v| v.parse().ok()))
}

pub fn set_capgo_wait_until(conn: &Connection, until: Option<u64>) -> Result<(), StoreError> {
    match until {
        Some(t) => set_meta(conn, CAPGO_WAIT, &t.to_string()),
        None => {
            conn.execute("DELETE FROM meta WHERE key = ?1", [CAPGO_WAIT])?;
            Ok(())
        }
    }
}

fn setting_key(option: &str) -> String {
    format!("setting:{option}")
}

/// The persisted run-time value of `option` (`updateUrl`, `customId`, ...), if any.
pub fn setting(conn: &Connection, option: &str) -> Result<Option<String>, StoreError> {
    meta(conn, &setting_key(option))
}

/// Persists `value` for `option`; `None` forgets it.
pub fn set_setting(conn: &Connection, option: &str, value: Option<&str>) -> Result<(), StoreError> {
    match value {
        Some(v) => set_meta(conn, &setting_key(option), v),
        None => {
            conn.execute("DELETE FROM meta WHERE key = ?1", [setting_key(option)])?;
            Ok(())
        }
    }
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub(super) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The meta key under which boot keeps its pending delay conditions.
const DELAY_CONDITIONS_KEY: &str = "delay_conditions";

/// The pending delay conditions, as the JSON `boot` wrote them (`None`: never set).
pub fn delay_conditions(conn: &Connection) -> Result<Option<String>, StoreError> {
    meta(conn, DELAY_CONDITIONS_KEY)
}

/// Replaces the pending delay conditions (`boot`'s JSON list; `[]` cancels the delay).
pub fn set_delay_conditions(conn: &Connection, json: &str) -> Result<(), StoreError> {
    set_meta(conn, DELAY_CONDITIONS_KEY, json)
}

const NATIVE_BUILD_KEY: &str = "native_build";

/// The native build (`nativeBuild`) the last native reconcile recorded (`None`: never, e.g. a
/// store written before the option existed).
pub fn native_build(conn: &Connection) -> Result<Option<String>, StoreError> {
    meta(conn, NATIVE_BUILD_KEY)
}

pub fn set_native_build(conn: &Connection, build: &str) -> Result<(), StoreError> {
    set_meta(conn, NATIVE_BUILD_KEY, build)
}

const CONSENT_KEY: &str = "consent";
const TELEMETRY_SECRET: &str = "telemetry_secret";

/// The user's consent level (`setConsent`); `None` until one was made. The values `true` and
/// `false` of earlier builds (a yes/no telemetry flag) read as `full` and `off`.
pub fn consent(conn: &Connection) -> Result<Option<Consent>, StoreError> {
    Ok(meta(conn, CONSENT_KEY)?.and_then(|v| match v.as_str() {
        "true" => Some(Consent::Full),
        "false" => Some(Consent::Off),
        other => Consent::parse(other),
    }))
}

/// Records the consent level; `None` forgets it (`deleteData`).
pub fn set_consent(conn: &Connection, level: Option<Consent>) -> Result<(), StoreError> {
    match level {
        Some(c) => set_meta(conn, CONSENT_KEY, c.as_str()),
        None => {
            conn.execute("DELETE FROM meta WHERE key = ?1", [CONSENT_KEY])?;
            Ok(())
        }
    }
}

/// The random secret anonymous event ids are derived from (never sent), once one was made.
pub fn telemetry_secret(conn: &Connection) -> Result<Option<String>, StoreError> {
    meta(conn, TELEMETRY_SECRET)
}

/// Stores the anonymous-id secret; `None` forgets it, so ids made after are unrelated.
pub fn set_telemetry_secret(conn: &Connection, secret: Option<&str>) -> Result<(), StoreError> {
    match secret {
        Some(s) => set_meta(conn, TELEMETRY_SECRET, s),
        None => {
            conn.execute("DELETE FROM meta WHERE key = ?1", [TELEMETRY_SECRET])?;
            Ok(())
        }
    }
}

fn freshness_key(channel: &str) -> String {
    format!("freshness:{channel}")
}

/// The newest envelope of a channel that verified on this device (highest sequence, then
/// latest `issued_at`): how fresh the device's view of its channel is. A replayed older
/// envelope never replaces it, so once it expires without a fresher one the host is serving
/// stale releases (or none), and `updatesStale` is reported once for it (`stale_reported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Freshness {
    pub sequence: u64,
    pub issued_at: u64,
    pub expires_at: u64,
    #[serde(default)]
    pub stale_reported: bool,
}

impl Freshness {
    /// Whether an envelope of `sequence` issued at `issued_at` is newer than this one.
    pub fn superseded_by(&self, sequence: u64, issued_at: u64) -> bool {
        (sequence, issued_at) > (self.sequence, self.issued_at)
    }
}

/// The freshness record of `channel` (`None`: no envelope of it verified yet). An unreadable
/// record reads as none: it is rebuilt from the next envelope that verifies.
pub fn freshness(conn: &Connection, channel: &str) -> Result<Option<Freshness>, StoreError> {
    Ok(meta(conn, &freshness_key(channel))?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub fn set_freshness(conn: &Connection, channel: &str, f: &Freshness) -> Result<(), StoreError> {
    set_meta(
        conn,
        &freshness_key(channel),
        &serde_json::to_string(f).expect("freshness serializes"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn channel_override_is_set_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path()).unwrap();
        assert_eq!(channel(store.read()).unwrap(), None);
        store.write(|tx| set_channel(tx, "beta")).unwrap();
        assert_eq!(channel(store.read()).unwrap().as_deref(), Some("beta"));
        store.write(|tx| clear_channel(tx)).unwrap();
        assert_eq!(channel(store.read()).unwrap(), None);
    }

    #[test]
    fn envelope_cache_is_per_channel_and_keeps_the_last_etag() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path()).unwrap();
        assert_eq!(cached_envelope(store.read(), "production").unwrap(), None);
        store
            .write(|tx| cache_envelope(tx, "production", "{1}", Some("\"v1\"")))
            .unwrap();
        store
            .write(|tx| cache_envelope(tx, "production", "{2}", None))
            .unwrap();
        assert_eq!(
            cached_envelope(store.read(), "production").unwrap(),
            Some(CachedEnvelope {
                envelope: "{2}".into(),
                etag: Some("\"v1\"".into()),
            })
        );
        assert_eq!(cached_envelope(store.read(), "beta").unwrap(), None);
    }

    #[test]
    fn consent_is_unset_until_chosen_and_can_be_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path()).unwrap();
        assert_eq!(consent(store.read()).unwrap(), None);
        for level in [Consent::Off, Consent::Anonymous, Consent::Full] {
            store.write(|tx| set_consent(tx, Some(level))).unwrap();
            assert_eq!(consent(store.read()).unwrap(), Some(level));
        }
        // The yes/no flag of earlier builds.
        store.write(|tx| set_meta(tx, CONSENT_KEY, "true")).unwrap();
        assert_eq!(consent(store.read()).unwrap(), Some(Consent::Full));
        store
            .write(|tx| set_meta(tx, CONSENT_KEY, "false"))
            .unwrap();
        assert_eq!(consent(store.read()).unwrap(), Some(Consent::Off));
        store.write(|tx| set_consent(tx, None)).unwrap();
        assert_eq!(consent(store.read()).unwrap(), None);
    }
}
