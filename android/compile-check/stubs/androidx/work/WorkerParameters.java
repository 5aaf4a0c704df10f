package androidx.work;

/** https://developer.android.com/reference/androidx/work/WorkerParameters */
public final class WorkerParameters {}
