// The Capacitor plugin class: threading, lifecycle and the WebView swap; the JavaScript contract is
// the Rust core's (src/capacitor/mod.rs). Calls run on `work`, a pool of our own threads (the core's
// calls block, and a long download() must not hold notifyAppReady back past appReadyTimeout), the
// lifecycle in order on `lifecycleWork`; events and effects from outside a call come on the core's.
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
import com.getcapacitor.PluginCall
import com.getcapacitor.WebViewListener
import com.getcapacitor.annotation.CapacitorPlugin
import com.getcapacitor.plugin.WebView as CapWebView
import io.liveship.CapacitorPlugin as Core
import io.liveship.Effect
import io.liveship.Reply
import org.json.JSONObject
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException

@CapacitorPlugin(name = "Liveship")
class LiveshipPlugin : LiveshipMethods() {
    private val work = Executors.newCachedThreadPool { r -> Thread(r, "liveship-plugin") }
    private val lifecycleWork = Executors.newSingleThreadExecutor { r -> Thread(r, "liveship-lifecycle") }
    private val main = Handler(Looper.getMainLooper())
    private val appUpdate by lazy { AppUpdate(this) }
    private val shakeMenu by lazy { ShakeMenu(this) { core } }
    private lateinit var core: Core
    private var bundleScript: ScriptHandler? = null

    /** The bundle whose files the WebView serves (main thread), for [Core.pageLoaded]. */
    private var serving = ""

    /** Set by [handleOnDestroy]: events, effects and lifecycle callbacks that arrive later are dropped. */
    @Volatile private var destroyed = false

    /** Whether the process lifecycle drives foreground/background. ProcessLifecycleOwner only
     *  moves once androidx.startup's InitializationProvider ran ProcessLifecycleInitializer at
     *  process start; an app that removed the provider (tools:node="remove") leaves it at
     *  INITIALIZED for ever, and the initializer refuses to run lazily. Then the Activity's
     *  start/stop, which Capacitor forwards to plugins as handleOnStart/handleOnStop, stand in. */
    private var processLifecycle = false

    private val lifecycle = object : DefaultLifecycleObserver {
        override fun onStart(owner: LifecycleOwner) = onForeground()
        override fun onStop(owner: LifecycleOwner) = onBackground()
    }

    private val pageListener = object : WebViewListener() {
        // BridgeWebViewClient.onPageFinished, main thread, once the page is fully loaded. When the page
        // completes a swap the core sends it `appReloaded`, and Back must not return to the old bundle's
        // page (WebView.clearHistory clears the back/forward list; the new page is now its only entry).
        override fun onPageLoaded(webView: WebView) { if (core.pageLoaded(serving)) webView.clearHistory() }
    }

    /** Runs during the Bridge's construction, before it loads the WebView: asks the core which
     *  bundle to serve and points Capacitor at it, so the first page already comes from it. */
    override fun load() {
        core = try {
            LiveshipRuntime.open(context, config.configJSON.toString())
        } catch (e: Throwable) { // the native library did not load (an ABI the APK lacks, say)
            Log.e(LiveshipRuntime.TAG, "Liveship did not start; serving the built-in bundle: $e")
            preparePage("builtin", null)
            return
        }
        LiveshipRuntime.shell = this
        val started = core.start()
        val path = started.path
        preparePage(started.bundleId, path)
        // Capacitor ignores the stored path on the first start of a new native build; make sure
        // the WebView serves what the core chose once the Bridge has set its server up.
        main.post { if (path != null && bridge.serverBasePath != path) bridge.setServerBasePath(path) }
        // load() runs on the main thread (the Bridge is built in the Activity's onCreate).
        processLifecycle = ProcessLifecycleOwner.get().lifecycle.currentState.isAtLeast(Lifecycle.State.CREATED)
        if (!processLifecycle) Log.w(LiveshipRuntime.TAG, "ProcessLifecycleOwner is not initialized; following the Activity")
        main.post {
            bridge.addWebViewListener(pageListener)
            if (processLifecycle) ProcessLifecycleOwner.get().lifecycle.addObserver(lifecycle)
        }
        started.effects.forEach(::perform)
    }

    override fun handleOnStart() { if (!processLifecycle) onForeground() }
    override fun handleOnStop() { if (!processLifecycle) onBackground() }

    override fun handleOnDestroy() {
        destroyed = true
        main.post {
            ProcessLifecycleOwner.get().lifecycle.removeObserver(lifecycle)
            bridge?.removeWebViewListener(pageListener)
        }
        // An Activity recreated in the same process may have loaded a new plugin already.
        if (LiveshipRuntime.shell === this) LiveshipRuntime.shell = null
        work.shutdown()
        lifecycleWork.shutdown()
        appUpdate.close()
        main.post { shakeMenu.enable(false) }
    }

