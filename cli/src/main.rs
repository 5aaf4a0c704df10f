//! `liveship`: the publisher CLI and the desktop device harness. Generates keys, packs a web
//! folder into a signed and encrypted release in a static repository folder, verifies a
//! published release the way a device would, serves a repository for development, collects device stats and prints
//! their figures (`serve --stats`, `stats`), drives the device core from a shell (`device`), re-signs a channel with a new expiry (`refresh`), and runs the end-to-end demo. Exit status: 0 on
//! success, 1 when a command fails (including a failed check), 2 on a usage error. A failure is
//! one `error: ...` line on stderr with each cause once ([`liveship::error::chain_text`]).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod collector;
mod demo;
mod dev;
mod device;
mod guard;
mod keygen;
mod keys;
mod log;
mod pack;
mod refresh;
mod serve;
mod stats;
mod table;
mod verify;

#[derive(Debug, Parser)]
#[command(
    name = "liveship",
    version,
    about = "Publish signed, encrypted live updates for Capacitor apps",
    long_about = "Publish signed, encrypted live updates for Capacitor apps.\n\n\
        Typical use: `liveship keygen` once (keep the secrets in your CI secret store, put \
        liveship.config.json into the app), then `liveship pack` in CI for every release, \
        upload the repository folder to any static host, and `liveship verify` to check what \
        devices will see.",
    after_help = "Secrets can come from the environment instead of files: \
        LIVESHIP_SIGNING_KEY and LIVESHIP_BUNDLE_KEY hold the JSON of signing.key and bundle.key."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a signing key pair, a bundle key and the app's liveship.config.json
    Keygen(keygen::Args),
    /// Zip, encrypt and sign a web folder as a new release in a repository folder
    Pack(Box<pack::Args>),
    /// Re-sign a channel's current release with a new expiry (same release, same sequence)
    Refresh(refresh::Args),
    /// List every release and incident in a repository, verified against the pinned keys
    Log(log::Args),
    /// Check a published release end to end: signature, expiry, bundle, decryption, files, delta
    Verify(verify::Args),
    /// Serve a release repository over HTTP(S) (read-only); with --stats, collect device stats
    Serve(serve::ServeArgs),
    /// Per-release figures from the stats collector's store: devices, downloads, failures
    Stats(stats::Args),
    /// Revoke a release whose failure rate is clearly above a threshold (dry run by default)
    Guard(guard::Args),
    /// Run the whole flow end to end on loopback: publish, serve, update, revert, delta
    Demo(demo::DemoArgs),
    /// Drive the device core from a shell: install, launch, ready, status, check, update, ...
    Device(device::DeviceArgs),
    /// Run the app in a desktop browser on Capacitor's bridge, with the real core behind it
    Dev(Box<dev::DevArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::Pack(a) => pack::run(*a),
        Command::Refresh(a) => refresh::run(a),
        Command::Log(a) => log::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Serve(a) => serve::run(a).map_err(Into::into),
        Command::Stats(a) => stats::run(a),
        Command::Guard(a) => guard::run(a),
        Command::Device(a) => device::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Dev(a) => dev::run(*a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Each cause once: most causes are already in their parent's message.
            eprintln!("error: {}", liveship::error::chain_text(e.chain()));
            ExitCode::FAILURE
        }
    }
}
