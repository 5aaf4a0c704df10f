// The Capacitor plugin class: argument mapping, threading, lifecycle and the WebView swap.
// Everything else lives in plain Kotlin (`core/`, tested on the host) and in the Rust core.
//
// Threads: Capacitor calls plugin methods on its plugin thread; every call moves to `work`, a
// single background thread of our own (the core's calls block). Core events arrive on the core's
// threads and move to `eventWork` (mapping them may call back into the core). WebView changes
// run on the main thread.
package io.liveship.capacitor

import android.os.Handler
import android.os.Looper
import android.util.Log
import android.webkit.WebView
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import androidx.webkit.ScriptHandler
import androidx.webkit.WebViewCompat
import androidx.webkit.WebViewFeature
import com.getcapacitor.JSObject
import com.getcapacitor.Plugin
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginMethod
import com.getcapacitor.WebViewListener
import com.getcapacitor.annotation.CapacitorPlugin
import com.getcapacitor.plugin.WebView as CapWebView
import io.liveship.Event
import io.liveship.capacitor.core.Action
import io.liveship.capacitor.core.Args
import io.liveship.capacitor.core.LiveshipController
import io.liveship.capacitor.core.Payload
import io.liveship.capacitor.core.Payloads
import io.liveship.capacitor.core.PluginError
import io.liveship.capacitor.core.Swap
import org.json.JSONArray
import org.json.JSONObject
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit

