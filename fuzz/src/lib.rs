//! What the fuzz targets share: the fixed keys of `docs/test-vectors.json` (so the seeds made
//! from the vectors verify and open), and a scratch directory per fuzzing process.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::crypto;
use liveship::release::PinnedKey;

/// The vectors' Ed25519 signing seed: 0x01, 0x02, ..., 0x20 (FORMAT.md, test vectors).
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&std::array::from_fn(|i| i as u8 + 1))
}

/// The vectors' STREAM key (0xa0 ..= 0xbf), also their content key.
pub const STREAM_KEY: crypto::Key = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = 0xa0 + i as u8;
        i += 1;
    }
    k
};

/// The vectors' STREAM nonce prefix (0x70 ..= 0x76).
pub const NONCE_PREFIX: [u8; crypto::NONCE_PREFIX_SIZE] =
    [0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76];

/// The vectors' bundle key (0x42 repeated).
pub const BUNDLE_KEY: crypto::Key = [0x42; 32];

/// The keys a device pins: the vectors' key for every channel, and a second key (seed 0x07...)
/// that may sign only for `beta`, so the channel rule has something to refuse.
pub fn pinned_keys() -> Vec<PinnedKey> {
    let pin = |key: &SigningKey, channels: &[&str]| {
        let public = key.verifying_key().to_bytes();
        PinnedKey {
            key_id: crypto::public_key_id(&public),
            public_key: B64.encode(public),
            channels: channels.iter().map(|c| c.to_string()).collect(),
        }
    };
    vec![
        pin(&signing_key(), &["*"]),
        pin(&beta_signing_key(), &["beta"]),
    ]
}

/// The second pinned key, allowed to sign for `beta` only.
pub fn beta_signing_key() -> SigningKey {
    SigningKey::from_bytes(&[0x07; 32])
}

/// A scratch directory for this process under `$TMPDIR` (libFuzzer exits without running
/// destructors, so it stays behind holding at most one input's files; `scripts/fuzz.sh` points
/// `TMPDIR` at a folder of its own and removes it). libFuzzer runs one input at a time per
/// process, so the targets reuse fixed names under it.
pub fn scratch() -> &'static PathBuf {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("liveship-fuzz-")
            .tempdir()
            .expect("creating the fuzzing scratch directory");
        let path = dir.path().to_path_buf();
        (dir, path)
    })
    .1
}
