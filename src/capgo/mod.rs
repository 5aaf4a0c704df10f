//! Capgo's bundle format, read on the device, and its update check ([`protocol`]) (Capgo mode, docs/CAPGO.md): what
//! `@capgo/cli bundle encrypt` makes, opened with the app's RSA public key (`publicKey`, the PEM
//! `@capgo/cli key create` writes).
//!
//! - The zip is AES-128-CBC (PKCS#7 padding) under a random 16-byte key. `session_key` is
//!   `base64(iv):base64(wrapped key)`, the key wrapped with the publisher's *private* key
//!   (PKCS#1 v1.5 block type 1), so only the public key is needed to unwrap it.
//! - `checksum` is the SHA-256 of the plaintext zip, RSA-"encrypted" with the private key in the
//!   same way: in effect an unprefixed PKCS#1 v1.5 signature. Hex-encoded (older CLIs: base64).
//!
//! Neither gives authenticated encryption: the checksum over the whole plaintext is the only
//! integrity check, so [`decrypt_verified`] decrypts into a staging file, hashing as it goes, and
//! checks the checksum against the public key before it returns. Nothing is extracted from a
//! bundle that did not pass. A plain SHA-256 or CRC32 checksum (unsigned, as Capgo's cloud
//! accepts) is refused unless the app set `allowUnsignedCapgoBundles`.
//!
//! Only public-key operations run here; the RSA timing attack on private-key decryption
//! (RUSTSEC-2023-0071, "Marvin") does not apply to them.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cbc::cipher::block_padding::{Padding, Pkcs7};
use cbc::cipher::{Block, BlockModeDecrypt, KeyIvInit};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, Pkcs1v15Sign, PublicKey};
use sha2::{Digest, Sha256};

pub mod channel;
pub mod delta;
pub mod protocol;
#[cfg(test)]
mod tests;

/// Why a Capgo bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum CapgoError {
    #[error("publicKey is not an RSA public key in PEM (PKCS#1 or SPKI): {reason}")]
    BadPublicKey { reason: String },
    #[error("the session key is not base64(iv):base64(wrapped key): {reason}")]
    MalformedSessionKey { reason: String },
    #[error(
        "the session key was not wrapped with the private key of this app's publicKey (key id {key_id})"
    )]
    SessionKeyNotForThisKey { key_id: String },
    #[error(
        "the checksum is a plain {kind}, not signed with the publisher's RSA key: refused (allowUnsignedCapgoBundles would accept it, unsafely)"
    )]
    UnsignedChecksum { kind: ChecksumKind },
    #[error("the checksum is neither hex nor base64 of an RSA block: {reason}")]
    MalformedChecksum { reason: String },
    #[error(
        "the checksum does not verify under this app's publicKey (key id {key_id}): the bundle was altered or signed by another key"
    )]
    ChecksumSignatureInvalid { key_id: String },
    #[error("the plaintext SHA-256 {actual} is not the checksum {expected}")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("the bundle does not decrypt with its session key: {reason}")]
    DecryptFailed { reason: &'static str },
    #[error("the bundle has no index.html at its root")]
    NoIndexHtml,
    #[error("a delta file does not decompress (brotli): {reason}")]
    BrotliFailed { reason: String },
    #[error("a delta file is larger than the {limit} bytes left in the extraction budget")]
    TooLarge { limit: u64 },
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_at<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CapgoError + 'a {
    move |source| CapgoError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// An unsigned checksum's kind, by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumKind {
    Sha256,
    Crc32,
}

impl std::fmt::Display for ChecksumKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChecksumKind::Sha256 => "SHA-256",
            ChecksumKind::Crc32 => "CRC32",
        })
    }
}

/// The app's RSA public key (`publicKey`).
#[derive(Debug, Clone)]
pub struct CapgoKey {
    key: PublicKey,
    key_id: String,
}

/// The AES-128 key and IV of one bundle, unwrapped.
pub struct SessionKey {
    key: [u8; 16],
    iv: [u8; 16],
}

