//! Ciphertext as a device downloads it, opened by `crypto::open_stream` with the vectors' fixed
//! key and nonce prefix; the same bytes as a wrapped content key (`unwrap_content_key`) and as
//! a delta file object (`delta::open_file_object`); and the same bytes as plaintext, sealed,
//! opened again, and tampered with.
//! Defends: the STREAM framing (segment boundaries, a final segment, truncation at or inside a
//! segment, trailing data) on any byte string, never a panic; that only authenticated bytes
//! come out (an opened stream is exactly what was sealed) and that a flipped bit, a cut or an
//! extra byte is always refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveship::crypto::{self, TAG_SIZE};
use liveship::delta;
use liveship::release::FileEntry;
use liveship_fuzz::{BUNDLE_KEY, NONCE_PREFIX, STREAM_KEY};

fn open(ct: &[u8]) -> Result<Vec<u8>, crypto::CryptoError> {
    let mut out = Vec::new();
    let n = crypto::open_stream(&STREAM_KEY, &NONCE_PREFIX, ct, &mut out)?;
    assert_eq!(n, out.len() as u64, "open_stream miscounts what it wrote");
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    // As ciphertext: whatever opens has one tag per segment removed.
    if let Ok(pt) = open(data) {
        assert_eq!(crypto::sealed_len(pt.len() as u64), data.len() as u64);
    }
    if let Ok(key) = crypto::unwrap_content_key(&BUNDLE_KEY, data) {
        // Only the vectors' own wrapped key opens under the bundle key.
        assert_eq!(key, STREAM_KEY);
    }
    let entry = FileEntry {
        path: "f".into(),
        size: 0,
        sha256: crypto::sha256_hex(b"any"),
    };
    let _ = delta::open_file_object(&STREAM_KEY, &entry, data, std::io::sink());

    // As plaintext: seal, open, tamper.
    let mut ct = Vec::new();
    let written = crypto::seal_stream(&STREAM_KEY, &NONCE_PREFIX, data, &mut ct)
        .expect("sealing into memory cannot fail");
    assert_eq!(written, ct.len() as u64);
    assert_eq!(crypto::sealed_len(data.len() as u64), written);
    assert_eq!(open(&ct).expect("a sealed stream opens"), data);

    // Where to tamper, from the input itself (deterministic).
    let at = data
        .iter()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(*b as usize))
        % ct.len();
    let mut flipped = ct.clone();
    flipped[at] ^= 1 << (at % 8);
    assert!(open(&flipped).is_err(), "a flipped bit at {at} opened");
    assert!(open(&ct[..at]).is_err(), "a stream cut at {at} opened");
    let mut longer = ct.clone();
    longer.push(0);
    assert!(
        open(&longer).is_err(),
        "a stream with a trailing byte opened"
    );
    assert!(ct.len() >= TAG_SIZE);
});
