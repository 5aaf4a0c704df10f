//! The boot protocol: which bundle serves at launch, the trial of a new bundle, its confirmation
//! by the page that runs it, and the automatic revert of a bundle that never confirmed.
//!
//! Guarantees:
//! - [`launch`] persists the trial marker before it returns the trial's path, so a process that
//!   dies while the new bundle starts is known to have tried it.
//! - A trial still pending at the next launch, or when the ready timer fires, is marked failed,
//!   its content blocklisted, and the last confirmed bundle (else the built-in one) serves.
//! - [`confirm`] credits only the bundle it names, and only if that bundle is on trial: the page
//!   of the outgoing bundle cannot confirm the incoming one.
//! - The high-water mark is never lowered here; reverts are local and do not re-open old sequences.

use std::path::PathBuf;

use rusqlite::Connection;
use serde::Serialize;

use crate::config::{self, Config};
use crate::release::{Incident, Manifest};
use crate::store::{self, BundleRow, BundleStatus, Roles, Store, StoreError};

/// The id of the bundle shipped inside the app.
pub const BUILTIN: &str = "builtin";

/// Why a trial was reverted at launch.
pub const REASON_NOT_CONFIRMED: &str = "not confirmed by notifyAppReady before the app restarted";

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("bundle {id} is not installed")]
    UnknownBundle { id: String },
    #[error("bundle {id} is not on trial (trial: {trial:?}); only the page of the bundle on trial can confirm it")]
    NotOnTrial { id: String, trial: Option<String> },
    #[error("bundle {id} is {role}; it cannot be deleted")]
    InUse { id: String, role: &'static str },
    #[error("bundle {id} failed before ({reason}); it cannot be used again")]
    BundleFailed { id: String, reason: String },
    #[error("bundle {id} requires native version {min:?}..={max:?}, this app is {native}")]
    Incompatible {
        id: String,
        native: String,
        min: Option<String>,
        max: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A revert that happened, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reverted {
    pub id: String,
    pub version: String,
    pub reason: String,
}

/// What native start-up must load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaunchResult {
    /// Bundle id, or [`BUILTIN`].
    pub id: String,
    pub version: String,
    /// Folder to serve; `None` for the built-in bundle.
    pub path: Option<PathBuf>,
    /// True when this launch is the bundle's trial: the page must call `notifyAppReady`.
    pub trial: bool,
    pub reverted: Option<Reverted>,
}

/// Where `reset` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    /// Serve the built-in bundle; forget current, trial and next.
    Builtin,
    /// Serve the last confirmed bundle; drop a pending trial or next without blaming it.
    LastGood,
}

/// A condition that must hold before a downloaded `next` bundle starts serving (Capgo's
/// `setMultiDelay`). Each condition is removed once it has been met; `next` applies when none
/// remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DelayCondition {
    /// The app spent at least `ms` in the background (checked when it returns to the foreground).
    #[serde(rename_all = "camelCase")]
    Background { ms: u64 },
    /// The app was killed and started again (met at the next launch).
    Kill,
    /// Not before this time (Unix seconds).
    #[serde(rename_all = "camelCase")]
    Date { not_before: u64 },
    /// The native app is at least this version.
    #[serde(rename_all = "camelCase")]
    NativeVersion { at_least: String },
}

/// When delay conditions are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A cold start (`launch`): meets `Kill`.
    Launch,
    /// The app returned to the foreground after `background_ms` away: meets `Background`.
    Foreground { background_ms: u64 },
    /// An in-process apply (`apply_next`): meets neither.
    Apply,
}

const DELAY_KEY: &str = "delay_conditions";

/// The pending delay conditions.
pub fn delay(conn: &Connection) -> Result<Vec<DelayCondition>, BootError> {
    Ok(store::meta(conn, DELAY_KEY)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// Replaces the delay conditions (an empty list cancels the delay).
pub fn set_delay(store: &mut Store, conditions: &[DelayCondition]) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let json = serde_json::to_string(conditions).expect("conditions serialize");
        store::set_meta(tx, DELAY_KEY, &json)?;
        store::add_history(tx, "delay", None, &format!("delay conditions set: {json}"))?;
        Ok(())
    })
}

