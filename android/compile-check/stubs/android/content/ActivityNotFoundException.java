package android.content;

/** https://developer.android.com/reference/android/content/ActivityNotFoundException */
public class ActivityNotFoundException extends RuntimeException {}
