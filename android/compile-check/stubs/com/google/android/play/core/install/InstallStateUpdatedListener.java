package com.google.android.play.core.install;

import com.google.android.play.core.listener.StateUpdatedListener;

/** https://developer.android.com/reference/com/google/android/play/core/install/InstallStateUpdatedListener */
public interface InstallStateUpdatedListener extends StateUpdatedListener<InstallState> {}
