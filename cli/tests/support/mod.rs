//! Helpers shared by the CLI's test binaries; each binary uses only part of them.
#![allow(dead_code)]

pub mod cli;
pub mod server;
