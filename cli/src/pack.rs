//! `liveship pack`: turns a built web folder into a signed (and normally encrypted) release in a
//! static repository folder that any web host can serve.
//!
//! Guarantees: the bundle zip is deterministic (entries sorted by path bytes, files only, fixed
//! timestamp, permissions and compression level), so the same folder packs to the same bytes
//! when not encrypted; symlinks and special files are refused, never followed; a sequence is
//! published only if it is greater than the channel's current one and was never used before;
//! every file lands whole (temp file in the same folder, fsync, rename, fsync of the folder),
//! objects first, then `releases/<ch>.<seq>.json`, and `channels/<ch>.json` last, so a reader
//! of the channel never sees a manifest whose objects are missing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use liveship::crypto;
use liveship::release::{
    self, BundleObject, Delta, Encryption, FileEntry, Manifest, NativeRange, FORMAT_VERSION,
};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::keys;

/// Deflate level of every zip entry. Fixed so that the same input gives the same bytes.
pub const ZIP_COMPRESSION_LEVEL: i64 = 6;
/// Extension of a plain bundle object, and of a sealed one.
pub const PLAIN_EXT: &str = "zip";
pub const SEALED_EXT: &str = "zip.sealed";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Built web folder to publish (must contain index.html)
    #[arg(value_name = "WEBDIR")]
    pub webdir: PathBuf,
    /// App id the release is for (e.g. com.example.app)
    #[arg(long, value_name = "ID")]
    pub app_id: String,
    /// Channel to publish to: [a-z0-9][a-z0-9._-]{0,63}
    #[arg(long, value_name = "CH")]
    pub channel: String,
    /// Release sequence, >= 1 and greater than the channel's current one (anti-rollback counter)
    #[arg(long, value_name = "N")]
    pub sequence: u64,
    /// Display version shown to users and in logs (free text, e.g. 1.4.0)
    #[arg(long, value_name = "V")]
    pub version: String,
    /// Signing key file (signing.key); default: $LIVESHIP_SIGNING_KEY
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Bundle key file (bundle.key) to encrypt with; default: $LIVESHIP_BUNDLE_KEY
    #[arg(long, value_name = "FILE", conflicts_with = "no_encrypt")]
    pub bundle_key: Option<PathBuf>,
    /// Publish the bundle unencrypted (it is still signed)
    #[arg(long)]
    pub no_encrypt: bool,
    /// How long devices accept this manifest: e.g. 90d, 12h, 30m, 45s
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub expires_in: String,
    /// Oldest native app version the bundle runs on
    #[arg(long, value_name = "VER")]
    pub native_min: Option<String>,
    /// Newest native app version the bundle runs on
    #[arg(long, value_name = "VER")]
    pub native_max: Option<String>,
    /// Platforms the bundle is for, comma-separated (default: all)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub platforms: Vec<String>,
    /// Percentage of devices (0-100) that take the release (default: all)
    #[arg(long, value_name = "PCT")]
    pub rollout: Option<u8>,
    /// Repository folder to publish into (channels/, releases/, bundles/, files/)
    #[arg(long, value_name = "REPO")]
    pub out: PathBuf,
}

/// Fails unless `name` is a valid channel name: `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn validate_channel(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c));
    if !ok {
        bail!("invalid channel name {name:?}: use 1-64 characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit");
    }
    Ok(())
}

/// Parses `90d`, `12h`, `30m` or `45s` into seconds.
pub fn parse_duration(text: &str) -> Result<u64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.len().saturating_sub(1));
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => bail!("invalid duration {text:?}: use a number followed by d, h, m or s (e.g. 90d)"),
    };
    let n: u64 = num.parse().ok().filter(|n| *n > 0).with_context(|| {
        format!("invalid duration {text:?}: expected a positive whole number before the unit")
    })?;
    n.checked_mul(mult)
        .with_context(|| format!("duration {text:?} is too long"))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A file of the web folder, before hashing.
