//! The signed release manifest: its types, the DSSE envelope that carries it, and verification
//! against the app's pinned keys.
//!
//! Guarantees: [`verify_envelope`] checks an Ed25519 signature (`verify_strict`) over DSSE's PAE
//! of the exact payload bytes received, before those bytes are parsed as a manifest; only a
//! pinned key may sign, and only for the channels it is pinned for. Everything a policy decision
//! needs (expiry, app id, native range, ...) is read from the verified manifest only.
//! The format is normative in `docs/FORMAT.md`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::crypto;

/// DSSE `payloadType` of a Liveship manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.liveship.manifest+json";
/// The manifest format this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Largest envelope a device accepts (the manifest download is capped at this size).
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;

/// How many of an envelope's key ids [`ReleaseError::UnknownKey`] lists.
pub const LISTED_KEY_IDS: usize = 8;
/// How many characters of each key id [`ReleaseError::UnknownKey`] keeps (a real id has 16).
pub const LISTED_KEY_ID_CHARS: usize = 64;

/// A key id as an error lists it: cut to [`LISTED_KEY_ID_CHARS`] characters, `…` marking a cut.
fn listed_key_id(id: &str) -> String {
    match id.char_indices().nth(LISTED_KEY_ID_CHARS) {
        Some((end, _)) => format!("{}…", &id[..end]),
        None => id.to_owned(),
    }
}

/// The tail of [`ReleaseError::UnknownKey`]'s message for the ids it leaves out.
fn and_more(more: usize) -> String {
    match more {
        0 => String::new(),
        n => format!(" and {n} more"),
    }
}

/// What is wrong with an envelope that is not a well-formed DSSE envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeDefect {
    /// Not JSON at all, or cut short (position of the first bad byte).
    #[error("not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    /// JSON, but not the DSSE object: a field missing, unknown or of the wrong type.
    #[error("JSON that is not a DSSE envelope (line {line}, column {column})")]
    NotDsse { line: usize, column: usize },
    /// The `payload` field is not standard (padded) base64.
    #[error("payload is not base64")]
    PayloadNotBase64,
}

impl EnvelopeDefect {
    fn of_json(e: &serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Data => EnvelopeDefect::NotDsse { line, column },
            _ => EnvelopeDefect::NotJson { line, column },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("envelope is malformed: {0}")]
    EnvelopeMalformed(EnvelopeDefect),
    /// `size` is what was seen: the whole input when it was in memory, one byte over the limit
    /// when it was read with [`read_envelope`] (which stops there).
    #[error("envelope is {size} bytes or more, larger than the {limit}-byte limit")]
    EnvelopeTooLarge { size: usize, limit: usize },
    #[error("envelope payloadType is {got:?}, expected {PAYLOAD_TYPE:?}")]
    PayloadType { got: String },
    #[error("envelope carries no signature")]
    NoSignatures,
    /// `key_ids` are the first [`LISTED_KEY_IDS`] ids the envelope names, each cut to
    /// [`LISTED_KEY_ID_CHARS`] characters; `more` counts the signatures left out. The envelope
    /// is the attacker's: the error it causes stays small whatever it carries.
    #[error("no signature by a pinned key (signed by key ids {key_ids:?}{})", and_more(*more))]
    UnknownKey { key_ids: Vec<String>, more: usize },
    #[error("signature by key {key_id} does not verify")]
    SignatureInvalid { key_id: String },
    #[error("key {key_id} is not allowed to sign for channel {channel:?}")]
    KeyNotAllowedForChannel { key_id: String, channel: String },
    #[error("signed payload is not a valid manifest: {0}")]
    ManifestMalformed(String),
    #[error("manifest format {got} is not supported (this build reads format {FORMAT_VERSION})")]
    UnsupportedFormat { got: u32 },
    /// A signed field breaks a constraint of FORMAT.md section 2 (syntax, range, uniqueness).
    #[error("manifest field {field} is invalid: {reason}")]
    FieldInvalid { field: String, reason: &'static str },
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

/// A public key the app trusts, with the channels it may sign for (`"*"` means all).
/// Exported to the bindings as the `PublicKey` record. In JSON a missing `channels` means
/// `["*"]`; the record's `channels` defaults to `[]`, which the `Updater` constructor reads the
/// same way ([`crate::config::Config::from_record`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[uniffi(name = "PublicKey")]
pub struct PinnedKey {
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    #[serde(default = "all_channels")]
    #[uniffi(default = [])]
    pub channels: Vec<String>,
}

pub(crate) fn all_channels() -> Vec<String> {
    vec!["*".to_string()]
}

impl PinnedKey {
    pub fn allows_channel(&self, channel: &str) -> bool {
        self.channels.iter().any(|c| c == "*" || c == channel)
    }

    /// Fails unless `key_id` is the id of `public_key` (catches a mis-pasted config).
    pub fn check_key_id(&self) -> Result<(), ReleaseError> {
        let vk = self.verifying_key()?;
        if crypto::public_key_id(vk.as_bytes()) != self.key_id {
            return Err(ReleaseError::InvalidKey(format!(
                "keyId {} does not match its public key",
                self.key_id
            )));
        }
        Ok(())
    }

    fn verifying_key(&self) -> Result<VerifyingKey, ReleaseError> {
        let bytes = B64
            .decode(&self.public_key)
            .map_err(|e| ReleaseError::InvalidKey(format!("public key {}: {e}", self.key_id)))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            ReleaseError::InvalidKey(format!("public key {} is not 32 bytes", self.key_id))
        })?;
        VerifyingKey::from_bytes(&arr)
            .map_err(|e| ReleaseError::InvalidKey(format!("public key {}: {e}", self.key_id)))
    }
}

