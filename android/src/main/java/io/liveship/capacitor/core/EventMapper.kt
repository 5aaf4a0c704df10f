// Maps the core's events to what the plugin does: a JavaScript event (Capgo's names and
// shapes) and, for `ReloadRequired`, a WebView reload. The one place the names are decided.
package io.liveship.capacitor.core

import io.liveship.BundleInfo
import io.liveship.BundleStatus
import io.liveship.Event

/** Events delivered to the first listener even when they happened before it was added. */
val RETAINED = setOf("updateFailed", "appReady")

/** What the native plugin must do for one core event. */
sealed class Action {
    /**
     * `notifyListeners(name, payload, retain)`. `retain`: kept until a listener takes it, for
     * events that happen before the page can listen (a revert or confirmation at start-up).
     */
    data class Emit(val name: String, val payload: Payload, val retain: Boolean = name in RETAINED) : Action()

    /** Point the WebView at `path` (`null` = built-in bundle), then emit `appReloaded`. */
    data class Reload(val bundleId: String, val path: String?, val reason: String) : Action()

    /** Remember for `getFailedUpdate()`. */
    data class Failed(val payload: Payload) : Action()
}

/**
 * `installed` is read lazily, only for events that name an installed bundle. It calls into the
 * core, so map events on a thread of the plugin's own, never inside the core's listener call.
 */
class EventMapper(private val builtinVersion: String, private val installed: () -> List<BundleInfo>) {
    fun map(event: Event): List<Action> = when (event) {
        is Event.Download -> listOf(
            Action.Emit(
                "download",
                linkedMapOf(
                    "percent" to event.percent.toInt(),
                    "bundle" to Payloads.partial("", event.version, "downloading", "offered"),
                    "downloadedBytes" to event.downloaded.toLong(),
                    "totalBytes" to event.total.toLong(),
                ),
            ),
        )
        is Event.NoNeedUpdate -> listOf(Action.Emit("noNeedUpdate", linkedMapOf("bundle" to serving(), "reason" to event.reason)))
        is Event.UpdateAvailable -> listOf(
            Action.Emit(
                "updateAvailable",
                linkedMapOf("bundle" to Payloads.partial("", event.version, "pending", "offered") + ("sequence" to event.sequence.toLong())),
            ),
        )
        is Event.DownloadComplete -> listOf(Action.Emit("downloadComplete", linkedMapOf("bundle" to bundle(event.bundleId, event.version))))
        is Event.DownloadFailed -> listOf(Action.Emit("downloadFailed", linkedMapOf("version" to event.version, "error" to event.error)))
        is Event.UpdateFailed -> {
            val payload = linkedMapOf<String, Any?>(
                "bundle" to (bundle(event.bundleId, event.version) + mapOf("status" to "error", "role" to "failed")),
                "reason" to event.reason,
            )
            listOf(Action.Failed(payload), Action.Emit("updateFailed", payload))
        }
        is Event.Set -> listOf(Action.Emit("set", linkedMapOf("bundle" to bundle(event.bundleId))))
        is Event.SetNext -> listOf(Action.Emit("setNext", linkedMapOf("bundle" to bundle(event.bundleId))))
        is Event.AppReady -> listOf(Action.Emit("appReady", linkedMapOf("bundle" to bundle(event.bundleId), "status" to "ok")))
        is Event.ReloadRequired -> listOf(Action.Reload(event.bundleId, event.path, event.reason))
        is Event.DeltaFallback -> listOf(Action.Emit("deltaFallback", linkedMapOf("reason" to event.reason)))
        is Event.StateReset -> listOf(Action.Emit("stateReset", linkedMapOf("reason" to event.reason)))
        is Event.UpdateFinished -> listOf(Action.Emit("updateCheckResult", Payloads.outcome(event.outcome, installed(), builtinVersion)))
        is Event.UpdateError -> listOf(Action.Emit("updateCheckResult", Payloads.outcomeError(event.error)))
    }

    private fun bundle(id: String, version: String = ""): Payload = Payloads.byId(id, installed(), builtinVersion, version)

    /** The trial if there is one (it serves), else the current bundle, else the built-in one. */
    private fun serving(): Payload {
        val all = installed()
        return (all.firstOrNull { it.status == BundleStatus.TRIAL } ?: all.firstOrNull { it.status == BundleStatus.CURRENT })
            ?.let(Payloads::bundle) ?: Payloads.builtin(builtinVersion)
    }
}
