package android.content;

/** https://developer.android.com/reference/android/content/SharedPreferences */
public interface SharedPreferences {
    String getString(String key, String defValue);
    Editor edit();

    interface Editor {
        Editor putString(String key, String value);
        Editor remove(String key);
        void apply();
        boolean commit();
    }
}
