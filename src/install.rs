//! Crash-proof install of a verified release from a local bundle object.
//!
//! Order of durable steps (each idempotent; a kill between any two leaves the old state or the
//! new, and the leftovers are removed at the next `Store::open`):
//! 1. disk space checked, object size and SHA-256 checked against the signed manifest (the
//!    digest the download computed while streaming, [`VerifiedObject`]; a local object is read
//!    once for it);
//! 2. object opened (decrypted) into `staging/<id>.<nonce>/bundle.zip` ([`open_object`], the one
//!    decryption path, which `liveship verify` uses too);
//! 3. zip extracted with budgets into `staging/.../tree`, every file checked against the signed
//!    list, files and directories fsynced (`unpack::extract_verified`);
//! 4. envelope written next to it and fsynced;
//! 5. `tree` renamed to `bundles/<id>` (failpoint `install.tree_renamed`), envelope to `bundles/<id>.envelope.json`, `bundles/`
//!    fsynced (until the transaction below commits, these are unknown to the database: leftovers);
//! 6. one transaction records the bundle, makes it `next` and raises the channel's high-water mark;
//! 7. the envelope is copied to `floors/<channel>.envelope.json` (temp, fsync, rename), the floor
//!    a lost database is rebuilt from even after retention deleted the bundle.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::crypto::{self, CryptoError, Side};
use crate::delta::Assembled;
use crate::fetch::VerifiedObject;
use crate::fs::{io, remove_any, sync_dir};
use crate::release::{BundleKey, Manifest, VerifiedRelease};
use crate::store::{self, BundleRow, BundleStatus, Store, StoreError};
use crate::unpack::{self, Budgets, UnpackError};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("another install is running (install lock held)")]
    Busy,
    #[error("not enough free space: need {needed} bytes, {available} available")]
    InsufficientSpace { needed: u64, available: u64 },
    #[error("bundle object is {got} bytes, the manifest signs {expected}")]
    ObjectSize { expected: u64, got: u64 },
    #[error("bundle object SHA-256 is {got}, the manifest signs {expected}")]
    ObjectHash { expected: String, got: String },
    #[error("bundle is encrypted with bundle key {key_id}, which this app does not have")]
    MissingBundleKey { key_id: String },
    #[error("unsupported encryption {alg:?}")]
    UnsupportedEncryption { alg: String },
    #[error("manifest encryption field {field} is malformed")]
    MalformedEncryption { field: &'static str },
    #[error("bundle does not decrypt: {0}")]
    Decrypt(#[from] CryptoError),
    #[error("bundle content rejected: {0}")]
    Unpack(#[from] UnpackError),
    #[error("release sequence {got} is not newer than {have} on channel {channel}")]
    NotNewer {
        channel: String,
        got: u64,
        have: u64,
    },
    #[error("release content {content_id} is blocklisted: {reason}")]
    Blocklisted { content_id: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// File errors count as storage errors (the store's data directory is where they happen).
impl From<crate::fs::IoError> for InstallError {
    fn from(e: crate::fs::IoError) -> Self {
        InstallError::Store(StoreError::Io(e))
    }
}

/// A bundle id: the first 16 hex digits of the release's content id (same content, same id).
pub fn bundle_id(manifest: &Manifest) -> String {
    manifest.content_id()[..16].to_string()
}

/// Checks a measured object against the signed size and SHA-256: a comparison of the digest
/// computed while the object was streamed to disk ([`Fetcher::download`]) or read once
/// ([`measure_object`]); the file is not read again.
///
/// [`Fetcher::download`]: crate::fetch::Fetcher::download
pub fn check_object(object: &VerifiedObject, manifest: &Manifest) -> Result<(), InstallError> {
    if object.size() != manifest.bundle.size {
        return Err(InstallError::ObjectSize {
            expected: manifest.bundle.size,
            got: object.size(),
        });
    }
    if !object
        .sha256()
        .eq_ignore_ascii_case(&manifest.bundle.sha256)
    {
        return Err(InstallError::ObjectHash {
            expected: manifest.bundle.sha256.clone(),
            got: object.sha256().to_string(),
        });
    }
    Ok(())
}

/// Size and SHA-256 of a local object that did not come through the streaming download (the
/// updater's `install_from_file`), read once.
pub fn measure_object(path: &Path) -> Result<VerifiedObject, InstallError> {
    Ok(VerifiedObject::measure(path).map_err(StoreError::from)?)
}

/// Unwraps the content key of an encrypted manifest with the app's bundle keys.
pub fn content_key(
    manifest: &Manifest,
    keys: &[BundleKey],
) -> Result<Option<crypto::Key>, InstallError> {
    Ok(sealing(manifest, keys)?.map(|s| s.content_key))
}

/// The key a sealed bundle object opens with, and where it came from.
pub struct Sealing {
    /// Id of the app's bundle key that unwrapped the content key.
    pub key_id: String,
    pub content_key: crypto::Key,
    pub nonce_prefix: [u8; crypto::NONCE_PREFIX_SIZE],
}

/// How the object of `manifest` opens: `None` when it is not encrypted, else the content key
/// unwrapped with the app's bundle key named by the manifest, and the STREAM nonce prefix.
pub fn sealing(manifest: &Manifest, keys: &[BundleKey]) -> Result<Option<Sealing>, InstallError> {
    let Some(enc) = &manifest.bundle.encryption else {
        return Ok(None);
    };
    if enc.alg != crypto::STREAM_ALG {
        return Err(InstallError::UnsupportedEncryption {
            alg: enc.alg.clone(),
        });
    }
    let missing = || InstallError::MissingBundleKey {
        key_id: enc.key_id.clone(),
    };
    let key = keys
        .iter()
        .find(|k| k.key_id == enc.key_id)
        .ok_or_else(missing)?;
    let key = key.bytes().map_err(|_| missing())?;
    use base64::Engine;
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(&enc.wrapped_key)
        .map_err(|_| InstallError::MalformedEncryption {
            field: "wrapped_key",
        })?;
    let content_key = crypto::unwrap_content_key(&key, &wrapped)?;
    let nonce_prefix = hex::decode(&enc.nonce_prefix)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(InstallError::MalformedEncryption {
            field: "nonce_prefix",
        })?;
    Ok(Some(Sealing {
        key_id: enc.key_id.clone(),
        content_key,
        nonce_prefix,
    }))
}

/// A bundle object opened into its zip.
pub struct Opened {
    /// The zip to extract: the object itself when it is not encrypted.
    pub zip: PathBuf,
    /// How it was sealed, and the plaintext bytes written; `None` when not encrypted.
    pub sealed: Option<(Sealing, u64)>,
}

/// Opens (decrypts) the bundle object of `m` into `scratch/bundle.zip`, every segment
/// authenticated before a byte of it is written; an unencrypted object is its own zip. The one
/// decryption path: the device's install and `liveship verify` both open bundles here.
pub fn open_object(
    object: &Path,
    m: &Manifest,
    keys: &[BundleKey],
    scratch: &Path,
) -> Result<Opened, InstallError> {
    let Some(sealing) = sealing(m, keys)? else {
        return Ok(Opened {
            zip: object.to_path_buf(),
            sealed: None,
        });
    };
    let zip = scratch.join("bundle.zip");
    let input = File::open(object).map_err(io("opening", object))?;
    let out = File::create(&zip).map_err(io("creating", &zip))?;
    let mut out = BufWriter::new(out);
    let written = crypto::open_stream(&sealing.content_key, &sealing.nonce_prefix, input, &mut out)
        .map_err(|e| match e {
            // Name the file and give the ENOSPC hint: running out of space is the likely
            // cause, and the user can act on it.
            CryptoError::Io { op, side, error } => {
                let path = match side {
                    Side::Input => object,
                    Side::Output => &zip,
                };
                io(op, path)(error).into()
            }
            e => InstallError::Decrypt(e),
        })?;
    out.flush().map_err(io("writing", &zip))?;
    Ok(Opened {
        zip,
        sealed: Some((sealing, written)),
    })
}

/// Bytes an install of `manifest` needs free: the decrypted zip plus the extracted files, plus
/// a margin for the database and file system overhead.
pub fn space_needed(manifest: &Manifest) -> u64 {
    // Signed sizes are any u64: saturate, so a huge one asks for "more than any disk", never
    // wraps into a small figure that passes the free-space check.
    let files = manifest
        .files
        .iter()
        .fold(0u64, |sum, f| sum.saturating_add(f.size));
    let zip = if manifest.bundle.encryption.is_some() {
        manifest.bundle.size
    } else {
        0
    };
    files
        .saturating_add(zip)
        .saturating_add(4 * 1024 * 1024)
        .saturating_add((manifest.files.len() as u64).saturating_mul(4096))
}

/// Builds the verified tree of `m` at `tree` from a local bundle object that did not come
/// through the streaming download: measures it once, then as [`build_from_download`].
pub fn build_from_object(
    staging: &Path,
    tree: &Path,
    object: &Path,
    m: &Manifest,
    keys: &[BundleKey],
    budgets: &Budgets,
) -> Result<(), InstallError> {
    build_from_download(staging, tree, &measure_object(object)?, m, keys, budgets)
}

/// Builds the verified tree of `m` at `tree` from its bundle object: checks the object's
/// measured size and SHA-256 against the manifest, opens (decrypts) it into
/// `staging/bundle.zip` when sealed, and extracts it with budgets, every file checked against
/// the signed list and fsynced. Needs no store access, so a caller can run it without holding
/// the state.
pub fn build_from_download(
    staging: &Path,
    tree: &Path,
    object: &VerifiedObject,
    m: &Manifest,
    keys: &[BundleKey],
    budgets: &Budgets,
) -> Result<(), InstallError> {
    check_object(object, m)?;
    let opened = open_object(object.path(), m, keys, staging)?;
    fail::fail_point!("install.decrypted");
    unpack::extract_verified(&opened.zip, &m.files, tree, budgets)?;
    Ok(())
}

/// Moves a delta's assembled tree to `tree` (inside the install's staging directory). Its files
/// were each hashed against the signed list as they were written, so they are not read again:
/// only the listing is checked (no extra file, none missing, no symlink). A tree assembled for
/// another release's list is checked in full.
pub fn adopt_assembled(
    assembled: &Assembled,
    tree: &Path,
    m: &Manifest,
) -> Result<(), InstallError> {
    fs::rename(assembled.tree(), tree).map_err(io("moving", assembled.tree()))?;
    if assembled.content_id() == m.content_id() {
        unpack::check_listing(tree, &m.files)?;
    } else {
        unpack::check_dir(tree, &m.files)?;
    }
    Ok(())
}

/// What an installed bundle becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The production line's `next`: tried at the next launch.
    Next,
    /// A preview (`startPreviewSession`): beside the production line, which it never touches.
    Preview,
}

/// An install in progress: holds the install lock (so no other process installs or cleans
/// staging meanwhile) and owns its staging directory, removed when this is dropped.
pub struct Staging {
    _lock: store::InstallLock,
    id: String,
    /// What the bundle becomes once committed.
    pub role: Role,
    /// Scratch directory of this install.
    pub dir: PathBuf,
    /// Where the verified tree must be built.
    pub tree: PathBuf,
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Scratch space either way; a failure to remove it is cleaned at the next open.
        let _ = remove_any(&self.dir);
    }
}

/// First step of an install: takes the install lock, checks the invariants (sequence above the
/// high-water mark, content not blocklisted) and free space, and creates the staging directory.
/// The tree is then built without the store ([`build_from_download`], [`build_from_object`] or
/// [`adopt_assembled`]), and [`finish`] publishes it.
pub fn begin(store: &mut Store, m: &Manifest) -> Result<Staging, InstallError> {
    let lock = store.try_install_lock()?.ok_or(InstallError::Busy)?;
    let id = bundle_id(m);
    check_invariants(store.read(), m)?;

    let available =
        fs4::available_space(store.root()).map_err(io("measuring free space in", store.root()))?;
    let needed = space_needed(m);
    if available < needed {
        return Err(InstallError::InsufficientSpace { needed, available });
    }

    let dir = store
        .staging_dir()
        .join(format!("{id}.{}", hex::encode(crypto::random_bytes::<4>())));
    fs::create_dir(&dir).map_err(io("creating", &dir))?;
    fail::fail_point!("install.staging_created");
    let tree = dir.join("tree");
    Ok(Staging {
        _lock: lock,
        id,
        role: Role::Next,
        dir,
        tree,
    })
}

/// Last step of an install: renames the built tree into `bundles/<id>` and commits it as `next`
/// (the invariants are checked again inside the transaction). Returns the bundle id.
pub fn finish(
    store: &mut Store,
    staging: Staging,
    release: &VerifiedRelease,
    envelope: &[u8],
) -> Result<String, InstallError> {
    fail::fail_point!("install.extracted");
    publish(
        store,
        release,
        envelope,
        &staging.id,
        staging.role,
        &staging.dir,
        &staging.tree,
    )?;
    Ok(staging.id.clone())
}

fn check_invariants(conn: &rusqlite::Connection, m: &Manifest) -> Result<(), InstallError> {
    if let Some(have) = store::high_water(conn, &m.channel)? {
        if m.sequence <= have {
            return Err(InstallError::NotNewer {
                channel: m.channel.clone(),
                got: m.sequence,
                have,
            });
        }
    }
    let content_id = m.content_id();
    if let Some(reason) = store::blocked(conn, &content_id)? {
        return Err(InstallError::Blocklisted { content_id, reason });
    }
    Ok(())
}

/// Renames the verified tree into `bundles/<id>` and commits it as `next`.
fn publish(
    store: &mut Store,
    release: &VerifiedRelease,
    envelope: &[u8],
    id: &str,
    role: Role,
    staging: &Path,
    tree: &Path,
) -> Result<(), InstallError> {
    let m = &release.manifest;
    let env_tmp = staging.join("envelope.json");
    crate::fs::write_synced(&env_tmp, envelope).map_err(StoreError::from)?;

    let dest = store.bundle_dir(id);
    let env_dest = store.envelope_path(id);
    let known = store::bundle(store.read(), id)?;
    let reuse = matches!(&known, Some(b) if b.status == BundleStatus::Ready) && dest.is_dir();
    if !reuse {
        // A directory the database does not know, or knows as failed, is not trusted content.
        remove_any(&dest)?;
        fs::rename(tree, &dest).map_err(io("publishing", &dest))?;
    }
    fail::fail_point!("install.tree_renamed");
    fs::rename(&env_tmp, &env_dest).map_err(io("publishing", &env_dest))?;
    sync_dir(&store.bundles_dir())?;
    fail::fail_point!("install.renamed");

    store.write(|tx| -> Result<(), InstallError> {
        // Checked again inside the write lock: another process may have moved on meanwhile.
        check_invariants(tx, m)?;
        let row = BundleRow {
            id: id.to_string(),
            content_id: m.content_id(),
            channel: m.channel.clone(),
            sequence: m.sequence,
            version: m.version.clone(),
            status: BundleStatus::Ready,
            failed_reason: None,
            // The same second as the `installed` history row below.
            installed_at: tx.now(),
            manifest: release.payload.clone(),
        };
        store::insert_bundle(tx, &row)?;
        if role == Role::Next {
            let mut roles = store::roles(tx)?;
            // Content that already serves (as current or on trial) is not queued to run again.
            roles.next =
                if roles.current.as_deref() == Some(id) || roles.trial.as_deref() == Some(id) {
                    None
                } else {
                    Some(id.to_string())
                };
            store::set_roles(tx, &roles)?;
        } else {
            store::add_preview_bundle(tx, id, &m.channel, tx.now())?;
        }
        store::raise_high_water(tx, &m.channel, m.sequence)?;
        let what = if role == Role::Next {
            "next"
        } else {
            "a preview"
        };
        store::add_history(
            tx,
            "installed",
            Some(id),
            &format!("{} installed as {what}", m.label()),
        )?;
        Ok(())
    })?;
    fail::fail_point!("install.committed");
    // After the commit, so a release that never committed does not raise the floor. A kill
    // before this line leaves the older floor; the new envelope is next to its bundle anyway.
    // Best effort: the install itself is durable already, and the database holds the mark.
    if let Err(e) = store.record_floor(&m.channel, envelope) {
        log::warn!("recording the anti-rollback floor of {}: {e}", m.channel);
    }
    Ok(())
}
