package android.os;

/** https://developer.android.com/reference/android/os/Build.VERSION and Build.VERSION_CODES */
public class Build {
    public static final String FINGERPRINT = "";
    public static final String PRODUCT = "";

    public static class VERSION {
        public static final int SDK_INT = 0;
        public static final String RELEASE = "";
    }

    public static class VERSION_CODES {
        public static final int TIRAMISU = 33;
    }
}
