package com.google.android.play.core.install;

/** https://developer.android.com/reference/com/google/android/play/core/install/InstallState */
public abstract class InstallState {
    public abstract int installStatus();

    public abstract long bytesDownloaded();

    public abstract long totalBytesToDownload();
}
