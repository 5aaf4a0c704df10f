//! Publisher side of the release format: turns a built web folder into a signed (and normally
//! encrypted) release inside a static repository folder. The CLI's `pack` is a thin shell over
//! [`pack`]; tests and the demo use it directly. Not called by the device code (the mobile
//! library's exported surface never reaches it, so the linker drops it there).
//!
//! Guarantees: the bundle zip is deterministic (entries sorted by path bytes, files only, fixed
//! timestamp, permissions and compression level), so the same folder packs to the same bytes
//! when not encrypted; symlinks and special files are refused, never followed; a folder that
//! breaks the devices' extraction budgets or name rules ([`crate::unpack::check_file_list`]) is
//! refused with the device's error before anything is written; a sequence is
//! published only if it is greater than the channel's current one and was never used before;
//! every file lands whole (temp file in the same folder, fsync, rename, fsync of the folder),
//! objects first, then `releases/<ch>.<seq>.json`, and `channels/<ch>.json` last, so a reader
//! of the channel never sees a manifest whose objects are missing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use zip::write::SimpleFileOptions;

use crate::crypto::{self, HashReader, HashWriter};
use crate::release::{
    self, BundleKey, BundleObject, Delta, Encryption, Envelope, FileEntry, Incident, Manifest,
    NativeRange, FORMAT_VERSION,
};
use crate::unpack;

mod log;
mod refresh;
mod revoke;
pub use log::{history, LogEntry, Refresh};
pub use refresh::{refresh, RefreshOptions, Refreshed};
pub use revoke::{revoke, revoked_sequences, RevokeOptions, Revoked};

/// Deflate level of every zip entry. Fixed so that the same input gives the same bytes.
pub const ZIP_COMPRESSION_LEVEL: i64 = 6;
/// Extension of a plain bundle object, and of a sealed one.
pub const PLAIN_EXT: &str = "zip";
pub const SEALED_EXT: &str = "zip.sealed";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("invalid {what} {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("sequence {got} is not greater than the sequence already published on channel {channel:?} ({published}, in {}); use {next} or higher", path.display(), next = published + 1)]
    SequenceNotNewer {
        channel: String,
        got: u64,
        published: u64,
        path: PathBuf,
    },
    #[error("{path} already exists: sequence {sequence} was used before and is never reused")]
    SequenceReused { path: PathBuf, sequence: u64 },
    #[error("channel {channel:?} has not been published: {} does not exist", path.display())]
    NotPublished { channel: String, path: PathBuf },
    #[error("{path} does not verify under signing key {key_id} ({reason}); refresh re-signs only what this key signed: publish a new release with `liveship pack` instead")]
    NotOurs {
        path: PathBuf,
        key_id: String,
        reason: String,
    },
    #[error("cannot read the published sequence from {path}: {reason}; refusing to overwrite it")]
    UnreadableChannel { path: PathBuf, reason: String },
    #[error(
        "{path} is a symbolic link: bundles contain regular files only (copy the target instead)"
    )]
    Symlink { path: PathBuf },
    #[error(
        "{path} is not a regular file (device, socket or pipe): bundles contain regular files only"
    )]
    SpecialFile { path: PathBuf },
    #[error(
        "{path} changed while packing (size or SHA-256 differ from the zipped copy); pack again"
    )]
    ChangedWhilePacking { path: PathBuf },
    #[error("{0} has no index.html at its top level")]
    NoIndex(PathBuf),
    #[error("encrypting: {0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error("writing the bundle zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// The web folder breaks a budget or name rule devices apply: the device's own error.
    #[error(transparent)]
    Budget(#[from] unpack::UnpackError),
    #[error("i/o error while {op} {path}: {source}{}", crate::fs::hint(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl From<crate::fs::IoError> for PublishError {
    fn from(e: crate::fs::IoError) -> Self {
        PublishError::Io {
            op: e.op,
            path: e.path,
            source: e.error,
        }
    }
}

fn io_at<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PublishError + 'a {
    move |e| crate::fs::io(op, path)(e).into()
}

