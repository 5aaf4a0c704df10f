//! Confirmation of a trial: `notifyAppReady` from the trial's own page, and the app-ready
//! timer's revert when that never comes.
//!
//! Guarantees:
//! - [`confirm`] credits only the bundle it names, and only if that bundle is on trial: the page
//!   of the outgoing bundle cannot confirm the incoming one. The trial becomes current and the
//!   previous current the fallback, in one transaction; bundles holding no role are then
//!   removed.
//! - [`revert_trial`] reverts only the bundle it names, and only while it is still on trial, so
//!   a confirmation that won the race is never undone.

use super::launch::fail_bundle;
use super::retention::retain;
use super::{BootError, Confirmed, Reverted, BUILTIN};
use crate::store::{self, Store};

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
