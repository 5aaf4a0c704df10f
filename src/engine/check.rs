//! Finding a candidate: fetch the channel's envelope (static, with the ETag cache, or
//! dynamic), verify it, obey its incident instructions, and apply device policy.

use reqwest::Url;

use crate::check::Check;
use crate::telemetry::{Failure, ReleaseRef, Report, RevertCause};
use serde::Serialize;

use super::update::UpdatePhase;
use super::{CoreError, Engine, NetError, UpdateOutcome};
use crate::boot;
use crate::config::UpdateMode;
use crate::events::Event;
use crate::fetch::ManifestFetch;
use crate::install;
use crate::policy::{self, Refusal};
use crate::release;
use crate::store;

/// What a check found (the public result of `check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum CheckResult {
    #[serde(rename_all = "camelCase")]
    UpdateAvailable {
        channel: String,
        sequence: u64,
        version: String,
        bundle_size: u64,
    },
    /// `code` is machine-readable (`upToDate`, `blocklisted`, `rollback`, `incident`, ...).
    #[serde(rename_all = "camelCase")]
    NoUpdate { code: String, reason: String },
}

/// A verified release this device may take.
pub(super) struct Candidate {
    pub(super) verified: release::VerifiedRelease,
    pub(super) envelope: Vec<u8>,
    pub(super) url: Url,
    /// What it is installed as (a preview's candidate is installed beside the line).
    pub(super) role: install::Role,
}

/// What a check found.
pub(super) enum CheckOutcome {
    /// A verified release that passed device policy.
    UpdateAvailable(Box<Candidate>),
    /// Nothing to take, for a reason that is not a policy refusal.
    NoUpdate { code: NoUpdateCode, reason: String },
    /// A verified release that device policy refused, and its version.
    Refused(Refusal, String),
}

/// Why a check found nothing to take, other than a policy [`Refusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoUpdateCode {
    /// The dynamic endpoint answered that it has nothing for this device.
    NoUpdate,
    /// The manifest's signed incident instructions were obeyed instead.
    Incident,
}

impl NoUpdateCode {
    fn as_str(self) -> &'static str {
        match self {
            NoUpdateCode::NoUpdate => "noUpdate",
            NoUpdateCode::Incident => "incident",
        }
    }
}

/// A check that found nothing to take, as the public API and events name it.
pub(super) struct NoUpdate {
    pub(super) code: &'static str,
    pub(super) reason: String,
    /// The version of a release refused for its native range: it needs a native update.
    pub(super) native_required: Option<String>,
}

impl From<NoUpdate> for CheckResult {
    fn from(n: NoUpdate) -> Self {
        CheckResult::NoUpdate {
            code: n.code.into(),
            reason: n.reason,
        }
    }
}

impl From<NoUpdate> for UpdateOutcome {
    fn from(n: NoUpdate) -> Self {
        UpdateOutcome::NoUpdate {
            code: n.code.into(),
            reason: n.reason,
        }
    }
}

impl CheckOutcome {
    /// The candidate, or why there is none.
    pub(super) fn into_candidate(self) -> Result<Candidate, NoUpdate> {
        match self {
            CheckOutcome::UpdateAvailable(c) => Ok(*c),
            CheckOutcome::NoUpdate { code, reason } => Err(NoUpdate {
                code: code.as_str(),
                reason,
                native_required: None,
            }),
            CheckOutcome::Refused(r, version) => Err(NoUpdate {
                code: r.code().as_str(),
                reason: r.to_string(),
                native_required: matches!(r, Refusal::IncompatibleNative { .. }).then_some(version),
            }),
        }
    }
}

impl Engine {
    pub(super) fn update_url(&self) -> Result<Url, NetError> {
        let raw = self
            .effective_config()
            .update_url
            .clone()
            .ok_or(NetError::NoUpdateUrl)?;
        Url::parse(&raw).map_err(|_| NetError::BadUrl { url: raw })
    }

    /// Fetches the channel's envelope (static or dynamic), verifies it, obeys its incident
    /// fields, and applies device policy. The envelope is verified once, on the bytes received
    /// (or, after a 304, on the cached bytes).
    pub(super) async fn find_candidate(&self) -> Result<CheckOutcome, CoreError> {
        self.find_candidate_in(None).await
    }

