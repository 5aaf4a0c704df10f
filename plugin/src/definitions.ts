/// <reference types="@capacitor/cli" />
/**
 * The public contract of the Liveship Capacitor plugin: every method, option and event, with
 * what it does on Android and iOS and what it does in a browser.
 *
 * Names and payload shapes follow `@capgo/capacitor-updater` wherever the meaning is the same,
 * so moving an app over is mostly a changed import (`CapacitorUpdater` is exported as an alias).
 * Where Liveship's model differs (only signed releases from `updateUrl` are installed; a
 * downloaded release becomes the *next* bundle at once; readiness is bound to the page that
 * calls it), the JSDoc below says so.
 */
import type { PluginListenerHandle } from '@capacitor/core';

declare module '@capacitor/cli' {
  export interface PluginsConfig {
    /**
     * Liveship's configuration: the JSON schema shared with the Rust core and the CLI
     * (docs/CONFIG.md). `appId`, `platform`, `nativeVersion` and the data and built-in folders
     * are supplied by the native plugin and cannot be set here.
     */
    Liveship?: LiveshipConfig;
  }
}

/**
 * A pinned Ed25519 signing key (from `liveship keygen`) and the channels it may sign for.
 *
 * @since 0.1.0
 */
export interface PublicKeyConfig {
  /**
   * Key id printed by `liveship keygen` (derived from the key; checked at start-up).
   *
   * @since 0.1.0
   */
  keyId: string;
  /**
   * Base64 of the 32-byte Ed25519 public key.
   *
   * @since 0.1.0
   */
  publicKey: string;
  /**
   * Channels this key may sign releases for; `["*"]` (the default) means every channel.
   * A QA key scoped to `beta` cannot push to `production`.
   *
   * @default ["*"]
   * @since 0.1.0
   */
  channels?: string[];
}

/**
 * An AES-256 bundle key that unwraps the per-release content key of encrypted releases.
 *
 * @since 0.1.0
 */
export interface BundleKeyConfig {
  /**
   * Key id printed by `liveship keygen`.
   *
   * @since 0.1.0
   */
  keyId: string;
  /**
   * Base64 of the 32-byte key.
   *
   * @since 0.1.0
   */
  key: string;
}

/**
 * The object under `plugins.Liveship` in `capacitor.config.ts`.
 *
 * @since 0.1.0
 */
export interface LiveshipConfig {
  /**
   * Milliseconds a new bundle's page has to call `notifyAppReady()` before the bundle is
   * reverted (same name and meaning as Capgo).
   *
   * @default 10000
   * @since 0.1.0
   */
  appReadyTimeout?: number;
  /**
   * Check for, download and install releases on its own (at start, on return to the
   * foreground, every `periodCheckDelay` seconds, and in background tasks).
   *
   * @default true
   * @since 0.1.0
   */
  autoUpdate?: boolean;
  /**
   * Static mode: URL of the release repository folder that holds `channels/` (any static host,
   * CDN or object store). Dynamic mode: the endpoint that receives the device's info by POST.
   * Must be `https://` (see `allowInsecureLoopback`).
   *
   * @since 0.1.0
   * @example "https://updates.example.com/myapp/"
   */
  updateUrl?: string;
  /**
   * How `updateUrl` is used: a Liveship repository (`static`), a Liveship endpoint (`dynamic`),
   * or a Capgo-compatible `/updates` endpoint (`capgo`, docs/CAPGO.md).
   *
   * @default "static"
   * @since 0.1.0
   */
  updateMode?: 'static' | 'dynamic' | 'capgo';
  /**
   * Channel followed until `setChannel()` is called.
   *
   * @default "production"
   * @since 0.1.0
   */
  defaultChannel?: string;
  /**
   * Drop downloaded bundles when the native app version changes (same as Capgo). Bundles whose
   * signed native range excludes the new version are dropped whatever this says.
   *
   * @default true
   * @since 0.1.0
   */
  resetWhenUpdate?: boolean;
  /**
   * Seconds between checks while the app runs; `0` checks only at start and on return to the
   * foreground.
   *
   * @default 0
   * @since 0.1.0
   */
  periodCheckDelay?: number;
  /**
   * Seconds an HTTP request may go without progress before it is abandoned (and resumed later).
   *
   * @default 20
   * @since 0.1.0
   */
  responseTimeout?: number;
  /**
   * Seconds one whole update may take: the manifest, then the bundle or every delta object,
   * retries and waits included. Past it the update fails (`network`, check
   * `update.deadlineExceeded`) and a partial download resumes next time. 1 to 86400.
   *
   * @default 900
   * @since 0.1.0
   */
  updateTimeout?: number;
  /**
   * Slowest transfer accepted, in bytes per second over `transferRateWindow`: a slower
   * manifest, bundle or delta object fails (`network`, check `fetch.tooSlow`).
   * 1 to 104857600.
   *
   * @default 1024
   * @since 0.1.0
   */
  minTransferRate?: number;
  /**
   * Seconds of the sliding window `minTransferRate` is measured over; a stall shorter than it
   * does not fail. 1 to 600, and at most `updateTimeout`.
   *
   * @default 30
   * @since 0.1.0
   */
  transferRateWindow?: number;
  /**
   * Ed25519 keys whose signatures are accepted, each with its channel scope. Two keys pinned at
   * once allow key rotation without a native release. Required for any update.
   *
   * @since 0.1.0
   */
  publicKeys?: PublicKeyConfig[];
  /**
   * AES-256 keys that unwrap encrypted releases. A key shipped in the app keeps bundles private
   * from hosts, CDNs and the network, not from someone who takes the app apart; authenticity
   * rests on the signature, never on encryption.
   *
   * @since 0.1.0
   */
  bundleKeys?: BundleKeyConfig[];
  /**
   * When an installed release starts serving: `nextLaunch` (next cold start), `background`
   * (when the app returns after `minBackgroundMs` in the background) or `immediate` (the
   * WebView reloads as soon as it is installed).
   *
   * @default "nextLaunch"
   * @since 0.1.0
   */
  applyMode?: 'nextLaunch' | 'background' | 'immediate';
  /**
   * Minimum milliseconds in the background before a `background` apply happens.
   *
   * @default 0
   * @since 0.1.0
   */
  minBackgroundMs?: number;
  /**
   * Permit `http://` to 127.0.0.1, [::1] and localhost: for `liveship serve` during
   * development only. Never enable it in a store build.
   *
   * @default false
   * @since 0.1.0
   */
  allowInsecureLoopback?: boolean;
  /**
   * Extra PEM CA certificate (text) trusted in addition to the system store, for a development
   * server with its own CA.
   *
   * @since 0.1.0
   */
  extraCaCert?: string;
  /**
   * Version label reported for the bundle shipped inside the app.
   *
   * @default the native app version
   * @since 0.1.0
   */
  builtinVersion?: string;
  /**
   * Verbose core logs (forwarded to Logcat / os_log).
   *
   * @default false
   * @since 0.1.0
   */
  development?: boolean;
  /**
   * Android: let background update work run only on unmetered networks (Wi-Fi).
   *
   * @default false
   * @since 0.1.0
   */
  backgroundUnmeteredOnly?: boolean;
  /**
   * Android: let background update work run only while charging.
   *
   * @default false
   * @since 0.1.0
   */
  backgroundChargingOnly?: boolean;
  /**
   * Minutes between background update runs (WorkManager's minimum is 15; iOS treats it as the
   * earliest begin date of the next BGAppRefreshTask). `0` disables background updates.
   *
   * @default 360
   * @since 0.1.0
   */
  backgroundIntervalMinutes?: number;
  /** Capgo mode: the app's RSA public key in PEM (`npx @capgo/cli key create`). @since 0.2.0 */
  publicKey?: string;
  /** Capgo mode, **unsafe**: accept bundles whose checksum is a plain SHA-256. @default false @since 0.2.0 */
  allowUnsignedCapgoBundles?: boolean;
  /** Capgo mode: Capgo's channel endpoint (`channel_self`). @since 0.2.0 */
  channelUrl?: string;
  /** JavaScript may change `updateUrl`, `statsUrl`, `channelUrl` (Capgo's option). @default false @since 0.2.0 */
  allowModifyUrl?: boolean;
  /** URLs and the app id set from JavaScript survive a restart (Capgo's option). @default false @since 0.2.0 */
  persistModifyUrl?: boolean;
  /** JavaScript may change the app id, `setAppId` (Capgo's option). @default false @since 0.2.0 */
  allowModifyAppId?: boolean;
  /** The `setCustomId` id survives a restart (Capgo's option). @default false @since 0.2.0 */
  persistCustomId?: boolean;
  /** JavaScript may declare a bundle broken, `setBundleError` (Capgo's option). @default false @since 0.2.0 */
  allowManualBundleError?: boolean;
  /** JavaScript may preview other channels, `startPreviewSession` (Capgo's option). @default false @since 0.2.0 */
  allowPreview?: boolean;
  /** A shake opens the debug menu (Capgo's option). @default false @since 0.2.0 */
  shakeMenu?: boolean;
  /** The debug menu offers channels (Capgo's option). @default false @since 0.2.0 */
  allowShakeChannelSelector?: boolean;
}

