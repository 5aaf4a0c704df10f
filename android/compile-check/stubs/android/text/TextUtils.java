package android.text;

/** https://developer.android.com/reference/android/text/TextUtils */
public class TextUtils {
    public static String join(CharSequence delimiter, Object[] tokens) { throw new UnsupportedOperationException(); }
}