/// Drops the conditions met at `moment`; true when none remain, i.e. `next` may apply.
fn settle_delay(tx: &Connection, config: &Config, moment: Moment) -> Result<bool, BootError> {
    let pending = delay(tx)?;
    if pending.is_empty() {
        return Ok(true);
    }
    let now = store::now();
    let remaining: Vec<DelayCondition> = pending
        .iter()
        .filter(|c| {
            let met = match c {
                DelayCondition::Kill => moment == Moment::Launch,
                DelayCondition::Background { ms } => {
                    matches!(moment, Moment::Foreground { background_ms } if background_ms >= *ms)
                }
                DelayCondition::Date { not_before } => now >= *not_before,
                DelayCondition::NativeVersion { at_least } => {
                    config::compare_versions(&config.native_version, at_least).is_ge()
                }
            };
            !met
        })
        .cloned()
        .collect();
    if remaining.len() != pending.len() {
        let json = serde_json::to_string(&remaining).expect("conditions serialize");
        store::set_meta(tx, DELAY_KEY, &json)?;
        store::add_history(
            tx,
            "delay",
            None,
            &format!("delay conditions remaining: {json}"),
        )?;
    }
    Ok(remaining.is_empty())
}

/// Settles the delay conditions at `moment` on their own (the foreground check); true when
/// none remain.
pub fn settle(store: &mut Store, config: &Config, moment: Moment) -> Result<bool, BootError> {
    store.write(|tx| settle_delay(tx, config, moment))
}

/// How a bundle stands, for `list` and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleInfo {
    pub id: String,
    pub version: String,
    pub channel: String,
    pub sequence: u64,
    /// `current`, `fallback`, `trial`, `next`, `ready` (installed, no role) or `failed`.
    pub status: String,
    pub failed_reason: Option<String>,
    pub installed_at: u64,
}

pub fn role_of(roles: &Roles, b: &BundleRow) -> &'static str {
    let id = Some(b.id.as_str());
    if roles.trial.as_deref() == id {
        "trial"
    } else if roles.current.as_deref() == id {
        "current"
    } else if roles.next.as_deref() == id {
        "next"
    } else if roles.fallback.as_deref() == id {
        "fallback"
    } else if b.status == BundleStatus::Failed {
        "failed"
    } else {
        "ready"
    }
}

pub fn info(roles: &Roles, b: &BundleRow) -> BundleInfo {
    BundleInfo {
        id: b.id.clone(),
        version: b.version.clone(),
        channel: b.channel.clone(),
        sequence: b.sequence,
        status: role_of(roles, b).to_string(),
        failed_reason: b.failed_reason.clone(),
        installed_at: b.installed_at,
    }
}

/// Native start-up's question: which bundle, and is it a trial. Never fails: any error with the
/// state falls back to the built-in bundle (and is logged), so the app always starts.
pub fn launch(store: &mut Store, config: &Config) -> LaunchResult {
    match try_launch(store, config, Moment::Launch) {
        Ok(r) => r,
        Err(e) => {
            log::error!("launch: state unusable, serving the built-in bundle: {e}");
            builtin(config, None)
        }
    }
}

fn builtin(config: &Config, reverted: Option<Reverted>) -> LaunchResult {
    LaunchResult {
        id: BUILTIN.into(),
        version: config.builtin_version.clone(),
        path: None,
        trial: false,
        reverted,
    }
}

fn try_launch(
    store: &mut Store,
    config: &Config,
    moment: Moment,
) -> Result<LaunchResult, BootError> {
    let bundles_dir = store.bundles_dir();
    let (serve, trial, reverted) = store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        on_native_version(tx, config, &mut roles)?;
        let mut reverted = None;
        if let Some(id) = roles.trial.take() {
            reverted = Some(fail_bundle(tx, &id, REASON_NOT_CONFIRMED)?);
        }
        // A `next` that failed or whose content was blocklisted since it was chosen (the same
        // content re-published, picked again by `set_next`, or just reverted above) never gets
        // another trial.
        if let Some(id) = roles.next.clone() {
            let usable = match store::bundle(tx, &id)? {
                Some(b) => {
                    b.status == BundleStatus::Ready && store::blocked(tx, &b.content_id)?.is_none()
                }
                None => false,
            };
            if !usable {
                roles.next = None;
                store::add_history(
                    tx,
                    "skipped",
                    Some(&id),
                    "next bundle failed or blocklisted; not tried again",
                )?;
            }
        }
        if reverted.is_some() {
            // The revert decides this launch; a pending `next` waits for the next one.
        } else if roles.next.is_some() && settle_delay(tx, config, moment)? {
            let id = roles.next.take().expect("checked above");
            fail::fail_point!("launch.before_trial_commit");
            // A `next` whose directory went missing is not worth a crash on the trial run.
            if bundles_dir.join(&id).join("index.html").is_file() {
                roles.trial = Some(id.clone());
                store::add_history(
                    tx,
                    "trial",
                    Some(&id),
                    "launched on trial; awaiting notifyAppReady",
                )?;
            } else {
                store::mark_failed(tx, &id, "bundle directory missing at launch")?;
                store::add_history(
                    tx,
                    "skipped",
                    Some(&id),
                    "bundle directory missing at launch",
                )?;
            }
        }
        // What serves: the trial, else the last confirmed bundle if its files are there.
        let mut serve = roles.trial.clone().or(roles.current.clone());
        if let Some(id) = &serve {
            if !bundles_dir.join(id).join("index.html").is_file() {
                store::add_history(
                    tx,
                    "skipped",
                    Some(id),
                    "bundle directory missing; serving built-in",
                )?;
                if roles.current.as_deref() == Some(id) {
                    roles.current = None;
                }
                serve = None;
            }
        }
        store::set_roles(tx, &roles)?;
        let serve = match serve {
            Some(id) => store::bundle(tx, &id)?,
            None => None,
        };
        Ok((serve, roles.trial.is_some(), reverted))
    })?;
    fail::fail_point!("launch.committed");
    Ok(match serve {
        Some(b) => LaunchResult {
            path: Some(bundles_dir.join(&b.id)),
            id: b.id,
            version: b.version,
            trial,
            reverted,
        },
        None => builtin(config, reverted),
    })
}

