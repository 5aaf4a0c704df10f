package android.util;

/** https://developer.android.com/reference/android/util/Log */
public final class Log {
    public static int v(String tag, String msg) { throw new UnsupportedOperationException(); }
    public static int d(String tag, String msg) { throw new UnsupportedOperationException(); }
    public static int i(String tag, String msg) { throw new UnsupportedOperationException(); }
    public static int w(String tag, String msg) { throw new UnsupportedOperationException(); }
    public static int e(String tag, String msg) { throw new UnsupportedOperationException(); }
    public static int e(String tag, String msg, Throwable tr) { throw new UnsupportedOperationException(); }
}
