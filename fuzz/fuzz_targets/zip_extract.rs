//! Zip bytes as a device downloads them (after the AEAD opened them, or unencrypted), written to
//! a file and extracted by `unpack::extract_verified` with small budgets, against a signed list.
//! Defends: every check of the extraction plan (central directory, names, types, sizes,
//! budgets, the signed list) and the streaming writer, on any byte string; the guarantees of
//! `extract_verified`: on `Ok` the tree is exactly the signed files (re-checked with
//! `check_dir`), on `Err` no destination remains.
//!
//! The signed list is what the zip itself claims (each file entry's name, declared size and the
//! SHA-256 of what the zip crate decompresses, capped), so that extraction gets past the list
//! check; the input's length picks a variation of it (exact, empty, one file missing, one hash
//! wrong) so that the refusals are reached too.
#![no_main]

use std::fs;
use std::io::{Cursor, Read};

use libfuzzer_sys::fuzz_target;
use liveship::crypto;
use liveship::release::FileEntry;
use liveship::unpack::{self, Budgets};

const MAX_TOTAL_BYTES: u64 = 1024 * 1024;

fn budgets() -> Budgets {
    Budgets {
        max_total_bytes: MAX_TOTAL_BYTES,
        max_entries: 64,
        max_path_len: 128,
        max_depth: 8,
    }
}

/// The file entries the zip claims, read with the zip crate (at most 64 entries and
/// [`MAX_TOTAL_BYTES`] + 1 bytes of each).
fn claimed_list(data: &[u8]) -> Vec<FileEntry> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(data)) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for i in 0..archive.len().min(64) {
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let path = entry.name().to_string();
        let size = entry.size();
        let mut content = Vec::new();
        let _ = entry.take(MAX_TOTAL_BYTES + 1).read_to_end(&mut content);
        files.push(FileEntry {
            path,
            size,
            sha256: crypto::sha256_hex(&content),
        });
    }
    files
}

fuzz_target!(|data: &[u8]| {
    let dir = liveship_fuzz::scratch();
    let zip_path = dir.join("input.zip");
    let dest = dir.join("dest");
    let _ = fs::remove_dir_all(&dest);
    if fs::write(&zip_path, data).is_err() {
        return;
    }

    let mut files = claimed_list(data);
    match data.len() % 4 {
        0 => {}
        1 => files.clear(),
        2 => {
            files.pop();
        }
        _ => {
            if let Some(f) = files.first_mut() {
                f.sha256 = crypto::sha256_hex(f.sha256.as_bytes());
            }
        }
    }

    match unpack::extract_verified(&zip_path, &files, &dest, &budgets()) {
        Ok(extracted) => {
            assert_eq!(extracted.files, files.len());
            assert_eq!(extracted.bytes, files.iter().map(|f| f.size).sum::<u64>());
            if let Err(e) = unpack::check_dir(&dest, &files) {
                panic!("extracted tree does not re-verify: {e}");
            }
        }
        Err(_) => assert!(
            fs::symlink_metadata(&dest).is_err(),
            "a failed extraction left its destination behind"
        ),
    }
    let _ = fs::remove_dir_all(&dest);
});