/// Reports progress of the long phases (zipping, encrypting, delta objects).
pub trait Progress {
    fn phase(&self, what: &'static str, total_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish_phase(&self);
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {
    fn phase(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish_phase(&self) {}
}

struct Counted<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}
impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// What to publish.
pub struct PackOptions<'a> {
    pub webdir: &'a Path,
    pub repo: &'a Path,
    pub app_id: &'a str,
    pub channel: &'a str,
    pub sequence: u64,
    pub version: &'a str,
    pub signing_key: &'a SigningKey,
    /// `None` publishes unencrypted (still signed).
    pub bundle_key: Option<&'a BundleKey>,
    /// Seconds from now until devices refuse the manifest.
    pub expires_in: u64,
    pub native: NativeRange,
    pub platforms: Vec<String>,
    pub rollout: Option<u8>,
    pub incident: Option<Incident>,
    /// Unix seconds used as `issued_at`.
    pub now: u64,
}

/// What `pack` wrote.
#[derive(Debug)]
pub struct Packed {
    pub manifest: Manifest,
    pub envelope: Envelope,
    pub bundle_path: PathBuf,
    pub delta_dir: PathBuf,
    pub delta_objects: usize,
    pub release_path: PathBuf,
    pub channel_path: PathBuf,
}

/// Fails unless `name` is a valid channel name: `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn validate_channel(name: &str) -> Result<(), PublishError> {
    // The rule itself lives in `release`, where devices apply it to signed manifests.
    if !crate::release::is_valid_channel(name) {
        return Err(PublishError::Invalid {
            what: "channel name",
            reason: format!(
                "{name:?}: use 1-64 characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit"
            ),
        });
    }
    Ok(())
}

/// A file of the web folder, before hashing.
struct SourceFile {
    rel: String,
    abs: PathBuf,
}

