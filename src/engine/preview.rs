//! Previews (Capgo's `startPreviewSession` and friends, with `allowPreview`), built on channels:
//! a preview is the newest release of another channel, verified against the pinned keys like
//! any release (a key must be allowed for that channel), installed *beside* the production
//! line: it serves instead of it while active, and the line's roles (current, fallback, next,
//! trial) are never touched. Its page confirms that it started (`notifyAppReady`), but a preview
//! is never confirmed into the line; a launch whose preview page never confirmed ends the
//! preview (the production line serves again), as a trial that never confirmed is reverted.
//! `resetPreview` (and `reset`) leave it. Static mode only: a channel is a folder's file.

use super::check::Candidate;
use super::update::{Limits, UpdatePhase};
use super::{CoreError, Engine};
use crate::boot::LaunchResult;
use crate::config::{ConfigError, UpdateMode};
use crate::events::Event;
use crate::install::Role;
use crate::store::{self, PreviewRecord, Previews};

/// A preview and whether it serves now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub record: PreviewRecord,
    pub active: bool,
}

/// What a look for a newer release of a preview's channel found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewUpdate {
    pub preview: Preview,
    /// The version on offer, when one is.
    pub latest: Option<String>,
    pub up_to_date: bool,
    /// The newer release was installed (and serves, if the preview was active).
    pub updated: bool,
}

fn refused(reason: String) -> CoreError {
    ConfigError::Invalid {
        field: "preview",
        reason,
    }
    .into()
}

impl Engine {
    fn previews(&self) -> Result<Previews, CoreError> {
        Ok(store::previews(self.store().read())?)
    }

    fn preview(&self, id: &str) -> Result<Preview, CoreError> {
        let p = self.previews()?;
        let record = p
            .bundles
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(|| refused(format!("{id} is not a preview on this device")))?;
        Ok(Preview {
            active: p.active.as_deref() == Some(id),
            record,
        })
    }

    /// Serves what serves now (a preview, else the production line): the native layer reloads.
    fn reload_serving(&self, reason: &str) -> Result<LaunchResult, CoreError> {
        let now = self.current()?;
        self.emit(Event::ReloadRequired {
            bundle_id: now.id.clone(),
            path: now.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            reason: reason.into(),
        });
        Ok(now)
    }

    /// The newest release of `channel` this device may take, as a preview's candidate; `None`
    /// when there is none (the reason is logged).
    fn preview_candidate(
        &self,
        channel: &str,
        limits: &Limits,
    ) -> Result<Option<Candidate>, CoreError> {
        let found = self.run(
            self.find_candidate_in(Some(channel)),
            limits,
            UpdatePhase::Manifest,
        )??;
        match found.into_candidate() {
            Ok(mut c) => {
                c.role = Role::Preview;
                Ok(Some(c))
            }
            Err(n) => {
                log::info!(
                    "preview of {channel}: nothing to take ({}): {}",
                    n.code,
                    n.reason
                );
                Ok(None)
            }
        }
    }

