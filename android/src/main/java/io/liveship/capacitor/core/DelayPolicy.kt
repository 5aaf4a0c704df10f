// `setMultiDelay` conditions: stored on the device, consulted when the app returns to the
// foreground before a pending bundle may be applied while the app runs. A cold start always
// serves a pending next bundle: that decision belongs to the core's launch.
package io.liveship.capacitor.core

/** Persistence the plugin provides (SharedPreferences, UserDefaults; a map in tests). */
interface KeyValueStore {
    fun get(key: String): String?
    fun put(key: String, value: String)
    fun remove(key: String)
}

class MemoryStore : KeyValueStore {
    private val map = HashMap<String, String>()
    @Synchronized override fun get(key: String) = map[key]
    @Synchronized override fun put(key: String, value: String) { map[key] = value }
    @Synchronized override fun remove(key: String) { map.remove(key) }
}

class DelayPolicy(private val store: KeyValueStore) {
    fun set(conditions: List<DelayCondition>) {
        store.put(KEY, conditions.joinToString("\n") { "${it.kind}\t${it.value ?: ""}" })
    }

    fun cancel() = store.remove(KEY)

    fun conditions(): List<DelayCondition> = store.get(KEY)?.lines()?.filter { it.isNotEmpty() }?.map {
        val (kind, value) = it.split('\t', limit = 2).let { p -> p[0] to p.getOrElse(1) { "" } }
        DelayCondition(kind, value.ifEmpty { null })
    } ?: emptyList()

    /**
     * Whether a pending bundle may be applied now, on return to the foreground after
     * `backgroundMs` in the background, at `nowMs`. Every condition must hold; `kill` never
     * holds while the app runs.
     */
    fun mayApplyInForeground(backgroundMs: Long, nowMs: Long): Boolean = conditions().all { c ->
        when (c.kind) {
            "background" -> backgroundMs >= (c.value?.toLongOrNull() ?: 0L)
            "kill" -> false
            "date" -> c.value?.let(Iso8601::parseMillis)?.let { nowMs >= it } ?: false
            else -> false
        }
    }

    private companion object {
        const val KEY = "liveship.delayConditions"
    }
}
