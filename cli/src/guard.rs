//! `liveship guard`: the rollout guard. It reads the collector's figures for one channel
//! (`liveship stats`) and, for each published release that is not revoked yet, decides:
//! **revoke** when at least `--min-devices` devices reported about it and the *lower* bound of
//! its failure rate's Wilson 95% interval is above `--max-failure-rate` (so a handful of
//! unlucky reports cannot trip it, and a bad release is stopped as soon as the evidence is
//! clear, long before most of the fleet has it), **healthy** otherwise, or **too few devices**.
//! Dry run by default: it prints what it would do and exits 2 when something should be revoked.
//! With `--apply` it publishes the incident (`liveship::publish::revoke`): devices running the
//! release revert to the last good one, and no other device takes it.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use liveship::clock::{Clock, SystemClock};
use liveship::publish::{self, RevokeOptions};
use serde::Serialize;

use crate::collector::figures::ReleaseStats;
use crate::keys;
use crate::pack::{parse_duration, validate_channel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The collector's database: a SQLite file or postgres://…
    #[arg(long, value_name = "DB")]
    pub db: String,
    /// Repository folder the channel is published in
    #[arg(long, value_name = "REPO")]
    pub repo: PathBuf,
    /// Channel to guard
    #[arg(long, value_name = "CH")]
    pub channel: String,
    /// Signing key file that signs the incident; default: $LIVESHIP_SIGNING_KEY
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Revoke when the failure rate's lower 95% bound is above this: 5% or 0.05
    #[arg(long, value_name = "RATE", default_value = "5%")]
    pub max_failure_rate: String,
    /// Decide only for releases at least this many devices reported about
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub min_devices: u64,
    /// How long devices accept the incident: e.g. 7d
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub expires_in: String,
    /// Publish the incidents (default: only say what would be done)
    #[arg(long)]
    pub apply: bool,
    /// Print the decisions as JSON
    #[arg(long)]
    pub json: bool,
}

/// What the guard decided for one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Healthy,
    TooFewDevices,
    Revoke,
    AlreadyRevoked,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub sequence: u64,
    pub version: String,
    pub devices: u64,
    pub failed: u64,
    pub failure_rate_low: f64,
    pub verdict: Verdict,
    /// With `--apply`: the incident's sequence.
    pub incident_sequence: Option<u64>,
}

/// `5%`, `0.5%` or `0.05` as a fraction in (0, 1).
pub fn parse_rate(text: &str) -> Result<f64> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .ok()
    .filter(|v| v.is_finite() && *v > 0.0 && *v < 1.0)
    .with_context(|| {
        format!("--max-failure-rate {text:?}: use a percentage like 5% or a fraction like 0.05, above 0 and below 100%")
    })?;
    Ok(value)
}

/// The guard's rule for one release (see the module docs).
pub fn verdict(s: &ReleaseStats, max_rate: f64, min_devices: u64, revoked: bool) -> Verdict {
    if revoked {
        Verdict::AlreadyRevoked
    } else if s.devices < min_devices {
        Verdict::TooFewDevices
    } else if s.failure_rate_low > max_rate {
        Verdict::Revoke
    } else {
        Verdict::Healthy
    }
}