/// Packs `opts.webdir` into `opts.repo` as release `opts.channel#opts.sequence`.
pub fn pack(opts: &PackOptions<'_>, progress: &dyn Progress) -> Result<Packed, PublishError> {
    validate_channel(opts.channel)?;
    if opts.sequence == 0 {
        return Err(PublishError::Invalid {
            what: "sequence",
            reason: "0: must be at least 1".into(),
        });
    }
    if let Some(r) = opts.rollout.filter(|r| *r > 100) {
        return Err(PublishError::Invalid {
            what: "rollout",
            reason: format!("{r}: use a percentage from 0 to 100"),
        });
    }
    if opts.app_id.trim().is_empty() {
        return Err(PublishError::Invalid {
            what: "app id",
            reason: "\"\": must not be empty".into(),
        });
    }
    if opts.version.trim().is_empty() {
        return Err(PublishError::Invalid {
            what: "version",
            reason: "\"\": must not be empty".into(),
        });
    }
    for p in &opts.platforms {
        if p.is_empty()
            || !p
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(PublishError::Invalid {
                what: "platform",
                reason: format!("{p:?}: use lowercase names such as android, ios"),
            });
        }
    }

    let repo = opts.repo;
    let channel = opts.channel;
    let channel_path = repo.join("channels").join(format!("{channel}.json"));
    let release_path = repo
        .join("releases")
        .join(format!("{channel}.{}.json", opts.sequence));
    if let Some(published) = published_sequence(&channel_path)? {
        if opts.sequence <= published {
            return Err(PublishError::SequenceNotNewer {
                channel: channel.into(),
                got: opts.sequence,
                published,
                path: channel_path,
            });
        }
    }
    if release_path.exists() {
        return Err(PublishError::SequenceReused {
            path: release_path,
            sequence: opts.sequence,
        });
    }

    let sources = walk_webdir(opts.webdir)?;
    let sizes: Vec<u64> = sources
        .iter()
        .map(|s| s.abs.metadata().map(|m| m.len()).unwrap_or(0))
        .collect();
    // The devices' budgets and name rules, before anything is written: a release they would
    // refuse is never published.
    unpack::check_file_list(
        sources
            .iter()
            .zip(&sizes)
            .map(|(s, size)| (s.rel.as_str(), *size)),
        &unpack::Budgets::default(),
    )?;
    let total_bytes: u64 = sizes.iter().sum();

    let bundles_dir = repo.join("bundles");
    let delta_rel = format!("files/{channel}/{}/", opts.sequence);
    let delta_dir = repo
        .join("files")
        .join(channel)
        .join(opts.sequence.to_string());
    for d in [
        &bundles_dir,
        &delta_dir,
        &repo.join("releases"),
        &repo.join("channels"),
    ] {
        fs::create_dir_all(d).map_err(io_at("creating", d))?;
    }

    // 1. Hash and zip in one read of each file.
    progress.phase("zipping", total_bytes);
    let zip_tmp = TempFile::new_in(&bundles_dir)?;
    let files = write_zip(&sources, &zip_tmp, progress)?;
    progress.finish_phase();

    // 2. Seal (or not), hashing the object as it is written.
    let (object_tmp, object_size, object_sha, encryption, content_key) = match opts.bundle_key {
        None => {
            let f = File::open(&zip_tmp.path).map_err(io_at("opening", &zip_tmp.path))?;
            let (size, sha) = crypto::sha256_reader(f).map_err(io_at("reading", &zip_tmp.path))?;
            (zip_tmp, size, sha, None, None)
        }
        Some(bk) => {
            let zip_len = fs::metadata(&zip_tmp.path)
                .map_err(io_at("inspecting", &zip_tmp.path))?
                .len();
            progress.phase("encrypting", zip_len);
            let content_key: crypto::Key = crypto::random_bytes();
            let nonce_prefix: [u8; crypto::NONCE_PREFIX_SIZE] = crypto::random_bytes();
            let sealed = TempFile::new_in(&bundles_dir)?;
            let mut zip_file =
                File::open(&zip_tmp.path).map_err(io_at("opening", &zip_tmp.path))?;
            zip_file.rewind().map_err(io_at("reading", &zip_tmp.path))?;
            let out_file = sealed.file()?;
            let mut out = HashWriter::new(BufWriter::new(&out_file));
            let input = Counted {
                inner: BufReader::new(zip_file),
                progress,
            };
            crypto::seal_stream(&content_key, &nonce_prefix, input, &mut out)?;
            let (size, sha) = out.finish().map_err(io_at("writing", &sealed.path))?;
            progress.finish_phase();
            let key = bk.bytes().map_err(|e| PublishError::Invalid {
                what: "bundle key",
                reason: e.to_string(),
            })?;
            let wrapped =
                crypto::wrap_content_key(&key, &content_key, &crypto::random_bytes::<12>());
            let enc = Encryption {
                alg: crypto::STREAM_ALG.to_string(),
                key_id: bk.key_id.clone(),
                wrapped_key: B64.encode(wrapped),
                nonce_prefix: hex::encode(nonce_prefix),
            };
            drop(zip_tmp);
            (sealed, size, sha, Some(enc), Some(content_key))
        }
    };
    let ext = if encryption.is_some() {
        SEALED_EXT
    } else {
        PLAIN_EXT
    };
    let bundle_name = format!("{object_sha}.{ext}");
    let bundle_path = bundles_dir.join(&bundle_name);
    object_tmp.persist(&bundle_path)?;

    // 3. Per-file delta objects, each checked against the hash that went into the zip.
    progress.phase("delta files", total_bytes);
    let mut written = std::collections::HashSet::new();
    for (src, entry) in sources.iter().zip(&files) {
        if written.insert(entry.sha256.clone()) {
            write_delta_object(src, entry, content_key.as_ref(), &delta_dir, progress)?;
        } else {
            progress.advance(entry.size);
        }
    }
    progress.finish_phase();
    fsync_dir(&delta_dir)?;

    // 4. Manifest, signature, and the two envelope files (release first, channel last).
    let manifest = Manifest {
        format: FORMAT_VERSION,
        app_id: opts.app_id.to_string(),
        channel: channel.to_string(),
        sequence: opts.sequence,
        version: opts.version.to_string(),
        issued_at: opts.now,
        expires_at: opts.now.saturating_add(opts.expires_in),
        native: opts.native.clone(),
        platforms: opts.platforms.clone(),
        bundle: BundleObject {
            url: format!("../bundles/{bundle_name}"),
            size: object_size,
            sha256: object_sha,
            encryption,
        },
        files,
        delta: Some(Delta {
            url: format!("../{delta_rel}"),
        }),
        rollout: opts.rollout,
        incident: opts.incident.clone(),
    };
    let (envelope, env_bytes) = sign(&manifest, opts.signing_key)?;
    write_file_atomic(&release_path, &env_bytes, 0o644)?;
    write_file_atomic(&channel_path, &env_bytes, 0o644)?;
    Ok(Packed {
        manifest,
        envelope,
        bundle_path,
        delta_dir,
        delta_objects: written.len(),
        release_path,
        channel_path,
    })
}

