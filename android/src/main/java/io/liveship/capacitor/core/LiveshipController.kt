// Everything the plugin's methods do besides threading, lifecycle and the WebView: argument
// checks, the calls into the core, and the payloads JavaScript receives. Plain Kotlin over the
// uniffi `UpdaterInterface`, so the host tests drive it against the real library; the Android
// plugin class only moves calls onto its executor and acts on the returned `LaunchResult`s.
package io.liveship.capacitor.core

import io.liveship.CheckResult
import io.liveship.Config
import io.liveship.LaunchResult
import io.liveship.LiveshipException
import io.liveship.ResetTarget
import io.liveship.UpdateOutcome
import io.liveship.UpdaterInterface

/** The options the plugin acts on itself (schedules, payloads), as the core parsed them. */
data class PluginSettings(
    val autoUpdate: Boolean = true,
    val updateUrl: String? = null,
    val builtinVersion: String,
    val nativeVersion: String,
    val periodCheckDelaySeconds: Long = 0,
    val backgroundIntervalMinutes: Long = 360,
    val backgroundUnmeteredOnly: Boolean = false,
    val backgroundChargingOnly: Boolean = false,
) {
    companion object {
        /** From the core's configuration (`Updater.config()`): no option is parsed here. */
        fun of(config: Config) = PluginSettings(
            autoUpdate = config.autoUpdate,
            updateUrl = config.updateUrl?.takeUnless { it.isEmpty() },
            builtinVersion = config.builtinVersion,
            nativeVersion = config.nativeVersion,
            periodCheckDelaySeconds = config.periodCheckDelay.toLong(),
            backgroundIntervalMinutes = config.backgroundIntervalMinutes.toLong(),
            backgroundUnmeteredOnly = config.backgroundUnmeteredOnly,
            backgroundChargingOnly = config.backgroundChargingOnly,
        )
    }
}

/**
 * A switch of the serving bundle. `announced`: the core already emitted `ReloadRequired` for it
 * (apply, reset), so the event handler reloads the WebView and the caller must not do it again;
 * otherwise the caller reloads the WebView from `launch`.
 */
data class Swap(val launch: LaunchResult, val reason: String, val announced: Boolean)

