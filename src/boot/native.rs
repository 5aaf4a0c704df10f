//! Native version reconcile: what a new build of the native app does to the installed bundles.
//!
//! Guarantees: the first time the store sees a native version it only records it; when the
//! version changes, every bundle outside the new version's native range (every bundle, with
//! `resetWhenUpdate`) loses its roles and its row, and the change is recorded in the history.
//! Reconciling twice with the same version changes nothing.

use rusqlite::Connection;

use super::BootError;
use crate::config::{self, Config};
use crate::store::{self, Roles, Store};

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
pub(super) fn on_native_version(
    tx: &Connection,
    config: &Config,
    roles: &mut Roles,
) -> Result<(), BootError> {
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
