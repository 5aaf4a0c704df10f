package androidx.work;

/** https://developer.android.com/reference/androidx/work/NetworkType */
public enum NetworkType { NOT_REQUIRED, CONNECTED, UNMETERED, NOT_ROAMING, METERED, TEMPORARILY_UNMETERED }
