package androidx.core.content;

import android.content.Context;

/** https://developer.android.com/reference/androidx/core/content/ContextCompat */
public class ContextCompat {
    public static int checkSelfPermission(Context context, String permission) { throw new UnsupportedOperationException(); }
}