struct SourceFile {
    rel: String,
    abs: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    // Inputs first: nothing is read or written before every flag is known to be usable.
    validate_channel(&args.channel)?;
    if args.sequence == 0 {
        bail!("--sequence must be at least 1");
    }
    if let Some(r) = args.rollout {
        if r > 100 {
            bail!("--rollout {r} is out of range: use a percentage from 0 to 100");
        }
    }
    if args.app_id.trim().is_empty() {
        bail!("--app-id is empty");
    }
    if args.version.trim().is_empty() {
        bail!("--version is empty");
    }
    let platforms: Vec<String> = args
        .platforms
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    for p in &platforms {
        if !p
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            bail!("invalid platform {p:?}: use lowercase names such as android, ios");
        }
    }
    let expires_in = parse_duration(&args.expires_in)?;
    let signing = keys::load_signing_key(args.signing_key.as_deref())?;
    let bundle_key = if args.no_encrypt {
        None
    } else {
        let key = keys::load_bundle_key(args.bundle_key.as_deref())?.with_context(|| {
            format!(
                "no bundle key: pass --bundle-key FILE or set {} to encrypt the bundle, \
                 or pass --no-encrypt to publish it unencrypted",
                keys::BUNDLE_KEY_ENV
            )
        })?;
        Some(key)
    };

    let repo = &args.out;
    let channel = &args.channel;
    let channel_path = repo.join("channels").join(format!("{channel}.json"));
    let release_path = repo
        .join("releases")
        .join(format!("{channel}.{}.json", args.sequence));
    if let Some(published) = published_sequence(&channel_path)? {
        if args.sequence <= published {
            bail!(
                "sequence {} is not greater than the sequence already published on channel {channel:?} \
                 ({published}, in {}); use --sequence {} or higher",
                args.sequence,
                channel_path.display(),
                published + 1
            );
        }
    }
    if release_path.exists() {
        bail!(
            "{} already exists: sequence {} was used before on channel {channel:?} and is never reused",
            release_path.display(),
            args.sequence
        );
    }

    let sources = walk_webdir(&args.webdir)?;
    let total_bytes: u64 = sources
        .iter()
        .map(|s| s.abs.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();

    let bundles_dir = repo.join("bundles");
    let delta_rel = format!("files/{channel}/{}/", args.sequence);
    let delta_dir = repo
        .join("files")
        .join(channel)
        .join(args.sequence.to_string());
    for d in [
        &bundles_dir,
        &delta_dir,
        &repo.join("releases"),
        &repo.join("channels"),
    ] {
        fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }

    // 1. Hash and zip in one read of each file.
    let pb = progress(total_bytes, "zipping");
    let mut zip_tmp = tempfile::NamedTempFile::new_in(&bundles_dir)
        .with_context(|| format!("creating a temp file in {}", bundles_dir.display()))?;
    let files = write_zip(&sources, zip_tmp.as_file_mut(), &pb)?;
    pb.finish_and_clear();

    // 2. Seal (or not), hashing the object as it is written.
    let zip_len = zip_tmp.as_file().metadata()?.len();
    let (object_tmp, object_size, object_sha, encryption, content_key) = match &bundle_key {
        None => {
            let (size, sha) = hash_file(zip_tmp.path())?;
            (zip_tmp, size, sha, None, None)
        }
        Some(bk) => {
            let pb = progress(zip_len, "encrypting");
            let content_key: crypto::Key = crypto::random_bytes();
            let nonce_prefix: [u8; crypto::NONCE_PREFIX_SIZE] = crypto::random_bytes();
            let sealed = tempfile::NamedTempFile::new_in(&bundles_dir)
                .with_context(|| format!("creating a temp file in {}", bundles_dir.display()))?;
            let mut zip_file = zip_tmp.reopen().context("reopening the bundle zip")?;
            zip_file.rewind()?;
            let mut out = HashWriter::new(BufWriter::new(sealed.as_file()));
            crypto::seal_stream(
                &content_key,
                &nonce_prefix,
                pb.wrap_read(BufReader::new(zip_file)),
                &mut out,
            )
            .context("encrypting the bundle")?;
            let (size, sha) = out.finish()?;
            pb.finish_and_clear();
            let wrapped =
                crypto::wrap_content_key(&bk.bytes()?, &content_key, &crypto::random_bytes::<12>());
            let enc = Encryption {
                alg: crypto::STREAM_ALG.to_string(),
                key_id: bk.key_id.clone(),
                wrapped_key: B64.encode(wrapped),
                nonce_prefix: hex::encode(nonce_prefix),
            };
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
    persist(object_tmp, &bundle_path)?;

    // 3. Per-file delta objects, each checked against the hash that went into the zip.
    let pb = progress(total_bytes, "delta files");
    let mut written = std::collections::HashSet::new();
    for (src, entry) in sources.iter().zip(&files) {
        if written.insert(entry.sha256.clone()) {
            write_delta_object(src, entry, content_key.as_ref(), &delta_dir, &pb)?;
        } else {
            pb.inc(entry.size);
        }
    }
    pb.finish_and_clear();
    fsync_dir(&delta_dir)?;

    // 4. Manifest, signature, and the two envelope files (release first, channel last).
    let issued_at = now_secs();
    let manifest = Manifest {
        format: FORMAT_VERSION,
        app_id: args.app_id.clone(),
        channel: channel.clone(),
        sequence: args.sequence,
        version: args.version.clone(),
        issued_at,
        expires_at: issued_at.saturating_add(expires_in),
        native: NativeRange {
            min: args.native_min.clone(),
            max: args.native_max.clone(),
        },
        platforms,
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
        rollout: args.rollout,
        incident: None,
    };
    let envelope = release::sign_envelope(&release::manifest_bytes(&manifest), &signing);
    let mut env_bytes = serde_json::to_vec_pretty(&envelope).expect("envelope serializes");
    env_bytes.push(b'\n');
    write_file_atomic(&release_path, &env_bytes, 0o644)?;
    write_file_atomic(&channel_path, &env_bytes, 0o644)?;

    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!("Packed {}", manifest.label());
    println!("  app id      {}", manifest.app_id);
    println!(
        "  files       {} ({} bytes unpacked)",
        manifest.files.len(),
        total
    );
    println!(
        "  bundle      {} bytes, {}",
        manifest.bundle.size,
        match &manifest.bundle.encryption {
            Some(e) => format!("encrypted with bundle key {}", e.key_id),
            None => "NOT encrypted".to_string(),
        }
    );
    println!(
        "  signed by   {} (expires in {}, at {})",
        envelope.signatures[0].keyid, args.expires_in, manifest.expires_at
    );
    println!("  content id  {}", manifest.content_id());
    println!("Wrote");
    println!("  {}", bundle_path.display());
    println!("  {} ({} objects)", delta_dir.display(), written.len());
    println!("  {}", release_path.display());
    println!("  {}", channel_path.display());
    Ok(())
}

/// The sequence in `channels/<ch>.json`, if the channel has been published. The signature is not
/// checked here (the publisher may be rotating keys); an unreadable file is an error rather than
/// a reason to overwrite it.
fn published_sequence(channel_path: &Path) -> Result<Option<u64>> {
    let bytes = match fs::read(channel_path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", channel_path.display())),
    };
    let bad = |detail: String| {
        anyhow::anyhow!(
            "cannot read the published sequence from {}: {detail}; refusing to overwrite it",
            channel_path.display()
        )
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
fn walk_webdir(root: &Path) -> Result<Vec<SourceFile>> {
    let meta =
        fs::metadata(root).with_context(|| format!("reading web folder {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", root.display());
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = entry.with_context(|| format!("walking {}", root.display()))?;
        let ft = entry.file_type();
        let path = entry.path();
        if ft.is_symlink() {
            bail!(
                "{} is a symbolic link: bundles contain regular files only (copy the target instead)",
                path.display()
            );
        }
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            bail!(
                "{} is not a regular file (device, socket or pipe): bundles contain regular files only",
                path.display()
            );
        }
        let rel = path
            .strip_prefix(root)
            .expect("walkdir yields paths under root");
        let mut parts = Vec::new();
        for c in rel.components() {
            match c.as_os_str().to_str() {
                Some(s) => parts.push(s),
                None => bail!("{} has a name that is not UTF-8", path.display()),
            }
        }
        out.push(SourceFile {
            rel: parts.join("/"),
            abs: path.to_path_buf(),
        });
    }
    out.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    if !out.iter().any(|f| f.rel == "index.html") {
        bail!("{} has no index.html at its top level", root.display());
    }
    Ok(out)
}

/// Writes the deterministic zip of `sources` into `out`, returning the signed file list.
fn write_zip(sources: &[SourceFile], out: &mut File, pb: &ProgressBar) -> Result<Vec<FileEntry>> {
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(ZIP_COMPRESSION_LEVEL))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
        .large_file(false);
    let mut zip = zip::ZipWriter::new(BufWriter::new(out));
    let mut files = Vec::with_capacity(sources.len());
    for src in sources {
        let f = File::open(&src.abs).with_context(|| format!("opening {}", src.abs.display()))?;
        zip.start_file(src.rel.as_str(), opts)
            .with_context(|| format!("adding {} to the bundle zip", src.rel))?;
        let mut reader = HashReader::new(pb.wrap_read(f));
        io::copy(&mut reader, &mut zip)
            .with_context(|| format!("zipping {}", src.abs.display()))?;
        let (size, sha256) = reader.finish();
        files.push(FileEntry {
            path: src.rel.clone(),
            size,
            sha256,
        });
    }
    let buf = zip.finish().context("finishing the bundle zip")?;
    let file = buf
        .into_inner()
        .map_err(|e| e.into_error())
        .context("writing the bundle zip")?;
    file.sync_all().context("syncing the bundle zip")?;
    Ok(files)
}

/// Writes one delta object (`files/<ch>/<seq>/<sha256>`): the file's bytes, sealed with its
/// per-file key when the release is encrypted. Fails if the file changed since it was zipped.
fn write_delta_object(
    src: &SourceFile,
    entry: &FileEntry,
    content_key: Option<&crypto::Key>,
    dir: &Path,
    pb: &ProgressBar,
) -> Result<()> {
    let f = File::open(&src.abs).with_context(|| format!("opening {}", src.abs.display()))?;
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temp file in {}", dir.display()))?;
    let mut reader = HashReader::new(pb.wrap_read(BufReader::new(f)));
    let mut out = BufWriter::new(tmp.as_file());
    match content_key {
        Some(ck) => {
            let sha: [u8; 32] = hex::decode(&entry.sha256)
                .expect("sha256 is hex we produced")
                .try_into()
                .expect("32 bytes");
            let key = crypto::file_key(ck, &sha);
            crypto::seal_stream(&key, &crypto::FILE_NONCE_PREFIX, &mut reader, &mut out)
                .with_context(|| format!("encrypting delta object of {}", src.rel))?;
        }
        None => {
            io::copy(&mut reader, &mut out)
                .with_context(|| format!("copying delta object of {}", src.rel))?;
        }
    }
    out.flush()
        .with_context(|| format!("writing delta object of {}", src.rel))?;
    drop(out);
    let (size, sha) = reader.finish();
    if size != entry.size || sha != entry.sha256 {
        bail!(
            "{} changed while packing (size/sha256 differ from the zipped copy); pack again",
            src.abs.display()
        );
    }
    persist(tmp, &dir.join(&entry.sha256))
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut r = HashReader::new(BufReader::new(f));
    io::copy(&mut r, &mut io::sink()).with_context(|| format!("reading {}", path.display()))?;
    Ok(r.finish())
}

/// Makes a finished temp file durable under its final name.
fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", dest.display()))?;
    // Objects are world-readable: the repository is meant to be served as-is.
    set_mode(tmp.as_file(), 0o644)?;
    tmp.persist(dest)
        .map_err(|e| e.error)
        .with_context(|| format!("renaming temp file to {}", dest.display()))?;
    fsync_dir(dest.parent().expect("objects live in a folder"))
}

#[cfg(unix)]
fn set_mode(f: &File, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(fs::Permissions::from_mode(mode))
        .context("setting file permissions")
}

#[cfg(not(unix))]
fn set_mode(_f: &File, _mode: u32) -> Result<()> {
    Ok(())
}

/// Syncs a folder so that a rename into it survives a crash.
fn fsync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing folder {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a new file created with `mode` (so a secret is never
/// readable by others, even briefly) next to the destination, fsynced, renamed over it, and the
/// folder fsynced.
pub fn write_file_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.tmp",
        hex::encode(crypto::random_bytes::<6>())
    ));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| -> Result<()> {
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A progress bar on stderr, hidden when stderr is not a terminal (CI logs stay clean).
pub fn progress(total: u64, what: &'static str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what);
    pb
}

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

/// Counts and hashes the bytes written through it.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Flushes, then returns bytes written and their lowercase hex SHA-256.
    pub fn finish(mut self) -> io::Result<(u64, String)> {
        self.inner.flush()?;
        Ok((self.len, hex::encode(self.hasher.finalize())))
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
