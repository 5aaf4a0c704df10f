//! Telemetry: the consented event queue and the Capgo stats format.

pub mod wire;

pub use wire::{StatsBody, StatsEvent, DELETE_ACTION, MAX_BATCH, MAX_BODY_BYTES};
