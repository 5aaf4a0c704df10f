package android.os;

/** https://developer.android.com/reference/android/os/Bundle (putString is inherited from BaseBundle). */
public final class Bundle {
    public void putString(String key, String value) { throw new UnsupportedOperationException(); }
}
