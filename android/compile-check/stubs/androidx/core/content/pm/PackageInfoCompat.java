package androidx.core.content.pm;

import android.content.pm.PackageInfo;

/** https://developer.android.com/reference/androidx/core/content/pm/PackageInfoCompat */
public final class PackageInfoCompat {
    public static long getLongVersionCode(PackageInfo info) { throw new UnsupportedOperationException(); }
}
