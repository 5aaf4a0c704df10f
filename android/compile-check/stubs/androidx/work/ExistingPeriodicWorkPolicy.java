package androidx.work;

/** https://developer.android.com/reference/androidx/work/ExistingPeriodicWorkPolicy */
public enum ExistingPeriodicWorkPolicy { REPLACE, KEEP, UPDATE, CANCEL_AND_REENQUEUE }
