package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/Lifecycle */
public abstract class Lifecycle {
    public abstract void addObserver(LifecycleObserver observer);
    public abstract void removeObserver(LifecycleObserver observer);
}
