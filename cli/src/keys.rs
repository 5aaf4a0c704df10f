//! Publisher key files: their JSON shapes, and loading them from a file or an environment
//! variable.
//!
//! Guarantees: a secret is taken from the file named by a flag when one is given, else from its
//! environment variable (`LIVESHIP_SIGNING_KEY`, `LIVESHIP_BUNDLE_KEY`), else loading fails
//! naming both; a loaded key's `keyId` must match the id derived from the key itself, so a
//! hand-edited or mixed-up file is refused before it signs or decrypts anything.

use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use liveship::crypto;
use liveship::release::{BundleKey, PinnedKey};
use serde::{Deserialize, Serialize};

/// Environment variable holding the JSON of `signing.key`.
pub const SIGNING_KEY_ENV: &str = "LIVESHIP_SIGNING_KEY";
/// Environment variable holding the JSON of `bundle.key`.
pub const BUNDLE_KEY_ENV: &str = "LIVESHIP_BUNDLE_KEY";

/// `signing.key`: the Ed25519 seed that signs manifests. Secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningKeyFile {
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 seed.
    pub secret_key: String,
}

/// `liveship.config.json` as written by `keygen`: the keys an app pins. A subset of the
/// `plugins.Liveship` configuration object; unknown fields are ignored so a full app config
/// can be passed to `verify --config`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKeys {
    #[serde(default)]
    pub public_keys: Vec<PinnedKey>,
    #[serde(default)]
    pub bundle_keys: Vec<BundleKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no pinned public key: pass --public-key signing.pub or --config with publicKeys")]
    NoPinnedKey,
    #[error("no {what}: pass {flag} FILE or set {env} to the file's JSON")]
    Missing {
        what: &'static str,
        flag: &'static str,
        env: &'static str,
    },
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} from {origin} is not valid JSON of the expected shape: {detail}")]
    Malformed {
        what: &'static str,
        origin: String,
        detail: String,
    },
    #[error("{what} from {origin}: keyId {stated} does not match the key (its id is {actual})")]
    KeyIdMismatch {
        what: &'static str,
        origin: String,
        stated: String,
        actual: String,
    },
}

/// JSON text and where it came from (a path, or the environment variable's name).
struct Source {
    text: String,
    origin: String,
}

/// Reads a key file; errors name what it was supposed to hold and where.
fn read_file(path: &Path, what: &'static str) -> Result<Source, KeyError> {
    let text = fs::read_to_string(path).map_err(|source| KeyError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Source {
        text,
        origin: path.display().to_string(),
    })
}

fn read_source(
    flag_path: Option<&Path>,
    what: &'static str,
    env: &'static str,
) -> Result<Option<Source>, KeyError> {
    if let Some(path) = flag_path {
        return read_file(path, what).map(Some);
    }
    match std::env::var(env) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(Source {
            text,
            origin: format!("${env}"),
        })),
        _ => Ok(None),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(src: &Source, what: &'static str) -> Result<T, KeyError> {
    serde_json::from_str(&src.text).map_err(|e| KeyError::Malformed {
        what,
        origin: src.origin.clone(),
        detail: e.to_string(),
    })
}

fn malformed(what: &'static str, origin: &str, detail: impl Into<String>) -> KeyError {
    KeyError::Malformed {
        what,
        origin: origin.to_string(),
        detail: detail.into(),
    }
}

/// Loads the manifest signing key from `--signing-key FILE`, else `$LIVESHIP_SIGNING_KEY`.
pub fn load_signing_key(flag_path: Option<&Path>) -> Result<SigningKey, KeyError> {
    const WHAT: &str = "signing key";
    let src = read_source(flag_path, WHAT, SIGNING_KEY_ENV)?.ok_or(KeyError::Missing {
        what: WHAT,
        flag: "--signing-key",
        env: SIGNING_KEY_ENV,
    })?;
    let file: SigningKeyFile = parse(&src, WHAT)?;
    let seed: [u8; 32] = B64
        .decode(file.secret_key.trim())
        .map_err(|e| malformed(WHAT, &src.origin, format!("secretKey is not base64: {e}")))?
        .try_into()
        .map_err(|_| malformed(WHAT, &src.origin, "secretKey is not 32 bytes"))?;
    let key = SigningKey::from_bytes(&seed);
    let actual = crypto::public_key_id(key.verifying_key().as_bytes());
    if actual != file.key_id {
        return Err(KeyError::KeyIdMismatch {
            what: WHAT,
            origin: src.origin,
            stated: file.key_id,
            actual,
        });
    }
    Ok(key)
}

