//! `liveship stats --db DB [--channel CH] [--json]`: the figures of each release from the
//! collector's store (`liveship serve --stats DB`), as a table or one JSON array.
//! [`release_stats`] is the same computation for other commands (the rollout guard).

use anyhow::Result;

pub use crate::collector::figures::ReleaseStats;
use crate::collector::{dashboard::percent_interval, figures, Store};
use crate::pack::validate_channel;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The collector's store: a SQLite file or a postgres:// URL (as given to serve --stats)
    #[arg(long, value_name = "DB")]
    pub db: String,
    /// Only this channel
    #[arg(long, value_name = "CH")]
    pub channel: Option<String>,
    /// One JSON array, one object per release, instead of the table
    #[arg(long)]
    pub json: bool,
}

/// Every release's figures in the store `db` (a SQLite file that must exist, or a
/// `postgres://` URL), optionally of one channel, ordered by channel and sequence. The counts
/// are of distinct devices; `failure_rate_low`/`_high` are the Wilson 95% interval of
/// `failed / devices` (docs/COLLECTOR.md).
pub fn release_stats(db: &str, channel: Option<&str>) -> Result<Vec<ReleaseStats>> {
    let mut store = Store::open_existing(db)?;
    figures::compute(&mut store, channel)
}

pub fn run(args: Args) -> Result<()> {
    if let Some(c) = &args.channel {
        validate_channel(c)?;
    }
    let stats = release_stats(&args.db, args.channel.as_deref())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&stats).expect("stats serialize")
        );
    } else {
        print_table(&stats);
    }
    Ok(())
}

/// Event text on a terminal: control characters (escape sequences) become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub fn print_table(stats: &[ReleaseStats]) {
    if stats.is_empty() {
        println!("no events about a release");
        return;
    }
    let header = [
        "CHANNEL",
        "SEQ",
        "VERSION",
        "DEVICES",
        "DOWNLOADS",
        "INSTALLS",
        "CONFIRMED",
        "REVERTED",
        "FAILED",
        "FAILURE RATE [95%]",
    ];
    let rows: Vec<[String; 10]> = stats
        .iter()
        .map(|s| {
            [
                printable(&s.channel),
                s.sequence.to_string(),
                printable(&s.version),
                s.devices.to_string(),
                s.downloads.to_string(),
                s.installs.to_string(),
                s.confirmed.to_string(),
                s.reverted.to_string(),
                s.failed.to_string(),
                percent_interval(s),
            ]
        })
        .collect();
    let columns = crate::table::Columns::new(&header, &rows, 3);
    println!("{}", columns.line(&header));
    for (r, s) in rows.iter().zip(stats) {
        println!("{}", columns.line(r));
        for f in &s.failures {
            let reason = if f.reason.is_empty() {
                "(no reason)".to_owned()
            } else {
                printable(&f.reason)
            };
            println!("    {} {}: {}", printable(&f.action), reason, f.count);
        }
    }
}
