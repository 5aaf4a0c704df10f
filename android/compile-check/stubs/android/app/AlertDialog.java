package android.app;

import android.content.Context;
import android.content.DialogInterface;

/** https://developer.android.com/reference/android/app/AlertDialog */
public class AlertDialog {
    public static class Builder {
        public Builder(Context context) {
            throw new RuntimeException("stub");
        }

        public Builder setTitle(CharSequence title) {
            throw new RuntimeException("stub");
        }

        public Builder setItems(CharSequence[] items, DialogInterface.OnClickListener listener) {
            throw new RuntimeException("stub");
        }

        public AlertDialog show() {
            throw new RuntimeException("stub");
        }
    }
}
