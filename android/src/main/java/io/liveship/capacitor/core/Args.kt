// Argument checks for the plugin's methods, in plain Kotlin (no Android imports) so the host
// tests run them. Same rules as plugin/src/args.ts: the JS layer checks first, this layer checks
// again because a page can call the bridge directly.
package io.liveship.capacitor.core

import io.liveship.DelayCondition

/** A call rejected before it reached the core; `field` names the argument. */
class ArgumentException(val field: String, reason: String) :
    IllegalArgumentException("invalid argument $field: $reason")

/** `download()` options, checked. */
data class DownloadRequest(val url: String?, val version: String?)

object Args {
    /** Content id (lowercase SHA-256 hex) or `builtin`. */
    private val BUNDLE_ID = Regex("^(builtin|[0-9a-f]{16,64})$")

    /** Channel rule of the release format (docs/FORMAT.md). */
    private val CHANNEL = Regex("^[a-z0-9][a-z0-9._-]{0,63}$")
    private val ISO_DATE = Regex("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})$")
    private val MILLIS = Regex("^\\d{1,12}$")

    /** A native app version (`versionName`, `CFBundleShortVersionString`): `2`, `1.10.0-beta`. */
    private val NATIVE_VERSION = Regex("^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")

    const val BUILTIN = "builtin"

    fun bundleId(value: Any?): String {
        if (value !is String || !BUNDLE_ID.matches(value)) {
            throw ArgumentException("id", "must be a bundle id from list() or download() (16 hex digits) or \"builtin\"")
        }
        return value
    }

    fun deletableBundleId(value: Any?): String {
        val id = bundleId(value)
        if (id == BUILTIN) throw ArgumentException("id", "the built-in bundle cannot be deleted")
        return id
    }

    /** The id a page sends with `notifyAppReady` (captured when the page started). */
    fun pageBundleId(value: Any?): String {
        if (value !is String || !BUNDLE_ID.matches(value)) {
            throw ArgumentException("bundleId", "must be the id of the bundle that served the page")
        }
        return value
    }

    fun channel(value: Any?): String {
        if (value !is String || !CHANNEL.matches(value)) {
            throw ArgumentException(
                "channel",
                "must be 1-64 characters of a-z, 0-9, \".\", \"_\", \"-\", starting with a letter or digit",
            )
        }
        return value
    }

    fun optionalChannel(value: Any?): String? = if (value == null) null else channel(value)

    fun optionalBoolean(field: String, value: Any?, default: Boolean): Boolean = when (value) {
        null -> default
        is Boolean -> value
        else -> throw ArgumentException(field, "must be a boolean")
    }

    fun consent(value: Any?): Boolean {
        if (value !is Boolean) throw ArgumentException("telemetry", "must be a boolean")
        return value
    }

    fun download(url: Any?, version: Any?, sessionKey: Any?, checksum: Any?): DownloadRequest {
        if (sessionKey != null) throw ArgumentException("sessionKey", "is not used: keys and hashes travel in the signed manifest")
        if (checksum != null) throw ArgumentException("checksum", "is not used: keys and hashes travel in the signed manifest")
        fun optionalText(field: String, v: Any?): String? = when {
            v == null -> null
            v is String && v.isNotEmpty() -> v
            else -> throw ArgumentException(field, "must be a non-empty string when given")
        }
        return DownloadRequest(optionalText("url", url), optionalText("version", version))
    }

    /**
     * `setMultiDelay`'s `delayConditions` (the JSON array as Kotlin lists and maps, Capgo's shape
     * `[{kind, value?}]`) as the core's conditions: `background` value in milliseconds (default
     * 0), `date` an ISO 8601 date-time (to Unix seconds, rounded up so it never applies early),
     * `nativeVersion` the version the native app must reach. The core decides when each is met.
     */
    fun delayConditions(conditions: Any?): List<DelayCondition> {
        if (conditions !is List<*> || conditions.isEmpty()) {
            throw ArgumentException("delayConditions", "must be a non-empty array (use cancelDelay() to clear)")
        }
        return conditions.mapIndexed { i, c ->
            if (c !is Map<*, *>) throw ArgumentException("delayConditions[$i]", "must be an object")
            val field = "delayConditions[$i].value"
            val value = c["value"]
            if (value != null && value !is String) throw ArgumentException(field, "must be a string")
            value as String?
            when (c["kind"]) {
                "background" -> {
                    if (value != null && !MILLIS.matches(value)) throw ArgumentException(field, "must be a whole number of milliseconds")
                    DelayCondition.Background((value ?: "0").toULong())
                }
                "kill" -> DelayCondition.Kill
                "date" -> {
                    val ms = value?.takeIf { ISO_DATE.matches(it) }?.let(Iso8601::parseMillis)
                        ?: throw ArgumentException(field, "must be an ISO 8601 date-time")
                    DelayCondition.Date(((maxOf(ms, 0L) + 999) / 1000).toULong())
                }
                "nativeVersion" -> {
                    if (value == null || !NATIVE_VERSION.matches(value)) {
                        throw ArgumentException(field, "must be a native app version such as \"2.1.0\"")
                    }
                    DelayCondition.NativeVersion(value)
                }
                else -> throw ArgumentException(
                    "delayConditions[$i].kind",
                    "must be \"background\", \"kill\", \"date\" or \"nativeVersion\"",
                )
            }
        }
    }
}
