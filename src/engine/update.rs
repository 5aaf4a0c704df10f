//! Downloading and building a release into staging: a delta when it is worth it (it saves a
//! good share of the bytes), else the full bundle, resumable; single flight; one deadline for
//! the whole update (`updateTimeout`: manifest, bundle or every delta object, retries and waits
//! included), and a background run's own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::check::Candidate;
use super::{CoreError, Engine, NetError};
use crate::config::ApplyMode;
use crate::delta;
use crate::events::{Event, UpdateOutcome};
use crate::install::{self, InstallError};
use crate::telemetry::{ReleaseRef, Report};
use crate::unpack::Budgets;

/// What a download and install did.
pub(super) struct UpdateReport {
    /// The installed bundle, now `next`.
    pub(super) id: String,
    /// Bytes fetched for the bundle (delta objects or the full bundle).
    pub(super) downloaded_bytes: u64,
    pub(super) delta: bool,
    /// Set when a delta was tried and the full bundle was fetched instead.
    pub(super) delta_fallback: Option<String>,
}

impl Engine {
    /// Check, download (delta when cheaper, else full; resumable) and install as `next`; with
    /// apply mode `immediate`, also switch to it now. Concurrent callers are serialised: one
    /// download at a time, and a caller that waited finds the work done ("up to date").
    pub fn update(&self) -> Result<UpdateOutcome, CoreError> {
        self.update_until(None)
    }

    /// Runs `fut` on the network runtime within the update's limits; past one, `fut` is
    /// dropped (a download stops where it is, its bytes kept for resuming) and the call fails
    /// with `UpdateDeadlineExceeded` naming `phase`, or, for a background run stopped by its
    /// deadline or by `end_background_run`, `DeadlineExceeded`.
    pub(super) fn run<F: std::future::Future>(
        &self,
        fut: F,
        limits: &Limits,
        phase: UpdatePhase,
    ) -> Result<F::Output, CoreError> {
        self.runtime().block_on(async {
            // Registered before the flag is read, so an end in between is not missed.
            let ended = self.inner.background_end.notified();
            if let Some(b) = limits.background.filter(|_| self.background_ended()) {
                return Err(b.exceeded(phase));
            }
            let first = limits.first();
            tokio::select! {
                r = tokio::time::timeout_at(first.at.into(), fut) => {
                    r.map_err(|_| first.exceeded(phase))
                }
                _ = ended, if limits.background.is_some() => {
                    Err(limits.background.unwrap_or(first).exceeded(phase))
                }
            }
        })
    }

    /// The limits of an update (or a check) starting now.
    pub(super) fn update_limits(&self, background: Option<Deadline>) -> Limits {
        Limits {
            update: Deadline::update(Duration::from_secs(self.inner.config.update_timeout)),
            background,
        }
    }

