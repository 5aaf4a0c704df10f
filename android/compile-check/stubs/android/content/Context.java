package android.content;

import android.content.pm.ApplicationInfo;
import android.content.pm.PackageManager;
import android.content.res.AssetManager;
import java.io.File;

/** https://developer.android.com/reference/android/content/Context */
public abstract class Context {
    public static final int MODE_PRIVATE = 0x0000;
    public static final String SENSOR_SERVICE = "sensor";

    public abstract Context getApplicationContext();
    public abstract File getFilesDir();
    public abstract File getNoBackupFilesDir();
    public abstract PackageManager getPackageManager();
    public abstract String getPackageName();
    public abstract SharedPreferences getSharedPreferences(String name, int mode);
    public abstract AssetManager getAssets();
    public abstract ApplicationInfo getApplicationInfo();
    public abstract void startActivity(Intent intent);
    public abstract Object getSystemService(String name);
}