/**
 * Capgo's download states. Liveship reports `success` for an installed bundle (whatever its
 * role), `error` for a failed (reverted or revoked) one, `pending` for an offered release not yet
 * downloaded, and `downloading` during a download.
 *
 * @since 0.1.0
 */
export type BundleStatus = 'success' | 'error' | 'pending' | 'downloading';

/**
 * The role a bundle plays on this device (Liveship's own, more precise than `status`).
 *
 * @since 0.1.0
 */
export type BundleRole = 'builtin' | 'current' | 'fallback' | 'trial' | 'next' | 'ready' | 'failed' | 'offered';

/**
 * A bundle, shaped like Capgo's `BundleInfo` plus Liveship's fields.
 *
 * @since 0.1.0
 */
export interface BundleInfo {
  /**
   * Bundle id: the content id (SHA-256 of the signed file list), or `builtin`.
   * Empty for a release that is offered or downloading and not installed yet.
   *
   * @since 0.1.0
   */
  id: string;
  /**
   * Display version from the signed manifest (or the built-in version).
   *
   * @since 0.1.0
   */
  version: string;
  /**
   * ISO 8601 time the bundle was installed; empty for the built-in bundle and for releases not
   * installed yet.
   *
   * @since 0.1.0
   */
  downloaded: string;
  /**
   * The content id again (Capgo's field; Liveship's integrity is the signed file list).
   *
   * @since 0.1.0
   */
  checksum: string;
  /**
   * Capgo-compatible status.
   *
   * @since 0.1.0
   */
  status: BundleStatus;
  /**
   * What the bundle is to this device.
   *
   * @since 0.1.0
   */
  role: BundleRole;
  /**
   * Channel the release was published on (empty for the built-in bundle).
   *
   * @since 0.1.0
   */
  channel: string;
  /**
   * Signed release sequence (the anti-rollback counter); 0 for the built-in bundle.
   *
   * @since 0.1.0
   */
  sequence: number;
  /**
   * Why the bundle failed, for `role: "failed"`.
   *
   * @since 0.1.0
   */
  failedReason?: string;
}

/** @since 0.1.0 */
export interface BundleId {
  /**
   * Bundle id as returned by `download()`, `list()` or `current()`.
   *
   * @since 0.1.0
   */
  id: string;
}