pub fn run(args: Args) -> Result<()> {
    validate_channel(&args.channel)?;
    let max_rate = parse_rate(&args.max_failure_rate)?;
    let expires_in = parse_duration(&args.expires_in)?;
    if args.min_devices == 0 {
        bail!("--min-devices must be at least 1");
    }
    let signing = keys::load_signing_key(args.signing_key.as_deref())?;
    let stats = crate::stats::release_stats(&args.db, Some(&args.channel))?;
    let revoked = publish::revoked_sequences(&args.repo, &args.channel, &signing)?;
    let mut decisions: Vec<Decision> = stats
        .iter()
        .map(|s| Decision {
            sequence: s.sequence,
            version: s.version.clone(),
            devices: s.devices,
            failed: s.failed,
            failure_rate_low: s.failure_rate_low,
            verdict: verdict(s, max_rate, args.min_devices, revoked.contains(&s.sequence)),
            incident_sequence: None,
        })
        .collect();
    let to_revoke: Vec<u64> = decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Revoke)
        .map(|d| d.sequence)
        .collect();
    if args.apply && !to_revoke.is_empty() {
        // One incident for all of them: one by one, the first would carry the next bad one.
        let done = publish::revoke(&RevokeOptions {
            repo: &args.repo,
            channel: &args.channel,
            sequences: &to_revoke,
            signing_key: &signing,
            expires_in,
            now: SystemClock.now(),
        })
        .with_context(|| format!("revoking {}#{to_revoke:?}", args.channel))?;
        for d in &mut decisions {
            if d.verdict == Verdict::Revoke {
                d.incident_sequence = Some(done.manifest.sequence);
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&decisions).expect("decisions serialize")
        );
    } else {
        print_table(&args, max_rate, &decisions);
    }
    let pending = decisions
        .iter()
        .any(|d| d.verdict == Verdict::Revoke && d.incident_sequence.is_none());
    if pending {
        // A dry run that found a release to stop: a scheduled job can alert on this status.
        std::process::exit(2);
    }
    Ok(())
}

fn print_table(args: &Args, max_rate: f64, decisions: &[Decision]) {
    println!(
        "channel {}: revoke when the failure rate's lower 95% bound > {:.2}% with at least {} devices{}",
        args.channel,
        max_rate * 100.0,
        args.min_devices,
        if args.apply { "" } else { " (dry run: --apply publishes)" }
    );
    if decisions.is_empty() {
        println!("  no release of this channel has reported yet");
    }
    for d in decisions {
        let what = match (d.verdict, d.incident_sequence) {
            (Verdict::Revoke, Some(n)) => format!("REVOKED by incident #{n}"),
            (Verdict::Revoke, None) => "WOULD REVOKE".into(),
            (Verdict::Healthy, _) => "healthy".into(),
            (Verdict::TooFewDevices, _) => "too few devices to decide".into(),
            (Verdict::AlreadyRevoked, _) => "already revoked".into(),
        };
        println!(
            "  #{:<5} {:<16} devices {:>6}  failed {:>6}  lower bound {:>6.2}%  {what}",
            d.sequence,
            d.version
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>(),
            d.devices,
            d.failed,
            d.failure_rate_low * 100.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(devices: u64, failed: u64, low: f64) -> ReleaseStats {
        ReleaseStats {
            channel: "production".into(),
            sequence: 2,
            version: "1.0.2".into(),
            devices,
            downloads: devices,
            installs: devices,
            confirmed: devices - failed,
            reverted: failed,
            failed,
            failure_rate: failed as f64 / devices as f64,
            failure_rate_low: low,
            failure_rate_high: 1.0,
            failures: vec![],
        }
    }

    #[test]
    fn the_guard_revokes_on_the_lower_bound_with_enough_devices_only() {
        // 6 of 20 failed: lower bound 0.1455 > 5%.
        assert_eq!(
            verdict(&release(20, 6, 0.1455), 0.05, 20, false),
            Verdict::Revoke
        );
        // 2 of 20: rate 10% but lower bound 0.0279 is under 5%: not yet clear.
        assert_eq!(
            verdict(&release(20, 2, 0.0279), 0.05, 20, false),
            Verdict::Healthy
        );
        // Too few devices, however bad.
        assert_eq!(
            verdict(&release(3, 3, 0.4385), 0.05, 20, false),
            Verdict::TooFewDevices
        );
        assert_eq!(
            verdict(&release(20, 6, 0.1455), 0.05, 20, true),
            Verdict::AlreadyRevoked
        );
    }

    #[test]
    fn rates_are_percentages_or_fractions_strictly_between_0_and_1() {
        assert_eq!(parse_rate("5%").unwrap(), 0.05);
        assert_eq!(parse_rate("0.05").unwrap(), 0.05);
        assert!((parse_rate(" 0.5 %").unwrap() - 0.005).abs() < 1e-12);
        for bad in ["0", "0%", "100%", "1", "-5%", "five", "nan"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
