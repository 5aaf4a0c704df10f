package com.google.android.play.core.appupdate;

import android.app.Activity;
import com.google.android.gms.tasks.Task;
import com.google.android.play.core.install.InstallStateUpdatedListener;

/** https://developer.android.com/reference/com/google/android/play/core/appupdate/AppUpdateManager */
public interface AppUpdateManager {
    Task<AppUpdateInfo> getAppUpdateInfo();

    Task<Void> completeUpdate();

    Task<Integer> startUpdateFlow(AppUpdateInfo appUpdateInfo, Activity activity, AppUpdateOptions options);

    void registerListener(InstallStateUpdatedListener listener);

    void unregisterListener(InstallStateUpdatedListener listener);
}
