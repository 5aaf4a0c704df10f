//! Liveship core: a live-update agent for Capacitor apps.
//!
//! Layers, each calling only the ones below it (see `docs/ARCHITECTURE.md`):
//! `engine` (orchestration) -> `boot` (launch, trial, confirm, revert) -> `install`
//! (crash-ordered install) -> `store` (SQLite state, bundle directories) and `unpack` (safe zip
//! extraction); `policy` (may this device take a release) -> `release` (signed manifests) ->
//! `crypto` (sealed bundles); `fetch` (HTTP); `config` and `events` are shared vocabulary;
//! `clock` is injected time (system or manual).
//! `ffi` is the public face for Kotlin, Swift and Python (uniffi), over `engine`.

#[cfg(target_os = "android")]
mod android;
pub mod boot;
pub mod capacitor;
pub mod capgo;
pub mod check;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod delta;
pub mod engine;
pub mod error;
pub mod events;
pub mod fetch;
pub mod ffi;
pub mod fs;
pub mod install;
pub mod policy;
pub mod publish;
pub mod release;
pub mod store;
pub mod telemetry;
pub mod unpack;

uniffi::setup_scaffolding!();
