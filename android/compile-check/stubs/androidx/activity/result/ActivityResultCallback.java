package androidx.activity.result;

/** https://developer.android.com/reference/androidx/activity/result/ActivityResultCallback */
public interface ActivityResultCallback<O> {
    void onActivityResult(O result);
}
