#!/usr/bin/env bash
# Builds the Android libraries (arm64-v8a, armeabi-v7a, x86_64) with cargo-ndk into the plugin's
# jniLibs, and generates the Kotlin bindings into its sources. Cannot run without the NDK; see
# docs/BUILD.md for versions. Fails naming what is missing.
#
# 16 KB pages: Google Play requires native libraries aligned for 16 KB memory pages for apps
# targeting Android 15+. NDK r28+ links with `-z max-page-size=16384` by default; the flag is
# also passed explicitly so that the alignment does not depend on that default. JNA's own
# libjnidispatch.so is aligned from JNA 5.17.0 on (android/build.gradle pins it).
#
# Usage: ANDROID_NDK_HOME=/path/to/ndk scripts/build-android.sh [--debug]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
die() { echo "build-android: FAILED: $*" >&2; exit 1; }

PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
JNI="$ROOT/android/src/main/jniLibs"
JAVA_OUT="$ROOT/android/src/main/java"
API=${ANDROID_MIN_SDK:-24}
ABIS=(arm64-v8a armeabi-v7a x86_64)
TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)

NDK=${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}
[[ -n "$NDK" ]] || die "set ANDROID_NDK_HOME to an Android NDK (r28 or newer; see docs/BUILD.md)"
[[ -f "$NDK/source.properties" ]] || die "ANDROID_NDK_HOME=$NDK is not an NDK (no source.properties)"
ndk_major=$(sed -n 's/^Pkg.Revision *= *\([0-9]*\).*/\1/p' "$NDK/source.properties")
(( ndk_major >= 28 )) || die "NDK $ndk_major is too old; r28 or newer is required (16 KB page alignment)"
command -v cargo-ndk >/dev/null || die "cargo-ndk is missing: cargo install cargo-ndk"
command -v rustup >/dev/null || die "rustup is required to add the Android targets"
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

flags=()
[[ "$PROFILE" == release ]] && flags+=(--release)
args=()
for abi in "${ABIS[@]}"; do args+=(-t "$abi"); done
# cargo-ndk strips nothing in debug; release uses the crate's size-tuned profile.
# Appended to whatever RUSTFLAGS the caller set (cargo-ndk passes them through).
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"
cargo ndk "${args[@]}" --platform "$API" -o "$JNI" build -p liveship "${flags[@]}"
for abi in "${ABIS[@]}"; do
    [[ -f "$JNI/$abi/libliveship.so" ]] || die "$JNI/$abi/libliveship.so was not produced"
done
# Every LOAD segment must be aligned to 16 KB (2**14) or more.
READELF=$(ls "$NDK"/toolchains/llvm/prebuilt/*/bin/llvm-readelf 2>/dev/null | head -1)
if [[ -n "$READELF" ]]; then
    for abi in "${ABIS[@]}"; do
        for align in $("$READELF" -lW "$JNI/$abi/libliveship.so" | awk '$1 == "LOAD" { print $NF }'); do
            (( align >= 16384 )) || die "$JNI/$abi/libliveship.so has a LOAD segment aligned to $align (< 16 KB)"
        done
    done
fi

# Bindings come from a host build of the same sources (library mode reads the metadata in it).
cargo build -p liveship
cargo build -p uniffi-bindgen
rm -rf "$JAVA_OUT/io/liveship/liveship.kt"
"$ROOT/target/debug/uniffi-bindgen" generate --library "$ROOT/target/debug/libliveship.so" \
    --language kotlin --config android/uniffi.toml --out-dir "$JAVA_OUT"
[[ -s "$JAVA_OUT/io/liveship/liveship.kt" ]] || die "Kotlin bindings were not generated"
ls -l "$JNI"/*/libliveship.so
echo "Kotlin bindings: $JAVA_OUT/io/liveship/liveship.kt (generated; do not commit)"
