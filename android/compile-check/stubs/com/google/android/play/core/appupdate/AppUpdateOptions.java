package com.google.android.play.core.appupdate;

/** https://developer.android.com/reference/com/google/android/play/core/appupdate/AppUpdateOptions */
public abstract class AppUpdateOptions {
    public static AppUpdateOptions defaultOptions(int appUpdateType) {
        throw new RuntimeException("stub");
    }
}
