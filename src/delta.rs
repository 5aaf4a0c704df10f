//! Delta updates: build a release's bundle tree from files the device already has (the built-in
//! bundle, installed bundles; matched by SHA-256) plus the per-file objects it lacks.
//!
//! Guarantees: every file placed in the tree, local or downloaded, is hashed while it is written
//! and must match the signed entry; downloaded objects of an encrypted release are opened with
//! their per-file key (authenticated). The tree is fsynced. Any failure is reported as a
//! [`DeltaError`] so the caller can fall back to the full bundle.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::crypto::{self, CryptoError};
use crate::fetch::{FetchError, Fetcher};
use crate::release::{FileEntry, Manifest};
use crate::store::{self, io, BundleStatus, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error("release has no delta objects")]
    NotOffered,
    #[error("delta would fetch {delta} of {full} bytes: full bundle is cheaper")]
    NotWorthIt { delta: u64, full: u64 },
    #[error("file {path}: {source}")]
    Fetch { path: String, source: FetchError },
    #[error("file {path} does not decrypt: {source}")]
    Decrypt { path: String, source: CryptoError },
    #[error("file {path} does not match the signed list (size or SHA-256)")]
    Mismatch { path: String },
    #[error("bad delta URL {url}")]
    BadUrl { url: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which files come from where.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files the device has, with the local copy to take them from.
    pub local: Vec<(FileEntry, PathBuf)>,
    /// Files to download.
    pub remote: Vec<FileEntry>,
    /// Bytes the remote objects weigh on the wire.
    pub remote_bytes: u64,
}

/// Size of a file's object on the server.
pub fn object_size(entry: &FileEntry, encrypted: bool) -> u64 {
    if encrypted {
        crypto::sealed_len(entry.size)
    } else {
        entry.size
    }
}

/// Index of the files the device holds, by SHA-256: installed (ready) bundles from their signed
/// lists, and the built-in bundle by hashing it.
fn local_index(store: &Store, builtin_dir: &Path) -> Result<HashMap<String, PathBuf>, StoreError> {
    let mut index = HashMap::new();
    for b in store::bundles(store.read())? {
        if b.status != BundleStatus::Ready {
            continue;
        }
        let dir = store.bundle_dir(&b.id);
        if let Ok(m) = b.manifest() {
            for f in m.files {
                index.entry(f.sha256).or_insert_with(|| dir.join(&f.path));
            }
        }
    }
    if builtin_dir.is_dir() {
        hash_tree(builtin_dir, &mut index)?;
    }
    Ok(index)
}

fn hash_tree(dir: &Path, index: &mut HashMap<String, PathBuf>) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
        let path = entry.map_err(io("listing", dir))?.path();
        let meta = fs::symlink_metadata(&path).map_err(io("inspecting", &path))?;
        if meta.is_dir() {
            hash_tree(&path, index)?;
        } else if meta.is_file() {
            let f = File::open(&path).map_err(io("opening", &path))?;
            let (_, sha) = crypto::sha256_reader(f).map_err(io("reading", &path))?;
            index.entry(sha).or_insert(path);
        }
    }
    Ok(())
}

/// Plans a delta for `m`: local sources for the files the device has, objects for the rest.
pub fn plan(store: &Store, builtin_dir: &Path, m: &Manifest) -> Result<Plan, DeltaError> {
    if m.delta.is_none() {
        return Err(DeltaError::NotOffered);
    }
    let index = local_index(store, builtin_dir)?;
    let encrypted = m.bundle.encryption.is_some();
    let mut plan = Plan::default();
    let mut fetched = std::collections::HashSet::new();
    for f in &m.files {
        match index.get(&f.sha256) {
            Some(src) => plan.local.push((f.clone(), src.clone())),
            None => {
                // Identical files share one object.
                if fetched.insert(f.sha256.clone()) {
                    plan.remote_bytes += object_size(f, encrypted);
                }
                plan.remote.push(f.clone());
            }
        }
    }
    Ok(plan)
}

