#!/usr/bin/env bash
# Builds the iOS static libraries (device aarch64-apple-ios, simulator aarch64-apple-ios-sim),
# wraps them with the generated C header into ios/Liveship.xcframework, and generates the Swift
# bindings into the plugin's sources. macOS with Xcode only; see docs/BUILD.md.
#
# Usage: scripts/build-ios.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
die() { echo "build-ios: FAILED: $*" >&2; exit 1; }

[[ "$(uname -s)" == Darwin ]] || die "iOS builds need macOS with Xcode 15 or newer"
command -v xcodebuild >/dev/null || die "xcodebuild is missing: install Xcode and run xcode-select -s"
xcrun --sdk iphoneos --show-sdk-path >/dev/null 2>&1 || die "the iPhoneOS SDK is missing (install Xcode, not only the command line tools)"
command -v rustup >/dev/null || die "rustup is required to add the iOS targets"
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim)
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-15.0}
for t in "${TARGETS[@]}"; do
    cargo build -p liveship --release --target "$t"
    [[ -f "target/$t/release/libliveship.a" ]] || die "target/$t/release/libliveship.a was not produced"
done

# Swift bindings and the C header from a host build of the same sources (library mode).
cargo build -p liveship
cargo build -p uniffi-bindgen
GEN="$ROOT/target/uniffi-swift"
rm -rf "$GEN" && mkdir -p "$GEN/headers"
"$ROOT/target/debug/uniffi-bindgen" generate --library "$ROOT/target/debug/libliveship.dylib" \
    --language swift --config bindings/uniffi.toml --out-dir "$GEN"
cp "$GEN/LiveshipFFI.h" "$GEN/headers/"
# The xcframework's module map must be called module.modulemap.
cp "$GEN/LiveshipFFI.modulemap" "$GEN/headers/module.modulemap"

XCF="$ROOT/ios/Liveship.xcframework"
rm -rf "$XCF"
xcodebuild -create-xcframework \
    -library "target/aarch64-apple-ios/release/libliveship.a" -headers "$GEN/headers" \
    -library "target/aarch64-apple-ios-sim/release/libliveship.a" -headers "$GEN/headers" \
    -output "$XCF"

SWIFT_OUT="$ROOT/ios/Sources/LiveshipPlugin/Generated"
mkdir -p "$SWIFT_OUT"
cp "$GEN/Liveship.swift" "$SWIFT_OUT/"
ls -l target/aarch64-apple-ios/release/libliveship.a target/aarch64-apple-ios-sim/release/libliveship.a
echo "xcframework: $XCF"
echo "Swift bindings: $SWIFT_OUT/Liveship.swift (generated; do not commit)"
