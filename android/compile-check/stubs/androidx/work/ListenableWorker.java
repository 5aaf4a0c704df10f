package androidx.work;

import android.content.Context;

/** https://developer.android.com/reference/androidx/work/ListenableWorker */
public abstract class ListenableWorker {
    public ListenableWorker(Context appContext, WorkerParameters workerParams) { throw new UnsupportedOperationException(); }

    public final Context getApplicationContext() { throw new UnsupportedOperationException(); }

    public final boolean isStopped() { throw new UnsupportedOperationException(); }

    public void onStopped() { }

    /** https://developer.android.com/reference/androidx/work/ListenableWorker.Result */
    public abstract static class Result {
        public static Result success() { throw new UnsupportedOperationException(); }
        public static Result retry() { throw new UnsupportedOperationException(); }
        public static Result failure() { throw new UnsupportedOperationException(); }
    }
}
