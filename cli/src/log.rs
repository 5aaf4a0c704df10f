//! `liveship log`: the repository's signed history as an audit log (every release and incident,
//! the channel files, each verified against the pinned keys), as a table or `--json`. The work
//! is `liveship::publish::history`; an envelope that does not verify is listed and makes the
//! command fail, after the whole log is printed.

use std::path::PathBuf;

use anyhow::{bail, Result};
use liveship::capacitor::args::iso8601;
use liveship::publish::{self, LogEntry};

use crate::keys;
use crate::pack::validate_channel;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository folder (channels/, releases/)
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// Only this channel
    #[arg(long, value_name = "CH")]
    pub channel: Option<String>,
    /// Pinned public key file (signing.pub); repeatable
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub public_key: Vec<PathBuf>,
    /// App config with `publicKeys`, e.g. liveship.config.json
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One JSON array of entries instead of the table
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(c) = &args.channel {
        validate_channel(c)?;
    }
    let pinned = keys::load_pinned(&args.public_key, args.config.as_deref())?.public_keys;
    let entries = publish::history(&args.repo, &pinned, args.channel.as_deref())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("entries serialize")
        );
    } else {
        print_table(&entries);
    }
    let bad = entries.iter().filter(|e| !e.verified).count();
    if bad > 0 {
        bail!(
            "{bad} of {} envelopes in {} did not verify (marked NOT VERIFIED above)",
            entries.len(),
            args.repo.display()
        );
    }
    Ok(())
}

fn print_table(entries: &[LogEntry]) {
    if entries.is_empty() {
        println!("no releases");
        return;
    }
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|e| {
            let [a, b, c, d, k, i, x, r] = row(e);
            [a, b, c, d, k, i, x, r, notes(e)]
        })
        .collect();
    let header = [
        "CHANNEL", "SEQ", "KIND", "VERSION", "KEY", "ISSUED", "EXPIRES", "ROLLOUT", "NOTES",
    ];
    // Every column left-aligned.
    let columns = crate::table::Columns::new(&header, &rows, header.len());
    println!("{}", columns.line(&header));
    for r in &rows {
        println!("{}", columns.line(r));
    }
}

fn row(e: &LogEntry) -> [String; 8] {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    [
        e.channel.clone(),
        if e.verified || e.sequence > 0 {
            e.sequence.to_string()
        } else {
            "-".into()
        },
        e.kind.unwrap_or("-").to_string(),
        or_dash(e.version.clone()),
        or_dash(e.key_id.clone()),
        or_dash(e.issued_at.map(iso8601)),
        or_dash(e.expires_at.map(iso8601)),
        match (e.verified, e.rollout) {
            (false, _) => "-".into(),
            (true, None) => "100%".into(),
            (true, Some(p)) => format!("{p}%"),
        },
    ]
}

fn notes(e: &LogEntry) -> String {
    if !e.verified {
        return format!(
            "NOT VERIFIED {}: {}",
            e.file,
            e.error.as_deref().unwrap_or("")
        );
    }
    let mut n = Vec::new();
    if e.current {
        n.push("current".to_string());
    }
    if let Some(r) = &e.refreshed {
        n.push(format!(
            "refreshed: issued {}, expires {}",
            iso8601(r.issued_at),
            iso8601(r.expires_at)
        ));
    }
    if !e.revoked_sequences.is_empty() {
        n.push(format!("revokes sequences {:?}", e.revoked_sequences));
    }
    if !e.revoked_content.is_empty() {
        n.push(format!("revokes content {:?}", e.revoked_content));
    }
    if e.revert_to_builtin {
        n.push("reverts devices to the built-in bundle".into());
    }
    n.join("; ")
}