    /// Installs a preview's candidate beside the production line; its bundle id.
    fn install_preview(&self, c: &Candidate, limits: &Limits) -> Result<String, CoreError> {
        let _flight = self.inner.flight.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.fetch_and_install(c, limits)?.id)
    }

    /// `startPreviewSession`: installs the newest release of `channel` beside the production
    /// line and serves it. Needs `allowPreview`; refused for the channel the device follows and
    /// while a production release is on trial (confirm it first).
    pub fn start_preview(
        &self,
        channel: &str,
        name: Option<&str>,
        source: Option<&str>,
    ) -> Result<Preview, CoreError> {
        let c = &self.inner.config;
        if !c.allow_preview {
            return Err(ConfigError::NotAllowed {
                what: "startPreviewSession",
                option: "allowPreview",
            }
            .into());
        }
        if c.update_mode != UpdateMode::Static {
            return Err(refused(
                "previews are channels of a static repository; this app is not in static mode"
                    .into(),
            ));
        }
        if !crate::release::is_valid_channel(channel) || channel == self.channel()? {
            return Err(refused(format!(
                "{channel:?} is not another channel this device could preview"
            )));
        }
        if let Some(t) = self.status()?.trial {
            return Err(refused(format!(
                "bundle {} is on trial: it must confirm (or revert) before a preview starts",
                t.id
            )));
        }
        let limits = self.update_limits(None);
        let candidate = self.preview_candidate(channel, &limits)?.ok_or_else(|| {
            refused(format!(
                "channel {channel:?} offers no release this device may take"
            ))
        })?;
        let id = self.install_preview(&candidate, &limits)?;
        let now = self.inner.clock.now();
        self.store().write(|tx| -> Result<(), CoreError> {
            let mut p = store::previews(tx)?;
            if let Some(r) = p.bundles.iter_mut().find(|r| r.id == id) {
                r.name = name.map(str::to_string);
                r.source = source.map(str::to_string);
                r.last_used_at = now;
            }
            p.active = Some(id.clone());
            p.launched = false;
            store::set_previews(tx, &p)?;
            store::add_history(
                tx,
                "preview",
                Some(&id),
                &format!("preview of {channel} started"),
            )?;
            Ok(())
        })?;
        self.reload_serving("preview started")?;
        self.preview(&id)
    }

    /// `listPreviews`: every preview kept, oldest first.
    pub fn list_previews(&self) -> Result<Vec<Preview>, CoreError> {
        let p = self.previews()?;
        Ok(p.bundles
            .iter()
            .map(|r| Preview {
                active: p.active.as_deref() == Some(&r.id),
                record: r.clone(),
            })
            .collect())
    }

    /// `setPreview`: serves preview `id` (already installed) instead of the production line.
    pub fn set_preview(&self, id: &str) -> Result<Preview, CoreError> {
        self.preview(id)?;
        let now = self.inner.clock.now();
        self.store().write(|tx| -> Result<(), CoreError> {
            let mut p = store::previews(tx)?;
            p.active = Some(id.to_string());
            p.launched = false;
            if let Some(r) = p.bundles.iter_mut().find(|r| r.id == id) {
                r.last_used_at = now;
            }
            store::set_previews(tx, &p)?;
            Ok(())
        })?;
        self.reload_serving("preview set")?;
        self.preview(id)
    }

    /// `resetPreview`: the production line serves again. `false`: no preview was serving.
    pub fn reset_preview(&self) -> Result<bool, CoreError> {
        let was = self.store().write(|tx| -> Result<bool, CoreError> {
            let mut p = store::previews(tx)?;
            let Some(id) = p.active.take() else {
                return Ok(false);
            };
            p.launched = false;
            store::set_previews(tx, &p)?;
            store::add_history(tx, "preview", Some(&id), "preview left (resetPreview)")?;
            Ok(true)
        })?;
        if was {
            self.reload_serving("preview left")?;
        }
        Ok(was)
    }

    /// `deletePreview`: leaves preview `id` if it serves, then deletes it. `false`: no such
    /// preview.
    pub fn delete_preview(&self, id: &str) -> Result<bool, CoreError> {
        let Ok(p) = self.preview(id) else {
            return Ok(false);
        };
        if p.active {
            self.reset_preview()?;
        }
        self.delete(id)?;
        Ok(true)
    }

    /// `checkPreviewUpdate` (`install: false`) and `updatePreview` (`install: true`): the newest
    /// release of the preview's channel; installed as the preview's new bundle when asked (the
    /// old one is deleted, the labels kept, and it serves if the preview did).
    pub fn preview_update(&self, id: &str, install: bool) -> Result<PreviewUpdate, CoreError> {
        let preview = self.preview(id)?;
        let channel = preview.record.channel.clone();
        let limits = self.update_limits(None);
        let candidate = self.preview_candidate(&channel, &limits)?;
        let latest = candidate
            .as_ref()
            .map(|c| c.verified.manifest.version.clone());
        let Some(candidate) = candidate.filter(|_| install) else {
            return Ok(PreviewUpdate {
                up_to_date: latest.is_none(),
                latest,
                preview,
                updated: false,
            });
        };
        let new = self.install_preview(&candidate, &limits)?;
        let now = self.inner.clock.now();
        self.store().write(|tx| -> Result<(), CoreError> {
            let mut p = store::previews(tx)?;
            let old = p.bundles.iter().find(|r| r.id == id).cloned();
            if let (Some(old), Some(r)) = (old, p.bundles.iter_mut().find(|r| r.id == new)) {
                r.name = old.name;
                r.source = old.source;
                r.created_at = old.created_at;
                r.updated_at = now;
            }
            if p.active.as_deref() == Some(id) {
                p.active = Some(new.clone());
                p.launched = false;
            }
            store::set_previews(tx, &p)?;
            Ok(())
        })?;
        if preview.active {
            self.reload_serving("preview updated")?;
        }
        self.delete(id)?;
        Ok(PreviewUpdate {
            preview: self.preview(&new)?,
            latest,
            up_to_date: true,
            updated: true,
        })
    }
}
