//! What JavaScript may change at run time (Capgo's `setUpdateUrl`, `setStatsUrl`,
//! `setChannelUrl`, `setAppId`, `setCustomId`), gated and persisted as Capgo's options say:
//! the URLs and the app id only when `allowModifyUrl` / `allowModifyAppId` permit, kept across a
//! restart only with `persistModifyUrl` / `persistCustomId`. Every part of the engine reads the
//! configuration through [`Engine::effective_config`], so a change applies to the next check,
//! policy decision and event alike.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{CoreError, Engine};
use crate::config::{Config, ConfigError};
use crate::fetch::check_url;
use crate::store;

/// A value JavaScript may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    UpdateUrl,
    StatsUrl,
    ChannelUrl,
    AppId,
    CustomId,
}

impl Setting {
    /// The JavaScript name of the option (the store keeps a persisted value under it).
    pub fn name(self) -> &'static str {
        match self {
            Setting::UpdateUrl => "updateUrl",
            Setting::StatsUrl => "statsUrl",
            Setting::ChannelUrl => "channelUrl",
            Setting::AppId => "appId",
            Setting::CustomId => "customId",
        }
    }

    fn is_url(self) -> bool {
        matches!(
            self,
            Setting::UpdateUrl | Setting::StatsUrl | Setting::ChannelUrl
        )
    }

    /// The JavaScript method that sets it.
    fn method(self) -> &'static str {
        match self {
            Setting::UpdateUrl => "setUpdateUrl",
            Setting::StatsUrl => "setStatsUrl",
            Setting::ChannelUrl => "setChannelUrl",
            Setting::AppId => "setAppId",
            Setting::CustomId => "setCustomId",
        }
    }

    /// The option that permits setting it, when one must (`customId` is always the app's to set).
    fn gate(self, c: &Config) -> Option<(&'static str, bool)> {
        match self {
            Setting::UpdateUrl | Setting::StatsUrl | Setting::ChannelUrl => {
                Some(("allowModifyUrl", c.allow_modify_url))
            }
            Setting::AppId => Some(("allowModifyAppId", c.allow_modify_app_id)),
            Setting::CustomId => None,
        }
    }

    /// Whether a value set now is kept across a restart (the app id goes with the URLs).
    fn persists(self, c: &Config) -> bool {
        match self {
            Setting::CustomId => c.persist_custom_id,
            _ => c.persist_modify_url,
        }
    }

    const ALL: [Setting; 5] = [
        Setting::UpdateUrl,
        Setting::StatsUrl,
        Setting::ChannelUrl,
        Setting::AppId,
        Setting::CustomId,
    ];
}

/// The values set at run time, over the configuration.
#[derive(Debug, Default)]
pub(super) struct Overrides(HashMap<Setting, String>);

impl Overrides {
    /// The persisted values whose option still says to persist them.
    pub(super) fn load(conn: &rusqlite::Connection, c: &Config) -> Result<Self, CoreError> {
        let mut out = HashMap::new();
        for s in Setting::ALL {
            if s.persists(c) && s.gate(c).is_none_or(|(_, allowed)| allowed) {
                if let Some(v) = store::setting(conn, s.name())? {
                    out.insert(s, v);
                }
            }
        }
        Ok(Overrides(out))
    }
}

impl Engine {
    fn overrides(&self) -> std::sync::MutexGuard<'_, Overrides> {
        self.inner
            .overrides
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration with the values JavaScript set applied.
    pub fn effective_config(&self) -> Cow<'_, Config> {
        let o = self.overrides();
        if o.0.is_empty() {
            return Cow::Borrowed(&self.inner.config);
        }
        let mut c = self.inner.config.clone();
        for (s, v) in &o.0 {
            match s {
                Setting::UpdateUrl => c.update_url = Some(v.clone()),
                Setting::StatsUrl => c.stats_url = Some(v.clone()),
                Setting::ChannelUrl => c.channel_url = Some(v.clone()),
                Setting::AppId => c.app_id = v.clone(),
                Setting::CustomId => {}
            }
        }
        Cow::Owned(c)
    }

    /// The custom id `setCustomId` set (empty: none).
    pub fn custom_id(&self) -> String {
        self.overrides()
            .0
            .get(&Setting::CustomId)
            .cloned()
            .unwrap_or_default()
    }

    /// Sets `setting` to `value` if the configuration permits it. URLs must be ones the device
    /// would fetch (`https://`, or loopback `http://` with `allowInsecureLoopback`); the app id
    /// must not be empty; an empty custom id clears it.
    pub fn set_setting(&self, setting: Setting, value: &str) -> Result<(), CoreError> {
        let c = &self.inner.config;
        if let Some((option, false)) = setting.gate(c) {
            return Err(ConfigError::NotAllowed {
                what: setting.method(),
                option,
            }
            .into());
        }
        let invalid = |reason: String| ConfigError::Invalid {
            field: setting.name(),
            reason,
        };
        if setting.is_url() {
            let url = reqwest::Url::parse(value).map_err(|e| invalid(format!("{value:?}: {e}")))?;
            check_url(&url, c.allow_insecure_loopback)
                .map_err(|e| invalid(format!("{value:?}: {e}")))?;
        }
        if setting == Setting::AppId && value.trim().is_empty() {
            return Err(invalid("must not be empty".into()).into());
        }
        let clear = setting == Setting::CustomId && value.is_empty();
        let persist = setting.persists(c);
        self.store().write(|tx| match (persist, clear) {
            (true, false) => store::set_setting(tx, setting.name(), Some(value)),
            _ => store::set_setting(tx, setting.name(), None),
        })?;
        let mut o = self.overrides();
        if clear {
            o.0.remove(&setting);
        } else {
            o.0.insert(setting, value.to_string());
        }
        Ok(())
    }

    /// Forgets every value set at run time (`deleteData`: the custom id is the user's data).
    pub(super) fn clear_custom_id(&self) -> Result<(), CoreError> {
        self.set_setting(Setting::CustomId, "")
    }
}
