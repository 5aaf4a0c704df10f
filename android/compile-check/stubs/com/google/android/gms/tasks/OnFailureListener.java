package com.google.android.gms.tasks;

import androidx.annotation.NonNull;

/** https://developers.google.com/android/reference/com/google/android/gms/tasks/OnFailureListener */
public interface OnFailureListener {
    void onFailure(@NonNull Exception e);
}
