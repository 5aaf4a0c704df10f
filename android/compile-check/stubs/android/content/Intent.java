package android.content;

import android.net.Uri;

/** https://developer.android.com/reference/android/content/Intent */
public class Intent {
    public static final String ACTION_VIEW = "android.intent.action.VIEW";
    public static final int FLAG_ACTIVITY_NEW_TASK = 0x10000000;

    public Intent(String action, Uri uri) {
        throw new RuntimeException("stub");
    }

    public Intent addFlags(int flags) {
        throw new RuntimeException("stub");
    }
}
