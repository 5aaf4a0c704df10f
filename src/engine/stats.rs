//! Telemetry on the engine: the consent level in force, reporting outcomes into the store's
//! queue, sending the queue to `statsUrl`, and the user's data rights (export, delete).
//!
//! Guarantees: nothing is queued or sent under consent `off` (a stats request never leaves the
//! device then, only deletion requests the user asked for); lowering the level purges what was
//! queued under the higher one; reporting never fails or delays the outcome it reports (a store
//! error is logged and dropped); a flush runs beside updates, never holding the update's flight
//! or the store while it waits on the network, and removes rows only once the collector took
//! them (or refused them for good, `telemetry::Delivery`); a failed flush waits an exponential
//! backoff (1 min doubling to 6 h) before the next automatic one.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

use super::{CoreError, Engine, NetError};
use crate::config::Consent;
use crate::fetch::FetchError;
use crate::store::{self, QueueKind};
use crate::telemetry::{self, Delivery, Failure, ReleaseRef, Report, MAX_BATCH};

/// What a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
pub struct FlushReport {
    /// Events the collector took.
    pub sent: u64,
    /// Deletion requests the collector took.
    pub deletions_sent: u64,
    /// Rows the collector refused for good (a 4xx), removed.
    pub refused: u64,
    /// Rows still queued.
    pub remaining: u64,
    /// Events dropped so far because the queue was full.
    pub dropped: u64,
    /// Why the flush stopped early, when it did (it is retried later).
    pub error: Option<String>,
    /// The flush did not run: an earlier one failed and its backoff has not passed.
    pub deferred: bool,
}

/// When the next automatic flush may run after failures.
#[derive(Debug, Default)]
pub(super) struct Backoff {
    failures: u32,
    /// Unix seconds.
    not_before: u64,
}

const BACKOFF_FIRST_SECS: u64 = 60;
const BACKOFF_MAX_SECS: u64 = 6 * 60 * 60;

/// The HTTP status the collector answered, when it answered.
fn http_status(e: &FetchError) -> Option<u16> {
    match e {
        FetchError::Status { status, .. } => Some(*status),
        FetchError::RetriesExhausted { last, .. } => http_status(last),
        _ => None,
    }
}

