package com.google.android.gms.tasks;

/** https://developers.google.com/android/reference/com/google/android/gms/tasks/Task */
public abstract class Task<TResult> {
    public abstract Task<TResult> addOnSuccessListener(OnSuccessListener<? super TResult> listener);

    public abstract Task<TResult> addOnFailureListener(OnFailureListener listener);
}
