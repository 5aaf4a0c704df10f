package com.google.android.play.core.appupdate;

/** https://developer.android.com/reference/com/google/android/play/core/appupdate/AppUpdateInfo */
public abstract class AppUpdateInfo {
    public abstract int updateAvailability();

    public abstract int updatePriority();

    public abstract boolean isUpdateTypeAllowed(int updateType);

    public abstract int installStatus();

    public abstract int availableVersionCode();

    public abstract Integer clientVersionStalenessDays();
}
