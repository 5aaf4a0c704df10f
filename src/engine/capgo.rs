//! Capgo mode (`updateMode: "capgo"`, docs/CAPGO.md §6): the check is Capgo's
//! ([`crate::capgo::protocol`]: the info object in, a release or a refusal out), the bundle a
//! Capgo v2 zip whose checksum is verified against `publicKey` before anything reads it as a
//! zip ([`crate::capgo::decrypt_verified`]), then listed and extracted under the same budgets
//! and installed through the same staging, roles, trial and revert as Liveship's releases.
//!
//! What Capgo's format cannot give is not pretended: there is no signed sequence or expiry, so
//! no device-side anti-rollback (the server decides the version), and no channel-scoped keys.
//! The install records a device-local sequence (one above the channel's last), so the store's
//! invariants and roles work unchanged; a version this device reverted is never downloaded
//! again, and a 429's wait is kept in the store so a restart does not check early.

use reqwest::Url;

use super::check::NoUpdate;
use super::update::{Limits, UpdatePhase, UpdateReport};
use super::{CoreError, Engine, NetError};
use crate::boot::{ResetTarget, BUILTIN};
use crate::capgo::channel::{self, ChannelInfo, Current, SetOutcome};
use crate::capgo::{self, protocol, CapgoError};
use crate::config::ConfigError;
use crate::engine::CheckResult;
use crate::events::{Event, UpdateOutcome};
use crate::release::{self, BundleObject, Manifest, VerifiedRelease};
use crate::store::{self, BundleStatus};
use crate::telemetry::{ReleaseRef, Report};
use crate::unpack::{self, Budgets};

/// What Capgo's endpoint offers this device now.
enum Offer {
    Release(protocol::Release),
    Nothing(NoUpdate),
}

/// Removes a scratch folder when dropped (best effort: a leftover is pruned with the downloads).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = crate::fs::remove_any(&self.0);
    }
}

/// A release that carries a session key for an app without a `publicKey` to unwrap it.
fn encrypted_without_key() -> CapgoError {
    CapgoError::MalformedSessionKey {
        reason: "the release is encrypted, but no publicKey is configured".into(),
    }
}

fn nothing(code: &'static str, reason: String) -> Offer {
    Offer::Nothing(NoUpdate {
        code,
        reason,
        native_required: None,
    })
}

impl Engine {
    /// The info object Capgo's plugin sends with each check.
    fn capgo_request(&self) -> Result<protocol::CheckRequest, CoreError> {
        let c = self.effective_config();
        let key = c.capgo_key()?;
        Ok(protocol::CheckRequest {
            platform: c.platform.clone(),
            // Capgo's backend keys channel overrides and statistics on it: the check carries
            // the install id in Capgo mode (docs/PRIVACY.md §2).
            device_id: self.device_id(),
            app_id: c.app_id.clone(),
            custom_id: self.custom_id(),
            version_build: c.native_version.clone(),
            version_code: c.native_build.clone().unwrap_or_default(),
            version_os: c.os_version.clone().unwrap_or_default(),
            version_name: self.serving_version(),
            plugin_version: env!("CARGO_PKG_VERSION").into(),
            is_emulator: c.is_emulator,
            is_prod: !c.development,
            default_channel: self.channel()?,
            key_id: key.map(|k| k.key_id().to_string()),
        })
    }

    /// Asks the endpoint (unless a 429's wait is still running) and decides what its answer
    /// means for this device.
    fn capgo_offer(&self, limits: &Limits) -> Result<Offer, CoreError> {
        let now = self.inner.clock.now();
        if let Some(until) = store::capgo_wait_until(self.store().read())?.filter(|u| now < *u) {
            return Ok(nothing(
                "rateLimited",
                format!("the server asked not to check for {} more s", until - now),
            ));
        }
        let url = self.update_url()?;
        let request = self.capgo_request()?;
        let fetcher = self.fetcher()?;
        let answer = self
            .run(
                protocol::check(&fetcher, &url, &request, now.saturating_mul(1000)),
                limits,
                UpdatePhase::Manifest,
            )?
            .map_err(NetError::from)?;
        Ok(match answer {
            protocol::Answer::RateLimited {
                error,
                message,
                retry_after_secs,
            } => {
                let until = retry_after_secs.map(|s| now.saturating_add(s));
                self.store()
                    .write(|tx| store::set_capgo_wait_until(tx, until))?;
                nothing("rateLimited", format!("{error}: {message}"))
            }
            protocol::Answer::Builtin => {
                if self.current()?.id != BUILTIN {
                    self.reset(ResetTarget::Builtin)?;
                }
                nothing("builtin", "the server asked for the built-in bundle".into())
            }
            protocol::Answer::Refused {
                kind,
                error,
                message,
                ..
            } => {
                let code = match kind {
                    protocol::RefusalKind::UpToDate => "upToDate",
                    protocol::RefusalKind::Blocked => "blocked",
                    protocol::RefusalKind::Failed => "failed",
                };
                nothing(code, format!("{error}: {message}"))
            }
            protocol::Answer::Release(r) => self.capgo_release(r)?,
        })
    }