/** @since 0.1.0 */
export interface AppReadyResult {
  /**
   * The bundle the calling page was served from, now confirmed.
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
}

/**
 * Arguments native code receives for `notifyAppReady`. The JS layer fills `bundleId` with the
 * id captured when the page started; apps do not pass it.
 *
 * @since 0.1.0
 */
export interface NotifyAppReadyOptions {
  /**
   * Id of the bundle that served the calling page.
   *
   * @since 0.1.0
   */
  bundleId: string;
}

/**
 * Capgo's download options. Liveship installs only signed releases from the configured
 * `updateUrl`, so there is nothing to pass: `url`, when given, must equal `updateUrl`, and
 * `version`, when given, must match the version of the release the server offers (the call
 * rejects otherwise, before anything is downloaded). `sessionKey` and `checksum` are refused:
 * keys and hashes travel in the signed manifest.
 *
 * @since 0.1.0
 */
export interface DownloadOptions {
  /** @since 0.1.0 */
  url?: string;
  /** @since 0.1.0 */
  version?: string;
  /** @since 0.1.0 */
  sessionKey?: string;
  /** @since 0.1.0 */
  checksum?: string;
}

/** @since 0.1.0 */
export interface ResetOptions {
  /**
   * `true`: go back to the last bundle that confirmed readiness; `false` (default): go back
   * to the bundle shipped in the app.
   *
   * @default false
   * @since 0.1.0
   */
  toLastSuccessful?: boolean;
}

/** @since 0.1.0 */
export interface ListOptions {
  /**
   * Accepted for Capgo compatibility; the list always comes from the core's database.
   *
   * @since 0.1.0
   */
  raw?: boolean;
}

/** @since 0.1.0 */
export interface BundleListResult {
  /** @since 0.1.0 */
  bundles: BundleInfo[];
}

/** @since 0.1.0 */
export interface CurrentBundleResult {
  /**
   * The bundle serving now.
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
  /**
   * The native app version.
   *
   * @since 0.1.0
   */
  native: string;
}

/** @since 0.1.0 */
export interface GetLatestOptions {
  /**
   * Accepted for Capgo compatibility and must be omitted or equal the device's channel:
   * Liveship checks the channel the device follows (change it with `setChannel()`).
   *
   * @since 0.1.0
   */
  channel?: string;
}

/** @since 0.1.0 */
export interface LatestVersion {
  /**
   * Version of the release on offer, or the serving version when there is none.
   *
   * @since 0.1.0
   */
  version: string;
  /**
   * Whether a release this device may take is on offer.
   *
   * @since 0.1.0
   */
  available: boolean;
  /**
   * Signed sequence of the offered release.
   *
   * @since 0.1.0
   */
  sequence?: number;
  /**
   * Channel checked.
   *
   * @since 0.1.0
   */
  channel?: string;
  /**
   * Size in bytes of the full bundle object.
   *
   * @since 0.1.0
   */
  bundleSize?: number;
  /**
   * Machine-readable reason there is nothing to take: `upToDate`, `blocklisted`, `rollback`,
   * `incident`, ... (Capgo's `error` field).
   *
   * @since 0.1.0
   */
  error?: string;
  /**
   * Human-readable reason (Capgo's `message` field).
   *
   * @since 0.1.0
   */
  message?: string;
}

/** @since 0.1.0 */
export interface SetChannelOptions {
  /**
   * Channel to follow from now on (letters, digits, `.`, `_`, `-`).
   *
   * @since 0.1.0
   */
  channel: string;
  /**
   * Start an update check right after the change.
   *
   * @default false
   * @since 0.1.0
   */
  triggerAutoUpdate?: boolean;
}

/** @since 0.1.0 */
export interface UnsetChannelOptions {
  /**
   * Start an update check right after the change.
   *
   * @default false
   * @since 0.1.0
   */
  triggerAutoUpdate?: boolean;
}

/** @since 0.1.0 */
export interface ChannelRes {
  /**
   * `ok` when the channel was stored. Liveship stores the channel on the device; a release
   * signed for a channel a pinned key may not sign for is still refused.
   *
   * @since 0.1.0
   */
  status: string;
  /** @since 0.1.0 */
  error?: string;
  /** @since 0.1.0 */
  message?: string;
}

/** @since 0.1.0 */
export interface GetChannelRes {
  /** @since 0.1.0 */
  channel?: string;
  /** @since 0.1.0 */
  error?: string;
  /** @since 0.1.0 */
  message?: string;
  /** @since 0.1.0 */
  status?: string;
  /**
   * Always `true`: the device may choose its channel; keys limit what each channel accepts.
   *
   * @since 0.1.0
   */
  allowSet?: boolean;
}

/** @since 0.1.0 */
export interface DeviceId {
  /**
   * Random per-install id (rollout buckets); no personal data.
   *
   * @since 0.1.0
   */
  deviceId: string;
}

/** @since 0.1.0 */
export interface PluginVersion {
  /** @since 0.1.0 */
  version: string;
}

/** @since 0.1.0 */
export interface BuiltinVersion {
  /** @since 0.1.0 */
  version: string;
}

/** @since 0.1.0 */
export interface AutoUpdateEnabled {
  /**
   * `autoUpdate` is on and an `updateUrl` is configured.
   *
   * @since 0.1.0
   */
  enabled: boolean;
}

/**
 * What a downloaded next bundle waits for (Capgo's `setMultiDelay`); each condition is met at its
 * own moment and then removed, and the bundle applies once none remain:
 * - `background`: the app returns to the foreground after at least `value` milliseconds in the
 *   background (default 0, i.e. any return);
 * - `kill`: the app is killed and started again (met by the next cold start; an in-process apply
 *   such as `set()` or `reload()` never meets it);
 * - `date`: not before `value`, an ISO 8601 date-time with a zone (`2030-01-01T00:00:00Z`);
 * - `nativeVersion`: the native app is at least version `value` (`2.1.0`; compared component by
 *   component, numerically where both are numbers).
 *
 * The core keeps the conditions and checks them at every launch and every return to the
 * foreground (`date` and `nativeVersion` whenever they are checked).
 *
 * @since 0.1.0
 */
export type DelayUntilNext = 'background' | 'kill' | 'nativeVersion' | 'date';

/** @since 0.1.0 */
export interface DelayCondition {
  /** @since 0.1.0 */
  kind: DelayUntilNext;
  /** @since 0.1.0 */
  value?: string;
}

/** @since 0.1.0 */
export interface MultiDelayConditions {
  /**
   * The next bundle applies once every condition has been met: when the last one is met at a
   * launch it becomes the trial of that launch; when it is met on a return to the foreground it
   * applies there and then (the page reloads, as after `set()`).
   *
   * @since 0.1.0
   */
  delayConditions: DelayCondition[];
}

/**
 * Capgo's answer to `triggerUpdateCheck()`.
 *
 * @since 0.1.0
 */
export interface TriggerUpdateCheckResult {
  /**
   * `queued`: an update cycle started (its end arrives as `updateAvailable`, `noNeedUpdate`,
   * `downloadComplete`, `downloadFailed` and `updateCheckResult`); `already_running`: one is
   * running and reports for this request too; `unavailable`: no `updateUrl` is set, or in a
   * browser.
   *
   * @since 0.2.0
   */
  status: 'queued' | 'already_running' | 'unavailable';
  /** `true` only with `status: "queued"`. @since 0.2.0 */
  queued: boolean;
}

/** @since 0.1.0 */
export interface HistoryEntry {
  /**
   * Monotonic row number.
   *
   * @since 0.1.0
   */
  seq: number;
  /**
   * ISO 8601 time.
   *
   * @since 0.1.0
   */
  at: string;
  /**
   * What happened (`installed`, `trial`, `confirmed`, `reverted`, `reset`, ...).
   *
   * @since 0.1.0
   */
  event: string;
  /** @since 0.1.0 */
  bundle?: string;
  /** @since 0.1.0 */
  detail: string;
}

/** @since 0.1.0 */
export interface HistoryResult {
  /**
   * Transitions, oldest first.
   *
   * @since 0.1.0
   */
  history: HistoryEntry[];
}

/** @since 0.1.0 */
export interface ExportDataResult {
  /**
   * JSON text of everything Liveship keeps about this device: `{ deviceId, channel,
   * nativeVersion, consent: { level, telemetry }, serving, bundles, history, delayConditions,
   * telemetry: { queued: [{ kind, queuedAt, event }], dropped } }` (`queued` are the update events
   * not yet sent, exactly as they will be sent). No keys, no URLs.
   *
   * @since 0.1.0
   */
  json: string;
}

/**
 * What the device may send about its updates to `statsUrl` (docs/PRIVACY.md): `off` nothing
 * (the default), `anonymous` events without the install id, `full` events with it.
 *
 * @since 0.2.0
 */
export type ConsentLevel = 'off' | 'anonymous' | 'full';

/** @since 0.1.0 */
export interface ConsentOptions {
  /**
   * The user's choice. Lowering it deletes the events queued under the higher level.
   *
   * @since 0.2.0
   */
  level?: ConsentLevel;
  /**
   * The older yes/no form: `true` is `full`, `false` is `off`. Given with `level`, both must agree.
   *
   * @since 0.1.0
   */
  telemetry?: boolean;
}

/** @since 0.1.0 */
export interface ConsentResult {
  /**
   * The level in force.
   *
   * @since 0.2.0
   */
  level: ConsentLevel;
  /**
   * `level !== 'off'`.
   *
   * @since 0.1.0
   */
  telemetry: boolean;
  /**
   * `setConsent` only: how many queued events the change deleted.
   *
   * @since 0.2.0
   */
  purged?: number;
}

/** @since 0.2.0 */
export interface DeleteDataResult {
  /**
   * The new install id (the old one is gone from the device).
   *
   * @since 0.2.0
   */
  deviceId: string;
  /**
   * A request to erase the old id was sent to `statsUrl` (consent had been `full`, so the old
   * id had been sent). It is retried until the collector takes it.
   *
   * @since 0.2.0
   */
  deletionRequested: boolean;
}

/** @since 0.1.0 */
export interface DownloadEvent {
  /**
   * Download progress, 0 to 100.
   *
   * @since 0.1.0
   */
  percent: number;
  /**
   * The release being downloaded (`status: "downloading"`, empty `id`).
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
  /** @since 0.1.0 */
  downloadedBytes: number;
  /** @since 0.1.0 */
  totalBytes: number;
}

/** @since 0.1.0 */
export interface NoNeedEvent {
  /**
   * The bundle serving now.
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
  /**
   * Why there is nothing to take.
   *
   * @since 0.1.0
   */
  reason: string;
}

/** @since 0.1.0 */
export interface UpdateAvailableEvent {
  /**
   * The offered release (`status: "pending"`).
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
}

/** @since 0.1.0 */
export interface DownloadCompleteEvent {
  /**
   * The installed bundle, now the next one.
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
}

/** @since 0.1.0 */
export interface DownloadFailedEvent {
  /**
   * Version whose download or verification failed.
   *
   * @since 0.1.0
   */
  version: string;
  /**
   * What failed (the failed check for a verification error).
   *
   * @since 0.1.0
   */
  error: string;
}

/** @since 0.1.0 */
export interface UpdateFailedEvent {
  /**
   * The bundle that was reverted (never confirmed, timed out, or revoked).
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
  /**
   * Why.
   *
   * @since 0.1.0
   */
  reason: string;
}

/** @since 0.1.0 */
export interface BundleEvent {
  /** @since 0.1.0 */
  bundle: BundleInfo;
}

/** @since 0.1.0 */
export interface AppReadyEvent {
  /**
   * The confirmed bundle.
   *
   * @since 0.1.0
   */
  bundle: BundleInfo;
  /** @since 0.1.0 */
  status: string;
}

/** @since 0.1.0 */
export interface UpdateCheckResultEvent {
  /**
   * `installed`: a release was downloaded and installed as next (or applied, in `immediate`
   * mode); `noUpdate`: nothing to take; `error`: the check or download failed.
   *
   * @since 0.1.0
   */
  outcome: 'installed' | 'noUpdate' | 'error';
  /**
   * Capgo's classification: `up_to_date` (nothing newer, or it was just installed),
   * `blocked` (a release this device must not take: policy, incident), `failed`.
   *
   * @since 0.2.0
   */
  kind: 'up_to_date' | 'blocked' | 'failed';
  /** The installed bundle (`installed`), else the one serving. @since 0.1.0 */
  bundle: BundleInfo;
  /** For `error`: the reason again, under Capgo's name. @since 0.2.0 */
  message?: string;
  /** @since 0.1.0 */
  code?: string;
  /** @since 0.1.0 */
  reason?: string;
  /**
   * Error kind for `outcome: "error"`: `network`, `verification`, `incompatible`, `storage`,
   * `busy`, `invalidArgument`, `internal`.
   *
   * @since 0.1.0
   */
  error?: string;
  /**
   * Bytes fetched (delta objects or the full bundle).
   *
   * @since 0.1.0
   */
  downloadedBytes?: number;
  /** @since 0.1.0 */
  delta?: boolean;
}

/**
 * Payload of `updatesStale`: the newest verified envelope of the channel, and its age.
 *
 * @since 0.1.0
 */
export interface UpdatesStaleEvent {
  /** The channel the device follows. */
  channel: string;
  /** Sequence of that envelope's release. */
  sequence: number;
  /** When it was signed (ISO 8601). */
  issuedAt: string;
  /** When it expired (ISO 8601). */
  expiresAt: string;
  /** Seconds since `issuedAt`. */
  ageSeconds: number;
}

/** @since 0.1.0 */
export interface ReasonEvent {
  /** @since 0.1.0 */
  reason: string;
}

/**
 * A URL to use from now on (`setUpdateUrl`, `setStatsUrl`, `setChannelUrl`).
 *
 * @since 0.2.0
 */
export interface UpdateUrl {
  /** `https://` (or loopback `http://` with `allowInsecureLoopback`). */
  url: string;
}
/** @since 0.2.0 */
export type StatsUrl = UpdateUrl;
/** @since 0.2.0 */
export type ChannelUrl = UpdateUrl;

/** @since 0.2.0 */
export interface GetAppIdRes {
  /** The app id in force (`appId`, or what `setAppId` set). */
  appId: string;
}

/** @since 0.2.0 */
export interface SetAppIdOptions {
  appId: string;
}

/** @since 0.2.0 */
export interface SetCustomIdOptions {
  /** Your own id for this device (`""` clears it). Sent in events under consent `full` only. */
  customId: string;
}

/** @since 0.2.0 */
export interface AutoUpdateAvailable {
  /** An `updateUrl` is set, so checks can run. */
  available: boolean;
}

/**
 * One file of a bundle, as Capgo's delta manifests list them. Liveship fills `file_hash` with
 * the file's SHA-256 from the signed file list.
 *
 * @since 0.2.0
 */
export interface ManifestEntry {
  file_name: string | null;
  file_hash: string | null;
  download_url: string | null;
}

/** @since 0.2.0 */
export interface GetMissingBundleFilesOptions {
  /** The entries to look for; absent: the files of the release on offer now. */
  manifest?: ManifestEntry[];
  /** With no `manifest`: the version you expect on offer (refused if another is). */
  version?: string;
  /** Accepted for Capgo's signature; encrypted hashes are not matched (they count as missing). */
  sessionKey?: string;
}

/** @since 0.2.0 */
export interface GetMissingBundleFilesResult {
  /** The entries whose content this device holds nowhere (installed bundles, built-in bundle). */
  missing: ManifestEntry[];
  total: number;
  missingCount: number;
  reusableCount: number;
}

/** @since 0.2.0 */
export interface GetBundleDownloadSizeOptions {
  /** The entries to size; absent: the files of the release on offer now. */
  manifest?: ManifestEntry[];
  version?: string;
}

/** @since 0.2.0 */
export interface BundleFileSize extends ManifestEntry {
  /** Bytes, from the signed file list of the release on offer. */
  size?: number;
  /** Why there is no size (not in the signed list; a release that downloads whole). */
  error?: string;
}

/** @since 0.2.0 */
export interface GetBundleDownloadSizeResult {
  /** Bytes of the sized entries; for a release without per-file objects, the whole bundle. */
  totalSize: number;
  knownFiles: number;
  unknownFiles: number;
  files: BundleFileSize[];
}

/** @since 0.2.0 */
export interface ChannelInfo {
  id: number;
  name: string;
  public: boolean;
  allow_self_set: boolean;
}

/** @since 0.2.0 */
export interface ListChannelsResult {
  channels: ChannelInfo[];
}

/** @since 0.2.0 */
export interface SetShakeMenuOptions {
  enabled: boolean;
}

/** @since 0.2.0 */
export interface ShakeMenuEnabled {
  enabled: boolean;
  gesture?: 'shake' | 'threeFingerPinch';
}

/** @since 0.2.0 */
export interface SetShakeChannelSelectorOptions {
  enabled: boolean;
}

/** @since 0.2.0 */
export interface ShakeChannelSelectorEnabled {
  enabled: boolean;
}

/** @since 0.2.0 */
export interface StartPreviewSessionOptions {
  appId?: string;
  payloadUrl?: string;
  name?: string;
  source?: string;
}

/** @since 0.2.0 */
export interface PreviewInfo {
  id: string;
  bundle: BundleInfo;
  /** Liveship: the channel previewed. */
  channel?: string;
  name?: string;
  source?: string;
  appId?: string;
  payloadUrl?: string;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string;
  isActive: boolean;
}

/** @since 0.2.0 */
export interface PreviewListResult {
  previews: PreviewInfo[];
  current?: PreviewInfo;
  currentBundle: BundleInfo;
  liveBundle?: BundleInfo;
}

/** @since 0.2.0 */
export interface DeletePreviewResult {
  removed: boolean;
  deleted: boolean;
}

/** @since 0.2.0 */
export interface PreviewUpdateResult {
  preview: PreviewInfo;
  latestVersion?: string;
  upToDate: boolean;
  updated: boolean;
  bundle?: BundleInfo;
}

/** @since 0.2.0 */
export interface GetAppUpdateInfoOptions {
  country?: string;
}

/**
 * The store's view of the native app. `updateAvailability`, `installStatus` and
 * `AppUpdateResult.code` carry the numbers of Capgo's `AppUpdateAvailability`,
 * `FlexibleUpdateInstallStatus` and `AppUpdateResultCode` enums (Google Play's values).
 *
 * @since 0.2.0
 */
export interface AppUpdateInfo {
  currentVersionName: string;
  availableVersionName?: string;
  currentVersionCode: string;
  availableVersionCode?: string;
  availableVersionReleaseDate?: string;
  updateAvailability: number;
  updatePriority?: number;
  immediateUpdateAllowed?: boolean;
  flexibleUpdateAllowed?: boolean;
  clientVersionStalenessDays?: number;
  installStatus?: number;
  minimumOsVersion?: string;
}

/** @since 0.2.0 */
export interface OpenAppStoreOptions {
  packageName?: string;
  appId?: string;
}

/** @since 0.2.0 */
export interface AppUpdateResult {
  code: number;
}

/**
 * `breakingAvailable` (and its older name `majorAvailable`): a release is on offer that this app
 * build cannot run (outside its signed native range); it needs a native update first.
 *
 * @since 0.2.0
 */
export interface MajorAvailableEvent {
  version: string;
}
/** @since 0.2.0 */
export type BreakingAvailableEvent = MajorAvailableEvent;

/** The channel `setChannel` asked for, and the endpoint's message. @since 0.2.0 */
export interface ChannelPrivateEvent {
  channel: string;
  message: string;
}

/**
 * Android: a flexible Play update's progress (`installStatus`: Capgo's
 * `FlexibleUpdateInstallStatus`, Play's values).
 *
 * @since 0.2.0
 */
export interface FlexibleUpdateState {
  installStatus: number;
  bytesDownloaded?: number;
  totalBytesToDownload?: number;
}

/**
 * The plugin as the app calls it. Failed calls reject with an `Error` whose `code` is the
 * error kind (`network`, `verification`, `incompatible`, `storage`, `busy`, `invalidArgument`,
 * `internal`, `unavailable` for what this version or platform cannot do, `unimplemented` on
 * the web) and whose `data.check` names the failed check of a
 * verification error.
 *
 * @since 0.1.0
 */
export interface LiveshipPlugin {
  /**
   * Confirms that the bundle serving *this page* started correctly. Call it on every start,
   * as early as your app can say it works; without it the bundle is reverted after
   * `appReadyTimeout` and at the next launch.
   *
   * The confirmation carries the id of the bundle that served the page, captured when the page
   * started, so a page loaded from an outgoing bundle cannot confirm an incoming one.
   *
   * @since 0.1.0
   */
  notifyAppReady(): Promise<AppReadyResult>;

