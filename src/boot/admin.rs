//! Operations the app asks for by name: choose the next bundle, reset, delete, list.
//!
//! Guarantees: [`set_next`] refuses a bundle that failed, is blocklisted or is outside this
//! native version's range; [`reset`] to the built-in bundle keeps the last confirmed one as the
//! fallback, and a reset to the last good one blames nothing; [`delete`] refuses a bundle that
//! holds a role; [`list`] reports each bundle with the one role it holds.

use super::incident::drop_roles;
use super::launch::fail_bundle;
use super::retention::{remove_bundle_files, retain};
use super::{BootError, BundleInfo, BundleStatus, ResetTarget, Reverted};
use crate::config::{self, Config};
use crate::store::{self, BundleRow, BundleStatus as RowStatus, Roles, Store};

/// The one role `b` holds (trial over current over next over fallback), else whether it failed.
pub fn role_of(roles: &Roles, b: &BundleRow) -> BundleStatus {
    let id = Some(b.id.as_str());
    if roles.trial.as_deref() == id {
        BundleStatus::Trial
    } else if roles.current.as_deref() == id {
        BundleStatus::Current
    } else if roles.next.as_deref() == id {
        BundleStatus::Next
    } else if roles.fallback.as_deref() == id {
        BundleStatus::Fallback
    } else if b.status == RowStatus::Failed {
        BundleStatus::Failed
    } else {
        BundleStatus::Ready
    }
}

pub fn info(roles: &Roles, b: &BundleRow) -> BundleInfo {
    BundleInfo {
        id: b.id.clone(),
        version: b.version.clone(),
        channel: b.channel.clone(),
        sequence: b.sequence,
        status: role_of(roles, b),
        failed_reason: b.failed_reason.clone(),
        installed_at: b.installed_at,
    }
}

/// Makes an installed bundle `next` (tried at the next launch).
pub fn set_next(store: &mut Store, config: &Config, id: &str) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let b = store::bundle(tx, id)?.ok_or(BootError::UnknownBundle { id: id.into() })?;
        if b.status == RowStatus::Failed {
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
        // A reset leaves a preview too.
        let mut previews = store::previews(tx)?;
        if previews.active.take().is_some() {
            previews.launched = false;
            store::set_previews(tx, &previews)?;
        }
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

/// `deleteData`: the built-in bundle serves, no bundle keeps a role, and every downloaded
/// bundle is deleted (rows in one transaction, then their folders). The caller reloads.
pub fn erase_bundles(store: &mut Store) -> Result<(), BootError> {
    let ids = store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        roles.current = None;
        roles.fallback = None;
        roles.trial = None;
        roles.next = None;
        store::set_roles(tx, &roles)?;
        store::set_previews(tx, &store::Previews::default())?;
        let ids: Vec<String> = store::bundles(tx)?.into_iter().map(|b| b.id).collect();
        for id in &ids {
            store::delete_bundle_row(tx, id)?;
        }
        Ok(ids)
    })?;
    for id in ids {
        remove_bundle_files(store, &id)?;
    }
    Ok(())
}

/// `setBundleError`: the app declares bundle `id` broken. It is marked failed and blocklisted
/// like a revert, and loses its roles (a current one falls back, see `incident::drop_roles`).
/// `None` when it had failed already. The caller reloads if it was serving.
pub fn declare_failed(
    store: &mut Store,
    id: &str,
    reason: &str,
) -> Result<Option<Reverted>, BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let b = store::bundle(tx, id)?.ok_or(BootError::UnknownBundle { id: id.into() })?;
        if b.status == RowStatus::Failed {
            return Ok(None);
        }
        let mut roles = store::roles(tx)?;
        let reverted = fail_bundle(tx, id, reason)?;
        drop_roles(&mut roles, id);
        store::set_roles(tx, &roles)?;
        Ok(Some(reverted))
    })
}

