package androidx.work;

/** https://developer.android.com/reference/androidx/work/Operation */
public interface Operation {}
