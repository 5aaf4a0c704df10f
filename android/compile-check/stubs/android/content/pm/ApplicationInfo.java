package android.content.pm;

/** https://developer.android.com/reference/android/content/pm/ApplicationInfo */
public class ApplicationInfo {
    public static final int FLAG_DEBUGGABLE = 1 << 1;
    public int flags;
}