/// Marks a bundle failed and blocklists its content; returns the revert record.
fn fail_bundle(tx: &Connection, id: &str, reason: &str) -> Result<Reverted, BootError> {
    let row = store::bundle(tx, id)?;
    let version = row.as_ref().map(|b| b.version.clone()).unwrap_or_default();
    store::mark_failed(tx, id, reason)?;
    if let Some(b) = &row {
        store::blocklist(tx, &b.content_id, reason)?;
    }
    store::add_history(tx, "reverted", Some(id), reason)?;
    log::warn!("bundle {id} ({version}) reverted: {reason}");
    Ok(Reverted {
        id: id.to_string(),
        version,
        reason: reason.to_string(),
    })
}

/// Applies a native version change now (at open), so that nothing is installed for the new
/// native version and then dropped by the first launch.
pub fn reconcile_native(store: &mut Store, config: &Config) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        let before = roles.clone();
        on_native_version(tx, config, &mut roles)?;
        if roles != before {
            store::set_roles(tx, &roles)?;
        }
        Ok(())
    })
}

/// A new native version drops the bundles it cannot run (and, with `resetWhenUpdate`, all of them).
fn on_native_version(tx: &Connection, config: &Config, roles: &mut Roles) -> Result<(), BootError> {
    let previous = roles.native_version.replace(config.native_version.clone());
    let Some(previous) = previous else {
        return Ok(());
    };
    if previous == config.native_version {
        return Ok(());
    }
    let mut dropped = Vec::new();
    for b in store::bundles(tx)? {
        let m = b.manifest()?;
        if config.reset_when_update || !config::native_in_range(&config.native_version, &m.native) {
            dropped.push(b.id.clone());
            for role in [
                &mut roles.current,
                &mut roles.fallback,
                &mut roles.trial,
                &mut roles.next,
            ] {
                if role.as_deref() == Some(b.id.as_str()) {
                    *role = None;
                }
            }
            // The row goes; its directory is removed by the next retention pass or open.
            store::delete_bundle_row(tx, &b.id)?;
        }
    }
    store::add_history(
        tx,
        "native_update",
        None,
        &format!(
            "native version {previous} -> {}; dropped bundles {dropped:?}",
            config.native_version
        ),
    )?;
    Ok(())
}

/// Switches to `next` now, in-process (apply mode `immediate`, Capgo's `set`): it becomes the
/// trial exactly as at a launch. `None` when there is no `next`, or delay conditions that an
/// in-process apply cannot meet are pending.
pub fn apply_next(store: &mut Store, config: &Config) -> Result<Option<LaunchResult>, BootError> {
    let roles = store::roles(store.read())?;
    // A trial whose page may still be starting is not blamed for an in-process apply: the next
    // bundle waits for the trial's confirmation (or the next launch).
    if roles.next.is_none() || roles.trial.is_some() {
        return Ok(None);
    }
    if !store.write(|tx| settle_delay(tx, config, Moment::Apply))? {
        return Ok(None);
    }
    Ok(Some(try_launch(store, config, Moment::Apply)?))
}

