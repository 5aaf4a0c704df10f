package androidx.webkit;

import android.webkit.WebView;
import java.util.Set;

/** https://developer.android.com/reference/androidx/webkit/WebViewCompat */
public class WebViewCompat {
    public static ScriptHandler addDocumentStartJavaScript(WebView webview, String script, Set<String> allowedOriginRules) {
        throw new UnsupportedOperationException();
    }
}
