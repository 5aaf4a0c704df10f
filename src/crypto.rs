//! Cryptographic primitives of the release format: the chunked AES-256-GCM STREAM that seals
//! bundles, content-key wrapping under the app's bundle key, per-file keys for delta objects,
//! key ids and SHA-256 helpers.
//!
//! Guarantees: [`open_stream`] never writes a byte of a segment that failed authentication,
//! detects truncation (at or inside a segment), reordering and trailing data, and holds at most
//! one segment in memory whatever the input size. Constants here are normative: see
//! `docs/FORMAT.md`, "Bundle encryption".

use std::io::{self, BufRead, BufReader, Read, Write};

use aead_stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// Plaintext bytes per STREAM segment (the last segment may be shorter, or empty).
pub const SEGMENT_SIZE: usize = 64 * 1024;
/// AES-GCM tag appended to every segment.
pub const TAG_SIZE: usize = 16;
/// Bytes of the random nonce prefix; the STREAM adds a 32-bit counter and a last-segment flag.
pub const NONCE_PREFIX_SIZE: usize = 7;
/// Associated data of every bundle segment: binds the ciphertext to this format version.
pub const STREAM_AAD: &[u8] = b"liveship/bundle/v1";
/// Associated data when wrapping a content key under a bundle key.
pub const WRAP_AAD: &[u8] = b"liveship/content-key/v1";
/// HKDF info prefix for per-file delta keys; the file's SHA-256 follows.
pub const FILE_KEY_INFO: &[u8] = b"liveship/file-key/v1";
/// Name of the STREAM construction in manifests.
pub const STREAM_ALG: &str = "A256GCM-STREAM-BE32-64K";

/// A 256-bit symmetric key (content key or bundle key).
pub type Key = [u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A segment failed authentication: wrong key, flipped byte, reordered or truncated stream.
    #[error("segment {segment} failed authentication (wrong key, altered, reordered or truncated ciphertext)")]
    SegmentAuth { segment: u64 },
    /// The ciphertext ended before its last segment.
    #[error("ciphertext ends without a final segment (truncated)")]
    Truncated,
    /// The stream has more segments than the 32-bit counter allows.
    #[error("stream too long for the 32-bit segment counter")]
    TooLong,
    /// The wrapped content key did not open under the bundle key.
    #[error("content key does not unwrap under bundle key {key_id}: wrong bundle key or altered wrapped key")]
    UnwrapFailed { key_id: String },
    #[error("wrapped content key has {got} bytes, expected {expected}")]
    WrappedKeyLength { got: usize, expected: usize },
    /// Reading the input or writing the output failed. `Display` embeds the cause, so it is
    /// not also `source()` (each cause printed once).
    #[error("i/o error while {op}: {error}")]
    Io {
        op: &'static str,
        /// Which stream failed, so a caller can name the file it belongs to.
        side: Side,
        error: io::Error,
    },
}

/// The two streams a seal or an open works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The reader: plaintext when sealing, ciphertext when opening.
    Input,
    /// The writer: ciphertext when sealing, plaintext when opening.
    Output,
}

fn io_err(op: &'static str, side: Side) -> impl FnOnce(io::Error) -> CryptoError {
    move |error| CryptoError::Io { op, side, error }
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Size and lowercase hex SHA-256 of everything `reader` yields, read in 64 KiB chunks.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; SEGMENT_SIZE];
    let mut len = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hex::encode(hasher.finalize())))
}

/// Key id of an Ed25519 public key: the first 8 bytes of its SHA-256, in hex.
pub fn public_key_id(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// Key id of a bundle key: the first 8 bytes of SHA-256("liveship bundle key" || key), in hex.
/// The domain prefix keeps the id from being a plain hash of the secret.
pub fn bundle_key_id(key: &Key) -> String {
    let mut h = Sha256::new();
    h.update(b"liveship bundle key");
    h.update(key);
    hex::encode(&h.finalize()[..8])
}

/// Fills a fresh array from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("operating system random source unavailable");
    out
}

/// Size of the ciphertext that [`seal_stream`] produces for `plaintext_len` bytes.
pub fn sealed_len(plaintext_len: u64) -> u64 {
    let seg = SEGMENT_SIZE as u64;
    let segments = if plaintext_len == 0 {
        1
    } else {
        plaintext_len.div_ceil(seg)
    };
    // Saturates: a signed size near `u64::MAX` weighs "more than anything", never wraps small.
    plaintext_len.saturating_add(segments.saturating_mul(TAG_SIZE as u64))
}

/// Reads up to `buf.len()` bytes, stopping early only at end of input.
fn read_full(r: &mut impl Read, buf: &mut [u8], op: &'static str) -> Result<usize, CryptoError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(op, Side::Input)(e)),
        }
    }
    Ok(filled)
}

