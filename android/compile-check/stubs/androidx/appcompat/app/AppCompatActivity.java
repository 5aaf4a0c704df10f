package androidx.appcompat.app;

import android.app.Activity;

/** https://developer.android.com/reference/androidx/appcompat/app/AppCompatActivity */
public abstract class AppCompatActivity extends Activity {}