    /// [`Engine::find_candidate`] on `channel` (`None`: the one the device follows), for a
    /// preview of another channel: device policy then judges it as that channel's release.
    pub(super) async fn find_candidate_in(
        &self,
        preview: Option<&str>,
    ) -> Result<CheckOutcome, CoreError> {
        let fetcher = self.fetcher()?;
        let channel = match preview {
            Some(c) => c.to_string(),
            None => self.channel()?,
        };
        let base = self.update_url()?;
        let (url, envelope, verified) = match self.inner.config.update_mode {
            // Capgo mode has no signed envelope: `capgo` checks (queries find nothing here).
            UpdateMode::Capgo => {
                return Ok(CheckOutcome::NoUpdate {
                    code: NoUpdateCode::NoUpdate,
                    reason: "Capgo mode offers no signed file list".into(),
                })
            }
            UpdateMode::Static => {
                let mut folder = base.clone();
                if !folder.path().ends_with('/') {
                    folder.set_path(&format!("{}/", folder.path()));
                }
                let url = folder
                    .join(&format!("channels/{channel}.json"))
                    .map_err(|_| NetError::BadUrl {
                        url: base.to_string(),
                    })?;
                let cached = store::cached_envelope(self.store().read(), &channel)?;
                let etag = cached.as_ref().and_then(|c| c.etag.clone());
                match fetcher
                    .get_manifest(&url, etag.as_deref(), release::MAX_ENVELOPE_BYTES as u64)
                    .await
                    .map_err(NetError::from)?
                {
                    ManifestFetch::NotModified => {
                        let envelope = cached.map(|c| c.envelope).unwrap_or_default().into_bytes();
                        let verified = self.verify(&envelope);
                        (url, envelope, verified)
                    }
                    ManifestFetch::Fresh { body, etag } => {
                        let verified = self.verify(&body);
                        // Cache only what verifies, so a 304 never resurrects a bad envelope.
                        if verified.is_ok() {
                            let text = String::from_utf8_lossy(&body).into_owned();
                            self.store().write(|tx| {
                                store::cache_envelope(tx, &channel, &text, etag.as_deref())
                            })?;
                        }
                        (url, body, verified)
                    }
                }
            }
            UpdateMode::Dynamic => {
                let body = serde_json::to_vec(&self.device_info()?).expect("json");
                match fetcher
                    .post_json(&base, &body, release::MAX_ENVELOPE_BYTES as u64)
                    .await
                    .map_err(NetError::from)?
                {
                    None => {
                        return Ok(CheckOutcome::NoUpdate {
                            code: NoUpdateCode::NoUpdate,
                            reason: "the update endpoint has no update for this device".into(),
                        })
                    }
                    Some(body) => {
                        let verified = self.verify(&body);
                        (base.clone(), body, verified)
                    }
                }
            }
        };
        let verified = verified?;
        self.note_freshness(&verified.manifest)?;
        if let Some(reason) = self.obey_incident(&verified.manifest)? {
            return Ok(CheckOutcome::NoUpdate {
                code: NoUpdateCode::Incident,
                reason,
            });
        }
        Ok(match self.check_policy_in(&verified.manifest, &channel) {
            Ok(()) => CheckOutcome::UpdateAvailable(Box::new(Candidate {
                verified,
                envelope,
                url,
                role: install::Role::Next,
            })),
            Err(r) => CheckOutcome::Refused(r, verified.manifest.version.clone()),
        })
    }

    /// Reports a check that found nothing (`NoNeedUpdate`) and returns it as the caller's result.
    pub(super) fn nothing_to_take<T: From<NoUpdate>>(&self, n: NoUpdate) -> T {
        // A refusal for rollback or expiry is a security outcome, sent as its failure.
        let failure = |action, check: Check| Report::Failed {
            release: None,
            failure: Failure {
                action,
                reason: check.as_str().into(),
            },
        };
        self.report(match n.code {
            "rollback" => failure("rollback_fail", Check::PolicyRollback),
            "expired" => failure("expired_fail", Check::PolicyExpired),
            code => Report::NoUpdate { code: code.into() },
        });
        self.emit(Event::NoNeedUpdate {
            reason: n.reason.clone(),
        });
        if let Some(version) = &n.native_required {
            self.emit(Event::NativeUpdateRequired {
                version: version.clone(),
            });
        }
        n.into()
    }

    /// Records `m` as the channel's newest verified envelope when it is this app's and channel's,
    /// not a rollback, and newer than the one recorded. A refreshed envelope of the sequence
    /// the device has is recorded here (and then found up to date: nothing is reinstalled).
    fn note_freshness(&self, m: &release::Manifest) -> Result<(), CoreError> {
        if !self.addresses_this_device(m)? {
            return Ok(());
        }
        let channel = &m.channel;
        let mut store = self.store();
        let newer = match store::freshness(store.read(), channel)? {
            Some(f) => f.superseded_by(m.sequence, m.issued_at),
            None => true,
        };
        if newer {
            let record = store::Freshness {
                sequence: m.sequence,
                issued_at: m.issued_at,
                expires_at: m.expires_at,
                stale_reported: false,
            };
            store.write(|tx| store::set_freshness(tx, channel, &record))?;
        }
        Ok(())
    }

