package androidx.work;

import java.util.concurrent.TimeUnit;

/** https://developer.android.com/reference/androidx/work/PeriodicWorkRequest.Builder */
public final class PeriodicWorkRequest extends WorkRequest {
    public static final class Builder extends WorkRequest.Builder<Builder, PeriodicWorkRequest> {
        public Builder(Class<? extends ListenableWorker> workerClass, long repeatInterval, TimeUnit repeatIntervalTimeUnit) {
            throw new UnsupportedOperationException();
        }
    }
}
