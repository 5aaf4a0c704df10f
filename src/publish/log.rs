//! `log`: a repository's history as an audit log, from what is already signed: every envelope
//! under `releases/` (each release and incident ever published) and each channel's current
//! `channels/<ch>.json`, verified against the pinned keys. An envelope that does not verify, a
//! file whose name does not match its manifest, or a channel file naming a release that is not
//! in the history is reported as such, never read past: nothing unverified is shown as fact.

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::{io_at, PublishError};
use crate::release::{self, PinnedKey};

/// One envelope of the history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub channel: String,
    /// The sequence the file name gives (`releases/<channel>.<sequence>.json`).
    pub sequence: u64,
    /// Relative to the repository.
    pub file: String,
    /// Whether the envelope verified against the pinned keys and matches its file name.
    pub verified: bool,
    /// Why it did not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `release`, or `incident` when the manifest carries incident instructions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The content id (FORMAT.md 2.8): what `--revoke-content` and device blocklists name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Percentage of devices; `None` is all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<u8>,
    pub revoked_sequences: Vec<u64>,
    pub revoked_content: Vec<String>,
    pub revert_to_builtin: bool,
    /// The channel file names this release now.
    pub current: bool,
    /// When the channel file carries this release re-signed (`liveship refresh`): its times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refreshed: Option<Refresh>,
}

/// The times of a refreshed channel envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refresh {
    pub issued_at: u64,
    pub expires_at: u64,
}

impl LogEntry {
    /// A flagged entry: nothing read from an unverified envelope is shown.
    fn unverified(channel: &str, sequence: u64, file: String, error: String) -> LogEntry {
        LogEntry {
            channel: channel.into(),
            sequence,
            file,
            error: Some(error),
            ..LogEntry::default()
        }
    }
}

/// The file name of `path` (empty when it is not UTF-8: such a name is never one of ours).
fn name_of(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

/// Reads and verifies one envelope file; the manifest must be of `channel#sequence`.
fn read_verified(
    path: &Path,
    keys: &[PinnedKey],
    channel: &str,
    sequence: Option<u64>,
) -> Result<release::VerifiedRelease, String> {
    let bytes = fs::File::open(path)
        .and_then(release::read_envelope)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let v = release::verify_envelope(&bytes, keys).map_err(|e| e.to_string())?;
    let m = &v.manifest;
    if m.channel != channel || sequence.is_some_and(|s| s != m.sequence) {
        return Err(format!(
            "the file name says {channel}#{} but the signed manifest is {}#{}",
            sequence.map_or("?".into(), |s| s.to_string()),
            m.channel,
            m.sequence
        ));
    }
    Ok(v)
}

/// `<channel>.<sequence>` of a `releases/` file name (`None`: not one of ours).
fn release_name(name: &str) -> Option<(String, u64)> {
    let stem = name.strip_suffix(".json")?;
    let (channel, seq) = stem.rsplit_once('.')?;
    let seq: u64 = seq.parse().ok()?;
    release::is_valid_channel(channel).then(|| (channel.to_string(), seq))
}

/// The history of `repo` (of one channel with `only`), sorted by channel and sequence.
pub fn history(
    repo: &Path,
    keys: &[PinnedKey],
    only: Option<&str>,
) -> Result<Vec<LogEntry>, PublishError> {
    let releases = repo.join("releases");
    let mut entries = Vec::new();
    let listing = match fs::read_dir(&releases) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PublishError::Invalid {
                what: "repository",
                reason: format!(
                    "{}: no releases/ folder (is this the folder `liveship pack --out` wrote?)",
                    repo.display()
                ),
            })
        }
        Err(e) => return Err(io_at("listing", &releases)(e)),
    };
    for entry in listing {
        let path = entry.map_err(io_at("listing", &releases))?.path();
        let name = name_of(&path);
        let Some((channel, sequence)) = release_name(&name) else {
            continue;
        };
        if only.is_some_and(|c| c != channel) {
            continue;
        }
        let file = format!("releases/{name}");
        entries.push(match read_verified(&path, keys, &channel, Some(sequence)) {
            Ok(v) => {
                let m = v.manifest;
                let content_id = m.content_id();
                let incident = m.incident.clone().unwrap_or_default();
                LogEntry {
                    kind: Some(if m.incident.is_some() {
                        "incident"
                    } else {
                        "release"
                    }),
                    version: Some(m.version),
                    app_id: Some(m.app_id),
                    key_id: Some(v.key_id),
                    content_id: Some(content_id),
                    issued_at: Some(m.issued_at),
                    expires_at: Some(m.expires_at),
                    rollout: m.rollout,
                    revoked_sequences: incident.revoked_sequences,
                    revoked_content: incident.revoked_sha256,
                    revert_to_builtin: incident.revert_to_builtin,
                    verified: true,
                    channel,
                    sequence,
                    file,
                    ..LogEntry::default()
                }
            }
            Err(e) => LogEntry::unverified(&channel, sequence, file, e),
        });
    }
    mark_current(repo, keys, only, &mut entries)?;
    entries
        .sort_by(|a, b| (&a.channel, a.sequence, &a.file).cmp(&(&b.channel, b.sequence, &b.file)));
    Ok(entries)
}

/// Marks the release each channel file names (and its refresh), or adds a flagged entry for a
/// channel file that does not verify or names a release missing from `releases/`.
fn mark_current(
    repo: &Path,
    keys: &[PinnedKey],
    only: Option<&str>,
    entries: &mut Vec<LogEntry>,
) -> Result<(), PublishError> {
    let channels = repo.join("channels");
    let Ok(listing) = fs::read_dir(&channels) else {
        return Ok(());
    };
    for entry in listing {
        let path = entry.map_err(io_at("listing", &channels))?.path();
        let name = name_of(&path);
        let Some(channel) = name
            .strip_suffix(".json")
            .filter(|c| release::is_valid_channel(c))
        else {
            continue;
        };
        if only.is_some_and(|c| c != channel) {
            continue;
        }
        let file = format!("channels/{name}");
        let v = match read_verified(&path, keys, channel, None) {
            Ok(v) => v,
            Err(e) => {
                entries.push(LogEntry::unverified(channel, 0, file, e));
                continue;
            }
        };
        let m = &v.manifest;
        let same = |e: &LogEntry| e.channel == channel && e.sequence == m.sequence && e.verified;
        match entries.iter_mut().find(|e| same(e)) {
            // Same sequence, other files: a sequence signed twice with different content.
            Some(e) if e.content_id.as_deref() != Some(m.content_id().as_str()) => {
                let first = e.file.clone();
                entries.push(LogEntry::unverified(
                    channel,
                    m.sequence,
                    file,
                    format!(
                        "the channel file's {}#{} has other content than {first}: a sequence signed twice",
                        channel, m.sequence
                    ),
                ))
            }
            Some(e) => {
                e.current = true;
                if e.issued_at != Some(m.issued_at) || e.expires_at != Some(m.expires_at) {
                    e.refreshed = Some(Refresh {
                        issued_at: m.issued_at,
                        expires_at: m.expires_at,
                    });
                }
            }
            None => entries.push(LogEntry::unverified(
                channel,
                m.sequence,
                file,
                format!(
                    "the channel file names {}#{}, which has no verified envelope under releases/",
                    channel, m.sequence
                ),
            )),
        }
    }
    Ok(())
}