    /** The call, answered by the core on [work]; the reply's effects then run on the main thread. */
    override fun forward(call: PluginCall) {
        if (!::core.isInitialized) return call.reject("Liveship did not start: its native library did not load", "internal")
        val accepted = submit(work) {
            try {
                when (val reply = core.call(call.methodName, call.data.toString())) {
                    is Reply.Resolve -> {
                        val data = reply.data
                        if (data == null) call.resolve() else call.resolve(JSObject(data))
                        reply.effects.forEach(::perform)
                    }
                    is Reply.Reject ->
                        call.reject(reply.message, reply.code, null, JSObject().apply { reply.check?.let { put("check", it) } })
                    is Reply.Native -> main.post {
                        val options = JSONObject(reply.options)
                        if (reply.feature == "appStore") AppStore.open(context, options, call) else appUpdate.handle(reply.action, options, call)
                    }
                }
            } catch (e: Exception) {
                Log.e(LiveshipRuntime.TAG, "call ${call.methodName} failed", e)
                call.reject("${call.methodName} failed: $e", "internal", e, JSObject())
            }
        }
        if (!accepted) call.reject("Liveship was shut down with its Activity", "internal")
    }

    /** Runs `task` on `executor` unless the core did not load or the plugin was destroyed (the executors are
     *  shut down then: execute would throw RejectedExecutionException). Whether it was queued. */
    private fun submit(executor: ExecutorService, task: () -> Unit): Boolean {
        if (destroyed || !::core.isInitialized) return false
        try { executor.execute { task() } } catch (e: RejectedExecutionException) { return false }
        return true
    }

    /** For the platform files: [task] on the plugin's pool, or on the main thread. */
    internal fun offMain(task: () -> Unit) { submit(work, task) }
    internal fun onMain(task: () -> Unit) { main.post { if (!destroyed) task() } }

    /** Capacitor's `notifyListeners`; `data` is a JSON object's text. */
    internal fun emit(event: String, data: String, retain: Boolean) { if (!destroyed) notifyListeners(event, JSObject(data), retain) }

    /** Carries out `effect` on the main thread. Serve: the new page's id and files first, then the
     *  reload; the core sends `appReloaded` once [pageListener] reports the new page loaded, so
     *  that it reaches the new page's listeners (retained until one is registered), not the old. */
    internal fun perform(effect: Effect) {
        main.post {
            if (destroyed) return@post
            when (effect) {
                is Effect.Serve -> {
                    preparePage(effect.bundleId, effect.path)
                    if (effect.path != null) bridge.setServerBasePath(effect.path) else bridge.setServerAssetPath("public")
                }
                // iOS holds a background task meanwhile; an Android process keeps running.
                is Effect.UpdateRunning -> Unit
                is Effect.ShakeMenu -> shakeMenu.enable(effect.enabled)
                else -> BackgroundUpdateWorker.schedule(context, effect)
            }
        }
    }

    /** Before the WebView loads `bundleId`'s page from `path` (null: the APK's assets): records the folder
     *  in Capacitor's own `serverBasePath` preference, which the Bridge reads before it loads the first
     *  page, and replaces the document-start script that tells the page which bundle served it
     *  (`window.__LIVESHIP_BUNDLE_ID__`, read by plugin/src/readiness.ts; without WebView support for
     *  document-start scripts the JS layer asks `current()` once instead). */
    private fun preparePage(bundleId: String, path: String?) {
        serving = bundleId
        val prefs = context.getSharedPreferences(CapWebView.WEBVIEW_PREFS_NAME, android.content.Context.MODE_PRIVATE)
        if (path != null) prefs.edit().putString(CapWebView.CAP_SERVER_PATH, path).apply()
        else prefs.edit().remove(CapWebView.CAP_SERVER_PATH).apply()
        if (!WebViewFeature.isFeatureSupported(WebViewFeature.DOCUMENT_START_SCRIPT)) return
        bundleScript?.remove()
        val script = "window.__LIVESHIP_BUNDLE_ID__ = ${JSONObject.quote(bundleId)};"
        bundleScript = WebViewCompat.addDocumentStartJavaScript(bridge.webView, script, setOf("*"))
    }

    // The core measures the time away and ignores the first start; a bundle it applies on the
    // return comes back as a Serve effect.
    private fun onBackground() { submit(lifecycleWork) { core.appMovedToBackground() } }
    private fun onForeground() { submit(lifecycleWork) { core.appMovedToForeground().forEach(::perform) } }
}
