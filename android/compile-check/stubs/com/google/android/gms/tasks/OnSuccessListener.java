package com.google.android.gms.tasks;

/** https://developers.google.com/android/reference/com/google/android/gms/tasks/OnSuccessListener */
public interface OnSuccessListener<TResult> {
    void onSuccess(TResult result);
}
