package com.google.android.play.core.install.model;

/** https://developer.android.com/reference/com/google/android/play/core/install/model/AppUpdateType */
public @interface AppUpdateType {
    int FLEXIBLE = 0;
    int IMMEDIATE = 1;
}
