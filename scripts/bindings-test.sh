#!/usr/bin/env bash
# Host tests of the uniffi bindings: builds the library, generates the Kotlin, Python and Swift
# bindings in library mode into a scratch folder (never committed), publishes two releases with
# the real CLI (`liveship keygen` / `pack`), serves them with `liveship serve` on loopback, and
# runs the same lifecycle scenario from Kotlin (kotlinc + JNA) and Python. Swift is generated
# and checked here; its test runs on macOS (docs/BUILD.md).
#
# Installs what it needs (npm `kotlin-compiler` into $LIVESHIP_TOOLS_DIR, apt `libjna-java`) or
# fails naming what is missing. Never skips a language silently.
#
# Usage: scripts/bindings-test.sh            (all languages)
#        LIVESHIP_BINDINGS=python scripts/bindings-test.sh   (a subset: kotlin,python,swift)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TOOLS=${LIVESHIP_TOOLS_DIR:-$HOME/.cache/liveship-tools}
LANGS=${LIVESHIP_BINDINGS:-kotlin,python,swift}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liveship-bindings.XXXXXX")
SERVE_PID=""

cleanup() {
    if [[ -n "$SERVE_PID" ]]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

die() { echo "bindings-test: FAILED: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }
wants() { [[ ",$LANGS," == *",$1,"* ]]; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"; }

need cargo "Rust toolchain"
need python3 "runs the Python test"

step "build library, CLI and uniffi-bindgen"
# Separate builds: built together, cargo would unify features (the CLI's tokio, bindgen's
# uniffi/cli) into the library and rebuild it each time it is built alone.
cargo build -p liveship
cargo build -p liveship-cli
cargo build -p uniffi-bindgen
LIB="$ROOT/target/debug/libliveship.so"
CLI="$ROOT/target/debug/liveship"
BINDGEN="$ROOT/target/debug/uniffi-bindgen"
[[ -f "$LIB" ]] || die "$LIB was not built (crate-type cdylib)"

step "generate bindings (library mode) into $WORK/gen"
for lang in kotlin python swift; do
    "$BINDGEN" generate --library "$LIB" --language "$lang" --config bindings/uniffi.toml \
        --no-format --out-dir "$WORK/gen/$lang"
done
KT="$WORK/gen/kotlin/io/liveship/liveship.kt"
PY="$WORK/gen/python/liveship.py"
[[ -s "$KT" ]] || die "Kotlin bindings missing ($KT)"
[[ -s "$PY" ]] || die "Python bindings missing ($PY)"

if wants swift; then
    step "check Swift bindings"
    for f in Liveship.swift LiveshipFFI.h LiveshipFFI.modulemap; do
        [[ -s "$WORK/gen/swift/$f" ]] || die "Swift bindings: $f was not generated"
    done
    grep -q "open class Updater" "$WORK/gen/swift/Liveship.swift" || die "Swift bindings lack class Updater"
    grep -q "^enum LiveshipError: Swift.Error" "$WORK/gen/swift/Liveship.swift" || die "Swift bindings lack LiveshipError"
    grep -q "public protocol EventListener" "$WORK/gen/swift/Liveship.swift" || die "Swift bindings lack EventListener"
    grep -q "uniffi_liveship_fn_constructor_updater_new" "$WORK/gen/swift/LiveshipFFI.h" || die "Swift header lacks the Updater constructor"
    echo "Swift bindings generated: $(ls "$WORK/gen/swift" | tr '\n' ' ')"
fi

step "publish releases with the CLI"
mkdir -p "$WORK/www" "$WORK/web-good" "$WORK/web-broken" "$WORK/builtin"
"$CLI" keygen --out "$WORK/keys" >/dev/null
echo '<!doctype html><title>built-in</title><p>built-in bundle</p>' > "$WORK/builtin/index.html"
cat > "$WORK/web-good/index.html" <<'HTML'
<!doctype html><title>v1</title><p>release 1</p>
<script>Capacitor.Plugins.Liveship.notifyAppReady();</script>
HTML
echo 'console.log("release 1");' > "$WORK/web-good/app.js"
# The broken release: its page never calls notifyAppReady, so its trial must be reverted.
cat > "$WORK/web-broken/index.html" <<'HTML'
<!doctype html><title>v2</title><p>release 2 throws before it can confirm</p>
<script>throw new Error("broken release");</script>
HTML
pack() { # web seq version repo
    "$CLI" pack --app-id com.example.liveship --channel production --sequence "$2" \
        --version "$3" --signing-key "$WORK/keys/signing.key" --bundle-key "$WORK/keys/bundle.key" \
        --out "$4" "$1" >/dev/null
}
# repo-a holds release 1; repo-b is the same repository after the broken release 2 was packed.
pack "$WORK/web-good" 1 1.0.0 "$WORK/www/repo-a"
cp -r "$WORK/www/repo-a" "$WORK/www/repo-b"
pack "$WORK/web-broken" 2 2.0.0-broken "$WORK/www/repo-b"

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
echo "serving $WORK/www at $BASE"

# What both test programs read.
export LIVESHIP_TEST_WORK="$WORK"
export LIVESHIP_TEST_KEYS_JSON="$WORK/keys/liveship.config.json"
export LIVESHIP_TEST_URL_A="$BASE/repo-a/"
export LIVESHIP_TEST_URL_B="$BASE/repo-b/"
export LIVESHIP_TEST_BUILTIN="$WORK/builtin"

if wants python; then
    step "Python lifecycle test"
    ln -sf "$LIB" "$WORK/gen/python/libliveship.so"
    PYTHONPATH="$WORK/gen/python" python3 bindings/python/test_lifecycle.py
fi

if wants kotlin; then
    step "Kotlin lifecycle test"
    need java "a JDK 11+ (apt-get install -y default-jdk-headless)"
    source scripts/kotlin-env.sh
    ensure_kotlin_toolchain
    "$KOTLINC" -nowarn "$KT" bindings/kotlin/LifecycleTest.kt -cp "$JNA" -include-runtime \
        -d "$WORK/lifecycle.jar" || die "kotlinc failed"
    java -Djna.library.path="$ROOT/target/debug" -cp "$WORK/lifecycle.jar:$JNA" LifecycleTestKt
fi

step "bindings tests passed (${LANGS})"
