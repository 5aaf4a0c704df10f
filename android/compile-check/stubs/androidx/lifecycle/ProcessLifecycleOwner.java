package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/ProcessLifecycleOwner */
public final class ProcessLifecycleOwner implements LifecycleOwner {
    public static LifecycleOwner get() { throw new UnsupportedOperationException(); }
    @Override public Lifecycle getLifecycle() { throw new UnsupportedOperationException(); }
}
