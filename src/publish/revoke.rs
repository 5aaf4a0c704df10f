//! `revoke`: contains bad releases. It publishes a new sequence of the channel whose signed
//! incident revokes the bad sequences and their content (devices running them revert, devices
//! that do not have them never take them: the high-water mark passes them and their content is
//! blocklisted) and whose content is the newest other release of the channel that is not bad:
//! not revoked by this or an earlier incident, and not carrying the content of a revoked
//! release (an earlier incident re-publishes content under a new sequence). So the devices that
//! have it keep it and new devices get it. Without such a release the incident also tells
//! devices to serve the built-in bundle. Each incident repeats every earlier revocation of the
//! channel, so the newest sequence alone says everything a device must obey.
//! The rollout guard (`liveship guard --apply`) calls it; people can too.
//!
//! Only releases that verify under the signing key are read (the key that would sign the
//! incident), so a file replaced on the host is never re-published. Writes
//! `releases/<ch>.<new>.json`, then `channels/<ch>.json`, each atomically.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use super::{io_at, write_file_atomic, PublishError};
use crate::release::{self, Incident, Manifest, PinnedKey};

/// What to revoke.
pub struct RevokeOptions<'a> {
    pub repo: &'a Path,
    pub channel: &'a str,
    /// The sequences devices must stop running (all at once: revoking them one by one would
    /// publish, in between, an incident carrying the next bad one).
    pub sequences: &'a [u64],
    pub signing_key: &'a SigningKey,
    /// Seconds from now until devices refuse the incident.
    pub expires_in: u64,
    /// Unix seconds.
    pub now: u64,
}

/// What `revoke` published.
#[derive(Debug)]
pub struct Revoked {
    pub manifest: Manifest,
    /// The sequence whose content the incident carries, or `None` (revert to built-in).
    pub base: Option<u64>,
    pub release_path: PathBuf,
}

fn own_key(key: &SigningKey) -> PinnedKey {
    let public = key.verifying_key();
    PinnedKey {
        key_id: crate::crypto::public_key_id(public.as_bytes()),
        public_key: base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            public.as_bytes(),
        ),
        channels: release::all_channels(),
    }
}

/// Every release of `channel` under `repo/releases` that verifies under `key`, by sequence.
fn releases(repo: &Path, channel: &str, key: &PinnedKey) -> Result<Vec<Manifest>, PublishError> {
    let dir = repo.join("releases");
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(io_at("listing", &dir))?;
    for entry in entries {
        let path = entry.map_err(io_at("listing", &dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(seq) = name
            .strip_prefix(&format!("{channel}."))
            .and_then(|rest| rest.strip_suffix(".json"))
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let file = std::fs::File::open(&path).map_err(io_at("opening", &path))?;
        let bytes = release::read_envelope(file).map_err(io_at("reading", &path))?;
        match release::verify_envelope(&bytes, std::slice::from_ref(key)) {
            Ok(v) if v.manifest.channel == channel && v.manifest.sequence == seq => {
                out.push(v.manifest)
            }
            Ok(_) => log::warn!(
                "{}: names another channel or sequence; skipped",
                path.display()
            ),
            Err(e) => log::warn!(
                "{}: does not verify under {} ({e}); skipped",
                path.display(),
                key.key_id
            ),
        }
    }
    out.sort_by_key(|m| m.sequence);
    Ok(out)
}

/// The sequences of `channel` that a published incident (signed by `signing_key`) revoked.
pub fn revoked_sequences(
    repo: &Path,
    channel: &str,
    signing_key: &SigningKey,
) -> Result<Vec<u64>, PublishError> {
    Ok(revoked_in(
        &releases(repo, channel, &own_key(signing_key))?,
        &[],
    ))
}

/// Every sequence the incidents among `all` revoke, with `more`, sorted and once each.
fn revoked_in(all: &[Manifest], more: &[u64]) -> Vec<u64> {
    let mut out: Vec<u64> = all
        .iter()
        .filter_map(|m| m.incident.as_ref())
        .flat_map(|i| i.revoked_sequences.iter().copied())
        .chain(more.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Publishes the incident that revokes `opts.sequences` (see the module docs).
pub fn revoke(opts: &RevokeOptions<'_>) -> Result<Revoked, PublishError> {
    super::validate_channel(opts.channel)?;
    let key = own_key(opts.signing_key);
    let all = releases(opts.repo, opts.channel, &key)?;
    if opts.sequences.is_empty() {
        return Err(PublishError::Invalid {
            what: "sequence",
            reason: "no sequence to revoke".into(),
        });
    }
    let mut bad = Vec::new();
    for seq in opts.sequences {
        let Some(m) = all.iter().find(|m| m.sequence == *seq) else {
            return Err(PublishError::Invalid {
                what: "sequence",
                reason: format!(
                    "{seq}: channel {:?} has no release {seq} signed by key {} in {}",
                    opts.channel,
                    key.key_id,
                    opts.repo.join("releases").display()
                ),
            });
        };
        bad.push(m);
    }
    let revoked = revoked_in(&all, opts.sequences);
    let mut bad_content: Vec<String> = all
        .iter()
        .filter(|m| revoked.contains(&m.sequence))
        .map(|m| m.content_id())
        .chain(
            all.iter()
                .filter_map(|m| m.incident.as_ref())
                .flat_map(|i| i.revoked_sha256.iter().cloned()),
        )
        .collect();
    bad_content.sort_unstable();
    bad_content.dedup();
    // The newest release still standing, before or after the bad ones: carrying an older one
    // when a newer good release is published would roll the devices on it back.
    let base = all.iter().rfind(|m| {
        !revoked.contains(&m.sequence)
            && !bad_content.contains(&m.content_id())
            && !m.incident.as_ref().is_some_and(|i| i.revert_to_builtin)
    });
    let latest = all.last().map(|m| m.sequence).unwrap_or(0);
    let published = super::published_sequence(
        &opts
            .repo
            .join("channels")
            .join(format!("{}.json", opts.channel)),
    )?
    .unwrap_or(0);
    let sequence = latest.max(published) + 1;
    // A revert to built-in carries the newest bad release's files: its content is revoked by
    // the same incident, so no device installs it.
    let carried = base.unwrap_or(bad[bad.len() - 1]);
    let manifest = Manifest {
        sequence,
        version: carried.version.clone(),
        issued_at: opts.now,
        expires_at: opts.now.saturating_add(opts.expires_in),
        rollout: None,
        incident: Some(Incident {
            revoked_sequences: revoked,
            revoked_sha256: bad_content,
            revert_to_builtin: base.is_none(),
        }),
        ..carried.clone()
    };
    let (_, bytes) = super::sign(&manifest, opts.signing_key)?;
    let release_path = opts
        .repo
        .join("releases")
        .join(format!("{}.{sequence}.json", opts.channel));
    if release_path.exists() {
        return Err(PublishError::Invalid {
            what: "sequence",
            reason: format!("{sequence}: {} already exists", release_path.display()),
        });
    }
    write_file_atomic(&release_path, &bytes, 0o644)?;
    let channel_path = opts
        .repo
        .join("channels")
        .join(format!("{}.json", opts.channel));
    write_file_atomic(&channel_path, &bytes, 0o644)?;
    Ok(Revoked {
        manifest,
        base: base.map(|m| m.sequence),
        release_path,
    })
}