/// Obeys a signed incident: bundles of the manifest's channel whose sequence is revoked, or whose
/// content id is revoked, are marked failed, blocklisted and lose their roles (current falls back
/// to the fallback, else built-in); `revert_to_builtin` drops every role. Returns the reverts.
pub fn revoke(
    store: &mut Store,
    m: &Manifest,
    incident: &Incident,
) -> Result<Vec<Reverted>, BootError> {
    let label = m.label();
    store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        let mut reverted = Vec::new();
        for b in store::bundles(tx)? {
            let revoked = (b.channel == m.channel
                && incident.revoked_sequences.contains(&b.sequence))
                || incident.revoked_sha256.contains(&b.content_id);
            if !revoked || b.status == BundleStatus::Failed {
                continue;
            }
            let reason = format!("revoked by the publisher in {label}");
            reverted.push(fail_bundle(tx, &b.id, &reason)?);
            for role in [&mut roles.trial, &mut roles.next, &mut roles.fallback] {
                if role.as_deref() == Some(b.id.as_str()) {
                    *role = None;
                }
            }
            if roles.current.as_deref() == Some(b.id.as_str()) {
                roles.current = roles.fallback.take();
            }
        }
        // Revocations stick for releases this device does not have yet: revoked content is
        // blocklisted, and revoked sequences (and, for a revert to built-in, this manifest's
        // own) can never be installed later.
        for content_id in &incident.revoked_sha256 {
            store::blocklist(
                tx,
                content_id,
                &format!("revoked by the publisher in {label}"),
            )?;
        }
        if let Some(max) = incident.revoked_sequences.iter().max() {
            store::raise_high_water(tx, &m.channel, *max)?;
        }
        if incident.revert_to_builtin {
            store::raise_high_water(tx, &m.channel, m.sequence)?;
        }
        // The fallback may itself be revoked after being promoted above.
        if let Some(c) = roles.current.clone() {
            if store::bundle(tx, &c)?.is_some_and(|b| b.status == BundleStatus::Failed) {
                roles.current = None;
            }
        }
        let builtin_only = Roles {
            native_version: roles.native_version.clone(),
            ..Roles::default()
        };
        if incident.revert_to_builtin && roles != builtin_only {
            roles = builtin_only;
            store::add_history(
                tx,
                "reset",
                None,
                &format!("revert to built-in instructed by {label}"),
            )?;
        }
        store::set_roles(tx, &roles)?;
        Ok(reverted)
    })
}

/// What `confirm` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The trial became current.
    Promoted { previous: Option<String> },
    /// The bundle was already current (a page reload, a second call): nothing to do.
    AlreadyCurrent,
}

/// `notifyAppReady(bundle_id)`: promotes the trial to current if and only if `id` is the trial.
pub fn confirm(store: &mut Store, id: &str) -> Result<Confirmed, BootError> {
    let out = store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        if roles.trial.as_deref() == Some(id) {
            fail::fail_point!("confirm.before_commit");
            let previous = roles.current.replace(id.to_string());
            roles.fallback = previous.clone();
            roles.trial = None;
            store::set_roles(tx, &roles)?;
            store::add_history(
                tx,
                "confirmed",
                Some(id),
                "notifyAppReady from the bundle's own page",
            )?;
            return Ok(Confirmed::Promoted { previous });
        }
        let current = roles.current.as_deref().unwrap_or(BUILTIN);
        if roles.trial.is_none() && current == id {
            return Ok(Confirmed::AlreadyCurrent);
        }
        Err(BootError::NotOnTrial {
            id: id.to_string(),
            trial: roles.trial.clone(),
        })
    })?;
    fail::fail_point!("confirm.committed");
    if matches!(out, Confirmed::Promoted { .. }) {
        retain(store)?;
    }
    Ok(out)
}

/// Reverts `id` if it is still on trial (the app-ready timer). Returns the revert, or `None`
/// if the bundle was confirmed or reverted meanwhile.
pub fn revert_trial(
    store: &mut Store,
    id: &str,
    reason: &str,
) -> Result<Option<Reverted>, BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        if roles.trial.as_deref() != Some(id) {
            return Ok(None);
        }
        roles.trial = None;
        store::set_roles(tx, &roles)?;
        Ok(Some(fail_bundle(tx, id, reason)?))
    })
}

/// The bundle serving now (trial, else current, else built-in), as `launch` would report it,
/// without changing anything.
pub fn serving(store: &Store, config: &Config) -> Result<LaunchResult, BootError> {
    let roles = store::roles(store.read())?;
    let (id, trial) = match (&roles.trial, &roles.current) {
        (Some(t), _) => (t.clone(), true),
        (None, Some(c)) => (c.clone(), false),
        (None, None) => return Ok(builtin(config, None)),
    };
    let b = store::bundle(store.read(), &id)?.ok_or(BootError::UnknownBundle { id: id.clone() })?;
    Ok(LaunchResult {
        path: Some(store.bundle_dir(&id)),
        id,
        version: b.version,
        trial,
        reverted: None,
    })
}