/// Signs `manifest` into an envelope and the bytes of its file (pretty JSON and a newline),
/// after checking the format's field rules: never sign what a device would refuse to parse.
fn sign(manifest: &Manifest, key: &SigningKey) -> Result<(Envelope, Vec<u8>), PublishError> {
    manifest
        .check_constraints()
        .map_err(|e| PublishError::Invalid {
            what: "manifest",
            reason: e.to_string(),
        })?;
    let envelope = release::sign_envelope(&release::manifest_bytes(manifest), key);
    let mut bytes = serde_json::to_vec_pretty(&envelope).expect("envelope serializes");
    bytes.push(b'\n');
    Ok((envelope, bytes))
}

/// The sequence in `channels/<ch>.json`, if the channel has been published. The signature is not
/// checked here (the publisher may be rotating keys); an unreadable file is an error rather than
/// a reason to overwrite it.
pub fn published_sequence(channel_path: &Path) -> Result<Option<u64>, PublishError> {
    let bytes = match fs::read(channel_path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at("reading", channel_path)(e)),
    };
    let bad = |reason: String| PublishError::UnreadableChannel {
        path: channel_path.to_path_buf(),
        reason,
    };
    let env: release::Envelope =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a DSSE envelope: {e}")))?;
    let payload = B64
        .decode(&env.payload)
        .map_err(|e| bad(format!("payload is not base64: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&payload)
        .map_err(|e| bad(format!("payload is not a manifest: {e}")))?;
    Ok(Some(manifest.sequence))
}

/// Lists the regular files under `root`, sorted by relative path bytes. Refuses symlinks, special
/// files and non-UTF-8 names, and requires `index.html` at the top.
fn walk_webdir(root: &Path) -> Result<Vec<SourceFile>, PublishError> {
    let meta = fs::metadata(root).map_err(io_at("reading web folder", root))?;
    if !meta.is_dir() {
        return Err(PublishError::Invalid {
            what: "web folder",
            reason: format!("{}: not a folder", root.display()),
        });
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = entry.map_err(|e| io_at("walking", root)(e.into()))?;
        let ft = entry.file_type();
        let path = entry.path();
        if ft.is_symlink() {
            return Err(PublishError::Symlink { path: path.into() });
        }
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(PublishError::SpecialFile { path: path.into() });
        }
        let rel = path
            .strip_prefix(root)
            .expect("walkdir yields paths under root");
        let mut parts = Vec::new();
        for c in rel.components() {
            match c.as_os_str().to_str() {
                Some(s) => parts.push(s),
                None => {
                    return Err(PublishError::Invalid {
                        what: "file name",
                        reason: format!("{}: not UTF-8", path.display()),
                    })
                }
            }
        }
        out.push(SourceFile {
            rel: parts.join("/"),
            abs: path.to_path_buf(),
        });
    }
    out.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    if !out.iter().any(|f| f.rel == "index.html") {
        return Err(PublishError::NoIndex(root.into()));
    }
    Ok(out)
}

/// Writes the deterministic zip of `sources` into `out`, returning the signed file list.
fn write_zip(
    sources: &[SourceFile],
    out: &TempFile,
    progress: &dyn Progress,
) -> Result<Vec<FileEntry>, PublishError> {
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(ZIP_COMPRESSION_LEVEL))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
        .large_file(false);
    let mut zip = zip::ZipWriter::new(BufWriter::new(out.file()?));
    let mut files = Vec::with_capacity(sources.len());
    for src in sources {
        let f = File::open(&src.abs).map_err(io_at("opening", &src.abs))?;
        zip.start_file(src.rel.as_str(), opts)?;
        let mut reader = HashReader::new(Counted { inner: f, progress });
        io::copy(&mut reader, &mut zip).map_err(io_at("zipping", &src.abs))?;
        let (size, sha256) = reader.finish();
        files.push(FileEntry {
            path: src.rel.clone(),
            size,
            sha256,
        });
    }
    let buf = zip.finish()?;
    let file = buf
        .into_inner()
        .map_err(|e| io_at("writing", &out.path)(e.into_error()))?;
    file.sync_all().map_err(io_at("syncing", &out.path))?;
    Ok(files)
}

