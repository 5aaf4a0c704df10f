package android.hardware;

/** https://developer.android.com/reference/android/hardware/SensorEvent */
public class SensorEvent {
    public final float[] values = null;
}
