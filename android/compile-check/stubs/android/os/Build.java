package android.os;

/** https://developer.android.com/reference/android/os/Build.VERSION and Build.VERSION_CODES */
public class Build {
    public static class VERSION {
        public static final int SDK_INT = 0;
    }

    public static class VERSION_CODES {
        public static final int TIRAMISU = 33;
    }
}