/// Makes an installed bundle `next` (tried at the next launch).
pub fn set_next(store: &mut Store, config: &Config, id: &str) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let b = store::bundle(tx, id)?.ok_or(BootError::UnknownBundle { id: id.into() })?;
        if b.status == BundleStatus::Failed {
            return Err(BootError::BundleFailed {
                id: id.into(),
                reason: b.failed_reason.unwrap_or_default(),
            });
        }
        if let Some(reason) = store::blocked(tx, &b.content_id)? {
            return Err(BootError::BundleFailed {
                id: id.into(),
                reason,
            });
        }
        let m = b.manifest()?;
        if !config::native_in_range(&config.native_version, &m.native) {
            return Err(BootError::Incompatible {
                id: id.into(),
                native: config.native_version.clone(),
                min: m.native.min,
                max: m.native.max,
            });
        }
        let mut roles = store::roles(tx)?;
        let serving = roles.trial.as_deref().or(roles.current.as_deref());
        roles.next = if serving == Some(id) {
            None
        } else {
            Some(id.into())
        };
        store::set_roles(tx, &roles)?;
        store::add_history(tx, "set_next", Some(id), "chosen as next")?;
        Ok(())
    })
}

/// `reset`: back to the built-in bundle or to the last confirmed one. The caller reloads.
pub fn reset(store: &mut Store, to: ResetTarget) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        roles.trial = None;
        roles.next = None;
        if to == ResetTarget::Builtin {
            roles.fallback = roles.current.take();
        }
        store::set_roles(tx, &roles)?;
        let what = if to == ResetTarget::Builtin {
            "built-in bundle"
        } else {
            "last confirmed bundle"
        };
        store::add_history(
            tx,
            "reset",
            roles.current.as_deref(),
            &format!("reset to the {what}"),
        )?;
        Ok(())
    })?;
    retain(store)
}

/// Deletes an installed bundle that holds no role.
pub fn delete(store: &mut Store, id: &str) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let roles = store::roles(tx)?;
        let b = store::bundle(tx, id)?.ok_or(BootError::UnknownBundle { id: id.into() })?;
        let role = role_of(&roles, &b);
        if matches!(role, "current" | "fallback" | "trial" | "next") {
            return Err(BootError::InUse {
                id: id.into(),
                role,
            });
        }
        store::delete_bundle_row(tx, id)?;
        store::add_history(tx, "deleted", Some(id), "deleted on request")?;
        Ok(())
    })?;
    remove_bundle_files(store, id)
}

/// Bounded retention: keeps the bundles that hold a role (current, fallback, trial, next);
/// deletes the others, failed ones included (their content stays blocklisted). Rows go first,
/// files after, so a kill in between leaves only unknown directories, removed at the next open.
pub fn retain(store: &mut Store) -> Result<(), BootError> {
    let doomed = store.write(|tx| -> Result<_, BootError> {
        let roles = store::roles(tx)?;
        let mut doomed = Vec::new();
        for b in store::bundles(tx)? {
            if !roles.holds(&b.id) {
                store::delete_bundle_row(tx, &b.id)?;
                doomed.push(b.id);
            }
        }
        if !doomed.is_empty() {
            store::add_history(tx, "retention", None, &format!("removed {doomed:?}"))?;
        }
        Ok(doomed)
    })?;
    fail::fail_point!("retention.rows_deleted");
    for id in doomed {
        remove_bundle_files(store, &id)?;
    }
    Ok(())
}

/// Removes the files of a bundle whose row is gone. Only under the install lock, and only if
/// the row is still absent: another process may be installing the same content into the same
/// directory right now. When the lock is busy the files stay, and the next open removes them
/// as leftovers.
fn remove_bundle_files(store: &Store, id: &str) -> Result<(), BootError> {
    let Some(_lock) = store.try_install_lock()? else {
        log::info!("bundle {id}: files left for the next open (an install is running)");
        return Ok(());
    };
    if store::bundle(store.read(), id)?.is_some() {
        return Ok(());
    }
    store::remove_any(&store.envelope_path(id))?;
    store::remove_any(&store.bundle_dir(id))?;
    Ok(())
}

/// Every installed bundle with its role.
pub fn list(store: &Store) -> Result<Vec<BundleInfo>, BootError> {
    let roles = store::roles(store.read())?;
    Ok(store::bundles(store.read())?
        .iter()
        .map(|b| info(&roles, b))
        .collect())
}
