// The plugin's own flags (the telemetry consent) outside the core: SharedPreferences on the
// device, a map in the host tests. Update decisions (delay conditions included) live in the
// core's store, never here.
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
