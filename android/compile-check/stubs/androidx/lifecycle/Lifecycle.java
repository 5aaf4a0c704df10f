package androidx.lifecycle;

/** https://developer.android.com/reference/androidx/lifecycle/Lifecycle */
public abstract class Lifecycle {
    public abstract void addObserver(LifecycleObserver observer);
    public abstract void removeObserver(LifecycleObserver observer);
    public abstract State getCurrentState();

    /** https://developer.android.com/reference/androidx/lifecycle/Lifecycle.State */
    public enum State {
        DESTROYED, INITIALIZED, CREATED, STARTED, RESUMED;

        public boolean isAtLeast(State state) { return compareTo(state) >= 0; }
    }
}
