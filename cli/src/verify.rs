//! `liveship verify`: checks a published release the way a device would, from the envelope down
//! to every unpacked file and every delta object, without installing anything.
//!
//! Guarantees: the checks run in the device's order (signature by a pinned key allowed for the
//! channel, expiry, object size, object SHA-256, content-key unwrap, authenticated decryption,
//! extraction against the signed file list, delta objects), the first failure stops the run and
//! is reported naming the check and the release, and nothing is written outside a temporary
//! folder that is removed on exit.

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use liveship::clock::{Clock, SystemClock};
use liveship::crypto::{self, CryptoError};
use liveship::delta::{self, DeltaError};
use liveship::fetch::VerifiedObject;
use liveship::install::{self, InstallError};
use liveship::policy::{self, Refusal};
use liveship::release::{self, BundleKey, Manifest, ReleaseError};
use liveship::unpack::{self, Budgets, UnpackError};

use crate::keys;
use liveship::crypto::{HashReader, HashWriter};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The envelope to check, e.g. REPO/channels/production.json
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Pinned public key file (signing.pub)
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub public_key: Option<PathBuf>,
    /// App config with `publicKeys` (and optionally `bundleKeys`), e.g. liveship.config.json
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bundle key file (bundle.key) for encrypted releases; default: $LIVESHIP_BUNDLE_KEY
    #[arg(long, value_name = "FILE")]
    pub bundle_key: Option<PathBuf>,
    /// Check expiry as if the time were UNIX_SECS (for tests)
    #[arg(long, value_name = "UNIX_SECS", hide = true)]
    pub now: Option<u64>,
}

/// Which check failed. Each message names the check first.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("envelope check: {0}")]
    Envelope(ReleaseError),
    #[error("expiry check: {0}")]
    Expired(Refusal),
    #[error(
        "bundle url {url:?} is not relative to the manifest; verify checks local repositories only"
    )]
    NotLocal { url: String },
    #[error("bundle missing: cannot open {path}: {source}")]
    BundleMissing {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("bundle size mismatch: manifest says {expected} bytes, {path} has {actual}")]
    BundleSize {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("bundle sha256 mismatch: manifest says {expected}, {path} hashes to {actual}")]
    BundleSha {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error(
        "unsupported encryption {alg:?} (this build reads {})",
        crypto::STREAM_ALG
    )]
    UnsupportedAlg { alg: String },
    #[error("encryption parameters malformed: {field}")]
    EncryptionParams { field: &'static str },
    #[error("missing bundle key: the bundle is encrypted under bundle key {key_id}; pass --bundle-key FILE, set {}, or give --config with bundleKeys", keys::BUNDLE_KEY_ENV)]
    BundleKeyMissing { key_id: String },
    #[error(
        "wrong bundle key: the bundle is encrypted under bundle key {wanted}, given {given:?}"
    )]
    BundleKeyMismatch { wanted: String, given: Vec<String> },
    #[error("content key unwrap failed: {0}")]
    Unwrap(CryptoError),
    #[error("bundle decryption failed: {0}")]
    Decrypt(CryptoError),
    /// Opening the bundle failed otherwise (I/O while decrypting: the path and hint are in it).
    #[error("bundle decryption failed: {0}")]
    Open(InstallError),
    #[error("bundle contents check failed: {0}")]
    Unpack(UnpackError),
    #[error("delta object missing: {path}: {source}")]
    DeltaMissing {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("delta object {path} does not open: {source}")]
    DeltaDecrypt {
        path: PathBuf,
        #[source]
        source: CryptoError,
    },
    #[error("delta object mismatch: {path} holds {actual_size} bytes with sha256 {actual_sha}, signed list says {expected_size} bytes with sha256 {expected_sha}")]
    DeltaMismatch {
        path: PathBuf,
        expected_size: u64,
        expected_sha: String,
        actual_size: u64,
        actual_sha: String,
    },
    #[error("i/o error while {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> VerifyError {
    let path = path.to_path_buf();
    move |source| VerifyError::Io { op, path, source }
}