/// Seals `plaintext` into `out` as a STREAM of [`SEGMENT_SIZE`] segments. Returns the number of
/// ciphertext bytes written. Memory: one segment.
pub fn seal_stream(
    key: &Key,
    nonce_prefix: &[u8; NONCE_PREFIX_SIZE],
    plaintext: impl Read,
    mut out: impl Write,
) -> Result<u64, CryptoError> {
    let mut input = BufReader::with_capacity(SEGMENT_SIZE, plaintext);
    let mut enc = EncryptorBE32::<Aes256Gcm>::new(key.into(), nonce_prefix.into());
    let mut buf = Vec::with_capacity(SEGMENT_SIZE + TAG_SIZE);
    let mut written = 0u64;
    loop {
        buf.resize(SEGMENT_SIZE, 0);
        let n = read_full(&mut input, &mut buf, "reading plaintext")?;
        buf.truncate(n);
        // A segment is the last one when no byte follows it; peeking keeps an exact multiple
        // of the segment size from needing an extra empty segment.
        let last = n < SEGMENT_SIZE
            || input
                .fill_buf()
                .map_err(io_err("reading plaintext", Side::Input))?
                .is_empty();
        if last {
            enc.encrypt_last_in_place(STREAM_AAD, &mut buf)
                .map_err(|_| CryptoError::TooLong)?;
            out.write_all(&buf)
                .map_err(io_err("writing ciphertext", Side::Output))?;
            written += buf.len() as u64;
            out.flush()
                .map_err(io_err("writing ciphertext", Side::Output))?;
            return Ok(written);
        }
        enc.encrypt_next_in_place(STREAM_AAD, &mut buf)
            .map_err(|_| CryptoError::TooLong)?;
        out.write_all(&buf)
            .map_err(io_err("writing ciphertext", Side::Output))?;
        written += buf.len() as u64;
    }
}

/// Opens a STREAM produced by [`seal_stream`], writing the plaintext to `out` one authenticated
/// segment at a time. Returns the number of plaintext bytes written. Fails on the first segment
/// that does not authenticate; nothing of that segment is written.
pub fn open_stream(
    key: &Key,
    nonce_prefix: &[u8; NONCE_PREFIX_SIZE],
    ciphertext: impl Read,
    mut out: impl Write,
) -> Result<u64, CryptoError> {
    let mut input = BufReader::with_capacity(SEGMENT_SIZE + TAG_SIZE, ciphertext);
    let mut dec = DecryptorBE32::<Aes256Gcm>::new(key.into(), nonce_prefix.into());
    let mut buf = Vec::with_capacity(SEGMENT_SIZE + TAG_SIZE);
    let mut written = 0u64;
    let mut segment = 0u64;
    loop {
        buf.resize(SEGMENT_SIZE + TAG_SIZE, 0);
        let n = read_full(&mut input, &mut buf, "reading ciphertext")?;
        buf.truncate(n);
        if n < TAG_SIZE {
            return Err(CryptoError::Truncated);
        }
        let last = n < SEGMENT_SIZE + TAG_SIZE
            || input
                .fill_buf()
                .map_err(io_err("reading ciphertext", Side::Input))?
                .is_empty();
        if last {
            dec.decrypt_last_in_place(STREAM_AAD, &mut buf)
                .map_err(|_| CryptoError::SegmentAuth { segment })?;
            out.write_all(&buf)
                .map_err(io_err("writing plaintext", Side::Output))?;
            out.flush()
                .map_err(io_err("writing plaintext", Side::Output))?;
            return Ok(written + buf.len() as u64);
        }
        dec.decrypt_next_in_place(STREAM_AAD, &mut buf)
            .map_err(|_| CryptoError::SegmentAuth { segment })?;
        out.write_all(&buf)
            .map_err(io_err("writing plaintext", Side::Output))?;
        written += buf.len() as u64;
        segment += 1;
    }
}

