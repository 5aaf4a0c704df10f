// ISO 8601 formatting and parsing with java.text (available on every Android API level and on
// the host JVM), so no desugaring is needed for java.time.
package io.liveship.capacitor.core

import java.text.ParseException
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

object Iso8601 {
    private fun format(pattern: String) = SimpleDateFormat(pattern, Locale.US).apply {
        timeZone = TimeZone.getTimeZone("UTC")
        isLenient = false
    }

    /** Unix seconds to `2026-01-02T03:04:05Z`. */
    fun fromSeconds(seconds: Long): String = format("yyyy-MM-dd'T'HH:mm:ss'Z'").format(Date(seconds * 1000))

    /** Milliseconds since the epoch, or null when `text` is not a date-time this accepts. */
    fun parseMillis(text: String): Long? {
        val normalised = text.replace(Regex("\\.\\d+"), "").replace(Regex("Z$"), "+0000").replace(Regex("([+-]\\d{2}):(\\d{2})$"), "$1$2")
        for (pattern in listOf("yyyy-MM-dd'T'HH:mm:ssZ", "yyyy-MM-dd'T'HH:mmZ")) {
            try {
                return format(pattern).parse(normalised)?.time
            } catch (_: ParseException) {
            }
        }
        return null
    }
}