pub fn run(args: Args) -> Result<()> {
    let keys::AppKeys {
        public_keys: pinned,
        mut bundle_keys,
    } = keys::load_pinned(args.public_key.as_slice(), args.config.as_deref())?;
    if let Some(k) = keys::load_bundle_key(args.bundle_key.as_deref())? {
        bundle_keys.insert(0, k);
    }
    let now = args.now.unwrap_or_else(|| SystemClock.now());

    let bytes = fs::File::open(&args.manifest)
        .and_then(release::read_envelope)
        .with_context(|| format!("reading manifest {}", args.manifest.display()))?;
    let verified = release::verify_envelope(&bytes, &pinned).map_err(|e| {
        anyhow::anyhow!(
            "verify failed: {}: {}",
            args.manifest.display(),
            VerifyError::Envelope(e)
        )
    })?;
    let label = verified.manifest.label();
    let report = check_release(&args.manifest, &verified, &bundle_keys, now)
        .map_err(|e| anyhow::anyhow!("verify failed: {label}: {e}"))?;

    println!("verified {label} for app {}", verified.manifest.app_id);
    for line in report {
        println!("  ok  {line}");
    }
    Ok(())
}

/// Runs every check after the signature; returns one line per passed check.
fn check_release(
    manifest_path: &Path,
    verified: &release::VerifiedRelease,
    bundle_keys: &[BundleKey],
    now: u64,
) -> Result<Vec<String>, VerifyError> {
    let m: &Manifest = &verified.manifest;
    let mut report = vec![format!(
        "signature by pinned key {} (allowed for channel {})",
        verified.key_id, m.channel
    )];

    policy::check_expiry(m, now).map_err(VerifyError::Expired)?;
    report.push(format!(
        "not expired (expires at {}, {})",
        m.expires_at,
        if m.expires_at >= now {
            format!("in {} days", (m.expires_at - now) / 86_400)
        } else {
            "within the clock-skew allowance".to_string()
        }
    ));

    let base = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let bundle_path = resolve(base, &m.bundle.url)?;
    fs::metadata(&bundle_path).map_err(|source| VerifyError::BundleMissing {
        path: bundle_path.clone(),
        source,
    })?;
    // The device's object check: size and SHA-256 measured in one read, compared with the
    // signed manifest.
    let object = VerifiedObject::measure(&bundle_path).map_err(|e| VerifyError::Io {
        op: e.op,
        path: e.path,
        source: e.error,
    })?;
    install::check_object(&object, m).map_err(|e| match e {
        InstallError::ObjectSize { expected, got } => VerifyError::BundleSize {
            path: bundle_path.clone(),
            expected,
            actual: got,
        },
        InstallError::ObjectHash { expected, got } => VerifyError::BundleSha {
            path: bundle_path.clone(),
            expected,
            actual: got,
        },
        e => VerifyError::Open(e),
    })?;
    let (actual_size, actual_sha) = (object.size(), object.sha256());
    report.push(format!(
        "bundle {}: {} bytes, sha256 {}",
        bundle_path.display(),
        actual_size,
        actual_sha
    ));

    let tmp = tempfile::tempdir().map_err(io_err("creating a temp folder in", Path::new(".")))?;
    let opened = install::open_object(&bundle_path, m, bundle_keys, tmp.path())
        .map_err(|e| open_error(e, bundle_keys))?;
    let content_key = match &opened.sealed {
        None => {
            report.push("bundle is not encrypted".to_string());
            None
        }
        Some((sealing, n)) => {
            report.push(format!(
                "decrypted with bundle key {} ({} bytes of zip, every segment authenticated)",
                sealing.key_id, n
            ));
            Some(sealing.content_key)
        }
    };
    let zip_path = opened.zip;

    let dest = tmp.path().join("x");
    let extracted = unpack::extract_verified(&zip_path, &m.files, &dest, &Budgets::default())
        .map_err(VerifyError::Unpack)?;
    report.push(format!(
        "unpacked {} files ({} bytes), each matches the signed list (content id {})",
        extracted.files,
        extracted.bytes,
        m.content_id()
    ));

    if let Some(delta) = &m.delta {
        let dir = resolve(base, &delta.url)?;
        let mut seen = std::collections::HashSet::new();
        for f in &m.files {
            if seen.insert(f.sha256.as_str()) {
                check_delta_object(&dir.join(&f.sha256), f, content_key.as_ref())?;
            }
        }
        report.push(format!(
            "delta objects: {} in {}, each opens to its signed size and sha256",
            seen.len(),
            dir.display()
        ));
    }
    Ok(report)
}