  /**
   * Checks `updateUrl`, downloads the offered release (delta or full, resumable), verifies its
   * signature, hashes and native range, decrypts and installs it as the next bundle. Resolves
   * with the installed bundle (`role: "next"`); rejects when nothing is on offer
   * (`invalidArgument`, reason says why) or when anything fails (the previous bundle stays).
   *
   * @since 0.1.0
   */
  download(options?: DownloadOptions): Promise<BundleInfo>;

  /**
   * Makes an installed bundle the one served at the next launch.
   *
   * @since 0.1.0
   */
  next(options: BundleId): Promise<BundleInfo>;

  /**
   * Switches to an installed bundle now: it becomes the trial and the WebView reloads from it.
   * The new page must call `notifyAppReady()`.
   *
   * @since 0.1.0
   */
  set(options: BundleId): Promise<void>;

  /**
   * Reloads the WebView: applies a pending next bundle if there is one, else reloads the bundle
   * serving now.
   *
   * @since 0.1.0
   */
  reload(): Promise<void>;

  /**
   * Goes back to the built-in bundle (default) or the last confirmed one, and reloads.
   *
   * @since 0.1.0
   */
  reset(options?: ResetOptions): Promise<void>;

  /**
   * The bundle serving now and the native version.
   *
   * @since 0.1.0
   */
  current(): Promise<CurrentBundleResult>;

