package android.os;

/** https://developer.android.com/reference/android/os/Looper */
public final class Looper {
    public static Looper getMainLooper() { throw new UnsupportedOperationException(); }
}
