//! Capgo delta manifests: a release as a list of files (`{file_name, file_hash, download_url}`).
//! Each object is AES-128-CBC encrypted under the release's session key when the app has a
//! `publicKey`, and brotli-compressed when its name ends in `.br` (the file's name is the name
//! without it). `file_hash` is the file's SHA-256, RSA-signed like the bundle's checksum (plain
//! hex for an unsigned release). The engine hashes each file as it is written here and checks
//! that hash against `file_hash` before it takes the next one (`engine::capgo`).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{decrypt, io_at, CapgoError, SessionKey};

/// The file a manifest entry becomes: its path (the name without `.br`) and whether its object
/// is brotli-compressed.
pub fn target(file_name: &str) -> (&str, bool) {
    match file_name.strip_suffix(".br") {
        Some(path) => (path, true),
        None => (file_name, false),
    }
}

/// Writes what reads from `input` to `dest`, at most `limit` bytes; its size and SHA-256.
fn write_hashed(
    mut input: impl Read,
    dest: &Path,
    limit: u64,
) -> Result<(u64, [u8; 32]), CapgoError> {
    let mut out = BufWriter::new(File::create_new(dest).map_err(io_at("creating", dest))?);
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(CapgoError::BrotliFailed {
                    reason: e.to_string(),
                })
            }
        };
        size += n as u64;
        if size > limit {
            return Err(CapgoError::TooLarge { limit });
        }
        hash.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io_at("writing", dest))?;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_at("writing", dest)(e.into_error()))?;
    file.sync_all().map_err(io_at("syncing", dest))?;
    Ok((size, hash.finalize().into()))
}

/// Writes the file of a downloaded `object` to `dest` (created): decrypted with `session` when
/// given (into `scratch` first), decompressed when `brotli`, at most `limit` bytes. Returns its
/// size and SHA-256, for the caller to check against the entry's `file_hash`.
pub fn open_object(
    object: &Path,
    session: Option<&SessionKey>,
    brotli: bool,
    dest: &Path,
    scratch: &Path,
    limit: u64,
) -> Result<(u64, [u8; 32]), CapgoError> {
    let plain = match session {
        Some(s) => {
            let input = BufReader::new(File::open(object).map_err(io_at("opening", object))?);
            let output = File::create(scratch).map_err(io_at("creating", scratch))?;
            decrypt(s, input, BufWriter::new(output))?;
            scratch
        }
        None => object,
    };
    let input = BufReader::new(File::open(plain).map_err(io_at("opening", plain))?);
    let written = if brotli {
        write_hashed(
            brotli_decompressor::Decompressor::new(input, 64 * 1024),
            dest,
            limit,
        )
    } else {
        write_hashed(input, dest, limit)
    };
    let _ = std::fs::remove_file(scratch);
    written
}
