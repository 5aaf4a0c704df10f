//! Delta updates: build a release's bundle tree from files the device already has (the built-in
//! bundle, installed bundles; matched by SHA-256) plus the per-file objects it lacks.
//!
//! Guarantees: every file placed in the tree, local or downloaded, is hashed while it is written
//! and must match the signed entry; that is its only hash (the [`Assembled`] tree is not read
//! again when installed). Downloaded objects of an encrypted release are opened with their
//! per-file key (authenticated, [`open_file_object`]). The tree is fsynced. Any failure is
//! reported as a [`DeltaError`] so the caller can fall back to the full bundle. The built-in
//! tree is hashed once per native version; its index is kept in the store.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use reqwest::Url;

use crate::crypto::{self, CryptoError, HashWriter};
use crate::fetch::{FetchError, Fetcher};
use crate::fs::{io, remove_any, sync_dir};
use crate::release::{FileEntry, Manifest};
use crate::store::{self, BundleStatus, Store, StoreError};

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

/// File errors count as storage errors (the store's data directory is where they happen).
impl From<crate::fs::IoError> for DeltaError {
    fn from(e: crate::fs::IoError) -> Self {
        DeltaError::Store(StoreError::Io(e))
    }
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
/// lists, and the built-in bundle from its index ([`builtin_files`]).
pub fn local_index(
    store: &mut Store,
    builtin_dir: &Path,
    native_version: &str,
) -> Result<HashMap<String, PathBuf>, StoreError> {
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
        for f in builtin_files(store, builtin_dir, native_version)? {
            index
                .entry(f.sha256)
                .or_insert_with(|| builtin_dir.join(&f.path));
        }
    }
    Ok(index)
}

/// The built-in tree's file hashes. The built-in bundle ships inside the app and changes only
/// with a native update, so its index is recorded in the store keyed by the native version and
/// read from there on every later plan: the tree is hashed once per native version, not once
/// per update. A stale entry (a built-in file changed without a new native version) cannot
/// weaken anything: every file taken from it is hashed against its signed entry as it is
/// copied ([`write_checked`]), and a mismatch fails the delta, which falls back to the full
/// bundle.
fn builtin_files(
    store: &mut Store,
    dir: &Path,
    native_version: &str,
) -> Result<Vec<store::BuiltinFile>, StoreError> {
    let recorded = store.builtin_index(native_version)?;
    if !recorded.is_empty() {
        return Ok(recorded);
    }
    let mut files = Vec::new();
    hash_tree(dir, "", &mut files)?;
    // A cache: failing to record it costs a second hashing next time, not the update.
    if let Err(e) = store.set_builtin_index(native_version, &files) {
        log::warn!("recording the built-in tree's index: {e}");
    }
    Ok(files)
}

fn hash_tree(dir: &Path, rel: &str, files: &mut Vec<store::BuiltinFile>) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
        let entry = entry.map_err(io("listing", dir))?;
        let path = entry.path();
        // A name that is not UTF-8 cannot be a signed path's source by name; skip it.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = fs::symlink_metadata(&path).map_err(io("inspecting", &path))?;
        if meta.is_dir() {
            hash_tree(&path, &child, files)?;
        } else if meta.is_file() {
            let f = File::open(&path).map_err(io("opening", &path))?;
            let (_, sha256) = crypto::sha256_reader(f).map_err(io("reading", &path))?;
            files.push(store::BuiltinFile {
                path: child,
                sha256,
            });
        }
    }
    Ok(())
}

/// Plans a delta for `m`: local sources for the files the device has (installed bundles, and
/// the built-in bundle of `native_version` at `builtin_dir`), objects for the rest.
pub fn plan(
    store: &mut Store,
    builtin_dir: &Path,
    native_version: &str,
    m: &Manifest,
) -> Result<Plan, DeltaError> {
    if m.delta.is_none() {
        return Err(DeltaError::NotOffered);
    }
    let index = local_index(store, builtin_dir, native_version)?;
    Ok(plan_from(&index, m))
}

/// The decision half of [`plan`], without the store: each file of `m` comes from its local copy
/// in `index` (by SHA-256) or is fetched, identical files sharing one object; `remote_bytes`
/// is what the fetched objects weigh on the wire.
pub fn plan_from(index: &HashMap<String, PathBuf>, m: &Manifest) -> Plan {
    let encrypted = m.bundle.encryption.is_some();
    let mut plan = Plan::default();
    let mut fetched = std::collections::HashSet::new();
    for f in &m.files {
        match index.get(&f.sha256) {
            Some(src) => plan.local.push((f.clone(), src.clone())),
            None => {
                // Identical files share one object.
                if fetched.insert(f.sha256.clone()) {
                    // Signed sizes are any u64: saturate, so a delta never looks cheap by wrapping.
                    plan.remote_bytes = plan.remote_bytes.saturating_add(object_size(f, encrypted));
                }
                plan.remote.push(f.clone());
            }
        }
    }
    plan
}

