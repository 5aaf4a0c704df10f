package android.app;

import android.content.Context;

/** https://developer.android.com/reference/android/app/Activity (a Context through ContextThemeWrapper). */
public abstract class Activity extends Context {}
