//! `liveship refresh`: re-signs a channel's current release with a new expiry, the release
//! unchanged (same sequence, files and objects), so CI can publish short expiries and renew
//! them on a schedule (docs/HOSTING.md). The work is `liveship::publish::refresh`, which
//! re-signs only an envelope that verifies under the given signing key.

use std::path::PathBuf;

use anyhow::Result;
use liveship::clock::{Clock, SystemClock};
use liveship::publish::{self, RefreshOptions};

use crate::keys;
use crate::pack::{parse_duration, validate_channel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository folder holding channels/<CH>.json
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// Channel whose current envelope is re-signed
    #[arg(long, value_name = "CH")]
    pub channel: String,
    /// Signing key file (signing.key) that signed the current envelope; default:
    /// $LIVESHIP_SIGNING_KEY
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// New validity from now: e.g. 7d, 36h (default: the current envelope's validity period)
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// Sign as if the time were UNIX_SECS (for tests)
    #[arg(long, value_name = "UNIX_SECS", hide = true)]
    pub now: Option<u64>,
}

pub fn run(args: Args) -> Result<()> {
    validate_channel(&args.channel)?;
    let expires_in = args.expires_in.as_deref().map(parse_duration).transpose()?;
    let signing = keys::load_signing_key(args.signing_key.as_deref())?;
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let done = publish::refresh(&RefreshOptions {
        repo: &args.repo,
        channel: &args.channel,
        signing_key: &signing,
        expires_in,
        now,
    })?;
    let m = &done.manifest;
    let when = liveship::capacitor::args::iso8601;
    println!("Refreshed {}", m.label());
    println!(
        "  was         issued {}, expires {}",
        when(done.previous.issued_at),
        when(done.previous.expires_at)
    );
    println!(
        "  now         issued {}, expires {} (valid {})",
        when(m.issued_at),
        when(m.expires_at),
        span(m.expires_at - m.issued_at)
    );
    println!("  signed by   {}", done.envelope.signatures[0].keyid);
    println!("Wrote");
    println!("  {}", done.channel_path.display());
    Ok(())
}

/// Seconds as the largest whole unit that `--expires-in` accepts (`7d`, `36h`, `90s`).
fn span(secs: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}