    /// A release the endpoint offers, unless this device serves, has or reverted that version.
    fn capgo_release(&self, r: protocol::Release) -> Result<Offer, CoreError> {
        if r.version == self.serving_version() {
            return Ok(nothing("upToDate", format!("{} serves already", r.version)));
        }
        let channel = self.channel()?;
        let bundles = store::bundles(self.store().read())?;
        let same = |b: &&store::BundleRow| b.version == r.version && b.channel == channel;
        if let Some(b) = bundles.iter().find(same) {
            return Ok(if b.status == BundleStatus::Failed {
                nothing(
                    "blocked",
                    format!(
                        "{} was reverted on this device: it is not taken again",
                        r.version
                    ),
                )
            } else {
                nothing("upToDate", format!("{} is installed already", r.version))
            });
        }
        if r.url.is_empty() && r.manifest.is_empty() {
            return Ok(nothing(
                "failed",
                format!("{} is offered with neither a url nor a manifest", r.version),
            ));
        }
        Ok(Offer::Release(r))
    }

    fn capgo_ref(&self, version: &str) -> Result<ReleaseRef, CoreError> {
        Ok(ReleaseRef {
            channel: self.channel()?,
            sequence: 0,
            version: version.to_string(),
        })
    }

    /// Asks the endpoint; a release it offers is reported and announced (`UpdateAvailable`).
    /// `Err`: nothing to take.
    fn capgo_found(
        &self,
        limits: &Limits,
    ) -> Result<Result<(protocol::Release, ReleaseRef), NoUpdate>, CoreError> {
        let offer = self.capgo_offer(limits);
        let r = match self.reported(None, offer)? {
            Offer::Release(r) => r,
            Offer::Nothing(n) => return Ok(Err(n)),
        };
        let release = self.capgo_ref(&r.version)?;
        self.report(Report::UpdateAvailable {
            release: release.clone(),
        });
        self.emit(Event::UpdateAvailable {
            sequence: 0,
            version: r.version.clone(),
        });
        Ok(Ok((r, release)))
    }

    /// `check()` in Capgo mode.
    pub(super) fn capgo_check(&self) -> Result<CheckResult, CoreError> {
        match self.capgo_found(&self.update_limits(None))? {
            Ok((r, release)) => Ok(CheckResult::UpdateAvailable {
                channel: release.channel,
                sequence: 0,
                version: r.version,
                bundle_size: 0,
            }),
            Err(n) => Ok(self.nothing_to_take(n)),
        }
    }

    /// `update()` in Capgo mode (the caller holds the flight).
    pub(super) fn capgo_update(&self, limits: &Limits) -> Result<UpdateOutcome, CoreError> {
        let (r, mut release) = match self.capgo_found(limits)? {
            Ok(found) => found,
            Err(n) => return Ok(self.nothing_to_take(n)),
        };
        let report = self.downloaded(&release, self.capgo_install(&r, &release, limits))?;
        let full = report.downloaded_bytes;
        release.sequence = store::high_water(self.store().read(), &release.channel)?.unwrap_or(0);
        self.installed_as_next(release, report, full, limits)
    }

    /// Installs the release as `next`: from its delta manifest when it has one (falling back to
    /// the full zip when that fails and the release has a `url`), else from the zip.
    fn capgo_install(
        &self,
        r: &protocol::Release,
        release: &ReleaseRef,
        limits: &Limits,
    ) -> Result<UpdateReport, CoreError> {
        let mut fallback = None;
        if !r.manifest.is_empty() {
            self.report(Report::DownloadStarted {
                release: release.clone(),
                delta: true,
            });
            match self.capgo_delta(r, limits) {
                Ok(report) => return Ok(report),
                Err(
                    e @ (CoreError::DeadlineExceeded { .. }
                    | CoreError::UpdateDeadlineExceeded { .. }),
                ) => return Err(e),
                Err(e) if r.url.is_empty() => return Err(e),
                Err(e) => {
                    log::warn!("Capgo delta of {} failed, fetching the zip: {e}", r.version);
                    self.emit(Event::DeltaFallback {
                        reason: e.to_string(),
                    });
                    fallback = Some(e.to_string());
                }
            }
        }
        let mut report = self.capgo_full(r, release, limits)?;
        report.delta_fallback = fallback;
        Ok(report)
    }