/// A bundle key the app holds, by key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
pub struct BundleKey {
    pub key_id: String,
    /// Base64 of the 32-byte AES-256 key.
    pub key: String,
}

impl BundleKey {
    pub fn new(key: &crypto::Key) -> Self {
        BundleKey {
            key_id: crypto::bundle_key_id(key),
            key: B64.encode(key),
        }
    }

    pub fn bytes(&self) -> Result<crypto::Key, ReleaseError> {
        let raw = B64
            .decode(&self.key)
            .map_err(|e| ReleaseError::InvalidKey(format!("bundle key {}: {e}", self.key_id)))?;
        raw.try_into().map_err(|_| {
            ReleaseError::InvalidKey(format!("bundle key {} is not 32 bytes", self.key_id))
        })
    }
}

/// One file of the unpacked bundle, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative path with `/` separators, no `.`/`..` components, no leading `/`.
    pub path: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the file's content.
    pub sha256: String,
}

/// Native app version range the bundle runs on (inclusive; absent bound = unbounded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

/// How the bundle object is encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// Always [`crypto::STREAM_ALG`].
    pub alg: String,
    /// Key id of the bundle key that wraps the content key.
    pub key_id: String,
    /// Base64 of `nonce(12) || AES-256-GCM(content key) || tag(16)`.
    pub wrapped_key: String,
    /// Hex of the 7-byte STREAM nonce prefix.
    pub nonce_prefix: String,
}

/// The bundle object: a zip, sealed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleObject {
    /// URL of the object, relative to the manifest's URL (or absolute).
    pub url: String,
    /// Size in bytes of the object as served (the ciphertext when encrypted).
    pub size: u64,
    /// Hex SHA-256 of the object as served.
    pub sha256: String,
    #[serde(default)]
    pub encryption: Option<Encryption>,
}

/// Where the per-file objects of a delta update live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delta {
    /// Folder URL, relative to the manifest; the object of a file is `url + sha256`.
    pub url: String,
}

/// Signed incident instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Sequences of this channel that must no longer run; a device running one reverts.
    #[serde(default)]
    pub revoked_sequences: Vec<u64>,
    /// Bundle content hashes (the zip's SHA-256 of `files`, see FORMAT.md) that must no longer run.
    #[serde(default)]
    pub revoked_sha256: Vec<String>,
    /// When true, devices drop every downloaded bundle and serve the built-in one.
    #[serde(default)]
    pub revert_to_builtin: bool,
}

/// The release manifest (the DSSE payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub app_id: String,
    pub channel: String,
    /// Anti-rollback counter, strictly increasing per app and channel.
    pub sequence: u64,
    /// Display version, free text.
    pub version: String,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; devices refuse the manifest after this time (anti-freeze).
    pub expires_at: u64,
    #[serde(default)]
    pub native: NativeRange,
    /// Platforms the bundle is for (`android`, `ios`, ...); empty means all.
    #[serde(default)]
    pub platforms: Vec<String>,
    pub bundle: BundleObject,
    pub files: Vec<FileEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    /// Percentage of devices (0-100) that take this release; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Incident>,
}

impl Manifest {
    /// `channel#sequence (version)`, how errors and logs name a release.
    pub fn label(&self) -> String {
        format!("{}#{} ({})", self.channel, self.sequence, self.version)
    }

