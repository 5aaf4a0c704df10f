//! The stream decryption and the checksum rules, with AES keys made here. The RSA parts run on
//! keys and bundles made by the real `@capgo/cli` in tests/capgo_bundles.rs.

use std::io::Read;

use cbc::cipher::{BlockModeEncrypt, KeyIvInit};

use super::*;

fn session() -> SessionKey {
    SessionKey {
        key: *b"0123456789abcdef",
        iv: *b"fedcba9876543210",
    }
}

fn encrypt(plain: &[u8]) -> Vec<u8> {
    let s = session();
    cbc::Encryptor::<aes::Aes128>::new(&s.key.into(), &s.iv.into())
        .encrypt_padded_vec::<Pkcs7>(plain)
}

/// A reader that hands out at most `step` bytes per read: block boundaries fall anywhere.
struct Dribble<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn a_stream_decrypts_whatever_the_read_sizes_and_the_padding_never_reaches_the_output() {
    for len in [0usize, 1, 15, 16, 17, 64 * 1024 - 1, 64 * 1024, 200_003] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let enc = encrypt(&plain);
        for step in [1, 5, 16, 4096, usize::MAX] {
            let mut out = Vec::new();
            let done = decrypt(&session(), Dribble { data: &enc, step }, &mut out).unwrap();
            assert_eq!(out, plain, "len {len}, step {step}");
            assert_eq!(done.bytes, len as u64);
            assert_eq!(done.sha256, <[u8; 32]>::from(Sha256::digest(&plain)));
        }
    }
}

#[test]
fn a_cut_or_wrongly_padded_stream_is_refused() {
    let enc = encrypt(b"a zip, say");
    let cut = decrypt(&session(), &enc[..enc.len() - 1], Vec::new()).unwrap_err();
    assert!(
        matches!(cut, CapgoError::DecryptFailed { reason } if reason.contains("multiple")),
        "{cut}"
    );
    let empty = decrypt(&session(), &[][..], Vec::new()).unwrap_err();
    assert!(matches!(empty, CapgoError::DecryptFailed { .. }), "{empty}");
    let wrong = SessionKey {
        key: *b"another key 16b!",
        iv: session().iv,
    };
    let err = decrypt(&wrong, &enc[..], Vec::new()).unwrap_err();
    assert!(
        matches!(err, CapgoError::DecryptFailed { reason } if reason.contains("padding")),
        "{err}"
    );
}

#[test]
fn a_malformed_public_key_is_refused_with_the_reason() {
    for pem in [
        "",
        "not a key",
        "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----",
    ] {
        let err = CapgoKey::from_pem(pem).unwrap_err();
        assert!(
            matches!(err, CapgoError::BadPublicKey { .. }),
            "{pem:?}: {err}"
        );
    }
}
