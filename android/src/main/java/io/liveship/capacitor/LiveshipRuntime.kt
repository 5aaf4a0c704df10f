// The process-wide core: one `Updater` per process, shared by the plugin (when the WebView runs)
// and the WorkManager worker (which may run without any Activity). Opening it twice on the same
// data folder would be safe (the core locks across processes) but wasteful.
package io.liveship.capacitor

import android.content.Context
import android.content.pm.PackageManager
import android.content.pm.PackageInfo
import android.os.Build
import android.util.Log
import androidx.core.content.pm.PackageInfoCompat
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
        // Called by the core on its threads: an exception thrown here would cross the uniffi
        // callback into Rust, which panics on it. Nothing may escape.
        override fun onEvent(event: Event) {
            try {
                val target = sink
                if (target == null) Log.d(TAG, "event with no plugin loaded: $event") else target(event)
            } catch (e: Throwable) {
                Log.w(TAG, "event dropped: $e")
            }
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
        // Before the core exists, so before its first HTTPS request (src/android.rs).
        LiveshipNative.initTls(app)
        val info = packageInfo(app)
        val nativeVersion = info.versionName ?: "0"
        val json = JSONObject(pluginConfig.toString())
        if (!json.has("builtinVersion")) json.put("builtinVersion", nativeVersion)
        setLogger(Logcat, if (json.optBoolean("development", false)) LogLevel.DEBUG else LogLevel.INFO)
        val host = HostInfo(
            appId = app.packageName,
            platform = "android",
            nativeVersion = nativeVersion,
            // versionCode, compared with versionName as Capacitor's Bridge.isNewBinary() does.
            nativeBuild = PackageInfoCompat.getLongVersionCode(info).toString(),
            dataDir = dataDir(app).absolutePath,
            // The built-in bundle lives in the APK's assets, not in a folder: deltas draw on
            // downloaded bundles only (docs/PLUGIN.md). A folder that does not exist says so.
            builtinDir = File(app.filesDir, "liveship-builtin-in-apk-assets").absolutePath,
        )
        val updater = Updater.fromJson(json.toString(), host, listener)
        val settings = PluginSettings.of(updater.config())
        return LiveshipController(updater, settings, PrefsStore(app)).also { controller = it }
    }

    private fun packageInfo(context: Context): PackageInfo {
        val pm = context.packageManager
        return if (Build.VERSION.SDK_INT >= 33) {
            pm.getPackageInfo(context.packageName, PackageManager.PackageInfoFlags.of(0))
        } else {
            @Suppress("DEPRECATION")
            pm.getPackageInfo(context.packageName, 0)
        }
    }

    /**
     * The core's data folder: `noBackupFilesDir/liveship`, outside Auto Backup (bundles exceed
     * its 25 MB quota, and a restore would copy the install id and trial state to another
     * phone; Context.getNoBackupFilesDir: "files that should not be automatically backed up").
     * Earlier versions kept it in `filesDir/liveship`: that folder is moved once (a rename
     * within the app's data directory). If the move fails the old folder is used as it is, so
     * that no installed bundle or trial state is lost.
     */
    private fun dataDir(context: Context): File {
        val dir = File(context.noBackupFilesDir, "liveship")
        val legacy = File(context.filesDir, "liveship")
        if (legacy.isDirectory && !dir.exists()) {
            if (!legacy.renameTo(dir)) {
                Log.w(TAG, "could not move $legacy to $dir; keeping the old folder")
                return legacy
            }
            Log.i(TAG, "moved $legacy to $dir (outside Auto Backup)")
        }
        return dir
    }
}

/** The plugin's own flag (the telemetry consent) in SharedPreferences. */
internal class PrefsStore(context: Context) : KeyValueStore {
    private val prefs = context.getSharedPreferences("io.liveship.capacitor", Context.MODE_PRIVATE)
    override fun get(key: String): String? = prefs.getString(key, null)
    override fun put(key: String, value: String) { prefs.edit().putString(key, value).apply() }
    override fun remove(key: String) { prefs.edit().remove(key).apply() }
}