    /// Content id of the bundle: SHA-256 over the signed file list, independent of zip bytes
    /// and encryption. The device blocklists and dedupes by this id.
    pub fn content_id(&self) -> String {
        content_id(&self.files)
    }

    /// Checks the constraints of FORMAT.md section 2 that parsing alone does not: channel
    /// name syntax, lowercase hex lengths, file path syntax and uniqueness, encryption
    /// parameters, `rollout` range, `expires_at` after `issued_at`.
    pub fn check_constraints(&self) -> Result<(), ReleaseError> {
        let bad =
            |field: String, reason: &'static str| Err(ReleaseError::FieldInvalid { field, reason });
        if !is_valid_channel(&self.channel) {
            return bad("channel".into(), "not [a-z0-9][a-z0-9._-]{0,63}");
        }
        // Sequences are stored as SQLite integers (signed 64-bit); a larger one would wrap and
        // defeat the high-water mark.
        if self.sequence == 0 || self.sequence > i64::MAX as u64 {
            return bad("sequence".into(), "not between 1 and 2^63-1");
        }
        let revoked = self.incident.iter().flat_map(|i| &i.revoked_sequences);
        if revoked.into_iter().any(|s| *s > i64::MAX as u64) {
            return bad(
                "incident.revoked_sequences".into(),
                "not between 0 and 2^63-1",
            );
        }
        if self.expires_at <= self.issued_at {
            return bad("expires_at".into(), "not after issued_at");
        }
        if !is_hex(&self.bundle.sha256, 64) {
            return bad("bundle.sha256".into(), "not 64 lowercase hex digits");
        }
        if let Some(enc) = &self.bundle.encryption {
            if enc.alg != crypto::STREAM_ALG {
                return bad("bundle.encryption.alg".into(), "unknown algorithm");
            }
            if !is_hex(&enc.key_id, 16) {
                return bad(
                    "bundle.encryption.key_id".into(),
                    "not 16 lowercase hex digits",
                );
            }
            if !is_hex(&enc.nonce_prefix, 2 * crypto::NONCE_PREFIX_SIZE) {
                return bad(
                    "bundle.encryption.nonce_prefix".into(),
                    "not 14 lowercase hex digits",
                );
            }
            if B64.decode(&enc.wrapped_key).map(|k| k.len()) != Ok(crypto::WRAPPED_KEY_SIZE) {
                return bad(
                    "bundle.encryption.wrapped_key".into(),
                    "not base64 of 60 bytes",
                );
            }
        }
        let mut paths = std::collections::HashSet::new();
        for (i, f) in self.files.iter().enumerate() {
            if !is_valid_bundle_path(&f.path) {
                return bad(
                    format!("files[{i}].path"),
                    "not a relative path of normal components",
                );
            }
            if !paths.insert(f.path.as_str()) {
                return bad(format!("files[{i}].path"), "duplicate path");
            }
            if !is_hex(&f.sha256, 64) {
                return bad(format!("files[{i}].sha256"), "not 64 lowercase hex digits");
            }
        }
        if let Some(d) = &self.delta {
            if !d.url.ends_with('/') {
                return bad("delta.url".into(), "does not end with /");
            }
        }
        if self.rollout.is_some_and(|r| r > 100) {
            return bad("rollout".into(), "above 100");
        }
        if let Some(inc) = &self.incident {
            if let Some(i) = inc.revoked_sha256.iter().position(|h| !is_hex(h, 64)) {
                return bad(
                    format!("incident.revoked_sha256[{i}]"),
                    "not 64 lowercase hex digits",
                );
            }
        }
        Ok(())
    }
}

/// Whether `name` is a valid channel name: `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn is_valid_channel(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

/// Whether `path` is a valid bundle file path: relative, `/`-separated, no empty, `.` or `..`
/// component, no `\` and no NUL.
pub fn is_valid_bundle_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// SHA-256 over the canonical file list: for each entry in order, `path \0 size \0 sha256 \n`.
pub fn content_id(files: &[FileEntry]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.size.to_string().as_bytes());
        h.update([0]);
        h.update(f.sha256.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The DSSE envelope as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload_type: String,
    /// Base64 (standard, padded) of the manifest JSON bytes.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature over PAE(payloadType, payload bytes).
    pub sig: String,
}