impl SessionKey {
    /// A session key known in the clear (benchmarks, tests); devices get theirs from
    /// [`CapgoKey::unwrap_session`].
    pub fn from_parts(key: [u8; 16], iv: [u8; 16]) -> SessionKey {
        SessionKey { key, iv }
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// What a decryption wrote, once the checksum verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// SHA-256 of the plaintext zip.
    pub sha256: [u8; 32],
    pub bytes: u64,
}

fn b64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text.trim())
}

impl CapgoKey {
    /// Reads `publicKey`: `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1, what `@capgo/cli key
    /// create` writes) or `-----BEGIN PUBLIC KEY-----` (SPKI). A PEM whose newlines were
    /// escaped into `\n` (as in a JSON config) is accepted.
    pub fn from_pem(pem: &str) -> Result<CapgoKey, CapgoError> {
        let pem = pem.replace("\\n", "\n");
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            PublicKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())
        } else {
            PublicKey::from_public_key_pem(pem).map_err(|e| e.to_string())
        }
        .map_err(|reason| CapgoError::BadPublicKey { reason })?;
        if key.size() < 256 {
            return Err(CapgoError::BadPublicKey {
                reason: format!("{} bits; at least 2048 are required", key.size() * 8),
            });
        }
        // Like Liveship's other key ids: the first 8 bytes of a SHA-256, here of the key's
        // PKCS#1 DER (the same id whichever PEM form the app gave).
        let der = key.to_pkcs1_der().map_err(|e| CapgoError::BadPublicKey {
            reason: e.to_string(),
        })?;
        let key_id = hex::encode(&Sha256::digest(der.as_bytes())[..8]);
        Ok(CapgoKey { key, key_id })
    }

    /// A short id of the key, for errors and logs.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The RSA public operation on a block the private key made, with the PKCS#1 v1.5 type 1
    /// padding removed: `None` when the block was not made by this key's private half.
    fn open_block(&self, block: &[u8]) -> Option<Vec<u8>> {
        let k = self.key.size();
        if block.len() != k {
            return None;
        }
        let s = BoxedUint::from_be_slice(block, self.key.n_bits_precision()).ok()?;
        if s >= *self.key.n().as_ref() {
            return None;
        }
        let m = rsa::hazmat::rsa_encrypt(&self.key, &s).ok()?;
        let bytes = m.to_be_bytes();
        let bytes = &bytes[bytes.len().saturating_sub(k)..];
        let mut em = vec![0u8; k - bytes.len()];
        em.extend_from_slice(bytes);
        // 00 01 FF..FF (at least 8) 00 message
        if em[0] != 0 || em[1] != 1 {
            return None;
        }
        let zero = em[2..].iter().position(|&b| b != 0xff)? + 2;
        if zero < 10 || em[zero] != 0 {
            return None;
        }
        Some(em[zero + 1..].to_vec())
    }

    /// The SHA-256 a signed checksum carries (a delta entry's `file_hash`), to find a local copy
    /// of the file by; `None` when it is not a block of this key. Finding it is not checking it:
    /// the file written is checked with [`CapgoKey::verify_checksum`].
    pub fn signed_hash(&self, checksum: &str) -> Option<[u8; 32]> {
        let checksum = checksum.trim();
        let block = if is_hex(checksum) {
            hex::decode(checksum).ok()?
        } else {
            b64(checksum).ok()?
        };
        self.open_block(&block)?.try_into().ok()
    }

    /// Unwraps a `session_key` (`base64(iv):base64(wrapped key)`).
    pub fn unwrap_session(&self, session_key: &str) -> Result<SessionKey, CapgoError> {
        let malformed = |reason: String| CapgoError::MalformedSessionKey { reason };
        let (iv, wrapped) = session_key
            .split_once(':')
            .ok_or_else(|| malformed("no ':' between the IV and the wrapped key".into()))?;
        let iv: [u8; 16] = b64(iv)
            .map_err(|e| malformed(format!("the IV: {e}")))?
            .try_into()
            .map_err(|v: Vec<u8>| malformed(format!("the IV is {} bytes, not 16", v.len())))?;
        let wrapped = b64(wrapped).map_err(|e| malformed(format!("the wrapped key: {e}")))?;
        if wrapped.len() != self.key.size() {
            return Err(malformed(format!(
                "the wrapped key is {} bytes; this publicKey makes {}-byte blocks",
                wrapped.len(),
                self.key.size()
            )));
        }
        let key: [u8; 16] = self
            .open_block(&wrapped)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| CapgoError::SessionKeyNotForThisKey {
                key_id: self.key_id.clone(),
            })?;
        Ok(SessionKey { key, iv })
    }

    /// Checks `checksum` (as the update response carries it) against the plaintext's SHA-256.
    /// A plain SHA-256 or CRC32 is refused unless `allow_unsigned`, and then compared as it is
    /// (a CRC32 cannot be compared to a SHA-256: it is refused even then).
    pub fn verify_checksum(
        &self,
        checksum: &str,
        sha256: &[u8; 32],
        allow_unsigned: bool,
    ) -> Result<(), CapgoError> {
        let checksum = checksum.trim();
        if let Some(checked) = unsigned(checksum, sha256, allow_unsigned) {
            return checked;
        }
        let block = if is_hex(checksum) {
            hex::decode(checksum).map_err(|e| e.to_string())
        } else {
            b64(checksum).map_err(|e| e.to_string())
        }
        .map_err(|reason| CapgoError::MalformedChecksum { reason })?;
        if block.len() != self.key.size() {
            return Err(CapgoError::MalformedChecksum {
                reason: format!(
                    "{} bytes; this publicKey makes {}-byte blocks",
                    block.len(),
                    self.key.size()
                ),
            });
        }
        self.key
            .verify(Pkcs1v15Sign::new_unprefixed(), sha256, &block)
            .map_err(|_| CapgoError::ChecksumSignatureInvalid {
                key_id: self.key_id.clone(),
            })
    }
}

