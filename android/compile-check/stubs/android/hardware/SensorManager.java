package android.hardware;

/** https://developer.android.com/reference/android/hardware/SensorManager */
public abstract class SensorManager {
    public static final float GRAVITY_EARTH = 9.80665f;
    public static final int SENSOR_DELAY_UI = 2;

    public abstract Sensor getDefaultSensor(int type);

    public abstract boolean registerListener(SensorEventListener listener, Sensor sensor, int samplingPeriodUs);

    public abstract void unregisterListener(SensorEventListener listener);
}