/// Checks a bundle key's bytes against its stated id.
fn checked_bundle_key(key: BundleKey, origin: &str) -> Result<BundleKey, KeyError> {
    const WHAT: &str = "bundle key";
    let bytes = key
        .bytes()
        .map_err(|e| malformed(WHAT, origin, e.to_string()))?;
    let actual = crypto::bundle_key_id(&bytes);
    if actual != key.key_id {
        return Err(KeyError::KeyIdMismatch {
            what: WHAT,
            origin: origin.to_string(),
            stated: key.key_id,
            actual,
        });
    }
    Ok(key)
}

/// Loads the bundle key from `--bundle-key FILE`, else `$LIVESHIP_BUNDLE_KEY`; `None` if neither.
pub fn load_bundle_key(flag_path: Option<&Path>) -> Result<Option<BundleKey>, KeyError> {
    const WHAT: &str = "bundle key";
    let Some(src) = read_source(flag_path, WHAT, BUNDLE_KEY_ENV)? else {
        return Ok(None);
    };
    let key: BundleKey = parse(&src, WHAT)?;
    checked_bundle_key(key, &src.origin).map(Some)
}

/// Reads a `signing.pub` (one [`PinnedKey`]).
pub fn load_public_key(path: &Path) -> Result<PinnedKey, KeyError> {
    const WHAT: &str = "public key";
    let src = read_file(path, WHAT)?;
    let key: PinnedKey = parse(&src, WHAT)?;
    let raw: [u8; 32] = B64
        .decode(key.public_key.trim())
        .map_err(|e| malformed(WHAT, &src.origin, format!("publicKey is not base64: {e}")))?
        .try_into()
        .map_err(|_| malformed(WHAT, &src.origin, "publicKey is not 32 bytes"))?;
    let actual = crypto::public_key_id(&raw);
    if actual != key.key_id {
        return Err(KeyError::KeyIdMismatch {
            what: WHAT,
            origin: src.origin,
            stated: key.key_id,
            actual,
        });
    }
    Ok(key)
}

/// The keys `verify` and `log` check against: each `--public-key` file, then the `publicKeys`
/// of the `--config` app configuration (with its bundle keys). Fails when there is no public key.
pub fn load_pinned(public_keys: &[PathBuf], config: Option<&Path>) -> Result<AppKeys, KeyError> {
    let mut pinned = public_keys
        .iter()
        .map(|p| load_public_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut bundle_keys = Vec::new();
    if let Some(p) = config {
        let app = load_app_keys(p)?;
        pinned.extend(app.public_keys);
        bundle_keys = app.bundle_keys;
    }
    if pinned.is_empty() {
        return Err(KeyError::NoPinnedKey);
    }
    Ok(AppKeys {
        public_keys: pinned,
        bundle_keys,
    })
}

/// Reads the keys of an app configuration (`liveship.config.json`, or any JSON object with
/// `publicKeys` / `bundleKeys`). Bundle keys are checked against their ids.
pub fn load_app_keys(path: &Path) -> Result<AppKeys, KeyError> {
    const WHAT: &str = "app config";
    let src = read_file(path, WHAT)?;
    let keys: AppKeys = parse(&src, WHAT)?;
    let bundle_keys = keys
        .bundle_keys
        .into_iter()
        .map(|k| checked_bundle_key(k, &src.origin))
        .collect::<Result<_, _>>()?;
    Ok(AppKeys {
        public_keys: keys.public_keys,
        bundle_keys,
    })
}