/// Names the check that opening the bundle failed, in verify's words.
fn open_error(e: InstallError, bundle_keys: &[BundleKey]) -> VerifyError {
    match e {
        InstallError::UnsupportedEncryption { alg } => VerifyError::UnsupportedAlg { alg },
        InstallError::MissingBundleKey { key_id } if bundle_keys.is_empty() => {
            VerifyError::BundleKeyMissing { key_id }
        }
        InstallError::MissingBundleKey { key_id } => VerifyError::BundleKeyMismatch {
            wanted: key_id,
            given: bundle_keys.iter().map(|k| k.key_id.clone()).collect(),
        },
        InstallError::MalformedEncryption { field } => VerifyError::EncryptionParams { field },
        InstallError::Decrypt(
            e @ (CryptoError::UnwrapFailed { .. } | CryptoError::WrappedKeyLength { .. }),
        ) => VerifyError::Unwrap(e),
        InstallError::Decrypt(e) => VerifyError::Decrypt(e),
        e => VerifyError::Open(e),
    }
}

/// Resolves a manifest-relative URL to a local path.
fn resolve(base: &Path, url: &str) -> Result<PathBuf, VerifyError> {
    if url.contains("://") || url.starts_with('/') {
        return Err(VerifyError::NotLocal {
            url: url.to_string(),
        });
    }
    // Lexical: `channels/../bundles/x` reads better as `bundles/x` in reports.
    let mut out = base.to_path_buf();
    for part in url.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." && out.file_name().is_some() {
            out.pop();
        } else {
            out.push(part);
        }
    }
    Ok(out)
}

fn hash_file(path: &Path) -> Result<(u64, String), VerifyError> {
    let f = File::open(path).map_err(io_err("opening", path))?;
    let mut r = HashReader::new(BufReader::new(f));
    io::copy(&mut r, &mut io::sink()).map_err(io_err("reading", path))?;
    Ok(r.finish())
}

fn check_delta_object(
    path: &Path,
    entry: &release::FileEntry,
    content_key: Option<&crypto::Key>,
) -> Result<(), VerifyError> {
    let f = File::open(path).map_err(|source| VerifyError::DeltaMissing {
        path: path.to_path_buf(),
        source,
    })?;
    let (size, sha) = match content_key {
        None => hash_file(path)?,
        Some(ck) => {
            let mut sink = HashWriter::new(io::sink());
            delta::open_file_object(ck, entry, BufReader::new(f), &mut sink).map_err(
                |e| match e {
                    DeltaError::Decrypt { source, .. } => VerifyError::DeltaDecrypt {
                        path: path.to_path_buf(),
                        source,
                    },
                    // The other outcome: a signed SHA-256 that is not 32 hex bytes.
                    _ => VerifyError::EncryptionParams {
                        field: "files[].sha256",
                    },
                },
            )?;
            sink.finish().map_err(io_err("hashing", path))?
        }
    };
    if size != entry.size || sha != entry.sha256 {
        return Err(VerifyError::DeltaMismatch {
            path: path.to_path_buf(),
            expected_size: entry.size,
            expected_sha: entry.sha256.clone(),
            actual_size: size,
            actual_sha: sha,
        });
    }
    Ok(())
}