/// Deletes an installed bundle that holds no role.
pub fn delete(store: &mut Store, id: &str) -> Result<(), BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let roles = store::roles(tx)?;
        let b = store::bundle(tx, id)?.ok_or(BootError::UnknownBundle { id: id.into() })?;
        let role = role_of(&roles, &b);
        if role.holds_role() {
            return Err(BootError::InUse {
                id: id.into(),
                role,
            });
        }
        let mut previews = store::previews(tx)?;
        if previews.active.as_deref() == Some(id) {
            return Err(BootError::InUse {
                id: id.into(),
                role,
            });
        }
        previews.bundles.retain(|p| p.id != id);
        store::set_previews(tx, &previews)?;
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{content_of, Device, CHANNEL};
    use super::super::BundleStatus::*;
    use super::*;
    use crate::release::NativeRange;

    #[test]
    fn reset_to_builtin_keeps_the_last_confirmed_as_fallback_and_blames_nothing() {
        let mut d = Device::new();
        let [a, b, c] = d.with_roles([Current, Trial, Next]);
        reset(&mut d.store, ResetTarget::Builtin).unwrap();
        let roles = d.roles();
        assert_eq!(roles.current, None);
        assert_eq!(roles.fallback.as_deref(), Some(a.as_str()));
        assert_eq!((roles.trial, roles.next), (None, None));
        assert!(d.blocked(&content_of(&b)).is_none());
        // Retention ran: the dropped trial and next are gone, the fallback stays.
        assert!(d.row(&b).is_none() && d.row(&c).is_none());
        assert!(d.row(&a).is_some());
    }

    #[test]
    fn reset_to_last_good_drops_a_pending_trial_and_next_without_blaming_them() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Current, Trial]);
        reset(&mut d.store, ResetTarget::LastGood).unwrap();
        let roles = d.roles();
        assert_eq!(roles.current.as_deref(), Some(a.as_str()));
        assert_eq!(roles.trial, None);
        assert!(d.blocked(&content_of(&b)).is_none());
    }

    #[test]
    fn set_next_refuses_a_failed_a_blocklisted_or_an_incompatible_bundle() {
        let mut d = Device::new();
        let failed = d.install("failed", 1);
        d.mark_failed(&failed);
        let blocked = d.install("blocked", 2);
        d.store
            .write(|tx| store::blocklist(tx, &content_of(&blocked), "revoked"))
            .unwrap();
        let native = NativeRange {
            min: Some("2.0.0".into()),
            max: None,
        };
        let newer = d.install_on("newer", CHANNEL, 3, native);
        let cfg = d.config.clone();
        assert!(matches!(
            set_next(&mut d.store, &cfg, &failed),
            Err(BootError::BundleFailed { reason, .. }) if reason == "broke"
        ));
        assert!(matches!(
            set_next(&mut d.store, &cfg, &blocked),
            Err(BootError::BundleFailed { reason, .. }) if reason == "revoked"
        ));
        assert!(matches!(
            set_next(&mut d.store, &cfg, &newer),
            Err(BootError::Incompatible { min: Some(m), .. }) if m == "2.0.0"
        ));
        assert!(matches!(
            set_next(&mut d.store, &cfg, "missing"),
            Err(BootError::UnknownBundle { .. })
        ));
        assert_eq!(d.roles().next, None);
    }

    #[test]
    fn set_next_of_the_serving_bundle_clears_next_instead() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Current, Ready]);
        let cfg = d.config.clone();
        set_next(&mut d.store, &cfg, &b).unwrap();
        assert_eq!(d.roles().next.as_deref(), Some(b.as_str()));
        set_next(&mut d.store, &cfg, &a).unwrap();
        assert_eq!(d.roles().next, None);
    }

    #[test]
    fn delete_refuses_a_bundle_holding_a_role_and_removes_one_that_holds_none() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Fallback, Ready]);
        assert!(matches!(
            delete(&mut d.store, &a),
            Err(BootError::InUse {
                role: BundleStatus::Fallback,
                ..
            })
        ));
        assert!(d.row(&a).is_some() && d.has_files(&a));
        delete(&mut d.store, &b).unwrap();
        assert!(d.row(&b).is_none());
        assert!(!d.has_files(&b));
    }

    #[test]
    fn list_reports_the_one_role_each_bundle_holds() {
        let mut d = Device::new();
        for (id, seq) in [("c", 1), ("f", 2), ("t", 3), ("n", 4), ("r", 5), ("x", 6)] {
            d.install(id, seq);
        }
        d.mark_failed("x");
        d.set_roles(|r| {
            r.current = Some("c".into());
            r.fallback = Some("f".into());
            r.trial = Some("t".into());
            r.next = Some("n".into());
        });
        let mut got: Vec<(String, BundleStatus)> = list(&d.store)
            .unwrap()
            .into_iter()
            .map(|b| (b.id, b.status))
            .collect();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        let want = [
            ("c", BundleStatus::Current),
            ("f", BundleStatus::Fallback),
            ("n", BundleStatus::Next),
            ("r", BundleStatus::Ready),
            ("t", BundleStatus::Trial),
            ("x", BundleStatus::Failed),
        ];
        let want: Vec<(String, BundleStatus)> =
            want.iter().map(|(a, b)| (a.to_string(), *b)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_failed_bundle_lists_as_failed_and_its_status_serializes_as_before() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        d.mark_failed(&a);
        let listed = list(&d.store).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status, BundleStatus::Failed);
        assert_eq!(listed[0].failed_reason.as_deref(), Some("broke"));
        // The CLI prints `status` as JSON: still the lowercase role name.
        let json = serde_json::to_value(&listed[0]).unwrap();
        assert_eq!(json["status"], "failed");
        for s in [
            BundleStatus::Current,
            BundleStatus::Fallback,
            BundleStatus::Trial,
            BundleStatus::Next,
            BundleStatus::Ready,
            BundleStatus::Failed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
