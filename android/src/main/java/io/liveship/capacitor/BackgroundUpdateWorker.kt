// WorkManager job that fetches and stages the next release while the app is not in front:
// `runBackgroundUpdate` checks, downloads (resuming a partial download) and installs as next
// within a deadline shorter than WorkManager's 10-minute limit. The release serves at the next
// launch (or on return to the foreground in apply mode `background`).
package io.liveship.capacitor

import android.content.Context
import android.util.Log
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import io.liveship.LiveshipException
import io.liveship.UpdateOutcome
import io.liveship.capacitor.core.LiveshipController
import io.liveship.capacitor.core.PluginSettings
import java.util.concurrent.TimeUnit

/** A plain `Worker`: WorkManager runs `doWork` on its background executor, never the main thread. */
class BackgroundUpdateWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    @Volatile private var running: LiveshipController? = null

    /** WorkManager stopped this work (constraints lost, quota): the core's run stops now, as at
     *  its deadline, keeping its partial download (ListenableWorker.onStopped). */
    override fun onStopped() {
        running?.endBackgroundRun()
    }

    override fun doWork(): Result {
        val controller = try {
            LiveshipRuntime.open(applicationContext, LiveshipRuntime.configFromAssets(applicationContext))
        } catch (e: Throwable) {
            Log.e(LiveshipRuntime.TAG, "background update: the core did not open: $e")
            return Result.failure()
        }
        running = controller
        if (isStopped) return Result.retry()
        return try {
            when (val o = controller.runBackgroundUpdate(DEADLINE_SECONDS)) {
                is UpdateOutcome.Installed -> Log.i(LiveshipRuntime.TAG, "background update installed ${o.version} (${o.id})")
                is UpdateOutcome.NoUpdate -> Log.i(LiveshipRuntime.TAG, "background update: ${o.code}: ${o.reason}")
            }
            Result.success()
        } catch (e: LiveshipException.Network) {
            Result.retry() // includes a deadline that ran out; the download resumes next time
        } catch (e: LiveshipException.Busy) {
            Result.retry()
        } catch (e: LiveshipException) {
            Log.w(LiveshipRuntime.TAG, "background update failed: ${e.message}")
            Result.failure()
        }
    }

    companion object {
        private const val NAME = "io.liveship.background-update"
        private const val DEADLINE_SECONDS = 8L * 60

        /** Schedules (or cancels, when disabled) the periodic background update. */
        fun schedule(context: Context, settings: PluginSettings) {
            val wm = WorkManager.getInstance(context)
            if (!settings.autoUpdate || settings.updateUrl == null || settings.backgroundIntervalMinutes <= 0) {
                wm.cancelUniqueWork(NAME)
                return
            }
            val constraints = Constraints.Builder()
                .setRequiredNetworkType(if (settings.backgroundUnmeteredOnly) NetworkType.UNMETERED else NetworkType.CONNECTED)
                .setRequiresCharging(settings.backgroundChargingOnly)
                .setRequiresStorageNotLow(true)
                .build()
            val request = PeriodicWorkRequestBuilder<BackgroundUpdateWorker>(
                settings.backgroundIntervalMinutes.coerceAtLeast(15), TimeUnit.MINUTES,
            ).setConstraints(constraints).build()
            // UPDATE keeps the schedule's timing but applies changed constraints or interval.
            wm.enqueueUniquePeriodicWork(NAME, ExistingPeriodicWorkPolicy.UPDATE, request)
        }
    }
}
