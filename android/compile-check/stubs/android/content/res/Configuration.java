package android.content.res;

/** https://developer.android.com/reference/android/content/res/Configuration */
public final class Configuration {}
