//! Launch: which bundle serves when the app starts, the trial marker, and the revert of a trial
//! that never confirmed.
//!
//! Guarantees:
//! - [`launch`] persists the trial marker before it returns the trial's path, so a process that
//!   dies while the new bundle starts is known to have tried it.
//! - A trial still pending at the next launch is marked failed, its content blocklisted, and the
//!   last confirmed bundle (else the built-in one) serves; a pending `next` waits a launch more.
//! - A `next` that failed or was blocklisted never gets a trial; a bundle whose directory is
//!   missing is never served.
//! - [`launch`] never fails: an unusable state serves the built-in bundle.

use super::delay::{settle_delay, Moment};
use super::native::on_native_version;
use super::{BootError, LaunchResult, Reverted, BUILTIN, REASON_NOT_CONFIRMED};
use crate::config::Config;
use crate::store::{self, BundleStatus, Store, Tx};

/// Native start-up's question: which bundle, and is it a trial, at `now` (Unix seconds, for
/// `Date` delay conditions). Never fails: any error with the state falls back to the built-in
/// bundle (and is logged), so the app always starts.
pub fn launch(store: &mut Store, config: &Config, now: u64) -> LaunchResult {
    match try_launch(store, config, Moment::Launch, now) {
        Ok(r) => r,
        Err(e) => {
            log::error!("launch: state unusable, serving the built-in bundle: {e}");
            builtin(config, None)
        }
    }
}

