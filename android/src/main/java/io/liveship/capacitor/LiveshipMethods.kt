// Generated from the core's METHODS (src/capacitor/methods.rs) by tests/capacitor_contract.rs; do not
// edit. After changing METHODS: LIVESHIP_BLESS=1 cargo test --test capacitor_contract android_method
package io.liveship.capacitor

import com.getcapacitor.Plugin
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginMethod

/** Every plugin method, forwarded to the core. Capacitor finds them by annotation, inherited ones included
 *  (PluginHandle reads `getMethods()`), so [LiveshipPlugin] extends this class. */
abstract class LiveshipMethods : Plugin() {
    protected abstract fun forward(call: PluginCall)

    @PluginMethod fun notifyAppReady(call: PluginCall) = forward(call)
    @PluginMethod fun download(call: PluginCall) = forward(call)
    @PluginMethod fun next(call: PluginCall) = forward(call)
    @PluginMethod fun set(call: PluginCall) = forward(call)
    @PluginMethod fun reload(call: PluginCall) = forward(call)
    @PluginMethod fun reset(call: PluginCall) = forward(call)
    @PluginMethod fun current(call: PluginCall) = forward(call)
    @PluginMethod fun list(call: PluginCall) = forward(call)
    @PluginMethod fun delete(call: PluginCall) = forward(call)
    @PluginMethod fun getLatest(call: PluginCall) = forward(call)
    @PluginMethod fun setChannel(call: PluginCall) = forward(call)
    @PluginMethod fun unsetChannel(call: PluginCall) = forward(call)
    @PluginMethod fun getChannel(call: PluginCall) = forward(call)
    @PluginMethod fun getDeviceId(call: PluginCall) = forward(call)
    @PluginMethod fun getPluginVersion(call: PluginCall) = forward(call)
    @PluginMethod fun getBuiltinVersion(call: PluginCall) = forward(call)
    @PluginMethod fun isAutoUpdateEnabled(call: PluginCall) = forward(call)
    @PluginMethod fun getNextBundle(call: PluginCall) = forward(call)
    @PluginMethod fun getFailedUpdate(call: PluginCall) = forward(call)
    @PluginMethod fun setMultiDelay(call: PluginCall) = forward(call)
    @PluginMethod fun cancelDelay(call: PluginCall) = forward(call)
    @PluginMethod fun triggerUpdateCheck(call: PluginCall) = forward(call)
    @PluginMethod fun getHistory(call: PluginCall) = forward(call)
    @PluginMethod fun exportData(call: PluginCall) = forward(call)
    @PluginMethod fun deleteData(call: PluginCall) = forward(call)
    @PluginMethod fun setConsent(call: PluginCall) = forward(call)
    @PluginMethod fun getConsent(call: PluginCall) = forward(call)
    @PluginMethod fun setUpdateUrl(call: PluginCall) = forward(call)
    @PluginMethod fun setStatsUrl(call: PluginCall) = forward(call)
    @PluginMethod fun setChannelUrl(call: PluginCall) = forward(call)
    @PluginMethod fun getAppId(call: PluginCall) = forward(call)
    @PluginMethod fun setAppId(call: PluginCall) = forward(call)
    @PluginMethod fun setCustomId(call: PluginCall) = forward(call)
    @PluginMethod fun isAutoUpdateAvailable(call: PluginCall) = forward(call)
    @PluginMethod fun setBundleError(call: PluginCall) = forward(call)
    @PluginMethod fun getMissingBundleFiles(call: PluginCall) = forward(call)
    @PluginMethod fun getBundleDownloadSize(call: PluginCall) = forward(call)
    @PluginMethod fun listChannels(call: PluginCall) = forward(call)
    @PluginMethod fun setShakeMenu(call: PluginCall) = forward(call)
    @PluginMethod fun isShakeMenuEnabled(call: PluginCall) = forward(call)
    @PluginMethod fun setShakeChannelSelector(call: PluginCall) = forward(call)
    @PluginMethod fun isShakeChannelSelectorEnabled(call: PluginCall) = forward(call)
    @PluginMethod fun startPreviewSession(call: PluginCall) = forward(call)
    @PluginMethod fun listPreviews(call: PluginCall) = forward(call)
    @PluginMethod fun setPreview(call: PluginCall) = forward(call)
    @PluginMethod fun resetPreview(call: PluginCall) = forward(call)
    @PluginMethod fun deletePreview(call: PluginCall) = forward(call)
    @PluginMethod fun checkPreviewUpdate(call: PluginCall) = forward(call)
    @PluginMethod fun updatePreview(call: PluginCall) = forward(call)
    @PluginMethod fun getAppUpdateInfo(call: PluginCall) = forward(call)
    @PluginMethod fun openAppStore(call: PluginCall) = forward(call)
    @PluginMethod fun performImmediateUpdate(call: PluginCall) = forward(call)
    @PluginMethod fun startFlexibleUpdate(call: PluginCall) = forward(call)
    @PluginMethod fun completeFlexibleUpdate(call: PluginCall) = forward(call)
}