/// Checks a plain SHA-256 or CRC32 checksum: refused unless `allow_unsigned`, and then compared
/// as it is (a CRC32 cannot be compared to a SHA-256: refused even then). `None`: `checksum` is
/// not one (a signed checksum).
fn unsigned(
    checksum: &str,
    sha256: &[u8; 32],
    allow_unsigned: bool,
) -> Option<Result<(), CapgoError>> {
    let kind = match checksum.len() {
        64 if is_hex(checksum) => ChecksumKind::Sha256,
        8 if is_hex(checksum) => ChecksumKind::Crc32,
        _ => return None,
    };
    if !(allow_unsigned && kind == ChecksumKind::Sha256) {
        return Some(Err(CapgoError::UnsignedChecksum { kind }));
    }
    let actual = hex::encode(sha256);
    Some(if checksum.eq_ignore_ascii_case(&actual) {
        Ok(())
    } else {
        Err(CapgoError::ChecksumMismatch {
            expected: checksum.to_ascii_lowercase(),
            actual,
        })
    })
}

/// Checks `checksum` against the plaintext's SHA-256 with the app's `publicKey`
/// ([`CapgoKey::verify_checksum`]) or, for an app without one (allowed only with
/// `allowUnsignedCapgoBundles`), as an unsigned checksum: a signed one cannot be checked then.
pub fn verify_checksum_with(
    key: Option<&CapgoKey>,
    checksum: &str,
    sha256: &[u8; 32],
    allow_unsigned: bool,
) -> Result<(), CapgoError> {
    if let Some(k) = key {
        return k.verify_checksum(checksum, sha256, allow_unsigned);
    }
    unsigned(checksum.trim(), sha256, allow_unsigned).unwrap_or_else(|| {
        Err(CapgoError::MalformedChecksum {
            reason: "it is signed, but no publicKey is configured to verify it".into(),
        })
    })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

/// Decrypts `input` into `output` as one stream (AES-128-CBC, PKCS#7), returning the
/// plaintext's SHA-256 and length. The last block is held back until the end so its padding is
/// removed, never written.
pub fn decrypt<R: Read, W: Write>(
    session: &SessionKey,
    mut input: R,
    mut output: W,
) -> Result<Decrypted, CapgoError> {
    let fail = |reason| CapgoError::DecryptFailed { reason };
    // The caller names the files (`decrypt_verified`); a stream has no path.
    let read_io = |source| CapgoError::Io {
        op: "reading",
        path: PathBuf::new(),
        source,
    };
    let write_io = |source| CapgoError::Io {
        op: "writing",
        path: PathBuf::new(),
        source,
    };
    let mut cipher = Aes128CbcDec::new(&session.key.into(), &session.iv.into());
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    // A decrypted block not yet written: the last one carries the padding.
    let mut held: Option<Block<Aes128CbcDec>> = None;
    loop {
        let n = input.read(&mut buf[filled..]).map_err(read_io)?;
        filled += n;
        let whole = filled / 16 * 16;
        if n == 0 && whole != filled {
            return Err(fail("its length is not a multiple of the 16-byte block"));
        }
        let mut out = Vec::with_capacity(whole);
        for chunk in buf[..whole].chunks_exact(16) {
            let mut block = Block::<Aes128CbcDec>::try_from(chunk).expect("16 bytes");
            cipher.decrypt_block(&mut block);
            if let Some(prev) = held.replace(block) {
                out.extend_from_slice(&prev);
            }
        }
        buf.copy_within(whole..filled, 0);
        filled -= whole;
        hash.update(&out);
        bytes += out.len() as u64;
        output.write_all(&out).map_err(write_io)?;
        if n == 0 {
            break;
        }
    }
    let last = held.ok_or_else(|| fail("it is empty"))?;
    let tail =
        Pkcs7::unpad(&last).map_err(|_| fail("its padding is wrong (wrong key or altered)"))?;
    hash.update(tail);
    bytes += tail.len() as u64;
    output.write_all(tail).map_err(write_io)?;
    output.flush().map_err(write_io)?;
    Ok(Decrypted {
        sha256: hash.finalize().into(),
        bytes,
    })
}

/// Opens a Capgo v2 bundle: decrypts `encrypted` into `plain` (created; a staging file) with the
/// unwrapped `session_key`, then checks `checksum` against the plaintext. On `Ok`, `plain` holds
/// the verified zip, fsynced; on `Err`, `plain` has been removed, so nothing of a refused bundle
/// can be extracted.
pub fn decrypt_verified(
    key: &CapgoKey,
    session_key: &str,
    checksum: &str,
    encrypted: &Path,
    plain: &Path,
    allow_unsigned: bool,
) -> Result<Decrypted, CapgoError> {
    let result = (|| {
        let session = key.unwrap_session(session_key)?;
        let input = File::open(encrypted).map_err(io_at("opening", encrypted))?;
        let output = File::create_new(plain).map_err(io_at("creating", plain))?;
        let mut writer = io::BufWriter::new(output);
        let done =
            decrypt(&session, io::BufReader::new(input), &mut writer).map_err(|e| match e {
                CapgoError::Io { op, source, .. } => CapgoError::Io {
                    op,
                    path: if op == "reading" { encrypted } else { plain }.to_path_buf(),
                    source,
                },
                other => other,
            })?;
        key.verify_checksum(checksum, &done.sha256, allow_unsigned)?;
        let file = writer
            .into_inner()
            .map_err(|e| io_at("writing", plain)(e.into_error()))?;
        file.sync_all().map_err(io_at("syncing", plain))?;
        Ok(done)
    })();
    if result.is_err() {
        // Best effort: the refusal is what matters; a leftover is staging garbage.
        let _ = std::fs::remove_file(plain);
    }
    result
}
