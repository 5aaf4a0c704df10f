//! `liveship keygen`: creates a publisher's key set (Ed25519 signing pair and AES-256 bundle key)
//! and the `liveship.config.json` fragment an app pins.
//!
//! Guarantees: existing key files are never overwritten without `--force`, and nothing is written
//! when any of them exists; secret files are created with mode 0600 (never readable by others,
//! not even for a moment); each file appears whole (temp file, fsync, rename).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::crypto;
use liveship::release::{BundleKey, PinnedKey};

use crate::keys::{AppKeys, SigningKeyFile, BUNDLE_KEY_ENV, SIGNING_KEY_ENV};
use crate::pack::{validate_channel, write_file_atomic};

/// Names of the files keygen writes, in the order it prints them.
pub const SIGNING_KEY_FILE: &str = "signing.key";
pub const SIGNING_PUB_FILE: &str = "signing.pub";
pub const BUNDLE_KEY_FILE: &str = "bundle.key";
pub const CONFIG_FILE: &str = "liveship.config.json";

const SECRET_MODE: u32 = 0o600;
const PUBLIC_MODE: u32 = 0o644;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write the keys into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Channels the signing key may sign for, comma-separated; `*` means every channel
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "*")]
    pub channels: Vec<String>,
    /// Replace key files that already exist in DIR
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> Result<()> {
    let channels = normalize_channels(&args.channels)?;
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;

    let names = [
        SIGNING_KEY_FILE,
        SIGNING_PUB_FILE,
        BUNDLE_KEY_FILE,
        CONFIG_FILE,
    ];
    if !args.force {
        let existing: Vec<String> = names
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            bail!(
                "refusing to overwrite existing key files ({}); pass --force to replace them \
                 (apps pinned to the old keys will reject releases signed with new ones)",
                existing.join(", ")
            );
        }
    }

    let signing = SigningKey::from_bytes(&crypto::random_bytes::<32>());
    let public = signing.verifying_key();
    let signing_id = crypto::public_key_id(public.as_bytes());
    let bundle = BundleKey::new(&crypto::random_bytes::<32>());

    let secret = SigningKeyFile {
        key_id: signing_id.clone(),
        secret_key: B64.encode(signing.to_bytes()),
    };
    let pinned = PinnedKey {
        key_id: signing_id.clone(),
        public_key: B64.encode(public.as_bytes()),
        channels: channels.clone(),
    };
    let config = AppKeys {
        public_keys: vec![pinned.clone()],
        bundle_keys: vec![bundle.clone()],
    };

    write_json(&dir.join(SIGNING_KEY_FILE), &secret, SECRET_MODE)?;
    write_json(&dir.join(BUNDLE_KEY_FILE), &bundle, SECRET_MODE)?;
    write_json(&dir.join(SIGNING_PUB_FILE), &pinned, PUBLIC_MODE)?;
    write_json(&dir.join(CONFIG_FILE), &config, PUBLIC_MODE)?;

    let p = |n: &str| dir.join(n).display().to_string();
    let w = p(CONFIG_FILE).len() + 1;
    println!("Generated Liveship keys in {}", dir.display());
    println!(
        "  signing key  {signing_id}  (Ed25519, channels: {})",
        channels.join(",")
    );
    println!("  bundle key   {}  (AES-256)", bundle.key_id);
    println!();
    println!("Secret: keep in your CI secret store, never commit (mode 0600):");
    println!(
        "  {:<w$} signs releases; in CI set {SIGNING_KEY_ENV} to its contents",
        p(SIGNING_KEY_FILE)
    );
    println!(
        "  {:<w$} encrypts bundles; in CI set {BUNDLE_KEY_ENV} to its contents",
        p(BUNDLE_KEY_FILE)
    );
    println!("Public: goes into the app:");
    println!(
        "  {:<w$} the pinned public key (for `liveship verify --public-key`)",
        p(SIGNING_PUB_FILE)
    );
    println!(
        "  {:<w$} merge into plugins.Liveship in capacitor.config",
        p(CONFIG_FILE)
    );
    println!();
    println!(
        "Note: the app config also carries the bundle key, because devices decrypt with it. \
         Encryption keeps bundles from hosts, CDNs and the network, not from someone who takes \
         the app apart; authenticity rests on the signature alone."
    );
    Ok(())
}

fn normalize_channels(list: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in list.iter().map(|c| c.trim()) {
        if c.is_empty() {
            continue;
        }
        if c != "*" {
            validate_channel(c)?;
        }
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    if out.is_empty() {
        bail!("--channels is empty: name at least one channel, or `*` for all");
    }
    Ok(out)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T, mode: u32) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("key files serialize");
    bytes.push(b'\n');
    write_file_atomic(path, &bytes, mode)
}
