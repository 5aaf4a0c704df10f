package androidx.work;

/** https://developer.android.com/reference/androidx/work/Constraints.Builder */
public final class Constraints {
    public static final class Builder {
        public Builder setRequiredNetworkType(NetworkType networkType) { throw new UnsupportedOperationException(); }
        public Builder setRequiresCharging(boolean requiresCharging) { throw new UnsupportedOperationException(); }
        public Builder setRequiresStorageNotLow(boolean requiresStorageNotLow) { throw new UnsupportedOperationException(); }
        public Constraints build() { throw new UnsupportedOperationException(); }
    }
}
