package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/DefaultLifecycleObserver (every method has a default). */
public interface DefaultLifecycleObserver extends LifecycleObserver {
    default void onStart(LifecycleOwner owner) {}
    default void onStop(LifecycleOwner owner) {}
}