impl Engine {
    /// The consent level in force: the user's `setConsent`, else `defaultConsent`, else `off`.
    pub fn consent(&self) -> Consent {
        *self.inner.consent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the user's consent level. Lowering it (to `anonymous` or `off`) removes every
    /// event queued under the higher level before this returns; returns how many.
    pub fn set_consent(&self, level: Consent) -> Result<u64, CoreError> {
        let mut current = self.inner.consent.lock().unwrap_or_else(|p| p.into_inner());
        let lower = level < *current;
        let purged = self.store().write(|tx| -> Result<u64, CoreError> {
            store::set_consent(tx, Some(level))?;
            store::add_history(tx, "consent", None, level.as_str())?;
            Ok(if lower {
                store::purge_stat_events(tx)?
            } else {
                0
            })
        })?;
        *current = level;
        Ok(purged)
    }

    fn stats_url(&self) -> Option<String> {
        self.effective_config()
            .stats_url
            .clone()
            .filter(|u| !u.is_empty())
    }

    /// The release a bundle id is, for reports.
    pub(super) fn release_of(&self, id: &str) -> Option<ReleaseRef> {
        let b = store::bundle(self.store().read(), id).ok().flatten()?;
        Some(ReleaseRef {
            channel: b.channel,
            sequence: b.sequence,
            version: b.version,
        })
    }

    /// The version serving now, for reports.
    pub(super) fn serving_version(&self) -> String {
        self.current()
            .map(|l| l.version)
            .unwrap_or_else(|_| self.inner.config.builtin_version.clone())
    }

    /// The version of the `current` bundle (the one a trial replaces), else the built-in one.
    pub(super) fn old_version(&self) -> String {
        self.status()
            .ok()
            .and_then(|s| s.current)
            .map(|b| b.version)
            .unwrap_or_else(|| self.inner.config.builtin_version.clone())
    }

    /// Reports `result`'s failure, if it is one, and returns it unchanged.
    pub(super) fn reported<T>(
        &self,
        release: Option<&ReleaseRef>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        if let Err(e) = &result {
            let (kind, check) = e.classify();
            let no_space = matches!(
                e,
                CoreError::Install(crate::install::InstallError::InsufficientSpace { .. })
            );
            self.report(Report::Failed {
                release: release.cloned(),
                failure: Failure::of(kind, check, no_space),
            });
        }
        result
    }

    /// Queues the event for `report` when the consent level and a `statsUrl` allow it. Never
    /// fails: telemetry must not break what it reports on. The consent level is held until the
    /// event is queued, so a `setConsent` that lowers it either comes first (nothing is queued)
    /// or purges this event too.
    pub(super) fn report(&self, report: Report) {
        if self.stats_url().is_none() {
            return;
        }
        let consent = self.inner.consent.lock().unwrap_or_else(|p| p.into_inner());
        if *consent == Consent::Off {
            return;
        }
        if let Err(e) = self.queue_report(&report, *consent) {
            log::warn!("telemetry: could not queue {report:?}: {e}");
        }
    }

    fn queue_report(&self, report: &Report, consent: Consent) -> Result<(), CoreError> {
        let channel = self.channel()?;
        let serving = self.serving_version();
        let install_id = self.device_id();
        let now = self.inner.clock.now();
        let mut store = self.store();
        let secret = match store::telemetry_secret(store.read())? {
            Some(s) => s,
            None => {
                let s = hex::encode(crate::crypto::random_bytes::<32>());
                store.write(|tx| store::set_telemetry_secret(tx, Some(&s)))?;
                s
            }
        };
        let config = self.effective_config();
        let custom_id = self.custom_id();
        let device = telemetry::Device {
            config: &config,
            custom_id: &custom_id,
            install_id: &install_id,
            channel: &channel,
            serving_version: &serving,
            consent,
            secret: &secret,
            now,
        };
        let Some(event) = telemetry::event(report, &device) else {
            return Ok(());
        };
        let body = serde_json::to_string(&event).expect("a stats event serialises");
        let dropped = store.write(|tx| store::enqueue_stat(tx, QueueKind::Event, &body))?;
        if dropped > 0 {
            log::warn!("telemetry: queue full, dropped the {dropped} oldest event(s)");
        }
        Ok(())
    }

    /// What the queue holds now.
    pub fn queued_stats(&self) -> Result<Vec<store::Queued>, CoreError> {
        let store = self.store();
        let mut rows = store::queued_stats(store.read(), QueueKind::Deletion, usize::MAX)?;
        rows.extend(store::queued_stats(
            store.read(),
            QueueKind::Event,
            usize::MAX,
        )?);
        Ok(rows)
    }

    /// Events dropped so far because the queue was full.
    pub fn stats_dropped(&self) -> Result<u64, CoreError> {
        Ok(store::stats_dropped(self.store().read())?)
    }

    /// Sends what is queued to `statsUrl` now: deletion requests one by one, then events in
    /// batches of at most [`MAX_BATCH`]. `force` ignores the backoff of an earlier failure (the
    /// harness's `flush`); the automatic flushes (foreground, background runs) respect it.
    pub fn flush_stats(&self, force: bool) -> Result<FlushReport, CoreError> {
        let mut report = FlushReport::default();
        let Some(url) = self.stats_url() else {
            return Ok(report);
        };
        let url = Url::parse(&url).map_err(|_| NetError::BadUrl { url })?;
        let mut backoff = self.inner.flush.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.inner.clock.now();
        if !force && now < backoff.not_before {
            report.deferred = true;
            return self.finish_report(report);
        }
        let mut failed = None;
        for kind in [QueueKind::Deletion, QueueKind::Event] {
            let batch = if kind == QueueKind::Deletion {
                1
            } else {
                MAX_BATCH
            };
            // Deletion requests the collector refused stay queued (the user's erasure must not
            // be lost to a misconfigured collector) and are tried again at the next flush.
            let mut kept = 0;
            loop {
                let rows = match kind {
                    QueueKind::Deletion => {
                        let rows = store::queued_stats(self.store().read(), kind, kept + 1)?;
                        rows.into_iter().skip(kept).collect::<Vec<_>>()
                    }
                    QueueKind::Event => match self.events_to_send(batch)? {
                        Some(rows) => rows,
                        None => break,
                    },
                };
                if rows.is_empty() {
                    break;
                }
                let body = if kind == QueueKind::Deletion {
                    rows[0].body.clone()
                } else {
                    let bodies: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
                    format!("[{}]", bodies.join(","))
                };
                let delivery = match self.post_stats(&url, body.as_bytes()) {
                    Ok(()) => Delivery::Taken,
                    Err(e) => {
                        let d = match &e {
                            CoreError::Net(NetError::Fetch(f)) => {
                                Delivery::of_status(http_status(f))
                            }
                            _ => Delivery::Retry,
                        };
                        if d == Delivery::Retry {
                            failed = Some(crate::error::report(&e));
                        } else {
                            log::warn!(
                                "telemetry: the collector refused {} row(s): {e}",
                                rows.len()
                            );
                        }
                        d
                    }
                };
                if delivery == Delivery::Retry {
                    break;
                }
                if delivery == Delivery::Refused && kind == QueueKind::Deletion {
                    kept += 1;
                    report.error = Some(
                        "the collector refused a deletion request; it stays queued and is sent again"
                            .into(),
                    );
                    continue;
                }
                let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
                self.store().write(|tx| store::remove_stats(tx, &seqs))?;
                let n = rows.len() as u64;
                match (delivery, kind) {
                    (Delivery::Refused, _) => report.refused += n,
                    (_, QueueKind::Deletion) => report.deletions_sent += n,
                    (_, QueueKind::Event) => report.sent += n,
                }
            }
            if failed.is_some() {
                break;
            }
        }
        match &failed {
            Some(_) => {
                backoff.failures = backoff.failures.saturating_add(1);
                let wait = BACKOFF_FIRST_SECS
                    .saturating_mul(1u64 << (backoff.failures - 1).min(20))
                    .min(BACKOFF_MAX_SECS);
                backoff.not_before = now.saturating_add(wait);
            }
            None => *backoff = Backoff::default(),
        }
        if failed.is_some() {
            report.error = failed;
        }
        self.finish_report(report)
    }

    /// The next batch of events to send, read while the consent level is held: `None` under
    /// `off`; events recorded under a higher level than the one in force now (which lowering it
    /// purges) are removed, never sent.
    fn events_to_send(&self, batch: usize) -> Result<Option<Vec<store::Queued>>, CoreError> {
        let consent = self.inner.consent.lock().unwrap_or_else(|p| p.into_inner());
        if *consent == Consent::Off {
            return Ok(None);
        }
        let mut store = self.store();
        loop {
            let rows = store::queued_stats(store.read(), QueueKind::Event, batch)?;
            let (send, above): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| {
                let recorded = serde_json::from_str::<telemetry::StatsEvent>(&r.body)
                    .ok()
                    .and_then(|e| Consent::parse(&e.consent));
                recorded.is_some_and(|level| level <= *consent)
            });
            if above.is_empty() {
                return Ok(Some(send));
            }
            let seqs: Vec<i64> = above.iter().map(|r| r.seq).collect();
            store.write(|tx| store::remove_stats(tx, &seqs))?;
            log::warn!(
                "telemetry: removed {} event(s) recorded under a higher consent level",
                seqs.len()
            );
            if !send.is_empty() {
                return Ok(Some(send));
            }
        }
    }

