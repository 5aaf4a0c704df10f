package androidx.webkit;

/** https://developer.android.com/reference/androidx/webkit/ScriptHandler */
public interface ScriptHandler {
    void remove();
}
