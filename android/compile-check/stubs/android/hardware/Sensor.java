package android.hardware;

/** https://developer.android.com/reference/android/hardware/Sensor */
public final class Sensor {
    public static final int TYPE_ACCELEROMETER = 1;
}