/// Writes `dest` with what `produce` writes, hashing as it goes; fails unless the result
/// matches `entry`. Stops accepting bytes past the signed size.
fn write_checked(
    dest: &Path,
    entry: &FileEntry,
    produce: impl FnOnce(&mut dyn Write) -> Result<(), DeltaError>,
) -> Result<(), DeltaError> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    let file = File::create(dest).map_err(io("creating", dest))?;
    let mut out = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        len: 0,
        limit: entry.size,
    };
    produce(&mut out)?;
    let file = out
        .inner
        .into_inner()
        .map_err(|e| io("writing", dest)(e.into_error()))?;
    file.sync_all().map_err(io("syncing", dest))?;
    if out.len != entry.size || hex::encode(out.hasher.finalize()) != entry.sha256 {
        return Err(DeltaError::Mismatch {
            path: entry.path.clone(),
        });
    }
    Ok(())
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
    limit: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.len + buf.len() as u64 > self.limit {
            return Err(std::io::Error::other("more bytes than the signed size"));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Builds the tree of `m` at `tree` from the plan: local copies, then downloaded objects (kept
/// in `work` between attempts so an interrupted delta resumes). Returns the bytes downloaded.
#[allow(clippy::too_many_arguments)]
pub async fn assemble(
    fetcher: &Fetcher,
    manifest_url: &Url,
    m: &Manifest,
    plan: &Plan,
    content_key: Option<&crypto::Key>,
    work: &Path,
    tree: &Path,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<u64, DeltaError> {
    let delta = m.delta.as_ref().ok_or(DeltaError::NotOffered)?;
    let base = manifest_url
        .join(&delta.url)
        .map_err(|_| DeltaError::BadUrl {
            url: delta.url.clone(),
        })?;
    fs::create_dir_all(work).map_err(io("creating", work))?;
    for (entry, src) in &plan.local {
        let mut f = BufReader::new(File::open(src).map_err(io("opening", src))?);
        let dest = tree.join(&entry.path);
        write_checked(&dest, entry, |out| {
            std::io::copy(&mut f, out)
                .map(drop)
                .map_err(|_| DeltaError::Mismatch {
                    path: entry.path.clone(),
                })
        })?;
    }
    let encrypted = m.bundle.encryption.is_some();
    let mut done = 0u64;
    for entry in &plan.remote {
        let object = work.join(&entry.sha256);
        let size = object_size(entry, encrypted);
        if !object.exists() || fs::metadata(&object).map(|md| md.len()).unwrap_or(0) != size {
            let url = base.join(&entry.sha256).map_err(|_| DeltaError::BadUrl {
                url: delta.url.clone(),
            })?;
            let before = done;
            let report = |got: u64, _total: u64| progress(before + got, plan.remote_bytes);
            // Plain objects are checked by their SHA-256 here; sealed ones by their AEAD below.
            let sha = if encrypted {
                None
            } else {
                Some(entry.sha256.as_str())
            };
            fetcher
                .download(&url, &object, size, sha, &report)
                .await
                .map_err(|source| DeltaError::Fetch {
                    path: entry.path.clone(),
                    source,
                })?;
        }
        done += size;
        let dest = tree.join(&entry.path);
        let mut input = BufReader::new(File::open(&object).map_err(io("opening", &object))?);
        let written = write_checked(&dest, entry, |out| match content_key {
            Some(key) => {
                let raw: [u8; 32] = hex::decode(&entry.sha256)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or(DeltaError::Mismatch {
                        path: entry.path.clone(),
                    })?;
                let fkey = crypto::file_key(key, &raw);
                crypto::open_stream(&fkey, &crypto::FILE_NONCE_PREFIX, &mut input, out)
                    .map(drop)
                    .map_err(|source| DeltaError::Decrypt {
                        path: entry.path.clone(),
                        source,
                    })
            }
            None => std::io::copy(&mut input, out)
                .map(drop)
                .map_err(|_| DeltaError::Mismatch {
                    path: entry.path.clone(),
                }),
        });
        if written.is_err() {
            // A bad object is not kept for "resuming": the next attempt fetches it again.
            let _ = fs::remove_file(&object);
        }
        written?;
    }
    sync_tree(tree)?;
    Ok(done)
}

/// fsyncs every directory of a tree, bottom-up (files were synced as they were written).
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
        let path = entry.map_err(io("listing", dir))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        }
    }
    store::sync_dir(dir)
}
