package android.webkit;

/** https://developer.android.com/reference/android/webkit/WebView */
public class WebView {
    public void clearHistory() { throw new UnsupportedOperationException(); }
}