  /**
   * Installed bundles with their roles.
   *
   * @since 0.1.0
   */
  list(options?: ListOptions): Promise<BundleListResult>;

  /**
   * Deletes an installed bundle that has no role (not current, fallback, trial or next).
   *
   * @since 0.1.0
   */
  delete(options: BundleId): Promise<void>;

  /**
   * Asks `updateUrl` what is on offer for this device, without downloading.
   *
   * @since 0.1.0
   */
  getLatest(options?: GetLatestOptions): Promise<LatestVersion>;

  /**
   * Follows `channel` from now on (overrides `defaultChannel`).
   *
   * @since 0.1.0
   */
  setChannel(options: SetChannelOptions): Promise<ChannelRes>;

  /**
   * Goes back to `defaultChannel`.
   *
   * @since 0.1.0
   */
  unsetChannel(options?: UnsetChannelOptions): Promise<void>;

  /**
   * The channel this device follows.
   *
   * @since 0.1.0
   */
  getChannel(): Promise<GetChannelRes>;

  /**
   * The random per-install device id.
   *
   * @since 0.1.0
   */
  getDeviceId(): Promise<DeviceId>;

  /**
   * This plugin's version.
   *
   * @since 0.1.0
   */
  getPluginVersion(): Promise<PluginVersion>;

