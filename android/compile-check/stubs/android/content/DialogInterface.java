package android.content;

/** https://developer.android.com/reference/android/content/DialogInterface */
public interface DialogInterface {
    interface OnClickListener {
        void onClick(DialogInterface dialog, int which);
    }
}
