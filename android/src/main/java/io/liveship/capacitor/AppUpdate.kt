// Google Play's in-app updates: getAppUpdateInfo, performImmediateUpdate, startFlexibleUpdate,
// completeFlexibleUpdate. The core decides which call comes here, with which options
// (src/capacitor/capgo_api.rs, `native_call`); this file only calls Play's API and reports its
// answer in Capgo's shapes (AppUpdateInfo, AppUpdateResult, onFlexibleUpdateStateChange).
package io.liveship.capacitor

import android.app.Activity
import com.getcapacitor.JSObject
import com.getcapacitor.PluginCall
import com.google.android.play.core.appupdate.AppUpdateInfo
import com.google.android.play.core.appupdate.AppUpdateManager
import com.google.android.play.core.appupdate.AppUpdateManagerFactory
import com.google.android.play.core.appupdate.AppUpdateOptions
import com.google.android.play.core.install.InstallStateUpdatedListener
import com.google.android.play.core.install.model.AppUpdateType
import com.google.android.play.core.install.model.UpdateAvailability
import org.json.JSONObject

/** Capgo's AppUpdateResultCode. */
private object Code { const val OK = 0; const val CANCELED = 1; const val FAILED = 2; const val NOT_AVAILABLE = 3; const val NOT_ALLOWED = 4; const val INFO_MISSING = 5 }

internal class AppUpdate(private val plugin: LiveshipPlugin) {
    private val manager: AppUpdateManager by lazy { AppUpdateManagerFactory.create(plugin.context) }
    private var listening = false

    /** A flexible download's progress, as Capgo's onFlexibleUpdateStateChange. */
    private val progress = InstallStateUpdatedListener { state ->
        val data = JSObject().put("installStatus", state.installStatus())
            .put("bytesDownloaded", state.bytesDownloaded()).put("totalBytesToDownload", state.totalBytesToDownload())
        plugin.emit("onFlexibleUpdateStateChange", data.toString(), false)
    }

    fun handle(action: String, options: JSONObject, call: PluginCall) {
        when (action) {
            "info" -> manager.appUpdateInfo
                .addOnSuccessListener { call.resolve(describe(it, options)) }
                .addOnFailureListener { call.reject("getAppUpdateInfo: Google Play answered ${it.message}", "unavailable") }
            "immediate" -> start(call, AppUpdateType.IMMEDIATE)
            "flexible" -> start(call, AppUpdateType.FLEXIBLE)
            "complete" -> manager.completeUpdate()
                .addOnSuccessListener { call.resolve() }
                .addOnFailureListener { call.reject("completeFlexibleUpdate: ${it.message}", "unavailable") }
            else -> call.reject("AppUpdate has no action $action", "internal")
        }
    }

    private fun describe(i: AppUpdateInfo, options: JSONObject): JSObject {
        val info = JSObject()
            .put("currentVersionName", options.optString("currentVersionName"))
            .put("currentVersionCode", options.optString("currentVersionCode"))
            .put("updateAvailability", i.updateAvailability())
            .put("updatePriority", i.updatePriority())
            .put("immediateUpdateAllowed", i.isUpdateTypeAllowed(AppUpdateType.IMMEDIATE))
            .put("flexibleUpdateAllowed", i.isUpdateTypeAllowed(AppUpdateType.FLEXIBLE))
            .put("installStatus", i.installStatus())
        if (i.updateAvailability() == UpdateAvailability.UPDATE_AVAILABLE) info.put("availableVersionCode", i.availableVersionCode().toString())
        i.clientVersionStalenessDays()?.let { info.put("clientVersionStalenessDays", it) }
        return info
    }

    private fun start(call: PluginCall, type: Int) {
        val activity = plugin.activity ?: return call.resolve(result(Code.FAILED))
        manager.appUpdateInfo.addOnSuccessListener { i ->
            when {
                i.updateAvailability() != UpdateAvailability.UPDATE_AVAILABLE -> call.resolve(result(Code.NOT_AVAILABLE))
                !i.isUpdateTypeAllowed(type) -> call.resolve(result(Code.NOT_ALLOWED))
                else -> {
                    if (type == AppUpdateType.FLEXIBLE && !listening) manager.registerListener(progress).also { listening = true }
                    manager.startUpdateFlow(i, activity, AppUpdateOptions.defaultOptions(type))
                        .addOnSuccessListener { code ->
                            call.resolve(result(when (code) { Activity.RESULT_OK -> Code.OK; Activity.RESULT_CANCELED -> Code.CANCELED; else -> Code.FAILED }))
                        }
                        .addOnFailureListener { call.resolve(result(Code.FAILED)) }
                }
            }
        }.addOnFailureListener { call.resolve(result(Code.INFO_MISSING)) }
    }

    private fun result(code: Int) = JSObject().put("code", code)

    fun close() { if (listening) manager.unregisterListener(progress) }
}
