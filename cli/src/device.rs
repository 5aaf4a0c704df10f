//! `liveship device`: the device core driven from a shell, for debugging and for tests.
//! Every command prints one JSON document on stdout (documented in docs/DEVICE.md); errors go to
//! stderr with a non-zero exit.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use liveship::boot::{Confirmed, LaunchResult, ResetTarget};
use liveship::config::Config;
use liveship::config::Consent;
use liveship::engine::Engine;
use liveship::events::Event;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Folder holding the device state (database and bundles); created if missing.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The app's configuration: the `plugins.Liveship` object plus appId, platform,
    /// nativeVersion and builtinDir.
    #[arg(long)]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: DeviceCommand,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Verify and install a release from a local repository as `next`.
    Install {
        /// Path to `channels/<channel>.json` (or `releases/<channel>.<sequence>.json`).
        #[arg(long)]
        release: PathBuf,
    },
    /// What native start-up does: pick the bundle to serve (trial, revert, or current).
    Launch,
    /// What the page does once it runs: confirm the bundle it was loaded from.
    Ready {
        #[arg(long)]
        bundle: String,
    },
    /// Roles, channel, high-water mark, device id.
    Status,
    /// Installed bundles and their roles.
    List,
    /// Every state transition with its reason and time.
    History,
    /// Go back to the built-in bundle or the last confirmed one.
    Reset {
        #[arg(long, value_enum, default_value_t = ResetTo::Builtin)]
        to: ResetTo,
    },
    /// Make an installed bundle `next`.
    SetNext { id: String },
    /// Delete an installed bundle that holds no role.
    Delete { id: String },
    /// Ask the configured updateUrl whether an update is available (downloads nothing).
    Check,
    /// Check, download (delta when cheaper) and install as next.
    Update,
    /// Set the consent level for update events: off, anonymous (without the install id) or
    /// full (with it). Lowering it purges what was queued.
    Consent {
        #[arg(value_enum)]
        level: ConsentLevel,
    },
    /// Everything stored about this install, as one JSON document (the app's exportData).
    Export,
    /// Erase this install's data and rotate its id; with consent full, ask the collector to
    /// erase the old id (sent now).
    DeleteData,
    /// Send the queued update events to statsUrl now.
    Flush,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConsentLevel {
    Off,
    Anonymous,
    Full,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ResetTo {
    Builtin,
    LastGood,
}

fn print(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// The documented shape of `launch`: the built-in bundle's path is `builtinDir`.
pub fn launch_json(r: &LaunchResult, config: &Config) -> Value {
    let path = r.path.clone().unwrap_or_else(|| config.builtin_dir.clone());
    json!({
        "id": r.id,
        "version": r.version,
        "path": path,
        "trial": r.trial,
        "reverted": r.reverted.as_ref().map(|v| json!({"id": v.id, "version": v.version, "reason": v.reason})),
    })
}

pub fn open(data_dir: &std::path::Path, config_path: &std::path::Path) -> Result<(Engine, Config)> {
    let config = Config::load(config_path)?;
    let events =
        Arc::new(|e: Event| eprintln!("event: {}", serde_json::to_string(&e).unwrap_or_default()));
    let updater = Engine::open(config.clone(), data_dir, events)
        .with_context(|| format!("opening device state in {}", data_dir.display()))?;
    Ok((updater, config))
}

pub fn run(args: DeviceArgs) -> Result<()> {
    let (updater, config) = open(&args.data_dir, &args.config)?;
    match args.command {
        DeviceCommand::Install { release } => print(&updater.install_from_file(&release)?),
        DeviceCommand::Launch => print(&launch_json(&updater.launch(), &config)),
        DeviceCommand::Ready { bundle } => {
            let out = updater.notify_app_ready(&bundle)?;
            let (confirmed, previous) = match out {
                Confirmed::Promoted { previous } => ("promoted", previous),
                Confirmed::AlreadyCurrent => ("alreadyCurrent", None),
            };
            print(&json!({"id": bundle, "confirmed": confirmed, "previous": previous}))
        }
        DeviceCommand::Status => print(&updater.status()?),
        DeviceCommand::List => print(&updater.list()?),
        DeviceCommand::History => print(&updater.history()?),
        DeviceCommand::Reset { to } => {
            let to = match to {
                ResetTo::Builtin => ResetTarget::Builtin,
                ResetTo::LastGood => ResetTarget::LastGood,
            };
            print(&launch_json(&updater.reset(to)?, &config))
        }
        DeviceCommand::SetNext { id } => {
            updater.set_next(&id)?;
            print(&json!({"next": id}))
        }
        DeviceCommand::Delete { id } => {
            updater.delete(&id)?;
            print(&json!({"deleted": id}))
        }
        DeviceCommand::Check => print(&updater.check()?),
        DeviceCommand::Update => print(&updater.update()?),
        DeviceCommand::Consent { level } => {
            let level = match level {
                ConsentLevel::Off => Consent::Off,
                ConsentLevel::Anonymous => Consent::Anonymous,
                ConsentLevel::Full => Consent::Full,
            };
            let purged = updater.set_consent(level)?;
            print(&json!({"level": level, "purged": purged}))
        }
        DeviceCommand::Export => print(&liveship::capacitor::export_data(&updater)?),
        DeviceCommand::DeleteData => {
            let deleted = updater.delete_data()?;
            // The deletion request is sent before this process ends (waits for the flush
            // `delete_data` started, then sends whatever is left).
            let flush = updater.flush_stats(true)?;
            print(&json!({"deleted": deleted, "flush": flush}))
        }
        DeviceCommand::Flush => print(&updater.flush_stats(true)?),
    }
}
