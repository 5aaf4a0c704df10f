package android.content;

/** https://developer.android.com/reference/android/content/SharedPreferences */
public interface SharedPreferences {
    Editor edit();

    interface Editor {
        Editor putString(String key, String value);
        Editor remove(String key);
        void apply();
    }
}
