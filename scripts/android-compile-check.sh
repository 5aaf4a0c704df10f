#!/usr/bin/env bash
# Compiles every Kotlin file under android/src/main with kotlinc against the real Capacitor API:
#   1. `npm pack @capacitor/android@<range>` (the range of @capacitor/core in package.json's
#      devDependencies, resolved to one version) into a cache folder (never into the repository);
#   2. javac compiles Capacitor's real Java sources that the plugin reaches (Plugin, PluginCall,
#      JSObject, CapConfig, plugin/WebView, util/InternalUtils, ... and what they pull in) into
#      capacitor.jar, against android/compile-check/stubs (android/androidx classes from their
#      documented signatures) and
#      three signature stubs generated from the real Bridge.java, FileUtils.java, MessageHandler.java
#      (android/compile-check/README.md lists every stub and why);
#   3. the uniffi Kotlin is generated from the host-built library, as scripts/bindings-test.sh does;
#   4. kotlinc compiles android/src/main/**/*.kt + the generated Kotlin against capacitor.jar, the
#      stubs, JNA and org.json (Debian's libandroid-json-java: Android's own org.json).
# A wrong method name or argument type in the plugin is a compile error, and this script fails.
#
# The stubs jar and the Capacitor jar are cached under $LIVESHIP_ANDROID_CHECK_CACHE (default
# target/android-compile-check), keyed by the Capacitor version and a hash of the stub set.
# Installs what it needs (npm kotlin-compiler, apt libjna-java and libandroid-json-java) or fails
# naming what is missing. Never skips.
#
# Usage: scripts/android-compile-check.sh
#        LIVESHIP_ANDROID_SOURCES=/tmp/copy-of-android-src-main scripts/android-compile-check.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TOOLS=${LIVESHIP_TOOLS_DIR:-$HOME/.cache/liveship-tools}
CHECK="$ROOT/android/compile-check"
CACHE=${LIVESHIP_ANDROID_CHECK_CACHE:-$ROOT/target/android-compile-check}
# LIVESHIP_ANDROID_SOURCES: another copy of android/src/main to check (a scratch copy with a call
# broken on purpose, to see the check fail).
SOURCES_DIR=${LIVESHIP_ANDROID_SOURCES:-$ROOT/android/src/main}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liveship-android-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

die() { echo "android-compile-check: FAILED: $*" >&2; exit 1; }
step() { echo "== [${SECONDS}s] $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"; }

need cargo "builds the library the Kotlin bindings are generated from"
need npm "fetches @capacitor/android"
need node "reads package.json"
need javac "compiles Capacitor's Java sources (a JDK 17+)"
need jar "packs the compiled stubs and Capacitor classes (a JDK)"
need python3 "runs android/compile-check/signature-stub.py"
need sha256sum "keys the cache"

# shellcheck source=scripts/kotlin-env.sh
. "$ROOT/scripts/kotlin-env.sh"
ensure_kotlin_toolchain
ORG_JSON=/usr/share/java/com.android.json.jar
if [[ ! -f "$ORG_JSON" ]]; then
    need apt-get "installs org.json (Debian package libandroid-json-java)"
    echo "installing org.json: apt-get install -y libandroid-json-java"
    apt-get install -y libandroid-json-java >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y libandroid-json-java >/dev/null; } \
        || die "apt-get install libandroid-json-java failed"
fi
[[ -f "$ORG_JSON" ]] || die "org.json missing at $ORG_JSON"

step "resolve @capacitor/android"
source "$ROOT/scripts/capacitor-android.sh"
capacitor_android_version

# Keyed by the stub folder and this script (it names the classes compiled and the generated members).
STUB_KEY=$( (find "$CHECK" -type f | LC_ALL=C sort | xargs sha256sum; sha256sum "$0") | sha256sum | cut -c1-16)
STUBS_JAR="$CACHE/stubs-$STUB_KEY.jar"
CAP_JAR="$CACHE/capacitor-$VERSION-$STUB_KEY.jar"
mkdir -p "$CACHE"

if [[ ! -f "$STUBS_JAR" ]]; then
    step "compile the android/androidx stubs"
    mkdir -p "$WORK/stubs"
    javac -nowarn -d "$WORK/stubs" $(find "$CHECK/stubs" -name '*.java') || die "the stub set does not compile"
    jar cf "$STUBS_JAR.tmp" -C "$WORK/stubs" . && mv "$STUBS_JAR.tmp" "$STUBS_JAR"
fi

