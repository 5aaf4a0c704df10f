//! Liveship core: a live-update agent for Capacitor apps.
//!
//! Layers, each calling only the ones below it (see `docs/ARCHITECTURE.md`):
//! `release` (signed manifests) and `crypto` (sealed bundles) at the bottom.

pub mod boot;
pub mod config;
pub mod crypto;
pub mod events;
pub mod install;
pub mod policy;
pub mod release;
pub mod store;
pub mod unpack;
pub mod updater;
