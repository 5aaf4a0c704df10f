package androidx.work

import java.util.concurrent.TimeUnit

/** https://developer.android.com/reference/kotlin/androidx/work/package-summary#PeriodicWorkRequestBuilder(kotlin.Long,java.util.concurrent.TimeUnit) */
inline fun <reified W : ListenableWorker> PeriodicWorkRequestBuilder(
    repeatInterval: Long,
    repeatIntervalTimeUnit: TimeUnit,
): PeriodicWorkRequest.Builder = PeriodicWorkRequest.Builder(W::class.java, repeatInterval, repeatIntervalTimeUnit)
