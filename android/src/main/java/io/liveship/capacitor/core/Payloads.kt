// The one place where the core's uniffi records become the JavaScript payloads of
// definitions.ts (Capgo's shapes plus Liveship's fields). Payloads are plain maps and lists;
// the Android plugin wraps them in JSObject, the host tests read them directly.
package io.liveship.capacitor.core

import io.liveship.BundleInfo
import io.liveship.BundleStatus
import io.liveship.CheckResult
import io.liveship.DelayCondition
import io.liveship.HistoryEntry
import io.liveship.LaunchResult
import io.liveship.LiveshipException
import io.liveship.UpdateOutcome

typealias Payload = Map<String, Any?>

/** A rejection for JavaScript: `code` is the error kind of definitions.ts. */
class PluginError(val code: String, message: String, val check: String? = null) : Exception(message)

object Payloads {
    /** A delay condition the core still waits for, in `setMultiDelay`'s shape `{kind, value?}`. */
    fun delayCondition(c: DelayCondition): Payload = when (c) {
        is DelayCondition.Background -> linkedMapOf("kind" to "background", "value" to c.ms.toString())
        is DelayCondition.Kill -> linkedMapOf("kind" to "kill")
        is DelayCondition.Date -> linkedMapOf("kind" to "date", "value" to Iso8601.fromSeconds(c.notBefore.toLong()))
        is DelayCondition.NativeVersion -> linkedMapOf("kind" to "nativeVersion", "value" to c.atLeast)
    }

    fun bundle(b: BundleInfo): Payload {
        val role = when (b.status) {
            BundleStatus.CURRENT -> "current"
            BundleStatus.FALLBACK -> "fallback"
            BundleStatus.TRIAL -> "trial"
            BundleStatus.NEXT -> "next"
            BundleStatus.READY -> "ready"
            BundleStatus.FAILED -> "failed"
        }
        return linkedMapOf(
            "id" to b.id,
            "version" to b.version,
            "downloaded" to Iso8601.fromSeconds(b.installedAt.toLong()),
            "checksum" to b.id,
            "status" to if (b.status == BundleStatus.FAILED) "error" else "success",
            "role" to role,
            "channel" to b.channel,
            "sequence" to b.sequence.toLong(),
        ).also { m -> b.failedReason?.let { m["failedReason"] = it } }
    }

    fun builtin(version: String): Payload = linkedMapOf(
        "id" to Args.BUILTIN,
        "version" to version,
        "downloaded" to "",
        "checksum" to "",
        "status" to "success",
        "role" to "builtin",
        "channel" to "",
        "sequence" to 0L,
    )

    /**
     * A bundle known only by what an event or a launch says (not installed yet, or not found
     * in the list any more): `status` is Capgo's.
     */
    fun partial(id: String, version: String, status: String, role: String): Payload = linkedMapOf(
        "id" to id,
        "version" to version,
        "downloaded" to "",
        "checksum" to id,
        "status" to status,
        "role" to role,
        "channel" to "",
        "sequence" to 0L,
    )

    /** The payload of bundle `id`, looked up in `installed`; the built-in bundle by its version. */
    fun byId(id: String, installed: List<BundleInfo>, builtinVersion: String, versionHint: String = ""): Payload {
        if (id == Args.BUILTIN) return builtin(builtinVersion)
        return installed.firstOrNull { it.id == id }?.let(::bundle) ?: partial(id, versionHint, "success", "ready")
    }

    fun launch(l: LaunchResult, installed: List<BundleInfo>, builtinVersion: String): Payload =
        byId(l.id, installed, builtinVersion, l.version)

    fun latest(c: CheckResult, servingVersion: String): Payload = when (c) {
        is CheckResult.UpdateAvailable -> linkedMapOf(
            "version" to c.version,
            "available" to true,
            "sequence" to c.sequence.toLong(),
            "channel" to c.channel,
            "bundleSize" to c.bundleSize.toLong(),
        )
        is CheckResult.NoUpdate -> linkedMapOf(
            "version" to servingVersion,
            "available" to false,
            "error" to c.code,
            "message" to c.reason,
        )
    }

    fun history(h: HistoryEntry): Payload = linkedMapOf(
        "seq" to h.seq,
        "at" to Iso8601.fromSeconds(h.at.toLong()),
        "event" to h.event,
        "detail" to h.detail,
    ).also { m -> h.bundle?.let { m["bundle"] = it } }

    /** The `updateCheckResult` event of a finished update cycle. */
    fun outcome(o: UpdateOutcome, installed: List<BundleInfo>, builtinVersion: String): Payload = when (o) {
        is UpdateOutcome.Installed -> linkedMapOf(
            "outcome" to "installed",
            "bundle" to byId(o.id, installed, builtinVersion, o.version),
            "downloadedBytes" to o.downloadedBytes.toLong(),
            "delta" to o.delta,
        ).also { m -> o.deltaFallback?.let { m["reason"] = it } }
        is UpdateOutcome.NoUpdate -> linkedMapOf("outcome" to "noUpdate", "code" to o.code, "reason" to o.reason)
    }

    fun outcomeError(e: Throwable): Payload {
        val err = error(e)
        return linkedMapOf<String, Any?>("outcome" to "error", "error" to err.code, "reason" to err.message)
            .also { m -> err.check?.let { m["code"] = it } }
    }

    /** Any failure as the rejection JavaScript sees. */
    fun error(e: Throwable): PluginError = when (e) {
        is PluginError -> e
        is ArgumentException -> PluginError("invalidArgument", e.message ?: "invalid argument")
        is LiveshipException.Network -> PluginError("network", e.`reason`)
        is LiveshipException.Verification -> PluginError("verification", e.`reason`, e.`check`)
        is LiveshipException.Incompatible -> PluginError("incompatible", e.`reason`)
        is LiveshipException.Storage -> PluginError("storage", e.`reason`)
        is LiveshipException.Busy -> PluginError("busy", e.`reason`)
        is LiveshipException.InvalidArgument -> PluginError("invalidArgument", e.`reason`)
        is LiveshipException.Internal -> PluginError("internal", e.`reason`)
        else -> PluginError("internal", "${e.javaClass.simpleName}: ${e.message}")
    }
}
