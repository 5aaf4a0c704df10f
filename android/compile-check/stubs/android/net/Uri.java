package android.net;

/** https://developer.android.com/reference/android/net/Uri */
public abstract class Uri {}
