//! Native version reconcile: what a new build of the native app does to the installed bundles.
//!
//! Guarantees: the first time the store sees a native version it only records it; when the
//! version changes, every bundle outside the new version's native range (every bundle, with
//! `resetWhenUpdate`) loses its roles and its row, and the change is recorded in the history.
//! A change of `nativeBuild` alone counts as a new native build (see [`on_native_version`]).
//! Reconciling twice with the same version and build changes nothing.

use super::BootError;
use crate::config::{self, Config};
use crate::store::{self, Roles, Store, Tx};

/// Applies a native version change now (at open), so that nothing is installed for the new
/// native version and then dropped by the first launch.
/// Returns the previous native version when a new native build was settled.
pub fn reconcile_native(store: &mut Store, config: &Config) -> Result<Option<String>, BootError> {
    store.write(|tx| -> Result<_, BootError> {
        let mut roles = store::roles(tx)?;
        let before = roles.clone();
        let changed = on_native_version(tx, config, &mut roles)?;
        if roles != before {
            store::set_roles(tx, &roles)?;
        }
        Ok(changed)
    })
}

/// A new native build drops the bundles it cannot run (and, with `resetWhenUpdate`, all of them).
///
/// A new build is a change of `nativeVersion` or of `nativeBuild`, as Capacitor's
/// `Bridge.isNewBinary()` (Android: `versionCode` and `versionName`) and
/// `CAPBridgeViewController.isNewBinary` (iOS: `CFBundleVersion` and
/// `CFBundleShortVersionString`) decide: otherwise Capacitor serves its built-in assets while
/// the core still names the downloaded bundle current. A build is compared only when both the
/// stored and the configured one are known: a store written before `nativeBuild` existed (or a
/// shell that passes none) records it without counting as a change by itself, so that upgrading
/// the plugin alone does not drop every downloaded bundle; the version still decides then.
pub(super) fn on_native_version(
    tx: &Tx<'_>,
    config: &Config,
    roles: &mut Roles,
) -> Result<Option<String>, BootError> {
    let previous = roles.native_version.replace(config.native_version.clone());
    let previous_build = match &config.native_build {
        Some(build) => {
            let stored = store::meta::native_build(tx)?;
            if stored.as_deref() != Some(build.as_str()) {
                store::meta::set_native_build(tx, build)?;
            }
            stored
        }
        None => None,
    };
    let Some(previous) = previous else {
        return Ok(None);
    };
    let build_changed = matches!(
        (&previous_build, &config.native_build),
        (Some(before), Some(now)) if before != now
    );
    if previous == config.native_version && !build_changed {
        return Ok(None);
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
            "native version {previous} -> {}; native build {} -> {}; dropped bundles {dropped:?}",
            config.native_version,
            previous_build.as_deref().unwrap_or("?"),
            config.native_build.as_deref().unwrap_or("?"),
        ),
    )?;
    Ok(Some(previous))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Device, CHANNEL, NOW};
    use super::super::launch;
    use super::*;
    use crate::release::NativeRange;

    fn up_to(max: &str) -> NativeRange {
        NativeRange {
            min: None,
            max: Some(max.into()),
        }
    }

    #[test]
    fn the_first_native_version_seen_is_only_recorded() {
        let mut d = Device::new();
        let a = d.install_on("a", CHANNEL, 1, up_to("0.1.0"));
        d.set_roles(|r| r.current = Some(a.clone()));
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert_eq!(d.roles().native_version.as_deref(), Some("1.0.0"));
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
        assert!(d.row(&a).is_some());
    }

    #[test]
    fn the_same_native_version_again_changes_nothing() {
        let mut d = Device::new();
        let a = d.install_on("a", CHANNEL, 1, up_to("0.1.0"));
        d.set_roles(|r| {
            r.current = Some(a.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.config.reset_when_update = true;
        let history = d.history().len();
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
        assert_eq!(d.history().len(), history, "nothing recorded");
    }

    #[test]
    fn a_native_update_drops_the_bundles_outside_its_range() {
        let mut d = Device::new();
        let old = d.install_on("old", CHANNEL, 1, up_to("1.9.9"));
        let any = d.install("any", 2);
        d.set_roles(|r| {
            r.fallback = Some(old.clone());
            r.current = Some(any.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.config.native_version = "2.0.0".into();
        reconcile_native(&mut d.store, &d.config).unwrap();
        let roles = d.roles();
        assert_eq!(roles.fallback, None);
        assert_eq!(roles.current.as_deref(), Some(any.as_str()));
        assert_eq!(roles.native_version.as_deref(), Some("2.0.0"));
        assert!(d.row(&old).is_none());
        let last = d.history().pop().unwrap();
        assert_eq!(last.event, "native_update");
        assert!(last.detail.contains("1.0.0 -> 2.0.0"), "{}", last.detail);
    }

    #[test]
    fn with_reset_when_update_a_native_update_drops_every_bundle() {
        let mut d = Device::new();
        let a = d.install("a", 1);
        let b = d.install("b", 2);
        let c = d.install("c", 3);
        d.set_roles(|r| {
            r.current = Some(a.clone());
            r.trial = Some(b.clone());
            r.next = Some(c.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.config.reset_when_update = true;
        d.config.native_version = "1.1.0".into();
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert!(d.row(&a).is_none() && d.row(&b).is_none() && d.row(&c).is_none());
        assert_eq!(
            d.roles(),
            Roles {
                native_version: Some("1.1.0".into()),
                ..Roles::default()
            }
        );
    }

    #[test]
    fn a_launch_after_a_native_update_neither_tries_nor_blames_a_dropped_bundle() {
        let mut d = Device::new();
        let a = d.install_on("a", CHANNEL, 1, up_to("1.0.0"));
        let b = d.install_on("b", CHANNEL, 2, up_to("1.0.0"));
        d.set_roles(|r| {
            r.trial = Some(a.clone());
            r.next = Some(b.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.config.native_version = "1.2.0".into();
        let r = launch(&mut d.store, &d.config, NOW);
        assert_eq!(r.id, super::super::BUILTIN);
        assert_eq!(r.reverted, None, "a dropped trial is not a failed one");
        assert!(d.row(&a).is_none() && d.row(&b).is_none());
    }

    fn with_build(d: &mut Device, build: &str) -> String {
        let a = d.install("a", 1);
        d.set_roles(|r| {
            r.current = Some(a.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.store
            .write(|tx| store::meta::set_native_build(tx, build))
            .unwrap();
        a
    }

    #[test]
    fn a_new_native_build_with_the_same_version_drops_bundles_like_a_version_change() {
        let mut d = Device::new();
        let a = with_build(&mut d, "41");
        d.config.reset_when_update = true;
        d.config.native_build = Some("42".into());
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert!(d.row(&a).is_none(), "resetWhenUpdate drops every bundle");
        assert_eq!(d.roles().current, None);
        assert_eq!(
            store::meta::native_build(d.store.read())
                .unwrap()
                .as_deref(),
            Some("42")
        );
        let last = d.history().pop().unwrap();
        assert_eq!(last.event, "native_update");
        assert!(
            last.detail.contains("native build 41 -> 42"),
            "{}",
            last.detail
        );
    }

    #[test]
    fn the_same_version_and_build_again_changes_nothing() {
        let mut d = Device::new();
        let a = with_build(&mut d, "42");
        d.config.reset_when_update = true;
        d.config.native_build = Some("42".into());
        let history = d.history().len();
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
        assert_eq!(d.history().len(), history, "nothing recorded");
    }

    #[test]
    fn a_store_without_a_recorded_build_only_records_it() {
        let mut d = Device::new();
        let a = d.install("a", 1);
        d.set_roles(|r| {
            r.current = Some(a.clone());
            r.native_version = Some("1.0.0".into());
        });
        d.config.reset_when_update = true;
        d.config.native_build = Some("42".into());
        let history = d.history().len();
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
        assert_eq!(d.history().len(), history, "not a native update");
        assert_eq!(
            store::meta::native_build(d.store.read())
                .unwrap()
                .as_deref(),
            Some("42")
        );
        // ... and the next build after it is one.
        d.config.reset_when_update = true;
        d.config.native_build = Some("43".into());
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert!(d.row(&a).is_none());
    }

    #[test]
    fn a_shell_that_passes_no_build_compares_the_version_alone() {
        let mut d = Device::new();
        let a = with_build(&mut d, "41");
        d.config.reset_when_update = true;
        d.config.native_build = None;
        reconcile_native(&mut d.store, &d.config).unwrap();
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
        assert_eq!(
            store::meta::native_build(d.store.read())
                .unwrap()
                .as_deref(),
            Some("41"),
            "the recorded build stays"
        );
    }
}
