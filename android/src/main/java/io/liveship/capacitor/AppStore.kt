// The app's store page (openAppStore). The core makes the addresses (src/capacitor/capgo_api.rs,
// `native_call`: the Play Store app's `market://` link, then its web page); this file opens the
// first one an app on the device can handle.
package io.liveship.capacitor

import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.net.Uri
import com.getcapacitor.PluginCall
import org.json.JSONObject

internal object AppStore {
    fun open(context: Context, options: JSONObject, call: PluginCall) {
        val urls = options.optJSONArray("urls") ?: return call.reject("openAppStore: no store address", "internal")
        for (i in 0 until urls.length()) {
            val intent = Intent(Intent.ACTION_VIEW, Uri.parse(urls.getString(i))).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
            try {
                context.startActivity(intent)
                return call.resolve()
            } catch (e: ActivityNotFoundException) {
                continue
            }
        }
        call.reject("openAppStore: no app on this device opens the store page", "unavailable")
    }
}