pub(super) fn builtin(config: &Config, reverted: Option<Reverted>) -> LaunchResult {
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
    now: u64,
) -> Result<LaunchResult, BootError> {
    let bundles_dir = store.bundles_dir();
    let (serve, trial, reverted) = store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        on_native_version(tx, config, &mut roles)?;
        // A preview serves instead of the production line, whose roles wait untouched.
        if let Some(b) = launch_preview(tx, &bundles_dir)? {
            store::set_roles(tx, &roles)?;
            return Ok((Some(b), false, None));
        }
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
        } else if roles.next.is_some() && settle_delay(tx, config, moment, now)? {
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

/// The active preview, if it may serve this launch: its last launch confirmed (else its page
/// never started: the preview ends, and the production line serves) and its files are there.
/// Its launch is recorded so that a page that never confirms ends it at the next launch.
fn launch_preview(
    tx: &Tx<'_>,
    bundles_dir: &std::path::Path,
) -> Result<Option<store::BundleRow>, BootError> {
    let mut p = store::previews(tx)?;
    let Some(id) = p.active.clone() else {
        return Ok(None);
    };
    let row = store::bundle(tx, &id)?.filter(|b| {
        b.status == BundleStatus::Ready && bundles_dir.join(&b.id).join("index.html").is_file()
    });
    let why = match (&row, p.launched) {
        (None, _) => Some("preview left: its bundle is gone"),
        (Some(_), true) => Some("preview left: its page did not call notifyAppReady"),
        (Some(_), false) => None,
    };
    if let Some(why) = why {
        p.active = None;
        p.launched = false;
        store::set_previews(tx, &p)?;
        store::add_history(tx, "preview", Some(&id), why)?;
        return Ok(None);
    }
    p.launched = true;
    store::set_previews(tx, &p)?;
    store::add_history(
        tx,
        "preview",
        Some(&id),
        "launched as a preview; awaiting notifyAppReady",
    )?;
    Ok(row)
}

/// Marks a bundle failed and blocklists its content; returns the revert record.
pub(super) fn fail_bundle(tx: &Tx<'_>, id: &str, reason: &str) -> Result<Reverted, BootError> {
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

/// Switches to `next` now, in-process (apply mode `immediate`, Capgo's `set`): it becomes the
/// trial exactly as at a launch. `None` when there is no `next`, or delay conditions that an
/// in-process apply cannot meet are pending. `now` is Unix seconds.
pub fn apply_next(
    store: &mut Store,
    config: &Config,
    now: u64,
) -> Result<Option<LaunchResult>, BootError> {
    let roles = store::roles(store.read())?;
    // A trial whose page may still be starting is not blamed for an in-process apply: the next
    // bundle waits for the trial's confirmation (or the next launch).
    if roles.next.is_none() || roles.trial.is_some() {
        return Ok(None);
    }
    if !store.write(|tx| settle_delay(tx, config, Moment::Apply, now))? {
        return Ok(None);
    }
    Ok(Some(try_launch(store, config, Moment::Apply, now)?))
}

/// The bundle serving now (trial, else current, else built-in), as `launch` would report it,
/// without changing anything.
pub fn serving(store: &Store, config: &Config) -> Result<LaunchResult, BootError> {
    let roles = store::roles(store.read())?;
    let preview = store::previews(store.read())?.active;
    let (id, trial) = match (preview, &roles.trial, &roles.current) {
        (Some(p), _, _) => (p, false),
        (None, Some(t), _) => (t.clone(), true),
        (None, None, Some(c)) => (c.clone(), false),
        (None, None, None) => return Ok(builtin(config, None)),
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{content_of, Device, NOW};
    use super::super::BundleStatus::*;
    use super::super::{set_delay, DelayCondition};
    use super::*;

    #[test]
    fn launch_with_nothing_installed_serves_builtin() {
        let mut d = Device::new();
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(
            r,
            LaunchResult {
                id: BUILTIN.into(),
                version: "1.0.0-builtin".into(),
                path: None,
                trial: false,
                reverted: None,
            }
        );
    }

    #[test]
    fn next_becomes_the_trial_and_the_marker_is_durable_when_launch_returns() {
        let mut d = Device::new();
        let [a] = d.with_roles([Next]);
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, a);
        assert!(r.trial);
        assert_eq!(r.path, Some(d.store.bundle_dir(&a)));
        // Read back through a second connection: the marker is committed, not just in memory.
        let other = Store::open(d.store.root()).unwrap().0;
        let roles = store::roles(other.read()).unwrap();
        assert_eq!(roles.trial.as_deref(), Some(a.as_str()));
        assert_eq!(roles.next, None);
    }

    #[test]
    fn unconfirmed_trial_is_reverted_on_next_launch_and_blocklisted() {
        let mut d = Device::new();
        let [a] = d.with_roles([Trial]);
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert!(!r.trial);
        assert_eq!(
            r.reverted,
            Some(Reverted {
                id: a.clone(),
                version: "1.0.1".into(),
                reason: REASON_NOT_CONFIRMED.into(),
            })
        );
        assert!(d.failed(&a));
        assert_eq!(
            d.blocked(&content_of(&a)).as_deref(),
            Some(REASON_NOT_CONFIRMED)
        );
        assert_eq!(d.roles().trial, None);
        // Both records carry the store's clock (the fixture's NOW), not the system's time.
        let blocked = store::blocklisted(d.store.read()).unwrap();
        assert_eq!(blocked.iter().map(|b| b.at).collect::<Vec<_>>(), [NOW]);
        let reverted = d.history().into_iter().find(|h| h.event == "reverted");
        assert_eq!(reverted.map(|h| h.at), Some(NOW));
    }

    #[test]
    fn a_revert_at_launch_serves_the_last_confirmed_bundle() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Current, Trial]);
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, a);
        assert!(!r.trial);
        assert_eq!(r.reverted.map(|v| v.id), Some(b));
    }

    #[test]
    fn a_revert_decides_the_launch_and_a_pending_next_waits_for_the_following_one() {
        let mut d = Device::new();
        let b = d.install("b", 2);
        let c = d.install("c", 3);
        d.set_roles(|r| {
            r.trial = Some(b.clone());
            r.next = Some(c.clone());
        });
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(d.roles().next.as_deref(), Some(c.as_str()));
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, c);
        assert!(r.trial);
    }

    #[test]
    fn a_failed_next_is_never_tried() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        d.mark_failed(&a);
        d.set_roles(|r| r.next = Some(a.clone()));
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(d.roles().next, None);
        assert_eq!(d.roles().trial, None);
    }

    #[test]
    fn a_next_whose_content_is_blocklisted_is_never_tried() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        d.store
            .write(|tx| store::blocklist(tx, &content_of(&a), "revoked"))
            .unwrap();
        d.set_roles(|r| r.next = Some(a.clone()));
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(
            d.roles(),
            store::Roles {
                native_version: Some("1.0.0".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_next_whose_directory_is_missing_is_marked_failed_and_not_served() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        std::fs::remove_dir_all(d.store.bundle_dir(&a)).unwrap();
        d.set_roles(|r| r.next = Some(a.clone()));
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert!(d.failed(&a));
        assert_eq!(d.roles().trial, None);
    }

    #[test]
    fn a_current_whose_directory_is_missing_serves_builtin_and_loses_its_role() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        std::fs::remove_dir_all(d.store.bundle_dir(&a)).unwrap();
        d.set_roles(|r| r.current = Some(a.clone()));
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(d.roles().current, None);
    }

    #[test]
    fn an_unusable_state_serves_builtin_instead_of_failing() {
        let mut d = Device::new();
        let a = d.install("a", 1);
        d.set_roles(|r| {
            r.current = Some(a.clone());
            r.native_version = Some("0.9.0".into());
        });
        // A corrupt manifest row makes the native reconcile (and so the launch) fail.
        d.store
            .write(|tx| {
                let mut row = store::bundle(tx, &a)?.unwrap();
                row.manifest = b"not json".to_vec();
                store::insert_bundle(tx, &row)
            })
            .unwrap();
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(r.path, None);
        assert!(!r.trial);
    }

    #[test]
    fn a_pending_delay_keeps_next_waiting_at_launch() {
        let mut d = Device::new();
        let [a] = d.with_roles([Next]);
        set_delay(
            &mut d.store,
            &[DelayCondition::Date {
                not_before: NOW + 1,
            }],
        )
        .unwrap();
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, BUILTIN);
        assert_eq!(d.roles().next.as_deref(), Some(a.as_str()));
        let r = launch(&mut d.store, &d.config, NOW + 1);
        assert_eq!(r.id, a);
        assert!(r.trial);
    }

    #[test]
    fn apply_next_makes_next_the_trial_in_process() {
        let mut d = Device::new();
        let [a] = d.with_roles([Next]);
        let r = apply_next(&mut d.store, &d.config, NOW).unwrap().unwrap();
        assert_eq!(r.id, a);
        assert!(r.trial);
        assert_eq!(d.roles().trial.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn apply_next_does_not_blame_a_trial_whose_page_is_still_starting() {
        let mut d = Device::new();
        let [a, _] = d.with_roles([Trial, Next]);
        assert_eq!(apply_next(&mut d.store, &d.config, NOW).unwrap(), None);
        assert!(!d.failed(&a));
        assert_eq!(d.roles().trial.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn apply_next_with_no_next_or_an_unmet_kill_delay_changes_nothing() {
        let mut d = Device::new();
        assert_eq!(apply_next(&mut d.store, &d.config, NOW).unwrap(), None);
        let [a] = d.with_roles([Next]);
        set_delay(&mut d.store, &[DelayCondition::Kill]).unwrap();
        assert_eq!(apply_next(&mut d.store, &d.config, NOW).unwrap(), None);
        assert_eq!(d.roles().next.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn serving_reports_the_trial_else_current_without_changing_anything() {
        let mut d = Device::new();
        assert_eq!(serving(&d.store, &d.config).unwrap().id, BUILTIN);
        let [a, b] = d.with_roles([Current, Trial]);
        let before = d.roles();
        let s = serving(&d.store, &d.config).unwrap();
        assert_eq!((s.id.as_str(), s.trial), (b.as_str(), true));
        assert_eq!(d.roles(), before);
        d.set_roles(|r| r.trial = None);
        let s = serving(&d.store, &d.config).unwrap();
        assert_eq!((s.id.as_str(), s.trial), (a.as_str(), false));
    }
}
