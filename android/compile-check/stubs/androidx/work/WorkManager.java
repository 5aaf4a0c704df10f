package androidx.work;

import android.content.Context;

/** https://developer.android.com/reference/androidx/work/WorkManager */
public abstract class WorkManager {
    public static WorkManager getInstance(Context context) { throw new UnsupportedOperationException(); }
    public abstract Operation cancelUniqueWork(String uniqueWorkName);
    public abstract Operation enqueueUniquePeriodicWork(
        String uniqueWorkName, ExistingPeriodicWorkPolicy existingPeriodicWorkPolicy, PeriodicWorkRequest request);
}
