package androidx.work;

import android.content.Context;

/** https://developer.android.com/reference/androidx/work/Worker */
public abstract class Worker extends ListenableWorker {
    public Worker(Context context, WorkerParameters workerParams) { super(context, workerParams); }

    public abstract Result doWork();
}