    /// Downloads the bundle, checks it against `publicKey` before anything reads it as a zip,
    /// lists it under the budgets and installs it as `next`.
    fn capgo_full(
        &self,
        r: &protocol::Release,
        release: &ReleaseRef,
        limits: &Limits,
    ) -> Result<UpdateReport, CoreError> {
        let config = self.effective_config();
        let key = config.capgo_key()?;
        let allow_unsigned = config.allow_unsigned_capgo_bundles;
        let url = Url::parse(&r.url).map_err(|_| NetError::BadUrl { url: r.url.clone() })?;
        let budgets = Budgets::default();
        self.report(Report::DownloadStarted {
            release: release.clone(),
            delta: false,
        });
        let name = crate::crypto::sha256_hex(r.checksum.as_bytes());
        let part = self.store().partial_download(&format!("capgo-{name}"))?;
        self.store().prune_downloads(&part);
        let plain = part.with_extension("zip");
        let _ = std::fs::remove_file(&plain);
        let fetcher = self.fetcher()?;
        let progress = self.progress_reporter(r.version.clone());
        // The zip is at most the extraction budget (stored entries), plus a cipher block.
        let max = budgets.max_total_bytes.saturating_add(1024 * 1024);
        let object = self
            .run(
                fetcher.download_unsized(&url, &part, max, &progress),
                limits,
                UpdatePhase::Bundle,
            )?
            .map_err(NetError::from)?;
        let verified = match (&r.session_key, &key) {
            (Some(session), Some(key)) => {
                capgo::decrypt_verified(key, session, &r.checksum, &part, &plain, allow_unsigned)
                    .map(|d| (d.sha256, d.bytes))
            }
            (Some(_), None) => Err(encrypted_without_key()),
            // Unencrypted: the download's own hash is the plaintext's.
            (None, key) => std::fs::rename(&part, &plain)
                .map_err(|source| CapgoError::Io {
                    op: "renaming",
                    path: part.clone(),
                    source,
                })
                .and_then(|()| {
                    let mut sha = [0u8; 32];
                    hex::decode_to_slice(object.sha256(), &mut sha)
                        .expect("the fetch layer hashes in SHA-256 hex");
                    capgo::verify_checksum_with(key.as_ref(), &r.checksum, &sha, allow_unsigned)?;
                    Ok((sha, object.size()))
                }),
        };
        let _ = std::fs::remove_file(&part);
        let installed = verified
            .map_err(CoreError::from)
            .and_then(|zip| self.capgo_stage(r, &plain, zip, &budgets, &key));
        let _ = std::fs::remove_file(&plain);
        Ok(UpdateReport {
            id: installed?,
            downloaded_bytes: object.size(),
            delta: false,
            delta_fallback: None,
        })
    }

    /// Lists the verified zip (`sha256` and `size` are the plaintext's) under the budgets and
    /// installs its files as `next`.
    fn capgo_stage(
        &self,
        r: &protocol::Release,
        zip: &std::path::Path,
        (sha256, size): ([u8; 32], u64),
        budgets: &Budgets,
        key: &Option<capgo::CapgoKey>,
    ) -> Result<String, CoreError> {
        let files = unpack::list_zip(zip, budgets).map_err(crate::install::InstallError::from)?;
        let object = BundleObject {
            url: r.url.clone(),
            size,
            sha256: hex::encode(sha256),
            encryption: None,
        };
        self.capgo_commit(r, files.clone(), object, key, |tree| {
            unpack::extract_verified(zip, &files, tree, budgets)?;
            Ok(())
        })
    }