/// DSSE v1 Pre-Authentication Encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Signs manifest bytes into an envelope (publisher side).
pub fn sign_envelope(payload: &[u8], key: &SigningKey) -> Envelope {
    let key_id = crypto::public_key_id(key.verifying_key().as_bytes());
    let sig = key.sign(&pae(PAYLOAD_TYPE, payload));
    Envelope {
        payload_type: PAYLOAD_TYPE.to_string(),
        payload: B64.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: key_id,
            sig: B64.encode(sig.to_bytes()),
        }],
    }
}

/// Serializes a manifest to the exact bytes that are signed (compact JSON, field order as declared).
pub fn manifest_bytes(manifest: &Manifest) -> Vec<u8> {
    serde_json::to_vec(manifest).expect("manifest serializes")
}

/// A manifest whose signature checked out, with the key that signed it and the signed bytes.
#[derive(Debug, Clone)]
pub struct VerifiedRelease {
    pub manifest: Manifest,
    pub key_id: String,
    /// The exact payload bytes the signature covers.
    pub payload: Vec<u8>,
}

/// Reads an envelope from `reader` (a `channels/<channel>.json` or `releases/...` file), taking
/// at most one byte more than [`MAX_ENVELOPE_BYTES`]: enough for [`verify_envelope`] to refuse an
/// over-limit input with [`ReleaseError::EnvelopeTooLarge`], so a huge or endless file costs no
/// more memory or reading than the limit.
pub fn read_envelope(reader: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(MAX_ENVELOPE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Verifies envelope bytes against the pinned keys and returns the manifest.
///
/// Checked, in order: size cap, envelope shape, payload type, a signature by a pinned key that
/// verifies strictly over the PAE of the received payload bytes, then the payload parses as a
/// manifest of a supported format whose fields meet FORMAT.md's constraints, then that key may
/// sign for the manifest's channel.
/// Expiry and device policy are separate ([`crate::policy::check_expiry`], `policy`).
pub fn verify_envelope(bytes: &[u8], keys: &[PinnedKey]) -> Result<VerifiedRelease, ReleaseError> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(ReleaseError::EnvelopeTooLarge {
            size: bytes.len(),
            limit: MAX_ENVELOPE_BYTES,
        });
    }
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| ReleaseError::EnvelopeMalformed(EnvelopeDefect::of_json(&e)))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(ReleaseError::PayloadType {
            got: env.payload_type,
        });
    }
    if env.signatures.is_empty() {
        return Err(ReleaseError::NoSignatures);
    }
    let payload = B64
        .decode(&env.payload)
        .map_err(|_| ReleaseError::EnvelopeMalformed(EnvelopeDefect::PayloadNotBase64))?;
    let signed = pae(&env.payload_type, &payload);

    // The first signature whose key id is pinned decides; an invalid signature by a pinned key
    // is an error even if another would verify, so a tampered envelope is never silently accepted
    // through a second path.
    let mut matched = None;
    for s in &env.signatures {
        if let Some(key) = keys.iter().find(|k| k.key_id == s.keyid) {
            let vk = key.verifying_key()?;
            let sig_bytes = B64
                .decode(&s.sig)
                .map_err(|_| ReleaseError::SignatureInvalid {
                    key_id: s.keyid.clone(),
                })?;
            let sig =
                Signature::from_slice(&sig_bytes).map_err(|_| ReleaseError::SignatureInvalid {
                    key_id: s.keyid.clone(),
                })?;
            vk.verify_strict(&signed, &sig)
                .map_err(|_| ReleaseError::SignatureInvalid {
                    key_id: s.keyid.clone(),
                })?;
            matched = Some(key);
            break;
        }
    }
    let key = matched.ok_or_else(|| ReleaseError::UnknownKey {
        key_ids: env
            .signatures
            .iter()
            .take(LISTED_KEY_IDS)
            .map(|s| listed_key_id(&s.keyid))
            .collect(),
        more: env.signatures.len().saturating_sub(LISTED_KEY_IDS),
    })?;

    let manifest: Manifest = serde_json::from_slice(&payload)
        .map_err(|e| ReleaseError::ManifestMalformed(e.to_string()))?;
    if manifest.format != FORMAT_VERSION {
        return Err(ReleaseError::UnsupportedFormat {
            got: manifest.format,
        });
    }
    manifest.check_constraints()?;
    if !key.allows_channel(&manifest.channel) {
        return Err(ReleaseError::KeyNotAllowedForChannel {
            key_id: key.key_id.clone(),
            channel: manifest.channel.clone(),
        });
    }
    Ok(VerifiedRelease {
        manifest,
        key_id: key.key_id.clone(),
        payload,
    })
}
