//! Retention: which installed bundles are kept and which are removed.
//!
//! Guarantees: the bundles holding a role (current, fallback, trial, next) and the previews are
//! kept; every other
//! bundle, failed ones included, is removed (a failed bundle's content stays blocklisted). Rows
//! go first, files after, and files only under the install lock and only while their row is
//! still absent, so a kill in between leaves only unknown directories (removed at the next
//! open) and another process's install of the same content is never deleted under it.

use super::BootError;
use crate::store::{self, Store, StoreError};

/// Bounded retention: keeps the bundles that hold a role (current, fallback, trial, next);
/// deletes the others, failed ones included (their content stays blocklisted). Rows go first,
/// files after, so a kill in between leaves only unknown directories, removed at the next open.
pub fn retain(store: &mut Store) -> Result<(), BootError> {
    let doomed = store.write(|tx| -> Result<_, BootError> {
        let roles = store::roles(tx)?;
        let previews = store::previews(tx)?;
        let mut doomed = Vec::new();
        for b in store::bundles(tx)? {
            if !roles.holds(&b.id) && !previews.bundles.iter().any(|p| p.id == b.id) {
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
    crate::fs::remove_any(&store.envelope_path(id)).map_err(StoreError::from)?;
    crate::fs::remove_any(&store.bundle_dir(id)).map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{content_of, Device};
    use super::*;

    #[test]
    fn retention_keeps_the_bundles_holding_a_role_and_removes_the_rest() {
        let mut d = Device::new();
        for (id, seq) in [
            ("c", 1),
            ("f", 2),
            ("t", 3),
            ("n", 4),
            ("old", 5),
            ("bad", 6),
        ] {
            d.install(id, seq);
        }
        d.mark_failed("bad");
        d.store
            .write(|tx| store::blocklist(tx, &content_of("bad"), "broke"))
            .unwrap();
        d.set_roles(|r| {
            r.current = Some("c".into());
            r.fallback = Some("f".into());
            r.trial = Some("t".into());
            r.next = Some("n".into());
        });
        retain(&mut d.store).unwrap();
        for kept in ["c", "f", "t", "n"] {
            assert!(d.row(kept).is_some() && d.has_files(kept), "{kept} kept");
        }
        for gone in ["old", "bad"] {
            assert!(
                d.row(gone).is_none() && !d.has_files(gone),
                "{gone} removed"
            );
        }
        assert!(
            d.blocked(&content_of("bad")).is_some(),
            "a removed failed bundle stays blocklisted"
        );
        let last = d.history().pop().unwrap();
        assert_eq!(last.event, "retention");
    }

    #[test]
    fn with_only_current_and_fallback_both_are_kept() {
        let mut d = Device::new();
        d.install("c", 1);
        d.install("f", 2);
        d.set_roles(|r| {
            r.current = Some("c".into());
            r.fallback = Some("f".into());
        });
        retain(&mut d.store).unwrap();
        assert!(d.row("c").is_some() && d.row("f").is_some());
    }

    #[test]
    fn files_stay_for_the_next_open_while_another_install_holds_the_lock() {
        let mut d = Device::new();
        d.install("old", 1);
        let lock = d.store.try_install_lock().unwrap().expect("lock is free");
        retain(&mut d.store).unwrap();
        assert!(d.row("old").is_none(), "the row goes at once");
        assert!(d.has_files("old"), "the files wait for the lock");
        drop(lock);
    }
}
