// WorkManager job that stages the next release while the app is not in front, within a deadline shorter
// than WorkManager's 10-minute limit; it serves at the next launch (or return, in apply mode `background`).
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
import io.liveship.BackgroundResult
import io.liveship.CapacitorPlugin
import io.liveship.Effect
import java.util.concurrent.TimeUnit

/** A plain `Worker`: WorkManager runs `doWork` on its background executor, never the main thread. */
class BackgroundUpdateWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    @Volatile private var running: CapacitorPlugin? = null

    /** WorkManager stopped this work (constraints lost, quota): the core's run stops now, as at
     *  its deadline, keeping its partial download (ListenableWorker.onStopped). */
    override fun onStopped() { running?.endBackgroundRun() }

    override fun doWork(): Result {
        val core = LiveshipRuntime.open(applicationContext, LiveshipRuntime.configFromAssets(applicationContext))
        running = core
        if (isStopped) return Result.retry()
        val run = core.runBackground(DEADLINE_SECONDS.toULong())
        Log.i(LiveshipRuntime.TAG, "background update (${run.result}): ${run.message}")
        // A Serve (a bundle revoked by the publisher's incident fields) is for the WebView, if one runs.
        run.effects.forEach { if (it is Effect.Serve) LiveshipRuntime.shell?.perform(it) else schedule(applicationContext, it) }
        return when (run.result) {
            BackgroundResult.SUCCESS -> Result.success()
            BackgroundResult.RETRY -> Result.retry() // the partial download resumes next time
            BackgroundResult.FAILURE -> Result.failure()
        }
    }

    companion object {
        private const val NAME = "io.liveship.background-update"
        private const val DEADLINE_SECONDS = 8L * 60

        /** Carries out a background-schedule effect of the core; the other effects are not its. */
        fun schedule(context: Context, effect: Effect) {
            val wm = WorkManager.getInstance(context)
            when (effect) {
                is Effect.CancelBackground -> wm.cancelUniqueWork(NAME)
                is Effect.ScheduleBackground -> {
                    val constraints = Constraints.Builder()
                        .setRequiredNetworkType(if (effect.unmeteredOnly) NetworkType.UNMETERED else NetworkType.CONNECTED)
                        .setRequiresCharging(effect.chargingOnly)
                        .setRequiresStorageNotLow(true)
                        .build()
                    val request = PeriodicWorkRequestBuilder<BackgroundUpdateWorker>(
                        effect.intervalMinutes.toLong().coerceAtLeast(15), TimeUnit.MINUTES,
                    ).setConstraints(constraints).build()
                    // UPDATE keeps the schedule's timing but applies changed constraints or interval.
                    wm.enqueueUniquePeriodicWork(NAME, ExistingPeriodicWorkPolicy.UPDATE, request)
                }
                else -> Unit
            }
        }
    }
}
