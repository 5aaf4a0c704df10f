package android.content.pm;

/** https://developer.android.com/reference/android/content/pm/PackageInfo */
public class PackageInfo {
    public String versionName;
    public String[] requestedPermissions;
}