  /**
   * Version label of the bundle shipped inside the app (`builtinVersion`, else the native
   * version).
   *
   * @since 0.1.0
   */
  getBuiltinVersion(): Promise<BuiltinVersion>;

  /**
   * Whether automatic updates are on (`autoUpdate` and an `updateUrl`).
   *
   * @since 0.1.0
   */
  isAutoUpdateEnabled(): Promise<AutoUpdateEnabled>;

  /**
   * The bundle that serves at the next launch, or `null`.
   *
   * @since 0.1.0
   */
  getNextBundle(): Promise<BundleInfo | null>;

  /**
   * The last reverted bundle since the app started, or `null`; cleared once read.
   *
   * @since 0.1.0
   */
  getFailedUpdate(): Promise<UpdateFailedEvent | null>;

  /**
   * Holds the next bundle back until every condition has been met (see `DelayCondition` and
   * `MultiDelayConditions`), replacing earlier conditions. The core stores them on the device
   * and removes each as it is met; meanwhile launches keep serving the current bundle, and
   * `set()` rejects rather than jump the delay. Rejects with `invalidArgument` naming the field
   * for an empty list, an unknown kind or a malformed value.
   *
   * @since 0.1.0
   */
  setMultiDelay(options: MultiDelayConditions): Promise<void>;

  /**
   * Removes the delay conditions: a pending next bundle applies at the next launch (or on the
   * next return to the foreground in apply mode `background`).
   *
   * @since 0.1.0
   */
  cancelDelay(): Promise<void>;

  /**
   * Starts an update cycle now (check, and download and install what is on offer) in the
   * background, also with `autoUpdate` off. Resolves once it is queued, as Capgo's does; the
   * result arrives as events (`updateAvailable` or `noNeedUpdate`, `download`,
   * `downloadComplete`, `updateCheckResult`).
   *
   * @since 0.1.0
   */
  triggerUpdateCheck(): Promise<TriggerUpdateCheckResult>;

  /**
   * The device's transition history (installs, trials, confirmations, reverts), oldest first.
   *
   * @since 0.1.0
   */
  getHistory(): Promise<HistoryResult>;

  /**
   * Everything Liveship keeps about this device, as JSON (for a data-access request).
   *
   * @since 0.1.0
   */
  exportData(): Promise<ExportDataResult>;

  /**
   * Erases what Liveship keeps about this install (for a data-deletion request): the built-in
   * bundle serves and the page reloads, every downloaded bundle, the transition history, the
   * queued events, the delay conditions and the consent choice are deleted, and the install id
   * is replaced by a new one. When the consent had been `full`, a request to erase the old id is
   * sent to `statsUrl`. The channel chosen with `setChannel` stays (a setting, not data).
   *
   * @since 0.1.0
   */
  deleteData(): Promise<DeleteDataResult>;

