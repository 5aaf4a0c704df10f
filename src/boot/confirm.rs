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
        // A preview's page confirms that it started; it is never promoted into the line.
        let mut previews = store::previews(tx)?;
        if previews.active.as_deref() == Some(id) {
            if previews.launched {
                previews.launched = false;
                store::set_previews(tx, &previews)?;
                store::add_history(
                    tx,
                    "preview",
                    Some(id),
                    "notifyAppReady from the preview's page",
                )?;
            }
            return Ok(Confirmed::AlreadyCurrent);
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{content_of, Device};
    use super::super::BundleStatus::*;
    use super::*;

    #[test]
    fn confirm_of_the_trial_promotes_it_and_keeps_the_previous_current_as_fallback() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Current, Trial]);
        let out = confirm(&mut d.store, &b).unwrap();
        assert_eq!(
            out,
            Confirmed::Promoted {
                previous: Some(a.clone())
            }
        );
        let roles = d.roles();
        assert_eq!(roles.current.as_deref(), Some(b.as_str()));
        assert_eq!(roles.fallback.as_deref(), Some(a.as_str()));
        assert_eq!(roles.trial, None);
    }

    #[test]
    fn confirm_of_a_first_trial_over_builtin_has_no_previous() {
        let mut d = Device::new();
        let [a] = d.with_roles([Trial]);
        assert_eq!(
            confirm(&mut d.store, &a).unwrap(),
            Confirmed::Promoted { previous: None }
        );
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn the_outgoing_page_cannot_confirm_the_incoming_trial() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Current, Trial]);
        let before = d.roles();
        let err = confirm(&mut d.store, &a).unwrap_err();
        assert!(
            matches!(&err, BootError::NotOnTrial { id, trial } if id == &a && trial.as_deref() == Some(b.as_str())),
            "{err:?}"
        );
        assert_eq!(d.roles(), before, "nothing was credited");
    }

    #[test]
    fn confirm_of_an_id_that_is_not_the_trial_credits_nothing() {
        let mut d = Device::new();
        let b = d.install("b", 2);
        d.set_roles(|r| r.trial = Some(b.clone()));
        let before = d.roles();
        for id in ["unknown", BUILTIN] {
            let err = confirm(&mut d.store, id).unwrap_err();
            assert!(matches!(err, BootError::NotOnTrial { .. }), "{id}: {err:?}");
        }
        assert_eq!(d.roles(), before);
        assert!(
            !d.failed(&b),
            "a wrong confirmation does not blame the trial either"
        );
    }

    #[test]
    fn confirm_of_what_already_serves_with_no_trial_is_already_current() {
        let mut d = Device::new();
        assert_eq!(
            confirm(&mut d.store, BUILTIN).unwrap(),
            Confirmed::AlreadyCurrent
        );
        let [a] = d.with_roles([Current]);
        let before = d.roles();
        assert_eq!(
            confirm(&mut d.store, &a).unwrap(),
            Confirmed::AlreadyCurrent
        );
        assert_eq!(d.roles(), before);
        assert!(matches!(
            confirm(&mut d.store, "other"),
            Err(BootError::NotOnTrial { trial: None, .. })
        ));
    }

    #[test]
    fn confirm_removes_the_bundles_that_no_longer_hold_a_role() {
        let mut d = Device::new();
        let [a, b, c] = d.with_roles([Fallback, Current, Trial]);
        confirm(&mut d.store, &c).unwrap();
        assert!(d.row(&a).is_none(), "the old fallback goes");
        assert!(!d.has_files(&a));
        assert!(d.row(&b).is_some() && d.row(&c).is_some());
    }

    #[test]
    fn the_ready_timer_reverts_the_named_trial_and_blocklists_it() {
        let mut d = Device::new();
        let [a] = d.with_roles([Trial]);
        let r = revert_trial(&mut d.store, &a, "timed out")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.id.as_str(), r.reason.as_str()),
            (a.as_str(), "timed out")
        );
        assert!(d.failed(&a));
        assert_eq!(d.blocked(&content_of(&a)).as_deref(), Some("timed out"));
        assert_eq!(d.roles().trial, None);
    }

    #[test]
    fn the_ready_timer_does_not_undo_a_confirmation_that_won_the_race() {
        let mut d = Device::new();
        let [a] = d.with_roles([Trial]);
        confirm(&mut d.store, &a).unwrap();
        assert_eq!(revert_trial(&mut d.store, &a, "timed out").unwrap(), None);
        assert!(!d.failed(&a));
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn the_ready_timer_of_another_bundle_leaves_the_trial_alone() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Ready, Trial]);
        assert_eq!(revert_trial(&mut d.store, &a, "timed out").unwrap(), None);
        assert!(!d.failed(&a) && !d.failed(&b));
        assert_eq!(d.roles().trial.as_deref(), Some(b.as_str()));
    }
}
