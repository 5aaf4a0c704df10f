package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/LifecycleObserver */
public interface LifecycleObserver {}