/// Writes `dest` with what `produce` writes, hashing as it goes; fails unless the result
/// matches `entry`. Stops accepting bytes past the signed size. This is the only hash of the
/// file: the tree is not hashed again when it is installed ([`Assembled`]).
fn write_checked(
    dest: &Path,
    entry: &FileEntry,
    produce: impl FnOnce(&mut dyn Write) -> Result<(), DeltaError>,
) -> Result<(), DeltaError> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    let file = File::create(dest).map_err(io("creating", dest))?;
    let mut out = HashWriter::with_limit(BufWriter::new(file), entry.size);
    produce(&mut out)?;
    let (buffered, len, sha) = out.finish_into().map_err(io("writing", dest))?;
    let file = buffered
        .into_inner()
        .map_err(|e| io("writing", dest)(e.into_error()))?;
    file.sync_all().map_err(io("syncing", dest))?;
    if len != entry.size || sha != entry.sha256 {
        return Err(DeltaError::Mismatch {
            path: entry.path.clone(),
        });
    }
    Ok(())
}

/// A tree [`assemble`] built: exactly the files of the release's signed list, each hashed
/// against its signed entry as it was written, and fsynced. Only `assemble` makes one.
#[derive(Debug)]
pub struct Assembled {
    tree: PathBuf,
    content_id: String,
    bytes: u64,
}

impl Assembled {
    /// Where the tree is.
    pub fn tree(&self) -> &Path {
        &self.tree
    }

    /// Content id of the release whose signed list the files were checked against.
    pub fn content_id(&self) -> &str {
        &self.content_id
    }

    /// Bytes downloaded to build it.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Builds the tree of `m` at `tree` (which must not hold other files) from the plan: local
/// copies, then downloaded objects (kept in `work` between attempts so an interrupted delta
/// resumes).
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
) -> Result<Assembled, DeltaError> {
    let delta = m.delta.as_ref().ok_or(DeltaError::NotOffered)?;
    let base = manifest_url
        .join(&delta.url)
        .map_err(|_| DeltaError::BadUrl {
            url: delta.url.clone(),
        })?;
    fs::create_dir_all(work).map_err(io("creating", work))?;
    // The tree must end up holding only the signed files: start it empty.
    remove_any(tree)?;
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
            Some(key) => open_file_object(key, entry, &mut input, out).map(drop),
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
    Ok(Assembled {
        tree: tree.to_path_buf(),
        content_id: m.content_id(),
        bytes: done,
    })
}

/// Opens the sealed delta object of `entry` into `out`, every segment authenticated: its key
/// derives from the release's content key and the file's signed SHA-256 ([`crypto::file_key`]).
/// The one decryption path of delta objects: the device's delta build and `liveship verify`
/// both open them here. Returns the plaintext bytes written; a signed SHA-256 that is not 32
/// hex bytes is [`DeltaError::Mismatch`], a failed segment [`DeltaError::Decrypt`].
pub fn open_file_object(
    content_key: &crypto::Key,
    entry: &FileEntry,
    input: impl Read,
    out: impl Write,
) -> Result<u64, DeltaError> {
    let raw: [u8; 32] = hex::decode(&entry.sha256)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(DeltaError::Mismatch {
            path: entry.path.clone(),
        })?;
    let key = crypto::file_key(content_key, &raw);
    crypto::open_stream(&key, &crypto::FILE_NONCE_PREFIX, input, out).map_err(|source| {
        DeltaError::Decrypt {
            path: entry.path.clone(),
            source,
        }
    })
}

