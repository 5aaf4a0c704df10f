// The core's one JNI entry point (src/android.rs); everything else goes through JNA and the
// uniffi bindings.
package io.liveship.capacitor

import android.content.Context

internal object LiveshipNative {
    init {
        // JNI resolves `external` functions only in libraries loaded through System.loadLibrary
        // (JNA's own dlopen of the same file does not register them); loading twice is a no-op.
        System.loadLibrary("liveship")
    }

    @Volatile private var done = false

    /** Gives rustls-platform-verifier the JVM and the app's Context, which its Android backend
     *  needs before the first certificate check. Once per process; throws a RuntimeException
     *  when JNI fails (the caller logs it: the core then fails every HTTPS request). */
    @Synchronized
    fun initTls(context: Context) {
        if (done) return
        initTls0(context.applicationContext)
        done = true
    }

    @JvmStatic private external fun initTls0(context: Context)
}
