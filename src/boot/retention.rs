//! Retention: which installed bundles are kept and which are removed.
//!
//! Guarantees: the bundles holding a role (current, fallback, trial, next) are kept; every other
//! bundle, failed ones included, is removed (a failed bundle's content stays blocklisted). Rows
//! go first, files after, and files only under the install lock and only while their row is
//! still absent, so a kill in between leaves only unknown directories (removed at the next
//! open) and another process's install of the same content is never deleted under it.

use super::BootError;
use crate::store::{self, Store};

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
pub(super) fn remove_bundle_files(store: &Store, id: &str) -> Result<(), BootError> {
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