    /// Whether a verified manifest speaks to this device now: this app's, for the channel the
    /// device follows, and not below the channel's high-water mark (an older one is a replay).
    /// Only such a manifest's incident is obeyed and its freshness recorded.
    fn addresses_this_device(&self, m: &release::Manifest) -> Result<bool, CoreError> {
        if m.app_id != self.effective_config().app_id || m.channel != self.channel()? {
            return Ok(false);
        }
        let hwm = store::high_water(self.store().read(), &m.channel)?;
        Ok(hwm.is_none_or(|hwm| m.sequence >= hwm))
    }

    /// Reports `UpdatesStale` once for the channel's newest verified envelope when it has
    /// expired (beyond the clock-skew allowance). Called at the end of every check, whatever it
    /// found; a store failure here is logged, never the check's result.
    pub(super) fn report_staleness(&self) {
        if let Err(e) = self.try_report_staleness() {
            log::warn!("cannot record update freshness: {e}");
        }
    }

    fn try_report_staleness(&self) -> Result<(), CoreError> {
        let channel = self.channel()?;
        let mut store = self.store();
        let Some(mut f) = store::freshness(store.read(), &channel)? else {
            return Ok(());
        };
        let now = self.inner.clock.now();
        if f.stale_reported || now <= f.expires_at.saturating_add(policy::CLOCK_SKEW_SECS) {
            return Ok(());
        }
        f.stale_reported = true;
        store.write(|tx| store::set_freshness(tx, &channel, &f))?;
        drop(store);
        self.report(Report::UpdatesStale {
            channel: channel.clone(),
            sequence: f.sequence,
            age_seconds: now.saturating_sub(f.issued_at),
        });
        self.emit(Event::UpdatesStale {
            channel,
            sequence: f.sequence,
            issued_at: f.issued_at,
            expires_at: f.expires_at,
            age_seconds: now.saturating_sub(f.issued_at),
        });
        Ok(())
    }

    fn verify(&self, envelope: &[u8]) -> Result<release::VerifiedRelease, release::ReleaseError> {
        release::verify_envelope(envelope, &self.inner.config.public_keys)
    }

    /// Signed incident instructions of an unexpired manifest for this app and channel, no older
    /// than the high-water mark (an old, replayed one is ignored). Returns a reason when nothing else is to be done.
    fn obey_incident(&self, m: &release::Manifest) -> Result<Option<String>, CoreError> {
        let Some(incident) = &m.incident else {
            return Ok(None);
        };
        // FORMAT.md 4.3: no manifest field is acted on unless the manifest is unexpired; an
        // expired incident is then refused by the policy like any expired release.
        if !self.addresses_this_device(m)?
            || policy::check_expiry(m, self.inner.clock.now()).is_err()
        {
            return Ok(None);
        }
        let reverted = boot::revoke(&mut self.store(), m, incident)?;
        for r in &reverted {
            if let Some(release) = self.release_of(&r.id) {
                self.report(Report::Reverted {
                    release,
                    cause: RevertCause::Revoked,
                });
            }
            self.emit(Event::UpdateFailed {
                bundle_id: r.id.clone(),
                version: r.version.clone(),
                reason: r.reason.clone(),
            });
        }
        if incident.revert_to_builtin || !reverted.is_empty() {
            let now = self.current()?;
            self.emit(Event::ReloadRequired {
                bundle_id: now.id,
                path: now.path.map(|p| p.to_string_lossy().into_owned()),
                reason: "incident instruction from the publisher".into(),
            });
        }
        if incident.revert_to_builtin {
            return Ok(Some(format!(
                "{}: publisher instructed a revert to the built-in bundle",
                m.label()
            )));
        }
        Ok(None)
    }

    /// Checks for an update without downloading anything, within `updateTimeout`.
    pub fn check(&self) -> Result<CheckResult, CoreError> {
        if self.inner.config.update_mode == UpdateMode::Capgo {
            return self.capgo_check();
        }
        let limits = self.update_limits(None);
        let found = self.run(self.find_candidate(), &limits, UpdatePhase::Manifest);
        self.report_staleness();
        let found = self.reported(None, found.and_then(|f| f))?;
        let c = match found.into_candidate() {
            Ok(c) => c,
            Err(n) => return Ok(self.nothing_to_take(n)),
        };
        let m = &c.verified.manifest;
        self.report(Report::UpdateAvailable {
            release: ReleaseRef::of(m),
        });
        self.emit(Event::UpdateAvailable {
            sequence: m.sequence,
            version: m.version.clone(),
        });
        let result = CheckResult::UpdateAvailable {
            channel: m.channel.clone(),
            sequence: m.sequence,
            version: m.version.clone(),
            bundle_size: m.bundle.size,
        };
        Ok(result)
    }
}
