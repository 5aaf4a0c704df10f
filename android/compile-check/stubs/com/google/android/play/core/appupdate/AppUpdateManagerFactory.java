package com.google.android.play.core.appupdate;

import android.content.Context;

/** https://developer.android.com/reference/com/google/android/play/core/appupdate/AppUpdateManagerFactory */
public class AppUpdateManagerFactory {
    public static AppUpdateManager create(Context context) {
        throw new RuntimeException("stub");
    }
}