/// Writes one delta object (`files/<ch>/<seq>/<sha256>`): the file's bytes, sealed with its
/// per-file key when the release is encrypted. Fails if the file changed since it was zipped.
fn write_delta_object(
    src: &SourceFile,
    entry: &FileEntry,
    content_key: Option<&crypto::Key>,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(), PublishError> {
    let f = File::open(&src.abs).map_err(io_at("opening", &src.abs))?;
    let tmp = TempFile::new_in(dir)?;
    let mut reader = HashReader::new(Counted {
        inner: BufReader::new(f),
        progress,
    });
    let out_file = tmp.file()?;
    let mut out = BufWriter::new(&out_file);
    match content_key {
        Some(ck) => {
            let sha: [u8; 32] = hex::decode(&entry.sha256)
                .expect("sha256 is hex we produced")
                .try_into()
                .expect("32 bytes");
            let key = crypto::file_key(ck, &sha);
            crypto::seal_stream(&key, &crypto::FILE_NONCE_PREFIX, &mut reader, &mut out)?;
        }
        None => {
            io::copy(&mut reader, &mut out).map_err(io_at("copying", &src.abs))?;
        }
    }
    out.flush().map_err(io_at("writing", &tmp.path))?;
    drop(out);
    let (size, sha) = reader.finish();
    if size != entry.size || sha != entry.sha256 {
        return Err(PublishError::ChangedWhilePacking {
            path: src.abs.clone(),
        });
    }
    tmp.persist(&dir.join(&entry.sha256))
}

/// A scratch file next to its destination, removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    persisted: std::cell::Cell<bool>,
}

impl TempFile {
    fn new_in(dir: &Path) -> Result<TempFile, PublishError> {
        let path = dir.join(format!(".tmp.{}", hex::encode(crypto::random_bytes::<8>())));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_at("creating", &path))?;
        Ok(TempFile {
            path,
            persisted: std::cell::Cell::new(false),
        })
    }

    fn file(&self) -> Result<File, PublishError> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(io_at("opening", &self.path))
    }

    /// fsync, mode 0644 (the repository is served as-is), rename, fsync of the folder.
    fn persist(self, dest: &Path) -> Result<(), PublishError> {
        let f = self.file()?;
        f.sync_all().map_err(io_at("syncing", &self.path))?;
        set_mode(&f, 0o644, &self.path)?;
        fs::rename(&self.path, dest).map_err(io_at("renaming into place", dest))?;
        self.persisted.set(true);
        fsync_dir(dest.parent().expect("objects live in a folder"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted.get() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn set_mode(f: &File, mode: u32, path: &Path) -> Result<(), PublishError> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_at("setting permissions of", path))
}

#[cfg(not(unix))]
fn set_mode(_f: &File, _mode: u32, _path: &Path) -> Result<(), PublishError> {
    Ok(())
}

/// [`crate::fs::sync_dir`] with the publisher's error.
fn fsync_dir(dir: &Path) -> Result<(), PublishError> {
    Ok(crate::fs::sync_dir(dir)?)
}

/// Writes `bytes` to `path` atomically with `mode` ([`crate::fs::write_atomic`] with the
/// publisher's error).
pub fn write_file_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PublishError> {
    Ok(crate::fs::write_atomic(path, bytes, mode)?)
}
