// The process-wide core, shared by the plugin and the WorkManager worker (which may run without any
// Activity): two on one data folder would be safe (the core locks across processes) but wasteful.
package io.liveship.capacitor

import android.content.Context
import android.os.Build
import android.util.Log
import androidx.core.content.pm.PackageInfoCompat
import com.getcapacitor.CapConfig
import com.getcapacitor.util.InternalUtils
import io.liveship.CapacitorPlugin
import io.liveship.Effect
import io.liveship.HostInfo
import io.liveship.LogLevel
import io.liveship.Logger
import io.liveship.PluginListener
import io.liveship.setLogger
import java.io.File

internal object LiveshipRuntime {
    const val TAG = "Liveship"
    private var core: CapacitorPlugin? = null

    /** The loaded plugin: it takes the core's events and effects. Null while none is loaded. */
    @Volatile var shell: LiveshipPlugin? = null

    // Called by the core on its threads: an exception thrown here would cross the uniffi
    // callback into Rust, which panics on it. Nothing may escape.
    private val listener = object : PluginListener {
        override fun notify(event: String, data: String, retain: Boolean) = forward("event $event") { it.emit(event, data, retain) }
        override fun perform(effect: Effect) = forward("effect $effect") { it.perform(effect) }
    }

    private fun forward(what: String, action: (LiveshipPlugin) -> Unit) {
        try { shell?.let(action) ?: Log.d(TAG, "$what with no plugin loaded: dropped") } catch (e: Throwable) { Log.w(TAG, "$what dropped: $e") }
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
    fun configFromAssets(context: Context): String =
        CapConfig.loadDefault(context).getPluginConfiguration("Liveship").configJSON.toString()

    /** Opens the core once per process. Never throws: a configuration the core refuses gives a
     *  core that serves the built-in bundle and rejects every call with the reason. */
    @Synchronized
    fun open(context: Context, pluginConfig: String): CapacitorPlugin {
        core?.let { return it }
        val app = context.applicationContext
        // The core raises the level to DEBUG itself when the configuration sets `development`.
        setLogger(Logcat, LogLevel.INFO)
        // Before the core exists, so before its first HTTPS request (src/android.rs).
        runCatching { LiveshipNative.initTls(app) }
            .onFailure { Log.e(TAG, "TLS set-up failed; every HTTPS request of the core will fail: $it") }
        // Capacitor's own helper: PackageInfoFlags from API 33 (TIRAMISU), the int overload before.
        val info = InternalUtils.getPackageInfo(app.packageManager, app.packageName)
        val host = HostInfo(
            appId = app.packageName,
            platform = "android",
            nativeVersion = info.versionName ?: "0",
            // versionCode, compared with versionName as Capacitor's Bridge.isNewBinary() does.
            nativeBuild = PackageInfoCompat.getLongVersionCode(info).toString(),
            dataDir = dataDir(app).absolutePath,
            // The built-in bundle lives in the APK's assets, not in a folder: deltas draw on
            // downloaded bundles only (docs/PLUGIN.md). A folder that does not exist says so.
            builtinDir = File(app.filesDir, "liveship-builtin-in-apk-assets").absolutePath,
            // Sent in update events only with the user's consent (docs/PRIVACY.md).
            osVersion = Build.VERSION.RELEASE,
            isEmulator = Build.FINGERPRINT.startsWith("generic") || Build.PRODUCT.contains("sdk"),
        )
        return CapacitorPlugin.open(pluginConfig, host, listener).also { core = it }
    }

    /** The core's data folder: `noBackupFilesDir/liveship`, outside Auto Backup (bundles exceed
     *  its 25 MB quota, and a restore would copy the install id and trial state to another
     *  phone; Context.getNoBackupFilesDir: "files that should not be automatically backed up").
     *  Earlier versions kept it in `filesDir/liveship`: that folder is moved once (a rename
     *  within the app's data directory). If the move fails the old folder is used as it is, so
     *  that no installed bundle or trial state is lost. */
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
