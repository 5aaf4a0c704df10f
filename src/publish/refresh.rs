//! `refresh`: re-signs a channel's current envelope with a new `issued_at` and `expires_at`, the
//! release itself unchanged (same sequence, files and objects). Short expiries refreshed on a
//! schedule bound how long a host can replay an old release (TUF's freeze attack): a device
//! that sees no fresher envelope than an expired one reports `updatesStale`.
//!
//! The envelope is re-signed only if it verifies under the signing key's own public key, so a
//! channel file that an attacker replaced on the host is never laundered by CI's key. Only
//! `channels/<ch>.json` is rewritten (atomically); `releases/<ch>.<seq>.json` keeps the envelope
//! as first published.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use super::{io_at, write_file_atomic, PublishError};
use crate::release::{self, Envelope, Manifest, PinnedKey};

/// What to refresh.
pub struct RefreshOptions<'a> {
    pub repo: &'a Path,
    pub channel: &'a str,
    pub signing_key: &'a SigningKey,
    /// Seconds from `issued_at` until devices refuse the envelope; `None` keeps the current
    /// envelope's validity period (`expires_at - issued_at`).
    pub expires_in: Option<u64>,
    /// Unix seconds; the new `issued_at` is this, or one second after the current one if the
    /// clock has not moved past it (so a refreshed envelope is always the newer of the two).
    pub now: u64,
}

/// What `refresh` wrote.
#[derive(Debug)]
pub struct Refreshed {
    /// The manifest as it was.
    pub previous: Manifest,
    /// The manifest now published: `previous` with new `issued_at` and `expires_at`.
    pub manifest: Manifest,
    pub envelope: Envelope,
    pub channel_path: PathBuf,
}

/// Re-signs `channels/<channel>.json` of `opts.repo` with new times (see the module docs).
pub fn refresh(opts: &RefreshOptions<'_>) -> Result<Refreshed, PublishError> {
    super::validate_channel(opts.channel)?;
    if opts.expires_in == Some(0) {
        return Err(PublishError::Invalid {
            what: "expiry",
            reason: "0 seconds: use a positive duration".into(),
        });
    }
    let channel_path = opts
        .repo
        .join("channels")
        .join(format!("{}.json", opts.channel));
    let file = match std::fs::File::open(&channel_path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PublishError::NotPublished {
                channel: opts.channel.into(),
                path: channel_path,
            })
        }
        Err(e) => return Err(io_at("opening", &channel_path)(e)),
    };
    let bytes = release::read_envelope(file).map_err(io_at("reading", &channel_path))?;
    let public = opts.signing_key.verifying_key();
    let own = PinnedKey {
        key_id: crate::crypto::public_key_id(public.as_bytes()),
        public_key: base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            public.as_bytes(),
        ),
        channels: release::all_channels(),
    };
    let verified = release::verify_envelope(&bytes, std::slice::from_ref(&own)).map_err(|e| {
        PublishError::NotOurs {
            path: channel_path.clone(),
            key_id: own.key_id.clone(),
            reason: e.to_string(),
        }
    })?;
    let previous = verified.manifest;
    if previous.channel != opts.channel {
        return Err(PublishError::NotOurs {
            path: channel_path,
            key_id: own.key_id,
            reason: format!("it is a manifest of channel {:?}", previous.channel),
        });
    }
    let issued_at = opts.now.max(previous.issued_at.saturating_add(1));
    let valid_for = opts.expires_in.unwrap_or_else(|| {
        previous
            .expires_at
            .saturating_sub(previous.issued_at)
            .max(1)
    });
    let manifest = Manifest {
        issued_at,
        expires_at: issued_at.saturating_add(valid_for),
        ..previous.clone()
    };
    let (envelope, env_bytes) = super::sign(&manifest, opts.signing_key)?;
    write_file_atomic(&channel_path, &env_bytes, 0o644)?;
    Ok(Refreshed {
        previous,
        manifest,
        envelope,
        channel_path,
    })
}
