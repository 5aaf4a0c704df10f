//! `liveship pack`: turns a built web folder into a signed (and normally encrypted) release in a
//! static repository folder that any web host can serve. The work is `liveship::publish::pack`,
//! which first checks the folder's files against the devices' own extraction budgets and name
//! rules (`liveship::unpack::check_file_list` with `Budgets::default()`) and refuses, with the
//! device's message and before writing anything, a release devices would refuse; this module
//! reads flags and secrets, shows progress and prints the summary.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use liveship::clock::{Clock, SystemClock};
use liveship::publish::{self, PackOptions};
use liveship::release::{Incident, NativeRange};

use crate::keys;

pub use liveship::publish::{validate_channel, write_file_atomic};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Built web folder to publish (must contain index.html)
    #[arg(value_name = "WEBDIR")]
    pub webdir: PathBuf,
    /// App id the release is for (e.g. com.example.app)
    #[arg(long, value_name = "ID")]
    pub app_id: String,
    /// Channel to publish to: [a-z0-9][a-z0-9._-]{0,63}
    #[arg(long, value_name = "CH")]
    pub channel: String,
    /// Release sequence, >= 1 and greater than the channel's current one (anti-rollback counter)
    #[arg(long, value_name = "N")]
    pub sequence: u64,
    /// Display version shown to users and in logs (free text, e.g. 1.4.0)
    #[arg(long, value_name = "V")]
    pub version: String,
    /// Signing key file (signing.key); default: $LIVESHIP_SIGNING_KEY
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Bundle key file (bundle.key) to encrypt with; default: $LIVESHIP_BUNDLE_KEY
    #[arg(long, value_name = "FILE", conflicts_with = "no_encrypt")]
    pub bundle_key: Option<PathBuf>,
    /// Publish the bundle unencrypted (it is still signed)
    #[arg(long)]
    pub no_encrypt: bool,
    /// How long devices accept this manifest: e.g. 90d, 12h, 30m, 45s
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub expires_in: String,
    /// Oldest native app version the bundle runs on
    #[arg(long, value_name = "VER")]
    pub native_min: Option<String>,
    /// Newest native app version the bundle runs on
    #[arg(long, value_name = "VER")]
    pub native_max: Option<String>,
    /// Platforms the bundle is for, comma-separated (default: all)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub platforms: Vec<String>,
    /// Percentage of devices (0-100) that take the release (default: all)
    #[arg(long, value_name = "PCT")]
    pub rollout: Option<u8>,
    /// Incident: sequences of this channel that devices must stop running (repeatable)
    #[arg(long, value_name = "N")]
    pub revoke_sequence: Vec<u64>,
    /// Incident: content ids (see `verify` output) that devices must stop running (repeatable)
    #[arg(long, value_name = "ID")]
    pub revoke_content: Vec<String>,
    /// Incident: tell devices to drop downloaded bundles and serve the built-in one
    #[arg(long)]
    pub revert_to_builtin: bool,
    /// Repository folder to publish into (channels/, releases/, bundles/, files/)
    #[arg(long, value_name = "REPO")]
    pub out: PathBuf,
}

/// Parses `90d`, `12h`, `30m` or `45s` into seconds.
pub fn parse_duration(text: &str) -> Result<u64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.len().saturating_sub(1));
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => bail!("invalid duration {text:?}: use a number followed by d, h, m or s (e.g. 90d)"),
    };
    let n: u64 = num.parse().ok().filter(|n| *n > 0).with_context(|| {
        format!("invalid duration {text:?}: expected a positive whole number before the unit")
    })?;
    n.checked_mul(mult)
        .with_context(|| format!("duration {text:?} is too long"))
}

pub fn run(args: Args) -> Result<()> {
    // Inputs first: nothing is read or written before every flag is known to be usable.
    validate_channel(&args.channel)?;
    if args.sequence == 0 {
        bail!("--sequence must be at least 1");
    }
    if let Some(r) = args.rollout.filter(|r| *r > 100) {
        bail!("--rollout {r} is out of range: use a percentage from 0 to 100");
    }
    let expires_in = parse_duration(&args.expires_in)?;
    let signing = keys::load_signing_key(args.signing_key.as_deref())?;
    let bundle_key = if args.no_encrypt {
        None
    } else {
        let key = keys::load_bundle_key(args.bundle_key.as_deref())?.with_context(|| {
            format!(
                "no bundle key: pass --bundle-key FILE or set {} to encrypt the bundle, \
                 or pass --no-encrypt to publish it unencrypted",
                keys::BUNDLE_KEY_ENV
            )
        })?;
        Some(key)
    };
    let platforms: Vec<String> = args
        .platforms
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let incident = (!args.revoke_sequence.is_empty()
        || !args.revoke_content.is_empty()
        || args.revert_to_builtin)
        .then(|| Incident {
            revoked_sequences: args.revoke_sequence.clone(),
            revoked_sha256: args.revoke_content.clone(),
            revert_to_builtin: args.revert_to_builtin,
        });
    let now = SystemClock.now();
    let opts = PackOptions {
        webdir: &args.webdir,
        repo: &args.out,
        app_id: &args.app_id,
        channel: &args.channel,
        sequence: args.sequence,
        version: &args.version,
        signing_key: &signing,
        bundle_key: bundle_key.as_ref(),
        expires_in,
        native: NativeRange {
            min: args.native_min.clone(),
            max: args.native_max.clone(),
        },
        platforms,
        rollout: args.rollout,
        incident,
        now,
    };
    let packed = publish::pack(&opts, &Bars::default())?;
    let manifest = &packed.manifest;
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!("Packed {}", manifest.label());
    println!("  app id      {}", manifest.app_id);
    println!(
        "  files       {} ({} bytes unpacked)",
        manifest.files.len(),
        total
    );
    println!(
        "  bundle      {} bytes, {}",
        manifest.bundle.size,
        match &manifest.bundle.encryption {
            Some(e) => format!("encrypted with bundle key {}", e.key_id),
            None => "NOT encrypted".to_string(),
        }
    );
    println!(
        "  signed by   {} (expires in {}, at {})",
        packed.envelope.signatures[0].keyid, args.expires_in, manifest.expires_at
    );
    println!("  content id  {}", manifest.content_id());
    if let Some(i) = &manifest.incident {
        println!(
            "  incident    revoke sequences {:?}, revoke contents {:?}, revert to built-in {}",
            i.revoked_sequences, i.revoked_sha256, i.revert_to_builtin
        );
    }
    println!("Wrote");
    println!("  {}", packed.bundle_path.display());
    println!(
        "  {} ({} objects)",
        packed.delta_dir.display(),
        packed.delta_objects
    );
    println!("  {}", packed.release_path.display());
    println!("  {}", packed.channel_path.display());
    Ok(())
}

/// indicatif bars for `publish::pack`'s phases.
#[derive(Default)]
struct Bars {
    bar: std::cell::RefCell<Option<ProgressBar>>,
}

impl publish::Progress for Bars {
    fn phase(&self, what: &'static str, total_bytes: u64) {
        *self.bar.borrow_mut() = Some(progress(total_bytes, what));
    }
    fn advance(&self, bytes: u64) {
        if let Some(b) = &*self.bar.borrow() {
            b.inc(bytes);
        }
    }
    fn finish_phase(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal (CI logs stay clean).
pub fn progress(total: u64, what: &'static str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what);
    pb
}