if [[ ! -f "$CAP_JAR" ]]; then
    step "compile Capacitor $VERSION's Java sources"
    capacitor_android_unpack
    JAVA="$SRC/package/capacitor/src/main/java"
    CAP="$JAVA/com/getcapacitor"
    [[ -f "$CAP/Plugin.java" ]] || die "$CAP/Plugin.java missing: the package layout changed"
    # Signature stubs of the three classes whose bodies need far more of the SDK than the plugin
    # uses; the members listed are every one Capacitor's compiled sources and the plugin call.
    GEN="$WORK/gen/com/getcapacitor"
    mkdir -p "$GEN"
    python3 "$CHECK/signature-stub.py" "$CAP/Bridge.java" "$GEN/Bridge.java" \
        CAPACITOR_HTTPS_SCHEME DEFAULT_ANDROID_WEBVIEW_VERSION DEFAULT_HUAWEI_WEBVIEW_VERSION \
        MINIMUM_ANDROID_WEBVIEW_VERSION MINIMUM_HUAWEI_WEBVIEW_VERSION \
        getContext getActivity getWebView getConfig execute saveCall getSavedCall releaseCall \
        getPluginCallForLastActivity setPluginCallForLastActivity getPermissionCall savePermissionCall \
        validatePermissions getPermissionStates registerForActivityResult startActivityForPluginWithResult \
        getServerBasePath setServerBasePath setServerAssetPath addWebViewListener removeWebViewListener \
        || die "Bridge.java signature stub"
    python3 "$CHECK/signature-stub.py" "$CAP/FileUtils.java" "$GEN/FileUtils.java" \
        readFileFromAssets readFileFromDisk || die "FileUtils.java signature stub"
    python3 "$CHECK/signature-stub.py" "$CAP/MessageHandler.java" "$GEN/MessageHandler.java" \
        sendResponseMessage || die "MessageHandler.java signature stub"
    # The generated stubs come first on the source path, so they replace the real three; every
    # other class is compiled from the real sources, the ones named here and what they reference.
    mkdir -p "$WORK/capacitor"
    javac -nowarn -d "$WORK/capacitor" -sourcepath "$WORK/gen:$JAVA" -implicit:class \
        -cp "$STUBS_JAR:$ORG_JSON" \
        "$CAP/Plugin.java" "$CAP/PluginCall.java" "$CAP/PluginMethod.java" "$CAP/annotation/CapacitorPlugin.java" \
        "$CAP/JSObject.java" "$CAP/JSArray.java" "$CAP/CapConfig.java" "$CAP/PluginConfig.java" \
        "$CAP/plugin/WebView.java" "$CAP/WebViewListener.java" "$CAP/util/InternalUtils.java" \
        || die "Capacitor $VERSION's sources do not compile against the stubs (a stub is missing a member; see android/compile-check/README.md)"
    jar cf "$CAP_JAR.tmp" -C "$WORK/capacitor" . && mv "$CAP_JAR.tmp" "$CAP_JAR"
fi

step "build the library and uniffi-bindgen, generate the Kotlin bindings"
cargo build -q -p liveship || die "cargo build -p liveship"
cargo build -q -p uniffi-bindgen || die "cargo build -p uniffi-bindgen"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LIB="$TARGET/debug/libliveship.so"
[[ -f "$LIB" ]] || die "$LIB was not built (crate-type cdylib)"
"$TARGET/debug/uniffi-bindgen" generate --library "$LIB" --language kotlin --config bindings/uniffi.toml \
    --no-format --out-dir "$WORK/gen-kotlin" || die "uniffi-bindgen generate (kotlin)"
KT="$WORK/gen-kotlin/io/liveship/liveship.kt"
[[ -s "$KT" ]] || die "Kotlin bindings missing ($KT)"

step "kotlinc $SOURCES_DIR against Capacitor $VERSION"
# The generated bindings file a build may have left in android/src/main is replaced by the fresh one.
mapfile -t SOURCES < <(find "$SOURCES_DIR" -name '*.kt' ! -path "$SOURCES_DIR/java/io/liveship/liveship.kt" | LC_ALL=C sort)
((${#SOURCES[@]})) || die "no .kt files under $SOURCES_DIR"
mapfile -t KT_STUBS < <(find "$CHECK/stubs" -name '*.kt' | LC_ALL=C sort)
# The generated bindings (the largest input) compile once per content into a cached jar.
BINDINGS_JAR="$CACHE/bindings-$(sha256sum "$KT" | cut -c1-16).jar"
if [[ ! -f "$BINDINGS_JAR" ]]; then
    "$KOTLINC" -nowarn -jvm-target 17 -d "$BINDINGS_JAR.tmp.jar" -cp "$JNA" "$KT" \
        || die "the generated Kotlin bindings do not compile"
    mv "$BINDINGS_JAR.tmp.jar" "$BINDINGS_JAR"
fi
"$KOTLINC" -nowarn -jvm-target 17 -d "$WORK/classes" \
    -cp "$BINDINGS_JAR:$CAP_JAR:$STUBS_JAR:$JNA:$ORG_JSON" \
    "${SOURCES[@]}" "${KT_STUBS[@]}" \
    || die "$SOURCES_DIR does not compile against Capacitor $VERSION (errors above)"
echo "android-compile-check: [${SECONDS}s] ${#SOURCES[@]} Kotlin files compile against @capacitor/android $VERSION"
