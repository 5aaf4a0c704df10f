// The debug menu's gesture and dialog (Capgo's shakeMenu / allowShakeChannelSelector). The core
// decides whether it is on (Effect.ShakeMenu), what it shows (shakeMenu()) and what each choice
// does (shakeChoice()); this file only listens to the accelerometer and shows a dialog.
package io.liveship.capacitor

import android.app.AlertDialog
import android.content.Context
import android.hardware.Sensor
import android.hardware.SensorEvent
import android.hardware.SensorEventListener
import android.hardware.SensorManager
import io.liveship.CapacitorPlugin as Core
import kotlin.math.sqrt

internal class ShakeMenu(private val plugin: LiveshipPlugin, private val core: () -> Core) : SensorEventListener {
    private val sensors get() = plugin.context.getSystemService(Context.SENSOR_SERVICE) as SensorManager
    private var on = false
    private var last = 0L

    fun enable(enabled: Boolean) {
        if (enabled == on) return
        on = enabled
        if (enabled) {
            sensors.getDefaultSensor(Sensor.TYPE_ACCELEROMETER)?.let { sensors.registerListener(this, it, SensorManager.SENSOR_DELAY_UI) }
        } else {
            sensors.unregisterListener(this)
        }
    }

    override fun onSensorChanged(event: SensorEvent) {
        val (x, y, z) = Triple(event.values[0], event.values[1], event.values[2])
        val force = sqrt(x * x + y * y + z * z) / SensorManager.GRAVITY_EARTH
        val now = System.currentTimeMillis()
        // A shake: well above gravity, at most once a second.
        if (force < 2.7f || now - last < 1000) return
        last = now
        plugin.offMain {
            val menu = core().shakeMenu() ?: return@offMain
            plugin.onMain {
                val activity = plugin.activity ?: return@onMain
                AlertDialog.Builder(activity)
                    .setTitle(menu.title)
                    .setItems(menu.items.map { it.label }.toTypedArray()) { _, which ->
                        plugin.offMain { core().shakeChoice(menu.items[which].id).forEach(plugin::perform) }
                    }
                    .show()
            }
        }
    }

    override fun onAccuracyChanged(sensor: Sensor, accuracy: Int) = Unit
}