    /// Records `files` as a release of the followed channel with a device-local sequence and
    /// installs them as `next`, `build` writing the tree. A bundle without `index.html` at its
    /// root is refused first.
    fn capgo_commit(
        &self,
        r: &protocol::Release,
        files: Vec<release::FileEntry>,
        bundle: BundleObject,
        key: &Option<capgo::CapgoKey>,
        build: impl FnOnce(&std::path::Path) -> Result<(), crate::install::InstallError>,
    ) -> Result<String, CoreError> {
        if !files.iter().any(|f| f.path == "index.html") {
            return Err(CapgoError::NoIndexHtml.into());
        }
        let config = self.effective_config();
        let channel = self.channel()?;
        let sequence = store::high_water(self.store().read(), &channel)?.map_or(1, |h| h + 1);
        let manifest = Manifest {
            format: release::FORMAT_VERSION,
            app_id: config.app_id.clone(),
            channel,
            sequence,
            version: r.version.clone(),
            issued_at: self.inner.clock.now(),
            // Capgo's format has no expiry: the server withdraws a version by not offering it.
            expires_at: u64::MAX,
            native: Default::default(),
            platforms: vec![],
            bundle,
            files,
            delta: None,
            rollout: None,
            incident: None,
        };
        let payload = serde_json::to_vec(&manifest).expect("a manifest serialises");
        let verified = VerifiedRelease {
            key_id: key.as_ref().map_or_else(
                || "capgo-unsigned".into(),
                |k| format!("capgo:{}", k.key_id()),
            ),
            payload: payload.clone(),
            manifest,
        };
        Ok(self.install_unlocked(&verified, &payload, |_, tree| build(tree))?)
    }

    /// Builds the release from its delta manifest in a work folder, then installs it: each file
    /// from a local copy with the same content (installed bundles, the built-in bundle) or
    /// downloaded, decrypted and decompressed (`capgo::delta`), hashed as it is written and
    /// checked against its signed `file_hash` before the next; names and sizes under the
    /// extraction budgets.
    fn capgo_delta(
        &self,
        r: &protocol::Release,
        limits: &Limits,
    ) -> Result<UpdateReport, CoreError> {
        let config = self.effective_config();
        let key = config.capgo_key()?;
        let allow_unsigned = config.allow_unsigned_capgo_bundles;
        let session = match (&r.session_key, &key) {
            (Some(s), Some(k)) => Some(k.unwrap_session(s)?),
            (Some(_), None) => return Err(encrypted_without_key().into()),
            (None, _) => None,
        };
        let budgets = Budgets::default();
        let targets: Vec<(&str, bool)> = r
            .manifest
            .iter()
            .map(|e| capgo::delta::target(&e.file_name))
            .collect();
        unpack::check_file_list(targets.iter().map(|(p, _)| (*p, 0)), &budgets)
            .map_err(crate::install::InstallError::from)?;
        let local = {
            let cfg = &self.inner.config;
            crate::delta::local_index(&mut self.store(), &cfg.builtin_dir, &cfg.native_version)?
        };
        let name = crate::crypto::sha256_hex(
            &serde_json::to_vec(
                &r.manifest
                    .iter()
                    .map(|e| (&e.file_name, &e.file_hash))
                    .collect::<Vec<_>>(),
            )
            .expect("entries serialise"),
        );
        let work = self
            .store()
            .delta_work_dir(&format!("capgo-{}", &name[..16]))?;
        let _ = crate::fs::remove_any(&work);
        // Scratch either way: removed when this returns, whatever it returns.
        let _cleanup = RemoveOnDrop(work.clone());
        let tree = work.join("tree");
        let io = |op: &'static str, path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| CoreError::from(CapgoError::Io { op, path, source })
        };
        std::fs::create_dir_all(&tree).map_err(io("creating", &tree))?;
        let fetcher = self.fetcher()?;
        let mut files = Vec::new();
        let (mut total, mut downloaded) = (0u64, 0u64);
        for (entry, (path, brotli)) in r.manifest.iter().zip(&targets) {
            let dest = tree.join(path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            let left = budgets.max_total_bytes - total;
            let expected = match &key {
                Some(k) => k.signed_hash(&entry.file_hash).map(hex::encode),
                None => Some(entry.file_hash.trim().to_ascii_lowercase()),
            };
            let copy = expected.as_ref().and_then(|h| local.get(h));
            let (size, sha) = match copy {
                Some(src) => {
                    capgo::delta::open_object(src, None, false, &dest, &work.join("scratch"), left)?
                }
                None => {
                    let url = Url::parse(&entry.download_url).map_err(|_| NetError::BadUrl {
                        url: entry.download_url.clone(),
                    })?;
                    let object = work.join("object");
                    let got = self
                        .run(
                            fetcher.download_unsized(
                                &url,
                                &object,
                                left.saturating_add(1024 * 1024),
                                &|_, _| {},
                            ),
                            limits,
                            UpdatePhase::DeltaObjects,
                        )?
                        .map_err(NetError::from)?;
                    downloaded += got.size();
                    let opened = capgo::delta::open_object(
                        &object,
                        session.as_ref(),
                        *brotli,
                        &dest,
                        &work.join("scratch"),
                        left,
                    );
                    let _ = std::fs::remove_file(&object);
                    opened?
                }
            };
            capgo::verify_checksum_with(key.as_ref(), &entry.file_hash, &sha, allow_unsigned)?;
            total += size;
            files.push(release::FileEntry {
                path: path.to_string(),
                size,
                sha256: hex::encode(sha),
            });
        }
        let bundle = BundleObject {
            url: String::new(),
            size: total,
            sha256: name,
            encryption: None,
        };
        let listed = files.clone();
        let id = self.capgo_commit(r, files, bundle, &key, |dest| {
            std::fs::rename(&tree, dest).map_err(|e| {
                crate::store::StoreError::from(crate::fs::io("publishing", dest)(e))
            })?;
            unpack::check_listing(dest, &listed)?;
            Ok(())
        });
        Ok(UpdateReport {
            id: id?,
            downloaded_bytes: downloaded,
            delta: true,
            delta_fallback: None,
        })
    }

