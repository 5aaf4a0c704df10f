package androidx.work;

/** https://developer.android.com/reference/androidx/work/WorkRequest.Builder */
public abstract class WorkRequest {
    public abstract static class Builder<B extends Builder<?, ?>, W extends WorkRequest> {
        public final B setConstraints(Constraints constraints) { throw new UnsupportedOperationException(); }
        public final W build() { throw new UnsupportedOperationException(); }
    }
}
