package androidx.activity.result;

/** https://developer.android.com/reference/androidx/activity/result/ActivityResultLauncher */
public abstract class ActivityResultLauncher<I> {
    public void launch(I input) { throw new UnsupportedOperationException(); }
}
