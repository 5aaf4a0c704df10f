package android.webkit;

/** https://developer.android.com/reference/android/webkit/RenderProcessGoneDetail */
public abstract class RenderProcessGoneDetail {}
