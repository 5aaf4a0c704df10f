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
            for role in [&mut roles.trial, &mut roles.next, &mut roles.fallback] {
                if role.as_deref() == Some(b.id.as_str()) {
                    *role = None;
                }
            }
            if roles.current.as_deref() == Some(b.id.as_str()) {
                roles.current = roles.fallback.take();
            }
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
