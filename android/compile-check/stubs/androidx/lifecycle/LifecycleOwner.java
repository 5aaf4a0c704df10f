package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/LifecycleOwner */
public interface LifecycleOwner {
    Lifecycle getLifecycle();
}
