//! Liveship core: a live-update agent for Capacitor apps.
//!
//! Layers, each calling only the ones below it (see `docs/ARCHITECTURE.md`):
//! `release` (signed manifests) and `crypto` (sealed bundles) at the bottom.

pub mod crypto;
pub mod fetch;
pub mod release;
pub mod unpack;
