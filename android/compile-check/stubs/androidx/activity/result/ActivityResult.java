package androidx.activity.result;

/** https://developer.android.com/reference/androidx/activity/result/ActivityResult */
public final class ActivityResult {}