    pub(super) fn update_until(
        &self,
        background: Option<Deadline>,
    ) -> Result<UpdateOutcome, CoreError> {
        let _flight = match background {
            None => self.inner.flight.lock().unwrap_or_else(|p| p.into_inner()),
            // Another update in flight: wait for it, but not past the deadline.
            Some(d) => loop {
                match self.inner.flight.try_lock() {
                    Ok(g) => break g,
                    Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock)
                        if std::time::Instant::now() >= d.at || self.background_ended() =>
                    {
                        return Err(d.exceeded(UpdatePhase::Manifest))
                    }
                    Err(std::sync::TryLockError::WouldBlock) => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                }
            },
        };
        // The update's own deadline starts once it holds the flight: the one it waited for was
        // bounded by its own.
        let limits = self.update_limits(background);
        if self.inner.config.update_mode == crate::config::UpdateMode::Capgo {
            return self.capgo_update(&limits);
        }
        let found = self.run(self.find_candidate(), &limits, UpdatePhase::Manifest);
        self.report_staleness();
        let found = self.reported(None, found.and_then(|f| f))?;
        let candidate = match found.into_candidate() {
            Ok(c) => c,
            Err(n) => return Ok(self.nothing_to_take(n)),
        };
        let m = candidate.verified.manifest.clone();
        let release = ReleaseRef::of(&m);
        self.report(Report::UpdateAvailable {
            release: release.clone(),
        });
        self.emit(Event::UpdateAvailable {
            sequence: m.sequence,
            version: m.version.clone(),
        });
        let result = self.fetch_and_install(&candidate, &limits);
        let report = self.downloaded(&release, result)?;
        self.installed_as_next(release, report, m.bundle.size, &limits)
    }

    /// A download's result, reported; a failure is also announced (`DownloadFailed`).
    pub(super) fn downloaded(
        &self,
        release: &ReleaseRef,
        result: Result<UpdateReport, CoreError>,
    ) -> Result<UpdateReport, CoreError> {
        self.reported(Some(release), result).inspect_err(|e| {
            self.emit(Event::DownloadFailed {
                version: release.version.clone(),
                error: e.to_string(),
            })
        })
    }

    /// How every installed update ends: reported and announced as downloaded and `next`, and,
    /// in apply mode `immediate`, applied now (never in a background run, which has no WebView
    /// to load it: applying there would put it on trial with nothing running it, and blame it).
    pub(super) fn installed_as_next(
        &self,
        release: ReleaseRef,
        report: UpdateReport,
        full_bytes: u64,
        limits: &Limits,
    ) -> Result<UpdateOutcome, CoreError> {
        self.report(Report::DownloadComplete {
            release: release.clone(),
            bytes: report.downloaded_bytes,
            delta: report.delta,
        });
        self.emit(Event::DownloadComplete {
            bundle_id: report.id.clone(),
            version: release.version.clone(),
        });
        self.report(Report::SetNext {
            release: release.clone(),
        });
        self.emit(Event::SetNext {
            bundle_id: report.id.clone(),
        });
        let applied = limits.background.is_none()
            && self.inner.config.apply_mode == ApplyMode::Immediate
            && self.apply_now()?.is_some();
        Ok(UpdateOutcome::Installed {
            id: report.id,
            version: release.version,
            sequence: release.sequence,
            downloaded_bytes: report.downloaded_bytes,
            full_bytes,
            delta: report.delta,
            delta_fallback: report.delta_fallback,
            applied,
        })
    }

    pub(super) fn progress_reporter(&self, version: String) -> impl Fn(u64, u64) + Send + Sync {
        let inner = Arc::downgrade(&self.inner);
        let last = Mutex::new(None::<u8>);
        move |done: u64, total: u64| {
            let percent = done
                .saturating_mul(100)
                .checked_div(total)
                .map_or(100, |p| p.min(100) as u8);
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if *last == Some(percent) {
                return;
            }
            *last = Some(percent);
            if let Some(inner) = inner.upgrade() {
                inner.events.on_event(Event::Download {
                    version: version.clone(),
                    percent,
                    downloaded: done,
                    total,
                });
            }
        }
    }

    /// Downloads the candidate (a delta when it is worth it, else the full bundle) and installs
    /// it as `next`.
    pub(super) fn fetch_and_install(
        &self,
        c: &Candidate,
        limits: &Limits,
    ) -> Result<UpdateReport, CoreError> {
        let m = &c.verified.manifest;
        let mut fallback = None;
        if m.delta.is_some() {
            match self.try_delta(c, limits) {
                Ok(report) => return Ok(report),
                // Out of time is not a reason to start the full bundle.
                Err(
                    e @ (CoreError::DeadlineExceeded { .. }
                    | CoreError::UpdateDeadlineExceeded { .. }),
                ) => return Err(e),
                // Failures the full bundle would meet too (busy, not newer, blocklisted, no
                // space, storage) are returned as they are, not paid for with a full download.
                Err(e) if !delta_failure(&e) => return Err(e),
                Err(e) => {
                    let reason = e.to_string();
                    // "Not worth it" is a plan, not a failure worth an event.
                    if !matches!(e, CoreError::Delta(delta::DeltaError::NotWorthIt { .. })) {
                        log::warn!(
                            "delta update of {} failed, fetching the full bundle: {reason}",
                            m.label()
                        );
                        self.emit(Event::DeltaFallback {
                            reason: reason.clone(),
                        });
                        fallback = Some(reason);
                    }
                }
            }
        }
        let url = c.url.join(&m.bundle.url).map_err(|_| NetError::BadUrl {
            url: m.bundle.url.clone(),
        })?;
        self.report(Report::DownloadStarted {
            release: ReleaseRef::of(m),
            delta: false,
        });
        let part = self.store().partial_download(&m.bundle.sha256)?;
        self.store().prune_downloads(&part);
        let fetcher = self.fetcher()?;
        let report = self.progress_reporter(m.version.clone());
        let object = self
            .run(
                fetcher.download(&url, &part, m.bundle.size, Some(&m.bundle.sha256), &report),
                limits,
                UpdatePhase::Bundle,
            )?
            .map_err(NetError::from)?;
        let keys = &self.inner.config.bundle_keys;
        let installed = self.install_as(c.role, &c.verified, &c.envelope, |staging, tree| {
            install::build_from_download(staging, tree, &object, m, keys, &Budgets::default())
        });
        let id = match installed {
            Ok(id) => id,
            Err(e) => {
                if refuses_the_object(&e) {
                    // The object matched its signed hash, so every retry would fetch and fail on
                    // the same bytes: refuse them from now on, before any download.
                    let reason = format!("bundle of {} cannot be installed: {e}", m.label());
                    self.store()
                        .write(|tx| crate::store::blocklist(tx, &m.bundle.sha256, &reason))?;
                    let _ = std::fs::remove_file(&part);
                }
                return Err(e.into());
            }
        };
        let _ = std::fs::remove_file(&part);
        Ok(UpdateReport {
            id,
            downloaded_bytes: m.bundle.size,
            delta: false,
            delta_fallback: fallback,
        })
    }

    fn try_delta(&self, c: &Candidate, limits: &Limits) -> Result<UpdateReport, CoreError> {
        let m = &c.verified.manifest;
        let cfg = &self.inner.config;
        let plan = delta::plan(&mut self.store(), &cfg.builtin_dir, &cfg.native_version, m)?;
        // A delta only pays off when it saves a good share of the bytes.
        if plan.remote_bytes * 10 > m.bundle.size * 7 {
            return Err(delta::DeltaError::NotWorthIt {
                delta: plan.remote_bytes,
                full: m.bundle.size,
            }
            .into());
        }
        let key = install::content_key(m, &self.inner.config.bundle_keys)?;
        self.report(Report::DownloadStarted {
            release: ReleaseRef::of(m),
            delta: true,
        });
        let work = self.store().delta_work_dir(&install::bundle_id(m))?;
        let tree = work.join("tree");
        let _ = crate::fs::remove_any(&tree);
        let fetcher = self.fetcher()?;
        let report = self.progress_reporter(m.version.clone());
        let assembled = self.run(
            delta::assemble(
                &fetcher,
                &c.url,
                m,
                &plan,
                key.as_ref(),
                &work.join("objects"),
                &tree,
                &report,
            ),
            limits,
            UpdatePhase::DeltaObjects,
        )??;
        let id = self.install_as(c.role, &c.verified, &c.envelope, |_staging, staged_tree| {
            install::adopt_assembled(&assembled, staged_tree, m)
        })?;
        let _ = crate::fs::remove_any(&work);
        Ok(UpdateReport {
            id,
            downloaded_bytes: assembled.bytes(),
            delta: true,
            delta_fallback: None,
        })
    }
}