@CapacitorPlugin(name = "Liveship")
class LiveshipPlugin : Plugin() {
    private val work: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "liveship-plugin") }
    private val eventWork: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "liveship-events") }
    private var ticker: ScheduledExecutorService? = null
    private val main = Handler(Looper.getMainLooper())

    private var controller: LiveshipController? = null
    private var startupError: Throwable? = null
    private var bundleScript: ScriptHandler? = null
    private var sink: ((Event) -> Unit)? = null

    /** The app went to the background since it started (the core measures the time away). */
    @Volatile private var wasInBackground = false

    /** Set by [handleOnDestroy]: events and lifecycle callbacks that arrive later are dropped. */
    @Volatile private var destroyed = false

    /**
     * Whether the process lifecycle drives foreground/background. ProcessLifecycleOwner only
     * moves once androidx.startup's InitializationProvider ran ProcessLifecycleInitializer at
     * process start; an app that removed the provider (tools:node="remove") leaves it at
     * INITIALIZED for ever, and the initializer refuses to run lazily. Then the Activity's
     * start/stop, which Capacitor forwards to plugins as handleOnStart/handleOnStop, stand in.
     */
    private var processLifecycle = false

    private val lifecycle = object : DefaultLifecycleObserver {
        override fun onStart(owner: LifecycleOwner) = onForeground()
        override fun onStop(owner: LifecycleOwner) = onBackground()
    }

    /** A swap reloaded the WebView: the next page load is the new bundle's page. */
    private var swapPending = false

    private val pageListener = object : WebViewListener() {
        // BridgeWebViewClient.onPageFinished, main thread, once the page is fully loaded.
        override fun onPageLoaded(webView: WebView) {
            if (!swapPending) return
            swapPending = false
            // Back must not return to the old bundle's page (WebView.clearHistory clears the
            // back/forward list; called here because the new page is now its only entry).
            webView.clearHistory()
            notifyListeners("appReloaded", JSObject(), true)
        }
    }

    /**
     * Runs during the Bridge's construction, before it loads the WebView: asks the core which
     * bundle to serve and points Capacitor at it, so the first page already comes from it.
     */
    override fun load() {
        val c = try {
            LiveshipRuntime.open(context, config.configJSON)
        } catch (e: Throwable) {
            // A configuration the core refuses must not stop the app: it serves the built-in
            // bundle and every call rejects with the reason.
            startupError = e
            Log.e(LiveshipRuntime.TAG, "Liveship did not start; serving the built-in bundle: $e")
            servePath(null)
            return
        }
        controller = c
        val mySink: (Event) -> Unit = { event -> submit(eventWork) { handle(c, event) } }
        sink = mySink
        LiveshipRuntime.sink = mySink
        val launch = c.launch()
        Log.i(LiveshipRuntime.TAG, "launch: ${launch.id} ${launch.version}${if (launch.trial) " (trial)" else ""}")
        setPageBundle(launch.id)
        servePath(launch.path)
        // Capacitor ignores the stored path on the first start of a new native build; make sure
        // the WebView serves what the core chose once the Bridge has set its server up.
        main.post {
            if (launch.path != null && bridge.serverBasePath != launch.path) bridge.setServerBasePath(launch.path)
        }
        // load() runs on the main thread (the Bridge is built in the Activity's onCreate).
        processLifecycle = ProcessLifecycleOwner.get().lifecycle.currentState.isAtLeast(Lifecycle.State.CREATED)
        if (!processLifecycle) Log.w(LiveshipRuntime.TAG, "ProcessLifecycleOwner is not initialized; following the Activity")
        main.post {
            bridge.addWebViewListener(pageListener)
            if (processLifecycle) ProcessLifecycleOwner.get().lifecycle.addObserver(lifecycle)
        }
        BackgroundUpdateWorker.schedule(context, c.settings)
        if (c.settings.periodCheckDelaySeconds > 0) {
            ticker = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "liveship-period") }.also {
                val period = c.settings.periodCheckDelaySeconds
                it.scheduleWithFixedDelay({ submit(work) { autoUpdate(c) } }, period, period, TimeUnit.SECONDS)
            }
        }
        submit(work) { autoUpdate(c) }
    }

    override fun handleOnStart() {
        if (!processLifecycle) onForeground()
    }

    override fun handleOnStop() {
        if (!processLifecycle) onBackground()
    }

    override fun handleOnDestroy() {
        destroyed = true
        main.post {
            ProcessLifecycleOwner.get().lifecycle.removeObserver(lifecycle)
            bridge?.removeWebViewListener(pageListener)
        }
        // An Activity recreated in the same process may have loaded a new plugin already.
        if (LiveshipRuntime.sink === sink) LiveshipRuntime.sink = null
        ticker?.shutdownNow()
        work.shutdown()
        eventWork.shutdown()
    }

    // -----------------------------------------------------------------------------------------
    // Methods

    @PluginMethod
    fun notifyAppReady(call: PluginCall) = run(call) { it.notifyAppReady(call.data.opt("bundleId")) }

    @PluginMethod
    fun download(call: PluginCall) = run(call) {
        val d = call.data
        it.download(Args.download(d.opt("url"), d.opt("version"), d.opt("sessionKey"), d.opt("checksum")))
    }

    @PluginMethod
    fun next(call: PluginCall) = run(call) { it.next(call.data.opt("id")) }

    @PluginMethod
    fun set(call: PluginCall) = swap(call) { it.set(call.data.opt("id")) }

    @PluginMethod
    fun reload(call: PluginCall) = swap(call) { it.reload() }

    @PluginMethod
    fun reset(call: PluginCall) = swap(call) { it.reset(call.data.opt("toLastSuccessful")) }

    @PluginMethod
    fun current(call: PluginCall) = run(call) { it.current() }

    @PluginMethod
    fun list(call: PluginCall) = run(call) { it.list() }

    @PluginMethod
    fun delete(call: PluginCall) = run(call) { it.delete(call.data.opt("id")) }

    @PluginMethod
    fun getLatest(call: PluginCall) = run(call) { it.getLatest(call.data.opt("channel")) }

    @PluginMethod
    fun setChannel(call: PluginCall) = run(call) {
        val result = it.setChannel(call.data.opt("channel"))
        if (call.getBoolean("triggerAutoUpdate", false) == true) autoUpdate(it)
        result
    }

    @PluginMethod
    fun unsetChannel(call: PluginCall) = run(call) {
        it.unsetChannel()
        if (call.getBoolean("triggerAutoUpdate", false) == true) autoUpdate(it)
        null
    }

    @PluginMethod
    fun getChannel(call: PluginCall) = run(call) { it.getChannel() }

    @PluginMethod
    fun getDeviceId(call: PluginCall) = run(call) { it.getDeviceId() }

    @PluginMethod
    fun getPluginVersion(call: PluginCall) = run(call) { mapOf("version" to PLUGIN_VERSION) }

    @PluginMethod
    fun getBuiltinVersion(call: PluginCall) = run(call) { it.getBuiltinVersion() }

    @PluginMethod
    fun isAutoUpdateEnabled(call: PluginCall) = run(call) { it.isAutoUpdateEnabled() }

    @PluginMethod
    fun getNextBundle(call: PluginCall) = run(call) { it.getNextBundle() }

    @PluginMethod
    fun getFailedUpdate(call: PluginCall) = run(call) { it.getFailedUpdate() }

    @PluginMethod
    fun setMultiDelay(call: PluginCall) = run(call) { it.setMultiDelay(toKotlin(call.data.opt("delayConditions"))) }

    @PluginMethod
    fun cancelDelay(call: PluginCall) = run(call) { it.cancelDelay() }

    @PluginMethod
    fun triggerUpdateCheck(call: PluginCall) = run(call) { it.triggerUpdateCheck() }

    @PluginMethod
    fun getHistory(call: PluginCall) = run(call) { it.getHistory() }

    @PluginMethod
    fun exportData(call: PluginCall) = run(call) { it.exportData() }

    @PluginMethod
    fun deleteData(call: PluginCall) = swap(call) { it.deleteData() }

    @PluginMethod
    fun setConsent(call: PluginCall) = run(call) { it.setConsent(call.data.opt("telemetry")) }

    // -----------------------------------------------------------------------------------------
    // Threading and results

    /** Runs `body` on the plugin's thread; resolves with its payload (or nothing), rejects with the error kind. */
    private fun run(call: PluginCall, body: (LiveshipController) -> Any?) {
        val accepted = submit(work) {
            try {
                val c = controller ?: throw PluginError("internal", "Liveship did not start: ${startupError?.message}")
                @Suppress("UNCHECKED_CAST")
                when (val result = body(c)) {
                    is Map<*, *> -> call.resolve(toJS(result as Payload))
                    else -> call.resolve()
                }
            } catch (e: Throwable) {
                reject(call, e)
            }
        }
        if (!accepted) call.reject("Liveship was shut down with its Activity", "internal")
    }

    /**
     * Runs `task` on `executor` unless the plugin was destroyed (its executors are shut down
     * then: ExecutorService.execute would throw RejectedExecutionException, which inside the
     * core's event callback would reach Rust). Returns whether the task was queued.
     */
    private fun submit(executor: ExecutorService, task: () -> Unit): Boolean {
        if (destroyed) return false
        return try {
            executor.execute { task() }
            true
        } catch (e: RejectedExecutionException) {
            false
        }
    }

    /** Like [run] for calls that switch the serving bundle: resolves, then reloads the WebView. */
    private fun swap(call: PluginCall, body: (LiveshipController) -> Swap) {
        run(call) { c ->
            val s = body(c)
            // A swap the core announced arrives as ReloadRequired and reloads from there.
            if (!s.announced) main.post { reloadWebView(s.launch.id, s.launch.path) }
            null
        }
    }

    private fun reject(call: PluginCall, e: Throwable) {
        val err = Payloads.error(e)
        val data = JSObject()
        err.check?.let { data.put("check", it) }
        if (err.code == "internal") Log.e(LiveshipRuntime.TAG, "call ${call.methodName} failed", e)
        call.reject(err.message, err.code, if (e is Exception) e else null, data)
    }

    private fun autoUpdate(c: LiveshipController) {
        try {
            c.autoUpdate()
        } catch (e: Throwable) {
            Log.w(LiveshipRuntime.TAG, "automatic update did not start: $e")
        }
    }

    // -----------------------------------------------------------------------------------------
    // Events and the WebView

    private fun handle(c: LiveshipController, event: Event) {
        for (action in c.events.map(event)) {
            when (action) {
                is Action.Emit -> notifyListeners(action.name, toJS(action.payload), action.retain)
                is Action.Failed -> c.recordFailure(action.payload)
                is Action.Reload -> main.post { reloadWebView(action.bundleId, action.path) }
            }
        }
    }

    /**
     * Main thread: the new page's id first, then the files, then the reload. `appReloaded` is
     * sent by [pageListener] once the new page has loaded, so that it reaches the new page's
     * listeners (notifyListeners with retain keeps it until one is registered), not the old.
     */
    private fun reloadWebView(bundleId: String, path: String?) {
        if (destroyed) return
        setPageBundle(bundleId)
        servePath(path)
        swapPending = true
        if (path != null) bridge.setServerBasePath(path) else bridge.setServerAssetPath("public")
    }

    /**
     * Records the folder Capacitor serves from at its next WebView load (Capacitor's own
     * `serverBasePath` preference, which the Bridge reads before it loads the first page).
     */
    private fun servePath(path: String?) {
        val prefs = context.getSharedPreferences(CapWebView.WEBVIEW_PREFS_NAME, android.content.Context.MODE_PRIVATE)
        if (path != null) prefs.edit().putString(CapWebView.CAP_SERVER_PATH, path).apply()
        else prefs.edit().remove(CapWebView.CAP_SERVER_PATH).apply()
    }

    /**
     * Replaces the document-start script that tells the page which bundle served it
     * (`window.__LIVESHIP_BUNDLE_ID__`, read by plugin/src/readiness.ts). Without WebView support
     * for document-start scripts the JS layer asks `current()` once at start instead.
     */
    private fun setPageBundle(bundleId: String) {
        if (!WebViewFeature.isFeatureSupported(WebViewFeature.DOCUMENT_START_SCRIPT)) return
        bundleScript?.remove()
        val script = "window.__LIVESHIP_BUNDLE_ID__ = ${JSONObject.quote(bundleId)};"
        bundleScript = WebViewCompat.addDocumentStartJavaScript(bridge.webView, script, setOf("*"))
    }

    private fun onBackground() {
        wasInBackground = true
        val c = controller ?: return
        submit(work) { c.onBackground() }
    }

    private fun onForeground() {
        val c = controller ?: return
        if (!wasInBackground) return // the first start, not a return
        submit(work) {
            try {
                // The core decides (delay conditions, apply mode); a bundle applied here arrives
                // as ReloadRequired and reloads from the event.
                c.onForeground()
            } catch (e: Throwable) {
                Log.w(LiveshipRuntime.TAG, "foreground apply failed: $e")
            }
            autoUpdate(c)
        }
    }

    private companion object {
        const val PLUGIN_VERSION = "0.1.0"

        fun toJS(payload: Payload): JSObject = JSObject(JSONObject(payload).toString())

        /** JSON values from a call's data as Kotlin lists and maps (for core/Args). */
        fun toKotlin(value: Any?): Any? = when (value) {
            is JSONArray -> (0 until value.length()).map { toKotlin(value.get(it)) }
            is JSONObject -> value.keys().asSequence().associateWith { toKotlin(value.get(it)) }
            JSONObject.NULL -> null
            else -> value
        }
    }
}