    fn channel_url(&self) -> Result<Url, CoreError> {
        let raw = self
            .effective_config()
            .channel_url
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or(ConfigError::Invalid {
                field: "channelUrl",
                reason: "is not set: Capgo mode's channel calls go to Capgo's channel endpoint"
                    .into(),
            })?;
        Ok(Url::parse(&raw).map_err(|_| NetError::BadUrl { url: raw })?)
    }

    /// Runs one channel call against the endpoint, within the update limits.
    fn channel_call<T, F>(&self, call: F) -> Result<Result<T, channel::Refusal>, CoreError>
    where
        F: std::future::Future<
            Output = Result<Result<T, channel::Refusal>, crate::fetch::FetchError>,
        >,
    {
        let limits = self.update_limits(None);
        Ok(self
            .run(call, &limits, UpdatePhase::Manifest)?
            .map_err(NetError::from)?)
    }

    /// `setChannel` in Capgo mode: the endpoint first; the device follows only what it allowed
    /// (a public default it answers with `unset` clears the override).
    pub(super) fn capgo_set_channel(&self, to: &str) -> Result<(), CoreError> {
        let (url, info, fetcher) = (self.channel_url()?, self.capgo_request()?, self.fetcher()?);
        match self.channel_call(channel::set(&fetcher, &url, &info, to))? {
            Ok(SetOutcome::Set) => self.follow(Some(to)),
            Ok(SetOutcome::Unset) => self.follow(None),
            Err(r) => {
                if r.is_private() {
                    self.emit(Event::ChannelPrivate {
                        channel: to.to_string(),
                        message: r.message.clone(),
                    });
                }
                Err(CoreError::ChannelRefused {
                    error: r.error,
                    message: r.message,
                })
            }
        }
    }

    /// `getChannel` in Capgo mode: the channel the endpoint has for this device (`None`: none,
    /// the device follows its default). What it names becomes the channel followed.
    pub fn capgo_channel(&self) -> Result<Option<Current>, CoreError> {
        let (url, info, fetcher) = (self.channel_url()?, self.capgo_request()?, self.fetcher()?);
        match self.channel_call(channel::get(&fetcher, &url, &info))? {
            Ok(Some(c)) => {
                if release::is_valid_channel(&c.channel) {
                    self.follow(Some(&c.channel))?;
                }
                Ok(Some(c))
            }
            Ok(None) => Ok(None),
            Err(r) => Err(CoreError::ChannelRefused {
                error: r.error,
                message: r.message,
            }),
        }
    }

    /// `listChannels` in Capgo mode: the channels the endpoint offers this app.
    pub fn list_channels(&self) -> Result<Vec<ChannelInfo>, CoreError> {
        let (url, info, fetcher) = (self.channel_url()?, self.capgo_request()?, self.fetcher()?);
        self.channel_call(channel::list(&fetcher, &url, &info))?
            .map_err(|r| CoreError::ChannelRefused {
                error: r.error,
                message: r.message,
            })
    }
}
