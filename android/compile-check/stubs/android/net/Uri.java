package android.net;

/** https://developer.android.com/reference/android/net/Uri */
public abstract class Uri {
    public static Uri parse(String uriString) {
        throw new RuntimeException("stub");
    }
}
