//! What the native shell receives from the contract: the effects only it can carry out, a call's
//! reply, what start-up serves, and how a background run ended (uniffi records and enums).

use std::path::PathBuf;

/// Something only the native shell can do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Effect {
    /// Serve `path` (`None`: the built-in bundle, from the app's assets) and reload the WebView;
    /// pages from now on are `bundle_id`'s (`window.__LIVESHIP_BUNDLE_ID__`). Once the new page
    /// has loaded the shell calls `pageLoaded(bundle_id)`. `path` is always
    /// `<dataDir>/bundles/<bundle_id>` (the store's layout; iOS serves that folder through the
    /// `ionic_built_snapshots` link, see docs/PLUGIN.md).
    Serve {
        bundle_id: String,
        path: Option<PathBuf>,
    },
    /// Run the background update about every `interval_minutes` (WorkManager's minimum is 15),
    /// on an unmetered network only, or while charging only, when so configured.
    ScheduleBackground {
        interval_minutes: u64,
        unmetered_only: bool,
        charging_only: bool,
    },
    /// Automatic updates are off: no background work stays scheduled.
    CancelBackground,
    /// An update cycle started (`true`) or the last running one ended (`false`). iOS holds a
    /// background task meanwhile, so a download under way when the user leaves keeps going.
    UpdateRunning { running: bool },
    /// Watch for the debug menu's gesture (`ShakeMenu.kt` / `ShakeMenu.swift`) or stop; on the
    /// gesture the shell asks [`CapacitorPlugin::shake_menu`] what to show.
    ShakeMenu { enabled: bool },
}

/// The answer to a plugin call.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Reply {
    /// `call.resolve(data)`: a JSON object's text, or `None` for `call.resolve()`; then carry out
    /// `effects` in order.
    Resolve {
        data: Option<String>,
        effects: Vec<Effect>,
    },
    /// `call.reject(message, code, data)`, with `data.check` set when `check` is (the failed
    /// check of a verification error).
    Reject {
        code: String,
        message: String,
        check: Option<String>,
    },
    /// The platform answers this call: the shell hands it to the file named for `feature`
    /// (`appUpdate`: `AppUpdate.kt`, Google Play's in-app updates; `appStore`: `AppStore.kt` /
    /// `AppStore.swift`), which does `action` with `options` (a JSON object's text, already
    /// checked and completed here) and resolves or rejects the call itself.
    Native {
        feature: String,
        action: String,
        options: String,
    },
}

/// What native start-up serves: the first page comes from `path` (`None`: the built-in
/// bundle) and is `bundle_id`'s. Then carry out `effects`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Started {
    pub bundle_id: String,
    pub version: String,
    pub path: Option<PathBuf>,
    pub trial: bool,
    pub effects: Vec<Effect>,
}

/// How a background run ended, for the scheduler (WorkManager's `Result`, BGTask's success).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BackgroundResult {
    Success,
    /// No network, a deadline that ran out, another update in flight: the partial download
    /// resumes next time.
    Retry,
    Failure,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BackgroundRun {
    pub result: BackgroundResult,
    /// What happened, for the log.
    pub message: String,
    pub effects: Vec<Effect>,
}