class LiveshipController(
    private val updater: UpdaterInterface,
    val settings: PluginSettings,
    private val store: KeyValueStore,
) {
    val events = EventMapper(settings.builtinVersion) { updater.list() }

    @Volatile private var failed: Payload? = null

    /** Remembers a revert for `getFailedUpdate()` (from an event or the launch result). */
    fun recordFailure(payload: Payload) {
        failed = payload
    }

    /** Native start-up: which bundle to load. Records a revert that happened on the way. */
    fun launch(): LaunchResult {
        val l = updater.launch()
        l.reverted?.let {
            recordFailure(
                linkedMapOf(
                    "bundle" to Payloads.partial(it.id, it.version, "error", "failed"),
                    "reason" to it.reason,
                ),
            )
        }
        return l
    }

    fun notifyAppReady(bundleId: Any?): Payload {
        val id = Args.pageBundleId(bundleId)
        updater.notifyAppReady(id)
        return linkedMapOf("bundle" to bundle(id))
    }

    /**
     * Check, download, verify and install the offered release as next. `url` must be the
     * configured `updateUrl`; `version`, when given, must be what the server offers.
     */
    fun download(req: DownloadRequest): Payload {
        req.url?.let { url ->
            val configured = settings.updateUrl ?: throw ArgumentException("url", "no updateUrl is configured")
            if (url.trimEnd('/') != configured.trimEnd('/')) {
                throw ArgumentException("url", "Liveship installs signed releases from the configured updateUrl only")
            }
        }
        req.version?.let { wanted ->
            when (val c = updater.check()) {
                is CheckResult.UpdateAvailable -> if (c.version != wanted) {
                    throw ArgumentException("version", "the server offers ${c.version}, not $wanted")
                }
                is CheckResult.NoUpdate -> throw PluginError("invalidArgument", "no update to download (${c.code}): ${c.reason}")
            }
        }
        return when (val o = updater.downloadAndInstall()) {
            is UpdateOutcome.Installed -> bundle(o.id, o.version)
            is UpdateOutcome.NoUpdate -> throw PluginError("invalidArgument", "no update to download (${o.code}): ${o.reason}")
        }
    }

    fun next(id: Any?): Payload {
        val bundleId = Args.bundleId(id)
        if (bundleId == Args.BUILTIN) throw ArgumentException("id", "the built-in bundle cannot be next; use reset()")
        updater.setNext(bundleId)
        return bundle(bundleId)
    }

    /**
     * Switch now: the bundle becomes the trial; the WebView must load the returned launch. Pending
     * delay conditions hold it back (the core decides): the call then rejects and it stays next.
     */
    fun set(id: Any?): Swap {
        val bundleId = Args.bundleId(id)
        if (bundleId == Args.BUILTIN) return Swap(updater.reset(ResetTarget.BUILTIN), "set builtin", announced = true)
        updater.setNext(bundleId)
        val l = updater.applyNext() ?: if (updater.delayConditions().isNotEmpty()) {
            throw PluginError(
                "invalidArgument",
                "bundle $bundleId is next and applies once its delay conditions are met; call cancelDelay() first to switch now",
            )
        } else {
            throw PluginError("internal", "bundle $bundleId was set as next but did not apply")
        }
        return Swap(l, "set $bundleId", announced = true)
    }

    /** Applies a pending next bundle, else reloads what serves. */
    fun reload(): Swap = updater.applyNext()?.let { Swap(it, "reload: applied next", announced = true) }
        ?: Swap(updater.current(), "reload", announced = false)

    fun reset(toLastSuccessful: Any?): Swap {
        val last = Args.optionalBoolean("toLastSuccessful", toLastSuccessful, false)
        return Swap(updater.reset(if (last) ResetTarget.LAST_GOOD else ResetTarget.BUILTIN), "reset", announced = true)
    }

    fun current(): Payload {
        val l = updater.current()
        return linkedMapOf("bundle" to Payloads.launch(l, updater.list(), settings.builtinVersion), "native" to settings.nativeVersion)
    }

    fun list(): Payload = linkedMapOf("bundles" to updater.list().map(Payloads::bundle))

    fun delete(id: Any?) = updater.delete(Args.deletableBundleId(id))

    fun getLatest(channel: Any?): Payload {
        Args.optionalChannel(channel)?.let { wanted ->
            val mine = updater.getChannel()
            if (wanted != mine) throw ArgumentException("channel", "this device follows \"$mine\"; call setChannel() to change it")
        }
        return Payloads.latest(updater.check(), updater.current().version)
    }

    fun setChannel(channel: Any?): Payload {
        updater.setChannel(Args.channel(channel))
        return linkedMapOf("status" to "ok")
    }

    fun unsetChannel() = updater.unsetChannel()

    fun getChannel(): Payload = linkedMapOf("channel" to updater.getChannel(), "status" to "ok", "allowSet" to true)

    fun getDeviceId(): Payload = linkedMapOf("deviceId" to updater.deviceId())

    fun getBuiltinVersion(): Payload = linkedMapOf("version" to settings.builtinVersion)

    fun isAutoUpdateEnabled(): Payload = linkedMapOf("enabled" to (settings.autoUpdate && !settings.updateUrl.isNullOrEmpty()))

    fun getNextBundle(): Payload? = updater.status().next?.let(Payloads::bundle)

    /** The last revert since start, cleared once read. */
    fun getFailedUpdate(): Payload? = synchronized(this) { failed.also { failed = null } }

    /** Capgo's `setMultiDelay`: the core keeps the conditions and decides when they are met. */
    fun setMultiDelay(conditions: Any?) = updater.setMultiDelay(Args.delayConditions(conditions))

    fun cancelDelay() = updater.cancelDelay()

    /** The delay conditions not met yet, in Capgo's shape. */
    fun delayConditions(): List<Payload> = updater.delayConditions().map(Payloads::delayCondition)

    /** Checks now; when a release is on offer, starts its download on the core's thread. */
    fun triggerUpdateCheck(): Payload = when (val c = updater.check()) {
        is CheckResult.UpdateAvailable -> {
            updater.startDownloadAndInstall()
            linkedMapOf("updateAvailable" to true, "version" to c.version)
        }
        is CheckResult.NoUpdate -> linkedMapOf("updateAvailable" to false, "code" to c.code, "reason" to c.reason)
    }

    /** Starts an automatic update cycle on the core's thread when `autoUpdate` is on. */
    fun autoUpdate(): Boolean {
        if (isAutoUpdateEnabled()["enabled"] != true) return false
        try {
            updater.startDownloadAndInstall()
        } catch (e: LiveshipException.Busy) {
            return false // a cycle is already running
        }
        return true
    }

    /** For WorkManager / BGTaskScheduler: check, download and install within the deadline. */
    fun runBackgroundUpdate(deadlineSeconds: Long): UpdateOutcome = updater.runBackgroundUpdate(deadlineSeconds.toULong())

    /** The OS stopped the background work early: the running background run stops now. */
    fun endBackgroundRun() = updater.endBackgroundRun()

    /**
     * On return to the foreground. The core measures the time away, meets the delay conditions
     * that now hold and applies a pending bundle when it decides to (announced by
     * `ReloadRequired`); returns what now serves when it changed.
     */
    fun onForeground(): LaunchResult? = updater.appMovedToForeground()

    fun onBackground() = updater.appMovedToBackground()

    fun getHistory(): Payload = linkedMapOf("history" to updater.history().map(Payloads::history))

    fun consent(): Boolean = store.get(CONSENT) == "true"

    fun setConsent(telemetry: Any?): Payload {
        val value = Args.consent(telemetry)
        store.put(CONSENT, value.toString())
        return linkedMapOf("telemetry" to value)
    }

    /** Everything kept about this device, as JSON text. No keys, no URLs. */
    fun exportData(): Payload {
        val status = updater.status()
        val installed = updater.list()
        val data = linkedMapOf(
            "deviceId" to status.deviceId,
            "channel" to status.channel,
            "nativeVersion" to status.nativeVersion,
            "consent" to linkedMapOf("telemetry" to consent()),
            "serving" to Payloads.launch(status.serving, installed, settings.builtinVersion),
            "bundles" to installed.map(Payloads::bundle),
            "history" to updater.history().map(Payloads::history),
            "delayConditions" to delayConditions(),
        )
        return linkedMapOf("json" to Json.write(data))
    }

    /**
     * Back to the built-in bundle, every downloaded bundle deleted, the delay conditions cancelled
     * in the core, the plugin's stored flag (consent) removed. The core's transition history stays: it holds no
     * personal data and the core offers no call to erase it (docs/PLUGIN.md).
     */
    fun deleteData(): Swap {
        val launch = updater.reset(ResetTarget.BUILTIN)
        for (b in updater.list()) {
            try {
                updater.delete(b.id)
            } catch (e: LiveshipException.InvalidArgument) {
                throw PluginError("storage", "bundle ${b.id} could not be deleted after the reset: ${e.`reason`}")
            }
        }
        updater.cancelDelay()
        store.remove(CONSENT)
        failed = null
        return Swap(launch, "deleteData", announced = true)
    }

    private fun bundle(id: String, version: String = ""): Payload =
        Payloads.byId(id, updater.list(), settings.builtinVersion, version)

    private companion object {
        const val CONSENT = "liveship.consent.telemetry"
    }
}
