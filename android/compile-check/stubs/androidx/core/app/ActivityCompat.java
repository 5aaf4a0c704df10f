package androidx.core.app;

import android.app.Activity;
import androidx.core.content.ContextCompat;

/** https://developer.android.com/reference/androidx/core/app/ActivityCompat (extends ContextCompat). */
public class ActivityCompat extends ContextCompat {
    public static void requestPermissions(Activity activity, String[] permissions, int requestCode) {
        throw new UnsupportedOperationException();
    }
}
