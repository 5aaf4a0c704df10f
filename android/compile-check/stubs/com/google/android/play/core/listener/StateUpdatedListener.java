package com.google.android.play.core.listener;

/** https://developer.android.com/reference/com/google/android/play/core/listener/StateUpdatedListener */
public interface StateUpdatedListener<StateT> {
    void onStateUpdate(StateT state);
}