/// Wraps a per-release content key under a bundle key: `nonce(12) || AES-256-GCM(key) || tag(16)`,
/// with [`WRAP_AAD`] as associated data. `nonce` must be fresh for every wrap.
pub fn wrap_content_key(bundle_key: &Key, content_key: &Key, nonce: &[u8; 12]) -> Vec<u8> {
    let nonce_arr = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::from(*nonce);
    let cipher = Aes256Gcm::new(bundle_key.into());
    let sealed = cipher
        .encrypt(
            &nonce_arr,
            Payload {
                msg: content_key,
                aad: WRAP_AAD,
            },
        )
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

/// Length of a wrapped content key.
pub const WRAPPED_KEY_SIZE: usize = 12 + 32 + TAG_SIZE;

/// Opens a wrapped content key. Fails if the bundle key is wrong or the wrapped bytes changed.
pub fn unwrap_content_key(bundle_key: &Key, wrapped: &[u8]) -> Result<Key, CryptoError> {
    if wrapped.len() != WRAPPED_KEY_SIZE {
        return Err(CryptoError::WrappedKeyLength {
            got: wrapped.len(),
            expected: WRAPPED_KEY_SIZE,
        });
    }
    let (nonce, sealed) = wrapped.split_at(12);
    let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::try_from(nonce).expect("split at 12");
    let cipher = Aes256Gcm::new(bundle_key.into());
    let plain = cipher
        .decrypt(
            &nonce,
            Payload {
                msg: sealed,
                aad: WRAP_AAD,
            },
        )
        .map_err(|_| CryptoError::UnwrapFailed {
            key_id: bundle_key_id(bundle_key),
        })?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&plain);
    Ok(key)
}

/// Key that seals one delta file object: HKDF-SHA256 with the release's content key as input
/// key material, no salt, and info = [`FILE_KEY_INFO`] || the file's raw SHA-256. Its STREAM
/// nonce prefix is all zeros (the key is unique to the file content within the release).
pub fn file_key(content_key: &Key, file_sha256: &[u8; 32]) -> Key {
    let hk = Hkdf::<Sha256>::new(None, content_key);
    let mut info = FILE_KEY_INFO.to_vec();
    info.extend_from_slice(file_sha256);
    let mut out = [0u8; 32];
    hk.expand(&info, &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// Nonce prefix of every delta file object (see [`file_key`]).
pub const FILE_NONCE_PREFIX: [u8; NONCE_PREFIX_SIZE] = [0; NONCE_PREFIX_SIZE];

/// Counts and hashes the bytes read through it.
pub struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> HashReader<R> {
    pub fn new(inner: R) -> Self {
        HashReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes read and their lowercase hex SHA-256.
    pub fn finish(self) -> (u64, String) {
        (self.len, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Counts and hashes the bytes written through it, optionally refusing bytes past a limit (a
/// signed size), so a file is hashed once, as it is written.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
    limit: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        Self::with_limit(inner, u64::MAX)
    }

    /// A writer that fails (writing nothing of that call) once more than `limit` bytes would
    /// have been written.
    pub fn with_limit(inner: W, limit: u64) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
            limit,
        }
    }

    /// Flushes, then returns bytes written and their lowercase hex SHA-256.
    pub fn finish(self) -> io::Result<(u64, String)> {
        self.finish_into().map(|(_, len, sha)| (len, sha))
    }

    /// Flushes, then returns the inner writer, bytes written and their lowercase hex SHA-256.
    pub fn finish_into(mut self) -> io::Result<(W, u64, String)> {
        self.inner.flush()?;
        Ok((self.inner, self.len, hex::encode(self.hasher.finalize())))
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.len.saturating_add(buf.len() as u64) > self.limit {
            return Err(io::Error::other("more bytes than the signed size"));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(pt: &[u8]) -> Vec<u8> {
        let mut ct = Vec::new();
        seal_stream(&[7; 32], &[1; 7], pt, &mut ct).unwrap();
        ct
    }

    #[test]
    fn sealed_len_matches_output() {
        for n in [
            0,
            1,
            SEGMENT_SIZE - 1,
            SEGMENT_SIZE,
            SEGMENT_SIZE + 1,
            3 * SEGMENT_SIZE,
        ] {
            assert_eq!(
                seal(&vec![0u8; n]).len() as u64,
                sealed_len(n as u64),
                "size {n}"
            );
        }
    }

    #[test]
    fn hash_writer_counts_hashes_and_refuses_past_its_limit() {
        let mut w = HashWriter::with_limit(Vec::new(), 5);
        w.write_all(b"abc").unwrap();
        assert!(
            w.write_all(b"def").is_err(),
            "6 bytes is past the limit of 5"
        );
        w.write_all(b"de").unwrap();
        let (inner, len, sha) = w.finish_into().unwrap();
        assert_eq!((inner.as_slice(), len), (&b"abcde"[..], 5));
        assert_eq!(sha, sha256_hex(b"abcde"));
    }

    #[test]
    fn wrap_round_trip_and_wrong_key() {
        let wrapped = wrap_content_key(&[1; 32], &[2; 32], &[3; 12]);
        assert_eq!(unwrap_content_key(&[1; 32], &wrapped).unwrap(), [2; 32]);
        assert!(matches!(
            unwrap_content_key(&[9; 32], &wrapped),
            Err(CryptoError::UnwrapFailed { .. })
        ));
    }
}
