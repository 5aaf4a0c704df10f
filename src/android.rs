//! The Android-only JNI entry points (compiled for `target_os = "android"` only).
//!
//! `rustls-platform-verifier` checks certificates through Android's own trust manager, which it
//! reaches over JNI; its `android` module must be given the JVM and the app's `Context` once,
//! before the first HTTPS request, or the first verification panics ("Expect
//! rustls-platform-verifier to be initialized"). The plugin calls
//! `io.liveship.capacitor.LiveshipNative.initTls(context)` when it opens the core (docs/PLUGIN.md).

use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JObject};
use jni::EnvUnowned;

/// `LiveshipNative.initTls0(Context)` (static): hands the verifier the JVM and the app's Context (see
/// `rustls_platform_verifier::android::init_with_env`; idempotent: later calls keep the first
/// initialization). A JNI failure becomes a Java `RuntimeException` in the caller, never a panic.
#[jni::jni_mangle("io.liveship.capacitor.LiveshipNative", "initTls0")]
pub fn init_tls<'caller>(
    mut env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    context: JObject<'caller>,
) {
    env.with_env(|env| rustls_platform_verifier::android::init_with_env(env, context))
        .resolve::<ThrowRuntimeExAndDefault>();
}
