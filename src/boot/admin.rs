//! Operations the app asks for by name: choose the next bundle, reset, delete, list.
//!
//! Guarantees: [`set_next`] refuses a bundle that failed, is blocklisted or is outside this
//! native version's range; [`reset`] to the built-in bundle keeps the last confirmed one as the
//! fallback, and a reset to the last good one blames nothing; [`delete`] refuses a bundle that
//! holds a role; [`list`] reports each bundle with the one role it holds.

use super::retention::{remove_bundle_files, retain};
use super::{BootError, BundleInfo, ResetTarget};
use crate::config::{self, Config};
use crate::store::{self, BundleRow, BundleStatus, Roles, Store};

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

/// Every installed bundle with its role.
pub fn list(store: &Store) -> Result<Vec<BundleInfo>, BootError> {
    let roles = store::roles(store.read())?;
    Ok(store::bundles(store.read())?
        .iter()
        .map(|b| info(&roles, b))
        .collect())
}
