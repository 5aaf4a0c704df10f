package android.app;

import android.content.Context;

/** https://developer.android.com/reference/android/app/Activity (a Context through ContextThemeWrapper). */
public abstract class Activity extends Context {
    public static final int RESULT_CANCELED = 0;
    public static final int RESULT_OK = -1;
}