    fn finish_report(&self, mut report: FlushReport) -> Result<FlushReport, CoreError> {
        let store = self.store();
        report.remaining = store::queued_count(store.read(), QueueKind::Event)?
            + store::queued_count(store.read(), QueueKind::Deletion)?;
        report.dropped = store::stats_dropped(store.read())?;
        Ok(report)
    }

    /// One POST of a stats body, with the fetch layer's retries and backoff, within
    /// `responseTimeout`-bounded requests and the update deadline overall.
    fn post_stats(&self, url: &Url, body: &[u8]) -> Result<(), CoreError> {
        let fetcher = self.fetcher()?;
        let overall = Duration::from_secs(self.inner.config.update_timeout);
        self.runtime()
            .block_on(async {
                tokio::time::timeout(overall, fetcher.post_json(url, body, 64 * 1024)).await
            })
            .map_err(|_| CoreError::DeadlineExceeded {
                millis: overall.as_millis() as u64,
            })?
            .map_err(NetError::from)?;
        Ok(())
    }

    /// Starts a flush on a thread of its own when something waits to be sent (the app came
    /// to the foreground, the user deleted their data): the caller never waits on the network.
    pub(super) fn flush_in_background(&self) {
        if self.stats_url().is_none() {
            return;
        }
        let waiting = self
            .queued_stats()
            .map(|rows| !rows.is_empty())
            .unwrap_or(false);
        if !waiting {
            return;
        }
        let engine = Engine {
            inner: Arc::clone(&self.inner),
        };
        let spawned = std::thread::Builder::new()
            .name("liveship-stats".into())
            .spawn(move || {
                if let Err(e) = engine.flush_stats(false) {
                    log::info!("telemetry: flush failed: {e}");
                }
            });
        if let Err(e) = spawned {
            log::warn!("telemetry: could not start a flush: {e}");
        }
    }

