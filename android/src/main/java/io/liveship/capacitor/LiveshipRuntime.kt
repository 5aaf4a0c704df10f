// The process-wide core: one `Updater` per process, shared by the plugin (when the WebView runs)
// and the WorkManager worker (which may run without any Activity). Opening it twice on the same
// data folder would be safe (the core locks across processes) but wasteful.
package io.liveship.capacitor

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.util.Log
import com.getcapacitor.CapConfig
import io.liveship.Event
import io.liveship.EventListener
import io.liveship.HostInfo
import io.liveship.LogLevel
import io.liveship.Logger
import io.liveship.Updater
import io.liveship.capacitor.core.KeyValueStore
import io.liveship.capacitor.core.LiveshipController
import io.liveship.capacitor.core.PluginSettings
import io.liveship.setLogger
import org.json.JSONObject
import java.io.File

internal object LiveshipRuntime {
    const val TAG = "Liveship"

    private var controller: LiveshipController? = null

    /** Where events go; the plugin sets it while it is loaded. Called on the core's threads. */
    @Volatile var sink: ((Event) -> Unit)? = null

    private val listener = object : EventListener {
        override fun onEvent(event: Event) {
            val target = sink
            if (target == null) Log.d(TAG, "event with no plugin loaded: $event") else target(event)
        }
    }

    private object Logcat : Logger {
        override fun log(level: LogLevel, target: String, message: String) {
            when (level) {
                LogLevel.ERROR -> Log.e(TAG, "[$target] $message")
                LogLevel.WARN -> Log.w(TAG, "[$target] $message")
                LogLevel.INFO -> Log.i(TAG, "[$target] $message")
                LogLevel.DEBUG, LogLevel.TRACE -> Log.d(TAG, "[$target] $message")
            }
        }
    }

    /** The `plugins.Liveship` object of the app's capacitor.config (for the worker). */
    fun configFromAssets(context: Context): JSONObject =
        CapConfig.loadDefault(context).getPluginConfiguration("Liveship").configJSON

    /**
     * Opens the core once per process. Throws the core's error when the configuration is not
     * valid; the caller keeps serving the built-in bundle.
     */
    @Synchronized
    fun open(context: Context, pluginConfig: JSONObject): LiveshipController {
        controller?.let { return it }
        val app = context.applicationContext
        val nativeVersion = versionName(app)
        val json = JSONObject(pluginConfig.toString())
        if (!json.has("builtinVersion")) json.put("builtinVersion", nativeVersion)
        setLogger(Logcat, if (json.optBoolean("development", false)) LogLevel.DEBUG else LogLevel.INFO)
        val host = HostInfo(
            appId = app.packageName,
            platform = "android",
            nativeVersion = nativeVersion,
            dataDir = File(app.filesDir, "liveship").absolutePath,
            // The built-in bundle lives in the APK's assets, not in a folder: deltas draw on
            // downloaded bundles only (docs/PLUGIN.md). A folder that does not exist says so.
            builtinDir = File(app.filesDir, "liveship-builtin-in-apk-assets").absolutePath,
        )
        val updater = Updater.fromJson(json.toString(), host, listener)
        val settings = PluginSettings.of(updater.config())
        return LiveshipController(updater, settings, PrefsStore(app)).also { controller = it }
    }

    private fun versionName(context: Context): String {
        val pm = context.packageManager
        val info = if (Build.VERSION.SDK_INT >= 33) {
            pm.getPackageInfo(context.packageName, PackageManager.PackageInfoFlags.of(0))
        } else {
            @Suppress("DEPRECATION")
            pm.getPackageInfo(context.packageName, 0)
        }
        return info.versionName ?: "0"
    }
}

/** The plugin's own flag (the telemetry consent) in SharedPreferences. */
internal class PrefsStore(context: Context) : KeyValueStore {
    private val prefs = context.getSharedPreferences("io.liveship.capacitor", Context.MODE_PRIVATE)
    override fun get(key: String): String? = prefs.getString(key, null)
    override fun put(key: String, value: String) { prefs.edit().putString(key, value).apply() }
    override fun remove(key: String) { prefs.edit().remove(key).apply() }
}