/// What an update was doing when its deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatePhase {
    /// Fetching the channel's manifest (or the dynamic endpoint's answer).
    Manifest,
    /// Downloading the full bundle.
    Bundle,
    /// Downloading the objects of a delta update.
    DeltaObjects,
}

impl std::fmt::Display for UpdatePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UpdatePhase::Manifest => "manifest",
            UpdatePhase::Bundle => "bundle",
            UpdatePhase::DeltaObjects => "delta objects",
        })
    }
}

/// When an update must stop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    pub(super) at: std::time::Instant,
    pub(super) budget: Duration,
    /// A background run's (the OS's budget), else the update's own (`updateTimeout`).
    pub(super) background: bool,
}

impl Deadline {
    fn update(budget: Duration) -> Deadline {
        Deadline {
            at: std::time::Instant::now() + budget,
            budget,
            background: false,
        }
    }

    fn exceeded(&self, phase: UpdatePhase) -> CoreError {
        if self.background {
            CoreError::DeadlineExceeded {
                millis: self.budget.as_millis() as u64,
            }
        } else {
            CoreError::UpdateDeadlineExceeded {
                seconds: self.budget.as_secs(),
                phase,
            }
        }
    }
}

/// The deadlines of one update: its own, from `updateTimeout`, covering the manifest, the
/// bundle or every delta object, retries and backoff included; and a background run's.
pub(super) struct Limits {
    pub(super) update: Deadline,
    pub(super) background: Option<Deadline>,
}

impl Limits {
    /// The deadline that passes first (the update's own on a tie).
    fn first(&self) -> Deadline {
        match self.background {
            Some(b) if b.at < self.update.at => b,
            _ => self.update,
        }
    }
}

/// Whether an install failure is the bundle object's own: its bytes (already checked against the
/// signed hash) do not decrypt or do not extract within the rules. Storage errors are not.
fn refuses_the_object(e: &InstallError) -> bool {
    match e {
        InstallError::Decrypt(_) => true,
        InstallError::Unpack(u) => !matches!(
            u,
            crate::unpack::UnpackError::Io(_)
                | crate::unpack::UnpackError::DestinationExists { .. }
        ),
        _ => false,
    }
}

/// Whether an error from a delta attempt is the delta's own (a bad or missing object, a tree
/// that does not match), so that the full bundle is worth fetching instead.
fn delta_failure(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Delta(_)
            | CoreError::Net(_)
            | CoreError::Install(InstallError::Unpack(_) | InstallError::Decrypt(_))
    )
}