    /// Erases what this install stored about itself (`deleteData`): back to the built-in
    /// bundle, every downloaded bundle deleted, delay conditions cancelled, the history, the
    /// queued events and the drop counter erased, the consent choice and the anonymous-id
    /// secret forgotten, and a new install id. When the consent had been `full` (the old id was
    /// sent), a deletion request for the old id is queued and sent now in the background; the
    /// collector erases that id's rows. Returns the new install id.
    pub fn delete_data(&self) -> Result<DeletedData, CoreError> {
        // No `reset` event: it would be erased with the queue a moment later.
        crate::boot::erase_bundles(&mut self.store())?;
        self.set_delay(&[])?;
        self.clear_custom_id()?;
        let mut consent = self.inner.consent.lock().unwrap_or_else(|p| p.into_inner());
        let old_id = self.device_id();
        let new_id = hex::encode(crate::crypto::random_bytes::<16>());
        let request = (*consent == Consent::Full && self.stats_url().is_some()).then(|| {
            telemetry::deletion_request(&self.effective_config(), &old_id, self.inner.clock.now())
        });
        self.store().write(|tx| -> Result<(), CoreError> {
            store::purge_stat_events(tx)?;
            store::clear_stats_dropped(tx)?;
            store::clear_history(tx)?;
            store::set_consent(tx, None)?;
            store::set_telemetry_secret(tx, None)?;
            store::set_device_id(tx, &new_id)?;
            if let Some(r) = &request {
                let body = serde_json::to_string(r).expect("a stats event serialises");
                store::enqueue_stat(tx, QueueKind::Deletion, &body)?;
            }
            Ok(())
        })?;
        // The new id is in place before the consent level is released: an event reported in
        // between never carries the old id.
        *self
            .inner
            .device_id
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = new_id.clone();
        *consent = self.inner.config.default_consent.unwrap_or_default();
        drop(consent);
        let now = self.current()?;
        self.emit(crate::events::Event::ReloadRequired {
            bundle_id: now.id,
            path: now.path.map(|p| p.to_string_lossy().into_owned()),
            reason: "deleteData".into(),
        });
        if request.is_some() {
            self.flush_in_background();
        }
        Ok(DeletedData {
            device_id: new_id,
            deletion_requested: request.is_some(),
        })
    }
}

/// What `deleteData` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
pub struct DeletedData {
    /// The new install id.
    pub device_id: String,
    /// A deletion request for the old id was queued (consent had been `full`).
    pub deletion_requested: bool,
}
