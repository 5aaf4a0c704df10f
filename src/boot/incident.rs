//! Incidents: the publisher's signed instruction to revoke releases or revert to the built-in
//! bundle.
//!
//! Guarantees: a revoked bundle (by sequence on the manifest's channel, or by content id on any
//! channel) is marked failed, blocklisted and loses its roles; a revoked current falls back to
//! the fallback, else the built-in bundle. Revocations stick for releases this device does not
//! have yet (content blocklisted, high-water raised past revoked sequences), and
//! `revert_to_builtin` leaves no role but the native version.

use super::launch::fail_bundle;
use super::{BootError, Reverted};
use crate::release::{Incident, Manifest};
use crate::store::{self, BundleStatus, Roles, Store};

/// Takes every role from failed bundle `id`: a failed current falls back to the fallback (else
/// the built-in bundle serves).
pub(super) fn drop_roles(roles: &mut Roles, id: &str) {
    for role in [&mut roles.trial, &mut roles.next, &mut roles.fallback] {
        if role.as_deref() == Some(id) {
            *role = None;
        }
    }
    if roles.current.as_deref() == Some(id) {
        roles.current = roles.fallback.take();
    }
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
            drop_roles(&mut roles, &b.id);
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{content_of, manifest, Device, CHANNEL};
    use super::super::BundleStatus::*;
    use super::*;
    use crate::release::NativeRange;

    fn incident(sequences: &[u64], contents: &[String], builtin: bool) -> Incident {
        Incident {
            revoked_sequences: sequences.to_vec(),
            revoked_sha256: contents.to_vec(),
            revert_to_builtin: builtin,
        }
    }

    fn high_water(d: &Device, channel: &str) -> Option<u64> {
        store::high_water(d.store.read(), channel).unwrap()
    }

    #[test]
    fn a_revoked_sequence_fails_blocklists_and_current_falls_back() {
        let mut d = Device::new();
        let [a, b] = d.with_roles([Fallback, Current]);
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[2], &[], false)).unwrap();
        assert_eq!(reverted.len(), 1);
        assert_eq!(reverted[0].id, b);
        assert!(
            reverted[0].reason.contains(&m.label()),
            "{}",
            reverted[0].reason
        );
        assert!(d.failed(&b));
        assert!(d.blocked(&content_of(&b)).is_some());
        let roles = d.roles();
        assert_eq!(roles.current.as_deref(), Some(a.as_str()));
        assert_eq!(roles.fallback, None);
    }

    #[test]
    fn a_revoked_sequence_touches_only_the_manifests_channel() {
        let mut d = Device::new();
        let a = d.install_on("a", "beta", 2, NativeRange::default());
        d.set_roles(|r| r.current = Some(a.clone()));
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[2], &[], false)).unwrap();
        assert!(reverted.is_empty());
        assert!(!d.failed(&a));
        assert_eq!(d.roles().current.as_deref(), Some(a.as_str()));
    }

    #[test]
    fn revoked_content_is_reverted_on_any_channel() {
        let mut d = Device::new();
        let a = d.install_on("a", "beta", 7, NativeRange::default());
        d.set_roles(|r| r.trial = Some(a.clone()));
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[], &[content_of(&a)], false)).unwrap();
        assert_eq!(reverted.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&a]);
        assert!(d.failed(&a));
        assert_eq!(d.roles().trial, None);
    }

    #[test]
    fn revocations_stick_for_releases_not_installed_yet() {
        let mut d = Device::new();
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let absent = "content-never-installed".to_string();
        revoke(
            &mut d.store,
            &m,
            &incident(&[5, 4], std::slice::from_ref(&absent), false),
        )
        .unwrap();
        assert!(d.blocked(&absent).is_some());
        assert_eq!(high_water(&d, CHANNEL), Some(5));
    }

    #[test]
    fn revert_to_builtin_drops_every_role_and_raises_the_high_water_to_the_incident() {
        let mut d = Device::new();
        let a = d.install("a", 1);
        let b = d.install("b", 2);
        d.set_roles(|r| {
            r.fallback = Some(a.clone());
            r.current = Some(b.clone());
            r.native_version = Some("1.0.0".into());
        });
        let m = manifest(CHANNEL, 9, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[], &[], true)).unwrap();
        assert!(reverted.is_empty(), "nothing is blamed");
        assert!(!d.failed(&a) && !d.failed(&b));
        assert_eq!(
            d.roles(),
            Roles {
                native_version: Some("1.0.0".into()),
                ..Roles::default()
            }
        );
        assert_eq!(high_water(&d, CHANNEL), Some(9));
    }

    #[test]
    fn a_revoked_fallback_does_not_become_current() {
        let mut d = Device::new();
        d.with_roles([Fallback, Current]);
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[1, 2], &[], false)).unwrap();
        assert_eq!(reverted.len(), 2);
        let roles = d.roles();
        assert_eq!((roles.current, roles.fallback), (None, None));
    }

    #[test]
    fn an_already_failed_bundle_is_not_reverted_twice() {
        let mut d = Device::new();
        let [a] = d.with_roles([Ready]);
        d.mark_failed(&a);
        let m = manifest(CHANNEL, 3, NativeRange::default());
        let reverted = revoke(&mut d.store, &m, &incident(&[1], &[], false)).unwrap();
        assert!(reverted.is_empty());
    }
}