/// fsyncs every directory of a tree, bottom-up (files were synced as they were written).
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
        let path = entry.map_err(io("listing", dir))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        }
    }
    Ok(sync_dir(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &[u8])]) -> Vec<store::BuiltinFile> {
        list.iter()
            .map(|(path, content)| store::BuiltinFile {
                path: path.to_string(),
                sha256: crypto::sha256_hex(content),
            })
            .collect()
    }

    /// The hash taken while a file is written is the tree's only check (it is not re-read when
    /// installed): a local source whose bytes are not the signed ones is refused.
    #[test]
    fn a_file_is_checked_against_its_signed_entry_as_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a/b.txt");
        let entry = FileEntry {
            path: "a/b.txt".into(),
            size: 5,
            sha256: crypto::sha256_hex(b"alpha"),
        };
        let copy = |bytes: &'static [u8]| {
            write_checked(&dest, &entry, |out| {
                out.write_all(bytes).map_err(|_| DeltaError::Mismatch {
                    path: entry.path.clone(),
                })
            })
        };
        copy(b"alpha").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"alpha");
        for wrong in [&b"alphA"[..], b"alph", b"alphabet"] {
            assert!(
                matches!(copy(wrong), Err(DeltaError::Mismatch { ref path }) if path == "a/b.txt"),
                "{wrong:?}"
            );
        }
    }

    /// A release of one file, `index.html` with `content`, offered as a delta.
    fn release(content: &[u8]) -> Manifest {
        Manifest {
            format: 1,
            app_id: "com.example.app".into(),
            channel: "production".into(),
            sequence: 2,
            version: "2".into(),
            issued_at: 0,
            expires_at: 1,
            native: Default::default(),
            platforms: vec![],
            bundle: crate::release::BundleObject {
                url: "bundle.zip".into(),
                size: 1,
                sha256: "00".repeat(32),
                encryption: None,
            },
            files: vec![FileEntry {
                path: "index.html".into(),
                size: content.len() as u64,
                sha256: crypto::sha256_hex(content),
            }],
            delta: Some(crate::release::Delta {
                url: "files/".into(),
            }),
            rollout: None,
            incident: None,
        }
    }

    /// Signed sizes are any u64 a publisher chose. The `delta_plan` fuzz target crashed on
    /// `fuzz/corpus/delta_plan/regression-huge-size.json` (written by hand for it: the fuzzer had
    /// not reached such a number in JSON within a minute): the sealed size of a file near
    /// `u64::MAX` overflowed (a panic in debug builds, a wrap to a tiny figure
    /// on devices, making the delta look cheap). Now object sizes, the plan's total and an
    /// install's free-space need saturate.
    #[test]
    fn huge_signed_sizes_saturate_instead_of_wrapping() {
        let mut m = release(b"alpha");
        m.bundle.encryption = Some(crate::release::Encryption {
            alg: crypto::STREAM_ALG.into(),
            key_id: "k".into(),
            wrapped_key: String::new(),
            nonce_prefix: String::new(),
        });
        m.files[0].size = u64::MAX;
        m.files.push(FileEntry {
            path: "b.js".into(),
            size: u64::MAX - 1,
            sha256: "11".repeat(32),
        });
        assert_eq!(crypto::sealed_len(u64::MAX), u64::MAX);
        assert_eq!(plan_from(&HashMap::new(), &m).remote_bytes, u64::MAX);
        assert_eq!(crate::install::space_needed(&m), u64::MAX);
        // Ordinary sizes are exact: one 16-byte tag per 64 KiB segment, at least one.
        assert_eq!(crypto::sealed_len(0), 16);
        assert_eq!(crypto::sealed_len(65_537), 65_537 + 32);
    }

    /// Whether `plan` takes the release's one file from the built-in tree.
    fn from_builtin(st: &mut Store, builtin: &Path, native: &str, content: &[u8]) -> bool {
        let p = plan(st, builtin, native, &release(content)).unwrap();
        assert_eq!(p.local.len() + p.remote.len(), 1);
        p.local.len() == 1
    }

    #[test]
    fn builtin_tree_is_hashed_once_per_native_version() {
        let data = tempfile::tempdir().unwrap();
        let builtin = tempfile::tempdir().unwrap();
        let b = builtin.path();
        fs::write(b.join("index.html"), b"alpha").unwrap();
        fs::create_dir(b.join("js")).unwrap();
        fs::write(b.join("js/app.js"), b"bravo").unwrap();
        let (mut st, _) = Store::open(data.path()).unwrap();

        assert!(from_builtin(&mut st, b, "1.0", b"alpha"));
        let want = files(&[("index.html", b"alpha"), ("js/app.js", b"bravo")]);
        assert_eq!(st.builtin_index("1.0").unwrap(), want);

        // New bytes under the same native version: the second plan uses the recorded index and
        // does not read the file again (read, it would hash to "changed").
        fs::write(b.join("index.html"), b"changed").unwrap();
        assert!(from_builtin(&mut st, b, "1.0", b"alpha"));
        assert!(!from_builtin(&mut st, b, "1.0", b"changed"));

        // Persisted: a new process (a reopened store) still has it.
        drop(st);
        let (mut st, _) = Store::open(data.path()).unwrap();
        assert!(from_builtin(&mut st, b, "1.0", b"alpha"));

        // A native update rebuilds it from the files as they are now, replacing the old one.
        assert!(from_builtin(&mut st, b, "1.1", b"changed"));
        assert!(!from_builtin(&mut st, b, "1.1", b"alpha"));
        assert_eq!(st.builtin_index("1.0").unwrap(), vec![]);
        let rebuilt = files(&[("index.html", b"changed"), ("js/app.js", b"bravo")]);
        assert_eq!(st.builtin_index("1.1").unwrap(), rebuilt);
    }
}
