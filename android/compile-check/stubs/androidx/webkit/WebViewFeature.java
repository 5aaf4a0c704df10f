package androidx.webkit;

/** https://developer.android.com/reference/androidx/webkit/WebViewFeature */
public class WebViewFeature {
    public static final String DOCUMENT_START_SCRIPT = "DOCUMENT_START_SCRIPT:1";

    public static boolean isFeatureSupported(String feature) { throw new UnsupportedOperationException(); }
}
