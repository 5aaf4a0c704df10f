package android.content.pm;

/** https://developer.android.com/reference/android/content/pm/PackageManager */
public abstract class PackageManager {
    public static final int PERMISSION_GRANTED = 0;
    public static final int GET_PERMISSIONS = 0x00001000;

    public static class NameNotFoundException extends Exception {}

    /** API 33+. */
    public static final class PackageInfoFlags {
        public static PackageInfoFlags of(long value) { throw new UnsupportedOperationException(); }
    }

    public abstract PackageInfo getPackageInfo(String packageName, int flags) throws NameNotFoundException;
    public PackageInfo getPackageInfo(String packageName, PackageInfoFlags flags) throws NameNotFoundException {
        throw new UnsupportedOperationException();
    }
}