  /**
   * Sets the user's consent level for update events (docs/PRIVACY.md). Until it is called the
   * level is `defaultConsent` (`off` unless the app configured `anonymous`). Nothing is sent
   * without a `statsUrl`.
   *
   * @since 0.1.0
   */
  setConsent(options: ConsentOptions): Promise<ConsentResult>;

  /**
   * The consent level in force.
   *
   * @since 0.2.0
   */
  getConsent(): Promise<ConsentResult>;

  /**
   * Uses `url` as `updateUrl` from now on. Needs `allowModifyUrl: true` in the configuration
   * (else rejects `invalidArgument`); kept across restarts only with `persistModifyUrl: true`.
   * Releases are still verified against the pinned keys: a new URL can only serve what they
   * signed.
   *
   * @since 0.2.0
   */
  setUpdateUrl(options: UpdateUrl): Promise<void>;

  /**
   * Uses `url` as `statsUrl` from now on (gated and kept like `setUpdateUrl`). Consent still
   * decides what is sent.
   *
   * @since 0.2.0
   */
  setStatsUrl(options: StatsUrl): Promise<void>;

  /**
   * Uses `url` as `channelUrl` (Capgo mode's channel endpoint) from now on (gated and kept like
   * `setUpdateUrl`).
   *
   * @since 0.2.0
   */
  setChannelUrl(options: ChannelUrl): Promise<void>;

  /**
   * The app id in force.
   *
   * @since 0.2.0
   */
  getAppId(): Promise<GetAppIdRes>;

  /**
   * Uses another app id from now on (container apps). Needs `allowModifyAppId: true`; kept
   * across restarts with `persistModifyUrl: true`. Signed manifests must name the new id.
   *
   * @since 0.2.0
   */
  setAppId(options: SetAppIdOptions): Promise<void>;

  /**
   * Sets your own id for this device (`""` clears it); kept across restarts with
   * `persistCustomId: true`. It leaves the device only in events under consent `full`, is in
   * `exportData()` and is erased by `deleteData()`.
   *
   * @since 0.2.0
   */
  setCustomId(options: SetCustomIdOptions): Promise<void>;

  /**
   * Whether checks can run: an `updateUrl` is set (Capgo answers `false` for any custom
   * `updateUrl`; Liveship always has one).
   *
   * @since 0.2.0
   */
  isAutoUpdateAvailable(): Promise<AutoUpdateAvailable>;

  /**
   * Declares bundle `id` broken (needs `allowManualBundleError: true`): it is reverted as an
   * unconfirmed trial would be (status `error`, never offered again, its roles taken; the
   * page reloads if it was serving) and `updateFailed` is sent. Resolves with the bundle.
   *
   * @since 0.2.0
   */
  setBundleError(options: BundleId): Promise<BundleInfo>;

  /**
   * Which files a delta would fetch: the entries given (or the release on offer's signed file
   * list) whose content this device holds nowhere. Nothing is downloaded.
   *
   * @since 0.2.0
   */
  getMissingBundleFiles(options: GetMissingBundleFilesOptions): Promise<GetMissingBundleFilesResult>;

  /**
   * The bytes those files weigh, from the signed file list of the release on offer (never the
   * server's word). A release without per-file objects downloads whole: the total is its size.
   *
   * @since 0.2.0
   */
  getBundleDownloadSize(options: GetBundleDownloadSizeOptions): Promise<GetBundleDownloadSizeResult>;

  /**
   * Capgo mode: the channels Capgo's channel endpoint (`channelUrl`) offers this app. Other
   * modes reject `unavailable` (Liveship's repositories publish no channel list yet).
   *
   * @since 0.2.0
   */
  listChannels(): Promise<ListChannelsResult>;

  /**
   * Turns the debug menu on or off (starts as `shakeMenu` configures it): a shake shows Reload,
   * Reset to the built-in bundle and Close (docs/CAPGO.md §5). For development and QA builds.
   *
   * @since 0.2.0
   */
  setShakeMenu(options: SetShakeMenuOptions): Promise<void>;

  /** Whether the debug menu is on. @since 0.2.0 */
  isShakeMenuEnabled(): Promise<ShakeMenuEnabled>;

  /**
   * Adds the channels this device may follow to the debug menu (starts as
   * `allowShakeChannelSelector` configures it); choosing one follows it and updates now.
   *
   * @since 0.2.0
   */
  setShakeChannelSelector(options: SetShakeChannelSelectorOptions): Promise<void>;

  /** Whether the debug menu offers channels. @since 0.2.0 */
  isShakeChannelSelectorEnabled(): Promise<ShakeChannelSelectorEnabled>;

  /**
   * Previews another channel (needs `allowPreview: true`; static mode): its newest release,
   * verified like any other (a pinned key must be allowed for that channel), is installed
   * beside the production line and serves now instead of it; the line's bundles are untouched.
   * `name` is the channel; `source` a label of yours; `appId` and `payloadUrl` are refused
   * (a preview is a channel of this app's repository, not another app). Its page still calls
   * `notifyAppReady()`; if it does not, the next launch ends the preview. A preview is never
   * confirmed into the production line.
   *
   * @since 0.2.0
   */
  startPreviewSession(options?: StartPreviewSessionOptions): Promise<void>;
  /** The previews kept, the one serving, what serves and the production bundle. @since 0.2.0 */
  listPreviews(): Promise<PreviewListResult>;
  /** Serves preview `id` again instead of the production line. @since 0.2.0 */
  setPreview(options: BundleId): Promise<void>;
  /** Leaves the preview: the production line serves again (the preview is kept). @since 0.2.0 */
  resetPreview(): Promise<void>;
  /** Leaves preview `id` if it serves and deletes it. @since 0.2.0 */
  deletePreview(options: BundleId): Promise<DeletePreviewResult>;
  /** Whether the preview's channel has a newer release (`latestVersion`). @since 0.2.0 */
  checkPreviewUpdate(options: BundleId): Promise<PreviewUpdateResult>;
  /**
   * Installs the newer release of the preview's channel as the preview (labels kept, the old
   * bundle deleted; it serves if the preview did).
   *
   * @since 0.2.0
   */
  updatePreview(options: BundleId): Promise<PreviewUpdateResult>;

