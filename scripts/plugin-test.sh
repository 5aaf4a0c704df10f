#!/usr/bin/env bash
# Tests of the Capacitor plugin that run on this machine:
#  1. npm ci (or install), TypeScript strict build to ESM + the CommonJS and IIFE bundles;
#  2. the JS unit tests (node's test runner: readiness bound to the page, argument checks, web);
#  3. the host Kotlin test: the plugin's contract as the Android shell drives it (CapacitorPlugin
#     through the uniffi bindings generated from the host-built library, and that library),
#     compiled with kotlinc against JNA, against releases published by the real CLI and served on
#     loopback.
# The Android and iOS plugin classes need the Android SDK / Xcode and are not built here
# (scripts/android-compile-check.sh compiles the Android one against the real Capacitor API).
#
# Installs what it needs (npm `kotlin-compiler` into $LIVESHIP_TOOLS_DIR, apt `libjna-java`) or
# fails naming what is missing. Never skips a part silently.
#
# Usage: scripts/plugin-test.sh            (everything)
#        LIVESHIP_PLUGIN_PARTS=js scripts/plugin-test.sh   (a subset: js,kotlin)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TOOLS=${LIVESHIP_TOOLS_DIR:-$HOME/.cache/liveship-tools}
PARTS=${LIVESHIP_PLUGIN_PARTS:-js,kotlin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liveship-plugin.XXXXXX")
SERVE_PID=""

cleanup() {
    if [[ -n "$SERVE_PID" ]]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

die() { echo "plugin-test: FAILED: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }
wants() { [[ ",$PARTS," == *",$1,"* ]]; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"; }

if wants js; then
    need node "Node.js 20+ builds and tests the TypeScript"
    need npm "installs the TypeScript toolchain"
    step "npm dependencies"
    if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund || die "npm ci failed"; else npm install --no-audit --no-fund || die "npm install failed"; fi

    step "TypeScript (strict) to ESM, rollup to CommonJS and IIFE"
    npm run build || die "the build failed"
    for f in dist/esm/index.js dist/esm/index.d.ts dist/esm/definitions.d.ts dist/esm/web.js dist/plugin.cjs.js dist/plugin.js; do
        [[ -s "$f" ]] || die "$f was not built"
    done
    node -e '
        const cjs = require("./dist/plugin.cjs.js");
        if (typeof cjs.Liveship !== "object" || cjs.CapacitorUpdater !== cjs.Liveship) throw new Error("CJS bundle lacks Liveship / CapacitorUpdater");
        const pkg = require("./package.json");
        // The native getPluginVersion answers with the core crate'\''s version (src/capacitor).
        for (const f of ["plugin/src/version.ts", "Cargo.toml"]) {
            const src = require("fs").readFileSync(f, "utf8");
            if (!src.includes(`"${pkg.version}"`) && !src.includes(`'\''${pkg.version}'\''`)) throw new Error(f + ": plugin version does not match package.json " + pkg.version);
        }
        if (pkg.capacitor.android.src !== "android" || pkg.capacitor.ios.src !== "ios") throw new Error("package.json capacitor field");
    ' || die "the built package is not what package.json promises"
    step "Capgo compatibility: every method and event of @capgo/capacitor-updater's definitions (docs/CAPGO.md)"
    npx tsc -p plugin/test/capgo/tsconfig.json || die "LiveshipPlugin is not assignable to Capgo's CapacitorUpdaterPlugin"
    node -e '
        const fs = require("fs");
        const names = (f) => new Set([...fs.readFileSync(f, "utf8").matchAll(/addListener\(\s*(?:eventName: )?\x27([A-Za-z]+)\x27/g)].map((m) => m[1]));
        const capgo = names(require.resolve("@capgo/capacitor-updater/dist/esm/definitions.d.ts"));
        const checked = names("plugin/test/capgo/compat.ts");
        const unchecked = [...capgo].filter((n) => !checked.has(n));
        if (capgo.size === 0 || unchecked.length) throw new Error("events of Capgo not checked in plugin/test/capgo/compat.ts: " + unchecked.join(", "));
        console.log("capgo: " + capgo.size + " events and every method of CapacitorUpdaterPlugin " + require("@capgo/capacitor-updater/package.json").version + " type-check");
    ' || die "Capgo's events are not all checked"
    [[ -f example/tsconfig.json ]] || die "example/tsconfig.json missing"
    npx tsc -p example/tsconfig.json --noEmit || die "the example app does not type-check against the plugin"

    step "JS unit tests"
    npm test || die "JS unit tests failed"
fi

if wants kotlin; then
    need cargo "Rust toolchain builds libliveship.so and the CLI"
    need java "a JDK 11+ (apt-get install -y default-jdk-headless)"
    step "build library, CLI and uniffi-bindgen"
    # Separate invocations: built together, cargo unifies features and rebuilds the library
    # every time it is built alone afterwards (docs/BUILD.md).
    cargo build -p liveship -p liveship-cli
    cargo build -p uniffi-bindgen
    TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
    LIB="$TARGET/debug/libliveship.so"
    CLI="$TARGET/debug/liveship"
    BINDGEN="$TARGET/debug/uniffi-bindgen"
    [[ -f "$LIB" ]] || die "$LIB was not built (crate-type cdylib)"

    step "generate Kotlin bindings (library mode, as android/build.gradle does)"
    "$BINDGEN" generate --library "$LIB" --language kotlin --config bindings/uniffi.toml --no-format --out-dir "$WORK/gen"
    KT="$WORK/gen/io/liveship/liveship.kt"
    [[ -s "$KT" ]] || die "Kotlin bindings missing ($KT)"

    source scripts/kotlin-env.sh
    ensure_kotlin_toolchain

    step "publish a release with the CLI"
    mkdir -p "$WORK/www" "$WORK/web-good" "$WORK/builtin"
    "$CLI" keygen --out "$WORK/keys" >/dev/null
    echo '<!doctype html><title>built-in</title><p>built-in bundle</p>' > "$WORK/builtin/index.html"
    printf '<!doctype html><title>1.0.0</title><p>release 1</p>\n' > "$WORK/web-good/index.html"
    pack() { # web seq version repo
        "$CLI" pack --app-id com.example.liveship --channel production --sequence "$2" \
            --version "$3" --signing-key "$WORK/keys/signing.key" --bundle-key "$WORK/keys/bundle.key" \
            --out "$4" "$1" >/dev/null
    }
    pack "$WORK/web-good" 1 1.0.0 "$WORK/www/repo-a"

    step "serve on loopback"
    "$CLI" serve "$WORK/www" --addr 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVE_PID=$!
    BASE=""
    for _ in $(seq 1 100); do
        BASE=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$WORK/serve.out" | head -n 1)
        [[ -n "$BASE" ]] && break
        kill -0 "$SERVE_PID" 2>/dev/null || die "liveship serve exited: $(cat "$WORK/serve.err")"
        sleep 0.1
    done
    [[ -n "$BASE" ]] || die "liveship serve printed no 'listening on' line"

    export LIVESHIP_TEST_WORK="$WORK"
    export LIVESHIP_TEST_KEYS_JSON="$WORK/keys/liveship.config.json"
    export LIVESHIP_TEST_URL_A="$BASE/repo-a/"
    export LIVESHIP_TEST_BUILTIN="$WORK/builtin"

    step "compile and run the host Kotlin test"
    "$KOTLINC" -nowarn "$KT" android/src/hostTest/kotlin/*.kt -cp "$JNA" -include-runtime \
        -d "$WORK/plugin-core-test.jar" || die "kotlinc failed"
    java -Djna.library.path="$TARGET/debug" -cp "$WORK/plugin-core-test.jar:$JNA" PluginCoreHostTestKt \
        || die "host Kotlin test failed"
fi

step "plugin tests passed (${PARTS})"