  /**
   * The store's view of this app. Android: Google Play's in-app update info (`AppUpdate.kt`).
   * iOS: the App Store's lookup for this bundle id (`country`: its two-letter storefront), with
   * `updateAvailability` 2 when the store's version is newer than this build's. Rejects
   * `unavailable` on other platforms.
   *
   * @since 0.2.0
   */
  getAppUpdateInfo(options?: GetAppUpdateInfoOptions): Promise<AppUpdateInfo>;
  /**
   * Opens this app's store page. Android: the Play Store app (`packageName`, default this app),
   * else its web page. iOS: `appId`, the App Store id (digits), is required.
   *
   * @since 0.2.0
   */
  openAppStore(options?: OpenAppStoreOptions): Promise<void>;
  /**
   * Android: Google Play's immediate (full-screen) update; resolves with Capgo's
   * `AppUpdateResultCode` (0 OK, 1 canceled, 2 failed, 3 not available, 4 not allowed, 5 info
   * missing). iOS rejects `unavailable`, as Capgo does.
   *
   * @since 0.2.0
   */
  performImmediateUpdate(): Promise<AppUpdateResult>;
  /**
   * Android: starts Google Play's flexible (background) update; progress arrives as
   * `onFlexibleUpdateStateChange`; `completeFlexibleUpdate()` installs it. iOS rejects
   * `unavailable`.
   *
   * @since 0.2.0
   */
  startFlexibleUpdate(): Promise<AppUpdateResult>;
  /** Android: installs a downloaded flexible update (the app restarts). @since 0.2.0 */
  completeFlexibleUpdate(): Promise<void>;

  /**
   * Removes every listener of this plugin.
   *
   * @since 0.1.0
   */
  removeAllListeners(): Promise<void>;

  /**
   * Download progress (0 to 100) of a release.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'download', listenerFunc: (state: DownloadEvent) => void): Promise<PluginListenerHandle>;

  /**
   * A check found nothing to take.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'noNeedUpdate', listenerFunc: (state: NoNeedEvent) => void): Promise<PluginListenerHandle>;

  /**
   * A check found a release this device may take.
   *
   * @since 0.1.0
   */
  addListener(
    eventName: 'updateAvailable',
    listenerFunc: (state: UpdateAvailableEvent) => void,
  ): Promise<PluginListenerHandle>;

  /**
   * A release was verified and installed as the next bundle.
   *
   * @since 0.1.0
   */
  addListener(
    eventName: 'downloadComplete',
    listenerFunc: (state: DownloadCompleteEvent) => void,
  ): Promise<PluginListenerHandle>;

  /**
   * A download or its verification failed; the previous bundle stays.
   *
   * @since 0.1.0
   */
  addListener(
    eventName: 'downloadFailed',
    listenerFunc: (state: DownloadFailedEvent) => void,
  ): Promise<PluginListenerHandle>;

  /**
   * A bundle was reverted (never confirmed, timed out, or revoked by an incident).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'updateFailed', listenerFunc: (state: UpdateFailedEvent) => void): Promise<PluginListenerHandle>;

  /**
   * A bundle started serving (after `set()`, `reload()`, a revert or an `immediate` apply).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'set', listenerFunc: (state: BundleEvent) => void): Promise<PluginListenerHandle>;

  /**
   * A bundle became the next one.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'setNext', listenerFunc: (state: BundleEvent) => void): Promise<PluginListenerHandle>;

  /**
   * The WebView was reloaded by the plugin (delivered to the new page if it listens early).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'appReloaded', listenerFunc: () => void): Promise<PluginListenerHandle>;

  /**
   * A bundle confirmed readiness.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'appReady', listenerFunc: (state: AppReadyEvent) => void): Promise<PluginListenerHandle>;

  /**
   * An update cycle (automatic or `triggerUpdateCheck()`) ended.
   *
   * @since 0.1.0
   */
  addListener(
    eventName: 'updateCheckResult',
    listenerFunc: (state: UpdateCheckResultEvent) => void,
  ): Promise<PluginListenerHandle>;

  /**
   * A delta download was abandoned for the full bundle (Liveship's own event).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'deltaFallback', listenerFunc: (state: ReasonEvent) => void): Promise<PluginListenerHandle>;

  /**
   * The device state was reset (new native version, incident, `deleteData()`).
   *
   * @since 0.1.0
   */
  addListener(eventName: 'stateReset', listenerFunc: (state: ReasonEvent) => void): Promise<PluginListenerHandle>;

  /**
   * The newest release envelope this device verified for its channel has expired and no
   * fresher one came: the update host is replaying an old release (a freeze attack) or the
   * publisher stopped refreshing it (`liveship refresh`, docs/HOSTING.md). Sent once per such
   * envelope, at the end of the check that found it stale, also when that check failed
   * (Liveship's own event). Updates keep working; this is for monitoring.
   *
   * @since 0.1.0
   */
  addListener(eventName: 'updatesStale', listenerFunc: (state: UpdatesStaleEvent) => void): Promise<PluginListenerHandle>;

  /**
   * A release is on offer that needs a native update first (Capgo's event; sent with
   * `majorAvailable` too).
   *
   * @since 0.2.0
   */
  addListener(
    eventName: 'breakingAvailable',
    listenerFunc: (state: BreakingAvailableEvent) => void,
  ): Promise<PluginListenerHandle>;

  /** Capgo's older name of `breakingAvailable`, sent with it. @since 0.2.0 */
  addListener(eventName: 'majorAvailable', listenerFunc: (state: MajorAvailableEvent) => void): Promise<PluginListenerHandle>;

  /**
   * Capgo mode: `setChannel` was refused because devices may not choose that channel.
   *
   * @since 0.2.0
   */
  addListener(eventName: 'channelPrivate', listenerFunc: (state: ChannelPrivateEvent) => void): Promise<PluginListenerHandle>;

  /** Android: a flexible Play update's progress (`startFlexibleUpdate`). @since 0.2.0 */
  addListener(
    eventName: 'onFlexibleUpdateStateChange',
    listenerFunc: (state: FlexibleUpdateState) => void,
  ): Promise<PluginListenerHandle>;
}

/**
 * What the native side implements: `notifyAppReady` takes the page's bundle id explicitly.
 * Apps use {@link LiveshipPlugin}; the JS layer adds the id.
 *
 * @since 0.1.0
 */
export interface LiveshipNativePlugin extends Omit<LiveshipPlugin, 'notifyAppReady'> {
  notifyAppReady(options: NotifyAppReadyOptions): Promise<AppReadyResult>;
}
